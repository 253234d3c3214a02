"""MeasureNote: a hierarchical GRU language model over ABC rows (notes, measures, final GRU)."""

# first: on transformers 4 this raises one clear line before the imports below fail
from .transformers_version import REQUIRED_TRANSFORMERS  # noqa: F401

# isort: split
import os
from dataclasses import dataclass
from typing import Any, NamedTuple, Optional, TypeVar, Union

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput, logging

from .configuration_measurenote import MeasureNoteConfig
from .measurenote_checks import (
    ID_DTYPES,
    check_labels,
    check_measure_numbers,
    check_rows,
    folder_timestamps,
    model_upload_errors,
    refuse_attentions,
    split_upload_arguments,
    upload_saved_folder,
)

# The building blocks and the loss are sibling modules (saved beside this one for
# trust_remote_code); their public names stay importable from here, where they used to be defined.
from .measurenote_layers import (
    MeasureNoteEmbeddings,
    MeasureNoteMeasureModule,
    gru_from_zeros,
    init_gru_,
    make_gru,
    note_gru_from_ids,
    run_gru,
)
from .measurenote_losses import loss_target_counts, measurenote_loss  # noqa: F401
from .saved_folders import check_local_pretrained_path, check_saved_model_type

logger = logging.get_logger(__name__)

# How to get the package that `generate` needs, in the README's words (it is not on PyPI).
PACKAGE_INSTALL = (
    "which is not on PyPI: install it from its repository, "
    '`pip install -c constraints.txt -e ".[all]"` in a clone'
)


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

    Example (a continuation fed the state gives what one pass over the whole rows gives):
        >>> model = MeasureNoteForCausalLM.from_pretrained("runs/measurenote-small").eval()
        >>> ids, measures = torch.zeros(1, 4, 20, dtype=torch.long), torch.tensor([[0, 0, 1, 1]])
        >>> whole = model(ids, measure_numbers=measures).logits
        >>> first = model(ids[:, :3], measure_numbers=measures[:, :3], use_cache=True)
        >>> type(first.state).__name__, first.state.measure_number.tolist()
        ('MeasureNoteState', [1])
        >>> last = model(ids[:, 3:], measure_numbers=measures[:, 3:], state=first.state).logits
        >>> torch.allclose(last, whole[:, 3:], atol=1e-6)
        True
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
        hidden_states (`tuple(torch.FloatTensor)`, *optional*):
            Returned when `output_hidden_states=True` is passed or `config.output_hidden_states`
            is set, None otherwise (as in transformers): four `(batch, seq, size)` tensors, one
            per stage, `len(hidden_states) == config.num_hidden_layers + 1`: the concatenated
            feature embeddings (`total_embedding_size`), the note GRU's output
            (`note_hidden_states`), the measure context of each row (`measure_context`) and the
            final GRU's output (`last_hidden_state`).

    With `return_dict=False` the fields that are not None, in this order, form the tuple
    (`last_hidden_state` first, as `pipeline("feature-extraction")` reads it).

    Example:
        >>> model = MeasureNoteModel.from_pretrained("runs/measurenote-small")
        >>> ids = torch.zeros(1, 3, 20, dtype=torch.long)
        >>> out = model(ids, measure_numbers=torch.zeros(1, 3, dtype=torch.long), use_cache=True)
        >>> out.last_hidden_state.shape[:2], out.measure_context.shape[:2], out.state is None
        (torch.Size([1, 3]), torch.Size([1, 3]), False)
    """

    last_hidden_state: Optional[torch.Tensor] = None
    state: Optional[MeasureNoteState] = None
    note_hidden_states: Optional[torch.Tensor] = None
    measure_context: Optional[torch.Tensor] = None
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None


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
        hidden_states (`tuple(torch.FloatTensor)`, *optional*):
            Returned when `output_hidden_states=True` is passed or `config.output_hidden_states`
            is set, None otherwise (as in transformers): the backbone's four per-stage tensors
            (see [`MeasureNoteModelOutput`]: embeddings, note GRU, measure context, final GRU);
            the last, `(batch, seq, final_hidden_size)`, is what both heads read.

    With `return_dict=False` the fields that are not None, in this order, form the tuple: `(loss,
    loss_main, loss_dur, logits, dur_logits)` with labels, `(logits, dur_logits)` without, then
    `state` when `use_cache` and `hidden_states` when asked for.

    Example (what the tokenizer gives is what the model takes, labels included):
        >>> from transformers import AutoTokenizer
        >>> model = MeasureNoteForCausalLM.from_pretrained("runs/measurenote-small")
        >>> tokenizer = AutoTokenizer.from_pretrained("runs/measurenote-small")
        >>> out = model(**tokenizer("X:1\\nK:D\\nDFA|"))
        >>> out.loss.shape, out.logits.shape[:2], out.dur_logits.shape[:2]
        (torch.Size([]), torch.Size([1, 6]), torch.Size([1, 6]))
        >>> bool(out.loss == out.loss_main + model.config.dur_loss_weight * out.loss_dur)
        True
    """

    loss: Optional[torch.Tensor] = None
    loss_main: Optional[torch.Tensor] = None
    loss_dur: Optional[torch.Tensor] = None
    logits: Optional[torch.Tensor] = None
    dur_logits: Optional[torch.Tensor] = None
    state: Optional[MeasureNoteState] = None
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None


_Made = TypeVar("_Made")


def _made(value: Optional[_Made], what: str) -> _Made:
    """``value``, which the path the model took always makes: a `RuntimeError` naming ``what``
    (an internal error) when it is None."""
    if value is None:
        raise RuntimeError(f"internal error: MeasureNoteModel made no {what} on this path")
    return value


def wants_dict(config: PretrainedConfig, return_dict: Optional[bool]) -> bool:
    """`return_dict` as transformers reads it: the argument, else `config.return_dict`."""
    return getattr(config, "return_dict", True) if return_dict is None else return_dict


def _wants_hidden_states(config: MeasureNoteConfig, output_hidden_states: Optional[bool]) -> bool:
    """`output_hidden_states` as transformers reads it: the argument, else the config's."""
    if output_hidden_states is None:
        return bool(getattr(config, "output_hidden_states", False))
    return bool(output_hidden_states)


def _wants_attentions(config: MeasureNoteConfig, output_attentions: Optional[bool]) -> bool:
    """`output_attentions` as transformers reads it: the argument, else the config's (where
    ``from_pretrained(path, output_attentions=True)`` puts it), so that `refuse_attentions`
    refuses a config that asks for them as it refuses the argument (it was ignored)."""
    if output_attentions is None:
        return bool(getattr(config, "output_attentions", False))
    return bool(output_attentions)


#: Why `get_input_embeddings` and `set_input_embeddings` (hence `resize_token_embeddings`) are
#: refused, and what to do instead.
_ONE_TABLE_PER_FEATURE = (
    "MeasureNote has one embedding table per feature (model.measurenote.embeddings), sized "
    "by config.vocab_sizes from the tokenizer's vocabulary; to change the vocabulary, "
    "train a tokenizer (AbcTokenizer.train) and a model whose config takes its sizes"
)


class MeasureNotePreTrainedModel(PreTrainedModel):
    """Weight initialisation and the config class shared by the MeasureNote models."""

    config_class = MeasureNoteConfig
    config: MeasureNoteConfig  # to mypy too: transformers types it as PreTrainedConfig
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
        """`PreTrainedModel.from_pretrained`; a folder or Hub repository of another model type (a
        tune-title model) is refused by name instead of loaded into random weights."""
        model_type = cls.config_class.model_type
        check_local_pretrained_path(pretrained_model_name_or_path, kwargs.get("subfolder"))
        check_saved_model_type(
            pretrained_model_name_or_path, model_type, kwargs.get("subfolder"), hub_kwargs=kwargs
        )
        return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)

    def save_pretrained(
        self, save_directory: Union[str, os.PathLike], *args: Any, **kwargs: Any
    ) -> Any:
        """`PreTrainedModel.save_pretrained`, but with ``push_to_hub=True`` the folder is saved
        first, then what the save wrote is uploaded (`upload_saved_folder`: shards and variant
        included), so that the folder is kept when the upload fails (`split_upload_arguments`)."""
        kwargs, upload = split_upload_arguments(
            super().save_pretrained, save_directory, args, kwargs
        )
        before = folder_timestamps(self, save_directory) if upload is not None else {}
        out = super().save_pretrained(save_directory, **kwargs)
        if upload is not None and kwargs.get("is_main_process", True):
            upload_saved_folder(self, save_directory, before, **upload)
        return out

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:  # type: ignore[override]
        """`PreTrainedModel.push_to_hub` (a save in a temporary folder, uploaded to
        ``repo_id``), but a failed upload (offline, no token, no network, a refusal of the Hub)
        is a `HubUploadError` that says why in one line, as ``save_pretrained(push_to_hub=True)``
        says it (`model_upload_errors`), rather than the Hub client's error."""
        with model_upload_errors(repo_id, kwargs.get("token")):
            # transformers types push_to_hub as a functools.wraps wrapper, not a method
            return super().push_to_hub(repo_id, **kwargs)  # type: ignore[arg-type]

    def get_input_embeddings(self) -> nn.Module:
        """Not one table: MeasureNote embeds each of the 20 features with its own (see
        `MeasureNoteEmbeddings`), so `resize_token_embeddings` has nothing to resize."""
        raise NotImplementedError(_ONE_TABLE_PER_FEATURE)

    def set_input_embeddings(self, value: nn.Module) -> None:
        """Refused as `get_input_embeddings` is (transformers' own error asked the user to
        override the method in a subclass): there is no single table to replace."""
        raise NotImplementedError(_ONE_TABLE_PER_FEATURE)

    def configure_optimizer_groups(self, weight_decay: float) -> list[dict]:
        """Parameter groups for `torch.optim.AdamW`: decay matrices, not biases or embeddings.

        >>> model = MeasureNoteForCausalLM.from_pretrained("runs/measurenote-small")
        >>> groups = model.configure_optimizer_groups(0.01)
        >>> [group["weight_decay"] for group in groups]
        [0.01, 0.0]
        >>> optimizer = torch.optim.AdamW(groups, lr=3e-4)
        """
        decay: list[nn.Parameter] = []
        no_decay: list[nn.Parameter] = []
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

    def __init__(self, config: MeasureNoteConfig) -> None:
        config.check_values()  # attributes set after the config was made are checked here
        super().__init__(config)
        self.embeddings = MeasureNoteEmbeddings(config)
        self.note_rnn = make_gru(
            config.total_embedding_size,
            config.note_hidden_size,
            config.note_num_layers,
            config.note_dropout,
        )
        self.measure = MeasureNoteMeasureModule(config)
        self.final_rnn = make_gru(
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
        labels: Optional[torch.LongTensor] = None,
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
            output_hidden_states: also return `hidden_states`, the output of every stage
                (default `config.output_hidden_states`); `last_hidden_state`,
                `note_hidden_states` and `measure_context` are always returned.
            output_attentions: only False (or None with `config.output_attentions` False): a GRU
                model has no attention weights; True is refused at forward time, by argument or
                by config (`from_pretrained(path, output_attentions=True)`), as transformers
                reads the flag there.
            labels: ignored (the backbone has no head, so no loss): the language-model labels
                the tokenizer returns, accepted so that `model(**tokenizer(abc))` and
                `pipeline("feature-extraction")` work, as for `MeasureNoteForCausalLM`. Last,
                so that positional calls keep their meaning.
        """
        refuse_attentions(_wants_attentions(self.config, output_attentions), type(self).__name__)
        check_rows(input_ids, self.embeddings.feature_names, attention_mask)
        check_measure_numbers(measure_numbers, input_ids)
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

        want_hidden = _wants_hidden_states(self.config, output_hidden_states)
        embedded, note_out, note_hidden = self._note_gru(
            input_ids, state, use_cache, lengths, want_hidden
        )
        context, pooled = self.measure(note_out, segment, valid, n_complete, state, use_cache)
        final_h0 = state.final_hidden if state is not None else None
        final_in = torch.cat([note_out, context], dim=-1)
        if final_h0 is None and not use_cache:  # training, scoring: no state in or out
            final_out, final_hidden = gru_from_zeros(self.final_rnn, final_in), None
        else:
            final_out, final_hidden = run_gru(self.final_rnn, final_in, final_h0, lengths)

        new_state = None
        if use_cache:
            start = state.measure_number if state is not None else torch.zeros_like(n_complete)
            measure_hidden, pool_max, pool_denom, pool_sum = _made(pooled, "measure state")
            new_state = MeasureNoteState(
                _made(note_hidden, "note GRU state"),
                measure_hidden,
                _made(final_hidden, "final GRU state"),
                pool_max,
                pool_denom,
                pool_sum,
                start + n_complete,
            )
        output = MeasureNoteModelOutput(
            last_hidden_state=final_out,
            state=new_state,
            note_hidden_states=note_out,
            measure_context=context,
            hidden_states=(
                (_made(embedded, "embeddings"), note_out, context, final_out)
                if want_hidden
                else None
            ),
        )
        return output if wants_dict(self.config, return_dict) else output.to_tuple()

    def _note_gru(
        self,
        input_ids: torch.LongTensor,
        state: Optional[MeasureNoteState],
        use_cache: bool,
        lengths: Optional[torch.Tensor],
        keep_embeddings: bool = False,
    ) -> tuple[Optional[torch.Tensor], torch.Tensor, Optional[torch.Tensor]]:
        """The concatenated embeddings `(batch, seq, total_embedding_size)` (None unless
        `keep_embeddings` or `nn.GRU` runs), the note GRU's outputs `(batch, seq, note_hidden)`
        and, for the state, its `h_n`.

        Without a state in or out (training, scoring) on the CPU, the GRU runs from per-feature
        lookup tables (`note_gru_from_ids`): the layer-0 input product of the wide concatenated
        embeddings is ~15% of a CPU training step, and the table lookup that replaces it gives
        the same outputs (to float rounding) and no `h_n`. Otherwise (generation and streaming,
        a GPU, an empty batch) `nn.GRU` runs on the embeddings. `keep_embeddings` (for
        `output_hidden_states`) computes the embeddings on the table path too, and leaves the
        path, so the outputs, as they are.
        """
        on_cpu = input_ids.device.type == "cpu"
        if on_cpu and state is None and not use_cache and min(input_ids.shape[:2]) > 0:
            embedded = self.embeddings(input_ids) if keep_embeddings else None
            return embedded, note_gru_from_ids(self.embeddings, self.note_rnn, input_ids), None
        embedded = self.embeddings(input_ids)  # (batch, seq, total_embedding_size)
        note_h0 = state.note_hidden if state is not None else None
        return embedded, *run_gru(self.note_rnn, embedded, note_h0, lengths)

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
        if number not in ID_DTYPES:
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
        segment: torch.Tensor = measure_numbers
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

    def __init__(self, config: MeasureNoteConfig) -> None:
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

    def generate(self, tokenizer: Any = None, num_tunes: int | None = None, **kwargs: Any) -> list:
        """Sample whole tunes that scan: a shortcut for `modeling_irish.generation.TuneGenerator`.

        Not transformers' token-id ``generate(input_ids=...)``: a MeasureNote row has 20
        features, and sampling keeps every bar inside the meter with the tokenizer's own position
        tracker. Give the model's `AbcTokenizer` and the arguments of `TuneGenerator.generate`:
        ``rhythm``, ``key``, ``meter``, ``mode``, ``prompt`` (an ABC incipit to continue),
        ``num_bars``, ``temperature``, ``top_k``, ``top_p``, ``seed``, ``constrained``...
        (``num_tunes``, 1 by default, may be given as ``num_return_sequences``; transformers'
        ``max_new_tokens``, ``do_sample``, ``num_beams``, ``streamer``, ``generation_config``...
        are refused saying what to use instead, as the ``abc-generation`` pipeline does:
        `modeling_irish.pipeline_abc.TRANSFORMERS_ONLY`; any other unknown keyword is a
        `TypeError` listing those it takes, and the one a misspelt name is close to.)
        Returns `GeneratedTune` objects (``.abc`` is the tune in its real key). Needs the
        ``modeling-irish`` package (a folder loaded with ``trust_remote_code`` carries the model
        code only).

        Example:

        ```python
        >>> from transformers import AutoTokenizer
        >>> model = MeasureNoteForCausalLM.from_pretrained("runs/measurenote-small")
        >>> tok = AutoTokenizer.from_pretrained("runs/measurenote-small")
        >>> tunes = model.generate(tok, 2, rhythm="jig", key="G", seed=0)
        >>> print(tunes[0].abc)
        X:1
        T:Generated jig 1
        R:jig
        M:6/8
        L:1/8
        K:G
        ...

        ```
        """
        if tokenizer is None or not hasattr(tokenizer, "abc_vocab") or "input_ids" in kwargs:
            raise TypeError(
                "MeasureNote samples whole tunes with its AbcTokenizer, not from input_ids: "
                "model.generate(tokenizer, num_tunes=4, rhythm='jig', key='G', seed=0), or "
                "prompt='<ABC incipit>' to continue a tune"
            )
        try:  # (inside try: a remote-code folder does not require the package to import)
            from modeling_irish import pipeline_abc
            from modeling_irish.generation import TuneGenerator
        except ImportError as err:
            raise ImportError(
                "model.generate needs the modeling-irish package installed (not only the model's "
                f"remote code), {PACKAGE_INSTALL}"
            ) from err
        kwargs = {**kwargs, "num_tunes": num_tunes}
        kwargs = pipeline_abc.tune_generator_arguments(kwargs, "model.generate")
        pipeline_abc.refuse_unknown_arguments(kwargs, "model.generate", "tokenizer, prompt")
        if kwargs.get("num_tunes") is None:
            kwargs["num_tunes"] = 1
        return TuneGenerator(self, tokenizer).generate(**kwargs)

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
        `output_hidden_states=True` (default `config.output_hidden_states`) also returns
        `hidden_states`, the backbone's per-stage outputs (the last is what the heads read);
        `output_attentions` may only be False (or None with `config.output_attentions` False): a
        GRU model has no attention weights.
        """
        refuse_attentions(_wants_attentions(self.config, output_attentions), type(self).__name__)
        outputs = self.measurenote(
            input_ids,
            measure_numbers,
            attention_mask=attention_mask,
            state=state,
            use_cache=use_cache,
            return_dict=True,
            output_hidden_states=_wants_hidden_states(self.config, output_hidden_states),
            output_attentions=False,  # refused above; the backbone must not read the config again
        )
        hidden = outputs.last_hidden_state
        logits = self.main_head(hidden)
        dur_logits = self.dur_head(hidden)
        loss = loss_main = loss_dur = None
        if labels is not None:
            check_labels(labels, input_ids, self.config)
            target = labels.long()  # int32 ids are accepted as for input_ids; the loss takes long
            special = (self.config.pad_token_id, self.config.bos_token_id, self.config.eos_token_id)
            loss, loss_main, loss_dur = measurenote_loss(
                logits, dur_logits, target, self.config.dur_loss_weight, special
            )
        output = MeasureNoteCausalLMOutput(
            loss=loss,
            loss_main=loss_main,
            loss_dur=loss_dur,
            logits=logits,
            dur_logits=dur_logits,
            state=outputs.state,
            hidden_states=outputs.hidden_states,
        )
        return output if wants_dict(self.config, return_dict) else output.to_tuple()


__all__ = [
    "PACKAGE_INSTALL",
    "MeasureNoteCausalLMOutput",
    "MeasureNoteForCausalLM",
    "MeasureNoteModel",
    "MeasureNoteModelOutput",
    "MeasureNotePreTrainedModel",
    "MeasureNoteState",
    "loss_target_counts",
    "measurenote_loss",
    "wants_dict",
]
