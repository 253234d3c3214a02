"""MeasureNote: a hierarchical GRU language model over ABC rows (notes, measures, final GRU)."""

import os
from dataclasses import dataclass
from typing import Any, NamedTuple, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput, logging

from .configuration_measurenote import MeasureNoteConfig, check_saved_model_type
from .measurenote_checks import (
    _ID_DTYPES,
    _check_labels,
    _check_measure_numbers,
    _first_outside,
    _refuse_attentions,
    check_rows,
    split_upload_arguments,
)

logger = logging.get_logger(__name__)


class MeasureNoteState(NamedTuple):
    """Recurrent state of [`MeasureNoteModel`] after the last valid row of each sequence.

    The three `*_hidden` tensors are the `h_n` of the GRUs. The `pool_*` tensors are the running
    online-softmax accumulators of the attention pooling of the measure that is still open, so
    that a continuation pools it exactly as one pass over the whole sequence would.

    Fields:
        note_hidden: `(note_num_layers, batch, note_hidden_size)`.
        measure_hidden: `(measure_num_layers, batch, measure_hidden_size)`; its last layer is the
            context given to the rows of the open measure (zeros before the first measure ends).
        final_hidden: `(final_num_layers, batch, final_hidden_size)`.
        pool_max: `(batch, heads)` running maximum of the attention scores of the open measure.
        pool_denom: `(batch, heads)` sum of `exp(score - pool_max)`.
        pool_sum: `(batch, note_hidden_size)` sum of `exp(score - pool_max) * note state`, per head
            slice.
        measure_number: `(batch,)` absolute measure number of the open measure.
    """

    note_hidden: torch.Tensor
    measure_hidden: torch.Tensor
    final_hidden: torch.Tensor
    pool_max: torch.Tensor
    pool_denom: torch.Tensor
    pool_sum: torch.Tensor
    measure_number: torch.Tensor

    def select(self, index: torch.Tensor) -> "MeasureNoteState":
        """Keep (or repeat) batch rows, e.g. `state.select(torch.tensor([0, 0]))` for sampling."""
        hidden = (self.note_hidden, self.measure_hidden, self.final_hidden)
        rest = (self.pool_max, self.pool_denom, self.pool_sum, self.measure_number)
        return MeasureNoteState(
            *(h.index_select(1, index) for h in hidden), *(t.index_select(0, index) for t in rest)
        )


@dataclass
class MeasureNoteModelOutput(ModelOutput):
    """Output of [`MeasureNoteModel`].

    Args:
        last_hidden_state (`torch.FloatTensor` of shape `(batch, seq, final_hidden_size)`):
            Output of the final GRU.
        state ([`MeasureNoteState`], *optional*):
            Recurrent state after the last valid row (returned when `use_cache`).
        note_hidden_states (`torch.FloatTensor` of shape `(batch, seq, note_hidden_size)`):
            Output of the note GRU.
        measure_context (`torch.FloatTensor` of shape `(batch, seq, measure_hidden_size)`):
            Measure-GRU summary of the measures completed before each row's measure.
    """

    last_hidden_state: Optional[torch.FloatTensor] = None
    state: Optional[MeasureNoteState] = None
    note_hidden_states: Optional[torch.FloatTensor] = None
    measure_context: Optional[torch.FloatTensor] = None


@dataclass
class MeasureNoteCausalLMOutput(ModelOutput):
    """Output of [`MeasureNoteForCausalLM`].

    Args:
        loss (`torch.FloatTensor` of shape `()`, *optional*):
            `loss_main + dur_loss_weight * loss_dur` (when `labels` are given).
        loss_main (`torch.FloatTensor` of shape `()`, *optional*):
            Mean cross-entropy of the next `main` token over the non-ignored targets.
        loss_dur (`torch.FloatTensor` of shape `()`, *optional*):
            Mean cross-entropy of the next duration over targets that are notes or rests.
        logits (`torch.FloatTensor` of shape `(batch, seq, main_vocab_size)`):
            Scores of the next row's `main` token.
        dur_logits (`torch.FloatTensor` of shape `(batch, seq, dur_vocab_size)`):
            Scores of the next row's `dur` token.
        state ([`MeasureNoteState`], *optional*):
            Recurrent state after the last valid row (returned when `use_cache`).
        hidden_states (`torch.FloatTensor` of shape `(batch, seq, final_hidden_size)`):
            Output of the final GRU (the input of both heads).
    """

    loss: Optional[torch.FloatTensor] = None
    loss_main: Optional[torch.FloatTensor] = None
    loss_dur: Optional[torch.FloatTensor] = None
    logits: Optional[torch.FloatTensor] = None
    dur_logits: Optional[torch.FloatTensor] = None
    state: Optional[MeasureNoteState] = None
    hidden_states: Optional[torch.FloatTensor] = None


def run_gru(
    gru: nn.GRU,
    inputs: torch.Tensor,
    hidden: Optional[torch.Tensor],
    lengths: Optional[torch.Tensor] = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run a batch-first `gru`; with `lengths`, `h_n` is taken at each sequence's own end.

    Outputs at valid steps never depend on padding (the GRU runs forwards), so training passes no
    lengths and runs the fast padded kernel. Only a caller that needs the final state of a
    right-padded batch passes `lengths`; a sequence of length 0 keeps `hidden`, also when every
    sequence of the batch has length 0 (an all-padding chunk of a streamed batch).
    """
    batch, seq = inputs.shape[:2]
    if hidden is None:
        hidden = inputs.new_zeros(gru.num_layers, batch, gru.hidden_size)
    if seq == 0:
        return inputs.new_zeros(batch, 0, gru.hidden_size), hidden
    if lengths is None or bool((lengths == seq).all()):
        return gru(inputs, hidden)
    if seq == 1:  # one step (sampling): keep the old state where the step is padding
        output, new_hidden = gru(inputs, hidden)
        return output, torch.where(lengths.view(1, -1, 1) > 0, new_hidden, hidden)
    keep = (lengths > 0).nonzero().squeeze(1)
    if not len(keep):  # every sequence is padding (a chunk of a padded batch): nothing to pack
        return inputs.new_zeros(batch, seq, gru.hidden_size), hidden
    packed = pack_padded_sequence(
        inputs.index_select(0, keep), lengths[keep].cpu(), batch_first=True, enforce_sorted=False
    )
    packed_out, kept_hidden = gru(packed, hidden.index_select(1, keep).contiguous())
    kept_out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=seq)
    output = inputs.new_zeros(batch, seq, gru.hidden_size).index_copy(0, keep, kept_out)
    return output, hidden.index_copy(1, keep, kept_hidden)


def _make_gru(input_size: int, hidden_size: int, num_layers: int, dropout: float) -> nn.GRU:
    dropout = dropout if num_layers > 1 else 0.0
    return nn.GRU(input_size, hidden_size, num_layers, batch_first=True, dropout=dropout)


class MeasureNoteEmbeddings(nn.Module):
    """One embedding table per feature; the row vector is their concatenation."""

    def __init__(self, config: MeasureNoteConfig):
        super().__init__()
        self.feature_names = list(config.feature_names)
        self.layers = nn.ModuleList(
            nn.Embedding(config.vocab_sizes[name], config.embedding_sizes[name])
            for name in config.feature_names
        )

    def forward(self, input_ids: torch.LongTensor) -> torch.Tensor:
        # (batch, seq, n_features) -> (batch, seq, total_embedding_size)
        if input_ids.shape[-1] != len(self.layers):
            raise ValueError(
                f"input_ids has {input_ids.shape[-1]} features per row, the model "
                f"{len(self.layers)} ({', '.join(self.feature_names)})"
            )
        try:
            return torch.cat(
                [layer(input_ids[..., i]) for i, layer in enumerate(self.layers)], dim=-1
            )
        except IndexError as err:  # torch says only "index out of range in self"
            raise ValueError(self._out_of_range(input_ids)) from err

    def _out_of_range(self, input_ids: torch.LongTensor) -> str:
        """Which feature holds an id its table lacks, and where (checked only after a failure)."""
        for i, layer in enumerate(self.layers):
            column = input_ids[..., i]
            where = _first_outside(column, layer.num_embeddings)
            if where is not None:
                return (
                    f"feature {self.feature_names[i]!r} has id {int(column[where])} at "
                    f"{where} (batch, row), outside the model's vocabulary of "
                    f"{layer.num_embeddings}: was input_ids made by the tokenizer saved with this "
                    f"model? (padding rows take id 0, not -100)"
                )
        return "an embedding index is out of range"


class MeasureNoteMeasureModule(nn.Module):
    """Pools the rows of each measure with multi-head context attention and runs a GRU over them.

    Every row of measure `m` receives the measure-GRU output after measures `0..m-1` (the initial
    state, zeros, for the first measure), so nothing of measure `m` itself or later leaks in.
    """

    def __init__(self, config: MeasureNoteConfig):
        super().__init__()
        self.num_heads = config.measure_num_heads
        self.head_size = config.note_hidden_size // config.measure_num_heads
        self.attention = nn.Linear(config.note_hidden_size, config.note_hidden_size)
        # One learned query per head, dotted with tanh(W h) (the reference's ContextAttention).
        self.context_vector = nn.Parameter(torch.empty(self.num_heads, self.head_size))
        self.rnn = _make_gru(
            config.note_hidden_size,
            config.measure_hidden_size,
            config.measure_num_layers,
            config.measure_dropout,
        )

    def scores(self, hidden: torch.Tensor) -> torch.Tensor:
        """Attention score of every row and head: (batch, seq, hidden) -> (batch, seq, heads)."""
        keys = torch.tanh(self.attention(hidden)).unflatten(-1, (self.num_heads, self.head_size))
        return (keys * self.context_vector).sum(-1)

    def forward(
        self,
        hidden: torch.Tensor,
        segment: torch.Tensor,
        valid: Optional[torch.Tensor],
        n_complete: torch.Tensor,
        state: Optional[MeasureNoteState],
        need_state: bool,
    ) -> tuple[torch.Tensor, Optional[tuple[torch.Tensor, ...]]]:
        """Context of every row, and the new (measure_hidden, pool_max, pool_denom, pool_sum).

        `segment` (batch, seq) is each row's measure number relative to the open measure of
        `state` (0 = the open measure, or the first measure without a state); `n_complete`
        (batch,) is the number of measures each sequence completes here (its last segment).
        """
        batch, seq, _ = hidden.shape
        n_seg = int(n_complete.max()) + 1 if batch else 1  # segments 0..R, padding in bucket R+1
        bucket = segment.clamp(0, n_seg - 1)
        if valid is not None:
            bucket = bucket.masked_fill(~valid, n_seg)
        stride = n_seg + 1
        flat = (bucket + torch.arange(batch, device=hidden.device).unsqueeze(1) * stride).flatten()
        maxima, denom, weighted = self._segment_softmax(hidden, flat, batch * stride, state, stride)

        # (batch, n_seg, note_hidden): pooled vector of every segment, normalised (the width is
        # named: a batch of 0 has no elements to infer it from)
        nodes = weighted / denom.clamp_min(1e-30).unsqueeze(-1)
        nodes = nodes.view(batch, stride, hidden.shape[-1])
        h0 = state.measure_hidden if state is not None else None
        lengths = n_complete if need_state else None
        out, measure_hidden = run_gru(self.rnn, nodes[:, : n_seg - 1], h0, lengths)
        if h0 is None:
            first = hidden.new_zeros(batch, 1, self.rnn.hidden_size)
        else:
            first = h0[-1].unsqueeze(1)
        table = torch.cat([first, out], dim=1)  # (batch, n_seg, measure_hidden)
        index = segment.clamp(0, n_seg - 1).unsqueeze(-1).expand(-1, -1, table.shape[-1])
        context = table.gather(1, index)  # (batch, seq, measure_hidden)
        if not need_state:
            return context, None
        # Accumulators of each sequence's last (open) segment.
        open_bucket = torch.arange(batch, device=hidden.device) * stride + n_complete
        new_pool = (
            maxima[open_bucket],
            denom[open_bucket],
            weighted[open_bucket].flatten(1),
        )
        return context, (measure_hidden, *new_pool)

    def _segment_softmax(
        self,
        hidden: torch.Tensor,
        flat: torch.Tensor,
        n_buckets: int,
        state: Optional[MeasureNoteState],
        stride: int,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Unnormalised segment softmax: per bucket and head the max, sum of exp and weighted sum.

        Rows go to bucket `flat` (batch * seq,). The state's accumulators join bucket 0 of their
        sequence, as if the earlier rows of the open measure were part of this call.
        """
        batch = hidden.shape[0]
        scores = self.scores(hidden).flatten(0, 1)  # (batch * seq, heads)
        values = hidden.flatten(0, 1).unflatten(-1, (self.num_heads, self.head_size))
        lowest = torch.finfo(scores.dtype).min
        first_buckets = torch.arange(batch, device=hidden.device) * stride
        with torch.no_grad():  # the shift cancels in the softmax, so it needs no gradient
            maxima = scores.new_full((n_buckets, self.num_heads), lowest)
            index = flat.unsqueeze(1).expand(-1, self.num_heads)
            maxima = maxima.scatter_reduce(0, index, scores.detach(), "amax", include_self=True)
            if state is not None:
                maxima[first_buckets] = torch.maximum(maxima[first_buckets], state.pool_max)
        weights = torch.exp(scores - maxima[flat])  # (batch * seq, heads), all exponents <= 0
        denom = scores.new_zeros(n_buckets, self.num_heads).index_add(0, flat, weights)
        weighted = values.new_zeros(n_buckets, self.num_heads, self.head_size)
        weighted = weighted.index_add(0, flat, weights.unsqueeze(-1) * values)
        if state is not None:
            scale = torch.exp(state.pool_max - maxima[first_buckets])  # (batch, heads)
            denom = denom.index_add(0, first_buckets, state.pool_denom * scale)
            old = state.pool_sum.unflatten(-1, (self.num_heads, self.head_size))
            weighted = weighted.index_add(0, first_buckets, old * scale.unsqueeze(-1))
        return maxima, denom, weighted


@torch.no_grad()
def init_gru_(gru: nn.GRU) -> None:
    """Xavier input weights and orthogonal recurrent weights per gate, zero biases (transformers
    does not initialise GRUs); parameters loaded from a checkpoint are left alone."""
    for name, param in gru.named_parameters():
        if getattr(param, "_is_hf_initialized", False):
            continue  # loaded from a checkpoint; slicing below would lose the flag
        if name.startswith("weight_ih"):
            for gate in param.chunk(3, dim=0):  # reset, update, new
                nn.init.xavier_uniform_(gate)
        elif name.startswith("weight_hh"):
            for gate in param.chunk(3, dim=0):
                nn.init.orthogonal_(gate)
        else:
            nn.init.zeros_(param)


def _wants_dict(config: MeasureNoteConfig, return_dict: Optional[bool]) -> bool:
    """`return_dict` as transformers reads it: the argument, else `config.return_dict`."""
    return getattr(config, "return_dict", True) if return_dict is None else return_dict


class MeasureNotePreTrainedModel(PreTrainedModel):
    """Weight initialisation and the config class shared by the MeasureNote models."""

    config_class = MeasureNoteConfig
    base_model_prefix = "measurenote"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = False
    _no_split_modules = ["MeasureNoteMeasureModule"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """GRUs: xavier input weights and orthogonal recurrent weights per gate, zero biases."""
        if isinstance(module, nn.GRU):
            init_gru_(module)
        elif isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            # Unit variance, as PyTorch and the reference: the rows are concatenated into a wide
            # GRU input whose xavier weights already scale it.
            init.normal_(module.weight, mean=0.0, std=1.0)
        elif isinstance(module, MeasureNoteMeasureModule):
            init.uniform_(module.context_vector, -1.0, 1.0)

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: Any, *args: Any, **kwargs: Any
    ) -> "MeasureNotePreTrainedModel":
        """`PreTrainedModel.from_pretrained`; a local folder of another model type (a tune-title
        model) is refused by name instead of loaded into random weights."""
        model_type = cls.config_class.model_type
        check_saved_model_type(pretrained_model_name_or_path, model_type, kwargs.get("subfolder"))
        return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)

    def save_pretrained(
        self, save_directory: Union[str, os.PathLike], *args: Any, **kwargs: Any
    ) -> Any:
        """`PreTrainedModel.save_pretrained`, but with ``push_to_hub=True`` the folder is saved
        first, then uploaded (by `push_to_hub`), so that it is kept when the upload fails
        (`split_upload_arguments`)."""
        kwargs, upload = split_upload_arguments(
            super().save_pretrained, save_directory, args, kwargs
        )
        out = super().save_pretrained(save_directory, **kwargs)
        if upload is not None and kwargs.get("is_main_process", True):
            self.push_to_hub(**upload)
        return out

    def get_input_embeddings(self) -> nn.Module:
        """Not one table: MeasureNote embeds each of the 20 features with its own (see
        `MeasureNoteEmbeddings`), so `resize_token_embeddings` has nothing to resize."""
        raise NotImplementedError(
            "MeasureNote has one embedding table per feature (model.measurenote.embeddings), sized "
            "by config.vocab_sizes from the tokenizer's vocabulary; to change the vocabulary, "
            "train a tokenizer (AbcTokenizer.train) and a model whose config takes its sizes"
        )

    def configure_optimizer_groups(self, weight_decay: float) -> list[dict]:
        """Parameter groups for `torch.optim.AdamW`: decay matrices, not biases or embeddings.

        >>> groups = model.configure_optimizer_groups(0.01)  # doctest: +SKIP
        >>> optimizer = torch.optim.AdamW(groups, lr=3e-4)  # doctest: +SKIP
        """
        decay, no_decay = [], []
        for name, param in self.named_parameters():
            if not param.requires_grad:
                continue
            is_matrix = param.dim() >= 2 and "embeddings" not in name and "context" not in name
            (decay if is_matrix else no_decay).append(param)
        return [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]


class MeasureNoteModel(MeasureNotePreTrainedModel):
    """Embeddings -> note GRU -> measure pooling and measure GRU -> final GRU.

    Example:

    ```python
    >>> import torch
    >>> from modeling_irish.configuration_measurenote import MeasureNoteConfig
    >>> config = MeasureNoteConfig.from_preset("small")
    >>> model = MeasureNoteModel(config).eval()
    >>> input_ids = torch.zeros(1, 4, 20, dtype=torch.long)
    >>> out = model(input_ids, measure_numbers=torch.tensor([[0, 0, 1, 1]]), use_cache=True)
    >>> out.last_hidden_state.shape, int(out.state.measure_number)
    (torch.Size([1, 4, 192]), 1)

    ```
    """

    # the heads of a MeasureNoteForCausalLM folder, which the backbone alone leaves out on purpose
    _keys_to_ignore_on_load_unexpected = [r"^(main|dur)_head\."]

    def __init__(self, config: MeasureNoteConfig):
        config._check()  # attributes set after the config was made are checked here
        super().__init__(config)
        self.embeddings = MeasureNoteEmbeddings(config)
        self.note_rnn = _make_gru(
            config.total_embedding_size,
            config.note_hidden_size,
            config.note_num_layers,
            config.note_dropout,
        )
        self.measure = MeasureNoteMeasureModule(config)
        self.final_rnn = _make_gru(
            config.note_hidden_size + config.measure_hidden_size,
            config.final_hidden_size,
            config.final_num_layers,
            config.final_dropout,
        )
        self.post_init()

    def forward(
        self,
        input_ids: torch.LongTensor,
        measure_numbers: torch.LongTensor,
        attention_mask: Optional[torch.LongTensor] = None,
        state: Optional[MeasureNoteState] = None,
        use_cache: Optional[bool] = None,
        return_dict: Optional[bool] = None,
        output_hidden_states: Optional[bool] = None,
        output_attentions: Optional[bool] = None,
    ) -> Union[MeasureNoteModelOutput, tuple]:
        """Encode rows.

        Args:
            input_ids: `(batch, seq, n_features)` feature ids (torch.long).
            measure_numbers: `(batch, seq)` absolute measure group of each row's target; starts
                at 0 (or at `state.measure_number` or one more), steps 0 or +1.
            attention_mask: `(batch, seq)`, 1 for real rows; padding must be on the right. Any
                other shape is refused (it is never broadcast).
            state: state returned by an earlier call, to continue those sequences (the same
                batch size and model sizes).
            use_cache: return the state (default `config.use_cache`, off in training).
            return_dict: a `MeasureNoteModelOutput` (default `config.return_dict`), else its
                fields that are not None, as a tuple.
            output_hidden_states: accepted for transformers' callers; the hidden states of
                every GRU are always returned.
            output_attentions: only False (or None): a GRU model has no attention weights.
        """
        _refuse_attentions(output_attentions, type(self).__name__)
        check_rows(input_ids, self.embeddings.feature_names, attention_mask)
        _check_measure_numbers(measure_numbers, input_ids)
        if state is not None:
            self._check_state(state, input_ids.shape[0])
        if use_cache is None:
            use_cache = self.config.use_cache and not self.training
        valid = attention_mask.bool() if attention_mask is not None else None
        if valid is not None and bool(valid.all()):
            valid = None
        if valid is not None and bool((valid[:, 1:] & ~valid[:, :-1]).any()):
            raise ValueError(
                "attention_mask must be 1s then 0s (padding on the right): the GRUs read every "
                "tune from its first row"
            )
        lengths = valid.sum(1) if (use_cache and valid is not None) else None
        segment, n_complete = self._segments(measure_numbers, valid, state)

        hidden = self.embeddings(input_ids)  # (batch, seq, total_embedding_size)
        note_h0 = state.note_hidden if state is not None else None
        note_out, note_hidden = run_gru(self.note_rnn, hidden, note_h0, lengths)
        context, pooled = self.measure(note_out, segment, valid, n_complete, state, use_cache)
        final_h0 = state.final_hidden if state is not None else None
        final_in = torch.cat([note_out, context], dim=-1)
        final_out, final_hidden = run_gru(self.final_rnn, final_in, final_h0, lengths)

        new_state = None
        if use_cache:
            start = state.measure_number if state is not None else torch.zeros_like(n_complete)
            new_state = MeasureNoteState(
                note_hidden, pooled[0], final_hidden, *pooled[1:], start + n_complete
            )
        output = MeasureNoteModelOutput(
            last_hidden_state=final_out,
            state=new_state,
            note_hidden_states=note_out,
            measure_context=context,
        )
        return output if _wants_dict(self.config, return_dict) else output.to_tuple()

    def _check_state(self, state: Any, batch: int) -> None:
        """`state` is a `MeasureNoteState` of this model's sizes for a batch of `batch` tunes."""
        if not isinstance(state, MeasureNoteState) and type(state).__name__ != "MeasureNoteState":
            raise TypeError(
                f"state must be the MeasureNoteState an earlier call returned (out.state), got "
                f"{type(state).__name__}; MeasureNoteState(*fields) rebuilds one from its fields"
            )
        heads, note = self.measure.num_heads, self.note_rnn.hidden_size
        expected = {
            "note_hidden": (self.note_rnn.num_layers, batch, note),
            "measure_hidden": (self.measure.rnn.num_layers, batch, self.measure.rnn.hidden_size),
            "final_hidden": (self.final_rnn.num_layers, batch, self.final_rnn.hidden_size),
            "pool_max": (batch, heads),
            "pool_denom": (batch, heads),
            "pool_sum": (batch, note),
            "measure_number": (batch,),
        }
        for name, shape in expected.items():
            got = tuple(getattr(state, name).shape)
            if got != shape:
                raise ValueError(
                    f"state.{name} is {got}, this model and a batch of {batch} need {shape}: a "
                    f"state continues the batch and the model that made it (state.select(index) "
                    f"keeps or repeats its rows)"
                )
        self._check_state_dtypes(state)

    def _check_state_dtypes(self, state: MeasureNoteState) -> None:
        """The float fields of `state` are in this model's dtype (or, under autocast, in the
        autocast dtype too), and `measure_number` holds integers: torch failed on either far
        inside the GRUs ("mat1 and mat2 must have the same dtype") or in `scatter`."""
        number = state.measure_number.dtype
        if number not in _ID_DTYPES:
            raise ValueError(
                f"state.measure_number is {number}, it must hold integers (torch.long): the "
                f"measure number of each tune's open measure, as an earlier call returned it"
            )
        allowed = {self.dtype}
        device = self.device.type
        if torch.is_autocast_enabled(device):  # autocast casts the GRU inputs and hidden states
            allowed.add(torch.get_autocast_dtype(device))
        for name in state._fields[:-1]:  # all but measure_number
            got = getattr(state, name).dtype
            if got not in allowed:
                raise ValueError(
                    f"state.{name} is {got}, this model's parameters are {self.dtype}: a state "
                    f"continues the model and dtype that made it (convert its float fields with "
                    f".to({self.dtype}) when the model was converted)"
                )

    @staticmethod
    def _segments(
        measure_numbers: torch.LongTensor,
        valid: Optional[torch.Tensor],
        state: Optional[MeasureNoteState],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Measure numbers relative to the open measure, and the measures completed per sequence."""
        segment = measure_numbers
        if state is not None:
            segment = measure_numbers - state.measure_number.unsqueeze(1)
        if valid is not None:
            segment = segment.masked_fill(~valid, 0)
        if segment.numel() and int(segment.min()) < 0:
            raise ValueError("measure_numbers must not go below the state's (or 0) measure number")
        if segment.numel() and int(segment[:, 0].max()) > (0 if state is None else 1):
            # the model counts measures from 0 itself: numbers that start later would be read
            # as that many measures of nothing (different logits, no error)
            raise ValueError(
                "measure_numbers must start at 0 (as the tokenizer makes them), or at the "
                "state's measure number (or one more) when continuing; this batch starts later"
            )
        steps = segment.diff(dim=1)
        if valid is not None:  # right padding: a valid row's predecessor is valid too
            steps = steps.masked_fill(~valid[:, 1:], 0)
        if steps.numel() and bool(((steps < 0) | (steps > 1)).any()):
            raise ValueError(
                "measure_numbers must step by 0 or +1 from row to row (as the tokenizer makes "
                "them); they go back or jump in this batch"
            )
        # Numbers never decrease, so the largest valid one is the last segment (the open measure).
        n_complete = segment.amax(1) if segment.shape[1] else segment.new_zeros(segment.shape[0])
        return segment, n_complete


def measurenote_loss(
    logits: torch.Tensor,
    dur_logits: torch.Tensor,
    labels: torch.LongTensor,
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
    labels: torch.LongTensor, ignored_dur_ids: tuple[int, ...]
) -> tuple[torch.LongTensor, torch.LongTensor]:
    """The main and duration targets `measurenote_loss` scores (shifted; -100: none)."""
    dur_target = labels[:, 1:, 1]
    for special in ignored_dur_ids:
        dur_target = dur_target.masked_fill(dur_target == special, -100)
    return labels[:, 1:, 0], dur_target


def loss_target_counts(
    labels: torch.LongTensor, ignored_dur_ids: tuple[int, ...] = (0, 1, 2)
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


class MeasureNoteForCausalLM(MeasureNotePreTrainedModel):
    """MeasureNote with two heads: the next row's `main` token and its duration.

    Example:

    ```python
    >>> import torch
    >>> from modeling_irish.configuration_measurenote import MeasureNoteConfig
    >>> model = MeasureNoteForCausalLM(MeasureNoteConfig.from_preset("small")).eval()
    >>> input_ids = torch.zeros(2, 3, 20, dtype=torch.long)
    >>> labels = torch.full((2, 3, 2), 4)
    >>> out = model(input_ids, measure_numbers=torch.zeros(2, 3, dtype=torch.long), labels=labels)
    >>> out.logits.shape, out.dur_logits.shape, out.loss.shape
    (torch.Size([2, 3, 95]), torch.Size([2, 3, 18]), torch.Size([]))

    ```
    """

    def __init__(self, config: MeasureNoteConfig):
        super().__init__(config)
        self.measurenote = MeasureNoteModel(config)
        self.main_head = nn.Linear(config.final_hidden_size, config.main_vocab_size)
        self.dur_head = nn.Linear(config.final_hidden_size, config.dur_vocab_size)
        self.post_init()

    def save_pretrained(
        self, save_directory: Union[str, os.PathLike], *args: Any, **kwargs: Any
    ) -> Any:
        """`PreTrainedModel.save_pretrained`; with remote code on, the saved ``auto_map`` also
        names the backbone, so `AutoModel` (not only `AutoModelForCausalLM`) loads the folder."""
        if self._auto_class is not None:
            auto_map = dict(getattr(self.config, "auto_map", None) or {})
            auto_map.setdefault(
                "AutoModel", f"{MeasureNoteModel.__module__.split('.')[-1]}.MeasureNoteModel"
            )
            self.config.auto_map = auto_map
        return super().save_pretrained(save_directory, *args, **kwargs)

    def generate(self, tokenizer: Any = None, num_tunes: int = 1, **kwargs: Any) -> list:
        """Sample whole tunes that scan: a shortcut for `modeling_irish.generation.TuneGenerator`.

        Not transformers' token-id ``generate(input_ids=...)``: a MeasureNote row has 20
        features, and sampling keeps every bar inside the meter with the tokenizer's own position
        tracker. Give the model's `AbcTokenizer` and the arguments of `TuneGenerator.generate`:
        ``rhythm``, ``key``, ``meter``, ``mode``, ``prompt`` (an ABC incipit to continue),
        ``num_bars``, ``temperature``, ``top_k``, ``top_p``, ``seed``, ``constrained``...
        Returns `GeneratedTune` objects (``.abc`` is the tune in its real key). Needs the
        ``modeling-irish`` package (a folder loaded with ``trust_remote_code`` carries the model
        code only).

        Example:

        ```python
        >>> tunes = model.generate(tok, 2, rhythm="jig", key="G", seed=0)  # doctest: +SKIP
        >>> print(tunes[0].abc)  # doctest: +SKIP
        ```
        """
        if tokenizer is None or not hasattr(tokenizer, "abc_vocab") or "input_ids" in kwargs:
            raise TypeError(
                "MeasureNote samples whole tunes with its AbcTokenizer, not from input_ids: "
                "model.generate(tokenizer, num_tunes=4, rhythm='jig', key='G', seed=0), or "
                "prompt='<ABC incipit>' to continue a tune"
            )
        try:  # (inside try: a remote-code folder does not require the package to import)
            from modeling_irish.generation import TuneGenerator
        except ImportError as err:
            raise ImportError(
                "model.generate needs the modeling-irish package installed (not only the model's "
                "remote code): `pip install modeling-irish`, or `pip install -e .` in a clone"
            ) from err
        return TuneGenerator(self, tokenizer).generate(num_tunes, **kwargs)

    def forward(
        self,
        input_ids: torch.LongTensor,
        measure_numbers: torch.LongTensor,
        attention_mask: Optional[torch.LongTensor] = None,
        state: Optional[MeasureNoteState] = None,
        use_cache: Optional[bool] = None,
        labels: Optional[torch.LongTensor] = None,
        return_dict: Optional[bool] = None,
        output_hidden_states: Optional[bool] = None,
        output_attentions: Optional[bool] = None,
    ) -> Union[MeasureNoteCausalLMOutput, tuple]:
        """Scores of the next row; with `labels` `(batch, seq, 2)` (main, dur) also the loss.

        Labels are the rows' own `main` and `dur` ids (-100 where ignored); the model shifts
        them, so the scores at row t are trained on the labels of row t+1.
        `output_hidden_states` is accepted (`hidden_states` are always returned);
        `output_attentions` may only be False: a GRU model has no attention weights.
        """
        _refuse_attentions(output_attentions, type(self).__name__)
        outputs = self.measurenote(
            input_ids,
            measure_numbers,
            attention_mask=attention_mask,
            state=state,
            use_cache=use_cache,
            return_dict=True,
        )
        hidden = outputs.last_hidden_state
        logits = self.main_head(hidden)
        dur_logits = self.dur_head(hidden)
        loss = loss_main = loss_dur = None
        if labels is not None:
            _check_labels(labels, input_ids, self.config)
            labels = labels.long()  # int32 ids are accepted as for input_ids; the loss takes long
            special = (self.config.pad_token_id, self.config.bos_token_id, self.config.eos_token_id)
            loss, loss_main, loss_dur = measurenote_loss(
                logits, dur_logits, labels, self.config.dur_loss_weight, special
            )
        output = MeasureNoteCausalLMOutput(
            loss=loss,
            loss_main=loss_main,
            loss_dur=loss_dur,
            logits=logits,
            dur_logits=dur_logits,
            state=outputs.state,
            hidden_states=hidden,
        )
        return output if _wants_dict(self.config, return_dict) else output.to_tuple()


__all__ = [
    "MeasureNoteCausalLMOutput",
    "MeasureNoteForCausalLM",
    "MeasureNoteModel",
    "MeasureNoteModelOutput",
    "MeasureNotePreTrainedModel",
    "MeasureNoteState",
    "measurenote_loss",
]
