"""MIDI rendering: the notes, lengths, repeats, ties and tempos played are those the package reads
(and, where it is installed, those abc2midi plays)."""

from __future__ import annotations

import shutil
from fractions import Fraction

import pytest
from render_helpers import _midi_notes, abc2midi_file, midi_tempos


def _midi_pitches(path) -> list[int]:
    import music21

    score = music21.converter.parse(str(path)).stripTies()  # notes split at barlines
    return [p.midi for n in score.recurse().notes for p in n.pitches]


def _played(body: str, header: str = "M:4/4\nL:1/8\n", tmp_path=None) -> list[int]:
    from modeling_irish.render import to_midi

    path = to_midi(f"X:1\nT:t\n{header}{body}\n", str(tmp_path / "t.mid"))
    return [pitch for _, pitch, _ in _midi_notes(path)]


C, D, E, F, G, A, B, c, d = 60, 62, 64, 65, 67, 69, 71, 72, 74


def test_midi_plays_repeats_as_the_package_unfolds_them(tmp_path):
    # a :| with no |: goes back to the end of the last repeat, not to the start: A A B B
    got = _played("K:C\nCDEF|DEFG:|GABc|ABcd:|", tmp_path=tmp_path)
    assert got == [C, D, E, F, D, E, F, G] * 2 + [G, A, B, c, A, B, c, d] * 2
    assert _played("K:C\nCDEF:|GABc:|", tmp_path=tmp_path) == [C, D, E, F] * 2 + [G, A, B, c] * 2
    # a |: never closed is played once
    assert _played("K:C\n|:CDE CDE|GAB GAd|", tmp_path=tmp_path) == [
        C,
        D,
        E,
        C,
        D,
        E,
        G,
        A,
        B,
        G,
        A,
        d,
    ]


@pytest.mark.parametrize(
    ("body", "pitches"),
    [
        ("K:G\n^c2 c2|c2", [73, 73, 72]),  # an accidental holds to the bar line
        ("K:D\n=c2 c2|c2", [72, 72, 73]),
        ("K:G\nB2 [K:Bb] B2|", [71, 70]),  # inline key change
        ("K:D^g\nG2 c2|", [68, 73]),  # explicit accidentals of K:
        ("K:HP\nG2 c2 f2|", [67, 73, 78]),  # highland pipes: A mixolydian
    ],
)
def test_midi_pitches_are_those_the_package_reads(tmp_path, body, pitches):
    assert _played(body, tmp_path=tmp_path) == pitches


def test_midi_notes_and_lengths_follow_the_package_reading(tmp_path):
    from modeling_irish.render import played_events, to_midi
    from tokenization.abc_parser import parse_abc

    abc = "X:1\nT:t\nM:6/8\nL:1/8\nK:D\n|:(3ABc d2-d|[DF]2 z A/B/c:|\n"
    notes, now = [], Fraction(0)
    for pitches, length, held in played_events(parse_abc(abc).tokens):
        assert not held  # no tie between different events here
        notes += [(now, pitch, length) for pitch in pitches]
        now += length
    assert _midi_notes(to_midi(abc, str(tmp_path / "t.mid"))) == sorted(notes)
    assert (Fraction(1), 74, Fraction(3, 2)) in notes  # tied d2-d: one note of 3 eighths


@pytest.mark.parametrize(
    ("body", "notes"),
    [  # (start, pitch, length) in quarter notes, as abc2midi plays them
        ("[DA-]2A2|", [(0, D, 1), (0, A, 2)]),  # chord to note: A struck once, D ends
        ("[DA]2-[DA]2|", [(0, D, 2), (0, A, 2)]),  # chord to chord: both held
        ("A2-[DA]2|", [(0, A, 2), (1, D, 1)]),  # note to chord
        ("[DA-]2[FA]2|", [(0, D, 1), (0, A, 2), (1, F, 1)]),
        ("[D-A]2[DF]|", [(0, D, Fraction(3, 2)), (0, A, 1), (1, F, Fraction(1, 2))]),
        ("[DA-]2A2-A2|", [(0, D, 1), (0, A, 3)]),  # held on through a second tie
    ],
)
def test_tied_chord_members_are_held_not_struck_again(tmp_path, body, notes):
    from modeling_irish.render import to_midi

    path = to_midi(f"X:1\nT:t\nM:4/4\nL:1/8\nK:C\n{body}\n", str(tmp_path / "t.mid"))
    assert _midi_notes(path) == sorted(notes)


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
def test_chord_ties_are_played_as_abc2midi_plays_them(tmp_path):
    import subprocess

    from modeling_irish.render import to_midi

    # thesession.org's "Devil In The Kitchen" (setting as the shared corpus writes it)
    abc = (
        "X:1\nT:Devil In The Kitchen\nM:4/4\nL:1/8\nK:C\n"
        "=A2[=F=A]2[=D=A-]2[=F=A]=A-|=A=G=A=B=c2=B=c|[=f-=a]3[=d=f]=a=d[=d=f]=d|"
        "[=A=d-]=d(3=d=d=d=c2=B=c|]\n"
    )
    (tmp_path / "t.abc").write_text(abc, encoding="utf-8")
    subprocess.run(
        ["abc2midi", str(tmp_path / "t.abc"), "-o", str(tmp_path / "a.mid"), "-NGRA", "-NFNP"],
        capture_output=True,
        check=True,
    )

    def rounded(notes):  # abc2midi starts a tick late and ends a note a little early
        return [(round(start * 12), p, round(length * 12)) for start, p, length in notes]

    ours = rounded(_midi_notes(to_midi(abc, str(tmp_path / "o.mid"))))
    assert ours == rounded(_midi_notes(tmp_path / "a.mid"))
    assert (24, A, 18) in ours  # [=D=A-]2[=F=A]: one A of three eighths, from beat 3


def test_graces_and_chord_symbols_are_not_played(tmp_path):
    # they were NOTE_OFF before NOTE_ON, notes never released (a 22 s WAV of a 4 s tune)
    got = _played('K:D\n"D"{g}A2 {ag}fe "G"{/B}d2 AF|]', tmp_path=tmp_path)
    assert got == [69, 78, 76, 74, 69, 66]


def _midi_quarters(path) -> Fraction:
    """How long a MIDI file lasts, in quarter notes: its longest track, to END_OF_TRACK."""
    import music21

    midi = music21.midi.MidiFile()
    midi.open(str(path))
    midi.read()
    midi.close()
    ticks = max(
        sum(e.time for e in track.events if isinstance(e, music21.midi.DeltaTime))
        for track in midi.tracks
    )
    return Fraction(ticks, midi.ticksPerQuarterNote)


def test_a_closing_rest_lasts_to_the_end_of_the_midi(tmp_path):
    # music21 ends the file a quarter after the last note ends: C4 z4 was the file of C4 alone
    from modeling_irish.render import to_midi

    def quarters(body: str) -> Fraction:
        path = to_midi(f"X:1\nT:t\nM:4/4\nL:1/8\nK:C\n{body}|]\n", str(tmp_path / "t.mid"))
        return _midi_quarters(path)

    assert quarters("C4") == 3  # the note's 2 quarters, and music21's quarter to let it ring
    assert quarters("C4 z4") == 4  # as abc2midi plays it: the rest, and the file ends
    assert quarters("C4 z") == 3  # a rest shorter than that quarter changes nothing
    assert quarters("z2 C4 z6 z4") == 8  # 1 + 2 + 3 + 2


def test_a_wait_too_long_for_midi_is_refused_by_name(tmp_path):
    # a60000 was written as a 5-byte delta time (SMF allows 4, 0x0FFFFFFF ticks), exit 0
    from modeling_irish.render import MIDI_LONGEST_WAIT, RenderError, to_midi
    from modeling_irish.render_midi import _too_long

    path = tmp_path / "t.mid"
    for body, what in (
        ("a60000 b", r"the note A5 \(30000 quarter notes from quarter 4, 302400000 ticks"),
        ("z60000 b", r"a rest \(30000 quarter notes from quarter 4"),
    ):
        with pytest.raises(RenderError, match=f"^{what}.*{MIDI_LONGEST_WAIT}.* too long for MIDI$"):
            to_midi(f"X:1\nT:t\nM:4/4\nL:1/8\nK:D\nd8|{body}|\n", str(path))
        assert not path.exists()
    # a conductor track's wait, tempo mark to end, spans many short notes: the tune is too long
    notes = [(Fraction(n), 62, Fraction(1)) for n in range(30000)]
    assert _too_long(Fraction(0), Fraction(30000), notes, 10080).startswith(
        "the tune, with no tempo change, (30000 quarter notes from quarter 0, 302400000 ticks"
    )
    # the longest note that fits is written, each delta time in at most 4 bytes
    to_midi("X:1\nT:t\nM:4/4\nL:1/8\nK:D\nd8|a53000 b|\n", str(path))
    assert (Fraction(4), 81, Fraction(26500)) in _midi_notes(path)


def test_the_midi_part_is_built_without_an_insert_per_note(tmp_path, monkeypatch):
    # Stream.insert works out the part's highest time anew each time: a note at a time, the
    # MIDI of 13,000 notes took 28 s; the calls must not grow with the notes
    import music21

    from modeling_irish.render import to_midi

    inserts = []
    insert = music21.stream.Stream.insert
    monkeypatch.setattr(
        music21.stream.Stream, "insert", lambda *a, **k: inserts.append(1) or insert(*a, **k)
    )
    calls = []
    for bars in (8, 80):
        inserts.clear()
        abc = "X:1\nT:t\nM:4/4\nL:1/8\nK:D\n" + "DEFG ABcd|" * bars + "]\n"
        path = to_midi(abc, str(tmp_path / "t.mid"))
        assert [pitch for _, pitch, _ in _midi_notes(path)] == [
            62,
            64,
            66,
            67,
            69,
            71,
            73,
            74,
        ] * bars
        calls.append(len(inserts))
    assert calls[0] == calls[1]


def test_the_midi_part_places_each_element_as_insert_does():
    import music21

    from modeling_irish.render_midi import _part_of

    def placed() -> list:
        starts = [Fraction(0), Fraction(1, 3), Fraction(2, 3), Fraction(1), Fraction(0)]
        elements = [music21.note.Note(60 + k) for k in range(4)] + [music21.meter.TimeSignature()]
        return list(zip(starts, elements))

    built = _part_of(placed())
    inserted = music21.stream.Part()
    for start, element in placed():
        inserted.insert(start, element)
    assert [(e.offset, e.classes[0], getattr(e, "pitch", None)) for e in built] == [
        (e.offset, e.classes[0], getattr(e, "pitch", None)) for e in inserted
    ]
    assert built.highestTime == inserted.highestTime == 2  # the note at 1 lasts a quarter


def test_a_tune_without_meter_or_unit_is_rendered(tmp_path):
    assert _played("K:D\nDEFG ABcd|]", header="", tmp_path=tmp_path)[:2] == [62, 64]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize(
    "header", ["M:2/4\nK:D\nM:6/8", "M:6/8\nK:D\nM:2/4", "K:D\nM:2/4", "M:2/4\nM:6/8\nK:D"]
)
def test_an_m_field_after_k_keeps_the_unit_abc2midi_plays(tmp_path, header):
    # the default unit is the header M:'s (the one in force at K:); M:2/4, K:, M:6/8 played
    # eighths where abc2midi plays sixteenths

    from modeling_irish.render import to_midi

    abc = f"X:1\nT:t\n{header}\nDEF GAB|]\n"
    (tmp_path / "t.abc").write_text(abc, encoding="utf-8")
    abc2midi_file(tmp_path)
    theirs = [round(length * 16) / 16 for _, _, length in _midi_notes(tmp_path / "a.mid")]
    ours = [length for _, _, length in _midi_notes(to_midi(abc, str(tmp_path / "t.mid")))]
    assert ours == theirs


@pytest.mark.parametrize(
    ("field", "quarters"), [("", 200), ("Q:1/4=120\n", 120), ("Q:3/8=60\n", 90),
                            ('Q:"Lively" 1/2=60\n', 120), ("Q:100\n", 100),
                            # C<n>: n unit notes (abc2midi); C2 was read as C, 60
                            ("Q:C=120\n", 60), ("Q:C2=120\n", 120), ("Q:C3/2=120\n", 90),
                            # of two, the last, as abc2midi plays it (the first, 90, was played)
                            ("Q:1/4=90\nQ:1/4=60\n", 60)]
)  # fmt: skip
def test_midi_tempo_is_the_q_field_or_the_default(tmp_path, field, quarters):
    import music21

    from modeling_irish.render import to_midi

    path = to_midi(f"X:1\nL:1/8\n{field}K:D\nDEFG|]\n", str(tmp_path / "t.mid"))
    score = music21.converter.parse(path)
    (mark,) = score.recurse().getElementsByClass(music21.tempo.MetronomeMark)
    assert mark.getQuarterBPM() == pytest.approx(quarters, rel=1e-4)


#: tempo changes of the body, and where abc2midi (4.84) plays them: each time playing passes
#: one; a repeat goes on at the tempo in force, not back to the one it started at
TEMPO_CHANGES = [
    ("CDEF GABc|[Q:1/4=60]GABc|]", [(0, 120), (4, 60)]),
    (  # inside a repeat: on each pass; a Q: line after :|, once
        "|:CDEF [Q:1/4=60]GABc|[Q:1/4=90]GABc cBAG:|\nQ:1/4=100\n|:CDEF GABc:|",
        [(0, 120), (2, 60), (4, 90), (10, 60), (12, 90), (16, 100)],
    ),
    (  # before :|, each pass; before an ending, both passes; in the second ending; C form
        "|:CDEF GA [Q:3/8=40]:|\n|:CDEF [Q:1/4=100]|1 GABc:|2 [Q:C4=35]cBAG|]",
        [(0, 120), (3, 60), (8, 100), (12, 70)],
    ),
    (  # a Q: line between two bar lines that merge (| and |:) is played once, not each pass
        "CDEF GABc|\nQ:1/4=60\n|:GABc [Q:1/4=90]cBAG:|",
        [(0, 120), (4, 60), (6, 90)],
    ),
    # a Q: line between K: and the music: a change at the start (ABC 2.1: the header ends at
    # K:), not a second header Q: (the first header one, 120, was played)
    ("Q:1/4=60\nCDEF GABc|]", [(0, 60)]),
]


@pytest.mark.parametrize(("body", "tempos"), TEMPO_CHANGES)
def test_tempo_changes_in_the_body_are_played_each_time_they_are_passed(tmp_path, body, tempos):
    # a body Q: or [Q:] was not played at all: the header's tempo held throughout
    from modeling_irish.render import to_midi

    abc = f"X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=120\nK:C\n{body}\n"
    assert midi_tempos(to_midi(abc, str(tmp_path / "t.mid"))) == tempos


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize(("body", "tempos"), TEMPO_CHANGES)
def test_tempo_changes_are_played_as_abc2midi_plays_them(tmp_path, body, tempos):

    abc = f"X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=120\nK:C\n{body}\n"
    (tmp_path / "t.abc").write_text(abc, encoding="utf-8")
    abc2midi_file(tmp_path)
    assert midi_tempos(tmp_path / "a.mid") == tempos


def test_a_q_beat_the_reader_does_not_read_is_said_once_by_the_reader(tmp_path, caplog):
    # the reader says each with its line (and column); to_midi said them again, without
    import logging

    from modeling_irish.render import to_midi
    from tokenization.abc_parser import parse_abc

    abc = "X:1\nT:Odd\nL:1/8\nQ:x=120\nK:D\nDEFG [Q:x=90] ABcd|]\n"
    said = [warning for warning in parse_abc(abc).warnings if "not read, nor its tempo" in warning]
    assert [warning.split(" is not")[0] for warning in said] == [
        "Q:x=120 (line 4)",
        "Q:x=90 (line 6, column 6)",
    ]
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        path = to_midi(abc, str(tmp_path / "t.mid"))
    assert [message for message in caplog.messages if "Q:x=" in message] == []
    assert midi_tempos(path) == [(0, 200)]


def test_a_q_field_with_no_tempo_is_said_and_changes_nothing(tmp_path, caplog):
    # abc2midi: "malformed Q: field ignored"; a comment is no Q: at all
    import logging

    from modeling_irish.render import to_midi

    body = 'K:D\nDEFG [Q:"Slower"] ABcd|\n%Q:1/4=50 a comment\nd8|]\n'
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        path = to_midi(f"X:1\nT:Slow\nL:1/8\nQ:1/4=120\n{body}", str(tmp_path / "t.mid"))
    assert caplog.messages == [
        'X:1 T:Slow: Q:"Slower" in the body gives no tempo to play: the tempo in force plays on'
    ]
    assert midi_tempos(path) == [(0, 120)]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        path = to_midi('X:2\nL:1/8\nQ:"Allegro"\nK:D\nDEFG|]\n', str(tmp_path / "t.mid"))
    assert caplog.messages == [
        'X:2: Q:"Allegro" in the header gives no tempo to play: the MIDI starts at 200 '
        "quarter notes a minute"
    ]
    assert midi_tempos(path) == [(0, 200)]
    caplog.clear()
    to_midi("X:1\nT:Steady\nL:1/8\nQ:1/4=120\nK:D\nDEFG ABcd|]\n", str(tmp_path / "t.mid"))
    assert caplog.messages == []


PARTS = [  # (header P:, body), the pitches the MIDI plays
    ("P:AABB", "P:A\nCDEF|]\nP:B\nGABc|]", [C, D, E, F] * 2 + [G, A, B, c] * 2),
    ("P:BA", "C2|\nP:A\nCDEF|]\nP:B\nGABc|]", [C, G, A, B, c, C, D, E, F]),  # the intro first
    ("P:(AB)2", "P:A\n|:CD:|\nP:B\nGA|]", ([C, D] * 2 + [G, A]) * 2),  # repeats in each part
    ("P:A2.B", "[P:A]CD|[P:B]GA|]", [C, D, C, D, G, A]),  # inline P:, dots ignored
    ("P:BA", "P:A\n|:CD|1E2:|2F2|]\nP:B\n[P:B]GA|\nP:C\ncd|]", [G, A, C, D, E, C, D, F]),
    # the bar lines around P:B merged, `:|:` and `|:`: each part with its repeat
    ("P:AB", "P:A\n|:CDEF:|\nP:B\n|:GABc:|", [C, D, E, F] * 2 + [G, A, B, c] * 2),
    ("P:BA", "P:A\nCDEF|\nP:B\n|:GABc:|", [G, A, B, c] * 2 + [C, D, E, F]),
]


@pytest.mark.parametrize(("header", "body", "pitches"), PARTS)
def test_midi_plays_the_parts_in_the_order_of_the_header_p_field(tmp_path, header, body, pitches):
    # the header's P: was ignored: P:AABB played A and B once each, as written
    assert _played(f"K:C\n{body}", header=f"M:4/4\nL:1/8\n{header}\n", tmp_path=tmp_path) == pitches


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize(("header", "body", "pitches"), PARTS)
def test_parts_are_played_as_abc2midi_plays_them(tmp_path, header, body, pitches):

    (tmp_path / "t.abc").write_text(
        f"X:1\nT:t\nM:4/4\nL:1/8\n{header}\nK:C\n{body}\n", encoding="utf-8"
    )
    abc2midi_file(tmp_path)
    assert [pitch for _, pitch, _ in _midi_notes(tmp_path / "a.mid")] == pitches


def test_a_tempo_change_at_the_start_of_a_part_is_played_each_time_the_part_is(tmp_path):
    from modeling_irish.render import to_midi

    body = "P:A\n[Q:1/4=60]CDEF|]\nP:B\n[Q:1/4=90]GABc|]"
    abc = f"X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=120\nP:ABA\nK:C\n{body}\n"  # as abc2midi plays it
    assert midi_tempos(to_midi(abc, str(tmp_path / "t.mid"))) == [(0, 60), (2, 90), (4, 60)]


#: A tempo change next to a part (``Q:`` before or after ``P:B``), between two bar lines that
#: merge around it or not, B played first, P:BA: in the part it is written in, as abc2midi
#: plays it: one before ``P:B`` when part A ends
PART_TEMPOS = [
    ("P:A\nCDEF GABc|\nP:B\nQ:1/4=60\n|:GABc cBAG:|", [(0, 60)]),
    ("P:A\nCDEF GABc|\nQ:1/4=60\nP:B\n|:GABc cBAG:|", [(0, 120), (12, 60)]),  # ends part A
    ("P:A\n|:CDEF GABc:|\nP:B\nQ:1/4=60\n|:GABc cBAG:|", [(0, 60)]),
    # before P:B after `:|`: at the end of part A, after its repeat (`:|:` merged, or not)
    ("P:A\n|:CDEF GABc:|\nQ:1/4=60\nP:B\n|:GABc cBAG:|", [(0, 120), (16, 60)]),
    ("P:A\n|:CDEF GABc:|[Q:1/4=60][P:B]GABc cBAG|]", [(0, 120), (12, 60)]),
    # one on each side of P:B: the first ends part A, the second starts B
    ("P:A\n|:CDEF GABc:|\nQ:1/4=60\nP:B\nQ:1/4=90\n|:GABc cBAG:|", [(0, 90), (16, 60)]),
    ("P:A\nCDEF GABc|\nQ:1/4=60\nP:B\nQ:1/4=90\n|:GABc cBAG:|", [(0, 90), (12, 60)]),
    # after the last note: at the end of the last part in the body, B
    ("P:A\n|:CDEF GABc:|\nP:B\n|:GABc cBAG:|\nQ:1/4=60\n", [(0, 120), (8, 60)]),
    # between K: and the music: before P:A it ends the part before, none: from the start;
    # after P:A it starts part A, played second (both were read as a header Q:, not played)
    ("Q:1/4=60\nP:A\nCDEF GABc|\nP:B\nGABc cBAG|]", [(0, 60)]),
    ("P:A\nQ:1/4=60\nCDEF GABc|\nP:B\nGABc cBAG|]", [(0, 120), (4, 60)]),
]


@pytest.mark.parametrize(("body", "tempos"), PART_TEMPOS)
def test_a_tempo_change_between_merged_bar_lines_is_played_with_its_part(tmp_path, body, tempos):
    """``|``, ``P:B``, ``Q:1/4=60``, ``|:``: the part started after the merged ``|:``, and the
    tempo change before it, so part B, played first, started at the old tempo."""
    from modeling_irish.render import to_midi

    abc = f"X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=120\nP:BA\nK:C\n{body}\n"
    assert midi_tempos(to_midi(abc, str(tmp_path / "t.mid"))) == tempos


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize(("body", "tempos"), PART_TEMPOS)
def test_a_tempo_change_between_merged_bar_lines_is_where_abc2midi_plays_it(tmp_path, body, tempos):

    (tmp_path / "t.abc").write_text(
        f"X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=120\nP:BA\nK:C\n{body}\n", encoding="utf-8"
    )
    abc2midi_file(tmp_path)
    assert midi_tempos(tmp_path / "a.mid") == tempos


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("P:ACB", "P:ACB names part C, but the body marks P:A, P:B"),
        ("P:(AB", "cannot read P:(AB: a '(' that no ')' closes"),
    ],
)
def test_a_header_p_field_the_body_cannot_play_is_said_and_the_tune_played_as_written(
    tmp_path, caplog, header, said
):
    import logging

    body = "K:C\nP:A\nCD|]\nP:B\nGA|]"
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        got = _played(body, header=f"L:1/8\n{header}\n", tmp_path=tmp_path)
    assert got == [C, D, G, A]
    assert caplog.messages == [f"X:1 T:t: {said}: the MIDI plays the parts as they are written"]


PARTS_TWICE = "P:{order}\nK:C\nP:A\nCD|]\nP:B\nEF|]\nP:A\nGA|]"


@pytest.mark.parametrize(("order", "pitches"), [("ABA", [G, A, E, F, G, A]), ("BA", [E, F, G, A])])
def test_a_part_marked_twice_plays_its_last(tmp_path, order, pitches):
    # the header's P: played the first P:A; abc2midi plays the last ("Part defined more than once")
    assert _played(PARTS_TWICE.format(order=order), tmp_path=tmp_path) == pitches


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize(("order", "pitches"), [("ABA", [G, A, E, F, G, A]), ("BA", [E, F, G, A])])
def test_a_part_marked_twice_is_played_as_abc2midi_plays_it(tmp_path, order, pitches):

    text = f"X:1\nT:t\nM:4/4\nL:1/8\n{PARTS_TWICE.format(order=order)}\n"
    (tmp_path / "t.abc").write_text(text, encoding="utf-8")
    abc2midi_file(tmp_path)
    assert [pitch for _, pitch, _ in _midi_notes(tmp_path / "a.mid")] == pitches


def test_a_header_p_field_nested_thousands_deep_is_played(tmp_path, caplog):
    import logging

    # each '(' was a recursive call: 3,000 of them ended the render in RecursionError
    header = "P:" + "(" * 3000 + "B" + ")" * 3000 + "A"
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        got = _played("K:C\nP:A\nCD|]\nP:B\nGA|]", header=f"L:1/8\n{header}\n", tmp_path=tmp_path)
    assert got == [G, A, C, D]
    assert caplog.messages == []


TRANSPOSED = [  # (header), the pitches the MIDI plays of DEFG
    ("K:D transpose=-2", [C, D, E, F]),  # K:'s transpose= sounds 2 semitones down
    ("V:1 transpose=1\nK:D transpose=-2\nV:1", [61, 63, 65, 66]),  # K: and V: add up
    ("V:1 transpose=1\nV:2 transpose=5\nK:D\nV:1", [63, 65, 67, 68]),  # the played voice's
    # a clef's -8 / +8: "the player will transpose the notes one octave" (ABC 2.1 section 4.6)
    ("K:D treble-8", [50, 52, 54, 55]),
    ("K:D clef=bass-8", [50, 52, 54, 55]),
    ("K:D clef=treble+8", [74, 76, 78, 79]),
    ("K:D treble-8 transpose=2", [52, 54, 56, 57]),  # added to transpose=
    ("V:1 clef=treble-8\nK:D\nV:1", [50, 52, 54, 55]),  # the played voice's clef
    ("V:1 clef=treble-8\nK:D treble+8\nV:1", [50, 52, 54, 55]),  # over the key's
    ("K:D -8", [D, E, 66, G]),  # no clef: as written
]


@pytest.mark.parametrize(("header", "pitches"), TRANSPOSED)
def test_midi_plays_the_transpose_of_the_header_at_sounding_pitch(tmp_path, header, pitches):
    # transpose= was read as a clef option and dropped: the MIDI played the written pitches
    from tokenization.abc_parser import parse_abc

    assert _played(f"{header}\nDEFG|]", tmp_path=tmp_path) == pitches
    written = parse_abc(f"X:1\nL:1/8\n{header}\nDEFG|]")
    assert [token.pitch for token in written.tokens[:4]] == [62, 64, 66, 67]  # tokens: written


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
@pytest.mark.parametrize(("header", "pitches"), TRANSPOSED)
def test_transpose_is_played_as_abc2midi_plays_it(tmp_path, header, pitches):

    (tmp_path / "t.abc").write_text(f"X:1\nT:t\nM:4/4\nL:1/8\n{header}\nDEFG|]\n", encoding="utf-8")
    abc2midi_file(tmp_path)
    assert [pitch for _, pitch, _ in _midi_notes(tmp_path / "a.mid")] == pitches


def test_a_transpose_the_midi_does_not_play_is_said(tmp_path, caplog):
    import logging

    from modeling_irish.render import RenderError

    body = "K:D transpose=-2\nDE [K:G transpose=1]FG|]\nV:1 transpose=4\nd|]"
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        assert _played(body, tmp_path=tmp_path) == [C, D, E, 65, 72]  # the header's, throughout
    assert caplog.messages == [
        f"X:1 T:t: {field} in the body is not played (the header's transpose= is)"
        for field in ("K:G transpose=1", "V:1 transpose=4")
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        assert _played("K:D transpose=two\nDE|]", tmp_path=tmp_path) == [D, E]
    assert caplog.messages == [
        "X:1 T:t: cannot read transpose=two in key 'D transpose=two' (a whole number of "
        "semitones): the MIDI does not play it"
    ]
    with pytest.raises(RenderError, match="transpose=70 takes pitch 62 .* to 132, outside"):
        _played("K:D transpose=70\nDE|]", tmp_path=tmp_path)


def test_a_clef_octave_the_midi_does_not_play_is_said(tmp_path, caplog):
    """A clef's -8 in the body (abc2midi plays it from there on), or a clef without it after a
    header ``treble-8``, was dropped without a word: the MIDI plays the header's throughout."""
    import logging

    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        assert _played("K:D\nDE|\nK:bass-8\nFG|]", tmp_path=tmp_path) == [D, E, 66, G]
        body = "K:D treble-8\nDE|\nK:bass-8\nFG|[K:treble]DE|]"  # the same -8: not said
        assert _played(body, tmp_path=tmp_path) == [50, 52, 54, 55, 50, 52]
    assert caplog.messages == [
        f"X:1 T:t: line {line}: the octave of the clef of {field} in the body is not played "
        "(the header's clef octave is, throughout)"
        for line, field in ((7, "K:bass-8"), (8, "K:treble"))
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        # octave= moves the written notes up, the clef's -8 plays them down (abc2midi: up)
        assert _played("K:D treble-8 octave=1\nDE|]", tmp_path=tmp_path) == [D, E]
    assert caplog.messages == [
        "X:1 T:t: the clef's octave (-1) is played on top of D treble-8 octave=1, as ABC 2.1 "
        "has it (abc2midi plays the octave= alone)"
    ]


def test_a_body_clef_octave_is_compared_with_the_played_voices_clef(tmp_path, caplog):
    """The body's clefs were compared with the header's last clef of any voice (``V:2
    clef=bass``), not the played voice's (``V:1 clef=treble-8``): the -8 the MIDI plays was
    said not to be played, and a clef without it, which the MIDI does not play, was not said.
    Another voice's clef in the body is not said either: that voice is not played."""
    import logging

    header = "M:4/4\nL:1/8\nV:1 clef=treble-8\nV:2 clef=bass\n"
    body = "K:D\nV:1\nDE [K:treble-8] FG|\nV:2\nD,E, [K:bass-8] z2|\nV:1\nK:treble\nDE|]"
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        assert _played(body, header, tmp_path=tmp_path) == [50, 52, 54, 55, 50, 52]
    assert caplog.messages[-1:] == [
        "X:1 T:t: line 13: the octave of the clef of K:treble in the body is not played (the "
        "header's clef octave is, throughout)"
    ]
    assert not [m for m in caplog.messages if "K:treble-8" in m or "K:bass-8" in m]


def test_a_header_transpose_after_a_stray_header_line_is_played_and_not_said(tmp_path, caplog):
    """Aird's Airs' bare `N` in the header, which the reader passes over, ended the header for
    `_body_transposes`: the K: transpose= the MIDI plays was also said not to be played."""
    import logging

    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        got = _played("N\nK:D transpose=-2\nDEFG|]", tmp_path=tmp_path)
    assert got == [C, D, E, F]
    assert caplog.messages == []


def test_the_clef_played_is_the_kept_voices_not_the_first_declared(tmp_path, caplog):
    """`played_transpose` played the first header ``V:``'s clef and transpose=, though music
    before any body ``V:`` is voice 1 (the reader keeps it, not a first declared ``V:2``):
    voice 2's ``bass-8`` moved voice 1's notes down an octave, and a body clef was compared
    with it."""
    import logging

    header = "M:4/4\nL:1/8\nV:2 clef=bass-8 transpose=2\nV:1 clef=treble\n"
    assert _played("K:D\nDE|]", header, tmp_path=tmp_path) == [D, E]
    # voice 1 undeclared: no voice clef, the K:'s plays
    header = "M:4/4\nL:1/8\nV:2 clef=treble-8\n"
    with caplog.at_level(logging.WARNING, logger="modeling_irish.render"):
        assert _played("K:D\nDE|\nK:treble\nDE|]", header, tmp_path=tmp_path) == [D, E] * 2
    assert not [m for m in caplog.messages if "clef" in m]
    # the body opens with V:2: the first declared voice (1) is kept, and its clef plays
    header = "M:4/4\nL:1/8\nV:1 clef=treble-8\nV:2 clef=bass\n"
    assert _played("K:D\nV:2\nD,E,|\nV:1\nDE|]", header, tmp_path=tmp_path) == [50, 52]


def _time_signatures(path) -> list[tuple[int, int]]:
    """``(numerator, denominator)`` of each time signature meta-event of a MIDI file."""
    import music21

    midi = music21.midi.MidiFile()
    midi.open(str(path))
    midi.read()
    midi.close()
    return [
        (event.data[0], 2 ** event.data[1])
        for track in midi.tracks
        for event in track.events
        if not isinstance(event, music21.midi.DeltaTime)
        and event.type == music21.midi.MetaEvents.TIME_SIGNATURE
    ]


def test_a_meter_midi_cannot_write_is_said_not_written_as_another(tmp_path, caplog):
    # a MIDI time signature's denominator is a power of two: music21 wrote M:3/5 as 3/4 unsaid
    from modeling_irish.render import to_midi

    body = "K:D\nDEF G2A|\n"
    with caplog.at_level("WARNING", logger="modeling_irish.render"):
        odd = to_midi(f"X:1\nT:Odd\nM:3/5\nL:1/8\n{body}", str(tmp_path / "odd.mid"))
        jig = to_midi(f"X:2\nT:Jig\nM:6/8\nL:1/8\n{body}", str(tmp_path / "jig.mid"))
        free = to_midi(f"X:3\nT:Free\nM:none\nL:1/8\n{body}", str(tmp_path / "free.mid"))
    assert _time_signatures(odd) == _time_signatures(free) == []  # not music21's 4/4
    assert _time_signatures(jig) == [(6, 8)]
    assert _midi_notes(odd) == _midi_notes(jig) == _midi_notes(free)  # played all the same
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and said[0].startswith("X:1 T:Odd: M:3/5 has no MIDI time signature")


def test_a_q_field_is_read_with_the_unit_in_force_where_it_stands():
    # the header's Q:C=120 was read with the body's last L: (1/4): 120 quarters, not 60
    from modeling_irish.render_playing import tempo_marks
    from tokenization.abc_parser import parse_abc

    tune = parse_abc("X:1\nL:1/8\nQ:C=120\nK:C\nCDEF|[L:1/16][Q:C=120]CDEF|[L:1/4]C|]")
    assert tempo_marks(tune, 200, "X:1") == [(0, 60.0), (Fraction(2), 30.0)]


def _score(cents: int = 0):
    """A music21 score as `to_midi` gives the writer: one part of a tempo, a key, a program
    and notes at their own offsets (a chord, a held member, a program change), one note
    ``cents`` off its MIDI pitch."""
    import music21

    part = music21.stream.Part()
    part.insert(0, music21.tempo.MetronomeMark(number=120))
    part.insert(0, music21.key.KeySignature(2))
    violin = music21.instrument.Instrument()
    violin.midiProgram = 40
    part.insert(0, violin)
    for offset, midi, length in [(0, 62, 1), (0, 66, 3), (1, 69, 1), (2, 74, 0.5), (4, 62, 2)]:
        part.insert(offset, music21.note.Note(music21.pitch.Pitch(midi=midi), quarterLength=length))
    flute = music21.instrument.Instrument()
    flute.midiProgram = 73
    part.insert(3, flute)
    bent = music21.note.Note("E4", quarterLength=1)
    bent.pitch.microtone = cents
    part.insert(2.5, bent)
    return music21.stream.Score([part])


@pytest.mark.parametrize("cents", [0, 50])
def test_midi_file_is_music21s_file(cents):
    # the same bytes as music21's writer, the channel step done in one pass where no note is
    # bent (and music21's own, which moves a bent note to another channel, where one is)
    import music21

    from modeling_irish.render_midi import _midi_file

    want = music21.midi.translate.music21ObjectToMidiFile(_score(cents)).writestr()
    got = _midi_file(_score(cents)).writestr()
    assert got == want


def test_channel_packets_are_music21s_channels():
    import music21
    from music21.midi import translate

    score = translate.prepareStreamForMidi(_score())
    by_program, dynamic = translate.channelInstrumentData(score)
    parts = list(score.getElementsByClass(music21.stream.Stream))
    storage = translate.packetStorageFromSubstreamList(parts)
    translate.updatePacketStorageWithChannelInfo(storage, by_program)
    channels = {track: bundle["initChannel"] for track, bundle in storage.items()}
    packets = [packet for bundle in storage.values() for packet in bundle["rawPackets"]]
    want = translate.assignPacketsToChannels(packets, by_program, dynamic, channels)
    want = [(p["offset"], p["trackId"], repr(p["midiEvent"])) for p in want]

    from modeling_irish.render_midi import _channel_packets

    got = _channel_packets(packets, channels)
    assert [(p["offset"], p["trackId"], repr(p["midiEvent"])) for p in got] == want
    assert len(got) == len(packets) + 1  # a pitch bend of 0 at the start of the notes' track


def test_channel_packets_refuse_a_bent_note():
    from modeling_irish.render_midi import _channel_packets

    bent = {"centShift": 50, "offset": 0, "trackId": 1, "midiEvent": None}
    with pytest.raises(ValueError, match="at 0 ticks of track 1 has a cent shift"):
        _channel_packets([bent], {1: 1})


def test_prepared_refuses_measures():
    # music21 expands the repeats of measures; the score to_midi makes has none
    import music21

    from modeling_irish.render_midi import _prepared

    score = music21.stream.Score([music21.stream.Part([music21.stream.Measure()])])
    with pytest.raises(ValueError, match="a score with measures"):
        _prepared(score)
