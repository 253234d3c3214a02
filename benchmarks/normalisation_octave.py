"""Does `normalise_tune` put book tunes in the octave the shared corpus has them in?

The corpus stores every tune moved onto the white keys of its mode, without saying by how many
semitones (a tonic a fifth above the white one can go down a fifth or up a fourth). This script
pairs the tunes of music21's O'Neill's 1850 and Ryan's Mammoth with corpus settings of the same
tune (the same title key, the same mode, and the first 32 pitch classes equal after the tonic
shift up to a quarter of edits), takes the semitones between each book tune's pitches and the
corpus setting's (the most common difference of the aligned notes), and counts how often a rule
for the shift gives it: the nearest shift (-6..+5, `transpose_shift`) and the package's rule
(`normalise_shift`). Transcribers write some settings in another octave, so no rule reaches 100%.

    python benchmarks/normalisation_octave.py [--corpus ../shared/data/thesession-c.abc]
        [--books oneills1850 ryansMammoth]

It exits with status 1 and says so when no pair is found (e.g. a ``--corpus`` that holds none of
the books' titles).
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict

from _paths import DEFAULT_CORPUS

from modeling_irish.abc_corpus import title_key
from modeling_irish.abc_sources import iter_raw_tunes
from modeling_irish.cli import abc_source, existing_file
from tokenization.abc_parser import AbcParseError, parse_abc
from tokenization.keys import Key, normalise_shift, transpose_shift

PREFIX = 32  # notes compared


def read(source: str) -> list[tuple[str, Key, list[int]]]:
    """(title key, key, note pitches) of every readable, titled tune of ``source``."""
    tunes = []
    for raw in iter_raw_tunes(source):
        try:
            tune = parse_abc(raw.text)
        except AbcParseError:
            continue
        pitches = [t.pitch for t in tune.tokens if t.kind == "note" and t.pitch is not None]
        if title_key(tune.title) and len(pitches) >= 16:
            tunes.append((title_key(tune.title), tune.key, pitches))
    return tunes


def aligned(a: list[int], b: list[int]) -> tuple[int, list[tuple[int, int]]]:
    """Edit distance of ``a`` and ``b`` and the index pairs of the equal symbols it aligns."""
    n, m = len(a), len(b)
    d = [[i + j if i == 0 or j == 0 else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
    i, j, pairs = n, m, []
    while i and j:
        if d[i][j] == d[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
            if a[i - 1] == b[j - 1]:
                pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif d[i][j] == d[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return d[n][m], pairs


def pairs_and_shifts(books, corpus) -> list[tuple[Key, int]]:
    """(book key, corpus shift) of every matched (book tune, corpus setting) pair."""
    by_title = defaultdict(list)
    for title, key, pitches in corpus:
        by_title[title].append((key, pitches))
    found = []
    for title, key, pitches in books:
        near = transpose_shift(key, key.white)
        ours = [(p + near) % 12 for p in pitches[:PREFIX]]
        for other_key, other in by_title.get(title, ()):
            if other_key.mode != key.mode:
                continue
            theirs = [p % 12 for p in other[:PREFIX]]
            n = min(len(ours), len(theirs))
            distance, same = aligned(ours[:n], theirs[:n])
            if distance <= n // 4 and same:
                shift = Counter(other[j] - pitches[i] for i, j in same).most_common(1)[0][0]
                found.append((key, shift))
    return found


def main(argv: list[str] | None = None) -> None:
    """Print how often each rule gives the corpus octave of the matched pairs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=existing_file, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--books",
        nargs="+",
        type=abc_source,
        default=["oneills1850", "ryansMammoth"],
        help="the books whose tunes are paired with the corpus (default: music21's two)",
    )
    args = parser.parse_args(argv)
    books = [tune for book in args.books for tune in read(book)]
    found = pairs_and_shifts(books, read(args.corpus))
    if not found:
        raise SystemExit(
            f"normalisation_octave.py: no (book tune, corpus setting) pair between "
            f"{' '.join(args.books)} and {args.corpus}: no titled corpus tune shares a book "
            f"tune's title and mode with its first {PREFIX} pitch classes within a quarter of "
            "edits, so there is no octave to compare"
        )
    rules = {
        "nearest (-6..+5)": lambda key: transpose_shift(key, key.white),
        "normalise_shift": normalise_shift,
    }
    print(f"{len(found)} (book tune, corpus setting) pairs")
    print("| rule | pairs whose corpus octave it gives |\n|---|---|")
    for name, rule in rules.items():
        hits = sum(rule(key) == shift for key, shift in found)
        print(f"| {name} | {hits} ({hits / len(found):.1%}) |")
    print("\n| book key | pairs | corpus shifts found |\n|---|---|---|")
    table = defaultdict(Counter)
    for key, shift in found:
        table[key.name][shift] += 1
    for name, shifts in sorted(table.items(), key=lambda kv: -sum(kv[1].values())):
        seen = ", ".join(f"{s:+d} x{c}" for s, c in shifts.most_common())
        print(f"| {name} | {sum(shifts.values())} | {seen} |")


if __name__ == "__main__":
    main()
