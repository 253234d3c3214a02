"""`irish-tune evaluate-lm`: JSON keys, and agreement with the model's own loss."""

from __future__ import annotations

import json
import math

import pytest
import torch
from helpers import tiny_measurenote_config

import modeling_irish  # noqa: F401  (Auto registrations)
from modeling_irish.cli import main
from modeling_irish.lm_evaluation import evaluate_lm_on_texts
from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
from tokenization.check import check_files
from tokenization.tokenization_abc import AbcTokenizer

TUNES = [
    "X:1\nT:A\nR:reel\nM:4/4\nL:1/8\nK:D\n"
    "|:DFAF dFAF|GBdB gBdB|DFAF dFAF|1 edcB A4:|2 edcB A2d2|]\n",
    "X:2\nT:B\nR:jig\nM:6/8\nL:1/8\nK:Ador\n|:A2B c2d|e2d c2B|A2B c2A|B2G G3:|\n",
    "X:3\nT:C\nR:polka\nM:2/4\nL:1/8\nK:G\n|:GA Bd|ef ge|dB AG|A2 A2:|\n",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    tokenizer = AbcTokenizer.train(TUNES)
    config = tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes)
    model = MeasureNoteForCausalLM(config).eval()
    folder = tmp_path_factory.mktemp("lm")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    book = folder / "tunes.abc"
    book.write_text("\n".join(TUNES) + "\nX:9\nT:bad\nK:G\nA]B|\n")
    return folder


def test_evaluate_lm_json(model_dir, capsys, caplog):
    path = model_dir / "tunes.abc"
    with caplog.at_level("WARNING", logger="modeling_irish.lm_evaluation"):
        assert main(["evaluate-lm", "--model", str(model_dir), str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"nll", "nll_main", "nll_dur", "perplexity", "tunes", "tokens", "skipped"}
    assert data["tunes"] == 3 and data["skipped"] == 1  # the broken fourth tune is skipped
    assert math.isclose(data["perplexity"], math.exp(data["nll"]), rel_tol=1e-9)
    # named by its file and the file's line, as `irish-tune check` names it
    (bad,) = check_files([path]).failures
    where = bad["error"][bad["error"].index("line ") :]
    assert f"{path}: " in caplog.text and where in caplog.text


def test_nll_main_matches_the_model_loss_on_one_tune(model_dir):
    model = MeasureNoteForCausalLM.from_pretrained(model_dir).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir)
    result = evaluate_lm_on_texts(model, tokenizer, TUNES[:1])
    batch = tokenizer(TUNES[:1])
    with torch.no_grad():
        out = model(**batch)
    assert result["nll_main"] == pytest.approx(out.loss_main.item(), rel=1e-5)
    assert result["nll_dur"] == pytest.approx(out.loss_dur.item(), rel=1e-5)
    # every row but the last predicts one main token
    assert result["tokens"] == int(batch["attention_mask"].sum()) - 1


def test_evaluate_lm_with_nothing_readable_is_an_error(model_dir, tmp_path, capsys):
    bad = tmp_path / "bad.abc"
    bad.write_text("X:9\nT:bad\nK:G\nA]B|\n")
    assert main(["evaluate-lm", "--model", str(model_dir), str(bad), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "nothing to score" in captured.err
