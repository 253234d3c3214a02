"""`AbcTokenizer`: ABC text to MeasureNote feature rows and back, a `PreTrainedTokenizer`.

Its steps are functions of sibling modules, saved with it as remote code (relative imports):
`encoded_tune` (ABC to rows), `row_decoding` (rows to ABC) and `collation` (batches).
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

from transformers import AddedToken, BatchEncoding, PreTrainedTokenizer
from transformers.utils import logging

from .abc_parser import AbcParseError, AbcTune, Token
from .collation import AbcDataCollator, collate, holds_feature_rows, tensor_kind, unpadded_tunes
from .encoded_tune import IGNORE_INDEX as IGNORE_INDEX  # re-exported: importable from here
from .encoded_tune import EncodedTune, encode_tune, read_tune
from .encoded_tune import make_labels as make_labels  # re-exported: importable from here
from .features import HeaderInfo, TuneRows, tune_to_rows
from .keys import Key, parse_key
from .row_decoding import (
    UnreadableRowsError,
    check_decode_options,
    decode_rows,
    main_ids,
    rows_to_tokens,
)
from .tokenizer_checks import (
    NO_LIMIT,
    batch_item,
    check_call_options,
    check_call_text,
    check_corpus_item,
    check_meter,
    check_not_a_table,
    check_other_keywords,
    check_padding_side,
    check_pretrained_name,
    check_train_keywords,
    check_truncation_side,
    no_tune_read,
    no_vocab_error,
)
from .vocabulary import END_ID, START_ID, AbcVocab

__all__ = ["AbcDataCollator", "AbcTokenizer", "EncodedTune", "UnreadableRowsError"]

logger = logging.get_logger(__name__)

VOCAB_FILE = "abc_vocab.json"


def upload_saved_folder(
    tokenizer: PreTrainedTokenizer,
    save_directory: str | os.PathLike,
    files_timestamps: dict[str, float],
    repo_id: str,
    commit_message: str | None = None,
    commit_description: str | None = None,
    private: bool | None = None,
    token: bool | str | None = None,
    revision: str | None = None,
    create_pr: bool = False,
    tags: list[str] | str | None = None,
) -> Any:
    """Upload the files that `tokenizer.save_pretrained` just wrote in ``save_directory`` (those
    new or changed since ``files_timestamps``) to the Hub repository ``repo_id``: the files of
    that save (``filename_prefix`` included), not those of a second save with defaults, which
    `push_to_hub` makes in a temporary folder. A folder without a README.md gets the Hub's (or
    a new) model card with ``tags``; one that has one keeps it. The tokenizer's twin of
    ``modeling_irish.measurenote_checks.upload_saved_folder`` (this file uploads without that
    package)."""
    from transformers.utils import hub  # the Hub client transformers' own upload uses

    repo_id = hub.hf_api().create_repo(repo_id, private=private, token=token, exist_ok=True).repo_id
    readme = os.path.join(save_directory, "README.md")
    if not os.path.exists(readme):
        tags = [tags] if isinstance(tags, str) else list(tags or [])
        hub.create_and_tag_model_card(repo_id, tags or None, token=token).save(readme)
    return tokenizer._upload_modified_files(
        save_directory,
        repo_id,
        files_timestamps,
        commit_message=commit_message,
        commit_description=commit_description,
        token=token,
        create_pr=create_pr,
        revision=revision,
    )


@functools.cache
def package_version() -> str:
    """Version of the installed ``modeling-irish`` that saves a tokenizer (``"unknown"`` where the
    code runs without the package, e.g. as remote code from the Hub)."""
    try:
        return importlib.metadata.version("modeling-irish")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


#: The arguments of `save_pretrained` that are the upload's (`push_to_hub`'s), not the save's
#: (as in ``modeling_irish.measurenote_checks``: this file uploads without that package).
HUB_UPLOAD_ARGUMENTS = (
    "commit_message",
    "commit_description",
    "private",
    "token",
    "revision",
    "create_pr",
    "tags",
)


class AbcTokenizer(PreTrainedTokenizer):
    """Tokenizer from ABC text to MeasureNote rows of 20 feature ids, and back to ABC.

    Each tune is read (`tokenization.abc_parser`), transposed onto the white keys of its mode
    (`tokenization.keys.normalise_tune`), and turned into rows ``<start>, tokens..., <end>``
    (`tokenization.features`). The transformers-facing "vocabulary" (``get_vocab``,
    ``convert_tokens_to_ids``) is the ``main`` feature; the full per-feature vocabulary is saved
    as ``abc_vocab.json``.

    Args:
        vocab_file (`str`, *optional*):
            Path of an ``abc_vocab.json``. When absent, a vocabulary with only the fixed base values
            is used (build a real one with `AbcTokenizer.train`).
        vocab (`AbcVocab`, *optional*):
            A vocabulary object (takes precedence over ``vocab_file``).

    ``tokenizer_config.json`` records the package version that saved it as
    ``modeling_irish_version``; a loaded tokenizer keeps it in ``saved_with_version`` (None for
    one built here).

    Example:
        >>> tok = AbcTokenizer.train(["X:1\\nT:t\\nM:2/4\\nL:1/8\\nK:D\\nDFAd|f2d2|]"])
        >>> enc = tok("X:1\\nT:t\\nM:2/4\\nL:1/8\\nK:D\\nDFAd|f2d2|]")
        >>> enc["input_ids"].shape, enc["labels"].shape
        (torch.Size([1, 10, 20]), torch.Size([1, 10, 2]))
        >>> print(tok.decode(enc["input_ids"][0], key="D", title="t").splitlines()[-1])
        DF Ad | f2 d2 |]
    """

    vocab_files_names = {"vocab_file": VOCAB_FILE}
    model_input_names = ["input_ids", "measure_numbers", "attention_mask"]

    def __init__(self, vocab_file: str | None = None, vocab: AbcVocab | None = None, **kwargs):
        # refused here, not at every call: a saved folder would record it (tokenizer_config.json)
        check_padding_side(
            kwargs.get("padding_side", "right"),
            "; give padding_side='right' (or leave it out), also to load a folder saved with it",
        )
        check_truncation_side(
            kwargs.get("truncation_side", "right"),
            "; give truncation_side='right' (or leave it out), also to load a folder saved with it",
        )
        # The vocabulary must exist before PreTrainedTokenizer.__init__ (STYLE.md).
        if vocab is None:
            if vocab_file is not None:
                vocab = AbcVocab.load(vocab_file)
            else:
                vocab = AbcVocab.from_values({})
        self.abc_vocab = vocab
        self.vocab_file = vocab_file
        self.saved_with_version = kwargs.pop("modeling_irish_version", None)
        kwargs["modeling_irish_version"] = package_version()  # written by save_pretrained
        for name, token in (
            ("pad", "<pad>"),
            ("bos", "<start>"),
            ("eos", "<end>"),
            ("unk", "<unk>"),
        ):
            kwargs.setdefault(f"{name}_token", token)
        super().__init__(**kwargs)

    # ----- construction --------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: Any, *args: Any, **kwargs: Any
    ) -> AbcTokenizer:
        """`PreTrainedTokenizer.from_pretrained`, refusing a folder without ``abc_vocab.json``
        (transformers would otherwise build a tokenizer with an empty vocabulary), and a path
        that does not exist here and cannot be a Hub repository id (``owner/name``), or was not
        found on the Hub (or in its cache, offline), by what it is not: transformers would
        blame a folder that does not exist."""
        name = os.fspath(pretrained_model_name_or_path)
        here = check_pretrained_name(name)
        tokenizer = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        if tokenizer.vocab_file is None:
            raise no_vocab_error(name, here, VOCAB_FILE, bool(kwargs.get("local_files_only")))
        return tokenizer

    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        legacy_format: bool | None = None,
        filename_prefix: str | None = None,
        push_to_hub: bool = False,
        **kwargs: Any,
    ) -> tuple[str, ...]:
        """`PreTrainedTokenizer.save_pretrained`, but with ``push_to_hub=True`` the folder is
        saved first, then what the save wrote is uploaded (`upload_saved_folder`, with
        ``repo_id`` and the upload's arguments in `HUB_UPLOAD_ARGUMENTS`): the base method
        creates the Hub repository before it writes anything, so a failed upload (no network)
        left the folder empty."""
        repo_id = kwargs.pop("repo_id", None) or os.path.basename(os.path.normpath(save_directory))
        upload = {name: kwargs.pop(name) for name in HUB_UPLOAD_ARGUMENTS if name in kwargs}
        before = {}
        if push_to_hub and os.path.isdir(save_directory):
            before = self._get_files_timestamps(save_directory)
        files = super().save_pretrained(save_directory, legacy_format, filename_prefix, **kwargs)
        if push_to_hub:
            upload_saved_folder(self, save_directory, before, repo_id, **upload)
        return files

    @classmethod
    def train(cls, abc_texts: Iterable[str], **kwargs: Any) -> AbcTokenizer:
        """Build the vocabulary from ABC tunes (one tune per string, e.g. a list or a dataset
        column); ``kwargs`` go to the constructor: `PreTrainedTokenizer`'s keywords
        (``model_max_length``, ``padding_side``, special tokens...); any other is a `TypeError`
        naming it (``min_frequency``, ``vocab_size``: the vocabulary holds every value of the
        corpus), rather than saved in ``tokenizer_config.json`` without effect.

        A single string is a `TypeError` (its characters would be read as tunes), and so is a
        table, a dict (a `datasets` batch, ``ds[:300]``) or a `datasets.Dataset` (its column
        names or rows would be): give its ABC column, ``ds["abc"]``. Tunes the
        reader cannot read (`AbcParseError`) are left out, and how many, with the first reason,
        is logged at WARNING; when no tune at all can be read it is a `ValueError` naming the
        first error (the vocabulary would hold only the fixed base values). An item that is not
        a string (None: a missing cell of a dataset column) is not a tune at all: a `TypeError`
        naming it, as ``tok([...])`` gives.
        """
        if isinstance(abc_texts, (str, bytes)):
            raise TypeError(
                f"AbcTokenizer.train takes ABC tunes, one string a tune (e.g. a list), not one "
                f"{type(abc_texts).__name__}: its characters would be read as tunes"
            )
        check_not_a_table(abc_texts, "AbcTokenizer.train")
        check_train_keywords(kwargs)
        read, unreadable = 0, []  # unreadable: (index, error) of each tune left out

        def rows() -> Iterable[TuneRows]:
            nonlocal read
            for n, text in enumerate(abc_texts):
                check_corpus_item(text, n)
                try:
                    _, tune = read_tune(text)
                except AbcParseError as err:
                    unreadable.append((n, err))
                    continue
                read += 1
                yield tune_to_rows(tune.tokens, HeaderInfo.from_tune(tune))

        vocab = AbcVocab.build(rows())
        if not read:
            raise ValueError(no_tune_read(unreadable))
        if unreadable:
            n, err = unreadable[0]
            logger.warning(
                "AbcTokenizer.train: %d of %d tunes could not be read and were left out of the "
                "vocabulary (the first, tune %d (index %d): %s)",
                len(unreadable),
                read + len(unreadable),
                n + 1,
                n,
                err,
            )
        return cls(vocab=vocab, **kwargs)

    # ----- the transformers slow-tokenizer interface (on the main feature) -------------------
    @property
    def vocab_size(self) -> int:
        return len(self.abc_vocab.values["main"])

    def get_vocab(self) -> dict[str, int]:
        return dict(self.abc_vocab.index["main"])

    def tokenize(self, text: str, **kwargs: Any) -> list[str]:
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

    def convert_ids_to_tokens(
        self, ids: int | list[int] | Any, skip_special_tokens: bool = False
    ) -> str | list[str]:
        """``main`` tokens of ids: an int, a list, a tensor or array of ``main`` ids, or feature
        rows ``(n, 20)`` as ``tok(abc)["input_ids"][0]`` gives (their ``main`` column). A batch
        (``tok(abcs)["input_ids"]``, ``(batch, n, 20)``) is a `ValueError`: convert each tune.

        >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFA|"])
        >>> tok.convert_ids_to_tokens(tok("X:1\\nK:D\\nDFA|")["input_ids"][0][:3])
        ['<start>', 'pitch60', 'pitch64']
        """
        nested = isinstance(ids, list) and any(isinstance(i, (list, tuple)) for i in ids)
        if not isinstance(ids, (int, list)) or nested:
            ids = main_ids(ids)
        return super().convert_ids_to_tokens(ids, skip_special_tokens)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return " ".join(tokens)

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
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

        >>> AbcTokenizer().get_special_tokens_mask([23, 25])
        [1, 0, 0, 1]
        """
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, True)
        if token_ids_1 is not None:
            raise ValueError("AbcTokenizer encodes one tune at a time; pairs are not supported")
        return [1] + [0] * len(token_ids_0) + [1]

    def prepare_for_model(
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

        >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFAd|"])
        >>> tok.convert_ids_to_tokens(tok.encode("X:1\\nK:D\\nDFAd|", max_length=4))
        ['<start>', 'pitch60', 'pitch64', 'pitch67']
        """
        if pair_ids is not None:
            raise ValueError("AbcTokenizer encodes one tune at a time; pairs are not supported")
        pad_strategy, strategy, limit, _ = self._get_padding_truncation_strategies(
            padding=padding, truncation=truncation, max_length=max_length, verbose=False
        )
        rows = self.build_inputs_with_special_tokens(list(ids)) if add_special_tokens else ids
        if strategy == "do_not_truncate" or limit is None or len(rows) <= limit:
            return super().prepare_for_model(
                ids, None, add_special_tokens, padding, truncation, max_length, **kwargs
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

    def truncate_sequences(
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
        name = (filename_prefix + "-" if filename_prefix else "") + VOCAB_FILE
        path = os.path.join(save_directory, name)
        self.abc_vocab.save(path)
        return (path,)

    def __eq__(self, other: object) -> bool:
        # by name (see AbcVocab.__eq__): the remote-code copy of this class compares equal too
        vocab = getattr(other, "abc_vocab", None)
        return (
            type(other).__name__ == "AbcTokenizer" and vocab is not None and self.abc_vocab == vocab
        )

    __hash__ = None  # mutable, compared by vocabulary

    # ----- ABC -> rows -----------------------------------------------------------------------
    def encode_tune(self, text: str, *, rhythm: str | None = None) -> EncodedTune:
        """Read one ABC tune into feature ids (raises `AbcParseError` on bad input)."""
        return encode_tune(self.abc_vocab, text, rhythm)

    def __call__(
        self,
        text: str | Sequence[str],
        text_pair: str | Sequence[str] | None = None,
        *,
        return_tensors: str | None = "pt",
        max_length: int | None = None,
        padding: bool | str = True,
        truncation: bool | str | None = None,
        return_attention_mask: bool | None = None,
        add_special_tokens: bool = True,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_length: bool = False,
        verbose: bool = True,
        **kwargs: Any,
    ) -> BatchEncoding:
        """Encode one ABC tune or a batch; returns padded ``input_ids (batch, seq, 20)``,
        ``measure_numbers``, ``attention_mask`` and ``labels (batch, seq, 2)``.

        ``return_tensors``: ``"pt"`` (torch tensors, the default), ``"np"`` (numpy arrays) or
        None (lists). ``max_length`` truncates each tune to its first rows (``truncation=True``
        is implied, unlike `transformers`, where ``max_length`` alone does not truncate).
        Padding is always on the right, to the longest tune (MeasureNote's GRUs read every tune
        from its first row: ``padding_side="left"`` is refused, and so is
        ``truncation_side="left"``, here, by `encode` and when the tokenizer is made);
        ``padding="max_length"`` pads to ``max_length`` instead, and ``pad_to_multiple_of`` rounds
        the padded length up (with ``padding=False`` nothing is padded, so it is ignored, as in
        `transformers`). Without ``max_length``,
        ``truncation=True`` and ``padding="max_length"`` use ``model_max_length`` when one is set
        (``from_pretrained(..., model_max_length=512)``), as in `transformers`; with
        ``truncation=False`` too, tunes are padded to it and not truncated (one longer than it is
        a `ValueError`). The other
        `transformers` keywords are accepted where they describe what this tokenizer does
        (``padding=True``, ``truncation=True``, ``return_attention_mask=True``,
        ``add_special_tokens=True``, ``padding_side="right"``, ``text_pair=None``,
        ``is_split_into_words=False``, ``return_token_type_ids=False``, ``verbose``) and refused,
        with the reason, where they do not (a `ValueError`: ``text_pair``, ``text_target``,
        ``is_split_into_words=True``, ``return_token_type_ids=True``, ``stride``,
        ``return_overflowing_tokens``, ``return_special_tokens_mask``, ``return_offsets_mapping``).
        ``return_length=True`` adds ``length``: each tune's number of rows, after truncation and
        before padding.

        What the ABC reader left out or changed in a tune (lines after a blank line, which ends
        a tune; a dropped voice or tie; ...: ``encode_tune(abc).tune.warnings``) is logged at
        WARNING by this module's logger (``tokenization.tokenization_abc``), one line per tune
        naming its batch item; ``verbose=False`` silences it, as does that logger's level.
        `encode_tune` (which `tokenization.dataset.tokenize_dataset` uses, counting per
        corpus) logs nothing.

        >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFA|"])
        >>> tok(["X:1\\nK:D\\nDFA|", "X:2\\nK:D\\nD|"], padding=True)["attention_mask"].tolist()
        [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]]
        """
        check_other_keywords({"text_pair": text_pair, **kwargs})
        if return_tensors not in ("pt", "np", None):
            raise ValueError(f"return_tensors must be 'pt', 'np' or None, got {return_tensors!r}")
        wants_limit = truncation in (True, "longest_first", "only_first") or padding == "max_length"
        cut = max_length  # a max_length given truncates (documented above)
        if max_length is None and wants_limit and self.model_max_length < NO_LIMIT:
            max_length = int(self.model_max_length)  # pads to it, and truncates unless told not
            cut = None if truncation in (False, "do_not_truncate") else max_length
        check_call_options(
            max_length, padding, truncation, return_attention_mask, truncates=cut is not None
        )
        if not add_special_tokens:
            raise ValueError(
                "add_special_tokens=False: every tune's rows start with <start> and end with <end>"
                " (the model reads its header from the <start> row)"
            )
        check_padding_side(padding_side or self.padding_side)
        check_truncation_side(self.truncation_side)
        check_call_text(text)
        batch = not isinstance(text, str)
        texts = list(text) if batch else [text]
        if not texts:
            raise ValueError("AbcTokenizer got no tunes to encode (an empty list)")
        features = []
        for n, item in enumerate(texts):
            if not isinstance(item, str):
                raise TypeError(
                    f"AbcTokenizer encodes ABC text, one string a tune; {batch_item(n)} is a "
                    f"{type(item).__name__}"
                )
            try:
                enc = self.encode_tune(item)
            except AbcParseError as err:
                if not batch:
                    raise
                raise AbcParseError(
                    f"{err.message} ({batch_item(n)})",
                    tune=err.tune,
                    line=err.line,
                    column=err.column,
                    internal=err.internal,
                ) from err
            if verbose and enc.tune.warnings:
                _warn_reader_warnings(enc.tune, n if batch else None)
            features.append(
                {
                    "input_ids": enc.input_ids[:cut],
                    "measure_numbers": enc.measure_numbers[:cut],
                }
            )
        return collate(
            features, padding, max_length, pad_to_multiple_of, return_tensors, return_length
        )

    def pad(
        self,
        encoded_inputs: Any,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Pad encoded tunes (dicts with ``input_ids`` ``(n, 20)`` and ``measure_numbers``, or one
        dict of such lists) into a batch, as `AbcDataCollator` does, with ``labels``.

        So `transformers.DataCollatorWithPadding(tokenizer)`, and `Trainer`'s default collator
        with ``processing_class=tokenizer``, batch a tokenized dataset. An ``attention_mask`` in
        a feature marks rows padded earlier, which are dropped first; given ``labels`` are
        recomputed from the rows. ``return_tensors`` as in ``__call__``; None, as in
        `transformers`, gives what the features hold: tensors for torch tensors (``tok(tune)``'s
        outputs), arrays for numpy arrays, else lists. ``padding="max_length"`` without
        ``max_length`` pads to ``model_max_length`` when one is set, as ``__call__`` does.
        Encodings without ``measure_numbers`` are the main-token view (``encode``,
        ``convert_tokens_to_ids``) and are padded by `transformers` as usual.

        >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFA|"])
        >>> tunes = ["X:1\\nK:D\\nDFA|", "X:2\\nK:D\\nD|"]
        >>> rows = [{k: v[0] for k, v in tok(t).items()} for t in tunes]
        >>> tok.pad(rows, return_tensors="pt")["input_ids"].shape
        torch.Size([2, 6, 20])
        """
        if isinstance(encoded_inputs, (list, tuple)) and not encoded_inputs:
            # transformers' own pad fails on [] with an AttributeError ('list' has no 'keys')
            raise ValueError("AbcTokenizer.pad got no encoded tunes (an empty list)")
        if not holds_feature_rows(encoded_inputs):
            return super().pad(
                encoded_inputs,
                padding=padding,
                max_length=max_length,
                pad_to_multiple_of=pad_to_multiple_of,
                padding_side=padding_side,
                return_attention_mask=return_attention_mask,
                return_tensors=return_tensors,
                verbose=verbose,
            )
        if return_tensors not in ("pt", "np", None):
            raise ValueError(f"return_tensors must be 'pt', 'np' or None, got {return_tensors!r}")
        if return_tensors is None:  # as transformers: tensors in, tensors of that kind out
            return_tensors = tensor_kind(encoded_inputs)
        if max_length is None and padding == "max_length" and self.model_max_length < NO_LIMIT:
            max_length = int(self.model_max_length)  # as __call__ (and transformers) do
        check_call_options(max_length, padding, None, return_attention_mask, truncates=False)
        check_padding_side(padding_side or self.padding_side)
        features = unpadded_tunes(encoded_inputs)
        return collate(features, padding, max_length, pad_to_multiple_of, return_tensors)

    # ----- rows -> ABC -----------------------------------------------------------------------
    def ids_to_tokens(self, input_ids: Any) -> list[Token]:
        """Parser tokens (in the normalised key) of a tune's feature rows; ``<pad>``,
        ``<start>`` and ``<end>`` rows are skipped. A row whose ``main`` is ``<unk>`` (a bar
        line, ending, tuplet or note this vocabulary never had) is an `UnreadableRowsError`:
        skipping it would merge bars or drop a tuplet's timing without a word."""
        return rows_to_tokens(self.abc_vocab, input_ids)

    def decode(
        self,
        token_ids: Any,
        *,
        key: str | Key | None = None,
        title: str = "",
        x: int = 1,
        register: str = "inverse",
        meter: str | None = None,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> str:
        """ABC text of one tune's rows: headers X, T, R, M, L, K and the body.

        Args:
            token_ids: ``(n_rows, 20)`` integer ids (tensor, array or nested list).
            key: the real key to write in (e.g. ``"D"``, ``"E dorian"``, or a `Key`); its mode
                must be the tune's. Defaults to the normalised white key, which must be in this
                tokenizer's vocabulary (a mode its training corpus never had is ``<unk>`` in the
                rows: then the tune is written in the ``key`` given, and refused without one).
            title: the ``T:`` field.
            x: the ``X:`` number.
            register: ``"inverse"`` (default) undoes the normalisation exactly, so the written
                tune reads back to the same rows; ``"auto"`` picks the octave that centres the
                tune on the usual playing register (for generated tunes).
            meter: the ``M:`` to write; by default the rows' own, which must be in this
                tokenizer's vocabulary (a meter its training corpus never had is ``<unk>`` in
                the rows, and is refused rather than written as ``M:<unk>``). A value the reader
                cannot read in ``M:`` (``"banana"``, ``"0/8"``) is a `ValueError`.
            skip_special_tokens, clean_up_tokenization_spaces: the `transformers` keywords,
                accepted and without effect: the ABC is written by `abc_writer`, not joined from
                token strings. Any other keyword is a `TypeError`, as Python's own, and so is
                an argument of another type (``key=5``, ``x=None``, float ids).

        ``<pad>``, ``<start>`` and ``<end>`` rows frame the tune and are never written, whatever
        ``skip_special_tokens`` says. A row whose ``main`` is ``<unk>`` (a bar line, ending,
        tuplet or note the vocabulary never had) is refused, `UnreadableRowsError`, with
        ``skip_special_tokens=True`` too: leaving it out would merge bars or lose a tuplet's
        timing without a word (generation never samples ``<unk>``).
        """
        return decode_rows(
            self.abc_vocab, token_ids, key=key, title=title, x=x, register=register, meter=meter
        )

    def batch_decode(self, sequences: Any, **kwargs: Any) -> list[str]:
        """`decode` of each tune of a batch (``tok(abcs)["input_ids"]``, or a list of tunes'
        rows), with the same keywords. An error that one tune's rows cause names that tune, as
        the errors of ``__call__`` do, and keeps its type (``ValueError``,
        `UnreadableRowsError`); a ``key`` or ``register`` that no tune could be written with is
        refused before the first, without naming one, as is a keyword `decode` does not take
        (a `TypeError`)."""
        try:  # `decode`'s own check would come only at the first tune, and never for none
            inspect.signature(self.decode).bind(None, **kwargs)
        except TypeError as err:
            raise TypeError(f"AbcTokenizer.batch_decode() {err}") from None
        if kwargs.get("register", "inverse") not in ("inverse", "auto"):
            raise ValueError(f"register must be 'inverse' or 'auto', got {kwargs['register']!r}")
        check_decode_options(kwargs.get("key"), kwargs.get("title", ""), kwargs.get("x", 1))
        if isinstance(kwargs.get("key"), str):
            kwargs["key"] = parse_key(kwargs["key"])
        check_meter(kwargs.get("meter"))
        texts = []
        for n, seq in enumerate(sequences):
            try:
                texts.append(self.decode(seq, **kwargs))
            except ValueError as err:
                raise type(err)(f"{err} ({batch_item(n)})") from err
        return texts

    def to_json(self) -> str:
        """The vocabulary as JSON text."""
        return json.dumps(self.abc_vocab.to_dict())


def _warn_reader_warnings(tune: AbcTune, n: int | None) -> None:
    """Log, at WARNING, what the ABC reader left out or changed in one tune of ``__call__``
    (``n``: its 0-based index in the batch, None for a single string), so that music lost
    (e.g. a part after a blank line) is not lost without a word."""
    where = batch_item(n) if n is not None else "the tune"
    if tune.title:
        where += f" {tune.title!r}"
    logger.warning(
        "AbcTokenizer: %s was not read exactly as written: %s (verbose=False silences this)",
        where,
        "; ".join(tune.warnings),
    )


AbcTokenizer.register_for_auto_class("AutoTokenizer")
