"""`evaluate` metric: MRR@k, R@k and mean/median rank of a retrieval (e.g. tune -> title)."""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable
from typing import Any, Optional

import datasets
import evaluate
import numpy as np

from modeling_irish.retrieval import rank_of_targets, retrieval_metrics

_CITATION = """\
@inproceedings{voorhees1999trec,
  title={The TREC-8 Question Answering Track Report},
  author={Voorhees, Ellen M.},
  booktitle={TREC},
  year={1999}
}
"""

_DESCRIPTION = """\
Mean reciprocal rank over the top k (MRR@k, 0 for a correct item ranked below k), recall at k
(R@k: the fraction of queries whose best correct item is in the top k), and the mean and median
rank of the best correct item. Ties are broken against the model: a correct item tied with wrong
items is ranked after all of them, so a constant scorer cannot look good. A NaN score counts
against the model (a NaN wrong item ranks ahead, a NaN correct one last); +-inf are scores like
any other (-inf for an item masked out).

A k beyond the gallery is allowed: R@k is then 1 and MRR@k the plain MRR. The gallery is
indexed, not named: if one title appears twice, list both indices as correct (or keep one
copy), else its twin, scored the same, ties and ranks ahead of it.

Two configurations:

- `"scores"` (default): one row of gallery scores per query (higher is better) and the index
  (or list of indices) of the correct gallery item(s); the metric ranks them.
- `"ranks"`: the 1-based ranks are already computed (cheap for big galleries, e.g. with
  `modeling_irish.retrieval.cosine_ranks`); pass them as `predictions`, with no references.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[list[float]]` for `"scores"`, `list[int]` for `"ranks"`):
        `"scores"`: for each query, the scores of every gallery item (all rows the same length,
        the gallery size), higher is better; a list of rows, a 2-d numpy array or torch tensor
        (a flat row, a None score or a string, even ``"0.5"``, is a `ValueError`: wrap one
        query as `[scores]`).
        `"ranks"`: the 1-based rank of each query's best correct item (a finite whole number
        >= 1; inf, NaN, None, 0, 1.5, a boolean or a string, even ``"3"``, is a `ValueError`).
    references (`list[int]` or `list[list[int]]`, `"scores"` only):
        for each query, the index of its correct gallery item, or a list of indices when several
        gallery items count as correct (e.g. settings of the same tune). Every row uses the same
        form within one `compute` call and its batches. Each index is a whole number (2 or 2.0;
        2.9, 1.5, inf, NaN, None or a string such as ``"2"`` is a `ValueError`, never truncated
        nor parsed); booleans (a mask row would read as the indices 1 and 0) are a `ValueError`
        too: pass `np.flatnonzero(row)`.
        Required by `"scores"`; given to `"ranks"`, a `ValueError` (they are not read there).
    k_values (`list[int]`, *optional*, defaults to `[1, 5, 10]`): cut-offs for recall at k,
        whole numbers >= 1 (0 or 2.5 is a `ValueError`).
    mrr_k (`int`, *optional*, defaults to 20): cut-off of the MRR, a whole number >= 1; `None`
        for the plain MRR.
An empty query list, in `compute` or `add_batch`, is a `ValueError` ("no queries").
A call that raises leaves the metric usable: a refused batch is not stored. As in every
`evaluate` metric, `compute(predictions=..., references=...)` after `add_batch` scores the
stored batches and the new ones together.
Returns:
    `mrr_at_{mrr_k}` (`float`), `r_at_{k}` (`float`) for each k, `mean_rank` (`float`),
    `median_rank` (`float`), `queries` (`int`), and for `"scores"` also `gallery_size` (`int`).
Examples:
    >>> from modeling_irish.retrieval import METRIC_PATH  # this file, wherever it is installed
    >>> metric = evaluate.load(METRIC_PATH)
    >>> metric.compute(predictions=[[0.1, 0.9, 0.5], [0.8, 0.2, 0.3]], references=[2, 0])
    {'mrr_at_20': 0.75, 'r_at_1': 0.5, 'r_at_5': 1.0, 'r_at_10': 1.0, 'mean_rank': 1.5,
     'median_rank': 1.5, 'queries': 2, 'gallery_size': 3}
    >>> ranks = evaluate.load(METRIC_PATH, "ranks")
    >>> ranks.compute(predictions=[1, 4], k_values=[1], mrr_k=3)["mrr_at_3"]
    0.5
"""


def _scores_features() -> list[datasets.Features]:
    # float64, as `rank_of_targets` compares them: float32 would tie 1000.00003 and 1000.0
    scores = datasets.List(datasets.Value("float64"))
    # references float64 too, so that 2.9 reaches `_compute` and is refused there: an int64
    # feature truncated it to index 2 without a word
    index = datasets.Value("float64")
    return [
        datasets.Features({"predictions": scores, "references": index}),
        datasets.Features({"predictions": scores, "references": datasets.List(index)}),
    ]


def _whole_index(value: float, query: int) -> int:
    """`value` as a gallery index, or a `ValueError` naming it and its query when it is no
    finite whole number (2.9 must not become 2)."""
    if value is None or not (np.isfinite(value) and value == np.round(value)):
        shown = "None" if value is None else f"{value:g}"  # None: isfinite's bare TypeError
        raise ValueError(f"references must be whole gallery indices; got {shown} for query {query}")
    return int(value)


def _whole_references(references: list) -> list:
    """The references as ints (one per query, or one list per query), each checked by
    `_whole_index`: they arrive as the float64 the features declare."""
    return [
        [_whole_index(v, q) for v in ref] if isinstance(ref, list) else _whole_index(ref, q)
        for q, ref in enumerate(references)
    ]


def _is_bool(value) -> bool:
    """A Python, numpy or torch boolean, or an array of them: `evaluate` would store it as the
    number 1.0 or 0.0."""
    return isinstance(value, (bool, np.bool_)) or str(getattr(value, "dtype", "")) in (
        "bool",
        "torch.bool",
    )


def _first_bool(values) -> Optional[int]:
    """The position of the first boolean in `values` (a whole boolean array: 0), else None."""
    if _is_bool(values):
        return 0
    for q, value in enumerate(values):
        if _is_bool(value) or (
            isinstance(value, (list, tuple)) and any(_is_bool(v) for v in value)
        ):
            return q
    return None


def _first_of(values, found: Callable[[Any], bool]) -> Optional[tuple[int, Optional[int], Any]]:
    """``(query, item, value)`` of the first value of `values` (one entry per query: a value, or
    a row of them, `item` its place there, else None) for which `found` is true, else None. A
    numeric array or tensor holds no None nor string: not walked."""
    if getattr(values, "dtype", None) is not None and not _may_hold_objects(values):
        return None
    for q, value in enumerate(values):
        if found(value):
            return q, None, value
        if isinstance(value, (list, tuple)) or _may_hold_objects(value):
            for j, item in enumerate(value):
                if found(item):
                    return q, j, item
    return None


def _may_hold_objects(value) -> bool:
    """A numpy array of objects or strings (whose items may be None or text)."""
    return isinstance(value, np.ndarray) and value.dtype.kind in "OUS"


def _is_text(value) -> bool:
    """A string (``"3"``), which `evaluate` would store as the number it spells."""
    return isinstance(value, (str, bytes))


def _refuse_text(values, what: str, item: bool = True) -> None:
    """A `ValueError` naming the first string among `values` (`what`: ``"scores must be
    numbers"``) and its query, and its gallery item when `item` (a score's): `evaluate` read
    ``"3"`` as 3 without a word, and ``"x"`` failed with a bare conversion error."""
    hit = _first_of(values, _is_text)
    if hit is not None:
        q, j, value = hit
        at = f"query {q}, item {j}" if item and j is not None else f"query {q}"
        shown = repr(str(value) if isinstance(value, str) else bytes(value))  # not np.str_('3')
        raise ValueError(f"{what}, not strings; got {shown} for {at}")


def _check_score_rows(predictions) -> None:
    """One row of gallery scores per query: a flat list (one query's scores, unwrapped) or a
    None row is refused by name (evaluate fails on them with a format error about the first
    number, or a bare TypeError)."""
    ndim = getattr(predictions, "ndim", None)
    if ndim is not None:  # an array or a tensor
        if ndim != 2:
            raise ValueError(
                "predictions must be 2-d, one row of gallery scores per query; got shape "
                f"{tuple(predictions.shape)}"
            )
        return
    for q, row in enumerate(predictions):
        if row is None or isinstance(row, (numbers.Number, str)) or getattr(row, "ndim", 1) == 0:
            raise ValueError(
                f"predictions must hold one row of gallery scores per query; got {row!r} for "
                f"query {q} (one query's scores go as [scores])"
            )


def _check_references(references) -> None:
    """One index (or list of indices) per query: a bare index, or booleans (a mask row would be
    read as the indices 1 and 0), refused by name."""
    if isinstance(references, numbers.Number) or getattr(references, "ndim", 1) == 0:
        raise ValueError(
            f"references must hold one entry per query; got {references!r} (one query's goes "
            "as [index])"
        )
    q = _first_bool(references)
    if q is not None:
        raise ValueError(
            f"references must be gallery indices, not booleans; query {q} has a boolean (for a "
            "mask, pass the indices of its True items, e.g. np.flatnonzero(row))"
        )


def _check_queries(predictions) -> None:
    """An empty query list refused by name (evaluate fails on it with a bare IndexError while
    inferring the features)."""
    if predictions is not None and len(predictions) == 0:
        raise ValueError("no queries: predictions is empty (one entry per query is needed)")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RetrievalMRR(evaluate.Metric):
    """Retrieval ranks metric; see `_KWARGS_DESCRIPTION`."""

    # evaluate's own (untyped) state, which `_drop_empty_writer` and `_discard_computed` reset
    writer: Any
    filelocks: Any
    file_paths: Any

    def _info(self) -> evaluate.MetricInfo:
        if self.config_name in ("default", "scores"):
            features = _scores_features()
        elif self.config_name == "ranks":
            # float, so that a rank that is no whole number is refused, not truncated
            features = datasets.Features({"predictions": datasets.Value("float64")})
        else:
            raise KeyError(f"config_name must be 'scores' or 'ranks', got {self.config_name!r}")
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=features,
            reference_urls=["https://en.wikipedia.org/wiki/Mean_reciprocal_rank"],
        )

    def _check_inputs(self, predictions, references) -> None:
        """Misuse refused by name, before `evaluate` stores anything (evaluate itself drops
        the references of `"ranks"` unread, and fails on missing ones with a bare TypeError)."""
        if self.config_name == "ranks":
            if references is not None:
                raise ValueError(
                    "the 'ranks' configuration takes no references: pass the ranks as predictions"
                )
            q = None if predictions is None else _first_bool(predictions)
            if q is not None:
                raise ValueError(
                    f"ranks must be whole numbers >= 1, not booleans; query {q} has one"
                )
            if predictions is not None:
                _refuse_text(predictions, "ranks must be whole numbers >= 1")
                none = _first_of(predictions, lambda value: value is None)
                if none is not None:  # stored as NaN, it was reported as "got nan"
                    raise ValueError(
                        f"ranks must be whole numbers >= 1; got None for query {none[0]}"
                    )
            return
        if (predictions is None) != (references is None):
            missing = "references" if references is None else "predictions"
            raise ValueError(
                f"the 'scores' configuration needs both predictions and references; {missing} "
                "is missing"
            )
        if predictions is not None:
            _check_score_rows(predictions)
            _check_references(references)
            _refuse_text(predictions, "scores must be numbers")
            _refuse_text(references, "references must be gallery indices", item=False)

    def _drop_empty_writer(self) -> None:
        """Forget the feature format `evaluate` chose for a batch it then refused, when nothing
        is stored yet, so that the next batch chooses again (evaluate keeps it: every later
        batch of the other form was refused too)."""
        if self.writer is not None and len(self.writer) == 0:
            self.writer.close()
            self.writer = None
            self.buf_writer = None
            self.selected_feature_format = None

    def _discard_computed(self) -> None:
        """After `_compute` failed: release and delete what `evaluate` read, as its own
        success path does, so that the next `compute` starts afresh."""
        self.data = None
        for filelock, path in reversed(list(zip(self.filelocks or [], self.file_paths or []))):
            if os.path.exists(path):
                os.remove(path)
            filelock.release()
        self.filelocks = self.file_paths = None
        self.buf_writer = None

    def add_batch(self, *, predictions=None, references=None, **kwargs) -> None:
        """`evaluate`'s add_batch, with an empty batch refused by name as in `compute`; a
        refused batch leaves the metric as it was before it."""
        _check_queries(predictions)
        self._check_inputs(predictions, references)
        kwargs = kwargs if references is None else {**kwargs, "references": references}
        try:
            super().add_batch(predictions=predictions, **kwargs)
        except BaseException:
            self._drop_empty_writer()
            raise

    def compute(self, *, predictions=None, references=None, **kwargs) -> Optional[dict]:
        """`evaluate`'s compute, with an empty query list and misused arguments refused by
        name (evaluate itself fails on no queries with a bare IndexError while inferring the
        features). A call that fails leaves the metric usable: refused inputs are not stored,
        and a failure in the computation discards the stored batches."""
        _check_queries(predictions)
        self._check_inputs(predictions, references)
        try:
            return super().compute(predictions=predictions, references=references, **kwargs)
        except BaseException:
            self._drop_empty_writer()
            if self.data is not None:
                self._discard_computed()
            raise

    def _compute(self, predictions, references=None, k_values=(1, 5, 10), mrr_k=20):
        if self.config_name == "ranks":
            ranks = np.asarray(predictions, dtype=np.float64)
            # inf passed `round(inf) == inf` and was cast to a garbage integer (a RuntimeWarning,
            # then "ranks are 1-based"); NaN fails the comparison with its own rounding
            bad = ranks[~np.isfinite(ranks) | (ranks < 1) | (ranks != np.round(ranks))]
            if bad.size:
                raise ValueError(f"ranks must be finite whole numbers >= 1; got {bad[0]:g}")
            return retrieval_metrics(ranks.astype(np.int64), k_values=k_values, mrr_k=mrr_k)
        lengths = {len(row) for row in predictions}
        if len(lengths) != 1:
            raise ValueError(f"every score row must have the gallery size; got lengths {lengths}")
        scores = np.asarray(predictions, dtype=np.float64)  # (n_queries, n_gallery)
        for q in np.flatnonzero(np.isnan(scores).any(axis=1)):  # None became NaN: say so
            if any(v is None for v in predictions[q]):
                j = [v is None for v in predictions[q]].index(True)
                raise ValueError(f"scores must be numbers; got None for query {q}, item {j}")
        ranks = rank_of_targets(scores, _whole_references(list(references)))
        out = retrieval_metrics(ranks, k_values=k_values, mrr_k=mrr_k)
        out["gallery_size"] = int(scores.shape[1])
        return out
