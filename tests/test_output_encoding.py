"""What ``irish-tune`` prints is UTF-8 whatever the locale: ABC 2.1's character set, and that of
the tunes' titles (``Seán``, ``Óró``). Python writes the locale's encoding to a pipe or a file
(cp1252 on Windows, ASCII under a POSIX locale without UTF-8 mode), where such a title ended the
command with a UnicodeEncodeError (exit 2). Each runs the console script in a fresh interpreter
with the locale set against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import synthetic_tune

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Seán Ó Duibhir"
TUNE = f"X:1\nT:{TITLE}\nM:6/8\nL:1/8\nK:G\nGAB c2d|e3 d3|]\n"
BROKEN = "X:2\nT:Óró\nK:Q\nab|\n"  # K:Q is no key: check names the tune, title and all

# The ways stdout is not UTF-8: PYTHONIOENCODING as a user or a Windows shell sets it, and the
# POSIX locale with UTF-8 mode and locale coercion off (Python 3.7+ would switch to UTF-8).
NOT_UTF8 = {
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "cp1252": {"PYTHONIOENCODING": "cp1252"},
    "posix-locale": {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
}


def _console_script(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m irish_tune ARGS`` run from the root with ``env`` added; stdout as bytes."""
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "PYTHONUTF8")}
    return subprocess.run(
        [sys.executable, "-m", "irish_tune", *args],
        cwd=ROOT, env={**clean, **env}, capture_output=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("env", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_transpose_and_check_print_utf8_titles_whatever_the_locale(env, tmp_path):
    tunes = tmp_path / "tunes.abc"
    tunes.write_text(TUNE, encoding="utf-8")
    done = _console_script(["transpose", str(tunes), "--key", "D"], env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"T:{TITLE}\n".encode() in done.stdout
    assert b"K:D\n" in done.stdout

    tunes.write_text(TUNE + "\n" + BROKEN, encoding="utf-8")
    done = _console_script(["check", str(tunes)], env)
    assert done.returncode == 1, done.stderr[-2000:]  # a tune cannot be read: 1, not 2
    assert f"FAIL {tunes}: X:2 Óró: parse:".encode() in done.stdout
    done = _console_script(["check", str(tunes), "--json"], env)
    assert done.returncode == 1, done.stderr[-2000:]
    assert json.loads(done.stdout)["failures"][0]["tune"] == f"{tunes}: X:2 Óró"


def test_the_output_file_of_transpose_is_utf8_whatever_the_locale(tmp_path):
    tunes, out = tmp_path / "tunes.abc", tmp_path / "out.abc"
    tunes.write_text(TUNE, encoding="utf-8")
    done = _console_script(["transpose", str(tunes), "-o", str(out)], NOT_UTF8["ascii"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"T:{TITLE}\n" in out.read_text(encoding="utf-8")


@pytest.mark.slow  # a fresh interpreter that imports torch: about 6 s
def test_identify_prints_utf8_titles_whatever_the_locale(tmp_path):
    """``identify`` over an edit-distance index (no model): the title it names is UTF-8."""
    from modeling_irish.name_that_tune import TuneIndex
    from tokenization.tokenization_abc import AbcTokenizer

    train = [synthetic_tune(i, f"Reel {i}", i, i, bars=4) for i in range(1, 4)]
    train.append(synthetic_tune(4, TITLE, 4, 4, bars=4))
    tokenizer = AbcTokenizer.train(train)
    tokenizer.save_pretrained(tmp_path / "tok")
    tokenizer = AbcTokenizer.from_pretrained(tmp_path / "tok")  # the index records its folder
    TuneIndex.build(None, tokenizer, train).save(str(tmp_path / "index"))
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(train[3], encoding="utf-8")
    args = ["identify", "--index", str(tmp_path / "index"), str(snippet), "-k", "1"]
    done = _console_script(args, NOT_UTF8["ascii"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert TITLE.encode() in done.stdout
