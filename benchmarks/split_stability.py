"""How many tunes change split when a corpus grows, for both split methods of `load_abc_corpus`.

Usage:
    python benchmarks/split_stability.py [--corpus thesession-c.abc] [--keep 0.9] [--seed 1]

An "older version" of the corpus is drawn from it (each tune kept with probability ``--keep``,
seeded), written as a tunebook of the same file name (tunes without ``S:`` take their tune id
from it), and both versions are split with each method (split seed 0, default ratios). A tune of
the older version that lands in another split of the full corpus is counted as moved; one that
moves out of train is a training tune that the grown corpus would evaluate on.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import Counter
from pathlib import Path

from _paths import DEFAULT_CORPUS

from modeling_irish.abc_corpus import SPLIT_METHODS, SPLIT_NAMES, load_abc_corpus
from modeling_irish.cli import existing_file, share
from tokenization.abc_header import split_tunebook
from tokenization.check import read_abc_file


def _placement(book: Path, method: str) -> dict[tuple, str]:
    """(tune id, setting id, X) -> split name."""
    data = load_abc_corpus(str(book), split_method=method)
    return {(r["tune_id"], r["setting_id"], r["x"]): n for n in SPLIT_NAMES for r in data[n]}


def main(argv: list[str] | None = None) -> None:
    """Print the table of tunes that move split, for each split method."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=existing_file, default=DEFAULT_CORPUS, help="ABC tunebook")
    parser.add_argument("--keep", type=share, default=0.9, help="share of tunes in the older one")
    parser.add_argument("--seed", type=int, default=1, help="seed of the older version's draw")
    args = parser.parse_args(argv)
    if args.keep == 0:
        parser.error("--keep must be above 0 (the older version would have no tunes)")
    corpus = Path(args.corpus)
    # as the loader reads the file (UTF-8, else Latin-1 line by line), each tune with the file
    # header's fields written in, since the older version is written without the header
    text = read_abc_file(corpus)
    tunes = [tune for _, tune in split_tunebook(text, standalone=True)]
    rng = random.Random(args.seed)
    older = [text for text in tunes if rng.random() < args.keep]
    print(f"{corpus}: {len(tunes)} tunes; older version: {len(older)}")
    print("| method | tunes in both versions | moved | moved out of train | moves |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / corpus.name
        book.write_text("\n".join(older), encoding="utf-8")
        for method in SPLIT_METHODS:
            before, after = _placement(book, method), _placement(corpus, method)
            both = [k for k in before if k in after]
            moves = Counter((before[k], after[k]) for k in both if before[k] != after[k])
            moved = sum(moves.values())
            out_of_train = sum(n for (a, _), n in moves.items() if a == "train")
            shown = ", ".join(f"{a} -> {b} {n}" for (a, b), n in sorted(moves.items()))
            print(
                f"| {method} | {len(both):,} | {moved:,} ({100 * moved / len(both):.1f}%) "
                f"| {out_of_train:,} | {shown} |"
            )


if __name__ == "__main__":
    main()
