"""The user docs' figures of what the reader makes of thesession's corpus now (tunes read,
refused) agree with the latest figure of docs/BENCHMARKS.md's "targets at a glance", the one
place a re-measurement updates: a reader change that reads more tunes shows here until every
page follows. Dated measurements (a benchmark run on the corpus of its day) are left alone."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = DOCS.parent / "README.md"


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _target() -> tuple[int, int]:
    """(tunes parsed and round-tripped, tunes) of the targets table's issue 2 row."""
    text = (DOCS / "BENCHMARKS.md").read_text(encoding="utf-8")
    row = re.search(
        r"\| 2 \| >= 99\.5% of the shared corpus[^|]*\| [\d.]+% \(([\d,]+) of ([\d,]+)\)", text
    )
    assert row, "docs/BENCHMARKS.md's targets table has no corpus round-trip figure"
    return _number(row[1]), _number(row[2])


def test_the_user_docs_count_the_corpus_as_the_targets_table_does():
    parsed, tunes = _target()
    readme = README.read_text(encoding="utf-8")
    abc = (DOCS / "abc.md").read_text(encoding="utf-8")
    refused = re.search(r"\(thesession: (\d+) tunes refused", readme)
    check = re.search(r'"tunes": (\d+), "parsed": (\d+), "round_trip_ok": (\d+)', abc)
    report = re.search(r'"read": (\d+), "parsed": (\d+), "skipped": (\d+)', abc)
    recoveries = re.search(r"Of thesession's ([\d,]+) tunes, (\d+) such are refused", abc)
    assert refused and check and report and recoveries, "a corpus figure's sentence was reworded"
    assert _number(refused[1]) == tunes - parsed, "README.md's check comment"
    assert tuple(map(int, check.groups())) == (tunes, parsed, parsed), "abc.md's check --json"
    assert tuple(map(int, report.groups())) == (tunes, parsed, tunes - parsed), "abc.md's report"
    assert (_number(recoveries[1]), int(recoveries[2])) == (tunes, tunes - parsed), "abc.md"


def test_the_bars_fit_figure_counts_the_tunes_read_and_agrees_with_the_loaders_docstring():
    """`require_bars_fit`'s share of thesession: abc.md and `load_abc_corpus`'s docstring give
    the same count, of the tunes the reader reads now, and the share they round it to."""
    parsed, _ = _target()
    abc = (DOCS / "abc.md").read_text(encoding="utf-8")
    loader = (DOCS.parent / "modeling_irish" / "abc_corpus.py").read_text(encoding="utf-8")
    in_abc = re.search(r"([\d,]+) of thesession's ([\d,]+) tunes, ([\d.]+)%", abc)
    in_loader = re.search(
        r"on thesession it drops ([\d,]+) of ([\d,]+) tunes \(([\d.]+)%\)", loader
    )
    assert in_abc and in_loader, "a require_bars_fit figure's sentence was reworded"
    assert in_abc.groups() == in_loader.groups()
    dropped, tunes, share = _number(in_abc[1]), _number(in_abc[2]), float(in_abc[3])
    assert tunes == parsed
    assert round(100 * dropped / tunes, 1) == share
