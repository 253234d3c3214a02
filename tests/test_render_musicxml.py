"""MusicXML output (`render_musicxml.to_musicxml`, ``irish-tune render --formats musicxml``): the
file music21 reads back holds our reader's notes, rests, chords, ties and tuplets, its measures
as written (repeat bar lines, volta brackets, a pickup) and the header's key, meter and title."""

from __future__ import annotations

import random
import warnings

import pytest
from helpers import require_corpus
from render_helpers import _write

pytest.importorskip("music21")

#: tunes that stress the written form: a pickup, triplets, chords, ties (across a bar line, in a
#: chord), 1st and 2nd endings, a bar too long, a complex length (five sixteenths), a meter change,
#: a chord of one note and one holding a rest (Ryan's Mammoth's ``[C2z2]``)
TRICKY = [
    "X:1\nT:Endings\nC:Trad\nR:jig\nM:6/8\nL:1/8\nK:Ador\nE|:A>BA G2E-|E3 ^F2G|1 (3ABc [DF]2z:|2 "
    "A3- A2z|]\n",
    "X:2\nT:Chords\nM:4/4\nL:1/8\nK:D\n[DA-]2A2 [FA]2-[FA]2|(3:2:4FGAB c4 =c2|[1 d8:|[2 D8|]\n",
    "X:3\nT:Long Bar\nM:2/4\nL:1/16\nK:Bb\n(gag (3fgf (3efe (3ded|A8-|A4 A3 A5|[M:3/4]B12|]\n",
    "X:4\nT:Odd Chords\nM:2/4\nL:1/16\nK:C\n[C2]z2 [E4] G4|edcB c2 [C2z2]:|\n",
]


def _read_back(abc: str, tmp_path) -> tuple:
    """``(tune, score)``: our reading of ``abc`` and music21's of the MusicXML written from it."""
    import music21

    from modeling_irish.render_musicxml import to_musicxml
    from tokenization.abc_parser import parse_abc

    path = to_musicxml(abc, str(tmp_path / "tune.musicxml"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_abc(abc), music21.converter.parse(path)


def _agrees(abc: str, tmp_path) -> str:
    """``""`` when the MusicXML of ``abc`` reads back as our reading of it, else what differs."""
    from modeling_irish.quality import score_sounding_events, sounding_events
    from modeling_irish.render_musicxml import written_measures

    tune, score = _read_back(abc, tmp_path)
    ours, theirs = sounding_events(tune.tokens), score_sounding_events(score)
    if ours != theirs:
        return f"events differ:\nours    {ours}\nmusic21 {theirs}"
    measures = score.parts[0].getElementsByClass("Measure")
    if len(measures) != len(written_measures(tune.tokens)):
        return f"{len(measures)} measures, ours {len(written_measures(tune.tokens))}"
    theirs = _signatures_read_back(measures)
    ours = _signatures_in_force(tune)
    for number, (mine, read) in enumerate(zip(ours, theirs), 1):
        if mine != read:
            return f"measure {number} ends under (sharps, meter) {read}, ours {mine}"
    return ""


def _meter(meter: str | None) -> str | None:
    meter = {"C": "4/4", "C|": "2/2"}.get(meter or "", meter or "")
    return meter if "/" in meter else None


def _signatures_in_force(tune) -> list[tuple]:
    """``(sharps, meter)`` our reading has in force at the last note or rest of each written
    measure: the header's, or the last body change (`key_changes`, `meter_changes`) before it."""
    from modeling_irish.render_musicxml import written_measures

    out, tokens = [], tune.tokens
    for start, stop, _ in written_measures(tokens):
        end = max(i for i in range(start, stop) if tokens[i].kind in ("note", "rest", "chord_end"))
        keys = [k for at, k in [(0, tune.key), *tune.key_changes] if at <= end]
        meters = [_meter(m) for at, m in [(0, tune.meter), *tune.meter_changes] if at <= end]
        out.append((keys[-1].signature, [m for m in meters if m][-1] if any(meters) else None))
    return out


def _signatures_read_back(measures) -> list[tuple]:
    """``(sharps, meter)`` in force at the end of each measure music21 read back."""
    out, sharps, meter = [], None, None
    for measure in measures:
        for sign in measure.getElementsByClass(["KeySignature", "TimeSignature"]):
            if hasattr(sign, "sharps"):
                sharps = sign.sharps
            else:
                meter = sign.ratioString
        out.append((sharps, meter))
    return out


#: mid-tune changes of key (inline, a K: line, among a bar's notes, at a bar line, at the start),
#: of meter (an M: line, at a bar line) and of unit (L:), and ties in chords and across bar lines,
#: a repeat and an ending
CHANGES = [
    "X:5\nT:Keys\nM:4/4\nL:1/8\nK:G\nGABc [K:Bb]dedB|d2[K:D]F2 A4[K:Ador]|\nK:F\nFAcA B2AG|]\n",
    "X:6\nT:Key First\nM:6/8\nL:1/8\nK:D\n|:[K:Eb]EGB e2B:|\nK:A\nA3 c3|]\n",
    "X:7\nT:Meters\nM:4/4\nL:1/8\nK:G\nGABc dedB|\nM:3/4\nDFA dfe[M:2/4]|DF A2|\nL:1/4\n"
    "D2|[L:1/16]G4 A4|]\n",
    "X:8\nT:Ties\nM:4/4\nL:1/8\nK:D\n|:[Ac]2-[Ac]2 [DF]4-|[DF]8-:|[DF]2[A-d]2 A4-|1 A8:|2 A4 "
    "[K:F]A4|]\n",
]


@pytest.mark.parametrize(
    "abc",
    TRICKY + CHANGES,
    ids=["endings", "chords", "long-bar", "odd-chords"] + ["keys", "key-first", "meters", "ties"],
)
def test_musicxml_reads_back_as_our_tune(abc, tmp_path):
    assert _agrees(abc, tmp_path) == ""


def test_mid_tune_changes_are_written_where_they_stand(tmp_path):
    """A ``[K:]`` among a bar's notes changes the key signature there, and the notes after it
    are spelled in it (E flat in B flat major); one at a bar line, or on a ``K:`` line, starts
    the next measure; an ``[M:]`` at a bar line too; the mode is kept."""
    _, score = _read_back(CHANGES[0], tmp_path)
    measures = list(score.parts[0].getElementsByClass("Measure"))
    keys = [
        [
            (k.offset, k.sharps, getattr(k, "mode", None))
            for k in m.getElementsByClass("KeySignature")
        ]
        for m in measures
    ]
    assert keys == [
        [(0.0, 1, "major"), (2.0, -2, "major")],
        [(1.0, 2, "major")],
        [(0.0, -1, "major")],
    ]
    assert [n.nameWithOctave for n in measures[0].notes][4:] == ["D5", "E-5", "D5", "B-4"]
    assert [n.nameWithOctave for n in measures[1].notes] == ["D5", "F#4", "A4"]
    assert [n.nameWithOctave for n in measures[2].notes][:4] == ["F4", "A4", "C5", "A4"]
    _, score = _read_back(CHANGES[2], tmp_path)
    meters = [
        [t.ratioString for t in m.getElementsByClass("TimeSignature")]
        for m in score.parts[0].getElementsByClass("Measure")
    ]
    assert meters == [["4/4"], ["3/4"], ["2/4"], [], []]


def test_ties_in_chords_and_across_bar_lines_and_repeats_are_written(tmp_path):
    """``[Ac]2-[Ac]2`` ties both notes; a tie over a bar line, a ``:|`` and into an ending is
    tied in the written order, as a notation program shows it."""
    _, score = _read_back(CHANGES[3], tmp_path)

    def ties(element):
        notes = element.notes if element.isChord else [element]
        return [(n.pitch.nameWithOctave, n.tie.type if n.tie else None) for n in notes]

    written = [ties(e) for e in score.parts[0].recurse().notes]
    assert written == [
        [("A4", "start"), ("C#5", "start")],
        [("A4", "stop"), ("C#5", "stop")],
        [("D4", "start"), ("F#4", "start")],
        [("D4", "continue"), ("F#4", "continue")],
        [("D4", "stop"), ("F#4", "stop")],  # over the :|
        [("A4", "start"), ("D5", None)],
        [("A4", "continue")],
        [("A4", "stop")],  # into the 1st ending
        [("A4", None)],
        [("A4", None)],
    ]


def test_musicxml_keeps_the_written_form(tmp_path):
    """Repeats as repeat bar lines and endings as volta brackets (not unfolded as the MIDI
    plays them), a pickup as measure 0, written pitches spelled in the key, and the header."""
    import music21

    tune, score = _read_back(TRICKY[0], tmp_path)
    part = score.parts[0]
    measures = list(part.getElementsByClass("Measure"))
    assert [m.number for m in measures] == [0, 1, 2, 3, 4]
    assert measures[0].highestTime == 0.5  # the pickup is not filled with rests
    assert isinstance(measures[1].leftBarline, music21.bar.Repeat)
    assert measures[3].rightBarline.direction == "end"
    assert measures[4].rightBarline.type == "final"
    brackets = part.getElementsByClass("RepeatBracket")  # over measures 3 and 4
    assert [(b.number, [m.number for m in b.getSpannedElements()]) for b in brackets] == [
        ("1", [3]),
        ("2", [4]),
    ]
    assert [n.nameWithOctave for n in measures[2].notes] == ["E4", "F#4", "G4"]
    assert measures[1].notes[-1].tie.type == "start" and measures[2].notes[0].tie.type == "stop"
    assert score.metadata.bestTitle == "Endings" and score.metadata.composer == "Trad"
    assert part.recurse().getElementsByClass("Key").first().mode == "dorian"
    # beamed by the meter (A>BA one beat of 6/8, then G2 E unbeamed), and the meter written once
    beams = [n.beams.getTypes() for n in measures[1].notes]
    assert beams[0] == ["start"] and beams[2:] == [["stop"], [], []]
    assert len(part.recurse().getElementsByClass("TimeSignature")) == 1


@pytest.mark.parametrize(
    ("key", "body", "names"),
    [
        ("D", "d_BAF =FD=CD", ["D5", "B-4", "A4", "F#4", "F4", "D4", "C4", "D4"]),  # b6, b3, b7
        ("G", "G_EDB, ^cd_BG", ["G4", "E-4", "D4", "B3", "C#5", "D5", "B-4", "G4"]),
        ("F", "F^FGA _BAG=F", ["F4", "F#4", "G4", "A4", "B-4", "A4", "G4", "F4"]),
    ],
)
def test_notes_off_the_key_are_spelled_as_a_musician_writes_them(tmp_path, key, body, names):
    """A note off the key is spelled nearer the key on the line of fifths: the flat sixth and
    seventh of D major as Bb and C (not A# and B#), Eb in G, F# in F (not Gb)."""
    abc = f"X:1\nT:Spelling\nM:4/4\nL:1/8\nK:{key}\n{body}|]"
    _, score = _read_back(abc, tmp_path)
    assert [n.nameWithOctave for n in score.parts[0].recurse().notes] == names


def test_a_tune_without_a_composer_is_not_credited_to_music21(tmp_path):
    """Without ``C:`` the file names no composer: music21's exporter would write its default
    author, "Music21", as the composer of a traditional tune (shown by MuseScore)."""
    from modeling_irish.render_musicxml import to_musicxml

    path = str(tmp_path / "t.musicxml")
    to_musicxml("X:1\nT:The Kesh\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd:|", path)
    with open(path, encoding="utf-8") as handle:
        xml = handle.read()
    assert "Music21</creator>" not in xml
    assert "<work-title>The Kesh</work-title>" in xml


def test_an_ending_of_too_many_passes_is_refused_by_name(tmp_path):
    """MusicXML lists every pass of an ending: ``|1-1000`` would write a thousand numbers."""
    from modeling_irish.render import RenderError
    from modeling_irish.render_musicxml import to_musicxml

    abc = "X:1\nL:1/8\nK:D\n|:DEFG ABcd|1-1000 B8:|2 A8|]\n"
    with pytest.raises(RenderError, match=r"the ending \|1-1000 names 1000 passes"):
        to_musicxml(abc, str(tmp_path / "t.musicxml"))
    assert not list(tmp_path.iterdir())


def test_musicxml_first_ending_runs_to_its_repeat(tmp_path):
    """A 1st ending of two bars is bracketed over both; a 2nd ending no ``:|`` closes over one
    (the section ends after it, as `played_order` plays it)."""
    abc = "X:1\nM:2/4\nL:1/8\nK:G\n|:GABc|1 dedc|BAGA:|2 dBAF|G4|]\n"
    _, score = _read_back(abc, tmp_path)
    brackets = score.parts[0].getElementsByClass("RepeatBracket")
    spans = [[m.number for m in b.getSpannedElements()] for b in brackets]
    assert spans == [[2, 3], [4]]


def test_musicxml_of_real_tunes_reads_back(tmp_path):
    """A handful of the shared corpus and of O'Neill's (triplets, chords, ties, pickups)."""
    from modeling_irish.abc_sources import iter_raw_tunes

    tunes = random.Random(1).sample([raw.text for raw in iter_raw_tunes(str(require_corpus()))], 4)
    tunes += [raw.text for raw in iter_raw_tunes("oneills1850")][:300:100]
    for abc in tunes:
        assert _agrees(abc, tmp_path) == "", abc


@pytest.mark.slow
def test_musicxml_of_many_real_tunes_reads_back(tmp_path):
    from modeling_irish.abc_sources import iter_raw_tunes
    from tokenization.abc_parser import AbcParseError, parse_abc

    tunes = random.Random(0).sample(
        [raw.text for raw in iter_raw_tunes(str(require_corpus()))], 100
    )
    tunes += random.Random(0).sample([raw.text for raw in iter_raw_tunes("oneills1850")], 50)
    checked, differ = 0, []
    for abc in tunes:
        try:
            parse_abc(abc)
        except AbcParseError:
            continue  # refused by our reader: render refuses it before any format
        checked += 1
        problem = _agrees(abc, tmp_path)
        if problem:
            differ.append(f"{problem}\n{abc}")
    assert checked > 140 and not differ, differ[:2]


def test_render_cli_writes_musicxml(tmp_path, capsys):
    from modeling_irish.cli import main

    abc = _write(tmp_path / "t.abc", TRICKY[1])
    out = tmp_path / "out"
    assert main(["render", abc, "--out", str(out), "--formats", "musicxml,midi"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["t.mid", "t.musicxml"]
    assert f"musicxml: {out / 't.musicxml'}" in capsys.readouterr().out
    assert _agrees(TRICKY[1], tmp_path) == ""


def test_a_tune_music21_cannot_export_fails_but_its_other_formats_are_written(
    tmp_path, capsys, caplog, monkeypatch
):
    """A format asked for and not made is a tune not rendered (exit status 1, as for SVG), not a
    format skipped for a missing tool: the reason is said on stderr with the tune's name, and
    its earlier MusicXML file is named, left as it was; its MIDI is still written."""
    from music21.musicxml import m21ToXml

    from modeling_irish.cli import main

    def refuse(self):
        raise m21ToXml.MusicXMLExportException("cannot export this")

    monkeypatch.setattr(m21ToXml.GeneralObjectExporter, "parse", refuse)
    abc = _write(tmp_path / "t.abc", TRICKY[1])
    out = tmp_path / "out"
    out.mkdir()
    (out / "t.musicxml").write_text("an earlier run's", encoding="utf-8")
    assert main(["render", abc, "--out", str(out), "--formats", "midi,musicxml"]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["t.mid", "t.musicxml"]
    assert (out / "t.musicxml").read_text(encoding="utf-8") == "an earlier run's"
    captured = capsys.readouterr()
    assert f"midi: {out / 't.mid'}" in captured.out
    said = captured.err + caplog.text
    assert (
        f"irish-tune render: {abc} line 1 (X:2 T:Chords): failed musicxml: music21 could not "
        f"write MusicXML: cannot export this; earlier files left as they were: {out / 't.musicxml'}"
    ) in said
    assert "irish-tune render: 1 of 1 tunes not rendered" in said


def test_render_abc_lists_a_musicxml_not_made_as_failed_not_skipped(tmp_path):
    """`render_abc` keeps the tune's other formats and says the MusicXML under ``"failed"``."""
    from modeling_irish.render import render_abc

    abc = "X:1\nL:1/8\nK:D\n|:DEFG ABcd|1-1000 B8:|2 A8|]\n"
    out = render_abc(abc, str(tmp_path / "t"), ["midi", "musicxml"])
    assert out["skipped"] == [] and "musicxml" not in out
    assert len(out["failed"]) == 1
    assert out["failed"][0].startswith("musicxml: the ending |1-1000 names 1000 passes")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.mid"]


def _beams_well_formed(path) -> str:
    """``""`` when each beam number of the MusicXML file ``path`` begins before it goes on or
    ends, and ends before it begins again, else the first beam out of place."""
    import xml.etree.ElementTree as ET

    open_beams: set[str] = set()
    for beam in ET.parse(path).iter("beam"):
        number, kind = beam.get("number", "1"), beam.text
        if kind in ("continue", "end") and number not in open_beams:
            return f"beam {number} {kind}s without a begin"
        if kind == "begin" and number in open_beams:
            return f"beam {number} begins again before it ends"
        if kind == "begin":
            open_beams.add(number)
        elif kind == "end":
            open_beams.discard(number)
    return ""


#: a pickup of a sixteenth and a dotted thirty-second, where music21 hooks the sixteenth's second
#: beam instead of starting it and says so on stderr ("beam: WARNING: Found a messed up beam pair")
HOOKED = "X:5\nT:Hooked\nM:2/4\nL:1/8\nK:D\nc/ B3/4|d4|\n"


def test_a_beam_music21_leaves_half_made_is_joined_and_not_printed(tmp_path, capsys, caplog):
    from modeling_irish.cli import main

    abc = _write(tmp_path / "t.abc", HOOKED)
    assert main(["render", abc, "--out", str(tmp_path / "out"), "--formats", "musicxml"]) == 0
    err = capsys.readouterr().err  # but its closing line, whose path names this test
    said = err.removesuffix(f"irish-tune render: rendered 1 tune to 1 file in {tmp_path}/out\n")
    said += caplog.text
    assert "messed up beam" not in said and "music21" not in said, said
    assert _beams_well_formed(tmp_path / "out" / "t.musicxml") == ""
    assert _agrees(HOOKED, tmp_path) == ""


def test_what_music21_prints_is_one_warning_naming_the_tune(tmp_path, capsys, caplog, monkeypatch):
    """music21 prints its own warnings on stderr (``m21ToXml: WARNING: ...``, over lines): each
    distinct one is said once, on one line, as a render warning naming the tune."""
    from music21 import environment
    from music21.musicxml import m21ToXml

    from modeling_irish.cli import main

    parse = m21ToXml.GeneralObjectExporter.parse

    def noisy(self):
        for _ in range(2):
            environment.Environment("m21ToXml").warn("odd \nthing")
        return parse(self)

    monkeypatch.setattr(m21ToXml.GeneralObjectExporter, "parse", noisy)
    abc = _write(tmp_path / "t.abc", TRICKY[1])
    assert main(["render", abc, "--out", str(tmp_path / "out"), "--formats", "musicxml"]) == 0
    err = capsys.readouterr().err
    assert "m21ToXml: WARNING" not in err + caplog.text
    said = [r.getMessage() for r in caplog.records if "music21 said" in r.getMessage()]
    assert said == ["X:2 T:Chords: music21 said, writing MusicXML: odd thing"]
    assert _beams_well_formed(tmp_path / "out" / "t.musicxml") == ""


@pytest.mark.parametrize(
    "abc",
    [
        "X:6\nT:Flagged\nM:4/4\nL:1/8\nK:D\nA B3/|d8|\n",  # an eighth, then a dotted one
        "X:7\nT:Twice Ended\nM:4/4\nL:1/8\nK:D\nd3/4 c2 d3/4 A<B/|d8|\n",  # beam 2 ends twice
    ],
    ids=["flagged", "twice-ended"],
)
def test_beams_music21_ends_unbegun_in_a_pickup_are_mended(abc, tmp_path):
    """music21 ends some beams of a pickup that never began, saying nothing: each is begun
    where the next note's goes on, else is a hook or no beam, and the notes read back."""
    assert _agrees(abc, tmp_path) == ""
    assert _beams_well_formed(tmp_path / "tune.musicxml") == ""
