"""`training.allocator.keep_freed_memory` raises glibc's mmap and trim thresholds, and only
there: elsewhere, or when the user's environment tunes malloc, it changes nothing and says so
(False); `training/train.py` calls it on the CPU unless given ``--no_malloc_tuning``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from training import allocator

ROOT = Path(__file__).resolve().parents[1]


class _Mallopt:
    """A stand-in for glibc's ``mallopt``: records its calls, refuses the values in ``refuse``."""

    def __init__(self, refuse: tuple[int, ...] = ()) -> None:
        self.calls: list[tuple[int, int]] = []
        self.refuse = refuse

    def __call__(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 0 if value in self.refuse else 1


def _clean_env() -> dict[str, str]:
    """os.environ without any malloc tuning of the user's."""
    env = {k: v for k, v in os.environ.items() if k not in allocator.MALLOC_ENV}
    env.pop("GLIBC_TUNABLES", None)
    env.pop("LD_PRELOAD", None)
    return env


@pytest.mark.parametrize(
    "tuning",
    [
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"MALLOC_TRIM_THRESHOLD_": "0"},
        {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"},
        {"GLIBC_TUNABLES": "glibc.rtld.nns=2:glibc.malloc.trim_threshold=0"},
        {"LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"},
    ],
)
def test_the_users_malloc_tuning_is_left_alone(monkeypatch, tuning):
    mallopt = _Mallopt()
    monkeypatch.setattr(allocator, "_glibc_mallopt", lambda: mallopt)
    for name in (*allocator.MALLOC_ENV, "GLIBC_TUNABLES", "LD_PRELOAD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in tuning.items():
        monkeypatch.setenv(name, value)
    assert allocator.keep_freed_memory() is False
    assert mallopt.calls == []


def test_an_unrelated_glibc_tunable_does_not_count_as_malloc_tuning():
    assert not allocator.user_tunes_malloc({"GLIBC_TUNABLES": "glibc.rtld.nns=2"})


def test_both_thresholds_are_raised_and_it_says_so(monkeypatch):
    mallopt = _Mallopt()
    monkeypatch.setattr(allocator, "_glibc_mallopt", lambda: mallopt)
    assert allocator.keep_freed_memory({}) is True
    assert mallopt.calls == [
        (allocator.M_MMAP_THRESHOLD, allocator.KEEP_BYTES),
        (allocator.M_TRIM_THRESHOLD, allocator.KEEP_BYTES),
    ]


def test_an_older_glibc_refusing_1_gib_gets_its_largest_mmap_threshold(monkeypatch):
    mallopt = _Mallopt(refuse=(allocator.KEEP_BYTES,))
    monkeypatch.setattr(allocator, "_glibc_mallopt", lambda: mallopt)
    # the mmap threshold falls back to 32 MiB; the trim threshold's refusal is reported
    assert allocator.keep_freed_memory({}) is False
    assert (allocator.M_MMAP_THRESHOLD, allocator.OLD_GLIBC_MMAP_MAX) in mallopt.calls


def test_no_glibc_means_no_change(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert allocator._glibc_mallopt() is None
    assert allocator.keep_freed_memory({}) is False


def _applied_in_a_fresh_process(env: dict[str, str]) -> str:
    code = "from training.allocator import keep_freed_memory; print(keep_freed_memory())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.skipif(allocator._glibc_mallopt() is None, reason="glibc Linux only")
def test_glibc_takes_the_thresholds_unless_the_environment_sets_them():
    env = _clean_env()
    assert _applied_in_a_fresh_process(env) == "True"
    assert _applied_in_a_fresh_process({**env, "MALLOC_MMAP_THRESHOLD_": "131072"}) == "False"


def test_train_py_tunes_malloc_unless_told_not_to_and_does_not_record_it():
    from training.arguments import parse_args
    from training.run_folder import recorded_flags

    assert parse_args([]).malloc_tuning is True  # on by default (a measured gain, BENCHMARKS.md)
    args = parse_args(["--no_malloc_tuning"])
    assert args.malloc_tuning is False
    assert "malloc_tuning" not in recorded_flags(args)  # a resume decides for itself


@pytest.mark.parametrize(
    ("device", "asked", "called"),
    [("cpu", True, True), ("cpu", False, False), ("cuda", True, False)],
)
def test_train_py_tunes_malloc_on_the_cpu_only_when_asked(monkeypatch, device, asked, called):
    from training import train

    calls, lines = [], []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(train, "logger", SimpleNamespace(info=lines.append))  # no accelerate state
    args = argparse.Namespace(malloc_tuning=asked)
    accelerator = SimpleNamespace(device=SimpleNamespace(type=device))
    assert train.tune_malloc(args, accelerator) is called
    assert bool(calls) is called
    assert bool(lines) is called  # the log says when it applied
