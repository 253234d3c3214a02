"""`irish-tune demo`'s SIGTERM handling in-process, with a stand-in for gradio's server: a kill
that follows the "serving on" line at once is a stop asked for (status 0, said on stderr), not
the default death that leaves the renderings behind."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading

import pytest

from modeling_irish import demo_app


class _Server:
    """What `run_demo` uses of a gradio Blocks: running for ``checks`` looks, then stopped."""

    local_url = "http://127.0.0.1:7860/"

    def __init__(self, checks: int) -> None:
        self.checks, self.closed = checks, False

    def launch(self, **kwargs) -> None:
        pass

    @property
    def is_running(self) -> bool:
        self.checks -= 1
        return self.checks >= 0

    def close(self) -> None:
        self.closed = True


class _KillOnServing:
    """A stdout that sends this process SIGTERM as the "serving on" line is written, as a
    script or service manager that waits for that line and then stops the demo does."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        if "serving on" in text:
            os.kill(os.getpid(), signal.SIGTERM)
        return len(text)

    def flush(self) -> None:
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGTERM to send oneself on Windows")
def test_a_sigterm_right_after_the_serving_line_stops_the_demo_cleanly(monkeypatch, capsys):
    assert threading.current_thread() is threading.main_thread()
    server = _Server(checks=6)  # ~3 s of 0.5 s waits if the signal were missed
    monkeypatch.setattr(demo_app, "import_gradio", lambda: None)
    monkeypatch.setattr(
        demo_app, "build_demo", lambda model, index, out_dir, under_way=None: server
    )
    missed = []  # the handler in force before the demo's: the default one would kill pytest

    def before(signum, frame) -> None:
        missed.append(signum)

    previous = signal.signal(signal.SIGTERM, before)
    try:
        out = _KillOnServing()
        monkeypatch.setattr(sys, "stdout", out)
        status = demo_app.run_demo(argparse.Namespace(model="m", index=None, port=7860))
        restored = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "serving on http://127.0.0.1:7860/" in out.text
    assert missed == []  # the demo's own handler was in place before the line
    assert status == 0 and server.closed
    assert capsys.readouterr().err.endswith("irish-tune demo: stopped (SIGTERM)\n")
    assert server.checks > 0  # stopped at once, not when the server happened to end
    assert restored is before  # the demo gives the handler it replaced back


def test_a_stopped_demo_spares_the_exit_its_last_garbage_collection(monkeypatch):
    """A stop took ~3 s, ~2 s of them the interpreter's last collection over torch's,
    transformers' and gradio's objects, after the server had closed."""
    monkeypatch.setattr(demo_app, "import_gradio", lambda: None)
    monkeypatch.setattr(
        demo_app, "build_demo", lambda model, index, out_dir, under_way=None: _Server(checks=1)
    )
    gc.unfreeze()
    try:
        assert demo_app.run_demo(argparse.Namespace(model="m", index=None, port=7860)) == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
