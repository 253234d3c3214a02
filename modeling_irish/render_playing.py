"""How the MIDI of `render.to_midi` plays a tune: its parts in the order of its header's ``P:``
(`played_spans`), the ``transpose=`` and clef octave (``treble-8``) of its header
(`played_transpose`), its notes, chords and rests in playing order (repeats and endings
unfolded, tuplets scaled, ties joined: `played_events`, `played_notes`) and the tempo marks of
its ``Q:`` fields (`tempo_marks`), and where playing passes a change of the body
(`passed_marks`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from tokenization.abc_tempo import quarters_a_minute, tempo_form_warning
from tokenization.abc_tune import part_ending_tempos

if TYPE_CHECKING:
    from tokenization.abc_parser import AbcTune

__all__ = [
    "PlayedEvent",
    "header_clef_octave",
    "played_events",
    "played_notes",
    "played_spans",
    "played_transpose",
    "played_voice",
    "start_times",
    "tempo_marks",
    "played_span_order",
    "passed_marks",
]

T = TypeVar("T")

#: The render module's logger, which users filter on, not this module's own name.
logger = logging.getLogger("modeling_irish.render")


class PlayedEvent(NamedTuple):
    """A note, chord or rest as it is played (`played_events`).

    Args:
        pitches: MIDI pitches sounding in it; none for a rest.
        length: its length in quarter notes.
        held: those of ``pitches`` tied over from the event before: they sound on, not struck
            again (``[DA-]2A2`` plays its A once, for both events).
    """

    pitches: tuple[int, ...]
    length: Fraction
    held: tuple[int, ...] = ()


def played_spans(tune: AbcTune, label: str) -> list[tuple[int, int]]:
    """``(first token, token after the last)`` of each stretch of ``tune``'s tokens, in the
    order they are played: the parts its body marks (``P:A``, `AbcTune.part_changes`) in the
    order its header's ``P:`` gives (``P:AABB``, ``P:A2B``, ``P:(AB)2``), after what comes
    before the first part, a part marked twice from its last mark (`part_spans`, as abc2midi
    plays them; the reader warns of it); without a header ``P:``,
    the whole tune as written. A header ``P:`` that cannot be read, or that names a part the
    body does not mark, is said in a warning naming ``label``, and the tune is played as
    written.

    >>> from tokenization.abc_parser import parse_abc
    >>> played_spans(parse_abc("X:1\\nP:BA\\nK:C\\nP:A\\nCD|]\\nP:B\\nEF|]"), "X:1")
    [(3, 6), (0, 3)]
    """
    from tokenization.analysis import part_spans

    whole = [(0, len(tune.tokens))]
    header = (tune.fields.get("P") or [""])[0]
    if not header.strip():
        return whole
    try:
        return part_spans(header, tune.part_changes, len(tune.tokens))
    except ValueError as err:
        logger.warning("%s: %s: the MIDI plays the parts as they are written", label, err)
        return whole


def played_transpose(tune: AbcTune, label: str) -> int:
    """Semitones the MIDI of ``tune`` sounds from its written pitches (its tokens'): the
    ``transpose=`` of its header's ``K:`` plus that of the header ``V:`` of the voice it plays (the
    one the reader keeps, `AbcTune.voice`: voice 1 for music before any body ``V:``, even after a
    header ``V:2``), as abc2midi adds them (ABC 2.1 section 4.6: playback transposition; the score,
    and the tokens, keep the written pitches), and an octave for the ``+8`` / ``-8`` of the clef
    (``K:C treble-8``, ``V:1 clef=bass-8``: "the player will transpose the notes one octave higher
    or lower", `clef_octave`), the played voice's clef if it names one, else the ``K:``'s, as
    abc2midi plays it; 0 without any. Of several ``K:`` (or ``V:`` of that voice) the last that sets
    one counts. One that cannot be read is said in a warning naming ``label``, and not played, and
    so is a clef octave with ``octave=`` (abc2midi plays the ``octave=`` alone).

    >>> from tokenization.abc_parser import parse_abc
    >>> played_transpose(parse_abc("X:1\\nV:1 transpose=1\\nK:D transpose=-3\\nDEFG|"), "X:1")
    -2
    >>> played_transpose(parse_abc("X:1\\nK:D treble-8 transpose=2\\nDEFG|"), "X:1")
    -10
    """
    from tokenization.keys import transpose_option

    voices = tune.fields.get("V", [])
    fields = [
        ("key", tune.fields.get("K", [])),
        ("voice", [v for v in voices if (v.split() or [""])[0] == tune.voice]),
    ]
    total = 0
    for field, values in fields:
        shift = 0
        for value in values:
            try:
                given = transpose_option(value, field=field)
            except ValueError as err:
                logger.warning("%s: %s: the MIDI does not play it", label, err)
                continue
            shift = shift if given is None else given
        total += shift
    return total + 12 * _played_clef_octave(fields, label)


def played_voice(voices: Sequence[str]) -> str | None:
    """The id of the first of a tune's ``V:`` values (``fields["V"]``, or one field's): the
    voice a body opening with ``V:`` keeps (`AbcTune.voice`); None without any.

    >>> played_voice(["T1 clef=treble-8", "B clef=bass"]), played_voice([])
    ('T1', None)
    """
    ids = [value.split()[0] for value in voices if value.split()]
    return ids[0] if ids else None


def header_clef_octave(fields: Sequence[tuple[str, Sequence[str]]]) -> int:
    """The octaves the header's clef plays at (`clef_octave`), of ``fields`` (``("key", K:
    values)``, then ``("voice", the played voice's V: values)``): the last value that names a
    clef, a voice's over a key's (abc2midi); 0 without one.

    >>> header_clef_octave([("key", ["D treble-8"]), ("voice", ["1 clef=treble"])])
    0
    """
    from tokenization.keys import clef_octave

    octave = 0
    for field, values in fields:
        for value in values:
            given = clef_octave(value, field=field)
            octave = octave if given is None else given
    return octave


def _played_clef_octave(fields: Sequence[tuple[str, Sequence[str]]], label: str) -> int:
    """The octaves the clef of a tune's header plays its notes at (`clef_octave`): of its
    ``fields`` (``("key", K: values)``, then ``("voice", the played voice's V: values)``) the
    last value that names a clef, a voice's over a key's (abc2midi); 0 without one. A clef
    octave beside an ``octave=`` (which moves the written notes, the tokens) is played on top
    of it, as ABC 2.1 has it, with a warning naming ``label``: abc2midi plays the ``octave=``
    alone."""
    octave = header_clef_octave(fields)
    with_octave = [v for _, values in fields for v in values if re.search(r"\boctave\s*=", v)]
    if octave and with_octave:
        logger.warning(
            "%s: the clef's octave (%+d) is played on top of %s, as ABC 2.1 has it (abc2midi "
            "plays the octave= alone)",
            label,
            octave,
            with_octave[-1].split("%", 1)[0].strip(),
        )
    return octave


def played_span_order(bars: Sequence[str], spans: Sequence[tuple[int, int]]) -> list[list[int]]:
    """The token indices of each of the ``spans`` (`played_spans`) in the order they are
    played, the repeats and endings of each unfolded on its own (`played_order` of its
    ``bars``: each token's bar text, or ``""``)."""
    from tokenization.analysis import played_order

    return [[start + i for i in played_order(bars[start:stop])] for start, stop in spans]


def played_events(
    tokens: Sequence, spans: Sequence[tuple[int, int]] | None = None
) -> list[PlayedEvent]:
    """The `PlayedEvent` of every note, chord and rest of a tune's `tokens` (`parse_abc`), in
    the order they are played: the ``spans`` of tokens in their order (`played_spans`: the
    parts of a header ``P:``; by default, all the tokens), the repeats and endings of each
    unfolded (`played_order`), tuplets scaled
    and tied notes joined as abc2midi joins them. A tied pitch (a tie after a note, after a
    chord's ``]``, or after a note inside a chord) is held into the next event that sounds it:
    an event made only of such pitches, the same as the one before, lengthens that one; any
    other keeps them in ``held``, while the other pitches of the chord before end there.

    >>> from tokenization.abc_parser import parse_abc
    >>> events = played_events(parse_abc("X:1\\nL:1/8\\nK:D\\nc2-c (3Bcd|1 z:|2 [CE]||").tokens)
    >>> [(pitches, str(length)) for pitches, length, _ in events][:6]
    [((73,), '3/2'), ((71,), '1/3'), ((73,), '1/3'), ((74,), '1/3'), ((), '1/2'), ((73,), '3/2')]
    >>> events[-1]
    PlayedEvent(pitches=(61, 64), length=Fraction(1, 2), held=())
    >>> played_events(parse_abc("L:1/8\\nK:C\\n[DA-]2A2|").tokens)[1]
    PlayedEvent(pitches=(69,), length=Fraction(1, 1), held=(69,))
    """
    from .quality import tied_pitches, token_events

    bars = [token.text if token.kind == "bar" else "" for token in tokens]
    runs = played_span_order(bars, [(0, len(tokens))] if spans is None else spans)
    played = [tokens[i] for run in runs for i in run]
    events: list[PlayedEvent] = []
    ties: frozenset[int] = frozenset()  # the pitches the event before ties onward
    for (pitches, length), tied in zip(token_events(played), tied_pitches(played)):
        held = tuple(p for p in pitches if p in ties)
        if held and set(held) == set(pitches) == set(events[-1].pitches):
            events[-1] = events[-1]._replace(length=events[-1].length + Fraction(length))
        else:
            events.append(PlayedEvent(tuple(pitches), Fraction(length), held))
        ties = tied
    return events


def played_notes(events: Sequence[PlayedEvent]) -> list[tuple[Fraction, int, Fraction]]:
    """``(start, MIDI pitch, length)`` in quarter notes of every note struck in ``events``, a
    tied pitch once for all the events that hold it; sorted by start, then pitch.

    >>> played_notes([PlayedEvent((62, 69), Fraction(1)), PlayedEvent((69,), Fraction(1), (69,))])
    [(Fraction(0, 1), 62, Fraction(1, 1)), (Fraction(0, 1), 69, Fraction(2, 1))]
    """
    notes: list[tuple[Fraction, int, Fraction]] = []
    sounding: dict[int, Fraction] = {}  # pitch -> when it was struck
    now = Fraction(0)
    for event in events:
        for pitch in [p for p in sounding if p not in event.held]:  # not held on: it ends
            notes.append((sounding[pitch], pitch, now - sounding.pop(pitch)))
        for pitch in event.pitches:
            sounding.setdefault(pitch, now)
        now += event.length
    notes += [(start, pitch, now - start) for pitch, start in sounding.items()]
    return sorted(notes)


def tempo_marks(
    tune: AbcTune, default: float, label: str, spans: Sequence[tuple[int, int]] | None = None
) -> list[tuple[Fraction, float]]:
    """``(start, quarter notes a minute)`` of each tempo the MIDI of ``tune`` sets, start in
    quarter notes: the header's ``Q:`` (of two, the last, as abc2midi; else ``default``) at 0,
    then each change of the body (`AbcTune.tempo_changes`, a ``Q:`` between ``K:`` and the
    music included) each time playing passes it in `played_order` of each of the
    ``spans`` (`played_spans`; by default, all the tokens): on every pass of a repeated
    section, and in an ending only on the passes that play it; a change at the start of a
    part on each time the part is played; one written before the part's ``P:`` (``Q:1/4=60``
    then ``P:B``, `part_ending_tempos`) at the end of the part before it in the body instead,
    each time that part ends, as one after the last token is (abc2midi too). A repeat does
    not go back to the tempo it started at (abc2midi neither). A ``Q:`` is read with the unit
    in force where it is written (`AbcTune.tempo_unit`: `AbcTune.unit_at` its token, or the
    one before a unit change there or between two, `AbcTune.tempo_units`; the header's with
    the header's `unit`: it was read with the body's last ``L:``). A ``Q:`` with no tempo to
    read is passed over, with a warning naming ``label``.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("X:1\\nL:1/8\\nQ:1/4=120\\nK:C\\n|:CDEF [Q:1/4=60]GABc:|[Q:3/8=40]C8|]")
    >>> [(str(start), bpm) for start, bpm in tempo_marks(tune, 200, "X:1")]
    [('0', 120.0), ('2', 60.0), ('6', 60.0), ('8', 60.0)]
    """
    header = (tune.fields.get("Q") or [""])[-1]  # of two, the last (abc2midi)
    instead = f"the MIDI starts at {default:g} quarter notes a minute"
    first = _readable_tempo(header, tune.unit, label, "the header", instead)
    marks = {Fraction(0): default if first is None else first}
    ending = part_ending_tempos(tune.tempo_changes, tune.part_changes, tune.parts_after_tempo)
    changes: dict[int, float] = {}
    ends: dict[int, float] = {}  # the changes that end the part before their token, or the last
    for n, (at, text) in enumerate(tune.tempo_changes):
        bpm = _readable_tempo(
            text, tune.tempo_unit(n), label, "the body", "the tempo in force plays on"
        )
        if bpm is not None:
            (ends if n in ending or at == len(tune.tokens) else changes)[at] = bpm
    if not changes and not ends:
        return list(marks.items())
    if 0 in ends:  # no part before it: from the start
        marks[Fraction(0)] = ends[0]
    spans = [(0, len(tune.tokens))] if spans is None else spans
    for (start, stop), passes, end in _span_passes(tune, spans):
        for time, at in passes:
            # a later one at the same time wins: the change starting a part, in the middle
            if at in ends and at != start:
                marks[time] = ends[at]
            if at in changes:
                marks[time] = changes[at]
        if stop in ends:  # the part ends: before the next run's own change at its start
            marks[end] = ends[stop]
    return sorted(marks.items())


def passed_marks(
    tune: AbcTune, changes: Mapping[int, T], spans: Sequence[tuple[int, int]]
) -> list[tuple[Fraction, T]]:
    """``(start in quarter notes, value)`` each time playing passes one of ``changes`` (``{token
    index: value}``, a change written before that token) in `played_order` of each of the
    ``spans`` (`played_spans`), as abc2midi plays a directive of the body: on every pass of a
    repeated section, in an ending only on the passes that play it (`_passed_places`, as
    `tempo_marks` places a tempo change). One after the last token is passed where a span
    ending there ends, as abc2midi plays it: in a part played before another (``P:BA``) the
    other plays on with it.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("X:1\\nL:1/4\\nK:C\\n|:C [I:MIDI program 20] D:|E|]")
    >>> [(str(start), v) for start, v in passed_marks(tune, {2: "20"}, [(0, len(tune.tokens))])]
    [('1', '20'), ('3', '20')]
    """
    last = len(tune.tokens)
    marks: list[tuple[Fraction, T]] = []
    for (_, stop), passes, end in _span_passes(tune, spans):
        marks += [(time, changes[at]) for time, at in passes if at in changes]
        if stop == last and last in changes:
            marks.append((end, changes[last]))
    return marks


def _span_passes(
    tune: AbcTune, spans: Sequence[tuple[int, int]]
) -> Iterator[tuple[tuple[int, int], list[tuple[Fraction, int]], Fraction]]:
    """For each of the ``spans`` played in turn (`played_spans`): the span, ``(start in quarter
    notes, token index i)`` of each place before token ``i`` that playing it in `played_order`
    passes (`_passed_places`), and when it ends: where `tempo_marks` and `passed_marks` place
    the changes of the body."""
    bars = [token.text if token.kind == "bar" else "" for token in tune.tokens]
    runs = played_span_order(bars, spans)
    starts = start_times([tune.tokens[i] for run in runs for i in run])
    done = 0  # the tokens played in the runs before
    for run, span in zip(runs, spans):
        passes = [(starts[done + position], at) for position, at in _passed_places(run, bars)]
        done += len(run)
        yield span, passes, starts[done]


def _readable_tempo(
    field: str, unit: Fraction, label: str, where: str, instead: str
) -> float | None:
    """`quarters_a_minute` of a ``Q:`` field in ``where``; when it gives none, unless the
    field is empty or the reader said so already with its line and column (a beat it does not
    read, ``x=120``: `tempo_form_warning`, among the tune's warnings), a warning (abc2midi:
    "malformed Q: field ignored") that says what plays ``instead``."""
    bpm = quarters_a_minute(field, unit)
    if bpm is None and field.strip() and tempo_form_warning(field, where) is None:
        logger.warning("%s: Q:%s in %s gives no tempo to play: %s", label, field, where, instead)
    return bpm


def _passed_places(order: Sequence[int], bars: Sequence[str]) -> Iterator[tuple[int, int]]:
    """``(position in order, token index i)`` of each place that playing in ``order`` (the
    tokens' `played_order` of ``bars``, each token's bar text or ``""``, or of a stretch of
    them from ``order[0]``: a part, `played_span_order`) passes, the place
    before token ``i`` being where a change at ``i`` (`AbcTune.tempo_changes`) is written. A
    jump (back to the start of a section, on to an ending) passes the place before the bar
    line it jumps from, and lands after the bar line before the token it goes to or, onto an
    ending's bar line, before that bar line.

    >>> bars = ["|:", "", "", ":|", ""]  # |:ab:|c: the jump back passes the place at 3
    >>> list(_passed_places([0, 1, 2, 1, 2, 3, 4], bars))
    [(0, 0), (1, 1), (2, 2), (3, 3), (3, 1), (4, 2), (5, 3), (6, 4)]
    """
    for position, i in enumerate(order):
        before = order[position - 1] if position else i - 1
        if i != before + 1:  # a jump: the bar line at before + 1 was reached, not played
            yield position, before + 1
            if bars[i]:  # onto an ending's bar line: what is written before it is not played
                continue
        yield position, i


def start_times(played: Sequence) -> list[Fraction]:
    """When each of the ``played`` tokens starts, in quarter notes, and, last, when they
    end: the lengths of the events before it (`token_events`, the lengths `played_events`
    plays)."""
    from .quality import token_events

    lengths = iter([length for _, length in token_events(played)])
    starts, now, in_chord = [], Fraction(0), False
    for token in played:
        starts.append(now)
        if token.kind == "chord_start":
            in_chord = True
        elif token.kind == "chord_end" or (token.kind in ("note", "rest") and not in_chord):
            in_chord = False
            now += Fraction(next(lengths))
    starts.append(now)
    return starts
