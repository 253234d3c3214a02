"""TuneGenerator's prompts refused before sampling: when they do not scan, change meter, are in
another mode, hold what the vocabulary lacks, or end where no note can go on."""

from __future__ import annotations

import re

import pytest
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)


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


def test_a_prompt_too_long_for_the_default_row_cap_is_not_told_to_leave_the_default(generator):
    prompt = "X:1\nM:6/8\nL:1/8\nK:G\n|:" + "GAG GAB|" * 100
    with pytest.raises(
        ValueError, match=r"max_rows=600 is too small .* after the prompt's \d+ rows: [^,]*\)$"
    ):
        generator.generate(1, prompt=prompt)
    with pytest.raises(ValueError, match=r"give at least 38 .*, or leave the default 600$"):
        generator.generate(1, rhythm="jig", max_rows=20)


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
