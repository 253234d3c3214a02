"""``irish-tune prune-cache``: `prune_caches` from the command line, each entry with its size;
and `prune_caches` itself past entries that cannot be removed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import run_as_console_script

import irish_tune


def _entry(path: Path, used_file: str | None, size: int, days_old: float) -> Path:
    """A cache entry at ``path`` (a folder holding ``used_file``, or a file when None) of
    ``size`` bytes, last used ``days_old`` days ago."""
    file = path / used_file if used_file else path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(b"x" * size)
    when = file.stat().st_mtime - days_old * 86400
    os.utime(file, (when, when))
    return path


def _cache(folder: Path) -> dict[str, Path]:
    """A cache folder with an old entry of each kind, a fresh one and a writer's folder."""
    return {
        "corpus": _entry(folder / "abc_corpus-0a1b", "abc_corpus_report.json", 1500, 40),
        "vocabulary": _entry(folder / "abc-tokenizer-2c3d", "abc_vocab.json", 300, 31),
        "tokenized": _entry(folder / "tokenized-train-4e5f.arrow", None, 200, 90),
        "fresh": _entry(folder / "abc_corpus-6a7b", "abc_corpus_report.json", 100, 1),
        "writer": _entry(folder / "abc_corpus-0a1b.tmp-1.2@host", None, 50, 90),
    }


def test_a_dry_run_lists_the_stale_entries_with_their_sizes_and_removes_nothing(tmp_path, capsys):
    entries = _cache(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    assert irish_tune.main(["prune-cache", "--cache-dir", str(tmp_path), "--dry-run"]) == 0
    assert sorted(tmp_path.rglob("*")) == before
    assert capsys.readouterr().out.splitlines() == [
        "   1.5 kB  abc_corpus-0a1b",
        "    300 B  abc-tokenizer-2c3d",
        "    200 B  tokenized-train-4e5f.arrow",
        f"{tmp_path}: would remove 3 entries unused for 30 days (2.0 kB would free); "
        "would keep 1 entry (100 B)",
    ]
    assert entries["fresh"].is_dir()


def test_prune_removes_the_stale_entries_and_says_the_space_freed_in_one_json_object(
    tmp_path, capsys
):
    entries = _cache(tmp_path)
    argv = ["prune-cache", "--cache-dir", str(tmp_path), "--older-than-days", "35", "--json"]
    assert irish_tune.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    corpus, tokenized = str(entries["corpus"]), str(entries["tokenized"])
    assert report == {
        "cache_dir": str(tmp_path),
        "older_than_days": 35.0,
        "dry_run": False,
        "entries": [{"path": corpus, "bytes": 1500}, {"path": tokenized, "bytes": 200}],
        "count": 2,
        "bytes": 1700,
        "kept_count": 2,
        "kept_bytes": 400,
        "failed": [],
    }
    kept = {path.name for path in tmp_path.iterdir()}
    assert kept == {entries[k].name for k in ("vocabulary", "fresh", "writer")}


def test_the_default_folder_is_train_pys_and_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert irish_tune.main(["prune-cache"]) == 2
    assert capsys.readouterr().err == (
        "irish-tune prune-cache: no such folder: runs/.cache "
        "(train.py's default cache; pass --cache-dir)\n"
    )
    entries = _cache(tmp_path / "runs" / ".cache")
    assert irish_tune.main(["prune-cache", "--older-than-days", "0"]) == 0
    assert capsys.readouterr().out.endswith(
        "runs/.cache: removed 4 entries unused for 0 days (2.1 kB freed); kept 0 entries (0 B)\n"
    )
    assert [path.name for path in (tmp_path / "runs" / ".cache").iterdir()] == [
        entries["writer"].name
    ]


def test_a_given_folder_that_is_missing_is_named(tmp_path, capsys):
    assert irish_tune.main(["prune-cache", "--cache-dir", str(tmp_path / "no")]) == 2
    assert capsys.readouterr().err == f"irish-tune prune-cache: no such folder: {tmp_path}/no\n"


@pytest.mark.parametrize("days", ["-1", "nan", "soon"])
def test_an_age_that_is_no_number_of_days_is_a_usage_error(days, capsys):
    with pytest.raises(SystemExit) as info:
        irish_tune.parse_args(["prune-cache", "--older-than-days", days])
    assert info.value.code == 2
    assert "irish-tune prune-cache: error: argument --older-than-days" in capsys.readouterr().err


def test_prune_cache_from_the_command_line_imports_no_torch(tmp_path):
    _cache(tmp_path)
    lines = run_as_console_script(["prune-cache", "--cache-dir", str(tmp_path), "--dry-run"])
    assert lines[-3].endswith(
        "would remove 3 entries unused for 30 days (2.0 kB would free); would keep 1 entry (100 B)"
    )
    assert lines[-2:] == ["status 0", "loaded []"]


def test_an_entry_that_cannot_be_removed_is_named_and_the_others_are_removed(
    tmp_path, monkeypatch, capsys
):
    """A folder or file that will not go (permissions) is named on stderr, status 2, and left
    out of the report; the entries after it are still removed and reported."""
    import shutil

    entries = _cache(tmp_path)
    reads = _entry(tmp_path / "train_tokens-8a9b.json", None, 70, 60)

    def refuse_rmtree(path, ignore_errors=False, **kwargs):
        if not ignore_errors:
            raise PermissionError(13, "Permission denied", str(path))

    real_unlink = Path.unlink

    def refuse_reads(self, missing_ok=False):
        if self.name.startswith("train_tokens-"):
            raise PermissionError(13, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(shutil, "rmtree", refuse_rmtree)
    monkeypatch.setattr(Path, "unlink", refuse_reads)
    assert irish_tune.main(["prune-cache", "--cache-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "    200 B  tokenized-train-4e5f.arrow",
        f"{tmp_path}: removed 1 entry unused for 30 days (200 B freed); kept 4 entries (2.0 kB)",
    ]
    lines = err.splitlines()
    assert [line.split(": Permission denied")[0] for line in lines] == [
        f"irish-tune prune-cache: cannot remove {entries['corpus']}",
        f"irish-tune prune-cache: cannot remove {entries['vocabulary']}",
        f"irish-tune prune-cache: cannot remove {reads}",
    ]
    assert "what is left is" in lines[0]
    assert not entries["tokenized"].exists() and reads.is_file()


def test_one_entry_and_one_day_are_said_in_the_singular(tmp_path, capsys):
    _entry(tmp_path / "abc-tokenizer-2c3d", "abc_vocab.json", 300, 2)
    argv = ["prune-cache", "--cache-dir", str(tmp_path), "--older-than-days", "1"]
    assert irish_tune.main([*argv, "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"{tmp_path}: would remove 1 entry unused for 1 day (300 B would free); "
        "would keep 0 entries (0 B)"
    )
    assert irish_tune.main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"{tmp_path}: removed 1 entry unused for 1 day (300 B freed); kept 0 entries (0 B)"
    )


def test_the_report_says_what_is_kept_fresh_entries_and_those_that_would_not_go(
    tmp_path, monkeypatch, capsys
):
    """Kept: the entries not stale and those that could not be removed, with their bytes; the
    JSON names each failure with its cause."""
    entries = _cache(tmp_path)
    real_unlink = Path.unlink

    def refuse_tokenized(self, missing_ok=False):
        if self.name.startswith("tokenized-"):
            raise PermissionError(13, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse_tokenized)
    assert irish_tune.main(["prune-cache", "--cache-dir", str(tmp_path), "--json"]) == 2
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert (report["count"], report["bytes"]) == (2, 1800)
    assert (report["kept_count"], report["kept_bytes"]) == (2, 300)
    assert report["failed"] == [{"path": str(entries["tokenized"]), "error": "Permission denied"}]
    assert (
        err == f"irish-tune prune-cache: cannot remove {entries['tokenized']}: Permission denied\n"
    )


def _refuse_folders(monkeypatch) -> None:
    """Make every cache folder fail to go, as a read-only one would: `shutil.rmtree` raises."""
    import shutil

    def refuse_rmtree(path, ignore_errors=False, **kwargs):
        if not ignore_errors:
            raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(shutil, "rmtree", refuse_rmtree)


def test_prune_caches_tries_every_entry_then_names_each_that_would_not_go(tmp_path, monkeypatch):
    from modeling_irish.cache_pruning import CachePruneError, prune_caches

    entries = _cache(tmp_path)
    reads = _entry(tmp_path / "train_tokens-8a9b.json", None, 70, 60)
    _refuse_folders(monkeypatch)
    with pytest.raises(CachePruneError) as info:
        prune_caches(tmp_path)
    stuck = [entries["corpus"], entries["vocabulary"]]
    assert list(info.value.failures) == stuck
    assert info.value.removed == [entries["tokenized"], reads]
    assert not entries["tokenized"].exists() and not reads.exists()
    message = str(info.value)
    assert message.startswith("cannot remove 2 cache entries:\n")
    assert all(f"\n  {path}: Permission denied; what is left is " in message for path in stuck)


def test_prune_caches_past_a_folder_that_is_really_read_only(tmp_path):
    """The same with real permissions: a folder holding a read-only folder of files."""
    from modeling_irish.cache_pruning import CachePruneError, prune_caches

    if os.geteuid() == 0:
        pytest.skip("root removes files from read-only folders")
    entries = _cache(tmp_path)
    locked = entries["corpus"] / "train"
    _entry(locked / "data.arrow", None, 10, 0)
    locked.chmod(0o555)
    try:
        with pytest.raises(CachePruneError) as info:
            prune_caches(tmp_path)
    finally:
        for folder in tmp_path.glob("abc_corpus-0a1b*/train"):
            folder.chmod(0o755)
    assert list(info.value.failures) == [entries["corpus"]]
    assert info.value.removed == [entries["vocabulary"], entries["tokenized"]]


def test_one_entry_that_would_not_go_is_said_in_the_singular(tmp_path, monkeypatch):
    from modeling_irish.cache_pruning import CachePruneError, prune_corpus_cache

    entry = _entry(tmp_path / "abc_corpus-0a1b", "abc_corpus_report.json", 10, 40)
    _refuse_folders(monkeypatch)
    with pytest.raises(CachePruneError, match="^cannot remove 1 cache entry:\n  ") as info:
        prune_corpus_cache(tmp_path)
    assert (list(info.value.failures), info.value.removed) == ([entry], [])
