"""Tests of the generation quality measures on hand-made tunes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from modeling_irish.generation import GeneratedTune
from modeling_irish.quality import (
    BarIndex,
    _histograms,
    abc2midi_errors,
    ends_on_tonic,
    generation_metrics,
    histogram_distances,
    jensen_shannon,
    repeats_balanced,
    reread_abc2midi,
    reread_music21,
    sounding_events,
    split_bars,
    tied_pitches,
    token_events,
    total_variation,
)
from tokenization.abc_parser import parse_abc
from tokenization.keys import Key


def body(text: str, meter: str = "4/4", key: str = "C"):
    return parse_abc(f"X:1\nM:{meter}\nL:1/8\nK:{key}\n{text}").tokens


CORPUS = [
    body("CDEF GABc|dcBA GFED|C2E2 G2c2|B2G2 D4|cBAG FEDC|E2G2 c4|]"),
    body("cdef gfed|c2e2 g4|f2d2 B2G2|c8|]"),
]


def test_split_bars_drops_bar_lines_and_ties():
    bars = split_bars(body("C4- C4|D8|]"))
    assert len(bars) == 2
    assert [len(b) for b in bars] == [2, 1]


def test_copy_detection_finds_a_planted_four_bar_copy():
    index = BarIndex(CORPUS)
    # Bars 2-5 of the first corpus tune, framed by bars that occur nowhere.
    sample = body("A,8|dcBA GFED|C2E2 G2c2|B2G2 D4|cBAG FEDC|^F8|]")
    assert index.longest_copy(sample) == 4
    # Shared bars that are not consecutive in any one tune are not a copy of 2.
    mixed = body("C2E2 G2c2|c2e2 g4|A,8|]")
    assert index.longest_copy(mixed) == 0
    assert index.longest_copy(body("dcBA GFED|C2E2 G2c2|A,8|]")) == 2


def test_a_copy_an_octave_away_is_a_copy():
    """The sampler writes in the playing register and a training file is read in the octave
    nearest the corpus's: verbatim copies scored 0 bars when the two sat an octave apart."""
    index = BarIndex(CORPUS)
    moved = [t._replace(pitch=t.pitch + 12) if t.kind == "note" else t for t in CORPUS[0]]
    assert index.longest_copy(moved) == 6 and index.longest_copy(CORPUS[0]) == 6
    down = [t._replace(pitch=t.pitch - 12) if t.kind == "note" else t for t in CORPUS[1]]
    assert index.longest_copy(down) == 4
    fifth = [t._replace(pitch=t.pitch + 7) if t.kind == "note" else t for t in CORPUS[0]]
    assert index.longest_copy(fifth) == 0  # another key is not an octave


def test_copy_is_the_longest_of_several_runs():
    index = BarIndex(CORPUS)
    sample = body("cdef gfed|c2e2 g4|A,8|dcBA GFED|C2E2 G2c2|B2G2 D4|^F8|]")
    assert index.longest_copy(sample) == 3


def test_histogram_distances_golden():
    p, q = Counter({0: 1, 1: 1}), Counter({0: 1})
    assert total_variation(p, q) == pytest.approx(0.5)
    # JS(p, q) with m = (3/4, 1/4): 0.5*[0.5 log2(2/3) + 0.5 log2(2)] + 0.5*[log2(4/3)]
    expected = 0.5 * (0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(2)) + 0.5 * np.log2(1 / 0.75)
    assert jensen_shannon(p, q) == pytest.approx(expected)
    same = histogram_distances(CORPUS, CORPUS)
    assert all(v == pytest.approx(0.0) for v in same.values())
    assert set(same) == {
        f"{h}_{d}" for h in ("pitch_class", "interval", "duration") for d in ("tv", "js")
    }
    far = histogram_distances([body("^C8|^F8|]")], CORPUS)
    assert far["pitch_class_tv"] == pytest.approx(1.0)


def _naive_histograms(token_lists):
    """The token-by-token loop `_histograms` replaced: the oracle it must match."""
    pcs, intervals, durs = Counter(), Counter(), Counter()
    for tokens in token_lists:
        prev = None
        for tok in tokens:
            if tok.kind == "note":
                pcs[tok.pitch % 12] += 1
                durs[tok.dur] += 1
                if prev is not None:
                    intervals[max(-12, min(12, tok.pitch - prev))] += 1
                prev = tok.pitch
            elif tok.kind == "rest":
                durs[tok.dur] += 1
    return {"pitch_class": pcs, "interval": intervals, "duration": durs}


def test_histograms_match_the_naive_loop_key_order_included():
    # rests, ties, chords, a leap beyond an octave, a one-note tune, an empty one
    tunes = CORPUS + [body("z2 C,2-C2 [CEG]2|c'8 z|]"), body("C8|]"), []]
    fast, slow = _histograms(tunes), _naive_histograms(tunes)
    assert fast == slow
    # the same insertion order: the distances sum over the keys in the same order
    assert [list(h) for h in fast.values()] == [list(h) for h in slow.values()]


def test_tonic_and_repeats():
    assert ends_on_tonic(body("GABc|d4|G4|]", key="G"), Key("G", "major"))
    assert not ends_on_tonic(body("GABc|d4|]", key="G"), Key("G", "major"))
    assert not ends_on_tonic(body("GABc|z4|]", key="G"), Key("G", "major"))  # the last note: c
    # a rest after the last note is passed over (it said False for a D jig ending on D)
    assert ends_on_tonic(body("FAd|EDA, D2z||", "6/8", key="D"), Key("D", "major"))
    assert ends_on_tonic(body("GABc|G4|z4|]", key="G"), Key("G", "major"))
    # the lowest note of a final chord, however it is written (it took the last written)
    assert ends_on_tonic(body("GABc|[CE]4|]"), Key("C", "major"))
    assert ends_on_tonic(body("GABc|[EC]4|]"), Key("C", "major"))
    assert not ends_on_tonic(body("GABc|[Ec]4|]"), Key("C", "major"))
    assert repeats_balanced(body("|:CDEF|1G4:|2c4|]", "2/4"), "2/4")
    # Bar lengths are wrong here, but the repeats are balanced.
    assert repeats_balanced(body("|:CDE|1G4:|2c4|]", "2/4"), "2/4")
    assert not repeats_balanced(body("|:CDEF|G4|]", "2/4"), "2/4")


def test_token_events_scale_tuplets_and_group_chords():
    events = token_events(body("(3CDE [CEG]2 z|", "2/4"))
    third = Fraction(1, 3)
    assert events == [
        ((60,), third),
        ((62,), third),
        ((64,), third),
        ((60, 64, 67), 1),
        ((), Fraction(1, 2)),
    ]


def test_tied_pitches_name_the_tied_chord_members():
    tokens = body("[DA-]2A2 [D-A]2[DF] [DA]2-[DA]2 A2-[DA]2|")
    assert tied_pitches(tokens) == [{69}, set(), {62}, set(), {62, 69}, set(), {69}, set()]
    assert len(tied_pitches(tokens)) == len(token_events(tokens))


def test_sounding_events_merge_single_notes_only():
    # music21 drops a chord's ties: the view compared with it leaves them (render holds them)
    assert sounding_events(body("[DA-]2A2 A2-A2 [DA]2-[DA]2|")) == [
        ((62, 69), 1),
        ((69,), 1),
        ((69,), 2),
        ((62, 69), 1),
        ((62, 69), 1),
    ]


def test_generation_metrics_on_hand_made_tunes():
    def tune(text, valid=True):
        tokens = body(text, key="D")
        return GeneratedTune(
            abc="",
            tokens=tokens,
            rows=np.zeros((len(tokens) + 2, 20), np.int64),
            measure_numbers=np.zeros(0),
            valid=valid,
            key=Key("D", "major"),
            meter="4/4",
        )

    tunes = [tune("D8|A4 D4|]"), tune("|:D8|F8|]", valid=False)]
    corpus = [body("C8|G4 C4|E8|]")]  # the first tune moved to C: a 2-bar copy
    out = generation_metrics(tunes, corpus=corpus, readers=False)
    assert out["validity_rate"] == 0.5
    assert out["repeats_balanced_share"] == 0.5
    assert out["tonic_end_share"] == 0.5
    assert out["copy_longest_mean"] == pytest.approx(1.0)  # 2 and 0
    assert out["copy_share_ge4"] == 0.0


def test_without_abc2midi_its_rate_is_none_not_left_out(monkeypatch):
    """Without abc2midi, ``reread_abc2midi_rate`` was left out of the measures without a word:
    a table or JSON read without it could not tell a skipped check from one never asked for."""
    import shutil

    real_which = shutil.which
    monkeypatch.setattr(
        shutil,
        "which",
        lambda name, *a, **k: None if name == "abc2midi" else real_which(name, *a, **k),
    )
    text = "X:1\nT:t\nM:4/4\nL:1/8\nK:D\nD8|A4 D4|]\n"
    tokens = parse_abc(text).tokens
    tune = GeneratedTune(
        abc=text, tokens=tokens, rows=np.zeros((len(tokens) + 2, 20), np.int64),
        measure_numbers=np.zeros(0), valid=True, key=Key("D", "major"), meter="4/4",
    )  # fmt: skip
    out = generation_metrics([tune])
    assert "reread_abc2midi_rate" in out and out["reread_abc2midi_rate"] is None
    assert out["reread_music21_rate"] == 1.0  # the other readers still run


def _d_major_tune(abc: str) -> GeneratedTune:
    """A valid generated tune in D whose text is ``abc``."""
    tokens = parse_abc("X:1\nT:t\nM:4/4\nL:1/8\nK:D\nD8|A4 D4|]\n").tokens
    return GeneratedTune(
        abc=abc, tokens=tokens, rows=np.zeros((len(tokens) + 2, 20), np.int64),
        measure_numbers=np.zeros(0), valid=True, key=Key("D", "major"), meter="4/4",
    )  # fmt: skip


@pytest.mark.skipif(os.name != "posix", reason="the fake program is a script with a #! line")
def test_an_abc2midi_that_does_not_finish_fails_the_tune_with_the_reason(tmp_path, monkeypatch):
    """abc2midi's timeout raised `subprocess.TimeoutExpired` out of the check: one tune that
    hangs it stopped the whole re-reading with a traceback."""
    program = tmp_path / "abc2midi"
    program.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n", encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    started = time.monotonic()
    assert abc2midi_errors("X:1\nK:D\nDEF|\n", timeout=0.5) == ["abc2midi did not finish in 0.5 s"]
    assert time.monotonic() - started < 20  # ended, not waited for
    assert reread_abc2midi(_d_major_tune("X:1\nK:D\nDEF|\n"), timeout=0.5) is False


@pytest.mark.skipif(os.name != "posix", reason="the fake program is an executable file")
def test_a_tune_that_hangs_abc2midi_is_counted_a_failure_and_the_others_read(tmp_path, monkeypatch):
    """One tune past abc2midi's timeout counts as that tune's failure; the rate is still
    given, over all the tunes (it was a `TimeoutExpired` traceback for the whole run)."""
    from pathlib import Path

    import modeling_irish.quality as quality

    hang = "X:1\nT:hangs\nM:4/4\nL:1/8\nK:D\nD8|A4 D4|]\n"

    def run(command, *args, **kwargs):  # abc2midi, answered without running it
        if Path(command[1]).read_text(encoding="utf-8") == hang:
            raise subprocess.TimeoutExpired(command, kwargs["timeout"])
        return subprocess.CompletedProcess(command, 0, "", "")

    (tmp_path / "abc2midi").write_text("", encoding="utf-8")
    (tmp_path / "abc2midi").chmod(0o755)  # found by `shutil.which`, never run
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(quality.subprocess, "run", run)
    tunes = [_d_major_tune(hang.replace("hangs", "fine")), _d_major_tune(hang)]
    assert generation_metrics(tunes)["reread_abc2midi_rate"] == 0.5
    assert abc2midi_errors(hang) == ["abc2midi did not finish in 30 s"]


def test_the_rereading_checks_show_a_bar_on_a_terminal_only(capsys, monkeypatch):
    # music21 and abc2midi re-read every sample (a second or so each) with nothing shown
    import sys

    text = "X:1\nT:t\nM:4/4\nL:1/8\nK:D\nD8|A4 D4|]\n"
    tokens = parse_abc(text).tokens
    rows = np.zeros((len(tokens) + 2, 20), np.int64)
    tunes = [
        GeneratedTune(
            abc=abc, tokens=tokens, rows=rows, measure_numbers=np.zeros(0), valid=True,
            key=Key("D", "major"), meter="4/4",
        )
        for abc in (text, "")  # read back by music21, and not
    ]  # fmt: skip
    piped = generation_metrics(tunes)
    assert piped["reread_music21_rate"] == sum(map(reread_music21, tunes)) / 2
    assert "Re-reading tunes" not in capsys.readouterr().err  # piped: the report alone
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert generation_metrics(tunes) == piped  # the same figures under the bar
    err = capsys.readouterr().err
    assert "Re-reading tunes:" in err and " 0/2 " in err, err  # cleared when done (leave=False)


def _naive_split_bars(tokens):
    """The token-by-token loop `split_bars` replaced: the oracle it must match."""
    bars, current = [], []
    for tok in tokens:
        if tok.kind == "bar":
            if current:
                bars.append(tuple(current))
            current = []
        elif tok.kind != "tie":
            current.append((tok.kind, tok.pitch, tok.dur))
    if current:
        bars.append(tuple(current))
    return bars


def _naive_bar_index(tunes, max_postings):
    """`BarIndex`'s build before it hashed each bar once: its tunes and postings, in order."""
    tune_bars, postings = [], {}
    for tokens in tunes:
        bars = _naive_split_bars(tokens)
        for k in range(len(bars) - 1):
            posting = postings.setdefault(hash((bars[k], bars[k + 1])), [])
            if len(posting) < max_postings:
                posting.append((len(tune_bars), k))
        tune_bars.append(bars)
    return tune_bars, postings


TRICKY = [
    body("|:C4- C4|D8:|[1 E8:|[2 F8||"),  # a leading bar line, ties, repeats, endings
    body("C2 D2 E2 F2"),  # no bar line at all
    body("||C8|||D8|]"),  # empty bars
    body("C4- |C4|C4- |C4|"),  # a tie before a bar line
    body("[CEG]4 z4|(3CDE F2 G4|C8|[CEG]4 z4|(3CDE F2 G4|"),  # chords, rests, tuplets
    [],
    *CORPUS,
    *CORPUS,  # repeated tunes: postings of the same hash
]


def test_split_bars_and_the_index_match_the_loops_they_replaced():
    """Same bars, same hashes and the same postings in the same order (``max_postings`` cuts
    each list at its first entries, so the order decides which copies are found)."""
    for tokens in TRICKY:
        assert split_bars(tokens) == _naive_split_bars(tokens)
    for max_postings in (1, 2, 5000):
        tune_bars, postings = _naive_bar_index(TRICKY, max_postings)
        index = BarIndex(TRICKY, max_postings=max_postings)
        assert index.tunes == tune_bars
        assert list(index.postings.items()) == list(postings.items())
    assert any(len(p) > 1 for p in _naive_bar_index(TRICKY, 5000)[1].values())


def test_bar_index_leaves_the_garbage_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    BarIndex(CORPUS)
    assert gc.isenabled()
    gc.disable()
    try:
        BarIndex(CORPUS)
        assert not gc.isenabled()
    finally:
        gc.enable()


class _CountedFraction(Fraction):
    """A duration that counts how often it is hashed."""

    hashed = 0

    def __hash__(self):
        type(self).hashed += 1
        return super().__hash__()


def test_bar_index_hashes_each_bar_once():
    """A bar's hash hashes each duration (a `Fraction`, in Python): the build hashed every bar
    twice, once in each pair it is in."""
    tokens = [t._replace(dur=_CountedFraction(t.dur)) if t.dur else t for t in CORPUS[0]]
    _CountedFraction.hashed = 0
    BarIndex([tokens])
    assert _CountedFraction.hashed == sum(t.dur is not None for t in tokens)


def test_bar_index_runs_no_garbage_collection():
    """Its tuples make no cycles, and every full collection walked them all again: ~85% of the
    build on thesession-c (tens of collections here before)."""
    import gc

    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(phase))
    try:
        BarIndex(CORPUS * 200)
    finally:
        gc.callbacks.pop()
    # One may start as it ends: the allocations counted while paused are over the threshold.
    assert collections.count("start") <= 1
