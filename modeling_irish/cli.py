"""The `irish-tune` command line: everything a user runs besides training."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = [
    "BinaryInputError",
    "DefaultsHelpFormatter",
    "existing_folder",
    "first_line",
    "load_saved",
    "main",
    "non_negative_float",
    "non_negative_int",
    "number",
    "positive_int",
    "read_dump",
    "read_input",
    "tune_texts",
    "score_weight",
    "require_folder",
    "require_model_type",
    "whole_number",
]

_AddArguments = Callable[[argparse.ArgumentParser], None]
_T = TypeVar("_T")
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], str]] = {}


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that shows each flag's default, unless the help already speaks of it or the default
    is None, False or empty (argparse's `ArgumentDefaultsHelpFormatter` prints those too)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default  # `is`: 0 and 0.0 are defaults worth showing, False is not
        quiet = default is None or default is False or default == argparse.SUPPRESS
        quiet = quiet or action.nargs == 0  # a switch (store_true/false): its default says little
        quiet = quiet or (isinstance(default, (list, tuple)) and not default)
        if quiet or "default" in text.lower():
            return text
        return f"{text} (default: %(default)s)"


def command(name: str, help_text: str, target: str) -> Callable[[_AddArguments], _AddArguments]:
    """Register a sub-command: ``target`` is ``"module:function"`` taking the parsed args."""

    def decorate(add_arguments: _AddArguments) -> _AddArguments:
        _COMMANDS[name] = (help_text, add_arguments, target)
        return add_arguments

    return decorate


@command(
    "check", "read, tokenize and round-trip every tune of ABC files", "modeling_irish.cli:run_check"
)
def _check_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        help="ABC files, folders of .abc files, thesession.org dumps (tunes.csv / tunes.json), "
        "- for stdin, or the books bundled with music21: oneills1850, ryansMammoth, music21 "
        "(both)",
    )
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")
    parser.add_argument(
        "--bars",
        action="store_true",
        help="also check that every full bar sums to its meter (pickups, section ends and "
        'endings aside); JSON gets a "bars" object',
    )
    parser.add_argument(
        "--max-failures", type=positive_int, default=20, help="failures listed in text mode"
    )
    parser.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when tunes fail (by default the exit status is 1 when any tune cannot "
        "be read or round-tripped, or with --bars has a bar that does not fit, as linters do)",
    )


def _check_paths(names: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Files and folders as given, with music21's bundled books named by their collection;
    and the short names (``oneills1850/0001-0050.abc``) shown for the books' files."""
    from pathlib import Path

    from modeling_irish.abc_corpus import MUSIC21_COLLECTIONS, music21_collection_files

    paths: list[str] = []
    labels: dict[str, str] = {}
    for name in names:
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
    """
    from modeling_irish.abc_sources import (
        iter_raw_tunes,
        no_tune_reason,
        source_warnings,
        text_tunes,
        text_without_tunes,
        warn_no_tunes,
    )

    with source_warnings() as said:
        for name in names:
            found = False
            if name == "-":
                text = read_input("-")
                tunes, where = text_tunes(text, "stdin", said=said), "stdin"
            else:
                tunes, where = iter_raw_tunes(name, unreadable=True, said=said), name
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


def read_dump(path: str, unreadable: bool = False) -> list[Any] | None:
    """The tunes (`RawTune`) of a thesession.org dump (a ``.csv`` / ``.json`` file), read as
    the corpus loader reads them (X: is the row number; ``unreadable``: rows that give no tune
    too, with their reason); None for any other path (``-``, an ABC file, a missing file), to
    be read as ABC text."""
    if path == "-" or not path.lower().endswith((".csv", ".json")) or not os.path.isfile(path):
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


def run_check(args: argparse.Namespace) -> int:
    """``irish-tune check``: counts of tunes, parsed, round-trip-ok and the failures (and with
    ``--bars``, how many tunes have every full bar fitting the meter)."""
    from tqdm.auto import tqdm

    from tokenization.check import check_files

    paths, labels = _check_paths(args.files)
    # on a terminal only (disable=None), on stderr, and cleared at the end: stdout stays the report
    with tqdm(desc="Checking", unit=" tunes", disable=None, leave=False) as bar:
        report = check_files(
            paths, bars=args.bars, labels=labels, tunes_of=_dump_tunes, progress=bar.update
        )
    failed = bool(report.failures) or bool(report.bars is not None and report.bars.problems)
    status = 1 if failed and not args.exit_zero else 0
    if args.json:
        print(json.dumps(report.to_dict()))
        return status
    print(report.summary())
    _print_listed([f"FAIL {f['tune']}: {f['error']}" for f in report.failures], args.max_failures)
    if report.bars is not None:
        bars = report.bars
        share = f" ({bars.fit / bars.checked:.1%})" if bars.checked else ""
        print(
            f"bars fit the meter in {bars.fit} of {bars.checked} tunes{share}; "
            f"{bars.free_meter} in free meter not checked"
        )
        lines = [f"BARS {p['tune']}: {'; '.join(p['problems'][:3])}" for p in bars.problems]
        _print_listed(lines, args.max_failures)
    return status


def _print_listed(lines: list[str], limit: int) -> None:
    for line in lines[:limit]:
        print(f"  {line}")
    if len(lines) > limit:
        print(f"  ... and {len(lines) - limit} more (use --json for all)")


def whole_number(text: str) -> int:
    """argparse type: an integer (its error names the text)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def number(text: str) -> float:
    """argparse type: a number (its error names the text)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    value = number(text)
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


#: The largest weight a scoring option takes (`score_weight`): far above any useful one (the
#: hybrid's is 8), far below where the float scores it multiplies overflow.
MAX_WEIGHT = 1e6  # = edit_distance.MAX_SCORE_WEIGHT (not imported: the CLI starts light)


def score_weight(text: str) -> float:
    """argparse type: a weight of a score, a finite number from 0 to `MAX_WEIGHT` (a weight
    like 1e308 overflows the scores it multiplies and silently changes the ranking).

    >>> score_weight("8")
    8.0
    """
    value = non_negative_float(text)
    if value > MAX_WEIGHT:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_WEIGHT:.0f} (far larger weights overflow the scores), got {text}"
        )
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = number(text)
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def share(text: str) -> float:
    """argparse type: a share between 0 and 1, both included."""
    value = number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, got {text}")
    return value


def existing_file(text: str) -> str:
    """argparse type: a local file that exists (checked when the arguments are read, before any
    slow work)."""
    if not os.path.isfile(text):
        what = "is a folder, not a file" if os.path.isdir(text) else "no such file"
        raise argparse.ArgumentTypeError(f"{what}: {text}")
    return text


def abc_source(text: str) -> str:
    """argparse type: an ABC source that exists: a file, a folder, ``music21`` or one of its
    bundled books (``oneills1850``, ``ryansMammoth``), as `load_abc_corpus` reads them.

    >>> abc_source("oneills1850")
    'oneills1850'
    """
    from modeling_irish.abc_sources import MUSIC21_COLLECTIONS

    if not os.path.exists(text) and text not in (*MUSIC21_COLLECTIONS, "music21"):
        raise argparse.ArgumentTypeError(
            f"no such file or folder: {text} (nor 'music21' or one of "
            f"{sorted(MUSIC21_COLLECTIONS)})"
        )
    return text


def existing_folder(text: str) -> str:
    """argparse type: a local folder that exists (checked when the arguments are read: a
    missing one would otherwise be taken for a Hub repository name, with minutes of retries)."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    return text


class BinaryInputError(ValueError):
    """An input of `read_input` refused as binary: NUL bytes and no tune (`is_binary_text`)."""


def read_input(path: str) -> str:
    """The text of an ABC file, or of stdin for ``-`` (`decode_abc`: UTF-8, else Windows-1252).
    A text with NUL bytes is refused as binary (`BinaryInputError`) only when no tune is found
    in it, as `irish-tune check` decides (`is_binary_text`): a stray NUL inside one tune of a
    tunebook fails that tune alone, where the command reads it, and the other tunes are read."""
    from tokenization.check import is_binary_text, read_abc_file, read_stdin

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
        raise BinaryInputError(f"{where} is not a text file (NUL bytes)")
    return text


def require_folder(path: str, what: str = "model") -> str:
    """``path`` if it is a local folder, else a `FileNotFoundError` that says so. The command line
    loads saved folders only (nothing is downloaded at run time); a Hub model is fetched first,
    e.g. ``hf download user/name --local-dir DIR``."""
    if os.path.isfile(path):
        raise FileNotFoundError(f"{path!r} is a file; give the {what} folder")
    if not os.path.isdir(path):
        hint = (
            "build one with irish-tune index"
            if what == "index"
            else "the command line loads local folders; fetch a Hub model first: "
            "hf download USER/NAME --local-dir DIR"
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


def _register_module_commands() -> None:
    """Sub-commands whose code lives in their own modules (``add_<name>_args`` / ``run_<name>``)."""
    import importlib

    for name, module, help_text in (
        ("evaluate-lm", "modeling_irish.lm_evaluation", "per-token NLL and perplexity of a model"),
        ("generate", "modeling_irish.generation_cli", "sample tunes that scan, in a real key"),
        ("render", "modeling_irish.generation_cli", "render ABC tunes to SVG, MIDI and WAV"),
        (
            "evaluate-generation",
            "modeling_irish.generation_cli",
            "validity, structure, copying and histogram distances of samples",
        ),
        ("index", "modeling_irish.retrieval_cli", "build a name-that-tune index over a corpus"),
        ("identify", "modeling_irish.retrieval_cli", "name a tune from an ABC snippet"),
        (
            "evaluate-retrieval",
            "modeling_irish.retrieval_cli",
            "MRR@k and R@k of title retrieval (known or unseen tunes)",
        ),
    ):
        snake = name.replace("-", "_")
        add = getattr(importlib.import_module(module), f"add_{snake}_args")
        _COMMANDS[name] = (help_text, add, f"{module}:run_{snake}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="irish-tune",
        description="Read, generate, render and identify Irish traditional tunes in ABC notation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _register_module_commands()
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, target) in _COMMANDS.items():
        child = sub.add_parser(
            name, help=help_text, description=help_text, formatter_class=DefaultsHelpFormatter
        )
        add_arguments(child)
        child.set_defaults(_target=target)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("modeling-irish")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "(not installed)"


def _command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The parser of the sub-command ``command``."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


def _gather_files(
    parser: argparse.ArgumentParser, args: argparse.Namespace, unknown: list[str]
) -> list[str]:
    """Add to the command's list of files (its ``nargs="+"`` positional: ``files``, ``corpus``)
    the ones given after an option (``check one.abc --bars three.abc``): argparse fills a
    positional from its first run of values only and leaves the later ones over, in order.
    After a ``--`` every argument is a file; before it, one that starts with ``-`` (but ``-``,
    stdin) is a flag the command does not have. Returns what is still unknown: those flags,
    else the values a command of no list positional (``identify FILE``) cannot take."""
    child = _command_parser(parser, args.command)
    listed = [a for a in child._get_positional_actions() if a.nargs in ("+", "*")]
    if not listed:
        return unknown
    files: list[str] = []
    flags: list[str] = []
    dashes = False
    for arg in unknown:
        if arg == "--" and not dashes:
            dashes = True
        elif not dashes and arg.startswith("-") and arg != "-":
            flags.append(arg)
        else:
            files.append(arg)
    getattr(args, listed[0].dest).extend(files)
    return flags


def _refuse_unknown(parser: argparse.ArgumentParser, command: str, unknown: list[str]) -> None:
    """Exit with the usage of ``command`` (not the top-level one) naming the ``unknown``
    arguments, with the nearest of its flags for each misspelled one (``--jsn``: ``--json``)."""
    import difflib

    child = _command_parser(parser, command)
    flags = [flag for action in child._actions for flag in action.option_strings]
    hints = []
    for arg in unknown:
        if arg.startswith("-") and len(arg) > 1:
            close = difflib.get_close_matches(arg.split("=", 1)[0], flags, n=1)
            named = f"{arg}: " if len(unknown) > 1 else ""
            hints += [f"{named}did you mean {close[0]}?"] if close else []
    message = f"unrecognized arguments: {' '.join(unknown)}"
    child.error(message + "".join(f" ({hint})" for hint in hints))


def _refuse_dropped_values(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str]
) -> None:
    """Exit with the usage of the command when an option of one value was given ``--`` as its
    value (``--max-failures=--``): argparse up to Python 3.12.2 (3.11 here) drops that ``--``
    and sets the option to ``[]`` without calling its type, and the command then failed in a
    traceback; 3.13 refuses it with this same message. An ``[]`` alone does not tell: a type
    may return one (``--formats ""``), so the ``--`` must be in ``argv`` too."""
    child = _command_parser(parser, args.command)
    for action in child._actions:
        value = getattr(args, action.dest, None)
        dropped = action.nargs is None and value == [] and value is not action.default
        if dropped and action.option_strings and _gave_double_dash(action, argv):
            child.error(f"argument {'/'.join(action.option_strings)}: expected one argument")


def _gave_double_dash(action: argparse.Action, argv: Sequence[str]) -> bool:
    """Whether ``argv`` gives the option ``action`` a ``--`` joined to it, as argparse reads
    one: ``--flag=--``, ``--fl=--`` (a prefix), ``-k--`` or ``-k=--``; a bare ``--`` ends the
    options."""
    for arg in argv:
        if arg == "--":
            return False
        if arg.startswith("-") and arg.endswith("--"):
            head = arg[:-2].removesuffix("=")
            for option in action.option_strings:
                if option == head or (head.startswith("--") and option.startswith(head)):
                    return True
    return False


def _resolve(target: str) -> Callable[[argparse.Namespace], int]:
    import importlib

    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``irish-tune`` console script."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    _refuse_dropped_values(parser, args, sys.argv[1:] if argv is None else argv)
    unknown = _gather_files(parser, args, unknown)
    if unknown:
        _refuse_unknown(parser, args.command, unknown)
    try:
        return int(_resolve(args._target)(args) or 0)
    except KeyboardInterrupt:
        print(f"irish-tune {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`irish-tune check ... --json | head`): quietly
        # stop; stdout goes to /dev/null so that the interpreter's last flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
    except (OSError, ValueError) as err:  # bad input (AbcParseError is a ValueError); OSError:
        # missing files, folders that are not saved models (transformers raises OSError)
        print(f"irish-tune {args.command}: {first_line(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
