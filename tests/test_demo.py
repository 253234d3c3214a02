"""`irish-tune demo`: the Gradio app's tab functions (plain data, no server), its Blocks, one
launch on a free localhost port, and the message without gradio."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from helpers import NAME_THAT_TUNE_KNOWN as KNOWN
from helpers import NAME_THAT_TUNE_TRAIN as TRAIN
from helpers import (  # noqa: F401 (fixtures)
    app_function,
    generation_generator,
    generation_model_dir,
    one_torch_thread,
)

from modeling_irish.demo_app import (
    DEFAULT_RHYTHM,
    MISSING_GRADIO,
    build_demo,
    generate_tab,
    known_rhythms,
    name_tab,
)
from tokenization.abc_parser import parse_abc
from tokenization.bar_check import bar_report

gradio = pytest.importorskip("gradio")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> str:
    """An edit-distance index (no model) over the name-that-tune tests' training tunes, built
    with a tokenizer loaded from a folder (the index records it)."""
    from modeling_irish.name_that_tune import TuneIndex
    from tokenization.tokenization_abc import AbcTokenizer

    folder = tmp_path_factory.mktemp("index")
    corpus = folder / "train.abc"
    corpus.write_text("\n".join(TRAIN), encoding="utf-8")
    AbcTokenizer.train(TRAIN).save_pretrained(folder / "tok")
    tokenizer = AbcTokenizer.from_pretrained(folder / "tok")
    TuneIndex.build(None, tokenizer, str(corpus)).save(str(folder / "index"))
    return str(folder / "index")


@pytest.fixture(scope="module")
def index(index_dir):
    from modeling_irish.name_that_tune import TuneIndex

    return TuneIndex.load(index_dir)


def test_generate_tab_returns_abc_that_reads_back_and_fits_the_meter(generator, tmp_path):
    view = generate_tab(generator, "jig", "E dorian", 8, 1.0, 3, out_dir=str(tmp_path))
    tune = parse_abc(view.abc)
    assert view.valid and view.errors == []
    assert (tune.meter, tune.key.name) == ("6/8", "E dorian")
    assert bar_report(tune).ok, bar_report(tune).problems
    assert view.midi and os.path.isfile(view.midi) and view.midi.startswith(str(tmp_path))
    # each rendering is made or said, never dropped silently
    assert view.svg.lstrip().startswith(("<svg", "<?xml")) or any("SVG" in n for n in view.notes)
    assert (view.wav and os.path.isfile(view.wav)) or any("WAV" in n for n in view.notes)


def test_generate_tab_leaves_blanks_to_the_generators_defaults(generator, tmp_path):
    view = generate_tab(generator, DEFAULT_RHYTHM, " ", 4, 0.0, 0, "", out_dir=str(tmp_path))
    tune = parse_abc(view.abc)
    assert (tune.meter, tune.key.name) == ("4/4", "D major")  # a reel in D, as generate's


def test_generate_tab_continues_a_prompt(generator, tmp_path):
    prompt = "X:1\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|"
    view = generate_tab(generator, None, None, 8, 1.0, 0, prompt, out_dir=str(tmp_path))
    assert "GAG GAB" in view.abc.replace("\n", " ") and parse_abc(view.abc).meter == "6/8"


def test_generate_tab_returns_the_generations_warnings_for_the_page(generator, tmp_path):
    prompt = "X:1\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|"
    view = generate_tab(generator, "reel", None, 4, 1.0, 0, prompt, out_dir=str(tmp_path))
    assert any("a reel is usually in 4/4" in w for w in view.warnings), view.warnings
    quiet = generate_tab(generator, "jig", "D", 4, 1.0, 0, out_dir=str(tmp_path))
    assert quiet.warnings == []  # a usual request: nothing to say


def test_generate_tab_says_a_prompt_written_in_the_key_box_s_key(generator, tmp_path):
    """A prompt in G with D in the Key box was written in D with nothing in the page's notes."""
    prompt = "X:1\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|"
    view = generate_tab(generator, None, "D", 4, 1.0, 0, prompt, out_dir=str(tmp_path))
    assert any("transposed from G major to D major" in w for w in view.warnings), view.warnings


def test_generate_tab_refuses_a_key_that_is_no_key(generator, tmp_path):
    with pytest.raises(ValueError, match="is not a key name"):
        generate_tab(generator, "reel", "H lydian-ish", out_dir=str(tmp_path))


def test_the_rhythm_choices_are_the_tokenizers(generator):
    assert set(known_rhythms(generator.tokenizer)) == {
        "reel", "jig", "slip jig", "polka", "waltz", "hornpipe"
    }  # fmt: skip


def _bars(tune: str, count: int) -> str:
    """The first ``count`` bars of a tune's body, without its headers."""
    body = tune.strip().splitlines()[-1]
    return "|".join(body.split("|")[:count]) + "|"


def test_name_tab_ranks_the_tune_of_a_snippet_first(index):
    view = name_tab(index, _bars(KNOWN[2], 3), k=4)  # Reel 3's second setting, headerless
    assert [rank for rank, _, _ in view.rows] == [1, 2, 3, 4]
    assert view.rows[0][1] == "Reel 3"
    scores = [score for _, _, score in view.rows]
    assert scores == sorted(scores, reverse=True)


def test_name_tab_takes_a_whole_tune_and_says_what_it_did_not_compare(index):
    view = name_tab(index, KNOWN[4].replace("|]", "|z/ c/|]"), k=2)
    assert view.rows[0][1] == "Reel 5"
    assert any("length" in warning for warning in view.warnings), view.warnings


def test_name_tab_warns_at_the_lines_of_the_snippet_as_pasted(index):
    bars = _bars(KNOWN[2], 3)
    view = name_tab(index, f"{bars}\n{bars[:-1]} & A8|", k=2)  # headerless: no X: typed
    said = [w for w in view.warnings if "overlay" in w]
    assert said and "(line 2)" in said[0], view.warnings  # not line 3: the X: added above it


def test_name_tab_refuses_a_blank_snippet(index):
    with pytest.raises(ValueError, match="paste an ABC tune"):
        name_tab(index, "  \n")


def test_build_demo_returns_blocks_without_launching(model_dir, index_dir, tmp_path):
    demo = build_demo(model_dir, index_dir, str(tmp_path))
    assert isinstance(demo, gradio.Blocks) and not demo.is_running
    names = {dependency.get("api_name") for dependency in demo.config["dependencies"]}
    assert {"generate", "name"} <= names
    without = build_demo(model_dir, out_dir=str(tmp_path))  # no index: no Name button
    names = {dependency.get("api_name") for dependency in without.config["dependencies"]}
    assert "generate" in names and "name" not in names


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_app_serves_on_localhost_and_names_a_tune(model_dir, index_dir, tmp_path):
    demo = build_demo(model_dir, index_dir, str(tmp_path))
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
            assert page.status == 200
        try:
            from gradio_client import Client
        except ImportError:
            return
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        table, _ = client.predict(_bars(KNOWN[2], 3), 3, api_name="/name")
        assert table["data"][0][:2] == [1, "Reel 3"]
    finally:
        demo.close()


def test_the_tests_gradio_files_go_to_a_temporary_folder_of_their_own():
    """gradio_client's downloads of the files a request returned, and the server's copies of
    the files it served, went to the shared <tmp>/gradio and were left there after the tests:
    both now go to the session's folder (conftest.py sets GRADIO_TEMP_DIR), removed at its end."""
    from gradio.utils import get_upload_folder

    gradio_client = pytest.importorskip("gradio_client")
    for folder in (get_upload_folder(), gradio_client.client.DEFAULT_TEMP_DIR):
        assert os.path.basename(folder).startswith("modeling-irish-tests-gradio-"), folder


def _demo_without_gradio(*argv: str) -> subprocess.CompletedProcess:
    """``irish-tune demo ARGV`` in a fresh interpreter where ``import gradio`` fails."""
    code = (
        "import sys; sys.modules['gradio'] = None\n"
        "import irish_tune\n"
        f"sys.exit(irish_tune.main(['demo', *{list(argv)!r}]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_without_gradio_the_command_says_how_to_install_it(tmp_path):
    # a model folder that does not exist: the install hint comes before any model is loaded
    result = _demo_without_gradio("--model", str(tmp_path / "no-model"))
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.startswith("irish-tune demo: " + MISSING_GRADIO), result.stderr
    assert 'pip install "modeling-irish[demo]"' in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_port_out_of_range_is_a_usage_error(port, capsys):
    import irish_tune

    with pytest.raises(SystemExit) as done:
        irish_tune.parse_args(["demo", "--model", "m", "--port", port])
    assert done.value.code == 2
    assert re.search(r"argument --port: .*" + re.escape(port), capsys.readouterr().err)


def test_a_missing_model_folder_is_exit_2_before_serving(tmp_path, capsys):
    import irish_tune

    assert irish_tune.main(["demo", "--model", str(tmp_path / "none")]) == 2
    assert "irish-tune demo: " in capsys.readouterr().err


def test_a_port_taken_is_exit_2_naming_the_flag(model_dir, capsys):
    import irish_tune

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert irish_tune.main(["demo", "--model", model_dir, "--port", str(port)]) == 2
    said = capsys.readouterr().err
    assert said == f"irish-tune demo: port {port} on 127.0.0.1 is taken: give another (--port)\n"


def test_generate_tab_shows_what_the_rendering_warned(generator, tmp_path, monkeypatch):
    """A render warning (a MIDI, SVG or MusicXML one, naming the tune) is on the page as
    ``irish-tune generate --render`` says it, once, as the generation's warnings are."""
    import logging

    import modeling_irish.render as render

    to_midi = render.to_midi

    def warning_midi(abc, path, **kwargs):
        for _ in range(2):
            logging.getLogger("modeling_irish.render").warning("%s: not played", "X:1 T:Tune")
        return to_midi(abc, path, **kwargs)

    monkeypatch.setattr(render, "to_midi", warning_midi)
    view = generate_tab(generator, "jig", "D", 4, 1.0, 0, out_dir=str(tmp_path))
    assert view.warnings == ["X:1 T:Tune: not played"]
    assert view.midi and os.path.isfile(view.midi)


def test_name_tab_says_a_snippets_error_at_the_line_as_pasted(index):
    """A headerless snippet's error named line 2 of a one-line paste (the X: line added above
    it counted) and the tune "X:1" the user never typed."""
    with pytest.raises(ValueError, match=r"^line 1, column 11: nested chord$"):
        name_tab(index, "FAAB ((( [[ AFED|")
    with pytest.raises(ValueError, match=r"^line 2, column 7: nested chord$"):
        name_tab(index, "FAAB AFED|\nFAAB [[ d2fe|")


def test_name_tab_says_an_error_of_the_whole_snippet_from_where_it_starts(index):
    """An error of the whole snippet (no notes), which the reader raises at the tune's first
    line, the X: line added above the bars, was named "line 1, column 1" of the paste: a column
    of a line the user never typed."""
    with pytest.raises(ValueError, match=r"^the snippet from line 1: has no notes, only rests"):
        name_tab(index, "z8|z8|")
    with pytest.raises(ValueError, match=r"^the snippet from line 3: tune has no notes"):
        name_tab(index, "\n\n  M:4/4\n|]")


def test_the_app_keeps_only_its_newest_renderings(model_dir, tmp_path, monkeypatch):
    """Each Generate click left a folder of SVG, MIDI and WAV until the server stopped, and
    gradio's copies of the files it served were never deleted: a demo left running filled its
    disk. The newest `KEEP_RENDERINGS` folders are kept, and gradio deletes its copies."""
    import modeling_irish.demo_app as demo_app

    monkeypatch.setattr(demo_app, "KEEP_RENDERINGS", 2)
    demo = build_demo(model_dir, out_dir=str(tmp_path))
    assert demo.delete_cache  # gradio's cached copies are deleted on a schedule and at close
    generate = app_function(demo, "generate")
    made = [generate("jig", "D", 4, 1.0, seed, "")[3] for seed in range(4)]
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == 2 and os.path.isfile(made[-1]) and not os.path.exists(made[0]), kept


def test_build_demo_creates_a_missing_renderings_folder_with_its_parents(model_dir, tmp_path):
    """An ``out_dir`` not there yet was taken as it was, and every Generate request then failed
    with a raw `FileNotFoundError` of `prune_renderings`."""
    out_dir = tmp_path / "not" / "there"
    demo = build_demo(model_dir, out_dir=str(out_dir))
    assert out_dir.is_dir()
    made = app_function(demo, "generate")("jig", "D", 4, 1.0, 0, "")[3]
    assert os.path.isfile(made) and made.startswith(str(out_dir))


def test_build_demo_refuses_a_renderings_folder_that_is_a_file_naming_it(model_dir, tmp_path):
    taken = tmp_path / "notes.txt"
    taken.write_text("kept", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match=f"^out_dir {re.escape(repr(str(taken)))} is a"):
        build_demo(model_dir, out_dir=str(taken))
    assert taken.read_text(encoding="utf-8") == "kept"


def test_prune_renderings_removes_the_oldest_folders_only(tmp_path):
    from modeling_irish.demo_app import prune_renderings

    for age, name in enumerate(["tune-c", "tune-b", "tune-a"]):  # tune-a the oldest
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, ns=(10**9 * (10 + age * -1), 10**9 * (10 - age)))
    (tmp_path / "notes.txt").write_text("kept", encoding="utf-8")
    removed = prune_renderings(str(tmp_path), keep=1)
    assert sorted(os.path.basename(p) for p in removed) == ["tune-a", "tune-b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "tune-c"]


def test_prune_renderings_of_a_folder_deleted_while_serving_prunes_nothing(tmp_path):
    """A renderings folder deleted while the demo served (a user cleaning /tmp) made
    `prune_renderings` raise `FileNotFoundError`, failing the request."""
    from modeling_irish.demo_app import prune_renderings

    assert prune_renderings(str(tmp_path / "gone"), keep=1) == []


def test_the_app_renders_again_after_its_renderings_folder_was_deleted(model_dir, tmp_path):
    """Every Generate request failed with a raw `FileNotFoundError` once the renderings folder
    was deleted while the demo served: the folder is created again."""
    import shutil

    out_dir = tmp_path / "renderings"
    generate = app_function(build_demo(model_dir, out_dir=str(out_dir)), "generate")
    shutil.rmtree(out_dir)
    made = generate("jig", "D", 4, 1.0, 0, "")[3]
    assert os.path.isfile(made) and made.startswith(str(out_dir))


def test_build_demo_of_a_missing_model_folder_says_so_in_words_for_python(tmp_path):
    """From Python, a missing model folder said "the command line loads local folders"."""
    missing = str(tmp_path / "no-model")
    with pytest.raises(FileNotFoundError) as refused:
        build_demo(missing, out_dir=str(tmp_path))
    said = str(refused.value)
    assert said.startswith(f"no model folder {missing!r} (") and "command line" not in said
    assert "read from local folders only, nothing is downloaded" in said


def test_a_refused_request_is_a_page_message_as_written_without_a_server_traceback(
    model_dir, index_dir, tmp_path
):
    """gradio renders an error message as HTML (the max_rows one's "<start> and <end>"
    vanished) and logged a traceback on the server for each refused request."""
    from modeling_irish.demo_page_text import user_error

    error = user_error(gradio, ValueError("room for <start> and <end> & more"))
    assert error.message == "room for &lt;start&gt; and &lt;end&gt; &amp; more"
    assert not error.print_exception
    demo = build_demo(model_dir, index_dir, str(tmp_path))
    for api_name, values in [("name", ("  ", 3)), ("generate", ("reel", "H#", 4, 1.0, 0, ""))]:
        with pytest.raises(gradio.Error) as refused:
            app_function(demo, api_name)(*values)
        assert not refused.value.print_exception and refused.value.message, api_name


@pytest.mark.slow
def test_sigterm_stops_the_server_cleanly_and_removes_its_renderings(model_dir, tmp_path):
    """``kill`` ended the demo at once, its temporary folder of renderings left behind."""
    import signal

    port = _free_port()
    env = dict(os.environ, TMPDIR=str(tmp_path), GRADIO_TEMP_DIR=str(tmp_path / "gradio"))
    with subprocess.Popen(
        [sys.executable, "-m", "irish_tune", "demo", "--model", model_dir, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
    ) as server:
        assert "serving on http://127.0.0.1:" in server.stdout.readline()
        assert [p.name for p in tmp_path.glob("irish-tune-demo-*")]
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err[-2000:]
    assert err.endswith("irish-tune demo: stopped (SIGTERM)\n") and "Traceback" not in err
    assert not list(tmp_path.glob("irish-tune-demo-*"))


def test_generate_tab_says_a_prompt_too_long_in_the_pages_terms(generator, tmp_path):
    """A long prompt was refused with "max_rows=600 is too small ... give at least N", naming a
    control the page does not have; Python callers keep that message (`check_room`)."""

    def prompt_of(bars: int) -> str:  # 9 tokens a bar: 8 notes and a bar line
        return "X:1\nM:4/4\nL:1/8\nK:D\n" + "FAAB AFED|" * bars

    prompt = prompt_of(80)
    with pytest.raises(ValueError) as refused:
        generate_tab(generator, "reel", "D", 8, 1.0, 0, prompt, out_dir=str(tmp_path))
    said = str(refused.value)
    assert "max_rows" not in said and said.startswith("the prompt is too long for the demo: ")
    found = re.search(r": (\d+) tokens .*, at most (\d+) in 4/4; paste a shorter incipit", said)
    assert found and int(found[1]) == 80 * 9, said
    # as many as it says are taken
    view = generate_tab(
        generator, "reel", "D", 8, 0.0, 0, prompt_of(int(found[2]) // 9), str(tmp_path)
    )
    assert view.abc.count("FAAB AFED") == int(found[2]) // 9
    from modeling_irish.generation_args import TooLittleRoom

    with pytest.raises(TooLittleRoom, match=r"^max_rows=600 is too small"):
        generator.generate(1, prompt=prompt, num_bars=8)


@pytest.mark.parametrize(
    ("rhythm", "key", "prompt", "page"),
    [
        (None, "D", "X:1\nL:1/8\nK:D\nFAAB AFED|", "give the prompt an M: line, e.g. M:6/8"),
        ("reel", "D", "X:1\nM:4/4\nL:1/8\nK:Em\nEFGA B2AG|", "type 'D minor' in the Key box"),
        ("air", "D", None, "pick a rhythm whose meter is known (reel, "),
    ],
)
def test_generate_tab_says_what_to_give_in_the_pages_terms(
    generator, tmp_path, rhythm, key, prompt, page
):
    """The API's refusals asked for ``meter=`` and ``key=`` with their command-line flags
    ("--meter on the command line"): the page has no meter control and names its Key box."""
    with pytest.raises(ValueError) as refused:
        generate_tab(generator, rhythm, key, 8, 1.0, 0, prompt, out_dir=str(tmp_path))
    said = str(refused.value)
    assert page in said and "command line" not in said and "=" not in said, said


@pytest.mark.parametrize("header", ["", "X:7\nT:Mine\n"])
def test_name_tab_does_not_warn_of_a_key_that_changes_no_score(index, header):
    """The placeholder's bars, headerless, always drew "no K: field; C major assumed": the edit
    distance compares a snippet without K: in all 12 transpositions, so no key was assumed.
    Bars with no F, C or G, which no common key sharpens, draw nothing; with them (and no sharp
    or flat written), the C major does change the notes: said once, with the key to add."""
    view = name_tab(index, header + "ABde BAdB|EDAB d2ed|", k=2)
    assert not any("K:" in warning for warning in view.warnings), view.warnings
    view = name_tab(index, header + _bars(KNOWN[2], 3), k=2)
    assert view.rows[0][1] == "Reel 3"
    said = [warning for warning in view.warnings if "K:" in warning]
    assert len(said) == 1 and "add its K: line (K:D, K:G, K:Ador...)" in said[0], said


def test_name_tab_names_the_first_of_several_tunes_and_says_which_were_not(index):
    """A pasted tunebook was refused with "give one tune per string, e.g. a list", words for
    Python callers: the first tune is named, and the others are named as not used."""
    two = name_tab(index, f"{KNOWN[2]}\n\n{KNOWN[4]}", k=2)
    assert two.rows[0][1] == "Reel 3" and two.warnings[0].startswith("2 tunes pasted: ")
    # free text before the first X: (a tunebook's title) is no tune
    book = f"My tunes\n\n{KNOWN[2]}\n\n{KNOWN[4]}\n\n{KNOWN[0]}"
    view = name_tab(index, book, k=2)
    assert view.rows[0][1] == "Reel 3"
    start = 3 + KNOWN[2].count("\n") + 2
    assert view.warnings[0].startswith(
        "3 tunes pasted: named the first, X:103 T:Reel 3 (line 3); not named: X:105 T:Reel 5 "
        f"(line {start}), X:101 T:Reel 1 (line {start + KNOWN[4].count(chr(10)) + 2}). Paste one"
    ), view.warnings
    assert not any("per string" in warning for warning in view.warnings)
    # the first tune's warnings and errors at its lines as pasted
    said = name_tab(index, book.replace("K:D\n", "K:D\nG!foo!A|\n", 1)).warnings
    assert any("!foo! dropped (line 10, column 2)" in w for w in said), said


def test_name_tab_names_a_first_tune_without_x_or_t_line_at_its_line_once(index):
    """Of two tunes pasted, a first without X: or T: line was "tune at line 1 (line 1)": the
    line said twice. It is named as `irish-tune identify` names it, "tune at line 1"."""
    untitled = "\n".join(line for line in KNOWN[2].splitlines() if line[:2] not in ("X:", "T:"))
    view = name_tab(index, f"{untitled}\n\n{KNOWN[4]}", k=2)
    second = untitled.count("\n") + 3
    assert view.rows[0][1] == "Reel 3"
    assert view.warnings[0].startswith(
        f"2 tunes pasted: named the first, tune at line 1; not named: X:105 T:Reel 5 "
        f"(line {second}). Paste one"
    ), view.warnings


def test_name_tab_names_lines_as_pasted_under_a_header_written_into_the_tune(index):
    """Header fields typed before the first X: (and not set by the tune) were written into the
    tune after its X: line, and its warnings and errors named lines two further on than pasted."""
    head = "My tunes\n\nO:Ireland\nZ:typed by me\n\n"  # the tune's X: at line 6, its K: at 12
    bad = KNOWN[2].replace("K:D\n", "K:D\nG!foo!A|\n", 1)
    said = name_tab(index, f"{head}{bad}\n\n{KNOWN[4]}", k=2).warnings
    assert said[0].startswith("2 tunes pasted: named the first, X:103 T:Reel 3 (line 6)"), said
    assert any("!foo! dropped (line 13, column 2)" in w for w in said), said
    chord = KNOWN[2].replace("K:D\n", "K:D\nG[A|\n", 1)
    with pytest.raises(ValueError, match=r"X:103 Reel 3: line 13, column 4: bar line ") as err:
        name_tab(index, f"{head}{chord}")
    assert "line 15" not in str(err.value)
    # one tune under a tunebook's title is named too (the title read as music refused it)
    assert name_tab(index, f"{head}{KNOWN[2]}", k=1).rows[0][1] == "Reel 3"


def test_generate_tab_says_a_prompts_error_at_the_line_as_pasted(generator, tmp_path):
    """A headerless prompt's error was "tune: line 1, column 7: nested chord", the reader's
    fallback name for a tune the user never named; and bars pasted after blank lines were
    refused as "tune has no notes" (the blank lines ended the tune before them)."""
    with pytest.raises(ValueError, match=r"^prompt, line 1, column 7: nested chord$"):
        generate_tab(generator, "jig", "D", 4, 1.0, 0, "FAAB [[ AFED|", str(tmp_path))
    with pytest.raises(ValueError, match=r"^prompt, line 4, column 5: nested chord$"):
        generate_tab(generator, "jig", "D", 4, 1.0, 0, "\n\nM:6/8\nGA [[ B|", str(tmp_path))
    with pytest.raises(ValueError, match=r"^prompt, line 6, column 5: nested chord$"):
        prompt = "\n\nX:1\nT:Foo\nK:G\nFA [[ AB|"
        generate_tab(generator, "jig", "G", 4, 1.0, 0, prompt, str(tmp_path))
    view = generate_tab(generator, None, None, 4, 1.0, 0, "\n\nM:6/8\nK:G\nGAG GAB|", str(tmp_path))
    assert parse_abc(view.abc).meter == "6/8"


def test_generate_tab_says_a_prompt_of_several_tunes_in_the_pages_terms(generator, tmp_path):
    """A prompt of several tunes was refused with the reader's "give one tune per string, e.g.
    a list", words for Python callers: the page names the tunes and says what to paste."""
    one = "X:1\nT:Tom\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|\n"
    with pytest.raises(ValueError) as err:
        generate_tab(generator, None, None, 8, 1.0, 0, f"{one}\n{one.replace('X:1', 'X:2')}")
    said = str(err.value)
    assert said.startswith("the prompt holds 2 tunes (X:1 T:Tom (line 1), X:2 T:Tom (line 8)): ")
    assert "paste" in said and "per string" not in said and "list" not in said, said


def test_generate_tab_names_a_prompts_tune_without_x_or_t_line_once(generator):
    """Of a prompt of two tunes, a first without X: or T: line was "tune at line 1 (line 1)"."""
    one = "M:6/8\nL:1/8\nK:G\n|:GAG GAB|\n"
    with pytest.raises(ValueError) as err:
        generate_tab(generator, None, None, 8, 1.0, 0, f"{one}\nX:2\nT:Tom\n{one}")
    said = str(err.value)
    assert said.startswith("the prompt holds 2 tunes (tune at line 1, X:2 T:Tom (line 6)): "), said


def test_generate_tab_names_the_prompts_lines_as_pasted(generator, tmp_path):
    """The prompt was stripped, so blank lines pasted before it moved every line its warnings,
    errors and several-tunes refusal named; a tune under a tunebook's title was refused."""
    tune = "X:1\nT:Tom\nM:6/8\nL:1/8\nK:G\n"  # the tune's K: at line 7 once two blank lines lead
    view = generate_tab(generator, "jig", "G", 4, 1.0, 0, f"\n\n{tune}G!foo!A GAB|", str(tmp_path))
    assert any("!foo! dropped (line 8, column 2)" in w for w in view.warnings), view.warnings
    with pytest.raises(ValueError, match=r"line 8, column 4: bar line inside a chord"):
        generate_tab(generator, "jig", "G", 4, 1.0, 0, f"\n\n{tune}G[A|", str(tmp_path))
    with pytest.raises(ValueError, match=r"\(X:1 T:Tom \(line 3\), X:1 T:Tom \(line 10\)\)"):
        generate_tab(generator, "jig", "G", 4, 1.0, 0, f"\n\n{tune}GAB|\n\n{tune}GAB|")
    titled = f"My tunes\n\n{tune}G!foo!A GAB|"  # as irish-tune generate --prompt FILE reads
    said = generate_tab(generator, "jig", "G", 4, 1.0, 0, titled, str(tmp_path)).warnings
    assert any("!foo! dropped (line 8, column 2)" in w for w in said), said


def test_the_notes_on_pasted_text_not_read_are_on_the_page(generator, index, tmp_path):
    """Music after the blank line that ends a tune, and a %%begintext without its end, were
    said in the server's log only: the page showed the tune as if all of it had been read."""
    after = "1 line(s) after the blank line"
    view = name_tab(index, f"{KNOWN[2]}\n\nFAAB AFED|", k=1)
    assert view.rows[0][1] == "Reel 3"
    assert any(w.startswith("X:103 Reel 3: ") and after in w for w in view.warnings)
    said = name_tab(index, f"%%begintext\nmy notes\n{KNOWN[2]}", k=1).warnings
    assert any("%%begintext at line 1 has no %%endtext" in w for w in said), said
    prompt = "X:1\nM:6/8\nL:1/8\nK:G\nGAG GAB|\n\nABA ABd|"
    said = generate_tab(generator, "jig", "G", 4, 1.0, 0, prompt, str(tmp_path)).warnings
    assert any(after in w and "first at line 7" in w for w in said), said


def test_name_tab_names_lines_as_pasted_after_blank_lines(index):
    said = name_tab(index, "\n\n" + KNOWN[2].replace("K:D\n", "K:D\nG!foo!A|\n", 1)).warnings
    line = 3 + KNOWN[2].split("\n").index("K:D") + 1
    assert any(f"!foo! dropped (line {line}, column 2)" in w for w in said), said


def test_name_tab_names_a_headerless_snippets_lines_as_pasted_after_blank_lines(index):
    """A snippet without X: was stripped before the X: line was added, so blank lines (and the
    first line's indentation) pasted before the bars moved the lines and columns it named."""
    bars = _bars(KNOWN[2], 3)
    said = name_tab(index, f"\n \n{bars}\n  G!foo!A {bars[:-1]} & A8|", k=2).warnings
    assert any("!foo! dropped (line 4, column 4)" in w for w in said), said
    assert any("overlay" in w and "(line 4)" in w for w in said), said
    with pytest.raises(ValueError, match=r"^line 3, column 9: nested chord$"):
        name_tab(index, "\n\r\n  FAAB [[ AFED|")
    with pytest.raises(ValueError, match=r"^line 4, column 7: nested chord$"):
        name_tab(index, "\n\nFAAB AFED|\nFAAB [[ d2fe|")


def test_generate_tab_says_a_prompts_midi_directives_are_not_kept(generator, tmp_path):
    """A pasted ``%%MIDI program`` line vanished without a word (its ``I:MIDI`` field was said
    not kept); a ``%%MIDI transpose`` is said not read, so the notes heard are those shown."""
    head = "X:1\nM:6/8\nL:1/8\n%%MIDI program 20\n%%MIDI transpose 2\nK:G\n"
    prompt = f"{head}%%MIDI gchord fzf\nGAG GAB|"
    view = generate_tab(generator, "jig", "G", 4, 1.0, 0, prompt, str(tmp_path))
    assert "%%" not in view.abc and "I:" not in view.abc
    said = " ".join(view.warnings)
    assert "%%MIDI transpose 2 not read (line 5): the notes are read and played as written" in said
    assert "the prompt's 2 %%MIDI directive(s) (program, gchord) are not kept: " in said, said
    fields = generate_tab(
        generator, "jig", "G", 4, 1.0, 0, prompt.replace("%%", "I:"), str(tmp_path)
    )
    # the same directives as I:MIDI fields (ABC 2.1 §11) are said alike, not as fields I:
    said = " ".join(fields.warnings)
    assert "the prompt's 2 %%MIDI directive(s) (program, gchord) are not kept: " in said, said


_OUT_OF_RANGE = [
    ("generate", ("reel", "D", 10**9, 1.0, 0, ""), "Bars must be a whole number from 4 to 64"),
    ("generate", ("reel", "D", 4.5, 1.0, 0, ""), "Bars must be a whole number from 4 to 64"),
    ("generate", ("reel", "D", 4, -1, 0, ""), "Temperature must be a number from 0.0 to 2.0"),
    ("generate", ("reel", "D", 4, float("nan"), 0, ""), "Temperature must be a number from"),
    ("generate", ("reel", "D", 4, 1.0, 10**30, ""), "Seed must be a whole number from 0 to"),
    ("generate", ("reel", "D", None, 1.0, 0, ""), "Bars must be a whole number"),
    ("generate", ("air", "D", 4, 1.0, 0, ""), "Rhythm must be one of .*, got 'air'"),
    ("generate", ("reel", "D", 4, 1.0, 0, 7), "Prompt must be text, got 7"),
    (
        "generate",
        ("reel", "D", 8, 1.0, 0, "", 1, 10),
        r"Minimum bars \(10\) is more than Bars \(8\)",
    ),
    ("generate", ("reel", "D", 8, 1.0, 0, "", 1, -1), "Minimum bars must be a whole number from 0"),
    (
        "generate",
        ("reel", "D", 8, 1.0, 0, "", 1, 2.5),
        "Minimum bars must be a whole number from 0",
    ),
    ("name", ("FAAB AFED|", 0), "Titles must be a whole number from 1 to 20, got 0"),
    ("name", ("FAAB AFED|", 10**9), "Titles must be a whole number from 1 to 20"),
    ("name", ("FAAB AFED|", None), "Titles must be a whole number from 1 to 20, got None"),
]


@pytest.mark.parametrize(("api_name", "values", "said"), _OUT_OF_RANGE)
def test_the_app_refuses_values_out_of_its_controls_ranges_in_words(
    model_dir, index_dir, tmp_path, api_name, values, said
):
    """The API takes any value: 10**9 bars was sampled, 4.5 bars read as 4, a top-k of 0 or
    None, and a negative temperature, were refused by gradio or torch with a server traceback."""
    demo = build_demo(model_dir, index_dir, str(tmp_path))
    with pytest.raises(gradio.Error) as refused:
        app_function(demo, api_name)(*values)
    assert re.match(f"^{said}", refused.value.message), refused.value.message
    assert not refused.value.print_exception


def test_the_api_refuses_out_of_range_values_without_a_server_traceback(
    model_dir, index_dir, tmp_path, capfd
):
    """gradio's own range checks, run on the values before the handler, logged a traceback for
    each, and said "Value 0 is less than minimum value 1." without naming the control."""
    gradio_client = pytest.importorskip("gradio_client")
    demo = build_demo(model_dir, index_dir, str(tmp_path))
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = gradio_client.Client(
            f"http://127.0.0.1:{port}/", verbose=False, download_files=False
        )
        with pytest.raises(Exception, match=r"Titles must be a whole number from 1 to 20, got 0"):
            client.predict("FAAB AFED|", 0, api_name="/name")
        with pytest.raises(Exception, match=r"Bars must be a whole number from 4 to 64"):
            client.predict("reel", "D", 10**9, 1.0, 0, "", api_name="/generate")
        table, _ = client.predict(_bars(KNOWN[2], 3), 3, api_name="/name")  # in range: served
        assert table["data"][0][:2] == [1, "Reel 3"]
    finally:
        demo.close()
    assert "Traceback" not in capfd.readouterr().err


def _page_default(demo, label: str):
    """The value the page's control ``label`` starts with."""
    (value,) = [b.value for b in demo.blocks.values() if getattr(b, "label", None) == label]
    return value


@pytest.mark.parametrize(
    ("prompt", "kept"),
    [
        ("X:1\nM:6/8\nL:1/8\nK:G\nGAB cBA|", "K:G"),
        ("X:1\nM:6/8\nL:1/8\nK:Ador\nABA GED|", "K:Ador"),
    ],
)
def test_a_prompt_pasted_with_the_pages_defaults_keeps_its_own_key(
    model_dir, tmp_path, prompt, kept
):
    """A musician who pastes an incipit and presses Generate gets it continued in its key: the
    Key box starts blank (the prompt's key, else D major), not at a key that transposed a G
    tune to D and refused one in a mode."""
    demo = build_demo(model_dir, out_dir=str(tmp_path))
    key = _page_default(demo, "Key")
    run = app_function(demo, "generate")
    abc = run(DEFAULT_RHYTHM, key, 8, 1.0, 0, prompt, 1, progress=lambda *a, **k: None)[0]
    assert kept in abc.splitlines(), abc
    no_prompt = run(DEFAULT_RHYTHM, key, 8, 1.0, 0, "", 1, progress=lambda *a, **k: None)[0]
    assert "K:D" in no_prompt.splitlines(), no_prompt


def test_the_pages_minimum_bars_reach_the_generation(model_dir, tmp_path, monkeypatch):
    """The page had no minimum bars: a weak model's tunes ended after their 4th bar, whatever
    the Bars asked for, where ``irish-tune generate --min-bars`` keeps them going."""
    from modeling_irish.generation import TuneGenerator
    from modeling_irish.generation_args import DEFAULT_MIN_BARS

    asked = []
    sample = TuneGenerator.generate

    def recorded(self, *args, **kwargs):
        asked.append(kwargs.get("min_bars"))
        return sample(self, *args, **kwargs)

    monkeypatch.setattr(TuneGenerator, "generate", recorded)
    demo = build_demo(model_dir, out_dir=str(tmp_path))
    assert _page_default(demo, "Minimum bars") == DEFAULT_MIN_BARS
    run = app_function(demo, "generate")
    for values in [(8, 1, 6), (8, 1, 0), (8, 1)]:  # bars, tunes, minimum bars (left off)
        run("reel", "D", values[0], 1.0, 0, "", *values[1:], progress=lambda *a, **k: None)
    assert asked == [6, 0, None]


def test_the_name_tabs_example_snippet_is_read_as_written(index):
    """The tab's example, `FAAB AFED|FAAB d2fe|` with no K:, was read in C major (F natural, not
    the F sharp of the D major it is played in) and drew identify's missing-key warning."""
    from modeling_irish.demo_name import EXAMPLE_SNIPPET

    view = name_tab(index, EXAMPLE_SNIPPET, k=3)
    assert len(view.rows) == 3
    assert not any("K:" in w for w in view.warnings), view.warnings
    bare = name_tab(index, EXAMPLE_SNIPPET.split("\n", 1)[1], k=3).warnings
    assert any("no K: field" in w for w in bare), bare  # what the K: line spares it
