"""MusicXML of a tune as this package reads it (`parse_abc`), for notation programs (MuseScore,
Sibelius, Finale): `to_musicxml` builds a music21 score from the tune's tokens in their
WRITTEN order (repeats as repeat bar lines, endings as volta brackets, not unfolded as the
MIDI plays them) and writes it with music21's MusicXML exporter; `musicxml_score` is the score.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from tokenization.analysis import bar_parts, ending_passes

from .cli import first_line
from .file_utils import ReplacingFiles, replacing_file
from .music21_stderr import music21_said
from .render_midi import tune_label
from .render_svg import RenderError, read_for_render

if TYPE_CHECKING:
    from tokenization.abc_parser import AbcTune
    from tokenization.keys import Key

__all__ = [
    "musicxml_score",
    "to_musicxml",
    "written_measures",
    "key_signature",
]

logger = logging.getLogger("modeling_irish.render")  # render_musicxml is a part of render

#: natural pitch class of each letter
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
#: the sharp and the flat spelling of each pitch class (`_off_key_name` picks one)
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
#: each letter's place on the line of fifths
_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}
#: the most passes one ending may name: MusicXML lists each (``|1-10000000`` would be 10**7)
MOST_ENDING_PASSES = 100
#: how music21 starts its warning of a beam it left half made (`_join_partial_beams` makes it)
_BEAM_PAIR_WARNING = "beam: WARNING: Found a messed up beam pair"
#: the header fields written as the score's metadata: ABC field -> music21 metadata name
_METADATA = {"C": "composer", "S": "source", "O": "localeOfComposition"}


def written_measures(tokens: Sequence[Any]) -> list[tuple[int, int, str]]:
    """``(first token, token after the last, bar text that ends it or "")`` of each measure of
    ``tokens`` as written: the stretches between bar lines that hold a note, chord or rest (an
    ending opened among a bar's notes, ``[1``, starts a measure too: a volta bracket starts at
    a bar line).

    >>> from tokenization.abc_parser import parse_abc
    >>> written_measures(parse_abc("L:1/8\\nK:D\\n|:DE|1 F:|2 G|]").tokens)
    [(1, 3, '|1'), (4, 5, ':|2'), (6, 7, '|]')]
    """
    measures, start = [], 0
    for i, token in enumerate(tokens):
        if token.kind == "bar":
            if _has_music(tokens[start:i]):
                measures.append((start, i, token.text))
            elif measures and start == i:  # a bar line right after another: keep the last
                measures[-1] = (*measures[-1][:2], token.text)
            start = i + 1
    if _has_music(tokens[start:]):
        measures.append((start, len(tokens), ""))
    return measures


def _has_music(tokens: Sequence[Any]) -> bool:
    return any(token.kind in ("note", "rest") for token in tokens)


def _spelled(pitch: int, key_alters: dict[str, int]) -> Any:
    """A music21 `Pitch` of MIDI ``pitch``, spelled as the key signature (``key_alters``,
    `Key.accidentals`) spells it; a pitch off the key takes the spelling nearer the key's notes
    on the line of fifths (`_off_key_name`: Bb, not A#, in D major; F#, not Gb, in F major)."""
    import music21

    pc = pitch % 12
    letter = next(
        (name for name, base in _LETTERS.items() if (base + key_alters.get(name, 0)) % 12 == pc),
        None,
    )
    if letter is None:
        name = _off_key_name(pc, sum(key_alters.values()))
        letter, alter = name[0], {"#": 1, "b": -1}.get(name[1:], 0)
    else:
        alter = key_alters.get(letter, 0)
    octave = (pitch - _LETTERS[letter] - alter) // 12 - 1
    spelled = music21.pitch.Pitch(letter, octave=octave)
    if alter:
        spelled.accidental = music21.pitch.Accidental(alter)
    return spelled


def _off_key_name(pc: int, signature: int) -> str:
    """The name of pitch class ``pc``, not in a key of ``signature`` sharps (negative: flats),
    whose place on the line of fifths (F -1, C 0, G 1, ..., +7 a sharp) lies nearer the key's
    seven notes (``signature - 1`` to ``signature + 5``): the sharp or the flat spelling, the
    flat on a tie (the minor sixth over the augmented fifth).

    >>> _off_key_name(10, 2), _off_key_name(10, 1), _off_key_name(6, -1), _off_key_name(8, 3)
    ('Bb', 'Bb', 'F#', 'G#')
    >>> _off_key_name(0, 2), _off_key_name(5, 2)  # C and F natural in D major
    ('C', 'F')
    """

    def distance(name: str) -> int:
        place = _FIFTHS[name[0]] + 7 * {"#": 1, "b": -1}.get(name[1:], 0)
        return max(signature - 1 - place, place - signature - 5, 0)

    sharp, flat = _SHARP_NAMES[pc], _FLAT_NAMES[pc]
    return sharp if distance(sharp) < distance(flat) else flat


def _duration(written: Fraction, factor: Fraction) -> Any:
    """A music21 `Duration` of ``written`` quarter notes in a tuplet of time ``factor`` (1: none):
    the written note with a tuplet mark when it is one note value, else its played length."""
    import music21

    duration = music21.duration.Duration(written)
    if factor == 1:
        return duration
    if duration.type == "complex" or len(duration.dotGroups) > 1:
        return music21.duration.Duration(written * factor)
    tuplet = music21.duration.Tuplet(factor.denominator, factor.numerator)
    tuplet.setDurationType(duration.type, duration.dots)
    duration.appendTuplet(tuplet)
    return duration


def _measure_events(
    tokens: Sequence[Any], key_alters: dict[str, int], changes: dict[int, list[Any]]
) -> tuple[list[Any], dict[str, int]]:
    """The music21 notes, chords, rests, key and time signatures (``changes``: those that come
    before each token index, `_changes_by_measure`) of one measure's ``tokens``, its notes
    spelled in the key in force (``key_alters`` at its start, `_alters`), and the key
    alterations in force at its end; ties are marked by `_mark_ties`."""
    import music21

    from tokenization.measure import tuplet_size

    out: list[Any] = []
    element: music21.note.GeneralNote  # a rest, note or chord
    chord: list[Any] | None = None
    factor, left = Fraction(1), 0
    for i, token in enumerate(tokens):
        for change in changes.get(i, ()):
            out.append(change)
            if isinstance(change, music21.key.KeySignature):
                key_alters = _alters(change)
        kind = token.kind
        if kind == "tuplet":
            factor, left = token.dur, tuplet_size(token.text)
        elif kind == "chord_start":
            chord = []
        elif kind == "note" and chord is not None:
            chord.append(token)
        elif kind in ("note", "rest", "chord_end"):
            members = chord if kind == "chord_end" else [token]
            chord = None
            if not members:
                continue
            scale = factor if left > 0 else Fraction(1)
            left -= 1 if left > 0 else 0
            duration = _duration(members[0].dur * 4, scale)
            if kind == "rest":
                element = music21.note.Rest(duration=duration)
            elif len(members) == 1:
                element = music21.note.Note(_spelled(members[0].pitch, key_alters))
                element.duration = duration
            else:
                pitches = sorted({m.pitch for m in members})
                element = music21.chord.Chord([_spelled(p, key_alters) for p in pitches])
                element.duration = duration
            out.append(element)
    return out, key_alters


def _alters(signature: Any) -> dict[str, int]:
    """The alteration of each letter under the music21 key signature ``signature``."""
    return {p.step: int(p.alter) for p in signature.alteredPitches}


def _changes_by_measure(
    tokens: Sequence[Any],
    measures: Sequence[tuple[int, int, str]],
    changes: Sequence[tuple[int, Any]],
) -> list[dict[int, list[Any]]]:
    """For each of ``measures`` (`written_measures`), the ``changes`` (``(token index, music21
    key or time signature)`` in token order) it holds, by the index in the measure of the token
    they come before. A change after a measure's last note, rest or chord (``A4[K:D]|``, at its
    bar line) starts the next measure, several there in their order; one after the last measure
    has nothing to change and is left out."""
    ends = [
        max(i for i in range(start, stop) if tokens[i].kind in ("note", "rest", "chord_end"))
        for start, stop, _ in measures
    ]
    out: list[dict[int, list[Any]]] = [{} for _ in measures]
    n = 0
    for at, change in changes:
        while n < len(measures) and ends[n] < at:
            n += 1
        if n < len(measures):
            here = out[n].setdefault(max(at - measures[n][0], 0), [])
            here[:] = [c for c in here if _is_key(c) != _is_key(change)]  # the later one
            here.append(change)
    return out


def _is_key(change: Any) -> bool:
    import music21

    return isinstance(change, music21.key.KeySignature)


def _mark_ties(events: Sequence[Any], tied: Sequence[frozenset[int]]) -> None:
    """Mark with music21 `Tie` s the pitches of ``events`` (notes, chords and rests in written
    order) that ``tied`` (`tied_pitches`, one set an event) ties into the next event."""
    import music21

    def notes_of(event: Any) -> list[Any]:
        if isinstance(event, music21.chord.Chord):
            return list(event.notes)
        return [event] if isinstance(event, music21.note.Note) else []

    for event, ties, following in zip(events, tied, [*events[1:], None]):
        for note in notes_of(event):
            if note.pitch.midi in ties and following is not None:
                after = [n for n in notes_of(following) if n.pitch.midi == note.pitch.midi]
                if after:
                    note.tie = music21.tie.Tie("continue" if note.tie else "start")
                    after[0].tie = music21.tie.Tie("stop")


def key_signature(key: Key) -> Any:
    """The music21 `Key` of ``key`` (a ``K:``'s, its mode kept), or a bare key signature."""
    import music21

    tonic = key.tonic.replace("b", "-")
    try:
        return music21.key.Key(tonic, key.mode)
    except Exception:  # noqa: BLE001 (a mode music21 lacks: the signature alone is enough)
        return music21.key.KeySignature(key.signature)


def _signature_changes(tune: AbcTune) -> list[tuple[int, Any]]:
    """The header's key and meter (at token 0) and the body's changes of them
    (`AbcTune.key_changes`, `AbcTune.meter_changes`) as ``(token index, music21 signature)``
    in token order, a key before a meter at one index (as MusicXML writes them); a meter of no
    time signature (``M:none``) is left out."""
    import music21

    keys = [(0, tune.key), *tune.key_changes]
    out = [(at, 0, key_signature(key)) for at, key in keys]
    for at, meter in [(0, tune.meter), *tune.meter_changes]:
        meter = {"C": "4/4", "C|": "2/2"}.get(meter or "", meter or "")
        if _is_meter(meter):
            out.append((at, 1, music21.meter.TimeSignature(meter)))
    return [(at, change) for at, _, change in sorted(out, key=lambda c: c[:2])]


def musicxml_score(tune: AbcTune) -> Any:
    """A music21 `Score` of one part of ``tune`` (`parse_abc`) as written: a measure between
    each two bar lines (`written_measures`; a short first one, a pickup, numbered 0; short and
    long bars kept as written), ``|:`` and ``:|`` as repeat bar lines, ``||`` and ``|]`` as
    double and final bar lines, each ending (``|1``, ``:|2``, ``|1,3``) as a volta bracket over
    the measures to its ``:|`` (one measure, when no ``:|`` closes it: the section ends after
    it, as `played_order` plays it); the header's key (with its mode) and meter, and the body's
    changes of them (`key_changes`, `meter_changes`: where they stand among the notes, one at a
    bar line starting the measure after it), title, composer (``C:``), source (``S:``) and
    origin (``O:``); tuplets marked, ties tied (in chords, across bar lines), chords as chords,
    at their written pitches (the tokens': the ``transpose=`` of the MIDI is not applied)
    spelled in the key in force, a length of no single note value as tied notes. Decorations,
    grace notes, slurs and chord symbols are not written (the tokens do not keep them)."""
    import music21

    from .quality import tied_pitches

    tokens = tune.tokens
    key_alters: dict[str, int] = {}
    part = music21.stream.Part()
    events: list[Any] = []
    brackets: list[tuple[str, list[Any]]] = []
    open_bracket: tuple[str, list[Any], bool] | None = None  # label, measures, to a ":|"
    measures = written_measures(tokens)
    starts_repeat = tokens[0].text.endswith(":") if tokens and tokens[0].kind == "bar" else False
    previous_bar = tokens[measures[0][0] - 1].text if measures and measures[0][0] else ""
    changes = _changes_by_measure(tokens, measures, _signature_changes(tune))
    for number, (start, stop, bar) in enumerate(measures, 1):
        measure = music21.stream.Measure(number=number)
        contents, key_alters = _measure_events(tokens[start:stop], key_alters, changes[number - 1])
        for element in contents:
            measure.append(element)
        events += [e for e in contents if isinstance(e, music21.note.GeneralNote)]
        if starts_repeat:
            measure.leftBarline = music21.bar.Repeat(direction="start")
        ending = bar_parts(previous_bar)[1] if previous_bar else ()
        if ending:
            label = _ending_label(previous_bar)
            open_bracket = (label, [], _closed_by_repeat(tokens, start))
            brackets.append(open_bracket[:2])
        if open_bracket is not None:
            open_bracket[1].append(measure)
        measure.rightBarline = _right_barline(bar)
        if open_bracket is not None and (_ends_bracket(bar) or not open_bracket[2]):
            open_bracket = None
        starts_repeat = bar.endswith(":")
        previous_bar = bar
        part.append(measure)
    _mark_ties(events, tied_pitches(tokens))
    _pad_short_measures(part)
    for label, spanned in brackets:
        part.insert(0, music21.spanner.RepeatBracket(spanned, number=label))
    part.splitAtDurations(recurse=True)  # a length of no one note value: tied notes
    _make_beams(part)
    score = music21.stream.Score([part])
    score.metadata = _metadata(tune)
    return score


def _make_beams(part: Any) -> None:
    """Beam the notes of each measure of ``part`` by its meter, as music21 beams them (stems are
    left to the notation program); a measure it cannot beam (longer than its meter) is left
    unbeamed. Each measure is given the meter in force for the call, and the part's context is
    never searched for it: that search made a tune of 1,000 bars take 20 s. The beams music21
    leaves half made (in a pickup: a hook towards a note whose beam ends, a beam ended that
    never began) are mended (`_join_partial_beams`)."""
    import music21

    meter = None
    for measure in part.getElementsByClass("Measure"):
        own = measure.getElementsByClass("TimeSignature").first()
        meter = own or meter
        lent = None
        if own is None and meter is not None:
            lent = music21.meter.TimeSignature(meter.ratioString)
            measure.insert(0, lent)
        try:
            music21.stream.makeNotation.makeBeams(measure, inPlace=True, setStemDirections=False)
        except Exception:  # noqa: BLE001 (music21 refuses some measures: left unbeamed)
            pass
        finally:
            if lent is not None:
                measure.remove(lent)
        _join_partial_beams(measure)
    part.streamStatus.beams = True


def _join_partial_beams(measure: Any) -> None:
    """Mend the beams music21 leaves half made in ``measure`` (in a pickup, mostly), each
    MusicXML would end without a begin: a hook to the right (a partial beam) whose next note's
    beam of that number goes on or ends becomes a start of it (as music21 makes it when the
    next note's is a hook too, and leaves undone, saying so on stderr, when it is not); a beam
    that goes on or ends where none of its number began starts there when the next note's goes
    on, else is a hook to the left (of a second beam or more) or none at all (a first beam: the
    note alone, as an eighth alone is written, with a flag)."""
    events = list(measure.notesAndRests)
    beams = [_beams_by_number(event) for event in events]
    for number in sorted({n for here in beams for n in here}):
        begun = False
        for i, here in enumerate(beams):
            beam = here.get(number)
            if beam is None:
                begun = False
                continue
            after = beams[i + 1].get(number) if i + 1 < len(beams) else None
            goes_on = after is not None and after.type in ("continue", "stop")
            hook_right = (beam.type, beam.direction) == ("partial", "right")
            if not begun and (beam.type in ("continue", "stop") or hook_right):
                if goes_on:
                    beam.type, beam.direction = "start", None
                elif number > 1 and not hook_right:
                    beam.type, beam.direction = "partial", "left"
                elif not hook_right:
                    events[i].beams.beamsList.clear()
                    here.clear()
            begun = beam.type in ("start", "continue") and bool(here)


def _beams_by_number(event: Any) -> dict[int, Any]:
    """The music21 beams of a note or chord ``event`` by number (none of a rest)."""
    beams = getattr(event, "beams", None)
    return {beam.number: beam for beam in beams.beamsList} if beams else {}


def _ending_label(bar: str) -> str:
    """The passes of the ending the bar line ``bar`` opens (``"1"``, ``"1,3"``, ``"1-3"``); a
    `RenderError` when they are more than `MOST_ENDING_PASSES`, each of which MusicXML lists.

    >>> _ending_label(":|2"), _ending_label("[1,3")
    ('2', '1,3')
    """
    label = bar.lstrip(":|]").lstrip("[")
    passes = sum(high - low + 1 for low, high in ending_passes(label))
    if passes > MOST_ENDING_PASSES:
        raise RenderError(
            f"the ending {bar} names {passes} passes; a MusicXML ending lists each, and "
            f"this one writes at most {MOST_ENDING_PASSES}"
        )
    return label


def _is_meter(meter: str) -> bool:
    """Whether ``meter`` is a time signature music21 writes (``6/8``; not ``none``)."""
    numerator, _, denominator = meter.partition("/")
    return numerator.isdigit() and denominator.isdigit() and int(numerator) * int(denominator) > 0


def _closed_by_repeat(tokens: Sequence[Any], start: int) -> bool:
    """Whether the first bar line from ``start`` on that ends a section, a repeat or an ending
    ends a repeat (``:|``): the volta bracket opened at ``start`` runs to it."""
    for token in tokens[start:]:
        if token.kind == "bar" and _ends_bracket(token.text):
            return token.text.startswith(":")
    return False


def _ends_bracket(bar: str) -> bool:
    """Whether the bar line ``bar`` closes a volta bracket: it ends or starts a repeat, ends a
    section, or opens another ending (which starts its own)."""
    return (
        bar.startswith(":")
        or bar.endswith(":")
        or bar in ("||", "|]", "")
        or bool(bar_parts(bar)[1])
    )


def _right_barline(bar: str) -> Any:
    """The music21 bar line that ends a measure at ``bar``; None for a plain one."""
    import music21

    if bar.startswith(":"):
        return music21.bar.Repeat(direction="end")
    return {"||": music21.bar.Barline("double"), "|]": music21.bar.Barline("final")}.get(bar)


def _pad_short_measures(part: Any) -> None:
    """Mark each measure of ``part`` shorter than the meter in force (its own time signature or
    the last before it; none before the first: not marked) as such, so that the exporter does
    not fill it with rests: a short first one (a pickup, numbered 0, the others from 1) is
    padded before its notes, another after them."""
    measures = list(part.getElementsByClass("Measure"))
    bar = None
    for n, measure in enumerate(measures):
        own = measure.getElementsByClass("TimeSignature").first()
        bar = Fraction(own.barDuration.quarterLength) if own is not None else bar
        if bar is None:
            continue
        short = bar - Fraction(measure.highestTime).limit_denominator(100_000)
        if short > 0 and n == 0 and len(measures) > 1:
            measure.paddingLeft = short
            for later, other in enumerate(measures):
                other.number = later
        elif short > 0:
            measure.paddingRight = short


def _metadata(tune: AbcTune) -> Any:
    """music21 `Metadata` of the tune's title and the header fields of `_METADATA`; a tune
    without ``C:`` gets an empty composer, not the exporter's default author ("Music21")."""
    import music21

    metadata = music21.metadata.Metadata()
    metadata.title = tune.title or "Untitled"
    for field, name in _METADATA.items():
        values = [v.strip() for v in tune.fields.get(field, []) if v.strip()]
        if values:
            setattr(metadata, name, "; ".join(values))
    if not metadata.composers:  # else music21 names itself ("Music21") the tune's composer
        composer = music21.metadata.Contributor(role="composer", name="")
        metadata.add("composer", composer)
    return metadata


def to_musicxml(abc: str, path: str, group: ReplacingFiles | None = None) -> str:
    """Write a MusicXML file of the tune ``abc`` as this package reads it (`musicxml_score`),
    with music21's exporter. Raises `RenderError` when the tune cannot be read, names an
    ending of more than `MOST_ENDING_PASSES` passes, or music21 cannot export it (naming why);
    what music21 says meanwhile, on stderr or as a Python warning, is a warning naming the
    tune (`music21_said`;
    "messed up beam pair" aside, `_join_partial_beams` mends it);
    an `OSError` in writing it (a full disk) is raised as it is, naming ``path``. The file is
    written whole under a temporary name (`replacing_file`; renamed with the other files of
    ``group`` when given): a failure leaves none.

    >>> to_musicxml("X:1\\nT:Reel\\nM:4/4\\nL:1/8\\nK:D\\n|:DEFG ABcd:|", "tune.musicxml")
    'tune.musicxml'
    """
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    tune = read_for_render(abc)
    # music21's Python warnings too, not the filters changed for all threads (`music21_said`)
    with music21_said((_BEAM_PAIR_WARNING,)) as said:
        try:
            exporter = GeneralObjectExporter(musicxml_score(tune))
            exporter.makeNotation = False  # no rests, ties or measures of music21's own
            data = exporter.parse()
        except RenderError:  # what MusicXML cannot hold (`_ending_label`), said as it is
            raise
        except Exception as err:  # noqa: BLE001 (the exporter fails on some scores it is given)
            raise RenderError(f"music21 could not write MusicXML: {first_line(err)}") from err
    for message in said:
        logger.warning("%s: music21 said, writing MusicXML: %s", tune_label(abc), message)
    with replacing_file(path, group) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
    return path
