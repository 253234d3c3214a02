"""TuneTitleModel's CNN tune tower: embeddings that do not depend on padding, and a batch norm
that reads only the real rows (in training, without padding, and in bf16)."""

from __future__ import annotations

import copy

import pytest
import torch
from test_modeling_tune_title import tune_title_tester  # noqa: F401 (the tester fixture)

from modeling_irish.modeling_tune_title import TuneTitleModel


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
