"""`load_abc_corpus`'s parsing workers: what a spawned one imports."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_spawned_worker_imports_the_reader_only():
    """What a spawned worker unpickles and runs (`tokenization.corpus_rows.parse_raw` of a
    `RawTune`) imports no torch, transformers or datasets: ``import modeling_irish`` takes
    seconds, the reader a tenth of one."""
    import functools
    import pickle

    from tokenization.corpus_rows import ParseOptions, parse_raw
    from tokenization.raw_tune import RawTune

    options = ParseOptions(named_sources=frozenset({"oneills1850"}))
    raw = RawTune("b.abc", "b", "X:1\nT:Reel\nM:4/4\nL:1/8\nK:G\nGABc dedB|GABc d2B2|\n", 1)
    work = pickle.dumps((functools.partial(parse_raw, options=options), raw))
    heavy = ("torch", "transformers", "datasets", "modeling_irish")
    code = (
        "import pickle, sys\n"
        "work, raw = pickle.loads(sys.stdin.buffer.read())\n"
        "print(work(raw)[0]['title'])\n"
        f"print([name for name in {heavy!r} if name in sys.modules])\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, "-c", code], input=work, capture_output=True, cwd=root, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.decode().split("\n")[:2] == ["Reel", "[]"]
