"""Tune-title retrieval ablations side by side with the edit-distance baseline (and a hybrid).

Each configuration trains `--steps` updates with `training/train.py --task tune_title` (a SHORT
budget: the table compares ablations, it does not show converged models), then runs both
protocols on the same queries: *known* (30-note excerpts of held-out settings of training tunes,
gallery = every training title) and *unseen* (excerpts of validation tunes, gallery = their
titles). The test split is never used. Run::

    python benchmarks/bench_retrieval.py                       # ~20-25 min on 2 cores
    python benchmarks/bench_retrieval.py --corpus small.abc --steps 3 --queries 20 \\
        --only default cnn_tower                               # a smoke run
    python benchmarks/bench_retrieval.py --minutes 5 --queries 300 --unseen_queries 0 \\
        --measurenote runs/fixed-budget-small --only ... --out A   # a fixed CPU budget per row;
    python benchmarks/bench_retrieval.py --merge A B           # rows run side by side, one table
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from _paths import DEFAULT_CORPUS

from irish_tune.json_output import json_dumps
from modeling_irish.cli import (
    abc_source,
    existing_folder,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from modeling_irish.name_that_tune import HYBRID_WEIGHT
from training import train

# name -> extra train.py flags (everything else as in the default row)
ABLATIONS = {
    "default": [],  # GRU tower from scratch, frozen MiniLM, InfoNCE, 30-note crops
    "crop_15": ["--crop_notes", "15"],
    "crop_60": ["--crop_notes", "60"],
    "whole_tunes": ["--crop_notes", "0"],
    "hinge": ["--loss_type", "hinge"],
    "cosine_loss": ["--loss_type", "cosine"],
    "minilm_finetuned": ["--finetune_title_encoder"],
    "char_gru_titles": ["--title_encoder", "char_gru"],
    "cnn_tower": ["--tune_encoder", "cnn"],
    "measurenote_transfer": ["--measurenote_path", "{measurenote}"],
    "measurenote_frozen": ["--measurenote_path", "{measurenote}", "--freeze_backbone"],
}
RESULTS = "results.json"  # in --out: the rows so far, rewritten after each row


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line `argv` (default: ``sys.argv[1:]``), checked."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus",
        type=abc_source,
        default=DEFAULT_CORPUS,
        help="ABC tunebook (default: $MODELING_IRISH_CORPUS or the shared thesession corpus "
        "beside this checkout).",
    )
    p.add_argument("--steps", type=positive_int, default=80, help="Updates per configuration.")
    p.add_argument(
        "--minutes",
        type=positive_float,
        default=None,
        help="Training minutes per configuration instead of --steps (a fixed CPU budget: rows "
        "whose updates cost more, e.g. a fine-tuned title encoder, get fewer).",
    )
    p.add_argument("--batch_size", type=positive_int, default=64, help="Pairs per batch.")
    p.add_argument(
        "--queries", type=positive_int, default=200, help="Known-tune queries (held-out settings)."
    )
    p.add_argument(
        "--unseen_queries",
        type=non_negative_int,
        default=None,
        help="Validation tunes used as unseen-tune queries (default: --queries; 0: all).",
    )
    p.add_argument(
        "--no_baselines", action="store_true", help="Skip the edit-distance and hybrid rows."
    )
    p.add_argument(
        "--merge",
        nargs="+",
        default=None,
        help="Only print one table from the results.json of these --out folders (rows run in "
        "several processes side by side).",
    )
    p.add_argument(
        "--measurenote",
        default=None,
        type=existing_folder,  # checked before any training, not at the first transfer row
        help="Trained MeasureNote folder (transfer rows).",
    )
    p.add_argument(
        "--only",
        nargs="*",
        default=None,
        choices=list(ABLATIONS),
        metavar="ROW",
        help=f"Run only these rows ({', '.join(ABLATIONS)}).",
    )
    p.add_argument(
        "--hybrid_weight",
        type=non_negative_float,
        default=HYBRID_WEIGHT,
        help="Edit-distance weight of the hybrid row (default: the package's, %(default)s, chosen "
        "on held-out settings; choose it on validation queries).",
    )
    p.add_argument(
        "--out",
        default="runs/bench-retrieval",
        help="Where runs and results go, relative to the working folder (default: %(default)s; "
        "runs/ is gitignored in a checkout).",
    )
    args = p.parse_args(argv)
    for folder in args.merge or ():
        if not Path(folder, RESULTS).is_file():
            p.error(f"--merge: no {Path(folder, RESULTS)} (a folder that --out wrote)")
    return args


def run_row(name: str, flags: list[str], args: argparse.Namespace) -> dict:
    argv = [
        "--task",
        "tune_title",
        "--corpus",
        args.corpus,
        "--output_dir",
        f"{args.out}/{name}",
        "--cache_dir",
        f"{args.out}/.cache",
        "--max_train_steps",
        str(args.steps if args.minutes is None else 10**9),
        "--per_device_train_batch_size",
        str(args.batch_size),
        "--learning_rate",
        "1e-3",
        "--lr_scheduler_type",
        "constant",
        "--logging_steps",
        "10",
        "--known_queries",
        str(args.queries),
        "--retrieval_eval_queries",
        str(max(args.queries, _unseen_count(args))),
    ]
    if args.minutes is not None:
        argv += ["--max_train_minutes", str(args.minutes)]
    begin = time.perf_counter()
    results = train.main(argv + [f.format(measurenote=args.measurenote) for f in flags])
    results["wall_seconds"] = time.perf_counter() - begin
    return results


def _unseen_count(args: argparse.Namespace) -> int:
    """Validation tunes to use as unseen queries (a huge number stands for all of them)."""
    n = args.queries if args.unseen_queries is None else args.unseen_queries
    return n if n > 0 else 10**9


def baseline_rows(args: argparse.Namespace, model_dir: str) -> dict[str, dict]:
    """Edit distance and hybrid on the queries of `model_dir`'s run (same split, same seed)."""
    from modeling_irish.abc_corpus import load_abc_corpus
    from modeling_irish.modeling_tune_title import TuneTitleModel
    from modeling_irish.retrieval_evaluation import evaluate_retrieval
    from tokenization.tokenization_abc import AbcTokenizer

    corpus = load_abc_corpus(args.corpus, cache_dir=f"{args.out}/.cache")
    tok = AbcTokenizer.from_pretrained(model_dir)
    model = TuneTitleModel.from_pretrained(model_dir).eval()
    known = os.path.join(model_dir, "known_queries.abc")  # removed from the training side
    unseen = corpus["validation"].select(range(min(_unseen_count(args), len(corpus["validation"]))))
    rows = {}
    # edit distance per note only (the first representation), per note + per eighth, hybrid
    for name, scorer, eighths in (
        ("edit-distance-notes", "edit-distance", 0.0),
        ("edit-distance", "edit-distance", 1.0),
        ("hybrid", "hybrid", 1.0),
    ):
        row = {}
        for protocol, queries in (("known", known), ("unseen", unseen)):
            m = evaluate_retrieval(
                model,
                tok,
                corpus["train"],
                queries,
                protocol,
                30,
                0,
                scorer,
                hybrid_weight=args.hybrid_weight,
                eighths_weight=eighths,
            )
            row.update({f"{protocol}_{k}": v for k, v in m.items() if isinstance(v, (int, float))})
        rows[name] = row
    return rows


def table(rows: dict[str, dict]) -> str:
    cols = (
        "known_mrr_at_20",
        "known_mrr_at_20_stderr",
        "known_r_at_1",
        "known_ms_per_query",
        "unseen_mrr_at_20",
        "unseen_mrr_at_20_stderr",
        "unseen_gallery",
        "unseen_random_mrr_at_20",
        "train_steps",
        "train_loss_last",
        "wall_seconds",
    )
    lines = ["| row | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in rows.items():
        cells = [f"{r[c]:.4g}" if isinstance(r.get(c), (int, float)) else "-" for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, dict]:
    """Train and evaluate each row (or `--merge` saved ones); ``{row: its figures}``, as printed."""
    args = parse_args(argv)
    if args.merge:
        rows = {}
        for folder in args.merge:
            rows.update(json.loads(Path(folder, RESULTS).read_text(encoding="utf-8")))
        print(table(rows))
        return rows
    names = args.only or list(ABLATIONS)
    rows: dict[str, dict] = {}
    os.makedirs(args.out, exist_ok=True)

    def save() -> None:  # after each row: a crash in a later row keeps the earlier ones
        path = Path(args.out, RESULTS)
        path.write_text(json_dumps(rows, str(path), indent=2, default=str), encoding="utf-8")

    for name in names:
        if "{measurenote}" in " ".join(ABLATIONS[name]) and not args.measurenote:
            print(f"skip {name}: no --measurenote folder given")
            continue
        rows[name] = run_row(name, ABLATIONS[name], args)
        save()
        print(table({name: rows[name]}), flush=True)
    if rows and not args.no_baselines:
        rows.update(baseline_rows(args, f"{args.out}/{next(iter(rows))}"))
    save()
    print(table(rows))

    return rows


if __name__ == "__main__":
    main()
