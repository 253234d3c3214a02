"""What saves and loads of a name-that-tune index leave in its folder and beside it when they
fail or are interrupted (no lock file, writer's folder or folder a failed save made), the
cleanup of killed saves done only under the save's lock, and the entries flushed to the disk."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

from modeling_irish import tune_index_files, tune_index_locks
from modeling_irish.tune_index_files import INDEX_FILE, read_index, write_index
from tokenization.writer_folders import own_writer_name, process_start, this_host

ARRAYS = {name: np.arange(2) for name in tune_index_files.INDEX_ARRAYS} | {"dur_flat": None}
INFO = {"format": 3, "titles": ["The Butterfly"]}
DEAD = 999999999  # above any pid_max: no process has it


def _names(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_a_save_whose_flock_fails_leaves_no_lock_file_nor_the_folder_it_made(tmp_path, monkeypatch):
    # flock failing otherwise than "no locks" (EIO) left an empty .tune_index.lock behind
    def broken(handle, operation):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(tune_index_locks.fcntl, "flock", broken)
    folder = tmp_path / "idx"
    with pytest.raises(OSError, match="cannot lock .* to save the index: Input/output error"):
        write_index(folder, ARRAYS, INFO)
    assert _names(tmp_path) == []
    mine = tmp_path / "model"  # the user's folder: kept, as it was
    mine.mkdir()
    (mine / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(OSError, match="Input/output error"):
        write_index(mine, ARRAYS, INFO)
    assert _names(mine) == ["config.json"]


@pytest.mark.parametrize("earlier", [False, True], ids=["new folder", "over an index"])
def test_a_save_interrupted_while_it_writes_leaves_the_folder_as_it_was(
    tmp_path, monkeypatch, earlier
):
    # Ctrl-C while the files were written left .tune_index.tmp-<pid>/ (and the folder made)
    folder = tmp_path / "idx"
    if earlier:
        write_index(folder, ARRAYS, INFO)
    before = _names(tmp_path), _names(folder) if earlier else None

    def interrupted(handle):
        raise KeyboardInterrupt

    monkeypatch.setattr(tune_index_files, "_sync_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_index(folder, ARRAYS, {**INFO, "titles": ["Another"]})
    assert (_names(tmp_path), _names(folder) if earlier else None) == before
    if earlier:
        assert read_index(folder)[0]["titles"] == ["The Butterfly"]


def test_a_failed_save_that_waited_still_removes_the_folder_it_made(tmp_path, monkeypatch):
    # the folder was made, another save took the lock first and failed: made was forgotten
    # with the wait, and the empty folder stayed
    folder = tmp_path / "idx"
    real = tune_index_locks._make_index_folder
    held, other = threading.Event(), []

    def other_save() -> None:
        with pytest.raises(RuntimeError), tune_index_locks.save_lock(str(folder)):
            held.set()
            threading.Event().wait(0.2)
            raise RuntimeError("the other save failed")

    def made_then_overtaken(path: str) -> bool:
        made = real(path)
        if made:  # this save made it; the other takes the lock before this one opens it
            other.append(threading.Thread(target=other_save))
            other[0].start()
            assert held.wait(30)
        return made

    monkeypatch.setattr(tune_index_locks, "_make_index_folder", made_then_overtaken)
    monkeypatch.setattr(tune_index_files, "_sync_file", lambda handle: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_index(folder, ARRAYS, INFO)
    other[0].join(30)
    assert _names(tmp_path) == []


def test_earlier_versions_folders_are_cleared_only_by_a_save_that_holds_the_lock(
    tmp_path, monkeypatch
):
    # a save cleared <idx>.tmp-<pid> beside the folder before it waited for the lock: while
    # another save held it, and even when it then gave up waiting
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    killed = tmp_path / f"idx.tmp-{DEAD}"  # an earlier version's save, killed
    killed.mkdir()
    (killed / "pitch_flat.npy").write_bytes(b"")
    monkeypatch.setattr(tune_index_locks, "SAVE_LOCK_WAIT_S", 0.2)
    with tune_index_locks.save_lock(str(folder)), pytest.raises(OSError, match="another save"):
        write_index(folder, ARRAYS, INFO)
    assert killed.is_dir()  # the lock's holder's to clear, not this waiting save's
    write_index(folder, ARRAYS, INFO)
    assert _names(tmp_path) == ["idx"]


def test_a_lock_file_that_will_not_go_does_not_hide_the_saves_error(tmp_path, monkeypatch, caplog):
    # os.remove of the lock raised PermissionError over the save's "No space left on device"
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    lock = str(folder / ".tune_index.lock")
    real_remove = os.remove

    def remove(path, *args, **kwargs):
        if os.fspath(path) == lock:
            raise PermissionError(13, "Permission denied", lock)
        return real_remove(path, *args, **kwargs)

    def full(handle):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "remove", remove)
    monkeypatch.setattr(tune_index_files, "_sync_file", full)
    caplog.set_level(logging.WARNING)
    with pytest.raises(OSError, match="No space left on device; .* is left as it was"):
        write_index(folder, ARRAYS, INFO)
    assert f"cannot remove {lock} (Permission denied); it is left behind" in caplog.text


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc to name a file by")
def test_the_folders_a_save_makes_or_a_load_mends_are_flushed_to_the_disk(tmp_path, monkeypatch):
    # the index's files were flushed, not the new folder's entry in its parent: a power cut
    # after the save could lose the folder; nor the folder a load finished a killed save in
    flushed = []
    real_fsync = os.fsync
    monkeypatch.setattr(
        os, "fsync", lambda fd: flushed.append(os.readlink(f"/proc/self/fd/{fd}")) or real_fsync(fd)
    )
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    assert str(tmp_path) in flushed
    killed = folder / f".tune_index.tmp-{DEAD}"  # killed once every old file was aside
    (killed / "in").mkdir(parents=True)
    for name in _names(folder):
        if not name.startswith("."):
            os.rename(folder / name, killed / "in" / name)
    flushed.clear()
    assert read_index(folder)[0]["titles"] == INFO["titles"]
    assert flushed == [str(folder)] and INDEX_FILE in _names(folder)


def test_a_folder_beside_the_index_named_as_an_earlier_save_is_deleted_only_if_one(
    tmp_path, caplog
):
    # any <idx>.tmp-<number> folder of a dead process was deleted, the user's too; and so was
    # <idx>.tmp-old-<number>, read as the process <number>
    folder = tmp_path / "idx"
    killed = tmp_path / f"idx.tmp-{DEAD}"  # an earlier version's save, killed mid-write
    killed.mkdir()
    for name in ("title_embeds.npy", "setting_embeds.npy"):
        (killed / name).write_bytes(b"")
    notes = tmp_path / f"idx.tmp-{DEAD + 1}"  # the user's, of the same name
    notes.mkdir()
    (notes / "notes.txt").write_text("tunes to learn", encoding="utf-8")
    (tmp_path / f"idx.tmp-{DEAD + 2}").mkdir()  # empty: whose is unknown
    (tmp_path / f"idx.tmp-{DEAD + 3}").write_text("a file", encoding="utf-8")
    backup = tmp_path / f"idx.tmp-old-{DEAD}"  # a copy of an index the user keeps
    backup.mkdir()
    (backup / INDEX_FILE).write_text("{}", encoding="utf-8")
    before = _names(tmp_path)
    caplog.set_level(logging.WARNING)
    write_index(folder, ARRAYS, INFO)
    assert _names(tmp_path) == sorted({*before, "idx"} - {killed.name})
    assert _names(notes) == ["notes.txt"] and _names(backup) == [INDEX_FILE]
    assert not caplog.records


def test_a_load_never_makes_the_folder_removed_while_it_was_mending_it(tmp_path, monkeypatch):
    # the folder, removed between the load's look (a killed save to finish) and its lock, was
    # made again, empty, by the save's lock the load takes to mend it
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)

    def removed_once_looked_at(path: str) -> bool:
        shutil.rmtree(path)
        return True  # it looked interrupted

    monkeypatch.setattr(tune_index_files, "_interrupted", removed_once_looked_at)
    with pytest.raises(FileNotFoundError, match="is not an index folder"):
        read_index(folder)
    assert _names(tmp_path) == []


def _interrupt_call(
    monkeypatch, name: str, nth: int, raised: type[BaseException] = KeyboardInterrupt
) -> None:
    """The ``nth`` call of ``os.<name>`` (a rename of the swap) raises KeyboardInterrupt, as a
    Ctrl-C then would; the others, and those of the cleanup after, run. ``raised`` OSError: the
    ``nth`` call and every one after fail, as in a folder made read-only then."""
    real, calls = getattr(os, name), []

    def interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) >= nth and raised is OSError:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), args[0])
        if len(calls) == nth:
            raise raised
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, interrupted)


@pytest.mark.parametrize(
    "name, nth, titles",
    [
        ("rename", 2, ["The Butterfly"]),  # old files half aside: put back
        ("replace", 2, ["Another"]),  # new files half in, every old one aside: finished
    ],
    ids=["putting the old aside", "moving the new in"],
)
def test_a_save_interrupted_while_it_swaps_leaves_one_whole_index(
    tmp_path, monkeypatch, name, nth, titles
):
    # Ctrl-C mid-swap left the folder half swapped under this live process's writer's folder:
    # no index to load until the process ended, and its next save deleted the old files aside
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    _interrupt_call(monkeypatch, name, nth)
    with pytest.raises(KeyboardInterrupt):
        write_index(folder, ARRAYS, {**INFO, "titles": ["Another"]})
    monkeypatch.undo()
    assert not [n for n in _names(folder) if n.startswith(".tune_index")]
    assert read_index(folder)[0]["titles"] == titles


def test_a_save_killed_while_it_clears_its_writer_keeps_the_new_index(tmp_path, monkeypatch):
    # the writer's folder went in one rmtree, in/ (emptied) maybe before old/: a save killed
    # between the two left old/ alone, which the next recovery put back over the new index
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    real = tune_index_files.discard_folder

    class Killed(BaseException):
        pass

    def killed_midway(path) -> None:
        if os.path.isdir(os.path.join(path, "in")):  # the writer: in/ goes, then the kill
            os.rmdir(os.path.join(path, "in"))
            raise Killed
        real(path)

    monkeypatch.setattr(tune_index_files, "discard_folder", killed_midway)
    with pytest.raises(Killed):
        write_index(folder, ARRAYS, {**INFO, "titles": ["Another"]})
    monkeypatch.undo()
    for writer in folder.glob(".tune_index.tmp-*"):  # its process is gone
        writer.rename(folder / f".tune_index.tmp-{DEAD}")
    tune_index_files.finish_interrupted_saves(folder)
    assert read_index(folder)[0]["titles"] == ["Another"]
    assert not [n for n in _names(folder) if n.startswith(".tune_index")]


def test_a_save_after_one_interrupted_twice_in_this_process_keeps_the_old_index(
    tmp_path, monkeypatch
):
    # a second Ctrl-C while the first was being settled left this live process's writer's
    # folder, holding old files aside; the next save of this process deleted it as its own
    # leftover, so that its failure (a full disk) lost the old index as well as the new one
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    _interrupt_call(monkeypatch, "rename", 2)  # the old files half aside
    _interrupt_call(monkeypatch, "replace", 1)  # and again while they are put back
    with pytest.raises(KeyboardInterrupt):
        write_index(folder, ARRAYS, {**INFO, "titles": ["Another"]})
    monkeypatch.undo()
    assert INDEX_FILE not in _names(folder)  # half swapped, for the next save to mend

    def full(handle):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tune_index_files, "_sync_file", full)
    with pytest.raises(OSError, match="No space left on device"):
        write_index(folder, ARRAYS, {**INFO, "titles": ["A Third"]})
    monkeypatch.undo()
    assert read_index(folder)[0]["titles"] == ["The Butterfly"]
    assert not [n for n in _names(folder) if n.startswith(".tune_index.tmp")]


OLD_ARRAYS = ARRAYS | {"dur_flat": np.arange(2)}  # one array more than the new index has
NEW_ARRAYS = {name: np.arange(3) for name in tune_index_files.INDEX_ARRAYS}


def _whole(folder) -> str:
    """Which index the folder holds whole ("old", "new"); an AssertionError for a mix of both."""
    info, arrays = read_index(folder)
    old = info == INFO and arrays.keys() == OLD_ARRAYS.keys()
    new = info == {**INFO, "titles": ["Another"]} and arrays.keys() == NEW_ARRAYS.keys()
    expected = OLD_ARRAYS if old else NEW_ARRAYS
    assert (old or new) and all(np.array_equal(arrays[k], expected[k]) for k in arrays)
    return "old" if old else "new"


def _saved_then_interrupted_twice(folder, monkeypatch, calls):
    """``folder`` holding the old index, then a save of the new one interrupted at ``calls``
    (a Ctrl-C, and a second while the first was settled), the patches undone."""
    write_index(folder, OLD_ARRAYS, INFO)
    for name, nth in calls:
        _interrupt_call(monkeypatch, name, nth)
    with pytest.raises(KeyboardInterrupt):
        write_index(folder, NEW_ARRAYS, {**INFO, "titles": ["Another"]})
    monkeypatch.undo()
    return folder


@pytest.mark.parametrize(
    "calls, held",
    [
        ([("rename", 2), ("replace", 1)], "old"),  # old files half aside, half put back
        ([("replace", 2), ("replace", 3)], "new"),  # new files half in, half moved in after
    ],
    ids=["putting the old back", "moving the new in"],
)
def test_a_load_after_a_save_interrupted_twice_in_this_process_finds_one_whole_index(
    tmp_path, monkeypatch, calls, held
):
    # a second Ctrl-C while the first was settled left this (live) process's writer's folder
    # and no tune_index.json: its loads said "not an index folder" until the process ended
    folder = _saved_then_interrupted_twice(tmp_path / "idx", monkeypatch, calls)
    assert INDEX_FILE not in _names(folder)  # half swapped
    assert _whole(folder) == held
    assert not [n for n in _names(folder) if n.startswith(".tune_index")]
    # one it cannot end now (a folder made read-only) is said, with what to do
    _interrupt_call(monkeypatch, "rename", 2)
    _interrupt_call(monkeypatch, "replace", 1)
    with pytest.raises(KeyboardInterrupt):
        write_index(folder, NEW_ARRAYS, {**INFO, "titles": ["Another"]})
    _interrupt_call(monkeypatch, "replace", 1, OSError)
    writer = folder / own_writer_name(".tune_index.tmp-")
    with pytest.raises(FileNotFoundError) as raised:
        read_index(folder)
    assert str(raised.value) == (
        f"the index {str(folder)!r} is half saved: an interrupted save left its files in "
        f"{writer}, which cannot be put back now (Read-only file system); load it again once "
        "they can (its process ended, the folder writable), or rebuild it with irish-tune index"
    )
    monkeypatch.undo()
    assert _whole(folder) == held


@pytest.mark.parametrize(
    "fails, said, held",
    [
        (  # the old files half aside, then none can be put back
            [("rename", 2), ("replace", 1)],
            "cannot replace {folder}/title_embeds.npy: Read-only file system; nor could the "
            "earlier index be put back (Read-only file system): its tune_index.json is kept in "
            "{writer}/old; the next load or save of {folder} puts it back",
            "old",
        ),
        (  # the new files half in, then none: undone, but no old file can be put back
            [("replace", 2)],
            "cannot move the new index into {folder}: Read-only file system; nor could the "
            "earlier index be put back (Read-only file system): its 7 files are kept in "
            "{writer}/old; the next load or save of {folder} puts them back",
            "old",
        ),
        (  # nor can the undo begin: the swap is ended, as that of a killed save would be
            [("replace", 2), ("rename", 9)],
            "cannot move the new index into {folder}: Read-only file system; nor could it be "
            "undone (Read-only file system): the earlier index is kept in {writer}/old, the "
            "new one is part in {folder}, part in {writer}/in; the next load or save of "
            "{folder} finishes the new index",
            "new",
        ),
    ],
    ids=["putting the old aside", "moving the new in", "renaming in/ to undo"],
)
@pytest.mark.parametrize("ended", [False, True], ids=["loaded here", "once the process ended"])
def test_a_save_whose_undo_fails_too_says_where_each_index_is_and_loses_neither(
    tmp_path, monkeypatch, fails, said, held, ended
):
    # the put-back failing too said only "the earlier index's files are in .../old": loads
    # said "not an index folder" until the process ended, and then, when the new files had
    # begun to go in, finished the new index half put back, the old one deleted
    folder = tmp_path / "idx"
    write_index(folder, OLD_ARRAYS, INFO)
    for name, nth in fails:
        _interrupt_call(monkeypatch, name, nth, OSError)
    with pytest.raises(OSError) as raised:
        write_index(folder, NEW_ARRAYS, {**INFO, "titles": ["Another"]})
    monkeypatch.undo()
    writer = folder / own_writer_name(".tune_index.tmp-")
    assert str(raised.value) == said.format(folder=folder, writer=writer)
    if ended:
        writer.rename(folder / f".tune_index.tmp-{DEAD}")
    assert _whole(folder) == held
    assert not [n for n in _names(folder) if n.startswith(".tune_index")]


def test_a_load_of_an_index_another_live_process_half_saved_says_so(tmp_path):
    # its writer's folder is not this load's to end (the process may still save): the load
    # said "not an index folder", as if it held no index at all
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    writer = folder / ".tune_index.tmp-1"  # init's: alive as long as the system
    (writer / "old").mkdir(parents=True)
    os.rename(folder / INDEX_FILE, writer / "old" / INDEX_FILE)
    with pytest.raises(FileNotFoundError, match=r"is half saved: .* left its files in .*tmp-1,"):
        read_index(folder)
    assert (writer / "old" / INDEX_FILE).is_file()  # left as it was


@pytest.mark.parametrize(
    "calls",
    [[("rename", 2), ("replace", 1)], [("replace", 2), ("replace", 3)]],
    ids=["putting the old back", "moving the new in"],
)
def test_a_save_left_by_a_live_process_is_not_put_over_an_index_saved_since(
    tmp_path, monkeypatch, caplog, calls
):
    # process A's save, interrupted twice, left its writer's folder (old/ aside, or in/ half
    # moved in); B saved a whole index meanwhile (A alive: its folder left); once A was gone,
    # the next recovery put A's files over B's index, leaving a mix of the two
    folder = _saved_then_interrupted_twice(tmp_path / "idx", monkeypatch, calls)
    alive = folder / ".tune_index.tmp-1"  # init's: A, still running, as B's save sees it
    (folder / own_writer_name(".tune_index.tmp-")).rename(alive)
    third = {name: np.arange(4) for name in tune_index_files.INDEX_ARRAYS}
    write_index(folder, third, {**INFO, "titles": ["A Third"]})  # B's save
    assert alive.is_dir()
    killed = folder / f".tune_index.tmp-{DEAD}"
    alive.rename(killed)  # A has ended
    caplog.set_level(logging.WARNING)
    tune_index_files.finish_interrupted_saves(folder)
    info, arrays = read_index(folder)
    assert info["titles"] == ["A Third"] and arrays.keys() == third.keys()
    assert all(np.array_equal(arrays[name], third[name]) for name in third)
    assert not [n for n in _names(folder) if n.startswith(".tune_index")]
    assert f"{folder} holds an index saved after the interrupted save in {killed}" in caplog.text


def test_two_saves_left_half_aside_are_both_put_back(tmp_path, monkeypatch, caplog):
    # A's save (interrupted twice) left tune_index.json aside, B's the next file: the recovery
    # put A's back first, then took tune_index.json for a newer index and deleted B's file
    folder = tmp_path / "idx"
    write_index(folder, OLD_ARRAYS, INFO)
    for pid in (1, DEAD):  # A (alive: init's pid), then B: each puts one file aside
        _interrupt_call(monkeypatch, "rename", 2)
        _interrupt_call(monkeypatch, "replace", 1)
        with pytest.raises(KeyboardInterrupt):
            write_index(folder, NEW_ARRAYS, {**INFO, "titles": ["Another"]})
        monkeypatch.undo()
        (folder / own_writer_name(".tune_index.tmp-")).rename(folder / f".tune_index.tmp-{pid}")
    (folder / ".tune_index.tmp-1").rename(folder / f".tune_index.tmp-{DEAD - 1}")  # A ended
    assert INDEX_FILE not in _names(folder)
    assert _names(folder / f".tune_index.tmp-{DEAD}" / "old") == ["title_embeds.npy"]
    caplog.set_level(logging.WARNING)
    tune_index_files.finish_interrupted_saves(folder)
    assert _whole(folder) == "old"
    assert not [n for n in _names(folder) if n.startswith(".tune_index")]
    said = [record.getMessage() for record in caplog.records]  # each undo, no overtaken one
    assert len(said) == 2 and all(m.startswith("undid the swap in ") for m in said)


def _killed_save(folder) -> str:
    """A writer's folder in ``folder`` as a save killed while it wrote its new files left it:
    named for a process that has ended (a finished child's id, with a start time no process
    of that id has, should the id be reused)."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()  # ended and reaped: no process has its id until it is reused
    writer = folder / f".tune_index.tmp-{child.pid}.1@{this_host()}"
    (writer / "new").mkdir(parents=True)
    (writer / "old").mkdir()
    (writer / "new" / "pitch_flat.npy").write_bytes(b"half written")
    return str(writer)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_a_load_clears_a_killed_saves_folder_and_leaves_a_running_ones(tmp_path, caplog):
    # a build killed (SIGKILL) before its swap left .tune_index.tmp-<pid>...: loads read the
    # index beside it and kept it, unsaid, until the next save
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    killed = _killed_save(folder)
    live = os.getppid()  # alive while this test runs: its folder is a save under way
    running = folder / f".tune_index.tmp-{live}.{process_start(live)}@{this_host()}"
    (running / "new").mkdir(parents=True)
    caplog.set_level(logging.WARNING)
    assert read_index(folder)[0]["titles"] == INFO["titles"]
    assert not os.path.exists(killed) and (running / "new").is_dir()
    assert f"removed {killed}, which a killed save of the index left" in caplog.text
    assert str(running) not in caplog.text


def test_a_load_that_cannot_take_the_lock_names_a_killed_saves_folder(tmp_path, caplog):
    # another load holds the folder: this one neither waits nor clears, but says what to do
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    killed = _killed_save(folder)
    caplog.set_level(logging.WARNING)
    with tune_index_locks.load_lock(str(folder)):
        assert read_index(folder)[0]["titles"] == INFO["titles"]
    assert os.path.isdir(killed)
    assert (
        f"{folder} holds the files of a killed save of the index ({os.path.basename(killed)}), "
        "which cannot be removed now (another save or a load holds it); the index is whole "
        f"without them: remove them with rm -r {killed}, or the next save of the index will"
    ) in caplog.text
    read_index(folder)  # the next load, alone, clears it
    assert _names(folder) == sorted(f"{name}.npy" for name in ARRAYS if name != "dur_flat") + [
        INDEX_FILE
    ]


@pytest.mark.parametrize("killed_in", ["in", "old"], ids=["after the moves", "before them"])
@pytest.mark.parametrize("ended_by", ["read_index", "finish_interrupted_saves"])
def test_ending_a_killed_swap_says_which_index_it_holds(tmp_path, caplog, killed_in, ended_by):
    # a load finished (in/: every old file aside) or undid (old/ only) a swap killed midway,
    # unsaid: the user could not tell whether identify answered from the old index or the new;
    # the public finish_interrupted_saves ended it unsaid after read_index said it
    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    killed = folder / f".tune_index.tmp-{DEAD}"
    (killed / killed_in).mkdir(parents=True)
    for name in _names(folder):
        if not name.startswith("."):
            os.rename(folder / name, killed / killed_in / name)
    caplog.set_level(logging.WARNING)
    if ended_by == "finish_interrupted_saves":
        tune_index_files.finish_interrupted_saves(folder)
    assert read_index(folder)[0]["titles"] == INFO["titles"]
    assert not killed.exists()
    said = {
        "in": f"finished the swap in {killed}, which a killed save of the index left: {folder} "
        "now holds the new build's index",
        "old": f"undid the swap in {killed}, which a killed save of the index left: {folder} "
        "holds the earlier index again, not the new build's; rebuild it with irish-tune index",
    }
    assert said[killed_in] in caplog.text
    assert len(caplog.records) == 1
