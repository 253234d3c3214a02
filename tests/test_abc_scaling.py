"""The reader's work grows linearly with the tune: counted in reads of the change lists, not
timed (the timings are in docs/BENCHMARKS.md, Tokenization)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import tokenization.abc_header as abc_header
from tokenization.abc_parser import parse_abc
from tokenization.abc_tune import in_force_at
from tokenization.bar_check import bars_of


class CountedChanges(Sequence):
    """A change list that counts how many of its changes are read."""

    def __init__(self, changes: Sequence[tuple[int, Any]]) -> None:
        self.changes, self.reads = changes, 0

    def __len__(self) -> int:
        return len(self.changes)

    def __getitem__(self, index: Any) -> Any:
        self.reads += 1
        return self.changes[index]


def test_in_force_at_reads_few_changes_of_many() -> None:
    changes = CountedChanges([(at, f"{at}/8") for at in range(0, 8192, 2)])
    assert in_force_at(changes, 8190, "4/4") == "8190/8"
    assert in_force_at(changes, 8191, "4/4") == "8190/8"
    assert in_force_at(changes, 5, "4/4") == "4/8"
    assert in_force_at(changes, -1, "4/4") == "4/4"
    # a binary search: about log2(4096) = 12 reads a look-up, not one a change before it
    assert changes.reads <= 4 * 16


def test_unit_changes_read_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """A body of many ``[L:]`` fields: each looks up the unit in force once, reading a few
    of the changes before it, not all of them (that made a 16,000-field tune take seconds)."""
    counted: list[CountedChanges] = []

    def counting(changes: Sequence[tuple[int, Any]], index: int, header: Any) -> Any:
        counted.append(CountedChanges(changes))
        return in_force_at(counted[-1], index, header)

    monkeypatch.setattr(abc_header, "in_force_at", counting)
    fields = 2000
    body = "".join("[L:1/16]A|" if i % 2 else "[L:1/8]A|" for i in range(fields))
    tune = parse_abc(f"X:1\nL:1/8\nK:G\n{body}\n")
    assert len(tune.unit_changes) == fields - 1  # the first [L:1/8] changes nothing
    assert len(counted) == fields
    assert sum(c.reads for c in counted) <= fields * 16


def test_bar_check_reads_few_meter_and_part_changes_a_bar() -> None:
    """`bars_of` asks each bar for the meter and part changes at it by binary search, not by
    scanning them all (a 16,000-bar tune of ``[M:]`` fields took most of a minute)."""
    count = 2000
    body = "".join("[M:3/4]A6|" if i % 2 else "P:B\n[M:2/4]A4|" for i in range(count))
    tune = parse_abc(f"X:1\nM:4/4\nL:1/8\nP:AB\nK:G\n{body}\n")
    meters, parts = CountedChanges(tune.meter_changes), CountedChanges(tune.part_changes)
    tune.meter_changes, tune.part_changes = meters, parts  # type: ignore[assignment]
    bars = bars_of(tune)
    assert len(bars) == count
    assert [b.meter for b in bars[:3]] == ["2/4", "3/4", "2/4"]
    assert "part" in bars[0].flags and "meter" in bars[1].flags
    # five binary searches a bar, about log2(count) reads each; a scan reads every change
    assert meters.reads + parts.reads <= count * 10 * count.bit_length()
