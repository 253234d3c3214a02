"""Name that tune from the command line, what `irish-tune identify` says of a query it reads:
the reader's warnings at the lines typed, a model that gives NaN, titles with no setting to
compare, keys a bare snippet lacks. The commands' output, statuses and refusals are in
test_name_that_tune_cli.py."""

from __future__ import annotations

import json
import re

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
from modeling_irish.name_that_tune import TuneIndex


def test_identify_says_what_the_reader_left_out_of_a_query_at_the_lines_typed(
    tokenizer, tmp_path, monkeypatch, capsys, caplog
):
    """A query's reader warnings (an unknown decoration dropped, a body W: line dropped) were
    kept in the encoded tune and never said: the user did not hear that part of what was pasted
    was not compared. They are said on stderr, at the line and column of the file or stdin;
    --json stdout stays one object."""
    import io

    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    snippet = tmp_path / "bare.abc"
    snippet.write_text(
        "\n\nK:D\neBBd!foo!AcdE|CFEdeCGd|\nW:words\n", encoding="utf-8"
    )  # a snippet at line 3
    capsys.readouterr()
    caplog.clear()
    assert main(["identify", "--index", out, str(snippet), "-k", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tunes"][0]["top"][0]["title"] == "Reel 7"
    (said,) = [m for m in warnings_of(caplog, "modeling_irish.retrieval_cli") if "as read" in m]
    assert said.startswith(f"irish-tune identify: the tune at line 3 of {snippet} was not read")
    assert "unknown decoration !foo! dropped (line 4, column 5)" in said
    assert "W: field (words) in the body not read: dropped (line 5)" in said
    # a tunebook on stdin: at stdin's lines, past the tune's X: line
    book = "% my tunes\n\n" + KNOWN[6].replace("K:D\n", "K:D\nG!foo!A|\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(book))
    caplog.clear()
    assert main(["identify", "--index", out, "-", "-k", "1"]) == 0
    assert capsys.readouterr().out.split()[-2:] == ["Reel", "7"]
    (said,) = [m for m in warnings_of(caplog, "modeling_irish.retrieval_cli") if "as read" in m]
    assert said.startswith("irish-tune identify: the tune at line 3 of stdin was not read")
    assert said.endswith("unknown decoration !foo! dropped (line 10, column 2)")
    assert book.split("\n")[9] == "G!foo!A|"


def test_identify_with_a_model_that_gives_nan_says_so_instead_of_a_list(
    model, tokenizer, tmp_path, capsys
):
    # it printed the index's first titles, each scored "nan" (--json: null), and exit status 0
    from modeling_irish.cli import main

    snippet, folder = model_index_cli(model, tokenizer, tmp_path)
    broken = TuneTitleModel(model.config)
    broken.load_state_dict(model.state_dict())
    with torch.no_grad():
        broken.tune_projection.weight.fill_(float("nan"))  # the titles' side is the index's
    broken.save_pretrained(tmp_path / "nan")
    tokenizer.save_pretrained(tmp_path / "nan")
    capsys.readouterr()
    argv = ["identify", "--model", str(tmp_path / "nan"), "--index", str(folder / "index")]
    for extra in ([], ["--json"]):
        assert main([*argv, *extra, str(snippet), "-k", "3"]) == 2, extra
        out, err = capsys.readouterr()
        assert out == "" and "nan" not in out.lower(), extra
        assert "embeddings of the snippet are not finite numbers" in err, extra
        assert "weights finite" in err, extra


def test_identify_names_a_bare_snippet_s_unknown_notes_by_the_line_typed(
    tokenizer, tmp_path, monkeypatch, capsys, caplog
):
    """A snippet without an X: line was named "X:1" (the line the command adds, which the user
    never typed) in the warning about its notes of a length the tokenizer lacks."""
    import io

    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    body = KNOWN[6].split("K:D\n")[1]
    monkeypatch.setattr("sys.stdin", io.StringIO("\nM:4/4\nL:1/8\nK:D\nd10" + body[1:]))
    capsys.readouterr()
    caplog.clear()
    assert main(["identify", "--index", out, "-", "-k", "1"]) == 0
    said = [m for m in warnings_of(caplog, "modeling_irish.retrieval_cli") if "<unk>" in m]
    assert said == [
        "irish-tune identify: the tune at line 2 of stdin: 1 note with a length the tokenizer "
        "does not know (read as <unk>): 'd10' (note 1); compared as one eighth each, so the "
        "scores do not see that rhythm"
    ]
    assert not any("X:1" in m for m in caplog.messages)


def test_identify_lists_a_title_with_no_setting_to_compare_as_n_a(tokenizer, tmp_path, capsys):
    # a title indexed without settings scores -inf under the edit distance (nothing of it to
    # compare), and the listing printed it as a bare "-inf" beside the figures
    import numpy as np

    from modeling_irish.cli import main

    index = TuneIndex.build(None, tokenizer, TRAIN[:2])
    index.titles.append("Lost Reel")  # a title without settings, as an index of titles holds
    index.title_embeds = np.zeros((len(index.titles), 0), np.float32)
    index.save(tmp_path / "idx")
    tokenizer.save_pretrained(tmp_path / "tok")
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(KNOWN[0], encoding="utf-8")
    argv = ["identify", "--index", str(tmp_path / "idx"), "--tokenizer", str(tmp_path / "tok")]
    assert main([*argv, str(snippet), "-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  1   0.0000  Reel 1" and len(lines) == 3
    assert lines[2] == "  3  n/a (no setting of this title to compare)  Lost Reel"
    assert main([*argv, str(snippet), "-k", "3", "--json"]) == 0  # JSON: null, as before
    assert json.loads(capsys.readouterr().out)["tunes"][0]["top"][2]["score"] is None


def test_identify_does_not_warn_of_the_key_a_bare_snippet_lacks(tokenizer, tmp_path, caplog):
    """A headerless snippet was "not read exactly as written ... no K: field; C major assumed",
    though the edit distance compares it in all 12 transpositions: the key changes no score."""
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    snippet = tmp_path / "bare.abc"
    # no F, C or G: its C major changes none of its notes (`missing_key_hint`)
    snippet.write_text("ABde BAdB|EDAB d2ed|\n", encoding="utf-8")
    caplog.clear()
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 0
    assert not any("C major" in m for m in warnings_of(caplog, "modeling_irish.retrieval_cli"))


def test_identify_hints_at_the_key_a_bare_snippet_with_no_accidentals_lacks(
    tokenizer, model, tmp_path, caplog
):
    """A snippet typed without headers (``FAAB AFED|``) is read in C major, its F natural: a
    tune played in D is misread in every transposition, and the edit distance, which compares
    such a snippet in all 12, said nothing. Said once per snippet, for every scorer, with
    ``--json`` too, with what to add (K:D, or the accidentals); not for ``K:none``."""
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    (tmp_path / "m").mkdir()
    _, folder = model_index_cli(model, tokenizer, tmp_path / "m")
    body = KNOWN[0].split("K:D\n")[1]
    snippet = tmp_path / "bare.abc"
    snippet.write_text(body, encoding="utf-8")
    hint = "with no sharps or flats: if it is played in another key, add its K: line (K:D"
    runs = [
        ["--index", out],
        ["--index", out, "--json"],
        ["--model", str(folder), "--index", str(folder / "index")],
    ]
    for argv in runs:
        caplog.clear()
        assert main(["identify", *argv, str(snippet), "-k", "1"]) == 0, argv
        said = [m for m in warnings_of(caplog, "modeling_irish.retrieval_cli") if hint in m]
        assert len(said) == 1 and said[0].count("C major") == 1, (argv, said)
        assert "no K: field: read as C major, with no sharps or flats" in said[0]
    for text in ("K:none\n" + body, "K:D\n" + body, "^" + body):  # a key, or accidentals
        snippet.write_text(text, encoding="utf-8")
        caplog.clear()
        assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 0, text
        assert not any(hint in m for m in caplog.messages), text


def test_a_model_scorer_places_a_bare_snippets_missing_key_at_its_first_line(
    tokenizer, model, tmp_path, caplog
):
    """A bare snippet with a written accidental (no hint) under a model's scorer was said
    "no K: field: read as C major (line 0)": the line of the X: the command adds above it."""
    from modeling_irish.cli import main

    _, folder = model_index_cli(model, tokenizer, tmp_path)
    body = "^" + KNOWN[0].split("K:D\n")[1]
    snippet = tmp_path / "bare.abc"
    snippet.write_text(f"{body}\n\n\n{body}", encoding="utf-8")
    assert main(["identify", "--model", str(folder), "--index", str(folder / "index"),
                 str(snippet), "-k", "1"]) == 0  # fmt: skip
    said = [m for m in warnings_of(caplog, "modeling_irish.retrieval_cli") if "no K:" in m]
    starts = [int(re.search(r"the tune at line (\d+) ", m)[1]) for m in said]
    assert starts[0] == 1 and starts[1] > 2, said  # the second snippet, after blank lines
    for start, message in zip(starts, said):
        assert message.endswith(f"no K: field: read as C major (line {start})"), message


def test_identify_does_not_warn_of_the_c_major_k_none_is_read_as(tokenizer, tmp_path, caplog):
    """A snippet typed as heard under ``K:none`` was "not read exactly as written ... K:none
    read as C major", though the edit distance compares it in all 12 transpositions, as it
    does a snippet without ``K:`` (whose C major is not said): the key changes no score."""
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    snippet = tmp_path / "none.abc"
    snippet.write_text("K:none\n" + KNOWN[6].split("K:D\n")[1], encoding="utf-8")
    caplog.clear()
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 0
    assert not any("C major" in m for m in warnings_of(caplog, "modeling_irish.retrieval_cli"))


def test_identify_says_a_lower_case_header_field_is_not_read(tokenizer, tmp_path, caplog):
    """A snippet typed with lower-case fields (``x:1``, ``k:D``) was named as if headerless,
    its key dropped without a word: ABC field letters are case sensitive. Each such line is
    said, at its line, with the field it likely means."""
    from modeling_irish.cli import main

    _, out = edit_distance_index_cli(tokenizer, tmp_path)
    snippet = tmp_path / "lower.abc"
    snippet.write_text("x:1\nk:D\n" + KNOWN[6].split("K:D\n")[1], encoding="utf-8")
    caplog.clear()
    assert main(["identify", "--index", out, str(snippet), "-k", "1"]) == 0
    (said,) = [m for m in warnings_of(caplog, "modeling_irish.retrieval_cli") if "as read" in m]
    for letter, line in (("x", 1), ("k", 2)):
        why = f"not an ABC 2.1 field letter; did you mean {letter.upper()}:?"
        assert f"unknown field {letter}: ({why}) ignored (line {line})" in said
