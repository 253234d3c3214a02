"""TuneGenerator's prompts: continued in their meter, key, octave, unit length, ties, endings
and bar lines (refused prompts are test_generation_prompt_refusals.py's, what is said about a
prompt test_generation_prompt_warnings.py's)."""

from __future__ import annotations

import re
import shutil

import pytest
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

from modeling_irish.quality import reread_abc2midi, reread_music21, reread_ours


def test_a_prompt_longer_than_num_bars_is_continued_and_closed(generator):
    """Five bars of prompt with ``num_bars=4`` (a partial bar at its end): the tunes used to end
    straight after the prompt, mid-bar ("does not end with a bar line")."""
    prompt = "X:1\nT:p\nR:reel\nM:4/4\nL:1/8\nK:D\n" + "FAdA FAdA|" * 5 + "B2A"
    for tune in generator.generate(4, prompt=prompt, seed=0, num_bars=4):
        assert tune.valid, tune.errors
        assert sum(t.kind == "bar" for t in tune.tokens) > 5
        assert tune.abc.split("K:D\n", 1)[1].startswith("FAdA FAdA | FAdA FAdA")


def test_prompt_is_continued(generator):
    prompt = "X:1\nT:p\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAB d2e|dBG"
    tunes = generator.generate(4, prompt=prompt, seed=0, num_bars=6)
    for tune in tunes:
        assert tune.meter == "6/8" and tune.rhythm == "jig" and "K:G" in tune.abc
        notes = [t.pitch for t in tune.tokens if t.kind == "note"]
        assert notes[:7] == [67, 69, 71, 74, 76, 74, 71]
        assert tune.tokens[0].text == "|:"
        assert tune.valid, tune.errors
    assert len({t.abc for t in tunes}) > 1
    # titled after the prompt (it was "Generated jig N"), numbered with the X: field
    assert [t.abc.split("T:")[1].split("\n")[0] for t in tunes] == [
        f"p, continued {n}" for n in range(1, 5)
    ]


@pytest.mark.parametrize(
    "meter, incipit",
    [("3/4", "A2 B2|d4 c2|B4 A2|"), ("4/4", "ABcde|f2 e2 d2 c2|"), ("6/8", "ABcd|e2f g2e|")],
)
def test_a_prompt_with_a_long_pickup_is_continued(generator, meter, incipit):
    from tokenization.abc_parser import parse_abc

    prompt = f"X:1\nT:Long pickup\nM:{meter}\nL:1/8\nK:D\n{incipit}"
    typed = [(t.pitch, t.dur) for t in parse_abc(prompt).tokens if t.kind == "note"]
    tunes = generator.generate(4, prompt=prompt, num_bars=8, seed=3)
    for tune in tunes:
        assert tune.valid, tune.errors
        notes = [(t.pitch, t.dur) for t in parse_abc(tune.abc).tokens if t.kind == "note"]
        assert notes[: len(typed)] == typed


@pytest.mark.parametrize(
    "meter, body", [("6/8", "A|"), ("3/4", "GAB|"), ("6/8", "|:A|"), ("4/4", "z2 DE|")]
)
def test_a_prompt_that_is_only_a_pickup_is_continued(generator, meter, body):
    """Its only bar was read as the tune's last, not as a pickup: 'bar 1 lasts 1, not 6'."""
    from modeling_irish.constraints import validate_tune
    from tokenization.abc_parser import parse_abc

    tunes = generator.generate(8, prompt=f"X:1\nM:{meter}\nL:1/8\nK:D\n{body}", num_bars=4)
    for tune in tunes:
        assert tune.valid, tune.errors
        written = validate_tune(parse_abc(tune.abc).tokens, meter)
        assert written.ok and written.pickup, written.errors


def test_a_prompt_without_r_is_conditioned_on_unspecified_as_the_help_says(generator, capsys):
    """The model was trained on "unspecified" for the corpus's tunes without R:, so such a
    prompt is conditioned on it, and written without R:; the help said it fell back to the
    meter's type, then reel."""
    from modeling_irish.cli import main

    (tune,) = generator.generate(1, prompt="X:1\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|", num_bars=4)
    assert tune.rhythm == "unspecified" and "\nR:" not in tune.abc
    assert "T:Generated tune 1\n" in tune.abc
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "'unspecified' for a prompt without one" in said


@pytest.mark.parametrize("symbol, meter", [("C|", "2/2"), ("C", "4/4")])
def test_a_prompt_in_common_or_cut_time_keeps_its_symbol(generator, symbol, meter):
    """A continued ``M:C|`` prompt was written ``M:2/2``: its ``M:`` is kept, unless another
    spelling of the same meter is asked for."""
    prompt = f"X:1\nM:{symbol}\nL:1/8\nK:D\nABcd efga|"
    (tune,) = generator.generate(1, prompt=prompt, seed=0, num_bars=2)
    assert f"\nM:{symbol}\n" in tune.abc and tune.meter == meter and tune.valid
    (asked,) = generator.generate(1, prompt=prompt, meter=meter, seed=0, num_bars=2)
    assert f"\nM:{meter}\n" in asked.abc and (asked.rows == tune.rows).all()


def test_a_prompt_spelling_cut_time_with_a_space_keeps_it_as_transpose_does(generator):
    """``M:C |`` (the reader reads it as 2/2) was written ``M:2/2`` by a continuation but
    ``M:C|`` by `irish-tune transpose`: both now write the symbol as `meter_as_written` does."""
    (tune,) = generator.generate(1, prompt="X:1\nM:C |\nL:1/8\nK:D\nABcd efga|", seed=0, num_bars=2)
    assert "\nM:C|\n" in tune.abc and tune.meter == "2/2"


def test_a_continued_prompt_stays_in_the_octave_it_was_typed(generator):
    from tokenization.abc_parser import parse_abc

    prompt = "X:1\nT:t\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|"
    typed = [t.pitch for t in parse_abc(prompt).tokens if t.kind == "note"]
    for tune in generator.generate(16, prompt=prompt, seed=1):
        notes = [t.pitch for t in parse_abc(tune.abc).tokens if t.kind == "note"]
        assert notes[: len(typed)] == typed


@pytest.mark.parametrize(
    "header, bar, written",
    [
        ("L:1/4\n", "G/A/G/ G/A/B/", "1/4"),
        ("L:1/16\n", "G2A2G2 G2A2B2", "1/16"),
        ("", "GAG GAB", "1/8"),
    ],
)
def test_a_continued_prompt_keeps_its_unit_length(generator, header, bar, written):
    """An L:1/4 prompt came back rewritten in L:1/8 (without L:, 6/8 implies 1/8); a
    unit_length given still wins."""
    prompt = f"X:1\nM:6/8\n{header}K:G\n|:{bar}|"
    (tune,) = generator.generate(1, prompt=prompt, num_bars=4, seed=0)
    assert f"\nL:{written}\n" in tune.abc and tune.valid
    (given,) = generator.generate(1, prompt=prompt, num_bars=4, seed=0, unit_length="1/8")
    assert "\nL:1/8\n" in given.abc and given.tokens == tune.tokens


def test_a_blank_prompt_is_a_new_tune_as_an_empty_one_is(generator):
    """Whitespace raised "tune has no notes" where "" and the pipeline's blank input gave a
    new tune."""
    (blank,) = generator.generate(1, prompt=" \n ", seed=0)
    assert blank.abc == generator.generate(1, prompt="", seed=0)[0].abc


@pytest.mark.parametrize("end", ["AdfA-|", "AdfA-", "AdfA-|]", "A2A2-|", "Ad(3fed-|"])
def test_a_prompt_ending_in_a_tie_goes_on_with_the_tied_note(generator, end):
    from tokenization.abc_parser import parse_abc

    # the tie was dropped (`d2fdAdfA | d5...`): now the first sampled note carries it on
    prompt = f"X:1\nM:4/4\nL:1/8\nK:D\nd2fd {end}"
    typed = [t for t in parse_abc(prompt, keep_final_tie=True).tokens if t.kind != "bar"]
    for tune in generator.generate(8, prompt=prompt, num_bars=4, seed=0):
        assert tune.valid, tune.errors
        read = [t for t in parse_abc(tune.abc).tokens if t.kind != "bar"]
        assert read[: len(typed)] == typed and typed[-1].kind == "tie"
        assert read[len(typed)].kind == "note" and read[len(typed)].pitch == typed[-2].pitch
        assert reread_ours(tune, generator.tokenizer) and reread_music21(tune)


@pytest.mark.parametrize("opening", ["|", "||", "[|", "|:"])
def test_a_prompt_that_opens_with_a_bar_line_gives_valid_tunes(generator, opening):
    """A bar line before the first note is ordinary ABC (`irish-tune check --bars` takes it):
    the checker accepts it as it accepts ``|:``, and every reader reads the continuation."""
    prompt = f"X:1\nM:6/8\nL:1/8\nK:G\n{opening}GAG GAB|ABA ABd|"
    tunes = generator.generate(6, prompt=prompt, seed=3, num_bars=8)
    for tune in tunes:
        assert tune.valid, (tune.errors, tune.abc)
        assert reread_ours(tune, generator.tokenizer), tune.abc
    assert all(reread_music21(tune) for tune in tunes[::2])
    if shutil.which("abc2midi"):
        assert all(reread_abc2midi(tune) is True for tune in tunes[::2])


@pytest.mark.parametrize(
    "body, written, parts",
    [
        (  # the `|` `P:B` `|:` the reader merges: written in two again
            "P:A\nGAG GAB|ABA ABd|\nP:B\n|:gfg",
            re.escape("P:A\nGAG GAB | ABA ABd |\nP:B\n|: gfg"),
            [(0, "A"), (13, "B")],
        ),
        ("GAG GAB|[P:B]ABA ABd|", re.escape("GAG GAB | [P:B]ABA ABd |"), [(7, "B")]),  # inline
        ("GAG GAB|ABA ABd|\nP:B", re.escape("GAG GAB | ABA ABd |\nP:B\n"), [(14, "B")]),
        # after the final `|]` the prompt drops: after the bar line the tune writes there
        ("GAG GAB|ABA ABd|]\nP:B", r"GAG GAB \| ABA ABd \S+\nP:B\n", [(14, "B")]),
    ],
)
def test_a_prompt_s_parts_are_kept_in_the_tunes(generator, body, written, parts, caplog):
    """The prompt's ``P:B`` lines and ``[P:B]`` were dropped without a word (its tempo changes
    are said to be dropped): the tunes are written with them, where they were."""
    from tokenization.abc_parser import parse_abc

    prompt = f"X:1\nT:p\nM:6/8\nL:1/8\nK:G\n{body}"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        tunes = generator.generate(3, prompt=prompt, seed=0, num_bars=4)
    assert "not kept" not in caplog.text
    for tune in tunes:
        assert tune.valid, (tune.errors, tune.abc)
        assert re.match(written, tune.abc.split("K:G\n", 1)[1]), tune.abc
        assert parse_abc(tune.abc).part_changes == parts
        assert reread_ours(tune, generator.tokenizer), tune.abc
        assert sum(t.kind == "note" for t in tune.tokens) > 12  # continued past the prompt


def test_a_prompt_that_ends_a_first_ending_is_continued_with_the_second(generator):
    """``|1ABA ABd:|`` at the end was refused as an unbalanced ':|' that "needs its '|:'",
    though the prompt has it: the continuation is the second ending (``:| |2`` reads ``:|2``)."""
    prompt = "X:1\nT:K\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|1ABA ABd:|"
    tunes = generator.generate(6, prompt=prompt, seed=0, num_bars=4)
    for tune in tunes:
        assert tune.valid, (tune.errors, tune.abc)
        assert "|: GAG GAB |1 ABA ABd :|2 " in tune.abc
        assert reread_ours(tune, generator.tokenizer), tune.abc


@pytest.mark.parametrize("opening", ["|", "||", "|:"])
def test_a_prompt_that_opens_with_a_bar_line_gets_as_many_bars(generator, opening):
    """The opening bar line counted as a bar against num_bars: 4 or 5 bars instead of 3."""

    def bars(body: str) -> list[int]:
        prompt = f"X:1\nM:6/8\nL:1/8\nK:G\n{body}GAG GAB|ABA ABd|"
        tunes = generator.generate(4, prompt=prompt, seed=3, num_bars=2)
        return [sum(t.kind == "bar" for t in tune.tokens[1:]) for tune in tunes]

    assert bars(opening) == bars("") == [3] * 4


@pytest.mark.parametrize("end", ["|", "|]"])
def test_a_final_bar_line_inside_a_prompt_is_a_section_end_the_tune_goes_on_from(
    generator, end, caplog
):
    """A ``|]`` before the prompt's end made the sampler stop there: every tune was the prompt
    unchanged (or, with a final ``|]`` too, the prompt cut short and invalid). The music goes on
    after it, so it is read as ``||``, and said."""
    prompt = f"X:1\nT:p\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|]ABcd efga{end}"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        tunes = generator.generate(3, prompt=prompt, seed=0, num_bars=4)
    for tune in tunes:
        assert tune.valid, (tune.errors, tune.abc)
        assert tune.abc.split("K:D\n", 1)[1].startswith("DEFG ABcd || ABcd efga |"), tune.abc
        assert sum(t.kind == "bar" for t in tune.tokens) > 2  # continued past the prompt
    said = [r.getMessage() for r in caplog.records if "'|]'" in r.getMessage()]
    assert said == [
        "the prompt's '|]' before its end is read as '||', a section end: the tunes go on "
        "after it (a final '|]' is dropped, to be continued)"
    ]


@pytest.mark.parametrize(
    "meter, body, written",
    [
        ("6/8", "DFD DFD|Bcd [1 d2", "Bcd [1 d2"),
        # as O'Neill's 980 (12/8) has it, the first ending closed: continued with the second
        ("6/8", "DFD DFD|Bcd [1 d2B:|", "Bcd [1 d2B :|2 "),
        ("9/8", "|:F2D DFD DFD|dcB AFA[1 Bcd", "dcB AFA [1 Bcd"),  # as O'Neill's 995 has it
    ],
)
def test_a_prompt_with_a_mid_bar_ending_is_continued_with_every_bar_fitting(
    generator, meter, body, written
):
    """`[1` (an ending opening mid-bar, O'Neill's 980) was refused by constrained sampling,
    "unsupported bar '[1'": the bar goes on across it (measured as one), and the second ending
    completes the bar the first one opened in."""
    prompt = f"X:1\nT:p\nM:{meter}\nL:1/8\nK:D\n{body}"
    tunes = generator.generate(4, prompt=prompt, seed=0, num_bars=4)
    for tune in tunes:
        assert tune.valid, (tune.errors, tune.abc)
        assert written in tune.abc and ":|2" in tune.abc, tune.abc
        assert reread_ours(tune, generator.tokenizer), tune.abc
    tune = generator.generate(1, prompt=prompt, seed=0, num_bars=4, constrained=False)[0]
    assert written in tune.abc  # unconstrained sampling continues it too
