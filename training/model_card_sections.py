"""Sections of the model cards that a reader acts on: the Usage snippets' model path and the
sentence on ``train_loss_last`` (`training.model_card` writes the cards)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from training.common import loss_label

__all__ = [
    "card_name",
    "train_loss_note",
    "usage_path",
]


def usage_path(args: argparse.Namespace) -> str:
    """The Usage snippet's ``path = ...`` line: the Hub id the run uploads to, else the output
    folder by its name only with a comment (the trainer's absolute path means nothing to a reader
    of the card, and would publish a path of the trainer's machine).

    >>> usage_path(argparse.Namespace(hub_model_id="user/measurenote", output_dir="/tmp/x/run"))
    'path = "user/measurenote"'
    >>> usage_path(argparse.Namespace(hub_model_id=None, output_dir="/tmp/x/run/"))
    'path = "run"  # the folder you downloaded, or its Hub id'
    """
    if args.hub_model_id:
        return f'path = "{args.hub_model_id}"'
    return f'path = "{card_name(args)}"  # the folder you downloaded, or its Hub id'


def card_name(args: argparse.Namespace) -> str:
    """The model's name in its card (the ``model-index`` name): the Hub id the run uploads to,
    else the output folder's name (not its path).

    >>> card_name(argparse.Namespace(hub_model_id=None, output_dir="/tmp/x/run/"))
    'run'
    """
    return args.hub_model_id or os.path.basename(os.path.normpath(str(args.output_dir)))


def train_loss_note(args: argparse.Namespace, results: dict[str, Any]) -> str:
    """The card's sentence on ``train_loss_last``: the mean training loss over the last
    ``train_loss_last_updates`` updates, the progress bar's last value ("" without it).

    >>> train_loss_note(argparse.Namespace(logging_steps=10),
    ...     {"train_loss_last": 0.88, "train_loss_last_updates": 10})  # doctest: +ELLIPSIS
    '`train_loss_last` is the mean training loss over the last 10 updates (...)...'
    """
    if results.get("train_loss_last") is None:
        return ""
    count = results.get("train_loss_last_updates") or 0
    over = {0: "the updates of the last log", 1: "the last update"}.get(
        count, f"the last {count} updates"
    )
    return (
        f"`train_loss_last` is the mean training loss over {over} (`--logging_steps "
        f"{args.logging_steps}`): the last value the training progress bar showed, as "
        f"`{loss_label(count)}`, not the loss of the last update alone."
    )
