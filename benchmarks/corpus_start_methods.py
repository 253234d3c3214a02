"""Wall time of `load_abc_corpus` parsing a corpus in forked against spawned worker processes
(``num_proc``), and in one process, without its cache.

Usage:
    OMP_NUM_THREADS=1 python benchmarks/corpus_start_methods.py [--corpus thesession-c.abc]
                                                                [--num-proc 2] [--runs 2]

Linux forks the parsing processes, macOS and Windows spawn them (`abc_corpus._start_method`);
here each is forced in turn, the cases taking turns run by run so that the load of a shared
host falls on all of them alike. Prints a markdown table of each case's runs, its fastest and
its ratio to the fastest fork run, and checks that every case gives the same splits.

A spawned worker imports the main script again (as ``__mp_main__``), with its top-level
imports: this one imports the package inside its functions, so that its workers import the
reader only, as those of ``python -c`` or a notebook do. A script that imports
`modeling_irish` at the top (which imports torch) adds that import, seconds, to each worker.
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

from _paths import DEFAULT_CORPUS


def load(corpus: str, method: str | None, num_proc: int) -> tuple[float, list[list[str]]]:
    """Seconds to load ``corpus`` (no cache) by ``method`` ("fork", "spawn"; None: one
    process), and each split's tune ids."""
    from modeling_irish import abc_corpus  # here: a spawned worker imports this script again

    workers = 1 if method is None else num_proc
    with mock.patch.object(abc_corpus, "_start_method", lambda: method or "fork"):
        start = time.perf_counter()
        splits = abc_corpus.load_abc_corpus(corpus, num_proc=workers, cache_dir=None)
        seconds = time.perf_counter() - start
    return seconds, [splits[name]["tune_id"] for name in abc_corpus.SPLIT_NAMES]


def main(argv: list[str] | None = None) -> list[dict]:
    from modeling_irish.cli import positive_int

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="the corpus to load")
    parser.add_argument("--num-proc", type=positive_int, default=2, help="worker processes")
    parser.add_argument("--runs", type=positive_int, default=2, help="timed runs of each case")
    args = parser.parse_args(argv)
    cases = {"fork": "fork", "spawn": "spawn", "one process": None}
    times: dict[str, list[float]] = {name: [] for name in cases}
    first = None
    for _ in range(args.runs):  # the cases take turns: the host's load falls on each alike
        for name, method in cases.items():
            seconds, splits = load(args.corpus, method, args.num_proc)
            first = splits if first is None else first
            if splits != first:
                raise SystemExit(f"{name}: other splits than the first case's")
            times[name].append(seconds)
    fork = min(times["fork"])
    rows = [
        {"case": n, "runs": t, "fastest": min(t), "ratio": min(t) / fork} for n, t in times.items()
    ]
    print(f"num_proc={args.num_proc}, {args.corpus}")
    print("| case | runs (s) | fastest (s) | fastest / fork |\n|---|---|---|---|")
    for row in rows:
        runs = ", ".join(f"{s:.1f}" for s in row["runs"])
        print(f"| {row['case']} | {runs} | {row['fastest']:.1f} | {row['ratio']:.2f} |")
    return rows


if __name__ == "__main__":
    main()
