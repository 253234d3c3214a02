"""The two retrieval protocols of the tune-title task, with the model, the edit distance and
their hybrid as scorers: `evaluate_retrieval` (behind `irish-tune evaluate-retrieval`).

*known*: each query is an excerpt of a held-out setting of a tune whose title is in training;
the gallery is every distinct training title. *unseen*: each query is an excerpt of a tune whose
tune id and title are not in training; the gallery is the queries' distinct titles.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from tqdm.auto import tqdm

from tokenization.abc_tunebook import x_number
from tokenization.capped_warnings import CappedWarnings, counted, masked
from tokenization.tokenization_abc import AbcTokenizer, UnreadableRowsError
from tokenization.tokenizer_checks import tune_label

from .corpus_keys import title_key
from .edit_distance import WINDOW, EditDistanceRanker
from .identified import unknown_note_names
from .name_that_tune import HYBRID_WEIGHT
from .retrieval import random_baseline, rank_of_targets, retrieval_metrics
from .tune_embedding import (
    Corpus,
    best_per_title,
    embed_titles,
    embed_tunes,
    encoded_records,
    header_lists,
    header_values,
    notes_and_headers,
    read_tunes,
    single_thread,
    title_gallery,
)
from .tune_title_data import NoteCropper, setting_key

__all__ = [
    "EditScorerOptions",
    "NoQueryTunesError",
    "NoUsableQueriesError",
    "evaluate_retrieval",
    "query_edit_scores",
    "settings_ranker",
    "titled_settings",
    "training_ids",
    "protocol_queries",
    "excerpt_query_rows",
]

# unseen protocol, edit-distance baseline: weight of the neighbour-title cosine beside the header
# prior's log-probabilities, chosen on two development sets drawn from the training split
NEIGHBOUR_WEIGHT = 3.0
PROTOCOLS = ("known", "unseen")
# why a query is outside each protocol (`dropped_reasons["not_in_protocol"]`)
_OUTSIDE = {
    "known": "no training setting has its title once the query's own setting (the same setting "
    "id, or the same title and body) is taken out of training, untitled included",
    "unseen": "untitled, or its tune id or title is in training",
}
QUERY_ORDERS = ("written", "played")
SCORERS = (None, "edit-distance", "hybrid")


@dataclass(frozen=True)
class EditScorerOptions:
    """How the edit-distance baseline scores, passed whole from `evaluate_retrieval` down to
    `settings_ranker`.

    Attributes:
        eighths_weight: weight of the per-eighth-note part (0: per note only).
        meter_mode: the penalties for settings in another meter, mode or tune type (False:
            without them, the scorer before they were added).
        transpose: the scorer that also finds settings whose tonic sits on another white key
            (`EditDistanceRanker(transpose=True)`, the default; False: pitch classes only, the
            scorer before it, about 0.6x the time).
        unfold_repeats: compare the settings in the order they are played, repeats and endings
            unfolded (`NoteCropper.played`, the default), so that an excerpt running from the
            end of a part back to its start, as heard, is found too; False: as written, the
            scorer before it, about 0.7x the time.

    >>> EditScorerOptions(transpose=False)
    EditScorerOptions(eighths_weight=1.0, meter_mode=True, transpose=False, unfold_repeats=True)
    """

    eighths_weight: float = 1.0
    meter_mode: bool = True
    transpose: bool = True
    unfold_repeats: bool = True


def protocol_queries(
    train: list[dict[str, str]], queries: list[dict[str, str]], protocol: str
) -> tuple[list[str], dict[str, int], list[dict[str, str]], int]:
    """Gallery titles, key index, the kept queries, and how many were dropped."""
    if protocol == "known":
        display, _, index = title_gallery(train)
        kept = [q for q in queries if title_key(q["title"]) in index]
    else:
        seen_ids = {r["tune_id"] for r in train if r["tune_id"]}
        train_keys = {title_key(r["title"]) for r in train}
        kept = [
            q
            for q in queries
            if title_key(q["title"])
            and q["tune_id"] not in seen_ids
            and title_key(q["title"]) not in train_keys
        ]
        display, _, index = title_gallery(kept)
    return display, index, kept, len(queries) - len(kept)


def excerpt_query_rows(
    tokenizer: AbcTokenizer,
    queries: list[dict[str, str]],
    excerpt_notes: int,
    seed: int,
    query_order: str = "written",
    said: Optional[CappedWarnings] = None,
) -> tuple[list, list[int]]:
    """(ids, measures) of each readable query's excerpt and the indices of those queries.

    The excerpt is cut from the query as written, or with `query_order="played"` from its
    played order (repeats and endings unfolded, as a listener hears it). A query whose excerpt
    holds a value the tokenizer's vocabulary does not know where the crop must read it back (a
    note length read as `<unk>`) is left out like an unreadable one, and so is a query with no
    note at all (only rests: no scorer can compare it). An excerpt holds `excerpt_notes` notes,
    rests not counted (`NoteCropper.crop`), so a query with a note always gives one.

    `said`: where each query left out is named with why (`_UNREADABLE_QUERIES`), and each
    the reader did not read exactly as written with what it left out or changed
    (`_CHANGED_QUERIES`; `_warn_changed_query`), the first few of each kind, then counted."""
    if query_order not in QUERY_ORDERS:
        raise ValueError(f"query_order must be one of {QUERY_ORDERS}, got {query_order!r}")
    cropper = NoteCropper(tokenizer)
    failures: list[tuple[int, str]] = []
    changed: list[tuple[int, list[str]]] = []
    cropped: list[tuple[int, str, str]] = []
    rows, readable = [], []
    # each query cropped as it is encoded: its excerpt held, not its whole setting's ids
    for i, x, _ in encoded_records(tokenizer, queries, failures, changed=changed):
        if query_order == "played":
            x = cropper.played(x)
        try:
            crop = cropper.crop(x, excerpt_notes, np.random.default_rng((seed, i)))
        except UnreadableRowsError as err:
            why = _unreadable_excerpt(tokenizer, queries[i]["abc"], err)
            cropped.append((i, f"its excerpt cannot be read back: {why}", "excerpt unreadable"))
            continue
        if not len(cropper.pitches(crop[0])):
            cropped.append((i, "no note in its excerpt (rests only)", "no note"))
            continue
        rows.append(crop)
        readable.append(i)
    left_out = [(i, error, error.rsplit(": ", 1)[-1]) for i, error in failures] + cropped
    if said is not None:
        scored = set(readable)  # one left out is named as such below
        for i, warnings in changed:
            if i in scored:
                _warn_changed_query(said, queries[i], warnings)
        for i, why, reason in sorted(left_out):
            name = _query_name(queries[i])
            message = "evaluate_retrieval: left out the query %s: %s"
            said.warn(_UNREADABLE_QUERIES, masked(reason), message, name, why)
    return rows, readable


def _unreadable_excerpt(tokenizer: AbcTokenizer, abc: str, err: UnreadableRowsError) -> str:
    """Why the excerpt of query ``abc`` cannot be read back, as its user knows the query: where
    some of its notes have a length the vocabulary lacks (the usual reason), the feature, its
    values (in eighths, as `evaluate-lm` names them) and the notes as typed
    (`unknown_note_names`), not the row and the note spelled in the normalised key (``^f`` in
    C major) that the rows name; ``err`` itself otherwise (a rest's length, a bar line it
    lacks)."""
    enc = tokenizer.encode_tune(abc)  # read once before: only a query left out reads it again
    named = unknown_note_names(enc, abc).get("length")
    if named is None:
        return str(err)
    count, notes = named
    values = ", ".join(dict.fromkeys(enc.unknown_values().get("dur", [])))
    return (
        f"it holds notes whose length is not in the tokenizer's vocabulary (feature 'dur', "
        f"{values} of an eighth; read as <unk>): {count} of the query's notes, {notes}"
    )


#: The kinds of the warnings about the queries (`CappedWarnings`): the first few of each kind
#: are named, then one line counts them all by reason.
_UNREADABLE_QUERIES = "queries left out as unreadable"
_CHANGED_QUERIES = "queries scored as read, not as written"


def _query_name(record: dict[str, Any]) -> str:
    """How the warnings name a query, after "the query": its ``X:`` number and title, as the
    tokenizer's warnings do (`tune_label`), and where it is (its file and line, or its dump
    row) when it was read from one.

    >>> _query_name({"title": "The Kesh", "abc": "X:7\\nT:The Kesh\\nK:G\\nGA|"})
    "X:7 'The Kesh'"
    """
    name = tune_label(x_number(record["abc"]), record.get("title"), None)
    name = name.removeprefix("the tune").strip() or "without X: or T: line"
    raw = record.get("where")
    return f"{name} ({raw.place})" if raw is not None else name


def _warn_changed_query(said: CappedWarnings, record: dict[str, Any], warnings: list[str]) -> None:
    """Name, in ``said``, a query the reader did not read exactly as written, with what it left
    out or changed (its ``warnings``; for one read from a file, at the file's lines, less what
    the file said once: `RawTune.read_warnings`). Nothing said when those are all the file's."""
    raw = record.get("where")
    if raw is not None:
        warnings = raw.read_warnings()
    if warnings:
        said.warn(
            _CHANGED_QUERIES,
            masked(warnings[0]),
            "evaluate_retrieval: the query %s was scored as read, not as written: %s",
            _query_name(record),
            "; ".join(warnings),
        )


def _each_query(rows: Sequence[Any], progress: bool) -> Any:
    """`rows`, under a "Scoring queries" bar on stderr when `progress` (on a terminal only, as
    `irish-tune check`'s, and cleared when done: stdout stays the report)."""
    return tqdm(
        rows, desc="Scoring queries", unit="query", disable=None if progress else True, leave=False
    )


def _warm_up(score: Callable[[Any], Any], rows: Sequence[Any]) -> None:
    """Score the first query once, untimed, before a scorer's queries are timed: the edit
    distance's first call loads its compiled scan (about 1.6 s, once a process), a start-up
    cost that `ms_per_query` must not spread over the queries (as the model's warm-up in
    `_model_scores`)."""
    if len(rows):
        score(rows[0])


def _model_scores(model, rows, gallery_embeds, progress: bool = False) -> tuple[np.ndarray, float]:
    """`(n_queries, n_gallery)` cosines, one query at a time; returns scores and ms per query."""
    with single_thread():
        embed_tunes(model, rows[:1])  # warm-up (first call allocates)
        begin = time.perf_counter()
        scores = np.stack(
            [embed_tunes(model, [r])[0] @ gallery_embeds.T for r in _each_query(rows, progress)]
        )
        elapsed = time.perf_counter() - begin
    return scores, 1000 * elapsed / max(len(rows), 1)


logger = logging.getLogger(__name__)


def training_ids(
    tokenizer: AbcTokenizer,
    records: list[dict[str, str]],
    options: EditScorerOptions = EditScorerOptions(),
    progress: bool = False,
) -> Iterator[tuple[int, np.ndarray]]:
    """`(index, input_ids)` of each readable training setting as it is encoded, so that a
    caller that reads its notes at once (`settings_ranker` takes an iterator) holds one
    setting's ids, not the corpus's (as `TuneIndex.build` reads them); once all are given, says
    how many settings it could not read. `progress`: one bar on a terminal for both, the
    encoding and the notes read in the order `options` says ("Reading training tunes, notes
    as played"), counting the records.

    >>> tok = AbcTokenizer.from_pretrained("runs/tune-title")
    >>> [i for i, _ in training_ids(tok, [{"abc": "X:1\\nK:D\\nDFA|"}, {"abc": "X:2\\nK:G\\nGB|"}])]
    [0, 1]
    """
    failures: list[tuple[int, str]] = []
    order = "played" if options.unfold_repeats else "written"
    desc = f"Reading training tunes, notes as {order}" if progress else None
    stream = encoded_records(tokenizer, records, failures, desc, terminal_only=True)
    for i, ids, _ in stream:
        yield i, ids
    if failures:
        logger.warning(
            "left out %d of %d training settings that could not be read (the first: %s)",
            len(failures),
            len(records),
            failures[0][1],
        )


def settings_ranker(
    cropper: NoteCropper,
    ids: Iterable[np.ndarray],
    owner: Optional[Sequence[Any]],
    options: EditScorerOptions = EditScorerOptions(),
    headers: Optional[Sequence[dict[str, Optional[str]]]] = None,
    window: Optional[int] = WINDOW,
    progress: bool = False,
) -> EditDistanceRanker:
    """The edit-distance scorer over encoded settings `ids` (`owner[i]` names setting i's title;
    None: each setting its own, its number):
    pitch classes per note, plus the per-eighth part, the penalties, the transposition and the
    played order as `options` say (`headers`: each setting's `header_values`, when the caller
    has them already; `window`: the gallery windows of `EditDistanceRanker`; `progress`: the
    index's "Reading notes as played" bar, on a terminal, `tune_embedding.notes_and_headers`).
    `ids` may be an iterator (each setting's notes are read as it comes and its ids not held);
    `owner` and `headers` are read only once every setting has been, so that lists that such
    an iterator fills as it goes do. Shared by the evaluation and the benchmarks, so that they
    measure one scorer. The notes are held as a `TuneIndex` holds them (int16 pitches, float32
    lengths: `notes_and_headers`'s ``narrow``) until the galleries are built, so that the
    evaluation scores what `identify` does, and holds 6 bytes a note, not 16."""
    order = "played" if options.unfold_repeats else "written"
    desc = f"Reading notes as {order}" if progress else None
    read_headers = options.meter_mode and headers is None
    notes, read = notes_and_headers(
        cropper, ids, options.unfold_repeats, desc, read_headers, terminal_only=True, narrow=True
    )
    fields: dict[str, Any] = {"meter": None, "mode": None, "rhythm": None}
    if options.meter_mode:
        fields = read if headers is None else header_lists(headers)
    return EditDistanceRanker(
        [p for p, _ in notes],
        list(range(len(notes)) if owner is None else owner),
        gallery_durations=[d for _, d in notes] if options.eighths_weight else None,
        eighths_weight=options.eighths_weight,
        gallery_meters=fields["meter"],
        gallery_modes=fields["mode"],
        gallery_rhythms=fields["rhythm"],
        transpose=options.transpose,
        window=window,
    )


def query_edit_scores(
    ranker: EditDistanceRanker,
    cropper: NoteCropper,
    rows: np.ndarray,
    meter_mode: bool = True,
    header: Optional[dict[str, Optional[str]]] = None,
) -> np.ndarray:
    """`(n_settings,)` scores of one query's encoded `rows` (its meter, mode and rhythm read
    from its header columns for the penalties unless `meter_mode` is False; `header`: its
    `header_values`, when the caller has them already)."""
    if not meter_mode:
        return ranker.scores(*cropper.notes(rows))
    header = header or header_values(cropper, rows)
    return ranker.scores(*cropper.notes(rows), header["meter"], header["mode"], header["rhythm"])


def _edit_scores(
    tokenizer, train, key_index, rows, options: EditScorerOptions, progress: bool = False
) -> tuple[np.ndarray, float]:
    """Best edit-distance score of each gallery title over its training settings (see
    `settings_ranker`)."""
    cropper = NoteCropper(tokenizer)
    titled = [r for r in train if title_key(r["title"]) in key_index]
    owners: list[int] = []  # each readable setting's title, filled as the settings are read

    def each_ids() -> Iterator[np.ndarray]:
        for i, ids in training_ids(tokenizer, titled, options, progress):
            owners.append(key_index[title_key(titled[i]["title"])])
            yield ids

    ranker = settings_ranker(cropper, each_ids(), owners, options)  # `training_ids`'s bar
    owner = np.array(owners, dtype=np.int64)

    def score(query: Any) -> np.ndarray:
        edit = query_edit_scores(ranker, cropper, query[0], options.meter_mode)
        return best_per_title(edit, owner, len(key_index))

    _warm_up(score, rows)
    begin = time.perf_counter()
    scores = np.stack([score(r) for r in _each_query(rows, progress)])
    return scores, 1000 * (time.perf_counter() - begin) / max(len(rows), 1)


def titled_settings(
    tokenizer: AbcTokenizer,
    train: list[dict[str, str]],
    options: EditScorerOptions = EditScorerOptions(),
    progress: bool = False,
) -> tuple[NoteCropper, EditDistanceRanker, list[str], list[dict[str, Optional[str]]]]:
    """The readable titled training settings as the neighbour-title scorer sees them: a cropper,
    the edit-distance ranker over them (`settings_ranker`, one owner per setting), their titles
    and their headers (`header_values`). Shared with the benchmark that tunes the scorer.
    `progress`: a bar over the training tunes read, on a terminal."""
    cropper = NoteCropper(tokenizer)
    titled = [r for r in train if title_key(r["title"])]
    names: list[str] = []  # filled as the settings are read, one setting's ids at a time
    headers: list[dict[str, Optional[str]]] = []

    def each_ids() -> Iterator[np.ndarray]:
        for i, ids in training_ids(tokenizer, titled, options, progress):
            names.append(titled[i]["title"])
            headers.append(header_values(cropper, ids))
            yield ids
        if not names:
            raise ValueError("the training corpus has no readable titled tune to take titles from")

    ranker = settings_ranker(cropper, each_ids(), None, options, headers)  # one bar, as above
    return cropper, ranker, names, headers


def _neighbour_title_scores(
    tokenizer, train, display, rows, options: EditScorerOptions, progress: bool = False
) -> tuple[np.ndarray, float]:
    """`(queries, gallery)` scores of the edit-distance baseline under the unseen protocol:
    `NEIGHBOUR_WEIGHT` x the cosine of each gallery title to the query's predicted title (the
    titles of its nearest training settings by edit distance and its rhythm's mean title,
    `neighbour_titles.NeighbourTitles`) + log P(the query's rhythm, mode and meter | title
    words) (`title_prior.HeaderTitlePrior`, fitted on the training titles)."""
    from .neighbour_titles import NeighbourTitles, minilm_title_embeddings
    from .title_prior import HeaderTitlePrior

    cropper, ranker, names, headers = titled_settings(tokenizer, train, options, progress)
    embeds = minilm_title_embeddings(names + list(display))
    rhythms = [h["rhythm"] for h in headers]
    predictor = NeighbourTitles(embeds[: len(names)], rhythms, [title_key(n) for n in names])
    prior = HeaderTitlePrior(names, headers)
    gallery = embeds[len(names) :]

    def cosine(query: Any, header: Optional[dict[str, Optional[str]]] = None) -> np.ndarray:
        header = header or header_values(cropper, query[0])
        edit = query_edit_scores(ranker, cropper, query[0], options.meter_mode, header)
        return predictor.predict(edit, header["rhythm"]) @ gallery.T

    _warm_up(cosine, rows)
    begin = time.perf_counter()
    query_headers = [header_values(cropper, r[0]) for r in rows]
    cosines = np.stack([cosine(r, h) for r, h in zip(_each_query(rows, progress), query_headers)])
    scores = NEIGHBOUR_WEIGHT * cosines + prior.log_probs(display, query_headers)
    return scores, 1000 * (time.perf_counter() - begin) / max(len(rows), 1)


def _scorer_name(baseline: Optional[str], protocol: str) -> str:
    """What ranked the titles, as reported in the metrics."""
    if baseline == "edit-distance" and protocol == "unseen":
        return "edit-distance (neighbour titles + header prior)"
    if baseline == "hybrid" and protocol == "unseen":
        return "hybrid (model alone: no gallery title has a setting)"
    return baseline or "model"


def _mrr_stderr(ranks: Any, k: int) -> Optional[float]:
    """Standard error of MRR@k over the queries (sample std of the reciprocal ranks / sqrt n):
    how far two scorers' MRR@k must differ on one query set before the difference means much.
    None for a single query (JSON ``null``, not ``NaN``)."""
    r = np.asarray(ranks, dtype=np.float64).reshape(-1)
    reciprocal = np.where(r <= k, 1.0 / r, 0.0)
    return float(reciprocal.std(ddof=1) / np.sqrt(r.size)) if r.size > 1 else None


def _why_no_tunes(corpus: Any) -> str:
    """`` (why)`` for a corpus of sources that holds no tune: each file, folder or dump with
    its reason, as `irish-tune check` says it (an empty, binary or prose file); ``""`` for a
    list of texts or records, whose emptiness says it all.

    >>> _why_no_tunes([])
    ''
    """
    from .abc_sources import no_tune_reason, no_tune_reasons

    sources = [corpus] if isinstance(corpus, (str, os.PathLike)) else corpus
    if not isinstance(sources, (list, tuple)) or not sources:
        return ""
    if not all(isinstance(s, (str, os.PathLike)) and "\n" not in str(s) for s in sources):
        return ""
    if len(sources) == 1:
        return f" ({no_tune_reason(sources[0])})"
    return f" ({no_tune_reasons(sources)})"


class NoUsableQueriesError(ValueError):
    """`evaluate_retrieval` read queries but none can be scored (each outside the protocol or
    unreadable). ``metrics``: the object it returns otherwise, with ``queries`` 0, null figures
    and the dropped counts (what ``irish-tune evaluate-retrieval --json`` prints)."""

    def __init__(self, message: str, metrics: dict[str, Any]) -> None:
        super().__init__(message)
        self.metrics = metrics


def _about(
    dropped_reasons: dict[str, int],
    protocol: str,
    baseline: Optional[str],
    excerpt_notes: int,
    query_order: str,
    changed_queries: int = 0,
    copies: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """The keys of the metrics object that say what was evaluated: the dropped queries (in
    all, and by reason), the queries scored as read, not as written, the queries whose copies
    were taken out of training and those copies (`copies`, `_copied_queries`), the protocol,
    scorer, excerpt length and query order."""
    return dict(
        dropped_queries=sum(dropped_reasons.values()),
        dropped_reasons=dropped_reasons,
        changed_queries=changed_queries,
        copied_queries=copies[0],
        train_copies_removed=copies[1],
        protocol=protocol,
        scorer=_scorer_name(baseline, protocol),
        excerpt_notes=excerpt_notes,
        query_order=query_order,
    )


def _own_setting_only(
    train_records: list[dict[str, str]],
    queries: list[dict[str, str]],
    kept: list[dict[str, str]],
    protocol: str,
) -> str:
    """``"; N of them only because ..."`` for the known-protocol queries dropped whose title is
    in `train_records` as their own setting alone (taken out as held out), else ``""``: their
    title was in the training file, so "no training setting has its title" alone misleads."""
    if protocol != "known":
        return ""
    in_train = {title_key(r["title"]) for r in train_records}
    kept_ids = {id(q) for q in kept}
    own = sum(1 for q in queries if id(q) not in kept_ids and title_key(q["title"]) in in_train)
    if not own:
        return ""
    return (
        f"; {own} of them only because every training setting of its title was a copy of "
        "the query itself"
    )


def _copied_queries(
    train_records: list[dict[str, str]], kept: list[dict[str, str]], protocol: str
) -> tuple[int, int]:
    """`(queries, training tunes)`: the queries inside the protocol (`kept`) that copy a tune of
    `train_records` (the same `setting_key`: setting id, else title and body), and the training
    tunes taken out as their copies before they were scored. Under ``"unseen"`` each such query
    is scored as unseen only because its copies were taken out (against the whole training file
    its tune id or title is in training); under ``"known"`` it is held out as the protocol means.
    Said in a warning (unseen) or an info line (known), so that neither passes without a word.

    >>> kesh = {"title": "The Kesh", "abc": "X:1\\nT:The Kesh\\nK:G\\nGAB|"}
    >>> _copied_queries([kesh, kesh], [kesh], "unseen")
    (1, 2)
    """
    train_keys = [setting_key(r["title"], r["abc"]) for r in train_records]
    present = set(train_keys)
    copied = {setting_key(q["title"], q["abc"]) for q in kept} & present
    queries = sum(1 for q in kept if setting_key(q["title"], q["abc"]) in copied)
    removed = sum(1 for key in train_keys if key in copied)
    if queries:
        level, outcome = (
            (logging.WARNING, "scored as unseen all the same")
            if protocol == "unseen"
            else (logging.INFO, "scored as held out")
        )
        logger.log(
            level,
            "evaluate_retrieval: %d of the %s-protocol queries %s a training tune (the same "
            "setting id, or the same title and body): %s taken out as %s first, and %s %s",
            queries, protocol, "copies" if queries == 1 else "copy",
            counted(removed, "training tune"), "a copy" if removed == 1 else "copies",
            "that query" if queries == 1 else "those queries", outcome,
        )  # fmt: skip
    return queries, removed


def _no_query_metrics(gallery: int, about: dict[str, Any]) -> dict[str, Any]:
    """The metrics object of an evaluation with no query scored: every key in its order, the
    figures null (their names those `retrieval_metrics` gives, here of one dummy rank)."""
    figures = dict.fromkeys(retrieval_metrics([1], (1, 5, 10), 20))
    figures.update(queries=0, mrr_at_20_stderr=None, gallery=gallery)
    return {**figures, "random_mrr_at_20": None, "ms_per_query": None, **about}


class NoQueryTunesError(NoUsableQueriesError):
    """The queries of `evaluate_retrieval` hold no tune at all (an empty, binary or prose file;
    nothing on stdin). ``metrics``: as `NoUsableQueriesError`'s, nothing dropped, ``gallery``
    null (the training tunes are not read) and the message as its ``error``."""

    def __init__(
        self,
        message: str,
        protocol: str,
        baseline: Optional[str],
        excerpt_notes: int,
        query_order: str,
    ) -> None:
        nothing = {"not_in_protocol": 0, "unreadable": 0}
        about = _about(nothing, protocol, baseline, excerpt_notes, query_order)
        metrics = {**_no_query_metrics(0, about), "gallery": None, "error": message}
        super().__init__(message, metrics)


def evaluate_retrieval(
    model: Any,
    tokenizer: AbcTokenizer,
    train_corpus: Corpus,
    queries: Corpus,
    protocol: str = "known",
    excerpt_notes: int = 30,
    seed: int = 0,
    baseline: Optional[str] = None,
    hybrid_weight: float = HYBRID_WEIGHT,
    eighths_weight: float = 1.0,
    meter_mode: bool = True,
    transpose: bool = True,
    unfold_repeats: bool = True,
    query_order: str = "written",
    progress: bool = False,
) -> dict[str, Any]:
    """Rank gallery titles for every query excerpt and return a flat metrics dict.

    Protocols: `"known"`, each query is an `excerpt_notes`-note excerpt (rests not counted,
    `NoteCropper.crop`; random start, seeded by `(seed, query number)`) of a held-out setting
    whose title is in training; the gallery is every distinct (normalised) training title.
    `"unseen"`, each query is an excerpt of a tune whose tune id and title are not in training;
    the gallery is the queries' distinct titles. `excerpt_notes=0` uses whole tunes. Ties are
    broken against the scorer, and so is a NaN score (`rank_of_targets`: a NaN wrong title ranks
    ahead, a NaN correct one last); +-inf are scores like any other. Training tunes that are a
    query's setting are left out, whatever their ``X:`` or spacing (`setting_key`: the same
    thesession setting id, else the same title and body, the rule `known_tune_holdout` holds out
    by), so `train_corpus` may contain the queries.

    `baseline`: None (the model's title cosine), `"edit-distance"` (under `"known"` each gallery
    title is scored by its best training setting; under `"unseen"`, where no gallery title has a
    setting, by its MiniLM cosine to the titles of the query's nearest training settings and
    the mean title of its rhythm, see `neighbour_titles`, plus log P(the query's rhythm, mode and
    meter | title words), see `title_prior`), or `"hybrid"` (cosine +
    `hybrid_weight` x edit-distance score under `"known"`, -2 where none; the model alone under
    `"unseen"`).
    `eighths_weight`: weight of the edit distance's per-eighth-note part (0: per note only, the
    representation before the per-eighth part was added). `meter_mode`: the edit distance's
    penalties for training settings in another meter, mode or rhythm than the query (False:
    without, the scorer before they were added). `transpose`: the edit distance that also finds
    training settings whose tonic sits on another white key (`EditDistanceRanker`; False: pitch
    classes only, the scorer before it). `unfold_repeats`: the edit distance compares training
    settings in played order, repeats and endings unfolded (False: as written, the scorer before
    it). `query_order`: `"written"`, excerpts cut from the query as written (the protocol of the
    reported figures), or `"played"`, from its played order, as a listener would hear and play it.
    `progress`: progress bars on stderr (the training tunes read, their notes, the queries
    scored), where it is a terminal (`irish-tune evaluate-retrieval` shows them).
    Each query left out as unreadable, and each scored as read, not as written (with what the
    reader changed, at its file's lines), is named in a warning: the first 5 of each kind,
    then one line counts them all by reason (`CappedWarnings`).

    Keys: `mrr_at_20`, `mrr_at_20_stderr` (its standard error over the queries), `r_at_1`,
    `r_at_5`, `r_at_10`, `mean_rank`, `median_rank`, `queries`,
    `gallery`, `random_mrr_at_20`, `ms_per_query`, `dropped_queries` and `dropped_reasons`
    (`not_in_protocol`: no training setting with the title under `"known"`, an untitled query or
    one whose tune id or title is in training under `"unseen"`; `unreadable`),
    `changed_queries` (queries scored as read, not as written: the reader left out a body
    ``W:`` line, a decoration, a second voice...), `copied_queries` and `train_copies_removed`
    (the queries inside the protocol that copy a training tune, whose copies were taken out of
    training first, and those copies: under `"unseen"` such a query is scored as unseen only
    because of that, said in a warning), `protocol`,
    `scorer`, `excerpt_notes`, `query_order`. Queries read of which none can be scored are a
    `NoUsableQueriesError` (a `ValueError`) that carries this object, its figures null; queries
    that hold no tune at all, its `NoQueryTunesError`.

    >>> from transformers import AutoModel
    >>> model = AutoModel.from_pretrained("runs/tune-title")
    >>> tok = AbcTokenizer.from_pretrained("runs/tune-title")
    >>> m = evaluate_retrieval(model, tok, "tunes.abc", "known_queries.abc")
    >>> m["queries"], m["gallery"], m["protocol"], m["scorer"]
    (3, 8, 'known', 'model')
    >>> sorted(m)[:3]
    ['changed_queries', 'copied_queries', 'dropped_queries']
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    options = EditScorerOptions(eighths_weight, meter_mode, transpose, unfold_repeats)
    for name, weight in (("eighths_weight", eighths_weight), ("hybrid_weight", hybrid_weight)):
        if not (0 <= weight < float("inf")):  # checked before any tune is read; NaN fails too
            raise ValueError(f"{name} must be a finite number >= 0, got {weight}")
    if baseline not in SCORERS:
        raise ValueError(f"baseline must be one of {SCORERS}, got {baseline!r}")
    if model is None and baseline != "edit-distance":
        raise ValueError(
            f"evaluate_retrieval: a model is needed unless the baseline is 'edit-distance' "
            f"(baseline={baseline!r} scores with the model's title cosine)"
        )
    if excerpt_notes < 0:
        raise ValueError(
            f"evaluate_retrieval: excerpt_notes is a number of notes (0: whole tunes), got "
            f"{excerpt_notes}"
        )
    query_records = read_tunes(queries)
    if not query_records:
        no_tune = f"no tunes in the queries {queries!r}{_why_no_tunes(queries)}"
        raise NoQueryTunesError(no_tune, protocol, baseline, excerpt_notes, query_order)
    # a query is held out: drop any copy of it from the training side, whatever its header
    held = {setting_key(q["title"], q["abc"]) for q in query_records}
    train_records = read_tunes(train_corpus)
    if not train_records:
        raise ValueError(f"no training tunes in {train_corpus!r}{_why_no_tunes(train_corpus)}")
    train = [r for r in train_records if setting_key(r["title"], r["abc"]) not in held]
    if not train:
        raise ValueError(f"no training tunes in {train_corpus!r} (besides the queries)")
    display, key_index, kept, dropped = protocol_queries(train, query_records, protocol)
    own_only = _own_setting_only(train_records, query_records, kept, protocol)
    copies = _copied_queries(train_records, kept, protocol)
    with CappedWarnings(logger) as said:  # hundreds of queries: the first few named
        rows, readable = excerpt_query_rows(tokenizer, kept, excerpt_notes, seed, query_order, said)
    # why: outside the protocol (known: no training setting has the query's title, untitled
    # included; unseen: untitled, or its tune id or title is in training), or unreadable
    dropped_reasons = {"not_in_protocol": dropped, "unreadable": len(kept) - len(readable)}
    changed = said.total(_CHANGED_QUERIES)
    about = _about(dropped_reasons, protocol, baseline, excerpt_notes, query_order, changed, copies)
    if not rows or not display:
        raise NoUsableQueriesError(
            f"no usable queries for protocol {protocol!r}: of {len(query_records)} queries, "
            f"{dropped} are outside it ({_OUTSIDE[protocol]}{own_only}) and "
            f"{len(kept) - len(readable)} could not be read or had no note in their excerpt",
            _no_query_metrics(len(display), about),
        )
    targets = np.array([key_index[title_key(kept[i]["title"])] for i in readable])
    if baseline is None or baseline == "hybrid":
        scores, ms = _model_scores(model, rows, embed_titles(model, display), progress)
    if baseline == "edit-distance" and protocol == "unseen":
        scores, ms = _neighbour_title_scores(tokenizer, train, display, rows, options, progress)
    elif baseline == "edit-distance" or (baseline == "hybrid" and protocol == "known"):
        ed, ms_ed = _edit_scores(tokenizer, train, key_index, rows, options, progress)
        if baseline == "hybrid":
            scores, ms = scores + hybrid_weight * np.where(np.isfinite(ed), ed, -2.0), ms + ms_ed
        else:
            scores, ms = ed, ms_ed
    # as they are: `rank_of_targets` ranks +-inf as scores and a NaN against the scorer
    ranks = rank_of_targets(scores, targets)
    out: dict[str, Any] = retrieval_metrics(ranks, (1, 5, 10), 20)
    out.update(
        mrr_at_20_stderr=_mrr_stderr(ranks, 20),
        gallery=len(display),
        random_mrr_at_20=random_baseline(len(display), 20)["mrr_at_20"],
        ms_per_query=ms,
        **about,
    )
    return out
