"""The on-disk side of `modeling_irish.abc_corpus.load_abc_corpus`: the `AbcCorpusDict` it
returns (a ``DatasetDict`` whose empty splits save and load back), and its cache
(``cache_dir=``): its key (the sources' bytes, the parameters, the reader's code), the folder
written aside, a damaged or dead writer's folder cleared, and the warnings of the load that
wrote it, given again on a hit."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from datasets import Dataset, DatasetDict, load_from_disk

from tokenization.dataset import remove_dead_writers
from tokenization.writer_folders import own_writer_name

from .abc_sources import SourceLike, source_files
from .corpus_splits import SPLIT_NAMES
from .file_utils import discard_folder, remove_directory

__all__ = [
    "AbcCorpusDict",
    "cache_hit",
    "cache_fingerprint",
    "load_cached",
    "piped_sources",
    "write_aside",
]  # and the cache helpers of `abc_corpus`, imported there by name

# the loader's logger: the cache's messages keep the name its users filter on
logger = logging.getLogger("modeling_irish.abc_corpus")

_LOADER_VERSION = "2"  # 2: duplicates must also sound alike (K:, L:)


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
        one or the other)."""
        if max_shard_size is None:
            empty = {name: 1 for name, split in self.items() if len(split) == 0}
            num_shards = {**empty, **(num_shards or {})}
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
    must not hit a stale cache), the parameters and the code."""
    parts: list[Any] = [_LOADER_VERSION, params]
    for source in sources:
        paths = source_files(source)
        parts += [(str(p.resolve()), hashlib.sha1(p.read_bytes()).hexdigest()) for p in paths]
    import tokenization.abc_bars as bars
    import tokenization.abc_body as body
    import tokenization.abc_field_lines as field_lines
    import tokenization.abc_header as header
    import tokenization.abc_header_directives as header_directives
    import tokenization.abc_lexer as lexer
    import tokenization.abc_notes as notes
    import tokenization.abc_parser as parser
    import tokenization.abc_parser_state as parser_state
    import tokenization.abc_titles as titles
    import tokenization.abc_tune as tune
    import tokenization.abc_tunebook as tunebook
    import tokenization.bar_check as bar_check
    import tokenization.capped_warnings as capped_warnings
    import tokenization.check as check
    import tokenization.corpus_rows as corpus_rows
    import tokenization.file_bytes as file_bytes
    import tokenization.keys as keys
    import tokenization.measure as measure
    import tokenization.raw_tune as raw_tune

    from . import abc_corpus, abc_sources, corpus_keys, corpus_splits, session_dump

    # the reader (check: its decode_abc; file_bytes: decompression; session_dump: a dump's rows),
    # the bar rule of `require_bars_fit` (bar_check, measure), the split and the title and body
    # keys it dedupes and links on (corpus_keys), a tune's row (corpus_rows, raw_tune) and the
    # report's skip reasons (capped_warnings)
    reader: tuple[ModuleType, ...] = (parser, parser_state, body, tune, bars, notes, header)
    reader += (header_directives, titles)
    reader += (tunebook, field_lines, lexer, keys)
    reader += (abc_sources, check, file_bytes, session_dump, bar_check, measure, corpus_splits)
    reader += (corpus_keys, corpus_rows, raw_tune, capped_warnings)
    loader = (abc_corpus.__file__, __file__)  # the loader and this cache: new code
    for code in (*(getattr(m, "__file__", None) for m in reader), *loader):
        if code:  # by content: a copy that keeps old mtimes (cp -p, rsync -a) is still new code
            parts.append(hashlib.sha1(Path(code).read_bytes()).hexdigest())
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


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


def cache_hit(cached: Path, report: dict | None) -> AbcCorpusDict | None:
    """The corpus of the cache folder ``cached``, with the warnings of the load that wrote it
    logged again, or None when there is none (a damaged one is deleted, to be built again);
    removes the folders of writers that died first."""
    remove_dead_writers(cached.parent, f"{cached.name}.tmp-")
    if (cached / "abc_corpus_report.json").is_file():
        loaded = load_cached(cached, report)
        if loaded is not None:
            _replay_warnings(cached)  # a cache hit says what the first load said
            return loaded
        remove_directory(cached)  # damaged: built again below
    return None


def write_aside(
    dataset: AbcCorpusDict, cached: Path, report: dict, warnings: list[dict[str, Any]]
) -> Path:
    """Save ``dataset``, its ``report`` and the ``warnings`` of its load into
    ``<cached>.tmp-<pid>.<start>@<host>`` (`own_writer_name`), the folder the caller then
    renames to ``cached``
    (`publish_directory`); returns that folder. A save that fails (a full disk, Ctrl-C) deletes
    it before the error is raised; what of it cannot be is named in a warning and left."""
    tmp = cached.with_name(own_writer_name(f"{cached.name}.tmp-"))
    try:
        dataset.save_to_disk(str(tmp))  # an empty split as one shard too: it loads back
        (tmp / "abc_corpus_report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        (tmp / _WARNINGS_FILE).write_text(json.dumps(warnings, indent=1), encoding="utf-8")
    except BaseException:
        discard_folder(tmp)
        raise
    return tmp


#: The warnings of the load that filled a cache folder, given again on each cache hit.
_WARNINGS_FILE = "abc_corpus_warnings.json"


def _replay_warnings(path: Path) -> None:
    """Log again the warnings of the load that filled the cache folder ``path`` (skipped tunes,
    tunes without ``X:``, an empty split...): a cache hit warns as the first load did."""
    try:
        records = json.loads((path / _WARNINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no such file: a cache written before warnings were kept
        return
    for record in records:
        logging.getLogger(record["logger"]).log(record["level"], "%s", record["message"])
