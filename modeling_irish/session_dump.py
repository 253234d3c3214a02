"""Reading thesession.org dumps (github.com/adactio/TheSession-data: ``tunes.json``, one array of
objects, or ``tunes.csv``, a header row then one row per setting; also ``tunes.jsonl``, one
object a line; any of them gzip, bzip2 or xz compressed) into rows, and a row into the full ABC
text of its tune: the dump's ``abc`` is the body only, the header is built from the other
fields. Used by `modeling_irish.abc_sources`, which makes the rows tunes."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
from pathlib import Path
from typing import Any

from tokenization.file_bytes import dump_text_format  # re-exported: its home until it moved
from tokenization.rhythm_types import TYPE_METERS

__all__ = [
    "CSV_FIELD_LIMIT",
    "DUMP_SUFFIXES",
    "NotADumpError",
    "dump_format",
    "dump_text_format",
    "escaped_line_breaks",
    "session_tune_text",
    "dump_field",
    "dump_header",
    "session_meter",
    "session_rows",
    "unreadable_row",
]

#: The suffixes of thesession.org dumps, and how each is read; a compression suffix after one
#: (``tunes.csv.gz``) is dropped first (`uncompressed_name`).
DUMP_SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def dump_format(path: str | os.PathLike) -> str | None:
    """How the file at ``path`` is read as a dump (``"csv"``, ``"json"``, ``"jsonl"``), from
    its name, or None for a file read as ABC.

    >>> dump_format("tunes.CSV.gz"), dump_format("tunes.ndjson"), dump_format("book.abc.gz")
    ('csv', 'jsonl', None)
    """
    from tokenization.file_bytes import uncompressed_name

    return DUMP_SUFFIXES.get(Path(uncompressed_name(path)).suffix.lower())


#: The meter that a thesession tune type implies, for a dump row without one: `TYPE_METERS`,
#: but not ``march`` (2/4, 4/4 and 6/8 all occur: a row without a meter is read in free meter).
_TYPE_METERS = {rhythm: meter for rhythm, meter in TYPE_METERS.items() if rhythm != "march"}


def _read_text(path: Path) -> str:
    """A dump's text, decoded as the other sources are (`tokenization.check.read_abc_file`):
    Excel's "CSV UTF-8" byte-order mark dropped, a line that is not UTF-8 read as
    Windows-1252."""
    from tokenization.check import read_abc_file

    return read_abc_file(path)


def _session_mode(mode: str) -> str:
    """thesession's ``"Edorian"`` -> ``"E dorian"`` (the dumps glue tonic and mode together).
    A mode that names no tonic is returned as it is (``"missing"`` when empty): the reader then
    rejects the tune and the loader counts it, rather than reading it in C major."""
    found = re.match(r"^\s*([A-Ga-g][#b]?)\s*(.*?)\s*$", mode or "")
    if not found:  # left as it is, so that the reader rejects it and the tune is counted
        return (mode or "").strip() or "missing"
    tonic, name = found.group(1), found.group(2)
    return f"{tonic[0].upper()}{tonic[1:]} {name}".strip()


def dump_field(row: dict[str, Any], name: str) -> str:
    """A dump row's field as text: a number (JSON ``"name": 1916``) written out, a whole float
    (``2.0``, as pandas writes an id column with gaps) as the whole number, "" when the field
    is missing, null, NaN or neither text nor a number; text with its HTML character
    references decoded (`_unescaped`).

    >>> dump_field({"name": 1916, "mode": None, "type": [1]}, "name"), dump_field({}, "mode")
    ('1916', '')
    >>> dump_field({"setting_id": 2.0}, "setting_id")
    '2'
    >>> dump_field({"tune_id": float("nan")}, "tune_id")
    ''
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


def dump_header(row: dict[str, Any], name: str) -> str:
    """A dump row's field as one header line: runs of whitespace, line breaks among them, made
    one space (a line break would end the field and break the tune).

    >>> dump_header({"name": " Two\\n lines "}, "name")
    'Two lines'
    """
    return " ".join(dump_field(row, name).split())


def session_meter(row: dict[str, Any]) -> str:
    """A dump row's meter; when it has none, the one its type implies (`_TYPE_METERS`), else ""
    (no ``M:``: free meter, as ABC 2.1 reads a tune without one).

    >>> [session_meter(row) for row in ({"meter": "6/8"}, {"type": "Slip Jig"}, {"type": "march"})]
    ['6/8', '9/8', '']
    """
    return dump_header(row, "meter") or _TYPE_METERS.get(dump_header(row, "type").lower(), "")


def session_tune_text(row: dict[str, Any], x: int) -> str:
    """Full ABC text of one thesession.org dump row (the dump's ``abc`` is only the body, blank
    lines left out so that they do not end the tune; a ``composer``, which newer dumps have,
    becomes a ``C:`` field). Numbers among the fields are written out, HTML character
    references decoded (``Cooley&#039;s``, `_unescaped`), and runs of whitespace in a header
    field (a line break in a name) made one space. A row without a meter gets the one
    its type implies, else no ``M:`` (`session_meter`). A body on one line whose line breaks
    are written ``\\n`` (an export that escaped them) has them made line breaks
    (`escaped_line_breaks`).

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
    head = [f"X:{x}", f"T:{dump_header(row, 'name')}"]
    tune_id, setting_id = dump_header(row, "tune_id"), dump_header(row, "setting_id")
    if tune_id:
        setting = f"#setting{setting_id}" if setting_id else ""
        head.append(f"S:https://thesession.org/tunes/{tune_id}{setting}")
    composer = dump_header(row, "composer")  # newer dumps carry it; kept as metadata
    if composer:
        head.append(f"C:{composer}")
    if dump_header(row, "type"):
        head.append(f"R:{dump_header(row, 'type')}")
    meter = session_meter(row)
    head += [f"M:{meter}"] if meter else []
    head += ["L:1/8", f"K:{_session_mode(dump_header(row, 'mode'))}"]
    body = dump_field(row, "abc")
    if escaped_line_breaks(body):  # an export that wrote its line breaks as \n
        body = _ESCAPED_BREAK.sub("\n", body)
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    # the field is one tune: a blank line between its parts must not end it (ABC 2.1)
    body = "\n".join(line for line in body.split("\n") if line.strip())
    return "\n".join(head) + "\n" + body + "\n"


#: A line break written as the two characters ``\n`` (or ``\r\n``), as exports that escape them
#: write it (MySQL's ``INTO OUTFILE``, a ``to_csv(escapechar=...)``, JSON encoded twice).
_ESCAPED_BREAK = re.compile(r"\\r\\n|\\n")


def escaped_line_breaks(body: str) -> bool:
    r"""Whether a dump row's ABC ``body`` holds its line breaks escaped: no real line break, and
    the two characters ``\n`` (a backslash, an n), which mean nothing in ABC's music (a
    backslash there joins its line to the next). Read as they are, the parser passed over
    them silently; `session_tune_text` makes them line breaks, and the reader says so in a
    warning. ABC files are read as they are.

    >>> escaped_line_breaks(r"GABc|dBGB|\nGABc|d2B2|"), escaped_line_breaks("GABc|\ndBGB|\\n")
    (True, False)
    """
    return "\n" not in body and "\r" not in body and "\\n" in body


#: The largest field a ``.csv`` dump may hold: the ``csv`` module's default, 128 KiB, refused
#: a long but real tune (a whole suite in one setting); far above any tune, far below memory.
CSV_FIELD_LIMIT = 16 * 2**20


class NotADumpError(ValueError):
    """A file read as a thesession.org dump (by its suffix) that is not one: ``path`` (as the
    message names it) and ``why``, kept apart so that a caller can name the file as its user
    typed it (`named`).

    >>> str(NotADumpError("t.json", "no list of tunes").named("../t.json"))
    '../t.json is not a thesession.org dump (no list of tunes)'
    """

    def __init__(self, path: str | os.PathLike, why: str) -> None:
        super().__init__(f"{path} is not a thesession.org dump ({why})")
        self.path, self.why = path, why

    def named(self, name: str) -> NotADumpError:
        """The same error, naming the file ``name``."""
        return NotADumpError(name, self.why)


def session_rows(path: Path) -> list[Any]:
    """The rows of a thesession.org dump (``.json``, maybe wrapped as ``{"tunes": [...]}``,
    ``.jsonl``, or ``.csv``; compressed or not: `dump_format`), as they are: rows that give no
    tune are told apart by `unreadable_row`. A file that cannot be read as one (invalid JSON
    or CSV, nested too deeply, a field over `CSV_FIELD_LIMIT`) is a `ValueError` that names it
    and why: "not a thesession.org dump"."""
    kind = dump_format(path)
    if kind == "json":
        rows = _json_rows(path)
    elif kind == "jsonl":
        rows = _jsonl_rows(path)
    else:  # decoded as the other sources: Excel's "CSV UTF-8" BOM dropped, Latin-1 fallback
        rows = _csv_rows(path)
    # a dump if any row has the field (a CSV's rows all have its header's): a row without it,
    # first or not, is skipped and counted (`unreadable_row`), not the whole file rejected
    if rows and not any(isinstance(row, dict) and "abc" in row for row in rows):
        raise NotADumpError(path, "no row has an 'abc' field")
    return rows


def _json_rows(path: Path) -> list[Any]:
    """The rows of a ``.json`` dump: its list, or the first list of its object."""
    try:
        rows = json.loads(_read_text(path))
    except json.JSONDecodeError as err:
        # a second value after the first: JSON lines (one object a line) named .json
        lines = "; one JSON object a line is read from a .jsonl file" * (err.msg == "Extra data")
        raise NotADumpError(path, f"invalid JSON: {err}{lines}") from None
    except RecursionError:  # json's decoder recurses once a level: `[[[[...` ran out of stack
        raise NotADumpError(path, _TOO_DEEP) from None
    if isinstance(rows, dict):  # some dumps wrap the list: {"tunes": [...]}
        rows = next((v for v in rows.values() if isinstance(v, list)), None)
    if not isinstance(rows, list):
        raise NotADumpError(path, "no list of tunes")
    return rows


#: Why JSON nested too deeply (``[[[[...``) is not read: json's decoder recurses once a level.
_TOO_DEEP = "invalid JSON: arrays or objects nested too deeply to read"


def _jsonl_rows(path: Path) -> list[Any]:
    """The rows of a ``.jsonl`` (``.ndjson``) dump: one JSON value a line, blank lines passed
    over; a line that is not JSON is a `ValueError` that names its line."""
    rows = []
    for number, line in enumerate(_read_text(path).split("\n"), start=1):  # not splitlines: \u2028
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            why = f"invalid JSON on line {number}: {err}"
            raise NotADumpError(path, why) from None
        except RecursionError:
            why = f"{_TOO_DEEP}, line {number}"
            raise NotADumpError(path, why) from None
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
        raise NotADumpError(path, why) from None
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


def unreadable_row(row: Any) -> str:
    """Why a dump row gives no tune, or "" when it gives one."""
    if not isinstance(row, dict):
        return f"dump row that is not an object ({type(row).__name__})"
    if not isinstance(row.get("abc"), str) or not row["abc"].strip():
        return "dump row without ABC text in 'abc'"
    return ""
