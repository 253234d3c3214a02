"""Reading ABC sources into raw tune texts: tunebook files, folders, thesession.org dumps and
music21's bundled books (O'Neill's 1850, Ryan's Mammoth). Used by `modeling_irish.abc_corpus`."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import itertools
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from tokenization.abc_header import (
    file_header_fields,
    file_header_transposes,
    split_tunebook,
    split_tunebook_noted,
    x_number,
)
from tokenization.capped_warnings import CappedWarnings, masked

logger = logging.getLogger(__name__)

__all__ = [
    "MUSIC21_COLLECTIONS",
    "RawTune",
    "SourceLike",
    "iter_abc_tunes",
    "iter_raw_tunes",
    "music21_collection_files",
    "no_tune_reason",
    "session_tune_text",
    "source_files",
    "source_warnings",
    "text_tunes",
    "text_without_tunes",
    "warn_no_tunes",
]

SourceLike = Union[str, os.PathLike, None]

#: music21's bundled Irish collections: name -> folder under ``music21.common.getCorpusFilePath()``.
MUSIC21_COLLECTIONS = {"oneills1850": "oneills1850", "ryansMammoth": "ryansMammoth"}
#: Collections numbered through the whole book (``X:`` is the tune number in the printed book), so
#: two transcriptions of one number in different files are settings of one tune.
_BOOK_NUMBERED = {"oneills1850"}
#: The meter that a thesession tune type implies (not ``march``: 2/4, 4/4 and 6/8 all occur),
#: for a dump row without one.
_TYPE_METERS = {
    **dict.fromkeys(("reel", "hornpipe", "barndance", "strathspey"), "4/4"),
    **{"jig": "6/8", "slip jig": "9/8", "slide": "12/8", "polka": "2/4", "three-two": "3/2"},
    **dict.fromkeys(("waltz", "mazurka"), "3/4"),
}


@dataclass(frozen=True)
class RawTune:
    """One tune's text and where it came from (``prefix`` builds ids of tunes without ``S:``:
    ``prefix:X``, or ``prefix:lineN`` when ``x_unique`` is false, i.e. another tune of its file
    has the same ``X:`` number). ``line``: the file line of its ``X:``; ``header_lines``: the
    file-header fields written into ``text`` after that line (see `file_line`). ``unreadable``:
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
        the file header written into the text maps to the tune's first line.

        >>> RawTune("b.abc", "b", "X:1\\nL:1/16\\nK:G\\nGA|", 10, header_lines=1).file_line(4)
        12
        """
        past_header = tune_line - 1 - self.header_lines
        return self.line + max(past_header, 0)

    @property
    def line_offset(self) -> int:
        """What to add to a line of ``text`` past its file-header fields for the file's line
        (`parse_abc(..., line_offset=)`)."""
        return self.line - 1 - self.header_lines

    def locate(self, err: Exception) -> str:
        """``err`` (an `AbcParseError` of `text`) with where the tune is (`file_name`) and the
        file's line; a dump row's line counts in the tune text built from the row, and says so
        (the dump has no such line). A row that gives no tune (``unreadable``) has no text to
        fail: its error is why it gives none.

        >>> from tokenization.abc_parser import AbcParseError
        >>> err = AbcParseError("bar line inside a chord", tune="Kesh", line=8, column=17)
        >>> RawTune("t.json", "t", "X:2", 1, row=2).locate(err)
        't.json row 2: Kesh: line 8 of its tune text, column 17: bar line inside a chord'
        """
        from tokenization.abc_parser import AbcParseError

        if self.unreadable:  # its text is empty: "tune has no notes" would hide the reason
            return f"{self.file_name}: {self.unreadable}"
        if not isinstance(err, AbcParseError) or err.line is None:
            return f"{self.file_name}: {err}"
        if self.row:
            at = f"line {err.line} of its tune text, column {err.column}"
            return f"{self.file_name}: {err.tune or 'tune'}: {at}: {err.message}"
        moved = AbcParseError(
            err.message, tune=err.tune, line=self.file_line(err.line), column=err.column
        )
        return f"{self.file_name}: {moved}"


def _read_text(path: Path, said: CappedWarnings | None = None) -> str:
    """The text of one file: UTF-8, else Windows-1252 line by line (old tunebooks), a warning
    about a file that mixes the two in ``said`` when given (`read_abc_file`)."""
    from tokenization.check import read_abc_file

    return read_abc_file(path, said)


#: The kinds of the warnings of reading sources (`source_warnings`): the first few of each kind
#: are shown, then one line counts them all by reason.
_NO_TUNES = "files without tunes"
_NOT_READ = "tunes with text not read"
_SHARED_X = "files whose tunes share X: numbers"


def source_warnings() -> CappedWarnings:
    """The warnings of reading sources, capped (a folder of 2,000 files, many of them empty or
    messy, would flood the terminal): files (or sources) that hold no tune, with why; text of a
    tune not read; files whose tunes share ``X:`` numbers."""
    return CappedWarnings(logger)


def warn_no_tunes(said: CappedWarnings, source: Any, why: str) -> None:
    """Name ``source``, which holds no tune, and ``why`` (`no_tune_reason`) in ``said``."""
    said.warn(_NO_TUNES, why, "no ABC tunes found in %s (%s)", source, why)


def _tunebook_tunes(
    path: Path, source: str, prefix: str, said: CappedWarnings
) -> Iterator[RawTune]:
    """The tunes of one file (`text_tunes`)."""
    yield from text_tunes(_read_text(path, said), source, prefix, said)


def text_tunes(
    text: str, source: str, prefix: str | None = None, said: CappedWarnings | None = None
) -> Iterator[RawTune]:
    """The tunes of a tunebook's text (a file's, or stdin's), each with its line in the text so
    that errors name it. ``X:`` numbers name tunes only when the text keeps them unique; many
    hand-made tunebooks number every tune ``X:1``, and those tunes are told apart by line (else
    they would all be one tune, in one split). ``prefix`` (of ids): ``source`` by default.
    Lines of music after the blank line that ends a tune (in the free text before the next) are
    not read, and a warning names them, as `parse_abc` warns; another names a ``%%begintext``
    block without ``%%endtext``, ended at the next ``X:`` line (`split_tunebook_noted`), and
    another a ``%%MIDI transpose`` or ``%%transpose`` directive in the file header, not read,
    once for the file (`file_header_transposes`; an ``I:`` one is written into every tune, and
    read with it, `with_file_header`). The
    warnings go to ``said`` (`source_warnings`, which the caller closes), else to this text's.

    >>> [(raw.line, raw.text.splitlines()[0]) for raw in text_tunes("%\\nX:1\\nK:G\\nG|", "s")]
    [(2, 'X:1')]
    """
    prefix = source if prefix is None else prefix
    own = said is None
    said = source_warnings() if said is None else said
    found = []
    for line, tune, notes in split_tunebook_noted(text, standalone=True):
        for note in notes:
            where = (source, line + 1, note)
            said.warn(_NOT_READ, masked(note), "%s: the tune at line %d: %s", *where)
        found.append((line + 1, tune))
    for note in file_header_transposes(text):  # once for the file, not in each tune
        if note.startswith("%%"):  # an `I:` one is written into each tune, which says it
            said.warn(_NOT_READ, masked(note), "%s: %s", source, note)
    unix = text.replace("\r\n", "\n").replace("\r", "\n")  # as split_tunebook reads it
    if file_header_fields(unix):  # lines of each tune as written, without the file header
        written = [tune.count("\n") for _, tune in split_tunebook(text)]
    else:  # (most books: no file header, nothing written in)
        written = [tune.count("\n") for _, tune in found]
    # counted as the ids read them (`X: 1` is `X:1`); a tune without a number is named by line
    numbers = Counter(x_number(tune) for _, tune in found)
    repeated = sum(n for number, n in numbers.items() if n > 1 and number)
    if repeated:
        said.warn(
            _SHARED_X,
            "ids from line numbers",
            "%s: %d tunes share their X: number with another tune of the file; their ids come "
            "from their line numbers",
            source,
            repeated,
        )
    if own:
        said.close()
    for (line, tune), own in zip(found, written):
        unique = numbers[x_number(tune)] == 1
        yield RawTune(source, prefix, tune, line, unique, tune.count("\n") - own)


def _abc_files(folder: Path, recursive: bool = True) -> list[Path]:
    """``*.abc`` files (any case) of a folder, sorted by relative path."""
    found = folder.rglob("*") if recursive else folder.glob("*")
    paths = [p for p in found if p.suffix.lower() == ".abc" and p.is_file()]
    return sorted(paths, key=lambda p: p.relative_to(folder).as_posix())


def _folder_tunes(folder: Path, said: CappedWarnings) -> Iterator[RawTune]:
    """The tunes of every ``*.abc`` file of a folder; a file that holds none is named in a
    warning, with why (the other files' tunes would hide it), as ``said`` caps them. Ids
    start with the folder's own name however its path is written (``.``, ``sub/..``,
    absolute): ``Path(".").name`` is "" and ``Path("sub/..").name`` is "..", which would give
    one folder other ids, hence other ``"hash"`` splits, from another working folder."""
    name = Path(os.path.abspath(folder)).name  # lexically: a symlinked folder keeps its name
    for path in _abc_files(folder):
        rel = path.relative_to(folder).with_suffix("").as_posix()
        found = False
        for raw in _tunebook_tunes(path, str(path), f"{name}/{rel}", said):
            found = True
            yield raw
        if not found:
            warn_no_tunes(said, path, no_tune_reason(path))


def text_without_tunes(text: str, empty: str = "empty file") -> str:
    """Why a text in which `text_tunes` finds no tune holds none: ``empty`` when it is blank.

    >>> text_without_tunes("MThd\\x00\\x00"), text_without_tunes("Some words.")
    ('not a text file (NUL bytes)', 'a tune starts with an X: line')
    """
    if not text.strip():
        return empty
    if "\x00" in text:
        return "not a text file (NUL bytes)"
    return "a tune starts with an X: line"


def no_tune_reasons(sources: Sequence[SourceLike]) -> str:
    """`no_tune_reason` of each source, as the commands list them: ``"a.abc: empty file;
    b.abc: no such file or folder"``.

    >>> no_tune_reasons([Path("no such folder")])
    'no such folder: no such file or folder'
    """
    return "; ".join(f"{source}: {no_tune_reason(source)}" for source in sources)


def no_tune_reason(source: SourceLike) -> str:
    """Why a file, folder or dump that `iter_raw_tunes` finds no tune in holds none, as
    ``irish-tune check`` says it: ``"empty file"``, ``"not a text file (NUL bytes)"``, ...

    >>> no_tune_reason(Path(__file__).parent / "no such folder")
    'no such file or folder'
    """
    if source is None:  # music21's books: never without tunes, unless music21 lost them
        return "music21's corpus holds no tune"
    path = Path(_check_source(source))
    if path.is_dir():
        count = len(_abc_files(path))
        return f"none of its {count} *.abc files holds a tune" if count else "no *.abc files"
    if not path.exists():
        return "no such file or folder"
    if not path.is_file():  # a pipe, read already: it cannot be read again to say why
        return "nothing it gave holds a tune"
    if path.suffix.lower() in (".json", ".csv"):
        return "no dump row gives a tune"
    return text_without_tunes(_read_text(path))


def _music21_folder(name: str) -> Path:
    try:
        from music21 import common
    except ImportError as err:  # pragma: no cover - music21 is a dependency
        raise ImportError(
            "the embedded default corpus needs music21 (pip install music21)"
        ) from err
    return Path(common.getCorpusFilePath()) / MUSIC21_COLLECTIONS[name]


def music21_collection_files(name: str) -> list[Path]:
    """The ``*.abc`` files of one of music21's bundled collections, or of both for
    ``"music21"``.

    >>> len(music21_collection_files("oneills1850")) > 10
    True
    """
    if name == "music21":
        return [p for one in MUSIC21_COLLECTIONS for p in music21_collection_files(one)]
    if name not in MUSIC21_COLLECTIONS:
        raise ValueError(f"{name!r} is not one of 'music21', {sorted(MUSIC21_COLLECTIONS)}")
    return _abc_files(_music21_folder(name), recursive=False)


def _music21_tunes(name: str, said: CappedWarnings) -> Iterator[RawTune]:
    """The tunes of one of music21's books: ``source`` the book's name (ids and the corpus's
    ``source`` column are the book's), ``file`` its file, for messages that name the line."""
    for path in music21_collection_files(name):
        prefix = name if name in _BOOK_NUMBERED else f"{name}/{path.stem}"
        file = f"{name}/{path.name}"
        for raw in _tunebook_tunes(path, name, prefix, said):
            yield dataclasses.replace(raw, file=file)


def _session_mode(mode: str) -> str:
    """thesession's ``"Edorian"`` -> ``"E dorian"`` (the dumps glue tonic and mode together).
    A mode that names no tonic is returned as it is (``"missing"`` when empty): the reader then
    rejects the tune and the loader counts it, rather than reading it in C major."""
    found = re.match(r"^\s*([A-Ga-g][#b]?)\s*(.*?)\s*$", mode or "")
    if not found:  # left as it is, so that the reader rejects it and the tune is counted
        return (mode or "").strip() or "missing"
    tonic, name = found.group(1), found.group(2)
    return f"{tonic[0].upper()}{tonic[1:]} {name}".strip()


def _field(row: dict[str, Any], name: str) -> str:
    """A dump row's field as text: a number (JSON ``"name": 1916``) written out, a whole float
    (``2.0``, as pandas writes an id column with gaps) as the whole number, "" when the field
    is missing, null, NaN or neither text nor a number; text with its HTML character
    references decoded (`_unescaped`).

    >>> _field({"name": 1916, "mode": None, "type": [1]}, "name"), _field({}, "mode")
    ('1916', '')
    >>> _field({"setting_id": 2.0}, "setting_id"), _field({"tune_id": float("nan")}, "tune_id")
    ('2', '')
    """
    value = row.get(name)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    if isinstance(value, float):
        if value != value:  # NaN: pandas' missing cell
            return ""
        if value.is_integer():
            return str(int(value))
    return _unescaped(value) if isinstance(value, str) else str(value)


#: An HTML character reference, with its closing ``;``: thesession.org's dumps keep names and
#: ABC as its web pages escape them (``Cooley&#039;s``, ``&quot;Em&quot;EBBA``, ``&amp;``).
_CHARACTER_REFERENCE = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def _unescaped(text: str) -> str:
    """``text`` with its HTML character references decoded: left escaped, ``&quot;`` around a
    chord symbol was read as a voice overlay ``&`` and stray letters, and ``&#039;`` kept a
    title from linking to the same title written ``'``. Only references ended by ``;``: ABC's
    own ``&`` (a voice overlay, ``&deg`` is one before the notes d e g) stays as it is.

    >>> print(_unescaped("Cooley&#039;s &amp; &quot;Em&quot;E2 &deg &nosuch;"))
    Cooley's & "Em"E2 &deg &nosuch;
    """
    return _CHARACTER_REFERENCE.sub(lambda found: html.unescape(found.group()), text)


def _header(row: dict[str, Any], name: str) -> str:
    """A dump row's field as one header line: runs of whitespace, line breaks among them, made
    one space (a line break would end the field and break the tune).

    >>> _header({"name": " Two\\n lines "}, "name")
    'Two lines'
    """
    return " ".join(_field(row, name).split())


def _session_meter(row: dict[str, Any]) -> str:
    """A dump row's meter; when it has none, the one its type implies (`_TYPE_METERS`), else ""
    (no ``M:``: free meter, as ABC 2.1 reads a tune without one).

    >>> [_session_meter(row) for row in ({"meter": "6/8"}, {"type": "Slip Jig"}, {"type": "march"})]
    ['6/8', '9/8', '']
    """
    return _header(row, "meter") or _TYPE_METERS.get(_header(row, "type").lower(), "")


def session_tune_text(row: dict[str, Any], x: int) -> str:
    """Full ABC text of one thesession.org dump row (the dump's ``abc`` is only the body, blank
    lines left out so that they do not end the tune; a ``composer``, which newer dumps have,
    becomes a ``C:`` field). Numbers among the fields are written out, HTML character
    references decoded (``Cooley&#039;s``, `_unescaped`), and runs of whitespace in a header
    field (a line break in a name) made one space. A row without a meter gets the one
    its type implies, else no ``M:`` (`_session_meter`).

    >>> print(session_tune_text({"tune_id": 1, "setting_id": 1, "name": "Kesh, The", "type": "jig",
    ...     "meter": "6/8", "mode": "Gmajor", "abc": "GAG GAB|"}, 1), end="")
    X:1
    T:Kesh, The
    S:https://thesession.org/tunes/1#setting1
    R:jig
    M:6/8
    L:1/8
    K:G major
    GAG GAB|
    """
    head = [f"X:{x}", f"T:{_header(row, 'name')}"]
    tune_id, setting_id = _header(row, "tune_id"), _header(row, "setting_id")
    if tune_id:
        setting = f"#setting{setting_id}" if setting_id else ""
        head.append(f"S:https://thesession.org/tunes/{tune_id}{setting}")
    composer = _header(row, "composer")  # newer dumps carry it; kept as metadata
    if composer:
        head.append(f"C:{composer}")
    if _header(row, "type"):
        head.append(f"R:{_header(row, 'type')}")
    meter = _session_meter(row)
    head += [f"M:{meter}"] if meter else []
    head += ["L:1/8", f"K:{_session_mode(_header(row, 'mode'))}"]
    body = _field(row, "abc").replace("\r\n", "\n").replace("\r", "\n")
    # the field is one tune: a blank line between its parts must not end it (ABC 2.1)
    body = "\n".join(line for line in body.split("\n") if line.strip())
    return "\n".join(head) + "\n" + body + "\n"


#: The largest field a ``.csv`` dump may hold: the ``csv`` module's default, 128 KiB, refused
#: a long but real tune (a whole suite in one setting); far above any tune, far below memory.
CSV_FIELD_LIMIT = 16 * 2**20


def _session_rows(path: Path) -> list[Any]:
    """The rows of a thesession.org dump (``.json``, maybe wrapped as ``{"tunes": [...]}``, or
    ``.csv``), as they are: rows that give no tune are told apart by `_unreadable_row`. A file
    that cannot be read as one (invalid JSON or CSV, nested too deeply, a field over
    `CSV_FIELD_LIMIT`) is a `ValueError` that names it and why: "not a thesession.org dump"."""
    if path.suffix.lower() == ".json":
        rows = _json_rows(path)
    else:  # decoded as the other sources: Excel's "CSV UTF-8" BOM dropped, Latin-1 fallback
        rows = _csv_rows(path)
    # a dump if any row has the field (a CSV's rows all have its header's): a row without it,
    # first or not, is skipped and counted (`_unreadable_row`), not the whole file rejected
    if rows and not any(isinstance(row, dict) and "abc" in row for row in rows):
        raise ValueError(f"{path} is not a thesession.org dump (no row has an 'abc' field)")
    return rows


def _json_rows(path: Path) -> list[Any]:
    """The rows of a ``.json`` dump: its list, or the first list of its object."""
    try:
        rows = json.loads(_read_text(path))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not a thesession.org dump (invalid JSON: {err})") from None
    except RecursionError:  # json's decoder recurses once a level: `[[[[...` ran out of stack
        raise ValueError(
            f"{path} is not a thesession.org dump (invalid JSON: arrays or objects nested too "
            "deeply to read)"
        ) from None
    if isinstance(rows, dict):  # some dumps wrap the list: {"tunes": [...]}
        rows = next((v for v in rows.values() if isinstance(v, list)), None)
    if not isinstance(rows, list):
        raise ValueError(f"{path} is not a thesession.org dump (no list of tunes)")
    return rows


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a ``.csv`` dump, read strictly: a quote left open ran to the end of the
    file and silently made the rows after it part of its field. The field limit is raised to
    `CSV_FIELD_LIMIT` for the read (and put back: it is the ``csv`` module's, for everyone)."""
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""), strict=True)
    rows: list[dict[str, Any]] = []
    end = 0  # the last line of the rows read so far: a row that fails starts after it
    limit = csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        end = 1 if reader.fieldnames else 0  # the header line (none in an empty file)
        for row in reader:
            rows.append(row)
            end = reader.reader.line_num
    except csv.Error as err:
        why = _csv_error(str(err), end + 1, reader.reader.line_num)
        raise ValueError(f"{path} is not a thesession.org dump ({why})") from None
    finally:
        csv.field_size_limit(limit)
    return rows


def _csv_error(message: str, start: int, stop: int) -> str:
    """Why a ``.csv`` dump cannot be read, as its `csv.Error` ``message`` says, for the row
    that starts at line ``start`` and was read to line ``stop``.

    >>> print(_csv_error("unexpected end of data", 2, 9))
    invalid CSV: a quote opened in the row at line 2 is never closed, and runs to the end of the
    file, line 9
    """
    if message == "unexpected end of data":
        return (
            f"invalid CSV: a quote opened in the row at line {start} is never closed, and runs "
            f"to the end of the file, line {stop}"
        )
    if message.startswith("field larger than field limit"):
        return (
            f"the row at line {start} has a field over {CSV_FIELD_LIMIT // 2**20} MiB, far "
            "longer than any tune"
        )
    return f"invalid CSV in the row at line {start}: {message}"


def _unreadable_row(row: Any) -> str:
    """Why a dump row gives no tune, or "" when it gives one."""
    if not isinstance(row, dict):
        return f"dump row that is not an object ({type(row).__name__})"
    if not isinstance(row.get("abc"), str) or not row["abc"].strip():
        return "dump row without ABC text in 'abc'"
    return ""


def _session_tunes(path: Path) -> Iterator[RawTune]:
    """A dump's rows as tunes (X: is the row number). Their text is built from the row, so
    error lines count in that text (line 1 is its X:), as `irish-tune check` gives them. A row
    that gives no tune is a `RawTune` with its ``unreadable`` reason, and named in a warning;
    rows without a meter are counted in another (`_session_meter`)."""
    unreadable, no_meter = [], Counter()
    for x, row in enumerate(_session_rows(path), start=1):
        reason = _unreadable_row(row)
        if reason:
            unreadable.append(f"row {x}: {reason}")
        elif not _header(row, "meter"):
            no_meter[_session_meter(row) or "free"] += 1
        text = "" if reason else session_tune_text(row, x)
        yield RawTune(str(path), path.stem, text, 1, unreadable=reason, row=x)
    if unreadable:
        shown = "; ".join(unreadable[:5]) + ("; ..." if len(unreadable) > 5 else "")
        logger.warning("%s: %d rows give no tune (%s)", path, len(unreadable), shown)
    if no_meter:
        logger.warning(
            "%s: %d rows have no meter; M: from their type, or none (free meter): %s",
            path, no_meter.total(), dict(no_meter.most_common()),
        )  # fmt: skip


def _one_source(source: str | os.PathLike | None, said: CappedWarnings) -> Iterator[RawTune]:
    if source is None or source == "music21":
        for name in MUSIC21_COLLECTIONS:
            yield from _music21_tunes(name, said)
        return
    path = Path(source)
    if path.is_dir():
        yield from _folder_tunes(path, said)
    elif path.exists():  # a file, or a pipe (``<(cat a.abc)``, /dev/stdin): read once
        if path.suffix.lower() in (".json", ".csv"):
            yield from _session_tunes(path)
        else:
            yield from _tunebook_tunes(path, str(path), path.stem, said)
    elif str(source) in MUSIC21_COLLECTIONS:
        yield from _music21_tunes(str(source), said)
    else:
        raise _missing(source)


def _missing(source: Any) -> FileNotFoundError:
    return FileNotFoundError(
        f"ABC source {source!r} is neither a file, a folder, 'music21' nor one of "
        f"{sorted(MUSIC21_COLLECTIONS)}"
    )


def source_files(source: SourceLike) -> list[Path]:
    """The files one source reads, resolved as `iter_abc_tunes` resolves it (for cache keys).

    >>> [p.name for p in source_files("oneills1850")][:1]
    ['0001-0050.abc']
    """
    if _check_source(source) is None or str(source) == "music21":
        return music21_collection_files("music21")
    path = Path(source)
    if path.is_dir():
        return _abc_files(path)
    if path.is_file():
        return [path]
    if path.exists():  # a pipe: read once, by the loader, so no file to fingerprint
        return []
    if str(source) in MUSIC21_COLLECTIONS:
        return music21_collection_files(str(source))
    raise _missing(source)


def _check_source(source: SourceLike) -> SourceLike:
    """``source``, unless it is the empty string: ``Path("")`` is the current folder, and every
    ``*.abc`` file under it would be read."""
    if isinstance(source, str) and source == "":
        raise ValueError(
            "an ABC source is the empty string; give a file, a folder ('.' for the current "
            f"one), 'music21' or one of {sorted(MUSIC21_COLLECTIONS)}"
        )
    return source


def _sources(source: SourceLike | Sequence[SourceLike]) -> list[SourceLike]:
    """The sources as a list (``source`` is one, or a list or tuple of them), none empty.

    >>> _sources("oneills1850"), _sources(("a.abc", None))
    (['oneills1850'], ['a.abc', None])
    """
    sources = list(source) if isinstance(source, (list, tuple)) else [source]
    return [_check_source(one) for one in sources]


class _Prefixes:
    """Id prefixes kept apart across the sources of one read. A prefix that another file gave
    first (``book`` of ``a/book.abc`` and of ``b/book.abc``; ``tunes`` of ``tunes.json`` and of
    ``tunes.csv``) is lengthened by more of its file's path (``b/book``), else numbered
    (``book~2``): otherwise unrelated tunes would share ids and be forced into one split. The
    first file keeps its prefix, so a source added after the others changes none of their ids.

    >>> prefixes = _Prefixes()
    >>> [prefixes.claim(RawTune(s, "book", "", 1)).prefix for s in ("a/book.abc", "b/book.abc")]
    ['book', 'b/book']
    """

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}  # prefix -> the file (or collection) that has it
        self._given: dict[tuple[str, str], str] = {}  # (file, prefix asked) -> prefix given
        self._files: dict[str, str] = {}  # raw.source -> the file it names, resolved

    def _file(self, source: str) -> str:
        if source not in self._files:
            real = os.path.realpath(source) if os.path.isfile(source) else source
            self._files[source] = real
        return self._files[source]

    def claim(self, raw: RawTune) -> RawTune:
        """``raw``, with a prefix that no other file has."""
        owner = self._file(raw.source)
        key = (owner, raw.prefix)
        if key not in self._given:
            free = next(p for p in _longer_prefixes(raw) if self._owner.get(p, owner) == owner)
            self._owner[free] = owner
            self._given[key] = free
        prefix = self._given[key]
        return raw if prefix == raw.prefix else dataclasses.replace(raw, prefix=prefix)


def _longer_prefixes(raw: RawTune) -> Iterator[str]:
    """``raw.prefix``, then (when it is the end of its file's path, suffix dropped) that path
    with one more folder each time, then the prefix numbered ``~2``, ``~3``...

    >>> list(itertools.islice(_longer_prefixes(RawTune("/m/a/book.abc", "book", "", 1)), 4))
    ['book', 'a/book', 'm/a/book', 'book~2']
    """
    yield raw.prefix
    names = Path(os.path.abspath(raw.source)).with_suffix("").parts[1:]  # (no root)
    kept = raw.prefix.count("/") + 1
    if "/".join(names[-kept:]) == raw.prefix:
        for more in range(kept + 1, len(names) + 1):
            yield "/".join(names[-more:])
    yield from (f"{raw.prefix}~{n}" for n in itertools.count(2))


def iter_raw_tunes(
    source: SourceLike | Sequence[SourceLike],
    unreadable: bool = False,
    said: CappedWarnings | None = None,
) -> Iterator[RawTune]:
    """Every tune of the sources (as `iter_abc_tunes` takes them) with where it came from: its
    text, file, line and id prefix (`RawTune`), so that errors can name the file line. One of
    several sources that holds no tune is logged as a warning (the others' tunes would hide it;
    a single empty source yields nothing, and the callers say so in their error). Dump rows
    that give no tune (named in a warning) are yielded, with their ``unreadable`` reason, only
    with ``unreadable``: the loader counts them as skipped. Id prefixes are unique across the
    sources (`_Prefixes`): the tunes of two files named alike do not share ids.

    The warnings of reading are capped (`source_warnings`: of each kind, the first few, then
    one line that counts them all by reason, once all are read); a caller that reads several
    times passes its own ``said``, and closes it when done.

    >>> next(iter_raw_tunes("oneills1850")).prefix
    'oneills1850'
    """
    sources, prefixes = _sources(source), _Prefixes()
    capped = source_warnings() if said is None else said
    for one in sources:
        found = False
        for raw in _one_source(one, capped):
            found = True
            if unreadable or not raw.unreadable:
                yield prefixes.claim(raw)
        if not found and len(sources) > 1:
            warn_no_tunes(capped, one, no_tune_reason(one))
    if said is None:
        capped.close()


def iter_abc_tunes(source: SourceLike | Sequence[SourceLike] = None) -> Iterator[tuple[str, str]]:
    """Yield ``(source_name, abc_text)`` for every tune of one or several sources, unparsed.

    ``source`` is a tunebook file, a folder (``*.abc`` found recursively), a thesession.org dump
    (``tunes.json`` / ``tunes.csv``, turned into full tunes with X/T/S/R/M/L/K headers),
    ``"oneills1850"``, ``"ryansMammoth"``, ``"music21"`` or ``None`` (both music21 books), or a
    list of these.

    >>> name, text = next(iter_abc_tunes("oneills1850"))
    >>> name, text.splitlines()[0]
    ('oneills1850', 'X: 1')
    """
    for raw in iter_raw_tunes(source):
        yield raw.source, raw.text
