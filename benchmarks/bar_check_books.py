"""How many tunes of music21's O'Neill's (1850) and Ryan's Mammoth have every full bar fitting the
meter, and why the others do not (issue 2's target: at least 98%).

Usage:
    python benchmarks/bar_check_books.py [--examples 3] [--music21 [--passing-sample 0.08]]

The counts are those of ``irish-tune check --bars oneills1850 ryansMammoth`` (the same
`tokenization.check.check_files`); this script adds a classification of the failing tunes by the
lengths of their bars:

- *header meter*: the most common bar length of the tune is not its ``M:`` (the tune is written
  in another meter than its header says);
- *missing bar line*: a long bar is a whole multiple of the meter (two bars written as one);
- *one eighth or less*: every wrong bar is off by at most one eighth note (a dropped dot, a
  missing or extra note, a broken rhythm on the wrong side);
- *tuplet across a bar line*: a wrong bar holds notes of a tuplet that runs on past a bar line
  (often a ``(3`` with too few notes before the bar line, which then times notes of the next);
- *other*: larger differences.

``--music21`` reads every failing tune a second time with music21's ABC parser (an independent
reader, about a minute for both books) and says whether it finds the same note lengths: the
same total and a music21 measure boundary at every one of our bar lines (music21 cuts a bar that
is too long into a full measure and a remainder, so its measures may be more than ours). Where
it agrees, the wrong bar lengths are in the text, not in our reading. Where it does not, the tune
is read again without its decorations, guitar chords and annotations, after some of which
music21 loses notes (``H``, ``">"``). ``--passing-sample``
does the same for a random share of the tunes that pass.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import warnings
from collections import Counter
from fractions import Fraction

from modeling_irish.abc_corpus import music21_collection_files
from modeling_irish.cli import non_negative_int, share
from tokenization.abc_header import split_tunebook
from tokenization.abc_parser import AbcTune, parse_tunebook
from tokenization.bar_check import Bar, bar_report, bars_of, full_bar
from tokenization.check import read_abc_file

BOOKS = ("oneills1850", "ryansMammoth")
KINDS = (
    "header meter",
    "missing bar line",
    "one eighth or less",
    "tuplet across a bar line",
    "other",
)


def classify(tune: AbcTune, bad: list[Bar]) -> str:
    """The most likely kind of transcription error behind a tune's wrong bars (``bad``)."""
    if any("tuplet" in b.flags for b in bad):
        return "tuplet across a bar line"
    bars = [b for b in bars_of(tune) if b.meter != "none"]
    inner = bars[1:-1] or bars
    common, count = Counter(b.length for b in inner).most_common(1)[0]
    if common != full_bar(inner[0].meter) and count * 2 >= len(inner):
        return "header meter"
    if any(b.length > full_bar(b.meter) and b.length % full_bar(b.meter) == 0 for b in bad):
        return "missing bar line"
    off = max(abs(b.length - full_bar(b.meter)) for b in bad)
    return "one eighth or less" if off <= 1 else "other"


def music21_bar_lengths(text: str) -> list[Fraction]:
    """Lengths in eighth notes of the non-empty measures music21 reads in one tune's ABC."""
    import music21

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = music21.converter.parse(text, format="abc", forceSource=True)
    part = score.parts[0] if score.parts else score
    lengths = (Fraction(m.duration.quarterLength) * 2 for m in part.getElementsByClass("Measure"))
    return [x for x in lengths if x > 0]


def same_lengths(ours: list[Fraction], theirs: list[Fraction]) -> bool:
    """Whether two readings hold the same note lengths bar by bar: equal totals, and every one
    of our bar lines falls on a measure boundary of theirs."""
    return sum(ours) == sum(theirs) and set(itertools.accumulate(ours)) <= set(
        itertools.accumulate(theirs)
    )


_FIELD_LINE = re.compile(r"^[A-Za-z]:")
_DECORATIONS = re.compile(r'"[^"]*"|![^!\n]*!|\+[^+\n]*\+|[HLMOPSTuv~.](?=[~.]*[_^=A-Ga-gz(\[{])')


def without_decorations(text: str) -> str:
    """A tune's ABC with the body's decorations, guitar chords and annotations removed (they
    carry no length; music21 loses notes after some of them)."""
    return "\n".join(
        line if _FIELD_LINE.match(line) else _DECORATIONS.sub("", line) for line in text.split("\n")
    )


def cross_check(tune: AbcTune, text: str) -> str:
    """music21's reading against ours: ``"agrees"``, ``"agrees without decorations"`` (music21
    agrees once `without_decorations` is applied), ``"differs"`` or ``"music21 error"``."""
    ours = [b.length for b in bars_of(tune)]
    for verdict, version in (("agrees", text), ("agrees without decorations", None)):
        try:
            theirs = music21_bar_lengths(
                version if version is not None else without_decorations(text)
            )
        except Exception:  # music21 raises many kinds on malformed text  # noqa: BLE001
            return "music21 error"
        if same_lengths(ours, theirs):
            return verdict
    return "differs"


def fit_share(fit: int, parsed: int) -> str:
    """The share of bar-checked tunes whose bars fit, or ``n/a`` for a book with none (no tune
    with a meter: a share of 0 of 0 is no figure).

    >>> fit_share(1, 2), fit_share(0, 0)
    ('50.0%', 'n/a')
    """
    return f"{fit / parsed:.1%}" if parsed else "n/a"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--examples", type=non_negative_int, default=3, help="tunes named per kind")
    parser.add_argument("--music21", action="store_true", help="cross-check with music21")
    parser.add_argument(
        "--passing-sample", type=share, default=0.0, help="share of passing tunes cross-checked"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the passing sample")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    checks: dict[str, Counter] = {}
    differing: list[str] = []
    print("| book | tunes | parsed (meter) | bars fit | share | " + " | ".join(KINDS) + " |")
    print("|---" * (5 + len(KINDS)) + "|")
    examples: dict[str, list[str]] = {k: [] for k in KINDS}
    for book in BOOKS:
        tunes = parsed = fit = 0
        kinds: Counter = Counter()
        for path in music21_collection_files(book):
            text = read_abc_file(path)
            for tune, (_, chunk) in zip(parse_tunebook(text), split_tunebook(text)):
                tunes += 1
                if not isinstance(tune, AbcTune):
                    continue
                parsed += 1
                report = bar_report(tune)
                if report.skipped:  # free meter: not checked (none in these books)
                    parsed -= 1
                    continue
                if args.music21 and (not report.ok or rng.random() < args.passing_sample):
                    verdict = cross_check(tune, chunk)
                    checks.setdefault(book, Counter())[
                        ("passing " if report.ok else "failing ") + verdict
                    ] += 1
                    if verdict == "differs":
                        differing.append(f"{book} {path.name} X:{tune.fields['X'][0]} {tune.title}")
                if report.ok:
                    fit += 1
                    continue
                kind = classify(tune, report.bad_bars)
                kinds[kind] += 1
                examples[kind].append(
                    f"{book} {path.name} X:{tune.fields['X'][0]} {tune.title}: {report.problems[0]}"
                )
        row = [book, tunes, parsed, fit, fit_share(fit, parsed)] + [kinds[k] for k in KINDS]
        print("| " + " | ".join(map(str, row)) + " |")
    for kind in KINDS:
        for line in examples[kind][: args.examples]:
            print(f"- {kind}: {line}")
    for book, counts in checks.items():
        print(
            f"music21 cross-check, {book}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
    for line in differing[: args.examples * 3]:
        print(f"- music21 reads other lengths: {line}")


if __name__ == "__main__":
    main()
