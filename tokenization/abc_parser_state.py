"""The state of `_TuneParser` (abc_parser.py) that its topic classes share.

`ParserState` sets it (the header's at the start, the body's as the header ends) and declares
the methods one topic class calls on another, so that mypy checks every use of them: the topic
classes (`BodyWalk`, `NotesAndChords`, `BarsAndTies`, `HeaderFields`, `HeaderDirectives`,
`TitleFields`) subclass it, and `_TuneParser` joins them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

from .abc_lexer import BODY_RE
from .abc_tune import AbcParseError, Token
from .keys import Key

__all__ = ["ParserState"]

_ONE = Fraction(1)


class ParserState:
    """Parser state for one tune, shared by the topic classes of `_TuneParser`.

    >>> state = ParserState("corpus", line_offset=4, tune_name=None)
    >>> state.title = "The Kesh"
    >>> print(state.error("bad bar", column=3))
    The Kesh: line 5, column 3: bad bar
    """

    #: lengths of the unit in force by their written text (`NotesAndChords._set_unit`)
    lens: dict[str, Fraction]

    def __init__(
        self,
        corpus_format: str,
        line_offset: int,
        tune_name: str | None,
        file_header: Sequence[tuple[str, str]] = (),
        keep_final_tie: bool = False,
    ) -> None:
        self.corpus_format = corpus_format
        self.keep_final_tie = keep_final_tie
        self.file_header = list(file_header)
        #: the tunebook's line of each of `file_header`, and its value's column (`parse_abc`'s
        #: ``file_header_lines``)
        self.file_header_lines: list[tuple[int, int]] = []
        self.ended = False
        #: semitones every note is checked at on top of its pitch (`parse_abc`'s ``pitch_shift``)
        self.pitch_shift = 0
        self.line_offset = line_offset
        self.name = tune_name
        self.lineno = line_offset + 1
        self.col = 1
        self.fields: dict[str, list[str]] = {}
        #: the header's first ``T:`` (before ``K:``); None until one is read
        self.title: str | None = None
        self.warnings: list[str] = []
        self.tokens: list[Token] = []
        self.key = Key("C", "major")
        self.keysig: dict[str, int] = self.key.accidentals
        self.key_text = ""
        self.key_given = False  # a K: field with a key (not only a clef) was read
        self.octave = 0  # semitones the notes sound from where they are written (K: octave=)
        self.meter: str | None = None
        self.header_meter: str | None = None
        #: an ``M:`` line after ``K:`` was read, and the meter in force before it: the default
        #: unit's (`HeaderFields._default_unit`)
        self.meter_after_k = False
        self.meter_at_k: str | None = None
        self.meter_changes: list[tuple[int, str | None]] = []
        self.meter_symbols: dict[int, str] = {}  # `AbcTune.meter_symbols`
        self.key_changes: list[tuple[int, Key]] = []  # `AbcTune.key_changes`
        self.unit_changes: list[tuple[int, Fraction]] = []  # `AbcTune.unit_changes`
        self.tempo_changes: list[tuple[int, str]] = []
        #: the unit each of `tempo_changes` is read in, the one in force where it was written
        #: (None: the header's, not set yet); `AbcTune.tempo_units` keeps those it is not at
        #: its token
        self.tempo_units: list[Fraction | None] = []
        self.part_changes: list[tuple[int, str]] = []  # `AbcTune.part_changes`
        self.program_changes: list[tuple[int, str]] = []  # `AbcTune.program_changes`
        self.inline_parts: list[int] = []  # `AbcTune.inline_parts`
        self.part_lines: list[int] = []  # the line of each of `part_changes`
        #: `AbcTune.parts_after_tempo`: one between two bar lines that merge stays after the
        #: merged bar, and the tempo change ends the part before it
        #: (`BarsAndTies._fields_before_merged_bar`)
        self.parts_after_tempo: set[int] = set()
        self.markings: dict[str, int] = {}  # `AbcTune.markings`
        self.section_titles: list[tuple[int, str]] = []  # `AbcTune.section_titles`
        self.unit: Fraction | None = None  # the unit in force (the body's `L:` change it)
        self.header_unit = _ONE  # the tune's `AbcTune.unit`, set as the header ends
        self.x: int | None = None
        self.x_line = line_offset + 1
        #: how far a bar's accidental reaches (`_accidental_scope`, read at the end of the header)
        self.acc_scope = "pitch"
        self.scope_changes: list[tuple[int, str]] = []  # `AbcTune.scope_changes`
        self.voices: list[str] = []  # the voices the body selects or writes in
        self.voice: str | None = None  # the kept one
        self.declared: list[str] = []  # the voices the header declares, in order
        #: the last header declaration of each voice: its value, line and column
        self.declared_options: dict[str, tuple[str, int, int]] = {}
        self.skipping = False
        self.current_voice = ""  # the voice the body writes in (`skipping` when not `voice`)
        self.n_bare = 0
        self.n_notes = 0
        self.used_flat = False
        self.key_changed = False
        self.overlaid = False  # a `&` voice overlay was read (and warned of)
        #: where the line being read had `=3D` cut to `=` (columns of errors are moved back)
        self.qp_cuts: list[int] = []
        self.tie_at: list[int] = []  # where the pending tie's tokens went (several in a chord)
        self.tied_pitches: set[int] = set()  # the pitches it ties (a chord's, or one note's)
        self.dropped_ties = 0  # ties before a note of another pitch, dropped
        self.dangling_ties = 0  # ties before a rest or at the end, dropped
        self.in_overlay = False  # skipping an overlay that runs past the end of its line
        self.body_re = BODY_RE  # `BODY_BANG_BREAK_RE` in a tune with `I:linebreak !`
        self.unknown_decorations: set[str] = set()  # those warned of (once each)
        #: the symbols ``U:`` fields define so far, and the decoration each stands for
        self.user_symbols: dict[str, str] = {}
        self.stray_marks: set[str] = set()  # reserved characters and `\\` inside a line, warned of
        self.dotted_bars: set[str] = set()  # bar lines with repeat dots inside, warned of
        self.dropped_starts: set[str] = set()  # bar lines with a start and an ending, warned of
        self.colon_endings: set[str] = set()  # lone colons with an ending (`:2`), warned of
        #: bar lines with surplus lines or dots (`|||`), by (written, read as): how many, and
        #: the first's line and column (`_surplus_bar_marks`)
        self.surplus_bars: dict[tuple[str, str], list[int]] = {}
        self.lone_bangs = 0  # `!` passed over as line breaks (`_lone_bang`), and the first's
        self.first_lone_bang = (0, 0)  # line and column
        #: where, on the line being read, the decoration name after a lone `!` ends (``!trill``
        #: not closed): its letters are not each an unknown decoration (`_lone_bang`)
        self.unclosed_deco_end = -1
        #: the section titles of voices not kept: their index in `section_titles`, their
        #: line and voice (`_other_voice_title`)
        self.other_voice_titles: dict[int, tuple[int, str]] = {}
        #: the fields of the body dropped, by letter: (line, column of an inline one)
        self.dropped_fields: dict[str, list[tuple[int, int | None]]] = {}

    # ---------------------------------------------------------------- errors
    def error(
        self, message: str, column: int | None = None, internal: bool = False
    ) -> AbcParseError:
        """An `AbcParseError` at ``column`` (by default the one being read) of the line being
        read, naming the tune (the caller raises it, or reads its column as written)."""
        name = self.name or self.title or (f"X:{self.x}" if self.x is not None else None)
        col = self.written_column(column)
        return AbcParseError(message, tune=name, line=self.lineno, column=col, internal=internal)

    def written_column(self, column: int | None = None) -> int:
        """``column`` (by default the one being read) of the line being read, counted in the
        text as written: a line read with ``=3D`` shortened to ``=`` counts the cuts back."""
        col = self.col if column is None else column
        return col + 2 * sum(cut < col - 1 for cut in self.qp_cuts)

    @property
    def body_unit(self) -> Fraction:
        """The unit in force in the body: `unit`, which the header's ``L:`` (or its default, by
        the meter) sets as the header ends (`_TuneParser._finish_header`), and never None after."""
        unit = self.unit
        if unit is None:
            raise self.error("the body is read before the header sets its unit", internal=True)
        return unit

    def _start_body(self) -> None:
        """The state of the body, set as the header ends."""
        self.pending: Fraction | None = None
        self.pended: tuple[int, Fraction] = (-1, _ONE)  # (group, factor) of the last `pending`
        #: the tokens ``[start, stop)`` the last broken rhythm lengthened, and by what factor
        self.brk_span: tuple[int, int, Fraction] = (0, 0, _ONE)
        #: the last broken rhythm's sign, line and written column, for the warning when no note
        #: completes it (``B>|]``)
        self.brk_at: tuple[str, int, int] = ("", 0, 0)
        self.in_chord = False
        self.chord_start = 0
        self.chord_col = 0
        self.last_group = 0  # index of the first token of the last note, rest or chord
        self.carry: dict[int, int] = {}
        self.next_carry: dict[int, int] = {}
        self.last_note: tuple[int, int] = (0, 0)
        #: (line, written column) of the last tuplet mark, for `_build`'s warning
        #: when no note or rest follows it (``(3`` left at the end of the tune)
        self.last_tuplet: tuple[int, int] | None = None
        self.chord_notes: list[tuple[int, int]] = []
        #: the bar's accidentals: alteration by letter (``pitch``) or natural pitch (``octave``)
        self.bar_acc: dict[str | int, int] = {}

    if TYPE_CHECKING:  # defined by one topic class (named), called by another
        # BarsAndTies (abc_bars.py)
        def _colon_ending(self, m: re.Match) -> None: ...
        def _drop_dangling_tie(self) -> None: ...
        def _drop_tie(self) -> None: ...
        def _merged_bar(self, tok: Token, written: str = "") -> Token: ...
        def _repeat_dots_inside(self, m: re.Match) -> None: ...
        def _repeat_start_dropped(self, written: str, text: str, column: int) -> None: ...
        def _stray_bar_bracket(self, m: re.Match, text: str) -> None: ...
        def _surplus_bar_marks(self, m: re.Match, text: str) -> None: ...

        # BodyWalk (abc_body.py)
        def _lex(self, line: str, start: int, end: int) -> None: ...
        def _program_change(self, value: str) -> bool: ...
        def _transpose_directive(self, text: str, line: int | None = None) -> None: ...
        def _voice_directive(self, value: str, column: int | None = None) -> None: ...

        # HeaderFields (abc_header.py)
        def _body_field(self, letter: str, value: str, column: int) -> None: ...
        def _change_tempo(self, tempo: str, unit: Fraction | None = None) -> None: ...
        def _implicit_voice(self) -> None: ...
        def _inline_field(self, letter: str, value: str, inline: bool = True) -> None: ...
        def _skipped_music(self, line: str, start: int = 0, end: int | None = None) -> None: ...
        def _header_field(self, letter: str, value: str) -> None: ...
        def _tempo_form(self, value: str, column: int | None, where: str = "") -> None: ...
        def _voice_segments(self, line: str) -> None: ...

        # HeaderDirectives (abc_header_directives.py)
        def _change_accidental_scope(self, value: str, column: int | None) -> None: ...

        # NotesAndChords (abc_notes.py)
        def _len(self, text: str, m: re.Match) -> Fraction: ...
        def _set_unit(self, unit: Fraction) -> None: ...

        # _TuneParser (abc_parser.py)
        def _note_text_after(self, lines: list[str], blank: int) -> None: ...
