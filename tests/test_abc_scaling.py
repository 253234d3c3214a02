"""The reader's work grows linearly with the tune: counted in reads of the change lists, not
timed (the timings are in docs/BENCHMARKS.md, Tokenization)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import tokenization.abc_header as abc_header
from tokenization.abc_parser import parse_abc
from tokenization.abc_tune import in_force_at


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
