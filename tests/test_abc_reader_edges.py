"""Edge cases of the ABC reader against ABC 2.1: a multi-measure rest ``Z`` that shares its bar
with notes (§4.5), a ``]`` that closes no chord (§4.8), and ``propagate-accidentals`` in the
body (§11)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tokenization.abc_lexer import length_multiplier
from tokenization.abc_parser import AbcParseError, parse_abc, parse_tunebook

HEADER = "X:1\nM:4/4\nL:1/8\nK:C\n"


def kinds_and_lengths(text: str) -> list[tuple[str, F | None]]:
    return [(t.kind, t.dur) for t in parse_abc(text).tokens]


def test_z_alone_in_its_bars_is_that_many_full_bar_rests():
    tune = parse_abc(f"{HEADER}Z2|AB|")
    assert [(t.kind, t.dur) for t in tune.tokens][:4] == [
        ("rest", F(1)),
        ("bar", None),
        ("rest", F(1)),
        ("bar", None),
    ]
    assert tune.warnings == []


@pytest.mark.parametrize(
    ("body", "rests", "column", "shares"),
    [
        ("AB Z|cdef|", [F(1, 8)], 4, "before it"),
        ("Z A|", [F(1, 8)], 1, "after it"),
        ("AB Z cd|", [F(1, 8)], 4, "before and after it"),
        ("AB Z2|", [F(1, 4)], 4, "before it"),
        ("(3ABZ|", [F(1, 8)], 5, "before it"),  # in the tuplet, as a z would be
    ],
)
def test_z_among_notes_is_read_as_z_with_a_positioned_warning(body, rests, column, shares):
    """ABC 2.1 writes ``Z`` alone in its bar; among notes it is read as ``z`` of its length, as
    the books mean it (O'Neill's X:387 ``G3 ZAB`` in 6/8, X:637 ``G4 Z2 ||`` in 3/4: both
    bars fit so). An earlier reading refused them, losing two tunes of the books."""
    tune = parse_abc(HEADER + body)
    assert [t.dur for t in tune.tokens if t.kind == "rest"] == rests
    assert len(tune.warnings) == 1
    assert tune.warnings[0].startswith("multi-measure rest 'Z")
    assert f"shares its bar with notes {shares}: read as z" in tune.warnings[0]
    assert tune.warnings[0].endswith(f"(line 5, column {column})")


def test_a_linebreak_directive_line_in_the_body_is_said_dropped():
    """``%%linebreak !`` after the music has started changes how lines were cut, which the
    reader does not redo: it was passed over without a word."""
    tune = parse_abc(f"{HEADER}AB|\n%%linebreak !\ncd|")
    assert tune.warnings == ["I: field (instruction) in the body not read: dropped (line 6)"]


@pytest.mark.parametrize("field", ["I:linebreak !", "%%linebreak !", "I:MIDI program 1"])
def test_an_instruction_among_a_dropped_voice_is_said_dropped(field):
    """``I:linebreak !`` among the lines of a voice not kept was passed over without a word,
    where ``%%linebreak !`` there was said dropped."""
    tune = parse_abc(f"X:1\nM:4/4\nL:1/8\nV:1\nV:2\nK:C\nV:1\nAB|\nV:2\n{field}\ncd|\nV:1\ncd|")
    assert tune.warnings == [
        "I: field (instruction) in the body not read: dropped (line 10)",
        "voice V:2 dropped",
    ]


@pytest.mark.parametrize("field", ["[I:linebreak !]", "[I:MIDI program 1]", "[I:abc-charset x]"])
def test_an_inline_instruction_among_a_dropped_voice_is_said_dropped(field):
    """``[I:linebreak !]`` on V:2's music line was ignored without a word, while its ``I:``
    line form there is said dropped: it now is too, with its column."""
    tune = parse_abc(f"X:1\nM:4/4\nL:1/8\nV:1\nV:2\nK:C\nV:1\nAB|\nV:2\ncd {field} cd|\nV:1\ncd|")
    assert tune.warnings == [
        "I: field (instruction) in the body not read: dropped (line 10, column 4)",
        "voice V:2 dropped",
    ]


def test_an_inline_instruction_after_an_inline_voice_switch_is_said_with_its_column():
    # one line, `[V:2]` dropping what follows it, a `=3D` cut before it counted as written
    tune = parse_abc("X:1\nL:1/8\nV:1\nV:2\nK:C\nV:1\n=3DB A [V:2] c [I:linebreak !] d [V:1] B|\n")
    assert tune.warnings == [
        "I: field (instruction) in the body not read: dropped (line 7, column 16)",
        "voice V:2 dropped",
    ]


def test_an_inline_transpose_among_a_dropped_voice_is_said_as_its_line_is():
    lines = "X:1\nL:1/8\nV:1\nV:2\nK:C\nV:1\nAB|\nV:2\n{}\nV:1\ncd|\n"
    inline = parse_abc(lines.format("cd [I:MIDI transpose -2] cd|")).warnings
    line = parse_abc(lines.format("I:MIDI transpose -2\ncd|")).warnings
    assert (
        inline
        == line
        == [
            "I:MIDI transpose -2 not read (line 9): the notes are read and played as written",
            "voice V:2 dropped",
        ]
    )


@pytest.mark.parametrize(
    ("meter", "body", "said"),
    [
        ("none", "Z|", "'Z' read as a rest of 1 unit (L:1/8), not 1 bar: no meter gives"),
        ("none", "Z3|", "'Z3' read as a rest of 3 units (L:1/8), not 3 bars: no meter gives"),
        ("4/4", "Z300|", "'Z300' read as a rest of 300 units (L:1/8), not 300 bars: 256 bars"),
    ],
)
def test_z_read_as_units_says_so_plainly(meter, body, said):
    """It said ``Z read as a rest of 1 units``: no grammar, and not why, nor what Z means."""
    tune = parse_abc(f"X:1\nM:{meter}\nL:1/8\nK:C\n{body}")
    assert [t.dur for t in tune.tokens if t.kind == "rest"] == [F(int(body[1:-1] or 1), 8)]
    [warning] = tune.warnings
    assert warning.startswith(f"multi-measure rest {said}")
    assert warning.endswith("(line 5, column 1)")


KEY_D = "X:1\nM:4/4\nL:1/8\nK:D\n"


def notes_and_lengths(text: str) -> list[tuple[int | None, F | None]]:
    return [(t.pitch, t.dur) for t in parse_abc(text).tokens if t.kind == "note"]


@pytest.mark.parametrize(
    ("body", "notes", "field", "column"),
    [
        # `K` was a decoration, `|:` a start repeat and F read in D (F#, 66), all unsaid
        ("DFAd|K:F ABcd|", [69, 70, 72, 74], "K:F", 6),
        ("DFAd |M:3/4 ABc|", [69, 71, 73], "M:3/4", 7),
        ("DFAd L:1/16 ABcd|", [69, 71, 73, 74], "L:1/16", 6),
        ("DFAd|:P:B ABcd:|", [69, 71, 73, 74], "P:B", 7),
    ],
)
def test_a_field_inside_a_line_without_brackets_is_read_as_the_inline_field(
    body, notes, field, column
):
    tune = parse_abc(f"{KEY_D}{body}\n")
    assert [pitch for pitch, _ in notes_and_lengths(f"{KEY_D}{body}\n")][4:] == notes
    letter, value = field.split(":")
    assert tune.warnings[0] == (
        f"field {field} inside a line read as [{field}] (line 5, column {column}): an inline "
        "field is written in brackets"
    )
    assert tune.warnings[1:] == [
        w for w in parse_abc(f"{KEY_D}{body.replace(field, f'[{field}]')}\n").warnings
    ]
    if letter == "L":
        assert notes_and_lengths(f"{KEY_D}{body}\n")[4][1] == F(1, 16)
    if letter == "P":
        assert tune.part_changes == [(5, "B")]
    assert not any(t.text == "|:" for t in tune.tokens if t.kind == "bar") or letter == "P"


@pytest.mark.parametrize(
    ("body", "column", "said"),
    [
        ("AB|K: G AB|", 4, "field K: inside a line, no value after its colon"),
        ("AB|K:|AB|", 4, "field K: inside a line, no value after its colon"),
        ("AB V:2 AB|", 4, "field V:2 inside a line: write the voice switch in brackets, [V:2]"),
    ],
)
def test_a_bracketless_field_that_is_a_guess_is_an_error(body, column, said):
    with pytest.raises(AbcParseError) as caught:
        parse_abc(f"{KEY_D}{body}\n")
    assert (caught.value.line, caught.value.column) == (5, column)
    assert said in str(caught.value)


def test_a_note_before_a_repeat_and_an_assigned_decoration_by_a_colon_stay_as_they_were():
    tune = parse_abc(f"{KEY_D}d2 e:|T:|ABcd|\n")
    assert [t.text for t in tune.tokens if t.kind == "bar"] == [":|", "|"]
    assert tune.warnings == []


def test_a_user_definable_decoration_letter_is_dropped_with_a_warning():
    tune = parse_abc(f"{KEY_D}AB Kcd|Kc ~d Td|\n")
    assert notes_and_lengths(f"{KEY_D}AB Kcd|Kc ~d Td|\n") == [
        (p, F(1, 8)) for p in (69, 71, 73, 74, 73, 74, 74)
    ]
    assert tune.warnings == ["unknown decoration K dropped (line 5, column 4)"]  # once a name


def test_a_star_and_a_backslash_inside_a_line_are_ignored_with_a_warning():
    tune = parse_abc(f"{KEY_D}AB*cd*|AB\\cd|\\\nABcd|\n")
    assert len(notes_and_lengths(f"{KEY_D}AB*cd*|AB\\cd|\\\nABcd|\n")) == 12
    assert tune.warnings == [
        "`*` inside the music ignored (a reserved character; line 5, column 3)",
        "`\\` inside the music ignored (a line continuation only at a line's end; line 5, "
        "column 10)",
    ]
    assert parse_abc(f"{KEY_D}ABcd|\\\nABcd|\n").warnings == []  # a continuation: silent


def test_the_reserved_characters_are_ignored_with_a_warning_once_a_character():
    # ABC 2.1 §8.1 reserves `# * ; ? @`: ignored, "perhaps with a warning"; `#;?@` were errors
    text = f"{KEY_D}AB#cd#|A;B?c@d;|\n"
    tune = parse_abc(text)
    assert [t.text for t in tune.tokens if t.kind == "bar"] == ["|", "|"]
    assert notes_and_lengths(text) == [(p, F(1, 8)) for p in (69, 71, 73, 74) * 2]
    assert tune.warnings == [
        f"`{mark}` inside the music ignored (a reserved character; line 5, column {column})"
        for mark, column in (("#", 3), (";", 9), ("?", 11), ("@", 13))
    ]
    assert parse_abc(f'{KEY_D}"A#"AB [r:a;b?] cd|\n').warnings == []  # quoted, a field: theirs


def test_a_letter_u_defines_is_a_decoration_without_a_warning():
    # ABC 2.1 §4.16: `U:` defines ~, H-W and h-w; `U:` was not read, so `W` and `k` were said
    # unknown; a redefined standard letter (`T`) takes the meaning given, known or not
    text = "X:1\nM:4/4\nL:1/8\nU: W = !trill!\nU:T = !x!\nK:D\nWAB Wc|[U:k=+roll+]kd Te|\n"
    tune = parse_abc(text)
    assert notes_and_lengths(text) == [(p, F(1, 8)) for p in (69, 71, 73, 74, 76)]
    assert tune.markings["deco"] == 4
    assert tune.warnings == ["unknown decoration !x! (U: T) dropped (line 7, column 23)"]
    # a tune's own `U:` replaces the file header's for its letter only
    book = "U: W = !trill!\nU: T = !x!\n\nX:1\nU: T = !fermata!\nK:D\nWAB Tc|\n"
    (tune,) = parse_tunebook(book)
    assert tune.warnings == []


def test_a_u_field_that_defines_no_symbol_is_ignored_with_a_warning():
    tune = parse_abc("X:1\nU: A = !trill!\nK:D\nAB [U:j !x!] jc|\n")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [69, 71, 73]
    said = (
        "cannot read user-defined symbol {}: U: defines ~, H-W or h-w as a !..! decoration or "
        'a "^text" annotation'
    )
    assert tune.warnings == [
        said.format("'A = !trill!'") + " (U: W = !trill!): ignored (line 2)",
        said.format("'j !x!'") + " (U: W = !trill!): ignored (line 4, column 4)",
        "unknown decoration j dropped (line 4, column 14)",
    ]


def test_a_dollar_is_a_silent_line_break_with_or_without_its_linebreak_field():
    # `$` means one thing in ABC 2.1, a score line break (§6.1.1): no music can hide behind
    # it, where a lone `!` may be a decoration's bracket, so it is passed over unsaid
    plain = parse_abc(f"{KEY_D}ABcd|$ABcd|\n")
    declared = parse_abc("X:1\nM:4/4\nL:1/8\nI:linebreak $\nK:D\nABcd|$ABcd|\n")
    assert plain.tokens == declared.tokens == parse_abc(f"{KEY_D}ABcd|ABcd|\n").tokens
    assert plain.warnings == declared.warnings == []
    assert parse_abc(f"{KEY_D}ABcd|!ABcd|\n").warnings[0].startswith("a lone `!`")


def test_a_letter_u_defines_as_an_annotation_is_one_without_a_warning():
    # ABC 2.1 §4.16: `U: W = "^text"` makes `W` an annotation; it was refused ("cannot read
    # user-defined symbol") and `W` then said an unknown decoration
    text = 'X:1\nM:4/4\nL:1/8\nU: W = "^text"\nK:D\nWAB [U:j="_x"]jc "^y"d|\n'
    tune = parse_abc(text)
    assert tune.warnings == []
    assert notes_and_lengths(text) == [(p, F(1, 8)) for p in (69, 71, 73, 74)]
    assert tune.markings == {"text": 3}  # annotations, as the written "^y" is


#: ABC 2.1 §4.14's decoration names (and §4.16's `!nil!` and `!none!`, no decoration), 2.2's
_STANDARD_DECORATIONS = (
    "trill trill( trill) lowermordent uppermordent mordent pralltriller roll turn turnx "
    "invertedturn invertedturnx arpeggio > accent emphasis fermata invertedfermata tenuto "
    "0 1 2 3 4 5 + plus snap slide wedge upbow downbow open thumb breath pppp ppp pp p mp "
    "mf f ff fff ffff sfz crescendo( <( crescendo) <) diminuendo( >( diminuendo) >) segno "
    "coda D.S. D.C. dacoda dacapo fine shortphrase mediumphrase longphrase nil none "
    "editorial courtesy D.C.alcoda D.C.alfine D.S.alcoda D.S.alfine"
)


def test_every_standard_decoration_name_is_known():
    # ABC 2.1 §4.14 (and §4.16's `!nil!` and `!none!`, no decoration: `U: T = !nil!`
    # undefines `T`), the 2.2 additions: none is said an unknown decoration
    names = _STANDARD_DECORATIONS.split()
    body = " ".join(f"!{name}!A" for name in names)
    tune = parse_abc(f"X:1\nM:none\nL:1/8\nU: T = !nil!\nU: W = !none!\nK:D\n{body} TB WB|\n")
    assert tune.warnings == []
    assert tune.markings["deco"] == len(names) + 2


@pytest.mark.parametrize(
    ("body", "field", "notes", "key"),
    [
        # `K:D` then ` mix` as music: `m`, `i` dropped decorations, `x` a rest, the mode lost
        ("DFAd|K:D mix ABcd|", "K:D mix", [69, 71, 72, 74], "D mixolydian"),
        ("DFAd|K:F# Dorian ABcd|", "K:F# Dorian", [69, 71, 73, 75], "F# dorian"),
        ("DFAd K:A m ABcd|", "K:A m", [69, 71, 72, 74], "A minor"),
        ("DFAd|K:G MAJOR ABcd|", "K:G MAJOR", [69, 71, 72, 74], "G major"),
    ],
)
def test_a_bracketless_key_takes_its_mode_word_after_a_space(body, field, notes, key):
    tune = parse_abc(f"{KEY_D}{body}\n")
    assert [pitch for pitch, _ in notes_and_lengths(f"{KEY_D}{body}\n")][4:] == notes
    assert [t.kind for t in tune.tokens].count("rest") == 0
    assert tune.warnings[0].startswith(f"field {field} inside a line read as [{field}] ")
    assert f"mid-tune key change to {key}" in tune.warnings


def test_a_mode_word_run_into_the_music_is_music_with_its_dropped_letters_warned():
    # not a mode (no space or bar line after it): the key is `K:D`, and every letter the
    # reader drops is said (`x` is the invisible rest it is in music)
    tune = parse_abc(f"{KEY_D}DFAd|K:D mixABcd|\n")
    assert tune.warnings[0].startswith("field K:D inside a line read as [K:D] ")
    assert "unknown decoration m dropped (line 5, column 10)" in tune.warnings
    assert "unknown decoration i dropped (line 5, column 11)" in tune.warnings


def test_a_bracketless_cut_time_meter_keeps_its_bar_sign():
    # `M:C|` was `[M:C]` (4/4) then a bar line: cut time read as common time
    tune = parse_abc(f"{KEY_D}DFAd|M:C| ABcd|\n")
    assert tune.warnings[0].startswith("field M:C| inside a line read as [M:C|] ")
    assert any(w.startswith("mid-tune meter change to 2/2") for w in tune.warnings)


def test_a_u_field_among_a_dropped_voice_applies_with_a_warning():
    # it was ignored unsaid, and the `W` it defines then dropped as an unknown decoration
    text = f"{KEY_D}V:1\nDFAd|\nV:2\nU: W = !trill!\nDFAd|\nV:1\nWABcd|\n"
    tune = parse_abc(text)
    assert tune.warnings[0] == (
        "U:W = !trill! among the lines of voice V:2, not kept, applies to voice V:1 from here "
        "(line 8)"
    )
    assert not any("unknown decoration" in w for w in tune.warnings)
    assert tune.markings == {"deco": 1}


def test_a_natural_sign_after_the_tonic_is_refused_saying_so():
    # O'Neill's X:745 `K:Bn`: it was refused as a German key name (`K:Es`), abc2midi plays B
    # major ("Unknown mode 'n'"): five sharps on a tune in D or B minor
    with pytest.raises(AbcParseError) as caught:
        parse_abc("X:745\nT:Galway Tom\nM:6/8\nL:1/8\nK:Bn\ndef fef|\n")
    assert (caught.value.line, caught.value.column) == (5, 3)
    assert "unknown key 'Bn': no natural sign in an ABC key (K:B), nor is 'n' a mode" in str(
        caught.value
    )


def test_an_inline_u_field_in_a_dropped_voice_applies_with_a_warning():
    # `[U:...]` on V:2's music line was ignored unsaid, as its `U:` line was: `W` then dropped
    text = f"{KEY_D}V:1\nDFAd|\nV:2\nDF [U:W=!trill!] Ad|\nV:1\nWABcd|\n"
    tune = parse_abc(text)
    assert tune.warnings[0] == (
        "[U:W=!trill!] among the lines of voice V:2, not kept, applies to voice V:1 from here "
        "(line 8, column 4)"
    )
    assert not any("unknown decoration" in w for w in tune.warnings)
    assert tune.markings == {"deco": 1}


def test_an_inline_u_field_after_an_inline_voice_switch_applies_from_there():
    # one line, `[V:2]` dropping what follows it: its `[U:]` is the tune's, `[T:]` still read
    text = f"{KEY_D}V:1\nDFAd [V:2] [T:B] [U:W=!trill!] Ad [V:1] WABc|\n"
    tune = parse_abc(text)
    assert tune.warnings[0] == (
        "[U:W=!trill!] among the lines of voice V:2, not kept, applies to voice V:1 from here "
        "(line 6, column 18)"
    )
    assert tune.markings == {"deco": 1}
    assert [text for _, text in tune.section_titles] == ["B"]


@pytest.mark.parametrize("text", ["x", "2/a", "3.5"])
def test_a_length_not_of_digits_and_slashes_is_a_value_error_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match=f"cannot read note length '{text}'"):
        length_multiplier(text)
