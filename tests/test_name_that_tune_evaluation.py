"""Name that tune: the known and unseen retrieval protocols of `evaluate_retrieval` and its
`irish-tune evaluate-retrieval` command."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from helpers import NAME_THAT_TUNE_KNOWN as KNOWN
from helpers import NAME_THAT_TUNE_TRAIN as TRAIN
from helpers import NAME_THAT_TUNE_UNSEEN as UNSEEN
from helpers import name_that_tune_model, name_that_tune_tokenizer, user_docs_text  # noqa: F401 (fixtures)
from helpers import name_that_tune_reel as tune

from modeling_irish import cli, edit_distance
from modeling_irish.name_that_tune import TuneIndex, embed_titles, embed_tunes, identify, read_tunes
from modeling_irish.retrieval import random_baseline
from modeling_irish.retrieval_evaluation import (
    NoUsableQueriesError,
    _mrr_stderr,
    evaluate_retrieval,
    excerpt_query_rows,
)
from tokenization.tokenization_abc import AbcTokenizer


def test_known_protocol_gallery_and_edit_distance_rank_one(tokenizer):
    m = evaluate_retrieval(None, tokenizer, TRAIN, KNOWN, "known", 20, 0, "edit-distance")
    assert m["gallery"] == 8 and m["queries"] == 8
    assert m["random_mrr_at_20"] == pytest.approx(sum(1 / r for r in range(1, 9)) / 8)
    assert m["mrr_at_20"] == 1.0 and m["r_at_1"] == 1.0  # exact excerpts of a training setting
    assert set(m) >= {"mrr_at_20", "r_at_1", "r_at_10", "queries", "gallery", "ms_per_query"}


def test_the_user_docs_list_every_key_of_evaluate_retrieval_json(tokenizer):
    m = evaluate_retrieval(None, tokenizer, TRAIN, KNOWN, "known", 20, 0, "edit-distance")
    readme = user_docs_text()  # README.md and its guides
    at = readme.index("irish-tune evaluate-retrieval --model runs/tune-title")
    block = readme[at : readme.index("```", at)]  # the command and its output's comment
    missing = [key for key in [*m, *m["dropped_reasons"]] if f'"{key}"' not in block]
    assert not missing


def test_unseen_protocol_gallery_and_random_baseline(model, tokenizer):
    m = evaluate_retrieval(model, tokenizer, TRAIN, UNSEEN + KNOWN[:2], "unseen", 20, 0)
    assert m["gallery"] == 5 and m["queries"] == 5 and m["dropped_queries"] == 2
    assert m["dropped_reasons"] == {"not_in_protocol": 2, "unreadable": 0}
    assert m["random_mrr_at_20"] == pytest.approx(random_baseline(5, 20)["mrr_at_20"])
    # the ranks, computed here: each query's title among the 5, ties counted against it
    rows, readable = excerpt_query_rows(tokenizer, read_tunes(UNSEEN), 20, 0)
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
    (tmp_path / "train.abc").write_text("\n".join(TRAIN), encoding="utf-8")
    (tmp_path / "known.abc").write_text("\n".join(KNOWN), encoding="utf-8")
    argv = ["evaluate-retrieval", "--model", str(tmp_path / "model"),
            "--train", str(tmp_path / "train.abc"), "--queries", str(tmp_path / "known.abc"),
            "--protocol", "known", "--excerpt-notes", "20", "--baseline", "hybrid",
            "--json"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == {
        "mrr_at_20", "mrr_at_20_stderr", "r_at_1", "r_at_5", "r_at_10", "mean_rank",
        "median_rank", "queries", "gallery", "random_mrr_at_20", "ms_per_query",
        "dropped_queries", "dropped_reasons", "changed_queries", "copied_queries",
        "train_copies_removed", "protocol", "scorer", "excerpt_notes", "query_order",
    }  # fmt: skip
    assert (metrics["queries"], metrics["gallery"], metrics["dropped_queries"]) == (8, 8, 0)
    assert metrics["changed_queries"] == 0
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


def test_unseen_query_copied_from_training_is_counted_and_said(tokenizer, caplog):
    """A query that copies a --train tune (its title and body) was taken out of training and
    scored as unseen without a word: now counted in the object and said in a warning."""
    queries = [*RENAMED, NAMED_TRAIN[0]]  # the last one is in training, twice
    train = [*NAMED_TRAIN, NAMED_TRAIN[0].replace("X:300", "X:399")]
    with caplog.at_level("WARNING", logger="modeling_irish.retrieval_evaluation"):
        m = evaluate_retrieval(None, tokenizer, train, queries, "unseen", 20, 0, "edit-distance")
    assert m["queries"] == 5 and m["dropped_queries"] == 0
    assert (m["copied_queries"], m["train_copies_removed"]) == (1, 2)
    assert "1 of the unseen-protocol queries copies a training tune" in caplog.text
    assert "2 training tunes taken out as copies first, and that query" in caplog.text
    plain = evaluate_retrieval(
        None, tokenizer, NAMED_TRAIN, RENAMED, "unseen", 20, 0, "edit-distance"
    )
    assert (plain["copied_queries"], plain["train_copies_removed"]) == (0, 0)


def test_one_query_with_one_training_copy_is_said_in_the_singular(tokenizer, caplog):
    """One query with one copy in --train was said as "1 of the ... queries copy" and "1
    training tunes taken out as their copies"."""
    queries = [*RENAMED, NAMED_TRAIN[0]]  # the last one is in training, once
    with caplog.at_level("WARNING", logger="modeling_irish.retrieval_evaluation"):
        m = evaluate_retrieval(
            None, tokenizer, NAMED_TRAIN, queries, "unseen", 20, 0, "edit-distance"
        )
    assert (m["copied_queries"], m["train_copies_removed"]) == (1, 1)
    assert "1 of the unseen-protocol queries copies a training tune" in caplog.text
    assert "1 training tune taken out as a copy first, and that query scored" in caplog.text


def test_known_query_copied_from_training_is_counted(tokenizer):
    """Under the known protocol a query's copies in --train are held out, as the protocol means:
    counted in the object too."""
    train = [*TRAIN, *KNOWN[:2]]  # two queries' copies, beside another setting of their titles
    m = evaluate_retrieval(None, tokenizer, train, KNOWN, "known", 20, 0, "edit-distance")
    assert m["queries"] == 8 and m["r_at_1"] == 1.0
    assert (m["copied_queries"], m["train_copies_removed"]) == (2, 2)


def _nan_at(scores: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """`scores` with row i's item `columns[i]` NaN."""
    out = scores.astype(np.float64)
    out[np.arange(len(out)), columns] = np.nan
    return out


@pytest.mark.parametrize(
    "edit, r_at_1, mean_rank",
    [
        # the correct title (each query's best) scored +inf: first, as any top score (the -1e9
        # that every non-finite score was turned into ranked it last of the 8)
        (lambda s: np.where(s == s.max(axis=1, keepdims=True), np.inf, s), 1.0, 1.0),
        # a wrong title (the one after each query's best) scored NaN counts against the scorer:
        # it ranks ahead of the correct one (as -1e9 it ranked last, in the scorer's favour)
        (lambda s: _nan_at(s, (s.argmax(axis=1) + 1) % s.shape[1]), 0.0, 2.0),
        # the correct title scored NaN: last of the 8
        (lambda s: np.where(s == s.max(axis=1, keepdims=True), np.nan, s), 0.0, 8.0),
    ],
    ids=["correct +inf", "wrong NaN", "correct NaN"],
)
def test_non_finite_scores_rank_as_rank_of_targets_ranks_them(
    tokenizer, monkeypatch, edit, r_at_1, mean_rank
):
    import modeling_irish.retrieval_evaluation as evaluation

    real = evaluation._edit_scores

    def scored(*args, **kwargs):
        scores, ms = real(*args, **kwargs)
        assert (np.sort(scores, axis=1)[:, -1] > np.sort(scores, axis=1)[:, -2]).all()  # one top
        return edit(scores), ms

    monkeypatch.setattr(evaluation, "_edit_scores", scored)
    m = evaluate_retrieval(None, tokenizer, TRAIN, KNOWN, "known", 20, 0, "edit-distance")
    assert m["queries"] == 8 and m["gallery"] == 8  # exact excerpts: each query's best is right
    assert m["r_at_1"] == r_at_1 and m["mean_rank"] == mean_rank


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


def test_a_query_whose_title_is_trained_only_as_itself_is_dropped_saying_so(tokenizer):
    lone = tune(150, "Lone Reel", 30, 30)
    with pytest.raises(NoUsableQueriesError) as error:
        evaluate_retrieval(
            None, tokenizer, [lone, TRAIN[0]], [lone], "known", 20, 0, "edit-distance"
        )
    assert error.value.metrics["dropped_reasons"]["not_in_protocol"] == 1
    message = str(error.value)
    assert "query's own setting" in message
    assert "1 of them only because every training setting of its title was a copy" in message


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
    copies = {"copied_queries": 3, "train_copies_removed": 6}  # the held-out settings, said
    assert whole == {**m, "ms_per_query": whole["ms_per_query"], **copies}


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


def test_played_order_excerpts_of_the_queries(tokenizer):
    from modeling_irish.retrieval_evaluation import excerpt_query_rows

    queries = read_tunes(KNOWN[:3])
    written, _ = excerpt_query_rows(tokenizer, queries, 30, 0)
    played, _ = excerpt_query_rows(tokenizer, queries, 30, 0, "played")
    assert len(written) == len(played) == 3  # synthetic reels have no repeats: the same crops
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(written, played))
    with pytest.raises(ValueError, match="query_order must be one of"):
        excerpt_query_rows(tokenizer, queries, 30, 0, "backwards")


def test_an_excerpt_counts_notes_not_rests_and_a_query_of_rests_is_left_out():
    from modeling_irish.retrieval_evaluation import excerpt_query_rows
    from modeling_irish.tune_title_data import NoteCropper

    # one note among seven rests: a 1-note excerpt was most often a rest, and its query was
    # dropped as unreadable; it is the note whatever the seed
    rests = "X:1\nT:Rests\nM:4/4\nL:1/8\nK:D\nz2z2z2A2|z2z2z2z2|\n"
    silent = "X:2\nT:Silent\nM:4/4\nL:1/8\nK:D\nz8|z8|\n"
    tokenizer = AbcTokenizer.train(TRAIN + [rests])
    queries = read_tunes([rests, silent])
    cropper = NoteCropper(tokenizer)
    for seed in range(12):
        rows, kept = excerpt_query_rows(tokenizer, queries, 1, seed)
        assert kept == [0], seed  # a query of rests alone: no scorer can compare it
        assert cropper.pitches(rows[0][0]).tolist() == [67]  # A in D major, on the white keys
    # evaluate-retrieval: a 4-note excerpt after four bars' rest holds 4 notes for every seed
    query = KNOWN[0].replace("K:D\n", "K:D\nz8|z8|z8|z8|")
    for seed in range(6):
        m = evaluate_retrieval(None, tokenizer, TRAIN, [query], "known", 4, seed, "edit-distance")
        assert m["queries"] == 1 and m["dropped_reasons"]["unreadable"] == 0, seed
        rows, _ = excerpt_query_rows(tokenizer, read_tunes([query]), 4, seed)
        assert len(cropper.pitches(rows[0][0])) == 4, seed


def test_evaluation_says_which_training_settings_it_could_not_read(tokenizer, caplog):
    bad = "X:77\nT:Reel 1\nM:4/4\nL:1/8\nK:D\nAB]c|\n"
    with caplog.at_level("WARNING", logger="modeling_irish.retrieval_evaluation"):
        m = evaluate_retrieval(
            None, tokenizer, TRAIN + [bad], KNOWN, "known", 30, 0, "edit-distance"
        )
    assert m["queries"] == len(KNOWN)
    assert "left out 1 of 9 training settings that could not be read" in caplog.text
    assert "']' without a chord" in caplog.text


def test_evaluate_retrieval_reads_the_queries_from_stdin(tokenizer, tmp_path, monkeypatch, capsys):
    import io
    import json

    from modeling_irish.cli import main

    (tmp_path / "train.abc").write_text("\n".join(TRAIN), encoding="utf-8")
    tokenizer.save_pretrained(tmp_path / "tok")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(KNOWN)))
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"), "--train",
            str(tmp_path / "train.abc"), "--queries", "-", "--protocol", "known",
            "--excerpt-notes", "20", "--baseline", "edit-distance", "--json"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["queries"] == 8 and metrics["mrr_at_20"] == 1.0
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))  # nothing piped in
    assert main(argv[:-1]) == 2  # without --json: a usage error
    assert "--queries -: no tune on stdin" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(argv) == 1  # --json: the one object all the same, the reason as its error
    out, err = capsys.readouterr()
    assert "--queries -: no tune on stdin" in err
    answer = json.loads(out)
    assert answer["queries"] == 0 and answer["error"].startswith("--queries -: no tune on stdin")


def test_stdin_queries_say_what_is_not_read_once_at_the_lines_of_stdin(
    tokenizer, tmp_path, monkeypatch, capsys, caplog
):
    """Queries piped in were cut without a word (a --queries file is read with warnings): the
    file header's I:MIDI transpose, written into every query, and music after a blank line."""
    import io

    from modeling_irish.cli import main

    (tmp_path / "train.abc").write_text("\n".join(TRAIN), encoding="utf-8")
    tokenizer.save_pretrained(tmp_path / "tok")
    queries = [KNOWN[0], KNOWN[1] + "\nABcd efga|\n", KNOWN[2]]
    book = "I:MIDI transpose 2\nC:Trad\n\n" + "\n".join(queries)
    lines = book.split("\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(book))
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"), "--train",
            str(tmp_path / "train.abc"), "--queries", "-", "--protocol", "known",
            "--excerpt-notes", "20", "--baseline", "edit-distance", "--json"]  # fmt: skip
    with caplog.at_level("WARNING"):
        assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["queries"] == 3
    said = [r.getMessage() for r in caplog.records]
    (header,) = [m for m in said if "transpose" in m]  # once for stdin, not once a query
    assert header.startswith("stdin: I:MIDI transpose 2 in the file header not read (line 1)")
    (after,) = [m for m in said if "not read (a blank line ends a tune)" in m]
    # named as check names it (its X: and title), then the blank line and the music at stdin's
    assert after.startswith("stdin: X:102 Reel 2: "), after
    at = [int(n) for n in re.findall(r"line (\d+)", after)]
    assert [lines[n - 1] for n in at] == ["", "ABcd efga|"], after


def test_evaluate_retrieval_json_answers_no_usable_query_with_its_object(
    tokenizer, tmp_path, capsys
):
    """With no query to score, --json printed nothing (exit 2); now the one object all the same,
    with every key, queries 0, null figures and why the queries were dropped, exit 1, as
    evaluate-lm --json and identify --json answer. Without --json: a usage error (2)."""
    from modeling_irish.cli import main

    (tmp_path / "train.abc").write_text("\n".join(TRAIN), encoding="utf-8")
    (tmp_path / "unseen.abc").write_text(
        "\n".join(UNSEEN), encoding="utf-8"
    )  # no title of them in training
    tokenizer.save_pretrained(tmp_path / "tok")
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"), "--train",
            str(tmp_path / "train.abc"), "--protocol", "known", "--excerpt-notes", "20",
            "--baseline", "edit-distance", "--json"]  # fmt: skip
    assert main([*argv, "--queries", str(tmp_path / "unseen.abc")]) == 1
    out, err = capsys.readouterr()
    empty = json.loads(out)
    assert "no usable queries for protocol 'known': of 5 queries, 5 are outside it" in err
    full = evaluate_retrieval(None, tokenizer, TRAIN, KNOWN, "known", 20, 0, "edit-distance")
    assert list(empty) == list(full)
    assert (empty["queries"], empty["dropped_queries"], empty["scorer"]) == (0, 5, "edit-distance")
    assert empty["dropped_reasons"] == {"not_in_protocol": 5, "unreadable": 0}
    assert empty["mrr_at_20"] is None and empty["r_at_1"] is None and empty["ms_per_query"] is None
    assert main([*argv[:-1], "--queries", str(tmp_path / "unseen.abc")]) == 2
    assert capsys.readouterr().out == ""


def test_evaluate_retrieval_shows_progress_on_a_terminal_only(
    tokenizer, tmp_path, monkeypatch, capsys
):
    import sys

    from modeling_irish.cli import main

    tokenizer.save_pretrained(tmp_path / "tok")
    (tmp_path / "train.abc").write_text("\n".join(TRAIN), encoding="utf-8")
    (tmp_path / "known.abc").write_text("\n".join(KNOWN), encoding="utf-8")
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"),
            "--train", str(tmp_path / "train.abc"), "--queries", str(tmp_path / "known.abc"),
            "--excerpt-notes", "20", "--baseline", "edit-distance", "--json"]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "Scoring queries" not in err and "Reading notes" not in err  # piped: the result alone
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "Scoring queries" in captured.err
    # each training setting's notes unfolded as it is encoded (was a bar of their own after
    # all were encoded and held): one bar, counting the 8 titled settings of the gallery
    bar = re.search(r"Reading training tunes, notes as played: +\d+%\S* *\S* \d+/8 ", captured.err)
    assert bar and "Reading notes" not in captured.err, captured.err
    assert bar.start() < captured.err.index("Scoring queries")
    assert json.loads(captured.out)["queries"] == 8  # stdout holds the one JSON object still


@pytest.mark.parametrize(
    "train, queries, protocol, baseline",
    [
        (TRAIN, KNOWN, "known", "edit-distance"),
        (TRAIN, KNOWN, "known", "hybrid"),
        (NAMED_TRAIN, RENAMED, "unseen", "edit-distance"),
    ],
)
def test_ms_per_query_leaves_out_the_edit_distance_start_up(
    model, tokenizer, monkeypatch, train, queries, protocol, baseline
):
    # the scan's first call loads its compiled code (about 1.6 s): a 1-query evaluation reported
    # 1,208 ms a query. Here a clock that moves only on the first edit-distance call, by 1 s.
    import types

    import modeling_irish.retrieval_evaluation as evaluation

    clock, calls, real = [0.0], [], evaluation.query_edit_scores

    def first_call_slow(*args, **kwargs):
        calls.append(1)
        clock[0] += 1.0 if len(calls) == 1 else 0.0
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluation, "query_edit_scores", first_call_slow)
    monkeypatch.setattr(evaluation, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    m = evaluate_retrieval(model, tokenizer, train, queries, protocol, 20, 0, baseline)
    assert m["ms_per_query"] == 0.0
    assert len(calls) == m["queries"] + 1  # one untimed warm-up query, then each query once


def test_score_weights_must_be_finite_and_not_negative(model, tokenizer, tmp_path, capsys):
    # NaN, inf or a negative weight gave metrics (and rankings) of no meaning, with exit 0
    from modeling_irish.cli import main
    from modeling_irish.edit_distance import EditDistanceRanker

    (tmp_path / "train.abc").write_text("\n".join(TRAIN), encoding="utf-8")
    (tmp_path / "known.abc").write_text("\n".join(KNOWN), encoding="utf-8")
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
    for bad in (float("nan"), float("inf"), -1.0, 1e308):
        with pytest.raises(ValueError, match="eighths_weight must be a finite number >= 0"):
            EditDistanceRanker([[60, 62]], ["A"], eighths_weight=bad)
        with pytest.raises(ValueError, match="eighths_weight must be a finite number >= 0"):
            evaluate_retrieval(
                None, tokenizer, TRAIN, KNOWN, "known", 20, 0, "edit-distance", eighths_weight=bad
            )
    assert cli.MAX_WEIGHT == edit_distance.MAX_SCORE_WEIGHT  # one cap, CLI and API
    index = TuneIndex.build(model, tokenizer, TRAIN)
    for bad in (float("nan"), float("inf"), -1.0, 1e308):
        with pytest.raises(ValueError, match="hybrid_weight must be a finite number >= 0"):
            identify(model, index, KNOWN[0], k=1, tokenizer=tokenizer, hybrid_weight=bad)


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
    queries.write_text("\n".join(KNOWN), encoding="utf-8")
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
    for options, message in cases:  # usage errors, with the usage line
        capsys.readouterr()
        with pytest.raises(SystemExit) as refused:
            main([*base, "--model", folder, *options])
        assert refused.value.code == 2, options
        err = capsys.readouterr().err
        assert err.startswith("usage: irish-tune evaluate-retrieval") and message in err, options
    # a negative seed: numpy's "expected non-negative integer" once the corpus was read, before
    with pytest.raises(SystemExit) as refused:
        main([*base, "--model", folder, "--seed", "-1"])
    assert refused.value.code == 2
    assert "argument --seed: must be >= 0, got -1" in capsys.readouterr().err
    assert calls == []
    # identify alike: --no-transpose is the edit distance's, which --scoring title never uses
    argv = ["identify", "--model", folder, "--scoring", "title", "--no-transpose", "-"]
    with pytest.raises(SystemExit) as refused:
        main(argv)
    assert refused.value.code == 2
    assert "--no-transpose: an option of the edit distance" in capsys.readouterr().err
    # the options each scorer uses still reach it, and the defaults are the documented ones
    assert main([*base, "--model", folder, "--baseline", "hybrid", "--hybrid-weight", "5"]) == 0
    assert main([*base, "--model", folder, *hybrid_unseen, "--query-order", "played"]) == 0
    argv = [*base, "--tokenizer", folder, "--baseline", "edit-distance", "--no-transpose"]
    assert main([*argv, "--eighths-weight", "0", "--protocol", "unseen"]) == 0
    assert main([*base, "--model", folder]) == 0
    weights = [(c["hybrid_weight"], c["eighths_weight"], c["transpose"]) for c in calls]
    assert weights == [(5.0, 1.0, True), (8.0, 1.0, True), (8.0, 0.0, False), (8.0, 1.0, True)]


def test_evaluate_retrieval_json_prints_a_nan_figure_as_null(
    tokenizer, tmp_path, monkeypatch, capsys
):
    """A NaN figure (a diverged model's scores) was printed as bare ``NaN``, which strict JSON
    parsers refuse: it is null, named on stderr."""
    import math

    from helpers import strict_loads

    from modeling_irish import retrieval_evaluation
    from modeling_irish.cli import main

    real = retrieval_evaluation.evaluate_retrieval

    def diverged(*args, **kwargs):
        return {**real(*args, **kwargs), "mrr_at_20": math.nan}

    monkeypatch.setattr(retrieval_evaluation, "evaluate_retrieval", diverged)
    (tmp_path / "train.abc").write_text("\n".join(TRAIN), encoding="utf-8")
    (tmp_path / "known.abc").write_text("\n".join(KNOWN), encoding="utf-8")
    tokenizer.save_pretrained(tmp_path / "tok")
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"), "--train",
            str(tmp_path / "train.abc"), "--queries", str(tmp_path / "known.abc"), "--protocol",
            "known", "--excerpt-notes", "20", "--baseline", "edit-distance", "--json"]  # fmt: skip
    assert main(argv) == 0
    out, err = capsys.readouterr()
    metrics = strict_loads(out)
    assert metrics["mrr_at_20"] is None and metrics["queries"] == 8
    assert "irish-tune evaluate-retrieval: mrr_at_20 not a finite number" in err


def test_evaluate_retrieval_text_says_why_a_single_querys_stderr_is_na(tokenizer, tmp_path, capsys):
    """One query has no spread: its ``mrr_at_20_stderr`` is null in the JSON, and the text
    table printed ``None``; it says ``n/a (a single query)``, as the model card does."""
    (tmp_path / "train.abc").write_text("\n".join(TRAIN), encoding="utf-8")
    (tmp_path / "one.abc").write_text(KNOWN[0], encoding="utf-8")
    tokenizer.save_pretrained(tmp_path / "tok")
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"), "--train",
            str(tmp_path / "train.abc"), "--queries", str(tmp_path / "one.abc"), "--protocol",
            "known", "--excerpt-notes", "20", "--baseline", "edit-distance"]  # fmt: skip
    assert cli.main(argv) == 0
    rows = dict(line.strip().split("  ", 1) for line in capsys.readouterr().out.splitlines())
    assert rows["queries"].strip() == "1" and rows["mrr_at_20"].strip() == "1.0000"
    assert rows["mrr_at_20_stderr"].strip() == "n/a (a single query)"
    assert "None" not in rows.values() and "nan" not in rows.values()


def test_evaluate_retrieval_names_the_queries_it_left_out_or_read_changed(
    tokenizer, tmp_path, monkeypatch, capsys, caplog
):
    """A query's reader warnings (a body W: line, a decoration dropped) were never said, and an
    unreadable query was only counted in dropped_reasons: each is named on stderr (the first 5
    of a kind, then counted by reason), at the lines of the queries' file or stdin, and the
    queries scored as read are counted in the report; --json stdout stays one object."""
    import io

    from modeling_irish.cli import main

    (tmp_path / "train.abc").write_text("\n".join(TRAIN), encoding="utf-8")
    tokenizer.save_pretrained(tmp_path / "tok")
    queries = [q + "W:words" for q in KNOWN[:7]]  # 7 queries with a body W: line
    queries.append("X:5\nT:Reel 5\nK:D\n(3>A|\n")  # unreadable
    book = "\n".join(queries)
    lines = book.split("\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(book))
    argv = ["evaluate-retrieval", "--tokenizer", str(tmp_path / "tok"), "--train",
            str(tmp_path / "train.abc"), "--queries", "-", "--protocol", "known",
            "--excerpt-notes", "20", "--baseline", "edit-distance", "--json"]  # fmt: skip
    with caplog.at_level("WARNING", logger="modeling_irish.retrieval_evaluation"):
        assert main(argv) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert (metrics["queries"], metrics["changed_queries"]) == (7, 7)
    assert metrics["dropped_reasons"]["unreadable"] == 1
    said = [r.getMessage() for r in caplog.records if r.name.endswith("retrieval_evaluation")]
    changed = [m for m in said if m.startswith("evaluate_retrieval: the query ")]
    assert len(changed) == 5  # capped, then counted
    first = "the query X:101 'Reel 1' (stdin line 1) was scored as read, not as written"
    assert changed[0].startswith(f"evaluate_retrieval: {first}: W: field (words) in the body")
    at = int(re.search(r"\(line (\d+)\)$", changed[0])[1])
    assert lines[at - 1] == "W:words"  # at stdin's line
    assert any(
        m.startswith("... and 2 more queries scored as read, not as written (not shown); 7 in")
        for m in said
    )
    (left,) = [m for m in said if "left out the query" in m]
    assert left.startswith("evaluate_retrieval: left out the query X:5 'Reel 5' (stdin line ")
    assert f"line {lines.index('(3>A|') + 1}, column 3" in left
