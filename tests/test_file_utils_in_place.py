"""`replacing_file` on a path that is no regular file: a device, a named pipe, a link to one, or
an open file descriptor (``-o /dev/stdout``) is written into, never replaced by a file (as root,
the rename made ``/dev/null`` a regular file); in a group of files such a path is refused. A
link to a regular file keeps its link: the file it leads to is replaced."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import irish_tune
from modeling_irish.file_utils import replacing_file, replacing_files, written_in_place

ROOT = Path(__file__).resolve().parents[1]
KESH = "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|\n"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def _pipe(path: Path) -> int:
    """A named pipe at ``path`` and its read end, opened first so that a writer does not wait
    (what is written stays in the pipe's buffer: a few KB here, well under its 64 KB)."""
    os.mkfifo(path)
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK)


def _drain(reader: int) -> bytes:
    """What the pipe of the read end ``reader`` holds, the read end then closed."""
    try:
        return os.read(reader, 1 << 16)
    finally:
        os.close(reader)


def test_a_named_pipe_and_a_link_to_one_are_written_into_not_replaced(tmp_path):
    pipe, link = tmp_path / "out.fifo", tmp_path / "out.abc"
    reader = _pipe(pipe)
    link.symlink_to(pipe)
    for target in (pipe, link):
        assert written_in_place(target)
        with replacing_file(target) as written, open(written, "w", encoding="utf-8") as handle:
            handle.write(f"X:1 via {target.name}\n")
    assert _drain(reader) == b"X:1 via out.fifo\nX:1 via out.abc\n"
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.abc", "out.fifo"]  # no temporary


def test_a_group_refuses_a_pipe_before_writing_anything(tmp_path):
    pipe, earlier = tmp_path / "tune.svg", tmp_path / "tune.mid"
    reader = _pipe(pipe)
    earlier.write_text("earlier", encoding="utf-8")
    refused = pytest.raises(OSError, match="a device or pipe, not a file.*tune.svg")
    with refused, replacing_files() as group:
        with replacing_file(earlier, group) as tmp:
            Path(tmp).write_text("new", encoding="utf-8")
        with replacing_file(pipe, group):
            pytest.fail("a pipe in a group is refused before it is written")
    assert _drain(reader) == b"" and stat.S_ISFIFO(os.stat(pipe).st_mode)
    assert earlier.read_text(encoding="utf-8") == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.mid", "tune.svg"]


def test_a_folder_and_a_new_or_regular_file_are_replaced_as_before(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "old.abc").write_text("earlier", encoding="utf-8")
    assert not any(written_in_place(tmp_path / name) for name in ("folder", "old.abc", "new.abc"))
    refused = pytest.raises(IsADirectoryError, match="folder")
    with refused, replacing_file(tmp_path / "folder") as tmp:
        Path(tmp).write_text("X:1", encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "old.abc"]


def test_a_folder_in_a_group_is_refused_before_any_file_of_the_group_is_renamed(tmp_path):
    earlier = tmp_path / "tune.svg"
    earlier.write_text("earlier", encoding="utf-8")
    (tmp_path / "tune.mid").mkdir()
    with pytest.raises(IsADirectoryError, match="tune.mid"), replacing_files() as group:
        with replacing_file(earlier, group) as tmp:
            Path(tmp).write_text("new", encoding="utf-8")
        with replacing_file(tmp_path / "tune.mid", group) as tmp:
            Path(tmp).write_bytes(b"MThd")
    assert earlier.read_text(encoding="utf-8") == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.mid", "tune.svg"]


def test_transpose_writes_into_a_named_pipe(tmp_path, capsys):
    book, pipe = tmp_path / "kesh.abc", tmp_path / "out.fifo"
    book.write_text(KESH, encoding="utf-8")
    reader = _pipe(pipe)
    assert irish_tune.main(["transpose", str(book), "--key", "D", "-o", str(pipe)]) == 0
    written = _drain(reader).decode("utf-8")
    assert "K:D" in written and written.startswith("X:1")
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and capsys.readouterr().out == ""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd here")
def test_transpose_to_a_descriptor_writes_into_what_it_is_open_on(tmp_path):
    """``-o /dev/fd/1`` with stdout a file (``> out.abc``): the file gets the tunes, written
    through the descriptor (it was a temporary file refused in /proc/self/fd), and with stdout
    a pipe, the pipe."""
    book, out = tmp_path / "kesh.abc", tmp_path / "out.abc"
    book.write_text(KESH, encoding="utf-8")
    command = [sys.executable, "-m", "irish_tune", "transpose", str(book), "--key", "D"]
    with open(out, "w", encoding="utf-8") as stdout:
        done = subprocess.run(
            [*command, "-o", "/dev/fd/1"], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE
        )
    assert done.returncode == 0, done.stderr
    assert "K:D" in out.read_text(encoding="utf-8")
    piped = subprocess.run(
        [*command, "-o", "/proc/self/fd/1"], cwd=ROOT, capture_output=True, encoding="utf-8"
    )
    assert piped.returncode == 0 and "K:D" in piped.stdout, piped.stderr


@pytest.mark.parametrize("grouped", [False, True])
def test_a_link_to_a_file_keeps_its_link_and_the_file_it_leads_to_is_replaced(tmp_path, grouped):
    (tmp_path / "versions").mkdir()
    target = tmp_path / "versions" / "v3.abc"
    target.write_text("earlier", encoding="utf-8")
    link = tmp_path / "current.abc"
    link.symlink_to(target)
    if grouped:
        with replacing_files() as group, replacing_file(link, group) as tmp:
            Path(tmp).write_text("X:1", encoding="utf-8")
    else:
        with replacing_file(link) as tmp:
            Path(tmp).write_text("X:1", encoding="utf-8")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == "X:1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.abc", "versions"]
    assert [p.name for p in (tmp_path / "versions").iterdir()] == ["v3.abc"]


@pytest.mark.parametrize("grouped", [False, True])
def test_a_link_into_a_missing_folder_is_named_as_such(tmp_path, grouped):
    """``out/t_1.mid -> /nonexistent/x.mid`` stopped the run with ``out/t_1.mid: No such file or
    directory``, as if the link itself were missing: the line says where the link leads."""
    from modeling_irish.cli import error_line

    target = tmp_path / "gone" / "x.mid"
    link = tmp_path / "t_1.mid"
    link.symlink_to(target)
    with pytest.raises(FileNotFoundError) as info:
        if grouped:
            with replacing_files() as group, replacing_file(link, group) as tmp:
                Path(tmp).write_bytes(b"MThd")
        else:
            with replacing_file(link) as tmp:
                Path(tmp).write_bytes(b"MThd")
    why = f"a link to {os.path.realpath(target)}, whose folder does not exist"
    assert error_line(info.value) == f"{link}: {why}"
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["t_1.mid"]
