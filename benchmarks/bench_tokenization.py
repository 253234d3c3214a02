"""Tokenization throughput against music21's ABC parser, and peak memory over the whole corpus.

Usage:
    python benchmarks/bench_tokenization.py [--corpus PATH] [--sample 200]

Prints a markdown table: tunes per second for music21's ABC parse and for our tokenizer on the same
sample (side by side in one run), our tokenizer over the whole corpus in one process and with
``datasets.map(num_proc=2)``, and the peak resident memory of a process that tokenizes the whole
corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import subprocess
import sys
import time
import warnings

from _paths import DEFAULT_CORPUS

from modeling_irish.cli import existing_file, positive_int


def split_tunes(path: str) -> list[str]:
    """The tunes of a tunebook as the package reads them (`iter_raw_tunes`: UTF-8, else Latin-1
    line by line; a tune starts at its ``X:`` line, blank line between tunes or not). On the
    shared corpus these are the texts a split on blank lines gave: 20,721 tunes."""
    from modeling_irish.abc_sources import iter_raw_tunes

    return [raw.text for raw in iter_raw_tunes(path)]


def time_music21(tunes: list[str]) -> float:
    import music21

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    for text in tunes:
        music21.converter.parse(text, format="abc")
    return time.perf_counter() - start


def time_ours(tokenizer, tunes: list[str]) -> tuple[float, int]:
    from tokenization.abc_parser import AbcParseError

    failures = 0
    start = time.perf_counter()
    for text in tunes:
        try:
            tokenizer.encode_tune(text)
        except AbcParseError:
            failures += 1
    return time.perf_counter() - start, failures


def time_map(tokenizer, tunes: list[str], num_proc: int) -> float:
    from datasets import Dataset, disable_progress_bars

    from tokenization.dataset import tokenize_dataset

    disable_progress_bars()
    ds = Dataset.from_dict({"abc": tunes})
    start = time.perf_counter()
    tokenize_dataset(ds, tokenizer, num_proc=num_proc if num_proc > 1 else None)
    return time.perf_counter() - start


def peak_memory_child(corpus: str) -> None:
    """Run in a child process: tokenize the whole corpus, print peak RSS in MiB."""
    from tokenization.tokenization_abc import AbcTokenizer

    tunes = split_tunes(corpus)
    tokenizer = AbcTokenizer.train(tunes)
    from tokenization.abc_parser import AbcParseError

    encoded = []
    for text in tunes:
        with contextlib.suppress(AbcParseError):
            encoded.append(tokenizer.encode_tune(text).input_ids)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=existing_file, default=DEFAULT_CORPUS, help="ABC tunebook to tokenize"
    )
    parser.add_argument(
        "--sample", type=positive_int, default=200, help="tunes parsed by both music21 and us"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        peak_memory_child(args.corpus)
        return
    import torch

    torch.set_num_threads(1)
    from tokenization.tokenization_abc import AbcTokenizer

    tunes = split_tunes(args.corpus)
    start = time.perf_counter()
    tokenizer = AbcTokenizer.train(tunes)
    vocab_time = time.perf_counter() - start
    sample = tunes[: args.sample]
    m21 = time_music21(sample)
    ours_sample, _ = time_ours(tokenizer, sample)
    ours_all, failures = time_ours(tokenizer, tunes)
    map1 = time_map(tokenizer, tunes, 1)
    map2 = time_map(tokenizer, tunes, 2)
    child = subprocess.run(
        [sys.executable, __file__, "--corpus", args.corpus, "--child"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    peak = float(child.stdout.strip().splitlines()[-1])
    n = len(tunes)
    print(
        f"corpus: {args.corpus} ({n} tunes, {failures} unreadable); vocab build {vocab_time:.1f} s"
    )
    print("| what | tunes | seconds | tunes/s |")
    print("|---|---|---|---|")
    print(f"| music21 ABC parse (sample) | {len(sample)} | {m21:.2f} | {len(sample) / m21:.1f} |")
    print(
        f"| ours, encode_tune (sample) | {len(sample)} | {ours_sample:.3f} | "
        f"{len(sample) / ours_sample:.0f} |"
    )
    print(f"| ours, encode_tune (corpus, 1 process) | {n} | {ours_all:.1f} | {n / ours_all:.0f} |")
    print(f"| ours, datasets.map num_proc=1 | {n} | {map1:.1f} | {n / map1:.0f} |")
    print(f"| ours, datasets.map num_proc=2 | {n} | {map2:.1f} | {n / map2:.0f} |")
    print(f"\nspeed-up over music21 per process: {m21 / ours_sample:.0f}x")
    print(f"peak RSS tokenizing the whole corpus: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
