"""A ``Q:`` field's tempo: quarter notes a minute under the unit note length it is read in
(`quarters_a_minute`, as `render.to_midi` plays it and check's round trip compares it), the
field with a beat in unit notes (``C=120``) spelled out as a length (`explicit_tempo`), which
reads the same under any unit, and what the reader says of a beat that is not ABC 2.1
(`tempo_form_warning`).

ABC 2.1 (3.1.8) writes a beat as up to four lengths (``1/4=120``, ``1/4 3/8=40``), with quoted
text or alone (``"Allegro"``), and deprecates ``C=120``, ``C2=120`` (unit notes) and a bare
``120``. Other beats are read as abc2midi (4.84) reads them, the player that docs/BENCHMARKS.md
compares the MIDI against, so that the tempo played is the one it plays, with a warning that
the form is not ABC 2.1: a beat with no length (``=120``, ``"Allegro"=120``) is a whole note,
a whole number ``n`` (``2=120``) ``n`` whole notes, whatever the unit; any other beat
(``x=120``, ``1/4 x=120``) is not read, no tempo (abc2midi: "malformed Q: field ignored").
A beat of several lengths is read as ABC 2.1 reads it, their sum (``1/4 3/8=40``: 5/8, 100
quarter notes a minute), without a warning, though abc2midi 4.84 rejects it ("Expecting = in
tempo") and plays on at the tempo before it.
"""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["explicit_tempo", "quarters_a_minute", "tempo_form_warning", "unit_beat"]

_TEMPO_BEAT = re.compile(r"(\d+)\s*/\s*(\d+)")
#: the beat of ABC 2.1: one or more lengths (``1/4 3/8``)
_BEAT_LENGTHS = re.compile(r"\s*(?:\d+\s*/\s*\d+\s*)+")
#: the beat of an ABC 1.6 ``Q:C2=120``: ``C`` and a length in unit notes (``C``: one)
_TEMPO_UNITS = re.compile(r"\s*C(\d*)(?:/(\d+))?\s*")
#: a beat that is not ABC 2.1 and abc2midi reads in whole notes: none (``=120``: one) or ``2``
_WHOLE_NOTES = re.compile(r"\s*(\d*)\s*")
_QUOTED = re.compile(r'("[^"]*")')


def _lengths(beats: str) -> list[Fraction]:
    """The note lengths a ``Q:`` field's beat text (before its ``=``, quotes taken out) names
    (``1/4 3/8``), but any of denominator 0.

    >>> _lengths("1/4 3/8"), _lengths("1/0"), _lengths("C2")
    ([Fraction(1, 4), Fraction(3, 8)], [], [])
    """
    return [Fraction(int(a), int(b)) for a, b in _TEMPO_BEAT.findall(beats) if int(b)]


def _beat_text(field: str) -> str | None:
    """The beat text of a ``Q:`` field, before its ``=``, quoted text taken out; None for a
    field without ``=`` (``120``, ``"Allegro"``)."""
    text = _QUOTED.sub(" ", field)
    return text.rpartition("=")[0] if "=" in text else None


def _whole_notes(field: str) -> int | None:
    """The beat of a ``Q:`` field in whole notes where it is one abc2midi reads so and ABC 2.1
    has not (the module's docstring): ``=120`` and ``"Allegro"=120``: 1, ``2=120``: 2; else
    None.

    >>> _whole_notes("=120"), _whole_notes('"Allegro" 2=120'), _whole_notes("C=120")
    (1, 2, None)
    """
    beats = _beat_text(field)
    whole = None if beats is None else _WHOLE_NOTES.fullmatch(beats)
    return None if whole is None else int(whole[1] or 1)


def unit_beat(field: str) -> Fraction | None:
    """The beat of a ``Q:`` field in unit notes where the reader reads it in unit notes
    (`quarters_a_minute`): ``C=120``: 1, ``C2=120``: 2, ``"Allegro" C3/2=80``: 3/2; None for
    a beat given as a length (``1/4=120``), in whole notes (``=120``, `_whole_notes`), not
    read (``x=120``) or a field without one (``120``).

    >>> unit_beat("C=120"), unit_beat('"Allegro" C3/2=80'), unit_beat("1/4=120"), unit_beat("120")
    (Fraction(1, 1), Fraction(3, 2), None, None)
    >>> unit_beat("=120"), unit_beat('"Allegro"=120'), unit_beat("x=120")
    (None, None, None)
    """
    beats = _beat_text(field)
    units = None if beats is None else _TEMPO_UNITS.fullmatch(beats)
    return None if units is None else Fraction(int(units[1] or 1), int(units[2] or 1))


def _beat(field: str, unit: Fraction) -> Fraction | None:
    """The beat of a ``Q:`` field as a length where ``unit`` is the unit note length: a bare
    ``120``'s a quarter note, ``C2``'s two unit notes, ``2``'s two whole notes (as abc2midi),
    ``1/4 3/8``'s their sum; None for one not read (``x``, the module's docstring)."""
    beats = _beat_text(field)
    if beats is None:
        return Fraction(1, 4)
    units, whole = unit_beat(field), _whole_notes(field)
    if units is not None:
        return unit * units
    if whole is not None:
        return Fraction(whole)
    return sum(_lengths(beats), Fraction(0)) if _BEAT_LENGTHS.fullmatch(beats) else None


def quarters_a_minute(field: str, unit: Fraction) -> float | None:
    """Quarter notes a minute of a ``Q:`` field read where ``unit`` is the unit note length:
    ``1/4=120``, ``3/8=60`` (90), ``"Allegro" 1/4=120``, ``C=120``, ``C2=120`` (two unit notes,
    as abc2midi reads it) or a bare ``120`` (quarter notes a minute whatever the unit, as
    abc2midi plays it), and the beats that are not ABC 2.1 as abc2midi reads them (``=120``: a
    whole note, 480; ``2=120``: two, 960); None when it gives no usable tempo (``"Allegro"``
    alone, ``x=120``).

    >>> quarters_a_minute("C2=120", Fraction(1, 8)), quarters_a_minute("3/8=60", Fraction(1))
    (120.0, 90.0)
    >>> quarters_a_minute("120", Fraction(1, 8)), quarters_a_minute("120", Fraction(1, 16))
    (120.0, 120.0)
    >>> quarters_a_minute("=120", Fraction(1, 8)), quarters_a_minute("2=120", Fraction(1, 16))
    (480.0, 960.0)
    >>> quarters_a_minute('"Slower"', Fraction(1, 8)), quarters_a_minute("x=120", Fraction(1, 8))
    (None, None)
    """
    text = _QUOTED.sub(" ", field)
    number = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*", text.rpartition("=")[2])
    beat = _beat(field, unit)
    if number is None or beat is None:
        return None
    quarters = float(number[1]) * float(beat) * 4
    return quarters if 0 < quarters < 10_000 else None


def tempo_form_warning(field: str, where: str) -> str | None:
    """What the reader says of a ``Q:`` field (its text after ``Q:``, as written) whose beat
    is not ABC 2.1, at ``where`` (``line 3, column 5``), the module's docstring: read as
    abc2midi reads it, or not read; None for one that is ABC 2.1 or deprecated by it.

    >>> tempo_form_warning("2=120", "line 3")
    'Q:2=120 (line 3) is not ABC 2.1: read as abc2midi reads it, a beat of 2 whole notes (2/1=120)'
    >>> tempo_form_warning("x=120", "line 3")
    "Q:x=120 (line 3) is not ABC 2.1: its beat 'x' is not read, nor its tempo"
    >>> tempo_form_warning("1/4=120", "line 3"), tempo_form_warning("C2=120", "line 3")
    (None, None)
    """
    beats = _beat_text(field)
    if beats is None or unit_beat(field) is not None or _BEAT_LENGTHS.fullmatch(beats):
        return None
    head = f"Q:{field.strip()} ({where}) is not ABC 2.1"
    whole = _whole_notes(field)
    if whole is None:
        return f"{head}: its beat {beats.strip()!r} is not read, nor its tempo"
    notes = "a whole note" if whole == 1 else f"{whole} whole notes"
    rate = _QUOTED.sub(" ", field).rpartition("=")[2].strip()
    return f"{head}: read as abc2midi reads it, a beat of {notes} ({whole}/1={rate})"


def explicit_tempo(field: str, unit: Fraction) -> str:
    """``field`` read where ``unit`` is the unit note length, with a beat in unit notes
    (`unit_beat`: ``C2``) written as the length it is there (``C=120`` under ``L:1/16``:
    ``1/16=120``; the beat's text outside quotes is the beat it replaces, its quoted text
    kept), so that it reads the same tempo under any other ``L:``; else (a beat that reads the
    same under any unit: ``1/4``, or ``=120``, a whole note), or where it gives no tempo to
    read (``C=fast``, compared as text), as it is.

    >>> explicit_tempo("C=120", Fraction(1, 16)), explicit_tempo('"Slow" C3=40', Fraction(1, 8))
    ('1/16=120', '"Slow" 3/8=40')
    >>> explicit_tempo('"Allegro"=120', Fraction(1, 16)), explicit_tempo("C=fast", Fraction(1, 16))
    ('"Allegro"=120', 'C=fast')
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
