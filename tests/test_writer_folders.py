"""Writers' folders judged by their machine and process start, not their process id alone: on a
file system several machines share (a cluster's home, an NFS cache), another machine's writer
is left alone (its process id says nothing here) until it has not changed for a day, and a
process id reused since the folder was written (by this very process too) is no live writer.
The names are built here by hand, as `writer_folders.own_writer_name` writes them."""

from __future__ import annotations

import logging
import os
import re
import socket
import time

import numpy as np
import pytest

import tokenization.dataset as dataset
from modeling_irish import tune_index_files
from modeling_irish.tune_index_files import INDEX_FILE, read_index, write_index

ARRAYS = {name: np.arange(2) for name in tune_index_files.INDEX_ARRAYS} | {"dur_flat": None}
INFO = {"format": 3, "titles": ["The Butterfly"]}
DEAD = 999999999  # above any pid_max: no process has it
HOST = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname())  # this machine, as named
OTHER = "node-b7.cluster"  # another machine sharing the folder


def _start(pid: int) -> int:
    """The start time of the process ``pid`` (``/proc/<pid>/stat``'s field 22)."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
        stat = handle.read()
    return int(stat[stat.rindex(")") + 2 :].split()[19])


needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")


def _age(folder, hours: float) -> None:
    """Make ``folder`` and what is in it look unchanged for ``hours``."""
    then = time.time() - hours * 3600
    for root, names, files in os.walk(folder, topdown=False):
        for name in names + files:
            os.utime(os.path.join(root, name), (then, then))
    os.utime(folder, (then, then))


@needs_proc
def test_a_writer_folder_whose_process_id_was_reused_is_cleared(tmp_path):
    # a pid reused by another process (this one, or one still running) kept the folder of the
    # killed writer that had it for ever: its process was judged alive
    me, parent = os.getpid(), os.getppid()
    reused = [f"tokenize.tmp-{me}.{_start(me) + 1}@{HOST}",
              f"tokenize.tmp-{parent}.{_start(parent) + 1}@{HOST}"]  # fmt: skip
    alive = [f"tokenize.tmp-{me}.{_start(me)}@{HOST}",  # this process's own
             f"tokenize.tmp-{parent}.{_start(parent)}@{HOST}",
             f"tokenize.tmp-{parent}@{HOST}"]  # fmt: skip  # no start recorded: by the id
    for name in reused + alive:
        (tmp_path / name).mkdir()
    dataset.remove_dead_writers(tmp_path, "tokenize.tmp-")
    assert sorted(os.listdir(tmp_path)) == sorted(alive)


def test_another_machines_writer_folder_is_left_until_unchanged_for_a_day(tmp_path, caplog):
    # judged by its process id on this machine, a live writer of another machine was deleted
    # under it; now it is left, unless nothing in it changed for a day (its job long killed)
    running = tmp_path / f"tokenize.tmp-{DEAD}.5@{OTHER}"  # no such pid here: says nothing
    running.mkdir()
    (running / "tmp5pk_xwd_").write_text("x", encoding="utf-8")
    killed = tmp_path / f"tokenize.tmp-{DEAD - 1}.5@{OTHER}"
    killed.mkdir()
    (killed / "tmp5pk_xwd_").write_text("x", encoding="utf-8")
    _age(running, 23)
    (running / "tmp5pk_xwd_").touch()  # still written: that machine's writer is alive
    _age(killed, 25)
    caplog.set_level(logging.WARNING)
    dataset.remove_dead_writers(tmp_path, "tokenize.tmp-")
    assert os.listdir(tmp_path) == [running.name]
    assert (
        f"{killed} was written by process {DEAD - 1} on the machine {OTHER} and has not changed "
        "for 25 h: taken for a killed writer's"
    ) in caplog.text


def test_a_writer_folder_of_no_possible_process_id_is_left(tmp_path):
    # a folder of the user's named tokenize.tmp-<20 digits> crashed the cleanup (OverflowError)
    mine = tmp_path / f"tokenize.tmp-{10**20}"
    mine.mkdir()
    dataset.remove_dead_writers(tmp_path, "tokenize.tmp-")
    assert mine.is_dir()


def _half_saved_by(folder, writer_name: str):
    """The index in ``folder`` as a save by ``writer_name`` left it, every old file aside."""
    write_index(folder, ARRAYS, INFO)
    writer = folder / writer_name
    (writer / "old").mkdir(parents=True)
    for name in os.listdir(folder):
        if name != writer_name:
            os.rename(folder / name, writer / "old" / name)
    return writer


def test_a_load_of_an_index_another_machine_half_saved_names_that_machine(tmp_path):
    # another machine's save under way was taken for a killed one's (its pid unknown here),
    # or its folder for none, and the load said "not an index folder"
    folder = tmp_path / "idx"
    writer = _half_saved_by(folder, f".tune_index.tmp-{DEAD}.5@{OTHER}")
    with pytest.raises(FileNotFoundError) as raised:
        read_index(folder)
    assert str(raised.value) == (
        f"the index {str(folder)!r} is half saved: a save by process {DEAD} on the machine "
        f"{OTHER} left its files in {writer}, which this machine cannot tell has ended; load it "
        f"again on {OTHER} once that job is over (or here once the folder is 24 h old), or "
        "rebuild it with irish-tune index"
    )
    assert (writer / "old" / INDEX_FILE).is_file()  # left as it was
    _age(writer, 25)  # that machine's job is long over: put back here
    info, _ = read_index(folder)
    assert info["titles"] == INFO["titles"] and not writer.exists()


def test_a_save_leaves_another_machines_writer_and_a_later_recovery_keeps_the_newer_index(
    tmp_path, caplog
):
    # the other machine's folder was settled from here while its save ran (its pid unknown)
    folder = tmp_path / "idx"
    writer = _half_saved_by(folder, f".tune_index.tmp-{DEAD}.5@{OTHER}")
    write_index(folder, ARRAYS, {**INFO, "titles": ["A Newer One"]})
    assert writer.is_dir()
    _age(writer, 25)
    caplog.set_level(logging.WARNING)
    tune_index_files.finish_interrupted_saves(folder)
    assert read_index(folder)[0]["titles"] == ["A Newer One"] and not writer.exists()
    assert f"{folder} holds an index saved after the interrupted save in {writer}" in caplog.text


def test_the_vocabulary_writers_of_a_machine_named_with_dashes_are_found(tmp_path):
    # the prefix was cut at the last "-": inside the machine's name, past the digest
    from training.data import _tokenizer_writers

    (tmp_path / f"abc-tokenizer-0123.tmp-{DEAD}.5@{OTHER}").mkdir()
    (tmp_path / f"abc-tokenizer-4567.tmp-{DEAD}").mkdir()  # an earlier version's
    assert _tokenizer_writers(str(tmp_path)) == {
        "abc-tokenizer-0123.tmp-",
        "abc-tokenizer-4567.tmp-",
    }


def test_a_save_waiting_on_another_machines_save_names_that_machine(tmp_path, monkeypatch):
    # the lock file held the process id alone: "another save (process 4242)", which the user
    # then looked for on this machine
    from modeling_irish import tune_index_locks

    folder = tmp_path / "idx"
    write_index(folder, ARRAYS, INFO)
    monkeypatch.setattr(tune_index_locks, "SAVE_LOCK_WAIT_S", 0.2)
    lock = folder / ".tune_index.lock"
    with tune_index_locks.save_lock(str(folder)), pytest.raises(OSError) as raised:
        lock.write_text(f"4242 {OTHER}\n", encoding="utf-8")  # as that machine's save wrote it
        write_index(folder, ARRAYS, INFO)
    assert str(raised.value) == (
        f"cannot save the index into {folder}: another save (process 4242 on the machine "
        f"{OTHER}) has held it for over 0.2 s (its lock: {lock})"
    )
