"""The arguments of `irish-tune index`, `identify` and `evaluate-retrieval` (the commands
themselves are in `modeling_irish.retrieval_cli`, imported only when one runs)."""

from __future__ import annotations

import argparse

from .arg_types import named_source, non_negative_int, positive_int, score_weight

__all__ = [
    "HYBRID_WEIGHT",
    "add_evaluate_retrieval_args",
    "add_identify_args",
    "add_index_args",
    "evaluate_retrieval_usage_problem",
    "identify_usage_problem",
    "index_usage_problem",
]

#: = `modeling_irish.name_that_tune.HYBRID_WEIGHT`, the hybrid scorer's default weight, which
#: ``--help`` states (not imported: the command line starts light; a test checks that they agree).
HYBRID_WEIGHT = 8.0


def add_index_args(parser: argparse.ArgumentParser) -> None:
    """`index --model DIR CORPUS... --out INDEX` (or `--tokenizer DIR` without a model)."""
    parser.add_argument("--model", default=None, help="folder of a trained tune-title model")
    parser.add_argument(
        "--tokenizer",
        default=None,
        help="without --model: a tokenizer folder (e.g. a MeasureNote model), with --out; the "
        "index then serves the edit-distance scorer alone",
    )
    parser.add_argument(
        "corpus",
        nargs="+",
        type=named_source,
        help="ABC sources to index (files, folders, dumps; not stdin)",
    )
    parser.add_argument("--out", default=None, help="index folder (default: MODEL/index)")
    parser.add_argument(
        "--unfold-repeats",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="index each setting in the order it is played, repeats and endings unfolded, so "
        "that a snippet played across the end of a part back to its start is found (the "
        "default); --no-unfold-repeats: as written, the earlier index, about 0.7x the time "
        "a query",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="torch threads while embedding (default: 1; on a busy 2-core machine 2 threads "
        "spin-wait, about 8x slower; more may help on an idle many-core machine)",
    )


def index_usage_problem(args: argparse.Namespace) -> str | None:
    """Why the arguments of ``index`` can build no index whatever its sources, or None: neither
    ``--model`` nor ``--tokenizer`` (nothing to read the tunes with), ``--tokenizer`` without
    ``--out`` (the default folder, MODEL/index, needs a model), or both (a model reads its own
    tokenizer). Refused by
    `irish_tune.parser.parse_args` with the command's usage, as argparse's own errors, and again
    by `modeling_irish.retrieval_cli.run_index`, for arguments built in Python."""
    if args.model is not None:
        if args.tokenizer is not None:
            return "--tokenizer is for an index without --model: a model reads its own"
        return None
    if args.tokenizer is None:
        return (
            "one of the arguments --model --tokenizer is required (--tokenizer with --out: an "
            "index for the edit distance alone)"
        )
    if args.out is None:
        return (
            "the argument --out is required with --tokenizer (the default, MODEL/index, needs "
            "--model)"
        )
    return None


def add_identify_args(parser: argparse.ArgumentParser) -> None:
    """`identify --model DIR --index INDEX [FILE|-] [-k 10]` (or `--index INDEX` alone)."""
    parser.add_argument(
        "--model",
        default=None,
        help="folder of a trained tune-title model (without it: the edit-distance scorer alone)",
    )
    parser.add_argument("--index", default=None, help="index folder (default: MODEL/index)")
    parser.add_argument(
        "--tokenizer",
        default=None,
        help="without --model: the tokenizer folder, when the one the index was built with has "
        "moved (default: the folder recorded in the index; a model reads its own)",
    )
    parser.add_argument(
        "file", nargs="?", default="-", help="ABC file or - for stdin (each tune is named)"
    )
    parser.add_argument("-k", type=positive_int, default=10, help="how many titles to print")
    parser.add_argument(
        "--scoring",
        choices=("hybrid", "title", "setting", "edit-distance"),
        default=None,
        help="hybrid (the default with --model): title cosine + the edit distance to the indexed "
        "settings, which names tunes with settings in the index; title: the dual encoder alone "
        "(tunes whose titles are indexed without settings); setting: cosine with the indexed "
        "settings; edit-distance (the default without --model): no model at all",
    )
    parser.add_argument(
        "--hybrid-weight",
        type=score_weight,
        default=None,
        help=f"edit-distance weight of the hybrid (default: {HYBRID_WEIGHT:g}, chosen on held-out "
        "settings)",
    )
    _add_transpose_arg(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help='print exactly one JSON object: {"scoring", "tunes": [{"tune", "line", "top": '
        '[{"title", "score"}, ...]}, ...], "failures": [{"tune", "line", "error"}, ...]}; '
        '"line": where the tune starts in the file, or "row" in its place for a row of a '
        "thesession.org dump (a row that gives no tune is a failure)",
    )


def identify_usage_problem(args: argparse.Namespace) -> str | None:
    """Why the arguments of ``identify`` can name no tune whatever its input, or None: neither
    ``--model`` nor ``--index``, so no index to search (argparse has no group of "one or both");
    an option that the scoring asked for never uses (``--hybrid-weight`` beside another
    ``--scoring`` or without ``--model``, ``--no-transpose`` with the model's cosine alone); a
    model's scoring without ``--model``; or ``--tokenizer`` beside ``--model``, which reads its own.
    `irish_tune.parser.parse_args` refuses it with the command's usage, as argparse's own errors;
    `modeling_irish.retrieval_cli.run_identify` again, for arguments built in Python."""
    if args.model is None and args.index is None:
        return "one of the arguments --model --index is required (--model alone reads MODEL/index)"
    if args.hybrid_weight is not None and args.scoring not in (None, "hybrid"):
        return f"--hybrid-weight weighs the hybrid scoring, not --scoring {args.scoring}"
    if args.hybrid_weight is not None and args.model is None:
        return "--hybrid-weight needs --model: the hybrid adds the model's title cosine"
    if not args.transpose and args.scoring in ("title", "setting"):
        return (
            f"--no-transpose: an option of the edit distance, which --scoring {args.scoring} "
            "does not use (the model's cosine alone)"
        )
    if args.scoring not in (None, "edit-distance") and args.model is None:
        return (
            f"--scoring {args.scoring} needs a tune-title model (--model) and an index built "
            "with it; without one, use --scoring edit-distance (the default)"
        )
    if args.tokenizer is not None and args.model is not None:
        return "--tokenizer is for an index without --model: a model reads its own tokenizer's ids"
    return None


def _add_transpose_arg(parser: argparse.ArgumentParser) -> None:
    """`--transpose / --no-transpose`, shared by `identify` and `evaluate-retrieval`."""
    parser.add_argument(
        "--transpose",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="edit distance that also finds settings whose tonic sits on another white key "
        "(a setting transcribed in D dorian, another a fourth up in G mixolydian); the default. "
        "--no-transpose: pitch classes only, the earlier scorer, named less often and about "
        "0.6x the time (docs/BENCHMARKS.md). identify compares a snippet without a key (no K:, "
        "or K:none) in all 12 transpositions either way",
    )


def add_evaluate_retrieval_args(parser: argparse.ArgumentParser) -> None:
    """`evaluate-retrieval --model DIR --train CORPUS --queries FILE.abc --protocol ...`."""
    parser.add_argument(
        "--model",
        default=None,
        help="folder of a trained tune-title model (not needed for the baseline)",
    )
    parser.add_argument(
        "--tokenizer",
        default=None,
        help="without --model: the tokenizer folder of the edit-distance baseline (a model reads "
        "its own)",
    )
    parser.add_argument(
        "--train",
        required=True,
        nargs="+",
        type=named_source,
        help="training corpus sources (files, folders, dumps; not stdin)",
    )
    parser.add_argument(
        "--queries",
        required=True,
        help="ABC file of query tunes ('-': stdin, read as a file is, what is not read said)",
    )
    parser.add_argument(
        "--protocol",
        choices=("known", "unseen"),
        default="known",
        help="which queries: known (held-out settings of training tunes) or unseen (tunes "
        "not in training)",
    )
    parser.add_argument(
        "--excerpt-notes",
        type=non_negative_int,
        default=30,
        help="notes per query excerpt, a chord counting as one and a rest as none (0: whole "
        "tunes, as training's --eval_excerpt_notes 0)",
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of the excerpt starts"
    )
    parser.add_argument(
        "--baseline",
        choices=("edit-distance", "hybrid"),
        default=None,
        help="other scorer: edit-distance (no model; under --protocol unseen it names a query by "
        "the titles of its nearest training tunes and by the title words that go with its "
        "rhythm, mode and meter) or hybrid (model + edit distance)",
    )
    parser.add_argument(
        "--hybrid-weight",
        type=score_weight,
        default=None,
        help="weight of the edit-distance score in --baseline hybrid under --protocol known "
        f"(default: {HYBRID_WEIGHT:g}, chosen on held-out settings that are not the reported "
        "queries; choose it on validation queries)",
    )
    parser.add_argument(
        "--eighths-weight",
        type=score_weight,
        default=None,
        help="weight of the per-eighth-note edit distance (default: 1; 0: per note only)",
    )
    parser.add_argument(
        "--no-meter-mode-penalty",
        dest="meter_mode",
        action="store_false",
        help="edit distance without its penalties for settings in another meter, mode or tune "
        "type (R:); the penalties are on by default",
    )
    _add_transpose_arg(parser)
    parser.add_argument(
        "--unfold-repeats",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="edit distance against the training settings in played order, repeats and endings "
        "unfolded (the default); --no-unfold-repeats: as written, the earlier scorer",
    )
    parser.add_argument(
        "--query-order",
        choices=("written", "played"),
        default="written",
        help="cut each excerpt from the query as written (the default, the protocol of the "
        "reported figures) or as played, repeats and endings unfolded (as a listener hears it)",
    )
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")


def evaluate_retrieval_usage_problem(args: argparse.Namespace) -> str | None:
    """Why the arguments of ``evaluate-retrieval`` can score no query whatever its sources, or
    None: no ``--model`` for a scorer that is the model's (no ``--baseline``, or ``hybrid``), or
    for ``--baseline edit-distance`` neither ``--model`` nor ``--tokenizer`` (nothing to read
    the tunes with); an option its scorer would ignore (`_ignored_option_problem`); or
    ``--tokenizer`` beside ``--model``, which reads its own. Refused by
    `irish_tune.parser.parse_args` with the command's usage, and again by
    `modeling_irish.retrieval_cli.run_evaluate_retrieval`, for arguments built in Python."""
    if args.model is None and args.baseline != "edit-distance":
        scorer = f"--baseline {args.baseline}" if args.baseline else "the model's scoring"
        return f"the argument --model is required for {scorer} (not for --baseline edit-distance)"
    if args.model is None and args.tokenizer is None:
        return (
            "one of the arguments --model --tokenizer is required (--tokenizer: the edit-distance "
            "baseline without a model)"
        )
    ignored = _ignored_option_problem(args)
    if ignored is None and args.tokenizer is not None and args.model is not None:
        return (
            "--tokenizer is for the edit-distance baseline without --model: a model reads its "
            "own tokenizer's ids"
        )
    return ignored


def _ignored_option_problem(args: argparse.Namespace) -> str | None:
    """Why an option of `evaluate-retrieval` is refused as one its scorer would ignore, as
    `identify` refuses them, or None: the hybrid's weight for another scorer, or an
    edit-distance option where the model scores alone (no baseline; the hybrid under
    ``--protocol unseen``, where no gallery title has a training setting)."""
    if args.hybrid_weight is not None and args.baseline != "hybrid":
        scorer = f"--baseline {args.baseline}" if args.baseline else "the model alone"
        return f"--hybrid-weight weighs --baseline hybrid, not {scorer}"
    unseen_hybrid = args.baseline == "hybrid" and args.protocol == "unseen"
    if args.hybrid_weight is not None and unseen_hybrid:
        return (
            "--hybrid-weight: under --protocol unseen the hybrid is the model alone (no gallery "
            "title has a training setting to compare)"
        )
    ignored = _edit_distance_options_given(args)
    if ignored and (args.baseline is None or unseen_hybrid):
        scorer = "without --baseline" if args.baseline is None else "under --protocol unseen"
        return (
            f"{' and '.join(ignored)}: options of the edit distance, which the scoring {scorer} "
            "does not use (the model's title cosine alone); --baseline edit-distance does"
        )
    return None


def _edit_distance_options_given(args: argparse.Namespace) -> list[str]:
    """The edit-distance options of `evaluate-retrieval` set to other than their defaults."""
    changed = (
        ("--eighths-weight", args.eighths_weight is not None),
        ("--no-meter-mode-penalty", not args.meter_mode),
        ("--no-transpose", not args.transpose),
        ("--no-unfold-repeats", not args.unfold_repeats),
    )
    return [flag for flag, given in changed if given]
