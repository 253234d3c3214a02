"""What a tune's header says about its title: log P(rhythm, mode, meter | title words).

Under the *unseen* retrieval protocol the query is a tune no title of the gallery has a setting
of. Its header still carries evidence: many titles name their tune type ("The Kerry Polka",
"Farewell to Erin Reel"), and some words go with a mode or a meter more than others ("Lament",
"Slide", "Waltz"). `HeaderTitlePrior` learns that from the titled training tunes, one
multinomial logistic regression per header field on the title's words (scikit-learn), and
scores a gallery title for a query by the sum over fields of log P(query's value | title).
Titles with no telling word get the field's base rate, so the prior mostly reorders the titles
that do; the neighbour-title cosine breaks the remaining ties
(`retrieval_evaluation._neighbour_title_scores`).

>>> prior = HeaderTitlePrior(
...     ["Kerry Polka", "Ballydesmond Polka", "Silver Spear", "Maid Behind the Bar"],
...     [{"rhythm": "polka"}, {"rhythm": "polka"}, {"rhythm": "reel"}, {"rhythm": "reel"}],
...     min_df=1,
... )
>>> s = prior.log_probs(["Glountane Polka", "Wind That Shakes the Barley"], [{"rhythm": "polka"}])
>>> bool(s[0, 0] > s[0, 1])
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

import numpy as np

__all__ = ["FIELDS", "MIN_TITLES", "REGULARISATION_C", "HeaderTitlePrior"]

#: Header fields whose values the prior predicts from a title.
FIELDS = ("rhythm", "mode", "meter")
#: Inverse L2 strength of each field's logistic regression (chosen on development sets).
REGULARISATION_C = 1.0
#: Words must occur in this many training titles to be features.
MIN_TITLES = 2

Header = Mapping[str, Optional[str]]


class HeaderTitlePrior:
    """log P(header field values | title words), fitted on titled training tunes.

    Args:
        titles: the title of each training tune (or setting).
        headers: each one's header values, e.g. ``{"rhythm": "reel", "mode": "major", "meter":
            "4/4"}``; a missing or None value leaves that tune out of that field's model.
        fields: the header fields to model.
        c: inverse regularisation strength of the logistic regressions.
        min_df: a word is a feature when at least this many titles hold it.

    A field with fewer than two values among the titled tunes is not modelled, and with no
    word in `min_df` titles nothing is: `log_probs` then scores every title 0 (`fitted` is
    False), so a tiny training corpus leaves the ranking to the other scores.

    Raises:
        ValueError: when titles and headers differ in number.
    """

    def __init__(
        self,
        titles: Sequence[str],
        headers: Sequence[Header],
        fields: Sequence[str] = FIELDS,
        c: float = REGULARISATION_C,
        min_df: int = MIN_TITLES,
    ) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        if len(titles) != len(headers):
            raise ValueError(f"{len(titles)} titles but {len(headers)} headers")
        self.vectorizer = CountVectorizer(
            lowercase=True, token_pattern=r"[a-z']+", min_df=min_df, binary=True
        )
        self.models: dict = {}
        try:
            words = self.vectorizer.fit_transform(list(titles))
        except ValueError:  # no word in min_df titles: nothing to learn from
            return
        for name in fields:
            given = [(i, value) for i, h in enumerate(headers) if (value := h.get(name))]
            rows, values = [i for i, _ in given], [value for _, value in given]
            if len(set(values)) >= 2:
                self.models[name] = self._fit(words[rows], values, c)

    @property
    def fitted(self) -> bool:
        """Whether any header field is modelled."""
        return bool(self.models)

    @staticmethod
    def _fit(words, values: list[str], c: float):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=c, max_iter=2000).fit(words, values)

    def log_probs(self, gallery: Sequence[str], queries: Sequence[Header]) -> np.ndarray:
        """`(len(queries), len(gallery))` sum over the modelled fields of log P(the query's value
        | gallery title). A field whose value a query lacks, or no training tune had, adds 0."""
        out = np.zeros((len(queries), len(gallery)), dtype=np.float64)
        if not self.models:
            return out
        words = self.vectorizer.transform(list(gallery))
        for name, model in self.models.items():
            table = model.predict_log_proba(words)  # (gallery, classes)
            column = {value: j for j, value in enumerate(model.classes_)}
            wanted = np.array([column.get(h.get(name), -1) for h in queries], dtype=np.int64)
            known = wanted >= 0
            out[known] += table[:, wanted[known]].T
        return out
