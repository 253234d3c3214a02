"""The generation commands: `irish-tune generate` (its arguments, help, exit status and prompt)
and `render`, on the tiny model of `tests/helpers.py` (the output folder's files are
test_generation_cli_files.py's, `evaluate-generation` test_generation_cli_evaluate.py's)."""

from __future__ import annotations

import re

import pytest
from helpers import (  # noqa: F401 (fixtures)
    generation_generator,
    generation_model_dir,
    one_torch_thread,
    stderr_said,
    warnings_of,
)


def test_cli_generate_render_and_evaluate(generator, tmp_path, capsys):
    import argparse
    import json

    from modeling_irish.generation_cli import (
        add_evaluate_generation_args,
        add_generate_args,
        add_render_args,
        run_evaluate_generation,
        run_generate,
        run_render,
    )

    model_dir = tmp_path / "model"
    generator.model.save_pretrained(model_dir)
    generator.tokenizer.save_pretrained(model_dir)

    def parse(add, argv):
        parser = argparse.ArgumentParser()
        add(parser)
        return parser.parse_args(argv)

    out = tmp_path / "out"
    argv = ["--model", str(model_dir), "--rhythm", "jig", "--key", "A", "--num-tunes", "2"]
    assert (
        run_generate(parse(add_generate_args, [*argv, "--num-bars", "4", "--out", str(out)])) == 0
    )
    abc = (out / "tune_1.abc").read_text(encoding="utf-8")
    assert "K:A" in abc and "M:6/8" in abc
    assert (
        run_render(
            parse(
                add_render_args, [str(out / "tune_1.abc"), "--out", str(out), "--formats", "midi"]
            )
        )
        == 0
    )
    assert (out / "tune_1.mid").stat().st_size > 0
    capsys.readouterr()
    evaluate = parse(add_evaluate_generation_args, [*argv, "--num-bars", "4", "--json"])
    assert run_evaluate_generation(evaluate) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["validity_rate"] == 1.0 and metrics["reread_ours_rate"] == 1.0


@pytest.mark.parametrize("meter", ["0/8", "7/x", "6/7", "4/0", "4/128", "reel"])
def test_cli_meter_is_checked_when_the_arguments_are_read(meter, capsys):
    from modeling_irish.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--model", "unused", "--meter", meter])
    assert exit_info.value.code == 2
    assert f"argument --meter: {meter!r} is not a meter" in capsys.readouterr().err


def test_cli_meter_keeps_the_unseen_header_warning(model_dir, caplog, capsys):
    from modeling_irish.cli import main

    argv = ["generate", "--model", model_dir, "--meter", "7/8", "--num-tunes", "1"]
    with caplog.at_level("WARNING", logger="modeling_irish.generation"):
        assert main([*argv, "--num-bars", "2"]) == 0
    assert "never seen meter='7/8'" in caplog.text
    assert "M:7/8" in capsys.readouterr().out


@pytest.mark.parametrize("meter", ["C|", "C"])
def test_cli_meter_writes_the_symbol_asked_for(model_dir, meter, capsys):
    """``--meter 'C|'`` was written ``M:2/2`` (and ``--meter C`` ``M:4/4``)."""
    from modeling_irish.cli import main

    argv = ["generate", "--model", model_dir, "--meter", meter, "--num-tunes", "1"]
    assert main([*argv, "--num-bars", "2"]) == 0
    assert f"\nM:{meter}\n" in capsys.readouterr().out


@pytest.mark.parametrize("key", ["C exp _B _e ^f", "D ^g", "none", "D bass"])
def test_cli_a_key_with_more_than_a_tonic_and_mode_is_refused(model_dir, capsys, key):
    """The accidentals (or the clef, or none) were dropped without a word: K:C, K:D."""
    from modeling_irish.cli import main

    assert main(["generate", "--model", model_dir, "--key", key, "--num-bars", "2"]) == 2
    err = capsys.readouterr().err
    assert f"key {key!r} is not a key name: give a tonic and an optional mode" in err
    assert len(err.strip().splitlines()) == 1


def test_a_key_name_is_read_with_its_mode():
    from modeling_irish.generation_request import check_key

    names = [check_key(k).name for k in ("D", "Bb", " E dorian ", "F#m", "Gmix", "EM")]
    assert names == ["D major", "Bb major", "E dorian", "F# minor", "G mixolydian", "E minor"]


def test_cli_says_which_tunes_are_invalid_and_exits_1(model_dir, tmp_path, capsys, caplog):
    from modeling_irish.cli import main

    # unconstrained, the random model breaks the bar grammar in most tunes
    argv = ["generate", "--model", str(model_dir), "--num-tunes", "4", "--unconstrained"]
    assert main(argv) == 1  # was 0: a script could not tell
    captured = capsys.readouterr()
    assert "X:1" in captured.out and "X:4" in captured.out  # printed all the same
    assert "INVALID:" in "\n".join(warnings_of(caplog, "modeling_irish.generation_cli"))
    out = tmp_path / "out"
    caplog.clear()
    assert main([*argv, "--out", str(out)]) == 1
    # the reasons on stderr, as the docstring says (stdout had them)
    printed = capsys.readouterr().out
    assert f"{out / 'tune_1.abc'}  " in printed and "INVALID:" not in printed
    said = stderr_said(capsys, caplog)
    assert re.search(r"irish-tune generate: tune \d \(.*tune_\d\.abc\) INVALID: ", said)
    assert (out / "tune_4.abc").exists()
    # constrained, every tune is valid: 0
    caplog.clear()
    assert main(["generate", "--model", str(model_dir), "--num-tunes", "4"]) == 0
    assert "INVALID" not in stderr_said(capsys, caplog)


def test_the_exit_status_is_in_the_generate_help(capsys):
    from modeling_irish.cli import main

    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    assert "exit status: 0 every tune is valid (and rendered) 1 a tune is invalid" in " ".join(
        capsys.readouterr().out.split()
    )


def test_the_generate_help_says_a_tune_may_end_before_num_bars(generator, capsys):
    """--num-bars said only that the tune is steered to close after that many bars and that
    closing may add some; yet the model may end it from its 4th bar (`DEFAULT_MIN_BARS`)."""
    from modeling_irish.cli import main
    from tokenization.abc_parser import parse_abc
    from tokenization.bar_check import bars_of

    tunes = generator.generate(8, rhythm="reel", num_bars=16, seed=0)
    assert min(len(bars_of(parse_abc(t.abc))) for t in tunes) < 16  # a random model ends soon
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "may end a tune sooner, from its 4th bar" in said


def _bar_counts(abc_texts: str) -> list[int]:
    """The written bars of each tune printed by ``generate``, as the project's reader counts
    them (`bars_of`; a tune of the tiny model opens without a pickup)."""
    from tokenization.abc_parser import parse_abc
    from tokenization.bar_check import bars_of

    tunes = ["X:" + text for text in abc_texts.split("X:") if text.strip()]
    return [len(bars_of(parse_abc(tune))) for tune in tunes]


@pytest.mark.parametrize("command", ["generate", "evaluate-generation"])
def test_cli_min_bars_reaches_the_generator(command, model_dir, monkeypatch, capsys):
    """--min-bars is the API's ``min_bars`` (there was no flag: a tune could end from its 4th
    bar, whatever --num-bars asked); left out, the API's default (None)."""
    from modeling_irish.cli import main
    from modeling_irish.generation import TuneGenerator

    asked: list[object] = []
    generate = TuneGenerator.generate

    def spy(self, *args, **kwargs):
        asked.append(kwargs.get("min_bars"))
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(TuneGenerator, "generate", spy)
    argv = [command, "--model", model_dir, "--num-tunes", "1", "--num-bars", "6"]
    assert main([*argv, "--min-bars", "5"]) == 0
    assert main(argv) == 0
    assert asked == [5, None]


def test_cli_min_bars_equal_to_num_bars_gives_that_many_bars(model_dir, capsys):
    """A random tiny model ends some tunes soon after the 4th bar; ``--min-bars 8`` with
    ``--num-bars 8`` keeps each going to its 8th bar, then closes it: 8 bars, or up to two
    more where closing needs them (the end of a repeat, a second ending)."""
    from modeling_irish.cli import main

    argv = ["generate", "--model", model_dir, "--rhythm", "reel", "--num-tunes", "8"]
    assert main([*argv, "--num-bars", "8"]) == 0
    assert min(_bar_counts(capsys.readouterr().out)) < 8  # without it, sooner
    assert main([*argv, "--num-bars", "8", "--min-bars", "8"]) == 0
    counts = _bar_counts(capsys.readouterr().out)
    assert len(counts) == 8 and all(8 <= n <= 10 for n in counts), counts
    assert 8 in counts


@pytest.mark.parametrize("command", ["generate", "evaluate-generation"])
@pytest.mark.parametrize(
    ("values", "said"),
    [
        (["--num-bars", "32", "--min-bars", "40"], "--min-bars 40 is more than --num-bars 32"),
        (["--min-bars", "-1"], "argument --min-bars: must be >= 0, got -1"),
        (["--min-bars", "many"], "argument --min-bars:"),
    ],
)
def test_cli_min_bars_is_checked_when_the_arguments_are_read(command, values, said, capsys):
    from modeling_irish.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([command, "--model", "unused", *values])
    assert exit_info.value.code == 2
    assert said in " ".join(capsys.readouterr().err.split())


def test_only_the_generate_help_speaks_of_the_prompt(capsys):
    """evaluate-generation has no --prompt, yet its help gave defaults from "the prompt's R:";
    and --no-readers said "music21/abc2midi" though it drops reread_ours_rate too."""
    from modeling_irish.cli import main

    def help_of(command: str) -> str:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        return " ".join(capsys.readouterr().out.split())

    generate, evaluate = help_of("generate"), help_of("evaluate-generation")
    assert "the prompt's R:" in generate and "after the prompt" in generate
    assert "prompt" not in evaluate
    assert "default: that of --meter, else reel)" in evaluate
    assert "skip the re-reading checks (our reader, music21, abc2midi)" in evaluate
    # the key a run writes in without --key: the help said none
    assert "or none; default: the prompt's, else D major)" in generate
    assert "or none; default: D major)" in evaluate


def test_generate_names_five_invalid_tunes_then_counts_them(tmp_path, capsys, caplog, monkeypatch):
    """Many invalid tunes (--unconstrained, a large --num-tunes) gave one stderr line each: the
    first five are named, then one line counts all twelve by reason; every tune is still
    printed, and the exit status is still 1."""
    from types import SimpleNamespace

    import modeling_irish.generation_cli as generation_cli
    from modeling_irish.cli import main

    def tune(n: int) -> SimpleNamespace:
        errors = [f"bar {n}: 7 of 8 eighths"] if n % 3 else ["cut at the row limit"]
        return SimpleNamespace(abc=f"X:{n}\n", engraved_abc="", valid=False, errors=errors)

    monkeypatch.setattr(generation_cli, "load_generator", lambda model: None)
    monkeypatch.setattr(generation_cli, "_sample_all", lambda *a: [tune(n) for n in range(1, 13)])
    assert main(["generate", "--model", str(tmp_path), "--num-tunes", "12"]) == 1
    assert capsys.readouterr().out.split() == [f"X:{n}" for n in range(1, 13)]
    assert warnings_of(caplog, "modeling_irish.generation_cli") == [
        f"irish-tune generate: tune {n} INVALID: {tune(n).errors[0]}" for n in range(1, 6)
    ] + [
        "... and 7 more invalid tunes (not shown); 12 in all, by reason: {'bar N: N of N "
        "eighths': 8, 'cut at the row limit': 4}"
    ]
