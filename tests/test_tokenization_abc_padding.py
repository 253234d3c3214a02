"""AbcTokenizer's padding and the transformers keywords: the collator, pad, max lengths,
padding sides, return_length, and keywords accepted or refused with the reason."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch
from helpers import tiny_measurenote_config
from tokenization_abc_helpers import (
    DORIAN_REEL,
    KESH,
    MINOR_WITH_CHORD,
    TUNES,
    abc_tokenizer,  # noqa: F401 (the tokenizer fixture)
)

from tokenization.features import FEATURE_NAMES
from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer


def test_collator_pads_measure_numbers_with_the_last_value():
    a = {"input_ids": np.ones((4, 20), dtype=np.int64), "measure_numbers": [0, 0, 1, 2]}
    b = {"input_ids": np.ones((2, 20), dtype=np.int64), "measure_numbers": [0, 1]}
    batch = AbcDataCollator(pad_to_multiple_of=8)([a, b])
    assert batch["input_ids"].shape == (2, 8, 20)
    assert batch["measure_numbers"][1].tolist() == [0, 1, 1, 1, 1, 1, 1, 1]
    assert batch["attention_mask"].sum().item() == 6


def test_collator_takes_tunes_encoded_one_by_one_and_refuses_a_batch(tokenizer):
    """``tok(one_tune)`` is a batch of one: its measure numbers (1, n) failed to broadcast (a
    numpy error), and a batch of several tunes had its rows run together as one tune."""
    one_by_one = [tokenizer(t) for t in TUNES[:2]]
    batch = AbcDataCollator()(one_by_one)
    together = AbcDataCollator()(
        [{"input_ids": e["input_ids"][0], "measure_numbers": e["measure_numbers"][0]}
         for e in one_by_one]
    )  # fmt: skip
    for name in ("input_ids", "measure_numbers", "attention_mask", "labels"):
        assert torch.equal(batch[name], together[name])
    with pytest.raises(ValueError, match="feature 0 is not one encoded tune"):
        AbcDataCollator()([tokenizer(TUNES[:2], padding=True)])


def test_collator_cuts_the_padding_of_tunes_encoded_padded(tokenizer):
    """``tok(one_tune, pad_to_multiple_of=8)`` carries padding rows; the collator ignored their
    attention_mask, so it attended to them and trained on predicting ``<pad>``."""
    padded = [tokenizer(t, pad_to_multiple_of=64) for t in TUNES]
    assert any(int(e["attention_mask"].sum()) < e["attention_mask"].shape[1] for e in padded)
    batch = AbcDataCollator()(padded)
    want = tokenizer(TUNES)  # the same tunes padded as one batch
    for name in ("input_ids", "measure_numbers", "attention_mask", "labels"):
        assert torch.equal(batch[name], want[name]), name
    left = dict(padded[2], attention_mask=padded[2]["attention_mask"].flip(-1))
    with pytest.raises(ValueError, match=r"feature 1: attention_mask is not ones then zeros"):
        AbcDataCollator()([padded[0], left])
    with pytest.raises(ValueError, match=r"encoded tune 1: attention_mask is not ones then"):
        tokenizer.pad([padded[0], left])


def test_collator_names_what_is_wrong_with_its_input(tokenizer):
    """A feature without measure_numbers was a bare KeyError, no features "max() arg is an
    empty sequence", and a negative pad_to_multiple_of a numpy broadcast error."""
    good = {"input_ids": np.ones((3, 20), dtype=np.int64), "measure_numbers": [0, 0, 1]}
    with pytest.raises(ValueError, match=r"feature 1 has no 'measure_numbers' \(it has \["):
        AbcDataCollator()([good, {"input_ids": np.ones((3, 20), dtype=np.int64)}])
    with pytest.raises(TypeError, match="feature 0 is not a dict but list"):
        AbcDataCollator()([[1, 2]])
    with pytest.raises(ValueError, match="got no features"):
        AbcDataCollator()([])
    with pytest.raises(TypeError, match="got one dict, not a list"):
        AbcDataCollator()(good)
    for bad in (-8, 0, True, 2.0):
        with pytest.raises(ValueError, match=rf"pad_to_multiple_of must be a positive int .*{bad}"):
            AbcDataCollator(bad)
    with pytest.raises(ValueError, match=r"AbcTokenizer: pad_to_multiple_of must be a positive"):
        tokenizer(KESH, pad_to_multiple_of=-8)
    assert AbcDataCollator(np.int64(4))([good])["input_ids"].shape == (1, 4, 20)


def test_transformers_keywords_that_describe_what_it_does_are_accepted(tokenizer):
    plain = tokenizer(TUNES, max_length=12)
    same = tokenizer(
        TUNES,
        max_length=12,
        padding=True,
        truncation=True,
        return_attention_mask=True,
        add_special_tokens=True,
    )
    for key in plain:
        assert torch.equal(plain[key], same[key])
    assert (
        tokenizer(KESH, padding="longest")["input_ids"].shape == tokenizer(KESH)["input_ids"].shape
    )
    assert tokenizer([KESH, KESH], padding=False)["input_ids"].shape[0] == 2  # nothing to pad


def test_padding_to_max_length(tokenizer):
    enc = tokenizer([KESH, DORIAN_REEL], padding="max_length", max_length=40)
    assert enc["input_ids"].shape == (2, 40, len(FEATURE_NAMES))
    short = tokenizer(KESH, max_length=40)
    n = int(short["attention_mask"].sum())
    assert torch.equal(enc["input_ids"][0, :n], short["input_ids"][0, :n])
    assert enc["attention_mask"][0, n:].sum() == 0


def test_model_max_length_pad_to_multiple_of_and_padding_side(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    limited = AbcTokenizer.from_pretrained(tmp_path, model_max_length=10)
    assert limited(TUNES, truncation=True)["input_ids"].shape[1] == 10  # as transformers does
    assert limited([KESH[:40]], padding="max_length")["input_ids"].shape[1] == 10
    assert limited(TUNES)["input_ids"].shape == tokenizer(TUNES)["input_ids"].shape  # no limit
    rounded = tokenizer(TUNES, pad_to_multiple_of=8)
    assert rounded["input_ids"].shape[1] % 8 == 0
    assert torch.equal(rounded["attention_mask"].sum(1), tokenizer(TUNES)["attention_mask"].sum(1))
    assert tokenizer(KESH, padding_side="right")["input_ids"].shape[0] == 1
    with pytest.raises(ValueError, match="right only"):
        tokenizer(KESH, padding_side="left")


def test_padding_to_max_length_names_both_ways_to_give_the_length(tokenizer, tmp_path):
    """Without a length, ``padding="max_length"`` said only that it "needs max_length", though
    a ``model_max_length`` does as well (docs/abc.md): the message names both, and setting
    ``tok.model_max_length`` makes the same call pad to it."""
    tokenizer.save_pretrained(tmp_path)
    tok = AbcTokenizer.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"give max_length=N, or set tok\.model_max_length"):
        tok(TUNES, padding="max_length")
    tok.model_max_length = 300
    padded = tok(TUNES, padding="max_length")
    assert padded["input_ids"].shape == (len(TUNES), 300, len(FEATURE_NAMES))
    assert torch.equal(padded["attention_mask"].sum(1), tokenizer(TUNES)["attention_mask"].sum(1))


def test_another_padding_side_is_refused_when_the_tokenizer_is_made(tokenizer, tmp_path):
    """It was refused only at every call, so `from_pretrained(folder, padding_side="left")`
    saved a folder whose tokenizer raised on every call."""
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"right only \(padding_side='left'\).*give padding_side"):
        AbcTokenizer.from_pretrained(tmp_path, padding_side="left")
    with pytest.raises(ValueError, match="right only"):
        AbcTokenizer(vocab=tokenizer.abc_vocab, padding_side="left")
    # a folder saved with it before loads when given the right side
    config_file = tmp_path / "tokenizer_config.json"
    config_file.write_text(
        json.dumps({**json.loads(config_file.read_text(encoding="utf-8")), "padding_side": "left"}),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="right only"):
        AbcTokenizer.from_pretrained(tmp_path)
    loaded = AbcTokenizer.from_pretrained(tmp_path, padding_side="right")
    assert loaded.padding_side == "right" and loaded(KESH)["input_ids"].shape[0] == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"padding": False}, "different lengths"),  # tensors (the default) of them
        ({"padding": "max_length"}, "give max_length=N, or set tok.model_max_length"),
        ({"padding": "everything"}, "padding must be"),
        ({"truncation": False, "max_length": 5}, "contradicts"),
        ({"return_attention_mask": False}, "always returned"),
        ({"add_special_tokens": False}, "<start>"),
    ],
)
def test_keywords_it_cannot_honour_are_refused_with_the_reason(tokenizer, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tokenizer(TUNES, **kwargs)


def test_unknown_keywords_and_non_text_items_are_refused(tokenizer):
    with pytest.raises(TypeError, match="unexpected keyword argument 'text_pairs'"):
        tokenizer(KESH, text_pairs=KESH)
    with pytest.raises(TypeError, match=r"item 2 of the batch \(index 1\) is a list"):
        tokenizer([KESH, [KESH]])


def test_pad_batches_encoded_tunes_like_the_call(tokenizer):
    whole = tokenizer(TUNES)
    singles = [{k: v[0] for k, v in tokenizer(t).items()} for t in TUNES]
    padded = tokenizer.pad(singles, return_tensors="pt")
    for key in whole:
        assert torch.equal(padded[key], whole[key]), key
    # rows padded earlier (a batch of the dataset's map) are dropped first, as the mask says
    rows = [{k: v[i] for k, v in whole.items()} for i in range(len(TUNES))]
    again = tokenizer.pad(rows, pad_to_multiple_of=8, return_tensors="pt")
    assert again["input_ids"].shape[1] % 8 == 0
    assert torch.equal(again["attention_mask"].sum(1), whole["attention_mask"].sum(1))
    as_dict = tokenizer.pad({k: [r[k] for r in singles] for k in singles[0]}, return_tensors="pt")
    assert torch.equal(as_dict["input_ids"], whole["input_ids"])
    # no return_tensors: the features' kind (tensors here), as transformers' pad does
    assert torch.equal(tokenizer.pad(singles)["input_ids"], whole["input_ids"])
    as_lists = [{k: v.tolist() for k, v in single.items()} for single in singles]
    assert isinstance(tokenizer.pad(as_lists)["input_ids"], list)


def test_pad_batches_what_the_tokenizer_returns_for_each_tune(tokenizer):
    # `tok(abc)` is a BatchEncoding of one tune (batch dimension 1): the usual
    # "encode one by one, then pad" pattern, and transformers' padding collator on it
    from transformers import DataCollatorWithPadding

    whole = tokenizer(TUNES)
    for return_tensors in ("pt", None):
        singles = [tokenizer(t, return_tensors=return_tensors) for t in TUNES]
        padded = tokenizer.pad(singles, return_tensors="pt")
        for key in whole:
            assert torch.equal(padded[key], whole[key]), (return_tensors, key)
    batch = DataCollatorWithPadding(tokenizer)([tokenizer(t) for t in TUNES])
    assert torch.equal(batch["input_ids"], whole["input_ids"])
    # without return_tensors, the kind the features hold, as transformers' pad gives (nested
    # lists of tensors before)
    default = tokenizer.pad([tokenizer(t) for t in TUNES])
    assert torch.equal(default["input_ids"], whole["input_ids"])
    as_np = tokenizer.pad([tokenizer(t, return_tensors="np") for t in TUNES])
    assert isinstance(as_np["input_ids"], np.ndarray)
    as_lists = tokenizer.pad([tokenizer(t, return_tensors=None) for t in TUNES])
    assert isinstance(as_lists["input_ids"], list)


def test_pad_refuses_main_token_ids_and_left_padding(tokenizer):
    with pytest.raises(ValueError, match="main tokens only"):
        tokenizer.pad([{"input_ids": tokenizer.encode(KESH), "measure_numbers": [0]}])
    one = {k: v[0] for k, v in tokenizer(KESH).items()}
    with pytest.raises(ValueError, match="encoded tune 1 needs 'input_ids' and 'measure_numbers'"):
        tokenizer.pad([one, {"input_ids": one["input_ids"]}])
    # the main-token view (encode) is padded by transformers as before
    main = tokenizer.pad([{"input_ids": [4, 5, 6]}, {"input_ids": [4]}], return_tensors="pt")
    assert main["input_ids"].tolist() == [[4, 5, 6], [4, 0, 0]]
    with pytest.raises(ValueError, match="right only"):
        tokenizer.pad([{k: v[0] for k, v in tokenizer(KESH).items()}], padding_side="left")


def test_transformers_padding_collator_uses_the_tokenizer_pad(tokenizer):
    from transformers import DataCollatorWithPadding

    singles = [{k: v[0].tolist() for k, v in tokenizer(t).items()} for t in TUNES]
    batch = DataCollatorWithPadding(tokenizer)(singles)
    assert torch.equal(batch["input_ids"], tokenizer(TUNES)["input_ids"])
    assert torch.equal(batch["labels"], tokenizer(TUNES)["labels"])


def test_pad_of_no_tunes_says_so(tokenizer):
    # transformers' pad fails on an empty list with an AttributeError ('list' has no 'keys')
    for empty in ([], ()):
        with pytest.raises(ValueError, match="pad got no encoded tunes"):
            tokenizer.pad(empty)


def test_pad_to_max_length_uses_model_max_length_as_the_call_does(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    limited = AbcTokenizer.from_pretrained(tmp_path, model_max_length=120)
    singles = [{k: v[0] for k, v in limited(t).items()} for t in (KESH, MINOR_WITH_CHORD)]
    padded = limited.pad(singles, padding="max_length", return_tensors="pt")
    called = limited([KESH, MINOR_WITH_CHORD], padding="max_length")
    assert padded["input_ids"].shape == called["input_ids"].shape == (2, 120, len(FEATURE_NAMES))
    assert torch.equal(padded["attention_mask"], called["attention_mask"])
    with pytest.raises(ValueError, match="or set tok.model_max_length"):  # no limit anywhere
        tokenizer.pad(singles, padding="max_length")


def test_other_transformers_keywords_are_accepted_or_refused_with_the_reason(tokenizer):
    plain = tokenizer(TUNES)
    same = tokenizer(
        TUNES,
        None,  # text_pair, positional as in transformers
        verbose=False,
        return_token_type_ids=False,
        is_split_into_words=False,
        text_target=None,
        stride=0,
        return_overflowing_tokens=False,
        return_special_tokens_mask=False,
        return_offsets_mapping=False,
    )
    assert list(same) == list(plain)
    for key in plain:
        assert torch.equal(plain[key], same[key]), key
    assert tokenizer(KESH, return_token_type_ids=None)["input_ids"].shape[0] == 1
    refused = {
        "text_pair": (KESH, "one tune at a time"),
        "text_target": (KESH, "no target text"),
        "text_pair_target": (KESH, "one tune at a time"),
        "is_split_into_words": (True, "not a list of words"),
        "return_token_type_ids": (True, "no token types"),
        "stride": (4, "no overflowing windows"),
        "return_overflowing_tokens": (True, "no overflowing windows"),
        "return_special_tokens_mask": (True, "attention_mask marks the padding"),
        "return_offsets_mapping": (True, "no character offsets"),
    }
    for name, (value, why) in refused.items():
        with pytest.raises(ValueError, match=f"{name}=.* is not supported: .*{why}"):
            tokenizer(KESH, **{name: value})
    with pytest.raises(ValueError, match="one tune at a time"):
        tokenizer(KESH, KESH)


def test_return_length_gives_each_tunes_rows(tokenizer):
    enc = tokenizer(TUNES, return_length=True)
    assert torch.equal(enc["length"], enc["attention_mask"].sum(1))
    assert tokenizer(TUNES, max_length=12, return_length=True)["length"].tolist() == [12] * 3
    assert tokenizer(KESH, return_length=True, return_tensors=None)["length"] == int(
        enc["length"][0]
    )
    assert "length" not in tokenizer(KESH)


def test_return_length_counts_rows_before_padding_to_max_length(tokenizer):
    """As transformers' Python tokenizers give a batch's ``length``: the rows, not the padding."""
    enc = tokenizer(TUNES, padding="max_length", max_length=200, return_length=True)
    assert enc["input_ids"].shape[1] == 200
    assert torch.equal(enc["length"], enc["attention_mask"].sum(1))
    assert enc["length"].tolist() == tokenizer(TUNES, return_length=True)["length"].tolist()


def test_text_target_alone_is_refused_with_the_reason(tokenizer):
    """``tok(text_target=abc)``, transformers' way to encode labels: the keyword's reason, not
    Python's missing positional ``text``."""
    with pytest.raises(ValueError, match="text_target=.* is not supported: .*no target text"):
        tokenizer(text_target=KESH)
    with pytest.raises(TypeError, match="encodes ABC text, a string .* got NoneType"):
        tokenizer()


def test_padding_false_ignores_pad_to_multiple_of_as_transformers_does(tokenizer):
    # it padded to the multiple anyway: 16 rows for a tune of 10
    tune = "X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]"
    n = tokenizer(tune)["input_ids"].shape[1]
    assert n % 8 != 0
    for padding in (False, "do_not_pad"):
        enc = tokenizer([tune, tune], padding=padding, pad_to_multiple_of=8)
        assert enc["input_ids"].shape[1] == n and bool(enc["attention_mask"].all())
        single = {k: v[0] for k, v in tokenizer(tune).items()}
        padded = tokenizer.pad([single, single], padding=padding, pad_to_multiple_of=8)
        assert len(padded["input_ids"][0]) == n
    # transformers' own pad (the main-token view) leaves the ids as they are too
    main = tokenizer.pad({"input_ids": [[1, 4, 5]]}, padding=False, pad_to_multiple_of=8)
    assert main["input_ids"] == [[1, 4, 5]]
    assert tokenizer(tune, pad_to_multiple_of=8)["input_ids"].shape[1] == -(-n // 8) * 8


def test_padding_false_without_tensors_gives_unpadded_lists_for_a_collator(tokenizer):
    """``ds.map(lambda b: tok(b["abc"], padding=False, return_tensors=None), batched=True)``
    (dynamic padding, as in run_clm) was refused: "padding=False, but the tunes have different
    lengths". As in transformers, each tune's lists come back unpadded; a collator pads."""
    from datasets import Dataset
    from transformers import DataCollatorWithPadding

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    padded = tokenizer(TUNES)
    lengths = padded["attention_mask"].sum(1).tolist()
    assert len(set(lengths)) == 3
    enc = tokenizer(TUNES, padding=False, truncation=True, return_tensors=None)
    assert set(enc) == {"input_ids", "measure_numbers", "attention_mask", "labels"}
    for n, rows in enumerate(lengths):  # each tune as it is, its padded version cut to it
        for key in enc:
            assert enc[key][n] == padded[key][n, :rows].tolist(), key
    assert len(enc["input_ids"][0][0]) == len(FEATURE_NAMES)
    assert tokenizer(TUNES, padding="do_not_pad", return_tensors=None, return_length=True)[
        "length"
    ] == lengths  # fmt: skip
    with pytest.raises(ValueError, match="different lengths.*return_tensors=None gives"):
        tokenizer(TUNES, padding=False, return_tensors="np")

    ds = Dataset.from_dict({"abc": TUNES}).map(
        lambda b: tokenizer(b["abc"], padding=False, truncation=True, return_tensors=None),
        batched=True,
        remove_columns=["abc"],
    )
    assert [len(ids) for ids in ds["input_ids"]] == lengths
    model = MeasureNoteForCausalLM(tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes))
    for collator in (DataCollatorWithPadding(tokenizer), AbcDataCollator()):
        batch = collator(list(ds))
        for key in padded:
            assert torch.equal(batch[key], padded[key]), key
        assert torch.isfinite(model(**batch).loss)


def test_one_string_without_tensors_has_no_batch_axis_as_in_transformers(tokenizer):
    """``tok("one text", return_tensors=None)`` gives one text's lists in `transformers`
    (``tok(["t"])`` a batch of one); ours kept the batch axis: ``input_ids`` (1, rows, 20)."""
    batch = tokenizer([KESH], return_tensors=None, return_length=True)
    one = tokenizer(KESH, return_tensors=None, return_length=True)
    rows = len(batch["input_ids"][0])
    assert np.shape(one["input_ids"]) == (rows, len(FEATURE_NAMES))
    assert np.shape(one["measure_numbers"]) == np.shape(one["attention_mask"]) == (rows,)
    assert np.shape(one["labels"]) == (rows, 2)
    for key in ("input_ids", "measure_numbers", "attention_mask", "labels"):
        assert one[key] == batch[key][0], key
    assert one["length"] == rows and batch["length"] == [rows]  # an int, as transformers'
    unpadded = tokenizer(KESH, padding=False, return_tensors=None)
    assert unpadded["input_ids"] == one["input_ids"]
    padded = tokenizer(KESH, pad_to_multiple_of=64, return_tensors=None)
    assert len(padded["input_ids"]) == len(padded["attention_mask"]) == -(-rows // 64) * 64
    # tensors keep their batch axis of 1, as in transformers
    assert tokenizer(KESH)["input_ids"].shape == (1, rows, len(FEATURE_NAMES))
    assert tokenizer(KESH, return_tensors="np")["labels"].shape == (1, rows, 2)


def test_tunes_mapped_one_by_one_pad_and_feed_the_model(tokenizer):
    """``ds.map(lambda ex: tok(ex["abc"], return_tensors=None))`` (not batched) stores one
    tune's rows a row; the collators, and ``tok.pad`` of one such dict, take them."""
    from datasets import Dataset
    from transformers import DataCollatorWithPadding

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    ds = Dataset.from_dict({"abc": TUNES}).map(
        lambda ex: tokenizer(ex["abc"], return_tensors=None), remove_columns=["abc"]
    )
    whole = tokenizer(TUNES)
    assert [len(ids) for ids in ds["input_ids"]] == whole["attention_mask"].sum(1).tolist()
    model = MeasureNoteForCausalLM(tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes))
    for collator in (DataCollatorWithPadding(tokenizer), AbcDataCollator()):
        batch = collator(list(ds))
        for key in whole:
            assert torch.equal(batch[key], whole[key]), key
        assert torch.isfinite(model(**batch).loss)
    one = tokenizer(KESH, return_tensors=None, pad_to_multiple_of=64)
    assert tokenizer.pad(one) == tokenizer(KESH, return_tensors=None)  # one tune, as given
    assert tokenizer.pad(one, return_tensors="pt")["input_ids"].shape == (
        len(ds["input_ids"][0]),
        len(FEATURE_NAMES),
    )  # as transformers' pad of one text: no batch axis


def test_left_truncation_is_refused_as_left_padding_is(tokenizer, tmp_path):
    """truncation_side="left" was saved and ignored by tok(...), while encode honoured it."""
    with pytest.raises(ValueError, match=r"right only \(truncation_side='left'\).*give trunc"):
        AbcTokenizer(vocab=tokenizer.abc_vocab, truncation_side="left")
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="truncation_side='left'"):
        AbcTokenizer.from_pretrained(tmp_path, truncation_side="left")
    tok = AbcTokenizer.from_pretrained(tmp_path)
    first = tok(KESH)["input_ids"][0, :4, 0].tolist()
    assert tok.encode(KESH, max_length=6, truncation=True)[:4] == first  # the first rows
    assert tok(KESH, max_length=4)["input_ids"][0, :, 0].tolist() == first
    tok.truncation_side = "left"  # set after loading: refused where it would be used
    with pytest.raises(ValueError, match="truncation_side='left'"):
        tok(KESH, max_length=4)
    with pytest.raises(ValueError, match="truncation_side='left'"):
        tok.encode(KESH, max_length=4, truncation=True)


def test_padding_to_model_max_length_without_truncation(tokenizer, tmp_path):
    """``padding="max_length", truncation=False`` with only a model_max_length was refused as
    "max_length truncates...; truncation=False contradicts it", though no max_length was given;
    transformers (and tok.pad) pad to model_max_length."""
    tokenizer.save_pretrained(tmp_path)
    limited = AbcTokenizer.from_pretrained(tmp_path, model_max_length=40)
    short = "X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]"
    enc = limited([short], padding="max_length", truncation=False)
    assert enc["input_ids"].shape == (1, 40, len(FEATURE_NAMES))
    padded = limited.pad([{k: v[0] for k, v in limited(short).items()}], padding="max_length")
    for key in enc:
        assert torch.equal(enc[key], padded[key]), key
    assert limited(KESH, truncation=True)["input_ids"].shape[1] == 40  # truncation asked: cut
    with pytest.raises(ValueError, match="longer than max_length=40"):  # not cut: too long
        limited(KESH, padding="max_length", truncation=False)
    with pytest.raises(ValueError, match="contradicts"):  # a max_length given truncates
        limited([short], padding="max_length", truncation=False, max_length=40)


def test_encode_with_max_length_keeps_the_first_rows_as_the_call_does(tokenizer):
    """``encode(abc, max_length=6)`` cut the tokens, then added <end>: [1, 23, 27, 30, 35, 2],
    where ``tok(abc, max_length=6)`` keeps the first 6 rows, [1, 23, 27, 30, 35, 79]."""
    called = tokenizer(KESH, max_length=6)["input_ids"][0, :, 0].tolist()
    assert len(called) == 6 and 2 not in called  # no <end>: the tune goes on
    assert tokenizer.encode(KESH, max_length=6) == called
    assert tokenizer.encode(KESH, max_length=6, truncation=True) == called
    assert tokenizer.encode(KESH, max_length=6, return_tensors="pt").tolist() == [called]
    padded = tokenizer.encode(KESH, max_length=6, truncation=True, padding="max_length")
    assert padded == called
    ids = tokenizer.encode(KESH, add_special_tokens=False)
    out = tokenizer.prepare_for_model(
        ids, max_length=4, truncation=True, return_special_tokens_mask=True
    )
    assert out["input_ids"] == called[:4] and out["special_tokens_mask"] == [1, 0, 0, 0]
    whole = tokenizer.encode(KESH)  # no max_length: the whole tune, <start> to <end>
    assert whole == tokenizer(KESH)["input_ids"][0, :, 0].tolist() and whole[-1] == 2


def test_truncation_strategies_for_one_text_and_only_second_refused(tokenizer):
    """`transformers`' strategies were all refused as "truncation must be True or False" but
    "longest_first" and "only_first"; "only_second" (which cuts the second text of a pair) is
    refused saying so, by the call and by `encode`, which cut the tune with it."""
    from transformers.tokenization_utils_base import TruncationStrategy

    cut = tokenizer(KESH, max_length=6, truncation=True)["input_ids"]
    for strategy in ("longest_first", "only_first", TruncationStrategy.LONGEST_FIRST):
        assert torch.equal(tokenizer(KESH, max_length=6, truncation=strategy)["input_ids"], cut)
    for strategy in ("only_second", TruncationStrategy.ONLY_SECOND):
        with pytest.raises(ValueError, match=r"only_second.*not pairs of texts"):
            tokenizer(KESH, max_length=6, truncation=strategy)
        with pytest.raises(ValueError, match=r"only_second.*not pairs of texts"):
            tokenizer.encode(KESH, max_length=6, truncation=strategy)
    with pytest.raises(ValueError, match=r"truncation must be True \('longest_first'"):
        tokenizer(KESH, truncation="everything")


def test_only_second_refused_names_what_was_given(tokenizer):
    """Given as `TruncationStrategy.ONLY_SECOND`, the refusal said "truncation='only_second'",
    which the user had not written; it says what was given."""
    from transformers.tokenization_utils_base import TruncationStrategy

    with pytest.raises(ValueError, match=r"^truncation=<TruncationStrategy\.ONLY_SECOND"):
        tokenizer(KESH, truncation=TruncationStrategy.ONLY_SECOND)
    with pytest.raises(ValueError, match=r"^truncation='only_second' truncates"):
        tokenizer.encode(KESH, max_length=6, truncation="only_second")


def test_a_tune_longer_than_model_max_length_not_cut_is_warned_of_once(tokenizer, tmp_path, caplog):
    """``tok(tune)`` past ``model_max_length`` without truncation said nothing, where
    transformers' tokenizers (and our ``encode``, through them) warn once per tokenizer."""
    tokenizer.save_pretrained(tmp_path)
    limited = AbcTokenizer.from_pretrained(tmp_path, model_max_length=10)
    rows = len(tokenizer.encode_tune(KESH).input_ids)

    def said() -> list[str]:
        return [r.getMessage() for r in caplog.records if "maximum sequence" in r.getMessage()]

    with caplog.at_level(logging.WARNING):
        assert limited(KESH)["input_ids"].shape[1] == rows  # not cut
        assert said() == [
            "Token indices sequence length is longer than the specified maximum sequence length "
            f"for this model ({rows} > 10). Running this sequence through the model will result "
            "in indexing errors"
        ]
        limited([KESH, KESH])  # said once per tokenizer, as transformers does
        limited.encode(KESH)
    assert len(said()) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # cut, or told not to say: nothing said
        AbcTokenizer.from_pretrained(tmp_path, model_max_length=10)(KESH, truncation=True)
        AbcTokenizer.from_pretrained(tmp_path, model_max_length=10)(KESH, verbose=False)
    assert not said()
