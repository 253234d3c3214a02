"""What `evaluate_retrieval` holds while it reads its training side and its queries: each
training setting's notes read as it is encoded (one setting's ids alive at a time, as the index
build reads them), each query cropped as it is encoded, and the same scores as the evaluation
that held every setting's ids before it."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from helpers import NAME_THAT_TUNE_KNOWN as KNOWN
from helpers import NAME_THAT_TUNE_TRAIN as TRAIN
from helpers import NAME_THAT_TUNE_UNSEEN as UNSEEN
from helpers import name_that_tune_model, name_that_tune_tokenizer  # noqa: F401 (fixtures)

from modeling_irish.retrieval_evaluation import (
    EditScorerOptions,
    _edit_scores,
    evaluate_retrieval,
    excerpt_query_rows,
    query_edit_scores,
    settings_ranker,
    titled_settings,
)
from modeling_irish.tune_embedding import (
    best_per_title,
    encode_all,
    header_values,
    notes_and_headers,
    read_tunes,
)
from modeling_irish.tune_title_data import NoteCropper


def _watch(monkeypatch, tokenizer, texts: set[str]) -> tuple[list, list]:
    """Record each encoding of one of ``texts`` ("encode") and each notes read ("notes"), and
    before each read, how many earlier settings' ids of ``texts`` are still alive."""
    events, alive = [], []
    encode, notes = tokenizer.encode_tune, NoteCropper.notes

    def encoding(text, *args, **kwargs):
        enc = encode(text, *args, **kwargs)
        if text in texts:
            events.append("encode")
            alive.append(weakref.ref(enc.input_ids))
        return enc

    def reading(self, ids, *args, **kwargs):
        events.append(sum(ref() is not None for ref in alive[:-1]))
        return notes(self, ids, *args, **kwargs)

    monkeypatch.setattr(tokenizer, "encode_tune", encoding)
    monkeypatch.setattr(NoteCropper, "notes", reading)
    return events, alive


@pytest.mark.parametrize(
    "queries, protocol, baseline",
    [
        (KNOWN, "known", "edit-distance"),
        (UNSEEN, "unseen", "edit-distance"),
        (KNOWN, "known", "hybrid"),
    ],  # fmt: skip
)
def test_the_training_settings_are_read_one_at_a_time(
    model, tokenizer, monkeypatch, queries, protocol, baseline
):
    # every training setting's ids were encoded and held before the first one's notes were
    # read (thesession's 18,000: 400 MB as int64); now its notes are read as it is encoded
    events, _ = _watch(monkeypatch, tokenizer, set(TRAIN))
    m = evaluate_retrieval(model, tokenizer, TRAIN, queries, protocol, 20, 0, baseline)
    assert m["queries"] == len(queries)
    # from the first training setting encoded (the queries' notes read before, if any; the
    # queries' scored after): each one's notes read at once, no earlier one's ids alive (the
    # ninth, titled "x", is never encoded)
    training = events[events.index("encode") :][:16]
    assert training == ["encode", 0] * 8, training


def test_the_queries_are_cropped_as_they_are_encoded(tokenizer, monkeypatch):
    # every query's whole setting was held until all were encoded; only its excerpt is kept
    events, alive = [], []
    encode = tokenizer.encode_tune

    def encoding(text, *args, **kwargs):
        events.append(sum(ref() is not None for ref in alive))
        enc = encode(text, *args, **kwargs)
        alive.append(weakref.ref(enc.input_ids))
        return enc

    monkeypatch.setattr(tokenizer, "encode_tune", encoding)
    rows, readable = excerpt_query_rows(tokenizer, read_tunes(KNOWN), 20, 0)
    assert readable == list(range(8)) and len(events) == 8
    assert max(events) <= 1, events  # the query before's, still named by the loop: no more


@pytest.mark.parametrize("unfold_repeats", [True, False])
def test_streamed_training_settings_score_as_the_held_ones(tokenizer, unfold_repeats):
    options = EditScorerOptions(unfold_repeats=unfold_repeats)
    cropper = NoteCropper(tokenizer)
    records = read_tunes(TRAIN)
    rows, _ = excerpt_query_rows(tokenizer, read_tunes(KNOWN), 20, 0)
    # the edit distance over the gallery titles, as `_edit_scores` scored it with every id held
    key_index = {f"{i}": i for i in range(8)}
    titled = records[:8]
    for i, r in enumerate(titled):
        r["title"] = f"{i // 2}"  # two settings a title: the best of the two is the title's
    ids, kept = encode_all(tokenizer, titled)
    owner = np.array([int(titled[i]["title"]) for i in kept])
    held = settings_ranker(cropper, ids, owner.tolist(), options)
    expected = np.stack(
        [best_per_title(query_edit_scores(held, cropper, r[0]), owner, 8) for r in rows]
    )
    scores, _ = _edit_scores(tokenizer, titled, key_index, rows, options)
    np.testing.assert_array_equal(scores, expected)
    # the neighbour-title side: the same names, headers and scores as from held ids
    _, ranker, names, headers = titled_settings(tokenizer, records, options)
    ids, kept = encode_all(tokenizer, [r for r in records if r["title"] != "x"])
    assert names == [titled[i]["title"] for i in kept]
    assert headers == [header_values(cropper, x) for x in ids]
    held = settings_ranker(cropper, ids, range(len(ids)), options, headers)
    for r in rows:
        a, b = query_edit_scores(ranker, cropper, r[0]), query_edit_scores(held, cropper, r[0])
        np.testing.assert_array_equal(a, b)


def test_titled_settings_refuses_a_training_side_with_nothing_readable(tokenizer):
    with pytest.raises(ValueError, match="no readable titled tune to take titles from"):
        titled_settings(tokenizer, read_tunes(["X:1\nT:Only\nK:D\n[[A]]|"]))


@pytest.mark.parametrize("transpose", [True, False])
def test_the_gallery_notes_are_held_as_the_index_holds_them(monkeypatch, transpose):
    """`settings_ranker` held every setting's notes as int64 pitches and float64 lengths (16
    bytes a note) while the galleries were built; the index holds int16 and float32 (6), and
    the scores of both are the same, triplets' lengths (not exact in float32) included."""
    import modeling_irish.retrieval_evaluation as evaluation
    from modeling_irish.edit_distance import EditDistanceRanker
    from tokenization.tokenization_abc import AbcTokenizer

    triplets = "X:50\nT:Trip\nR:jig\nM:6/8\nL:1/8\nK:G\n(3GAB (3cBA G2|(3DEF G>A B2|]\n"
    tokenizer = AbcTokenizer.train([*TRAIN, triplets])
    cropper = NoteCropper(tokenizer)
    ids, _ = encode_all(tokenizer, read_tunes([*TRAIN, triplets]))
    held = []

    def ranker(pitches, *args, **kwargs):  # the notes the galleries are built of
        held.append((pitches, kwargs["gallery_durations"]))
        return EditDistanceRanker(pitches, *args, **kwargs)

    monkeypatch.setattr(evaluation, "EditDistanceRanker", ranker)
    options = EditScorerOptions(transpose=transpose)
    narrow = settings_ranker(cropper, ids, None, options)
    ((pitches, durations),) = held
    assert {p.dtype.name for p in pitches} == {"int16"}
    assert {d.dtype.name for d in durations} == {"float32"}
    notes, fields = notes_and_headers(cropper, ids, True, None)  # as they were held before
    assert {d.dtype.name for _, d in notes} == {"float64"}
    wide = EditDistanceRanker(
        [p for p, _ in notes],
        list(range(len(ids))),
        gallery_durations=[d for _, d in notes],
        gallery_meters=fields["meter"],
        gallery_modes=fields["mode"],
        gallery_rhythms=fields["rhythm"],
        transpose=transpose,
    )
    for x in ids:
        rows, _ = cropper.crop(x, 12, np.random.default_rng(0))
        np.testing.assert_array_equal(
            query_edit_scores(narrow, cropper, rows), query_edit_scores(wide, cropper, rows)
        )
