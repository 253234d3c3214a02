"""Tests of TuneGenerator on a tiny random model: seeds, three readers, the key written, carried
state and model.generate (meters and rhythms are test_generation_meters.py's, sampling settings
and request checks test_generation_settings.py's, prompts test_generation_prompts.py's, the
commands test_generation_cli.py's; the generator is `tests/helpers.py`'s)."""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import replace

import pytest
import torch
from helpers import GENERATION_TRAIN as TRAIN
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

from modeling_irish.generation import RHYTHM_METERS
from modeling_irish.quality import reread_abc2midi, reread_music21, reread_ours
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
    """A misspelt name failed with Python's "TuneGenerator.generate() got an unexpected keyword
    argument", naming an inner class; now refused as the abc-generation pipeline refuses it,
    listing what model.generate takes and the name it is close to."""
    model, tok = generator.model, generator.tokenizer
    takes = r"; it takes tokenizer, prompt and those of TuneGenerator.generate: .*num_bars"
    with pytest.raises(
        TypeError,
        match=r"^model.generate got unexpected argument\(s\) tempreature "
        r"\(did you mean 'temperature'\?\), zzz" + takes,
    ):
        model.generate(tok, 1, tempreature=0.5, zzz=1)
    prompt = "X:1\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|"
    assert len(model.generate(tok, 1, prompt=prompt, seed=0, num_bars=2)) == 1  # still taken


@pytest.mark.parametrize(
    "name, value, instead",
    [
        ("num_beams", 3, "no beam search: .*temperature=0"),
        ("num_beam_groups", 2, "no beam search"),
        ("repetition_penalty", 1.2, "no repetition penalty: .*top_p"),
        ("no_repeat_ngram_size", 3, "no repetition penalty"),
        ("min_new_tokens", 10, "min_bars is the fewest bars"),
        ("min_length", 10, "min_bars is the fewest bars"),
        ("max_length", 100, r"bars \(num_bars=16\) and rows \(max_rows\)"),
        ("eos_token_id", 2, "<end> and pad tokens are fixed; .*num_bars"),
        ("pad_token_id", 0, "<end> and pad tokens are fixed"),
        ("output_scores", True, "returns the tunes themselves .GeneratedTune.*no scores"),
        ("return_dict_in_generate", True, "returns the tunes themselves"),
        ("streamer", object(), "no streaming: .*should_stop=<callable>"),
    ],
)
def test_model_generate_says_what_it_does_instead_of_transformers_arguments(
    generator, name, value, instead
):
    """transformers' ``num_beams``, ``streamer``, ``repetition_penalty``... fell through to the
    generic "unexpected argument(s)" list; each now says what this model does instead."""
    model, tok = generator.model, generator.tokenizer
    with pytest.raises(TypeError, match=rf"^model.generate takes no {name}=: .*{instead}"):
        model.generate(tok, 1, **{name: value})


def test_model_generate_translates_a_generation_config_into_arguments(generator):
    """``generation_config=GenerationConfig(...)`` fell through to the generic list; it is
    refused (its defaults mean greedy decoding in transformers) with the call to make instead,
    its sampling fields under our names."""
    from transformers import GenerationConfig

    model, tok = generator.model, generator.tokenizer
    config = GenerationConfig(do_sample=True, temperature=0.7, top_k=20, num_return_sequences=2)
    advice = "pass the sampling arguments by name: temperature=0.7, top_k=20, num_tunes=2$"
    with pytest.raises(TypeError, match=r"^model.generate takes no generation_config=: " + advice):
        model.generate(tok, generation_config=config)
    with pytest.raises(TypeError, match=r"by name: temperature=0$"):
        model.generate(tok, generation_config=GenerationConfig(do_sample=False))
    with pytest.raises(TypeError, match=r"by name \(temperature=, top_k=, top_p=, num_tunes=\)$"):
        model.generate(tok, generation_config=GenerationConfig())


def test_model_generate_without_the_package_gives_advice_that_works(generator, monkeypatch):
    """A remote-code model without the package advised `pip install modeling-irish`, a name
    that is not on PyPI; the advice is now the README's install from a clone."""
    monkeypatch.setitem(sys.modules, "modeling_irish.generation", None)  # import fails
    with pytest.raises(ImportError) as caught:
        generator.model.generate(generator.tokenizer, 1)
    message = str(caught.value)
    assert "pip install modeling-irish" not in message
    assert "not on PyPI" in message and '`pip install -c constraints.txt -e ".[all]"`' in message


def test_a_tokenizer_of_another_model_is_refused(generator):
    other = AbcTokenizer.train(TRAIN[:2])
    assert other.abc_vocab.sizes != generator.tokenizer.abc_vocab.sizes
    with pytest.raises(ValueError, match="the tokenizer does not fit this model: feature"):
        generator.model.generate(other, 1, rhythm="jig")


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


def test_should_stop_stops_the_sampling_within_a_step(generator):
    from modeling_irish.generation import GenerationStopped

    asked: list[int] = []

    def after_three_steps() -> bool:
        asked.append(len(asked))
        return len(asked) > 3

    with pytest.raises(GenerationStopped, match="after 3 steps") as stopped:
        generator.generate(2, rhythm="reel", num_bars=16, should_stop=after_three_steps)
    assert stopped.value.steps == 3 and len(asked) == 4  # asked once a step, none sampled after
    # never true: the tunes are those sampled without it
    kept = generator.generate(2, num_bars=8, should_stop=lambda: False)
    assert [t.abc for t in kept] == [t.abc for t in generator.generate(2, num_bars=8)]
