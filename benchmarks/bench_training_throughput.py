"""Training throughput of MeasureNote: padded + vectorised pooling versus packed + Python loops.

Both implementations share the same modules and see identical synthetic batches (batch 32,
lengths drawn around the corpus's median of ~130 rows, p95 ~250; measure groups of 6-9 rows).
A training step is forward + backward + Adam step. The padded side is the model's training
forward (on the CPU its note GRU from per-feature lookup tables, every GRU layer with a
hand-written backward through time); the packed side keeps the
reference's `nn.GRU` on a `PackedSequence`. Run::

    python benchmarks/bench_training_throughput.py            # the full table (a few minutes)
    python benchmarks/bench_training_throughput.py --presets small --steps 2
    python benchmarks/bench_training_throughput.py --presets small --bucketed --autocast bf16
    python benchmarks/bench_training_throughput.py --presets small --bucketed --malloc_tuning
    python benchmarks/bench_training_throughput.py --presets small --bucketed --processes 2

``--autocast bf16`` runs the forward passes of both implementations under CPU autocast to
bfloat16 (what training's ``--mixed_precision bf16`` does): the same numerics for both sides.
``--malloc_tuning`` raises glibc's mmap and trim thresholds first (`training.allocator`,
what ``training/train.py`` does on the CPU unless ``--no_malloc_tuning``): process-wide, so
both implementations run with it.
``--processes 2`` runs both implementations as two-process data parallel instead, the way
training uses two CPU cores (`docs/measurenote.md`): `torch.distributed` gloo on localhost,
``--threads`` intra-op threads per process (default 1), each model wrapped in
`DistributedDataParallel`, each rank taking its half of every batch (the tunes split so that both
ranks get as many rows as can be; the same split for both implementations). A step is forward +
backward (with DDP's gradient allreduce) + Adam step; its time is the slower rank's, tokens/s
counts the real rows of the whole batch, tokens per CPU-second sums the ranks' CPU time.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import resource
import socket
import time
from collections.abc import Callable

import _paths  # noqa: F401  (the repository on sys.path)
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from modeling_irish.cli import non_negative_int, positive_int
from modeling_irish.configuration_measurenote import (
    MEASURENOTE_PRESETS,
    REFERENCE_VOCAB_SIZES,
    MeasureNoteConfig,
)
from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
from training.allocator import keep_freed_memory


def synthetic_batch(batch: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A right-padded batch like the collator's: lengths log-normal (median 130, p95 ~250)."""
    sigma = math.log(250 / 130) / 1.645
    lengths = torch.exp(math.log(130) + sigma * torch.randn(batch, generator=generator))
    lengths = lengths.round().long().clamp(20, 1400)
    seq = int(lengths.max())
    columns = [
        torch.randint(0, size, (batch, seq, 1), generator=generator)
        for size in REFERENCE_VOCAB_SIZES.values()
    ]
    input_ids = torch.cat(columns, dim=-1)
    numbers = torch.zeros(batch, seq, dtype=torch.long)
    mask = torch.zeros(batch, seq, dtype=torch.long)
    for b, n in enumerate(lengths.tolist()):
        group_sizes = torch.randint(6, 10, (n,), generator=generator)
        starts = group_sizes.cumsum(0)
        starts = starts[starts < n - 1]
        rows = torch.zeros(seq, dtype=torch.long)
        rows[starts] = 1
        rows[n - 1] = 1  # the last row (target <end>) is a group of its own, as in the corpus
        numbers[b] = rows.cumsum(0)
        numbers[b, n:] = numbers[b, n - 1]
        mask[b, :n] = 1
    main = torch.randint(3, REFERENCE_VOCAB_SIZES["main"], (batch, seq), generator=generator)
    dur = torch.randint(3, REFERENCE_VOCAB_SIZES["dur"], (batch, seq), generator=generator)
    dur = dur.masked_fill(torch.rand(batch, seq, generator=generator) < 0.3, -100)
    labels = torch.stack([main, dur], dim=-1).masked_fill(~mask.bool().unsqueeze(-1), -100)
    input_ids = input_ids.masked_fill(~mask.bool().unsqueeze(-1), 0)
    return {
        "input_ids": input_ids,
        "measure_numbers": numbers,
        "attention_mask": mask,
        "labels": labels,
    }


def packed_loss(model: MeasureNoteForCausalLM, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The reference's way: PackedSequence through the GRUs, pooling with loops over tunes and
    measures, then the same loss (mean cross-entropy of main + of dur)."""
    core = model.measurenote
    lengths = batch["attention_mask"].sum(1).cpu()

    def pack(x: torch.Tensor) -> PackedSequence:
        return pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)

    ids = pack(batch["input_ids"])
    embedded = core.embeddings(ids.data)
    note_out, _ = core.note_rnn(PackedSequence(embedded, *ids[1:]))
    hidden, _ = pad_packed_sequence(note_out, batch_first=True)  # (batch, seq, note_hidden)
    context = _loop_pooling_context(core.measure, hidden, batch["measure_numbers"], lengths)
    final_in = pack(torch.cat([hidden, context], dim=-1))
    final_out, _ = core.final_rnn(final_in)
    out, _ = pad_packed_sequence(final_out, batch_first=True)
    logits, dur_logits = model.main_head(out), model.dur_head(out)
    labels = batch["labels"][:, : out.shape[1]]
    main_t, dur_t = labels[:, 1:, 0].flatten(), labels[:, 1:, 1].flatten()
    loss_main = F.cross_entropy(logits[:, :-1].flatten(0, 1), main_t)
    loss_dur = F.cross_entropy(dur_logits[:, :-1].flatten(0, 1), dur_t)
    return loss_main + model.config.dur_loss_weight * loss_dur


def _loop_pooling_context(module, hidden, numbers, lengths) -> torch.Tensor:
    """Per-tune, per-measure softmax pooling (Python loops), padded measure GRU, shifted spread."""
    scores = module.scores(hidden)  # (batch, seq, heads)
    heads, size = module.num_heads, module.head_size
    nodes_per_tune = []
    for b, n in enumerate(lengths.tolist()):
        numbers_b = numbers[b, :n]
        bounds = [0, *((numbers_b[1:] != numbers_b[:-1]).nonzero().squeeze(1) + 1).tolist(), n]
        nodes = []
        for start, end in zip(bounds[:-1], bounds[1:]):
            weights = torch.softmax(scores[b, start:end], dim=0)  # (rows, heads)
            values = hidden[b, start:end].view(-1, heads, size)
            nodes.append((weights.unsqueeze(-1) * values).sum(0).flatten())
        nodes_per_tune.append(torch.stack(nodes))
    nodes = torch.nn.utils.rnn.pad_sequence(nodes_per_tune, batch_first=True)
    measure_out, _ = module.rnn(nodes)  # (batch, n_measures, measure_hidden)
    # Row of measure m reads output m - 1 (zeros for m = 0): selection matrix, then bmm.
    select = torch.zeros(hidden.shape[0], hidden.shape[1], measure_out.shape[1])
    for b, n in enumerate(lengths.tolist()):
        previous = numbers[b, :n] - 1
        rows = (previous >= 0).nonzero().squeeze(1)
        select[b, rows, previous[rows]] = 1.0
    return torch.bmm(select, measure_out)


def padded_loss(model: MeasureNoteForCausalLM, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The model's own loss without a state, as training computes it (on the CPU the note GRU
    runs from per-feature lookup tables, `note_gru_from_ids`), in eval mode too: there
    `use_cache` defaults on and would check the loss of the `nn.GRU` path instead."""
    return model(**batch, use_cache=False).loss


def train_step(
    loss_of: Callable[[dict[str, torch.Tensor]], torch.Tensor],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    bf16: bool,
) -> None:
    """Forward (under CPU autocast to bfloat16 with `bf16`), backward, clipping, Adam step."""
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = loss_of(batch)
    loss.float().backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def time_training(
    model, loss_fn, batches, warmup: int, bf16: bool = False
) -> tuple[float, float, float]:
    """Wall seconds per step, rows (tokens) per wall second and per CPU second (process time,
    all threads) over `batches[warmup:]` (`bf16`: forward under CPU autocast to bfloat16)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    model.train()
    tokens = elapsed = cpu = 0.0
    for i, batch in enumerate(batches):
        start, start_cpu = time.perf_counter(), time.process_time()
        train_step(lambda b: loss_fn(model, b), model, optimizer, batch, bf16)
        if i >= warmup:
            elapsed += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
            tokens += float(batch["attention_mask"].sum())
    return elapsed / (len(batches) - warmup), tokens / elapsed, tokens / cpu


def batch_sets(
    batch_size: int, warmup: int, steps: int, bucket: bool, seed: int = 0
) -> dict[str, list[dict[str, torch.Tensor]]]:
    """The batches of each row, ``warmup`` untimed ones then ``steps`` timed ones: ``"random"``
    as drawn and, with ``bucket``, ``"length-bucketed"``, the same timed tunes regrouped by
    length. The warm-up batches are drawn apart and never regrouped, so that both rows time the
    same tunes (regrouping them with the rest sent the shortest tunes to the untimed first batch,
    and the bucketed row timed longer tunes than the random one)."""
    generator = torch.Generator().manual_seed(seed)
    warm = [synthetic_batch(batch_size, generator) for _ in range(warmup)]
    timed = [synthetic_batch(batch_size, generator) for _ in range(steps)]
    kinds = {"random": warm + timed}
    if bucket:
        kinds["length-bucketed"] = warm + bucketed(timed)
    return kinds


def bucketed(batches: list[dict[str, torch.Tensor]]) -> list[dict[str, torch.Tensor]]:
    """The same tunes regrouped by length (what a length-bucketing sampler gives)."""
    tunes = []
    for batch in batches:
        for b, n in enumerate(batch["attention_mask"].sum(1).tolist()):
            tunes.append({key: value[b, :n] for key, value in batch.items()})
    tunes.sort(key=lambda tune: len(tune["measure_numbers"]))
    size = batches[0]["input_ids"].shape[0]
    regrouped = []
    for start in range(0, len(tunes), size):
        group = tunes[start : start + size]
        regrouped.append({key: _pad([t[key] for t in group], key) for key in group[0]})
    return regrouped


def _pad(values: list[torch.Tensor], key: str) -> torch.Tensor:
    fill = {"labels": -100, "input_ids": 0, "attention_mask": 0}.get(key)
    if fill is None:  # measure numbers repeat their last value
        width = max(len(v) for v in values)
        return torch.stack([torch.cat([v, v[-1:].expand(width - len(v))]) for v in values])
    return torch.nn.utils.rnn.pad_sequence(values, batch_first=True, padding_value=fill)


def peak_rss_gb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process (or, ``RUSAGE_CHILDREN``, of its largest ended
    child) in GB."""
    return resource.getrusage(who).ru_maxrss / 1024**2  # Linux: KiB


def bench_preset(preset: str, batches: list, warmup: int, kind: str, bf16: bool = False) -> str:
    """One markdown row: both implementations on the same batches."""
    torch.manual_seed(0)
    model = MeasureNoteForCausalLM(MeasureNoteConfig.from_preset(preset))
    reference = copy.deepcopy(model)
    with torch.no_grad():  # same maths: the losses agree in eval mode (no dropout)
        gap = abs(padded_loss(model.eval(), batches[0]) - packed_loss(model, batches[0]))
    padded = time_training(model, padded_loss, batches, warmup, bf16)
    rss = peak_rss_gb()
    packed = time_training(reference, packed_loss, batches, warmup, bf16)
    n_params = sum(p.numel() for p in model.parameters()) / 1e6
    kind += " (bf16 autocast)" if bf16 else ""
    return table_row(preset, kind, n_params, padded, packed, float(gap), rss)


def table_row(
    preset: str,
    kind: str,
    n_params: float,
    padded: tuple[float, float, float],
    packed: tuple[float, float, float],
    gap: float,
    rss: float,
) -> str:
    """The markdown row of one preset and kind of batches (`padded`, `packed`: `time_training`'s
    seconds per step, tokens per second and per CPU-second)."""
    return (
        f"| {preset} | {kind} | {n_params:.2f} M | {padded[1]:,.0f} | {packed[1]:,.0f} "
        f"| {padded[1] / packed[1]:.1f}x | {padded[2]:,.0f} | {packed[2]:,.0f} "
        f"| {padded[0]:.2f} | {packed[0]:.2f} | {gap:.0e} | {rss:.2f} GB |"
    )


def split_tunes(lengths: list[int], parts: int) -> list[list[int]]:
    """The indices of the tunes of each of ``parts`` ranks, in increasing order, so that their
    rows (``lengths``) are as even as can be: longest tune first, each to the rank with the
    fewest rows so far (then the fewest tunes)."""
    if len(lengths) < parts:
        raise ValueError(f"a batch of {len(lengths)} tunes cannot be split over {parts} ranks")
    rows, owned = [0] * parts, [[] for _ in range(parts)]
    for b in sorted(range(len(lengths)), key=lambda b: (-lengths[b], b)):
        rank = min(range(parts), key=lambda r: (rows[r], len(owned[r]), r))
        rows[rank] += lengths[b]
        owned[rank].append(b)
    return [sorted(tunes) for tunes in owned]


def split_batch(batch: dict[str, torch.Tensor], parts: int) -> list[dict[str, torch.Tensor]]:
    """``batch``'s tunes dealt to ``parts`` ranks (`split_tunes`), each part padded to its own
    longest tune."""
    lengths = batch["attention_mask"].sum(1).tolist()
    shards = []
    for tunes in split_tunes(lengths, parts):
        width = max(lengths[b] for b in tunes)
        index = torch.tensor(tunes)
        shards.append({key: value[index, :width] for key, value in batch.items()})
    return shards


class LossOf(torch.nn.Module):
    """A model and a loss function as one module, whose ``forward(batch)`` is the loss, so that
    `DistributedDataParallel` wraps either implementation the same way."""

    def __init__(self, model: MeasureNoteForCausalLM, loss_fn: Callable) -> None:
        super().__init__()
        self.model, self.loss_fn = model, loss_fn

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.loss_fn(self.model, batch)


def time_training_ddp(
    model: MeasureNoteForCausalLM,
    loss_fn: Callable,
    shards: list[dict[str, torch.Tensor]],
    batches: list[dict[str, torch.Tensor]],
    warmup: int,
    bf16: bool,
) -> tuple[float, float, float]:
    """`time_training` on one rank of a process group: this rank trains on ``shards`` (its part
    of each of ``batches``) through `DistributedDataParallel`. A step's time is the slower
    rank's (all start after a barrier); tokens count the whole batch's real rows; CPU seconds
    are summed over the ranks."""
    # Every parameter gets a gradient on both sides (checked when the mode was added), so
    # neither needs find_unused_parameters.
    ddp = DistributedDataParallel(LossOf(model, loss_fn), find_unused_parameters=False)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=3e-4)
    ddp.train()
    tokens = elapsed = cpu = 0.0
    for i, (shard, batch) in enumerate(zip(shards, batches, strict=True)):
        dist.barrier()
        start, start_cpu = time.perf_counter(), time.process_time()
        train_step(ddp, ddp, optimizer, shard, bf16)
        wall = torch.tensor([time.perf_counter() - start], dtype=torch.float64)
        used = torch.tensor([time.process_time() - start_cpu], dtype=torch.float64)
        dist.all_reduce(wall, op=dist.ReduceOp.MAX)
        dist.all_reduce(used, op=dist.ReduceOp.SUM)
        if i >= warmup:
            elapsed += float(wall)
            cpu += float(used)
            tokens += float(batch["attention_mask"].sum())
    return elapsed / (len(batches) - warmup), tokens / elapsed, tokens / cpu


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now (for the process group)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ddp_worker(rank: int, world: int, port: int, job: dict, results: mp.SimpleQueue) -> None:
    """One rank of `bench_preset_ddp` (``job``: its arguments); rank 0 puts the row's figures
    on ``results``."""
    if job["malloc_tuning"]:
        keep_freed_memory()
    torch.set_num_threads(job["threads"])
    init = f"tcp://127.0.0.1:{port}"
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        batches, warmup, bf16 = job["batches"], job["warmup"], job["bf16"]
        shards = [split_batch(batch, world)[rank] for batch in batches]
        torch.manual_seed(0)  # the same model on every rank (DDP broadcasts rank 0's anyway)
        model = MeasureNoteForCausalLM(MeasureNoteConfig.from_preset(job["preset"]))
        reference = copy.deepcopy(model)
        with torch.no_grad():  # same maths on this rank's part of the first batch
            gap = abs(padded_loss(model.eval(), shards[0]) - packed_loss(model, shards[0]))
        gap = gap.double().reshape(1)
        dist.all_reduce(gap, op=dist.ReduceOp.MAX)
        padded = time_training_ddp(model, padded_loss, shards, batches, warmup, bf16)
        rss = torch.tensor([peak_rss_gb()], dtype=torch.float64)
        dist.all_reduce(rss, op=dist.ReduceOp.MAX)
        packed = time_training_ddp(reference, packed_loss, shards, batches, warmup, bf16)
        if rank == 0:
            n_params = sum(p.numel() for p in model.parameters()) / 1e6
            results.put((n_params, padded, packed, float(gap), float(rss)))
    finally:
        dist.destroy_process_group()


def bench_preset_ddp(
    preset: str,
    batches: list[dict[str, torch.Tensor]],
    warmup: int,
    kind: str,
    processes: int,
    threads: int,
    bf16: bool = False,
    malloc_tuning: bool = False,
) -> str:
    """`bench_preset` with both implementations as ``processes``-process data parallel (gloo on
    localhost, ``threads`` intra-op threads each); the peak RSS is the largest rank's."""
    job = dict(
        preset=preset,
        batches=batches,
        warmup=warmup,
        bf16=bf16,
        threads=threads,
        malloc_tuning=malloc_tuning,
    )
    results = mp.get_context("spawn").SimpleQueue()
    mp.spawn(_ddp_worker, args=(processes, free_port(), job, results), nprocs=processes)
    n_params, padded, packed, gap, rss = results.get()
    kind += " (bf16 autocast)" if bf16 else ""
    kind += f", {processes} processes DDP"
    return table_row(preset, kind, n_params, padded, packed, gap, rss)


def run(args: argparse.Namespace) -> None:
    if args.malloc_tuning:
        print(f"malloc tuning (glibc thresholds raised): {keep_freed_memory()}")
    bf16 = args.autocast == "bf16"
    if args.processes == 1:
        torch.set_num_threads(2 if args.threads is None else args.threads)
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}"
        )
    else:
        threads = 1 if args.threads is None else args.threads
        print(
            f"torch {torch.__version__}, {args.processes} processes (DDP, gloo) of {threads} "
            f"thread(s) each, batch {args.batch_size} split between them"
        )
    print(f"load average before: {os.getloadavg()}")
    lines = [
        "| preset | batches | parameters | padded tokens/s | packed+loops tokens/s | speed-up "
        "| padded tokens/CPU-s | packed tokens/CPU-s | padded s/step | packed s/step "
        "| loss gap | peak RSS after padded |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for preset in args.presets:
        steps = args.base_steps if preset == "base" else args.steps
        kinds = batch_sets(args.batch_size, args.warmup, steps, args.bucketed)
        for kind, chosen in kinds.items():
            if args.processes == 1:
                lines.append(bench_preset(preset, chosen, args.warmup, kind, bf16))
            else:
                lines.append(
                    bench_preset_ddp(
                        preset,
                        chosen,
                        args.warmup,
                        kind,
                        args.processes,
                        threads,
                        bf16,
                        args.malloc_tuning,
                    )
                )
            print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))
    peak = max(peak_rss_gb(), peak_rss_gb(resource.RUSAGE_CHILDREN))
    print(f"\npeak RSS of the whole run (largest process): {peak:.2f} GB")
    print(f"load average after: {os.getloadavg()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--presets",
        nargs="+",
        default=["small", "base"],
        choices=sorted(MEASURENOTE_PRESETS),
        help="config presets",
    )
    parser.add_argument(
        "--steps", type=positive_int, default=3, help="timed training steps (small)"
    )
    parser.add_argument("--base_steps", type=positive_int, default=1, help="timed steps for base")
    parser.add_argument("--warmup", type=non_negative_int, default=1, help="untimed steps first")
    parser.add_argument("--batch_size", type=positive_int, default=32, help="tunes per batch")
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="torch.set_num_threads, per process (default: 2 in one process, 1 with --processes 2)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: both implementations as two-process data parallel (DDP, gloo on localhost), "
        "each process training on its half of every batch",
    )
    parser.add_argument("--bucketed", action="store_true", help="also length-bucketed batches")
    parser.add_argument(
        "--autocast", choices=("bf16",), default=None, help="forward passes under bf16 autocast"
    )
    parser.add_argument(
        "--malloc_tuning",
        action="store_true",
        help="first keep freed large blocks in the heap (glibc mmap/trim thresholds, as "
        "training/train.py does on the CPU by default): process-wide, so both implementations "
        "get it",
    )
    args = parser.parse_args(argv)
    if args.batch_size < args.processes:
        parser.error(
            f"--batch_size {args.batch_size} leaves a process without tunes "
            f"(--processes {args.processes})"
        )
    run(args)


if __name__ == "__main__":
    main()
