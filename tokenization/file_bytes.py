"""The bytes of an input file, decompressed when it is gzip, bzip2 or xz compressed (told by its
first bytes, whatever its name), an archive (zip, tar) refused with what to do, and the name of a
file without its compression suffix. Standard library only. Used by
`tokenization.check.read_abc_file`, hence by every reader of ABC files and dumps; and the
``*.abc`` files of a folder (`abc_files`), as the loader and ``irish-tune check`` find them."""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "COMPRESSED_SUFFIXES",
    "HIDDEN_PASSED_OVER",
    "MAX_DECOMPRESSED",
    "NOT_TEXT",
    "abc_files",
    "hidden_note",
    "decompressed",
    "read_file_bytes",
    "uncompressed_name",
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
#: Why a file with NUL bytes and no tune in it is not read, as every reader words it.
NOT_TEXT = "not a text file (NUL bytes)"


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
    """Whether a file's name says it holds ABC: ``.abc``, any case, maybe compressed."""
    return Path(uncompressed_name(name)).suffix.lower() == ".abc"


def abc_files(folder: str | os.PathLike, recursive: bool = True) -> tuple[list[Path], list[Path]]:
    """The ``*.abc`` files (any case; compressed too, ``*.abc.gz``) of a folder and, when
    ``recursive``, of its subfolders (not through a link to a folder), sorted by relative path;
    and, apart, those passed over: hidden (a name starting with ``.``, as an editor's backup
    ``.#tune.abc``) or in a hidden folder (Jupyter's ``.ipynb_checkpoints/`` holds old copies
    of a notebook's files, ``.git/``), which would be read as more tunes. A hidden file or
    folder given itself is read: only what is under ``folder`` is told apart.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("b.abc", "a/c.ABC", ".ipynb_checkpoints/b-checkpoint.abc", "n.txt"):
    ...         Path(tmp, name).parent.mkdir(exist_ok=True)
    ...         _ = Path(tmp, name).write_text("X:1", encoding="utf-8")
    ...     [[p.relative_to(tmp).as_posix() for p in paths] for paths in abc_files(tmp)]
    [['a/c.ABC', 'b.abc'], ['.ipynb_checkpoints/b-checkpoint.abc']]
    """
    top = Path(folder)
    read: list[Path] = []
    hidden: list[Path] = []
    for root, folders, names in os.walk(top):
        if not recursive:
            folders.clear()
        under = Path(root)
        in_hidden = any(part.startswith(".") for part in under.relative_to(top).parts)
        for name in names:
            path = under / name
            if _is_abc(name) and path.is_file():
                (hidden if in_hidden or name.startswith(".") else read).append(path)
    key = functools.partial(_relative, top)
    return sorted(read, key=key), sorted(hidden, key=key)


def _relative(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def hidden_note(folder: str | os.PathLike, hidden: list[Path]) -> str:
    """What a reader says of the ``hidden`` files `abc_files` passed over in ``folder``.

    >>> hidden_note("tunes", [Path("tunes/.ipynb_checkpoints/a-checkpoint.abc")])
    "tunes: 1 hidden *.abc file passed over (a name starting with '.', or in such a folder):
    .ipynb_checkpoints/a-checkpoint.abc; give one by its path to read it"
    """
    shown = ", ".join(_relative(Path(folder), path) for path in hidden[:3])
    shown += ", ..." if len(hidden) > 3 else ""
    files = "file" if len(hidden) == 1 else "files"
    return (
        f"{folder}: {len(hidden)} hidden *.abc {files} passed over (a name starting with '.', "
        f"or in such a folder): {shown}; give one by its path to read it"
    )


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
