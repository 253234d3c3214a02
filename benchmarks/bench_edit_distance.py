"""Semi-global edit-distance ranking speed: one 30-note query against a ~20k-tune gallery.

Usage:
    python benchmarks/bench_edit_distance.py [--gallery 20000] [--query-notes 30] [--repeats 20]

Random pitch sequences of 90-150 notes stand in for the corpus (the cost depends only on the
lengths); prints milliseconds per query (median of the repeats). The scan runs on one thread
by construction (numpy and numba kernels without parallel loops; no torch), so no thread count
is set.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from modeling_irish.cli import positive_int
from modeling_irish.edit_distance import EditDistanceRanker


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gallery", type=positive_int, default=20_000, help="gallery tunes")
    parser.add_argument("--query-notes", type=positive_int, default=30, help="notes per query")
    parser.add_argument("--repeats", type=positive_int, default=20, help="timed queries")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    gallery = [
        rng.integers(55, 80, int(rng.integers(90, 150))).tolist() for _ in range(args.gallery)
    ]
    ranker = EditDistanceRanker(gallery, list(range(args.gallery)))
    times = []
    for _ in range(args.repeats + 1):
        query = rng.integers(55, 80, args.query_notes).tolist()
        start = time.perf_counter()
        ranker.scores(query)
        times.append(time.perf_counter() - start)
    ms = statistics.median(times[1:]) * 1000
    print(
        f"gallery {args.gallery} tunes, query {args.query_notes} notes: {ms:.1f} ms/query (median)"
    )


if __name__ == "__main__":
    main()
