"""`irish-tune check`: counts, JSON shape, failures with reasons; whole-corpus round trip (slow).
The inputs it reads (encodings, thesession dumps, files without tunes, stdin, files given after
options) are tested in `test_check_cli_inputs.py`; the round trip's findings (rows, keys, meter,
tempo and parts written back) in `test_check_cli_round_trip.py`."""

from __future__ import annotations

import errno
import io
import json
import os
import sys
from pathlib import Path

import pytest
from helpers import require_corpus, warnings_of

from modeling_irish.cli import main
from tokenization.check import check_files

GOOD = """X:1
T:Good One
R:reel
M:4/4
L:1/8
K:Ador
|:EAAB c2BA|GEDE G2ED|EAAB c2Bc|dcBG A2A2:|
"""
BAD = """X:2
T:Broken One
M:4/4
L:1/8
K:G
GABc ]d|
"""


@pytest.fixture
def tunebook(tmp_path: Path) -> Path:
    path = tmp_path / "book.abc"
    path.write_text(GOOD + "\n" + BAD + "\n" + GOOD.replace("X:1", "X:3"), encoding="utf-8")
    return path


def test_check_json_prints_exactly_one_object(tunebook, capsys):
    assert main(["check", str(tunebook), "--json"]) == 1  # one tune fails, as a linter says
    out = capsys.readouterr().out
    data = json.loads(out)  # exactly one JSON document
    assert set(data) == {"tunes", "parsed", "round_trip_ok", "files_without_tunes", "failures"}
    assert (data["tunes"], data["parsed"], data["round_trip_ok"]) == (3, 2, 2)
    (failure,) = data["failures"]
    assert "Broken One" in failure["tune"]
    assert "line 14, column 6" in failure["error"]  # the stray "]" in the file


def test_check_text_mode_lists_failures(tunebook, capsys):
    assert main(["check", str(tunebook)]) == 1
    out = capsys.readouterr().out
    assert "tunes: 3  parsed: 2  round-trip ok: 2" in out
    assert "FAIL " in out and "Broken One: parse: line 14, column 6" in out


def test_a_tune_of_bar_lines_alone_fails_with_its_place(tmp_path, capsys):
    """Chord symbols or grace notes between bar lines, and no note, were reported parsed
    and round-tripped (tokens ``[|]]``); now a failure located at the tune's X: line."""
    chords = BAD.replace("X:2", "X:4").replace("Broken One", "Chords only")
    chords = chords.replace("GABc ]d|", '"G" "D" | "Em" "C" |]')
    graces = chords.replace("X:4", "X:5").replace('"G" "D" | "Em" "C" |]', "{gag} | {ded} |]")
    path = tmp_path / "book.abc"
    path.write_text(GOOD + "\n" + chords + "\n" + graces, encoding="utf-8")
    assert main(["check", "--bars", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["tunes"], data["parsed"], data["round_trip_ok"]) == (3, 1, 1)
    assert [f["error"] for f in data["failures"]] == [
        f"parse: line {line}, column 1: tune has no notes: bar lines but no note or rest"
        for line in (9, 16)
    ]


def test_a_tune_normalised_out_of_midi_fails_at_its_note(tmp_path, capsys):
    """C#,,,,, (MIDI 1) in D major goes to -1 on the white keys: training and every model
    command refuse the tune (`read_tune`), while check said "round-trip ok" (its round trip,
    at the pitches as written, holds). Now a failure at the note, as they name it."""
    low = GOOD.replace("X:1", "X:2").replace("Good One", "Too Low").replace("K:Ador", "K:D")
    path = tmp_path / "book.abc"
    path.write_text(GOOD + "\n" + low + "D C,,,,,|\n", encoding="utf-8")
    assert main(["check", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["tunes"], data["parsed"], data["round_trip_ok"]) == (2, 1, 1)
    assert data["failures"] == [
        {
            "tune": f"{path}: X:2 Too Low",
            "error": "parse: line 16, column 3: pitch 1 moves to -1 when the tune goes from D "
            "major onto the white keys (C major), outside the MIDI range 0-127",
        }
    ]


def test_check_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.abc")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.slow
def test_whole_shared_corpus_parses_and_round_trips():
    report = check_files([require_corpus()])
    assert report.tunes == 20721
    assert report.round_trip_ok / report.tunes >= 0.995
    assert report.tunes - report.round_trip_ok + report.files_without_tunes == len(report.failures)
    assert all(f["error"] for f in report.failures)


SHORT_BAR = """X:4
T:Short Bar
M:2/4
L:1/8
K:G
|:GABc|dBG|GABc|d2B2:|
"""


def test_check_bars_counts_tunes_whose_bars_fit(tmp_path, capsys):
    path = tmp_path / "bars.abc"
    path.write_text(GOOD + "\n" + SHORT_BAR + "\n" + BAD, encoding="utf-8")
    assert main(["check", "--bars", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {
        "tunes", "parsed", "round_trip_ok", "files_without_tunes", "failures", "bars"
    }  # fmt: skip
    bars = data["bars"]
    assert (bars["checked"], bars["fit"], bars["free_meter"]) == (2, 1, 0)
    (problem,) = bars["problems"]
    assert "Short Bar" in problem["tune"]
    assert problem["problems"] == ["bar 2: 3 of 4 eighths in 2/4 (short)"]
    main(["check", "--bars", str(path)])
    out = capsys.readouterr().out
    assert "bars fit the meter in 1 of 2 tunes (50.0%)" in out
    assert "BARS" in out and "bar 2: 3 of 4 eighths" in out


def test_check_bars_skips_a_tune_without_bar_lines_and_says_so(tmp_path, capsys):
    """A tune with no bar line (``%%MIDI nobarlines``) was reported as one bar far too long and
    made the run fail; it is counted apart, as free meter is."""
    unbarred = "X:5\nT:Unbarred\n%%MIDI nobarlines\nM:2/4\nL:1/8\nK:G\nGABc dBG2 GABc d2B2\n"
    path = tmp_path / "bars.abc"
    path.write_text(GOOD + "\n" + unbarred, encoding="utf-8")
    assert main(["check", "--bars", str(path), "--json"]) == 0
    bars = json.loads(capsys.readouterr().out)["bars"]
    assert (bars["checked"], bars["fit"], bars["free_meter"], bars["no_bar_lines"]) == (1, 1, 0, 1)
    assert bars["problems"] == []
    assert main(["check", "--bars", str(path)]) == 0
    out = capsys.readouterr().out
    assert "bars fit the meter in 1 of 1 tunes (100.0%); 0 in free meter and 1 without" in out
    assert "Unbarred" not in out


def test_model_commands_refuse_missing_or_wrong_folders(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    abc = tmp_path / "s.abc"
    abc.write_text(GOOD, encoding="utf-8")
    for argv, expected in (
        (["evaluate-lm", "--model", str(tmp_path / "nope"), str(abc)], "no model folder"),
        (["generate", "--model", str(tmp_path / "nope")], "no model folder"),
        (["index", "--tokenizer", str(empty), str(abc), "--out", str(tmp_path / "i")],
         "holds no abc_vocab.json"),
        (["evaluate-lm", "--model", str(empty), str(abc)], "holds no saved model (no config.json)"),
        (["generate", "--model", str(abc)], "is a file; give the model folder"),
    ):  # fmt: skip
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err


def _saved_lm(folder: Path, tunes: list[str]) -> None:
    from helpers import tiny_measurenote_config

    from modeling_irish import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcTokenizer

    tok = AbcTokenizer.train(tunes)
    MeasureNoteForCausalLM(
        tiny_measurenote_config(vocab_sizes=tok.abc_vocab.sizes)
    ).save_pretrained(folder)
    tok.save_pretrained(folder)


def test_model_commands_refuse_broken_or_mismatched_folders(tmp_path, capsys):
    abc = tmp_path / "s.abc"
    abc.write_text(GOOD, encoding="utf-8")
    _saved_lm(tmp_path / "lm", [GOOD])
    assert main(["evaluate-lm", "--model", str(tmp_path / "lm"), str(abc), "--json"]) == 0
    assert "Loading weights" not in capsys.readouterr().err  # no progress bar for a small load
    # a tokenizer of another corpus in the model's folder: its ids would be other tokens
    _saved_lm(tmp_path / "other", [GOOD, "X:2\nK:Bb\nB,2_e2 g4|]\n"])
    (tmp_path / "lm" / "abc_vocab.json").write_bytes(
        (tmp_path / "other" / "abc_vocab.json").read_bytes()
    )
    # a truncated weights file, and a tune-title config where a MeasureNote one is wanted
    _saved_lm(tmp_path / "cut", [GOOD])
    weights = tmp_path / "cut" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    (tmp_path / "tt").mkdir()
    (tmp_path / "tt" / "config.json").write_text('{"model_type": "tune_title"}', encoding="utf-8")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{\n", encoding="utf-8")  # cut short
    for argv, expected in (
        (["generate", "--model", str(tmp_path / "bad")], "bad/config.json is damaged"),
        (["evaluate-lm", "--model", str(tmp_path / "lm"), str(abc)], "the tokenizer does not fit"),
        (["evaluate-lm", "--model", str(tmp_path / "cut"), str(abc)], "cannot load the model in"),
        (
            ["generate", "--model", str(tmp_path / "tt")],
            "holds a 'tune_title' model; --model wants",
        ),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err, err


def test_help_shows_the_defaults_that_mean_something(capsys):
    from training.arguments import parse_args

    for run in (lambda: main(["generate", "--help"]), lambda: parse_args(["--help"])):
        with pytest.raises(SystemExit) as exit_info:
            run()
        assert exit_info.value.code == 0
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        for absent in ("(default: None)", "(default: False)", "(default: [])"):
            assert absent not in text
        assert "(default: 0)" in text  # a zero is a default worth showing
    assert "Peak Adam learning rate. (default: 0.0003)" in text


def test_version_and_small_argument_checks(tmp_path, capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"irish-tune {version('modeling-irish')}"
    with pytest.raises(SystemExit) as exit_info:
        main(["identify", "--index", str(tmp_path), "--hybrid-weight", "-3"])
    assert exit_info.value.code == 2
    assert "argument --hybrid-weight: must be a finite number >= 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # a usage error, with the usage line
        main(["evaluate-generation", "--model", str(tmp_path), "--max-train-tunes", "5"])
    assert exit_info.value.code == 2
    assert "--max-train-tunes limits --train" in capsys.readouterr().err


def test_an_interrupted_command_says_so_and_exits_130(tmp_path, capsys, monkeypatch):
    import tokenization.check as check

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(check, "check_files", interrupted)
    assert main(["check", str(tmp_path)]) == 130
    assert capsys.readouterr().err.strip() == "irish-tune check: interrupted"


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path):
    """`irish-tune check ... --json | head -c 10`: the closed pipe stops the command with the
    shell's status for it (141), not an error message (the report of 2,000 bad tunes is longer
    than the pipe's buffer, so writing it meets the closed pipe)."""
    import subprocess
    import sys

    tunebook = tmp_path / "bad.abc"
    tunebook.write_text(
        "".join(f"X:{i}\nT:Bad {i}\nK:D\nCD^3E|\n\n" for i in range(2000)), encoding="utf-8"
    )
    code = "import sys; from modeling_irish.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "check", str(tunebook), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout.read(10) == b'{"tunes": '
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Broken pipe" not in err and "Traceback" not in err


class _FullDisk(io.StringIO):
    """A stdout on a full disk (``> /dev/full``): every write refused with ENOSPC."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_stdout_that_cannot_be_written_is_named_in_the_error(tmp_path, capsys, monkeypatch):
    """``irish-tune check tunes.abc > /dev/full`` said ``[Errno 28] No space left on device``
    without saying what could not be written: the line names standard output, status 2."""
    clean = tmp_path / "clean.abc"
    clean.write_text(GOOD, encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", _FullDisk())
    assert main(["check", str(clean)]) == 2
    err = capsys.readouterr().err
    assert err == "irish-tune check: cannot write to standard output: No space left on device\n"


def test_an_error_naming_no_file_is_not_blamed_on_stdout(tmp_path, capsys, monkeypatch):
    """An OSError naming no file from elsewhere (a library's write): stdout still writes, so
    the line is the error's own, not said to be about standard output."""
    import modeling_irish.cli as cli

    def full_disk(args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli, "run_check", full_disk)
    clean = tmp_path / "clean.abc"
    clean.write_text(GOOD, encoding="utf-8")
    assert main(["check", str(clean)]) == 2
    assert capsys.readouterr().err == "irish-tune check: [Errno 28] No space left on device\n"


def test_a_missing_file_is_not_blamed_on_a_full_stdout(tmp_path, capsys, monkeypatch):
    """``irish-tune check missing.abc > /dev/full`` said ``cannot write to standard output: no
    such file: missing.abc``: /dev/full refuses even an empty flush, so the check took any error
    naming no file for stdout's. Only an error of the system (an errno) can be stdout's."""
    monkeypatch.setattr(sys, "stdout", _FullDisk())
    missing = tmp_path / "missing.abc"
    assert main(["check", str(missing)]) == 2
    assert capsys.readouterr().err == f"irish-tune check: no such file: {missing}\n"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--top-p", "2", "must be in (0, 1]"),
        ("--temperature", "-1", ">= 0"),
        ("--top-k", "-3", ">= 0"),
    ],
)
def test_sampling_flags_are_checked_by_name(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--model", str(tmp_path), flag, value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: " in err and message in err


def test_check_exit_status_follows_the_findings(tmp_path, capsys, monkeypatch):
    clean = tmp_path / "clean.abc"
    clean.write_text(GOOD, encoding="utf-8")
    assert main(["check", str(clean)]) == 0
    short = tmp_path / "short.abc"
    short.write_text(SHORT_BAR, encoding="utf-8")
    assert main(["check", str(short)]) == 0  # the bars are only checked with --bars
    assert main(["check", "--bars", str(short)]) == 1
    assert main(["check", "--bars", "--exit-zero", str(short)]) == 0
    empty = tmp_path / "empty.abc"
    empty.write_text("", encoding="utf-8")
    assert main(["check", str(empty), "--json"]) == 1
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["failures"] == [
        {"tune": str(empty), "error": "empty file"}
    ]
    (tmp_path / "nothing").mkdir()
    assert main(["check", str(tmp_path / "nothing")]) == 2
    assert "no .abc files" in capsys.readouterr().err


def test_max_failures_must_be_positive(tmp_path):
    from modeling_irish.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--max-failures", "-1", str(tmp_path)])
    assert exit_info.value.code == 2


def test_existing_folder_argument_type(tmp_path):
    import argparse

    from modeling_irish.cli import existing_folder

    assert existing_folder(str(tmp_path)) == str(tmp_path)
    with pytest.raises(argparse.ArgumentTypeError, match="no such folder"):
        existing_folder(str(tmp_path / "missing"))


def test_check_calls_progress_once_a_tune(tunebook, capsys):
    calls = []
    report = check_files([str(tunebook)], progress=lambda: calls.append(1))
    assert len(calls) == report.tunes == 3
    # off a terminal the command's progress bar stays silent: stderr is empty
    assert main(["check", str(tunebook), "--json", "--exit-zero"]) == 0
    assert capsys.readouterr().err == ""


def test_a_misspelled_flag_shows_its_commands_usage_and_the_nearest_flag(tmp_path, capsys):
    """An unknown flag of a sub-command showed the top-level usage (``irish-tune [-h]
    [--version] COMMAND ...``), which lists no flag of the command."""
    with pytest.raises(SystemExit) as exit_info:
        main(["identify", "--index", str(tmp_path), "snippet.abc", "--jsn"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: irish-tune identify ")
    assert "irish-tune identify: error: unrecognized arguments: --jsn (did you mean --json?)" in err
    with pytest.raises(SystemExit):
        main(["check", "book.abc", "--jsn", "--zzz"])
    err = capsys.readouterr().err
    assert "unrecognized arguments: --jsn --zzz (--jsn: did you mean --json?)\n" in err


def test_check_names_music_after_a_blank_line_in_a_tune(tmp_path, capsys, caplog):
    """A blank line inside a tunebook's tune dropped the music after it, and check said all
    was fine."""
    path = tmp_path / "cut.abc"
    path.write_text(
        "X:1\nT:Cut\nK:D\nDEFG|\n\ndefg|\n\nX:2\nT:Whole\nK:D\nDEFG|\n", encoding="utf-8"
    )
    assert main(["check", str(path)]) == 0
    assert "round-trip ok: 2" in capsys.readouterr().out
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: X:1 Cut: 1 line(s) after the blank line 5 not read (a blank line ends a "
        "tune), the first at line 6"
    ]


def test_check_names_three_tune_warnings_a_kind_then_counts_them(tmp_path, capsys, caplog):
    """A warning a tune (text not read) flooded the terminal on a big, messy tunebook: the first
    three of each kind are named, then one line a kind counts them, over all the files at once
    (one cap for all kinds let eight cut tunes hide the notes lost between two `!`)."""
    cut = "X:{x}\nT:Cut {x}\nK:D\nDEFG|\n\ndefg|\n\n"
    bangs = "X:{x}\nT:Bangs {x}\nL:1/8\nK:D\nDEFG!ABcd!|!Coda!efga|]\n\n"
    first, second = tmp_path / "cut.abc", tmp_path / "bangs.abc"
    first.write_text("".join(cut.format(x=x) for x in range(1, 9)), encoding="utf-8")
    second.write_text("".join(bangs.format(x=x) for x in range(9, 13)), encoding="utf-8")
    assert main(["check", str(first), str(second)]) == 0
    assert "round-trip ok: 12" in capsys.readouterr().out
    said = warnings_of(caplog, "tokenization.check")
    assert said == [
        f"{first}: X:{x} Cut {x}: 1 line(s) after the blank line {7 * x - 2} not read (a blank "
        f"line ends a tune), the first at line {7 * x - 1}"
        for x in range(1, 4)
    ] + [
        f"{second}: X:{x} Bangs {x}: unknown decoration !ABcd! dropped (line {6 * x - 49}, "
        "column 5); a `!` that breaks the line needs I:linebreak !"
        for x in range(9, 12)
    ] + [
        "... and 5 more tune warnings 'not read (a blank line ends a tune)' (not shown); 8 in all",
        "... and 1 more tune warning 'a `!` that breaks the line needs I:linebreak !' (not "
        "shown); 4 in all",
    ]


def test_check_names_notes_dropped_as_an_unknown_decoration(tmp_path, capsys, caplog):
    """`CDEF!GABc!` (`!` for a line break, undeclared) lost GABc, and check said all was fine."""
    path = tmp_path / "bangs.abc"
    path.write_text("X:1\nT:Bangs\nL:1/8\nK:D\nDEFG!ABcd!|!Coda!efga|]\n", encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert "round-trip ok: 1" in capsys.readouterr().out
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: X:1 Bangs: unknown decoration !ABcd! dropped (line 5, column 5); a `!` that "
        "breaks the line needs I:linebreak !"
    ]


def test_check_names_a_lone_bang_read_as_a_line_break(tmp_path, capsys, caplog):
    """Aird's Airs' lone `!` (an old line break, undeclared) was passed over without a word."""
    path = tmp_path / "aird.abc"
    path.write_text("X:7\nT:Aird\nM:2/4\nL:1/8\nK:D\nDEFG|!ABcd|\nefga|!fedc|]\n", encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert "round-trip ok: 1" in capsys.readouterr().out
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: X:7 Aird: 2 lone `!` (no `!..!` decoration) read as line breaks, the first at "
        "line 6, column 6; a `!` that breaks the line needs I:linebreak !"
    ]


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["check", "a.abc", "--max-failures=--"], "--max-failures"),
        (["check", "a.abc", "--max-f=--"], "--max-failures"),
        (["identify", "--index=--", "a.abc"], "--index"),
        (["identify", "--index", "ix", "-k--", "a.abc"], "-k"),
    ],
)
def test_an_option_given_a_double_dash_as_its_value_is_a_usage_error(argv, flag, capsys):
    """argparse of Python <= 3.12.2 drops a ``--`` value and sets the option to ``[]``
    without its type: check printed its summary and then a traceback (slice indices)."""
    from modeling_irish.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"irish-tune {argv[0]}: error: argument {flag}: expected one argument" in err


def test_an_empty_format_list_is_refused_as_such_not_as_a_dropped_value(monkeypatch, capsys):
    """``--render=`` and ``render --formats=`` are refused by their type as giving no format,
    not as a ``--`` argparse dropped ("expected one argument")."""
    from modeling_irish.cli import main

    seen = []
    monkeypatch.setattr("modeling_irish.cli._resolve", lambda target: seen.append)
    for argv in (
        ["generate", "--model", "m", "--render="],
        ["render", "one.abc", "--formats=", "--out", "rx", "--", "--x--"],
    ):
        with pytest.raises(SystemExit) as refused:
            main(argv)
        assert refused.value.code == 2
        err = capsys.readouterr().err
        assert err.endswith(": no format given; choose from svg, midi, wav, musicxml "
                            "(comma-separated)\n")  # fmt: skip
    assert main(["render", "one.abc", "--formats=midi", "--out", "rx", "--", "--x--"]) == 0
    assert seen[0].formats == ["midi"] and seen[0].files == ["one.abc", "--x--"]
