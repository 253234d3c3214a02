"""MeasureNote's note GRU from per-feature lookup tables (`note_gru_from_ids`, the CPU path of
training and scoring): when it runs, and that it gives what `nn.GRU` on the concatenated
embeddings gives (outputs, every gradient, dropout, padding, autocast, the id checks)."""

from __future__ import annotations

import pytest
import torch
from test_modeling_measurenote import measurenote_tester  # noqa: F401 (the tester fixture)

from modeling_irish import modeling_measurenote

TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


def _nn_gru(embeddings, gru, input_ids):
    """What the model ran before the tables: `nn.GRU` on the concatenated embeddings."""
    return gru(embeddings(input_ids))[0]


def _run(model, inputs, labels, seed=0, **kwargs):
    """Forward under `seed` (the dropout draws), backward of the loss: outputs and gradients."""
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    out = model(**inputs, labels=labels, output_hidden_states=True, **kwargs)
    out.loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    return out, grads


def _run_both(monkeypatch, model, inputs, labels, **kwargs):
    """`_run` with the lookup tables, then with `nn.GRU` in their place (same seed)."""
    fast = _run(model, inputs, labels, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(modeling_measurenote, "note_gru_from_ids", _nn_gru)
        reference = _run(model, inputs, labels, **kwargs)
    return fast, reference


def _assert_same(fast, reference):
    (out, grads), (ref, ref_grads) = fast, reference
    for name in ("loss", "logits", "dur_logits", "hidden_states"):
        torch.testing.assert_close(getattr(out, name), getattr(ref, name), **TOLERANCE)
    assert grads.keys() == ref_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(
            grad, ref_grads[name], **TOLERANCE, msg=lambda m, name=name: f"{name}: {m}"
        )


def _note_gru_calls(model):
    """A list that records every call of the note `nn.GRU` module."""
    calls = []
    model.measurenote.note_rnn.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_training_runs_the_note_gru_from_tables_and_generation_runs_nn_gru(tester):
    """The layer-0 input product of `nn.GRU` was ~15% of a CPU training step: training (no state
    in or out) skips the module; a call that takes or returns a state runs it."""
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model().train()
    calls = _note_gru_calls(model)
    model(**inputs, labels=labels).loss.backward()
    model.eval()(**inputs, use_cache=False)
    assert calls == []
    ids, numbers = inputs["input_ids"], inputs["measure_numbers"]
    state = model(ids[:, :6], numbers[:, :6]).state  # eval: use_cache defaults on (sampling)
    model(ids[:, 6:], numbers[:, 6:], state=state, use_cache=False)
    assert len(calls) == 2


@pytest.mark.parametrize("layers", [1, 2])
def test_tables_match_nn_gru_in_eval(tester, monkeypatch, layers):
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model(note_num_layers=layers)
    fast, reference = _run_both(monkeypatch, model, inputs, labels, use_cache=False)
    _assert_same(fast, reference)
    # the tables' path is no copy of the reference: its outputs differ in the last bits
    assert not torch.equal(fast[0].hidden_states[-1], reference[0].hidden_states[-1])


@pytest.mark.parametrize("layers", [1, 2])
def test_tables_match_nn_gru_in_training_with_the_same_dropout_masks(tester, monkeypatch, layers):
    """The dropout between layers is drawn in `nn.GRU`'s `(seq, batch, hidden)` layout, so under
    one seed the masks, and with them the outputs and gradients, are the same."""
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model(note_num_layers=layers, note_dropout=0.5, final_dropout=0.5).train()
    fast, reference = _run_both(monkeypatch, model, inputs, labels)
    _assert_same(fast, reference)
    other_seed = _run(model, inputs, labels, seed=1)[0]
    assert not torch.allclose(fast[0].logits, other_seed.logits)  # the dropout is on


def test_padding_changes_no_real_row(tester, monkeypatch):
    _, inputs, labels = tester.prepare_config_and_inputs()
    lengths = [13, 9, 4, 1]
    mask = (torch.arange(13) < torch.tensor(lengths)[:, None]).long()
    inputs["attention_mask"] = mask
    labels = labels.masked_fill(~mask.bool()[..., None], -100)
    model = tester.model().train()
    fast, reference = _run_both(monkeypatch, model, inputs, labels)
    _assert_same(fast, reference)
    model.eval()
    with torch.no_grad():
        padded = model(**inputs, use_cache=False).logits
        for b, n in enumerate(lengths):
            ids, numbers = (
                inputs["input_ids"][b : b + 1, :n],
                inputs["measure_numbers"][b : b + 1, :n],
            )
            alone = model(ids, numbers, use_cache=False)
            torch.testing.assert_close(padded[b, :n], alone.logits[0], **TOLERANCE)


def test_one_row(tester, monkeypatch):
    """A batch of one row each (no target, so the gradients are those of the logits' sum)."""
    _, inputs, _ = tester.prepare_config_and_inputs()
    inputs = {name: value[:, :1] for name, value in inputs.items()}
    model = tester.model(note_dropout=0.5).train()

    def logits_and_grads():
        model.zero_grad(set_to_none=True)
        torch.manual_seed(0)
        logits = model(**inputs).logits
        logits.sum().backward()
        return logits, [p.grad for p in model.parameters()]

    logits, grads = logits_and_grads()
    with monkeypatch.context() as patch:
        patch.setattr(modeling_measurenote, "note_gru_from_ids", _nn_gru)
        ref_logits, ref_grads = logits_and_grads()
    assert logits.shape == (tester.batch_size, 1, tester.vocab_sizes["main"])
    torch.testing.assert_close(logits, ref_logits, **TOLERANCE)
    for grad, ref_grad in zip(grads, ref_grads):
        torch.testing.assert_close(grad, ref_grad, **TOLERANCE)


def test_int32_ids_are_looked_up_as_long_ones(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model()
    with torch.no_grad():
        long_ids = model(**inputs, use_cache=False).logits
        inputs["input_ids"] = inputs["input_ids"].int()
        torch.testing.assert_close(model(**inputs, use_cache=False).logits, long_ids)


def test_bf16_autocast_runs_the_note_gru_as_nn_gru_does(tester, monkeypatch):
    """Under CPU autocast `nn.GRU` returns float32 (its float32 input is not cast) but computes
    its products in bfloat16; the tables' path does the same with its recurrent products."""
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model().train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fast, reference = _run_both(monkeypatch, model, inputs, labels)
        backbone = model.measurenote.eval()
        note = backbone(**inputs, use_cache=False).note_hidden_states
        ref_note = _nn_gru(backbone.embeddings, backbone.note_rnn, inputs["input_ids"])
    float32_note = backbone(**inputs, use_cache=False).note_hidden_states
    assert torch.isfinite(fast[0].loss) and fast[0].logits.dtype == torch.bfloat16
    assert all(torch.isfinite(grad).all() for grad in fast[1].values())
    assert note.dtype == ref_note.dtype == torch.float32
    bf16_tolerance = {"rtol": 0.0, "atol": 0.02}  # a few bfloat16 roundings of values below 1
    torch.testing.assert_close(note, ref_note, **bf16_tolerance)
    torch.testing.assert_close(fast[0].loss, reference[0].loss, **bf16_tolerance)
    assert not torch.allclose(note, float32_note, rtol=0.0, atol=1e-4)  # bfloat16 products


@pytest.mark.parametrize("bad_id", [-100, -1, 10_000])
def test_ids_outside_the_vocabulary_are_named_in_training(tester, bad_id):
    """The tables are stacked in one: an unchecked id of -1 would read the previous feature's
    last row instead of failing."""
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model().train()
    column = model.config.feature_names.index("octave")
    inputs["input_ids"][2, 5, column] = bad_id
    with pytest.raises(ValueError, match=rf"feature 'octave' has id {bad_id} at \(2, 5\)"):
        model(**inputs, labels=labels)


def test_rows_with_the_wrong_number_of_features_are_refused_in_training(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    with pytest.raises(ValueError, match="19 features per row, the model 20"):
        tester.model().train()(inputs["input_ids"][..., :19], inputs["measure_numbers"])


def test_streaming_with_nn_gru_matches_one_pass_with_tables(tester):
    """Chunks carried by the state (`nn.GRU`) give the logits of one pass over the whole tunes
    without a state (the tables)."""
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model()
    with torch.no_grad():
        whole = model(**inputs, use_cache=False).logits
        first = model(inputs["input_ids"][:, :6], inputs["measure_numbers"][:, :6])
        rest = model(
            inputs["input_ids"][:, 6:], inputs["measure_numbers"][:, 6:], state=first.state
        )
    torch.testing.assert_close(torch.cat([first.logits, rest.logits], dim=1), whole, **TOLERANCE)


def test_upper_note_gru_layers_are_nn_gru():
    """`_upper_gru_layers` calls the undocumented ATen op `torch.gru` with `nn.GRU`'s arguments
    (torch 2.13): layers 1.. of a GRU equal an `nn.GRU` of those layers, dropout included."""
    from modeling_irish.measurenote_layers import _upper_gru_layers

    torch.manual_seed(0)
    gru = torch.nn.GRU(5, 6, num_layers=3, dropout=0.5).train()
    upper = torch.nn.GRU(6, 6, num_layers=2, dropout=0.5).train()
    for layer in (1, 2):
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(upper, f"{kind}_l{layer - 1}").data.copy_(getattr(gru, f"{kind}_l{layer}"))
    layer_0 = torch.randn(7, 3, 6)  # (seq, batch, hidden)
    torch.manual_seed(1)
    got = _upper_gru_layers(gru, layer_0)
    torch.manual_seed(1)
    expected = upper(torch.nn.functional.dropout(layer_0, 0.5, True))[0]
    torch.testing.assert_close(got, expected)


def _layer_0_inputs(seq, batch, hidden, dtype=torch.float32, seed=0):
    """An `nn.GRU` of one layer and inputs `(seq, batch, 3)` for it, both requiring gradients."""
    torch.manual_seed(seed)
    gru = torch.nn.GRU(3, hidden).to(dtype)
    return gru, torch.randn(seq, batch, 3, dtype=dtype, requires_grad=True)


def _layer_0(gru, x):
    """`_gru_layer` (layer 0 of the tables' path) on the input gates of `gru` for `x`."""
    from modeling_irish.measurenote_layers import _gru_layer

    gates = torch.nn.functional.linear(x, gru.weight_ih_l0, gru.bias_ih_l0)
    return _gru_layer(gates, gru.weight_hh_l0, gru.bias_hh_l0)


def test_layer_0_runs_as_one_autograd_node_and_the_same_forward_without_gradients():
    """Autograd on the step loop recorded ~10 nodes a step (~60% of a CPU training step of
    `small`): with gradients layer 0 is one node with its own backward; without them it runs the
    same forward, so a model gives the same bits with and without gradients; under autocast
    (whose casts that node would skip) it is the step loop."""
    gru, x = _layer_0_inputs(4, 2, 5)
    with_grad = _layer_0(gru, x)
    assert type(with_grad.grad_fn).__name__ == "_GRULayerFunctionBackward"
    with torch.no_grad():
        without = _layer_0(gru, x)
    assert without.grad_fn is None and torch.equal(without, with_grad.detach())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert type(_layer_0(gru, x).grad_fn).__name__ == "StackBackward0"


def test_layer_0_backward_passes_gradcheck():
    from modeling_irish.measurenote_layers import _GRULayerFunction

    torch.manual_seed(0)
    gates = torch.randn(5, 3, 12, dtype=torch.float64, requires_grad=True)
    w_hh = torch.randn(12, 4, dtype=torch.float64, requires_grad=True)
    b_hh = torch.randn(12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_GRULayerFunction.apply, (gates, w_hh, b_hh))
    # only some inputs needing a gradient (a frozen recurrent weight)
    assert torch.autograd.gradcheck(_GRULayerFunction.apply, (gates, w_hh.detach(), b_hh))


@pytest.mark.parametrize("seq", [1, 2, 9])
def test_layer_0_outputs_and_gradients_are_nn_gru(seq):
    """Against `nn.GRU` itself, every gradient to float32 rounding (1e-6, not the 1e-5 of the
    whole model), for a state carried over several steps, one step and two."""
    gru, x = _layer_0_inputs(seq, 3, 6)
    grad_out = torch.randn(seq, 3, 6)
    inputs = [x, *gru.parameters()]
    got = _layer_0(gru, x)
    grads = torch.autograd.grad(got, inputs, grad_out)
    expected = gru(x)[0]
    ref_grads = torch.autograd.grad(expected, inputs, grad_out)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)
    for grad, ref_grad in zip(grads, ref_grads):
        torch.testing.assert_close(grad, ref_grad, rtol=1e-6, atol=1e-6)


def test_layer_0_of_no_steps_is_empty_with_zero_gradients():
    gru, x = _layer_0_inputs(0, 3, 6)
    out = _layer_0(gru, x)
    assert out.shape == (0, 3, 6)
    out.sum().backward()
    assert not gru.weight_hh_l0.grad.any() and not gru.bias_hh_l0.grad.any()
    with torch.no_grad():
        assert _layer_0(gru, x).shape == (0, 3, 6)


@pytest.mark.parametrize("layers", [1, 2])
def test_training_gradients_are_nn_gru_to_float32_rounding(tester, monkeypatch, layers):
    """The whole model's loss and every parameter's gradient with layer 0's own backward against
    `nn.GRU`, to 1e-6, in a padded batch (whose padding rows run through the recurrence too)."""
    _, inputs, labels = tester.prepare_config_and_inputs()
    mask = (torch.arange(13) < torch.tensor([13, 9, 4, 1])[:, None]).long()
    inputs["attention_mask"] = mask
    labels = labels.masked_fill(~mask.bool()[..., None], -100)
    model = tester.model(note_num_layers=layers).train()
    (out, grads), (ref, ref_grads) = _run_both(monkeypatch, model, inputs, labels)
    torch.testing.assert_close(out.loss, ref.loss, rtol=1e-6, atol=1e-6)
    for name, grad in grads.items():
        torch.testing.assert_close(
            grad, ref_grads[name], rtol=1e-6, atol=1e-6, msg=lambda m, name=name: f"{name}: {m}"
        )
