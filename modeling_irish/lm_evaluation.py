"""Per-token NLL and perplexity of a MeasureNote model on ABC tunes (`irish-tune evaluate-lm`)."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterable
from typing import Any

import torch

__all__ = ["add_evaluate_lm_args", "evaluate_lm_on_texts", "load_lm", "run_evaluate_lm"]

logger = logging.getLogger(__name__)


def load_lm(model_dir: str) -> tuple[Any, Any]:
    """Model and tokenizer of a saved MeasureNote folder (no network)."""
    from transformers import AutoModelForCausalLM

    import modeling_irish  # noqa: F401  (registers the Auto classes)
    from tokenization.tokenization_abc import AbcTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir, local_files_only=True)
    return model, tokenizer


@torch.no_grad()
def evaluate_lm_on_texts(
    model: Any, tokenizer: Any, texts: Iterable[str], batch_size: int = 16
) -> dict[str, Any]:
    """Token-weighted NLL of ``texts`` (one ABC tune each); unreadable tunes are counted, skipped.

    Returns ``nll`` (main + dur NLL per predicted row), ``nll_main``, ``nll_dur``, ``perplexity``
    (exp of ``nll``), ``tunes``, ``tokens`` (predicted rows) and ``skipped``; the definitions are
    those of the training script's validation (`training.common.summarise_nll`).

    Example:
        >>> model, tok = load_lm("runs/measurenote-small")  # doctest: +SKIP
        >>> evaluate_lm_on_texts(model, tok, [abc_text])["perplexity"]  # doctest: +SKIP
    """
    from tokenization.abc_parser import AbcParseError
    from tokenization.tokenization_abc import AbcDataCollator
    from training.common import per_tune_nll, summarise_nll

    collator, features, skipped, rows = AbcDataCollator(), [], 0, []

    def flush() -> None:
        batch = collator(features)
        out = model(**{k: v for k, v in batch.items() if k != "labels"})
        rows.append(per_tune_nll(out.logits, out.dur_logits, batch["labels"]))
        features.clear()

    for text in texts:
        try:
            enc = tokenizer.encode_tune(text)
        except AbcParseError as err:
            skipped += 1
            logger.warning("skipped a tune: %s", err)
            continue
        features.append({"input_ids": enc.input_ids, "measure_numbers": enc.measure_numbers})
        if len(features) == batch_size:
            flush()
    if features:
        flush()
    sums = torch.cat(rows) if rows else torch.zeros(0, 6, dtype=torch.float64)
    metrics = summarise_nll(sums if len(sums) else torch.zeros(1, 6, dtype=torch.float64))
    return {
        "nll": metrics["nll"],
        "nll_main": metrics["nll_main"],
        "nll_dur": metrics["nll_dur"],
        "perplexity": metrics["perplexity"],
        "tunes": len(sums),
        "tokens": int(sums[:, 1].sum().item()) if len(sums) else 0,
        "skipped": skipped,
    }


def add_evaluate_lm_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune evaluate-lm``."""
    parser.add_argument("--model", required=True, help="folder of a trained MeasureNote model")
    parser.add_argument("files", nargs="+", help="ABC tunebooks or folders to score")
    parser.add_argument("--batch-size", type=int, default=16, help="tunes per forward pass")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")


def run_evaluate_lm(args: argparse.Namespace) -> int:
    """``irish-tune evaluate-lm``: NLL per token (main, duration, total), perplexity, counts."""
    from modeling_irish.abc_corpus import iter_abc_tunes

    model, tokenizer = load_lm(args.model)
    texts = (text for _, text in iter_abc_tunes(list(args.files)))
    result = evaluate_lm_on_texts(model, tokenizer, texts, args.batch_size)
    if args.json:
        print(
            json.dumps(
                {
                    k: result[k]
                    for k in ("nll", "nll_main", "nll_dur", "perplexity", "tunes", "tokens")
                }
            )
        )
    else:
        print(
            f"tunes: {result['tunes']} (skipped {result['skipped']})  tokens: {result['tokens']}\n"
            f"nll: {result['nll']:.4f}  nll_main: {result['nll_main']:.4f}  "
            f"nll_dur: {result['nll_dur']:.4f}  perplexity: {result['perplexity']:.3f}"
        )
    return 0
