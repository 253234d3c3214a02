"""MeasureNote under torch.compile: the compiled forward gives the eager logits and loss, and
its graph breaks do not grow (docs/measurenote.md, torch.compile)."""

from __future__ import annotations

import pytest
import torch
from helpers import synthetic_tune, tiny_measurenote_config

from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
from tokenization.tokenization_abc import AbcTokenizer

#: dynamo's graph breaks of a training forward on the CPU (torch 2.13): each GRU, the input
#: value checks, the measure count (a data-dependent shape) and the CPU GRU kernels' in-place
#: writes
MAX_GRAPH_BREAKS = 15
#: where torch keeps its compile caches (conftest sets them for the test session)
_TORCH_CACHE_VARIABLES = ("TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR")


def _model_and_batch() -> tuple[MeasureNoteForCausalLM, dict]:
    """A tiny model and a padded batch of four tunes of different lengths, from its tokenizer."""
    torch.manual_seed(0)
    tunes = [synthetic_tune(i, f"T{i}", i, i, bars=4 + i) for i in range(1, 5)]
    tokenizer = AbcTokenizer.train(tunes)
    config = tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes)
    return MeasureNoteForCausalLM(config), dict(tokenizer(tunes, padding=True, return_tensors="pt"))


@pytest.mark.slow
def test_compiled_forward_gives_the_eager_outputs_and_breaks_no_more_often():
    import torch._dynamo as dynamo

    model, batch = _model_and_batch()
    dynamo.reset()
    explained = dynamo.explain(lambda **b: model.train()(**b).loss)(**batch)
    assert explained.graph_break_count <= MAX_GRAPH_BREAKS, explained.break_reasons
    with torch.no_grad():
        eager = model.eval()(**batch, use_cache=False)
        compiled = torch.compile(model, backend="eager")(**batch, use_cache=False)
    torch.testing.assert_close(compiled.logits, eager.logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(compiled.loss, eager.loss, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_a_run_of_the_compile_test_leaves_no_inductor_cache_in_the_temp_folder(tmp_path):
    """torch made its inductor cache, ``<tmp>/torchinductor_<user>``, and left it there after
    the test run: conftest points it (and triton's) at a session folder it removes."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in _TORCH_CACHE_VARIABLES}
    env["TMPDIR"] = str(temp)
    compiled = test_compiled_forward_gives_the_eager_outputs_and_breaks_no_more_often
    test = f"{Path(__file__).name}::{compiled.__name__}"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "slow", test],
        cwd=Path(__file__).parent,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout
    assert not list(temp.glob("torchinductor_*"))
    assert not list(temp.glob("modeling-irish-tests-*"))  # conftest's folders, removed
