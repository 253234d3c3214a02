"""The batched sampling loop of `TuneGenerator`: filtered draws, the rows fed back each step
(`RowBuilder`), and the per-sample regrouping of what was sampled.

Devices: the model may be on any device (``pipeline("abc-generation")`` puts it on ``cuda:0``
where there is one). Only its inputs go there: the first rows, each step's rows and measure
numbers, and the index that keeps the state's rows. The rest of a step is tiny and stays on the
CPU, named as such (never torch's default device, which ``torch.set_default_device`` may have
moved): the masks, the rows kept for `_collect`, and the draws, from the model's last scores
copied back each step with the CPU `torch.Generator` of the seed. So one seed gives the same
draws on every device, and the tunes agree as far as the device's rounding of the scores lets
them (a score that a GPU rounds otherwise can, rarely, tip a draw).

>>> logits = torch.tensor([[0.0, 5.0, 1.0]])
>>> allowed = torch.tensor([[True, False, True]])
>>> draw(logits, allowed, torch.Generator().manual_seed(0), {"top_k": 1}).tolist()
[2]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from tokenization.abc_parser import Token
from tokenization.features import FEATURE_NAMES, HeaderInfo, beat_points, position_features
from tokenization.vocabulary import END_ID, PAD_ID, START_ID, UNK_ID

from .constraints import MaskBank, TuneConstraint
from .threads import eval_mode  # re-exported: it lived here, and its name is public here

__all__ = [
    "CPU",
    "N_POSITION_COLUMNS",
    "GenerationStopped",
    "RowBuilder",
    "draw",
    "eval_mode",
    "filter_logits",
    "free_masks",
    "sample_tunes",
]

_N_TOKEN = 4
#: where the sampler's own tensors live, whatever the model's device (see the module docstring)
CPU = torch.device("cpu")
#: the position columns of a row (after its four token columns)
N_POSITION_COLUMNS = 5


class GenerationStopped(Exception):
    """Raised by `sample_tunes` (and so `TuneGenerator.generate`) when its ``should_stop``
    says yes: the caller asked the sampling to stop (a request cut short), and nothing it
    sampled is kept. ``steps`` is how many tokens each tune had been given by then."""

    def __init__(self, steps: int) -> None:
        super().__init__(f"the sampling was stopped, as asked, after {steps} steps")
        self.steps = steps


def filter_logits(
    logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> torch.Tensor:
    """Temperature, top-k and nucleus (top-p) filtering of ``(batch, vocab)`` scores; removed
    entries become ``-inf``, and the best entry of a row is always kept. Any finite
    temperature is taken: a huge one flattens the allowed scores towards a uniform draw (past
    float32's range, to exactly uniform), a tiny one (0: greedy) sharpens them to the best
    one, and masked (``-inf``) entries stay ``-inf``, never NaN. With a temperature the
    scores come back shifted so that a row's best is 0 (the softmax is the same).

    >>> filter_logits(torch.tensor([[0.0, 1.0, 2.0]]), top_k=2).isinf().tolist()
    [[True, False, False]]
    >>> filter_logits(torch.tensor([[1.0, 2.0, float("-inf")]]), temperature=1e300).softmax(-1)
    tensor([[0.5000, 0.5000, 0.0000]])
    >>> filter_logits(torch.tensor([[1.0, 2.0, 0.0]]), top_p=1e-50).isinf().tolist()
    [[True, False, True]]
    """
    if temperature != 1.0:
        # from each row's best score, so that a tiny temperature sends the others to -inf and
        # never the best to inf (inf - inf is NaN in the softmax); and a temperature above
        # float32's range divides as inf, where -inf / inf is NaN: masked entries stay -inf
        best = logits.amax(-1, keepdim=True)
        best = torch.where(best.isfinite(), best, torch.zeros_like(best))
        scaled = (logits - best) / max(temperature, 1e-6)
        logits = torch.where(logits.isfinite(), scaled, logits)
    if top_k and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop = cumulative - sorted_logits.softmax(-1) >= top_p  # keep the first one past top_p
        # the best is kept whatever top_p: one that rounds to 0 in float32 (1e-50) dropped all
        drop[:, 0] = False
        drop = torch.zeros_like(drop).scatter(-1, order, drop)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def draw(
    logits: torch.Tensor, mask: torch.Tensor, generator: torch.Generator, sampling: dict
) -> torch.Tensor:
    """One id per row of ``(batch, vocab)`` ``logits``, drawn from those ``mask`` allows after
    `filter_logits` with ``sampling`` (its keyword arguments)."""
    logits = filter_logits(logits.masked_fill(~mask, float("-inf")), **sampling)
    probs = logits.float().softmax(-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


class RowBuilder:
    """Per-step row construction shared by every sample of one call."""

    def __init__(self, tokenizer: Any, header: HeaderInfo) -> None:
        vocab = tokenizer.abc_vocab
        self.vocab, self.meter = vocab, header.meter
        self.header_ids = torch.from_numpy(vocab.encode_header(header.values()))
        pc = torch.zeros(len(vocab.values["main"]), dtype=torch.long, device=CPU)
        octave = torch.zeros_like(pc)
        for i, value in enumerate(vocab.values["main"]):
            if value.startswith("pitch") and value[5:].isdigit():
                pitch = int(value[5:])
                pc[i] = vocab.id("pitch_class", str(pitch % 12))
                octave[i] = vocab.id("octave", str(pitch // 12))
        self.pc, self.octave = pc, octave
        self.onbeats, self.middles = beat_points(header.meter)
        self._positions: dict[tuple[int, Any], tuple[int, ...]] = {}
        self._names = FEATURE_NAMES[_N_TOKEN : _N_TOKEN + N_POSITION_COLUMNS]

    def position_ids(self, m_idx: int, offset: Any) -> tuple[int, ...]:
        """Ids of the five position columns (cached): the shared `position_features`."""
        key = (m_idx, offset)
        ids = self._positions.get(key)
        if ids is None:
            strings = position_features(m_idx, offset, self.onbeats, self.middles)
            ids = tuple(self.vocab.id(n, s) for n, s in zip(self._names, strings))
            self._positions[key] = ids
        return ids

    def rows(self, main: torch.Tensor, dur: torch.Tensor, positions: list) -> torch.Tensor:
        """``(batch, 1, 20)`` input rows, on the CPU, from main/dur ids (CPU tensors) and
        position id tuples."""
        batch = main.shape[0]
        token = torch.stack([main, dur, self.pc[main], self.octave[main]], dim=1)
        pos = torch.tensor(positions, dtype=torch.long, device=CPU).view(batch, N_POSITION_COLUMNS)
        header = self.header_ids.expand(batch, -1)
        return torch.cat([token, pos, header], dim=1).unsqueeze(1)


def free_masks(vocab: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks without constraints (on the CPU): any token but ``<pad>``, ``<start>``, ``<unk>``."""
    main = torch.ones(len(vocab.values["main"]), dtype=torch.bool, device=CPU)
    main[[PAD_ID, START_ID, UNK_ID]] = False
    dur = torch.ones(len(vocab.values["dur"]), dtype=torch.bool, device=CPU)
    dur[:4] = False
    return main, dur


def sample_tunes(
    model: Any,
    cons: list[TuneConstraint],
    batch: RowBuilder,
    first_rows: torch.Tensor,
    first_meas: torch.Tensor,
    banks: tuple[MaskBank, MaskBank],
    generator: torch.Generator,
    sampling: dict,
    constrained: bool,
    hard_max: int,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """The sampling loop; returns every sample's rows, measure numbers and tokens (CPU
    tensors and numpy arrays). ``first_rows``, ``first_meas`` and ``generator`` are on the CPU;
    the model on any device (see the module docstring). ``should_stop``, if given, is called
    before each step (one token for every tune, a model call); once it returns true the loop
    raises `GenerationStopped`, so a caller whose request was cut short stops within a step."""
    n = len(cons)
    kind = cons[0].tables.kind
    device = next(model.parameters()).device
    free_main, free_dur = free_masks(batch.vocab)
    out = model(
        first_rows.to(device),
        measure_numbers=first_meas.to(device),
        use_cache=True,
        return_dict=True,
    )
    state = out.state.select(torch.zeros(n, dtype=torch.long, device=device))
    logits = _last_scores(out.logits).expand(n, -1)
    dur_logits = _last_scores(out.dur_logits).expand(n, -1)
    active = list(range(n))
    tokens: list[list[Token]] = [[] for _ in range(n)]
    steps: list[tuple[torch.Tensor, list[int], list[int]]] = []
    for step in range(hard_max):
        if should_stop is not None and should_stop():
            raise GenerationStopped(step)
        if constrained:
            keys = [cons[i].keys() for i in active]
            main_mask = banks[0].gather([k[0] for k in keys])
            dur_mask = banks[1].gather([k[1] for k in keys])
        else:
            main_mask = free_main.expand(len(active), -1)
            dur_mask = free_dur.expand(len(active), -1)
        if not bool(main_mask.any(1).all()):
            stuck = active[int((~main_mask.any(1)).nonzero()[0])]
            raise ValueError(
                f"tune {stuck + 1}: no token fits the bar and repeat grammar after "
                f"{cons[stuck].rows} rows; the prompt's bars may not fit {batch.meter}"
            )
        main = draw(logits, main_mask, generator, sampling)
        dur = draw(dur_logits, dur_mask, generator, sampling)
        main_ids, dur_ids = main.tolist(), dur.tolist()
        keep, positions, measures = [], [], []
        for j, i in enumerate(active):
            c, m = cons[i], main_ids[j]
            if m == END_ID:
                c.done = True
                continue
            if kind[m] != "note" and kind[m] != "rest":
                dur_ids[j] = PAD_ID
            token = c.push(m, dur_ids[j])
            assert token is not None  # None is <end>'s, taken above
            tokens[i].append(token)
            tr = c.tracker
            positions.append(batch.position_ids(tr.m_idx, tr.offset))
            measures.append(tr.measure)
            keep.append(j)
        if not keep:
            break
        index = torch.tensor(keep, dtype=torch.long, device=CPU)
        if len(keep) < len(active):
            state = state.select(index.to(device))
        active = [active[j] for j in keep]
        dur_kept = torch.tensor(dur_ids, dtype=torch.long, device=CPU)[index]
        rows = batch.rows(main[index], dur_kept, positions)
        steps.append((rows[:, 0], active, measures))
        meas = torch.tensor(measures, dtype=torch.long, device=device).view(-1, 1)
        out = model(
            rows.to(device), measure_numbers=meas, state=state, use_cache=True, return_dict=True
        )
        state = out.state
        logits, dur_logits = _last_scores(out.logits), _last_scores(out.dur_logits)
    for i in active:
        cons[i].truncated = not cons[i].done
    return _collect(steps, tokens, n)


def _last_scores(scores: torch.Tensor) -> torch.Tensor:
    """The ``(batch, vocab)`` scores of the last row of the model's ``(batch, seq, vocab)``
    ``scores``, on the CPU where the draws are made (the same tensor for a CPU model)."""
    return scores[:, -1].to(CPU)


def _collect(steps: list, tokens: list[list[Token]], n: int) -> dict:
    """Regroup the per-step rows by sample, in order."""
    if not steps:
        empty = np.zeros((0, len(FEATURE_NAMES)), dtype=np.int64)
        return {"rows": [empty] * n, "measures": [np.zeros(0, np.int64)] * n, "tokens": tokens}
    rows = torch.cat([s[0] for s in steps]).numpy()
    owner = np.concatenate([np.asarray(s[1]) for s in steps])
    measures = np.concatenate([np.asarray(s[2]) for s in steps])
    order = np.argsort(owner, kind="stable")
    bounds = np.cumsum(np.bincount(owner, minlength=n))[:-1]
    return {
        "rows": np.split(rows[order], bounds),
        "measures": np.split(measures[order], bounds),
        "tokens": tokens,
    }
