"""abc2midi's ``%%MIDI`` directives as the MIDI of `render.to_midi` plays them (a part of
render_midi): ``%%MIDI program [channel] N`` sets the instrument (`midi_program`), from where
it stands in the music (`program_marks`); the others
(``gchord``, ``drone``, ``beat``...), which change abc2midi's playing, not the music read, are
named in one warning per tune rather than passed over unsaid: in a command's capped tune
warnings when given (`UNPLAYED_DIRECTIVES`), so a book's file-header ``%%MIDI gchord`` is said
for its first few tunes, then counted."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenization.abc_tune import AbcTune
    from tokenization.capped_warnings import CappedWarnings

__all__ = [
    "MIDI_DIRECTIVE_RE",
    "PIANO_PROGRAM",
    "UNPLAYED_DIRECTIVES",
    "MidiDirective",
    "midi_directives",
    "midi_program",
    "program_marks",
]

logger = logging.getLogger("modeling_irish.render")  # a part of render, as render_midi is

#: a ``%%MIDI`` directive line, an ``I:MIDI`` field line (ABC 2.1 §11: the same) or an inline
#: ``[I:MIDI ...]``: its text as written and its words after ``MIDI``
MIDI_DIRECTIVE_RE = re.compile(r"\s*(?:%%|I:\s*)(MIDI\b[^%]*)")
_INLINE_RE = re.compile(r"\[I:\s*(MIDI\b[^\]%]*)\]")
#: the channel abc2midi plays a tune's first voice on, the one the MIDI plays (`to_midi`)
MELODY_CHANNEL = 1
#: the General MIDI program a player plays without a program change (the piano)
PIANO_PROGRAM = 0
#: the kind of `midi_program`'s warning in a command's capped tune warnings (`warn_tune`)
UNPLAYED_DIRECTIVES = "%%MIDI directives not played"


@dataclass(frozen=True)
class MidiDirective:
    """One ``%%MIDI`` directive of a tune: ``text`` as written (``%%MIDI program 73``,
    ``I:MIDI program 73``, ``[I:MIDI program 73]``), its ``words`` after ``MIDI``
    (``("program", "73")``), and whether it comes ``before_music`` (in the header, or between
    ``K:`` and the first line of music), where it applies from the start."""

    text: str
    words: tuple[str, ...]
    before_music: bool


def midi_directives(abc: str) -> list[MidiDirective]:
    """The ``%%MIDI`` directives of the tune ``abc`` in written order (`MidiDirective`); a
    tunebook's file-header ones are in a standalone tune's text, written in after its ``X:``
    (`with_file_header`), so they come first, as abc2midi applies them.

    >>> [(d.text, d.before_music) for d in midi_directives(
    ...     "X:1\\n%%MIDI program 73\\nK:D\\nI:MIDI gchord fzf\\nDE [I:MIDI program 40] F|")]
    [('%%MIDI program 73', True), ('I:MIDI gchord fzf', True), ('[I:MIDI program 40]', False)]
    """
    from tokenization.abc_tunebook import abc_lines

    from .render_svg import tune_lines

    found: list[MidiDirective] = []
    started = False  # a line of music read
    for line, code, field, part in tune_lines(abc_lines(abc)):
        if (m := MIDI_DIRECTIVE_RE.match(line)) and not (field is None and code.strip()):
            text = line.strip() if line.lstrip().startswith("%%") else code.strip()
            found.append(MidiDirective(text, tuple(m[1].split()[1:]), not started))
            continue
        if part == "body" and field is None and code.strip():
            started = True
        for inline in _INLINE_RE.finditer(code):
            found.append(MidiDirective(inline[0], tuple(inline[1].split()[1:]), not started))
    return found


def midi_program(abc: str, label: str, said: CappedWarnings | None = None) -> int | None:
    """The General MIDI program (0-127, abc2midi's numbering: 0 is the piano, 73 the flute)
    the MIDI of the tune ``abc`` plays from its start, or None (the player's default): the last
    ``%%MIDI program N`` (or ``program C N`` on the channel the MIDI plays, 1) before the
    music, a file header's before the tune's own (`midi_directives`); one in the music plays
    from where it stands (`program_marks`). The directives the MIDI does not play are said in
    one warning naming ``label``: a program on another channel, or not 0-127; any other kind but
    ``transpose`` (which the reader says already). None is said for a tune without them. With
    ``said`` (a command's `tune_warnings`), the warning goes there, capped with the others of
    its kind (`UNPLAYED_DIRECTIVES`, `warn_tune`); else on the render logger.

    >>> midi_program("X:1\\n%%MIDI program 20\\nI:MIDI program 1 73\\nK:D\\nDE|", "X:1")
    73
    """
    program, unplayed = None, []
    for directive in midi_directives(abc):
        kind, args = (directive.words or ("",))[0], directive.words[1:]
        if kind == "transpose":  # the reader's warning says it is not read
            continue
        if kind != "program":
            unplayed.append(directive.text)
            continue
        number, why = _program(args)
        if why is None and directive.before_music:
            program = number
        elif why is not None:  # one in the music plays from there (`program_marks`)
            unplayed.append(f"{directive.text} ({why})")
    if unplayed:
        message = (
            f"{len(unplayed)} %%MIDI directive(s) not played by the MIDI (it plays the notes, "
            f"tempo and program): {'; '.join(dict.fromkeys(unplayed))}"
        )
        if said is None:
            logger.warning("%s: %s", label, message)
        else:
            from tokenization.reader_warnings import warn_tune

            warn_tune(said, label, UNPLAYED_DIRECTIVES, message)
    return program


def program_marks(tune: AbcTune, spans: Sequence[tuple[int, int]]) -> list[tuple[Fraction, int]]:
    """``(start in quarter notes, program)`` of each program change of the body of ``tune``
    (`AbcTune.program_changes`: ``%%MIDI program 20`` between lines of music, ``[I:MIDI program
    20]``) each time playing passes it in the ``spans`` (`passed_marks`), as abc2midi plays it:
    the instrument changes from there on. One `_program` does not play (another channel, not
    0-127) is left out, said by `midi_program`.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("X:1\\nL:1/4\\nK:C\\nCD|\\n%%MIDI program 20\\nEF|]")
    >>> [(str(start), program) for start, program in program_marks(tune, [(0, 6)])]
    [('2', 20)]
    """
    from .render_playing import passed_marks

    changes = {}
    for at, text in tune.program_changes:
        number, why = _program(tuple(text.split()[2:]))
        if why is None:
            changes[at] = number
    return passed_marks(tune, changes, spans) if changes else []


def _program(args: tuple[str, ...]) -> tuple[int, str | None]:
    """The program of ``%%MIDI program``'s ``args`` (``N`` or ``C N``), and why it is not
    played, or None: not a number 0-127, or on a channel other than `MELODY_CHANNEL`.

    >>> _program(("73",)), _program(("1", "73")), _program(("2", "73")), _program(("128",))
    ((73, None), (73, None), (73, 'on channel 2; the MIDI plays channel 1'), (0, 'not 0-127'))
    """
    if len(args) not in (1, 2) or not all(arg.isdecimal() for arg in args):
        return 0, "not N or C N"
    number = int(args[-1])
    if number > 127:
        return 0, "not 0-127"
    if len(args) == 2 and int(args[0]) != MELODY_CHANNEL:
        return number, f"on channel {int(args[0])}; the MIDI plays channel {MELODY_CHANNEL}"
    return number, None
