"""train.py's tune-title task on a pretrained MeasureNote backbone: its weights and tokenizer,
the split it was trained on (read from its run record, made again, or not), and what it saw
of the retrieval queries, as warned, counted and written on the card."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from helpers import (  # noqa: F401
    TUNE_TITLE_FLAGS,
    one_torch_thread,
    reels_tunebook,
)
from helpers import reels_training_argv as _argv

from training import common, run_folder
from training.train import main

_TUNE_TITLE = TUNE_TITLE_FLAGS


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def backbone(tmp_path_factory, reels_abc):
    """A saved tiny MeasureNote whose tokenizer also knows a dotted rhythm and Bb, values the
    tokenizer built from the tunebook alone would not have."""
    from helpers import tiny_measurenote_config

    from modeling_irish import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcTokenizer

    folder = tmp_path_factory.mktemp("backbone")
    extra = "X:99\nT:Other\nM:6/8\nL:1/8\nK:Bb\nB3/2c/d fdB|]\n"
    tokenizer = AbcTokenizer.train(reels_tunebook().split("\n\n") + [extra])
    torch.manual_seed(3)
    config = tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes)
    MeasureNoteForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder, tokenizer


def test_tune_title_on_a_pretrained_backbone_uses_its_weights_and_tokenizer(
    reels_abc, cache_dir, tmp_path, backbone
):
    from modeling_irish import MeasureNoteModel, TuneTitleModel
    from tokenization.tokenization_abc import AbcTokenizer

    folder, tokenizer = backbone
    out = tmp_path / "tt"
    argv = _argv(reels_abc, cache_dir, out, *_TUNE_TITLE, "--max_train_steps", "2", model=False)
    results = main([*argv, "--measurenote_path", str(folder), "--freeze_backbone"])
    assert results["train_steps"] == 2 and results["unknown_values_left_out"] == 0

    # the backbone's tokenizer, not one trained on the corpus (which has no 3/2 length)
    saved = AbcTokenizer.from_pretrained(out)
    assert saved == tokenizer and "3/2" in saved.abc_vocab.values["dur"]
    # the backbone's config (not the small preset's) and, frozen, exactly its weights
    model = TuneTitleModel.from_pretrained(out)
    assert model.config.tune_config.backbone_config.note_hidden_size == 16
    expected = MeasureNoteModel.from_pretrained(folder).state_dict()
    trained = model.tune_model.backbone_modules().state_dict()
    assert expected.keys() == trained.keys()
    for name, weight in expected.items():
        assert torch.equal(weight, trained[name]), name


def _backbone_of_split(backbone, reels_abc: str, folder, split_seed: str | None):
    """A copy of the `backbone` fixture's folder whose all_results.json records the data split
    of a MeasureNote run on `reels_abc` with `--split_seed split_seed` (None: no record)."""
    import os

    shutil.copytree(backbone[0], folder)
    if split_seed is not None:
        split = {"corpus": [os.path.abspath(reels_abc)], "split_ratios": [0.5, 0.25, 0.25],
                 "split_seed": int(split_seed), "split_method": "shuffle", "link_incipits": 0,
                 "require_bars_fit": False}  # fmt: skip
        (folder / "all_results.json").write_text(
            json.dumps({"data_split": split}), encoding="utf-8"
        )
    return str(folder)


def test_the_backbone_split_is_read_from_its_run_record_with_the_corpus_paths(reels_abc, tmp_path):
    """all_results.json, which is uploaded, gave the trainer's absolute corpus paths: it names
    the files only now, and the backbone's run keeps the paths in run_files.json (not
    uploaded), which a tune-title run on that folder compares and makes the split again from."""
    import argparse

    from training.backbone_split import backbone_split

    folder = tmp_path / "lm"
    folder.mkdir()
    args = argparse.Namespace(corpus=[reels_abc], split_ratios=[0.5, 0.25, 0.25], split_seed=0,
                              split_method="shuffle", link_incipits=0, require_bars_fit=False,
                              measurenote_path=str(folder))  # fmt: skip
    split = common.data_split_record(args)
    run_folder.record_run_files(str(folder), ["all_results.json"])
    run_folder.record_data_split(str(folder), split)
    run_folder.record_run_files(str(folder), ["README.md"])  # the record keeps both
    published = {"data_split": common.published_data_split(split)}
    (folder / "all_results.json").write_text(json.dumps(published), encoding="utf-8")
    assert published["data_split"]["corpus"] == [Path(reels_abc).name]
    assert split["corpus"] == [str(Path(reels_abc).resolve())]
    assert run_folder.read_run_files(str(folder)) == ["README.md", "all_results.json"]
    assert backbone_split(args) == ("same", [], split)
    (folder / run_folder.RUN_FILES).unlink()  # a folder from the Hub: its files named only
    status, changes, _ = backbone_split(args)
    assert status == "different" and changes[0].startswith(f"--corpus ['{Path(reels_abc).name}']")


def test_a_backbone_that_read_an_edited_corpus_is_not_called_the_same_split(reels_abc, tmp_path):
    """A backbone trained on a corpus file that was edited since (its first tune deleted) was
    called the "same" split, from its split flags alone, and its card claimed the unseen
    figures free of the leak while its training split held all the unseen queries."""
    import argparse

    from accelerate import PartialState

    from training.backbone_split import backbone_split, backbone_training_settings
    from training.model_card import backbone_text

    PartialState()  # the warning below goes through accelerate's logger

    folder = tmp_path / "lm"
    folder.mkdir()
    args = argparse.Namespace(corpus=[reels_abc], split_ratios=[0.5, 0.25, 0.25], split_seed=0,
                              split_method="shuffle", link_incipits=0, require_bars_fit=False,
                              measurenote_path=str(folder))  # fmt: skip
    vocabulary = {"values": 40, "sha256": "v"}
    args.data_fingerprint = {"splits": {"train": {"tunes": 5, "sha256": "b"}},
                             "vocabulary": vocabulary}  # fmt: skip
    split = common.data_split_record(args)
    split["fingerprint"] = {"splits": {"train": {"tunes": 6, "sha256": "a"}},
                            "vocabulary": vocabulary}  # fmt: skip
    run_folder.record_run_files(str(folder), ["all_results.json"])
    run_folder.record_data_split(str(folder), split)
    status, changes, _ = backbone_split(args)
    assert status == "different"
    assert changes == ["the data it read: its train split had 6 tunes (now 5)"]
    # its training split cannot be made again from the edited file: not counted, not "free"
    assert backbone_training_settings(args, {"train": None}) is None
    card = backbone_text(args, {"backbone_split": status, "backbone_split_changes": changes})
    assert "not known to be leak-free" in card and "free of that leak" not in card
    args.data_fingerprint = split["fingerprint"]  # the file as the backbone read it
    assert backbone_split(args)[:2] == ("same", [])


def test_the_backbone_split_is_not_made_again_from_an_edited_corpus(tmp_path, caplog):
    """A backbone recorded another --split_seed, so its training split was made again from its
    corpus file: edited since (one note changed), that gave other tunes than the backbone read,
    and the run counted the unseen queries it "saw" from them (11 of 14, truly 12)."""
    import argparse

    from accelerate import PartialState
    from helpers import synthetic_tune

    from modeling_irish.abc_corpus import load_abc_corpus
    from modeling_irish.tune_title_data import setting_key
    from tokenization.dataset import tokenize_dataset
    from tokenization.tokenization_abc import AbcTokenizer
    from training.backbone_split import backbone_training_settings
    from training.data import split_fingerprint

    PartialState()  # the warning below goes through accelerate's logger
    corpus = tmp_path / "tunes.abc"
    tunes = [synthetic_tune(x, f"Reel {x}", 300 + x, x, bars=2 + x) for x in range(1, 21)]
    corpus.write_text("\n".join(tunes), encoding="utf-8")
    ratios = [0.5, 0.25, 0.25]
    train = load_abc_corpus(str(corpus), split_ratios=ratios, seed=1)["train"]
    folder = tmp_path / "lm"
    tokenizer = AbcTokenizer.train(train["abc"])
    tokenizer.save_pretrained(folder)
    record = {"corpus": [str(corpus)], "split_ratios": ratios, "split_seed": 1,
              "split_method": "shuffle", "link_incipits": 0, "require_bars_fit": False}  # fmt: skip
    args = argparse.Namespace(**record, measurenote_path=str(folder), cache_dir=None,
                              output_dir=str(tmp_path / "tt"))  # fmt: skip
    args.split_seed = 0  # this run's split

    def settings(max_length=None):
        read = tokenize_dataset(train, tokenizer, max_length=max_length)
        fingerprint = {"splits": {"train": split_fingerprint(read)}, "vocabulary": {}}
        run_folder.record_data_split(str(folder), {**record, "fingerprint": fingerprint})
        return {setting_key(t, a) for t, a in zip(read["title"], read["abc"])}

    read = settings()
    assert backbone_training_settings(args, {"train": None}) == read  # the control
    # a backbone whose --max_length dropped its longest tune trained on the others
    longest = max(train["abc"], key=len)
    shorter = settings(max_length=len(tokenizer.encode_tune(longest).input_ids) - 1)
    assert len(shorter) == len(read) - 1
    assert backbone_training_settings(args, {"train": None}) == shorter
    settings()
    first = train[0]["abc"]  # one note of one of its training tunes changed
    body = first.splitlines()[-1]
    edited = body.replace(body[0], "d" if body[0] != "d" else "e", 1)
    corpus.write_text(corpus.read_text(encoding="utf-8").replace(body, edited), encoding="utf-8")
    caplog.clear()
    assert backbone_training_settings(args, {"train": None}) is None
    assert "the backbone's training split cannot be made again" in caplog.text


@pytest.mark.parametrize("backbone_seed", ["1", None, "0"], ids=["other", "none", "same"])
def test_what_the_backbone_saw_of_the_queries_is_warned_counted_and_carded(
    reels_abc, cache_dir, tmp_path, backbone, capsys, caplog, backbone_seed
):
    """A MeasureNote trained with --split_seed 1 and used here with seed 0 had trained on most
    of the unseen protocol's queries, without a word; nor did the card say that a backbone on
    the same split had seen the known protocol's query settings."""
    folder = _backbone_of_split(backbone, reels_abc, tmp_path / "lm", backbone_seed)
    out = tmp_path / "tt"
    argv = _argv(reels_abc, cache_dir, out, *_TUNE_TITLE, "--max_train_steps", "1", model=False)
    results = main([*argv, "--retrieval_eval_queries", "3", "--measurenote_path", folder])
    warning = capsys.readouterr().err
    card = (out / "README.md").read_text(encoding="utf-8")
    assert results["unseen_eval_settings"] == 3  # the validation tunes written as queries
    if backbone_seed == "1":  # seed 1's training split holds some of seed 0's validation tunes
        assert results["backbone_split"] == "different"
        assert results["backbone_split_changes"] == ["--split_seed 1 (now 0)"]
        assert "was trained on another data split (--split_seed 1 (now 0))" in warning
        seen = results["backbone_seen_unseen_queries"]
        assert 0 < seen <= 3
        assert f"held {seen} of the 3 unseen-protocol queries" in caplog.text
        assert f"held {seen} of the 3 unseen-protocol query settings" in card
        assert "the `unseen_*` figures are not leak-free" in card
    elif backbone_seed is None:
        assert results["backbone_split"] == "unknown" and "records no data split" in warning
        assert not any(key.startswith("backbone_seen") for key in results)
        assert "records no data split" in card and "figures are known to be free" in card
    else:
        assert results["backbone_split"] == "same" and "warning" not in warning
        assert results["backbone_seen_unseen_queries"] == 0
        assert "trained on the same corpus and split as this run" in card
        assert "included the known-protocol query settings (their notes, not" in card


def test_the_backbone_split_changes_name_the_corpus_files_in_what_is_uploaded(
    reels_abc, cache_dir, tmp_path, backbone
):
    """A backbone trained on another corpus file: the card and all_results.json (uploaded)
    gave the trainer's whole corpus paths in the split changes; they name the files only, and
    the warning (the log) keeps the paths."""

    folder = tmp_path / "lm"
    shutil.copytree(backbone[0], folder)
    other = tmp_path / "elsewhere" / "other.abc"
    other.parent.mkdir()
    shutil.copy(reels_abc, other)
    split = {"corpus": [str(other)], "split_ratios": [0.5, 0.25, 0.25], "split_seed": 0,
             "split_method": "shuffle", "link_incipits": 0, "require_bars_fit": False}  # fmt: skip
    run_folder.record_run_files(str(folder), ["all_results.json"])
    run_folder.record_data_split(str(folder), split)
    out = tmp_path / "tt"
    argv = _argv(reels_abc, cache_dir, out, *_TUNE_TITLE, "--max_train_steps", "1", model=False)
    results = main([*argv, "--retrieval_eval_queries", "3", "--measurenote_path", str(folder)])
    assert results["backbone_split_changes"] == ["--corpus ['other.abc'] (now ['reels.abc'])"]
    uploaded = (out / "README.md").read_text(encoding="utf-8") + (
        out / "all_results.json"
    ).read_text(encoding="utf-8")
    assert "--corpus ['other.abc'] (now ['reels.abc'])" in uploaded
    for path in (str(other.parent), str(Path(reels_abc).parent)):
        assert path not in uploaded, path


def test_a_backbone_whose_weights_do_not_fit_its_config_is_refused_before_the_corpus_is_read(
    reels_abc, cache_dir, tmp_path, backbone, monkeypatch
):
    """A --measurenote_path folder whose config.json was edited (another note_hidden_size) was
    found out once the corpus was read, by transformers' load report and a traceback; a tensor
    its weights lacked was initialised at random."""
    from safetensors.torch import load_file, save_file

    from training import train_tune_title
    from training.tune_title_setup import backbone_weights_mismatch

    folder = tmp_path / "edited"
    shutil.copytree(backbone[0], folder)
    assert backbone_weights_mismatch(str(folder)) is None  # a whole causal LM folder fits
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(
        json.dumps({**config, "note_hidden_size": 32}), encoding="utf-8"
    )

    def read(*args):
        raise AssertionError("the corpus was read")

    monkeypatch.setattr(train_tune_title, "prepare_corpus", read)
    argv = _argv(reels_abc, cache_dir, tmp_path / "tt", *_TUNE_TITLE, model=False)
    with pytest.raises(common.UsageError) as refused:
        main([*argv, "--measurenote_path", str(folder)])
    message = str(refused.value)
    assert message.startswith(f"--measurenote_path {folder}: its weights do not fit its config")
    assert "note_rnn.weight_ih_l0 is [48, " in message and "[96, " in message
    assert "\n" not in message
    # weights that lack a tensor of the config's model
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    weights = load_file(folder / "model.safetensors")
    del weights["measurenote.note_rnn.bias_hh_l0"]
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    assert backbone_weights_mismatch(str(folder)) == (
        "model.safetensors lacks note_rnn.bias_hh_l0, of shape [48] by the config"
    )
