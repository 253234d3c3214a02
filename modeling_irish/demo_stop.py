"""How the demo stops (a part of demo_app.py): the Generate tab's requests under way
(`RequestsUnderWay`), its server closed within a fraction of a second (`close_now`), SIGTERM
taken as a stop asked for (`stop_on_sigterm`), the port taken said in words (`launch_app`), and
the line the demo says on stderr as it stops (`stop_line`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Any

__all__ = [
    "RequestsUnderWay",
    "close_now",
    "launch_app",
    "stop_line",
    "stop_on_sigterm",
]


class RequestsUnderWay:
    """The Generate tab's requests under way, each with the flag that stops its sampling
    (`TuneGenerator.generate`'s ``should_stop``), and how many were cut short: by the page's
    Stop (gradio cancels the request's task) or by the server stopping (`cut_all`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: set[threading.Event] = set()
        self.cut_short = 0

    def start(self) -> threading.Event:
        """A new request's stop flag, counted as under way until `end`."""
        flag = threading.Event()
        with self._lock:
            self._flags.add(flag)
        return flag

    def end(self, flag: threading.Event, cut: bool = False) -> None:
        """The request of ``flag`` is over; ``cut``: cut short, its sampling told to stop (once:
        a request `cut_all` already cut is not counted again)."""
        with self._lock:
            if flag not in self._flags:
                return
            self._flags.remove(flag)
            if cut:
                flag.set()
                self.cut_short += 1

    def cut_all(self) -> int:
        """Cut short every request still under way (the server stopped); returns how many."""
        with self._lock:
            flags, self._flags = self._flags, set()
            for flag in flags:
                flag.set()
            self.cut_short += len(flags)
        return len(flags)


def stop_line(signal_name: str | None, cut: int) -> str:
    """What the demo says on stderr as it stops: by ``signal_name`` (None: Ctrl-C, whose own
    line follows), and the ``cut`` requests under way that the stop cut short, if any.

    >>> stop_line("SIGTERM", 0), stop_line("SIGTERM", 2), stop_line(None, 1)
    ('irish-tune demo: stopped (SIGTERM)', 'irish-tune demo: stopped (SIGTERM); 2 requests cut \
short', 'irish-tune demo: 1 request cut short')
    """
    said = f"{cut} request{'s' if cut != 1 else ''} cut short" if cut else ""
    if signal_name is None:
        return f"irish-tune demo: {said}"
    return f"irish-tune demo: stopped ({signal_name})" + (f"; {said}" if said else "")


#: How long a stopping demo lets a request under way end by itself before cancelling it (s).
_GRACE_S = 0.2

#: uvicorn's line (as logged, before formatting) for the requests a stop cut short.
_CANCEL_LINE = "Cancel %s running task(s), timeout graceful shutdown exceeded"


def close_now(demo: Any, under_way: RequestsUnderWay | None = None) -> int:
    """Close ``demo``'s server within a fraction of a second, a request under way or not;
    returns how many of ``under_way``'s requests the close cut short (those cancelled as it
    closed, and those still under way after it, whose sampling is told to stop).

    uvicorn's graceful shutdown waits for its open connections to end, and a request under way
    keeps the queue's event stream open until its tune is sampled: gradio's ``close`` gave up
    on its server thread after 5 s (a stop took ~5.7 s, ~0.8 s idle). Given 0.2 s, uvicorn
    cancels the request's task instead. The tune being sampled or rendered is abandoned in its
    worker thread (a daemon, as the server's thread that started it), which dies with the
    process; what it rendered is in the demo's temporary folder, removed on the way out. The
    count is said by the demo's own stop line (`stop_line`): uvicorn's ("Cancel N running
    task(s)"), filtered out with the cancellations' tracebacks, counts its tasks, not requests."""
    under_way = under_way or RequestsUnderWay()
    before = under_way.cut_short
    server = getattr(demo, "server", None)
    if server is None:
        demo.close()
    else:
        _close_quietly(demo, server)
    under_way.cut_all()
    return under_way.cut_short - before


def _close_quietly(demo: Any, server: Any) -> None:
    """Close ``demo``, its uvicorn ``server`` given `_GRACE_S` to end its requests, without the
    noise of the cancellations (`_not_stop_noise`)."""
    # only while closing: before a stop, any cancellation uvicorn logs is a fault, and shown
    log = logging.getLogger("uvicorn.error")
    log.addFilter(_not_stop_noise)
    server.config.timeout_graceful_shutdown = _GRACE_S
    try:
        demo.close()  # joins the server's thread: uvicorn has logged all it will
    finally:
        log.removeFilter(_not_stop_noise)


def _not_stop_noise(record: logging.LogRecord) -> bool:
    """Whether a ``uvicorn.error`` record is more than the noise of a stop asked for: the
    tracebacks of the tasks it cancels (`asyncio.CancelledError`, the request's and the app's
    lifespan) and uvicorn's line counting them. Any other error still logs."""
    if record.exc_info and record.exc_info[0] is asyncio.CancelledError:
        return False
    return record.msg != _CANCEL_LINE


def launch_app(demo: Any, port: int) -> None:
    """Start ``demo``'s server on 127.0.0.1:``port`` without blocking; a port taken is an
    `OSError` that names ``--port`` (gradio's message speaks of ``launch()``)."""
    try:
        demo.launch(
            server_name="127.0.0.1",
            server_port=port,
            share=False,
            inbrowser=False,
            prevent_thread_lock=True,
            quiet=True,
        )
    except OSError as err:
        if "empty port" not in str(err):
            raise
        raise OSError(f"port {port} on 127.0.0.1 is taken: give another (--port)") from None


def stop_on_sigterm(stop: threading.Event) -> Any:
    """Have SIGTERM (``kill``, a service manager) set ``stop``, so that the demo closes its server
    and removes its renderings as on Ctrl-C, rather than dying with them left behind; returns
    the handler it replaces (None outside the main thread, where none can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
