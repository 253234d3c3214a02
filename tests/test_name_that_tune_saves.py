"""Saves of a name-that-tune index into one folder: one at a time (two racing saves swapped
their files in together, leaving files of both), the holder of the folder named when a save
gives up waiting, and every file flushed to the disk before the swap."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading

import numpy as np
import pytest
from helpers import synthetic_tune

from modeling_irish import tune_index_files, tune_index_locks
from modeling_irish.name_that_tune import TuneIndex
from tokenization.tokenization_abc import AbcTokenizer
from tokenization.writer_folders import own_writer_name

TUNES = [synthetic_tune(i, f"Reel {i}", i, i, bars=4) for i in range(1, 6)]


@pytest.fixture(scope="module")
def indices() -> tuple[TuneIndex, TuneIndex]:
    """Two edit-distance indices (no model) of other tunes; the second without ``dur_flat``."""
    tokenizer = AbcTokenizer.train(TUNES)
    first = TuneIndex.build(None, tokenizer, TUNES)
    second = TuneIndex.build(None, tokenizer, TUNES[:2])
    second.dur_flat = None
    return first, second


def _is_whole(folder, index: TuneIndex) -> bool:
    loaded = TuneIndex.load(folder)
    return (
        loaded.titles == index.titles
        and np.array_equal(loaded.pitch_flat, index.pitch_flat)
        and np.array_equal(loaded.setting_title, index.setting_title)
        and (loaded.dur_flat is None) == (index.dur_flat is None)
    )


def test_two_racing_saves_leave_one_whole_index(indices, tmp_path, monkeypatch):
    # both swapped their files in at once: the first, stopped half way through moving its files
    # in, ended them over the second's, leaving arrays of one and titles of the other
    fork = multiprocessing.get_context("fork")
    halfway, second_done = fork.Event(), fork.Event()
    real = tune_index_files._move_files

    def paused_moves(source, target, names=None):  # the first saver's move into the folder
        names = sorted(names if names is not None else os.listdir(source))
        if os.path.basename(source) != "in" or halfway.is_set():
            return real(source, target, names)
        real(source, target, names[:3])
        halfway.set()
        second_done.wait(1.0)  # the second save, unless it waits for this one to end
        real(source, target, names[3:])

    def second(index: TuneIndex, folder: str) -> None:
        halfway.wait(30)
        index.save(folder)
        second_done.set()

    monkeypatch.setattr(tune_index_files, "_move_files", paused_moves)
    folder = tmp_path / "idx"
    indices[1].save(folder)
    savers = [
        fork.Process(target=indices[0].save, args=(str(folder),)),
        fork.Process(target=second, args=(indices[1], str(folder))),
    ]
    for saver in savers:
        saver.start()
    for saver in savers:
        saver.join(60)
    assert [saver.exitcode for saver in savers] == [0, 0]
    assert _is_whole(folder, indices[1])  # the second, after the first
    assert not [name for name in os.listdir(folder) if name.startswith(".")]  # lock, writers


def test_the_wait_of_a_save_is_set_in_tune_index_locks_alone(monkeypatch):
    # tune_index_files still exported its own SAVE_LOCK_WAIT_S once the locks had moved to
    # tune_index_locks: no save read it, and setting it there changed nothing
    with pytest.raises(AttributeError):
        monkeypatch.setattr(tune_index_files, "SAVE_LOCK_WAIT_S", 0.2)
    assert "SAVE_LOCK_WAIT_S" not in tune_index_files.__all__
    assert "SAVE_LOCK_WAIT_S" in tune_index_locks.__all__


def test_a_save_waits_for_another_and_names_it_when_it_gives_up(
    indices, tmp_path, monkeypatch, caplog
):
    folder = tmp_path / "idx"
    indices[0].save(folder)
    monkeypatch.setattr(tune_index_locks, "SAVE_LOCK_WAIT_S", 0.2)
    # another save (here a handle of its own on the lock) holds the folder
    with tune_index_locks.save_lock(str(folder)), pytest.raises(OSError) as raised:
        indices[1].save(folder)
    lock = folder / ".tune_index.lock"
    assert str(raised.value) == (
        f"cannot save the index into {folder}: another save (process {os.getpid()}) has held "
        f"it for over 0.2 s (its lock: {lock})"
    )
    assert _is_whole(folder, indices[0]) and not lock.exists()
    # one that ends in time: the waiting save goes on, and said whom it waited for
    monkeypatch.setattr(tune_index_locks, "SAVE_LOCK_WAIT_S", 30)
    held, ended = threading.Event(), threading.Event()

    def hold() -> None:
        with tune_index_locks.save_lock(str(folder)):
            held.set()
            ended.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(30)
    threading.Timer(0.3, ended.set).start()
    with caplog.at_level(logging.WARNING, logger=tune_index_locks.__name__):
        indices[1].save(folder)
    holder.join(30)
    assert _is_whole(folder, indices[1])
    assert f"waiting for process {os.getpid()}, which is saving the index {folder}" in caplog.text


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc to name a file by")
def test_a_save_flushes_its_files_to_the_disk_before_the_swap(indices, tmp_path, monkeypatch):
    # nothing was fsync'ed: a power cut after the renames could leave empty files in place
    folder = tmp_path / "idx"
    indices[1].save(folder)
    events = []
    real = {name: getattr(os, name) for name in ("fsync", "rename", "replace")}

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real["fsync"](fd)

    monkeypatch.setattr(os, "fsync", fsync)
    for name in ("rename", "replace"):
        monkeypatch.setattr(os, name, lambda *a, f=real[name], **k: events.append(("move",)) or f(*a, **k))  # fmt: skip  # noqa: E501
    indices[0].save(folder)
    first_move = events.index(("move",))
    flushed = [os.path.relpath(where, folder) for _, where in events[:first_move]]
    writer = f"{own_writer_name('.tune_index.tmp-')}/new"
    names = ["tune_index.json", *(f"{n}.npy" for n in ("title_embeds", "setting_embeds",
             "setting_title", "pitch_flat", "pitch_offsets", "dur_flat"))]  # fmt: skip
    assert sorted(flushed) == sorted([writer, *(f"{writer}/{name}" for name in names)])
    assert events[-1] == ("fsync", str(folder))  # the renames into it, last


def test_a_load_during_a_save_finds_one_index_whole(indices, tmp_path, monkeypatch):
    # a load took no lock: during the swap it found no tune_index.json ("not an index folder"),
    # or the new arrays beside the old titles
    fork = multiprocessing.get_context("fork")
    halfway, loaded = fork.Event(), fork.Event()
    real = tune_index_files._move_files

    def paused_moves(source, target, names=None):  # the saver's move into the folder
        names = sorted(names if names is not None else os.listdir(source))
        if os.path.basename(source) != "in":
            return real(source, target, names)
        real(source, target, names[:3])
        halfway.set()
        loaded.wait(1.0)  # the load, unless it waits for this save to end
        real(source, target, names[3:])

    folder = tmp_path / "idx"
    indices[1].save(folder)
    monkeypatch.setattr(tune_index_files, "_move_files", paused_moves)
    saver = fork.Process(target=indices[0].save, args=(str(folder),))
    saver.start()
    try:
        assert halfway.wait(30)
        index = TuneIndex.load(folder)
    finally:
        loaded.set()
        saver.join(60)
    assert saver.exitcode == 0
    assert index.titles == indices[0].titles  # the save's index: the load waited for it
    assert np.array_equal(index.pitch_flat, indices[0].pitch_flat)
    assert np.array_equal(index.dur_flat, indices[0].dur_flat)
    assert not [name for name in os.listdir(folder) if name.startswith(".")]  # no lock left


def test_a_load_of_a_folder_it_may_not_write_reads_it_unlocked(indices, tmp_path, monkeypatch):
    folder = tmp_path / "idx"
    indices[0].save(folder)
    real_open = os.open

    def read_only(path, flags, *args):  # root may write anywhere: say the folder is read-only
        if os.path.dirname(path) == str(folder) and flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    assert _is_whole(folder, indices[0])
    assert sorted(os.listdir(folder)) == sorted(
        ["tune_index.json", *(f"{n}.npy" for n in tune_index_files.INDEX_ARRAYS), "dur_flat.npy"]
    )


def test_loads_and_saves_that_give_up_waiting_name_the_holder(indices, tmp_path, monkeypatch):
    folder = tmp_path / "idx"
    indices[0].save(folder)
    lock = folder / ".tune_index.lock"
    monkeypatch.setattr(tune_index_locks, "SAVE_LOCK_WAIT_S", 0.2)
    with tune_index_locks.save_lock(str(folder)), pytest.raises(OSError) as raised:
        TuneIndex.load(folder)
    assert str(raised.value) == (
        f"cannot load the index {folder}: a save (process {os.getpid()}) has held it for over "
        f"0.2 s (its lock: {lock})"
    )
    with tune_index_locks.load_lock(str(folder)), pytest.raises(OSError) as raised:
        indices[1].save(folder)
    assert str(raised.value) == (
        f"cannot save the index into {folder}: a load of it has held it for over 0.2 s (its "
        f"lock: {lock})"
    )
    assert _is_whole(folder, indices[0]) and not lock.exists()


def test_a_save_on_a_file_system_without_locks_goes_on_unlocked(
    indices, tmp_path, monkeypatch, caplog
):
    """Saves on a file system whose flock fails (ENOLCK: some NFS mounts) were refused once
    saves took a lock, where before they worked: they go on, with a warning."""
    import errno

    def no_locks(handle, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(tune_index_locks.fcntl, "flock", no_locks)
    folder = tmp_path / "idx"
    with caplog.at_level(logging.WARNING, logger=tune_index_locks.__name__):
        indices[0].save(folder)
        indices[1].save(folder)  # over an earlier index too
    assert not (folder / tune_index_locks._LOCK).exists()
    assert _is_whole(folder, indices[1])  # read unlocked
    assert not (folder / tune_index_locks._LOCK).exists()
    said = [r.getMessage() for r in caplog.records if "without a lock" in r.getMessage()]
    assert len(said) == 2 and "No locks available" in said[0]


def test_a_save_that_gives_up_names_the_wait_it_was_given(indices, tmp_path):
    # save_lock(..., wait_s=0.2) gave up after 0.2 s and said "over 120 s" (SAVE_LOCK_WAIT_S)
    folder = tmp_path / "idx"
    indices[0].save(folder)
    with (
        tune_index_locks.save_lock(str(folder)),
        pytest.raises(OSError) as raised,
        tune_index_locks.save_lock(str(folder), wait_s=0.2),
    ):
        pass
    assert f"has held it for over 0.2 s (its lock: {folder / '.tune_index.lock'})" in str(
        raised.value
    )
    assert _is_whole(folder, indices[0])
