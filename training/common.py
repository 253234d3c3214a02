"""Training helpers shared by the tasks: lr schedule, batching, evaluation, checkpoints, cards."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import shlex
import shutil
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import torch
from accelerate.logging import get_logger

from modeling_irish.lm_evaluation import per_tune_nll, summarise_nll

__all__ = [
    "append_jsonl",
    "autocast_precision",
    "check_hub_reachable",
    "check_resume_data",
    "check_same_processes",
    "checkpoint_names",
    "clear_run_outputs",
    "data_changes",
    "evaluate_lm",
    "json_safe",
    "latest_checkpoint",
    "learning_rate_at",
    "lr_for",
    "no_checkpoint_error",
    "nothing_left",
    "parse_config_overrides",
    "per_tune_nll",
    "push_run",
    "push_to_hub",
    "read_training_state",
    "recorded_flags",
    "resume_state",
    "resumed_checkpoint",
    "run_outputs",
    "run_flag_changes",
    "run_flags",
    "save_checkpoint",
    "save_model",
    "set_learning_rate",
    "summarise_nll",
    "tracked_config",
    "write_json",
    "UploadError",
    "UsageError",
]

if TYPE_CHECKING:
    from accelerate import Accelerator

logger = get_logger(__name__)  # accelerate's: warns once, from the main process


class UsageError(ValueError):
    """Bad input found once the run has started (e.g. a thesession dump that is not one): the
    command line (`cli`) prints it as one line and exits with status 2, as argparse does."""


class UploadError(RuntimeError):
    """The upload that ends a ``--push_to_hub`` run failed (the Hub refused it, or could not be
    reached): the model is saved, and the command line (`cli`) prints one line that says where
    and how to upload it later, and exits with status 1."""


TRAINING_STATE_FILE = "training_state.json"
_CHECKPOINT_RE = re.compile(r"^(step|epoch)_(\d+)$")


# ----- learning rate -----------------------------------------------------------------------------
def learning_rate_at(
    step: int,
    *,
    base_lr: float,
    scheduler_type: str = "step",
    warmup_steps: int = 0,
    step_size: int = 10_000,
    gamma: float = 0.5,
    total_steps: int = 1,
) -> float:
    """Learning rate of optimizer update number ``step`` (0-based).

    Linear warmup ``lr * (step + 1) / warmup_steps`` for the first ``warmup_steps`` updates, then
    - ``step``: ``lr * gamma ** (step // step_size)`` (the reference: halve every 10k updates);
    - ``cosine``: ``lr * 0.5 * (1 + cos(pi * t))``, ``t`` the fraction of post-warmup updates done;
    - ``constant``: ``lr``.

    >>> [learning_rate_at(s, base_lr=1.0, step_size=2) for s in (0, 1, 2, 5)]
    [1.0, 1.0, 0.5, 0.25]
    >>> learning_rate_at(0, base_lr=1.0, scheduler_type="constant", warmup_steps=4)
    0.25
    """
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if scheduler_type == "step":
        return base_lr * gamma ** (step // step_size)
    if scheduler_type == "cosine":
        done = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return base_lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, done)))
    if scheduler_type == "constant":
        return base_lr
    raise ValueError(f"unknown scheduler_type {scheduler_type!r}")


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set ``lr`` on every parameter group (the schedule is a pure function of the step, so a
    resumed run needs no scheduler state)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def parse_config_overrides(text: str | None) -> dict[str, Any]:
    """``"a=1,b=0.5,c=true,d=gru"`` -> ``{"a": 1, "b": 0.5, "c": True, "d": "gru"}``; a key given
    twice is refused (which value was meant?).

    >>> parse_config_overrides("note_hidden_size=128, measure_num_heads=4")
    {'note_hidden_size': 128, 'measure_num_heads': 4}
    >>> parse_config_overrides("note_dropout=0.1,note_dropout=0.3")
    Traceback (most recent call last):
    ...
    ValueError: config key 'note_dropout' is given twice
    """
    out: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"config override {item!r} is not of the form name=value")
        if name.strip() in out:
            raise ValueError(f"config key {name.strip()!r} is given twice")
        out[name.strip()] = _parse_scalar(value.strip())
    return out


def _parse_scalar(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


# ----- after accelerator.prepare ---------------------------------------------------------------
def recompute_steps_and_start_tracking(
    args: Any, accelerator: Any, train_dl: Any, project: str
) -> None:
    """The dataloader length changes once sharded across processes: recompute
    ``max_train_steps`` / ``num_train_epochs`` from it, then start the trackers (with the run's
    scalar flags as the tracked config) when ``--with_tracking``."""
    steps_per_epoch = math.ceil(len(train_dl) / args.gradient_accumulation_steps)
    given = args.max_train_steps
    if args.num_train_epochs:  # alone, the budget; with --max_train_steps, a cap on it
        by_epochs = args.num_train_epochs * steps_per_epoch
        args.max_train_steps = min(args.max_train_steps or by_epochs, by_epochs)
    # the flag that set the budget, for the messages about it
    args.budget_flag = "max_train_steps" if args.max_train_steps == given else "num_train_epochs"
    args.num_train_epochs = math.ceil(args.max_train_steps / steps_per_epoch)
    if args.with_tracking:
        accelerator.init_trackers(project, tracked_config(args))


#: Flags whose values are secrets: never written to disk (checkpoints, trackers' logs).
SECRET_FLAGS = ("hub_token",)
#: The trackers' project names (the tasks): accelerate logs into ``<output_dir>/<project>/``.
TRACKER_PROJECTS = ("measurenote", "tune_title")


def tracked_config(args: argparse.Namespace) -> dict[str, Any]:
    """The run's scalar flags, the trackers' config (TensorBoard writes it to ``hparams.yml``),
    secrets (`SECRET_FLAGS`) left out.

    >>> tracked_config(argparse.Namespace(learning_rate=3e-4, hub_token="hf_x", corpus=["a"]))
    {'learning_rate': 0.0003}
    """
    return {
        k: v
        for k, v in vars(args).items()
        if isinstance(v, (int, float, str, bool)) and k not in SECRET_FLAGS
    }


def autocast_precision(accelerator: Accelerator) -> str:
    """The precision the prepared model's forward runs in, validation's included: accelerate
    wraps it in autocast under ``--mixed_precision bf16`` (and fp16 on a GPU; on the CPU fp16
    is no autocast), else float32."""
    return f"{accelerator.mixed_precision} autocast" if accelerator.native_amp else "float32"


# ----- evaluation (NLL definitions: modeling_irish.lm_evaluation, shared with the CLI) -----------
@torch.no_grad()
def evaluate_lm(
    model: torch.nn.Module, dataloader: Any, accelerator: Any, ignored_dur_ids: Sequence[int]
) -> dict[str, float]:
    """`summarise_nll` over a whole (prepared) dataloader, gathered across processes with
    ``gather_for_metrics`` (which drops the samples repeated to even out the last batch)."""
    was_training = model.training
    model.eval()
    rows = []
    for batch in dataloader:
        out = model(**{k: v for k, v in batch.items() if k != "labels"}, return_dict=True)
        sums = per_tune_nll(out.logits, out.dur_logits, batch["labels"], ignored_dur_ids)
        rows.append(accelerator.gather_for_metrics(sums))
    model.train(was_training)
    weight = accelerator.unwrap_model(model).config.dur_loss_weight
    return summarise_nll(
        torch.cat(rows) if rows else torch.zeros(1, 6, dtype=torch.float64), weight
    )


# ----- checkpoints -------------------------------------------------------------------------------
class TrainingProgress:
    """A tqdm bar over updates (main process only) that also shows the minutes left of a
    `--max_train_minutes` budget, whose end the step count alone does not tell. With a budget,
    the bar's total is the number of updates the budget is projected to allow at the rate so far
    (never above `total`), so its bar and ETA follow the clock rather than a far-off step cap.

    >>> bar = TrainingProgress(total=100, initial=0, max_minutes=None, enabled=False)
    >>> bar.update(loss=2.5); bar.close()
    """

    def __init__(self, total: int, initial: int, max_minutes: float | None, enabled: bool):
        import time

        from tqdm.auto import tqdm

        self._clock = time.perf_counter
        self.start, self.max_minutes, self.cap = self._clock(), max_minutes, total
        self.initial = initial
        self.bar = tqdm(total=total, initial=initial, disable=not enabled, unit="step")

    def update(self, loss: float | None = None, paused_seconds: float = 0.0) -> None:
        """One update done; `paused_seconds` (evaluation time) do not count against the budget."""
        self.bar.update(1)
        postfix = {} if loss is None else {"loss": f"{loss:.3f}"}
        if self.max_minutes is not None:
            spent = max(self._clock() - self.start - paused_seconds, 1e-9)  # seconds
            left = max(60 * self.max_minutes - spent, 0.0)
            postfix["min_left"] = f"{left / 60:.1f}"
            projected = self.bar.n + left * (self.bar.n - self.initial) / spent
            # + 1e-6: 7.9999999 updates (the clock's float noise) are 8, not 7
            self.bar.total = int(min(self.cap, max(projected + 1e-6, self.bar.n)))
        if postfix:
            self.bar.set_postfix(postfix, refresh=False)

    def close(self) -> None:
        self.bar.close()


def save_checkpoint(accelerator: Any, output_dir: str, name: str, state: dict[str, Any]) -> str:
    """`accelerator.save_state` into ``output_dir/name``, atomically.

    Every process writes into a temporary folder (model, optimizer, RNG states, plus ``state``
    as ``training_state.json``); the main process then renames it, so a run killed mid-save never
    leaves a half-written ``step_N`` that "latest" would pick up.
    """
    final = os.path.join(output_dir, name)
    tmp = os.path.join(output_dir, f".tmp-{name}")
    if accelerator.is_main_process and os.path.exists(tmp):
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(tmp)
    if accelerator.is_main_process:
        state = {**state, "num_processes": accelerator.num_processes}  # see `resume_state`
        write_json(os.path.join(tmp, TRAINING_STATE_FILE), state)
        old = os.path.join(output_dir, f".old-{name}")
        if os.path.exists(final):
            shutil.rmtree(old, ignore_errors=True)  # left by a run killed after its last rename
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def save_model(model: Any, output_dir: str, accelerator: Any) -> None:
    """``model.save_pretrained(output_dir)``, each file written aside and renamed into place,
    so that a run killed while saving never leaves a half-written ``model.safetensors`` over
    a good one (checkpoints are atomic the same way, `save_checkpoint`)."""
    staging = os.path.join(output_dir, ".tmp-model")
    if accelerator.is_main_process:
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()
    model.save_pretrained(
        staging, is_main_process=accelerator.is_main_process, save_function=accelerator.save
    )
    if accelerator.is_main_process:
        for name in sorted(os.listdir(staging)):
            target = os.path.join(output_dir, name)
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)  # a folder (title_tokenizer/) is replaced whole
            os.replace(os.path.join(staging, name), target)
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()


#: Flags that fix the model's shape or the data it trains on: a resumed run may not change them.
#: The batch shape is one: a checkpoint's update count is where the run is in its epoch only in
#: updates of that many tunes (other sizes would skip tunes, or train on some twice).
RUN_FLAGS = (
    "task",
    # the resume position counts batches of this shape, in the order the seed draws
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "seed",
    "corpus",
    "split_ratios",
    "split_seed",
    "split_method",
    "link_incipits",
    "require_bars_fit",
    "preset",
    "config_overrides",
    "max_length",
    "tune_encoder",
    "title_encoder",
    "finetune_title_encoder",
    "freeze_backbone",
    "measurenote_path",
    "projection_dim",
    "loss_type",
    "crop_notes",
    "settings_per_group",
    "known_queries",  # the holdout: which pairs train
)


def run_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The `RUN_FLAGS` of a run, as JSON values (corpus paths made absolute), for its checkpoints.

    >>> run_flags(argparse.Namespace(task="measurenote", preset="small", split_ratios=(8, 1, 1)))
    {'task': 'measurenote', 'split_ratios': [8, 1, 1], 'preset': 'small'}
    """
    flags = {name: getattr(args, name) for name in RUN_FLAGS if hasattr(args, name)}
    return json.loads(json.dumps(_absolute_paths(flags)))


def absolute_sources(corpus: str | Sequence[str] | None) -> list[str] | None:
    """``--corpus`` as a list of sources, the paths among them made absolute (a source that is
    no path, such as ``oneills1850``, kept; ``None``, the default corpus, kept): one spelling,
    so that a run and its resumption from another folder share one corpus cache entry.

    >>> absolute_sources("oneills1850"), absolute_sources(None)
    (['oneills1850'], None)
    """
    if corpus is None:
        return None
    sources = [corpus] if isinstance(corpus, str) else list(corpus)
    return [os.path.abspath(s) if os.path.exists(s) else s for s in sources]


def _absolute_paths(flags: dict[str, Any]) -> dict[str, Any]:
    """``flags`` with the paths of `PATH_FLAGS` made absolute (a corpus as a list of sources,
    see `absolute_sources`), so that a checkpoint's run is resumed, and compared, from any
    working directory."""
    flags = dict(flags)
    if flags.get("corpus") is not None:
        flags["corpus"] = absolute_sources(flags["corpus"])
    for name in PATH_FLAGS[1:]:
        if flags.get(name) is not None:
            flags[name] = os.path.abspath(flags[name])
    return flags


#: Flags that name files or folders (the corpus first): checkpoints record them absolute.
PATH_FLAGS = ("corpus", "measurenote_path", "cache_dir")


#: Flags a checkpoint does not record for a resumed run to take: where it is, which checkpoint to
#: resume, whether to start afresh, whether to upload at the end (asked anew by each run that
#: should upload, so that a run started with ``--push_to_hub`` resumes offline, and without
#: uploading, when it is not given again), and the Hub token (a secret, never written to disk);
#: and the record itself.
UNRECORDED_FLAGS = (
    "output_dir",
    "resume_from_checkpoint",
    "overwrite_output_dir",
    "push_to_hub",
    *SECRET_FLAGS,
    "recorded_flags",
)


def recorded_flags(args: argparse.Namespace) -> dict[str, Any]:
    """Every flag of a run but `UNRECORDED_FLAGS`, as JSON values (paths absolute), for its
    checkpoints: a resumed run takes the ones it is not given
    (`training.arguments.inherit_checkpoint_flags`). `parse_args` keeps them as given, before
    defaults are derived, in ``args.recorded_flags``, which is then what this returns.

    >>> recorded_flags(argparse.Namespace(max_train_steps=300, hub_token="x", push_to_hub=True))
    {'max_train_steps': 300}
    """
    if isinstance(getattr(args, "recorded_flags", None), dict):
        return args.recorded_flags
    flags = {k: v for k, v in vars(args).items() if k not in UNRECORDED_FLAGS}
    return json.loads(json.dumps(_absolute_paths(flags), default=str))


def run_flag_changes(saved: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """``--flag saved (now value)`` for each run flag a checkpoint was saved with that this run
    sets otherwise (flags a checkpoint does not record are not compared)."""
    now = run_flags(args)
    return [
        f"--{name} {saved[name]!r} (now {now[name]!r})"
        for name in saved
        if name in now and not _same_flag(name, saved[name], now[name])
    ]


def _same_flag(name: str, saved: Any, now: Any) -> bool:
    """Equal values of a run flag; ``--config_overrides`` compared as the settings they make,
    so that another order or spacing of one set of overrides is the same run."""
    if name == "config_overrides" and saved != now:
        try:
            return parse_config_overrides(saved) == parse_config_overrides(now)
        except ValueError:  # a saved value the parser refuses: compared as text
            return False
    return saved == now


def read_training_state(checkpoint: str) -> dict[str, Any]:
    """The ``training_state.json`` written by `save_checkpoint`."""
    with open(os.path.join(checkpoint, TRAINING_STATE_FILE), encoding="utf-8") as handle:
        return json.load(handle)


def latest_checkpoint(output_dir: str) -> str | None:
    """The complete ``step_N`` / ``epoch_N`` folder of ``output_dir`` with the most updates."""
    best, best_steps = None, -1
    if not os.path.isdir(output_dir):
        return None
    for name in os.listdir(output_dir):
        path = os.path.join(output_dir, name)
        if not _CHECKPOINT_RE.match(name) or not os.path.isfile(
            os.path.join(path, TRAINING_STATE_FILE)
        ):
            continue
        steps = int(read_training_state(path)["completed_steps"])
        if steps > best_steps:
            best, best_steps = path, steps
    return best


def no_checkpoint_error(output_dir: str) -> str:
    """The one-line refusal of ``--resume_from_checkpoint`` (``latest``) when ``output_dir``
    holds no complete checkpoint: what is there instead, and what to do. A resume that finds
    nothing to resume is an error, as in transformers' `Trainer` ("No valid checkpoint found"):
    starting afresh would run with the default flags, not the killed run's, and delete its files.

    >>> no_checkpoint_error("no/such/folder").split(";")[0]
    '--resume_from_checkpoint: no/such/folder holds no checkpoint to resume (no such folder)'
    """
    if not os.path.isdir(output_dir):
        return (
            f"--resume_from_checkpoint: {output_dir} holds no checkpoint to resume (no such "
            "folder); drop --resume_from_checkpoint to start a new run, or give the --output_dir "
            "of the run to resume"
        )
    names, complete = sorted(os.listdir(output_dir)), set(checkpoint_names(output_dir))
    killed = [n for n in names if _CHECKPOINT_RE.match(n[5:]) and n[:5] in (".tmp-", ".old-")]
    partial = [n for n in names if _CHECKPOINT_RE.match(n) and n not in complete]
    found = []
    if killed:
        found.append(f"{', '.join(killed)}, left by a run killed while saving a checkpoint")
    if partial:
        found.append(f"{', '.join(partial)} without {TRAINING_STATE_FILE}")
    if "model.safetensors" in names:
        found.append("a trained model but no checkpoint: runs save them with --checkpointing_steps")
    shown = "; ".join(found) or ("an empty folder" if not names else "no step_N or epoch_N")
    return (
        f"--resume_from_checkpoint: {output_dir} holds no checkpoint to resume ({shown}); drop "
        "--resume_from_checkpoint to start a new run there (which deletes the earlier run's "
        "files), or give the --output_dir of the run to resume"
    )


def checkpoint_names(output_dir: str) -> list[str]:
    """The ``step_N`` / ``epoch_N`` checkpoints of ``output_dir`` (folders with a
    ``training_state.json``), fewest updates first.

    >>> checkpoint_names("no/such/folder")
    []
    """
    if not os.path.isdir(output_dir):
        return []
    found = [
        name
        for name in os.listdir(output_dir)
        if _CHECKPOINT_RE.match(name)
        and os.path.isfile(os.path.join(output_dir, name, TRAINING_STATE_FILE))
    ]
    return sorted(found, key=lambda name: (int(_CHECKPOINT_RE.match(name)[2]), name))


# ----- artefacts ---------------------------------------------------------------------------------
#: The files and folders a run of either task writes into its ``--output_dir``, besides its
#: checkpoints and the source files the model and tokenizer save for ``trust_remote_code``.
RUN_OUTPUTS = (
    "README.md",  # the model card
    "all_results.json",
    "train_log.jsonl",
    "config.json",
    "model.safetensors",
    "tokenizer_config.json",
    "abc_vocab.json",
    "known_queries.abc",
    "retrieval_eval",
    "title_tokenizer",
    *TRACKER_PROJECTS,
)


def run_outputs(output_dir: str) -> list[str]:
    """What an earlier run left in ``output_dir`` that this script writes: checkpoints,
    half-written ``.tmp-*`` / ``.old-*`` folders, `RUN_OUTPUTS`, and the package's own source
    files that ``save_pretrained`` copied (``modeling_tune_title.py``...). Other files are not
    listed (they are not the script's).

    >>> run_outputs("no/such/folder")
    []
    """
    if not os.path.isdir(output_dir):
        return []
    sources = {
        name
        for package in ("modeling_irish", "tokenization")
        for name in os.listdir(os.path.dirname(importlib.util.find_spec(package).origin))
        if name.endswith(".py") and name != "__init__.py"
    }
    ours = set(RUN_OUTPUTS) | sources | set(checkpoint_names(output_dir))
    return sorted(
        name
        for name in os.listdir(output_dir)
        if name in ours or name.startswith((".tmp-", ".old-"))
    )


def clear_run_outputs(output_dir: str) -> list[str]:
    """Delete `run_outputs` of ``output_dir`` (a run starting afresh there: nothing of the
    earlier run stays to mix with its own, be resumed as "latest", or be uploaded); returns
    the names deleted.

    >>> clear_run_outputs("no/such/folder")
    []
    """
    removed = run_outputs(output_dir)
    for name in removed:
        path = os.path.join(output_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    return removed


def starts_fresh(args: argparse.Namespace) -> bool:
    """Whether the run starts from scratch: no ``--resume_from_checkpoint`` (a resume with no
    checkpoint to resume is refused, `no_checkpoint_error`)."""
    return args.resume_from_checkpoint is None


def clear_earlier_run(args: argparse.Namespace, accelerator: Accelerator) -> None:
    """A run that starts from scratch deletes what an earlier run wrote into its output folder
    (`clear_run_outputs`: model, records, checkpoints, the other task's files), so that nothing
    of that run is mixed with this one's, resumed as "latest" or uploaded. Checkpoints are only
    there with ``--overwrite_output_dir`` (`parse_args` refuses them otherwise); a trained model
    is replaced with a warning, not an error, so that the same command can simply be run again.
    Files the script does not write stay. Both tasks call it once their corpus is read and
    accepted, before they write anything: a run refused for its corpus deletes nothing.
    A resumed run keeps everything."""
    if not starts_fresh(args):
        return
    if accelerator.is_main_process:
        if os.path.isfile(os.path.join(args.output_dir, "model.safetensors")):
            logger.warning(
                "--output_dir %s already holds a trained model (model.safetensors) and this run "
                "starts from scratch: the model will be replaced; pass another --output_dir to "
                "keep it",
                args.output_dir,
            )
        removed = clear_run_outputs(args.output_dir)
        if removed:
            logger.info("Deleted the earlier run's %s from %s", ", ".join(removed), args.output_dir)
    accelerator.wait_for_everyone()


def append_jsonl(path: str, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line (NaN and infinities as null, see `write_json`)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(json_safe(record), sort_keys=True, allow_nan=False) + "\n")


def write_json(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, strict: a NaN or infinite float (a diverged loss) is
    written as null, not as the bare ``NaN`` that JSON parsers other than Python's refuse.

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "results.json")
    >>> write_json(path, {"loss": float("nan"), "steps": [1, float("inf")]})
    >>> open(path).read().split()
    ['{', '"loss":', 'null,', '"steps":', '[', '1,', 'null', ']', '}']
    """
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(json_safe(data), handle, indent=2, sort_keys=True, allow_nan=False)
        handle.write("\n")


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float, at any depth of dicts and lists, as None.

    >>> json_safe({"a": [float("nan"), 1.5], "b": float("-inf")})
    {'a': [None, 1.5], 'b': None}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def check_hub_reachable(token: str | None = None, timeout: float = 5.0) -> None:
    """Raise `RuntimeError` at once when the Hub cannot be used: offline mode, no TCP connection
    to the endpoint within ``timeout`` seconds, no token, or a token the Hub refuses (asked with
    ``whoami``), instead of failing at upload time, after the training."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

    if constants.HF_HUB_OFFLINE:
        raise RuntimeError("--push_to_hub: HF_HUB_OFFLINE is set, so nothing can be uploaded")
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError as err:
        raise RuntimeError(
            f"--push_to_hub: cannot reach {constants.ENDPOINT} ({err}); check the network or "
            "drop --push_to_hub and upload the output folder later"
        ) from err
    try:
        HfApi(endpoint=constants.ENDPOINT, token=token).whoami()
    except LocalTokenNotFoundError as err:
        raise RuntimeError(
            "--push_to_hub: no Hub token; log in with `hf auth login` or give --hub_token"
        ) from err
    except HfHubHTTPError as err:
        status = getattr(err.response, "status_code", None)
        reason = "refused the token" if status in (401, 403) else f"answered {status}"
        raise RuntimeError(
            f"--push_to_hub: {constants.ENDPOINT} {reason} (whoami); log in again with `hf auth "
            "login` or give a valid --hub_token"
        ) from err


def push_to_hub(
    output_dir: str, repo_id: str, token: str | None = None, commit_message: str = "Upload model"
) -> str:
    """Create ``repo_id`` if needed and upload ``output_dir`` (checkpoints, trackers' logs and the
    tunes of the tune-title retrieval evaluation, ``retrieval_eval/``, excluded); returns the
    commit URL. Fails fast with `RuntimeError` when offline (`check_hub_reachable`)."""
    from huggingface_hub import HfApi

    check_hub_reachable(token)
    api = HfApi(token=token)
    api.create_repo(repo_id, exist_ok=True)
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=output_dir,
        commit_message=commit_message,
        ignore_patterns=list(UPLOAD_IGNORE_PATTERNS),
    )
    return str(info)


#: What an upload of an output folder leaves out: checkpoints, half-written files, trackers'
#: logs, and the tunes the retrieval evaluation scored (data, not the model; known_queries.abc
#: stays: it names the holdout).
UPLOAD_IGNORE_PATTERNS = (
    "step_*",
    "epoch_*",
    ".tmp-*",
    ".old-*",
    "runs/*",
    *(f"{project}/*" for project in TRACKER_PROJECTS),  # they record every flag
    "*.pkl",
    "retrieval_eval/*",
)


def push_run(args: argparse.Namespace, accelerator: Accelerator) -> None:
    """With ``--push_to_hub``, upload the saved output folder (`push_to_hub`, main process
    only) and print where. A failure, once the run is over and saved, is an `UploadError` that
    says so in one line, with the command that uploads the folder later, instead of the Hub
    client's traceback."""
    if not (args.push_to_hub and accelerator.is_main_process):
        return
    try:
        url = push_to_hub(args.output_dir, args.hub_model_id, args.hub_token)
    except _upload_errors() as err:
        raise UploadError(
            f"--push_to_hub: the upload to {args.hub_model_id} failed "
            f"({type(err).__name__}: {_first_line(err)}); the model is saved in "
            f"{args.output_dir}: upload it later with "
            f"`{upload_command(args.hub_model_id, args.output_dir)}`"
        ) from err
    accelerator.print(f"Pushed to {url}")


def upload_command(repo_id: str, output_dir: str) -> str:
    """The ``hf upload`` command that uploads ``output_dir`` as `push_to_hub` does.

    >>> upload_command("user/m", "runs/m").split(" --exclude ")[:3]
    ['hf upload user/m runs/m', "'step_*'", "'epoch_*'"]
    """
    excludes = "".join(f" --exclude {shlex.quote(p)}" for p in UPLOAD_IGNORE_PATTERNS)
    return f"hf upload {shlex.quote(repo_id)} {shlex.quote(output_dir)}{excludes}"


def _upload_errors() -> tuple[type[BaseException], ...]:
    """What an upload ends in when it fails: the Hub's answers (`HfHubHTTPError`), the
    network's (the base class of that error's HTTP client, whose connection errors are no
    `OSError`; and `OSError`), and `check_hub_reachable`'s `RuntimeError`."""
    from huggingface_hub.errors import HfHubHTTPError

    return (HfHubHTTPError, *HfHubHTTPError.__bases__, OSError, RuntimeError)


def _first_line(err: BaseException) -> str:
    """The first line of an error's message (the Hub's errors run to several).

    >>> _first_line(OSError("500 Server Error\\nRequest ID: x"))
    '500 Server Error'
    """
    text = str(err).strip()
    return text.splitlines()[0] if text else "no message"


# ----- resuming and the learning rate (both tasks) ---------------------------------------------
def minutes_left(max_minutes: float | None, seconds_before: float) -> float | None:
    """What is left of a ``--max_train_minutes`` budget after the ``seconds_before`` that the
    runs a resumed run goes on from trained (the budget is the whole run's).

    >>> minutes_left(30, 600.0), minutes_left(None, 600.0)
    (20.0, None)
    """
    return None if max_minutes is None else max(max_minutes - seconds_before / 60, 0.0)


def nothing_left(args: argparse.Namespace, completed: int, seconds_before: float) -> bool:
    """Whether a run resumed after ``completed`` updates and ``seconds_before`` seconds of
    training has no update left to make: ``--max_train_steps`` reached, or the whole
    ``--max_train_minutes`` already spent (logged, as when the clock stops a run).

    >>> ns = argparse.Namespace(max_train_steps=100, max_train_minutes=1.0)
    >>> nothing_left(ns, 10, 30.0), nothing_left(ns, 100, 0.0)
    (False, True)
    """
    if completed >= args.max_train_steps:
        return True
    spent = minutes_left(getattr(args, "max_train_minutes", None), seconds_before) == 0
    if spent:
        log_time_budget(args, completed)
    return spent


def resume_state(
    args: argparse.Namespace, accelerator: Accelerator, saved: dict | None = None
) -> int:
    """Load the ``--resume_from_checkpoint`` state; returns the number of updates it had done
    (and fills ``saved`` with the checkpoint's ``training_state.json``)."""
    path = args.resume_from_checkpoint
    if path is None:
        return 0
    if path == "latest":
        path = latest_checkpoint(args.output_dir)
        if path is None:  # parse_args checks it; a checkpoint removed since then
            raise UsageError(no_checkpoint_error(args.output_dir))
    if not os.path.isdir(path):  # parse_args checks it; a folder removed since then
        raise UsageError(f"--resume_from_checkpoint {path}: no such folder")
    state = read_training_state(path)
    check_same_processes(path, state, accelerator.num_processes)
    accelerator.print(f"Resuming from checkpoint {path}")
    try:
        accelerator.load_state(path)
    except RuntimeError as err:  # an older checkpoint (no data fingerprint) on another vocab
        lines = str(err).splitlines()
        mismatch = next((line.strip(" .\t") for line in lines if "size mismatch" in line), None)
        if mismatch is None:
            raise
        raise UsageError(
            f"--resume_from_checkpoint {path} does not fit this run's model ({mismatch}): the "
            "corpus gives another vocabulary than the one the run trained on; restore that "
            "corpus, or start a new run (without --resume_from_checkpoint)"
        ) from err
    if saved is not None:
        saved.update(state)
    completed = int(state["completed_steps"])
    if accelerator.is_main_process:
        _trim_log(os.path.join(args.output_dir, "train_log.jsonl"), completed)
    if completed >= args.max_train_steps:
        flag = getattr(args, "budget_flag", "max_train_steps")
        budget = f"--max_train_steps is {args.max_train_steps}"
        if flag == "num_train_epochs":  # it capped a larger --max_train_steps, or stood alone
            budget = f"--num_train_epochs {args.num_train_epochs} ends the run there"
        logger.warning(
            f"{path} has done {completed} updates and {budget}: nothing is left to train (give "
            f"a larger --{flag} to go on)"
        )
    return completed


def resumed_checkpoint(args: argparse.Namespace) -> str | None:
    """The checkpoint folder ``--resume_from_checkpoint`` names (``latest``: the newest of
    ``--output_dir``), or None when the run does not resume or there is none."""
    path = args.resume_from_checkpoint
    return latest_checkpoint(args.output_dir) if path == "latest" else path


def check_resume_data(args: argparse.Namespace, fingerprint: dict[str, Any]) -> None:
    """A checkpoint resumes only on the data it trained on: the same tunes in each split and
    the same vocabulary (``fingerprint``: `training.data.data_fingerprint` of this run's data).
    Otherwise the resume position would count batches of another training split, validation
    could score tunes the run trained on, and another vocabulary would not load (mismatched
    shapes). The flags that shape the data are checked as they are read (`RUN_FLAGS`); this
    catches a corpus whose content changed. Checkpoints that record no fingerprint (older
    ones) are resumed with a warning."""
    path = resumed_checkpoint(args)
    if path is None or not os.path.isfile(os.path.join(path, TRAINING_STATE_FILE)):
        return  # not resuming; or `resume_state` says why it cannot
    saved = read_training_state(path).get("data")
    if saved is None:
        logger.warning(
            "%s records no fingerprint of the data it trained on (it was saved before checkpoints "
            "recorded one): whether --corpus still gives the same splits and vocabulary is not "
            "checked",
            path,
        )
        return
    changes = data_changes(saved, fingerprint)
    if changes:
        raise UsageError(
            f"--resume_from_checkpoint {path} trained on other data than this run reads: "
            f"{'; '.join(changes)}. Restore the corpus (--corpus {_shown_corpus(args.corpus)}) "
            "as that run read it, or start a new run: drop --resume_from_checkpoint and give "
            "--overwrite_output_dir (which deletes this run) or another --output_dir"
        )


def data_changes(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between two `training.data.data_fingerprint` records, as phrases.

    >>> old = {"splits": {"train": {"tunes": 9, "sha256": "a"}, "test": {"tunes": 1}}}
    >>> new = {"splits": {"train": {"tunes": 9, "sha256": "b"}, "test": {"tunes": 2}}}
    >>> old["vocabulary"], new["vocabulary"] = {"values": 140, "sha256": "v"}, {"values": 147}
    >>> data_changes(old, new)  # doctest: +NORMALIZE_WHITESPACE
    ['its train split held other tunes (9, as now)', 'its test split had 1 tune (now 2)',
     'its vocabulary had 140 values (now 147)']
    """
    changes = []
    for name, is_ in now["splits"].items():  # train, validation, test
        was = saved["splits"].get(name, {"tunes": 0})
        if was["tunes"] != is_["tunes"]:
            tunes = f"{was['tunes']} tune{'s' * (was['tunes'] != 1)}"
            changes.append(f"its {name} split had {tunes} (now {is_['tunes']})")
        elif was != is_:
            changes.append(f"its {name} split held other tunes ({was['tunes']}, as now)")
    was, is_ = saved["vocabulary"], now["vocabulary"]
    if was != is_:
        sizes = f" (now {is_['values']})" if was["values"] != is_["values"] else ", as now"
        changes.append(f"its vocabulary had {was['values']} values{sizes}")
    return changes


def _shown_corpus(corpus: str | Sequence[str] | None) -> str:
    """``--corpus`` as typed on a command line.

    >>> _shown_corpus(None), _shown_corpus("a.abc"), _shown_corpus(["a.abc", "oneills1850"])
    ('music21', 'a.abc', 'a.abc oneills1850')
    """
    if corpus is None:
        return "music21"
    return corpus if isinstance(corpus, str) else " ".join(corpus)


def check_same_processes(path: str, state: dict[str, Any], num_processes: int) -> None:
    """A checkpoint resumes only with the number of processes that saved it: the updates it
    counts are rounds of that many batches (with another number the run would train again on
    batches it had seen, or skip others) and each process's random state is its own.
    Checkpoints that do not record it (older ones) are not checked."""
    saved = state.get("num_processes")
    if saved is not None and saved != num_processes:
        launch = f"--multi_gpu --num_processes {saved} " if saved > 1 else ""
        raise UsageError(
            f"--resume_from_checkpoint {path} was saved by a run of {saved} process(es), and "
            f"this run has {num_processes}: resume it with {saved} (`accelerate launch "
            f"{launch}training/train.py ...` on CPU)"
        )


def _trim_log(path: str, completed: int) -> None:
    """Drop the learning-curve records after the checkpoint (a killed run logged steps it then
    lost), so that the resumed run does not log them twice."""
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    kept = [line for line in lines if json.loads(line).get("step", 0) <= completed]
    if len(kept) < len(lines):
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.writelines(kept)
        os.replace(path + ".tmp", path)


def log_time_budget(args: argparse.Namespace, completed: int) -> None:
    """Say that ``--max_train_minutes`` ended the run, and where."""
    logger.info(
        "--max_train_minutes %g spent: training stops after %d of %d updates",
        args.max_train_minutes, completed, args.max_train_steps,
    )  # fmt: skip


def stopped_by(args: argparse.Namespace, completed: int) -> str:
    """Why a run ended, for all_results.json: ``"max_train_minutes"`` when the time budget ran
    out before ``max_train_steps`` (which already counts ``--num_train_epochs``), else
    ``"max_train_steps"``.

    >>> stopped_by(argparse.Namespace(max_train_steps=100, max_train_minutes=30), 62)
    'max_train_minutes'
    """
    if getattr(args, "max_train_minutes", None) is not None and completed < args.max_train_steps:
        return "max_train_minutes"
    return "max_train_steps"


def lr_for(args: argparse.Namespace, step: int) -> float:
    """`learning_rate_at` with this run's flags."""
    return learning_rate_at(
        step,
        base_lr=args.learning_rate,
        scheduler_type=args.lr_scheduler_type,
        warmup_steps=args.num_warmup_steps,
        step_size=args.lr_step_size,
        gamma=args.lr_gamma,
        total_steps=args.max_train_steps,
    )
