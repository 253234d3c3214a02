"""What the demo's pages take in (a part of demo_app.py): the checks of the values the API
sends for the page's controls (`generate_values`, `checked_number`, `checked_text`, the ranges
`BARS`, `MIN_BARS`, `TEMPERATURE`, `SEED`, `TUNES`, `TITLES`), refused in words naming the
control, and the reading of a pasted text (`pasted_prompt`, `first_of_several`: headerless
snippets, blank lines before them, the lines as pasted, several tunes named; prompt_lines.py
reads a headerless prompt, and words its error, as ``irish-tune generate --prompt FILE`` does).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from tokenization.capped_warnings import WarningRecorder

if TYPE_CHECKING:
    from tokenization.raw_tune import RawTune

__all__ = [
    "BARS",
    "MIN_BARS",
    "PASTED",
    "SEED",
    "SEVERAL_SHOWN",
    "TEMPERATURE",
    "TEXT_MOST",
    "TITLES",
    "TUNES",
    "check_min_bars",
    "checked_number",
    "checked_text",
    "distinct_messages",
    "first_of_several",
    "generate_values",
    "listed_names",
    "pasted_names",
    "pasted_prompt",
    "pasted_tunes",
    "refuse_several_tunes",
    "several_note",
]

#: The ranges of the page's number controls, ``(low, high)``, which `checked_number` holds a
#: request to (the API takes any value: demo_app's events read them unchecked).
BARS = (4, 64)
MIN_BARS = (0, BARS[1])  # the fewest bars before the model may end a tune: 0 puts no minimum
TEMPERATURE = (0.0, 2.0)
SEED = (0, 2**64 - 1)  # what `TuneGenerator.generate` takes (`check_seed`)
TITLES = (1, 20)
TUNES = (1, 20)  # tunes sampled at once: one batch, each rendered


def pasted_prompt(text: str) -> tuple[RawTune | None, list[str]]:
    """The tune of a pasted prompt (None when blank), read as ``irish-tune generate --prompt
    FILE`` reads a file (`pasted_tunes`; a text without an ``X:`` line taken whole, less the
    blank lines before it, which would end it before its bars: `bare_prompt`), and the
    notes on what of the text is not read. Its `RawTune.line_offset`, given to the generator,
    makes the prompt's warnings and errors name the lines as pasted (`prompt_error`). A prompt
    of several tunes is refused (`refuse_several_tunes`).

    >>> raw, noted = pasted_prompt("\\n\\nX:1\\nM:6/8\\nK:G\\nGAB|")
    >>> raw.text.splitlines()[0], raw.line_offset, noted
    ('X:1', 2, [])
    >>> raw, _ = pasted_prompt("\\n\\nM:6/8\\nGAB|")
    >>> raw.text, raw.line_offset
    ('M:6/8\\nGAB|', 2)
    """
    from .prompt_lines import bare_prompt

    if not text.strip():
        return None, []
    tunes, noted = pasted_tunes(text)
    refuse_several_tunes(pasted_names([(raw.line - 1, raw.text) for raw in tunes]))
    return (tunes[0] if tunes else bare_prompt(text, PASTED)), noted


def refuse_several_tunes(names: list[str]) -> None:
    """Refuse a prompt of several tunes (``names``: `pasted_names`) in the page's terms: the
    tunes named and what to paste, as ``irish-tune generate --prompt FILE`` refuses a file of
    several; the reader's "give one tune per string, e.g. a list" speaks to Python callers.

    >>> try:
    ...     refuse_several_tunes(["X:1 (line 1)", "X:2 T:B (line 4)"])
    ... except ValueError as err:
    ...     print(str(err).replace(": a", ":\\na"))
    the prompt holds 2 tunes (X:1 (line 1), X:2 T:B (line 4)):
    a prompt is one tune; paste the first bars of the one to continue
    """
    if len(names) > 1:
        raise ValueError(
            f"the prompt holds {len(names)} tunes ({listed_names(names)}): a prompt is one tune; "
            "paste the first bars of the one to continue"
        )


def distinct_messages(records: list[dict[str, object]]) -> list[str]:
    """The distinct messages of a `WarningRecorder`'s ``records``, in the order given."""
    return list(dict.fromkeys(str(record["message"]) for record in records))


#: The tunes `several_note` names of a text of several, the first's included.
SEVERAL_SHOWN = 6


def first_of_several(text: str) -> tuple[RawTune, list[str], list[str]]:
    """The first tune of a pasted text (read as ``irish-tune identify`` reads a file:
    `pasted_tunes`, a file header's fields written into it), of several the names of them
    all (`pasted_names`; of one tune, no names), and the notes on what of the text is not
    read. Its `RawTune` knows the lines as pasted, for its warnings and errors
    (`RawTune.read_warnings`, `RawTune.locate`)."""
    from tokenization.raw_tune import RawTune

    tunes, noted = pasted_tunes(text)
    if not tunes:  # an X: line and nothing the splitter takes for a tune: the reader says why
        return RawTune(PASTED, PASTED, text, 1), [], noted
    if len(tunes) < 2:
        return tunes[0], [], noted
    return tunes[0], pasted_names([(raw.line - 1, raw.text) for raw in tunes]), noted


def pasted_tunes(text: str) -> tuple[list[RawTune], list[str]]:
    """The tunes of a pasted text, read as the commands read a file (`text_tunes`), each at its
    line as pasted, and what `text_tunes` says of the text (music after the blank line that
    ends a tune, not read; a ``%%begintext`` without ``%%endtext``), for the page's notes as
    well as the server's log, without the text's name that starts each.

    >>> tunes, noted = pasted_tunes("X:1\\nK:G\\nGAB|\\n\\nFAAB|")
    >>> [raw.line for raw in tunes], noted[0].split(": 1 line")[0]
    ([1], 'X:1')
    """
    from .abc_sources import text_tunes

    with WarningRecorder(logging.getLogger("modeling_irish.abc_sources")) as said:
        tunes = list(text_tunes(text, PASTED))
    return tunes, [message.removeprefix(f"{PASTED}: ") for message in distinct_messages(said)]


#: Where the tunes a page reads are, for `RawTune` (its messages name lines, not this).
PASTED = "the pasted text"


def pasted_names(tunes: list[tuple[int, str]]) -> list[str]:
    """The names of ``(line offset, text)`` tunes of a pasted text (`split_tunebook`'s): their
    ``X:`` and ``T:`` lines, as ``irish-tune identify`` names the tunes of a file, and the
    line each starts on, said once (`placed_names`: a tune with neither line is named
    ``"tune at line N"``, as ``irish-tune identify`` names it).

    >>> pasted_names([(0, "X:1\\nT:A\\nK:D\\nd|"), (5, "X:2\\nK:G\\nG|")])
    ['X:1 T:A (line 1)', 'X:2 (line 6)']
    >>> pasted_names([(0, "K:D\\nd|"), (3, "X:2\\nK:G\\nG|")])
    ['tune at line 1', 'X:2 (line 4)']
    """
    from .tune_names import placed_names

    return placed_names([(offset + 1, tune, None) for offset, tune in tunes])


def several_note(names: list[str]) -> list[str]:
    """What the page says of a text of several tunes (`first_of_several`'s ``names``): the
    first named, the others not, and how to name each; nothing for one tune.

    >>> several_note(["X:1 T:A (line 1)", "X:2 T:B (line 9)"])[0].split(". ")[0]
    '2 tunes pasted: named the first, X:1 T:A (line 1); not named: X:2 T:B (line 9)'
    """
    if not names:
        return []
    others = listed_names(names[1:], SEVERAL_SHOWN - 1)
    return [
        f"{len(names)} tunes pasted: named the first, {names[0]}; not named: {others}. Paste one "
        "tune at a time, or name each tune of a file with irish-tune identify --index INDEX FILE"
    ]


def listed_names(names: list[str], most: int = SEVERAL_SHOWN) -> str:
    """``names`` joined with commas, the first ``most`` of them, then "..." for the others.

    >>> listed_names(["a", "b", "c"], 2)
    'a, b, ...'
    """
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")


def generate_values(
    values: tuple, rhythms: list[str]
) -> tuple[str, str, int, float, int, str, int, int | None]:
    """The Generate tab's values as the API sent them (rhythm, key, bars, temperature, seed,
    prompt, tunes, minimum bars; tunes may be left off, for one, and minimum bars too, for
    None: the generator's default), checked as the page's controls hold them: the rhythm among
    ``rhythms``, the numbers in their ranges (`checked_number`; minimum bars from 0 to the most
    bars, `MIN_BARS`), the key and prompt text; a `ValueError` naming the control otherwise,
    and one for minimum bars above the bars (`check_min_bars`).

    >>> generate_values(("jig", "G", 8.0, 1, 7, None, 3.0, 6.0), ["jig"])
    ('jig', 'G', 8, 1.0, 7, '', 3, 6)
    >>> generate_values(("jig", "G", 8, 1, 7, "")[:6], ["jig"])[-2:]
    (1, None)
    >>> generate_values(("jig", "G", 10**9, 1, 7, None), ["jig"])
    Traceback (most recent call last):
    ...
    ValueError: Bars must be a whole number from 4 to 64, got 1000000000
    """
    if len(values) not in (6, 7, 8):
        raise ValueError(f"the Generate tab takes 6 to 8 values, got {len(values)}")
    rhythm, key, bars, temperature, seed, prompt, tunes, least = (*values, 1, None)[:8]
    if rhythm not in rhythms:
        raise ValueError(f"Rhythm must be one of {', '.join(rhythms)}, got {rhythm!r}")
    num_bars = int(checked_number(bars, "Bars", BARS))  # whole: an int already
    return (
        rhythm,
        checked_text(key, "Key"),
        num_bars,
        checked_number(temperature, "Temperature", TEMPERATURE, whole=False),
        int(checked_number(seed, "Seed", SEED)),
        checked_text(prompt, "Prompt"),
        int(checked_number(tunes, "Tunes", TUNES)),  # whole: an int already
        None if least is None else check_min_bars(least, num_bars),
    )


def check_min_bars(value: Any, num_bars: int) -> int:
    """``value``, sent for the Minimum bars control, as an int when it is a whole number in
    `MIN_BARS` and at most ``num_bars`` (the Bars control's); else a `ValueError` that says
    so in the words of the API's refusal (`check_lengths`), the controls named as the page
    names them.

    >>> check_min_bars(8.0, 16)
    8
    >>> check_min_bars(10, 8)
    Traceback (most recent call last):
    ...
    ValueError: Minimum bars (10) is more than Bars (8): the tune is steered to close after Bars \
bars; give a Minimum bars of at most Bars
    """
    least = int(checked_number(value, "Minimum bars", MIN_BARS))  # whole: an int already
    if least > num_bars:
        raise ValueError(
            f"Minimum bars ({least}) is more than Bars ({num_bars}): the tune is steered to close "
            "after Bars bars; give a Minimum bars of at most Bars"
        )
    return least


def checked_number(
    value: Any, label: str, bounds: tuple[float, float], whole: bool = True
) -> int | float:
    """``value``, sent for the control ``label``, as an int (``whole``) or a float, when it is a
    number within ``bounds`` (``(low, high)``, both taken; a whole one where ``whole``); else
    a `ValueError` that names the control, its range and the value.

    >>> checked_number(2.0, "Titles", (1, 20)), checked_number(0, "Temperature", (0, 2), False)
    (2, 0.0)
    >>> checked_number(float("nan"), "Temperature", (0.0, 2.0), whole=False)
    Traceback (most recent call last):
    ...
    ValueError: Temperature must be a number from 0.0 to 2.0, got nan
    """
    low, high = bounds
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not low <= value <= high or (whole and value != math.floor(value)):
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{label} must be {kind} from {low} to {high}, got {value!r}")
    return int(value) if whole else float(value)


#: The longest text a page's box takes, in characters (a tunebook of a few hundred tunes): a
#: longer paste sent to a served demo would keep it busy reading it.
TEXT_MOST = 100_000


def checked_text(value: Any, label: str) -> str:
    """``value``, sent for the text box ``label``: itself, "" for None (a box left empty);
    a `ValueError` for what is not text, or text longer than `TEXT_MOST` characters.

    >>> checked_text(None, "Key"), checked_text(" D", "Key")
    ('', ' D')
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{label} must be text, got {value!r}")
    if len(value) > TEXT_MOST:
        raise ValueError(
            f"{label} is {len(value):,} characters long, more than the demo reads "
            f"({TEXT_MOST:,}): paste one tune, or its first bars"
        )
    return value
