"""What importing the library costs: the wall time of a fresh Python process that imports it.

Usage:
    python benchmarks/bench_import_cost.py [--checkouts DIR ...] [--runs 5] [--cases NAME ...]
                                           [--breakdown]

Each case is one ``python -c CODE`` run from the root of each checkout (so that checkout's code
is imported, whatever is installed), the checkouts taking turns run by run; prints the median
of ``--runs`` wall times per case and checkout, side by side, and the load average. Before the
timed runs, each case runs once untimed, bytecode caches allowed (``PYTHONDONTWRITEBYTECODE``
unset: a user's install has its ``.pyc`` files), so compiling is not what is timed.
The case "the third-party modules of import modeling_irish" imports the modules other than
this project's that ``import modeling_irish`` loads, in its order (`third_party_code`): what the
package's import takes above it is ours. ``--breakdown`` adds which of torch, transformers,
datasets, music21 and numpy each case leaves loaded and, with the case ``import modeling_irish``,
our share timed in one process (`ours_alone`: the difference of two processes' medians is lost
in the noise of a loaded host).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import _paths
from _fresh_python import fresh_environment, fresh_python_seconds

KESH = "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|"

#: What a case leaves loaded is reported for these (`--breakdown`).
HEAVY = ("torch", "transformers", "datasets", "music21", "numpy")

#: The packages of this project (`third_party_code` leaves their modules out).
OURS = ("tokenization", "modeling_irish", "irish_tune", "training")

READ_WRITE = f"""
from tokenization.abc_parser import parse_abc
from tokenization.abc_writer import write_abc
from tokenization.keys import normalise_tune
tune = normalise_tune(parse_abc({KESH!r}))
write_abc(tune.tokens, key=tune.key, meter=tune.meter)
"""

ENCODE_DECODE = f"""
from tokenization.encoded_tune import encode_tune, read_tune
from tokenization.features import HeaderInfo, tune_to_rows
from tokenization.row_decoding import decode_rows
from tokenization.vocabulary import AbcVocab
_, tune = read_tune({KESH!r})
vocab = AbcVocab.build([tune_to_rows(tune.tokens, HeaderInfo.from_tune(tune))])
decode_rows(vocab, encode_tune(vocab, {KESH!r}).input_ids, key="G")
"""

THIRD_PARTY = "the third-party modules of import modeling_irish"

CASES = {
    "python -c pass": "pass",
    "import tokenization": "import tokenization",
    "read, normalise, write a tune": READ_WRITE,
    "encode and decode a tune (vocabulary)": ENCODE_DECODE,
    "import numpy": "import numpy",
    "import torch": "import torch",
    "import transformers": "import transformers",
    "from transformers import PreTrainedModel": "from transformers import PreTrainedModel",
    "import tokenization.tokenization_abc": "import tokenization.tokenization_abc",
    THIRD_PARTY: "",  # `third_party_code`, made for each checkout
    "import modeling_irish": "import modeling_irish",
}


def case_code(case: str, checkout: Path) -> str:
    """The code that `case` runs in `checkout`."""
    return third_party_code(checkout) if case == THIRD_PARTY else CASES[case]


def run_case(code: str, checkout: Path) -> float:
    """Wall seconds of ``python -c CODE`` run from `checkout` (`fresh_python_seconds`)."""
    return fresh_python_seconds(["-c", code], checkout)


def third_party_code(checkout: Path) -> str:
    """Code that imports what ``import modeling_irish`` imports from `checkout` besides this
    project's modules (torch, transformers, ...), in the order it imports them: the floor that
    registering the Auto classes cannot go below (the models subclass transformers' classes)."""
    probe = (
        "import sys, modeling_irish\n"
        f"print([m for m in list(sys.modules) if m.split('.')[0] not in {OURS!r}])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=checkout, env=fresh_environment(), capture_output=True,
        text=True, encoding="utf-8", check=True,
    )  # fmt: skip
    names = result.stdout.strip()
    # a module made by its package's code, not importable on its own, is left to that package
    return (
        "import importlib\n"
        f"for name in {names}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError:\n"
        "        pass\n"
    )


def loaded(code: str, checkout: Path) -> list[str]:
    """Which of `HEAVY` ``python -c CODE`` left in ``sys.modules``."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=checkout, env=fresh_environment(), capture_output=True,
        text=True, encoding="utf-8", check=True,
    )  # fmt: skip
    return eval(result.stdout.strip())  # noqa: S307 (our own print of a list of names)


def ours_alone(checkout: Path) -> float:
    """Seconds of ``import modeling_irish`` from `checkout` in a process that has imported its
    third-party modules already (`third_party_code`): this project's share, timed in-process."""
    code = (
        "import time\n"
        + third_party_code(checkout)
        + "start = time.perf_counter()\n"
        + "import modeling_irish\n"
        + "print(time.perf_counter() - start)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=checkout, env=fresh_environment(), capture_output=True,
        text=True, encoding="utf-8", check=True,
    )  # fmt: skip
    return float(result.stdout.strip())


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Time the cases; ``{case: {checkout: median seconds}}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkouts", nargs="+", type=Path, default=[_paths.REPOSITORY],
        help="repository roots to compare (default: this one)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each case (median)")
    parser.add_argument(
        "--cases", nargs="+", choices=list(CASES), default=list(CASES), help="what to time"
    )
    parser.add_argument("--breakdown", action="store_true", help="where the imports spend it")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"argument --runs: must be >= 1, got {args.runs}")
    for checkout in args.checkouts:
        if not (checkout / "tokenization" / "__init__.py").is_file():
            parser.error(f"argument --checkouts: {checkout} is not a modeling-irish checkout")
    medians: dict[str, dict[str, float]] = {}
    names = [str(checkout) for checkout in args.checkouts]
    print("| case | " + " | ".join(names) + " |", flush=True)
    print("|---" * (len(names) + 1) + "|", flush=True)
    for case in args.cases:
        times: dict[str, list[float]] = {name: [] for name in names}
        codes = [case_code(case, checkout) for checkout in args.checkouts]
        for checkout, code in zip(args.checkouts, codes):  # untimed: .pyc written, disk warm
            run_case(code, checkout)
        for _ in range(args.runs):
            for name, checkout, code in zip(names, args.checkouts, codes):
                times[name].append(run_case(code, checkout))
        medians[case] = {name: statistics.median(values) for name, values in times.items()}
        cells = " | ".join(f"{medians[case][name]:.2f} s" for name in names)
        print(f"| `{case}` | {cells} |  load {os.getloadavg()[0]:.1f}", flush=True)
    if args.breakdown:
        for checkout in args.checkouts:
            print(f"\n{checkout}:")
            for case in args.cases:
                print(f"  {case}: loads {loaded(case_code(case, checkout), checkout)}")
            if "import modeling_irish" in args.cases:  # seconds a run: only where asked
                ours = statistics.median(ours_alone(checkout) for _ in range(args.runs))
                print(f"  import modeling_irish after its third-party modules: {ours:.3f} s")
    return medians


if __name__ == "__main__":
    main()
