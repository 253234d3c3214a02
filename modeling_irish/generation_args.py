"""Checks of tune-generation arguments shared by `TuneGenerator.generate` and `irish-tune generate`,
and of the prompt a tune continues.

Kept free of torch. The checks of single values that the command line makes while it reads its
arguments (meter, unit length, seed) are `irish_tune.value_checks`', re-exported here: importing
this module imports the `modeling_irish` package, and with it torch and transformers.
"""

from __future__ import annotations

import logging
import math
import numbers
import re
from collections.abc import Callable
from fractions import Fraction
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from irish_tune.value_checks import (  # noqa: F401 - re-exported: the library checks them too
    MAX_DENOMINATOR,
    check_meter,
    check_seed,
    check_unit_length,
    meter_as_asked,
)
from tokenization.abc_header import parse_meter
from tokenization.abc_parser import Token
from tokenization.bar_check import bar_report
from tokenization.measure import TICKS_PER_EIGHTH, bar_length_in_eighths

from .tune_validation import SectionState, validate_tune

if TYPE_CHECKING:  # a type only: constraints imports torch (see the module docstring)
    from .constraints import TuneConstraint

logger = logging.getLogger("modeling_irish.generation")  # the logger of the prompt's warnings

__all__ = [
    "MAX_DENOMINATOR",
    "bars_after_prompt",
    "check_lengths",
    "check_meter",
    "check_numbering",
    "check_one_meter",
    "check_prompt_goes_on",
    "check_prompt_pickup",
    "check_prompt_scans",
    "DEFAULT_MAX_ROWS",
    "DEFAULT_MIN_BARS",
    "TooLittleRoom",
    "check_room",
    "check_sampling",
    "check_seed",
    "check_unit_length",
    "meter_as_asked",
    "prompt_tokens",
    "same_meter",
    "check_number",
]


def same_meter(a: str, b: str) -> bool:
    """Whether two ``M:`` values name the same meter: the same numerator and denominator once
    the spellings the reader accepts are normalised (``C`` is 4/4, ``C|`` 2/2, ``2+3/8`` 5/8).
    Not the same bar length: 6/8 (two dotted beats) is not 3/4 (three beats).

    >>> same_meter("C", "4/4"), same_meter(" 6 / 8", "6/8"), same_meter("6/8", "3/4")
    (True, True, False)
    """
    return parse_meter(a) == parse_meter(b)


def check_number(name: str, value: Any, whole: bool) -> None:
    """A `TypeError` naming ``value`` unless it is a whole number (``whole``) or a real number;
    a bool is neither (``True`` is no count of 1)."""
    kind = numbers.Integral if whole else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "a whole number" if whole else "a real number"
        raise TypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__})")


def check_sampling(num_tunes: int, temperature: float, top_k: int, top_p: float) -> None:
    """Refuse sampling settings up front, by name: ``num_tunes`` and ``top_k`` whole numbers
    (a `TypeError` otherwise: ``top_k=2.5`` failed in the middle of sampling), ``temperature``
    and ``top_p`` real numbers, each in its range (a `ValueError`).

    >>> check_sampling(4, temperature=1.0, top_k=0, top_p=0.9)
    >>> check_sampling(4, temperature=1.0, top_k=2.5, top_p=0.9)
    Traceback (most recent call last):
    ...
    TypeError: top_k must be a whole number, got 2.5 (float)
    """
    check_number("num_tunes", num_tunes, whole=True)
    check_number("temperature", temperature, whole=False)
    check_number("top_k", top_k, whole=True)
    check_number("top_p", top_p, whole=False)
    if num_tunes < 1:
        raise ValueError(f"num_tunes must be at least 1, got {num_tunes}")
    if not 0 <= temperature < float("inf"):
        raise ValueError(f"temperature must be finite and >= 0 (0: greedy), got {temperature}")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0 (0: off), got {top_k}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")


def bars_after_prompt(num_bars: int | None, prompt: list[Token]) -> int | None:
    """``num_bars``, or one more than the prompt's bars where it has as many: the tune is
    steered to close only once the prompt has been read (a closing target inside the prompt
    ended the tune straight after it, in the middle of a bar). A bar is a bar line that closes
    notes or rests: an opening ``|`` or ``|:`` is no bar (it counted as one, so the same prompt
    with a leading ``|`` got a bar more).

    >>> from tokenization.abc_parser import parse_abc
    >>> def bars(body):
    ...     return bars_after_prompt(2, parse_abc("X:1\\nM:6/8\\nK:G\\n" + body).tokens)
    >>> bars("GAG GAB|ABA ABd|"), bars("|GAG GAB|ABA ABd|"), bars("|:GAG GAB|ABA ABd|")
    (3, 3, 3)
    """
    prompt_bars, filled = 0, False
    for token in prompt:
        if token.kind in ("note", "rest"):
            filled = True
        elif token.kind == "bar":
            prompt_bars, filled = prompt_bars + filled, False
    if num_bars is None or prompt_bars < num_bars:
        return num_bars
    return prompt_bars + 1


def check_lengths(num_bars: int | None, max_rows: int | None, min_bars: int | None) -> None:
    """Refuse, by name, lengths that would make no tune: a ``num_bars`` or ``max_rows`` that is
    not a whole number >= 1 (or ``None``), a ``min_bars`` below 0 or above ``num_bars`` (the
    tune is steered to close after ``num_bars`` bars: it gave that many, the ``min_bars`` asked
    for dropped without a word), and both limits ``None`` (nothing would close the tunes). A
    ``min_bars`` of ``None`` is the default, `DEFAULT_MIN_BARS` or ``num_bars`` if fewer.

    >>> check_lengths(8, None, 0)
    >>> check_lengths(2, None, 10)
    Traceback (most recent call last):
    ...
    ValueError: min_bars=10 is more than num_bars=2: the tune is steered to close after ...
    >>> check_lengths(None, None, 0)
    Traceback (most recent call last):
    ...
    ValueError: num_bars and max_rows are both None: nothing would steer the tunes to close, ...
    """
    for name, value in (("num_bars", num_bars), ("max_rows", max_rows), ("min_bars", min_bars)):
        if value is not None:
            check_number(name, value, whole=True)
    if num_bars is not None and num_bars < 1:
        raise ValueError(f"num_bars must be at least 1 (or None), got {num_bars}")
    if max_rows is not None and max_rows < 1:
        raise ValueError(f"max_rows must be at least 1 (or None), got {max_rows}")
    if min_bars is not None and min_bars < 0:
        raise ValueError(f"min_bars must be >= 0, got {min_bars}")
    if min_bars is not None and num_bars is not None and min_bars > num_bars:
        raise ValueError(
            f"min_bars={min_bars} is more than num_bars={num_bars}: the tune is steered to close "
            "after num_bars bars; give a min_bars of at most num_bars, or leave it out"
        )
    if num_bars is None and max_rows is None:
        raise ValueError(
            "num_bars and max_rows are both None: nothing would steer the tunes to close, and "
            "they would be cut, unfinished, at the hard row limit; give either (or both)"
        )


def check_numbering(num_threads: int | None, first_number: int) -> None:
    """Refuse, by name, a ``num_threads`` that is not a whole number >= 1 (or ``None``; torch
    refused 0 with an error of its own) and a ``first_number`` below 1 (an ``X:`` number is
    positive: abc2midi refuses ``X:-3``).

    >>> check_numbering(None, 1)
    >>> check_numbering(1, 0)
    Traceback (most recent call last):
    ...
    ValueError: first_number must be at least 1 (the X: of the first tune), got 0
    """
    if num_threads is not None:
        check_number("num_threads", num_threads, whole=True)
        if num_threads < 1:
            raise ValueError(f"num_threads must be at least 1 (or None), got {num_threads}")
    check_number("first_number", first_number, whole=True)
    if first_number < 1:
        raise ValueError(
            f"first_number must be at least 1 (the X: of the first tune), got {first_number}"
        )


def prompt_tokens(tokens: list[Token]) -> list[Token]:
    """The prompt's tokens to continue: without a final ``|]``, and with a tie at the end kept
    (read with ``keep_final_tie``), so that the continuation starts on the tied note's pitch
    (the sampler's tie constraint). A final tie that cannot go on that way is refused: one over
    a repeat or section line, or a tied chord (a tie goes on to one note).

    A final ``:|`` that closes a first ending becomes ``:|2``, as the reader reads ``:| |2``:
    the continuation is the second ending (a ``:|`` there is unbalanced, abc2midi reads no
    first ending without a second).

    A ``|]`` before the end is read as ``||``, and said: music follows it, so it ends a section,
    not the tune (the sampler stopped at it, and the tunes were the prompt and nothing more).

    >>> from tokenization.abc_parser import parse_abc
    >>> body = parse_abc("X:1\\nM:6/8\\nL:1/8\\nK:G\\n|:GAG GAB|1ABA ABd:|").tokens
    >>> [t.text for t in prompt_tokens(body) if t.kind == "bar"]
    ['|:', '|1', ':|2']
    """
    tokens = list(tokens)
    while tokens and tokens[-1].kind == "bar" and tokens[-1].text == "|]":
        tokens.pop()
    tokens = _inner_final_bars_as_section_ends(tokens)
    _check_final_tie(tokens)
    if tokens and tokens[-1].text == ":|" and _in_first_ending(tokens[:-1]):
        tokens[-1] = tokens[-1]._replace(text=":|2")
    return tokens


def _inner_final_bars_as_section_ends(tokens: list[Token]) -> list[Token]:
    """``tokens`` (a prompt without its final ``|]``) with each ``|]`` made ``||``, said once
    in a warning: music goes on after it, as a musician plays on after a part written with a
    final bar line, and the tune must too."""
    if not any(t.kind == "bar" and t.text == "|]" for t in tokens):
        return tokens
    logger.warning(
        "the prompt's '|]' before its end is read as '||', a section end: the tunes go on after "
        "it (a final '|]' is dropped, to be continued)"
    )
    return [t._replace(text="||") if t.kind == "bar" and t.text == "|]" else t for t in tokens]


def _in_first_ending(tokens: list[Token]) -> bool:
    """Whether the bar lines of ``tokens`` leave the music in a first ending (``|1``)."""
    sections = SectionState()
    for token in tokens:
        if token.kind == "bar":
            sections.push(token.text)
    return sections.ending == 1


def _check_final_tie(tokens: list[Token]) -> None:
    """Refuse a tie at the end of ``tokens`` that no continuation can take (`prompt_tokens`)."""
    last_note = max((i for i, t in enumerate(tokens) if t.kind == "note"), default=-1)
    after = tokens[last_note + 1 :]
    if not any(t.kind == "tie" for t in after):
        return
    if any(t.kind == "chord_end" for t in after):
        raise ValueError(
            "the prompt ends in a tied chord: a continued tune goes on from a tied single note "
            "(its first note then has that pitch); untie the chord or end on a note"
        )
    crossed = [t.text for t in after[1:] if t.text != "|"]
    if crossed:
        raise ValueError(
            f"the prompt ends in a tie over a {crossed[0]!r} bar line: a tie never crosses a "
            "repeat or section line; end it with '-|' or without the tie"
        )


def check_one_meter(prompt: Any) -> None:
    """Refuse a prompt (`AbcTune`) that changes meter: its rows' measure features follow the
    header's ``M:`` alone, and the sampler fills the bars of one meter, so the bars after the
    change would be read, and continued, in the old meter (all invalid)."""
    if prompt.meter_changes:
        index, new = prompt.meter_changes[0]
        raise ValueError(
            f"the prompt changes meter from M:{prompt.meter} to M:{new or 'none'} before its "
            f"note or bar {index + 1}: a tune is continued in one meter; give a prompt in one "
            "meter (the header's M:), or end it before the change"
        )


#: How `validate_tune` begins the problems of a prompt's bars (its length, repeats, endings;
#: not "bar line inside a tuplet or chord", a tuplet's or chord's problem).
_SCAN_PROBLEMS = re.compile(r"bar \d|empty bar|unbalanced|unsupported bar")


def check_prompt_scans(tokens: list[Token], meter: str) -> Fraction:
    """Refuse a prompt (`prompt_tokens`) with a bar no continuation can mend: a full bar too
    long or too short, a short bar before a repeat that goes back to a full one, an empty bar
    before ``:|`` or ``|1``... (`validate_tune`'s errors at a place in the prompt; what only the
    rest of the tune can settle, an open repeat or a pickup's complement, is left to it: its
    last bar is not the tune's, so a prompt that is only a pickup, ``A|``, is one).
    Constrained sampling keeps the bars it writes inside the meter, but every tune continuing
    such a prompt would still be invalid. A tie, chord or tuplet that `validate_tune` refuses
    (a tied chord, a tie to another pitch) is refused for what it is, not as a bar that does
    not scan. A bar the prompt leaves open is refused where it already passes the bar line.
    Returns the pickup the prompt opens with, in eighths (0 without one), that the check found
    (`check_prompt_pickup` takes it).

    >>> from tokenization.abc_parser import parse_abc
    >>> check_prompt_scans(parse_abc("X:1\\nM:6/8\\nL:1/8\\nK:G\\n|:GAG GAB|AB").tokens, "6/8")
    Fraction(0, 1)
    >>> check_prompt_scans(parse_abc("X:1\\nM:6/8\\nL:1/8\\nK:G\\nD|").tokens, "6/8")
    Fraction(1, 1)
    >>> check_prompt_scans(parse_abc("X:1\\nM:6/8\\nL:1/8\\nK:G\\nGAG GAB|AB A|d").tokens, "6/8")
    Traceback (most recent call last):
    ...
    ValueError: the prompt does not scan in 6/8: bar 2 lasts 3, not 6; every tune continuing ...
    """
    if not tokens:
        return Fraction(0)
    scanned = validate_tune(tokens, meter, goes_on=True)
    placed = [e for e in scanned.errors if re.match(r"token \d+: ", e)]
    if not placed:
        return scanned.pickup
    problem = placed[0].split(": ", 1)[1]
    if problem == "tie after chord_end":
        raise ValueError(
            "the prompt ties a chord ([DF]2-[DF]): a tie after a chord is not supported (a tie "
            "joins one note to the next note, of the same pitch); untie the chord or tie single "
            "notes"
        )
    if not _SCAN_PROBLEMS.match(problem):  # ties, chords, tuplets: no question of bars
        raise ValueError(
            f"the prompt cannot be continued: {problem}; every tune continuing it would be invalid"
        )
    index = int(placed[0].split()[1].rstrip(":"))
    short_end = _closed_short_end(tokens, index, problem)
    if short_end:  # `irish-tune check --bars` passes it: a tune may end on a short bar
        raise ValueError(
            f"the prompt's last bar is closed after {short_end[0]} of {short_end[1]} eighths; a "
            "continuation cannot follow a closed short bar: end the prompt without the bar "
            "line, or complete the bar"
        )
    if problem.startswith("unbalanced"):  # valid ABC that abc2midi, and so the sampler, refuse
        problem += _unbalanced_hint(tokens, index)
    pointer = " (irish-tune check --bars names its bars)" if _bar_check_finds(tokens, meter) else ""
    raise ValueError(
        f"the prompt does not scan in {meter}: {problem}; every tune continuing it would be "
        f"invalid{pointer}"
    )


def _bar_check_finds(tokens: list[Token], meter: str) -> bool:
    """Whether ``irish-tune check --bars`` (`bar_report`) finds a bar of the prompt that does
    not fit ``meter``: it checks bar lengths as written, not repeats, endings or the bars a
    jump back joins, so pointing to it for those sent the user to a check that passes.

    >>> from tokenization.abc_parser import parse_abc
    >>> _bar_check_finds(parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:D\\nABcde|").tokens, "2/4")
    True
    >>> _bar_check_finds(parse_abc("X:1\\nM:2/4\\nL:1/8\\nK:D\\n|:ABcd||").tokens, "2/4")
    False
    """
    # bar_report reads a tune's tokens, meter, meter changes and parts only (a prompt has none)
    prompt = SimpleNamespace(tokens=tokens, meter=meter, meter_changes=[], part_changes=[])
    return not bar_report(prompt).ok  # type: ignore[arg-type]  # the four it reads, not a tune


def check_prompt_pickup(pickup: Fraction, meter: str, fills: Callable[[Fraction], bool]) -> None:
    """Refuse a prompt that opens with a ``pickup`` (in eighths, as `check_prompt_scans`
    returns it) whose complement, the bar its tune must close on, no note lengths of the model
    fill: ``fills`` (`ConstraintTables.fills`) says whether they fill a bar of so many eighths.
    Sampling otherwise failed at that last bar, after a whole tune ("no token fits").

    >>> from tokenization.abc_parser import parse_abc
    >>> tokens = parse_abc("X:1\\nM:3/4\\nL:1/8\\nK:D\\n(3A/B/c d2 e2|").tokens
    >>> pickup = check_prompt_scans(tokens, "3/4")
    >>> check_prompt_pickup(pickup, "3/4", lambda eighths: eighths.denominator == 1)
    Traceback (most recent call last):
    ...
    ValueError: the prompt opens with a pickup of 16/3 eighths: its tune must close on a bar of ...
    """
    bar = bar_length_in_eighths(meter)
    if not pickup or bar is None or fills(bar - pickup):
        return
    raise ValueError(
        f"the prompt opens with a pickup of {pickup} eighths: its tune must close on a bar of "
        f"{bar - pickup} (the rest of {meter}), which no note lengths of the model fill; give "
        "the prompt a pickup that its note lengths complete (no tuplet, say), or a full first bar"
    )


def check_prompt_goes_on(constraint: TuneConstraint) -> None:
    """Refuse a prompt (one `check_prompt_scans` passes) after which the sampler has no token to
    draw (`TuneConstraint.can_go_on`, ``constraint`` fed the prompt): its last bar is left open
    where no note lengths of the model complete it (2/3 of an eighth short, after a tuplet), or
    it ends in a tie where only a bar line that no tie crosses may close the bar. Sampling
    otherwise failed there, vaguely ("no token fits"), or drew a tied note of no length.

    `TuneGenerator.generate` calls it on the prompt:

    >>> from transformers import AutoModelForCausalLM, AutoTokenizer
    >>> from modeling_irish.generation import TuneGenerator
    >>> model = AutoModelForCausalLM.from_pretrained("runs/measurenote-small")
    >>> generator = TuneGenerator(model, AutoTokenizer.from_pretrained("runs/measurenote-small"))
    >>> generator.generate(1, prompt="X:1\\nM:6/8\\nL:1/8\\nK:D\\n|:GAG GAB|1ABA ABd|ABA ABd-")
    Traceback (most recent call last):
    ...
    ValueError: the prompt ends bar 3 with a tie, but only ':|2' may close that bar, and a tie ...
    """
    if constraint.can_go_on():
        return
    number, meter = constraint.bars_done + 1, constraint.tables.meter
    offset = constraint.tracker.offset
    so_far = Fraction(offset) / TICKS_PER_EIGHTH
    need = Fraction(constraint.tables.bar - constraint.start) / TICKS_PER_EIGHTH
    if so_far < need:
        raise ValueError(
            f"the prompt leaves bar {number} open after {so_far} eighths: no note lengths of "
            f"the model fill the {need - so_far} eighths left of it (a bar of {need} in "
            f"{meter}); end the prompt where its note lengths can complete the bar (before a "
            "tuplet, say), or complete the bar"
        )
    closing = constraint.options.get(offset, ())
    if constraint.tie_main is not None and closing:
        raise ValueError(
            f"the prompt ends bar {number} with a tie, but only {' or '.join(map(repr, closing))} "
            "may close that bar, and a tie crosses a plain '|' only: end the prompt without "
            "the tie"
        )
    raise ValueError(
        f"the prompt cannot be continued: no token fits after it, at the end of bar {number}"
    )


def _closed_short_end(tokens: list[Token], index: int, problem: str) -> tuple[str, str] | None:
    """``(lasts, meter)`` in eighths when ``problem``, at the bar line ``tokens[index]``, is a
    short bar that this bar line closes at the end of the prompt (no note after it): a tune
    may end so, but nothing can follow it; None for any other problem.

    >>> from tokenization.abc_parser import parse_abc
    >>> tokens = parse_abc("X:1\\nM:6/8\\nL:1/8\\nK:G\\nGAG GAB|ABA AB|").tokens
    >>> _closed_short_end(tokens, len(tokens) - 1, "bar 2 lasts 5, not 6")
    ('5', '6')
    """
    found = re.fullmatch(r"bar \d+ lasts (\S+), not (\S+)", problem)
    if not found or Fraction(found[1]) >= Fraction(found[2]):
        return None
    if any(token.kind in ("note", "rest", "bar") for token in tokens[index + 1 :]):
        return None
    return found[1], found[2]


def _unbalanced_hint(tokens: list[Token], index: int) -> str:
    """How to mend the unbalanced bar line ``tokens[index]`` of a prompt, by what its bar lines
    before it leave open (`check_prompt_scans`); empty where no one way is clear."""
    sections = SectionState()
    for token in tokens[:index]:
        if token.kind == "bar":
            sections.push(token.text)
    if sections.ending == 1:
        return (
            " (inside a first ending '|1': close it with ':|2', or ':| |2', and the second "
            "ending, or end the prompt with its ':|')"
        )
    if sections.ending == 0 and tokens[index].text in (":|", ":|:", "|1", "[1"):
        return (
            " (after the first part a ':|' or '|1' needs its '|:', as abc2midi reads repeats; "
            "add it to the prompt)"
        )
    return ""


#: Rows a tune may have (the prompt's included) unless ``max_rows`` says otherwise.
DEFAULT_MAX_ROWS = 600

#: Fewest bars before the model may end a tune, unless ``min_bars`` says otherwise (or
#: ``num_bars`` is fewer: then ``num_bars``).
DEFAULT_MIN_BARS = 4

#: Fewest bars of eighth notes, with their bar lines, that ``max_rows`` must leave room for
#: after the prompt: with less, tunes are often still open at the hard limit (twice max_rows).
_ROOM_BARS = 4
#: Rows besides the bars': an opening bar line, ``<start>`` and ``<end>``.
_ROOM_EXTRA = 3


class TooLittleRoom(ValueError):
    """`check_room`'s refusal: its message speaks of ``max_rows`` (the argument and the CLI's
    flag), and its numbers let a caller without that control say it in its own terms (the
    demo: a prompt too long). ``least``: the fewest rows the request needs; ``most_prompt``:
    the most prompt rows that ``max_rows`` leaves room for (below 0 when the meter alone needs
    more)."""

    def __init__(
        self, message: str, max_rows: int, least: int, prompt_rows: int, meter: str
    ) -> None:
        super().__init__(message)
        self.max_rows, self.least, self.prompt_rows, self.meter = (
            max_rows, least, prompt_rows, meter
        )  # fmt: skip

    @property
    def most_prompt(self) -> int:
        """The most prompt rows ``max_rows`` leaves room for in this meter."""
        return self.max_rows - (self.least - self.prompt_rows)


def check_room(max_rows: int | None, meter: str, bar_eighths: Fraction, prompt_rows: int) -> None:
    """Refuse a ``max_rows`` too small to finish a tune in ``meter``: the least with which a new
    tune of eighth notes without a pickup gets `_ROOM_BARS` bars and stays under the cap
    (`TuneConstraint._should_close` keeps room for one more bar and up to two closing bars
    after bar `_ROOM_BARS` - 2: `_ROOM_BARS` + 1 bars of eighth notes with their bar lines), an
    opening bar line and the ``<start>`` and ``<end>`` rows, after the prompt's rows: a
    `TooLittleRoom` (a `ValueError`) that gives its numbers."""
    least = prompt_rows + _ROOM_EXTRA + math.ceil((_ROOM_BARS + 1) * (bar_eighths + 1))
    if max_rows is not None and max_rows < least:
        after = f" after the prompt's {prompt_rows} rows" if prompt_rows else ""
        default = max_rows != DEFAULT_MAX_ROWS and least <= DEFAULT_MAX_ROWS
        raise TooLittleRoom(
            f"max_rows={max_rows} is too small to finish a tune in {meter}: give at least "
            f"{least} (room for {_ROOM_BARS + 1} bars of eighth notes and their bar lines, an "
            f"opening one, <start> and <end>{after}: a tune of eighth notes then gets "
            f"{_ROOM_BARS} bars within it)"
            + (f", or leave the default {DEFAULT_MAX_ROWS}" if default else ""),
            max_rows,
            least,
            prompt_rows,
            meter,
        )
