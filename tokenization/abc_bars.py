"""Bar lines, endings and ties of the ABC reader: the `_TuneParser` methods that keep them.

Bar lines merged across line breaks (`|` then `:`), endings (``[2``, ``:|2``; ``[2`` among a
bar's notes opens the ending mid-bar, with no bar line), a tempo change or part between two
merged bar lines, and the ties: held over bar lines, dropped where they join two different
pitches or nothing.

>>> bar_token(":|", "2").text
':|2'
>>> _chord_pitches([Token("chord_start", "[", None, None), Token("note", "", 62, None),
...                 Token("note", "", 66, None), Token("chord_end", "]", None, None)], 0)
[62, 66]
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any, TypeVar

from .abc_lexer import canonical_bar, merge_bar_texts, repeat_dots_inside
from .abc_parser_state import ParserState
from .abc_tune import Token

# the bar and tie passes of `abc_parser`, imported from there by name; the texts of warnings
# that `reader_warnings` prints (a repeat start dropped, or one guessed, changes the music played)
__all__ = [
    "COLON_ENDING",
    "REPEAT_START_DROPPED",
    "BarsAndTies",
    "bar_token",
]

#: What the warning of a bar line that starts a repeat and opens an ending (``|:2``) says: the
#: ending is kept and the start dropped, so the section after it is not played twice
REPEAT_START_DROPPED = "(a repeat start and an ending at once)"

#: What the warning of a lone colon with an ending (``:2``) says: it is read as ``:|2``, the
#: section before it played twice, where abc2midi (4.84) drops the digit and plays it once
COLON_ENDING = "(a lone colon with an ending)"

_BAR_TOKENS: dict[tuple[str, str | None], Token] = {}
_T = TypeVar("_T")


def bar_token(raw: str, ending: str | None) -> Token:
    """The ``bar`` token of the bar line ``raw`` (its ``ending``, if it opens one), spelt as
    `canonical_bar` writes it; shared from a small cache, as tokens are never changed."""
    tok = _BAR_TOKENS.get((raw, ending))
    if tok is None:
        tok = Token("bar", canonical_bar(raw, ending), None, None)
        if len(_BAR_TOKENS) < 1024:
            _BAR_TOKENS[(raw, ending)] = tok
    return tok


def _played_through(merged: str) -> bool:
    """Whether playing only passes through the merged bar line ``merged`` (``|``, ``||``,
    ``|:``), as against jumping from it or into it (``:|``, ``:|:``, ``|2``, ``:|2``): a tempo
    change or a part written between the two bar lines it was merged from is placed before it
    (`BarsAndTies._fields_before_merged_bar`).

    >>> _played_through("|:"), _played_through(":|:"), _played_through("|2")
    (True, False, False)
    """
    return not (merged.startswith(":") or merged.lstrip("|")[:1].isdigit())


def _after(changes: list[tuple[int, _T]], at: int) -> list[int]:
    """Places in ``changes`` (tempo or part changes, in token order) of those after token
    ``at``: the last ones, found from the end.

    >>> _after([(0, "A"), (4, "B"), (5, "C")], 4)
    [2]
    """
    n = len(changes)
    while n and changes[n - 1][0] > at:
        n -= 1
    return list(range(n, len(changes)))


def _chord_pitches(tokens: list[Token], at: int, backwards: bool = False) -> list[int | None]:
    """Pitches of the chord whose ``chord_start`` (or, ``backwards``, ``chord_end``) is
    ``tokens[at]``."""
    step, stop = (-1, "chord_start") if backwards else (1, "chord_end")
    pitches: list[int | None] = []  # `Token.pitch`: typed optional, never None on a note
    i = at + step
    while 0 <= i < len(tokens) and tokens[i].kind != stop:
        if tokens[i].kind == "note":
            pitches.append(tokens[i].pitch)
        i += step
    return pitches


def _shift_back(changes: list[tuple[int, _T]], doomed: list[int]) -> None:
    """Move the token indexes of ``changes`` (meter, tempo or part changes, recorded in token
    order) back past the deleted tokens ``doomed`` (sorted), in place: each by the number of
    deleted tokens before it. Only the changes after the first deleted token are visited, once
    for all the deletions (every change once per deletion was quadratic: 10,000 ``[P:A]A-B``).

    >>> changes = [(0, "A"), (3, "B"), (5, "C"), (9, "D")]
    >>> _shift_back(changes, [3, 4, 7])
    >>> changes
    [(0, 'A'), (3, 'B'), (3, 'C'), (6, 'D')]
    """
    first = len(changes)
    while first and changes[first - 1][0] > doomed[0]:
        first -= 1
    for n in range(first, len(changes)):
        j, value = changes[n]
        changes[n] = (j - bisect_left(doomed, j), value)


def _tie_target(tokens: list[Token], at: int, inside: bool) -> int | None:
    """Index of the note or ``chord_start`` that the tie ``tokens[at]`` joins: the next one
    after its note, or after its chord for a chord's inner tie (``[CE-G]``), past bar lines,
    tuplet marks and the chord's outer tie; None before a rest or at the end."""
    i = at + 1
    if inside:  # skip the rest of the tie's own chord
        while i < len(tokens) and tokens[i].kind != "chord_end":
            i += 1
        i += 1
    while i < len(tokens) and tokens[i].kind in ("tie", "bar", "tuplet"):
        i += 1
    return i if i < len(tokens) and tokens[i].kind in ("note", "chord_start") else None


class BarsAndTies(ParserState):
    """Bar line, ending and tie handling of `_TuneParser` (the parser subclasses this).

    The parser supplies the state these methods read and write (`tokens`, `bar_acc`,
    `next_carry`, `tie_at`, `tempo_changes`, `dotted_bars`...), `error` for positioned errors and
    `_change_tempo`.
    """

    def _bar(self, raw: str, ending: str | None, m: re.Match) -> None:
        if self.in_chord:
            raise self.error("bar line inside a chord")
        self.bar_acc = {}
        tok = bar_token(raw, ending)
        if self.tokens and self.tokens[-1].kind == "bar":
            tok = self._merged_bar(tok, m[0])
        self.tokens.append(tok)

    def _end(self, m: re.Match, line: str) -> None:
        """An ending number: ``[2``, or a number after a bar line with only blanks (or a line
        break) between (``:| 2``, ``|\\`` then ``1`` on the next line: ``|1``, ``:|2``). A number
        after a guitar chord or a decoration (``| "D"2D6``) is no ending: an error, as a stray
        number anywhere is."""
        if m[0][0] != "[":
            before = line[: m.start()].rstrip(" \t\\")
            after_bar = before == "" or before[-1] in "|:]"
            if not self.tokens or self.tokens[-1].kind != "bar" or not after_bar:
                raise self.error(f"unexpected number {m[0]!r}")
        elif self.tokens and self.tokens[-1].kind != "bar":
            self._mid_bar_ending(m["en"])
            return
        self._bar("|", m["en"], m)

    def _mid_bar_ending(self, ending: str) -> None:
        """``[2`` among a bar's notes (``Bcd edc [1 d2B A2G :|``, legal ABC): the ending opens
        with no bar line, so the bar goes on, and so do its accidentals (as abc2midi plays
        them). Its token is ``[2``, not ``|2``: the tracker counts one bar across it and the
        writer writes no bar line there (``|2`` made one 12/8 bar two half bars)."""
        if self.in_chord:
            raise self.error("ending inside a chord")
        self.tokens.append(Token("bar", "[" + ending, None, None))

    def _repeat_dots_inside(self, m: re.Match) -> None:
        """Warn, once a spelling, of a bar line that starts a repeat with its dots inside it
        (`repeat_dots_inside`: ``|:]``, ``::]``, O'Neill's ``|:|``), naming its line and column
        and how it is read: the start is kept (`canonical_bar`), as abc2midi and music21 keep
        it. ``|:]`` was a plain ``|]`` and ``::]`` an end ``:|``, the start dropped unsaid."""
        raw = m["bt"]
        if raw in self.dotted_bars or not repeat_dots_inside(raw):
            return
        self.dotted_bars.add(raw)
        column = self.written_column(m.start() + 1)  # as written (`=3D` cuts counted back)
        text = canonical_bar(raw, None)
        self.warnings.append(
            f"bar line {raw} has repeat dots inside it: read as {text}, a repeat starting there "
            f"(line {self.lineno}, column {column})"
        )

    def _repeat_start_dropped(self, written: str, text: str, column: int) -> None:
        """Warn, once a spelling, that ``written`` (``bar line |:2``, or two merged: ``bar lines
        |: then [2``) both starts a repeat and opens an ending, read as ``text`` (``|2``), its
        start dropped (`repeat_start_dropped`), at ``column`` of the current line."""
        if written in self.dropped_starts:
            return
        self.dropped_starts.add(written)
        shown_at = self.written_column(column)  # as written (`=3D` cuts counted back)
        self.warnings.append(
            f"{written} {REPEAT_START_DROPPED} read as {text}, the start "
            f"dropped: no bar holds both (line {self.lineno}, column {shown_at})"
        )

    def _stray_bar_bracket(self, m: re.Match, text: str) -> None:
        """Warn, naming the line and the column, of a bar line holding a ``]`` no bar line
        spells (`stray_bar_bracket`: ``|]]``, ``||]|``), which its canonical bar ``text``
        drops: worded as the stray ``]`` beside a bar line (``a4]|``), counted with it by check
        (``stray brackets dropped``). It was dropped unsaid."""
        column = self.written_column(m.start() + 1)  # as written (`=3D` cuts counted back)
        self.warnings.append(
            f"']' without a chord in bar line {m['bt']} dropped: read as {text} "
            f"(line {self.lineno}, column {column})"
        )

    def _surplus_bar_marks(self, m: re.Match, text: str) -> None:
        """Count a bar line with three thin lines or dots in a row (`surplus_bar_marks`:
        ``|||``, ``::::``), read as its canonical bar ``text`` (``||``, ``:|:``), as abc2midi
        plays it; `_surplus_bar_warnings` says so once a spelling, naming the first's line and
        column. It was read so unsaid, then said at each one (40 lines for 40 ``|||``)."""
        spelling = (m["bt"], text)
        if spelling not in self.surplus_bars:
            column = self.written_column(m.start() + 1)  # as written (`=3D` cuts counted back)
            self.surplus_bars[spelling] = [0, self.lineno, column]
        self.surplus_bars[spelling][0] += 1

    def _surplus_bar_warnings(self) -> list[str]:
        """The warnings of the tune's bar lines with surplus lines or dots
        (`_surplus_bar_marks`): one a spelling, with how many and where the first is."""
        warnings = []
        for (written, text), (count, line, column) in self.surplus_bars.items():
            where = f"line {line}, column {column}"
            if count > 1:
                where = f"{count} times, the first at {where}"
            warnings.append(
                f"bar line {written} has more lines or dots than a bar line spells: read as "
                f"{text} ({where})"
            )
        return warnings

    def _colon_ending(self, m: re.Match) -> None:
        """Warn, once a spelling, of a lone colon with an ending number (`colon_ending`: ``:2``,
        ``:]2``), naming its line and column and how it is read: the end repeat a lone ``:`` is
        read as, then the ending (``:|2``). It was ``:|``, the ending lost unsaid. Check prints
        it (`COLON_ENDING`): abc2midi reads no repeat there, and plays the section once."""
        written = m[0]
        if written in self.colon_endings:
            return
        self.colon_endings.add(written)
        column = self.written_column(m.start() + 1)  # as written (`=3D` cuts counted back)
        text = canonical_bar(m["bt"], m["be"])
        self.warnings.append(
            f"bar line {written} {COLON_ENDING} read as {text}: a repeat ends "
            f"there and the ending opens (line {self.lineno}, column {column})"
        )

    def _merged_bar(self, tok: Token, written: str = "") -> Token:
        """Merge a bar with the bar just before it (`|` at a line end and `|` at the next
        line start, `||\\` + `:` ...), so that no measure is empty. ``written`` is the second
        bar line as written, at `col` (``[2`` after ``|:``): where the merged bar keeps an ending
        and drops a start repeat (``|:`` then ``[2`` is ``|2``), that is said."""
        tokens = self.tokens
        prev = tokens[-1].text if tokens and tokens[-1].kind == "bar" else None
        if prev is not None and prev.startswith("["):  # `[1|`: the ending opens at the bar line
            prev = "|" + prev[1:]
        text = tok.text
        if text == "":  # a lone `:` (its bar is on the other side of a line break)
            text = "|:" if prev is not None or not tokens else ":|"
        if prev is None:
            return Token("bar", text, None, None)
        tokens.pop()
        merged = merge_bar_texts(prev, text)
        if ":" in prev[-1:] + text[-1:] and merged.lstrip(":|")[:1].isdigit():
            self._repeat_start_dropped(f"bar lines {prev} then {written or text}", merged, self.col)
        if _played_through(merged):
            self._fields_before_merged_bar()
        return Token("bar", merged, None, None)

    def _fields_before_merged_bar(self) -> None:
        """Place the tempo change and the parts written between two bar lines that merge into
        one that playing only passes through (``|`` ending a line, ``Q:1/4=90`` or ``P:B``,
        ``|:`` opening the next; `_played_through`) before the merged bar, not after it: the
        tempo change so that it is not played again on each pass of the section after it, the
        part so that it starts with its own ``|:`` and holds the tempo change written in it
        (after the ``|:``, the ``|:`` and the tempo ended the part before: a header ``P:BA``
        played B at the old tempo). Where playing also jumps from the merged bar or into it
        (``:|``, ``:|:``, ``|2``) both stay after it: a repeat's first pass does not play the
        change and an ending does (after a ``:|:``, the next section's repeat plays it again:
        the same tempo, unless that section changes it), and the part before ends with its
        ``:|``, which plays it twice. A part written after the tempo change (``Q:1/4=60``, then
        ``P:B``) stays after the merged bar, the change alone going before it, where it ends the
        part before, as abc2midi plays it; a change written after that ``P:B`` stays with the
        part. (After a ``:|:``, such a change stays at the part, and ends the part before
        there: `AbcTune.parts_after_tempo`.) A change moved is read in the unit it was
        written in (`AbcTune.tempo_units`), not the one in force before the merged bar."""
        at, tempos, parts = len(self.tokens), self.tempo_changes, self.part_changes
        after = _after(parts, at)
        ending = [n for n in after if n in self.parts_after_tempo]
        if ending and tempos and tempos[-1][0] > at:  # `|`, `Q:1/4=60`, `P:B`, `|:`
            self.parts_after_tempo.difference_update(ending)  # no change before them now
            units = self.tempo_units
            first = min(_after(tempos, at)) + 1  # the changes from here were written after the P:
            later, later_units = tempos[first:], units[first:]
            del tempos[first:], units[first:]
            self._move_last_tempo()
            tempos.extend(later)
            units.extend(later_units)
            return
        if tempos and tempos[-1][0] > at:
            self._move_last_tempo()
        for n in after:
            parts[n] = (at, parts[n][1])

    def _move_last_tempo(self) -> None:
        """Record the last tempo change again at the token to come (`_change_tempo`), in the
        unit it was read in where it was written."""
        self._change_tempo(self.tempo_changes.pop()[1], self.tempo_units.pop())

    def _tie(self, m: re.Match, line: str) -> None:
        prev = self.tokens[-1].kind if self.tokens else None
        if prev == "note":
            nat, pitch = self.last_note
            self.next_carry[nat] = pitch
            tied = {pitch} | (self.tied_pitches if self.in_chord else set())
        elif prev == "chord_end":
            self.next_carry.update(self.chord_notes)
            tied = {pitch for _, pitch in self.chord_notes}
        else:
            self.warnings.append(f"tie after {prev or 'nothing'} dropped (line {self.lineno})")
            return
        # a chord's inner ties (`[CE-G]`) and its outer tie are one group: dropped together
        # (`[CE-G]2-A2`), or the inner one would join E to the A
        inner = self.in_chord or prev == "chord_end"
        self.tie_at = [*self.tie_at, len(self.tokens)] if inner else [len(self.tokens)]
        self.tied_pitches = tied
        self.tokens.append(Token("tie", "-", None, None))

    def _drop_tie(self) -> None:
        """Drop the tie before a note of another pitch (a tie joins notes of one pitch: ``A3-B``
        is a slur written as a tie, as in 897 places of O'Neill's); `_build` warns once."""
        self.dropped_ties += self._delete_ties()

    def _drop_dangling_tie(self) -> None:
        """Drop a tie that no note follows (before a rest, or at the end of the tune): nothing
        sounds on, and abc2midi rejects it; `_build` warns once."""
        self.dangling_ties += self._delete_ties()

    def _delete_ties(self) -> int:
        """Delete the pending tie's tokens (all of a chord's inner ties); return 1 if any."""
        at = [i for i in self.tie_at if i < len(self.tokens) and self.tokens[i].kind == "tie"]
        if at:
            self._delete_tokens(sorted(at))
        self.tie_at = []
        return int(bool(at))

    def _delete_tokens(self, doomed: list[int]) -> None:
        """Delete the tokens at the indexes ``doomed`` (sorted, not empty), in place: the list
        from the first of them on is rebuilt once, and a meter, key, unit, tempo, program or
        ``propagate-accidentals`` change or a part recorded after one (`d4-|[M:3/4]z`), and a
        section title, moves back with the tokens (`_shift_back`)."""
        tokens, first, gone = self.tokens, doomed[0], set(doomed)
        tokens[first:] = [t for i, t in enumerate(tokens[first:], first) if i not in gone]
        # each list holds its own kind of value: `_shift_back` moves only the indexes
        changes: tuple[list[tuple[int, Any]], ...] = (
            self.meter_changes,
            self.key_changes,
            self.unit_changes,
            self.tempo_changes,
            self.part_changes,
            self.section_titles,
            self.program_changes,
            self.scope_changes,
        )
        for changed in changes:
            _shift_back(changed, doomed)

    def _drop_ties_into_other_chords(self) -> None:
        """Drop the ties into a chord that holds none of the pitches they tie (``A2-[CE]2``,
        ``[CE]2-[DF]2``, across a bar line too), a chord's inner ties with them (the ``E-`` of
        ``[CE-G]2 [DF]2`` and of ``[CE-G]2-[DF]2``): they join nothing, like a tie between two
        different notes, and are counted with those, a chord's ties once. A chord's inner and
        outer ties are one group, kept when any of their pitches reaches the next note or
        chord, as the group is against the next note as the note is read; of a kept group, an
        inner tie on a pitch that does not reach it goes (the ``E-`` of ``[C-E-]C`` and of
        ``[C-E-]|[CG]``: ABC ties each note to the next of its pitch, and abc2midi "could not
        find note to be tied"), counted once a chord. A tie into a chord is only known to be
        wrong once the chord closes, hence this pass."""
        tokens = self.tokens
        groups: dict[
            int, tuple[list[int], set[int | None], int | None]
        ] = {}  # ties, pitches, target
        chord, inside = -1, False  # the last chord's `chord_start`, and whether in it
        for i, token in enumerate(tokens):
            if token.kind in ("chord_start", "chord_end"):
                chord, inside = (i, True) if token.kind == "chord_start" else (chord, False)
                continue
            if token.kind != "tie" or i == 0 or tokens[i - 1].kind not in ("note", "chord_end"):
                continue
            if tokens[i - 1].kind == "note":
                tied = {tokens[i - 1].pitch}
            else:
                tied = set(_chord_pitches(tokens, i - 1, backwards=True))
            # a chord's ties (inner, then outer) share one group, a single note's is its own
            key = chord if inside or tokens[i - 1].kind == "chord_end" else -1 - i
            ties, pitches, _ = groups.get(key, ([], set(), None))
            groups[key] = ([*ties, i], pitches | tied, _tie_target(tokens, i, inside))
        doomed: list[int] = []
        for ties, pitches, target in groups.values():
            if target is None:
                continue
            into_chord = tokens[target].kind == "chord_start"
            reached = set(_chord_pitches(tokens, target)) if into_chord else {tokens[target].pitch}
            if into_chord and not pitches & reached:
                doomed += ties
                self.dropped_ties += 1
                continue
            # a kept group's inner tie on a pitch the next note or chord lacks joins nothing
            stray = [i for i in ties if tokens[i - 1].kind == "note"]
            stray = [i for i in stray if tokens[i - 1].pitch not in reached]
            if stray:
                doomed += stray
                self.dropped_ties += 1
        if doomed:
            self._delete_tokens(sorted(doomed))
