"""`WarningRecorder` keeps the warnings of the thread that records: the demo records each
request's generation and rendering warnings while gradio serves other requests in other
threads, and a recorder that kept every thread's records showed one request's warnings on
another's page."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable

from tokenization.capped_warnings import WarningRecorder

WAIT = 10  # seconds a thread waits at a barrier before the test fails (a guard, not a timing)


def _run(*targets: Callable[[], None]) -> None:
    """Run each of ``targets`` in its own thread and raise the first error any of them gave."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as err:  # noqa: BLE001 - raised again in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]


def test_two_threads_recording_at_once_keep_each_their_own_warning():
    """Each recorder held both warnings: each thread's logger filter saw the other's record."""
    logger = logging.getLogger("test_warning_recorder.two")
    both_open, both_said = threading.Barrier(2, timeout=WAIT), threading.Barrier(2, timeout=WAIT)
    kept: dict[str, list[dict[str, object]]] = {}

    def request(name: str) -> None:
        with WarningRecorder(logger) as said:
            both_open.wait()  # both recorders are open before either warns
            logger.warning("warning of %s", name)
            both_said.wait()  # and both have warned before either closes
        kept[name] = said

    _run(lambda: request("a"), lambda: request("b"))
    assert [r["message"] for r in kept["a"]] == ["warning of a"]
    assert [r["message"] for r in kept["b"]] == ["warning of b"]
    assert not logger.filters  # taken off after


def test_a_recorder_ending_in_another_thread_loses_none_of_this_threads_warnings():
    """A thread's warning lost its recorder when another thread's recorder on the same logger
    was taken off while the record went through the logger's filters (the list shrank under
    the loop, which then stopped before this thread's filter)."""
    logger = logging.getLogger("test_warning_recorder.ending")
    in_filters, b_closed = threading.Event(), threading.Event()
    a_open, b_open = threading.Event(), threading.Event()
    kept: dict[str, list[dict[str, object]]] = {}

    def held_by_a(record: logging.LogRecord) -> bool:
        if record.getMessage() == "warning of a":
            in_filters.set()
            assert b_closed.wait(WAIT)
        return True

    def thread_a() -> None:
        assert b_open.wait(WAIT)
        logger.addFilter(held_by_a)  # after b's recorder: a's comes after this one
        with WarningRecorder(logger) as said:
            a_open.set()
            logger.warning("warning of a")
        kept["a"] = said

    def thread_b() -> None:
        with WarningRecorder(logger):
            b_open.set()
            assert a_open.wait(WAIT) and in_filters.wait(WAIT)
        b_closed.set()

    try:
        _run(thread_a, thread_b)
    finally:
        logger.removeFilter(held_by_a)
    assert [r["message"] for r in kept["a"]] == ["warning of a"]


def test_work_given_the_recorders_context_in_another_thread_is_kept():
    """Work a thread hands to another with its context (``contextvars.copy_context().run``,
    as ``asyncio.to_thread`` does) is recorded by its recorders; a thread started plainly is
    not."""
    logger = logging.getLogger("test_warning_recorder.carried")
    with WarningRecorder(logger) as said:
        context = contextvars.copy_context()
        _run(lambda: context.run(logger.warning, "carried"), lambda: logger.warning("other"))
        logger.warning("own")
    assert [r["message"] for r in said] == ["carried", "own"]
