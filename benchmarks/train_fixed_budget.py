"""Fixed-budget MeasureNote training (30 minutes of training time by default) with a learning curve.

Runs `training/train.py` with ``--max_train_minutes`` (validation time is not counted), then
plots ``train_log.jsonl`` into ``learning_curve.png`` and writes ``fixed_budget.json`` (steps,
tokens/s, final and best validation numbers) next to the model::

    python benchmarks/train_fixed_budget.py                      # 30 min, thesession corpus
    python benchmarks/train_fixed_budget.py --minutes 1 -- --preset small --max_length 400
    torchrun --nproc_per_node 2 benchmarks/train_fixed_budget.py --minutes 30

Flags after ``--`` (or any flag this script does not know) go to `training/train.py`; an
``--output_dir`` there is the run folder this script plots into too (the last one given wins, as
in train.py). The corpus is ``--corpus`` / ``--train_file`` when given, else
``$MODELING_IRISH_CORPUS``, else ``../shared/data/thesession-c.abc`` beside the checkout; one that
names no file is refused before training (train.py's own default, music21's two books, is no
"shared corpus" figure). Keep the step lr schedule (the default): a cosine schedule needs a known
number of steps. The run folder is relative to the working folder (``runs/`` is gitignored in a
checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # `python benchmarks/train_fixed_budget.py` from a checkout
    sys.path.insert(0, ROOT)

from irish_tune.json_output import json_dumps  # noqa: E402
from modeling_irish.cli import positive_float, positive_int  # noqa: E402
from training.train import main as train_main  # noqa: E402


def default_corpus() -> str:
    """``$MODELING_IRISH_CORPUS``, else the shared thesession corpus beside this checkout; a
    `SystemExit` that names the file when it is missing (training on train.py's default corpus,
    music21's two books, would be a silent stand-in for the shared corpus)."""
    named = os.environ.get("MODELING_IRISH_CORPUS")
    if named:
        if not os.path.isfile(named):
            raise SystemExit(f"train_fixed_budget.py: MODELING_IRISH_CORPUS={named}: no such file")
        return named
    path = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "thesession-c.abc"))
    if not os.path.isfile(path):
        raise SystemExit(
            f"train_fixed_budget.py: no such file: {path} (the shared corpus; set "
            "MODELING_IRISH_CORPUS or give one after --: -- --corpus FILE)"
        )
    return path


def forwarded_value(rest: list[str], flag: str) -> str | None:
    """The value train.py will read for ``flag`` from the flags forwarded to it (the last
    ``flag VALUE`` or ``flag=VALUE``), or None when they do not give it.

    >>> forwarded_value(["--preset", "small", "--corpus=a", "--corpus", "b"], "--corpus")
    'b'
    """
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument(flag)
    return getattr(parser.parse_known_args(rest)[0], flag.lstrip("-"))


def read_log(path: str) -> tuple[list[dict], list[dict]]:
    """Train-loss rows and validation rows of a ``train_log.jsonl``."""
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [r for r in rows if "train_loss" in r], [r for r in rows if "eval_nll" in r]


def plot_curve(train: list[dict], evals: list[dict], path: str, title: str) -> None:
    """Train loss and validation NLL (per row, main + dur) against training minutes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    minutes = [r["train_seconds"] / 60 for r in train]
    ax.plot(minutes, [r["train_loss"] for r in train], lw=1, alpha=0.7, label="train loss")
    if evals:
        ax.plot([r["train_seconds"] / 60 for r in evals], [r["eval_nll"] for r in evals],
                "o-", label="validation NLL / row")  # fmt: skip
        ax.plot([r["train_seconds"] / 60 for r in evals], [r["eval_nll_main"] for r in evals],
                "s--", ms=4, label="validation NLL main / row")  # fmt: skip
    ax.ticklabel_format(useOffset=False)
    ax.set_xlabel("training time (minutes, validation excluded)")
    ax.set_ylabel("nats")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def summarise(results: dict, evals: list[dict], minutes: float) -> dict:
    """The figures worth comparing between fixed-budget runs."""
    best = min(evals, key=lambda r: r["eval_nll"]) if evals else {}
    keys = ("eval_nll", "eval_nll_main", "eval_nll_dur", "eval_perplexity", "train_steps",
            "train_tokens", "train_tokens_per_second", "num_processes",
            "num_parameters")  # fmt: skip
    out = {"budget_minutes": minutes, **{k: results.get(k) for k in keys}}
    out.update(best_eval_nll=best.get("eval_nll"), best_eval_step=best.get("step"))
    return out


def main(argv: list[str] | None = None) -> dict:
    """Run the budgeted training, then plot; returns the summary."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        usage="%(prog)s [-h] [--minutes MINUTES] [--output_dir OUTPUT_DIR] "
        "[--eval_steps EVAL_STEPS] [-- TRAIN_FLAGS ...]",
        epilog="Arguments after -- (and any flag this script does not know) go to "
        "training/train.py, e.g. -- --preset small --max_length 400 (see python "
        "training/train.py --help).",
    )
    parser.add_argument(
        "--minutes", type=positive_float, default=30.0, help="Training time budget."
    )
    parser.add_argument(
        "--output_dir",
        default="runs/fixed-budget",
        help="Run folder, relative to the working folder (also read after --).",
    )
    parser.add_argument(
        "--eval_steps", type=positive_int, default=250, help="Validate every N updates."
    )
    args, rest = parser.parse_known_args(argv)
    rest = [a for a in rest if a != "--"]
    # an --output_dir after `--` is where train.py writes (its last flag wins): plot from there
    args.output_dir = forwarded_value(rest, "--output_dir") or args.output_dir
    forwarded = ["--max_train_minutes", str(args.minutes), "--max_train_steps", str(10**9),
                 "--output_dir", args.output_dir, "--eval_steps", str(args.eval_steps)]  # fmt: skip
    if not any(forwarded_value(rest, flag) for flag in ("--corpus", "--train_file")):
        forwarded += ["--corpus", default_corpus()]
    results = train_main(forwarded + rest)  # flags in `rest` come last and win
    summary = summarise(results, [], args.minutes)
    if _is_main_process():
        train, evals = read_log(os.path.join(args.output_dir, "train_log.jsonl"))
        summary = summarise(results, evals, args.minutes)
        title = f"MeasureNote, {args.minutes:g} min budget, {summary['train_steps']} updates"
        plot_curve(train, evals, os.path.join(args.output_dir, "learning_curve.png"), title)
        path = os.path.join(args.output_dir, "fixed_budget.json")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(json_dumps(summary, path, indent=2))
    return summary


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


if __name__ == "__main__":
    main()
