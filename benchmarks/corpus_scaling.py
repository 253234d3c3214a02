"""How `irish-tune check`, `load_abc_corpus` (cold and cached) and `irish-tune index` grow with
the corpus: wall time, CPU time and peak RSS at 1x, 2x and 4x the corpus.

Usage:
    OMP_NUM_THREADS=1 python benchmarks/corpus_scaling.py --out-dir /tmp/scale_data
        [--corpus thesession-c.abc] [--scales 1 2 4] [--copies distinct exact]
        [--cases check load-cold load-warm index]

The scaled corpora are the corpus written out ``k`` times into ``--out-dir`` (never into the
repository): copy ``c`` renumbers its ``X:`` lines past the others' and appends `` (copy c)`` to
its titles. ``--copies exact`` keeps the bodies, so that the loader's dedupe folds the copies
(and reads every body a second time to compare its notes); ``distinct`` respells the first
``c`` notes with an explicit accidental (``=c`` -> ``=d``; every note of the shared corpus has
one) of each tune's last line, so that every copy is another tune. Each case runs in a fresh
process, one at a time, timed by ``os.wait4`` (wall, user + system CPU of the process and its
workers, and the peak RSS of the largest of them, this script's own small process at the fork
among them); a case that fails (any exit status but 0, or ``check``'s 1 for a failing tune
without a traceback) stops the run with its last stderr line. ``index`` uses the edit-distance
index, with a tokenizer trained on the corpus, so it needs no model. Prints a markdown table,
with each figure's ratio to the smallest scale's: a ratio well above the scale is superlinear
growth.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _paths import DEFAULT_CORPUS, REPOSITORY

CASES = ("check", "load-cold", "load-warm", "index")
COPIES = ("distinct", "exact")
_NOTE = re.compile(r"[=^_]([A-Ga-g])")
_NEXT = {"C": "D", "D": "E", "E": "F", "F": "G", "G": "A", "A": "B", "B": "C"}


def split_tunes(text: str) -> list[str]:
    """The tunes of a blank-line separated tunebook (the shared corpus's layout)."""
    return [tune.strip("\n") for tune in re.split(r"\n[ \t]*\n", text) if tune.strip()]


def respell(line: str, count: int) -> str:
    """``line`` with its first ``count`` notes that carry an accidental a step higher."""
    chars = list(line)
    for found in list(_NOTE.finditer(line))[:count]:
        letter = found.group(1)
        step = _NEXT[letter.upper()]
        chars[found.start(1)] = step if letter.isupper() else step.lower()
    return "".join(chars)


def tune_copy(tune: str, copy: int, number: int, distinct: bool) -> str:
    """Copy ``copy`` (0: the tune itself) of ``tune``, numbered ``X: number``."""
    lines = tune.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("X:"):
            lines[i] = f"X: {number}"
        elif line.startswith("T:") and copy:
            lines[i] = f"{line} (copy {copy})"
    if distinct and copy:
        lines[-1] = respell(lines[-1], copy)
    return "\n".join(lines)


def scaled_text(tunes: list[str], scale: int, distinct: bool) -> str:
    """The tunebook of ``scale`` copies of ``tunes``, with distinct ``X:`` numbers."""
    out = [
        tune_copy(tune, copy, copy * len(tunes) + i + 1, distinct)
        for copy in range(scale)
        for i, tune in enumerate(tunes)
    ]
    return "\n\n".join(out) + "\n"


def timed(command: list[str], failing_tunes_ok: bool = False) -> dict[str, float]:
    """Run ``command`` (stdout discarded): wall and CPU seconds, and peak RSS in MiB.

    A case must exit 0; ``failing_tunes_ok`` (the ``check`` case) also accepts status 1, which
    ``check`` gives when a tune fails, unless stderr holds a Python traceback: a crash exits 1
    too, and its time is no figure of the case. Either failure raises `SystemExit` with the
    command, its status and the last line it wrote to stderr."""
    start = time.perf_counter()
    with (
        open(os.devnull, "w", encoding="utf-8") as sink,
        tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err,
    ):
        process = subprocess.Popen(command, cwd=REPOSITORY, stdout=sink, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()
    code = os.waitstatus_to_exitcode(status)
    crashed = "Traceback (most recent call last)" in stderr
    if code != 0 and (code != 1 or not failing_tunes_ok or crashed):
        last = stderr.strip().splitlines()[-1] if stderr.strip() else "no output on stderr"
        raise SystemExit(f"{' '.join(command)}: failed with exit status {code}: {last}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "rss": usage.ru_maxrss / 1024}


def case_command(case: str, corpus: Path, work: Path) -> list[str]:
    """The command line of one case over ``corpus``; ``work`` holds its cache or index."""
    python = [sys.executable]
    if case == "check":
        return [*python, "-m", "irish_tune", "check", str(corpus), "--json"]
    if case.startswith("load"):
        load = "from modeling_irish import load_abc_corpus; import sys; "
        load += "load_abc_corpus(sys.argv[1], cache_dir=sys.argv[2])"
        return [*python, "-c", load, str(corpus), str(work / "cache")]
    tokenizer, out = work.parent / "tokenizer", work / "index"
    return [*python, "-m", "irish_tune", "index", "--tokenizer", str(tokenizer), str(corpus)] + [
        "--out",
        str(out),
    ]


def train_tokenizer(corpus: str, folder: Path) -> None:
    """An `AbcTokenizer` of the corpus's vocabulary saved in ``folder`` (for ``index``), trained
    in another process: this one stays small, since a child's peak RSS counts the parent's size
    at the fork."""
    if (folder / "tokenizer_config.json").exists():
        return
    train = "from tokenization.tokenization_abc import AbcTokenizer; import sys; "
    train += "from tokenization.abc_tunebook import split_tunebook; "
    train += "text = open(sys.argv[1], encoding='utf-8').read(); "
    train += "tunes = [tune for _, tune in split_tunebook(text)]; "
    train += "AbcTokenizer.train(tunes).save_pretrained(sys.argv[2])"
    subprocess.run([sys.executable, "-c", train, corpus, str(folder)], cwd=REPOSITORY, check=True)


def positive_int(text: str) -> int:
    """An argparse type: a whole number from 1 (this process imports nothing of the package)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="the corpus to scale")
    parser.add_argument("--out-dir", required=True, help="where the scaled corpora are written")
    parser.add_argument("--scales", type=positive_int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--copies", choices=COPIES, nargs="+", default=list(COPIES))
    parser.add_argument("--cases", choices=CASES, nargs="+", default=list(CASES))
    args = parser.parse_args(argv)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tunes = split_tunes(Path(args.corpus).read_text(encoding="utf-8"))
    if "index" in args.cases:
        train_tokenizer(args.corpus, out_dir / "tokenizer")
    rows = []
    for copies in args.copies:
        for scale in args.scales:
            corpus = out_dir / f"{copies}{scale}x.abc"
            corpus.write_text(scaled_text(tunes, scale, copies == "distinct"), encoding="utf-8")
            work = out_dir / f"{copies}{scale}x"
            shutil.rmtree(work, ignore_errors=True)  # a cold cache, a fresh index folder
            work.mkdir()
            for case in args.cases:
                row = {"copies": copies, "scale": scale, "case": case, "tunes": scale * len(tunes)}
                command = case_command(case, corpus, work)
                rows.append(row | timed(command, failing_tunes_ok=case == "check"))
                print(rows[-1], file=sys.stderr, flush=True)
    print_table(rows)
    return rows


def print_table(rows: list[dict]) -> None:
    """The markdown table, each figure with its ratio to the same case at the smallest scale."""
    print("| copies | case | scale | tunes | wall (s) | CPU (s) | CPU ratio | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        base = min(
            (r for r in rows if (r["copies"], r["case"]) == (row["copies"], row["case"])),
            key=lambda r: r["scale"],
        )
        ratio = row["cpu"] / base["cpu"] if base["cpu"] else float("nan")
        print(
            f"| {row['copies']} | {row['case']} | {row['scale']}x | {row['tunes']} | "
            f"{row['wall']:.1f} | {row['cpu']:.1f} | {ratio:.2f} | {row['rss']:.0f} |"
        )


if __name__ == "__main__":
    main()
