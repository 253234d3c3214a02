"""Name that tune: building, saving and loading a tune index, and `identify` on it (the tunes
and the tiny model are `tests/helpers.py`'s; the commands are test_name_that_tune_cli.py's)."""

from __future__ import annotations

import copy
import json
import re
import sys

import numpy as np
import pytest
import torch
from helpers import NAME_THAT_TUNE_KNOWN as KNOWN
from helpers import NAME_THAT_TUNE_TRAIN as TRAIN
from helpers import name_that_tune_model, name_that_tune_tokenizer  # noqa: F401 (fixtures)

from modeling_irish.modeling_tune_title import TuneTitleModel
from modeling_irish.name_that_tune import TuneIndex, embed_titles, identify, read_tunes
from modeling_irish.retrieval_evaluation import evaluate_retrieval
from tokenization.tokenization_abc import AbcTokenizer


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
    path.write_text("\n".join(TRAIN), encoding="utf-8")
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


def test_index_keeps_note_lengths_for_the_per_eighth_distance(model, tokenizer, tmp_path):
    index = TuneIndex.build(model, tokenizer, TRAIN)
    # every tune is 8 bars of 8 eighth notes
    assert index.dur_flat is not None and index.dur_flat.tolist() == [1.0] * 64 * 8
    index.save(tmp_path / "index")
    loaded = TuneIndex.load(tmp_path / "index")
    assert np.array_equal(loaded.dur_flat, index.dur_flat)
    (tmp_path / "index" / "dur_flat.npy").unlink()  # lost since: refused, not scored without
    with pytest.raises(FileNotFoundError, match="incomplete: no dur_flat.npy; rebuild it"):
        TuneIndex.load(tmp_path / "index")
    info_file = tmp_path / "index" / "tune_index.json"
    info = json.loads(info_file.read_text(encoding="utf-8"))
    assert info.pop("optional_arrays") == ["dur_flat"]
    info_file.write_text(json.dumps(info), encoding="utf-8")  # an index saved before durations
    assert TuneIndex.load(tmp_path / "index").dur_flat is None


def test_identify_passes_the_snippet_meter_mode_and_rhythm_only_when_written(
    model, tokenizer, tmp_path
):
    path = tmp_path / "corpus.abc"
    path.write_text("\n".join(TRAIN), encoding="utf-8")
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
    # 6/8 is not in this tokenizer's vocabulary (read as <unk>: no penalty), dorian is (every
    # vocabulary holds every mode); no K: reads as C major, but that is no evidence of a mode
    # (and the pitch-class scorer tries it in all 12 transpositions); no M: is no meter, no R:
    # no rhythm
    dorian = (None, "dorian", None, False, True)
    free = ("all 12 shifts", None, None)
    assert seen == [("4/4", "major", "reel", False, True), dorian, free]
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


def test_an_index_saved_without_meters_and_modes_still_loads(model, tokenizer, tmp_path):
    import json

    path = tmp_path / "corpus.abc"
    path.write_text("\n".join(TRAIN), encoding="utf-8")
    TuneIndex.build(model, tokenizer, str(path)).save(tmp_path / "index")
    info_file = tmp_path / "index" / "tune_index.json"
    info = json.loads(info_file.read_text(encoding="utf-8"))
    # as an index of an earlier version
    del info["setting_meters"], info["setting_modes"], info["setting_rhythms"]
    info_file.write_text(json.dumps(info), encoding="utf-8")
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
    corpus.write_text("\n".join(TRAIN), encoding="utf-8")
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


def test_tunes_with_note_lengths_the_vocabulary_lacks(model, tokenizer, tmp_path):
    # the fixture tokenizer saw only eighth notes: "A2" and "B/" read as <unk> lengths
    odd = "X:300\nT:Reel 2\nS: https://thesession.org/tunes/2#setting300\nR:reel\nM:4/4\nL:1/8\n"
    odd += "K:D\nA2 B/B/ CDEF GABc|dcBA GFED|]\n"
    path = tmp_path / "corpus.abc"
    path.write_text("\n".join(TRAIN + [odd]), encoding="utf-8")
    index = TuneIndex.build(model, tokenizer, str(path))  # encodes without reading tokens back
    assert len(index.setting_title) == 9
    top = identify(model, index, odd, k=1, tokenizer=tokenizer)
    assert top[0][0] == "Reel 2"
    # as a query, its excerpt cannot be read back: it is dropped and counted, not an error
    m = evaluate_retrieval(None, tokenizer, TRAIN, [odd, KNOWN[0]], "known", 0, 0, "edit-distance")
    assert m["queries"] == 1 and m["dropped_queries"] == 1 and m["r_at_1"] == 1.0
    assert m["dropped_reasons"] == {"not_in_protocol": 0, "unreadable": 1}


def test_a_query_left_out_for_a_length_is_named_by_its_notes_as_typed(tokenizer, caplog):
    # the fixture tokenizer saw only eighth notes: "A2" and "B/" read as <unk> lengths; the
    # warning named the cropped rows' token ("the length of 'pitch69'"), not the notes typed
    odd = "X:300\nT:Reel 2\nS: https://thesession.org/tunes/2#setting300\nR:reel\nM:4/4\n"
    odd += "L:1/8\nK:D\nA2 B/B/ CDEF GABc|dcBA GFED|]\n"
    with caplog.at_level("WARNING"):
        m = evaluate_retrieval(
            None, tokenizer, TRAIN, [odd, KNOWN[0]], "known", 0, 0, "edit-distance"
        )
    assert m["dropped_reasons"]["unreadable"] == 1
    said = [r.getMessage() for r in caplog.records if "left out the query" in r.getMessage()]
    assert said == [
        "evaluate_retrieval: left out the query X:300 'Reel 2': its excerpt cannot be read "
        "back: it holds notes whose length is not in the tokenizer's vocabulary (feature "
        "'dur', 2, 1/2 of an eighth; read as <unk>): 3 of the query's notes, 'A2' (note 1), "
        "'B/2' (note 2), 'B/2' (note 3)"
    ]


def test_identify_names_the_notes_whose_length_or_pitch_the_tokenizer_lacks(tokenizer, caplog):
    # the fixture tokenizer saw only eighth notes from C to e: "d10" and "e2/3" read as <unk>
    # lengths, compared as eighths, so another rhythm scored 0 ("an exact excerpt") unsaid
    index = TuneIndex.build(None, tokenizer, TRAIN)
    body = KNOWN[1].split("K:D\n")[1]
    head = "X:7\nM:4/4\nL:1/8\nK:D\n"
    top = identify(None, index, head + body, k=1, tokenizer=tokenizer)
    assert top == [("Reel 2", 0.0)] and top.warnings == []  # the control: every note known
    odd = head + "d10" + body[1:9] + "e2/3" + body[10:]
    with caplog.at_level("WARNING"):  # returned for the caller to say, not logged
        top = identify(None, index, odd, k=1, tokenizer=tokenizer)
        pitch = identify(None, index, head + "c''" + body[1:], k=1, tokenizer=tokenizer)
    assert top[0][0] == "Reel 2" and caplog.text == ""
    # not named "X:7": the caller names the query as its user knows it (a bare snippet had the
    # X: line the command adds)
    assert top.warnings == top.unknown_notes
    assert top.unknown_notes == [
        "2 notes with a length the tokenizer does not know (read as <unk>): 'd10' (note 1), "
        "'e2/3' (note 9); compared as one eighth each, so the scores do not see that rhythm"
    ]
    assert pitch.unknown_notes == [  # a pitch it lacks leaves the note out
        "1 note with a pitch the tokenizer does not know (read as <unk>): \"c''\" (note 1); "
        "left out of the comparison"
    ]


def test_identify_returns_what_the_reader_left_out_of_the_query(tokenizer, caplog):
    """The reader's warnings about a query (a decoration, a second voice dropped) were kept in
    the encoded tune: the command said them, a Python caller of `identify` could not see them."""
    index = TuneIndex.build(None, tokenizer, TRAIN)
    voiced = KNOWN[6].replace("K:D\n", "K:D\nV:1\n") + "V:2\nGA|\n"
    with caplog.at_level("WARNING"):
        top = identify(None, index, voiced, k=1, tokenizer=tokenizer)
    assert top == [("Reel 7", 0.0)] and caplog.text == ""  # said once: by the caller
    assert top.read_warnings == top.warnings == ["voice V:2 dropped"]


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
    corpus.write_text("\n".join(TRAIN + [repeated]), encoding="utf-8")
    tok = AbcTokenizer.train(TRAIN + [repeated])
    played = TuneIndex.build(None, tok, str(corpus))
    written = TuneIndex.build(None, tok, str(corpus), unfold_repeats=False)
    assert (played.meta["order"], written.meta["order"]) == ("played", "written")
    assert len(played.pitch_flat) == len(written.pitch_flat) + 32  # the part, twice
    top = identify(None, played, snippet, k=1, tokenizer=tok, scoring="edit-distance")
    assert top == [("Round Again", 0.0)]
    as_written = dict(identify(None, written, snippet, k=9, tokenizer=tok, scoring="edit-distance"))
    assert as_written["Round Again"] < 0  # the jump back is not in the written text


def test_index_reports_the_tunes_it_leaves_out(tokenizer, tmp_path, capsys):
    from modeling_irish.cli import main

    bad = "X:77\nT:Broken Reel\nM:4/4\nL:1/8\nK:D\nAB]c|\n"  # a chord closed, never opened
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN + [bad]), encoding="utf-8")
    index = TuneIndex.build(None, tokenizer, str(corpus))
    report = index.meta["report"]
    assert report["read"] == len(TRAIN) + 1 and report["untitled"] == 1  # the tune titled `x`
    assert len(report["unreadable"]) == 1 and "Broken Reel" in report["unreadable"][0]
    # the line of the file, as `irish-tune check` names it, not the line within the tune
    text = corpus.read_text(encoding="utf-8")
    body_line = text[: text.index("AB]c|")].count("\n") + 1
    assert f"{corpus}: X:77 Broken Reel: line {body_line}, column 3" in report["unreadable"][0]
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


def test_identify_without_a_model_defaults_to_the_edit_distance(tokenizer, tmp_path):
    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN), encoding="utf-8")
    index = TuneIndex.build(None, tokenizer, str(corpus))
    assert identify(None, index, KNOWN[6], k=1, tokenizer=tokenizer) == [("Reel 7", 0.0)]
    with pytest.raises(ValueError, match="k must be at least 1"):
        identify(None, index, KNOWN[6], k=0, tokenizer=tokenizer)


def test_a_damaged_or_newer_index_is_named_not_a_traceback(tokenizer, tmp_path, caplog):
    import shutil

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(TRAIN), encoding="utf-8")
    good = tmp_path / "idx"
    TuneIndex.build(None, tokenizer, str(corpus)).save(good)
    assert json.loads((good / "tune_index.json").read_text(encoding="utf-8"))["format"] == 3

    def damaged(edit) -> str:
        bad = tmp_path / f"bad{len(list(tmp_path.iterdir()))}"
        shutil.copytree(good, bad)
        edit(bad)
        return str(bad)

    def rewrite(folder, change):
        info = json.loads((folder / "tune_index.json").read_text(encoding="utf-8"))
        change(info)
        (folder / "tune_index.json").write_text(json.dumps(info), encoding="utf-8")

    cases = [
        (lambda f: (f / "pitch_flat.npy").unlink(), FileNotFoundError, "no pitch_flat.npy"),
        (lambda f: (f / "tune_index.json").write_text('{"titles": ["a', encoding="utf-8"),
         ValueError, "damaged"),
        (lambda f: rewrite(f, lambda i: i.update(titles=i["titles"][:2])), ValueError,
         "titles beyond"),
        (lambda f: rewrite(f, lambda i: i.update(setting_meters=["4/4"])), ValueError,
         "setting_meters has 1 entries"),
        (lambda f: rewrite(f, lambda i: i.update(format=99)), ValueError, "format 99"),
        (lambda f: rewrite(f, lambda i: i.update(optional_arrays="dur_flat")), ValueError,
         "optional_arrays 'dur_flat', not a list"),
    ]  # fmt: skip
    for edit, error, message in cases:
        with pytest.raises(error, match=message):
            TuneIndex.load(damaged(edit))
    older = damaged(
        lambda f: ((f / "dur_flat.npy").unlink(), rewrite(f, lambda i: i.pop("optional_arrays")))
    )
    with caplog.at_level("WARNING"):
        assert len(TuneIndex.load(older)) == 8
    assert "built by an earlier version" in caplog.text


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
    # chord symbols over `x` rests: the refusal says they are not notes (it said rests only)
    with pytest.raises(AbcParseError, match=r"only rests \(its 2 chord symbols or annotations"):
        identify(
            None, index, 'K:D\n"G"x4 "D"x4|', k=2, tokenizer=tokenizer, scoring="edit-distance"
        )
    # bar lines alone: the reader refuses them first, at the same place
    with pytest.raises(AbcParseError, match="Bars: line 1, column 1: tune has no notes: bar"):
        identify(model, index, "X:5\nT:Bars\nK:D\n|||\n", k=2, tokenizer=tokenizer)
    # notes all above the pitches this tokenizer saw (it knows C..e): read as <unk>
    with pytest.raises(AbcParseError, match="its 2 notes are all outside the pitch range"):
        identify(model, index, "X:6\nK:D\nc''c''|\n", k=2, tokenizer=tokenizer)


def test_an_empty_snippet_says_it_is_empty(tokenizer):
    """``identify("")`` said "tune has no notes" where ``irish-tune identify`` says its stdin
    is empty: the Python call names the empty text too."""
    from tokenization.abc_parser import AbcParseError

    index = TuneIndex.build(None, tokenizer, TRAIN)
    for snippet, said in (("", "an empty string"), ("  \n", "only whitespace (3 characters)")):
        with pytest.raises(AbcParseError, match=re.escape(f"the text is {said}, not an ABC tune")):
            identify(None, index, snippet, k=2, tokenizer=tokenizer)


def test_index_shows_its_progress_while_it_embeds_the_titles(model, tokenizer, capsys, monkeypatch):
    # thesession's 8,309 titles took 36 s without a word before the settings' bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bars show
    TuneIndex.build(model, tokenizer, TRAIN)
    err = capsys.readouterr().err
    assert re.search(r"Embedding titles: 100%\S* *\S* 8/8 ", err), err  # 8 titles, counted
    # the settings are embedded as they are encoded, the last chunk under a bar of its own
    assert err.index("Embedding settings") < err.index("Embedding titles")
    TuneIndex.build(None, tokenizer, TRAIN)  # no model, no titles to embed
    assert "Embedding titles" not in capsys.readouterr().err
    embed_titles(model, ["Reel 1"])  # no label, no bar (as identify's model check calls it)
    assert capsys.readouterr().err == ""


def test_index_shows_its_progress_while_it_reads_the_notes_of_its_settings(
    model, tokenizer, capsys, monkeypatch
):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bars show
    # thesession's 17,000 settings had their repeats unfolded and headers read for 5-10 s
    # (10-24 s on a busy machine) with nothing shown after the "Indexing tunes" bar
    # (now each tune's notes are read, and its setting embedded a chunk at a time, as it is
    # encoded: one bar for all three)
    index = TuneIndex.build(model, tokenizer, TRAIN)
    err = capsys.readouterr().err
    n = len(index.setting_title)
    # cleared when done, as `check`'s bar is: its draws count up to the n settings
    bar = rf"Indexing and embedding tunes, notes as played: +\d+%\S* *\S* \d+/{n} "
    assert re.search(bar, err) and "Reading notes" not in err, err
    TuneIndex.build(model, tokenizer, TRAIN, unfold_repeats=False)
    assert "Indexing and embedding tunes, notes as written: " in capsys.readouterr().err
    # without a model: the notes alone
    TuneIndex.build(None, tokenizer, TRAIN)
    err = capsys.readouterr().err
    assert re.search(rf"Indexing tunes, notes as played: +\d+%\S* *\S* \d+/{n} ", err), err
    assert "Reading notes" not in err
    TuneIndex.build(None, tokenizer, TRAIN, unfold_repeats=False)
    assert "Indexing tunes, notes as written: " in capsys.readouterr().err


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


def test_encoding_the_settings_keeps_no_parsed_tune_alive(tokenizer, monkeypatch):
    # thesession's 17,000 parsed tunes (2 million tokens) were kept to the end of the encoding,
    # and each of the garbage collector's full passes walked them all: 5-10 s of a build
    import gc
    import weakref

    from modeling_irish.tune_embedding import encode_records

    parsed, real = [], tokenizer.encode_tune

    def encode_tune(text, **kwargs):
        enc = real(text, **kwargs)
        parsed.append(weakref.ref(enc.tune))
        return enc

    monkeypatch.setattr(tokenizer, "encode_tune", encode_tune)
    records = read_tunes(TRAIN)
    encoded, kept = encode_records(tokenizer, records)
    gc.collect()
    assert len(parsed) == len(kept) == len(TRAIN) and not [t for t in parsed if t() is not None]
    for (ids, measures), i in zip(encoded, kept):  # the ids and measures as encode_tune gives
        enc = real(records[i]["abc"])
        assert np.array_equal(ids, enc.input_ids)
        assert np.array_equal(measures, enc.measure_numbers)


def test_the_encoders_flags_are_keyword_only(tokenizer):
    # encode_all passed `True` as the fifth positional argument, `terminal_only`; a caller
    # that meant `changed` (encode_all's own fifth) got a flag, or a list as a flag
    from modeling_irish.tune_embedding import encode_all, encode_records, encoded_records

    records = read_tunes(TRAIN[:1])
    for encode in (encode_records, encoded_records, encode_all):
        with pytest.raises(TypeError, match="positional"):
            encode(tokenizer, records, None, None, True)
    assert encode_all(tokenizer, records, changed=[])[1] == [0]


def test_an_index_normalises_each_title_once(tokenizer, monkeypatch):
    # thesession's titles went through title_key three times each in a build (0.4 s for its
    # 20,700 tunes, 2026-12-06)
    import collections

    import modeling_irish.tune_embedding as tune_embedding
    import modeling_irish.tune_index as tune_index

    calls, real = [], tune_embedding.title_key

    def title_key(title):
        calls.append(title)
        return real(title)

    for module in (tune_index, tune_embedding):  # where build and title_gallery look it up
        monkeypatch.setattr(module, "title_key", title_key)
    index = TuneIndex.build(None, tokenizer, TRAIN)
    read = read_tunes(TRAIN)
    assert collections.Counter(calls) == collections.Counter(r["title"] for r in read)
    titled = [r["title"] for r in read if real(r["title"])]
    assert [index.titles[t] for t in index.setting_title] == titled and len(titled) == 8


def test_index_shows_a_bar_while_it_reads_its_files(tokenizer, tmp_path, capsys, monkeypatch):
    # thesession's tunes (20,700 then, 2026-12-06) were read for 1-3 s with nothing shown
    # before "Indexing tunes"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bars show
    path = tmp_path / "corpus.abc"
    path.write_text("\n".join(TRAIN), encoding="utf-8")
    TuneIndex.build(None, tokenizer, str(path))
    err = capsys.readouterr().err
    assert re.search(rf"Reading tunes: {len(TRAIN)} tunes \[", err), err
    assert err.index("Reading tunes") < err.index("Indexing tunes")
    assert read_tunes(str(path)) and capsys.readouterr().err == ""  # no label, no bar


def test_index_draws_no_bars_into_a_log(model, tokenizer, tmp_path, capsys):
    # `irish-tune index ... 2>log` wrote every bar's carriage-return redraws into the log
    # (reading, indexing and embedding, minutes of them for a whole corpus), where `check`,
    # `transpose` and `evaluate-retrieval` draw their bars on a terminal only
    path = tmp_path / "corpus.abc"
    path.write_text("\n".join(TRAIN), encoding="utf-8")
    TuneIndex.build(model, tokenizer, str(path))  # capsys: stderr is not a terminal
    assert capsys.readouterr().err == ""


def _nan_model(model, *parts: str):
    """A copy of `model` whose `parts` (all its weights when none is named) are NaN."""
    broken = copy.deepcopy(model)
    with torch.no_grad():
        modules = [getattr(broken, part) for part in parts] or [broken]
        for module in modules:
            for weight in module.parameters():
                weight.fill_(float("nan"))
    return broken


def test_identify_says_a_model_or_index_gives_nan_rather_than_ranking_it(model, tokenizer):
    # a model whose tune side gives NaN listed the index's first titles, each scored nan
    index = TuneIndex.build(model, tokenizer, TRAIN)
    broken = _nan_model(model, "tune_projection")
    for scoring in ("hybrid", "title", "setting"):
        with pytest.raises(ValueError, match="embeddings of the snippet are not finite numbers"):
            identify(broken, index, KNOWN[0], k=3, tokenizer=tokenizer, scoring=scoring)
    # NaN throughout: said so, not that the index was built with another model
    with pytest.raises(ValueError, match="model's embeddings are not finite .*weights finite"):
        identify(_nan_model(model), index, KNOWN[0], k=3, tokenizer=tokenizer)
    # nor is an index built of such vectors
    with pytest.raises(ValueError, match=r"embeddings of the titles \(8 of 8\) are not finite"):
        TuneIndex.build(_nan_model(model, "title_projection"), tokenizer, TRAIN)
    # an index holding a NaN vector (one title's, one setting's) is named, with what to do
    index.title_embeds[3] = np.nan
    with pytest.raises(ValueError, match=r"index's embeddings \(1 of 8\) .*rebuild it"):
        identify(model, index, KNOWN[0], k=3, tokenizer=tokenizer, scoring="title")
    index.title_embeds[0] = np.nan  # the one the model check embeds again
    with pytest.raises(ValueError, match=r"the index's embeddings are not finite .*rebuild it"):
        identify(_nan_model(model, "tune_model"), index, KNOWN[0], k=3, tokenizer=tokenizer)
    index.setting_embeds[5] = np.nan
    with pytest.raises(ValueError, match=r"index's embeddings \(1 of 8\) .*rebuild it"):
        identify(model, index, KNOWN[0], k=3, tokenizer=tokenizer, scoring="setting")


def test_identify_and_index_building_leave_a_training_model_in_training_mode(
    model, tokenizer, monkeypatch
):
    # both set eval mode and left it set: identifying mid-training turned dropout off after it
    training = copy.deepcopy(model).train()
    index = TuneIndex.build(training, tokenizer, TRAIN)
    assert training.training and all(m.training for m in training.modules())
    identify(training, index, KNOWN[0], k=1, tokenizer=tokenizer, scoring="hybrid")
    assert training.training and all(m.training for m in training.modules())
    # its own mode again on an error too, and an eval model stays in eval mode
    monkeypatch.setattr(training, "get_title_features", lambda titles: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        embed_titles(training, ["The Kesh"])
    assert training.training
    embed_titles(model, ["The Kesh"])
    assert not model.training
