"""Tests of AbcTokenizer: rows, labels and key normalisation, save/load (remote code, the
version, AutoTokenizer), tokenize-decode round trips, ids to tokens and the special tokens.
Padding is tested in test_tokenization_abc_padding.py, decoding in _decode.py, errors in
_errors.py."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from tokenization_abc_helpers import (
    DORIAN_REEL,
    KESH,
    TUNES,
    abc_tokenizer,  # noqa: F401 (the tokenizer fixture)
)

from tokenization.features import FEATURE_NAMES
from tokenization.tokenization_abc import AbcTokenizer


def test_call_shapes_and_labels(tokenizer):
    enc = tokenizer(TUNES)
    batch, seq, width = enc["input_ids"].shape
    assert (batch, width) == (3, len(FEATURE_NAMES))
    assert enc["measure_numbers"].shape == (batch, seq)
    assert enc["labels"].shape == (batch, seq, 2)
    lengths = enc["attention_mask"].sum(1)
    for i in range(batch):
        n = int(lengths[i])
        ids = enc["input_ids"][i, :n]
        assert ids[0, 0] == 1 and ids[-1, 0] == 2  # <start> ... <end>
        assert torch.all(enc["input_ids"][i, n:] == 0)
        assert torch.all(enc["labels"][i, n:] == -100)
        m = enc["measure_numbers"][i, :n]
        assert m[0] == 0 and torch.all(torch.diff(m) >= 0) and torch.all(torch.diff(m) <= 1)
    # dur labels only where the row is a note or rest
    main_tokens = [tokenizer.abc_vocab.token("main", int(i)) for i in enc["input_ids"][0, :, 0]]
    for j, token in enumerate(main_tokens):
        has_dur = token.startswith("pitch") or token == "z"
        assert (enc["labels"][0, j, 1] != -100) == has_dur


def test_original_key_of_a_corpus_tune_is_its_z_key(tokenizer):
    # the shared corpus writes the white-key placeholder `K: C Dorian` and the source key in
    # Z:; original_key was the placeholder's D dorian, so decode(key=original_key) wrote it
    # on the white keys rather than in G dorian, as check and the loader's key column say
    abc = "X:1\nZ: G Dorian\nM:4/4\nL:1/8\nK: C Dorian\n=A,=D=D=E=F=D=E=C|\n"
    enc = tokenizer.encode_tune(abc)
    assert enc.original_key.name == enc.tune.original_key.name == "G dorian"
    assert "K:Gdor" in tokenizer.decode(enc.input_ids, key=enc.original_key)


def test_normalisation_puts_tonic_on_white_key(tokenizer):
    enc = tokenizer.encode_tune(DORIAN_REEL)
    assert enc.original_key.name == "E dorian"
    assert enc.tune.key.name == "D dorian"
    first_note = next(t for t in enc.tune.tokens if t.kind == "note")
    assert first_note.pitch == 60  # the D pickup of E dorian lands on C of D dorian


def test_save_and_load_give_an_equal_tokenizer(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    again = AbcTokenizer.from_pretrained(tmp_path)
    assert again == tokenizer
    assert (tmp_path / "abc_vocab.json").exists()
    a, b = tokenizer(KESH), again(KESH)
    assert torch.equal(a["input_ids"], b["input_ids"])


def test_save_pretrained_returns_the_files_it_wrote(tokenizer, tmp_path):
    """transformers' slow-tokenizer save listed ``added_tokens.json`` among "the files saved"
    though it writes it only for tokens past the vocabulary, which AbcTokenizer never has: a
    user copying or uploading the files it returned met a FileNotFoundError."""
    for prefix in (None, "abc"):
        files = tokenizer.save_pretrained(tmp_path / str(prefix), filename_prefix=prefix)
        assert sorted(os.path.basename(f) for f in files) == sorted(
            (f"{prefix}-" if prefix else "") + name
            for name in ("tokenizer_config.json", "abc_vocab.json")
        )
        assert all(os.path.isfile(f) for f in files)


def test_save_pretrained_onto_a_file_says_so_in_one_line(tokenizer, tmp_path):
    """A path naming a file failed with "TypeError: 'NoneType' object is not iterable" (the base
    save logs an error and returns None, which the files-it-wrote filter iterated)."""
    taken = tmp_path / "notes.txt"
    taken.write_text("mine", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match=r"notes.txt: a file, not a folder"):
        tokenizer.save_pretrained(taken)
    assert taken.read_text(encoding="utf-8") == "mine"


def test_the_remote_code_copy_of_the_tokenizer_compares_equal(tokenizer, tmp_path):
    """A model folder loaded with trust_remote_code gives the tokenizer class of its own code copy
    (transformers_modules...), not this one: still the same vocabulary, so equal."""
    from helpers import tiny_measurenote_config
    from transformers import AutoTokenizer

    from modeling_irish import MeasureNoteForCausalLM

    MeasureNoteForCausalLM(tiny_measurenote_config()).save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    remote = AutoTokenizer.from_pretrained(tmp_path / "model", trust_remote_code=True)
    assert not isinstance(remote, AbcTokenizer)  # the copy, or this test proves nothing
    assert remote == tokenizer and tokenizer == remote
    other = AbcTokenizer.train([KESH])
    assert remote != other and other != tokenizer


def test_a_loaded_tokenizer_saved_again_writes_the_same_config(tokenizer, tmp_path):
    # from_pretrained's is_local / local_files_only went into tokenizer_config.json, so a run
    # that took the vocabulary from its cache saved other files than the run that built it
    from tokenization.tokenization_abc import AbcTokenizer

    tokenizer.save_pretrained(tmp_path / "a")
    AbcTokenizer.from_pretrained(tmp_path / "a", local_files_only=True).save_pretrained(
        tmp_path / "b"
    )
    first, again = (
        json.loads((tmp_path / d / "tokenizer_config.json").read_text(encoding="utf-8"))
        for d in "ab"
    )
    assert again == first and "is_local" not in again


def test_saved_tokenizer_records_the_package_version(tokenizer, tmp_path):
    import json

    import modeling_irish

    assert tokenizer.saved_with_version is None
    tokenizer.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["modeling_irish_version"] == modeling_irish.__version__
    config["modeling_irish_version"] = "0.0.1"  # a folder saved by an older release
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    again = AbcTokenizer.from_pretrained(tmp_path)
    assert again.saved_with_version == "0.0.1"
    again.save_pretrained(tmp_path / "resaved")
    resaved = json.loads(
        (tmp_path / "resaved" / "tokenizer_config.json").read_text(encoding="utf-8")
    )
    assert resaved["modeling_irish_version"] == modeling_irish.__version__


def test_auto_tokenizer_loads_the_saved_folder(tokenizer, tmp_path):
    from transformers import AutoTokenizer

    import modeling_irish  # noqa: F401  (registers the Auto classes)

    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path, trust_remote_code=True)
    assert isinstance(loaded, AbcTokenizer) and loaded == tokenizer


@pytest.mark.parametrize("text", TUNES)
def test_tokenize_decode_tokenize_gives_identical_rows(tokenizer, text):
    enc = tokenizer.encode_tune(text)
    abc = tokenizer.decode(enc.input_ids, key=enc.original_key, title="again")
    again = tokenizer.encode_tune(abc)
    assert again.rows.rows() == enc.rows.rows()
    np.testing.assert_array_equal(again.input_ids, enc.input_ids)
    np.testing.assert_array_equal(again.measure_numbers, enc.measure_numbers)


def test_ids_to_tokens_takes_rows_tensors_and_ints(tokenizer):
    enc = tokenizer(KESH)
    rows = enc["input_ids"][0]
    main = rows[:, 0].tolist()
    expected = tokenizer.convert_ids_to_tokens(main)
    assert expected[0] == "<start>" and expected[-1] == "<end>"
    assert tokenizer.convert_ids_to_tokens(rows) == expected  # feature rows: their main column
    assert tokenizer.convert_ids_to_tokens(rows[:, 0]) == expected  # a tensor of main ids
    assert tokenizer.convert_ids_to_tokens(rows[0, 0]) == "<start>"  # a 0-d tensor
    assert tokenizer.convert_ids_to_tokens(main[1]) == expected[1]


def test_special_tokens_mask_matches_the_special_tokens_added(tokenizer):
    """prepare_for_model gave input_ids [1, 23, 25, 2] with special_tokens_mask [0, 0]."""
    ids = tokenizer.encode(KESH, add_special_tokens=False)[:3]
    out = tokenizer.prepare_for_model(ids, return_special_tokens_mask=True)
    assert out["input_ids"] == tokenizer.build_inputs_with_special_tokens(ids)
    assert out["special_tokens_mask"] == [1, 0, 0, 0, 1]
    assert out["special_tokens_mask"] == tokenizer.get_special_tokens_mask(
        out["input_ids"], already_has_special_tokens=True
    )
    with pytest.raises(ValueError, match="pairs are not supported"):
        tokenizer.get_special_tokens_mask(ids, ids)


def test_encode_and_tokenize_read_special_token_strings_in_the_text_as_text(tokenizer):
    """transformers split the text on "<start>", "<end>", "<pad>", "<unk>" before reading it, so
    ``encode``/``tokenize`` of a tune with one in its title failed ("tune has no notes")."""
    tune = KESH.replace("T:The Kesh", "T:The <start> of <end>, <pad> and <unk>")
    main = tokenizer(tune)["input_ids"][0, :, 0].tolist()
    assert main == tokenizer(KESH)["input_ids"][0, :, 0].tolist()
    assert tokenizer.encode(tune) == main
    assert tokenizer.tokenize(tune) == tokenizer.convert_ids_to_tokens(main)[1:-1]
    assert tokenizer.tokenize(tune, split_special_tokens=False) == tokenizer.tokenize(tune)


# O'Neill's 980 (12/8) opens its endings mid-bar: the bar tokens `[1` and `[2`
ONEILLS_980 = "X:980\nT:t\nM:12/8\nL:1/8\nK:D\nF2D DFD DFD DFD|Bcd edc [1 d2B A2G:|[2 d2z d2z||\n"


def test_a_vocabulary_without_mid_bar_endings_still_holds_them(tokenizer):
    # TUNES hold no `[1` (nor Lydian): the closed sets are whole all the same, so O'Neill's
    # `[1` is not read as <unk> by a vocabulary built on thesession's tunes
    vocab = tokenizer.abc_vocab
    for feature, value in (("main", "[1"), ("main", "[2"), ("mode", "lydian"), ("key", "F lydian")):
        assert value in vocab.values[feature], (feature, value)
    enc = tokenizer.encode_tune(ONEILLS_980)
    bars = [row[0] for row in enc.rows.token_rows if row[0].startswith(("[", "|", ":"))]
    assert bars == ["|", "[1", ":|2", "||"]
    assert (enc.input_ids[:, 0] != 3).all()  # no <unk> main


def test_the_vocabulary_does_not_depend_on_the_order_of_the_tunes():
    forward, backward = AbcTokenizer.train(TUNES), AbcTokenizer.train(TUNES[::-1])
    assert forward.abc_vocab.values == backward.abc_vocab.values
    # the closed features hold their whole set, so their ids are those of any corpus
    one = AbcTokenizer.train(TUNES[:1]).abc_vocab.values
    for feature in ("mode", "key", "root", "unit_length", "m_idx", "is_onbeat", "key_sig"):
        assert one[feature] == forward.abc_vocab.values[feature], feature


def test_train_shows_a_bar_over_the_tunes_on_a_terminal_when_asked(capsys, monkeypatch):
    # thesession's 18,000 training tunes built their vocabulary for 10-15 s without a word
    import sys

    assert AbcTokenizer.train(TUNES, progress=True) == AbcTokenizer.train(TUNES)
    assert capsys.readouterr().err == ""  # piped: no bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    AbcTokenizer.train(TUNES)  # not asked: a library call stays quiet
    assert capsys.readouterr().err == ""
    AbcTokenizer.train(TUNES, progress=True)
    assert "Building the vocabulary: 100%" in capsys.readouterr().err
    AbcTokenizer.train(iter(TUNES), progress=True)  # no length: a count without a total
    assert f"Building the vocabulary: {len(TUNES)}" in capsys.readouterr().err


def test_tokenizers_that_truncate_differently_are_not_equal(tokenizer, tmp_path):
    """``==`` compared the vocabulary only: a tokenizer with model_max_length=4, which cuts every
    tune to 4 rows under truncation=True, compared equal to one that cuts none."""
    short = AbcTokenizer(vocab=tokenizer.abc_vocab, model_max_length=4)
    assert short(KESH, truncation=True)["input_ids"].shape[1] == 4
    assert tokenizer(KESH, truncation=True)["input_ids"].shape[1] > 4
    assert short != tokenizer and tokenizer != short
    short.save_pretrained(tmp_path)
    assert AbcTokenizer.from_pretrained(tmp_path) == short
