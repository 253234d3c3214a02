"""The errors that stop a run, each of which the command line (`training.train.cli`) prints as
one line: bad input (`UsageError`), a failed upload (`UploadError`), a write the disk refused
(`WriteError`), which `writing` makes of what the disk and the libraries raise when it is full or
read-only, a local file in the way or refused (`file_failure`: a file where a folder goes, a folder
this user may not read), and a collective of a multi-process launch that timed out or lost a process
(`collective_failure`). All but the last are re-exported by `training.common`, where the training
modules take them from; this module imports only the standard library, safetensors and
`tokenization.hub_errors` (standard library alone: ``train.py --help`` loads no torch).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
from collections.abc import Iterator

from safetensors import SafetensorError

from tokenization.hub_errors import DISK_ERRNOS  # re-exported: one set for the Hub's and ours

__all__ = [
    "DISK_ERRNOS",
    "TRACEBACK_ENV",
    "UploadError",
    "UsageError",
    "WriteError",
    "collective_failure",
    "disk_trouble",
    "file_failure",
    "write_failure",
    "writing",
]


class UsageError(ValueError):
    """Bad input found once the run has started (e.g. a thesession dump that is not one): the
    command line (`cli`) prints it as one line and exits with status 2, as argparse does."""


class UploadError(RuntimeError):
    """The upload that ends a ``--push_to_hub`` run failed (the Hub refused it, or could not be
    reached): the model is saved, and the command line (`cli`) prints one line that says where
    and how to upload it later, and exits with status 1."""


class WriteError(OSError):
    """A file of the run cannot be written: its disk is full, or its folder read-only or not
    writable (`writing`). The command line (`cli`) prints ``cannot write <path>: <reason>`` as
    one line and exits with status 1; the checkpoints saved before are whole (each is renamed
    into place only once written).

    >>> str(WriteError(errno.ENOSPC, os.strerror(errno.ENOSPC), "runs/r/.tmp-step_2"))
    'cannot write runs/r/.tmp-step_2: No space left on device'
    """

    def __str__(self) -> str:
        return write_failure(self)


#: The errors (permission) that say the disk made a write fail only for a file inside the folder
#: being written (elsewhere it may be a file read); `DISK_ERRNOS` say so whatever the file.
_PERMISSION_ERRNOS = (errno.EACCES, errno.EPERM)
#: Less free space than this on a file system counts as full (`disk_trouble`).
_FULL_BELOW = 1 << 20


@contextlib.contextmanager
def writing(path: str) -> Iterator[None]:
    """Turn the failure of a write under ``path`` (a file, or a folder a save fills) that the
    disk made into a `WriteError` naming the file: an `OSError` of `DISK_ERRNOS` (named by the
    file it gives, the destination of a copy, else ``path``), and what libraries raise instead
    when the disk is full or read-only, found by `disk_trouble` (torch's zip writer:
    ``RuntimeError: [enforce fail at inline_container.cc:672] . unexpected pos``; safetensors'
    ``SafetensorError: Error while serializing: I/O error``; a stream whose flush failed:
    ``ValueError: I/O operation on closed file``). Any other error goes on as it is: a bug
    keeps its traceback.

    >>> with writing("runs/r/train_log.jsonl"):
    ...     raise OSError(errno.EROFS, "Read-only file system")
    Traceback (most recent call last):
    ...
    training.errors.WriteError: cannot write runs/r/train_log.jsonl: Read-only file system
    """
    try:
        yield
    except (WriteError, UsageError, UploadError):
        raise
    except OSError as err:
        name = _file_name(err) or path
        inside = _inside(name, path)
        if err.errno not in DISK_ERRNOS and not (err.errno in _PERMISSION_ERRNOS and inside):
            raise
        raise WriteError(err.errno, os.strerror(err.errno), name) from err
    except (RuntimeError, ValueError, SafetensorError) as err:
        code = disk_trouble(path)
        if code is None:
            raise
        raise WriteError(code, os.strerror(code), path) from err


def _inside(name: str, path: str) -> bool:
    """Whether the file ``name`` is ``path`` or lies under it.

    >>> _inside("runs/r/.tmp-model/config.json", "runs/r/.tmp-model"), _inside("runs/rb", "runs/r")
    (True, False)
    """
    name, path = os.path.abspath(name), os.path.abspath(path)
    return name == path or name.startswith(path.rstrip(os.sep) + os.sep)


def disk_trouble(path: str) -> int | None:
    """``errno.EROFS`` when the file system that holds ``path`` (or its nearest folder that
    exists) is read-only, ``errno.ENOSPC`` when it has less than 1 MiB free, else None.

    >>> disk_trouble(os.path.join(os.path.dirname(__file__), "no", "such", "file")) is None
    True
    """
    folder = os.path.abspath(path)
    while not os.path.exists(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs (Windows): the error is left as it is
        return None
    if stat.f_flag & os.ST_RDONLY:
        return errno.EROFS
    return errno.ENOSPC if stat.f_bavail * stat.f_frsize < _FULL_BELOW else None


def write_failure(err: OSError) -> str:
    """The line `training.train.cli` prints for a write the disk refused: ``cannot write
    <path>: <reason>`` (the destination of a failed copy; no path when the error gives none).

    >>> write_failure(OSError(errno.ENOSPC, "No space left on device", "a.py", None, "out/a.py"))
    'cannot write out/a.py: No space left on device'
    """
    name, reason = _file_name(err), os.strerror(err.errno) if err.errno else str(err)
    return f"cannot write {name}: {reason}" if name else f"cannot write: {reason}"


#: The errors of a local file that something in the way or the file system refused: permission
#: denied, a folder where a file goes or a file where a folder goes, a loop of links, a failed read.
_PATH_ERRNOS = (errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.ELOOP, errno.EIO)


def file_failure(err: BaseException) -> str | None:
    """The line `training.train.cli` prints for a local file the run could not read, write or
    move into place (a built-in `OSError` of `_PATH_ERRNOS` that names its file): ``<path>:
    <reason>``, or ``cannot move <from> to <to>: <reason>`` for a rename, with the switch that
    shows where it was met. None for any other error: a `FileNotFoundError` (the files the user
    names are checked before the run, `training.arguments.parse_args`, so a file of the run's
    own that is missing is a bug's) or a library's `OSError` keeps its traceback.

    >>> print(file_failure(NotADirectoryError(errno.ENOTDIR, "Not a directory", "c/a.tmp", None,
    ...                                       "c/a")))
    cannot move c/a.tmp to c/a: Not a directory (TRAIN_TRACEBACK=1 prints where it was met)
    >>> file_failure(FileNotFoundError(errno.ENOENT, "No such file or directory", "a.json")) is None
    True
    """
    if not isinstance(err, OSError) or type(err).__module__ != "builtins":
        return None
    if err.errno not in _PATH_ERRNOS or err.filename is None:
        return None
    name, reason = _path_text(err.filename), os.strerror(err.errno)
    tail = f"({TRACEBACK_ENV}=1 prints where it was met)"
    if err.filename2 is not None:
        target = _path_text(err.filename2)
        return f"cannot move {name} to {target}: {reason}{_in_the_way(target)} {tail}"
    return f"{name}: {reason} {tail}"


def _in_the_way(target: str) -> str:
    """What to do about the destination ``target`` of a failed rename, when it is a file where
    a folder goes (a cache entry ``abc-tokenizer-<digest>`` left as a file): the bare errno
    (``Not a directory``) did not say which of the two paths was wrong, nor that the fix is to
    delete it. Empty when ``target`` is a folder or is not there.

    >>> _in_the_way("no/such/target")
    ''
    """
    if os.path.lexists(target) and not os.path.isdir(target):
        return f" ({target} is a file in the way of that folder: delete it, or move it away)"
    return ""


def _file_name(err: OSError) -> str | None:
    """The file an `OSError` names: the destination of a failed copy or rename, else its only
    one; None when it names none."""
    name = err.filename2 if err.filename2 is not None else err.filename
    return None if name is None else _path_text(name)


def _path_text(name: object) -> str:
    """A file name an `OSError` gives (a path, bytes, or a file descriptor) as text."""
    return os.fsdecode(name) if isinstance(name, (str, bytes, os.PathLike)) else str(name)


#: Set to 1, the command line prints torch's traceback of a failed collective before its line.
TRACEBACK_ENV = "TRAIN_TRACEBACK"
#: What gloo and torch's store say (lower-cased) when a collective waited past the process
#: group's timeout (``--ddp_timeout``), and when the process at its other end has stopped.
_TIMEOUT_SIGNS = (
    "timed out waiting",  # gloo: "Timed out waiting 120000ms for recv operation to complete"
    "application timeout caused pair closure",
    "wait timeout after",  # the store: "wait timeout after 120000ms, keys: ..."
    "socket timeout",
)
_PEER_LOST_SIGNS = ("connection closed by peer", "connection reset by peer", "broken pipe")


def collective_failure(err: BaseException) -> str | None:
    """The line `training.train.cli` prints, in each process, when a collective (a barrier, a
    gradient all-reduce) failed because another process of the launch stopped or is stuck: it
    waited past ``--ddp_timeout`` (gloo's plain ``RuntimeError``, torch's ``DistStoreError``), or
    the other process's socket closed (``Connection closed by peer``); ``err`` or an error it
    was raised from. None for any other error (a bug keeps its traceback).

    >>> print(collective_failure(RuntimeError(
    ...     "[third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:78] Timed out waiting "
    ...     "120000ms for recv operation to complete")))  # doctest: +ELLIPSIS
    this process waited 120 s at a collective for the others (--ddp_timeout): another process ...
    >>> collective_failure(RuntimeError("Timed out waiting for the kettle")) is None  # not gloo's
    True
    """
    for error in _chain(err):
        text = str(error).lower()
        if not isinstance(error, RuntimeError) or not (_distributed(error) or "gloo" in text):
            continue
        tail = f"see its output above ({TRACEBACK_ENV}=1 prints torch's traceback)"
        if any(sign in text for sign in _TIMEOUT_SIGNS):
            ms = re.search(r"(\d+)\s*ms\b", text)
            waited = f"{int(ms[1]) / 1000:g} s" if ms else "its --ddp_timeout"
            return (
                f"{_process()} waited {waited} at a collective for the others (--ddp_timeout): "
                f"another process stopped or is stuck; {tail}"
            )
        if any(sign in text for sign in _PEER_LOST_SIGNS):
            return (
                f"{_process()} lost another process of the launch at a collective (its "
                f"connection closed): that process stopped; {tail}"
            )
    return None


def _chain(err: BaseException) -> Iterator[BaseException]:
    """``err`` and the errors it was raised from or while handling, each once."""
    seen: set[int] = set()
    error: BaseException | None = err
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _distributed(err: BaseException) -> bool:
    """Whether ``err`` is one of torch.distributed's errors (torch is not imported for it: an
    error of torch's comes from a process that has imported it)."""
    dist = sys.modules.get("torch.distributed")
    base = getattr(dist, "DistError", None)
    return isinstance(base, type) and isinstance(err, base)


def _process() -> str:
    """This process as a line names it: ``process <RANK>`` of the launch."""
    rank = os.environ.get("RANK")
    return f"process {rank}" if rank is not None else "this process"
