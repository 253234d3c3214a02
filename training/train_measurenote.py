"""The MeasureNote task of `training/train.py`: its batches, model, optimisation loop,
validation, checkpoints and final save (`run`). train.py imports it once the flags are read:
it imports torch and accelerate (seconds)."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import set_seed
from torch.utils.data import DataLoader

from modeling_irish.lm_evaluation import special_ids
from modeling_irish.modeling_measurenote import loss_target_counts
from training.common import (
    TrainingProgress,
    append_jsonl,
    autocast_precision,
    data_split_record,
    evaluate_lm,
    log_time_budget,
    lr_for,
    minutes_left,
    nothing_left,
    parse_config_overrides,
    published_data_split,
    recompute_steps_and_start_tracking,
    set_learning_rate,
    shown_log_figures,
    stopped_by,
    write_json,
)
from training.data import KeyAugmenter, LengthGroupedBatchSampler, TuneRowsDataset, prepare_corpus
from training.hub import push_run
from training.model_card import write_measurenote_card
from training.run_folder import (
    epoch_checkpoint_name,
    recorded_flags,
    run_flags,
    save_checkpoint,
    save_model,
    save_tokenizer,
    start_run_folder,
)
from training.run_log import logged_evals
from training.run_record import record_data_split, record_run_files
from training.run_resume import MODEL_CONFIG_KEY, resume_state, resumed_model_config

if TYPE_CHECKING:  # annotations only: the real imports stay lazy
    from datasets import DatasetDict

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcTokenizer

logger = get_logger(__name__)


# ----- data --------------------------------------------------------------------------------------
def build_dataloaders(
    args: argparse.Namespace, splits: DatasetDict, tokenizer: AbcTokenizer, num_processes: int = 1
) -> tuple[DataLoader, DataLoader, list]:
    """Length-grouped training batches (order a function of seed and epoch; whole rounds of one
    batch per process, so no tune is trained on twice in an epoch) and length-sorted validation
    batches; returns the loaders and the objects whose ``set_epoch`` must be called."""
    from tokenization.dataset import column_array
    from tokenization.tokenization_abc import AbcDataCollator

    augmenter = KeyAugmenter(tokenizer.abc_vocab) if args.key_augmentation else None
    train_set = TuneRowsDataset(splits["train"], augmenter, seed=args.seed)
    sampler = LengthGroupedBatchSampler(
        column_array(splits["train"], "length"),
        args.per_device_train_batch_size,
        seed=args.seed,
        num_processes=num_processes,
    )
    eval_sampler = LengthGroupedBatchSampler(
        column_array(splits["validation"], "length"), args.per_device_eval_batch_size, shuffle=False
    )
    collator = AbcDataCollator()
    # Own generators: creating a loader iterator must not consume the global torch RNG (dropout),
    # or a resumed run would drift from an uninterrupted one.
    train_dl = DataLoader(
        train_set,
        batch_sampler=sampler,
        collate_fn=collator,
        generator=torch.Generator().manual_seed(args.seed),
    )
    eval_dl = DataLoader(
        TuneRowsDataset(splits["validation"]),
        batch_sampler=eval_sampler,
        collate_fn=collator,
        generator=torch.Generator().manual_seed(args.seed),
    )
    return train_dl, eval_dl, [train_set, sampler]


def build_model(args: argparse.Namespace, tokenizer: Any) -> MeasureNoteForCausalLM:
    """MeasureNote from a preset, with the tokenizer's vocabulary sizes and the overrides; a
    resumed run's from the config its checkpoint's run trained with, whatever this version's
    defaults (`resumed_model_config`)."""
    from modeling_irish.configuration_measurenote import MeasureNoteConfig
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    overrides = parse_config_overrides(args.config_overrides)
    config = MeasureNoteConfig.from_preset(
        args.preset, vocab_sizes=tokenizer.abc_vocab.sizes, **overrides
    )
    # the vocabulary's sizes are the data's: `check_resume_data` compares them with the run's
    return MeasureNoteForCausalLM(resumed_model_config(args, config, data_fields=["vocab_sizes"]))


def train_loop(
    args: argparse.Namespace,
    accelerator: Accelerator,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train_dl: DataLoader,
    eval_dl: DataLoader,
    epoch_objects: list[Any],
) -> dict:
    """The optimisation loop; returns running statistics for all_results.json."""
    steps_per_epoch = math.ceil(len(train_dl) / args.gradient_accumulation_steps)
    saved: dict = {}
    completed = resume_state(args, accelerator, saved, optimizer)
    first_epoch, resume_batches = divmod(completed, steps_per_epoch)
    resume_batches *= args.gradient_accumulation_steps
    stats: dict[str, Any] = {
        "loss_sum": 0.0,
        "loss_steps": 0,
        "tokens": 0,
        "eval_seconds": 0.0,
        "last": {},
    }
    stats["last_updates"] = 0  # how many updates stats["last"] averages (0: none, or not known)
    totals = dict(saved.get("totals", {}))
    # a resumed run reports the whole run's totals, its training time included
    stats["seconds_before"] = float(totals.pop("train_seconds", 0.0))
    stats.update(totals)
    if stats["loss_sum"] is None:  # a diverged run's NaN sum, which the JSON state keeps as null
        stats["loss_sum"] = math.nan
    if not accelerator.is_main_process:
        stats["tokens"] = 0  # the saved count is every process's: the main process carries it
    stop = nothing_left(args, completed, stats["seconds_before"])  # a resumed run's budget spent
    # a checkpoint of the final update: its validation, logged by the run it resumes, is reused
    evals = logged_evals(args, accelerator, completed)
    stats.update(start=time.perf_counter(), stop=stop, evals=evals)
    window = _restored_window(accelerator, saved)  # the checkpoint's updates not yet logged
    with TrainingProgress(
        args.max_train_steps,
        completed,
        minutes_left(args.max_train_minutes, stats["seconds_before"]),
        accelerator.is_local_main_process,
    ) as progress:  # closed however the loop ends: a stop's line starts on its own
        model.train()
        for epoch in range(first_epoch, args.num_train_epochs if not stats["stop"] else 0):
            for obj in epoch_objects:
                obj.set_epoch(epoch)
            active: Any = train_dl  # accelerate's loader (prepared), with its set_epoch
            if epoch == first_epoch and resume_batches:
                active = accelerator.skip_first_batches(train_dl, resume_batches)
            active.set_epoch(epoch)
            for group in _update_groups(active, args.gradient_accumulation_steps):
                update = torch.zeros(3, dtype=torch.float64)  # this process's share of its losses
                for part, batch in _accumulate(accelerator, model, group):
                    stats["tokens"] += int(batch["attention_mask"].sum())
                    update += part
                window.append(update)
                accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                set_learning_rate(optimizer, lr_for(args, completed))
                optimizer.step()
                optimizer.zero_grad()
                completed += 1
                stop = _after_update(
                    args, accelerator, model, eval_dl, stats, window, completed, epoch
                )
                # the loss last logged (the mean of its window), train_loss_last at the end
                progress.update(
                    stats["last"].get("train_loss"),
                    paused_seconds=stats["eval_seconds"],
                    loss_updates=stats["last_updates"],
                )
                if stop:
                    break
            if args.checkpointing_steps == "epoch":  # step_N for an epoch the run stopped inside
                name = epoch_checkpoint_name(epoch, completed, steps_per_epoch)
                _checkpoint(args, accelerator, model, name, completed, epoch, stats, window)
            if stats["stop"]:
                break
    if window:  # a resumed checkpoint's unlogged updates, with nothing left to train
        _log_train(args, accelerator, window, stats, lr_for(args, completed - 1), completed)
    stats.update(completed_steps=completed, train_seconds=_train_seconds(stats))
    return stats


def _update_groups(loader: Any, size: int) -> Iterator[list[dict]]:
    """The batches of ``loader`` in groups of ``size``, one optimizer update each (the last
    group of an epoch may be shorter)."""
    group: list[dict] = []
    for batch in loader:
        group.append(batch)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def _accumulate(
    accelerator: Accelerator, model: torch.nn.Module, group: list[dict]
) -> Iterator[tuple[torch.Tensor, dict]]:
    """Forward and backward every batch of one update; yields ``(part, batch)``, where ``part``
    is the batch's share of the update's ``[loss, loss_main, loss_dur]``: summed over the
    group's batches and over the processes, the update's own losses (what `_log_train` logs).

    Each batch's loss is its sums of main and duration NLL over the targets of the whole update
    (all batches, all processes: `loss_target_counts`), not its own means, so that the update is
    that of one batch holding them all: a short tune's targets weigh what a long one's do, and a
    short last group of an epoch is not scaled down. Gradients are synchronised across
    processes at the group's last batch only."""
    unwrapped = accelerator.unwrap_model(model)
    special = special_ids(unwrapped)
    counts = [loss_target_counts(batch["labels"], special) for batch in group]
    totals = accelerator.reduce(torch.stack(counts).sum(0).double(), "sum").clamp_min(1)
    # `accelerator.backward` divides by the accumulation steps, and DDP averages processes
    scale = accelerator.gradient_accumulation_steps * accelerator.num_processes
    weight = unwrapped.config.dur_loss_weight
    for i, (batch, count) in enumerate(zip(group, counts)):
        last = i == len(group) - 1
        with contextlib.nullcontext() if last else accelerator.no_sync(model):
            out = model(**batch, return_dict=True)
            share = count / totals
            loss = (out.loss_main * share[0] + weight * out.loss_dur * share[1]) * scale
            accelerator.backward(loss.to(out.loss.dtype))
        main, dur = (out.loss_main.detach() * share[0]), (out.loss_dur.detach() * share[1])
        yield torch.stack([main + weight * dur, main, dur]).double().cpu(), batch


def _train_seconds(stats: dict) -> float:
    """Seconds spent training so far, in this process and the runs it resumed, validation left
    out (the learning curve's time axis and all_results.json's runtime)."""
    return stats["seconds_before"] + time.perf_counter() - stats["start"] - stats["eval_seconds"]


def _after_update(args, accelerator, model, eval_dl, stats, window, completed, epoch) -> bool:
    """Log, validate and checkpoint after update number ``completed``; True when training ends
    (``--max_train_steps`` reached or ``--max_train_minutes`` spent, agreed by all processes)."""
    if completed % args.logging_steps == 0 or completed == args.max_train_steps:
        _log_train(args, accelerator, window, stats, lr_for(args, completed - 1), completed)
        window.clear()
    if args.eval_steps and completed % args.eval_steps == 0 and len(eval_dl.dataset):
        _timed_eval(args, accelerator, model, eval_dl, stats, completed)
    stop = completed >= args.max_train_steps
    if args.max_train_minutes is not None and not stop:
        spent = _train_seconds(stats)  # the runs it resumed included: the budget is the run's
        late = spent > 60 * args.max_train_minutes
        stop = bool(accelerator.reduce(torch.tensor(float(late)), "sum") > 0)
        if stop:
            log_time_budget(args, completed)
    if stop and window:  # the run ends here: its last updates logged, as the budget's last are
        _log_train(args, accelerator, window, stats, lr_for(args, completed - 1), completed)
        window.clear()
    # after the clock: the checkpoint records at least the time that stopped the run, so that
    # resuming it finds the budget spent
    if isinstance(args.checkpointing_steps, int) and completed % args.checkpointing_steps == 0:
        _checkpoint(args, accelerator, model, f"step_{completed}", completed, epoch, stats, window)
    stats["stop"] = stop
    return stop


def _log_train(args, accelerator, window, stats, lr, step) -> None:
    """Log the mean of the window's updates' losses (each summed from every process's share):
    the updates since the last log, ``--logging_steps`` of them but at a run's last update."""
    device = accelerator.device
    mean = accelerator.reduce(torch.stack(window).to(device), "sum").mean(0).tolist()
    stats["loss_sum"] += mean[0] * len(window)
    stats["loss_steps"] += len(window)
    stats["last_updates"] = len(window)
    stats["last"] = {"train_loss": mean[0], "train_loss_main": mean[1], "train_loss_dur": mean[2]}
    accelerator.log({**stats["last"], "lr": lr}, step=step)
    _history(args, accelerator, stats, step, {**stats["last"], "lr": lr})


def _timed_eval(args, accelerator, model, eval_dl, stats, step) -> dict:
    if step in stats["evals"]:  # the final validation right after a periodic one
        return stats["evals"][step]
    begin = time.perf_counter()
    special = special_ids(accelerator.unwrap_model(model))  # pad/start/end: no duration
    metrics = evaluate_lm(model, eval_dl, accelerator, ignored_dur_ids=special)
    stats["eval_seconds"] += time.perf_counter() - begin
    stats["evals"][step] = metrics
    accelerator.log({f"eval_{k}": v for k, v in metrics.items()}, step=step)
    _history(args, accelerator, stats, step, {f"eval_{k}": v for k, v in metrics.items()})
    logger.info("step %d: %s", step, shown_log_figures(metrics))  # a NaN: n/a (why)
    return metrics


def _history(args, accelerator, stats, step: int, record: dict) -> None:
    """Append to ``output_dir/train_log.jsonl`` (the learning curve, kept by a killed run too)."""
    if accelerator.is_main_process:
        record = {"step": step, "train_seconds": round(_train_seconds(stats), 3), **record}
        append_jsonl(os.path.join(args.output_dir, "train_log.jsonl"), record)


def _checkpoint(
    args, accelerator, model, name: str, completed: int, epoch: int, stats, window
) -> None:
    """Save the state; the running totals of the logged updates go with it, for a resumed run's
    all_results.json, and so do the losses of the updates since the last log (`_window_state`),
    which the resumed run logs with its own at the next ``--logging_steps``: the learning curve
    is the same whatever ``--checkpointing_steps`` is, and whether or not the run was resumed."""
    # "last": the last logged losses, for a resumed run's train_loss_last (even with no update)
    totals = {key: stats[key] for key in ("loss_sum", "loss_steps", "last", "last_updates")}
    # each process counts its own tokens; the checkpoint keeps all of them (finish sums them too)
    totals["tokens"] = int(accelerator.reduce(torch.tensor(float(stats["tokens"])), "sum").item())
    totals["train_seconds"] = _train_seconds(stats)
    state = {"completed_steps": completed, "epoch": epoch, "seed": args.seed, "totals": totals}
    state["loss_window"] = _window_state(accelerator, window)
    state.update(run=run_flags(args), args=recorded_flags(args), data=args.data_fingerprint)
    state["optimisation_changes"] = getattr(args, "optimisation_changes", [])  # on resuming
    state["max_train_steps"] = args.max_train_steps  # epochs counted: the cosine's length
    # the model's config, which a resumed run builds its model from (`build_model`)
    state[MODEL_CONFIG_KEY] = accelerator.unwrap_model(model).config.to_dict()
    save_checkpoint(accelerator, args.output_dir, name, state)


def _window_state(accelerator: Accelerator, window: list[torch.Tensor]) -> list[list[float]]:
    """The ``[loss, loss_main, loss_dur]`` of each update not yet logged, summed over the
    processes (what `_log_train` averages), for the checkpoint: at most ``--logging_steps``
    rows. A collective: every process calls it."""
    if not window:
        return []
    return accelerator.reduce(torch.stack(window).to(accelerator.device), "sum").tolist()


def _restored_window(accelerator: Accelerator, saved: dict) -> list[torch.Tensor]:
    """The resumed checkpoint's unlogged updates (`_window_state`; none when not resuming),
    carried by the main process as the saved token count is: the others hold zeros, so that
    `_log_train`'s sum over the processes gives each update's losses once. A null (a NaN loss,
    which the checkpoint's JSON cannot hold) is read back as NaN."""
    share = 1.0 if accelerator.is_main_process else 0.0
    rows = [[math.nan if v is None else v for v in row] for row in saved.get("loss_window", [])]
    return [torch.tensor(row, dtype=torch.float64) * share for row in rows]


# ----- end of training ---------------------------------------------------------------------------
def finish(
    args: argparse.Namespace,
    accelerator: Accelerator,
    model: torch.nn.Module,
    tokenizer: AbcTokenizer,
    stats: dict,
    metrics: dict,
    data_report: dict,
    corpus_sizes: dict,
) -> dict:
    """Save model, tokenizer, all_results.json and the model card (`push_run` uploads them,
    once the trackers are ended)."""
    unwrapped = accelerator.unwrap_model(model)
    save_model(unwrapped, args.output_dir, accelerator, with_pipeline=True)
    tokens = accelerator.reduce(torch.tensor(float(stats["tokens"])), "sum").item()
    # measured before the final validation, which is not training time
    train_seconds = max(stats["train_seconds"], 1e-9)
    results = {f"eval_{k}": v for k, v in metrics.items()}
    if metrics:  # accelerate's autocast wraps the prepared model's forward, validation's too
        results["eval_precision"] = autocast_precision(accelerator)
    results.update(
        train_loss=stats["loss_sum"] / max(stats["loss_steps"], 1),
        train_loss_last=stats["last"].get("train_loss"),  # None (null): no update logged
        # how many updates it averages: the last log's window (0: none logged, or a checkpoint
        # from before the count was kept)
        train_loss_last_updates=stats["last_updates"],
        train_steps=stats["completed_steps"],
        stopped_by=stopped_by(args, stats["completed_steps"]),
        train_tokens=int(tokens),
        train_tokens_per_second=tokens / train_seconds,
        train_runtime_seconds=stats["train_seconds"],
        wall_time_seconds=time.perf_counter() - stats["wall_start"],
        num_processes=accelerator.num_processes,
        total_batch_size=args.per_device_train_batch_size
        * accelerator.num_processes
        * args.gradient_accumulation_steps,
        num_parameters=sum(p.numel() for p in unwrapped.parameters()),
        **{f"corpus_{k}_tunes": v for k, v in corpus_sizes.items()},
        tokenize_report=data_report["tokenize"],
        # which tunes it trained on: a tune-title run on this backbone compares its own split
        data_split=published_data_split(data_split_record(args)),
    )
    if getattr(args, "optimisation_changes", None):  # flags a resumed run changed, and when
        results["optimisation_changes"] = args.optimisation_changes
    if accelerator.is_main_process:
        save_tokenizer(tokenizer, args.output_dir)
        record_run_files(args.output_dir, ["all_results.json", "README.md"])
        record_data_split(args.output_dir, data_split_record(args))  # the corpus paths too
        write_json(os.path.join(args.output_dir, "all_results.json"), results)
        write_measurenote_card(args, unwrapped, results, data_report)
    accelerator.wait_for_everyone()
    return results


# ----- tasks -------------------------------------------------------------------------------------
def run(args: argparse.Namespace, accelerator: Accelerator) -> dict:
    """Train MeasureNote; returns the dict written to all_results.json."""
    wall_start = time.perf_counter()
    set_seed(args.seed, device_specific=True)
    accelerator.print(
        f"{accelerator.distributed_type}: {accelerator.num_processes} process(es) on "
        f"{accelerator.device}, {torch.get_num_threads()} torch thread(s) each"
    )
    tokenizer, splits, data_report = prepare_corpus(args, accelerator)
    start_run_folder(args, accelerator)  # the corpus is accepted: now the earlier run may go
    corpus_sizes = {name: len(ds) for name, ds in splits.items()}
    accelerator.print(f"Tunes per split after tokenization: {corpus_sizes}")
    if not corpus_sizes["validation"]:  # scored, it would give made-up perfect figures
        logger.warning("The validation split is empty: this run is not validated (no eval_*)")
    model = build_model(args, tokenizer)
    train_dl, eval_dl, epoch_objects = build_dataloaders(
        args, splits, tokenizer, accelerator.num_processes
    )
    # AdamW with weight_decay 0 is exactly Adam (the reference); with decay, matrices only.
    optimizer = torch.optim.AdamW(
        model.configure_optimizer_groups(args.weight_decay), lr=args.learning_rate
    )
    model, optimizer, train_dl, eval_dl = accelerator.prepare(model, optimizer, train_dl, eval_dl)
    recompute_steps_and_start_tracking(args, accelerator, train_dl, "measurenote")
    stats = train_loop(args, accelerator, model, optimizer, train_dl, eval_dl, epoch_objects)
    metrics = {}
    if len(splits["validation"]):
        step = stats["completed_steps"]
        metrics = _timed_eval(args, accelerator, model, eval_dl, stats, step)
    stats["wall_start"] = wall_start
    results = finish(args, accelerator, model, tokenizer, stats, metrics, data_report, corpus_sizes)
    accelerator.end_training()
    push_run(args, accelerator)
    return results


__all__ = ["build_model", "run", "train_loop"]
