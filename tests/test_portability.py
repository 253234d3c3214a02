"""The package on systems other than Linux, simulated here (CI is Linux): Windows has no
`fcntl` (``import modeling_irish`` failed outright there) and opens no folder with `os.open`."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest
from render_helpers import ABC, _has_verovio

from modeling_irish import tune_index_locks
from modeling_irish.render import render_abc
from tokenization import writer_folders

HERE = os.path.dirname(os.path.abspath(__file__))


def test_without_fcntl_the_package_imports_and_an_index_saves_and_loads_unlocked(tmp_path):
    """``import fcntl`` at the top of tune_index_locks made ``import modeling_irish`` a
    ModuleNotFoundError on Windows: now a save goes on unlocked, with a warning, and a load
    reads the index back."""
    script = (
        "import logging, sys\n"
        "sys.modules['fcntl'] = None  # as on Windows: import fcntl fails\n"
        f"sys.path.insert(0, {HERE!r})\n"
        "import modeling_irish\n"
        "from helpers import synthetic_tune\n"
        "from modeling_irish.name_that_tune import TuneIndex\n"
        "from tokenization.tokenization_abc import AbcTokenizer\n"
        "logging.basicConfig(level=logging.WARNING, format='%(message)s')\n"
        "tunes = [synthetic_tune(i, f'Reel {i}', i, i, bars=4) for i in range(1, 4)]\n"
        "index = TuneIndex.build(None, AbcTokenizer.train(tunes), tunes)\n"
        "index.save(sys.argv[1])\n"
        "print(TuneIndex.load(sys.argv[1]).titles == index.titles)\n"
    )
    folder = tmp_path / "idx"
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder)],
        capture_output=True, text=True, cwd=os.path.dirname(HERE), timeout=120, encoding="utf-8",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True"]
    assert "saving the index without a lock" in done.stderr
    assert "this system has no file locks (no fcntl)" in done.stderr
    assert tune_index_locks._LOCK not in os.listdir(folder)


def test_a_folder_that_os_open_refuses_is_not_flushed_and_the_save_goes_on(tmp_path, monkeypatch):
    """Windows cannot open a folder with `os.open` (PermissionError): flushing a new index
    folder's entry failed the save with "cannot make the folder"."""
    real_open = os.open

    def no_folders(path, flags, *args, **kwargs):
        if os.path.isdir(path):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(tune_index_locks.os, "open", no_folders)
    tune_index_locks.sync_folder(str(tmp_path))  # passed over, not raised
    folder = tmp_path / "idx"
    with tune_index_locks.save_lock(str(folder)):
        assert os.listdir(folder) == [tune_index_locks._LOCK]
    assert os.listdir(folder) == []


def test_on_windows_a_writer_folder_is_judged_by_its_age_not_by_os_kill(tmp_path, monkeypatch):
    """`os.kill(pid, 0)` on Windows sends Ctrl-C (``CTRL_C_EVENT`` is 0) to that process's
    group rather than asking whether it exists: writers' folders of this machine are judged
    there as another machine's are, by the time since they last changed."""
    sent = []
    monkeypatch.setattr(writer_folders.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    host = writer_folders.this_host()
    fresh, old = tmp_path / f"index.tmp-4242@{host}", tmp_path / f"index.tmp-4343@{host}"
    fresh.mkdir()
    old.mkdir()
    then = time.time() - writer_folders.STALE_AFTER_S - 60
    os.utime(old, (then, then))
    with monkeypatch.context() as windows:  # only around the call: pytest reads os.name too
        windows.setattr(writer_folders.os, "name", "nt")
        found = writer_folders.dead_writer_folders(str(tmp_path), "index.tmp-")
    assert (found, sent) == ([str(old)], [])


@pytest.mark.skipif(not _has_verovio(), reason="verovio is not installed")
def test_svg_pages_are_engraved_where_select_waits_on_no_pipe(tmp_path, monkeypatch):
    """The verovio process's answer was waited for with `select.select` on its pipe, which
    Windows refuses (it selects sockets only): every SVG failed there."""
    import modeling_irish.render_svg as render_svg

    def sockets_only(*args, **kwargs):
        raise OSError(10038, "An operation was attempted on something that is not a socket")

    render_svg._ENGRAVER.close()  # a fresh process, answered under the Windows select
    monkeypatch.setattr(select, "select", sockets_only)
    assert render_abc(ABC, str(tmp_path / "t"), ["svg"])["svg"] == [str(tmp_path / "t.svg")]
    assert (tmp_path / "t.svg").read_text(encoding="utf-8").lstrip().startswith("<")


def _fake_program(path, output: bytes, status: int) -> str:
    """A program at ``path`` (a Python script) that writes ``output`` to stderr and exits with
    ``status``; its path."""
    path.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"sys.stderr.buffer.write({output!r})\nsys.exit({status})\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return str(path)


@pytest.mark.skipif(os.name != "posix", reason="the fake program is a script with a #! line")
def test_abc2midi_output_that_is_not_in_the_locale_encoding_is_read(tmp_path, monkeypatch):
    """abc2midi's output was decoded in the locale's encoding, strictly: a byte it cannot
    decode (any non-UTF-8 byte here; bytes of UTF-8 titles such as "Á" under Windows' cp1252)
    raised UnicodeDecodeError out of the quality check."""
    from modeling_irish.quality import abc2midi_errors

    _fake_program(tmp_path / "abc2midi", b"Error in line 2 : T:\xc3\x81ine \xff\n", 1)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert abc2midi_errors("X:1\nT:Áine\nK:D\nDEF|\n") == [
        "Error in line 2 : T:\u00c1ine \ufffd",
        "exit status 1",
    ]


@pytest.mark.skipif(os.name != "posix", reason="the fake program is a script with a #! line")
def test_fluidsynth_output_that_is_not_in_the_locale_encoding_is_read(tmp_path, monkeypatch):
    """fluidsynth's messages were decoded in the locale's encoding, strictly: one it cannot
    decode raised UnicodeDecodeError instead of the RenderError that names the failure."""
    import modeling_irish.render as render

    fake = _fake_program(tmp_path / "fluidsynth", b"cannot load gm-\xff.sf2\n", 1)
    monkeypatch.setattr(render, "_wav_tools", lambda soundfont: (fake, "gm.sf2", None))
    (tmp_path / "in.mid").write_bytes(b"MThd")
    with pytest.raises(render.RenderError, match="fluidsynth failed: cannot load gm-\ufffd.sf2"):
        render.to_wav(str(tmp_path / "in.mid"), str(tmp_path / "out.wav"))


def test_reading_abc_from_a_windows_terminal_names_the_key_that_ends_it(monkeypatch, capsys):
    """Ctrl-D ends no input in a Windows console (Ctrl-Z then Enter does): the prompt named
    the POSIX key there too."""
    import io

    from tokenization.check import read_stdin

    class Terminal:
        buffer = io.BytesIO(b"X:1\nT:Sl\xc3\xa1n\nK:D\n")

        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    with monkeypatch.context() as windows:
        windows.setattr(os, "name", "nt")
        text = read_stdin()
    assert text == "X:1\nT:Slán\nK:D\n"
    assert capsys.readouterr().err == "reading ABC from the terminal; end with Ctrl-Z then Enter\n"


@pytest.mark.skipif(not hasattr(signal, "SIGRTMIN"), reason="no real-time signals here")
def test_a_verovio_process_ended_by_a_signal_python_does_not_name_is_reported(tmp_path):
    """A real-time signal (SIGRTMIN+6) has no name in `signal.Signals`: the report of how
    verovio ended raised ValueError instead of failing the tune with a RenderError."""
    import tempfile

    from modeling_irish.render_svg import _Engraver

    number = signal.SIGRTMIN + 6
    engraver = _Engraver()
    engraver._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _died)
    engraver._log.write(b"last words\n")
    engraver._process = subprocess.Popen(  # piped as `_Engraver._start` pipes verovio's
        [sys.executable, "-c", f"import os; os.kill(os.getpid(), {number})"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert engraver._died() == f"crashed (signal {number}: last words)"
    assert engraver._process is None  # closed: the next tune starts a new process


@pytest.mark.parametrize(
    ("platform", "program_hint", "both_hint"),
    [
        ("darwin", "(brew install fluid-synth)", "brew install fluid-synth, and set $SOUNDFONT"),
        ("win32", "(install FluidSynth and put", "fluidsynth.exe on PATH, and set the SOUNDFONT"),
    ],
)
def test_the_wav_note_names_this_systems_way_to_install_fluidsynth(
    tmp_path, monkeypatch, platform, program_hint, both_hint
):
    """The note of a missing fluidsynth or soundfont said ``apt-get install fluidsynth
    fluid-soundfont-gm`` on macOS and Windows too, where there is no apt-get and no Debian
    soundfont package to find."""
    from modeling_irish import render

    monkeypatch.setattr(render, "SOUNDFONT_PATHS", ())
    monkeypatch.delenv("SOUNDFONT", raising=False)
    font = tmp_path / "gm.sf2"
    font.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
    notes = []
    for program, soundfont in ((None, str(font)), (None, None)):
        monkeypatch.setattr(render.shutil, "which", lambda name, found=program: found)
        with monkeypatch.context() as elsewhere:  # only around the call: pytest reads it too
            elsewhere.setattr(sys, "platform", platform)
            notes.append(render.unavailable_formats(["wav"], soundfont)["wav"])
    assert program_hint in notes[0] and both_hint in notes[1]
    assert not any("apt-get" in note for note in notes)
