"""The locks of a name-that-tune index folder (`tune_index_files`): one save of a folder at a
time (`save_lock`, an exclusive `fcntl.flock` of the folder's `.tune_index.lock`), which loads
share (`load_lock`), so that a load never finds a folder half swapped; the wait for a holder,
with a warning naming it, a file system without locks, and the folder a save makes (its entry
flushed to the disk: `sync_folder`).

Where there is no `fcntl` (Windows), nothing is locked: saves go on as on a file system without
locks (`_unlocked_save`, with a warning) and loads read unlocked. `msvcrt.locking` is not used
in its place: it has no shared lock for loads to hold together, and it locks bytes of a file
for reads too, where a save here must only keep other saves and loads out."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections.abc import Iterator
from typing import Optional

from tokenization.writer_folders import this_host

from .file_utils import discard_file

try:
    import fcntl
except ImportError:  # Windows: no flock; saves and loads go unlocked (`_flock`)
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "SAVE_LOCK_WAIT_S",
    "load_lock",
    "save_lock",
    "sync_folder",
]

logger = logging.getLogger(__name__)

#: The lock file of a save in the index folder (`save_lock`): it holds the saving process's id
#: and machine, ``<pid> <host>`` (`_holder`; the id alone from earlier versions).
_LOCK = ".tune_index.lock"
#: Seconds a save waits for another save of the same folder to end before it gives up.
SAVE_LOCK_WAIT_S = 120.0


@contextlib.contextmanager
def save_lock(path: str, make: bool = True, wait_s: Optional[float] = None) -> Iterator[None]:
    """Hold the index folder ``path`` (made if need be; not when ``make`` is False, for a load
    that mends a folder, where one not there is a `FileNotFoundError`) for one save: an
    exclusive `fcntl.flock` of its `_LOCK` file, which holds this process's id and machine
    (`_holder`) for a save that waits meanwhile (and says so in a warning) or gives up after
    ``wait_s`` seconds (None: `SAVE_LOCK_WAIT_S`), with an `OSError` naming the folder and the
    process that holds it (0: a `BlockingIOError` at once, unsaid, for a load that only tidies
    the folder).
    The lock ends with the process that holds it, killed or not; the file is removed when the save
    ends (or when its flock fails for another reason than a file system without locks, if this save
    made it), and so is the folder if this save made it and failed (nothing else in it).

    >>> with save_lock("example-locked"):  # made, and held: its lock file names this process
    ...     os.listdir("example-locked") == [_LOCK]
    True
    >>> os.listdir("example-locked")  # the save ended: no lock file left
    []
    """
    wait_s = SAVE_LOCK_WAIT_S if wait_s is None else wait_s
    deadline, waited, made = time.monotonic() + wait_s, False, False
    lock = os.path.join(path, _LOCK)
    while True:
        if make:
            made = _make_index_folder(path) or made  # made before waiting: still this save's
        try:
            handle, created = _open_lock_to_save(lock)
        except FileNotFoundError:  # the folder a failed save made was removed meanwhile
            if not make:
                raise
            continue
        except OSError as err:
            raise OSError(f"cannot lock {lock} to save the index: {err.strerror or err}") from err
        try:
            _flock(handle, exclusive=True)
        except BlockingIOError:
            if not wait_s:
                os.close(handle)
                raise BlockingIOError(errno.EAGAIN, "another save or a load holds it") from None
            cannot = f"cannot save the index into {path}"
            waited = _wait_for_holder(
                handle, path, (deadline, wait_s), waited, cannot, "another save"
            )
            continue
        except OSError as err:
            os.close(handle)
            if err.errno not in _NO_LOCKS:
                _undo_failed_lock(path, lock, made, created)
                raise OSError(
                    f"cannot lock {lock} to save the index: {err.strerror or err}"
                ) from err
            with _unlocked_save(path, lock, made, err):  # a file system without locks
                yield
            return
        if _is_file(handle, lock):
            break
        os.close(handle)  # locked once a save that ended had removed it: open the new one
    failed = False
    try:
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()} {this_host()}\n".encode("ascii"), 0)
        yield
    except BaseException:
        failed = True
        raise
    finally:
        discard_file(lock)  # one that will not go: a warning, not raised over the save's error
        if failed and made:
            with contextlib.suppress(OSError):  # not empty: another save's files are in it
                os.rmdir(path)
        os.close(handle)


def _open_lock_to_save(lock: str) -> tuple[int, bool]:
    """A handle on the lock file ``lock`` of a save, made if need be, and whether this call
    made it; a `FileNotFoundError` when the folder is not there."""
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
    except FileExistsError:
        return os.open(lock, os.O_RDWR), False


def _undo_failed_lock(path: str, lock: str, made: bool, created: bool) -> None:
    """Remove the lock file of a save whose flock failed, if it made it (then empty: nobody
    else locked it), and the folder ``path`` if it made that too: a failed save leaves
    neither."""
    if created:
        discard_file(lock)
    if made:
        with contextlib.suppress(OSError):  # not empty: another save's files are in it
            os.rmdir(path)


def _flock(handle: int, exclusive: bool) -> None:
    """Lock the open file ``handle`` without waiting: an exclusive `fcntl.flock` (a save's) or
    a shared one (a load's); a `BlockingIOError` while another holds it. Where there is no
    `fcntl` (Windows) an `OSError` with ``ENOSYS``, as from a file system without locks
    (`_NO_LOCKS`): the save or load goes on unlocked."""
    if fcntl is None:
        raise OSError(errno.ENOSYS, "this system has no file locks (no fcntl)")
    fcntl.flock(handle, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)


#: `flock` errors of a file system that has no locks (some NFS and SMB mounts): a save goes on
#: unlocked, as saves did before they were locked, with a warning.
_NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})


@contextlib.contextmanager
def _unlocked_save(path: str, lock: str, made: bool, err: OSError) -> Iterator[None]:
    """A save into ``path`` on a file system whose `flock` failed with ``err``: said in a
    warning (two saves at once are not kept apart there); the lock file is removed when the
    save ends, and so is the folder if this save made it and failed."""
    logger.warning(
        "cannot lock %s (%s): saving the index without a lock; do not save into it from two "
        "processes at once",
        lock,
        err.strerror or err,
    )
    try:
        yield
    except BaseException:
        if made:
            with contextlib.suppress(OSError):
                os.remove(lock)
                os.rmdir(path)
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(lock)


def _wait_for_holder(
    handle: int, path: str, until: tuple[float, float], waited: bool, cannot: str, save: str
) -> bool:
    """Wait a moment for the save or the loads that hold the lock file open on ``handle`` (which
    is closed) of the index folder ``path``; ``True``, as ``waited`` is once the first wait
    said whom it waits for in a warning. ``until`` is the deadline (`time.monotonic`) and the
    seconds of the whole wait that it ends (``wait_s`` of `save_lock`), which the error names:
    past the deadline an `OSError` says ``cannot``, and
    names the holder: ``save`` (``another save``, ``a save``) with the process id (and machine,
    when another: `_holder`) a save writes into the file, or a load (loads share the lock,
    and write nothing in it)."""
    holder = _holder(os.pread(handle, 128, 0).decode("ascii", "replace"))
    os.close(handle)
    who = f"{save} ({holder})" if holder else "a load of it"
    deadline, wait_s = until
    if time.monotonic() >= deadline:
        raise OSError(
            f"{cannot}: {who} has held it for over {wait_s:g} s "
            f"(its lock: {os.path.join(path, _LOCK)})"
        ) from None
    if not waited and holder:
        logger.warning("waiting for %s, which is saving the index %s", holder, path)
    elif not waited:
        logger.warning("waiting for a load of the index %s to end", path)
    time.sleep(0.05)
    return True


def _holder(text: str) -> str:
    """Who holds a save's lock, from its file's ``text`` (``<pid> <host>``, or ``<pid>`` of an
    earlier version): ``process 12``, and the machine when it is not this one (on a file system
    that several share, the id alone would send the user looking for it here); empty for none.

    >>> _holder("12 node-b7\\n"), _holder(f"12 {this_host()}"), _holder("12"), _holder("")
    ('process 12 on the machine node-b7', 'process 12', 'process 12', '')
    """
    pid, _, host = text.strip().partition(" ")
    if not pid:
        return ""
    return f"process {pid}" + (f" on the machine {host}" if host and host != this_host() else "")


def _make_index_folder(path: str) -> bool:
    """Make the index folder ``path`` if it is not there, its entry in the parent folder flushed
    to the disk (the index's files are, and a power cut must not take the folder that holds
    them); whether this call made it. A file (or a symbolic link that leads nowhere) in its
    place is a `NotADirectoryError`, a folder that cannot be made an `OSError` naming it."""
    if os.path.isdir(path):
        return False
    if os.path.lexists(path):
        raise NotADirectoryError(f"cannot save the index into {path}: it is not a folder")
    try:
        os.makedirs(path)
    except FileExistsError:  # another save made it meanwhile
        return False
    except OSError as err:
        raise OSError(f"cannot make the folder {path}: {err.strerror or err}") from err
    try:
        sync_folder(os.path.dirname(path) or ".")
    except OSError as err:
        with contextlib.suppress(OSError):
            os.rmdir(path)
        raise OSError(f"cannot make the folder {path}: {err.strerror or err}") from err
    return True


def _is_file(handle: int, lock: str) -> bool:
    """Whether ``handle`` is open on the file ``lock`` is now (a save that ends removes it, so
    that one that opened it before then may lock a file no longer there)."""
    try:
        return os.stat(lock).st_ino == os.fstat(handle).st_ino
    except FileNotFoundError:
        return False


def sync_folder(folder: str) -> None:
    """Flush the entries of ``folder`` (files made, renamed or removed in it) to the disk; a
    file system that cannot flush a folder (``EINVAL``) is passed over, and so is a folder
    that cannot be opened to flush it (`PermissionError`: Windows opens no folder this way)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except PermissionError:
        return
    try:
        os.fsync(handle)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(handle)


@contextlib.contextmanager
def load_lock(path: str) -> Iterator[None]:
    """Hold the index folder ``path`` for one load: a shared `fcntl.flock` of its `_LOCK` file,
    which other loads share and a save does not (`save_lock`). A save that holds it is waited
    for as a save waits for another, up to `SAVE_LOCK_WAIT_S` seconds (with a warning), and
    then an `OSError` names the folder and the save's process. A folder that is not there, a
    lock file this user may neither make nor open, or a file system without locks (where saves
    go unlocked too, with a warning: `_unlocked_save`) is read without one. The lock file goes
    with the last load that holds it, as with a save."""
    deadline, waited = time.monotonic() + SAVE_LOCK_WAIT_S, False
    lock = os.path.join(path, _LOCK)
    while True:
        handle = _open_lock_to_read(lock)
        if handle is None:
            break
        try:
            _flock(handle, exclusive=False)
        except BlockingIOError:
            cannot = f"cannot load the index {path}"
            waited = _wait_for_holder(
                handle, path, (deadline, SAVE_LOCK_WAIT_S), waited, cannot, "a save"
            )
            continue
        except OSError:  # a file system without locks: read unlocked, as saves there write
            os.close(handle)
            handle = None
            with contextlib.suppress(OSError):  # a lock file there guards nothing: not left
                os.remove(lock)
            break
        if _is_file(handle, lock):
            break
        os.close(handle)  # locked once a save or load that ended had removed it: open anew
    try:
        yield
    finally:
        if handle is not None:
            _end_load_lock(handle, lock)


def _open_lock_to_read(lock: str) -> Optional[int]:
    """A handle on the lock file ``lock`` of a load, made if need be; None when the folder is
    not there (or is no folder) or this user may neither make nor open the file."""
    try:
        return os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644)
    except FileNotFoundError:
        return None
    except OSError:  # a folder this user may not write: a save's lock may be there
        with contextlib.suppress(OSError):
            return os.open(lock, os.O_RDONLY)
        return None


def _end_load_lock(handle: int, lock: str) -> None:
    """End a load's lock: the last holder removes the lock file (under an exclusive lock, as a
    save does, so that one waiting finds it gone and opens the next); while another load
    holds it, it is left to that one."""
    try:
        _flock(handle, exclusive=True)
        if _is_file(handle, lock):
            os.remove(lock)
    except OSError:  # another load holds it, or a folder this user may not write
        pass
    finally:
        os.close(handle)
