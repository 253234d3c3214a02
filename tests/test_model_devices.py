"""A model off the CPU (``pipeline("abc-generation")`` puts it on ``cuda:0`` where there is
one): sampling and scoring feed it on its device and bring what they read back to the CPU.

No GPU is needed for most of these. The sampler's tests run it with torch's default device
set to ``meta``, where a tensor made without a device has no data: any tensor the sampler makes
without naming its device (the CPU, or the model's) breaks the run, as such a tensor broke
it beside a GPU model. They cannot see a tensor made on the CPU, by name, that should have gone
to the model's device; the scoring test can (a stand-in model on ``meta`` says where it was
fed, but scores nothing); the CUDA tests (skipped without a GPU) run the real thing.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from helpers import (  # noqa: F401 (fixtures)
    GENERATION_TUNES,
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

from modeling_irish import lm_evaluation
from modeling_irish.generation import TuneGenerator

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

#: a 6/8 incipit the generation tests' tokenizer knows (the prompt's rows are fed first)
INCIPIT = "X:1\nM:6/8\nL:1/8\nK:G\nGBd gdB|A2c BAG|"


@pytest.mark.parametrize(
    "constrained, prompt",
    [(True, None), (False, None), (True, INCIPIT)],
    ids=["constrained", "unconstrained", "prompt"],
)
def test_sampling_names_the_device_of_every_tensor_it_makes(generator, constrained, prompt):
    """Under ``torch.set_default_device("meta")`` (a stand-in for a device the model is not
    on) the same seed samples the same tunes: the sampler made its measure numbers, masks,
    indices and rows on the default device, which beside a GPU model is where they are not."""
    kwargs = dict(rhythm="jig", key="G", num_bars=4, seed=5, constrained=constrained)
    expected = [t.abc for t in generator.generate(2, prompt=prompt, **kwargs)]
    with torch.device("meta"):
        tunes = generator.generate(2, prompt=prompt, **kwargs)
    assert [t.abc for t in tunes] == expected
    assert all(t.rows.shape[1] == 20 for t in tunes)


@needs_cuda
def test_a_seed_samples_the_same_tunes_on_a_gpu(generator):
    """The draws are made on the CPU, with the CPU generator of the seed, from the scores of
    the model wherever it is; without TF32 the GPU's scores round close enough to the CPU's
    that no draw of these tunes tips."""
    kwargs = dict(rhythm="reel", key="D", num_bars=8, seed=11)
    on_cpu = generator.generate(3, **kwargs)
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = matmul.allow_tf32, cudnn.allow_tf32
    matmul.allow_tf32 = cudnn.allow_tf32 = False
    on_gpu = TuneGenerator(generator.model.to("cuda"), generator.tokenizer)
    try:
        tunes = on_gpu.generate(3, **kwargs)
        continued = on_gpu.generate(1, prompt=INCIPIT, num_bars=4, seed=1)
    finally:
        generator.model.to("cpu")  # the fixture is shared by the module
        matmul.allow_tf32, cudnn.allow_tf32 = saved
    assert [t.abc for t in tunes] == [t.abc for t in on_cpu]
    assert all(t.valid for t in tunes) and continued[0].valid


@needs_cuda
def test_the_pipeline_samples_on_a_gpu(model_dir):
    from transformers import pipeline

    import modeling_irish  # noqa: F401  (registers the task)

    pipe = pipeline("abc-generation", model=model_dir, device=0)
    assert pipe.model.device.type == "cuda"
    out = pipe([None, INCIPIT], rhythm="jig", num_tunes=2, seed=2)
    assert [len(o) for o in out] == [2, 2]
    assert all(tune["valid"] for o in out for tune in o)


class _ModelOnMeta(torch.nn.Module):
    """A stand-in MeasureNote model whose one weight is on ``meta`` (no GPU is needed to be
    off the CPU): it keeps the devices of what it is fed and answers zero scores there."""

    def __init__(self, model) -> None:
        super().__init__()
        self.config = model.config
        self.weight = torch.nn.Parameter(torch.zeros(1, device="meta"))
        self.fed: set[torch.device] = set()

    def forward(self, return_dict: bool = True, **inputs: torch.Tensor) -> SimpleNamespace:
        self.fed.update(tensor.device for tensor in inputs.values())
        batch, rows = inputs["input_ids"].shape[:2]
        sizes = self.config.vocab_sizes
        return SimpleNamespace(
            logits=torch.zeros(batch, rows, sizes["main"], device="meta"),
            dur_logits=torch.zeros(batch, rows, sizes["dur"], device="meta"),
        )


def test_evaluate_lm_feeds_the_model_on_its_device(generator, monkeypatch):
    """Each batch goes to the model's device, the labels too (they meet its scores there), and
    the NLL rows come back to the CPU: the batch stayed on the CPU beside a GPU model."""
    model = _ModelOnMeta(generator.model)
    scored: list[set[torch.device]] = []

    def per_tune_nll(logits, dur_logits, labels, ignored):
        scored.append({logits.device, dur_logits.device, labels.device})
        return torch.ones(len(labels), 6, dtype=torch.float64)  # on the CPU: no data on meta

    monkeypatch.setattr(lm_evaluation, "per_tune_nll", per_tune_nll)
    texts = GENERATION_TUNES[:3]
    result = lm_evaluation.evaluate_lm_on_texts(model, generator.tokenizer, texts, batch_size=2)
    assert model.fed == {torch.device("meta")}
    assert scored == [{torch.device("meta")}] * 2
    assert result["tunes"] == 3


@needs_cuda
def test_evaluate_lm_scores_on_a_gpu_as_on_the_cpu(generator):
    texts = GENERATION_TUNES
    on_cpu = lm_evaluation.evaluate_lm_on_texts(generator.model, generator.tokenizer, texts)
    try:
        model = generator.model.to("cuda")
        on_gpu = lm_evaluation.evaluate_lm_on_texts(model, generator.tokenizer, texts)
    finally:
        generator.model.to("cpu")  # the fixture is shared by the module
    assert on_gpu["tokens"] == on_cpu["tokens"]
    assert on_gpu["nll"] == pytest.approx(on_cpu["nll"], rel=1e-3)


def test_the_pipelines_own_seed_comes_from_the_cpu_generator(model_dir):
    """Without ``seed=`` the pipeline draws one from torch's global CPU generator (the one
    `set_seed` seeds), whatever the default device: it drew it on that device (``meta`` has no
    number to give)."""
    from transformers import pipeline, set_seed

    import modeling_irish  # noqa: F401  (registers the task)

    pipe = pipeline("abc-generation", model=model_dir, device=-1)
    set_seed(4)
    expected = pipe(None, rhythm="jig", key="G", num_bars=4)
    set_seed(4)
    with torch.device("meta"):
        got = pipe(None, rhythm="jig", key="G", num_bars=4)
    assert got == expected
