"""A function mapped over many items in worker processes, the results in the items' order: the
``--jobs`` of ``irish-tune check``, the ``num_proc`` of `modeling_irish.load_abc_corpus`.

>>> with WorkerPool(2) as pool:
...     list(pool.map(abs, [-3, 1, -2]))
[3, 1, 2]
"""

from __future__ import annotations

import ast
import inspect
import logging
import multiprocessing
import os
import signal
import sys
import tokenize
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

__all__ = [
    "AUTO_MIN_ITEMS",
    "MAX_DEFAULT_JOBS",
    "WorkerPool",
    "default_jobs",
    "in_main_guard",
    "unguarded_main_call",
]

logger = logging.getLogger(__name__)

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


def _is_main_test(test: ast.expr) -> bool:
    """Whether an ``if`` test is ``__name__ == "__main__"`` (either way round)."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    name = any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
    main = any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides)
    return isinstance(test.ops[0], ast.Eq) and name and main


def in_main_guard(source: str, line: int) -> bool:
    """Whether ``line`` of a script's ``source`` is inside the body of an
    ``if __name__ == "__main__":`` block (not its ``else``), which a worker that imports the
    script (``spawn``) does not run.

    >>> script = "import x\\nif __name__ == '__main__':\\n    x.run()\\nelse:\\n    x.run()\\n"
    >>> [in_main_guard(script, line) for line in (1, 3, 5)]
    [False, True, False]
    """
    return any(
        isinstance(node, ast.If)
        and _is_main_test(node.test)
        and node.body[0].lineno <= line <= (node.body[-1].end_lineno or node.body[-1].lineno)
        for node in ast.walk(ast.parse(source))
    )


def unguarded_main_call() -> str | None:
    """Where (``script.py:12``) the main script's top-level code, outside
    ``if __name__ == "__main__":``, is running this call, or None where it is not. Each worker
    that ``spawn`` starts runs that code again as it imports the script: it would call again,
    which multiprocessing refuses in a worker, and the pool would start another worker, and
    another, never returning. None too where no worker imports the script (a notebook, the
    interpreter's prompt, ``python -c``) or its source cannot be read (no telling)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    line = _main_line(vars(main)) if path else None
    if not path or line is None:
        return None
    try:
        with tokenize.open(path) as handle:
            guarded = in_main_guard(handle.read(), line)
    except (OSError, SyntaxError, ValueError):  # gone, compiled only, not Python: no telling
        return None
    return None if guarded else f"{path}:{line}"


def _main_line(main: dict[str, Any]) -> int | None:
    """The line the main script's top-level code (its globals: ``main``) is running in this
    call's stack, or None where it is not there (a thread, ``atexit``)."""
    frame = inspect.currentframe()
    try:
        while frame is not None:
            if frame.f_code.co_name == "<module>" and frame.f_globals is main:
                return frame.f_lineno
            frame = frame.f_back
        return None
    finally:
        del frame  # a frame held in a local is a reference cycle (see `inspect`'s docs)


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
    iterator, where that item's result would be. ``start_method="fork"`` (where the system has
    it) starts the processes as copies of this one instead: nothing to import, the quickest start
    on Linux; ``chunksize`` items are sent to a worker at a time.

    Called from a script's top-level code outside ``if __name__ == "__main__":``
    (`unguarded_main_call`), where each worker would run the script again, the pool starts no
    worker: it maps in this process, and one warning names the line to put under the guard. So
    does a pool that cannot start (no processes or semaphores left to this one): every item is
    still mapped, with one warning that names the error."""

    def __init__(
        self, jobs: int | None = None, *, start_method: str = "spawn", chunksize: int = _CHUNKSIZE
    ) -> None:
        if jobs is not None and jobs < 1:
            raise ValueError(f"jobs must be 1 or more, got {jobs}")
        if chunksize < 1:
            raise ValueError(f"chunksize must be 1 or more, got {chunksize}")
        self.jobs = jobs
        self.start_method = start_method
        self.chunksize = chunksize
        self.mapped = 0  # items mapped so far
        self._pool: Any = None
        self._in_process = False  # True once the main script is found unguarded: no workers

    def _workers(self, items: int) -> int:
        """How many processes map the next ``items`` items (1: this one)."""
        if self._in_process:
            return 1
        if self.jobs is None:
            started = self._pool is not None or self.mapped + items >= AUTO_MIN_ITEMS
            return default_jobs() if started else 1
        return self.jobs if items > 1 or self._pool is not None else 1

    def map(self, function: Callable[[Any], _T], items: Sequence[Any]) -> Iterator[_T]:
        """``function`` of each of ``items``, in their order, as the results come."""
        workers = self._workers(len(items))
        self.mapped += len(items)
        if workers > 1 and self._pool is None and self.start_method != "fork":
            self._in_process = self._unguarded(workers)  # a fork does not run the script again
        if workers > 1 and self._pool is None and not self._in_process:
            self._pool = self._start(workers)
            self._in_process = self._pool is None
        if workers == 1 or self._in_process:
            return map(function, items)
        return self._pool.imap(function, items, chunksize=self.chunksize)

    def _start(self, workers: int) -> Any:
        """A pool of ``workers`` processes, or None (after one warning that names the error)
        where they cannot start: the items are then mapped in this process."""
        try:
            context = multiprocessing.get_context(self.start_method)
            return context.Pool(workers, initializer=_ignore_interrupts)
        except (OSError, ImportError, ValueError) as err:  # no processes, no sem_open, no method
            logger.warning(
                "working in this process, not %d worker processes: they could not start (%s)",
                workers,
                err,
            )
            return None

    @staticmethod
    def _unguarded(workers: int) -> bool:
        """Whether the main script runs this call unguarded (`unguarded_main_call`): then one
        warning says so, and the items are mapped in this process."""
        where = unguarded_main_call()
        if where is not None:
            logger.warning(
                "%s: working in this process, not %d worker processes: this line runs outside "
                '`if __name__ == "__main__":`, so each worker would run the script again '
                "(put it under that guard to use them)",
                where,
                workers,
            )
        return where is not None

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
