"""The title-group batch sampler of the tune-title dual encoder (`TitleGroupBatchSampler`): up to
`settings_per_group` settings of a tune as extra positives in one batch, and every batch the
loss scores given a negative. Its pairs, crops and collator: `modeling_irish.tune_title_data`,
which re-exports the sampler."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .batching import whole_rounds, whole_rounds_length

__all__ = ["TitleGroupBatchSampler"]


class TitleGroupBatchSampler:
    """Batches in which settings of one tune are extra positives and no title is ever a
    negative of itself.

    Each epoch takes up to `settings_per_group` random members of every title group (groups
    chain tune ids and titles, `group_ids`), keeps the members of a group next to each other,
    shuffles the groups and cuts batches of `batch_size`. Members of one group that share a batch
    are positives of each other in the loss (`TuneTitleCollator`'s `positives_mask`), so the tune
    tower learns that two settings of a tune go together; a group cut by a batch boundary just
    has fewer positives there. With `settings_per_group=1` no group appears twice in a batch.

    Every batch the loss sees holds two groups or more, or it would have no negative (a loss of
    0, an update of momentum and weight decay alone): with `num_processes` > 1 that is a round
    of one batch per process, which InfoNCE and hinge gather, and with `per_process_loss`
    (cosine) each process's own batch. Such a batch holds two items or more (a last one of one
    item joins the batches before it), and one of a single group exchanges an item with a
    batch near it (`_give_every_batch_a_negative`): the last one, short or cut from a group,
    and, when the loss's batch holds no more than `settings_per_group` pairs (a batch of 2 with
    the default 2), any one that a group's settings fill, whose settings are then split.
    With `num_processes` > 1 the epoch is cut into whole rounds of one batch per process
    (`modeling_irish.batching.whole_rounds`), so that accelerate fills no short last round with
    pairs from the start of the epoch.

    An epoch therefore holds at most `settings_per_group` pairs per group, not every pair: on the
    shared corpus's default training split 7,195 groups hold 14,822 pairs (the largest 83
    settings under 15 titles), so 2 a group give 9,765 pairs an epoch.

    >>> sampler = TitleGroupBatchSampler([0, 0, 1, 2, 2, 3], batch_size=2, seed=0)
    >>> batches = list(sampler)
    >>> len(batches), sorted(len(b) for b in batches)
    (3, [2, 2, 2])
    >>> one = TitleGroupBatchSampler([0, 0, 1, 2, 2, 3], batch_size=2, settings_per_group=1)
    >>> len(list(one))
    2
    """

    def __init__(
        self,
        groups: Sequence[int],
        batch_size: int,
        seed: int = 0,
        drop_last: bool = False,
        settings_per_group: int = 2,
        num_processes: int = 1,
        per_process_loss: bool = False,
    ) -> None:
        if batch_size < 1 or settings_per_group < 1 or num_processes < 1:
            raise ValueError(
                f"batch_size, settings_per_group and num_processes must be >= 1, got "
                f"{batch_size}, {settings_per_group} and {num_processes}"
            )
        self.groups = np.asarray(groups, dtype=np.int64)
        self.size = batch_size
        self.num_processes = num_processes
        # what accelerate's sharding reads: None = batches of any size, nothing to pad
        self.batch_size = batch_size if num_processes == 1 else None
        self.seed = seed
        self.drop_last = drop_last
        self.settings_per_group = settings_per_group
        # batches the loss scores apart: each process's own (cosine) or every batch of one process
        self.per_batch = per_process_loss or num_processes == 1
        self.epoch = 0
        order = np.argsort(self.groups, kind="stable")
        _, starts, counts = np.unique(self.groups[order], return_index=True, return_counts=True)
        self._members = [order[s : s + c] for s, c in zip(starts, counts)]
        self.pairs_per_epoch = int(np.minimum(counts, settings_per_group).sum())

    def set_epoch(self, epoch: int) -> None:
        """Draw the batches of `epoch` from now on (seed ``(seed, epoch)``), as
        ``DistributedSampler.set_epoch`` does: call it before each epoch's iteration."""
        self.epoch = epoch

    def __len__(self) -> int:
        n, size, processes = self.pairs_per_epoch, self.size, self.num_processes
        if self.drop_last:
            full = n // size
            return full - full % processes
        return whole_rounds_length(n, size, processes, self._min_size)

    @property
    def _min_size(self) -> int:
        """Items each batch needs from `whole_rounds`: two where the loss scores batches apart
        (a pair's negatives are the other pairs of its batch), else one (a round of processes
        holds two); one on a single process with batches of 3 or more, where a last batch of
        one item takes one from the batch before instead (`_give_lone_last_a_partner`)."""
        if not self.per_batch or (self.num_processes == 1 and self.size >= 3):
            return 1
        return 2

    def _picks(self) -> np.ndarray:
        """This epoch's pairs: a random subset of each group, groups in random order."""
        rng = np.random.default_rng((self.seed, self.epoch))
        k = self.settings_per_group
        chosen = [m if len(m) == 1 else rng.permutation(m)[:k] for m in self._members]
        return np.concatenate([chosen[g] for g in rng.permutation(len(chosen))])

    def __iter__(self) -> Iterator[list[int]]:
        picks, size = self._picks(), self.size
        batches = [picks[i : i + size] for i in range(0, len(picks), size)]
        if self.drop_last:
            batches = batches[: len(self)]
        else:
            batches = whole_rounds(batches, self.num_processes, self._min_size)
        if self.per_batch:
            batches = _give_lone_last_a_partner(batches, self.groups)
            batches = _give_every_batch_a_negative(batches, self.groups)
        else:  # the loss gathers a round: the round needs a negative
            batches = _give_every_round_a_negative(batches, self.groups, self.num_processes)
        for batch in batches:
            yield batch.tolist()


def _give_every_batch_a_negative(batches: list[np.ndarray], groups: np.ndarray) -> list[np.ndarray]:
    """The batches, each that held one group holding two or more: a batch of one group has no
    negative, so its contrastive loss is 0 and the step only carries the optimizer's momentum.
    Such a batch's first item is exchanged with an item of another group in the nearest batch
    that can spare one (the batch before first, then after, then further) and keeps two groups
    or more, rather an item whose group has no other setting there, from its end. Every batch
    keeps its size, no item is repeated or left out; a batch of one item, or one for which no
    batch can spare an item (nearly every pair of one group), is left as it is.

    >>> groups = np.array([0, 0, 1, 1, 2, 2])
    >>> cut = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5])]
    >>> [b.tolist() for b in _give_every_batch_a_negative(cut, groups)]
    [[3, 1], [2, 4], [0, 5]]
    >>> cut = [np.array([4, 2, 3]), np.array([0, 1])]  # a last batch of one group
    >>> [b.tolist() for b in _give_every_batch_a_negative(cut, groups)]
    [[0, 2, 3], [4, 1]]
    """
    batches = [b.copy() for b in batches]
    for i, batch in enumerate(batches):
        if len(batch) < 2 or (groups[batch] != groups[batch[0]]).any():
            continue
        for j in _nearest_first(i, len(batches)):
            other = batches[j]
            k = _item_to_spare(groups[other], groups[batch[0]])
            if k is not None:
                batch[0], other[k] = other[k], batch[0]
                break
    return batches


def _give_lone_last_a_partner(batches: list[np.ndarray], groups: np.ndarray) -> list[np.ndarray]:
    """The batches, a last batch of one item taking an item of another group from the batch
    before it, where that one holds three or more: rather one that leaves it two groups, and
    whose group has no other setting there, from its end (a batch left of one group gets a
    negative from `_give_every_batch_a_negative`). Else they are left as they are.

    >>> groups = np.array([0, 0, 1, 1, 2])
    >>> cut = [np.array([0, 1, 2]), np.array([4])]
    >>> [b.tolist() for b in _give_lone_last_a_partner(cut, groups)]
    [[0, 2], [4, 1]]
    """
    if len(batches) < 2 or len(batches[-1]) != 1 or len(batches[-2]) < 3:
        return batches
    last, before = batches[-1], batches[-2]
    others = np.flatnonzero(groups[before] != groups[last[0]])[::-1].tolist()
    if not others:
        others = [len(before) - 1]
    ranked = sorted(
        others,
        key=lambda k: (
            len(np.unique(groups[np.delete(before, k)])) < 2,
            (groups[before] == groups[before[k]]).sum() > 1,
        ),
    )  # stable: from the end
    k = ranked[0]
    return [*batches[:-2], np.delete(before, k), np.append(last, before[k])]


def _nearest_first(i: int, n: int) -> Iterator[int]:
    """Indices of ``range(n)`` but `i`, nearest first, the one before before the one after.

    >>> list(_nearest_first(1, 5))
    [0, 2, 3, 4]
    """
    for step in range(1, n):
        yield from (j for j in (i - step, i + step) if 0 <= j < n)


def _item_to_spare(other: np.ndarray, group: int) -> int | None:
    """Where in a batch of groups `other` an item of another group than `group` can be taken
    for one of `group`, the batch keeping two groups (its last item whose group has no other
    setting there, else its last such item); None where none can.

    >>> _item_to_spare(np.array([3, 5, 5]), 4), _item_to_spare(np.array([3, 4, 4]), 4)
    (0, None)
    """
    foreign = np.flatnonzero(other != group)
    if len(foreign) < 2:  # the one left with `group` would be the batch's only other group
        return None
    alone = [k for k in foreign[::-1].tolist() if (other == other[k]).sum() == 1]
    return alone[0] if alone else int(foreign[-1])


def _give_every_round_a_negative(
    batches: list[np.ndarray], groups: np.ndarray, processes: int
) -> list[np.ndarray]:
    """The batches, cut into rounds of one batch per process (what InfoNCE and hinge gather),
    each round holding two groups where it held one (`_give_every_batch_a_negative` on the
    rounds), each batch keeping its size. A round could be one group's settings: a last one
    that `whole_rounds` cut from a few leftover pairs, one a process, or any one when a
    round holds no more than `settings_per_group` pairs. Batches that are no whole number of
    rounds are left as they are.

    >>> groups = np.array([0, 1, 2, 3, 4, 4])
    >>> cut = [np.array([0, 1]), np.array([2, 3]), np.array([4]), np.array([5])]
    >>> [b.tolist() for b in _give_every_round_a_negative(cut, groups, 2)]
    [[0, 1], [2, 4], [3], [5]]
    """
    if len(batches) % processes:
        return batches
    sizes = [len(b) for b in batches]
    rounds = [np.concatenate(batches[i : i + processes]) for i in range(0, len(batches), processes)]
    given = _give_every_batch_a_negative(rounds, groups)
    cuts = [np.cumsum(sizes[i : i + processes])[:-1] for i in range(0, len(sizes), processes)]
    return [b for r, cut in zip(given, cuts) for b in np.split(r, cut)]
