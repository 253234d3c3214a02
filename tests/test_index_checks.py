"""`TuneIndex.load` refuses a damaged or inconsistent saved index with an error that names the
folder and says to rebuild it, instead of failing later inside a query."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil

import numpy as np
import pytest
from helpers import synthetic_tune, warnings_of

from modeling_irish.cli import main
from modeling_irish.name_that_tune import INDEX_FILE, TuneIndex, identify
from tokenization.tokenization_abc import AbcTokenizer

TUNES = [synthetic_tune(i, f"Reel {i}", i, i, bars=4) for i in range(1, 6)]
TUNES.append(synthetic_tune(6, "Reel 1", 1, 1, bars=4, notes="CDEFG"))  # a 2nd setting of 1


@pytest.fixture(scope="module")
def tokenizer() -> AbcTokenizer:
    return AbcTokenizer.train(TUNES)


@pytest.fixture(scope="module")
def good(tmp_path_factory, tokenizer):
    """An edit-distance index (no model) of 5 titles and 6 settings, saved."""
    folder = tmp_path_factory.mktemp("index") / "good"
    corpus = folder.parent / "corpus.abc"
    corpus.write_text("\n".join(TUNES), encoding="utf-8")
    TuneIndex.build(None, tokenizer, str(corpus)).save(folder)
    return folder


def _copy(good, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    return bad


def _edit_json(folder, change) -> None:
    info = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
    change(info)
    (folder / INDEX_FILE).write_text(json.dumps(info), encoding="utf-8")


def _edit_array(folder, name: str, change) -> None:
    np.save(folder / f"{name}.npy", change(np.load(folder / f"{name}.npy")), allow_pickle=False)


def test_the_saved_index_loads_and_names_tunes(good, tokenizer):
    # the control of every refusal below: the unedited copy is accepted
    index = TuneIndex.load(good)
    assert (len(index), len(index.setting_title), len(index.pitch_offsets)) == (5, 6, 7)
    assert identify(None, index, TUNES[2], k=1, tokenizer=tokenizer) == [("Reel 3", 0.0)]


# each edit leaves every file readable: only the consistency check can tell
INCONSISTENT = {
    "offsets one short": (
        lambda f: _edit_array(f, "pitch_offsets", lambda a: a[:-1]),
        "the pitch offsets do not match the settings",
    ),
    "no offsets at all": (
        lambda f: _edit_array(f, "pitch_offsets", lambda a: a[:0]),
        "the pitch offsets do not match the settings",
    ),
    "notes cut short": (
        lambda f: [_edit_array(f, name, lambda a: a[:-3]) for name in ("pitch_flat", "dur_flat")],
        "the pitch offsets do not match the settings",
    ),
    # the length and the last offset still agree: an index that loaded and ranked before
    "an offset out of order": (
        lambda f: _edit_array(
            f, "pitch_offsets", lambda a: np.where(np.arange(len(a)) == 3, 10**9, a)
        ),
        "the pitch offsets do not run from 0 upwards",
    ),
    "offsets not from 0": (
        lambda f: _edit_array(f, "pitch_offsets", lambda a: np.where(np.arange(len(a)) == 0, 1, a)),
        "the pitch offsets do not run from 0 upwards",
    ),
    "a negative title": (
        lambda f: _edit_array(f, "setting_title", lambda a: np.where(a == a.max(), -1, a)),
        "settings refer to titles beyond the 5 listed",
    ),
    "a title embedding too many": (
        lambda f: _edit_array(f, "title_embeds", lambda a: np.zeros((6, 0), a.dtype)),
        "the embeddings do not match the titles and settings",
    ),
    "a setting embedding short": (
        lambda f: _edit_array(f, "setting_embeds", lambda a: a[:-1]),
        "the embeddings do not match the titles and settings",
    ),
    "note lengths cut short": (
        lambda f: _edit_array(f, "dur_flat", lambda a: a[:-1]),
        "the note lengths do not match the pitches",
    ),
    "a mode too many": (
        lambda f: _edit_json(f, lambda i: i["setting_modes"].append("major")),
        "setting_modes has 7 entries for 6 settings",
    ),
    "a rhythm short": (
        lambda f: _edit_json(f, lambda i: i["setting_rhythms"].pop()),
        "setting_rhythms has 5 entries for 6 settings",
    ),
    # an array of another shape loaded, then failed with "len() of unsized object" or an
    # IndexError in identify's setup
    "a setting_title of 0 dimensions": (
        lambda f: np.save(f / "setting_title.npy", np.array(3)),
        "setting_title.npy is 0-D, not 1-D",
    ),
    "pitches of 2 dimensions": (
        lambda f: _edit_array(f, "pitch_flat", lambda a: a[:, None]),
        "pitch_flat.npy is 2-D, not 1-D",
    ),
    "title embeddings of 1 dimension": (
        lambda f: _edit_array(f, "title_embeds", lambda a: np.zeros(5, a.dtype)),
        "title_embeds.npy is 1-D, not 2-D",
    ),
    "embeddings of two widths": (
        lambda f: _edit_array(f, "setting_embeds", lambda a: np.zeros((6, 8), a.dtype)),
        "the title and setting embeddings are 0 and 8 wide",
    ),
}


@pytest.mark.parametrize("case", INCONSISTENT)
def test_an_inconsistent_index_is_refused(good, tmp_path, case):
    edit, problem = INCONSISTENT[case]
    bad = _copy(good, tmp_path)
    edit(bad)
    with pytest.raises(ValueError) as info:
        TuneIndex.load(bad)
    assert str(info.value) == f"the index {str(bad)!r} is damaged: {problem}; rebuild it"


def test_every_problem_is_listed_in_one_message(good, tmp_path):
    bad = _copy(good, tmp_path)
    _edit_array(bad, "dur_flat", lambda a: a[:-1])
    _edit_json(bad, lambda i: i.update(setting_meters=["4/4"], titles=i["titles"][:1]))
    with pytest.raises(ValueError) as info:
        TuneIndex.load(bad)
    message = str(info.value)
    for problem in ("settings refer to titles beyond the 1 listed",
                    "the embeddings do not match the titles and settings",
                    "the note lengths do not match the pitches",
                    "setting_meters has 1 entries for 6 settings"):  # fmt: skip
        assert problem in message
    assert message.count("; ") == 4 and message.endswith("; rebuild it")


DAMAGED = {
    "no index file": (
        lambda f: (f / INDEX_FILE).unlink(),
        FileNotFoundError,
        r"'{bad}' is not an index folder \(no tune_index\.json\)",
    ),
    "a list, not an object": (
        lambda f: (f / INDEX_FILE).write_text("[1, 2]", encoding="utf-8"),
        ValueError,
        r"tune_index\.json is damaged \(a JSON list, not the index's fields\); rebuild the index",
    ),
    "a format that is not a number": (
        lambda f: _edit_json(f, lambda i: i.update(format="2")),
        ValueError,
        r"tune_index\.json is damaged \(format '2', not a version number\); rebuild the index",
    ),
    "no titles": (
        lambda f: _edit_json(f, lambda i: i.pop("titles")),
        ValueError,
        r"the index '{bad}' is damaged \('titles'\); rebuild it",
    ),
    "titles that are not a list": (
        lambda f: _edit_json(f, lambda i: i.update(titles=7)),
        ValueError,
        r"the index '{bad}' is damaged \(.*\); rebuild it",
    ),
    "an array file of garbage": (
        lambda f: (f / "pitch_flat.npy").write_bytes(b"\x93NUMPY garbage"),
        ValueError,
        r"pitch_flat\.npy is damaged \(.*\); rebuild the index",
    ),
    "an array of Python objects": (
        lambda f: np.save(f / "setting_title.npy", np.array([{}], dtype=object)),
        ValueError,
        r"setting_title\.npy is damaged \(it holds Python objects, which no index saves\); "
        r"rebuild the index",
    ),
    "an array file overwritten with text": (
        lambda f: (f / "pitch_flat.npy").write_text("pitches\n", encoding="utf-8"),
        ValueError,
        r"pitch_flat\.npy is damaged \(not a NumPy array file\); rebuild the index",
    ),
    "an empty array file": (
        lambda f: (f / "setting_embeds.npy").write_bytes(b""),
        ValueError,
        r"setting_embeds\.npy is damaged \(not a NumPy array file\); rebuild the index",
    ),
    "an array file cut short": (
        lambda f: (f / "pitch_offsets.npy").write_bytes(
            (f / "pitch_offsets.npy").read_bytes()[:-8]
        ),
        ValueError,
        r"pitch_offsets\.npy is damaged \(.*\); rebuild the index",
    ),
    "a format below 1": (
        lambda f: _edit_json(f, lambda i: i.update(format=0)),
        ValueError,
        r"tune_index\.json is damaged \(format 0, not a version number\); rebuild the index",
    ),
    "an index file that is not text": (
        lambda f: (f / INDEX_FILE).write_bytes(b"\x93NUMPY\xff\xfe"),
        ValueError,
        r"tune_index\.json is damaged \(.*\); rebuild the index",
    ),
    "no offsets file": (
        lambda f: (f / "pitch_offsets.npy").unlink(),
        FileNotFoundError,
        r"the index '{bad}' is incomplete: no pitch_offsets\.npy",
    ),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_index_is_named_not_a_traceback(good, tmp_path, case):
    edit, error, pattern = DAMAGED[case]
    bad = _copy(good, tmp_path)
    edit(bad)
    with pytest.raises(error, match=pattern.format(bad=bad)) as info:
        TuneIndex.load(bad)
    assert str(bad) in str(info.value)
    assert "pickle" not in str(info.value) and "upgrade" not in str(info.value)
    assert info.value.__cause__ is None  # the reader's own exception is not chained on


def test_an_index_of_no_tunes_saves_and_loads(tmp_path):
    # `build` refuses to make one (below), but one saved by hand or by an earlier version loads
    nothing = np.zeros((0, 0), np.float32)
    TuneIndex([], nothing, nothing, [], [], [0], {}, [], [], [], []).save(tmp_path / "empty")
    index = TuneIndex.load(tmp_path / "empty")  # no settings: nothing to disagree
    assert len(index) == 0 and index.pitch_offsets.tolist() == [0]


def test_building_an_index_of_nothing_to_name_is_refused(tmp_path, tokenizer):
    # it returned an empty index: identify then gave [] (without a model) or an IndexError in
    # its model check; the command said why, the Python API did not
    untitled = synthetic_tune(1, "x", 1, 1)  # `x`: nothing to name
    (tmp_path / "untitled.abc").write_text(untitled, encoding="utf-8")
    (tmp_path / "empty.abc").write_text("", encoding="utf-8")
    cases = [
        (str(tmp_path / "untitled.abc"), f"nothing to index in {tmp_path / 'untitled.abc'}: "
         "1 tunes read, 1 without a title, 0 unreadable"),
        ([untitled, "X:2\nT:Bad\nK:Q\nAB|"], "nothing to index in the tunes given: 2 tunes "
         "read, 1 without a title, 1 unreadable"),
        ([str(tmp_path / "empty.abc")], f"nothing to index: no tune in {tmp_path / 'empty.abc'}: "
         "empty file"),
        ([], "nothing to index: no tune given"),
    ]  # fmt: skip
    for corpus, message in cases:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            TuneIndex.build(None, tokenizer, corpus)


def test_index_of_many_empty_files_names_five_then_counts_them(tmp_path, tokenizer, caplog):
    """`irish-tune index` of a folder of many files, most of them empty, named each one: the
    first five are named, then one line counts all twelve by reason."""
    folder = tmp_path / "tunes"
    folder.mkdir()
    (folder / "book.abc").write_text("\n".join(TUNES), encoding="utf-8")
    empty = [folder / f"empty{n:02}.abc" for n in range(1, 13)]
    for path in empty:
        path.write_text("" if path != empty[-1] else "Some words.\n", encoding="utf-8")
    tokenizer.save_pretrained(tmp_path / "tokenizer")
    argv = ["index", "--tokenizer", str(tmp_path / "tokenizer"), str(folder)]
    with caplog.at_level(logging.WARNING):
        assert main([*argv, "--out", str(tmp_path / "index")]) == 0
    assert warnings_of(caplog, "modeling_irish.abc_sources") == [
        f"no ABC tunes found in {path} (empty file)" for path in empty[:5]
    ] + [
        "... and 7 more files without tunes (not shown); 12 in all, by reason: "
        "{'empty file': 11, 'a tune starts with an X: line': 1}"
    ]


def test_saving_over_another_index_leaves_none_of_its_arrays_behind(good, tmp_path, tokenizer):
    # the save skipped an array the index lacks, and the other index's dur_flat.npy stayed:
    # "the note lengths do not match the pitches" at the next load
    folder = _copy(good, tmp_path)
    (folder / "notes.txt").write_text("the user's own file", encoding="utf-8")
    smaller = TuneIndex.build(None, tokenizer, TUNES[:3])
    smaller.dur_flat = None  # as an index of an earlier version, without note lengths
    smaller.save(folder)
    assert not (folder / "dur_flat.npy").exists()
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "the user's own file"
    index = TuneIndex.load(folder)
    assert len(index.setting_title) == 3 and index.dur_flat is None
    assert identify(None, index, TUNES[1], k=1, tokenizer=tokenizer) == [("Reel 2", 0.0)]


def test_an_index_of_format_2_with_a_model_is_loaded_with_a_warning_to_rebuild(
    good, tmp_path, caplog
):
    # format 2 indices read G major and A dorian tunes an octave above the corpus: a model's
    # embeddings of them are not those of a query read now (the edit distance folds octaves)
    folder = _copy(good, tmp_path)
    _edit_json(folder, lambda info: info.update(format=2))
    with caplog.at_level("WARNING"):
        assert len(TuneIndex.load(folder)) == 5
    assert "rebuild" not in caplog.text  # no model: only the edit distance reads it
    _edit_json(folder, lambda info: info["meta"].update(model="/some/model"))
    with caplog.at_level("WARNING"):
        TuneIndex.load(folder)
    assert "octave above the training corpus" in caplog.text and "rebuild it" in caplog.text
    caplog.clear()
    _edit_json(folder, lambda info: info.update(format=3))
    with caplog.at_level("WARNING"):
        TuneIndex.load(folder)
    assert "octave" not in caplog.text


def _stale_warnings(caplog, folder) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        TuneIndex.load(folder)
    return [m for m in caplog.messages if "older than its corpus" in m]


def test_loading_an_index_warns_when_its_corpus_has_changed_since(tmp_path, tokenizer, caplog):
    # the index recorded nothing of its sources: one built before the corpus changed named
    # the tunes as they were, without a word
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TUNES[:3]), encoding="utf-8")
    books = tmp_path / "books"
    books.mkdir()
    (books / "a.abc").write_text(TUNES[3], encoding="utf-8")
    (books / "b.abc").write_text(TUNES[4], encoding="utf-8")
    folder = tmp_path / "index"
    index = TuneIndex.build(None, tokenizer, [str(corpus), str(books)])
    assert set(index.meta["sources"]) == {str(corpus), str(books)}
    index.save(folder)
    assert _stale_warnings(caplog, folder) == []  # the control: nothing changed
    os.utime(corpus, ns=(0, 10**18))  # copied or touched: the same content
    assert _stale_warnings(caplog, folder) == []
    corpus.write_text("\n".join(TUNES[:4]), encoding="utf-8")
    (books / "c.abc").write_text(TUNES[5], encoding="utf-8")
    (books / "b.abc").unlink()
    assert _stale_warnings(caplog, folder) == [
        f"the index {str(folder)!r} is older than its corpus: {corpus} modified; {books}: "
        "c.abc added, b.abc removed since it was built (the index names the tunes as they "
        "were); rebuild it with irish-tune index"
    ]
    corpus.unlink()  # moved away: nothing to compare
    shutil.rmtree(books)
    assert _stale_warnings(caplog, folder) == []
    assert TuneIndex.build(None, tokenizer, TUNES).meta["sources"] == {}  # texts: no files


def test_an_index_whose_corpus_changes_while_it_is_built_reads_as_older(
    tmp_path, tokenizer, caplog, monkeypatch
):
    # the fingerprints were taken after the tunes were read and encoded: a title changed in
    # between was recorded as indexed, and the index never said it was older than its corpus
    import modeling_irish.tune_index as tune_index  # where TuneIndex.build looks read_tunes up

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TUNES[:3]), encoding="utf-8")
    read = tune_index.read_tunes

    def read_then_edit(*args, **kwargs):
        tunes = read(*args, **kwargs)
        corpus.write_text(
            corpus.read_text(encoding="utf-8").replace("T:Reel 1", "T:Zzz Renamed Tune"),
            encoding="utf-8",
        )
        return tunes

    monkeypatch.setattr(tune_index, "read_tunes", read_then_edit)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        index = TuneIndex.build(None, tokenizer, str(corpus))
    assert "Zzz Renamed Tune" not in index.titles
    assert f"the corpus changed while the index was built: {corpus} modified" in caplog.text
    folder = tmp_path / "index"
    index.save(folder)
    assert len(_stale_warnings(caplog, folder)) == 1


def test_an_edit_that_keeps_the_size_and_time_still_reads_as_a_change(tmp_path, tokenizer, caplog):
    # the check trusted size + mtime: a title edited in place, its time put back, went unseen
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TUNES[:3]), encoding="utf-8")
    folder = tmp_path / "index"
    TuneIndex.build(None, tokenizer, str(corpus)).save(folder)
    before = corpus.stat()
    corpus.write_text(
        corpus.read_text(encoding="utf-8").replace("T:Reel 1", "T:Zeel 1"), encoding="utf-8"
    )
    os.utime(corpus, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert corpus.stat().st_size == before.st_size
    assert corpus.stat().st_mtime_ns == before.st_mtime_ns
    assert len(_stale_warnings(caplog, folder)) == 1


# ----- saving over an index: the earlier one whole until the new one is -----------------------
def _same_index(folder, index) -> bool:
    loaded = TuneIndex.load(folder)
    return loaded.titles == index.titles and np.array_equal(loaded.pitch_flat, index.pitch_flat)


def _full_disk_after(monkeypatch, arrays: int) -> None:
    """Fail the array file written after ``arrays`` of them with ``No space left on device``."""
    import errno

    written = [0]
    real = np.lib.format.write_array

    def write_array(fid, array, *args, **kwargs):
        if written[0] == arrays:
            fid.write(b"\x93NUMPY")  # begun, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written[0] += 1
        return real(fid, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_array)


def test_a_full_disk_leaves_the_earlier_index_whole_and_says_which_file(
    good, tmp_path, tokenizer, monkeypatch
):
    """The arrays were written over the earlier index in place: a full disk (or a save killed
    meanwhile) left arrays of both indices, the error named neither the file nor the cause
    (numpy's ``48142 requested and 36832 written``), and the next load said "rebuild it"."""
    folder = _copy(good, tmp_path)
    earlier = TuneIndex.load(folder)
    _full_disk_after(monkeypatch, 2)  # the third array: setting_title.npy
    with pytest.raises(OSError) as raised:
        TuneIndex.build(None, tokenizer, TUNES[:3]).save(folder)
    assert str(raised.value) == (
        f"cannot write {folder / 'setting_title.npy'}: No space left on device; "
        f"{folder} is left as it was"
    )
    monkeypatch.undo()
    assert _same_index(folder, earlier)
    assert sorted(os.listdir(folder)) == sorted(os.listdir(good))  # nothing written left
    # a new folder: written beside it and renamed, so that nothing is left of a failed save
    _full_disk_after(monkeypatch, 0)
    with pytest.raises(OSError, match=r"^cannot write .*title_embeds\.npy: No space left on"):
        earlier.save(tmp_path / "new")
    assert sorted(os.listdir(tmp_path)) == ["bad"]
    monkeypatch.undo()
    earlier.save(f"{tmp_path / 'new'}{os.sep}")  # written beside "new", not inside it
    assert sorted(os.listdir(tmp_path)) == ["bad", "new"] and _same_index(tmp_path / "new", earlier)


def test_an_index_file_that_may_not_be_replaced_leaves_the_earlier_index_whole(
    good, tmp_path, tokenizer, monkeypatch
):
    """With ``chattr +i`` on tune_index.json every array was replaced before the JSON write
    failed: arrays of one index, titles of another. Simulated here: the file may be neither
    written, renamed nor removed (Operation not permitted)."""
    import builtins
    import errno

    folder = _copy(good, tmp_path)
    earlier = TuneIndex.load(folder)
    locked = str(folder / INDEX_FILE)

    def refuse(path) -> None:
        if os.path.abspath(os.fspath(path)) == locked:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), os.fspath(path))

    real = {name: getattr(os, name) for name in ("rename", "replace", "remove", "unlink")}
    for name, function in real.items():
        monkeypatch.setattr(
            os,
            name,
            lambda *paths, f=function, **kw: [refuse(p) for p in paths] and f(*paths, **kw),
        )
    real_open = builtins.open

    def locked_open(file, mode="r", *args, **kwargs):
        if set(mode) & set("wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", locked_open)
    with pytest.raises(OSError) as raised:
        TuneIndex.build(None, tokenizer, TUNES[:3]).save(folder)
    monkeypatch.undo()
    assert str(raised.value) == (
        f"cannot replace {locked}: Operation not permitted; {folder} is left as it was"
    )
    assert _same_index(folder, earlier)
    assert sorted(os.listdir(folder)) == sorted(os.listdir(good))


class _Killed(BaseException):
    """The process killed at that step (no `except OSError` sees it, nothing is undone)."""


def test_a_save_killed_at_any_step_leaves_one_whole_index(good, tmp_path, tokenizer, monkeypatch):
    """A save killed over an earlier index left, 10 times in 20, a folder that did not load
    (a damaged tune_index.json or .npy, arrays at odds with the titles). Killed at each file
    written or renamed in turn, the folder now loads as the earlier index or the new one,
    finishing or undoing the dead save's swap; the next save clears what it left."""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, encoding="utf-8",
                          check=True).stdout.strip()  # fmt: skip
    earlier = TuneIndex.load(good)
    new = TuneIndex.build(None, tokenizer, TUNES[:3])
    new.dur_flat = None  # an array the earlier index has and this one lacks
    real = {"write_array": np.lib.format.write_array, "rename": os.rename, "replace": os.replace}
    outcomes = set()
    for kill_at in range(20):
        folder = tmp_path / f"index{kill_at}"
        shutil.copytree(good, folder)
        steps = iter(range(kill_at, -1, -1))  # killed when it reaches 0

        def step(function, *args, steps=steps, **kwargs):
            if next(steps, 0) == 0:  # and ever after: a killed process runs no cleanup
                raise _Killed
            return function(*args, **kwargs)

        monkeypatch.setattr(np.lib.format, "write_array", lambda *a, **k: step(real["write_array"], *a, **k))  # fmt: skip  # noqa: E501
        monkeypatch.setattr(os, "rename", lambda *a: step(real["rename"], *a))
        monkeypatch.setattr(os, "replace", lambda *a: step(real["replace"], *a))
        with contextlib.suppress(_Killed):
            new.save(folder)
        monkeypatch.undo()
        for writer in folder.glob(".tune_index.tmp-*"):  # its process is gone
            writer.rename(folder / f".tune_index.tmp-{dead}")
        loaded = TuneIndex.load(folder)
        outcome = "earlier" if _same_index(folder, earlier) else "new"
        assert outcome == "earlier" or (_same_index(folder, new) and loaded.dur_flat is None)
        outcomes.add(outcome)
        new.save(folder)
        assert sorted(os.listdir(folder)) == sorted(set(os.listdir(good)) - {"dur_flat.npy"})
    assert outcomes == {"earlier", "new"}
