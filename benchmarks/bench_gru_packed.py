"""One `nn.GRU`, forward + backward: a padded batch with a masked loss against a `PackedSequence`.

STYLE.md says a packed GRU's backward is 10-18x slower on CPU; this measures the ratio on this
machine for the GRU alone, without the rest of MeasureNote, so that the whole-model ratio of
`bench_training_throughput.py` can be read against it. Both variants see the same batch
(lengths drawn uniformly from `--min-len`..`--max-len`); they are timed alternately, `--repeats`
rounds of `--steps` steps each, after one warm-up step each.

Usage::

    python benchmarks/bench_gru_packed.py [--threads 1] [--shape small|base] [--repeats 3]
        [--autocast bf16]

``--autocast bf16`` runs both variants, and a float32 padded baseline timed alongside them, under
CPU autocast to bfloat16 (what ``--mixed_precision bf16`` does in training): whether bf16
matrix units change the padded / packed ratio.

Shapes: the note GRU of MeasureNote's preset of that name, read from `MEASURENOTE_PRESETS`
(`small` 656 -> 192, 2 layers; `base`, the reference's, 2,624 -> 512, 3 layers).
"""

from __future__ import annotations

import argparse
import time

import _paths  # noqa: F401  (the repository on sys.path)
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from modeling_irish.cli import positive_int
from modeling_irish.configuration_measurenote import MEASURENOTE_PRESETS, MeasureNoteConfig


def note_gru_shape(preset: str) -> tuple[int, int, int]:
    """(input size, hidden size, layers) of the note GRU of MeasureNote's `preset`: the model's
    own sizes (a constant here said 3 layers for `small`, whose note GRU has 2)."""
    config = MeasureNoteConfig.from_preset(preset)
    return config.total_embedding_size, config.note_hidden_size, config.note_num_layers


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=positive_int, default=1)
    p.add_argument("--shape", choices=sorted(MEASURENOTE_PRESETS), default="small")
    p.add_argument("--batch", type=positive_int, default=32)
    p.add_argument("--min-len", type=positive_int, default=60)
    p.add_argument("--max-len", type=positive_int, default=260)
    p.add_argument("--steps", type=positive_int, default=3, help="steps per timed round")
    p.add_argument("--repeats", type=positive_int, default=3, help="alternating rounds per variant")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--autocast", choices=("bf16",), default=None, help="also time both under bf16 autocast"
    )
    args = p.parse_args(argv)
    if args.min_len > args.max_len:
        p.error(f"--min-len {args.min_len} is greater than --max-len {args.max_len}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    size, hidden, layers = note_gru_shape(args.shape)
    gru = torch.nn.GRU(size, hidden, layers, batch_first=True)
    lengths = torch.randint(args.min_len, args.max_len + 1, (args.batch,))
    x = torch.randn(args.batch, int(lengths.max()), size)
    mask = (torch.arange(x.shape[1])[None] < lengths[:, None]).float()[..., None]

    def padded() -> None:
        out, _ = gru(x)
        (out.float() * mask).sum().backward()

    def packed() -> None:
        seq = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = gru(seq)
        pad_packed_sequence(out, batch_first=True)[0].float().sum().backward()

    def autocast(step):
        def run() -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                step()

        return run

    steps = {"padded": padded, "packed": packed}
    if args.autocast:  # the float32 padded step stays, timed alongside, as the baseline
        steps = {"padded fp32": padded, "padded": autocast(padded), "packed": autocast(packed)}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        step()  # warm-up
    for _ in range(args.repeats):
        for name, step in steps.items():
            begin = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[name].append((time.perf_counter() - begin) / args.steps)
    real = int(lengths.sum())
    print(
        f"shape {args.shape} ({size}->{hidden} x{layers}), batch {args.batch}, lengths "
        f"{args.min_len}-{args.max_len} (padded to {x.shape[1]}; {real} real rows), "
        f"{args.threads} thread(s)"
        + (", padded and packed under bf16 autocast" if args.autocast else "")
    )
    for name, values in times.items():
        print(f"{name}: " + " ".join(f"{v:.3f}" for v in values) + " s/step")
    ratios = [b / a for a, b in zip(times["padded"], times["packed"])]
    print("packed / padded per round: " + " ".join(f"{r:.2f}x" for r in ratios))
    if args.autocast:
        gains = [a / b for a, b in zip(times["padded fp32"], times["padded"])]
        print("padded fp32 / padded bf16 per round: " + " ".join(f"{r:.2f}x" for r in gains))


if __name__ == "__main__":
    main()
