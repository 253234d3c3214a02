"""How long a musician waits for each ``irish-tune`` command: wall seconds from a cold process.

Usage:
    python benchmarks/cli_cold_start.py [--repo PATH ...] [--repeat 5] [--commands NAME ...]
                                        [--corpus FILE] [--tunes 200] [--workdir DIR]

Each command runs as ``python -m irish_tune COMMAND ...`` in a fresh subprocess from the root of
each ``--repo`` (so that checkout's code is imported, whatever is installed), the checkouts
taking turns run by run; prints a table of the median of ``--repeat`` wall times per command
and checkout, side by side, with the load average. Before the timed runs each command runs once
untimed per checkout (bytecode caches written, files in the page cache: a user's install has its
``.pyc`` files). The inputs are small and realistic, made once under ``--workdir`` with the
first checkout's code: a one-tune file, a snippet of a reel, a random tiny MeasureNote model
(one-layer GRUs of 16) with the tokenizer trained on the first ``--tunes`` tunes of
``--corpus``, and the edit-distance index of those tunes (``irish-tune index --tokenizer``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

import _paths
from _fresh_python import fresh_python_seconds

#: The tune that ``check``, ``render`` and ``evaluate-lm`` read (The Kesh).
ONE_TUNE = "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|\n"

#: The command lines timed (after ``python -m irish_tune``), ``{work}`` the inputs' folder.
COMMANDS = {
    "help": ["--help"],  # irish-tune --help
    "check": ["check", "{work}/one.abc"],
    "render": ["render", "{work}/one.abc", "--out", "{work}/render", "--formats", "svg"],
    "generate": ["generate", "--model", "{work}/model", "--num-tunes", "1", "--seed", "0"],
    "evaluate-lm": ["evaluate-lm", "--model", "{work}/model", "{work}/one.abc"],
    "index": ["index", "--tokenizer", "{work}/model", "{work}/corpus.abc", "--out", "{work}/ix"],
    "identify": ["identify", "--index", "{work}/index", "{work}/snippet.abc", "-k", "3"],
}

#: Made in a subprocess of the first checkout: the tiny model and its tokenizer.
_MAKE_MODEL = """
import re, sys, torch
from modeling_irish.configuration_measurenote import MeasureNoteConfig
from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
from tokenization.tokenization_abc import AbcTokenizer
corpus, folder = sys.argv[1:]
tunes = re.split(r"\\n\\s*\\n(?=X:)", open(corpus, encoding="utf-8").read())
torch.manual_seed(0)
tokenizer = AbcTokenizer.train(tunes)
sizes = dict(embedding_size=16, note_hidden_size=16, note_num_layers=1, measure_hidden_size=16,
             measure_num_layers=1, measure_num_heads=2, final_hidden_size=16, final_num_layers=1)
config = MeasureNoteConfig(vocab_sizes=tokenizer.abc_vocab.sizes, **sizes)
MeasureNoteForCausalLM(config).eval().save_pretrained(folder)
tokenizer.save_pretrained(folder)
"""


def _run(argv: list[str], repo: Path) -> float:
    """Wall seconds of ``python ARGV`` run from `repo`, one torch thread."""
    return fresh_python_seconds(argv, repo, one_thread=True)


def first_tunes(corpus: Path, count: int) -> list[str]:
    """The first `count` tunes of the tunebook `corpus`, each from its ``X:`` line."""
    tunes, current = [], []
    with open(corpus, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("X:") and current:
                tunes.append("".join(current).strip())
                current = []
                if len(tunes) == count:
                    break
            current.append(line)
    if current and len(tunes) < count:
        tunes.append("".join(current).strip())
    if not tunes:
        raise ValueError(f"{corpus}: no tune (a tune starts with an X: line)")
    return tunes


def make_inputs(work: Path, corpus: Path, count: int, repo: Path) -> None:
    """The inputs of `COMMANDS` under `work`, made with `repo`'s code (see the module's doc)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "one.abc").write_text(ONE_TUNE, encoding="utf-8")
    snippet = "X:1\nM:4/4\nL:1/8\nK:D\n|:FAAB AFED|FAAB A2dB|\n"
    (work / "snippet.abc").write_text(snippet, encoding="utf-8")
    (work / "corpus.abc").write_text("\n\n".join(first_tunes(corpus, count)) + "\n", "utf-8")
    if not (work / "model" / "config.json").is_file():
        _run(["-c", textwrap.dedent(_MAKE_MODEL), str(work / "corpus.abc"), str(work / "model")],
             repo)  # fmt: skip
    if not (work / "index").is_dir():
        _run(["-m", "irish_tune", *_argv("index", work)[:-1], str(work / "index")], repo)


def _argv(command: str, work: Path) -> list[str]:
    return [part.format(work=work) for part in COMMANDS[command]]


def _machine() -> str:
    """The cores this process may use and the load average, for the table's caption."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    one, five, fifteen = os.getloadavg()
    return f"{cores} cores, load average {one:.2f} {five:.2f} {fifteen:.2f}"


def time_commands(
    repos: list[Path], commands: list[str], work: Path, repeat: int
) -> dict[str, dict[str, float]]:
    """``{command: {repo: median wall seconds}}``, printing each row of the table as it ends."""
    names = [str(repo) for repo in repos]
    print("| command | " + " | ".join(names) + " |", flush=True)
    print("|---" * (len(names) + 1) + "|", flush=True)
    medians: dict[str, dict[str, float]] = {}
    for command in commands:
        argv = ["-m", "irish_tune", *_argv(command, work)]
        for repo in repos:  # untimed: .pyc written, files in the page cache
            _run(argv, repo)
        times: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(repeat):
            for name, repo in zip(names, repos):
                times[name].append(_run(argv, repo))
        medians[command] = {name: statistics.median(values) for name, values in times.items()}
        cells = " | ".join(f"{medians[command][name]:.2f} s" for name in names)
        print(f"| `{command}` | {cells} |  load {os.getloadavg()[0]:.1f}", flush=True)
    return medians


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Make the inputs, time the commands; ``{command: {repo: median seconds}}``."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--repo", nargs="+", type=Path, default=[_paths.REPOSITORY],
        help="repository roots to compare side by side (default: this one)",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each (median)")
    parser.add_argument(
        "--commands", nargs="+", choices=list(COMMANDS), default=list(COMMANDS), help="what to time"
    )
    parser.add_argument("--corpus", type=Path, default=Path(_paths.DEFAULT_CORPUS))
    parser.add_argument("--tunes", type=int, default=200, help="corpus tunes indexed")
    parser.add_argument(
        "--workdir", type=Path, default=None,
        help="where the inputs are made and kept (default: a temporary folder)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"argument --repeat: must be >= 1, got {args.repeat}")
    if args.tunes < 1:
        parser.error(f"argument --tunes: must be >= 1, got {args.tunes}")
    for repo in args.repo:
        if not (repo / "irish_tune" / "__init__.py").is_file():
            parser.error(f"argument --repo: {repo} is not a modeling-irish checkout")
    if not args.corpus.is_file():
        parser.error(f"argument --corpus: no such file: {args.corpus}")
    print(f"{sys.executable}; {_machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cli-cold-start-") as scratch:
        work = (args.workdir or Path(scratch)).resolve()
        make_inputs(work, args.corpus, args.tunes, args.repo[0])
        medians = time_commands(args.repo, args.commands, work, args.repeat)
    print(f"after: {_machine()}", flush=True)
    return medians


if __name__ == "__main__":
    main()
