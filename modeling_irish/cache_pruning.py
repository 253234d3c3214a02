"""Pruning the caches of a ``cache_dir`` by last use (`prune_caches`): the corpus folders of
`modeling_irish.abc_corpus_cache`, the vocabularies of ``training.data`` and the tokenized splits
of ``tokenization.dataset``. Light (no datasets, torch or transformers), so that
``irish-tune prune-cache`` starts at once; `modeling_irish.abc_corpus` re-exports the API."""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
from pathlib import Path

from tokenization.capped_warnings import counted
from tokenization.writer_folders import own_writer_name

__all__ = [
    "CORPUS_USED_FILE",
    "CachePruneError",
    "cache_entries",
    "entry_size",
    "prune_caches",
    "prune_corpus_cache",
    "remove_cache_entries",
    "remove_cache_entry",
    "stale_caches",
]

# the loader's logger: the cache's messages keep the name its users filter on
logger = logging.getLogger("modeling_irish.abc_corpus")

#: The file whose modification time records a corpus cache folder's last use (its write or
#: last hit, `modeling_irish.abc_corpus_cache.cache_hit`).
CORPUS_USED_FILE = "abc_corpus_report.json"


class CachePruneError(OSError):
    """Some cache entries could not be removed (`remove_cache_entries`, `prune_caches`): every
    entry was tried; ``removed`` holds those deleted, ``failures`` each one left with its
    `OSError`, and the message names each of those and why."""

    def __init__(self, removed: list[Path], failures: dict[Path, OSError]) -> None:
        lines = "".join(f"\n  {path}: {err.strerror or err}" for path, err in failures.items())
        super().__init__(
            f"cannot remove {counted(len(failures), 'cache entry', 'cache entries')}:{lines}"
        )
        self.removed = removed
        self.failures = failures


def _last_used(path: Path, used_file: str | None) -> float:
    """When the cache entry ``path`` was last written or hit (seconds since the epoch): the
    mtime of its ``used_file`` (a folder's), or of ``path`` itself (a file, or a folder
    without that file: no complete copy)."""
    try:
        return (path / used_file if used_file else path).stat().st_mtime
    except OSError:
        return path.stat().st_mtime


#: The cache entries of a ``cache_dir`` that `prune_caches` removes, by kind: (their name's
#: pattern, whether each is a folder, the file whose mtime records its last use). The corpus
#: (`cache_hit`), the vocabulary (``training.data.load_or_train_tokenizer``), the tokenized
#: splits (``tokenization.dataset.tokenize_dataset``) and ``evaluate-generation --train``'s read
#: (`modeling_irish.train_tokens_cache`) each record a hit there.
_CACHE_KINDS = {
    "corpus": ("abc_corpus-*", True, CORPUS_USED_FILE),
    "vocabulary": ("abc-tokenizer-*", True, "abc_vocab.json"),
    "tokenized": ("tokenized-*.arrow", False, None),
    "train_tokens": ("train_tokens-*.json", False, None),
}


def _stale_entries(folder: Path, kinds: list[str], cutoff: float) -> list[Path]:
    """The entries of ``folder`` of the ``kinds`` of `_CACHE_KINDS` last used at ``cutoff`` or
    before; writers' folders and files (a ``.tmp-`` or ``.damaged-`` in the name) are not."""
    stale = []
    for kind in kinds:
        pattern, is_folder, used_file = _CACHE_KINDS[kind]
        for path in sorted(folder.glob(pattern)):
            suffix = pattern[pattern.rindex("*") + 1 :]  # a file's: .arrow, .json
            stem = path.name if is_folder else path.name.removesuffix(suffix)
            ok = path.is_dir() if is_folder else path.is_file()
            if ok and "." not in stem and _last_used(path, used_file) <= cutoff:
                stale.append(path)
    return stale


def _checked_stale(
    caller: str, cache_dir: str | os.PathLike, older_than_days: float, kinds: list[str]
) -> list[Path]:
    """`_stale_entries` of ``cache_dir`` unused for ``older_than_days`` days; a negative or NaN
    age (`ValueError`) or a ``cache_dir`` that is no folder (`NotADirectoryError`) is refused
    in the name of ``caller``."""
    if not older_than_days >= 0:  # NaN too
        raise ValueError(f"{caller}: older_than_days must be >= 0, got {older_than_days!r}")
    folder = Path(cache_dir)
    if not folder.is_dir():
        raise NotADirectoryError(f"{caller}: {folder} is not a folder")
    return _stale_entries(folder, kinds, time.time() - older_than_days * 86400)


def _prune(cache_dir: str | os.PathLike, older_than_days: float, kinds: list[str]) -> list[Path]:
    """Delete the entries of `_stale_entries` unused for ``older_than_days`` days; return them."""
    caller = "prune_caches" if len(kinds) > 1 else "prune_corpus_cache"
    stale = _checked_stale(caller, cache_dir, older_than_days, kinds)
    return remove_cache_entries(stale, cache_dir, older_than_days)


def remove_cache_entries(
    entries: list[Path], cache_dir: str | os.PathLike, older_than_days: float
) -> list[Path]:
    """Delete the cache ``entries`` (folders or files of `stale_caches`, `remove_cache_entry`)
    and return them; one already gone (another pruner took it first) counts as removed. Every
    entry is tried: those that cannot be removed raise, after the others are gone, one
    `CachePruneError` naming each with its cause. ``cache_dir`` and ``older_than_days`` are for
    the log line."""
    removed, failures = [], {}
    for path in entries:
        try:
            remove_cache_entry(path)
        except OSError as err:
            failures[path] = err
        else:
            removed.append(path)
    if removed:
        gone = counted(len(removed), "entry", "entries")
        logger.info("cache %s: removed %s unused for %s", cache_dir, gone,
                    counted(older_than_days, "day"))  # fmt: skip
    if failures:
        raise CachePruneError(removed, failures)
    return removed


def remove_cache_entry(path: Path) -> None:
    """Delete the cache entry ``path``: a file, or a folder first renamed aside in one step
    (``<path>.damaged-<writer>``) so that a load finds it whole or not at all. One already gone
    is no error; one that cannot be removed raises `OSError` naming ``path`` (and, for a folder,
    the name what is left of it now has).

    >>> import tempfile
    >>> entry = Path(tempfile.mkdtemp()) / "abc-tokenizer-0a"
    >>> entry.mkdir(); remove_cache_entry(entry); remove_cache_entry(entry); entry.exists()
    False
    """
    if not path.is_dir() or path.is_symlink():
        path.unlink(missing_ok=True)
        return
    aside = own_writer_name(f"{os.fspath(path)}.damaged-")
    try:
        os.replace(path, aside)
    except FileNotFoundError:  # another pruner removed it first
        return
    shutil.rmtree(aside, ignore_errors=True)  # all it can, past a file that will not go
    try:
        shutil.rmtree(aside)  # again, for the cause to name
    except FileNotFoundError:
        return
    except OSError as err:
        why = f"{err.strerror or err}; what is left is {aside}"
        raise OSError(err.errno, why, os.fspath(path)) from err


def entry_size(path: Path) -> int:
    """The bytes a cache entry takes: a file's size, or the sum of a folder's files (links not
    followed); a file that goes while it is measured counts 0.

    >>> import tempfile
    >>> entry_size(Path(tempfile.mkdtemp()))
    0
    """
    if not path.is_dir() or path.is_symlink():
        return _file_size(path)
    return sum(_file_size(file) for file in path.rglob("*") if not file.is_dir())


def _file_size(path: Path) -> int:
    """``path``'s size (a link's own), 0 when it is gone."""
    try:
        return path.lstat().st_size
    except FileNotFoundError:
        return 0


def cache_entries(cache_dir: str | os.PathLike) -> dict[Path, int]:
    """Every cache entry of ``cache_dir`` that `prune_caches` could remove, whatever its age,
    each with the bytes it takes (`entry_size`): what the cache holds (``irish-tune
    prune-cache`` reports those it keeps).

    >>> import tempfile
    >>> cache_entries(tempfile.mkdtemp())
    {}
    """
    folder = Path(cache_dir)
    if not folder.is_dir():
        raise NotADirectoryError(f"cache_entries: {folder} is not a folder")
    return {path: entry_size(path) for path in _stale_entries(folder, list(_CACHE_KINDS), math.inf)}


def stale_caches(cache_dir: str | os.PathLike, older_than_days: float = 30.0) -> dict[Path, int]:
    """What `prune_caches` would delete from ``cache_dir`` now, each entry with the bytes it
    takes (`entry_size`), in the order it deletes them; nothing is deleted
    (``irish-tune prune-cache --dry-run``). `remove_cache_entries` then deletes them.

    >>> import tempfile
    >>> stale_caches(tempfile.mkdtemp())
    {}
    """
    stale = _checked_stale("stale_caches", cache_dir, older_than_days, list(_CACHE_KINDS))
    return {path: entry_size(path) for path in stale}


def prune_corpus_cache(cache_dir: str | os.PathLike, older_than_days: float = 30.0) -> list[Path]:
    """Delete the corpus cache folders (``abc_corpus-<key>``) of ``cache_dir`` that no load
    has written or hit for ``older_than_days`` days, and return them (`prune_caches` prunes
    the vocabularies and tokenized splits too).

    A new package version (or corpus, or loader option) keys a new folder and never reads the
    old ones, which are otherwise kept for ever. Age, not key, decides: two package versions
    that share ``cache_dir`` each keep the folders they use (every hit records its use), and
    ``older_than_days=0`` clears them all. Writers' folders (``.tmp-``, ``.damaged-``) and
    other files are left to their own cleanup. Every stale folder is tried; those that cannot
    be removed raise one `CachePruneError` at the end (`remove_cache_entries`).

    >>> import tempfile
    >>> prune_corpus_cache(tempfile.mkdtemp())
    []
    """
    return _prune(cache_dir, older_than_days, ["corpus"])


def prune_caches(cache_dir: str | os.PathLike, older_than_days: float = 30.0) -> list[Path]:
    """Delete every cache entry of ``cache_dir`` that nothing has written or hit for
    ``older_than_days`` days, and return them: the corpus folders (``abc_corpus-<key>``), the
    vocabularies (``abc-tokenizer-<key>/``), the tokenized splits
    (``tokenized-<split>-<key>.arrow`` and their ``_0000i_of_0000N`` shards) and the reads of
    ``evaluate-generation --train`` (``train_tokens-<key>.json``), by the same
    last-use rule as `prune_corpus_cache`; writers' temporary folders are left alone. Every
    stale entry is tried: if some cannot be removed (a read-only folder), the others still go
    and one `CachePruneError` follows, its ``failures`` naming each with its cause and its
    ``removed`` listing what went.

    >>> import tempfile
    >>> prune_caches(tempfile.mkdtemp())
    []
    """
    return _prune(cache_dir, older_than_days, list(_CACHE_KINDS))
