"""Name that tune: index build/save/load/identify and the known/unseen retrieval protocols."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from helpers import synthetic_tune

from modeling_irish.configuration_tune_title import TuneTitleConfig
from modeling_irish.modeling_tune_title import TuneTitleModel
from modeling_irish.name_that_tune import TuneIndex, embed_titles, embed_tunes, identify, read_tunes
from modeling_irish.retrieval import random_baseline
from modeling_irish.retrieval_evaluation import _mrr_stderr, _query_rows, evaluate_retrieval
from tokenization.tokenization_abc import AbcTokenizer


def tune(x: int, title: str, tune_id: int, seed: int, bars: int = 8) -> str:
    return synthetic_tune(x, title, tune_id, seed, bars, notes="CDEFGABcde")


# 8 training tunes (tune ids 1..8), each with a second setting that is a copy (the query);
# 5 unseen tunes (ids 20..24) with titles of their own; one untitled tune.
TRAIN = [tune(i, f"Reel {i}", i, i) for i in range(1, 9)] + [tune(99, "x", 99, 99)]
KNOWN = [tune(100 + i, f"Reel {i}", i, i) for i in range(1, 9)]
UNSEEN = [tune(200 + i, f"New {i}", 20 + i, 50 + i) for i in range(5)]


@pytest.fixture(scope="module")
def tokenizer() -> AbcTokenizer:
    return AbcTokenizer.train(TRAIN + UNSEEN)


@pytest.fixture(scope="module")
def model(tokenizer) -> TuneTitleModel:
    torch.manual_seed(0)
    backbone = {
        "vocab_sizes": tokenizer.abc_vocab.sizes,
        "embedding_size": 16,
        "note_hidden_size": 16,
        "note_num_layers": 1,
        "measure_hidden_size": 16,
        "measure_num_layers": 1,
        "measure_num_heads": 2,
        "final_hidden_size": 16,
        "final_num_layers": 1,
    }
    config = TuneTitleConfig(
        tune_config={"backbone_config": backbone, "summary_hidden_size": 8},
        title_config={"encoder_type": "char_gru", "char_embed_dim": 8, "char_hidden_size": 8},
        projection_dim=8,
    )
    return TuneTitleModel(config).eval()


def test_read_tunes_fields():
    rec = read_tunes(TRAIN[:1])[0]
    assert rec["title"] == "Reel 1" and rec["tune_id"] == "1" and rec["abc"] == TRAIN[0]


@pytest.mark.parametrize(
    "text, title",
    [
        ("X:1\nT:\nM:4/4\nL:1/8\nK:D\ndfaf gfed|\n", ""),  # was 'M:4/4' (next line's)
        ("X:1\nT:The Kesh % learnt from Bob\nK:G\nGAG|\n", "The Kesh"),  # comment kept
        ("X:1\nT:   \nT:Second Title\nK:G\nGAG|\n", ""),  # was 'T:Second Title'
        ("X:1\nM:6/8\nK:G\nP:A\nGAG GAB|\nT:Part Two\nGAG|\n", ""),  # a section's T:
        ("X:1\nT:Tom Billy's\nT:Jig\nK:G\nGAG|\n", "Tom Billy's"),
    ],
)
def test_read_tunes_titles_a_tune_as_the_parser_does(text, title):
    from tokenization.abc_parser import parse_abc

    assert read_tunes([text])[0]["title"] == title == parse_abc(text).title


def test_index_build_save_load_identify(model, tokenizer, tmp_path):
    path = tmp_path / "corpus.abc"
    path.write_text("\n".join(TRAIN))
    index = TuneIndex.build(model, tokenizer, str(path))
    assert len(index) == 8  # the untitled tune is left out
    assert index.setting_embeds.shape == (8, 8) and index.title_embeds.shape == (8, 8)
    index.save(tmp_path / "index")
    assert not list((tmp_path / "index").glob("*.pkl"))
    loaded = TuneIndex.load(tmp_path / "index")
    assert loaded.titles == index.titles
    assert np.array_equal(loaded.setting_embeds, index.setting_embeds)
    assert loaded.setting_meters == index.setting_meters and len(index.setting_meters) == 8
    assert loaded.setting_modes == index.setting_modes and None not in index.setting_modes
    assert loaded.setting_rhythms == index.setting_rhythms == ["reel"] * 8
    top = identify(model, loaded, KNOWN[2], k=3, tokenizer=tokenizer, scoring="title")
    assert len(top) == 3 and all(t in index.titles for t, _ in top)
    assert top[0][1] >= top[1][1] >= top[2][1]
    # with the edit distance added, an exact copy of an indexed setting comes first
    hybrid = identify(model, loaded, KNOWN[2], k=1, tokenizer=tokenizer, scoring="hybrid")
    assert hybrid[0][0] == "Reel 3"
    assert identify(model, loaded, KNOWN[2], k=1, tokenizer=tokenizer) == hybrid  # the default
    # "setting" scoring: a copy of a setting has cosine 1 with that setting's embedding
    setting = identify(model, loaded, KNOWN[2], k=1, tokenizer=tokenizer, scoring="setting")
    assert setting == [("Reel 3", pytest.approx(1.0, abs=1e-4))]


def test_known_protocol_gallery_and_edit_distance_rank_one(tokenizer):
    m = evaluate_retrieval(None, tokenizer, TRAIN, KNOWN, "known", 20, 0, "edit-distance")
    assert m["gallery"] == 8 and m["queries"] == 8
    assert m["random_mrr_at_20"] == pytest.approx(sum(1 / r for r in range(1, 9)) / 8)
    assert m["mrr_at_20"] == 1.0 and m["r_at_1"] == 1.0  # exact excerpts of a training setting
    assert set(m) >= {"mrr_at_20", "r_at_1", "r_at_10", "queries", "gallery", "ms_per_query"}


def test_unseen_protocol_gallery_and_random_baseline(model, tokenizer):
    m = evaluate_retrieval(model, tokenizer, TRAIN, UNSEEN + KNOWN[:2], "unseen", 20, 0)
    assert m["gallery"] == 5 and m["queries"] == 5 and m["dropped_queries"] == 2
    assert m["dropped_reasons"] == {"not_in_protocol": 2, "unreadable": 0}
    assert m["random_mrr_at_20"] == pytest.approx(random_baseline(5, 20)["mrr_at_20"])
    # the ranks, computed here: each query's title among the 5, ties counted against it
    rows, readable = _query_rows(tokenizer, read_tunes(UNSEEN), 20, 0)
    assert readable == [0, 1, 2, 3, 4]
    titles = embed_titles(model, [f"New {i}" for i in range(5)])
    scores = np.stack([embed_tunes(model, [r])[0] @ titles.T for r in rows])
    # query i is "New i": its rank is 1 + the wrong titles scoring at least as high
    ranks = (scores >= np.diag(scores)[:, None]).sum(axis=1)
    assert ranks.min() >= 1 and len(set(ranks.tolist())) > 1  # not all one rank
    assert m["mean_rank"] == pytest.approx(ranks.mean())
    assert m["r_at_1"] == pytest.approx((ranks == 1).mean())
    assert m["mrr_at_20"] == pytest.approx((1 / ranks).mean())
    # the hybrid has no edit-distance score for unseen titles: it is the model alone
    hybrid = evaluate_retrieval(model, tokenizer, TRAIN, UNSEEN, "unseen", 20, 0, "hybrid")
    assert hybrid["mrr_at_20"] == pytest.approx(m["mrr_at_20"])
    assert hybrid["scorer"].startswith("hybrid (model alone")


def _scores_ranked(monkeypatch) -> list:
    """Record the `(queries, gallery)` scores `evaluate_retrieval` ranks, one array a call."""
    import modeling_irish.retrieval_evaluation as evaluation

    seen, real = [], evaluation.rank_of_targets

    def record(scores, targets):
        seen.append(np.array(scores))
        return real(scores, targets)

    monkeypatch.setattr(evaluation, "rank_of_targets", record)
    return seen


def test_known_protocol_hybrid_ranks_exact_copies_first(model, tokenizer, monkeypatch):
    seen = _scores_ranked(monkeypatch)
    alone = evaluate_retrieval(model, tokenizer, TRAIN, KNOWN, "known", 20, 0)
    hybrid = evaluate_retrieval(model, tokenizer, TRAIN, KNOWN, "known", 20, 0, "hybrid")
    assert alone["r_at_1"] < 1.0  # the random model alone does not find them
    assert hybrid["scorer"] == "hybrid" and hybrid["gallery"] == 8 and hybrid["queries"] == 8
    assert hybrid["r_at_1"] == 1.0 and hybrid["mrr_at_20"] == 1.0  # exact excerpts: first
    # the weight of the edit distance is a keyword: at 0 the hybrid is the model's cosine
    zero = evaluate_retrieval(
        model, tokenizer, TRAIN, KNOWN, "known", 20, 0, "hybrid", hybrid_weight=0.0
    )
    model_scores, hybrid_scores, zero_scores = seen
    np.testing.assert_allclose(zero_scores, model_scores, atol=1e-6)
    assert not np.allclose(hybrid_scores, model_scores)
    for key in ("mrr_at_20", "r_at_1", "r_at_10", "mean_rank"):
        assert zero[key] == pytest.approx(alone[key]), key


def test_evaluate_retrieval_command_with_a_model(model, tokenizer, tmp_path, capsys):
    import json

    from modeling_irish.cli import main

    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    (tmp_path / "train.abc").write_text("\n".join(TRAIN))
    (tmp_path / "known.abc").write_text("\n".join(KNOWN))
    argv = ["evaluate-retrieval", "--model", str(tmp_path / "model"),
            "--train", str(tmp_path / "train.abc"), "--queries", str(tmp_path / "known.abc"),
            "--protocol", "known", "--excerpt-notes", "20", "--baseline", "hybrid",
            "--json"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == {
        "mrr_at_20", "mrr_at_20_stderr", "r_at_1", "r_at_5", "r_at_10", "mean_rank",
        "median_rank", "queries", "gallery", "random_mrr_at_20", "ms_per_query",
        "dropped_queries", "dropped_reasons", "protocol", "scorer", "excerpt_notes", "query_order",
    }  # fmt: skip
    assert (metrics["queries"], metrics["gallery"], metrics["dropped_queries"]) == (8, 8, 0)
    assert metrics["mrr_at_20"] == metrics["r_at_1"] == metrics["r_at_10"] == 1.0
    assert metrics["random_mrr_at_20"] == pytest.approx(sum(1 / r for r in range(1, 9)) / 8)
    assert metrics["ms_per_query"] > 0
    assert (metrics["protocol"], metrics["scorer"], metrics["excerpt_notes"]) == (
        "known",
        "hybrid",
        20,
    )
    # the text table: one line a key, the reasons as words rather than a Python dict
    assert main(argv[:-1]) == 0
    lines = {
        line.split()[0]: line.split(None, 1)[1] for line in capsys.readouterr().out.splitlines()
    }
    assert lines["dropped_reasons"] == "not_in_protocol 0, unreadable 0"
    assert lines["mrr_at_20"] == "1.0000" and lines["queries"] == "8"


# Unseen tunes whose melodies are in training under other, related names (as on thesession,
# where one tune is often filed twice): the edit distance finds the melody, and the titles of
# the training settings it finds name the query through the MiniLM title space.
NAMED_TRAIN = [
    tune(300 + i, title, 30 + i, 70 + i)
    for i, title in enumerate(
        ["The Silver Spear", "The Lark in the Morning", "Drowsy Maggie", "The Butterfly"]
    )
]
RENAMED = [
    tune(400 + i, title, 40 + i, 70 + i)
    for i, title in enumerate(
        ["Silver Spear Reel", "Lark in the Morning", "Maggie Drowsy", "The Butterflies"]
    )
]
RENAMED[1] = RENAMED[1].replace("T:Lark in the Morning", "T:A Lark at Morning")


def test_unseen_edit_distance_names_the_query_by_its_nearest_tunes_titles(tokenizer):
    m = evaluate_retrieval(None, tokenizer, NAMED_TRAIN, RENAMED, "unseen", 20, 0, "edit-distance")
    assert m["queries"] == 4 and m["gallery"] == 4
    assert m["scorer"] == "edit-distance (neighbour titles + header prior)"
    assert m["r_at_1"] == 1.0  # every renamed copy is named by its training twin's title
    # with the training titles shuffled against their melodies, the copies are misnamed
    shuffled = [
        t.replace(f"T:{a}", f"T:{b}")
        for t, a, b in zip(
            NAMED_TRAIN,
            ["The Silver Spear", "The Lark in the Morning", "Drowsy Maggie", "The Butterfly"],
            ["Drowsy Maggie", "The Butterfly", "The Silver Spear", "The Lark in the Morning"],
        )
    ]
    wrong = evaluate_retrieval(None, tokenizer, shuffled, RENAMED, "unseen", 20, 0, "edit-distance")
    assert wrong["r_at_1"] == 0.0


def test_mrr_standard_error():
    # reciprocal ranks 1, 1/2 and 0 (rank 40 is beyond 20): sample std 0.5, over sqrt(3)
    assert _mrr_stderr(np.array([1, 2, 40]), 20) == pytest.approx(0.5 / np.sqrt(3))
    assert _mrr_stderr(np.array([3]), 20) is None  # one query: no spread (JSON null, not NaN)


def test_identical_query_copies_are_removed_from_training(tokenizer):
    m = evaluate_retrieval(
        None, tokenizer, TRAIN + KNOWN[:1], KNOWN[:1], "known", 20, 0, "edit-distance"
    )
    assert m["queries"] == 1 and m["r_at_1"] == 1.0  # still found through the other setting
    # a copy with another X: and header spacing is the same tune: it goes too, so a query whose
    # only training setting was its own copy is outside the protocol, not a free hit
    lone = tune(150, "Lone Reel", 30, 30)
    copy = lone.replace("X:150", "X: 7").replace("T:", "T: ")
    assert copy != lone
    m = evaluate_retrieval(
        None, tokenizer, TRAIN + [copy], KNOWN[:1] + [lone], "known", 20, 0, "edit-distance"
    )
    assert m["queries"] == 1 and m["dropped_reasons"]["not_in_protocol"] == 1
    # without S: lines, a copy is the same title and body
    bare, bare_copy = (re.sub(r"S:.*\n", "", text) for text in (lone, copy))
    m = evaluate_retrieval(
        None, tokenizer, TRAIN + [bare_copy], KNOWN[:1] + [bare], "known", 20, 0, "edit-distance"
    )
    assert m["queries"] == 1 and m["dropped_reasons"]["not_in_protocol"] == 1


def test_known_holdout_and_evaluation_agree_on_what_one_setting_is(tokenizer):
    from modeling_irish.tune_title_data import known_tune_holdout

    # tunes 1-3: a setting filed twice under one setting id (two bodies) and a second setting;
    # tunes 4-6: only the setting filed twice, which the evaluation takes as one setting
    texts = []
    for i in range(1, 7):
        texts += [tune(10 * i, f"Reel {i}", i, i), tune(10 * i, f"Reel {i}", i, 100 + i)]
        if i <= 3:
            texts.append(tune(10 * i + 1, f"Reel {i}", i, 200 + i))
    records = read_tunes(texts)
    titles, ids = [r["title"] for r in records], [r["tune_id"] for r in records]
    train, queries = known_tune_holdout(titles, ids, texts, seed=0)
    assert sorted(ids[q] for q in queries) == ["1", "2", "3"]
    held = [texts[q] for q in queries]
    m = evaluate_retrieval(
        None, tokenizer, [texts[i] for i in train], held, "known", 20, 0, "edit-distance"
    )
    assert (m["queries"], m["dropped_queries"], m["gallery"]) == (3, 0, 6)
    # the whole corpus as the training side: the evaluation leaves out what the holdout did
    whole = evaluate_retrieval(None, tokenizer, texts, held, "known", 20, 0, "edit-distance")
    assert whole == {**m, "ms_per_query": whole["ms_per_query"]}


def test_evaluation_refuses_what_it_cannot_score_and_says_why_no_query_is_left(tokenizer):
    for baseline in (None, "hybrid"):  # both need the model's title cosine
        with pytest.raises(ValueError, match="a model is needed unless the baseline is 'edit"):
            evaluate_retrieval(None, tokenizer, TRAIN, KNOWN, "known", 20, 0, baseline)
    with pytest.raises(ValueError, match="excerpt_notes is a number of notes .*got -3"):
        evaluate_retrieval(None, tokenizer, TRAIN, KNOWN, "known", -3, 0, "edit-distance")
    with pytest.raises(ValueError, match="of 5 queries, 5 are outside it \\(no training setting"):
        evaluate_retrieval(None, tokenizer, TRAIN, UNSEEN, "known", 20, 0, "edit-distance")
    for weights in ({"eighths_weight": float("nan")}, {"hybrid_weight": -1.0}):
        # refused before any tune is read (the training side here does not even exist)
        name = next(iter(weights))
        with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0"):
            evaluate_retrieval(
                None, tokenizer, "/no/such/train.abc", KNOWN, "known", 20, 0, "edit-distance",
                **weights,
            )  # fmt: skip


def test_edit_distance_representations_both_find_exact_excerpts(tokenizer):
    notes_only = evaluate_retrieval(
        None, tokenizer, TRAIN, KNOWN, "known", 20, 0, "edit-distance", eighths_weight=0.0
    )
    both = evaluate_retrieval(None, tokenizer, TRAIN, KNOWN, "known", 20, 0, "edit-distance")
    assert notes_only["r_at_1"] == both["r_at_1"] == 1.0


def test_index_keeps_note_lengths_for_the_per_eighth_distance(model, tokenizer, tmp_path):
    index = TuneIndex.build(model, tokenizer, TRAIN)
    # every tune is 8 bars of 8 eighth notes
    assert index.dur_flat is not None and index.dur_flat.tolist() == [1.0] * 64 * 8
    index.save(tmp_path / "index")
    loaded = TuneIndex.load(tmp_path / "index")
    assert np.array_equal(loaded.dur_flat, index.dur_flat)
    (tmp_path / "index" / "dur_flat.npy").unlink()  # an index saved before durations
    assert TuneIndex.load(tmp_path / "index").dur_flat is None


def test_identify_passes_the_snippet_meter_mode_and_rhythm_only_when_written(
    model, tokenizer, tmp_path
):
    path = tmp_path / "corpus.abc"
    path.write_text("\n".join(TRAIN))
    index = TuneIndex.build(model, tokenizer, str(path))
    assert set(index.setting_meters) == {"4/4"} and set(index.setting_modes) == {"major"}
    seen = []
    real = index.edit_distance_scores

    def spy(pitches, durations=None, meter=None, mode=None, rhythm=None, transpose=True, key=True):
        seen.append((meter, mode, rhythm, transpose, key))
        return real(pitches, durations, meter, mode, rhythm, transpose, key)

    index.edit_distance_scores = spy
    real_free = index.shift_free_scores

    def spy_free(pitches, durations=None, meter=None, rhythm=None):
        seen.append(("all 12 shifts", meter, rhythm))
        return real_free(pitches, durations, meter, rhythm)

    index.shift_free_scores = spy_free
    body = KNOWN[2].split("K:D\n")[1]
    for head in ("R:reel\nM:4/4\nK:D\n", "M:6/8\nK:Ador\n", ""):
        snippet = "X:1\n" + head + body
        identify(model, index, snippet, k=1, tokenizer=tokenizer, transpose=False)
    # 6/8 and dorian are not in this tokenizer's vocabulary (read as <unk>: no penalty); no K:
    # reads as C major, but that is no evidence of a mode (and the pitch-class scorer tries it
    # in all 12 transpositions); no M: is no meter, no R: no rhythm
    none = (None, None, None, False, True)
    free = ("all 12 shifts", None, None)
    assert seen == [("4/4", "major", "reel", False, True), none, free]
    # the default transposing scorer takes a snippet with K:; one without K: is still tried in
    # all 12 transpositions by pitch classes
    seen.clear()
    for head in ("R:reel\nM:4/4\nK:D\n", ""):
        top = identify(model, index, "X:1\n" + head + body, 1, tokenizer, "hybrid")
        plain = identify(model, index, "X:1\n" + head + body, 1, tokenizer, transpose=False)
        assert top[0][0] == plain[0][0]
    assert seen[0] == ("4/4", "major", "reel", True, True)
    assert seen[1] == ("4/4", "major", "reel", False, True)
    assert seen[2:] == [free] * 2


def test_index_and_identify_commands(model, tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN))
    assert main(["index", "--model", str(tmp_path / "model"), str(corpus)]) == 0
    assert "indexed 8 titles, 8 settings" in capsys.readouterr().out
    snippet = tmp_path / "snippet.abc"
    snippet.write_text("M:4/4\nL:1/8\nK:D\n" + KNOWN[4].split("K:D\n")[1])  # no X: line
    assert main(["identify", "--model", str(tmp_path / "model"), str(snippet), "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # the default (hybrid) scorer names the indexed tune of an exact copy first
    assert len(lines) == 2 and lines[0].split()[0] == "1" and lines[0].endswith("Reel 5")


def test_an_index_saved_without_meters_and_modes_still_loads(model, tokenizer, tmp_path):
    import json

    path = tmp_path / "corpus.abc"
    path.write_text("\n".join(TRAIN))
    TuneIndex.build(model, tokenizer, str(path)).save(tmp_path / "index")
    info_file = tmp_path / "index" / "tune_index.json"
    info = json.loads(info_file.read_text())
    # as an index of an earlier version
    del info["setting_meters"], info["setting_modes"], info["setting_rhythms"]
    info_file.write_text(json.dumps(info))
    old = TuneIndex.load(tmp_path / "index")
    assert old.setting_meters is None and old.setting_modes is None
    assert old.setting_rhythms is None
    top = identify(model, old, KNOWN[5], k=1, tokenizer=tokenizer)
    assert top[0][0] == "Reel 6"


def test_a_snippet_without_a_key_is_matched_in_any_transposition(tmp_path):
    from tokenization.abc_parser import parse_abc
    from tokenization.abc_writer import write_abc
    from tokenization.keys import normalise_tune, parse_key, transpose_tokens

    # "Reel 3" moved up a fourth and written out with explicit accidentals, with no K: field
    # (notes typed as heard): the reader takes it as C major, 5 semitones from the index
    normal = normalise_tune(parse_abc(KNOWN[2]))
    moved = write_abc(transpose_tokens(normal.tokens, 5), key=parse_key("C"), meter="4/4")
    headerless = "\n".join(
        line for line in moved.splitlines() if not line.startswith(("X:", "T:", "K:"))
    )
    tok = AbcTokenizer.train(TRAIN + [moved])
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN))
    index = TuneIndex.build(None, tok, str(corpus))
    top = identify(None, index, headerless, k=1, tokenizer=tok, scoring="edit-distance")
    assert top == [("Reel 3", 0.0)]
    # K:none is ABC's way of saying so (it was taken for a key, C major: not found exactly)
    for no_key in ("K:none", "K:", "K: none clef=treble"):
        keyless = f"X:1\nM:4/4\nL:1/8\n{no_key}\n{headerless}"
        top = identify(None, index, keyless, k=1, tokenizer=tok, scoring="edit-distance")
        assert top == [("Reel 3", 0.0)], no_key
    # with K:C written, the snippet is taken at its word: a fourth away, no longer exact
    keyed = dict(identify(None, index, moved, k=8, tokenizer=tok, scoring="edit-distance"))
    assert keyed["Reel 3"] < 0


def test_edit_distance_index_and_identify_need_no_model(model, tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN))
    index = TuneIndex.build(None, tokenizer, str(corpus))
    assert len(index) == 8 and index.title_embeds.shape == (8, 0)
    top = identify(None, index, KNOWN[6], k=2, tokenizer=tokenizer, scoring="edit-distance")
    assert top[0] == ("Reel 7", 0.0) and top[1][1] < 0  # an exact copy scores 0, others less
    with pytest.raises(ValueError, match="needs a tune-title model"):
        identify(None, index, KNOWN[6], tokenizer=tokenizer, scoring="hybrid")
    with pytest.raises(ValueError, match="needs a tune-title model"):
        identify(model, index, KNOWN[6], tokenizer=tokenizer)  # an index built without one
    # the same from the command line: a tokenizer folder instead of a model
    tokenizer.save_pretrained(tmp_path / "tok")
    out = str(tmp_path / "ed-index")
    assert main(["index", "--tokenizer", str(tmp_path / "tok"), str(corpus), "--out", out]) == 0
    capsys.readouterr()
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(KNOWN[6])
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 0
    assert capsys.readouterr().out.split() == ["1", "0.0000", "Reel", "7"]
    # a file of several tunes: each is named, under its X: and T: lines
    snippet.write_text(KNOWN[6] + "\n" + KNOWN[2])
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 0
    blocks = [b.splitlines() for b in capsys.readouterr().out.strip().split("\n\n")]
    assert blocks == [
        ["X:107 T:Reel 7", "  1   0.0000  Reel 7"],
        ["X:103 T:Reel 3", "  1   0.0000  Reel 3"],
    ]
    # one unreadable tune of a file is reported (exit status 1, as check); the others are named
    snippet.write_text(KNOWN[6] + "\nX:5\nT:Broken\nK:D\n>A|\n\n" + KNOWN[2])
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 1
    captured = capsys.readouterr()
    assert "Reel 7" in captured.out and "Reel 3" in captured.out and "Broken" not in captured.out
    assert "1 of 3 tunes could not be named" in captured.err
    assert main(["identify", "--index", out, str(snippet), "-k", "2", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["scoring"] == "edit-distance"
    assert [(t["tune"], t["line"], t["top"][0]["title"]) for t in data["tunes"]] == [
        ("X:107 T:Reel 7", 1, "Reel 7"),
        ("X:103 T:Reel 3", 15, "Reel 3"),
    ]
    assert all(len(t["top"]) == 2 and t["top"][0]["score"] == 0.0 for t in data["tunes"])
    (failure,) = data["failures"]
    assert failure["tune"] == "X:5 T:Broken" and failure["line"] == 10
    # the line of the file (as `check` gives it), not of the tune: `>A|` is line 13
    assert failure["error"].startswith("Broken: line 13, column 1")
    assert "tune at line 10 of" in captured.err and "Broken: line 13, column 1" in captured.err
    assert main(["identify", "--index", out, "--scoring", "hybrid", str(snippet)]) == 2
    assert "needs a tune-title model" in capsys.readouterr().err
    # a snippet of a few notes matches many tunes exactly: named all the same, with a warning
    snippet.write_text("K:D\nDFA|\n")
    assert main(["identify", "--index", out, str(snippet), "-k", "2"]) == 0
    assert "snippet at line 1 has 3 notes, too few to tell tunes apart" in capsys.readouterr().err
    # snippets without X: lines, between blank lines: each is named, none is dropped
    body = [tune.split("K:D\n")[1].strip() for tune in (KNOWN[6], KNOWN[2])]
    snippet.write_text(f"{body[0]}\n\n\n{body[1]}\n\nA]B|\n")
    assert main(["identify", "--index", out, str(snippet), "-k", "1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(t["tune"], t["top"][0]["title"]) for t in data["tunes"]] == [
        ("snippet at line 1", "Reel 7"),
        (f"snippet at line {len(body[0].splitlines()) + 3}", "Reel 3"),
    ]
    bad_line = len(body[0].splitlines()) + len(body[1].splitlines()) + 4
    assert data["failures"][0]["error"].startswith(f"line {bad_line}, column 2: ']'")
    assert main(["index", "--tokenizer", str(tmp_path / "tok"), str(corpus)]) == 2
    assert "--tokenizer and --out" in capsys.readouterr().err


def _edit_distance_index_cli(tokenizer, tmp_path):
    """TRAIN as a tunebook and an edit-distance index of it built by `irish-tune index` from a
    tokenizer folder: (the tunebook's path, the index folder)."""
    from modeling_irish.cli import main

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN))
    tokenizer.save_pretrained(tmp_path / "tok")
    (tmp_path / "tok" / "config.json").write_text('{"model_type": "measurenote"}')
    out = str(tmp_path / "idx")
    assert main(["index", "--tokenizer", str(tmp_path / "tok"), str(corpus), "--out", out]) == 0
    return corpus, out


def test_retrieval_commands_refuse_bad_inputs_clearly(model, tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    corpus, out = _edit_distance_index_cli(tokenizer, tmp_path)
    empty = tmp_path / "empty.abc"
    empty.write_text("")
    prose = tmp_path / "notes.txt"
    prose.write_text("This is a list of the tunes I like\n")
    cases = [
        (["index", "--model", str(tmp_path / "tok"), str(corpus)], "holds a 'measurenote' model"),
        (["index", "--tokenizer", str(tmp_path / "tok"), str(empty), "--out", out + "2"],
         "nothing to index"),
        (["identify", "--index", out, str(empty)], "is empty"),
        (["identify", "--index", out, str(prose)], "notes.txt: line 1, column 1: no K: field"),
        (["identify", "--index", str(tmp_path / "nope"), str(corpus)], "no index folder"),
    ]  # fmt: skip
    for argv, message in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv
    for bad in (["-k", "0"], ["-k", "-2"]):
        with pytest.raises(SystemExit) as exit_info:  # argparse: exit status 2 and the usage
            main(["identify", "--index", out, str(corpus), *bad])
        assert exit_info.value.code == 2
        assert "argument -k: must be at least 1" in capsys.readouterr().err


def test_identify_refuses_an_index_of_another_model_and_a_foreign_tokenizer(
    model, tokenizer, tmp_path, capsys
):
    from modeling_irish.cli import main

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN))
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(KNOWN[0])
    folder = tmp_path / "tt"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    assert main(["index", "--model", str(folder), str(corpus)]) == 0
    assert main(["identify", "--model", str(folder), str(snippet), "-k", "1"]) == 0
    capsys.readouterr()
    # the same architecture with other weights: its vectors would not be the index's
    other = TuneTitleModel(model.config)
    with torch.no_grad():
        other.title_projection.weight.add_(1.0)
    other.save_pretrained(tmp_path / "other")
    tokenizer.save_pretrained(tmp_path / "other")
    argv = ["identify", "--model", str(tmp_path / "other"), "--index", str(folder / "index")]
    assert main([*argv, str(snippet)]) == 2
    assert "was built with another model" in capsys.readouterr().err
    # a model reads its own tokenizer: --tokenizer beside --model is refused, not obeyed
    for command in (
        ["identify", "--model", str(folder), "--tokenizer", str(folder), str(snippet)],
        ["index", "--model", str(folder), "--tokenizer", str(folder), str(corpus)],
    ):
        assert main(command) == 2, command
        assert "--tokenizer is for an index without --model" in capsys.readouterr().err


def test_identify_exit_status_of_one_tune_that_cannot_be_named(tokenizer, tmp_path, capsys):
    """The README's statuses: one tune's error is the answer (2, on stderr) unless --json, which
    still prints its one object (1); in a file of several, 1 and the others named."""
    from modeling_irish.cli import main

    _, out = _edit_distance_index_cli(tokenizer, tmp_path)
    query = tmp_path / "query.abc"
    for tune, error in (("X:1\nT:Rests\nK:D\nz4|z4|\n", "only rests"),
                        ("X:1\nT:Odd key\nK:Q\nDFA|\n", "cannot read key 'Q'")):  # fmt: skip
        query.write_text(tune)
        capsys.readouterr()
        assert main(["identify", "--index", out, str(query)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and error in captured.err
        assert main(["identify", "--index", out, str(query), "--json"]) == 1
        data = json.loads(capsys.readouterr().out)
        assert data["tunes"] == [] and error in data["failures"][0]["error"]
        query.write_text(tune + "\n" + KNOWN[2])
        assert main(["identify", "--index", out, str(query), "-k", "1"]) == 1
        captured = capsys.readouterr()
        assert "Reel 3" in captured.out and error in captured.err


def test_a_bare_snippet_error_names_the_line_typed(tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    _, out = _edit_distance_index_cli(tokenizer, tmp_path)
    snippet = tmp_path / "bare.abc"
    snippet.write_text("K:D\nFAAB AF#D|\n")  # line 2, column 8: "#" is no ABC
    capsys.readouterr()
    assert main(["identify", "--index", out, str(snippet)]) == 2
    err = capsys.readouterr().err
    assert "bare.abc: line 2, column 8" in err and "X:1" not in err


def test_tunes_with_note_lengths_the_vocabulary_lacks(model, tokenizer, tmp_path):
    # the fixture tokenizer saw only eighth notes: "A2" and "B/" read as <unk> lengths
    odd = "X:300\nT:Reel 2\nS: https://thesession.org/tunes/2#setting300\nR:reel\nM:4/4\nL:1/8\n"
    odd += "K:D\nA2 B/B/ CDEF GABc|dcBA GFED|]\n"
    path = tmp_path / "corpus.abc"
    path.write_text("\n".join(TRAIN + [odd]))
    index = TuneIndex.build(model, tokenizer, str(path))  # encodes without reading tokens back
    assert len(index.setting_title) == 9
    top = identify(model, index, odd, k=1, tokenizer=tokenizer)
    assert top[0][0] == "Reel 2"
    # as a query, its excerpt cannot be read back: it is dropped and counted, not an error
    m = evaluate_retrieval(None, tokenizer, TRAIN, [odd, KNOWN[0]], "known", 0, 0, "edit-distance")
    assert m["queries"] == 1 and m["dropped_queries"] == 1 and m["r_at_1"] == 1.0
    assert m["dropped_reasons"] == {"not_in_protocol": 0, "unreadable": 1}


def test_a_snippet_played_across_a_repeat_is_found_in_played_order(tmp_path):
    rng = np.random.default_rng(7)
    bars = ["".join(rng.choice(list("CDEFGABcde"), 8)) for _ in range(8)]
    repeated = (
        "X:50\nT:Round Again\nS: https://thesession.org/tunes/50#setting50\nR:reel\nM:4/4\n"
        f"L:1/8\nK:D\n|:{bars[0]}|{bars[1]}|{bars[2]}|{bars[3]}:|"
        f"{bars[4]}|{bars[5]}|{bars[6]}|{bars[7]}|]\n"
    )
    # as heard: the end of the repeated part, then its start again
    snippet = f"M:4/4\nL:1/8\nK:D\n{bars[2]}|{bars[3]}|{bars[0]}|{bars[1]}|"
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN + [repeated]))
    tok = AbcTokenizer.train(TRAIN + [repeated])
    played = TuneIndex.build(None, tok, str(corpus))
    written = TuneIndex.build(None, tok, str(corpus), unfold_repeats=False)
    assert (played.meta["order"], written.meta["order"]) == ("played", "written")
    assert len(played.pitch_flat) == len(written.pitch_flat) + 32  # the part, twice
    top = identify(None, played, snippet, k=1, tokenizer=tok, scoring="edit-distance")
    assert top == [("Round Again", 0.0)]
    as_written = dict(identify(None, written, snippet, k=9, tokenizer=tok, scoring="edit-distance"))
    assert as_written["Round Again"] < 0  # the jump back is not in the written text


def test_played_order_excerpts_of_the_queries(tokenizer):
    from modeling_irish.retrieval_evaluation import _query_rows

    queries = read_tunes(KNOWN[:3])
    written, _ = _query_rows(tokenizer, queries, 30, 0)
    played, _ = _query_rows(tokenizer, queries, 30, 0, "played")
    assert len(written) == len(played) == 3  # synthetic reels have no repeats: the same crops
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(written, played))
    with pytest.raises(ValueError, match="query_order must be one of"):
        _query_rows(tokenizer, queries, 30, 0, "backwards")


def test_a_one_note_excerpt_of_rests_is_left_out_not_an_empty_query():
    from modeling_irish.retrieval_evaluation import _query_rows
    from modeling_irish.tune_title_data import NoteCropper

    # one note among seven rests: most 1-event excerpts are a rest, which no scorer can compare
    rests = "X:1\nT:Rests\nM:4/4\nL:1/8\nK:D\nz2z2z2A2|z2z2z2z2|\n"
    tokenizer = AbcTokenizer.train(TRAIN + [rests])
    (query,) = read_tunes([rests])
    cropper = NoteCropper(tokenizer)
    kept = [len(_query_rows(tokenizer, [query], 1, seed)[0]) for seed in range(12)]
    assert 0 < sum(kept) < 12
    for seed in range(12):
        for ids, _ in _query_rows(tokenizer, [query], 1, seed)[0]:
            assert cropper.pitches(ids).tolist() == [67]  # A in D major, on the white keys


def test_index_reports_the_tunes_it_leaves_out(tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    bad = "X:77\nT:Broken Reel\nM:4/4\nL:1/8\nK:D\nAB]c|\n"  # a chord closed, never opened
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN + [bad]))
    index = TuneIndex.build(None, tokenizer, str(corpus))
    report = index.meta["report"]
    assert report["read"] == len(TRAIN) + 1 and report["untitled"] == 1  # the tune titled `x`
    assert len(report["unreadable"]) == 1 and "Broken Reel" in report["unreadable"][0]
    # the line of the file, as `irish-tune check` names it, not the line within the tune
    text = corpus.read_text()
    body_line = text[: text.index("AB]c|")].count("\n") + 1
    assert f"{corpus}: Broken Reel: line {body_line}, column 3" in report["unreadable"][0]
    assert len(index.setting_title) == len(TRAIN) - 1
    tok_dir = tmp_path / "tok"
    tokenizer.save_pretrained(tok_dir)
    assert (
        main(["index", "--tokenizer", str(tok_dir), str(corpus), "--out", str(tmp_path / "i")]) == 0
    )
    out = capsys.readouterr().out
    assert (
        f"read {len(TRAIN) + 1} tunes; left out 1 without a title and 1 that could not be read"
        in out
    )
    assert "Broken Reel" in out and f"line {body_line}, column 3" in out


def test_evaluation_says_which_training_settings_it_could_not_read(tokenizer, caplog):
    bad = "X:77\nT:Reel 1\nM:4/4\nL:1/8\nK:D\nAB]c|\n"
    with caplog.at_level("WARNING", logger="modeling_irish.retrieval_evaluation"):
        m = evaluate_retrieval(
            None, tokenizer, TRAIN + [bad], KNOWN, "known", 30, 0, "edit-distance"
        )
    assert m["queries"] == len(KNOWN)
    assert "left out 1 of 9 training settings that could not be read" in caplog.text
    assert "']' without a chord" in caplog.text


def test_identify_without_a_model_defaults_to_the_edit_distance(tokenizer, tmp_path):
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN))
    index = TuneIndex.build(None, tokenizer, str(corpus))
    assert identify(None, index, KNOWN[6], k=1, tokenizer=tokenizer) == [("Reel 7", 0.0)]
    with pytest.raises(ValueError, match="k must be at least 1"):
        identify(None, index, KNOWN[6], k=0, tokenizer=tokenizer)


def test_a_damaged_or_newer_index_is_named_not_a_traceback(tokenizer, tmp_path, caplog):
    import json
    import shutil

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN))
    good = tmp_path / "idx"
    TuneIndex.build(None, tokenizer, str(corpus)).save(good)
    assert json.loads((good / "tune_index.json").read_text())["format"] == 3

    def damaged(edit) -> str:
        bad = tmp_path / f"bad{len(list(tmp_path.iterdir()))}"
        shutil.copytree(good, bad)
        edit(bad)
        return str(bad)

    def rewrite(folder, change):
        info = json.loads((folder / "tune_index.json").read_text())
        change(info)
        (folder / "tune_index.json").write_text(json.dumps(info))

    cases = [
        (lambda f: (f / "pitch_flat.npy").unlink(), FileNotFoundError, "no pitch_flat.npy"),
        (lambda f: (f / "tune_index.json").write_text('{"titles": ["a'), ValueError, "damaged"),
        (lambda f: rewrite(f, lambda i: i.update(titles=i["titles"][:2])), ValueError,
         "titles beyond"),
        (lambda f: rewrite(f, lambda i: i.update(setting_meters=["4/4"])), ValueError,
         "setting_meters has 1 entries"),
        (lambda f: rewrite(f, lambda i: i.update(format=99)), ValueError, "format 99"),
    ]  # fmt: skip
    for edit, error, message in cases:
        with pytest.raises(error, match=message):
            TuneIndex.load(damaged(edit))
    older = damaged(lambda f: (f / "dur_flat.npy").unlink())
    with caplog.at_level("WARNING"):
        assert len(TuneIndex.load(older)) == 8
    assert "built by an earlier version" in caplog.text


def test_identify_takes_a_tokenizer_when_the_index_lost_its_own(tokenizer, tmp_path, capsys):
    import shutil

    from modeling_irish.cli import main

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN))
    tokenizer.save_pretrained(tmp_path / "tok")
    out = str(tmp_path / "idx")
    assert main(["index", "--tokenizer", str(tmp_path / "tok"), str(corpus), "--out", out]) == 0
    shutil.move(tmp_path / "tok", tmp_path / "moved")
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(KNOWN[6])
    capsys.readouterr()
    assert main(["identify", "--index", out, str(snippet)]) == 2
    assert "--tokenizer DIR" in capsys.readouterr().err
    argv = ["identify", "--index", out, "--tokenizer", str(tmp_path / "moved"), str(snippet)]
    assert main([*argv, "-k", "1"]) == 0
    assert capsys.readouterr().out.split() == ["1", "0.0000", "Reel", "7"]


def test_evaluate_retrieval_reads_the_queries_from_stdin(tokenizer, tmp_path, monkeypatch, capsys):
    import io
    import json

    from modeling_irish.cli import main

    (tmp_path / "train.abc").write_text("\n".join(TRAIN))
    tokenizer.save_pretrained(tmp_path / "tok")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(KNOWN)))
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"), "--train",
            str(tmp_path / "train.abc"), "--queries", "-", "--protocol", "known",
            "--excerpt-notes", "20", "--baseline", "edit-distance", "--json"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["queries"] == 8 and metrics["mrr_at_20"] == 1.0
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))  # nothing piped in
    assert main(argv) == 2
    assert "--queries -: no tune on stdin" in capsys.readouterr().err


def test_evaluate_retrieval_shows_progress_on_a_terminal_only(
    tokenizer, tmp_path, monkeypatch, capsys
):
    import sys

    from modeling_irish.cli import main

    tokenizer.save_pretrained(tmp_path / "tok")
    (tmp_path / "train.abc").write_text("\n".join(TRAIN))
    (tmp_path / "known.abc").write_text("\n".join(KNOWN))
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"),
            "--train", str(tmp_path / "train.abc"), "--queries", str(tmp_path / "known.abc"),
            "--excerpt-notes", "20", "--baseline", "edit-distance", "--json"]  # fmt: skip
    assert main(argv) == 0
    assert "Scoring queries" not in capsys.readouterr().err  # piped: nothing but the result
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "Reading training tunes" in captured.err and "Scoring queries" in captured.err
    assert json.loads(captured.out)["queries"] == 8  # stdout holds the one JSON object still


def test_index_checks_its_out_folder_before_the_work(tokenizer, tmp_path, monkeypatch):
    from modeling_irish.cli import main
    from modeling_irish.name_that_tune import TuneIndex

    def never(*args, **kwargs):
        raise AssertionError("the index was built before --out was checked")

    monkeypatch.setattr(TuneIndex, "build", never)
    tok_dir = tmp_path / "tok"
    tokenizer.save_pretrained(tok_dir)
    (tmp_path / "a_file").write_text("")
    for out in (tmp_path / "a_file", tmp_path / "a_file" / "index"):
        argv = ["index", "--tokenizer", str(tok_dir), str(tmp_path), "--out", str(out)]
        assert main(argv) == 2


def test_identify_refuses_a_hybrid_weight_it_would_ignore(tmp_path, capsys):
    from modeling_irish.cli import main

    (tmp_path / "q.abc").write_text("X:1\nK:D\nFAAB AFED|\n")
    argv = ["identify", "--index", str(tmp_path), str(tmp_path / "q.abc"), "--hybrid-weight", "5"]
    assert main(argv) == 2
    assert "--hybrid-weight needs --model" in capsys.readouterr().err


def test_identify_refuses_a_model_the_index_was_not_built_with(model, tokenizer):
    # the command line checked this; the Python API scored with the wrong vectors (same width)
    # or failed inside numpy (another width)
    index = TuneIndex.build(model, tokenizer, TRAIN)
    assert identify(model, index, KNOWN[0], k=1, tokenizer=tokenizer)[0][0] == "Reel 1"
    torch.manual_seed(1)
    other = TuneTitleModel(model.config).eval()
    with pytest.raises(ValueError, match="was built with another model"):
        identify(other, index, KNOWN[0], k=1, tokenizer=tokenizer)


def test_an_index_records_its_model_folder_whole_and_says_when_it_has_none(
    model, tokenizer, tmp_path, monkeypatch
):
    # a model and a tokenizer made in memory record no folder: the message says so, not that a
    # folder is gone
    in_memory = TuneIndex.build(model, tokenizer, TRAIN)
    with pytest.raises(FileNotFoundError, match="records no tokenizer folder .*AbcTokenizer.train"):
        identify(model, in_memory, KNOWN[0], k=1)
    # a model loaded from a relative folder is recorded by its absolute path
    model.save_pretrained(tmp_path / "tt")
    tokenizer.save_pretrained(tmp_path / "tt")
    monkeypatch.chdir(tmp_path)
    loaded = TuneTitleModel.from_pretrained("tt").eval()
    index = TuneIndex.build(loaded, tokenizer, TRAIN)
    assert index.meta["model"] == str(tmp_path / "tt")
    monkeypatch.chdir("/")
    assert identify(loaded, index, KNOWN[0], k=1)[0][0] == "Reel 1"


def test_a_snippet_without_notes_is_refused_by_every_scorer(model, tokenizer):
    # rests alone gave "empty query" from the edit distance, and a ranking on nothing from the
    # title cosine: each scorer refuses it, naming the tune and its line
    from tokenization.abc_parser import AbcParseError

    index = TuneIndex.build(model, tokenizer, TRAIN)
    rests = "X:4\nM:4/4\nL:1/8\nK:D\nz8|z8|\n"
    for scoring in ("hybrid", "title", "setting", "edit-distance"):
        with pytest.raises(AbcParseError, match="X:4: line 1, column 1: has no notes, only rests"):
            identify(model, index, rests, k=2, tokenizer=tokenizer, scoring=scoring)
    with pytest.raises(AbcParseError, match="has no notes, only rests"):
        identify(None, index, "K:D\nz8|", k=2, tokenizer=tokenizer, scoring="edit-distance")
    # bar lines alone: the reader refuses them first, at the same place
    with pytest.raises(AbcParseError, match="Bars: line 1, column 1: tune has no notes: bar"):
        identify(model, index, "X:5\nT:Bars\nK:D\n|||\n", k=2, tokenizer=tokenizer)
    # notes all above the pitches this tokenizer saw (it knows C..e): read as <unk>
    with pytest.raises(AbcParseError, match="its 2 notes are all outside the pitch range"):
        identify(model, index, "X:6\nK:D\nc''c''|\n", k=2, tokenizer=tokenizer)


def test_a_snippet_of_rests_among_others_is_a_failure_not_the_end(tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    _, out = _edit_distance_index_cli(tokenizer, tmp_path)
    rests = "X:1\nM:4/4\nL:1/8\nK:D\nz8|z8|\n"
    snippet = tmp_path / "snippets.abc"
    snippet.write_text(KNOWN[6] + "\n" + rests + "\n" + KNOWN[2])
    rests_line = KNOWN[6].count("\n") + 2
    capsys.readouterr()
    assert main(["identify", "--index", out, str(snippet), "-k", "1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [t["top"][0]["title"] for t in data["tunes"]] == ["Reel 7", "Reel 3"]
    assert data["failures"] == [
        {
            "tune": "X:1",
            "line": rests_line,
            "error": f"X:1: line {rests_line}, column 1: has no notes, only rests: nothing to "
            "compare",
        }
    ]
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 1
    captured = capsys.readouterr()
    assert "Reel 7" in captured.out and "Reel 3" in captured.out
    assert f"the tune at line {rests_line} of {snippet}: X:1: line {rests_line}" in captured.err
    assert "1 of 3 tunes could not be named" in captured.err
    # bare snippets between blank lines: the block of rests is named by its own line
    body = KNOWN[6].split("K:D\n")[1].strip()
    snippet.write_text(f"{body}\n\nK:D\nz8|z8|\n")
    assert main(["identify", "--index", out, str(snippet), "-k", "1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["tunes"][0]["top"][0]["title"] == "Reel 7"
    start = len(body.splitlines()) + 2
    assert data["failures"] == [
        {
            "tune": f"snippet at line {start}",
            "line": start,
            "error": f"line {start}, column 1: has no notes, only rests: nothing to compare",
        }
    ]
    # a file of rests alone: what is wrong, and where
    snippet.write_text(rests)
    assert main(["identify", "--index", out, str(snippet)]) == 2
    assert f"{snippet}: X:1: line 1, column 1: has no notes, only rests" in capsys.readouterr().err
    # ... and with --json, still the one JSON object, the tune under its failures
    assert main(["identify", "--index", out, str(snippet), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["tunes"] == [] and [f["line"] for f in data["failures"]] == [1]
    assert "has no notes, only rests" in data["failures"][0]["error"]


def test_snippets_that_share_an_x_number_are_told_apart_by_their_line(tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    _, out = _edit_distance_index_cli(tokenizer, tmp_path)
    bodies = [tune.split("K:D\n")[1] for tune in (KNOWN[6], KNOWN[2])]
    snippet = tmp_path / "snippets.abc"
    snippet.write_text(
        "".join(f"X:1\nK:D\n{body}\n" for body in bodies) + "X:1\nK:D\nDFA|\n\nX:2\nK:D\nDFA|\n"
    )
    second, third = (
        len(bodies[0].splitlines()) + 4,
        sum(len(b.splitlines()) + 3 for b in bodies) + 1,
    )
    capsys.readouterr()
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 0
    captured = capsys.readouterr()
    headings = [block.splitlines()[0] for block in captured.out.strip().split("\n\n")]
    assert headings == ["X:1 (line 1)", f"X:1 (line {second})", f"X:1 (line {third})", "X:2"]
    assert f"X:1 (line {third}) has 3 notes, too few" in captured.err
    assert "X:2 has 3 notes" in captured.err
    # --json keeps the name and gives the line beside it
    assert main(["identify", "--index", out, str(snippet), "-k", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(t["tune"], t["line"]) for t in data["tunes"]] == [
        ("X:1", 1), ("X:1", second), ("X:1", third), ("X:2", third + 4)
    ]  # fmt: skip


def test_score_weights_must_be_finite_and_not_negative(model, tokenizer, tmp_path, capsys):
    # NaN, inf or a negative weight gave metrics (and rankings) of no meaning, with exit 0
    from modeling_irish.cli import main
    from modeling_irish.edit_distance import EditDistanceRanker

    (tmp_path / "train.abc").write_text("\n".join(TRAIN))
    (tmp_path / "known.abc").write_text("\n".join(KNOWN))
    tokenizer.save_pretrained(tmp_path / "tok")
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"), "--train",
            str(tmp_path / "train.abc"), "--queries", str(tmp_path / "known.abc"),
            "--baseline", "edit-distance", "--json"]  # fmt: skip
    for bad in ("nan", "inf", "-1"):
        with pytest.raises(SystemExit) as exit_info:  # argparse: exit status 2 and the usage
            main([*argv, "--eighths-weight", bad])
        assert exit_info.value.code == 2
        assert "argument --eighths-weight: must be a finite number >= 0" in capsys.readouterr().err
    assert main([*argv, "--eighths-weight", "0"]) == 0  # per note only
    assert json.loads(capsys.readouterr().out)["r_at_1"] == 1.0
    # the Python API: the scorer refuses them, and identify its hybrid weight
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match="eighths_weight must be a finite number >= 0"):
            EditDistanceRanker([[60, 62]], ["A"], eighths_weight=bad)
        with pytest.raises(ValueError, match="eighths_weight must be a finite number >= 0"):
            evaluate_retrieval(
                None, tokenizer, TRAIN, KNOWN, "known", 20, 0, "edit-distance", eighths_weight=bad
            )
    index = TuneIndex.build(model, tokenizer, TRAIN)
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match="hybrid_weight must be a finite number >= 0"):
            identify(model, index, KNOWN[0], k=1, tokenizer=tokenizer, hybrid_weight=bad)


def test_index_shows_its_progress_while_it_embeds_the_titles(model, tokenizer, capsys):
    # thesession's 8,309 titles took 36 s without a word before the settings' bar
    TuneIndex.build(model, tokenizer, TRAIN)
    err = capsys.readouterr().err
    assert re.search(r"Embedding titles: 100%\S* *\S* 8/8 ", err), err  # 8 titles, counted
    assert err.index("Embedding titles") < err.index("Embedding settings")
    TuneIndex.build(None, tokenizer, TRAIN)  # no model, no titles to embed
    assert "Embedding titles" not in capsys.readouterr().err
    embed_titles(model, ["Reel 1"])  # no label, no bar (as identify's model check calls it)
    assert capsys.readouterr().err == ""


def test_an_index_records_the_folder_of_its_tokenizer(model, tokenizer, tmp_path, monkeypatch):
    # built in Python from a tokenizer folder, without a model (or with one made in memory),
    # the index recorded no tokenizer and identify asked for one
    tokenizer.save_pretrained(tmp_path / "tok")
    monkeypatch.chdir(tmp_path)
    loaded = AbcTokenizer.from_pretrained("tok")  # a relative folder: recorded whole
    for with_model in (None, model):
        index = TuneIndex.build(with_model, loaded, TRAIN)
        assert index.meta["tokenizer"] == str(tmp_path / "tok")
        index.save(tmp_path / "index")
        monkeypatch.chdir("/")
        top = identify(with_model, TuneIndex.load(tmp_path / "index"), KNOWN[0], k=3)
        assert top[0][0] == "Reel 1"
        monkeypatch.chdir(tmp_path)
    assert "tokenizer" not in TuneIndex.build(None, tokenizer, TRAIN).meta  # made in memory


def test_identify_refuses_options_that_never_work_before_reading_the_input(
    model, tokenizer, tmp_path, monkeypatch, capsys
):
    # they were reported after the input was read, once per tune, as the input's fault
    # ("stdin: scoring 'title' needs ..."); now once, as a usage error, before reading it
    import shutil

    from modeling_irish import retrieval_cli
    from modeling_irish.cli import main

    corpus, ed_index = _edit_distance_index_cli(tokenizer, tmp_path)
    folder = str(tmp_path / "model")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    shutil.copytree(tmp_path / "tok", tmp_path / "gone")
    lost = str(tmp_path / "lost-idx")
    assert main(["index", "--tokenizer", str(tmp_path / "gone"), str(corpus), "--out", lost]) == 0
    shutil.rmtree(tmp_path / "gone")
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(KNOWN[6])
    capsys.readouterr()
    # the control: a model's folder with an index built without one serves the edit distance
    argv = ["identify", "--model", folder, "--index", ed_index, "--scoring", "edit-distance"]
    assert main([*argv, str(snippet), "-k", "1"]) == 0
    assert capsys.readouterr().out.split() == ["1", "0.0000", "Reel", "7"]

    def never(path):
        raise AssertionError(f"{path} was read before the options were checked")

    monkeypatch.setattr(retrieval_cli, "read_input", never)
    cases = [
        (["--index", ed_index, "--scoring", "title"], "--scoring title needs a tune-title model"),
        (["--index", ed_index, "--scoring", "setting"], "--scoring setting needs a tune-title"),
        (["--model", folder, "--index", ed_index], "--scoring hybrid needs an index built with"),
        (["--index", lost], "the tokenizer folder this index was built with"),
    ]  # fmt: skip
    for options, message in cases:
        assert main(["identify", *options, "-"]) == 2, options
        err = capsys.readouterr().err
        assert err.startswith(f"irish-tune identify: {message}"), (options, err)
        assert "stdin" not in err


def test_evaluate_retrieval_refuses_options_its_scorer_would_ignore(
    model, tokenizer, tmp_path, monkeypatch, capsys
):
    # --hybrid-weight was silently ignored unless --baseline hybrid (identify refused it), and
    # so were the edit distance's options where the model scores alone
    from modeling_irish import retrieval_evaluation
    from modeling_irish.cli import main

    calls = []

    def record(*args, **kwargs):
        calls.append(kwargs)
        return {"r_at_1": 1.0}

    monkeypatch.setattr(retrieval_evaluation, "evaluate_retrieval", record)
    folder = str(tmp_path / "model")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    queries = tmp_path / "known.abc"
    queries.write_text("\n".join(KNOWN))
    base = ["evaluate-retrieval", "--train", str(queries), "--queries", str(queries)]
    hybrid_unseen = ["--baseline", "hybrid", "--protocol", "unseen"]
    cases = [
        (["--hybrid-weight", "5"], "--hybrid-weight weighs --baseline hybrid, not the model alone"),
        (["--baseline", "edit-distance", "--hybrid-weight", "5"],
         "--hybrid-weight weighs --baseline hybrid, not --baseline edit-distance"),
        ([*hybrid_unseen, "--hybrid-weight", "5"],
         "--hybrid-weight: under --protocol unseen the hybrid is the model alone"),
        (["--eighths-weight", "0"],
         "--eighths-weight: options of the edit distance, which the scoring without --baseline "
         "does not use"),
        (["--no-transpose", "--no-unfold-repeats", "--no-meter-mode-penalty"],
         "--no-meter-mode-penalty and --no-transpose and --no-unfold-repeats: options of"),
        ([*hybrid_unseen, "--no-transpose"], "the scoring under --protocol unseen does not use"),
    ]  # fmt: skip
    for options, message in cases:
        capsys.readouterr()
        assert main([*base, "--model", folder, *options]) == 2, options
        assert message in capsys.readouterr().err, options
    # a negative seed: numpy's "expected non-negative integer" once the corpus was read, before
    with pytest.raises(SystemExit) as refused:
        main([*base, "--model", folder, "--seed", "-1"])
    assert refused.value.code == 2
    assert "argument --seed: must be >= 0, got -1" in capsys.readouterr().err
    assert calls == []
    # identify alike: --no-transpose is the edit distance's, which --scoring title never uses
    argv = ["identify", "--model", folder, "--scoring", "title", "--no-transpose", "-"]
    assert main(argv) == 2
    assert "--no-transpose: an option of the edit distance" in capsys.readouterr().err
    # the options each scorer uses still reach it, and the defaults are the documented ones
    assert main([*base, "--model", folder, "--baseline", "hybrid", "--hybrid-weight", "5"]) == 0
    assert main([*base, "--model", folder, *hybrid_unseen, "--query-order", "played"]) == 0
    argv = [*base, "--tokenizer", folder, "--baseline", "edit-distance", "--no-transpose"]
    assert main([*argv, "--eighths-weight", "0", "--protocol", "unseen"]) == 0
    assert main([*base, "--model", folder]) == 0
    weights = [(c["hybrid_weight"], c["eighths_weight"], c["transpose"]) for c in calls]
    assert weights == [(5.0, 1.0, True), (8.0, 1.0, True), (8.0, 0.0, False), (8.0, 1.0, True)]


def test_a_snippet_typed_across_first_and_second_endings_is_compared_as_typed(tmp_path):
    # README and DESIGN said a snippet written with repeat signs still lies in the played order:
    # not one typed across |1 ... :|2, whose two endings no pass plays in a row
    reel = (
        "X:9\nT:Endings Reel\nS: https://thesession.org/tunes/9#setting9\nR:reel\nM:4/4\n"
        "L:1/8\nK:D\n|:A2FA DAFA|BAFA d2cd|efga bgaf|dBAF ABde|1fdec d4:|2fdec d2cd||\n"
        "|:efga bgaf|gefd edcB|ABde fdec|dBAF ABde:|\n"
    )
    tok = AbcTokenizer.train(TRAIN + [reel])
    index = TuneIndex.build(None, tok, TRAIN + [reel])

    def score(body: str) -> float:
        snippet = f"X:1\nM:4/4\nL:1/8\nK:D\n{body}\n"
        return dict(identify(None, index, snippet, k=9, tokenizer=tok))["Endings Reel"]

    assert score("|:efga bgaf|gefd edcB:|") == 0.0  # a repeat sign: still in the played order
    assert score("dBAF ABde|fdec d2cd|efga bgaf|") == 0.0  # the second pass, as played
    assert -1 < score("dBAF ABde|1fdec d4:|2fdec d2cd|efga bgaf|") < 0  # both endings in a row
