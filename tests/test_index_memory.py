"""What a name-that-tune index build holds while it reads the corpus: each setting's ids in the
smallest integer type, a chunk's at a time until they are embedded (with a model) or one
setting's at a time (without), notes in the index's own types, and the same index (and the same
answers) as the int64 / float64 build before it."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from helpers import NAME_THAT_TUNE_KNOWN as KNOWN
from helpers import NAME_THAT_TUNE_TRAIN as TRAIN
from helpers import name_that_tune_model, name_that_tune_tokenizer  # noqa: F401 (fixtures)

from modeling_irish import tune_embedding, tune_index
from modeling_irish.tune_embedding import StreamedTuneEmbeddings, smallest_int
from modeling_irish.tune_index import TuneIndex, flat_notes
from modeling_irish.tune_title_data import NoteCropper


def _spy(monkeypatch, name: str) -> list:
    """Record the arguments `tune_index` passes to its function ``name``."""
    calls, real = [], getattr(tune_index, name)

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(tune_index, name, spy)
    return calls


def test_a_build_holds_each_settings_ids_in_the_smallest_type(tokenizer, model, monkeypatch):
    # int64 ids of every setting, held to the end of the build for the model's embeddings,
    # were most of its peak (~400 MB of thesession's 20,700 tunes); the tiny vocabulary fits
    # in uint8
    calls, real = [], tune_embedding.embed_tunes
    monkeypatch.setattr(
        tune_embedding, "embed_tunes", lambda m, rows, *a: calls.append(rows) or real(m, rows, *a)
    )
    TuneIndex.build(model, tokenizer, TRAIN)
    rows = [row for chunk in calls for row in chunk]
    assert len(rows) == 8 and {x.dtype for x, _ in rows} == {np.dtype(np.uint8)}
    for (x, measures), text in zip(rows, TRAIN[:8]):  # the ninth, titled "x", is left out
        enc = tokenizer.encode_tune(text)
        assert np.array_equal(x, enc.input_ids) and np.array_equal(measures, enc.measure_numbers)


def test_a_build_with_a_model_embeds_its_settings_a_chunk_at_a_time(tokenizer, model, monkeypatch):
    # every setting's ids were encoded and held before the first was embedded: 57 MiB of
    # thesession's as uint8, growing with the corpus; now no more than a chunk's are alive
    events, alive, held = [], [], []
    encode, embed = tokenizer.encode_tune, tune_embedding.embed_tunes

    def encoding(text, *args, **kwargs):
        enc = encode(text, *args, **kwargs)
        enc.input_ids = enc.input_ids.astype(np.uint8)  # the type the build keeps: not copied
        held.append(sum(ref() is not None for ref in alive))
        alive.append(weakref.ref(enc.input_ids))
        events.append("encode")
        return enc

    def embedding(model, rows, *args):
        events.append(len(rows))
        return embed(model, rows, *args)

    monkeypatch.setattr(tokenizer, "encode_tune", encoding)
    monkeypatch.setattr(tune_embedding, "embed_tunes", embedding)
    index = TuneIndex.build(model, tokenizer, TRAIN, chunk_size=3)
    assert max(held) <= 3, f"{max(held)} earlier settings' ids held while one is encoded"
    assert events == [*["encode"] * 3, 3, *["encode"] * 3, 3, "encode", "encode", 2]
    whole = TuneIndex.build(model, tokenizer, TRAIN)  # one chunk: batched by length as before
    np.testing.assert_allclose(index.setting_embeds, whole.setting_embeds, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(index.title_embeds, whole.title_embeds)
    for name in ("setting_title", "pitch_flat", "pitch_offsets", "dur_flat"):
        assert np.array_equal(getattr(index, name), getattr(whole, name)), name


def test_streamed_embeddings_refuse_an_empty_chunk(model):
    with pytest.raises(ValueError, match="chunk_size must be >= 1, got 0"):
        StreamedTuneEmbeddings(model, chunk_size=0)
    assert StreamedTuneEmbeddings(model).embeddings().shape == (0, model.config.projection_dim)


@pytest.mark.parametrize("unfold_repeats", [True, False])
def test_a_build_without_a_model_reads_each_tunes_notes_before_encoding_the_next(
    tokenizer, monkeypatch, unfold_repeats
):
    # without a model only the notes are needed, yet every setting's ids were held until all
    # were encoded (57 MiB of thesession's as uint8): now each tune's notes are read as it is
    # encoded, and no other setting's ids are alive when they are
    events, alive = [], []
    encode, notes = tokenizer.encode_tune, NoteCropper.notes

    def encoding(text, *args, **kwargs):
        enc = encode(text, *args, **kwargs)
        events.append("encode")
        alive.append(weakref.ref(enc.input_ids))
        return enc

    def reading(self, ids, *args, **kwargs):
        events.append("notes")
        held = [ref for ref in alive[:-1] if ref() is not None]
        assert not held, f"{len(held)} earlier settings' ids held while one's notes are read"
        return notes(self, ids, *args, **kwargs)

    monkeypatch.setattr(tokenizer, "encode_tune", encoding)
    monkeypatch.setattr(NoteCropper, "notes", reading)
    index = TuneIndex.build(None, tokenizer, TRAIN, unfold_repeats=unfold_repeats)
    assert events == ["encode", "notes"] * 8  # the ninth, titled "x", is never encoded
    assert len(index) == 8 and index.meta["settings"] == 8


def test_a_build_keeps_notes_in_the_index_types_as_it_reads_them(tokenizer, monkeypatch):
    calls = _spy(monkeypatch, "flat_notes")
    TuneIndex.build(None, tokenizer, TRAIN)
    notes = calls[0][0]
    assert {(p.dtype, d.dtype) for p, d in notes} == {(np.dtype(np.int16), np.dtype(np.float32))}


def test_compact_ids_leave_room_for_every_id_of_the_vocabulary():
    # `NoteCropper.played` writes a bar's id into a copy of a tune's ids: a tune whose own
    # ids are all small must still hold the vocabulary's largest
    assert smallest_int(np.array([[0, 88]]), largest=300).dtype == np.uint16
    assert smallest_int(np.array([-2, 5])).dtype == np.int8
    assert smallest_int(np.array([0, 2**40])).dtype == np.int64
    assert smallest_int(np.zeros(0, np.int64), largest=9).dtype == np.uint8


def test_flat_notes_of_no_setting():
    p, d, o = flat_notes([])
    assert (p.dtype, d.dtype, o.tolist()) == (np.int16, np.float32, [0])


def _wide_index(tokenizer, tmp_path) -> tuple[TuneIndex, TuneIndex]:
    """The index as the build before made it: int64 ids, notes concatenated as int64 and
    float64, saved as they were (wide types: `TuneIndex` narrows them on load); and the index
    built now."""
    built = TuneIndex.build(None, tokenizer, TRAIN)
    cropper = NoteCropper(tokenizer)
    notes = [cropper.notes(cropper.played(tokenizer.encode_tune(t).input_ids)) for t in TRAIN[:8]]
    assert len(notes) == len(built.setting_title)
    arrays = {
        "title_embeds": built.title_embeds,
        "setting_embeds": built.setting_embeds,
        "setting_title": built.setting_title,
        "pitch_flat": np.concatenate([p for p, _ in notes]).astype(np.int64),
        "pitch_offsets": np.concatenate([[0], np.cumsum([len(p) for p, _ in notes])]),
        "dur_flat": np.concatenate([d for _, d in notes]).astype(np.float64),
    }
    folder = tmp_path / "wide"
    folder.mkdir()
    built.save(folder)
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array, allow_pickle=False)
    return built, TuneIndex.load(folder)


@pytest.mark.parametrize("transpose", [True, False])
def test_a_compact_build_answers_as_the_wide_one(tokenizer, tmp_path, transpose):
    built, wide = _wide_index(tokenizer, tmp_path)
    for name in ("pitch_flat", "pitch_offsets", "dur_flat", "setting_title"):
        assert np.array_equal(getattr(built, name), getattr(wide, name)), name
    cropper = NoteCropper(tokenizer)
    for text in KNOWN:  # whole tunes and 12-note snippets of them, with and without lengths
        p, d = cropper.notes(tokenizer.encode_tune(text).input_ids)
        for q, lengths in ((p, d), (p[5:17], d[5:17]), (p[5:17], None)):
            a = built.edit_distance_scores(q, lengths, transpose=transpose)
            b = wide.edit_distance_scores(q, lengths, transpose=transpose)
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
        np.testing.assert_allclose(built.shift_free_scores(p[:20]), wide.shift_free_scores(p[:20]))


@pytest.mark.parametrize("transpose", [False, True])
def test_a_ranker_is_built_without_a_wide_copy_of_its_gallery(transpose):
    # every sequence was held as int64 (and as Python lists) until the gallery was laid out:
    # 4-5x the gallery's own codes at the peak of the first query of `identify`
    import tracemalloc

    from modeling_irish.edit_distance import EditDistanceRanker

    rng = np.random.default_rng(0)
    seqs = [rng.integers(55, 85, 600) for _ in range(300)]
    durations = [rng.choice([0.5, 1.0, 2.0], 600) for _ in range(300)]
    tracemalloc.start()
    try:
        ranker = EditDistanceRanker(
            seqs, list(range(300)), gallery_durations=durations, transpose=transpose
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    galleries = [ranker.steps, *ranker.letters] if transpose else [ranker.gallery, ranker.eighths]
    assert peak < 3 * sum(g.codes.nbytes for g in galleries)


def test_a_gallery_of_midi_pitches_still_refuses_symbols_out_of_range():
    from modeling_irish.edit_distance import EditDistanceRanker

    with pytest.raises(ValueError, match="symbols must be in 0..254, sequence 1 is not"):
        EditDistanceRanker([[60, 62], [60, 300]], ["a", "b"], fold_octave=False)
