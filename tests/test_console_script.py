"""The ``irish-tune`` console script's entry point (`irish_tune.main`): a Ctrl-C while the
package is still loading stops quietly, as one during a command does."""

from __future__ import annotations

import importlib.abc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import irish_tune

ROOT = Path(__file__).resolve().parents[1]


class _InterruptingFinder(importlib.abc.MetaPathFinder):
    """Raises KeyboardInterrupt on importing `name`, as a Ctrl-C in the middle of it would."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname, path, target=None):
        if fullname == self.name:
            raise KeyboardInterrupt
        return None


def test_interrupt_while_loading_is_one_line(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "modeling_irish.cli", raising=False)
    monkeypatch.setattr(
        sys, "meta_path", [_InterruptingFinder("modeling_irish.cli")] + sys.meta_path
    )
    assert irish_tune.main(["check", "x.abc"]) == 130
    assert capsys.readouterr().err == "irish-tune: interrupted\n"


def test_the_entry_point_runs_the_command_line(capsys):
    assert irish_tune.main(["check", "no-such-file.abc"]) == 2
    assert capsys.readouterr().err == "irish-tune check: no such file: no-such-file.abc\n"


def test_the_console_script_is_this_entry_point():
    text = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert "irish-tune = irish_tune:main" in text


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_during_startup_prints_no_traceback():
    """A real Ctrl-C a moment after start, while torch and transformers load (seconds): one
    line and status 130, whether it lands in the imports or in the command (reading stdin)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "irish_tune", "check", "-"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    time.sleep(0.3)
    if process.poll() is not None:
        pytest.skip("the command ended before the signal could be sent")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    message = err.decode()
    assert process.returncode == 130, message
    assert "Traceback" not in message
    assert message.strip() in {"irish-tune: interrupted", "irish-tune check: interrupted"}


def test_a_users_tokenization_py_in_the_working_folder_is_named_in_one_line(tmp_path):
    """A tokenization.py of the user's in the working folder hid the project's package:
    `import modeling_irish` failed with "No module named 'tokenization.tokenization_abc';
    'tokenization' is not a package", naming neither the file nor a way out."""
    (tmp_path / "tokenization.py").write_text("# the user's own\n")
    repo = str(Path(__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-c", "import modeling_irish"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": repo},
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 1
    assert f"`import tokenization` finds {tmp_path / 'tokenization.py'}" in last
    assert "rename that file or folder, or run from another folder" in last
