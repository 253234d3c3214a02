"""The reader's warnings that `irish-tune check` prints (`tokenization.reader_warnings`): those
that say the music was read otherwise than it was written, and not those that say how it was
read as written."""

from __future__ import annotations

from helpers import warnings_of

from modeling_irish.cli import main

TWO_VOICES = "X:1\nT:Two Voices\nL:1/8\nK:D\nV:1\nDEFG ABcd|\nV:2\nFGAB cdef|\n"
OVERLAY = "X:2\nT:Overlay\nL:1/8\nK:D\nDEFG & FGAB|ABcd|\n"
SLIPS = "X:3\nT:Slips\nL:1/8\nK:D\nDEFG A*Bcd|!wobble!defg a4]|\n"
READ_AS_WRITTEN = "X:4\nT:Key Change\nL:1/8\nK:D\nDEFG ABcd|[K:G]GABc d4|\n"


def test_check_prints_voices_dropped_and_slips_dropped(tmp_path, capsys, caplog):
    """A second voice, an overlay, a stray `]` and a reserved `*` were dropped without a word
    from check: only `tune.warnings` said so. A key change read as written, and an unknown
    decoration dropped (no note lost), still say nothing."""
    path = tmp_path / "book.abc"
    path.write_text("\n".join([TWO_VOICES, OVERLAY, SLIPS, READ_AS_WRITTEN]), encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert "round-trip ok: 4" in capsys.readouterr().out
    assert warnings_of(caplog, "tokenization.check") == [
        f"{path}: X:1 Two Voices: voice V:2 dropped",
        f"{path}: X:2 Overlay: voice overlay (&) read as its first voice (line 14)",
        f"{path}: X:3 Slips: `*` inside the music ignored (a reserved character; line 20, "
        "column 7)",
        f"{path}: X:3 Slips: ']' without a chord before a bar line dropped (line 20, column 27)",
    ]


def test_check_counts_a_kind_past_three(tmp_path, caplog):
    """Past the first three of a kind, one summary line counts that kind."""
    path = tmp_path / "voices.abc"
    path.write_text(
        "\n".join(TWO_VOICES.replace("X:1", f"X:{x}") for x in range(1, 8)), encoding="utf-8"
    )
    assert main(["check", str(path)]) == 0
    said = warnings_of(caplog, "tokenization.check")
    assert len(said) == 4
    assert said[-1] == (
        "... and 4 more tune warnings 'voices dropped (only the first is read)' (not shown); 7 "
        "in all"
    )


def test_a_frequent_kind_does_not_hide_a_rare_one(tmp_path, caplog):
    """Ryan's 101 tunes with an undefined `k` took all five lines check printed, and O'Neill's
    music not read after a blank line was only counted in the summary: each kind is capped on
    its own, so the rare, serious one is named."""
    cut = "X:9\nT:Cut\nL:1/8\nK:D\nDEFG ABcd|\n\ndefg|\n"
    voices = [TWO_VOICES.replace("X:1", f"X:{x}") for x in range(1, 8)]
    path = tmp_path / "book.abc"
    path.write_text("\n".join([*voices, cut]), encoding="utf-8")
    assert main(["check", str(path)]) == 0
    said = warnings_of(caplog, "tokenization.check")
    assert said == [
        *(f"{path}: X:{x} Two Voices: voice V:2 dropped" for x in (1, 2, 3)),
        f"{path}: X:9 Cut: 1 line(s) after the blank line 69 not read (a blank line ends a "
        "tune), the first at line 70",
        "... and 4 more tune warnings 'voices dropped (only the first is read)' (not shown); 7 "
        "in all",
    ]


def test_check_prints_a_repeat_start_dropped_for_an_ending(tmp_path, caplog):
    """``|:2`` is read as ``|2``, the section after it played once, not twice: the reader said
    so, check did not (thesession's ``:||2|:``)."""
    path = tmp_path / "ending.abc"
    path.write_text("X:1\nT:Ending\nM:2/4\nL:1/8\nK:D\nABcd |:2 defg :|\n", encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert warnings_of(caplog, "tokenization.check") == [
        f"{path}: X:1 Ending: bar line |:2 (a repeat start and an ending at once) read as |2, "
        "the start dropped: no bar holds both (line 6, column 6)"
    ]


def test_check_prints_a_lone_colon_with_an_ending(tmp_path, caplog):
    """``:2`` is read as ``:|2``, the section before it played twice, where abc2midi (4.84)
    drops the digit, reads no repeat and plays it once: the reader said so, check did not."""
    path = tmp_path / "colon.abc"
    path.write_text(
        "X:1\nT:Colon\nM:2/4\nL:1/8\nK:D\n|: ABcd |1 defg :2 gfed |]\n", encoding="utf-8"
    )
    assert main(["check", str(path)]) == 0
    assert warnings_of(caplog, "tokenization.check") == [
        f"{path}: X:1 Colon: bar line :2 (a lone colon with an ending) read as :|2: a repeat ends "
        "there and the ending opens (line 6, column 17)"
    ]


def test_check_passes_repeat_dots_inside_a_bar_line_without_a_word(tmp_path, caplog):
    """O'Neill's ``|:|`` is read as ``|:``, the section after it repeated, as abc2midi plays
    it: the music played is the same, so check says nothing; the reader still says so."""
    from tokenization.abc_parser import parse_abc

    text = "X:1\nT:Dots\nM:2/4\nL:1/8\nK:D\nABcd |:| defg :| gfed |]\n"
    assert any("repeat dots inside it" in warning for warning in parse_abc(text).warnings)
    path = tmp_path / "dots.abc"
    path.write_text(text, encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert warnings_of(caplog, "tokenization.check") == []


def test_check_passes_an_unknown_decoration_without_a_word(tmp_path, caplog):
    """A letter no `U:` defines (Ryan's `k`) is dropped as a decoration: no note, length or row
    changes, so check says nothing (it named 101 of Ryan's tunes); the reader still says so."""
    from tokenization.abc_parser import parse_abc

    text = "X:1\nT:Letter\nL:1/8\nK:D\nkDEFG ABcd|\n"
    assert any("unknown decoration k" in warning for warning in parse_abc(text).warnings)
    path = tmp_path / "letter.abc"
    path.write_text(text, encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert warnings_of(caplog, "tokenization.check") == []


def test_check_prints_a_tune_without_k_read_as_c_major_at_its_x_line(tmp_path, caplog):
    """A tune with ``X:`` but no ``K:`` (ABC 2.1: the required last header field) was read as
    C major while check said nothing (the reader's note was not a kind check prints, and named
    no line): it is said once, at the tune's ``X:`` line. A tune with ``K:`` says nothing."""
    from tokenization.abc_parser import parse_abc

    keyless = "X:7\nT:Keyless\nM:4/4\nL:1/8\nABcd efga|bagf edcB|\n"
    tune = parse_abc(keyless, line_offset=10)
    assert tune.key.name == "C major"
    assert [w for w in tune.warnings if "K:" in w] == ["no K: field: read as C major (line 11)"]
    path = tmp_path / "keyless.abc"
    keyed = keyless.replace("X:7", "X:8").replace("T:Keyless", "T:Keyed\nK:G")
    path.write_text(f"{keyed}\n{keyless}", encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert warnings_of(caplog, "tokenization.check") == [
        f"{path}: X:7 Keyless: no K: field: read as C major (line 8)"
    ]


def test_check_counts_a_stray_bracket_in_a_bar_line_with_the_stray_brackets(tmp_path, caplog):
    """``|]]`` was read as ``|]``, a ``]`` dropped without a word: check prints it as the
    stray ``]`` beside a bar line (``a4]|``) it is."""
    from tokenization.reader_warnings import shown_kind

    path = tmp_path / "bracket.abc"
    path.write_text("X:1\nT:Bracket\nM:2/4\nL:1/8\nK:D\nABcd |]] defg |]\n", encoding="utf-8")
    assert main(["check", str(path)]) == 0
    said = "']' without a chord in bar line |]] dropped: read as |] (line 6, column 6)"
    assert warnings_of(caplog, "tokenization.check") == [f"{path}: X:1 Bracket: {said}"]
    assert shown_kind(said) == "stray brackets dropped"
