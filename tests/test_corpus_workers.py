"""`load_abc_corpus(num_proc=...)` parses in worker processes on every system: forked on Linux,
spawned where there is no fork (Windows) or it is unsafe (macOS), simulated here (CI is Linux);
in this process, with a warning, where none can start. Never a tune lost."""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from abc_corpus_helpers import leaky_corpus, needs_parser

import modeling_irish.abc_corpus as abc_corpus
import tokenization.worker_pool as worker_pool
from modeling_irish.abc_corpus import SPLIT_NAMES, load_abc_corpus

pytestmark = needs_parser

RATIOS = (0.6, 0.2, 0.2)


def _rows(corpus) -> dict[str, list[dict]]:
    return {name: corpus[name].to_list() for name in SPLIT_NAMES}


@pytest.fixture
def one_process(tmp_path):
    """The splits of the leaky corpus parsed in this process."""
    return _rows(load_abc_corpus(leaky_corpus(tmp_path), split_ratios=RATIOS, num_proc=1))


def _record_contexts(monkeypatch, methods: list[str | None], refused: str | None = None) -> None:
    """`multiprocessing.get_context` records each start method asked for; ``refused`` raises
    the ValueError of a system without it (Windows: "fork")."""
    real = multiprocessing.get_context

    def get_context(method=None):
        methods.append(method)
        if method == refused:
            raise ValueError(f"cannot find context for {method!r}")
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", get_context)


@pytest.mark.parametrize(
    ("platform", "start_methods"),
    # Windows as it shows: no fork (sys.platform stays, a spawn on Linux reads it as "win32")
    [(sys.platform, ["spawn"]), ("darwin", ["spawn", "fork", "forkserver"])],
    ids=["windows", "macos"],
)
def test_where_fork_is_missing_or_unsafe_num_proc_parses_in_spawned_workers(
    tmp_path, monkeypatch, caplog, one_process, platform, start_methods
):
    """Windows cannot fork, and a fork of a process that has loaded torch can hang on macOS
    (which lists "fork" all the same): the loader parsed there in this process, with a warning,
    whatever ``num_proc`` said. Now spawned workers parse, giving the rows of one process."""
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: start_methods)
    methods: list[str | None] = []
    _record_contexts(monkeypatch, methods, refused=None if "fork" in start_methods else "fork")
    with caplog.at_level(logging.WARNING):
        two = load_abc_corpus(leaky_corpus(tmp_path), split_ratios=RATIOS, num_proc=2)
    assert methods == ["spawn"]
    assert _rows(two) == one_process
    assert not [r.getMessage() for r in caplog.records if "process" in r.getMessage()]
    # the default starts none there: each spawned worker imports the main script again
    assert abc_corpus._workers(None, 10_000) == 1


def test_on_linux_num_proc_still_forks(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["fork", "spawn"])
    assert abc_corpus._start_method() == "fork"
    assert abc_corpus._workers(None, 10_000) == min(4, os.cpu_count() or 1)


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_workers_that_cannot_start_leave_the_parsing_to_this_process(
    tmp_path, monkeypatch, caplog, one_process, platform
):
    """No processes or semaphores left to this user: the pool cannot start. The tunes are
    parsed in this process, with a warning that names the error; none is lost."""

    def cannot_start(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(
        multiprocessing, "get_context", lambda method=None: SimpleNamespace(Pool=cannot_start)
    )
    with caplog.at_level(logging.WARNING):
        two = load_abc_corpus(leaky_corpus(tmp_path), split_ratios=RATIOS, num_proc=2)
    assert _rows(two) == one_process
    said = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith("working in this process, not 2 worker processes: they could not start")
        and "Resource temporarily unavailable" in m
        for m in said
    ), said


def test_an_unguarded_main_script_parses_in_this_process_on_macos(
    tmp_path, monkeypatch, caplog, one_process
):
    """Called from a script's top-level code outside ``if __name__ == "__main__":``, each
    spawned worker would run the script again (and load again, and start workers...): no worker
    starts, and the warning names the line to put under the guard."""
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(worker_pool, "unguarded_main_call", lambda: "script.py:3")
    methods: list[str | None] = []
    _record_contexts(monkeypatch, methods)
    with caplog.at_level(logging.WARNING):
        two = load_abc_corpus(leaky_corpus(tmp_path), split_ratios=RATIOS, num_proc=2)
    assert methods == []
    assert _rows(two) == one_process
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("script.py:3: working in this process, not 2") for m in said), said


@pytest.mark.slow
def test_an_unguarded_script_loads_once_on_macos(tmp_path):
    """The same from a real script (it imports the package: torch, seconds): it runs once."""
    corpus = leaky_corpus(tmp_path)
    script = tmp_path / "script.py"
    script.write_text(
        "import sys\n"
        "from modeling_irish.abc_corpus import load_abc_corpus\n"
        "print('the script runs', file=sys.stderr)\n"
        "sys.platform = 'darwin'  # as on macOS: spawned workers\n"
        f"corpus = load_abc_corpus({str(corpus)!r}, num_proc=2)\n"
        "print(sum(len(split) for split in corpus.values()))\n",
        encoding="utf-8",
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True, text=True, cwd=root, timeout=300, encoding="utf-8",
        env={**os.environ, "PYTHONPATH": root},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) > 0
    assert done.stderr.count("the script runs") == 1
    assert f"{script}:5: working in this process, not 2 worker processes" in done.stderr


def test_a_spawned_worker_imports_the_reader_only():
    """What a spawned worker unpickles and runs (`tokenization.corpus_rows.parse_raw` of a
    `RawTune`, with its notes' digest for the dedupe) imports no torch, transformers or
    datasets: ``import modeling_irish`` takes seconds, the reader a tenth of one."""
    import functools
    import pickle

    from tokenization.corpus_rows import ParseOptions, parse_raw_noting_sound
    from tokenization.raw_tune import RawTune

    options = ParseOptions(named_sources=frozenset({"oneills1850"}))
    raw = RawTune("b.abc", "b", "X:1\nT:Reel\nM:4/4\nL:1/8\nK:G\nGABc dedB|GABc d2B2|\n", 1)
    work = pickle.dumps((functools.partial(parse_raw_noting_sound, options=options), (raw, True)))
    heavy = ("torch", "transformers", "datasets", "modeling_irish")
    code = (
        "import pickle, sys\n"
        "work, raw = pickle.loads(sys.stdin.buffer.read())\n"
        "row = work(raw)[0]\n"
        "print(row['title'], len(row['_sound']))\n"
        f"print([name for name in {heavy!r} if name in sys.modules])\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, "-c", code], input=work, capture_output=True, cwd=root, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.decode().split("\n")[:2] == ["Reel 20", "[]"]
