"""`irish-tune transpose`: every tune of ABC files written back as valid ABC, in a real key
(``--key``) or normalised as the training corpus is; the output reads back (`irish-tune check`
round-trips it) at the input's pitches moved by the interval asked for."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from helpers import require_corpus, run_as_console_script, stderr_said, warnings_of

import irish_tune
from tokenization.abc_header import split_tunebook
from tokenization.abc_parser import AbcTune, parse_abc
from tokenization.check import check_text
from tokenization.features import HeaderInfo, tune_to_rows
from tokenization.keys import normalise_tune, parse_key, transpose_shift
from tokenization.transposition import transposed_abc

ROOT = Path(__file__).resolve().parents[1]

KESH = "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|\n"
DORIAN = "X:3\nT:Cooley's\nR:reel\nM:4/4\nL:1/8\nK:Edor\nEBBA B2 EB|B2AB dBAG|\n"
BROKEN = "X:2\nT:Broken\nK:G\nG[A|\n"


def _notes(tune: AbcTune) -> list[tuple[int, object]]:
    """The pitch and length of every note of ``tune``, in order."""
    return [(t.pitch, t.dur) for t in tune.tokens if t.pitch is not None]


def _transpose(args: list[str], capsys) -> tuple[int, str, str]:
    status = irish_tune.main(["transpose", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _wrote(tunes: int, where: str = "stdout") -> str:
    """The last line transpose says on stderr when every tune is written."""
    return f"irish-tune transpose: wrote {tunes} tune{'s' * (tunes != 1)} to {where}\n"


def _tunes(text: str) -> list[AbcTune]:
    return [parse_abc(tune) for _, tune in split_tunebook(text)]


def _assert_transposed(source: AbcTune, written: AbcTune, key: str) -> None:
    """``written`` is ``source`` in ``key``: every note moved by the nearest interval between
    the two tonics (from the key the notes were read in: a corpus tune's white key), the
    lengths kept, and the header's number, titles and meter kept."""
    moved = transpose_shift(source.key, parse_key(key))
    before, after = _notes(source), _notes(written)
    assert [duration for _, duration in after] == [duration for _, duration in before]
    shifts = {a - b for (a, _), (b, _) in zip(after, before)}
    assert len(shifts) == 1, shifts
    (shift,) = shifts
    assert shift % 12 == moved % 12 and abs(shift) <= 6, (shift, moved)
    assert written.key == parse_key(key)
    assert (written.x, written.title, written.meter) == (source.x, source.title, source.meter)


def _corpus_head(count: int) -> str:
    """The first ``count`` tunes of the shared corpus, as one tunebook."""
    tunes = itertools.islice(split_tunebook(require_corpus().read_text(encoding="utf-8")), count)
    return "\n\n".join(tune.strip("\n") for _, tune in tunes) + "\n"


def _oneills(count: int) -> str:
    """The first ``count`` tunes of O'Neill's 1850 bundled with music21 (in G minor, D...)."""
    pytest.importorskip("music21")
    from modeling_irish.abc_sources import music21_collection_files

    text = music21_collection_files("oneills1850")[0].read_text(encoding="latin-1")
    return "\n\n".join(t.strip("\n") for _, t in itertools.islice(split_tunebook(text), count))


def test_without_a_key_tunes_are_written_normalised_as_the_corpus_is(tmp_path, capsys):
    """Each tune on the white keys of its mode (G major in C, E dorian in D dorian), its key
    kept in Z:, in the real white key ``decode`` writes (not the ``K: C Dorian`` placeholder);
    the rows read back equal the rows of the tune normalised."""
    book = tmp_path / "book.abc"
    book.write_text(KESH + "\n" + DORIAN, encoding="utf-8")
    status, out, err = _transpose([str(book)], capsys)
    assert (status, err) == (0, _wrote(2))
    written = _tunes(out)
    assert [t.key.name for t in written] == ["C major", "D dorian"]
    assert [t.fields["Z"] for t in written] == [["G major"], ["E dorian"]]
    for source, back in zip(_tunes(KESH + "\n" + DORIAN), written):
        normal = normalise_tune(source)
        rows = tune_to_rows(normal.tokens, HeaderInfo.from_tune(normal)).rows()
        assert tune_to_rows(back.tokens, HeaderInfo.from_tune(back)).rows() == rows
    assert "K:C\n" in out and "K:Ddor\n" in out


def test_with_a_key_each_tune_moves_by_the_nearest_interval(tmp_path, capsys):
    out_file = tmp_path / "in_a.abc"
    book = tmp_path / "kesh.abc"
    book.write_text(KESH, encoding="utf-8")
    status, out, err = _transpose([str(book), "--key", "A", "-o", str(out_file)], capsys)
    assert (status, out, err) == (0, "", _wrote(1, str(out_file)))
    text = out_file.read_text(encoding="utf-8")
    (back,) = _tunes(text)
    _assert_transposed(parse_abc(KESH), back, "A")  # G to A: up a tone, not down a seventh
    assert "|: ABA ABc |" in text
    assert "R:jig" in text and "T:The Kesh" in text


def test_a_section_title_stays_before_the_part_it_opens(tmp_path, capsys):
    """``T:Part B`` between a part's ``:|`` and the next part's ``|:`` (read as one ``:|:``,
    the title after it) is written there, ``:|`` then ``T:Part B`` then ``|:``, not after a
    ``:||:`` that ended the line above it; the output reads back with each title where it was."""
    source = KESH.replace("|:GAG", "T:Part A\n|:GAG") + "T:Part B\n|:gfg edB|dBG AFD:|\n"
    book = tmp_path / "parts.abc"
    book.write_text(source, encoding="utf-8")
    status, out, err = _transpose([str(book), "--key", "A"], capsys)
    assert (status, err) == (0, _wrote(1))
    assert ":||:" not in out and "fec ecB :|\nT:Part B\n|: aga fec |" in out, out
    (back,) = _tunes(out)
    titles = [(0, "Part A"), (29, "Part B")]
    assert back.section_titles == parse_abc(source).section_titles == titles
    assert check_text(out).round_trip_ok == 1


@pytest.mark.parametrize("source", ["corpus", "oneills"])
def test_the_output_round_trips_through_check_at_the_pitches_asked(source, tmp_path, capsys):
    """Tunes of the shared corpus (white-key placeholders) and of O'Neill's (in G minor, D
    major, L:1/16, decorations), in their mode's key of tonic Bb and normalised: ``check``
    round-trips every tune written, and each holds the input's notes moved by the interval."""
    text = _corpus_head(6) if source == "corpus" else _oneills(3)
    book = tmp_path / "book.abc"
    book.write_text(text, encoding="utf-8")
    sources = _tunes(text)
    for mode in {t.key.mode for t in sources}:  # the tunes of other modes are left out
        key = f"Bb {mode}"
        status, out, err = _transpose([str(book), "--key", key], capsys)
        written = {t.x: t for t in _tunes(out)}
        assert sorted(written) == sorted(t.x for t in sources if t.key.mode == mode), err
        for source_tune in (t for t in sources if t.key.mode == mode):
            _assert_transposed(source_tune, written[source_tune.x], key)
        report = check_text(out)
        assert report.round_trip_ok == report.tunes == len(written), report.failures
    status, out, err = _transpose([str(book)], capsys)
    assert (status, err) == (0, _wrote(len(_tunes(out))))
    report = check_text(out)
    assert report.round_trip_ok == report.tunes == len(sources), report.failures
    for source_tune, back in zip(sources, _tunes(out)):
        assert _notes(back) == _notes(normalise_tune(source_tune))
    assert irish_tune.main(["check", str(book)]) == 0  # the command line agrees
    capsys.readouterr()


def test_a_tune_that_cannot_be_read_or_is_of_another_mode_is_named_and_left_out(
    tmp_path, capsys, caplog
):
    """The others are written; each left out is named on stderr with its file, X: and title
    (and line and column, as check names it), a last line counts them, and the status is 1."""
    book = tmp_path / "book.abc"
    book.write_text(KESH + "\n" + BROKEN + "\n" + DORIAN, encoding="utf-8")
    written = tmp_path / "in_a.abc"
    assert irish_tune.main(["transpose", str(book), "--key", "A", "-o", str(written)]) == 1
    assert [t.title for t in _tunes(written.read_text(encoding="utf-8"))] == ["The Kesh"]
    last, *named = stderr_said(capsys, caplog, "modeling_irish.transpose_cli").splitlines()
    assert last == "irish-tune transpose: 2 of 3 tunes not written"
    assert named[0].endswith(f"{book}: X:2 Broken: line 12, column 4: bar line inside a chord")
    # one format for both, check's (`book.abc: X:2 Same: ...`): it was `book.abc line 14: X:3`
    assert named[1].startswith(f"irish-tune transpose: {book}: X:3 Cooley's: in E dorian, not a")
    assert named[1].endswith("give --key 'A dorian'")


def test_refused_runs_write_nothing_and_exit_2(tmp_path, capsys, monkeypatch):
    """A key that is no key name, a missing file, or no tune at all: one line, status 2, and an
    earlier ``-o`` file left as it was. A missing file is said to be missing first, as check
    says it (it was "ABC source '...' is neither a file, a folder, 'music21' nor one of ...")."""
    import io

    out_file = tmp_path / "out.abc"
    out_file.write_text("earlier", encoding="utf-8")
    book = tmp_path / "kesh.abc"
    book.write_text(KESH, encoding="utf-8")
    for args, said in (
        ([str(book), "--key", "D ^g"], "is not a key name"),
        ([str(book), str(tmp_path / "missing.abc")], f"no such file or folder: {tmp_path}"),
    ):
        status, out, err = _transpose([*args, "-o", str(out_file)], capsys)
        assert (status, out) == (2, "") and said in err and len(err.splitlines()) == 1, err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, out, err = _transpose(["-", "-o", str(out_file)], capsys)
    assert status == 2 and "no tune to transpose: stdin (empty input)" in err
    assert out_file.read_text(encoding="utf-8") == "earlier"


def test_a_folder_without_abc_files_is_refused_as_check_refuses_it(tmp_path, capsys):
    """``transpose EMPTYDIR`` said "no tune to transpose: EMPTYDIR (no *.abc files)", and beside
    a tunebook wrote the book's tunes and exited 1, where ``check`` refuses such a folder as a
    usage error, a mistyped path: both refuse it now in one wording, before writing anything."""
    folder = tmp_path / "emptydir"
    folder.mkdir()
    (folder / "notes.txt").write_text("not ABC\n", encoding="utf-8")
    book = tmp_path / "kesh.abc"
    book.write_text(KESH, encoding="utf-8")
    out_file = tmp_path / "out.abc"
    out_file.write_text("earlier", encoding="utf-8")
    said = f"no .abc files in the folder {folder}\n"
    assert irish_tune.main(["check", str(folder)]) == 2
    assert capsys.readouterr().err == f"irish-tune check: {said}"
    for sources in ([str(folder)], [str(book), str(folder)]):
        for output in ([], ["-o", str(out_file)]):
            status, out, err = _transpose([*sources, "--key", "D", *output], capsys)
            assert (status, out, err) == (2, "", f"irish-tune transpose: {said}")
    assert out_file.read_text(encoding="utf-8") == "earlier"


def test_stdin_is_read_and_the_key_spelled_with_at_most_7_flats(capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(DORIAN))
    status, out, err = _transpose(["-", "--key", "Fbdor"], capsys)
    assert status == 0
    assert "E dorian" in err and "the same sound" in err  # Fb dorian: 8 flats
    (back,) = _tunes(out)
    assert _notes(back) == _notes(parse_abc(DORIAN))  # its own key: the same pitches


def test_transpose_from_the_command_line_imports_no_torch(tmp_path):
    """A model-free command (`irish_tune.MODEL_FREE_COMMANDS`): the reader and writer only."""
    book = tmp_path / "kesh.abc"
    book.write_text(KESH, encoding="utf-8")
    lines = run_as_console_script(["transpose", str(book), "--key", "D"])
    assert lines[-2:] == ["status 0", "loaded []"]
    assert "K:D" in lines


def test_what_the_reader_did_not_read_as_written_is_said_as_check_says_it(tmp_path, capsys, caplog):
    """A second voice dropped (and a field read from outside its brackets) was written away
    unsaid: transpose says it as check does, at the lines of the file, the same lines; the ABC
    written and the exit status are those of the tune as read."""
    two = "X:4\nT:Two Voices\nL:1/8\nK:G\nV:1\nGABc dBAG|]\nV:2\nDEFG ABcd|]\n"
    bare = "X:5\nT:Bare\nL:1/8\nK:G\nGABc|K:D dBAG|]\n"
    book = tmp_path / "voices.abc"
    book.write_text(KESH + "\n" + two + "\n" + bare, encoding="utf-8")
    assert irish_tune.main(["check", str(book)]) == 0
    checked = warnings_of(caplog, "tokenization.check")
    caplog.clear()
    capsys.readouterr()
    status, out, err = _transpose([str(book), "--key", "A"], capsys)
    assert (status, err) == (0, _wrote(3))
    assert len(_tunes(out)) == 3 and "DEFG" not in out and "EFGA" not in out
    said = warnings_of(caplog, "modeling_irish.transpose_cli")
    assert said == checked
    assert said == [
        f"{book}: X:4 Two Voices: voice V:2 dropped",
        f"{book}: X:5 Bare: field K:D inside a line read as [K:D] (line 22, column 6): an inline "
        "field is written in brackets",
    ]


def test_music_after_a_blank_line_is_named_as_check_names_it(tmp_path, capsys, caplog):
    """Transpose named it ``book.abc: the tune X:1 Cut at line 1: ...`` (by the book alone for
    music21's: ``oneills1850: the tune X:1645 ...``) where check says ``book.abc: X:1 Cut: ...``."""
    book = tmp_path / "cut.abc"
    book.write_text("X:1\nT:Cut\nL:1/8\nK:G\nGABc|]\n\ndBAG|]\n", encoding="utf-8")
    assert irish_tune.main(["check", str(book)]) == 0
    checked = warnings_of(caplog, "tokenization.check")
    caplog.clear()
    capsys.readouterr()
    status, out, err = _transpose([str(book)], capsys)
    assert (status, err, len(_tunes(out))) == (0, _wrote(1), 1)
    assert checked == [
        f"{book}: X:1 Cut: 1 line(s) after the blank line 6 not read (a blank line ends a tune), "
        "the first at line 7"
    ]
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == checked


def test_transpose_names_three_tune_warnings_a_kind_then_counts_them(tmp_path, capsys, caplog):
    """As check: the first `TUNE_WARNINGS_SHOWN` of each kind, then one line counts them."""
    two = "X:{x}\nT:Two {x}\nL:1/8\nK:G\nV:1\nGABc|]\nV:2\nDEFG|]\n\n"
    book = tmp_path / "many.abc"
    book.write_text("".join(two.format(x=x) for x in range(1, 6)), encoding="utf-8")
    status, out, err = _transpose([str(book)], capsys)
    assert (status, err, len(_tunes(out))) == (0, _wrote(5), 5)
    assert warnings_of(caplog, "modeling_irish.transpose_cli") == [
        f"{book}: X:{x} Two {x}: voice V:2 dropped" for x in range(1, 4)
    ] + [
        "... and 2 more tune warnings 'voices dropped (only the first is read)' (not shown); "
        "5 in all"
    ]


def test_tunes_not_written_are_counted_by_the_whole_reason_after_their_place(
    tmp_path, capsys, caplog
):
    """A reason whose own text holds ': ' (K:Bn's) is counted whole, not from its last ': '."""
    bn = "X:{x}\nT:Galway Tom {x}\nL:1/8\nK:Bn\nBcd|]\n\n"
    book = tmp_path / "bn.abc"
    book.write_text("".join(bn.format(x=x) for x in range(1, 7)), encoding="utf-8")
    assert irish_tune.main(["transpose", str(book)]) == 1
    said = stderr_said(capsys, caplog, "modeling_irish.transpose_cli").splitlines()
    summary = [line for line in said if line.startswith("... and 1 more")]
    assert summary == [
        "... and 1 more tune not written (not shown); 6 in all, by reason: {\"unknown key '…': "
        "no natural sign in an ABC key (K:B), nor is '…' a mode (m, dor...)\": 6}"
    ]


# g'''' is MIDI 127, the highest; C,,,,, in D major (C#) is 1, a tone down 0-127's end
_TOO_HIGH = "X:5\nT:Top\nM:2/4\nL:1/8\nK:Bb\nB2 d2|\nf2 g''''2|\n"
_TOO_LOW = "X:6\nT:Bottom\nM:2/4\nL:1/8\nK:D\nD2 F2|\nA2 C,,,,,2|\n"


@pytest.mark.parametrize(
    ("key", "named"),
    [
        ([], "X:5 Top: line 15, column 4: pitch 127 moves to 129 when the tune goes from Bb major"),
        ([], "X:6 Bottom: line 23, column 4: pitch 1 moves to -1 when the tune goes from D major"),
        (["--key", "B"], "X:5 Top: line 15, column 4: pitch 127 moves to 128 when the tune goes "),
    ],
)
def test_a_note_moved_out_of_midi_is_named_at_its_line_and_left_out(
    key, named, tmp_path, capsys, caplog
):
    """It was written as ABC no reader takes back (``a''''``, ``B,,,,,,``) with status 0: now
    the tune is named with the line and column of the note and the pitch it would get."""
    book = tmp_path / "book.abc"
    book.write_text(KESH + "\n" + _TOO_HIGH + "\n" + _TOO_LOW, encoding="utf-8")
    status, out, _ = _transpose([str(book), *key], capsys)
    assert status == 1
    assert [t.title for t in _tunes(out)] == ["The Kesh"]  # B major: D down 3, 1 to -2
    err = stderr_said(capsys, caplog, "modeling_irish.transpose_cli")
    assert f"irish-tune transpose: {book}: {named}" in err
    assert "outside the MIDI range 0-127" in err


@pytest.mark.parametrize(("src", "dst"), [("F", "Cb"), ("B", "F"), ("C", "F#"), ("Db", "G")])
def test_a_tritone_away_goes_down_and_help_and_docs_say_so(src, dst, capsys):
    """The nearest interval has one tie, a tritone: it went down only by the order of the
    octaves `output_shift` tried, and neither ``--help`` nor docs/abc.md said which way."""
    tune = parse_abc(f"X:1\nL:1/8\nK:{src}\n{src[0]}{src[0].lower()}ABcd|\n")
    moved = parse_abc(transposed_abc(tune, parse_key(dst)))
    assert [p - 6 for p, _ in _notes(tune)] == [p for p, _ in _notes(moved)]
    with pytest.raises(SystemExit):
        irish_tune.main(["transpose", "--help"])
    assert "a tritone down" in " ".join(capsys.readouterr().out.split())
    assert "goes down 6 semitones" in (ROOT / "docs" / "abc.md").read_text(encoding="utf-8")
