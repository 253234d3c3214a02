"""Tests of TuneGenerator on a tiny random model: seeds, three readers, keys, carried state and
the checks of what is asked for (the prompts are test_generation_prompts.py's, the commands
test_generation_cli.py's; the generator is `tests/helpers.py`'s)."""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import replace
from fractions import Fraction

import pytest
import torch
from helpers import GENERATION_TRAIN as TRAIN
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

from modeling_irish.generation import RHYTHM_METERS, filter_logits
from modeling_irish.quality import reread_abc2midi, reread_music21, reread_ours
from tokenization.encoded_tune import RHYTHM_COLUMN
from tokenization.tokenization_abc import AbcTokenizer, UnreadableRowsError
from tokenization.vocabulary import END_ID, UNK_ID


def test_same_seed_same_tunes(generator):
    a = generator.generate(3, rhythm="jig", key="G", seed=7, num_bars=8)
    b = generator.generate(3, rhythm="jig", key="G", seed=7, num_bars=8)
    c = generator.generate(3, rhythm="jig", key="G", seed=8, num_bars=8)
    assert [t.abc for t in a] == [t.abc for t in b]
    assert [t.abc for t in a] != [t.abc for t in c]
    assert len({t.abc for t in a}) == 3  # the samples of one batch differ


SAMPLED = [
    ("reel", "D"),
    ("jig", "E dorian"),
    ("slip jig", "B minor"),
    ("polka", "A"),
    ("waltz", "F"),
    ("hornpipe", "Bb mixolydian"),
]


@pytest.fixture(scope="module")
def constrained_samples(generator):
    """32 constrained samples of each (rhythm, key) of `SAMPLED`, shared by the reader tests."""
    return {
        (rhythm, key): generator.generate(32, rhythm=rhythm, key=key, seed=1, num_bars=8)
        for rhythm, key in SAMPLED
    }


@pytest.mark.parametrize("rhythm, key", SAMPLED)
def test_constrained_random_model_is_always_valid(generator, constrained_samples, rhythm, key):
    tunes = constrained_samples[(rhythm, key)]
    assert len(tunes) == 32
    for tune in tunes:
        assert tune.valid, (tune.errors, tune.abc)
        assert tune.meter == RHYTHM_METERS[rhythm]
        assert f"M:{tune.meter}" in tune.abc and f"R:{rhythm}" in tune.abc
        assert tune.tokens[-1].kind == "bar"
        assert reread_ours(tune, generator.tokenizer), tune.abc
    # music21 is slower: check a third of the batch.
    for tune in tunes[::3]:
        assert reread_music21(tune), tune.abc


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize("rhythm, key", SAMPLED)
def test_abc2midi_reads_constrained_samples(constrained_samples, rhythm, key):
    for tune in constrained_samples[(rhythm, key)][::3]:  # a third of the batch: it is slower
        assert reread_abc2midi(tune) is True, tune.abc


def test_the_readers_reject_a_tune_that_is_not_what_was_sampled(generator):
    from modeling_irish.quality import music21_events

    (tune,) = generator.generate(1, rhythm="reel", key="D", seed=1, num_bars=4)
    tokenizer = generator.tokenizer
    assert reread_ours(tune, tokenizer) and reread_music21(tune)  # as sampled: read back
    # one note more in the text than in the tokens: both readers see the difference
    extra = replace(tune, abc=tune.abc.replace("\nK:D\n", "\nK:D\nC2 ", 1))
    assert extra.abc != tune.abc
    assert not reread_ours(extra, tokenizer)
    assert not reread_music21(extra)
    # text neither reader can read: our parser raises, and so does music21
    unreadable = replace(tune, abc=tune.abc + "[V:1\n")
    assert not reread_ours(unreadable, tokenizer)
    with pytest.raises(Exception, match="no closing bracket"):
        music21_events(unreadable.abc)
    assert not reread_music21(unreadable)
    # rows that are not the text's: a row short, or a duration changed
    assert not reread_ours(replace(tune, rows=tune.rows[:-1]), tokenizer)
    rows = tune.rows.copy()
    rows[1, 1] += 1  # the dur column of the first token
    assert not reread_ours(replace(tune, rows=rows), tokenizer)
    rows = tune.rows.copy()
    rows[1, 3] += 1  # the octave column is left out: reading normalises the octave
    assert reread_ours(replace(tune, rows=rows), tokenizer)


def test_written_in_the_requested_real_key(generator):
    tune = generator.generate(1, rhythm="reel", key="E dorian", seed=2, num_bars=4)[0]
    assert "K:Edor" in tune.abc
    # Tokens sound in E dorian: the rows (white-key D dorian) are two semitones lower, up to
    # the whole octaves that centre the written tune on the playing register (c, MIDI 72).
    rows_pitches = [
        int(generator.vocab.token("main", int(i))[5:])
        for i in tune.rows[:, 0]
        if generator.vocab.token("main", int(i)).startswith("pitch")
    ]
    pitches = [t.pitch for t in tune.tokens if t.kind == "note"]
    (shift,) = {p - r for p, r in zip(pitches, rows_pitches)}
    assert shift % 12 == 2
    median = sorted(pitches)[len(pitches) // 2]
    assert abs(median - 72) <= min(abs(median - 12 - 72), abs(median + 12 - 72))


def test_unconstrained_reports_a_low_validity_rate(generator):
    tunes = generator.generate(16, rhythm="reel", seed=3, constrained=False, max_rows=120)
    rate = sum(t.valid for t in tunes) / len(tunes)
    assert rate < 0.5
    assert all(t.errors for t in tunes if not t.valid)


def test_a_rhythm_in_an_unusual_meter_is_sampled_with_a_warning(generator, caplog):
    prompt = "X:1\nM:4/4\nL:1/8\nK:G\nGABc dBGB|"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        (tune,) = generator.generate(1, prompt=prompt, rhythm="jig", seed=0, num_bars=2)
    assert tune.meter == "4/4" and tune.rhythm == "jig"
    assert "a jig is usually in 6/8; sampling one in 4/4 (the prompt's meter)" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        generator.generate(1, rhythm="jig", meter="6/8", seed=0, num_bars=2)  # the usual one
        generator.generate(1, prompt=prompt, seed=0, num_bars=2)  # no rhythm asked for
    assert "usually" not in caplog.text


def test_carried_state_matches_a_full_forward(generator, monkeypatch):
    """The logits seen at every sampling step equal those of one pass over the generated rows:
    no recomputation is needed and nothing drifts."""
    import modeling_irish.generation_sampling as generation_sampling

    seen = []
    real_draw = generation_sampling.draw

    def spy(logits, mask, gen, sampling):
        seen.append(logits.clone())
        return real_draw(logits, mask, gen, sampling)

    monkeypatch.setattr(generation_sampling, "draw", spy)
    tune = generator.generate(1, rhythm="reel", seed=4, num_bars=4)[0]
    main_seen = torch.cat(seen[0::2])  # main, then dur, at every step
    rows = torch.from_numpy(tune.rows[:-1]).unsqueeze(0)
    measures = torch.from_numpy(tune.measure_numbers[:-1]).unsqueeze(0)
    with torch.no_grad():
        full = generator.model(rows, measure_numbers=measures).logits[0]
    assert main_seen.shape == full.shape
    torch.testing.assert_close(main_seen, full, atol=1e-5, rtol=1e-5)


def test_decode_of_the_rows_gives_the_abc(generator):
    tune = generator.generate(1, rhythm="polka", key="A", seed=5, num_bars=4)[0]
    text = generator.tokenizer.decode(
        tune.rows, key="A", title="Generated polka 1", register="auto"
    )
    assert text == tune.abc


def test_sampling_never_gives_unk_rows_so_decode_reads_every_sample(generator, constrained_samples):
    # decode refuses a <unk> main row (it cannot be written back); both samplers mask it out.
    # (The mixolydian samples too: every key is in every vocabulary, TRAIN has no mixolydian
    # tune.) It refuses chords no ABC holds too, which only unconstrained sampling gives, and
    # rows without a note or rest (an unconstrained `<start> [1 <end>`).
    free = generator.generate(16, rhythm="reel", seed=3, constrained=False, max_rows=120)
    for tune in [*free, *(t for tunes in constrained_samples.values() for t in tunes)]:
        assert (tune.rows[:, 0] != UNK_ID).all() and (tune.rows[1:-1, 0] > END_ID).all()
        if _cut_at_a_chord(tune):  # the samples whose written ABC stops at a broken chord
            with pytest.raises(UnreadableRowsError, match="so the rows cannot be written as ABC"):
                generator.tokenizer.decode(tune.rows, key=tune.key, register="auto")
        elif not any(t.kind in ("note", "rest") for t in tune.tokens):
            with pytest.raises(UnreadableRowsError, match="the rows hold no note or rest"):
                generator.tokenizer.decode(tune.rows, key=tune.key, register="auto")
        else:
            assert generator.tokenizer.decode(tune.rows, key=tune.key, register="auto")


def _cut_at_a_chord(tune) -> bool:
    """Whether the generator wrote ``tune`` only up to a chord no ABC holds (and said so)."""
    return bool(tune.errors) and "; the ABC stops at token" in tune.errors[0]


def test_unconstrained_chords_no_abc_holds_are_cut_and_said(generator):
    # the writer refuses them (a `]` closing no chord, a bar line inside a chord): the tune is
    # written up to its first broken chord and reported invalid, as any other bad sample, not a
    # traceback (before, `[]` and open chords were written, which readers refuse or misread)
    tunes = generator.generate(16, rhythm="reel", seed=3, constrained=False, max_rows=120)
    cut = [t for t in tunes if _cut_at_a_chord(t)]
    assert len(cut) >= 4  # the random model breaks chords in most unconstrained tunes
    for tune in cut:
        said = tune.errors[0]
        assert not tune.valid and re.fullmatch(r"token \d+: .*; the ABC stops at token \d+", said)
        assert tune.abc.endswith(f"\n% {said}\n")
        assert len(tune.tokens) == int(said.rsplit(" ", 1)[1]) < len(tune.normalised_tokens)
        body = tune.abc.split("\nK:", 1)[1].split("\n", 1)[1].rsplit("% ", 1)[0]
        # the written chords' brackets, none of a bar line or an ending opened mid-bar (`[1`)
        chords = re.sub(r"\[\d", "", body.replace("|]", "|"))
        assert chords.count("[") == chords.count("]") and "[]" not in chords


def test_filter_logits_top_p_keeps_the_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = ~filter_logits(logits, top_p=0.7).isinf()
    assert kept.tolist() == [[True, True, False, False]]
    assert (~filter_logits(logits, top_k=3).isinf()).sum() == 3


@pytest.mark.parametrize(
    "sampling",
    [{"top_p": 1e-50}, {"top_p": 1e-50, "top_k": 1}, {"temperature": 0.0}, {"temperature": 1e-300}],
)
def test_the_best_token_is_always_kept(generator, sampling):
    """A top_p that rounds to 0 in float32 dropped every token (torch.multinomial's
    RuntimeError "probability tensor contains either inf, nan or element < 0", a traceback
    from ``generate --top-p 1e-50``); a tiny temperature sent large scores to inf (NaN)."""
    from modeling_irish.generation_sampling import draw

    logits = torch.tensor([[0.0, 5.0, 1.0, 9.0], [1e38, 3e38, -3e38, 0.0]])
    allowed = torch.tensor([[True, True, True, False], [True, True, True, True]])
    assert draw(logits, allowed, torch.Generator().manual_seed(0), sampling).tolist() == [1, 1]
    (tune,) = generator.generate(1, rhythm="jig", num_bars=4, seed=0, **sampling)
    (greedy,) = generator.generate(1, rhythm="jig", num_bars=4, seed=1, top_k=1)
    assert tune.valid and tune.tokens == greedy.tokens


@pytest.mark.parametrize("temperature", [1e39, 1e300, 1.7e308])
def test_a_huge_temperature_samples_near_uniformly(generator, model_dir, temperature, capsys):
    """Above float32's range the logits were divided by inf, and the masked ones (-inf) became
    NaN: torch.multinomial's RuntimeError, a traceback from the command line."""
    from modeling_irish.cli import main

    logits = torch.tensor([[1.0, 5.0, float("-inf")]])
    flat = filter_logits(logits, temperature=temperature)
    assert flat.softmax(-1).tolist() == [[0.5, 0.5, 0.0]]
    tunes = generator.generate(4, rhythm="jig", num_bars=4, seed=0, temperature=temperature)
    assert all(t.valid for t in tunes), [t.errors for t in tunes]
    argv = ["--model", model_dir, "--temperature", str(temperature), "--num-tunes", "1"]
    assert main(["generate", *argv, "--num-bars", "4"]) == 0
    assert "X:1" in capsys.readouterr().out
    assert main(["evaluate-generation", *argv, "--num-bars", "4", "--no-readers", "--json"]) == 0


def test_model_generate_is_the_tune_generator(generator):
    model, tok = generator.model, generator.tokenizer
    tunes = model.generate(tok, 2, rhythm="jig", key="G", seed=7, num_bars=8)
    same = generator.generate(2, rhythm="jig", key="G", seed=7, num_bars=8)
    assert [t.abc for t in tunes] == [t.abc for t in same]
    assert not type(model).can_generate()  # transformers' GenerationMixin is not involved


def test_model_generate_with_input_ids_says_how_to_call_it(generator):
    model, tok = generator.model, generator.tokenizer
    enc = tok(["X:1\nM:2/4\nL:1/8\nK:D\nDFAd|f2d2|]"], return_tensors="pt")
    with pytest.raises(TypeError, match="AbcTokenizer, not from input_ids"):
        model.generate(enc["input_ids"])
    with pytest.raises(TypeError, match="prompt="):
        model.generate(tok, input_ids=enc["input_ids"])


def test_model_generate_reads_transformers_generation_arguments(generator):
    """``num_return_sequences``, ``max_new_tokens``, ``do_sample``: transformers' names failed
    with Python's "unexpected keyword argument"; now read as the abc-generation pipeline reads
    them (`TRANSFORMERS_ONLY`), saying what to use instead."""
    model, tok = generator.model, generator.tokenizer
    two = model.generate(tok, 2, rhythm="jig", key="G", seed=3, num_bars=4)
    same = model.generate(tok, rhythm="jig", key="G", seed=3, num_bars=4, num_return_sequences=2)
    assert [t.abc for t in same] == [t.abc for t in two]
    assert len(model.generate(tok, rhythm="jig", key="G", num_bars=4)) == 1  # one by default
    with pytest.raises(TypeError, match="num_tunes or num_return_sequences .the same., not both"):
        model.generate(tok, 2, num_return_sequences=2)
    with pytest.raises(TypeError, match=r"model.generate takes no max_new_tokens=: .*num_bars"):
        model.generate(tok, 1, max_new_tokens=50)
    with pytest.raises(TypeError, match=r"model.generate takes no do_sample=: .*temperature=0"):
        model.generate(tok, 1, do_sample=False)


def test_model_generate_refuses_other_transformers_arguments_in_one_line(generator):
    """``num_beams=3`` (or a misspelt name) failed with Python's "TuneGenerator.generate() got
    an unexpected keyword argument", naming an inner class; now refused as the abc-generation
    pipeline refuses it, listing what model.generate takes."""
    model, tok = generator.model, generator.tokenizer
    takes = r"; it takes tokenizer, prompt and those of TuneGenerator.generate: .*num_bars"
    with pytest.raises(
        TypeError, match=r"^model.generate got unexpected argument\(s\) num_beams" + takes
    ):
        model.generate(tok, 1, num_beams=3)
    with pytest.raises(TypeError, match=r"argument\(s\) repetition_penalty, tempreature;"):
        model.generate(tok, 1, tempreature=0.5, repetition_penalty=1.2)
    prompt = "X:1\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|"
    assert len(model.generate(tok, 1, prompt=prompt, seed=0, num_bars=2)) == 1  # still taken


def test_model_generate_without_the_package_gives_advice_that_works(generator, monkeypatch):
    """A remote-code model without the package advised `pip install modeling-irish`, a name
    that is not on PyPI; the advice is now the README's install from a clone."""
    monkeypatch.setitem(sys.modules, "modeling_irish.generation", None)  # import fails
    with pytest.raises(ImportError) as caught:
        generator.model.generate(generator.tokenizer, 1)
    message = str(caught.value)
    assert "pip install modeling-irish" not in message
    assert "not on PyPI" in message and '`pip install -c constraints.txt -e ".[all]"`' in message


def test_a_header_the_model_never_saw_is_named(generator, caplog):
    from tokenization.abc_parser import parse_abc
    from tokenization.bar_check import bar_report, bars_of

    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        tunes = generator.generate(1, rhythm="fandango", meter="7/8", num_bars=4)
    assert "never seen meter='7/8', rhythm='fandango'" in caplog.text
    # it still samples, every bar in 7/8
    (tune,) = tunes
    assert tune.valid, tune.errors
    assert tune.meter == "7/8" and "\nM:7/8\n" in tune.abc
    read = parse_abc(tune.abc)
    report = bar_report(read)
    assert report.ok and report.skipped is None, (report.problems, tune.abc)
    bars = bars_of(read)  # bar_report allows short bars at section ends: ask for full ones
    assert len(bars) >= 3 and {b.meter for b in bars} == {"7/8"}
    assert all(b.length == 7 for b in bars[1:-1]) and all(b.length <= 7 for b in bars), tune.abc
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        generator.generate(1, rhythm="reel", key="D", num_bars=4)
    assert "never seen" not in caplog.text


def test_a_tokenizer_of_another_model_is_refused(generator):
    other = AbcTokenizer.train(TRAIN[:2])
    assert other.abc_vocab.sizes != generator.tokenizer.abc_vocab.sizes
    with pytest.raises(ValueError, match="the tokenizer does not fit this model: feature"):
        generator.model.generate(other, 1, rhythm="jig")


def test_a_rhythm_that_is_not_a_string_is_named(generator):
    with pytest.raises(TypeError, match="rhythm must be a tune type such as 'jig', got 123"):
        generator.generate(1, rhythm=123)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"temperature": -1.0}, "temperature must be finite and >= 0"),
        ({"top_p": 0.0}, "top_p must be in"),
        ({"top_k": -2}, "top_k must be >= 0"),
        ({"num_tunes": 0}, "num_tunes must be at least 1"),
        ({"temperature": float("inf")}, "temperature must be finite"),
        ({"num_bars": 0}, "num_bars must be at least 1"),
        ({"max_rows": -5}, "max_rows must be at least 1"),
        ({"min_bars": -1}, "min_bars must be >= 0"),
        # the tune was steered to close after num_bars: 2 bars, the min_bars asked for dropped
        ({"min_bars": 10, "num_bars": 2}, "min_bars=10 is more than num_bars=2"),
        # nothing steered the tune to close: a slip jig was cut at 1,201 rows
        ({"num_bars": None, "max_rows": None}, "num_bars and max_rows are both None"),
    ],
)
def test_bad_sampling_settings_are_refused(generator, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generator.generate(**{"num_tunes": 1, **kwargs})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"top_k": 2.5}, "top_k must be a whole number, got 2.5"),  # failed mid-sampling
        ({"top_k": True}, "top_k must be a whole number, got True"),
        ({"temperature": "0.8"}, "temperature must be a real number, got '0.8'"),
        ({"top_p": None}, "top_p must be a real number, got None"),
        ({"num_tunes": 2.0}, "num_tunes must be a whole number"),
        ({"num_bars": 8.5}, "num_bars must be a whole number"),
    ],
)
def test_sampling_settings_of_the_wrong_type_are_refused_up_front(generator, kwargs, message):
    with pytest.raises(TypeError, match=message):
        generator.generate(**{"num_tunes": 1, "num_bars": 4, **kwargs})


@pytest.mark.parametrize(
    "key, written, said",
    [("Db minor", "K:C#m", "8 flats"), ("E#", "K:F", "11 sharps")],
)
def test_a_key_beyond_seven_sharps_or_flats_is_written_as_usual(
    generator, key, written, said, caplog
):
    # as write_abc does: the same sound, in the spelling every ABC reader reads alike; logged
    # like the other warnings about a request (a Python warning named the package's line)
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        tune = generator.generate(1, key=key, num_bars=4, seed=0)[0]
    assert f"{said} in its signature: the tunes are written in" in caplog.text
    assert written + "\n" in tune.abc


def test_temperature_zero_is_greedy(generator, caplog):
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        a = generator.generate(2, rhythm="reel", seed=1, num_bars=4, temperature=0.0)
    b = generator.generate(2, rhythm="reel", seed=2, num_bars=4, temperature=0.0)
    assert [t.abc for t in a] == [t.abc for t in b]  # no randomness left
    assert a[0].tokens == a[1].tokens  # and so said: N copies of one tune look like a bug
    assert "temperature=0 samples greedily: the 2 tunes will be the same" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        generator.generate(3, rhythm="reel", seed=1, num_bars=4, top_k=1)
        generator.generate(1, rhythm="reel", seed=1, num_bars=4, temperature=0.0)  # one: fine
    assert caplog.text.count("samples greedily") == 1 and "top_k=1" in caplog.text


@pytest.mark.parametrize(
    "meter, rhythm", [("9/8", "slip jig"), ("2/4", "polka"), ("3/4", "waltz"), ("7/8", None)]
)
def test_a_meter_without_a_rhythm_is_conditioned_on_the_rhythm_of_that_meter(
    generator, meter, rhythm
):
    """It was always "reel" (``T:Generated reel 1``, ``R:reel`` over a 9/8 tune)."""
    (tune,) = generator.generate(1, meter=meter, seed=0, num_bars=2)
    assert tune.rhythm == (rhythm or "unspecified") and tune.meter == meter
    assert f"T:Generated {rhythm or 'tune'} 1\n" in tune.abc
    assert (f"R:{rhythm}\n" if rhythm else "R:") in tune.abc or rhythm is None
    assert ("R:" in tune.abc) == (rhythm is not None)


@pytest.mark.parametrize("meter", ["C|", "2/2"])
def test_a_new_tune_in_cut_time_is_a_reel(generator, meter, caplog):
    """``--meter 'C|'`` (the reels of O'Neill's and Ryan's) was conditioned on "unspecified"
    and written without ``R:``, where ``--meter C`` got ``R:reel``; a reel or hornpipe asked
    for in cut time is no unusual meter to warn about, a jig is."""
    (tune,) = generator.generate(1, meter=meter, seed=0, num_bars=2)
    assert tune.rhythm == "reel" and f"\nR:reel\nM:{meter}\n" in tune.abc
    assert tune.rows[0, RHYTHM_COLUMN] == generator.vocab.id("rhythm", "reel")
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        for rhythm in ("reel", "hornpipe", "jig"):
            generator.generate(1, rhythm=rhythm, meter=meter, seed=0, num_bars=2)
    assert "usually" in caplog.text and "a jig is usually in 6/8" in caplog.text
    assert "a reel is usually" not in caplog.text and "a hornpipe is" not in caplog.text


@pytest.mark.parametrize(
    "rhythm, meter, written",
    [
        ("slipjig", "9/8", "slip jig"),  # the spelling the test tokenizer knows
        ("double jig", "6/8", "double jig"),
        ("clog", "2/2", "clog"),
        ("hop jig", "9/8", "hop jig"),
    ],
)
def test_the_corpus_spellings_of_a_rhythm_get_its_meter(generator, rhythm, meter, written):
    """O'Neill's and Ryan's write R:slipjig, R:double jig, R:clog: they were sampled in 4/4."""
    (tune,) = generator.generate(1, rhythm=rhythm, seed=0, num_bars=2)
    assert tune.meter == meter and f"\nR:{written}\nM:{meter}\n" in tune.abc
    assert tune.valid, tune.errors


@pytest.mark.parametrize("rhythm", ["slip-jig", "Slip_Jig", "slipjig", "SLIP  JIG"])
def test_a_rhythm_is_spelled_as_the_tokenizer_knows_it(generator, model_dir, rhythm, caplog):
    """``--rhythm slip-jig`` was refused ("did you mean 'slip jig'?"), and ``slipjig`` was
    conditioned on <unk>, which the thesession tokenizer (R:slip jig) has never seen."""
    from modeling_irish.cli import main

    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        (tune,) = generator.generate(1, rhythm=rhythm, num_bars=2, seed=0)
        args = ["generate", "--model", model_dir, "--rhythm", rhythm, "--num-tunes", "1"]
        assert main([*args, "--num-bars", "2"]) == 0
    assert "never seen" not in caplog.text
    assert tune.rhythm == "slip jig" and "\nR:slip jig\nM:9/8\n" in tune.abc
    assert tune.rows[0, RHYTHM_COLUMN] == generator.vocab.id("rhythm", "slip jig")


def test_a_rhythm_takes_the_vocabulary_spelling_over_the_usual_one():
    """A model of O'Neill's (R:slipjig) is conditioned on ``slipjig`` for ``slip jig``; with
    no spelling known the request keeps the usual one, and an exact one is kept."""
    from modeling_irish.generation_request import resolve_request

    def spelled(rhythm, known, meter=None):
        return resolve_request(rhythm, meter, None, None, None, None, 0, known).rhythm

    assert spelled("slip jig", ["reel", "slipjig"]) == "slipjig"
    assert spelled(None, ["slipjig"], "9/8") == "slipjig"  # the type of 9/8
    assert spelled("Three_Two", ["reel"]) == "three-two"
    assert spelled("slipjig", ["slip jig", "slipjig"]) == "slipjig"


@pytest.mark.parametrize("rhythm, hint", [("air", ""), ("slip jigg", " (did you mean 'slip jig'")])
def test_a_rhythm_of_no_known_meter_needs_the_meter(generator, model_dir, rhythm, hint, capsys):
    from modeling_irish.cli import main

    said = f"no usual meter is known for rhythm {rhythm!r}{hint}"
    with pytest.raises(ValueError, match=re.escape(said)) as refused:
        generator.generate(1, rhythm=rhythm, num_bars=2)
    both = "give meter= (--meter on the command line)"  # as Python and the command line name it
    assert both in str(refused.value)
    assert main(["generate", "--model", model_dir, "--rhythm", rhythm, "--num-tunes", "1"]) == 2
    assert both in capsys.readouterr().err
    (tune,) = generator.generate(1, rhythm=rhythm, meter="3/4", seed=0, num_bars=2)
    assert tune.meter == "3/4" and tune.valid


def test_meters_of_one_bar_length_are_not_the_same_meter(generator, caplog):
    """6/8 (two dotted beats) and 3/4 (three beats) fill the same bar but are not one meter: a
    6/8 prompt is not continued in 3/4, and a jig asked for in 3/4 is warned about. The
    spellings the reader takes for one meter (``C`` and 4/4) still agree."""
    with pytest.raises(ValueError, match="the prompt is in 6/8"):
        generator.generate(1, prompt="X:1\nM:6/8\nL:1/8\nK:D\nABc def|", meter="3/4")
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        (tune,) = generator.generate(1, rhythm="jig", meter="3/4", seed=0, num_bars=2)
    assert tune.meter == "3/4"
    assert "a jig is usually in 6/8; sampling one in 3/4 (the meter given)" in caplog.text
    (common,) = generator.generate(
        1, prompt="X:1\nM:C\nL:1/8\nK:D\nABcd efga|", meter="4/4", seed=0, num_bars=2
    )
    assert common.meter == "4/4"


def test_mode_synonyms_are_read_as_abc_reads_them(generator):
    (tune,) = generator.generate(1, key="A", mode="aeolian", seed=0)
    assert "K:Am" in tune.abc


@pytest.mark.parametrize(
    "rhythm, prompt, least",
    [
        ("reel", None, 48),  # 5 bars of 8 eighth notes and a bar line, |:, <start>, <end>
        ("slip jig", None, 53),
        ("polka", None, 28),
        ("jig", "X:1\nM:6/8\nL:1/8\nK:G\n|:GAB d2e|dBG", 48),  # the prompt's 10 rows more
    ],
)
def test_a_row_cap_too_small_to_finish_a_tune_is_refused(
    generator, model_dir, rhythm, prompt, least, capsys
):
    from modeling_irish.cli import main

    # --max-rows 5 cut every tune mid-bar, and the command said 0
    said = f"max_rows={least - 1} is too small to finish a tune in {RHYTHM_METERS[rhythm]}: "
    with pytest.raises(ValueError, match=re.escape(f"{said}give at least {least} (room for 5")):
        generator.generate(1, rhythm=rhythm, prompt=prompt, max_rows=least - 1)
    tunes = generator.generate(32, rhythm=rhythm, prompt=prompt, max_rows=least, seed=1)
    assert all(t.valid and not t.truncated for t in tunes), [t.errors for t in tunes]
    if prompt is None:
        argv = ["generate", "--model", model_dir, "--rhythm", rhythm, "--max-rows", "5"]
        assert main(argv) == 2
        assert "max_rows=5 is too small to finish a tune" in capsys.readouterr().err


def test_a_misspelled_rhythm_is_warned_with_the_nearest_known_one(generator, caplog):
    known = [v for v in generator.tokenizer.abc_vocab.values["rhythm"] if not v.startswith("<")]
    assert "reel" in known
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        generator.generate(1, rhythm="reell", meter="4/4", num_bars=2)
    assert "rhythm='reell' (did you mean 'reel'" in caplog.text


def test_sampling_leaves_the_model_in_its_own_mode(generator):
    # sampling in the middle of training must not leave dropout off for the rest of it
    model, tokenizer = generator.model, generator.tokenizer
    model.train()
    during_training = model.generate(tokenizer, 2, rhythm="reel", key="D", seed=3, num_bars=4)
    assert model.training
    model.eval()
    in_eval = model.generate(tokenizer, 2, rhythm="reel", key="D", seed=3, num_bars=4)
    assert not model.training
    assert [t.abc for t in during_training] == [t.abc for t in in_eval]  # sampled in eval mode


@pytest.mark.parametrize("unit_length", ["3/8", "1/3", "2", "0", "-1/8", "1/128", "eighth"])
def test_a_unit_length_other_than_one_over_a_power_of_two_is_refused(generator, unit_length):
    # abc2midi: "Default length must be 1/X"; '0' was a bare ZeroDivisionError
    with pytest.raises(ValueError, match=f"unit_length '{re.escape(unit_length)}' is not an ABC"):
        generator.generate(1, unit_length=unit_length, num_bars=2)


@pytest.mark.parametrize("unit_length", ["1/16", " 1/4 ", Fraction(1, 2)])
def test_a_unit_length_of_one_over_a_power_of_two_is_written(generator, unit_length):
    (tune,) = generator.generate(1, rhythm="reel", unit_length=unit_length, num_bars=4, seed=0)
    assert f"\nL:{Fraction(str(unit_length).strip())}\n" in tune.abc
    assert tune.valid and reread_ours(tune, generator.tokenizer) and reread_music21(tune)


@pytest.mark.parametrize("meter", ["0/4", "3/3", "4/0", "-3/4", "Cx", "2+3/8", "6/128"])
def test_a_meter_other_than_n_over_a_power_of_two_is_refused(generator, meter, capsys):
    from modeling_irish.cli import main

    # '0/4' sampled a "tune" of bar lines; '3/3' was valid=True but abc2midi refuses it
    with pytest.raises(ValueError, match=f"^'{re.escape(meter)}' is not a meter: give N/D") as err:
        generator.generate(1, meter=meter, num_bars=2)
    with pytest.raises(SystemExit):  # the command line makes the same check
        main(["generate", "--model", "unused", f"--meter={meter}"])
    assert str(err.value) in capsys.readouterr().err


@pytest.mark.parametrize("meter, read", [("C", "4/4"), ("C|", "2/2")])
def test_common_and_cut_time_are_meters_as_in_an_m_field(generator, meter, read):
    """``M:C`` in a prompt was accepted, ``meter="C"`` / ``--meter C`` refused; then both were
    written ``M:4/4`` / ``M:2/2``: the ``M:`` keeps the symbol asked for, the conditioning and
    `GeneratedTune.meter` read it as ``N/D``."""
    from modeling_irish.generation_cli import meter_arg

    (tune,) = generator.generate(1, meter=meter, seed=0, num_bars=2)
    assert tune.meter == read and f"\nM:{meter}\n" in tune.abc and tune.valid
    (same,) = generator.generate(1, meter=read, seed=0, num_bars=2)  # sampled alike
    assert (tune.rows == same.rows).all()
    assert same.abc == tune.abc.replace(f"M:{meter}\n", f"M:{read}\n")
    assert meter_arg(meter) == meter


@pytest.mark.parametrize(
    "meter, read, written", [("C |", "2/2", "C|"), (" C |", "2/2", "C|"), ("6 / 8", "6/8", "6/8")]
)
def test_a_meter_spelled_with_spaces_is_read_as_in_an_m_field(generator, meter, read, written):
    """The reader reads ``M:C |`` as cut time (`parse_meter` drops spaces), but ``meter="C |"``
    and ``--meter "C |"`` were refused: both read it as the reader does, and write it back in
    its canonical form."""
    from modeling_irish.generation_cli import meter_arg

    (tune,) = generator.generate(1, meter=meter, seed=0, num_bars=2)
    assert (tune.meter, tune.written_meter) == (read, written)
    assert f"\nM:{written}\n" in tune.abc and tune.valid
    assert meter_arg(meter) == written


@pytest.mark.parametrize("meter, read", [("C", "4/4"), ("C|", "2/2"), ("6/8", "6/8")])
def test_a_tune_written_again_keeps_the_meter_symbol_asked_for(generator, meter, read):
    """`GeneratedTune` held only ``meter`` (``N/D``), so writing a tune asked for in ``C|`` again
    with `write_abc` gave ``M:2/2``: `written_meter` is the ``M:`` that `abc` writes."""
    from tokenization.abc_writer import write_abc

    (tune,) = generator.generate(1, meter=meter, seed=0, num_bars=2)
    assert (tune.meter, tune.written_meter) == (read, meter)
    again = write_abc(tune.tokens, key=tune.key, meter=tune.written_meter, rhythm=tune.rhythm)
    assert f"\nM:{meter}\n" in again and again.split("K:")[1] == tune.abc.split("K:")[1]


@pytest.mark.parametrize("meter, eighths", [("16/4", "32"), ("1/64", "1/8"), ("32/8", "32")])
def test_a_meter_the_tokenizer_cannot_fill_is_refused_with_the_bars_it_can(
    generator, model_dir, meter, eighths, capsys
):
    from modeling_irish.cli import main
    from modeling_irish.generation import fillable_bar_lengths

    lengths = fillable_bar_lengths(generator.vocab)
    assert Fraction(eighths) not in lengths and {4, 6, 8, 9} <= set(lengths)
    said = f"meter {meter} has bars of {eighths} eighth notes, which this model's tokenizer"
    with pytest.raises(ValueError, match=re.escape(said)) as err:
        generator.generate(1, meter=meter, num_bars=2)
    assert "it fills bars of " in str(err.value)
    # the command line says the same (it was "bar length 322560 of 16/4 is not an m_offset")
    assert main(["generate", "--model", model_dir, "--meter", meter]) == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize("rhythm", ["jig ", " Slip Jig\t", "   "])
def test_a_rhythm_is_read_as_the_tokenizer_reads_r(generator, model_dir, rhythm, caplog, capsys):
    from modeling_irish.cli import main

    # "jig " was written R:jig  in 4/4, conditioned on <unk>
    name = rhythm.strip().lower() or "reel"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        (tune,) = generator.generate(1, rhythm=rhythm, num_bars=2, seed=0)
        assert main(["generate", "--model", model_dir, "--rhythm", rhythm, "--num-tunes", "1"]) == 0
    assert "never seen" not in caplog.text
    for abc in (tune.abc, capsys.readouterr().out):
        assert f"\nR:{name}\nM:{RHYTHM_METERS[name]}\n" in abc


@pytest.mark.parametrize("seed", [-1, 2**64, -(2**63)])
def test_a_seed_outside_0_to_2_to_the_64_is_refused(generator, seed, capsys):
    from modeling_irish.cli import main

    # 2**64 was "Overflow when unpacking long long"; -1 gave the tunes of 2**64 - 1
    said = f"seed must be a whole number from 0 to 2**64 - 1 (18446744073709551615), got {seed}"
    with pytest.raises(ValueError, match=re.escape(said)):
        generator.generate(1, seed=seed, num_bars=2)
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--model", "unused", f"--seed={seed}"])
    assert exit_info.value.code == 2 and said in capsys.readouterr().err


def test_the_seeds_at_the_ends_of_the_range_are_taken(generator, capsys):
    from modeling_irish.cli import main

    for seed in (0, 2**64 - 1):
        (tune,) = generator.generate(1, seed=seed, num_bars=2)
        assert tune.valid
    with pytest.raises(TypeError, match="seed must be a whole number, got 1.5"):
        generator.generate(1, seed=1.5, num_bars=2)
    with pytest.raises(SystemExit):
        main(["generate", "--model", "unused", "--seed", "1.5"])
    assert "argument --seed: seed must be a whole number, got '1.5'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        # AttributeError: 'int' object has no attribute 'split'
        ({"key": 5}, TypeError, "key must be a key such as 'D' or 'E dorian', got 5"),
        ({"mode": 5}, TypeError, "mode must be a mode such as 'dorian', got 5"),
        # torch's RuntimeError
        ({"num_threads": 0}, ValueError, "num_threads must be at least 1 (or None), got 0"),
        ({"num_threads": 1.5}, TypeError, "num_threads must be a whole number"),
        # X:-3 was written, which abc2midi refuses
        ({"first_number": -3}, ValueError, "first_number must be at least 1"),
        ({"first_number": 0}, ValueError, "first_number must be at least 1"),
    ],
)
def test_a_bad_key_thread_count_or_first_number_is_named(generator, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        generator.generate(1, num_bars=2, **kwargs)
