"""The cache of ``irish-tune evaluate-generation --train``'s reading of its tunes
(`modeling_irish.generation_cli.read_train_corpus`, about half of a run on a large corpus): the
normalised tokens of the tunes read, the tunes left out (their places and reasons) and the
warnings of the read, in one file ``train_tokens-<key>.json`` of the cache folder (train.py's,
``runs/.cache`` by default), written whole or not at all (`replacing_file`) and pruned with the
others by ``irish-tune prune-cache``.

The key (`train_cache_key`) is the sources' bytes, the path as typed (the skipped tunes' places
name it), ``--max-train-tunes`` and the reader's code (`reader_code_digest`): a cached read is
the read it stands for, tune for tune and word for word."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from tokenization.abc_tune import Token

from .abc_corpus_cache import module_file, modules_imported_by, piped_sources, reader_modules
from .abc_sources import source_files
from .file_utils import replacing_file

__all__ = [
    "TRAIN_TOKENS_PREFIX",
    "TrainRead",
    "load_train_read",
    "reader_code_digest",
    "recorded_warnings",
    "replay_warnings",
    "save_train_read",
    "train_cache_key",
]

logger = logging.getLogger(__name__)

#: The name of a cache file starts so: ``train_tokens-<key>.json``.
TRAIN_TOKENS_PREFIX = "train_tokens-"
#: The layout of the file (`save_train_read`); another is a miss, read again.
_FORMAT = 2
#: The code that makes a read, beyond the corpus loader's reader (`reader_modules`): the
#: tune's normalised tokens, the command line's sources and this reading.
_READ_ROOTS = (
    "tokenization.encoded_tune",
    "tokenization.capped_warnings",
    "modeling_irish.cli",
    "modeling_irish.generation_cli",
    "modeling_irish.train_tokens_cache",
)


@dataclass
class TrainRead:
    """What reading ``--train`` gave: each tune's normalised tokens in file order, the places
    (`RawTune.locate`) and reasons of the tunes left out, the sources without tunes and why,
    the warnings logged meanwhile (``{"logger", "level", "message"}``), and how many tunes
    read were not read as written (``changed_tunes``; ``changed``: how many of each kind, as
    `irish-tune check` names the kinds, `not_as_written`)."""

    tunes: list[list[Token]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    without: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    changed_tunes: int = 0
    changed: dict[str, int] = field(default_factory=dict)


def reader_code_digest() -> str:
    """The SHA-1 of the reader's code: every module of the package that `reader_modules` and
    `_READ_ROOTS` import, by content (a copy that keeps old mtimes is still new code)."""
    digest = hashlib.sha1()
    for name in modules_imported_by((*reader_modules(), *_READ_ROOTS)):
        digest.update(name.encode() + b"\0" + module_file(name).read_bytes())
    return digest.hexdigest()


def train_cache_key(path: str, limit: int | None) -> str | None:
    """The key of reading ``path`` (up to ``limit`` tunes), or None for a source that cannot be
    cached: stdin, a pipe, or a name that is no file or folder (a music21 book).

    >>> train_cache_key("-", None) is None, train_cache_key("oneills1850", 5) is None
    (True, True)
    """
    if path == "-" or not os.path.exists(path) or piped_sources([path]):
        return None
    files = [(str(p), hashlib.sha1(p.read_bytes()).hexdigest()) for p in source_files(path)]
    parts = [_FORMAT, path, os.path.abspath(path), limit, files, reader_code_digest()]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def _cache_file(cache_dir: str | os.PathLike, key: str) -> Path:
    """The file of ``key`` in ``cache_dir``."""
    return Path(cache_dir) / f"{TRAIN_TOKENS_PREFIX}{key}.json"


def _encoded(tunes: list[list[Token]]) -> tuple[list[list], list[list[int]]]:
    """The distinct tokens (kind, text, pitch, duration's numerator and denominator) and each
    tune as their indices: a few thousand tokens stand for millions."""
    ids: dict[Token, int] = {}
    coded = [[ids.setdefault(token, len(ids)) for token in tune] for tune in tunes]
    vocab = [
        [t.kind, t.text, t.pitch, *((t.dur.numerator, t.dur.denominator) if t.dur else (None,))]
        for t in ids
    ]
    return vocab, coded


def _decoded(vocab: list[list], coded: list[list[int]]) -> list[list[Token]]:
    """The tunes of `_encoded`'s ``vocab`` and ``coded``."""
    tokens = [
        Token(kind, text, pitch, Fraction(*dur) if dur[0] is not None else None)
        for kind, text, pitch, *dur in vocab
    ]
    return [[tokens[i] for i in tune] for tune in coded]


def save_train_read(cache_dir: str | os.PathLike, key: str, read: TrainRead) -> None:
    """Write ``read`` as the cache file of ``key`` in ``cache_dir`` (made if need be), whole or
    not at all; a cache that cannot be written (a read-only folder, a full disk) is said in a
    warning and the run goes on."""
    vocab, coded = _encoded(read.tunes)
    kept = {
        "format": _FORMAT,
        "vocab": vocab,
        "tunes": coded,
        "skipped": read.skipped,
        "reasons": read.reasons,
        "without": read.without,
        "warnings": read.warnings,
        "changed_tunes": read.changed_tunes,
        "changed": read.changed,
    }
    target = _cache_file(cache_dir, key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with replacing_file(target) as tmp, open(tmp, "w", encoding="utf-8") as file:
            # one string, written at once: json.dump writes chunk by chunk from the encoder in
            # Python (~3x the CPU on thesession-c's ~3M tokens); the text is the same
            file.write(json.dumps(kept, separators=(",", ":")))
    except OSError as err:
        logger.warning("--train cache %s not written (%s); the next run reads again", target, err)


def load_train_read(cache_dir: str | os.PathLike, key: str) -> TrainRead | None:
    """The read cached under ``key`` in ``cache_dir``, or None: none there, or one that cannot
    be read (damaged, another format: said in a warning, read again and replaced). A hit
    records its use (the file's mtime, which ``prune-cache`` reads)."""
    target = _cache_file(cache_dir, key)
    if not target.is_file():
        return None
    try:
        kept = json.loads(target.read_text(encoding="utf-8"))
        if kept.get("format") != _FORMAT:
            raise ValueError(f"format {kept.get('format')!r}, not {_FORMAT}")
        read = TrainRead(
            _decoded(kept["vocab"], kept["tunes"]),
            kept["skipped"],
            kept["reasons"],
            [tuple(pair) for pair in kept["without"]],
            kept["warnings"],
            int(kept["changed_tunes"]),
            {str(kind): int(n) for kind, n in kept["changed"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        logger.warning("--train cache %s cannot be read (%s); reading the tunes again", target, err)
        return None
    try:
        os.utime(target)
    except OSError as err:
        logger.debug("--train cache %s: its use is not recorded (%s)", target, err)
    return read


class _Recorder(logging.Handler):
    """Keeps the warnings logged while it is attached, to be logged again on a cache hit."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        entry = {"logger": record.name, "level": record.levelno, "message": record.getMessage()}
        self.records.append(entry)


@contextmanager
def recorded_warnings() -> Iterator[list[dict[str, Any]]]:
    """The warnings (and worse) logged inside the block, as ``{"logger", "level",
    "message"}``, in order; they are logged as ever too."""
    recorder = _Recorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    try:
        yield recorder.records
    finally:
        root.removeHandler(recorder)


def replay_warnings(warnings: list[dict[str, Any]]) -> None:
    """Log again the ``warnings`` that `recorded_warnings` kept, under their loggers."""
    for record in warnings:
        logging.getLogger(record["logger"]).log(record["level"], "%s", record["message"])
