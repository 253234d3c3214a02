"""What a `TuneGenerator.generate` call asks for: its rhythm, meter, key, unit length and prompt
resolved into a `TuneRequest` (the usual meter of a tune type, the key spelled as usual, the
prompt read), and the titles and prompt errors that name what was asked for.

>>> request = resolve_request("slip jig", None, None, "E minor", None, None)
>>> request.meter, request.key.name, default_title(request, request.rhythm, 2)
('9/8', 'E minor', 'Generated slip jig 2')
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from tokenization.abc_parser import AbcTune, Token
from tokenization.abc_tunebook import transpose_directive_warning
from tokenization.abc_writer import OWN_FIELDS, typed_token
from tokenization.keys import (  # check_key: re-exported, where generate's key was checked
    MODES,
    Key,
    check_key,
    mode_name,
    standard_key,
)
from tokenization.measure import bar_length_in_eighths
from tokenization.rhythm_types import (  # RHYTHM_METERS, rhythm_key: re-exported
    CUT_TIME_TYPES,
    RHYTHM_METERS,
    TYPE_METERS,
    rhythm_key,
    rhythm_spelling,
)
from tokenization.tokenization_abc import read_tune

from .generation_args import (
    check_meter,
    check_number,
    check_one_meter,
    check_unit_length,
    meter_as_asked,
    prompt_tokens,
    same_meter,
)
from .render_directives import midi_directives

# The warnings about a request are the generator's: they keep its logger, the name that users
# (and the tests) filter on, as before this module was split out of generation.py.
logger = logging.getLogger("modeling_irish.generation")

__all__ = [
    "RHYTHM_METERS",
    "TuneRequest",
    "check_key",
    "check_line_offset",
    "default_title",
    "meter_symbol",
    "prompt_parts",
    "resolve_request",
    "rhythm_key",
    "spelled",
    "unit_hint",
    "unknown_token",
    "warn_long_pickup",
]

#: `RHYTHM_METERS` by `rhythm_key`: the meter of a type however it is spelled.
_KEY_METERS = {rhythm_key(rhythm): meter for rhythm, meter in RHYTHM_METERS.items()}


@dataclass
class TuneRequest:
    """Resolved conditioning of one `TuneGenerator.generate` call."""

    key: Key
    meter: str
    rhythm: str
    prompt_tokens: list[Token]
    unit: Any
    #: median written pitch of the prompt (None without one): the tune is written in the octave
    #: that keeps the prompt where it was typed
    prompt_centre: int | None = None
    #: the prompt's title, its header's T: (None without one): a continued tune is titled after it
    prompt_title: str | None = None
    #: the prompt as typed (None without one), its tokens aligned with `prompt_tokens`: the
    #: errors about the prompt name its notes as the user wrote them
    written_prompt: AbcTune | None = None
    #: the ``M:`` value written, ``meter`` or the spelling it was asked for with (``C``, ``C|``,
    #: ``2+3/8``, as `--meter` or the prompt's ``M:`` gave it): conditioning reads ``meter`` alone
    written_meter: str = ""

    def __post_init__(self) -> None:
        self.written_meter = self.written_meter or self.meter


def spelled(key: Key) -> Key:
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


def _is_unit(unit: Fraction) -> bool:
    """Whether ``unit`` is an ``L:`` that `check_unit_length` accepts (``1/N``, ``N`` a power
    of two up to 64)."""
    try:
        check_unit_length(unit)
    except ValueError:
        return False
    return True


def meter_symbol(asked: str | None, meter: str) -> str:
    """The ``M:`` value to write for ``meter`` (``N/D``): ``asked`` without its spaces when it is
    an additive meter that sums to ``meter`` or a symbol of `WRITTEN_METER_SYMBOLS` for it
    (`meter_as_asked`: a tune asked for in ``C|`` is written ``M:C|``, not ``M:2/2``; one in
    ``2+3/8``, ``M:2+3/8``, not ``M:5/8``), else ``meter``.

    >>> meter_symbol("C|", "2/2"), meter_symbol(" C ", "4/4"), meter_symbol("4/4", "4/4")
    ('C|', 'C', '4/4')
    >>> meter_symbol(None, "6/8"), meter_symbol("C", "2/2"), meter_symbol("C |", "2/2")
    ('6/8', '2/2', 'C|')
    >>> meter_symbol("2 + 3/8", "5/8"), meter_symbol("(3+2+3)/8", "8/8")
    ('2+3/8', '(3+2+3)/8')
    """
    if not isinstance(asked, str):
        return meter
    return meter_as_asked(asked, meter) or meter


def _rhythm_of(meter: str | None) -> str:
    """The tune type a new tune is conditioned on when none is asked for: the first of
    `TYPE_METERS` in ``meter`` ("reel" without one), a reel in cut time (``C|``, 2/2: the
    default corpus's reels, `CUT_TIME_TYPES`; it was "unspecified", written without ``R:``),
    "unspecified" for a meter none is in.

    >>> _rhythm_of(None), _rhythm_of("9/8"), _rhythm_of("C|"), _rhythm_of("5/4")
    ('reel', 'slip jig', 'reel', 'unspecified')
    """
    if meter is None:
        return "reel"
    if same_meter(meter, "2/2"):
        return CUT_TIME_TYPES[0]
    return next((r for r, usual in TYPE_METERS.items() if same_meter(usual, meter)), "unspecified")


def _unusual_meter(rhythm: str, meter: str) -> str | None:
    """The usual meter of ``rhythm`` when ``meter`` is not it, for a warning; None when it is,
    when none is known, or when ``meter`` is cut time and ``rhythm`` one of `CUT_TIME_TYPES`
    (a reel in ``C|`` is how the default corpus writes one).

    >>> _unusual_meter("jig", "3/4"), _unusual_meter("reel", "C|"), _unusual_meter("jig", "C|")
    ('6/8', None, '6/8')
    """
    usual = _KEY_METERS.get(rhythm_key(rhythm))
    cut = same_meter(meter, "2/2") and rhythm_key(rhythm) in map(rhythm_key, CUT_TIME_TYPES)
    return None if usual is None or cut or same_meter(usual, meter) else usual


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

    usual = _KEY_METERS.get(rhythm_key(rhythm))
    if usual is not None:
        return usual
    near = difflib.get_close_matches(rhythm, RHYTHM_METERS, n=2, cutoff=0.7)
    hint = f" (did you mean {' or '.join(map(repr, near))}?)" if near else ""
    raise ValueError(
        f"no usual meter is known for rhythm {rhythm!r}{hint}: give meter= (--meter on the "
        "command line), e.g. '6/8', or a rhythm whose meter is known "
        f"({', '.join(TYPE_METERS)}...)"
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


#: What the reader skips (`AbcTune.markings`) and no tune is written with, as said.
_MARKINGS = {"text": "chord symbol(s) or annotation(s)", "deco": "decoration(s)",
             "grace": "grace note group(s)", "slur": "slur(s)"}  # fmt: skip


def _warn_dropped_markings(prompt: AbcTune, prompt_text: str = "") -> None:
    """Log, at WARNING, the chord symbols, decorations, grace notes, slurs, tempo changes,
    section titles, header fields and ``%%MIDI`` directives (`_midi_directives` of
    ``prompt_text``) of the ``prompt`` (as read) that the continued tunes leave out: the model
    reads and writes notes, rests, chords, tuplets, ties and bar lines only, and the rest
    vanished without a word. The markings are those the reader counted (`AbcTune.markings`).
    The parts its body marks (``P:B``) are kept: the tunes are written with them
    (`prompt_parts`)."""
    counts = prompt.markings
    dropped = [f"{counts[kind]} {text}" for kind, text in _MARKINGS.items() if counts.get(kind)]
    if prompt.tempo_changes:
        dropped.append(f"{len(prompt.tempo_changes)} tempo change(s)")
    if prompt.section_titles:  # `T:Part B` in the body: no header title, not counted there
        dropped.append(f"{len(prompt.section_titles)} section title(s) (T: after K:)")
    dropped += _dropped_fields(prompt) + _midi_directives(prompt_text)
    if dropped:
        logger.warning(
            "the prompt's %s are not kept: the tunes hold notes, rests, chords, tuplets, ties, "
            "bar lines and the body's parts (P:), and the header fields X:, T:, R:, M:, L: and "
            "K: only (one title and one rhythm)",
            ", ".join(dropped),
        )


def _midi_directives(text: str) -> list[str]:
    """The ``%%MIDI`` directive lines, ``I:MIDI`` field lines (ABC 2.1 §11: the same) and
    inline ``[I:MIDI ...]`` of a prompt's ``text`` that the continued tunes are not written
    with, as `_warn_dropped_markings` says them (their instrument, chords, drones... are not
    played; `midi_directives`, as render reads them); they were dropped without a word. A
    transposing one is not counted: the reader says it (`transpose_directive_warning`).

    >>> _midi_directives("X:1\\n%%MIDI program 20\\n%%MIDI transpose 2\\nK:D\\nI:MIDI drone\\nA|")
    ['2 %%MIDI directive(s) (program, drone)']
    >>> _midi_directives("X:1\\nK:D\\nA [I:MIDI program 3] B|")
    ['1 %%MIDI directive(s) (program)']
    """
    found = [
        (directive.words or ("MIDI",))[0]
        for directive in midi_directives(text)
        if transpose_directive_warning(directive.text, 0) is None
    ]
    return (
        [f"{len(found)} %%MIDI directive(s) ({', '.join(dict.fromkeys(found))})"] if found else []
    )


def _dropped_fields(prompt: AbcTune) -> list[str]:
    """What of the ``prompt``'s header the continued tunes are not written with, as
    `_warn_dropped_markings` says it. They are written with no field but those `write_abc`
    writes from its own arguments (`OWN_FIELDS`: number, title, rhythm, meter, unit, key), one
    title and one rhythm: ``T:`` is the title asked for or the prompt's first, continued
    (`default_title`); the prompt's alternative titles name its tune, not the new one, and are
    left out, as are its further rhythms (the tunes are sampled as its first, or as asked).

    >>> from tokenization.abc_parser import parse_abc
    >>> _dropped_fields(parse_abc("X:1\\nT:The Silver Spear\\nT:An Sleá Airgid\\nC:Trad\\n"
    ...                           "R:reel\\nK:D\\nA|"))
    ['header field(s) C:', '1 alternative title(s) (T:)']
    """
    fields = [  # an I:MIDI field is counted among the %%MIDI directives (`_midi_directives`)
        f"{name}:"
        for name, values in prompt.fields.items()
        if name not in OWN_FIELDS and not (name == "I" and all(_is_midi(v) for v in values))
    ]
    dropped = [f"header field(s) {', '.join(fields)}"] if fields else []  # after "the prompt's"
    for letter, what in (("T", "alternative title(s)"), ("R", "further rhythm(s)")):
        more = [value for value in prompt.fields.get(letter, [])[1:] if value.strip()]
        dropped += [f"{len(more)} {what} ({letter}:)"] if more else []
    return dropped


def _is_midi(value: str) -> bool:
    """Whether the ``I:`` field ``value`` is an abc2midi directive (``MIDI program 20``)."""
    return value.split()[:1] == ["MIDI"]


def prompt_parts(req: TuneRequest, tokens: list[Token]) -> tuple[list[tuple[int, str]], list[int]]:
    """The parts the body of the prompt a tune continues marks (``P:B`` lines, inline
    ``[P:B]``: `AbcTune.part_changes`, `AbcTune.inline_parts`), for `write_abc` to write back
    into the tune's ``tokens`` (the prompt's, then the sampled ones). One after the prompt's
    last token starts the continuation, and one after the final ``|]`` it drops starts after
    the bar line that the continuation closes that bar with; one past ``tokens`` (a sample
    written up to its first broken chord) is left out with them.

    >>> from tokenization.abc_parser import parse_abc
    >>> prompt = parse_abc("X:1\\nM:6/8\\nK:G\\nP:A\\nGAB cBA|]\\n[P:B]")
    >>> req = TuneRequest(prompt.key, "6/8", "jig", prompt.tokens[:-1], 0, None, None, prompt)
    >>> prompt_parts(req, prompt.tokens)  # the `|]` stands for the sampled bar line
    ([(0, 'A'), (7, 'B')], [1])
    """
    prompt, end = req.written_prompt, len(req.prompt_tokens)
    if prompt is None:
        return [], []
    bars = (i + 1 for i in range(end, len(tokens)) if tokens[i].kind == "bar")
    after_bar = next(bars, len(tokens))
    changes: list[tuple[int, str]] = []
    inline: list[int] = []
    for n, (at, text) in enumerate(prompt.part_changes):
        at = after_bar if at > end else at
        if at > len(tokens):
            break
        if n in prompt.inline_parts:
            inline.append(len(changes))
        changes.append((at, text))
    return changes, inline


def unknown_token(prompt: AbcTune, index: int, main: bool, dur: bool) -> str:
    """Token ``index`` of the prompt as typed (ABC, in its key and ``L:``), and what of it the
    model's vocabulary lacks: ``main`` its pitch or symbol, ``dur`` its length. The rows hold
    it on the white keys (``pitch36``), which is not what the user wrote.

    >>> from tokenization.abc_parser import parse_abc
    >>> unknown_token(parse_abc("X:1\\nL:1/8\\nK:G\\nG,,2 A|"), 0, True, False)
    "'G,,2' (a pitch the model never saw)"
    >>> unknown_token(parse_abc("X:1\\nL:1/8\\nK:G\\n(3:2:4ABcd|"), 0, True, False)
    "'(3:2:4' (a tuplet the model never saw)"
    """
    token = prompt.tokens[index]
    if token.kind not in ("note", "rest"):
        return f"{token.text!r} (a {token.kind} the model never saw)"
    typed = typed_token(prompt, index)
    what = " and ".join(
        name
        for name, lacking in (("pitch", main and token.kind == "note"), ("length", dur))
        if lacking
    )
    return f"{typed!r} (a {what or 'token'} the model never saw)"


def warn_long_pickup(req: TuneRequest, pickup: Fraction) -> None:
    """Say that the prompt's short first bar (``pickup`` eighths, as `check_prompt_scans`
    found it), when it lasts more than half a bar, is read as a pickup: ``|:GAG GA|ABA ABd|``
    in 6/8 opens with 5 of 6 eighths, a bar with a note left out as likely as a pickup, and the
    tune was closed on a bar of 1 without a word. A pickup of half a bar or less (``A|``,
    ``ABc|`` in a reel, ``FA|`` in a polka) is the usual form: not said. Of thesession's
    20,713 tunes, 173 (0.84%) open with a longer one (two-beat pickups of waltzes, mostly),
    whose first bars as a prompt draw this warning.

    >>> from tokenization.abc_parser import parse_abc
    >>> prompt = parse_abc("X:1\\nM:6/8\\nL:1/8\\nK:G\\n|:GAG GA|ABA ABd|")
    >>> req = TuneRequest(prompt.key, "6/8", "jig", prompt.tokens, 0, None, None, prompt)
    >>> warn_long_pickup(req, Fraction(5))  # logs: the prompt's first bar, 'GAGGA', lasts 5...
    """
    bar = bar_length_in_eighths(req.meter)
    prompt = req.written_prompt
    if not pickup or bar is None or pickup <= bar / 2 or prompt is None:
        return
    tokens = prompt.tokens
    first = next(i for i, t in enumerate(tokens) if t.kind != "bar")
    end = next((i for i in range(first, len(tokens)) if tokens[i].kind == "bar"), len(tokens))
    typed = "".join(
        typed_token(prompt, i) if tokens[i].kind in ("note", "rest") else tokens[i].text
        for i in range(first, end)
    )
    logger.warning(
        "the prompt's first bar, %r, lasts %s of the %s eighths of %s: it is read as a pickup, "
        "and each tune closes on a bar of %s; if a note is missing from it, complete the bar",
        typed, pickup, bar, req.meter, bar - pickup,
    )  # fmt: skip


def unit_hint(req: TuneRequest) -> str:
    """What to add to a refusal of the prompt's bars when it has no ``L:`` line and its meter
    gives it the unit 1/16 (ABC reads a meter under 3/4 so: ``M:2/4`` without ``L:`` makes
    ``AB`` two sixteenths), the usual cause of a polka's bars of half their length; else ``""``.

    >>> unit_hint(resolve_request(None, None, None, None, None, "X:1\\nM:2/4\\nK:D\\nA>B AF|"))
    ' (the prompt has no L: line, so its unit is 1/16, as ABC reads M:2/4 without one: add ...'
    """
    prompt = req.written_prompt
    if prompt is None or prompt.fields.get("L") or prompt.unit != Fraction(1, 16):
        return ""
    return (
        f" (the prompt has no L: line, so its unit is 1/16, as ABC reads M:{prompt.meter} "
        "without one: add L:1/8 if its notes are eighths)"
    )


def default_title(req: TuneRequest, rhythm: str | None, number: int) -> str:
    """``T:`` of a tune when the caller gives no title: the prompt's title for a continued
    prompt (``"The Kesh, continued 2"``), else ``"Generated reel 2"``."""
    if req.prompt_title:
        return f"{req.prompt_title}, continued {number}"
    return f"Generated {rhythm or 'tune'} {number}"


def check_line_offset(offset: int) -> int:
    """``offset``, a `TuneGenerator.generate` ``prompt_line_offset``: what to add to a line of
    the prompt for the line of the file it was read from (`RawTune.line_offset`), so that its
    warnings name the lines the user can open (0: its own lines); a whole number, at least 0.

    >>> check_line_offset(-1)
    Traceback (most recent call last):
    ...
    ValueError: prompt_line_offset must be at least 0 (lines added to the prompt's), got -1
    """
    check_number("prompt_line_offset", offset, whole=True)
    if offset < 0:
        raise ValueError(
            f"prompt_line_offset must be at least 0 (lines added to the prompt's), got {offset}"
        )
    return int(offset)


def _mode_of(mode: str) -> str:
    """The mode that ``mode`` (``mode=``, ``--mode``) names, as ABC reads a mode word
    (`mode_name`); a `ValueError` naming it and the modes for any other word.

    >>> _mode_of("Dorian"), _mode_of("m")
    ('dorian', 'minor')
    >>> _mode_of("blues")
    Traceback (most recent call last):
    ...
    ValueError: mode 'blues' is not a mode: give one of major, minor, dorian, mixolydian, ...
    """
    try:
        return mode_name(mode.strip())
    except ValueError:
        raise ValueError(
            f"mode {mode!r} is not a mode: give one of {', '.join(MODES)} as mode= (--mode "
            "on the command line); the first three letters are enough, m is minor"
        ) from None


def _warn_prompt_transposed(prompt_key: Key, target: Key) -> None:
    """Log, at WARNING, that the prompt (in ``prompt_key``) is written in ``target``, the key
    asked for (``key=``, ``--key``, the demo's Key box): its notes change, which a user who
    typed a key without noticing the prompt's own was not told (docs/generation.md says it)."""
    how = "respelled (the same sound)" if prompt_key.tonic_pc == target.tonic_pc else "transposed"
    logger.warning(
        "the prompt is %s from %s to %s, the key asked for (key=, --key on the command line); "
        "leave the key out to keep the prompt's own",
        how, prompt_key.name, target.name,
    )  # fmt: skip


def resolve_request(
    rhythm: str | None,
    meter: str | None,
    mode: str | None,
    key: str | Key | None,
    unit_length: str | Fraction | None,
    prompt: str | None,
    prompt_line_offset: int = 0,
    known_rhythms: Iterable[str] = (),
) -> TuneRequest:
    """The conditioning of a `TuneGenerator.generate` call (its arguments of the same
    names): the prompt read and checked, the key spelled as usual, the rhythm and meter
    defaulted (`RHYTHM_METERS`), with a warning for a rhythm asked for in an unusual meter.
    ``prompt_line_offset`` is added to the line numbers of the prompt's warnings
    (`check_line_offset`). The rhythm (asked for, the prompt's ``R:`` or the default) matches
    whatever its case, spaces, ``-`` and ``_`` (`rhythm_key`), and is spelled as the tokenizer's
    vocabulary spells it (``known_rhythms``, its rhythm values), else as `RHYTHM_METERS` does.

    >>> request = resolve_request("jig", None, None, "G", None, None)
    >>> request.key.name, request.meter, request.rhythm, str(request.unit)
    ('G major', '6/8', 'jig', '1/8')
    """
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
    asked_meter = meter
    meter = None if meter is None else check_meter(meter)
    offset = check_line_offset(prompt_line_offset)
    if prompt:
        original, tune = read_tune(prompt, keep_final_tie=True, line_offset=offset)
        _warn_prompt_warnings(original.warnings)
        _warn_dropped_markings(original, prompt)
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
                "continuation to fill: give meter= (--meter on the command line), e.g. '6/8', "
                "or an M: line"
            )
        prompt_key, meter = original.key, meter or tune.meter
        if asked_meter is None:  # a continuation keeps the prompt's M: as written
            asked_meter = (original.fields.get("M") or [""])[-1]
        if unit_length is None and _is_unit(original.unit):
            unit = original.unit  # a continued tune keeps the prompt's L:
        rhythm = rhythm or (tune.fields.get("R") or [""])[0].strip().lower() or None
        tokens = prompt_tokens(tune.tokens)
        written = sorted(
            t.pitch for t in original.tokens if t.kind == "note" and t.pitch is not None
        )
        centre = written[len(written) // 2] if written else None
        prompt_title = tune.title.strip() or None  # the header's, not a section's T:
    target = key if isinstance(key, Key) else check_key(key) if key else prompt_key
    target = target or Key("D", "major")
    if mode:
        target = Key(target.tonic, _mode_of(mode))
    asked_key = target
    target = spelled(target)
    if prompt_key is not None and prompt_key.mode != target.mode:
        asked = Key(target.tonic, prompt_key.mode).name
        raise ValueError(
            f"the prompt is in {prompt_key.name}, not a {target.mode} key: a continuation keeps "
            f"the prompt's mode; to write it in {target.tonic}, give key={asked!r} (--key on "
            "the command line), or leave key and mode out to keep its own"
        )
    if key is not None and prompt_key is not None and asked_key != prompt_key:
        _warn_prompt_transposed(prompt_key, target)
    rhythm = (rhythm or ("unspecified" if prompt else _rhythm_of(meter))).lower()
    rhythm = rhythm_spelling(rhythm, known_rhythms)
    meter = meter or _usual_meter(rhythm)
    usual = _unusual_meter(rhythm, meter)
    if asked_rhythm and usual:
        logger.warning(
            "a %s is usually in %s; sampling one in %s (%s)",
            rhythm, usual, meter,
            "the prompt's meter" if prompt and meter == tune.meter else "the meter given",
        )  # fmt: skip
    written_meter = meter_symbol(asked_meter, meter)
    return TuneRequest(
        target, meter, rhythm, tokens, unit, centre, prompt_title, original, written_meter
    )
