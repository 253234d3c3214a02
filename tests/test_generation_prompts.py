"""TuneGenerator's prompts: continued in their meter, key, octave and unit length, and refused,
before sampling, when they do not scan, change meter or end where no note can go on."""

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


def test_prompt_in_another_mode_is_refused(generator):
    with pytest.raises(ValueError, match="dorian"):
        generator.generate(1, prompt="X:1\nM:6/8\nL:1/8\nK:G\nGAB", mode="dorian")


def test_prompt_in_another_mode_says_which_key_to_ask_for():
    from modeling_irish.generation_request import resolve_request

    prompt = "X:1\nM:6/8\nL:1/8\nK:Edor\nEFE B2A|"
    with pytest.raises(ValueError) as refused:  # --key A: a musician means "in A"
        resolve_request(None, None, None, "A", None, prompt)
    assert str(refused.value) == (
        "the prompt is in E dorian, not a major key: a continuation keeps the prompt's mode; to "
        "write it in A, give key='A dorian' (--key on the command line), or leave key and mode "
        "out to keep its own"
    )
    assert resolve_request(None, None, None, "A dorian", None, prompt).key.name == "A dorian"


def test_a_prompt_written_in_another_key_asked_for_is_said_transposed(generator, caplog):
    """A prompt in G continued with key="D" was written in D without a word (a user who
    typed a key without noticing the prompt's own got other notes); the same key says nothing."""
    import logging

    prompt = "X:1\nM:6/8\nL:1/8\nK:G\n|:GAB d2e|dBG"
    with caplog.at_level(logging.WARNING, logger="modeling_irish.generation"):
        (tune,) = generator.generate(1, prompt=prompt, key="D", seed=0, num_bars=4)
    assert "K:D" in tune.abc
    said = "the prompt is transposed from G major to D major, the key asked for (key=, --key"
    assert said in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="modeling_irish.generation"):
        generator.generate(1, prompt=prompt, key="G major", seed=0, num_bars=4)
        generator.generate(1, prompt=prompt, mode="major", seed=0, num_bars=4)
    assert "transposed" not in caplog.text and "respelled" not in caplog.text


@pytest.mark.parametrize("mode", ["blues", "x", "pentatonic"])
def test_an_unknown_mode_is_named_with_the_modes(mode):
    from modeling_irish.generation_request import resolve_request

    with pytest.raises(ValueError) as refused:
        resolve_request("reel", None, mode, "D", None, None)
    message = str(refused.value)
    assert message.startswith(f"mode {mode!r} is not a mode: give one of major, minor, dorian, ")
    assert "\n" not in message and "as mode= (--mode on the command line)" in message


def test_prompt_with_lengths_outside_the_vocabulary_is_refused_clearly(generator, tmp_path, capsys):
    from modeling_irish.cli import main

    prompt = "X:1\nT:p\nM:4/4\nL:1/8\nK:D\nA7B|d15/2e/|"  # lengths the training tunes never had
    with pytest.raises(ValueError, match="outside the model's vocabulary; the first is token 1"):
        generator.generate(1, prompt=prompt, seed=0, num_bars=4)
    model_dir = tmp_path / "model"
    generator.model.save_pretrained(model_dir)
    generator.tokenizer.save_pretrained(model_dir)
    (tmp_path / "prompt.abc").write_text(prompt, encoding="utf-8")
    argv = ["generate", "--model", str(model_dir), "--prompt", str(tmp_path / "prompt.abc")]
    assert main(argv) == 2  # a clear message, no traceback
    assert "irish-tune generate: the prompt has" in capsys.readouterr().err


@pytest.mark.parametrize(
    "body, said",
    [
        # it said "pitch36" (the note on the white keys), not the G,, typed
        ("G,,2A,,2 D,2F,2|", "4 token(s) outside the model's vocabulary; the first is token 1 "
         "of the prompt body, 'G,,2' (a pitch the model never saw)"),
        # it said "((3:2:4, lasting <pad> eighth notes)"
        ("(3:2:4ABcd|", "token 1 of the prompt body, '(3:2:4' (a tuplet the model never saw)"),
        ("GA7|", "token 2 of the prompt body, 'A7' (a length the model never saw)"),
        # after a key change, spelled in its key: it said '^C,,2', the header's G major spelling
        ("GABc|[K:D]c,,,2 d2 e2 f2|", "the first is token 6 of the prompt body, 'C,,2' (a pitch "
         "the model never saw)"),
    ],
)  # fmt: skip
def test_a_prompt_token_outside_the_vocabulary_is_named_as_typed(generator, body, said):
    with pytest.raises(ValueError, match=re.escape(said)) as refused:
        generator.generate(1, prompt=f"X:1\nT:p\nM:4/4\nL:1/8\nK:G\n{body}", num_bars=4)
    assert "pitch3" not in str(refused.value) and "<pad>" not in str(refused.value)


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


@pytest.mark.parametrize(
    "body, said",
    [
        ("|:GAG GAB|ABA A|d", "bar 2 lasts 4, not 6"),  # a short full bar
        ("A|dfa agf|AB|d", "bar 2 lasts 2, not 6"),  # a short bar before a plain bar line
        ("|:GAG GABc|ABA ABd|", "bar 1 lasts 7, not 6"),  # a long one
        (":|GAG GAB|", "empty bar before ':|'"),
        ("|:GAG GAB:|gfg gfe:|", "unbalanced ':|' (after the first part a ':|' or '|1' needs"),
        # an open last bar already too long: sampling failed vaguely ("no token fits")
        ("GAG GAB|ABA ABde", "bar 2 already lasts 7, more than 6"),
        ("D|GAG GAB|ABA ABdef", "bar 2 already lasts 8, more than 6"),
    ],
)
def test_a_prompt_that_does_not_scan_is_refused_before_sampling(
    generator, model_dir, body, said, tmp_path, capsys
):
    """Every tune continuing it came out invalid (exit 1), with no word on the prompt."""
    from modeling_irish.cli import main

    prompt = f"X:1\nM:6/8\nL:1/8\nK:G\n{body}"
    with pytest.raises(ValueError, match=re.escape(f"the prompt does not scan in 6/8: {said}")):
        generator.generate(2, prompt=prompt, seed=0)
    (tmp_path / "prompt.abc").write_text(prompt, encoding="utf-8")
    assert main(["generate", "--model", model_dir, "--prompt", str(tmp_path / "prompt.abc")]) == 2
    assert f"the prompt does not scan in 6/8: {said}" in capsys.readouterr().err
    (tune,) = generator.generate(1, prompt=prompt, seed=0, constrained=False, max_rows=60)
    assert tune.abc  # unconstrained sampling takes it as it is
    for ok in ("|:GAG GAB|ABA AB", "GAG GAB|ABA ABd:|", "|:GAG GAB|1ABA ABd:|2ABA"):
        generator.generate(1, prompt=f"X:1\nM:6/8\nL:1/8\nK:G\n{ok}", seed=0, num_bars=4)


def test_a_prompt_pickup_whose_complement_no_note_lengths_fill_is_refused(generator):
    """A first bar of 16/3 eighths in 3/4 needs a last bar of 2/3, which no note length of the
    model fills: sampling ran 94 rows, then failed with "no token fits the bar"."""
    said = "the prompt opens with a pickup of 16/3 eighths: its tune must close on a bar of 2/3"
    with pytest.raises(ValueError, match=re.escape(said)):
        generator.generate(1, prompt="X:1\nM:3/4\nL:1/8\nK:D\n|(3A/2B/2c d2 e2|", seed=0)
    (tune,) = generator.generate(1, prompt="X:1\nM:3/4\nL:1/8\nK:D\n|d2 e2|", num_bars=4)
    assert tune.valid, tune.errors  # a pickup the note lengths complete is continued


@pytest.mark.parametrize(
    "body, said",
    [
        # sampling failed after the prompt: "no token fits the bar and repeat grammar"
        ("|d2 e2 (3A/B/c", "leaves bar 1 open after 16/3 eighths: no note lengths of the model "
         "fill the 2/3 eighths left of it (a bar of 6 in 3/4)"),
        # it drew a tie, then a tied note with no length: AttributeError in the tracker
        ("d2 e2 f2|d2 (3A/B/c e2", "leaves bar 2 open after 16/3 eighths"),
        ("|d2 (3A/B/c e2-", "leaves bar 1 open after 16/3 eighths"),
    ],
)  # fmt: skip
def test_a_prompt_whose_open_bar_no_note_lengths_complete_is_refused(generator, body, said):
    prompt = f"X:1\nM:3/4\nL:1/8\nK:D\n{body}"
    with pytest.raises(ValueError, match=re.escape(f"the prompt {said}")):
        generator.generate(1, prompt=prompt, seed=0, num_bars=4)
    (tune,) = generator.generate(1, prompt="X:1\nM:3/4\nL:1/8\nK:D\n|d2 (3ABc", num_bars=4)
    assert tune.valid, tune.errors  # a tuplet the note lengths complete the bar after


def test_a_prompt_tied_into_a_bar_line_that_a_tie_cannot_cross_is_refused(generator):
    """A second bar of a first ending closes with ':|2', which no tie crosses: sampling failed
    after the prompt ("no token fits the bar and repeat grammar after 22 rows")."""
    prompt = "X:1\nM:6/8\nL:1/8\nK:D\n|:GAG GAB|1ABA ABd|ABA ABd-"
    said = "the prompt ends bar 3 with a tie, but only ':|2' may close that bar, and a tie crosses"
    with pytest.raises(ValueError, match=re.escape(said)):
        generator.generate(1, prompt=prompt, seed=0, num_bars=4)


@pytest.mark.parametrize(
    "body, named",
    [
        ("A2|:ABcd efga|ABcd efg:|", False),  # ':|' goes back to a full bar
        ("|:ABcd efga|ABcd efga||", False),  # unbalanced '||'
        ("|:ABcd efga|1,3 ABcd efga:|", False),  # unsupported bar '|1,3'
        ("ABcd efga|ABc|d", True),  # a short bar: check --bars names it
        ("ABcd efga|ABcd efgab", True),  # an open bar already too long
    ],
)
def test_a_refused_prompt_points_to_check_bars_only_where_check_names_a_bar(body, named, tmp_path):
    """Every refusal ended "(irish-tune check --bars names its bars)", though check --bars
    passes prompts refused for their repeats or endings."""
    from modeling_irish.cli import main
    from modeling_irish.generation_args import check_prompt_scans
    from tokenization.abc_parser import parse_abc

    prompt = f"X:1\nM:4/4\nL:1/8\nK:D\n{body}\n"
    with pytest.raises(ValueError, match="the prompt does not scan in 4/4") as refused:
        check_prompt_scans(parse_abc(prompt).tokens, "4/4")
    assert ("(irish-tune check --bars names its bars)" in str(refused.value)) is named
    (tmp_path / "p.abc").write_text(prompt, encoding="utf-8")
    assert (main(["check", "--bars", str(tmp_path / "p.abc")]) != 0) is named


@pytest.mark.parametrize(
    "body, lasts", [("GAG GAB|ABA AB|", "5 of 6"), ("A|dfa agf|AB|", "2 of 6")]
)
def test_a_prompt_ending_on_a_closed_short_bar_is_told_so(model_dir, body, lasts, tmp_path, capsys):
    """It was said not to scan, with ``irish-tune check --bars`` named to find the bar, yet
    check passes it: a tune may end on a short bar, only nothing can follow one."""
    from modeling_irish.cli import main

    (tmp_path / "p1.abc").write_text(f"X:1\nT:p\nM:6/8\nL:1/8\nK:G\n{body}\n", encoding="utf-8")
    assert main(["generate", "--model", model_dir, "--prompt", str(tmp_path / "p1.abc")]) == 2
    err = capsys.readouterr().err
    assert (
        f"the prompt's last bar is closed after {lasts} eighths; a continuation cannot follow a "
        "closed short bar: end the prompt without the bar line, or complete the bar"
    ) in err
    assert "check --bars" not in err and "does not scan" not in err
    assert main(["check", "--bars", str(tmp_path / "p1.abc")]) == 0  # as check says


@pytest.mark.parametrize(
    "body, said",
    [
        ("[DF]2-[DF] d2A|", "the prompt ties a chord ([DF]2-[DF]): a tie after a chord is not"),
        ("D-[DF] d2A|", "the prompt cannot be continued: tie to a different pitch"),
        # a bar line inside a tuplet began like a bar's problem ("bar ...")
        ("GAG GAB|(3AB|c d2 e2|", "the prompt cannot be continued: bar inside a tuplet"),
    ],
)
def test_a_prompt_tie_the_grammar_refuses_is_named_not_said_not_to_scan(generator, body, said):
    """It said 'the prompt does not scan in 6/8: tie after chord_end', yet its bars fit."""
    with pytest.raises(ValueError, match=re.escape(said)) as refused:
        generator.generate(1, prompt=f"X:1\nM:6/8\nL:1/8\nK:D\n{body}", seed=0)
    assert "scan" not in str(refused.value)


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


def test_a_prompt_in_another_meter_is_refused(generator):
    prompt = "X:1\nM:6/8\nL:1/8\nK:D\nABc def|"
    with pytest.raises(ValueError, match="the prompt is in 6/8"):
        generator.generate(1, prompt=prompt, meter="4/4")


@pytest.mark.parametrize("meter_line", ["", "M:none\n"])
def test_a_prompt_without_a_meter_needs_one_given(generator, meter_line):
    """No M: (or free meter): there is no bar to fill, and sampling in 4/4 made every tune of a
    6/8 prompt invalid; the meter given is used."""
    prompt = f"X:1\n{meter_line}L:1/8\nK:G\nGAG GAB|ABA ABd|"
    said = r"the prompt has no meter .* give meter= \(--meter on the command line\)"
    with pytest.raises(ValueError, match=said):
        generator.generate(1, prompt=prompt, seed=0, num_bars=2)
    (tune,) = generator.generate(1, prompt=prompt, meter="6/8", seed=0, num_bars=3)
    assert tune.meter == "6/8" and tune.valid


def test_a_continued_prompt_stays_in_the_octave_it_was_typed(generator):
    from tokenization.abc_parser import parse_abc

    prompt = "X:1\nT:t\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|"
    typed = [t.pitch for t in parse_abc(prompt).tokens if t.kind == "note"]
    for tune in generator.generate(16, prompt=prompt, seed=1):
        notes = [t.pitch for t in parse_abc(tune.abc).tokens if t.kind == "note"]
        assert notes[: len(typed)] == typed


def test_a_prompt_too_long_for_the_default_row_cap_is_not_told_to_leave_the_default(generator):
    prompt = "X:1\nM:6/8\nL:1/8\nK:G\n|:" + "GAG GAB|" * 100
    with pytest.raises(
        ValueError, match=r"max_rows=600 is too small .* after the prompt's \d+ rows: [^,]*\)$"
    ):
        generator.generate(1, prompt=prompt)
    with pytest.raises(ValueError, match=r"give at least 38 .*, or leave the default 600$"):
        generator.generate(1, rhythm="jig", max_rows=20)


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


def test_a_prompt_in_a_meter_other_than_n_over_a_power_of_two_is_refused(generator):
    with pytest.raises(ValueError, match=r"the prompt's M:3/3: '3/3' is not a meter"):
        generator.generate(1, prompt="X:1\nM:3/3\nL:1/8\nK:D\nABc|", num_bars=2)


@pytest.mark.parametrize("change, said", [("[M:6/8]", "M:6/8"), ("\nM:none\n", "M:none")])
def test_a_prompt_that_changes_meter_is_refused(generator, change, said):
    # the change was dropped: the 6/8 bar was continued as a bar of 4/4, every tune invalid
    prompt = f"X:1\nM:4/4\nL:1/8\nK:D\nd2fd AdfA|{change}dfa afd|"
    expected = f"the prompt changes meter from M:4/4 to {said} before its note or bar 9: "
    with pytest.raises(ValueError, match=re.escape(expected)):
        generator.generate(1, prompt=prompt, num_bars=4)
    # a meter field that repeats the meter is no change
    same = "X:1\nM:4/4\nL:1/8\nK:D\nd2fd AdfA|[M:4/4]dfaf afdA|"
    (tune,) = generator.generate(1, prompt=same, num_bars=4)
    assert tune.valid, tune.errors


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


@pytest.mark.parametrize(
    "end, said",
    [
        ("AdfA-:|", "the prompt ends in a tie over a ':|' bar line: a tie never crosses"),
        ("AdfA-||", "the prompt ends in a tie over a '||' bar line"),
        ("Adf[Ad]-|", "the prompt ends in a tied chord"),
        ("Adf[A-d-]|", "the prompt ends in a tied chord"),
    ],
)
def test_a_prompt_ending_in_a_tie_that_cannot_go_on_is_refused(generator, end, said):
    with pytest.raises(ValueError, match=re.escape(said)):
        generator.generate(1, prompt=f"X:1\nM:4/4\nL:1/8\nK:D\nd2fd {end}", num_bars=4)


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
    "body, said",
    [
        ("DFAd fdAF|\n\nGBdg fdAF|\n", "1 line(s) after the blank line 7 not read"),
        ("V:1\nDFAd fdAF|\nV:2\nGBdg fdAF|\n", "voice V:2 dropped"),
        ("DFAd fdAF & GBdg fdAF|\n", "voice overlay (&) read as its first voice"),
        ("DFAd fdA-G|\n", "1 ties between notes of different pitches dropped"),
    ],
)
def test_what_the_reader_leaves_out_of_a_prompt_is_said(generator, body, said, caplog):
    """The bar after a blank line (or a second voice) was dropped without a word."""
    prompt = f"X:1\nT:B\nM:4/4\nL:1/8\nK:D\n{body}"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        generator.generate(1, prompt=prompt, seed=0, num_bars=2)
    assert f"the prompt was not read exactly as written: {said}" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        generator.generate(1, prompt="X:1\nM:4/4\nL:1/8\nK:D\nDFAd fdAF|", seed=0, num_bars=2)
    assert "not read exactly" not in caplog.text


def test_what_the_tunes_leave_out_of_a_prompt_is_said_in_one_warning(generator, caplog):
    """Chord symbols, ornaments, grace notes and the C: and Q: fields vanished without a word."""
    body = '"D"A2 ~B2 {g}c2 !roll!d2|"G"efga T.b4|'
    prompt = f"X:1\nT:D\nC:Trad\nQ:1/4=100\nR:reel\nM:4/4\nL:1/8\nK:D\n{body}"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        (tune,) = generator.generate(1, prompt=prompt, seed=0, num_bars=4)
    said = [r.getMessage() for r in caplog.records if "are not kept" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(
        "the prompt's 2 chord symbol(s) or annotation(s), 4 decoration(s), 1 grace note "
        "group(s), header field(s) C:, Q: are not kept"
    )
    assert "C:Trad" not in tune.abc and "!roll!" not in tune.abc  # as it says
    caplog.clear()  # a field alone: it read "the prompt's the header field(s) S: are not kept"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        generator.generate(1, prompt="X:1\nT:D\nS:thesession\nM:4/4\nL:1/8\nK:D\nA2B2 c2d2|")
    said = [r.getMessage() for r in caplog.records if "are not kept" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("the prompt's header field(s) S: are not kept:")
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        generator.generate(1, prompt="X:1\nT:D\nM:4/4\nL:1/8\nK:D\n(3ABc d2 [DF]2 A-A|")
    assert "not kept" not in caplog.text  # notes, tuplets, chords and ties are kept


def test_a_prompts_alternative_titles_are_not_given_to_the_tunes_and_that_is_said(
    generator, caplog
):
    """The writer writes every title of a tune now; a continued tune is a new tune, so it keeps
    one title (the prompt's first, continued), and the names left out are said."""
    prompt = "X:1\nT:The Silver Spear\nT:An Sleá Airgid\nR:reel\nR:Reel\nM:4/4\nL:1/8\nK:D\n"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        (tune,) = generator.generate(1, prompt=prompt + "A2B2 c2d2|", seed=0, num_bars=2)
    said = [r.getMessage() for r in caplog.records if "are not kept" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(
        "the prompt's 1 alternative title(s) (T:), 1 further rhythm(s) (R:) are not kept"
    )
    header = [line for line in tune.abc.splitlines() if line[:2] in ("T:", "R:")]
    assert header == ["T:The Silver Spear, continued 1", "R:reel"]


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


@pytest.mark.parametrize(
    "body",
    [
        "|:GAG GAB|1ABA ABd:|GAG GAB|",
        "|:GAG GAB|1ABA ABd||",
        "|:GAG GAB|1ABA ABd|2ABA AGF|",  # no ':|': continued, marked valid, played through
    ],
)
def test_a_first_ending_left_open_in_a_prompt_is_said_so(generator, body):
    """The hint said a '|:' was missing, which it is not. A ``|2`` with no ``:|`` before it
    was taken for a jump back, though abc2midi refuses it and the player plays both endings
    through."""
    said = "(inside a first ending '|1': close it with ':|2', or ':| |2', and the second ending"
    with pytest.raises(ValueError, match=re.escape(said)) as refused:
        generator.generate(1, prompt=f"X:1\nM:6/8\nL:1/8\nK:G\n{body}", seed=0)
    assert "needs its '|:'" not in str(refused.value)


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


def test_a_prompt_at_positions_outside_the_vocabulary_is_said(generator, caplog):
    """A bar offset no training tune reached (1/2 eighth: D/ starts the bar) was fed to the
    model as <unk> without a word; the prompt's tokens are all known, so it is continued."""
    prompt = "X:1\nT:p\nR:reel\nM:4/4\nL:1/8\nK:D\nD/E/F/G/A/B/c/d/ A4|"
    assert "1/2" not in generator.tokenizer.abc_vocab.values["m_offset"]
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        (tune,) = generator.generate(1, prompt=prompt, seed=0, num_bars=4)
    assert tune.valid, tune.errors
    assert [r.getMessage() for r in caplog.records] == [
        "the prompt holds positions the model's tokenizer has never seen: m_offset 1/2 (1 row); "
        "the model reads them as <unk>, so the tunes may not follow the prompt"
    ]


def test_a_continued_prompt_is_titled_after_its_header_title_not_a_section_title():
    # a T: after K: titles a section (ABC 2.1), and the tune only when the header has none
    from modeling_irish.generation_request import resolve_request

    body = "GAG GAB|ABA ABd|"
    section = resolve_request(None, None, None, None, None, f"X:1\nM:6/8\nK:G\nT:Part A\n{body}")
    titled = resolve_request(None, None, None, None, None, f"X:1\nT:K\nM:6/8\nK:G\nT:A\n{body}")
    assert (section.prompt_title, titled.prompt_title) == ("Part A", "K")


def test_a_prompts_section_titles_left_out_are_said(caplog):
    """A prompt's ``T:Part B`` after ``K:`` was counted as an alternative title; a section title
    now (`AbcTune.section_titles`), not in ``fields``, it was left out without a word."""
    from modeling_irish.generation_request import _warn_dropped_markings
    from tokenization.abc_parser import parse_abc

    prompt = parse_abc("X:1\nT:Reel\nM:4/4\nL:1/8\nK:D\nT:Part A\nA2B2 c2d2|\nT:Part B\ndcBA|")
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        _warn_dropped_markings(prompt)
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.startswith("the prompt's 2 section title(s) (T: after K:) are not kept:")


def test_a_prompt_given_as_text_keeps_its_lines_and_one_cut_from_a_file_takes_its_offset(caplog):
    """`generate(prompt_line_offset=)` moves the lines of the prompt's warnings to those of the
    file it was cut from (`irish-tune generate --prompt FILE`); a prompt string keeps its own,
    and an offset that is no line count is refused by name."""
    from modeling_irish.generation_request import resolve_request

    prompt = "X:1\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|\nW:words\n"
    for offset, line in ((0, 6), (10, 16)):
        caplog.clear()
        with caplog.at_level("WARNING", logger="modeling_irish.generation"):
            resolve_request(None, None, None, None, None, prompt, offset)
        assert f"W: field (words) in the body not read: dropped (line {line})" in caplog.text
    for bad, error in ((-1, "at least 0"), (1.5, "a whole number"), (True, "a whole number")):
        with pytest.raises((TypeError, ValueError), match=f"prompt_line_offset must be {error}"):
            resolve_request(None, None, None, None, None, prompt, bad)


def test_a_polka_prompt_without_l_is_refused_with_the_unit_it_was_read_in(generator):
    # ABC reads M:2/4 without L: in sixteenths: eighth notes make bars of half their length
    prompt = "X:1\nT:p\nM:2/4\nK:D\nA>B AF|ED B,2|"
    with pytest.raises(ValueError) as refused:
        generator.generate(1, prompt=prompt, seed=0, num_bars=4)
    message = str(refused.value)
    assert message.startswith("the prompt's last bar is closed after 2 of 4 eighths")
    assert message.endswith(
        " (the prompt has no L: line, so its unit is 1/16, as ABC reads M:2/4 without one: add "
        "L:1/8 if its notes are eighths)"
    )
    (tune,) = generator.generate(1, prompt=prompt.replace("K:D", "L:1/8\nK:D"), seed=0)
    assert tune.valid, tune.errors


def test_a_prompt_with_its_l_gets_no_unit_hint(generator):
    with pytest.raises(ValueError) as refused:
        generator.generate(1, prompt="X:1\nM:2/4\nL:1/16\nK:D\nA>B AF|ED B,2|", seed=0)
    assert "L: line" not in str(refused.value)


@pytest.mark.parametrize("written", ["%%MIDI", "I:MIDI"])
def test_a_prompts_i_midi_field_is_said_as_its_midi_directive(caplog, written):
    """ABC 2.1 §11: ``I:MIDI program 20`` is ``%%MIDI program 20``; the field was said as a
    header field ``I:``, the directive by its kind."""
    from modeling_irish.generation_request import _warn_dropped_markings
    from tokenization.abc_parser import parse_abc

    text = f"X:1\nT:Reel\n{written} program 20\nI:linebreak $\nL:1/8\nK:D\n{written} drone\nA2B2|"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        _warn_dropped_markings(parse_abc(text), text)
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.startswith(
        "the prompt's header field(s) I:, 2 %%MIDI directive(s) (program, drone) are not kept:"
    ), said


def test_a_prompts_inline_midi_program_is_said_as_its_line_forms_are(caplog):
    """An inline ``[I:MIDI program 3]`` among the prompt's notes, which the continued tunes
    leave out too, was not counted (the line forms were); the reader no longer says it
    dropped (render plays it), so nothing said it."""
    from modeling_irish.generation_request import _warn_dropped_markings
    from tokenization.abc_parser import parse_abc

    text = "X:1\nT:Reel\nL:1/8\nK:D\nA2 [I:MIDI program 3] B2|"
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        _warn_dropped_markings(parse_abc(text), text)
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.startswith("the prompt's 1 %%MIDI directive(s) (program) are not kept:"), said
