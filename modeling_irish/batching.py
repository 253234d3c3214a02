"""Batches cut into whole rounds for data-parallel training.

accelerate gives batch ``i`` of a batch sampler to process ``i % n``. When the epoch's batch
count is not a multiple of ``n``, it fills the short last round with batches from the start of
the epoch, so some items are trained on twice. `whole_rounds` re-cuts the last round instead,
and `whole_rounds_length` says how many batches that gives without cutting them. Both samplers
of the package use them (`training.data.LengthGroupedBatchSampler`,
`modeling_irish.tune_title_batches.TitleGroupBatchSampler`).

>>> import numpy as np
>>> batches = [np.array([0, 1, 2]), np.array([3, 4, 5]), np.array([6, 7, 8])]
>>> [b.tolist() for b in whole_rounds(batches, 2)]
[[0, 1, 2], [3, 4, 5], [6, 7], [8]]
>>> whole_rounds_length(9, 3, 2)
4
"""

from __future__ import annotations

import numpy as np

__all__ = ["whole_rounds", "whole_rounds_length"]


def whole_rounds(batches: list[np.ndarray], processes: int, min_size: int = 1) -> list[np.ndarray]:
    """``batches`` made a whole number of rounds of ``processes`` batches, no item repeated or
    left out: the last, short round's items are cut into one batch per process, or, fewer
    than ``min_size`` a process, added one each to the batches before them (from the last
    back). A whole last round whose last batch holds fewer than ``min_size`` items is re-cut
    the same way (a loss that needs two items of each batch: ``min_size=2``). (Fewer items than
    processes in all are left as they are: accelerate must repeat some.)

    >>> [b.tolist() for b in whole_rounds([np.array([0, 1]), np.array([2, 3]), np.array([4])], 2)]
    [[0, 1], [2, 3, 4]]
    >>> [b.tolist() for b in whole_rounds([np.array([0, 1, 2]), np.array([3])], 1, min_size=2)]
    [[0, 1, 2, 3]]
    """
    short = len(batches) % processes
    if not short and (not batches or len(batches[-1]) >= min_size):
        return batches
    short = short or processes
    kept, left = batches[:-short], np.concatenate(batches[-short:])
    if len(left) >= processes * min_size:
        return kept + np.array_split(left, processes)
    if not kept:  # fewer items than processes: accelerate repeats some, as it must
        return batches
    for i, index in enumerate(left):
        at = len(kept) - 1 - i % len(kept)
        kept[at] = np.append(kept[at], index)
    return kept


def whole_rounds_length(items: int, batch_size: int, processes: int, min_size: int = 1) -> int:
    """How many batches `whole_rounds` makes of ``items`` cut into batches of ``batch_size``
    (the last one possibly short).

    >>> whole_rounds_length(5, 2, 2), whole_rounds_length(5, 2, 1), whole_rounds_length(5, 2, 1, 2)
    (2, 3, 2)
    """
    batches = -(-items // batch_size)
    short = batches % processes  # batches of a last round that is not whole
    last = items - (batches - 1) * batch_size  # items of the last batch
    if not short and (not batches or last >= min_size):
        return batches
    short = short or processes
    left = items - (batches - short) * batch_size
    if left >= processes * min_size:
        return batches - short + processes
    return batches - short if batches > short else batches
