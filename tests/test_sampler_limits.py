"""Limits of the sampling grammar that every sampled tune keeps, checked on random walks.

A random walk drives a `TuneConstraint` with random choices among the tokens its masks allow
(no model): a kind of token (note, rest, chord bracket, tuplet, tie, bar line, ``<end>``) at
random, then a token of that kind, so every token the grammar lets through is drawn sooner or
later, and the rarer kinds often. The limits checked
are the documented ones, counted from the walk's tokens (not from the constraint's own state):

- a chord has at most three notes (``MAX_CHORD_NOTES``), at distinct, strictly rising pitches;
- only the tuplets ``(2``, ``(3``, ``(4`` are written (``SAMPLED_TUPLETS``: readers disagree on
  the default ``q`` of ``(5``, ``(6``, ``(7``, ``(9``);
- a sampled pickup is at most half a bar;
- a tune stops by itself only after ``min_bars`` bars (the pickup not counted).
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from modeling_irish.constraints import (
    ConstraintTables,
    MaskBank,
    TuneConstraint,
    build_dur_mask,
    build_main_mask,
)
from tokenization.abc_parser import Token
from tokenization.measure import TICKS_PER_EIGHTH, MeasureTracker
from tokenization.vocabulary import END_ID, AbcVocab

F = Fraction
METERS = ["6/8", "9/8", "3/4", "4/4", "2/4", "12/8"]
#: the documented limits, written out (not imported: a changed constant must fail here)
MOST_CHORD_NOTES = 3
TUPLETS = {"(2", "(3", "(4"}


@pytest.fixture(scope="module")
def vocab():
    """Every sixteenth up to 12 eighths, usual lengths, two octaves of pitches; the base values
    add every bar line, ``[``, ``]``, ``-``, ``z`` and the tuplets ``(2`` ... ``(9``."""
    offsets = [str(F(i, 4)) for i in range(0, 49)]
    durs = ["1/2", "1", "3/2", "2", "3", "4", "6"]
    pitches = [f"pitch{p}" for p in range(60, 80)]
    return AbcVocab.from_values({"m_offset": offsets, "dur": durs, "main": pitches})


_BANKS: dict[int, tuple[MaskBank, MaskBank]] = {}


def walk(tables: ConstraintTables, rng: random.Random, **limits) -> tuple[list[Token], bool]:
    """Tokens of one random walk, and whether it stopped by drawing ``<end>`` while a
    bar line was not forced to be the last (``must_end``): a stop "by itself"."""
    if id(tables) not in _BANKS:
        _BANKS[id(tables)] = (
            MaskBank(lambda key: build_main_mask(tables, key)),
            MaskBank(lambda key: build_dur_mask(tables, key)),
        )
    main_bank, dur_bank = _BANKS[id(tables)]
    c = TuneConstraint(tables, **limits)
    tokens: list[Token] = []
    for _ in range(4000):
        main_key, dur_key = c.keys()
        main = main_bank.gather([main_key])[0].nonzero()[:, 0].tolist()
        dur = dur_bank.gather([dur_key])[0].nonzero()[:, 0].tolist()
        assert main, f"dead end at {main_key}"
        # a kind first, then a token of it: chords, tuplets, bar lines and <end> come up often
        kinds = sorted({tables.kind[i] for i in main})
        kind = rng.choice(kinds)
        m = rng.choice([i for i in main if tables.kind[i] == kind])
        if m == END_ID:
            return tokens, not c.must_end
        d = rng.choice(dur) if tables.kind[m] in ("note", "rest") else 0
        tokens.append(c.push(m, d))
    raise AssertionError("no <end> within the step limit")


def chords(tokens: list[Token]) -> list[list[int]]:
    """The pitches of every chord, as written."""
    found, current = [], None
    for t in tokens:
        if t.kind == "chord_start":
            current = []
        elif t.kind == "chord_end":
            found.append(current)
            current = None
        elif current is not None and t.kind == "note":
            current.append(t.pitch)
    assert current is None, "a chord left open"
    return found


def opening_pickup(tokens: list[Token], meter_eighths: Fraction) -> Fraction:
    """Length in eighths of the music before the first bar line, 0 when it is a full bar."""
    tracker = MeasureTracker(meter_eighths)
    for t in tokens:
        if t.kind == "bar" and tracker.offset:
            length = F(tracker.offset) / TICKS_PER_EIGHTH
            return length if length < meter_eighths else F(0)
        tracker.push(t)
    return F(0)


def bars_after_pickup(tokens: list[Token], meter_eighths: Fraction) -> int:
    """Bar lines that close a bar with music in it, the opening pickup's not counted."""
    closed, filled = 0, False
    for t in tokens:
        if t.kind == "bar":
            closed += filled
            filled = False
        elif t.kind in ("note", "rest", "chord_end"):
            filled = True
    return closed - (opening_pickup(tokens, meter_eighths) > 0)


@pytest.mark.parametrize("meter", METERS)
def test_chords_have_at_most_three_strictly_rising_notes(vocab, meter):
    tables = ConstraintTables(vocab, meter)
    rng = random.Random(f"chords {meter}")
    seen = []
    for _ in range(15):
        tokens, _ = walk(tables, rng, num_bars=4, max_rows=400, min_bars=2)
        seen += chords(tokens)
    assert len(seen) >= 20 and any(len(c) == MOST_CHORD_NOTES for c in seen)  # the walk reaches
    for pitches in seen:
        assert 1 <= len(pitches) <= MOST_CHORD_NOTES, pitches
        assert all(a < b for a, b in zip(pitches, pitches[1:])), pitches


@pytest.mark.parametrize("meter", METERS)
def test_only_the_tuplets_every_reader_agrees_on_are_sampled(vocab, meter):
    tables = ConstraintTables(vocab, meter)
    # the vocabulary has the others: the grammar (not their absence) keeps them out
    assert {"(5", "(6", "(7", "(9"} <= set(vocab.values["main"])
    rng = random.Random(f"tuplets {meter}")
    written = []
    for _ in range(15):
        tokens, _ = walk(tables, rng, num_bars=4, max_rows=400, min_bars=2)
        written += [t.text for t in tokens if t.kind == "tuplet"]
    assert len(written) >= 10
    assert set(written) <= TUPLETS, sorted(set(written) - TUPLETS)


@pytest.mark.parametrize("meter", METERS)
def test_a_sampled_pickup_is_at_most_half_a_bar(vocab, meter):
    tables = ConstraintTables(vocab, meter)
    bar = F(tables.bar_eighths)
    rng = random.Random(f"pickups {meter}")
    pickups = []
    for _ in range(60):
        tokens, _ = walk(tables, rng, num_bars=2, max_rows=400, min_bars=1)
        pickup = opening_pickup(tokens, bar)
        if pickup:
            pickups.append(pickup)
            assert pickup <= bar / 2, (pickup, bar)
    assert len(pickups) >= 5  # the walk opens with a pickup often enough to test the limit


@pytest.mark.parametrize("meter", METERS)
@pytest.mark.parametrize("min_bars", [1, 3, 6])
def test_a_tune_stops_by_itself_only_after_min_bars(vocab, meter, min_bars):
    # no bar target and a far row cap: nothing steers the tune to close, so every stop is the
    # walk's own <end>, which the grammar may offer only after min_bars bars
    tables = ConstraintTables(vocab, meter)
    bar = F(tables.bar_eighths)
    rng = random.Random(f"min_bars {meter} {min_bars}")
    shortest = None
    for _ in range(40):
        tokens, by_itself = walk(tables, rng, num_bars=None, max_rows=2000, min_bars=min_bars)
        bars = bars_after_pickup(tokens, bar)
        assert bars >= min_bars, (bars, [t.text or t.pitch for t in tokens])
        if by_itself:
            shortest = bars if shortest is None else min(shortest, bars)
    # tunes do stop by themselves, some as soon as the rule lets them (so the bound is tight)
    assert shortest is not None and shortest <= min_bars + 2
