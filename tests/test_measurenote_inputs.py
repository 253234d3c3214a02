"""Tests of what MeasureNote's models and config accept at their edges: all-padding chunks,
arguments of the wrong type, config overrides, float16 losses and states of another dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import tiny_measurenote_config

from modeling_irish.configuration_measurenote import MeasureNoteConfig
from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM, MeasureNoteState


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
