"""Filesystem helpers shared by the caches of the loader and the training script, and by the
files the commands write (`replacing_file`)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Optional


def publish_directory(tmp: str | os.PathLike, final: str | os.PathLike, marker: str) -> bool:
    """Move the finished directory `tmp` to `final` in one rename, for caches that several
    processes may fill at once (two training runs started together on one cache folder).

    `marker` names the file whose presence makes a directory complete. If another process
    published `final` first, `tmp` is deleted and `final` kept (caches are keyed by a hash of
    their inputs, so both hold the same thing); a `final` without its marker, left by a process
    that died while writing, is replaced. Returns True if `tmp` was published.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> root = Path(scratch.name)
    >>> for n in (1, 2):
    ...     (root / f"tmp{n}").mkdir(); _ = (root / f"tmp{n}" / "done").write_text(str(n))
    >>> publish_directory(root / "tmp1", root / "cache", "done")
    True
    >>> publish_directory(root / "tmp2", root / "cache", "done")  # a second writer: kept first
    False
    >>> (root / "cache" / "done").read_text()
    '1'
    >>> sorted(p.name for p in root.iterdir())
    ['cache']
    >>> scratch.cleanup()
    """
    tmp, final = Path(tmp), Path(final)
    if final.is_dir() and not (final / marker).exists():
        shutil.rmtree(final, ignore_errors=True)  # an incomplete copy: nobody will finish it
    try:
        os.replace(tmp, final)
        return True
    except OSError:
        if not (final / marker).exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # another process published it first
        return False


def remove_directory(path: str | os.PathLike) -> None:
    """Delete the folder ``path`` of a damaged cache, first renamed aside in one step
    (``<path>.damaged-<pid>``): a process that looks for it meanwhile finds it whole or not at
    all, never half deleted. A folder another process removed first is no error.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> cache = Path(scratch.name) / "cache"
    >>> cache.mkdir(); _ = (cache / "done").write_text("{")
    >>> remove_directory(cache); remove_directory(cache)
    >>> list(Path(scratch.name).iterdir())
    []
    >>> scratch.cleanup()
    """
    aside = f"{os.fspath(path)}.damaged-{os.getpid()}"
    try:
        os.replace(path, aside)
    except FileNotFoundError:  # another process removed it first
        return
    shutil.rmtree(aside, ignore_errors=True)


def link_problem(path: str | os.PathLike) -> Optional[str]:
    """Why ``path`` cannot become a folder because it, or the nearest of its parents that is on
    the disk, is a symbolic link that leads nowhere: ``"it is a symbolic link loop"`` or
    ``"it is a broken symbolic link (to TARGET)"`` (a parent: its path in place of "it"); None
    otherwise. `os.makedirs` fails on either only with ``File exists``, and `os.path.exists`
    says False, so that a check of the folder passed it and the work was done first.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> root = Path(scratch.name)
    >>> (root / "a").symlink_to("b"); (root / "b").symlink_to("a")
    >>> (root / "gone").symlink_to("/no/such/folder")
    >>> link_problem(root / "a"), link_problem(root / "gone")
    ('it is a symbolic link loop', 'it is a broken symbolic link (to /no/such/folder)')
    >>> link_problem(root / "gone" / "sub").startswith(f"{root / 'gone'} is a broken symbolic")
    True
    >>> link_problem(root / "new" / "sub") is None
    True
    >>> scratch.cleanup()
    """
    target = Path(path)  # its parents as given: a message names them as the user wrote them
    for existing in (target, *target.parents):
        if not os.path.lexists(existing):
            continue  # not there (or under a link that leads nowhere: the next one up says)
        if not existing.is_symlink():
            return None
        try:
            existing.stat()
            return None  # a link to something: the folder check sees what it leads to
        except OSError as err:
            where = "it" if existing == target else str(existing)
            if err.errno == errno.ELOOP:
                return f"{where} is a symbolic link loop"
            return f"{where} is a broken symbolic link (to {os.readlink(existing)})"
    return None


@contextlib.contextmanager
def replacing_file(path: str | os.PathLike) -> Iterator[str]:
    """The temporary name to write the file ``path`` under, renamed to ``path`` in one step
    (`os.replace`) when the block ends, and removed when it raises: a reader, or a run killed
    meanwhile, finds the whole new file or what was there before, never a file cut short by a
    full disk (the writer of the block opens the temporary name itself: a program may write it,
    and the file gets the permissions of any new file).

    The name is hidden beside ``path`` (the same folder, so the rename stays on one disk) and
    keeps its extension (fluidsynth picks the audio format by it): ``.tune.<pid>.tmp.wav``. An
    `OSError` of the block that names no file, or the temporary one, is raised again naming
    ``path`` (``[Errno 28] No space left on device: 'out/tune.wav'``).

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> path = Path(scratch.name) / "tune.abc"
    >>> with replacing_file(path) as tmp, open(tmp, "w") as handle:
    ...     _ = handle.write("X:1")
    >>> with replacing_file(path) as tmp, open(tmp, "w") as handle:
    ...     _ = handle.write("X:")
    ...     raise OSError(28, "No space left on device")
    Traceback (most recent call last):
    ...
    OSError: [Errno 28] No space left on device: '...tune.abc'
    >>> [(p.name, p.read_text()) for p in Path(scratch.name).iterdir()]  # the first, whole
    [('tune.abc', 'X:1')]
    >>> scratch.cleanup()
    """
    final = os.fspath(path)
    folder, name = os.path.split(final)
    stem, ext = os.path.splitext(name)
    tmp = os.path.join(folder, f".{stem}.{os.getpid()}.tmp{ext}")
    try:
        yield tmp
        os.replace(tmp, final)
    except OSError as err:
        _discard(tmp)
        if err.errno is None or err.filename not in (None, tmp):
            raise
        raise OSError(err.errno, err.strerror, final) from err
    except BaseException:
        _discard(tmp)
        raise


def _discard(path: str) -> None:
    """Remove the file ``path`` if it is there (a writer may have failed before creating it)."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
