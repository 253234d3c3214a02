"""The argparse types the command line and the benchmark scripts share, and the scripts' refusals
of out-of-range flags (one line, exit status 2, before any slow work) rather than tracebacks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest
from helpers import run_benchmark

from modeling_irish.cli import abc_source, existing_file, positive_float, share


@pytest.mark.parametrize("text", ["0", "-1", "inf", "nan", "x"])
def test_positive_float_refuses_what_is_not_a_finite_positive_number(text):
    with pytest.raises(argparse.ArgumentTypeError):
        positive_float(text)


def test_positive_float_takes_a_positive_number():
    assert positive_float("0.01") == 0.01


@pytest.mark.parametrize("text", ["-0.1", "1.5", "nan", "x"])
def test_share_refuses_what_is_not_between_0_and_1(text):
    with pytest.raises(argparse.ArgumentTypeError):
        share(text)


@pytest.mark.parametrize("text", ["0", "1", "0.25"])
def test_share_takes_0_to_1(text):
    assert share(text) == float(text)


def test_existing_file_names_a_missing_file_and_a_folder(tmp_path):
    with pytest.raises(argparse.ArgumentTypeError, match="no such file: .*nope.abc"):
        existing_file(str(tmp_path / "nope.abc"))
    with pytest.raises(argparse.ArgumentTypeError, match="is a folder, not a file"):
        existing_file(str(tmp_path))
    tune = tmp_path / "t.abc"
    tune.write_text("X:1\n", encoding="utf-8")
    assert existing_file(str(tune)) == str(tune)


def test_abc_source_takes_what_the_corpus_readers_take(tmp_path):
    # the benchmarks' --corpus took folders and music21's books before it was checked as a file
    for source in (str(tmp_path), "oneills1850", "ryansMammoth", "music21"):
        assert abc_source(source) == source
    with pytest.raises(argparse.ArgumentTypeError, match="no such file or folder: .*nope"):
        abc_source(str(tmp_path / "nope"))


# Each of these ended in a traceback, a NaN or a silent fallback before the scripts used the types.
REFUSED = [
    (["music21_round_trip.py", "--sample", "-5"], "argument --sample: must be >= 0, got -5"),
    (["music21_round_trip.py", "--sample", "0"], "--sample 0 without --books leaves no tune"),
    (["bar_check_books.py", "--examples", "-1"], "argument --examples: must be >= 0"),
    (["split_stability.py", "--keep", "0"], "--keep must be above 0"),
    (["bench_name_that_tune.py", "--queries", "0", "--tokenizer", "."], "argument --queries"),
    (["unseen_neighbour_titles.py", "--k", "0", "--tokenizer", "."], "argument --k"),
    (
        ["retrieval_ceiling.py", "--train", "nope.abc", "--queries", "q.abc", "--tokenizer", "."],
        "argument --train: no such file or folder: nope.abc",
    ),
    (["bench_retrieval.py", "--corpus", "nope.abc"], "--corpus: no such file or folder: nope.abc"),
    (["train_fixed_budget.py", "--minutes", "0"], "argument --minutes: must be a finite number"),
    (["normalisation_octave.py", "--corpus", "nope.abc"], "argument --corpus: no such file"),
    (["bench_training_throughput.py", "--processes", "0"], "argument --processes: invalid choice"),
    (["bench_training_throughput.py", "--processes", "3"], "argument --processes: invalid choice"),
    (
        ["bench_training_throughput.py", "--processes", "2", "--batch_size", "1"],
        "--batch_size 1 leaves a process without tunes (--processes 2)",
    ),
]


@pytest.mark.slow  # one Python process (torch imported) a script
@pytest.mark.parametrize("argv, message", REFUSED, ids=[argv[0] for argv, _ in REFUSED])
def test_benchmark_scripts_refuse_bad_flags_in_one_line(argv, message, tmp_path):
    done = run_benchmark(argv[0], *argv[1:], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_music21_round_trip_refuses_abc2midi_when_it_is_not_installed(tmp_path):
    """``--abc2midi`` without abc2midi counted every decoded tune as having "0 new abc2midi
    errors" (`abc2midi_errors` is None, read as no error): a skipped check shown as a pass."""
    only_python = {"PATH": str(Path(sys.executable).parent)}
    done = run_benchmark(
        "music21_round_trip.py",
        "--abc2midi",
        "--corpus",
        "oneills1850",
        cwd=tmp_path,
        env=only_python,
    )
    assert done.returncode == 2, done.stderr
    assert "--abc2midi: abc2midi is not installed" in done.stderr


@pytest.mark.slow
def test_fixed_budget_refuses_a_mistyped_corpus_variable(tmp_path):
    argv = ["--minutes", "0.01", "--output_dir", str(tmp_path / "run")]
    mistyped = {"MODELING_IRISH_CORPUS": str(tmp_path / "x.abc")}
    done = run_benchmark("train_fixed_budget.py", *argv, cwd=tmp_path, env=mistyped)
    assert done.returncode == 1
    assert f"MODELING_IRISH_CORPUS={tmp_path / 'x.abc'}: no such file" in done.stderr
    assert not (tmp_path / "run").exists()  # refused before training started
