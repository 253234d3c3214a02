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

``--autocast bf16`` runs the forward passes of both implementations under CPU autocast to
bfloat16 (what training's ``--mixed_precision bf16`` does): the same numerics for both sides.
``--malloc_tuning`` raises glibc's mmap and trim thresholds first (`training.allocator`,
what ``training/train.py`` does on the CPU unless ``--no_malloc_tuning``): process-wide, so
both implementations run with it.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import resource
import time

import _paths  # noqa: F401  (the repository on sys.path)
import torch
import torch.nn.functional as F
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
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model, batch)
        loss.float().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
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


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


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
    return (
        f"| {preset} | {kind} | {n_params:.2f} M | {padded[1]:,.0f} | {packed[1]:,.0f} "
        f"| {padded[1] / packed[1]:.1f}x | {padded[2]:,.0f} | {packed[2]:,.0f} "
        f"| {padded[0]:.2f} | {packed[0]:.2f} | {float(gap):.0e} | {rss:.2f} GB |"
    )


def run(args: argparse.Namespace) -> None:
    if args.malloc_tuning:
        print(f"malloc tuning (glibc thresholds raised): {keep_freed_memory()}")
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}")
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
            lines.append(bench_preset(preset, chosen, args.warmup, kind, args.autocast == "bf16"))
            print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))
    print(f"\npeak RSS of the whole run: {peak_rss_gb():.2f} GB")
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
    parser.add_argument("--threads", type=positive_int, default=2, help="torch.set_num_threads")
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
    run(args)


if __name__ == "__main__":
    main()
