"""Tests of what MeasureNote's models and config accept at their edges: all-padding chunks,
arguments of the wrong type, config overrides, float16 losses and states of another dtype."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from helpers import tiny_measurenote_config

from modeling_irish.configuration_measurenote import MeasureNoteConfig
from modeling_irish.configuration_tune_title import (
    TuneTitleConfig,
    TuneTitleTextConfig,
    TuneTitleTuneConfig,
)
from modeling_irish.modeling_measurenote import (
    MeasureNoteForCausalLM,
    MeasureNoteState,
    measurenote_loss,
)


def tiny_model(**overrides) -> MeasureNoteForCausalLM:
    """A seeded tiny MeasureNote LM with two-layer GRUs, in eval mode (state kept)."""
    torch.manual_seed(0)
    config = tiny_measurenote_config(note_num_layers=2, measure_num_layers=2, **overrides)
    return MeasureNoteForCausalLM(config).eval()


def random_rows(config: MeasureNoteConfig, batch: int, seq: int) -> torch.Tensor:
    """`(batch, seq, n_features)` ids inside every feature's vocabulary."""
    generator = torch.Generator().manual_seed(1)
    columns = [
        torch.randint(0, config.vocab_sizes[name], (batch, seq, 1), generator=generator)
        for name in config.feature_names
    ]
    return torch.cat(columns, dim=-1)


def test_an_all_padding_chunk_carries_the_state_through_unchanged():
    """Streaming a right-padded batch in chunks with `state=` reaches chunks of padding only
    (the collator pads to a multiple of 256): they used to fail in `pack_padded_sequence`."""
    model = tiny_model()
    ids = random_rows(model.config, 2, 6)
    numbers = torch.tensor([[0, 0, 1, 1, 1, 2]] * 2)
    with torch.no_grad():
        state = model(ids, numbers, use_cache=True).state
        padding = torch.zeros(2, 4, dtype=torch.long)
        more = numbers[:, -1:].expand(-1, 4)  # padding rows repeat the last measure number
        out = model(ids[:, :4], more, attention_mask=padding, state=state)
    assert out.logits.shape == (2, 4, model.config.main_vocab_size)
    for name, before, after in zip(MeasureNoteState._fields, state, out.state):
        assert torch.equal(before, after), name  # the measure module's accumulators too


#: An argument that is not a tensor (numpy, as ``return_tensors="np"`` gives, or a list), and
#: what the refusal says: each used to fail with a bare AttributeError (no `.bool`, `.shape`).
NOT_TENSORS = {
    "numpy_mask": ("attention_mask", np.ones((2, 3), dtype=np.int64), "got ndarray"),
    "list_mask": ("attention_mask", [[1, 1, 1], [1, 1, 0]], "got list"),
    "numpy_labels": ("labels", np.full((2, 3, 2), 4), "got ndarray"),
    "list_labels": ("labels", [[[4, 4]] * 3] * 2, "got list"),
}


@pytest.mark.parametrize("case", NOT_TENSORS)
def test_a_mask_or_labels_that_is_not_a_tensor_is_refused_by_name(case):
    name, value, got = NOT_TENSORS[case]
    model = tiny_model()
    ids, numbers = random_rows(model.config, 2, 3), torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(TypeError, match=rf"^{name} must be a \(batch, seq.* tensor.*{got}$"):
        model(ids, numbers, **{name: value})


#: An override of `from_pretrained`/`from_dict` that `__init__` refuses, and what is raised:
#: transformers sets overrides after `__init__`, so each used to be taken (and saved).
BAD_OVERRIDES = {
    "heads": ({"measure_num_heads": 5}, ValueError, "divisible by measure_num_heads"),
    "dropout": ({"note_dropout": 5.0}, ValueError, "note_dropout must be in [0, 1)"),
    "use_cache": ({"use_cache": "no"}, TypeError, "use_cache must be true or false"),
}


@pytest.mark.parametrize("case", BAD_OVERRIDES)
@pytest.mark.parametrize("unused", [False, True], ids=["config", "with_unused_kwargs"])
def test_a_bad_config_override_is_refused_when_loaded(tmp_path, case, unused):
    overrides, error, message = BAD_OVERRIDES[case]
    tiny_measurenote_config().save_pretrained(tmp_path)
    with pytest.raises(error, match=re.escape(message)):
        MeasureNoteConfig.from_pretrained(tmp_path, return_unused_kwargs=unused, **overrides)
    with pytest.raises(error, match=re.escape(message)):
        MeasureNoteConfig.from_dict({}, return_unused_kwargs=unused, **overrides)


def test_a_good_config_override_is_still_set_in_either_return_form(tmp_path):
    tiny_measurenote_config().save_pretrained(tmp_path)
    config = MeasureNoteConfig.from_pretrained(tmp_path, measure_num_heads=4)
    assert config.measure_num_heads == 4
    config, unused = MeasureNoteConfig.from_pretrained(
        tmp_path, measure_num_heads=8, other=1, return_unused_kwargs=True
    )
    assert config.measure_num_heads == 8 and unused == {"other": 1}


@pytest.mark.parametrize(
    "cls, overrides, message",
    [
        (TuneTitleConfig, {"loss_type": "bogus"}, "loss_type must be one of"),
        (TuneTitleConfig, {"hinge_margin": 3.0}, "hinge_margin must be from 0 to 2"),
        (TuneTitleTuneConfig, {"dropout": 5.0}, "dropout must be in [0, 1)"),
    ],
)
def test_a_bad_tune_title_config_override_is_refused_too(tmp_path, cls, overrides, message):
    """The tune-title configs share the base whose `from_dict` checks overrides."""
    cls().save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=re.escape(message)):
        cls.from_pretrained(tmp_path, **overrides)
    with pytest.raises(ValueError, match="max_length must be >= 1"):
        TuneTitleTextConfig.from_dict({}, max_length=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_the_loss_of_half_precision_logits_is_the_float32_one(dtype):
    """Uniform scores over 95 main and 18 dur classes: each mean is log(classes). The float16
    sum of ~15,000 targets overflowed to inf before it was divided by their count."""
    logits, dur_logits = (
        torch.zeros(1, 15001, 95, dtype=dtype),
        torch.zeros(1, 15001, 18, dtype=dtype),
    )
    loss, loss_main, loss_dur = measurenote_loss(logits, dur_logits, torch.full((1, 15001, 2), 4))
    assert loss.dtype == torch.float32
    assert math.isclose(loss_main.item(), math.log(95), rel_tol=1e-6)
    assert math.isclose(loss_dur.item(), math.log(18), rel_tol=1e-6)
    assert math.isclose(loss.item(), math.log(95) + math.log(18), rel_tol=1e-6)


def test_a_state_of_another_dtype_is_refused_by_name():
    """A float32 state into a bfloat16 model failed inside the GRU ("mat1 and mat2 must have the
    same dtype"), and a float measure_number in `scatter`: both now name the field."""
    model = tiny_model()
    ids, numbers = random_rows(model.config, 2, 3), torch.zeros(2, 3, dtype=torch.long)
    with torch.no_grad():
        state = model(ids, numbers, use_cache=True).state
        half = tiny_model().to(torch.bfloat16)
        message = r"state\.note_hidden is torch\.float32, this model's parameters are torch\.bf"
        with pytest.raises(ValueError, match=message):
            half(ids, numbers, state=state)
        pool = state._replace(pool_sum=state.pool_sum.double())
        with pytest.raises(ValueError, match=r"state\.pool_sum is torch\.float64"):
            model(ids, numbers, state=pool)
        number = state._replace(measure_number=state.measure_number.float())
        with pytest.raises(ValueError, match=r"state\.measure_number is torch\.float32, it must"):
            model(ids, numbers, state=number)
        own = half(ids, numbers, use_cache=True).state  # a bfloat16 model's own state continues
        assert half(ids, numbers, state=own).logits.dtype == torch.bfloat16


def test_a_float32_state_continues_a_float32_model_under_bfloat16_autocast():
    """Autocast runs some layers in bfloat16 while the parameters (and state) stay float32."""
    model = tiny_model()
    ids, numbers = random_rows(model.config, 2, 3), torch.zeros(2, 3, dtype=torch.long)
    with torch.no_grad():
        state = model(ids, numbers, use_cache=True).state
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(ids, numbers, state=state)
            again = model(ids, numbers, state=out.state)  # the state autocast returned, too
    assert out.logits.dtype == torch.bfloat16 and torch.isfinite(again.logits).all()
