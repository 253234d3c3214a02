"""A file header that sets one thing twice (two ``M:``, two ``%%MIDI program``): the last holds,
in the tunebook's reading as in each tune's standalone text (`with_file_header` writes both)
and in the MIDI of render, as abc2midi reads them in order."""

from __future__ import annotations

from tokenization.abc_parser import parse_abc, parse_tunebook
from tokenization.abc_tunebook import split_tunebook

BOOK = "M:2/4\nM:6/8\n%%MIDI program 20\n%%MIDI program 73\n\nX:1\nT:A\nK:D\nDEF|\n"


def test_the_last_of_two_file_header_fields_holds_in_the_book_as_in_the_tune_text():
    (book_tune,) = parse_tunebook(BOOK)
    ((_, text),) = split_tunebook(BOOK, standalone=True)
    alone = parse_abc(text)
    assert str(book_tune.meter) == str(alone.meter) == "6/8"
    assert book_tune.fields["M"] == alone.fields["M"] == ["2/4", "6/8"]
    assert book_tune.fields["I"] == alone.fields["I"] == ["MIDI program 20", "MIDI program 73"]


def test_a_tunes_own_midi_header_lines_are_its_i_fields_as_the_file_headers_are():
    """A tune's own `%%MIDI` header lines were not kept in `fields["I"]` while its file header's
    were: the tune read alone (the file header written in) lacked the book's `MIDI` fields."""
    tune = parse_abc("X:1\n%%MIDI program 20\nI:linebreak !\n%%MIDI gchord fc % chords\nK:D\nD|")
    assert tune.fields["I"] == ["MIDI program 20", "linebreak !", "MIDI gchord fc"]
    book = "%%MIDI program 73\n\nX:1\n%%MIDI gchord fc\nK:D\nDEF|\n"
    (book_tune,) = parse_tunebook(book)
    ((_, text),) = split_tunebook(book, standalone=True)
    # the same fields, in the same order: the file header's first, as written in after X:
    assert book_tune.fields["I"] == parse_abc(text).fields["I"]
    assert book_tune.fields["I"] == ["MIDI program 73", "MIDI gchord fc"]


def test_render_plays_the_last_file_header_program():
    from modeling_irish.render_directives import midi_program

    ((_, text),) = split_tunebook(BOOK, standalone=True)
    assert midi_program(text, "X:1") == 73
