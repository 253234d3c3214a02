"""What a tune-title run (train_tune_title.py) trains: its model's config, from the flags or
from the checkpoint it resumes, the model, and the (tune, title) pairs with their title groups."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from training.common import UsageError, process_logger
from training.run_resume import resumed_model_config

if TYPE_CHECKING:  # annotations only: the real imports stay lazy
    import torch

__all__ = [
    "UNRECORDED_CONFIG_VALUES",
    "UNRECORDED_HINT",
    "backbone_weights_mismatch",
    "build_model",
    "check_backbone_weights",
    "flags_config",
    "model_config",
    "title_config",
    "title_counts",
    "training_pairs",
]

logger = process_logger(__name__)


def training_pairs(
    splits: Any, args: argparse.Namespace, tokenizer: Any, title_tower: Any = None
) -> tuple[dict, list[int]]:
    """Training pairs (titled tunes minus the known-tune holdout's settings, minus tunes whose
    rows hold values the tokenizer's vocabulary does not know, counted in
    `pairs["unknown_left_out"]`) and the holdout indices; `pairs["holdout_train"]`: the titled
    tunes the holdout leaves in training (the training side of the known-tunes evaluation).
    `title_tower`: the model's title config (`model_config`; default: the flags'), whose cut
    makes title groups."""
    from modeling_irish.configuration_tune_title import TuneTitleTextConfig
    from modeling_irish.tune_title_data import (
        NoteCropper,
        group_ids,
        known_tune_holdout,
        titled_indices,
    )
    from modeling_irish.tune_title_towers import title_inputs
    from tokenization.dataset import column_values

    train = splits["train"]
    # whole columns read at once: indexing a datasets `Column` selects and formats the column
    # again for every index (on thesession's 18k tunes, 25 s against well under 1 s)
    titles, tune_ids = column_values(train, "title"), column_values(train, "tune_id")
    keep, held = known_tune_holdout(
        titles,
        tune_ids,
        column_values(train, "abc"),
        seed=args.split_seed,
        max_queries=args.known_queries,
    )
    holdout_train = keep
    ids_column = train.with_format("numpy", columns=["input_ids"])[:]["input_ids"]
    cropper = NoteCropper(tokenizer)
    readable = [i for i in keep if cropper.readable(ids_column[i])]
    if len(readable) < len(keep):
        logger.info(
            "left out %d of %d training tunes: notes or tokens outside the tokenizer's "
            "vocabulary (<unk>) cannot be cropped",
            len(keep) - len(readable),
            len(keep),
        )
    unknown_left_out, keep = len(keep) - len(readable), readable
    if not keep:
        raise UsageError(
            f"--corpus {args.corpus or 'music21'}: no (tune, title) pairs to train on: of its "
            f"{len(titles)} training tunes, {len(titles) - len(titled_indices(titles))} are "
            f"untitled (untitled tunes such as x / Gan Ainm are left out), {len(held)} held out "
            f"as known-tune queries, {unknown_left_out} hold values the tokenizer lacks"
        )
    kept_titles = [titles[i] for i in keep]
    # titles the title tower reads as one (cut to its max_length) are one title: no negatives
    title_tower = title_tower or TuneTitleTextConfig(**title_config(args))
    inputs = title_inputs(title_tower, kept_titles)
    pairs = {
        "input_ids": [np.asarray(ids_column[i]) for i in keep],
        "titles": kept_titles,
        "groups": group_ids(kept_titles, [tune_ids[i] for i in keep], inputs),
        "unknown_left_out": unknown_left_out,
        "holdout_train": holdout_train,
    }
    return pairs, held


def title_counts(titles: Sequence[str], groups: Sequence[int]) -> dict[str, int]:
    """``train_titles``: the distinct titles of the training pairs (normalised, `title_key`);
    ``train_title_groups``: their positive groups (`group_ids`: titles linked by a shared tune
    id are one group, so there may be fewer groups than titles)."""
    from modeling_irish.abc_corpus import title_key

    return {
        "train_titles": len({title_key(t) for t in titles}),
        "train_title_groups": len(set(np.asarray(groups).tolist())),
    }


#: The config values that checkpoints saved before they recorded the model's config were
#: trained with, where this version's defaults differ (`resumed_model_config`): the char GRU
#: read 32 bytes of a title (128 since). An assumption for the char GRU: its default became 128
#: at commit c4041eb, and checkpoints recorded their config from 9630eef on (2026-12-06, a
#: quarter of an hour later); nothing in a checkpoint of those minutes tells it from an earlier
#: one, so the warning says how to resume one (`UNRECORDED_HINT`), and ``--title_max_length``
#: wins over it.
UNRECORDED_CONFIG_VALUES = {"title_config.max_length": 32}
UNRECORDED_HINT = (
    "a char-GRU checkpoint saved between commits c4041eb and 9630eef (2026-12-06) cut titles "
    "at 128 bytes: resume one with --title_max_length 128"
)


def title_config(args: argparse.Namespace) -> dict[str, Any]:
    """The title tower's config values the flags give (the rest are its defaults).

    >>> run = argparse.Namespace(title_encoder="char_gru", finetune_title_encoder=False)
    >>> title_config(argparse.Namespace(**vars(run), title_max_length=64))
    {'encoder_type': 'char_gru', 'freeze': True, 'max_length': 64}
    """
    values = {"encoder_type": args.title_encoder, "freeze": not args.finetune_title_encoder}
    if getattr(args, "title_max_length", None) is not None:
        values["max_length"] = args.title_max_length
    return values


def flags_config(args: argparse.Namespace, tokenizer: Any) -> Any:
    """The `TuneTitleConfig` the flags and this version's defaults give (backbone from a preset
    or the ``--measurenote_path`` folder's config)."""
    from modeling_irish.configuration_measurenote import MeasureNoteConfig
    from modeling_irish.configuration_tune_title import TuneTitleConfig
    from training.common import parse_config_overrides

    if args.measurenote_path:  # as `TuneTitleModel.from_measurenote` replaces it
        backbone = MeasureNoteConfig.from_pretrained(args.measurenote_path)
        backbone = MeasureNoteConfig(**backbone.to_dict())
    else:
        backbone = MeasureNoteConfig.from_preset(
            args.preset,
            vocab_sizes=tokenizer.abc_vocab.sizes,
            **parse_config_overrides(args.config_overrides),
        )
    return TuneTitleConfig(
        tune_config={
            "backbone_config": backbone,
            "encoder_type": args.tune_encoder,
            "freeze_backbone": args.freeze_backbone,
        },
        title_config=title_config(args),
        projection_dim=args.projection_dim,
        loss_type=args.loss_type,
        hinge_margin=args.hinge_margin,
    )


def model_config(args: argparse.Namespace, tokenizer: Any) -> Any:
    """The dual encoder's config: the flags' (`flags_config`), or on resuming the one the
    checkpoint's run trained with, whatever this version's defaults (`resumed_model_config`):
    one source for the model and for the title groups of the training pairs, which go by its
    title tower's max_length."""
    built = flags_config(args, tokenizer)
    # the vocabulary's sizes are the data's: `check_resume_data` compares them with the run's
    data = ["tune_config.backbone_config.vocab_sizes"]
    if getattr(args, "title_max_length", None) is not None:  # given: it wins over the assumed
        return resumed_model_config(args, built, {}, data)
    # MiniLM's cut was always 32: only the char GRU's is an assumption
    hint = UNRECORDED_HINT if args.title_encoder == "char_gru" else ""
    return resumed_model_config(args, built, UNRECORDED_CONFIG_VALUES, data, hint)


def build_model(args: argparse.Namespace, tokenizer: Any, config: Any = None) -> torch.nn.Module:
    """A `TuneTitleModel` of `config` (default: `model_config`), its backbone's weights from
    ``--measurenote_path`` when given; a resumed run's weights come from its checkpoint."""
    from modeling_irish.modeling_tune_title import TuneTitleModel

    config = config if config is not None else model_config(args, tokenizer)
    if args.measurenote_path and args.resume_from_checkpoint is None:
        return TuneTitleModel.from_measurenote(args.measurenote_path, config=config)
    return TuneTitleModel(config)


def check_backbone_weights(args: argparse.Namespace) -> None:
    """Refuse (`UsageError`, one line) a ``--measurenote_path`` folder whose weights do not fit
    its ``config.json`` (a config edited by hand, or the weights of another preset copied in),
    naming the folder and the first tensor that does not fit: `TuneTitleModel.from_measurenote`
    failed on it only once the corpus was read, with transformers' load report and a
    traceback, and a tensor the weights lack was initialised at random. Called before the
    corpus is read; a resumed run takes its weights from its checkpoint, not the folder."""
    folder = getattr(args, "measurenote_path", None)
    if not folder or args.resume_from_checkpoint is not None:
        return
    problem = backbone_weights_mismatch(folder)
    if problem:
        raise UsageError(
            f"--measurenote_path {folder}: its weights do not fit its config.json ({problem}): "
            "restore the config.json saved with them, or save the model again (save_pretrained)"
        )


def backbone_weights_mismatch(folder: str) -> str | None:
    """The first tensor of the MeasureNote model that ``folder``'s ``config.json`` builds
    whose shape its weights file gives otherwise, or that the file lacks, said as a phrase; None
    when each fits, or when the folder holds no single weights file (sharded weights:
    ``from_pretrained`` checks them). A `MeasureNoteForCausalLM` folder's tensors are named
    under its ``measurenote.`` prefix, beside its heads, which the backbone leaves. The model is
    built on the ``meta`` device: no memory, no random draws."""
    import torch

    from modeling_irish.configuration_measurenote import MeasureNoteConfig
    from modeling_irish.modeling_measurenote import MeasureNoteModel

    saved = _saved_shapes(folder)
    if saved is None:
        return None
    file, shapes = saved
    prefix = f"{MeasureNoteModel.base_model_prefix}."
    shapes = {name.removeprefix(prefix): shape for name, shape in shapes.items()}
    with torch.device("meta"):
        model = MeasureNoteModel(MeasureNoteConfig.from_pretrained(folder))
    name = os.path.basename(file)
    for tensor, value in model.state_dict().items():
        built = list(value.shape)
        if tensor not in shapes:
            return f"{name} lacks {tensor}, of shape {built} by the config"
        if shapes[tensor] != built:
            return f"{tensor} is {shapes[tensor]} in {name}, {built} by the config"
    return None


def _saved_shapes(folder: str) -> tuple[str, dict[str, list[int]]] | None:
    """The weights file of a model folder and the shape of each tensor in it, read without
    loading them (safetensors' header; a torch ``.bin`` mapped, not read), or None when the
    folder holds neither single file."""
    safetensors_file = os.path.join(folder, "model.safetensors")
    if os.path.isfile(safetensors_file):
        from safetensors import safe_open

        with safe_open(safetensors_file, framework="pt") as weights:
            names = weights.keys()  # a safe_open is not iterable
            shapes = {name: list(weights.get_slice(name).get_shape()) for name in names}
        return safetensors_file, shapes
    bin_file = os.path.join(folder, "pytorch_model.bin")
    if os.path.isfile(bin_file):
        import torch

        state = torch.load(bin_file, map_location="cpu", mmap=True, weights_only=True)
        return bin_file, {name: list(value.shape) for name, value in state.items()}
    return None
