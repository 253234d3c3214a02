"""Encoded tunes padded into MeasureNote batches: `AbcDataCollator` and the steps of `pad`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from transformers import BatchEncoding

from .encoded_tune import IGNORE_INDEX, as_numpy, make_labels
from .features import FEATURE_NAMES

__all__ = [
    "AbcDataCollator",
    "collate",
    "holds_feature_rows",
    "is_one_tune",
    "tensor_kind",
    "unbatched",
    "unpadded_tunes",
]


def tensor_kind(encoded_inputs: Any) -> str | None:
    """``"pt"`` or ``"np"`` when the first feature's ``input_ids`` is a torch tensor or a numpy
    array, else None (lists), the type `transformers`' ``pad`` returns by default.

    >>> tensor_kind([{"input_ids": np.ones((2, 20))}]), tensor_kind({"input_ids": [[[1] * 20]]})
    ('np', None)
    """
    first = encoded_inputs if isinstance(encoded_inputs, Mapping) else encoded_inputs[0]
    ids = first["input_ids"]
    if isinstance(encoded_inputs, Mapping):
        ids = ids[0] if isinstance(ids, (list, tuple)) and len(ids) else ids
    if isinstance(ids, torch.Tensor):
        return "pt"
    return "np" if isinstance(ids, np.ndarray) else None


def holds_feature_rows(encoded_inputs: Any) -> bool:
    """Whether `pad` got encoded tunes (with ``measure_numbers``), not main-token ids: a mapping
    (a `BatchEncoding` too) or a list of them.

    >>> holds_feature_rows({"input_ids": [[5, 6]]}), holds_feature_rows([{"measure_numbers": []}])
    (False, True)
    """
    if isinstance(encoded_inputs, Mapping):
        return "measure_numbers" in encoded_inputs
    first = next(iter(encoded_inputs), None) if isinstance(encoded_inputs, (list, tuple)) else None
    return isinstance(first, Mapping) and "measure_numbers" in first


def is_one_tune(encoded_inputs: Any) -> bool:
    """Whether ``encoded_inputs`` is one dict of one tune, its ``input_ids`` rows ``(rows, 20)``
    with no batch axis, as ``tok(abc, return_tensors=None)`` gives for a single string (not a
    dict of a batch, ``(batch, rows, 20)``, nor a list of dicts).

    >>> is_one_tune({"input_ids": [[1] * 20]}), is_one_tune({"input_ids": [[[1] * 20]]})
    (True, False)
    """
    if not isinstance(encoded_inputs, Mapping) or "input_ids" not in encoded_inputs:
        return False
    ids = encoded_inputs["input_ids"]
    if not isinstance(ids, (list, tuple)):  # a tensor or an array
        return getattr(ids, "ndim", None) == 2
    row = ids[0] if len(ids) else None
    if isinstance(row, (list, tuple)):  # lists: the first row's first value, a number
        return bool(row) and isinstance(row[0], (int, np.integer))
    return getattr(row, "ndim", None) == 1  # a list of rows as tensors or arrays


def unbatched(batch: BatchEncoding) -> BatchEncoding:
    """The one tune of a batch of one without its batch axis (``input_ids`` ``(rows, 20)``,
    ``length`` an int), as `transformers` gives one text with ``return_tensors=None``.

    >>> unbatched(BatchEncoding({"attention_mask": [[1, 1]], "length": [2]}))
    {'attention_mask': [1, 1], 'length': 2}
    """
    return BatchEncoding({key: value[0] for key, value in batch.items()})


def unpadded_tunes(encoded_inputs: Any) -> list[dict[str, Any]]:
    """The encoded tunes given to `AbcTokenizer.pad` (a list of dicts, one dict of lists, or
    one dict of one tune: `is_one_tune`), each without the rows its ``attention_mask`` marks as
    padding (`_unpadded`)."""
    if is_one_tune(encoded_inputs):
        encoded_inputs = [encoded_inputs]
    elif isinstance(encoded_inputs, Mapping):  # a dict of lists -> a list of dicts
        keys = list(encoded_inputs)
        encoded_inputs = [dict(zip(keys, values)) for values in zip(*encoded_inputs.values())]
    features = [_unpadded(f, n) for n, f in enumerate(encoded_inputs)]
    if not features:
        raise ValueError("AbcTokenizer.pad got no encoded tunes")
    return features


def _unpadded(feature: Any, n: int) -> dict[str, Any]:
    """One encoded tune's ``input_ids`` ``(rows, 20)`` and ``measure_numbers``, without rows its
    ``attention_mask`` marks as padding. ``tokenizer(abc)`` of one tune, a batch of one, is
    taken as that tune."""
    if (
        not isinstance(feature, Mapping)
        or "input_ids" not in feature
        or "measure_numbers" not in feature
    ):
        raise ValueError(
            f"AbcTokenizer.pad: encoded tune {n} needs 'input_ids' and 'measure_numbers', as "
            "the others have (what the tokenizer returns for one tune)"
        )
    ids = as_numpy(feature["input_ids"])
    one = ids.ndim == 3 and ids.shape[0] == 1  # `tokenizer(abc)`: a batch of one tune
    if one:
        ids = ids[0]
    if ids.ndim != 2 or ids.shape[1] != len(FEATURE_NAMES):
        raise ValueError(
            f"AbcTokenizer.pad: encoded tune {n} has input_ids of shape {ids.shape}, not "
            f"(rows, {len(FEATURE_NAMES)}) feature rows as tokenizer(abc) gives ("
            "tokenizer.encode gives the main tokens only, which the model cannot read)"
        )
    measures = as_numpy(feature["measure_numbers"]).reshape(-1)
    if feature.get("attention_mask") is not None:
        mask = as_numpy(feature["attention_mask"])  # (rows,) or (1, rows)
        keep = _unpadded_length(mask, len(ids), f"AbcTokenizer.pad: encoded tune {n}")
        ids, measures = ids[:keep], measures[:keep]
    return {"input_ids": ids, "measure_numbers": measures}


def _unpadded_length(mask: Any, rows: int, where: str) -> int:
    """How many leading rows of a tune of ``rows`` rows its ``attention_mask`` keeps (the rest
    is padding). The mask must be ones then zeros, as right padding gives: a left-padded
    or holey mask is refused, since cutting it would keep padding and lose music.

    >>> _unpadded_length([[1, 1, 1, 0]], 4, "tune 0")
    3
    """
    mask = np.asarray(mask).reshape(-1)
    if len(mask) != rows:
        raise ValueError(
            f"{where}: attention_mask has {len(mask)} values for {rows} rows of input_ids"
        )
    keep = int((mask != 0).sum())
    wrong = np.flatnonzero(mask != (np.arange(rows) < keep))  # rows not "ones, then zeros"
    if len(wrong):
        row = int(wrong[0])
        raise ValueError(
            f"{where}: attention_mask is not ones then zeros (right padding): row {row} of "
            f"{rows} is {mask[row].item()}; left padding or holes in the mask are not "
            "supported: give the tune unpadded"
        )
    return keep


def collate(
    features: list[dict[str, Any]],
    padding: bool | str,
    max_length: int | None,
    pad_to_multiple_of: int | None,
    return_tensors: str | None,
    return_length: bool = False,
) -> BatchEncoding:
    """The batch of ``AbcTokenizer.__call__`` and ``pad``: ``features`` (unpadded tunes, checked
    options) padded by `AbcDataCollator` as ``padding`` says, as ``return_tensors``' type.
    ``padding=False`` with ``return_tensors=None`` gives each tune's lists unpadded, as in
    `transformers` (`_unpadded_lists`); tensors of tunes of different lengths are refused."""
    _check_pad_to_multiple_of(pad_to_multiple_of, "AbcTokenizer")
    lengths = [len(f["input_ids"]) for f in features]
    if padding is False or padding == "do_not_pad":
        if return_tensors is None:
            return _unpadded_lists(features, lengths if return_length else None)
        if len(set(lengths)) > 1:
            raise ValueError(
                f"padding=False, but the tunes have different lengths ({min(lengths)} to "
                f"{max(lengths)} rows): tensors of them need padding (padding=True); "
                "return_tensors=None gives each tune's lists unpadded, for a collator to pad"
            )
        pad_to_multiple_of = None  # no padding at all, as in transformers
    if padding == "max_length":
        if max_length is None:  # `check_call_options` refuses it first
            raise ValueError(
                "padding='max_length' needs max_length: give max_length=N, or set "
                "tok.model_max_length"
            )
        if max(lengths) > max_length:
            raise ValueError(
                f"a tune of {max(lengths)} rows is longer than max_length={max_length}"
            )
        unit = pad_to_multiple_of or 1
        pad_to_multiple_of = -(-max_length // unit) * unit  # the batch is exactly this long
    batch = AbcDataCollator(pad_to_multiple_of)(features)
    if return_length:  # as transformers: each input's length, unpadded
        batch["length"] = torch.tensor(lengths, dtype=torch.int64)
    if return_tensors == "np":
        return BatchEncoding({k: v.numpy() for k, v in batch.items()})
    if return_tensors is None:
        return BatchEncoding({k: v.tolist() for k, v in batch.items()})
    return BatchEncoding(batch)


def _unpadded_lists(features: list[dict[str, Any]], lengths: list[int] | None) -> BatchEncoding:
    """Each tune's ``input_ids`` (rows of 20), ``measure_numbers``, ``attention_mask`` (all
    1s) and ``labels``, as lists of its own length: what `transformers` returns for
    ``padding=False, return_tensors=None``, so that ``ds.map(lambda b: tok(b["abc"],
    padding=False, return_tensors=None), batched=True)`` stores unpadded tunes and a collator
    (`AbcDataCollator`, `DataCollatorWithPadding`) pads each batch. ``lengths``: added as
    ``length`` (``return_length=True``).

    >>> a = {"input_ids": np.ones((3, 20), int), "measure_numbers": [0, 0, 1]}
    >>> b = {"input_ids": np.ones((2, 20), int), "measure_numbers": [0, 1]}
    >>> _unpadded_lists([a, b], None)["attention_mask"]
    [[1, 1, 1], [1, 1]]
    """
    tunes = [AbcDataCollator()([feature]) for feature in features]  # each alone: no padding
    batch: dict[str, list[Any]] = {
        key: [tune[key][0].tolist() for tune in tunes] for key in tunes[0]
    }
    if lengths is not None:
        batch["length"] = list(lengths)
    return BatchEncoding(batch)


def _check_pad_to_multiple_of(value: Any, where: str) -> None:
    """Refuse a ``pad_to_multiple_of`` that is not None or a positive int (0 and negative
    numbers made a batch of a wrong or negative length, bools and floats mean nothing here).

    >>> _check_pad_to_multiple_of(0, "AbcDataCollator")
    Traceback (most recent call last):
    ValueError: AbcDataCollator: pad_to_multiple_of must be a positive int or None, got 0
    """
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"{where}: pad_to_multiple_of must be a positive int or None, got {value!r}"
        )


def _one_tune(feature: dict[str, Any], index: int) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids (n, 20), measure_numbers (n,))`` of one encoded tune: a row of
    `tokenize_dataset` or the output of ``tok(one_tune)`` (tensors: a batch of one, which is
    unwrapped; with ``return_tensors=None``, one tune's lists).
    A batch of several tunes is refused: its rows would run together as one tune. Rows that an
    ``attention_mask`` marks as padding (``tok(one_tune, pad_to_multiple_of=8)``) are cut off,
    so that they are neither attended to nor trained on."""
    if not isinstance(feature, Mapping):
        raise TypeError(
            f"AbcDataCollator: feature {index} is not a dict but {type(feature).__name__}; "
            "give one dict per tune with 'input_ids' and 'measure_numbers' (a row of "
            "tokenize_dataset, or tok(one_tune))"
        )
    missing = [k for k in ("input_ids", "measure_numbers") if k not in feature]
    if missing:
        raise ValueError(
            f"AbcDataCollator: feature {index} has no {' or '.join(map(repr, missing))} (it "
            f"has {list(feature)}): each feature needs 'input_ids' and 'measure_numbers', "
            "as a row of tokenize_dataset or tok(one_tune) has"
        )
    ids = np.asarray(feature["input_ids"], dtype=np.int64)
    measures = np.asarray(feature["measure_numbers"], dtype=np.int64)
    if ids.ndim == 3 and ids.shape[0] == 1:
        ids, measures = ids[0], measures.reshape(-1)
    if ids.ndim != 2 or ids.shape[1] != len(FEATURE_NAMES) or measures.shape != ids.shape[:1]:
        raise ValueError(
            f"AbcDataCollator: feature {index} is not one encoded tune (input_ids of shape "
            f"{ids.shape}, measure_numbers {measures.shape}; expected (rows, "
            f"{len(FEATURE_NAMES)}) and (rows,)): give one dict per tune"
        )
    if feature.get("attention_mask") is not None:
        mask = as_numpy(feature["attention_mask"])
        keep = _unpadded_length(mask, len(ids), f"AbcDataCollator: feature {index}")
        ids, measures = ids[:keep], measures[:keep]
    return ids, measures


class AbcDataCollator:
    """Pad a list of encoded tunes into a batch for MeasureNote.

    Each feature is a dict with ``input_ids`` (``(n, 20)``) and ``measure_numbers`` (``(n,)``):
    a row of `tokenize_dataset`, or ``tok(one_tune)`` (its tensors' batch of one is unwrapped,
    and the rows its ``attention_mask`` marks as padding are dropped). Padding rows are all
    ``<pad>`` (0), padded measure numbers repeat the last value, and padded labels are -100.

    Example:
        >>> import numpy as np
        >>> a = {"input_ids": np.ones((3, 20), int), "measure_numbers": [0, 0, 1]}
        >>> b = {"input_ids": np.ones((2, 20), int), "measure_numbers": [0, 1]}
        >>> batch = AbcDataCollator()([a, b])
        >>> batch["input_ids"].shape, batch["measure_numbers"][1].tolist()
        (torch.Size([2, 3, 20]), [0, 1, 1])
        >>> batch["attention_mask"][1].tolist()
        [1, 1, 0]
    """

    def __init__(self, pad_to_multiple_of: int | None = None) -> None:
        _check_pad_to_multiple_of(pad_to_multiple_of, "AbcDataCollator")
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        if isinstance(features, Mapping):
            raise TypeError(
                "AbcDataCollator got one dict, not a list of encoded tunes: give one dict per "
                "tune (tok.pad takes a dict of lists)"
            )
        if not len(features):
            raise ValueError("AbcDataCollator got no features: give at least one encoded tune")
        rows = [_one_tune(f, i) for i, f in enumerate(features)]
        arrays = [ids for ids, _ in rows]
        lengths = [len(a) for a in arrays]
        seq = max(lengths)
        if self.pad_to_multiple_of:
            seq = -(-seq // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch = len(arrays)
        input_ids = np.zeros((batch, seq, len(FEATURE_NAMES)), dtype=np.int64)
        measures = np.zeros((batch, seq), dtype=np.int64)
        mask = np.zeros((batch, seq), dtype=np.int64)
        labels = np.full((batch, seq, 2), IGNORE_INDEX, dtype=np.int64)
        for i, (ids, n) in enumerate(zip(arrays, lengths)):
            input_ids[i, :n] = ids
            m = rows[i][1]
            measures[i, :n] = m
            measures[i, n:] = m[-1] if n else 0
            mask[i, :n] = 1
            labels[i, :n] = make_labels(ids)
        return {
            "input_ids": torch.from_numpy(input_ids),
            "measure_numbers": torch.from_numpy(measures),
            "attention_mask": torch.from_numpy(mask),
            "labels": torch.from_numpy(labels),
        }
