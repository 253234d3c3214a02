"""The two towers of the tune-title dual encoder (`TuneTitleModel` in `modeling_tune_title`).

The tune tower is a MeasureNote backbone with a bidirectional GRU summary, or MeasureNote's
feature embeddings with a CNN; the title tower wraps the encoders of `title_encoders` (MiniLM,
character GRU) and caches a frozen MiniLM's vectors. A sibling of the model's module, so it is
saved beside it for ``trust_remote_code`` and imported relatively.
"""

from collections.abc import Iterable, Sequence
from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import nn
from transformers.utils import logging

from .configuration_tune_title import TuneTitleTextConfig, TuneTitleTuneConfig
from .measurenote_checks import check_rows
from .measurenote_layers import MeasureNoteEmbeddings
from .modeling_measurenote import MeasureNoteModel, MeasureNoteModelOutput
from .title_encoders import (
    CharGRUTitleEncoder,
    MiniLMTitleEncoder,
    default_minilm_path,
    minilm_piece_ids,
)

logger = logging.get_logger(__name__)


# ----- tune tower ------------------------------------------------------------------------------
def _last_valid(out: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """`out[b, lengths[b] - 1]`: (batch, seq, dim) -> (batch, dim)."""
    index = (lengths - 1).clamp_min(0).view(-1, 1, 1).expand(-1, 1, out.shape[-1])
    return out.gather(1, index).squeeze(1)


def _reverse_valid(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence within its own length (padding stays on the right).

    >>> x = torch.arange(4.0).view(1, 4, 1)  # (batch, seq, dim); the last row is padding
    >>> _reverse_valid(x, torch.tensor([3])).flatten().tolist()
    [2.0, 1.0, 0.0, 3.0]
    """
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

    def __init__(self, config: TuneTitleTuneConfig) -> None:
        super().__init__()
        size, layers = config.summary_hidden_size, config.summary_num_layers
        inputs = [config.backbone_config.final_hidden_size] + [2 * size] * (layers - 1)
        self.forward_rnns = nn.ModuleList(nn.GRU(i, size, batch_first=True) for i in inputs)
        self.backward_rnns = nn.ModuleList(nn.GRU(i, size, batch_first=True) for i in inputs)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """`(batch, 2 * layers * size)` summary of right-padded `(batch, seq, dim)` rows, each
        sequence read only up to its `lengths` (batch,)."""
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
    tracked, running_mean = norm.num_batches_tracked, norm.running_mean
    running_var = norm.running_var
    # torch registers the three buffers (else None) when `track_running_stats`
    if (
        norm.track_running_stats
        and tracked is not None
        and running_mean is not None
        and running_var is not None
    ):
        with torch.no_grad():
            tracked.add_(1)
            momentum = norm.momentum
            if momentum is None:  # torch's cumulative average
                momentum = 1.0 / tracked.item()
            stored = running_mean.dtype
            running_mean.lerp_(mean.to(stored), momentum)
            # as torch: the running variance is the unbiased one
            running_var.lerp_((var * count / (count - 1)).to(stored), momentum)
    x = (x - mean[:, None]) * torch.rsqrt(var[:, None] + norm.eps)
    if norm.affine:
        x = x * norm.weight[:, None] + norm.bias[:, None]
    return x.to(x_in.dtype)


def _block_layers(block: nn.Module) -> tuple[nn.Module, nn.BatchNorm1d, nn.Module, nn.Module]:
    """The conv, batch norm, ReLU and dropout of a `TuneTitleCNN` block, in order."""
    conv, norm, relu, dropout = block.children()
    if not isinstance(norm, nn.BatchNorm1d):
        raise TypeError(f"a TuneTitleCNN block holds a BatchNorm1d second, not {norm}")
    return conv, norm, relu, dropout


class TuneTitleCNN(nn.Module):
    """1x1 conv from the concatenated feature embedding, conv blocks, global max-pool, linear."""

    def __init__(self, config: TuneTitleTuneConfig) -> None:
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
        """`(batch, cnn_channels)` vectors of `(batch, seq, embedding)` rows, max-pooled over the
        rows where `mask` (batch, seq) is 1 only."""
        x = self.input_conv(embedded.transpose(1, 2))  # (batch, ch, seq)
        keep = mask[:, None, :].to(x.dtype)  # (batch, 1, seq)
        for block in self.blocks:
            conv, norm, relu, dropout = _block_layers(block)
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

    def __init__(self, config: TuneTitleTuneConfig) -> None:
        super().__init__()
        self.config = config
        if config.encoder_type == "gru":
            self.backbone = MeasureNoteModel(config.backbone_config)
            self.summary = TuneTitleGRUSummary(config)
        else:
            self.embeddings = MeasureNoteEmbeddings(config.backbone_config)
            self.cnn = TuneTitleCNN(config)
        self._warned_freeze_mismatch = False
        self.set_backbone_frozen(config.freeze_backbone)

    def backbone_modules(self) -> nn.Module:
        """The part shared with MeasureNote (the whole backbone, or only its embeddings)."""
        return self.backbone if self.config.encoder_type == "gru" else self.embeddings

    def set_backbone_frozen(self, frozen: bool) -> None:
        """Take the gradient from the MeasureNote part (`backbone_modules`), or give it back; the
        choice is recorded in ``config.freeze_backbone``."""
        self.config.freeze_backbone = frozen
        self.backbone_modules().requires_grad_(not frozen)

    def backbone_frozen(self) -> bool:
        """Whether the MeasureNote part takes no gradient, read from its parameters (as PyTorch
        and transformers do), so that a hand-made ``requires_grad_`` counts. Where that
        disagrees with ``config.freeze_backbone`` (the flag that is saved), it warns once."""
        frozen = not any(p.requires_grad for p in self.backbone_modules().parameters())
        if frozen != self.config.freeze_backbone and not self._warned_freeze_mismatch:
            self._warned_freeze_mismatch = True
            logger.warning(
                f"the tune tower's backbone is {'frozen' if frozen else 'trainable'} by its "
                f"parameters' requires_grad, but config.freeze_backbone is "
                f"{self.config.freeze_backbone}: it trains as its parameters say, and "
                f"save_pretrained records config.freeze_backbone, so a reload is "
                f"{'frozen' if self.config.freeze_backbone else 'trainable'}; use "
                f"model.tune_model.set_backbone_frozen({frozen}) to record it"
            )
        return frozen

    def train(self, mode: bool = True) -> "TuneTitleTuneModel":
        """`nn.Module.train`, except that a frozen backbone (`backbone_frozen`) stays in eval
        mode (no dropout)."""
        super().train(mode)
        if self.backbone_frozen():
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
            mask = torch.ones(input_ids.shape[:2], dtype=torch.long, device=input_ids.device)
        else:
            mask = attention_mask
        if input_ids.shape[0] == 0:  # no tunes, no vectors (the CNN cannot run on 0 rows)
            return next(self.parameters()).new_zeros((0, self.config.output_size))
        empty = (mask.sum(1) == 0).nonzero().flatten().tolist()
        if empty:
            raise ValueError(
                f"tune(s) {', '.join(str(i) for i in empty[:5])} of the batch have no rows "
                f"(attention_mask all 0, or input_ids of 0 rows): a tune embedding pools at "
                f"least one row (the tokenizer gives every tune its <start> row)"
            )
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.backbone_frozen()):
            if self.config.encoder_type == "cnn":
                embedded = self.embeddings(input_ids)  # (batch, seq, total_embedding_size)
            else:
                out: MeasureNoteModelOutput = self.backbone(
                    input_ids,
                    measure_numbers,
                    attention_mask=mask,
                    use_cache=False,
                    return_dict=True,
                )
                hidden = out.last_hidden_state  # (batch, seq, final_hidden_size)
        if self.config.encoder_type == "cnn":
            return self.cnn(embedded, mask)
        return self.summary(hidden, mask.sum(1))


# ----- title tower -----------------------------------------------------------------------------
#: Titles a progress step of `TuneTitleTextModel.fill_cache` caches.
TITLE_CACHE_CHUNK = 512


def titles_as_list(titles: Any) -> list[str]:
    """`titles` as a list of strings (one string is one title, not a list of characters).

    Anything else is a `TypeError` naming the first title that is not a string, its index
    and its type: the towers failed far inside on one (``'NoneType' object has no attribute
    'lower'`` in the character GRU, a `TypeError` of the tokenizers library in MiniLM).
    """
    if isinstance(titles, str):
        return [titles]
    if not isinstance(titles, Iterable):
        raise TypeError(f"titles are a list of strings, got a {type(titles).__name__}")
    titles = list(titles)
    for n, title in enumerate(titles):
        if not isinstance(title, str):
            hint = ": a missing title? leave that pair out" if title is None else ""
            raise TypeError(
                f"titles are strings, one a title; title {n + 1} (index {n}) is a "
                f"{type(title).__name__}{hint}"
            )
    return titles


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

    def __init__(self, config: TuneTitleTextConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder: MiniLMTitleEncoder | CharGRUTitleEncoder
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
        return self._cached_encoder() is not None

    def _cached_encoder(self) -> Optional[MiniLMTitleEncoder]:
        """The encoder whose vectors are cached (a frozen MiniLM, `cached`), or None."""
        encoder = self.encoder
        return encoder if isinstance(encoder, MiniLMTitleEncoder) and encoder.frozen else None

    def set_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) a MiniLM encoder and record it in `config.freeze`, which is what
        a saved model reloads with; a char-GRU tower always trains."""
        self.config.freeze = frozen
        if isinstance(self.encoder, MiniLMTitleEncoder):
            self.encoder.set_frozen(frozen)

    def _title_cache(self, encoder: MiniLMTitleEncoder) -> dict[str, torch.Tensor]:
        """The cache of title vectors, emptied first when `encoder` was frozen or unfrozen
        since it was filled (weights trained while unfrozen make the cached vectors stale)."""
        if self._cache_span != encoder.freeze_changes:
            self._cache.clear()
            self._cache_span = encoder.freeze_changes
        return self._cache

    def _apply(self, fn, *args, **kwargs):
        self._cache.clear()  # `.to(dtype or device)`: the cached vectors would be stale
        return super()._apply(fn, *args, **kwargs)

    def _load_from_state_dict(self, *args, **kwargs):
        self._cache.clear()  # new weights, new title vectors
        super()._load_from_state_dict(*args, **kwargs)

    def tokenize(self, titles: list[str]) -> dict[str, torch.Tensor]:
        """The title encoder's `input_ids` and `attention_mask` of `titles`, padded to the
        longest."""
        return self.encoder.tokenize(titles)

    def forward(
        self,
        titles: Optional[list[str]] = None,
        input_ids: Optional[torch.LongTensor] = None,
        attention_mask: Optional[torch.LongTensor] = None,
    ) -> torch.Tensor:
        """`(n, output_size)` pooled title vectors from strings or from tokenised ids (one string
        is one title, not a list of characters; a title that is not a string is a
        `TypeError` naming it, `titles_as_list`)."""
        if titles is None:
            if input_ids is None:
                raise ValueError("no titles: give titles (strings) or title_input_ids")
            # every position is read where no mask is given, as transformers' models do
            mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
            return self.encoder(input_ids=input_ids, attention_mask=mask)
        titles = titles_as_list(titles)
        if not titles:  # no titles, no vectors (the encoders' batching needs at least one)
            weight = next(self.encoder.parameters())
            return weight.new_zeros((0, self.encoder.output_dim))
        encoder = self._cached_encoder()
        if encoder is None:
            return self.encoder.encode(titles)
        cache = self._title_cache(encoder)
        missing = list(dict.fromkeys(t for t in titles if t not in cache))
        if missing:
            # each title alone (`encode_each`): a title's cached vector must not depend on the
            # titles missing with it, or a resumed run, its cache empty, would train on others
            with torch.no_grad():
                for title, vec in zip(missing, encoder.encode_each(missing)):
                    cache[title] = vec.detach()
        return torch.stack([cache[t] for t in titles])

    def fill_cache(self, titles: Sequence[str], progress: bool = False) -> None:
        """Cache the vectors of `titles` now, in one pass (nothing to do unless `cached`):
        thousands of titles at once go faster than the few new ones of each batch. `progress`
        shows a bar (the training's 7,000 titles take some 15 s on one CPU thread); a title's
        vector does not depend on the others computed with it, so the chunks change nothing."""
        encoder = self._cached_encoder()
        if encoder is None or not titles:
            return
        titles = titles_as_list(titles)  # before hashing them: a list as a title says so
        from tqdm.auto import tqdm

        cache = self._title_cache(encoder)
        missing = [t for t in dict.fromkeys(titles) if t not in cache]
        bar = tqdm(total=len(missing), disable=not progress, desc="Caching titles", unit="title")
        with bar:
            for start in range(0, len(missing), TITLE_CACHE_CHUNK):
                part = missing[start : start + TITLE_CACHE_CHUNK]
                self(part)
                bar.update(len(part))


def title_inputs(config: TuneTitleTextConfig, titles: Sequence[str]) -> list[tuple[int, ...]]:
    """What the title tower of `config` reads of each title, cut to `config.max_length`:
    the MiniLM word pieces (its tokenizer read offline from `config.minilm_path` or the
    package) or the char GRU's bytes. Titles with one input get one embedding, so training
    must not make one a negative of another (`tune_title_data.group_ids`).

    >>> config = TuneTitleTextConfig(encoder_type="char_gru", max_length=4)
    >>> a, b, c = title_inputs(config, ["The Kesh", "THE KEEL", "Kesh"])
    >>> a == b, a == c
    (True, False)
    """
    titles = titles_as_list(titles)
    if config.encoder_type == "minilm":
        from transformers import AutoTokenizer

        path = config.minilm_path or default_minilm_path()
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return [tuple(ids) for ids in minilm_piece_ids(tokenizer, titles, config.max_length)]
    return [tuple(CharGRUTitleEncoder.byte_ids(t, config.max_length)) for t in titles]


__all__ = [
    "TITLE_CACHE_CHUNK",
    "TuneTitleCNN",
    "TuneTitleGRUSummary",
    "TuneTitleTextModel",
    "TuneTitleTuneModel",
    "title_inputs",
    "titles_as_list",
]
