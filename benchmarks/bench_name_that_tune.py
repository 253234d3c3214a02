"""Query time of the edit-distance scorer of "name that tune" against a whole corpus.

Every readable tune of the corpus is a gallery setting (its notes and durations, with its meter,
mode and tune type, as `TuneIndex` holds them); each query is a 30-note
excerpt of a random corpus tune with its header, scored against the whole gallery and reduced to
the best score per title, as `identify` does. One thread. Run::

    python benchmarks/bench_name_that_tune.py --tokenizer runs/fixed-budget-small
    python benchmarks/bench_name_that_tune.py --tokenizer DIR --corpus small.abc --queries 20
    python benchmarks/bench_name_that_tune.py --tokenizer DIR --ab-commit ea44cb7
    python benchmarks/bench_name_that_tune.py --tokenizer DIR --pitch-classes

The default scorer is the transposing one (``EditScorerOptions()``, as ``identify`` and
``evaluate-retrieval`` use). ``--pitch-classes`` also times the scorer without transposition
(``EditScorerOptions(transpose=False)``, ``--no-transpose``) on the same queries, alternating with
the default one query by query; ``pitch_classes_*`` keys.

``--written`` also times the scorer over the settings as written (``EditScorerOptions(
unfold_repeats=False)``, ``--no-unfold-repeats``; the default compares them in played order,
repeats and endings unfolded), alternating query by query; ``written_*`` keys.

``--compare-window W`` also times the default scorer with gallery windows of W symbols instead of
``edit_distance.WINDOW`` (alternating, and checks that the scores are identical); ``window_W_*``
keys. W must be above the windows' overlap, 128 symbols (twice ``semiglobal.MAX_WORD_QUERY``).

``--ab-commit`` times the bit-parallel scan at that git commit (``_myers_scan_table``, else
``_myers_scan``, of ``modeling_irish/semiglobal.py``, or of ``edit_distance.py`` at commits before
the scans moved there) against the current one in the same process, alternating query by query (a
fair ratio on a noisy machine), and checks that both give identical scores. The commit's scan is
loaded and run on a tiny gallery first, before any tune is read: one that is missing, does not
load, or does not take the current scan's arguments (older commits laid the gallery out
otherwise) is refused with "no compatible scan at COMMIT".
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from _paths import DEFAULT_CORPUS

from irish_tune.json_output import json_dumps
from modeling_irish import semiglobal
from modeling_irish.abc_corpus import title_key
from modeling_irish.cli import abc_source, existing_folder, positive_int
from modeling_irish.retrieval_evaluation import (
    EditScorerOptions,
    query_edit_scores,
    settings_ranker,
)
from modeling_irish.threads import torch_threads
from modeling_irish.tune_embedding import best_per_title, encoded_records, read_tunes
from modeling_irish.tune_title_data import NoteCropper
from tokenization.tokenization_abc import AbcTokenizer

# the overlap `EditDistanceRanker` gives its gallery windows: a window must be longer
WINDOW_OVERLAP = 2 * semiglobal.MAX_WORD_QUERY


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus",
        type=abc_source,
        default=DEFAULT_CORPUS,
        help="ABC tunebook (default: $MODELING_IRISH_CORPUS or the shared thesession corpus "
        "beside this checkout).",
    )
    p.add_argument(
        "--tokenizer",
        required=True,
        type=existing_folder,
        help="Tokenizer folder (e.g. a model folder).",
    )
    p.add_argument("--queries", type=positive_int, default=300)
    p.add_argument("--excerpt-notes", type=positive_int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ab-commit", default=None, help="Also time the scan of this git commit.")
    p.add_argument(
        "--pitch-classes", action="store_true", help="Also time the scorer without transposition."
    )
    p.add_argument(
        "--written",
        action="store_true",
        help="Also time the scorer over the settings as written (repeats not unfolded).",
    )
    p.add_argument(
        "--compare-window",
        type=positive_int,
        default=None,
        help=f"Also time gallery windows of this many symbols (above {WINDOW_OVERLAP}, "
        "the windows' overlap).",
    )
    args = p.parse_args(argv)
    # checked before any work: PaddedGallery would refuse it only after the corpus is read
    if args.compare_window is not None and args.compare_window <= WINDOW_OVERLAP:
        p.error(
            f"--compare-window {args.compare_window}: must be above {WINDOW_OVERLAP}, "
            "the overlap of the gallery's windows"
        )
    # checked before any work: a bad commit would fail only after the index is built
    if args.ab_commit and not commit_exists(args.ab_commit):
        p.error(f"--ab-commit {args.ab_commit}: no such commit in this repository")
    if args.ab_commit:
        try:
            args.ab_scan = compatible_scan(args.ab_commit)
        except ValueError as err:
            p.error(f"--ab-commit: {err}")
    return args


def commit_exists(commit: str) -> bool:
    """Whether ``commit`` names a commit of the repository (``git cat-file -e``)."""
    repo = Path(__file__).resolve().parents[1]
    check = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=repo, capture_output=True
    )
    return check.returncode == 0


def scan_at_commit(commit: str) -> tuple[str, object]:
    """The scan as it was at a git commit (in ``modeling_irish/semiglobal.py``, or in
    ``edit_distance.py`` before it moved): the name of the function to swap into the current
    ``semiglobal`` (``_myers_scan_table``, which every scan goes through, or ``_myers_scan`` at
    commits without it) and that function."""
    repo = Path(__file__).resolve().parents[1]
    source = ""
    for path in ("modeling_irish/semiglobal.py", "modeling_irish/edit_distance.py"):
        shown = subprocess.run(
            ["git", "show", f"{commit}:{path}"],
            cwd=repo,
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        if shown.returncode == 0:
            source = shown.stdout
            break
    if not source:
        raise ValueError(f"no semiglobal.py or edit_distance.py in modeling_irish/ at {commit}")
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location(f"edit_distance_{commit}", handle.name)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "modeling_irish"  # its relative imports (the compiled kernels) resolve
    try:
        spec.loader.exec_module(module)
    finally:
        os.unlink(handle.name)
    name = "_myers_scan_table" if hasattr(module, "_myers_scan_table") else "_myers_scan"
    if not hasattr(module, name):
        raise ValueError(f"no _myers_scan_table or _myers_scan at {commit}")
    return name, getattr(module, name)


def compatible_scan(commit: str) -> tuple[str, object]:
    """`scan_at_commit`, run on a tiny gallery (one sequence longer than a window) as the current
    code calls the scan of that name, beside the current scan: a `ValueError` that says "no
    compatible scan at COMMIT" and why when it does not load or run, or gives distances of
    another shape. (Older scans read another gallery layout: numpy's broadcast errors, after the
    whole corpus had been indexed.)"""
    try:
        name, function = scan_at_commit(commit)
        rng = np.random.default_rng(0)
        gallery = semiglobal.PaddedGallery(
            [rng.integers(0, 12, n) for n in (5, 40, 300)], window=192, overlap=128
        )
        query = rng.integers(0, 12, 30)
        if name == "_myers_scan_table":
            table = semiglobal._pattern_table(query)
            ours = semiglobal._myers_scan_table(table, query.size, gallery)
            theirs = np.asarray(function(table, query.size, gallery))
        else:
            ours = semiglobal._myers_scan(query, gallery)
            theirs = np.asarray(function(query, gallery))
    except Exception as err:  # any failure of another commit's code
        raise ValueError(f"no compatible scan at {commit} ({type(err).__name__}: {err})") from None
    if theirs.shape != ours.shape:
        raise ValueError(
            f"no compatible scan at {commit} ({name} gives distances of shape {theirs.shape} "
            f"for a gallery of shape {ours.shape})"
        )
    return name, function


def gallery_ids(
    tokenizer: AbcTokenizer, records: list[dict[str, str]]
) -> tuple[list[np.ndarray], list[int]]:
    """The ids of every readable record (and those records' indices), each `(rows, 20)` array
    in the smallest integer type with room for the tokenizer's vocabulary (`encoded_records`'s
    ``compact``: the same numbers), its measure numbers not held. The gallery and the queries
    need them all, for each scorer timed; as int64 thesession's took ~470 MB, most of the
    benchmark's peak (docs/BENCHMARKS.md)."""
    ids, kept = [], []
    for i, x, _ in encoded_records(tokenizer, records, compact=True):
        ids.append(x)
        kept.append(i)
    return ids, kept


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    tokenizer = AbcTokenizer.from_pretrained(args.tokenizer)
    cropper = NoteCropper(tokenizer)
    records = read_tunes(args.corpus)
    ids, kept = gallery_ids(tokenizer, records)
    keys = [title_key(records[i]["title"]) or f"#{i}" for i in kept]
    index = {k: n for n, k in enumerate(dict.fromkeys(keys))}
    owner = np.array([index[k] for k in keys])
    build = time.perf_counter()
    ranker = settings_ranker(cropper, ids, owner.tolist())
    build = time.perf_counter() - build
    others = {}
    if args.compare_window:
        others[f"window_{args.compare_window}"] = settings_ranker(
            cropper, ids, owner.tolist(), window=args.compare_window
        )
    if args.written:
        options = EditScorerOptions(unfold_repeats=False)
        others["written"] = settings_ranker(cropper, ids, owner.tolist(), options)
    if args.pitch_classes:
        pitch_build = time.perf_counter()
        options = EditScorerOptions(transpose=False)
        others["pitch_classes"] = settings_ranker(cropper, ids, owner.tolist(), options)
        pitch_build = time.perf_counter() - pitch_build
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(ids), size=min(args.queries, len(ids)), replace=False)
    queries = [cropper.crop(ids[i], args.excerpt_notes, rng) for i in picks]
    current = {n: getattr(semiglobal, n) for n in ("_myers_scan_table", "_myers_scan")}
    scans = {"current": current}
    if args.ab_commit:
        swapped, function = args.ab_scan  # loaded and tried by parse_args
        scans[args.ab_commit] = {**current, swapped: function}
    times: dict[str, list[float]] = {name: [] for name in [*scans, *others]}
    identical = True

    def use(name: str) -> None:
        for attr, function in scans.get(name, current).items():
            setattr(semiglobal, attr, function)

    with torch_threads(1):
        for name in times:  # untimed: numba compiles (or loads its cache) on the first scan
            use(name)
            query_edit_scores(others.get(name, ranker), cropper, queries[0][0])
        for n, (rows, _) in enumerate(queries):
            order = list(times) if n % 2 == 0 else list(reversed(times))
            results = []
            for name in order:
                use(name)
                begin = time.perf_counter()
                scores = query_edit_scores(others.get(name, ranker), cropper, rows)
                best_per_title(scores, owner, len(index))
                times[name].append(1000 * (time.perf_counter() - begin))
                if name not in ("pitch_classes", "written"):  # the others: the same scores
                    results.append(scores)
            identical &= all(np.array_equal(results[0], r) for r in results[1:])
    use("current")
    out = {"gallery_settings": len(ids), "gallery_titles": len(index), "queries": len(queries)}
    for name, values in times.items():
        values = np.array(values)
        prefix = "" if name == "current" else f"{name}_"
        out[f"{prefix}ms_per_query_mean"] = round(float(values.mean()), 2)
        out[f"{prefix}ms_per_query_median"] = round(float(np.median(values)), 2)
        out[f"{prefix}ms_per_query_p90"] = round(float(np.percentile(values, 90)), 2)
    if args.ab_commit:
        ratio = np.array(times[args.ab_commit]) / np.array(times["current"])
        out["speedup_median_pairwise"] = round(float(np.median(ratio)), 3)
        out["identical_scores"] = bool(identical)
    if args.compare_window:
        name = f"window_{args.compare_window}"
        ratio = np.array(times[name]) / np.array(times["current"])
        out[f"{name}_over_current_median_pairwise"] = round(float(np.median(ratio)), 3)
        out["identical_scores"] = bool(identical)
    if args.written:
        ratio = np.array(times["written"]) / np.array(times["current"])
        out["written_over_current_median_pairwise"] = round(float(np.median(ratio)), 3)
    if args.pitch_classes:
        ratio = np.array(times["pitch_classes"]) / np.array(times["current"])
        out["pitch_classes_over_current_median_pairwise"] = round(float(np.median(ratio)), 3)
        out["pitch_classes_build_s"] = round(pitch_build, 1)
    out["build_s"] = round(build, 1)
    print(json_dumps(out, "bench_name_that_tune.py"))


if __name__ == "__main__":
    main()
