"""Torch state held for the duration of a block: a chosen number of intra-op threads
(`torch_threads`), a model in eval mode (`eval_mode`); each is restored after, however the
block ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["eval_mode", "torch_threads"]


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


@contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """``model`` in eval mode (no dropout) inside, and in its own mode again after, even when
    the block raises: sampling, embedding or validating in the middle of training must not
    leave dropout off for the rest of it.

    >>> layer = torch.nn.Dropout()
    >>> with eval_mode(layer):
    ...     layer.training
    False
    >>> layer.training
    True
    """
    training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(training)
