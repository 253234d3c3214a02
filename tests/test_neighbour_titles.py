"""The neighbour-title scorer: naming an unseen tune from the titles of its nearest tunes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modeling_irish.neighbour_titles import NeighbourTitles, minilm_title_embeddings


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# four training settings in a 4-d "title space": two reels, a jig, a polka
TITLES = np.eye(4, dtype=np.float32)
RHYTHMS = ["reel", "reel", "jig", "polka"]


def test_the_nearest_setting_title_wins_without_a_rhythm():
    nt = NeighbourTitles(TITLES, RHYTHMS, k=1, rhythm_weight=0.0)
    for nearest in range(4):
        scores = np.full(4, -0.8)
        scores[nearest] = -0.1
        assert int(np.argmax(nt.predict(scores, "reel") @ TITLES.T)) == nearest


def test_softmax_weights_follow_the_temperature():
    scores = np.array([-0.10, -0.12, -0.9, -0.9])  # two near settings, 0.02 apart
    sharp = NeighbourTitles(TITLES, RHYTHMS, k=2, temperature=0.001, rhythm_weight=0.0)
    soft = NeighbourTitles(TITLES, RHYTHMS, k=2, temperature=10.0, rhythm_weight=0.0)
    a, b = sharp.predict(scores) @ TITLES.T, soft.predict(scores) @ TITLES.T
    assert a[0] - a[1] > 0.5  # almost only the nearest
    assert abs(b[0] - b[1]) < 0.01  # nearly equal weights
    # k larger than the number of settings is fine
    assert NeighbourTitles(TITLES, RHYTHMS, k=50).predict(scores).shape == (4,)


def test_ties_go_to_the_first_setting():
    nt = NeighbourTitles(TITLES, RHYTHMS, k=1, rhythm_weight=0.0)
    assert int(np.argmax(nt.predict(np.array([-0.5, -0.2, -0.2, -0.9])) @ TITLES.T)) == 1


def test_the_rhythm_pulls_towards_that_rhythm_s_titles():
    scores = np.array([-0.5, -0.5, -0.5, -0.5])  # no melodic evidence at all
    nt = NeighbourTitles(TITLES, RHYTHMS, k=4, temperature=1.0, rhythm_weight=2.0)
    assert int(np.argmax(nt.predict(scores, "polka") @ TITLES.T)) == 3
    assert int(np.argmax(nt.predict(scores, "jig") @ TITLES.T)) == 2
    # an unknown rhythm (or none) adds nothing: the prediction is the neighbours' alone
    plain = nt.predict(scores, None)
    np.testing.assert_allclose(nt.predict(scores, "mazurka"), plain)
    np.testing.assert_allclose(plain, np.zeros(4), atol=1e-6)  # the mean of all = the centre


def test_each_distinct_title_counts_once_in_its_rhythm():
    # three settings of one reel title and one of another: the reel mean is halfway
    titles = unit_rows(np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float))
    rhythms = ["reel", "reel", "reel", "reel", "jig"]
    keys = ["a", "a", "a", "b", "c"]
    nt = NeighbourTitles(titles, rhythms, keys)
    centre = titles.mean(axis=0)  # over settings: (3/5, 1/5, 1/5)
    expected = np.array([0.5, 0.5, 0.0]) - centre  # mean of titles a and b, relative to it
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(nt.rhythm_titles["reel"], expected, rtol=1e-5)
    # counted per setting instead, title a would weigh three times as much
    per_setting = titles[:4].mean(axis=0) - centre
    assert nt.rhythm_titles["reel"] @ per_setting / np.linalg.norm(per_setting) < 0.99


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="no titled"):
        NeighbourTitles(np.zeros((0, 4)), [])
    with pytest.raises(ValueError, match="one rhythm per setting"):
        NeighbourTitles(TITLES, RHYTHMS[:2])
    with pytest.raises(ValueError, match="temperature"):
        NeighbourTitles(TITLES, RHYTHMS, temperature=0.0)


def test_minilm_embeddings_are_unit_rows_and_repeat_for_equal_titles():
    out = minilm_title_embeddings(["The Silver Spear", "The Kesh", "The Silver Spear"])
    assert out.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(out[0], out[2])
    assert out[0] @ out[1] < 0.99


def test_minilm_embeddings_leave_the_encoder_in_its_own_mode_even_on_an_error():
    # the encoder was put back in training mode only when encoding succeeded
    class Failing(torch.nn.Module):
        def encode(self, titles):
            assert not self.training  # encoded in eval mode
            raise RuntimeError("out of memory")

    encoder = Failing().train()
    with pytest.raises(RuntimeError, match="out of memory"):
        minilm_title_embeddings(["The Kesh"], encoder=encoder)  # type: ignore[arg-type]
    assert encoder.training
