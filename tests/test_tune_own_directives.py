"""A directive a tune sets itself (``%%linebreak``, ``%%propagate-accidentals``, an ``I:`` one
after ``K:``) replaces its file header's of the same name: the file's is neither written into the
tune's text nor applied. A ``%%`` directive of the tune's header is its ``I:`` field (ABC 2.1 §11),
read in the order of its lines, by the reader and the writer alike."""

from __future__ import annotations

import pytest

from tokenization.abc_parser import parse_abc, parse_tunebook
from tokenization.abc_tunebook import directive_settings, split_tunebook
from tokenization.abc_writer import typed_token


@pytest.mark.parametrize(
    ("file_line", "own_line", "own_value"),
    [
        ("%%linebreak !", "%%linebreak <EOL>", "linebreak <EOL>"),
        ("I:linebreak !", "%%linebreak <EOL>", "linebreak <EOL>"),
        ("%%propagate-accidentals not", "%%propagate-accidentals octave", None),
        ("I:abc-charset iso-8859-1", "%%abc-charset utf-8", None),
        ("%%linebreak !", "K:G\nI:linebreak <EOL>", "linebreak <EOL>"),  # after K:, before music
    ],
)
def test_a_tunes_own_directive_keeps_the_file_headers_out(file_line, own_line, own_value):
    book = f"{file_line}\n\nX:1\n{own_line}\n" + ("" if "K:" in own_line else "K:G\n") + "GA|\n"
    ((_, text),) = split_tunebook(book, standalone=True)
    assert file_line.split(None, 1)[1] not in text  # the file's value is not written in
    assert text.count(own_line.splitlines()[-1]) == 1
    if own_value is not None:  # the reader reads the tune's alone, in the book as alone
        (book_tune,) = parse_tunebook(book)
        assert book_tune.fields["I"] == parse_abc(text).fields["I"] == [own_value]


def test_the_directives_a_tune_sets_before_its_music():
    lines = ["X:1", "%%MIDI program 22", "I:linebreak !", "K:G", "%%propagate-accidentals not"]
    assert sorted(directive_settings(lines)) == [
        "I:MIDI program",
        "I:linebreak",
        "I:propagate-accidentals",
    ]


def test_the_last_propagate_accidentals_line_holds_be_it_percent_or_field():
    # the `%%` line came after every I: field whatever its place, so `not` held here
    header = "X:1\nL:1/8\n%%propagate-accidentals not\nI:propagate-accidentals pitch\n"
    tune = parse_abc(header + "K:C\n^c c|")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [73, 73]


def test_the_writer_names_a_note_by_the_tunes_own_percent_directive():
    # `typed_token` read only I: fields: under `%%propagate-accidentals not` it named the second
    # C natural `=c`, though the tune reads (and was typed) `c`
    tune = parse_abc("X:1\nL:1/8\n%%propagate-accidentals not\nK:C\n^c c|")
    assert [t.pitch for t in tune.tokens if t.kind == "note"] == [73, 72]
    assert typed_token(tune, 1) == "c"
