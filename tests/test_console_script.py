"""The ``irish-tune`` console script's entry point (`irish_tune.main`): a Ctrl-C while the
package is still loading stops quietly, as one during a command does."""

from __future__ import annotations

import importlib.abc
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import run_as_console_script

import irish_tune

ROOT = Path(__file__).resolve().parents[1]


class _InterruptingFinder(importlib.abc.MetaPathFinder):
    """Raises KeyboardInterrupt on importing `name`, as a Ctrl-C in the middle of it would."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname, path, target=None):
        if fullname == self.name:
            raise KeyboardInterrupt
        return None


def test_interrupt_while_loading_is_one_line(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "modeling_irish.cli", raising=False)
    monkeypatch.setattr(
        sys, "meta_path", [_InterruptingFinder("modeling_irish.cli")] + sys.meta_path
    )
    assert irish_tune.main(["check", "x.abc"]) == 130
    assert capsys.readouterr().err == "irish-tune: interrupted\n"


def test_the_entry_point_runs_the_command_line(capsys):
    assert irish_tune.main(["check", "no-such-file.abc"]) == 2
    assert capsys.readouterr().err == "irish-tune check: no such file: no-such-file.abc\n"


def test_identify_without_model_or_index_is_a_usage_error(capsys):
    """``identify`` with neither --model nor --index printed one line of its own, without the
    usage that every other command's missing argument gets from argparse; now as they do."""
    with pytest.raises(SystemExit) as info:
        irish_tune.main(["identify"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: irish-tune identify [-h] [--model MODEL] [--index INDEX]")
    assert err.endswith(
        "irish-tune identify: error: one of the arguments --model --index is required "
        "(--model alone reads MODEL/index)\n"
    )
    for given in (["--model", "m"], ["--index", "i"]):  # either is enough to read the arguments
        assert irish_tune.parse_args(["identify", *given, "-"]).command == "identify"


_ERT = ["evaluate-retrieval", "--train", "oneills1850", "--queries", "q.abc"]


@pytest.mark.parametrize(
    ("argv", "usage", "message"),
    [
        (["index", "oneills1850"], "usage: irish-tune index [-h] [--model MODEL]",
         "one of the arguments --model --tokenizer is required (--tokenizer with --out: an "
         "index for the edit distance alone)"),
        (["index", "--tokenizer", "tok", "oneills1850"], "usage: irish-tune index [-h]",
         "the argument --out is required with --tokenizer (the default, MODEL/index, needs "
         "--model)"),
        (_ERT, "usage: irish-tune evaluate-retrieval [-h] [--model MODEL]",
         "the argument --model is required for the model's scoring (not for --baseline "
         "edit-distance)"),
        ([*_ERT, "--baseline", "hybrid", "--tokenizer", "tok"], "usage: irish-tune evaluate-",
         "the argument --model is required for --baseline hybrid (not for --baseline "
         "edit-distance)"),
        ([*_ERT, "--baseline", "edit-distance"], "usage: irish-tune evaluate-retrieval [-h]",
         "one of the arguments --model --tokenizer is required (--tokenizer: the edit-distance "
         "baseline without a model)"),
    ],
)  # fmt: skip
def test_index_and_evaluate_retrieval_without_a_model_or_tokenizer_are_usage_errors(
    argv, usage, message, capsys
):
    """``index`` with neither --model nor --tokenizer and --out, and ``evaluate-retrieval``
    without the --model (or, for the edit distance, --tokenizer) its scorer reads, printed one
    line of their own from the runner, without the usage that argparse's errors give."""
    with pytest.raises(SystemExit) as info:
        irish_tune.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    assert err.endswith(f"irish-tune {argv[0]}: error: {message}\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["index", "--model", "m", "oneills1850"],
        ["index", "--tokenizer", "t", "oneills1850", "--out", "ix"],
        [*_ERT, "--model", "m"],
        [*_ERT, "--model", "m", "--baseline", "hybrid"],
        [*_ERT, "--model", "m", "--baseline", "edit-distance"],
        [*_ERT, "--tokenizer", "t", "--baseline", "edit-distance"],
    ],
)
def test_index_and_evaluate_retrieval_read_the_arguments_their_scorers_need(argv):
    assert irish_tune.parse_args(argv).command == argv[0]


_ID = ["identify", "--index", "ix", "-"]


def _assert_usage_error(argv: list[str], message: str, capsys) -> None:
    """``irish-tune ARGV`` is refused as argparse refuses: exit status 2, the command's usage
    line, then ``irish-tune COMMAND: error: MESSAGE``."""
    with pytest.raises(SystemExit) as info:
        irish_tune.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: irish-tune {argv[0]} [-h]")
    assert err.endswith(f"irish-tune {argv[0]}: error: {message}\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["index", "--model", "m", "--tokenizer", "t", "oneills1850"],
         "--tokenizer is for an index without --model: a model reads its own"),
        ([*_ID, "--model", "m", "--scoring", "title", "--hybrid-weight", "5"],
         "--hybrid-weight weighs the hybrid scoring, not --scoring title"),
        ([*_ID, "--hybrid-weight", "5"],
         "--hybrid-weight needs --model: the hybrid adds the model's title cosine"),
        ([*_ID, "--model", "m", "--scoring", "setting", "--no-transpose"],
         "--no-transpose: an option of the edit distance, which --scoring setting does not use "
         "(the model's cosine alone)"),
        ([*_ID, "--scoring", "hybrid"],
         "--scoring hybrid needs a tune-title model (--model) and an index built with it; "
         "without one, use --scoring edit-distance (the default)"),
        ([*_ID, "--model", "m", "--tokenizer", "t"],
         "--tokenizer is for an index without --model: a model reads its own tokenizer's ids"),
        ([*_ERT, "--model", "m", "--hybrid-weight", "5"],
         "--hybrid-weight weighs --baseline hybrid, not the model alone"),
        ([*_ERT, "--model", "m", "--baseline", "hybrid", "--protocol", "unseen",
          "--hybrid-weight", "5"],
         "--hybrid-weight: under --protocol unseen the hybrid is the model alone (no gallery "
         "title has a training setting to compare)"),
        ([*_ERT, "--model", "m", "--no-transpose", "--eighths-weight", "0"],
         "--eighths-weight and --no-transpose: options of the edit distance, which the scoring "
         "without --baseline does not use (the model's title cosine alone); --baseline "
         "edit-distance does"),
        ([*_ERT, "--model", "m", "--tokenizer", "t", "--baseline", "edit-distance"],
         "--tokenizer is for the edit-distance baseline without --model: a model reads its own "
         "tokenizer's ids"),
    ],
)  # fmt: skip
def test_retrieval_options_that_cannot_go_together_are_usage_errors(argv, message, capsys):
    """Options that can never work together whatever the input (an option the scorer would
    ignore, --tokenizer beside the --model that reads its own) were refused by the runner in one
    line of its own, evaluate-retrieval's --tokenizer only once the model was loaded; now by
    `parse_args`, with the command's usage line, as argparse's own errors, before any import."""
    _assert_usage_error(argv, message, capsys)


def test_retrieval_usage_errors_load_nothing():
    """The command line is refused before the runner's module (torch, transformers) is
    imported: in a fresh interpreter, as a user runs it."""
    code = (
        "import sys, irish_tune\n"
        "try:\n"
        "    irish_tune.main(['evaluate-retrieval', '--train', 'oneills1850', '--queries',\n"
        "                     'q.abc', '--model', 'no-such-model', '--tokenizer', 't'])\n"
        "except SystemExit as err:\n"
        "    loaded = sys.modules\n"
        "    print(err.code, 'modeling_irish.retrieval_cli' in loaded, 'torch' in loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        encoding="utf-8",
    )
    assert done.stdout.split() == ["2", "False", "False"], done.stderr
    assert done.stderr.endswith(
        "error: --tokenizer is for the edit-distance baseline without "
        "--model: a model reads its own tokenizer's ids\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generate", "--model", "m", "--render", "svg"],
         "--render needs --out, the folder the .abc files and renderings go to"),
        (["generate", "--model", "m", "--soundfont", "gm.sf2"],
         "--soundfont is used only for WAV files: add wav to --render (e.g. --render wav)"),
        (["render", "t.abc", "--out", "o", "--formats", ""],
         "argument --formats: no format given; choose from svg, midi, wav, musicxml "
         "(comma-separated)"),
        (["render", "t.abc", "--out", "o", "--formats", "midi", "--soundfont", "gm.sf2"],
         "--soundfont is used only for WAV files: add wav to --formats (e.g. --formats wav)"),
        (["render", "-", "--out", "o", "-"], "'-' (stdin) can be given once"),
        (["render", "t.abc", "--out", ""], "--out is empty; give the folder the renderings go to"),
        (["generate", "--model", "m", "--out", ""],
         "--out is empty; give the folder the .abc files and renderings go to"),
        (["generate", "--model", "m", "--out", "", "--render", "svg"],
         "--out is empty; give the folder the .abc files and renderings go to"),
        (["evaluate-generation", "--model", "m", "--max-train-tunes", "5"],
         "--max-train-tunes limits --train, which is not given"),
    ],
)  # fmt: skip
def test_generation_options_that_cannot_go_together_are_usage_errors(argv, message, capsys):
    """generate, render and evaluate-generation refused these in the runner, in one line of
    their own without the usage line; now `parse_args` does, as argparse's own errors."""
    _assert_usage_error(argv, message, capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "-", "-"],
        ["check", "t.abc", "-", "--bars", "-"],
        ["transpose", "-", "-", "--key", "G"],
        ["evaluate-lm", "--model", "m", "-", "-"],
    ],
)
def test_stdin_twice_is_a_usage_error_for_every_command_of_files(argv, capsys):
    """``check - -`` read stdin whole for the first ``-`` and reported the second as "FAIL
    stdin: empty input", exit 1; every command that takes a list of files refuses it, as
    render does."""
    _assert_usage_error(argv, "'-' (stdin) can be given once", capsys)


@pytest.mark.parametrize(
    ("render", "message"),
    [
        ("", "no format given; choose from svg, midi, wav, musicxml (comma-separated)"),
        ("midi,,midi", "empty format in 'midi,,midi' (two commas, or one at an end); choose "
         "from svg, midi, wav, musicxml (comma-separated)"),
        ("svg,", "empty format in 'svg,' (two commas, or one at an end)"),
        ("midi,svg, MIDI", "format 'midi' is given twice"),
    ],
)  # fmt: skip
def test_an_empty_or_repeated_render_format_is_refused(render, message, capsys):
    """``--render ""`` rendered nothing and ``midi,,midi`` midi once, without a word: an empty
    entry and a format given twice are refused, as ``--config`` refuses a key given twice."""
    argv = ["generate", "--model", "m", "--out", "o", "--render", render]
    with pytest.raises(SystemExit) as info:
        irish_tune.main(argv)
    assert info.value.code == 2
    assert f"error: argument --render: {message}" in capsys.readouterr().err


def test_the_generation_runners_refuse_arguments_built_in_python_alike():
    """The same checks for a Namespace that did not come from `parse_args`: a `ValueError`
    (exit status 2 from `run_command`), before a model or file is read."""
    from modeling_irish.cli import build_parser
    from modeling_irish.generation_cli import run_evaluate_generation, run_generate, run_render

    for argv, run, message in (
        (["generate", "--model", "m", "--render", "svg"], run_generate, "--render needs --out"),
        (["render", "-", "-", "--out", "o"], run_render, "can be given once"),
        (["evaluate-generation", "--model", "m", "--max-train-tunes", "5"],
         run_evaluate_generation, "--max-train-tunes limits --train"),
    ):  # fmt: skip
        args = build_parser().parse_args(argv)  # argparse's own reading, without the checks
        with pytest.raises(ValueError, match=message):
            run(args)


def test_the_retrieval_runners_refuse_arguments_built_in_python_alike():
    """The same usage checks for a Namespace that did not come from `parse_args`: a
    `ValueError` (exit status 2 from `run_command`), before anything is loaded or read."""
    from modeling_irish.cli import build_parser
    from modeling_irish.retrieval_cli import run_evaluate_retrieval, run_identify, run_index

    for argv, run, message in (
        (["index", "oneills1850"], run_index, "one of the arguments --model --tokenizer"),
        (["index", "--tokenizer", "t", "oneills1850"], run_index, "--out is required"),
        (_ERT, run_evaluate_retrieval, "--model is required for the model's scoring"),
        ([*_ERT, "--baseline", "edit-distance"], run_evaluate_retrieval,
         "one of the arguments --model --tokenizer"),
        (["index", "--model", "m", "--tokenizer", "t", "oneills1850"], run_index,
         "--tokenizer is for an index without --model"),
        (["identify", "--index", "ix", "--hybrid-weight", "5"], run_identify,
         "--hybrid-weight needs --model"),
        ([*_ERT, "--model", "m", "--eighths-weight", "0"], run_evaluate_retrieval,
         "--eighths-weight: options of the edit distance"),
    ):  # fmt: skip
        args = build_parser().parse_args(argv)  # argparse's own reading, without the checks
        with pytest.raises(ValueError, match=message):
            run(args)


def test_the_console_script_is_this_entry_point():
    text = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert "irish-tune = irish_tune:main" in text


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_during_startup_prints_no_traceback():
    """A real Ctrl-C while torch and transformers load (seconds): one line and status 130,
    whether it lands in the imports or in the command (reading stdin). The signal goes once the
    entry point runs (``-X importtime`` reports each import done: the first after `irish_tune`
    is one that `main` started); a Ctrl-C before that, while Python itself starts, cannot be
    caught by the package, and on a loaded machine a fixed delay may land there."""
    code = "import sys, irish_tune; sys.exit(irish_tune.main(['check', '-']))"
    process = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-c", code],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    seen_entry_point = False
    for line in iter(process.stderr.readline, b""):
        if seen_entry_point:
            break  # an import that main started: inside its try
        seen_entry_point = line.rstrip().endswith(b"| irish_tune")
    if not seen_entry_point:
        process.kill()
        pytest.fail("no import after irish_tune: " + process.communicate()[1].decode()[-500:])
    if process.poll() is not None:
        pytest.skip("the command ended before the signal could be sent")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    lines = [line for line in err.decode().splitlines() if not line.startswith("import time:")]
    message = "\n".join(lines)
    assert process.returncode == 130, message
    assert "Traceback" not in message
    assert message.strip() in {"irish-tune: interrupted", "irish-tune check: interrupted"}


#: What `irish-tune --help` and a mistyped flag must not wait for: each takes from a tenth of a
#: second to seconds to import (modeling_irish: torch and transformers).
HEAVY = ("torch", "transformers", "music21", "datasets", "verovio", "numpy", "modeling_irish")


def test_help_and_mistyped_flags_import_nothing_heavy():
    """The parser of every sub-command is built, and ``--help``, ``COMMAND --help`` and a
    mistyped flag answered, before anything heavy is imported (the commands import it when they
    run). In a fresh interpreter: this one has them all loaded."""
    code = textwrap.dedent(
        f"""
        import contextlib, io, sys, irish_tune
        irish_tune.build_parser()
        argvs = [["--help"], ["check", "--nope"], ["generate", "--model", "m", "--nmu-bars", "4"]]
        # values checked as they are read: --meter and --seed (good and bad) before a typo
        argvs += [["generate", "--model", "m", "--meter", "6/8", "--seed", "5", "--nope"]]
        argvs += [["generate", "--model", "m", "--meter", "0/8"]]
        argvs += [["evaluate-generation", "--seed", "-1"]]
        argvs += [[name, "--help"] for name in irish_tune.parser._commands()]
        for argv in argvs:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    irish_tune.main(argv)
                except SystemExit:
                    pass
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        encoding="utf-8",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_the_light_copies_of_constants_agree_with_the_library():
    """The parser's copies of library constants (not imported: it starts light) are theirs."""
    from irish_tune.arg_types import MAX_WEIGHT, MUSIC21_BOOKS
    from irish_tune.generation_cli_args import (
        DEFAULT_FORMATS,
        DEFAULT_MAX_ROWS,
        DEFAULT_MIN_BARS,
        FORMATS,
    )
    from irish_tune.retrieval_cli_args import HYBRID_WEIGHT
    from modeling_irish import abc_sources, edit_distance, generation_args, name_that_tune, render

    assert FORMATS == render.FORMATS and DEFAULT_FORMATS == render.DEFAULT_FORMATS
    assert DEFAULT_MAX_ROWS == generation_args.DEFAULT_MAX_ROWS
    assert DEFAULT_MIN_BARS == generation_args.DEFAULT_MIN_BARS
    assert tuple(abc_sources.MUSIC21_COLLECTIONS) == MUSIC21_BOOKS
    assert MAX_WEIGHT == edit_distance.MAX_SCORE_WEIGHT
    assert HYBRID_WEIGHT == name_that_tune.HYBRID_WEIGHT


def test_check_from_the_command_line_imports_no_torch(tmp_path):
    """`irish_tune.MODEL_FREE_COMMANDS` load `modeling_irish` without its models (torch and
    transformers take seconds); its names then load, and register, on first use."""
    tune = tmp_path / "tune.abc"
    tune.write_text("X:1\nT:Tiny\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|\n", encoding="utf-8")
    then = """
        import modeling_irish
        from transformers import AutoConfig
        print(modeling_irish.MeasureNoteConfig.model_type, modeling_irish.TuneTitleModel.__name__)
        for model_type in ("measurenote", "tune_title_text"):
            print(AutoConfig.for_model(model_type).model_type)
    """
    lines = run_as_console_script(["check", str(tune), "--json"], then)
    assert '"round_trip_ok": 1' in lines[0]
    assert lines[1:] == [
        "status 0",
        "loaded []",
        "measurenote TuneTitleModel",
        "measurenote",
        "tune_title_text",
    ]


def test_a_model_command_after_check_in_one_process_registers_the_models(tmp_path):
    """``check`` from the command line skips registering the models; a later ``evaluate-lm`` in
    the same process (`irish_tune.main` from Python) loads its model through the Auto classes,
    so they are registered then (it asked to trust the folder's code and failed)."""
    from helpers import save_tiny_measurenote

    tune_text = "X:1\nT:Tiny\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|\n"
    tune = tmp_path / "tune.abc"
    tune.write_text(tune_text, encoding="utf-8")
    model = save_tiny_measurenote(tmp_path / "model", [tune_text] * 3)
    then = f"""
        import irish_tune
        status = irish_tune.main(["evaluate-lm", "--model", {str(model)!r}, {str(tune)!r}])
        print("evaluate-lm", status)
    """
    lines = run_as_console_script(["check", str(tune)], then)
    assert lines[-1] == "evaluate-lm 0", lines


def test_render_from_the_command_line_imports_no_torch(tmp_path):
    tune = tmp_path / "tune.abc"
    tune.write_text("X:1\nT:Tiny\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|\n", encoding="utf-8")
    lines = run_as_console_script(
        ["render", str(tune), "--out", str(tmp_path / "out"), "--formats", "midi,musicxml"]
    )
    assert lines[-2:] == ["status 0", "loaded []"]
    assert (tmp_path / "out" / "tune.mid").is_file()
    assert (tmp_path / "out" / "tune.musicxml").is_file()


def test_the_package_exports_and_registers_as_it_did():
    """``import modeling_irish`` outside the command line: every name of ``__all__`` is there,
    and the Auto classes know the model types (the package's import registers them)."""
    from helpers import tiny_measurenote_config
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    import modeling_irish

    for name in modeling_irish.__all__:
        assert getattr(modeling_irish, name) is not None, name
    for model_type in ("measurenote", "tune_title", "tune_title_tune", "tune_title_text"):
        assert AutoConfig.for_model(model_type).model_type == model_type
    config = tiny_measurenote_config()
    assert type(AutoModelForCausalLM.from_config(config)) is modeling_irish.MeasureNoteForCausalLM
    assert type(AutoModel.from_config(config)) is modeling_irish.MeasureNoteModel


def test_every_command_help_ends_with_examples_that_parse(tmp_path, monkeypatch, capsys):
    """Each sub-command's ``--help`` ends with its examples, each line as written (not filled
    into the prose), and each example is a command line the parser takes."""
    import shlex

    from irish_tune.parser import EXAMPLES, _commands

    assert list(EXAMPLES) == list(_commands())
    monkeypatch.setenv("COLUMNS", "60")  # narrower than the examples: they are not wrapped
    monkeypatch.chdir(tmp_path)
    for command, lines in EXAMPLES.items():
        with pytest.raises(SystemExit) as info:
            irish_tune.parse_args([command, "--help"])
        assert info.value.code == 0
        help_text = capsys.readouterr().out
        assert help_text.endswith("examples:\n" + "".join(f"  {line}\n" for line in lines))
        for example in "\n".join(lines).replace("\\\n", " ").splitlines():
            argv = shlex.split(example.split("irish-tune ")[1].split("#")[0])  # after a pipe
            for name in (arg for arg in argv if arg.endswith(".abc")):  # sources must exist
                (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / name).write_text("X:1\nK:D\nABc|\n", encoding="utf-8")
            assert irish_tune.parse_args(argv).command == command


def _help_exit_statuses(help_text: str) -> list[int]:
    """The statuses of the ``exit status:`` paragraph of a ``--help``, in order."""
    paragraph = help_text.split("exit status:\n", 1)[1].split("\n\n", 1)[0]
    return [int(m) for m in re.findall(r"^  (\d+) +\S", paragraph, re.M)]


def _readme_exit_statuses() -> dict[str, set[int]]:
    """Each command's statuses in README.md's "Exit statuses" section: the columns of its row of
    the table that say something (not "—"), and those its closing sentence gives every command."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exit statuses of `irish-tune`\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|")
    ]
    header, rows = rows[0], rows[2:]  # rows[1]: the |---| line
    statuses = [int(cell) for cell in header[1:]]
    every = re.search(r"Every command also exits with status (\d+) .*?, and (\d+) ", section, re.S)
    assert every, "the README names no status of every command"
    common = {int(every[1]), int(every[2])}
    return {
        row[0].strip("`"): common | {s for s, cell in zip(statuses, row[1:]) if cell != "—"}
        for row in rows
    }


def test_every_command_help_names_its_exit_statuses_as_the_readme_does(capsys):
    """Only ``generate --help`` said what its exit statuses mean; each command's ``--help`` now
    lists its own (each status on a line of its own, before the examples), the same statuses
    that the README's table gives that command."""
    from irish_tune.parser import _commands

    readme = _readme_exit_statuses()
    assert list(readme) == list(_commands())
    for command in _commands():
        with pytest.raises(SystemExit):
            irish_tune.parse_args([command, "--help"])
        help_text = capsys.readouterr().out
        assert "\nexit status:\n" in help_text, command
        assert help_text.index("exit status:") < help_text.index("examples:"), command
        listed = _help_exit_statuses(help_text)
        assert listed == sorted(set(listed)) and {0, 2, 130, 141} <= set(listed), (command, listed)
        assert set(listed) == readme[command], (command, listed, readme[command])


def test_the_version_is_looked_up_only_for_version(monkeypatch, capsys):
    """Building the parsers of ``irish-tune`` and ``train.py`` does not look up the installed
    version (the packages' metadata: a twentieth of a second of every command's start); their
    ``--version`` does, and prints it as argparse's version action did."""
    from irish_tune import arg_types
    from training import arguments

    looked_up = []
    monkeypatch.setattr(arg_types, "package_version", lambda: looked_up.append(1) or "9.9")
    irish_tune.build_parser()
    arguments.build_parser()
    assert looked_up == []
    train_prog = arguments.build_parser().prog  # train.py, or pytest's name under pytest
    for parse, prog in ((irish_tune.parse_args, "irish-tune"), (arguments.parse_args, train_prog)):
        with pytest.raises(SystemExit) as done:
            parse(["--version"])
        assert done.value.code == 0
        assert capsys.readouterr() == (f"{prog} 9.9\n", "")
    assert looked_up == [1, 1]


@pytest.mark.parametrize(
    ("command", "first"),
    [("check", "tunes: 1  parsed: 1  round-trip ok: 1"), ("transpose", "X:1")],
)
def test_check_from_the_command_line_imports_no_asyncio(tmp_path, command, first):
    """``irish-tune check``'s and ``transpose``'s progress bar is tqdm's terminal bar, which
    ``tqdm.auto`` gives outside a notebook too, without ``tqdm.auto``'s import of asyncio (half
    of a one-tune check's start); with IPython loaded the bar is ``tqdm.auto``'s choice."""
    from tqdm.auto import tqdm as auto_bar

    from modeling_irish.cli import progress_bar_class

    tune = tmp_path / "tune.abc"
    tune.write_text("X:1\nT:Tiny\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|\n", encoding="utf-8")
    then = """
        print("asyncio", "asyncio" in sys.modules)
    """
    lines = run_as_console_script([command, str(tune)], then)
    assert lines[0] == first
    assert lines[-2:] == ["loaded []", "asyncio False"]
    assert issubclass(auto_bar, progress_bar_class())  # the same bar, less its async iteration


#: A command run as ``irish-tune check -`` whose work sends itself the first Ctrl-C, and the
#: second where `_SECOND` puts it: in its cleanup, or in an atexit callback.
_TWO_CTRL_CS = """
import atexit, os, signal, sys, time
import irish_tune
from modeling_irish import cli

def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)

def command(args):
    try:
        ctrl_c()  # the first, while the command runs
        time.sleep(5)
    finally:
        {in_cleanup}

atexit.register(lambda: ({at_exit}, time.sleep(0.5)))
cli._resolve = lambda target: command
sys.argv = ["irish-tune", "check", "-"]
sys.exit(irish_tune.main())
"""

_SECOND = {  # where the second Ctrl-C lands: (in the cleanup, at exit)
    "while the command unwinds": ("ctrl_c(); time.sleep(5); print('cleanup went on')", "None"),
    "while the process exits": ("pass", "ctrl_c()"),
}


@pytest.mark.slow  # a fresh interpreter that imports torch
@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
@pytest.mark.parametrize("when", sorted(_SECOND))
def test_a_second_ctrl_c_prints_no_traceback_and_the_line_once(when):
    """Ctrl-C pressed twice (or held). A second one while the interpreter exits (atexit
    callbacks, joining torch's or a worker pool's threads) printed "Exception ignored ...
    KeyboardInterrupt" with a traceback: it is now ignored, and the exit finishes. One while
    the command unwinds from the first ends the process at once, as train.py does. Either way:
    the one line, status 130. The signals are sent by the process itself, where they land."""
    in_cleanup, at_exit = _SECOND[when]
    code = _TWO_CTRL_CS.format(in_cleanup=in_cleanup, at_exit=at_exit)
    done = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr == "irish-tune check: interrupted\n"
