"""Does `irish-tune render --formats midi` (`render.to_midi`) play what abc2midi plays?

For every tune of a sample, the tune is written to its own ``.abc``, rendered by `to_midi` and
by ``abc2midi t.abc -o a.mid -NGRA -NFNP -NGUI -NFER`` (no grace notes, no dynamics, no guitar
chords, no lengthened fermatas: what `to_midi` leaves out), both MIDI files are read back as
``(onset, pitch, length)`` notes in quarter notes (MIDI ticks over ticks per quarter: the
tempo, which only turns ticks into seconds, is left out) and compared. abc2midi starts each
note a tick late and ends it a tick early, and the upper notes of a chord 10 ticks later, so
times within 12 of its 480 ticks to the quarter count as equal. Each tune is *identical*, or
differs in its *note count*, else in a *pitch*, else in an *onset*, else in a *length* (the
first of these that differs, notes sorted by onset and pitch), or one of the two fails.

A differing tune is put down to a cause by taking one thing out of its text at a time and
rendering both again: the first change after which the two play alike names it (an ``R:hornpipe``
field, whose pairs of eighths in 4/4 abc2midi plays as ``>`` of its own accord; decorations
abc2midi plays as notes, ``~`` rolls and ``T`` trills; grace notes; ties; broken rhythm;
tuplets; repeats and endings; parts; key changes). Before that, a tune abc2midi plays in more
than one voice (`to_midi` plays the first) is put down to *voices*, and one differing only in
pitches by a semitone or two to *accidentals*. A tune no one change explains is given the
changes, each on top of those before, that make the two alike (``tuplets + repeats and
endings``), or *other*.

Usage:
    python benchmarks/midi_vs_abc2midi.py [--corpus PATH] [--sample 300] [--seed 0] [--books]
        [--examples 5]

``--corpus`` defaults to ``$MODELING_IRISH_CORPUS`` or ``../shared/data/thesession-c.abc``;
``--books`` adds every tune of music21's O'Neill's (1850) and Ryan's Mammoth. Prints a table
per source, the causes of the differences, and the first differing notes of a few tunes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from _paths import DEFAULT_CORPUS
from music21_round_trip import sample_tunes
from tqdm import tqdm

from modeling_irish.cli import abc_source, non_negative_int
from modeling_irish.render import RenderError, to_midi, tune_label

#: What abc2midi adds that `to_midi` does not play: grace notes, !p!/!f! dynamics, guitar chords
#: (``"G"``), and fermatas held longer.
ABC2MIDI_FLAGS = ("-NGRA", "-NFNP", "-NGUI", "-NFER", "-silent")
#: Times within this many quarter notes are equal: abc2midi (480 ticks a quarter) starts a note
#: a tick late and ends it a tick early, and the upper notes of a chord 10 ticks later still.
TOLERANCE = Fraction(12, 480)

Note = tuple[Fraction, int, Fraction]


def midi_notes(path: str) -> tuple[list[Note], int]:
    """``(onset, pitch, length)`` in quarter notes of every note of a MIDI file, sorted, and the
    number of channels that play notes. A note struck again before it was released is ended
    there; one never released ends with the file (neither happens in these files, checked)."""
    import music21

    midi = music21.midi.MidiFile()
    midi.open(path)
    try:
        midi.read()
    finally:
        midi.close()
    on_off = (music21.midi.ChannelVoiceMessages.NOTE_ON, music21.midi.ChannelVoiceMessages.NOTE_OFF)
    notes: list[tuple[int, int, int]] = []
    channels: set[int] = set()
    for track in midi.tracks:
        now, sounding = 0, {}
        for event in track.events:
            if isinstance(event, music21.midi.DeltaTime):
                now += event.time
                continue
            if event.type not in on_off:
                continue
            key = (event.channel, event.pitch)
            if key in sounding:
                start = sounding.pop(key)
                notes.append((start, event.pitch, now - start))
            if event.type == on_off[0] and event.velocity:
                sounding[key] = now
                channels.add(event.channel)
        notes += [(start, pitch, now - start) for (_, pitch), start in sounding.items()]
    tick = midi.ticksPerQuarterNote
    return sorted((Fraction(s, tick), p, Fraction(n, tick)) for s, p, n in notes), len(channels)


def _close(a: Fraction, b: Fraction) -> bool:
    return abs(a - b) <= TOLERANCE


def _by_onset(notes: list[Note]) -> list[Note]:
    """``notes`` (sorted) in order of onset and pitch, onsets within `TOLERANCE` of a chord's
    first taken as one (abc2midi's later upper notes sort with the chord, by pitch)."""
    keyed, first = [], None
    for note in notes:
        if first is None or note[0] - first > TOLERANCE:
            first = note[0]
        keyed.append(((first, note[1]), note))
    return [note for _, note in sorted(keyed)]


#: What a note's pair must share, tried in this order once the counts agree.
_SAME: tuple[tuple[str, Callable[[Note, Note], bool]], ...] = (
    ("pitch", lambda a, b: a[1] == b[1]),
    ("onset", lambda a, b: _close(a[0], b[0])),
    ("length", lambda a, b: _close(a[2], b[2])),
)


def difference(ours: list[Note], theirs: list[Note]) -> tuple[str, str]:
    """``(kind, detail)``: ``identical``, or the first of ``note count``, ``pitch``, ``onset``,
    ``length`` that differs, the detail showing the first differing notes."""
    ours, theirs = _by_onset(ours), _by_onset(theirs)
    pairs = list(enumerate(zip(ours, theirs)))
    if len(ours) != len(theirs):
        kind = "note count"
        sames = [same for _, same in _SAME[:2]]
        i = next((k for k, (a, b) in pairs if not all(s(a, b) for s in sames)), len(pairs))
    else:
        kind, i = next(
            ((kind, k) for kind, same in _SAME for k, (a, b) in pairs if not same(a, b)),
            ("identical", -1),
        )
        if kind == "identical":
            return kind, ""

    def shown(notes: list[Note]) -> str:
        return " ".join(f"({float(s):g},{p},{float(n):g})" for s, p, n in notes[i : i + 3])

    counts = f"note {i} of {len(ours)} (abc2midi {len(theirs)})"
    return kind, f"{counts}: ours {shown(ours)} abc2midi {shown(theirs)}"


def render_both(text: str, folder: str) -> tuple[list[Note], tuple[list[Note], int]] | str:
    """Both readers' notes of ``text`` (ours, then abc2midi's with its channel count), or why
    one of them failed: ``ours fails`` or ``abc2midi fails`` (an error, no file, or no end
    within 60 s)."""
    abc, ours, theirs = (str(Path(folder) / name) for name in ("t.abc", "o.mid", "a.mid"))
    Path(abc).write_text(text, encoding="utf-8")
    Path(theirs).unlink(missing_ok=True)
    try:
        to_midi(text, ours)
    except RenderError:
        return "ours fails"
    try:
        result = subprocess.run(
            ["abc2midi", abc, "-o", theirs, *ABC2MIDI_FLAGS],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:  # one tune that hangs abc2midi: that tune, not the run
        return "abc2midi fails"
    if result.returncode or not Path(theirs).exists():
        return "abc2midi fails"
    return midi_notes(ours)[0], midi_notes(theirs)


# ----- taking one thing out of a tune's text ----------------------------------------------------
#: What a change of the music leaves alone: quoted chords and annotations, !decorations!,
#: +decorations+, inline fields ([K:G]) and ending numbers (|1, [2, |1-3, |1,3).
_KEPT = re.compile(r'"[^"\n]*"|![^!\n]*!|\+[^+\n]*\+|\[[A-Za-z]:[^\]\n]*\]|[|\[]\d+(?:[-,]\d+)*')
_FIELD = re.compile(r"^[A-Za-z+]:")


def _in_music(text: str, change: Callable[[str], str]) -> str:
    """``text`` with ``change`` applied to the music of the body (not its fields, comments or
    the stretches `_KEPT` names)."""
    head, sep, body = text.partition("\nK:")
    first, _, rest = body.partition("\n")
    lines = []
    for line in rest.split("\n"):
        if _FIELD.match(line) or line.startswith("%"):
            lines.append(line)
            continue
        kept = [m.span() for m in _KEPT.finditer(line)]
        pieces, at = [], 0
        for start, end in kept:
            pieces += [change(line[at:start]), line[start:end]]
            at = end
        lines.append("".join([*pieces, change(line[at:])]))
    return head + sep + first + "\n" + "\n".join(lines)


def _body_lines(text: str, keep: Callable[[str], bool]) -> str:
    """``text`` with the body lines ``keep`` refuses left out (the first ``K:`` is kept)."""
    head, sep, body = text.partition("\nK:")
    first, _, rest = body.partition("\n")
    return head + sep + first + "\n" + "\n".join(line for line in rest.split("\n") if keep(line))


def _no_decorations(text: str) -> str:
    """``text`` without decorations: ``!trill!``, ``+trill+`` and the shorthands (``~T.``...)."""
    head, sep, body = text.partition("\nK:")
    body = re.sub(r"![^!\n]*!|\+[^+:\n]*\+", "", body)
    return _in_music(head + sep + body, lambda music: re.sub(r"[~THLMOPSuv.]", "", music))


def _no_repeats(text: str) -> str:
    """``text`` with every repeat sign and ending number a plain bar line."""
    head, sep, body = text.partition("\nK:")
    body = re.sub(r"[|\[](\d+(?:[-,]\d+)*)", "|", body)  # endings, before the music is changed
    return _in_music(head + sep + body, lambda m: re.sub(r":*\|+\]?:*|:{2,}|\[\|", "|", m))


#: The changes tried, in order, each named by the cause it points at.
CHANGES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("R:hornpipe (abc2midi swings it)", lambda t: re.sub(r"(?mi)^R:.*hornpipe.*\n?", "", t)),
    ("decorations abc2midi plays", _no_decorations),
    ("grace notes", lambda t: _in_music(t, lambda m: re.sub(r"\{[^}]*\}", "", m))),
    ("ties", lambda t: _in_music(t, lambda m: m.replace("-", ""))),
    ("broken rhythm", lambda t: _in_music(t, lambda m: re.sub(r"[<>]+", " ", m))),
    ("tuplets", lambda t: _in_music(t, lambda m: re.sub(r"\(\d+(?::\d*){0,2}", "", m))),
    ("repeats and endings", _no_repeats),
    ("parts", lambda t: re.sub(r"(?m)^P:.*\n?", "", t)),
    (
        "key changes",
        lambda t: re.sub(r"\[K:[^\]]*\]", "", _body_lines(t, lambda x: not x.startswith("K:"))),
    ),
)


def cause(text: str, ours: list[Note], theirs: list[Note], channels: int, folder: str) -> str:
    """What the two readers' difference on ``text`` is put down to (the module's docstring)."""
    if channels > 1:
        return "voices"
    if len(ours) == len(theirs) and all(
        _close(a[0], b[0]) and _close(a[2], b[2]) and 0 < abs(a[1] - b[1]) <= 2 or a == b
        for a, b in zip(ours, [(s, p, n) for s, p, n in theirs])
    ):
        return "accidentals"
    for name, change in CHANGES:
        changed = change(text)
        if changed == text:
            continue
        both = render_both(changed, folder)
        if not isinstance(both, str) and difference(both[0], both[1][0])[0] == "identical":
            return name
    names = []
    for name, change in CHANGES:  # one at a time explained nothing: one on top of another
        changed = change(text)
        if changed == text:
            continue
        text, names = changed, [*names, name]
        both = render_both(text, folder)
        alike = not isinstance(both, str) and difference(both[0], both[1][0])[0] == "identical"
        if len(names) > 1 and alike:
            return " + ".join(names)
    return "other"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=abc_source, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--sample", type=non_negative_int, default=300, help="corpus tunes drawn at random"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--books", action="store_true", help="add O'Neill's and Ryan's, whole")
    parser.add_argument(
        "--examples", type=non_negative_int, default=5, help="differing tunes shown per cause"
    )
    args = parser.parse_args(argv)
    if args.sample == 0 and not args.books:
        parser.error("--sample 0 without --books leaves no tune to compare")
    if shutil.which("abc2midi") is None:
        parser.error("abc2midi is not installed (Debian/Ubuntu: apt install abcmidi)")

    tunes = sample_tunes(args)
    kinds: dict[str, Counter] = {}
    causes: dict[str, Counter] = {}
    examples: dict[str, list[str]] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for source, name, text in tqdm(tunes, desc="tunes", unit="tune"):
            both = render_both(text, folder)
            if isinstance(both, str):
                kind, detail, why = both, "", both
            else:
                ours, (theirs, channels) = both
                kind, detail = difference(ours, theirs)
                why = "" if kind == "identical" else cause(text, ours, theirs, channels, folder)
            kinds.setdefault(source, Counter())[kind] += 1
            if why:
                causes.setdefault(source, Counter())[why] += 1
                shown = examples.setdefault(why, [])
                if len(shown) < args.examples:
                    shown.append(f"  {name} ({tune_label(text)}): {kind}: {detail}")
    print(f"{len(tunes)} tunes in {time.perf_counter() - start:.0f} s\n")
    columns = (
        "identical",
        "pitch",
        "onset",
        "length",
        "note count",
        "ours fails",
        "abc2midi fails",
    )
    print("| source | tunes | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    for source, counts in kinds.items():
        total = sum(counts.values())
        cells = [
            f"{counts[c]} ({counts[c] / total:.1%})" if c == "identical" else str(counts[c])
            for c in columns
        ]
        print(f"| {source} | {total} | " + " | ".join(cells) + " |")
    print("\ncauses of the differences (and failures):")
    for source, counts in causes.items():
        print(f"  {source}: " + ", ".join(f"{why} {n}" for why, n in counts.most_common()))
    for why, shown in examples.items():
        print(f"--- {why}")
        print("\n".join(shown))


if __name__ == "__main__":
    main()
