"""Training helpers shared by the tasks: lr schedule, batching, evaluation, checkpoints, cards."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
from torch.utils.data import Dataset

from modeling_irish.lm_evaluation import per_tune_nll, summarise_nll
from tokenization.features import FEATURE_NAMES
from tokenization.keys import Key
from tokenization.vocabulary import AbcVocab

__all__ = [
    "KeyAugmenter",
    "append_jsonl",
    "LengthGroupedBatchSampler",
    "TuneRowsDataset",
    "check_hub_reachable",
    "evaluate_lm",
    "latest_checkpoint",
    "learning_rate_at",
    "parse_config_overrides",
    "per_tune_nll",
    "push_to_hub",
    "read_training_state",
    "save_checkpoint",
    "save_model",
    "save_model",
    "set_learning_rate",
    "summarise_nll",
    "write_json",
]


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
    """``"a=1,b=0.5,c=true,d=gru"`` -> ``{"a": 1, "b": 0.5, "c": True, "d": "gru"}``.

    >>> parse_config_overrides("note_hidden_size=128, measure_num_heads=4")
    {'note_hidden_size': 128, 'measure_num_heads': 4}
    """
    out: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"config override {item!r} is not of the form name=value")
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


# ----- batching ----------------------------------------------------------------------------------
class LengthGroupedBatchSampler:
    """Batches of tunes of similar length, in an order that depends only on ``(seed, epoch)``.

    With ``shuffle`` the indices are permuted, cut into mega-batches of ``mega_batch_mult *
    batch_size``, each mega-batch is sorted by length (longest first) and cut into batches, and
    the batch order is permuted again; so padding stays small while every epoch differs. Without
    ``shuffle`` all tunes are sorted by length (evaluation). Like `torch.utils.data.BatchSampler`,
    every batch is full except the last, which is what accelerate's sharding expects.

    >>> sampler = LengthGroupedBatchSampler([5, 1, 4, 2, 3], batch_size=2, shuffle=False)
    >>> list(sampler)
    [[0, 2], [4, 3], [1]]
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        mega_batch_mult: int = 50,
    ) -> None:
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.mega_batch_mult = mega_batch_mult
        self.drop_last = False
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order `__iter__` yields."""
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def _batches(self) -> list[np.ndarray]:
        size = self.batch_size
        if not self.shuffle:
            order = np.argsort(-self.lengths, kind="stable")
            return [order[i : i + size] for i in range(0, len(order), size)]
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.lengths))
        mega = size * self.mega_batch_mult
        order = np.concatenate(
            [
                chunk[np.argsort(-self.lengths[chunk], kind="stable")]
                for chunk in np.split(order, range(mega, len(order), mega))
            ]
        )
        batches = [order[i : i + size] for i in range(0, len(order), size)]
        full = [b for b in batches if len(b) == size]
        last = [b for b in batches if len(b) < size]  # at most one, kept at the end
        return [full[i] for i in rng.permutation(len(full))] + last

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._batches():
            yield batch.tolist()


class TuneRowsDataset(Dataset):
    """Map-style view of a tokenized split: ``{"input_ids": (n, 20), "measure_numbers": (n,)}``.

    With an `augmenter` every tune is transposed by a shift drawn from ``(seed, epoch, index)``,
    so the augmentation of a resumed run equals that of an uninterrupted one.
    """

    def __init__(self, data: Any, augmenter: KeyAugmenter | None = None, seed: int = 0) -> None:
        self.data = data.with_format("numpy", columns=["input_ids", "measure_numbers"])
        self.augmenter = augmenter
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose transpositions `__getitem__` applies."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        item = self.data[int(index)]
        ids = np.asarray(item["input_ids"], dtype=np.int64).reshape(-1, len(FEATURE_NAMES))
        if self.augmenter is not None:
            rng = np.random.default_rng([self.seed, self.epoch, int(index)])
            ids = self.augmenter(ids, rng)
        return {"input_ids": ids, "measure_numbers": np.asarray(item["measure_numbers"])}


# ----- key augmentation --------------------------------------------------------------------------
# One spelling per pitch class, the same as the vocabulary's fixed `root` values.
_TONIC_SPELLING = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


class KeyAugmenter:
    """Transpose encoded tunes by whole semitones on the id level (reference-measurenote.md 5.4).

    Notes move by the shift (``main``, ``pitch_class`` and ``octave`` columns); the header's
    ``key``, ``root`` and ``key_sig`` are rewritten to the transposed key (same mode; ``key_sig``
    is the signature of the spelling in ``_TONIC_SPELLING``, wrapped by 12 fifths into -7..7).
    A shift that would leave the pitch, octave or key vocabulary is re-drawn; after
    ``max_draws`` failures the tune is left unchanged.

    Args:
        vocab: the tokenizer's `AbcVocab`.
        shifts: semitone shifts to draw from, uniformly (default -5..+6, twelve keys).
    """

    def __init__(
        self, vocab: AbcVocab, shifts: Sequence[int] = tuple(range(-5, 7)), max_draws: int = 8
    ) -> None:
        names = list(vocab.values)
        self.cols = {name: names.index(name) for name in ("main", "pitch_class", "octave")}
        self.cols.update({name: names.index(name) for name in ("key", "root", "key_sig")})
        self.shifts = np.asarray(shifts, dtype=np.int64)
        self.max_draws = max_draws
        main = vocab.values["main"]
        # midi pitch of every main id (-1: not a note), and main id of every midi pitch (-1: none)
        self.main_pitch = np.array([_pitch_of(v) for v in main], dtype=np.int64)
        self.pitch_main = np.full(256, -1, dtype=np.int64)
        notes = self.main_pitch >= 0
        self.pitch_main[self.main_pitch[notes]] = np.flatnonzero(notes)
        self.pc_id = np.array([vocab.index["pitch_class"].get(str(i), -1) for i in range(12)])
        self.octave_id = np.array([vocab.index["octave"].get(str(i), -1) for i in range(22)])
        self.key_tables = {int(s): self._key_tables(vocab, int(s)) for s in self.shifts}

    @staticmethod
    def _key_tables(vocab: AbcVocab, shift: int) -> np.ndarray:
        """``(3, key_vocab)`` new key, root and key_sig ids per key id (-1: not representable)."""
        keys = vocab.values["key"]
        table = np.full((3, len(keys)), -1, dtype=np.int64)
        for key_id, value in enumerate(keys):
            tonic, _, mode = value.partition(" ")
            try:
                old = Key(tonic, mode)
            except ValueError:  # specials and <unk>: not transposable
                continue
            new = Key(_TONIC_SPELLING[(old.tonic_pc + shift) % 12], mode)
            sig = new.signature
            sig = sig - 12 if sig > 7 else sig + 12 if sig < -7 else sig
            table[0, key_id] = vocab.index["key"].get(new.name, -1)
            table[1, key_id] = vocab.index["root"].get(new.tonic, -1)
            table[2, key_id] = vocab.index["key_sig"].get(str(sig), -1)
        return table

    def transpose(self, ids: np.ndarray, shift: int) -> np.ndarray | None:
        """``ids`` ``(n, 20)`` moved by ``shift`` semitones, or None if that leaves the vocab."""
        c = self.cols
        out = ids.copy()
        if shift == 0:
            return out
        pitch = self.main_pitch[ids[:, c["main"]]]
        notes = pitch >= 0
        moved = pitch[notes] + shift
        if moved.size and (moved.min() < 0 or moved.max() >= len(self.pitch_main)):
            return None
        new_main = self.pitch_main[moved]
        new_octave = self.octave_id[np.minimum(moved // 12, len(self.octave_id) - 1)]
        header = self.key_tables[shift][:, ids[:, c["key"]]]  # (3, n)
        if (new_main < 0).any() or (new_octave < 0).any() or (header < 0).any():
            return None
        out[notes, c["main"]] = new_main
        out[notes, c["pitch_class"]] = self.pc_id[moved % 12]
        out[notes, c["octave"]] = new_octave
        out[:, c["key"]], out[:, c["root"]], out[:, c["key_sig"]] = header
        return out

    def __call__(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Transpose by a random shift (re-drawn while it leaves the vocabulary)."""
        for _ in range(self.max_draws):
            out = self.transpose(ids, int(rng.choice(self.shifts)))
            if out is not None:
                return out
        return ids


def _pitch_of(value: str) -> int:
    return int(value[5:]) if value.startswith("pitch") and value[5:].isdigit() else -1


# ----- after accelerator.prepare ---------------------------------------------------------------
def recompute_steps_and_start_tracking(
    args: Any, accelerator: Any, train_dl: Any, project: str
) -> None:
    """The dataloader length changes once sharded across processes: recompute
    ``max_train_steps`` / ``num_train_epochs`` from it, then start the trackers (with the run's
    scalar flags as the tracked config) when ``--with_tracking``."""
    steps_per_epoch = math.ceil(len(train_dl) / args.gradient_accumulation_steps)
    if args.num_train_epochs:  # alone, the budget; with --max_train_steps, a cap on it
        by_epochs = args.num_train_epochs * steps_per_epoch
        args.max_train_steps = min(args.max_train_steps or by_epochs, by_epochs)
    args.num_train_epochs = math.ceil(args.max_train_steps / steps_per_epoch)
    if args.with_tracking:
        config = {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool))}
        accelerator.init_trackers(project, config)


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
        out = model(**{k: v for k, v in batch.items() if k != "labels"})
        sums = per_tune_nll(out.logits, out.dur_logits, batch["labels"], ignored_dur_ids)
        rows.append(accelerator.gather_for_metrics(sums))
    model.train(was_training)
    return summarise_nll(torch.cat(rows) if rows else torch.zeros(1, 6, dtype=torch.float64))


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
            os.replace(os.path.join(staging, name), os.path.join(output_dir, name))
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()


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


# ----- artefacts ---------------------------------------------------------------------------------
def append_jsonl(path: str, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def write_json(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")


def check_hub_reachable(timeout: float = 5.0) -> None:
    """Raise `RuntimeError` at once when the Hub cannot be used (offline mode, or no TCP
    connection to the endpoint within ``timeout`` seconds), instead of hanging at upload time."""
    from huggingface_hub import constants

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


def push_to_hub(
    output_dir: str, repo_id: str, token: str | None = None, commit_message: str = "Upload model"
) -> str:
    """Create ``repo_id`` if needed and upload ``output_dir`` (checkpoints excluded); returns the
    commit URL. Fails fast with `RuntimeError` when offline (`check_hub_reachable`)."""
    from huggingface_hub import HfApi

    check_hub_reachable()
    api = HfApi(token=token)
    api.create_repo(repo_id, exist_ok=True)
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=output_dir,
        commit_message=commit_message,
        ignore_patterns=["step_*", "epoch_*", ".tmp-*", ".old-*", "runs/*", "*.pkl"],
    )
    return str(info)
