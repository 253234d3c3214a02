"""Name that tune: a title index over a corpus and `identify`; the helpers both share with the
retrieval protocols (`retrieval_evaluation`)."""

from __future__ import annotations

import json
import logging
import os
import re
import weakref
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Optional, Union

import numpy as np
import torch
from tqdm.auto import tqdm

from tokenization.abc_header import header_title
from tokenization.abc_parser import AbcParseError
from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer, EncodedTune

from .abc_corpus import title_key
from .abc_sources import RawTune, iter_raw_tunes
from .edit_distance import SHIFT_CANDIDATES, EditDistanceRanker, check_score_weight
from .threads import torch_threads
from .tune_title_data import NoteCropper

logger = logging.getLogger(__name__)

__all__ = [
    "TuneIndex",
    "embed_titles",
    "embed_tunes",
    "header_values",
    "identify",
    "read_tunes",
    "single_thread",
]

INDEX_FILE = "tune_index.json"
#: Version of the saved index: 2 adds ``format`` itself (1, or no field: earlier indices, read
#: alike; those without ``dur_flat.npy`` or settings' meters score with less information); 3
#: reads G major and A dorian tunes in the corpus's octave (`tokenization.keys.normalise_shift`),
#: where earlier indices hold them an octave higher (a model's embeddings of them differ).
INDEX_FORMAT = 3
#: the arrays of a saved index, each in ``NAME.npy``; the optional ones may be None (absent)
_INDEX_ARRAYS = ("title_embeds", "setting_embeds", "setting_title", "pitch_flat", "pitch_offsets")
_OPTIONAL_INDEX_ARRAYS = ("dur_flat",)
# weight of the edit-distance score beside the title cosine in the "hybrid" scorer, chosen on
# 587 held-out settings of training tunes that are not the reported queries (docs/BENCHMARKS.md)
HYBRID_WEIGHT = 8.0
IDENTIFY_SCORERS = ("hybrid", "title", "setting", "edit-distance")
_S_URL = re.compile(r"^S:\s*\S*thesession\.org/tunes/(\d+)", re.MULTILINE)
#: a K: field (header line or inline) and its value
_KEY_FIELD = re.compile(r"^\s*K:([^\n%]*)|\[K:([^\]]*)\]", re.MULTILINE)

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


def read_tunes(corpus: Corpus) -> list[dict[str, Any]]:
    """`{"title", "tune_id", "abc"}` per tune of a source (file, folder, dump, list of sources),
    of a `datasets.Dataset` / list of dicts with those columns, or of a list of ABC texts.

    >>> read_tunes(["X:1\\nT:The Kesh\\nS: https://thesession.org/tunes/55#setting55\\nK:G\\nGA|"])[0]["tune_id"]
    '55'
    """
    if isinstance(corpus, (str, os.PathLike)):
        return [_record(raw.text, raw) for raw in iter_raw_tunes(str(corpus))]
    items = list(corpus)
    if items and isinstance(items[0], dict):
        return [
            {"title": r.get("title", ""), "tune_id": str(r.get("tune_id", "")), "abc": r["abc"]}
            for r in items
        ]
    if items and isinstance(items[0], str) and "\n" in items[0]:
        return [_record(text) for text in items]
    return [_record(raw.text, raw) for raw in iter_raw_tunes(items)]


def _encode_records(
    tokenizer: AbcTokenizer,
    records: list[dict[str, str]],
    failures: Optional[list[tuple[int, str]]] = None,
    desc: Optional[str] = None,
    terminal_only: bool = False,
) -> tuple[list, list[int]]:
    """`EncodedTune` of every readable record, and the indices of those records; each record
    that cannot be read is appended to `failures` as (index, error) when given. `desc`: show a
    progress bar with this description (`terminal_only`: only where stderr is a terminal, and
    cleared when done)."""
    encoded, kept = [], []
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
            encoded.append(tokenizer.encode_tune(record["abc"]))
        except AbcParseError as err:
            if failures is not None:
                failures.append((i, _located(err, record)))
            continue
        kept.append(i)
    return encoded, kept


def _encode_all(
    tokenizer: AbcTokenizer,
    records: list[dict[str, str]],
    failures: Optional[list[tuple[int, str]]] = None,
    desc: Optional[str] = None,
) -> tuple[list, list[int]]:
    """Encoded ids of every readable record, and the indices of those records (`failures`: see
    `_encode_records`; `desc`: a progress bar with this description, on a terminal only)."""
    encoded, kept = _encode_records(tokenizer, records, failures, desc, terminal_only=True)
    return [e.input_ids for e in encoded], kept


# ----- embedding -------------------------------------------------------------------------------
@torch.no_grad()
def embed_tunes(
    model: Any,
    rows: Sequence[tuple[np.ndarray, np.ndarray]],
    batch_size: int = 64,
    max_rows: Optional[int] = None,
    desc: Optional[str] = None,
) -> np.ndarray:
    """`(n, projection_dim)` float32 normalised tune embeddings of `(input_ids, measure_numbers)`
    pairs, batched by length (`max_rows` cuts long tunes to their first rows; `desc`: show a
    progress bar with that label)."""
    model.eval()
    collate = AbcDataCollator()
    device = next(model.parameters()).device
    order = np.argsort([len(r[0]) for r in rows], kind="stable")
    out = np.zeros((len(rows), model.config.projection_dim), dtype=np.float32)
    starts = range(0, len(rows), batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=desc is None):
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


@torch.no_grad()
def embed_titles(
    model: Any, titles: Sequence[str], batch_size: int = 256, desc: Optional[str] = None
) -> np.ndarray:
    """`(n, projection_dim)` float32 normalised title embeddings (`desc`: show a progress bar
    with that label, counting titles: thesession's 8,309 take about 36 s on a CPU)."""
    model.eval()
    chunks = []
    with tqdm(total=len(titles), desc=desc, unit="title", disable=desc is None) as bar:
        for s in range(0, len(titles), batch_size):
            batch = list(titles[s : s + batch_size])
            chunks.append(model.get_title_features(batch).float().cpu().numpy())
            bar.update(len(batch))
    return (
        np.concatenate(chunks) if chunks else np.zeros((0, model.config.projection_dim), np.float32)
    )


def _gallery(records: list[dict[str, str]]) -> tuple[list[str], list[str], dict[str, int]]:
    """Distinct normalised titles in order of first appearance: (display titles, keys, index)."""
    index: dict[str, int] = {}
    display: list[str] = []
    for record in records:
        key = title_key(record["title"])
        if key and key not in index:
            index[key] = len(display)
            display.append(record["title"])
    return display, list(index), index


# ----- the index -------------------------------------------------------------------------------
class TuneIndex:
    """Title embeddings, per-setting tune embeddings and pitch sequences of a corpus.

    Saved as `.npy` arrays and one JSON file (no pickle), normally beside the model.

    >>> index = TuneIndex.build(model, tokenizer, ["tunes.abc"])  # doctest: +SKIP
    >>> index.save("runs/tune-title/index")  # doctest: +SKIP
    >>> index = TuneIndex.load("runs/tune-title/index")  # doctest: +SKIP
    >>> identify(model, index, "X:1\\nK:D\\nFAA2 dAFA|", k=3)  # doctest: +SKIP
    """

    def __init__(
        self,
        titles: list[str],
        title_embeds: np.ndarray,
        setting_embeds: np.ndarray,
        setting_title: np.ndarray,
        pitch_flat: np.ndarray,
        pitch_offsets: np.ndarray,
        meta: Optional[dict[str, Any]] = None,
        dur_flat: Optional[np.ndarray] = None,
        setting_meters: Optional[Sequence[Optional[str]]] = None,
        setting_modes: Optional[Sequence[Optional[str]]] = None,
        setting_rhythms: Optional[Sequence[Optional[str]]] = None,
    ):
        self.titles = list(titles)
        self.title_embeds = np.asarray(title_embeds, dtype=np.float32)
        self.setting_embeds = np.asarray(setting_embeds, dtype=np.float32)
        self.setting_title = np.asarray(setting_title, dtype=np.int64)
        self.pitch_flat = np.asarray(pitch_flat, dtype=np.int16)
        self.pitch_offsets = np.asarray(pitch_offsets, dtype=np.int64)
        # note lengths in eighths beside pitch_flat (None in an index saved without them)
        self.dur_flat = None if dur_flat is None else np.asarray(dur_flat, dtype=np.float32)
        # meter, mode and rhythm of each setting for the edit distance's penalties (None: an
        # older index without them)
        self.setting_meters = None if setting_meters is None else list(setting_meters)
        self.setting_modes = None if setting_modes is None else list(setting_modes)
        self.setting_rhythms = None if setting_rhythms is None else list(setting_rhythms)
        self.meta = dict(meta or {})
        self._rankers: dict[bool, EditDistanceRanker] = {}  # by `transpose`

    def __len__(self) -> int:
        return len(self.titles)

    @classmethod
    def build(
        cls,
        model: Any,
        tokenizer: AbcTokenizer,
        corpus_sources: Corpus,
        max_rows: Optional[int] = 512,
        batch_size: int = 64,
        unfold_repeats: bool = True,
    ) -> TuneIndex:
        """Embed every distinct title and every titled, readable setting of `corpus_sources`.

        `model=None` builds an index for the edit-distance scorer alone (no embeddings): it
        names tunes without any trained model (`identify(None, index, ..., scoring=
        "edit-distance")`). `unfold_repeats`: the edit distance sees each setting in the order
        it is played, repeats and endings unfolded (`NoteCropper.played`), so that a snippet
        played from the end of a part back to its start is found (a snippet is compared as
        typed: one typed across first and second endings holds both, which no pass plays, and
        is not found exactly); False: as written (the index before; ``meta["order"]`` says which).

        ``meta`` records the folders of the model and of the tokenizer when they were loaded
        from local folders, so that `identify` finds the tokenizer by itself."""
        read = read_tunes(corpus_sources)
        records = [r for r in read if title_key(r["title"])]
        failures: list[tuple[int, str]] = []
        encoded, kept = _encode_records(tokenizer, records, failures, "Indexing tunes")
        report = {
            "read": len(read),
            "untitled": len(read) - len(records),  # `x`, `Gan Ainm` or no title: nothing to name
            "unreadable": [error for _, error in failures],  # each names its tune and line
        }
        records = [records[i] for i in kept]
        ids = [e.input_ids for e in encoded]
        display, _, key_index = _gallery(records)
        cropper = NoteCropper(tokenizer)
        notes = [cropper.notes(cropper.played(x) if unfold_repeats else x) for x in ids]
        headers = _header_lists([header_values(cropper, x) for x in ids])
        pitches = [p for p, _ in notes]
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in pitches])]).astype(np.int64)
        meta = {
            "model": _folder_path(getattr(model, "name_or_path", "")),
            "settings": len(ids),
            "order": "played" if unfold_repeats else "written",
            "report": report,
        }
        # the folder `identify` reads the tokenizer from (none for one made in memory)
        tokenizer_folder = _folder_path(getattr(tokenizer, "name_or_path", ""))
        if os.path.isdir(tokenizer_folder):
            meta["tokenizer"] = tokenizer_folder
        if model is None:
            titles, settings = np.zeros((len(display), 0)), np.zeros((len(ids), 0))
        else:
            titles = embed_titles(model, display, desc="Embedding titles")
            rows = [(e.input_ids, e.measure_numbers) for e in encoded]
            settings = embed_tunes(model, rows, batch_size, max_rows, "Embedding settings")
        return cls(
            display,
            titles,
            settings,
            np.array([key_index[title_key(r["title"])] for r in records], dtype=np.int64),
            np.concatenate(pitches) if pitches else np.zeros(0, np.int16),
            offsets,
            meta,
            np.concatenate([d for _, d in notes]) if notes else np.zeros(0, np.float32),
            headers["meter"],
            headers["mode"],
            headers["rhythm"],
        )

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the index into the folder `path` (made if need be), replacing an index saved
        there before: an optional array this index lacks (``dur_flat.npy``) is removed, so that
        a stale one of the earlier index is not read back with this one. Other files are left.

        >>> index.save("runs/tune-title/index")  # doctest: +SKIP
        """
        os.makedirs(path, exist_ok=True)
        for name in _INDEX_ARRAYS + _OPTIONAL_INDEX_ARRAYS:
            where = os.path.join(path, f"{name}.npy")
            if getattr(self, name) is not None:
                np.save(where, getattr(self, name), allow_pickle=False)
            elif os.path.lexists(where):
                os.remove(where)
        with open(os.path.join(path, INDEX_FILE), "w", encoding="utf-8") as handle:
            info = {"format": INDEX_FORMAT, "titles": self.titles, "meta": self.meta}
            if self.setting_meters is not None:
                info["setting_meters"] = self.setting_meters
            if self.setting_modes is not None:
                info["setting_modes"] = self.setting_modes
            if self.setting_rhythms is not None:
                info["setting_rhythms"] = self.setting_rhythms
            json.dump(info, handle, ensure_ascii=False)

    def check_model_once(self, model: Any) -> None:
        """`check_model`, once per model object for this index (`identify` calls it on every
        query)."""
        checked = self.__dict__.setdefault("_checked_models", weakref.WeakSet())
        if model not in checked:
            self.check_model(model)
            checked.add(model)

    def check_model(self, model: Any, where: str = "the index") -> None:
        """Raise `ValueError` unless this index was built with ``model``: its first title, embedded
        again, must give the stored vector (a model trained further, or another of the same
        size, would score against vectors it did not make). Costs one title's embedding."""
        stored = self.title_embeds
        if stored.shape[1] == 0:
            return  # an edit-distance index: `identify` says what the model's scorers need
        wanted = getattr(model.config, "projection_dim", None)
        if stored.shape[1] != wanted or not np.allclose(
            embed_titles(model, self.titles[:1])[0], stored[0], atol=1e-3
        ):
            raise ValueError(
                f"{where} was built with another model ({self.meta.get('model') or 'unknown'}, "
                f"{stored.shape[1]}-wide vectors): rebuild it with irish-tune index --model"
            )

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> TuneIndex:
        """Read an index saved by `save`. A file missing, unreadable or at odds with the others
        is a `ValueError` naming the folder (rebuild it with ``irish-tune index``); an index of an
        earlier version without some fields still loads, with a warning for what it lacks."""
        info = _read_index_json(path)
        arrays = {name: _read_index_array(path, name) for name in _INDEX_ARRAYS}
        for name in _OPTIONAL_INDEX_ARRAYS:  # absent from older indices
            if os.path.exists(os.path.join(path, f"{name}.npy")):
                arrays[name] = _read_index_array(path, name)
        try:
            index = cls(
                info["titles"],
                meta=info.get("meta"),
                setting_meters=info.get("setting_meters"),  # absent from older indices
                setting_modes=info.get("setting_modes"),
                setting_rhythms=info.get("setting_rhythms"),
                **arrays,
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(
                f"the index {os.fspath(path)!r} is damaged ({err}); rebuild it"
            ) from None
        _check_index(index, os.fspath(path))
        if info.get("format", 1) < 3 and index.meta.get("model"):
            logger.warning(
                "the index %r was built by an earlier version, which read tunes written in G major "
                "or A dorian an octave above the training corpus: the model's scores of those "
                "tunes differ from a query's (the edit distance, blind to octaves, does not); "
                "rebuild it with irish-tune index",
                os.fspath(path),
            )
        return index

    def pitch_sequences(self) -> list[np.ndarray]:
        o = self.pitch_offsets
        return [self.pitch_flat[o[i] : o[i + 1]] for i in range(len(o) - 1)]

    def duration_sequences(self) -> Optional[list[np.ndarray]]:
        if self.dur_flat is None:
            return None
        o = self.pitch_offsets
        return [self.dur_flat[o[i] : o[i + 1]] for i in range(len(o) - 1)]

    def shift_free_scores(
        self,
        pitches: Sequence[int],
        durations: Optional[Sequence[float]] = None,
        meter: Optional[str] = None,
        rhythm: Optional[str] = None,
        candidates: int = SHIFT_CANDIDATES,
    ) -> np.ndarray:
        """`(n_titles,)` best score of each title over its settings and the 12 transpositions
        of notes whose key is unknown (`EditDistanceRanker.shift_free_scores`, pitch classes;
        `candidates`: settings compared in every shift, all of them for the exhaustive
        search)."""
        ranker = self._ranker(False)
        scores = ranker.shift_free_scores(pitches, durations, meter, rhythm, candidates)
        return _best_per_title(scores, self.setting_title, len(self.titles))

    def _ranker(self, transpose: bool) -> EditDistanceRanker:
        if transpose not in self._rankers:
            self._rankers[transpose] = EditDistanceRanker(
                self.pitch_sequences(),
                self.setting_title.tolist(),
                gallery_durations=self.duration_sequences(),
                gallery_meters=self.setting_meters,
                gallery_modes=self.setting_modes,
                gallery_rhythms=self.setting_rhythms,
                transpose=transpose,
            )
        return self._rankers[transpose]

    def edit_distance_scores(
        self,
        pitches: Sequence[int],
        durations: Optional[Sequence[float]] = None,
        meter: Optional[str] = None,
        mode: Optional[str] = None,
        rhythm: Optional[str] = None,
        transpose: bool = True,
        key_known: bool = True,
    ) -> np.ndarray:
        """`(n_titles,)` best edit-distance score of each title over its settings (-inf: none);
        per note, plus per eighth note when `durations` are given and the index has them, less
        the meter / mode / rhythm penalties of settings unlike the query (see
        `EditDistanceRanker`; `transpose`: its scorer that also finds settings with the tonic
        on another white key; `key_known=False`: a snippet without `K:`, see
        `EditDistanceRanker.scores`)."""
        ranker = self._ranker(transpose)
        scores = ranker.scores(pitches, durations, meter, mode, rhythm, key_known)
        return _best_per_title(scores, self.setting_title, len(self.titles))


def _snippet_edit_scores(
    tokenizer: AbcTokenizer,
    index: TuneIndex,
    ids: np.ndarray,
    abc_snippet: str,
    transpose: bool = True,
) -> np.ndarray:
    """`(n_titles,)` edit-distance score of a snippet's notes against the index's settings.

    The index holds tunes moved onto the white keys of their mode, and a snippet's `K:` moves it
    the same way; `transpose` (the default) then also finds settings whose tonic sits on another
    white key. A snippet without `K:` (notes typed as heard) has no key to move it by, so its
    pitch classes are compared in all 12 transpositions (`TuneIndex.shift_free_scores`: the
    pitch-class intervals, the same in every key, pick 1,000 settings, which are then compared
    in every shift; as many tunes named as by 12 full scans, in a fifth of the time). The
    transposing scorer's letters would also do without a key, but name fewer tunes: letters
    are coarser than pitch classes (300 held-out settings written in random keys without
    `K:`, MRR@20 0.764 against 0.783). Its mode is unknown, so no mode penalty."""
    cropper = NoteCropper(tokenizer)
    # as typed, not unfolded: a snippet with a repeat sign (`A :| B`) still lies, as written,
    # in the played order of its tune's settings, and unfolding it would repeat notes in place
    # of the next part's within the 64 notes compared (held-out settings without `K:`: MRR@20
    # 0.781 as typed against 0.772 unfolded). One typed across first and second endings does
    # not (both endings in a row, which no pass plays): it scores below 0, and unfolding it
    # mends that only for a snippet that starts where the repeat does (its `:|` goes back to
    # the snippet's start, not the part's)
    pitches, durations = cropper.notes(ids)
    h = header_values(cropper, ids)
    if _names_a_key(abc_snippet):
        return index.edit_distance_scores(
            pitches, durations, h["meter"], h["mode"], h["rhythm"], transpose
        )
    return index.shift_free_scores(pitches, durations, h["meter"], h["rhythm"])


def _names_a_key(abc_snippet: str) -> bool:
    """Whether a snippet gives its key: a ``K:`` field other than ``K:none`` (ABC 2.1's "no
    key signature", notes typed as heard) or an empty one.

    >>> _names_a_key("K:G\\nGAG|"), _names_a_key("K:none\\n^FGA|"), _names_a_key("GAG|")
    (True, False, False)
    """
    for m in _KEY_FIELD.finditer(abc_snippet):
        words = (m[1] if m[1] is not None else m[2]).split()
        if words and words[0].lower() != "none":
            return True
    return False


def _known(value: Optional[str]) -> Optional[str]:
    """A header value, or None where the vocabulary does not know it (read as `<unk>`) or the
    tune has none."""
    return None if not value or value.startswith("<") or value == "none" else value


def _rhythm(value: Optional[str]) -> Optional[str]:
    """A tune type (`R:`), or None where unknown (no `R:` reads as "unspecified")."""
    value = _known(value)
    return None if value == "unspecified" else value


def _header_lists(headers: Sequence[dict[str, Optional[str]]]) -> dict[str, list[Optional[str]]]:
    """`header_values` of many settings as one list per field, for the edit distance's
    penalties."""
    return {name: [h[name] for h in headers] for name in ("meter", "mode", "rhythm")}


def _best_per_title(scores: np.ndarray, owner: np.ndarray, n_titles: int) -> np.ndarray:
    best = np.full(n_titles, -np.inf)
    np.maximum.at(best, owner, scores)
    return best


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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_index_array(path: Union[str, os.PathLike], name: str) -> np.ndarray:
    """The array of the folder's ``NAME.npy``; a `ValueError` naming the file, saying that it is
    damaged, when it is no NumPy array file (text, a pickle), is cut short or holds Python
    objects (never loaded: pickle runs code)."""
    where = os.path.join(path, f"{name}.npy")
    if not os.path.isfile(where):
        raise FileNotFoundError(f"the index {os.fspath(path)!r} is incomplete: no {name}.npy")
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


def _check_index(index: TuneIndex, path: str) -> None:
    """The saved arrays must agree: one setting_title, offset span, meter... per setting."""
    n_settings, n_titles = len(index.setting_title), len(index.titles)
    offsets = index.pitch_offsets
    problems = []
    if len(offsets) != n_settings + 1 or (len(offsets) and offsets[-1] != len(index.pitch_flat)):
        problems.append("the pitch offsets do not match the settings")
    elif len(offsets) and (offsets[0] != 0 or (np.diff(offsets) < 0).any()):
        problems.append("the pitch offsets do not run from 0 upwards")
    if n_settings and (index.setting_title.min() < 0 or index.setting_title.max() >= n_titles):
        problems.append(f"settings refer to titles beyond the {n_titles} listed")
    if len(index.title_embeds) != n_titles or len(index.setting_embeds) != n_settings:
        problems.append("the embeddings do not match the titles and settings")
    if index.dur_flat is not None and len(index.dur_flat) != len(index.pitch_flat):
        problems.append("the note lengths do not match the pitches")
    for name in ("setting_meters", "setting_modes", "setting_rhythms"):
        values = getattr(index, name)
        if values is not None and len(values) != n_settings:
            problems.append(f"{name} has {len(values)} entries for {n_settings} settings")
    if problems:
        raise ValueError(f"the index {path!r} is damaged: {'; '.join(problems)}; rebuild it")
    if index.dur_flat is None or index.setting_meters is None:
        logger.warning(
            "the index %r was built by an earlier version (no note lengths or meters): it still "
            "works, with a weaker edit distance; rebuild it with irish-tune index for the full one",
            path,
        )


def _folder_path(name_or_path: Any) -> str:
    """A model's ``name_or_path`` as the index records it: absolute when it is a local folder
    (so that the index finds it from any working directory), else as it is ("" for a model
    built in memory)."""
    text = str(name_or_path or "")
    return os.path.abspath(text) if text and os.path.isdir(text) else text


def _index_tokenizer(index: TuneIndex) -> AbcTokenizer:
    """The tokenizer of the folder the index was built from: the tokenizer's own (`build`
    records it when the tokenizer was loaded from a folder), else the model's."""
    folder = index.meta.get("tokenizer") or index.meta.get("model")
    how = "(identify(..., tokenizer=...), irish-tune identify --tokenizer DIR)"
    if not folder:
        raise FileNotFoundError(
            "the index records no tokenizer folder (its tokenizer was not loaded from a local "
            "folder: made in memory, e.g. by AbcTokenizer.train; or the index is older and "
            f"recorded only a model's folder, and its model had none): pass the tokenizer {how}"
        )
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"the tokenizer folder this index was built with ({folder!r}) is gone: pass one "
            f"{how} or rebuild the index"
        )
    return AbcTokenizer.from_pretrained(folder, local_files_only=True)


def identify(
    model: Any,
    index: TuneIndex,
    abc_snippet: str,
    k: int = 10,
    tokenizer: Optional[AbcTokenizer] = None,
    scoring: Optional[str] = None,
    hybrid_weight: float = HYBRID_WEIGHT,
    transpose: bool = True,
) -> list[tuple[str, float]]:
    """Top-`k` `(title, score)` for an ABC snippet or tune.

    `scoring` defaults to `"hybrid"` with a model and `"edit-distance"` without one.

    `scoring`: `"title"` (cosine with the title embeddings: the dual encoder), `"setting"` (best
    cosine with the indexed settings' tune embeddings), or `"hybrid"` (title cosine +
    `hybrid_weight` x the edit-distance score of the best setting: -distance / query length per
    note plus the same per eighth note, 0 for an exact excerpt of a setting as played, about -2
    for nothing alike, less the meter, mode and tune-type penalties; settings the scorer did not
    compare closely score below all that it did). A snippet is compared as typed: one typed
    across first and second endings (``|1 ... :|2 ...``) holds both endings in a row, which no
    pass plays, so it scores below 0 even when copied from the tune's own text; the pass typed
    alone scores 0. "title" is for titles indexed without settings. `"edit-distance"`
    ranks by the edit-distance score alone and needs no model (`model=None`, an index built
    without one); on held-out settings of indexed tunes it names the tune far better than any
    title cosine we trained (docs/BENCHMARKS.md, issue 5), and the hybrid adds little to it.
    `transpose` (default): the edit distance that also finds settings whose tonic sits on
    another white key (`EditDistanceRanker(transpose=True)`). A snippet without `K:` (or
    with `K:none`) is compared in all 12 transpositions, on the settings its intervals pick
    first (`TuneIndex.shift_free_scores`). `tokenizer` defaults to the one saved
    in the index's model (or tokenizer) folder.
    """
    if scoring is None:
        scoring = "hybrid" if model is not None else "edit-distance"
    if scoring not in IDENTIFY_SCORERS:
        raise ValueError(f"scoring must be one of {IDENTIFY_SCORERS}, got {scoring!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    check_score_weight("hybrid_weight", hybrid_weight)
    if scoring != "edit-distance" and (model is None or index.title_embeds.shape[1] == 0):
        raise ValueError(
            f"scoring {scoring!r} needs a tune-title model and an index built with it; "
            "without one, use scoring='edit-distance' (--scoring edit-distance)"
        )
    if scoring != "edit-distance":
        index.check_model_once(model)
    if tokenizer is None:
        tokenizer = _index_tokenizer(index)
    enc = tokenizer.encode_tune(abc_snippet)
    _require_notes(NoteCropper(tokenizer), enc)
    if scoring == "edit-distance":
        scores = _snippet_edit_scores(tokenizer, index, enc.input_ids, abc_snippet, transpose)
    else:
        with single_thread():
            query = embed_tunes(model, [(enc.input_ids, enc.measure_numbers)])[0]
        if scoring == "setting":
            scores = _best_per_title(index.setting_embeds @ query, index.setting_title, len(index))
        else:
            scores = index.title_embeds @ query
        if scoring == "hybrid":
            ed = _snippet_edit_scores(tokenizer, index, enc.input_ids, abc_snippet, transpose)
            scores = scores + hybrid_weight * np.where(np.isfinite(ed), ed, -2.0)
    top = np.argsort(-scores, kind="stable")[:k]
    return [(index.titles[i], float(scores[i])) for i in top]


def _require_notes(cropper: NoteCropper, enc: EncodedTune) -> None:
    """Raise `AbcParseError` at the snippet's first line when it has no note to compare: rests
    alone (`z8|z8|`) or notes all beyond the pitches the tokenizer knows (bar lines alone are
    refused by the reader already).
    Every scorer would rank such a snippet on nothing (the title cosine of a tune of rests,
    an edit distance over no notes), so it is refused as a tune with no notes is."""
    if len(cropper.notes(enc.input_ids)[0]):
        return
    kinds = [token.kind for token in enc.tune.tokens]
    if "note" in kinds:
        reason = (
            f"its {kinds.count('note')} notes are all outside the pitch range the tokenizer "
            "knows (read as <unk>): nothing to compare"
        )
    else:  # rests only: the reader refuses a body with neither notes nor rests
        reason = "has no notes, only rests: nothing to compare"
    tune = enc.tune
    name = tune.title or (f"X:{tune.x}" if tune.x is not None else None)
    raise AbcParseError(reason, tune=name, line=tune.line, column=1)


def single_thread() -> AbstractContextManager[None]:
    """Run torch on one thread: a batch of one small query gains nothing from intra-op threads,
    and on a busy 2-core machine their spin-waiting made a query 50x slower (4 ms vs 250 ms)."""
    return torch_threads(1)


def header_values(cropper: NoteCropper, ids: np.ndarray) -> dict[str, Optional[str]]:
    """Rhythm, mode and meter of a tune's rows (None where unknown), as the title prior reads
    them (`title_prior.HeaderTitlePrior`)."""
    header = cropper.header(ids)
    return {
        "rhythm": _rhythm(header.rhythm),
        "mode": _known(header.mode),
        "meter": _known(header.meter),
    }
