"""`tokenization.check` in threads: two checks that overlap each say their own tunes' writer
warnings (a key respelled), none lost nor given to the other, and leave the process's warning
state (filters, ``showwarning``) as it was: ``warnings.catch_warnings`` swaps it for every
thread at once, so check keeps the writer's warnings per thread instead."""

from __future__ import annotations

import logging
import threading
import warnings

import tokenization.check as check
from tokenization.reader_warnings import tune_warnings

WAIT = 30  # seconds a step may wait on another thread before the test gives up

FLATS = "X:1\nT:Flats\nM:4/4\nL:1/8\nK:Dbm\nDEFG ABcd|]\n"
SHARPS = "X:2\nT:Sharps\nM:4/4\nL:1/8\nK:G#\nGABc dcBA|]\n"


def _step(event: threading.Event) -> None:
    assert event.wait(WAIT), "the other thread never got there"


def test_two_checks_in_threads_each_say_their_own_writer_warnings(monkeypatch, caplog):
    """The first check is round-tripping when the second starts, and ends before the second
    one's writer warns: each tune's warning is logged for its own check, once."""
    first_in, second_in, first_done = threading.Event(), threading.Event(), threading.Event()
    real = check.round_trip_rows

    def interleaved(tune):
        if threading.current_thread().name == "first":
            first_in.set()
            _step(second_in)  # the second check is in its round trip too
        else:
            second_in.set()
            _step(first_done)  # the first check has ended
        return real(tune)

    monkeypatch.setattr(check, "round_trip_rows", interleaved)
    failed: list[BaseException] = []

    def run(name: str, text: str, after: threading.Event | None) -> None:
        try:
            if after is not None:
                _step(after)
            with tune_warnings(logging.getLogger(f"check_threads.{name}")) as said:
                check.check_text(text, f"{name}.abc", said=said)
        except BaseException as err:  # noqa: BLE001 (given to the test to raise)
            failed.append(err)
        finally:
            if name == "first":
                first_done.set()

    filters, shown = list(warnings.filters), warnings.showwarning
    threads = [
        threading.Thread(target=run, args=("first", FLATS, None), name="first"),
        threading.Thread(target=run, args=("second", SHARPS, first_in), name="second"),
    ]
    with caplog.at_level("WARNING"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
    assert not failed, failed
    said = {
        name: [r.getMessage() for r in caplog.records if r.name == f"check_threads.{name}"]
        for name in ("first", "second")
    }
    assert said == {
        "first": [
            "first.abc: X:1 Flats: Db minor needs 8 flats, more than an ABC key signature "
            "holds: written in C# minor, the same notes"
        ],
        "second": [
            "second.abc: X:2 Sharps: G# major needs 8 sharps, more than an ABC key signature "
            "holds: written in Ab major, the same notes"
        ],
    }
    assert warnings.filters == filters
    assert warnings.showwarning is shown
