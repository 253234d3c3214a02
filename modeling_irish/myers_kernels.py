"""Compiled (numba) kernels of the bit-parallel edit-distance scan of `semiglobal`.

The numpy scan of `semiglobal._myers_scan_table_numpy` makes ~20 passes over the active
gallery columns at each text step, one per bit operation. The kernels here make one: a gather
of the pattern bits of each column's symbol, then Myers' (1999) step for all active columns in
one loop that LLVM vectorises (16 columns an AVX-512 instruction with 32-bit words). Same
results, bit for bit; several times faster on one core (`benchmarks/bench_name_that_tune.py
--ab-commit`).

Each kernel takes the pattern table `peq` (symbol -> bits of the pattern positions holding it,
the pattern in the top bits of the word), the gallery's `(steps, n_columns)` uint8 codes with
columns sorted longest first, `active[j]` (the columns still inside their sequence at step j)
and `k`, the number of never-matching pattern rows above the pattern (subtracted at the end),
and returns each column's minimum over end positions of the last row of the DP, as int64.

Compiled on first use and cached on disk (numba's `cache=True`) in the user's cache folder,
``$XDG_CACHE_HOME/modeling-irish/numba`` (``~/.cache/...``), or ``$NUMBA_CACHE_DIR`` when set:
not beside the installed source, where ``pip uninstall`` would leave the files behind (and the
package's name importable); compiled in every process where there is nowhere to write.

>>> import numpy as np
>>> peq = np.zeros(256, dtype=np.uint32)
>>> peq[[1, 2, 3]] = np.array([1 << 29, 1 << 30, 1 << 31], dtype=np.uint32)  # pattern 1 2 3
>>> codes = np.array([[7, 1], [1, 3], [2, 255], [3, 255]], dtype=np.uint8)  # 7 1 2 3 | 1 3
>>> scan_words32(peq, codes, np.array([2, 2, 1, 1]), 29).tolist()
[0, 1]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numba
import numpy as np

__all__ = ["compiled_kernel", "kernel_cache_dir", "scan_words32", "scan_words64"]

_FULL32 = np.uint32(0xFFFFFFFF)
_FULL64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@numba.njit(inline="always", error_model="numpy")
def _step32(eq_row, pv, mv, score, best):  # pragma: no cover - compiled
    # every intermediate is cast back to 32 bits: numba computes integer scalars in 64
    for c in range(eq_row.size):
        eq = eq_row[c]
        p = pv[c]
        m = mv[c]
        xv = np.uint32(eq | m)
        xh = np.uint32(np.uint32(np.uint32(np.uint32(eq & p) + p) ^ p) | eq)
        ph = np.uint32(m | np.uint32(np.uint32(xh | p) ^ _FULL32))
        mh = np.uint32(p & xh)
        # the last pattern row is the top bit: the score moves by +1, -1 or 0
        s = np.int32(score[c] + np.int32(ph >> np.uint32(31)) - np.int32(mh >> np.uint32(31)))
        score[c] = s
        best[c] = min(best[c], s)
        ph = np.uint32(ph << np.uint32(1))  # semi-global: nothing shifted in at the top row
        mh = np.uint32(mh << np.uint32(1))
        pv[c] = np.uint32(mh | np.uint32(np.uint32(xv | ph) ^ _FULL32))
        mv[c] = np.uint32(ph & xv)


# The same step in 64 bits. Written out twice on purpose: one kernel built per word size by a
# factory closure runs as fast but is recompiled in every process (~3 s; numba's disk cache
# does not reload the closures), where these module-level kernels load from the cache.
@numba.njit(inline="always", error_model="numpy")
def _step64(eq_row, pv, mv, score, best):  # pragma: no cover - compiled
    for c in range(eq_row.size):
        eq = eq_row[c]
        p = pv[c]
        m = mv[c]
        xv = np.uint64(eq | m)
        xh = np.uint64(np.uint64(np.uint64(np.uint64(eq & p) + p) ^ p) | eq)
        ph = np.uint64(m | np.uint64(np.uint64(xh | p) ^ _FULL64))
        mh = np.uint64(p & xh)
        s = np.int64(score[c] + np.int64(ph >> np.uint64(63)) - np.int64(mh >> np.uint64(63)))
        score[c] = s
        best[c] = min(best[c], s)
        ph = np.uint64(ph << np.uint64(1))
        mh = np.uint64(mh << np.uint64(1))
        pv[c] = np.uint64(mh | np.uint64(np.uint64(xv | ph) ^ _FULL64))
        mv[c] = np.uint64(ph & xv)


def kernel_cache_dir() -> str:
    """The folder of the kernels' disk cache when ``NUMBA_CACHE_DIR`` is not set."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "modeling-irish", "numba")


@contextmanager
def _cache_in_user_folder() -> Iterator[None]:
    """numba's cache folder set to `kernel_cache_dir` while kernels are decorated (numba fixes
    a function's cache path then), unless the user set ``NUMBA_CACHE_DIR``; numba's setting is
    restored after, so other numba code in the process is not affected."""
    config: Any = numba.config  # its settings are set at import, unknown to mypy
    if config.CACHE_DIR:
        yield
        return
    config.CACHE_DIR = kernel_cache_dir()
    try:
        yield
    finally:
        config.CACHE_DIR = ""


def compiled_kernel(func: Callable[..., Any]) -> Any:
    """``numba.njit(cache=True, nogil=True)`` of ``func``, cached in `kernel_cache_dir`; without
    the disk cache when numba has no writable place for it (it raises at decoration: a read-only
    site-packages and home)."""
    try:
        with _cache_in_user_folder():
            return numba.njit(cache=True, nogil=True, error_model="numpy")(func)
    except RuntimeError as err:  # "cannot cache function ...: no locator available"
        if "cannot cache" not in str(err):
            raise
        return numba.njit(nogil=True, error_model="numpy")(func)


@compiled_kernel
def scan_words32(  # pragma: no cover - compiled
    peq: np.ndarray, codes: np.ndarray, active: np.ndarray, k: int
) -> np.ndarray:
    """The scan with a 32-bit word (patterns of up to 32 symbols)."""
    n = codes.shape[1]
    pv = np.full(n, _FULL32, dtype=np.uint32)  # vertical +1 deltas (column 0: D[i] = i)
    mv = np.zeros(n, dtype=np.uint32)  # vertical -1 deltas
    score = np.full(n, 32, dtype=np.int32)  # D[32][j] of the current column j
    best = np.full(n, 32, dtype=np.int32)  # D[32][0] = 32: the empty alignment
    eq_row = np.empty(n, dtype=np.uint32)
    for j in range(codes.shape[0]):
        a = active[j]
        row = codes[j]
        for c in range(a):  # a separate gather keeps the step loop vectorisable
            eq_row[c] = peq[row[c]]
        _step32(eq_row[:a], pv[:a], mv[:a], score[:a], best[:a])
    return best.astype(np.int64) - k


@compiled_kernel
def scan_words64(  # pragma: no cover - compiled
    peq: np.ndarray, codes: np.ndarray, active: np.ndarray, k: int
) -> np.ndarray:
    """The scan with a 64-bit word (patterns of up to 64 symbols)."""
    n = codes.shape[1]
    pv = np.full(n, _FULL64, dtype=np.uint64)
    mv = np.zeros(n, dtype=np.uint64)
    score = np.full(n, 64, dtype=np.int64)
    best = np.full(n, 64, dtype=np.int64)
    eq_row = np.empty(n, dtype=np.uint64)
    for j in range(codes.shape[0]):
        a = active[j]
        row = codes[j]
        for c in range(a):
            eq_row[c] = peq[row[c]]
        _step64(eq_row[:a], pv[:a], mv[:a], score[:a], best[:a])
    return best - k
