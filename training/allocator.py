"""Keep freed large blocks in the process heap on glibc Linux (`keep_freed_memory`).

A CPU training step allocates large buffers afresh each step (the hand-written GRU's gates
and states, the activations of every other module). glibc serves a block above its mmap
threshold with a fresh ``mmap`` and hands it back to the OS when freed, and trims the top of
the heap above its trim threshold: the next step's first touch of each page faults again.
Raising both thresholds keeps those pages in the process for the next step. Standard library
alone (``ctypes``), so that `training/train.py` may call it before torch is imported.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Mapping

#: ``mallopt`` parameters of glibc's ``<malloc.h>``.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

#: The thresholds set: 1 GiB, above any one buffer of `small` or `base` at batch 32.
KEEP_BYTES = 1 << 30

#: The largest mmap threshold that glibc before 2.36 accepts on 64-bit (``HEAP_MAX_SIZE / 2``),
#: tried when it refuses `KEEP_BYTES`.
OLD_GLIBC_MMAP_MAX = 32 << 20

#: The environment by which a user tunes glibc's malloc: when one is set, theirs is the choice.
MALLOC_ENV = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)

#: Allocators that replace glibc's malloc when preloaded (``LD_PRELOAD``): mallopt tunes nothing.
OTHER_ALLOCATORS = ("jemalloc", "tcmalloc", "mimalloc")


def user_tunes_malloc(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``environ`` (default ``os.environ``) tunes or replaces glibc's malloc: one of
    `MALLOC_ENV`, a ``glibc.malloc.*`` tunable in ``GLIBC_TUNABLES``, or one of
    `OTHER_ALLOCATORS` in ``LD_PRELOAD``.

    >>> user_tunes_malloc({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"})
    True
    >>> user_tunes_malloc({"LANG": "C.UTF-8"})
    False
    """
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in MALLOC_ENV):
        return True
    if "glibc.malloc." in env.get("GLIBC_TUNABLES", ""):
        return True
    preload = env.get("LD_PRELOAD", "")
    return any(name in preload for name in OTHER_ALLOCATORS)


def _glibc_mallopt():
    """glibc's ``mallopt`` function, or None: not Linux, not glibc (musl has no
    ``CS_GNU_LIBC_VERSION``), or no such symbol."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return None
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (ValueError, OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt


def keep_freed_memory(environ: Mapping[str, str] | None = None) -> bool:
    """Raise glibc's mmap and trim thresholds to `KEEP_BYTES`, so that this process keeps the
    large blocks it frees and reuses them without page faults (a few % of a CPU training
    step; docs/BENCHMARKS.md, "MeasureNote training throughput"); peak memory stays that of
    the largest step. Returns whether it applied: False, changing nothing, off glibc Linux
    (macOS, Windows, musl), without a ``mallopt`` symbol, or when ``environ`` (default
    ``os.environ``) already tunes malloc (`user_tunes_malloc`: the user's choice stands).
    Process-wide and lasting: call it once, at start-up.

    >>> isinstance(keep_freed_memory({"MALLOC_TRIM_THRESHOLD_": "0"}), bool)
    True
    """
    if user_tunes_malloc(environ):
        return False
    mallopt = _glibc_mallopt()
    if mallopt is None:
        return False
    mmap_set = mallopt(M_MMAP_THRESHOLD, KEEP_BYTES) or mallopt(
        M_MMAP_THRESHOLD, OLD_GLIBC_MMAP_MAX
    )
    if not mmap_set:
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))


__all__ = [
    "KEEP_BYTES",
    "MALLOC_ENV",
    "OTHER_ALLOCATORS",
    "keep_freed_memory",
    "user_tunes_malloc",
]
