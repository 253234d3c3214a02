"""Batched, seeded, measure-aware sampling of whole tunes from a `MeasureNoteForCausalLM`."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from tokenization.abc_parser import AbcTune, Token
from tokenization.abc_writer import tokens_to_body, write_abc
from tokenization.features import (
    FEATURE_NAMES,
    HEADER_FEATURES,
    HeaderInfo,
    beat_points,
    position_features,
)
from tokenization.keys import (
    Key,
    mode_name,
    output_shift,
    parse_key,
    standard_key,
    transpose_tokens,
)
from tokenization.tokenization_abc import read_tune
from tokenization.vocabulary import END_ID, PAD_ID, START_ID, UNK_ID

from .constraints import (
    ConstraintTables,
    MaskBank,
    TuneConstraint,
    build_dur_mask,
    build_main_mask,
    validate_tune,
)
from .generation_args import (
    DEFAULT_MAX_ROWS,
    bars_after_prompt,
    check_lengths,
    check_meter,
    check_numbering,
    check_one_meter,
    check_prompt_scans,
    check_room,
    check_sampling,
    check_seed,
    check_unit_length,
    prompt_tokens,
    same_meter,
)
from .threads import torch_threads

logger = logging.getLogger(__name__)

__all__ = [
    "RHYTHM_METERS",
    "GeneratedTune",
    "TuneGenerator",
    "check_tokenizer_fits",
    "filter_logits",
    "fillable_bar_lengths",
]

#: The usual meter of each tune type of thesession.org (the corpus's usual one). A new tune in
#: one of these meters, asked for without a rhythm, is conditioned on the first type in it.
_TYPE_METERS = {
    "reel": "4/4",
    "hornpipe": "4/4",
    "barndance": "4/4",
    "strathspey": "4/4",
    "jig": "6/8",
    "slide": "12/8",
    "slip jig": "9/8",
    "polka": "2/4",
    "march": "2/4",
    "waltz": "3/4",
    "mazurka": "3/4",
    "three-two": "3/2",
}
#: Other spellings and types of the default training corpus, music21's O'Neill's 1850 and
#: Ryan's Mammoth (``R:slipjig``, ``R:double jig``, ``R:clog``, ``R:highland fling``, in the
#: meter its tunes of that type all have, ``C|`` read as 2/2), and of Irish tunebooks.
_OTHER_TYPE_METERS = {
    "slipjig": "9/8",
    "double jig": "6/8",
    "single jig": "6/8",
    "hop jig": "9/8",
    "clog": "2/2",
    "highland fling": "2/2",
}
#: Default meter of each tune type; a type not here (an air: its tunes have many meters) needs
#: the meter given.
RHYTHM_METERS = {**_TYPE_METERS, **_OTHER_TYPE_METERS}
_N_TOKEN, _N_POS = 4, 5
_HEADER = re.compile(r"[A-Za-z]:")


@dataclass
class GeneratedTune:
    """One sampled tune.

    Attributes:
        abc: ABC text (headers X, T, R, M, L, K) in the requested key.
        tokens: parser tokens in the requested key (what `abc` writes).
        rows: ``(n_rows, 20)`` feature ids in the normalised key, ``<start>`` ... ``<end>``
            (what `AbcTokenizer.encode_tune(abc)` gives back, up to whole octaves: the written
            tune is centred on the playing register, `tokenization.keys.output_shift`).
        measure_numbers: ``(n_rows,)`` measure group of each row's next token.
        valid: `validate_tune` found no problem.
        errors: the problems found.
        truncated: the sample hit the hard row limit before ``<end>``.
        key: the key written; meter, rhythm as conditioned.
        normalised_tokens: the tokens on the white keys, as sampled (the corpus's frame).
    """

    abc: str
    tokens: list[Token]
    rows: np.ndarray
    measure_numbers: np.ndarray
    valid: bool
    errors: list[str] = field(default_factory=list)
    truncated: bool = False
    key: Key | None = None
    meter: str = ""
    rhythm: str = ""
    normalised_tokens: list[Token] = field(default_factory=list)


def filter_logits(
    logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> torch.Tensor:
    """Temperature, top-k and nucleus (top-p) filtering of ``(batch, vocab)`` scores; removed
    entries become ``-inf``. Any finite temperature is taken: a huge one flattens the allowed
    scores towards a uniform draw (past float32's range, to exactly uniform), and masked
    (``-inf``) entries stay ``-inf``, never NaN.

    >>> filter_logits(torch.tensor([[0.0, 1.0, 2.0]]), top_k=2).isinf().tolist()
    [[True, False, False]]
    >>> filter_logits(torch.tensor([[1.0, 2.0, float("-inf")]]), temperature=1e300).tolist()
    [[0.0, 0.0, -inf]]
    """
    if temperature != 1.0:
        # a temperature above float32's range divides as inf, and -inf / inf is NaN
        scaled = logits / max(temperature, 1e-6)
        logits = torch.where(logits.isfinite(), scaled, logits)
    if top_k and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop = cumulative - sorted_logits.softmax(-1) >= top_p  # keep the first one past top_p
        drop = torch.zeros_like(drop).scatter(-1, order, drop)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def _spelled(key: Key) -> Key:
    """``key``, or when its signature needs more than 7 sharps or flats (``Db minor``, ``E#``),
    the same sound spelled as usual (`standard_key`), with a warning: ABC readers disagree on
    such a signature (music21 reads other notes), and `write_abc` writes the usual one anyway."""
    usual = standard_key(key)
    if usual != key:
        # logged like the other warnings about a request (a Python warning named this line)
        logger.warning(
            "%s needs %d %s in its signature: the tunes are written in %s, the same sound",
            key.name, abs(key.signature), "sharps" if key.signature > 0 else "flats", usual.name,
        )  # fmt: skip
    return usual


class _Batch:
    """Per-step row construction shared by every sample of one call."""

    def __init__(self, tokenizer: Any, header: HeaderInfo) -> None:
        vocab = tokenizer.abc_vocab
        self.vocab, self.meter = vocab, header.meter
        self.header_ids = torch.from_numpy(vocab.encode_header(header.values()))
        pc = torch.zeros(len(vocab.values["main"]), dtype=torch.long)
        octave = torch.zeros_like(pc)
        for i, value in enumerate(vocab.values["main"]):
            if value.startswith("pitch") and value[5:].isdigit():
                pitch = int(value[5:])
                pc[i] = vocab.id("pitch_class", str(pitch % 12))
                octave[i] = vocab.id("octave", str(pitch // 12))
        self.pc, self.octave = pc, octave
        self.onbeats, self.middles = beat_points(header.meter)
        self._positions: dict[tuple[int, Any], tuple[int, ...]] = {}
        self._names = FEATURE_NAMES[_N_TOKEN : _N_TOKEN + _N_POS]

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
        """``(batch, 1, 20)`` input rows from main/dur ids and position id tuples."""
        batch = main.shape[0]
        token = torch.stack([main, dur, self.pc[main], self.octave[main]], dim=1)
        pos = torch.tensor(positions, dtype=torch.long).view(batch, _N_POS)
        header = self.header_ids.expand(batch, -1)
        return torch.cat([token, pos, header], dim=1).unsqueeze(1)


@dataclass
class _Request:
    """Resolved conditioning of one `TuneGenerator.generate` call."""

    key: Key
    meter: str
    rhythm: str
    prompt_tokens: list[Token]
    unit: Any
    #: median written pitch of the prompt (None without one): the tune is written in the octave
    #: that keeps the prompt where it was typed
    prompt_centre: int | None = None
    #: the prompt's T: (None without one): a continued tune is titled after it
    prompt_title: str | None = None
    #: the prompt as typed (None without one), its tokens aligned with `prompt_tokens`: the
    #: errors about the prompt name its notes as the user wrote them
    written_prompt: AbcTune | None = None


def _is_unit(unit: Fraction) -> bool:
    """Whether ``unit`` is an ``L:`` that `check_unit_length` accepts (``1/N``, ``N`` a power
    of two up to 64)."""
    try:
        check_unit_length(unit)
    except ValueError:
        return False
    return True


def _rhythm_of(meter: str | None) -> str:
    """The tune type a new tune is conditioned on when none is asked for: the first of
    `_TYPE_METERS` in ``meter`` ("reel" without one), "unspecified" for a meter none is in.

    >>> _rhythm_of(None), _rhythm_of("9/8"), _rhythm_of("5/4")
    ('reel', 'slip jig', 'unspecified')
    """
    if meter is None:
        return "reel"
    return next((r for r, usual in _TYPE_METERS.items() if same_meter(usual, meter)), "unspecified")


def _usual_meter(rhythm: str) -> str:
    """The meter of a new tune of type ``rhythm`` asked for without one: its `RHYTHM_METERS`
    entry; a `ValueError` asking for the meter for a type not there (it used to be 4/4, even for
    a type the corpus has in 9/8), with the types of nearest spelling.

    >>> _usual_meter("slipjig")
    '9/8'
    >>> _usual_meter("slip jigg")
    Traceback (most recent call last):
    ...
    ValueError: no usual meter is known for rhythm 'slip jigg' (did you mean 'slip jig' or ...
    """
    import difflib

    usual = RHYTHM_METERS.get(rhythm)
    if usual is not None:
        return usual
    near = difflib.get_close_matches(rhythm, RHYTHM_METERS, n=2, cutoff=0.7)
    hint = f" (did you mean {' or '.join(map(repr, near))}?)" if near else ""
    raise ValueError(
        f"no usual meter is known for rhythm {rhythm!r}{hint}: give meter (--meter), e.g. "
        f"'6/8', or a rhythm whose meter is known ({', '.join(_TYPE_METERS)}...)"
    )


def _warn_prompt_warnings(warnings: list[str]) -> None:
    """Log, at WARNING, what the ABC reader left out of or changed in the prompt (a part after
    a blank line, a second voice, an overlay, a tie between two pitches): the tunes continue
    what was read, and that music must not be lost without a word (the tokenizer says so too)."""
    if warnings:
        logger.warning(
            "the prompt was not read exactly as written: %s; the tunes continue what was read",
            "; ".join(warnings),
        )


def _unknown_token(prompt: AbcTune, index: int, main: bool, dur: bool) -> str:
    """Token ``index`` of the prompt as typed (ABC, in its key and ``L:``), and what of it the
    model's vocabulary lacks: ``main`` its pitch or symbol, ``dur`` its length. The rows hold
    it on the white keys (``pitch36``), which is not what the user wrote.

    >>> from tokenization.abc_parser import parse_abc
    >>> _unknown_token(parse_abc("X:1\\nL:1/8\\nK:G\\nG,,2 A|"), 0, True, False)
    "'G,,2' (a pitch the model never saw)"
    >>> _unknown_token(parse_abc("X:1\\nL:1/8\\nK:G\\n(3:2:4ABcd|"), 0, True, False)
    "'(3:2:4' (a tuplet the model never saw)"
    """
    token = prompt.tokens[index]
    if token.kind not in ("note", "rest"):
        return f"{token.text!r} (a {token.kind} the model never saw)"
    typed = tokens_to_body([token], key=prompt.key, unit=prompt.unit)
    what = " and ".join(
        name
        for name, lacking in (("pitch", main and token.kind == "note"), ("length", dur))
        if lacking
    )
    return f"{typed!r} (a {what or 'token'} the model never saw)"


def _default_title(req: _Request, rhythm: str | None, number: int) -> str:
    """``T:`` of a tune when the caller gives no title: the prompt's title for a continued
    prompt (``"The Kesh, continued 2"``), else ``"Generated reel 2"``."""
    if req.prompt_title:
        return f"{req.prompt_title}, continued {number}"
    return f"Generated {rhythm or 'tune'} {number}"


def _draw(
    logits: torch.Tensor, mask: torch.Tensor, generator: torch.Generator, sampling: dict
) -> torch.Tensor:
    logits = filter_logits(logits.masked_fill(~mask, float("-inf")), **sampling)
    probs = logits.float().softmax(-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def check_tokenizer_fits(config: Any, tokenizer: Any) -> None:
    """Raise `ValueError` unless `tokenizer`'s vocabulary has the sizes the model was built with.

    A model samples ids of the tokenizer it was trained with; another tokenizer would decode them
    as other tokens (or index past its tables).

    >>> from modeling_irish.configuration_measurenote import MeasureNoteConfig
    >>> from tokenization.tokenization_abc import AbcTokenizer
    >>> tok = AbcTokenizer.train(["X:1\\nM:2/4\\nL:1/8\\nK:D\\nDFAd|f2d2|]"])
    >>> check_tokenizer_fits(MeasureNoteConfig(vocab_sizes=tok.abc_vocab.sizes), tok)
    >>> check_tokenizer_fits(MeasureNoteConfig(), tok)
    Traceback (most recent call last):
    ...
    ValueError: the tokenizer does not fit this model: feature 'main' has ... ids in the ...
    """
    sizes = tokenizer.abc_vocab.sizes
    for name in config.feature_names:
        if sizes.get(name) != config.vocab_sizes[name]:
            raise ValueError(
                f"the tokenizer does not fit this model: feature {name!r} has {sizes.get(name)} "
                f"ids in the tokenizer and {config.vocab_sizes[name]} in the model; load the "
                "tokenizer saved with the model (AbcTokenizer.from_pretrained(model_folder))"
            )


@contextlib.contextmanager
def _eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """``model`` in eval mode (no dropout) inside, and in its own mode again after: sampling in
    the middle of training must not leave dropout off for the rest of it."""
    training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(training)


class TuneGenerator:
    """Sample whole tunes, optionally constrained to scan (`modeling_irish.constraints`).

    Every step feeds one row per unfinished sample with the carried recurrent state (the prefix
    is never recomputed); positions of the next row come from the shared `MeasureTracker`.

    Args:
        model: a `MeasureNoteForCausalLM`.
        tokenizer: its `AbcTokenizer`.

    Example:
        >>> gen = TuneGenerator(model, tokenizer)  # doctest: +SKIP
        >>> tunes = gen.generate(4, rhythm="jig", key="G", seed=0)  # doctest: +SKIP
        >>> print(tunes[0].abc)  # doctest: +SKIP
    """

    def __init__(self, model: Any, tokenizer: Any) -> None:
        check_tokenizer_fits(model.config, tokenizer)
        self.model = model  # put in eval mode while sampling, then back (`_eval_mode`)
        self.tokenizer = tokenizer
        self.vocab = tokenizer.abc_vocab
        self._masks: dict[str, tuple[ConstraintTables, MaskBank, MaskBank]] = {}

    def tables(self, meter: str) -> tuple[ConstraintTables, MaskBank, MaskBank]:
        """Constraint tables and mask banks of a meter (built once, then reused); a `ValueError`
        naming the bar lengths the tokenizer can fill when it cannot fill a bar of ``meter``."""
        if meter not in self._masks:
            try:
                tables = ConstraintTables(self.vocab, meter)
            except ValueError as err:
                raise ValueError(_unfillable(meter, self.vocab)) from err
            main = MaskBank(lambda key: build_main_mask(tables, key))
            dur = MaskBank(lambda key: build_dur_mask(tables, key))
            self._masks[meter] = (tables, main, dur)
        return self._masks[meter]

    @torch.no_grad()
    def generate(
        self,
        num_tunes: int = 1,
        rhythm: str | None = None,
        meter: str | None = None,
        mode: str | None = None,
        key: str | Key | None = None,
        unit_length: str | Fraction | None = None,
        prompt: str | None = None,
        num_bars: int | None = 16,
        max_rows: int | None = DEFAULT_MAX_ROWS,
        min_bars: int = 4,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        seed: int = 0,
        constrained: bool = True,
        title: str | None = None,
        num_threads: int | None = 1,
        first_number: int = 1,
    ) -> list[GeneratedTune]:
        """Sample ``num_tunes`` tunes in one batch. Arguments are checked before anything is
        sampled (`ValueError` saying what is accepted).

        Args:
            rhythm: tune type (``"reel"``, ``"jig"``, ``"slip jig"``...). Default: for a
                prompt, its ``R:``, or ``"unspecified"`` without one (what the model was
                trained on for the corpus's tunes without ``R:``; written without ``R:``);
                for a new tune, the tune type of ``meter`` (`RHYTHM_METERS`: 9/8 a slip jig;
                ``"unspecified"`` for a meter of none), else reel.
            meter: ``N/D``, ``D`` a power of two up to 64 (`check_meter`); defaults to the
                prompt's, else the usual meter of ``rhythm`` (`RHYTHM_METERS`: the corpus's
                spellings too, ``"slipjig"`` 9/8, ``"double jig"`` 6/8, ``"clog"`` 2/2). A
                prompt without a meter (no ``M:``, or ``M:none``), and a new tune of a rhythm
                not in `RHYTHM_METERS` (``"air"``), need one given.
            mode: ``"major"``, ``"dorian"``...; overrides the mode of ``key``.
            key: the real key to write (``"D"``, ``"E dorian"``; default D, or the prompt's);
                the model is conditioned on the same mode on the white keys.
            unit_length: the ``L:`` of the written ABC, ``1/N`` with ``N`` a power of two up
                to 64 (`check_unit_length`); default the prompt's (its ``L:``, or the unit its
                meter implies without one), else 1/8.
            prompt: an ABC incipit to continue (its key, meter and rhythm are used where the
                arguments are ``None``), in one meter: a mid-prompt ``M:`` change is refused.
                A tie at its end goes on to the first sampled note (the same pitch).
            num_bars: bars after which the tune is steered to close (repeats, final bar); a
                prompt of as many bars or more is continued and closed after its last bar.
            max_rows: soft cap on the rows (`GeneratedTune.rows`, the prompt's and ``<start>``
                and ``<end>`` included): the tune is steered to close before it, judging the
                bars to come as wide as its widest so far (at least a bar of eighth notes), so
                only closing bars wider than those take a tune past it. It must leave room for
                five bars of eighth notes after the prompt (with their bar lines, an opening
                one, ``<start>`` and ``<end>``: `check_room`), so that a tune of eighth notes
                without a pickup gets four bars (with fewer, ``min_bars`` yields to the cap).
                Twice it is a hard limit: a tune still open there is cut (``truncated``, not
                ``valid``).
                ``num_bars`` and ``max_rows`` may not both be ``None``.
            min_bars: fewest bars before the model may end a tune by itself.
            temperature, top_k, top_p: sampling filters (temperature 0 picks the likeliest
                allowed token, any finite one is taken: a huge one draws the allowed tokens
                near uniformly; top_k 0 and top_p 1 are off).
            seed: seed of the `torch.Generator`, ``0 <= seed < 2**64``: the same seed and
                ``num_tunes`` give the same tunes (the tunes of a batch are drawn together, so
                another ``num_tunes`` gives others).
            constrained: mask tokens that would break the bar/repeat grammar.
            num_threads: torch threads while sampling (default 1: robust on busy machines,
                see `modeling_irish.threads`), at least 1; ``None`` keeps torch's setting.
            title: the ``T:`` of every tune; default ``"Generated reel 1"``, ``"... 2"``..., or
                for a prompt with a ``T:`` its title (``"The Kesh, continued 1"``).
            first_number: the ``X:`` (and default title number) of the first tune, at least 1;
                the others follow (a caller sampling in several batches numbers them through).
        """
        check_sampling(num_tunes, temperature, top_k, top_p)
        if num_tunes > 1 and (temperature == 0 or top_k == 1):
            logger.warning(
                "%s samples greedily: the %d tunes will be the same (raise it to vary them)",
                "temperature=0" if temperature == 0 else "top_k=1", num_tunes,
            )  # fmt: skip
        check_lengths(num_bars, max_rows, min_bars)
        seed = check_seed(seed)
        check_numbering(num_threads, first_number)
        with torch_threads(num_threads), _eval_mode(self.model):
            req = self._request(rhythm, meter, mode, key, unit_length, prompt)
            white = req.key.white
            header = HeaderInfo(white.name, white.tonic, white.mode, 0, req.meter, req.rhythm)
            tables, main_bank, dur_bank = self.tables(req.meter)
            check_room(max_rows, req.meter, tables.bar_eighths, len(req.prompt_tokens))
            if constrained:
                check_prompt_scans(req.prompt_tokens, req.meter)
            num_bars = bars_after_prompt(num_bars, req.prompt_tokens)
            cons = [TuneConstraint(tables, num_bars, max_rows, min_bars) for _ in range(num_tunes)]
            batch = _Batch(self.tokenizer, header)
            first_rows, first_meas = self._first_rows(batch, header, req, cons)
            generator = torch.Generator().manual_seed(seed)
            sampling = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
            hard_max = 2 * (max_rows or DEFAULT_MAX_ROWS)
            records = self._loop(
                cons,
                batch,
                first_rows,
                first_meas,
                (main_bank, dur_bank),
                generator,
                sampling,
                constrained,
                hard_max,
            )
            finish = (first_rows, first_meas, batch, req, title)
            return [
                self._finish(first_number + i, cons[i], records, i, *finish)
                for i in range(num_tunes)
            ]

    def _request(
        self,
        rhythm: str | None,
        meter: str | None,
        mode: str | None,
        key: str | Key | None,
        unit_length: str | Fraction | None,
        prompt: str | None,
    ) -> _Request:
        tokens: list[Token] = []
        prompt_key = centre = prompt_title = original = None
        if rhythm is not None:  # read as the tokenizer reads R: (`HeaderInfo.from_tune`)
            if not isinstance(rhythm, str):
                raise TypeError(f"rhythm must be a tune type such as 'jig', got {rhythm!r}")
            rhythm = rhythm.strip().lower() or None
        asked_rhythm = rhythm
        if key is not None and not isinstance(key, (str, Key)):
            raise TypeError(f"key must be a key such as 'D' or 'E dorian', got {key!r}")
        if mode is not None and not isinstance(mode, str):
            raise TypeError(f"mode must be a mode such as 'dorian', got {mode!r}")
        if isinstance(prompt, str) and not prompt.strip():
            prompt = None  # blank: a new tune, as "" (and the pipeline's blank input) is
        unit = check_unit_length(unit_length if unit_length is not None else "1/8")
        meter = None if meter is None else check_meter(meter)
        if prompt:
            original, tune = read_tune(prompt, keep_final_tie=True)
            _warn_prompt_warnings(original.warnings)
            if tune.meter:
                try:
                    check_meter(tune.meter)
                except ValueError as err:
                    raise ValueError(f"the prompt's M:{tune.meter}: {err}") from None
            check_one_meter(tune)
            if meter and tune.meter and not same_meter(meter, tune.meter):
                raise ValueError(
                    f"the prompt is in {tune.meter}: its bars cannot continue in meter={meter!r} "
                    "(leave meter out to keep the prompt's)"
                )
            if not (meter or tune.meter):
                raise ValueError(
                    "the prompt has no meter (no M: line, or M:none), so there is no bar for its "
                    "continuation to fill: give meter (--meter), e.g. '6/8', or an M: line"
                )
            prompt_key, meter = original.key, meter or tune.meter
            if unit_length is None and _is_unit(original.unit):
                unit = original.unit  # a continued tune keeps the prompt's L:
            rhythm = rhythm or (tune.fields.get("R") or [""])[0].strip().lower() or None
            tokens = prompt_tokens(tune.tokens)
            written = sorted(t.pitch for t in original.tokens if t.kind == "note")
            centre = written[len(written) // 2] if written else None
            prompt_title = (tune.fields.get("T") or [""])[0].strip() or None
        target = key if isinstance(key, Key) else parse_key(key) if key else prompt_key
        target = target or Key("D", "major")
        if mode:
            target = Key(target.tonic, mode_name(mode))
        target = _spelled(target)
        if prompt_key is not None and prompt_key.mode != target.mode:
            raise ValueError(f"the prompt is in {prompt_key.name}, not a {target.mode} key")
        rhythm = (rhythm or ("unspecified" if prompt else _rhythm_of(meter))).lower()
        meter = meter or _usual_meter(rhythm)
        usual = RHYTHM_METERS.get(rhythm)
        if asked_rhythm and usual and not same_meter(usual, meter):
            logger.warning(
                "a %s is usually in %s; sampling one in %s (%s)",
                rhythm, usual, meter,
                "the prompt's meter" if prompt and meter == tune.meter else "the meter given",
            )  # fmt: skip
        return _Request(target, meter, rhythm, tokens, unit, centre, prompt_title, original)

    def _first_rows(
        self, batch: _Batch, header: HeaderInfo, req: _Request, cons: list[TuneConstraint]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(1, n, 20)`` rows and ``(1, n)`` measure numbers fed before sampling: ``<start>``,
        then the prompt's tokens (pushed into every sample's constraint)."""
        from tokenization.features import tune_to_rows

        rows = tune_to_rows(req.prompt_tokens, header)
        encoded = self.vocab.encode(rows)[:-1]  # drop <end>
        measures = rows.measure_numbers[:-1]
        self._warn_unknown_header(rows.header, encoded[0, -len(rows.header) :], batch.vocab)
        unknown_ids = encoded[1:, :2] == UNK_ID  # (n_prompt_tokens, 2): main, dur
        unknown = np.flatnonzero(unknown_ids.any(axis=1))
        if unknown.size:
            first = int(unknown[0])
            raise ValueError(
                f"the prompt has {unknown.size} token(s) outside the model's vocabulary; the "
                f"first is token {first + 1} of the prompt body, "
                + _unknown_token(req.written_prompt, first, *unknown_ids[first].tolist())
            )
        for c in cons:
            for main_id, dur_id in encoded[1:, :2].tolist():
                c.push(main_id, dur_id)
        rows = torch.from_numpy(encoded).unsqueeze(0)
        return rows, torch.tensor([measures], dtype=torch.long)

    @staticmethod
    def _warn_unknown_header(values: tuple[str, ...], ids: np.ndarray, vocab: Any) -> None:
        """Say which header values the model never saw (it is conditioned on ``<unk>`` there),
        with the known values nearest in spelling (``slipjig`` -> ``slip jig``)."""
        import difflib

        unknown = []
        for name, value, i in zip(HEADER_FEATURES, values, ids.tolist()):
            if i != UNK_ID:
                continue
            known = [v for v in vocab.values[name] if not v.startswith("<")]
            near = difflib.get_close_matches(str(value), known, n=2, cutoff=0.7)
            hint = f" (did you mean {' or '.join(map(repr, near))}?)" if near else ""
            unknown.append(f"{name}={value!r}{hint}")
        if unknown:
            logger.warning(
                "the model's tokenizer has never seen %s: it is conditioned on <unk> there, so "
                "the tunes may not sound like the request (bars still fit the meter)",
                ", ".join(unknown),
            )

    def _free_masks(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Masks without constraints: any token but ``<pad>``, ``<start>``, ``<unk>``."""
        main = torch.ones(len(self.vocab.values["main"]), dtype=torch.bool)
        main[[PAD_ID, START_ID, UNK_ID]] = False
        dur = torch.ones(len(self.vocab.values["dur"]), dtype=torch.bool)
        dur[:4] = False
        return main, dur

    def _loop(
        self,
        cons: list[TuneConstraint],
        batch: _Batch,
        first_rows: torch.Tensor,
        first_meas: torch.Tensor,
        banks: tuple[MaskBank, MaskBank],
        generator: torch.Generator,
        sampling: dict,
        constrained: bool,
        hard_max: int,
    ) -> dict:
        """The sampling loop; returns every sample's rows, measure numbers and tokens."""
        n, model = len(cons), self.model
        kind = cons[0].tables.kind
        free_main, free_dur = self._free_masks()
        out = model(first_rows, measure_numbers=first_meas, use_cache=True, return_dict=True)
        state = out.state.select(torch.zeros(n, dtype=torch.long))
        logits = out.logits[:, -1].expand(n, -1)
        dur_logits = out.dur_logits[:, -1].expand(n, -1)
        active = list(range(n))
        tokens: list[list[Token]] = [[] for _ in range(n)]
        steps: list[tuple[torch.Tensor, list[int], list[int]]] = []
        for _ in range(hard_max):
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
            main = _draw(logits, main_mask, generator, sampling)
            dur = _draw(dur_logits, dur_mask, generator, sampling)
            main_ids, dur_ids = main.tolist(), dur.tolist()
            keep, positions, measures = [], [], []
            for j, i in enumerate(active):
                c, m = cons[i], main_ids[j]
                if m == END_ID:
                    c.done = True
                    continue
                if kind[m] != "note" and kind[m] != "rest":
                    dur_ids[j] = PAD_ID
                tokens[i].append(c.push(m, dur_ids[j]))
                tr = c.tracker
                positions.append(batch.position_ids(tr.m_idx, tr.offset))
                measures.append(tr.measure)
                keep.append(j)
            if not keep:
                break
            index = torch.tensor(keep, dtype=torch.long)
            if len(keep) < len(active):
                state = state.select(index)
            active = [active[j] for j in keep]
            rows = batch.rows(main[index], torch.tensor(dur_ids)[index], positions)
            steps.append((rows[:, 0], active, measures))
            meas = torch.tensor(measures, dtype=torch.long).view(-1, 1)
            out = model(rows, measure_numbers=meas, state=state, use_cache=True, return_dict=True)
            state, logits, dur_logits = out.state, out.logits[:, -1], out.dur_logits[:, -1]
        for i in active:
            cons[i].truncated = not cons[i].done
        return _collect(steps, tokens, n)

    def _finish(
        self,
        number: int,
        c: TuneConstraint,
        records: dict,
        i: int,
        first_rows: torch.Tensor,
        first_meas: torch.Tensor,
        batch: _Batch,
        req: _Request,
        title: str | None,
    ) -> GeneratedTune:
        rows, meas = records["rows"][i], records["measures"][i]
        parts = [first_rows[0].numpy(), rows]
        meas_parts = [first_meas[0].numpy(), meas]
        truncated = c.truncated
        if not truncated:
            end = np.concatenate([[END_ID, PAD_ID, PAD_ID, PAD_ID], [END_ID] * _N_POS])
            parts.append(np.concatenate([end, batch.header_ids.numpy()])[None])
            meas_parts.append([int(meas_parts[-1][-1]) if len(meas_parts[-1]) else 0])
        tokens = req.prompt_tokens + records["tokens"][i]
        if req.prompt_centre is None:  # a new tune: centred on the playing register
            pitches = [t.pitch for t in tokens if t.kind == "note"]
            shift = output_shift(req.key.white, req.key, pitches)
        else:  # a continued prompt: in the octave that leaves the prompt where it was typed
            pitches = [t.pitch for t in req.prompt_tokens if t.kind == "note"]
            shift = output_shift(req.key.white, req.key, pitches, centre=req.prompt_centre)
        real = transpose_tokens(tokens, shift)
        rhythm = None if req.rhythm == "unspecified" else req.rhythm
        abc = write_abc(
            real,
            key=req.key,
            meter=req.meter,
            unit=req.unit,
            title=title or _default_title(req, rhythm, number),
            rhythm=rhythm,
            x=number,
        )
        check = validate_tune(tokens, req.meter)
        errors = check.errors + (["truncated at the hard row limit"] if truncated else [])
        return GeneratedTune(
            abc=abc,
            tokens=real,
            rows=np.concatenate(parts).astype(np.int64),
            measure_numbers=np.concatenate(meas_parts).astype(np.int64),
            valid=not errors,
            errors=errors,
            truncated=truncated,
            key=req.key,
            meter=req.meter,
            rhythm=req.rhythm,
            normalised_tokens=tokens,
        )


def fillable_bar_lengths(vocab: Any) -> list[Fraction]:
    """Bar lengths, in eighth notes, that constrained sampling can fill with ``vocab`` (an
    `AbcVocab`): lengths of meters ``N/D`` that are positions of its ``m_offset`` feature and
    that its note lengths add up to. A meter outside them cannot be sampled with that tokenizer.

    >>> from tokenization.tokenization_abc import AbcTokenizer
    >>> tok = AbcTokenizer.train(["X:1\\nM:2/4\\nL:1/8\\nK:D\\nDFAd|f2d2|]"])
    >>> [str(length) for length in fillable_bar_lengths(tok.abc_vocab)]
    ['1', '2', '3', '4']
    """
    lengths = []
    for value in vocab.values["m_offset"]:
        try:
            eighths = Fraction(value)
        except ValueError:  # <pad>, <start>...
            continue
        whole = eighths / 8
        if eighths <= 0 or whole.denominator & (whole.denominator - 1):
            continue  # not the bar of any meter N/D (D a power of two)
        try:
            ConstraintTables(vocab, f"{whole.numerator}/{whole.denominator}")
        except ValueError:
            continue
        lengths.append(eighths)
    return sorted(lengths)


def _unfillable(meter: str, vocab: Any) -> str:
    """Why a bar of ``meter`` cannot be sampled with ``vocab``, and which bars can."""
    bar = Fraction(meter) * 8
    lengths = fillable_bar_lengths(vocab)
    whole = [int(x) for x in lengths if x.denominator == 1]
    runs: list[list[int]] = []
    for x in whole:
        if runs and runs[-1][-1] == x - 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    named = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs] or ["no"]
    shown = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"
    parts = len(lengths) - len(whole)
    more = f", and {parts} lengths that are not whole eighth notes" if parts else ""
    return (
        f"meter {meter} has bars of {bar} eighth notes, which this model's tokenizer cannot fill "
        f"(no such bar position in its m_offset vocabulary, or no note lengths that add up to "
        f"it); it fills bars of {shown} eighth notes{more} (e.g. 2/4 = 4, 6/8 = 6, 3/2 = 12)"
    )


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
