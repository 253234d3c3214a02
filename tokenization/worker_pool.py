"""A function mapped over many items in worker processes, the results in the items' order: the
``--jobs`` of ``irish-tune check``.

>>> with WorkerPool(2) as pool:
...     list(pool.map(abs, [-3, 1, -2]))
[3, 1, 2]
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["AUTO_MIN_ITEMS", "MAX_DEFAULT_JOBS", "WorkerPool", "default_jobs"]

_T = TypeVar("_T")

#: The most processes `default_jobs` gives: past a few, starting them costs more than they save
#: on the runs a command line sees, and a shared machine is left some CPUs
MAX_DEFAULT_JOBS = 8
#: How many items a `WorkerPool` of ``jobs=None`` (the default) maps in one process before it
#: starts its workers: a small run finishes before they would have started (about 0.2 s each)
AUTO_MIN_ITEMS = 500
#: Items a worker is sent at a time: few enough messages that passing them costs little, small
#: enough batches that the workers share the work evenly and the progress bar moves
_CHUNKSIZE = 32


def default_jobs() -> int:
    """How many worker processes a run uses by default: the CPUs this process may run on (its
    affinity, which a container or ``taskset`` limits), at most `MAX_DEFAULT_JOBS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_JOBS))


def _ignore_interrupts() -> None:
    """A worker leaves Ctrl-C to the main process, which stops the workers (`WorkerPool.close`):
    one line on the terminal, not a traceback from each worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class WorkerPool:
    """Map functions over items in ``jobs`` processes, the results in the items' order
    (`map`); ``jobs=1`` maps them in this process, and ``jobs=None`` too until `AUTO_MIN_ITEMS`
    items have been, then in `default_jobs` processes. The processes start at the first `map`
    that needs them (``spawn``: no copy of this process's threads or state), and stop at
    `close`, which a ``with`` block calls, on an error or Ctrl-C too. A function and its items
    must pickle (a module's function, dataclasses); an error in one is raised by `map`'s
    iterator, where that item's result would be."""

    def __init__(self, jobs: int | None = None) -> None:
        if jobs is not None and jobs < 1:
            raise ValueError(f"jobs must be 1 or more, got {jobs}")
        self.jobs = jobs
        self.mapped = 0  # items mapped so far
        self._pool: Any = None

    def _workers(self, items: int) -> int:
        """How many processes map the next ``items`` items (1: this one)."""
        if self.jobs is None:
            started = self._pool is not None or self.mapped + items >= AUTO_MIN_ITEMS
            return default_jobs() if started else 1
        return self.jobs if items > 1 or self._pool is not None else 1

    def map(self, function: Callable[[Any], _T], items: Sequence[Any]) -> Iterator[_T]:
        """``function`` of each of ``items``, in their order, as the results come."""
        workers = self._workers(len(items))
        self.mapped += len(items)
        if workers == 1:
            return map(function, items)
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(workers, initializer=_ignore_interrupts)
        return self._pool.imap(function, items, chunksize=_CHUNKSIZE)

    def close(self, finished: bool = True) -> None:
        """Stop the workers: let them finish when ``finished`` (every result was read), else
        (an error, Ctrl-C) end them at once."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if finished:
            pool.close()
        else:
            pool.terminate()
        pool.join()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(finished=exc_type is None)
