"""Settings for the whole test session: nothing written outside temporary folders, no network,
reproducible fuzzing in CI, and no accelerate state carried from one test to the next."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest
from hypothesis import settings

# transformers reads HF_MODULES_CACHE when it is imported, which no test module has done yet:
# remote-code loads copy the model code there instead of into ~/.cache/huggingface/modules.
_MODULES_CACHE = tempfile.mkdtemp(prefix="modeling-irish-tests-modules-")
os.environ["HF_MODULES_CACHE"] = _MODULES_CACHE
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# gradio and gradio_client read GRADIO_TEMP_DIR when they are imported (the client's download
# folder) or when a Blocks is made (the server's copies of the files it serves): without it both
# are the shared <tmp>/gradio, which the demo tests filled. Set here, it also reaches the demo
# servers the tests start in fresh processes.
_GRADIO_CACHE = tempfile.mkdtemp(prefix="modeling-irish-tests-gradio-")
os.environ["GRADIO_TEMP_DIR"] = _GRADIO_CACHE
# torch's inductor and triton read their cache folders when torch is imported (an empty
# <tmp>/torchinductor_<user> was made even by a run that compiled nothing) or when they compile:
# without these, a test run left that shared folder behind. Set here, before any test module
# imports torch, they also reach the processes the tests start.
_TORCH_CACHE = tempfile.mkdtemp(prefix="modeling-irish-tests-torch-")
os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(_TORCH_CACHE, "inductor")
os.environ["TRITON_CACHE_DIR"] = os.path.join(_TORCH_CACHE, "triton")

# `HYPOTHESIS_PROFILE=ci` (set by .ci/run): the same examples on every run, so that a red CI run
# is the code's doing and not the draw's; no example database written into the tree.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("dev")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_MODULES_CACHE, ignore_errors=True)
    shutil.rmtree(_GRADIO_CACHE, ignore_errors=True)
    shutil.rmtree(_TORCH_CACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_accelerate_state():
    """accelerate keeps its state in singletons: a test that made one (a training run, a
    `PartialState` for the training script's logger) must not hand it to the next."""
    yield
    state = sys.modules.get("accelerate.state")  # only if some test imported accelerate
    if state is not None:
        state.AcceleratorState._reset_state(reset_partial_state=True)
        state.GradientState._reset_state()


@pytest.fixture(scope="module")
def reels_abc(tmp_path_factory) -> str:
    """The path of a tunebook of 12 reels with distinct bodies and titles
    (``helpers.reels_tunebook``), written once a module."""
    from helpers import reels_tunebook

    path = tmp_path_factory.mktemp("data") / "reels.abc"
    path.write_text(reels_tunebook(), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def tunebook(tmp_path_factory) -> str:
    """The path of the training script's tests' tunebook (``helpers.training_tunebook``), written
    once a session: the smoke, arguments and parts tests share it."""
    from helpers import training_tunebook

    path = tmp_path_factory.mktemp("data") / "tunes.abc"
    path.write_text(training_tunebook(), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> str:
    """The corpus and tokenizer cache of the training script's tests, shared for the session so
    that each parses `tunebook` once (a module may give its own)."""
    return str(tmp_path_factory.mktemp("cache"))
