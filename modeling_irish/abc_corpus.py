"""Load ABC tunebooks, folders, thesession.org dumps or music21 books as a leak-free DatasetDict."""

from __future__ import annotations

import functools
import hashlib
import logging
import numbers
import os
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetInfo, Features, Value
from tqdm.auto import tqdm

from tokenization.capped_warnings import WarningRecorder, by_kind
from tokenization.corpus_rows import (  # BARS_SKIP_REASON: re-exported, its home until it moved
    BARS_SKIP_REASON,
    X_MAX,
    Parsed,
    ParseOptions,
    beyond_int64,
    parse_raw_noting_sound,
)
from tokenization.worker_pool import WorkerPool

from .abc_corpus_cache import (  # the on-disk cache (its key, cache_fingerprint, tests read here)
    AbcCorpusDict,
    cache_fingerprint,
    cache_hit,
    corpus_description,
    load_cached,
    piped_sources,
    prune_caches,
    prune_corpus_cache,
    write_aside,
)
from .abc_sources import (  # noqa: F401 - re-exported: the loader's public reading API
    MUSIC21_COLLECTIONS,
    RawTune,
    ShownAs,
    SourceLike,
    iter_abc_tunes,
    iter_raw_tunes,
    music21_collection_files,
    no_tune_reason,
    session_tune_text,
    shown_source,
    source_files,
    source_list,
)
from .corpus_keys import body_key, title_key  # noqa: F401 - re-exported: their home until it moved
from .corpus_splits import (  # noqa: F401 - re-exported: the loader's split API
    SPLIT_METHODS,
    SPLIT_NAMES,
    check_ratios,
    check_seed,
    shared_key_components,
    short_splits,
    split_groups,
)
from .file_utils import discard_folder, publish_directory

logger = logging.getLogger(__name__)

__all__ = [
    "BARS_SKIP_REASON",
    "SPLIT_METHODS",
    "AbcCorpusDict",
    "CORPUS_FEATURES",
    "MUSIC21_COLLECTIONS",
    "SPLIT_NAMES",
    "body_key",
    "iter_abc_tunes",
    "load_abc_corpus",
    "music21_collection_files",
    "prune_caches",
    "prune_corpus_cache",
    "session_tune_text",
    "split_groups",
    "title_key",
]

_COLUMNS = {
    **dict.fromkeys(("tune_id", "setting_id", "title", "rhythm", "meter", "mode"), "string"),
    **dict.fromkeys(("key", "abc", "source"), "string"),
    **dict.fromkeys(("x", "n_notes"), "int64"),
}
#: Column names of every split, in order.
CORPUS_FEATURES = tuple(_COLUMNS)


def _features() -> Features:
    return Features({name: Value(dtype) for name, dtype in _COLUMNS.items()})


# ----------------------------------------------------------------------------- parsing

#: Where the corpus summary sends a reader to find each tune skipped
_SKIPPED_WHERE = "; where each skipped tune is: report['skipped_at'], or irish-tune check FILE"
#: How many places of skipped tunes the report keeps per reason (``skipped_at``).
_SKIPS_SHOWN = 5


# ----------------------------------------------------------------------------- grouping and splits


def _link_keys(row: dict[str, Any], body: str) -> set[str]:
    digest = hashlib.sha1(body.encode("utf-8")).hexdigest()[:20]
    keys = {f"id:{row['tune_id']}", f"body:{digest}"}
    normalised = title_key(row["title"])
    if normalised:
        keys.add(f"title:{normalised}")
    if row.get("_incipit"):
        keys.add(f"incipit:{row['_incipit']}")
    return keys


def _split_anchors(rows: list[dict[str, Any]], keys: list[set[str]]) -> list[list[str]]:
    """The keys that place each tune's group under the ``"hash"`` split (`split_groups`'s
    ``anchors``): the tune id of a tune that has one of its own (thesession's, from ``S:``, or
    a music21 book's number), so that a new setting of it moves nothing. A tune whose id comes
    from its file's name (``<file>:<X>``) anchors nothing in a group that has such an id, and
    else its normalised titles, or when untitled its bodies: renaming, moving or copying a
    tunebook, or reading it from a folder, must not move its tunes to another split."""
    roots = shared_key_components(keys)
    named = {root for root, row in zip(roots, rows) if row["_named"]}
    anchors = []
    for row, row_keys, root in zip(rows, keys, roots):
        if row["_named"]:
            anchors.append([f"id:{row['tune_id']}"])
        elif root in named:
            anchors.append([])
        else:
            titles = sorted(key for key in row_keys if key.startswith("title:"))
            anchors.append(titles or sorted(key for key in row_keys if key.startswith("body:")))
    return anchors


def _group_summary(rows: list[dict[str, Any]], keys: list[set[str]]) -> dict[str, Any]:
    """How many groups the links make, the largest's size and its most common title (and how
    many of its tunes have it): what names the cause when a giant group leaves a split short."""
    roots = shared_key_components(keys)
    sizes = Counter(roots)
    root, largest = sizes.most_common(1)[0]
    titles = Counter(
        row["title"] for row, r in zip(rows, roots) if r == root and title_key(row["title"])
    )
    title, titled = titles.most_common(1)[0] if titles else ("", 0)
    return {
        "tunes": len(rows),
        "count": len(sizes),
        "largest": largest,
        "largest_title": title,
        "largest_titled": titled,
    }


def _plural(n: int, noun: str) -> str:
    """``n`` and ``noun``, with an ``s`` unless ``n`` is 1: ``1 tune``, ``2 tunes``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _tunes_asked(share: float) -> str:
    """A split's share of the tunes as a reader would write it: ``500``, ``0.5``, ``0.05``."""
    return f"{share:.2f}".rstrip("0").rstrip(".")


def _short_split_message(
    short: dict[str, int], ratios: list[float], groups: dict, splits: dict[str, int]
) -> str:
    """Why the ``short`` splits (name -> tunes) hold under half of what their ratios ask for,
    in one of three cases: a single tune group (all of it in one split), a corpus so small
    that each short split's share is under 2 tunes (so it came out empty), or else groups too
    large for the split's share (the group count and the largest group, with its most common
    title), or, no two tunes linked, the hashed placement (`_short_cause`)."""
    total, count = groups["tunes"], groups["count"]
    names = " and ".join(short)
    if count == 1:
        held = next(name for name, size in splits.items() if size)
        linked = "" if total == 1 else ", linked by tune id, title or body"
        return (
            f"only 1 tune group ({_plural(total, 'tune')}{linked}): all in {held}; {names} "
            f"{'is' if len(short) == 1 else 'are'} empty"
        )
    asks = {name: ratios[SPLIT_NAMES.index(name)] * total for name in short}
    if all(ask < 2 for ask in asks.values()):  # short is under 1 tune then: all empty
        shares = " and ".join(f"{name} {_tunes_asked(ask)}" for name, ask in asks.items())
        unit = "tune" if list(asks.values()) == [1] else "tunes"
        return (
            f"{_plural(total, 'tune')} {'is' if total == 1 else 'are'} too few for ratios "
            f"{tuple(ratios)}, which give {shares} {unit}: {names} "
            f"{'is' if len(short) == 1 else 'are'} empty"
        )
    return (
        f"the {names} split{'s' if len(short) > 1 else ''} came out short, "
        f"{' and '.join(map(str, short.values()))} "
        f"{'tune' if list(short.values()) == [1] else 'tunes'} where ratios {tuple(ratios)} "
        f"ask for "
        f"{' and '.join(_tunes_asked(ask) for ask in asks.values())}: {_short_cause(groups)}"
    )


def _short_cause(groups: dict) -> str:
    """What left a split short though the corpus is large enough: groups too large for it (the
    largest named), or, with no two tunes linked, the hashed placement, whose sizes follow the
    ratios on average only (the shuffled one cuts lone tunes to within 1 of each share)."""
    total, count, largest = groups["tunes"], groups["count"], groups["largest"]
    if largest == 1:
        return (
            f"{_plural(total, 'tune')}, none linked to another by tune id, title or body, each "
            f"placed by a hash of its keys (split_method='hash'), which follows the ratios on "
            f"average only: another seed or split_method='shuffle' fills it"
        )
    named = f"{groups['largest_titled']} titled {groups['largest_title']!r}"
    return (
        f"{_plural(total, 'tune')} in {_plural(count, 'group')} (a group, the tunes linked by "
        f"tune id, title or body, goes whole to one split), the largest of "
        f"{_plural(largest, 'tune')} ({named if groups['largest_title'] else 'untitled'})"
    )


def _dedupe(
    rows: list[dict[str, Any]], bodies: list[str], sounds: list[str], dedupe: bool
) -> tuple[list[dict[str, Any]], list[set[str]], int]:
    """Drop byte-identical bodies that read as the same notes (keep the first, or the first
    titled copy), merging the dropped copies' ids and titles into the kept row's linking keys.
    Identical bodies that read otherwise (another key signature or unit) are all kept, linked
    into one group by their body."""
    kept: list[dict[str, Any]] = []
    keys: list[set[str]] = []
    first: dict[tuple[str, str], int] = {}
    duplicates = 0
    for row, body, sound in zip(rows, bodies, sounds):
        same = (body, sound)
        j = first.get(same) if dedupe else None
        if j is None:
            first.setdefault(same, len(kept))
            kept.append(row)
            keys.append(_link_keys(row, body))
            continue
        duplicates += 1
        keys[j] |= _link_keys(row, body)
        if not title_key(kept[j]["title"]) and title_key(row["title"]):
            kept[j] = row
    return kept, keys, duplicates


# ----------------------------------------------------------------------------- loading


def _start_method() -> str:
    """How the parsing processes start: forked on Linux (copies of this process, which has the
    reader imported: the quickest start), spawned where there is no fork (Windows) and on macOS,
    where a fork of a process that has loaded torch (its threads, Apple's frameworks) can hang or
    crash, which is why Python spawns there since 3.8. A spawned worker imports the reader only
    (`tokenization.corpus_rows`), not torch; it imports the main script again, as any does."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods() or sys.platform == "darwin":
        return "spawn"
    return "fork"


def _check_count(name: str, value: object, also: str = "") -> int:
    """``value`` of the argument ``name`` as an int; a ``ValueError`` unless it is a whole
    number from 0 (a numpy one too), as `check_seed` takes a seed: a negative one read as 0 or
    1 would hide a slip (``min_notes=-1`` keeps every tune, ``num_proc=-1`` parses in this
    process). ``also``: what else the argument takes, named in the error.

    >>> _check_count("num_proc", -1, "None or ")
    Traceback (most recent call last):
    ...
    ValueError: num_proc must be None or a whole number >= 0, got -1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be {also}a whole number >= 0, got {value!r}")
    return int(value)


def _workers(num_proc: int | None, n_tunes: int) -> int:
    """``num_proc``, or when None: up to 4 forked processes for sources of 4,000+ tunes (1: this
    process parses). None spawns none (Windows, macOS: `_start_method`): each spawned worker
    imports the main script again, and a script that imports the package imports torch."""
    if num_proc is not None:
        return max(1, num_proc)
    if n_tunes < 4000 or _start_method() != "fork":
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _parse_all(
    raws: list[RawTune], sound: list[bool], options: ParseOptions, num_proc: int | None
) -> list[Parsed]:
    """`parse_raw` of each tune, in order, in `_workers` processes (`WorkerPool`, started by
    `_start_method`); in this process where they cannot start, with a warning (`WorkerPool`).
    The rows of the tunes marked in ``sound`` hold their `sound_key` (``"_sound"``), read where
    they are parsed: the dedupe compares those and parses no tune again."""
    import tokenization.abc_parser  # noqa: F401 - imported once here, before any fork

    bar = {"total": len(raws), "desc": "Parsing ABC tunes", "unit": "tune", "disable": None}
    workers = _workers(num_proc, len(raws))
    chunksize = max(32, len(raws) // (workers * 8))  # a few chunks a worker: the work evens out
    work = functools.partial(parse_raw_noting_sound, options=options)
    with WorkerPool(workers, start_method=_start_method(), chunksize=chunksize) as pool:
        return list(tqdm(pool.map(work, list(zip(raws, sound))), **bar))


def _warn_unnumbered(raws: list[RawTune]) -> None:
    """Name the tunes read without an ``X:`` line (blocks with a ``K:`` field and music, which
    `tokenization.abc_header.split_tunebook` reads as tunes): they are counted, not dropped, but
    may be text that was not meant as a tune."""
    bare = [raw for raw in raws if not raw.unreadable and not raw.text.startswith("X:")]
    if bare:
        where = ", ".join(raw.place for raw in bare[:5])
        logger.warning(
            "ABC corpus: read %d tune%s without an X: line (a K: field and music follow): %s%s",
            len(bare), "s" if len(bare) > 1 else "", where, ", ..." if len(bare) > 5 else "",
        )  # fmt: skip


def _warn_oversized_numbers(raws: list[RawTune]) -> None:
    """Name the tunes whose ``X:`` number is beyond the int64 ``x`` column: they are read with
    ``x`` 0 (`tokenization.corpus_rows`), not dropped, and their ids keep the number as written."""
    from tokenization.abc_header import x_number

    big = [
        raw
        for raw in raws
        if not raw.unreadable
        and (found := re.match(r"\d+", x_number(raw.text)))
        and beyond_int64(found.group())
    ]
    if big:
        where = ", ".join(raw.place for raw in big[:5])
        logger.warning(
            "ABC corpus: %d tune%s with an X: number beyond %d, read as x 0: %s%s",
            len(big), "s" if len(big) > 1 else "", X_MAX, where, ", ..." if len(big) > 5 else "",
        )  # fmt: skip


def _shared_incipits(rows: list[dict[str, Any]]) -> int:
    """How many kept tunes share their incipit with a tune of another tune id."""
    ids: dict[str, set[str]] = {}
    for row in rows:
        if row.get("_incipit"):
            ids.setdefault(row["_incipit"], set()).add(row["tune_id"])
    return sum(len(ids.get(row.get("_incipit", ""), ())) > 1 for row in rows)


def _build_rows(
    raws: list[RawTune],
    options: ParseOptions,
    num_proc: int | None,
    dedupe: bool,
    report: dict,
) -> tuple[list[dict[str, Any]], list[set[str]]]:
    rows: list[dict[str, Any]] = []
    bodies: list[str] = []
    sounds: list[str] = []
    reasons: Counter[str] = Counter()
    places: dict[str, list[str]] = {}  # reason -> where its first tunes are
    texts = [body_key(raw.text) for raw in raws]  # what the dedupe and the body links compare
    # a tune whose body text repeats another's is read with its notes' digest, compared instead
    repeated = {body for body, n in Counter(texts).items() if n > 1} if dedupe else set()
    sound = [body in repeated for body in texts]
    for raw, text, (row, reason, error) in zip(
        raws, texts, _parse_all(raws, sound, options, num_proc)
    ):
        if row is None:
            reasons[reason] += 1
            where = f"{raw.place}: {error}" if error else raw.place
            logger.debug("ABC corpus: skipped %s (%s)", where, reason)
            shown = places.setdefault(reason, [])
            if len(shown) < _SKIPS_SHOWN:
                shown.append(where)
        else:
            rows.append(row)
            bodies.append(text)
            sounds.append(row.pop("_sound", ""))
    kept, keys, duplicates = _dedupe(rows, bodies, sounds, dedupe)
    report.update(
        read=len(raws),
        parsed=len(rows),
        skipped=sum(reasons.values()),
        skip_reasons=by_kind(reasons),
        skipped_at={reason: places[reason] for reason in by_kind(reasons)},
        duplicates=duplicates,
        voices_dropped=sum(bool(row.pop("_voices_dropped", False)) for row in rows),
    )
    if options.incipit_notes > 0:
        report["shared_incipits"] = _shared_incipits(kept)
    for row in kept:
        row.pop("_incipit", None)
    return kept, keys


def _make_dataset_dict(
    rows: list[dict[str, Any]], split_of: list[int], report: dict
) -> AbcCorpusDict:
    features = _features()
    description = corpus_description(report)
    splits = {}
    for index, name in enumerate(SPLIT_NAMES):
        chosen = [row for row, split in zip(rows, split_of) if split == index]
        columns = {column: [row[column] for row in chosen] for column in CORPUS_FEATURES}
        info = DatasetInfo(description=description, features=features)
        # from_dict (not from_list) so that an empty split still has its columns
        splits[name] = Dataset.from_dict(columns, features=features, info=info, split=name)
    return AbcCorpusDict(splits, report)


def _read_corpus(
    sources: list[SourceLike],
    options: ParseOptions,
    ratios: list[float],
    seed: int,
    split_method: str,
    num_proc: int | None,
    dedupe: bool,
    report: dict,
    shown: ShownAs | None = None,
) -> AbcCorpusDict:
    """`load_abc_corpus` without its cache: read, parse, dedupe, split and log the report;
    messages name the sources as ``shown`` spells them."""
    raws = list(iter_raw_tunes(sources, unreadable=True, shown=shown))
    names = [shown_source(source, shown) for source in sources]
    if not raws:  # each source with why, as `irish-tune check` says it
        why = ", ".join(
            f"{name} ({no_tune_reason(source)})" for name, source in zip(names, sources)
        )
        raise ValueError(f"no ABC tunes found in {why}")
    _warn_unnumbered(raws)
    _warn_oversized_numbers(raws)
    rows, keys = _build_rows(raws, options, num_proc, dedupe, report)
    if not rows:
        raise ValueError(
            f"no readable ABC tunes in {', '.join(names)}: {report['read']} read, "
            f"{report['skipped']} skipped {report['skip_reasons']}"
        )
    anchors = _split_anchors(rows, keys)
    for row in rows:
        row.pop("_named")
    split_of = split_groups(keys, ratios, seed, split_method, anchors)
    report["splits"] = {name: split_of.count(i) for i, name in enumerate(SPLIT_NAMES)}
    report["groups"] = _group_summary(rows, keys)
    report["short_splits"] = short_splits(split_of, ratios)
    dataset = _make_dataset_dict(rows, split_of, report)
    short = report["short_splits"]
    # a warning when tunes were skipped or a split came out short, so that default logging shows it
    logger.log(
        logging.WARNING if report["skipped"] or short else logging.INFO,
        "ABC corpus: read %d, parsed %d, skipped %d %s, duplicates %d, splits %s, %d read "
        "with their first voice only (voices dropped)%s",
        report["read"], report["parsed"], report["skipped"], report["skip_reasons"],
        report["duplicates"], report["splits"], report["voices_dropped"],
        _SKIPPED_WHERE if report["skipped"] else "",
    )  # fmt: skip
    if short:
        logger.warning(
            "ABC corpus: %s",
            _short_split_message(short, ratios, report["groups"], report["splits"]),
        )
    return dataset


def load_abc_corpus(
    source: SourceLike | Sequence[SourceLike] = None,
    *,
    split_ratios: Sequence[float] = (0.9, 0.05, 0.05),
    seed: int = 0,
    dedupe: bool = True,
    min_notes: int = 8,
    num_proc: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    report: dict | None = None,
    link_incipits: int = 0,
    require_bars_fit: bool = False,
    split_method: str = "shuffle",
    shown: ShownAs | None = None,
) -> AbcCorpusDict:
    """Read ABC tunes into a ``DatasetDict`` (an `AbcCorpusDict`) with leak-free train /
    validation / test splits.

    Args:
        source: a tunebook file; a folder (``*.abc``, recursive); a thesession.org dump
            ``tunes.json`` / ``tunes.csv`` (fields tune_id, setting_id, name, type, meter, mode,
            abc, ...); ``"oneills1850"`` or ``"ryansMammoth"`` (bundled with music21); ``None`` or
            ``"music21"`` for both music21 books (the default needs no data path); or a list.
        split_ratios: train, validation and test shares, counted in tunes: 3 non-negative
            numbers, not all 0, divided by their sum (``(8, 1, 1)`` is ``(0.8, 0.1, 0.1)``, and
            ``(0.9, 0.5, 0.5)`` about 47/26/26 %); a 0 leaves that split empty. One number, a
            dict, a string, or ratios that are bools (numpy's too) or strings (``"0.9"``) are
            refused with a ``ValueError``; numpy numbers are taken.
        seed: seeds the order in which tune groups are laid out and cut into the splits.
        dedupe: drop tunes whose body (the text after ``K:``, whitespace-normalised) repeats an
            earlier one and reads as the same notes (the same body under another key signature
            or ``L:`` is kept); a titled copy is kept in preference to an untitled one.
        min_notes: tunes with fewer notes are skipped (0 keeps every tune; a negative number
            is refused, as are a negative ``seed``, ``num_proc`` and ``link_incipits``).
        num_proc: parse in this many worker processes (0 or 1: none, this process parses, as
            ``datasets``' ``map`` reads 0; a negative number is refused): forked on Linux,
            spawned on Windows (no fork) and macOS (a fork after torch can hang). A spawned
            worker imports the reader only, and the main script again: call from under its
            ``if __name__ == "__main__":`` (else this process parses, with a warning naming
            the line). ``None`` forks up to 4 (as many as there are cores) for sources of 4,000
            tunes or more, else parses in this process, as it does where it would spawn. Where
            workers cannot start, this process parses, with a warning; the rows are the same.
        cache_dir: if given, the result is saved there under a fingerprint of the inputs (paths
            and contents, not mtimes), the parameters and the reader's code, and reloaded on
            the next identical call, which logs the warnings of the first load again. A load
            with a pipe among its sources (``<(cat a.abc)``) is not cached: it is read once,
            and there is no file whose contents a key could hash.
        report: a dict filled with ``read, parsed, skipped, skip_reasons, skipped_at,
            duplicates, splits, groups, short_splits, voices_dropped`` (and
            ``shared_incipits`` with `link_incipits`). ``groups`` gives the linked groups'
            ``count``, the ``largest``'s size and its most common title (``largest_title``,
            ``largest_titled`` tunes), ``tunes`` all; ``short_splits`` the splits under half
            of what their ratio asks for, with their sizes (also said in a warning).
            ``voices_dropped`` counts the parsed tunes read with their first voice only (a
            second voice ``V:2`` or an overlay ``&`` dropped: ``tune.warnings``).
            ``skipped_at`` maps each skip reason to where its first 5 tunes are, as
            ``irish-tune check`` names them (``"tunes.csv row 2: B: line 7, column 3: cannot
            read key 'missing'"``, ``"book.abc line 40"``); each skipped tune is also logged
            so at DEBUG level.
        link_incipits: if > 0, also link tunes whose first `link_incipits` notes have the same
            pitch classes on the white keys of their mode, in the same meter: one melody filed
            under two tune ids and titles (thesession has such duplicates, e.g. "Reel De
            L'aveugle" / "Le Reel De L'aveugle") then stays in one split. A stricter split for
            the unseen-tunes protocol and for language-model validation; off by default, so
            existing splits are unchanged. With 24 notes, 515 of thesession's tunes share an
            incipit with another tune id, mostly untitled tunes without ``S:`` (no tune id):
            26 validation and 16 test tunes of the default split start like a training tune.
        require_bars_fit: skip (and count, under their own reason) tunes with a full bar that
            does not sum to its meter, by the rule of ``irish-tune check --bars``
            (`tokenization.bar_check`): cleaner position features for training. Off by
            default; on thesession it drops 2,411 of 20,713 tunes (11.6%), on O'Neill's 8.6%
            (173 of 2,007).
        split_method: ``"shuffle"`` (the default) or ``"hash"``, see the split rule below.
        shown: how messages (warnings, the report's ``skipped_at``, errors) spell the
            sources, ``{source as given: as the user typed it}``, for a caller that reads them
            by another spelling (``train.py`` reads absolute paths, the spelling its runs are
            resumed and its cache keyed by); a folder's files are named as the typed folder
            joined with their path in it. Not part of the cache key: a cache hit gives the
            warnings and the report (each split's ``info.description`` too) of the load that
            filled it with the sources named as this call's ``shown`` spells them (that
            load's names are kept with its warnings).

    Every tune is parsed once by ``tokenization.abc_parser.parse_abc``; tunes that fail (or have
    fewer than ``min_notes`` notes) are skipped and counted by reason. Columns: ``tune_id`` (the
    thesession id from ``S: https://thesession.org/tunes/<id>#setting<setting>``, else
    ``<file or collection>:<X>``; a file named like one read before it from another source
    gets more of its path, ``b/book:<X>``, and one read from a folder starts with the folder's
    name and its path in it, ``tunes/sub/book:<X>``), ``setting_id`` ("" if none), ``title``,
    ``rhythm`` (``R:`` lower-case, one spelling per tune type: ``R:slipjig`` and ``R:Slip-Jig``
    are thesession's ``slip jig``, as the tokenizer reads them, `rhythm_type`; "" if none; the
    ``abc`` column keeps ``R:`` as written), ``meter``, ``mode``, ``key`` (original key as
    written, e.g. ``"D major"``; the corpus's ``K: C <mode>`` placeholder is resolved from
    ``Z:`` when present, else to the white-key mode), ``abc`` (the tune's full text),
    ``source``, ``x``, ``n_notes``.

    Split rule: two tunes are linked when they share a ``tune_id``, a normalised title
    (:func:`title_key`; untitled ``x`` / ``Gan Ainm`` / "" link nothing) or a body (a dropped
    duplicate's id and title stay linked to the copy kept), and with ``link_incipits`` an
    incipit. The connected components are shuffled and cut into the splits by
    :func:`split_groups`, so no tune id, normalised title or body appears in two splits, every
    split has the same mix of large and small groups, and the same ``seed`` always gives the
    same splits of the same corpus. A corpus that changes (tunes added or removed) is split
    anew: with the default ``"shuffle"``, a model trained on one version's train split must not
    be scored on another version's test split. ``split_method="hash"`` places each group by a
    seeded hash of its tune ids, so a tune stays in its split when others are added or removed
    (new settings of it included), unless a new tune joins its group to another; its split
    sizes follow ``split_ratios`` in expectation only. Only ids that the file's name does not
    make count (thesession's from ``S:``, a music21 book's): a group with none is placed by its
    normalised titles, or when untitled by its bodies, so a tunebook renamed, moved or read
    from its folder splits as before, while editing the notes of an untitled tune without
    ``S:`` (or the title of a titled one) may move it.

    The report is logged, stored as ``dataset.report`` and in each split's ``info.description``
    (which ``map``, ``filter`` and ``save_to_disk`` keep; ``report`` they do not);
    ``read == parsed + skipped`` and ``parsed == duplicates + sum(splits.values())``.
    ``save_to_disk`` writes an empty split so that ``load_from_disk`` reads it back (datasets
    5.2's own does not, `AbcCorpusDict`). There is no ``streaming``: the split needs every tune
    (a group of linked tunes goes whole to one split), so the whole corpus is read;
    ``corpus["train"].to_iterable_dataset()`` gives an ``IterableDataset`` of a split.

    A tunebook of 8 tunes (a music21 book loads the same way, by name: ``"oneills1850"``):

    >>> corpus = load_abc_corpus("tunes.abc", split_ratios=(0.5, 0.25, 0.25))
    >>> corpus.report["read"], corpus.report["splits"]
    (8, {'train': 4, 'validation': 2, 'test': 2})
    >>> corpus["train"][0]["tune_id"], corpus["train"][0]["title"]
    ('1', "Cooley's")
    """
    ratios = check_ratios(split_ratios)
    seed = check_seed(seed)  # before the sources are read: parsing a corpus takes minutes
    min_notes = _check_count("min_notes", min_notes)
    link_incipits = _check_count("link_incipits", link_incipits)
    if num_proc is not None:  # 0: no worker processes, as `datasets.Dataset.map` reads it
        num_proc = _check_count("num_proc", num_proc, "None or ")
    sources = source_list(source)
    if not sources:
        raise ValueError("no ABC sources given (an empty list): give at least one source")
    params = {"ratios": ratios, "seed": seed, "dedupe": dedupe, "min_notes": min_notes}
    if link_incipits > 0:
        params["link_incipits"] = link_incipits  # (absent when off: old cache keys still hold)
    if require_bars_fit:
        params["require_bars_fit"] = True
    if split_method != "shuffle":
        if split_method not in SPLIT_METHODS:
            raise ValueError(f"split_method must be one of {SPLIT_METHODS}, got {split_method!r}")
        params["split_method"] = split_method
    params["sources"] = [str(s) for s in sources]
    cached = None
    names = {str(one): shown_source(one, shown) for one in sources}  # as messages name them
    if cache_dir is not None and piped_sources(sources):
        logger.info("ABC corpus not cached: %s is a pipe, read once", piped_sources(sources)[0])
    elif cache_dir is not None:
        cached = Path(cache_dir) / f"abc_corpus-{cache_fingerprint(sources, params)}"
        loaded = cache_hit(cached, report, names)
        if loaded is not None:
            return loaded
    report = {} if report is None else report
    report.clear()
    named = frozenset(MUSIC21_COLLECTIONS)
    options = ParseOptions(min_notes, link_incipits, require_bars_fit, named)
    # the sources' reader and its decoder (mixed-encoding files) warn too
    readers = (
        logging.getLogger(iter_raw_tunes.__module__),
        logging.getLogger("tokenization.check"),
    )
    with WarningRecorder(logger, *readers) as warnings:
        dataset = _read_corpus(
            sources, options, ratios, seed, split_method, num_proc, dedupe, report, shown
        )
    if cached is not None:
        # written aside and renamed: two processes may fill one cache folder at once; a rename
        # that fails deletes the folder at once (one that will not go is named in a warning)
        tmp = write_aside(dataset, cached, report, warnings, names)
        try:
            publish_directory(tmp, cached, "abc_corpus_report.json")
        except BaseException:
            discard_folder(tmp)
            raise
        # the saved copy, as every later call gets it: the same splits with the same datasets
        # fingerprints, so the tokenized cache keyed on them is hit from the second run on too
        loaded = load_cached(cached, report)
        return dataset if loaded is None else loaded
    return dataset
