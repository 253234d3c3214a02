"""Read, tokenize and round-trip every tune of ABC files; the engine of `irish-tune check`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from .abc_parser import AbcParseError, AbcTune, parse_tunebook
from .abc_writer import write_abc
from .features import HeaderInfo, TuneRows, tune_to_rows
from .keys import normalise_tune, transpose_shift, transpose_tokens

__all__ = ["CheckReport", "check_files", "check_text", "round_trip_rows"]


@dataclass
class CheckReport:
    """Counts of a check run; ``failures`` holds ``{"tune": name, "error": reason}`` items."""

    tunes: int = 0
    parsed: int = 0
    round_trip_ok: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON form printed by ``irish-tune check --json``."""
        return {
            "tunes": self.tunes,
            "parsed": self.parsed,
            "round_trip_ok": self.round_trip_ok,
            "failures": list(self.failures),
        }


def _rows(tune: AbcTune) -> TuneRows:
    return tune_to_rows(tune.tokens, HeaderInfo.from_tune(tune))


def round_trip_rows(tune: AbcTune) -> tuple[TuneRows, TuneRows, str]:
    """Rows of a tune, and the rows of its ABC re-written in its *original* key and read again.

    Returns ``(rows, rows_again, written_abc)``; they are equal when the round trip holds.
    """
    normal = normalise_tune(tune)
    shift = -transpose_shift(tune.key, normal.key)  # the inverse of the normalisation
    text = write_abc(
        transpose_tokens(normal.tokens, shift),
        key=tune.key,
        meter=tune.meter,
        title=tune.title,
        rhythm=(tune.fields.get("R") or [None])[0],
    )
    again = normalise_tune(parse_abc_strict(text))
    return _rows(normal), _rows(again), text


def parse_abc_strict(text: str) -> AbcTune:
    """Parse text we wrote ourselves (corpus-format detection off)."""
    from .abc_parser import parse_abc

    return parse_abc(text, corpus_format="standard")


def _tune_name(source: str, tune: AbcTune | AbcParseError) -> str:
    if isinstance(tune, AbcParseError):
        return f"{source}: {tune.tune}" if getattr(tune, "tune", None) else source
    x = tune.fields.get("X", ["?"])[0]
    return f"{source}: X:{x} {tune.title}".rstrip()


def _first_difference(a: TuneRows, b: TuneRows) -> str:
    rows_a, rows_b = a.rows(), b.rows()
    for i, (ra, rb) in enumerate(zip(rows_a, rows_b)):
        if ra != rb:
            return f"row {i} differs after the round trip: {ra[:9]} != {rb[:9]}"
    return f"{len(rows_a)} rows became {len(rows_b)} after the round trip"


def check_text(text: str, source: str = "<text>", report: CheckReport | None = None) -> CheckReport:
    """Check every tune of one tunebook text, adding to ``report``."""
    report = report or CheckReport()
    for tune in parse_tunebook(text):
        report.tunes += 1
        name = _tune_name(source, tune)
        if isinstance(tune, AbcParseError):
            report.failures.append({"tune": name, "error": f"parse: {tune}"})
            continue
        report.parsed += 1
        try:
            rows, again, _ = round_trip_rows(tune)
        except (AbcParseError, ValueError) as err:
            report.failures.append({"tune": name, "error": f"round trip: {err}"})
            continue
        if rows.rows() == again.rows() and rows.measure_numbers == again.measure_numbers:
            report.round_trip_ok += 1
        else:
            report.failures.append({"tune": name, "error": _first_difference(rows, again)})
    return report


def check_files(paths: Iterable[str | os.PathLike]) -> CheckReport:
    """Check every tune of ABC files (folders are searched for ``*.abc``)."""
    report = CheckReport()
    for path in _expand(paths):
        with open(path, encoding="utf-8", errors="replace") as handle:
            check_text(handle.read(), str(path), report)
    return report


def _expand(paths: Iterable[str | os.PathLike]) -> list[str]:
    files = []
    for path in map(str, paths):
        if os.path.isdir(path):
            for root, _, names in sorted(os.walk(path)):
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".abc")]
        elif os.path.exists(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file: {path}")
    return files
