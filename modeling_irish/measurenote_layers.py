"""The building blocks of MeasureNote (`MeasureNoteModel` in `modeling_measurenote`).

The feature embeddings, the measure module (multi-head attention pooling of each measure's rows
and the measure GRU), the GRU helpers both models use (`run_gru`, `init_gru_`), the note GRU
of training run from per-feature lookup tables (`note_gru_from_ids`) and the GRUs of training
with their own backward (`gru_from_zeros`). A sibling of the model's
module, so it is saved beside it for ``trust_remote_code`` and imported relatively.

>>> gru = make_gru(input_size=3, hidden_size=4, num_layers=1, dropout=0.0)
>>> out, h_n = run_gru(gru, torch.randn(2, 5, 3), None, lengths=torch.tensor([5, 2]))
>>> out.shape, h_n.shape  # (batch, seq, hidden), (layers, batch, hidden)
(torch.Size([2, 5, 4]), torch.Size([1, 2, 4]))
>>> torch.equal(h_n[0, 1], out[1, 1]), bool(out[1, 2:].eq(0).all())  # h_n at its own end
(True, True)
"""

from typing import TYPE_CHECKING, Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .configuration_measurenote import MeasureNoteConfig
from .measurenote_checks import first_outside

if TYPE_CHECKING:  # the state is the model's public output type, defined beside the model
    from .modeling_measurenote import MeasureNoteState


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


def note_gru_from_ids(
    embeddings: "MeasureNoteEmbeddings", gru: nn.GRU, input_ids: torch.LongTensor
) -> torch.Tensor:
    """`gru(embeddings(input_ids))[0]` from zero states, without the layer-0 input product.

    The note GRU's input is the concatenation of 20 feature embeddings (656 wide in `small`), and
    its layer-0 input product `x @ W_ih^T` was ~15% of a CPU training step. That product is
    linear in each feature's slice, so a row's input gates are the sum over features of one row
    of the small table `E_f @ W_ih_f^T` each: one `embedding_bag` over the stacked tables
    (`_note_input_gates`). Layer 0 then runs over those gates step by step (`_gru_layer`): in
    training as one autograd node with a hand-written backward through time
    (`_GRULayerFunction`; autograd on the step loop was ~60% of a CPU training step), without
    gradients by the same forward (the same bits), under autocast as a loop of ATen's ops. The
    layers above it run the same way from their input products (`_upper_gru_layers`; in ATen's
    multi-layer GRU under autocast), with the dropout draws of `nn.GRU`. Returns the
    outputs of the last layer, `(batch, seq, hidden)`, and no final state (the model runs
    `nn.GRU` when it needs one).

    Under CPU autocast the recurrent products run in the autocast dtype and the outputs stay
    float32, as in `nn.GRU` (whose float32 input autocast does not cast, while the products
    inside it are cast); the looked-up input gates are float32.
    """
    embeddings.check_ids(input_ids)
    with torch.autocast(input_ids.device.type, enabled=False):  # a lookup: nothing to cast
        gates = _note_input_gates(embeddings, gru, input_ids)  # (seq, batch, 3 * hidden)
    w_hh, b_hh = gru.get_parameter("weight_hh_l0"), gru.get_parameter("bias_hh_l0")
    out = _gru_layer(gates, w_hh, b_hh)  # (seq, batch, hidden)
    if gru.num_layers > 1:
        out = _upper_gru_layers(gru, out)
    return out.transpose(0, 1)


def _note_input_gates(
    embeddings: "MeasureNoteEmbeddings", gru: nn.GRU, input_ids: torch.LongTensor
) -> torch.Tensor:
    """Layer-0 input gates `embeddings(input_ids) @ W_ih^T + b_ih`, time-major `(seq, batch, 3 *
    hidden)`, as sums of rows of the per-feature tables `E_f @ W_ih_f^T` (stacked in one table,
    feature f's rows from `offsets[f]`: ids must be checked first, or a bad id reads another
    feature's rows)."""
    tables, offsets, column, row = [], [], 0, 0
    weight_ih = gru.get_parameter("weight_ih_l0")
    for layer in embeddings.tables:
        width = layer.embedding_dim
        w_ih = weight_ih[:, column : column + width]  # (3 * hidden, width)
        tables.append(layer.weight @ w_ih.t())  # (vocab_f, 3 * hidden)
        offsets.append(row)
        column, row = column + width, row + layer.num_embeddings
    ids = input_ids.transpose(0, 1) + input_ids.new_tensor(offsets)  # (seq, batch, n_features)
    gates = F.embedding_bag(ids.flatten(0, 1), torch.cat(tables), mode="sum")
    return (gates + gru.get_parameter("bias_ih_l0")).unflatten(0, ids.shape[:2])


def _gru_layer(gates: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One GRU layer from zeros over precomputed input gates `(seq, batch, 3 * hidden)`, with the
    arithmetic of ATen's `GRUCell` (the gate order reset, update, new): `(seq, batch, hidden)`.

    It runs as `_GRULayerFunction`, whose hand-written backward records no graph per step, with
    gradients (training) and without (evaluation: the same forward, so the outputs are the same
    bits either way, and its buffers are faster than the loop); under autocast (whose casts that
    function would skip) it runs ATen's ops step by step."""
    if not torch.is_autocast_enabled(gates.device.type):
        return _GRULayerFunction.apply(gates, w_hh, b_hh)
    h, outputs = gates.new_zeros(gates.shape[1], w_hh.shape[1]), []
    for step in gates:
        x_r, x_z, x_n = step.chunk(3, dim=1)
        # ATen's linear_hh; the weight itself (a leaf), which autocast casts once, not per step
        h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=1)
        reset, update = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        new = torch.tanh(x_n + h_n * reset)
        h = (h - new) * update + new
        outputs.append(h)
    return torch.stack(outputs) if outputs else gates.new_zeros(0, *h.shape)


class _GRULayerFunction(torch.autograd.Function):
    """`_gru_layer` with a hand-written backward through time.

    Autograd on the step loop recorded ~10 nodes a step and ran two small products a step in the
    backward (the carried state's gradient and `W_hh`'s); layer 0 was ~60% of a CPU training step
    of `small`. Here the forward writes each step into preallocated buffers (5 ops a step), and
    the backward runs 3 ops a step, one of them the only product (the carried state's gradient);
    the gradients of `W_hh` and `b_hh` are one product and one sum over all steps at the end.
    """

    @staticmethod
    def forward(ctx, gates: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
        seq, batch, _ = gates.shape
        size = w_hh.shape[1]
        # states[t] is the state before step t (zeros first), states[1:] the outputs
        states = gates.new_empty(seq + 1, batch, size)
        states[0] = 0
        # per step [x_r + b_r, x_z + b_z, b_n] + h W_hh^T, then [r, z, hg_n] in place
        work = gates.new_empty(seq, batch, 3 * size)
        torch.add(gates[..., : 2 * size], b_hh[: 2 * size], out=work[..., : 2 * size])
        work[..., 2 * size :] = b_hh[2 * size :]
        new = gates.new_empty(seq, batch, size)
        x_n = gates[..., 2 * size :]
        w_t = w_hh.t()
        for t in range(seq):
            step = work[t].addmm_(states[t], w_t)
            step[:, : 2 * size].sigmoid_()
            reset, update, h_n = step.split(size, dim=1)
            torch.addcmul(x_n[t], h_n, reset, out=new[t]).tanh_()
            torch.lerp(new[t], states[t], update, out=states[t + 1])  # (h - new) * update + new
        ctx.save_for_backward(w_hh, work, new, states)
        return states[1:]

    @staticmethod
    @once_differentiable
    def backward(
        ctx, grad_out: torch.Tensor
    ) -> tuple[Optional[torch.Tensor], Optional[torch.Tensor], Optional[torch.Tensor]]:
        w_hh, work, new, states = ctx.saved_tensors
        seq, batch, size = new.shape
        reset, update, h_n = work.split(size, dim=-1)
        # The hidden gates' gradient at step t is dh_t (repeated per gate) times `factors[t]`:
        # [dn hg_n r (1 - r), (h_prev - n) z (1 - z), dn r] with dn = (1 - z) (1 - n^2), computed
        # in place (a fresh temporary of this size costs as much as the op)
        factors = new.new_empty(seq, batch, 3, size)
        f_r, f_z, f_n = factors.unbind(2)
        d_new = torch.mul(new, new).neg_().add_(1)
        one = new.new_ones(())
        d_new.mul_(torch.sub(one, update, out=f_z))
        f_z.mul_(update).mul_(torch.sub(states[:-1], new, out=f_r))
        torch.sub(one, reset, out=f_r).mul_(reset).mul_(h_n).mul_(d_new)
        torch.mul(d_new, reset, out=f_n)
        d_hidden = grad_out.new_empty(seq, batch, 3 * size)  # dG_t, the hidden gates' gradient
        d_state = grad_out.new_empty(seq, batch, size)  # dh_t, the state's gradient after step t
        if seq:
            d_state[-1] = grad_out[-1]
        for t in range(seq - 1, -1, -1):
            torch.mul(factors[t], d_state[t].unsqueeze(1), out=d_hidden[t].view(batch, 3, size))
            if t:  # dh_{t-1} = grad_out[t-1] + dh_t z_t + dG_t W_hh
                torch.addcmul(grad_out[t - 1], d_state[t], update[t], out=d_state[t - 1])
                d_state[t - 1].addmm_(d_hidden[t], w_hh)
        needs_gates, needs_w, needs_b = ctx.needs_input_grad
        flat = d_hidden.flatten(0, 1)
        grad_w = flat.t() @ states[:-1].flatten(0, 1) if needs_w else None
        grad_b = flat.sum(0) if needs_b else None
        grad_gates = None
        if needs_gates:  # the hidden gates' gradient but for the new gate's (no factor r)
            grad_gates = d_hidden
            torch.mul(d_state, d_new, out=grad_gates[..., 2 * size :])
        return grad_gates, grad_w, grad_b


def _upper_gru_layers(gru: nn.GRU, layer_0: torch.Tensor) -> torch.Tensor:
    """Layers 1.. of `gru` from zeros over layer 0's time-major output: dropout on it, as
    `nn.GRU` draws it between layers (the same `(seq, batch, hidden)` layout, so the same masks
    for the same seed), then the remaining layers (`gru_layers_from_zeros`).

    Under autocast they run in `torch.gru`, the ATen op `nn.GRU.forward` calls (as
    `torch._VF.gru`, the same function), which takes the layers' weights as a list, as no public
    module API does for a subset of layers. Undocumented: `test_upper_note_gru_layers_are_nn_gru`
    catches a change of it.
    """
    if not torch.is_autocast_enabled(layer_0.device.type):
        return gru_layers_from_zeros(gru, layer_0, first=1)
    out = F.dropout(layer_0, gru.dropout, gru.training) if gru.dropout else layer_0
    weights: list[torch.Tensor] = [
        p for name, p in gru.named_parameters() if not name.endswith("_l0")
    ]
    h0 = out.new_zeros(gru.num_layers - 1, out.shape[1], gru.hidden_size)
    # (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    return torch.gru(
        out, h0, weights, gru.bias, gru.num_layers - 1, gru.dropout, gru.training, False, False
    )[0]


def gru_layers_from_zeros(gru: nn.GRU, inputs: torch.Tensor, first: int = 0) -> torch.Tensor:
    """Layers `first`.. of `gru` (with biases) from zero states over time-major `inputs` `(seq,
    batch, features)`: each layer's input product over all steps at once, its recurrence in
    `_gru_layer`, and `nn.GRU`'s dropout on the input of every layer but the first (the same
    draws, in the same layout). Returns the last layer's `(seq, batch, hidden)`; no `h_n`.

    On the CPU `torch.gru` records ~10 autograd nodes a step and a weight-gradient product a
    step; here a layer is one node (`_GRULayerFunction`) with its weight gradients one product.
    """
    out = inputs
    for layer in range(first, gru.num_layers):
        if layer and gru.dropout:
            out = F.dropout(out, gru.dropout, gru.training)
        weights = [getattr(gru, f"{kind}_l{layer}") for kind in ("weight_ih", "bias_ih")]
        gates = F.linear(out, *weights)  # (seq, batch, 3 * hidden)
        out = _gru_layer(
            gates, getattr(gru, f"weight_hh_l{layer}"), getattr(gru, f"bias_hh_l{layer}")
        )
    return out


def gru_from_zeros(gru: nn.GRU, inputs: torch.Tensor) -> torch.Tensor:
    """`run_gru(gru, inputs, None)[0]` of a batch-first `gru` (the outputs, no state): on the
    CPU without autocast by `gru_layers_from_zeros` (faster to train, the same function to float
    rounding), else (a GPU, autocast, an empty batch) by `nn.GRU`."""
    on_cpu = inputs.device.type == "cpu" and not torch.is_autocast_enabled("cpu")
    if not on_cpu or min(inputs.shape[:2]) == 0:
        return run_gru(gru, inputs, None)[0]
    return gru_layers_from_zeros(gru, inputs.transpose(0, 1)).transpose(0, 1)


def make_gru(input_size: int, hidden_size: int, num_layers: int, dropout: float) -> nn.GRU:
    """A batch-first `nn.GRU`, its ``dropout`` between layers dropped for one layer (torch
    warns that it would do nothing there)."""
    dropout = dropout if num_layers > 1 else 0.0
    return nn.GRU(input_size, hidden_size, num_layers, batch_first=True, dropout=dropout)


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


class MeasureNoteEmbeddings(nn.Module):
    """One embedding table per feature; the row vector is their concatenation."""

    def __init__(self, config: MeasureNoteConfig) -> None:
        super().__init__()
        self.feature_names = list(config.feature_names)
        self.layers = nn.ModuleList(
            nn.Embedding(config.vocab_sizes[name], config.embedding_sizes[name])
            for name in config.feature_names
        )

    @property
    def tables(self) -> list[nn.Embedding]:
        """The embedding table of each feature, in `feature_names` order (`layers`, typed)."""
        tables = [layer for layer in self.layers if isinstance(layer, nn.Embedding)]
        if len(tables) != len(self.layers):
            raise TypeError("MeasureNoteEmbeddings.layers holds a module that is not an Embedding")
        return tables

    def forward(self, input_ids: torch.LongTensor) -> torch.Tensor:
        """Concatenated feature embeddings of `(batch, seq, n_features)` ids; an id beyond its
        table is a `ValueError` naming the feature (torch says only "index out of range")."""
        # (batch, seq, n_features) -> (batch, seq, total_embedding_size)
        self._check_feature_count(input_ids)
        try:
            return torch.cat(
                [layer(input_ids[..., i]) for i, layer in enumerate(self.layers)], dim=-1
            )
        except IndexError as err:  # torch says only "index out of range in self"
            raise ValueError(self._out_of_range(input_ids)) from err

    def check_ids(self, input_ids: torch.LongTensor) -> None:
        """Raise the errors of `forward` (which learns of a bad id from torch's IndexError)
        before `note_gru_from_ids` looks the ids up in one stacked table, where a bad id would
        silently read another feature's rows."""
        self._check_feature_count(input_ids)
        sizes = input_ids.new_tensor([layer.num_embeddings for layer in self.tables])
        if bool(((input_ids < 0) | (input_ids >= sizes)).any()):
            raise ValueError(self._out_of_range(input_ids))

    def _check_feature_count(self, input_ids: torch.LongTensor) -> None:
        """One id per feature in each row."""
        if input_ids.shape[-1] != len(self.layers):
            raise ValueError(
                f"input_ids has {input_ids.shape[-1]} features per row, the model "
                f"{len(self.layers)} ({', '.join(self.feature_names)})"
            )

    def _out_of_range(self, input_ids: torch.LongTensor) -> str:
        """Which feature holds an id its table lacks, and where (checked only after a failure)."""
        for i, layer in enumerate(self.tables):
            column = input_ids[..., i]
            where = first_outside(column, layer.num_embeddings)
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

    def __init__(self, config: MeasureNoteConfig) -> None:
        super().__init__()
        self.num_heads = config.measure_num_heads
        self.head_size = config.note_hidden_size // config.measure_num_heads
        self.attention = nn.Linear(config.note_hidden_size, config.note_hidden_size)
        # One learned query per head, dotted with tanh(W h) (the reference's ContextAttention).
        self.context_vector = nn.Parameter(torch.empty(self.num_heads, self.head_size))
        self.rnn = make_gru(
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
        state: Optional["MeasureNoteState"],
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
        if h0 is None and not need_state:  # training, scoring: no state in or out
            out, measure_hidden = gru_from_zeros(self.rnn, nodes[:, : n_seg - 1]), None
        else:
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
        assert measure_hidden is not None  # run_gru's: a state is needed
        return context, (measure_hidden, *new_pool)

    def _segment_softmax(
        self,
        hidden: torch.Tensor,
        flat: torch.Tensor,
        n_buckets: int,
        state: Optional["MeasureNoteState"],
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


__all__ = [
    "MeasureNoteEmbeddings",
    "MeasureNoteMeasureModule",
    "gru_from_zeros",
    "gru_layers_from_zeros",
    "init_gru_",
    "note_gru_from_ids",
    "run_gru",
    "make_gru",
]
