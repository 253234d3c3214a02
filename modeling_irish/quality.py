"""Quality of generated tunes: validity, structure, tonic endings, copying, histogram distances."""

from __future__ import annotations

import gc
import math
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from operator import attrgetter
from typing import Any

import numpy as np

from tokenization.features import FEATURE_NAMES
from tokenization.keys import Key, normalise_shift, transpose_tokens

from .music21_stderr import music21_said
from .tune_validation import validate_tune  # not .constraints, which imports torch (render)

__all__ = [
    "ABC2MIDI_MISSING",
    "EMPTY_HISTOGRAM",
    "BarIndex",
    "abc2midi_errors",
    "ends_on_tonic",
    "gc_paused",
    "generation_metrics",
    "histogram_distances",
    "jensen_shannon",
    "merge_ties",
    "music21_events",
    "music21_sounding_events",
    "repeats_balanced",
    "score_sounding_events",
    "reread_abc2midi",
    "reread_music21",
    "reread_ours",
    "sounding_events",
    "split_bars",
    "tied_pitches",
    "token_events",
    "total_variation",
]

_STRUCTURE_WORDS = ("unbalanced", "unsupported bar", "left open")


# Columns that do not depend on the octave a tune is written in (all but main, pitch_class, octave).
_NON_PITCH_COLUMNS = [
    i for i, n in enumerate(FEATURE_NAMES) if n not in ("main", "pitch_class", "octave")
]


# ----- structure ---------------------------------------------------------------------------


def repeats_balanced(tokens: Sequence[Any], meter: str | None) -> bool:
    """Whether `validate_tune` finds no repeat/ending problem (bar lengths aside)."""
    errors = validate_tune(list(tokens), meter).errors
    return not any(word in e for e in errors for word in _STRUCTURE_WORDS)


def ends_on_tonic(tokens: Sequence[Any], key: Key) -> bool:
    """Whether the last note (the lowest of a final chord) is the key's tonic; rests after it
    are passed over (a jig ending ``EDA, D2z ||`` ends on its D).

    >>> from tokenization.abc_parser import Token
    >>> ends_on_tonic([Token("note", "", 62, Fraction(1, 4))], Key("D", "major"))
    True
    >>> chord = [Token("chord_start", "[", None, None), Token("note", "", 62, Fraction(1, 4)),
    ...          Token("note", "", 57, Fraction(1, 4)), Token("chord_end", "]", None, None)]
    >>> ends_on_tonic(chord, Key("D", "major"))  # [DA,]: the lowest is A
    False
    """
    chord: list[int] = []  # the final chord's pitches, read backwards from its `]`
    in_chord = False
    for tok in reversed(tokens):
        if tok.kind == "chord_end":
            in_chord = True
        elif tok.kind == "note" and in_chord:
            chord.append(tok.pitch)
        elif tok.kind == "chord_start" and in_chord:
            return bool(chord) and min(chord) % 12 == key.tonic_pc
        elif tok.kind == "note":
            return tok.pitch % 12 == key.tonic_pc
    return False


# ----- copying -----------------------------------------------------------------------------
def split_bars(tokens: Sequence[Any]) -> list[tuple]:
    """Bars as hashable tuples of ``(kind, pitch, dur)`` (bar lines and ties dropped); empty
    bars are skipped. The bar lines are found with ``list.index`` and the triples made with
    ``attrgetter`` (C loops): `BarIndex` splits every token of ``--train``.

    >>> from tokenization.abc_parser import Token
    >>> n = Token("note", "", 60, Fraction(1, 8))
    >>> len(split_bars([n, Token("bar", "|", None, None), n, n]))
    2
    """
    kinds = list(map(_KIND, tokens))
    if "tie" in kinds:
        tokens = [tok for tok, kind in zip(tokens, kinds) if kind != "tie"]
        kinds = list(map(_KIND, tokens))
    triples = list(map(_TRIPLE, tokens))
    bars: list[tuple] = []
    start = 0
    while start < len(kinds):
        try:
            end = kinds.index("bar", start)
        except ValueError:  # no bar line closes the last bar
            end = len(kinds)
        if end > start:
            bars.append(tuple(triples[start:end]))
        start = end + 1
    return bars


_KIND = attrgetter("kind")
_TRIPLE = attrgetter("kind", "pitch", "dur")


class _Hashed:
    """Stands for a bar in a pair's hash: ``hash((_Hashed(hash(a)), _Hashed(hash(b))))`` is
    ``hash((a, b))`` (a tuple's hash is made of its items' hashes), each bar hashed once, not
    once per pair it is in (a bar's hash hashes each duration, a `Fraction`, in Python)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def __hash__(self) -> int:
        return self.value


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: the bar index keeps millions of tuples, which every
    full collection walked again (~85% of building it on thesession-c); they make no cycles.
    So too the tokens of ``--train``'s tunes as `read_train_corpus` reads them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class BarIndex:
    """Index of the training tunes' bars by 2-bar hashes, for the longest copied run of bars.

    Args:
        tunes: token lists of the training tunes (in the same, normalised, key as the samples).
        max_postings: postings kept per 2-bar hash (very common pairs are truncated).

    Example:
        >>> from tokenization.abc_parser import Token
        >>> bar = lambda p: [Token("note", "", p, Fraction(1, 2)), Token("bar", "|", None, None)]
        >>> index = BarIndex([sum((bar(p) for p in (60, 62, 64, 65, 67)), [])])
        >>> index.longest_copy(sum((bar(p) for p in (50, 62, 64, 65, 52)), []))
        3
    """

    def __init__(self, tunes: Iterable[Sequence[Any]], max_postings: int = 5000) -> None:
        self.tunes: list[list[tuple]] = []
        self.postings: dict[int, list[tuple[int, int]]] = {}
        with gc_paused():
            for tokens in tunes:
                self._add(split_bars(tokens), max_postings)

    def _add(self, bars: list[tuple], max_postings: int) -> None:
        """Index one tune's bars: each pair of bars in a row posts ``(tune, first bar)`` under
        ``hash((bar, next bar))``, in bar order, up to ``max_postings`` per hash."""
        t = len(self.tunes)
        self.tunes.append(bars)
        hashed = [_Hashed(h) for h in map(hash, bars)]
        for k, key in enumerate(map(hash, zip(hashed, hashed[1:]))):
            posting = self.postings.setdefault(key, [])
            if len(posting) < max_postings:
                posting.append((t, k))

    def longest_copy(self, tokens: Sequence[Any]) -> int:
        """Longest run of consecutive bars of ``tokens`` equal to a run of one training tune,
        in the same octave or one up or down (a sample is written in the playing register and
        a training file is read in the octave the corpus has its tunes in, so a verbatim copy can
        sit an octave away); 0 when no bar pair is shared (a run is found from 2 bars on)."""
        return max(self._longest_run(split_bars(_moved(tokens, s))) for s in (0, -12, 12))

    def _longest_run(self, bars: list[tuple]) -> int:
        best = 0
        for j in range(len(bars) - 1):
            for t, k in self.postings.get(hash((bars[j], bars[j + 1])), ()):
                other = self.tunes[t]
                if j and k and other[k - 1] == bars[j - 1]:
                    continue  # not the left end of a run: counted from its start
                n = 0
                while j + n < len(bars) and k + n < len(other) and other[k + n] == bars[j + n]:
                    n += 1
                best = max(best, n)
        return best


def _moved(tokens: Sequence[Any], semitones: int) -> list[Any]:
    """``tokens`` with every note ``semitones`` higher."""
    if not semitones:
        return list(tokens)
    return [t._replace(pitch=t.pitch + semitones) if t.kind == "note" else t for t in tokens]


# ----- histograms --------------------------------------------------------------------------
def _histograms(token_lists: Iterable[Sequence[Any]]) -> dict[str, Counter]:
    """Counts of pitch classes, intervals (clipped to an octave) and note and rest durations.
    Each tune is counted with list comprehensions and ``Counter.update`` (C loops): the
    ``--train`` side of `irish-tune evaluate-generation` is millions of tokens. Keys are met in
    token order, as a loop would meet them, so the distances sum in the same order."""
    pcs: Counter[int] = Counter()
    intervals: Counter[int] = Counter()
    durs: Counter[Fraction] = Counter()
    for tokens in token_lists:
        pitches = [tok.pitch for tok in tokens if tok.kind == "note"]
        pcs.update([pitch % 12 for pitch in pitches])
        durs.update([tok.dur for tok in tokens if tok.kind == "note" or tok.kind == "rest"])
        intervals.update([max(-12, min(12, b - a)) for a, b in zip(pitches, pitches[1:])])
    return {"pitch_class": pcs, "interval": intervals, "duration": durs}


def _normalise(counts: Counter, support: set) -> dict:
    total = sum(counts.values()) or 1
    return {k: counts.get(k, 0) / total for k in support}


def total_variation(p: Counter, q: Counter) -> float:
    """Total variation distance of two count histograms (0 equal, 1 disjoint).

    >>> total_variation(Counter({1: 1}), Counter({2: 3}))
    1.0
    """
    support = set(p) | set(q)
    a, b = _normalise(p, support), _normalise(q, support)
    return 0.5 * sum(abs(a[k] - b[k]) for k in support)


def jensen_shannon(p: Counter, q: Counter) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) of two count histograms.

    >>> jensen_shannon(Counter({1: 2}), Counter({1: 5}))
    0.0
    >>> jensen_shannon(Counter({1: 1}), Counter({2: 1}))
    1.0
    """
    support = set(p) | set(q)
    a, b = _normalise(p, support), _normalise(q, support)

    def kl(x: dict, m: dict) -> float:
        return sum(x[k] * math.log2(x[k] / m[k]) for k in support if x[k] > 0)

    mid = {k: (a[k] + b[k]) / 2 for k in support}
    return 0.5 * kl(a, mid) + 0.5 * kl(b, mid)


#: Why `histogram_distances` gives no distance (None): a histogram with nothing in it.
EMPTY_HISTOGRAM = "an empty histogram: the samples or the training tunes have nothing to count"

#: Why ``reread_abc2midi_rate`` is None: the check was not run, which is not a pass.
ABC2MIDI_MISSING = "abc2midi is not installed: its re-reading check was skipped"


def histogram_distances(
    samples: Iterable[Sequence[Any]], corpus: Iterable[Sequence[Any]]
) -> dict[str, float | None]:
    """``{pitch_class,interval,duration}_{tv,js}`` between samples and corpus (same key frame).
    A histogram empty on either side (no notes; for ``interval``, no two notes in a row) has no
    distribution to compare: its two distances are None (`EMPTY_HISTOGRAM`), not the 0.5 the
    formulas give against nothing.

    >>> histogram_distances([], [])["pitch_class_tv"] is None
    True
    """
    ours, theirs = _histograms(samples), _histograms(corpus)
    out: dict[str, float | None] = {}
    for name in ours:
        defined = bool(ours[name]) and bool(theirs[name])
        out[f"{name}_tv"] = total_variation(ours[name], theirs[name]) if defined else None
        out[f"{name}_js"] = jensen_shannon(ours[name], theirs[name]) if defined else None
    return out


# ----- re-reading with three readers -------------------------------------------------------
def reread_ours(tune: Any, tokenizer: Any) -> bool:
    """Our reader gives back the same notes (pitches, lengths, bars, tuplets, ties, chords as
    written) and the same rows in every column but the pitch ones: reading normalises to the
    corpus's octave (`tokenization.keys.normalise_shift`), while the writer centres a new tune
    on the playing register (`tokenization.keys.output_shift`)."""
    from tokenization.abc_parser import parse_abc

    try:
        read = parse_abc(tune.abc)
        enc = tokenizer.encode_tune(tune.abc)
    except ValueError:
        return False
    if list(read.tokens) != list(tune.tokens):
        return False
    rows = np.asarray(tune.rows)
    if enc.input_ids.shape != rows.shape:
        return False
    cols = _NON_PITCH_COLUMNS
    return bool((enc.input_ids[:, cols] == rows[:, cols]).all())


def token_events(tokens: Sequence[Any], compound: bool = False) -> list[tuple]:
    """``(midi pitches, quarter length)`` of every sounding event (chords as one event), with
    tuplet members scaled by their tuplet's factor (music21's view)."""
    events: list[tuple] = []
    chord: list[Any] | None = None  # the notes of the chord being read
    factor, left = Fraction(1), 0
    for tok in tokens:
        kind = tok.kind
        if kind == "tuplet":
            from tokenization.measure import tuplet_size

            factor, left = tok.dur, tuplet_size(tok.text)
        elif kind == "chord_start":
            chord = []
        elif kind == "note" and chord is not None:
            chord.append(tok)
        elif kind in ("note", "rest", "chord_end"):
            members = chord if kind == "chord_end" else [tok]
            chord = None
            if not members:
                continue
            scale = factor if left > 0 else Fraction(1)
            left -= 1 if left > 0 else 0
            pitches = tuple(sorted(m.pitch for m in members if m.pitch is not None))
            events.append((pitches, members[0].dur * 4 * scale))
    return events


def music21_events(abc: str) -> list[tuple]:
    """``(midi pitches, quarter length)`` of every note, chord and rest music21 reads."""
    import music21

    return _score_events(list(music21.converter.parse(abc, format="abc").recurse().notesAndRests))


def _score_events(items: list[Any]) -> list[tuple]:
    """`music21_events` of music21's notes, chords and rests ``items``."""
    import music21

    events = []
    for item in items:
        if isinstance(item, music21.chord.Chord):
            pitches = tuple(sorted(p.midi for p in item.pitches))
        elif isinstance(item, music21.note.Note):
            pitches = (item.pitch.midi,)
        else:
            pitches = ()
        events.append((pitches, Fraction(item.quarterLength).limit_denominator(10000)))
    return events


def reread_music21(tune: Any) -> bool:
    """music21 reads the same pitches and durations, in order: the ABC holds the tokens sampled,
    those of a tune cut at the hard row limit too (whether it ends properly is `valid`'s
    question, not this one's). What it prints on stderr and
    its Python warnings meanwhile are kept out of our output, for this thread only
    (`music21_said`): other threads' printing and warnings go on as ever."""
    try:  # music21 writes beam warnings straight to stderr: keep them out of our output
        with music21_said():
            theirs = music21_events(tune.abc)
    except Exception:  # noqa: BLE001 (music21 raises many kinds on bad input)
        return False
    return theirs == token_events(tune.tokens)


def merge_ties(events: list[tuple], tied: list[bool]) -> list[tuple]:
    """``events`` with each single note tied onward (``tied``) merged with the next event of its
    pitch, and rests that follow each other merged: music21 cuts a note or rest that overruns
    its bar (a bar the text writes too long) in two, where our reader keeps one. A chord's ties
    are left alone: music21 10.5 drops them (``[DA]2-[DA]2`` and ``[DA-]2A2`` read as untied
    chords and notes), so they are no part of what the two readers can be compared on; the
    playing view that holds them is `modeling_irish.render_playing.played_events`.

    >>> merge_ties([((60,), 1), ((60,), 2), ((), 1), ((), 1)], [True, False, False, False])
    [((60,), 3), ((), 2)]
    """
    merged: list[tuple] = []
    carry = False
    for event, tie in zip(events, tied):
        rests = event[0] == () and merged and merged[-1][0] == ()
        if rests or (carry and merged and merged[-1][0] == event[0]):
            merged[-1] = (event[0], merged[-1][1] + event[1])
        else:
            merged.append(event)
        carry = tie and len(event[0]) == 1
    return merged


def tied_pitches(tokens: Sequence[Any]) -> list[frozenset[int]]:
    """The pitches each event of `token_events` ties onward, in its order: a tie after a note,
    or after a chord's ``]`` (every pitch of the chord), or inside a chord after one of its
    notes (that note only: ``[DA-]`` ties the A).

    >>> from tokenization.abc_parser import parse_abc
    >>> [sorted(p) for p in tied_pitches(parse_abc("L:1/8\\nK:C\\n[DA-]2A-A [DA]-[DA]").tokens)]
    [[69], [69], [], [62, 69], []]
    """
    tied: list[frozenset[int]] = []
    chord: list[int] | None = None  # pitches of the chord being read
    chord_ties: frozenset[int] = frozenset()  # those of its notes tied inside it
    last: frozenset[int] = frozenset()  # what a tie read now would tie
    for tok in tokens:
        if tok.kind == "chord_start":
            chord, chord_ties, last = [], frozenset(), frozenset()
        elif tok.kind == "note" and chord is not None:
            chord.append(tok.pitch)
            last = frozenset([tok.pitch])
        elif tok.kind == "tie" and chord is not None:
            chord_ties |= last
        elif tok.kind == "chord_end":
            if chord:  # `token_events` makes no event of an empty chord
                tied.append(chord_ties)
            last, chord = frozenset(chord or ()), None
        elif tok.kind in ("note", "rest"):
            tied.append(frozenset())
            last = frozenset([tok.pitch] if tok.kind == "note" else ())
        elif tok.kind == "tie" and tied:
            tied[-1] |= last
    return tied


def sounding_events(tokens: Sequence[Any]) -> list[tuple]:
    """`token_events` of our tokens, merged as `merge_ties` says."""
    return merge_ties(token_events(tokens), [bool(p) for p in tied_pitches(tokens)])


def music21_sounding_events(abc: str) -> list[tuple]:
    """`music21_events` of ``abc``, merged as `merge_ties` says (music21's warnings, which it
    writes to stderr or gives as Python warnings, are kept out of ours, for this thread only,
    `music21_said`; its exceptions are not caught)."""
    import music21

    with music21_said():
        score = music21.converter.parse(abc, format="abc")
    return score_sounding_events(score)


def score_sounding_events(score: Any) -> list[tuple]:
    """`music21_events` of a music21 ``score`` (its notes, chords and rests, in order), merged
    as `merge_ties` says: what a MusicXML file read back holds, to compare with
    `sounding_events` of the tokens it was written from (`render_musicxml`)."""
    import music21

    items = list(score.recurse().notesAndRests)
    events = _score_events(items)
    tied = [
        isinstance(n, music21.note.Note) and n.tie is not None and n.tie.type != "stop"
        for n in items
    ]
    return merge_ties(events, tied)


def abc2midi_errors(abc: str, timeout: float = 30.0) -> list[str] | None:
    """abc2midi's error lines on ``abc`` (its exit status, when not 0, as one more line);
    ``None`` when the program is not installed. A run past ``timeout`` seconds is ended and
    its one error line is ``abc2midi did not finish in N s``: that tune fails the check, and
    the others are still read (a tune that hangs abc2midi stopped the whole re-reading)."""
    program = shutil.which("abc2midi")
    if program is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tune.abc")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(abc)
        try:
            result = subprocess.run(
                [program, path, "-o", os.path.join(tmp, "tune.mid")],
                capture_output=True,
                encoding="utf-8",  # not the locale's (cp1252 on Windows fails on some bytes)
                errors="replace",  # the tune's own text echoed back need not be UTF-8
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:  # `run` has killed it and waited for it
            return [f"abc2midi did not finish in {timeout:g} s"]
    errors = [line for line in (result.stdout + result.stderr).splitlines() if "Error" in line]
    return errors + ([f"exit status {result.returncode}"] if result.returncode else [])


def reread_abc2midi(tune: Any, timeout: float = 30.0) -> bool | None:
    """abc2midi converts the tune with exit status 0 and no error line, within ``timeout``
    seconds (`abc2midi_errors`); ``None`` when the program is not installed."""
    errors = abc2midi_errors(tune.abc, timeout)
    return None if errors is None else not errors


# ----- the report --------------------------------------------------------------------------
def normalised_tokens(tune: Any) -> list[Any]:
    """A generated tune's tokens on the white keys (the corpus's frame), in the octave sampled."""
    if getattr(tune, "normalised_tokens", None):
        return tune.normalised_tokens
    return transpose_tokens(tune.tokens, normalise_shift(tune.key))


def _reread_rates(tunes: Sequence[Any], tokenizer: Any = None) -> dict[str, float | None]:
    """The shares of ``tunes`` that our reader (with ``tokenizer``), music21 and abc2midi (when
    installed) read back (`reread_ours`, `reread_music21`, `reread_abc2midi`), each tune read
    under a "Re-reading tunes" bar on stderr: on a terminal only, and cleared when done (stdout
    stays the report; music21 and abc2midi take a second or so a tune)."""
    from .cli import progress_bar_class

    n = max(len(tunes), 1)
    ours = music21 = 0
    midi: list[bool | None] = []
    tqdm = progress_bar_class()
    for tune in tqdm(tunes, desc="Re-reading tunes", unit=" tunes", disable=None, leave=False):
        if tokenizer is not None:
            ours += reread_ours(tune, tokenizer)
        music21 += reread_music21(tune)
        midi.append(reread_abc2midi(tune))
    out: dict[str, float | None] = {}
    if tokenizer is not None:
        out["reread_ours_rate"] = ours / n
    out["reread_music21_rate"] = music21 / n
    # None without abc2midi (`ABC2MIDI_MISSING`): the key stays, so that a table or JSON shows
    # the check was skipped, where it used to be left out without a word
    skipped = any(m is None for m in midi)
    out["reread_abc2midi_rate"] = None if skipped else sum(bool(m) for m in midi) / n
    return out


def generation_metrics(
    tunes: Sequence[Any],
    corpus: Sequence[Sequence[Any]] | None = None,
    index: BarIndex | None = None,
    tokenizer: Any = None,
    readers: bool = True,
) -> dict[str, float | None]:
    """Flat dict of the quality measures of a set of generated tunes (``num_tunes`` an int, the
    others floats; a histogram distance None when a histogram is empty, `histogram_distances`;
    ``reread_abc2midi_rate`` None when abc2midi is not installed, `ABC2MIDI_MISSING`).

    ``corpus`` (normalised token lists of training tunes) adds the copy and histogram measures;
    ``tokenizer`` and ``readers`` add the re-reading rates of our reader, music21 and abc2midi.
    """
    n = max(len(tunes), 1)
    out = {
        "num_tunes": len(tunes),
        "validity_rate": sum(t.valid for t in tunes) / n,
        "repeats_balanced_share": sum(repeats_balanced(t.tokens, t.meter) for t in tunes) / n,
        "tonic_end_share": sum(ends_on_tonic(t.tokens, t.key) for t in tunes) / n,
        "mean_rows": sum(len(t.rows) for t in tunes) / n,
    }
    if readers:
        out.update(_reread_rates(tunes, tokenizer))
    if corpus is not None:
        samples = [normalised_tokens(t) for t in tunes]
        index = index or BarIndex(corpus)
        copies = [index.longest_copy(s) for s in samples]
        out["copy_longest_mean"] = sum(copies) / n
        out["copy_share_ge4"] = sum(c >= 4 for c in copies) / n
        out.update(histogram_distances(samples, corpus))
    return out
