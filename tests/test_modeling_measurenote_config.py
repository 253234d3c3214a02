"""MeasureNoteConfig: presets, embedding widths, values and types refused by name, round trips,
resized embeddings, and the parameter counts of the presets."""

from __future__ import annotations

import pytest
import torch
from helpers import no_hub_token, record_hub_commits, unreachable_hub
from test_modeling_measurenote import measurenote_tester  # noqa: F401 (the tester fixture)

from modeling_irish.configuration_measurenote import (
    MEASURENOTE_FEATURE_NAMES,
    REFERENCE_VOCAB_SIZES,
    MeasureNoteConfig,
)
from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM, MeasureNoteModel

# ---------------------------------------------------------------- config


def test_config_embedding_widths_follow_reference_ratios():
    config = MeasureNoteConfig.from_preset("base")
    assert config.total_embedding_size == 2624
    assert config.embedding_sizes["main"] == 384 and config.embedding_sizes["is_triple"] == 64
    assert config.vocab_sizes == REFERENCE_VOCAB_SIZES
    small = MeasureNoteConfig.from_preset("small", note_dropout=0.0)
    assert small.total_embedding_size == 656 and small.note_dropout == 0.0


def test_config_explicit_embedding_sizes_win(tester):
    sizes = dict.fromkeys(MEASURENOTE_FEATURE_NAMES, 3)
    config = MeasureNoteConfig(vocab_sizes=tester.vocab_sizes, embedding_sizes=sizes)
    assert config.total_embedding_size == 60


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"note_hidden_size": 30, "measure_num_heads": 8}, "divisible"),
        ({"vocab_sizes": {"main": 5}}, "vocab_sizes has no entry"),
        ({"embedding_size": 4}, "width 0"),
        ({"final_num_layers": 0}, r"^final_num_layers must be >= 1, got 0$"),
        ({"measure_hidden_size": -2}, r"^measure_hidden_size must be >= 1, got -2$"),
        ({"note_dropout": 1.0}, r"^note_dropout must be in \[0, 1\), got 1.0$"),
        ({"feature_names": ["main", "main", "dur"]}, "duplicates"),
        ({"feature_names": ["main"], "embedding_sizes": {"main": 2}}, "'dur'"),
        ({"dur_loss_weight": -1.0}, "dur_loss_weight"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MeasureNoteConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"measure_num_heads": 4.0}, "measure_num_heads must be a whole number, got 4.0"),
        ({"note_hidden_size": None}, "note_hidden_size must be a whole number, got None"),
        ({"note_num_layers": True}, "note_num_layers must be a whole number, got True"),
        ({"embedding_size": 128.0}, "embedding_size must be a whole number"),
        ({"final_dropout": "0.1"}, "final_dropout must be a real number, got '0.1'"),
        ({"feature_names": "main"}, "feature_names must be a list, got 'main'"),
        ({"vocab_sizes": {"main": 88.0, "dur": 5}}, r"vocab_sizes\['main'\] must be a whole"),
        ({"embedding_sizes": {"main": "4", "dur": 4}}, r"embedding_sizes\['main'\] must be"),
        ({"use_cache": "maybe"}, "use_cache must be true or false"),
    ],
)
def test_config_refuses_wrong_types_by_name(kwargs, message):
    with pytest.raises(TypeError, match=message):
        MeasureNoteConfig(**kwargs)


def test_save_pretrained_with_push_to_hub_saves_before_it_uploads(tester, tmp_path, monkeypatch):
    """transformers' save_pretrained(push_to_hub=True) creates the Hub repository before it
    writes anything: with no network the folder was left empty."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # every Hub request fails
    lm, backbone = tester.model(), MeasureNoteModel(tester.get_config())
    for model, folder in ((lm, tmp_path / "lm"), (backbone, tmp_path / "backbone")):
        with pytest.raises(OSError, match="HF_HUB_OFFLINE is set"):
            model.save_pretrained(folder, push_to_hub=True, commit_message="m")
        assert {"config.json", "model.safetensors"} <= {p.name for p in folder.iterdir()}
    commits = record_hub_commits(monkeypatch)
    lm.save_pretrained(tmp_path / "hub", push_to_hub=True, commit_message="m", token="t")
    assert {"README.md", "config.json", "model.safetensors"} <= set(commits[0]["files"])
    assert commits[0]["repo_id"] == "hub" and commits[0]["token"] == "t"
    assert commits[0]["commit_message"] == "m"
    lm.save_pretrained(tmp_path / "hub", True, None, True, repo_id="me/lm")  # by position
    lm.save_pretrained(tmp_path / "hub", is_main_process=False, push_to_hub=True)
    assert [c["repo_id"] for c in commits] == ["hub", "me/lm"]
    assert MeasureNoteForCausalLM.from_pretrained(tmp_path / "hub").config.to_dict()


def test_save_pretrained_with_push_to_hub_refuses_a_folder_name_that_is_no_hub_id(tester, tmp_path):
    """Without a repo_id the upload goes to the folder's name: one that is no Hub id saved the
    model, then failed the upload blamed on offline mode or the token, never on the name."""
    folder = tmp_path / "runs" / "-draft"
    with pytest.raises(ValueError) as refused:
        tester.model().save_pretrained(folder, push_to_hub=True)
    assert str(refused.value).startswith(
        "save_pretrained(push_to_hub=True): no repo_id given, and the folder's name '-draft' "
        f"(of {str(folder)!r}) is no Hub repository id: its name '-draft' starts with '-'; "
    )
    assert not folder.exists()  # refused before anything is saved
    with pytest.raises(ValueError, match="repo_id 'me/my model': its name 'my model' holds"):
        tester.model().save_pretrained(tmp_path / "m", push_to_hub=True, repo_id="me/my model")
    assert not (tmp_path / "m").exists()


def test_save_pretrained_with_push_to_hub_fails_in_one_line_as_train_push_to_hub_does(
    tester, tmp_path, monkeypatch
):
    """Offline, without a token or a network, save_pretrained(push_to_hub=True) raised the Hub
    client's own errors (OfflineModeIsEnabled, the HTTP client's ConnectError, a 401 naming
    no token), where train.py --push_to_hub says in one line what is wrong and what to do."""
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled

    from modeling_irish.measurenote_checks import HubUploadError

    lm = tester.model()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # every Hub request fails
    with pytest.raises(HubUploadError) as failed:
        lm.save_pretrained(tmp_path / "m", push_to_hub=True, repo_id="me/m")
    assert str(failed.value) == (
        "save_pretrained(push_to_hub=True): the upload to me/m failed (HF_HUB_OFFLINE is set, "
        f"so nothing can be uploaded); the model is saved in {tmp_path / 'm'}: upload it later "
        "with model.push_to_hub or `hf upload`"
    )
    assert isinstance(failed.value.__cause__, OfflineModeIsEnabled)

    unreachable_hub(monkeypatch)
    monkeypatch.setenv("HF_TOKEN", "hf_t")
    with pytest.raises(HubUploadError, match=r"failed \(ConnectionError: \[Errno 111\] Connection "
                       r"refused\); the model is saved in") as failed:  # fmt: skip
        lm.save_pretrained(tmp_path / "m", push_to_hub=True, repo_id="me/m")
    assert "\n" not in str(failed.value)
    # no token: said so, with how to give one (the Hub's 401 names none)
    no_hub_token(monkeypatch, tmp_path)
    with pytest.raises(HubUploadError, match=r"failed \(no Hub token; log in with `hf auth login` "
                       r"or pass token=\)"):  # fmt: skip
        lm.save_pretrained(tmp_path / "m", push_to_hub=True, repo_id="me/m")
    assert (tmp_path / "m" / "model.safetensors").is_file()


def test_a_local_file_error_of_the_models_upload_is_its_own(tester, tmp_path, monkeypatch):
    """The model card's README.md refused (permission denied) in save_pretrained(push_to_hub=
    True) was said to be a failed upload to the Hub ("log in", "upload it later"); it is now
    the file's own error, naming the file (`tokenization.hub_errors.local_file_error`)."""
    from transformers.utils import hub

    from modeling_irish.measurenote_checks import HubUploadError

    class RefusedCard:
        def save(self, path):
            raise PermissionError(13, "Permission denied", path)

    record_hub_commits(monkeypatch)
    monkeypatch.setattr(hub, "create_and_tag_model_card", lambda *args, **kwargs: RefusedCard())
    with pytest.raises(PermissionError) as failed:
        tester.model().save_pretrained(tmp_path / "m", push_to_hub=True, repo_id="me/m")
    assert not isinstance(failed.value, HubUploadError)
    assert failed.value.filename == str(tmp_path / "m" / "README.md")


def test_the_models_and_the_tokenizers_failed_uploads_are_one_error(tester, tmp_path, monkeypatch):
    """One HubUploadError (tokenization.hub_errors) for the models' and the tokenizer's uploads,
    so that one ``except`` catches both; the models' remote code run without the package (no
    ``tokenization`` to import) raises the Hub client's error, the folder saved as before."""
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled

    from modeling_irish import measurenote_checks
    from tokenization.hub_errors import HubUploadError

    assert measurenote_checks.HubUploadError is HubUploadError
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # every Hub request fails
    monkeypatch.setattr(measurenote_checks, "upload_errors", None)  # as without the package
    with pytest.raises(OfflineModeIsEnabled):
        tester.model().save_pretrained(tmp_path / "m", push_to_hub=True, repo_id="me/m")
    assert (tmp_path / "m" / "model.safetensors").is_file()


def test_push_to_hub_fails_in_one_line_as_save_pretrained_with_push_to_hub_does(
    tester, tmp_path, monkeypatch
):
    """Offline, without a network or a token, model.push_to_hub raised the Hub client's own
    errors (OfflineModeIsEnabled, the HTTP client's ConnectError, a 401 naming no token), where
    save_pretrained(push_to_hub=True) and the tokenizer's push_to_hub say why in one line."""
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled

    from modeling_irish import measurenote_checks
    from tokenization.hub_errors import HubUploadError

    lm, backbone = tester.model(), MeasureNoteModel(tester.get_config())
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # every Hub request fails
    for model in (lm, backbone):
        with pytest.raises(HubUploadError) as failed:
            model.push_to_hub("me/m")
        assert str(failed.value) == (
            "push_to_hub: the upload to me/m failed (HF_HUB_OFFLINE is set, so nothing can be "
            "uploaded)"
        )
        assert isinstance(failed.value.__cause__, OfflineModeIsEnabled)

    unreachable_hub(monkeypatch)
    refused = r"failed \(ConnectionError: \[Errno 111\] Connection refused\)$"
    with pytest.raises(HubUploadError, match=refused):  # the token given is one
        lm.push_to_hub("me/m", token="hf_t")
    # no token: said so, with how to give one (the Hub's 401 names none)
    no_hub_token(monkeypatch, tmp_path)
    no_token = r"failed \(no Hub token; log in with `hf auth login` or pass token=\)$"
    with pytest.raises(HubUploadError, match=no_token):
        lm.push_to_hub("me/m")
    # the model's remote code run without the package: the Hub client's own error, as before
    monkeypatch.setattr(measurenote_checks, "upload_errors", None)
    with pytest.raises(ConnectionError):
        lm.push_to_hub("me/m", token="hf_t")


def test_save_pretrained_with_push_to_hub_uploads_the_files_it_saved(tester, tmp_path, monkeypatch):
    """The upload was a second save with defaults (push_to_hub): one model.safetensors, not the
    variant's shards and index that the folder holds."""
    commits = record_hub_commits(monkeypatch)
    lm, folder = tester.model(), tmp_path / "sharded"
    lm.save_pretrained(folder, push_to_hub=True, repo_id="u/x", variant="v1", max_shard_size="20KB")
    saved = sorted(p.name for p in folder.iterdir())
    assert "model.safetensors.index.v1.json" in saved and "model.safetensors" not in saved
    assert len([name for name in saved if name.startswith("model.v1-")]) > 1
    assert commits[0]["files"] == saved  # README.md (the model card) included
    (folder / "README.md").write_text(
        "my card", encoding="utf-8"
    )  # a folder's own model card is kept
    lm.save_pretrained(folder, push_to_hub=True, repo_id="u/x", variant="v1", max_shard_size="20KB")
    assert (folder / "README.md").read_text(
        encoding="utf-8"
    ) == "my card" and "README.md" not in commits[1]["files"]
    loaded = MeasureNoteForCausalLM.from_pretrained(folder, variant="v1")
    assert all(
        torch.equal(a, b) for a, b in zip(lm.state_dict().values(), loaded.state_dict().values())
    )


def test_a_saved_config_of_the_wrong_types_is_refused_by_name(tester, tmp_path):
    import json

    tester.model().save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    saved["measure_num_heads"] = 4.0  # a hand-edited config.json: torch said "empty() ..."
    (tmp_path / "config.json").write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(TypeError, match="measure_num_heads must be a whole number"):
        MeasureNoteForCausalLM.from_pretrained(tmp_path)
    config = tester.get_config()
    config.final_dropout = "0.1"  # set after the config was made: checked when the model is
    with pytest.raises(TypeError, match="final_dropout must be a real number"):
        MeasureNoteForCausalLM(config)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"pad_token_id": None}, TypeError, "pad_token_id must be one whole number.*got None"),
        ({"eos_token_id": [2, 3]}, TypeError, r"eos_token_id must be one whole .*got \[2, 3\]"),
        ({"bos_token_id": True}, TypeError, "bos_token_id must be one whole number"),
        ({"pad_token_id": -1}, ValueError, r"pad_token_id must be an id .* \[0, 9\), got -1"),
        ({"eos_token_id": 9}, ValueError, r"eos_token_id must be an id .* \[0, 9\), got 9"),
    ],
)
def test_special_ids_that_the_loss_cannot_use_are_refused(tester, tmp_path, kwargs, error, message):
    """pad_token_id=None or a list eos_token_id failed inside the loss (a TypeError in
    masked_fill); a special id is the tokenizer's, which the loss leaves out of dur targets."""
    with pytest.raises(error, match=message):
        tester.get_config(**kwargs)
    tester.model().save_pretrained(tmp_path)
    with pytest.raises(error, match=message):  # set after the config was made
        MeasureNoteForCausalLM.from_pretrained(tmp_path, **kwargs)


def test_config_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset"):
        MeasureNoteConfig.from_preset("huge")


def test_config_round_trip(tmp_path, tester):
    config = tester.get_config(dur_loss_weight=0.5)
    config.save_pretrained(tmp_path)
    loaded = MeasureNoteConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()
    assert (loaded.pad_token_id, loaded.bos_token_id, loaded.eos_token_id) == (0, 1, 2)


def test_transformers_standard_names_read_the_sizes(tmp_path, tester):
    """`hidden_size`, `vocab_size`, `num_hidden_layers` (read by pipelines, PEFT, accelerate,
    user scripts) were AttributeErrors; they are names of sizes the config already holds, so
    the saved config and its diff keep only the real attributes."""
    config = tester.get_config(final_hidden_size=40)
    assert config.hidden_size == 40 and config.vocab_size == tester.vocab_sizes["main"]
    assert config.num_hidden_layers == 3  # len(out.hidden_states) - 1, as in transformers
    config.hidden_size = 48  # transformers' attribute_map: sets the final GRU's size
    assert config.final_hidden_size == 48
    assert MeasureNoteConfig(**{**config.to_dict(), "hidden_size": 56}).final_hidden_size == 56
    config.save_pretrained(tmp_path)
    loaded = MeasureNoteConfig.from_pretrained(tmp_path)
    saved = config.to_diff_dict()
    assert loaded.to_dict() == config.to_dict() and loaded.to_diff_dict() == saved
    for name in ("hidden_size", "vocab_size", "num_hidden_layers"):
        assert name not in saved and name not in config.to_dict()
    for name, message in (("vocab_size", r"set vocab_sizes"), ("num_hidden_layers", "set note_")):
        with pytest.raises(AttributeError, match=message):
            setattr(config, name, 7)
        with pytest.raises(AttributeError, match=message):
            MeasureNoteConfig(**{name: 7})
    assert MeasureNoteForCausalLM(config).main_head.in_features == 48


def test_a_new_embedding_size_resizes_every_feature(tmp_path, tester):
    config = tester.get_config()
    config.save_pretrained(tmp_path)
    loaded = MeasureNoteConfig.from_pretrained(tmp_path, embedding_size=64)
    assert loaded.embedding_sizes == MeasureNoteConfig(embedding_size=64).embedding_sizes
    assert MeasureNoteConfig.from_pretrained(tmp_path).embedding_sizes == config.embedding_sizes


def test_new_embedding_ratios_resize_every_feature_in_either_order(tmp_path, tester):
    """`from_pretrained(path, embedding_ratios=...)` kept the saved sizes (only a new
    embedding_size resized them)."""
    tester.get_config().save_pretrained(tmp_path)
    ratios = dict.fromkeys(MEASURENOTE_FEATURE_NAMES, 0.25)
    loaded = MeasureNoteConfig.from_pretrained(tmp_path, embedding_ratios=ratios)
    assert set(loaded.embedding_sizes.values()) == {8}  # 32 * 0.25
    for kwargs in (
        {"embedding_ratios": ratios, "embedding_size": 64},
        {"embedding_size": 64, "embedding_ratios": ratios},
    ):
        assert set(
            MeasureNoteConfig.from_pretrained(tmp_path, **kwargs).embedding_sizes.values()
        ) == {16}


def test_explicit_embedding_sizes_win_in_any_order(tmp_path, tester):
    """A new embedding_size overwrote explicit sizes, contrary to the docstring."""
    explicit = dict.fromkeys(MEASURENOTE_FEATURE_NAMES, 5)
    config = tester.get_config(embedding_sizes=explicit)
    config.embedding_size = 64
    config.embedding_ratios = dict.fromkeys(MEASURENOTE_FEATURE_NAMES, 0.5)
    assert config.embedding_sizes == explicit
    config.save_pretrained(tmp_path / "explicit")
    loaded = MeasureNoteConfig.from_pretrained(tmp_path / "explicit", embedding_size=64)
    assert loaded.embedding_sizes == explicit
    tester.get_config().save_pretrained(tmp_path / "derived")
    saved = tester.get_config().embedding_sizes
    for sizes in (explicit, saved):  # the saved sizes, given explicitly, win too
        for kwargs in (
            {"embedding_sizes": sizes, "embedding_size": 64},
            {"embedding_size": 64, "embedding_sizes": sizes},
        ):
            loaded = MeasureNoteConfig.from_pretrained(tmp_path / "derived", **kwargs)
            assert loaded.embedding_sizes == sizes and loaded.embedding_size == 64, kwargs
    for names in (("embedding_sizes", "embedding_size"), ("embedding_size", "embedding_sizes")):
        config = tester.get_config()
        for name in names:
            setattr(config, name, {"embedding_sizes": explicit, "embedding_size": 64}[name])
        assert config.embedding_sizes == explicit, names


def test_attributes_set_after_the_config_are_checked_when_the_model_is_built(tester):
    config = tester.get_config()
    config.measure_num_heads = 5
    with pytest.raises(ValueError, match="divisible by measure_num_heads"):
        MeasureNoteForCausalLM(config)


def test_a_misspelled_argument_is_an_error_not_a_silent_no_loss(tester):
    config, inputs, labels = tester.prepare_config_and_inputs()
    model = MeasureNoteForCausalLM(config).eval()
    with pytest.raises(TypeError, match="label"):
        model(**inputs, label=labels)
    with pytest.raises(TypeError, match="label"):
        model.measurenote(**inputs, label=labels)


def test_return_dict_false_gives_tuples(tester):
    config, inputs, labels = tester.prepare_config_and_inputs()
    model = MeasureNoteForCausalLM(config).eval()
    as_dict = model(**inputs, labels=labels)
    as_tuple = model(**inputs, labels=labels, return_dict=False)
    assert isinstance(as_tuple, tuple)
    assert torch.equal(as_tuple[0], as_dict.loss) and torch.equal(as_tuple[3], as_dict.logits)
    backbone = model.measurenote(**inputs, return_dict=False)
    hidden = model.measurenote(**inputs).last_hidden_state
    assert isinstance(backbone, tuple) and torch.equal(backbone[0], hidden)
    # None fields are left out, as in transformers: the hidden states come last when asked for
    assert len(as_tuple) == 6 and len(backbone) == 4  # eval: both return their state
    shown = model(**inputs, labels=labels, return_dict=False, output_hidden_states=True)
    assert len(shown) == 7 and isinstance(shown[-1], tuple) and torch.equal(shown[-1][-1], hidden)


def test_config_return_dict_false_gives_tuples_unless_the_call_asks(tester):
    """`config.return_dict=False` (a config saved so) is what a call without the argument gets,
    from both models; the argument wins over it (docs/DESIGN.md §10)."""
    config, inputs, labels = tester.prepare_config_and_inputs()
    model = MeasureNoteForCausalLM(config).eval()
    as_dict = model(**inputs, labels=labels)
    model.config.return_dict = False
    by_config = model(**inputs, labels=labels)
    assert isinstance(by_config, tuple)
    assert torch.equal(by_config[0], as_dict.loss) and torch.equal(by_config[3], as_dict.logits)
    assert isinstance(model.measurenote(**inputs), tuple)
    assert torch.equal(model(**inputs, labels=labels, return_dict=True).logits, as_dict.logits)
    assert not isinstance(model.measurenote(**inputs, return_dict=True), tuple)


def test_base_preset_parameter_count():
    """The reference's MeasureNote with its shipped vocabulary has 18,651,249 parameters."""
    with torch.device("meta"):  # shapes only: skips 27 slow QR decompositions of the init
        model = MeasureNoteForCausalLM(MeasureNoteConfig.from_preset("base"))
    # embeddings 116,224 + note GRU 7,971,840 + measure GRU 4,727,808 + attention 263,168
    # + final GRU 5,514,240 + heads 57,969 (see reference-measurenote.md section 4.9)
    assert sum(p.numel() for p in model.parameters()) == 18_651_249


def test_small_preset_parameter_count():
    with torch.device("meta"):
        model = MeasureNoteForCausalLM(MeasureNoteConfig.from_preset("small"))
    assert 1_500_000 <= sum(p.numel() for p in model.parameters()) <= 2_500_000
