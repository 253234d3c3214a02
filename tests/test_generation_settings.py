"""TuneGenerator's sampling settings and request checks: temperature, top-k/top-p, seeds, row
caps, keys and thread counts, taken or refused up front with what and where."""

from __future__ import annotations

import re

import pytest
import torch
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

from modeling_irish.generation import RHYTHM_METERS, filter_logits


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
