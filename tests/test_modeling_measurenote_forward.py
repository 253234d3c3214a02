"""MeasureNote's forward at its edges: empty batches, what it returns, and the labels, ids,
masks, shapes and states it refuses by name."""

from __future__ import annotations

import re

import pytest
import torch
from test_modeling_measurenote import measurenote_tester  # noqa: F401 (the tester fixture)

from modeling_irish.modeling_measurenote import (
    MeasureNoteForCausalLM,
    MeasureNoteModel,
    MeasureNoteState,
)


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


@pytest.mark.parametrize("cls", [MeasureNoteModel, MeasureNoteForCausalLM])
def test_a_config_asking_for_attentions_is_refused_too(tester, tmp_path, cls):
    """None reads the config, as in transformers (and as the tune-title model does):
    ``from_pretrained(path, output_attentions=True)`` was ignored, not refused; an explicit
    False still wins, also over the config the head shares with its backbone."""
    _, inputs, _ = tester.prepare_config_and_inputs()
    tester.model(cls).save_pretrained(tmp_path)
    model = cls.from_pretrained(tmp_path, output_attentions=True).eval()
    assert model.config.output_attentions
    with pytest.raises(ValueError, match=f"{cls.__name__} returns no attention weights"):
        model(**inputs)
    with torch.no_grad():
        out = model(**inputs, output_attentions=False)
    assert out[0].shape[:2] == inputs["input_ids"].shape[:2]


def test_resizing_embeddings_says_why_not(tester):
    with pytest.raises(NotImplementedError, match="one embedding table per feature"):
        tester.model().resize_token_embeddings(100)


@pytest.mark.parametrize("cls", [MeasureNoteModel, MeasureNoteForCausalLM])
def test_replacing_embeddings_says_why_not(tester, cls):
    """`set_input_embeddings` raised transformers' "not auto-handled for MeasureNoteModel; please
    override in the subclass", which tells a user of the model nothing they can do."""
    with pytest.raises(NotImplementedError, match="one embedding table per feature"):
        tester.model(cls).set_input_embeddings(torch.nn.Embedding(3, 4))


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


def test_labels_from_the_language_modeling_collator_name_the_collator_to_use():
    """`DataCollatorForLanguageModeling(tok, mlm=False)` replaces the tokenizer's labels with a
    copy of input_ids (batch, rows, 20): the shape error named no collator to use instead."""
    from tokenization_abc_helpers import TUNES
    from transformers import DataCollatorForLanguageModeling

    from modeling_irish.configuration_measurenote import MeasureNoteConfig
    from tokenization.tokenization_abc import AbcTokenizer

    tok = AbcTokenizer.train(TUNES)
    features = [tok(tune, padding=False, return_tensors=None) for tune in TUNES[:2]]
    batch = DataCollatorForLanguageModeling(tok, mlm=False)(features)
    assert batch["labels"].shape == batch["input_ids"].shape  # what the collator makes
    config = MeasureNoteConfig(
        vocab_sizes=tok.abc_vocab.sizes,
        embedding_size=16,
        note_hidden_size=16,
        measure_hidden_size=16,
        measure_num_heads=2,
        final_hidden_size=16,
    )
    with pytest.raises(ValueError, match=r"DataCollatorForLanguageModeling .*DataCollatorWith"):
        MeasureNoteForCausalLM(config)(**batch)
