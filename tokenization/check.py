"""Read, tokenize and round-trip every tune of ABC files; the engine of `irish-tune check`. The
round trip itself is round_trip.py's, the report's counts check_report.py's."""

from __future__ import annotations

import codecs
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from .abc_header import split_tunebook, text_tune_name, tune_name
from .abc_parser import (
    AbcParseError,
    AbcTune,
    TuneChunk,
    read_chunk,
    refuse_normalised_out_of_midi,
    tunebook_chunks,
)
from .bar_check import BarReport, bar_report
from .capped_warnings import CappedWarnings
from .check_report import BarCounts, CheckReport, PlacedTune, UnreadableTune
from .features import TuneRows
from .file_bytes import (
    NOT_TEXT,
    abc_files,
    decompressed,
    dump_text_reason,
    no_abc_files_error,
    read_file_bytes,
    warn_passed_over,
)
from .kept_warnings import kept_warnings
from .reader_warnings import TUNE_WARNINGS_SHOWN, not_as_written, tune_warnings, warn_tune
from .round_trip import first_difference, parse_abc_strict, round_trip_rows
from .worker_pool import WorkerPool

__all__ = [
    "MIXED_ENCODINGS",
    "TUNE_WARNINGS_SHOWN",
    "BarCounts",
    "CheckReport",
    "PlacedTune",
    "UnreadableTune",
    "check_files",
    "check_text",
    "decode_abc",
    "is_binary_text",
    "parse_abc_strict",
    "read_abc_file",
    "read_stdin",
    "round_trip_rows",
]

logger = logging.getLogger(__name__)


def _tune_name(source: str, tune: AbcTune | AbcParseError, text: str) -> str:
    """How check's report names a tune of ``source``, whether it was read or not (its ``text``
    then: a failure was named by its title alone, and collections repeat titles): the file,
    the tune's ``X:`` and title (`tune_name`); a failure's line is its error's.

    >>> _tune_name("b.abc", AbcParseError("bar line inside a chord"), "X:2\\nT:Same\\nK:G\\nG[A|")
    'b.abc: X:2 Same'
    """
    if isinstance(tune, AbcParseError):
        name = text_tune_name(text)
    else:
        name = tune_name(tune.fields.get("X", [""])[0], tune.title)
    return f"{source}: {name}" if name else source


#: The kind of the writer's warnings about a tune (`_caught_round_trip`)
_KEY_RESPELLED = "key written in another spelling"


def _caught_round_trip(tune: AbcTune, said: list[tuple[str, str]]) -> tuple[TuneRows, TuneRows]:
    """`round_trip_rows` of one tune, its writer's warnings (a key beyond 7 sharps or flats,
    written in its usual spelling) added to ``said`` as ``(kind, message)``, which
    `check_text` logs with the file and tune: as Python warnings they named a line of this
    module, no tune, and showed once a run. They are kept for this thread (`kept_warnings`),
    not caught with ``warnings.catch_warnings``, which swaps the warning state of every
    thread: two checks in threads gave each other their warnings, or lost them."""
    with kept_warnings() as kept:
        try:
            rows, again, _ = round_trip_rows(tune)
        finally:
            said += [(_KEY_RESPELLED, message) for message in kept]
    return rows, again


@dataclass(frozen=True)
class _TuneJob:
    """One tune to check (`_check_chunk`), as it goes to a worker process: its text, the
    ``source`` and ``lines_of`` its name and failure say (see `check_text`), and ``bars``."""

    chunk: TuneChunk
    source: str
    lines_of: str
    bars: bool


@dataclass(frozen=True)
class _TuneChecked:
    """What `_check_chunk` found of one tune: its ``name``, whether it ``parsed``, why it
    failed (``error``, None when its round trip held), the ``(kind, message)`` of the warnings
    to log for it, in order, and its bar check (``bars``, without the bars themselves)."""

    name: str
    parsed: bool
    error: str | None
    said: list[tuple[str, str]]
    bars: BarReport | None = None


@dataclass(frozen=True)
class _TextStart:
    """Where a text's tunes start among a file's items (`_file_items`): the warnings of its
    file header, which its first tune read says (`tunebook_chunks`)."""

    header_warnings: list[str]


@dataclass(frozen=True)
class _FileFailure:
    """A failure of a whole file among a file's items (`CheckReport.add_file_failure`)."""

    name: str
    error: str


#: What `_check_items` adds up, in a file's order: tunes to check, and what reading it found
_Item = _TextStart | _TuneJob | _FileFailure | UnreadableTune


def _read_as_tokenized(chunk: TuneChunk) -> AbcTune | AbcParseError:
    """The tune of ``chunk`` (`read_chunk`), or the `AbcParseError` the reader of the corpus
    and of every model command (`read_tune`) gives it: also one for a note that moving onto
    the white keys takes out of MIDI's 0-127 (`refuse_normalised_out_of_midi`), at that note,
    whose rows no tokenizer takes (its round trip, at the pitches as written, holds)."""
    tune = read_chunk(chunk)
    if isinstance(tune, AbcParseError):
        return tune
    try:
        refuse_normalised_out_of_midi(tune, chunk.text, chunk.start, chunk.file_header)
    except AbcParseError as err:
        return err
    return tune


def _check_chunk(job: _TuneJob) -> _TuneChecked:
    """Read, tokenize and round-trip one tune (in a worker process, or in this one)."""
    tune = _read_as_tokenized(job.chunk)
    name = _tune_name(job.source, tune, job.chunk.text)
    if isinstance(tune, AbcParseError):
        where = ""
        if tune.line is not None:
            where = f"line {tune.line}{job.lines_of}, column {tune.column}: "
        return _TuneChecked(name, False, f"parse: {where}{tune.message}", [])
    said = not_as_written(tune.warnings)
    bars = replace(bar_report(tune), bad_bars=[]) if job.bars else None
    try:
        rows, again = _caught_round_trip(tune, said)
    except (AbcParseError, ValueError) as err:
        return _TuneChecked(name, True, f"round trip: {err}", said, bars)
    if rows.rows() == again.rows() and rows.measure_numbers == again.measure_numbers:
        return _TuneChecked(name, True, None, said, bars)
    return _TuneChecked(name, True, first_difference(rows, again), said, bars)


def _text_items(text: str, source: str, bars: bool, lines_of: str = "") -> list[_Item]:
    """The items of one tunebook text for `_check_items`: a `_TextStart`, a `_TuneJob` a tune,
    and a failure of ``source`` as a file when it holds text but no tune: a thesession.org dump
    (on stdin, or in a file not named as one) is said to be one (`dump_text_reason`)."""
    header_warnings, chunks = tunebook_chunks(text)
    jobs = [_TuneJob(chunk, source, lines_of, bars) for chunk in chunks]
    items: list[_Item] = [_TextStart(header_warnings), *jobs]
    if not jobs and text.strip():
        why = dump_text_reason(text) or (
            "a tune starts with an X: line, or is a block with a K: line"
        )
        items.append(_FileFailure(source, f"no tune found ({why})"))
    return items


def _check_items(
    items: list[_Item],
    report: CheckReport,
    said: CappedWarnings,
    progress: Callable[[], object] | None,
    pool: WorkerPool,
) -> None:
    """Add to ``report`` the items of one file, in order: its tunes (`_TuneJob`), checked by
    ``pool``, and the failures found reading it (`_FileFailure`, `UnreadableTune`); the
    warnings about its tunes go to ``said``."""
    checked = pool.map(_check_chunk, [item for item in items if isinstance(item, _TuneJob)])
    header_warnings: list[str] = []
    for item in items:
        if isinstance(item, _TextStart):
            header_warnings = item.header_warnings
        elif isinstance(item, UnreadableTune):
            _add_unreadable(report, item.where, item.error, progress)
        elif isinstance(item, _FileFailure):
            report.add_file_failure(item.name, item.error)
        else:
            tune = next(checked)
            if tune.parsed:  # the first tune read says the file header's warnings
                tune_said, header_warnings = not_as_written(header_warnings) + tune.said, []
                _add_checked(report, tune, tune_said, said, progress)
            else:
                _add_checked(report, tune, [], said, progress)


def _add_checked(
    report: CheckReport,
    tune: _TuneChecked,
    tune_said: list[tuple[str, str]],
    said: CappedWarnings,
    progress: Callable[[], object] | None,
) -> None:
    """Count one checked tune in ``report``, and log the warnings ``tune_said`` of it."""
    report.tunes += 1
    if progress is not None:
        progress()
    report.parsed += tune.parsed
    for kind, message in tune_said:  # a pass would hide them
        warn_tune(said, tune.name, kind, message)
    if tune.bars is not None:
        assert report.bars is not None  # a run that checks bars counts them
        report.bars.add_report(tune.name, tune.bars)
    if tune.error is None:
        report.round_trip_ok += 1
    else:
        report.failures.append({"tune": tune.name, "error": tune.error})


def check_text(
    text: str,
    source: str = "<text>",
    report: CheckReport | None = None,
    bars: bool = False,
    progress: Callable[[], object] | None = None,
    lines_of: str = "",
    said: CappedWarnings | None = None,
    pool: WorkerPool | None = None,
) -> CheckReport:
    """Check every tune of one tunebook text, adding to ``report``; with ``bars``, also check
    that every full bar of each parsed tune sums to its meter. ``progress`` is called once a
    tune (a progress bar's ``update``); ``lines_of`` follows a failure's line number when the
    lines are not those of ``source`` (" of its tune text" for a dump row). The warnings about
    tunes go to ``said`` (`tune_warnings`, which the caller closes: the first
    `TUNE_WARNINGS_SHOWN` of each kind), else to one of this text's.
    ``pool`` (a `WorkerPool`) checks the tunes, in this process when not given.

    >>> abc = "X:1\\nT:Short Bar\\nM:2/4\\nL:1/8\\nK:G\\n|:GABc|dBG|GABc|d2B2:|\\n"
    >>> report = check_text(abc, "book.abc", bars=True)
    >>> report.round_trip_ok, report.bars.fit, report.bars.problems[0]["problems"]
    (1, 0, ['bar 2: 3 of 4 eighths in 2/4 (short)'])
    """
    report = report or CheckReport()
    if said is None:
        with tune_warnings(logger) as said:
            return check_text(text, source, report, bars, progress, lines_of, said, pool)
    if bars and report.bars is None:
        report.bars = BarCounts()
    items = _text_items(text, source, bars, lines_of)
    _check_items(items, report, said, progress, pool or WorkerPool(1))
    return report


def check_files(
    paths: Iterable[str | os.PathLike],
    bars: bool = False,
    labels: Mapping[str, str] | None = None,
    tunes_of: Callable[[str], list[str | PlacedTune | UnreadableTune] | None] | None = None,
    progress: Callable[[], object] | None = None,
    jobs: int | None = 1,
) -> CheckReport:
    """Check every tune of ABC files (folders are searched for ``*.abc``); ``bars`` adds the
    bar check (see `check_text`); ``labels`` maps a path to the name shown for its tunes.

    ``tunes_of(path)`` reads files that are not tunebooks: it returns the ABC text of each of
    their tunes (the command line passes thesession.org dumps, ``.csv`` / ``.json``), or None
    for a file to read as ABC. Each such tune is checked alone, so its line numbers count in
    its own text; an `UnreadableTune` in its place (a dump row without ABC) is a tune that
    fails. A file that cannot be read (no permission, or ``tunes_of`` raises `ValueError`: a
    ``.json`` that is not a dump) fails as a file, and the others are still checked.
    ``progress`` is called once a tune (see `check_text`). The warnings about tunes, and
    those of files that mix encodings (`decode_abc`), are capped for all the files at once
    (`tune_warnings`). ``jobs`` worker processes check the tunes (`WorkerPool`: 1, none;
    None, as many as the CPUs once a run is long), which changes nothing in the report, its
    order or the warnings; called in a script's top-level code outside
    ``if __name__ == "__main__":``, where each worker would run the script again, it checks in
    this process and warns once (`unguarded_main_call`)."""
    report = CheckReport(bars=BarCounts() if bars else None)
    with (
        tune_warnings(logger) as said,
        WorkerPool(jobs) as pool,
    ):  # warnings: for every file at once
        for path in _expand(paths, said):
            label = "stdin" if path == "-" else (labels or {}).get(path, path)
            try:
                tunes, text = _read_source(path, tunes_of, said)
            except (OSError, ValueError) as err:  # unreadable, or a .csv / .json that is no dump
                report.add_file_failure(label, _reason(err, path))
                continue
            if tunes is not None:
                _check_items(_dump_items(tunes, label, bars), report, said, progress, pool)
                if not tunes:
                    report.add_file_failure(label, "no tunes in the file")
                continue
            if not text.strip():
                report.add_file_failure(label, "empty input" if path == "-" else "empty file")
            elif is_binary_text(text):
                report.add_file_failure(label, NOT_TEXT)
                continue
            _check_items(_text_items(text, label, bars), report, said, progress, pool)
    return report


def _dump_items(
    tunes: list[str | PlacedTune | UnreadableTune], label: str, bars: bool
) -> list[_Item]:
    """The items of the tunes of a file that is not a tunebook (`check_files`' ``tunes_of``)
    for `_check_items`: each text's as `_text_items` gives them, named in the file."""
    items: list[_Item] = []
    for text in tunes:
        if isinstance(text, UnreadableTune):
            items.append(UnreadableTune(f"{label} {text.where}", text.error))
        elif isinstance(text, PlacedTune):
            items += _text_items(text.text, f"{label} {text.where}", bars, " of its tune text")
        else:
            items += _text_items(text, label, bars)
    return items


def _read_source(
    path: str, tunes_of: Callable[[str], list | None] | None, said: CappedWarnings
) -> tuple[list[str | PlacedTune | UnreadableTune] | None, str]:
    """The tunes ``tunes_of`` gives for ``path`` (a dump), or else its ABC text (a warning
    about its encoding goes to ``said``). Raises the `OSError` or `ValueError` of a file that
    cannot be read (no permission, a ``.json`` that is not a dump): `check_files` fails that
    file and goes on with the others."""
    tunes = tunes_of(path) if tunes_of is not None and path != "-" else None
    if tunes is not None:
        return tunes, ""
    return None, read_stdin(said) if path == "-" else read_abc_file(path, said)


def _reason(err: Exception, path: str) -> str:
    """Why a file could not be read, without the path (the failure is named by its file).

    >>> _reason(ValueError("a.json is not a dump"), "a.json")
    'is not a dump'
    >>> _reason(PermissionError(13, "Permission denied", "a.abc"), "a.abc")
    'cannot be read (Permission denied)'
    """
    if isinstance(err, OSError) and err.strerror:
        return f"cannot be read ({err.strerror})"
    return str(err).removeprefix(path).strip(" :") or type(err).__name__


def _add_unreadable(
    report: CheckReport, name: str, error: str, progress: Callable[[], object] | None
) -> None:
    """Count a tune that gives no text to read as a tune that failed."""
    report.tunes += 1
    report.failures.append({"tune": name, "error": error})
    if progress is not None:
        progress()


def is_binary_text(text: str) -> bool:
    """Whether a file's ``text`` is refused as binary: it holds NUL bytes and no tune. A stray
    NUL inside one tune of a tunebook fails that tune only, at its line and column, as the
    corpus loader reads it (`check_files` and ``irish-tune``'s `read_input` decide alike).

    >>> is_binary_text("MThd\\x00\\x00"), is_binary_text("X:1\\nK:G\\nG\\x00A|\\n")
    (True, False)
    """
    return "\x00" in text and next(split_tunebook(text, standalone=True), None) is None


def read_abc_file(path: str | os.PathLike, said: CappedWarnings | None = None) -> str:
    """The text of an ABC file (see `decode_abc`; its warnings name ``path``, and go to
    ``said`` when given: a reader of many files caps them), decompressed first when it is
    gzip, bzip2 or xz compressed (`read_file_bytes`: a damaged one is a `ValueError`)."""
    return decode_abc(read_file_bytes(path), str(path), said)


def read_stdin(said: CappedWarnings | None = None) -> str:
    """The text on standard input (see `decode_abc`), decompressed first when compressed. A
    closed standard input (``<&-``: Python's `sys.stdin` is None) reads as empty, as
    ``< /dev/null`` does, so the reader reports an empty input rather than an AttributeError."""
    if sys.stdin is None:
        return ""
    if sys.stdin.isatty():  # nothing piped in: say what the wait is for
        end = "Ctrl-Z then Enter" if os.name == "nt" else "Ctrl-D"  # the end of input there
        print(f"reading ABC from the terminal; end with {end}", file=sys.stderr)
    buffer = getattr(sys.stdin, "buffer", None)  # a replaced stdin (tests) may be text only
    if buffer is None:
        return sys.stdin.read().removeprefix("\ufeff")
    return decode_abc(decompressed(buffer.read(), "stdin"), "stdin", said)


def decode_abc(data: bytes, name: str = "ABC input", said: CappedWarnings | None = None) -> str:
    """ABC text from bytes: UTF-16 or UTF-32 when a byte-order mark says so (Windows editors
    save "Unicode" that way), else UTF-8 (a BOM is dropped), line by line: a line that is not
    UTF-8 is read as Windows-1252, the Latin-1 of many older tunebooks (O'Neill's and Ryan's in
    music21's corpus among them) with Windows' punctuation in 0x80-0x9F (``\\x92`` as ’), its 5
    undefined bytes (0x81 0x8D 0x8F 0x90 0x9D) as Latin-1. So one stray Latin-1 byte does not
    turn the UTF-8 titles of the rest of the file into mojibake (``SeÃ¡n``); when a file mixes
    the two, a warning names ``name`` and the lines read as Windows-1252 (in ``said`` when
    given, which caps them for a reader of many files: `MIXED_ENCODINGS`).

    >>> decode_abc("X:1".encode("utf-16")), decode_abc(b"T:Caf\\xe9")
    ('X:1', 'T:Café')
    >>> decode_abc("T:Seán\\n".encode() + b"N:caf\\xe9\\n")
    'T:Seán\\nN:café\\n'
    >>> decode_abc(b"T:Tommy\\x92s Reel\\x85\\x81")
    'T:Tommy’s Reel…\\x81'
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _decode_lines(data.removeprefix(codecs.BOM_UTF8), name, said)


def _latin1_fallback(err: UnicodeError) -> tuple[str, int]:
    """A codec error handler: the bytes Windows-1252 leaves undefined read as Latin-1."""
    if not isinstance(err, UnicodeDecodeError):  # a decoding handler only
        raise err
    return err.object[err.start : err.end].decode("latin-1"), err.end


_LATIN1_FALLBACK = "tokenization.check.latin1"
codecs.register_error(_LATIN1_FALLBACK, _latin1_fallback)


#: The kind of the warnings of files that mix UTF-8 and Windows-1252 lines (`decode_abc`), as
#: a reader's `CappedWarnings` counts them.
MIXED_ENCODINGS = "files of mixed encodings"


def _decode_lines(data: bytes, name: str, said: CappedWarnings | None = None) -> str:
    """`decode_abc` of bytes that are not UTF-8 as a whole: UTF-8 line by line, Windows-1252
    (Latin-1 where it has no character) for the lines that are not; a warning names those
    lines when others are UTF-8 beyond ASCII (a wholly Latin-1 tunebook is an old book read
    as such, not a damaged file), in ``said`` when given (a folder of such files gave one
    warning each), else on this module's logger."""
    texts, latin, utf8 = [], [], False
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        try:
            texts.append(line.decode("utf-8"))
            utf8 = utf8 or not line.isascii()
        except UnicodeDecodeError:
            texts.append(line.decode("cp1252", errors=_LATIN1_FALLBACK))
            latin.append(number)
    if utf8:
        shown = ", ".join(map(str, latin[:10])) + (" ..." if len(latin) > 10 else "")
        args = (
            name, len(latin), "s are" if len(latin) > 1 else " is",
            "s" if len(latin) > 1 else "", shown,
        )  # fmt: skip
        message = "%s: %d line%s not UTF-8, unlike the rest of the file, read as "
        message += "Windows-1252 (line%s %s)"
        if said is None:
            logger.warning(message, *args)
        else:
            said.warn(MIXED_ENCODINGS, "lines read as Windows-1252", message, *args)
    return "".join(texts)


def _expand(paths: Iterable[str | os.PathLike], said: CappedWarnings) -> list[str]:
    """The files of ``paths``: a folder's ``*.abc`` files as the loader finds them
    (`abc_files`), its hidden ones passed over and those it cannot read (a link to nothing, a
    pipe) named in warnings in ``said``."""
    files: list[str] = []
    for path in map(str, paths):
        if os.path.isdir(path):
            found = abc_files(path)
            warn_passed_over(said, path, found)
            if not found.files:
                raise no_abc_files_error(path, found)
            files += map(str, found.files)
        elif path == "-" or os.path.exists(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file: {path}")
    return files
