"""What TuneGenerator says about a prompt: a transposed key, and the parts the reader or the
tunes leave out (titles, fields, MIDI directives, positions, an open first ending)."""

from __future__ import annotations

import re

import pytest
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)


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


def test_a_prompt_whose_first_bar_is_longer_than_half_a_bar_is_said_read_as_a_pickup(
    generator, caplog
):
    """``|:GAG GA|ABA ABd|`` (a jig's first bar with a note left out) was read as a pickup of 5
    eighths without a word, and every tune closed on a bar of 1. A short first bar of more
    than half a bar is said, named as typed; the usual pickup (``D|``, ``GA|``) is not."""
    said = (
        "the prompt's first bar, 'GAGGA', lasts 5 of the 6 eighths of 6/8: it is read as a pickup"
    )
    for body in ("|:GAG GA|ABA ABd|", "GAG GA|ABA ABd|"):
        caplog.clear()
        with caplog.at_level("WARNING", logger="modeling_irish.generation"):
            generator.generate(1, prompt=f"X:1\nM:6/8\nL:1/8\nK:G\n{body}", seed=0, num_bars=4)
        assert caplog.text.count(said) == 1, (body, caplog.text)
        assert "each tune closes on a bar of 1" in caplog.text
    for body in ("D|GAG GAB|", "|:GA|BAG GAB|", "|:GAG GAB|ABA ABd|"):
        caplog.clear()
        with caplog.at_level("WARNING", logger="modeling_irish.generation"):
            generator.generate(1, prompt=f"X:1\nM:6/8\nL:1/8\nK:G\n{body}", seed=0, num_bars=4)
        assert "first bar" not in caplog.text, (body, caplog.text)
