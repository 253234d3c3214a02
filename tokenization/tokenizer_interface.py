"""The transformers slow-tokenizer interface of `AbcTokenizer`, on its ``main`` feature.

What `PreTrainedTokenizer` asks of a slow tokenizer (``get_vocab``, ``_tokenize``, the id and
token conversions, special tokens, ``prepare_for_model``, ``save_vocabulary``), and the
overrides that keep its generic methods (``encode``, ``add_tokens``...) true to what
``tok(abc)`` does. `AbcTokenizer` subclasses `SlowTokenizerInterface` before
`PreTrainedTokenizer`; saved beside it as remote code.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from transformers import AddedToken, BatchEncoding

from .encoded_tune import read_tune
from .features import HeaderInfo, tune_to_rows
from .row_decoding import main_ids
from .tokenizer_checks import check_truncation, check_truncation_side
from .vocabulary import END_ID, PAD_ID, START_ID, UNK_ID, AbcVocab

#: The special tokens, each in its fixed role and with its fixed id: the tokenizer writes these
#: ids itself (rows padded with 0, framed by <start> and <end>), whatever the role names.
FIXED_SPECIALS = {
    "pad_token": ("<pad>", PAD_ID),
    "bos_token": ("<start>", START_ID),
    "eos_token": ("<end>", END_ID),
    "unk_token": ("<unk>", UNK_ID),
}


def check_fixed_special(name: str, value: Any, hint: str = "") -> None:
    """Refuse ``name`` (a role of `FIXED_SPECIALS`, ``pad_token``, or its id, ``pad_token_id``)
    set to anything but its fixed token or id, with a `ValueError` saying why: `transformers`
    would record it, and ``pad_token_id`` would name an id that batches are not padded with.

    >>> check_fixed_special("pad_token", "<pad>")
    >>> check_fixed_special("pad_token_id", 2)
    Traceback (most recent call last):
    ...
    ValueError: AbcTokenizer's pad_token is fixed, '<pad>' (id 0), not 2: ...
    """
    role = name.removesuffix("_id")
    token, token_id = FIXED_SPECIALS[role]
    fixed = token_id if name.endswith("_id") else token
    given = value if name.endswith("_id") or value is None else str(value)
    if given != fixed:
        raise ValueError(
            f"AbcTokenizer's {role} is fixed, {token!r} (id {token_id}), not {given!r}: the "
            "tokenizer pads rows with <pad> and frames each tune with <start> and <end> itself, so "
            f"{role}_id must say the id it writes (the model config and collators read it){hint}"
        )


# to mypy this class is the `PreTrainedTokenizer` it is mixed into, so that its ``super()`` calls
# and overrides are checked against transformers'; at run time it is a plain mixin
if TYPE_CHECKING:
    from transformers import PreTrainedTokenizer as _Base
else:
    _Base = object

__all__ = [
    "VOCAB_FILE",
    "SlowTokenizerInterface",
]

#: The name of the saved vocabulary (``vocab_files_names`` of `AbcTokenizer`).
VOCAB_FILE = "abc_vocab.json"


class SlowTokenizerInterface(_Base):
    """The `PreTrainedTokenizer` methods of `AbcTokenizer` on the ``main`` feature (it
    subclasses this before `PreTrainedTokenizer`, so ``super()`` here is transformers').

    `AbcTokenizer` supplies ``abc_vocab`` and the transformers state (``truncation_side``...).
    """

    abc_vocab: AbcVocab

    def __setattr__(self, key: str, value: Any) -> None:
        """``tok.pad_token = ...`` (and ``bos``/``eos``/``unk``, tokens or ids) only to the fixed
        specials (`check_fixed_special`); any other attribute as usual."""
        if key.removesuffix("_id") in FIXED_SPECIALS:
            check_fixed_special(key, value)
        super().__setattr__(key, value)

    @property
    def vocab_size(self) -> int:
        """How many ``main`` tokens the vocabulary holds."""
        return len(self.abc_vocab.values["main"])

    def get_vocab(self) -> dict[str, int]:
        """The ``main`` tokens and their ids."""
        return dict(self.abc_vocab.index["main"])

    # transformers' own slow tokenizer (`PythonBackend`) drops the base's ``pair`` arguments too
    def tokenize(self, text: str, **kwargs: Any) -> list[str]:  # type: ignore[override]
        """Main tokens of one ABC tune (normalised), without ``<start>``/``<end>``: the text is
        read whole, with ``split_special_tokens`` always true. `transformers` would first split
        it on the special tokens' strings, so a tune with ``<start>`` or ``<unk>`` in its ``T:``
        title was read in pieces ("tune has no notes"); a tune's text holds no special tokens.
        """
        kwargs.pop("split_special_tokens", None)
        return super().tokenize(text, split_special_tokens=True, **kwargs)

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        """Main tokens of one ABC tune (normalised), without ``<start>``/``<end>``."""
        _, tune = read_tune(text)
        return [
            row[0] for row in tune_to_rows(tune.tokens, HeaderInfo.from_tune(tune)).token_rows[1:-1]
        ]

    def _convert_token_to_id(self, token: str) -> int:
        return self.abc_vocab.id("main", token)

    def _convert_id_to_token(self, index: int) -> str:
        return self.abc_vocab.token("main", index)

    def add_tokens(self, new_tokens: Any, special_tokens: bool = False) -> int:
        """Refused for ordinary tokens: they would get ids past the model's ``main`` table and
        never come out of ``tok(abc)``; special tokens go to `transformers` as usual."""
        if new_tokens and not special_tokens:
            raise NotImplementedError(
                "AbcTokenizer's tokens are what its ABC reader makes (notes, rests, bar lines...), "
                "counted from a corpus by AbcTokenizer.train; words cannot be added"
            )
        return super().add_tokens(new_tokens, special_tokens=special_tokens)

    def add_special_tokens(
        self, special_tokens_dict: dict[str, Any], replace_extra_special_tokens: bool = True
    ) -> int:
        """Only the specials the vocabulary has (``<pad>``, ``<start>``, ``<end>``, ``<unk>``):
        a new one would get an id past the model's ``main`` table, and padding, starts and ends
        are written by the tokenizer itself, so it would never be used."""
        vocab = self.get_vocab()
        for role, value in special_tokens_dict.items():
            for token in [value] if isinstance(value, (str, AddedToken)) else list(value):
                if str(token) not in vocab:
                    raise NotImplementedError(
                        f"AbcTokenizer cannot add the special token {str(token)!r} ({role}): its "
                        "specials are fixed (<pad> 0, <start>, <end>, <unk>) and each row's "
                        "features are made by its ABC reader"
                    )
        return super().add_special_tokens(special_tokens_dict, replace_extra_special_tokens)

    # also tensors and feature rows, which transformers' overloads (int, list[int]) do not name
    def convert_ids_to_tokens(  # type: ignore[override]
        self, ids: int | list[int] | Any, skip_special_tokens: bool = False
    ) -> str | list[str]:
        """``main`` tokens of ids: an int, a list, a tensor or array of ``main`` ids, or feature
        rows ``(n, 20)`` as ``tok(abc)["input_ids"][0]`` gives (their ``main`` column). A batch
        (``tok(abcs)["input_ids"]``, ``(batch, n, 20)``) is a `ValueError`: convert each tune.

        >>> from tokenization.tokenization_abc import AbcTokenizer
        >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFA|"])
        >>> tok.convert_ids_to_tokens(tok("X:1\\nK:D\\nDFA|")["input_ids"][0][:3])
        ['<start>', 'pitch60', 'pitch64']
        """
        nested = isinstance(ids, list) and any(isinstance(i, (list, tuple)) for i in ids)
        if not isinstance(ids, (int, list)) or nested:
            ids = main_ids(ids)
        return super().convert_ids_to_tokens(ids, skip_special_tokens)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """The tokens joined by spaces (`decode` writes ABC; this is for reading them)."""
        return " ".join(tokens)

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """``<start>``, the ids, ``<end>``; a `ValueError` for a pair (one tune at a time)."""
        if token_ids_1 is not None:
            raise ValueError("AbcTokenizer encodes one tune at a time; pairs are not supported")
        return [START_ID] + token_ids_0 + [END_ID]

    def get_special_tokens_mask(
        self,
        token_ids_0: list[int],
        token_ids_1: list[int] | None = None,
        already_has_special_tokens: bool = False,
    ) -> list[int]:
        """1 for each special id, 0 for each token: ``<start>`` and ``<end>`` around
        ``token_ids_0``, as `build_inputs_with_special_tokens` adds them
        (``prepare_for_model(ids, return_special_tokens_mask=True)``); with
        ``already_has_special_tokens=True``, the specials among ``token_ids_0``, as in
        `transformers`.

        >>> from tokenization.tokenization_abc import AbcTokenizer
        >>> AbcTokenizer().get_special_tokens_mask([23, 25])
        [1, 0, 0, 1]
        """
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, True)
        if token_ids_1 is not None:
            raise ValueError("AbcTokenizer encodes one tune at a time; pairs are not supported")
        return [1] + [0] * len(token_ids_0) + [1]

    # transformers' arguments past ``max_length`` (``stride``...) come through ``**kwargs``
    def prepare_for_model(  # type: ignore[override]
        self,
        ids: list[int],
        pair_ids: list[int] | None = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = False,
        max_length: int | None = None,
        **kwargs: Any,
    ) -> BatchEncoding:
        """`PreTrainedTokenizer.prepare_for_model` (the last step of `encode`), truncating as
        ``__call__`` does: a tune keeps its first ``max_length`` rows, from ``<start>``, and a
        cut tune gets no ``<end>``. `transformers` cut the tokens, then added ``<end>``: a tune
        that ends where it does not, one token shorter than ``tok(abc, max_length=n)``'s.

        >>> from tokenization.tokenization_abc import AbcTokenizer
        >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFAd|"])
        >>> tok.convert_ids_to_tokens(tok.encode("X:1\\nK:D\\nDFAd|", max_length=4))
        ['<start>', 'pitch60', 'pitch64', 'pitch67']
        """
        if pair_ids is not None:
            raise ValueError("AbcTokenizer encodes one tune at a time; pairs are not supported")
        check_truncation(truncation)  # "only_second" cut the tune, as if it were the first text
        pad_strategy, strategy, limit, _ = self._get_padding_truncation_strategies(
            padding=padding, truncation=truncation, max_length=max_length, verbose=False
        )
        rows = self.build_inputs_with_special_tokens(list(ids)) if add_special_tokens else ids
        if strategy == "do_not_truncate" or limit is None or len(rows) <= limit:
            return super().prepare_for_model(
                ids,
                None,
                add_special_tokens,
                padding,
                truncation,  # type: ignore[arg-type]  # transformers reads None as not given
                max_length,
                **kwargs,
            )
        check_truncation_side(self.truncation_side)
        # the kept rows as they are (specials included), then tensors: <start> is marked below
        return_tensors = kwargs.pop("return_tensors", None)
        batch_axis = kwargs.pop("prepend_batch_axis", False)
        pad_to = limit if pad_strategy == "max_length" else None
        out = super().prepare_for_model(
            list(rows[:limit]), None, False, padding, "do_not_truncate", pad_to, **kwargs
        )
        if add_special_tokens and "special_tokens_mask" in out:
            out["special_tokens_mask"][0] = 1  # <start>
        return BatchEncoding(dict(out), tensor_type=return_tensors, prepend_batch_axis=batch_axis)

    # transformers returns ``pair_ids`` as given, None too, though it annotates list[int]
    def truncate_sequences(  # type: ignore[override]
        self,
        ids: list[int],
        pair_ids: list[int] | None = None,
        num_tokens_to_remove: int = 0,
        truncation_strategy: Any = "longest_first",
        stride: int = 0,
    ) -> tuple[list[int], list[int] | None, list[int]]:
        """`PreTrainedTokenizer.truncate_sequences` (of `encode` and `prepare_for_model`),
        refusing ``truncation_side="left"`` as ``__call__`` does: both keep a tune's first rows."""
        check_truncation_side(self.truncation_side)
        return super().truncate_sequences(
            ids, pair_ids, num_tokens_to_remove, truncation_strategy, stride
        )

    def save_vocabulary(
        self, save_directory: str, filename_prefix: str | None = None
    ) -> tuple[str]:
        """Write the vocabulary file into ``save_directory``; its path, alone in a tuple."""
        name = (filename_prefix + "-" if filename_prefix else "") + VOCAB_FILE
        path = os.path.join(save_directory, name)
        self.abc_vocab.save(path)
        return (path,)
