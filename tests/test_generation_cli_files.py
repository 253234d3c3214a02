"""`irish-tune generate`'s output folder: checked before sampling, written in batches, and the
files of an earlier run (ABC, MusicXML, SVG pages) named, replaced or kept."""

from __future__ import annotations

import pytest
from helpers import (  # noqa: F401 (fixtures)
    fill_disk_on,
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)


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
