"""The saved form of a name-that-tune index (`tune_index.TuneIndex`): its file names, its
format version, its writer that replaces an earlier index whole or not at all, one save of a
folder at a time (`tune_index_locks`: a flock of the folder's `.tune_index.lock`, which loads
share), readers of its JSON and arrays that name a damaged file rather than fail with a
traceback, and the fingerprints of the corpus files it was built from, with the warnings that
they changed."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
from pathlib import Path
from typing import Any, Optional, TypeGuard, Union

import numpy as np

from tokenization.writer_folders import (
    STALE_AFTER_S,
    Writer,
    dead_writer_folders,
    own_writer_name,
    this_host,
    writer_folders,
)

from .file_utils import discard_folder
from .tune_index_locks import load_lock, save_lock, sync_folder

__all__ = [
    "INDEX_FILE",
    "INDEX_FORMAT",
    "changed_sources",
    "finish_interrupted_saves",
    "read_index",
    "source_fingerprints",
    "warn_changed_sources",
    "warn_changed_while_built",
    "write_index",
    "INDEX_ARRAYS",
    "OPTIONAL_INDEX_ARRAYS",
]

logger = logging.getLogger(__name__)

#: the index's JSON file (titles, meta, settings' headers), beside its arrays
INDEX_FILE = "tune_index.json"
#: Version of the saved index: 2 adds ``format`` itself (1, or no field: earlier indices, read
#: alike; those without ``dur_flat.npy`` or settings' meters score with less information); 3
#: reads G major and A dorian tunes in the corpus's octave (`tokenization.keys.normalise_shift`),
#: where earlier indices hold them an octave higher (a model's embeddings of them differ).
INDEX_FORMAT = 3
#: the arrays of a saved index, each in ``NAME.npy``; the optional ones may be None (absent)
INDEX_ARRAYS = ("title_embeds", "setting_embeds", "setting_title", "pitch_flat", "pitch_offsets")
OPTIONAL_INDEX_ARRAYS = ("dur_flat",)


#: The folder a save writes in inside an existing index folder, ``.tune_index.tmp-<pid>.<start>
#: @<host>`` (`own_writer_name`; ``.tune_index.tmp-<pid>`` of earlier versions): the new files in
#: ``new/`` (renamed ``in/`` once every old file is moved aside), the old ones moved
#: aside into ``old/`` until the new ones are in place (`_swap_in`).
_WRITER = ".tune_index.tmp-"


# ----- writing an index ------------------------------------------------------------------------
def write_index(
    path: Union[str, os.PathLike], arrays: dict[str, Optional[np.ndarray]], info: dict[str, Any]
) -> None:
    """Save an index into the folder ``path`` (made if need be): each array of ``arrays`` as
    ``NAME.npy`` (None: left out) and ``info`` as `INDEX_FILE`, replacing an index saved there
    before whole or not at all. Every file is written aside first, into this save's writer's
    folder in it (`_WRITER`, named for this process and machine), and flushed to the disk
    (fsync), then swapped with the old ones by renames (`_swap_in`), so that a full disk, a
    file that may not be replaced (``chattr +i``), a process killed or the power lost meanwhile
    leaves the earlier index as it was. The folder, which may be the user's (the index saved beside
    a model), keeps its other files; an optional array the new index lacks (``dur_flat.npy``) goes
    with the old index. A folder this save made is removed again when it fails.

    One save of a folder runs at a time (`save_lock`): another one, of another process, waits
    for it up to `tune_index_locks.SAVE_LOCK_WAIT_S` seconds, so that the folder ends holding
    one of the two whole, never files of both. A writer killed before is cleared first, under
    the lock (`finish_interrupted_saves`; the ``<path>.tmp-<pid>`` folders that earlier versions
    wrote beside it too, when they hold index files alone: `_clear_earlier_versions_saves`),
    and what a cleanup cannot remove is named in a warning. A failure is an `OSError` naming
    the file and the cause (``cannot write idx/dur_flat.npy: No space left on device``); it
    leaves no lock file nor writer's folder (but where the old files cannot be put back either:
    it says where each index's files are, left for the next load or save: `_put_back`), nor
    does an interrupt (Ctrl-C): one while it
    writes the files leaves the earlier index, one while it swaps them in ends the swap first
    as the recovery of a killed save would (the new index once every old file is aside, else
    the old one put back: `_settle`), then is raised.

    >>> write_index("example-index", {"pitch_flat": np.arange(3), "dur_flat": None}, {"format": 3})
    >>> sorted(os.listdir("example-index"))  # dur_flat None: left out
    ['pitch_flat.npy', 'tune_index.json']
    """
    path = os.fspath(path).rstrip(os.sep) or os.sep  # "idx/": the folder idx, named "idx"
    parent, name = os.path.split(path)
    with save_lock(path):  # one save at a time clears the folders of the saves killed before
        _clear_earlier_versions_saves(parent or ".", name)
        _replace_index(path, arrays, info)


def _clear_earlier_versions_saves(parent: str, name: str) -> None:
    """Delete the ``<name>.tmp-<pid>`` folders in ``parent`` that saves of earlier versions
    left beside the index folder ``name`` when killed (they wrote a new index there, then
    renamed it): only a folder whose process is gone and that holds index files and nothing
    else (`_is_earlier_versions_save`). Any other of that name is the user's: left, unsaid."""
    for dead in dead_writer_folders(parent, f"{name}.tmp-"):
        if _is_earlier_versions_save(dead):
            discard_folder(dead)


def _is_earlier_versions_save(folder: str) -> bool:
    """Whether ``folder`` is as an earlier version's save left it: a folder (no link) of one
    or more plain files, each named as a file of an index (`_index_names`)."""
    if os.path.islink(folder) or not os.path.isdir(folder):
        return False
    names = os.listdir(folder)
    return bool(names) and all(
        name in _index_names() and _is_plain_file(os.path.join(folder, name)) for name in names
    )


def _is_plain_file(path: str) -> bool:
    """Whether ``path`` is a file, not a link to one."""
    return os.path.isfile(path) and not os.path.islink(path)


def _replace_index(
    path: str, arrays: dict[str, Optional[np.ndarray]], info: dict[str, Any]
) -> None:
    """`write_index` into the existing folder ``path``: written into its writer's folder and
    flushed to the disk, then swapped in (`_swap_in`), and the folder's new entries flushed. The
    writer's folder goes when it fails, be it an interrupt (Ctrl-C) while the files are written."""
    _finish_stopped_saves(path)  # one it cannot end stays, and this save fails to make it below
    writer = _own_writer(path)
    try:
        try:
            os.makedirs(os.path.join(writer, "old"))
        except OSError as err:
            raise OSError(f"cannot write into {path}: {err.strerror or err}") from err
        _write_files(os.path.join(writer, "new"), arrays, info, path)
    except OSError as err:
        discard_folder(writer)
        raise OSError(f"{err}; {path} is left as it was") from err.__cause__
    except BaseException:
        discard_folder(writer)
        raise
    _swap_in(path, writer)
    _settle(path, writer)  # nothing left to move: old/ deleted, then the rest
    sync_folder(path)  # the renames: not lost with the power, once the save has returned


class _PythonFile:
    """A file that `np.save` writes through Python's ``write``, which says why it failed (``No
    space left on device``), not through C's ``fwrite`` on a real file, which says only
    ``48142 requested and 36832 written``."""

    def __init__(self, handle: Any) -> None:
        self.write = handle.write


def _write_files(
    folder: str, arrays: dict[str, Optional[np.ndarray]], info: dict[str, Any], shown: str
) -> None:
    """Make ``folder`` and write the index's files into it, `INDEX_FILE` last, each flushed to
    the disk (fsync), then the folder: a power cut after the swap that follows finds whole
    files, not empty ones the disk had not yet been given. An `OSError` names the file as it
    will be called once in place (under ``shown``), with the cause."""
    name = ""
    try:
        os.mkdir(folder)
        for key, array in arrays.items():
            if array is not None:
                name = f"{key}.npy"
                with open(os.path.join(folder, name), "wb") as handle:
                    np.save(_PythonFile(handle), array, allow_pickle=False)
                    _sync_file(handle)
        name = INDEX_FILE
        with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
            json.dump(info, handle, ensure_ascii=False)
            _sync_file(handle)
        name = ""
        sync_folder(folder)
    except OSError as err:
        where = os.path.join(shown, name) if name else shown
        raise OSError(f"cannot write {where}: {err.strerror or err}") from err


def _sync_file(handle: Any) -> None:
    """Flush the open file ``handle`` to the disk."""
    handle.flush()
    os.fsync(handle.fileno())


def _index_names() -> list[str]:
    """The files of a saved index, `INDEX_FILE` first."""
    return [INDEX_FILE, *(f"{name}.npy" for name in INDEX_ARRAYS + OPTIONAL_INDEX_ARRAYS)]


def _swap_in(path: str, writer: str) -> None:
    """Move the old index's files of ``path`` into ``writer/old`` (`INDEX_FILE` first), rename
    ``writer/new`` to ``writer/in`` (every old file is aside), then move its files into
    ``path`` (`INDEX_FILE` last): ``path`` holds `INDEX_FILE` only while it holds one whole
    index, and a writer killed in between is finished or undone by the state of its folders
    (`finish_interrupted_saves`). A file that cannot be moved (``chattr +i``) puts the old
    files back; an interrupt (Ctrl-C) finishes the swap or undoes it by that same state
    (`_settle_interrupted`) before it is raised."""
    old, name = os.path.join(writer, "old"), INDEX_FILE
    try:
        for name in _index_names():
            if os.path.lexists(os.path.join(path, name)):
                os.rename(os.path.join(path, name), os.path.join(old, name))
        name = ""
        os.rename(os.path.join(writer, "new"), os.path.join(writer, "in"))
        _move_files(os.path.join(writer, "in"), path)
    except OSError as err:
        what = f"replace {os.path.join(path, name)}" if name else f"move the new index into {path}"
        _put_back(path, writer, f"cannot {what}: {err.strerror or err}", err)
    except BaseException:
        _settle_interrupted(path, writer)
        raise


def _settle_interrupted(path: str, writer: str) -> None:
    """`_settle` the swap into ``path`` that an interrupt (Ctrl-C) stopped, as the next save or
    load would once this process ends, but now: this process may go on (a notebook), and
    until it ends its writer's folder is taken for a running save's. Every step is a rename
    that the recovery of a killed save redoes alike, so one that fails (or a second Ctrl-C)
    leaves the writer's folder for that recovery, named in a warning."""
    try:
        _settle(path, writer)
    except OSError as err:
        logger.warning(
            "cannot finish the interrupted save of %s (%s); %s holds its files until the next "
            "save of the index ends it (or a load, once this process has ended)",
            path,
            err.strerror or err,
            writer,
        )


def _settle(path: str, writer: str) -> Optional[str]:
    """End the swap of the writer's folder ``writer`` into ``path`` that did not finish, by
    the state of its folders, and delete it: with ``in/`` (every old file was aside) the new
    files are moved in, then ``old/`` is deleted before the rest (``old/`` left alone would be
    put back over the new index); else ``old/``'s files are put back, after the new files
    moved in are deleted when ``out/`` says some were (`_put_back`), then ``out/``. A file of
    ``old/`` or ``out/`` that cannot be deleted (named in a warning) leaves the writer's folder
    as it is. Which index ``path`` holds after: ``"new"`` (the swap finished), ``"earlier"``
    (the old files put back), None when neither (nothing was aside, or the undo is left)."""
    inside, out, old = (os.path.join(writer, name) for name in ("in", "out", "old"))
    if os.path.isdir(inside):
        _move_files(inside, path)
        discard_folder(old)
        if os.path.lexists(old):
            return "new"
        discard_folder(writer)
        return "new"
    if os.path.isdir(out):  # every old file is aside: an index file in ``path`` is new
        for name in _index_names():
            if os.path.lexists(os.path.join(path, name)) and not os.path.lexists(
                os.path.join(old, name)
            ):
                os.remove(os.path.join(path, name))
        discard_folder(out)  # not before: a put-back begun says the new files are gone
        if os.path.lexists(out):
            return None
    restored = os.path.isdir(old) and bool(os.listdir(old))
    if os.path.isdir(old):
        _move_files(old, path)
    discard_folder(writer)
    return "earlier" if restored else None


def _settle_stopped(path: str, writers: list[str]) -> dict[str, Optional[str]]:
    """`_settle` the writers' folders ``writers`` of saves into ``path`` that stopped (killed,
    or interrupted twice), but first see which were overtaken by a later save (`_overtaken`),
    all of them before any is settled (putting one back makes an `INDEX_FILE` that says
    nothing of the others): those are deleted, with a warning, the later index kept. Which
    index each settled writer left in ``path`` (`_settle`; None for one overtaken)."""
    overtaken = {writer for writer in writers if _overtaken(path, writer)}
    settled: dict[str, Optional[str]] = {}
    for writer in writers:
        if writer in overtaken:
            logger.warning(
                "%s holds an index saved after the interrupted save in %s: that save's files "
                "are older, and deleted rather than put over it",
                path,
                writer,
            )
            discard_folder(writer)
            settled[writer] = None
        else:
            settled[writer] = _settle(path, writer)
    return settled


def _overtaken(path: str, writer: str) -> bool:
    """Whether another save swapped a whole index into ``path`` after the swap of ``writer``
    stopped: ``path`` holds `INDEX_FILE` while ``writer`` has files left to move in (``in/``
    not empty) or to put back (``out/``, or ``old/`` not empty, without ``in/``). A swap moves
    `INDEX_FILE` aside first and in last, and its undo puts it back last, so ``path`` holds
    none of the writer's own until it ends: one there is newer (its save ran while the
    writer's process lived on, a notebook after a second Ctrl-C, and passed its folder over).
    One ``in/`` emptied is a swap that ended: ``old/`` then goes, the index kept either way.
    Only true of a stopped save's writer, judged before any other is settled: one of a save
    under way, or one settled meanwhile, may find a whole index of its own."""
    if not os.path.lexists(os.path.join(path, INDEX_FILE)):
        return False
    inside, out, old = (os.path.join(writer, name) for name in ("in", "out", "old"))
    if os.path.isdir(inside):
        return bool(os.listdir(inside))
    return os.path.isdir(out) or (os.path.isdir(old) and bool(os.listdir(old)))


def _put_back(path: str, writer: str, why: str, err: OSError) -> None:
    """Undo a `_swap_in` that failed (``why``): its ``in/`` renamed ``out/`` (the undo, not
    the swap, is then what a recovery ends), the new files moved in deleted, the old ones
    put back (`_settle`). Raises `OSError` saying ``why`` and, when that fails too,
    where the files of each index are (`_left_where`): nothing is deleted then, and the next
    save or load of the index ends it."""
    try:
        if os.path.isdir(os.path.join(writer, "in")):  # some new files may be in ``path``
            os.rename(os.path.join(writer, "in"), os.path.join(writer, "out"))
        _settle(path, writer)
    except OSError as again:
        raise OSError(f"{why}; {_left_where(path, writer, again)}") from err
    raise OSError(f"{why}; {path} is left as it was") from err


def _left_where(path: str, writer: str, err: OSError) -> str:
    """Where the files of the earlier index and of the new one are once the undo of a swap
    into ``path`` failed with ``err``, its writer's folder ``writer`` left, and what ends it."""
    cause, old = err.strerror or err, os.path.join(writer, "old")
    kept = sorted(os.listdir(old)) if os.path.isdir(old) else []
    shown = ", ".join(kept) if len(kept) <= 3 else f"{len(kept)} files"
    inside = os.path.join(writer, "in")
    if os.path.isdir(inside):  # the swap goes on: undoing it could leave files of both
        return (
            f"nor could it be undone ({cause}): the earlier index is kept in {old}, the new "
            f"one is part in {path}, part in {inside}; the next load or save of {path} "
            "finishes the new index"
        )
    new = os.path.join(writer, "out")
    return (
        f"nor could the earlier index be put back ({cause}): its {shown} "
        f"{'is' if len(kept) == 1 else 'are'} kept in {old}"
        + (f", the new index's files in {path} and {new}" if os.path.isdir(new) else "")
        + f"; the next load or save of {path} puts {'it' if len(kept) == 1 else 'them'} back"
    )


def _move_files(source: str, target: str, names: Optional[list[str]] = None) -> None:
    """Rename the files ``names`` (default: all) of ``source`` into ``target``, replacing any
    there, `INDEX_FILE` last."""
    if names is None:
        names = os.listdir(source)
    for name in sorted(names, key=lambda name: name == INDEX_FILE):
        os.replace(os.path.join(source, name), os.path.join(target, name))


def _own_writer(path: str) -> str:
    """The writer's folder of this process's saves into the index folder ``path``."""
    return os.path.join(path, own_writer_name(_WRITER))


def _finish_stopped_saves(path: str) -> dict[str, Optional[str]]:
    """`finish_interrupted_saves` of ``path``, this process's own writer's folder too: one a
    save of it left when interrupted twice (Ctrl-C, then again while it settled the swap) or
    when its undo failed. The caller holds the folder's save lock, so no save of this process
    is running. Which index each writer's folder left in ``path`` (`_settle_stopped`)."""
    writers = dead_writer_folders(path, _WRITER)
    legacy = os.path.join(path, f"{_WRITER}{os.getpid()}")  # as an earlier version named it
    for own in (_own_writer(path), legacy):
        if os.path.isdir(own) and own not in writers:
            writers.append(own)
    settled = _settle_stopped(path, writers)
    if writers:
        sync_folder(path)
    return settled


def finish_interrupted_saves(path: Union[str, os.PathLike]) -> None:
    """Clear the writers' folders (`_WRITER`) that saves killed in the index folder ``path``
    left: one killed while swapping its files in is finished (its ``in/`` folder: every old
    file was aside) or undone (its ``old/`` files put back), so that ``path`` holds one whole
    index again; the rest (a half-written new index) is deleted. Writers still running are
    left alone. One whose process lived on after it stopped (a notebook after a second Ctrl-C)
    may have been overtaken by a later save of another process: when ``path`` holds a whole
    index (`INDEX_FILE`) its files are older, and are deleted, with a warning, not put over
    it (`_settle_stopped`). The folder is flushed to the disk after, as after a save. Each
    swap ended is said in a warning naming the index ``path`` now holds, the new build's or
    the earlier one put back, as `read_index` says it (`_warn_settled`)."""
    path = os.fspath(path)
    writers = dead_writer_folders(path, _WRITER)
    _warn_settled(path, _settle_stopped(path, writers))
    if writers:
        sync_folder(path)


# ----- reading an index ------------------------------------------------------------------------
def read_index(path: Union[str, os.PathLike]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The fields of the index folder's `INDEX_FILE` and its arrays (an optional one that is
    absent left out), read while no save swaps its files: under a shared `fcntl.flock` of its
    `_LOCK` file (`load_lock`), so that a load finds the index before a save or after it,
    whole, never a folder half swapped. A save killed while it swapped its files in (no
    `INDEX_FILE`, a dead writer's folder) is finished or undone first, under a save's lock
    (`finish_interrupted_saves`), with a warning saying which index the folder now holds
    (`_warn_settled`); a folder this user may not write is read as it is, and one
    removed meanwhile is not made again; so is one this process left (a save interrupted twice,
    or one whose undo failed). One that cannot be ended now (a folder this user may not write,
    a save's process still running, or one of another machine, whose process this one cannot
    see: named, `_half_saved`) is a `FileNotFoundError` naming the writer's folder and saying
    what to do. A file missing or damaged is a `ValueError` (`FileNotFoundError`)
    naming it. A whole index read beside the folder of a save killed before its swap (or of
    one killed after it, or overtaken) has that folder cleared after the read
    (`_clear_killed_saves`), or named in a warning."""
    path = os.fspath(path)
    with load_lock(path):
        whole = not _interrupted(path)
        if whole:
            found, killed = _read_index_files(path), dead_writer_folders(path, _WRITER)
    if whole:
        if killed:  # after the read: the save's lock cannot be taken while the load holds its own
            _clear_killed_saves(path, killed)
        return found
    cause = ""
    try:  # never made: a folder removed since it was looked at is not there to load (nor mend)
        with save_lock(path, make=False):
            _warn_settled(path, _finish_stopped_saves(path))
    except FileNotFoundError:
        pass
    except OSError as err:  # read-only: left as it is
        cause = f" ({err.strerror or err})"
    with load_lock(path):
        writers = _writers(path)
        if writers and not os.path.isfile(os.path.join(path, INDEX_FILE)):
            raise FileNotFoundError(_half_saved(path, writers, cause))
        return _read_index_files(path)


def _warn_settled(path: str, settled: dict[str, Optional[str]]) -> None:
    """Say in a warning, for each writer's folder of a killed save that a load of the index
    folder ``path`` ended (`_finish_stopped_saves`), which index ``path`` now holds: the new
    build's (its swap finished) or the earlier one put back (its swap undone: rebuild it), so
    that the user knows which one the load answers from."""
    for writer, held in settled.items():
        if held == "new":
            logger.warning(
                "finished the swap in %s, which a killed save of the index left: %s now holds "
                "the new build's index",
                writer,
                path,
            )
        elif held == "earlier":
            logger.warning(
                "undid the swap in %s, which a killed save of the index left: %s holds the "
                "earlier index again, not the new build's; rebuild it with irish-tune index",
                writer,
                path,
            )


def _clear_killed_saves(path: str, killed: list[str]) -> None:
    """Clear the writers' folders ``killed`` that saves killed in the index folder ``path``
    left beside the whole index a load has just read (`_finish_stopped_saves`), each named in
    a warning: a save's lock is taken without waiting, for another save (which clears them
    itself) or other loads may hold it. Left when it cannot be taken, or in a folder this user
    may not write: a warning names them and says how to remove them."""
    try:
        with save_lock(path, make=False, wait_s=0.0):
            _finish_stopped_saves(path)
    except OSError as err:
        left = [writer for writer in killed if os.path.isdir(writer)]
        if left:
            logger.warning(
                "%s holds the files of a killed save of the index (%s), which cannot be "
                "removed now (%s); the index is whole without them: remove them with "
                "rm -r %s, or the next save of the index will",
                path,
                ", ".join(os.path.basename(writer) for writer in left),
                err.strerror or err,
                " ".join(shlex.quote(writer) for writer in left),
            )
        return
    for writer in killed:
        if not os.path.lexists(writer):
            logger.warning("removed %s, which a killed save of the index left", writer)


def _read_index_files(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """`read_index` of a folder held for reading."""
    info = _read_index_json(path)
    arrays = {name: _read_index_array(path, name) for name in INDEX_ARRAYS}
    saved = _saved_optional_arrays(path, info)
    for name in OPTIONAL_INDEX_ARRAYS:  # absent from older indices
        if name in saved or os.path.exists(os.path.join(path, f"{name}.npy")):
            arrays[name] = _read_index_array(path, name)  # one the index saved must be there
    return info, arrays


def _saved_optional_arrays(path: str, info: dict[str, Any]) -> list[str]:
    """The optional arrays the index's `INDEX_FILE` says were saved with it (``optional_arrays``:
    none recorded by indices saved before it was); a `ValueError` naming the file when the
    field is not a list of their names."""
    saved = info.get("optional_arrays", [])
    if not isinstance(saved, list) or not all(n in OPTIONAL_INDEX_ARRAYS for n in saved):
        where = os.path.join(path, INDEX_FILE)
        raise ValueError(
            f"{where} is damaged (optional_arrays {saved!r}, not a list of "
            f"{', '.join(OPTIONAL_INDEX_ARRAYS)}); rebuild the index"
        )
    return saved


def _interrupted(path: str) -> bool:
    """Whether the index folder ``path`` lacks its `INDEX_FILE` while a writer's folder is in
    it: a save killed (or interrupted twice) while it swapped its files in, which a load ends
    if its process is gone or is this one (`_finish_stopped_saves`)."""
    return not os.path.isfile(os.path.join(path, INDEX_FILE)) and bool(_writers(path))


def _writers(path: str) -> list[tuple[str, Writer]]:
    """The writers' folders (`_WRITER`) in the index folder ``path``, of any process and
    machine, each with who wrote it."""
    return [(where, who) for where, who in writer_folders(path, _WRITER) if os.path.isdir(where)]


def _half_saved(path: str, writers: list[tuple[str, Writer]], cause: str) -> str:
    """What a load says of the index folder ``path`` that the writers' folders ``writers``
    (one or more) left half saved, and the recovery could not end (``cause``: why, if it
    failed): one of another machine is named with it, as only that machine can tell when its
    save has ended (or it is taken for a killed one's once `STALE_AFTER_S` passed)."""
    here = this_host()
    remote = [(where, who) for where, who in writers if who.host not in (None, here)]
    if remote and not cause:
        where, who = remote[0]
        return (
            f"the index {path!r} is half saved: a save by {who} left its files in {where}, "
            f"which this machine cannot tell has ended; load it again on {who.host} once that "
            f"job is over (or here once the folder is {STALE_AFTER_S / 3600:g} h old), or "
            "rebuild it with irish-tune index"
        )
    return (
        f"the index {path!r} is half saved: an interrupted save left its files in "
        f"{writers[0][0]}, which cannot be put back now{cause}; load it again once they can "
        "(its process ended, the folder writable), or rebuild it with irish-tune index"
    )


def _read_index_json(path: Union[str, os.PathLike]) -> dict[str, Any]:
    """The fields of the folder's `INDEX_FILE`; a `ValueError` naming the file when it is
    damaged (not JSON, or JSON of another shape: rebuild it) or of a newer format (upgrade)."""
    where = os.path.join(path, INDEX_FILE)
    if not os.path.isfile(where):
        raise FileNotFoundError(f"{os.fspath(path)!r} is not an index folder (no {INDEX_FILE})")
    try:
        with open(where, encoding="utf-8") as handle:
            info = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{where} is damaged ({err}); rebuild the index") from None
    found = info.get("format", 1) if isinstance(info, dict) else None
    if not isinstance(info, dict):
        problem = f"a JSON {type(info).__name__}, not the index's fields"
    elif not _is_int(found) or found < 1:
        problem = f"format {found!r}, not a version number"
    elif found > INDEX_FORMAT:
        raise ValueError(
            f"{where}: index format {found}, this modeling-irish reads up to {INDEX_FORMAT} "
            "(upgrade the package or rebuild the index)"
        )
    else:
        return info
    raise ValueError(f"{where} is damaged ({problem}); rebuild the index")


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_index_array(path: Union[str, os.PathLike], name: str) -> np.ndarray:
    """The array of the folder's ``NAME.npy``; a `ValueError` naming the file, saying that it is
    damaged, when it is no NumPy array file (text, a pickle), is cut short or holds Python
    objects (never loaded: pickle runs code)."""
    where = os.path.join(path, f"{name}.npy")
    if not os.path.isfile(where):
        raise FileNotFoundError(
            f"the index {os.fspath(path)!r} is incomplete: no {name}.npy; rebuild it with "
            "irish-tune index"
        )
    try:
        with open(where, "rb") as handle:
            if handle.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
                problem = "not a NumPy array file"
            else:
                handle.seek(0)
                return np.load(handle, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        problem = _array_problem(err)
    raise ValueError(f"{where} is damaged ({problem}); rebuild the index")


def _array_problem(err: Exception) -> str:
    """What `np.load` found wrong with an index array file, in the index's terms: not numpy's
    advice to load an object array with ``allow_pickle``, which an index never needs.

    >>> _array_problem(ValueError("Object arrays cannot be loaded when allow_pickle=False"))
    'it holds Python objects, which no index saves'
    >>> _array_problem(EOFError("No data left in file"))
    'No data left in file'
    """
    if "pickle" in str(err):
        return "it holds Python objects, which no index saves"
    return str(err) or type(err).__name__


# ----- the corpus an index was built from ------------------------------------------------------
def source_fingerprints(sources: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{source: {file: {"size", "mtime_ns", "blake2b"}}}`` of the files, folders or dumps an
    index is built from (absolute paths; a music21 collection or a text is no file and is left
    out), which `changed_sources` compares with the files as they are now. Hashing costs about
    1-6 ms a MB (thesession's 8.5 MB: 0.01-0.06 s), against the minutes an index takes to
    build, and as much at each load.

    >>> source_fingerprints(["music21", "no such file.abc"])
    {}
    """
    from .abc_sources import source_files

    out = {}
    for source in sources:
        if os.path.exists(source):
            files = source_files(source)
            out[os.path.abspath(source)] = {os.path.abspath(f): _file_print(f) for f in files}
    return out


def _file_print(path: Union[str, os.PathLike]) -> dict[str, Any]:
    """Size, modification time and content hash of a file."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    stat = os.stat(path)
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "blake2b": digest.hexdigest()}


def changed_sources(recorded: Any) -> list[str]:
    """What changed in each source of `recorded` (`source_fingerprints` as an index saved it)
    that still exists and is not what the index was built from (``"/c/tunes.abc modified"``,
    ``"/c/books: new.abc added, old.abc removed"``): a file of another size or content (one
    whose time alone changed, e.g. copied, is the same, and one of the same size and time is
    still hashed: an edit may keep both), a file added to
    a folder, or one gone from it. A source gone altogether says nothing of the index (it may
    have been moved), and is passed over; so is what an index of an earlier version, or a
    damaged record, holds.

    >>> changed_sources({}), changed_sources("not a record")
    ([], [])
    """
    from .abc_sources import source_files

    if not isinstance(recorded, dict):
        return []
    changed = []
    for source, files in recorded.items():
        if not isinstance(files, dict) or not os.path.exists(source):
            continue
        now = {os.path.abspath(f): f for f in source_files(source)}
        what = [f"{Path(f).name} added" for f in sorted(now.keys() - files.keys())]
        what += [f"{Path(f).name} removed" for f in sorted(files.keys() - now.keys())]
        what += [
            f"{Path(f).name} modified"
            for f in sorted(now.keys() & files.keys())
            if _file_changed(now[f], files[f])
        ]
        if what == [f"{Path(source).name} modified"]:  # a file (or a folder of one)
            changed.append(f"{source} modified")
        elif what:
            shown = ", ".join(what[:3]) + (f" and {len(what) - 3} more" if len(what) > 3 else "")
            changed.append(f"{source}: {shown}")
    return changed


def warn_changed_while_built(sources: dict[str, Any]) -> None:
    """Warn when a file, folder or dump changed while an index of it was built (`sources`:
    their fingerprints taken before it was read): the index may hold the tunes as they were
    or as they are, and `load` will say it is older than its corpus until it is rebuilt."""
    changed = changed_sources(sources)
    if changed:
        logger.warning(
            "the corpus changed while the index was built: %s; the index may hold the tunes as "
            "they were, rebuild it with irish-tune index",
            "; ".join(changed),
        )


def warn_changed_sources(recorded: Any, path: str) -> None:
    """Warn, in one line, when a file, folder or dump the index at ``path`` was built from
    (``recorded``: the fingerprints in its metadata) has changed since (`changed_sources`): the
    index still names the tunes it holds, not those the corpus holds now (an index of an
    earlier version records no sources, and is not checked)."""
    changed = changed_sources(recorded)
    if changed:
        logger.warning(
            "the index %r is older than its corpus: %s since it was built (the index names "
            "the tunes as they were); rebuild it with irish-tune index",
            path, "; ".join(changed),
        )  # fmt: skip


def _file_changed(path: Union[str, os.PathLike], recorded: Any) -> bool:
    """Whether a file is not the one recorded: another size, or another content hash. The
    time is not trusted either way: an edit that keeps the size can keep the time too (``touch
    -r``, a copy with ``cp -p``), and hashing costs about 0.01 s for thesession's 8.5 MB."""
    if not isinstance(recorded, dict):
        return False
    if os.stat(path).st_size != recorded.get("size"):
        return True
    return _file_print(path)["blake2b"] != recorded.get("blake2b")
