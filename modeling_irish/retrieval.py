"""Retrieval metrics (ranks, MRR@k, R@k) as pure, vectorised functions with flat result dicts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor, Sequence[float]]
Targets = Union[np.ndarray, torch.Tensor, Sequence[int], Sequence[Iterable[int]]]

__all__ = [
    "METRIC_PATH",
    "cosine_ranks",
    "random_baseline",
    "rank_of_targets",
    "retrieval_metrics",
    "retrieval_metrics_from_embeddings",
    "target_mask",
]

#: Path of the `evaluate` module shipped in the package (installed or not), for
#: ``evaluate.load(METRIC_PATH)``: a relative ``"modeling_irish/metrics/..."`` path only works
#: from the repository's root.
METRIC_PATH = str(Path(__file__).resolve().parent / "metrics" / "retrieval_mrr.py")


def _as_tensor(x: Any, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        t = torch.as_tensor(np.asarray(x))
    return t if dtype is None else t.to(dtype)


def target_mask(targets: Targets, n_queries: int, n_gallery: int) -> torch.Tensor:
    """Boolean `(n_queries, n_gallery)` mask of correct gallery items.

    `targets` is one index per query, a list of index collections (several correct items), or
    already a boolean mask.

    >>> target_mask([1, [0, 2]], 2, 3).tolist()
    [[False, True, False], [True, False, True]]
    """
    if isinstance(targets, (np.ndarray, torch.Tensor)):
        t = _as_tensor(targets)
        if t.dtype == torch.bool:
            if tuple(t.shape) != (n_queries, n_gallery):
                raise ValueError(f"mask shape {tuple(t.shape)} != {(n_queries, n_gallery)}")
            return t
        targets = t.tolist()
    if len(targets) != n_queries:
        raise ValueError(f"{len(targets)} targets for {n_queries} queries")
    mask = torch.zeros(n_queries, n_gallery, dtype=torch.bool)
    for q, tgt in enumerate(targets):
        idx = [int(tgt)] if isinstance(tgt, (int, np.integer)) else [int(i) for i in tgt]
        if not idx:
            raise ValueError(f"query {q} has no correct gallery item")
        if min(idx) < 0 or max(idx) >= n_gallery:
            raise ValueError(f"query {q}: target {idx} outside the gallery of {n_gallery}")
        mask[q, idx] = True
    return mask


def rank_of_targets(scores: ArrayLike, targets: Targets) -> np.ndarray:
    """1-based rank of the best-scored correct gallery item of each query (higher score = better).

    Ties are broken against the model: a correct item tied with k wrong items is ranked after all
    of them, so a constant scorer gets the worst rank, never the best. Other correct items never
    push a correct item down (rank = 1 + number of wrong items scoring >= the best correct one).
    A NaN score counts against the model too: a NaN wrong item ranks ahead, a NaN correct one
    behind everything. Infinite scores are ordinary scores (-inf for an item masked out).
    Scores are compared in float64 (float32 would tie 1.0 and 1.0 + 1e-9).

    Args:
        scores: `(n_queries, n_gallery)` similarities, higher is better.
        targets: `(n_queries,)` correct index per query, a list of index collections, or a
            `(n_queries, n_gallery)` boolean mask.

    >>> rank_of_targets([[0.1, 0.9, 0.5], [0.3, 0.3, 0.3]], [2, 0]).tolist()
    [2, 3]
    >>> rank_of_targets([[0.1, 0.9, 0.5]], [[0, 2]]).tolist()
    [2]
    """
    s = _as_tensor(scores, torch.float64)
    if s.ndim != 2 or 0 in s.shape:
        raise ValueError(
            f"scores must be 2-d (n_queries, n_gallery) and not empty, got shape {tuple(s.shape)}"
        )
    n_q, n_g = s.shape
    nan = torch.isnan(s)
    simple = isinstance(targets, (np.ndarray, torch.Tensor)) and _as_tensor(targets).ndim == 1
    if simple or (isinstance(targets, Sequence) and all(_is_int(t) for t in targets)):
        idx = _as_tensor(targets, torch.long).reshape(-1)
        if idx.numel() != n_q:
            raise ValueError(f"{idx.numel()} targets for {n_q} queries")
        if bool(((idx < 0) | (idx >= n_g)).any()):
            raise ValueError(f"targets outside the gallery of {n_g}: {idx.tolist()[:10]}")
        best = s.gather(1, idx[:, None])  # (n_q, 1)
        # not nan_to_num: it also clamps +-inf to the largest finite floats, so a correct item
        # scored -inf was no longer >= itself, nor a wrong -inf tied with it (rank 1 of 3)
        best = best.masked_fill(torch.isnan(best), float("-inf"))
        # the correct item itself is counted by >= (or as a NaN), which makes the rank 1-based
        return ((s >= best) | nan).sum(dim=1).numpy().astype(np.int64)
    mask = target_mask(targets, n_q, n_g)
    if not mask.any(dim=1).all():
        raise ValueError("every query needs at least one correct gallery item")
    best = s.masked_fill(~mask | nan, float("-inf")).amax(dim=1, keepdim=True)  # (n_q, 1)
    return (1 + (((s >= best) | nan) & ~mask).sum(dim=1)).numpy().astype(np.int64)


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _cutoffs(k_values: Iterable[int], mrr_k: Optional[int]) -> list[int]:
    """`k_values` as a list, once each cut-off is checked: a whole number >= 1 (`mrr_k` may also
    be None, for the plain MRR). Otherwise a `ValueError` naming the value: R@0 would be 0 and
    MRR@0 nothing, and ``r_at_2.5`` no metric at all.

    >>> _cutoffs((1, 5), 20)
    [1, 5]
    >>> _cutoffs([1, 0], 20)
    Traceback (most recent call last):
    ...
    ValueError: k_values must be whole numbers >= 1, got 0
    """
    if isinstance(k_values, (str, bytes)) or not isinstance(k_values, Iterable):
        raise ValueError(f"k_values must be a list of whole numbers >= 1, got {k_values!r}")
    k_values = list(k_values)
    for k in k_values:
        if not (_is_int(k) and k >= 1):
            raise ValueError(f"k_values must be whole numbers >= 1, got {k!r}")
    if mrr_k is not None and not (_is_int(mrr_k) and mrr_k >= 1):
        raise ValueError(f"mrr_k must be a whole number >= 1 or None, got {mrr_k!r}")
    return k_values


def _mrr_name(mrr_k: Optional[int]) -> str:
    return "mrr" if mrr_k is None else f"mrr_at_{mrr_k}"


def retrieval_metrics(
    ranks: ArrayLike,
    k_values: Sequence[int] = (1, 5, 10),
    mrr_k: Optional[int] = 20,
    prefix: str = "",
) -> dict[str, float]:
    """Flat metrics dict from 1-based ranks.

    Keys (each with `prefix`): `mrr_at_{mrr_k}` (reciprocal rank, 0 beyond rank `mrr_k`; `mrr`
    when `mrr_k` is None), `r_at_{k}` (fraction of queries with rank <= k), `mean_rank`,
    `median_rank` and `queries`. Each k and `mrr_k` is a whole number >= 1 (else `ValueError`).

    >>> m = retrieval_metrics([1, 2, 40], k_values=(1,), mrr_k=20)
    >>> round(m["mrr_at_20"], 4), round(m["r_at_1"], 4), m["median_rank"], m["queries"]
    (0.5, 0.3333, 2.0, 3)
    """
    k_values = _cutoffs(k_values, mrr_k)
    r = np.asarray(_as_tensor(ranks).numpy(), dtype=np.float64).reshape(-1)
    if r.size == 0:
        raise ValueError("no ranks given")
    if (r < 1).any():
        raise ValueError("ranks are 1-based")
    reciprocal = 1.0 / r
    if mrr_k is not None:
        reciprocal = np.where(r <= mrr_k, reciprocal, 0.0)
    out = {f"{prefix}{_mrr_name(mrr_k)}": float(reciprocal.mean())}
    for k in k_values:
        out[f"{prefix}r_at_{k}"] = float((r <= k).mean())
    out[f"{prefix}mean_rank"] = float(r.mean())
    out[f"{prefix}median_rank"] = float(np.median(r))
    out[f"{prefix}queries"] = int(r.size)
    return out


def _best_rank_distribution(gallery_size: int, n_correct: int) -> np.ndarray:
    """P(best rank = r), r = 1..G, when `n_correct` correct items sit at random positions."""
    g, c = gallery_size, n_correct
    r = np.arange(1, g + 1, dtype=np.float64)
    # P(r) = C(G - r, c - 1) / C(G, c); P(1) = c / G and P(r + 1) / P(r) = (G - r - c + 1) / (G - r)
    ratio = np.clip((g - r[:-1] - c + 1) / np.maximum(g - r[:-1], 1), 0.0, None)
    return np.concatenate([[c / g], c / g * np.cumprod(ratio)])


def random_baseline(
    gallery_size: int,
    mrr_k: Optional[int] = 20,
    k_values: Sequence[int] = (1, 5, 10),
    n_correct: int = 1,
    prefix: str = "",
) -> dict[str, float]:
    """Exact expected metrics of a uniformly random ranking (same keys as `retrieval_metrics`).

    With one correct item the rank is uniform on 1..G, so MRR@k = (1 + 1/2 + ... + 1/k) / G and
    R@k = k / G. With `n_correct` items the best rank has P(r) = C(G - r, c - 1) / C(G, c).
    `median_rank` is the median of that distribution ((G + 1) / 2 for one correct item).

    >>> round(random_baseline(4, mrr_k=2, k_values=(1,))["mrr_at_2"], 4)  # (1 + 1/2) / 4
    0.375
    """
    if not 1 <= n_correct <= gallery_size:
        raise ValueError(f"need 1 <= n_correct <= gallery_size, got {n_correct}, {gallery_size}")
    k_values = _cutoffs(k_values, mrr_k)
    p = _best_rank_distribution(gallery_size, n_correct)
    r = np.arange(1, gallery_size + 1, dtype=np.float64)
    kk = gallery_size if mrr_k is None else min(mrr_k, gallery_size)
    out = {f"{prefix}{_mrr_name(mrr_k)}": float((p[:kk] / r[:kk]).sum())}
    cdf = np.cumsum(p)
    for k in k_values:
        out[f"{prefix}r_at_{k}"] = float(cdf[min(k, gallery_size) - 1])
    out[f"{prefix}mean_rank"] = float((p * r).sum())
    if n_correct == 1:
        median = (gallery_size + 1) / 2
    else:
        median = float(np.searchsorted(cdf, 0.5 - 1e-12) + 1)
    out[f"{prefix}median_rank"] = float(median)
    out[f"{prefix}gallery_size"] = int(gallery_size)
    return out


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def _chunk_targets(targets: Any, start: int, stop: int) -> Any:
    if isinstance(targets, (np.ndarray, torch.Tensor)):
        return targets[start:stop]
    return list(targets[start:stop])


def cosine_ranks(
    query_embeds: ArrayLike,
    gallery_embeds: ArrayLike,
    targets: Optional[Targets] = None,
    *,
    query_labels: Optional[Sequence[Any]] = None,
    gallery_labels: Optional[Sequence[Any]] = None,
    chunk_size: int = 1024,
) -> np.ndarray:
    """Ranks by cosine similarity, computed `chunk_size` queries at a time.

    The correct items are `targets` (see `rank_of_targets`), or every gallery item whose label
    equals the query's label, or by default the diagonal (query i matches gallery item i).

    >>> cosine_ranks([[1.0, 0.0], [0.0, 1.0]], [[0.0, 2.0], [3.0, 0.1]], [1, 0]).tolist()
    [1, 1]
    """
    q = _normalise(_as_tensor(query_embeds, torch.float32))
    g = _normalise(_as_tensor(gallery_embeds, torch.float32))
    if (query_labels is None) != (gallery_labels is None):
        raise ValueError("give both query_labels and gallery_labels, or neither")
    if targets is None and query_labels is None:
        if q.shape[0] != g.shape[0]:
            raise ValueError("without targets, queries and gallery must pair up one to one")
        targets = torch.arange(q.shape[0])
    codes = None  # (query, gallery) label codes: equal labels, equal codes
    if query_labels is not None and gallery_labels is not None:
        both = torch.as_tensor(
            np.unique(list(query_labels) + list(gallery_labels), return_inverse=True)[1]
        )
        codes = both[: len(query_labels)], both[len(query_labels) :]
    ranks = []
    for start in range(0, q.shape[0], chunk_size):
        stop = min(start + chunk_size, q.shape[0])
        sims = q[start:stop] @ g.T  # (chunk, n_gallery)
        if codes is not None:
            ql, gl = codes
            tgt = ql[start:stop, None] == gl[None, :]
        else:
            tgt = _chunk_targets(targets, start, stop)
        ranks.append(rank_of_targets(sims, tgt))
    return np.concatenate(ranks)


def retrieval_metrics_from_embeddings(
    query_embeds: ArrayLike,
    gallery_embeds: ArrayLike,
    targets: Optional[Targets] = None,
    *,
    query_labels: Optional[Sequence[Any]] = None,
    gallery_labels: Optional[Sequence[Any]] = None,
    k_values: Sequence[int] = (1, 5, 10),
    mrr_k: Optional[int] = 20,
    prefix: str = "",
    chunk_size: int = 1024,
) -> dict[str, float]:
    """Rank the gallery by cosine similarity for each query and return `retrieval_metrics`.

    Adds `gallery_size` to the dict so that the random baseline can be read off next to it.

    >>> m = retrieval_metrics_from_embeddings([[1.0, 0.0]], [[0.0, 1.0], [1.0, 0.1]], [1])
    >>> m["r_at_1"], m["gallery_size"]
    (1.0, 2)
    """
    k_values = _cutoffs(k_values, mrr_k)  # before the ranking, the costly part
    ranks = cosine_ranks(
        query_embeds,
        gallery_embeds,
        targets,
        query_labels=query_labels,
        gallery_labels=gallery_labels,
        chunk_size=chunk_size,
    )
    out = retrieval_metrics(ranks, k_values=k_values, mrr_k=mrr_k, prefix=prefix)
    out[f"{prefix}gallery_size"] = int(np.asarray(_as_tensor(gallery_embeds).shape[0]))
    return out
