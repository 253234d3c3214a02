"""How many tunes of music21's O'Neill's (1850) and Ryan's Mammoth have every full bar fitting the
meter, and why the others do not (issue 2's target: at least 98%).

Usage:
    python benchmarks/bar_check_books.py [--examples 3]

The counts are those of ``irish-tune check --bars oneills1850 ryansMammoth`` (the same
`tokenization.check.check_files`); this script adds a classification of the failing tunes by the
lengths of their bars:

- *header meter*: the most common bar length of the tune is not its ``M:`` (the tune is written
  in another meter than its header says);
- *missing bar line*: a long bar is a whole multiple of the meter (two bars written as one);
- *one eighth or less*: every wrong bar is off by at most one eighth note (a dropped dot, a
  missing or extra note, a broken rhythm on the wrong side);
- *tuplet left open*: a tuplet still open at a bar line (a ``(3`` with too few notes);
- *other*: larger differences.
"""

from __future__ import annotations

import argparse
from collections import Counter

from modeling_irish.abc_corpus import music21_collection_files
from tokenization.abc_parser import AbcTune, parse_tunebook
from tokenization.bar_check import Bar, bar_report, bars_of, full_bar
from tokenization.check import read_abc_file

BOOKS = ("oneills1850", "ryansMammoth")
KINDS = ("header meter", "missing bar line", "one eighth or less", "tuplet left open", "other")


def classify(tune: AbcTune, bad: list[Bar]) -> str:
    """The most likely kind of transcription error behind a tune's wrong bars (``bad``)."""
    if any("tuplet" in b.flags for b in bad):
        return "tuplet left open"
    bars = [b for b in bars_of(tune) if b.meter != "none"]
    inner = bars[1:-1] or bars
    common, count = Counter(b.length for b in inner).most_common(1)[0]
    if common != full_bar(inner[0].meter) and count * 2 >= len(inner):
        return "header meter"
    if any(b.length > full_bar(b.meter) and b.length % full_bar(b.meter) == 0 for b in bad):
        return "missing bar line"
    off = max(abs(b.length - full_bar(b.meter)) for b in bad)
    return "one eighth or less" if off <= 1 else "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=3, help="tunes named per kind")
    args = parser.parse_args()
    print("| book | tunes | parsed (meter) | bars fit | share | " + " | ".join(KINDS) + " |")
    print("|---" * (5 + len(KINDS)) + "|")
    examples: dict[str, list[str]] = {k: [] for k in KINDS}
    for book in BOOKS:
        tunes = parsed = fit = 0
        kinds: Counter = Counter()
        for path in music21_collection_files(book):
            for tune in parse_tunebook(read_abc_file(path)):
                tunes += 1
                if not isinstance(tune, AbcTune):
                    continue
                parsed += 1
                report = bar_report(tune)
                if report.skipped:  # free meter: not checked (none in these books)
                    parsed -= 1
                    continue
                if report.ok:
                    fit += 1
                    continue
                kind = classify(tune, report.bad_bars)
                kinds[kind] += 1
                examples[kind].append(
                    f"{book} {path.name} X:{tune.fields['X'][0]} {tune.title}: {report.problems[0]}"
                )
        row = [book, tunes, parsed, fit, f"{fit / parsed:.1%}"] + [kinds[k] for k in KINDS]
        print("| " + " | ".join(map(str, row)) + " |")
    for kind in KINDS:
        for line in examples[kind][: args.examples]:
            print(f"- {kind}: {line}")


if __name__ == "__main__":
    main()
