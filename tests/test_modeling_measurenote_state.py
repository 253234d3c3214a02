"""MeasureNote's causality and carried state: no future leak, the measure context of previous
measures only, a state continued equals the whole sequence, and measure numbers checked."""

from __future__ import annotations

import pytest
import torch
from test_modeling_measurenote import (
    ATOL,
    _assert_same_state,
    measurenote_tester,  # noqa: F401 (the tester fixture)
)

from modeling_irish.modeling_measurenote import MeasureNoteModel

# ---------------------------------------------------------------- causality and state


def _changed_future(tester, input_ids, measure_numbers, k):
    """Copy with every row >= k replaced, and valid measure numbers re-drawn from row k on."""
    ids, numbers = input_ids.clone(), measure_numbers.clone()
    batch, seq, _ = ids.shape
    ids[:, k:] = tester.random_ids(batch, seq - k)
    steps = (torch.rand(batch, seq - k, generator=tester.generator) < 0.6).long()
    numbers[:, k:] = numbers[:, k - 1 : k] + steps.cumsum(1)
    return ids, numbers


@pytest.mark.parametrize("k", [1, 4, 9, 12])
def test_no_future_leak(tester, k):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model()
    ids, numbers = _changed_future(tester, inputs["input_ids"], inputs["measure_numbers"], k)
    assert not torch.equal(numbers, inputs["measure_numbers"])
    with torch.no_grad():
        before = model(**inputs)
        after = model(ids, numbers)
    torch.testing.assert_close(after.logits[:, :k], before.logits[:, :k], rtol=0, atol=ATOL)
    torch.testing.assert_close(after.dur_logits[:, :k], before.dur_logits[:, :k], rtol=0, atol=ATOL)
    assert not torch.allclose(after.logits[:, k:], before.logits[:, k:])


def test_measure_context_uses_only_previous_measures(tester):
    """Rows of measure 0 get a zero context; rows of measure m the GRU after measure m - 1."""
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model(MeasureNoteModel)
    with torch.no_grad():
        out = model(**inputs)
    numbers = inputs["measure_numbers"]
    assert torch.all(out.measure_context[numbers == 0] == 0)
    checked = 0
    for b in range(tester.batch_size):
        rows = numbers[b] == 1
        if rows.any():
            context = out.measure_context[b, rows]
            assert torch.allclose(context, context[:1].expand_as(context))
            assert context.abs().sum() > 0
            checked += 1
    assert checked > 0  # the inputs hold rows of measure 1 to check


def _split_run(model, inputs, cuts):
    """Run `inputs` in chunks ending at `cuts`, carrying the state."""
    state, logits, start = None, [], 0
    for end in [*cuts, inputs["input_ids"].shape[1]]:
        out = model(
            inputs["input_ids"][:, start:end],
            inputs["measure_numbers"][:, start:end],
            state=state,
            use_cache=True,
        )
        logits.append(out.logits)
        state, start = out.state, end
    return torch.cat(logits, dim=1), state


@pytest.mark.parametrize("cuts", [[6], [1], [3, 7, 8], [12]])
def test_state_continuation_equals_whole_sequence(tester, cuts):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model()
    with torch.no_grad():
        whole = model(**inputs, use_cache=True)
        logits, state = _split_run(model, inputs, cuts)
    torch.testing.assert_close(logits, whole.logits, rtol=1e-5, atol=ATOL)
    _assert_same_state(state, whole.state)


def test_state_split_mid_measure_and_at_boundary(tester):
    """Cut inside a measure (accumulators carried) and right at a measure's first row."""
    _, inputs, _ = tester.prepare_config_and_inputs()
    numbers = torch.tensor([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4])
    inputs["measure_numbers"] = numbers.expand(tester.batch_size, -1).clone()
    model = tester.model()
    with torch.no_grad():
        whole = model(**inputs, use_cache=True)
        for cut in (5, 7):  # 5: measure 1 is half done; 7: measure 2 starts the second chunk
            logits, state = _split_run(model, inputs, [cut])
            torch.testing.assert_close(logits, whole.logits, rtol=1e-5, atol=ATOL)
            _assert_same_state(state, whole.state)


def test_one_row_at_a_time_equals_whole_sequence(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model()
    with torch.no_grad():
        whole = model(**inputs, use_cache=True)
        logits, state = _split_run(model, inputs, list(range(1, tester.seq_length)))
    torch.testing.assert_close(logits, whole.logits, rtol=1e-5, atol=ATOL)
    _assert_same_state(state, whole.state)


def test_state_select_repeats_rows(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model()
    with torch.no_grad():
        state = model(**inputs, use_cache=True).state
    chosen = state.select(torch.tensor([2, 2]))
    assert chosen.note_hidden.shape[1] == 2 and torch.equal(chosen.pool_sum[0], state.pool_sum[2])


def test_measure_numbers_below_state_are_rejected(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    inputs["measure_numbers"][:, -1] = inputs["measure_numbers"][:, -2] + 1
    model = tester.model()
    with torch.no_grad():
        state = model(**inputs, use_cache=True).state
        with pytest.raises(ValueError, match="measure_numbers"):
            model(inputs["input_ids"][:, :1], torch.zeros(4, 1, dtype=torch.long), state=state)


def test_measure_numbers_that_start_late_are_rejected(tester):
    """Measure numbers from 1 gave other logits with no error (an empty first measure)."""
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model()
    late = {**inputs, "measure_numbers": inputs["measure_numbers"] + 1}
    with pytest.raises(ValueError, match="measure_numbers must start at 0"):
        model(**late)
    with torch.no_grad():  # a continuation starts at the state's measure, or the next one
        state = model(**{k: v[:, :5] for k, v in inputs.items()}, use_cache=True).state
        start = state.measure_number.view(-1, 1)
        ids = inputs["input_ids"][:, 5:6]
        model(ids, start, state=state)
        model(ids, start + 1, state=state)
        with pytest.raises(ValueError, match="or one more"):
            model(ids, start + 2, state=state)


@pytest.mark.parametrize("change", ["back", "jump"])
def test_measure_numbers_that_go_back_or_jump_are_rejected(tester, change):
    _, inputs, _ = tester.prepare_config_and_inputs()
    numbers = inputs["measure_numbers"]
    numbers[1, 7:] += -1 - numbers[1, 7] + numbers[1, 6] if change == "back" else 2
    with pytest.raises(ValueError, match="step by 0 or \\+1"):
        tester.model()(**inputs)


def test_measure_numbers_of_padding_rows_are_not_checked(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    mask = torch.ones_like(inputs["measure_numbers"])
    mask[0, 9:] = 0
    inputs["measure_numbers"][0, 9:] = 0  # padding may hold anything
    with torch.no_grad():
        out = tester.model()(**inputs, attention_mask=mask)
    assert torch.isfinite(out.logits).all()
