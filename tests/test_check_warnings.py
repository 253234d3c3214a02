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
    """A second voice, an overlay, a stray `]`, a reserved `*` and an unknown decoration were
    dropped without a word from check: only `tune.warnings` said so. A key change read as
    written still says nothing."""
    path = tmp_path / "book.abc"
    path.write_text("\n".join([TWO_VOICES, OVERLAY, SLIPS, READ_AS_WRITTEN]), encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert "round-trip ok: 4" in capsys.readouterr().out
    assert warnings_of(caplog, "tokenization.check") == [
        f"{path}: X:1 Two Voices: voice V:2 dropped",
        f"{path}: X:2 Overlay: voice overlay (&) read as its first voice (line 14)",
        f"{path}: X:3 Slips: `*` inside the music ignored (a reserved character; line 20, "
        "column 7)",
        f"{path}: X:3 Slips: unknown decoration !wobble! dropped (line 20, column 12)",
        f"{path}: X:3 Slips: ']' without a chord before a bar line dropped (line 20, column 27)",
    ]


def test_check_counts_the_new_kinds_by_reason_past_five(tmp_path, caplog):
    """Past the first five, the summary line counts the warnings by their kind."""
    path = tmp_path / "voices.abc"
    path.write_text(
        "\n".join(TWO_VOICES.replace("X:1", f"X:{x}") for x in range(1, 8)), encoding="utf-8"
    )
    assert main(["check", str(path)]) == 0
    said = warnings_of(caplog, "tokenization.check")
    assert said[-1] == (
        "... and 2 more tune warnings (not shown); 7 in all, by reason: {'voices dropped (only "
        "the first is read)': 7}"
    )
