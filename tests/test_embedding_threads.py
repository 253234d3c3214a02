"""Torch threads while an index is embedded: one by default (two spin-wait on a busy 2-core
machine, ~8x slower, docs/BENCHMARKS.md), restored after; `irish-tune index --threads N`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import NAME_THAT_TUNE_TRAIN as TRAIN
from helpers import name_that_tune_model, name_that_tune_tokenizer  # noqa: F401 (fixtures)

import irish_tune
from modeling_irish import retrieval_cli
from modeling_irish.tune_embedding import embed_titles, embed_tunes
from modeling_irish.tune_index import TuneIndex


def _rows(tokenizer) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(e.input_ids, e.measure_numbers) for e in map(tokenizer.encode_tune, TRAIN[:4])]


def _threads_seen(model, monkeypatch) -> list[int]:
    """The torch thread count at each call of the model's two towers."""
    seen: list[int] = []
    for name in ("get_tune_features", "get_title_features"):
        real = getattr(model, name)

        def spy(*args, _real=real, **kwargs):
            seen.append(torch.get_num_threads())
            return _real(*args, **kwargs)

        monkeypatch.setattr(model, name, spy)
    return seen


@pytest.mark.parametrize("num_threads", [None, 1, 2])
def test_embedding_runs_on_the_threads_asked_and_restores_them(
    tokenizer, model, monkeypatch, num_threads
):
    before = torch.get_num_threads()
    other = 3 if before != 3 else 4  # a count that none of the cases asks for
    torch.set_num_threads(other)
    try:
        seen = _threads_seen(model, monkeypatch)
        embed_tunes(model, _rows(tokenizer), num_threads=num_threads)
        embed_titles(model, ["The Kesh", "Drowsy Maggie"], num_threads=num_threads)
        assert seen == [other if num_threads is None else num_threads] * 2
        assert torch.get_num_threads() == other
    finally:
        torch.set_num_threads(before)


def test_embedding_runs_on_one_thread_by_default(tokenizer, model, monkeypatch):
    seen = _threads_seen(model, monkeypatch)
    TuneIndex.build(model, tokenizer, TRAIN)
    assert seen and set(seen) == {1}


def test_embeddings_on_one_and_two_threads_agree(tokenizer, model):
    rows, titles = _rows(tokenizer), ["The Kesh", "Drowsy Maggie", "The Butterfly"]
    for embed, given in ((embed_tunes, rows), (embed_titles, titles)):
        one, two = embed(model, given, num_threads=1), embed(model, given, num_threads=2)
        np.testing.assert_allclose(one, two, rtol=0, atol=1e-5)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_embedding_refuses_a_thread_count_below_one_by_name(tokenizer, model, bad):
    with pytest.raises(ValueError, match=f"num_threads must be .*got {bad!r}"):
        embed_tunes(model, _rows(tokenizer), num_threads=bad)
    with pytest.raises(ValueError, match="num_threads must be"):
        embed_titles(model, ["The Kesh"], num_threads=bad)


def test_the_threads_flag_reaches_the_index_builder(tokenizer, model, monkeypatch, tmp_path):
    args = irish_tune.parse_args(["index", "--model", "m", "oneills1850", "--threads", "2"])
    assert args.threads == 2
    assert irish_tune.parse_args(["index", "--model", "m", "oneills1850"]).threads == 1
    asked = []

    def build(*args, **kwargs):
        asked.append(kwargs.get("num_threads"))
        raise SystemExit(0)  # the build itself is tested above

    monkeypatch.setattr(retrieval_cli, "load_model_and_tokenizer", lambda _: (model, tokenizer))
    monkeypatch.setattr(TuneIndex, "build", build)
    args.out = str(tmp_path / "idx")
    with pytest.raises(SystemExit):
        retrieval_cli.run_index(args)
    assert asked == [2]


@pytest.mark.parametrize("bad", ["0", "-2", "1.5", "many"])
def test_the_threads_flag_refuses_a_count_below_one_at_parse_time(capsys, bad):
    with pytest.raises(SystemExit) as exit_:
        irish_tune.parse_args(["index", "--model", "m", "oneills1850", "--threads", bad])
    assert exit_.value.code == 2 and "argument --threads" in capsys.readouterr().err
