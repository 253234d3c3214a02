"""``irish-tune transpose``: every tune of ABC files written back as ABC, in a real key
(``--key``) or normalised as the training corpus is (`tokenization.transposition`). Model-free:
it imports neither torch nor transformers (`irish_tune.MODEL_FREE_COMMANDS`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from tokenization.abc_parser import AbcParseError, AbcTune, parse_abc
from tokenization.capped_warnings import CappedWarnings, masked
from tokenization.keys import Key, check_key, standard_key
from tokenization.reader_warnings import tune_warnings, warn_not_as_written
from tokenization.transposition import ModeMismatchError, transposed_abc

from .cli import progress_bar_class, tune_texts
from .file_utils import replacing_file

__all__ = ["run_transpose"]

logger = logging.getLogger(__name__)

#: The kind of the warnings about tunes not written, as `CappedWarnings` counts them.
_NOT_WRITTEN = "tunes not written"


def _target_key(text: str | None) -> Key | None:
    """The key ``--key`` names (`check_key`: a tonic and an optional mode; a `ValueError` for
    anything else), spelled with at most 7 sharps or flats (`standard_key`, said on stderr, as
    `generate` says it); None without ``--key``."""
    if text is None:
        return None
    key = check_key(text)
    usual = standard_key(key)
    if usual != key:
        print(
            f"irish-tune transpose: {key.name} needs {abs(key.signature)} "
            f"{'sharps' if key.signature > 0 else 'flats'} in its signature: the tunes are "
            f"written in {usual.name}, the same sound",
            file=sys.stderr,
        )
    return usual


class _NotWritten(ValueError):
    """A tune that transpose leaves out: the message names the tune and where it failed, as
    `irish-tune check` does; `reason` is what it says after them (an `AbcParseError`'s own
    message, which may hold ': ' itself, K:Bn's), to count such tunes by."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _read(raw: Any) -> AbcTune:
    """The tune ``raw`` (a `RawTune`) read, its warnings at the lines of its file (a dump row's
    at those of its tune text, as `RawTune.read_warnings` places them); a `ValueError` that
    names the tune, with the line and column (`RawTune.locate`), when it cannot be read."""
    if raw.unreadable:  # a dump row that gives no tune
        raise _NotWritten(raw.locate(ValueError(raw.unreadable)), raw.unreadable)
    try:
        return parse_abc(raw.text, line_offset=raw.read_offset)
    except AbcParseError as err:
        raise _located(raw, err) from None


def _located(raw: Any, err: AbcParseError) -> _NotWritten:
    """``err`` (read from ``raw.text`` at ``raw.read_offset``) named as `irish-tune check` names
    it: `locate` places a line of the tune's text in its file."""
    line = None if err.line is None else err.line - raw.read_offset
    at_text = AbcParseError(err.message, tune=err.tune, line=line, column=err.column)
    return _NotWritten(raw.locate(at_text), err.message)


def _transposed(raw: Any, key: Key | None, said: CappedWarnings) -> str:
    """The ABC of the tune ``raw`` (a `RawTune`) in ``key`` (`transposed_abc`); a `ValueError`
    that names the tune as `irish-tune check` does, ``book.abc: X:3 Cooley's: ...``, when it
    cannot be read (`_read`), its mode is not ``key``'s, or a note would move out of MIDI's
    0-127. What the reader did not read as
    written (a second voice dropped, stray brackets...) is logged in ``said`` as check logs it
    (`warn_not_as_written`): the ABC written holds the music as read."""
    tune = _read(raw)
    warn_not_as_written(said, raw.name, raw.own_warnings(tune.warnings, raw.read_offset))
    try:
        return transposed_abc(tune, key, raw.text, raw.read_offset)
    except ModeMismatchError as err:  # named by its file, X: and title, as check names it
        raise _NotWritten(f"{raw.name}: {err}", _reason(str(err))) from None
    except AbcParseError as err:  # a note moved out of MIDI's 0-127, at its line and column
        raise _located(raw, err) from None


def run_transpose(args: argparse.Namespace) -> int:
    """``irish-tune transpose``: each tune of ``args.files`` written as ABC, in ``--key`` or,
    without it, normalised as the training corpus is; to stdout, or to ``-o`` written whole or
    not at all (`replacing_file`). A tune that cannot be read, or whose mode is not the key's,
    is named on stderr (the first few, then a count by reason) and left out, and a last line
    counts them: exit status 1. So is a source that holds no tune. When every tune is written,
    the last line on stderr says how many, and where. Every source is read before anything is
    written: a missing file, or a folder without ``*.abc`` files (refused as
    ``check`` refuses it), is exit status 2, and nothing is written. What the
    reader did not read as written (a second voice dropped, stray brackets...) is said on
    stderr as `irish-tune check` says it, the first few of each kind (`warn_not_as_written`):
    the tune is written as read, and the exit status is not changed."""
    tqdm = progress_bar_class()  # tqdm.auto's bar, without its asyncio import outside notebooks
    key = _target_key(args.key)
    if args.files.count("-") > 1:
        raise ValueError("'-' (stdin) can be given once")
    without: list[tuple[str, str]] = []
    written: list[str] = []
    failed = tunes = 0
    with (
        CappedWarnings(logger) as said,
        tune_warnings(logger) as read_said,
        tqdm(desc="Transposing", unit=" tunes", disable=None, leave=False) as bar,
    ):
        for raw in tune_texts(args.files, without):
            tunes += 1
            bar.update()
            try:
                written.append(_transposed(raw, key, read_said))
            except ValueError as err:
                reason = err.reason if isinstance(err, _NotWritten) else _reason(str(err))
                said.warn(_NOT_WRITTEN, masked(reason), "irish-tune transpose: %s", err)
                failed += 1
    if not tunes:  # (of several sources, each without a tune was named as it was read)
        raise ValueError("no tune to transpose: " + "; ".join(f"{w} ({why})" for w, why in without))
    _write("\n".join(written), args.output)
    if failed or without:
        print(f"irish-tune transpose: {failed} of {tunes} tunes not written", file=sys.stderr)
    else:  # a last line all the same: a long run that ended without one did not say it was done
        where = "stdout" if args.output in (None, "-") else args.output
        plural = "s" * (tunes != 1)
        print(f"irish-tune transpose: wrote {tunes} tune{plural} to {where}", file=sys.stderr)
    return 1 if failed or without else 0


def _reason(message: str) -> str:
    """What a failure's message says after its tune and place, to count failures by reason.

    >>> _reason("b.abc: X:2 Same: line 13, column 6: bar line inside a chord")
    'bar line inside a chord'
    """
    return message.rsplit(": ", 1)[-1]


def _write(text: str, output: str | None) -> None:
    """``text`` to stdout, or to the file ``output`` (not ``-``), replaced in one step."""
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    folder = os.path.dirname(output)
    if folder and not os.path.isdir(folder):
        raise FileNotFoundError(f"no folder {folder!r} to write {output} in")
    with replacing_file(output) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
