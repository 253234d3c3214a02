"""Name that tune from the command line: `irish-tune index` and `irish-tune identify`, their
output, exit statuses and refusals."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import NAME_THAT_TUNE_KNOWN as KNOWN
from helpers import NAME_THAT_TUNE_TRAIN as TRAIN
from helpers import (
    edit_distance_index_cli,
    model_index_cli,
    name_that_tune_model,  # noqa: F401 (a fixture)
    name_that_tune_tokenizer,  # noqa: F401 (a fixture)
    warnings_of,
)

from modeling_irish.modeling_tune_title import TuneTitleModel
from modeling_irish.name_that_tune import TuneIndex, identify


def test_index_and_identify_commands(model, tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN), encoding="utf-8")
    assert main(["index", "--model", str(tmp_path / "model"), str(corpus)]) == 0
    assert "indexed 8 titles, 8 settings" in capsys.readouterr().out
    corpus.write_text(TRAIN[0], encoding="utf-8")  # one of each: "1 title", not "1 titles"
    assert (
        main(
            [
                "index",
                "--model",
                str(tmp_path / "model"),
                str(corpus),
                "--out",
                str(tmp_path / "one"),
            ]
        )
        == 0
    )
    assert "indexed 1 title, 1 setting" in (printed := capsys.readouterr().out)
    assert "read 1 tune; left out 0 without a title" in printed
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(
        "M:4/4\nL:1/8\nK:D\n" + KNOWN[4].split("K:D\n")[1], encoding="utf-8"
    )  # no X: line
    assert main(["identify", "--model", str(tmp_path / "model"), str(snippet), "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # the default (hybrid) scorer names the indexed tune of an exact copy first
    assert len(lines) == 2 and lines[0].split()[0] == "1" and lines[0].endswith("Reel 5")


def test_edit_distance_index_and_identify_need_no_model(model, tokenizer, tmp_path, capsys, caplog):
    from modeling_irish.cli import main

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN), encoding="utf-8")
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
    snippet.write_text(KNOWN[6], encoding="utf-8")
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 0
    assert capsys.readouterr().out.split() == ["1", "0.0000", "Reel", "7"]
    # a file of several tunes: each is named, under its X: and T: lines
    snippet.write_text(KNOWN[6] + "\n" + KNOWN[2], encoding="utf-8")
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 0
    blocks = [b.splitlines() for b in capsys.readouterr().out.strip().split("\n\n")]
    assert blocks == [
        ["X:107 T:Reel 7", "  1   0.0000  Reel 7"],
        ["X:103 T:Reel 3", "  1   0.0000  Reel 3"],
    ]
    # one unreadable tune of a file is reported (exit status 1, as check); the others are named
    snippet.write_text(KNOWN[6] + "\nX:5\nT:Broken\nK:D\n(3>A|\n\n" + KNOWN[2], encoding="utf-8")
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
    assert failure["error"].startswith("X:5 Broken: line 13, column 3")
    said = warnings_of(caplog, "modeling_irish.retrieval_cli")
    assert f"irish-tune identify: the tune at line 10 of {snippet}: {failure['error']}" in said
    with pytest.raises(SystemExit) as refused:  # a usage error, with the usage line
        main(["identify", "--index", out, "--scoring", "hybrid", str(snippet)])
    assert refused.value.code == 2
    assert "needs a tune-title model" in capsys.readouterr().err
    # a snippet of a few notes matches many tunes exactly: named all the same, with a warning
    snippet.write_text("K:D\nDFA|\n", encoding="utf-8")
    caplog.clear()
    assert main(["identify", "--index", out, str(snippet), "-k", "2"]) == 0
    capsys.readouterr()
    (said,) = warnings_of(caplog, "modeling_irish.retrieval_cli")
    assert "snippet at line 1 has 3 notes, too few to tell tunes apart" in said
    snippet.write_text("K:D\nD|\n", encoding="utf-8")  # one note: "1 note", not "1 notes"
    caplog.clear()
    assert main(["identify", "--index", out, str(snippet), "-k", "2"]) == 0
    capsys.readouterr()
    (said,) = warnings_of(caplog, "modeling_irish.retrieval_cli")
    assert "snippet at line 1 has 1 note, too few to tell tunes apart" in said
    # snippets without X: lines, between blank lines: each is named, none is dropped
    body = [tune.split("K:D\n")[1].strip() for tune in (KNOWN[6], KNOWN[2])]
    snippet.write_text(f"{body[0]}\n\n\n{body[1]}\n\nA]B|\n", encoding="utf-8")
    assert main(["identify", "--index", out, str(snippet), "-k", "1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(t["tune"], t["top"][0]["title"]) for t in data["tunes"]] == [
        ("snippet at line 1", "Reel 7"),
        (f"snippet at line {len(body[0].splitlines()) + 3}", "Reel 3"),
    ]
    bad_line = len(body[0].splitlines()) + len(body[1].splitlines()) + 4
    assert data["failures"][0]["error"].startswith(f"line {bad_line}, column 2: ']'")
    with pytest.raises(SystemExit) as refused:  # a usage error, with the usage line
        main(["index", "--tokenizer", str(tmp_path / "tok"), str(corpus)])
    assert refused.value.code == 2
    assert "the argument --out is required with --tokenizer" in capsys.readouterr().err


def test_retrieval_commands_refuse_bad_inputs_clearly(model, tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    corpus, out = edit_distance_index_cli(tokenizer, tmp_path)
    empty = tmp_path / "empty.abc"
    empty.write_text("", encoding="utf-8")
    prose = tmp_path / "notes.txt"
    prose.write_text("This is a list of the tunes I like\n", encoding="utf-8")
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

    snippet, folder = model_index_cli(model, tokenizer, tmp_path)
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
        ["index", "--model", str(folder), "--tokenizer", str(folder), str(tmp_path / "corpus.abc")],
    ):
        with pytest.raises(SystemExit) as refused:  # a usage error, before the model is loaded
            main(command)
        assert refused.value.code == 2, command
        assert "--tokenizer is for an index without --model" in capsys.readouterr().err


def test_identify_exit_status_of_one_tune_that_cannot_be_named(tokenizer, tmp_path, capsys, caplog):
    """The README's statuses: one tune's error is the answer (2, on stderr) unless --json, which
    still prints its one object (1); in a file of several, 1 and the others named."""
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    query = tmp_path / "query.abc"
    for tune, error in (("X:1\nT:Rests\nK:D\nz4|z4|\n", "only rests"),
                        ("X:1\nT:Odd key\nK:Q\nDFA|\n", "cannot read key 'Q'")):  # fmt: skip
        query.write_text(tune, encoding="utf-8")
        capsys.readouterr()
        assert main(["identify", "--index", out, str(query)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and error in captured.err
        assert main(["identify", "--index", out, str(query), "--json"]) == 1
        data = json.loads(capsys.readouterr().out)
        assert data["tunes"] == [] and error in data["failures"][0]["error"]
        query.write_text(tune + "\n" + KNOWN[2], encoding="utf-8")
        caplog.clear()
        assert main(["identify", "--index", out, str(query), "-k", "1"]) == 1
        assert "Reel 3" in capsys.readouterr().out  # the other tune's failure: a warning
        (said,) = warnings_of(caplog, "modeling_irish.retrieval_cli")
        assert error in said


def test_identify_json_answers_an_input_of_no_tune_with_its_one_object(
    tokenizer, tmp_path, monkeypatch, capsys
):
    """An empty, blank or binary file, a dump without rows, or nothing on stdin printed nothing
    on stdout under --json (exit 2); now the one object, the input named under failures (1), as
    evaluate-lm --json answers. Without --json, and for a missing file, exit status 2."""
    import io

    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    inputs = {"empty.abc": b"", "blank.abc": b"  \n\n \n", "tunes.json": b"[]",
              "midi.abc": b"MThd\x00\x00\x00\x06"}  # fmt: skip
    why = {"empty.abc": "is empty", "blank.abc": "is empty",
           "tunes.json": "no dump row gives a tune", "midi.abc": "not a text file"}  # fmt: skip
    for name, data in inputs.items():
        (tmp_path / name).write_bytes(data)
    for name in [*inputs, "-"]:
        path = str(tmp_path / name) if name != "-" else "-"
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        capsys.readouterr()
        assert main(["identify", "--index", out, path, "--json"]) == 1, name
        captured = capsys.readouterr()
        failure = {"tune": "stdin" if name == "-" else path, "line": None}
        data = json.loads(captured.out)
        assert data["scoring"] == "edit-distance" and data["tunes"] == []
        (got,) = data["failures"]
        assert {k: got[k] for k in failure} == failure
        reason = why.get(name, "is empty")  # stdin: is empty
        assert reason in got["error"] and failure["tune"] in got["error"]
        assert captured.err == f"irish-tune identify: {got['error']}\n"  # one wording in both
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        assert main(["identify", "--index", out, path]) == 2, name
        captured = capsys.readouterr()
        assert captured.out == "" and (path if name != "-" else "stdin") in captured.err
    assert main(["identify", "--index", out, str(tmp_path / "nope.abc"), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no such file" in captured.err


def test_a_bare_snippet_error_names_the_line_typed(tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    snippet = tmp_path / "bare.abc"
    snippet.write_text("K:D\nFAAB AF}D|\n", encoding="utf-8")  # line 2, column 8: "}" is no ABC
    capsys.readouterr()
    assert main(["identify", "--index", out, str(snippet)]) == 2
    err = capsys.readouterr().err
    assert "bare.abc: line 2, column 8" in err and "X:1" not in err


def test_identify_takes_a_tokenizer_when_the_index_lost_its_own(tokenizer, tmp_path, capsys):
    import shutil

    from modeling_irish.cli import main

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN), encoding="utf-8")
    tokenizer.save_pretrained(tmp_path / "tok")
    out = str(tmp_path / "idx")
    assert main(["index", "--tokenizer", str(tmp_path / "tok"), str(corpus), "--out", out]) == 0
    shutil.move(tmp_path / "tok", tmp_path / "moved")
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(KNOWN[6], encoding="utf-8")
    capsys.readouterr()
    assert main(["identify", "--index", out, str(snippet)]) == 2
    assert "--tokenizer DIR" in capsys.readouterr().err
    argv = ["identify", "--index", out, "--tokenizer", str(tmp_path / "moved"), str(snippet)]
    assert main([*argv, "-k", "1"]) == 0
    assert capsys.readouterr().out.split() == ["1", "0.0000", "Reel", "7"]


def test_index_checks_its_out_folder_before_the_work(tokenizer, tmp_path, monkeypatch):
    from modeling_irish.cli import main
    from modeling_irish.name_that_tune import TuneIndex

    def never(*args, **kwargs):
        raise AssertionError("the index was built before --out was checked")

    monkeypatch.setattr(TuneIndex, "build", never)
    tok_dir = tmp_path / "tok"
    tokenizer.save_pretrained(tok_dir)
    (tmp_path / "a_file").write_text("", encoding="utf-8")
    for out in (tmp_path / "a_file", tmp_path / "a_file" / "index"):
        argv = ["index", "--tokenizer", str(tok_dir), str(tmp_path), "--out", str(out)]
        assert main(argv) == 2


def test_index_refuses_an_out_link_that_leads_nowhere_before_the_work(
    tokenizer, tmp_path, monkeypatch, capsys
):
    """A looping or dangling symbolic link passed the check (it does not "exist"): the corpus
    was indexed, minutes of work, and the save then failed with ``[Errno 17] File exists``."""
    from modeling_irish.cli import main
    from modeling_irish.name_that_tune import TuneIndex

    def never(*args, **kwargs):
        raise AssertionError("the index was built before --out was checked")

    monkeypatch.setattr(TuneIndex, "build", never)
    tokenizer.save_pretrained(tmp_path / "tok")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loopA").symlink_to("loopB")
    (tmp_path / "loopB").symlink_to("loopA")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    cases = [
        ("loopA", "it is a symbolic link loop"),
        ("dangling", f"it is a broken symbolic link (to {tmp_path / 'gone'})"),
        ("dangling/index", f"dangling is a broken symbolic link (to {tmp_path / 'gone'})"),
    ]
    for out, problem in cases:
        assert main(["index", "--tokenizer", "tok", str(tmp_path), "--out", out]) == 2
        assert capsys.readouterr().err == f"irish-tune index: --out {out}: {problem}\n"


def test_identify_refuses_a_hybrid_weight_it_would_ignore(tmp_path, capsys):
    from modeling_irish.cli import main

    (tmp_path / "q.abc").write_text("X:1\nK:D\nFAAB AFED|\n", encoding="utf-8")
    argv = ["identify", "--index", str(tmp_path), str(tmp_path / "q.abc"), "--hybrid-weight", "5"]
    with pytest.raises(SystemExit) as refused:  # a usage error, with the usage line
        main(argv)
    assert refused.value.code == 2
    assert "--hybrid-weight needs --model" in capsys.readouterr().err


def test_a_snippet_of_rests_among_others_is_a_failure_not_the_end(
    tokenizer, tmp_path, capsys, caplog
):
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    rests = "X:1\nM:4/4\nL:1/8\nK:D\nz8|z8|\n"
    snippet = tmp_path / "snippets.abc"
    snippet.write_text(KNOWN[6] + "\n" + rests + "\n" + KNOWN[2], encoding="utf-8")
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
    said = " ".join(warnings_of(caplog, "modeling_irish.retrieval_cli"))
    assert f"the tune at line {rests_line} of {snippet}: X:1: line {rests_line}" in said
    assert "1 of 3 tunes could not be named" in captured.err
    # bare snippets between blank lines: the block of rests is named by its own line
    body = KNOWN[6].split("K:D\n")[1].strip()
    snippet.write_text(f"{body}\n\nK:D\nz8|z8|\n", encoding="utf-8")
    assert main(["identify", "--index", out, str(snippet), "-k", "1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["tunes"][0]["top"][0]["title"] == "Reel 7"
    start = len(body.splitlines()) + 2
    assert data["failures"] == [
        {
            "tune": f"snippet at line {start}",
            "line": start,
            # the whole block's error, from its first line (not a column of the X: added), as
            # the demo words it
            "error": f"the snippet from line {start}: has no notes, only rests: nothing to compare",
        }
    ]
    # one bare snippet, after blank lines: its error is the answer, from the line typed
    snippet.write_text("\n\nz8|z8|\n", encoding="utf-8")
    assert main(["identify", "--index", out, str(snippet)]) == 2
    said = capsys.readouterr().err
    assert f"{snippet}: the snippet from line 3: has no notes, only rests" in said
    # a file of rests alone: what is wrong, and where
    snippet.write_text(rests, encoding="utf-8")
    assert main(["identify", "--index", out, str(snippet)]) == 2
    assert f"{snippet}: X:1: line 1, column 1: has no notes, only rests" in capsys.readouterr().err
    # ... and with --json, still the one JSON object, the tune under its failures
    assert main(["identify", "--index", out, str(snippet), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["tunes"] == [] and [f["line"] for f in data["failures"]] == [1]
    assert "has no notes, only rests" in data["failures"][0]["error"]


def test_snippets_that_share_an_x_number_are_told_apart_by_their_line(
    tokenizer, tmp_path, capsys, caplog
):
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    bodies = [tune.split("K:D\n")[1] for tune in (KNOWN[6], KNOWN[2])]
    snippet = tmp_path / "snippets.abc"
    snippet.write_text(
        "".join(f"X:1\nK:D\n{body}\n" for body in bodies) + "X:1\nK:D\nDFA|\n\nX:2\nK:D\nDFA|\n",
        encoding="utf-8",
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
    said = warnings_of(caplog, "modeling_irish.retrieval_cli")
    assert [line.split(" has ")[0] for line in said] == [
        f"irish-tune identify: X:1 (line {third})",
        "irish-tune identify: X:2",
    ]
    assert all("has 3 notes, too few" in line for line in said)
    # --json keeps the name and gives the line beside it
    assert main(["identify", "--index", out, str(snippet), "-k", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(t["tune"], t["line"]) for t in data["tunes"]] == [
        ("X:1", 1), ("X:1", second), ("X:1", third), ("X:2", third + 4)
    ]  # fmt: skip


def test_a_tune_before_the_first_x_line_is_named_by_its_line(tokenizer, tmp_path, capsys):
    # it had neither X: nor T: line: an empty heading, and "tune": "" in --json
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    body = KNOWN[6].split("K:D\n")[1].strip()
    tunes = tmp_path / "tunes.abc"
    tunes.write_text(f"M:4/4\nL:1/8\nK:D\n{body}\n\n{KNOWN[2]}", encoding="utf-8")
    capsys.readouterr()
    assert main(["identify", "--index", out, str(tunes), "-k", "1"]) == 0
    blocks = [b.splitlines() for b in capsys.readouterr().out.strip().split("\n\n")]
    assert [b[0] for b in blocks] == ["tune at line 1", "X:103 T:Reel 3"]
    assert blocks[0][1].split() == ["1", "0.0000", "Reel", "7"]
    assert main(["identify", "--index", out, str(tunes), "-k", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(t["tune"], t["line"]) for t in data["tunes"]][0] == ("tune at line 1", 1)


def test_no_transpose_says_once_that_it_does_nothing_to_a_snippet_without_a_key(
    tokenizer, tmp_path, capsys
):
    # a snippet without K: is compared in all 12 transpositions whatever the option: it was
    # ignored without a word
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    body = KNOWN[6].split("K:D\n")[1].strip()
    snippets = tmp_path / "snippets.txt"
    snippets.write_text(f"{body}\n\nK:D\n{body}\n\nK:none\n{body}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["identify", "--index", out, str(snippets), "-k", "1", "--no-transpose"]) == 0
    err = capsys.readouterr().err
    warning = "irish-tune identify: --no-transpose has no effect on 2 tunes, snippet at line 1 "
    assert err.count(warning) == 1 and "(no K:, or K:none)" in err
    assert "all 12 transpositions" in err
    assert main(["identify", "--index", out, str(snippets), "-k", "1"]) == 0  # the default
    assert "--no-transpose" not in capsys.readouterr().err
    snippets.write_text(f"K:D\n{body}\n", encoding="utf-8")  # a key: the option applies
    assert main(["identify", "--index", out, str(snippets), "-k", "1", "--no-transpose"]) == 0
    assert "--no-transpose" not in capsys.readouterr().err


def test_identify_refuses_options_that_never_work_before_reading_the_input(
    model, tokenizer, tmp_path, monkeypatch, capsys
):
    # they were reported after the input was read, once per tune, as the input's fault
    # ("stdin: scoring 'title' needs ..."); now once, as a usage error, before reading it
    import shutil

    from modeling_irish import retrieval_cli
    from modeling_irish.cli import main

    corpus, ed_index = edit_distance_index_cli(tokenizer, tmp_path)
    folder = str(tmp_path / "model")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    shutil.copytree(tmp_path / "tok", tmp_path / "gone")
    lost = str(tmp_path / "lost-idx")
    assert main(["index", "--tokenizer", str(tmp_path / "gone"), str(corpus), "--out", lost]) == 0
    shutil.rmtree(tmp_path / "gone")
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(KNOWN[6], encoding="utf-8")
    capsys.readouterr()
    # the control: a model's folder with an index built without one serves the edit distance
    argv = ["identify", "--model", folder, "--index", ed_index, "--scoring", "edit-distance"]
    assert main([*argv, str(snippet), "-k", "1"]) == 0
    assert capsys.readouterr().out.split() == ["1", "0.0000", "Reel", "7"]

    def never(path):
        raise AssertionError(f"{path} was read before the options were checked")

    monkeypatch.setattr(retrieval_cli, "read_input", never)
    for scoring in ("title", "setting"):  # no --model: a usage error, with the usage line
        with pytest.raises(SystemExit) as refused:
            main(["identify", "--index", ed_index, "--scoring", scoring, "-"])
        assert refused.value.code == 2
        message = f"irish-tune identify: error: --scoring {scoring} needs a tune-title model"
        assert message in capsys.readouterr().err
    cases = [
        (["--model", folder, "--index", ed_index], "--scoring hybrid needs an index built with"),
        (["--index", lost], "the tokenizer folder this index was built with"),
    ]  # fmt: skip
    for options, message in cases:
        assert main(["identify", *options, "-"]) == 2, options
        err = capsys.readouterr().err
        assert err.startswith(f"irish-tune identify: {message}"), (options, err)
        assert "stdin" not in err


def test_index_refuses_a_read_only_out_folder_before_the_work(tokenizer, tmp_path, monkeypatch):
    """An existing --out folder that cannot be written was found out only when the built
    index was saved (``Permission denied: 'ro/title_embeds.npy'``); only its parent was checked."""
    import os

    from modeling_irish.cli import main
    from modeling_irish.name_that_tune import TuneIndex

    def never(*args, **kwargs):
        raise AssertionError("the index was built before --out was checked")

    read_only = tmp_path / "ro"
    read_only.mkdir()
    real_access = os.access  # chmod 555 does not stop root: say the folder is read-only
    monkeypatch.setattr(os, "access", lambda p, mode: p != str(read_only) and real_access(p, mode))
    monkeypatch.setattr(TuneIndex, "build", never)
    tokenizer.save_pretrained(tmp_path / "tok")
    argv = ["index", "--tokenizer", str(tmp_path / "tok"), str(tmp_path), "--out", str(read_only)]
    assert main(argv) == 2
