"""The command line of `training/train.py`: its flags' defaults and refusals, errors said in
one line, and a --help that imports nothing heavy. The checks a resumed run makes of the flags
its checkpoint recorded: `test_training_resume_flags.py`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from helpers import TINY_MODEL_OVERRIDES, one_torch_thread, write_checkpoint  # noqa: F401

from training import common, run_folder
from training.train import parse_args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----- arguments ---------------------------------------------------------------------------------
def test_parse_args_defaults_and_sanity_checks(tunebook, capsys, monkeypatch, tmp_path):
    args = parse_args([])
    assert (args.task, args.preset, args.learning_rate, args.per_device_train_batch_size) == (
        "measurenote", "small", 3e-4, 32
    )  # fmt: skip
    assert (args.lr_scheduler_type, args.lr_step_size, args.lr_gamma) == ("step", 10_000, 0.5)
    assert parse_args(["--checkpointing_steps", "7"]).checkpointing_steps == 7
    from training.arguments import build_parser  # parse_args: no checkpoint here, refused

    assert build_parser().parse_args(["--resume_from_checkpoint"]).resume_from_checkpoint == (
        "latest"
    )
    assert parse_args(["--corpus", tunebook]).corpus == tunebook
    assert parse_args(["--train_file", tunebook, "oneills1850"]).corpus == [tunebook, "oneills1850"]
    assert parse_args(["--max_train_steps", "0", "--num_train_epochs", "2"]).max_train_steps == 0
    # --num_train_epochs alone is the budget (not silently capped by the default step count)
    assert parse_args(["--num_train_epochs", "2"]).max_train_steps == 0
    assert parse_args([]).max_train_steps == 300
    assert parse_args(["--split_ratios", "8", "1", "1"]).split_ratios == [8, 1, 1]  # normalised
    assert parse_args([]).output_dir == "runs/measurenote-small"
    assert parse_args(["--task", "tune_title"]).output_dir == "runs/tune-title"
    for bad, message in (
        (["--checkpointing_steps", "often"], "--checkpointing_steps must be a positive integer"),
        (["--push_to_hub"], "--push_to_hub needs --hub_model_id"),
        # the Hub client refused the name only at the upload, after the whole run
        (
            ["--push_to_hub", "--hub_model_id", "my model/irish tunes"],
            "--hub_model_id 'my model/irish tunes': its user 'my model' holds ' '; a Hub id is",
        ),
        (
            ["--hub_model_id", "user/irish/tunes"],
            "--hub_model_id 'user/irish/tunes': 'user/irish/tunes' has 3 parts separated by '/'",
        ),
        (["--max_train_steps", "0"], "trains for --num_train_epochs, which is not set"),
        (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size must be >= 1"),
        (["--with_tracking", "--report_to", "tensorbord"], "unknown tracker tensorbord; known:"),
    ):
        assert message in _refusal(capsys, bad), bad
    # a flag of the other task is ignored, and said to be
    parse_args(["--task", "tune_title", "--key_augmentation", "--eval_steps", "5"])
    said = capsys.readouterr().err
    assert "--key_augmentation is for --task measurenote; the tune-title task ignores it" in said
    assert "--eval_steps is for --task measurenote" in said
    parse_args(["--eval_steps", "5"])
    assert "is for --task" not in capsys.readouterr().err
    # and the other way round, and flags the chosen options make moot (all silent before)
    parse_args(["--loss_type", "hinge", "--crop_notes", "20"])
    assert "--crop_notes is for --task tune_title; --task measurenote ignores it" in (
        capsys.readouterr().err
    )
    moot = ["--hinge_margin", "0.2", "--title_encoder", "char_gru", "--finetune_title_encoder"]
    from helpers import save_tiny_measurenote

    backbone = str(save_tiny_measurenote(tmp_path / "m", ["X:1\nL:1/8\nK:D\nDFA dAF|"]))
    parse_args(["--task", "tune_title", *moot, "--preset", "base", "--measurenote_path", backbone])
    said = capsys.readouterr().err
    for name in ("--hinge_margin", "--finetune_title_encoder", "--preset"):
        assert f"train.py: {name} is ignored here (" in said, name
    parse_args(["--task", "tune_title", "--loss_type", "hinge", "--hinge_margin", "0.2"])
    assert "ignored" not in capsys.readouterr().err
    # every process of a multi-process launch reads the flags: only the first one says so
    monkeypatch.setenv("RANK", "1")
    parse_args(["--task", "tune_title", "--key_augmentation"])
    assert "is for --task" not in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # and an error too: every process exits with 2
        parse_args(["--max_train_steps", "-1"])
    assert refused.value.code == 2 and capsys.readouterr().err == ""
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(SystemExit):
        parse_args(["--max_train_steps", "-1"])
    assert "error: --max_train_steps" in capsys.readouterr().err
    monkeypatch.delenv("RANK")
    # several trackers, comma-separated, as accelerate takes them; one not installed is named
    from accelerate.tracking import get_available_trackers

    from training.arguments import tracker_problem

    assert tracker_problem("tensorboard") is None and tracker_problem("tensorboard, all") is None
    installed = {str(getattr(t, "value", t)) for t in get_available_trackers()}
    absent = next(name for name in ("wandb", "mlflow", "aim", "clearml") if name not in installed)
    refusal = _refusal(capsys, ["--with_tracking", "--report_to", f"tensorboard,{absent}"])
    assert f"{absent} not installed" in refusal


def test_flags_that_do_nothing_in_the_run_are_named(capsys):
    """--report_to without --with_tracking (wandb not even installed), --lr_gamma and
    --lr_step_size under the constant schedule, and --hub_token without --push_to_hub were
    accepted without a word."""
    parse_args(["--report_to", "wandb"])
    assert "train.py: --report_to is ignored here (only --with_tracking logs" in (
        capsys.readouterr().err
    )
    parse_args(["--lr_scheduler_type", "constant", "--lr_gamma", "0.1", "--lr_step_size", "1"])
    said = capsys.readouterr().err
    for name in ("--lr_gamma", "--lr_step_size"):
        assert f"train.py: {name} is ignored here (--lr_scheduler_type constant has no" in said
    parse_args(["--task", "tune_title", "--title_encoder", "char_gru", "--hub_token", "hf_xyz"])
    said = capsys.readouterr().err
    assert "train.py: --hub_token is ignored here (only --push_to_hub uses it)" in said
    assert "hf_xyz" not in said  # the secret is named, not shown
    # where they act, nothing is said
    parse_args(["--with_tracking", "--report_to", "tensorboard", "--lr_gamma", "0.1"])
    assert "ignored" not in capsys.readouterr().err


def test_a_hub_model_id_without_push_to_hub_is_named(capsys, tmp_path):
    """--hub_model_id without --push_to_hub uploaded nothing without a word (as transformers'
    TrainingArguments take it): the user, who named a repository, found none on the Hub."""
    parse_args(["--hub_model_id", "someone/tunes", "--output_dir", str(tmp_path)])
    said = capsys.readouterr().err
    assert "train.py: --hub_model_id someone/tunes uploads nothing without --push_to_hub" in said
    assert f"saved in {tmp_path} only" in said and said.count("\n") == 1
    parse_args(["--hub_model_id", "someone/tunes", "--push_to_hub"])  # where it acts: no word
    assert "uploads nothing" not in capsys.readouterr().err


def test_a_bare_hub_model_id_without_push_to_hub_names_the_cards_placeholder(capsys, tmp_path):
    """The warning said the card names `tunes`, a path the Hub cannot load; the card (no
    whoami without --push_to_hub) names `<your-user>/tunes`, and the warning says so."""
    parse_args(["--hub_model_id", "tunes", "--output_dir", str(tmp_path)])
    assert "model card names <your-user>/tunes as the model's path" in capsys.readouterr().err


def test_a_hub_model_id_that_is_no_hub_id_is_refused_saying_what_is_wrong(capsys):
    """--hub_model_id was refused in the Hub client's words ("Use `repo_type` argument if
    needed", an argument train.py has not), which named no part and no rule it broke."""
    for hub_model_id, why in (
        ("bad/na/me", "'bad/na/me' has 3 parts separated by '/'"),
        ("bad name", "its name 'bad name' holds ' '"),
        ("-leading", "its name '-leading' starts with '-'"),
        ("user/tunes.", "its name 'tunes.' ends with '.'"),
        ("me/" + "t" * 97, "its name is 97 characters long, over 96"),
        ("céilí/tunes", "its user 'céilí' holds 'é', 'í'"),
        ("me/reels--jigs", "its name 'reels--jigs' holds '--'"),
        ("me/tunes.git", "it ends in '.git'"),
        ("user/", "its name is empty"),
    ):
        said = _refusal(capsys, ["--push_to_hub", f"--hub_model_id={hub_model_id}"])
        assert said.split(": error: ", 1)[1] == (  # after argparse's "train.py"
            f"--hub_model_id {hub_model_id!r}: {why}; a Hub id is `name` or "
            "`user/name`: letters a-z A-Z, digits, '-', '_' and '.', at most 96 per part, not "
            "starting or ending with '-' or '.', no '--' or '..', no '.git' ending"
        ), hub_model_id
    assert parse_args(["--push_to_hub", "--hub_model_id", "me/" + "t" * 96]).push_to_hub


def _refusal(capsys, argv: list[str]) -> str:
    """The last stderr line of a `parse_args` that must exit with argparse's status 2."""
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_parse_args_refuses_a_backbone_folder_that_is_not_a_measurenote(capsys, tmp_path):
    tune_title = tmp_path / "tt"
    tune_title.mkdir()
    (tune_title / "config.json").write_text('{"model_type": "tune_title"}', encoding="utf-8")
    no_tokenizer = tmp_path / "lm"
    no_tokenizer.mkdir()
    (no_tokenizer / "config.json").write_text('{"model_type": "measurenote"}', encoding="utf-8")
    for folder, message in (
        (tmp_path / "missing", "no model folder"),
        (tune_title, "holds a 'tune_title' model; --measurenote_path wants a 'measurenote'"),
        (no_tokenizer, "holds no tokenizer (abc_vocab.json)"),
    ):
        line = _refusal(capsys, ["--task", "tune_title", "--measurenote_path", str(folder)])
        assert "--measurenote_path: " in line and message in line, line


def test_parse_args_refuses_a_backbone_whose_weights_are_damaged(capsys, tmp_path):
    """A model.safetensors cut short (a copy that stopped) ended in safetensors' traceback once
    the corpus had been read and tokenized."""
    from helpers import save_tiny_measurenote

    backbone = save_tiny_measurenote(tmp_path / "m", ["X:1\nL:1/8\nK:D\nDFA dAF|"])
    weights = backbone / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    line = _refusal(capsys, ["--task", "tune_title", "--measurenote_path", str(backbone)])
    assert f"--measurenote_path: {weights} is damaged: " in line, line


def test_parse_args_refuses_a_blank_corpus_naming_it(capsys):
    """``--corpus " "`` said "--corpus  : no such file or folder", the name invisible, and
    ``--corpus ""`` was checked as the current folder (``Path("")``)."""
    for name, what in (("", "the empty string"), (" ", "only whitespace (' ')")):
        line = _refusal(capsys, ["--corpus", name])
        assert f"--corpus {name!r}: an ABC source is {what}; give a file" in line, line
    line = _refusal(capsys, ["--corpus", " nope.abc"])
    assert line.endswith(
        "--corpus ' nope.abc': no such file or folder (nor 'music21', "
        "'oneills1850' or 'ryansMammoth')"
    ), line


def test_parse_args_refuses_missing_or_tuneless_corpus(capsys, tmp_path, tunebook):
    empty, text, folder = tmp_path / "empty.abc", tmp_path / "notes.txt", tmp_path / "no_abc"
    empty.write_text("", encoding="utf-8")
    text.write_text("Some notes\nabout tunes, not a tune.\n", encoding="utf-8")
    folder.mkdir()
    missing = str(tmp_path / "nope.abc")
    assert f"--corpus {missing}: no such file" in _refusal(capsys, ["--corpus", missing])
    for path in (empty, text):
        assert f"--corpus {path}: no ABC tunes found" in _refusal(capsys, ["--corpus", str(path)])
    assert "no *.abc files" in _refusal(capsys, ["--corpus", str(folder)])
    assert "no ABC tunes found" in _refusal(capsys, ["--corpus", tunebook, str(empty)])
    bom = tmp_path / "bom.abc"
    bom.write_bytes(b"\xef\xbb\xbfX:1\nT:t\nK:D\nDFA|\n")
    assert parse_args(["--corpus", str(bom)]).corpus == str(bom)  # X: after a BOM is a tune


_UNNUMBERED = "T:Tune {n}\nM:6/8\nL:1/8\nK:G\nGAB dBG|c2e dBG|\n"


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_parse_args_takes_the_corpus_the_loader_takes(capsys, tmp_path, task):
    """--corpus is taken or refused by the loader's rule (`split_tunebook`), with its reason."""
    nox = tmp_path / "nox.abc"  # blocks with K: and music, no X: line: tunes to the loader
    nox.write_text("\n".join(_UNNUMBERED.format(n=n) for n in range(3)), encoding="utf-8")
    wide = tmp_path / "wide.abc"  # "Unicode" from a Windows editor
    wide.write_bytes("X:1\r\nK:D\r\nDFA|\r\n".encode("utf-16"))
    for path in (nox, wide):
        assert parse_args(["--task", task, "--corpus", str(path)]).corpus == str(path)
    empty, words, text_block = tmp_path / "empty.abc", tmp_path / "words.abc", tmp_path / "tb.abc"
    empty.write_text("", encoding="utf-8")
    words.write_text("Some notes\nabout tunes, not a tune.\n", encoding="utf-8")
    text_block.write_text(
        "%%begintext\nX:1\nK:G\n%%endtext\n", encoding="utf-8"
    )  # typeset text, not a tune
    folder = tmp_path / "no_tunes"
    folder.mkdir()
    (folder / "blank.abc").write_text("\n\n", encoding="utf-8")
    for path, why in (
        (empty, "empty file"),
        (words, "a tune starts with an X: line"),
        (text_block, "a tune starts with an X: line"),
        (folder, "none of its 1 *.abc files holds a tune"),
    ):
        line = _refusal(capsys, ["--task", task, "--corpus", str(path)])
        assert line.endswith(f"--corpus {path}: no ABC tunes found ({why})"), line


def test_corpus_source_problem_takes_compressed_files_as_the_loader_does(tmp_path):
    """``book.abc.gz`` and ``tunes.csv.gz`` were refused before training ("no ABC tunes found
    (not a text file (NUL bytes))") though the loader reads them; a damaged one says so."""
    import gzip

    from training.arguments import corpus_source_problem

    book, dump, cut = tmp_path / "book.abc.gz", tmp_path / "tunes.csv.gz", tmp_path / "cut.abc.gz"
    book.write_bytes(gzip.compress(b"X:1\nK:G\nGA|\n"))
    dump.write_bytes(gzip.compress(b"tune_id,abc\n1,GA|\n"))
    cut.write_bytes(gzip.compress(b"X:1\nK:G\nGA|\n" * 40)[:-12])
    assert corpus_source_problem(str(book)) is None and corpus_source_problem(str(dump)) is None
    assert corpus_source_problem(str(tmp_path / "tunes.jsonl")).startswith("no such file")
    (tmp_path / "tunes.jsonl").write_text('{"abc": "GA|"}\n', encoding="utf-8")
    assert corpus_source_problem(str(tmp_path / "tunes.jsonl")) is None
    assert corpus_source_problem(str(cut)).startswith(
        "is a gzip-compressed file that cannot be decompressed ("
    )


def test_corpus_source_problem_agrees_with_split_tunebook(tmp_path):
    """The quick test for X: lines says what `split_tunebook` says, whatever the line ends."""
    from tokenization.abc_header import split_tunebook
    from training.arguments import corpus_source_problem

    texts = [
        "X:1\nK:G\nGA|\n",
        "\ufeffX:1\r\nK:G\r\nGA|\r\n",
        "T:a\rK:G\rGA|\rX:2\rK:D\rDE|\r",
        "% X:1 in a comment\n K:G\nGA|\n",
        "T:long\\\nX:1\nK:G\nGA|\n",  # a continued field takes in the X: line
        "T:a\nK:G\n",  # a header without music
        _UNNUMBERED.format(n=1),
    ]
    for n, text in enumerate(texts):
        path = tmp_path / f"{n}.abc"
        path.write_bytes(text.encode())
        assert (corpus_source_problem(str(path)) is None) == any(split_tunebook(text)), text


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_parse_args_refuses_bad_config_overrides(capsys, task):
    def refused(text: str) -> str:
        return _refusal(capsys, ["--task", task, "--config_overrides", text])

    assert "'note_hidden_size' is not of the form name=value" in refused("note_hidden_size")
    line = refused("bogus=3")
    assert "--config_overrides 'bogus=3': unknown config key 'bogus'" in line
    assert "note_hidden_size" in line  # the valid keys are listed
    assert "did you mean measure_num_heads" in refused("measure_num_head=4")
    assert "vocab_sizes" in refused("vocab_sizes=3") and "tokenizer" in refused("vocab_sizes=3")
    assert "divisible by measure_num_heads" in refused("note_hidden_size=30")
    # accepted, then a traceback in post_init after the data was read / a string in config.json
    assert "initializer_range must be > 0" in refused("initializer_range=-1")
    assert "initializer_range must be > 0" in refused("initializer_range=0")
    assert "dur_loss_weight=nan: must be a finite number" in refused("dur_loss_weight=nan")
    assert "use_cache='maybe': must be true or false" in refused("use_cache=maybe")
    assert "note_num_layers=2.5: must be an integer" in refused("note_num_layers=2.5")
    assert "note_dropout=inf: must be a finite number" in refused("note_dropout=inf")
    assert "note_dropout=True: must be a finite number" in refused("note_dropout=true")
    # a repeated key was last-wins, silently
    assert "'note_dropout' is given twice" in refused("note_dropout=0.1,note_dropout=0.3")
    assert parse_args(["--config_overrides", "use_cache=false,note_dropout=0"]).config_overrides
    from modeling_irish import MeasureNoteConfig

    with pytest.raises(ValueError, match="dur_loss_weight must be >= 0 and finite"):
        MeasureNoteConfig(dur_loss_weight=math.nan)  # the config's own check, for any caller
    assert parse_args(["--task", task, "--config_overrides", TINY_MODEL_OVERRIDES]).config_overrides


def test_parse_args_refuses_bad_output_cache_and_checkpoint_paths(capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    line = _refusal(capsys, ["--output_dir", str(afile)])
    assert f"--output_dir {afile}: it is an existing file" in line
    assert f"{afile} is a file" in _refusal(capsys, ["--output_dir", str(afile / "run")])
    assert "--cache_dir" in _refusal(capsys, ["--cache_dir", str(afile)])
    nockpt = str(tmp_path / "nockpt")
    line = _refusal(capsys, ["--resume_from_checkpoint", nockpt])
    assert f"--resume_from_checkpoint {nockpt}: no such folder" in line
    line = _refusal(capsys, ["--resume_from_checkpoint", str(tmp_path)])
    assert "not a checkpoint (no training_state.json)" in line
    # a file (it said "no such folder", though it is there)
    line = _refusal(capsys, ["--resume_from_checkpoint", str(afile)])
    assert f"--resume_from_checkpoint {afile}: it is a file, not a checkpoint folder;" in line
    (tmp_path / "step_2").mkdir()
    common.write_json(
        str(tmp_path / "step_2" / run_folder.TRAINING_STATE_FILE), {"completed_steps": 2}
    )
    state_file = tmp_path / "step_2" / run_folder.TRAINING_STATE_FILE
    line = _refusal(capsys, ["--resume_from_checkpoint", str(state_file)])
    assert f"give the checkpoint holding it, {tmp_path / 'step_2'}" in line
    resumed = parse_args(["--resume_from_checkpoint", str(tmp_path / "step_2")])
    assert resumed.resume_from_checkpoint == str(tmp_path / "step_2")
    # 'latest' with no checkpoint there: nothing to resume is an error, not a fresh start
    line = _refusal(capsys, ["--resume_from_checkpoint", "--output_dir", str(tmp_path / "new")])
    assert f"{tmp_path / 'new'} holds no checkpoint to resume (no such folder)" in line


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--max_train_steps", "-1"], "--max_train_steps must be >= 1 (or 0 with"),
        (["--max_train_steps", "0"], "--num_train_epochs, which is not set"),
        (["--num_train_epochs", "-2"], "--num_train_epochs must be >= 1, got -2"),
        # 0 was refused as "--max_train_steps 0 trains for --num_train_epochs, which is not set"
        (["--num_train_epochs", "0"], "--num_train_epochs must be >= 1, got 0"),
        (["--num_train_epochs", "0", "--max_train_steps", "5"], "--num_train_epochs must be >= 1"),
        (["--max_train_minutes", "0"], "--max_train_minutes must be > 0, got 0.0"),
        (["--max_train_minutes", "-5"], "--max_train_minutes must be > 0, got -5.0"),
        (["--per_device_eval_batch_size", "0"], "--per_device_eval_batch_size must be >= 1"),
        (["--gradient_accumulation_steps", "0"], "--gradient_accumulation_steps must be >= 1"),
        (["--eval_steps", "-1"], "--eval_steps must be >= 0, got -1"),
        (["--learning_rate", "nan"], "--learning_rate must be > 0, got nan"),
        (["--split_ratios", "0", "0.5", "0.5"], "--split_ratios must be non-negative with a"),
        (["--split_ratios", "0.5", "-0.5", "0.5"], "got 0.5 -0.5 0.5"),
        (["--checkpointing_steps", "0"], "--checkpointing_steps must be a positive integer"),
        (["--task", "tune_title", "--crop_notes", "-1"], "--crop_notes must be >= 0, got -1"),
        (["--task", "tune_title", "--projection_dim", "0"], "--projection_dim must be >= 1"),
        (["--task", "tune_title", "--title_max_length", "0"], "--title_max_length must be >= 1"),
        # the MiniLM config refused it with a traceback once the model was built
        (["--task", "tune_title", "--title_max_length", "513"], "must be <= 512 (the MiniLM"),
        # nan passed `value < low` (NaN weights, exit 0), inf every check
        (["--weight_decay", "nan"], "--weight_decay must be >= 0, got nan"),
        (["--lr_gamma", "inf"], "--lr_gamma must be a finite number, got inf"),
        (["--learning_rate", "inf"], "--learning_rate must be a finite number, got inf"),
        (["--weight_decay", "inf"], "--weight_decay must be a finite number, got inf"),
        (["--hinge_margin", "inf"], "--hinge_margin must be a finite number, got inf"),
        (["--split_ratios", "inf", "1", "1"], "--split_ratios must be finite numbers, got inf"),
        (["--split_ratios", "nan", "1", "1"], "--split_ratios must be finite numbers, got nan"),
        # an empty --output_dir read the corpus, then died in os.makedirs('')
        (["--output_dir", ""], "--output_dir is empty: give a folder"),
        (["--cache_dir", " "], "--cache_dir is empty: give a folder"),
        # numpy refused them with a traceback once the corpus was loaded
        (["--seed", "-1"], "--seed must be from 0 to 2**32 - 1, got -1"),
        (["--seed", str(2**32)], "--seed must be from 0 to 2**32 - 1, got 4294967296"),
        (["--split_seed", "-1"], "--split_seed must be from 0 to 2**32 - 1, got -1"),
    ],
)
def test_parse_args_refuses_out_of_range_numbers(capsys, flags, message):
    assert message in _refusal(capsys, flags)


def test_the_title_cut_check_reads_the_minilm_positions_of_the_model_config(capsys, monkeypatch):
    """The MiniLM's 512 positions were written twice, in `configuration_tune_title` and in
    `tune_title_arguments`, free to drift apart: the flag check now reads the config module's."""
    from modeling_irish import configuration_tune_title

    monkeypatch.setattr(configuration_tune_title, "MINILM_POSITIONS", 64)
    flags = ["--task", "tune_title", "--title_max_length", "65"]
    assert "--title_max_length must be <= 64 (the MiniLM" in _refusal(capsys, flags)


def test_cli_prints_runtime_input_errors_in_one_line(capsys, tmp_path):
    from training import train

    dump = tmp_path / "tunes.json"
    dump.write_text(
        '[{"name": "not a dump row"}]', encoding="utf-8"
    )  # exists, so only the loader can tell
    argv = ["--corpus", str(dump), "--output_dir", str(tmp_path / "out"),
            "--cache_dir", str(tmp_path / "cache")]  # fmt: skip
    with pytest.raises(train.UsageError, match="not a thesession.org dump"):
        train.main(argv)  # tests and scripts get the exception ...
    capsys.readouterr()
    assert train.cli(argv) == 2  # ... the command line one line and status 2
    err = capsys.readouterr().err
    last = f"train.py: error: --corpus {dump}: not a thesession.org dump (no row has an 'abc' "
    assert err.strip().splitlines()[-1].startswith(last)
    assert "Traceback" not in err


@pytest.mark.parametrize("rank", ["0", "1"])
def test_an_interrupted_launch_says_so_from_its_first_process_only(capsys, monkeypatch, rank):
    """Ctrl-C reaches every process of a launch: each printed "train.py: interrupted"."""
    from training import train

    def interrupted(argv=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "main", interrupted)
    monkeypatch.setenv("RANK", rank)
    assert train.cli([]) == 130
    assert capsys.readouterr().err == ("train.py: interrupted\n" if rank == "0" else "")


@pytest.fixture
def library_log_levels():
    import logging

    from training.train import LIBRARY_LOGGERS

    levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def progress_bars():
    """transformers' and datasets' progress bars shown, then as they were before the test."""
    import datasets
    import transformers.utils.logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled(), datasets.is_progress_bar_enabled()
    hf_logging.enable_progress_bar()
    datasets.enable_progress_bars()
    yield
    hf_logging.enable_progress_bar() if shown[0] else hf_logging.disable_progress_bar()
    datasets.enable_progress_bars() if shown[1] else datasets.disable_progress_bars()


def test_only_the_main_process_logs_the_corpus_loading(library_log_levels, progress_bars, caplog):
    """Every process loads the corpus: its INFO and WARNING lines came once per process."""
    import logging
    from types import SimpleNamespace

    from training.train import quiet_other_processes

    corpus = logging.getLogger("modeling_irish.abc_corpus")
    tokenize = logging.getLogger("tokenization.dataset")
    with caplog.at_level(logging.INFO):  # sets the root logger's level, as basicConfig does
        quiet_other_processes(SimpleNamespace(is_main_process=True))
        corpus.info("main: loaded")
        quiet_other_processes(SimpleNamespace(is_main_process=False))
        corpus.info("other: loaded")
        tokenize.warning("other: skipped")
        corpus.error("other: broken")
    assert [r.getMessage() for r in caplog.records] == ["main: loaded", "other: broken"]


def test_only_the_main_process_shows_the_weights_loading_bar(
    library_log_levels, progress_bars, tmp_path, capsys
):
    """Every process loads the MiniLM title tower: transformers' "Loading weights" bar came
    once per process (the loggers were quieted, not the bars)."""
    from types import SimpleNamespace

    import datasets
    from helpers import tiny_measurenote_config

    from modeling_irish import MeasureNoteForCausalLM
    from training.train import quiet_other_processes

    MeasureNoteForCausalLM(tiny_measurenote_config()).save_pretrained(tmp_path)
    bars = []
    for main_process in (True, False):
        quiet_other_processes(SimpleNamespace(is_main_process=main_process))
        MeasureNoteForCausalLM.from_pretrained(tmp_path)
        bars.append("Loading weights" in capsys.readouterr().err)
    assert bars == [True, False] and not datasets.is_progress_bar_enabled()


def test_corpus_whose_tunes_are_all_skipped_is_refused_before_training(tmp_path, cache_dir):
    from training import train

    noteless = tmp_path / "noteless.abc"
    noteless.write_text("X:1\nT:No notes\nK:D\n\nX:2\nT:None here\nK:G\n", encoding="utf-8")
    argv = ["--corpus", str(noteless), "--output_dir", str(tmp_path / "out"),
            "--cache_dir", cache_dir]  # fmt: skip
    with pytest.raises(train.UsageError) as refusal:
        train.main(argv)
    # named as the other --corpus errors are, the path once: "--corpus PATH: why"
    assert str(refusal.value).startswith(f"--corpus {noteless}: no readable ABC tunes: 2 read, ")
    assert "2 skipped" in str(refusal.value) and str(refusal.value).count("noteless.abc") == 1
    assert not (tmp_path / "out" / "model.safetensors").exists()
    # an earlier run there is kept: the refusal comes before the fresh start deletes it
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.safetensors").write_bytes(b"earlier")
    run_folder.record_run_files(str(tmp_path / "out"), ["model.safetensors"])  # an earlier run's
    with pytest.raises(train.UsageError, match="no readable ABC tunes"):
        train.main(argv)
    assert (tmp_path / "out" / "model.safetensors").read_bytes() == b"earlier"


def test_a_max_length_that_drops_every_training_tune_is_named_in_one_line(
    tunebook, cache_dir, tmp_path
):
    """--max_length 1 was refused as "--corpus ...: no training tunes left (corpus report:
    {...}; tokenizer report: {...})", one line of hundreds of characters blaming --corpus."""
    import re

    from helpers import training_argv

    from training import train

    argv = training_argv(tunebook, cache_dir, tmp_path / "out", "--max_train_steps", "1")
    with pytest.raises(train.UsageError) as refusal:
        train.main([*argv, "--max_length", "1"])
    message = str(refusal.value)
    found = re.fullmatch(
        r"all 6 training tunes are longer than --max_length 1 rows "
        r"\(the shortest has (\d+) rows: --max_length \1 keeps it\)",
        message,
    )
    assert found, message
    assert not (tmp_path / "out" / "model.safetensors").exists()
    # the length it names does keep a tune, and one row fewer keeps none
    shortest = found.group(1)
    assert train.main([*argv, "--max_length", shortest])["corpus_train_tunes"] >= 1
    with pytest.raises(train.UsageError, match="--max_length"):
        train.main([*argv, "--max_length", str(int(shortest) - 1)])


def test_a_corpus_that_is_a_pipe_is_refused_as_not_a_regular_file(capsys, tmp_path):
    """``--corpus <(cat t50.abc)`` (a /dev/fd pipe) was refused as "no such file or folder",
    though the path is there: it is read more than once, which a pipe cannot be."""
    import os

    pipe = tmp_path / "corpus.pipe"
    os.mkfifo(pipe)
    line = _refusal(capsys, ["--corpus", str(pipe), "--output_dir", str(tmp_path / "out")])
    assert f"error: --corpus {pipe}: not a regular file (a pipe?): " in line
    assert "reads the corpus more than once" in line and "save it to a file" in line
    assert "no such file" not in line


def test_command_line_exits_2_without_traceback(tmp_path):
    import subprocess
    import sys

    script = Path(__file__).parents[1] / "training" / "train.py"
    missing = str(tmp_path / "nope.abc")
    done = subprocess.run([sys.executable, str(script), "--corpus", missing],
                          capture_output=True, text=True, encoding="utf-8",
                          timeout=300)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"train.py: error: --corpus {missing}: no such file or folder "
        "(nor 'music21', 'oneills1850' or 'ryansMammoth')"
    )


@pytest.mark.parametrize("how", [["training/train.py"], ["-m", "training.train"]])
def test_version_prints_the_package_version_like_irish_tune(how):
    """``train.py --version`` answers as ``irish-tune --version`` does, run either way."""
    import subprocess
    import sys
    from importlib.metadata import version

    done = subprocess.run([sys.executable, *how, "--version"], cwd=Path(__file__).parents[1],
                          capture_output=True, text=True, encoding="utf-8",
                          timeout=120)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"train.py {version('modeling-irish')}\n"


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_help_and_version_print_from_the_first_process_of_a_launch_only(capsys, monkeypatch, flag):
    """Every process of ``accelerate launch --num_processes 2 train.py --version`` reads the
    flags: only the first prints the answer (each printed it, twice in all); all exit with 0."""
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(SystemExit) as done:
        parse_args([flag])
    assert done.value.code == 0 and capsys.readouterr() == ("", "")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(SystemExit) as done:
        parse_args([flag])
    assert done.value.code == 0 and capsys.readouterr().out.strip() != ""


#: What `train.py --help`, `--version`, a mistyped flag and the checks of the flags must not wait
#: for: each takes from a tenth of a second to seconds to import.
HEAVY = ("torch", "transformers", "accelerate", "datasets", "numpy", "modeling_irish")


def test_help_typos_and_flag_checks_import_nothing_heavy(tmp_path):
    """``train.py --help``, ``--version``, a mistyped flag and a bad value are answered, and good
    flags of both tasks read and checked, before torch and accelerate are imported (`main`
    imports them next). In a fresh interpreter: this one has them all loaded."""
    import subprocess
    import sys
    import textwrap

    root = Path(__file__).parents[1]
    code = textwrap.dedent(
        f"""
        import contextlib, io, runpy, sys
        statuses = []
        for argv in (["--help"], ["--version"], ["--nope"], ["--learning_rate", "-1"]):
            sys.argv = ["train.py", *argv]
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    runpy.run_path("training/train.py", run_name="__main__")
                except SystemExit as exit:
                    statuses.append(exit.code)
        print(statuses)
        from training.arguments import parse_args
        parse_args(["--output_dir", {str(tmp_path / "a")!r}])
        parse_args(["--task", "tune_title", "--title_encoder", "char_gru", "--output_dir",
                    {str(tmp_path / "b")!r}])
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        encoding="utf-8",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["[0, 0, 2, 2]", "[]"]


def test_rerun_into_a_trained_output_dir_warns_that_the_model_is_replaced(
    monkeypatch, tmp_path, caplog
):
    from training import train

    # the runners clear once their corpus is accepted (`run_folder.clear_earlier_run`)
    monkeypatch.setattr(
        train, "run_measurenote", lambda a, acc: run_folder.clear_earlier_run(a, acc)
    )
    out = tmp_path / "run"
    out.mkdir()
    train.main(["--output_dir", str(out)])  # no model yet: no warning
    assert "will be replaced" not in caplog.text
    (out / "model.safetensors").write_bytes(b"")
    run_folder.record_run_files(str(out), ["model.safetensors"])  # an earlier run's
    train.main(["--output_dir", str(out)])
    assert f"--output_dir {out} already holds a trained model" in caplog.text
    assert "will be replaced" in caplog.text
    assert not (out / "model.safetensors").exists()  # deleted up front, with the earlier run
    caplog.clear()
    (out / "model.safetensors").write_bytes(b"")
    with pytest.raises(SystemExit):  # 'latest', none there: refused, the model stays
        train.main(["--output_dir", str(out), "--resume_from_checkpoint"])
    assert (out / "model.safetensors").is_file() and "will be replaced" not in caplog.text
    (out / "step_2").mkdir()
    write_checkpoint(out / "step_2", {"completed_steps": 2})
    train.main(["--output_dir", str(out), "--resume_from_checkpoint"])  # continues, no warning
    assert "will be replaced" not in caplog.text


def test_parse_config_overrides_types():
    assert common.parse_config_overrides("a=1, b=0.5,c=True,d=gru") == {
        "a": 1, "b": 0.5, "c": True, "d": "gru"
    }  # fmt: skip
    with pytest.raises(ValueError):
        common.parse_config_overrides("note_hidden_size")


def test_config_overrides_and_a_pretrained_backbone_are_refused_together(tmp_path, capsys):
    argv = ["--task", "tune_title", "--measurenote_path", str(tmp_path)]
    refusal = _refusal(capsys, [*argv, "--config_overrides", "note_hidden_size=64"])
    assert "--measurenote_path brings a trained backbone" in refusal
