"""Retrieval metrics against a naive oracle, hand-computed values and the evaluate module."""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from modeling_irish.retrieval import (
    METRIC_PATH,
    cosine_ranks,
    random_baseline,
    rank_of_targets,
    retrieval_metrics,
    retrieval_metrics_from_embeddings,
    target_mask,
)

REPO = Path(__file__).resolve().parents[1]


# --- naive oracles (STYLE 9: the optimised versions are checked against these) ---------------


def naive_rank(scores: list[float], correct: set[int]) -> int:
    """Sort by score, wrong items first among ties; 1-based position of the first correct one."""
    order = sorted(range(len(scores)), key=lambda j: (-scores[j], j in correct))
    return next(pos for pos, j in enumerate(order, start=1) if j in correct)


def naive_metrics(ranks: list[int], k_values=(1, 5, 10), mrr_k=20) -> dict[str, float]:
    n = len(ranks)
    out = {f"mrr_at_{mrr_k}": sum(1 / r if r <= mrr_k else 0 for r in ranks) / n}
    for k in k_values:
        out[f"r_at_{k}"] = sum(r <= k for r in ranks) / n
    srt = sorted(ranks)
    median = srt[n // 2] if n % 2 else (srt[n // 2 - 1] + srt[n // 2]) / 2
    out.update(mean_rank=sum(ranks) / n, median_rank=median, queries=n)
    return out


# --- ranks ---------------------------------------------------------------------------------


def test_rank_hand_example_ties_against_the_model():
    scores = [[0.1, 0.9, 0.5], [0.3, 0.3, 0.3], [0.7, 0.7, 0.1]]
    # query 0: correct item 2 is behind 1; query 1: all tied -> last; query 2: tie -> second
    assert rank_of_targets(scores, [2, 0, 1]).tolist() == [2, 3, 2]


def test_rank_with_several_correct_items_counts_only_wrong_ones_ahead():
    scores = [[0.9, 0.8, 0.7, 0.1]]
    assert rank_of_targets(scores, [[1, 0]]).tolist() == [1]
    assert rank_of_targets(scores, [[2, 3]]).tolist() == [3]
    # a tie between two correct items does not push either down
    assert rank_of_targets([[0.5, 0.5, 0.1]], [[0, 1]]).tolist() == [1]


@pytest.mark.parametrize("seed", range(5))
def test_rank_matches_naive_oracle_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(30, 12)).astype(float)  # few values: many ties
    single = rng.integers(0, 12, size=30)
    sets = [set(rng.choice(12, size=rng.integers(1, 4), replace=False).tolist()) for _ in range(30)]
    expected_single = [naive_rank(list(s), {int(t)}) for s, t in zip(scores, single)]
    expected_sets = [naive_rank(list(s), c) for s, c in zip(scores, sets)]
    assert rank_of_targets(scores, single).tolist() == expected_single
    assert rank_of_targets(torch.tensor(scores), torch.tensor(single)).tolist() == expected_single
    assert rank_of_targets(scores, sets).tolist() == expected_sets
    mask = target_mask(sets, 30, 12)
    assert rank_of_targets(scores, mask).tolist() == expected_sets


def test_rank_rejects_bad_input():
    with pytest.raises(ValueError):
        rank_of_targets([0.1, 0.2], [0])  # 1-d scores
    with pytest.raises(ValueError):
        rank_of_targets([[0.1, 0.2]], [0, 1])  # too many targets
    with pytest.raises(ValueError):
        rank_of_targets([[0.1, 0.2]], np.zeros((1, 2), dtype=bool))  # no correct item


# --- metrics -------------------------------------------------------------------------------


def test_nan_scores_count_against_the_model():
    nan = float("nan")
    # a NaN correct item ranks last; a NaN wrong item ranks ahead of the correct one
    assert rank_of_targets([[nan, 0.9, 0.1]], [0]).tolist() == [3]
    assert rank_of_targets([[0.5, nan, 0.1]], [0]).tolist() == [2]
    assert rank_of_targets([[nan, 0.9, 0.1]], [[0, 2]]).tolist() == [2]
    assert rank_of_targets([[nan, 0.9, nan]], [[0, 2]]).tolist() == [2]


def test_infinite_scores_are_ranked_as_scores_with_ties_against_the_model():
    inf = float("inf")
    # one index per query took nan_to_num's clamping of -inf and +inf to finite floats: a correct
    # -inf was no longer >= itself, so it ranked 1 of 3 (tied with a wrong -inf), or 0
    cases = [
        ([-inf, -inf, 0.5], 3),
        ([-inf, -inf], 2),
        ([-inf, 0.2, 0.1], 3),
        ([0.2, -inf, -inf], 1),
        ([inf, inf, 0.1], 2),
        ([inf, 1.7976931348623157e308], 1),
    ]
    for row, rank in cases:
        assert rank_of_targets([row], [0]).tolist() == [rank], row
        assert rank_of_targets([row], [[0]]).tolist() == [rank], row
        assert rank_of_targets([row], [0]).tolist() == [naive_rank(row, {0})], row


def test_close_float64_scores_do_not_tie():
    assert rank_of_targets(np.array([[1.0 + 1e-9, 1.0]]), [0]).tolist() == [1]


def test_targets_outside_the_gallery_and_empty_scores_are_refused():
    with pytest.raises(ValueError, match="outside the gallery"):
        rank_of_targets([[0.1, 0.2]], [-1])
    with pytest.raises(ValueError, match="outside the gallery"):
        rank_of_targets([[0.1, 0.2]], [[0, 5]])
    with pytest.raises(ValueError, match="not empty"):
        rank_of_targets(np.zeros((0, 3)), [])
    with pytest.raises(ValueError, match=">= 1"):
        random_baseline(10, k_values=(0,))


def test_metrics_hand_values():
    m = retrieval_metrics([1, 2, 4, 40], k_values=(1, 5, 10), mrr_k=20)
    assert m["mrr_at_20"] == pytest.approx((1 + 0.5 + 0.25 + 0) / 4)
    assert m["r_at_1"] == 0.25 and m["r_at_5"] == 0.75 and m["r_at_10"] == 0.75
    assert m["mean_rank"] == pytest.approx(47 / 4)
    assert m["median_rank"] == 3.0 and m["queries"] == 4
    assert list(m) == [
        "mrr_at_20",
        "r_at_1",
        "r_at_5",
        "r_at_10",
        "mean_rank",
        "median_rank",
        "queries",
    ]


def test_metrics_prefix_and_plain_mrr():
    m = retrieval_metrics([1, 40], k_values=(1,), mrr_k=None, prefix="tune_to_title_")
    assert m["tune_to_title_mrr"] == pytest.approx((1 + 1 / 40) / 2)
    assert set(m) == {
        f"tune_to_title_{k}" for k in ("mrr", "r_at_1", "mean_rank", "median_rank", "queries")
    }


@pytest.mark.parametrize("seed", range(3))
def test_metrics_match_naive_oracle(seed):
    ranks = np.random.default_rng(seed).integers(1, 60, size=int(17 + seed)).tolist()
    got, want = retrieval_metrics(ranks), naive_metrics(ranks)
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == pytest.approx(want[key])


def test_metrics_reject_zero_rank():
    with pytest.raises(ValueError):
        retrieval_metrics([0, 1])


# a cut-off that is no whole number >= 1: the metrics gave r_at_0 = 0.0 and mrr_at_0, while
# random_baseline refused them; every entry point now refuses them alike, naming the value
BAD_CUTOFFS = [
    ({"k_values": [0]}, "k_values must be whole numbers >= 1, got 0"),
    ({"k_values": (1, -5)}, "k_values must be whole numbers >= 1, got -5"),
    ({"k_values": [2.5]}, "k_values must be whole numbers >= 1, got 2.5"),
    ({"k_values": 5}, "k_values must be a list of whole numbers >= 1, got 5"),
    ({"mrr_k": 0}, "mrr_k must be a whole number >= 1 or None, got 0"),
    ({"mrr_k": 10.0}, "mrr_k must be a whole number >= 1 or None, got 10.0"),
]


@pytest.mark.parametrize("bad, message", BAD_CUTOFFS)
def test_every_entry_point_refuses_a_cutoff_below_one(bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        retrieval_metrics([1, 2], **bad)
    with pytest.raises(ValueError, match=re.escape(message)):
        random_baseline(10, **bad)
    with pytest.raises(ValueError, match=re.escape(message)):
        retrieval_metrics_from_embeddings([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [0], **bad)


def test_cutoffs_may_be_any_iterable_of_whole_numbers():
    m = retrieval_metrics([1, 3], k_values=(k for k in (np.int64(1), 2)), mrr_k=np.int64(2))
    assert (m["r_at_1"], m["r_at_2"], m["mrr_at_2"]) == (0.5, 0.5, 0.5)
    assert retrieval_metrics([1, 3], k_values=[], mrr_k=None)["mrr"] == pytest.approx(2 / 3)


# --- random baseline -----------------------------------------------------------------------


def test_random_baseline_closed_form():
    b = random_baseline(4, mrr_k=2, k_values=(1, 10))
    assert b["mrr_at_2"] == pytest.approx((1 + 1 / 2) / 4)
    assert b["r_at_1"] == pytest.approx(1 / 4) and b["r_at_10"] == 1.0
    assert b["mean_rank"] == pytest.approx(2.5) and b["median_rank"] == 2.5
    g = 10_000
    assert random_baseline(g)["mrr_at_20"] == pytest.approx(sum(1 / r for r in range(1, 21)) / g)


@pytest.mark.parametrize("n_correct", [1, 2, 3])
def test_random_baseline_equals_exhaustive_enumeration(n_correct):
    """Average the naive metrics over every placement of the correct items in a gallery of 7."""
    g = 7
    ranks = [min(c) + 1 for c in itertools.combinations(range(g), n_correct)]
    want = naive_metrics(ranks, k_values=(1, 2, 5), mrr_k=3)
    got = random_baseline(g, mrr_k=3, k_values=(1, 2, 5), n_correct=n_correct)
    for key in ("mrr_at_3", "r_at_1", "r_at_2", "r_at_5", "mean_rank"):
        assert got[key] == pytest.approx(want[key]), key


def test_constant_scorer_gets_worst_rank_not_random():
    m = retrieval_metrics(rank_of_targets(np.zeros((5, 50)), np.arange(5)))
    assert m["mean_rank"] == 50 and m["mrr_at_20"] == 0.0


# --- embeddings ----------------------------------------------------------------------------


def test_cosine_ranks_match_explicit_similarity_and_chunking():
    gen = torch.Generator().manual_seed(0)
    q, g = torch.randn(23, 8, generator=gen), torch.randn(31, 8, generator=gen) * 3
    targets = torch.randint(0, 31, (23,), generator=gen)
    sims = torch.nn.functional.normalize(q, dim=1) @ torch.nn.functional.normalize(g, dim=1).T
    expected = [naive_rank(s.tolist(), {int(t)}) for s, t in zip(sims, targets)]
    assert cosine_ranks(q, g, targets).tolist() == expected
    assert cosine_ranks(q, g, targets, chunk_size=4).tolist() == expected


def test_cosine_ranks_by_labels_equal_mask():
    gen = torch.Generator().manual_seed(1)
    q, g = torch.randn(10, 4, generator=gen), torch.randn(12, 4, generator=gen)
    gl = ["reel", "jig", "polka"] * 4
    ql = ["jig", "reel", "polka", "jig", "reel"] * 2
    mask = torch.tensor([[a == b for b in gl] for a in ql])
    by_mask = cosine_ranks(q, g, mask)
    by_labels = cosine_ranks(q, g, query_labels=ql, gallery_labels=gl, chunk_size=3)
    assert by_labels.tolist() == by_mask.tolist()


def test_metrics_from_embeddings_diagonal_default():
    e = torch.eye(6)
    m = retrieval_metrics_from_embeddings(e, e * 2)
    assert m["mrr_at_20"] == 1.0 and m["r_at_1"] == 1.0 and m["gallery_size"] == 6


# --- evaluate module -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def metric():
    evaluate = pytest.importorskip("evaluate")
    before = evaluate.config.HF_EVALUATE_OFFLINE
    evaluate.config.HF_EVALUATE_OFFLINE = True
    yield evaluate
    evaluate.config.HF_EVALUATE_OFFLINE = before


def test_evaluate_module_scores_with_index_and_lists(metric):
    m = metric.load(METRIC_PATH)
    scores = [[0.1, 0.9, 0.5], [0.3, 0.3, 0.3]]
    out = m.compute(predictions=scores, references=[2, 0])
    want = retrieval_metrics([2, 3])
    want["gallery_size"] = 3
    assert out == pytest.approx(want)
    out = m.compute(predictions=scores, references=[[2, 1], [0]], k_values=[1], mrr_k=2)
    assert out["mrr_at_2"] == pytest.approx(1 / 2) and out["r_at_1"] == 0.5


def test_evaluate_module_ranks_scores_in_float64_as_rank_of_targets(metric):
    # 1000.00003 and 1000.0 are one float32: stored as such, the correct item tied and lost
    scores = [[1000.00003, 1000.0, 999.0]]
    assert rank_of_targets(scores, [0]).tolist() == [1]
    out = metric.load(METRIC_PATH).compute(predictions=scores, references=[0])
    assert out["mrr_at_20"] == 1.0 and out["mean_rank"] == 1.0
    out = metric.load(METRIC_PATH).compute(predictions=[[1.0, 1.0 + 1e-9]], references=[[1]])
    assert out["r_at_1"] == 1.0


def test_evaluate_module_ranks_config(metric):
    m = metric.load(METRIC_PATH, "ranks")
    out = m.compute(predictions=[1, 4, 30], k_values=[1, 5], mrr_k=20)
    assert out == pytest.approx(retrieval_metrics([1, 4, 30], k_values=(1, 5)))
    assert m.compute(predictions=[1.0, 4.0])["mean_rank"] == 2.5  # whole floats are ranks too
    # 1.5 was truncated to rank 1, 0 gave a division by zero; inf passed the check and was
    # cast to a negative integer (a RuntimeWarning, then "ranks are 1-based")
    for bad in (1.5, 0, float("inf"), -float("inf"), float("nan")):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with pytest.raises(ValueError, match=f"finite whole numbers >= 1; got {bad:g}$"):
                m.compute(predictions=[bad, 2])


@pytest.mark.parametrize("bad, message", BAD_CUTOFFS)
def test_evaluate_module_refuses_a_cutoff_below_one(metric, bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        metric.load(METRIC_PATH).compute(predictions=[[0.1, 0.9]], references=[1], **bad)
    with pytest.raises(ValueError, match=re.escape(message)):
        metric.load(METRIC_PATH, "ranks").compute(predictions=[1, 2], **bad)


def test_evaluate_module_refuses_no_queries_by_name(metric):
    for config in ("scores", "ranks"):
        m = metric.load(METRIC_PATH, config)
        with pytest.raises(ValueError, match="no queries"):
            m.compute(predictions=[], references=[] if config == "scores" else None)


def test_evaluate_module_refuses_an_empty_batch_by_name(metric):
    # add_batch failed with a bare IndexError while evaluate inferred the features
    for config in ("scores", "ranks"):
        m = metric.load(METRIC_PATH, config)
        with pytest.raises(ValueError, match="no queries"):
            m.add_batch(predictions=[], references=[] if config == "scores" else None)
    m.add_batch(predictions=[1, 3])  # the refused batch left the metric usable
    assert m.compute()["mean_rank"] == 2.0


def test_evaluate_module_refuses_references_that_are_no_whole_index(metric):
    # an int64 feature truncated them: 2.9 was read as index 2 (rank 1), 1.5 as index 1
    m = metric.load(METRIC_PATH)
    scores = [[0.1, 0.2, 0.3]]
    for refs, bad in (([2.9], "2.9"), ([1.5], "1.5"), ([[2, 1.5]], "1.5"), ([float("nan")], "nan")):
        with pytest.raises(ValueError, match=f"whole gallery indices; got {bad} for query 0$"):
            m.compute(predictions=scores, references=refs)
    # whole floats are indices, and the metric is still usable after the refusals
    assert m.compute(predictions=scores, references=[2.0])["mean_rank"] == 1.0
    assert m.compute(predictions=scores, references=[[0.0, 1]])["mean_rank"] == 2.0


def test_evaluate_module_refuses_score_rows_of_several_gallery_sizes(metric):
    # a query scored against another gallery has no rank among this one's titles
    with pytest.raises(ValueError, match=r"every score row must have the gallery size; got "
                       r"lengths \{2, 3\}"):  # fmt: skip
        metric.load(METRIC_PATH).compute(
            predictions=[[0.1, 0.9, 0.5], [0.3, 0.2]], references=[1, 0]
        )


def test_evaluate_module_stays_usable_after_a_failed_call(metric):
    # evaluate kept the feature format of a refused batch (index vs list of indices), and a
    # failure inside the computation kept a file lock: every later call failed
    m = metric.load(METRIC_PATH)
    with pytest.raises(ValueError, match="expected format"):
        m.compute(predictions=[[0.1, 0.9, 0.5], [0.3, 0.2, 0.1]], references=[[0, 2], 0])
    assert m.compute(predictions=[[0.1, 0.9, 0.5]], references=[1])["mrr_at_20"] == 1.0
    with pytest.raises(ValueError, match="outside the gallery"):
        m.compute(predictions=[[0.1, 0.9, 0.5]], references=[[7]])
    assert m.compute(predictions=[[0.1, 0.9, 0.5]], references=[[1]])["mrr_at_20"] == 1.0
    with pytest.raises(ValueError, match="expected format"):
        m.add_batch(predictions=[[0.1, 0.9, 0.5], [0.3, 0.2, 0.1]], references=[[0, 2], 0])
    m.add_batch(predictions=[[0.1, 0.9, 0.5]], references=[2])
    assert m.compute()["mean_rank"] == 2.0  # the refused batch was not kept
    ranks = metric.load(METRIC_PATH, "ranks")
    with pytest.raises(ValueError, match="whole numbers"):
        ranks.compute(predictions=[1.5, 2])
    assert ranks.compute(predictions=[1, 2])["mean_rank"] == 1.5


def test_evaluate_module_names_misused_arguments(metric):
    scores = metric.load(METRIC_PATH)
    for call in (dict(predictions=[[0.1, 0.9]]), dict(references=[1])):
        missing = "references" if "predictions" in call else "predictions"
        with pytest.raises(ValueError, match=f"'scores' configuration needs both.*{missing}"):
            scores.compute(**call)
        with pytest.raises(ValueError, match="'scores' configuration needs both"):
            scores.add_batch(**call)
    ranks = metric.load(METRIC_PATH, "ranks")
    with pytest.raises(ValueError, match="'ranks' configuration takes no references"):
        ranks.compute(predictions=[1, 2], references=[0, 1])  # was silently ignored
    with pytest.raises(ValueError, match="'ranks' configuration takes no references"):
        ranks.add_batch(predictions=[1, 2], references=[0, 1])
    assert ranks.compute(predictions=[1, 2])["queries"] == 2


def test_evaluate_module_rejects_unknown_config(metric):
    with pytest.raises(KeyError):
        metric.load(METRIC_PATH, "nope")


def test_metric_path_points_at_the_shipped_module():
    assert Path(METRIC_PATH).is_absolute() and Path(METRIC_PATH).is_file()
    assert Path(METRIC_PATH).parent.parent == Path(sys.modules["modeling_irish"].__file__).parent


def test_evaluate_load_works_fully_offline(tmp_path):
    """A fresh process with every HF offline switch on, an empty module cache, and another
    working directory than the repository's."""
    pytest.importorskip("evaluate")
    code = (
        "import json, sys, evaluate\n"
        "from modeling_irish.retrieval import METRIC_PATH\n"
        "m = evaluate.load(METRIC_PATH)\n"
        "print(json.dumps(m.compute(predictions=[[0.2, 0.8]], references=[1])))\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_EVALUATE_OFFLINE="1")
    env.update(HF_HOME=str(tmp_path / "hf"), HF_MODULES_CACHE=str(tmp_path / "modules"))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        encoding="utf-8",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["mrr_at_20"] == 1.0 and out["gallery_size"] == 2
    assert not math.isnan(out["mean_rank"])


# --- evaluate module: inputs it misread or failed on without a word ------------------------


def test_evaluate_module_refuses_boolean_references(metric):
    # a mask row [True, False, True] was stored as 1.0, 0.0, 1.0 and read as the indices {0, 1}:
    # item 1 (0.9) became a correct item, so the query ranked 1 instead of 2
    m = metric.load(METRIC_PATH)
    scores = [[0.1, 0.9, 0.5]]
    for refs in ([[True, False, True]], np.array([[True, False, True]]), [True], [np.bool_(1)]):
        with pytest.raises(ValueError, match="not booleans; query 0 has a boolean"):
            m.compute(predictions=scores, references=refs)
    assert m.compute(predictions=scores, references=[[0, 2]])["mean_rank"] == 2.0
    ranks = metric.load(METRIC_PATH, "ranks")
    with pytest.raises(ValueError, match="not booleans; query 1 has one"):
        ranks.compute(predictions=[2, True])  # True was read as rank 1


def test_evaluate_module_names_none_and_unwrapped_inputs(metric):
    m = metric.load(METRIC_PATH)
    refused = [
        # a None score became NaN without a word
        (dict(predictions=[[0.3, None, 0.1]], references=[0]), "got None for query 0, item 1"),
        # the rest failed with numpy's or evaluate's bare TypeError, or a format error about 0.1
        (dict(predictions=[[0.3, 0.2]], references=[None]), "got None for query 0$"),
        (dict(predictions=[[0.3, 0.2]], references=[[1, None]]), "got None for query 0$"),
        (dict(predictions=[[0.3, 0.2], None], references=[0, 1]), "got None for query 1 "),
        (dict(predictions=[0.1, 0.9, 0.5], references=2), "got 0.1 for query 0 .*\\[scores\\]"),
        (dict(predictions=np.array([0.1, 0.9]), references=[1]), "2-d.*got shape \\(2,\\)"),
        (dict(predictions=[[0.1, 0.9]], references=1), "one entry per query; got 1"),
    ]
    for call, message in refused:
        with pytest.raises(ValueError, match=message):
            m.compute(**call)
        with pytest.raises(ValueError, match=message):
            m.add_batch(**call)
            m.compute()
    assert m.compute(predictions=[[0.1, 0.9, 0.5]], references=[2])["mean_rank"] == 2.0


def test_evaluate_module_refuses_strings_and_names_a_none_rank(metric):
    # "3" was read as rank 3 (and "0.5" as a score, "1" as an index) without a word, "x" failed
    # with a bare conversion error, and a None rank was reported as "got nan"
    scores, ranks = metric.load(METRIC_PATH), metric.load(METRIC_PATH, "ranks")
    refused = [
        (ranks, dict(predictions=["3", 1]), "ranks must be .*not strings; got '3' for query 0$"),
        (ranks, dict(predictions=np.array(["1", "2"])), "not strings; got '1' for query 0$"),
        (ranks, dict(predictions=[1, "x"]), "not strings; got 'x' for query 1$"),
        (ranks, dict(predictions=[1, None]), ">= 1; got None for query 1$"),
        (ranks, dict(predictions=np.array([2, None])), "got None for query 1$"),
        (
            scores,
            dict(predictions=[[0.1, "0.5"]], references=[0]),
            "got '0.5' for query 0, item 1$",
        ),
        (scores, dict(predictions=[[0.9, 0.1]], references=["1"]), "indices, not strings; got '1'"),
        (scores, dict(predictions=[[0.9, 0.1]], references=[[0, "1"]]), "got '1' for query 0$"),
    ]
    for m, call, message in refused:
        with pytest.raises(ValueError, match=message):
            m.compute(**call)
        with pytest.raises(ValueError, match=message):
            m.add_batch(**call)  # refused before it is stored: the metric stays usable
    assert ranks.compute(predictions=[3, 1])["mean_rank"] == 2.0
    assert scores.compute(predictions=[[0.1, 0.5]], references=[0])["mean_rank"] == 2.0


def test_evaluate_module_hand_example_with_twin_titles_ties_and_k_beyond_the_gallery(metric):
    # gallery: The Butterfly, Drowsy Maggie, The Butterfly (a second copy), Morrison's
    scores = [[0.9, 0.1, 0.9, 0.2], [0.3, 0.3, 0.3, 0.3], [0.1, 0.8, 0.2, 0.7], [0, 0, 0, 1.0]]
    m = metric.load(METRIC_PATH)
    kw = dict(k_values=[1, 2, 10], mrr_k=3)
    # one index per query: the twin ties with the Butterfly and ranks ahead; ranks 2, 4, 2, 1
    out = m.compute(predictions=scores, references=[0, 3, 3, 3], **kw)
    assert out == {
        "mrr_at_3": (1 / 2 + 0 + 1 / 2 + 1) / 4,
        "r_at_1": 0.25,
        "r_at_2": 0.75,
        "r_at_10": 1.0,  # k beyond the gallery of 4: every query is within it
        "mean_rank": 9 / 4,
        "median_rank": 2.0,
        "queries": 4,
        "gallery_size": 4,
    }
    # both copies correct: ranks 1, 4, 2, 1; the same in two batches
    out = m.compute(predictions=scores, references=[[0, 2], [3], [3], [3]], **kw)
    m.add_batch(predictions=scores[:1], references=[[2, 0]])
    m.add_batch(predictions=np.array(scores[1:]), references=torch.tensor([[3], [3], [3]]))
    assert m.compute(**kw) == out
    assert (out["mrr_at_3"], out["r_at_1"], out["mean_rank"]) == (2.5 / 4, 0.5, 2.0)
    assert out["median_rank"] == 1.5 and out["r_at_2"] == 0.75


_SCORE = st.sampled_from([-math.inf, -1.0, 0.0, 0.25, 1.0, math.inf]) | st.floats(-3, 3)


@st.composite
def _retrievals(draw):
    """Scores with many ties and infinities, one correct index or a set per query (one form per
    call), cut-offs up to beyond the gallery, and a split into two batches."""
    g, n = draw(st.integers(1, 7)), draw(st.integers(1, 6))
    scores = draw(st.lists(st.lists(_SCORE, min_size=g, max_size=g), min_size=n, max_size=n))
    index = st.integers(0, g - 1)
    if draw(st.booleans()):
        refs = draw(st.lists(index, min_size=n, max_size=n))
    else:
        one_set = st.lists(index, min_size=1, max_size=g, unique=True)
        refs = draw(st.lists(one_set, min_size=n, max_size=n))
    k_values = draw(st.lists(st.integers(1, g + 3), min_size=1, max_size=3, unique=True))
    return scores, refs, k_values, draw(st.integers(1, g + 3)), draw(st.integers(1, n))


@pytest.fixture(scope="module")
def scores_metric(metric):
    return metric.load(METRIC_PATH)


@settings(max_examples=25, deadline=None)
@given(_retrievals())
@example(
    ([[-math.inf, -math.inf, 0.5], [0.0, 1.0, 1.0]], [0, 2], [1, 5], 2, 1)
)  # -inf: was rank 1, is 3
def test_evaluate_module_matches_a_naive_implementation(scores_metric, case):
    scores, refs, k_values, mrr_k, cut = case
    ranks = [naive_rank(s, {r} if isinstance(r, int) else set(r)) for s, r in zip(scores, refs)]
    want = naive_metrics(ranks, k_values=k_values, mrr_k=mrr_k)
    want["gallery_size"] = len(scores[0])
    kw = dict(k_values=k_values, mrr_k=mrr_k)
    got = scores_metric.compute(predictions=scores, references=refs, **kw)
    assert got == pytest.approx(want)
    scores_metric.add_batch(predictions=scores[:cut], references=refs[:cut])
    if cut < len(scores):
        scores_metric.add_batch(predictions=scores[cut:], references=refs[cut:])
    assert scores_metric.compute(**kw) == pytest.approx(want)
