"""MIDI rendering time (`to_midi`) of long and fuzzed tunes: the cases an audit found slow;
``--format musicxml`` times `to_musicxml` (the tune as written, its repeats not unfolded) instead.

Usage:
    python benchmarks/bench_render.py [--cases "ending 1-10000000" "P:(AB)50" ...]
        [--format midi|musicxml]

Each case is one tune rendered once, in this process, in the order given: a 70-byte tune with
the ending ``|1-10000000``; ``P:(AB)n`` over two 8-bar repeated parts (212 notes a
``(AB)``); ``DEFG ABcd|`` 1,000 times (10 KB, 8,000 notes); a header ``P:`` of 3,000 ``(``
around a part; 200 inline key changes ``[K:...] DEFG ABcd|`` (1,600 notes, majors, minors and a
mode in turn). Prints the seconds, or the error, and the process's peak resident memory so far.
With ``PYTHONPATH`` naming another checkout, the script times that one's ``to_midi``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable

import _paths  # noqa: F401  (the repository on sys.path)

from modeling_irish.render import to_midi, to_musicxml

PART_A = "|:DEFG ABcd|efga bagf|edcB AGFE|D2F2 A2d2|DEFG ABcd|efga bagf|edcB AGFE|D8:|"
PART_B = "|:fgaf gefd|edcB AGFE|DFAd fdAF|G2B2 d2g2|fgaf gefd|edcB AGFE|DFAd fdAF|d8:|"


def _parts(times: int) -> str:
    return f"X:1\nM:4/4\nL:1/8\nP:(AB){times}\nK:D\nP:A\n{PART_A}\nP:B\n{PART_B}\n"


CASES = {
    "ending 1-10000000": "X:1\nL:1/8\nK:D\n|:DEFG ABcd|1-10000000 B8:|",
    **{f"P:(AB){n}": _parts(n) for n in (12, 25, 50, 100)},
    "plain 10 KB": "X:1\nM:4/4\nL:1/8\nK:D\n" + "DEFG ABcd|" * 1000 + "]\n",
    "P: nested 3000": "X:1\nL:1/8\nP:" + "(" * 3000 + "A" + ")" * 3000 + "\nK:D\nP:A\nDEFG|]\n",
    "K changes 200": "X:1\nM:4/4\nL:1/8\nK:D\n"
    + "".join(f"[K:{key}] DEFG ABcd|" for key in ("G", "Em", "Bb", "F#m", "Ador") * 40)
    + "]\n",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", nargs="+", choices=list(CASES), default=list(CASES), help="tunes to render"
    )
    parser.add_argument(
        "--format", choices=["midi", "musicxml"], default="midi", help="the file each case makes"
    )
    args = parser.parse_args(argv)
    write = to_midi if args.format == "midi" else to_musicxml
    with tempfile.TemporaryDirectory() as folder:  # nothing left in /tmp, whatever a case does
        path = os.path.join(folder, "t.mid" if args.format == "midi" else "t.musicxml")
        write("X:1\nL:1/8\nK:D\nDEFG|]\n", path)  # music21's import, not timed
        for name in args.cases:
            print(f"{name}: {timed_case(write, CASES[name], path)}", flush=True)


def timed_case(write: Callable[[str, str], object], text: str, path: str) -> str:
    """The time ``write(text, path)`` took (or the error it ended in), the peak RSS and load."""
    start = time.perf_counter()
    try:
        write(text, path)
        said = f"{time.perf_counter() - start:.2f} s"
    except Exception as err:  # noqa: BLE001 (what a case ends in is the figure)
        said = f"{type(err).__name__} after {time.perf_counter() - start:.2f} s"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return f"{said}, peak RSS {peak} MiB, load {os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
