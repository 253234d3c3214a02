"""Per-token NLL and perplexity of a MeasureNote model on ABC tunes (`irish-tune evaluate-lm`)."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence, Sized
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from irish_tune.json_output import print_json, shown_figure
from irish_tune.parser import add_evaluate_lm_args  # noqa: F401 - re-exported beside its runner
from tokenization.capped_warnings import CappedWarnings, counted, masked, skip_reason

__all__ = [
    "UNKNOWN_VALUES_SHOWN",
    "UnknownValues",
    "add_evaluate_lm_args",
    "evaluate_lm_on_texts",
    "load_lm",
    "per_tune_nll",
    "perplexity",
    "run_evaluate_lm",
    "special_ids",
    "summarise_nll",
]

logger = logging.getLogger(__name__)


def special_ids(model: Any) -> tuple[int, int, int]:
    """The pad, start and end ids of a MeasureNote model: `dur` targets that are not a note or a
    rest, which the loss and the NLL leave out."""
    config = model.config
    return (config.pad_token_id, config.bos_token_id, config.eos_token_id)


def per_tune_nll(
    logits: torch.Tensor,
    dur_logits: torch.Tensor,
    labels: torch.Tensor,
    ignored_dur_ids: Sequence[int] = (0, 1, 2),
) -> torch.Tensor:
    """``(batch, 6)`` per tune: summed NLL of main, main targets, summed NLL of dur, dur targets,
    correct main argmax, correct dur argmax. Same targets as the model's loss: the scores at row t
    predict the labels of row t+1 (``labels``: int64 ``(batch, seq, 2)``, main and dur ids); -100
    and special dur ids are ignored."""
    main_t = labels[:, 1:, 0]  # (batch, seq - 1)
    dur_t = labels[:, 1:, 1]
    for special in ignored_dur_ids:
        dur_t = dur_t.masked_fill(dur_t == special, -100)
    sums = []
    for scores, target in ((logits[:, :-1], main_t), (dur_logits[:, :-1], dur_t)):
        valid = target != -100
        nll = F.cross_entropy(scores.transpose(1, 2).float(), target, reduction="none")
        correct = (scores.argmax(-1) == target) & valid
        sums.append((nll.sum(1), valid.sum(1), correct.sum(1)))
    (main_nll, n_main, ok_main), (dur_nll, n_dur, ok_dur) = sums
    return torch.stack([main_nll, n_main, dur_nll, n_dur, ok_main, ok_dur], dim=1).double()


def perplexity(nll: float) -> float:
    """``exp(nll)``: infinite for an infinite NLL (a target the model gives no chance) and for a
    finite one past a float's range (``exp(710)`` overflows), NaN for a NaN one, never capped:
    the reports show such a figure as n/a (null in the JSON), not as a 300-digit number.

    >>> perplexity(0.0), perplexity(800.0), perplexity(float("inf"))
    (1.0, inf, inf)
    """
    try:
        return math.exp(nll)
    except OverflowError:
        return math.inf


def summarise_nll(sums: torch.Tensor, dur_loss_weight: float = 1.0) -> dict[str, float]:
    """Token-weighted metrics from stacked `per_tune_nll` rows.

    - ``nll_main`` = sum of main NLL / main targets; ``nll_dur`` = sum of dur NLL / dur targets;
    - ``nll`` = (sum of main NLL + sum of dur NLL) / main targets: the NLL of a whole event
      (a token, with its duration when it is a note or rest), per predicted row;
    - ``perplexity`` = exp(nll), infinite past a float's range (`perplexity`);
    - ``loss`` = nll_main + `dur_loss_weight` x nll_dur (the training objective, on the scale
      of the logged train_loss: pass the model's ``config.dur_loss_weight``);
    - ``main_acc`` / ``dur_acc``: argmax accuracy over the same targets.
    """
    main_nll, n_main, dur_nll, n_dur, ok_main, ok_dur = sums.sum(0).tolist()
    n_main, n_dur = max(n_main, 1.0), max(n_dur, 1.0)
    nll = (main_nll + dur_nll) / n_main
    return {
        "nll": nll,
        "nll_main": main_nll / n_main,
        "nll_dur": dur_nll / n_dur,
        "perplexity": perplexity(nll),
        "loss": main_nll / n_main + dur_loss_weight * dur_nll / n_dur,
        "main_acc": ok_main / n_main,
        "dur_acc": ok_dur / n_dur,
        "tokens": n_main,
    }


def load_lm(model_dir: str) -> tuple[Any, Any]:
    """Model and tokenizer of a saved MeasureNote folder (no network)."""
    from transformers import AutoModelForCausalLM

    import modeling_irish  # noqa: F401  (registers the Auto classes)
    from tokenization.tokenization_abc import AbcTokenizer

    from .cli import load_saved, require_model_type
    from .generation import check_tokenizer_fits

    require_model_type(model_dir, "measurenote")
    model = load_saved(
        lambda: AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True), model_dir
    ).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir, local_files_only=True)
    check_tokenizer_fits(model.config, tokenizer)
    return model, tokenizer


#: The kinds of warnings of the tunes scored (`CappedWarnings`): the first few of each are shown.
_SKIPPED, _CHANGED = "skipped tunes", "tunes scored as read, not as written"
#: The values of a feature outside the model's vocabulary that its warning (and ``first`` in
#: the counts) names; past them, the counts say how many.
UNKNOWN_VALUES_SHOWN = 5


class UnknownValues:
    """The values of the scored tunes that the model's vocabulary reads as ``<unk>``, counted
    per feature: a model scored on them is scored on ``<unk>`` (a ``main`` or ``dur`` target)
    or conditioned on it (any feature), which the NLL alone does not say.

    >>> unknown = UnknownValues()
    >>> unknown.add({"dur": ["7/16", "9/16", "7/16"]})
    >>> unknown.counts()
    {'dur': {'values': 2, 'rows': 3, 'tunes': 1, 'first': ['7/16', '9/16']}}
    >>> unknown.messages()
    ["2 values of feature 'dur' not in the model's vocabulary (first: 7/16, 9/16), in 3 rows of 1 tune: read and scored as <unk>"]
    """  # noqa: E501

    def __init__(self) -> None:
        self.values: dict[str, Counter[str]] = {}  # in order of first sight, per feature
        self.tunes: Counter[str] = Counter()

    def add(self, found: dict[str, list[str]]) -> None:
        """Count one tune's values read as ``<unk>`` (`EncodedTune.unknown_values`)."""
        for name, values in found.items():
            self.values.setdefault(name, Counter()).update(values)
            self.tunes[name] += 1

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per feature with any, in feature order: ``values`` (distinct), ``rows`` (the rows
        holding one; a header value is on every row of its tune), ``tunes``, and ``first``
        (the first `UNKNOWN_VALUES_SHOWN` values, in the order the tunes gave them)."""
        from tokenization.features import FEATURE_NAMES

        return {
            name: {
                "values": len(self.values[name]),
                "rows": sum(self.values[name].values()),
                "tunes": self.tunes[name],
                "first": list(self.values[name])[:UNKNOWN_VALUES_SHOWN],
            }
            for name in FEATURE_NAMES
            if name in self.values
        }

    def messages(self) -> list[str]:
        """One line per feature with values outside the vocabulary (`counts`)."""
        lines = []
        for name, count in self.counts().items():
            more = ", ..." if count["values"] > len(count["first"]) else ""
            scored = "read and scored as <unk>" if name in ("main", "dur") else "read as <unk>"
            lines.append(
                f"{counted(count['values'], 'value')} of feature {name!r} not in the model's "
                f"vocabulary (first: {', '.join(count['first'])}{more}), in "
                f"{counted(count['rows'], 'row')} of {counted(count['tunes'], 'tune')}: {scored}"
            )
        return lines


def evaluate_lm_on_texts(
    model: Any, tokenizer: Any, texts: Iterable[Any], batch_size: int = 16, progress: bool = False
) -> dict[str, Any]:
    """Token-weighted NLL of ``texts`` (one ABC tune each, not a tunebook's text: `text_tunes`
    splits one); unreadable tunes are counted, skipped (and so is a `RawTune` of a dump row that
    gives no tune, `tune_texts`). A tune the reader does not read exactly as written (a second
    voice dropped, ...) is scored as read, and named in a warning with what changed. Each kind
    of warning (skipped, scored as read) names the first few tunes, then one line counts them
    all by reason (`tokenization.capped_warnings.CappedWarnings`). ``progress``: a tqdm bar of
    the tunes on stderr (the command line shows it on a terminal).

    Values the model's vocabulary does not hold (a length, a bar line, a meter its training
    tunes never had) are read, and for ``main`` and ``dur`` targets scored, as ``<unk>``: one
    warning per feature says how many (`UnknownValues`), and ``unknown`` holds the counts.

    Returns ``nll`` (main + dur NLL per predicted row), ``nll_main``, ``nll_dur``, ``perplexity``
    (exp of ``nll``), ``tunes``, ``tokens`` (predicted rows), ``skipped`` and ``unknown`` (per
    feature with values read as ``<unk>``: `UnknownValues.counts`, ``{}`` when none); the
    definitions are those of the training script's validation (`summarise_nll`). With no
    readable tune there is nothing to score: a `ValueError` (an NLL of 0 would read as a
    perfect model). ``batch_size`` is a whole number >= 1 (tunes per forward pass), else a
    `ValueError` before anything is read.

    Example:
        >>> model, tok = load_lm("runs/measurenote-small")
        >>> kesh = "X:1\\nT:The Kesh\\nM:6/8\\nL:1/8\\nK:G\\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|"
        >>> scores = evaluate_lm_on_texts(model, tok, [kesh, "no tune"])
        >>> scores["tunes"], scores["skipped"], scores["perplexity"] > 1
        (1, 1, True)
    """
    if isinstance(texts, str):  # iterating it would score each character as a tune
        raise TypeError(
            f"evaluate_lm_on_texts: texts is one string ({len(texts)} characters); pass a list "
            "of tune texts, e.g. list(text_tunes(book, 'book.abc')) for a tunebook's text "
            "(modeling_irish.abc_sources.text_tunes)"
        )
    # 0 or less never filled a batch: every tune went into one forward pass, memory unbounded
    # True is an int to Python, and was taken as 1
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"evaluate_lm_on_texts: batch_size must be a whole number >= 1, got {batch_size!r}"
        )
    sums, skipped, unknown = _score_tunes(model, tokenizer, texts, batch_size, progress)
    if not len(sums):
        raise ValueError(f"nothing to score: no readable tune in texts ({skipped} skipped)")
    return _lm_result(sums, skipped, unknown)


@torch.no_grad()
def _score_tunes(
    model: Any, tokenizer: Any, texts: Iterable[Any], batch_size: int, progress: bool
) -> tuple[torch.Tensor, int, UnknownValues]:
    """The `per_tune_nll` rows ``(tunes, 6)`` of the readable tunes of ``texts``, how many
    were skipped (the first few named in a warning, then all counted by reason), and their
    values read as ``<unk>`` (one warning per feature). The model may be on any device (a
    GPU): each batch goes there, and its rows come back to the CPU."""
    from tokenization.abc_parser import AbcParseError
    from tokenization.tokenization_abc import AbcDataCollator

    collator, features, rows = AbcDataCollator(), list[dict[str, Any]](), []
    said = CappedWarnings(logger)
    unknown = UnknownValues()
    device = next(model.parameters()).device

    def flush() -> None:
        batch = {name: tensor.to(device) for name, tensor in collator(features).items()}
        out = model(**{k: v for k, v in batch.items() if k != "labels"}, return_dict=True)
        sums = per_tune_nll(out.logits, out.dur_logits, batch["labels"], special_ids(model))
        rows.append(sums.cpu())
        features.clear()

    total = len(texts) if isinstance(texts, Sized) else None
    items = tqdm(texts, total=total, desc="scoring", unit="tune", disable=not progress)
    with said:  # its summary counts 'so far (interrupted)' when Ctrl-C stops the scoring
        for n, item in enumerate(items, 1):  # a text, or a `RawTune` of the command line
            try:
                if getattr(item, "unreadable", ""):  # a dump row that gives no tune
                    raise AbcParseError(item.unreadable)
                enc = tokenizer.encode_tune(getattr(item, "text", item))
            except AbcParseError as err:
                # a plain text is named by its number among the texts ("text 2: ..."), as a
                # changed one is: the error alone does not say which text of a list was skipped
                where = (
                    item.locate(err)
                    if hasattr(item, "locate")
                    else f"{_tune_place(item, n)}: {err}"
                )
                reason = getattr(item, "unreadable", "") or skip_reason(err)
                said.warn(_SKIPPED, reason, "skipped a tune: %s", where)
                continue
            warnings = enc.tune.warnings
            if warnings and hasattr(item, "read_warnings"):  # a RawTune: read again at the
                # file's lines, as `irish-tune check` says them (its errors, of the tune read
                # at line 1, go to `locate`), less what its file said once
                warnings = item.read_warnings()
            if warnings:
                _warn_changed(said, _tune_place(item, n), enc.tune, warnings)
            unknown.add(enc.unknown_values())
            features.append({"input_ids": enc.input_ids, "measure_numbers": enc.measure_numbers})
            if len(features) == batch_size:
                flush()
        if features:
            flush()
    for line in unknown.messages():
        logger.warning("%s", line)
    scored = torch.cat(rows) if rows else torch.zeros(0, 6, dtype=torch.float64)
    return scored, said.total(_SKIPPED), unknown


def _tune_place(item: Any, n: int) -> str:
    """Where a tune of ``texts`` is, for messages: a `RawTune`'s file line or dump row, else
    its number among the texts (1-based)."""
    return item.place if hasattr(item, "place") else f"text {n}"


def _warn_changed(said: CappedWarnings, where: str, tune: Any, warnings: list[str]) -> None:
    """Name, in ``said``, a tune that the reader did not read exactly as written, with what
    it changed (its ``warnings``; a `RawTune`'s at the lines of its file, less what its file
    said once, `RawTune.read_warnings`; counted by the first): the tune is scored as read,
    only part of what it holds."""
    title = f" {tune.title!r}" if tune.title else ""
    message = "scored as read, not as written: %s%s: %s"
    said.warn(_CHANGED, masked(warnings[0]), message, where, title, "; ".join(warnings))


def _lm_result(sums: torch.Tensor, skipped: int, unknown: UnknownValues) -> dict[str, Any]:
    """`evaluate_lm_on_texts`'s answer from the `per_tune_nll` rows of at least one tune."""
    metrics = summarise_nll(sums)
    return {
        "nll": metrics["nll"],
        "nll_main": metrics["nll_main"],
        "nll_dur": metrics["nll_dur"],
        "perplexity": metrics["perplexity"],
        "tunes": len(sums),
        "tokens": int(sums[:, 1].sum().item()),
        "skipped": skipped,
        "unknown": unknown.counts(),
    }


#: The keys of ``evaluate-lm --json``'s one object, in its order.
_JSON_KEYS = ("nll", "nll_main", "nll_dur", "perplexity", "tunes", "tokens", "skipped", "unknown")


def _nothing_readable(files: Sequence[str], skipped: int) -> str:
    """The refusal of a command line whose tunes are all skipped."""
    return f"nothing to score: no readable tune in {' '.join(files)} ({skipped} skipped)"


def _nothing_to_score(args: argparse.Namespace, message: str, skipped: int) -> int:
    """Refuse a command line with no tune to score: a `ValueError` (exit status 2, as a usage
    error), or, under ``--json``, the message on stderr and the one JSON object all the same,
    with ``tunes`` 0, the ``skipped`` count and null figures, exit status 1 (as ``identify
    --json`` answers an input it cannot name)."""
    if not args.json:
        raise ValueError(message)
    print(f"irish-tune evaluate-lm: {message}", file=sys.stderr)
    empty: dict[str, Any] = dict.fromkeys(_JSON_KEYS)
    print_json({**empty, "tunes": 0, "tokens": 0, "skipped": skipped, "unknown": {}}, "evaluate-lm")
    return 1


def run_evaluate_lm(args: argparse.Namespace) -> int:
    """``irish-tune evaluate-lm``: NLL per token (main, duration, total), perplexity, counts."""
    from modeling_irish.cli import tune_texts

    # read first: a missing or unreadable file, a folder without *.abc files (refused as
    # check refuses it: a usage error), fail before the model loads
    without: list[tuple[str, str]] = []
    texts = list(tune_texts(args.files, without))
    if not texts:  # an empty, binary or prose file: say which and why, as `check` does
        why = "; ".join(f"{where}: {reason}" for where, reason in without)
        return _nothing_to_score(args, f"nothing to score: no tune in {why}", 0)
    if all(getattr(text, "unreadable", "") for text in texts):  # dump rows without a tune
        return _nothing_to_score(args, _nothing_readable(args.files, len(texts)), len(texts))
    model, tokenizer = load_lm(args.model)
    scored = _score_tunes(model, tokenizer, texts, args.batch_size, sys.stderr.isatty())
    sums, skipped, unknown = scored
    if not len(sums):  # said with the files' names
        return _nothing_to_score(args, _nothing_readable(args.files, skipped), skipped)
    result = _lm_result(sums, skipped, unknown)
    if args.json:
        print_json({k: result[k] for k in _JSON_KEYS}, "evaluate-lm")  # a NaN nll: null, warned
    else:
        figures = (("nll", ".4f"), ("nll_main", ".4f"), ("nll_dur", ".4f"), ("perplexity", ".3f"))
        print(  # a diverged model's NaN figures: n/a, as its model card shows them
            f"tunes: {result['tunes']} (skipped {result['skipped']})  tokens: {result['tokens']}\n"
            + "  ".join(f"{k}: {shown_figure(result[k], spec)}" for k, spec in figures)
        )
        if unknown.values:  # each named in a warning too
            counts = result["unknown"].items()
            said = ", ".join(f"{n} {c['values']} ({counted(c['rows'], 'row')})" for n, c in counts)
            print(f"values not in the model's vocabulary (read as <unk>): {said}")
    return 0
