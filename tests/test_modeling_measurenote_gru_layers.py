"""MeasureNote's GRUs from zero states with their own backward (`gru_from_zeros`,
`gru_layers_from_zeros`: the CPU path of training and scoring for the measure and final GRUs and
the note GRU's upper layers): when they run, and that they give what `nn.GRU` gives (outputs,
every gradient, the dropout masks)."""

from __future__ import annotations

import pytest
import torch
from test_modeling_measurenote import measurenote_tester  # noqa: F401 (the tester fixture)

from modeling_irish import measurenote_layers, modeling_measurenote
from modeling_irish.measurenote_layers import gru_from_zeros, gru_layers_from_zeros

FLOAT32 = {"rtol": 1e-6, "atol": 1e-6}


def _nn_gru_from_zeros(gru, inputs):
    """What the model ran before: `nn.GRU` from zero states."""
    return gru(inputs)[0]


def _nn_note_gru(embeddings, gru, input_ids):
    return gru(embeddings(input_ids))[0]


def _module_calls(model):
    """A list that records every call of the three `nn.GRU` modules, by name."""
    calls = []
    core = model.measurenote
    for name, gru in (("note", core.note_rnn), ("measure", core.measure.rnn)):
        gru.register_forward_hook(lambda *args, name=name: calls.append(name))
    core.final_rnn.register_forward_hook(lambda *args: calls.append("final"))
    return calls


def test_training_and_scoring_run_no_gru_module_and_streaming_runs_them(tester):
    """On the CPU `torch.gru` recorded ~10 autograd nodes a step and a weight-gradient product a
    step: a call with no state in or out skips the `nn.GRU` modules; one with a state runs them."""
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model().train()
    calls = _module_calls(model)
    model(**inputs, labels=labels).loss.backward()
    model.eval()(**inputs, use_cache=False)
    assert calls == []
    state = model(inputs["input_ids"][:, :6], inputs["measure_numbers"][:, :6]).state
    assert calls == ["note", "measure", "final"]
    model(inputs["input_ids"][:, 6:], inputs["measure_numbers"][:, 6:], state=state)
    assert calls == ["note", "measure", "final"] * 2


@pytest.mark.parametrize("layers", [1, 3])
def test_layers_equal_nn_gru_with_the_same_dropout_masks(layers):
    """Outputs and every gradient (inputs, all weights) against `nn.GRU` to float32 rounding,
    training with dropout between layers under one seed."""
    torch.manual_seed(0)
    gru = torch.nn.GRU(5, 6, num_layers=layers, dropout=0.5 if layers > 1 else 0.0).train()
    x = torch.randn(7, 3, 5, requires_grad=True)  # (seq, batch, features)
    grad_out = torch.randn(7, 3, 6)
    torch.manual_seed(1)
    got = gru_layers_from_zeros(gru, x)
    grads = torch.autograd.grad(got, [x, *gru.parameters()], grad_out)
    torch.manual_seed(1)
    expected = gru(x)[0]
    ref_grads = torch.autograd.grad(expected, [x, *gru.parameters()], grad_out)
    torch.testing.assert_close(got, expected, **FLOAT32)
    for grad, ref_grad in zip(grads, ref_grads):
        torch.testing.assert_close(grad, ref_grad, **FLOAT32)


def test_batch_first_and_empty_inputs():
    torch.manual_seed(0)
    gru = torch.nn.GRU(4, 5, num_layers=2, batch_first=True)
    x = torch.randn(3, 8, 4)
    torch.testing.assert_close(gru_from_zeros(gru, x), gru(x)[0], **FLOAT32)
    assert gru_from_zeros(gru, x[:, :0]).shape == (3, 0, 5)
    assert gru_from_zeros(gru, x[:0]).shape == (0, 8, 5)


@pytest.mark.parametrize("train", [False, True])
def test_whole_model_loss_and_gradients_equal_nn_gru(tester, monkeypatch, train):
    """The whole model, every GRU on the new path, against every GRU an `nn.GRU` module: loss,
    logits and every parameter's gradient to 1e-6, on a padded batch, in training with dropout
    in all three GRUs (the same masks under one seed)."""
    _, inputs, labels = tester.prepare_config_and_inputs()
    mask = (torch.arange(13) < torch.tensor([13, 9, 4, 1])[:, None]).long()
    inputs["attention_mask"] = mask
    labels = labels.masked_fill(~mask.bool()[..., None], -100)
    dropout = {f"{part}_dropout": 0.5 for part in ("note", "measure", "final")}
    sizes = {f"{part}_num_layers": 2 for part in ("note", "measure", "final")}
    model = tester.model(**dropout, **sizes).train(train)

    def run():
        model.zero_grad(set_to_none=True)
        torch.manual_seed(0)
        out = model(**inputs, labels=labels, use_cache=False)
        out.loss.backward()
        return out, {name: p.grad.clone() for name, p in model.named_parameters()}

    out, grads = run()
    with monkeypatch.context() as patch:
        patch.setattr(modeling_measurenote, "note_gru_from_ids", _nn_note_gru)
        patch.setattr(modeling_measurenote, "gru_from_zeros", _nn_gru_from_zeros)
        patch.setattr(measurenote_layers, "gru_from_zeros", _nn_gru_from_zeros)
        ref, ref_grads = run()
    for name in ("loss", "logits", "dur_logits"):
        torch.testing.assert_close(getattr(out, name), getattr(ref, name), **FLOAT32)
    for name, grad in grads.items():
        torch.testing.assert_close(
            grad, ref_grads[name], **FLOAT32, msg=lambda m, name=name: f"{name}: {m}"
        )
