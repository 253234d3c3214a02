"""`irish-tune evaluate-generation`: its --train file (tunes it could not read named and
counted), its checks before reading it, and its JSON and text reports."""

from __future__ import annotations

import json
import re

import pytest
from helpers import GENERATION_TRAIN as TRAIN
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
    strict_loads,
)


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    """Each test runs in its own folder: --train's read is cached under ``runs/.cache`` of the
    working directory by default, which must not be the repository's."""
    monkeypatch.chdir(tmp_path)


def test_cli_evaluate_generation_train_file(model_dir, tmp_path, capsys):
    import json

    from modeling_irish.cli import main

    empty = tmp_path / "empty.abc"
    empty.write_text("", encoding="utf-8")
    argv = ["evaluate-generation", "--model", model_dir, "--json", "--no-readers"]
    assert main([*argv, "--train", str(empty)]) == 2
    assert f"--train {empty} has no readable tunes (empty file)" in capsys.readouterr().err
    folder = tmp_path / "emptydir"  # refused as check refuses it, not as a file without tunes
    folder.mkdir()
    assert main([*argv, "--train", str(folder)]) == 2
    assert (
        capsys.readouterr().err
        == f"irish-tune evaluate-generation: no .abc files in the folder {folder}\n"
    )
    latin = tmp_path / "latin.abc"
    latin.write_bytes(TRAIN[1].replace("T:b", "T:Café").encode("latin-1"))
    assert main([*argv, "--train", str(latin), "--num-tunes", "2", "--num-bars", "4"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["num_tunes"] == 2 and isinstance(metrics["num_tunes"], int)
    assert "pitch_class_tv" in metrics
    # the sources the other commands read: a folder, a thesession dump, a music21 book
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.abc").write_text(TRAIN[0], encoding="utf-8")
    dump = tmp_path / "tunes.json"
    row = {"tune_id": 1, "setting_id": 1, "name": "Kesh", "type": "jig", "meter": "6/8",
           "mode": "Gmajor", "abc": "|:GAG GAB|ABA ABd|edd gdd|edB dBA:|"}  # fmt: skip
    dump.write_text(json.dumps([row]), encoding="utf-8")
    for source in (str(folder), str(dump), "oneills1850"):
        more = ["--train", source, "--max-train-tunes", "5", "--num-tunes", "1", "--num-bars", "4"]
        assert main([*argv, *more]) == 0, capsys.readouterr().err
        assert json.loads(capsys.readouterr().out)["num_tunes"] == 1


def test_cli_evaluate_generation_counts_the_train_tunes_it_could_not_read(
    model_dir, tmp_path, capsys
):
    """--train's unreadable tunes were named by the first alone, without why, and the --json
    output did not say how many training tunes the figures compared with, or left out."""
    from modeling_irish.cli import main

    train = tmp_path / "train.abc"
    bad = "".join(f"X:{i}\nT:Bad {i}\nK:G\nA]B|\n\n" for i in (8, 9))
    train.write_text(bad + "\n".join(TRAIN), encoding="utf-8")
    argv = ["evaluate-generation", "--model", model_dir, "--json", "--no-readers"]
    more = ["--train", str(train), "--num-tunes", "1", "--num-bars", "4"]
    assert main([*argv, *more]) == 0
    out, err = capsys.readouterr()
    metrics = json.loads(out)
    assert (metrics["train_tunes"], metrics["train_skipped"]) == (len(TRAIN), 2)
    reason = "by reason: {\"AbcParseError: ']' without a chord\": 2}"
    line = f"irish-tune evaluate-generation: 2 unreadable tunes of {train} left out of the "
    assert f"{line}training side (first: " in err  # prefixed as every line of the CLI
    assert err.rstrip().endswith(reason), err


def test_cli_evaluate_generation_checks_the_request_before_reading_train(
    model_dir, tmp_path, capsys, monkeypatch
):
    """A bad --key or a missing --model was refused only after the whole --train corpus was
    read (25-37 s for thesession's); a missing --train after the model and the sampling."""
    from modeling_irish.cli import main

    train = tmp_path / "train.abc"
    train.write_text("\n".join(TRAIN), encoding="utf-8")
    read = []
    target = "modeling_irish.generation_cli.read_train_corpus"
    monkeypatch.setattr(target, lambda *a: read.append(a))
    argv = ["evaluate-generation", "--train", str(train), "--json", "--no-readers"]
    assert main([*argv, "--model", model_dir, "--key", "H"]) == 2
    assert "key 'H' is not a key name" in capsys.readouterr().err
    assert main([*argv, "--model", str(tmp_path / "missing")]) == 2
    assert "no model folder" in capsys.readouterr().err
    assert read == []
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate-generation", "--model", model_dir, "--train", str(tmp_path / "no.abc")])
    assert exit_info.value.code == 2
    assert f"argument --train: no such file or folder: {tmp_path / 'no.abc'}" in (
        capsys.readouterr().err
    )


def test_cli_evaluate_generation_json_prints_a_nan_measure_as_null(model_dir, capsys, monkeypatch):
    """A measure that is NaN was printed as bare ``NaN``, which strict JSON parsers refuse: it
    is null, named on stderr."""
    import math

    from modeling_irish import quality
    from modeling_irish.cli import main

    real = quality.generation_metrics
    monkeypatch.setattr(
        quality, "generation_metrics", lambda *a, **k: {**real(*a, **k), "pitch_class_tv": math.nan}
    )
    argv = ["evaluate-generation", "--model", model_dir, "--json", "--no-readers"]
    assert main([*argv, "--num-tunes", "1", "--num-bars", "4"]) == 0
    out, err = capsys.readouterr()
    metrics = strict_loads(out)
    assert metrics["pitch_class_tv"] is None and metrics["num_tunes"] == 1
    assert "irish-tune evaluate-generation: pitch_class_tv not a finite number" in err


def test_cli_evaluate_generation_says_once_that_the_abc2midi_check_was_skipped(
    model_dir, capsys, monkeypatch
):
    """Without abc2midi, ``reread_abc2midi_rate`` was missing from the table and the JSON with
    no word said: it is null in the JSON with one stderr line, ``n/a (why)`` in the table."""
    import shutil

    from modeling_irish.cli import main

    real_which = shutil.which
    monkeypatch.setattr(
        shutil,
        "which",
        lambda name, *a, **k: None if name == "abc2midi" else real_which(name, *a, **k),
    )
    argv = ["evaluate-generation", "--model", model_dir, "--num-tunes", "1", "--num-bars", "4"]
    said = "abc2midi is not installed: its re-reading check was skipped"
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert strict_loads(out)["reread_abc2midi_rate"] is None
    assert err.count(said) == 1 and f"irish-tune evaluate-generation: {said}" in err, err
    assert main(argv) == 0
    out, err = capsys.readouterr()
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert rows["reread_abc2midi_rate"] == f"n/a ({said})" and said not in err


def test_cli_evaluate_generation_text_says_why_a_histogram_distance_is_na(model_dir, tmp_path,
                                                                          capsys):  # fmt: skip
    """A --train corpus of one tune of one note has no interval (two notes in a row) to count:
    the text report printed ``interval_tv 0.5000`` (the formula against an empty histogram); it
    says n/a and why, the JSON says null, and the defined figures are printed as before."""
    from modeling_irish.cli import main

    one_note = tmp_path / "one_note.abc"
    one_note.write_text("X:1\nT:One note\nM:4/4\nL:1/8\nK:D\nD8|]\n", encoding="utf-8")
    argv = ["evaluate-generation", "--model", model_dir, "--no-readers", "--train", str(one_note)]
    assert main([*argv, "--num-tunes", "2", "--num-bars", "4"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    na = "n/a (an empty histogram: the samples or the training tunes have nothing to count)"
    assert rows["interval_tv"] == rows["interval_js"] == na
    assert rows["num_tunes"] == "2" and re.fullmatch(r"\d\.\d{4}", rows["duration_tv"])
    assert main([*argv, "--num-tunes", "2", "--num-bars", "4", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["interval_tv"] is None and metrics["interval_js"] is None


def test_train_tunes_normalised_out_of_midi_are_left_out_named_at_the_note(tmp_path, capsys):
    """--train kept a tune normalising moved to pitch -1 (``C,,,,,`` in D major), a note no
    generated tune can have, among the training side's: it is now an unreadable tune, named
    with the line and column of the note and the pitch it would get."""
    from modeling_irish.generation_cli import read_train_corpus

    train = tmp_path / "train.abc"
    low = "X:6\nT:Bottom\nM:2/4\nL:1/8\nK:D\nD2 F2|\nA2 C,,,,,2|\n"
    train.write_text(low + "\n" + "X:1\nT:Fine\nM:2/4\nL:1/8\nK:D\nD2 F2|\n", encoding="utf-8")
    tunes, skipped = read_train_corpus(str(train), None)
    assert skipped == 1 and len(tunes) == 1
    assert min(t.pitch for t in tunes[0] if t.kind == "note") >= 0
    err = capsys.readouterr().err
    assert (
        "X:6 Bottom: line 7, column 4: pitch 1 moves to -1 when the tune goes from D major" in err
    )
