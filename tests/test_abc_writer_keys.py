"""Mid-tune key changes (`AbcTune.key_changes`) through the ABC writer: written back as inline
``[K:]`` fields where they stood, the notes after each spelled in its key, moved with the tune by
``irish-tune transpose`` (``--key``, or normalised onto the white keys), and compared by
``check``'s round trip. The tunes are O'Neill's and Ryan's, as music21 bundles them."""

from __future__ import annotations

import pytest

from tokenization import round_trip
from tokenization.abc_parser import AbcTune, parse_abc
from tokenization.abc_writer import typed_token
from tokenization.keys import Key, normalise_tune
from tokenization.round_trip import round_trip_rows
from tokenization.transposition import transposed_abc

#: Ryan's Mammoth, "Golden Gate -- Reel" (shortened): a K:D line between the parts
GOLDEN_GATE = """X:1
T:Golden Gate -- Reel
R:reel
M:2/4
L:1/16
K:G
dc|B2BA G2GF|EAGE D2DC|B,DGB ADFA|G2B2G2:|
K:D
|:FG|A3d f3d|ceba gecG|FAdf a2FG|ceba geBc|d2d2d2:|
"""
#: O'Neill's X:67 "My Love Has Gone" (shortened): an inline [K:C] after the first part
MY_LOVE = """X:67
T:My Love Has Gone
M:2/4
L:1/8
K:G
c2 (BA) | G2 (DB,) | C2 (FE) | D3 D | BGDB, | EcAF | G2 G2 | G4 ||[K:C]
E2 (Gc) | G(G ^FG) | (Ad c)A | G2 (cd) |]
"""
#: Ryan's Mammoth, "Trip to the Cottage -- Jig" (shortened): G lydian, then G major
COTTAGE = """X:1
T:Trip to the Cottage -- Jig
M:6/8
L:1/8
K:Glyd
GAB cBA|GBd c2A|GAB cde|dBG A3:|
K:G
|:gfe dcB|cBA BAG|FGA cBA|G3 G3:|
"""


def _changes(tune: AbcTune) -> list[tuple[int, str]]:
    return [(at, key.name) for at, key in tune.key_changes]


def _pitches(tune: AbcTune) -> list[int]:
    return [t.pitch for t in tune.tokens if t.pitch is not None]


@pytest.mark.parametrize("abc", [GOLDEN_GATE, MY_LOVE, COTTAGE])
def test_the_round_trip_writes_key_changes_back_where_they_stood(abc):
    """``check``'s round trip writes each key change back as ``[K:]`` at the same token, the
    notes after it spelled in its key (Golden Gate's D part: ``c``, not ``^c``)."""
    tune = parse_abc(abc)
    assert tune.key_changes
    rows, again, text = round_trip_rows(tune)
    read = parse_abc(text)
    assert rows.rows() == again.rows()
    assert read.key_changes == tune.key_changes
    assert _pitches(read) == _pitches(tune)
    if abc is GOLDEN_GATE:
        assert "[K:D]" in text and "^c" not in text and "^F" not in text


def test_a_round_trip_that_drops_key_changes_fails(monkeypatch):
    """A writer that loses the key changes fails ``check``'s round trip, naming them."""
    write_abc = round_trip.write_abc

    def dropping(tokens, **kwargs):
        return write_abc(tokens, **{**kwargs, "key_changes": ()})

    monkeypatch.setattr(round_trip, "write_abc", dropping)
    with pytest.raises(ValueError, match=r"key changes \[\(31, 'D major'\)\] became \[\]"):
        round_trip_rows(parse_abc(GOLDEN_GATE))


@pytest.mark.parametrize(
    ("abc", "key", "changes"),
    [
        (GOLDEN_GATE, Key("A", "major"), [(31, "E major")]),
        (GOLDEN_GATE, None, [(31, "G major")]),  # normalised: G -> C, so D -> G
        (MY_LOVE, Key("D", "major"), [(30, "G major")]),
        (COTTAGE, None, [(25, "F major")]),  # G lydian -> F lydian: its G major -> F major
    ],
)
def test_transpose_moves_key_changes_with_the_tune(abc, key, changes):
    """``irish-tune transpose`` (``--key``, or normalised onto the white keys) writes each key
    change moved by the tune's interval, at the same token, the notes spelled in it."""
    tune = parse_abc(abc)
    text = transposed_abc(tune, key)
    read = parse_abc(text)
    assert _changes(read) == changes
    moved = [p - q for p, q in zip(_pitches(read), _pitches(tune))]
    assert len(set(moved)) == 1 and len(moved) == len(_pitches(tune))
    if abc is GOLDEN_GATE:  # its D part has no note outside D major, in any key
        assert not any(sign in text.split("[K:", 1)[1] for sign in "^_=")


def test_normalising_moves_the_key_changes_with_the_notes():
    """`normalise_tune` moves the key changes as it moves the notes (D major in a G major tune
    is G major in C), so the normalised tune's are in its own keys."""
    normal = normalise_tune(parse_abc(GOLDEN_GATE))
    assert normal.key.name == "C major" and _changes(normal) == [(31, "G major")]


def test_a_token_named_alone_is_spelled_in_the_key_in_force():
    """`typed_token`, which names a note in messages as the user typed it, spells it in the key
    in force at it (`AbcTune.key_at`), not the header's: ``c`` after ``[K:D]``, not ``^c``."""
    tune = parse_abc("X:1\nL:1/8\nK:G\nGABc|[K:D]c2 f=f|[K:G]c2|")
    assert [tune.key_at(i).abc for i in (4, 5, 8, 9)] == ["G", "D", "D", "G"]
    assert [typed_token(tune, i) for i in (3, 5, 6, 7, 9)] == ["c", "c2", "f", "=f", "c2"]


#: A tie across a key change: the tied note keeps the pitch it was tied from (as abc2midi plays
#: it), a later note of its letter in the bar takes the new key; the writer marks the tied note
#: where the new key would read it otherwise (readers differ on ties), then the next one.
#: (body, pitches read, body written)
TIES_ACROSS_KEY_CHANGES = [
    ("K:G\nB2-|[K:Bb]B2 B2|]", [71, 71, 70], "B2- | [K:Bb]=B2_B2 |]"),
    ("K:G\nB2-[K:Bb]B2 B2|]", [71, 71, 70], "B2-[K:Bb]=B2_B2 |]"),  # inside the bar
    ("K:G\nB2-|\nK:Bb\nB2 B2|]", [71, 71, 70], "B2- | [K:Bb]=B2_B2 |]"),  # a K: line
    ("K:Bb\nB2-|[K:G]B2 B2|]", [70, 70, 71], "B2- | [K:G]_B2=B2 |]"),
    # the written accidental changes meaning: =f is F natural in G and in D, f is F sharp in D
    ("K:G\n=f2-|[K:D]f2 f2|]", [77, 77, 78], "=f2- | [K:D]=f2^f2 |]"),
    # ^c, tied into D major, where c is C sharp anyway: nothing to mark
    ("K:G\n^c2-|[K:D]c2 c2|]", [73, 73, 73], "^c2- | [K:D]c2c2 |]"),
    ("K:G\n[Bd]2-|[K:Bb][Bd]2 B2|]", [71, 74, 71, 74, 70], "[Bd]2- | [K:Bb][=Bd]2_B2 |]"),
]


@pytest.mark.parametrize(("body", "pitches", "written"), TIES_ACROSS_KEY_CHANGES)
def test_a_tie_across_a_key_change_is_read_written_and_round_tripped(body, pitches, written):
    """Read: the tie holds its pitch over the change. Written: in the new key, with the marks
    that say it. Round trip: the same rows, ties and key changes; and moved (``--key A``, and
    normalised) every note by the same interval, the ties kept."""
    tune = parse_abc(f"X:1\nL:1/8\n{body}")
    assert _pitches(tune) == pitches
    assert [t.kind for t in tune.tokens].count("tie") == 1
    rows, again, text = round_trip_rows(tune)
    assert text.split("\nK:", 1)[1].split("\n", 1)[1] == written + "\n"
    assert rows.rows() == again.rows()
    read = parse_abc(text)
    assert read.key_changes == tune.key_changes and _pitches(read) == pitches
    for key in (Key("A", tune.key.mode), None):
        moved = parse_abc(transposed_abc(tune, key))
        assert [t.kind for t in moved.tokens] == [t.kind for t in tune.tokens]
        assert len({p - q for p, q in zip(_pitches(moved), pitches)}) == 1


@pytest.mark.parametrize(
    "body, named",
    [
        # an accidental earlier in the bar: `^c c` named the second `^c`, `c =c` the second `c`
        ("^c c =c c|c|", ["^c", "c", "=c", "c", "c"]),
        ("c ^c =c|", ["c", "^c", "=c"]),
        # the default scope carries it to every octave; a key change ends the bar's accidentals
        ("^c c' [K:D] c =c|", ["^c", "c'", "c", "=c"]),
        # the header's scope: none (`c` is C natural), or the octave alone (`c'` too)
        ("I:propagate-accidentals not\n^c c|", ["^c", "c"]),
        ("I:propagate-accidentals octave\n^c c' c|", ["^c", "c'", "c"]),
    ],
)
def test_a_token_named_alone_knows_the_accidentals_before_it_in_its_bar(body, named):
    """`typed_token` names a note as typed: after `^c` in the bar, a C sharp was typed `c`."""
    header, _, music = body.rpartition("\n")
    tune = parse_abc(f"X:1\nL:1/8\n{header + chr(10) if header else ''}K:G\n{music}\n")
    notes = [i for i, tok in enumerate(tune.tokens) if tok.kind == "note"]
    assert [typed_token(tune, i) for i in notes] == named


@pytest.mark.parametrize(
    ("body", "named"),
    [
        # a change in the bar: the second `c` is C natural under `not`, the `^c` before it held
        ("^c c [I:propagate-accidentals not] c ^c|", ["^c", "c", "c", "^c"]),
        ("^c c\n%%propagate-accidentals not\nc ^c|", ["^c", "c", "c", "^c"]),
        # under `octave` a `^C` reaches no `c`; a `^c` before it reaches every C (`rescoped`)
        ("[I:propagate-accidentals octave] ^C c C|", ["^C", "c", "C"]),
        ("^c [I:propagate-accidentals octave] c C,|", ["^c", "c", "C,"]),
        # a change holds on past the bar line
        ("[I:propagate-accidentals not] ^c|c|", ["^c", "c"]),
    ],
)
def test_a_token_named_alone_follows_a_propagate_accidentals_change_of_the_body(body, named):
    """`typed_token` read the header's `propagate-accidentals` alone, where the reader follows
    one of the body from where it stands: after `[I:propagate-accidentals not]` a C natural
    was named `=c` (the `^c` before it, which no longer reaches it, still did)."""
    tune = parse_abc(f"X:1\nL:1/8\nK:G\n{body}\n")
    notes = [i for i, tok in enumerate(tune.tokens) if tok.kind == "note"]
    assert [typed_token(tune, i) for i in notes] == named
