"""Batched, seeded, measure-aware sampling of whole tunes from a `MeasureNoteForCausalLM`.

`TuneGenerator` resolves a request (`generation_request`), samples every tune of it in one
batch (`generation_sampling`) and writes each as ABC in the requested key (`GeneratedTune`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from tokenization.abc_parser import Token
from tokenization.abc_writer import chord_problem, engraved_lengths, write_abc
from tokenization.features import HEADER_FEATURES, POSITION_FEATURES, HeaderInfo
from tokenization.keys import Key, first_out_of_midi, output_shift, transpose_tokens
from tokenization.vocabulary import END_ID, PAD_ID, UNK_ID

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
    DEFAULT_MIN_BARS,
    bars_after_prompt,
    check_lengths,
    check_numbering,
    check_prompt_goes_on,
    check_prompt_pickup,
    check_prompt_scans,
    check_room,
    check_sampling,
    check_seed,
)
from .generation_request import (
    RHYTHM_METERS,
    TuneRequest,
    default_title,
    prompt_parts,
    resolve_request,
    unit_hint,
    unknown_token,
    warn_long_pickup,
)
from .generation_sampling import (
    CPU,
    N_POSITION_COLUMNS,
    GenerationStopped,
    RowBuilder,
    filter_logits,
    sample_tunes,
)
from .threads import eval_mode, torch_threads

logger = logging.getLogger(__name__)

# RHYTHM_METERS, GenerationStopped and filter_logits are re-exported: callers import them here
__all__ = [
    "RHYTHM_METERS",
    "GeneratedTune",
    "GenerationStopped",
    "TuneGenerator",
    "check_tokenizer_fits",
    "filter_logits",
    "fillable_bar_lengths",
    "generated_abc",
]


@dataclass
class GeneratedTune:
    """One sampled tune.

    Attributes:
        abc: ABC text (headers X, T, R, M, L, K, and the parts of a continued prompt's body,
            ``P:B``) in the requested key. A sample whose chords no
            ABC holds (a ``]`` closing no chord, a bar line inside a chord: sampled
            unconstrained, or cut inside a chord at the hard row limit) is written up to its
            first broken chord, with a ``%`` comment that says so; it is invalid. So is one
            whose octave in that key takes a note out of MIDI's 0-127, written up to it.
        tokens: parser tokens in the requested key (what `abc` writes).
        rows: ``(n_rows, 20)`` feature ids in the normalised key, ``<start>`` ... ``<end>``
            (what `AbcTokenizer.encode_tune(abc)` gives back, up to whole octaves: the written
            tune is centred on the playing register, `tokenization.keys.output_shift`).
        measure_numbers: ``(n_rows,)`` measure group of each row's next token.
        valid: `validate_tune` found no problem.
        errors: the problems found.
        truncated: the sample hit the hard row limit before ``<end>``.
        key: the key written; meter, rhythm as conditioned (``meter`` is ``N/D``: ``2/2`` for a
            tune asked for in ``C|``).
        written_meter: the ``M:`` value `abc` writes: ``meter``, or the ``C`` / ``C|`` or
            additive spelling it was asked for with (``meter="C|"``, a prompt's ``M:C|``,
            ``meter="2+3/8"`` for a ``meter`` of 5/8). Pass it to `write_abc`
            (``meter=tune.written_meter``) to write the tune again as `abc` does.
        normalised_tokens: the tokens on the white keys, as sampled (the corpus's frame).
        engraved_abc: `abc` with each length that no single note shows (``c9/4``: the
            vocabulary has 9/4 and 9/2 eighths) written as tied notes that do (``c2-c/4``),
            which engravers take (abcm2ps refuses ``c9/4``); the same text when no length needs
            it. What ``irish-tune generate`` writes. It sounds the same, but reads back with a
            tie and one more note for each such length, so it is `abc` that `rows` encode.

    >>> from transformers import AutoModelForCausalLM, AutoTokenizer
    >>> model = AutoModelForCausalLM.from_pretrained("runs/measurenote-small")
    >>> tokenizer = AutoTokenizer.from_pretrained("runs/measurenote-small")
    >>> (tune,) = TuneGenerator(model, tokenizer).generate(1, rhythm="reel", key="D", seed=0)
    >>> tune.key.name, tune.valid == (not tune.errors), tune.rows.shape[1]
    ('D major', True, 20)
    >>> tokenizer.encode_tune(tune.abc).input_ids.shape == tune.rows.shape
    True
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
    engraved_abc: str = ""
    written_meter: str = ""

    def __post_init__(self) -> None:
        self.written_meter = self.written_meter or self.meter


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


class TuneGenerator:
    """Sample whole tunes, optionally constrained to scan (`modeling_irish.constraints`).

    Every step feeds one row per unfinished sample with the carried recurrent state (the prefix
    is never recomputed); positions of the next row come from the shared `MeasureTracker`.

    Args:
        model: a `MeasureNoteForCausalLM`.
        tokenizer: its `AbcTokenizer`.

    Example:
        >>> from transformers import AutoModelForCausalLM, AutoTokenizer
        >>> model = AutoModelForCausalLM.from_pretrained("runs/measurenote-small")
        >>> tokenizer = AutoTokenizer.from_pretrained("runs/measurenote-small")
        >>> gen = TuneGenerator(model, tokenizer)
        >>> tunes = gen.generate(4, rhythm="jig", key="G", seed=0)
        >>> print(tunes[0].abc)
        X:1
        T:Generated jig 1
        R:jig
        M:6/8
        L:1/8
        K:G
        ...
    """

    def __init__(self, model: Any, tokenizer: Any) -> None:
        check_tokenizer_fits(model.config, tokenizer)
        self.model = model  # put in eval mode while sampling, then back (`eval_mode`)
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
        min_bars: int | None = None,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        seed: int = 0,
        constrained: bool = True,
        title: str | None = None,
        num_threads: int | None = 1,
        first_number: int = 1,
        prompt_line_offset: int = 0,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[GeneratedTune]:
        """Sample ``num_tunes`` tunes in one batch. Arguments are checked before anything is
        sampled (`ValueError` saying what is accepted).

        Args:
            rhythm: tune type (``"reel"``, ``"jig"``, ``"slip jig"``...), whatever its case,
                spaces, ``-`` and ``_`` (``"Slip-Jig"``), conditioned on and written as the
                model's tokenizer spells it (its corpus's ``R:``), if it has it. Default: for a
                prompt, its ``R:``, or ``"unspecified"`` without one (what the model was
                trained on for the corpus's tunes without ``R:``; written without ``R:``);
                for a new tune, the tune type of ``meter`` (`RHYTHM_METERS`: 9/8 a slip jig;
                ``C|``/2/2 a reel, as the default corpus writes them; ``"unspecified"`` for a
                meter of none), else reel.
            meter: ``N/D``, ``D`` a power of two up to 64 (`check_meter`), or ``C`` / ``C|``
                (conditioned as 4/4, 2/2, written ``M:C`` / ``M:C|`` as asked); defaults to the
                prompt's (its ``M:`` written as it is), else the usual meter of ``rhythm``
                (`RHYTHM_METERS`: the corpus's spellings too, ``"slipjig"`` 9/8,
                ``"double jig"`` 6/8, ``"clog"`` 2/2). A prompt without a meter (no ``M:``, or
                ``M:none``), and a new tune of a rhythm not in `RHYTHM_METERS` (``"air"``), need
                one given.
            mode: ``"major"``, ``"dorian"``...; overrides the mode of ``key``.
            key: the real key to write (``"D"``, ``"E dorian"``; default D, or the prompt's);
                the model is conditioned on the same mode on the white keys. A prompt in
                another key is transposed to it, with a warning that says so.
            unit_length: the ``L:`` of the written ABC, ``1/N`` with ``N`` a power of two up
                to 64 (`check_unit_length`); default the prompt's (its ``L:``, or the unit its
                meter implies without one), else 1/8.
            prompt: an ABC incipit to continue (its key, meter and rhythm are used where the
                arguments are ``None``), in one meter: a mid-prompt ``M:`` change is refused.
                A tie at its end goes on to the first sampled note (the same pitch).
            num_bars: written bars after which the tune is steered to close (repeats, final
                bar): a repeated section's bars are counted once, both endings' bars counted, a
                pickup not, the prompt's included; a prompt of as many bars or more is
                continued and closed after its last bar. Closing may add a bar or two (the end
                of a repeat, a second ending), and the repeats played out make more bars.
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
            min_bars: fewest bars before the model may end a tune by itself, counted as
                ``num_bars`` counts them, at most ``num_bars`` (a `ValueError` naming both
                otherwise); default `DEFAULT_MIN_BARS` (4), or ``num_bars`` if fewer; 0 puts no
                minimum (as 1: a tune ends on a bar line, after its first bar at the soonest).
            temperature, top_k, top_p: sampling filters (temperature 0 picks the likeliest
                allowed token, any finite one is taken: a huge one draws the allowed tokens
                near uniformly; top_k 0 and top_p 1 are off).
            seed: seed of the CPU `torch.Generator` of the draws, ``0 <= seed < 2**64``: the
                same seed and ``num_tunes`` give the same tunes (the tunes of a batch are drawn
                together, so another ``num_tunes`` gives others). The model may be on any
                device (a GPU): only its inputs go there, and the draws are made on the CPU
                from its scores, so a seed gives the same draws there too (the tunes differ
                only where the device's rounding of a score tips a draw, rarely).
            constrained: mask tokens that would break the bar/repeat grammar.
            num_threads: torch threads while sampling (default 1: robust on busy machines,
                see `modeling_irish.threads`), at least 1; ``None`` keeps torch's setting.
            title: the ``T:`` of every tune; default ``"Generated reel 1"``, ``"... 2"``..., or
                for a prompt with a ``T:`` its title (``"The Kesh, continued 1"``).
            first_number: the ``X:`` (and default title number) of the first tune, at least 1;
                the others follow (a caller sampling in several batches numbers them through).
            prompt_line_offset: added to the line numbers of the prompt's warnings, at least
                0: for a prompt cut out of a file, its place there (`RawTune.line_offset`),
                so that they name the file's lines (``irish-tune generate --prompt FILE``);
                0 names the prompt's own lines.
            should_stop: called before each sampling step (a token for every tune); once it
                returns true the sampling stops there and `GenerationStopped` is raised,
                nothing kept: for a caller whose request was cut short (the demo's Stop, a
                server stopping), so that the sampling does not run on to the tunes' end.
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
        with torch_threads(num_threads), eval_mode(self.model):
            known = [value for value in self.vocab.values["rhythm"] if not value.startswith("<")]
            req = resolve_request(
                rhythm, meter, mode, key, unit_length, prompt, prompt_line_offset, known
            )
            white = req.key.white
            header = HeaderInfo(white.name, white.tonic, white.mode, 0, req.meter, req.rhythm)
            tables, main_bank, dur_bank = self.tables(req.meter)
            check_room(max_rows, req.meter, tables.bar_eighths, len(req.prompt_tokens))
            pickup = Fraction(0)  # the prompt's, found while its bars are checked
            if constrained:
                try:
                    pickup = check_prompt_scans(req.prompt_tokens, req.meter)
                except ValueError as err:  # bars of half their length: no L: in 2/4
                    raise ValueError(f"{err}{unit_hint(req)}") from None
                warn_long_pickup(req, pickup)
            num_bars = bars_after_prompt(num_bars, req.prompt_tokens)
            least = DEFAULT_MIN_BARS if min_bars is None else min_bars
            cons = [TuneConstraint(tables, num_bars, max_rows, least) for _ in range(num_tunes)]
            batch = RowBuilder(self.tokenizer, header)
            first_rows, first_meas = self._first_rows(batch, header, req, cons)
            if constrained:  # after the vocabulary check: an unknown tuplet is named as such
                check_prompt_pickup(pickup, req.meter, tables.fills)
                check_prompt_goes_on(cons[0])  # every sample was fed the same prompt
            generator = torch.Generator(device=CPU).manual_seed(seed)  # on any model's device
            sampling = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
            hard_max = 2 * (max_rows or DEFAULT_MAX_ROWS)
            records = sample_tunes(
                self.model,
                cons,
                batch,
                first_rows,
                first_meas,
                (main_bank, dur_bank),
                generator,
                sampling,
                constrained,
                hard_max,
                should_stop,
            )
            finish = (first_rows, first_meas, batch, req, title)
            return [
                self._finish(first_number + i, cons[i], records, i, *finish)
                for i in range(num_tunes)
            ]

    def _first_rows(
        self, batch: RowBuilder, header: HeaderInfo, req: TuneRequest, cons: list[TuneConstraint]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(1, n, 20)`` rows and ``(1, n)`` measure numbers fed before sampling: ``<start>``,
        then the prompt's tokens (pushed into every sample's constraint)."""
        from tokenization.features import tune_to_rows

        rows = tune_to_rows(req.prompt_tokens, header)
        encoded = self.vocab.encode(rows)[:-1]  # drop <end>
        measures = rows.measure_numbers[:-1]
        self._warn_unknown_header(rows.header, encoded[0, -len(rows.header) :], batch.vocab)
        _warn_unknown_positions(rows, encoded)
        unknown_ids = encoded[1:, :2] == UNK_ID  # (n_prompt_tokens, 2): main, dur
        unknown = np.flatnonzero(unknown_ids.any(axis=1))
        if unknown.size:
            assert req.written_prompt is not None  # prompt rows come from a written prompt
            first = int(unknown[0])
            raise ValueError(
                f"the prompt has {unknown.size} token(s) outside the model's vocabulary; the "
                f"first is token {first + 1} of the prompt body, "
                + unknown_token(req.written_prompt, first, *unknown_ids[first].tolist())
            )
        for c in cons:
            for main_id, dur_id in encoded[1:, :2].tolist():
                c.push(main_id, dur_id)
        ids = torch.from_numpy(encoded).unsqueeze(0)
        return ids, torch.tensor([measures], dtype=torch.long, device=CPU)

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

    def _finish(
        self,
        number: int,
        c: TuneConstraint,
        records: dict,
        i: int,
        first_rows: torch.Tensor,
        first_meas: torch.Tensor,
        batch: RowBuilder,
        req: TuneRequest,
        title: str | None,
    ) -> GeneratedTune:
        rows, meas = records["rows"][i], records["measures"][i]
        parts = [first_rows[0].numpy(), rows]
        meas_parts = [first_meas[0].numpy(), meas]
        truncated = c.truncated
        if not truncated:
            end = np.concatenate([[END_ID, PAD_ID, PAD_ID, PAD_ID], [END_ID] * N_POSITION_COLUMNS])
            parts.append(np.concatenate([end, batch.header_ids.numpy()])[None])
            meas_parts.append([int(meas_parts[-1][-1]) if len(meas_parts[-1]) else 0])
        tokens = req.prompt_tokens + records["tokens"][i]
        if req.prompt_centre is None:  # a new tune: centred on the playing register
            pitches = [t.pitch for t in tokens if t.kind == "note"]
            shift = output_shift(req.key.white, req.key, pitches)
        else:  # a continued prompt: in the octave that leaves the prompt where it was typed
            pitches = [t.pitch for t in req.prompt_tokens if t.kind == "note"]
            shift = output_shift(req.key.white, req.key, pitches, centre=req.prompt_centre)
        real, unwritable = _writable(transpose_tokens(tokens, shift), req.key)
        rhythm = None if req.rhythm == "unspecified" else req.rhythm
        part_changes, inline_parts = prompt_parts(req, real)
        abc, engraved = generated_abc(
            real,
            unwritable,
            key=req.key,
            meter=req.written_meter,
            unit=req.unit,
            title=title or default_title(req, rhythm, number),
            rhythm=rhythm,
            x=number,
            part_changes=part_changes,
            inline_parts=inline_parts,
        )
        check = validate_tune(tokens, req.meter)
        errors = check.errors + (["truncated at the hard row limit"] if truncated else [])
        if unwritable:  # said first: it is why the ABC is shorter than the sample
            errors.insert(0, unwritable)
        return GeneratedTune(
            abc=abc,
            engraved_abc=engraved,
            tokens=real,
            rows=np.concatenate(parts).astype(np.int64),
            measure_numbers=np.concatenate(meas_parts).astype(np.int64),
            valid=not errors,
            errors=errors,
            truncated=truncated,
            key=req.key,
            meter=req.meter,
            written_meter=req.written_meter,
            rhythm=req.rhythm,
            normalised_tokens=tokens,
        )


def generated_abc(tokens: list[Token], unwritable: str, **header: Any) -> tuple[str, str]:
    """The ABC of a sample's ``tokens`` (`write_abc` with ``header``: key, meter, unit, title,
    rhythm, x, and the parts of a continued prompt), and the same with each length no single
    note shows written as tied notes that do (``engravable``): `GeneratedTune.abc` and
    `GeneratedTune.engraved_abc`, one text when no length needs it. ``unwritable`` (why tokens
    were left out, `_writable`) ends both as a ``%`` comment.

    >>> from tokenization.keys import Key
    >>> tokens = [Token("note", "", 72, Fraction(9, 32)), Token("note", "", 74, Fraction(3, 32))]
    >>> abc, engraved = generated_abc(tokens, "", key=Key("C", "major"), meter="3/8")
    >>> abc.splitlines()[-1], engraved.splitlines()[-1]
    ('c9/4d3/4', 'c2-c/4d3/4')
    """
    abc = write_abc(tokens, **header)
    unengravable = any(
        len(engraved_lengths(tok.dur)) > 1
        for tok in tokens
        if tok.kind in ("note", "rest") and tok.dur is not None
    )
    engraved = write_abc(tokens, **header, engravable=True) if unengravable else abc
    comment = f"% {unwritable}\n" if unwritable else ""
    return abc + comment, engraved + comment


def _writable(tokens: list[Token], key: Key) -> tuple[list[Token], str]:
    """The tokens of a sample moved into ``key`` that `write_abc` can write, and why not all
    ("" when all): where a note left MIDI's 0-127 (`first_out_of_midi`: the octave that centres
    the tune, `output_shift`, can take a note of a wide one past it), those before it; where
    their chords cannot be written as ABC (`chord_problem`: sampled unconstrained, or cut inside
    a chord at the hard row limit), those before the first broken chord. No pitch is clamped.

    >>> from tokenization.abc_parser import parse_abc
    >>> tokens = parse_abc("K:C\\nCD [CE]|").tokens
    >>> written, why = _writable(tokens[:5] + tokens[6:], Key("C", "major"))  # its `]` left out
    >>> len(written)
    2
    >>> print(why)
    token 5: bar line '|' inside a chord (the chord opened at token 2); the ABC stops at token 2
    """
    out = first_out_of_midi(tokens)
    if out is not None:
        written, _ = _writable(tokens[:out], key)
        why = (
            f"token {out}: pitch {tokens[out].pitch} in {key.name} is outside the MIDI range "
            f"0-127 (the octave centred the tune); the ABC stops at token {len(written)}"
        )
        return written, why
    problem = chord_problem(tokens)
    if problem is None:
        return tokens, ""
    cut = problem.at if problem.chord is None else problem.chord
    return tokens[:cut], f"{problem.text(lambda i: f'token {i}')}; the ABC stops at token {cut}"


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


def _warn_unknown_positions(rows: Any, encoded: np.ndarray) -> None:
    """Say which positions of the prompt (`POSITION_FEATURES` of its rows ``rows``, encoded as
    ``encoded``) the model's vocabulary lacks, such as a bar offset of 1/2 eighth its
    training tunes never reached: the model reads them as ``<unk>``, so what it plays after
    them may not follow the prompt (the prompt's tokens are refused instead: they could not
    be written back)."""
    from tokenization.encoded_tune import unknown_values

    found = unknown_values(rows, encoded)
    said = []
    for name in POSITION_FEATURES:
        values = list(dict.fromkeys(found.get(name, ())))
        if values:
            more = ", ..." if len(values) > 5 else ""
            rows_of = f"{len(found[name])} row{'s' if len(found[name]) != 1 else ''}"
            said.append(f"{name} {', '.join(values[:5])}{more} ({rows_of})")
    if said:
        logger.warning(
            "the prompt holds positions the model's tokenizer has never seen: %s; the model "
            "reads them as <unk>, so the tunes may not follow the prompt",
            "; ".join(said),
        )
