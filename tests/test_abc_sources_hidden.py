"""Hidden files and folders of a folder source (Jupyter's ``.ipynb_checkpoints/``, ``.git/``,
an editor's ``.#tune.abc``) are passed over, with a warning, by the loader and by
``irish-tune check`` alike; one given by its own path is read."""

from __future__ import annotations

import json

from helpers import warnings_of
from test_check_cli import GOOD

from modeling_irish.abc_sources import iter_raw_tunes, no_tune_reason, source_files
from modeling_irish.cli import main

HIDDEN = (".ipynb_checkpoints/book-checkpoint.abc", ".#book.abc", ".git/old/book.abc")


def _folder(tmp_path):
    """A folder ``tunes`` with one tunebook of one tune, and three hidden copies of it."""
    folder = tmp_path / "tunes"
    for name in ("book.abc", *HIDDEN):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(GOOD, encoding="utf-8")
    return folder


def test_a_folder_source_passes_over_its_hidden_files_and_says_so(tmp_path, caplog):
    folder = _folder(tmp_path)
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        raws = list(iter_raw_tunes(str(folder)))
    assert [raw.source for raw in raws] == [str(folder / "book.abc")]  # no copies
    assert source_files(str(folder)) == [folder / "book.abc"]  # nor in the cache key
    assert warnings_of(caplog, "modeling_irish.abc_sources") == [
        f"{folder}: 3 hidden *.abc files passed over (a name starting with '.', or in such a "
        "folder): .#book.abc, .git/old/book.abc, .ipynb_checkpoints/book-checkpoint.abc; "
        "give one by its path to read it"
    ]


def test_a_hidden_file_or_folder_given_by_its_path_is_read(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    checkpoints = folder / ".ipynb_checkpoints"
    assert [raw.source for raw in iter_raw_tunes(str(checkpoints))] == [
        str(checkpoints / "book-checkpoint.abc")
    ]
    assert len(list(iter_raw_tunes(str(folder / ".#book.abc")))) == 1
    monkeypatch.chdir(checkpoints)  # "." is the folder given, not a hidden name under it
    assert len(list(iter_raw_tunes("."))) == 1


def test_a_folder_of_hidden_files_only_says_why_it_holds_no_tune(tmp_path):
    folder = _folder(tmp_path)
    (folder / "book.abc").unlink()
    assert no_tune_reason(folder) == "no *.abc files but 3 hidden, passed over"
    assert list(iter_raw_tunes(str(folder))) == []


def test_check_passes_over_the_hidden_files_of_a_folder_as_the_loader_does(
    tmp_path, capsys, caplog
):
    folder = _folder(tmp_path)
    with caplog.at_level("WARNING", logger="tokenization.check"):
        assert main(["check", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["round_trip_ok"] == 1
    assert any(
        line.startswith(f"{folder}: 3 hidden *.abc files passed over")
        for line in warnings_of(caplog, "tokenization.check")
    )


def test_a_file_named_dot_abc_alone_is_a_hidden_file_passed_over_and_named(tmp_path, caplog):
    folder = tmp_path / "tunes"
    folder.mkdir()
    for name in ("book.abc", ".abc"):  # `Path(".abc").suffix` is "": it was left out unsaid
        (folder / name).write_text(GOOD, encoding="utf-8")
    with caplog.at_level("WARNING", logger="modeling_irish.abc_sources"):
        assert [raw.source for raw in iter_raw_tunes(str(folder))] == [str(folder / "book.abc")]
    assert warnings_of(caplog, "modeling_irish.abc_sources") == [
        f"{folder}: 1 hidden *.abc file passed over (a name starting with '.', or in such a "
        "folder): .abc; give one by its path to read it"
    ]
