"""The header prior: log P(rhythm, mode, meter | title words) for naming unseen tunes."""

from __future__ import annotations

import numpy as np
import pytest

from modeling_irish.title_prior import HeaderTitlePrior

TITLES = [
    "The Kerry Polka",
    "Ballydesmond Polka",
    "The Glen Polka",
    "Silver Spear Reel",
    "The Maid Behind the Bar Reel",
    "Drowsy Maggie Reel",
    "Lament for Owen Roe",
    "Lament for the Wild Geese",
    "The Kesh Jig",
    "The Connaughtman's Rambles Jig",
]
HEADERS = [
    {"rhythm": "polka", "mode": "major", "meter": "2/4"},
    {"rhythm": "polka", "mode": "major", "meter": "2/4"},
    {"rhythm": "polka", "mode": "major", "meter": "2/4"},
    {"rhythm": "reel", "mode": "dorian", "meter": "4/4"},
    {"rhythm": "reel", "mode": "major", "meter": "4/4"},
    {"rhythm": "reel", "mode": "dorian", "meter": "4/4"},
    {"rhythm": "air", "mode": "minor", "meter": "3/4"},
    {"rhythm": "air", "mode": "minor", "meter": None},
    {"rhythm": "jig", "mode": "major", "meter": "6/8"},
    {"rhythm": "jig", "mode": "major", "meter": "6/8"},
]
GALLERY = ["Glountane Polka", "Farewell to Erin Reel", "Lament of the Exiles", "Banish Misfortune"]


@pytest.fixture(scope="module")
def prior() -> HeaderTitlePrior:
    return HeaderTitlePrior(TITLES, HEADERS, min_df=2)


def test_a_tunes_header_ranks_the_titles_whose_words_go_with_it_first(prior):
    queries = [
        {"rhythm": "polka", "mode": "major", "meter": "2/4"},
        {"rhythm": "reel", "mode": "dorian", "meter": "4/4"},
        {"rhythm": "air", "mode": "minor", "meter": "3/4"},
    ]
    scores = prior.log_probs(GALLERY, queries)
    assert scores.shape == (3, 4)
    assert np.argmax(scores, axis=1).tolist() == [0, 1, 2]
    assert (scores <= 0).all()  # sums of log-probabilities


def test_each_field_adds_its_own_log_probability(prior):
    both = prior.log_probs(GALLERY, [{"rhythm": "polka", "meter": "2/4"}])
    rhythm = prior.log_probs(GALLERY, [{"rhythm": "polka"}])
    meter = prior.log_probs(GALLERY, [{"meter": "2/4"}])
    np.testing.assert_allclose(both, rhythm + meter)
    assert not np.allclose(rhythm, 0) and not np.allclose(meter, 0)


def test_unknown_or_unseen_header_values_add_nothing(prior):
    scores = prior.log_probs(GALLERY, [{}, {"rhythm": None}, {"rhythm": "mazurka", "mode": None}])
    np.testing.assert_array_equal(scores, np.zeros((3, 4)))


def test_a_corpus_too_small_to_learn_from_scores_every_title_zero():
    tiny = HeaderTitlePrior(["Kesh", "Spear"], [{"rhythm": "jig"}, {"rhythm": "reel"}])
    assert not tiny.fitted  # no word in two titles
    np.testing.assert_array_equal(tiny.log_probs(GALLERY, [{"rhythm": "jig"}]), np.zeros((1, 4)))
    one_rhythm = HeaderTitlePrior(["The Kesh", "The Spear"], [{"rhythm": "jig"}] * 2)
    assert not one_rhythm.fitted  # a field with one value is not modelled


def test_titles_and_headers_must_pair_up():
    with pytest.raises(ValueError, match="3 titles but 2 headers"):
        HeaderTitlePrior(["a", "b", "c"], [{}, {}])
