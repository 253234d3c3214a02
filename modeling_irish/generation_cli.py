"""`irish-tune generate`, `render` and `evaluate-generation`: argument builders and runners."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys

__all__ = [
    "add_evaluate_generation_args",
    "add_generate_args",
    "add_render_args",
    "load_generator",
    "run_evaluate_generation",
    "run_generate",
    "run_render",
]

logger = logging.getLogger(__name__)


def _sampling_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="folder of a trained MeasureNote model")
    parser.add_argument("--rhythm", default=None, help="tune type: reel, jig, slip jig... (reel)")
    parser.add_argument("--meter", default=None, help="meter, e.g. 6/8 (default: the rhythm's)")
    parser.add_argument("--key", default=None, help="real key to write in, e.g. D or 'E dorian'")
    parser.add_argument("--mode", default=None, help="mode (overrides the mode of --key)")
    parser.add_argument("--num-tunes", type=int, default=4, help="tunes sampled in one batch")
    parser.add_argument("--num-bars", type=int, default=16, help="bars before closing the tune")
    parser.add_argument("--max-rows", type=int, default=600, help="soft cap on the rows")
    parser.add_argument("--temperature", type=float, default=1.0, help="softmax temperature")
    parser.add_argument("--top-k", type=int, default=0, help="keep the k best tokens (0: all)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass")
    parser.add_argument("--seed", type=int, default=0, help="seed: the same seed, the same tunes")
    parser.add_argument(
        "--unconstrained", action="store_true", help="sample without the bar/repeat masks"
    )


def add_generate_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune generate``."""
    _sampling_args(parser)
    parser.add_argument("--prompt", default=None, help="ABC file whose incipit is continued")
    parser.add_argument("--out", default=None, help="folder for .abc and renderings (stdout)")
    parser.add_argument("--render", default="", help="comma list of svg,midi,wav")
    parser.add_argument("--soundfont", default=None, help="GM .sf2 for WAV rendering")


def add_render_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune render``."""
    parser.add_argument("file", help="ABC file (one or several tunes)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--formats", default="svg,midi,wav", help="comma list of svg,midi,wav")
    parser.add_argument("--soundfont", default=None, help="GM .sf2 for WAV rendering")


def add_evaluate_generation_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune evaluate-generation``."""
    _sampling_args(parser)
    parser.add_argument("--train", default=None, help="training corpus (ABC) for copy/histograms")
    parser.add_argument("--max-train-tunes", type=int, default=None, help="read at most N tunes")
    parser.add_argument("--no-readers", action="store_true", help="skip music21/abc2midi checks")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")


def load_generator(model_dir: str):
    """`TuneGenerator` of a saved model folder (model and tokenizer)."""
    from transformers import AutoModelForCausalLM

    import modeling_irish  # noqa: F401 (registers the Auto classes)
    from tokenization.tokenization_abc import AbcTokenizer

    from .cli import require_folder
    from .generation import TuneGenerator

    require_folder(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    return TuneGenerator(model, AbcTokenizer.from_pretrained(model_dir, local_files_only=True))


def _sample(args: argparse.Namespace, generator, prompt: str | None = None):
    return generator.generate(
        args.num_tunes,
        rhythm=args.rhythm,
        meter=args.meter,
        mode=args.mode,
        key=args.key,
        prompt=prompt,
        num_bars=args.num_bars,
        max_rows=args.max_rows,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
        constrained=not args.unconstrained,
    )


def _formats(text: str) -> list[str]:
    return [f.strip() for f in text.split(",") if f.strip()]


def run_generate(args: argparse.Namespace) -> int:
    """``irish-tune generate``: sample tunes, write ``tune_N.abc`` (and renderings)."""
    generator = load_generator(args.model)
    prompt = None
    if args.prompt:
        with open(args.prompt, encoding="utf-8") as handle:
            prompt = handle.read()
    tunes = _sample(args, generator, prompt)
    if not args.out:
        print("\n".join(t.abc for t in tunes))
        return 0
    os.makedirs(args.out, exist_ok=True)
    for i, tune in enumerate(tunes, 1):
        stem = os.path.join(args.out, f"tune_{i}")
        with open(stem + ".abc", "w", encoding="utf-8") as handle:
            handle.write(tune.abc)
        status = "valid" if tune.valid else "INVALID: " + "; ".join(tune.errors[:3])
        print(f"{stem}.abc  {status}")
        _render_one(tune.abc, stem, _formats(args.render), args.soundfont)
    return 0


def _render_one(abc: str, stem: str, formats: list[str], soundfont: str | None) -> None:
    if not formats:
        return
    from .render import render_abc

    out = render_abc(abc, stem, formats, soundfont=soundfont)
    for fmt in formats:
        if fmt in out:
            print(f"  {fmt}: {out[fmt]}")
    for skipped in out["skipped"]:
        print(f"  skipped {skipped}", file=sys.stderr)


def run_render(args: argparse.Namespace) -> int:
    """``irish-tune render``: SVG, MIDI and WAV of every tune of an ABC file."""
    with open(args.file, encoding="utf-8") as handle:
        text = handle.read()
    tunes = [t.strip() + "\n" for t in re.split(r"\n(?=X:)", text) if t.strip().startswith("X:")]
    if not tunes:
        raise ValueError(f"no tune (X: line) in {args.file}")
    os.makedirs(args.out, exist_ok=True)
    base = os.path.splitext(os.path.basename(args.file))[0]
    for i, abc in enumerate(tunes, 1):
        stem = os.path.join(args.out, base if len(tunes) == 1 else f"{base}_{i}")
        _render_one(abc, stem, _formats(args.formats), args.soundfont)
    return 0


def _read_corpus(path: str, limit: int | None) -> list[list]:
    from tokenization.abc_parser import AbcParseError, parse_tunebook
    from tokenization.check import read_abc_file
    from tokenization.keys import normalise_tune

    tunes, skipped = [], []
    for item in parse_tunebook(read_abc_file(path)):
        if isinstance(item, AbcParseError):
            skipped.append(item)
            continue
        tunes.append(normalise_tune(item).tokens)
        if limit and len(tunes) >= limit:
            break
    if skipped:
        print(
            f"evaluate-generation: {len(skipped)} unreadable tunes of {path} left out of the "
            f"training side (first: {skipped[0]})",
            file=sys.stderr,
        )
    return tunes


def run_evaluate_generation(args: argparse.Namespace) -> int:
    """``irish-tune evaluate-generation``: sample, then report the quality measures."""
    from .quality import generation_metrics

    generator = load_generator(args.model)
    tunes = _sample(args, generator)
    corpus = _read_corpus(args.train, args.max_train_tunes) if args.train else None
    metrics = generation_metrics(
        tunes, corpus=corpus, tokenizer=generator.tokenizer, readers=not args.no_readers
    )
    if args.json:
        print(json.dumps(metrics))
    else:
        for name, value in metrics.items():
            print(f"{name:28s} {value:.4f}")
    return 0
