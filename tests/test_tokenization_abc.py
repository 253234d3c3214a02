"""AbcTokenizer: encoding, save/load, decode round trip, and agreement with music21."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tokenization.features import FEATURE_NAMES
from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer, UnreadableRowsError

KESH = """X:1
T:The Kesh
R:jig
M:6/8
L:1/8
K:G
|:GAG GAB|ABA ABd|edd gdd|edB dBA|
GAG GAB|ABA ABd|edd gdB|1 AGF G2D:|2 AGF G2B||
|:d2e fef|gfe fed|(3Bcd B AGA|B2A G2B:|
"""

DORIAN_REEL = """X:2
T:Cooley's
R:reel
M:4/4
L:1/8
K:Edor
|:D2|EB{c}BA B2 EB|~B2 AB dBAG|FDAD BDAD|FDAD dAFD|
EBBA B2 EB|B2 AB defg|afeb afdB|1 AFDF E2:|2 AFDF E3||
"""

MINOR_WITH_CHORD = """X:3
T:Chords and rests
M:3/4
L:1/4
K:Bm
"Bm"B3/2 c/ d|[FA]2 z|^A/B/ c (3B/c/d/|e>f g|g<a b|b3|]
"""

TUNES = [KESH, DORIAN_REEL, MINOR_WITH_CHORD]


@pytest.fixture(scope="module")
def tokenizer() -> AbcTokenizer:
    return AbcTokenizer.train(TUNES)


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


def test_saved_tokenizer_records_the_package_version(tokenizer, tmp_path):
    import json

    import modeling_irish

    assert tokenizer.saved_with_version is None
    tokenizer.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["modeling_irish_version"] == modeling_irish.__version__
    config["modeling_irish_version"] = "0.0.1"  # a folder saved by an older release
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    again = AbcTokenizer.from_pretrained(tmp_path)
    assert again.saved_with_version == "0.0.1"
    again.save_pretrained(tmp_path / "resaved")
    resaved = json.loads((tmp_path / "resaved" / "tokenizer_config.json").read_text())
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


@pytest.mark.parametrize("key", ["D", "A", "Bb", "F#", "Eb"])
def test_decode_into_another_key(tokenizer, key):
    enc = tokenizer.encode_tune(KESH)
    abc = tokenizer.decode(enc.input_ids, key=key)
    assert f"K:{key}" in abc.replace(" ", "")
    again = tokenizer.encode_tune(abc)
    assert again.rows.rows() == enc.rows.rows()


def _music21_notes(abc: str) -> list[tuple[int | None, float]]:
    music21 = pytest.importorskip("music21")
    score = music21.converter.parse(abc, format="abc")
    out = []
    for element in score.flatten().notesAndRests:
        if element.isRest:
            out.append((None, float(element.quarterLength)))
        elif element.isChord:
            out.append((max(p.midi for p in element.pitches), float(element.quarterLength)))
        else:
            out.append((element.pitch.midi, float(element.quarterLength)))
    return out


def _our_notes(abc: str) -> list[tuple[int | None, float]]:
    from tokenization.abc_parser import parse_abc

    tokens = parse_abc(abc).tokens
    out, chord, factor, left = [], None, 1, 0
    for tok in tokens:
        if tok.kind == "tuplet":
            factor, left = tok.dur, int(tok.text[1:].split(":")[0])
        elif tok.kind == "chord_start":
            chord = []
        elif tok.kind == "chord_end":
            pitch, dur = max(p for p, _ in chord), chord[0][1]
            out.append((pitch, float(dur * 4 * (factor if left else 1))))
            left, chord = max(left - 1, 0), None
        elif tok.kind in ("note", "rest"):
            if chord is not None:
                chord.append((tok.pitch, tok.dur))
                continue
            out.append((tok.pitch, float(tok.dur * 4 * (factor if left else 1))))
            left = max(left - 1, 0)
    return out


@pytest.mark.parametrize("key", [None, "A", "Bb"])
def test_decoded_abc_reads_the_same_in_music21(tokenizer, key):
    for text in (KESH, MINOR_WITH_CHORD):
        enc = tokenizer.encode_tune(text)
        target = key if key is None or text is KESH else None
        abc = tokenizer.decode(enc.input_ids, key=target or enc.original_key)
        ours = _our_notes(abc)
        theirs = _music21_notes(abc)
        # music21 merges tied notes into one; we keep both, so compare untied tunes exactly
        assert [p for p, _ in theirs] == [p for p, _ in ours]
        assert [d for _, d in theirs] == pytest.approx([d for _, d in ours])


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
        json.dumps({**json.loads(config_file.read_text()), "padding_side": "left"})
    )
    with pytest.raises(ValueError, match="right only"):
        AbcTokenizer.from_pretrained(tmp_path)
    loaded = AbcTokenizer.from_pretrained(tmp_path, padding_side="right")
    assert loaded.padding_side == "right" and loaded(KESH)["input_ids"].shape[0] == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"padding": False}, "different lengths"),
        ({"padding": "max_length"}, "needs max_length"),
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


def test_adding_words_to_the_vocabulary_is_refused(tokenizer):
    size = len(tokenizer)
    with pytest.raises(NotImplementedError, match="AbcTokenizer.train"):
        tokenizer.add_tokens(["newtok"])
    assert len(tokenizer) == size
    assert tokenizer.add_tokens([]) == 0


def test_decode_says_what_to_give_it(tokenizer):
    with pytest.raises(ValueError, match="main tokens alone"):
        tokenizer.decode(tokenizer.encode(KESH))
    with pytest.raises(ValueError, match="batch_decode"):
        tokenizer.decode(tokenizer(TUNES)["input_ids"])
    texts = tokenizer.batch_decode(tokenizer(TUNES)["input_ids"])
    assert [tokenizer(t)["input_ids"].shape[1] for t in texts] == [
        int(n) for n in tokenizer(TUNES)["attention_mask"].sum(1)
    ]


def test_return_tensors_np_none_and_bad(tokenizer):
    as_np = tokenizer(TUNES, return_tensors="np")
    as_pt = tokenizer(TUNES)
    assert isinstance(as_np["input_ids"], np.ndarray)
    np.testing.assert_array_equal(as_np["input_ids"], as_pt["input_ids"].numpy())
    assert isinstance(tokenizer(KESH, return_tensors=None)["input_ids"], list)
    with pytest.raises(ValueError, match="return_tensors"):
        tokenizer(KESH, return_tensors="tf")


def test_bad_calls_say_what_is_wrong(tokenizer):
    with pytest.raises(ValueError, match="no tunes"):
        tokenizer([])
    with pytest.raises(ValueError, match="max_length"):
        tokenizer(KESH, max_length=-1)
    with pytest.raises(ValueError, match="no rows"):
        tokenizer.decode(np.zeros((3, len(FEATURE_NAMES)), dtype=np.int64))
    tokenizer.padding_side = "left"
    try:
        with pytest.raises(ValueError, match="right"):
            tokenizer(KESH)
    finally:
        tokenizer.padding_side = "right"


def test_a_broken_vocabulary_file_is_named(tmp_path):
    from tokenization.vocabulary import AbcVocab

    (tmp_path / "abc_vocab.json").write_text("{not json")
    with pytest.raises(ValueError, match="abc_vocab.json: not a vocabulary JSON"):
        AbcVocab.load(tmp_path / "abc_vocab.json")


def test_a_text_with_several_tunes_is_refused_not_cut_to_the_first(tokenizer):
    from tokenization.abc_parser import AbcParseError

    book = KESH + "\n\n" + KESH.replace("X:1", "X:2", 1)
    with pytest.raises(AbcParseError, match="2 tunes in one text"):
        tokenizer.encode_tune(book)
    with pytest.raises(AbcParseError, match="give one tune per string"):
        tokenizer(book)
    assert len(tokenizer([KESH, KESH])["input_ids"]) == 2


def test_clear_errors_for_a_missing_folder_a_bad_vocabulary_file_and_an_unknown_id(tokenizer):
    with pytest.raises(OSError, match="/no/such/folder: no such folder"):
        AbcTokenizer.from_pretrained("/no/such/folder")
    with pytest.raises(ValueError, match="not a vocabulary JSON file"):
        AbcTokenizer(vocab_file="/bin/ls")
    with pytest.raises(ValueError, match="is not in the vocabulary"):
        tokenizer.decode([[999999] * 20])
    # the rows are read by list lookups: a negative or too large id of a readable row is still
    # refused by name (a negative one would index a list from its end)
    rows = tokenizer.encode_tune(KESH).input_ids.copy()
    for column, value in ((1, -1), (1, 10**6), (0, 10**6)):
        bad = rows.copy()
        bad[5, column] = value
        with pytest.raises(ValueError, match=f"id {value} of feature '(main|dur)' is not in"):
            tokenizer.decode(bad)


def test_a_mistyped_path_is_said_to_be_no_folder_and_no_hub_repository(
    tokenizer, tmp_path, monkeypatch
):
    """``from_pretrained("runs/measurenote-smal")`` (a typo) said the folder "holds no
    abc_vocab.json", blaming a folder that does not exist."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.chdir(tmp_path)
    hub = tmp_path / "hub"
    (tmp_path / "runs" / "empty").mkdir(parents=True)
    with pytest.raises(OSError, match="runs/measurenote-smal: no such folder, and not found on "
                       "the Hub: the Hub's cache .offline.*runs/ is a folder here"):  # fmt: skip
        AbcTokenizer.from_pretrained("runs/measurenote-smal", cache_dir=hub)
    with pytest.raises(OSError, match="runs/m/step_1: no such folder, and not a Hub repository"):
        AbcTokenizer.from_pretrained("runs/m/step_1", cache_dir=hub)
    with pytest.raises(OSError, match="runs/empty holds no abc_vocab.json"):
        AbcTokenizer.from_pretrained("runs/empty", cache_dir=hub)
    # a Hub repository id still loads (from a cache laid out as huggingface_hub lays it out)
    repo = hub / "models--someone--abc"
    tokenizer.save_pretrained(repo / "snapshots" / ("0" * 40))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    assert AbcTokenizer.from_pretrained("someone/abc", cache_dir=hub) == tokenizer


def test_save_pretrained_with_push_to_hub_saves_before_it_uploads(tokenizer, tmp_path, monkeypatch):
    """transformers' save_pretrained(push_to_hub=True) creates the Hub repository before it
    writes anything: with no network the folder was left without the vocabulary."""
    import copy

    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # every Hub request fails
    with pytest.raises(OSError, match="offline"):
        tokenizer.save_pretrained(tmp_path / "tok", push_to_hub=True, commit_message="m")
    assert AbcTokenizer.from_pretrained(tmp_path / "tok") == tokenizer
    pushed = []
    tok = copy.deepcopy(tokenizer)

    def push(repo_id, **kwargs):
        pushed.append((repo_id, kwargs, (tmp_path / "hub" / "abc_vocab.json").is_file()))

    monkeypatch.setattr(tok, "push_to_hub", push)
    tok.save_pretrained(tmp_path / "hub", push_to_hub=True, commit_message="m", repo_id="me/t")
    tok.save_pretrained(tmp_path / "hub", None, None, True)  # by position
    assert pushed == [("me/t", {"commit_message": "m"}, True), ("hub", {}, True)]


def test_special_tokens_outside_the_vocabulary_are_refused(tokenizer, tmp_path):
    # a new pad token got id len(vocab), past the model's table, and batches still padded with 0
    with pytest.raises(NotImplementedError, match="cannot add the special token '<p2>'"):
        tokenizer.add_special_tokens({"pad_token": "<p2>"})
    assert tokenizer.pad_token_id == 0 and len(tokenizer) == tokenizer.vocab_size
    assert tokenizer.add_special_tokens({"pad_token": "<pad>"}) == 0  # what it has: accepted
    tokenizer.save_pretrained(tmp_path)
    assert AbcTokenizer.from_pretrained(tmp_path).pad_token_id == 0


def test_decode_refuses_a_meter_its_vocabulary_never_had_unless_given():
    # the rows of a 2/4 tune from a tokenizer trained on 4/4 only carry meter <unk>: it was
    # written as M:<unk>, which no reader takes
    tok = AbcTokenizer.train(["X:1\nM:4/4\nL:1/8\nK:D\nDFAd fdAF|d2f2 d2f2|]"])
    rows = tok(["X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]"])["input_ids"][0]
    with pytest.raises(UnreadableRowsError, match="the rows' meter is <unk>"):
        tok.decode(rows)
    assert "\nM:2/4\n" in tok.decode(rows, meter="2/4")


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
    with pytest.raises(ValueError, match="needs max_length"):  # no limit anywhere
        tokenizer.pad(singles, padding="max_length")


def test_convert_ids_to_tokens_of_a_batch_says_to_convert_each_tune(tokenizer):
    batch = tokenizer([KESH, MINOR_WITH_CHORD])["input_ids"]  # (2, rows, 20)
    for ids in (batch, batch.numpy(), batch.tolist(), [[4, 5], [4]]):
        with pytest.raises(ValueError, match="convert each tune"):
            tokenizer.convert_ids_to_tokens(ids)
    with pytest.raises(ValueError, match=r"got \(2, 3\)"):
        tokenizer.convert_ids_to_tokens([[4, 5, 6], [4, 5, 6]])
    tokens = [tokenizer.convert_ids_to_tokens(t) for t in batch]
    assert tokens[0][0] == "<start>" and tokens[0] == tokenizer.convert_ids_to_tokens(batch[0])
    assert tokenizer.convert_ids_to_tokens(batch[0].tolist()) == tokens[0]  # rows as lists


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
    assert tokenizer(KESH, return_length=True, return_tensors=None)["length"] == [
        int(enc["length"][0])
    ]
    assert "length" not in tokenizer(KESH)


def test_a_parse_error_in_a_batch_names_the_item(tokenizer):
    from tokenization.abc_parser import AbcParseError

    bad = "X:9\nT:Broken\nK:G\nGAB|\n>A|\n"
    with pytest.raises(AbcParseError) as alone:
        tokenizer(bad)
    assert "of the batch" not in str(alone.value)
    with pytest.raises(AbcParseError, match=r"item 3 of the batch \(index 2\)") as info:
        tokenizer([KESH, KESH, bad])
    assert (info.value.tune, info.value.line, info.value.column) == (
        alone.value.tune,
        alone.value.line,
        alone.value.column,
    )
    assert str(info.value).startswith(str(alone.value))
    with pytest.raises(AbcParseError, match=r"no notes \(item 3 of the batch"):
        tokenizer([KESH, KESH, ""])
    # bar lines around chord symbols were encoded as 3 rows (<start>, |], <end>)
    with pytest.raises(AbcParseError, match="no notes: bar lines but no note or rest"):
        tokenizer.encode_tune('X:1\nT:Chords only\nM:4/4\nK:G\n"G" "D" | "Em" "C" |]\n')


@pytest.mark.parametrize(
    ("body", "row"),
    [
        ("|:DFAd|f2d2|1 dAFA:|2 dAFD|3 DDDD|]", 19),  # a third ending: "|3"
        ("(3:2:4DDDD d2|DFAd|]", 1),  # a tuplet "(3:2:4"
    ],
)
def test_decode_refuses_a_main_token_its_vocabulary_never_had(body, row):
    # <unk> main rows were skipped with <pad>/<start>/<end>: the ending's bars merged
    # ("dAFDDDDD") and the tuplet's notes lost their scaling, without a word
    tok = AbcTokenizer.train(["X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]"])
    rows = tok("X:1\nM:2/4\nL:1/8\nK:D\n" + body)["input_ids"][0]
    assert tok.convert_ids_to_tokens(rows)[row] == "<unk>"
    for skip in (False, True):
        with pytest.raises(UnreadableRowsError, match=rf"^row {row}: its main token .*<unk>"):
            tok.decode(rows, key="D", skip_special_tokens=skip)
    with pytest.raises(UnreadableRowsError, match=rf"^row {row}: "):
        tok.ids_to_tokens(rows)
    known = tok(["X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]", "X:1\nM:2/4\nL:1/8\nK:D\nd2|]"])
    for ids in known["input_ids"]:  # <pad>, <start> and <end> rows are still left out
        assert tok.decode(ids, skip_special_tokens=True) == tok.decode(ids)
        assert "<" not in tok.decode(ids)


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


def test_a_decode_error_in_a_batch_names_the_item(tokenizer):
    minor = tokenizer([KESH, MINOR_WITH_CHORD])["input_ids"]
    with pytest.raises(ValueError, match="minor tune in D major$"):
        tokenizer.decode(minor[1], key="D")
    with pytest.raises(
        ValueError, match=r"minor tune in D major \(item 2 of the batch \(index 1\)\)"
    ):
        tokenizer.batch_decode(minor, key="D")
    tok = AbcTokenizer.train(["X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]"])
    unknown = tok(["X:1\nM:2/4\nL:1/8\nK:D\nDFAd|]", "X:1\nM:2/4\nL:1/8\nK:D\n(3:2:4DDDD d2|]"])
    with pytest.raises(
        UnreadableRowsError, match=r"^row 1: .*\(item 2 of the batch \(index 1\)\)$"
    ):
        tok.batch_decode(unknown["input_ids"], key="D")
    # what no tune could be written with is the call's error, not an item's
    for bad in ({"key": "H"}, {"register": "up"}):
        with pytest.raises(ValueError) as info:
            tokenizer.batch_decode(minor, **bad)
        assert "of the batch" not in str(info.value)
    assert tokenizer.batch_decode(minor[:1], key="G") == [tokenizer.decode(minor[0], key="G")]


TWO_PARTS = "X:1\nT:Two parts\nM:6/8\nL:1/8\nK:G\n|:GAG GAB:|\n\n|:edd gdd:|"


def test_what_the_reader_leaves_out_is_logged_naming_the_item(tokenizer, caplog):
    import logging

    from tokenization.dataset import tokenize_batch

    name = "tokenization.tokenization_abc"
    with caplog.at_level(logging.WARNING, logger=name):
        tokenizer([KESH, TWO_PARTS])
    (record,) = [r for r in caplog.records if r.name == name]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "item 2 of the batch (index 1) 'Two parts'" in message
    assert "after the blank line 7 not read" in message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=name):
        tokenizer(TWO_PARTS)
        assert "the tune 'Two parts'" in caplog.records[-1].getMessage()
        caplog.clear()
        tokenizer(TWO_PARTS, verbose=False)  # silenced on request
        tokenize_batch({"abc": [TWO_PARTS] * 3}, tokenizer)  # the dataset path counts instead
        tokenizer(KESH)  # nothing to say
    assert not [r for r in caplog.records if r.name == name]


def test_train_refuses_one_string_and_a_corpus_it_cannot_read(caplog):
    import logging

    with pytest.raises(TypeError, match="one string a tune .*not one str"):
        AbcTokenizer.train(KESH)
    with pytest.raises(TypeError, match="not one bytes"):
        AbcTokenizer.train(KESH.encode())
    with pytest.raises(ValueError, match=r"none of the 2 tunes .*tune 1 \(index 0\): .*no notes"):
        AbcTokenizer.train(["X:1\nT:Empty\nK:G\n", "hello world"])
    with pytest.raises(ValueError, match="no tunes"):
        AbcTokenizer.train([])
    with caplog.at_level(logging.WARNING, logger="tokenization.tokenization_abc"):
        tok = AbcTokenizer.train([KESH, "hello world", DORIAN_REEL])
    assert tok == AbcTokenizer.train([KESH, DORIAN_REEL])
    (message,) = [r.getMessage() for r in caplog.records]
    assert "1 of 3 tunes could not be read" in message
    assert "tune 2 (index 1): " in message and "'hello' reads as text" in message


def test_decode_and_batch_decode_refuse_unknown_keywords(tokenizer):
    ids = tokenizer(KESH)["input_ids"]
    plain = tokenizer.decode(ids[0])
    same = tokenizer.decode(ids[0], skip_special_tokens=True, clean_up_tokenization_spaces=True)
    assert same == plain
    assert tokenizer.batch_decode(ids, skip_special_tokens=True) == [plain]
    with pytest.raises(TypeError, match=r"decode\(\) got an unexpected keyword argument 'keyy'"):
        tokenizer.decode(ids[0], keyy="G")
    for batch in (ids, []):  # refused before the first tune, so for no tunes too
        with pytest.raises(TypeError, match=r"batch_decode\(\) got an unexpected .* 'keyy'"):
            tokenizer.batch_decode(batch, keyy="G")


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


def test_decode_refuses_a_meter_the_reader_would_refuse(tokenizer):
    """meter="banana" was written as M:banana, which the reader then refused."""
    from tokenization.tokenization_abc import read_tune

    ids = tokenizer(KESH)["input_ids"]
    for bad in ("banana", "0/8"):
        with pytest.raises(ValueError, match=f"meter='{bad}': .*give an M: value"):
            tokenizer.decode(ids[0], meter=bad)
        with pytest.raises(ValueError, match=f"meter='{bad}'") as info:
            tokenizer.batch_decode(ids, meter=bad)
        assert "of the batch" not in str(info.value)  # refused before the first tune
    with pytest.raises(TypeError, match="got int"):
        tokenizer.decode(ids[0], meter=68)
    for meter, read in (("C", "4/4"), ("3/4", "3/4"), ("none", None)):
        assert read_tune(tokenizer.decode(ids[0], meter=meter))[0].meter == read


@pytest.mark.parametrize("key", ["E phrygian", "B phrygian"])
def test_decode_writes_a_key_the_vocabulary_never_had_when_given(tokenizer, key):
    """The rows of a phrygian tune from a tokenizer trained on major, dorian and minor tunes
    carry key <unk>; decode refused it even with key= given, which meter= already allows."""
    from tokenization.tokenization_abc import read_tune

    tune = f"X:1\nT:Phr\nM:4/4\nL:1/8\nK:{key}\nEFGA B2 AG|FE E6|]"
    ids = tokenizer(tune)["input_ids"][0]
    assert tokenizer.abc_vocab.token("key", int(ids[0, FEATURE_NAMES.index("key")])) == "<unk>"
    with pytest.raises(UnreadableRowsError, match=r"key is <unk>.*decode\(ids, key="):
        tokenizer.decode(ids)
    written = tokenizer.decode(ids, key=key)
    again, source = read_tune(written)[0], read_tune(tune)[0]
    assert again.key == source.key and again.tokens == source.tokens  # the pitches read back
    assert tokenizer.batch_decode(ids[None], key=key) == [written]
    with pytest.raises(ValueError, match="cannot read key"):
        tokenizer.decode(ids, key="H")


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
