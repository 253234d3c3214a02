"""Tests of MeasureNoteConfig, MeasureNoteModel and MeasureNoteForCausalLM (tiny, CPU, offline)."""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F

from modeling_irish.configuration_measurenote import (
    MEASURENOTE_FEATURE_NAMES,
    REFERENCE_VOCAB_SIZES,
    MeasureNoteConfig,
)
from modeling_irish.modeling_measurenote import (
    MeasureNoteCausalLMOutput,
    MeasureNoteForCausalLM,
    MeasureNoteModel,
    MeasureNoteState,
    measurenote_loss,
)

ATOL = 1e-5


def random_measure_numbers(batch: int, seq: int, generator: torch.Generator) -> torch.Tensor:
    """Valid measure numbers: start at 0, steps of 0 or +1 (about one new measure in three)."""
    steps = (torch.rand(batch, seq, generator=generator) < 0.35).long()
    steps[:, 0] = 0
    return steps.cumsum(1)


class MeasureNoteModelTester:
    """Builds a tiny config and random valid inputs (the transformers tester pattern)."""

    def __init__(self, batch_size: int = 4, seq_length: int = 13, seed: int = 0):
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.generator = torch.Generator().manual_seed(seed)
        self.vocab_sizes = {
            name: 9 + (i * 5) % 12 for i, name in enumerate(MEASURENOTE_FEATURE_NAMES)
        }

    def get_config(self, **overrides) -> MeasureNoteConfig:
        values = dict(
            vocab_sizes=self.vocab_sizes,
            embedding_size=32,
            note_hidden_size=32,
            note_num_layers=2,
            measure_hidden_size=24,
            measure_num_layers=2,
            measure_num_heads=4,
            final_hidden_size=32,
            final_num_layers=2,
        )
        values.update(overrides)
        return MeasureNoteConfig(**values)

    def random_ids(self, batch: int, seq: int) -> torch.Tensor:
        columns = [
            torch.randint(0, size, (batch, seq, 1), generator=self.generator)
            for size in self.vocab_sizes.values()
        ]
        return torch.cat(columns, dim=-1)

    def random_labels(self, batch: int, seq: int) -> torch.Tensor:
        main = torch.randint(0, self.vocab_sizes["main"], (batch, seq), generator=self.generator)
        dur = torch.randint(3, self.vocab_sizes["dur"], (batch, seq), generator=self.generator)
        dur = dur.masked_fill(torch.rand(batch, seq, generator=self.generator) < 0.3, -100)
        return torch.stack([main, dur], dim=-1)

    def prepare_config_and_inputs(self):
        batch, seq = self.batch_size, self.seq_length
        inputs = {
            "input_ids": self.random_ids(batch, seq),
            "measure_numbers": random_measure_numbers(batch, seq, self.generator),
        }
        return self.get_config(), inputs, self.random_labels(batch, seq)

    def model(self, cls=MeasureNoteForCausalLM, **overrides):
        torch.manual_seed(0)
        return cls(self.get_config(**overrides)).eval()

    def create_and_check_model(self, config, inputs):
        model = MeasureNoteModel(config).eval()
        out = model(**inputs, use_cache=True)
        batch, seq = self.batch_size, self.seq_length
        assert out.last_hidden_state.shape == (batch, seq, config.final_hidden_size)
        assert out.note_hidden_states.shape == (batch, seq, config.note_hidden_size)
        assert out.measure_context.shape == (batch, seq, config.measure_hidden_size)
        state = out.state
        assert state.note_hidden.shape == (2, batch, 32)
        assert state.measure_hidden.shape == (2, batch, 24)
        assert state.pool_max.shape == state.pool_denom.shape == (batch, 4)
        assert state.pool_sum.shape == (batch, 32)
        assert torch.equal(state.measure_number, inputs["measure_numbers"][:, -1])

    def create_and_check_causal_lm(self, config, inputs, labels):
        model = MeasureNoteForCausalLM(config).eval()
        out = model(**inputs, labels=labels)
        batch, seq = self.batch_size, self.seq_length
        assert isinstance(out, MeasureNoteCausalLMOutput)
        assert out.logits.shape == (batch, seq, self.vocab_sizes["main"])
        assert out.dur_logits.shape == (batch, seq, self.vocab_sizes["dur"])
        assert out.hidden_states.shape == (batch, seq, config.final_hidden_size)
        assert out.loss.shape == ()
        assert torch.isfinite(out.loss)
        assert out.loss_main.shape == out.loss_dur.shape == ()


@pytest.fixture
def tester() -> MeasureNoteModelTester:
    return MeasureNoteModelTester()


def test_model_shapes(tester):
    config, inputs, _ = tester.prepare_config_and_inputs()
    tester.create_and_check_model(config, inputs)


def test_causal_lm_shapes(tester):
    tester.create_and_check_causal_lm(*tester.prepare_config_and_inputs())


def test_use_cache_defaults_off_in_training(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model().train()
    assert model(**inputs).state is None
    assert model.eval()(**inputs).state is not None


# ---------------------------------------------------------------- config


def test_config_embedding_widths_follow_reference_ratios():
    config = MeasureNoteConfig.from_preset("base")
    assert config.total_embedding_size == 2624
    assert config.embedding_sizes["main"] == 384 and config.embedding_sizes["is_triple"] == 64
    assert config.vocab_sizes == REFERENCE_VOCAB_SIZES
    small = MeasureNoteConfig.from_preset("small", note_dropout=0.0)
    assert small.total_embedding_size == 656 and small.note_dropout == 0.0


def test_config_explicit_embedding_sizes_win(tester):
    sizes = dict.fromkeys(MEASURENOTE_FEATURE_NAMES, 3)
    config = MeasureNoteConfig(vocab_sizes=tester.vocab_sizes, embedding_sizes=sizes)
    assert config.total_embedding_size == 60


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"note_hidden_size": 30, "measure_num_heads": 8}, "divisible"),
        ({"vocab_sizes": {"main": 5}}, "vocab_sizes has no entry"),
        ({"embedding_size": 4}, "width 0"),
        ({"final_num_layers": 0}, "final_hidden_size"),
        ({"note_dropout": 1.0}, "note_dropout"),
        ({"feature_names": ["main", "main", "dur"]}, "duplicates"),
        ({"feature_names": ["main"], "embedding_sizes": {"main": 2}}, "'dur'"),
        ({"dur_loss_weight": -1.0}, "dur_loss_weight"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MeasureNoteConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"measure_num_heads": 4.0}, "measure_num_heads must be a whole number, got 4.0"),
        ({"note_hidden_size": None}, "note_hidden_size must be a whole number, got None"),
        ({"note_num_layers": True}, "note_num_layers must be a whole number, got True"),
        ({"embedding_size": 128.0}, "embedding_size must be a whole number"),
        ({"final_dropout": "0.1"}, "final_dropout must be a real number, got '0.1'"),
        ({"feature_names": "main"}, "feature_names must be a list, got 'main'"),
        ({"vocab_sizes": {"main": 88.0, "dur": 5}}, r"vocab_sizes\['main'\] must be a whole"),
        ({"embedding_sizes": {"main": "4", "dur": 4}}, r"embedding_sizes\['main'\] must be"),
        ({"use_cache": "maybe"}, "use_cache must be true or false"),
    ],
)
def test_config_refuses_wrong_types_by_name(kwargs, message):
    with pytest.raises(TypeError, match=message):
        MeasureNoteConfig(**kwargs)


def test_save_pretrained_with_push_to_hub_saves_before_it_uploads(tester, tmp_path, monkeypatch):
    """transformers' save_pretrained(push_to_hub=True) creates the Hub repository before it
    writes anything: with no network the folder was left empty."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # every Hub request fails
    lm, backbone = tester.model(), MeasureNoteModel(tester.get_config())
    for model, folder in ((lm, tmp_path / "lm"), (backbone, tmp_path / "backbone")):
        with pytest.raises(OSError, match="offline"):
            model.save_pretrained(folder, push_to_hub=True, commit_message="m")
        assert {"config.json", "model.safetensors"} <= {p.name for p in folder.iterdir()}
    pushed = []

    def push(repo_id, **kwargs):
        pushed.append((repo_id, kwargs, (tmp_path / "hub" / "model.safetensors").is_file()))

    monkeypatch.setattr(lm, "push_to_hub", push)
    lm.save_pretrained(tmp_path / "hub", push_to_hub=True, commit_message="m", token="t")
    lm.save_pretrained(tmp_path / "hub", True, None, True, repo_id="me/lm")  # by position
    lm.save_pretrained(tmp_path / "hub", is_main_process=False, push_to_hub=True)
    assert pushed == [("hub", {"commit_message": "m", "token": "t"}, True), ("me/lm", {}, True)]
    assert MeasureNoteForCausalLM.from_pretrained(tmp_path / "hub").config.to_dict()


def test_a_saved_config_of_the_wrong_types_is_refused_by_name(tester, tmp_path):
    import json

    tester.model().save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    saved["measure_num_heads"] = 4.0  # a hand-edited config.json: torch said "empty() ..."
    (tmp_path / "config.json").write_text(json.dumps(saved))
    with pytest.raises(TypeError, match="measure_num_heads must be a whole number"):
        MeasureNoteForCausalLM.from_pretrained(tmp_path)
    config = tester.get_config()
    config.final_dropout = "0.1"  # set after the config was made: checked when the model is
    with pytest.raises(TypeError, match="final_dropout must be a real number"):
        MeasureNoteForCausalLM(config)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"pad_token_id": None}, TypeError, "pad_token_id must be one whole number.*got None"),
        ({"eos_token_id": [2, 3]}, TypeError, r"eos_token_id must be one whole .*got \[2, 3\]"),
        ({"bos_token_id": True}, TypeError, "bos_token_id must be one whole number"),
        ({"pad_token_id": -1}, ValueError, r"pad_token_id must be an id .* \[0, 9\), got -1"),
        ({"eos_token_id": 9}, ValueError, r"eos_token_id must be an id .* \[0, 9\), got 9"),
    ],
)
def test_special_ids_that_the_loss_cannot_use_are_refused(tester, tmp_path, kwargs, error, message):
    """pad_token_id=None or a list eos_token_id failed inside the loss (a TypeError in
    masked_fill); a special id is the tokenizer's, which the loss leaves out of dur targets."""
    with pytest.raises(error, match=message):
        tester.get_config(**kwargs)
    tester.model().save_pretrained(tmp_path)
    with pytest.raises(error, match=message):  # set after the config was made
        MeasureNoteForCausalLM.from_pretrained(tmp_path, **kwargs)


def test_config_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset"):
        MeasureNoteConfig.from_preset("huge")


def test_config_round_trip(tmp_path, tester):
    config = tester.get_config(dur_loss_weight=0.5)
    config.save_pretrained(tmp_path)
    loaded = MeasureNoteConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()
    assert (loaded.pad_token_id, loaded.bos_token_id, loaded.eos_token_id) == (0, 1, 2)


def test_a_new_embedding_size_resizes_every_feature(tmp_path, tester):
    config = tester.get_config()
    config.save_pretrained(tmp_path)
    loaded = MeasureNoteConfig.from_pretrained(tmp_path, embedding_size=64)
    assert loaded.embedding_sizes == MeasureNoteConfig(embedding_size=64).embedding_sizes
    assert MeasureNoteConfig.from_pretrained(tmp_path).embedding_sizes == config.embedding_sizes


def test_new_embedding_ratios_resize_every_feature_in_either_order(tmp_path, tester):
    """`from_pretrained(path, embedding_ratios=...)` kept the saved sizes (only a new
    embedding_size resized them)."""
    tester.get_config().save_pretrained(tmp_path)
    ratios = dict.fromkeys(MEASURENOTE_FEATURE_NAMES, 0.25)
    loaded = MeasureNoteConfig.from_pretrained(tmp_path, embedding_ratios=ratios)
    assert set(loaded.embedding_sizes.values()) == {8}  # 32 * 0.25
    for kwargs in (
        {"embedding_ratios": ratios, "embedding_size": 64},
        {"embedding_size": 64, "embedding_ratios": ratios},
    ):
        assert set(
            MeasureNoteConfig.from_pretrained(tmp_path, **kwargs).embedding_sizes.values()
        ) == {16}


def test_explicit_embedding_sizes_win_in_any_order(tmp_path, tester):
    """A new embedding_size overwrote explicit sizes, contrary to the docstring."""
    explicit = dict.fromkeys(MEASURENOTE_FEATURE_NAMES, 5)
    config = tester.get_config(embedding_sizes=explicit)
    config.embedding_size = 64
    config.embedding_ratios = dict.fromkeys(MEASURENOTE_FEATURE_NAMES, 0.5)
    assert config.embedding_sizes == explicit
    config.save_pretrained(tmp_path / "explicit")
    loaded = MeasureNoteConfig.from_pretrained(tmp_path / "explicit", embedding_size=64)
    assert loaded.embedding_sizes == explicit
    tester.get_config().save_pretrained(tmp_path / "derived")
    saved = tester.get_config().embedding_sizes
    for sizes in (explicit, saved):  # the saved sizes, given explicitly, win too
        for kwargs in (
            {"embedding_sizes": sizes, "embedding_size": 64},
            {"embedding_size": 64, "embedding_sizes": sizes},
        ):
            loaded = MeasureNoteConfig.from_pretrained(tmp_path / "derived", **kwargs)
            assert loaded.embedding_sizes == sizes and loaded.embedding_size == 64, kwargs
    for names in (("embedding_sizes", "embedding_size"), ("embedding_size", "embedding_sizes")):
        config = tester.get_config()
        for name in names:
            setattr(config, name, {"embedding_sizes": explicit, "embedding_size": 64}[name])
        assert config.embedding_sizes == explicit, names


def test_attributes_set_after_the_config_are_checked_when_the_model_is_built(tester):
    config = tester.get_config()
    config.measure_num_heads = 5
    with pytest.raises(ValueError, match="divisible by measure_num_heads"):
        MeasureNoteForCausalLM(config)


def test_a_misspelled_argument_is_an_error_not_a_silent_no_loss(tester):
    config, inputs, labels = tester.prepare_config_and_inputs()
    model = MeasureNoteForCausalLM(config).eval()
    with pytest.raises(TypeError, match="label"):
        model(**inputs, label=labels)
    with pytest.raises(TypeError, match="unexpected keyword argument 'labels'"):
        model.measurenote(**inputs, labels=labels)  # the backbone has no head: no loss


def test_return_dict_false_gives_tuples(tester):
    config, inputs, labels = tester.prepare_config_and_inputs()
    model = MeasureNoteForCausalLM(config).eval()
    as_dict = model(**inputs, labels=labels)
    as_tuple = model(**inputs, labels=labels, return_dict=False)
    assert isinstance(as_tuple, tuple)
    assert torch.equal(as_tuple[0], as_dict.loss) and torch.equal(as_tuple[3], as_dict.logits)
    backbone = model.measurenote(**inputs, return_dict=False)
    assert isinstance(backbone, tuple) and backbone[0].shape == as_dict.hidden_states.shape


def test_base_preset_parameter_count():
    """The reference's MeasureNote with its shipped vocabulary has 18,651,249 parameters."""
    with torch.device("meta"):  # shapes only: skips 27 slow QR decompositions of the init
        model = MeasureNoteForCausalLM(MeasureNoteConfig.from_preset("base"))
    # embeddings 116,224 + note GRU 7,971,840 + measure GRU 4,727,808 + attention 263,168
    # + final GRU 5,514,240 + heads 57,969 (see reference-measurenote.md section 4.9)
    assert sum(p.numel() for p in model.parameters()) == 18_651_249


def test_small_preset_parameter_count():
    with torch.device("meta"):
        model = MeasureNoteForCausalLM(MeasureNoteConfig.from_preset("small"))
    assert 1_500_000 <= sum(p.numel() for p in model.parameters()) <= 2_500_000


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


def _assert_same_state(a: MeasureNoteState, b: MeasureNoteState):
    for name, x, y in zip(a._fields, a, b):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=ATOL, msg=name)


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


@pytest.mark.parametrize("seq", [5, 0])
def test_an_empty_batch_gives_empty_outputs(tester, seq):
    model = tester.model()
    ids, numbers = tester.random_ids(0, seq), torch.zeros(0, seq, dtype=torch.long)
    labels = torch.zeros(0, seq, 2, dtype=torch.long)
    with torch.no_grad():
        out = model(ids, numbers, labels=labels, use_cache=True)
    assert out.logits.shape == (0, seq, tester.vocab_sizes["main"])
    assert out.dur_logits.shape == (0, seq, tester.vocab_sizes["dur"])
    assert out.loss == 0  # no targets: 0, as for a batch without targets of one kind
    assert out.state.note_hidden.shape == (2, 0, 32) and out.state.measure_hidden.shape == (
        2,
        0,
        24,
    )
    assert out.state.pool_sum.shape == (0, 32) and out.state.measure_number.shape == (0,)


def test_left_padding_is_refused(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    mask = torch.ones_like(inputs["measure_numbers"])
    mask[1, :3] = 0
    with pytest.raises(ValueError, match="padding on the right"):
        tester.model()(**inputs, attention_mask=mask)


@pytest.mark.parametrize("shape", ["input_ids", "2d", "three"])
def test_labels_of_the_wrong_shape_are_refused(tester, shape):
    _, inputs, labels = tester.prepare_config_and_inputs()
    wrong = {
        "input_ids": inputs["input_ids"],  # the causal-LM habit, labels=input_ids
        "2d": labels[..., 0],
        "three": torch.cat([labels, labels[..., :1]], dim=-1),
    }[shape]
    with pytest.raises(ValueError, match=r"labels must be \(batch, seq, 2\)"):
        tester.model()(**inputs, labels=wrong)


@pytest.mark.parametrize(
    "feature, value, message",
    [
        (0, 500, r"labels of 'main' hold 500 at \(3, 7\) \(batch, row\), .* \[0, 9\)"),
        (0, -5, r"labels of 'main' hold -5 at \(3, 7\)"),
        (1, 14, r"labels of 'dur' hold 14 at \(3, 7\) \(batch, row\), .* \[0, 14\)"),
        (1, -1, r"labels of 'dur' hold -1 at \(3, 7\)"),
    ],
)
def test_labels_outside_the_vocabulary_are_named(tester, feature, value, message):
    """torch said only 'IndexError: Target 500 is out of bounds'."""
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model()
    labels[0, 2] = -100  # -100 (ignored) stays accepted
    labels[3, 7, feature] = value
    with pytest.raises(ValueError, match=message):
        model(**inputs, labels=labels)
    with pytest.raises(TypeError, match="labels must hold integer ids"):
        model(**inputs, labels=labels.float())


def test_int32_labels_give_the_loss_of_long_ones(tester):
    # the check accepted int32 labels (as for input_ids), then torch's cross-entropy refused them
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model().eval()
    with torch.no_grad():
        assert torch.equal(
            model(**inputs, labels=labels.int()).loss, model(**inputs, labels=labels).loss
        )


@pytest.mark.parametrize("cls", [MeasureNoteModel, MeasureNoteForCausalLM])
def test_output_hidden_states_is_accepted_and_output_attentions_refused(tester, cls):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model(cls)
    with torch.no_grad():
        plain = model(**inputs)
        shown = model(**inputs, output_hidden_states=True, output_attentions=False)
    for name, value in plain.items():
        if torch.is_tensor(value):
            assert torch.equal(value, shown[name]), name
    with pytest.raises(ValueError, match="returns no attention weights"):
        model(**inputs, output_attentions=True)


def test_resizing_embeddings_says_why_not(tester):
    with pytest.raises(NotImplementedError, match="one embedding table per feature"):
        tester.model().resize_token_embeddings(100)


def test_trainer_predictions_are_the_two_logits(tester, tmp_path):
    from datasets import Dataset
    from transformers import Trainer, TrainingArguments

    _, inputs, labels = tester.prepare_config_and_inputs()
    rows = [
        {"input_ids": inputs["input_ids"][i], "measure_numbers": inputs["measure_numbers"][i],
         "labels": labels[i]}
        for i in range(tester.batch_size)
    ]  # fmt: skip
    args = TrainingArguments(
        output_dir=str(tmp_path), per_device_eval_batch_size=2, report_to=[], use_cpu=True
    )
    trainer = Trainer(model=tester.model(), args=args)
    predictions = trainer.predict(Dataset.from_list(rows).with_format("torch")).predictions
    assert isinstance(predictions, tuple) and len(predictions) == 2
    assert predictions[0].shape == (
        tester.batch_size,
        tester.seq_length,
        tester.vocab_sizes["main"],
    )
    assert predictions[1].shape == (tester.batch_size, tester.seq_length, tester.vocab_sizes["dur"])


@pytest.mark.parametrize("bad_id", [-100, 10_000])
def test_ids_outside_the_vocabulary_are_named(tester, bad_id):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model()
    column = model.config.feature_names.index("octave")
    inputs["input_ids"][2, 5, column] = bad_id
    with pytest.raises(ValueError, match=rf"feature 'octave' has id {bad_id} at \(2, 5\)"):
        model(**inputs)


def test_rows_with_the_wrong_number_of_features_are_refused(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    with pytest.raises(ValueError, match="19 features per row, the model 20"):
        tester.model()(inputs["input_ids"][..., :19], inputs["measure_numbers"])


@pytest.mark.parametrize(
    "mask",
    [
        torch.tensor([[1] * 10 + [0] * 3]),  # one tune's mask: was applied to all four
        torch.ones(5, 13, dtype=torch.long),  # all ones, wrong batch: was ignored
        torch.ones(4, 13, 20, dtype=torch.long),  # one flag per feature: was ignored
        torch.ones(4, 12, dtype=torch.long),  # too short / too long: a bare torch size error
        torch.ones(4, 14, dtype=torch.long),
    ],
    ids=["one_tune", "wrong_batch", "per_feature", "short", "long"],
)
def test_an_attention_mask_of_another_shape_is_refused_not_broadcast(tester, mask):
    _, inputs, _ = tester.prepare_config_and_inputs()
    message = re.escape(f"expected (4, 13), got {tuple(mask.shape)}")
    with pytest.raises(ValueError, match=r"attention_mask must be \(batch, seq\).*" + message):
        tester.model()(**inputs, attention_mask=mask)


#: A wrong (input_ids, measure_numbers) pair made from the tester's (4, 13, 20) / (4, 13) ones,
#: and what is raised: each used to fail inside torch with a message that named neither.
WRONG_INPUTS = {
    "short": (lambda i, m: (i, m[:, :-1]), ValueError, "expected (4, 13), got (4, 12)"),
    "batch": (lambda i, m: (i, m[:3]), ValueError, "expected (4, 13), got (3, 13)"),
    "rank": (lambda i, m: (i, m[0]), ValueError, "expected (4, 13), got (13,)"),
    "none": (lambda i, m: (i, None), TypeError, "tokenizer's 'measure_numbers'), got NoneType"),
    "float": (lambda i, m: (i, m.float()), TypeError, "must hold integers (torch.long), got"),
    "unbatched": (lambda i, m: (i[0], m[0]), ValueError, "(13, 20) (a batch of 1 is input_ids"),
    "one_id_per_row": (lambda i, m: (i[..., 0], m), ValueError, "(4, 13) (the tokenizer's"),
    "float_ids": (lambda i, m: (i.float(), m), TypeError, "input_ids must hold integer ids"),
}


@pytest.mark.parametrize("case", WRONG_INPUTS)
def test_inputs_of_the_wrong_shape_or_dtype_are_named(tester, case):
    change, error, message = WRONG_INPUTS[case]
    _, inputs, _ = tester.prepare_config_and_inputs()
    input_ids, measure_numbers = change(inputs["input_ids"], inputs["measure_numbers"])
    with pytest.raises(error, match=re.escape(message)):
        tester.model()(input_ids, measure_numbers)


def test_a_state_of_another_batch_or_model_or_type_is_refused(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model()
    state = model(**inputs, use_cache=True).state
    inputs["measure_numbers"] = state.measure_number[:, None].expand(-1, 13)  # continues it
    first = {name: value[:1] for name, value in inputs.items()}
    with pytest.raises(ValueError, match=r"note_hidden is \(2, 4, 32\), .* need \(2, 1, 32\)"):
        model(**first, state=state)
    other = tester.model(note_num_layers=3)
    with pytest.raises(ValueError, match=r"note_hidden is \(2, 4, 32\), .* need \(3, 4, 32\)"):
        other(**inputs, state=state)
    with pytest.raises(TypeError, match="state must be the MeasureNoteState .* got tuple"):
        model(**inputs, state=tuple(state))
    assert model(**inputs, state=MeasureNoteState(*tuple(state))).logits.shape[:2] == (4, 13)


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


# ---------------------------------------------------------------- init and serialisation


def test_init_gru_orthogonal_xavier_zero_bias(tester):
    model = tester.model()
    gru = model.measurenote.note_rnn
    hidden = gru.hidden_size
    for layer in range(gru.num_layers):
        w_hh = getattr(gru, f"weight_hh_l{layer}").detach()
        for gate in w_hh.chunk(3):
            torch.testing.assert_close(gate @ gate.T, torch.eye(hidden), atol=1e-5, rtol=0)
        w_ih = getattr(gru, f"weight_ih_l{layer}").detach()
        bound = math.sqrt(6.0 / (w_ih.shape[1] + hidden))
        assert w_ih.abs().max() <= bound
        assert w_ih.std() > 0.8 * bound / math.sqrt(3)  # uniform(-b, b) has std b / sqrt(3)
        assert torch.all(getattr(gru, f"bias_ih_l{layer}") == 0)
        assert torch.all(getattr(gru, f"bias_hh_l{layer}") == 0)
    context = model.measurenote.measure.context_vector
    assert context.abs().max() <= 1.0 and context.std() > 0.3
    assert torch.all(model.main_head.bias == 0) and model.main_head.weight.std() < 0.03


def test_save_and_load_pretrained(tmp_path, tester):
    _, inputs, labels = tester.prepare_config_and_inputs()
    model = tester.model()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    loaded = MeasureNoteForCausalLM.from_pretrained(tmp_path).eval()
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    with torch.no_grad():
        torch.testing.assert_close(loaded(**inputs).logits, model(**inputs).logits)
    backbone = MeasureNoteModel.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        torch.testing.assert_close(
            backbone(**inputs).last_hidden_state, model(**inputs).hidden_states
        )


def test_measure_context_matches_naive_loop_oracle(tester):
    """The vectorised segment softmax equals a per-tune, per-measure loop (the reference's way)."""
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model(MeasureNoteModel)
    module = model.measure
    with torch.no_grad():
        out = model(**inputs)
        for b in range(tester.batch_size):
            hidden, numbers = out.note_hidden_states[b], inputs["measure_numbers"][b]
            nodes = []
            for m in range(int(numbers.max()) + 1):
                rows = hidden[numbers == m]  # (rows, hidden)
                weights = torch.softmax(module.scores(rows), dim=0)  # (rows, heads)
                slices = rows.view(len(rows), module.num_heads, module.head_size)
                nodes.append((weights.unsqueeze(-1) * slices).sum(0).flatten())
            measure_out, _ = module.rnn(torch.stack(nodes).unsqueeze(0))
            table = torch.cat([torch.zeros(1, measure_out.shape[-1]), measure_out[0]])
            torch.testing.assert_close(out.measure_context[b], table[numbers], atol=ATOL, rtol=0)


def test_auto_model_loads_the_backbone_of_a_saved_lm(tmp_path):
    from transformers import AutoModel

    import modeling_irish  # noqa: F401  (registers the Auto classes and remote-code auto_map)

    lm = MeasureNoteForCausalLM(MeasureNoteModelTester().get_config())
    lm.save_pretrained(tmp_path)
    backbone = AutoModel.from_pretrained(tmp_path)
    assert type(backbone).__name__ == "MeasureNoteModel"
    expected = lm.measurenote.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in backbone.state_dict().items())
