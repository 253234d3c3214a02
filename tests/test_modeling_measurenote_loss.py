"""MeasureNote's padding and loss: a padded batch equals each tune alone, the loss by hand with
-100 ignored, the duration weight, and gradients and optimizer groups that cover every parameter."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from test_modeling_measurenote import (
    ATOL,
    _assert_same_state,
    measurenote_tester,  # noqa: F401 (the tester fixture)
    random_measure_numbers,
)

from modeling_irish.modeling_measurenote import measurenote_loss

# ---------------------------------------------------------------- padding and loss


def _padded_batch(tester, lengths):
    """Tunes of different lengths, right-padded as the collator does."""
    seq = max(lengths)
    ids = tester.random_ids(len(lengths), seq)
    numbers = random_measure_numbers(len(lengths), seq, tester.generator)
    labels = tester.random_labels(len(lengths), seq)
    mask = torch.zeros(len(lengths), seq, dtype=torch.long)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
        ids[b, n:] = 0
        numbers[b, n:] = numbers[b, n - 1]
        labels[b, n:] = -100
    return ids, numbers, mask, labels


def _token_loss_sum(logits, dur_logits, labels):
    """Sum (not mean) of the token losses, computed independently of the model's loss code."""
    main_t, dur_t = labels[:, 1:, 0], labels[:, 1:, 1]
    total = F.cross_entropy(logits[:, :-1].flatten(0, 1), main_t.flatten(), reduction="sum")
    dur = F.cross_entropy(dur_logits[:, :-1].flatten(0, 1), dur_t.flatten(), reduction="sum")
    return total, dur


def test_padded_batch_equals_each_tune_alone(tester):
    lengths = [13, 7, 10, 1]
    ids, numbers, mask, labels = _padded_batch(tester, lengths)
    model = tester.model()
    with torch.no_grad():
        batch_out = model(ids, numbers, attention_mask=mask, labels=labels, use_cache=True)
        main_sum = dur_sum = 0.0
        for b, n in enumerate(lengths):
            alone = model(ids[b : b + 1, :n], numbers[b : b + 1, :n], use_cache=True)
            torch.testing.assert_close(batch_out.logits[b, :n], alone.logits[0], atol=ATOL, rtol=0)
            _assert_same_state(batch_out.state.select(torch.tensor([b])), alone.state)
            m, d = _token_loss_sum(alone.logits, alone.dur_logits, labels[b : b + 1, :n])
            main_sum, dur_sum = main_sum + m, dur_sum + d
    n_main = (labels[:, 1:, 0] != -100).sum()
    n_dur = (labels[:, 1:, 1] != -100).sum()
    assert math.isclose(batch_out.loss_main.item(), (main_sum / n_main).item(), rel_tol=1e-5)
    assert math.isclose(batch_out.loss_dur.item(), (dur_sum / n_dur).item(), rel_tol=1e-5)
    expected = main_sum / n_main + dur_sum / n_dur
    assert math.isclose(batch_out.loss.item(), expected.item(), rel_tol=1e-5)


def test_padded_state_continues_like_unpadded(tester):
    """A state taken from a right-padded batch continues each tune from its own last row."""
    lengths = [9, 4, 6]
    ids, numbers, mask, _ = _padded_batch(tester, lengths)
    more_ids = tester.random_ids(3, 5)
    more_numbers = numbers.gather(1, torch.tensor(lengths).unsqueeze(1) - 1) + torch.tensor(
        [0, 1, 1, 2, 2]
    )
    model = tester.model()
    with torch.no_grad():
        state = model(ids, numbers, attention_mask=mask, use_cache=True).state
        continued = model(more_ids, more_numbers, state=state).logits
        for b, n in enumerate(lengths):
            whole_ids = torch.cat([ids[b, :n], more_ids[b]]).unsqueeze(0)
            whole_numbers = torch.cat([numbers[b, :n], more_numbers[b]]).unsqueeze(0)
            alone = model(whole_ids, whole_numbers).logits[0, n:]
            torch.testing.assert_close(continued[b], alone, atol=ATOL, rtol=0)


def test_loss_matches_hand_computation_and_ignores_minus_100(tester):
    logits = torch.tensor([[[0.0, 1.0, 2.0], [1.0, 0.0, 0.0], [0.0, 0.0, 3.0]]])
    dur_logits = torch.tensor([[[0.0, 0.0, 0.0, 0.0, 2.0], [0.0] * 5, [0.0] * 5]])
    # Row 0's labels are never used (nothing predicts them); row 2's dur is ignored.
    labels = torch.tensor([[[7, 7], [2, 4], [0, -100]]])
    loss, loss_main, loss_dur = measurenote_loss(logits, dur_logits, labels)
    lse = math.log(1 + math.e + math.e**2)
    expected_main = ((lse - 2.0) + (math.log(math.e + 2) - 1.0)) / 2
    expected_dur = math.log(4 + math.e**2) - 2.0
    assert math.isclose(loss_main.item(), expected_main, rel_tol=1e-6)
    assert math.isclose(loss_dur.item(), expected_dur, rel_tol=1e-6)
    assert math.isclose(loss.item(), expected_main + expected_dur, rel_tol=1e-6)
    # An ignored target can hold anything; dur targets that are specials count as ignored.
    for changed in ([[7, 7], [2, 4], [-100, 1]], [[-100, -100], [2, 4], [0, 0]]):
        other = measurenote_loss(logits, dur_logits, torch.tensor([changed]))
        assert math.isclose(other[2].item(), expected_dur, rel_tol=1e-6)
    only_first = measurenote_loss(logits, dur_logits, torch.tensor([[[7, 7], [2, 4], [-100, 0]]]))
    assert math.isclose(only_first[1].item(), lse - 2.0, rel_tol=1e-6)


def test_loss_without_dur_targets_is_zero_not_nan():
    labels = torch.tensor([[[1, -100], [3, -100]]])
    _, _, loss_dur = measurenote_loss(torch.zeros(1, 2, 4), torch.zeros(1, 2, 5), labels)
    assert loss_dur.item() == 0.0


def test_dur_loss_weight(tester):
    _, inputs, labels = tester.prepare_config_and_inputs()
    out = tester.model(dur_loss_weight=0.25)(**inputs, labels=labels)
    assert math.isclose(
        out.loss.item(), out.loss_main.item() + 0.25 * out.loss_dur.item(), rel_tol=1e-6
    )


def test_gradients_reach_every_parameter(tester):
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model().train()
    model(**inputs, labels=labels).loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_optimizer_groups_cover_all_parameters(tester):
    model = tester.model()
    decay, no_decay = model.configure_optimizer_groups(0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    kept = {names[id(p)] for p in no_decay["params"]}
    assert decayed | kept == set(names.values()) and not decayed & kept
    assert "measurenote.note_rnn.weight_hh_l1" in decayed and "main_head.weight" in decayed
    assert "measurenote.embeddings.layers.0.weight" in kept
    assert "measurenote.measure.context_vector" in kept and "dur_head.bias" in kept
    assert not any("bias" in name or "embeddings" in name for name in decayed)
