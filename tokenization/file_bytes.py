"""The bytes of an input file, decompressed when it is gzip, bzip2 or xz compressed (told by its
first bytes, whatever its name), an archive (zip, tar) refused with what to do, and the name of a
file without its compression suffix. Standard library only (and `capped_warnings`, which is too).
Used by `tokenization.check.read_abc_file`, hence by every reader of ABC files and dumps; and the
``*.abc`` files of a folder (`abc_files`), as the loader and ``irish-tune check`` find them."""

from __future__ import annotations

import csv
import errno
import functools
import io
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from .capped_warnings import CappedWarnings, counted

__all__ = [  # only the names used outside this module
    "NOT_TEXT",
    "FolderFiles",
    "abc_files",
    "decompressed",
    "dump_text_format",
    "dump_text_reason",
    "no_abc_files_error",
    "passed_over_count",
    "read_file_bytes",
    "uncompressed_name",
    "warn_passed_over",
]

#: The compressions read, by their first bytes ("magic numbers"): name, file suffix.
_COMPRESSIONS = (
    (b"\x1f\x8b", "gzip", ".gz"),
    (b"BZh", "bzip2", ".bz2"),
    (b"\xfd7zXZ\x00", "xz", ".xz"),
)
#: The suffixes of compressed files: ``tunes.csv.gz`` is read as ``tunes.csv``.
COMPRESSED_SUFFIXES = tuple(suffix for _, _, suffix in _COMPRESSIONS)
#: The most a compressed file may decompress to: far above any corpus (thesession.org's whole
#: dump is under 100 MB), far below what a few KB of zeros compressed can claim (a "zip bomb").
MAX_DECOMPRESSED = 2**30
#: The kind of the warning (`CappedWarnings`) naming the hidden files `abc_files` passed over.
HIDDEN_PASSED_OVER = "folders with hidden *.abc files passed over"
#: The kind of the warning naming the entries `abc_files` found but could not read, with why.
NOT_READ = "folders with entries not read"
#: Why `abc_files` does not read a link to a folder.
LINKED_FOLDER = "a link to a folder, not followed: give it by its path to read it"
#: Why a file with NUL bytes and no tune in it is not read, as every reader words it.
NOT_TEXT = "not a text file (NUL bytes)"


def dump_text_format(text: str) -> str | None:
    """Which thesession.org dump ``text`` (read without a file name: stdin) looks like, from its
    start alone, for a message: ``"CSV"`` when its first line is a CSV header with an ``abc``
    column and another of a dump's (``name``, ``tune_id``...), ``"JSON"`` when it opens with
    ``[`` or ``{`` and names an ``"abc"`` field; else None.
    A dump is read by its file's suffix (`modeling_irish.session_dump.dump_format`): given any
    other way, its rows are no ABC, and saying so beats "no X: line".

    >>> dump_text_format("tune_id,name,abc\\n1,Kesh,GAG"), dump_text_format('[{"abc": "GAG"}]')
    ('CSV', 'JSON')
    >>> dump_text_format("X:1\\nK:D\\nd|"), dump_text_format("abc,d|")
    (None, None)
    """
    start = text.lstrip("\ufeff \t\r\n")
    if start[:1] in ("[", "{"):
        return "JSON" if '"abc"' in start[:100_000] else None
    header = {field.strip().lower() for field in next(csv.reader([start.split("\n", 1)[0]]), [])}
    return "CSV" if "abc" in header and header & _DUMP_COLUMNS else None


#: The columns of a thesession.org CSV dump, besides ``abc``, one of which `dump_text_format`
#: wants too: a line of notes ``abc,d`` (``c,`` an octave down) is no dump header.
_DUMP_COLUMNS = frozenset({"tune_id", "setting_id", "name", "type", "meter", "mode", "date"})


def dump_text_reason(text: str) -> str | None:
    """Why a text in which no tune is found holds none, when it is a thesession.org dump
    (`dump_text_format`): one is read as a dump from its file, by the file's suffix, and every
    reader of stdin (``check``, ``render``, ``transpose``, ``identify``...) says so alike; None
    for any other text.

    >>> dump_text_reason("name,abc\\n")
    'a thesession.org CSV dump, which is read from a file named .csv, .json, .jsonl'
    >>> dump_text_reason("Some words.") is None
    True
    """
    kind = dump_text_format(text)
    if kind is None:
        return None
    return f"a thesession.org {kind} dump, which is read from a file named .csv, .json, .jsonl"


def uncompressed_name(path: str | os.PathLike) -> str:
    """``path`` without a compression suffix (``.gz``, ``.bz2``, ``.xz``, any case): the name
    whose own suffix says what the file holds.

    >>> uncompressed_name("data/tunes.csv.gz"), uncompressed_name("book.abc")
    ('data/tunes.csv', 'book.abc')
    """
    name = os.fspath(path)
    if Path(name).suffix.lower() in COMPRESSED_SUFFIXES:
        return name[: -len(Path(name).suffix)]
    return name


def _is_abc(name: str) -> bool:
    """Whether a file's name says it holds ABC: ``.abc``, any case, maybe compressed; a name
    that is ``.abc`` alone too (no suffix to `Path`, but hidden: passed over and named, not
    left out unsaid, as ``irish-tune check`` read it before `abc_files`)."""
    return uncompressed_name(name).lower().endswith(".abc")


class FolderFiles(NamedTuple):
    """What `abc_files` finds in a folder: the files read, the hidden ones passed over, and the
    entries not read, each with why (a link to nothing, a pipe, ...), all sorted by path."""

    files: list[Path]
    hidden: list[Path]
    unread: list[tuple[Path, str]]


def abc_files(folder: str | os.PathLike, recursive: bool = True) -> FolderFiles:
    """The ``*.abc`` files (any case; compressed too, ``*.abc.gz``) of a folder and, when
    ``recursive``, of its subfolders (a folder named ``sub.abc`` too), sorted by relative path;
    and, apart, those passed over: hidden (a name starting with ``.``, as an editor's backup
    ``.#tune.abc``) or in a hidden folder (Jupyter's ``.ipynb_checkpoints/`` holds old copies
    of a notebook's files, ``.git/``), which would be read as more tunes. A hidden file or
    folder given itself is read: only what is under ``folder`` is told apart. And the entries
    not read, with why: a ``*.abc`` that is no readable file (a link to nothing or in a loop, a
    pipe, which is not opened, a device, a file without read permission), a link to a folder
    (not followed: it could loop, or copy a folder read already), a subfolder that cannot be
    listed (`unread_reason`).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("b.abc", "a/c.ABC", ".ipynb_checkpoints/b-checkpoint.abc", "n.txt"):
    ...         Path(tmp, name).parent.mkdir(exist_ok=True)
    ...         _ = Path(tmp, name).write_text("X:1", encoding="utf-8")
    ...     Path(tmp, "gone.abc").symlink_to("nowhere.abc")
    ...     found = abc_files(tmp)
    ...     [[p.relative_to(tmp).as_posix() for p in paths] for paths in found[:2]]
    ...     [(path.name, why) for path, why in found.unread]
    [['a/c.ABC', 'b.abc'], ['.ipynb_checkpoints/b-checkpoint.abc']]
    [('gone.abc', 'a link to nothing (its target is missing)')]
    """
    top = Path(folder)
    read: list[Path] = []
    hidden: list[Path] = []
    unread: list[tuple[Path, str]] = []

    def is_hidden(path: Path) -> bool:
        return any(part.startswith(".") for part in path.relative_to(top).parts)

    def not_listed(err: OSError) -> None:  # os.walk's onerror: a subfolder it cannot list
        path = Path(err.filename)
        if path != top and not is_hidden(path):
            unread.append((path, f"a folder that cannot be listed ({err.strerror})"))

    for root, folders, names in os.walk(top, onerror=not_listed):
        if not recursive:
            folders.clear()
        under = Path(root)
        in_hidden = is_hidden(under)
        for name in folders:
            if not in_hidden and not name.startswith(".") and (under / name).is_symlink():
                unread.append((under / name, LINKED_FOLDER))
        for name in names:
            path = under / name
            if not _is_abc(name):
                continue
            if in_hidden or name.startswith("."):  # an editor's lock, a link to nothing too
                hidden.append(path)
            elif (why := unread_reason(path)) is None:
                read.append(path)
            else:
                unread.append((path, why))
    key = functools.partial(_relative, top)
    unread.sort(key=lambda entry: key(entry[0]))
    return FolderFiles(sorted(read, key=key), sorted(hidden, key=key), unread)


def unread_reason(path: Path) -> str | None:
    """Why the folder entry ``path`` (not a folder) is not read, or None for a file that can be:
    a link to nothing or in a loop, a pipe (never opened: reading one waits for a writer), a
    device or socket, a file without read permission. Told from its metadata only."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a link in a loop"
        if path.is_symlink() and err.errno == errno.ENOENT:
            return "a link to nothing (its target is missing)"
        return err.strerror or type(err).__name__
    if stat.S_ISREG(mode):
        return None if os.access(path, os.R_OK) else "no permission to read it"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO), not opened"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"


def _relative(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def _named(names: list[str]) -> str:
    """The first three of ``names``, and ``...`` when there are more."""
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def hidden_note(folder: str | os.PathLike, hidden: list[Path], named: str = "") -> str:
    """What a reader says of the ``hidden`` files `abc_files` passed over in ``folder``, named
    ``named`` when given (as its user typed it), else as ``folder``.

    >>> hidden_note("tunes", [Path("tunes/.ipynb_checkpoints/a-checkpoint.abc")])
    "tunes: 1 hidden *.abc file passed over (a name starting with '.', or in such a folder):
    .ipynb_checkpoints/a-checkpoint.abc; give one by its path to read it"
    """
    shown = _named([_relative(Path(folder), path) for path in hidden])
    return (
        f"{named or folder}: {counted(len(hidden), 'hidden *.abc file')} passed over (a name "
        f"starting with '.', or in such a folder): {shown}; give one by its path to read it"
    )


def unread_note(folder: str | os.PathLike, unread: list[tuple[Path, str]], named: str = "") -> str:
    """What a reader says of the entries `abc_files` could not read in ``folder``, with why;
    the folder named ``named`` when given, else as ``folder``.

    >>> unread_note("tunes", [(Path("tunes/a.abc"), "a pipe (FIFO), not opened")])
    'tunes: 1 entry not read: a.abc (a pipe (FIFO), not opened)'
    """
    shown = _named([f"{_relative(Path(folder), path)} ({why})" for path, why in unread])
    return f"{named or folder}: {counted(len(unread), 'entry', 'entries')} not read: {shown}"


def warn_passed_over(
    said: CappedWarnings, folder: str | os.PathLike, found: FolderFiles, named: str = ""
) -> None:
    """Give ``said`` the warnings a reader gives of what `abc_files` did not read in ``folder``
    (named ``named`` when given, as its user typed it), each of its kind (`HIDDEN_PASSED_OVER`,
    `NOT_READ`): the hidden files, the entries not read."""
    if found.hidden:
        note = hidden_note(folder, found.hidden, named)
        said.warn(HIDDEN_PASSED_OVER, HIDDEN_PASSED_OVER, "%s", note)
    if found.unread:
        said.warn(NOT_READ, NOT_READ, "%s", unread_note(folder, found.unread, named))


def passed_over_count(found: FolderFiles) -> str:
    """How many entries `abc_files` did not read, as a folder without tunes is said to hold:
    ``"3 hidden, passed over; 1 not read (a link to nothing ...)"``, or "" for none."""
    parts = [f"{len(found.hidden)} hidden, passed over"] if found.hidden else []
    if found.unread:
        more = ", ..." if len(found.unread) > 1 else ""
        parts.append(f"{len(found.unread)} not read ({found.unread[0][1]}{more})")
    return "; ".join(parts)


def no_abc_files_error(folder: str | os.PathLike, found: FolderFiles) -> FileNotFoundError:
    """The refusal of a folder given to a command that holds no ``*.abc`` file (``found``, its
    `abc_files`): a usage error (exit status 2, no ``--json`` output), as a file that does not
    exist is, in the one wording of ``check`` and ``evaluate-lm``; what was passed over, counted.

    >>> print(no_abc_files_error("tunes", FolderFiles([], [], [])))
    no .abc files in the folder tunes
    """
    passed = passed_over_count(found)
    why = f" ({passed})" if passed else ""
    return FileNotFoundError(f"no .abc files in the folder {folder}{why}")


def read_file_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of the file at ``path``, decompressed when it is compressed (`decompressed`);
    an archive is a `ValueError` (`decompressed`)."""
    with open(path, "rb") as handle:
        return decompressed(handle.read(), str(path))


def decompressed(data: bytes, name: str = "input") -> bytes:
    """``data`` decompressed when its first bytes say gzip, bzip2 or xz, else as it is. A file
    that cannot be decompressed (cut short, damaged), or that decompresses to more than
    `MAX_DECOMPRESSED`, is a `ValueError` that names ``name`` and what to do; so is an archive
    (zip, tar; ``.tar.gz`` once decompressed): its files are not read (a stored zip's tunes
    would be read with its binary headers as music).

    >>> import gzip
    >>> decompressed(gzip.compress(b"X:1\\nK:G\\n")), decompressed(b"X:1")
    (b'X:1\\nK:G\\n', b'X:1')
    >>> decompressed(b"PK\\x03\\x04\\x14\\x00", "t.zip")
    Traceback (most recent call last):
    ValueError: t.zip is a zip archive, not ABC nor a dump: extract it and give its files or folder
    """
    found = next((c for c in _COMPRESSIONS if data.startswith(c[0])), None)
    if found is None:
        return _not_an_archive(data, name)
    kind = found[1]
    opener, damaged = _opener(kind)
    try:
        with opener(io.BytesIO(data)) as stream:
            out = stream.read(MAX_DECOMPRESSED + 1)
    except damaged as err:
        raise ValueError(_cannot_decompress(name, kind, err)) from None
    if len(out) > MAX_DECOMPRESSED:
        raise ValueError(
            f"{name} is a {kind}-compressed file that decompresses to over "
            f"{MAX_DECOMPRESSED // 2**30} GiB, far more than any corpus: not read"
        )
    return _not_an_archive(out, name)


def _not_an_archive(data: bytes, name: str) -> bytes:
    """``data``, unless it is a zip or tar archive: a `ValueError` that says to extract it."""
    if data.startswith(b"PK\x03\x04"):
        kind = "zip"
    elif data[257:263] in (b"ustar\x00", b"ustar "):  # the tar header's magic (POSIX, GNU)
        kind = "tar"
    else:
        return data
    raise ValueError(
        f"{name} is a {kind} archive, not ABC nor a dump: extract it and give its files or folder"
    )


def _opener(
    kind: str,
) -> tuple[Callable[[io.BytesIO], io.BufferedIOBase], tuple[type[Exception], ...]]:
    """The file class that reads a ``kind`` stream, and the errors of damaged data it raises
    (a truncated file is an `EOFError`; a bad header an `OSError`)."""
    if kind == "gzip":
        import gzip
        import zlib

        return lambda raw: gzip.GzipFile(fileobj=raw), (OSError, EOFError, zlib.error)
    if kind == "bzip2":
        import bz2

        return bz2.BZ2File, (OSError, EOFError, ValueError)
    import lzma  # (a Python built without liblzma lacks it: an ImportError that says so)

    return lzma.LZMAFile, (OSError, EOFError, lzma.LZMAError)


def _cannot_decompress(name: str, kind: str, err: Exception) -> str:
    """Why ``name`` was not read: its ``kind`` data is damaged (``err``), and what to do.

    >>> print(_cannot_decompress("t.csv.gz", "gzip", EOFError()))
    t.csv.gz is a gzip-compressed file that cannot be decompressed (EOFError); test it with gunzip
    -t, or give it decompressed
    """
    tool = {"gzip": "gunzip", "bzip2": "bunzip2", "xz": "unxz"}[kind]
    why = str(err) or type(err).__name__
    return (
        f"{name} is a {kind}-compressed file that cannot be decompressed ({why}); test it with "
        f"{tool} -t, or give it decompressed"
    )
