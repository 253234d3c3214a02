"""Bit-parallel semi-global edit distance of one short query against a whole gallery of sequences.

The kernel of the "name that tune" baseline (`edit_distance.EditDistanceRanker` builds on it): the
gallery as one padded `(steps, columns)` array (`PaddedGallery`), Myers' bit-vector scan over all
of its columns at once (compiled in `myers_kernels`; a numpy version kept as its reference), a
scan of letter queries in all seven diatonic rotations (`rotation_distances`), and the row DP for
queries longer than one machine word (`semiglobal_distances_dp`).

>>> semiglobal_distances([1, 2, 3], PaddedGallery([[7, 1, 2, 3, 9], [1, 3]])).tolist()
[0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, Union

import numpy as np

__all__ = [
    "MAX_WORD_QUERY",
    "PAD",
    "PaddedGallery",
    "rotation_distances",
    "semiglobal_distances",
    "semiglobal_distances_dp",
]

PAD = 255  # gallery padding code: never equal to a query code (codes are 0..254)
MAX_WORD_QUERY = 64  # longest query the one-word bit-vector scan takes
_BLOCK = 8  # code block of one rotation: letter + 8 x rotation (slot 7 never matches)
# symbols 0..254 as a list or a numpy array (the ranker passes both)
Symbols = Union[Sequence[int], np.ndarray]


class PaddedGallery:
    """Gallery sequences as one `(max_len, n_columns)` uint8 array, columns sorted longest first.

    The transposed, sorted layout lets the bit-parallel scan touch only a contiguous prefix of
    the columns that are still inside their sequence at each step. With `window`, a sequence
    longer than `window` is cut into windows of that length overlapping by `overlap` symbols,
    one column each: a scan then takes at most `window` steps instead of the longest tune's
    length (a few tunes of 1,500+ notes cost more numpy call overhead than all the others).
    Exact for queries whose alignments span at most `overlap + 1` symbols, which holds for any
    query of up to `overlap // 2` symbols (an alignment covers at most twice the query). Each
    sequence is a list or a numpy array of symbols 0..254.

    >>> g = PaddedGallery([[1, 2], [3, 4, 5]])
    >>> g.codes.shape, g.lengths.tolist(), g.order.tolist()
    ((3, 2), [3, 2], [1, 0])
    >>> PaddedGallery([list(range(10))], window=4, overlap=2).codes.shape  # windows 0, 2, 4, 6
    (4, 4)
    """

    def __init__(
        self, sequences: Sequence[Symbols], window: Optional[int] = None, overlap: int = 128
    ) -> None:
        if window is not None and not 0 < overlap < window:
            raise ValueError(f"need 0 < overlap < window, got {overlap}, {window}")
        self.window, self.overlap, self.n_sequences = window, overlap, len(sequences)
        columns, owner = [], []
        for idx, s in enumerate(sequences):
            seq = np.asarray(s, dtype=np.int64).reshape(-1)
            if seq.size and (seq.min() < 0 or seq.max() >= PAD):
                raise ValueError(f"symbols must be in 0..{PAD - 1}, sequence {idx} is not")
            # held as the codes' uint8 until they are laid out: an int64 copy of every
            # sequence at once was 8x the gallery's own size (~80 MB of thesession's eighths)
            seq = seq.astype(np.uint8)
            if window is None or seq.size <= window:
                columns.append(seq)
                owner.append(idx)
                continue
            for begin in range(0, seq.size - overlap, window - overlap):
                columns.append(seq[begin : begin + window])
                owner.append(idx)
        lengths = np.array([c.size for c in columns], dtype=np.int64)
        self.order = np.argsort(-lengths, kind="stable")  # sorted column -> column
        self.owner = np.asarray(owner, dtype=np.int64)[self.order]  # sorted column -> sequence
        self.lengths = lengths[self.order]
        max_len = int(self.lengths[0]) if len(lengths) else 0
        self.codes = np.full((max_len, len(columns)), PAD, dtype=np.uint8)
        for col, idx in enumerate(self.order):
            self.codes[: columns[idx].size, col] = columns[idx]
        # active[j] = number of columns longer than j (a prefix of the sorted columns)
        self.active = np.searchsorted(-self.lengths, -np.arange(max_len), side="left")

    def __len__(self) -> int:
        return self.n_sequences

    def subset(self, sequences: np.ndarray) -> PaddedGallery:
        """The gallery restricted to the columns of the given sequence indices (same numbering
        of sequences; the others get no column and distance int64 max from `unsort`)."""
        keep = np.zeros(self.n_sequences, dtype=bool)
        keep[np.asarray(sequences, dtype=np.int64)] = True
        cols = np.flatnonzero(keep[self.owner])  # still sorted longest first
        lengths = self.lengths[cols]
        max_len = int(lengths[0]) if cols.size else 0
        return self.with_columns(
            self.codes[:max_len, cols], lengths, self.order[cols], self.owner[cols]
        )

    def with_columns(
        self, codes: np.ndarray, lengths: np.ndarray, order: np.ndarray, owner: np.ndarray
    ) -> PaddedGallery:
        """A gallery of the same sequences with other `(steps, n_columns)` uint8 columns (their
        `lengths` sorted longest first, as `order` and `owner` say): a subset, or the same
        columns re-coded."""
        out = object.__new__(PaddedGallery)
        out.window, out.overlap, out.n_sequences = self.window, self.overlap, self.n_sequences
        out.codes, out.lengths, out.order, out.owner = codes, lengths, order, owner
        out.active = np.searchsorted(-lengths, -np.arange(codes.shape[0]), side="left")
        return out

    def unsort(self, values: np.ndarray) -> np.ndarray:
        """Per-column distances in sorted column order -> the minimum per original sequence."""
        out = np.full(self.n_sequences, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(out, self.owner, np.asarray(values, dtype=np.int64))
        # a sequence with no column (impossible) or an empty one keeps its own value
        return out


def _check_query(query: Symbols) -> np.ndarray:
    q = np.asarray(query, dtype=np.int64).reshape(-1)
    if q.size == 0:
        raise ValueError("empty query")
    if q.min() < 0 or q.max() >= PAD:
        raise ValueError(f"query symbols must be in 0..{PAD - 1}")
    return q


def _myers_scan(q: np.ndarray, gallery: PaddedGallery) -> np.ndarray:
    """Myers (1999) bit-vector search: min over end positions of the pattern's edit distance.

    One machine word per gallery column holds the vertical deltas of a DP column (the query is
    the pattern, |q| <= 64); each text step updates the still-active columns (a prefix: they
    are sorted longest first) in one compiled loop. The pattern fills the word exactly: it is
    preceded by ``k = word - |q|`` symbols that match nothing, which adds exactly k to every
    distance (the first k rows of the DP are the constant rows 1..k) and makes the last row's
    bit the word's top bit, so a shift alone extracts it. Returns per-column minima, sorted order.
    """
    return _myers_scan_table(_pattern_table(q), q.size, gallery)


def _word(m: int) -> tuple[type[np.unsignedinteger], type[np.signedinteger], int]:
    """Unsigned and signed dtypes and width of the machine word that holds an m-symbol pattern."""
    return (np.uint32, np.int32, 32) if m <= 32 else (np.uint64, np.int64, 64)


def _pattern_table(q: np.ndarray, width: Optional[int] = None) -> np.ndarray:
    """`(256,)` symbol -> bitmask of the pattern positions holding it, the pattern in the top
    `len(q)` bits of its word (see `_myers_scan`; `width`: 32 or 64, else the smallest)."""
    dtype, _, width = _word(width or q.size)
    k = width - q.size
    peq = np.zeros(256, dtype=dtype)
    for i, sym in enumerate(q):
        peq[sym] |= dtype(1 << (k + i))
    return peq


def _myers_scan_table(peq: np.ndarray, m: int, gallery: PaddedGallery) -> np.ndarray:
    """`_myers_scan` with the pattern given as its symbol table `peq` (`_pattern_table`), so
    that gallery codes may stand for other symbols than the pattern's (`rotation_distances`).
    Runs the compiled kernels of `myers_kernels` (one pass over the active columns a step
    instead of ~20 numpy passes; the same results as `_myers_scan_table_numpy`)."""
    from . import myers_kernels  # numba compiles (or loads its cache) on first use

    dtype, _, width = _word(m)
    if peq.dtype != dtype:  # the kernels read the word size from the table
        raise ValueError(f"a {m}-symbol pattern needs a {dtype.__name__} table, not {peq.dtype}")
    kernel = myers_kernels.scan_words32 if width == 32 else myers_kernels.scan_words64
    return kernel(peq, gallery.codes, gallery.active, width - m)


def _myers_scan_table_numpy(peq: np.ndarray, m: int, gallery: PaddedGallery) -> np.ndarray:
    """`_myers_scan_table` in numpy: ~20 in-place ops over the active columns a text step, on
    preallocated buffers. Kept as the reference the compiled kernels are tested against."""
    dtype, signed, width = _word(m)
    k = width - m  # leading never-matching pattern symbols
    one, hb = dtype(1), dtype(width - 1)
    n = gallery.codes.shape[1]
    pv = np.full(n, np.iinfo(dtype).max, dtype=dtype)  # vertical +1 deltas (column 0: D[i] = i)
    mv = np.zeros(n, dtype=dtype)  # vertical -1 deltas
    score = np.full(n, width, dtype=signed)  # D[width][j] of the current column j
    best = score.copy()  # D[width][0] = width: the empty alignment
    buf = np.empty((5, n), dtype=dtype)
    for j in range(gallery.codes.shape[0]):
        a = int(gallery.active[j])
        eq, xv, xh, ph, mh = buf[0, :a], buf[1, :a], buf[2, :a], buf[3, :a], buf[4, :a]
        p, mm, sc = pv[:a], mv[:a], score[:a]
        np.take(peq, gallery.codes[j, :a], out=eq, mode="wrap")  # codes < 256: no check
        np.bitwise_or(eq, mm, out=xv)
        np.bitwise_and(eq, p, out=xh)
        xh += p
        xh ^= p
        xh |= eq
        np.bitwise_or(xh, p, out=ph)
        np.invert(ph, out=ph)
        ph |= mm
        np.bitwise_and(p, xh, out=mh)
        # score moves by the horizontal delta of the last row (the top bit): +1, -1 or 0
        np.right_shift(ph, hb, out=eq)
        sc += eq.view(signed)
        np.right_shift(mh, hb, out=eq)
        sc -= eq.view(signed)
        np.minimum(best[:a], sc, out=best[:a])
        # semi-global: the top row is all zeros, so no +1 is shifted into ph (unlike global)
        ph <<= one
        mh <<= one
        np.bitwise_or(xv, ph, out=p)
        np.invert(p, out=p)
        p |= mh
        np.bitwise_and(ph, xv, out=mm)
    return best.astype(np.int64) - k


def rotation_distances(
    queries: Sequence[np.ndarray], galleries: Sequence[PaddedGallery], keep: np.ndarray
) -> np.ndarray:
    """`(parts, n_sequences, 7)` semi-global distances of each letter query (at most 64 symbols;
    `edit_distance.letter_sequence`) to its gallery's sequences rotated by 0..6 letters, in one
    scan.

    Only the sequences with `keep` True are scanned (the others get int64 max). Each part
    `p` (at most 2) and rotation `r` has its own block of codes, `64 p + 8 r + letter`, whose
    pattern table holds the query's bits for letter `(letter + r) % 7`; the padding code wraps
    onto an unused slot 7 of another block, so it still matches nothing. Columns of all parts
    and rotations share one bit-parallel scan (`_myers_scan_table`), the shorter patterns
    padded with never-matching rows whose constant cost is subtracted afterwards.

    >>> gallery = PaddedGallery([[1, 2, 3], [0, 1, 2, 4], [5, 5]])
    >>> d = rotation_distances([np.array([0, 1, 2])], [gallery], np.array([True, True, False]))
    >>> d.shape, d[0, 0].tolist(), d[0, 1].tolist()  # [1, 2, 3] is [0, 1, 2] rotated by 6
    ((1, 3, 7), [1, 2, 3, 3, 2, 1, 0], [0, 1, 2, 2, 2, 1, 1])
    >>> bool(d[0, 2].min() == np.iinfo(np.int64).max)  # not kept: not scanned
    True
    """
    if not 0 < len(queries) == len(galleries) <= 2:
        raise ValueError("one or two letter queries, one gallery each")
    sizes = [int(np.asarray(q).size) for q in queries]
    if min(sizes) == 0 or max(sizes) > MAX_WORD_QUERY:
        raise ValueError(f"letter queries need 1..{MAX_WORD_QUERY} symbols, got {sizes}")
    width = 32 if max(sizes) <= 32 else 64
    table = np.zeros(256, dtype=_word(width)[0])
    letters, rotations = np.arange(7), np.arange(7)
    for p, q in enumerate(queries):
        peq = _pattern_table(np.asarray(q, dtype=np.int64), width)
        for r in rotations:
            table[64 * p + _BLOCK * r + letters] = peq[(letters + r) % 7]
    cols = [np.flatnonzero(keep[g.owner]) for g in galleries]
    lengths = np.concatenate([g.lengths[c] for g, c in zip(galleries, cols)])
    out = np.full((len(galleries), len(keep), 7), np.iinfo(np.int64).max, dtype=np.int64)
    if lengths.size == 0:
        return out
    steps = int(lengths.max())
    blocks = []
    for p, (g, c) in enumerate(zip(galleries, cols)):
        block = np.full((steps, c.size), PAD, dtype=np.uint8)
        n = min(steps, g.codes.shape[0])
        block[:n] = g.codes[:n, c]
        blocks.append(block + np.uint8(64 * p))  # uint8 wraps: padding lands on slot 63
    order = np.argsort(-lengths, kind="stable")
    offsets = (_BLOCK * rotations).astype(np.uint8)
    sub = object.__new__(PaddedGallery)
    merged = np.take(np.concatenate(blocks, axis=1), order, axis=1)
    sub.codes = np.repeat(merged, 7, axis=1) + np.tile(offsets, order.size)
    sub.lengths = np.repeat(lengths[order], 7)
    sub.active = np.searchsorted(-sub.lengths, -np.arange(steps), side="left")
    part = np.concatenate([np.full(c.size, p) for p, c in enumerate(cols)])[order]
    owner = np.concatenate([g.owner[c] for g, c in zip(galleries, cols)])[order]
    dist = _myers_scan_table(table, width, sub) - (width - np.repeat(np.asarray(sizes)[part], 7))
    np.minimum.at(
        out, (np.repeat(part, 7), np.repeat(owner, 7), np.tile(rotations, order.size)), dist
    )
    return out


def semiglobal_distances_dp(query: Symbols, gallery: PaddedGallery) -> np.ndarray:
    """Same result as `semiglobal_distances` by the row DP, for queries of any length.

    Rows follow the query; within a row an insertion chain D[i][j] = min(A[j], D[i][j-1] + 1) is
    solved at once as j + cummin_k(A[k] - k), a running minimum down the (transposed) row.
    Returns distances in the original gallery order.
    """
    q = _check_query(query)
    codes = gallery.codes.astype(np.int32)  # (L, n)
    L, n = codes.shape
    j = np.arange(L + 1, dtype=np.int32)[:, None]  # (L + 1, 1)
    d = np.zeros((L + 1, n), dtype=np.int32)  # row 0: the excerpt may start anywhere
    for i, sym in enumerate(q, start=1):
        a = np.empty_like(d)
        a[0] = i  # D[i][0]: all i query notes deleted
        np.minimum(d[:-1] + (codes != sym), d[1:] + 1, out=a[1:])  # substitution / deletion
        d = np.minimum.accumulate(a - j, axis=0) + j  # insertions of target notes
    # the excerpt may end anywhere inside each sequence: columns j <= length only
    d = np.where(j <= gallery.lengths[None, :], d, np.iinfo(np.int32).max)
    return gallery.unsort(d.min(axis=0).astype(np.int64))


def semiglobal_distances(query: Symbols, gallery: PaddedGallery) -> np.ndarray:
    """Edit distance of `query` to its best-matching substring of every gallery sequence.

    Unit costs for substitution, insertion and deletion; the query may start and end anywhere in
    a target at no cost (the Tunepal search). Returns `(n_gallery,)` int64 in gallery order.

    >>> g = PaddedGallery([[7, 1, 2, 3, 9], [1, 3], [5, 5, 5]])
    >>> semiglobal_distances([1, 2, 3], g).tolist()
    [0, 1, 3]
    """
    q = _check_query(query)
    if len(gallery) == 0:
        return np.zeros(0, dtype=np.int64)
    if gallery.window is not None and q.size > gallery.overlap // 2:
        raise ValueError(
            f"query of {q.size} symbols on a gallery cut into windows overlapping by "
            f"{gallery.overlap}: at most {gallery.overlap // 2} symbols are exact"
        )
    if q.size > MAX_WORD_QUERY:
        return semiglobal_distances_dp(q, gallery)
    return gallery.unsort(_myers_scan(q, gallery))
