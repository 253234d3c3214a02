"""A name-that-tune index (`TuneIndex`): a corpus's title embeddings, per-setting tune
embeddings and note sequences, built, saved, loaded and checked, and the edit-distance scores
of a query's notes against its settings. `name_that_tune.identify` names a tune with it (and
`TuneIndex` is importable from there, as before).

Reading, encoding and embedding the corpus live in `tune_embedding`; the saved index's files
in `tune_index_files`.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, Optional, Union

import numpy as np

from tokenization.tokenization_abc import AbcTokenizer

from .corpus_keys import title_key
from .edit_distance import SHIFT_CANDIDATES, EditDistanceRanker
from .tune_embedding import (
    Corpus,
    StreamedTuneEmbeddings,
    best_per_title,
    embed_titles,
    encoded_records,
    gives_no_tune,
    notes_and_headers,
    read_tunes,
    require_finite,
    title_gallery,
)
from .tune_index_files import (
    INDEX_ARRAYS,
    INDEX_FORMAT,
    OPTIONAL_INDEX_ARRAYS,
    read_index,
    source_fingerprints,
    warn_changed_sources,
    warn_changed_while_built,
    write_index,
)
from .tune_title_data import NoteCropper

logger = logging.getLogger(__name__)

__all__ = [
    "TuneIndex",
    "REBUILD",
    "check_index",
    "flat_notes",
    "folder_path",
    "nothing_to_index",
    "shape_problems",
    "source_names",
]

#: What to do with an index that holds embeddings that are not finite numbers.
REBUILD = "rebuild it with irish-tune index and a model that gives finite ones"


class TuneIndex:
    """Title embeddings, per-setting tune embeddings and pitch sequences of a corpus.

    Saved as `.npy` arrays and one JSON file (no pickle), normally beside the model.

    >>> from transformers import AutoModel
    >>> model = AutoModel.from_pretrained("runs/tune-title")
    >>> tokenizer = AbcTokenizer.from_pretrained("runs/tune-title")
    >>> index = TuneIndex.build(model, tokenizer, ["tunes.abc"])
    >>> index.save("runs/tune-title/index")
    >>> index = TuneIndex.load("runs/tune-title/index")
    >>> len(index), index.meta["settings"]
    (8, 8)

    `name_that_tune.identify` names a snippet's tune with it.
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
    ) -> None:
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
        chunk_size: int = 512,
        num_threads: Optional[int] = 1,
    ) -> TuneIndex:
        """Embed every distinct title and every titled, readable setting of `corpus_sources`.

        `model=None` builds an index for the edit-distance scorer alone (no embeddings): it
        names tunes without any trained model (`identify(None, index, ..., scoring=
        "edit-distance")`). `unfold_repeats`: the edit distance sees each setting in the order
        it is played, repeats and endings unfolded (`NoteCropper.played`), so that a snippet
        played from the end of a part back to its start is found (a snippet is compared as
        typed: one typed across first and second endings holds both, which no pass plays, and
        is not found exactly); False: as written (the index before; ``meta["order"]`` says which).

        The tunes are encoded one at a time and each one's notes read at once; with a model,
        each ``chunk_size`` settings are embedded (in batches of ``batch_size``, by length)
        as soon as they are encoded, so that the build holds one chunk's ids, not the
        corpus's: its memory grows with the notes and embeddings it keeps, not with the ids.
        ``num_threads``: torch threads while embedding (`embed_tunes`; default 1, ~8x faster
        than 2 on a busy 2-core machine; None: torch's own).

        ``meta`` records the folders of the model and of the tokenizer when they were loaded
        from local folders, so that `identify` finds the tokenizer by itself, and ``report``:
        the tunes ``read``, those left out ``untitled`` and those that could not be read
        (``unreadable``, each error naming its tune; a thesession.org dump row that gives no
        tune among them, named by its row)."""
        # before the read: a file edited while the index is built must read as newer than it
        sources = source_fingerprints(source_names(corpus_sources))
        read = read_tunes(corpus_sources, unreadable=True, desc="Reading tunes")
        # thesession.org dump rows that give no tune (no ABC text, not an object): tunes that
        # could not be read, named by their row, as `check` and `identify` count them
        no_tune = [why for why in map(gives_no_tune, read) if why]
        # each title's key once (0.4 s a pass over thesession's): it names the title in
        # `title_gallery` and `setting_title`
        keyed = [(r, title_key(r["title"])) for r in read if not gives_no_tune(r)]
        records, keys = [r for r, key in keyed if key], [key for _, key in keyed if key]
        failures: list[tuple[int, str]] = []
        cropper = NoteCropper(tokenizer)
        order = "played" if unfold_repeats else "written"
        # each setting's ids read for its notes as it is encoded, then dropped; with a model,
        # held until its chunk of `chunk_size` settings is embedded, never the corpus's at once
        embedder = (
            None
            if model is None
            else StreamedTuneEmbeddings(model, batch_size, max_rows, chunk_size, num_threads)
        )
        notes, headers, kept = _notes_as_encoded(
            tokenizer, records, failures, cropper, order, embedder
        )
        # the last chunk (all of a corpus smaller than one) under a bar of its own
        settings = (
            np.zeros((len(kept), 0))
            if embedder is None
            else embedder.embeddings("Embedding settings")
        )
        report = {
            "read": len(read),
            # `x`, `Gan Ainm` (numbered too: `x (copy 1)`) or no title: nothing to name
            "untitled": len(read) - len(no_tune) - len(records),
            # each names its tune and line (a dump row: its row)
            "unreadable": no_tune + [error for _, error in failures],
        }
        if not kept:  # an empty index named nothing ([]), or failed in `check_model`
            raise ValueError(nothing_to_index(corpus_sources, report))
        records, keys = [records[i] for i in kept], [keys[i] for i in kept]
        display, _, key_index = title_gallery(records, keys)
        pitch_flat, dur_flat, offsets = flat_notes(notes)
        del notes  # the flat arrays hold them now
        meta = {
            "model": folder_path(getattr(model, "name_or_path", "")),
            "settings": len(kept),
            "order": order,
            "report": report,
            # for `load` to warn when the corpus has changed since (the index is then stale)
            "sources": sources,
        }
        # the folder `identify` reads the tokenizer from (none for one made in memory)
        tokenizer_folder = folder_path(getattr(tokenizer, "name_or_path", ""))
        if os.path.isdir(tokenizer_folder):
            meta["tokenizer"] = tokenizer_folder
        if model is None:
            titles = np.zeros((len(display), 0))
        else:
            titles = embed_titles(model, display, desc="Embedding titles", num_threads=num_threads)
            # NaN vectors would score every query NaN: no index of them (`identify` says why)
            require_finite(titles, "the model's embeddings of the titles")
            require_finite(settings, "the model's embeddings of the settings")
        warn_changed_while_built(sources)
        return cls(
            display,
            titles,
            settings,
            np.array([key_index[key] for key in keys], dtype=np.int64),
            pitch_flat,
            offsets,
            meta,
            dur_flat,
            headers["meter"],
            headers["mode"],
            headers["rhythm"],
        )

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the index into the folder `path` (made if need be), replacing an index saved
        there before whole or not at all (`tune_index_files.write_index`: the new files are
        written aside first, so that a full disk or a killed process leaves the earlier index
        as it was): an optional array this index lacks (``dur_flat.npy``) goes with the earlier
        index, so that a stale one is not read back with this one. Other files are left.

        >>> tokenizer = AbcTokenizer.from_pretrained("runs/tune-title")
        >>> index = TuneIndex.build(None, tokenizer, ["tunes.abc"])  # for the edit distance
        >>> index.save("runs/edit-distance-index")
        >>> TuneIndex.load("runs/edit-distance-index").titles == index.titles
        True
        """
        info = {"format": INDEX_FORMAT, "titles": self.titles, "meta": self.meta}
        if self.setting_meters is not None:
            info["setting_meters"] = self.setting_meters
        if self.setting_modes is not None:
            info["setting_modes"] = self.setting_modes
        if self.setting_rhythms is not None:
            info["setting_rhythms"] = self.setting_rhythms
        arrays = {name: getattr(self, name) for name in INDEX_ARRAYS + OPTIONAL_INDEX_ARRAYS}
        # the optional arrays saved, so that a load of this index refuses it without one of
        # them (lost in a copy) rather than score with less information, as an older index does
        info["optional_arrays"] = [n for n in OPTIONAL_INDEX_ARRAYS if arrays[n] is not None]
        write_index(path, arrays, info)

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
        if stored.shape[1] != wanted:
            again = None
        else:  # NaN here is no other model: say what it is (allclose would fail on it)
            again = require_finite(embed_titles(model, self.titles[:1]), "the model's embeddings")
            require_finite(stored[:1], f"{where}'s embeddings", REBUILD)
        if again is None or not np.allclose(again[0], stored[0], atol=1e-3):
            raise ValueError(
                f"{where} was built with another model ({self.meta.get('model') or 'unknown'}, "
                f"{stored.shape[1]}-wide vectors): rebuild it with irish-tune index --model"
            )

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> TuneIndex:
        """Read an index saved by `save`. A file missing, unreadable or at odds with the others
        is a `ValueError` naming the folder (rebuild it with ``irish-tune index``); an index of an
        earlier version without some fields still loads, with a warning for what it lacks. The
        files are read while no save swaps them (a load during a save waits for it, as another
        save does: the index before it or after it, whole), and a save killed while it swapped
        its files in is finished or undone first (`tune_index_files.read_index`)."""
        info, arrays = read_index(path)
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
        check_index(index, os.fspath(path))
        warn_changed_sources(index.meta.get("sources"), os.fspath(path))
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
        """One array of pitch codes per indexed setting (views of `pitch_flat`)."""
        o = self.pitch_offsets
        return [self.pitch_flat[o[i] : o[i + 1]] for i in range(len(o) - 1)]

    def duration_sequences(self) -> Optional[list[np.ndarray]]:
        """One array of note durations per indexed setting, aligned with `pitch_sequences`
        (``None`` for an index saved without them)."""
        if self.dur_flat is None:
            return None
        o = self.pitch_offsets
        return [self.dur_flat[o[i] : o[i + 1]] for i in range(len(o) - 1)]

    def shift_free_scores(
        self,
        pitches: Union[Sequence[Optional[int]], np.ndarray],
        durations: Union[Sequence[float], np.ndarray, None] = None,
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
        return best_per_title(scores, self.setting_title, len(self.titles))

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
        pitches: Union[Sequence[Optional[int]], np.ndarray],
        durations: Union[Sequence[float], np.ndarray, None] = None,
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
        return best_per_title(scores, self.setting_title, len(self.titles))


def flat_notes(
    notes: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each setting's (pitches, lengths) laid end to end as an index holds them: `pitch_flat`
    (int16), `dur_flat` (float32) and the `(n + 1,)` offsets of each setting in them (int64),
    written into arrays made once at their final size (no int64 and float64 copies of all
    the notes on the way).

    >>> p, d, o = flat_notes([(np.array([62, 64]), np.array([1.0, 2.0])), (np.array([67]), [3])])
    >>> p.tolist(), p.dtype, d.tolist(), d.dtype, o.tolist()
    ([62, 64, 67], dtype('int16'), [1.0, 2.0, 3.0], dtype('float32'), [0, 2, 3])
    """
    offsets = np.zeros(len(notes) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(p) for p, _ in notes], dtype=np.int64)
    pitch_flat = np.empty(offsets[-1], dtype=np.int16)
    dur_flat = np.empty(offsets[-1], dtype=np.float32)
    for (pitches, lengths), begin, end in zip(notes, offsets[:-1], offsets[1:]):
        pitch_flat[begin:end] = pitches
        dur_flat[begin:end] = lengths
    return pitch_flat, dur_flat, offsets


def _notes_as_encoded(
    tokenizer: AbcTokenizer,
    records: list[dict[str, str]],
    failures: list[tuple[int, str]],
    cropper: NoteCropper,
    order: str,
    embedder: Optional[StreamedTuneEmbeddings] = None,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, list[Optional[str]]], list[int]]:
    """The notes (int16 pitches, float32 lengths) and headers of each readable record, played
    (``order`` "played": repeats unfolded) or as written, and the indices of those records,
    each record's ids read as it is encoded and dropped then, under one bar, on a terminal
    only (thesession's took 57 MiB held to the end as uint8, 400 as int64). ``embedder``:
    each setting's ids (in the smallest integer type) are also given to it, which embeds them
    a chunk at a time. A record that cannot be read is appended to `failures` as
    `encode_records` does."""
    kept: list[int] = []
    what = "Indexing tunes" if embedder is None else "Indexing and embedding tunes"

    def each_ids() -> Iterator[np.ndarray]:
        desc, compact = f"{what}, notes as {order}", embedder is not None
        for i, ids, measures in encoded_records(
            tokenizer, records, failures, desc, terminal_only=True, compact=compact
        ):
            kept.append(i)
            if embedder is not None:
                embedder.add(ids, measures)
            yield ids

    notes, headers = notes_and_headers(cropper, each_ids(), order == "played", None, narrow=True)
    return notes, headers, kept


def nothing_to_index(corpus: Corpus, report: dict[str, Any]) -> str:
    """The error of an index with nothing in it: no tune at all in the sources (each named with
    why: an empty, binary or prose file, as `check` says it), or the counts of the tunes read
    that could not be indexed (untitled, unreadable).

    >>> nothing_to_index(["X:1\\nT:x\\nK:D\\nAB|"], {"read": 1, "untitled": 1, "unreadable": []})
    'nothing to index in the tunes given: 1 tunes read, 1 without a title, 0 unreadable'
    """
    from .abc_sources import no_tune_reasons

    sources = source_names(corpus)
    if report["read"] == 0 and not report["unreadable"]:
        return (
            f"nothing to index: no tune in {no_tune_reasons(sources)}"
            if sources
            else ("nothing to index: no tune given")
        )
    return (
        f"nothing to index in {' '.join(sources) or 'the tunes given'}: {report['read']} tunes "
        f"read, {report['untitled']} without a title, {len(report['unreadable'])} unreadable"
    )


def source_names(corpus: Corpus) -> list[str]:
    """The files, folders or dumps that `read_tunes` reads ``corpus`` from, as given ([] for
    texts or records of tunes).

    >>> source_names("tunes.abc"), source_names(["a.abc", "b"]), source_names(["X:1\\nK:G"])
    (['tunes.abc'], ['a.abc', 'b'], [])
    """
    if isinstance(corpus, (str, os.PathLike)):
        return [os.fspath(corpus)]
    items = list(corpus) if isinstance(corpus, (list, tuple)) else []
    if all(isinstance(x, (str, os.PathLike)) and "\n" not in os.fspath(x) for x in items):
        return [os.fspath(x) for x in items]
    return []


def check_index(index: TuneIndex, path: str) -> None:
    """The saved arrays must have their shapes (`shape_problems`) and agree: one
    setting_title, offset span, meter... per setting."""
    shapes = shape_problems(index)
    if shapes:  # the checks below would fail on them with a bare TypeError or IndexError
        raise ValueError(f"the index {path!r} is damaged: {'; '.join(shapes)}; rebuild it")
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


def shape_problems(index: TuneIndex) -> list[str]:
    """What is wrong with the number of dimensions of an index's arrays: one value a setting or
    note (1-D), one row of equal width a title and a setting (2-D embeddings; 0 wide without a
    model). A hand-edited or foreign ``.npy`` file of another shape loads without complaint.

    >>> index = TuneIndex([], np.zeros((0, 4)), np.zeros((0, 2)), np.array(3), [], [0])
    >>> print("; ".join(shape_problems(index)))
    setting_title.npy is 0-D, not 1-D; the title and setting embeddings are 4 and 2 wide
    """
    problems = []
    for name in ("setting_title", "pitch_flat", "pitch_offsets", "dur_flat"):
        array = getattr(index, name)
        if array is not None and array.ndim != 1:
            problems.append(f"{name}.npy is {array.ndim}-D, not 1-D")
    embeds = {"title_embeds": index.title_embeds, "setting_embeds": index.setting_embeds}
    for name, array in embeds.items():
        if array.ndim != 2:
            problems.append(f"{name}.npy is {array.ndim}-D, not 2-D")
    if all(a.ndim == 2 for a in embeds.values()):
        widths = [a.shape[1] for a in embeds.values()]
        if widths[0] != widths[1]:
            problems.append(
                f"the title and setting embeddings are {widths[0]} and {widths[1]} wide"
            )
    return problems


def folder_path(name_or_path: Any) -> str:
    """A model's ``name_or_path`` as the index records it: absolute when it is a local folder
    (so that the index finds it from any working directory), else as it is ("" for a model
    built in memory)."""
    text = str(name_or_path or "")
    return os.path.abspath(text) if text and os.path.isdir(text) else text
