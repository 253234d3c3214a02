"""Golden tests for ABC as it is found in files written by hand or by other programs: byte-order
marks, file headers, fields after `K:`, indented fields, voices, clef names, escapes, rarer ties
and directives."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tokenization.abc_header import (
    HeaderSpan,
    file_header_fields,
    header_span,
    header_title,
    split_tunebook,
    with_file_header,
    x_number,
)
from tokenization.abc_parser import AbcParseError, parse_abc, parse_tunebook
from tokenization.keys import parse_key_field


def pitches(tune) -> list[int]:
    return [t.pitch for t in tune.tokens if t.kind == "note"]


def test_byte_order_mark_is_ignored():
    book = "\ufeffX:1\nT:a\nK:G\nGAB|\n\nX:2\nT:b\nK:G\nGAB|\n"
    assert [t.title for t in parse_tunebook(book)] == ["a", "b"]
    assert parse_abc("\ufeffX:1\nT:a\nK:G\nGAB|").title == "a"
    firsts = [text.split("\n")[0] for _, text in split_tunebook(book, standalone=True)]
    assert firsts == ["X:1", "X:2"]


@pytest.mark.parametrize("between", ["\n", ""])
def test_a_byte_order_mark_before_a_later_tune_is_ignored(between):
    """``cat a.abc b.abc`` of two files saved with a BOM: after a blank line the second tune was
    lost (`irish-tune check` counted 1 tune, with only "2 line(s) after the blank line ... not
    read"); without one, the first failed on "unexpected character '\\ufeff'"."""
    a, b = "\ufeffX:1\nT:a\nK:G\nGAB|\n", "\ufeffX:2\nT:b\nK:G\nBcd|\n"
    tunes = list(parse_tunebook(a + between + b))
    assert [(t.title, t.x, t.line, pitches(t), t.warnings) for t in tunes] == [
        ("a", 1, 1, [67, 69, 71], []),
        ("b", 2, 5 + len(between), [71, 72, 74], []),
    ]
    assert [text for _, text in split_tunebook(a + between + b)] == [a[1:], b[1:]]
    # in a tune's body, a BOM at the start of a line is no text either
    assert pitches(parse_abc("X:1\nK:G\nGAB|\n\ufeffcde|")) == [67, 69, 71, 72, 74, 76]


def test_an_indented_x_line_starts_a_tune_as_any_indented_field_line_reads():
    """`` X:2`` was read as a field inside tune 1 ("X: starts another tune here; read tunebooks
    with parse_tunebook", from `parse_tunebook` itself)."""
    book = "X:1\nT:a\nK:G\nGAB|\n X:2\nT:b\nK:G\nBcd|\n\n\t X:3\nT:c\nK:G\ndef|\n"
    tunes = list(parse_tunebook(book))
    assert [(t.title, t.x, t.line) for t in tunes] == [("a", 1, 1), ("b", 2, 5), ("c", 3, 10)]
    texts = [text for _, text in split_tunebook(book)]
    assert [text.split("\n")[0] for text in texts] == ["X:1", "X:2", "X:3"]
    assert x_number(" X: 7 % indented\nK:G\nG|") == "7"
    assert file_header_fields("M:6/8\n\n  X:1\nK:G\nGAB|") == [("M", "6/8")]


def test_file_header_fields_apply_to_every_tune_that_lacks_them():
    book = (
        "%abc-2.1\nM:2/4\nL:1/16\nR:polka\n\n"
        "X:1\nT:a\nK:G\nGA B2|\n\n"
        "X:2\nT:b\nM:6/8\nR:jig\nK:G\nGAB|\n"
    )
    first, second = parse_tunebook(book)
    assert (first.meter, first.unit, first.fields["R"]) == ("2/4", F(1, 16), ["polka"])
    assert [t.dur for t in first.tokens if t.kind == "note"] == [F(1, 16), F(1, 16), F(1, 8)]
    # the tune's own fields win; the file header's L: still holds (the tune has none)
    assert (second.meter, second.unit, second.fields["R"]) == ("6/8", F(1, 16), ["jig"])


def test_file_header_is_only_a_block_of_fields():
    # free text before the first tune is not a header; X, T and K never carry over
    assert file_header_fields("Some notes: about\nM:3/4\n\nX:1\nK:G\nG|") == []
    assert file_header_fields("T:Book\nK:D\nL:1/16\n\nX:1\nK:G\nG|") == [("L", "1/16")]
    assert file_header_fields("X:1\nK:G\nG|") == []


def test_loader_texts_carry_their_file_header():
    book = "M:2/4\nL:1/16\n\nX:1\nT:a\nK:G\nGA B2|\n\nX:2\nT:b\nL:1/8\nK:G\nGA B2|\n"
    (_, one), (_, two) = split_tunebook(book, standalone=True)
    assert one.startswith("X:1\nM:2/4\nL:1/16\nT:a")
    assert parse_abc(one).unit == F(1, 16) and parse_abc(two).unit == F(1, 8)
    assert with_file_header("X:3\nK:G\nG|", []) == "X:3\nK:G\nG|"


def test_fields_after_k_and_before_the_music_are_read():
    # the tune starts in the M: after K:, but its default unit is the header meter's (none
    # here: 1/8), as abc2midi plays it (it was 2/4's, 1/16); the T: there titles a section,
    # and the tune, whose header has none
    tune = parse_abc("X:1\nK:G\nT:Title\nR:reel\nM:2/4\nGA B2|")
    assert (tune.title, tune.meter, tune.unit, tune.fields["R"]) == (
        "Title",
        "2/4",
        F(1, 8),
        ["reel"],
    )
    assert "T" not in tune.fields and tune.section_titles == [(0, "Title")]
    assert not any("meter" in w for w in tune.warnings)


def test_indented_header_fields():
    tune = parse_abc("X:1\n T:t\n  M:6/8\nK:G\nGAB|")
    assert (tune.title, tune.meter, tune.key.name) == ("t", "6/8", "G major")
    assert pitches(tune) == [67, 69, 71]


def test_music_before_the_first_voice_is_voice_one():
    tune = parse_abc("X:1\nT:t\nK:C\nAB|\nV:2\nCD|\nV:1\nEF|\n")
    assert pitches(tune) == [69, 71, 64, 65]
    assert tune.voice_count == 2 and "voice V:2 dropped" in tune.warnings
    inline = parse_abc("X:1\nT:t\nK:C\nAB|[V:2]CD|[V:1]EF|\n")
    assert pitches(inline) == [69, 71, 64, 65]


def test_music_before_a_body_voice_line_is_not_a_header_declared_voice():
    """A header `V:2` made voice 2 current: the music before the body's `V:2` was merged into
    it, one voice and no warning. A header V: only declares (ABC 2.1 §7); that music is voice 1,
    as abc2midi plays it."""
    text = "X:1\nT:t\nM:4/4\nL:1/8\nV:2 clef=bass\nK:D\nDEFG ABcd|]\nV:2\nD,8|]\n"
    tune = parse_abc(text)
    assert pitches(tune) == [62, 64, 66, 67, 69, 71, 73, 74]
    assert tune.voice_count == 2 and tune.warnings == ["voice V:2 dropped"]
    # a declared V:1, or a voice declared first by name, is that voice 1: the body goes on in it
    for one, two in (("1", "2"), ("T1", "T2")):
        tune = parse_abc(f"X:1\nL:1/8\nV:{one}\nV:{two}\nK:G\nGA|\nV:{two}\nD|\nV:{one}\nBc|\n")
        assert pitches(tune) == [67, 69, 71, 72] and tune.warnings == [f"voice V:{two} dropped"]
    # a single declared voice holds a tune with no body V:, with its octave=; a declared voice
    # without music is no voice dropped
    tune = parse_abc("X:1\nL:1/8\nV:1 octave=-1\nV:2\nK:G\nGABc|\n")
    assert (pitches(tune), tune.voice_count, tune.warnings) == ([55, 57, 59, 60], 1, [])
    with pytest.raises(AbcParseError, match="line 3, column 3: cannot read octave=up in voice"):
        parse_abc("X:1\nL:1/8\nV:1 octave=up\nK:G\nGABc|\n")


def test_voice_lines_after_k_switch_voices():
    # declared after K:, then music for voice 2 first: the kept voice is the first declared
    tune = parse_abc('X:1\nT:t\nK:C\nV:1 name="a"\nV:2 name="b"\nV:2\nCD|\nV:1\nAB|\n')
    assert pitches(tune) == [69, 71]


def test_continuation_of_a_body_field():
    tune = parse_abc("X:1\nT:t\nK:G\nGA|\nw: la la\n+: la\nBc|")
    assert pitches(tune) == [67, 69, 71, 72]


@pytest.mark.parametrize(
    "value",
    [
        "G treble-8",
        "G bass3",
        "G alto1",
        "G treble+8",
        "G baritone",
        "G none",
        "Gmaj clef=bass",
        "G treble8",  # abcm2ps
        "G -8va",  # an octave mark on its own (music21's Josquin scores)
        "G +8",
    ],
)
def test_clef_names_in_the_key_field(value):
    assert parse_key_field(value).key.name == "G major"


def test_key_none_is_still_c():
    assert parse_key_field("none").key.name == "C major"


def test_unclosed_chord_is_reported_where_it_opens():
    with pytest.raises(AbcParseError) as err:
        parse_abc("X:1\nT:t\nK:C\nAB [CE\nAB\n")
    assert (err.value.line, err.value.column) == (4, 4)


def test_escaped_percent_sign():
    tune = parse_abc("X:1\nT:100\\% Irish % a comment\nK:G\nG|")
    assert tune.title == "100% Irish"


def test_free_text_after_a_blank_line_is_not_music():
    with pytest.raises(AbcParseError, match="no notes"):
        parse_abc("X:1\nT:a\nM:4/4\n\nThis is some free text about the tune\n")
    # a blank line followed by more fields stays lenient
    assert parse_abc("X:1\nT:a\n\nK:G\nGA|").key.name == "G major"


def test_text_without_a_key_is_not_read_as_music():
    with pytest.raises(AbcParseError, match="'think' reads as text"):
        parse_abc("X:1\nT:x\nI think this reel is nice\n")
    # a bare snippet, decorations and chord symbols are music
    assert len(parse_abc('X:1\n!trill!GAG "Gmaj"GAB|uvBc|').tokens) == 10
    # with a K: field, letters are left to the reader as before (O'Neill's `kB,4` decorations)
    assert pitches(parse_abc("X:1\nK:G\nkB,4 kA,4|")) == [59, 57]


def test_text_after_the_key_and_a_blank_line_is_not_read_as_music():
    """Prose after `K:` and a blank line was read as eight invented notes, without a word; the
    same text without `K:` was refused."""
    with pytest.raises(AbcParseError, match="line 5, column 1: blank line 4 after K:, and 'This'"):
        parse_abc("X:1\nT:Foo\nK:G\n\nThis is a set dance from Cork.\n")
    # music there is read, and fields before it are the header's
    assert pitches(parse_abc("X:1\nK:G\n\nGABc|\n")) == [67, 69, 71, 72]
    two = parse_abc("X:1\nK:G\n\nT:Two\nGABc|\n")
    assert two.title == "Two" and two.section_titles == [(0, "Two")]


@pytest.mark.parametrize(
    "stray, line",
    [("N", 3), ("I :: ::", 3), ("3/8=120", 3), ("N bars 13 and 21 are |f2ed| marked Bis", 3)],
)
def test_a_stray_line_in_the_header_is_passed_over(stray, line):
    """Aird's Airs (music21's corpus): a line before `K:` that is no field started the body
    there, so `M:`, `L:` and `K:` after it were body fields (C major, no meter, an invented
    `:|:` from `I :: ::`), or the tune was refused for the word on the `Z:` line after it."""
    text = f"X:1\nT:t\n{stray}\nM:6/8\nL:1/8\nZ:Jack Campin 2009\nK:G\nGBd dBd|geg dBd|]\n"
    tune = parse_abc(text)
    assert (tune.key.name, tune.meter, tune.fields["Z"]) == ("G major", "6/8", ["Jack Campin 2009"])
    assert [t.text for t in tune.tokens if t.kind == "bar"] == ["|", "|]"]
    assert pitches(tune)[:3] == [67, 71, 74]
    assert tune.warnings == [
        f"line {line} of the header, {stray!r}, is not a field: ignored (more fields and K: follow)"
    ]
    # the tunebook's cut, the title look-up and the file header agree with the parser
    book = f"M:2/4\nR:air\n\n{text}\nX:2\nT:u\nK:D\nDEF|\n"
    assert [t.meter for t in parse_tunebook(book)] == ["6/8", "2/4"]
    (_, one), _ = split_tunebook(book, standalone=True)
    assert one.count("M:") == 1 and parse_abc(one).fields["R"] == ["air"]
    assert header_title(text.replace("T:t\n", "") + "T:late\n") == ""
    assert header_title(f"X:1\n{stray}\nT:after\nK:G\nGAB|") == "after"
    assert header_span(text.split("\n")) == HeaderSpan(end=7, stray=(2,), ended=False)


def test_a_line_before_the_key_that_no_field_follows_is_still_music():
    # music in a tune without K:, and one with K: after a blank line, read as before
    assert pitches(parse_abc("X:1\nT:t\nGAB|\nK:D\nfed|\n")) == [67, 69, 71, 78, 76, 74]
    assert pitches(parse_abc("X:1\nT:t\nGAB|\ncde|\n")) == [67, 69, 71, 72, 74, 76]
    with pytest.raises(AbcParseError, match="line 3, column 3: no K: field, and 'think'"):
        parse_abc("X:1\nT:x\nI think this reel is nice\nM:6/8\nabc|\n")


def test_notes_between_two_bangs_are_said_dropped_as_an_unknown_decoration():
    """`!f2g2!` was dropped as a decoration without a word: notes lost from the corpus."""
    text = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\nCDEF!GABc!|d2e2!f2g2!|!GABc!a8|]\n"
    tune = parse_abc(text)
    assert pitches(tune) == [60, 62, 64, 65, 74, 76, 81]
    hint = "; a `!` that breaks the line needs I:linebreak !"
    assert tune.warnings == [  # once a name, at its first place
        f"unknown decoration !GABc! dropped (line 6, column 5){hint}",
        f"unknown decoration !f2g2! dropped (line 6, column 16){hint}",
    ]
    # a name that is no music warns without the hint; known names, in any case, do not warn
    odd = parse_abc("X:1\nL:1/8\nK:C\n!fermat:a!A !Segno!B +trill+c !D.C.!d !trem2!e|\n")
    assert odd.warnings == ["unknown decoration !fermat:a! dropped (line 4, column 1)"]
    # a `!` with a space or a bar line before the next one brackets nothing: the notes are read
    assert pitches(parse_abc("X:1\nL:1/8\nK:C\nCD!EF G|A!B|\n")) == [60, 62, 64, 65, 67, 69, 71]


def test_a_lone_bang_read_as_a_line_break_warns_once_a_tune_where_the_first_is():
    """Aird's Airs writes the line breaks of the printed book as a lone `!` (`A2g|!fed c2A|`),
    58 lines, without `I:linebreak !`: passed over as a line break without a word."""
    text = "X:1\nT:t\nM:3/8\nL:1/8\nK:G\ng|fed c2B|ABA A2g|!fed c2A|\nB3 g3|!\nd=3DB!G|]\n"
    tune = parse_abc(text)
    assert pitches(tune)[:10] == [79, 78, 76, 74, 72, 71, 69, 71, 69, 69]  # every note read
    assert len(pitches(tune)) == 21
    assert tune.warnings == [  # once, at the first
        "3 lone `!` (no `!..!` decoration) read as line breaks, the first at line 6, column 19; "
        "a `!` that breaks the line needs I:linebreak !"
    ]
    one = parse_abc("X:1\nL:1/8\nK:C\nCDEF|\nG=3DABc!|\n")  # its column as written
    assert one.warnings == [
        "a lone `!` (no `!..!` decoration) read as a line break at line 5, column 8; a `!` that "
        "breaks the line needs I:linebreak !"
    ]
    declared = parse_abc("X:1\nL:1/8\nI:linebreak !\nK:C\nCDEF|!GABc!|\n")
    assert declared.warnings == [] and pitches(declared) == pitches(one)


@pytest.mark.parametrize(
    "header",
    ["I:linebreak !", "I:linebreak <EOL> !", "%%linebreak ! % old style", "I:linebreak $ !"],
)
def test_a_declared_bang_line_break_is_never_a_decoration(header):
    """With `I:linebreak !` the `!` breaks the line: `!f2g2!` is two notes, read."""
    text = f"X:1\nT:t\nM:4/4\nL:1/8\n{header}\nK:C\nCDEF GABc|d2e2!f2g2!|a8|]\n"
    tune = parse_abc(text)
    assert pitches(tune) == [60, 62, 64, 65, 67, 69, 71, 72, 74, 76, 77, 79, 81]
    assert tune.warnings == []


def test_a_file_header_bang_line_break_reaches_tunes_with_other_directives():
    book = (
        "%%linebreak !\n\n"
        "X:1\nT:a\nI:abc-charset utf-8\nK:C\nCDEF!GABc!|\n\n"
        "X:2\nT:b\nI:linebreak $\nK:C\nCDEF!GABc!|\n"
    )
    first, second = parse_tunebook(book)
    assert pitches(first) == [60, 62, 64, 65, 67, 69, 71, 72] and first.warnings == []
    assert first.fields["I"] == ["linebreak !", "abc-charset utf-8"]  # the file header's first
    assert pitches(second) == [60, 62, 64, 65]  # its own `I:linebreak $` wins
    # the loader's standalone texts read as the book does
    texts = [text for _, text in split_tunebook(book, standalone=True)]
    assert texts[0].startswith("X:1\n%%linebreak !\nT:a\n") and "linebreak !" not in texts[1]
    assert [pitches(parse_abc(text)) for text in texts] == [pitches(first), pitches(second)]
    assert parse_abc(texts[0]).fields["I"] == first.fields["I"]


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_ends_read_like_unix_ones(newline):
    text = "X:1\nT:a\nM:2/4\nL:1/8\nK:G\nGA Bd|\nef ge|\n"
    want = parse_abc(text)
    got = parse_abc(text.replace("\n", newline))
    assert got.title == "a" and got.tokens == want.tokens


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_a_tunebook_file_header_is_read_with_any_line_ends(newline):
    """The file header was looked for before CR line ends were read as LF: a CR-only file's
    tunes lost its M: and L: (meter None, unit 1/8)."""
    book = "M:2/4\nL:1/16\n\nX:1\nT:One\nK:G\nGABc dcBA|\n".replace("\n", newline)
    (tune,) = parse_tunebook(book)
    assert (tune.meter, tune.unit) == ("2/4", F(1, 16))


def test_octave_marks_that_are_not_clefs_are_refused():
    for value in ("G -8x", "G treble8x", "G 8va"):
        with pytest.raises(ValueError, match="cannot read key|unknown mode"):
            parse_key_field(value)


def test_continued_header_fields_are_joined():
    # ABC 2.1 §6.1.1: a backslash at the end of a line joins the next line (a comment may follow)
    tune = parse_abc("X:1\nT:ABC-2.0 new fea\\\t% a comment\ntures\nM:2/4\nK:G\nGA B2|")
    assert tune.title == "ABC-2.0 new features"
    assert (tune.meter, tune.key.name, pitches(tune)) == ("2/4", "G major", [67, 69, 71])
    # a field line that follows is not swallowed: the backslash stays in the value
    tune = parse_abc("X:1\nT:a\\\nM:2/4\nK:G\nGA B2|")
    assert (tune.title, tune.meter) == ("a\\", "2/4")


def test_a_continued_field_among_the_music_takes_no_music_line():
    # only header fields are joined: a `w:` line ending with a backslash keeps the music after it
    tune = parse_abc("X:1\nM:4/4\nL:1/8\nK:C\nCDEF GABc|\nw: la la \\\ncdef gabc|]")
    assert pitches(tune) == [60, 62, 64, 65, 67, 69, 71, 72, 72, 74, 76, 77, 79, 81, 83, 72]


def test_continued_directive_takes_its_next_line():
    # BarFly writes `%%Bfly` directives over two lines (Aird's Airs in music21's corpus)
    text = "X:20\nT:Jollity.\nM:6/8\n%%Bfly 0 300 6 \\\n 0 0 3 2 1 4\nZ:Jack\nK:D\nded A2G|\n"
    tune = parse_abc(text)
    assert (tune.title, tune.fields["Z"], tune.key.name) == ("Jollity.", ["Jack"], "D major")
    assert pitches(tune) == [74, 76, 74, 69, 67]


def test_begintext_blocks_are_text():
    text = (
        "X:3\nT:Text\nM:2/4\nL:1/8\nK:G\nGA Bc|\n"
        "%%begintext align\nHere is a block of text\n\nwith a blank line.\n%%endtext\n"
        "de fg|]\n"
    )
    tune = parse_abc(text)
    assert pitches(tune) == [67, 69, 71, 72, 74, 76, 78, 79]
    # the blank line inside the block does not end the tune in a tunebook either
    book = text + "\nX:4\nT:Next\nK:D\nDE|\n"
    first, second = parse_tunebook(book)
    assert (first.title, second.title, first.tokens) == ("Text", "Next", tune.tokens)


def test_spacer_with_a_width():
    # abcm2ps: `y` may carry a width; it makes no token either way
    assert pitches(parse_abc("X:1\nL:1/8\nK:C\ny20C y D|")) == [60, 62]


def test_voice_overlay_keeps_the_first_voice():
    # ABC 2.1 §7.4: `&` overlays a second voice on the bar so far; the reader keeps the first
    text = "X:1\nM:4/4\nL:1/4\nK:C\ncdef&ABcd|GABc|\nCDEF & ABc\nd|EFGA|]"
    tune = parse_abc(text)
    assert pitches(tune) == [72, 74, 76, 77, 67, 69, 71, 72, 60, 62, 64, 65, 64, 65, 67, 69]
    assert [t.text for t in tune.tokens if t.kind == "bar"] == ["|", "|", "|", "|]"]
    assert tune.warnings == ["voice overlay (&) read as its first voice (line 5)"]
    # many overlays on one line are read piece by piece, not by recursion
    long = parse_abc("X:1\nL:1/4\nK:C\n" + "C&D|" * 3000)
    assert pitches(long) == [60] * 3000
    with pytest.raises(AbcParseError, match="overlay.*inside a chord"):
        parse_abc("X:1\nK:C\n[C&E]|")


@pytest.mark.parametrize("body", ["[C(3E]2 GAB|", "[A(3B]>c|", "[A(3B]>>c|", "[c2(3E2]|"])
def test_a_tuplet_inside_a_chord_is_refused_where_it_stands(body):
    """It was kept inside the chord: written back before it (`(3[CE]2`, another tune), its
    length scaled by a broken rhythm, or a writer crash on a non-integer q."""
    with pytest.raises(AbcParseError, match=r"line 4, column \d+: tuplet '\(\d' inside a chord"):
        parse_abc(f"X:1\nL:1/8\nK:C\n{body}")


@pytest.mark.parametrize("body", ["AB =3Dc}|", "AB =3Dc=3Dd }|", "AB } =3Dc|"])
def test_an_error_after_a_quoted_printable_equals_names_the_column_as_written(body):
    """`=3D` is read as `=`, and columns were counted in the shortened line (2 short each)."""
    with pytest.raises(AbcParseError) as err:
        parse_abc(f"X:1\nK:C\n{body}")
    assert (err.value.line, err.value.column) == (3, body.index("}") + 1)


def test_a_bad_file_header_field_is_named_as_the_file_headers():
    """It was reported at the tune's first music line (line 6 here), where nothing is wrong,
    then at its X: line (line 3): it is at the file header's line 1, its value at column 3."""
    (err,) = list(parse_tunebook("M:foo\n\nX:1\nT:a\nK:C\nABc|\n"))
    assert isinstance(err, AbcParseError) and (err.line, err.column) == (1, 3)
    assert err.message == (
        "cannot read meter 'foo' (the file header's M: field, before the first X: line, "
        "applied to this tune)"
    )


@pytest.mark.parametrize("text", [b"X:1\nK:G\nGAB|\n", None])
def test_text_that_is_not_a_string_is_a_type_error(text):
    """bytes or None was an `AbcParseError` "internal error" from parse_abc, and a bare
    TypeError or AttributeError from deep inside parse_tunebook."""
    with pytest.raises(TypeError, match=r"parse_abc reads ABC text, a str; got "):
        parse_abc(text)
    with pytest.raises(TypeError, match=r"parse_tunebook reads ABC text, a str; got "):
        parse_tunebook(text)  # at the call, not at the first tune


@pytest.mark.parametrize("rest", ["z", "x"])
def test_a_line_opening_with_a_rest_before_a_repeat_is_music(rest):
    """`z:|` was read as a field line and the music on it dropped without a word (abc2midi and
    music21 play it): z and x are no field letters, as the notes of `A:|` are read already."""
    tune = parse_abc(f"X:1\nM:4/4\nL:1/8\nK:G\n|:GABc dedB|dBAG E4|\n{rest}:|GABc d4|]\n")
    assert [t.kind for t in tune.tokens].count("rest") == 1
    assert [t.text for t in tune.tokens if t.kind == "bar"] == ["|:", "|", "|", ":|", "|]"]
    assert pitches(tune)[-5:] == [67, 69, 71, 72, 74]
    assert "z" not in tune.fields and "x" not in tune.fields
    # Z (transcription) is a field letter: `Z:|` stays a field line
    assert pitches(parse_abc("X:1\nL:1/8\nK:G\nGABc|\nZ:|abc|\n")) == [67, 69, 71, 72]


def test_an_unknown_field_letter_in_the_body_is_said_not_read():
    """An inline one is said with its column, as a dropped inline field is (it was not)."""
    tune = parse_abc("X:1\nL:1/8\nK:G\nGABc|\nh:a remark\ndB [j:foo]AG|\nW:words\n")
    assert pitches(tune) == [67, 69, 71, 72, 74, 71, 69, 67]
    assert tune.warnings == [
        "unknown field h: (not an ABC 2.1 field letter) ignored (line 5)",
        "unknown field j: (not an ABC 2.1 field letter) ignored (line 6, column 4)",
        "W: field (words) in the body not read: dropped (line 7)",  # a known letter, said too
    ]
    # the column as written, a quoted-printable `=3D` before it counted
    tune = parse_abc("X:1\nL:1/8\nK:G\n=3DF [j:foo] G|\n")
    assert tune.warnings[-1].endswith("ignored (line 4, column 6)")


def timed_rows(tune) -> list[tuple]:
    """``(offset, pitch, length)`` in eighth notes of each note of ``tune`` (a chord's notes at
    one offset), and ``("tie", pitch)`` after each tie on the note or chord ``pitch`` before
    it (the chord's pitches as a tuple), in token order."""
    rows: list[tuple] = []
    now, chord, last = F(0), None, None
    for token in tune.tokens:
        if token.kind == "note":
            rows.append((str(now * 8), token.pitch, str(token.dur * 8)))
            last = token.pitch
            if chord is None:
                now += token.dur
            else:
                chord.append(token)
        elif token.kind == "rest":
            now += token.dur
        elif token.kind == "chord_start":
            chord = []
        elif token.kind == "chord_end":
            now, last, chord = now + chord[0].dur, tuple(t.pitch for t in chord), None
        elif token.kind == "tie":
            rows.append(("tie", last))
    return rows


TIE_DROPPED = (
    "1 ties between notes of different pitches dropped (a tie joins one pitch; read as slurs)"
)


@pytest.mark.parametrize(
    ("body", "rows", "warned"),
    [
        # the E of the chord has no E after it: its tie joins nothing and goes, C's stays
        ("[C-E-]C", [("0", 60, "1"), ("tie", 60), ("0", 64, "1"), ("1", 60, "1")], True),
        ("[C-E-]|E2", [("0", 60, "1"), ("0", 64, "1"), ("tie", 64), ("1", 64, "2")], True),
        ("[C-E-]|[CG]", [("0", 60, "1"), ("tie", 60), ("0", 64, "1"), ("1", 60, "1"),
                         ("1", 67, "1")], True),
        ("[^C-E-]2 C", [("0", 61, "2"), ("tie", 61), ("0", 64, "2"), ("2", 61, "1")], True),
        # every tied pitch reaches the next chord, or the chord's tie is its outer one: kept
        ("[C-E-][CE]", [("0", 60, "1"), ("tie", 60), ("0", 64, "1"), ("tie", 64),
                        ("1", 60, "1"), ("1", 64, "1")], False),
        ("[CE]-[CE]", [("0", 60, "1"), ("0", 64, "1"), ("tie", (60, 64)), ("1", 60, "1"),
                       ("1", 64, "1")], False),
        ("[CE]-|C", [("0", 60, "1"), ("0", 64, "1"), ("tie", (60, 64)), ("1", 60, "1")], False),
        ("C-|[CE]", [("0", 60, "1"), ("tie", 60), ("1", 60, "1"), ("1", 64, "1")], False),
    ],
)  # fmt: skip
def test_a_chord_members_tie_that_no_note_of_its_pitch_follows_is_dropped(body, rows, warned):
    """ABC ties each note to the next note of its pitch: in ``[C-E-]C`` the C is held and the
    E's tie joins nothing (abc2midi 4.84: "Could not find note to be tied"). The reader kept
    it, without a word, because the C of the chord's group reached the next note."""
    from tokenization.abc_writer import write_abc

    tune = parse_abc(f"X:1\nT:Tie\nM:4/4\nL:1/8\nK:C\n{body}|]", corpus_format="standard")
    assert timed_rows(tune) == rows
    assert tune.warnings == ([TIE_DROPPED] if warned else [])
    text = write_abc(tune.tokens, key=tune.key, meter=tune.meter, unit=tune.unit)
    assert parse_abc(text, corpus_format="standard").tokens == tune.tokens


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("%%transpose 2\nCD|\n%%transpose -3 % down\nCD|]", [("%%transpose 2", 6),
                                                          ("%%transpose -3", 8)]),
        ("CD|\n%%MIDI transpose 2\nCD|]", [("%%MIDI transpose 2", 7)]),
        ("CD|\nI:MIDI transpose 2\nCD|]", [("I:MIDI transpose 2", 7)]),
        ("CD|[I:MIDI transpose 2]CD|]", [("I:MIDI transpose 2", 6)]),
        ("CD|\n%%titlefont Times 14\n% %%transpose 2\nCD|]", []),
        ("CD|CD|]", []),
    ],
)  # fmt: skip
def test_a_transposing_directive_is_said_not_read(body, said):
    """abcm2ps prints the notes after ``%%transpose N`` N semitones off (abc2midi ignores it),
    abc2midi plays them N off after ``%%MIDI transpose N``: the reader keeps the written notes,
    as abc2midi does the first, and passed over both without a word."""
    tune = parse_abc(f"X:1\nT:Up\nM:2/4\nL:1/8\nK:C\n{body}", corpus_format="standard")
    assert timed_rows(tune) == [("0", 60, "1"), ("1", 62, "1"), ("2", 60, "1"), ("3", 62, "1")]
    assert tune.warnings == [
        f"{text} not read (line {line}): the notes are read and played as written"
        for text, line in said
    ]


@pytest.mark.parametrize(
    "bar, read, warned",
    [
        # a start repeat's dots inside the bar line: kept, said with line and column (`|:]` was
        # a plain `|]`, `::]` an end `:|` and O'Neill's `|:|` a `||`, the start dropped unsaid)
        ("|:]", "|:", True),
        ("[|:]", "|:", True),
        ("::]", ":|:", True),
        ("|:|", "|:", True),
        (":|:|", ":|:", True),
        # ABC 2.1's own places for the dots: read as before, nothing said
        ("[|:", "|:", False),
        ("|]:", "|:", False),
        (":|]", ":|", False),
        (":||:", ":|:", False),
    ],
)
def test_a_start_repeat_with_dots_inside_the_bar_line_is_kept_and_said(bar, read, warned):
    tune = parse_abc(f"X:1\nM:2/4\nL:1/8\nK:D\nABcd {bar} defg :|\n")
    assert [t.text for t in tune.tokens if t.kind == "bar"] == [read, ":|"]
    said = [w for w in tune.warnings if "repeat dots inside" in w]
    expected = f"bar line {bar} has repeat dots inside it: read as {read}, a repeat starting there"
    assert said == ([f"{expected} (line 5, column 6)"] if warned else [])


def test_a_bar_line_with_repeat_dots_inside_is_said_once_a_spelling():
    """O'Neill's books end tunes with ``|:|``: one warning a tune names the first."""
    tune = parse_abc("X:1\nM:2/4\nL:1/8\nK:G\nGABc |:| dedB |:|\ngabg |:]\n")
    assert [t.text for t in tune.tokens if t.kind == "bar"] == ["|:", "|:", "|:"]
    said = [w for w in tune.warnings if "repeat dots inside" in w]
    assert [w.split(": read as")[0] for w in said] == [
        "bar line |:| has repeat dots inside it",
        "bar line |:] has repeat dots inside it",
    ]
    assert said[0].endswith("(line 5, column 6)") and said[1].endswith("(line 6, column 6)")


@pytest.mark.parametrize(
    "bar, read, said, column",
    [
        # one bar line with a start repeat and an ending number: the ending kept, the start said
        ("|:2", "|2", "bar line |:2", 6),
        ("::2", ":|2", "bar line ::2", 6),
        (":|:2", ":|2", "bar line :|:2", 6),
        ("[|:2", "|2", "bar line [|:2", 6),
        # two merged into one: `|:[2` lexes as `|:` and `[2`; thesession's `:||2|:` (an empty
        # second ending before a repeated part)
        ("|:[2", "|2", "bar lines |: then [2", 8),
        ("|: 2", "|2", "bar lines |: then 2", 9),
        (":|2|:", ":|2", "bar lines :|2 then |:", 9),
    ],
)
def test_a_repeat_start_with_an_ending_keeps_the_ending_and_says_the_start_dropped(
    bar, read, said, column
):
    """``|:2`` and ``|:[2`` were read as ``|2`` and ``::2`` as ``:|2`` without a word."""
    tune = parse_abc(f"X:1\nM:2/4\nL:1/8\nK:D\nABcd {bar} defg :|\n")
    assert [t.text for t in tune.tokens if t.kind == "bar"] == [read, ":|"]
    assert tune.warnings == [
        f"{said} (a repeat start and an ending at once) read as {read}, the start dropped: no "
        f"bar holds both (line 5, column {column})"
    ]


def test_a_repeat_start_with_an_ending_across_a_line_break_is_said_once_a_spelling():
    tune = parse_abc("X:1\nM:2/4\nL:1/8\nK:D\nABcd |:\n2 defg :|\nABcd |:\n2 defg :|\n")
    assert [t.text for t in tune.tokens if t.kind == "bar"] == ["|2", ":|", "|2", ":|"]
    assert [w.split(") read as")[0] for w in tune.warnings] == [
        "bar lines |: then 2 (a repeat start and an ending at once"
    ]
    assert tune.warnings[0].endswith("(line 6, column 1)")


@pytest.mark.parametrize("bar", [":|2", "|2", "[2", ":|[2", "|:", "::"])
def test_an_ending_or_a_start_alone_is_read_unsaid(bar):
    tune = parse_abc(f"X:1\nM:2/4\nL:1/8\nK:D\nABcd {bar} defg :|\n")
    assert tune.warnings == []


@pytest.mark.parametrize(
    "bar, read",
    [(":2", ":|2"), (":]2", ":|2"), (":1,3", ":|1,3"), (":2|", ":|2"), ("|\n:2", ":|2")],
)
def test_a_lone_colon_with_an_ending_ends_the_repeat_and_keeps_the_ending(bar, read):
    """``:2`` (for ``:|2``) was read as ``:|``, its ending lost without a word."""
    tune = parse_abc(f"X:1\nM:2/4\nL:1/8\nK:D\n|:ABcd|1 defg {bar} gfed :|\n")
    assert [t.text for t in tune.tokens if t.kind == "bar"] == ["|:", "|1", read, ":|"]
    written = bar.strip("|\n")
    line, column = (6, 1) if "\n" in bar else (5, 15)
    assert tune.warnings == [
        f"bar line {written} (a lone colon with an ending) read as {read}: a repeat ends there "
        f"and the ending opens (line {line}, column {column})"
    ]


def test_a_lone_colon_with_an_ending_is_said_once_a_spelling():
    tune = parse_abc("X:1\nM:2/4\nL:1/8\nK:D\n|:AB|1 cd:2 ef|]\n|:AB|1 cd:2 ef|]\n")
    assert [t.text for t in tune.tokens if t.kind == "bar"].count(":|2") == 2
    assert len(tune.warnings) == 1 and tune.warnings[0].endswith("(line 5, column 10)")


@pytest.mark.parametrize("bar", [":", ":]", ":|2", ":|"])
def test_a_lone_colon_or_a_written_end_repeat_ending_is_read_unsaid(bar):
    tune = parse_abc(f"X:1\nM:2/4\nL:1/8\nK:D\n|:ABcd {bar} defg :|\n")
    assert tune.warnings == []
