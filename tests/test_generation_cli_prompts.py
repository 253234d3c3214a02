"""`irish-tune generate --prompt`: the prompt file read and checked before sampling (a
thesession dump, headerless bars, text before the tune, stdin), its errors and warnings at the
file's lines, on the tiny model of `tests/helpers.py`."""

from __future__ import annotations

import json
import re

import pytest
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
    stderr_said,
    warnings_of,
)


def test_cli_a_prompt_from_a_thesession_dump_is_its_one_tune(tmp_path, capsys):
    """``--prompt tunes.json`` (which check and render take) failed in the ABC reader:
    "line 1, column 163: unexpected character ','"."""
    from modeling_irish.cli import main
    from modeling_irish.generation_cli import _read_prompt

    row = {"name": "One", "type": "reel", "meter": "4/4", "mode": "Dmajor", "abc": "ABcd efga|"}
    one, two = tmp_path / "one.json", tmp_path / "tunes.json"
    one.write_text(json.dumps([row]), encoding="utf-8")
    two.write_text(json.dumps([row, {**row, "name": "Two"}]), encoding="utf-8")
    prompt, line_offset = _read_prompt(str(one))  # its lines: those of the row's text
    assert line_offset == 0
    assert "T:One\n" in prompt and "K:D" in prompt and prompt.rstrip().endswith("ABcd efga|")
    assert main(["generate", "--model", "missing", "--prompt", str(two)]) == 2
    assert (
        f"--prompt {two} is a thesession.org dump of 2 tunes: a prompt is one tune"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "is empty"),
        (" \n\n", "is empty"),
        ("This is some text about a tune\n", "'This' reads as text, not music"),
        ("X:1\nT:Notes\nThis is some text about a tune\n", "'This' reads as text, not music"),
        ("X:1\nT:t\nM:6/8\nK:G\n", "tune has no notes"),
        # the reader's "give one tune per string, e.g. a list" speaks to Python callers
        ("X:1\nK:G\nGAB|\n\nX:2\nK:G\nGAB|\n", "holds 2 tunes (X: lines 1, 5): a prompt is one"),
    ],
)
def test_cli_prompt_file_is_checked_before_sampling(tmp_path, capsys, text, message):
    from modeling_irish.cli import main

    prompt = tmp_path / "prompt.abc"
    prompt.write_text(text, encoding="utf-8")
    assert main(["generate", "--model", "missing", "--prompt", str(prompt)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"irish-tune generate: --prompt {prompt}") and message in err


@pytest.mark.parametrize(
    "text, said",
    [
        ("X:1\nM:6/8\nK:G\n", "--key G --meter 6/8 without --prompt"),
        ("M:6/8\nK:G\n", "--key G --meter 6/8 without --prompt"),  # no X: line either
        ("X:1\nM:C|\nK:A dor % the key\n|: :|\n", "--key 'A dor' --meter 'C|' without"),
        ("X:1\nM:none\nK:none\n", "--key ... --meter ... without --prompt"),
    ],
)
def test_cli_a_prompt_of_a_header_alone_says_to_give_key_and_meter(tmp_path, capsys, text, said):
    """A header pasted to set the key and meter was refused as "line 1, column 1: tune has no
    notes" alone, with no word of how to set them; ``irish-tune check`` keeps the reader's."""
    from modeling_irish.cli import main

    prompt = tmp_path / "prompt.abc"
    prompt.write_text(text, encoding="utf-8")
    assert main(["generate", "--model", "missing", "--prompt", str(prompt)]) == 2
    err = capsys.readouterr().err
    assert "line 1, column 1: tune has no notes" in err
    assert f"to set only the key and meter, give {said}" in err
    assert "or add the first notes of the tune after its K: line" in err
    assert main(["check", str(prompt)]) == 1
    assert "key and meter" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "text, said",
    [
        ("M:6/8\nGAB [[c]]|\n", "line 2, column 6: nested chord"),
        ("\n\nM:6/8\nGAB [[c]]|\n", "line 4, column 6: nested chord"),
        ("\nThis is some text about a tune\n", "line 2, column 1: no K: field, and 'This'"),
    ],
)
def test_cli_a_headerless_prompt_error_names_the_file_not_a_tune(tmp_path, capsys, text, said):
    """A prompt file without headers failed as ``--prompt FILE: tune: line N, ...``: "tune"
    is the reader's name for a tune without a title, which the user never typed."""
    from modeling_irish.cli import main

    prompt = tmp_path / "prompt.abc"
    prompt.write_text(text, encoding="utf-8")
    assert main(["generate", "--model", "missing", "--prompt", str(prompt)]) == 2
    err = capsys.readouterr().err
    assert f"irish-tune generate: --prompt {prompt}, {said}" in err and "tune:" not in err


def test_cli_a_headerless_prompt_after_blank_lines_is_continued(model_dir, tmp_path, caplog):
    """Bars after blank lines were refused as "tune has no notes" (the blank lines ended the
    tune before them); they are read after them, their warnings at the file's lines."""
    import logging

    from modeling_irish.cli import main
    from modeling_irish.generation_cli import _read_prompt

    prompt = tmp_path / "prompt.abc"
    prompt.write_text("\n \n|:GAG GAB|!foo!ABA ABd|\n", encoding="utf-8")
    assert _read_prompt(str(prompt)) == ("|:GAG GAB|!foo!ABA ABd|", 2)
    argv = ["generate", "--model", model_dir, "--prompt", str(prompt), "--meter", "6/8"]
    with caplog.at_level(logging.WARNING):
        assert main([*argv, "--num-bars", "4"]) == 0
    (said,) = [r.getMessage() for r in caplog.records if "not read exactly" in r.getMessage()]
    assert "!foo! dropped (line 3, column 11)" in said, said  # as in the file


def test_cli_prompt_file_with_text_before_its_tune_is_continued(model_dir, tmp_path, capsys):
    """A tunebook's free text before X: was read as the tune ("no K: field, and 'Tunes' reads
    as text, not music"), though `irish-tune check` reads the file."""
    from modeling_irish.cli import main

    prompt = tmp_path / "prompt.abc"
    prompt.write_text(
        "Tunes for Tuesday\n\nX:1\nT:K\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|\n", encoding="utf-8"
    )
    argv = ["generate", "--model", model_dir, "--prompt", str(prompt), "--num-tunes", "1"]
    assert main([*argv, "--num-bars", "4"]) == 0
    out = capsys.readouterr().out
    assert "T:K, continued 1\nM:6/8\nL:1/8\nK:G\n|: GAG GAB | ABA ABd |" in out
    prompt.write_text(
        "Tunes for Tuesday\n\nX:1\nT:Notes\nThis is some text about a tune\n", encoding="utf-8"
    )
    assert main(argv) == 2  # the reader's error at its line of the file
    said = f"--prompt {prompt}: X:1 Notes: line 5, column 1: no K: field, and 'This' reads as text"
    assert said in capsys.readouterr().err


def test_cli_prompt_warnings_are_said_once_not_once_a_batch(model_dir, tmp_path, caplog):
    """A prompt's warnings were said again for each batch (``--batch-size 1``: each tune),
    and a file header's ``I:MIDI transpose 2``, said for the file, again as the prompt's."""
    import logging

    from modeling_irish.cli import main

    prompt = tmp_path / "prompt.abc"
    book = "I:MIDI transpose 2\n\nX:1\nT:K\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|\nW:words\n"
    prompt.write_text(book, encoding="utf-8")
    argv = ["generate", "--model", model_dir, "--prompt", str(prompt), "--num-bars", "4"]
    with caplog.at_level(logging.WARNING):
        assert main([*argv, "--num-tunes", "3", "--batch-size", "1"]) == 0
    said = [r.getMessage() for r in caplog.records]
    (header,) = [line for line in said if "transpose" in line]
    assert header.startswith(f"{prompt}: I:MIDI transpose 2 in the file header not read (line 1)")
    (own,) = [line for line in said if "the prompt was not read exactly" in line]
    assert "W: field (words) in the body not read" in own
    assert len(said) == len(set(said)), said
    assert not logging.getLogger("modeling_irish.generation").filters  # taken off after


def test_cli_prompt_warnings_name_the_lines_and_columns_of_the_file(model_dir, tmp_path, caplog):
    """They named the lines of the tune text with the file header's fields written in after
    its X: line: a W: at line 11 of the file was said at line 9 (and !foo! at 8)."""
    import logging

    from modeling_irish.cli import main

    prompt = tmp_path / "prompt.abc"
    body = "|:GAG GAB|!foo!ABA ABd|\nW:words\n"
    book = f"%abc-2.1\nC:Trad\nO:Ireland\n\nX:1\nT:K\nM:6/8\nL:1/8\nK:G\n{body}"
    prompt.write_text(book, encoding="utf-8")
    argv = ["generate", "--model", model_dir, "--prompt", str(prompt), "--num-bars", "4"]
    with caplog.at_level(logging.WARNING):
        assert main(argv) == 0
    (said,) = [r.getMessage() for r in caplog.records if "not read exactly" in r.getMessage()]
    places = re.findall(r"(W: field|!foo!) [^;]*?\(line (\d+)(?:, column (\d+))?\)", said)
    lines = book.split("\n")
    held = {what: lines[int(at) - 1][int(column or 1) - 1 :] for what, at, column in places}
    assert held.keys() == {"W: field", "!foo!"}, said
    assert held["W: field"] == "W:words" and held["!foo!"].startswith("!foo!ABA"), said


def test_cli_prompt_from_stdin_and_wav_said_once(model_dir, tmp_path, monkeypatch, capsys):
    import io

    from modeling_irish.cli import main

    monkeypatch.setattr("modeling_irish.render.SOUNDFONT_PATHS", ())  # WAV cannot be made
    monkeypatch.delenv("SOUNDFONT", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("X:1\nM:6/8\nL:1/8\nK:G\n|:GAB d2e|dBG"))
    out = tmp_path / "out"
    argv = ["generate", "--model", model_dir, "--prompt", "-", "--num-tunes", "2"]
    assert main([*argv, "--num-bars", "4", "--out", str(out), "--render", "midi,wav"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("WAV needs") == 1
    abc = (out / "tune_1.abc").read_text(encoding="utf-8")
    assert "M:6/8" in abc and "K:G" in abc and "|: GAB" in abc  # the prompt, continued
    assert (out / "tune_2.mid").exists() and not (out / "tune_2.wav").exists()


@pytest.mark.parametrize("text", ["X:1\nM:6/8\nK:G\nGAG GAB|\n", "GAG GAB|ABA ABd|"])
def test_cli_prompt_given_as_abc_text_says_to_use_a_file_or_stdin(capsys, text):
    """``--prompt "X:1..."`` (ABC text, as ``generate(prompt=...)`` takes it) failed as
    ``no such file: X:1``: the first line of the text, as if it were a file name."""
    from modeling_irish.cli import main

    assert main(["generate", "--model", "missing", "--prompt", text]) == 2
    err = capsys.readouterr().err
    assert err.startswith("irish-tune generate: --prompt takes an ABC file ('-': stdin), not ABC")
    assert "--prompt -" in err and "no such file" not in err


def test_cli_a_prompt_written_in_another_key_by_key_is_said_on_stderr(model_dir, tmp_path, caplog):
    """``--prompt FILE --key D`` with a prompt in G wrote it in D without a word."""
    import logging

    from modeling_irish.cli import main

    prompt = tmp_path / "prompt.abc"
    prompt.write_text("X:1\nT:K\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|\n", encoding="utf-8")
    argv = ["generate", "--model", model_dir, "--prompt", str(prompt), "--num-bars", "4"]
    with caplog.at_level(logging.WARNING):
        assert main([*argv, "--key", "D"]) == 0
        said = [r.getMessage() for r in caplog.records if "transposed" in r.getMessage()]
        assert said == [
            "the prompt is transposed from G major to D major, the key asked for (key=, --key "
            "on the command line); leave the key out to keep the prompt's own"
        ]
        caplog.clear()
        assert main([*argv, "--key", "G"]) == 0
    assert not [r for r in caplog.records if "transposed" in r.getMessage()]
