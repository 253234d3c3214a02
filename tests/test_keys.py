"""Tests for tokenization.keys: key parsing, signatures, white-key normalisation, transposition."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tokenization.abc_parser import AbcParseError, Token, parse_abc
from tokenization.keys import (
    Key,
    normalise_shift,
    normalise_tune,
    output_shift,
    parse_key,
    parse_key_field,
    transpose_option,
    transpose_shift,
    transpose_tokens,
)

# text, tonic, mode, signature, white tonic, shift onto the white tonic (hand-computed)
KEY_TABLE = [
    ("D", "D", "major", 2, "C", -2),
    ("Dmaj", "D", "major", 2, "C", -2),
    ("G", "G", "major", 1, "C", 5),
    ("A", "A", "major", 3, "C", 3),
    ("Edor", "E", "dorian", 2, "D", -2),
    ("E Dorian", "E", "dorian", 2, "D", -2),
    ("Ador", "A", "dorian", 1, "D", 5),
    ("Amix", "A", "mixolydian", 2, "G", -2),
    ("Dmix", "D", "mixolydian", 1, "G", 5),
    ("Bm", "B", "minor", 2, "A", -2),
    ("Em", "E", "minor", 1, "A", 5),
    ("F#m", "F#", "minor", 3, "A", 3),
    ("Bb", "Bb", "major", -2, "C", 2),
    ("F", "F", "major", -1, "C", -5),
    ("C", "C", "major", 0, "C", 0),
    ("Eb", "Eb", "major", -3, "C", -3),
    ("Gdor", "G", "dorian", -1, "D", -5),
    ("Bmin", "B", "minor", 2, "A", -2),
    ("Aaeolian", "A", "minor", 0, "A", 0),
    ("Cion", "C", "major", 0, "C", 0),
    ("Dphr", "D", "phrygian", -2, "E", 2),
    ("Flyd", "F", "lydian", 0, "F", 0),
    ("Bbm", "Bb", "minor", -5, "A", -1),
    ("Cm", "C", "minor", -3, "A", -3),
    ("G#m", "G#", "minor", 5, "A", 1),
    ("Bloc", "B", "locrian", 0, "B", 0),
    ("A Minor", "A", "minor", 0, "A", 0),
    ("C Mixolydian", "C", "mixolydian", -1, "G", -5),
    ("Gm clef=treble", "G", "minor", -2, "A", 2),
]


@pytest.mark.parametrize(("text", "tonic", "mode", "sig", "white", "shift"), KEY_TABLE)
def test_key_table(text, tonic, mode, sig, white, shift):
    key = parse_key(text)
    assert key == Key(tonic, mode)
    assert key.signature == sig
    assert key.white_tonic == white
    assert transpose_shift(key, key.white) == shift
    assert sum(key.accidentals.values()) == sig


# the shift `normalise_tune` makes, onto the corpus's octave (hand-computed from the rule: the
# nearest shift, but in major and dorian a tonic a fifth above the white one goes down a fifth)
NORMALISE_TABLE = [
    ("G", -7),  # G4 -> C4, not C5: the corpus's `Z: G Major` tunes sit there
    ("Ador", -7),  # A4 -> D4
    ("Dmix", 5),  # D4 -> G4: mixolydian goes up a fourth
    ("Em", 5),  # E4 -> A4
    ("D", -2),
    ("A", 3),
    ("F", -5),
    ("Bb", 2),
    ("E", -4),
    ("Edor", -2),
    ("Gdor", -5),
    ("Bdor", 3),
    ("Amix", -2),
    ("Bm", -2),
    ("Dm", -5),
    ("F#", -6),
    ("C", 0),
    ("Ddor", 0),
    ("Dphr", 2),
]


@pytest.mark.parametrize(("text", "shift"), NORMALISE_TABLE)
def test_normalise_shift_table(text, shift):
    key = parse_key(text)
    assert normalise_shift(key) == shift
    assert output_shift(key.white, key) == -shift  # the exact inverse


def test_normalise_shift_range():
    tonics = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    for mode in ("major", "minor", "dorian", "mixolydian", "phrygian", "lydian", "locrian"):
        low = -7 if mode in ("major", "dorian") else -6
        for tonic in tonics:
            key = Key(tonic, mode)
            s = normalise_shift(key)
            assert low <= s <= low + 11
            assert (key.tonic_pc + s - key.white.tonic_pc) % 12 == 0


def test_normalise_g_major_lands_in_corpus_octave():
    """O'Neill's "Ned of the Hill" (K:G) lands where the corpus's setting (`Z: G Major`) is."""
    oneills = "X:133\nT:Ned of the Hill\nM:3/4\nL:1/8\nK:G\nD>E|G2 B2 AG|B2 g2 f>d|"
    norm = normalise_tune(parse_abc(oneills))
    corpus = "X:1\nZ: G Major\nM:3/4\nL:1/8\nK:C Major\n=G,>=A,|=C2=E2=D=C|=E2=c2=B>=G|"
    want = [t.pitch for t in parse_abc(corpus).tokens if t.kind == "note"]
    assert want == [55, 57, 60, 64, 62, 60, 64, 72, 71, 67]
    assert [t.pitch for t in norm.tokens if t.kind == "note"] == want
    assert norm.original_key == Key("G", "major")


def test_accidentals_names_and_abc():
    assert Key("D", "major").accidentals == {
        "C": 1, "D": 0, "E": 0, "F": 1, "G": 0, "A": 0, "B": 0
    }  # fmt: skip
    assert {k: v for k, v in Key("Eb", "major").accidentals.items() if v} == {
        "B": -1, "E": -1, "A": -1
    }  # fmt: skip
    assert Key("E", "dorian").name == "E dorian"
    assert [Key(t, m).abc for t, m in [("E", "dorian"), ("B", "minor"), ("G", "major")]] == [
        "Edor",
        "Bm",
        "G",
    ]
    assert Key("F#", "minor").tonic_pc == 6 and Key("Bb", "major").tonic_pc == 10


def test_key_field_extras_and_defaults():
    assert parse_key_field("D ^g").accidentals["G"] == 1
    exp = parse_key_field("D exp ^f").accidentals
    assert exp == {"C": 0, "D": 0, "E": 0, "F": 1, "G": 0, "A": 0, "B": 0}
    assert parse_key_field("Dmix=c").accidentals["C"] == 0
    no_tonic = parse_key_field("exp _b _e")  # the accidentals alone
    assert no_tonic.key == Key("C", "major") and no_tonic.warnings
    assert no_tonic.accidentals == {"C": 0, "D": 0, "E": -1, "F": 0, "G": 0, "A": 0, "B": -1}
    none = parse_key_field("none")
    assert none.key == Key("C", "major") and none.warnings
    for hp in ("HP", "Hp"):
        spec = parse_key_field(hp)
        assert spec.key == Key("A", "mixolydian") and spec.warnings
        assert spec.accidentals["F"] == 1 and spec.accidentals["C"] == 1


@pytest.mark.parametrize("bad", ["H", "Xyz", "Dfoo", "D ^", "12"])
def test_parse_key_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        parse_key(bad)


@pytest.mark.parametrize(
    "written, said",
    [
        ("Es", "unknown key 'Es' (ABC keys are A-G with # or b, as Eb or F#)"),  # Essen's
        ("Fis minor", "unknown key 'Fis' (ABC keys are A-G with # or b, as Eb or F#)"),
        ("Bbxx", "unknown key 'Bbxx' (ABC keys are A-G with # or b, as Eb or F#)"),
        ("E s", "unknown mode 's'"),  # a word after a space: a mode, unknown
    ],
)
def test_letters_written_onto_a_tonic_that_make_no_mode_are_an_unknown_key(written, said):
    # `K: Es` (German for E flat, in the Essen collection) was "unknown mode 's'": no key is
    # read (abc2midi and abcm2ps read no German names either), but the error says it as written
    with pytest.raises(AbcParseError) as caught:
        parse_abc(f"X:1\nT:Es\nK:{written}\nEFG|")
    assert caught.value.message == said and caught.value.line == 3


@pytest.mark.parametrize(
    "written, said",
    [
        ("H", "cannot read key 'H' (ABC keys are A-G with # or b, as Eb or F#)"),  # German B
        ("h minor", "cannot read key 'h minor' (ABC keys are A-G with # or b, as Eb or F#)"),
        ("Q", "cannot read key 'Q'"),  # no key in any spelling: no hint
    ],
)
def test_a_german_h_for_b_gets_the_hint_of_other_german_key_names(written, said):
    # `K: H` (German for B) said "cannot read key 'H'", without the hint `K:Es` gets
    with pytest.raises(AbcParseError) as caught:
        parse_abc(f"X:1\nT:H\nK: {written}\nBcd|")
    assert caught.value.message == said and caught.value.line == 3


def test_key_validates_fields():
    with pytest.raises(ValueError):
        Key("H", "major")
    with pytest.raises(ValueError):
        Key("C", "bebop")


def test_transpose_shift_range():
    tonics = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    for a in tonics:
        for b in tonics:
            s = transpose_shift(Key(a, "major"), Key(b, "major"))
            assert -6 <= s <= 5
            assert (Key(a, "major").tonic_pc + s - Key(b, "major").tonic_pc) % 12 == 0


def test_transpose_tokens_moves_only_pitches():
    toks = [
        Token("note", "", 62, Fraction(1, 8)),
        Token("bar", "|", None, None),
        Token("rest", "z", None, Fraction(1, 4)),
    ]
    out = transpose_tokens(toks, 3)
    assert out == [Token("note", "", 65, Fraction(1, 8)), toks[1], toks[2]]
    assert transpose_tokens(toks, 0) == toks


def test_normalise_tune_transposes_to_white_key():
    tune = parse_abc("X:1\nT:t\nZ:someone\nK:Amix\nA2 ^c =c g|")
    norm = normalise_tune(tune)
    assert norm.key == Key("G", "mixolydian")
    assert norm.original_key == Key("A", "mixolydian")
    assert [t.pitch for t in norm.tokens if t.kind == "note"] == [67, 71, 70, 77]
    assert norm.fields["Z"] == ["A mixolydian", "someone"]
    assert tune.key == Key("A", "mixolydian")  # input untouched


def test_normalise_corpus_tune_keeps_pitches_and_reads_z():
    text = "X: 7\nT: t\nZ: A Mixolydian\nM:4/4\nL:1/8\nK: C Mixolydian\n=G=A=B^c|"
    tune = parse_abc(text)
    norm = normalise_tune(tune)
    assert norm.key == Key("G", "mixolydian")
    assert norm.tokens == tune.tokens
    assert norm.original_key == Key("A", "mixolydian")
    assert norm.fields == tune.fields


def test_transpose_option_is_kept_for_playback_while_the_key_drops_it():
    # parse_key_field drops transpose= with the clef options (the tokens are written pitches);
    # render.to_midi reads it here to play the sounding pitches
    assert parse_key_field("D transpose=-2").key == Key("D", "major")
    assert transpose_option("D clef=bass transpose=+3 middle=d") == 3
    assert transpose_option("1 name=fiddle", field="voice") is None
    with pytest.raises(ValueError, match=r"cannot read transpose=1\.5 in voice '1 transpose=1\.5'"):
        transpose_option("1 transpose=1.5", field="voice")


@pytest.mark.parametrize(
    "value, start",
    [
        ("D octave=" + "9" * 5000, "cannot read octave=999999999999... (5000 characters) in"),
        ("D transpose=x" + "9" * 5000, "cannot read transpose=x99999999999... (5001 charac"),
        ("X" * 5000, "cannot read key 'XXXX"),
    ],
)
def test_key_errors_cut_a_long_value(value, start):
    # a fuzzed K: value of thousands of characters was written out whole, twice over
    from tokenization.keys import transpose_option

    with pytest.raises(ValueError) as caught:
        transpose_option(value) if "transpose" in value else parse_key(value)
    message = str(caught.value)
    assert message.startswith(start) and len(message) < 200, message
    assert f"({len(value)} characters)" in message


def test_a_key_that_is_no_key_name_is_echoed_cut():
    # a key of 500 characters (the demo's Key box, --key) was written out whole
    from tokenization.keys import check_key

    with pytest.raises(ValueError) as caught:
        check_key("H" * 500)
    message = str(caught.value)
    assert message.startswith("key '" + "H" * 40 + "...' (500 characters) is not a key name")
    assert "H" * 41 not in message


@pytest.mark.parametrize(
    ("spelled", "name"),
    [
        ("B flat", "Bb major"),
        ("b flat minor", "Bb minor"),
        ("F sharp minor", "F# minor"),
        ("E\u266d", "Eb major"),
        ("C\u266f dorian", "C# dorian"),
        (" A Flat ", "Ab major"),
    ],
)
def test_a_key_with_its_accidental_spelled_out_is_read(spelled, name):
    # a musician types --key 'B flat' (or B♭): it was refused as no key name
    from tokenization.keys import check_key

    assert check_key(spelled).name == name
