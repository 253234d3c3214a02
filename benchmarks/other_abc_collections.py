"""The reader on the ABC collections music21 ships besides O'Neill's and Ryan's (issue 2, "read
any ABC"): German and other folk songs (``essenFolksong``), Aird's airs, two American and
Northumbrian books (``miscFolk``) and two Nottingham reels.

Usage:
    python benchmarks/other_abc_collections.py [--abc2midi] [--examples 3] [COLLECTION ...]

For each collection (a folder of music21's corpus) it gives the counts of ``irish-tune check
--bars`` (the same `tokenization.check.check_files`): tunes, read, round-trip failures, tunes
whose every full bar fits the meter; and the loader's (`load_abc_corpus`, no dedupe): tunes kept,
tunes skipped by reason. The tunes whose bars do not fit are sorted by kind:

- *bar line missing at a line end*: the tune fits once a bar line is put at some of its line
  ends (tried one line end at a time, kept where it lowers the number of wrong bars). The Essen
  collection ends each phrase with a line break and often leaves out the bar line there, which
  ABC does not read as one;
- *no bar lines*: the tune has none (its whole body is one bar);
- otherwise the kinds of ``bar_check_books.py`` (header meter, missing bar line, one eighth or
  less, tuplet across a bar line, other).

``--abc2midi`` also runs ``abc2midi FILE -NFER`` (fermatas not lengthened) on every file and
counts the failing tunes that abc2midi warns about too (a "Bar N has X time units" warning in
the tune's lines): a second reader that finds the same wrong bars in the text. abc2midi checks
only at bar lines, so a tune with none never warns.
"""

from __future__ import annotations

import argparse
import bisect
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from _paths import REPOSITORY  # noqa: F401  (the repository on sys.path first)
from bar_check_books import classify

from modeling_irish.abc_corpus import load_abc_corpus
from modeling_irish.cli import non_negative_int
from tokenization.abc_header import split_tunebook
from tokenization.abc_parser import AbcParseError, AbcTune, parse_abc, parse_tunebook
from tokenization.bar_check import bar_report, bars_of
from tokenization.check import check_files, read_abc_file

COLLECTIONS = ("essenFolksong", "airdsAirs", "miscFolk", "nottingham-dataset")
_BAR_LINE_END = re.compile(r"[|\]:]\s*(%.*)?$")
_ABC2MIDI_BAR = re.compile(r"in line-char (\d+)-\d+ : Track \d+ Bar \d+ has .* time units")


def corpus_folder(name: str) -> Path:
    """The folder of one of music21's corpus collections."""
    from music21 import common

    folder = Path(common.getCorpusFilePath()) / name
    if not folder.is_dir():
        raise SystemExit(f"{name}: no such collection in music21's corpus ({folder})")
    return folder


def _bad_bars(text: str) -> int | None:
    """How many bars of one tune's text do not fit its meter (None: it does not parse)."""
    try:
        return len(bar_report(parse_abc(text)).bad_bars)
    except AbcParseError:
        return None


def fits_with_line_end_bars(text: str) -> bool:
    """Whether one tune's bars all fit once a bar line is put at some of the line ends of its
    body that have none, each kept only where it lowers the number of wrong bars."""
    lines = text.split("\n")
    body = next((i + 1 for i, line in enumerate(lines) if line.startswith("K:")), len(lines))
    bad = _bad_bars(text)
    for i in range(body, len(lines)):
        line = lines[i].rstrip()
        if not line or line[1:2] == ":" or _BAR_LINE_END.search(line):
            continue
        tried = lines[:i] + [line + " |"] + lines[i + 1 :]
        now = _bad_bars("\n".join(tried))
        if bad is not None and now is not None and now < bad:
            lines, bad = tried, now
    return bad == 0


def kind_of(tune: AbcTune, text: str) -> str:
    """Why one tune's bars do not fit: see the module's docstring."""
    if len(bars_of(tune)) == 1:
        return "no bar lines"
    if fits_with_line_end_bars(text):
        return "bar line missing at a line end"
    return classify(tune, bar_report(tune).bad_bars)


#: abc2midi's limit on one whole collection file (seconds; a few on the largest here)
ABC2MIDI_FILE_TIMEOUT_S = 600


def abc2midi_bar_lines(path: Path, timeout: float = ABC2MIDI_FILE_TIMEOUT_S) -> list[int]:
    """The lines of a file at which abc2midi warns that a bar does not fit its meter; a
    `SystemExit` naming the file when abc2midi has not finished in ``timeout`` seconds."""
    with tempfile.TemporaryDirectory() as folder:  # abc2midi writes one .mid a tune there
        try:
            out = subprocess.run(
                ["abc2midi", str(path), "-NFER"],
                cwd=folder,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout,
                check=False,
            ).stdout
        except subprocess.TimeoutExpired:
            raise SystemExit(f"abc2midi did not finish on {path} in {timeout:g} s") from None
    return sorted(int(m.group(1)) for m in _ABC2MIDI_BAR.finditer(out))


def survey(name: str, abc2midi: bool) -> tuple[dict, Counter, list[str]]:
    """The counts of one collection, the kinds of its failing tunes and an example of each."""
    folder = corpus_folder(name)
    checked = check_files([folder], bars=True)
    loader: dict = {}
    load_abc_corpus(str(folder), dedupe=False, num_proc=1, report=loader)
    counts = {
        "tunes": checked.tunes,
        "read": checked.parsed,
        "round-trip failures": checked.parsed - checked.round_trip_ok,
        "bar-checked": checked.bars.checked,
        "free meter": checked.bars.free_meter,
        "bars fit": checked.bars.fit,
        "loader kept": loader["parsed"],
        "loader skips": dict(loader["skip_reasons"]),
        "abc2midi agrees": 0,
    }
    kinds: Counter = Counter()
    examples: list[str] = []
    for path in sorted(folder.glob("*.abc")):
        text = read_abc_file(path)
        warned = abc2midi_bar_lines(path) if abc2midi else []
        for tune, (start, chunk) in zip(
            parse_tunebook(text), split_tunebook(text, standalone=True)
        ):
            if not isinstance(tune, AbcTune) or bar_report(tune).ok:
                continue
            kind = kind_of(tune, chunk)
            if kinds[kind] == 0:
                examples.append(f"{kind}: {path.name} X:{tune.fields['X'][0]} {tune.title}")
            kinds[kind] += 1
            first = bisect.bisect_left(warned, start + 1)  # the tune's lines, 1-based
            counts["abc2midi agrees"] += first < len(warned) and warned[first] <= start + len(
                chunk.split("\n")
            )
    return counts, kinds, examples


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("collections", nargs="*", default=list(COLLECTIONS), help="folders")
    parser.add_argument("--abc2midi", action="store_true", help="cross-check with abc2midi")
    parser.add_argument("--examples", type=non_negative_int, default=1, help="tunes per kind")
    args = parser.parse_args(argv)
    if args.abc2midi and shutil.which("abc2midi") is None:
        parser.error("--abc2midi: abc2midi is not installed (apt-get install abcmidi)")
    results = {}
    for name in args.collections:
        counts, kinds, examples = survey(name, args.abc2midi)
        results[name] = {**counts, "kinds": dict(kinds)}
        print(f"{name}: {counts}")
        print(f"  failing tunes by kind: {dict(kinds.most_common())}")
        for line in examples[: args.examples * len(kinds)]:
            print(f"  - {line}")
    return results


if __name__ == "__main__":
    main()
