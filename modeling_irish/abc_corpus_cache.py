"""The on-disk side of `modeling_irish.abc_corpus.load_abc_corpus`: the `AbcCorpusDict` it
returns (a ``DatasetDict`` whose empty splits save and load back), and its cache
(``cache_dir=``): its key (the sources' bytes, the parameters, the reader's code), the folder
written aside, a damaged or dead writer's folder cleared, and the warnings of the load that
wrote it, given again on a hit."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict, load_from_disk

from tokenization.dataset import datasets_bars_on_terminal_only, remove_dead_writers
from tokenization.writer_folders import own_writer_name

from .abc_sources import SourceLike, source_files
from .cache_pruning import CORPUS_USED_FILE as _USED_FILE
from .cache_pruning import prune_caches, prune_corpus_cache
from .corpus_splits import SPLIT_NAMES
from .file_utils import discard_folder, remove_directory

__all__ = [
    "AbcCorpusDict",
    "cache_hit",
    "cache_fingerprint",
    "imported_modules",
    "load_cached",
    "module_file",
    "modules_imported_by",
    "piped_sources",
    "prune_caches",
    "prune_corpus_cache",
    "reader_modules",
    "write_aside",
]  # and the cache helpers of `abc_corpus`, imported there by name

# the loader's logger: the cache's messages keep the name its users filter on
logger = logging.getLogger("modeling_irish.abc_corpus")

# 2: duplicates must also sound alike (K:, L:); 3: the warnings file names the sources
_LOADER_VERSION = "3"


class AbcCorpusDict(DatasetDict):
    """The ``DatasetDict`` of `load_abc_corpus`: its ``train``, ``validation`` and ``test``
    splits (any of them may be empty), and ``report``, the load's counts (also in each split's
    ``info.description``, which ``map``, ``filter`` and ``save_to_disk`` keep: the ``DatasetDict``
    those return has no ``report``).

    Its ``save_to_disk`` writes an empty split as one shard: datasets 5.2 writes none, caps the
    count at the rows, and its ``load_from_disk`` then fails with an ``IndexError`` (a one-tune
    corpus, ``split_ratios=(1, 0, 0)``). A ``DatasetDict`` that ``map`` or ``filter`` returns
    is datasets' own: give an empty split ``num_shards`` 1 there yourself.

    >>> corpus = AbcCorpusDict({"train": Dataset.from_dict({"abc": []})}, {"read": 0})
    >>> corpus.report, len(corpus["train"])
    ({'read': 0}, 0)
    """

    def __init__(self, splits: dict[str, Dataset], report: dict[str, Any]) -> None:
        super().__init__(splits)
        self.report = report

    def save_to_disk(
        self,
        dataset_dict_path: str | os.PathLike,
        max_shard_size: str | int | None = None,
        num_shards: dict[str, int] | None = None,
        num_proc: int | None = None,
        storage_options: dict | None = None,
    ) -> None:
        """`datasets.DatasetDict.save_to_disk`, with one shard for each empty split that
        ``num_shards`` does not name (none when ``max_shard_size`` is given: datasets takes
        one or the other). Its bars are drawn only on a terminal
        (`datasets_bars_on_terminal_only`)."""
        if max_shard_size is None:
            empty = {name: 1 for name, split in self.items() if len(split) == 0}
            num_shards = {**empty, **(num_shards or {})}
        with datasets_bars_on_terminal_only():
            super().save_to_disk(
                dataset_dict_path,
                max_shard_size=max_shard_size,
                num_shards=num_shards,
                num_proc=num_proc,
                storage_options=storage_options,
            )


def piped_sources(sources: list[SourceLike]) -> list[str]:
    """The sources that are pipes (``<(cat a.abc)``): read once, with no file whose contents a
    cache key could hash, so a load with one is not cached.

    >>> piped_sources(["oneills1850"])
    []
    """
    found = []
    for source in sources:
        path = Path(source) if isinstance(source, (str, os.PathLike)) else None
        if path is not None and path.exists() and not (path.is_file() or path.is_dir()):
            found.append(str(source))
    return found


def cache_fingerprint(sources: list[SourceLike], params: dict[str, Any]) -> str:
    """Hash of the inputs' paths and contents (not their mtimes: a copy that keeps an old mtime
    must not hit a stale cache), the parameters and the code: the loader, this cache and every
    module the reader imports (`reader_modules`)."""
    parts: list[Any] = [_LOADER_VERSION, params]
    for source in sources:
        paths = source_files(source)
        # the path as read too: a symlink's name gives its tunes' ids, its target the content
        parts += [(os.path.abspath(p), str(p.resolve()), _digest(p)) for p in paths]
    from . import abc_corpus

    reader = [importlib.import_module(name) for name in reader_modules()]
    loader = (abc_corpus.__file__, __file__)  # the loader and this cache: new code
    for code in (*(getattr(m, "__file__", None) for m in reader), *loader):
        if code:  # by content: a copy that keeps old mtimes (cp -p, rsync -a) is still new code
            parts.append(hashlib.sha1(Path(code).read_bytes()).hexdigest())
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def _digest(path: Path) -> str:
    """The SHA-1 of a file's bytes."""
    return hashlib.sha1(path.read_bytes()).hexdigest()


#: Where the reader's code starts (`reader_modules`): a tune's row (corpus_rows), the parser,
#: the file decoder (check: decode_abc), the sources and a dump's rows, the title and body keys
#: the loader dedupes and links on, and the split.
_READER_ROOTS = (
    "tokenization.corpus_rows",
    "tokenization.abc_parser",
    "tokenization.check",
    "modeling_irish.abc_sources",
    "modeling_irish.session_dump",
    "modeling_irish.corpus_keys",
    "modeling_irish.corpus_splits",
)
_PACKAGES = ("tokenization", "modeling_irish")


@functools.cache
def reader_modules() -> tuple[str, ...]:
    """The modules of `_PACKAGES` that `_READER_ROOTS` import, directly or through one another
    (read from their source, imports inside functions too), sorted: the code whose change is
    new rows. Listed by hand, the key missed a module the reader came to import (abc_tempo: a
    ``Q:`` it refuses skips the tune; reader_warnings: ``voices_dropped``), and a cache made
    before a fix to one was hit after it.

    >>> {"tokenization.abc_tempo", "tokenization.reader_warnings"} <= set(reader_modules())
    True
    """
    return modules_imported_by(_READER_ROOTS)


def modules_imported_by(roots: Iterable[str]) -> tuple[str, ...]:
    """``roots`` and the modules of `_PACKAGES` they import, directly or through one another
    (`imported_modules`), sorted.

    >>> modules_imported_by(["tokenization.abc_tempo"])[-1]
    'tokenization.abc_tempo'
    """
    found: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += imported_modules(name)
    return tuple(sorted(found))


def imported_modules(name: str) -> list[str]:
    """The modules of `_PACKAGES` (not a package's ``__init__``) that module ``name`` imports."""
    package = name.partition(".")[0]
    tree = ast.parse(module_file(name).read_text(encoding="utf-8"))
    named: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            named += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level <= 1:
            base = (
                node.module if node.level == 0 else ".".join(filter(None, (package, node.module)))
            )
            named.append(base or "")
            if base in _PACKAGES:  # `from . import x`, `from tokenization import x`
                named += [f"{base}.{alias.name}" for alias in node.names]
    return [module for module in named if module_file(module).is_file()]


def module_file(name: str) -> Path:
    """Where module ``name`` of `_PACKAGES` (``tokenization.keys``) is written; a name that is
    none (a package, another package's module) gives a path that is not a file."""
    package, _, rest = name.partition(".")
    if package not in _PACKAGES or not rest or "." in rest:
        return Path(__file__).parent / "__not_a_module__"
    return Path(__file__).parent.parent / package / f"{rest}.py"


def load_cached(path: Path, report: dict | None) -> AbcCorpusDict | None:
    """The cached corpus, or None (after a warning) when its files are damaged: unreadable, or
    a split with another number of tunes than the saved report says."""
    try:
        cached = json.loads((path / "abc_corpus_report.json").read_text(encoding="utf-8"))
        dataset = AbcCorpusDict(load_from_disk(str(path)), cached)
        sizes = {name: len(dataset[name]) for name in SPLIT_NAMES}
    except (OSError, ValueError, KeyError) as err:  # pyarrow's errors are OSError / ValueError
        logger.warning("ABC corpus cache %s cannot be read (%s); reading it again", path, err)
        return None
    if sizes != cached.get("splits", sizes):
        logger.warning(
            "ABC corpus cache %s holds %s tunes per split, its report %s; reading the corpus again",
            path, sizes, cached["splits"],
        )  # fmt: skip
        return None
    if report is not None:
        report.clear()
        report.update(cached)
        dataset.report = report
    logger.info("Loaded ABC corpus from cache %s", path)
    return dataset


def corpus_description(report: dict[str, Any]) -> str:
    """Each split's ``info.description``: the load's ``report``, as JSON with sorted keys."""
    return "ABC tune corpus loaded by modeling_irish.load_abc_corpus; report: " + json.dumps(
        report, sort_keys=True
    )


def cache_hit(
    cached: Path, report: dict | None, names: Mapping[str, str] | None = None
) -> AbcCorpusDict | None:
    """The corpus of the cache folder ``cached``, with the warnings of the load that wrote it
    logged again, or None when there is none (a damaged one is deleted, to be built again);
    removes the folders of writers that died first. ``names`` (``{source as read: as this
    call's messages name it}``) respells the sources in those warnings and in the report's
    ``skipped_at`` (and each split's ``info.description``, set anew in memory), which the
    load that wrote them named its own way (`_respeller`)."""
    remove_dead_writers(cached.parent, f"{cached.name}.tmp-")
    if (cached / "abc_corpus_report.json").is_file():
        loaded = load_cached(cached, report)
        if loaded is not None:
            _mark_used(cached)  # the last use that prune_corpus_cache reads
            warnings, then = _read_warnings(cached)
            respell = _respeller(then, names or {})
            _respell_report(loaded.report, respell)
            for split in loaded.values():  # in memory: no datasets fingerprint changes
                split.info.description = corpus_description(loaded.report)
            for record in warnings:  # a cache hit says what the first load said
                logging.getLogger(record["logger"]).log(
                    record["level"], "%s", respell(record["message"])
                )
            return loaded
        remove_directory(cached)  # damaged: built again below
    return None


def write_aside(
    dataset: AbcCorpusDict,
    cached: Path,
    report: dict,
    warnings: list[dict[str, Any]],
    names: Mapping[str, str] | None = None,
) -> Path:
    """Save ``dataset``, its ``report`` and the ``warnings`` of its load, with ``names``
    (``{source as read: as those messages name it}``, for a hit to respell them), into
    ``<cached>.tmp-<pid>.<start>@<host>`` (`own_writer_name`), the folder the caller then
    renames to ``cached``
    (`publish_directory`); returns that folder. A save that fails (a full disk, Ctrl-C) deletes
    it before the error is raised; what of it cannot be is named in a warning and left."""
    tmp = cached.with_name(own_writer_name(f"{cached.name}.tmp-"))
    kept = {"format": _WARNINGS_FORMAT, "names": dict(names or {}), "warnings": warnings}
    try:
        dataset.save_to_disk(str(tmp))  # an empty split as one shard too: it loads back
        (tmp / "abc_corpus_report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        (tmp / _WARNINGS_FILE).write_text(json.dumps(kept, indent=1), encoding="utf-8")
    except BaseException:
        discard_folder(tmp)
        raise
    return tmp


def _mark_used(path: Path) -> None:
    """Record a hit on the cache folder ``path`` (its report file's mtime, which
    `prune_corpus_cache` reads); a read-only cache is still read, its use not recorded."""
    try:
        os.utime(path / _USED_FILE)
    except OSError as err:
        logger.debug("ABC corpus cache %s: its use is not recorded (%s)", path, err)


#: The warnings of the load that filled a cache folder, given again on each cache hit.
_WARNINGS_FILE = "abc_corpus_warnings.json"
#: Its format: 2, ``{"format", "names", "warnings"}`` (`write_aside`); 1, a bare list of the
#: warnings, given again as written (a cache of older code: its key is another, never hit).
_WARNINGS_FORMAT = 2


def _read_warnings(path: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The warnings of the load that filled the cache folder ``path`` (skipped tunes, tunes
    without ``X:``, an empty split...), and how they name the sources (empty: as written)."""
    try:
        kept = json.loads((path / _WARNINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no such file: a cache written before warnings were kept
        return [], {}
    if isinstance(kept, list):  # format 1
        return kept, {}
    return kept["warnings"], kept["names"]


def _respeller(then: Mapping[str, str], now: Mapping[str, str]) -> Callable[[str], str]:
    """A function that names the sources in a message as ``now`` names them where ``then``
    did (both ``{source as read: name}``; a source ``now`` lacks keeps its name): a cached
    load's warnings, spelled as the call that filled the cache typed its paths, in this call's
    spelling (`train.py` reads ``data/x.abc`` typed in one folder and ``../p/data/x.abc`` in
    another as one absolute path, one cache entry).

    A name is replaced where it stands as a whole path, as messages write one: after the start,
    a space or ``([{'",;``, and before the end, a space, ``:,;)]}'"`` or a path separator (a
    folder's file is named as the folder joined with its path in it). Longer names first, so
    a folder's name does not cut into a file's under it.

    >>> respell = _respeller({"/w/a.abc": "a.abc", "/w/d": "d"}, {"/w/a.abc": "../w/a.abc"})
    >>> respell("a.abc: 2 tunes share X:; no ABC tunes found in d/e.abc (empty file)")
    '../w/a.abc: 2 tunes share X:; no ABC tunes found in d/e.abc (empty file)'
    >>> respell("data.abc line 3, a.abc.bak, a.abc line 4")
    'data.abc line 3, a.abc.bak, ../w/a.abc line 4'
    """
    changed: dict[str, str] = {}
    for source, old in then.items():
        new = now.get(source, old)
        if old.rstrip(_SEPARATORS) and old != new:  # (not the root folder, "/")
            changed.setdefault(old.rstrip(_SEPARATORS), new.rstrip(_SEPARATORS) or new)
    if not changed:
        return str
    names = "|".join(re.escape(old) for old in sorted(changed, key=len, reverse=True))
    seps = re.escape(_SEPARATORS)
    pattern = re.compile(rf"(?<![^\s(\[{{'\",;])({names})(?=$|[\s:,;)\]}}'\"{seps}])")
    return functools.partial(pattern.sub, lambda found: changed[found[1]])


#: The characters that separate a folder's name from its files' in a path.
_SEPARATORS = os.sep + (os.altsep or "")


def _respell_report(report: dict[str, Any], respell: Callable[[str], str]) -> None:
    """Name the sources in ``report``'s ``skipped_at`` places by ``respell``, in place."""
    places = report.get("skipped_at", {})
    for reason in places:
        places[reason] = [respell(place) for place in places[reason]]
