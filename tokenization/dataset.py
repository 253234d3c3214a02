"""The tokenized view of a corpus `DatasetDict`: batched, parallel `.map`, cached as Arrow."""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from datasets import (
    Array2D,
    Dataset,
    DatasetDict,
    Features,
    IterableDataset,
    IterableDatasetDict,
    Sequence,
    Value,
)

from .abc_parser import AbcParseError
from .capped_warnings import counted
from .encoded_tune import EncodedTune
from .features import FEATURE_NAMES
from .file_cleanup import discard_folder
from .tokenization_abc import AbcTokenizer
from .vocabulary import UNK_ID
from .writer_folders import dead_writer_folders, own_writer_name

__all__ = [
    "TOKENIZED_FEATURES",
    "column_array",
    "column_values",
    "datasets_bars_on_terminal_only",
    "remove_dead_writers",
    "tokenization_code_hash",
    "tokenize_batch",
    "tokenize_dataset",
    "unknown_counts",
    "unknown_message",
]

logger = logging.getLogger(__name__)

#: Columns added by `tokenize_dataset` (ids fit in int16: every vocabulary is far below 32k).
TOKENIZED_FEATURES = {
    "input_ids": Array2D(shape=(None, len(FEATURE_NAMES)), dtype="int16"),
    "measure_numbers": Sequence(Value("int32")),
    "length": Value("int32"),
    "token_error": Value("string"),
}


def _encode(text: Any, tokenizer: AbcTokenizer) -> tuple[EncodedTune | None, str]:
    """``text`` encoded, or None and why it cannot be: the reader's error, or that the field
    is not text (a missing value: `encode_tune`'s TypeError would end the whole ``map``)."""
    if not isinstance(text, str):
        return None, f"the 'abc' field holds {text!r:.40}, not ABC text"
    try:
        return tokenizer.encode_tune(text), ""
    except AbcParseError as err:
        return None, str(err)


def tokenize_batch(batch: dict[str, list], tokenizer: AbcTokenizer) -> dict[str, list]:
    """`datasets.map` function: encode the ``abc`` column; unreadable tunes get an empty row
    list and their error text in ``token_error`` (filtered and counted by `tokenize_dataset`),
    as does a row whose ``abc`` is not text (a missing value, ``None``)."""
    out: dict[str, list[Any]] = {
        "input_ids": [],
        "measure_numbers": [],
        "length": [],
        "token_error": [],
    }
    empty = np.zeros((0, len(FEATURE_NAMES)), dtype=np.int16)
    for text in batch["abc"]:
        enc, error = _encode(text, tokenizer)
        if enc is None:
            out["input_ids"].append(empty)
            out["measure_numbers"].append(np.zeros(0, dtype=np.int32))
            out["length"].append(0)
            out["token_error"].append(error)
            continue
        out["input_ids"].append(enc.input_ids.astype(np.int16))
        out["measure_numbers"].append(enc.measure_numbers.astype(np.int32))
        out["length"].append(len(enc.input_ids))
        out["token_error"].append("")
    return out


def column_values(ds: Dataset, name: str) -> list[Any]:
    """Every value of column ``name`` of ``ds``, in row order, as a Python list.

    Read from the Arrow table in one go: in datasets 5, ``ds[name]`` is a lazy `Column` that
    formats one row at a time (thesession's 18k ABC texts: 0.14 s against 6 ms), and indexing
    it (``ds[name][i]``) selects the column again for every index. An indices mapping (left by
    ``select``, ``shuffle``, ``filter``) is applied: ``column_values(ds.select([2, 0]), "abc")``
    gives the texts of rows 2 and 0; and ``ds``'s own format does not matter.
    """
    return ds.with_format("arrow")[name].to_pylist()


def column_array(ds: Dataset, name: str) -> np.ndarray:
    """Column ``name`` of ``ds`` (a column of numbers, such as ``length``) as a NumPy array, in
    row order, in the column's own dtype (``int32`` for ``length``); read as `column_values`
    reads (an indices mapping applied, in one go)."""
    return ds.with_format("arrow")[name].to_numpy()


def _tokenizer_hash(tokenizer: AbcTokenizer) -> str:
    return hashlib.sha1(tokenizer.to_json().encode()).hexdigest()[:12]


@functools.cache
def tokenization_code_hash() -> str:
    """Hash of the source of every module of the `tokenization` package (reader, features,
    vocabulary, tokenizer): part of every cache key of tokenized data and vocabularies, so that
    changed code never reads rows that older code wrote."""
    folder = Path(__file__).parent
    digest = hashlib.sha1()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


#: The fewest tunes a split needs for `tokenize_dataset` to start ``num_proc`` worker processes;
#: a smaller split is tokenized in this process. Measured on a 2-core Linux machine (music21's
#: books, tunes from their train split, best of 2-3 alternated runs, a loaded machine): with
#: fork, 2 workers took 1.4x the time of one at 20 tunes and 1.0-1.1x at 200 and 2,000; with
#: spawn (macOS, Windows), where each worker imports torch, transformers and datasets again,
#: 2 workers took 62 s against 0.08 s in this process at 20 tunes, and 81 s against 8.8 s at
#: 2,000. (datasets 5 starts a pool even for ``num_proc=1``: one process means None here.)
MIN_TUNES_FOR_WORKERS = 1000


@contextlib.contextmanager
def datasets_bars_on_terminal_only() -> Iterator[None]:
    """Within the block, datasets draws its progress bars (``Tokenizing ABC``, ``Saving the
    dataset``) only where stderr is a terminal: in a log (``2>train.log``) they were
    carriage-return redraws. datasets' switch is global: its state before is restored after.

    >>> import datasets
    >>> before = datasets.is_progress_bar_enabled()
    >>> with datasets_bars_on_terminal_only():
    ...     pass
    >>> datasets.is_progress_bar_enabled() == before
    True
    """
    import datasets

    isatty = getattr(sys.stderr, "isatty", None)
    if (isatty and isatty()) or not datasets.is_progress_bar_enabled():
        yield
        return
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        datasets.enable_progress_bars()


def _processes(n_tunes: int, num_proc: int | None) -> int | None:
    """The ``num_proc`` to give `Dataset.map` for a split of ``n_tunes``: None (this process)
    when fewer than `MIN_TUNES_FOR_WORKERS` tunes or a single process is asked for, else
    ``num_proc``.

    >>> _processes(40, 2), _processes(5000, 2), _processes(5000, 1)
    (None, 2, None)
    """
    if num_proc is None or num_proc <= 1 or n_tunes < MIN_TUNES_FOR_WORKERS:
        return None
    return num_proc


def _map_split(
    ds: Dataset,
    tokenizer: AbcTokenizer,
    num_proc: int | None,
    cache_file: str | None,
    reuse: bool = True,
) -> Dataset:
    features = Features({**ds.features, **TOKENIZED_FEATURES})
    if len(ds) == 0:  # `map` adds no columns to an empty split: build them
        return Dataset.from_dict({name: [] for name in features}, features=features)
    processes = _processes(len(ds), num_proc)
    if processes is None and num_proc is not None and num_proc > 1:
        logger.debug(
            "tokenize: %d tunes, tokenized in this process, not num_proc=%s (fewer than %d)",
            len(ds),
            num_proc,
            MIN_TUNES_FOR_WORKERS,
        )
    with datasets_bars_on_terminal_only():
        return _map_tokenize(ds, tokenizer, processes, features, cache_file, reuse)


def _map_tokenize(
    ds: Dataset,
    tokenizer: AbcTokenizer,
    processes: int | None,
    features: Features,
    cache_file: str | None,
    reuse: bool,
) -> Dataset:
    """`tokenize_batch` mapped over ``ds`` (see `_map_split`)."""
    return ds.map(
        tokenize_batch,
        batched=True,
        batch_size=256,
        num_proc=processes,
        fn_kwargs={"tokenizer": tokenizer},
        features=features,
        cache_file_name=cache_file,
        load_from_cache_file=cache_file is not None and reuse,
        # without cache_dir, no file: datasets would otherwise write one beside the corpus's
        # own Arrow files (152 MB for thesession) on every call, one per num_proc, and never
        # read it back (load_from_cache_file is off); in memory it is about 300 MB
        keep_in_memory=cache_file is None,
        desc="Tokenizing ABC",
    )


#: The name `datasets.map` gives each process's file, after the stem of ``cache_file_name``.
_SHARD_SUFFIX = re.compile(r"_(\d{5})_of_(\d{5})")


def _cache_files(cache_file: str) -> list[str]:
    """The files of ``cache_file`` that exist: itself, and the shards `datasets.map` writes with
    ``num_proc`` N > 1 (``<stem>_0000i_of_0000N.arrow``), any N.

    >>> _cache_files("no/such/tokenized-train-k.arrow")
    []
    """
    stem, ext = os.path.splitext(cache_file)
    shards = sorted(
        path
        for path in glob.glob(f"{glob.escape(stem)}_*{ext}")
        if _SHARD_SUFFIX.fullmatch(path[len(stem) : len(path) - len(ext)])
    )
    return [cache_file] * os.path.isfile(cache_file) + shards


def _complete_sets(cache_file: str) -> list[str]:
    """The files of every complete copy of ``cache_file`` (`_cache_files`): the file itself, and
    all N shards of each N of which none is missing. A map that finds only some shards of an N
    tokenizes the missing ones itself, writing in the cache folder."""
    files = set(_cache_files(cache_file))
    stem, ext = os.path.splitext(cache_file)
    counts = set()
    for path in files:
        found = _SHARD_SUFFIX.fullmatch(path[len(stem) : len(path) - len(ext)])
        if found:
            counts.add(int(found.group(2)))
    complete = [cache_file] if cache_file in files else []
    for n in sorted(counts):
        shards = [f"{stem}_{rank:05d}_of_{n:05d}{ext}" for rank in range(n)]
        complete += shards if files.issuperset(shards) else []
    return complete


#: The folder a process tokenizes into beside the cache files, ``tokenize.tmp-<pid>.<start>@
#: <host>`` (`writer_folders.own_writer_name`), before it moves them in: `datasets.map` writes
#: each file under a temporary name (``tmpXXXXXXXX``) in the folder of its final name, which a
#: killed run left in the cache folder for ever.
_WRITER_FOLDER = "tokenize.tmp-"


def remove_dead_writers(folder: str | os.PathLike, prefix: str) -> None:
    """Delete the folders ``<folder>/<prefix><pid>.<start>@<host>`` (or an earlier version's
    ``<prefix><pid>``) of writers that died (killed mid-write): this machine's whose process is
    gone, another machine's only once idle for a day (`writer_folders.dead_writer_folders`).
    The tokenized cache's `_WRITER_FOLDER` folders and the corpus cache's and vocabulary's
    ``<cache>.tmp-...`` folders are cleared with it. What of one cannot be deleted is named in
    a warning and left (`file_cleanup.discard_folder`).

    >>> remove_dead_writers("no/such/folder", _WRITER_FOLDER)  # nothing there: nothing done
    """
    for path in dead_writer_folders(folder, prefix):
        discard_folder(path)  # one that will not go is named in a warning


def _write_aside(
    ds: Dataset, tokenizer: AbcTokenizer, num_proc: int | None, cache_file: str
) -> None:
    """Tokenize ``ds`` into this process's `_WRITER_FOLDER` beside ``cache_file``, then move the
    files written (one per process of ``num_proc``) into the cache folder. The folder is deleted
    when it ends, failed or not; what of it cannot be is named in a warning and left."""
    folder, name = os.path.split(cache_file)
    aside = os.path.join(folder, own_writer_name(_WRITER_FOLDER))
    discard_folder(aside)  # this process's own, left over; one that will not go is named
    os.makedirs(aside)
    try:
        _map_split(ds, tokenizer, num_proc, os.path.join(aside, name), reuse=False)
        for written in _cache_files(os.path.join(aside, name)):
            os.replace(written, os.path.join(folder, os.path.basename(written)))
    finally:
        discard_folder(aside)


def _read_cache(
    ds: Dataset, tokenizer: AbcTokenizer, num_proc: int | None, cache_file: str
) -> tuple[Dataset | None, str]:
    """The tokenized split read from its cache files, or None and what is wrong with them
    (unreadable, or fewer tunes than the split: a truncated copy)."""
    try:
        mapped = _map_split(ds, tokenizer, num_proc, cache_file)
    except (OSError, pa.ArrowException) as err:
        return None, f"cannot be read ({type(err).__name__}: {err})"
    if len(mapped) != len(ds):
        return None, f"holds {len(mapped)} of {len(ds)} tunes"
    return mapped, ""


def _cached_map(
    name: str, ds: Dataset, tokenizer: AbcTokenizer, num_proc: int | None, cache_file: str | None
) -> Dataset:
    """`_map_split`, through the cache files of ``cache_file`` when given: read when a complete
    copy is there, else written aside (`_write_aside`) and then read; a damaged copy
    (`_read_cache`) is named in a warning with its files (one per process of the ``num_proc``
    that wrote them), removed and tokenized again. Writers killed before are cleared first."""
    if cache_file is None or len(ds) == 0:
        return _map_split(ds, tokenizer, num_proc, cache_file)
    remove_dead_writers(os.path.dirname(cache_file), _WRITER_FOLDER)
    found = _complete_sets(cache_file)
    if found:
        mapped, problem = _read_cache(ds, tokenizer, num_proc, cache_file)
        if mapped is not None:
            _mark_used(found)  # the last use that modeling_irish's prune_caches reads
            return mapped
        files = ", ".join(found)
        logger.warning("tokenize %s: the cached %s %s; tokenizing again", name, files, problem)
        for path in found:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
    _write_aside(ds, tokenizer, num_proc, cache_file)
    return _map_split(ds, tokenizer, num_proc, cache_file)


def _mark_used(files: list[str]) -> None:
    """Record a hit on the cache ``files`` (their mtime); a read-only cache is still read, its
    use not recorded."""
    for path in files:
        try:
            os.utime(path)
        except OSError as err:
            logger.debug("tokenized cache %s: its use is not recorded (%s)", path, err)


#: How many dropped tunes the report names per reason (``dropped_at``), as the corpus loader's
#: ``skipped_at`` does.
_DROPS_SHOWN = 5


def _dropped_at(
    mapped: Dataset, unreadable: np.ndarray, too_long: np.ndarray, max_length: int | None
) -> dict[str, list[str]]:
    """The first `_DROPS_SHOWN` tunes dropped for each reason that dropped any, as ``"index 1:
    why"`` (the index in the split): the reader's error for an unreadable tune (it names the
    tune, its line and column), the title (when there is a ``title`` column) and the row count
    for a tune longer than ``max_length``."""
    places: dict[str, list[str]] = {}
    unread = np.flatnonzero(unreadable)[:_DROPS_SHOWN].tolist()
    if unread:
        errors = mapped.select(unread)["token_error"]
        places["unreadable"] = [f"index {i}: {error}" for i, error in zip(unread, errors)]
    long = np.flatnonzero(too_long)[:_DROPS_SHOWN].tolist()
    if long:
        rows = mapped.select(long)
        titles = rows["title"] if "title" in rows.column_names else [""] * len(long)
        places["too_long"] = [
            f"index {i}: {f'{title}: ' if title else ''}{n} rows, over max_length={max_length}"
            for i, title, n in zip(long, titles, rows["length"])
        ]
    return places


def unknown_counts(
    mapped: Dataset, counted_tunes: np.ndarray, tokenizer: AbcTokenizer | None = None
) -> dict[str, dict[str, Any]]:
    """Per feature whose vocabulary lacks some of the values of ``mapped``'s tunes (read as
    ``<unk>``), in `FEATURE_NAMES` order: ``rows``, the rows holding one (a header value is on
    every row of its tune), and ``tunes``, the tunes holding one; only the tunes where
    ``counted_tunes`` (a bool per tune of ``mapped``) is true count. Read from the ``input_ids``
    column (ids equal to ``<unk>``'s), vectorised: the distinct values are gone with the ids.
    With ``tokenizer`` (the one that mapped them), also ``first``: the first
    `_UNKNOWN_VALUES_SHOWN` distinct values, in the order the tunes give them, read back from
    the ``abc`` of its first `_TUNES_READ_FOR_VALUES` tunes holding one (`_first_unknown`:
    encoding a few tunes again costs far less than carrying every value through ``map``), and
    ``more``: whether there may be others (more distinct values, or tunes not read).

    >>> tok = AbcTokenizer.train(["X:1\\nM:2/4\\nL:1/8\\nK:G\\nGA Bd|"])
    >>> ds = tokenize_dataset(Dataset.from_dict({"abc": ["X:2\\nM:2/4\\nL:1/8\\nK:G\\nG3A|"]}), tok)
    >>> unknown_counts(ds, np.ones(1, dtype=bool))["dur"]
    {'rows': 1, 'tunes': 1}
    >>> unknown_counts(ds, np.ones(1, dtype=bool), tok)["dur"]
    {'rows': 1, 'tunes': 1, 'first': ['3'], 'more': False}
    """
    width = len(FEATURE_NAMES)
    rows, tunes = np.zeros(width, dtype=np.int64), np.zeros(width, dtype=np.int64)
    holding: list[list[int]] = [[] for _ in range(width)]  # per column, its first such tunes
    start = 0  # the index in ``mapped`` of the chunk's first tune
    for chunk in mapped.with_format("arrow")["input_ids"].chunks:
        lists = chunk.storage if isinstance(chunk, pa.ExtensionArray) else chunk
        ids = lists.flatten().flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
        ends = np.cumsum(lists.value_lengths().to_numpy(zero_copy_only=False))
        at_row, at_column = np.nonzero(ids == UNK_ID)
        tune = np.searchsorted(ends, at_row, side="right")
        kept = counted_tunes[start + tune]
        tune, at_column = tune[kept], at_column[kept]
        rows += np.bincount(at_column, minlength=width)
        pairs = np.unique(tune * width + at_column)  # (tune, column), by tune
        tunes += np.bincount(pairs % width, minlength=width)
        _hold_first(holding, start + pairs // width, pairs % width)
        start += len(chunk)
    counts: dict[str, dict[str, Any]] = {
        name: {"rows": int(rows[j]), "tunes": int(tunes[j])}
        for j, name in enumerate(FEATURE_NAMES)
        if rows[j]
    }
    if tokenizer is not None:
        read_again = sorted(set().union(*holding))
        for name, (values, read) in _first_unknown(mapped, tokenizer, read_again).items():
            more = len(values) > _UNKNOWN_VALUES_SHOWN or read < counts[name]["tunes"]
            counts[name].update(first=values[:_UNKNOWN_VALUES_SHOWN], more=more)
    return counts


#: How many distinct values of a feature the vocabulary lacks `unknown_counts` names (as
#: `evaluate-lm` does), and from how many of the tunes holding one it reads them (per feature:
#: a few hundred tunes encoded again at most, however large the split).
_UNKNOWN_VALUES_SHOWN, _TUNES_READ_FOR_VALUES = 5, 10


def _hold_first(holding: list[list[int]], tunes: np.ndarray, columns: np.ndarray) -> None:
    """Add to ``holding[column]`` the ``tunes`` (in order) where ``columns`` is that column,
    up to `_TUNES_READ_FOR_VALUES` per column."""
    for column in np.unique(columns).tolist():
        room = _TUNES_READ_FOR_VALUES - len(holding[column])
        if room > 0:
            holding[column] += tunes[columns == column][:room].tolist()


def _first_unknown(
    mapped: Dataset, tokenizer: AbcTokenizer, tunes: list[int]
) -> dict[str, tuple[list[str], int]]:
    """Per feature, the distinct values read as ``<unk>`` in the tunes ``tunes`` of ``mapped``
    (indices, in order), encoded again from their ``abc`` (the ids keep no value:
    `EncodedTune.unknown_values`), in order, and how many of those tunes hold one."""
    found: dict[str, dict[str, None]] = {}
    read: Counter[str] = Counter()
    for i in tunes:
        enc, _ = _encode(mapped[i]["abc"], tokenizer)
        for name, values in (enc.unknown_values() if enc is not None else {}).items():
            found.setdefault(name, {}).update(dict.fromkeys(values))
            read[name] += 1
    return {name: (list(values), read[name]) for name, values in found.items()}


#: How many features with values outside the vocabulary a split's warning names.
_UNKNOWN_FEATURES_SHOWN = 5


def unknown_message(name: str, unknown: dict[str, dict[str, Any]]) -> str:
    """The warning for split ``name``'s values read as ``<unk>`` (`unknown_counts`): the first
    `_UNKNOWN_FEATURES_SHOWN` features, each with its first values where the counts hold them
    (``first``, then ``...`` where there may be ``more``), then how many more features.

    >>> first = {"first": ["7/2", "1/2"], "more": False}
    >>> unknown_message("validation", {"dur": {"rows": 4, "tunes": 1, **first}})
    "tokenize validation: values not in the vocabulary of feature 'dur' (first: 7/2, 1/2) in 4 rows of 1 tune (read and scored as <unk>)"
    """  # noqa: E501
    said = []
    for feature, count in list(unknown.items())[:_UNKNOWN_FEATURES_SHOWN]:
        scored = "read and scored as <unk>" if feature in ("main", "dur") else "read as <unk>"
        said.append(
            f"{feature!r}{_first_named(count)} in {counted(count['rows'], 'row')} of "
            f"{counted(count['tunes'], 'tune')} ({scored})"
        )
    more = len(unknown) - _UNKNOWN_FEATURES_SHOWN
    tail = f", and {counted(more, 'more feature')} (tokenize_report)" if more > 0 else ""
    return f"tokenize {name}: values not in the vocabulary of feature {', '.join(said)}{tail}"


def _first_named(count: dict[str, Any]) -> str:
    """`` (first: 7/2, 1/2)`` of a feature's counts (`unknown_counts`), with ``, ...`` where
    there may be more values than named; empty without ``first``."""
    first = count.get("first")
    if not first:
        return ""
    return f" (first: {', '.join(first)}{', ...' if count.get('more') else ''})"


def _check_inputs(corpus: Any, max_length: Any) -> None:
    """Refuse what `tokenize_dataset` cannot tokenize, before any ``map``: a corpus that is not
    a `Dataset` or `DatasetDict`, a split without an ``abc`` column, a ``max_length`` that is
    not a positive int (0 kept every tune, -1 dropped them all)."""
    if not isinstance(corpus, (Dataset, DatasetDict)):
        hint = (
            " (a streamed corpus: load it without streaming=True, or Dataset.from_generator)"
            if isinstance(corpus, (IterableDataset, IterableDatasetDict))
            else " (a list of ABC texts: Dataset.from_dict({'abc': texts}))"
        )
        raise TypeError(
            f"tokenize_dataset: corpus must be a datasets.Dataset or DatasetDict, not "
            f"{type(corpus).__name__}{hint}"
        )
    splits = {"data": corpus} if isinstance(corpus, Dataset) else corpus
    for name, ds in splits.items():
        if "abc" not in ds.column_names:
            where = "the corpus" if isinstance(corpus, Dataset) else f"split {name!r}"
            raise ValueError(
                f"tokenize_dataset: {where} has no 'abc' column (its columns: "
                f"{ds.column_names}); the ABC text of each tune is read from 'abc'"
            )
    if max_length is not None and (
        isinstance(max_length, bool)
        or not isinstance(max_length, (int, np.integer))
        or max_length < 1
    ):
        raise ValueError(
            f"tokenize_dataset: max_length must be a positive int (rows) or None, got "
            f"{max_length!r}"
        )


def tokenize_dataset(
    corpus: DatasetDict | Dataset,
    tokenizer: AbcTokenizer,
    *,
    num_proc: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    max_length: int | None = None,
) -> DatasetDict | Dataset:
    """Add ``input_ids`` ``(n_rows, 20)``, ``measure_numbers``, ``length`` and ``token_error``
    (empty for the tunes kept) to every tune.

    Tunes the tokenizer cannot read (a missing ``abc`` value, ``None``, among them) are removed
    and counted (logged, and stored in the returned
    object's ``tokenize_report``); ``max_length`` drops tunes longer than that many rows (also
    counted). Per split, the report is ``{"tunes", "unreadable", "too_long", "dropped_at",
    "unknown"}``; ``dropped_at`` names the first 5 tunes dropped for each reason, as the corpus
    loader's ``skipped_at`` does: ``{"unreadable": ["index 1: The Kesh: line 7, column 3: ..."],
    "too_long": ["index 4: Cooley's: 530 rows, over max_length=512"]}``. ``unknown`` counts,
    per feature, the rows and tunes kept whose values the vocabulary lacks (read as ``<unk>``:
    a validation tune with a length no training tune has), with the first values and whether
    there may be more, ``{"dur": {"rows": 4, "tunes": 1, "first": ["7/2"], "more": False}}``,
    ``{}`` when none (`unknown_counts`); a split with any is one warning that names them.

    ``num_proc`` worker processes tokenize each split of at least `MIN_TUNES_FOR_WORKERS`
    (1,000) tunes; a smaller one, where starting workers costs more than it saves, is tokenized
    in this process, as is every split when ``num_proc`` is None or 1.

    With ``cache_dir`` the result is cached as Arrow files keyed by the data fingerprint, the
    vocabulary and the tokenization code (`tokenization_code_hash`), so a second call is a
    cache hit and a changed tokenizer is not. Without ``cache_dir`` no file is written: the
    result is kept in memory (thesession: about 300 MB), not beside the corpus's own Arrow
    files, which ``datasets`` would otherwise do on every call for a corpus loaded from disk.

    A corpus that is not a `Dataset` or `DatasetDict` (a list, a streamed `IterableDataset`) is
    refused with a `TypeError`, and a split without an ``abc`` column or a ``max_length`` below
    1 with a `ValueError`, before anything is tokenized.

    Example:
        >>> from modeling_irish.abc_corpus import load_abc_corpus
        >>> corpus = load_abc_corpus("tunes.abc", split_ratios=(0.5, 0.25, 0.25))
        >>> tok = AbcTokenizer.train(corpus["train"]["abc"])
        >>> tokenized = tokenize_dataset(corpus, tok, num_proc=2)
        >>> tokenized.tokenize_report["train"]
        {'tunes': 4, 'unreadable': 0, 'too_long': 0, 'dropped_at': {}, 'unknown': {}}
        >>> len(tokenized["train"][0]["input_ids"][0])  # the 20 features of a row
        20
    """
    _check_inputs(corpus, max_length)
    single = isinstance(corpus, Dataset)
    splits = DatasetDict({"data": corpus}) if single else corpus
    vocab_hash = _tokenizer_hash(tokenizer)
    report: dict[str, dict[str, Any]] = {}
    out = DatasetDict()
    for name, ds in splits.items():
        cache_file = None
        if cache_dir is not None:
            os.makedirs(cache_dir, exist_ok=True)
            key = f"{ds._fingerprint}-{vocab_hash}-{tokenization_code_hash()}"
            cache_file = os.path.join(str(cache_dir), f"tokenized-{name}-{key}.arrow")
        mapped = _cached_map(name, ds, tokenizer, num_proc, cache_file)
        lengths = column_array(mapped, "length")
        keep = lengths > 0
        too_long = keep & (lengths > max_length) if max_length else np.zeros_like(keep)
        report[name] = {
            "tunes": len(mapped),
            "unreadable": int((~keep).sum()),
            "too_long": int(too_long.sum()),
            "dropped_at": _dropped_at(mapped, ~keep, too_long, max_length),
            "unknown": unknown_counts(mapped, keep & ~too_long, tokenizer),
        }
        selected = np.flatnonzero(keep & ~too_long)
        out[name] = mapped if len(selected) == len(mapped) else mapped.select(selected)
        if report[name]["unreadable"] or report[name]["too_long"]:
            drops = {k: v for k, v in report[name].items() if k != "unknown"}
            logger.warning("tokenize %s: %s", name, drops)
        if report[name]["unknown"]:
            logger.warning("%s", unknown_message(name, report[name]["unknown"]))
    result = out["data"] if single else out
    result.tokenize_report = report
    return result
