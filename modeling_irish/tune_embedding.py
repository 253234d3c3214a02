"""Reading a corpus's tunes, encoding them and embedding tunes and titles: the steps the
name-that-tune index (`tune_index`) and the retrieval protocols (`retrieval_evaluation`)
share, with the header values the edit distance's penalties read."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Optional, Union

import numpy as np
import torch
from tqdm.auto import tqdm

from tokenization.abc_header import header_title
from tokenization.abc_parser import AbcParseError
from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer

from .abc_sources import RawTune, iter_raw_tunes
from .corpus_keys import title_key
from .threads import eval_mode, torch_threads
from .tune_title_data import NoteCropper

__all__ = [
    "MODEL_NOT_FINITE",
    "StreamedTuneEmbeddings",
    "embed_titles",
    "embed_tunes",
    "header_values",
    "read_tunes",
    "require_finite",
    "single_thread",
    "best_per_title",
    "encode_all",
    "encode_records",
    "encoded_records",
    "title_gallery",
    "header_lists",
    "notes_and_headers",
    "smallest_int",
]

#: a thesession.org tune address in an ``S:`` field, and its tune id
_S_URL = re.compile(r"^S:\s*\S*thesession\.org/tunes/(\d+)", re.MULTILINE)

#: tqdm's ``disable`` for a labelled bar: drawn only where stderr is a terminal, as `check`'s
#: and `transpose`'s are, so that a log of ``irish-tune index 2>log`` does not hold thousands
#: of carriage-return redraws (a whole corpus's index redraws for minutes).
_TERMINAL_ONLY = None

#: what `read_tunes` reads: a file, folder or dump, or a list of them, of records or of texts
Corpus = Union[str, os.PathLike, Sequence[Any]]


# ----- reading ---------------------------------------------------------------------------------
def _record(text: str, raw: Optional[RawTune] = None) -> dict[str, Any]:
    """`{"title", "tune_id", "abc"}` of a tune's text, and `"where"` (its `RawTune`: file and
    line) when it was read from a file, so that an error can name the file's line."""
    tune_id = _S_URL.search(text)
    record: dict[str, Any] = {
        "title": header_title(text),  # as the parser (and so the corpus loader) reads it
        "tune_id": tune_id.group(1) if tune_id else "",
        "abc": text,
    }
    if raw is not None:
        record["where"] = raw
    return record


def _located(err: AbcParseError, record: dict[str, Any]) -> str:
    """The error with the line of the file it was read from (the parser counts from the tune's
    `X:` line), and the file's name."""
    raw = record.get("where")
    return str(err) if raw is None else raw.locate(err)


def read_tunes(
    corpus: Corpus, unreadable: bool = False, desc: Optional[str] = None
) -> list[dict[str, Any]]:
    """`{"title", "tune_id", "abc"}` per tune of a source (file, folder, dump, list of sources),
    of a `datasets.Dataset` / list of dicts with those columns, of a list of ABC texts, or of
    `RawTune` objects (`text_tunes`: each record knows its line in the text).
    `unreadable`: also a record for each thesession.org dump row that gives no tune (no ABC
    text, not an object), its text empty and its reason in ``record["where"].unreadable``
    (`gives_no_tune`), for a caller that counts them. `desc`: a bar with this label counting
    the tunes read from files (thesession's: 1-3 s for its 20,700 tunes, 2026-12-06; none for
    records or texts given), drawn only where stderr is a terminal (`_TERMINAL_ONLY`).

    >>> read_tunes(["X:1\\nT:The Kesh\\nS: https://thesession.org/tunes/55#setting55\\nK:G\\nGA|"])[0]["tune_id"]
    '55'
    """
    bar = {"desc": desc, "unit": " tunes", "disable": True if desc is None else _TERMINAL_ONLY}
    if isinstance(corpus, (str, os.PathLike)):
        return _counted_records(iter_raw_tunes(str(corpus), unreadable), bar)
    items = list(corpus)
    if items and all(isinstance(item, RawTune) for item in items):  # a text's, `text_tunes`
        return [_record(raw.text, raw) for raw in items]
    if items and isinstance(items[0], dict):
        return [
            {"title": r.get("title", ""), "tune_id": str(r.get("tune_id", "")), "abc": r["abc"]}
            for r in items
        ]
    if items and isinstance(items[0], str) and "\n" in items[0]:
        return [_record(text) for text in items]
    return _counted_records(iter_raw_tunes(items, unreadable), bar)


def _counted_records(raws: Iterable[RawTune], bar: dict[str, Any]) -> list[dict[str, Any]]:
    """The `_record` of each tune of ``raws``, counted on a tqdm bar made with ``bar`` as each
    is read: a bar closed by Ctrl-C shows the tunes read so far (one wrapping the iterable
    counts them only when the loop ends, and said "0 tunes")."""
    records = []
    with tqdm(**bar) as progress:
        for raw in raws:
            records.append(_record(raw.text, raw))
            progress.update()
    return records


def gives_no_tune(record: dict[str, Any]) -> str:
    """Why a record of `read_tunes(..., unreadable=True)` is a dump row that gives no tune,
    named by its row (``"tunes.json row 3: dump row that is not an object (int)"``); "" for a
    tune.

    >>> gives_no_tune({"title": "", "tune_id": "", "abc": "X:1\\nK:G\\nGA|"})
    ''
    """
    raw = record.get("where")
    return f"{raw.file_name}: {raw.unreadable}" if raw is not None and raw.unreadable else ""


def encode_records(
    tokenizer: AbcTokenizer,
    records: list[dict[str, str]],
    failures: Optional[list[tuple[int, str]]] = None,
    desc: Optional[str] = None,
    *,
    terminal_only: bool = False,
    changed: Optional[list[tuple[int, list[str]]]] = None,
    compact: bool = False,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[int]]:
    """`(input_ids, measure_numbers)` of every readable record, and the indices of those
    records; each record that cannot be read is appended to `failures` as (index, error) when
    given, and each the reader did not read exactly as written to `changed` as (index, its
    warnings) when given. `desc`: show a progress bar with this description (`terminal_only`:
    only where stderr is a terminal, and cleared when done).

    Only the ids are kept, not the parsed tune each `EncodedTune` holds: thesession's 17,000
    parsed tunes (2 million tokens) kept to the end made each of the garbage collector's full
    passes longer, 5-10 s of an index build (docs/BENCHMARKS.md). `compact`: each array in
    the smallest integer type that holds its values (`smallest_int`; the same numbers), not
    int64, with room for every id of the tokenizer's vocabulary (`NoteCropper.played` writes
    a bar's id into a copy): thesession's ids took ~400 MB as int64, most of an index build's
    peak. `encoded_records` gives them one at a time instead."""
    encoded, kept = [], []
    stream = encoded_records(
        tokenizer,
        records,
        failures,
        desc,
        terminal_only=terminal_only,
        changed=changed,
        compact=compact,
    )
    for i, ids, measures in stream:
        encoded.append((ids, measures))
        kept.append(i)
    return encoded, kept


def encoded_records(
    tokenizer: AbcTokenizer,
    records: list[dict[str, str]],
    failures: Optional[list[tuple[int, str]]] = None,
    desc: Optional[str] = None,
    *,
    terminal_only: bool = False,
    changed: Optional[list[tuple[int, list[str]]]] = None,
    compact: bool = False,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """`(index, input_ids, measure_numbers)` of each readable record as it is encoded (the
    arguments as `encode_records`'s, whose lists this fills as it goes; the bar counts records,
    read or not), so that a caller that needs each tune's ids only for a moment (an index
    without a model reads their notes) holds one tune's at a time, not the corpus's."""
    largest_id = max(tokenizer.abc_vocab.sizes.values(), default=1) - 1 if compact else 0
    items = enumerate(records)
    if desc is not None:
        items = tqdm(
            items,
            total=len(records),
            desc=desc,
            unit="tune",
            disable=None if terminal_only else False,
            leave=not terminal_only,
        )
    for i, record in items:
        try:
            enc = tokenizer.encode_tune(record["abc"])
        except AbcParseError as err:
            if failures is not None:
                failures.append((i, _located(err, record)))
            continue
        if changed is not None and enc.tune.warnings:
            changed.append((i, enc.tune.warnings))
        ids, measures = enc.input_ids, enc.measure_numbers
        del enc  # the parsed tune: not held while the caller works on its ids
        if compact:
            ids, measures = smallest_int(ids, largest_id), smallest_int(measures)
        yield i, ids, measures


def smallest_int(values: np.ndarray, largest: int = 0) -> np.ndarray:
    """``values`` (integers) in the smallest integer type that holds every one of them and
    ``largest`` too (``values`` itself when it is that type already).

    >>> smallest_int(np.array([0, 88, 255])).dtype, smallest_int(np.array([-1, 300])).dtype
    (dtype('uint8'), dtype('int16'))
    >>> smallest_int(np.array([0, 88]), largest=300).dtype  # room for every id of a vocabulary
    dtype('uint16')
    """
    values = np.asarray(values)
    low = min(int(values.min()), 0) if values.size else 0
    high = max(int(values.max()), largest) if values.size else largest
    types = (np.uint8, np.uint16, np.uint32) if low >= 0 else ()
    for dtype in (*types, np.int8, np.int16, np.int32):
        if np.iinfo(dtype).min <= low and high <= np.iinfo(dtype).max:
            return values.astype(dtype, copy=False)
    return values.astype(np.int64, copy=False)


def encode_all(
    tokenizer: AbcTokenizer,
    records: list[dict[str, str]],
    failures: Optional[list[tuple[int, str]]] = None,
    desc: Optional[str] = None,
    *,
    changed: Optional[list[tuple[int, list[str]]]] = None,
) -> tuple[list, list[int]]:
    """Encoded ids of every readable record, and the indices of those records (`failures`,
    `changed`: see `encode_records`; `desc`: a progress bar with this description, on a
    terminal only)."""
    encoded, kept = encode_records(
        tokenizer, records, failures, desc, terminal_only=True, changed=changed
    )
    return [ids for ids, _ in encoded], kept


# ----- embedding -------------------------------------------------------------------------------
@torch.no_grad()
def embed_tunes(
    model: Any,
    rows: Sequence[tuple[np.ndarray, np.ndarray]],
    batch_size: int = 64,
    max_rows: Optional[int] = None,
    desc: Optional[str] = None,
    num_threads: Optional[int] = 1,
) -> np.ndarray:
    """`(n, projection_dim)` float32 normalised tune embeddings of `(input_ids, measure_numbers)`
    pairs, batched by length (`max_rows` cuts long tunes to their first rows; `desc`: show a
    progress bar with that label where stderr is a terminal). The model embeds in eval mode
    and is left in its own mode (`eval_mode`), so identifying in the middle of training does
    not turn its dropout off.
    `num_threads`: torch threads while embedding, restored after (default 1: the GRU's small
    per-step ops spin-wait with 2 threads on a busy 2-core machine, 500 settings 12-17 s on
    1 thread against 122-141 s on 2, docs/BENCHMARKS.md; None: torch's own)."""
    _check_threads(num_threads)
    with torch_threads(num_threads), eval_mode(model):
        collate = AbcDataCollator()
        device = next(model.parameters()).device
        order = np.argsort([len(r[0]) for r in rows], kind="stable")
        out = np.zeros((len(rows), model.config.projection_dim), dtype=np.float32)
        starts = range(0, len(rows), batch_size)
        disable = True if desc is None else _TERMINAL_ONLY
        for start in tqdm(starts, desc=desc, unit="batch", disable=disable):
            idx = order[start : start + batch_size]
            feats = [
                {"input_ids": rows[i][0][:max_rows], "measure_numbers": rows[i][1][:max_rows]}
                for i in idx
            ]
            batch = collate(feats)
            emb = model.get_tune_features(
                batch["input_ids"].to(device),
                batch["measure_numbers"].to(device),
                batch["attention_mask"].to(device),
            )
            out[idx] = emb.float().cpu().numpy()
        return out


class StreamedTuneEmbeddings:
    """`embed_tunes` of settings given one at a time (`add`), embedded ``chunk_size`` at a
    time, so that a caller that encodes a corpus tune by tune holds a chunk's ids, not the
    corpus's (thesession's: 57 MiB as uint8, ~400 MiB as int64). Each chunk is batched by
    length within itself (a whole corpus sorted at once pads a little less).

    >>> from transformers import AutoModel
    >>> model = AutoModel.from_pretrained("runs/tune-title")
    >>> enc = AbcTokenizer.from_pretrained("runs/tune-title").encode_tune("K:D\\nDFA dAF|")
    >>> embedder = StreamedTuneEmbeddings(model, chunk_size=2)
    >>> for _ in range(3):  # the first two embedded as the second is added, the third at the end
    ...     embedder.add(enc.input_ids, enc.measure_numbers)
    >>> embedder.embeddings().shape == (3, model.config.projection_dim)
    True
    """

    def __init__(
        self,
        model: Any,
        batch_size: int = 64,
        max_rows: Optional[int] = None,
        chunk_size: int = 512,
        num_threads: Optional[int] = 1,
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"StreamedTuneEmbeddings: chunk_size must be >= 1, got {chunk_size}")
        self.model, self.batch_size, self.max_rows = model, batch_size, max_rows
        self.chunk_size, self.num_threads = chunk_size, num_threads
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._done: list[np.ndarray] = []

    def add(self, input_ids: np.ndarray, measure_numbers: np.ndarray) -> None:
        """Queue one setting's rows; a full chunk is embedded (and its ids dropped) at once."""
        self._pending.append((input_ids, measure_numbers))
        if len(self._pending) >= self.chunk_size:
            self._embed_pending()

    def embeddings(self, desc: Optional[str] = None) -> np.ndarray:
        """`(n, projection_dim)` float32 embeddings of every setting added, in order (`desc`:
        a bar with this label while the settings not yet embedded are)."""
        self._embed_pending(desc)
        if not self._done:
            return np.zeros((0, self.model.config.projection_dim), dtype=np.float32)
        return self._done[0] if len(self._done) == 1 else np.concatenate(self._done)

    def _embed_pending(self, desc: Optional[str] = None) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            embeds = embed_tunes(
                self.model, rows, self.batch_size, self.max_rows, desc, self.num_threads
            )
            self._done.append(embeds)


@torch.no_grad()
def embed_titles(
    model: Any,
    titles: Sequence[str],
    batch_size: int = 256,
    desc: Optional[str] = None,
    num_threads: Optional[int] = 1,
) -> np.ndarray:
    """`(n, projection_dim)` float32 normalised title embeddings (`desc`: show a progress bar
    with that label where stderr is a terminal, counting titles: thesession's 8,309 take about
    36 s on a CPU). The model embeds in eval mode and is left in its own mode, as
    `embed_tunes` leaves it.
    `num_threads`: torch threads while embedding, restored after (default 1, as
    `embed_tunes`; None: torch's own)."""
    _check_threads(num_threads)
    chunks = []
    disable = True if desc is None else _TERMINAL_ONLY
    bar = tqdm(total=len(titles), desc=desc, unit="title", disable=disable)
    with bar, torch_threads(num_threads), eval_mode(model):
        for s in range(0, len(titles), batch_size):
            batch = list(titles[s : s + batch_size])
            chunks.append(model.get_title_features(batch).float().cpu().numpy())
            bar.update(len(batch))
    return (
        np.concatenate(chunks) if chunks else np.zeros((0, model.config.projection_dim), np.float32)
    )


def _check_threads(num_threads: Optional[int]) -> None:
    """Refuse, by name, a ``num_threads`` that is not a whole number >= 1 (or None): torch
    would take 0 or a negative count silently or fail far from the call."""
    if num_threads is None:
        return
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a whole number >= 1 (or None), got {num_threads!r}")


#: Why a model gives embeddings that are not finite numbers, as `require_finite` says it.
MODEL_NOT_FINITE = "are the model's weights finite? (a diverged training run gives NaN)"


def require_finite(embeds: np.ndarray, what: str, why: str = MODEL_NOT_FINITE) -> np.ndarray:
    """`embeds` (`(n, dim)`) when every value is a finite number, else a `ValueError` naming
    `what` they are, how many rows hold a NaN or infinite value, and `why`: a NaN embedding
    scores every title NaN, which ranks nothing (`identify` listed the index's first titles,
    each scored ``nan``).

    >>> require_finite(np.array([[0.6, 0.8], [np.nan, 0.0]]), "the embeddings")
    Traceback (most recent call last):
    ...
    ValueError: the embeddings (1 of 2) are not finite numbers (NaN or infinite): are the ...
    """
    bad = int((~np.isfinite(embeds)).any(axis=1).sum())
    if bad:
        count = f" ({bad} of {len(embeds)})" if len(embeds) > 1 else ""
        raise ValueError(f"{what}{count} are not finite numbers (NaN or infinite): {why}")
    return embeds


def single_thread() -> AbstractContextManager[None]:
    """Run torch on one thread: a batch of one small query gains nothing from intra-op threads,
    and on a busy 2-core machine their spin-waiting made a query 50x slower (4 ms vs 250 ms)."""
    return torch_threads(1)


# ----- titles and headers ----------------------------------------------------------------------
def title_gallery(
    records: list[dict[str, str]], keys: Optional[Sequence[str]] = None
) -> tuple[list[str], list[str], dict[str, int]]:
    """Distinct normalised titles in order of first appearance: (display titles, keys, index).
    `keys`: each record's `title_key`, when the caller has them already."""
    if keys is None:
        keys = [title_key(record["title"]) for record in records]
    index: dict[str, int] = {}
    display: list[str] = []
    for record, key in zip(records, keys):
        if key and key not in index:
            index[key] = len(display)
            display.append(record["title"])
    return display, list(index), index


def header_values(cropper: NoteCropper, ids: np.ndarray) -> dict[str, Optional[str]]:
    """Rhythm, mode and meter of a tune's rows (None where unknown), as the title prior reads
    them (`title_prior.HeaderTitlePrior`)."""
    header = cropper.header(ids)
    return {
        "rhythm": _rhythm(header.rhythm),
        "mode": _known(header.mode),
        "meter": _known(header.meter),
    }


def _known(value: Optional[str]) -> Optional[str]:
    """A header value, or None where the vocabulary does not know it (read as `<unk>`) or the
    tune has none."""
    return None if not value or value.startswith("<") or value == "none" else value


def _rhythm(value: Optional[str]) -> Optional[str]:
    """A tune type (`R:`), or None where unknown (no `R:` reads as "unspecified")."""
    value = _known(value)
    return None if value == "unspecified" else value


def header_lists(headers: Sequence[dict[str, Optional[str]]]) -> dict[str, list[Optional[str]]]:
    """`header_values` of many settings as one list per field, for the edit distance's
    penalties."""
    return {name: [h[name] for h in headers] for name in ("meter", "mode", "rhythm")}


def notes_and_headers(
    cropper: NoteCropper,
    ids: Iterable[np.ndarray],
    unfold_repeats: bool,
    desc: Optional[str],
    read_headers: bool = True,
    terminal_only: bool = False,
    narrow: bool = False,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, list[Optional[str]]]]:
    """The notes of each setting's rows `ids` (`NoteCropper.notes`: pitches and lengths), in
    the order they are played (`NoteCropper.played`) when `unfold_repeats`, else as written,
    and their `header_values` as one list per field (`header_lists`; `read_headers` False:
    the lists are left empty, for a caller that has them or needs none), under a bar labelled
    `desc` (None: no bar; `terminal_only`: only where stderr is a terminal, and cleared when
    done): thesession's 17,000 settings take 3-10 s, mostly the unfolding. `narrow`: the
    pitches as int16 and the lengths as float32 (the types a `TuneIndex` keeps them in), not
    int64 and float64: 6 bytes a note held instead of 16. `ids` may be an iterator (each
    setting's ids are read once, in order, and not held: `encoded_records` can feed it)."""
    notes, headers = [], []
    disable = True if desc is None else None if terminal_only else False
    for x in tqdm(ids, desc=desc, unit="setting", disable=disable, leave=not terminal_only):
        pitches, lengths = cropper.notes(cropper.played(x) if unfold_repeats else x)
        if narrow:  # MIDI pitches 0..127; the lengths float32 as the index saves them
            pitches, lengths = pitches.astype(np.int16), lengths.astype(np.float32)
        notes.append((pitches, lengths))
        if read_headers:
            headers.append(header_values(cropper, x))
    return notes, header_lists(headers)


def best_per_title(scores: np.ndarray, owner: np.ndarray, n_titles: int) -> np.ndarray:
    """The best of the ``scores`` of each of ``n_titles`` titles, ``owner`` naming each
    score's title; ``-inf`` for a title with no score."""
    best = np.full(n_titles, -np.inf)
    np.maximum.at(best, owner, scores)
    return best
