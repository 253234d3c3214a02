"""The checks of `AbcTokenizer`'s arguments and the error messages that say what to give."""

from __future__ import annotations

import numbers
import os
import reprlib
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from .abc_header import parse_meter
from .abc_parser import AbcParseError
from .capped_warnings import counted
from .features import FEATURE_NAMES
from .hub_repo_ids import check_repo_id, path_hint

__all__ = [
    "NO_LIMIT",
    "OTHER_KEYWORDS",
    "TOKENIZER_KEYWORDS",
    "batch_item",
    "check_call_options",
    "check_call_text",
    "check_corpus_item",
    "check_meter",
    "check_not_a_table",
    "check_other_keywords",
    "check_pad_input",
    "check_padding_side",
    "check_pretrained_name",
    "check_train_keywords",
    "check_truncation",
    "check_truncation_side",
    "convert_shape_error",
    "decode_shape_error",
    "no_tune_read",
    "no_vocab_error",
    "tune_label",
]


def check_pretrained_name(name: str) -> bool:
    """Whether ``name``, given to `AbcTokenizer.from_pretrained`, is a path here; an `OSError`
    when it is not and cannot be a Hub repository id (``owner/name``) either: transformers
    would blame a folder that does not exist.

    >>> check_pretrained_name("."), check_pretrained_name("owner/no-such-tokenizer")
    (True, False)
    """
    here = os.path.exists(os.path.expanduser(name))
    if not here:
        check_repo_id(name, "a saved AbcTokenizer folder")
    return here


def no_vocab_error(name: str, here: bool, vocab_file: str, local_files_only: bool) -> OSError:
    """Why `AbcTokenizer.from_pretrained` of ``name`` (a path ``here``, else a Hub repository
    id) found no ``vocab_file``: not a saved tokenizer, or not found on the Hub (or in its
    cache, offline).

    >>> str(no_vocab_error("runs/a", True, "abc_vocab.json", False))
    "'runs/a' holds no abc_vocab.json: not a saved AbcTokenizer (a MeasureNote or tune-title ..."
    >>> str(no_vocab_error("someone/abc", False, "abc_vocab.json", False))
    "'someone/abc': no such folder here, and not found on the Hub: ..."
    """
    if here:
        return OSError(
            f"{name!r} holds no {vocab_file}: not a saved AbcTokenizer (a MeasureNote or "
            "tune-title model folder has one)"
        )
    from huggingface_hub import is_offline_mode

    where = "the Hub"
    if is_offline_mode() or local_files_only:
        where = "the Hub's cache (offline: the Hub itself was not asked)"
    return OSError(
        f"{name!r}: no such folder here, and not found on the Hub: {where} has no {vocab_file} for "
        f"that repository id{path_hint(name)}"
    )


def check_padding_side(side: Any, advice: str = "") -> None:
    """Raise `ValueError` unless ``side`` is ``"right"``: MeasureNote's GRUs read every tune from
    its first row, so rows padded on the left would be read first. ``advice`` ends the message.

    >>> check_padding_side("right")
    >>> check_padding_side("left")
    Traceback (most recent call last):
    ...
    ValueError: AbcTokenizer pads on the right only (padding_side='left'): MeasureNote's GRUs ...
    """
    if side != "right":
        raise ValueError(
            f"AbcTokenizer pads on the right only (padding_side={side!r}): MeasureNote's GRUs "
            f"read every tune from its first row{advice}"
        )


def check_truncation_side(side: Any, advice: str = "") -> None:
    """Raise `ValueError` unless ``side`` is ``"right"``: a tune is kept from its first row,
    ``<start>``, which carries its header, and a language model continues a tune from its
    beginning (as `check_padding_side`). ``advice`` ends the message.

    >>> check_truncation_side("right")
    >>> check_truncation_side("left")
    Traceback (most recent call last):
    ...
    ValueError: AbcTokenizer truncates on the right only (truncation_side='left'): ...
    """
    if side != "right":
        raise ValueError(
            f"AbcTokenizer truncates on the right only (truncation_side={side!r}): a tune keeps "
            f"its first rows, from <start>, which carries its header{advice}"
        )


def check_meter(meter: str | None) -> None:
    """Refuse (`ValueError`) a ``meter`` given to `decode` that the ABC reader would refuse in
    ``M:`` (the tune written would not read back); None asks for the rows' own.

    >>> check_meter("6/8"), check_meter("C|"), check_meter(None)
    (None, None, None)
    >>> check_meter("banana")
    Traceback (most recent call last):
    ...
    ValueError: meter='banana': cannot read meter 'banana'; give an M: value such as '6/8', ...
    """
    if meter is None:
        return
    if not isinstance(meter, str):
        raise TypeError(f"meter is an M: value, a string such as '6/8'; got {type(meter).__name__}")
    try:
        parse_meter(meter)
    except ValueError as err:
        raise ValueError(
            f"meter={meter!r}: {err}; give an M: value such as '6/8', 'C' or 'none'"
        ) from None


def check_not_a_table(value: Any, where: str) -> None:
    """Refuse (`TypeError`) a table where ABC tunes are wanted: a dict (a `datasets` batch,
    ``ds[:300]``) or a `datasets.Dataset`, which iterate as their column names or their rows,
    not as tunes; the message names the columns and says to give the ABC one. ``where`` starts
    it (``"AbcTokenizer.train"``).

    >>> check_not_a_table(["X:1\\nK:D\\nDFA|"], "AbcTokenizer.train")
    >>> check_not_a_table({"title": ["t"], "abc": ["X:1\\nK:D\\nDFA|"]}, "AbcTokenizer.train")
    Traceback (most recent call last):
    ...
    TypeError: AbcTokenizer.train takes ABC tunes, one string a tune, not a dict with columns ...
    """
    if isinstance(value, Mapping):
        columns, iterates_as = list(value), "its column names"
    else:
        datasets = sys.modules.get("datasets")  # none is a Dataset unless datasets is imported
        if datasets is None or not isinstance(value, (datasets.Dataset, datasets.IterableDataset)):
            return
        columns, iterates_as = value.column_names, "its rows (dicts)"
    column = next((c for c in columns or () if "abc" in str(c).lower()), "abc")
    raise TypeError(
        f"{where} takes ABC tunes, one string a tune, not a {type(value).__name__} with columns "
        f"{reprlib.repr(columns)} (it iterates as {iterates_as}): give the ABC column, e.g. "
        f"ds[{column!r}]"
    )


def check_corpus_item(text: Any, n: int) -> None:
    """Refuse (`TypeError`) the ``n``-th (0-based) item of `AbcTokenizer.train`'s corpus when it
    is not a string, naming it: None (a missing cell of a dataset column) or bytes is not a
    tune the reader could not read, to leave out, but a corpus to clean first.

    >>> check_corpus_item(None, 10)
    Traceback (most recent call last):
    ...
    TypeError: AbcTokenizer.train takes ABC tunes, one string a tune; tune 11 (index 10) is ...
    """
    if isinstance(text, str):
        return
    hint = {
        "NoneType": ": a missing cell? leave those out first, e.g. [t for t in tunes if t]",
        "bytes": ": decode it first (text.decode('utf-8'))",
    }.get(type(text).__name__, "")
    raise TypeError(
        f"AbcTokenizer.train takes ABC tunes, one string a tune; tune {n + 1} (index {n}) is "
        f"a {type(text).__name__}{hint}"
    )


#: The keywords of `PreTrainedTokenizer`'s constructor (transformers 5.x, as documented, and
#: ``name_or_path``, ``verbose``, ``additional_special_tokens``), which `AbcTokenizer.train`
#: passes on; besides these, any ``*_token`` (transformers' model-specific special tokens).
TOKENIZER_KEYWORDS = frozenset(
    {
        "model_max_length",
        "padding_side",
        "truncation_side",
        "chat_template",
        "model_input_names",
        "extra_special_tokens",
        "additional_special_tokens",
        "model_specific_special_tokens",
        "clean_up_tokenization_spaces",
        "split_special_tokens",
        "name_or_path",
        "verbose",
    }
)

#: Options of other tokenizers' trainers (`tokenizers`' BPE and WordPiece trainers): the reason
#: `AbcTokenizer.train` has none of them.
_TRAINER_OPTIONS = ("vocab_size", "min_frequency", "limit_alphabet", "special_tokens")


def check_train_keywords(kwargs: dict[str, Any]) -> None:
    """Refuse (`TypeError`, naming them) the keywords of `AbcTokenizer.train` that neither it nor
    `PreTrainedTokenizer` takes: transformers would store them in ``tokenizer_config.json``
    without effect, so ``train(tunes, min_frequency=50)`` looked like it had pruned the
    vocabulary.

    >>> check_train_keywords({"model_max_length": 512, "pad_token": "<pad>"})
    >>> check_train_keywords({"min_frequency": 50, "foo": "bar"})
    Traceback (most recent call last):
    ...
    TypeError: AbcTokenizer.train() got unexpected keyword arguments 'min_frequency', 'foo': ...
    """
    unknown = [
        name
        for name in kwargs
        if name not in TOKENIZER_KEYWORDS and not (name.endswith("_token") and name != "_token")
    ]
    if not unknown:
        return
    reasons = ["neither train nor PreTrainedTokenizer takes them"]
    if any(name in _TRAINER_OPTIONS for name in unknown):
        reasons.append(
            "the vocabulary holds every value its corpus has, plus fixed base values, so there "
            "is no size or frequency to set"
        )
    if any(name in ("vocab", "vocab_file") for name in unknown):
        reasons.append("train builds the vocabulary; AbcTokenizer(vocab_file=...) loads one")
    raise TypeError(
        f"AbcTokenizer.train() got unexpected keyword argument{'s' if len(unknown) > 1 else ''} "
        f"{', '.join(map(repr, unknown))}: {'; '.join(reasons)}"
    )


def no_tune_read(unreadable: list[tuple[int, AbcParseError]]) -> str:
    """Why `AbcTokenizer.train` built no vocabulary: no tunes, or none it could read."""
    if not unreadable:
        return "AbcTokenizer.train got no tunes (an empty iterable): there is nothing to count"
    n, err = unreadable[0]
    return (
        f"AbcTokenizer.train could read none of the {counted(len(unreadable), 'tune')} it got "
        f"(the first, tune {n + 1} (index {n}): {err})"
    )


def decode_shape_error(shape: tuple[int, ...]) -> str:
    """Why `decode` cannot write ids of this shape, and what to give it instead."""
    wanted = f"decode expects one tune's (n_rows, {len(FEATURE_NAMES)}) feature rows"
    if len(shape) == 1:
        return (
            f"{wanted}, as tokenizer(abc)['input_ids'][0] gives; got 1-D ids {shape}: the main "
            "tokens alone (tokenizer.encode) hold no header to write the tune with"
        )
    return f"{wanted}; got {shape}"


def convert_shape_error(shape: tuple[int, ...] | None) -> str:
    """Why `convert_ids_to_tokens` cannot read ids of this shape (None: ragged lists)."""
    wanted = (
        f"convert_ids_to_tokens takes one tune's ids: main ids (n,) or feature rows "
        f"(n, {len(FEATURE_NAMES)})"
    )
    if shape is None or len(shape) == 3:
        got = "nested lists of different lengths" if shape is None else f"a batch {shape}"
        each = "[tok.convert_ids_to_tokens(t) for t in batch]"
        return f"{wanted}; got {got}: convert each tune, {each}"
    return f"{wanted}; got {shape}"


#: `model_max_length` at or above this means none was set (transformers' VERY_LARGE_INTEGER).
NO_LIMIT = int(1e20)


def check_call_options(
    max_length: int | None,
    padding: bool | str,
    truncation: bool | str | None,
    return_attention_mask: bool | None,
    truncates: bool = True,
) -> None:
    """Refuse, with the reason, the `transformers` options this tokenizer cannot honour.
    ``truncates``: whether ``max_length`` truncates (one given to ``__call__`` does; the
    ``model_max_length`` it pads to with ``truncation=False`` does not, nor does ``pad``'s)."""
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral)
    ):
        raise TypeError(
            f"max_length is a number of rows, an int; got {type(max_length).__name__} "
            f"{max_length!r}"
        )
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    if padding not in (True, False, "longest", "max_length", "do_not_pad"):
        raise ValueError(f"padding must be True, 'longest', 'max_length' or False, got {padding!r}")
    if padding == "max_length" and max_length is None:
        raise ValueError(
            "padding='max_length' needs a length to pad to, and neither max_length nor "
            "model_max_length is set: give max_length=N, or set tok.model_max_length "
            "(AbcTokenizer.train/from_pretrained(..., model_max_length=N))"
        )
    check_truncation(truncation)
    if truncation in (False, "do_not_truncate") and max_length is not None and truncates:
        raise ValueError(
            "max_length truncates each tune to its first rows here; truncation=False contradicts it"
        )
    if return_attention_mask is False:
        raise ValueError(
            "return_attention_mask=False: the attention mask is always returned (the model needs "
            "it to skip padded rows)"
        )


def check_truncation(truncation: Any) -> None:
    """Refuse (`ValueError`) a ``truncation`` this tokenizer cannot honour. `transformers`'
    strategies (`TruncationStrategy`, or its strings) are taken where they mean something for
    one text: ``"longest_first"`` and ``"only_first"`` truncate it, as True does, and
    ``"do_not_truncate"`` is False; ``"only_second"`` truncates the second text of a pair, and
    there are no pairs here.

    >>> check_truncation("longest_first"), check_truncation(None)
    (None, None)
    >>> check_truncation("only_second")
    Traceback (most recent call last):
    ...
    ValueError: truncation='only_second' truncates the second text of pairs: AbcTokenizer ...
    """
    if truncation == "only_second":  # the string, or TruncationStrategy.ONLY_SECOND
        raise ValueError(
            f"truncation={truncation!r} truncates the second text of pairs: AbcTokenizer "
            "encodes one tune at a time, not pairs of texts; give truncation=True (or "
            "'only_first')"
        )
    if truncation not in (None, True, False, "longest_first", "only_first", "do_not_truncate"):
        raise ValueError(
            "truncation must be True ('longest_first', 'only_first') or False "
            f"('do_not_truncate'), got {truncation!r}"
        )


def check_call_text(text: Any) -> None:
    """Refuse (`TypeError`) what `AbcTokenizer.__call__` cannot encode, saying what it takes: a
    string (one tune) or an iterable of them (a batch). None, bytes and a table (a dict, a
    `datasets` batch or `Dataset`, `check_not_a_table`) are refused by name, not iterated.

    >>> check_call_text("X:1\\nK:D\\nDFA|"), check_call_text(["X:1\\nK:D\\nDFA|"])
    (None, None)
    >>> check_call_text(b"X:1")
    Traceback (most recent call last):
    ...
    TypeError: AbcTokenizer encodes ABC text, a string (one tune) or a list of strings (a ...
    """
    if isinstance(text, str):
        return
    check_not_a_table(text, "AbcTokenizer")
    if text is None or isinstance(text, (bytes, bytearray)) or not isinstance(text, Iterable):
        hint = ": decode it first (text.decode('utf-8'))" if isinstance(text, bytes) else ""
        raise TypeError(
            "AbcTokenizer encodes ABC text, a string (one tune) or a list of strings (a batch); "
            f"got {type(text).__name__}{hint}"
        )


def check_pad_input(encoded_inputs: Any) -> None:
    """Refuse (`TypeError`) what `AbcTokenizer.pad` cannot pad, saying what it takes: an
    encoding (a dict of lists, as ``tok(abcs)`` or a `datasets` batch gives) or a list of them;
    ``pad(5)`` said "argument of type 'int' is not iterable", ``pad(["X:1..."])`` "'list'
    object has no attribute 'keys'".

    >>> check_pad_input({"input_ids": [[5, 6]]}), check_pad_input([{"input_ids": [5]}])
    (None, None)
    >>> check_pad_input(["X:1"])
    Traceback (most recent call last):
    ...
    TypeError: AbcTokenizer.pad takes encoded tunes, a dict such as tok(abc) gives or a list ...
    """
    if isinstance(encoded_inputs, Mapping):
        return
    wanted = "AbcTokenizer.pad takes encoded tunes, a dict such as tok(abc) gives or a list of them"
    if not isinstance(encoded_inputs, (list, tuple)):
        raise TypeError(f"{wanted}; got {type(encoded_inputs).__name__}")
    for n, item in enumerate(encoded_inputs):
        if not isinstance(item, Mapping):
            hint = " (ABC text: encode it first, tok(abcs))" if isinstance(item, str) else ""
            raise TypeError(f"{wanted}; {batch_item(n)} is a {type(item).__name__}{hint}")


def batch_item(n: int) -> str:
    """How errors name the ``n``-th (0-based) tune of a batch: a position within the call, so
    in ``ds.map(..., batched=True)`` within the map's batch, not the dataset's row (warnings
    name the tune by its ``X:`` number and title first)."""
    return f"item {n + 1} of the batch (index {n})"


def tune_label(x: object, title: str | None, n: int | None) -> str:
    """How ``AbcTokenizer.__call__``'s warnings and errors name a tune: by its ``X:`` number
    (``x``, None or ``""`` when it has none) and ``title``, which its text carries (the
    loader's ``abc`` column keeps them), then ``n``, its 0-based position in the call's batch
    (None: a single string; `batch_item`).

    >>> tune_label(7, "The Kesh", 44)
    "tune X:7 'The Kesh' (item 45 of the batch (index 44))"
    >>> tune_label(None, "", 44), tune_label("7", None, None)
    ('item 45 of the batch (index 44)', 'the tune X:7')
    """
    names = ([f"X:{x}"] if x not in (None, "") else []) + ([repr(title)] if title else [])
    if n is None:
        return " ".join(["the tune", *names])
    return f"tune {' '.join(names)} ({batch_item(n)})" if names else batch_item(n)


#: `transformers` keywords of ``__call__`` with no meaning here: the values that ask for nothing
#: (accepted), and why any other is refused.
OTHER_KEYWORDS: dict[str, tuple[tuple[Any, ...], str]] = {
    "text_pair": (
        (None,),
        "AbcTokenizer encodes one tune at a time, not pairs of texts (give a list for a batch)",
    ),
    "text_pair_target": ((None,), "AbcTokenizer encodes one tune at a time, not pairs of texts"),
    "text_target": (
        (None,),
        "the labels are made from the tune's own rows (each row's main and dur), so there is no "
        "target text to encode",
    ),
    "is_split_into_words": (
        (False,),
        "a tune is one ABC string, read whole by the ABC parser, not a list of words",
    ),
    "return_token_type_ids": ((None, False), "a tune is one sequence: there are no token types"),
    "stride": ((0,), "max_length keeps each tune's first rows; no overflowing windows are made"),
    "return_overflowing_tokens": (
        (False,),
        "max_length keeps each tune's first rows; no overflowing windows are made",
    ),
    "return_special_tokens_mask": (
        (False,),
        "the special rows are always the first (<start>) and the last unpadded one (<end>), and "
        "attention_mask marks the padding",
    ),
    "return_offsets_mapping": (
        (False,),
        "the rows are read from the parsed, normalised tune, not from spans of the text, so "
        "there are no character offsets",
    ),
}


def check_other_keywords(kwargs: dict[str, Any]) -> None:
    """Accept the `transformers` keywords in `OTHER_KEYWORDS` that ask for nothing, refuse the
    others with the reason (`ValueError`), and unknown names as Python would (`TypeError`)."""
    for name, value in kwargs.items():
        if name not in OTHER_KEYWORDS:
            raise TypeError(f"AbcTokenizer.__call__() got an unexpected keyword argument {name!r}")
        harmless, reason = OTHER_KEYWORDS[name]
        if not any(value is ok or (type(value) is type(ok) and value == ok) for ok in harmless):
            raise ValueError(f"{name}={reprlib.repr(value)} is not supported: {reason}")
