"""AbcTokenizer's decode: into another key, read the same by music21, and the keys, meters,
tokens and keywords it refuses or writes only when given."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenization_abc_helpers import (
    KESH,
    MINOR_WITH_CHORD,
    TUNES,
    abc_tokenizer,  # noqa: F401 (the tokenizer fixture)
)

from tokenization.abc_parser import AbcParseError, parse_abc
from tokenization.features import FEATURE_NAMES
from tokenization.tokenization_abc import AbcTokenizer, UnreadableRowsError


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


def test_decode_says_what_to_give_it(tokenizer):
    with pytest.raises(ValueError, match="main tokens alone"):
        tokenizer.decode(tokenizer.encode(KESH))
    texts = tokenizer.batch_decode(tokenizer(TUNES)["input_ids"])
    assert [tokenizer(t)["input_ids"].shape[1] for t in texts] == [
        int(n) for n in tokenizer(TUNES)["attention_mask"].sum(1)
    ]


def test_decode_of_a_batch_and_batch_decode_of_one_tune_are_as_in_transformers(tokenizer):
    """transformers 5's ``decode`` takes a batch too, giving a list (``batch_decode`` is kept for
    backwards compatibility), and ``batch_decode`` of one sequence gives a list of one text:
    ``decode(tok(abcs)["input_ids"])`` said "use batch_decode", and ``batch_decode`` of one
    tune's rows failed on its first row, "got 1-D ids (20,) (item 1 of the batch)"."""
    ids = tokenizer(TUNES)["input_ids"]
    texts = tokenizer.batch_decode(ids, title="t")
    assert len(texts) == 3 and tokenizer.decode(ids, title="t") == texts
    ragged = [tokenizer(t)["input_ids"][0] for t in TUNES]  # tunes of different lengths
    assert tokenizer.decode(ragged, title="t") == texts
    assert tokenizer.decode(ids.tolist(), title="t") == texts
    assert tokenizer.decode(ids[:1]) == [tokenizer.decode(ids[0])]
    assert tokenizer.batch_decode(ids[0]) == [tokenizer.decode(ids[0])]
    assert tokenizer.batch_decode(ids[0].tolist()) == [tokenizer.decode(ids[0])]
    with pytest.raises(ValueError, match=r"dorian tune in D major \(item 2 of the batch"):
        tokenizer.decode(ids, key="D")
    with pytest.raises(ValueError, match="main tokens alone"):
        tokenizer.batch_decode(tokenizer.encode(KESH))


def test_batch_decode_refuses_a_batch_of_batches(tokenizer):
    """4-D ids (a batch of batches) gave a list of lists from ``batch_decode`` and ``decode``,
    not the list of texts their signatures promise: each item went to ``decode``, which takes
    a batch too. They are refused, naming the item."""
    ids = tokenizer(TUNES)["input_ids"]
    for batches in (ids.unsqueeze(0), [ids.tolist()]):
        for call in (tokenizer.batch_decode, tokenizer.decode):
            with pytest.raises(ValueError, match=r"item 1 of the batch .*holds several tunes"):
                call(batches)


def test_decode_refuses_a_meter_its_vocabulary_never_had_unless_given():
    # the rows of a 2/4 tune from a tokenizer trained on 4/4 only carry meter <unk>: it was
    # written as M:<unk>, which no reader takes
    tok = AbcTokenizer.train(["X:1\nM:4/4\nL:1/8\nK:D\nDFAd fdAF|d2f2 d2f2|]"])
    rows = tok(["X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]"])["input_ids"][0]
    with pytest.raises(UnreadableRowsError, match="the rows' meter is <unk>"):
        tok.decode(rows)
    assert "\nM:2/4\n" in tok.decode(rows, meter="2/4")


@pytest.mark.parametrize(
    ("meter", "body"),
    [("9/8", "(5DEFGA def ABc |]"), ("3/4", "(5:3:5DEFGAdefABc |]"), ("6/8", "(5DEFGAdefABc |]")],
)
def test_decode_keeps_the_tuplet_lengths_of_rows_whose_meter_is_unk(meter, body):
    # the tuplet was read with the <unk> meter's rule (not compound): 9/8's `(5` (5 notes in the
    # time of 3) came back `(5:2:5`, the bar 8 eighths long, without a word; the rows'
    # `is_compound` says how they were encoded, and the meter asked for only sets `M:`
    tok = AbcTokenizer.train(["X:1\nM:2/4\nL:1/8\nK:D\nDEFG|AB|]\n"])
    src = "X:1\nM:9/8\nL:1/8\nK:D\n(5DEFGA def ABc|]\n"
    rows = tok.encode_tune(src).input_ids
    text = tok.decode(rows, key="D", meter=meter)
    assert text.endswith(f"\nM:{meter}\nL:1/8\nK:D\n{body}\n")
    played = [[(t.kind, t.pitch, t.dur) for t in parse_abc(abc).tokens] for abc in (text, src)]
    assert played[0] == played[1]  # the same lengths (`(5:3:5` in 3/4 is 9/8's `(5`)


def test_decode_reads_15_8_rows_as_compound_where_their_meter_is_unk():
    # 15/8 is compound (ABC 2.1 4.13: a multiple of 3 above 3), `(5` 5 notes in the time of 3;
    # with its meter and numerator <unk> the rows' `is_compound` column (numerators 6, 9, 12
    # only) said simple, and the tuplet came back 2 eighths long, the bar 14
    tok = AbcTokenizer.train(["X:1\nM:2/4\nL:1/8\nK:D\nDEFG|AB|]\n"])
    src = "X:1\nM:15/8\nL:1/8\nK:D\n(5DEFGA def ABc dcB AFD|]\n"
    rows = tok.encode_tune(src).input_ids
    text = tok.decode(rows, key="D", meter="15/8")
    assert text.endswith("\nM:15/8\nL:1/8\nK:D\n(5DEFGA def ABc dcB AFD |]\n")
    played = [[(t.kind, t.pitch, t.dur) for t in parse_abc(abc).tokens] for abc in (text, src)]
    assert played[0] == played[1]


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


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda m: np.delete(np.arange(len(m)), m.index("[")), "row 4: ']' closes no chord"),
        (
            lambda m: np.delete(np.arange(len(m)), m.index("]")),
            "row 6: bar line '|' inside a chord (the chord opened at row 2)",
        ),
        (
            lambda m: [0, 1, 2, 3, 4, len(m) - 1],  # cut inside the chord
            "row 2: '[' never closed: the tune ends inside its chord",
        ),
    ],
)
def test_decode_refuses_chord_rows_no_abc_holds(edit, said):
    # were written without a word as `C2C2E2[]E4 | G8 |]` (readers refuse the empty chord),
    # `C2 |  |]` (the bar line moved in front of a chord never closed, which swallows the rest
    # of the tune: one note read back) and `C2[CE]` (one note read back)
    abc = "X:1\nM:4/4\nL:1/8\nK:C\nC2 [CE]2 E4|G8|]\n"
    tok = AbcTokenizer.train([abc])
    ids = tok.encode_tune(abc).input_ids
    rows = ids[edit(tok.convert_ids_to_tokens(ids))]
    message = "^" + re.escape(said + ", so the rows cannot be written as ABC") + "$"
    with pytest.raises(UnreadableRowsError, match=message):
        tok.decode(rows, key="C")
    with pytest.raises(UnreadableRowsError, match=message):
        tok.ids_to_tokens(rows)
    assert tok.decode(ids, key="C").endswith("C2[CE]2 E4 | G8 |]\n")  # the rows as encoded


_ROWS_ABC = "X:1\nM:6/8\nL:1/8\nK:D\n|:(3DEF GAB|(2AB z c3|[DF]2A ^c2d:|1 dcB A3:|2 d6|]\n"
_ROWS_TOK = AbcTokenizer.train([_ROWS_ABC])
_ROWS_IDS = _ROWS_TOK.encode_tune(_ROWS_ABC).input_ids  # <start>, the tune's rows, <end>


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, len(_ROWS_IDS) - 2), max_size=8))
def test_decoded_rows_read_back_or_are_refused(picks):
    # any sequence of a tune's rows: decode writes ABC our reader reads, or says why not; rows
    # of tuplet marks and bar lines only were written as a tune of no notes (`(3 |`), which
    # the reader refuses ("tune has no notes")
    rows = _ROWS_IDS[[0, *picks, len(_ROWS_IDS) - 1]]
    try:
        text = _ROWS_TOK.decode(rows)
    except UnreadableRowsError:
        return
    try:
        parse_abc(text)
    except AbcParseError as err:
        pytest.fail(f"{_ROWS_TOK.convert_ids_to_tokens(rows)} decoded to {text!r}: {err}")


@pytest.mark.parametrize("kept", [(), ("(3",), ("|:", "(3", "(2", "|"), (":|1", ":|2")])
def test_decode_refuses_rows_with_no_note_or_rest(kept):
    mains = _ROWS_TOK.convert_ids_to_tokens(_ROWS_IDS)
    rows = _ROWS_IDS[[i for i, m in enumerate(mains) if m in ("<start>", "<end>", *kept)]]
    message = (
        r"^the rows hold no note or rest \(.*\), so they are no tune: their ABC would not read"
    )
    with pytest.raises(UnreadableRowsError, match=message):
        _ROWS_TOK.decode(rows)
    with pytest.raises(UnreadableRowsError, match=message + r".* \(item 2 of the batch"):
        _ROWS_TOK.batch_decode([_ROWS_IDS, rows])
    rests = [i for i, m in enumerate(mains) if m in ("<start>", "<end>", "z", *kept)]
    assert "z" in _ROWS_TOK.decode(_ROWS_IDS[rests])  # a rest is music: the reader reads it


@pytest.mark.parametrize(("dur_id", "dur"), [(0, "<pad>"), (1, "<start>"), (2, "<end>")])
def test_decode_refuses_a_note_whose_length_is_a_special_id(dur_id, dur):
    # was "ValueError: Invalid literal for Fraction: '<pad>'", with no row; an <unk> length
    # already named its row
    tok = AbcTokenizer.train(["X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]"])
    ids = tok("X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]", return_tensors="np")["input_ids"][0]
    ids[2, 1] = dur_id
    the_note = r"the note E \(ABC in the normalised key, C major\)"
    with pytest.raises(UnreadableRowsError, match=rf"^row 2: the length of {the_note} is {dur}, "):
        tok.decode(ids)
    ids[2, 1] = 3
    with pytest.raises(UnreadableRowsError, match=r"^row 2: .* \(<unk>\), so the rows cannot"):
        tok.decode(ids)


def _padded(ids: np.ndarray, side: str, count: int = 3) -> np.ndarray:
    """``ids`` with ``count`` <pad> rows (all 0) on the ``side`` given ("left" or "right")."""
    pad = np.zeros((count, ids.shape[1]), dtype=ids.dtype)
    return np.concatenate([pad, ids] if side == "left" else [ids, pad])


@pytest.mark.parametrize("side", ["left", "right"])
def test_decode_errors_number_the_rows_as_given_padding_counted(side):
    # decode dropped the <pad> rows before numbering: behind 3 leading <pad> rows, "row 2"
    # was row 5 of the ids given (ids_to_tokens, which skips them, already said "row 5")
    abc = "X:1\nM:4/4\nL:1/8\nK:C\nC2 [CE]2 E4|G8|]\n"
    tok = AbcTokenizer.train([abc])
    ids = np.asarray(tok.encode_tune(abc).input_ids)
    shift = 3 if side == "left" else 0
    unknown, no_length = ids.copy(), ids.copy()
    unknown[2, 0], no_length[1, 1] = 3, 3  # an <unk> main; a note whose length is <unk>
    unclosed = ids[[0, 1, 2, 3, 4, len(ids) - 1]]  # cut inside the chord
    for rows, said in (
        (unknown, f"row {2 + shift}: its main token is not in"),
        (no_length, f"row {1 + shift}: the length of the note C (ABC in the normalised key, C "),
        (unclosed, f"row {2 + shift}: '[' never closed"),
    ):
        for read in (tok.decode, tok.ids_to_tokens):
            with pytest.raises(UnreadableRowsError, match="^" + re.escape(said)):
                read(_padded(rows, side))


def test_left_padded_rows_read_their_meter_from_the_tune_not_the_padding():
    # ids_to_tokens read the meter of its first row, a <pad> one behind left padding: a 6/8
    # tune's `(5` (5 notes in the time of 3) was read as in the time of 2
    abc = "X:1\nM:6/8\nL:1/8\nK:D\n(5DEFGA B|d6|]\n"
    tok = AbcTokenizer.train([abc])
    ids = np.asarray(tok.encode_tune(abc).input_ids)
    assert tok.ids_to_tokens(_padded(ids, "left")) == tok.ids_to_tokens(ids)
    assert tok.decode(_padded(ids, "left")) == tok.decode(ids)


def test_an_unknown_length_names_the_note_as_abc_not_its_pitch_number():
    # was "the length of 'pitch64' is not in ...": an internal pitch number a user cannot place
    tok = AbcTokenizer.train(["X:1\nM:2/4\nL:1/8\nK:D\nDFAd|^g2 z2|]"])
    ids = tok("X:1\nM:2/4\nL:1/8\nK:D\nDFAd|^g2 z2|]", return_tensors="np")["input_ids"][0]
    mains = tok.convert_ids_to_tokens(ids[:, 0].tolist())
    note, rest = mains.index("pitch78"), mains.index("z")  # ^g in D is ^f once in C
    ids[[note, rest], 1] = 3  # <unk>
    message = rf"^row {note}: the length of the note \^f \(ABC in the normalised key, C major\)"
    with pytest.raises(UnreadableRowsError, match=message + r" is not in this tokenizer's"):
        tok.decode(ids)
    ids[note, 1] = ids[2, 1]  # a known length (D, row 2): the rest is the first unreadable row
    with pytest.raises(UnreadableRowsError, match=rf"^row {rest}: the length of a rest \(z\) is"):
        tok.decode(ids)
    assert "pitch" not in str(pytest.raises(UnreadableRowsError, tok.ids_to_tokens, ids).value)


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


def test_decode_and_batch_decode_refuse_unknown_keywords(tokenizer):
    ids = tokenizer(KESH)["input_ids"]
    plain = tokenizer.decode(ids[0])
    same = tokenizer.decode(ids[0], skip_special_tokens=True, clean_up_tokenization_spaces=True)
    assert same == plain
    assert tokenizer.batch_decode(ids, skip_special_tokens=True) == [plain]
    # named as tok(...) names its own (`AbcTokenizer.__call__() got ...`), with what it takes:
    # Python's own error named the mixin class, `RowsToAbc.decode() got ...`
    takes = "(it takes key, title, x, register, meter, skip_special_tokens, "
    with pytest.raises(TypeError) as info:
        tokenizer.decode(ids[0], keyy="G")
    said = "AbcTokenizer.decode() got an unexpected keyword argument 'keyy' " + takes
    assert str(info.value).startswith(said)
    with pytest.raises(TypeError, match=r"^AbcTokenizer\.decode\(\) got unexpected keyword argu"):
        tokenizer.decode(ids[0], keyy="G", foo=1)  # ... arguments 'keyy', 'foo' (it takes ...
    for batch in (ids, []):  # refused before the first tune, so for no tunes too
        with pytest.raises(TypeError) as info:
            tokenizer.batch_decode(batch, keyy="G")
        said = "AbcTokenizer.batch_decode() got an unexpected keyword argument 'keyy' " + takes
        assert str(info.value).startswith(said)


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
    """The rows of a phrygian tune from a tokenizer without phrygian keys (one saved before
    every mode was a fixed value of the vocabulary) carry key <unk>; decode refused it even
    with key= given, which meter= already allows."""
    from tokenization.tokenization_abc import read_tune
    from tokenization.vocabulary import AbcVocab

    values = dict(tokenizer.abc_vocab.values)
    for feature in ("key", "mode"):
        values[feature] = [v for v in values[feature] if not v.endswith("phrygian")]
    tokenizer = AbcTokenizer(vocab=AbcVocab(values))
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


def test_decode_refuses_arguments_of_the_wrong_type_by_name(tokenizer):
    """``key=5`` was an AttributeError in the writer, float ids "list indices must be integers",
    and ``x=None, title=None`` wrote ``X:None`` and ``T:None``."""
    ids = tokenizer(KESH)["input_ids"]
    for kwargs, match in (
        ({"key": 5}, "key is a key name .*got int"),
        ({"x": None}, "x is the X: number, an int; got NoneType"),
        ({"x": True}, "x is the X: number, an int; got bool"),
        ({"title": None}, "title is the T: field, a string; got NoneType"),
    ):
        with pytest.raises(TypeError, match=match):
            tokenizer.decode(ids[0], **kwargs)
        with pytest.raises(TypeError, match=match):  # refused before the first tune
            tokenizer.batch_decode([], **kwargs)
    with pytest.raises(TypeError, match="decode expects integer ids; got float32"):
        tokenizer.decode(ids[0].float())
    plain = tokenizer.decode(ids[0], x=3, title="t")
    assert plain.startswith("X:3\nT:t\n")
    assert tokenizer.decode(ids[0].numpy(), x=np.int64(3), title="t") == plain


def test_decode_refuses_a_note_the_key_moves_out_of_midi():
    """g'''' (MIDI 127) on the white keys goes up a fifth into G major: decode wrote
    g''''' (134), ABC that no reader takes back; now it says which note, and clamps none."""
    tok = AbcTokenizer.train(["X:1\nM:2/4\nL:1/8\nK:C\nC g''''|"])
    ids = tok.encode_tune("X:1\nM:2/4\nL:1/8\nK:C\nC g''''|").input_ids
    assert "g''''" in tok.decode(ids)  # in its own key it fits
    with pytest.raises(ValueError, match=r"note 1 of the tune moves to pitch 134 in G major, "):
        tok.decode(ids, key="G")


def test_decode_and_batch_decode_refuse_options_by_position_saying_the_keyword(tokenizer):
    """transformers' ``decode(ids, True)`` (skip_special_tokens by position) was Python's
    `RowsToAbc.decode() takes 2 positional arguments but 3 were given`: the mixin's name and no
    hint that the options go by keyword."""
    ids = tokenizer(KESH)["input_ids"]
    for method, rows in ((tokenizer.decode, ids[0]), (tokenizer.batch_decode, ids)):
        with pytest.raises(TypeError) as info:
            method(rows, True)
        said = str(info.value)
        assert said.startswith(f"AbcTokenizer.{method.__name__}() takes the ids alone by position")
        assert "got 1 more argument (True)" in said and "skip_special_tokens=True" in said
        assert "(it takes key, title, x, register, meter, skip_special_tokens, " in said
    assert tokenizer.batch_decode(ids, skip_special_tokens=True) == [tokenizer.decode(ids[0])]
