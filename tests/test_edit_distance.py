"""Semi-global edit distance: vectorised scans against a naive DP oracle, and the ranker."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeling_irish.edit_distance import (
    ROTATION_PENALTY,
    EditDistanceRanker,
    eighth_sequence,
    letter_sequence,
    pitch_sequence,
)
from modeling_irish.semiglobal import (
    PaddedGallery,
    _myers_scan_table,
    _myers_scan_table_numpy,
    rotation_distances,
    semiglobal_distances,
    semiglobal_distances_dp,
)


def naive_semiglobal(query: list[int], target: list[int]) -> int:
    """Textbook DP: free start (row 0 all zeros) and free end (minimum of the last row)."""
    m, n = len(query), len(target)
    d = [[0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        d[i][0] = i
        for j in range(1, n + 1):
            d[i][j] = min(
                d[i - 1][j - 1] + (query[i - 1] != target[j - 1]),  # match / substitution
                d[i - 1][j] + 1,  # query note missing from the target
                d[i][j - 1] + 1,  # extra target note
            )
    return min(d[m])


def both(query, gallery):
    g = PaddedGallery(gallery)
    return semiglobal_distances(query, g).tolist(), semiglobal_distances_dp(query, g).tolist()


def test_hand_examples():
    gallery = [[7, 1, 2, 3, 9], [1, 3], [5, 5, 5], [], [1, 2, 4, 3]]
    # exact substring 0; one deletion 1; nothing shared 3 (= len); empty target 3; one insertion 1
    assert both([1, 2, 3], gallery) == ([0, 1, 3, 3, 1], [0, 1, 3, 3, 1])
    # the excerpt may end anywhere: the suffix after the match is free
    assert both([7, 1], [[7, 1, 9, 9, 9, 9]])[0] == [0]


@pytest.mark.parametrize("m", [1, 31, 32, 33, 63, 64, 65, 80])
def test_word_size_boundaries_match_oracle(m):
    """uint32 words up to 32 notes, uint64 up to 64, the row DP beyond."""
    rng = np.random.default_rng(m)
    gallery = [rng.integers(0, 3, rng.integers(0, 90)).tolist() for _ in range(6)]
    query = rng.integers(0, 3, m).tolist()
    expected = [naive_semiglobal(query, t) for t in gallery]
    assert both(query, gallery) == (expected, expected)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=st.lists(st.integers(0, 3), min_size=1, max_size=12),
    gallery=st.lists(st.lists(st.integers(0, 3), max_size=14), min_size=1, max_size=6),
)
def test_vectorised_equals_naive_dp(query, gallery):
    expected = [naive_semiglobal(query, t) for t in gallery]
    assert both(query, gallery) == (expected, expected)


@pytest.mark.parametrize("width", [32, 64])
def test_compiled_scan_equals_the_numpy_scan_bit_for_bit(width):
    """Any symbol table (as `rotation_distances` builds: codes standing for other symbols, codes
    that match nothing), patterns of every size up to the word, ragged and empty columns."""
    rng = np.random.default_rng(width)
    for m in [1, 2, 16, 31, 32] if width == 32 else [33, 40, 63, 64]:  # the word of m symbols
        gallery = PaddedGallery(
            [rng.integers(0, 12, rng.integers(0, 300)).tolist() for _ in range(40)], window=96,
            overlap=64,
        )  # fmt: skip
        dtype = np.uint32 if width == 32 else np.uint64
        peq = np.zeros(256, dtype=dtype)
        bits = rng.integers(0, 2, (12, m)).astype(bool)  # symbol s at pattern position i
        for sym in range(12):
            for i in np.flatnonzero(bits[sym]):
                peq[sym] |= dtype(1 << (width - m + i))
        compiled = _myers_scan_table(peq, m, gallery)
        assert compiled.dtype == np.int64
        assert np.array_equal(compiled, _myers_scan_table_numpy(peq, m, gallery))
    empty = PaddedGallery([[], []])
    assert _myers_scan_table(np.zeros(256, np.uint32), 3, empty).tolist() == [3, 3]
    with pytest.raises(ValueError, match="uint32 table"):  # the word follows the pattern size
        _myers_scan_table(np.zeros(256, np.uint64), 3, empty)


def test_kernels_compile_without_a_disk_cache_where_numba_cannot_write_one():
    """A read-only install with no writable home: numba refuses ``cache=True`` at decoration
    ("no locator available"), as for a function with no source file; the kernel then compiles
    per process instead of making the import fail."""
    from modeling_irish.myers_kernels import compiled_kernel

    namespace: dict = {}
    exec("def add_one(x):\n    return x + 1", namespace)  # no file: nowhere to cache
    assert compiled_kernel(namespace["add_one"])(41) == 42


def test_kernels_cache_in_the_user_cache_folder_not_beside_the_installed_source(tmp_path):
    """numba's default cache is the source's own __pycache__: in site-packages, where pip
    uninstall leaves the files (and the package's name importable as an empty namespace)."""
    source = tmp_path / "site" / "kernels_here.py"
    source.parent.mkdir()
    source.write_text("def add_one(x):\n    return x + 1\n", encoding="utf-8")
    script = (
        "import importlib.util, numba\n"
        "from modeling_irish.myers_kernels import compiled_kernel\n"
        f"spec = importlib.util.spec_from_file_location('kernels_here', {str(source)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "assert compiled_kernel(module.add_one)(41) == 42\n"
        "assert numba.config.CACHE_DIR == ''  # restored for other numba code\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    cached = [p.name for p in (tmp_path / "cache" / "modeling-irish" / "numba").rglob("*.nb*")]
    assert any(name.startswith("kernels_here.add_one") for name in cached), cached
    assert not (source.parent / "__pycache__").exists() or not any(
        (source.parent / "__pycache__").glob("*.nb*")
    )


def test_symbol_range_is_checked():
    with pytest.raises(ValueError):
        PaddedGallery([[1, 255]])
    with pytest.raises(ValueError):
        semiglobal_distances([300], PaddedGallery([[1]]))
    with pytest.raises(ValueError):
        semiglobal_distances([], PaddedGallery([[1]]))


def test_pitch_sequence_options():
    pitches = [62, 62, None, 74, 76, 64]
    assert pitch_sequence(pitches, fold_octave=False) == [62, 62, 74, 76, 64]
    assert pitch_sequence(pitches, fold_octave=True) == [2, 2, 2, 4, 4]
    assert pitch_sequence(pitches, fold_octave=True, collapse_repeats=True) == [2, 4]


def test_ranker_scores_in_gallery_order_and_titles_deduplicated():
    gallery = [[60, 62, 64, 65, 67], [72, 74, 71], [60, 62, 64, 65, 69], [55, 57, 59]]
    labels = ["Reel A", "Jig B", "Reel A", "Polka C"]
    ranker = EditDistanceRanker(gallery, labels)
    # pitch classes: query [2, 4, 5] is inside both "Reel A" settings; [0, 2, 11] shares the 2
    # (2 edits); [7, 9, 11] shares nothing (3 edits)
    scores = ranker.scores([62, 64, 65])
    assert scores.tolist() == pytest.approx([0.0, -2 / 3, 0.0, -1.0])
    top = ranker.rank_titles([62, 64, 65], k=2)
    assert top == [("Reel A", 0.0), ("Jig B", pytest.approx(-2 / 3))]
    # octave folding: the same tune an octave up is still an exact match
    assert ranker.scores([74, 76, 77])[0] == 0.0
    assert EditDistanceRanker(gallery, labels, fold_octave=False).scores([74, 76, 77])[0] < 0


def test_ranker_finds_a_crop_among_random_tunes():
    rng = np.random.default_rng(0)
    gallery = [rng.integers(55, 80, 120).tolist() for _ in range(300)]
    ranker = EditDistanceRanker(gallery, list(range(300)))
    query = gallery[123][40:70]
    query[5] = query[5] + 1  # one wrong note
    del query[17]  # one missed note
    label, score = ranker.rank_titles(query, k=1)[0]
    assert label == 123 and score >= -2 / 29 - 1e-12


@pytest.mark.parametrize("m", [5, 32, 64])
def test_windowed_gallery_is_exact_for_queries_up_to_half_the_overlap(m):
    """Long sequences cut into windows give the unwindowed distances (min over the windows)."""
    rng = np.random.default_rng(100 + m)
    gallery = [rng.integers(0, 4, rng.integers(0, 700)).tolist() for _ in range(12)]
    gallery[0] = rng.integers(0, 4, 1000).tolist()
    query = gallery[0][700 : 700 + m]  # across window boundaries 640 / 768
    query[m // 2] = (query[m // 2] + 1) % 4
    whole = semiglobal_distances(query, PaddedGallery(gallery)).tolist()
    windowed = PaddedGallery(gallery, window=256, overlap=128)
    assert windowed.codes.shape[0] == 256 and len(windowed) == 12
    assert semiglobal_distances(query, windowed).tolist() == whole
    assert whole[0] <= 1


def test_windowed_gallery_refuses_queries_longer_than_half_the_overlap():
    with pytest.raises(ValueError):
        semiglobal_distances([1] * 65, PaddedGallery([[1] * 300], window=256, overlap=128))


def test_eighth_sequence_repeats_by_length():
    # a dotted quarter (3 eighths), an eighth, a sixteenth (still one symbol), a half (4)
    assert eighth_sequence([62, 64, 66, 67], [3, 1, 0.5, 4]) == [2, 2, 2, 4, 6, 7, 7, 7, 7]
    assert eighth_sequence([62, None], [1, 2], fold_octave=False) == [62]
    with pytest.raises(ValueError):
        eighth_sequence([62], [1, 2])


def test_ranker_adds_the_per_eighth_part_when_durations_are_given():
    # "A2 B" vs "A B B": one note per symbol both read [9, 11] / [9, 11, 11]; per eighth both
    # read [9, 9, 11] / [9, 11, 11]
    gallery, durations = [[69, 71], [69, 71, 71]], [[2, 1], [1, 1, 1]]
    ranker = EditDistanceRanker(gallery, ["A", "B"], gallery_durations=durations)
    # query "A B B": per note 1 edit (/3) to A, 0 to B; per eighth 1 edit (/3) to A, 0 to B
    assert ranker.scores([69, 71, 71], [1, 1, 1]).tolist() == pytest.approx([-2 / 3, 0.0])
    # query "A2 B": per note 0 to A, 0 to B (A B is inside A B B); per eighth 0 to A, 1/3 to B
    assert ranker.scores([69, 71], [2, 1]).tolist() == pytest.approx([0.0, -1 / 3])
    assert ranker.rank_titles([69, 71], k=1, durations=[2, 1]) == [("A", 0.0)]
    # without query durations only the per-note part is used
    assert ranker.scores([69, 71]).tolist() == [0.0, 0.0]
    # queries are cut to 64 symbols
    long_query = [69] * 100
    assert ranker.distances(long_query).tolist() == [63, 63]


def test_rerank_keeps_the_best_and_puts_the_rest_below():
    rng = np.random.default_rng(1)
    gallery = [rng.integers(60, 72, 80).tolist() for _ in range(40)]
    durations = [rng.choice([1, 2, 3], 80).tolist() for _ in range(40)]
    query, qdur = gallery[7][10:40], durations[7][10:40]
    full = EditDistanceRanker(gallery, list(range(40)), gallery_durations=durations, rerank=None)
    few = EditDistanceRanker(gallery, list(range(40)), gallery_durations=durations, rerank=3)
    s_full, s_few = full.scores(query, qdur), few.scores(query, qdur)
    top = np.argsort(-s_few, kind="stable")[:3]
    assert top[0] == 7 and s_few[7] == 0.0
    assert np.allclose(s_few[top], s_full[top])  # reranked ones get their exact score
    rest = np.setdiff1d(np.arange(40), top)
    assert s_few[rest].max() <= s_few[top].min()
    assert np.all(s_few[rest] <= s_full[rest])  # the others get the worst per-eighth part


def test_meter_and_mode_penalties_apply_only_where_both_sides_are_known():
    gallery = [[60, 62, 64]] * 4
    ranker = EditDistanceRanker(
        gallery,
        ["jig", "reel", "unknown", "reel minor"],
        gallery_meters=["6/8", "4/4", None, "4/4"],
        gallery_modes=["major", "major", None, "minor"],
        meter_penalty=0.2,
        mode_penalty=0.1,
    )
    scores = ranker.scores([60, 62, 64], meter="4/4", mode="major")
    assert scores.tolist() == pytest.approx([-0.2, 0.0, 0.0, -0.1])
    # an unknown query meter or mode costs nothing; an unseen one costs every known setting
    assert ranker.scores([60, 62, 64]).tolist() == [0.0] * 4
    assert ranker.scores([60, 62, 64], meter="3/2").tolist() == pytest.approx([-0.2, -0.2, 0, -0.2])
    assert ranker.rank_titles([60, 62, 64], k=2, meter="6/8", mode="minor") == [
        ("unknown", 0.0),
        ("jig", pytest.approx(-0.1)),
    ]
    with pytest.raises(ValueError, match="one meter"):
        EditDistanceRanker(gallery, list("abcd"), gallery_meters=["4/4"])


def test_rhythm_penalty_parts_tunes_of_one_meter_by_type():
    gallery = [[60, 62, 64]] * 3
    ranker = EditDistanceRanker(
        gallery, ["reel", "hornpipe", "untyped"], gallery_rhythms=["reel", "hornpipe", None]
    )
    assert ranker.scores([60, 62, 64], rhythm="hornpipe").tolist() == pytest.approx(
        [-0.2, 0.0, 0.0]
    )
    assert ranker.scores([60, 62, 64]).tolist() == [0.0] * 3  # no rhythm given: no penalty
    assert ranker.rank_titles([60, 62, 64], k=1, rhythm="reel") == [("reel", 0.0)]
    with pytest.raises(ValueError, match="one rhythm"):
        EditDistanceRanker(gallery, list("abc"), gallery_rhythms=["reel"])


def test_penalties_come_before_the_rerank_cut():
    # the best per-note match is in another meter: with rerank=1 the per-eighth part must go
    # to the setting that is best after the penalty
    gallery, durations = [[60, 62, 64], [60, 62, 65]], [[1, 1, 1], [1, 1, 1]]
    ranker = EditDistanceRanker(
        gallery,
        ["a", "b"],
        gallery_durations=durations,
        rerank=1,
        gallery_meters=["6/8", "4/4"],
        meter_penalty=1.0,
    )
    scores = ranker.scores([60, 62, 64], [1, 1, 1], meter="4/4")
    assert scores.tolist() == pytest.approx([-1.0 - 1.0, -1 / 3 - 1 / 3])


def rotated(seq, r):
    return [(x + r) % 7 for x in seq]


@pytest.mark.parametrize("sizes", [(5,), (30, 31), (12, 50), (64, 64)])
def test_rotation_distances_equal_the_dp_on_every_rotated_sequence(sizes):
    """One scan for one or two parts (32- and 64-bit words, windows) x 7 rotations."""
    rng = np.random.default_rng(sum(sizes))
    seqs = [rng.integers(0, 7, rng.integers(0, 400)).tolist() for _ in range(9)]
    seqs[2] = rotated(seqs[1][:300], 3)  # a rotated copy, to have small distances too
    galleries = [PaddedGallery(seqs, window=256, overlap=128) for _ in sizes]
    queries = [np.asarray(seqs[1][40 : 40 + m] or [0] * m) for m in sizes]
    keep = np.array([True, True, True, False, True, True, True, True, False])
    out = rotation_distances(queries, galleries, keep)
    assert out.shape == (len(sizes), 9, 7)
    for p, q in enumerate(queries):
        for j in range(9):
            for r in range(7):
                want = naive_semiglobal(q.tolist(), rotated(seqs[j], r)) if keep[j] else None
                assert out[p, j, r] == (np.iinfo(np.int64).max if want is None else want)
    with pytest.raises(ValueError, match="1..64"):
        rotation_distances([np.zeros(65, dtype=int)], galleries[:1], keep)


def test_letter_sequence_per_note_and_per_eighth():
    # C C# D | F# G | B: sharps count as the letter below; octaves and rests are dropped
    assert letter_sequence([60, 61, 62, None, 66, 79, 95]).tolist() == [0, 0, 1, 3, 4, 6]
    assert letter_sequence([62, None, 64], [3, 2, 0.5]).tolist() == [1, 1, 1, 2]
    with pytest.raises(ValueError):
        letter_sequence([62], [1, 2])


def test_transpose_finds_a_setting_with_the_tonic_on_another_white_key():
    """The same tune, once in D dorian and once a fourth up in G mixolydian (both on the white
    keys, as the corpus stores tunes whose transcribers disagreed on the tonic): the default
    scorer misses it, the transposing one finds it at the cost of the rotation penalty."""
    rng = np.random.default_rng(7)
    white = np.array([0, 2, 4, 5, 7, 9, 11])
    steps = rng.integers(0, 14, 120)  # diatonic steps above the D below middle C
    d_dorian = (50 + 12 * ((steps + 1) // 7) + white[(steps + 1) % 7]).tolist()
    g_mixo = (55 + 12 * ((steps + 4) // 7) + white[(steps + 4) % 7]).tolist()
    decoys = [(48 + white[rng.integers(0, 7, 120)]).tolist() for _ in range(30)]
    gallery = [g_mixo] + decoys
    durations = [rng.choice([1, 2], 120).tolist() for _ in gallery]
    query, qdur = d_dorian[30:60], durations[0][30:60]
    labels = ["the tune"] + [f"decoy {i}" for i in range(30)]
    plain = EditDistanceRanker(gallery, labels, gallery_durations=durations)
    assert plain.rank_titles(query, 1, qdur)[0][0] != "the tune"
    ranker = EditDistanceRanker(gallery, labels, gallery_durations=durations, transpose=True)
    assert ranker.rank_titles(query, 1, qdur) == [("the tune", -ROTATION_PENALTY)]
    # an excerpt in the setting's own key matches exactly, with no penalty
    assert ranker.rank_titles(g_mixo[30:60], 1, qdur) == [("the tune", 0.0)]
    # a query whose key is unknown (a snippet without K:) prefers no rotation
    assert ranker.scores(query, qdur, key_known=False)[0] == 0.0


def _compared(few: np.ndarray, every: np.ndarray) -> np.ndarray:
    """The sequences a ranker with few candidates compared in full: those it scores as the
    ranker that compares every sequence does."""
    return np.flatnonzero(np.isclose(few, every, rtol=0, atol=1e-12))


def test_transpose_candidates_come_first_and_penalties_apply():
    rng = np.random.default_rng(3)
    gallery = [rng.integers(60, 72, 80).tolist() for _ in range(40)]
    durations = [rng.choice([1, 2, 3], 80).tolist() for _ in range(40)]
    meters = ["4/4"] * 20 + ["6/8"] * 20
    query, qdur = gallery[25][10:40], durations[25][10:40]
    kwargs = dict(gallery_durations=durations, gallery_meters=meters, transpose=True)
    full = EditDistanceRanker(gallery, list(range(40)), candidates=40, **kwargs)
    few = EditDistanceRanker(gallery, list(range(40)), candidates=5, **kwargs)
    s_full, s_few = full.scores(query, qdur, meter="4/4"), few.scores(query, qdur, meter="4/4")
    # the candidates are the sequences scored as when every one is compared (not the top 5 of
    # s_few itself, which would be above the rest whatever the scorer did to the others)
    top = _compared(s_few, s_full)
    assert top.size == 5
    # the excerpt's own setting is in 6/8: first, less the meter penalty
    assert s_few.argmax() == 25 and s_few[25] == pytest.approx(-0.2)
    rest = np.setdiff1d(np.arange(40), top)
    assert s_few[rest].max() < s_few[top].min()
    # a one-note query has no step to compare: every sequence is scored in all rotations
    assert few.scores([64]).max() == 0.0
    # penalties larger than the scores' range keep the candidates first too
    heavy = EditDistanceRanker(gallery, list(range(40)), candidates=5, meter_penalty=3, **kwargs)
    heavy_full = EditDistanceRanker(
        gallery, list(range(40)), candidates=40, meter_penalty=3, **kwargs
    )
    s_heavy = heavy.scores(query, qdur, meter="6/8")
    top = _compared(s_heavy, heavy_full.scores(query, qdur, meter="6/8"))
    assert top.size == 5
    assert s_heavy[np.setdiff1d(np.arange(40), top)].max() < s_heavy[top].min()
    # and a heavy per-eighth part: a candidate's score reaches -(1 + eighths_weight)
    weighted = dict(kwargs, eighths_weight=6.0)
    few_w = EditDistanceRanker(gallery, list(range(40)), candidates=5, **weighted)
    s_w = few_w.scores(query, qdur, meter="4/4")
    every_w = EditDistanceRanker(gallery, list(range(40)), candidates=40, **weighted)
    top = _compared(s_w, every_w.scores(query, qdur, meter="4/4"))
    assert top.size == 5 and s_w[top].min() < -2  # reaches below the first pass's range
    assert s_w[np.setdiff1d(np.arange(40), top)].max() < s_w[top].min()
    with pytest.raises(ValueError, match="transpose"):
        few.distances(query)


# ---------------------------------------------------------------- notes in an unknown key


def _shift_free_gallery(seed: int = 3):
    rng = np.random.default_rng(seed)
    pitches = [rng.integers(55, 80, int(rng.integers(20, 90))).tolist() for _ in range(40)]
    durations = [rng.choice([0.5, 1.0, 1.0, 2.0, 3.0], len(p)).tolist() for p in pitches]
    meters = [["4/4", "6/8"][i % 2] for i in range(40)]
    return pitches, durations, meters


def test_shift_free_scores_equal_the_best_of_twelve_shifts_when_all_are_candidates():
    pitches, durations, meters = _shift_free_gallery()
    ranker = EditDistanceRanker(pitches, list(range(40)), gallery_meters=meters)
    query = (np.asarray(pitches[7][10:40]) + 5).tolist()  # setting 7, a fourth up
    got = ranker.shift_free_scores(query, meter="6/8", candidates=40)
    brute = np.max([ranker.scores(np.asarray(query) + s, meter="6/8") for s in range(12)], axis=0)
    np.testing.assert_allclose(got, brute)
    assert got[7] == 0.0 and int(np.argmax(got)) == 7


def test_shift_free_scores_add_the_eighths_at_each_settings_best_shift():
    pitches, durations, _ = _shift_free_gallery()
    ranker = EditDistanceRanker(pitches, list(range(40)), gallery_durations=durations)
    query, qdur = (np.asarray(pitches[3][5:45]) - 2).tolist(), durations[3][5:45]
    got = ranker.shift_free_scores(query, qdur, candidates=40)
    note = np.stack([ranker.scores(np.asarray(query) + s) for s in range(12)])  # per note only
    best = note.argmax(axis=0)
    eighths = np.asarray(eighth_sequence(query, qdur))[:64]
    want = np.empty(40)
    for i, s in enumerate(best):
        d = semiglobal_distances((eighths + s) % 12, ranker.eighths)[i]
        want[i] = note[s, i] - min(d, eighths.size) / eighths.size
    np.testing.assert_allclose(got, want)
    assert got[3] == 0.0


def test_shift_free_candidates_rank_below_the_compared_settings():
    pitches, durations, _ = _shift_free_gallery()
    ranker = EditDistanceRanker(pitches, list(range(40)), gallery_durations=durations)
    query = (np.asarray(pitches[11][:30]) + 3).tolist()
    got = ranker.shift_free_scores(query, durations[11][:30], candidates=5)
    compared = _compared(got, ranker.shift_free_scores(query, durations[11][:30], candidates=40))
    assert compared.size == 5 and 11 in compared and got[11] == 0.0
    assert got[np.setdiff1d(np.arange(40), compared)].max() < got[compared].min()
    with pytest.raises(ValueError, match="this ranker transposes"):
        EditDistanceRanker(pitches, list(range(40)), transpose=True).shift_free_scores(query)


def test_an_integer_array_of_pitches_reads_as_the_same_list():
    # the gallery build hands slices of the index's flat int arrays: taken whole (no Python
    # pass over 3.5 M notes), they must give what the list path gives
    from modeling_irish.edit_distance import eighth_sequence, letter_sequence, pitch_sequence

    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 17, 300):
        pitches = rng.integers(40, 90, n)
        lengths = rng.choice([0.5, 1, 1.5, 2, 3], n)
        as_list, lengths_list = [int(p) for p in pitches], [float(x) for x in lengths]
        for fold in (True, False):
            for collapse in (True, False):
                assert pitch_sequence(pitches, fold, collapse) == pitch_sequence(
                    as_list, fold, collapse
                )
            assert eighth_sequence(pitches, lengths, fold) == eighth_sequence(
                as_list, lengths_list, fold
            )
        assert letter_sequence(pitches).tolist() == letter_sequence(as_list).tolist()
        assert (
            letter_sequence(pitches, lengths).tolist()
            == letter_sequence(as_list, lengths_list).tolist()
        )
    # rests (None) are dropped on the list path, with their durations
    assert pitch_sequence([62, None, 62, 64], True, True) == [2, 4]
    assert eighth_sequence([62, None, 64], [2, 5, 1]) == [2, 2, 4]
    with pytest.raises(ValueError, match="one duration per pitch"):
        letter_sequence(np.array([60, 62]), [1.0])


def test_heard_spelling_takes_the_scale_with_fewest_accidentals_of_those_that_fit():
    from modeling_irish.edit_distance import heard_spelling

    # C D E F G A fit both C major and F major (no B nor Bb): C major, with no flat, wins, and
    # an A#/Bb heard later is spelled as a sharp, on A (5); F major would read it as B (6)
    assert heard_spelling([60, 62, 64, 65, 67, 69])[10] == 5
    # with the Bb in the snippet only F major holds every note: the Bb is a B
    assert heard_spelling([60, 62, 64, 65, 67, 69, 70])[10] == 6
