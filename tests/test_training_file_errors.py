"""A local file that a run of `training/train.py` finds in its way or refused (a file where a
cache folder goes, permission denied) ends the command line in one line naming it, status 1,
as a full disk does; its traceback only with ``TRAIN_TRACEBACK=1``; a bug keeps its traceback."""

from __future__ import annotations

import errno
import os

import pytest
from helpers import TINY_MODEL_OVERRIDES, one_torch_thread  # noqa: F401

from training import train


def _cli_raising(monkeypatch, error: BaseException) -> int:
    """`cli` of a run whose training raised ``error``."""

    def main(argv=None):
        raise error

    monkeypatch.delenv("TRAIN_TRACEBACK", raising=False)
    monkeypatch.setattr(train, "main", main)
    return train.cli([])


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            PermissionError(errno.EACCES, "Permission denied", "runs/r/step_2/optimizer.bin"),
            "runs/r/step_2/optimizer.bin: Permission denied",
        ),
        (
            IsADirectoryError(errno.EISDIR, "Is a directory", "data/tunes.abc"),
            "data/tunes.abc: Is a directory",
        ),
        (
            NotADirectoryError(errno.ENOTDIR, "Not a directory", "c/a.tmp-1", None, "c/a"),
            "cannot move c/a.tmp-1 to c/a: Not a directory",
        ),
    ],
)
def test_a_local_file_error_is_one_line_naming_the_file(monkeypatch, capsys, error, line):
    """Any OSError but a full or read-only disk's was a Python traceback."""
    assert _cli_raising(monkeypatch, error) == 1
    err = capsys.readouterr().err
    assert err == f"train.py: error: {line} (TRAIN_TRACEBACK=1 prints where it was met)\n"


def test_train_traceback_shows_where_a_local_file_error_was_met(monkeypatch, capsys):
    error = PermissionError(errno.EACCES, "Permission denied", "runs/r/train_log.jsonl")
    assert _cli_raising(monkeypatch, error) == 1
    monkeypatch.setenv("TRAIN_TRACEBACK", "1")
    assert train.cli([]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-2].startswith("PermissionError: [Errno 13] Permission denied")
    assert lines[-1].startswith("train.py: error: runs/r/train_log.jsonl: Permission denied")


def test_other_os_errors_keep_their_traceback(monkeypatch):
    """A missing file of the run's own, an error naming no file and a library's OSError are
    bugs (or not the file system's): the files the user names are checked before the run."""
    import requests

    for error in (
        FileNotFoundError(errno.ENOENT, "No such file or directory", "a/bug.json"),
        PermissionError(errno.EACCES, "Permission denied"),
        requests.ConnectionError(errno.EACCES, "refused", "https://example.org"),
    ):
        with pytest.raises(type(error)):
            _cli_raising(monkeypatch, error)


@pytest.mark.usefixtures("one_torch_thread")
def test_a_file_where_the_cache_puts_a_folder_is_one_line(reels_abc, tmp_path, capsys):
    """A file named as the cached vocabulary's folder: os.replace's NotADirectoryError was a
    traceback, once the corpus was read; then the line did not say which path was wrong, nor
    that deleting the file is the fix."""
    cache = tmp_path / "cache"
    argv = [
        "--corpus", reels_abc, "--split_ratios", "0.5", "0.25", "0.25",
        "--cache_dir", str(cache), "--config_overrides", TINY_MODEL_OVERRIDES,
        "--per_device_train_batch_size", "2", "--eval_steps", "0", "--max_train_steps", "1",
    ]  # fmt: skip
    train.main([*argv, "--output_dir", str(tmp_path / "first")])
    (vocabulary,) = cache.glob("abc-tokenizer-*")
    for name in os.listdir(vocabulary):
        os.remove(vocabulary / name)
    vocabulary.rmdir()
    vocabulary.write_text("in the way", encoding="utf-8")
    capsys.readouterr()
    assert train.cli([*argv, "--output_dir", str(tmp_path / "second")]) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith(f"train.py: error: cannot move {cache}{os.sep}abc-tokenizer-")
    assert line.endswith(
        f" to {vocabulary}: Not a directory ({vocabulary} is a file in the way of that folder:"
        " delete it, or move it away) (TRAIN_TRACEBACK=1 prints where it was met)"
    )
