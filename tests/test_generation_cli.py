"""The generation commands: `irish-tune generate` (its output folder, prompt file, exit status
and batches), `render` and `evaluate-generation`, on the tiny model of `tests/helpers.py`."""

from __future__ import annotations

import json
import re

import pytest
from helpers import GENERATION_TRAIN as TRAIN
from helpers import (  # noqa: F401 (fixtures)
    fill_disk_on,
    generation_generator,
    generation_model_dir,
    one_torch_thread,
    stderr_said,
    strict_loads,
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


def test_cli_generate_checks_render_and_out_before_sampling(tmp_path, capsys):
    from modeling_irish.cli import main

    out = tmp_path / "out"
    # "missing" is no model folder: each refusal comes before the model is loaded.
    with pytest.raises(SystemExit) as exit_info:  # a usage error, with the usage line
        main(["generate", "--model", "missing", "--render", "svg"])
    assert exit_info.value.code == 2
    assert "irish-tune generate: error: --render needs --out" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--model", "missing", "--out", str(out), "--render", "pdf"])
    assert exit_info.value.code == 2
    assert "argument --render: unknown format 'pdf'" in capsys.readouterr().err
    assert not out.exists()
    a_file = tmp_path / "a_file"
    a_file.write_text("", encoding="utf-8")
    assert main(["generate", "--model", "missing", "--out", str(a_file)]) == 2
    assert f"--out {a_file} is a file, not a folder" in capsys.readouterr().err
    argv = ["generate", "--model", "missing", "--out", str(out), "--render", "wav"]
    assert main([*argv, "--soundfont", str(tmp_path / "missing.sf2")]) == 2
    assert "--soundfont" in capsys.readouterr().err and not out.exists()  # no empty folder left
    # refused once the folder was made (a missing model, a meter it cannot fill): removed again
    assert main(["generate", "--model", "missing", "--out", str(out)]) == 2
    assert "missing" in capsys.readouterr().err and not out.exists()
    kept = tmp_path / "kept"
    kept.mkdir()  # a folder the user made is left as it was
    assert main(["generate", "--model", "missing", "--out", str(kept)]) == 2
    assert kept.is_dir()


def test_cli_generate_and_render_refuse_a_read_only_out_folder_first(tmp_path, monkeypatch, capsys):
    """An existing --out folder that cannot be written was found out after the sampling or
    rendering (``Permission denied``), not before."""
    import os

    from modeling_irish import generation_cli
    from modeling_irish.cli import main

    read_only = tmp_path / "ro"
    read_only.mkdir()
    real_access = os.access  # chmod 555 does not stop root: say the folder is read-only
    monkeypatch.setattr(os, "access", lambda p, mode: p != str(read_only) and real_access(p, mode))

    def never(*args, **kwargs):
        raise AssertionError("the model was loaded before --out was checked")

    monkeypatch.setattr(generation_cli, "load_generator", never)
    assert main(["generate", "--model", "missing", "--out", str(read_only)]) == 2
    assert f"--out {read_only}: the folder is not writable" in capsys.readouterr().err
    abc = tmp_path / "t.abc"
    abc.write_text("X:1\nT:t\nM:4/4\nL:1/8\nK:G\nGABc dedB|\n", encoding="utf-8")
    assert main(["render", str(abc), "--out", str(read_only), "--formats", "midi"]) == 2
    assert f"--out {read_only}: the folder is not writable" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, said",
    [
        (["--key", "H#"], "H#"),
        (["--prompt", "PROMPT"], "the prompt does not scan in 6/8"),
        (["--max-rows", "20"], "max_rows=20 is too small"),
    ],
)
def test_cli_a_request_refused_by_the_generator_leaves_no_empty_out_folder(
    model_dir, tmp_path, capsys, extra, said
):
    """The generator's checks ran only once the (lazy) sampling was read, after the folder was
    made: exit 2 and an empty --out left behind."""
    from modeling_irish.cli import main

    prompt = tmp_path / "prompt.abc"
    prompt.write_text("X:1\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA A|d\n", encoding="utf-8")
    out = tmp_path / "out"
    extra = [str(prompt) if arg == "PROMPT" else arg for arg in extra]
    assert main(["generate", "--model", model_dir, "--out", str(out), *extra]) == 2
    assert said in capsys.readouterr().err
    assert not out.exists()


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


def test_cli_generate_counts_a_musicxml_not_made_as_not_rendered(
    model_dir, tmp_path, monkeypatch, capsys, caplog
):
    """A valid tune whose MusicXML music21 cannot export exits 1, as one not rendered as SVG
    does; its ABC and MIDI are written all the same."""
    pytest.importorskip("music21")
    from music21.musicxml import m21ToXml

    from modeling_irish.cli import main

    def refuse(self):
        raise m21ToXml.MusicXMLExportException("cannot export this")

    monkeypatch.setattr(m21ToXml.GeneralObjectExporter, "parse", refuse)
    out = tmp_path / "out"
    argv = ["generate", "--model", model_dir, "--num-tunes", "1", "--num-bars", "4"]
    assert main([*argv, "--out", str(out), "--render", "midi,musicxml"]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["tune_1.abc", "tune_1.mid"]
    err = capsys.readouterr().err + caplog.text
    assert "tune_1.abc: failed musicxml: music21 could not write MusicXML: cannot export" in err
    assert "INVALID" not in err  # the tune itself is valid: the MusicXML alone fails it


def test_cli_evaluate_generation_train_file(model_dir, tmp_path, capsys):
    import json

    from modeling_irish.cli import main

    empty = tmp_path / "empty.abc"
    empty.write_text("", encoding="utf-8")
    argv = ["evaluate-generation", "--model", model_dir, "--json", "--no-readers"]
    assert main([*argv, "--train", str(empty)]) == 2
    assert f"--train {empty} has no readable tunes (empty file)" in capsys.readouterr().err
    latin = tmp_path / "latin.abc"
    latin.write_bytes(TRAIN[1].replace("T:b", "T:Café").encode("latin-1"))
    assert main([*argv, "--train", str(latin), "--num-tunes", "2", "--num-bars", "4"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["num_tunes"] == 2 and isinstance(metrics["num_tunes"], int)
    assert "pitch_class_tv" in metrics
    # the sources the other commands read: a folder, a thesession dump, a music21 book
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.abc").write_text(TRAIN[0], encoding="utf-8")
    dump = tmp_path / "tunes.json"
    row = {"tune_id": 1, "setting_id": 1, "name": "Kesh", "type": "jig", "meter": "6/8",
           "mode": "Gmajor", "abc": "|:GAG GAB|ABA ABd|edd gdd|edB dBA:|"}  # fmt: skip
    dump.write_text(json.dumps([row]), encoding="utf-8")
    for source in (str(folder), str(dump), "oneills1850"):
        more = ["--train", source, "--max-train-tunes", "5", "--num-tunes", "1", "--num-bars", "4"]
        assert main([*argv, *more]) == 0, capsys.readouterr().err
        assert json.loads(capsys.readouterr().out)["num_tunes"] == 1


def test_cli_evaluate_generation_counts_the_train_tunes_it_could_not_read(
    model_dir, tmp_path, capsys
):
    """--train's unreadable tunes were named by the first alone, without why, and the --json
    output did not say how many training tunes the figures compared with, or left out."""
    from modeling_irish.cli import main

    train = tmp_path / "train.abc"
    bad = "".join(f"X:{i}\nT:Bad {i}\nK:G\nA]B|\n\n" for i in (8, 9))
    train.write_text(bad + "\n".join(TRAIN), encoding="utf-8")
    argv = ["evaluate-generation", "--model", model_dir, "--json", "--no-readers"]
    more = ["--train", str(train), "--num-tunes", "1", "--num-bars", "4"]
    assert main([*argv, *more]) == 0
    out, err = capsys.readouterr()
    metrics = json.loads(out)
    assert (metrics["train_tunes"], metrics["train_skipped"]) == (len(TRAIN), 2)
    reason = "by reason: {\"AbcParseError: ']' without a chord\": 2}"
    line = f"irish-tune evaluate-generation: 2 unreadable tunes of {train} left out of the "
    assert f"{line}training side (first: " in err  # prefixed as every line of the CLI
    assert err.rstrip().endswith(reason), err


def test_cli_evaluate_generation_checks_the_request_before_reading_train(
    model_dir, tmp_path, capsys, monkeypatch
):
    """A bad --key or a missing --model was refused only after the whole --train corpus was
    read (25-37 s for thesession's); a missing --train after the model and the sampling."""
    from modeling_irish.cli import main

    train = tmp_path / "train.abc"
    train.write_text("\n".join(TRAIN), encoding="utf-8")
    read = []
    monkeypatch.setattr("modeling_irish.generation_cli._read_corpus", lambda *a: read.append(a))
    argv = ["evaluate-generation", "--train", str(train), "--json", "--no-readers"]
    assert main([*argv, "--model", model_dir, "--key", "H"]) == 2
    assert "key 'H' is not a key name" in capsys.readouterr().err
    assert main([*argv, "--model", str(tmp_path / "missing")]) == 2
    assert "no model folder" in capsys.readouterr().err
    assert read == []
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate-generation", "--model", model_dir, "--train", str(tmp_path / "no.abc")])
    assert exit_info.value.code == 2
    assert f"argument --train: no such file or folder: {tmp_path / 'no.abc'}" in (
        capsys.readouterr().err
    )


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


def test_cli_samples_many_tunes_in_batches(model_dir, tmp_path, capsys):
    from modeling_irish.cli import main

    def run(*extra: str) -> list[str]:
        assert main(["generate", "--model", model_dir, "--num-bars", "4", *extra]) == 0
        return [t for t in capsys.readouterr().out.split("X:") if t.strip()]

    two = run("--num-tunes", "2")
    five = run("--num-tunes", "5", "--batch-size", "2")  # batches of 2, 2 and 1
    assert len(five) == 5 and five[:2] == two  # the first batch keeps the run's seed
    assert five == run("--num-tunes", "5", "--batch-size", "2")  # the same seed, the same tunes
    assert len(set(five)) == 5  # later batches have seeds of their own
    assert [t.split("\n", 1)[0] for t in five] == ["1", "2", "3", "4", "5"]  # X: numbered through
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--model", model_dir, "--num-tunes", "0"])
    assert exit_info.value.code == 2


def test_cli_names_the_files_of_an_earlier_run_it_did_not_replace(model_dir, tmp_path, capsys):
    from modeling_irish.cli import main

    out = tmp_path / "out"
    argv = ["generate", "--model", model_dir, "--num-bars", "4", "--out", str(out)]
    assert main([*argv, "--num-tunes", "5", "--render", "midi"]) == 0
    (out / "tune_2-2.svg").write_text(
        "<svg/>", encoding="utf-8"
    )  # a second SVG page of an earlier run
    (out / "notes.txt").write_text(
        "mine", encoding="utf-8"
    )  # not a name the command writes: never named
    for name in ("tune_1-2.mid", "tune_3-2.abc", "tune_2-1-2.wav"):  # nor these: not an SVG,
        (out / name).write_text(
            "mine", encoding="utf-8"
        )  # so no page number (were named as an earlier run's)
    capsys.readouterr()
    # fewer tunes, no renderings: tune_3..5 and every .mid are an earlier run's (were silent)
    assert main([*argv, "--num-tunes", "2"]) == 0
    err = capsys.readouterr().err
    stale = ["tune_1.mid", "tune_2.mid", "tune_2-2.svg", "tune_3.abc", "tune_3.mid"]
    stale += ["tune_4.abc", "tune_4.mid", "tune_5.abc", "tune_5.mid"]
    said = f"{out} still holds 9 file(s) of an earlier run that this one did not replace: "
    assert said + ", ".join(stale) + " (they are not this run's tunes" in err
    assert all((out / name).exists() for name in [*stale, "notes.txt", "tune_1-2.mid"])  # kept
    (out / "tune_2-2.svg").unlink()
    assert main([*argv, "--num-tunes", "5", "--render", "midi"]) == 0  # replaces every one
    assert "earlier run" not in capsys.readouterr().err


def test_the_generate_help_names_musicxml_among_the_earlier_files_it_names(capsys):
    # --out's help listed tune_N.abc, .mid, .wav and SVG pages as the earlier run's files it
    # names, leaving out the .musicxml that `--render musicxml` writes and that it names too
    import irish_tune

    with pytest.raises(SystemExit):
        irish_tune.main(["generate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "does not replace (tune_N.abc, .mid, .wav, .musicxml, and SVG pages" in help_text


def test_cli_names_an_earlier_runs_svg_pages_by_their_marker(model_dir, tmp_path, capsys):
    # tune_2-2-2.svg and tune_2-1-2.svg, tune_2's pages moved aside from names another tune's
    # pages had, were never named (the name pattern missed them), and tune_1-2.svg, the page of
    # a tune tune_1-2, was named as generate's
    from modeling_irish.cli import main
    from modeling_irish.render_svg import _with_marker

    out = tmp_path / "out"
    out.mkdir()
    pages = {
        "tune_2-1-2.svg": ("tune_2", 1), "tune_2-2-2.svg": ("tune_2", 2),
        "tune_2-3.svg": ("tune_2", 3),
        "tune_1-2.svg": ("tune_1-2", 1), "tune_1-3-2.svg": ("s", 3),  # another stem's pages
    }  # fmt: skip
    for name, (stem, page) in pages.items():
        (out / name).write_text(_with_marker("<svg/>", f"{stem}.svg", page), encoding="utf-8")
    (out / "tune_1-2-2.svg").write_text(
        "<svg/>", encoding="utf-8"
    )  # unmarked: a name no older version gave
    argv = ["generate", "--model", model_dir, "--num-bars", "4", "--num-tunes", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    stale = ["tune_2-1-2.svg", "tune_2-2-2.svg", "tune_2-3.svg"]
    said = f"{out} still holds 3 file(s) of an earlier run that this one did not replace: "
    assert said + ", ".join(stale) + " (they are not this run's tunes" in capsys.readouterr().err


def test_cli_generate_removes_the_further_svg_pages_of_a_tune_it_renders_again(
    model_dir, tmp_path, monkeypatch, capsys
):
    # tune_1-2.svg, page 2 of an earlier rendering of tune_1, stayed (and was warned about as
    # not this run's) beside this run's one-page tune_1.svg
    import importlib.util

    import modeling_irish.render_svg as render_svg
    from modeling_irish.cli import main

    if importlib.util.find_spec("verovio") is None:
        pytest.skip("verovio is not installed")
    monkeypatch.setattr(render_svg._ENGRAVER, "pages", lambda abc: ["<svg>page 1</svg>"])
    out = tmp_path / "out"
    out.mkdir()
    earlier = render_svg._with_marker("<svg>an earlier page 2</svg>", "tune_1.svg", 2)
    (out / "tune_1-2.svg").write_text(earlier, encoding="utf-8")
    argv = ["generate", "--model", model_dir, "--num-bars", "4", "--num-tunes", "1"]
    assert main([*argv, "--out", str(out), "--render", "svg"]) == 0
    said, err = capsys.readouterr()
    assert f"  removed earlier svg pages: {out / 'tune_1-2.svg'}\n" in said
    assert "earlier run" not in err
    assert sorted(p.name for p in out.iterdir()) == ["tune_1.abc", "tune_1.svg"]


def test_cli_a_full_disk_names_the_tune_and_leaves_the_earlier_one(
    model_dir, tmp_path, monkeypatch, capsys
):
    # tune_3.abc was opened "w" in place: an earlier run's was emptied (left 0 bytes, or cut),
    # and the error named no file
    import os

    import modeling_irish.generation_cli as generation_cli
    from modeling_irish.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "tune_3.abc").write_text("X:3 of an earlier run\n", encoding="utf-8")
    fill_disk_on(monkeypatch, generation_cli, "tune_3")
    argv = ["generate", "--model", model_dir, "--num-bars", "4", "--num-tunes", "4"]
    assert main([*argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    said = f"irish-tune generate: {out / 'tune_3.abc'}: No space left on device"
    assert captured.err.strip().endswith(said)
    assert "tune_3" not in captured.out and "tune_2.abc" in captured.out
    assert (out / "tune_3.abc").read_text(encoding="utf-8") == "X:3 of an earlier run\n"
    assert sorted(os.listdir(out)) == ["tune_1.abc", "tune_2.abc", "tune_3.abc"]  # no temporary


def test_cli_generate_writes_lengths_no_note_shows_as_tied_notes(tmp_path, monkeypatch, capsys):
    """The model's vocabulary has 9/4 and 9/2 eighths: `c9/4` was written as it is, which
    abcm2ps refuses ("Note too much dotted"). The files and stdout get `engraved_abc`, tied
    notes; `GeneratedTune.abc`, which `rows` encode, keeps one note a row."""
    from fractions import Fraction

    from modeling_irish import generation_cli
    from modeling_irish.cli import main
    from modeling_irish.generation import GeneratedTune, generated_abc
    from tokenization.abc_parser import Token
    from tokenization.keys import Key

    tokens = [Token("note", "", 72, Fraction(9, 32)), Token("rest", "z", None, Fraction(3, 32))]
    tokens.append(Token("bar", "|]", None, None))
    abc, engraved = generated_abc(tokens, "", key=Key("C", "major"), meter="3/8", title="t")
    assert "c9/4" in abc and "c2-c/4z3/4 |]" in engraved
    tune = GeneratedTune(abc, tokens, None, None, True, meter="3/8", engraved_abc=engraved)
    monkeypatch.setattr(generation_cli, "load_generator", lambda model: None)
    monkeypatch.setattr(generation_cli, "_sample_all", lambda *args: iter([tune]))
    assert main(["generate", "--model", "m", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "tune_1.abc").read_text(encoding="utf-8") == engraved
    capsys.readouterr()
    assert main(["generate", "--model", "m"]) == 0
    assert capsys.readouterr().out == engraved + "\n"


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


def test_cli_generate_names_an_unmarked_earlier_page_once(
    model_dir, tmp_path, monkeypatch, capsys, caplog
):
    # tune_1-2.svg without a marker was named twice: kept by the rendering (on the render
    # logger, uncapped), and again as an earlier run's file
    import importlib.util

    from helpers import stderr_said, warnings_of

    import modeling_irish.render_svg as render_svg
    from modeling_irish.cli import main

    if importlib.util.find_spec("verovio") is None:
        pytest.skip("verovio is not installed")
    monkeypatch.setattr(render_svg._ENGRAVER, "pages", lambda abc: ["<svg>page 1</svg>"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "tune_1-2.svg").write_text("<svg>an older version's page 2</svg>", encoding="utf-8")
    argv = ["generate", "--model", model_dir, "--num-bars", "4", "--num-tunes", "1"]
    assert main([*argv, "--out", str(out), "--render", "svg"]) == 0
    said = stderr_said(capsys, caplog) + "\n".join(warnings_of(caplog, "modeling_irish.render"))
    assert said.count("tune_1-2.svg") == 1, said
    assert f"{out / 'tune_1-2.svg'} has no irish-tune page marker" in said
    assert sorted(p.name for p in out.iterdir()) == ["tune_1-2.svg", "tune_1.abc", "tune_1.svg"]


def test_cli_evaluate_generation_json_prints_a_nan_measure_as_null(model_dir, capsys, monkeypatch):
    """A measure that is NaN was printed as bare ``NaN``, which strict JSON parsers refuse: it
    is null, named on stderr."""
    import math

    from modeling_irish import quality
    from modeling_irish.cli import main

    real = quality.generation_metrics
    monkeypatch.setattr(
        quality, "generation_metrics", lambda *a, **k: {**real(*a, **k), "pitch_class_tv": math.nan}
    )
    argv = ["evaluate-generation", "--model", model_dir, "--json", "--no-readers"]
    assert main([*argv, "--num-tunes", "1", "--num-bars", "4"]) == 0
    out, err = capsys.readouterr()
    metrics = strict_loads(out)
    assert metrics["pitch_class_tv"] is None and metrics["num_tunes"] == 1
    assert "irish-tune evaluate-generation: pitch_class_tv not a finite number" in err


def test_cli_evaluate_generation_says_once_that_the_abc2midi_check_was_skipped(
    model_dir, capsys, monkeypatch
):
    """Without abc2midi, ``reread_abc2midi_rate`` was missing from the table and the JSON with
    no word said: it is null in the JSON with one stderr line, ``n/a (why)`` in the table."""
    import shutil

    from modeling_irish.cli import main

    real_which = shutil.which
    monkeypatch.setattr(
        shutil,
        "which",
        lambda name, *a, **k: None if name == "abc2midi" else real_which(name, *a, **k),
    )
    argv = ["evaluate-generation", "--model", model_dir, "--num-tunes", "1", "--num-bars", "4"]
    said = "abc2midi is not installed: its re-reading check was skipped"
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert strict_loads(out)["reread_abc2midi_rate"] is None
    assert err.count(said) == 1 and f"irish-tune evaluate-generation: {said}" in err, err
    assert main(argv) == 0
    out, err = capsys.readouterr()
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert rows["reread_abc2midi_rate"] == f"n/a ({said})" and said not in err


def test_cli_evaluate_generation_text_says_why_a_histogram_distance_is_na(model_dir, tmp_path,
                                                                          capsys):  # fmt: skip
    """A --train corpus of one tune of one note has no interval (two notes in a row) to count:
    the text report printed ``interval_tv 0.5000`` (the formula against an empty histogram); it
    says n/a and why, the JSON says null, and the defined figures are printed as before."""
    from modeling_irish.cli import main

    one_note = tmp_path / "one_note.abc"
    one_note.write_text("X:1\nT:One note\nM:4/4\nL:1/8\nK:D\nD8|]\n", encoding="utf-8")
    argv = ["evaluate-generation", "--model", model_dir, "--no-readers", "--train", str(one_note)]
    assert main([*argv, "--num-tunes", "2", "--num-bars", "4"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    na = "n/a (an empty histogram: the samples or the training tunes have nothing to count)"
    assert rows["interval_tv"] == rows["interval_js"] == na
    assert rows["num_tunes"] == "2" and re.fullmatch(r"\d\.\d{4}", rows["duration_tv"])
    assert main([*argv, "--num-tunes", "2", "--num-bars", "4", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["interval_tv"] is None and metrics["interval_js"] is None


def test_train_tunes_normalised_out_of_midi_are_left_out_named_at_the_note(tmp_path, capsys):
    """--train kept a tune normalising moved to pitch -1 (``C,,,,,`` in D major), a note no
    generated tune can have, among the training side's: it is now an unreadable tune, named
    with the line and column of the note and the pitch it would get."""
    from modeling_irish.generation_cli import _read_corpus

    train = tmp_path / "train.abc"
    low = "X:6\nT:Bottom\nM:2/4\nL:1/8\nK:D\nD2 F2|\nA2 C,,,,,2|\n"
    train.write_text(low + "\n" + "X:1\nT:Fine\nM:2/4\nL:1/8\nK:D\nD2 F2|\n", encoding="utf-8")
    tunes, skipped = _read_corpus(str(train), None)
    assert skipped == 1 and len(tunes) == 1
    assert min(t.pitch for t in tunes[0] if t.kind == "note") >= 0
    err = capsys.readouterr().err
    assert (
        "X:6 Bottom: line 7, column 4: pitch 1 moves to -1 when the tune goes from D major" in err
    )
