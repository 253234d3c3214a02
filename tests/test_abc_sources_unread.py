"""The entries of a folder source that are not read (a ``*.abc`` link to nothing or in a loop, a
pipe, a file without read permission, a link to a folder) are named, with why, in one warning by
the loader and by ``irish-tune check`` alike; a folder named ``sub.abc`` is walked, and an
upper-case ``*.ABC`` file read."""

from __future__ import annotations

import json
import os

import pytest
from helpers import warnings_of
from test_check_cli import GOOD

from modeling_irish.abc_sources import iter_raw_tunes, no_tune_reason, source_files
from modeling_irish.cli import main
from tokenization import file_bytes

needs_posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="links and pipes: POSIX")

#: The warning the folder `_folder` builds gives, after its path.
NOTE = (
    ": 5 entries not read: dangling.abc (a link to nothing (its target is missing)), "
    "linked (a link to a folder, not followed: give it by its path to read it), "
    "locked.abc (no permission to read it), ..."
)


def _folder(tmp_path, monkeypatch):
    """A folder ``tunes`` with three tunebooks read (``book.abc``, ``UP.ABC``, ``sub.abc/in.abc``)
    and five entries not read; ``locked.abc`` unreadable as a user's (the tests may run as root,
    who reads any file)."""
    folder = tmp_path / "tunes"
    (folder / "sub.abc").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    for name in ("book.abc", "UP.ABC", "sub.abc/in.abc", "locked.abc", "../elsewhere/e.abc"):
        (folder / name).write_text(GOOD, encoding="utf-8")
    (folder / "dangling.abc").symlink_to("missing.abc")
    (folder / "loop.abc").symlink_to("loop.abc")
    (folder / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    os.mkfifo(folder / "pipe.abc")  # opened for reading, it would wait for a writer for ever
    real_access = os.access
    locked = str(folder / "locked.abc")
    monkeypatch.setattr(
        file_bytes.os, "access", lambda path, mode: str(path) != locked and real_access(path, mode)
    )
    return folder


@needs_posix
def test_a_folder_source_names_the_entries_it_does_not_read(tmp_path, monkeypatch, caplog):
    folder = _folder(tmp_path, monkeypatch)
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        raws = list(iter_raw_tunes(str(folder)))
    read = [folder / "UP.ABC", folder / "book.abc", folder / "sub.abc" / "in.abc"]
    assert [raw.source for raw in raws] == list(map(str, read))
    assert source_files(str(folder)) == read
    assert warnings_of(caplog, "modeling_irish.abc_sources") == [f"{folder}{NOTE}"]
    found = file_bytes.abc_files(folder)
    assert [(path.name, why) for path, why in found.unread][3:] == [
        ("loop.abc", "a link in a loop"),
        ("pipe.abc", "a pipe (FIFO), not opened"),
    ]


@needs_posix
def test_a_folder_of_entries_not_read_says_why_it_holds_no_tune(tmp_path, monkeypatch):
    folder = _folder(tmp_path, monkeypatch)
    for name in ("book.abc", "UP.ABC", "sub.abc/in.abc"):
        (folder / name).unlink()
    assert no_tune_reason(folder) == (
        "no *.abc files but 5 not read (a link to nothing (its target is missing), ...)"
    )
    assert list(iter_raw_tunes(str(folder))) == []


@needs_posix
def test_check_names_the_entries_of_a_folder_it_does_not_read(
    tmp_path, monkeypatch, capsys, caplog
):
    folder = _folder(tmp_path, monkeypatch)
    with caplog.at_level("WARNING", logger="tokenization.check"):
        assert main(["check", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["round_trip_ok"] == 3
    assert f"{folder}{NOTE}" in warnings_of(caplog, "tokenization.check")


@needs_posix
def test_an_editors_lock_link_is_a_hidden_file_passed_over_not_an_entry_not_read(tmp_path):
    folder = tmp_path / "tunes"
    folder.mkdir()
    (folder / "book.abc").write_text(GOOD, encoding="utf-8")
    (folder / ".#book.abc").symlink_to("user@host.1234")  # Emacs's lock: a link to nothing
    found = file_bytes.abc_files(folder)
    assert (found.files, found.hidden, found.unread) == (
        [folder / "book.abc"],
        [folder / ".#book.abc"],
        [],
    )
