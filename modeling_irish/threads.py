"""Run torch on a chosen number of intra-op threads for the duration of a block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["torch_threads"]


@contextmanager
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """Set ``torch.set_num_threads(num_threads)`` inside the block (``None``: leave it alone).

    Step-by-step GRU work on small batches gains little from intra-op threads, and on a 2-core
    machine whose other core is busy, two spin-waiting threads made sampling ~70x slower
    (0.96 against 70.5 tunes/s, docs/BENCHMARKS.md).

    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    """
    if num_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
