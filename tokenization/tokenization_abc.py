"""`AbcTokenizer`: ABC text to MeasureNote feature rows and back, a `PreTrainedTokenizer`.

Its steps are functions of sibling modules, saved with it as remote code (relative imports):
`encoded_tune` (ABC to rows), `row_decoding` (rows to ABC, and the decoding methods) and
`collation` (batches); `tokenizer_interface` holds the transformers slow-tokenizer methods on
the ``main`` feature, and `tokenizer_hub` the package version and the upload of a save.
"""

from __future__ import annotations

# first: on transformers 4 this raises one clear line before the imports below fail
from .transformers_version import REQUIRED_TRANSFORMERS  # noqa: F401

# isort: split
import json
import logging
import os
from collections.abc import Iterable, Sequence, Sized
from typing import Any

from tqdm.auto import tqdm
from transformers import BatchEncoding, PreTrainedTokenizer

from .abc_parser import AbcParseError, AbcTune
from .abc_tunebook import x_number
from .capped_warnings import CappedWarnings, counted, masked
from .collation import (
    AbcDataCollator,
    collate,
    holds_feature_rows,
    is_one_tune,
    tensor_kind,
    unbatched,
    unpadded_tunes,
)
from .encoded_tune import IGNORE_INDEX as IGNORE_INDEX  # re-exported: importable from here
from .encoded_tune import EncodedTune, encode_tune, read_tune
from .encoded_tune import make_labels as make_labels  # re-exported: importable from here
from .features import HeaderInfo, TuneRows, tune_to_rows
from .hub_errors import upload_errors
from .hub_repo_ids import upload_repo_id
from .row_decoding import (
    RowsToAbc,
    UnreadableRowsError,
)
from .tokenizer_checks import (
    NO_LIMIT,
    batch_item,
    check_call_options,
    check_call_text,
    check_corpus_item,
    check_not_a_table,
    check_other_keywords,
    check_pad_input,
    check_padding_side,
    check_pretrained_name,
    check_train_keywords,
    check_truncation_side,
    no_tune_read,
    no_vocab_error,
    tune_label,
)
from .tokenizer_hub import HUB_UPLOAD_ARGUMENTS, package_version, upload_saved_folder
from .tokenizer_interface import (
    FIXED_SPECIALS,
    VOCAB_FILE,
    SlowTokenizerInterface,
    check_fixed_special,
)
from .vocabulary import AbcVocab

__all__ = [
    "AbcDataCollator",
    "AbcTokenizer",
    "EncodedTune",
    "UnreadableRowsError",
    "read_tune",
]

logger = logging.getLogger(__name__)  # a plain Logger, as CappedWarnings takes


# RowsToAbc's decode and batch_decode take their options by keyword only, and say so (a
# TypeError naming the keyword), where transformers' take skip_special_tokens by position
class AbcTokenizer(SlowTokenizerInterface, RowsToAbc, PreTrainedTokenizer):
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

    Where it differs from a `transformers` text tokenizer, on purpose (each documented where it
    happens): ``tok(abc)`` returns torch tensors padded to the longest tune by default
    (``return_tensors="pt"``, ``padding=True``), with ``measure_numbers`` and ``labels`` besides
    ``input_ids`` ``(batch, rows, 20)`` (one string with ``return_tensors=None`` gives its lists
    without the batch axis, ``(rows, 20)``, as in `transformers`); ``max_length`` alone truncates;
    ``padding_side``/``truncation_side="left"``, ``return_attention_mask=False``,
    ``add_special_tokens=False`` and text pairs are refused (`ValueError`, with the reason);
    ``decode`` takes feature rows, not the ``main`` ids of ``encode``/``tokenize``, and ignores
    ``skip_special_tokens`` (the frame rows are never written); ``len(tok)`` and ``vocab_size``
    count the ``main`` feature's values; ``add_tokens`` is refused, and so is a ``pad``,
    ``bos``, ``eos`` or ``unk`` token other than its fixed one (``tok.pad_token = tok.eos_token``).

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

    def __init__(
        self, vocab_file: str | None = None, vocab: AbcVocab | None = None, **kwargs: Any
    ) -> None:
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
        for loading in ("is_local", "local_files_only"):  # how from_pretrained found the folder:
            kwargs.pop(loading, None)  # saved again, a cached copy's config said it, a new one not
        self.saved_with_version = kwargs.pop("modeling_irish_version", None)
        kwargs["modeling_irish_version"] = package_version()  # written by save_pretrained
        for role, (token, _) in FIXED_SPECIALS.items():
            kwargs.setdefault(role, token)
            # transformers' __init__ stores these without __setattr__'s check
            check_fixed_special(
                role, kwargs[role], "; leave it out, also to load a folder saved with it"
            )
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
        left the folder empty. Returns the paths of the files it wrote (transformers' own also
        named an ``added_tokens.json`` it had not written). A ``save_directory`` that is a file
        is a `NotADirectoryError` (transformers logs an error and returns None)."""
        if os.path.isfile(save_directory):
            raise NotADirectoryError(
                f"{save_directory}: a file, not a folder; save_pretrained writes a folder of files"
            )
        repo_id = kwargs.pop("repo_id", None)
        if push_to_hub:  # before the save, which an id that is no Hub id failed only after
            repo_id = upload_repo_id(save_directory, repo_id)
        upload = {name: kwargs.pop(name) for name in HUB_UPLOAD_ARGUMENTS if name in kwargs}
        before = {}
        if push_to_hub and os.path.isdir(save_directory):
            before = self._get_files_timestamps(save_directory)
        files = super().save_pretrained(save_directory, legacy_format, filename_prefix, **kwargs)
        # transformers lists added_tokens.json, written only for tokens past the vocabulary
        # (never here: add_tokens is refused), among "the files saved"
        files = tuple(path for path in files if os.path.exists(path))
        if push_to_hub:
            upload_saved_folder(self, save_directory, before, repo_id, **upload)
        return files

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """`PreTrainedTokenizer.push_to_hub` (a save in a temporary folder, uploaded to
        ``repo_id``), but a failed upload (offline, no token, no network, a refusal of the Hub)
        is a `HubUploadError` that says why in one line, as ``save_pretrained(push_to_hub=True)``
        says it, rather than the Hub client's error."""
        with upload_errors(repo_id, kwargs.get("token"), "tokenizer"):
            return super().push_to_hub(repo_id, **kwargs)

    @classmethod
    def train(cls, abc_texts: Iterable[str], progress: bool = False, **kwargs: Any) -> AbcTokenizer:
        """Build the vocabulary from ABC tunes (one tune per string, e.g. a list or a dataset
        column); ``progress``: a "Building the vocabulary" bar over the tunes on stderr, on a
        terminal only (thesession's 18,000 training tunes take 10-15 s); ``kwargs`` go to the
        constructor: `PreTrainedTokenizer`'s keywords
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

        def rows(bar: tqdm) -> Iterable[TuneRows]:
            nonlocal read
            for n, text in enumerate(abc_texts):
                bar.update(1)
                check_corpus_item(text, n)
                try:
                    _, tune = read_tune(text)
                except AbcParseError as err:
                    unreadable.append((n, err))
                    continue
                read += 1
                yield tune_to_rows(tune.tokens, HeaderInfo.from_tune(tune))

        total = len(abc_texts) if isinstance(abc_texts, Sized) else None
        # on a terminal only (disable=None), as the project's other bars, and not at all unless
        # asked: a library call stays quiet
        disable = None if progress else True
        with tqdm(total=total, desc="Building the vocabulary", unit="tune", disable=disable) as bar:
            vocab = AbcVocab.build(rows(bar))
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
    def __eq__(self, other: object) -> bool:
        # by name (see AbcVocab.__eq__): the remote-code copy of this class compares equal too;
        # model_max_length too, the one saved setting that changes what tok(abc) gives (it pads
        # and truncates to it); the sides and specials are fixed, name_or_path says only where
        vocab = getattr(other, "abc_vocab", None)
        return (
            type(other).__name__ == "AbcTokenizer"
            and vocab is not None
            and self.abc_vocab == vocab
            and self.model_max_length == getattr(other, "model_max_length", None)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by vocabulary and config

    # ----- ABC -> rows -----------------------------------------------------------------------
    def encode_tune(self, text: str, *, rhythm: str | None = None) -> EncodedTune:
        """Read one ABC tune into feature ids (raises `AbcParseError` on bad input).

        >>> tok = AbcTokenizer.train(["X:1\\nK:D\\nDFA|"])
        >>> enc = tok.encode_tune("X:1\\nK:D\\nDFA&ABc|")  # what the reader let go is said
        >>> enc.input_ids.shape, enc.tune.warnings
        ((6, 20), ['voice overlay (&) read as its first voice (line 3)'])
        """
        return encode_tune(self.abc_vocab, text, rhythm)

    def __call__(
        self,
        text: str | Sequence[str] | None = None,
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
        None (lists). As in `transformers`, one string (not a list) with ``return_tensors=None``
        gives one tune's lists, without the batch axis: ``input_ids`` ``(seq, 20)``,
        ``measure_numbers`` and ``attention_mask`` ``(seq,)``, ``labels`` ``(seq, 2)`` and
        ``length`` an int (what ``ds.map(lambda ex: tok(ex["abc"], return_tensors=None))``
        stores, a tune a row, for a collator to pad); tensors keep a batch axis of 1.
        ``max_length`` truncates each tune to its first rows (``truncation=True`` is implied,
        unlike `transformers`, where ``max_length`` alone does not truncate).
        Padding is always on the right, to the longest tune (MeasureNote's GRUs read every tune
        from its first row: ``padding_side="left"`` is refused, and so is
        ``truncation_side="left"``, here, by `encode` and when the tokenizer is made);
        ``padding="max_length"`` pads to ``max_length`` instead, and ``pad_to_multiple_of`` rounds
        the padded length up (with ``padding=False`` nothing is padded, so it is ignored, as in
        `transformers`). ``padding=False`` (or ``"do_not_pad"``) with ``return_tensors=None``
        gives each tune's lists unpadded, as `transformers` does, for a collator to pad
        (``ds.map(lambda b: tok(b["abc"], padding=False, return_tensors=None), batched=True)``
        then `AbcDataCollator` or `DataCollatorWithPadding`); tensors of tunes of different
        lengths without padding are refused. Without ``max_length``,
        ``truncation=True`` and ``padding="max_length"`` use ``model_max_length`` when one is set
        (``from_pretrained(..., model_max_length=512)``), as in `transformers`; with
        ``truncation=False`` too, tunes are padded to it and not truncated (one longer than it is
        a `ValueError`); neither given, a tune longer than it is not cut, and the first such
        tune of the tokenizer's life is named in `transformers`' warning ("Token indices
        sequence length is longer than the specified maximum sequence length ...", once, as
        `encode` says it too). The other
        `transformers` keywords are accepted where they describe what this tokenizer does
        (``padding=True``, ``truncation=True`` or its one-text strategies ``"longest_first"``
        and ``"only_first"``, ``return_attention_mask=True``, ``add_special_tokens=True``,
        ``padding_side="right"``, ``text_pair=None``, ``is_split_into_words=False``,
        ``return_token_type_ids=False``, ``verbose``) and refused, with the reason, where they
        do not (a `ValueError`: ``text_pair``, ``text_target``, ``truncation="only_second"``,
        ``is_split_into_words=True``, ``return_token_type_ids=True``, ``stride``,
        ``return_overflowing_tokens``, ``return_special_tokens_mask``, ``return_offsets_mapping``).
        ``return_length=True`` adds ``length``: each tune's number of rows, after truncation and
        before padding, also with ``padding="max_length"`` (as `transformers`' Python tokenizers
        give it for a batch; its Rust-backed ones count the padding): the length a
        ``group_by_length`` sampler needs, which the ``attention_mask`` gives too.
        ``tok(text_target=abc)``, transformers' way to encode labels, is refused with the reason
        above (a `ValueError`), not Python's missing ``text``.

        What the ABC reader left out or changed in a tune (lines after a blank line, which ends
        a tune; a dropped voice or tie; ...: ``encode_tune(abc).tune.warnings``) is logged at
        WARNING by this module's logger (``tokenization.tokenization_abc``), one line per tune
        naming it by its ``X:`` number and title, then its batch item (a position within the
        call: in ``ds.map(..., batched=True)``, within the map's batch), for the first 5 tunes
        of a call (`CappedWarnings`: the others at DEBUG), then one line that counts them all
        by reason; a warning said for an earlier tune of the call is not said again (a
        tunebook's file-header ``I:MIDI transpose 2``, written into each of its tunes, is said
        once): a tune with no other is counted in one last line. A warning said by an earlier
        call of the same tokenizer (each batch of a ``ds.map`` is a call) is not said again
        either, as `transformers`' ``warning_once``: a tune with no other is named at DEBUG
        only, and one line says so the first time (`_ReaderWarnings`; a ``num_proc`` worker
        starts from what the tokenizer had said). ``verbose=False`` silences it all, as does
        that logger's level.
        `encode_tune` (which `tokenization.dataset.tokenize_dataset` uses, counting per
        corpus) logs nothing. A tune of a batch that cannot be read raises its `AbcParseError`
        naming the tune the same way (``X:`` number, title, batch item), its ``tune``,
        ``line`` and ``column`` as when read alone.

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
        assert text is not None  # check_call_text refused None, by name
        batch = not isinstance(text, str)
        texts = list(text) if not isinstance(text, str) else [text]
        if not texts:
            raise ValueError("AbcTokenizer got no tunes to encode (an empty list)")
        features = []
        # a batch of 1,000 tunes: the first few named; a warning said for an earlier tune (a
        # tunebook's file-header field, written into each of its tunes) not said again
        with CappedWarnings(logger) as said, CappedWarnings(logger, shown=0) as repeated:
            told = _ReaderWarnings(said, repeated, self.deprecation_warnings)
            for n, item in enumerate(texts):
                if not isinstance(item, str):
                    raise TypeError(
                        f"AbcTokenizer encodes ABC text, one string a tune; {batch_item(n)} is "
                        f"a {type(item).__name__}"
                    )
                try:
                    enc = self.encode_tune(item)
                except AbcParseError as err:
                    if not batch:
                        raise
                    raise AbcParseError(
                        f"{err.message} ({_unread_tune_name(item, err, n)})",
                        tune=err.tune,
                        line=err.line,
                        column=err.column,
                        internal=err.internal,
                    ) from err
                if verbose and enc.tune.warnings:
                    told.warn(enc.tune, n if batch else None)
                # a tune longer than model_max_length, not cut: transformers' warning, once (it
                # reads only the rows' len(): the array, not a list of ids, serves)
                self._eventual_warn_about_too_long_sequence(
                    enc.input_ids,  # type: ignore[arg-type]
                    max_length,
                    verbose,
                )
                features.append(
                    {
                        "input_ids": enc.input_ids[:cut],
                        "measure_numbers": enc.measure_numbers[:cut],
                    }
                )
            told.close()
        out = collate(
            features, padding, max_length, pad_to_multiple_of, return_tensors, return_length
        )
        # one string's lists without a batch axis, as transformers gives them; tensors keep it
        return out if batch or return_tensors is not None else unbatched(out)

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
        dict of such lists) into a batch, as `AbcDataCollator` does, with ``labels``. One dict of
        one tune (``tok(abc, return_tensors=None)``) comes back as one tune, without a batch
        axis, as `transformers`' ``pad`` of one text does.

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
        check_pad_input(encoded_inputs)  # not encodings: a TypeError naming what it got
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
        out = collate(features, padding, max_length, pad_to_multiple_of, return_tensors)
        # one tune's dict (no batch axis) comes back so, as transformers' pad of one text
        return unbatched(out) if is_one_tune(encoded_inputs) else out

    # ----- rows -> ABC -----------------------------------------------------------------------
    def to_json(self) -> str:
        """The vocabulary as JSON text."""
        return json.dumps(self.abc_vocab.to_dict())


#: The kinds of `__call__`'s warnings, as its `CappedWarnings` count them.
_NOT_READ_AS_WRITTEN = "tunes not read exactly as written"
_SAID_ABOVE = "tunes whose warnings were all said above"
#: The keys, in the tokenizer's ``deprecation_warnings`` (transformers' record of what an
#: instance has said once, kept with it, not saved, and left out of a ``ds.map`` function's
#: fingerprint by `datasets`), of the reader warnings said at WARNING by its earlier calls (the
#: most it remembers: `_REMEMBERED`), and of the line that says they are not said again.
_SAID_KEY = "AbcTokenizer reader warnings said"
_NOTICE_KEY = "AbcTokenizer reader warnings not said again"
_REMEMBERED = 10_000


def _tune_name(tune: AbcTune, n: int | None) -> str:
    """How ``__call__``'s warnings name a tune (`tune_label`): by its ``X:`` number and title,
    then ``n``, its 0-based position in the call's batch (None: a single string). The position
    counts within the call: in ``ds.map(..., batched=True)`` that is the map's batch, not the
    dataset's row.

    >>> from tokenization.abc_parser import parse_abc
    >>> _tune_name(parse_abc("X:7\\nT:The Kesh\\nK:G\\nGAB|"), 44)
    "tune X:7 'The Kesh' (item 45 of the batch (index 44))"
    """
    return tune_label(tune.x, tune.title, n)


def _unread_tune_name(text: str, err: AbcParseError, n: int) -> str:
    """How ``__call__`` names the ``n``-th tune of a batch that could not be read, as its
    warnings do (`tune_label`): the ``X:`` number of its first line (`x_number`) and its title
    (the error's ``tune``, unless the reader named it by that ``X:`` for want of a title).

    >>> err = AbcParseError("no notes", tune="X:9", line=2, column=1)
    >>> _unread_tune_name("X:9\\nK:G\\n", err, 2)
    'tune X:9 (item 3 of the batch (index 2))'
    """
    x = x_number(text)
    title = None if err.tune == f"X:{x}" else err.tune
    return tune_label(x, title, n)


class _ReaderWarnings:
    """What the ABC reader left out or changed in the tunes of one ``__call__``, logged so that
    music lost (e.g. a part after a blank line) is not lost without a word.

    A warning not said before goes to ``said`` (the first few tunes at WARNING, then a count
    by reason). A tune whose every warning was said by an earlier tune of the call (a
    tunebook's ``I:MIDI transpose 2``, written into each of its tunes) goes to ``repeated``, at
    DEBUG, counted in one last line. A tune whose every warning was said at WARNING by an
    earlier call of the tokenizer (each batch of a ``ds.map`` is a call; ``record``: its
    ``deprecation_warnings``, as `_SAID_KEY` says) is named at DEBUG only, as
    `transformers`' ``warning_once`` does; the first time, one line says so.
    """

    def __init__(
        self, said: CappedWarnings, repeated: CappedWarnings, record: dict[str, Any]
    ) -> None:
        self.said, self.repeated, self.record = said, repeated, record
        self.earlier: set[str] = record.setdefault(_SAID_KEY, set())
        self.seen: set[str] = set()  # the call's warnings so far
        self.shown: list[str] = []  # those said at WARNING, remembered by `close`
        self.quiet = 0  # tunes whose warnings were all said by earlier calls

    def warn(self, tune: AbcTune, n: int | None) -> None:
        """Log one tune's warnings (``n``: its 0-based index in the batch, None for a single
        string)."""
        where = _tune_name(tune, n)
        warnings = list(dict.fromkeys(tune.warnings))
        new = [w for w in warnings if w not in self.seen and w not in self.earlier]
        if not new and not self.seen.intersection(warnings):
            self.quiet += 1
            message = "AbcTokenizer: %s was not read exactly as written, as said before: %s"
            logger.debug(message, where, "; ".join(warnings))
            return
        self.seen.update(new)
        if not new:
            self.repeated.warn(
                _SAID_ABOVE,
                masked(warnings[0])[:120],
                "AbcTokenizer: %s was not read exactly as written, as an earlier tune: %s",
                where,
                "; ".join(warnings),
            )
            return
        old = len(warnings) - len(new)
        cap = self.said.shown  # whether this one is said at WARNING, not at DEBUG
        if cap is None or self.said.total(_NOT_READ_AS_WRITTEN) < cap:
            self.shown += new
        self.said.warn(
            _NOT_READ_AS_WRITTEN,
            masked(new[0])[:120],
            "AbcTokenizer: %s was not read exactly as written: %s%s (verbose=False silences this)",
            where,
            "; ".join(new),
            f"; and {counted(old, 'warning')} said above" if old else "",
        )

    def close(self) -> None:
        """Remember the warnings said at WARNING (up to `_REMEMBERED` in all), and say, once a
        tokenizer, that tunes whose warnings an earlier call said went unsaid."""
        room = max(0, _REMEMBERED - len(self.earlier))
        self.earlier.update(self.shown[:room])
        if self.quiet and not self.record.get(_NOTICE_KEY):
            self.record[_NOTICE_KEY] = True
            logger.warning(
                "AbcTokenizer: %s whose warnings were all said by an earlier call of this "
                "tokenizer: not said again by it (DEBUG names each; encode_tune(abc).tune."
                "warnings lists a tune's)",
                counted(self.quiet, "tune"),
            )


AbcTokenizer.register_for_auto_class("AutoTokenizer")
