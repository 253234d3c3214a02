"""The folders a writer (a process saving a cache or an index) writes in before it moves its
files into place, and the judgement of those that a writer killed mid-write left behind.

A writer's folder is named ``<prefix><pid>.<start>@<host>`` (`own_writer_name`): the process
id, its start time (``/proc/<pid>/stat``'s, in clock ticks since boot; left out, with its dot,
where there is no ``/proc``) and the machine (`this_host`). A folder is a dead writer's
(`dead_writer_folders`) when it is this machine's and its process is gone, or the process of
that id started at another time (the id reused since: by this very process too). One of
another machine is never judged by its process id, which says nothing here (a cluster's
shared home, an NFS cache): it is left alone until it has not changed for `STALE_AFTER_S`
(24 h), then taken for a killed writer's, with a warning naming the machine; so is one of
this machine on Windows, where no process is asked after (`os.kill` has no signal 0 there,
only Ctrl-C). Folders named ``<prefix><pid>`` (earlier versions' writers) are judged as they
were: by the id on this machine.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import re
import socket
import stat
import time
from dataclasses import dataclass
from typing import Optional

__all__ = [
    "STALE_AFTER_S",
    "Writer",
    "dead_writer_folders",
    "is_dead_writer",
    "own_writer_name",
    "process_start",
    "this_host",
    "writer_folders",
    "writer_of",
]

logger = logging.getLogger(__name__)

#: Seconds after which another machine's writer's folder that has not changed (neither it nor
#: any entry in it) is taken for a killed writer's: no save or tokenization runs that long
#: without writing, and a machine whose job was killed never comes back to clear its folder.
STALE_AFTER_S = 24 * 3600.0

#: The rest of a writer's folder name after its prefix: ``<pid>[.<start>]@<host>``.
_NAME = re.compile(r"(\d+)(?:\.(\d+))?@([A-Za-z0-9._-]{1,64})")
#: Longest host name kept whole in a folder name; a longer one is cut, with a digest of it.
_HOST_CHARS = 64


@dataclass(frozen=True)
class Writer:
    """Who wrote a writer's folder: ``pid``, its ``start`` time (clock ticks since boot; None
    where not recorded) and its ``host`` (None: an earlier version's folder, ``<prefix><pid>``,
    taken for this machine's)."""

    pid: int
    start: Optional[int] = None
    host: Optional[str] = None

    def __str__(self) -> str:
        """``process 12 on the machine node7`` (``process 12`` for an earlier version's)."""
        where = f" on the machine {self.host}" if self.host is not None else ""
        return f"process {self.pid}{where}"


def this_host() -> str:
    """This machine's name (`socket.gethostname`) as a writer's folder records it: characters
    other than letters, digits, ``.``, ``_`` and ``-`` as ``_``, one longer than 64 characters
    cut to 55 and a digest of the whole (``localhost`` when it has none).

    >>> this_host() == this_host() and len(this_host()) <= 64
    True
    """
    name = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "localhost"
    if len(name) > _HOST_CHARS:
        digest = hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
        name = f"{name[: _HOST_CHARS - 9]}-{digest}"
    return name


def process_start(pid: int) -> Optional[int]:
    """When the process ``pid`` started, in clock ticks since boot (field 22 of
    ``/proc/<pid>/stat``), to tell it from an earlier process of that id; None where it cannot
    be read (no such process, no ``/proc``).

    >>> process_start(os.getpid()) == process_start(os.getpid())
    True
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
        return int(stat[stat.rindex(")") + 2 :].split()[19])  # past the command's name
    except (OSError, ValueError, IndexError):
        return None


def own_writer_name(prefix: str) -> str:
    """The name of this process's writer's folder: ``<prefix><pid>.<start>@<host>``.

    >>> writer = writer_of(own_writer_name("tokenize.tmp-"), "tokenize.tmp-")
    >>> writer.pid == os.getpid() and writer.host == this_host()
    True
    """
    start = process_start(os.getpid())
    return f"{prefix}{os.getpid()}{'' if start is None else f'.{start}'}@{this_host()}"


def writer_of(name: str, prefix: str) -> Optional[Writer]:
    """Who wrote the folder named ``name`` if it is a writer's folder of ``prefix``
    (``<prefix><pid>.<start>@<host>``, or an earlier version's ``<prefix><pid>``); None for any
    other name (``index.tmp-old-12``: the user's).

    >>> writer_of("tokenize.tmp-12.345@node7", "tokenize.tmp-")
    Writer(pid=12, start=345, host='node7')
    >>> writer_of("tokenize.tmp-12", "tokenize.tmp-"), writer_of("idx.tmp-old-2", "idx.tmp-")
    (Writer(pid=12, start=None, host=None), None)
    """
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix) :]
    if rest.isdigit() and rest.isascii():
        return Writer(int(rest))
    found = _NAME.fullmatch(rest)
    if found is None:
        return None
    start = found.group(2)
    return Writer(int(found.group(1)), None if start is None else int(start), found.group(3))


def writer_folders(folder: str | os.PathLike, prefix: str) -> list[tuple[str, Writer]]:
    """The writers' folders ``<folder>/<prefix>...`` (`writer_of`) of any process, sorted, each
    with who wrote it.

    >>> writer_folders("no/such/folder", "index.tmp-")
    []
    """
    pattern = os.path.join(glob.escape(os.fspath(folder)), f"{glob.escape(prefix)}*")
    found = []
    for path in sorted(glob.glob(pattern)):
        writer = writer_of(os.path.basename(path), prefix)
        if writer is not None:
            found.append((path, writer))
    return found


def dead_writer_folders(folder: str | os.PathLike, prefix: str) -> list[str]:
    """The writers' folders ``<folder>/<prefix>...`` of writers that died (killed mid-write):
    this machine's whose process is gone or is another one of that id (started at another
    time), and another machine's that have not changed for `STALE_AFTER_S` (said in a
    warning). One of a live process, this one or another user's, is not listed, nor one of
    another machine younger than that, nor one whose name is no writer's (`writer_of`).

    >>> dead_writer_folders("no/such/folder", "index.tmp-")
    []
    """
    return [path for path, writer in writer_folders(folder, prefix) if _is_dead(path, writer)]


def is_dead_writer(path: str, writer: Writer) -> bool:
    """Whether ``writer``, who wrote the folder or file ``path``, is gone, as
    `dead_writer_folders` judges it (another machine's: ``path`` unchanged for
    `STALE_AFTER_S`)."""
    return _is_dead(path, writer)


def _is_dead(path: str, writer: Writer) -> bool:
    """Whether the writer of the folder ``path`` is gone (`dead_writer_folders`)."""
    if writer.host is not None and writer.host != this_host():
        return _is_stale(path, writer)
    if writer.pid == os.getpid():  # this process, or an earlier one of its id
        own = process_start(writer.pid)
        return None not in (writer.start, own) and writer.start != own
    if os.name == "nt":  # os.kill(pid, 0) is no probe there: it sends Ctrl-C (CTRL_C_EVENT)
        return _is_stale(path, writer)
    try:
        os.kill(writer.pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        pass
    except OverflowError:  # no process has such an id: the user's folder, not a writer's
        return False
    now = process_start(writer.pid) if writer.start is not None else None
    return now is not None and now != writer.start  # the id reused since


def _is_stale(path: str, writer: Writer) -> bool:
    """Whether another machine's writer's folder ``path`` has not changed (nor any entry in
    it) for `STALE_AFTER_S`: then it is taken for a killed writer's, and said in a warning. A
    file ``path`` is judged by its own time."""
    try:
        found = os.lstat(path)
        changed = found.st_mtime
        if stat.S_ISDIR(found.st_mode):
            with os.scandir(path) as entries:
                for entry in entries:
                    changed = max(changed, entry.stat(follow_symlinks=False).st_mtime)
    except OSError:  # gone meanwhile, or not readable: left to its writer
        return False
    idle = time.time() - changed
    if idle < STALE_AFTER_S:
        return False
    logger.warning(
        "%s was written by %s and has not changed for %.0f h: taken for a killed writer's "
        "(this machine cannot see that process) and cleared",
        path,
        writer,
        idle / 3600,
    )
    return True
