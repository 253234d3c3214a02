"""Lengths, rests, chords, tuplets and broken rhythm of the ABC reader (`_TuneParser` methods).

The note itself is read in the reader's hot loop (`abc_body.BodyWalk._lex_piece`); what
changes lengths after it (``>``, ``(3``, a chord's length) and the rests and chords are here.
"""

from __future__ import annotations

import re
from fractions import Fraction

from .abc_lexer import (
    MAX_NUMBER,
    XBAR_AFTER_RE,
    ZBAR_AFTER_RE,
    decoration_ends_at,
    length_multiplier,
    read_number,
    shown,
)
from .abc_parser_state import ParserState
from .abc_tune import Token
from .measure import compound_meter, tuplet_size

__all__ = [
    "TUPLET_CUT_SHORT",
    "TUPLET_SHORT_AT_END",
    "TUPLET_WITHOUT_NOTES",
    "default_tuplet_q",
    "NotesAndChords",
]

#: What the warning about a tuplet mark that no note or rest follows says (``DFAd (3`` at the
#: end of the tune): `irish-tune check` prints it (reader_warnings.py)
TUPLET_WITHOUT_NOTES = "with no note or rest after it before the end of the tune"
#: The pattern of every warning about a tuplet that the tune ends inside: no note after it
#: (`TUPLET_WITHOUT_NOTES`) or fewer than it times (``(3DF|]``: ``with 2 of its 3 notes``)
TUPLET_SHORT_AT_END = re.compile(r"^tuplet '[^']*' with .* before the end of the tune \(line")
#: The pattern of every warning about a tuplet that the next tuplet mark starts inside
#: (``(3DF (3DFA``: ``with 2 of its 3 notes or rests before the next tuplet '(3'``)
TUPLET_CUT_SHORT = re.compile(r"^tuplet '[^']*' with .* before the next tuplet '[^']*' \(line")


_DEFAULT_Q = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}
_LEN_CACHE: dict[Fraction, dict[str, Fraction]] = {}
_BRK_AFTER = ("note", "rest", "chord_end", "tie")
#: a bar line right at a place in a line: what a stray ``]`` before it (``=d8]|``) is next to
_BAR_AT_RE = re.compile(r":*\[?\||:")


def default_tuplet_q(p: int, meter: str | None) -> int:
    """The ABC 2.1 default q of a tuplet ``(p`` (p notes in the time of q) in ``meter``.

    >>> default_tuplet_q(3, "6/8"), default_tuplet_q(5, "4/4"), default_tuplet_q(5, "6/8")
    (2, 2, 3)
    """
    if p in _DEFAULT_Q:
        return _DEFAULT_Q[p]
    return 3 if compound_meter(meter) else 2


class NotesAndChords(ParserState):
    """Length, rest, chord, tuplet and broken-rhythm handling of `_TuneParser` (the parser
    subclasses this).

    The parser supplies the state these methods read and write (`tokens`, `unit`, `lens`,
    `pending`, `in_chord`...), `error` for positioned errors, `_lex` (an ABC 1.x chord's
    notes) and `_drop_dangling_tie`.
    """

    def _set_unit(self, unit: Fraction) -> None:
        self.unit = unit
        cache = _LEN_CACHE.get(unit)
        if cache is None:
            if len(_LEN_CACHE) > 64:
                _LEN_CACHE.clear()
            cache = _LEN_CACHE[unit] = {"": unit}
        self.lens = cache

    def _len(self, text: str, m: re.Match) -> Fraction:
        try:
            dur = self.body_unit * length_multiplier(text)
        except ValueError as exc:
            self.col = m.start() + 1
            raise self.error(str(exc)) from None
        if len(self.lens) < 256:
            self.lens[text] = dur
        return dur

    def _brk(self, m: re.Match, line: str) -> None:
        if not self.in_chord and (not self.tokens or self.tokens[-1].kind == "bar"):
            self._drop_opening_brk(m)
            return
        if self.in_chord or not self.tokens or self.tokens[-1].kind not in _BRK_AFTER:
            raise self.error(f"broken rhythm {m[0]!r} without a preceding note")
        if self.pending is not None:  # `A><B`, `A>>>>B`, `A> >B`: no length can be made of it
            raise self.error(
                f"broken rhythm {m[0]!r} right after another one, with no note between"
            )
        short = Fraction(1, 2 ** len(m[0]))
        first, second = (2 - short, short) if m[0][0] == ">" else (short, 2 - short)
        tokens = self.tokens
        factor = first
        if self.pended[0] == self.last_group:
            # a chain `a>b>c`: b already took the first pair's factor p; the two pairs each
            # move a share of b's written length, so b gets p + first - 1 (not p * first)
            applied = self.pended[1]
            if applied + first > 1:
                factor = (applied + first - 1) / applied
        for i in range(self.last_group, len(tokens)):
            tok = tokens[i]
            if tok.dur is not None:
                tokens[i] = tok._replace(dur=tok.dur * factor)
        self.pending = second
        self.brk_span = (self.last_group, len(tokens), factor)
        self.brk_at = (m[0], self.lineno, self.written_column())

    def _drop_opening_brk(self, m: re.Match) -> None:
        """Drop, with a warning naming its line and column, a broken rhythm that opens a bar or
        the tune (``|:>eg>f``, ``:||:>AG``): no note before it takes the dot, and abc2midi and
        abcm2ps pass it over too. One with anything else before it (a tuplet mark, or inside a
        chord: ``[cc>]G``, which may belong after the chord) stays an error."""
        where = "the tune" if not self.tokens else "a bar"
        self.warnings.append(
            f"broken rhythm {m[0]!r} at the start of {where}, with no note before it, dropped "
            f"(line {self.lineno}, column {self.written_column()})"
        )

    def _undo_pending_brk(self) -> None:
        """Give the group before a broken rhythm that no note completes (``B>|]``) its length
        back: `_brk` lengthened it at once, and half a dot is no rhythm. Warns with the sign's
        line and column."""
        start, stop, factor = self.brk_span
        tokens = self.tokens
        for i in range(start, stop):
            tok = tokens[i]
            if tok.dur is not None:
                tokens[i] = tok._replace(dur=tok.dur / factor)
        self.pending = None
        sign, line, column = self.brk_at
        self.warnings.append(
            f"broken rhythm {sign!r} at the end of the tune ignored (line {line}, column {column})"
        )

    def _tup(self, m: re.Match, line: str) -> None:
        if self.in_chord:  # a chord's notes sound together: nothing in it can be a tuplet
            raise self.error(f"tuplet {m[0]!r} inside a chord")
        # the numbers are read by `read_number`: `int` raises on more than 4,300 digits
        p = read_number(m["tp"], 64)
        if p is None or p < 2:
            raise self.error(f"bad tuplet {shown(m[0])}: p is 2 to 64")
        q = read_number(m["tq"]) if m["tq"] else default_tuplet_q(p, self.meter)
        r = read_number(m["tr"]) if m["tr"] else p
        if not q or not r:
            raise self.error(f"bad tuplet {shown(m[0])}: q and r are 1 to {MAX_NUMBER}")
        # the short form only where readers of the tokens, who know the header's meter and not
        # a later [M:], take the same q from it
        short = q == default_tuplet_q(p, self.header_meter) and r == p
        text = f"({p}" if short else f"({p}:{q}:{r}"
        self.warnings += self._tuplet_short_of_notes(f"the next tuplet {text!r}")
        self.last_tuplet = (self.lineno, self.written_column())
        self.tokens.append(Token("tuplet", text, None, Fraction(q, p)))

    def _tuplet_short_of_notes(self, before: str = "the end of the tune") -> list[str]:
        """A warning naming the line and column of the last tuplet mark read when fewer notes
        or rests follow it than it times, ``before`` the end of the tune (``DFAd (3``: none;
        ``(3DF|]``) or the next tuplet mark (``(3DF (3DFA``: the bar check counts the notes
        of a tuplet another cuts short as taking no time), so the notes it has are not timed
        as written. It is kept as written, as a dangling tie's mark is not, because the token
        indexes of later changes must not move. The reader counts a tuplet's notes across bar
        lines (so does `bar_report`)."""
        # the last tuplet token is the last mark read: `_build` may have dropped tokens since
        # (a dangling tie), so its place is saved without its index
        at = None if self.last_tuplet is None else _last_tuplet_index(self.tokens)
        if self.last_tuplet is None or at is None:
            return []
        text = self.tokens[at].text
        kinds = [token.kind for token in self.tokens[at + 1 :]]
        members, wanted = _tuplet_members_after(kinds), tuplet_size(text)
        if members >= wanted:
            return []
        line, column = self.last_tuplet
        # with none, before the end of the tune, it says `TUPLET_WITHOUT_NOTES`
        what = (
            f"{members} of its {wanted} notes or rests" if members else "no note or rest after it"
        )
        return [f"tuplet {text!r} with {what} before {before} (line {line}, column {column})"]

    def _rest(self, m: re.Match, line: str) -> None:
        if self.in_chord:
            self.warnings.append(f"rest inside a chord dropped (line {self.lineno})")
            return
        dur = self.lens.get(m["rl"]) or self._len(m["rl"], m)
        if m[0][0] == "x" and self._decorates_bar(m, line):
            self.warnings.append(
                f"decorated invisible rest {m[0]!r} before a bar line read as a decoration of "
                f"the bar line, with no length (line {self.lineno})"
            )
            return
        self._append_rest(dur)

    @staticmethod
    def _decorates_bar(m: re.Match, line: str) -> bool:
        """Whether an invisible rest is the old way of putting a decoration on a bar line: a
        decorated `x` with nothing but spaces or annotations before the next bar line on its line
        (O'Neill's `G2 Hx||`, a fermata over the double bar). ABC gives `x` a
        length, but there it only carries the symbol: counted, it would lengthen the bar."""
        # both looks are anchored at the rest: linear over a line of `x8|` (`decoration_ends_at`)
        return bool(XBAR_AFTER_RE.match(line, m.end())) and decoration_ends_at(line, m.start())

    def _append_rest(self, dur: Fraction) -> None:
        if self.next_carry:  # `A2-z2`: the tie has no note to join
            self._drop_dangling_tie()
        self.carry, self.next_carry = {}, {}
        if self.pending is not None:
            self.pended = (len(self.tokens), self.pending)
            dur, self.pending = dur * self.pending, None
        self.last_group = len(self.tokens)
        self.tokens.append(Token("rest", "z", None, dur))

    def _mrest(self, m: re.Match, line: str) -> None:
        """``Z`` / ``Zn``, a rest of n whole bars (ABC 2.1 §4.5), written alone in its bar: read
        as n full-bar rests (``z`` of the meter's length), bar lines between. Without a meter
        (or over 256 bars) it is a rest of n units (``L:``), with a warning that says so; one
        that shares its bar with notes is read by `_mrest_in_bar`."""
        count = read_number(m["mn"]) if m["mn"] else 1  # `int` raises on 4,300+ digits
        if count is None:
            raise self.error(f"multi-measure rest {shown(m[0])} too long: above {MAX_NUMBER}")
        if self.in_chord or count == 0:
            raise self.error(f"bad multi-measure rest {m[0]!r}")
        first = not self.tokens or self.tokens[-1].kind == "bar"
        if not first or not ZBAR_AFTER_RE.match(line, m.end()):
            self._mrest_in_bar(m, line, count, first)
            return
        if self.meter is None or count > 256:
            why = "no meter gives a bar's length" if self.meter is None else "256 bars at most"
            plural = "" if count == 1 else "s"
            self.warnings.append(
                f"multi-measure rest {m[0]!r} read as a rest of {count} unit{plural} "
                f"(L:{self.unit}), not {count} bar{plural}: {why} (line {self.lineno}, column "
                f"{self.written_column()})"
            )
            self._append_rest(self.body_unit * count)
            return
        for i in range(count):
            if i:
                self.tokens.append(Token("bar", "|", None, None))
            self._append_rest(Fraction(self.meter))

    def _mrest_in_bar(self, m: re.Match, line: str, count: int, first: bool) -> None:
        """A ``Z`` that shares its bar with notes, which ABC 2.1 does not write: read as ``z``,
        a rest of its length in units (``L:``), with a warning. In the books it is a ``z`` set
        in the wrong case (O'Neill's ``G3 ZAB`` in 6/8, ``G4 Z2 ||`` in 3/4), and so it fits."""
        ends_bar = ZBAR_AFTER_RE.match(line, m.end()) is not None
        shares = "before it" if ends_bar else "after it" if first else "before and after it"
        plural = "" if count == 1 else "s"
        self.warnings.append(
            f"multi-measure rest {m[0]!r} shares its bar with notes {shares}: read as z, a rest "
            f"of {count} unit{plural} (L:{self.unit}) (line {self.lineno}, column "
            f"{self.written_column()})"
        )
        self._append_rest(self.body_unit * count)

    def _cs(self, m: re.Match, line: str) -> None:
        if self.in_chord:
            raise self.error("nested chord")
        self.carry, self.next_carry = self.next_carry, {}
        self.chord_ties = self.tie_at  # given back if the chord is an empty `[]`, dropped
        self.tie_at = []  # a tie into a chord stays; its inner ties start a new group
        self.in_chord, self.chord_start, self.chord_notes = True, len(self.tokens), []
        self.chord_col, self.chord_line = self.col, self.lineno
        self.tokens.append(Token("chord_start", "[", None, None))

    def _oldchord(self, m: re.Match, line: str) -> None:
        """An ABC 1.x chord `+CEG+` (`+ff+` and other names stay decorations)."""
        self._cs(m, line)
        self._lex(line, m.start("oc"), m.end("oc"))
        self._close_chord("", m)

    def _ce(self, m: re.Match, line: str) -> None:
        if not self.in_chord and self._stray_chord_end(m, line):
            return
        if self.in_chord and not self.chord_notes and len(self.tokens) == self.chord_start + 1:
            self._drop_empty_chord(m)
            return
        self._close_chord(m["cl"], m)

    def _stray_chord_end(self, m: re.Match, line: str) -> bool:
        """Drop, with a warning naming its line and column, a ``]`` that closes no chord right
        before a bar line or right after one with an ending (``=d8]|``, ``=C]:||2``, ``|1]D3``):
        a ``|]`` or ``[|`` typed the wrong way round, which abcm2ps and abc2midi pass over too;
        return whether it was one. Elsewhere (``=E2=G2][FA]``: a ``[`` lost, or a stray
        ``]``?) it stays an error."""
        at, tokens = m.start(), self.tokens
        last_bar = bool(tokens) and tokens[-1].kind == "bar"
        after_bar = last_bar and at > 0 and line[at - 1] in "|:0123456789"
        if m["cl"] or not (after_bar or _BAR_AT_RE.match(line, m.end())):
            return False
        side = "after" if after_bar else "before"
        self.warnings.append(
            f"']' without a chord {side} a bar line dropped (line {self.lineno}, column "
            f"{self.written_column()})"
        )
        return True

    def _drop_empty_chord(self, m: re.Match) -> None:
        """Drop an empty chord ``[]`` (``c2[]:||:``), with a warning naming its line and the
        column of its ``[``: it holds nothing to play, and abcm2ps passes it over too. A tie
        or broken rhythm before it goes on to the note after it."""
        self.tokens.pop()
        self.in_chord, self.next_carry, self.tie_at = False, self.carry, self.chord_ties
        column = self.written_column(self.chord_col)  # as written (`=3D` cuts counted back)
        self.warnings.append(
            f"empty chord [{m[0]} dropped (line {self.chord_line}, column {column})"
        )

    def _close_chord(self, length: str, m: re.Match) -> None:
        if not self.in_chord:
            raise self.error("']' without a chord")
        if not self.chord_notes:
            raise self.error("empty chord")
        factor = self.lens.get(length) or self._len(length, m)
        factor /= self.body_unit
        if self.pending is not None:
            self.pended = (self.chord_start, self.pending)
            factor, self.pending = factor * self.pending, None
        tokens = self.tokens
        if factor != 1:
            for i in range(self.chord_start, len(tokens)):
                tok = tokens[i]
                if tok.kind == "note" and tok.dur is not None:  # a note always has a length
                    tokens[i] = tok._replace(dur=tok.dur * factor)
        self.in_chord, self.last_group = False, self.chord_start
        self.tokens.append(Token("chord_end", "]", None, None))


def _last_tuplet_index(tokens: list[Token]) -> int | None:
    """The index of the last tuplet mark among ``tokens``, or None when they hold none.

    >>> _last_tuplet_index([Token("tuplet", "(3", None, None), Token("note", "D", 62, None)])
    0
    """
    return next((i for i in range(len(tokens) - 1, -1, -1) if tokens[i].kind == "tuplet"), None)


def _tuplet_members_after(kinds: list[str]) -> int:
    """How many notes, rests or chords (one member each, as `MeasureTracker` counts them) the
    token ``kinds`` after a tuplet mark hold.

    >>> _tuplet_members_after(["note", "chord_start", "note", "note", "chord_end", "bar", "rest"])
    3
    """
    members, in_chord = 0, False
    for kind in kinds:
        if kind == "chord_start":
            in_chord = True
            members += 1
        elif kind == "chord_end":
            in_chord = False
        elif kind in ("note", "rest") and not in_chord:
            members += 1
    return members
