"""TuneGenerator's meters, rhythms and unit lengths: read as an M:, R: or L: field reads them,
conditioned on what the tokenizer knows, and refused or warned about when unusual."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

from modeling_irish.generation import RHYTHM_METERS
from modeling_irish.quality import reread_music21, reread_ours
from tokenization.encoded_tune import RHYTHM_COLUMN


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


def test_a_rhythm_that_is_not_a_string_is_named(generator):
    with pytest.raises(TypeError, match="rhythm must be a tune type such as 'jig', got 123"):
        generator.generate(1, rhythm=123)


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


def test_a_misspelled_rhythm_is_warned_with_the_nearest_known_one(generator, caplog):
    known = [v for v in generator.tokenizer.abc_vocab.values["rhythm"] if not v.startswith("<")]
    assert "reel" in known
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        generator.generate(1, rhythm="reell", meter="4/4", num_bars=2)
    assert "rhythm='reell' (did you mean 'reel'" in caplog.text


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


@pytest.mark.parametrize(
    "meter", ["0/4", "3/3", "4/0", "-3/4", "Cx", "2+3/7", "0+0/8", "2+/8", "6/128"]
)
def test_a_meter_other_than_n_over_a_power_of_two_is_refused(generator, meter, capsys):
    from modeling_irish.cli import main

    # '0/4' sampled a "tune" of bar lines; '3/3' was valid=True but abc2midi refuses it
    said = f"^'{re.escape(meter)}' is not a meter( \\(.+\\))?: give N/D"  # the reason, if any
    with pytest.raises(ValueError, match=said) as err:
        generator.generate(1, meter=meter, num_bars=2)
    with pytest.raises(SystemExit):  # the command line makes the same check
        main(["generate", "--model", "unused", f"--meter={meter}"])
    assert str(err.value) in capsys.readouterr().err


@pytest.mark.parametrize(
    "meter, read, written, eighths",
    [
        ("2+3/8", "5/8", "2+3/8", 5),
        ("(2 + 3)/8", "5/8", "(2+3)/8", 5),
        ("2+3+2/8", "7/8", "2+3+2/8", 7),
    ],
)
def test_an_additive_meter_is_sampled_in_its_sum_and_written_as_asked(
    generator, model_dir, meter, read, written, eighths, capsys
):
    """The reader reads ``M:2+3/8`` as 5/8 (ABC 2.1 §3.1.6: the beats grouped 2+3), but
    ``meter="2+3/8"`` and ``--meter 2+3/8`` were refused: both sample bars of the sum and write
    the ``M:`` as asked, without its spaces, as ``C|`` is kept."""
    from modeling_irish.cli import main
    from tokenization.abc_parser import parse_abc
    from tokenization.bar_check import bar_report, bars_of

    (tune,) = generator.generate(1, meter=meter, seed=0, num_bars=4)
    assert (tune.meter, tune.written_meter) == (read, written)
    assert f"\nM:{written}\n" in tune.abc and tune.valid, tune.errors
    read_back = parse_abc(tune.abc)
    assert read_back.meter == read and bar_report(read_back).ok, tune.abc
    bars = bars_of(read_back)
    assert len(bars) >= 3 and all(b.length == eighths for b in bars[1:-1]), tune.abc
    assert all(b.length <= eighths for b in bars), tune.abc
    (same,) = generator.generate(1, meter=read, seed=0, num_bars=4)  # conditioned alike
    assert (tune.rows == same.rows).all()
    args = ["generate", "--model", model_dir, "--meter", meter, "--num-tunes", "1", "--seed", "0"]
    assert main([*args, "--num-bars", "4"]) == 0
    assert f"\nM:{written}\n" in capsys.readouterr().out


def test_a_prompt_in_an_additive_meter_keeps_its_m_field():
    from modeling_irish.generation_request import resolve_request

    prompt = "X:1\nM:3+2+3/8\nL:1/8\nK:D\nABc de fgA|"
    request = resolve_request(None, None, None, None, None, prompt)
    assert (request.meter, request.written_meter) == ("8/8", "3+2+3/8")
    request = resolve_request(None, "8/8", None, None, None, prompt)
    assert (request.meter, request.written_meter) == ("8/8", "8/8")


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
