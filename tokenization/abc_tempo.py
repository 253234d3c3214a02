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


def _lengths(beats: str) -> list[Fraction]:
    """The note lengths a ``Q:`` field's beat text (before its ``=``, quotes taken out) names
    (``1/4 3/8``), but any of denominator 0.

    >>> _lengths("1/4 3/8"), _lengths("1/0"), _lengths("C2")
    ([Fraction(1, 4), Fraction(3, 8)], [], [])
    """
    return [Fraction(int(a), int(b)) for a, b in _TEMPO_BEAT.findall(beats) if int(b)]


def unit_beat(field: str) -> Fraction | None:
    """The beat of a ``Q:`` field in unit notes where the reader reads it in unit notes
    (`quarters_a_minute`): ``C=120``: 1, ``C2=120``: 2, ``"Allegro" C3/2=80``: 3/2, and a
    beat with no length (``=120``, ``"Allegro"=120``, ``x=120``): 1; None for a beat given as
    a length (``1/4=120``) or a field without one (``120``).

    >>> unit_beat("C=120"), unit_beat('"Allegro" C3/2=80'), unit_beat("1/4=120"), unit_beat("120")
    (Fraction(1, 1), Fraction(3, 2), None, None)
    >>> unit_beat("=120"), unit_beat('"Allegro"=120'), unit_beat("x=120")
    (Fraction(1, 1), Fraction(1, 1), Fraction(1, 1))
    """
    text = _QUOTED.sub(" ", field)
    if "=" not in text:
        return None
    beats = text.rpartition("=")[0]
    units = _TEMPO_UNITS.fullmatch(beats)
    if units is not None:
        return Fraction(int(units[1] or 1), int(units[2] or 1))
    return None if _lengths(beats) else Fraction(1)


def quarters_a_minute(field: str, unit: Fraction) -> float | None:
    """Quarter notes a minute of a ``Q:`` field read where ``unit`` is the unit note length:
    ``1/4=120``, ``3/8=60`` (90), ``"Allegro" 1/4=120``, ``C=120``, ``C2=120`` (two unit notes,
    as abc2midi reads it; a beat with no length, ``=120``, one, `unit_beat`) or a bare ``120``
    (quarter notes a minute whatever the unit, as abc2midi plays it); None when it gives no
    usable tempo (``"Allegro"`` alone).

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
    beat = unit * units if units is not None else sum(_lengths(beats))
    quarters = float(number[1]) * float(beat) * 4
    return quarters if 0 < quarters < 10_000 else None


def explicit_tempo(field: str, unit: Fraction) -> str:
    """``field`` read where ``unit`` is the unit note length, with a beat in unit notes
    (`unit_beat`: ``C2``, or one with no length, ``=120``) written as the length it is there
    (``C=120`` under ``L:1/16``: ``1/16=120``; the beat's text outside quotes is the beat it
    replaces, its quoted text kept), so that it reads the same tempo under any other ``L:``;
    else, or where it gives no tempo to read (``C=fast``, compared as text), as it is.

    >>> explicit_tempo("C=120", Fraction(1, 16)), explicit_tempo('"Slow" C3=40', Fraction(1, 8))
    ('1/16=120', '"Slow" 3/8=40')
    >>> explicit_tempo('"Allegro"=120', Fraction(1, 16)), explicit_tempo("C=fast", Fraction(1, 16))
    ('"Allegro" 1/16=120', 'C=fast')
    >>> explicit_tempo("1/4=120", Fraction(1, 16))
    '1/4=120'
    """
    units = unit_beat(field)
    if units is None or quarters_a_minute(field, unit) is None:
        return field
    beat = units * unit
    pieces = _QUOTED.split(field)  # the text outside quotes at even places, quoted at odd
    last = max(n for n in range(0, len(pieces), 2) if "=" in pieces[n])
    rate = pieces[last].rpartition("=")[2]
    quoted = [piece + " " for piece in pieces[1:last:2]]
    return "".join([*quoted, f"{beat.numerator}/{beat.denominator}=", rate, *pieces[last + 1 :]])
