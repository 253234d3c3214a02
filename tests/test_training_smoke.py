"""Smoke tests of `training/train.py` on a tiny model and a synthetic tunebook: whole runs of
either task and the model cards they write (the tunebook and the corpus cache are the session's,
`tests/conftest.py`). Resuming a run from a checkpoint is tested in `test_training_resume.py`."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch
from helpers import (  # noqa: F401
    TUNE_TITLE_FLAGS,
    card_model,
    one_torch_thread,
)
from helpers import training_argv as _argv
from helpers import training_curve as _train_curve
from helpers import training_tunebook as _tunebook
from huggingface_hub import metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results

from modeling_irish import lm_evaluation
from training import common
from training.train import main, parse_args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _index_figures(folder: Path) -> dict:
    """The figures of the ``model-index`` of ``folder``'s model card, as the Hub parses them."""
    index = metadata_load(folder / "README.md")["model-index"]
    return {r.metric_name: r.metric_value for r in model_index_to_eval_results(index)[1]}


# ----- end-to-end --------------------------------------------------------------------------------
def test_main_writes_a_folder_that_reloads_with_the_same_loss(tunebook, cache_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    import modeling_irish  # noqa: F401  (registers the Auto classes)
    from modeling_irish.abc_corpus import load_abc_corpus
    from tokenization.tokenization_abc import AbcTokenizer

    out = tmp_path / "run"
    results = main(_argv(tunebook, cache_dir, out, "--max_train_steps", "4", "--with_tracking"))

    for name in ("model.safetensors", "config.json", "abc_vocab.json", "tokenizer_config.json",
                 "all_results.json", "README.md"):  # fmt: skip
        assert (out / name).is_file(), name
    saved = json.loads((out / "all_results.json").read_text(encoding="utf-8"))
    assert saved["train_steps"] == 4 and saved["num_processes"] == 1
    assert saved["stopped_by"] == "max_train_steps"
    for key in ("eval_nll", "eval_nll_main", "eval_nll_dur", "eval_perplexity", "train_loss"):
        assert math.isfinite(saved[key]) and saved[key] > 0, key
    assert saved["eval_perplexity"] == pytest.approx(math.exp(saved["eval_nll"]))
    assert saved["corpus_train_tunes"] + saved["corpus_validation_tunes"] <= 12
    # the data split it trained on, for a tune-title run on it as a backbone to compare with
    split = saved["data_split"]  # the corpus by file name (uploaded); its paths in run_files.json
    assert split["corpus"] == [os.path.basename(tunebook)] and split["split_seed"] == 0
    local = json.loads((out / "run_files.json").read_text(encoding="utf-8"))["data_split"]
    assert local == {**split, "corpus": [os.path.abspath(tunebook)]}
    assert split["split_ratios"] == [0.5, 0.25, 0.25] and split["split_method"] == "shuffle"
    assert split["fingerprint"]["splits"]["train"]["tunes"] == saved["corpus_train_tunes"]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "trust_remote_code=True" in card and "Training data" in card
    assert _index_figures(out) == {k: saved[k] for k in _index_figures(out)}  # exact, as saved
    assert set(_index_figures(out)) >= {"eval_nll", "eval_perplexity", "eval_dur_acc"}
    assert "MeasureNote (small, resized) for" in card  # the tiny --config_overrides: not "small"
    # the tokenizer's counts in one line; the located drops stay in the run's report
    assert "The tokenizer left out " in card and "dropped_at" not in card
    # values the train split's vocabulary lacks, counted per split (the train split: none)
    report = saved["tokenize_report"]
    assert report["train"]["unknown"] == {} and "unknown" in report["validation"]
    assert ("Values the vocabulary lacks" in card) == bool(report["validation"]["unknown"])
    assert any(name.startswith("events.out.tfevents") for _, _, f in os.walk(out) for name in f)
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["step"] for r in log if "eval_nll" in r] == [2, 4]  # --eval_steps 2, no repeat
    assert [r["step"] for r in log if "train_loss" in r] == [1, 2, 3, 4]

    # Reload through the Auto classes and re-score the validation tunes from their ABC text.
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    tokenizer = AbcTokenizer.from_pretrained(out)
    corpus = load_abc_corpus(tunebook, split_ratios=(0.5, 0.25, 0.25))
    batch = tokenizer(corpus["validation"]["abc"])
    with torch.no_grad():
        output = model(**{k: v for k, v in batch.items() if k != "labels"})
    sums = lm_evaluation.per_tune_nll(output.logits, output.dur_logits, batch["labels"])
    again = lm_evaluation.summarise_nll(sums)
    assert again["nll"] == pytest.approx(results["eval_nll"], rel=1e-5)
    assert again["nll_dur"] == pytest.approx(results["eval_nll_dur"], rel=1e-5)


def test_the_progress_bar_shows_the_last_logged_train_loss(
    tunebook, cache_dir, tmp_path, monkeypatch
):
    """The MeasureNote bar read `4/10 [00:17<00:27, 4.59s/step]`: without --with_tracking the
    train loss went only to train_log.jsonl."""
    from training import train_measurenote

    shown = []

    class Recording(common.TrainingProgress):
        def update(self, loss=None, **kwargs):
            shown.append(loss)
            super().update(loss, **kwargs)

    monkeypatch.setattr(train_measurenote, "TrainingProgress", Recording)
    out = tmp_path / "run"
    main(_argv(tunebook, cache_dir, out, "--max_train_steps", "4", "--logging_steps", "2"))
    logged = dict(_train_curve(out))
    assert sorted(logged) == [2, 4]
    # steps 1..4: none logged yet, then step 2's loss until step 4 logs its own
    assert shown == [None, logged[2], logged[2], logged[4]]


def test_an_empty_validation_split_is_not_scored(tunebook, cache_dir, tmp_path, caplog):
    """An empty split was validated every --eval_steps: nll 0.0 and perplexity 1.0, logged."""
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--max_train_steps", "2", "--eval_steps", "1")
    results = main([*argv, "--split_ratios", "1", "0", "0"])
    assert results["corpus_validation_tunes"] == 0
    assert not [key for key in results if key.startswith("eval_")]
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["step"] for r in log] == [1, 2] and not [r for r in log if "eval_nll" in r]
    assert caplog.text.count("The validation split is empty") == 1


def test_fixed_budget_benchmark_stops_on_time_and_plots(tunebook, cache_dir, tmp_path):
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "train_fixed_budget.py"
    spec = importlib.util.spec_from_file_location("train_fixed_budget", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "budget"
    argv = _argv(tunebook, cache_dir, out)
    # the tiny-model flags of _argv, without its logging/eval cadence (the last four items)
    summary = bench.main(["--minutes", "0.01", "--output_dir", str(out), "--", *argv[:-4]])
    assert 1 <= summary["train_steps"] < 10**9  # stopped by the clock, not by the step count
    assert (
        json.loads((out / "all_results.json").read_text(encoding="utf-8"))["stopped_by"]
        == "max_train_minutes"
    )
    assert (out / "learning_curve.png").stat().st_size > 1000
    assert (
        json.loads((out / "fixed_budget.json").read_text(encoding="utf-8"))["budget_minutes"]
        == 0.01
    )


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_the_bar_shows_the_logged_mean_loss_and_ends_on_train_loss_last(
    task, tunebook, cache_dir, tmp_path, monkeypatch
):
    """The tune-title bar showed the last update's loss (0.771) while train_loss_last, in
    all_results.json and the card, was the mean of the last --logging_steps (0.8804)."""
    from training import train_measurenote, train_tune_title

    postfixes = []

    class Recording(common.TrainingProgress):
        def update(self, *args, **kwargs):
            super().update(*args, **kwargs)
            postfixes.append(self.bar.postfix)

    module = train_measurenote if task == "measurenote" else train_tune_title
    monkeypatch.setattr(module, "TrainingProgress", Recording)
    out = tmp_path / "run"
    flags = () if task == "measurenote" else TUNE_TITLE_FLAGS
    argv = _argv(tunebook, cache_dir, out, *flags, "--max_train_steps", "5")
    results = main([*argv, "--logging_steps", "2"])
    logged = dict(_train_curve(out))
    for step in (2, 4):  # the bar at a logging step: the value logged, named as a mean of 2
        assert postfixes[step - 1] == f"loss (mean of 2)={logged[step]:.3f}", step
    # the last update: both tasks log its window of one (tune-title logged no step 5, its
    # bar and train_loss_last averaging updates 4 and 5), the bar's last value
    count = 1
    assert results["train_loss_last_updates"] == count
    assert postfixes[-1] == f"loss (mean of {count})={results['train_loss_last']:.3f}"
    assert results["train_loss_last"] == logged[5]
    card = (out / "README.md").read_text(encoding="utf-8")
    over = "the last update" if count == 1 else f"the last {count} updates"
    assert f"`train_loss_last` is the mean training loss over {over}" in card
    assert f"as `loss (mean of {count})`" in card


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_off_a_terminal_progress_is_plain_lines_not_bar_redraws(
    task, tunebook, cache_dir, tmp_path, monkeypatch, capfd
):
    """``train.py ... 2>train.log`` filled the log with the training bar's carriage-return
    redraws: off a terminal stderr gets plain progress lines (every update here, the interval
    at 0). No bar redraws at all: transformers' ``Writing model shards`` bar of the saves (a
    checkpoint's and the final one) drew there too."""
    monkeypatch.setattr(common, "LOG_EVERY_SECONDS", 0.0)
    flags = () if task == "measurenote" else TUNE_TITLE_FLAGS
    steps = ("--max_train_steps", "3", "--checkpointing_steps", "2")
    main(_argv(tunebook, cache_dir, tmp_path / "run", *flags, *steps))
    err = capfd.readouterr().err
    assert "\r" not in err, [line for line in err.split("\n") if "\r" in line][:3]
    # the bar's redraws end in its rate, ``?step/s]``, ``41.06step/s]`` or ``2.5s/step]``
    assert "step/s]" not in err and "s/step]" not in err
    lines = [line for line in err.splitlines() if line.startswith("step ") and "/3" in line]
    assert [line.split(" ")[1].rstrip(",") for line in lines] == ["1/3", "2/3", "3/3"]
    assert "loss (mean of" in lines[-1] and "elapsed" in lines[-1]


def test_tune_title_task_trains_and_saves(tunebook, cache_dir, tmp_path):
    from transformers import AutoModel

    import modeling_irish  # noqa: F401  (Auto registrations)

    out = tmp_path / "tt"
    argv = _argv(tunebook, cache_dir, out, "--task", "tune_title", "--max_train_steps", "2")
    main(argv + ["--title_encoder", "char_gru", "--projection_dim", "16", "--crop_notes", "8"])
    assert (out / "model.safetensors").exists() and (out / "all_results.json").exists()
    # the process's whole time, as a MeasureNote run's: a tune-title run's lacked it
    saved = json.loads((out / "all_results.json").read_text(encoding="utf-8"))
    assert saved["wall_time_seconds"] >= saved["train_runtime_seconds"] > 0
    model = AutoModel.from_pretrained(out)
    assert type(model).__name__ == "TuneTitleModel"
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "trust_remote_code=True" in card and "Tunes are split" in card
    assert "| settings_per_group | 2 |" in card and "MeasureNote + bidirectional GRU" in card
    assert "| config_overrides | " in card  # the backbone's size is not the preset's
    assert "| title_max_length | 128 |" in card  # the char GRU's default cut, from the model


def test_the_tune_title_card_usage_names_a_tune_from_a_snippet_as_written(
    tunebook, cache_dir, tmp_path, monkeypatch, capsys
):
    """The card's Usage showed only get_title_features; what a reader wants first is to name a
    tune from a snippet. The snippet, copied out of a freshly written card, runs as it stands
    beside the folder and a tunes.abc: it indexes the tunes and names the snippet."""
    import ast
    import re

    out = tmp_path / "tt"
    main(_argv(tunebook, cache_dir, out, *TUNE_TITLE_FLAGS, "--max_train_steps", "1"))
    card = (out / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"## Usage\n.*?```python\n(.*?)```", card, re.S).group(1)
    assert snippet.index("identify(") < snippet.index("get_title_features")  # naming first
    monkeypatch.chdir(tmp_path)  # path = "tt": the folder, as a reader downloads it
    (tmp_path / "tunes.abc").write_text(
        Path(tunebook).read_text(encoding="utf-8"), encoding="utf-8"
    )
    capsys.readouterr()
    exec(compile(snippet, "README.md", "exec"), {})
    named = ast.literal_eval(capsys.readouterr().out.strip())
    titles = re.findall(r"^T:(.*)$", Path(tunebook).read_text(encoding="utf-8"), re.M)
    assert len(named) == 5 and all(title in titles for title, _ in named)
    assert (tmp_path / "tunes-index" / "tune_index.json").is_file()


def test_the_card_retrieval_figures_are_those_of_evaluate_retrieval_on_the_saved_tunes(
    cache_dir, tmp_path, capsys
):
    import re

    from modeling_irish.cli import main as cli

    # tunes 2k-1 and 2k: two settings of one tune (one thesession id and title), so that the
    # training split has known-tune queries to hold out
    def pair(match: re.Match) -> str:
        return str((int(match.group(1)) + 1) // 2)

    text = re.sub(r"(?<=number )(\d+)", pair, _tunebook())
    text = re.sub(r"(?<=tunes/)1(\d{3})", lambda m: f"9{pair(m)}", text)
    corpus = tmp_path / "pairs.abc"
    corpus.write_text(text, encoding="utf-8")
    out = tmp_path / "tt"
    argv = _argv(str(corpus), cache_dir, out, "--task", "tune_title", "--max_train_steps", "2")
    # whole tunes, in training and in the evaluation: the card's command said neither (it gave
    # 30-note excerpts' figures, and evaluate-retrieval refused --excerpt-notes 0)
    main(argv + ["--title_encoder", "char_gru", "--projection_dim", "16", "--crop_notes", "0",
                 "--eval_excerpt_notes", "0"])  # fmt: skip
    results = json.loads((out / "all_results.json").read_text(encoding="utf-8"))
    assert results["known_queries"] >= 1 and results["unseen_queries"] >= 1
    # the learning curve and the final figures are in train_log.jsonl, as for MeasureNote
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [(r["step"], "train_loss" in r) for r in log] == [(1, True), (2, True), (2, False)]
    assert log[-1]["known_mrr_at_20"] == results["known_mrr_at_20"]
    assert log[-1]["unseen_queries"] == results["unseen_queries"]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "trained on whole tunes" in card and "0-note" not in card
    figures = _index_figures(out)  # the Hub's evaluation results: exact, as all_results.json
    assert figures == {k: results[k] for k in figures} and "unseen_mrr_at_20" in figures
    assert "`known_*` = whole tunes of held-out settings" in card
    command = re.search(r"`(irish-tune evaluate-retrieval [^`]*)`", card).group(1)
    assert "--queries DIR/retrieval_eval/known.abc --protocol known" in command
    for protocol in ("known", "unseen"):
        capsys.readouterr()
        run = command.replace("known", protocol).replace("DIR", str(out))
        assert cli(run.split()[1:]) == 0  # the card's command, as a reader would run it
        metrics = json.loads(capsys.readouterr().out)
        assert metrics["excerpt_notes"] == 0 and metrics["queries"] >= 1
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and key != "ms_per_query":
                assert results[f"{protocol}_{key}"] == pytest.approx(value), (protocol, key)


def test_train_titles_counts_titles_not_title_groups(cache_dir, tmp_path):
    """all_results.json's train_titles counted the positive groups: two titles filed under one
    thesession tune id (one group) were one "title"."""
    text = _tunebook().replace("tunes/1002#", "tunes/1001#")  # tunes 1 and 2: one tune id
    corpus = tmp_path / "two_names.abc"
    corpus.write_text(text, encoding="utf-8")
    out = tmp_path / "tt"
    argv = _argv(str(corpus), cache_dir, out, *TUNE_TITLE_FLAGS, "--max_train_steps", "1")
    results = main([*argv, "--split_ratios", "1", "0", "0"])
    assert results["train_pairs"] == 12  # every tune, titled, in training
    assert results["train_titles"] == 12 and results["train_title_groups"] == 11
    assert json.loads((out / "all_results.json").read_text(encoding="utf-8"))["train_titles"] == 12
    assert "| train_titles | 12 |" in (out / "README.md").read_text(encoding="utf-8")


def test_a_skipped_retrieval_protocol_is_logged_and_left_out_of_the_card(
    tunebook, cache_dir, tmp_path, caplog
):
    """--known_queries 0 finished with no word and a card describing known_* figures it did not
    have; with --split_ratios 1 0 0 both protocols were skipped silently and train_log.jsonl
    got a record of no figures."""
    out = tmp_path / "no_known"
    flags = (*TUNE_TITLE_FLAGS, "--max_train_steps", "1", "--retrieval_eval_queries", "4")
    results = main(_argv(tunebook, cache_dir, out, *flags))  # TUNE_TITLE_FLAGS: --known_queries 0
    assert "unseen_mrr_at_20" in results and not any(k.startswith("known_m") for k in results)
    assert results["retrieval_eval_skipped"] == {
        "known": "--known_queries 0 holds out no setting to query"
    }
    assert "the known-tunes protocol is skipped: --known_queries 0" in caplog.text
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "`known_*`" not in card and "known.abc" not in card
    assert "The known-tunes protocol was not evaluated (--known_queries 0" in card
    assert "`unseen_*` = 30-note excerpts" in card and "--protocol unseen" in card

    caplog.clear()
    out = tmp_path / "no_eval"
    results = main(_argv(tunebook, cache_dir, out, *flags, "--split_ratios", "1", "0", "0"))
    assert not any(k.startswith(("known_m", "unseen_")) for k in results)
    assert "validation split is empty (--split_ratios 1 0 0)" in caplog.text
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert all("train_loss" in record for record in log)  # no record without figures
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Retrieval metrics" not in card and "evaluate-retrieval" not in card
    assert "The unseen-tunes protocol was not evaluated (the validation split is empty" in card


def test_a_single_query_stderr_is_null_in_all_results_and_n_a_on_the_card(
    tunebook, cache_dir, tmp_path
):
    """One unseen query has no standard error (None): retrieval_results kept numbers only, so
    unseen_mrr_at_20_stderr was missing from all_results.json, the log and the card."""
    out = tmp_path / "one"
    flags = (*TUNE_TITLE_FLAGS, "--max_train_steps", "1", "--retrieval_eval_queries", "1")
    results = main(_argv(tunebook, cache_dir, out, *flags))
    assert results["unseen_queries"] == 1 and results["unseen_mrr_at_20_stderr"] is None
    text = (out / "all_results.json").read_text(encoding="utf-8")
    assert "NaN" not in text and json.loads(text)["unseen_mrr_at_20_stderr"] is None  # null
    log = [
        json.loads(line)
        for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert log[-1]["unseen_mrr_at_20_stderr"] is None  # null, as the resumed run reads it
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| unseen_mrr_at_20_stderr | n/a (a single query) |" in card


def test_split_rule_names_the_run_ratios():
    from training.model_card import split_rule

    assert "split 90/5/5" in split_rule()
    assert "split 80/10/10" in split_rule((0.8, 0.1, 0.1))
    assert "keeps its split in a larger version" in split_rule(method="hash")
    assert "shuffled" not in split_rule(method="hash")
    assert "the same first 1 note (`--link_incipits 1`)" in split_rule(link_incipits=1)


def test_the_cards_give_the_licence_the_time_budget_and_no_local_backbone_path(tunebook, tmp_path):
    """The cards had no licence in their metadata, showed a time-budget run only as
    "max_train_steps 1000000000", and printed the tune-title run's --measurenote_path whole
    (a path of the trainer's machine, in a public card)."""
    from training.model_card import write_measurenote_card, write_tune_title_card

    lm = tmp_path / "private" / "measurenote-lm"
    lm.mkdir(parents=True)
    (lm / "config.json").write_text('{"model_type": "measurenote"}', encoding="utf-8")
    (lm / "abc_vocab.json").write_text("{}", encoding="utf-8")
    model = card_model()
    timed = ["--corpus", tunebook, "--max_train_minutes", "5", "--max_train_steps", "1000000000"]
    results = {"stopped_by": "max_train_minutes", "total_batch_size": 2, "train_steps": 7}
    cards = {}
    for task, extra in (("measurenote", []), ("tune_title", ["--measurenote_path", str(lm)])):
        args = parse_args([*timed, "--task", task, "--output_dir", str(tmp_path / task), *extra])
        os.makedirs(args.output_dir)
        if task == "measurenote":
            write_measurenote_card(args, model, results, {"tokenize": {}})
        else:
            write_tune_title_card(args, model, results)
        cards[task] = (tmp_path / task / "README.md").read_text(encoding="utf-8")
    # the tune-title run's default MiniLM title tower ships Apache-2.0 weights
    licences = {"measurenote": "mit", "tune_title": "apache-2.0"}
    for task, card in cards.items():
        assert metadata_load(tmp_path / task / "README.md")["license"] == licences[task], task
        assert "| max_train_minutes | 5 |" in card and "| stopped_by | max_train_minutes |" in card
    assert "| measurenote_path | measurenote-lm |" in cards["tune_title"]
    assert str(lm) not in cards["tune_title"]


def test_the_cards_leave_out_the_flags_the_run_ignored(tunebook, tmp_path):
    """The MeasureNote card of a --lr_scheduler_type constant run listed lr_step_size and
    lr_gamma as if they had been applied; the tune-title card listed --hinge_margin for any
    loss."""
    from training.model_card import write_measurenote_card, write_tune_title_card

    model = card_model()
    results = {"total_batch_size": 2, "train_steps": 7}
    cards = {}
    for name, flags in (
        ("constant", ["--lr_scheduler_type", "constant", "--lr_gamma", "0.1"]),
        ("step", ["--lr_gamma", "0.1"]),
        ("infonce", ["--task", "tune_title", "--title_encoder", "char_gru"]),
        ("hinge", ["--task", "tune_title", "--title_encoder", "char_gru", "--loss_type", "hinge"]),
    ):
        args = parse_args(["--corpus", tunebook, "--output_dir", str(tmp_path / name), *flags])
        os.makedirs(args.output_dir)
        if args.task == "measurenote":
            write_measurenote_card(args, model, results, {"tokenize": {}})
        else:
            write_tune_title_card(args, model, results)
        cards[name] = (tmp_path / name / "README.md").read_text(encoding="utf-8")
    assert "| lr_scheduler_type | constant |" in cards["constant"]
    assert "lr_gamma" not in cards["constant"] and "lr_step_size" not in cards["constant"]
    assert "| lr_gamma | 0.1 |" in cards["step"] and "| lr_step_size | 10000 |" in cards["step"]
    assert "hinge_margin" not in cards["infonce"] and "| hinge_margin |" in cards["hinge"]
    assert "finetune_title_encoder" not in cards["hinge"]  # the char_gru tower always trains


def test_the_cards_name_the_settings_that_shaped_the_data_and_the_eval_precision(
    tunebook, cache_dir, tmp_path
):
    """With --require_bars_fit --link_incipits 24 --split_seed 7 the card named none of them
    ("shuffled with a fixed seed") nor the tunes skipped as not fitting the meter, and its
    eval NLL under --mixed_precision bf16 came from a bf16 autocast validation, unsaid."""
    from training.model_card import write_tune_title_card

    corpus = tmp_path / "tunes.abc"
    bad_bar = "X:99\nT:Short bar\nR:reel\nM:4/4\nL:1/8\nK:D\nDFAd fdAF|GBd fdAF|A2FA DAFA|]\n"
    corpus.write_text(Path(tunebook).read_text(encoding="utf-8") + "\n" + bad_bar, encoding="utf-8")
    shaped = ["--require_bars_fit", "--link_incipits", "24", "--split_seed", "7"]
    out = tmp_path / "lm"
    argv = _argv(str(corpus), cache_dir, out, "--max_train_steps", "1", *shaped)
    results = main([*argv, "--mixed_precision", "bf16"])
    assert results["eval_precision"] == "bf16 autocast"
    card = (out / "README.md").read_text(encoding="utf-8")
    for row in ("split_seed | 7", "split_method | shuffle", "link_incipits | 24",
                "require_bars_fit | yes", "eval_precision | bf16 autocast"):  # fmt: skip
        assert f"| {row} |" in card, row
    assert "shuffled with seed 7" in card and "fixed seed" not in card
    assert "or the same first 24 notes (`--link_incipits 24`)" in card
    assert "read 13 tunes and skipped 1 (1 of them with a full bar that does not fit" in card
    assert "validation figures were computed under bf16 autocast" in card
    # without autocast the card says nothing of it (a new accelerate state: see conftest.py)
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    main(_argv(str(corpus), cache_dir, tmp_path / "fp32", "--max_train_steps", "1"))
    card = (tmp_path / "fp32" / "README.md").read_text(encoding="utf-8")
    assert "| eval_precision | float32 |" in card and "computed under" not in card
    assert "| require_bars_fit | no |" in card and "--link_incipits" not in card
    # the tune-title card: the same data settings; its retrieval figures are float32
    args = parse_args([*argv, "--task", "tune_title", "--title_encoder", "char_gru"])
    args.output_dir = str(tmp_path / "tt")
    os.makedirs(args.output_dir)
    report = {"corpus": {"read": 13, "skipped": 1, "duplicates": 0,
                         "skip_reasons": {"a full bar does not fit the meter "
                                          "(irish-tune check --bars)": 1}}}  # fmt: skip
    results = {"total_batch_size": 2, "train_steps": 1, "eval_precision": "float32"}
    write_tune_title_card(args, card_model(1), results, report)
    card = (tmp_path / "tt" / "README.md").read_text(encoding="utf-8")
    for row in ("split_seed | 7", "link_incipits | 24", "require_bars_fit | yes",
                "eval_precision | float32"):  # fmt: skip
        assert f"| {row} |" in card, row
    assert "shuffled with seed 7" in card and "skipped 1 (1 of them with a full bar" in card


def _both_cards(tunebook: str, tmp_path: Path, *flags: str) -> dict[str, str]:
    """The MeasureNote and tune-title cards of runs into ``tmp_path/<task>``, without training."""
    from training.model_card import write_measurenote_card, write_tune_title_card

    model = card_model()
    results = {"total_batch_size": 2, "train_steps": 7}
    cards = {}
    for task in ("measurenote", "tune_title"):
        out = tmp_path / task
        args = parse_args(["--corpus", tunebook, "--task", task, "--output_dir", str(out), *flags])
        os.makedirs(args.output_dir)
        if task == "measurenote":
            write_measurenote_card(args, model, results, {"tokenize": {}})
        else:
            write_tune_title_card(args, model, results)
        cards[task] = (out / "README.md").read_text(encoding="utf-8")
    return cards


def test_the_cards_usage_says_the_folder_needs_transformers_5(tunebook, tmp_path):
    """On transformers 4 the cards' Usage snippet failed deep in the folder's code
    ("cannot import name 'initialization'"), and nothing in the card said 5 was needed."""
    for task, card in _both_cards(tunebook, tmp_path).items():
        usage = card.split("## Usage", 1)[1]
        assert "needs `transformers>=5.10.1,<6`" in usage, task


def test_the_cards_usage_shows_no_local_path_of_the_trainer(tunebook, tmp_path):
    """Without --hub_model_id the Usage snippet printed the trainer's absolute --output_dir
    (`path = "/tmp/.../abs-run"`), a path of their machine in a card meant for others."""
    cards = _both_cards(tunebook, tmp_path)
    for task, card in cards.items():
        assert str(tmp_path) not in card, task
        assert f'path = "{task}"  # the folder you downloaded, or its Hub id' in card, task
        assert "from_pretrained(path, trust_remote_code=True)" in card, task
    hub = tmp_path / "hub"
    hub.mkdir()
    for task, card in _both_cards(tunebook, hub, "--hub_model_id", "user/tunes").items():
        assert 'path = "user/tunes"\n' in card, task


def test_the_measurenote_card_says_generating_needs_the_package(tunebook, tmp_path):
    """The card showed no way to generate; model.generate needs the package, not on PyPI."""
    card = _both_cards(tunebook, tmp_path)["measurenote"]
    assert "# Generating: model.generate(tokenizer, num_tunes=4" in card
    assert "needs the modeling-irish package, which is not on PyPI" in card


@pytest.fixture(scope="module")
def one_step_run(tunebook, cache_dir, tmp_path_factory) -> Path:
    """The folder of a one-update MeasureNote run, named ``run``."""
    out = tmp_path_factory.mktemp("one-step") / "run"
    main(_argv(tunebook, cache_dir, out, "--max_train_steps", "1", "--eval_steps", "0"))
    return out


def test_a_trained_folder_names_its_pipeline_for_pipeline_without_a_task(one_step_run):
    """The folder (and so its Hub repository) named no pipeline: ``pipeline(model=folder)``
    asked the Hub for the card's ``pipeline_tag`` (offline: no task at all), and on the Hub
    got text-generation, which fails on MeasureNote with an AttributeError (assistant_model).
    The folder's config.json names ``abc-generation`` and carries its code, as a saved
    pipeline does: with ``trust_remote_code=True`` that task is picked, without it
    transformers asks for it in one line."""
    from transformers import pipeline

    out = one_step_run
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert set(config["custom_pipelines"]) == {"abc-generation"}
    assert (out / "pipeline_abc.py").is_file()
    assert (
        "pipeline_abc.py"
        in json.loads((out / "run_files.json").read_text(encoding="utf-8"))["files"]
    )
    pipe = pipeline(model=str(out), trust_remote_code=True)
    assert type(pipe).__name__ == "AbcGenerationPipeline" and pipe.task == "abc-generation"
    (tune,) = pipe(None, rhythm="reel", seed=0)
    assert tune["generated_text"].startswith("X:1\n")
    with pytest.raises(ValueError, match=r"set the option `trust_remote_code=True`"):
        pipeline(model=str(out))


def test_the_measurenote_card_usage_runs_the_pipeline_as_written(one_step_run, monkeypatch, capsys):
    """The card's Usage named only model.generate: nothing of ``pipeline("abc-generation")``.
    The snippet, copied out of the run's card, runs as it stands beside the folder and prints
    a tune the pipeline sampled."""
    import re

    card = (one_step_run / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"## Usage\n.*?```python\n(.*?)```", card, re.S).group(1)
    assert 'pipeline("abc-generation", model=path, trust_remote_code=True)' in snippet
    monkeypatch.chdir(one_step_run.parent)  # path = "run": the folder, as a reader downloads it
    capsys.readouterr()
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    assert len(namespace["tunes"]) == 2
    printed = capsys.readouterr().out
    assert printed.startswith("X:1\n") and "R:reel" in printed and "K:D" in printed
