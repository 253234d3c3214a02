"""`--task tune_title` of training/train.py: the tune-title dual encoder on note crops, its loop
and run (its model's config, the model and the training pairs: tune_title_setup.py)."""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import set_seed
from torch.utils.data import DataLoader

from training.backbone_split import backbone_split
from training.common import (
    TrainingProgress,
    data_split_record,
    log_time_budget,
    lr_for,
    minutes_left,
    nothing_left,
    published_data_split,
    recompute_steps_and_start_tracking,
    set_learning_rate,
    shown_log_figures,
    stopped_by,
    write_json,
)
from training.data import prepare_corpus
from training.hub import push_run
from training.losses import ClipLoss, scale_gradient
from training.model_card import write_tune_title_card
from training.run_folder import (
    epoch_checkpoint_name,
    recorded_flags,
    run_flags,
    save_checkpoint,
    save_model,
    save_tokenizer,
    start_run_folder,
)
from training.run_record import record_data_split, record_run_files
from training.run_resume import MODEL_CONFIG_KEY, resume_state
from training.tune_title_arguments import (  # re-exported: this module's public flags
    add_arguments,
    check_arguments,
    check_backbone_outside_output,
)
from training.tune_title_log import (  # recent_loss re-exported: it was this module's
    append_history,
    recent_loss,
    restored_log_state,
    train_seconds,
    update_loss,
)
from training.tune_title_retrieval import logged_retrieval, retrieval_results, write_queries
from training.tune_title_setup import (  # re-exported: they were this module's
    UNRECORDED_CONFIG_VALUES,
    UNRECORDED_HINT,
    build_model,
    check_backbone_weights,
    flags_config,
    model_config,
    title_config,
    title_counts,
    training_pairs,
)

if TYPE_CHECKING:  # annotations only: the real imports stay lazy
    from datasets import DatasetDict

    from tokenization.tokenization_abc import AbcTokenizer

logger = get_logger(__name__)

KNOWN_QUERIES_FILE = "known_queries.abc"


def _optimizer(model: torch.nn.Module, args: argparse.Namespace) -> torch.optim.Optimizer:
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (decay if param.dim() >= 2 and "embeddings" not in name else no_decay).append(param)
    groups = [
        {"params": decay, "weight_decay": args.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=args.learning_rate)


def _loss(
    model: Any, unwrapped: Any, loss_fn: ClipLoss, batch: dict, num_processes: int = 1
) -> torch.Tensor:
    """The batch's loss; `unwrapped` is `model` without its accelerate/DDP wrapper.

    InfoNCE and hinge score the batch of every process (`ClipLoss` gathers it): each process
    computes that whole loss, but its gradient reaches only the process's own embeddings, and
    DDP then averages the processes, which leaves the towers 1/`num_processes` of the gradient
    of one process holding the whole batch. Their embeddings' gradient is scaled back up, as
    `_accumulate` of train_measurenote.py scales MeasureNote's loss; `logit_scale` already gets
    its whole gradient in every process, which DDP's average keeps. The cosine loss scores each
    process's own pairs: DDP's average is already the mean over the processes' batches."""
    from modeling_irish.modeling_tune_title import cosine_pair_loss

    out = model(
        batch["input_ids"],
        batch["measure_numbers"],
        batch["attention_mask"],
        titles=batch["titles"],
        return_dict=True,
    )
    if unwrapped.config.loss_type == "cosine":
        return cosine_pair_loss(out.tune_embeds, out.title_embeds, batch["positives_mask"])
    tune, title = (scale_gradient(e, num_processes) for e in (out.tune_embeds, out.title_embeds))
    return loss_fn(tune, title, unwrapped.logit_scale.exp(), batch["group_ids"])


def _should_stop(args, accelerator, completed: int, start: float) -> bool:
    """`--max_train_steps` reached or `--max_train_minutes` spent since ``start`` (agreed by all
    processes; a resumed run's ``start`` is moved back by the training time it resumes)."""
    stop = completed >= args.max_train_steps
    if getattr(args, "max_train_minutes", None) is not None and not stop:
        late = time.perf_counter() - start > 60 * args.max_train_minutes
        stop = bool(accelerator.reduce(torch.tensor(float(late)), "sum") > 0)
        if stop:
            log_time_budget(args, completed)
    return stop


def _state(args: argparse.Namespace, completed: int, epoch: int, stats: dict, config: dict) -> dict:
    """What a checkpoint records besides the accelerate state (see `resume_state`); `config`:
    the model's, which a resumed run builds its model from (`model_config`)."""
    return {
        "completed_steps": completed,
        "epoch": epoch,
        "seed": args.seed,
        "recent_losses": stats["losses"][-args.logging_steps :],
        # the updates not yet logged, which a resumed run logs with its own (`_log_window`),
        # and the last log's mean and count, its train_loss_last should it train no further
        "loss_window": list(stats["window"]),
        "last_loss": {"train_loss": stats["last"][0], "updates": stats["last"][1]},
        "train_seconds": train_seconds(stats),
        "run": run_flags(args),
        "args": recorded_flags(args),
        "data": args.data_fingerprint,  # what a resumed run must read again (check_resume_data)
        "optimisation_changes": getattr(args, "optimisation_changes", []),  # on resuming
        "max_train_steps": args.max_train_steps,  # epochs counted: the cosine's length
        MODEL_CONFIG_KEY: config,
    }


def _fill_title_cache(model: Any, titles: Sequence[str], progress: bool) -> None:
    """Cache a frozen MiniLM's vectors of every training title at once: faster than the few
    new titles of each batch (`TuneTitleTextModel.fill_cache`); a progress bar on the main
    process, then logged with its time."""
    if model.title_model.cached and titles:
        start = time.perf_counter()
        model.title_model.fill_cache(titles, progress=progress)
        logger.info(
            "title vectors of %d training titles cached in %.1fs",
            len(set(titles)),
            time.perf_counter() - start,
        )


def train_loop(
    args: argparse.Namespace,
    accelerator: Accelerator,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train_dl: DataLoader,
    epoch_objects: list[Any],
    loss_fn: ClipLoss,
    titles: Sequence[str] = (),
) -> dict:
    """Optimisation loop with accumulation, clipping, logging, checkpoints and exact resume.
    `titles`: the training titles, whose vectors a frozen MiniLM tower caches in one pass
    before the first update (after the checkpoint's weights are loaded, which empty it)."""

    steps_per_epoch = math.ceil(len(train_dl) / args.gradient_accumulation_steps)
    saved: dict = {}
    completed = resume_state(args, accelerator, saved, optimizer)
    _fill_title_cache(accelerator.unwrap_model(model), titles, accelerator.is_local_main_process)
    first_epoch, resume_batches = divmod(completed, steps_per_epoch)
    # a resumed run starts with the checkpoint's last losses and those it has not logged, so
    # that its learning curve and train_loss_last are an uninterrupted run's
    stats: dict[str, Any] = {
        "losses": list(saved.get("recent_losses", [])),
        "start": time.perf_counter(),
    }
    stats["window"], stats["last"] = restored_log_state(saved, completed, args.logging_steps)
    stats["seconds_before"] = float(saved.get("train_seconds", 0.0))  # the runs it resumes
    if nothing_left(args, completed, stats["seconds_before"]):  # resumed with its budget spent
        first_epoch = args.num_train_epochs
    with TrainingProgress(
        args.max_train_steps,
        completed,
        minutes_left(getattr(args, "max_train_minutes", None), stats["seconds_before"]),
        accelerator.is_local_main_process,
    ) as progress:  # closed however the loop ends: a stop's line starts on its own
        model.train()
        unwrapped = accelerator.unwrap_model(model)
        micro: list[torch.Tensor] = []  # the losses of this update's micro-batches
        stop = False
        for epoch in range(first_epoch, args.num_train_epochs):
            for obj in epoch_objects:
                obj.set_epoch(epoch)
            active: Any = train_dl  # accelerate's loader (prepared), with its set_epoch
            if epoch == first_epoch and resume_batches:
                active = accelerator.skip_first_batches(
                    train_dl, resume_batches * args.gradient_accumulation_steps
                )
            # accelerate's loader sets its own epoch on every pass (to 0 for a fresh or skipping
            # loader), which would override the sampler's and crops' epoch set above
            active.set_epoch(epoch)
            for batch in active:
                with accelerator.accumulate(model):
                    loss = _loss(model, unwrapped, loss_fn, batch, accelerator.num_processes)
                    micro.append(loss.detach())
                    accelerator.backward(loss)
                    if accelerator.sync_gradients:
                        accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                        set_learning_rate(optimizer, lr_for(args, completed))
                    optimizer.step()
                    optimizer.zero_grad()
                    with torch.no_grad():  # CLIP: keep exp(logit_scale) <= 100
                        unwrapped.logit_scale.clamp_(0, math.log(100))
                if not accelerator.sync_gradients:
                    continue
                completed += 1
                update_mean = update_loss(accelerator, micro)  # a float; `loss` is a batch's
                stats["losses"].append(update_mean)
                stats["window"].append(update_mean)
                micro = []
                # the clock first: a checkpoint saved after it records at least the time that
                # stopped the run, so that resuming it finds the budget spent
                stop = _should_stop(
                    args, accelerator, completed, stats["start"] - stats["seconds_before"]
                )
                # every --logging_steps updates, and the run's last updates (fewer when it stops
                # between two logs), as MeasureNote's `_after_update` logs them
                logged = completed % args.logging_steps == 0 or stop
                if logged:
                    _log_window(args, accelerator, stats, completed)
                # the mean logged (the last is train_loss_last), else that of the last
                # --logging_steps updates: not the update's own loss
                mean, count = (
                    stats["last"] if logged else recent_loss(stats["losses"], args.logging_steps)
                )
                progress.update(loss=mean, loss_updates=count)
                if (
                    isinstance(args.checkpointing_steps, int)
                    and completed % args.checkpointing_steps == 0
                ):
                    state = _state(args, completed, epoch, stats, unwrapped.config.to_dict())
                    save_checkpoint(accelerator, args.output_dir, f"step_{completed}", state)
                if stop:
                    break
            # (the clock is read after each update only, so that a run resumed from any checkpoint
            # stops where the uninterrupted run stopped: an epoch's end changes nothing)
            if args.checkpointing_steps == "epoch":  # step_N for an epoch the run stopped inside
                state = _state(args, completed, epoch, stats, unwrapped.config.to_dict())
                name = epoch_checkpoint_name(epoch, completed, steps_per_epoch)
                save_checkpoint(accelerator, args.output_dir, name, state)
            if stop:
                break
    if stats["window"]:  # a resumed checkpoint's unlogged updates, with nothing left to train
        _log_window(args, accelerator, stats, completed)
    stats.update(completed_steps=completed, seconds=train_seconds(stats))
    return stats


def _log_window(args: argparse.Namespace, accelerator: Accelerator, stats: dict, step: int) -> None:
    """Log ``train_loss``, the mean loss of the updates since the last log (``--logging_steps``
    of them, fewer at a run's last update), as MeasureNote's `_log_train` does; it becomes
    ``stats["last"]`` (the run's ``train_loss_last``) and the window is emptied."""
    window = stats["window"]
    mean = float(np.mean(window))
    stats["last"], stats["window"] = (mean, len(window)), []
    record = {"train_loss": mean, "lr": lr_for(args, step - 1)}
    accelerator.log(record, step=step)
    append_history(args, accelerator, step, train_seconds(stats), record)
    shown = shown_log_figures({"train_loss": mean})  # a NaN: n/a (why), raw above
    logger.info("step %d: %s (mean of %d updates)", step, shown, len(window))


def final_retrieval(
    args: argparse.Namespace,
    accelerator: Accelerator,
    model: torch.nn.Module,
    tokenizer: AbcTokenizer,
    splits: DatasetDict,
    train_keep: list,
    held: list[int],
    stats: dict,
) -> dict:
    """`retrieval_results` of the trained model, its figures logged at the last update (the
    trackers and train_log.jsonl) with ``eval_precision``; main process only. A resumed run
    with nothing left to train takes the figures the run it resumes logged for that update
    (`logged_retrieval`) rather than evaluating and logging them a second time."""
    step = stats["completed_steps"]
    retrieval = logged_retrieval(args, splits, held, step)
    fresh = not retrieval
    if fresh:
        retrieval = retrieval_results(args, model, tokenizer, splits, train_keep, held)
    else:
        logger.info(
            "final retrieval evaluation of update %d: the figures train_log.jsonl holds", step
        )
    figures = {k: v for k, v in retrieval.items() if k != "retrieval_eval_skipped"}
    if figures:
        # get_*_features run the towers outside the autocast accelerate puts on forward
        retrieval["eval_precision"] = "float32"
    if figures and fresh:  # the final figures reach the trackers and the log too
        # a tracker holds numbers; a None (a single query's stderr) is the log's null alone
        accelerator.log({k: v for k, v in figures.items() if v is not None}, step=step)
        append_history(args, accelerator, step, stats["seconds"], figures)
    return retrieval


def run(args: argparse.Namespace, accelerator: Accelerator) -> dict:
    """Train the dual encoder; saves model, both tokenizers, known_queries.abc, all_results.json
    and the tunes of the final retrieval evaluation (retrieval_eval/)."""
    from modeling_irish.tune_title_batches import TitleGroupBatchSampler
    from modeling_irish.tune_title_data import TuneTitleCollator, TuneTitleDataset, titled_indices
    from tokenization.dataset import column_values

    wall_start = time.perf_counter()  # all_results.json's wall_time_seconds, as MeasureNote's
    check_backbone_weights(args)  # before the corpus is read (25+ s on the full corpus)
    set_seed(args.seed, device_specific=True)
    tokenizer, splits, data_report = prepare_corpus(args, accelerator)
    config = model_config(args, tokenizer)  # a resumed run's: its checkpoint's
    # refuses a corpus of no pairs: nothing written
    pairs, held = training_pairs(splits, args, tokenizer, config.title_config)
    start_run_folder(args, accelerator)  # the corpus is accepted: now the earlier run may go
    if accelerator.is_main_process:
        record_run_files(args.output_dir, [KNOWN_QUERIES_FILE])
        write_queries(os.path.join(args.output_dir, KNOWN_QUERIES_FILE), splits["train"], held)
    dataset = TuneTitleDataset(
        pairs["input_ids"], pairs["titles"], pairs["groups"], tokenizer, args.crop_notes, args.seed
    )
    sampler = TitleGroupBatchSampler(
        pairs["groups"],
        args.per_device_train_batch_size,
        args.seed,
        settings_per_group=args.settings_per_group,
        num_processes=accelerator.num_processes,
        per_process_loss=args.loss_type == "cosine",  # each process's batch needs a negative
    )
    # its own generator: creating the loader's iterator must not draw from the global torch RNG
    # (dropout), or a resumed run would drift from an uninterrupted one
    train_dl = DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=TuneTitleCollator(),
        generator=torch.Generator().manual_seed(args.seed),
    )
    model = build_model(args, tokenizer, config)
    optimizer = _optimizer(model, args)
    model, optimizer, train_dl = accelerator.prepare(model, optimizer, train_dl)
    recompute_steps_and_start_tracking(args, accelerator, train_dl, "tune_title")
    loss_fn = ClipLoss(
        loss_type="hinge" if args.loss_type == "hinge" else "infonce", margin=args.hinge_margin
    )
    stats = train_loop(
        args, accelerator, model, optimizer, train_dl, [dataset, sampler], loss_fn, pairs["titles"]
    )
    unwrapped = accelerator.unwrap_model(model)
    save_model(unwrapped, args.output_dir, accelerator)
    last, last_updates = stats["last"]
    results = {
        # the last train_loss logged (the bar's last value): the mean training loss over the
        # last train_loss_last_updates updates; None (null): no update logged
        "train_loss_last": last if last_updates else None,
        "train_loss_last_updates": last_updates,
        "train_steps": stats["completed_steps"],
        "stopped_by": stopped_by(args, stats["completed_steps"]),
        "train_runtime_seconds": stats["seconds"],
        "num_processes": accelerator.num_processes,
        "total_batch_size": args.per_device_train_batch_size
        * accelerator.num_processes
        * args.gradient_accumulation_steps,
        "train_pairs": len(dataset),
        **title_counts(pairs["titles"], pairs["groups"]),
        # up to --settings_per_group pairs per title group an epoch: fewer than train_pairs
        "pairs_per_epoch": sampler.pairs_per_epoch,
        "known_queries_held_out": len(held),
        "untitled_left_out": len(splits["train"])
        - len(titled_indices(column_values(splits["train"], "title"))),
        "unknown_values_left_out": pairs["unknown_left_out"],
        "tokenize_report": data_report["tokenize"],
        "data_split": published_data_split(data_split_record(args)),
    }
    if getattr(args, "optimisation_changes", None):  # flags a resumed run changed, and when
        results["optimisation_changes"] = args.optimisation_changes
    if args.measurenote_path:  # what the backbone trained on, against this run's split
        # corpus files by name: all_results.json and the card are uploaded, the paths are not
        status, changes, _ = backbone_split(args, by_name=True)
        results["backbone_split"] = status
        if changes:
            results["backbone_split_changes"] = changes
    if accelerator.is_main_process:
        save_tokenizer(tokenizer, args.output_dir)  # the title tokenizer came with the model
        if args.retrieval_eval_queries:
            results.update(
                final_retrieval(
                    args,
                    accelerator,
                    unwrapped,
                    tokenizer,
                    splits,
                    pairs["holdout_train"],
                    held,
                    stats,
                )
            )
        else:
            logger.info("final retrieval evaluation skipped (--retrieval_eval_queries 0)")
            why = "--retrieval_eval_queries 0"
            results["retrieval_eval_skipped"] = {"known": why, "unseen": why}
        # the main process's own clock, everything included: from the start of run() (before
        # the corpus is read) to here, the model saved and evaluated (not the runs it resumed)
        results["wall_time_seconds"] = time.perf_counter() - wall_start
        record_run_files(args.output_dir, ["all_results.json", "README.md"])
        record_data_split(args.output_dir, data_split_record(args))  # the corpus paths too
        write_json(os.path.join(args.output_dir, "all_results.json"), results)
        write_tune_title_card(args, unwrapped, results, data_report)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    push_run(args, accelerator)
    return results


__all__ = [
    "KNOWN_QUERIES_FILE",
    "UNRECORDED_CONFIG_VALUES",
    "UNRECORDED_HINT",
    "add_arguments",
    "build_model",
    "check_arguments",
    "check_backbone_outside_output",
    "flags_config",
    "model_config",
    "recent_loss",
    "run",
    "title_config",
    "title_counts",
    "train_loop",
    "training_pairs",
]
