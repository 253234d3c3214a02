"""Tests of the sampling grammar: reachability, bar choices, random walks, the checker."""

from __future__ import annotations

import random
import re
from fractions import Fraction

import numpy as np
import pytest
from helpers import one_torch_thread  # noqa: F401 (a fixture)

from modeling_irish.constraints import (
    ConstraintTables,
    MaskBank,
    TuneConstraint,
    allowed_bar_texts,
    build_dur_mask,
    build_main_mask,
    reachable_offsets,
    validate_tune,
)
from tokenization.abc_parser import AbcParseError, Token, parse_abc
from tokenization.features import HeaderInfo, tune_to_rows
from tokenization.measure import TICKS_PER_EIGHTH
from tokenization.vocabulary import AbcVocab

F = Fraction


def parse(body: str, meter: str = "4/4"):
    return parse_abc(f"X:1\nM:{meter}\nL:1/8\nK:C\n{body}").tokens


def test_reachable_offsets_golden():
    grid = {F(0), F(1), F(2), F(3), F(4), F(7, 2)}
    # With lengths 2 only, 4 is reached from 0 and 2 (and itself); 7/2 is a dead end.
    assert reachable_offsets(grid, [F(2)], F(4)) == {F(0), F(2), F(4)}
    assert reachable_offsets(grid, [F(1, 2), F(1)], F(4)) == grid
    assert reachable_offsets(grid, [F(1)], F(5)) == set()


@pytest.mark.parametrize(
    "state, expected",
    [
        ((False, True, 0, 0, 0, False, False), ("|", ":|", ":|:", "|1", "||", "|:", "|]")),
        ((False, False, 0, 0, 0, False, False), ("|", "||", "|:", "|]")),
        ((True, False, 0, 0, 0, False, True), (":|",)),
        ((False, False, 1, 1, 0, False, False), (":|2",)),  # a first ending has 2 bars at most
        ((False, False, 2, 2, 0, False, False), ("|",)),  # second ending as long as the first
        ((False, False, 2, 1, 0, False, True), ("|]", "||")),
        ((True, False, 0, 0, 0, True, False), ("|",)),  # a tie crosses only a plain bar line
        ((True, False, 0, 0, 0, True, True), ()),
    ],
)
def test_allowed_bar_texts(state, expected):
    assert allowed_bar_texts(*state) == expected


@pytest.mark.parametrize(
    "body, meter",
    [
        ("|:CDEF GABc|1c8:|2c4 c4|]", "4/4"),
        ("G|:c2e g2e|1dBG G3:|2dBG G2|]", "6/8"),  # pickup of 1 and a last bar of 5
        ("CDEF|G4-|G2 (3ABc|c4||", "2/4"),
        ("CD|[CE]2 z2|E2 F2|G2:|", "2/4"),
        # a repeat that goes back to the pickup closes on its complement, and the music after
        # it opens with the same pickup (the second time through it follows that short bar)
        ("C|DEFG|ABc:|d|efga|gfe|]", "2/4"),
        ("C|DEFG|ABc:|:d|efga|gfe:|", "2/4"),
        ("|:C|DEFG|1ABc:|2Bcd|]", "2/4"),  # the first ending goes back, the second ends
        ("C|:DEFG|ABcd:|efg|]", "2/4"),  # the pickup before |: is not repeated: full bar
        ("CDEF|GABc|dcB||A|GFED|C4|]", "2/4"),  # a short bar before || and the pickup after
    ],
)
def test_validate_accepts_tunes_that_scan(body, meter):
    result = validate_tune(parse(body, meter), meter)
    assert result.ok, result.errors


@pytest.mark.parametrize(
    "body, meter, error",
    [
        ("CDEF|GAB|c4|]", "2/4", "bar 2 lasts 3"),
        ("G|c2e g2e|dBG G3|]", "6/8", "does not complete the pickup"),
        ("|:CDEF|GABc|]", "2/4", "unbalanced '|]'"),
        ("CDEF|1GABc|]", "2/4", "unbalanced '|]'"),
        ("CDEF|1GABc|", "2/4", "first ending is left open"),
        ("CDEF|GABc:|2cBAG|]", "2/4", "unbalanced ':|2'"),
        # a second ending with no ':|' before it: played through, refused by abc2midi
        ("|:CDEF|1GABc|2cBAG|]", "2/4", "unbalanced '|2'"),
        ("CD(3EF|G c4|]", "2/4", "bar line inside a tuplet"),
        ("CDEF|GABc", "2/4", "does not end with a bar line"),
        ("CDEF|G|c4|]", "2/4", "bar 2 lasts 1"),
        # a repeat back to a pickup after a full bar: the pickup would be played twice over
        ("B,,2g'/2|f2fA/2DfG3/2b|f2DeeDce/2e/2:|c2AB,2c2d|gc'4B/2||", "4/4",
         "token 19: bar 2 lasts 8, not 11/2: ':|' goes back to a pickup of 5/2"),
        ("C|:DEFG|ABc:|defg|fed|]", "2/4", "bar 2 lasts 3, not 4: ':|' goes back to a full bar"),
        ("|:C|DEFG|1ABcd:|2ABc|]", "2/4", "bar 2 lasts 4, not 3: ':|2' goes back to a pickup of 1"),
        ("C|DEFG|ABc:|:defg|gfe:|", "2/4", "bar 3 lasts 4, not 1"),  # no pickup after ABc
        # a repeat of only a short closing bar: 3 eighths played twice in 2/4
        ("C|:DEFG|ABcd:||:efg:|", "2/4", "bar 3 lasts 3, not 4: ':|' goes back to a full bar"),
    ],
)  # fmt: skip
def test_validate_rejects(body, meter, error):
    result = validate_tune(parse(body, meter), meter)
    assert not result.ok
    assert any(error in e for e in result.errors), result.errors


@pytest.mark.parametrize(
    "body, error",
    [
        ("CDEF|GABcd", "token 9: bar 2 already lasts 5, more than 4"),
        ("C|DEFG|ABcd(3efg", "token 14: bar 2 already lasts 6, more than 4"),
    ],
)
def test_validate_refuses_the_open_bar_of_a_prompt_only_when_already_too_long(body, error):
    """A prompt's open last bar was never checked: sampling then found no token to write."""
    assert error in validate_tune(parse(body, "2/4"), "2/4", goes_on=True).errors
    # one that a continuation can still close is left to it (only "does not end with a bar line")
    errors = validate_tune(parse("CDEF|GABc", "2/4"), "2/4", goes_on=True).errors
    assert errors == ["the tune does not end with a bar line"]


def test_validate_rejects_a_tie_to_a_different_pitch():
    # sampled tokens are checked as they are (the reader drops such a tie when it reads text)
    tokens = parse("CDE F2|G4|]", "2/4")
    at = next(i for i, t in enumerate(tokens) if t.kind == "bar")
    tokens.insert(at, Token("tie", "-", None, None))
    result = validate_tune(tokens, "2/4")
    assert not result.ok and any("tie to a different pitch" in e for e in result.errors)


def test_mask_bank_builds_each_key_once():
    built = []

    def build(key):
        built.append(key)
        return np.array([key == "a", True])

    bank = MaskBank(build)
    assert bank.gather(["a", "b", "a", "b"]).tolist() == [[1, 1], [0, 1], [1, 1], [0, 1]]
    bank.gather(["b"])
    assert built == ["a", "b"]


@pytest.fixture(scope="module")
def vocab():
    offsets = [str(F(i, 4)) for i in range(0, 49)]  # every sixteenth up to 12 eighths
    durs = ["1/2", "1", "3/2", "2", "3", "4", "1/3", "6"]
    pitches = [f"pitch{p}" for p in range(60, 80)]
    return AbcVocab.from_values({"m_offset": offsets, "dur": durs, "main": pitches})


METERS = ["4/4", "6/8", "9/8", "2/4", "3/4", "3/2", "12/8"]


def random_walk(tables, rng, num_bars, max_steps=3000):
    """Drive a TuneConstraint with uniform choices among the allowed tokens (no model)."""
    c = TuneConstraint(tables, num_bars=num_bars, max_rows=400, min_bars=2)
    tokens = []
    for _ in range(max_steps):
        main_key, dur_key = c.keys()
        main = build_main_mask(tables, main_key).nonzero()[0]
        dur = build_dur_mask(tables, dur_key).nonzero()[0]
        assert len(main), f"dead end at {main_key}"
        m = int(rng.choice(main))
        if m == 2:
            return tokens, c
        d = int(rng.choice(dur)) if tables.kind[m] in ("note", "rest") else 0
        tokens.append(c.push(m, d))
    raise AssertionError("no <end> within the step limit")


@pytest.mark.parametrize("meter", METERS)
def test_random_walks_always_scan(vocab, meter):
    tables = ConstraintTables(vocab, meter)
    rng = random.Random(meter)
    header = HeaderInfo("C major", "C", "major", 0, meter, "reel")
    for trial in range(25):
        tokens, c = random_walk(tables, rng, num_bars=rng.choice([2, 4, 8]))
        result = validate_tune(tokens, meter)
        assert result.ok, (trial, result.errors)
        # Every position the tracker reports is in the vocabulary: no <unk> position id.
        ids = vocab.encode(tune_to_rows(tokens, header))
        assert (ids[:-1, 4:9] != 3).all()
        assert c.bars_done <= 8 + 4  # closes near its target (+ endings)


def test_never_samples_a_third_length(vocab):
    tables = ConstraintTables(vocab, "4/4")
    third = vocab.id("dur", "1/3")
    for offset in tables.good[tables.bar]:
        assert not tables.dur_allowed(tables.bar, offset)[third]


def test_pickup_closes_with_its_complement(vocab):
    tables = ConstraintTables(vocab, "6/8")
    rng = random.Random(1)
    seen_pickup = 0
    for _ in range(60):
        tokens, c = random_walk(tables, rng, num_bars=4)
        if c.pickup:
            seen_pickup += 1
            assert validate_tune(tokens, "6/8").ok
            assert validate_tune(tokens, "6/8").pickup == F(c.pickup) / TICKS_PER_EIGHTH
    assert seen_pickup > 0


def allowed_bars(c: TuneConstraint) -> set[str]:
    """The bar lines the constraint lets the sampler write next."""
    tables = c.tables
    mask = build_main_mask(tables, c.keys()[0])
    return {text for text, i in tables.bar_id.items() if mask[i]}


def push_eighths(c: TuneConstraint, count: int) -> None:
    for _ in range(count):
        c.push(c.tables.vocab.id("main", "pitch60"), c.tables.vocab.id("dur", "1"))


@pytest.mark.parametrize("pickup_line", ["|", "|:"])
def test_a_repeat_goes_back_to_the_pickup_only_from_its_complement(vocab, pickup_line):
    # 2/4 with a pickup of one eighth. Closed by `|`, the pickup is where `:|` goes back to:
    # the bar before `:|` is 3 eighths. Closed by `|:`, the repeat starts with a full bar.
    tables = ConstraintTables(vocab, "2/4")
    c = TuneConstraint(tables, num_bars=16, min_bars=2)
    push_eighths(c, 1)
    c.push(tables.bar_id[pickup_line], 0)
    push_eighths(c, 4)
    c.push(tables.bar_id["|"], 0)
    push_eighths(c, 3)
    at_three = allowed_bars(c)
    push_eighths(c, 1)
    at_four = allowed_bars(c)
    if pickup_line == "|":
        assert ":|" in at_three and ":|:" in at_three and "|" not in at_three
        assert ":|" not in at_four and ":|:" not in at_four and "|" in at_four
    else:
        assert not {":|", ":|:"} & at_three
        assert {":|", ":|:", "|"} <= at_four


def test_after_a_short_repeat_the_music_goes_on_with_the_same_pickup(vocab):
    tables = ConstraintTables(vocab, "2/4")
    c = TuneConstraint(tables, num_bars=16, min_bars=2)
    push_eighths(c, 1)
    c.push(tables.bar_id["|"], 0)
    push_eighths(c, 4)
    c.push(tables.bar_id["|"], 0)
    push_eighths(c, 3)
    c.push(tables.bar_id[":|"], 0)
    assert not c.must_end  # 6 of min_bars 2: may end here, or go on after the repeat
    push_eighths(c, 1)  # one eighth completes the bar: no note fits after it, only a bar line
    assert c.keys()[0][0] == "bars" and allowed_bars(c) == {"|", "|:"}


def test_the_first_ending_goes_back_to_the_pickup_from_its_complement(vocab):
    tables = ConstraintTables(vocab, "2/4")
    c = TuneConstraint(tables, num_bars=16, min_bars=2)
    c.push(tables.bar_id["|:"], 0)
    push_eighths(c, 1)
    c.push(tables.bar_id["|"], 0)
    push_eighths(c, 4)
    c.push(tables.bar_id["|1"], 0)
    push_eighths(c, 3)
    assert ":|2" in allowed_bars(c)
    push_eighths(c, 1)
    assert ":|2" not in allowed_bars(c)


def played_bars_scan(tokens: list[Token], meter: str) -> bool:
    """Independent of `validate_tune`: unfold the repeats (`played_order`) and check that the
    played music falls into full bars, after the pickup and round to the start again."""
    from tokenization.analysis import played_order
    from tokenization.measure import MeasureTracker, bar_length_in_eighths

    order = played_order([t.text if t.kind == "bar" else "" for t in tokens])
    tracker = MeasureTracker(bar_length_in_eighths(meter))
    bar, lengths, before = tracker.bar_length, [], -1
    for i in order:
        # a jump (back to a repeat's start, or past the first ending) passes the bar line
        # after the last token played, without `played_order` listing it
        passed = tokens[before + 1] if i != before + 1 and tokens[i].kind != "bar" else None
        for tok in (passed, tokens[i]):
            if tok is not None and tok.kind == "bar" and tracker.offset:
                lengths.append((tracker.offset, tok.text))
            if tok is not None:
                tracker.push(tok)
        before = i
    pickup = lengths[0][0] if lengths[0][0] < bar else 0
    place = bar - pickup if pickup else 0  # where in its bar the music is
    for length, text in lengths:
        place += length
        if place > bar or (place < bar and text == "|" and (length, text) != lengths[-1]):
            return False
        place %= bar
    return place == (bar - pickup if pickup else 0)


@pytest.mark.parametrize(
    "body, meter, scans",
    [
        ("C|DEFG|ABc:|d|efga|gfe|]", "2/4", True),
        ("|:C|DEFG|1ABc:|2Bcd|]", "2/4", True),
        ("C|DEFG|ABcd:|efg|]", "2/4", False),
        ("C|:DEFG|ABcd:||:efg:|", "2/4", False),
    ],
)
def test_played_bars_scan_oracle(body, meter, scans):
    assert played_bars_scan(parse(body, meter), meter) is scans


# The vocabulary of the tiny random model below: tunes with pickups, repeats and endings.
PICKUP_TUNES = [
    "X:1\nR:hornpipe\nM:4/4\nL:1/8\nK:D\n(3ABc|d2fd A2FA|dfaf g2fe|1BdAF D2:|2BdAF D2||\n",
    "X:2\nR:jig\nM:6/8\nL:1/8\nK:G\nD|GBd gdB|ABA AGA|GBd gdB|AGF G2:|\n",
    "X:3\nR:polka\nM:2/4\nL:1/8\nK:A\nE|AB cd|e2 A2|AB cd|e3:|:f|ed cB|A3:|\n",
    "X:4\nR:reel\nM:4/4\nL:1/8\nK:D\n|:FAdA FAdA|B2 cB A4:|\n",
]


@pytest.fixture(scope="module")
def pickup_generator(one_torch_thread):  # noqa: F811 (the fixture)
    import torch
    from helpers import tiny_measurenote_config

    from modeling_irish.generation import TuneGenerator
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcTokenizer

    tokenizer = AbcTokenizer.train(PICKUP_TUNES)
    torch.manual_seed(0)
    config = tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes)
    model = MeasureNoteForCausalLM(config)
    # A random model writes a bar line at a pickup's offset in 3% of tunes: favour bar lines
    # (e^3 more likely), so that pickups and repeats back to them are common.
    bars = [i for i, v in enumerate(tokenizer.abc_vocab.values["main"]) if "|" in v]
    with torch.no_grad():
        model.main_head.bias[bars] += 3.0
    return TuneGenerator(model, tokenizer)


def test_sampled_repeats_play_in_time(pickup_generator):
    # Every sampled tune scans in played order (the checker's verdict and the unfolded oracle
    # agree), and many of them have a pickup that a repeat goes back to (73 of these 288).
    back_to_pickup = 0
    for seed in range(4):
        for rhythm in ("hornpipe", "jig", "polka"):
            for tune in pickup_generator.generate(24, rhythm=rhythm, seed=seed, num_bars=6):
                tokens = tune.normalised_tokens
                assert tune.valid, (tune.errors, tune.abc)
                assert played_bars_scan(tokens, tune.meter), tune.abc
                back_to_pickup += repeats_the_pickup(tokens, tune.meter)
    assert back_to_pickup >= 40


def repeats_the_pickup(tokens: list[Token], meter: str) -> bool:
    """Whether a tune opens with a pickup that a repeat or first ending goes back to."""
    bars = [i for i, t in enumerate(tokens) if t.kind == "bar" and i]  # not a leading |:
    lines = [tokens[i].text for i in bars]
    return (
        validate_tune(tokens, meter).pickup > 0
        and lines[0] == "|"
        and any(line in (":|", ":|:", ":|2") for line in lines)
    )


# ----- tables a vocabulary cannot give, and a prompt that leaves no token to sample -------------
def _vocab(offsets, durs):
    pitches = [f"pitch{p}" for p in range(60, 80)]
    return AbcVocab.from_values({"m_offset": offsets, "dur": durs, "main": pitches})


SIXTEENTHS = [str(F(i, 4)) for i in range(0, 49)]  # every sixteenth up to 12 eighths
THIRDS = [str(F(i, 3)) for i in range(0, 13)]  # every third of an eighth up to 4 eighths


@pytest.mark.parametrize(
    "offsets, durs, meter, message",
    [
        (SIXTEENTHS, ["1"], None, "constrained sampling needs a meter such as 4/4"),
        (SIXTEENTHS, ["1"], "none", "constrained sampling needs a meter such as 4/4"),
        # offsets up to half a 4/4 bar only: the bar line's offset is not in the vocabulary
        ([str(i) for i in range(5)], ["1"], "4/4",
         f"bar length {8 * TICKS_PER_EIGHTH} of 4/4 is not an m_offset of the vocabulary"),
        # dotted quarters only: 3 + 3 overshoots a bar of 4 eighths
        (SIXTEENTHS, ["3"], "2/4", "no note lengths of the vocabulary fill a bar of 2/4"),
        # a third (a triplet's member) is never a written length, though 12 would fill the bar
        (THIRDS, ["1/3"], "2/4", "no note lengths of the vocabulary fill a bar of 2/4"),
    ],
)  # fmt: skip
def test_constraint_tables_refuse_what_the_vocabulary_cannot_fill(offsets, durs, meter, message):
    with pytest.raises(ValueError) as info:
        ConstraintTables(_vocab(offsets, durs), meter)
    assert str(info.value) == message


def test_constraint_tables_of_the_same_vocabularies_with_a_length_that_fits():
    # the controls of the refusals above: one more length, or a meter they fill
    assert ConstraintTables(_vocab(THIRDS, ["1/3", "1"]), "2/4").bar_eighths == 4
    assert ConstraintTables(_vocab([str(i) for i in range(5)], ["1"]), "2/4").bar_eighths == 4
    assert ConstraintTables(_vocab(SIXTEENTHS, ["3"]), "6/8").bar_eighths == 6


def test_pushing_a_main_value_that_is_no_token_says_which():
    # a pitch outside `pitchN` (a prompt's note below MIDI 0) reads as no token: it was an
    # AttributeError on None deep in the tracker
    vocab = AbcVocab.from_values(
        {"m_offset": SIXTEENTHS, "dur": ["1"], "main": ["pitch60", "pitch-3"]}
    )
    constraint = TuneConstraint(ConstraintTables(vocab, "2/4"))
    with pytest.raises(ValueError, match=r"main value 'pitch-3' \(id \d+\) is no token"):
        constraint.push(vocab.id("main", "pitch-3"), vocab.id("dur", "1"))


@pytest.fixture(scope="module")
def tiny_generator():
    import torch
    from helpers import tiny_measurenote_config

    from modeling_irish.generation import TuneGenerator
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcTokenizer

    tokenizer = AbcTokenizer.train(
        ["X:1\nT:a\nR:reel\nM:4/4\nL:1/8\nK:D\n|:FAdA FAdA|B2 cB A4:|\n"]
    )
    torch.manual_seed(0)
    config = tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes)
    return TuneGenerator(MeasureNoteForCausalLM(config), tokenizer)


def test_a_prompt_whose_open_bar_is_already_too_long_is_a_dead_end(tiny_generator):
    # 10 eighths into a 4/4 bar: no note fits it, and a bar line would close a bar of 10
    prompt = "X:1\nM:4/4\nL:1/8\nK:D\nFAdAFAdAdA"
    with pytest.raises(ValueError) as info:
        tiny_generator.generate(2, prompt=prompt, num_bars=4, seed=0)
    # refused before sampling, by the bar (sampling got stuck: "no token fits the bar and
    # repeat grammar after 10 rows; the prompt's bars may not fit 4/4")
    assert str(info.value).startswith(
        "the prompt does not scan in 4/4: bar 1 already lasts 10, more than 8; "
    )
    # unconstrained, the same prompt is continued (the grammar is what has no way out)
    (free,) = tiny_generator.generate(1, prompt=prompt, num_bars=4, max_rows=60, constrained=False)
    assert free.abc.count("FAdAFAdAdA") == 1 and not free.valid
    # and a prompt two eighths shorter still has a way to close its bar
    (fits,) = tiny_generator.generate(1, prompt=prompt[:-2], num_bars=2, seed=0)
    assert fits.valid, fits.errors


@pytest.mark.parametrize("opening", ["|", "||", "[|", "|:"])
def test_a_bar_line_before_the_first_note_is_accepted(opening):
    end = ":|" if opening in ("|", "|:") else "|]"
    tune = parse_abc(f"X:1\nM:6/8\nL:1/8\nK:G\n{opening}GAG GAB|ABA ABd{end}")
    assert validate_tune(tune.tokens, "6/8").ok, opening


@pytest.mark.parametrize("opening", [":|", "|1", "|]"])
def test_a_jump_ending_or_final_bar_before_the_first_note_is_not(opening):
    tune = parse_abc(f"X:1\nM:6/8\nL:1/8\nK:G\n{opening}GAG GAB|ABA ABd|]")
    assert "token 0: empty bar" in " ".join(validate_tune(tune.tokens, "6/8").errors)


@pytest.mark.parametrize("meter", ["4/4", "6/8", "9/8", "2/4", "3/4"])
def test_a_row_cap_closes_a_tune_of_eighth_notes_before_it(vocab, meter):
    """At the least max_rows `check_room` accepts, a tune of eighth notes (any bar lines, pickups
    and endings) closes within the cap, and after four bars when it has no pickup: the estimate
    (rows per bar so far, five bars reserved) closed such tunes after 2 bars, and ones that
    went into endings ran to 54 rows of 36."""
    from modeling_irish.generation_args import check_room

    tables = ConstraintTables(vocab, meter)
    max_rows = next(n for n in range(1, 200) if _room_ok(check_room, n, meter, tables))
    eighth, note = vocab.id("dur", "1"), vocab.id("main", "pitch60")
    rng = random.Random(meter)
    for trial in range(40):
        c = TuneConstraint(tables, num_bars=None, max_rows=max_rows, min_bars=4)
        tokens = []
        while True:
            main_key, _ = c.keys()
            allowed = build_main_mask(tables, main_key)
            if allowed[2] and not allowed[note] and main_key[0] == "end":
                break
            choices = [i for i in [note, *tables.bar_id.values()] if allowed[i]]
            m = rng.choice(choices)
            tokens.append(c.push(m, eighth if m == note else 0))
        result = validate_tune(tokens, meter)
        assert result.ok, (trial, result.errors)
        assert len(tokens) + 2 <= max_rows, (trial, len(tokens))
        assert result.pickup or result.bars >= 4, (trial, result.bars)


def _room_ok(check_room, max_rows, meter, tables) -> bool:
    try:
        check_room(max_rows, meter, tables.bar_eighths, 0)
    except ValueError:
        return False
    return True


# C,,,,, in D major (MIDI 1) moves down to -1 on C's white keys; g'''' in Bb (127) up to 129
_OUT_OF_RANGE = ["X:1\nM:2/4\nL:1/8\nK:D\nC,,,,, D|", "X:1\nM:2/4\nL:1/8\nK:Bb\ng'''' B|"]


@pytest.mark.parametrize("text", _OUT_OF_RANGE)
def test_tokenizer_holds_no_main_value_sampling_cannot_place(text):
    """A note the white keys move out of MIDI's 0-127 made a main value such as ``pitch-1``
    (the reader checks the written pitch only), which `TuneConstraint.push` refused with a
    ValueError: a tokenizer trained on it leaves that tune out (and says why) instead."""
    from tokenization.tokenization_abc import AbcTokenizer

    good = "X:1\nM:2/4\nL:1/8\nK:D\nDF A2|"
    tok = AbcTokenizer.train([good, text])
    vocab = tok.abc_vocab
    tables, mains = ConstraintTables(vocab, "2/4"), vocab.values["main"]
    assert [v for i, v in enumerate(mains) if i >= 4 and tables.kind[i] == "other"] == []
    pitches = sorted(int(v[5:]) for v in mains if v.startswith("pitch"))
    assert pitches[0] >= 0 and pitches[-1] <= 127
    for pitch in (pitches[0], pitches[-1]):  # pushed as sampled: read as a note of that pitch
        c = TuneConstraint(tables, num_bars=2, max_rows=40, min_bars=1)
        token = c.push(vocab.id("main", f"pitch{pitch}"), vocab.id("dur", "1"))
        assert token is not None and (token.kind, token.pitch) == ("note", pitch)


@pytest.mark.parametrize("text", _OUT_OF_RANGE)
def test_read_tune_refuses_a_pitch_the_white_keys_move_out_of_midi(text):
    from tokenization.encoded_tune import read_tune

    with pytest.raises(AbcParseError, match="outside the MIDI range 0-127") as info:
        read_tune(text)
    assert (info.value.line, info.value.column) == (5, 1)  # the note itself, not the X: line
    assert re.search(r"pitch (1 moves to -1|127 moves to 129) when the tune goes from", str(info))


def test_read_tune_names_the_tune_line_and_column_of_a_note_moved_out_of_midi():
    from tokenization.encoded_tune import read_tune

    text = "X:3\nT:Low\nM:2/4\nL:1/8\nK:D\nD2 F2|\nA2 C,,,,,2|"
    with pytest.raises(AbcParseError) as info:
        read_tune(text, line_offset=10)
    err = info.value
    assert (err.tune, err.line, err.column) == ("Low", 17, 4)
    assert err.message == (
        "pitch 1 moves to -1 when the tune goes from D major onto the white keys (C major), "
        "outside the MIDI range 0-127"
    )
