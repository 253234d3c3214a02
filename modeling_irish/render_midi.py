"""The MIDI of `render.to_midi` (a part of render.py, which re-exports its public names): the
tune as this package reads it, played with music21 in the order `render_playing` gives, at its
sounding pitch, checked against what a MIDI file can hold; `tune_label`, which names a tune in
render's messages."""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

from .cli import first_line
from .file_utils import ReplacingFiles, replacing_file
from .music21_stderr import music21_said
from .render_directives import PIANO_PROGRAM, midi_program, program_marks
from .render_playing import (
    header_clef_octave,
    played_events,
    played_notes,
    played_span_order,
    played_spans,
    played_transpose,
    played_voice,
    start_times,
    tempo_marks,
)
from .render_svg import RenderError, read_for_render, tune_lines

if TYPE_CHECKING:
    from music21.base import Music21Object
    from music21.key import KeySignature
    from music21.midi import MidiEvent, MidiFile
    from music21.stream import Part, Score

    from tokenization.abc_parser import AbcTune
    from tokenization.capped_warnings import CappedWarnings
    from tokenization.keys import Key

__all__ = ["MIDI_LONGEST_WAIT", "to_midi", "tune_label"]

logger = logging.getLogger("modeling_irish.render")  # render_midi is a part of render

_Value = TypeVar("_Value")


def to_midi(
    abc: str,
    path: str,
    tempo: int = 200,
    group: ReplacingFiles | None = None,
    said: CappedWarnings | None = None,
) -> str:
    """Write a MIDI file of the tune as this package reads it (`parse_abc`), with music21.

    The parts the body marks (``P:A``) are played in the order of the header's ``P:``
    (``P:AABB``, ``P:(AB)2``; what comes before the first part first, as abc2midi plays it;
    `played_spans`), a header ``P:`` that cannot be read or names a part the body lacks being
    said in a warning and the tune played as written. The notes are played in `played_order`
    (repeats and endings unfolded as the package does, in each part on its own), at their
    sounding pitch (key signature, mid-tune ``[K:]``, bar-scoped accidentals and octave
    applied, and the ``transpose=`` and clef octave (``treble-8``) of the header's ``K:`` and of
    the played voice's ``V:``, `played_transpose`: one in the body is said in a warning and not
    played (`_body_clef_octaves`), a pitch it takes
    out of MIDI's range is a `RenderError`), tuplets scaled, tied notes joined (a chord
    member tied to the next event is held while the others end, `played_events`) and chords
    sounding together; a
    closing rest lasts, the file ending no sooner than the music (as abc2midi's). Grace
    notes and guitar chord symbols (``"G"``) are not played, and a tune of several voices
    plays its first. The tempo is the header's ``Q:`` field's, the last of two (``Q:3/8=60``
    is 90 quarter notes a minute), else ``tempo`` quarter notes a minute, and changes where
    the body has a ``Q:`` (a field line, one between ``K:`` and the music included, or
    ``[Q:1/4=140]``, `AbcTune.tempo_changes`), as abc2midi plays it:
    each time playing passes it (`tempo_marks`). A ``Q:`` that gives no tempo
    (``Q:"Slower"``) is said in a warning and changes nothing (one whose beat the reader does
    not read, ``Q:x=120``, the reader says at its line, `AbcTune.warnings`, not this again).
    The instrument is the General MIDI program of the last ``%%MIDI program N`` before the
    music (a file header's too;
    `midi_program`), else the player's default (a piano, written as program 0 where the music
    changes it later), and changes where the music has one
    (``[I:MIDI program 20]``, each time playing passes it, `program_marks`); the ``%%MIDI``
    directives it does not play (``gchord``, ``drone``, a program on channel 2...) are named
    in one warning (in ``said`` when given: a command's capped tune warnings). The
    file's time and key signatures are the header's meter and key, and change where the body's
    do (``[M:3/4]``, ``[K:G]``, as field lines too; `_signature_marks`); none for free meter or
    one MIDI cannot write (``M:3/5``: a warning, `_midi_meter`; readers take 4/4, or keep the
    one before).
    Raises `RenderError` when the tune cannot be read, when a note or rest is too long for MIDI
    (`_check_waits`; nothing is written) or music21 cannot write the file; an `OSError` in
    writing it (a full disk) is
    raised as it is, naming ``path``, for the caller to stop. The file is written whole under a
    temporary name (`replacing_file`; renamed with the other files of ``group`` when given): a
    failure leaves none, nor a file cut short. What music21 says meanwhile, on stderr (an event
    it could not write and left out) or as a Python warning, is a warning naming the tune
    (`music21_said`).

    >>> to_midi("X:1\\nM:4/4\\nL:1/8\\nK:D\\n|:DEFG ABcd:|", "tune.mid")
    'tune.mid'
    """
    import music21

    tune = read_for_render(abc)
    label = tune_label(abc)
    spans = played_spans(tune, label)  # the parts in the order of the header's P:
    placed: list[tuple[Fraction, Music21Object]] = [
        (start, music21.tempo.MetronomeMark(number=bpm))
        for start, bpm in tempo_marks(tune, tempo, label, spans)
    ]
    signatures = _signature_marks(tune, spans, label)  # for readers of the file
    placed += signatures
    program = midi_program(abc, label, said)  # `%%MIDI program 73`: a program change at the start
    marks = program_marks(tune, spans)  # and where the music has one
    if program is None and marks and marks[0][0] > 0:
        # music21 writes the first instrument at the start too: the notes before it play on
        # the player's default, the piano, as abc2midi plays them
        program = PIANO_PROGRAM
    programs = [] if program is None else [(Fraction(0), program)]
    for start, number in [*programs, *marks]:
        instrument = music21.instrument.Instrument()
        instrument.midiProgram = number
        placed.append((start, instrument))
    events = played_events(tune.tokens, spans)
    notes = _transposed(played_notes(events), played_transpose(tune, label))
    for field in _body_transposes(abc):
        logger.warning(
            "%s: %s in the body is not played (the header's transpose= is)", label, field
        )
    for line, field in _body_clef_octaves(abc, tune.voice):
        logger.warning(
            "%s: line %d: the octave of the clef of %s in the body is not played (the header's "
            "clef octave is, throughout)",
            label,
            line,
            field,
        )
    # Each note at its own offset, not chords appended one after another: a chord member tied
    # into the next event sounds on while the others end (music21's own tie joining, done
    # when it writes MIDI, holds the whole chord or re-strikes the pitch).
    for start, pitch, length in notes:
        note = music21.note.Note(music21.pitch.Pitch(midi=pitch))
        note.quarterLength = length
        placed.append((start, note))
    part = _part_of(placed)
    end = sum((event.length for event in events), Fraction(0))
    with music21_said() as heard:  # its warnings too, not the filters changed for all threads
        try:
            midi = _midi_file(music21.stream.Score([part]))
            _last_at_least(midi, end)  # a closing rest still lasts before the file ends
            if not any(isinstance(s, music21.meter.TimeSignature) for _, s in signatures):
                # not music21's 4/4 of a stream without one
                _drop_time_signatures(midi)
        except Exception as err:  # noqa: BLE001 (the writer fails on some streams it was given)
            raise RenderError(f"music21 could not write MIDI: {first_line(err)}") from err
        _check_waits(midi, notes)  # before a byte is written
        try:
            with replacing_file(path, group) as tmp:  # whole or not at all: no .mid cut short
                midi.open(tmp, "wb")
                try:
                    midi.write()
                finally:
                    midi.close()
        except OSError:  # a full disk, a folder gone: no other tune would fare better
            raise
        except Exception as err:  # noqa: BLE001 (the writer fails on some streams it was given)
            raise RenderError(f"music21 could not write MIDI: {first_line(err)}") from err
    for message in heard:  # such as an event it could not write and left out
        logger.warning("%s: music21 said, writing MIDI: %s", label, message)
    return path


def _midi_file(score: Score) -> MidiFile:
    """The music21 `MidiFile` of ``score`` (a score `to_midi` makes for it: one part of notes,
    no measures), as music21's `music21ObjectToMidiFile` makes it (the same bytes), its steps
    (`streamHierarchyToMidiTracks`) taken in the same order, save two that grow with the
    square of the notes: the deep copy of the score (`_prepared` takes ``score`` apart
    instead) and the channel of each note (`_channel_packets`): music21's
    `assignPacketsToChannels` compares each note with every note before it, for a note bent off
    its MIDI pitch (a microtone) to move to another channel; the notes this package writes have
    none, and keep their track's channel, in one pass (music21's own is used where one is
    bent)."""
    from music21 import defaults, midi, stream
    from music21.midi import translate

    if score.atSoundingPitch is False:  # as music21ObjectToMidiFile
        score = score.toSoundingPitch()
    prepared = _prepared(score)
    by_program, dynamic = translate.channelInstrumentData(prepared)
    parts: list[Any] = []  # Streams: music21 types them as Parts
    for sub in prepared.getElementsByClass(stream.Stream):
        if sub.getElementsByClass(("MetronomeMark", "TimeSignature")):
            parts.insert(0, sub)  # the conductor track first
        else:
            parts.append(sub)
    for sub in parts:
        sub.stripTies(inPlace=True, matchByPitch=True)
    storage = translate.packetStorageFromSubstreamList(parts)
    programs: dict[int | None, int | None] = dict(by_program)
    translate.updatePacketStorageWithChannelInfo(storage, programs)
    channels = {track: bundle["initChannel"] for track, bundle in storage.items()}
    packets = [packet for bundle in storage.values() for packet in bundle["rawPackets"]]
    if any(packet["centShift"] for packet in packets):  # a microtone: music21's own
        packets = translate.assignPacketsToChannels(packets, by_program, dynamic, channels)
    else:
        packets = _channel_packets(packets, channels)
    tracks = [
        translate.packetsToMidiTrack(
            packets,
            trackId=track,
            channel=bundle["initChannel"],
            instrumentObj=bundle["initInstrument"],
        )
        for track, bundle in storage.items()
    ]
    out = midi.MidiFile()
    out.tracks = tracks
    out.ticksPerQuarterNote = defaults.ticksPerQuarter
    return out


def _prepared(score: Score) -> Score:
    """``score`` (of parts of notes, no measures) as music21's `prepareStreamForMidi` gives it
    for its writer, its tempo, time and key signatures moved to a conductor part of their own
    and its volumes worked out, in place: music21 first makes a deep copy, for a caller that
    keeps its stream (the copy's `purgeOrphans` looks up each note in the part, 14 s of the
    44 s of a tune of 6,400 notes); `to_midi` makes the score for the writer alone.
    Raises `ValueError` for a score with measures: music21's expands their repeats."""
    from music21 import stream, volume
    from music21.midi.translate import conductorStream

    if score[stream.Measure]:
        raise ValueError("a score with measures: music21's prepareStreamForMidi expands repeats")
    conductor = conductorStream(score)
    for part in score.getElementsByClass(stream.Stream):
        volume.realizeVolume(part)
    score.insert(0, conductor)
    return score


def _channel_packets(
    packets: Sequence[dict[str, Any]], channels: dict[int, int | None]
) -> list[dict[str, Any]]:
    """music21's packets (`packetStorageFromSubstreamList`) with their channels, as its
    `assignPacketsToChannels` gives them where no note is bent off its MIDI pitch (no packet
    has a ``centShift``), in linear time: each event but a note's end on its track's channel
    (``initChannel``; a note's end on its note's), a pitch bend of 0 at the start of each track
    but the conductor's (``channels``: its channel by track), all in music21's order (by time,
    then its order of events at a time).
    Raises `ValueError` for a packet with a ``centShift``: music21's own moves its note."""
    from music21.midi import ChannelVoiceMessages, MidiEvent
    from music21.midi.translate import getPacketFromMidiEvent

    tracks: list[int] = []  # in the order of their first packet, as music21's
    for packet in packets:
        if packet["centShift"]:
            raise ValueError(
                f"a packet at {packet['offset']} ticks of track {packet['trackId']} has a "
                f"cent shift ({packet['centShift']}): music21's assignPacketsToChannels moves it"
            )
        if packet["trackId"] not in tracks:
            tracks.append(packet["trackId"])
        event = packet["midiEvent"]
        if event.type == ChannelVoiceMessages.NOTE_ON:
            event.channel = packet["initChannel"]
            event.correspondingEvent.channel = packet["initChannel"]
        elif event.type != ChannelVoiceMessages.NOTE_OFF:
            event.channel = packet["initChannel"]
    post = list(packets)
    for track in tracks:
        if track == 0:
            continue  # the conductor track: no pitch bend
        # music21's own bend: the track's id (made the track by `packetsToMidiTrack`)
        kind, channel = ChannelVoiceMessages.PITCH_BEND, channels[track]
        bend = MidiEvent(track=track, type=kind, channel=channel)  # type: ignore[arg-type]
        bend.setPitchBend(0)
        post.append(getPacketFromMidiEvent(trackId=track, offset=0, midiEvent=bend))
    post.sort(key=lambda packet: (packet["offset"], packet["midiEvent"].sortOrder))
    return post


def _midi_meter(meter: str | None, label: str, in_body: bool = False) -> str | None:
    """The time signature the MIDI of the tune ``label`` gives its readers for a meter: the
    header's (`AbcTune.meter`) or, ``in_body``, a change of it (`AbcTune.meter_changes`)
    (``N/D``; ``C`` and ``C|`` as 4/4 and 2/2), none for free meter.
    A MIDI time signature's denominator is a power of two (it is written as its exponent):
    ABC's other meters (``M:3/5``, which music21 wrote as 3/4 unsaid) have none, which is
    said in a warning; the notes play as written all the same.

    >>> _midi_meter("6/8", "X:1"), _midi_meter("C|", "X:1"), _midi_meter(None, "X:1")
    ('6/8', '2/2', None)
    """
    meter = {"C": "4/4", "C|": "2/2"}.get(meter or "", meter)
    if meter is None:
        return None
    if int(meter.partition("/")[2]).bit_count() != 1:  # the reader's N/D, each 1 to 64
        logger.warning(
            "%s: M:%s%s has no MIDI time signature (its denominator is not a power of two): "
            "the MIDI gives none (%s); the notes play as written",
            label,
            meter,
            " in the body" if in_body else "",
            "its readers keep the one before" if in_body else "its readers take 4/4",
        )
        return None
    return meter


def _signature_marks(
    tune: AbcTune, spans: Sequence[tuple[int, int]], label: str
) -> list[tuple[Fraction, Music21Object]]:
    """``(start in quarter notes, music21 key or time signature)`` of each signature the MIDI
    of ``tune`` writes, played in the ``spans`` (`played_spans`): the header's key and meter
    (`key_signature`, `_midi_meter`) at 0, then, each time playing (`played_order`) reaches a
    token under another key or meter than the last written, that one (`AbcTune.key_changes`,
    `AbcTune.meter_changes`, where MusicXML writes them, `_signature_changes`): the signature
    of the notes played, as the reader pitched them in written order, so a repeat back past a
    change goes back to the signature before it. A meter MIDI cannot write (``M:3/5``) is said
    (`_midi_meter`) and none is written there; readers keep the one before."""
    import music21

    keys = [(at, _midi_key_value(k)) for at, k in [(0, tune.key), *tune.key_changes]]
    header = _midi_meter(tune.meter, label)
    meters = [(0, header)] + [(at, _midi_meter(m, label, True)) for at, m in tune.meter_changes]
    bars = [token.text if token.kind == "bar" else "" for token in tune.tokens]
    order = [i for run in played_span_order(bars, spans) for i in run]
    starts = start_times([tune.tokens[i] for i in order])
    marks: list[tuple[Fraction, Music21Object]] = []
    builds: list[tuple[Sequence[tuple[int, Any]], Callable[[Any], Music21Object]]] = [
        (keys, _key_mark),
        (meters, music21.meter.TimeSignature),
    ]
    for changes, build in builds:
        # the change in force by its index: each change is written anew, as read
        numbered = [(at, None if v is None else n) for n, (at, v) in enumerate(changes)]
        in_force = _in_force(numbered, len(tune.tokens))
        last = None
        for start, i in zip(starts, order):
            now = in_force[i]
            if now is not None and now != last:
                last = now  # a new element each time: a stream holds an element once
                marks.append((start, build(changes[now][1])))
    return marks


def _midi_key(signature: KeySignature) -> KeySignature:
    """The music21 key ``signature`` (`key_signature`) as a MIDI key signature writes it: at
    most 7 sharps or flats (the byte of any more is out of the standard's range), so one of
    more (``K:D#``, 9 sharps) is written as its enharmonic key (E flat, 3 flats), its major or
    minor mode kept; the notes are played as read all the same.

    >>> import music21
    >>> _midi_key(music21.key.Key("D#")), _midi_key(music21.key.Key("d#", "minor")).sharps
    (<music21.key.Key of E- major>, 6)
    """
    import music21

    sharps = signature.sharps
    if -7 <= sharps <= 7:
        return signature
    same = music21.key.KeySignature(sharps - 12 if sharps > 0 else sharps + 12)
    mode = getattr(signature, "mode", None)
    return same.asKey(mode) if mode in ("major", "minor") else same


@functools.cache
def _midi_key_value(key: Key) -> tuple[int, bool]:
    """``(sharps, minor)`` of the MIDI key signature of ``key`` (`key_signature`, `_midi_key`):
    all that music21 writes of it (flats as negative sharps; minor for a minor `Key`, major
    otherwise). Worked out once a key: music21 builds a scale for each `Key` it makes (about
    2 ms, 3.6 s of a tune of 200 ``[K:]``).

    >>> from tokenization.keys import Key
    >>> _midi_key_value(Key("B", "minor")), _midi_key_value(Key("D#", "major"))
    ((2, True), (-3, False))
    """
    import music21

    from .render_musicxml import key_signature

    signature = _midi_key(key_signature(key))
    return signature.sharps, isinstance(signature, music21.key.Key) and signature.mode == "minor"


def _key_mark(value: tuple[int, bool]) -> KeySignature:
    """A new music21 key signature that MIDI writes as ``value`` (`_midi_key_value`): a bare
    `KeySignature` for a major key (made at once, where a `Key` builds its scale), a copy of a
    `Key` made once for a minor one (music21 writes minor only for a `Key`).

    >>> _key_mark((2, False)), _key_mark((-1, True))
    (<music21.key.KeySignature of 2 sharps>, <music21.key.Key of d minor>)
    """
    import music21

    sharps, minor = value
    if minor:
        return copy.deepcopy(_minor_key(sharps))
    return music21.key.KeySignature(sharps)


@functools.cache
def _minor_key(sharps: int) -> KeySignature:
    """The music21 minor `Key` of ``sharps`` sharps (negative: flats), made once (`_key_mark`
    copies it)."""
    import music21

    return music21.key.KeySignature(sharps).asKey("minor")


def _in_force(changes: Sequence[tuple[int, _Value | None]], size: int) -> list[_Value | None]:
    """For each of ``size`` tokens, the last of ``changes`` (``(token index it comes before,
    value)`` in token order) at or before it; None before the first, and where the last is
    None (a meter MIDI cannot write: nothing is in force to write).

    >>> _in_force([(0, "a"), (2, "b"), (2, "c"), (3, None)], 4)
    ['a', 'a', 'c', None]
    """
    out: list[_Value | None] = []
    n, value = 0, None
    for i in range(size):
        while n < len(changes) and changes[n][0] <= i:
            value = changes[n][1]
            n += 1
        out.append(value)
    return out


def _part_of(placed: Sequence[tuple[Fraction, Music21Object]]) -> Part:
    """A music21 `Part` of the ``(offset in quarter notes, element)`` of ``placed``, each
    element at its offset, as `Stream.insert` would put it, in linear time: `insert` works out
    the part's highest time anew at each element (the MIDI of a tune of 13,000 notes took 28 s),
    where `coreInsert` only adds it and one `coreElementsChanged` at the end updates the part
    (the calls music21's documentation gives for many insertions)."""
    import music21

    part = music21.stream.Part()
    for offset, element in placed:
        part.coreGuardBeforeAddElement(element)
        part.coreInsert(float(offset), element, ignoreSort=True)  # float(): as insert() does
    part.coreElementsChanged()
    return part


def _transposed(
    notes: Sequence[tuple[Fraction, int, Fraction]], shift: int
) -> list[tuple[Fraction, int, Fraction]]:
    """``notes`` (`played_notes`) ``shift`` semitones (`played_transpose`) from where they are
    written; a `RenderError` that names the first note the shift takes out of MIDI's 0-127.

    >>> _transposed([(Fraction(0), 62, Fraction(1))], -2)
    [(Fraction(0, 1), 60, Fraction(1, 1))]
    """
    moved = [(start, pitch + shift, length) for start, pitch, length in notes]
    for (start, pitch, _), (_, written, _) in zip(moved, notes):
        if not 0 <= pitch <= 127:
            raise RenderError(
                f"transpose={shift} takes pitch {written} (at quarter note {start}) to {pitch}, "
                "outside the MIDI range 0-127"
            )
    return moved


#: a ``K:`` or ``V:`` field that sets ``transpose=``, as a field line or inline (``[K:...]``)
_TRANSPOSE_FIELD = re.compile(r"(?:^\s*|\[)([KV]:[^\]]*?\btranspose\s*=[^\]\s]*)")


def _body_transposes(abc: str) -> list[str]:
    """The ``K:`` and ``V:`` fields of the body of the tune ``abc`` (a field line, or inline:
    ``[K:D transpose=2]``) that set ``transpose=``, which the MIDI does not play: only the
    header's are (`played_transpose`). The header ends where the reader's does (`header_span`):
    at the first line of music or at a ``V:`` line after ``K:``, not at stray text before
    ``K:`` that the reader passes over.

    >>> _body_transposes("X:1\\nK:D transpose=-2\\nV:1 transpose=3\\nDE [K:G transpose=1] F|")
    ['V:1 transpose=3', 'K:G transpose=1']
    """
    from tokenization.abc_tunebook import abc_lines

    found = []
    for _, code, _, part in tune_lines(abc_lines(abc)):
        if part == "body":
            found += [m[1].strip() for m in _TRANSPOSE_FIELD.finditer(code)]
    return found


#: a ``K:`` or ``V:`` field, as a field line or inline (``[K:bass-8]``): its letter and value
_KEY_OR_VOICE_FIELD = re.compile(r"(?:^\s*|\[)([KV]):([^\]]*)")


def _body_clef_octaves(abc: str, played: str | None) -> list[tuple[int, str]]:
    """``(line, field)`` of each ``K:`` or ``V:`` field of the body of the tune ``abc`` (a
    field line, or inline) whose clef plays at another octave (`clef_octave`: ``treble-8``, or
    ``treble`` after a header ``treble-8``) than the played voice's header clef, which the MIDI
    plays throughout (`played_transpose`: the header's ``K:`` clef, or that of the ``V:`` of
    the voice ``played``, the one the reader keeps, `AbcTune.voice`; another voice's clef is
    not compared): abc2midi plays the change from there on (though not a clef without ``8``
    after one with it). A field of the body while another voice is written (after ``V:2``)
    is not said: that voice is not played.

    >>> _body_clef_octaves("X:1\\nK:D\\nDE|\\nK:bass-8\\nDE [K:G] [V:1 clef=treble] F|", "1")
    [(4, 'K:bass-8')]
    >>> _body_clef_octaves("X:1\\nV:1 clef=treble-8\\nV:2 clef=bass\\nK:D\\nD [K:treble-8] F|", "1")
    []
    """
    from tokenization.abc_tunebook import abc_lines
    from tokenization.keys import clef_octave

    found: list[tuple[int, str, int, str | None]] = []  # ... and the voice written there
    keys: list[str] = []  # the header's K: and V: values
    voices: list[str] = []
    voice: str | None = None  # the voice the body writes in, from its first V: on
    for n, (_, code, _, part) in enumerate(tune_lines(abc_lines(abc)), 1):
        for m in _KEY_OR_VOICE_FIELD.finditer(code):
            if part != "body":
                (keys if m[1] == "K" else voices).append(m[2])
                continue
            if m[1] == "V":
                voice = played_voice([m[2]]) or ""
            octave = clef_octave(m[2], field="key" if m[1] == "K" else "voice")
            if octave is not None:
                found.append((n, f"{m[1]}:{m[2].strip()}", octave, voice))
    own = [v for v in voices if (v.split() or [""])[0] == played]
    header = header_clef_octave([("key", keys), ("voice", own)])
    return [
        (n, field)
        for n, field, octave, voice in found
        if octave != header and voice in (None, played)
    ]


#: The largest MIDI variable-length quantity (4 bytes of 7 bits): the longest wait between
#: two events of a track, in ticks. music21 writes a larger one in 5 bytes, which readers refuse.
MIDI_LONGEST_WAIT = 0x0FFFFFFF


def _check_waits(midi: MidiFile, notes: Sequence[tuple[Fraction, int, Fraction]]) -> None:
    """Raise `RenderError` when a wait between two events of a track of ``midi`` (a music21
    `MidiFile`: its delta times, the only variable-length quantities of its events that grow
    with the tune) is beyond `MIDI_LONGEST_WAIT`, saying what lasts that long (`_too_long`).
    The tracks are checked last first: the notes' own track, before the conductor track,
    whose waits run from one tempo mark to the next, past many notes."""
    from music21.midi import DeltaTime

    tick = midi.ticksPerQuarterNote
    for track in reversed(midi.tracks):
        now = 0
        for event in track.events:
            if not isinstance(event, DeltaTime):
                continue
            if event.time > MIDI_LONGEST_WAIT:
                start, stop = Fraction(now, tick), Fraction(now + event.time, tick)
                raise RenderError(f"{_too_long(start, stop, notes, tick)} is too long for MIDI")
            now += event.time


def _too_long(
    start: Fraction, stop: Fraction, notes: Sequence[tuple[Fraction, int, Fraction]], tick: int
) -> str:
    """What makes the wait from ``start`` to ``stop`` (quarter notes) of a track: the note of
    ``notes`` (`played_notes`) that lasts through most of it, else a rest when no note sounds
    in it, else the tune itself (a conductor track's wait from tempo mark to end).

    >>> _too_long(Fraction(4), Fraction(30004), [(Fraction(4), 81, Fraction(30000))], 10080)
    'the note A5 (30000 quarter notes from quarter 4, 302400000 ticks; MIDI waits at most
    268435455, 26630 quarter notes)'
    """
    import music21

    def overlap(note: tuple[Fraction, int, Fraction]) -> Fraction:
        return min(stop, note[0] + note[2]) - max(start, note[0])

    def quarters(value: Fraction) -> str:
        return f"{float(value):.12g}"

    longest = max(notes, key=overlap, default=None)
    if longest is not None and overlap(longest) * tick > MIDI_LONGEST_WAIT:
        what = f"the note {music21.pitch.Pitch(midi=longest[1]).nameWithOctave}"
        start, stop = longest[0], longest[0] + longest[2]
    elif longest is None or overlap(longest) <= 0:
        what = "a rest"
    else:
        what = "the tune, with no tempo change,"
    return (
        f"{what} ({quarters(stop - start)} quarter notes from quarter {quarters(start)}, "
        f"{round((stop - start) * tick)} ticks; MIDI waits at most {MIDI_LONGEST_WAIT}, "
        f"{MIDI_LONGEST_WAIT // tick} quarter notes)"
    )


def _last_at_least(midi: MidiFile, quarters: Fraction) -> None:
    """Move the end of each track of ``midi`` (a music21 `MidiFile`) to ``quarters`` where it
    comes sooner. music21 ends a track a quarter note after its last note ends, whatever rests
    follow: a tune's closing rest (``C4 z4|]``) was cut to that, where abc2midi plays it all."""
    from music21.midi import DeltaTime, MetaEvents

    ticks = round(quarters * midi.ticksPerQuarterNote)
    for track in midi.tracks:
        events = track.events  # [..., DeltaTime, END_OF_TRACK]: the last delta is the wait
        now = sum(event.time for event in events if isinstance(event, DeltaTime))
        ends = len(events) >= 2 and events[-1].type == MetaEvents.END_OF_TRACK
        if ends and isinstance(events[-2], DeltaTime) and now < ticks:
            events[-2].time += ticks - now


def _drop_time_signatures(midi: MidiFile) -> None:
    """Take the time signature meta-events out of each track of ``midi`` (a music21
    `MidiFile`), each wait before one added to the wait after it: music21 writes 4/4 for a
    stream without a time signature, where the tune gives none (`_midi_meter`)."""
    from music21.midi import DeltaTime, MetaEvents

    for track in midi.tracks:
        kept: list[MidiEvent] = []
        carried = 0  # the wait before a time signature taken out
        for event in track.events:  # [DeltaTime, event, DeltaTime, event, ...]
            if isinstance(event, DeltaTime):
                event.time += carried
                carried = 0
                kept.append(event)
            elif event.type != MetaEvents.TIME_SIGNATURE:
                kept.append(event)
            elif kept and isinstance(kept[-1], DeltaTime):
                carried = kept.pop().time
        track.events = kept


def tune_label(abc: str) -> str:
    """``X:2 T:Title`` of a tune's text (its first ``X:`` and ``T:`` lines), to name it.

    >>> tune_label("X:2\\nT:The Butterfly\\nT:An Féileacán\\nK:Em\\nB2E|")
    'X:2 T:The Butterfly'
    """
    lines = abc.splitlines()
    x = next((line.strip() for line in lines if line.startswith("X:")), "X:?")
    t = next((line.strip() for line in lines if line.startswith("T:")), None)
    return f"{x} {t}" if t else x
