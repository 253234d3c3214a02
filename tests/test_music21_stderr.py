"""`music21_stderr.music21_said`: what music21 prints on stderr is kept for the thread that
renders; other threads' printing meanwhile (the demo's workers, logging, tqdm) reaches stderr,
and stderr is put back as it was however the threads' blocks overlap."""

from __future__ import annotations

import sys
import threading
import warnings

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


def _midi_writer_that_waits(monkeypatch, before, after=lambda: None) -> None:
    """The MIDI writer of `to_midi` (`render_midi._midi_file`, music21's writing steps), calling
    ``before`` first and ``after`` last."""
    from modeling_irish import render_midi

    write = render_midi._midi_file

    def waiting(*args, **kwargs):
        before()
        midi = write(*args, **kwargs)
        after()
        return midi

    monkeypatch.setattr(render_midi, "_midi_file", waiting)


REEL = "X:1\nT:Reel\nM:4/4\nL:1/8\nK:D\n|:DEFG ABcd:|\n"


def test_a_warning_of_another_thread_during_a_render_reaches_its_caller(
    tmp_path, recwarn, caplog, monkeypatch
):
    """The render changes no warnings filter (they hold for every thread): a warning another
    thread gives meanwhile is shown to it as ever, not hidden nor said as the render's."""
    from modeling_irish.render import to_midi

    rendering, warned = threading.Event(), threading.Event()

    def other() -> None:
        _step(rendering)
        warnings.warn("another tune's warning", UserWarning, stacklevel=1)
        warned.set()

    def during_render() -> None:
        rendering.set()
        _step(warned)

    _midi_writer_that_waits(monkeypatch, during_render)
    thread, failed = _in_thread(other)
    with caplog.at_level("WARNING", logger="modeling_irish.render"):
        to_midi(REEL, str(tmp_path / "t.mid"))
    thread.join(WAIT)
    assert not failed, failed
    assert [str(w.message) for w in recwarn] == ["another tune's warning"]
    assert "another tune" not in caplog.text


def test_music21s_python_warning_is_one_render_warning_naming_the_tune(
    tmp_path, recwarn, caplog, monkeypatch
):
    from music21.midi.translate import TranslateWarning

    from modeling_irish.render import to_midi

    def warns() -> None:
        for _ in range(2):  # said once
            warnings.warn("channel 17 unknown;\n  defaulting", TranslateWarning, stacklevel=1)

    _midi_writer_that_waits(monkeypatch, warns)
    with caplog.at_level("WARNING", logger="modeling_irish.render"):
        to_midi(REEL, str(tmp_path / "t.mid"))
    said = [r.getMessage() for r in caplog.records]
    assert said == ["X:1 T:Reel: music21 said, writing MIDI: channel 17 unknown; defaulting"]
    assert not recwarn.list


def test_overlapping_renders_leave_the_warnings_filters_and_showwarning_as_they_were(
    tmp_path, monkeypatch
):
    """The second render starts while the first writes, and ends after it: the filters (and
    ``showwarning``) are those found before either, not the first's left in place by the
    second (Python 3.11's `catch_warnings` saves and puts back the whole process's)."""
    from modeling_irish.render import to_midi

    filters, shown = list(warnings.filters), warnings.showwarning
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def before() -> None:
        if threading.current_thread() is threading.main_thread():
            first_in.set()
            _step(second_in)
        else:
            second_in.set()
            _step(first_out)

    def second() -> None:
        _step(first_in)
        to_midi(REEL, str(tmp_path / "second.mid"))

    _midi_writer_that_waits(monkeypatch, before)
    thread, failed = _in_thread(second)
    to_midi(REEL, str(tmp_path / "first.mid"))
    first_out.set()
    thread.join(WAIT)
    assert not failed, failed
    assert warnings.filters == filters
    assert warnings.showwarning is shown


def test_music21s_python_warning_writing_musicxml_is_a_render_warning(
    tmp_path, recwarn, caplog, monkeypatch
):
    from music21.musicxml import m21ToXml

    from modeling_irish.render_musicxml import to_musicxml

    parse = m21ToXml.GeneralObjectExporter.parse

    def warns(self, *args, **kwargs):
        warnings.warn("score is not well-formed", m21ToXml.MusicXMLWarning, stacklevel=1)
        return parse(self, *args, **kwargs)

    monkeypatch.setattr(m21ToXml.GeneralObjectExporter, "parse", warns)
    with caplog.at_level("WARNING", logger="modeling_irish.render"):
        to_musicxml(REEL, str(tmp_path / "t.musicxml"))
    said = [r.getMessage() for r in caplog.records]
    assert said == ["X:1 T:Reel: music21 said, writing MusicXML: score is not well-formed"]
    assert not recwarn.list


@pytest.mark.parametrize("check", ["reread_music21", "music21_sounding_events"])
def test_quality_checks_keep_music21_quiet_in_their_thread_only(
    check, capsys, recwarn, monkeypatch
):
    """The quality checks that read a tune back with music21 keep what it prints and warns out
    of the output, for their own thread: another thread's printing and warnings meanwhile (the
    demo's workers) reach stderr and its caller, not hidden by a process-wide redirect or filter."""
    import music21
    from music21 import environment

    from modeling_irish import quality

    parsing, done = threading.Event(), threading.Event()
    parse = music21.converter.parse

    def parse_meanwhile(*args, **kwargs):  # music21 reading while another thread speaks
        parsing.set()
        _step(done)
        environment.Environment("abcFormat").warn("music21's own remark")
        warnings.warn("music21's own warning", UserWarning, stacklevel=1)
        return parse(*args, **kwargs)

    def other() -> None:
        _step(parsing)
        print("progress of another tune", file=sys.stderr)
        warnings.warn("another tune's warning", UserWarning, stacklevel=1)
        done.set()

    monkeypatch.setattr(music21.converter, "parse", parse_meanwhile)
    thread, failed = _in_thread(other)
    if check == "reread_music21":
        from tokenization.abc_parser import parse_abc

        tune = parse_abc(REEL)
        tune.abc = REEL
        assert quality.reread_music21(tune)
    else:
        assert quality.music21_sounding_events(REEL)
    thread.join(WAIT)
    assert not failed, failed
    err = capsys.readouterr().err
    assert "progress of another tune" in err
    assert "music21's own" not in err
    assert [str(w.message) for w in recwarn] == ["another tune's warning"]


def test_another_threads_catch_warnings_ending_during_a_capture_loses_none_of_its_warnings(
    recwarn,
):
    """Another thread's ``warnings.catch_warnings`` (a library's) entered before a capture and
    left during it puts back the ``showwarning`` it found, without the capture's router: a
    warning the capture's thread gives after that is still kept, not shown to the caller."""
    from music21.midi.translate import TranslateWarning

    entered, capturing, left = threading.Event(), threading.Event(), threading.Event()

    def other() -> None:
        with warnings.catch_warnings():
            entered.set()
            _step(capturing)
        left.set()

    shown, dispatch = warnings.showwarning, warnings._showwarnmsg
    thread, failed = _in_thread(other)
    _step(entered)
    with music21_said() as said:
        capturing.set()
        _step(left)
        warnings.warn("channel 17 unknown", TranslateWarning, stacklevel=1)
    thread.join(WAIT)
    assert not failed, failed
    assert said == ["channel 17 unknown"]
    assert not recwarn.list
    assert warnings.showwarning is shown
    assert warnings._showwarnmsg is dispatch  # the router is taken away at the end
