"""One tune's text as read from a source, and where it came from (`RawTune`): what
`modeling_irish.abc_sources` reads and `tokenization.corpus_rows` parses. Here, beside the
reader, so that a worker process that parses tunes imports the reader only, not torch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .abc_header import text_tune_name

if TYPE_CHECKING:
    from .abc_tune import AbcParseError

__all__ = ["RawTune"]


@dataclass(frozen=True)
class RawTune:
    """One tune's text and where it came from (``prefix`` builds ids of tunes without ``S:``:
    ``prefix:X``, or ``prefix:lineN`` when ``x_unique`` is false, i.e. another tune of its file
    has the same ``X:`` number). ``line``: the file line of its ``X:``; ``header_lines``: the
    file-header fields written into ``text`` after that line (see `file_line`); ``header_at``:
    where each of those is in the file, its line and its value's column (`file_header_lines`;
    empty: not known, the ``X:`` line stands for them), where an error of one is said, as
    ``irish-tune check`` says it (`locate`). ``unreadable``:
    why a dump row gives no tune (not an object, no ABC text), its ``text`` then empty: the
    loader counts it as skipped under that reason. ``row``: a dump row's number (1-based; its
    ``X:``), 0 for a tunebook's tune. ``file``: the file of a collection's tune
    (``oneills1850/0732-0758_bs.abc``), named in messages (`file_name`) where ``source`` names
    the collection; ``source`` alone feeds ids and the corpus's ``source`` column."""

    source: str
    prefix: str
    text: str
    line: int
    x_unique: bool = True
    header_lines: int = 0
    unreadable: str = ""
    row: int = 0
    file: str = ""
    header_at: tuple[tuple[int, int], ...] = ()

    @property
    def file_name(self) -> str:
        """Where the tune's lines count, as messages name it: ``file``, else ``source``; for a
        dump row, the row (``t.json row 3``): its lines count in the tune text built from it.

        >>> RawTune("oneills1850", "oneills1850", "X:1", 3, file="oneills1850/0001-0050.abc").place
        'oneills1850/0001-0050.abc line 3'
        """
        where = self.file or self.source
        return f"{where} row {self.row}" if self.row else where

    @property
    def place(self) -> str:
        """Where the tune is: its file and the line of its ``X:``, or its dump row.

        >>> RawTune("b.abc", "b", "X:1", 10).place, RawTune("t.csv", "t", "", 1, row=3).place
        ('b.abc line 10', 't.csv row 3')
        """
        return self.file_name if self.row else f"{self.file_name} line {self.line}"

    def file_line(self, tune_line: int) -> int:
        """The line of the file that holds line ``tune_line`` (1-based) of ``text``; a line of
        the file header written into the text maps to its line in the file header
        (``header_at``), else to the tune's first line.

        >>> from dataclasses import replace
        >>> raw = RawTune("b.abc", "b", "X:1\\nL:1/16\\nK:G\\nGA|", 10, header_lines=1)
        >>> raw.file_line(4), raw.file_line(2), replace(raw, header_at=((2, 3),)).file_line(2)
        (12, 10, 2)
        """
        place = self._header_place(tune_line)
        if place is not None:
            return place[0]
        past_header = tune_line - 1 - self.header_lines
        return self.line + max(past_header, 0)

    def _header_place(self, tune_line: int) -> tuple[int, int] | None:
        """The file's line and value column (``header_at``) of line ``tune_line`` of ``text``
        when it is a file-header field written in whose place is known, else None."""
        written = tune_line - 2  # the fields are written in after the X: line
        known = min(self.header_lines, len(self.header_at))
        return self.header_at[written] if 0 <= written < known else None

    @property
    def line_offset(self) -> int:
        """What to add to a line of ``text`` past its file-header fields for the file's line
        (`parse_abc(..., line_offset=)`)."""
        return self.line - 1 - self.header_lines

    @property
    def name(self) -> str:
        """How messages name the tune, as `irish-tune check` names it: `file_name`, then its
        ``X:`` and title (`text_tune_name`).

        >>> RawTune("b.abc", "b", "X:3\\nT:Cooley's\\nK:Edor\\nEB|", 10).name
        "b.abc: X:3 Cooley's"
        """
        return f"{self.file_name}: {text_tune_name(self.text) or 'tune'}"

    @property
    def read_offset(self) -> int:
        """The ``line_offset`` to read ``text`` with (`parse_abc`) so that its warnings name the
        lines of the file: `line_offset`, or 0 for a dump row (its lines count in its tune
        text, as `locate` counts them).

        >>> RawTune("b.abc", "b", "X:1", 10).read_offset, RawTune("t", "", "", 1, row=3).read_offset
        (9, 0)
        """
        return 0 if self.row else self.line_offset

    def own_warnings(self, warnings: Sequence[str], line_offset: int = 0) -> list[str]:
        """``warnings`` of ``text`` read with ``line_offset`` (`parse_abc`), less those of the
        transposing directives of the file header written into it (``I:MIDI transpose -2``,
        `with_file_header`) and of its ``Q:`` whose beat is not ABC 2.1 (``Q:=120``,
        `tempo_form_warning`): `text_tunes` says each once for the file, naming its line there,
        where every tune said it again, naming the line it was written into.

        >>> from tokenization.abc_parser import parse_abc
        >>> raw = RawTune("b.abc", "b", "X:1\\nI:MIDI transpose 2\\nK:G\\nGA|", 3, header_lines=1)
        >>> parse_abc(raw.text).warnings, raw.own_warnings(parse_abc(raw.text).warnings)
        (['I:MIDI transpose 2 not read (line 2): the notes are read and played as written'], [])
        """
        from tokenization.abc_tempo import tempo_form_warning
        from tokenization.abc_tunebook import transpose_directive_warning

        written = self.text.split("\n")[1 : 1 + self.header_lines]
        said = {
            transpose_directive_warning(line, line_offset + n) for n, line in enumerate(written, 2)
        }
        said |= {  # as the reader says a tune's own Q: field line
            tempo_form_warning(line[2:], f"line {line_offset + n}")
            for n, line in enumerate(written, 2)
            if line.startswith("Q:")
        }
        return [warning for warning in warnings if warning not in said]

    def read_warnings(self) -> list[str]:
        """What the reader leaves out of or changes in ``text`` (`parse_abc`'s warnings, of a
        tune that reads), at the lines of its file (a dump row's at those of its tune text, as
        `locate` counts them), less what its file said once (`own_warnings`).

        >>> RawTune("b.abc", "b", "X:1\\nK:G\\nG!foo!A|", 10).read_warnings()
        ['unknown decoration !foo! dropped (line 12, column 2)']
        """
        from tokenization.abc_parser import parse_abc

        offset = self.read_offset
        return self.own_warnings(parse_abc(self.text, line_offset=offset).warnings, offset)

    def locate(self, err: Exception) -> str:
        """``err`` (an `AbcParseError` of `text`) with where the tune is (`file_name`) and the
        file's line; a dump row's line counts in the tune text built from the row, and says so
        (the dump has no such line). The tune is named by its ``X:`` and title, as ``irish-tune
        check`` names it (`text_tune_name`), else as ``err`` does. A row that gives no tune
        (``unreadable``) has no text to fail: its error is why it gives none.

        >>> from tokenization.abc_parser import AbcParseError
        >>> err = AbcParseError("bar line inside a chord", tune="Kesh", line=8, column=17)
        >>> RawTune("t.json", "t", "X:2\\nT:Kesh\\nK:G\\nG[A|", 1, row=2).locate(err)
        't.json row 2: X:2 Kesh: line 8 of its tune text, column 17: bar line inside a chord'
        """
        from tokenization.abc_parser import AbcParseError

        if self.unreadable:  # its text is empty: "tune has no notes" would hide the reason
            return f"{self.file_name}: {self.unreadable}"
        if not isinstance(err, AbcParseError) or err.line is None:
            return f"{self.file_name}: {err}"
        name = text_tune_name(self.text) or err.tune  # X: and title, as `irish-tune check`
        if self.row:
            at = f"line {err.line} of its tune text, column {err.column}"
            return f"{self.file_name}: {name or 'tune'}: {at}: {err.message}"
        place = self._header_place(err.line)
        if place is None:
            moved = AbcParseError(
                err.message, tune=name, line=self.file_line(err.line), column=err.column
            )
            return f"{self.file_name}: {moved}"
        return f"{self.file_name}: {self._header_error(err, name, place)}"

    def _header_error(
        self, err: AbcParseError, name: str | None, place: tuple[int, int]
    ) -> AbcParseError:
        """``err``, of a file-header field written into ``text`` (at ``place`` in the file: its
        line and value's column), at its line and column there, said to be the file header's,
        as the reader says it in the tunebook (`inherited_field_error`)."""
        from tokenization.abc_parser import AbcParseError
        from tokenization.abc_tunebook import DIRECTIVE, inherited_field_error

        assert err.line is not None
        written = self.text.split("\n")[err.line - 1]
        letter = "I" if written.startswith(DIRECTIVE) else written[:1]
        line, column = place
        at = err.column  # in the value (from column 3 of the line written), else as it is
        if at is not None and at >= 3:
            at += column - 3
        message = inherited_field_error(err.message, letter)
        return AbcParseError(message, tune=name, line=line, column=at)
