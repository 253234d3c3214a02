"""Checks of single flag values of `training/train.py`, each before any data is read: the
``--config_overrides`` keys and values, a ``--corpus`` source that gives no tune, a
``--report_to`` tracker, a ``--hub_model_id``, a folder the run cannot write into. Each
``*_problem`` says why a value cannot be used (None when it can); `arguments.py` turns that
into argparse's one-line error naming the flag."""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from irish_tune.arg_types import blank_source, no_such_source
from irish_tune.value_checks import link_problem
from tokenization.hub_repo_ids import repo_id_problem

__all__ = [
    "check_config_overrides",
    "corpus_source_problem",
    "folder_path_problem",
    "hub_model_id_problem",
    "report_to_list",
    "tracker_problem",
]


#: MeasureNoteConfig arguments that ``--config_overrides`` may not set, and why.
_FIXED_CONFIG_KEYS = {
    "vocab_sizes": "it is taken from the tokenizer",
    "feature_names": "it is a list; the tokenizer's 20 features are used",
    "embedding_sizes": "it is a dict; set embedding_size instead",
    "embedding_ratios": "it is a dict; set embedding_size instead",
    "pad_token_id": "it is fixed by the tokenizer",
    "bos_token_id": "it is fixed by the tokenizer",
    "eos_token_id": "it is fixed by the tokenizer",
}


def check_config_overrides(overrides: dict[str, Any], preset: str) -> None:
    """Raise `ValueError` when ``overrides`` (from `parse_config_overrides`) names a key that
    `MeasureNoteConfig` does not take, or that the command line may not set, or when the config
    refuses a value. Both tasks apply the overrides to a MeasureNote config (the tune-title task
    to its backbone), and an unknown key would otherwise be written silently into config.json.

    >>> check_config_overrides({"embeding_size": 64}, "small")
    Traceback (most recent call last):
    ...
    ValueError: unknown config key 'embeding_size'; did you mean embedding_size?
    """
    import difflib
    import inspect

    from modeling_irish.configuration_measurenote import MeasureNoteConfig

    params = inspect.signature(MeasureNoteConfig.__init__).parameters
    valid = sorted(set(params) - {"self", "kwargs"} - set(_FIXED_CONFIG_KEYS))
    for name, value in overrides.items():
        if name in _FIXED_CONFIG_KEYS:
            raise ValueError(f"config key {name!r} cannot be set: {_FIXED_CONFIG_KEYS[name]}")
        if name not in valid:
            near = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(near)}?" if near else f"valid keys: {', '.join(valid)}"
            raise ValueError(f"unknown config key {name!r}; {hint}")
        problem = _override_type_problem(value, params[name].default)
        if problem:
            raise ValueError(f"{name}={value!r}: {problem}")
    try:
        MeasureNoteConfig.from_preset(preset, **overrides)  # the config's own range checks
    except TypeError as err:  # e.g. note_hidden_size=abc compared with a number
        raise ValueError(f"a value has the wrong type ({err})") from None


def _override_type_problem(value: Any, default: Any) -> str | None:
    """Why an override ``value`` does not fit the type of the config argument whose default is
    ``default`` (a bool, an int, a finite number), or None: the config stores what it is given,
    so ``use_cache=maybe`` would be written into config.json as a string.

    >>> _override_type_problem("maybe", True), _override_type_problem(float("inf"), 0.02)
    ('must be true or false', 'must be a finite number')
    """
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "must be true or false"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return None if number and isinstance(value, int) else "must be an integer"
    if isinstance(default, float):
        return None if number and math.isfinite(value) else "must be a finite number"
    return None


def corpus_source_problem(source: str) -> str | None:
    """Why one ``--corpus`` source cannot give any tune, or None when it can (or when only the
    loader can tell: thesession dumps are parsed, not scanned). A file gives a tune when
    `load_abc_corpus` finds one in it (`_holds_tune`); a refusal gives the loader's reason
    (`no_tune_reason`): ``"empty file"``, ``"a tune starts with an X: line"``, ...

    >>> corpus_source_problem("oneills1850") is None
    True
    >>> corpus_source_problem("no/such.abc")
    "no such file or folder (nor 'music21', 'oneills1850' or 'ryansMammoth')"
    """
    from modeling_irish.abc_sources import MUSIC21_COLLECTIONS, no_tune_reason, source_files
    from modeling_irish.session_dump import dump_format

    blank = blank_source(source)  # "" is the current folder to Path, " " no file
    if blank:
        return blank
    path = Path(source)
    if path.exists() and not path.is_file() and not path.is_dir():  # <(cat t.abc): /dev/fd/63
        return (
            "not a regular file (a pipe?): training reads the corpus more than once (checked "
            "here, then loaded, split and fingerprinted), so save it to a file and give that"
        )
    if not path.is_file() and not path.is_dir():  # the order in which the loader resolves it
        if source == "music21" or source in MUSIC21_COLLECTIONS:
            return None
        return no_such_source()
    if path.is_file() and dump_format(path):
        return None
    try:
        if any(_holds_tune(file) for file in source_files(path)):
            return None
        return f"no ABC tunes found ({no_tune_reason(path)})"
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    except ValueError as err:  # a damaged compressed file, an archive (`read_file_bytes`)
        return str(err).removeprefix(f"{path} ")


#: A line that starts with ``X:`` (at the start of the bytes, or after a CR or an LF).
_X_LINE_RE = re.compile(rb"(?:\A|[\r\n])X:")


def _holds_tune(path: Path) -> bool:
    """Whether `load_abc_corpus` finds a tune in an ABC file: whether `split_tunebook` yields one
    (from an ``X:`` line, or from a block whose header has a ``K:`` field and music after it).

    Quick for a tunebook with ``X:`` lines, as an argument check must be on a corpus of 20,000
    tunes: in UTF-8 or Latin-1 bytes (where an ASCII byte is that character) with nothing for
    `fold_lines` to fold (`needs_folding`), a line that starts with ``X:`` starts a tune, and the
    first one is enough. Any other file is decoded and split as the loader splits it. A
    compressed file is decompressed first (`read_file_bytes`).
    """
    import codecs

    from tokenization.abc_header import split_tunebook
    from tokenization.check import decode_abc
    from tokenization.file_bytes import read_file_bytes

    data = read_file_bytes(path)
    wide = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE))
    folds = b"\\" in data or b"%%begintext" in data
    if not wide and not folds and _X_LINE_RE.search(data.removeprefix(codecs.BOM_UTF8)):
        return True
    return next(split_tunebook(decode_abc(data, str(path))), None) is not None


def report_to_list(report_to: str) -> list[str]:
    """``--report_to`` as the list of tracker names accelerate takes.

    >>> report_to_list("tensorboard, wandb")
    ['tensorboard', 'wandb']
    """
    return [name.strip() for name in report_to.split(",") if name.strip()]


def tracker_problem(report_to: str) -> str | None:
    """Why accelerate cannot log to ``--report_to``, or None: an unknown tracker name, or one
    that is not installed (accelerate would only warn, and the run would log nothing)."""
    from accelerate.tracking import get_available_trackers
    from accelerate.utils import LoggerType

    names = report_to_list(report_to)
    known = [t.value for t in LoggerType]
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        return f"unknown tracker {', '.join(unknown) or repr(report_to)}; known: {', '.join(known)}"
    available = {str(getattr(t, "value", t)) for t in get_available_trackers()}
    missing = [name for name in names if name != "all" and name not in available]
    if missing:
        return f"{', '.join(missing)} not installed (pip install {' '.join(missing)})"
    return None


def hub_model_id_problem(repo_id: str | None) -> str | None:
    """Why ``repo_id`` cannot name a Hub repository (None when it can, or is not given): the
    Hub client refused it only at the upload, after the whole run.

    >>> hub_model_id_problem("user/measurenote-small") is None
    True
    >>> hub_model_id_problem("my model/irish tunes").split(";")[0]
    "its user 'my model' holds ' '"
    """
    return None if repo_id is None else repo_id_problem(repo_id)


def folder_path_problem(path: str) -> str | None:
    """Why ``path`` cannot be (or become, with `os.makedirs`) a folder the run writes into, or
    None: it, or the nearest of its parents that exists, is a file, a folder this user may
    not write into (the run failed with a `PermissionError` once the corpus was read), or a
    symbolic link that leads nowhere (`irish_tune.value_checks.link_problem`: the run failed
    with ``File exists`` once the corpus was read).

    >>> folder_path_problem(__file__)
    'it is an existing file, not a folder'
    """
    problem = link_problem(path)
    if problem:
        return problem
    target = Path(path).absolute()
    for existing in (target, *target.parents):
        if existing.exists():
            if not existing.is_dir():
                if existing == target:
                    return "it is an existing file, not a folder"
                return f"{existing} is a file, not a folder"
            if not os.access(existing, os.W_OK | os.X_OK):
                if existing == target:
                    return "this user may not write into it"
                return f"this user may not make folders in {existing}"
            return _make_folder_problem(existing)
    return None


def _make_folder_problem(folder: Path) -> str | None:
    """Why no folder can be made in the existing ``folder``, found by making (and removing) an
    empty one, or None: `os.access` says yes to root everywhere, so ``--output_dir /proc/x``
    (or a folder on a read-only mount) passed the checks and failed only once the corpus was
    read and tokenized."""
    try:
        probe = tempfile.mkdtemp(prefix=".write-check-", dir=folder)
    except OSError as err:
        return f"cannot make folders in {folder} ({err.strerror or err})"
    os.rmdir(probe)
    return None
