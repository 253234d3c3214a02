"""The parser of `irish-tune`: every sub-command's arguments, read and checked before any of
the code that runs a command is imported. Only argparse and the light modules beside this one
are imported here: ``irish-tune --help``, ``irish-tune COMMAND --help`` and a mistyped flag are
answered at once, where the commands themselves load torch and transformers (seconds)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .arg_types import DefaultsHelpFormatter, VersionAction, non_negative_float, positive_int
from .demo_cli_args import add_demo_args
from .generation_cli_args import (
    add_evaluate_generation_args,
    add_generate_args,
    add_render_args,
    evaluate_generation_usage_problem,
    generate_usage_problem,
    render_usage_problem,
)
from .retrieval_cli_args import (
    add_evaluate_retrieval_args,
    add_identify_args,
    add_index_args,
    evaluate_retrieval_usage_problem,
    identify_usage_problem,
    index_usage_problem,
)

__all__ = [
    "DEFAULT_CACHE_DIR",
    "EXAMPLES",
    "add_check_args",
    "add_evaluate_lm_args",
    "add_prune_cache_args",
    "add_transpose_args",
    "build_parser",
    "parse_args",
]

_AddArguments = Callable[[argparse.ArgumentParser], None]

#: The checks of a command's arguments taken together that argparse cannot make (one of two
#: options, either or both; an option that another makes useless): each returns why they are
#: refused, or None.
_USAGE_CHECKS: dict[str, Callable[[argparse.Namespace], str | None]] = {
    "evaluate-generation": evaluate_generation_usage_problem,
    "evaluate-retrieval": evaluate_retrieval_usage_problem,
    "generate": generate_usage_problem,
    "identify": identify_usage_problem,
    "index": index_usage_problem,
    "render": render_usage_problem,
}


def add_check_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune check``."""
    parser.add_argument(
        "files",
        nargs="+",
        help="ABC files, folders of .abc files, thesession.org dumps (tunes.csv / tunes.json / "
        "tunes.jsonl), any of them gzip, bzip2 or xz compressed (tunes.csv.gz), - for stdin, "
        "or the books bundled with music21: oneills1850, ryansMammoth, music21 (both)",
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
        "--jobs",
        type=positive_int,
        default=None,
        help="worker processes that check the tunes, the report the same whatever their number "
        "(default: once a run reaches 500 tunes, one a CPU this process may use, at most 8; "
        "1: none)",
    )
    parser.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when tunes fail (by default the exit status is 1 when any tune cannot "
        "be read or round-tripped, or with --bars has a bar that does not fit, as linters do)",
    )


def add_transpose_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune transpose``."""
    parser.add_argument(
        "files",
        nargs="+",
        help="ABC files, folders of .abc files, thesession.org dumps, - for stdin, or the books "
        "bundled with music21 (as check reads them)",
    )
    parser.add_argument(
        "--key",
        default=None,
        help="key to write every tune in: a tonic and an optional mode, e.g. G, Ador, 'E dorian' "
        "or F#m ('B flat', 'F sharp minor' read as Bb, F#m), of each tune's mode (a tune of "
        "another mode is named and left out), its notes moved by the nearest interval, a "
        "tritone down (F to B goes down 6 semitones); default: "
        "each tune normalised as the training corpus is, on the white keys of its mode "
        "(K:Ddor for a D or E dorian tune), its own key kept in Z:",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="file to write the tunes to, replaced whole once all are written (default: "
        "stdout); a device or pipe (/dev/stdout, a mkfifo pipe) is written into, not replaced; "
        "a link to a file stays a link, the file it leads to replaced",
    )


def add_evaluate_lm_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune evaluate-lm``."""
    parser.add_argument("--model", required=True, help="folder of a trained MeasureNote model")
    parser.add_argument("files", nargs="+", help="ABC tunebooks or folders to score, - for stdin")
    parser.add_argument(
        "--batch-size", type=positive_int, default=16, help="tunes per forward pass"
    )
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")


#: The cache folder of ``training/train.py`` run with its default ``--output_dir`` (runs/<task>):
#: ``.cache`` beside it (`training.run_folder.cache_folder`), the one of both tasks. The corpus
#: loader caches only where ``cache_dir=`` says.
DEFAULT_CACHE_DIR = "runs/.cache"


def add_prune_cache_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune prune-cache``."""
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="cache folder to prune: train.py's --cache_dir, or the cache_dir= given to "
        f"load_abc_corpus (default: {DEFAULT_CACHE_DIR}, train.py's own, beside its default "
        "output folders)",
    )
    parser.add_argument(
        "--older-than-days",
        type=non_negative_float,
        default=30.0,
        help="remove the entries no load or run has used for this many days (0: all)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be removed, remove nothing"
    )
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")


def _commands() -> dict[str, tuple[str, _AddArguments, str]]:
    """The sub-commands in the order ``--help`` lists them: name -> (help, the builder of its
    arguments, ``"module:function"`` that runs it on the parsed arguments, imported only then)."""
    return {
        "check": (
            "read, tokenize and round-trip every tune of ABC files",
            add_check_args,
            "modeling_irish.cli:run_check",
        ),
        "transpose": (
            "write every tune of ABC files in a key, or normalised as the training corpus is",
            add_transpose_args,
            "modeling_irish.transpose_cli:run_transpose",
        ),
        "evaluate-lm": (
            "per-token NLL and perplexity of a model",
            add_evaluate_lm_args,
            "modeling_irish.lm_evaluation:run_evaluate_lm",
        ),
        "generate": (
            "sample tunes that scan, in a real key",
            add_generate_args,
            "modeling_irish.generation_cli:run_generate",
        ),
        "render": (
            "render ABC tunes to SVG, MIDI, WAV and MusicXML",
            add_render_args,
            "modeling_irish.generation_cli:run_render",
        ),
        "evaluate-generation": (
            "validity, structure, copying and histogram distances of samples",
            add_evaluate_generation_args,
            "modeling_irish.generation_cli:run_evaluate_generation",
        ),
        "index": (
            "build a name-that-tune index over a corpus",
            add_index_args,
            "modeling_irish.retrieval_cli:run_index",
        ),
        "identify": (
            "name a tune from an ABC snippet",
            add_identify_args,
            "modeling_irish.retrieval_cli:run_identify",
        ),
        "evaluate-retrieval": (
            "MRR@k and R@k of title retrieval (known or unseen tunes)",
            add_evaluate_retrieval_args,
            "modeling_irish.retrieval_evaluation_cli:run_evaluate_retrieval",
        ),
        "prune-cache": (
            "remove the corpus, vocabulary and tokenized caches unused for N days",
            add_prune_cache_args,
            "modeling_irish.cache_cli:run_prune_cache",
        ),
        "demo": (
            "try a model in a browser: a local Gradio app to generate and name tunes",
            add_demo_args,
            "modeling_irish.demo_app:run_demo",
        ),
    }


#: A few command lines of each sub-command, shown at the end of its ``--help`` (as in the docs).
EXAMPLES = {
    "check": [
        "irish-tune check tunes.abc                # exit status 1 when a tune fails",
        "irish-tune check --bars oneills1850 --json",
        "cat tunes.abc | irish-tune check -",
    ],
    "transpose": [
        "irish-tune transpose tunes.abc --key 'A dorian' -o in_a.abc",
        "irish-tune transpose tunes.abc > normalised.abc  # on the white keys, as the corpus",
        "cat kesh.abc | irish-tune transpose - --key A",
    ],
    "evaluate-lm": ["irish-tune evaluate-lm --model runs/measurenote-small my_tunes.abc --json"],
    "generate": [
        "irish-tune generate --model runs/measurenote-small --rhythm jig --key 'E dorian'",
        "irish-tune generate --model runs/measurenote-small --out out/ --render svg,midi",
        "irish-tune generate --model runs/measurenote-small --prompt incipit.abc --num-tunes 2",
    ],
    "render": ["irish-tune render out/tune_1.abc --out out/ --formats svg,midi"],
    "evaluate-generation": [
        "irish-tune evaluate-generation --model runs/measurenote-small --num-tunes 200 \\",
        "    --train tunes.abc --json",
    ],
    "index": [
        "irish-tune index --model runs/tune-title tunes.abc           # into runs/tune-title/index",
        "irish-tune index --tokenizer runs/measurenote-small tunes.abc --out runs/session-index",
    ],
    "identify": [
        "irish-tune identify --model runs/tune-title snippet.abc -k 5",
        "irish-tune identify --index runs/session-index unknown_tunes.abc --json",
    ],
    "evaluate-retrieval": [
        "irish-tune evaluate-retrieval --model runs/tune-title --train train.abc \\",
        "    --queries known.abc --protocol known --json",
    ],
    "prune-cache": [
        "irish-tune prune-cache --dry-run               # what runs/.cache holds unused 30 days",
        "irish-tune prune-cache --cache-dir my/.cache --older-than-days 0 --json  # all of it",
    ],
    "demo": [
        "irish-tune demo --model runs/measurenote-small       # then open http://127.0.0.1:7860",
        "irish-tune demo --model runs/measurenote-small --index runs/session-index --port 7861",
    ],
}


#: What each sub-command's exit statuses mean, shown at the end of its ``--help`` before its
#: examples (README.md, "Exit statuses", lists the same), then `_ANY_COMMAND`'s.
EXIT_STATUSES: dict[str, dict[int, str]] = {
    "check": {
        0: "every tune read and round-tripped (with --bars, every full bar fits its meter); "
        "always with --exit-zero",
        1: "a tune cannot be read or round-tripped, a file holds no tune or cannot be read, "
        "or with --bars a bar does not fit",
        2: "an argument is refused, or no file of that name",
    },
    "transpose": {
        0: "every tune written, as read: what the reader did not read as written (a second "
        "voice dropped, stray brackets...) is said on stderr as check says it, the first 3 of "
        "each kind, without changing the status",
        1: "a tune cannot be read, or is of another mode than --key, or has a note the move "
        "takes out of MIDI 0-127, or a file of several holds no tune: named on stderr and left "
        "out, the others written, a last line counting them",
        2: "an argument is refused (a --key that is no key name), no file of that name, a "
        "folder without *.abc files, no tune in the input, or the output cannot be written: "
        "nothing is written",
    },
    "evaluate-lm": {
        0: "the figures printed",
        1: "--json with no tune to score: the object all the same, null figures",
        2: "an argument, model or input is refused, or no tune to score without --json",
    },
    "generate": {
        0: "every tune is valid (and rendered)",
        1: "a tune is invalid (cut at the hard row limit, or with --unconstrained breaking the "
        "bar and repeat grammar) or could not be rendered (its MusicXML among the --render "
        "formats too): printed or written all the same, with the reason",
        2: "an argument or input is refused, or none of the --render formats can be made on "
        "this machine (a tool is missing), before anything is sampled (a format that cannot "
        "be made beside others that can is skipped, with one note); or a file cannot be "
        "written (a full disk)",
    },
    "render": {
        0: "every tune rendered, as read: what the reader did not read as written (a second "
        "voice dropped...) is said on stderr as check says it, without changing the status",
        1: "a tune could not be rendered (named on stderr, its earlier files left as they were), "
        "or its MusicXML could not be made (its other formats written)",
        2: "an argument or input is refused, none of --formats can be made on this machine, "
        "the soundfont cannot be used, or a file cannot be written (a full disk)",
    },
    "evaluate-generation": {
        0: "the figures printed",
        2: "an argument, model or request is refused, or --train has no readable tune or is "
        "a folder without *.abc files",
    },
    "index": {
        0: "the index saved",
        2: "an argument, model or source is refused, nothing to index, a file cannot be "
        "written, or another save held the folder for 120 s",
    },
    "identify": {
        0: "every tune named",
        1: "a tune of several could not be named (the others are), or with --json the one "
        "tune, or an input with no tune (the object all the same)",
        2: "an argument, model or index is refused, no file of that name, or without --json "
        "the one tune cannot be named or the input holds no tune",
    },
    "evaluate-retrieval": {
        0: "the figures printed",
        1: "--json with no query to score: the object all the same, null figures",
        2: "an argument, model or source is refused, or no query to score without --json",
    },
    "prune-cache": {
        0: "the entries unused for --older-than-days removed (with --dry-run, listed), if any",
        2: "an argument is refused, the cache folder does not exist, or an entry cannot be removed",
    },
    "demo": {
        0: "the server stopped other than by Ctrl-C (130)",
        2: "an argument, model or index is refused, gradio is not installed (pip install "
        '"modeling-irish[demo]"), or the port is taken, before anything is served',
    },
}

#: The exit statuses of every sub-command, after its own (`modeling_irish.cli.run_command`).
_ANY_COMMAND = {
    130: "interrupted (Ctrl-C)",
    141: "the reader of its output went away (a closed pipe: | head)",
}


def _exit_statuses(name: str) -> str:
    """The ``exit status:`` paragraph of the sub-command ``name``: each status and its meaning,
    wrapped under it (kept as written, its lines indented, as the examples)."""
    import textwrap

    lines = ["exit status:"]
    for status, meaning in {**EXIT_STATUSES[name], **_ANY_COMMAND}.items():
        head = f"  {status:<5}"
        lines += textwrap.wrap(
            meaning, width=88, initial_indent=head, subsequent_indent=" " * len(head)
        )
    return "\n".join(lines)


def _epilog(name: str) -> str:
    """The end of the ``--help`` of the sub-command ``name``: its `EXIT_STATUSES`, then its
    `EXAMPLES`, each line indented (kept as written)."""
    examples = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])
    return f"{_exit_statuses(name)}\n\n{examples}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="irish-tune",
        description="Read, generate, render and identify Irish traditional tunes in ABC notation.",
    )
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, target) in _commands().items():
        child = sub.add_parser(
            name, help=help_text, description=help_text, formatter_class=DefaultsHelpFormatter
        )
        add_arguments(child)
        child.epilog = _epilog(name)
        child.set_defaults(_target=target)
    return parser


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
    getattr(args, listed[0].dest).extend(_typed(child, listed[0], files))
    return flags


def _typed(parser: argparse.ArgumentParser, action: argparse.Action, values: list[str]) -> list:
    """``values`` through the ``type`` of the positional ``action``, as argparse passes the ones
    it fills it with (`_gather_files` adds the later ones itself); a refused one exits with the
    command's usage and argparse's message."""
    convert = action.type
    if not callable(convert):  # no type (None); this CLI registers no type by name
        return values
    try:
        return [convert(value) for value in values]
    except argparse.ArgumentTypeError as err:
        parser.error(f"argument {action.dest}: {err}")


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
    may return one, so the ``--`` must be in ``argv`` too."""
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


def _stdin_twice(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """Why the command's list of files (``check - -``, ``transpose a.abc - -``) is refused, or
    None: ``-`` (stdin) given more than once. Stdin is read whole the first time, so a second
    ``-`` read nothing and failed as "empty input"; refused as ``render`` refuses it, because
    ``cat - -`` reads a terminal twice but a pipe or a file once, and no reading pleases both."""
    child = _command_parser(parser, args.command)
    for action in child._get_positional_actions():
        values = getattr(args, action.dest, None)
        if action.nargs in ("+", "*") and isinstance(values, list) and values.count("-") > 1:
            return "'-' (stdin) can be given once"
    return None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line `argv` (default: ``sys.argv[1:]``) read and checked: ``--help``, a missing
    or unknown argument and a bad value end the program here, with argparse's usage and exit
    status 2 (0 for help). The command runs later with `modeling_irish.cli.run_command`."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    _refuse_dropped_values(parser, args, sys.argv[1:] if argv is None else argv)
    unknown = _gather_files(parser, args, unknown)
    if unknown:
        _refuse_unknown(parser, args.command, unknown)
    check = _USAGE_CHECKS.get(args.command)
    problem = check(args) if check is not None else None
    problem = problem or _stdin_twice(parser, args)
    if problem:
        _command_parser(parser, args.command).error(problem)
    return args
