"""Where `irish-tune evaluate-generation --train` spends its time on the training side: reading
the tunes (`read_train_corpus`), indexing their bars (`BarIndex`) and counting their histograms
(`histogram_distances`), each timed on ``--corpus`` (default: the shared thesession corpus);
the read is timed twice, the second taken from the cache (`train_tokens_cache`) the first wrote
in a fresh folder.
The samples compared are the corpus's first ``--samples`` tunes (no model needed). Run::

    python benchmarks/bench_evaluate_generation.py                 # ~2 min on 2 cores
    python benchmarks/bench_evaluate_generation.py --max_tunes 2000  # a smoke run
"""

from __future__ import annotations

import argparse
import tempfile
import time

from _paths import DEFAULT_CORPUS

from modeling_irish.generation_cli import read_train_corpus
from modeling_irish.quality import BarIndex, histogram_distances


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The corpus, how many of its tunes to read, and how many stand in for the samples."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="ABC source of the training side")
    parser.add_argument("--max_tunes", type=int, default=None, help="read the first N (all)")
    parser.add_argument("--samples", type=int, default=50, help="tunes standing in for samples")
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error(f"--samples must be >= 1, got {args.samples}")
    return args


def main(argv: list[str] | None = None) -> None:
    """Time each phase of the training side and print one line per phase, in seconds."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_evaluate_generation-") as cache:
        start = time.perf_counter()  # (removed however the reads end: an error, a Ctrl-C)
        corpus, skipped = read_train_corpus(args.corpus, args.max_tunes, cache)
        first_read = time.perf_counter()
        cached, _ = read_train_corpus(args.corpus, args.max_tunes, cache)
        read = time.perf_counter()
    if cached != corpus:
        raise SystemExit("the cached read differs from the first")
    index = BarIndex(corpus)
    indexed = time.perf_counter()
    histogram_distances(corpus[: args.samples], corpus)
    counted = time.perf_counter()
    copies = [index.longest_copy(tokens) for tokens in corpus[: args.samples]]
    copied = time.perf_counter()
    rest = copied - read  # the bar index, histograms and copies: the same on either run
    print(f"{len(corpus)} tunes read, {skipped} unreadable, {sum(copies)} copied bars")
    for name, seconds in (
        ("read (read_train_corpus), first run", first_read - start),
        ("read, cached run", read - first_read),
        ("bar index (BarIndex)", indexed - read),
        ("histograms (histogram_distances)", counted - indexed),
        (f"longest_copy x{args.samples}", copied - counted),
        ("total, first run", first_read - start + rest),
        ("total, cached run", read - first_read + rest),
    ):
        print(f"{name:34s} {seconds:7.1f} s")


if __name__ == "__main__":
    main()
