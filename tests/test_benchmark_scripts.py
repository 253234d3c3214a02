"""What the benchmark scripts measure and report, on tiny synthetic inputs: each script is loaded
as a module (they live outside the package) and its functions or ``main(argv)`` called."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from helpers import (  # noqa: F401  (fixtures: generator, model_dir, one_torch_thread)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
    run_benchmark,
    strict_loads,
    synthetic_tune,
    training_argv,
)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module (its ``import _paths`` needs the folder on the path)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.append(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path: Path, tunes: list[str]) -> str:
    path.write_text("\n".join(tunes), encoding="utf-8")
    return str(path)


def test_retrieval_ceiling_leaves_each_query_setting_out_of_training(tmp_path):
    """The queries, renumbered in their own file, stayed in training (only an identical text was
    dropped), so every query found itself: own tune within 0.1 edits a note for all, median 0."""
    from tokenization.tokenization_abc import AbcTokenizer

    ceiling = load_benchmark("retrieval_ceiling")
    # tune i: setting i (kept in training) and setting 100 + i (the query), two random bodies;
    # setting 100 + i is also filed under a second entry with another body
    kept = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 5)]
    held = [synthetic_tune(100 + i, f"Reel {i}", i, seed=100 + i) for i in range(1, 5)]
    twins = [synthetic_tune(100 + i, f"Reel {i}", i, seed=200 + i) for i in range(1, 5)]
    queries = [text.replace(f"X:{100 + i}", f"X:{i}", 1) for i, text in enumerate(held, 1)]
    train = _write(tmp_path / "train.abc", kept + held + twins)
    known = _write(tmp_path / "known.abc", queries)
    AbcTokenizer.train(kept + held + twins).save_pretrained(tmp_path / "tok")

    out = ceiling.main(["--train", train, "--queries", known, "--tokenizer", str(tmp_path / "tok")])
    assert out["queries"] == 4
    # only setting i is left of each tune: random bars, far from the query's
    assert out["own_within"]["0.1"] == 0.0
    assert out["median_edits_per_note"]["own"] > 0.3
    left = ceiling.training_settings(ceiling.read_tunes(train), ceiling.read_tunes(known))
    assert [ceiling.setting_key(r["title"], r["abc"]) for r in left] == [
        ("setting", str(i)) for i in range(1, 5)
    ]


def test_fixed_budget_plots_the_run_of_an_output_dir_given_after_the_separator(
    tunebook, cache_dir, tmp_path, monkeypatch
):
    """train.py wrote where the --output_dir after `--` said, and the script then looked for the
    log in its own default, runs/fixed-budget: FileNotFoundError (or a stale run's log)."""
    monkeypatch.chdir(tmp_path)  # where the default folder would be
    bench = load_benchmark("train_fixed_budget")
    out = tmp_path / "after"
    # the tiny-model flags (their --output_dir included), without the logging/eval cadence
    summary = bench.main(["--minutes", "0.01", "--", *training_argv(tunebook, cache_dir, out)[:-4]])
    assert json.loads((out / "fixed_budget.json").read_text(encoding="utf-8")) == summary
    assert (out / "learning_curve.png").stat().st_size > 1000
    assert not (tmp_path / "runs").exists()


def test_fixed_budget_refuses_to_run_without_the_shared_corpus(tmp_path, monkeypatch):
    """Without the shared corpus beside the checkout it trained on music21's two books (train.py's
    default) and reported that as the shared corpus's fixed budget."""
    bench = load_benchmark("train_fixed_budget")
    monkeypatch.delenv("MODELING_IRISH_CORPUS", raising=False)
    monkeypatch.setattr(bench, "ROOT", str(tmp_path / "checkout"))
    message = "no such file: .*shared/data/thesession-c.abc .*MODELING_IRISH_CORPUS.*--corpus"
    with pytest.raises(SystemExit, match=message):
        bench.default_corpus()
    out = tmp_path / "run"
    with pytest.raises(SystemExit, match=message):
        bench.main(["--minutes", "0.01", "--output_dir", str(out)])
    assert not out.exists()  # refused before training
    # a corpus given after `--`, in either spelling, needs no default
    assert bench.forwarded_value(["--preset", "small", "--corpus=a.abc"], "--corpus") == "a.abc"
    assert bench.forwarded_value(["--train_file", "a.abc"], "--train_file") == "a.abc"


@pytest.fixture(scope="module")
def latin1_book(tmp_path_factory) -> tuple[Path, Path]:
    """The 12 reels of `reels_tunebook` with a Latin-1 title, as a Latin-1 file with no blank
    line between tunes, and as the usual UTF-8 file with blank lines."""
    from helpers import reels_tunebook

    folder = tmp_path_factory.mktemp("books")
    text = reels_tunebook().replace("Reel number", "Ríl number")
    utf8, latin1 = folder / "utf8.abc", folder / "latin1.abc"
    utf8.write_text(text, encoding="utf-8")
    latin1.write_bytes(text.replace("\n\n", "\n").encode("latin-1"))
    return latin1, utf8


def test_benchmarks_read_a_latin1_book_without_blank_lines_as_the_package_does(latin1_book, capsys):
    """bench_tokenization, bench_generation and split_stability opened the corpus as UTF-8
    (UnicodeDecodeError on a Latin-1 book) and bench_tokenization split it on blank lines (a
    book without them was one tune that nothing could read)."""
    latin1, utf8 = latin1_book
    tunes = load_benchmark("bench_tokenization").split_tunes(str(latin1))
    assert len(tunes) == 12 and tunes[0].startswith("X:1\nT:Ríl number 1\n")
    assert tunes == load_benchmark("bench_tokenization").split_tunes(str(utf8))
    build_vocab = load_benchmark("bench_generation").build_vocab
    assert build_vocab(str(latin1)).sizes == build_vocab(str(utf8)).sizes
    capsys.readouterr()
    load_benchmark("split_stability").main(["--corpus", str(latin1), "--keep", "0.5"])
    assert capsys.readouterr().out.startswith(f"{latin1}: 12 tunes; older version: ")


def test_bench_generation_leaves_out_tunes_normalised_out_of_midi(tmp_path, capsys):
    """Its vocabulary took C#,,,,, in D major as pitch -1, which training refuses
    (`read_tune`); now that tune is left out, and counted."""
    book = tmp_path / "book.abc"
    good = "X:1\nM:2/4\nL:1/8\nK:D\nDFAd|\n"
    book.write_text(good + "\nX:2\nM:2/4\nL:1/8\nK:D\nD C,,,,,|\n", encoding="utf-8")
    vocab = load_benchmark("bench_generation").build_vocab(str(book))
    assert "pitch-1" not in vocab.values["main"]
    assert capsys.readouterr().out == (
        "tunes left out of the vocabulary: 0 unreadable, 1 out of MIDI 0-127 once normalised\n"
    )


def test_normalisation_octave_says_when_no_pair_is_found(tmp_path, capsys):
    """With no (book tune, corpus setting) pair the rules' share was hits / 0: ZeroDivisionError."""
    from helpers import reels_tunebook, training_tunebook

    octave = load_benchmark("normalisation_octave")
    # in C, the white keys' major: the corpus's octave is the book's own (shift 0)
    book = _write(tmp_path / "book.abc", [reels_tunebook().replace("K:D", "K:C")])
    other = _write(tmp_path / "other.abc", [training_tunebook()])  # other titles
    with pytest.raises(SystemExit, match=r"no \(book tune, corpus setting\) pair between .*book"):
        octave.main(["--corpus", other, "--books", book])
    octave.main(["--corpus", book, "--books", book])  # each tune pairs with itself
    out = capsys.readouterr().out
    assert out.startswith("12 (book tune, corpus setting) pairs") and "+0 x12" in out


def test_training_throughput_times_the_same_tunes_random_and_bucketed():
    """The warm-up batch was regrouped with the timed ones, so the bucketed row's untimed first
    batch took the shortest tunes and its tokens/s were over longer tunes than the random row's."""
    throughput = load_benchmark("bench_training_throughput")
    kinds = throughput.batch_sets(batch_size=8, warmup=1, steps=3, bucket=True)
    random, grouped = kinds["random"], kinds["length-bucketed"]
    assert len(random) == len(grouped) == 4
    assert random[0] is grouped[0]  # the same warm-up batch, untimed in both

    def lengths(batches):
        return [n for b in batches for n in b["attention_mask"].sum(1).tolist()]

    assert sorted(lengths(random[1:])) == lengths(grouped[1:])  # the same tunes, by length
    # the random row's batches are those drawn before (one generator, seed 0)
    generator = torch.Generator().manual_seed(0)
    drawn = [throughput.synthetic_batch(8, generator) for _ in range(4)]
    assert all(torch.equal(a["input_ids"], b["input_ids"]) for a, b in zip(drawn, random))


def test_training_throughput_checks_the_loss_of_the_path_it_times():
    """The loss gap was taken in eval mode, where `use_cache` defaults on and the note GRU runs
    as `nn.GRU`: not the lookup-table path that the timed training steps run."""
    from helpers import tiny_measurenote_config

    from modeling_irish.configuration_measurenote import REFERENCE_VOCAB_SIZES
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    throughput = load_benchmark("bench_training_throughput")
    torch.manual_seed(0)
    model = MeasureNoteForCausalLM(tiny_measurenote_config(vocab_sizes=REFERENCE_VOCAB_SIZES))
    calls = []
    model.measurenote.note_rnn.register_forward_hook(lambda *args: calls.append(1))
    batch = throughput.synthetic_batch(2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        loss = throughput.padded_loss(model.eval(), batch)
        gap = loss - throughput.packed_loss(model, batch)
    assert calls == [1]  # the packed reference only: the padded side ran the lookup tables
    assert abs(float(gap)) < 1e-5


def test_training_throughput_splits_the_rows_of_a_batch_evenly_between_ranks():
    """`--processes 2` gives each rank its part of a batch: every tune once, the parts' real
    rows as even as can be, each part padded to its own longest tune."""
    throughput = load_benchmark("bench_training_throughput")
    assert throughput.split_tunes([10, 3, 7, 5, 5], 2) == [[0, 4], [1, 2, 3]]  # 15 rows each
    assert throughput.split_tunes([4, 4, 4, 4], 2) == [[0, 2], [1, 3]]
    with pytest.raises(ValueError, match="a batch of 1 tunes cannot be split over 2 ranks"):
        throughput.split_tunes([5], 2)
    batch = throughput.synthetic_batch(9, torch.Generator().manual_seed(3))
    lengths = batch["attention_mask"].sum(1).tolist()
    parts = throughput.split_tunes(lengths, 2)
    assert sorted(parts[0] + parts[1]) == list(range(9))
    rows = [sum(lengths[b] for b in part) for part in parts]
    assert abs(rows[0] - rows[1]) <= max(lengths)
    for part, shard in zip(parts, throughput.split_batch(batch, 2)):
        width = max(lengths[b] for b in part)
        for key, value in batch.items():
            assert torch.equal(shard[key], value[part, :width])


@pytest.mark.slow  # two spawned processes, each importing torch and transformers
def test_training_throughput_runs_both_sides_as_two_process_ddp(tmp_path):
    """`--processes 2` times both implementations as two-process data parallel (gloo)."""

    argv = ["--presets", "small", "--steps", "1", "--warmup", "0", "--batch_size", "4"]
    done = run_benchmark(
        "bench_training_throughput.py", *argv, "--processes", "2", cwd=tmp_path, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert "2 processes (DDP, gloo) of 1 thread(s) each" in done.stdout
    row = next(line for line in done.stdout.splitlines() if "random, 2 processes DDP" in line)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert float(cells[3].replace(",", "")) > 0 and float(cells[4].replace(",", "")) > 0
    assert float(cells[10]) < 1e-5  # both sides' losses agree on each rank's part


@pytest.mark.parametrize("preset", ["small", "base"])
def test_bench_gru_packed_times_the_note_gru_of_the_preset(preset, monkeypatch, capsys):
    """`small` was timed as a 3-layer GRU (656 -> 192 x3); the model's note GRU has 2 layers."""
    from modeling_irish.configuration_measurenote import MeasureNoteConfig
    from modeling_irish.measurenote_layers import make_gru

    config = MeasureNoteConfig.from_preset(preset)
    gru = make_gru(
        config.total_embedding_size, config.note_hidden_size, config.note_num_layers, 0.0
    )
    bench = load_benchmark("bench_gru_packed")
    tiny = ["--batch", "2", "--min-len", "2", "--max-len", "3", "--steps", "1", "--repeats", "1"]
    monkeypatch.setattr(sys, "argv", ["bench_gru_packed.py", "--shape", preset, *tiny])
    bench.main()  # one tiny timed step of each variant
    shape = f"({gru.input_size}->{gru.hidden_size} x{gru.num_layers})"
    assert f"shape {preset} {shape}" in capsys.readouterr().out


def test_bench_generation_takes_the_tune_types_in_turn(generator):
    """The tune type changed every 100 samples: --validity-samples 12 gave 12 reels, and the
    report said "six tune types"."""
    bench = load_benchmark("bench_generation")
    tunes = bench.validity_samples(generator, 12)
    assert Counter(t.rhythm for t in tunes) == {rhythm: 2 for rhythm, _ in bench.RHYTHMS}
    assert [t.rhythm for t in bench.validity_samples(generator, 3)] == ["reel", "jig", "slip jig"]


def test_bench_generation_checks_the_model_folder_and_names_what_it_ignores(
    model_dir, tmp_path, capsys
):
    """A folder without config.json passed the check (only isdir) and failed with a traceback
    after the imports; --presets, --corpus and --vocab were silently ignored with --model."""
    bench = load_benchmark("bench_generation")
    with pytest.raises(SystemExit) as refused:
        bench.parse_args(["--model", str(tmp_path)])
    assert refused.value.code == 2
    assert "holds no saved model (no config.json)" in capsys.readouterr().err
    args = bench.parse_args(["--model", model_dir, "--presets", "base", "--vocab", "v.json"])
    assert args.model == model_dir
    err = capsys.readouterr().err
    assert "--presets base, --vocab v.json ignored: --model times that model" in err


def test_name_that_tune_refuses_an_incompatible_ab_commit_before_any_work(
    tmp_path, monkeypatch, capsys
):
    """A commit whose scan read another gallery layout (or had none) failed with numpy's
    broadcast ValueError, or an AttributeError, after the whole corpus had been indexed."""
    bench = load_benchmark("bench_name_that_tune")
    if not bench.commit_exists("98b3bc8"):
        pytest.skip("not a full clone of the repository (its history is needed)")
    name, function = bench.compatible_scan("HEAD")  # the current scan, loaded from git
    assert name == "_myers_scan_table" and callable(function)
    with pytest.raises(
        ValueError, match=r"no compatible scan at 98b3bc8 \(ValueError: .*broadcast"
    ):
        bench.compatible_scan("98b3bc8")  # the first bit-parallel scan, another layout
    first = "570d4ac"  # the first commit: no edit distance at all
    with pytest.raises(ValueError, match=f"no compatible scan at {first} .*no semiglobal.py"):
        bench.compatible_scan(first)
    with pytest.raises(SystemExit) as refused:  # from the command line: before any tune is read
        bench.parse_args(
            ["--tokenizer", str(tmp_path), "--corpus", str(tmp_path), "--ab-commit", first]
        )
    assert refused.value.code == 2
    assert "--ab-commit: no compatible scan at 570d4ac" in capsys.readouterr().err


def test_name_that_tune_refuses_a_compare_window_no_longer_than_the_overlap(tmp_path, capsys):
    """``--compare-window 64`` read and indexed the whole corpus, then failed with PaddedGallery's
    traceback "need 0 < overlap < window, got 128, 64"."""
    bench = load_benchmark("bench_name_that_tune")
    flags = ["--tokenizer", str(tmp_path), "--corpus", str(tmp_path)]
    with pytest.raises(SystemExit) as refused:
        bench.parse_args([*flags, "--compare-window", "128"])
    assert refused.value.code == 2
    assert "--compare-window 128: must be above 128" in capsys.readouterr().err
    assert bench.parse_args([*flags, "--compare-window", "129"]).compare_window == 129


def test_name_that_tune_holds_the_gallery_ids_compact(tmp_path, monkeypatch, capsys):
    """It held every setting's ids as int64 for the whole run (~470 MB of thesession's, most of
    its peak); now in the smallest type with room for the vocabulary, the same numbers."""
    from helpers import name_that_tune_reel

    from modeling_irish.tune_embedding import encode_all, read_tunes
    from tokenization.tokenization_abc import AbcTokenizer

    bench = load_benchmark("bench_name_that_tune")
    tunes = [name_that_tune_reel(x, f"Reel {x}", x, x) for x in range(1, 6)]
    corpus = _write(tmp_path / "reels.abc", tunes)
    tokenizer = AbcTokenizer.train(tunes)
    tokenizer.save_pretrained(tmp_path / "tok")
    held, real = [], bench.settings_ranker

    def ranker(cropper, ids, *args, **kwargs):  # the ids the gallery is built of
        held.append(ids)
        return real(cropper, ids, *args, **kwargs)

    monkeypatch.setattr(bench, "settings_ranker", ranker)
    bench.main(["--tokenizer", str(tmp_path / "tok"), "--corpus", corpus, "--queries", "3"])
    out = json.loads(capsys.readouterr().out)
    assert (out["gallery_settings"], out["gallery_titles"], out["queries"]) == (5, 5, 3)
    (ids,) = held
    assert {x.dtype.name for x in ids} == {"uint8"}
    wide, _ = encode_all(tokenizer, read_tunes(corpus))
    assert all(x.dtype.name == "int64" for x in wide)
    assert all((a == b).all() for a, b in zip(ids, wide, strict=True))


def test_a_benchmark_imports_the_code_of_its_own_checkout(tmp_path):
    """`_paths` appended the checkout to ``sys.path``, so a benchmark run from one checkout
    measured the code of another one installed (editable) in the environment."""
    import subprocess

    code = (
        f"import sys; sys.path.append({str(BENCHMARKS)!r}); import _paths, tokenization; "
        "print(sys.path.index(str(_paths.REPOSITORY)), tokenization.__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        encoding="utf-8",
    ).stdout.split()
    assert out[0] == "0"
    assert Path(out[1]).is_relative_to(BENCHMARKS.parent)


def test_import_cost_times_each_checkout_and_refuses_a_folder_that_is_not_one(tmp_path, capsys):
    """One median a case and checkout, the table's rows in the cases' order; ``--breakdown``
    says what a case leaves loaded (reading a tune: none of torch, transformers, numpy)."""
    bench = load_benchmark("bench_import_cost")
    root = BENCHMARKS.parent
    cases = ["python -c pass", "read, normalise, write a tune"]
    medians = bench.main(["--runs", "1", "--cases", *cases, "--breakdown"])
    assert list(medians) == cases
    assert all(list(times) == [str(root)] and times[str(root)] > 0 for times in medians.values())
    out = capsys.readouterr().out
    assert "  read, normalise, write a tune: loads []" in out
    with pytest.raises(SystemExit) as refused:
        bench.main(["--checkouts", str(tmp_path)])
    assert refused.value.code == 2
    assert f"{tmp_path} is not a modeling-irish checkout" in capsys.readouterr().err


def test_bench_check_times_each_jobs_value_and_compares_the_reports(tmp_path, capsys):
    bench = load_benchmark("bench_check")
    tunes = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 4)]
    rows = bench.main(["--files", _write(tmp_path / "book.abc", tunes), "--runs", "1"])
    assert [row["jobs"] for row in rows] == [1, 2]
    assert all(row["identical"] and row["status"] == 0 for row in rows)
    assert all(row["cpu_s"] > 0 and row["peak_rss_mib"] > 0 for row in rows)
    assert "| --jobs | wall median (s) |" in capsys.readouterr().out


def test_bench_check_prints_strict_json(monkeypatch, capsys):
    """A figure that is not a finite number (a CPU time read as ``nan``) is printed as null
    and named on stderr: ``jq`` and JavaScript refuse the bare NaN of `json.dumps`."""
    bench = load_benchmark("bench_check")
    monkeypatch.setattr(bench, "has_jobs", lambda checkout: True)
    run = {"wall": 1.0, "cpu": float("nan"), "rss_mib": 50.0, "status": 0, "report": "same"}
    monkeypatch.setattr(bench, "run_case", lambda checkout, files, jobs: dict(run))
    bench.main(["--files", "book.abc", "--jobs", "1", "--runs", "1"])
    said = capsys.readouterr()
    printed = strict_loads(said.out.splitlines()[-1])
    assert printed[0]["cpu_s"] is None and printed[0]["wall_median_s"] == 1.0
    assert "bench_check.py: [0].cpu_s not a finite number" in said.err


def test_other_abc_collections_finds_bar_lines_left_out_at_line_ends():
    """Essen's songs end a phrase with a line break and often leave out its bar line: two full
    bars of 2/4 read as one of 4/4 until a bar line is put at that line end; a phrase that ends
    mid-bar (``c2`` then ``d2 |``) keeps its line end without one, and a bar one eighth too
    long is no missing bar line."""
    from tokenization.abc_parser import parse_abc

    survey = load_benchmark("other_abc_collections")
    head = "X:1\nT:Lied\nM:2/4\nL:1/8\nK:G\n"
    left_out = head + "G2 | B2c2 | d2c2\nB2A2 | G2\nA2 | B4 |]\n"
    assert survey.fits_with_line_end_bars(left_out)
    assert survey.kind_of(parse_abc(left_out), left_out) == "bar line missing at a line end"
    too_long = head + "G2 | B2c2 | d2c2B |\nB2A2 | G4 |]\n"
    assert not survey.fits_with_line_end_bars(too_long)
    assert survey.kind_of(parse_abc(too_long), too_long) == "one eighth or less"
    no_bars = head + "GABc dcBA\nGABc d4\n"
    assert survey.kind_of(parse_abc(no_bars), no_bars) == "no bar lines"


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
def test_midi_vs_abc2midi_compares_the_notes_and_names_the_cause(tmp_path):
    """The same notes are identical (abc2midi's tick late, tick early and later chord tops
    within the tolerance); a hornpipe abc2midi swings differs in onsets, put down to its
    ``R:``; a ``|:`` opened again, which abc2midi reads as closing a repeat, to the repeats."""
    compare = load_benchmark("midi_vs_abc2midi")

    def outcome(header: str, body: str) -> tuple[str, str]:
        text = f"X:1\nT:t\n{header}\nL:1/8\nK:G\n{body}\n"
        ours, (theirs, channels) = compare.render_both(text, str(tmp_path))
        kind = compare.difference(ours, theirs)[0]
        why = (
            ""
            if kind == "identical"
            else compare.cause(text, ours, theirs, channels, str(tmp_path))
        )
        return kind, why

    assert outcome("M:2/4", "|:[GB]A (3Bcd|1 e2 d>c:|2 [Bg]2 G2|]") == ("identical", "")
    hornpipe = outcome("R:hornpipe\nM:4/4", "GABc d4|]")
    assert hornpipe == ("onset", "R:hornpipe (abc2midi swings it)")
    assert outcome("M:2/4", "|:GA|Bc|:de|fg|]") == ("note count", "repeats and endings")


def test_corpus_scaling_copies_are_distinct_tunes_or_exact_bodies():
    """`corpus_scaling.py`'s scaled corpora: every copy numbered and titled apart; ``distinct``
    copies respell notes so that dedupe keeps them all, ``exact`` ones keep the bodies."""
    from tokenization.abc_tunebook import split_tunebook

    bench = load_benchmark("corpus_scaling")
    book = "X: 1\nT: One\nK: C Major\n=c=d=e|\n\nX:7\nT:Two\nK: C Major\n=G2=A|\n"
    tunes = bench.split_tunes(book)
    for distinct in (True, False):
        scaled = [tune for _, tune in split_tunebook(bench.scaled_text(tunes, 3, distinct))]
        assert [tune.split("\n")[0] for tune in scaled] == [f"X: {n}" for n in range(1, 7)]
        assert scaled[5].split("\n")[1] == "T:Two (copy 2)"
        bodies = [tune.rstrip("\n").split("\n")[-1] for tune in scaled]
        assert len(set(bodies)) == (6 if distinct else 2), bodies
    assert bench.respell("=c^F=B,|=A", 2) == "=d^G=B,|=A"


def _hanging_abc2midi(folder: Path) -> str:
    """A PATH whose ``abc2midi`` sleeps 30 s: a tool that hangs."""
    tool = folder / "abc2midi"
    tool.write_text("#!/bin/sh\nsleep 30\n", encoding="utf-8")
    tool.chmod(0o755)
    return str(folder)


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script stands in for abc2midi")
def test_abc2midi_that_hangs_fails_one_tune_or_names_the_file(tmp_path, monkeypatch):
    """`midi_vs_abc2midi.render_both` puts a tune abc2midi does not finish down to abc2midi
    (it stopped the whole comparison with a traceback); `other_abc_collections` names the
    file it gave up on (it waited for ever)."""
    import subprocess

    compare = load_benchmark("midi_vs_abc2midi")
    survey = load_benchmark("other_abc_collections")
    tools = tmp_path / "bin"
    tools.mkdir()
    monkeypatch.setenv("PATH", _hanging_abc2midi(tools) + ":" + "/usr/bin:/bin")
    real_run = subprocess.run

    def quick_run(*args, **kwargs):  # the 60 s limit, shortened for the test
        kwargs["timeout"] = 0.5
        return real_run(*args, **kwargs)

    monkeypatch.setattr(compare.subprocess, "run", quick_run)
    text = "X:1\nT:t\nM:2/4\nL:1/8\nK:G\nGABc|]\n"
    assert compare.render_both(text, str(tmp_path)) == "abc2midi fails"
    book = tmp_path / "book.abc"
    book.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit, match="abc2midi did not finish on .*book.abc in 0.5 s"):
        survey.abc2midi_bar_lines(book, timeout=0.5)


# --- each script end to end at its smallest settings: a benchmark no test runs rots silently ---


def test_bench_edit_distance_prints_the_median_time_of_a_query(capsys):
    bench = load_benchmark("bench_edit_distance")
    argv = ["--gallery", "20", "--query-notes", "8", "--repeats", "2"]
    bench.main(argv)
    out = capsys.readouterr().out
    found = re.fullmatch(r"gallery 20 tunes, query 8 notes: ([\d.]+) ms/query \(median\)\n", out)
    assert found, out
    assert float(found.group(1)) >= 0


def test_bench_evaluate_generation_times_each_stage_of_the_training_side(tmp_path, capsys):
    tunes = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 6)]
    corpus = _write(tmp_path / "book.abc", tunes)
    load_benchmark("bench_evaluate_generation").main(["--corpus", corpus, "--samples", "2"])
    lines = capsys.readouterr().out.splitlines()
    found = re.fullmatch(r"5 tunes read, 0 unreadable, (\d+) copied bars", lines[0])
    assert found, lines[0]
    stages = dict(re.fullmatch(r"(.+?) +([\d.]+) s", line).groups() for line in lines[1:])
    assert list(stages) == [
        "read (read_train_corpus), first run",
        "read, cached run",
        "bar index (BarIndex)",
        "histograms (histogram_distances)",
        "longest_copy x2",
        "total, first run",
        "total, cached run",
    ]
    assert all(float(seconds) >= 0 for seconds in stages.values())


def test_bench_evaluate_generation_removes_its_cache_when_a_read_fails(tmp_path, monkeypatch):
    """Its `--train` cache folder (a temporary one) was removed only after both reads: a read
    that failed or a Ctrl-C left ``bench_evaluate_generation-*`` in the temporary folder."""
    import tempfile

    script = load_benchmark("bench_evaluate_generation")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(script, "read_train_corpus", interrupted)
    with pytest.raises(KeyboardInterrupt):
        script.main(["--corpus", "book.abc"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("format_", ["midi", "musicxml"])
def test_bench_render_says_the_time_or_the_error_of_each_case(
    format_, tmp_path, monkeypatch, capsys
):
    """It also left an empty mkdtemp() folder in /tmp on every run (it removed only the file)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bench = load_benchmark("bench_render")
    cases = ["P:(AB)12", "K changes 200"]
    bench.main(["--cases", *cases, "--format", format_])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["P", "K changes 200"]
    for case, line in zip(cases, lines):
        found = re.fullmatch(
            rf"{re.escape(case)}: ([\d.]+) s, peak RSS (\d+) MiB, load [\d.]+", line
        )
        assert found, line  # a time, not "SomeError after ..."
        assert int(found.group(2)) > 0
    assert list(tmp_path.iterdir()) == []


def test_corpus_start_methods_loads_the_same_splits_each_way(tmp_path, capsys):
    tunes = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 7)]
    corpus = _write(tmp_path / "book.abc", tunes)
    rows = load_benchmark("corpus_start_methods").main(
        ["--corpus", corpus, "--num-proc", "2", "--runs", "1"]
    )
    assert [row["case"] for row in rows] == ["fork", "spawn", "one process"]
    assert all(len(row["runs"]) == 1 and row["fastest"] > 0 for row in rows)
    assert rows[0]["ratio"] == 1.0
    out = capsys.readouterr().out
    assert out.startswith(f"num_proc=2, {corpus}\n| case | runs (s) |")
    assert out.count("\n| ") == 4  # the header and a row a case


@pytest.mark.slow  # music21's parse and two datasets.map runs: ~50 s on a loaded 2-core host
def test_bench_tokenization_prints_each_reader_s_rate_and_the_speed_up(tmp_path, capsys):
    tunes = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 5)]
    corpus = _write(tmp_path / "book.abc", tunes)
    bench = load_benchmark("bench_tokenization")
    bench.main(["--corpus", corpus, "--sample", "2"])
    out = capsys.readouterr().out
    assert out.startswith(f"corpus: {corpus} (4 tunes, 0 unreadable); vocab build ")
    rows = [line.strip("|").split("|") for line in out.splitlines() if line.startswith("| ")]
    counts = {what.strip(): int(tunes) for what, tunes, *_ in rows[1:]}
    assert counts["music21 ABC parse (sample)"] == counts["ours, encode_tune (sample)"] == 2
    assert counts["ours, encode_tune (corpus, 1 process)"] == 4
    assert all(float(rate) > 0 for *_, rate in rows[1:])
    assert float(re.search(r"speed-up over music21 per process: ([\d.]+)x", out).group(1)) > 0
    assert int(re.search(r"peak RSS tokenizing the whole corpus: (\d+) MiB", out).group(1)) > 0


@pytest.mark.slow  # an untrained small model samples a few 16-bar reels: ~40 s on a loaded host
def test_bench_generation_prints_the_rate_of_each_batch_size_and_the_validity(tmp_path, capsys):
    tunes = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 5)]
    jig = "X:5\nT:Jig\nR:jig\nM:6/8\nL:1/8\nK:D\nDFA dAF|GBd gdB|AFD E2F|D3 D3|]\n"
    slip = "X:6\nT:Slip\nR:slip jig\nM:9/8\nL:1/8\nK:D\nDFA dAF GFE|D3 FED E3|]\n"
    corpus = _write(tmp_path / "book.abc", [*tunes, jig, slip])  # the three types it samples
    argv = ["--corpus", corpus, "--presets", "small", "--batches", "1,2", "--tunes", "2"]
    load_benchmark("bench_generation").main([*argv, "--validity-samples", "3", "--threads", "1"])
    out = capsys.readouterr().out
    rows = [line.strip("|").split("|") for line in out.splitlines() if line.startswith("| small")]
    assert [int(batch) for _, batch, *_ in rows] == [1, 2]
    for _, _, tunes_s, rows_s, valid in rows:
        assert float(tunes_s) > 0 and float(rows_s.replace(",", "")) > 0
        assert 0 <= float(valid) <= 1
    assert "validity of 3 constrained samples (small; reel 1, jig 1, slip jig 1;" in out
    shares = re.findall(r"^  (checker|ours|music21|abc2midi) +([\d.]+)$", out, re.M)
    assert {name for name, _ in shares} >= {"checker", "ours", "music21"}
    assert all(0 <= float(share) <= 1 for _, share in shares)


def _fitting_and_missing_bar_line() -> list[str]:
    """A 4/4 tune whose bars all fit, and one with a bar line left out (a bar of 16 eighths)."""
    fits = "X:1\nT:Fits\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|dcBA GFED|]\n"
    missing = "X:2\nT:Missing\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|dcBA GFED|DEFG ABcd dcBA GFED|"
    missing += "DEFG ABcd|dcBA GFED|]\n"
    return [fits, missing]


def test_bar_check_books_prints_a_row_a_book_and_the_kind_of_each_failing_tune(
    tmp_path, monkeypatch, capsys
):
    bench = load_benchmark("bar_check_books")
    book = Path(_write(tmp_path / "tiny.abc", _fitting_and_missing_bar_line()))
    monkeypatch.setattr(bench, "BOOKS", ("tiny",))  # not music21's two whole books
    monkeypatch.setattr(bench, "music21_collection_files", lambda name: [book])
    bench.main(["--examples", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| book | tunes | parsed (meter) | bars fit | share | header meter")
    row = [cell.strip() for cell in lines[2].strip("|").split("|")]
    assert row[:5] == ["tiny", "2", "2", "1", "50.0%"]
    assert dict(zip(bench.KINDS, map(int, row[5:]))) == {
        kind: int(kind == "missing bar line") for kind in bench.KINDS
    }
    problem = "bar 3: 16 of 8 eighths in 4/4 (long)"
    assert lines[3:] == [f"- missing bar line: tiny tiny.abc X:2 Missing: {problem}"]


def test_other_abc_collections_counts_a_collection_and_names_its_failing_tunes(
    tmp_path, monkeypatch, capsys
):
    bench = load_benchmark("other_abc_collections")
    folder = tmp_path / "tiny"
    folder.mkdir()
    _write(folder / "tiny.abc", _fitting_and_missing_bar_line())
    monkeypatch.setattr(bench, "corpus_folder", lambda name: folder)  # not music21's corpus
    results = bench.main(["tiny", "--examples", "1"])
    counts = results["tiny"]
    assert {k: counts[k] for k in ("tunes", "read", "bar-checked", "bars fit", "loader kept")} == {
        "tunes": 2,
        "read": 2,
        "bar-checked": 2,
        "bars fit": 1,
        "loader kept": 2,
    }
    assert counts["abc2midi agrees"] == 0  # not asked
    assert sum(counts["kinds"].values()) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("tiny: {'tunes': 2, ")
    assert out[1] == f"  failing tunes by kind: {counts['kinds']}"
    assert out[2:] == [f"  - {next(iter(counts['kinds']))}: tiny.abc X:2 Missing"]


def test_corpus_scaling_times_check_at_each_scale_of_distinct_copies(tmp_path, capsys):
    tunes = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 4)]
    corpus = _write(tmp_path / "book.abc", tunes)
    out_dir = tmp_path / "scaled"
    argv = ["--corpus", corpus, "--out-dir", str(out_dir), "--scales", "1", "2"]
    rows = load_benchmark("corpus_scaling").main(
        [*argv, "--copies", "distinct", "--cases", "check"]
    )
    assert [(r["copies"], r["scale"], r["case"], r["tunes"]) for r in rows] == [
        ("distinct", 1, "check", 3),
        ("distinct", 2, "check", 6),
    ]
    assert all(r["wall"] > 0 and r["cpu"] > 0 and r["rss"] > 0 for r in rows)
    scaled = (out_dir / "distinct2x.abc").read_text(encoding="utf-8")
    assert scaled.count("X:") == 6 and len(set(re.findall(r"^X: ?(\d+)", scaled, re.M))) == 6
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| copies | case | scale | tunes | wall (s) |")
    table = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert [row[:4] for row in table] == [
        ["distinct", "check", "1x", "3"],
        ["distinct", "check", "2x", "6"],
    ]
    assert table[0][6] == "1.00"


def _table_rows(out: str, first_cell: str) -> list[list[str]]:
    """The cells of each markdown table row of ``out`` whose first cell is ``first_cell``."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines()]
    return [row for row in rows if row[0] == first_cell]


def test_music21_round_trip_counts_what_music21_makes_of_each_decoded_tune(tmp_path, capsys):
    tunes = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 5)]
    corpus = _write(tmp_path / "book.abc", tunes)
    load_benchmark("music21_round_trip").main(
        ["--corpus", corpus, "--sample", "3", "--examples", "1"]
    )
    out = capsys.readouterr().out
    assert re.match(r"3 tunes in \d+ s\n", out), out[:200]
    # plain random reels: music21 reads each decoded tune as ours does (abc2midi not asked)
    assert _table_rows(out, "book.abc") == [["book.abc", "3", "0", "3 (100.00%)", "0", "0", "0"]]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
def test_midi_vs_abc2midi_tallies_each_sampled_tune_once(tmp_path, capsys):
    tunes = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 5)]
    corpus = _write(tmp_path / "book.abc", tunes)
    load_benchmark("midi_vs_abc2midi").main(
        ["--corpus", corpus, "--sample", "3", "--examples", "1"]
    )
    out = capsys.readouterr().out
    assert re.match(r"3 tunes in \d+ s\n", out), out[:200]
    # plain random reels: both render the same notes, so no cause is named
    assert _table_rows(out, "book.abc") == [["book.abc", "3", "3 (100.0%)", *["0"] * 6]]
    assert out.endswith("causes of the differences (and failures):\n")


def test_corpus_scaling_reports_a_crashed_case_as_a_failure_not_a_time(tmp_path, monkeypatch):
    """`timed` took exit status 1 for every case (``check`` exits 1 when a tune fails), so a case
    that crashed with a traceback (also 1) was timed and its seconds reported as a result."""
    bench = load_benchmark("corpus_scaling")
    corpus = _write(tmp_path / "book.abc", [synthetic_tune(1, "Reel 1", 1, seed=1)])
    argv = ["--corpus", corpus, "--out-dir", str(tmp_path / "out"), "--scales", "1"]
    argv += ["--copies", "distinct"]
    python = [sys.executable, "-c"]
    crash = [*python, "raise RuntimeError('the reader broke')"]
    monkeypatch.setattr(bench, "case_command", lambda case, corpus, work: crash)
    for case in ("check", "load-cold"):
        with pytest.raises(SystemExit, match="exit status 1: RuntimeError: the reader broke"):
            bench.main([*argv, "--cases", case])
    # a check report of failing tunes (status 1, no traceback) is a result; in load, a failure
    failed = [*python, "import sys; print('1 tune failed', file=sys.stderr); sys.exit(1)"]
    monkeypatch.setattr(bench, "case_command", lambda case, corpus, work: failed)
    rows = bench.main([*argv, "--cases", "check"])
    assert [(row["case"], row["tunes"]) for row in rows] == [("check", 1)]
    with pytest.raises(SystemExit, match="exit status 1: 1 tune failed"):
        bench.main([*argv, "--cases", "load-cold"])


def test_bar_check_books_says_n_a_for_a_book_without_a_tune_with_a_meter(
    tmp_path, monkeypatch, capsys
):
    """The share of fitting tunes was ``fit / parsed``: ZeroDivisionError for a book whose tunes
    are all in free meter (none bar-checked)."""
    bench = load_benchmark("bar_check_books")
    free = "X:1\nT:Free\nM:none\nL:1/8\nK:D\nDEFG ABcd dcBA|GFED|]\n"
    book = Path(_write(tmp_path / "free.abc", [free]))
    monkeypatch.setattr(bench, "BOOKS", ("free",))
    monkeypatch.setattr(bench, "music21_collection_files", lambda name: [book])
    bench.main(["--examples", "1"])
    row = [cell.strip() for cell in capsys.readouterr().out.splitlines()[2].strip("|").split("|")]
    assert row[:5] == ["free", "1", "0", "0", "n/a"]


def _reels_and_jigs(count: int, settings: int = 1) -> list[str]:
    """``count`` random tunes, reels and jigs in turn, each titled by its rhythm and number and
    filed on thesession under tune id ``1000 + i`` in ``settings`` settings (other bodies)."""
    tunes = []
    for i in range(count):
        for setting in range(settings):
            x = len(tunes) + 1
            reel = i % 2 == 0
            rng = np.random.default_rng(x)
            width, rhythm, meter = (8, "reel", "4/4") if reel else (6, "jig", "6/8")
            bars = ["".join("DEFGABcd"[n] for n in rng.integers(0, 8, width)) for _ in "1234"]
            body = "|".join(bars)
            tunes.append(
                f"X:{x}\nT:{rhythm.title()} number {i}\n"
                f"S: https://thesession.org/tunes/{1000 + i}#setting{x}\n"
                f"R:{rhythm}\nM:{meter}\nL:1/8\nK:{'DG'[setting % 2]}\n{body}|{body}|]\n"
            )
    return tunes


def test_unseen_neighbour_titles_prints_a_row_of_metrics_per_parameter_setting(tmp_path, capsys):
    from tokenization.tokenization_abc import AbcTokenizer

    tunes = _reels_and_jigs(60)
    corpus = _write(tmp_path / "book.abc", tunes)
    AbcTokenizer.train(tunes).save_pretrained(tmp_path / "tok")
    bench = load_benchmark("unseen_neighbour_titles")
    argv = ["--corpus", corpus, "--cache-dir", str(tmp_path / "cache"), "--first", "1"]
    rows = bench.main([*argv, "--tokenizer", str(tmp_path / "tok"), "--k", "1", "3"])
    out = capsys.readouterr().out.splitlines()
    head = re.match(r"validation: queries (\d+), gallery \1 titles, \d+ settings,", out[0])
    queries = int(head[1])
    assert queries >= 2  # each validation tune its own title, unseen in training
    assert re.fullmatch(r"edit-distance scan [\d.]+ ms/query; random MRR@20 .* [\d.]+", out[1])
    assert out[2].startswith("share of excerpts within 0 / 0.1 / 0.2 edits per note of a ")
    assert [json.loads(line) for line in out[3:]] == rows
    assert [(row["k"], row["temperature"], row["neighbour_weight"]) for row in rows] == [
        (1, 0.02, 3.0),
        (3, 0.02, 3.0),
    ]
    for row in rows:
        assert row["all_queries"] == queries
        assert row["first_1_queries"] + row["rest_queries"] == queries
        for part in ("all", "first_1", "rest"):
            for suffix in ("", "_neighbours_only"):
                assert 0 < row[f"{part}_mrr_at_20{suffix}"] <= 1


def test_unseen_neighbour_titles_says_a_part_without_queries_it_leaves_out(tmp_path, capsys):
    """With ``--first`` past every query, ``rest`` has none: a line names it and why."""
    from tokenization.tokenization_abc import AbcTokenizer

    tunes = _reels_and_jigs(60)
    corpus = _write(tmp_path / "book.abc", tunes)
    AbcTokenizer.train(tunes).save_pretrained(tmp_path / "tok")
    bench = load_benchmark("unseen_neighbour_titles")
    argv = ["--corpus", corpus, "--cache-dir", str(tmp_path / "cache"), "--first", "300"]
    (row,) = bench.main([*argv, "--tokenizer", str(tmp_path / "tok")])
    out = capsys.readouterr().out.splitlines()
    queries = row["all_queries"]
    said = f"part rest left out of the rows: no query past the first 300 ({queries} readable"
    assert f"{said} queries)" in out[:4]
    assert row["first_300_queries"] == queries and "rest_queries" not in row


def test_unseen_neighbour_titles_first_counts_among_the_unseen_queries(capsys):
    """``--first``'s help said "Size of the first part reported.", as if it counted the
    validation tunes; it counts positions among the unseen queries (`query_parts`)."""
    bench = load_benchmark("unseen_neighbour_titles")
    with pytest.raises(SystemExit):
        bench.parse_args(["--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "--first FIRST Size of the first part reported (first_N): the first N of the " in said
    assert "among the unseen queries (an unreadable one too), not among the validation" in said


def test_bench_retrieval_trains_a_row_and_scores_it_beside_the_baselines(tmp_path, capsys):
    corpus = _write(tmp_path / "book.abc", _reels_and_jigs(20, settings=2))
    out = tmp_path / "out"
    bench = load_benchmark("bench_retrieval")
    argv = ["--corpus", corpus, "--steps", "1", "--batch_size", "4", "--queries", "2"]
    rows = bench.main([*argv, "--only", "char_gru_titles", "--out", str(out)])
    assert list(rows) == ["char_gru_titles", "edit-distance-notes", "edit-distance", "hybrid"]
    assert rows["char_gru_titles"]["train_steps"] == 1
    for row in rows.values():
        assert 0 <= row["known_mrr_at_20"] <= 1 and 0 <= row["unseen_mrr_at_20"] <= 1
    saved = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert list(saved) == list(rows)
    printed = capsys.readouterr().out
    assert _table_rows(printed, "hybrid")  # the whole table at the end
    assert bench.main(["--merge", str(out)]) == saved


@pytest.mark.usefixtures("one_torch_thread")
def test_training_throughput_times_both_sides_in_one_process(capsys):
    """The single-process table (only the two-process one was run end to end): a row per kind of
    batches, both sides timed on the same tunes, their losses within float error."""
    throughput = load_benchmark("bench_training_throughput")
    argv = ["--presets", "small", "--steps", "1", "--warmup", "0", "--batch_size", "2"]
    throughput.main([*argv, "--threads", "1", "--bucketed"])
    out = capsys.readouterr().out
    assert out.startswith(f"torch {torch.__version__}, 1 threads, batch 2\n")
    rows = _table_rows(out, "small")
    assert len(rows) == 4  # each row printed as it ends, then the whole table
    assert rows[:2] == rows[2:]
    assert [row[1] for row in rows[:2]] == ["random", "length-bucketed"]
    for row in rows[:2]:
        assert float(row[2].removesuffix(" M")) > 0  # parameters
        assert all(float(cell.replace(",", "")) > 0 for cell in row[3:5])  # tokens/s each side
        assert float(row[10]) < 1e-5  # the loss gap of the two implementations
    assert re.search(r"peak RSS of the whole run \(largest process\): [\d.]+ GB", out)


@pytest.mark.slow  # two subprocesses make the inputs, each command runs twice: ~40 s loaded
def test_cli_cold_start_times_each_command_from_a_fresh_process(tmp_path, capsys):
    tunes = [synthetic_tune(i, f"Reel {i}", i, seed=i) for i in range(1, 6)]
    corpus = _write(tmp_path / "book.abc", tunes)
    work = tmp_path / "work"
    bench = load_benchmark("cli_cold_start")
    argv = ["--repeat", "1", "--commands", "help", "check", "--corpus", corpus, "--tunes", "3"]
    medians = bench.main([*argv, "--workdir", str(work)])
    root = str(BENCHMARKS.parent)
    assert list(medians) == ["help", "check"]
    assert all(list(times) == [root] and times[root] > 0 for times in medians.values())
    # the inputs it made: the first 3 tunes, a model with its tokenizer, their index
    assert (work / "corpus.abc").read_text(encoding="utf-8").count("X:") == 3
    assert (work / "model" / "config.json").is_file()
    assert (work / "model" / "tokenizer_config.json").is_file()
    assert (work / "index").is_dir()
    out = capsys.readouterr().out.splitlines()
    assert out[1:3] == [f"| command | {root} |", "|---|---|"]
    assert [line.split(" | ")[0] for line in out[3:5]] == ["| `help`", "| `check`"]
    assert out[5].startswith("after: ")
