"""Filesystem helpers shared by the caches of the loader and the training script, and by the
files the commands write (`replacing_file`; several at once, whole or not at all:
`replacing_files`; a device or pipe, ``-o /dev/stdout``, written in place: `written_in_place`);
the cleanup of a failed write, which names what it leaves behind in a
warning rather than hide the error that failed it (`discard_file`, `discard_folder`: they live in
`tokenization.file_cleanup`, which the tokenized cache uses without importing torch, and are
importable from here as before)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from irish_tune.value_checks import link_problem  # noqa: F401 - re-exported: the commands use it
from tokenization.file_cleanup import discard_file, discard_folder, remove_if_there
from tokenization.writer_folders import (
    Writer,
    is_dead_writer,
    own_writer_name,
    process_start,
    this_host,
)

__all__ = [
    "ReplacingFiles",
    "discard_file",
    "discard_folder",
    "link_problem",
    "publish_directory",
    "remove_directory",
    "replacing_file",
    "replacing_files",
    "written_in_place",
]


def publish_directory(tmp: str | os.PathLike, final: str | os.PathLike, marker: str) -> bool:
    """Move the finished directory `tmp` to `final` in one rename, for caches that several
    processes may fill at once (two training runs started together on one cache folder).

    `marker` names the file whose presence makes a directory complete. If another process
    published `final` first, `tmp` is deleted and `final` kept (caches are keyed by a hash of
    their inputs, so both hold the same thing); a `final` without its marker, left by a process
    that died while writing, is replaced. Returns True if `tmp` was published. What of the
    folder deleted cannot be deleted is named in a warning and left (`discard_folder`): a
    `final` left so is not replaced, and the rename's error is raised.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> root = Path(scratch.name)
    >>> for n in (1, 2):
    ...     (root / f"tmp{n}").mkdir()
    ...     _ = (root / f"tmp{n}" / "done").write_text(str(n), encoding="utf-8")
    >>> publish_directory(root / "tmp1", root / "cache", "done")
    True
    >>> publish_directory(root / "tmp2", root / "cache", "done")  # a second writer: kept first
    False
    >>> (root / "cache" / "done").read_text(encoding="utf-8")
    '1'
    >>> sorted(p.name for p in root.iterdir())
    ['cache']
    >>> scratch.cleanup()
    """
    tmp, final = Path(tmp), Path(final)
    if final.is_dir() and not (final / marker).exists():
        discard_folder(final)  # an incomplete copy: nobody will finish it
    try:
        os.replace(tmp, final)
        return True
    except OSError:
        if not (final / marker).exists():
            raise
        discard_folder(tmp)  # another process published it first
        return False


def remove_directory(path: str | os.PathLike) -> None:
    """Delete the folder ``path`` of a damaged cache, first renamed aside in one step
    (``<path>.damaged-<pid>.<start>@<host>``, `own_writer_name`: no process of the same id on
    another machine sharing the folder picks that name): a process that looks for it meanwhile
    finds it whole or not at all, never half deleted. A folder another process removed first
    is no error; what of it cannot be deleted is named in a warning and left under that name
    (`discard_folder`).

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> cache = Path(scratch.name) / "cache"
    >>> cache.mkdir(); _ = (cache / "done").write_text("{", encoding="utf-8")
    >>> remove_directory(cache); remove_directory(cache)
    >>> list(Path(scratch.name).iterdir())
    []
    >>> scratch.cleanup()
    """
    aside = own_writer_name(f"{os.fspath(path)}.damaged-")
    try:
        os.replace(path, aside)
    except FileNotFoundError:  # another process removed it first
        return
    discard_folder(aside)


@contextlib.contextmanager
def replacing_file(
    path: str | os.PathLike, group: Optional[ReplacingFiles] = None
) -> Iterator[str]:
    """The temporary name to write the file ``path`` under, renamed to ``path`` in one step
    (`os.replace`) when the block ends, and removed when it raises (`discard_file`: one that
    cannot be is named in a warning, the block's error raised): a reader, or a run killed
    meanwhile, finds the whole new file or what was there before, never a file cut short by a
    full disk (the writer of the block opens the temporary name itself: a program may write it,
    and the file gets the permissions of any new file).

    A ``path`` that is a link to a file keeps its link: the file it leads to is the one
    replaced (as ``cp`` writes through a link), not the link by a file, and the temporary name
    is beside that file.

    The name is hidden beside ``path`` (the same folder, so the rename stays on one disk) and
    keeps its extension (fluidsynth picks the audio format by it):
    ``.tune.<pid>.<start>@<host>.tmp.wav`` (`_temporary_name`: the writer's process, its start
    and its machine, so that two writers on machines sharing the folder never pick one name; a
    long name cut to fit, which the final name may still be). The temporary files that killed
    writers left in that folder are removed the first time this process writes there
    (`_clear_dead_temporaries`). An `OSError` of the block that
    names no file, or the temporary one, is raised again naming ``path`` (``[Errno 28] No space
    left on device: 'out/tune.wav'``). Given a ``group`` (`replacing_files`), the file is left
    under its temporary name when the block ends, to be renamed with the group's other files
    (`ReplacingFiles.staged` names it meanwhile).

    A ``path`` that is no file but a device, a pipe or a socket once its links are followed
    (``/dev/null``, a ``mkfifo`` pipe, ``>(gzip > x.gz)``), or that names an open file
    descriptor (``/dev/stdout``, ``/dev/fd/1``: `written_in_place`), is not replaced: the block
    is given ``path`` itself to write into, with no temporary file, no rename and so no
    atomicity (a reader of the pipe gets what was written before a failure; the device stays
    a device). In a ``group`` such a path is refused, an `OSError` naming it, before anything
    is written: a group is renamed into place whole or not at all, which a pipe cannot be. A
    folder (or a link to one) is refused before anything is written too, an
    `IsADirectoryError` naming ``path``: in a group, the files written before it are removed, not
    renamed into place without it (a tune's SVG replaced, its MIDI not). A link that leads
    into a folder that does not exist is a `FileNotFoundError` naming ``path``, ``a link to
    TARGET, whose folder does not exist`` (not the link's own missing file).

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> path = Path(scratch.name) / "tune.abc"
    >>> with replacing_file(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
    ...     _ = handle.write("X:1")
    >>> with replacing_file(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
    ...     _ = handle.write("X:")
    ...     raise OSError(28, "No space left on device")
    Traceback (most recent call last):
    ...
    OSError: [Errno 28] No space left on device: '...tune.abc'
    >>> files = [(p.name, p.read_text(encoding="utf-8")) for p in Path(scratch.name).iterdir()]
    >>> files  # the first, whole
    [('tune.abc', 'X:1')]
    >>> scratch.cleanup()
    """
    final = os.fspath(path)
    if written_in_place(final):
        if group is not None:
            raise OSError(errno.EINVAL, _NOT_IN_A_GROUP, final)
        yield final  # the writer's own errors name it; nothing of ours to remove
        return
    shown = final  # the name errors give: the one the caller gave
    if os.path.islink(final):  # replace the file the link leads to, and keep the link
        final = os.path.realpath(final)
    if os.path.isdir(final):  # refused before it is written: no file of its group renamed
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), shown)
    folder, name = os.path.split(final)
    stem, ext = os.path.splitext(name)
    tmp = os.path.join(folder, _temporary_name(stem, ext))
    _clear_dead_temporaries(folder)
    try:
        yield tmp
        if group is None:
            os.replace(tmp, final)
        else:
            group.add(final, tmp)
    except OSError as err:
        discard_file(tmp)  # one that will not go: a warning, and this error raised
        if err.errno is None or err.filename not in (None, tmp):
            raise
        why = err.strerror
        if final != shown and err.errno == errno.ENOENT and not os.path.isdir(folder or "."):
            why = f"a link to {final}, whose folder does not exist"  # not the link's own
        raise OSError(err.errno, why, shown) from err
    except BaseException:
        discard_file(tmp)
        raise


#: Why `replacing_file` refuses a device or pipe in a group of files.
_NOT_IN_A_GROUP = (
    "a device or pipe, not a file: a group of files is written whole or not at all, which it "
    "cannot be"
)
#: The folders whose entries are the open file descriptors of a process (``/dev/stdout`` and
#: ``/dev/fd/1`` lead to ``/proc/self/fd/1`` on Linux; ``/dev/fd`` itself elsewhere).
_DESCRIPTOR_FOLDER = re.compile(r"/proc/[^/]+(?:/task/[^/]+)?/fd|/dev/fd")
#: The most links `_names_descriptor` follows (Linux's own limit).
_MAX_LINKS = 40


def written_in_place(path: str | os.PathLike) -> bool:
    """Whether `replacing_file` writes ``path`` itself rather than replace it: a path that is,
    once its links are followed, a device, a pipe or a socket (not a regular file, nor a
    folder), or that names an open file descriptor (`_names_descriptor`: ``-o /dev/stdout``
    redirected to a file goes into that file, not over the link). A missing path is a new file.

    >>> written_in_place("/dev/null"), written_in_place(__file__), written_in_place("/no/file")
    (True, False, False)
    """
    final = os.fspath(path)
    try:
        mode = os.stat(final).st_mode
    except OSError:  # missing (a new file), or a dangling link: the write says what is wrong
        return False
    if stat.S_ISDIR(mode):
        return False
    return not stat.S_ISREG(mode) or _names_descriptor(final)


def _names_descriptor(path: str) -> bool:
    """Whether ``path``, or a link on its way to a file, lies in a folder of open file
    descriptors (`_DESCRIPTOR_FOLDER`: ``/dev/stdout`` -> ``/proc/self/fd/1``).

    >>> _names_descriptor("/dev/stdout"), _names_descriptor(__file__)
    (True, False)
    """
    for _ in range(_MAX_LINKS):
        folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
        if _DESCRIPTOR_FOLDER.fullmatch(folder):
            return True
        if not os.path.islink(path):
            return False
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    return False


#: The longest file name, in bytes, that most file systems take (ext4, APFS, NTFS's 255 UTF-16
#: units hold more)
_NAME_MAX = 255


def _temporary_name(stem: str, ext: str) -> str:
    """The hidden name `replacing_file` writes ``stem + ext`` under,
    ``.stem.<pid>.<start>@<host>.tmp.ext`` (the writer's, `own_writer_name`);
    when that is longer than a file name may be (`_NAME_MAX`) while ``stem + ext`` may not be
    (a 240-character tune name), the stem is cut to 40 characters and a hash of it whole is
    added, so that the names of two long stems (the pages ``long.svg``, ``long-2.svg``) differ.

    >>> len(_temporary_name("t" * 250, ".svg").encode()) <= _NAME_MAX
    True
    >>> _temporary_name("t" * 250, ".svg") != _temporary_name("t" * 249, ".svg")
    True
    """
    writer = own_writer_name("")
    name = f".{stem}.{writer}.tmp{ext}"
    if len(os.fsencode(name)) <= _NAME_MAX:
        return name
    digest = hashlib.sha256(os.fsencode(stem)).hexdigest()[:16]
    return f".{stem[:40]}-{digest}.{writer}.tmp{ext}"


#: The end of a temporary name after the writer's ``@``: its machine, ``.tmp`` and the extension.
_TEMPORARY_END = re.compile(r"([A-Za-z0-9._-]{1,64}?)\.tmp(?:\.[^.]*)?")
#: The folders this process has cleared of killed writers' temporary files (once each).
_CLEARED: set[str] = set()


def _temporary_writer(name: str) -> Optional[Writer]:
    """Who wrote the file ``name`` if it is a temporary name of `replacing_file`'s
    (``.stem.<pid>.<start>@<host>.tmp.ext``), else None. One of this machine is read as this
    machine writes them (the start where there is ``/proc``), so that a stem ending in a
    number (``reel.3``) is not taken for the writer's; an earlier version's name, which holds
    no machine (``.stem.<pid>.tmp.ext``), is no writer's: it may be the user's.

    >>> _temporary_writer(".reel.3.12.345@node7.tmp.abc")
    Writer(pid=12, start=345, host='node7')
    >>> _temporary_writer(".reel.12.tmp.abc"), _temporary_writer("reel.3.12.345@node7.tmp.abc")
    (None, None)
    """
    if not name.startswith(".") or "@" not in name:
        return None
    rest, end = name[1:].rsplit("@", 1)
    place = _TEMPORARY_END.fullmatch(end)
    if place is None:
        return None
    host, parts = place.group(1), rest.split(".")
    if host == this_host():
        ids = 1 if process_start(os.getpid()) is None else 2
    else:  # judged by its age alone (`is_dead_writer`): the ids name it in the warning
        ids = 2 if len(parts) > 2 and parts[-2].isdigit() else 1
    numbers, stem = parts[-ids:], ".".join(parts[:-ids])
    if not stem or len(parts) <= ids or not all(n.isascii() and n.isdigit() for n in numbers):
        return None
    return Writer(int(numbers[0]), int(numbers[1]) if ids == 2 else None, host)


def _clear_dead_temporaries(folder: str) -> None:
    """Remove from ``folder`` the temporary files (`_temporary_writer`) of writers killed
    mid-write, once a process (the first time it writes there): those of this machine whose
    process is gone, or is another of that id, and those of another machine unchanged for 24 h
    (`writer_folders.is_dead_writer`). A live writer's file, this process's own, another
    machine's younger one and any other name stay; one that cannot be removed is named in a
    warning (`discard_file`), as is a folder that cannot be read: the write goes on."""
    key = os.path.realpath(folder or os.curdir)
    if key in _CLEARED:
        return
    _CLEARED.add(key)
    try:
        names = os.listdir(folder or os.curdir)
    except OSError:  # a folder missing or unreadable: the write itself says so
        return
    for name in names:
        writer = _temporary_writer(name)
        path = os.path.join(folder, name)
        if writer is None or os.path.islink(path) or not os.path.isfile(path):
            continue
        if is_dead_writer(path, writer):
            discard_file(path)


class ReplacingFiles:
    """Files written under temporary names (`replacing_file` given the group), renamed into
    place together by `replacing_files` when its block ends, or all removed when it raises;
    and earlier files that the new ones make stale (`remove_with`), removed once they are in
    place, left as they were when it raises."""

    def __init__(self) -> None:
        self._staged: dict[str, str] = {}  # final path -> the temporary name it is written under
        self._stale: list[str] = []  # files removed once every staged one is in place

    def add(self, final: str, tmp: str) -> None:
        """Rename the written file ``tmp`` to ``final`` with the group's other files."""
        if final in self._staged:
            raise ValueError(f"{final} is written twice in one group of files")
        self._staged[final] = tmp

    def remove_with(self, path: str | os.PathLike) -> None:
        """Remove the earlier file ``path`` once the group's files are renamed into place (an
        earlier rendering's page beyond the new one's last), not when the group fails."""
        self._stale.append(os.fspath(path))

    def staged(self, path: str | os.PathLike) -> str:
        """The temporary name the group's file ``path`` is under until the group is renamed into
        place (a file made from it reads it there)."""
        return self._staged[os.fspath(path)]

    def publish(self) -> None:
        """Rename every file into place, in the order they were written, then remove the stale
        ones (`remove_with`; one already gone is no error). A rename that fails (the folder
        gone) removes the files not yet renamed, keeps the stale ones, and raises an `OSError`
        naming the file; those renamed before it stay. A stale file that cannot be removed is
        an `OSError` naming it, once every other is removed."""
        while self._staged:
            final, tmp = next(iter(self._staged.items()))
            try:
                os.replace(tmp, final)
            except OSError as err:
                self.discard()
                raise OSError(err.errno, err.strerror, final) from err
            del self._staged[final]
        failed: Optional[OSError] = None
        for path in self._stale:
            try:
                remove_if_there(path)
            except OSError as err:
                failed = failed or OSError(err.errno, err.strerror, path)
        self._stale.clear()
        if failed is not None:
            raise failed

    def discard(self) -> None:
        """Remove every file not renamed into place (one that cannot be is named in a warning:
        `discard_file`); the stale ones are kept."""
        for tmp in self._staged.values():
            discard_file(tmp)
        self._staged.clear()
        self._stale.clear()


@contextlib.contextmanager
def replacing_files() -> Iterator[ReplacingFiles]:
    """A group of files written whole or not at all (`replacing_file` given the group): each is
    written under its temporary name, and all are renamed into place when the block ends, one
    after another; when it raises, they are all removed and the files there before are left as
    they were (a tune rendered to SVG, MIDI and WAV whose WAV fails keeps the earlier three).
    Earlier files the new ones make stale (`ReplacingFiles.remove_with`) are removed after the
    renames, and kept when it raises.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> a, b = Path(scratch.name) / "a.txt", Path(scratch.name) / "b.txt"
    >>> _ = a.write_text("earlier a", encoding="utf-8"), b.write_text("earlier b", encoding="utf-8")
    >>> with replacing_files() as group:
    ...     with replacing_file(a, group) as tmp:
    ...         _ = Path(tmp).write_text("new a", encoding="utf-8")
    ...     with replacing_file(b, group) as tmp:
    ...         raise OSError(28, "No space left on device")
    Traceback (most recent call last):
    ...
    OSError: [Errno 28] No space left on device: '...b.txt'
    >>> sorted((p.name, p.read_text(encoding="utf-8")) for p in Path(scratch.name).iterdir())
    [('a.txt', 'earlier a'), ('b.txt', 'earlier b')]
    >>> scratch.cleanup()
    """
    group = ReplacingFiles()
    try:
        yield group
    except BaseException:
        group.discard()
        raise
    group.publish()
