"""The tune-title contrastive loss over the batches of every process (the pure, one-batch losses
are in `modeling_irish.modeling_tune_title`)."""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

__all__ = ["ClipLoss", "gather_features", "multi_positive_cross_entropy", "scale_gradient"]


class _ScaleGradient(torch.autograd.Function):
    """Identity forward; the gradient multiplied by ``factor`` backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, factor: float) -> torch.Tensor:
        ctx.factor = factor
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * ctx.factor, None


def scale_gradient(x: torch.Tensor, factor: float) -> torch.Tensor:
    """`x` itself (same values, so the loss it enters is unchanged), whose gradient is
    multiplied by `factor` on the way back.

    >>> x = torch.ones(2, requires_grad=True)
    >>> y = scale_gradient(x, 3.0)
    >>> y.sum().backward()
    >>> torch.equal(y, x), x.grad.tolist()
    (True, [3.0, 3.0])
    """
    return _ScaleGradient.apply(x, factor)


def multi_positive_cross_entropy(logits: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """Mean over rows of -log(total softmax probability of the row's positive columns).

    Every positive counts as a right answer and none is pushed down as a negative; with exactly
    one positive per row this is `F.cross_entropy`.

    >>> logits = torch.tensor([[0.0, 0.0, 0.0]])
    >>> round(multi_positive_cross_entropy(logits, torch.tensor([[True, True, False]])).item(), 4)
    0.4055
    """
    if not positives.any(dim=1).all():
        raise ValueError("every row needs at least one positive")
    pos_logits = logits.masked_fill(~positives, float("-inf"))
    return (logits.logsumexp(dim=1) - pos_logits.logsumexp(dim=1)).mean()


def _positives(
    n_rows: int, n_cols: int, targets: torch.Tensor, extra: Optional[torch.Tensor]
) -> torch.Tensor:
    pos = torch.zeros(n_rows, n_cols, dtype=torch.bool, device=targets.device)
    pos[torch.arange(n_rows, device=targets.device), targets] = True
    return pos if extra is None else pos | extra.to(pos.device, torch.bool)


def _infonce_rows(
    logits: torch.Tensor, targets: torch.Tensor, positives_mask: Optional[torch.Tensor]
) -> torch.Tensor:
    if positives_mask is None:
        return F.cross_entropy(logits, targets)
    pos = _positives(logits.shape[0], logits.shape[1], targets, positives_mask)
    return multi_positive_cross_entropy(logits, pos)


def _hinge_rows(
    similarity: torch.Tensor,
    targets: torch.Tensor,
    positives_mask: Optional[torch.Tensor],
    margin: float,
) -> torch.Tensor:
    """Mean over (row, negative column) of relu(margin - s[row, target] + s[row, negative])."""
    pos = _positives(similarity.shape[0], similarity.shape[1], targets, positives_mask)
    matching = similarity.gather(1, targets[:, None])  # (rows, 1)
    violation = (margin - matching + similarity).clamp_min(0.0)  # (rows, cols)
    negatives = ~pos
    return (violation * negatives).sum() / negatives.sum().clamp_min(1)


def _is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _sizes(n: int, device: torch.device) -> list[int]:
    """Every process's row count (processes may hold batches of different sizes)."""
    sizes = [torch.zeros(1, dtype=torch.long, device=device) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor([n], dtype=torch.long, device=device))
    return [int(t.item()) for t in sizes]


def gather_features(x: torch.Tensor, gather_with_grad: bool = False) -> torch.Tensor:
    """Concatenate `x` from every process along dim 0, in rank order (identity when not
    distributed).

    Without `gather_with_grad` the other processes' chunks are constants and the local chunk is
    put back in the list so that gradient still flows to it (open_clip's `gather_features`).
    Processes may pass different row counts (the last round of an epoch cut into whole rounds,
    `modeling_irish.batching`): chunks are padded to the largest for the collective and trimmed.
    """
    if not _is_distributed():
        return x
    sizes = _sizes(x.shape[0], x.device)
    longest = max(sizes)
    padded = x
    if x.shape[0] < longest:
        padded = torch.cat([x, x.new_zeros((longest - x.shape[0], *x.shape[1:]))])
    if gather_with_grad:
        from torch.distributed.nn.functional import all_gather  # autograd-aware collective

        chunks = list(all_gather(padded))
    else:
        chunks = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(chunks, padded.contiguous())
        chunks[dist.get_rank()] = padded
    return torch.cat([chunk[:size] for chunk, size in zip(chunks, sizes)], dim=0)


def _local_rows(n: int, device: torch.device) -> slice:
    """This process's rows in the gathered batch."""
    start = sum(_sizes(n, device)[: dist.get_rank()])
    return slice(start, start + n)


class ClipLoss(nn.Module):
    """Contrastive loss over the batch of every process (InfoNCE or the batch hinge loss).

    Args:
        loss_type (`str`, *optional*, defaults to `"infonce"`): `"infonce"` (`clip_loss` of
            `modeling_tune_title`) or `"hinge"` (its `hinge_loss` on cosine similarities;
            `logit_scale` is then unused).
        margin (`float`, *optional*, defaults to 0.4): hinge margin.
        local_loss (`bool`, *optional*, defaults to `False`): each process scores only its own
            rows against the gathered batch, its rows' targets their places in it (less memory);
            otherwise every process computes the full `(N, N)` loss.
        gather_with_grad (`bool`, *optional*, defaults to `False`): see `gather_features`.

    `forward(tune_embeds, title_embeds, logit_scale=None, labels=None)`: embeddings `(n, dim)`
    (L2-normalised here), `logit_scale` the multiplier (already `exp`-ed, as in open_clip), and
    optional `labels` `(n,)` group ids (e.g. tune ids): pairs with equal labels are extra
    positives, never negatives. Without torch.distributed initialised it is the plain loss.

    >>> loss = ClipLoss()
    >>> round(loss(torch.eye(2), torch.eye(2), logit_scale=torch.tensor(1.0)).item(), 4)
    0.3133
    """

    def __init__(
        self,
        loss_type: str = "infonce",
        margin: float = 0.4,
        local_loss: bool = False,
        gather_with_grad: bool = False,
    ) -> None:
        super().__init__()
        if loss_type not in ("infonce", "hinge"):
            raise ValueError(f"loss_type must be 'infonce' or 'hinge', got {loss_type!r}")
        self.loss_type = loss_type
        self.margin = margin
        self.local_loss = local_loss
        self.gather_with_grad = gather_with_grad

    def forward(
        self,
        tune_embeds: torch.Tensor,
        title_embeds: torch.Tensor,
        logit_scale: Optional[torch.Tensor] = None,
        labels: Optional[torch.LongTensor] = None,
    ) -> torch.Tensor:
        """The scalar loss of one batch (see the class docstring for the arguments)."""
        tune = F.normalize(tune_embeds, dim=-1)
        title = F.normalize(title_embeds, dim=-1)
        n = tune.shape[0]
        all_tune = gather_features(tune, self.gather_with_grad)  # (N, dim)
        all_title = gather_features(title, self.gather_with_grad)
        all_labels = None if labels is None else gather_features(labels)
        if self.local_loss and _is_distributed():
            rows = _local_rows(n, tune.device)
        else:
            rows = slice(0, all_tune.shape[0])
        targets = torch.arange(all_tune.shape[0], device=tune.device)[rows]
        mask = None
        if all_labels is not None:
            mask = all_labels[rows, None] == all_labels[None, :]  # (rows, N)
        sim_tune = all_tune[rows] @ all_title.T  # (rows, N): these tunes vs every title
        sim_title = all_title[rows] @ all_tune.T  # (rows, N): these titles vs every tune
        if self.loss_type == "hinge":
            a = _hinge_rows(sim_tune, targets, mask, self.margin)
            b = _hinge_rows(sim_title, targets, mask, self.margin)
        else:
            if logit_scale is None:
                raise ValueError("infonce needs logit_scale")
            a = _infonce_rows(logit_scale * sim_tune, targets, mask)
            b = _infonce_rows(logit_scale * sim_title, targets, mask)
        return (a + b) / 2
