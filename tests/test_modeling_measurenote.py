"""Tests of MeasureNoteModel and MeasureNoteForCausalLM (tiny, CPU, offline): the tester of the
transformers pattern (the other test_modeling_measurenote_*.py files import its fixture), output
shapes, initialisation and serialisation. The config, state, forward-check and loss tests are in
test_modeling_measurenote_{config,state,forward,loss}.py."""

from __future__ import annotations

import math

import pytest
import torch

from modeling_irish.configuration_measurenote import MEASURENOTE_FEATURE_NAMES, MeasureNoteConfig
from modeling_irish.modeling_measurenote import (
    MeasureNoteCausalLMOutput,
    MeasureNoteForCausalLM,
    MeasureNoteModel,
    MeasureNoteState,
)

ATOL = 1e-5


def random_measure_numbers(batch: int, seq: int, generator: torch.Generator) -> torch.Tensor:
    """Valid measure numbers: start at 0, steps of 0 or +1 (about one new measure in three)."""
    steps = (torch.rand(batch, seq, generator=generator) < 0.35).long()
    steps[:, 0] = 0
    return steps.cumsum(1)


def _assert_same_state(a: MeasureNoteState, b: MeasureNoteState):
    for name, x, y in zip(a._fields, a, b):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=ATOL, msg=name)


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

    def create_and_check_hidden_states(self, cls, config, inputs):
        """`hidden_states` is a tuple of one `(batch, seq, size)` tensor per stage, the last the
        final GRU's output (what `out.hidden_states[-1]` means in transformers), with
        `output_hidden_states=True` or `config.output_hidden_states`; None otherwise."""
        model = cls(config).eval()
        with torch.no_grad():
            plain = model(**inputs)
            shown = model(**inputs, output_hidden_states=True)
            config.output_hidden_states = True
            by_config = model(**inputs)
            not_asked = model(**inputs, output_hidden_states=False)
        assert plain.hidden_states is None and not_asked.hidden_states is None
        batch, seq = self.batch_size, self.seq_length
        sizes = (
            config.total_embedding_size,
            config.note_hidden_size,
            config.measure_hidden_size,
            config.final_hidden_size,
        )
        for states in (shown.hidden_states, by_config.hidden_states):
            assert isinstance(states, tuple) and len(states) == config.num_hidden_layers + 1
            assert [tuple(h.shape) for h in states] == [(batch, seq, size) for size in sizes]
        backbone = model if cls is MeasureNoteModel else model.measurenote
        with torch.no_grad():
            reference = backbone(**inputs, output_hidden_states=False)
            embedded = backbone.embeddings(inputs["input_ids"])
        final, note, context = (
            reference.last_hidden_state,
            reference.note_hidden_states,
            reference.measure_context,
        )
        for got, expected in zip(shown.hidden_states, (embedded, note, context, final)):
            assert torch.equal(got, expected)  # the same path: the same bits, flag or not
        if cls is MeasureNoteForCausalLM:
            assert torch.equal(model.main_head(shown.hidden_states[-1]), shown.logits)
        else:
            assert torch.equal(shown.hidden_states[-1], shown.last_hidden_state)

    def create_and_check_causal_lm(self, config, inputs, labels):
        model = MeasureNoteForCausalLM(config).eval()
        out = model(**inputs, labels=labels)
        batch, seq = self.batch_size, self.seq_length
        assert isinstance(out, MeasureNoteCausalLMOutput)
        assert out.logits.shape == (batch, seq, self.vocab_sizes["main"])
        assert out.dur_logits.shape == (batch, seq, self.vocab_sizes["dur"])
        assert out.hidden_states is None  # only with output_hidden_states, as in transformers
        assert not hasattr(out, "last_hidden_state")  # as transformers' CausalLMOutputWithPast
        assert out.loss.shape == ()
        assert torch.isfinite(out.loss)
        assert out.loss_main.shape == out.loss_dur.shape == ()


@pytest.fixture(name="tester")
def measurenote_tester() -> MeasureNoteModelTester:
    return MeasureNoteModelTester()


def test_model_shapes(tester):
    config, inputs, _ = tester.prepare_config_and_inputs()
    tester.create_and_check_model(config, inputs)


def test_causal_lm_shapes(tester):
    tester.create_and_check_causal_lm(*tester.prepare_config_and_inputs())


@pytest.mark.parametrize("cls", [MeasureNoteModel, MeasureNoteForCausalLM])
def test_hidden_states_are_a_tuple_per_stage_only_when_asked(tester, cls):
    config, inputs, _ = tester.prepare_config_and_inputs()
    tester.create_and_check_hidden_states(cls, config, inputs)


def test_use_cache_defaults_off_in_training(tester):
    _, inputs, _ = tester.prepare_config_and_inputs()
    model = tester.model().train()
    assert model(**inputs).state is None
    assert model.eval()(**inputs).state is not None


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
            backbone(**inputs).last_hidden_state,
            model(**inputs, output_hidden_states=True).hidden_states[-1],
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


def test_the_backbone_takes_the_tokenizers_output_and_ignores_its_labels(tmp_path):
    """``AutoModel(**tok(abc))`` and ``pipeline("feature-extraction")`` failed with
    ``forward() got an unexpected keyword argument 'labels'``: the tokenizer returns the
    language-model labels, which the backbone (no head, no loss) now accepts and ignores."""
    from helpers import save_tiny_measurenote
    from transformers import AutoModel, AutoTokenizer, pipeline

    import modeling_irish  # noqa: F401  (registers the Auto classes)

    tune = "X:1\nT:a\nR:reel\nM:4/4\nL:1/8\nK:D\n|:FAdA FAdA|B2cA B4|d3e f2ed|A4 z4:|\n"
    save_tiny_measurenote(tmp_path, [tune])
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    backbone = AutoModel.from_pretrained(tmp_path).eval()
    inputs = tokenizer(tune)
    assert "labels" in inputs
    with torch.no_grad():
        out = backbone(**inputs)
        without = backbone(**{k: v for k, v in inputs.items() if k != "labels"})
    hidden = out.last_hidden_state
    assert not hasattr(out, "loss")  # a backbone has no loss to compute
    torch.testing.assert_close(hidden, without.last_hidden_state, rtol=0, atol=0)
    features = pipeline("feature-extraction", model=str(tmp_path))(tune)
    assert torch.tensor(features).shape == hidden.shape == (1, inputs["input_ids"].shape[1], 16)
    torch.testing.assert_close(torch.tensor(features), hidden, rtol=0, atol=1e-6)


def test_from_pretrained_names_the_folder_and_what_it_lacks(tmp_path, tester):
    """transformers blamed a missing `model_type` key (no config.json), a missing weights file
    (no word of the config) or a malformed repository id (for a folder that is not here)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    for cls in (MeasureNoteModel, MeasureNoteForCausalLM, MeasureNoteConfig):
        with pytest.raises(OSError, match=r"empty' holds no config.json: not a saved model"):
            cls.from_pretrained(empty)
        with pytest.raises(OSError, match=r"'no/such/dir': no such folder here, and not a Hub"):
            cls.from_pretrained("no/such/dir")
    tester.get_config().save_pretrained(tmp_path / "config_only")
    with pytest.raises(OSError, match=r"config_only' holds a config.json but no weights"):
        MeasureNoteForCausalLM.from_pretrained(tmp_path / "config_only")
    loaded = MeasureNoteConfig.from_pretrained(tmp_path / "config_only")  # needs no weights
    assert loaded.note_hidden_size == tester.get_config().note_hidden_size
    with pytest.raises(OSError, match=r"has no subfolder 'sub'"):
        MeasureNoteModel.from_pretrained(tmp_path / "config_only", subfolder="sub")
