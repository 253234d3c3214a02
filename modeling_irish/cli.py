"""The `irish-tune` command line: everything a user runs besides training. Its arguments are
read by `irish_tune.parser` (light: ``--help`` and a mistyped flag need no torch), and the
command then runs here (`run_command`): ``check`` and the helpers the other commands share.
The argument types (`positive_int`, ...) are `irish_tune.arg_types`', re-exported here."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from irish_tune.arg_types import (  # noqa: F401 - re-exported: the commands, training, benchmarks
    MAX_WEIGHT,
    DefaultsHelpFormatter,
    abc_source,
    existing_file,
    existing_folder,
    non_negative_float,
    non_negative_int,
    number,
    positive_float,
    positive_int,
    score_weight,
    share,
    whole_number,
)
from irish_tune.json_output import print_json
from irish_tune.parser import build_parser, parse_args  # noqa: F401 - re-exported (tests)

if TYPE_CHECKING:
    from tokenization.file_bytes import FolderFiles

__all__ = [
    "MAX_WEIGHT",
    "BinaryInputError",
    "DefaultsHelpFormatter",
    "abc_source",
    "build_parser",
    "close_progress_bars",
    "existing_file",
    "existing_folder",
    "error_line",
    "first_line",
    "load_saved",
    "main",
    "non_negative_float",
    "non_negative_int",
    "number",
    "positive_float",
    "positive_int",
    "progress_bar_class",
    "read_dump",
    "read_input",
    "refuse_usage_problem",
    "run_command",
    "share",
    "tune_texts",
    "score_weight",
    "require_folder",
    "require_model_type",
    "whole_number",
]

_T = TypeVar("_T")


def _check_paths(names: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Files and folders as given, with music21's bundled books named by their collection;
    and the short names (``oneills1850/0001-0050.abc``) shown for the books' files."""
    from pathlib import Path

    from modeling_irish.abc_sources import (
        MUSIC21_COLLECTIONS,
        distinct_sources,
        music21_collection_files,
        source_warnings,
    )

    paths: list[str] = []
    labels: dict[str, str] = {}
    with source_warnings() as said:  # a source given twice: read once, with a warning
        distinct = [str(name) for name in distinct_sources(names, said)]
    for name in distinct:
        if name in (*MUSIC21_COLLECTIONS, "music21") and not Path(name).exists():
            for path in music21_collection_files(name):
                paths.append(str(path))
                labels[str(path)] = f"{path.parent.name}/{path.name}"
        else:
            paths.append(name)
    return paths, labels


def tune_texts(names: list[str], without: list[tuple[str, str]] | None = None) -> Iterator[Any]:
    """Every tune of the command line's sources, in order, as a `RawTune` (text, source and line,
    so that an error names the line of its file): files, folders, thesession dumps, music21's
    books and ``-`` (stdin, named ``stdin``). A dump row that gives no tune comes too, as a
    `RawTune` with its ``unreadable`` reason and no text: the commands count it as a tune they
    could not read (`RawTune.locate` of any error of it gives that reason).

    A source that holds no tune (an empty, binary or prose file) is named, with why, in a
    warning when there are several (the others' tunes would hide it), as `iter_raw_tunes` does,
    and added as ``(source, why)`` to ``without``: a command left with nothing says why. Those
    warnings, and those of a folder's files without tunes, are capped for all the sources at
    once, with the other warnings of reading them (`source_warnings`: of each kind, the first
    few, then a count by reason).

    A folder that holds no ``*.abc`` file is refused as ``check`` refuses it, before any tune
    is read (`_walked_folders`: a usage error, exit status 2): a mistyped path, not a source
    without tunes. Each folder is walked once: its files are read from that walk.
    """
    from modeling_irish.abc_sources import (
        distinct_sources,
        iter_raw_tunes,
        no_tune_reason,
        source_warnings,
        text_tunes,
        text_without_tunes,
        warn_no_tunes,
    )

    walked = _walked_folders(names)
    with source_warnings() as said:
        for name in distinct_sources(names, said):  # a source given twice: read once
            name = str(name)
            found = False
            if name == "-":
                text = read_input("-")
                tunes, where = text_tunes(text, "stdin", said=said), "stdin"
            else:
                tunes = iter_raw_tunes(name, unreadable=True, said=said, walked=walked)
                where = name
            for raw in tunes:
                found = True
                yield raw
            if found:
                continue
            why = text_without_tunes(text, "empty input") if name == "-" else no_tune_reason(name)
            if len(names) > 1:
                warn_no_tunes(said, where, why)
            if without is not None:
                without.append((where, why))


def _walked_folders(names: Sequence[str]) -> dict[str, FolderFiles]:
    """The `abc_files` of each folder among ``names``, by its name as given;
    a folder that holds none is refused in the one wording of ``check`` (`no_abc_files_error`:
    a `FileNotFoundError`, a usage error, exit status 2; no ``--json`` output), what it has
    passed over counted."""
    from tokenization.file_bytes import abc_files, no_abc_files_error

    walked: dict[str, FolderFiles] = {}
    for name in names:
        if name != "-" and os.path.isdir(name):
            found = abc_files(name)
            if not found.files:
                raise no_abc_files_error(name, found)
            walked[name] = found
    return walked


def refuse_usage_problem(problem: str | None) -> None:
    """Raise ``problem`` of a command's arguments taken together (an ``irish_tune`` module's
    ``*_usage_problem``) as a `ValueError` (usage, exit status 2): `irish_tune.parser.parse_args`
    refuses it with the usage line, and a runner again for arguments built in Python.

    >>> refuse_usage_problem(None)
    >>> refuse_usage_problem("--render needs --out")
    Traceback (most recent call last):
    ...
    ValueError: --render needs --out
    """
    if problem:
        raise ValueError(problem)


def read_dump(path: str, unreadable: bool = False) -> list[Any] | None:
    """The tunes (`RawTune`) of a thesession.org dump (a ``.csv`` / ``.json`` / ``.jsonl``
    file, maybe compressed: `dump_format`), read as the corpus loader reads them (X: is the row
    number; ``unreadable``: rows that give no tune too, with their reason); None for any other
    path (``-``, an ABC file, a missing file), to be read as ABC text."""
    from modeling_irish.session_dump import dump_format

    if path == "-" or not dump_format(path) or not os.path.isfile(path):
        return None
    from modeling_irish.abc_sources import iter_raw_tunes

    return list(iter_raw_tunes(path, unreadable=unreadable))


def _dump_tunes(path: str) -> list[Any] | None:
    """The tunes of a thesession.org dump (`read_dump`) as ABC texts named by their row
    (`PlacedTune`), and a row that gives no tune as an `UnreadableTune` (``row 3``, why): a
    tune that fails. None for any other file."""
    from tokenization.check import PlacedTune, UnreadableTune

    raws = read_dump(path, unreadable=True)
    if raws is None:
        return None
    return [
        UnreadableTune(f"row {raw.row}", raw.unreadable)
        if raw.unreadable
        else PlacedTune(f"row {raw.row}", raw.text)
        for raw in raws
    ]


def progress_bar_class() -> type:
    """The bar that ``tqdm.auto`` picks, without importing it where no notebook can be running:
    ``tqdm.auto`` imports asyncio (a tenth of a second, half of a one-tune ``irish-tune check``)
    for a bar that outside a notebook is tqdm's terminal bar (`tqdm.std.tqdm`) all the same. With
    IPython loaded, ``tqdm.auto``'s choice (a notebook's widget bar)."""
    if "IPython" in sys.modules:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm


def close_progress_bars() -> None:
    """Close every tqdm bar still open: those of a command that Ctrl-C stopped. A bar iterated
    in a ``for`` loop (`TuneIndex.build`'s "Reading tunes") is closed only when the stopped
    loop's frame is freed, after the command said "interrupted", and it was then drawn once
    more below that line. Closed here, a bar that stays (``leave``) is drawn where it stopped
    and one that does not is cleared, before the line. Nothing is imported where no bar was."""
    module = sys.modules.get("tqdm.std")
    if module is None:
        return
    # tqdm's own set of its open bars (weak references), shared by its subclasses
    for bar in list(getattr(module.tqdm, "_instances", ())):
        bar.close()


def run_check(args: argparse.Namespace) -> int:
    """``irish-tune check``: counts of tunes, parsed, round-trip-ok and the failures (and with
    ``--bars``, how many tunes have every full bar fitting the meter); ``--jobs`` worker
    processes check the tunes (`WorkerPool`), in input order."""
    from tokenization.check import check_files

    tqdm = progress_bar_class()
    paths, labels = _check_paths(args.files)
    # on a terminal only (disable=None), on stderr, and cleared at the end: stdout stays the report
    with tqdm(desc="Checking", unit=" tunes", disable=None, leave=False) as bar:
        report = check_files(
            paths,
            bars=args.bars,
            labels=labels,
            tunes_of=_dump_tunes,
            progress=bar.update,
            jobs=args.jobs,
        )
    failed = bool(report.failures) or bool(report.bars is not None and report.bars.problems)
    status = 1 if failed and not args.exit_zero else 0
    if args.json:
        print_json(report.to_dict(), "check")
        return status
    print(report.summary())
    _print_listed([f"FAIL {f['tune']}: {f['error']}" for f in report.failures], args.max_failures)
    if report.bars is not None:
        bars = report.bars
        share = f" ({bars.fit / bars.checked:.1%})" if bars.checked else ""
        print(
            f"bars fit the meter in {bars.fit} of {bars.checked} tunes{share}; "
            f"{bars.free_meter} in free meter and {bars.no_bar_lines} without bar lines not checked"
        )
        lines = [f"BARS {p['tune']}: {'; '.join(p['problems'][:3])}" for p in bars.problems]
        _print_listed(lines, args.max_failures)
    return status


def _print_listed(lines: list[str], limit: int) -> None:
    for line in lines[:limit]:
        print(f"  {line}")
    if len(lines) > limit:
        print(f"  ... and {len(lines) - limit} more (use --json for all)")


class BinaryInputError(ValueError):
    """An input of `read_input` refused as binary: NUL bytes and no tune (`is_binary_text`)."""


def read_input(path: str) -> str:
    """The text of an ABC file, or of stdin for ``-`` (`decode_abc`: UTF-8, else Windows-1252).
    A text with NUL bytes is refused as binary (`BinaryInputError`) only when no tune is found
    in it, as `irish-tune check` decides (`is_binary_text`): a stray NUL inside one tune of a
    tunebook fails that tune alone, where the command reads it, and the other tunes are read.
    A compressed file is read decompressed; an archive (zip, tar) is a `ValueError` that says
    to extract it (`read_file_bytes`)."""
    from tokenization.check import is_binary_text, read_abc_file, read_stdin
    from tokenization.file_bytes import NOT_TEXT

    if path == "-":
        text = read_stdin()
    elif not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    elif os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder; give an ABC file")
    else:
        text = read_abc_file(path)
    if is_binary_text(text):
        where = "stdin" if path == "-" else path
        raise BinaryInputError(f"{where} is {NOT_TEXT}")
    return text


def require_folder(path: str, what: str = "model") -> str:
    """``path`` if it is a local folder, else a `FileNotFoundError` that says so, in words for
    the command line and for Python callers (`build_demo`) alike: saved folders only are read
    (nothing is downloaded at run time); a Hub model is fetched first, e.g. ``hf download
    user/name --local-dir DIR``.

    >>> try:
    ...     require_folder("nope")
    ... except FileNotFoundError as err:
    ...     print(str(err).replace("; ", ";\\n"))
    no model folder 'nope' (models are read from local folders only, nothing is downloaded;
    fetch one from the Hub first: hf download USER/NAME --local-dir DIR)
    """
    if os.path.isfile(path):
        raise FileNotFoundError(f"{path!r} is a file; give the {what} folder")
    if not os.path.isdir(path):
        hint = (
            "build one with irish-tune index"
            if what == "index"
            else f"{what}s are read from local folders only, nothing is downloaded; fetch one "
            "from the Hub first: hf download USER/NAME --local-dir DIR"
        )
        raise FileNotFoundError(f"no {what} folder {path!r} ({hint})")
    return path


def require_model_type(folder: str, wanted: str, hint: str = "", flag: str = "--model") -> str:
    """``folder`` if it is a saved model of type ``wanted`` (its config.json's ``model_type``),
    else an error that names what it holds: a tune-title folder given to a command that wants a
    MeasureNote model, an empty folder, ... ``hint`` is added to the message, which names the
    option as ``flag``."""
    require_folder(folder)
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{folder!r} holds no saved model (no config.json)")
    try:
        with open(path, encoding="utf-8") as handle:
            found = json.load(handle).get("model_type")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as err:
        raise ValueError(f"{path} is damaged: not a JSON object ({err})") from None
    if found != wanted:
        raise ValueError(
            f"{folder!r} holds a {found!r} model; {flag} wants a {wanted!r} model{hint}"
        )
    return folder


def first_line(err: BaseException, empty: str | None = None) -> str:
    """The first line of an error's message, cut at a line feed only: a message quotes the
    user's text (a title, a field), which may hold a U+2028, form feed or U+0085 that ABC keeps
    inside a line (`abc_lines`) and `str.splitlines` would cut at, losing the line, column and
    reason that follow. ``empty``: what an empty message gives (default: the error's type).

    >>> first_line(ValueError("T:a\\u2028b: line 2, column 3: bad\\nmore"))
    'T:a\\u2028b: line 2, column 3: bad'
    """
    text = str(err).strip()
    if not text:
        return type(err).__name__ if empty is None else empty
    return text.split("\n", 1)[0].rstrip("\r")


def load_saved(load: Callable[[], _T], folder: str) -> _T:
    """``load()`` (a ``from_pretrained``), with a damaged or inconsistent folder reported as one
    `ValueError` naming it: safetensors and torch raise their own errors (a truncated weights
    file, a config whose sizes do not match the weights), which would end in a traceback. The
    "Loading weights" bar of transformers is left out: the models load in well under a second."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return load()
    except (OSError, ValueError):
        raise
    except Exception as err:  # noqa: BLE001 (SafetensorError, RuntimeError: size mismatch)
        raise ValueError(
            f"cannot load the model in {folder!r}: {type(err).__name__}: "
            f"{first_line(err, '')[:300]}"
        ) from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _resolve(target: str) -> Callable[[argparse.Namespace], int]:
    import importlib

    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``irish-tune`` command line: `argv` read (`parse_args`), then run;
    stdout is made UTF-8 first when run from the command line (`irish_tune.utf8_stdout`)."""
    if argv is None:
        from irish_tune import utf8_stdout

        utf8_stdout()
    return run_command(parse_args(argv))


def run_command(args: argparse.Namespace) -> int:
    """Run the command of the parsed arguments ``args`` (`irish_tune.parser.parse_args`); returns
    the exit status: a bad input or missing file is one line on stderr and 2."""
    try:
        return int(_resolve(args._target)(args) or 0)
    except KeyboardInterrupt:
        from irish_tune import say_interrupted

        close_progress_bars()  # before the line: not drawn once more after it
        say_interrupted(args.command)  # once: a second Ctrl-C ends the process (irish_tune)
        return 130
    except BrokenPipeError:  # the reader left (`irish-tune check ... --json | head`): quietly
        # stop; stdout goes to /dev/null so that the interpreter's last flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
    except (OSError, ValueError) as err:  # bad input (AbcParseError is a ValueError); OSError:
        # missing files, folders that are not saved models (transformers raises OSError)
        line = _stdout_failure(err) or error_line(err)
        print(f"irish-tune {args.command}: {line}", file=sys.stderr)
        return 2


def _stdout_failure(err: BaseException) -> str | None:
    """The line `run_command` prints for ``err`` when it is a failed write to standard output
    (``irish-tune check tunes.abc > /dev/full``: Python's ``OSError`` names no file), ``cannot
    write to standard output: REASON``; None for any other error. Told apart by stdout refusing
    a write now too (what it holds is flushed): an error that names no file (a folder that is no
    saved model) leaves stdout writable. A failed write is the system's (it has an errno): our
    own OSErrors (``no such file: …``) have none, and /dev/full refuses even an empty flush."""
    stream = sys.stdout
    if not isinstance(err, OSError) or err.errno is None or err.filename is not None:
        return None  # not a failed write
    if stream is None:
        return None
    try:
        stream.write("")
        stream.flush()
    except OSError:
        return f"cannot write to standard output: {err.strerror or first_line(err)}"
    return None


def error_line(err: BaseException) -> str:
    """The one line that `run_command` prints for ``err``: an OSError raised by the system (a
    file without read permission) as a shell tool says it, ``PATH: Permission denied``,
    without Python's ``[Errno 13]`` and quotes; any other error, its `first_line`.

    >>> error_line(PermissionError(13, "Permission denied", "tunes.abc"))
    'tunes.abc: Permission denied'
    >>> error_line(FileNotFoundError("no such file: tunes.abc"))
    'no such file: tunes.abc'
    """
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        names = [str(n) for n in (err.filename, err.filename2) if n is not None]
        return f"{' -> '.join(names)}: {err.strerror}"
    return first_line(err)


if __name__ == "__main__":
    sys.exit(main())
