"""Contrastive losses: hand-computed values, symmetry, positives masks, cross-process gathering."""

from __future__ import annotations

import math

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from modeling_irish.modeling_tune_title import clip_loss, cosine_pair_loss, hinge_loss
from training.losses import ClipLoss, gather_features, multi_positive_cross_entropy


def lse(*xs: float) -> float:
    return math.log(sum(math.exp(x) for x in xs))


# --- InfoNCE -------------------------------------------------------------------------------


def test_clip_loss_hand_value():
    logits = torch.tensor([[1.0, 0.0], [2.0, 3.0]])
    rows = ((lse(1, 0) - 1) + (lse(2, 3) - 3)) / 2  # tune -> title
    cols = ((lse(1, 2) - 1) + (lse(0, 3) - 3)) / 2  # title -> tune
    assert clip_loss(logits).item() == pytest.approx((rows + cols) / 2, abs=1e-6)


def test_clip_loss_is_symmetric_in_tunes_and_titles():
    logits = torch.randn(5, 5, generator=torch.Generator().manual_seed(0))
    assert clip_loss(logits).item() == pytest.approx(clip_loss(logits.T).item(), abs=1e-6)


def test_identity_mask_is_plain_clip_loss():
    logits = torch.randn(4, 4, generator=torch.Generator().manual_seed(1))
    mask = torch.eye(4, dtype=torch.bool)
    assert clip_loss(logits, mask).item() == pytest.approx(clip_loss(logits).item(), abs=1e-6)


def test_positives_mask_hand_value_and_zero_when_everything_matches():
    # row 0 has positives {0, 1}: -log((e^1 + e^0) / (e^1 + e^0 + e^-1))
    logits = torch.tensor([[1.0, 0.0, -1.0]])
    pos = torch.tensor([[True, True, False]])
    want = lse(1, 0, -1) - lse(1, 0)
    assert multi_positive_cross_entropy(logits, pos).item() == pytest.approx(want, abs=1e-6)
    assert clip_loss(torch.randn(3, 3), torch.ones(3, 3, dtype=torch.bool)).item() == 0.0


def test_extra_positive_is_pulled_up_not_pushed_down():
    """Tunes 0 and 1 share a title: without the mask, logit (0, 1) gets a pushing-down gradient."""
    logits = torch.randn(3, 3, generator=torch.Generator().manual_seed(2), requires_grad=True)
    mask = torch.zeros(3, 3, dtype=torch.bool)
    mask[0, 1] = mask[1, 0] = True
    (g_plain,) = torch.autograd.grad(clip_loss(logits), logits)
    (g_mask,) = torch.autograd.grad(clip_loss(logits, mask), logits)
    assert g_plain[0, 1] > 0 and g_mask[0, 1] < 0  # gradient descent raises it with the mask
    assert clip_loss(logits, mask) < clip_loss(logits)


# --- hinge ---------------------------------------------------------------------------------


def test_hinge_hand_value():
    sim = torch.tensor([[0.9, 0.6], [0.2, 0.5]])
    # rows: relu(0.4 - 0.9 + 0.6) = 0.1, relu(0.4 - 0.5 + 0.2) = 0.1
    # columns: relu(0.4 - 0.9 + 0.2) = 0, relu(0.4 - 0.5 + 0.6) = 0.5
    assert hinge_loss(sim, margin=0.4).item() == pytest.approx((0.1 + 0.25) / 2, abs=1e-6)
    assert hinge_loss(sim.T, margin=0.4).item() == pytest.approx(0.175, abs=1e-6)


def test_hinge_zero_when_separated_by_margin_and_mask_removes_negatives():
    sim = torch.tensor([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    assert hinge_loss(sim, margin=0.4).item() == 0.0
    assert hinge_loss(sim, margin=0.6).item() == pytest.approx(0.1, abs=1e-6)
    close = torch.tensor([[1.0, 0.95], [0.95, 1.0]])  # two settings of one tune
    assert hinge_loss(close).item() > 0
    assert hinge_loss(close, positives=torch.ones(2, 2, dtype=torch.bool)).item() == 0.0


# --- CosineEmbeddingLoss -------------------------------------------------------------------


def test_cosine_pair_loss_matches_formula():
    gen = torch.Generator().manual_seed(3)
    a, b = torch.randn(4, 6, generator=gen), torch.randn(4, 6, generator=gen)
    cos = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    pos = [1 - cos[i, i] for i in range(4)]
    neg = [max(0.0, cos[i, (i + 1) % 4].item() - 0.1) for i in range(4)]
    want = (sum(pos) + sum(neg)) / 8
    got = cosine_pair_loss(a, b, margin=0.1)
    assert got.item() == pytest.approx(float(want), abs=1e-6)
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[0, 1] = True  # the shifted pair (0, 1) is another setting: not a negative
    want_masked = (sum(pos) + sum(neg[1:])) / 7
    got = cosine_pair_loss(a, b, margin=0.1, positives=mask)
    assert got.item() == pytest.approx(float(want_masked), abs=1e-6)


# --- ClipLoss module, single process -------------------------------------------------------


def test_gather_is_identity_without_process_group():
    x = torch.randn(3, 2)
    assert gather_features(x) is x


@pytest.mark.parametrize("local_loss", [False, True])
def test_clip_loss_module_equals_pure_functions_single_process(local_loss):
    gen = torch.Generator().manual_seed(4)
    tune, title = torch.randn(5, 8, generator=gen), torch.randn(5, 8, generator=gen)
    sims = F.normalize(tune, dim=1) @ F.normalize(title, dim=1).T
    scale = torch.tensor(14.0)
    got = ClipLoss(local_loss=local_loss)(tune, title, logit_scale=scale)
    assert got.item() == pytest.approx(clip_loss(scale * sims).item(), abs=1e-5)
    got = ClipLoss("hinge", margin=0.3, local_loss=local_loss)(tune, title)
    assert got.item() == pytest.approx(hinge_loss(sims, margin=0.3).item(), abs=1e-6)
    labels = torch.tensor([7, 7, 1, 2, 1])
    mask = labels[:, None] == labels[None, :]
    got = ClipLoss(local_loss=local_loss)(tune, title, logit_scale=scale, labels=labels)
    assert got.item() == pytest.approx(clip_loss(scale * sims, mask).item(), abs=1e-5)


def test_clip_loss_module_rejects_bad_options():
    with pytest.raises(ValueError, match="loss_type must be 'infonce' or 'hinge', got 'triplet'"):
        ClipLoss("triplet")
    with pytest.raises(ValueError, match="infonce needs logit_scale"):
        ClipLoss()(torch.randn(2, 3), torch.randn(2, 3))


# --- ClipLoss module, two gloo processes ---------------------------------------------------


def _worker(rank, world, store, tune, title, labels, out, cuts):
    # a file store, not a free port found beforehand: one that another program took while the
    # processes started (seconds, more on a loaded machine) failed the test with EADDRINUSE
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        rows = slice(cuts[rank], cuts[rank + 1])
        scale = torch.tensor(10.0)
        options = [
            ("global", {}),
            ("local", {"local_loss": True}),
            ("with_grad", {"gather_with_grad": True}),
        ]
        for key, kwargs in options:
            local_tune = tune[rows].clone().requires_grad_(True)
            loss = ClipLoss(**kwargs)(local_tune, title[rows], scale, labels[rows])
            loss.backward()
            out[f"{key}_{rank}"] = (loss.item(), local_tune.grad.clone())
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize(
    "cuts",
    [
        pytest.param((0, 3, 6), id="equal"),
        # the last round of an epoch cut into whole rounds: the processes' batches differ
        pytest.param((0, 4, 7), id="uneven"),
    ],
)
def test_clip_loss_gathers_across_two_processes(cuts, tmp_path):
    gen = torch.Generator().manual_seed(5)
    n = cuts[-1]
    tune, title = torch.randn(n, 4, generator=gen), torch.randn(n, 4, generator=gen)
    labels = torch.tensor([0, 1, 2, 0, 3, 4, 1][:n])  # tunes 0 and 3 (ranks 0 and 0/1) share one
    out = mp.Manager().dict()
    store = tmp_path / "store"
    mp.spawn(_worker, args=(2, store, tune, title, labels, out, cuts), nprocs=2, join=True)
    full_tune = tune.clone().requires_grad_(True)
    ref = ClipLoss()(full_tune, title, torch.tensor(10.0), labels)
    ref.backward()
    for rank in range(2):
        rows = slice(cuts[rank], cuts[rank + 1])
        loss, grad = out[f"global_{rank}"]
        assert loss == pytest.approx(ref.item(), abs=1e-5)  # every rank sees the whole batch
        # gradient reaches the local slice as in the full-batch loss
        torch.testing.assert_close(grad, full_tune.grad[rows], atol=1e-5, rtol=0)
        # autograd through all_gather sums every rank's (identical) loss gradient
        torch.testing.assert_close(
            out[f"with_grad_{rank}"][1], 2 * full_tune.grad[rows], atol=1e-5, rtol=0
        )
    # local loss: each rank scores its own rows against the whole batch; the row-weighted mean
    # over ranks is the full-batch loss
    local = [out[f"local_{rank}"][0] * (cuts[rank + 1] - cuts[rank]) for rank in range(2)]
    assert sum(local) / n == pytest.approx(ref.item(), abs=1e-5)
