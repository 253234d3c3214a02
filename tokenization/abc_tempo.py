"""A ``Q:`` field's tempo: quarter notes a minute under the unit note length it is read in
(`quarters_a_minute`, as `render.to_midi` plays it and check's round trip compares it), and the
field with a beat in unit notes (``C=120``) spelled out as a length (`explicit_tempo`), which
reads the same under any unit."""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["explicit_tempo", "quarters_a_minute", "unit_beat"]

_TEMPO_BEAT = re.compile(r"(\d+)\s*/\s*(\d+)")
#: the beat of an ABC 1.6 ``Q:C2=120``: ``C`` and a length in unit notes (``C``: one)
_TEMPO_UNITS = re.compile(r"\s*C(\d*)(?:/(\d+))?\s*")
_QUOTED = re.compile(r'("[^"]*")')


def unit_beat(field: str) -> Fraction | None:
    """The beat of a ``Q:`` field given in unit notes (``C=120``: 1, ``C2=120``: 2,
    ``"Allegro" C3/2=80``: 3/2), in unit notes; None for a beat given as a length (``1/4=120``)
    or a field without one.

    >>> unit_beat("C=120"), unit_beat('"Allegro" C3/2=80'), unit_beat("1/4=120"), unit_beat("120")
    (Fraction(1, 1), Fraction(3, 2), None, None)
    """
    text = _QUOTED.sub(" ", field)
    if "=" not in text:
        return None
    units = _TEMPO_UNITS.fullmatch(text.rpartition("=")[0])
    return None if units is None else Fraction(int(units[1] or 1), int(units[2] or 1))


def quarters_a_minute(field: str, unit: Fraction) -> float | None:
    """Quarter notes a minute of a ``Q:`` field read where ``unit`` is the unit note length:
    ``1/4=120``, ``3/8=60`` (90), ``"Allegro" 1/4=120``, ``C=120``, ``C2=120`` (two unit notes,
    as abc2midi reads it) or a bare ``120`` (quarter notes a minute whatever the unit, as
    abc2midi plays it); None when it gives no usable tempo (``"Allegro"`` alone).

    >>> quarters_a_minute("C2=120", Fraction(1, 8)), quarters_a_minute("3/8=60", Fraction(1))
    (120.0, 90.0)
    >>> quarters_a_minute("120", Fraction(1, 8)), quarters_a_minute("120", Fraction(1, 16))
    (120.0, 120.0)
    >>> quarters_a_minute('"Slower"', Fraction(1, 8)) is None
    True
    """
    text = _QUOTED.sub(" ", field)
    beats, _, rate = text.rpartition("=") if "=" in text else ("1/4", "", text)
    number = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*", rate)
    if number is None:
        return None
    units = unit_beat(field)
    if units is not None:
        beat = unit * units
    else:
        lengths = [Fraction(int(a), int(b)) for a, b in _TEMPO_BEAT.findall(beats) if int(b)]
        beat = sum(lengths) if lengths else unit
    quarters = float(number[1]) * float(beat) * 4
    return quarters if 0 < quarters < 10_000 else None


def explicit_tempo(field: str, unit: Fraction) -> str:
    """``field`` read where ``unit`` is the unit note length, with a beat in unit notes
    (`unit_beat`) written as the length it is there (``C=120`` under ``L:1/16``:
    ``1/16=120``), so that it reads the same tempo under any other ``L:``; else as it is.

    >>> explicit_tempo("C=120", Fraction(1, 16)), explicit_tempo('"Slow" C3=40', Fraction(1, 8))
    ('1/16=120', '"Slow" 3/8=40')
    >>> explicit_tempo("1/4=120", Fraction(1, 16))
    '1/4=120'
    """
    units = unit_beat(field)
    if units is None:
        return field
    beat = units * unit
    pieces = _QUOTED.split(field)  # the text outside quotes at even places
    for n in range(0, len(pieces), 2):
        pieces[n], found = re.subn(
            r"C\d*(?:/\d+)?", f"{beat.numerator}/{beat.denominator}", pieces[n], count=1
        )
        if found:
            break
    return "".join(pieces)
