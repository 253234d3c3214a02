"""The MeasureNote language-model loss (`MeasureNoteForCausalLM` in `modeling_measurenote`):
pure functions of the two heads' scores and the rows' labels, and the target counts that
training weighs batches by. A sibling of the model's module, saved beside it for
``trust_remote_code``."""

import torch
import torch.nn.functional as F


def measurenote_loss(
    logits: torch.Tensor,
    dur_logits: torch.Tensor,
    labels: torch.Tensor,
    dur_loss_weight: float = 1.0,
    ignored_dur_ids: tuple[int, ...] = (0, 1, 2),
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`(loss, loss_main, loss_dur)`: scores at row t are compared with the labels of row t+1.

    Each term is the mean cross-entropy over its own targets (-100 ignored), in float32 for
    logits of any dtype; `dur` targets that are specials (`ignored_dur_ids`: pad, start, end,
    i.e. not a note or rest) are ignored too.

    >>> logits, dur = torch.zeros(1, 2, 5), torch.zeros(1, 2, 4)
    >>> labels = torch.tensor([[[-100, -100], [4, 3]]])
    >>> [round(x.item(), 4) for x in measurenote_loss(logits, dur, labels)]
    [2.9957, 1.6094, 1.3863]
    """
    main_target, dur_target = _loss_targets(labels, ignored_dur_ids)
    loss_main = _mean_cross_entropy(logits[:, :-1], main_target)
    loss_dur = _mean_cross_entropy(dur_logits[:, :-1], dur_target)
    return loss_main + dur_loss_weight * loss_dur, loss_main, loss_dur


def _loss_targets(
    labels: torch.Tensor, ignored_dur_ids: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The main and duration targets `measurenote_loss` scores (shifted; -100: none)."""
    dur_target = labels[:, 1:, 1]
    for special in ignored_dur_ids:
        dur_target = dur_target.masked_fill(dur_target == special, -100)
    return labels[:, 1:, 0], dur_target


def loss_target_counts(
    labels: torch.Tensor, ignored_dur_ids: tuple[int, ...] = (0, 1, 2)
) -> torch.Tensor:
    """``[main targets, duration targets]`` of a batch, as `measurenote_loss` counts them: what
    its two means divide by. A training step over several batches (gradient accumulation,
    processes) weighs each batch's means by these, so that every target counts alike.

    >>> loss_target_counts(torch.tensor([[[-100, -100], [4, 3], [5, 1]]])).tolist()
    [2, 1]
    """
    main, dur = _loss_targets(labels, ignored_dur_ids)
    return torch.stack([(main != -100).sum(), (dur != -100).sum()])


def _mean_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over targets / their count: 0 (not NaN) when a batch has no target of this kind.

    In float32 whatever the logits' dtype: the float16 sum overflows (inf) from about 15,000
    targets of loss 4.5, and bfloat16 keeps 3 significant digits of it."""
    total = F.cross_entropy(logits.flatten(0, 1).float(), target.flatten(), reduction="sum")
    return total / (target != -100).sum().clamp_min(1)


__all__ = ["loss_target_counts", "measurenote_loss"]
