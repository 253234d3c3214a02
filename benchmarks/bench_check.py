"""Wall time, CPU time and peak memory of ``irish-tune check --json`` on a big input, checkout
against checkout and ``--jobs`` against ``--jobs``, with the reports compared byte for byte.

Usage:
    python benchmarks/bench_check.py [--files PATH ...] [--checkouts DIR ...] [--jobs 1 2]
                                     [--runs 3]

Each case is one ``python -m irish_tune check FILES --json [--jobs N]`` run from the root of a
checkout (so that its code runs, whatever is installed), in a fresh process; the cases take
turns run by run, so the load of a shared host falls on all of them alike. ``--files``: what to
check (default: the shared corpus; ``oneills1850 ryansMammoth`` are music21's books). A
checkout whose ``check`` has no ``--jobs`` (an older one) runs once a round, without it. Prints
a markdown table: the median and fastest wall time, the CPU time of the process and its
workers, the peak resident memory of the largest of them, and whether the report (stdout) is
byte-identical to the first case's; then the load average.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _paths import DEFAULT_CORPUS, REPOSITORY

from irish_tune.json_output import json_dumps
from modeling_irish.cli import positive_int

#: Runs the command given after it and prints, on its last line of stderr, the CPU seconds and
#: the peak RSS (KiB) of it and its workers (RUSAGE_CHILDREN counts the descendants reaped)
_MEASURED = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(use.ru_utime + use.ru_stime, use.ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def has_jobs(checkout: Path) -> bool:
    """Whether a checkout's ``irish-tune check`` takes ``--jobs``."""
    out = subprocess.run(
        [sys.executable, "-m", "irish_tune", "check", "--help"],
        cwd=checkout,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    ).stdout
    return "--jobs" in out


def run_case(checkout: Path, files: list[str], jobs: int | None) -> dict:
    """One timed run: wall and CPU seconds, peak RSS in MiB, exit status and the report's hash."""
    command = [sys.executable, "-m", "irish_tune", "check", *files, "--json"]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, *command],
        cwd=checkout,
        capture_output=True,
        env=env,
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: some tunes fail, as on the corpus
        raise RuntimeError(f"{checkout}: {' '.join(command)} exited {done.returncode}")
    cpu, rss = done.stderr.decode().strip().splitlines()[-1].split()
    return {
        "wall": wall,
        "cpu": float(cpu),
        "rss_mib": int(rss) / 1024,
        "status": done.returncode,
        "report": hashlib.sha256(done.stdout).hexdigest(),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="+", default=[DEFAULT_CORPUS], help="what to check")
    parser.add_argument(
        "--checkouts", nargs="+", default=[str(REPOSITORY)], help="checkouts to compare"
    )
    parser.add_argument(
        "--jobs", nargs="+", type=positive_int, default=[1, 2], help="--jobs values to time"
    )
    parser.add_argument("--runs", type=positive_int, default=3, help="timed runs of each case")
    args = parser.parse_args(argv)
    files = [str(Path(f).resolve()) if Path(f).exists() else f for f in args.files]
    cases: list[tuple[Path, int | None]] = []
    for checkout in map(Path, args.checkouts):
        cases += [(checkout, j) for j in args.jobs] if has_jobs(checkout) else [(checkout, None)]
    runs: dict[int, list[dict]] = {i: [] for i in range(len(cases))}
    for _ in range(args.runs):  # the cases take turns: the host's load falls on each alike
        for i, (checkout, jobs) in enumerate(cases):
            runs[i].append(run_case(checkout, files, jobs))
    first = runs[0][0]["report"]
    rows = []
    for i, (checkout, jobs) in enumerate(cases):
        walls = [r["wall"] for r in runs[i]]
        rows.append(
            {
                "checkout": str(checkout),
                "jobs": "-" if jobs is None else jobs,
                "wall_median_s": round(statistics.median(walls), 2),
                "wall_min_s": round(min(walls), 2),
                "cpu_s": round(statistics.median(r["cpu"] for r in runs[i]), 2),
                "peak_rss_mib": round(max(r["rss_mib"] for r in runs[i]), 1),
                "identical": all(r["report"] == first for r in runs[i]),
                "status": runs[i][0]["status"],
            }
        )
    print(f"files: {' '.join(args.files)}; {args.runs} runs a case, taking turns")
    print("| checkout | --jobs | wall median (s) | wall min (s) | CPU (s) | peak RSS (MiB) | "
          "same report |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['checkout']} | {row['jobs']} | {row['wall_median_s']} | {row['wall_min_s']} "
            f"| {row['cpu_s']} | {row['peak_rss_mib']} | {'yes' if row['identical'] else 'NO'} |"
        )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(json_dumps(rows, "bench_check.py"))  # strict: a NaN figure is null, named on stderr
    return rows


if __name__ == "__main__":
    main()
