"""Does music21 read our decoded ABC as the same music? (issue 2, item 5, on real tunes)

For every tune of a sample: tokenize it (`AbcTokenizer.encode_tune`), decode the rows back to ABC
in the tune's original key, then compare the notes of that text as our reader takes them with the
notes music21's ABC parser takes from it: the same sounding events (pitches of a note or chord,
or a rest) with the same lengths, in order (tuplet members scaled as music21 scales them;
`modeling_irish.quality.sounding_events` / `music21_sounding_events`), after merging, on both
sides, a note tied to the next note of its pitch and rests that follow each other: music21
cuts a note or rest that overruns its bar (a bar the source wrote too long) into two. The
tokenizer's vocabulary is built from the sample itself, so nothing is unknown. ``--abc2midi``
also runs abc2midi on the decoded text and on its source, and counts the decoded tunes with an
error message the source does not have (refused when abc2midi is not installed: every tune
would count as without a new error).

Usage:
    python benchmarks/music21_round_trip.py [--corpus PATH] [--sample 1000] [--seed 0]
        [--books] [--abc2midi] [--examples 5]

``--corpus`` defaults to ``$MODELING_IRISH_CORPUS`` or ``../shared/data/thesession-c.abc`` (a
tunebook, a folder or a thesession.org dump); ``--books`` adds every tune of music21's
O'Neill's (1850) and Ryan's Mammoth. Prints a table of agreement per source and the first
differing event (or the new abc2midi errors) of a few disagreeing tunes.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import time
from collections import Counter
from pathlib import Path

from _paths import DEFAULT_CORPUS

from modeling_irish.abc_sources import RawTune, iter_raw_tunes
from modeling_irish.cli import abc_source, non_negative_int
from modeling_irish.quality import (
    abc2midi_errors,
    music21_sounding_events,
    sounding_events,
)
from tokenization.abc_parser import AbcParseError, parse_abc
from tokenization.tokenization_abc import AbcTokenizer


def _name(raw: RawTune) -> str:
    """File and line of a tune, as errors name them."""
    return f"{Path(raw.source).name} line {raw.line}"


def sample_tunes(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """``(source, name, text)`` of the sampled corpus tunes (and the books with ``--books``)."""
    corpus = [(Path(args.corpus).name, _name(raw), raw.text) for raw in iter_raw_tunes(args.corpus)]
    random.Random(args.seed).shuffle(corpus)
    tunes = corpus[: args.sample]
    if args.books:
        for book in ("oneills1850", "ryansMammoth"):
            tunes += [(book, _name(raw), raw.text) for raw in iter_raw_tunes(book)]
    return tunes


def abc2midi_messages(abc: str) -> set[str]:
    """`quality.abc2midi_errors` without their positions (empty without abc2midi)."""
    return {re.sub(r"line-char \d+-\d+", "", line) for line in abc2midi_errors(abc, 60) or []}


def compare(tokenizer: AbcTokenizer, text: str, abc2midi: bool = False) -> tuple[str, str]:
    """``(outcome, detail)``: ``agree``, ``unreadable`` (our reader refuses the source tune),
    ``abc2midi error`` (with ``abc2midi``: it reports an error in the decoded text that it does
    not report in the source),
    ``music21 error`` or ``differ`` (detail: the first differing event)."""
    try:
        enc = tokenizer.encode_tune(text)
    except (AbcParseError, ValueError) as err:
        return "unreadable", str(err)
    abc = tokenizer.decode(enc.input_ids, key=enc.original_key)
    if abc2midi:
        new = abc2midi_messages(abc) - abc2midi_messages(text)
        if new:
            return "abc2midi error", f"{sorted(new)}\n{abc}"
    ours = sounding_events(parse_abc(abc).tokens)
    try:
        theirs = music21_sounding_events(abc)
    except Exception as err:  # noqa: BLE001 (music21 raises many kinds on odd input)
        return "music21 error", f"{type(err).__name__}: {err}"[:200]
    if ours == theirs:
        return "agree", ""
    i = next(
        (k for k, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs))
    )
    return "differ", (
        f"event {i} of {len(ours)} (music21 {len(theirs)}): ours {ours[i : i + 3]} "
        f"music21 {theirs[i : i + 3]}\n{abc}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=abc_source, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--sample", type=non_negative_int, default=1000, help="corpus tunes drawn at random"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--books", action="store_true", help="add O'Neill's and Ryan's, whole")
    parser.add_argument(
        "--examples", type=non_negative_int, default=5, help="disagreements printed"
    )
    parser.add_argument(
        "--abc2midi", action="store_true", help="also run abc2midi on each decoded tune"
    )
    args = parser.parse_args(argv)
    if args.sample == 0 and not args.books:
        parser.error("--sample 0 without --books leaves no tune to compare")
    if args.abc2midi and shutil.which("abc2midi") is None:  # else "0 new abc2midi errors"
        parser.error("--abc2midi: abc2midi is not installed (apt-get install abcmidi)")

    tunes = sample_tunes(args)
    tokenizer = AbcTokenizer.train(text for _, _, text in tunes)
    counts: dict[str, Counter] = {}
    examples: list[str] = []
    start = time.perf_counter()
    for source, name, text in tunes:
        outcome, detail = compare(tokenizer, text, args.abc2midi)
        counts.setdefault(source, Counter())[outcome] += 1
        if outcome not in ("agree", "unreadable") and len(examples) < args.examples:
            examples.append(f"--- {source} {name}: {outcome}: {detail}")
    print(f"{len(tunes)} tunes in {time.perf_counter() - start:.0f} s\n")
    print(
        "| source | tunes | our reader refuses | decoded: music21 agrees | differs "
        "| music21 fails | abc2midi error |"
    )
    print("|---|---|---|---|---|---|---|")
    for source, c in counts.items():
        read = sum(c.values()) - c["unreadable"]
        share = f" ({c['agree'] / read:.2%})" if read else ""
        print(
            f"| {source} | {sum(c.values())} | {c['unreadable']} | {c['agree']}{share} | "
            f"{c['differ']} | {c['music21 error']} | {c['abc2midi error']} |"
        )
    for example in examples:
        print(example)


if __name__ == "__main__":
    main()
