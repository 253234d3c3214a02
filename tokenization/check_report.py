"""The counts and failures of `irish-tune check` (`tokenization.check`): what a run reports,
and what a file that is not a tunebook gives it to check."""

from __future__ import annotations

from dataclasses import dataclass, field

from .abc_tune import AbcTune
from .bar_check import NO_BAR_LINES, BarReport, bar_report

__all__ = ["BarCounts", "CheckReport", "PlacedTune", "UnreadableTune"]


@dataclass
class BarCounts:
    """The bar check of a run (``irish-tune check --bars``): of the parsed tunes, how many were
    ``checked`` (those in ``free_meter`` and those with ``no_bar_lines`` between their notes are
    not), how many ``fit`` (every full bar sums to its
    meter, by the rule of `tokenization.bar_check`), and the ``problems`` of the others as
    ``{"tune": name, "problems": ["bar 5: 7 of 8 eighths in 4/4 (short)", ...]}``."""

    checked: int = 0
    fit: int = 0
    free_meter: int = 0
    no_bar_lines: int = 0
    problems: list[dict] = field(default_factory=list)

    def add(self, name: str, tune: AbcTune) -> None:
        """Check one parsed tune."""
        self.add_report(name, bar_report(tune))

    def add_report(self, name: str, report: BarReport) -> None:
        """Count the bar check of one parsed tune (`bar_report`), named ``name``."""
        if report.skipped == NO_BAR_LINES:
            self.no_bar_lines += 1
            return
        if report.skipped:
            self.free_meter += 1
            return
        self.checked += 1
        if report.ok:
            self.fit += 1
        else:
            self.problems.append({"tune": name, "problems": list(report.problems)})

    def to_dict(self) -> dict:
        """The ``"bars"`` entry of ``irish-tune check --bars --json``."""
        return {
            "checked": self.checked,
            "fit": self.fit,
            "free_meter": self.free_meter,
            "no_bar_lines": self.no_bar_lines,
            "problems": list(self.problems),
        }


@dataclass
class CheckReport:
    """Counts of a check run; ``failures`` holds ``{"tune": name, "error": reason}`` items, and
    ``bars`` the bar check when it was asked for (``None`` otherwise). ``files_without_tunes``
    counts the failures that are a whole file's, not a tune's (an empty, binary or prose file,
    a dump without rows): every failure is one of the ``tunes - round_trip_ok`` tunes that
    failed, or one of those files."""

    tunes: int = 0
    parsed: int = 0
    round_trip_ok: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    bars: BarCounts | None = None
    files_without_tunes: int = 0

    def add_file_failure(self, name: str, error: str) -> None:
        """A failure of a whole file that gives no tune (``name``: the file, as shown)."""
        self.files_without_tunes += 1
        self.failures.append({"tune": name, "error": error})

    def summary(self) -> str:
        """The first line of ``irish-tune check``'s report: the counts (files without a tune
        only when there are some).

        >>> CheckReport(tunes=3, parsed=2, round_trip_ok=2, files_without_tunes=1).summary()
        'tunes: 3  parsed: 2  round-trip ok: 2  files without a tune: 1'
        """
        line = f"tunes: {self.tunes}  parsed: {self.parsed}  round-trip ok: {self.round_trip_ok}"
        if self.files_without_tunes:
            line += f"  files without a tune: {self.files_without_tunes}"
        return line

    def to_dict(self) -> dict:
        """The JSON form printed by ``irish-tune check --json`` (``"bars"`` only with
        ``--bars``)."""
        out = {
            "tunes": self.tunes,
            "parsed": self.parsed,
            "round_trip_ok": self.round_trip_ok,
            "files_without_tunes": self.files_without_tunes,
            "failures": list(self.failures),
        }
        if self.bars is not None:
            out["bars"] = self.bars.to_dict()
        return out


@dataclass(frozen=True)
class PlacedTune:
    """The ABC text of one tune of a file that is not a tunebook (a thesession.org dump row),
    and ``where`` in the file (``row 3``): `check_files` names its failures ``<file> <where>``,
    and their lines count in ``text``."""

    where: str
    text: str


@dataclass(frozen=True)
class UnreadableTune:
    """A tune a file holds a place for but gives no text of (a thesession.org dump row without
    ABC): ``where`` in the file (``row 3``) and why. `check_files` counts it as a tune, and a
    failure named ``<file> <where>``."""

    where: str
    error: str
