"""Splits that keep linked records together: union-find over shared keys, then the groups
shuffled and cut at the split ratios, or each placed by a seeded hash of its own keys
(`split_groups`). `modeling_irish.abc_corpus.load_abc_corpus` links tunes by tune id, title and
body and splits them with it.

>>> split_groups([["a"], ["a", "b"], ["b"], ["c"]], (0.5, 0.5, 0.0), seed=1)
[1, 1, 1, 0]
"""

from __future__ import annotations

import bisect
import decimal
import hashlib
import itertools
import math
import numbers
import random
from collections.abc import Hashable, Iterable, Mapping, Sequence

__all__ = [
    "SPLIT_METHODS",
    "SPLIT_NAMES",
    "split_groups",
    "check_ratios",
    "check_seed",
    "shared_key_components",
    "short_splits",
]

SPLIT_NAMES = ("train", "validation", "test")
#: How `split_groups` places the linked groups: shuffled and cut, or each by a hash of its keys.
SPLIT_METHODS = ("shuffle", "hash")


def shared_key_components(keys: Sequence[Iterable[Hashable]]) -> list[int]:
    """Union-find: records sharing any key get the same root (a record index)."""
    parent = list(range(len(keys)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]  # path halving
            a = parent[a]
        return a

    owner: dict[Hashable, int] = {}
    for i, record_keys in enumerate(keys):
        for key in record_keys:
            j = owner.setdefault(key, i)
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(len(keys))]


def _ratio_items(split_ratios: object) -> tuple[object, ...]:
    """The items of ``split_ratios``, read once (a generator's values, which an error then
    shows, not the spent generator); a ``ValueError`` naming what was given for one number
    (``0.9``, as ``train_test_split``'s ``test_size``), a dict of splits or a string (``"811"``
    read as ``8, 1, 1``)."""
    if isinstance(split_ratios, (str, bytes, Mapping)) or not isinstance(split_ratios, Iterable):
        raise ValueError(
            f"split_ratios must be 3 numbers (train, validation, test), as a tuple or list, "
            f"got {type(split_ratios).__name__} {split_ratios!r}: e.g. (0.9, 0.05, 0.05)"
        )
    return tuple(split_ratios)


def _ratio_numbers(items: tuple[object, ...]) -> list[float]:
    """``items`` as floats; a ``ValueError`` for an item that is a bool, Python's or numpy's
    (``(True, False, False)`` read as ``(1, 0, 0)``, as `check_seed` refuses one), a string
    (``("0.9", "0.05", "0.05")``, which ``float`` would read) or anything else not a real
    number (``None``). numpy floats and ints, fractions and decimals are taken."""
    if any(_is_bool(r) for r in items):
        raise ValueError(f"split_ratios must be 3 numbers, not bools, got {items!r}")
    if any(isinstance(r, (str, bytes)) for r in items):
        raise ValueError(f"split_ratios must be 3 numbers, not strings, got {items!r}")
    if not all(isinstance(r, (numbers.Real, decimal.Decimal)) for r in items):
        raise ValueError(f"split_ratios must be 3 finite, non-negative numbers, got {items!r}")
    return [float(r) for r in items]  # type: ignore[arg-type]  # all real numbers above


def _is_bool(value: object) -> bool:
    """Whether ``value`` is a bool or numpy's (``np.True_``: no ``bool`` subclass, nor a
    ``numbers.Real``, yet ``float`` reads it as 1.0), told by its type's name so as not to
    import numpy (``bool_``, ``bool`` in numpy 2)."""
    kind = type(value)
    return isinstance(value, bool) or (
        kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")
    )


def check_ratios(split_ratios: Iterable[float]) -> list[float]:
    """The train / validation / test ratios made shares of 1 (divided by their sum); a
    ``ValueError`` unless they are 3 finite, non-negative numbers, not all 0 (a NaN compares
    false with everything, so the range checks alone let it through), each error showing the
    values given (a generator's too, read once).

    >>> check_ratios((2, 1, 1))
    [0.5, 0.25, 0.25]
    """
    items = _ratio_items(split_ratios)
    ratios = _ratio_numbers(items)
    if len(ratios) != len(SPLIT_NAMES) or not all(map(math.isfinite, ratios)):
        raise ValueError(f"split_ratios must be 3 finite, non-negative numbers, got {items!r}")
    if min(ratios) < 0 or sum(ratios) <= 0:
        raise ValueError(f"split_ratios must be 3 non-negative numbers, not all 0, got {items!r}")
    return [r / sum(ratios) for r in ratios]


def check_seed(seed: object) -> int:
    """``seed`` as an int; a ``ValueError`` unless it is a whole number from 0: any integer,
    a numpy one too (``np.int64(1)``, which `datasets`' ``shuffle`` takes), but not a bool
    (``Random(-1)`` is ``Random(1)``, so a negative seed would silently repeat another's split;
    ``Random`` refuses a numpy integer, and the cache key would not be JSON).

    >>> import numpy as np
    >>> check_seed(np.int64(7))
    7
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: split seed must be a whole number >= 0, got -1
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"split seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


def _unit_hash(text: str) -> float:
    """A number in [0, 1) fixed by ``text`` alone (the first 52 bits of its SHA-1)."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:13], 16) / 16**13


def _hash_positions(
    anchors: list[list[Hashable]], members: dict[int, list[int]], seed: int
) -> dict[int, float]:
    """Each component's place in [0, 1) under the ``"hash"`` split: its anchor is the one of its
    records' anchor keys with the smallest seeded hash, and the place a second hash of the
    anchor, so that it is uniform whatever the component's size (the smallest of k hashes would
    crowd big ones near 0)."""

    def place(root: int) -> float:
        names = [str(k) for i in members[root] for k in anchors[i]] or [f"\uffff#{root:012d}"]
        anchor = min(names, key=lambda name: _unit_hash(f"{seed}:anchor:{name}"))
        return _unit_hash(f"{seed}:place:{anchor}")

    return {root: place(root) for root in members}


def split_groups(
    keys: Sequence[Iterable[Hashable]],
    split_ratios: Sequence[float] = (0.9, 0.05, 0.05),
    seed: int = 0,
    method: str = "shuffle",
    anchors: Sequence[Iterable[Hashable]] | None = None,
) -> list[int]:
    """Assign records to splits so that records sharing any key land in the same split.

    ``keys[i]`` are record ``i``'s linking keys (tune id, normalised title, body hash ...).
    Records are joined into connected components (union-find); the components are sorted by
    their smallest key (as a string), shuffled with ``random.Random(seed)``, laid end to end in
    that order, and cut where the split ratios fall: a component goes to the split in which its
    middle record lies. So split sizes in records follow ``split_ratios`` to within half a
    component at each cut, and every split draws from the same mix of large and small
    components (a placement that chose a split by size put nearly all single-setting tunes in
    validation and test). Splits with ratio 0 stay empty. Returns the split index of each record.

    That order depends on every component, so adding or removing any record reshuffles them
    all. ``method="hash"`` places each component by a seeded hash of one of its own keys
    instead (`_hash_positions`; the split whose share of [0, 1) holds it): a component's split
    then depends on its keys alone, and records added or removed elsewhere move no other
    component. The hashed keys are ``anchors[i]`` (default: ``keys[i]``): a component that
    gains an anchor key moves only if that key hashes lowest (about 1 in k+1 for k anchor keys
    before), so give as anchors the keys that new records of a group do not bring (the loader
    gives tune ids, so a new setting of a tune moves nothing). Sizes follow ``split_ratios`` in
    expectation only, in components rather than records, so a small corpus may come out uneven.

    >>> split_groups([["a"], ["a", "b"], ["b"], ["c"], ["d"]], (0.6, 0.2, 0.2), seed=0)
    [0, 0, 0, 2, 1]
    >>> split_groups([["a"], ["a", "b"], ["b"], ["c"], ["d"]], (0.6, 0.2, 0.2), method="hash")
    [1, 1, 1, 0, 0]
    """
    if method not in SPLIT_METHODS:
        raise ValueError(f"split method must be one of {SPLIT_METHODS}, got {method!r}")
    seed = check_seed(seed)
    ratios = check_ratios(split_ratios)
    keys = [list(record_keys) for record_keys in keys]  # iterated twice below
    roots = shared_key_components(keys)
    members: dict[int, list[int]] = {}
    for i, root in enumerate(roots):
        members.setdefault(root, []).append(i)
    if method == "hash":
        anchor_keys = [list(a) for a in (keys if anchors is None else anchors)]
        if len(anchor_keys) != len(keys):
            raise ValueError(f"{len(anchor_keys)} anchor lists for {len(keys)} records")
        return _split_by_hash(anchor_keys, members, ratios, seed)

    def label(root: int) -> str:
        names = [str(k) for i in members[root] for k in keys[i]]
        return min(names) if names else f"\uffff#{root:012d}"  # keyless records sort last

    order = sorted(members, key=label)
    random.Random(seed).shuffle(order)
    cuts = list(itertools.accumulate(r * len(keys) for r in ratios))
    last = max(s for s, r in enumerate(ratios) if r > 0)
    cuts[last:] = [math.inf] * (len(cuts) - last)  # no rounding error sends a record past it
    assignment = [0] * len(keys)
    placed = 0
    for root in order:
        size = len(members[root])
        split = bisect.bisect_right(cuts, placed + size / 2)
        placed += size
        for i in members[root]:
            assignment[i] = split
    return assignment


def short_splits(assignment: Sequence[int], ratios: Sequence[float]) -> dict[str, int]:
    """The splits that came out under half their share of the records though their ratio asks
    for some (an empty one among them), with their sizes: a group larger than a split's share,
    or one laid across its cut, leaves it short.

    >>> short_splits([0, 0, 0, 0, 0, 0, 0, 0, 2, 2], (0.8, 0.1, 0.1))
    {'validation': 0}
    """
    shares = check_ratios(ratios)
    sizes = [list(assignment).count(s) for s in range(len(SPLIT_NAMES))]
    return {
        name: size
        for name, size, share in zip(SPLIT_NAMES, sizes, shares)
        if share > 0 and size < share * len(assignment) / 2
    }


def _split_by_hash(
    anchors: list[list[Hashable]], members: dict[int, list[int]], ratios: list[float], seed: int
) -> list[int]:
    """`split_groups`'s ``"hash"`` method: each component to the split whose share of [0, 1)
    holds its hashed place."""
    cuts = list(itertools.accumulate(ratios))
    last = max(s for s, r in enumerate(ratios) if r > 0)
    cuts[last:] = [math.inf] * (len(cuts) - last)
    assignment = [0] * len(anchors)
    for root, place in _hash_positions(anchors, members, seed).items():
        split = bisect.bisect_right(cuts, place)
        for i in members[root]:
            assignment[i] = split
    return assignment
