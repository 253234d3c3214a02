"""Checks of single values that need nothing heavy, so that the command lines make them as they
read their arguments, before torch is imported (importing any module of `modeling_irish`
imports torch and transformers: seconds): the meter, ``L:`` unit length and seed of a tune to
generate (`irish_tune.generation_cli_args`; `TuneGenerator.generate` makes them again, from
`modeling_irish.generation_args`, which re-exports them), and whether a path can become a folder
(`link_problem`: ``training/train.py``'s --output_dir and --cache_dir; re-exported by
`modeling_irish.file_utils`)."""

from __future__ import annotations

import errno
import operator
import os
import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Optional

from tokenization.abc_tune import METER_RE, WRITTEN_METER_SYMBOLS, meter_as_written

__all__ = [
    "MAX_DENOMINATOR",
    "check_formats",
    "check_meter",
    "check_seed",
    "check_unit_length",
    "link_problem",
    "meter_as_asked",
]

#: Largest denominator of a meter or unit length: note values down to a 64th, which the
#: tokenizer's tick grid (`tokenization.measure.TICKS_PER_EIGHTH`) holds exactly.
MAX_DENOMINATOR = 64
_POWERS = "1, 2, 4, 8, 16, 32, 64"
_FRACTION = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def _note_value(denominator: int) -> bool:
    """``denominator`` is a power of two up to `MAX_DENOMINATOR` (a note value ABC can name)."""
    return 0 < denominator <= MAX_DENOMINATOR and denominator & (denominator - 1) == 0


def _meter_parts(compact: str) -> tuple[int, int]:
    """The numerator (an additive one summed) and denominator of a meter written without spaces,
    as `tokenization.abc_header.parse_meter` reads it (`METER_RE`); ``(0, 0)`` when it cannot
    read it (``(2+3/8``) or a part of the sum is zero (``0+5/8``)."""
    m = METER_RE.fullmatch(compact)
    parts = [] if m is None else [int(part) for part in m[2].split("+")]
    if m is None or 0 in parts:
        return 0, 0
    return sum(parts), int(m[3])


def _meter_fault(compact: str) -> str:
    """Why the reader refuses ``compact`` where it says (`parse_meter`): `` (unbalanced
    brackets)``, `` (a zero part)`` of an additive meter, `` (no beats)`` for ``0/8``, or
    ``""``."""
    if compact.count("(") != compact.count(")"):
        return " (unbalanced brackets)"
    m = METER_RE.fullmatch(compact)
    if m is None or 0 not in map(int, m[2].split("+")):
        return ""
    return " (a zero part)" if "+" in m[2] else " (no beats)"


def check_meter(meter: str) -> str:
    """``meter`` written ``N/D`` (``N`` a positive whole number, ``D`` a power of two up to 64),
    additive (``2+3/8``, ``(2+3+2)/8``: read as the sum, 5/8, 7/8), or ``C`` / ``C|`` (4/4, 2/2,
    as in an ``M:`` field), normalised to ``N/D``; a `ValueError` saying what is accepted
    otherwise. ABC readers refuse other denominators (abc2midi: "3 b is not a power of 2"), and
    a bar of 0 beats never fills.

    Whether a model can fill a bar of that length is a question for its tokenizer
    (`TuneGenerator.tables`).

    Spaces are dropped as the reader drops them in ``M:`` (`tokenization.abc_header.parse_meter`):
    ``C |`` is cut time, ``6 / 8`` is 6/8, ``2 + 3/8`` is 5/8.

    >>> check_meter("6/8"), check_meter(" 3 / 2 "), check_meter("C"), check_meter("C |")
    ('6/8', '3/2', '4/4', '2/2')
    >>> check_meter("2+3/8"), check_meter("(2+3+2)/8"), check_meter("3 + 2 + 3/8")
    ('5/8', '7/8', '8/8')
    >>> check_meter("3/3")
    Traceback (most recent call last):
    ...
    ValueError: '3/3' is not a meter: give N/D with N a positive whole number (or a sum, ...
    """
    compact = meter.replace(" ", "") if isinstance(meter, str) else ""  # as `parse_meter` reads
    compact = WRITTEN_METER_SYMBOLS.get(compact, compact)  # common and cut time: 4/4, 2/2
    numerator, denominator = _meter_parts(compact)
    if numerator < 1 or not _note_value(denominator):
        raise ValueError(
            f"{meter!r} is not a meter{_meter_fault(compact)}: give N/D with N a positive whole "
            f"number (or a sum, 2+3/8) and D one of {_POWERS} (e.g. 4/4, 6/8, 3/2)"
        )
    return f"{numerator}/{denominator}"


def meter_as_asked(asked: str, meter: str | None) -> str | None:
    """The ``M:`` value to write for ``meter`` (``N/D``, as `check_meter` read ``asked``):
    ``asked`` as the reader writes a tune back (`tokenization.abc_tune.meter_as_written`), so
    without its spaces when it is an additive meter that sums to ``meter`` (``2+3/8`` stays
    ``2+3/8``, not 5/8: it says how the beats are grouped, ABC 2.1 §3.1.6) or ``C|`` for 2/2.

    >>> meter_as_asked(" 2 + 3/8", "5/8"), meter_as_asked("(3+2+3)/8", "8/8")
    ('2+3/8', '(3+2+3)/8')
    >>> meter_as_asked("C|", "2/2"), meter_as_asked("5/8", "5/8"), meter_as_asked("2+3/8", "6/8")
    ('C|', '5/8', '6/8')
    """
    return meter_as_written(asked, meter)


def check_unit_length(unit_length: str | Fraction) -> Fraction:
    """The ``L:`` unit length ``1/N`` (``N`` a power of two up to 64) as a `Fraction`; a
    `ValueError` saying what is accepted otherwise (abc2midi: "Default length must be 1/X").

    >>> check_unit_length("1/8"), check_unit_length(Fraction(1, 16))
    (Fraction(1, 8), Fraction(1, 16))
    >>> check_unit_length("3/8")
    Traceback (most recent call last):
    ...
    ValueError: unit_length '3/8' is not an ABC unit length: give 1/N with N one of 1, 2, 4, ...
    """
    unit: Fraction | None
    if isinstance(unit_length, Fraction):
        unit = unit_length
    else:
        m = _FRACTION.fullmatch(unit_length) if isinstance(unit_length, str) else None
        unit = Fraction(int(m[1]), int(m[2])) if m and int(m[2]) else None
    if unit is None or unit.numerator != 1 or not _note_value(unit.denominator):
        shown = str(unit_length) if isinstance(unit_length, Fraction) else unit_length
        raise ValueError(
            f"unit_length {shown!r} is not an ABC unit length: give 1/N with N one of "
            f"{_POWERS} (e.g. 1/8, the usual L: of reels and jigs)"
        )
    return unit


def check_seed(seed: int) -> int:
    """``seed`` as an int, when ``0 <= seed < 2**64`` (what `torch.Generator.manual_seed` takes
    without wrapping: -1 would give the tunes of 2**64 - 1); a `ValueError` otherwise, a
    `TypeError` for a number that is not whole.

    >>> check_seed(0), check_seed(2**64 - 1)
    (0, 18446744073709551615)
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be a whole number from 0 to 2**64 - 1 (18446744073709551615), got -1
    """
    if isinstance(seed, bool):
        raise TypeError(f"seed must be a whole number, got {seed!r}")
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"seed must be a whole number, got {seed!r}") from None
    if not 0 <= seed < 2**64:
        raise ValueError(
            f"seed must be a whole number from 0 to 2**64 - 1 ({2**64 - 1}), got {seed}"
        )
    return seed


def check_formats(formats: Sequence[str], known: Sequence[str], hint: str = "") -> list[str]:
    """``formats`` as a list, when each is one of ``known`` and none is given twice: a
    `ValueError` naming the first empty, unknown or repeated one otherwise (``render_abc``'s
    ``formats`` and the commands' ``--render`` / ``--formats``, `formats_arg`, which adds
    ``hint`` to the choices named). One string (``"svg"``, not ``["svg"]``) is refused whole.

    >>> check_formats(["svg", "midi"], ("svg", "midi"))
    ['svg', 'midi']
    >>> check_formats(["midi", "svg", "midi"], ("svg", "midi"))
    Traceback (most recent call last):
    ...
    ValueError: format 'midi' is given twice
    >>> check_formats(["png"], ("svg", "midi"))
    Traceback (most recent call last):
    ...
    ValueError: unknown format 'png'; choose from svg, midi
    """
    choose = f"choose from {', '.join(known)}{hint}"
    if isinstance(formats, str):
        raise ValueError(f"formats is a list of formats, not one string {formats!r}; {choose}")
    formats = list(formats)
    if "" in formats:
        raise ValueError(f"empty format in {formats!r}; {choose}")
    unknown = [f for f in dict.fromkeys(formats) if f not in known]
    if unknown:
        raise ValueError(f"unknown format {', '.join(map(repr, unknown))}; {choose}")
    twice = next((f for i, f in enumerate(formats) if f in formats[:i]), None)
    if twice is not None:
        raise ValueError(f"format {twice!r} is given twice")
    return formats


def link_problem(path: str | os.PathLike) -> Optional[str]:
    """Why ``path`` cannot become a folder because it, or the nearest of its parents that is on
    the disk, is a symbolic link that leads nowhere: ``"it is a symbolic link loop"`` or
    ``"it is a broken symbolic link (to TARGET)"`` (a parent: its path in place of "it"); None
    otherwise. `os.makedirs` fails on either only with ``File exists``, and `os.path.exists`
    says False, so that a check of the folder passed it and the work was done first.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> root = Path(scratch.name)
    >>> (root / "a").symlink_to("b"); (root / "b").symlink_to("a")
    >>> (root / "gone").symlink_to("/no/such/folder")
    >>> link_problem(root / "a"), link_problem(root / "gone")
    ('it is a symbolic link loop', 'it is a broken symbolic link (to /no/such/folder)')
    >>> link_problem(root / "gone" / "sub").startswith(f"{root / 'gone'} is a broken symbolic")
    True
    >>> link_problem(root / "new" / "sub") is None
    True
    >>> scratch.cleanup()
    """
    target = Path(path)  # its parents as given: a message names them as the user wrote them
    for existing in (target, *target.parents):
        if not os.path.lexists(existing):
            continue  # not there (or under a link that leads nowhere: the next one up says)
        if not existing.is_symlink():
            return None
        try:
            existing.stat()
            return None  # a link to something: the folder check sees what it leads to
        except OSError as err:
            where = "it" if existing == target else str(existing)
            if err.errno == errno.ELOOP:
                return f"{where} is a symbolic link loop"
            return f"{where} is a broken symbolic link (to {os.readlink(existing)})"
    return None
