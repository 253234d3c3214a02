"""`music21_stderr.music21_said`: what music21 prints on stderr is kept for the thread that
renders; other threads' printing meanwhile (the demo's workers, logging, tqdm) reaches stderr,
and stderr is put back as it was however the threads' blocks overlap."""

from __future__ import annotations

import sys
import threading

import pytest

from modeling_irish.music21_stderr import music21_said

pytest.importorskip("music21")

WAIT = 30  # seconds a step may wait on another thread before the test gives up


def _in_thread(work) -> tuple[threading.Thread, list[BaseException]]:
    """``work`` started in a thread of its own, and the list its exception goes to."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as err:  # noqa: BLE001 (given to the test to raise)
            failed.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, failed


def _step(event: threading.Event) -> None:
    assert event.wait(WAIT), "the other thread never got there"


def test_another_threads_printing_reaches_stderr_not_the_render(capsys):
    from music21 import environment

    inside, written = threading.Event(), threading.Event()
    said: list[str] = []

    def render() -> None:  # a render: music21 warns while another thread prints
        with music21_said() as kept:
            inside.set()
            _step(written)
            environment.Environment("m21ToXml").warn("odd \nthing")
        said.extend(kept)

    thread, failed = _in_thread(render)
    _step(inside)
    print("progress of another tune", file=sys.stderr)
    written.set()
    thread.join(WAIT)
    assert not failed, failed
    err = capsys.readouterr().err
    assert "progress of another tune" in err
    assert "odd" not in err
    assert said == ["odd thing"]


def test_blocks_that_overlap_in_two_threads_put_stderr_back(capsys):
    before = sys.stderr
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def second() -> None:  # enters after the first, leaves after it
        _step(first_in)
        with music21_said():
            second_in.set()
            _step(first_out)

    thread, failed = _in_thread(second)
    with music21_said():
        first_in.set()
        _step(second_in)
    first_out.set()
    thread.join(WAIT)
    assert not failed, failed
    assert sys.stderr is before
    print("said after both", file=sys.stderr)
    assert "said after both" in capsys.readouterr().err


def test_what_music21_prints_writing_midi_is_one_warning_naming_the_tune(
    tmp_path, capsys, caplog, monkeypatch
):
    """music21 leaves out a MIDI event it cannot write, saying so on stderr ("midi: WARNING:
    Conversion error for ...; ignored."): it is a render warning naming the tune instead."""
    from music21 import midi

    from modeling_irish.render import to_midi

    get_bytes = midi.MidiEvent.getBytes

    def refused(self):
        if self.type == midi.MetaEvents.TIME_SIGNATURE:
            raise midi.MidiException("no time signatures today")
        return get_bytes(self)

    monkeypatch.setattr(midi.MidiEvent, "getBytes", refused)
    abc = "X:1\nT:Reel\nM:4/4\nL:1/8\nK:D\n|:DEFG ABcd:|\n"
    with caplog.at_level("WARNING", logger="modeling_irish.render"):
        to_midi(abc, str(tmp_path / "t.mid"))
    assert "Conversion error" not in capsys.readouterr().err
    said = [r.getMessage() for r in caplog.records if "music21 said" in r.getMessage()]
    assert len(said) == 1, said
    assert said[0].startswith("X:1 T:Reel: music21 said, writing MIDI: Conversion error for")
    assert said[0].endswith("no time signatures today; ignored.")
