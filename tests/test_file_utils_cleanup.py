"""The cleanup of a failed write (`file_utils.discard_file`, `discard_folder`): a temporary file
or folder that cannot be removed is named in a warning and left, and never hides the error that
failed the write behind its own."""

from __future__ import annotations

import errno
import logging
import os
import shutil

import pytest

from modeling_irish import file_utils
from modeling_irish.file_utils import discard_folder, replacing_file, replacing_files
from tests.helpers import refuse_unlinking
from tokenization import file_cleanup, writer_folders
from tokenization.writer_folders import own_writer_name


def _refuse_removing(monkeypatch, refused: str) -> None:
    """``os.remove`` of the file ``refused`` fails as in a folder made read-only meanwhile."""
    real = os.remove

    def remove(path, *args, **kwargs):
        if os.fspath(path) == refused:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "remove", remove)


def test_a_temporary_file_that_will_not_go_is_named_and_the_writes_error_raised(
    tmp_path, monkeypatch, caplog
):
    # the cleanup's PermissionError was raised in place of the write's "No space left"
    path = tmp_path / "tune.abc"
    tmp = str(tmp_path / file_utils._temporary_name("tune", ".abc"))
    _refuse_removing(monkeypatch, tmp)
    caplog.set_level(logging.WARNING, logger=file_cleanup.__name__)
    with pytest.raises(OSError) as raised, replacing_file(path) as written:
        open(written, "w", encoding="utf-8").close()
        raise OSError(28, "No space left on device")
    assert raised.value.errno == 28 and raised.value.filename == str(path)
    assert f"cannot remove {tmp} (Permission denied); it is left behind" in caplog.text
    assert os.path.exists(tmp) and not path.exists()


def test_a_group_that_fails_removes_every_file_it_can_and_names_the_rest(
    tmp_path, monkeypatch, caplog
):
    # the first file that would not go stopped the cleanup, and hid the group's error
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    stuck = str(tmp_path / file_utils._temporary_name("a", ".txt"))
    _refuse_removing(monkeypatch, stuck)
    caplog.set_level(logging.WARNING, logger=file_cleanup.__name__)
    with pytest.raises(ValueError, match="the renderer failed"), replacing_files() as group:
        for path in (a, b):
            with replacing_file(path, group) as tmp:
                open(tmp, "w", encoding="utf-8").close()
        raise ValueError("the renderer failed")
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(stuck)]
    assert f"cannot remove {stuck}" in caplog.text


def test_discard_folder_removes_what_it_can_and_names_what_it_cannot(tmp_path, monkeypatch, caplog):
    writer = tmp_path / "writer"
    (writer / "new").mkdir(parents=True)
    for name in ("a.npy", "b.npy"):
        (writer / "new" / name).write_text("x", encoding="utf-8")
    real = os.unlink

    def unlink(path, *args, **kwargs):
        if os.path.basename(os.fspath(path)) == "a.npy":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with caplog.at_level(logging.WARNING, logger=file_cleanup.__name__):
        discard_folder(writer)
    assert sorted(os.listdir(writer / "new")) == ["a.npy"]  # b.npy went all the same
    assert f"cannot remove {writer} (" in caplog.text and "Permission denied" in caplog.text
    monkeypatch.undo()
    shutil.rmtree(writer)
    caplog.clear()
    discard_folder(writer)  # gone: nothing to say
    assert not caplog.records


def _folder(path, *names: str):
    path.mkdir()
    for name in names:
        (path / name).write_text("x", encoding="utf-8")
    return path


def test_publish_directory_names_an_incomplete_copy_it_cannot_delete(tmp_path, monkeypatch, caplog):
    # an incomplete `final` that would not go was passed over without a word: only the rename's
    # "Directory not empty" said anything, not what was left nor why
    tmp = _folder(tmp_path / "cache.tmp-1", "done")
    final = _folder(tmp_path / "cache", "stuck.arrow")
    refuse_unlinking(monkeypatch, "stuck.arrow")
    caplog.set_level(logging.WARNING, logger=file_cleanup.__name__)
    with pytest.raises(OSError) as raised:
        file_utils.publish_directory(tmp, final, "done")
    assert raised.value.errno == errno.ENOTEMPTY  # the rename's error, not the cleanup's
    assert f"cannot remove {final} (" in caplog.text
    assert "stuck.arrow: Permission denied" in caplog.text
    assert _listing(final) == ["stuck.arrow"] and _listing(tmp) == ["done"]


def test_publish_directory_names_its_copy_it_cannot_delete_once_another_published(
    tmp_path, monkeypatch, caplog
):
    # the copy of a process that found the cache published first was left without a word
    final = _folder(tmp_path / "cache", "done")
    tmp = _folder(tmp_path / "cache.tmp-2", "done", "stuck.arrow")
    refuse_unlinking(monkeypatch, "stuck.arrow")
    caplog.set_level(logging.WARNING, logger=file_cleanup.__name__)
    assert file_utils.publish_directory(tmp, final, "done") is False
    assert f"cannot remove {tmp} (" in caplog.text and "Permission denied" in caplog.text
    assert _listing(tmp) == ["stuck.arrow"] and _listing(final) == ["done"]


def test_remove_directory_names_what_it_cannot_delete(tmp_path, monkeypatch, caplog):
    # the damaged cache renamed aside was left as <path>.damaged-<writer> without a word
    cache = _folder(tmp_path / "cache", "done", "stuck.arrow")
    refuse_unlinking(monkeypatch, "stuck.arrow")
    caplog.set_level(logging.WARNING, logger=file_cleanup.__name__)
    file_utils.remove_directory(cache)
    aside = tmp_path / own_writer_name("cache.damaged-")
    assert f"cannot remove {aside} (" in caplog.text and "Permission denied" in caplog.text
    assert _listing(tmp_path) == [aside.name] and _listing(aside) == ["stuck.arrow"]


def _listing(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_a_writer_of_the_same_pid_on_another_machine_neither_clobbers_nor_is_clobbered(
    tmp_path, monkeypatch
):
    """On a folder shared by machines (NFS), `replacing_file` wrote under ``.<stem>.<pid>.tmp``
    and `remove_directory` renamed aside to ``<path>.damaged-<pid>``: a process of the same id
    on another machine picked the same names, and one renamed the other's half-written file into
    place, or failed to rename its damaged cache aside. The names now hold the machine too."""
    pid = os.getpid()
    path, cache = tmp_path / "tune.abc", _folder(tmp_path / "cache", "done")
    monkeypatch.setattr(writer_folders, "this_host", lambda: "node7")
    node7 = {  # what a writer of this process id on node7 has in the folder meanwhile
        file_utils._temporary_name("tune", ".abc"): "node7's tune",
        f".tune.{pid}.tmp.abc": "an earlier version's tune",
    }
    node7_aside = tmp_path / own_writer_name("cache.damaged-")
    monkeypatch.undo()
    for name, text in node7.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for aside in (node7_aside, tmp_path / f"cache.damaged-{pid}"):
        _folder(aside, "node7's")
    with replacing_file(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        _ = handle.write("X:1")
    file_utils.remove_directory(cache)
    assert path.read_text(encoding="utf-8") == "X:1" and not cache.exists()
    assert {name: (tmp_path / name).read_text(encoding="utf-8") for name in node7} == node7
    assert _listing(node7_aside) == _listing(tmp_path / f"cache.damaged-{pid}") == ["node7's"]
    assert len(_listing(tmp_path)) == 1 + len(node7) + 2  # nothing of this writer's left


def test_a_write_removes_the_temporary_files_that_killed_writers_left_in_its_folder(
    tmp_path, caplog
):
    """A process killed mid-write left its hidden temporary file for ever; now the next write
    into the folder removes it, and those of every other dead writer of this machine, and
    another machine's unchanged for 24 h; nothing else."""
    import subprocess
    import sys

    host = writer_folders.this_host()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, encoding="utf-8",
                          check=True).stdout.strip()  # fmt: skip
    parent = os.getppid()  # alive: pytest's parent
    live = f"{parent}.{writer_folders.process_start(parent)}@{host}"
    names = {
        "killed": f".tune.{dead}.1@{host}.tmp.abc",
        "killed_other_name": f".reel.3.{dead}.1@{host}.tmp.svg",
        "stale_elsewhere": ".tune.12.34@elsewhere.tmp.abc",
        "recent_elsewhere": ".tune.56.78@elsewhere.tmp.abc",
        "live": f".tune.{live}.tmp.abc",
        "this_process": f".reel.{own_writer_name('')}.tmp.abc",  # a group's, not yet renamed
        "live_stem_ending_in_digits": f".reel.{dead}.{live}.tmp.abc",
        "earlier_version": f".tune.{dead}.tmp.abc",
        "users": f"notes.{dead}.1@{host}.tmp.abc",
    }
    for name in names.values():
        (tmp_path / name).write_text("left", encoding="utf-8")
    old = os.stat(tmp_path / names["stale_elsewhere"]).st_mtime - 25 * 3600
    os.utime(tmp_path / names["stale_elsewhere"], (old, old))
    with caplog.at_level(logging.WARNING), replacing_file(tmp_path / "tune.abc") as tmp:
        (tmp_path / tmp).write_text("X:1", encoding="utf-8")
    gone = {"killed", "killed_other_name", "stale_elsewhere"}
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"tune.abc"} | {names[k] for k in names.keys() - gone}
    assert "written by process 12 on the machine elsewhere" in caplog.text
