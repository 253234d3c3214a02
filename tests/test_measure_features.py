"""Golden tests of the causal position tracker, the 20 feature rows and the vocabulary."""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

import numpy as np
import pytest

from tokenization.features import FEATURE_NAMES, HeaderInfo, tune_to_rows
from tokenization.measure import MeasureTracker, bar_length_in_eighths, tuplet_factor
from tokenization.vocabulary import AbcVocab, value_sort_key


class Tok(NamedTuple):
    kind: str
    text: str
    pitch: int | None
    dur: Fraction | None


def note(pitch: int, eighths: str = "1") -> Tok:
    return Tok("note", "", pitch, Fraction(eighths) / 8)


def bar(text: str = "|") -> Tok:
    return Tok("bar", text, None, None)


JIG = HeaderInfo("C major", "C", "major", 0, "6/8", "jig")


def positions(tokens, header=JIG):
    rows = tune_to_rows(tokens, header)
    return [
        (r[0], p[0], p[2], m)
        for r, p, m in zip(rows.token_rows, rows.position_rows, rows.measure_numbers)
    ]


def test_reference_worked_example_pickup_is_merged():
    # reference-measurenote.md 2.2, tune 00100: |:=d|=e2=e=g=e=d|=d...
    toks = [
        bar("|:"),
        note(74),
        bar(),
        note(76, "2"),
        note(76),
        note(79),
        note(76),
        note(74),
        bar(),
        note(74),
    ]
    got = positions(toks)
    assert got[:10] == [
        ("<start>", "0", "0", 0),
        ("|:", "0", "0", 0),
        ("pitch74", "0", "1", 0),  # the next token is the pickup's bar, at offset 1
        ("|", "0", "0", 0),  # pickup merged: same index and group as the first full bar
        ("pitch76", "0", "2", 0),
        ("pitch76", "0", "3", 0),
        ("pitch79", "0", "4", 0),
        ("pitch76", "0", "5", 0),
        ("pitch74", "0", "6", 0),  # the next token is the bar closing a full 6/8 bar
        ("|", "1", "0", 1),
    ]
    assert got[-1] == ("<end>", "<end>", "<end>", 1)


def test_endings_share_index_and_repeat_start_resets():
    toks = [
        note(72, "6"),
        bar(),
        note(72, "6"),
        bar("|1"),
        note(72, "6"),
        bar(":|2"),
        note(72, "6"),
    ]
    toks += [bar("|:"), note(72, "6"), bar()]
    got = positions(toks)
    idx = {i: row[1] for i, row in enumerate(got)}
    # after "|1" (row 4) the index is 2; after ":|2" (row 6) it is restored to 2
    assert idx[4] == "2" and idx[6] == "2"
    assert idx[8] == "0"  # |: restarts the section count
    measures = [row[3] for row in got]
    assert measures[:10] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_an_ending_opened_mid_bar_closes_no_bar():
    """``[1`` (no bar line, O'Neill's 980 in 12/8: ``Bcd edc [1 d2B A2G:|[2 d2z d2z||``): the
    bar goes on across it, and the second ending starts where the first opened; read as a
    bar line, its halves were two short bars that never advanced the measure group."""
    half = [note(72, "6")]
    toks = [*half, *half, bar(), *half, bar("[1"), *half, bar(":|2"), *half, bar("||")]
    got = positions(toks, HeaderInfo("C major", "C", "major", 0, "12/8", "slide"))
    assert [(row[0], row[1], row[2], row[3]) for row in got[4:]] == [
        ("pitch72", "1", "6", 1),
        ("[1", "1", "6", 1),  # no bar line: the offset goes on
        ("pitch72", "1", "12", 1),
        (":|2", "1", "6", 2),  # back to where the first ending opened
        ("pitch72", "1", "12", 2),
        ("||", "2", "0", 3),
        ("<end>", "<end>", "<end>", 3),
    ]


def test_tuplet_members_share_the_start_offset():
    header = HeaderInfo("C major", "C", "major", 0, "2/4", "polka")
    toks = [Tok("tuplet", "(3", None, Fraction(2, 3)), note(72), note(74), note(76), note(77, "2")]
    got = positions(toks, header)
    offsets = [row[2] for row in got]
    # <start>, (3, three members: offset stays 0 until the tuplet completes (3 x 1 x 2/3 = 2)
    assert offsets[:5] == ["0", "0", "0", "0", "2"]
    assert offsets[5] == "4"


def test_chord_advances_by_its_first_note():
    toks = [
        Tok("chord_start", "[", None, None),
        note(72, "2"),
        note(76, "1"),
        Tok("chord_end", "]", None, None),
    ]
    toks += [note(79)]
    got = positions(toks)
    assert [row[2] for row in got[:6]] == ["0", "0", "0", "0", "2", "3"]


def test_beat_flags_in_four_four():
    header = HeaderInfo("C major", "C", "major", 0, "4/4", "reel")
    rows = tune_to_rows([note(72)] * 8 + [bar()], header)
    onbeat = [p[3] for p in rows.position_rows[:9]]
    middle = [p[4] for p in rows.position_rows[:9]]
    # the 9th row predicts the bar line at offset 8, which is the end of the bar, not a beat
    assert onbeat == ["True", "False", "True", "False", "True", "False", "True", "False", "False"]
    assert rows.position_rows[9][3] == "True"  # after the bar line: offset 0
    assert middle == ["False"] * 4 + ["True"] + ["False"] * 4


@pytest.mark.parametrize(
    ("meter", "length"),
    [
        ("4/4", 8),
        ("6/8", 6),
        ("3/4", 6),
        ("2/4", 4),
        ("9/8", 9),
        ("12/8", 12),
        ("3/2", 12),
        ("2/2", 8),
    ],
)
def test_bar_lengths(meter, length):
    assert bar_length_in_eighths(meter) == length


def test_tuplet_factors():
    assert tuplet_factor("(3") == Fraction(2, 3)
    assert tuplet_factor("(2") == Fraction(3, 2)
    assert tuplet_factor("(4") == Fraction(3, 4)
    assert tuplet_factor("(5") == Fraction(2, 5)
    assert tuplet_factor("(3:2:3") == Fraction(2, 3)
    assert tuplet_factor("(5:4:5") == Fraction(4, 5)


def test_tracker_free_meter_counts_every_nonempty_bar():
    tracker = MeasureTracker(None)
    for tok in [note(72), bar(), bar(), note(72), bar()]:
        tracker.push(tok)
    assert tracker.measure == 2


def test_header_values_and_row_width():
    rows = tune_to_rows([note(72), bar()], JIG)
    assert rows.header == (
        "C major",
        "6/8",
        "1/8",
        "jig",
        "C",
        "major",
        "0",
        "6",
        "8",
        "True",
        "False",
    )
    assert all(len(r) == len(FEATURE_NAMES) == 20 for r in rows.rows())


def test_vocab_natural_order_and_json_round_trip(tmp_path):
    rows = tune_to_rows([note(72, "3/2"), note(74, "1/2"), note(100), bar()], JIG)
    vocab = AbcVocab.build([rows])
    durs = vocab.values["dur"][4:]
    assert durs == sorted(durs, key=value_sort_key) and durs[0] == "1/2"
    pitches = [v for v in vocab.values["main"] if v.startswith("pitch")]
    assert pitches[0] == "pitch65" and pitches[-1] == "pitch107"  # widened by 7 each side
    keys = vocab.values["key"]  # every key of the seven modes, not only the corpus's mode
    assert "C major" in keys and "F# locrian" in keys and len(keys) == 4 + 12 * 7
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert AbcVocab.load(path) == vocab
    ids = vocab.encode(rows)
    assert ids.shape == (len(rows), 20) and ids.dtype == np.int64
    assert vocab.token("main", int(ids[1, 0])) == "pitch72"
    assert vocab.id("main", "never-seen") == 3


def test_vocab_rejects_missing_specials():
    values = {name: ["<pad>", "<start>", "<end>", "<unk>"] for name in FEATURE_NAMES}
    values["dur"] = ["1"]
    with pytest.raises(ValueError, match="dur"):
        AbcVocab(values)


def test_vocab_order_does_not_depend_on_set_order():
    # "6/8" and "3/4" (and "12/8", "3/2") are equal as numbers: ties must not follow set order
    values = ["12/8", "3/2", "6/8", "3/4", "2/2", "4/4"]
    orders = {tuple(sorted(p, key=value_sort_key)) for p in (values, values[::-1])}
    assert orders == {("3/4", "6/8", "2/2", "4/4", "12/8", "3/2")}


# The header's meter columns (reference-measurenote.md 2.3, features 16-19): numerator and
# denominator as written, compound when the numerator is 6, 9 or 12 (the beat is a dotted note
# divided in three) and triple when the bar holds three beats: simple triple 3/x, and 9/8, three
# dotted quarters. 12/8 is compound quadruple (four dotted quarters), 6/8 compound duple, and
# 2/2 (`C|`) and 4/4 (`C`) simple duple and quadruple.
@pytest.mark.parametrize(
    ("meter", "numer", "denom", "compound", "triple"),
    [
        ("2/4", "2", "4", "False", "False"),
        ("3/4", "3", "4", "False", "True"),
        ("4/4", "4", "4", "False", "False"),
        ("C", "4", "4", "False", "False"),
        ("C|", "2", "2", "False", "False"),
        ("3/8", "3", "8", "False", "True"),
        ("3/2", "3", "2", "False", "True"),
        ("6/8", "6", "8", "True", "False"),
        ("9/8", "9", "8", "True", "True"),
        ("12/8", "12", "8", "True", "False"),
        # compound past 12 (ABC 2.1 4.13: a multiple of 3 above 3): 5 and 6 dotted beats
        ("15/8", "15", "8", "True", "False"),
        ("18/8", "18", "8", "True", "False"),
        ("24/16", "24", "16", "True", "False"),
        ("none", "none", "none", "False", "False"),
    ],
)
def test_header_meter_columns(meter, numer, denom, compound, triple):
    from tokenization.abc_parser import parse_abc

    tune = parse_abc(f"X:1\nM:{meter}\nL:1/8\nK:C\nC")
    values = dict(zip(FEATURE_NAMES[-11:], HeaderInfo.from_tune(tune).values()))
    assert (values["numer"], values["denom"]) == (numer, denom)
    assert (values["is_compound"], values["is_triple"]) == (compound, triple)


# The beat flags of one bar of eighth notes (reference-measurenote.md 2.3, features 7-8): beats
# on every denominator unit in simple meters (2/4 -> 0 2, 3/4 -> 0 2 4, 2/2 -> 0 4, 3/8 -> every
# eighth), on every dotted quarter (three eighths) in compound ones, and a mid-bar point only in
# the four-beat meters, at half the bar: 4/4 -> 4, 12/8 -> 6.
@pytest.mark.parametrize(
    ("meter", "onbeats", "middles"),
    [
        ("2/4", [0, 2], []),
        ("3/4", [0, 2, 4], []),
        ("4/4", [0, 2, 4, 6], [4]),
        ("2/2", [0, 4], []),
        ("3/8", [0, 1, 2], []),
        ("3/2", [0, 4, 8], []),
        ("6/8", [0, 3], []),
        ("9/8", [0, 3, 6], []),
        ("12/8", [0, 3, 6, 9], [6]),
        ("15/8", [0, 3, 6, 9, 12], []),  # compound past the reference's table: dotted beats
        ("18/8", [0, 3, 6, 9, 12, 15], []),
        ("5/8", [0, 1, 2, 3, 4], []),  # irregular: every beat unit, as before
    ],
)
def test_beat_flags_across_meters(meter, onbeats, middles):
    header = HeaderInfo("C major", "C", "major", 0, meter, "unspecified")
    length = int(bar_length_in_eighths(meter))
    rows = tune_to_rows([note(72)] * length + [bar()], header)
    # row i predicts the note at offset i eighths (row `length` predicts the bar line)
    bar_rows = rows.position_rows[:length]
    assert [p[2] for p in bar_rows] == [str(i) for i in range(length)]
    assert [i for i, p in enumerate(bar_rows) if p[3] == "True"] == onbeats
    assert [i for i, p in enumerate(bar_rows) if p[4] == "True"] == middles
    # the bar line sits at the bar's end, no beat; the next bar starts on one
    assert rows.position_rows[length][3:] == ("False", "False")
    assert rows.position_rows[length + 1][3] == "True"


@pytest.mark.parametrize("field", ["R: Reel", "R:REEL", "R:reel ", "R:  rEeL"])
def test_rhythm_is_read_case_insensitively(field):
    # a tune type is a word, not a name: `R: Reel` and `R:REEL` are the same reel, and rows of
    # one type must share one rhythm value (reference-measurenote.md 2.3, feature 12)
    from tokenization.abc_parser import parse_abc

    tune = parse_abc(f"X:1\n{field}\nM:4/4\nL:1/8\nK:C\nC")
    header = HeaderInfo.from_tune(tune)
    assert header.rhythm == "reel"
    assert tune_to_rows([note(72)], header).header[3] == "reel"


@pytest.mark.parametrize(
    "field", ["R:Slip-Jig", "R:slip-jig", "R:Slip jig ", "R:SLIP JIG", "R:slip_jig", "R:Slip Jig"]
)
def test_a_spelling_of_a_known_rhythm_is_read_as_generate_reads_it(field):
    # thesession's corpus (and a vocabulary built on it) spells the type `slip jig`; the other
    # spellings a user writes are the same type, as `irish-tune generate --rhythm` matches them,
    # not `<unk>` against that vocabulary
    from tokenization.abc_parser import parse_abc
    from tokenization.encoded_tune import RHYTHM_COLUMN, encode_tune

    tune = parse_abc(f"X:1\n{field}\nM:9/8\nL:1/8\nK:C\nC")
    assert HeaderInfo.from_tune(tune).rhythm == "slip jig"
    vocab = AbcVocab.from_values({"rhythm": ["jig", "slip jig"]})
    encoded = encode_tune(vocab, f"X:1\n{field}\nM:9/8\nL:1/8\nK:C\nC|")
    assert vocab.token("rhythm", int(encoded.input_ids[0, RHYTHM_COLUMN])) == "slip jig"


def test_a_rhythm_takes_the_spelling_of_the_vocabulary_it_is_encoded_with():
    # O'Neill's writes `R:slipjig`: read with no vocabulary it is thesession's `slip jig` (one
    # value per tune type), while a vocabulary that has `slipjig` (a tokenizer saved before)
    # reads thesession's `slip jig` as its `slipjig`; a type no table knows is only
    # lower-cased, and an exact value of the vocabulary is kept as it is
    from tokenization.abc_parser import parse_abc
    from tokenization.encoded_tune import RHYTHM_COLUMN, encode_tune

    def read(field: str, known: list[str]) -> str:
        return HeaderInfo.from_tune(parse_abc(f"X:1\n{field}\nK:C\nC"), known=known).rhythm

    assert read("R:slipjig", []) == "slip jig"
    assert read("R:Slip Jig", ["reel", "slipjig"]) == "slipjig"
    assert read("R:slipjig", ["slip jig", "slipjig"]) == "slipjig"
    assert read("R:Set-Dance", []) == "set-dance"
    assert read("R:Set-Dance", ["set dance"]) == "set dance"
    assert read("R:reels", ["reel"]) == "reels"  # a plural is another word, as for generate
    vocab = AbcVocab.from_values({"rhythm": ["slipjig"]})
    encoded = encode_tune(vocab, "X:1\nL:1/8\nK:C\nC|", rhythm="Slip-Jig")
    assert vocab.token("rhythm", int(encoded.input_ids[0, RHYTHM_COLUMN])) == "slipjig"


def test_double_repeats_restart_the_section_index():
    # `:|:` and `::` end one repeated section and start the next (ABC 2.1 4.8): like `|:`, they
    # restart m_idx at 0 (MeasureTracker's docstring), while the measure group keeps counting
    from tokenization.abc_parser import parse_abc

    tune = parse_abc("X:1\nM:2/4\nL:1/8\nK:C\n|:C4|D4:|:E4|F4::G4|A4|]")
    rows = tune_to_rows(tune.tokens, HeaderInfo.from_tune(tune))
    after_bars = [
        (tok[0], pos[0], m)
        for tok, pos, m in zip(rows.token_rows, rows.position_rows, rows.measure_numbers)
        if tok[0] in ("|:", "|", ":|:", "|]")
    ]
    assert after_bars == [
        ("|:", "0", 0),
        ("|", "1", 1),
        (":|:", "0", 2),  # the written `:|:`
        ("|", "1", 3),
        (":|:", "0", 4),  # `::`, read as `:|:`
        ("|", "1", 5),
        ("|]", "2", 6),
    ]


def test_six_tuplet_defaults_to_six_in_the_time_of_two():
    # ABC 2.1 4.13: `(6` is 6 notes in the time of 2 in every meter; only (5, (7, (9 take q=3
    # in compound meter
    assert tuplet_factor("(6") == Fraction(2, 6)
    assert tuplet_factor("(6", compound=True) == Fraction(2, 6)
    assert tuplet_factor("(5", compound=True) == Fraction(3, 5)
    # in 6/8, six sixteenths under (6 take the time of two sixteenths: one eighth
    tracker = MeasureTracker(Fraction(6))
    tracker.push(Tok("tuplet", "(6", None, tuplet_factor("(6", compound=True)))
    for _ in range(6):
        tracker.push(note(72, "1/2"))
    assert tracker.position.m_offset == 1
