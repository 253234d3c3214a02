"""Generation throughput (complete tunes per second) and validity of constrained samples.

Usage:
    python benchmarks/bench_generation.py [--corpus PATH | --vocab abc_vocab.json]
        [--presets small,base] [--batches 1,64] [--validity-samples 1000] [--threads 2]
        [--model DIR]

Models are randomly initialised presets with a vocabulary built from the corpus (throughput does
not depend on training), unless ``--model`` names a trained folder (then ``--presets``,
``--corpus`` and ``--vocab`` are ignored, with a warning). Prints a markdown table of tunes/s and
rows/s per preset and batch size (reels, constraints on, exactly 16 bars so that a random model's
tunes are as long as real ones, ~15 bars in the corpus), then the validity rate of
``--validity-samples`` constrained samples by our checker and by the three readers: our parser
(same rows), music21 (same pitches and durations), abc2midi (exit 0, no error line; "n/a" when
not installed). The samples take the six tune types of ``RHYTHMS`` in turn, sample by sample
(12 samples: two of each); the line above the rates counts the types used.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections import Counter

from _paths import DEFAULT_CORPUS

DEFAULT_PRESETS = "small,base"
#: Flags of the random presets, which --model ignores.
MODEL_IGNORES = ("presets", "corpus", "vocab")
#: The tune types (and keys) of the validity samples, taken in turn.
RHYTHMS = [
    ("reel", "D"),
    ("jig", "G"),
    ("slip jig", "E minor"),
    ("polka", "A"),
    ("waltz", "F"),
    ("hornpipe", "E dorian"),
]


def build_vocab(corpus: str):
    """The vocabulary of every tune of the tunebook ``corpus`` that training reads: not those
    the reader refuses, nor those with a note that normalising moves out of MIDI's 0-127
    (`refuse_normalised_out_of_midi`, as `read_tune` refuses them); it prints how many of each
    it left out."""
    from tokenization.abc_parser import (
        AbcParseError,
        parse_tunebook,
        refuse_normalised_out_of_midi,
    )
    from tokenization.check import read_abc_file
    from tokenization.features import HeaderInfo, tune_to_rows
    from tokenization.keys import normalise_tune
    from tokenization.vocabulary import AbcVocab

    text = read_abc_file(corpus)  # UTF-8, else Latin-1 line by line, as the package reads ABC

    left_out = {"unreadable": 0, "out of MIDI 0-127 once normalised": 0}

    def rows():
        for tune in parse_tunebook(text):
            if isinstance(tune, AbcParseError):
                left_out["unreadable"] += 1
                continue
            try:
                refuse_normalised_out_of_midi(tune)
            except AbcParseError:
                left_out["out of MIDI 0-127 once normalised"] += 1
                continue
            tune = normalise_tune(tune)
            yield tune_to_rows(tune.tokens, HeaderInfo.from_tune(tune))

    vocab = AbcVocab.build(rows())
    print("tunes left out of the vocabulary: " + ", ".join(f"{n} {k}" for k, n in left_out.items()))
    return vocab


def make_generator(preset: str, tokenizer, seed: int = 0):
    import torch

    from modeling_irish.configuration_measurenote import MeasureNoteConfig
    from modeling_irish.generation import TuneGenerator
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    torch.manual_seed(seed)
    config = MeasureNoteConfig.from_preset(preset, vocab_sizes=tokenizer.abc_vocab.sizes)
    return TuneGenerator(MeasureNoteForCausalLM(config), tokenizer)


def time_generation(generator, batch: int, total: int) -> tuple[float, float, float]:
    """(tunes/s, rows/s, validity) over ``total`` reels sampled ``batch`` at a time."""
    generator.generate(
        min(batch, 4), rhythm="reel", key="D", seed=999, num_threads=None
    )  # warm the mask tables
    tunes, start = [], time.perf_counter()
    for seed in range(max(1, total // batch)):
        tunes += generator.generate(
            batch, rhythm="reel", key="D", seed=seed, num_bars=16, min_bars=16, num_threads=None
        )
    elapsed = time.perf_counter() - start
    rows = sum(len(t.rows) for t in tunes)
    return len(tunes) / elapsed, rows / elapsed, sum(t.valid for t in tunes) / len(tunes)


def validity_samples(generator, n: int, batch: int = 100) -> list:
    """``n`` constrained 16-bar samples, the tune types of `RHYTHMS` in turn sample by sample
    (the first ``n % 6`` types get one more), each type sampled in batches of up to ``batch``."""
    tunes, seed = [], 10_000
    for i, (rhythm, key) in enumerate(RHYTHMS):
        count = n // len(RHYTHMS) + (i < n % len(RHYTHMS))
        for start in range(0, count, batch):
            size = min(batch, count - start)
            tunes += generator.generate(size, rhythm=rhythm, key=key, seed=seed, num_bars=16)
            seed += size
    return tunes


def validity(generator, n: int, batch: int = 100) -> dict:
    """Validity rates of `validity_samples` by our checker and the three readers, the mean rows
    of a sample and the tune types sampled (``types``: type -> samples)."""
    from modeling_irish.quality import reread_abc2midi, reread_music21, reread_ours

    tunes = validity_samples(generator, n, batch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = sum(reread_ours(t, generator.tokenizer) for t in tunes)
        m21 = sum(reread_music21(t) for t in tunes)
    midi = [reread_abc2midi(t) for t in tunes]
    return {
        "samples": len(tunes),
        "checker": sum(t.valid for t in tunes) / len(tunes),
        "ours": ours / len(tunes),
        "music21": m21 / len(tunes),
        "abc2midi": None if None in midi else sum(midi) / len(tunes),
        "mean_rows": sum(len(t.rows) for t in tunes) / len(tunes),
        "types": dict(Counter(t.rhythm for t in tunes)),
    }


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """One-line errors (exit status 2) for what would otherwise fail with a traceback later."""
    from modeling_irish.configuration_measurenote import MEASURENOTE_PRESETS

    sizes = args.batches.split(",")
    if not all(size.strip().isdigit() and int(size) >= 1 for size in sizes):
        parser.error(
            f"--batches: give batch sizes >= 1, comma-separated (e.g. 1,64), got {args.batches!r}"
        )
    for name, low in (("tunes", 1), ("validity_samples", 0), ("threads", 1)):
        if getattr(args, name) < low:
            flag = "--" + name.replace("_", "-")
            parser.error(f"{flag} must be at least {low}, got {getattr(args, name)}")
    if args.model is not None:
        from modeling_irish.cli import require_model_type

        if not os.path.isdir(args.model):
            parser.error(f"--model {args.model}: no such folder (give a trained model folder)")
        try:  # a folder without config.json, or of another model, failed after the imports
            require_model_type(args.model, "measurenote")
        except (FileNotFoundError, ValueError) as err:
            parser.error(f"--model: {err} (give a trained MeasureNote folder)")
        ignored = [
            f"--{name} {getattr(args, name)}" for name in MODEL_IGNORES if getattr(args, name)
        ]
        if ignored:
            print(
                f"bench_generation.py: {', '.join(ignored)} ignored: --model times that model",
                file=sys.stderr,
            )
        return
    args.presets = args.presets or DEFAULT_PRESETS
    args.corpus = args.corpus or DEFAULT_CORPUS
    unknown = [p for p in args.presets.split(",") if p not in MEASURENOTE_PRESETS]
    if unknown:
        parser.error(
            f"--presets: unknown preset(s) {', '.join(unknown)} "
            f"(choose from {', '.join(sorted(MEASURENOTE_PRESETS))})"
        )
    if args.vocab is not None and not os.path.isfile(args.vocab):
        parser.error(f"--vocab {args.vocab}: no such file")
    if args.vocab is None and not os.path.isfile(args.corpus):
        parser.error(f"--corpus {args.corpus}: no such file (or give --vocab abc_vocab.json)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked (`check_args`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--corpus", default=None, help="ABC corpus for the vocabulary (default: the shared one)"
    )
    parser.add_argument("--vocab", default=None, help="abc_vocab.json (skips the corpus build)")
    parser.add_argument("--model", default=None, help="a trained model folder instead of presets")
    parser.add_argument(
        "--presets", default=None, help=f"comma list of presets (default: {DEFAULT_PRESETS})"
    )
    parser.add_argument("--batches", default="1,64", help="comma list of batch sizes")
    parser.add_argument("--tunes", type=int, default=128, help="tunes timed per batch size >1")
    parser.add_argument("--validity-samples", type=int, default=1000, help="0 to skip")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    check_args(parser, args)
    return args


def main(argv: list[str] | None = None) -> None:
    """Print the speed table, then the validity rates."""
    args = parse_args(argv)

    import torch

    from tokenization.tokenization_abc import AbcTokenizer
    from tokenization.vocabulary import AbcVocab

    torch.set_num_threads(args.threads)
    if args.model:
        from modeling_irish.generation_cli import load_generator

        generators = {"model": load_generator(args.model)}
    else:
        start = time.perf_counter()
        vocab = AbcVocab.load(args.vocab) if args.vocab else build_vocab(args.corpus)
        print(
            f"vocabulary ready in {time.perf_counter() - start:.0f} s: {vocab.sizes['main']} "
            f"main, {vocab.sizes['dur']} dur, {vocab.sizes['m_offset']} m_offset values\n"
        )
        tokenizer = AbcTokenizer(vocab=vocab)
        generators = {p: make_generator(p, tokenizer) for p in args.presets.split(",")}

    print(f"torch threads: {args.threads}; reels of 16 bars, constraints on\n")
    print("| model | batch | tunes/s | rows/s | valid |")
    print("|---|---|---|---|---|")
    for name, generator in generators.items():
        for batch in (int(b) for b in args.batches.split(",")):
            total = 8 if batch == 1 else max(args.tunes, batch)
            tps, rps, valid = time_generation(generator, batch, total)
            print(f"| {name} | {batch} | {tps:.2f} | {rps:.0f} | {valid:.3f} |", flush=True)
    if args.validity_samples:
        name = "model" if args.model else args.presets.split(",")[0]
        result = validity(generators[name], args.validity_samples)
        types = ", ".join(f"{rhythm} {count}" for rhythm, count in result["types"].items())
        print(
            f"\nvalidity of {result['samples']} constrained samples ({name}; {types}; "
            f"mean {result['mean_rows']:.0f} rows):"
        )
        for reader in ("checker", "ours", "music21", "abc2midi"):
            value = result[reader]
            print(f"  {reader:9s} {'n/a' if value is None else f'{value:.4f}'}")


if __name__ == "__main__":
    main()
