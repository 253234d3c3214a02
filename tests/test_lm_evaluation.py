"""`irish-tune evaluate-lm`: JSON keys, and agreement with the model's own loss."""

from __future__ import annotations

import json
import math

import pytest
import torch
from helpers import save_tiny_measurenote, strict_loads, warnings_of

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
    folder = save_tiny_measurenote(tmp_path_factory.mktemp("lm"), TUNES)
    book = folder / "tunes.abc"
    book.write_text("\n".join(TUNES) + "\nX:9\nT:bad\nK:G\nA]B|\n", encoding="utf-8")
    return folder


def test_evaluate_lm_json(model_dir, capsys, caplog):
    path = model_dir / "tunes.abc"
    with caplog.at_level("WARNING", logger="modeling_irish.lm_evaluation"):
        assert main(["evaluate-lm", "--model", str(model_dir), str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    keys = {"nll", "nll_main", "nll_dur", "perplexity", "tunes", "tokens", "skipped", "unknown"}
    assert set(data) == keys
    assert data["tunes"] == 3 and data["skipped"] == 1  # the broken fourth tune is skipped
    assert data["unknown"] == {}  # the training tunes: every value in the vocabulary
    assert math.isclose(data["perplexity"], math.exp(data["nll"]), rel_tol=1e-9)
    # named by its file and the file's line, as `irish-tune check` names it
    (bad,) = check_files([path]).failures
    where = bad["error"][bad["error"].index("line ") :]
    assert f"{path}: " in caplog.text and where in caplog.text


def test_a_progress_bar_on_a_terminal_and_none_when_piped(model_dir, capsys, monkeypatch):
    import sys

    path = str(model_dir / "tunes.abc")
    assert main(["evaluate-lm", "--model", str(model_dir), path, "--json"]) == 0
    assert "scoring" not in capsys.readouterr().err  # piped: nothing but the result
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["evaluate-lm", "--model", str(model_dir), path, "--json"]) == 0
    captured = capsys.readouterr()
    assert "scoring: 100%" in captured.err and "4/4" in captured.err
    assert json.loads(captured.out)["tunes"] == 3  # stdout holds the one JSON object still


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
    bad.write_text("X:9\nT:bad\nK:G\nA]B|\n", encoding="utf-8")
    assert main(["evaluate-lm", "--model", str(model_dir), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "nothing to score" in captured.err


def test_evaluate_lm_json_with_nothing_to_score_still_prints_its_one_object(
    model_dir, tmp_path, capsys
):
    """``--json`` promises exactly one JSON object, as `check` and `identify` print theirs
    with the failure in it: a tunebook of unreadable tunes, or an empty file, printed none
    (exit status 2). Now: the object, no figure, exit status 1."""
    bad = tmp_path / "bad.abc"
    bad.write_text("X:9\nT:bad\nK:Q\nABc|\n", encoding="utf-8")
    (empty,) = _files_without_tunes(tmp_path)[:1]
    keys = ["nll", "nll_main", "nll_dur", "perplexity", "tunes", "tokens", "skipped", "unknown"]
    for path, skipped in ((bad, 1), (empty, 0)):
        assert main(["evaluate-lm", "--model", str(model_dir), str(path), "--json"]) == 1
        captured = capsys.readouterr()
        result = json.loads(captured.out)
        assert list(result) == keys
        counts = {"tunes": 0, "tokens": 0, "skipped": skipped, "unknown": {}}
        assert result == {**dict.fromkeys(keys), **counts}
        assert "nothing to score" in captured.err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_folder_without_abc_files_is_refused_as_check_refuses_it(
    model_dir, tmp_path, capsys, json_flag
):
    """``evaluate-lm --json EMPTYDIR`` printed its JSON object and exited 1 (``no tune in
    EMPTYDIR: no *.abc files``) where ``check --json EMPTYDIR`` exits 2 with no JSON: both
    refuse it now as a usage error, as a missing file, in one wording (a tunebook beside it
    too: the folder is a mistyped path, not a source that holds no tune)."""
    folder = tmp_path / "emptydir"
    folder.mkdir()
    (folder / "notes.txt").write_text("not ABC\n", encoding="utf-8")
    book = str(model_dir / "tunes.abc")
    said = {}
    for command, extra in (("evaluate-lm", ["--model", str(model_dir)]), ("check", [])):
        for sources in ([str(folder)], [book, str(folder)]):
            assert main([command, *extra, *sources, *json_flag]) == 2
            captured = capsys.readouterr()
            assert captured.out == ""
            said[command] = captured.err.removeprefix(f"irish-tune {command}: ")
    assert said["evaluate-lm"] == said["check"] == f"no .abc files in the folder {folder}\n"


def test_a_folder_is_walked_once(model_dir, tmp_path, capsys, monkeypatch):
    """``evaluate-lm FOLDER`` walked the folder twice, to refuse it without ``*.abc`` files and
    again to read it: its files are read from the one walk now, its tunes scored all the same."""
    import shutil

    from modeling_irish import abc_sources
    from tokenization import file_bytes

    folder = tmp_path / "book"
    folder.mkdir()
    shutil.copy(model_dir / "tunes.abc", folder / "tunes.abc")
    walks = []

    def counted_abc_files(path, recursive=True):
        walks.append(str(path))
        return walk(path, recursive)

    walk = file_bytes.abc_files
    monkeypatch.setattr(file_bytes, "abc_files", counted_abc_files)
    monkeypatch.setattr(abc_sources, "abc_files", counted_abc_files)
    assert main(["evaluate-lm", "--model", str(model_dir), str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tunes"] > 0
    assert walks == [str(folder)]


def _files_without_tunes(folder) -> list[str]:
    """An empty, a binary and a prose file (what `irish-tune check` names FAIL, each with why)."""
    (folder / "empty.abc").write_text("", encoding="utf-8")
    (folder / "binary.abc").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    (folder / "prose.abc").write_text("Some notes about tunes, not a tune.\n", encoding="utf-8")
    return [str(folder / name) for name in ("empty.abc", "binary.abc", "prose.abc")]


def test_evaluate_lm_names_the_files_without_tunes(model_dir, tmp_path, capsys, caplog):
    good = str(model_dir / "tunes.abc")
    empty, binary, prose = _files_without_tunes(tmp_path)
    with caplog.at_level("WARNING"):
        assert main(["evaluate-lm", "--model", str(model_dir), good, empty, binary, prose]) == 0
    assert capsys.readouterr().out.startswith("tunes: 3 (skipped 1)")
    for path, why in ((empty, "empty file"), (binary, "not a text file (NUL bytes)"),
                      (prose, "a tune starts with an X: line")):  # fmt: skip
        assert f"no ABC tunes found in {path} ({why})" in caplog.text
    # the same files in a folder, beside a tunebook: each named as well
    (tmp_path / "book.abc").write_text("\n".join(TUNES), encoding="utf-8")
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert main(["evaluate-lm", "--model", str(model_dir), str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("tunes: 3 (skipped 0)")
    for path in (empty, binary, prose):
        assert f"no ABC tunes found in {path} (" in caplog.text


def test_evaluate_lm_on_no_tune_at_all_says_why(model_dir, tmp_path, capsys):
    empty, binary, prose = _files_without_tunes(tmp_path)
    assert main(["evaluate-lm", "--model", str(model_dir), binary]) == 2
    err = capsys.readouterr().err
    assert f"nothing to score: no tune in {binary}: not a text file (NUL bytes)" in err
    assert main(["evaluate-lm", "--model", str(model_dir), empty, prose]) == 2
    err = capsys.readouterr().err
    assert f"no tune in {empty}: empty file; {prose}: a tune starts with an X: line" in err


def test_evaluate_lm_reads_stdin_and_prints_text(model_dir, monkeypatch, capsys):
    import io

    model = MeasureNoteForCausalLM.from_pretrained(model_dir).eval()
    expected = evaluate_lm_on_texts(model, AbcTokenizer.from_pretrained(model_dir), TUNES)
    assert expected["tunes"] == 3
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(TUNES)))
    assert main(["evaluate-lm", "--model", str(model_dir), "-"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"tunes: 3 (skipped 0)  tokens: {expected['tokens']}",
        f"nll: {expected['nll']:.4f}  nll_main: {expected['nll_main']:.4f}  "
        f"nll_dur: {expected['nll_dur']:.4f}  perplexity: {expected['perplexity']:.3f}",
    ]


def test_evaluate_lm_scores_the_same_in_batches(model_dir, monkeypatch, capsys):
    import modeling_irish.lm_evaluation as lm_evaluation

    batch_sizes = []  # the tunes of each forward pass
    real = lm_evaluation.per_tune_nll

    def counted(logits, *args, **kwargs):
        batch_sizes.append(len(logits))
        return real(logits, *args, **kwargs)

    monkeypatch.setattr(lm_evaluation, "per_tune_nll", counted)
    argv = ["evaluate-lm", "--model", str(model_dir), str(model_dir / "tunes.abc"), "--json"]
    results, passes = [], []
    for size in ("16", "2", "1"):
        batch_sizes.clear()
        assert main([*argv, "--batch-size", size]) == 0
        results.append(json.loads(capsys.readouterr().out))
        passes.append(list(batch_sizes))
    assert passes == [[3], [2, 1], [1, 1, 1]]  # the unreadable fourth tune takes no place
    one, *batched = results
    assert (one["tunes"], one["skipped"]) == (3, 1)
    for other in batched:
        assert (other["tunes"], other["tokens"], other["skipped"]) == (3, one["tokens"], 1)
        for key in ("nll", "nll_main", "nll_dur", "perplexity"):
            assert other[key] == pytest.approx(one[key], rel=1e-5), key


def test_read_input_refuses_what_is_not_an_abc_file(tmp_path, monkeypatch):
    import gzip
    import io
    import zipfile

    from modeling_irish.cli import read_input

    with pytest.raises(FileNotFoundError, match="no such file: .*nope.abc"):
        read_input(str(tmp_path / "nope.abc"))
    with pytest.raises(IsADirectoryError, match="is a folder; give an ABC file"):
        read_input(str(tmp_path))
    binary = tmp_path / "tune.mid"
    binary.write_bytes(b"MThd\x00\x00\x00\x06X:1\n")
    with pytest.raises(ValueError, match=r"tune.mid is not a text file \(NUL bytes\)"):
        read_input(str(binary))
    packed = tmp_path / "tunes.abc.gz"  # read decompressed (it was "not a text file")
    packed.write_bytes(gzip.compress(b"X:1\nK:G\nGA|\n"))
    assert read_input(str(packed)) == "X:1\nK:G\nGA|\n"
    with zipfile.ZipFile(tmp_path / "tunes.zip", "w") as archive:
        archive.writestr("tunes.abc", "X:1\nK:G\nGA|\n")
    with pytest.raises(ValueError, match=r"tunes.zip is a zip archive, not ABC nor a dump: ext"):
        read_input(str(tmp_path / "tunes.zip"))
    monkeypatch.setattr("sys.stdin", io.StringIO("MThd\x00\x06\n"))
    with pytest.raises(ValueError, match=r"^stdin is not a text file"):
        read_input("-")
    # a NUL inside a tune is that tune's to fail where it is read, as `check` fails it
    monkeypatch.setattr("sys.stdin", io.StringIO("X:1\nK:D\nD\x00E|\n"))
    assert read_input("-") == "X:1\nK:D\nD\x00E|\n"
    bom = tmp_path / "bom.abc"
    bom.write_bytes("\ufeffX:1\nT:Café\n".encode())
    assert read_input(str(bom)) == "X:1\nT:Café\n"  # UTF-8, the BOM dropped
    latin = tmp_path / "latin.abc"
    latin.write_bytes("X:1\nT:Café\n".encode("latin-1"))
    assert read_input(str(latin)) == "X:1\nT:Café\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("\ufeffX:2\n"))
    assert read_input("-") == "X:2\n"


def test_commands_name_an_unreadable_input_file(model_dir, tmp_path, capsys):
    (tmp_path / "folder.abc").mkdir()
    argv = ["generate", "--model", str(model_dir), "--prompt", str(tmp_path / "folder.abc")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "is a folder; give an ABC file" in err and "Traceback" not in err


def _dump_of_four(folder) -> str:
    """A dump of four rows: a tune, a row without ABC, a tune that fails, and a bare string."""
    good = {"tune_id": 1, "setting_id": 1, "name": "Kesh", "type": "jig", "meter": "6/8",
            "mode": "Gmajor", "abc": "|:GAG GAB|ABA ABd:|"}  # fmt: skip
    dump = folder / "tunes.json"
    dump.write_text(
        json.dumps([good, {**good, "abc": ""}, {**good, "abc": "GA|A]B|"}, "Kesh"]),
        encoding="utf-8",
    )
    return str(dump)


def test_dump_rows_that_give_no_tune_are_skipped_tunes(model_dir, tmp_path, capsys, caplog):
    """`skipped` left out the rows of a dump that give no tune (1 of 3 here), which `check`
    and the loader count: "how many tunes could not be read"."""
    from modeling_irish.abc_corpus import load_abc_corpus
    from modeling_irish.cli import _dump_tunes
    from modeling_irish.generation_cli import read_train_corpus

    dump = _dump_of_four(tmp_path)
    with caplog.at_level("WARNING", logger="modeling_irish.lm_evaluation"):
        assert main(["evaluate-lm", "--model", str(model_dir), dump, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    report = check_files([dump], tunes_of=_dump_tunes)  # as `irish-tune check` reads it
    loaded: dict = {}
    load_abc_corpus(dump, split_ratios=(1, 0, 0), min_notes=1, report=loaded)
    assert (data["tunes"], data["skipped"]) == (1, 3) == (report.parsed, loaded["skipped"])
    assert report.tunes == 4 and loaded["read"] == 4
    assert f"skipped a tune: {dump} row 4: dump row that is not an object (str)" in caplog.text
    # evaluate-generation --train reads the same tunes: three it could not read
    tunes, skipped = read_train_corpus(dump, None)
    assert (len(tunes), skipped) == (1, 3)
    err = capsys.readouterr().err
    first = f"(first: {dump} row 2: dump row without ABC text in 'abc')"  # not "no notes"
    assert f"3 unreadable tunes of {dump} left out of the training side {first}" in err
    # and why, each reason counted, as the loader's report counts them
    reasons = {
        "dump row without ABC text in 'abc'": 1,
        "AbcParseError: ']' without a chord": 1,
        "dump row that is not an object (str)": 1,
    }
    assert f"training side {first}, by reason: {reasons}\n" in err


def test_a_dump_of_rows_without_tunes_is_refused_before_the_model_loads(tmp_path, capsys):
    dump = tmp_path / "none.json"
    dump.write_text(json.dumps(["Kesh", {"abc": ""}]), encoding="utf-8")
    assert main(["evaluate-lm", "--model", str(tmp_path / "no model"), str(dump)]) == 2
    err = capsys.readouterr().err
    assert f"nothing to score: no readable tune in {dump} (2 skipped)" in err


def test_a_tunebooks_text_is_refused_not_scored_a_character_a_tune(model_dir):
    """A tunebook's text passed as ``texts`` was iterated character by character: 1,170
    "tunes" from five, each a warning."""
    from modeling_irish.abc_sources import text_tunes

    model = MeasureNoteForCausalLM.from_pretrained(model_dir).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir)
    book = "\n".join(TUNES)
    with pytest.raises(TypeError, match=r"one string .*pass a list of tune texts.*text_tunes"):
        evaluate_lm_on_texts(model, tokenizer, book)
    split = evaluate_lm_on_texts(model, tokenizer, list(text_tunes(book, "book.abc")))
    assert split == evaluate_lm_on_texts(model, tokenizer, TUNES)  # the helper the error names
    assert split["tunes"] == 3


def test_nothing_readable_to_score_is_an_error_not_a_perfect_model(model_dir):
    """No tune, or only unreadable ones, gave nll 0.0 and perplexity 1.0: the best score."""
    model = MeasureNoteForCausalLM.from_pretrained(model_dir).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir)
    with pytest.raises(ValueError, match=r"^nothing to score: no readable tune .*\(0 skipped\)"):
        evaluate_lm_on_texts(model, tokenizer, [])
    with pytest.raises(ValueError, match=r"^nothing to score: .*\(2 skipped\)$"):
        evaluate_lm_on_texts(model, tokenizer, iter(["X:9\nT:bad\nK:G\nA]B|\n", "X:1\nK:G\n"]))


def test_an_empty_text_is_skipped_named_by_its_place(model_dir, caplog):
    """An empty text of the list was skipped as "tune has no notes", with no word of which."""
    model = MeasureNoteForCausalLM.from_pretrained(model_dir).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir)
    with caplog.at_level("WARNING", logger="modeling_irish.lm_evaluation"):
        result = evaluate_lm_on_texts(model, tokenizer, [TUNES[0], ""])
    assert (result["tunes"], result["skipped"]) == (1, 1)
    expected = "skipped a tune: text 2: tune: line 1, column 1: the text is an empty string, not"
    assert expected in caplog.text


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_a_batch_size_not_a_whole_number_from_one_is_refused(model_dir, batch_size):
    """``batch_size=0`` (or -1, 2.5) never filled a batch: every tune went into one forward pass,
    its memory growing with the input, without a word; ``True`` (a bool, an int to Python) was
    taken as 1."""
    model = MeasureNoteForCausalLM.from_pretrained(model_dir).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir)
    with pytest.raises(ValueError, match=r"batch_size must be a whole number >= 1, got "):
        evaluate_lm_on_texts(model, tokenizer, TUNES, batch_size=batch_size)


def _two_voices(x: int) -> str:
    return f"X:{x}\nT:Two {x}\nM:6/8\nL:1/8\nK:Ador\nV:1\n|:A2B c2d|e2d c2B:|\nV:2\n|:A3 E3:|\n"


def test_a_tune_read_only_in_part_is_named_and_many_are_counted(model_dir, tmp_path, caplog):
    """A second voice dropped by the reader was scored away without a word (the tokenizer's
    own call warns: "voice V:2 dropped"); each such tune is named, the first five, then
    counted."""
    book = tmp_path / "voices.abc"
    book.write_text(TUNES[0] + "\n" + _two_voices(2), encoding="utf-8")
    with caplog.at_level("WARNING", logger="modeling_irish.lm_evaluation"):
        assert main(["evaluate-lm", "--model", str(model_dir), str(book), "--json"]) == 0
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == f"scored as read, not as written: {book} line 9 'Two 2': voice V:2 dropped"
    caplog.clear()
    model = MeasureNoteForCausalLM.from_pretrained(model_dir).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir)
    texts = [_two_voices(x) for x in range(1, 13)]
    with caplog.at_level("WARNING", logger="modeling_irish.lm_evaluation"):
        assert evaluate_lm_on_texts(model, tokenizer, [TUNES[1], *texts])["tunes"] == 13
    lines = warnings_of(caplog, "modeling_irish.lm_evaluation")
    assert len(lines) == 5 + 1  # readable for a big corpus
    assert lines[0] == "scored as read, not as written: text 2 'Two 1': voice V:2 dropped"
    assert lines[-1] == (
        "... and 7 more tunes scored as read, not as written (not shown); 12 in all, by "
        "reason: {'voice V:N dropped': 12}"
    )


def test_what_the_reader_changed_is_said_at_the_lines_of_the_file(model_dir, tmp_path, caplog):
    """A later tune's warnings named the lines of its own text (``line 6, column 2``) where
    `irish-tune check` names the file's: the same lines and columns now."""
    book = tmp_path / "chords.abc"
    odd = "X:4\nT:Odd\nM:4/4\nL:1/8\nK:D\nD[]FAF dFAF|\n"
    book.write_text(TUNES[0] + "\n" + odd, encoding="utf-8")
    said = "empty chord [] dropped (line 14, column 2)"
    with caplog.at_level("WARNING"):
        check_files([book])
    assert [r.getMessage() for r in caplog.records] == [f"{book}: X:4 Odd: {said}"]
    caplog.clear()
    with caplog.at_level("WARNING", logger="modeling_irish.lm_evaluation"):
        assert main(["evaluate-lm", "--model", str(model_dir), str(book), "--json"]) == 0
    (line,) = warnings_of(caplog, "modeling_irish.lm_evaluation")
    assert line == f"scored as read, not as written: {book} line 9 'Odd': {said}"


def test_many_skipped_tunes_are_named_five_then_counted(model_dir, tmp_path, capsys, caplog):
    """One warning a skipped tune flooded the terminal on a messy tunebook: the first five are
    named, then one line counts all twelve by reason, and ``skipped`` stays 12."""
    book = tmp_path / "bad.abc"
    bad = [f"X:{x}\nT:Bad {x}\nK:Q\nAB|\n" for x in range(2, 14)]  # K:Q: no such key
    book.write_text("\n".join([TUNES[0], *bad]), encoding="utf-8")
    with caplog.at_level("WARNING", logger="modeling_irish.lm_evaluation"):
        assert main(["evaluate-lm", "--model", str(model_dir), str(book), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == 12
    said = warnings_of(caplog, "modeling_irish.lm_evaluation")
    assert said == [
        f"skipped a tune: {book}: X:{x} Bad {x}: line {11 + 5 * (x - 2)}, column 3: cannot read "
        "key 'Q'"
        for x in range(2, 7)
    ] + [
        "... and 7 more skipped tunes (not shown); 12 in all, by reason: "
        "{\"AbcParseError: cannot read key 'Q'\": 12}"
    ]


def test_many_files_without_tunes_are_named_five_then_counted(model_dir, tmp_path, caplog):
    """evaluate-lm of many files, most of them empty, named each one: the first five are
    named, then one line counts all twelve by reason (the files given one by one, as a
    shell's ``*.abc`` gives them, or in a folder)."""
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "book.abc").write_text("\n".join(TUNES), encoding="utf-8")
    empty = [folder / f"empty{n:02}.abc" for n in range(1, 13)]
    for path in empty:
        path.write_text("", encoding="utf-8")
    summary = (
        "... and 7 more files without tunes (not shown); 12 in all, by reason: {'empty file': 12}"
    )
    for given in ([str(folder / "book.abc"), *map(str, empty)], [str(folder)]):
        caplog.clear()
        with caplog.at_level("WARNING"):
            assert main(["evaluate-lm", "--model", str(model_dir), *given, "--json"]) == 0
        said = warnings_of(caplog, "modeling_irish.abc_sources")
        assert said == [f"no ABC tunes found in {path} (empty file)" for path in empty[:5]] + [
            summary
        ]


# lengths no tune of TUNES has (7/2 and 1/2 eighths), so positions none has either (7/2)
UNSEEN_LENGTHS = "X:5\nT:E\nR:reel\nM:4/4\nL:1/8\nK:D\n|:D7/2E/ F4|A7/2B/ A4:|\n"


def test_values_outside_the_vocabulary_are_counted_and_said(model_dir, tmp_path, capsys, caplog):
    """A length the model's vocabulary lacks was scored as <unk> without a word: an NLL of
    <unk> targets. Each feature with such values is one warning, and the counts are in the
    result and in --json."""
    book = tmp_path / "unseen.abc"
    book.write_text(TUNES[0] + "\n" + UNSEEN_LENGTHS, encoding="utf-8")
    with caplog.at_level("WARNING", logger="modeling_irish.lm_evaluation"):
        assert main(["evaluate-lm", "--model", str(model_dir), str(book), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tunes"] == 2
    assert data["unknown"] == {
        "dur": {"values": 2, "rows": 4, "tunes": 1, "first": ["7/2", "1/2"]},
        "m_offset": {"values": 1, "rows": 2, "tunes": 1, "first": ["7/2"]},
    }
    assert [r.getMessage() for r in caplog.records] == [
        "2 values of feature 'dur' not in the model's vocabulary (first: 7/2, 1/2), in 4 rows "
        "of 1 tune: read and scored as <unk>",
        "1 value of feature 'm_offset' not in the model's vocabulary (first: 7/2), in 2 rows "
        "of 1 tune: read as <unk>",
    ]
    model = MeasureNoteForCausalLM.from_pretrained(model_dir).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir)
    assert evaluate_lm_on_texts(model, tokenizer, [UNSEEN_LENGTHS])["unknown"] == data["unknown"]
    assert main(["evaluate-lm", "--model", str(model_dir), str(book)]) == 0  # text: a third line
    assert capsys.readouterr().out.splitlines()[2] == (
        "values not in the model's vocabulary (read as <unk>): dur 2 (4 rows), m_offset 1 (2 rows)"
    )


def test_one_row_outside_the_vocabulary_is_said_in_the_singular(model_dir, tmp_path, capsys):
    # the text report said "m_offset 1 (1 rows)"
    book = tmp_path / "unseen.abc"
    book.write_text(
        TUNES[0] + "\n" + "X:5\nT:E\nR:reel\nM:4/4\nL:1/8\nK:D\nD7/2E/ F4|A8|]\n", encoding="utf-8"
    )
    assert main(["evaluate-lm", "--model", str(model_dir), str(book)]) == 0
    assert capsys.readouterr().out.splitlines()[2] == (
        "values not in the model's vocabulary (read as <unk>): dur 3 (3 rows), m_offset 1 (1 row)"
    )


def test_a_file_headers_transposing_directive_is_said_once_not_once_a_tune(model_dir, tmp_path,
                                                                           caplog):  # fmt: skip
    """An ``I:MIDI transpose`` before the first ``X:`` is written into every tune's text (ABC
    2.1: a tune cut out keeps its file header), whose reader said it again, each tune naming
    the line it was written into, not the file's: it is said once, at the file's line."""
    book = tmp_path / "book.abc"
    book.write_text("I:MIDI transpose -2\n\n" + "\n".join(TUNES[:2]), encoding="utf-8")
    with caplog.at_level("WARNING"):
        assert main(["evaluate-lm", "--model", str(model_dir), str(book), "--json"]) == 0
    said = [r.getMessage() for r in caplog.records if "transpose" in r.getMessage()]
    assert said == [
        f"{book}: I:MIDI transpose -2 in the file header not read (line 1): the notes of every "
        "tune are read and played as written"
    ]


def test_a_diverged_models_nll_is_null_in_the_json_with_a_warning(model_dir, capsys, monkeypatch):
    """A diverged model's NaN nll was printed as bare ``NaN``: no JSON, which ``jq`` and
    JavaScript's JSON.parse refuse. It is null, and stderr names the figures."""
    import modeling_irish.lm_evaluation as lm_evaluation

    real = lm_evaluation._lm_result

    def diverged(*args, **kwargs):
        return {**real(*args, **kwargs), "nll": math.nan, "perplexity": math.inf}

    monkeypatch.setattr(lm_evaluation, "_lm_result", diverged)
    argv = ["evaluate-lm", "--model", str(model_dir), str(model_dir / "tunes.abc"), "--json"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    data = strict_loads(out)
    assert data["nll"] is None and data["perplexity"] is None and data["tunes"] == 3
    assert math.isfinite(data["nll_main"])
    assert "irish-tune evaluate-lm: nll, perplexity not a finite number" in err


def test_a_diverged_models_figures_are_na_in_the_text_report(model_dir, tmp_path, capsys):
    """A model whose weights are NaN (a diverged run's checkpoint) scores NaN: the text report
    printed ``nll: nan  ...  perplexity: nan``; it says n/a and why, as the model card does."""
    import shutil

    diverged = tmp_path / "diverged"
    shutil.copytree(model_dir, diverged)
    model = MeasureNoteForCausalLM.from_pretrained(model_dir)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(math.nan)
    model.save_pretrained(diverged)
    assert main(["evaluate-lm", "--model", str(diverged), str(diverged / "tunes.abc")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "tunes: 3 (skipped 1)  tokens: " + lines[0].rsplit(" ", 1)[1]
    na = "n/a (not a finite number)"
    assert lines[1] == f"nll: {na}  nll_main: {na}  nll_dur: {na}  perplexity: {na}"


def test_an_infinite_nll_gives_an_infinite_perplexity_shown_as_na(model_dir, tmp_path, capsys):
    """A model that gives a target no chance at all (a logit of -inf) scores an infinite NLL:
    its perplexity was capped at exp(700), a 300-digit number in the text report and 1e304 in
    the JSON. It is infinite: n/a with why in the text, null with a warning in the JSON."""
    import shutil

    sure = tmp_path / "sure"
    shutil.copytree(model_dir, sure)
    model = MeasureNoteForCausalLM.from_pretrained(model_dir)
    with torch.no_grad():  # every main token but id 0 impossible: finite logits, infinite NLL
        model.main_head.bias.fill_(-math.inf)
        model.main_head.bias[0] = 0.0
    model.save_pretrained(sure)
    argv = ["evaluate-lm", "--model", str(sure), str(sure / "tunes.abc")]
    assert main(argv) == 0
    figures = capsys.readouterr().out.splitlines()[1]
    assert figures.startswith("nll: n/a (not a finite number)  nll_main: n/a (not a finite")
    assert figures.endswith("  perplexity: n/a (not a finite number)")
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    data = strict_loads(out)
    assert data["nll"] is None and data["perplexity"] is None and math.isfinite(data["nll_dur"])
    assert "irish-tune evaluate-lm: nll, nll_main, perplexity not a finite number" in err


def test_the_perplexity_of_an_nll_past_a_floats_range_is_infinite():
    """exp(nll) of a finite NLL too large for a float (exp(710) overflows) is infinite, not an
    OverflowError and not capped."""
    from modeling_irish.lm_evaluation import summarise_nll

    for nll, expected in ((800.0, math.inf), (math.inf, math.inf), (2.0, math.exp(2.0))):
        sums = torch.tensor([[nll * 4, 4, 0.0, 4, 0, 0]], dtype=torch.float64)
        assert summarise_nll(sums)["perplexity"] == expected, nll
    sums = torch.tensor([[math.nan, 4, 0.0, 4, 0, 0]], dtype=torch.float64)
    assert math.isnan(summarise_nll(sums)["perplexity"])
