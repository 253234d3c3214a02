"""`irish-tune evaluate-retrieval`: the runner (its arguments are in
`irish_tune.retrieval_cli_args`; `modeling_irish.retrieval_cli` re-exports it beside the runners
of `index` and `identify`, whose model and tokenizer loading it shares)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from irish_tune.json_output import SINGLE_QUERY, print_json, shown_figure
from irish_tune.retrieval_cli_args import evaluate_retrieval_usage_problem

from .cli import read_input, refuse_usage_problem

__all__ = ["run_evaluate_retrieval"]


def run_evaluate_retrieval(args: argparse.Namespace) -> int:
    """Evaluate one protocol; prints a table or (`--json`) one JSON object. With no query to
    score, a `ValueError` (exit status 2), or under ``--json`` the message on stderr and the
    object all the same (``queries`` 0, null figures, the dropped counts), exit status 1; so
    too queries that hold no tune at all (`NoQueryTunesError`)."""

    from .abc_sources import text_without_tunes
    from .name_that_tune import HYBRID_WEIGHT
    from .retrieval_cli import (
        load_abc_tokenizer,
        load_model_and_tokenizer,
    )  # shared with index and identify; no cycle
    from .retrieval_evaluation import NoQueryTunesError, NoUsableQueriesError, evaluate_retrieval

    refuse_usage_problem(evaluate_retrieval_usage_problem(args))  # parse_args refused it already
    model = None
    if args.baseline != "edit-distance":
        model, _ = load_model_and_tokenizer(args.model)
    tokenizer = load_abc_tokenizer(args.tokenizer or args.model)
    train = args.train[0] if len(args.train) == 1 else args.train
    queries: Any = args.queries
    try:
        if queries == "-":  # the query tunes' texts, as evaluate_retrieval takes them
            text = read_input("-")
            queries = _stdin_queries(text)
            if not queries:
                why = text_without_tunes(text, "empty input")  # a dump: read by its suffix
                no_tune = f"--queries -: no tune on stdin ({why})"
                raise NoQueryTunesError(
                    no_tune, args.protocol, args.baseline, args.excerpt_notes, args.query_order
                )
        metrics = evaluate_retrieval(
            model,
            tokenizer,
            train,
            queries,
            args.protocol,
            args.excerpt_notes,
            args.seed,
            args.baseline,
            hybrid_weight=HYBRID_WEIGHT if args.hybrid_weight is None else args.hybrid_weight,
            eighths_weight=1.0 if args.eighths_weight is None else args.eighths_weight,
            meter_mode=args.meter_mode,
            transpose=args.transpose,
            unfold_repeats=args.unfold_repeats,
            query_order=args.query_order,
            progress=True,  # on a terminal only: stdout stays the report
        )
    except NoUsableQueriesError as err:
        if not args.json:  # a usage error, exit status 2
            raise
        # the one JSON object all the same (queries 0, null figures, why each was dropped; for
        # queries that hold no tune, gallery null and the message as its error), exit status
        # 1, as evaluate-lm --json and identify --json answer nothing to score
        print(f"irish-tune evaluate-retrieval: {err}", file=sys.stderr)
        print_json(err.metrics, "evaluate-retrieval")
        return 1
    if args.json:
        print_json(metrics, "evaluate-retrieval")
    else:
        for key, value in metrics.items():
            print(f"{key:>18}  {_shown_retrieval_figure(key, value, metrics)}")
    return 0


def _stdin_queries(text: str) -> list[Any]:
    """The tunes of ``--queries -`` (its ``text``; `RawTune` objects, which know their lines in
    stdin), read as a ``--queries`` file is (`text_tunes`): what is not read is said once for
    stdin, at its line there (a transposing directive of the file header, written into every
    tune; music after a blank line), where `split_tunebook` cut them without a word; what the
    reader leaves out of a query `evaluate_retrieval` says at stdin's lines too."""
    from .abc_sources import text_tunes

    return list(text_tunes(text, "stdin"))


def _shown_retrieval_figure(key: str, value: Any, metrics: dict[str, Any]) -> str:
    """A figure of `evaluate-retrieval`'s text table: a float to 4 decimals, a dict as
    ``not_in_protocol 2, unreadable 0``, and one that is None or not finite as ``n/a`` with
    why (a single query has no standard error: ``n/a (a single query)``), as the model card
    shows it (`shown_figure`)."""
    if isinstance(value, dict):  # dropped_reasons
        return ", ".join(f"{k} {v}" for k, v in value.items())
    single = key.endswith("_stderr") and metrics.get("queries") == 1
    return shown_figure(value, ".4f", SINGLE_QUERY if single else "")
