"""Tests for what fuzzing the reader found: lengths and numbers far beyond any tune's, refused
where they stand (not crashes further on), and lines long enough to show quadratic work."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tokenization.abc_parser import AbcParseError, parse_abc
from tokenization.abc_writer import write_abc

HEADER = "X:1\nT:Fuzz\nM:4/4\nL:1/8\nK:D\n"
GOOD = f"{HEADER}DEFG ABcd|\n"


def round_trip(tune) -> list:
    """The tokens of ``tune`` written back and read again."""
    text = write_abc(tune.tokens, key=tune.key, meter=tune.meter, unit=tune.unit)
    return parse_abc(text).tokens


@pytest.mark.parametrize(
    "music, column",
    [
        ("A" + "/" * 15000, 6),
        ("A" + "/" * 1030, 6),
        ("A" + "/" * 11, 6),
        ("A/1025", 6),
        ("A3/2048", 6),
        ("A/" + "9" * 5000, 6),
        ("z" + "/" * 11, 6),
        ("[CE]" + "/" * 11, 9),  # a chord's length: at its `]`
    ],
)
def test_a_length_shorter_than_a_1024th_is_refused_where_it_stands(music, column):
    """`A` with 15,000 slashes was read, and then `irish-tune check` failed its round trip
    ("Exceeds the limit (4300 digits) for integer string conversion"), `AbcTokenizer.train`
    raised a ValueError naming no tune, and `irish-tune render` overflowed in music21 at 1,030
    slashes."""
    with pytest.raises(AbcParseError, match="too short: its denominator is above 1024") as err:
        parse_abc(f"{HEADER}DEFG {music}Bcd|")
    assert (err.value.line, err.value.column, err.value.internal) == (6, column, False)
    assert len(err.value.message) < 120  # 15,000 slashes are not written out


def test_a_1024th_is_read_and_written_back():
    tune = parse_abc(f"{HEADER}DEFG A//////////B/1024 z3/1024 [CE]/1024 A30/|")
    lengths = [t.dur for t in tune.tokens if t.kind in ("note", "rest")][4:]
    assert lengths == [F(1, 8192), F(1, 8192), F(3, 8192), F(1, 8192), F(1, 8192), F(15, 8)]
    assert round_trip(tune) == tune.tokens


def test_train_leaves_a_tune_with_a_refused_length_out():
    """It raised a bare ValueError for the whole corpus, naming no tune."""
    from tokenization.tokenization_abc import AbcTokenizer

    bad = f"{HEADER}DEFG A{'/' * 15000}Bcd|\n"
    assert AbcTokenizer.train([GOOD, bad]) == AbcTokenizer.train([GOOD])


HUGE = "9" * 4301  # one digit more than `int` reads from a string


@pytest.mark.parametrize(
    "text, message",
    [
        (f"{HEADER}Z{HUGE}|", "multi-measure rest 'Z999"),
        (f"{HEADER}({HUGE}ABc|", r"bad tuplet '\(999"),
        (f"{HEADER}(3:{HUGE}ABc|", r"bad tuplet '\(3:999"),
        (f"{HEADER}(3:2:{HUGE}ABc|", r"bad tuplet '\(3:2:999"),
        (f"X:1\nM:{HUGE}/4\nK:D\nDEF|", "meter .* too large"),
        (f"X:1\nL:1/{HUGE}\nK:D\nDEF|", "cannot read unit length '1/999"),
    ],
)
def test_a_number_of_thousands_of_digits_is_a_positioned_error_not_a_parser_bug(text, message):
    """`int` refuses more than 4,300 digits: ``Z``, ``(3:`` and ``(`` with more gave "internal
    error ValueError: Exceeds the limit (4300 digits)", flagged as a parser bug; ``M:`` and
    ``L:`` gave Python's message."""
    with pytest.raises(AbcParseError, match=message) as err:
        parse_abc(text)
    assert not err.value.internal and "4300" not in err.value.message
    assert len(err.value.message) < 160


@pytest.mark.parametrize("number", [HUGE, "9" * 20, "²"])
def test_an_x_number_beyond_int64_or_not_ascii_reads_as_none(number):
    """``X:`` with 4,301 nines was an internal error (and ``X:²``, which `str.isdigit` takes):
    the loader skipped the tune as a parser bug, where README says such a number reads as
    ``x`` 0."""
    tune = parse_abc(f"X:{number}\nT:Big\nK:D\nDEF|")
    assert (tune.x, tune.fields["X"], tune.title) == (None, [number], "Big")
    assert parse_abc("X:9223372036854775807\nK:D\nDEF|").x == 2**63 - 1  # int64 still is


def test_the_loader_reads_an_x_number_of_thousands_of_digits_as_x_0(tmp_path):
    from modeling_irish.abc_corpus import load_abc_corpus

    book = tmp_path / "huge.abc"
    book.write_text(
        f"X:1\nT:Good\nK:D\nDEFG ABcd|\n\nX:{HUGE}\nT:Huge\nK:D\nABcd efga|\n", encoding="utf-8"
    )
    data = load_abc_corpus(book, split_ratios=(1, 0, 0))
    assert data.report["parsed"] == 2 and data.report["skipped"] == 0
    assert sorted(zip(data["train"]["title"], data["train"]["x"])) == [("Good", 1), ("Huge", 0)]


def random_lines(count: int, alphabet: str, seed: int = 0) -> list[str]:
    """``count`` lines of 0 to 30 characters drawn from ``alphabet`` (seeded)."""
    import random

    rng = random.Random(seed)
    return ["".join(rng.choices(alphabet, k=rng.randrange(31))) for _ in range(count)]


def test_the_decoration_before_a_rest_is_found_as_the_search_over_the_line_found_it():
    """`decoration_ends_at` matches from where a decoration can only start; the search over the
    whole line before the rest that it replaces (quadratic over a line of `x8|`) is the
    oracle."""
    from tokenization.abc_lexer import _DECO_BEFORE_RE, decoration_ends_at

    lines = random_lines(400, "!+x |~Hab:.\t") + ["G2 Hx||", "!fermata!x|", "!a b!x|", "++x|"]
    for line in lines:
        for end in range(len(line) + 1):
            oracle = _DECO_BEFORE_RE.search(line, 0, end) is not None
            assert decoration_ends_at(line, end) == oracle, (line, end)


class CountingPattern:
    """A stand-in for a compiled regex that counts the characters each search or match may
    look at (``endpos - pos``)."""

    def __init__(self, pattern):
        self.pattern, self.spans = pattern, 0

    def search(self, line, pos=0, endpos=None):
        self.spans += (len(line) if endpos is None else endpos) - pos
        return self.pattern.search(line, pos, endpos)

    match = search


def test_looking_for_a_decoration_before_each_bar_rest_is_linear_in_the_line(monkeypatch):
    """The search ran over the whole line before every `x` before a bar line: 45 KB of `x8|`
    took 4-6 s, 97 KB of `!x!x|` 20 s. Counted, not timed: the characters looked at per rest."""
    from tokenization import abc_lexer, abc_notes

    counter = CountingPattern(abc_lexer._DECO_BEFORE_RE)
    for module in (abc_lexer, abc_notes):  # the pattern is used from one of them
        monkeypatch.setattr(module, "_DECO_BEFORE_RE", counter, raising=False)
    for body in ("x8|", "!x!x|", "Ax:", "!trill!x|"):
        counter.spans = 0
        parse_abc(f"{HEADER}A|{body * 2000}\n")
        assert 0 < counter.spans <= 8 * 2000, body  # the old search: 2000 * 2000 * len(body) / 2


def renumbered_one_by_one(changes: list, doomed: list[int]) -> list:
    """The renumbering `_shift_back` replaced: every change once per deleted token."""
    for i in sorted(doomed, reverse=True):
        changes = [(j - (j > i), value) for j, value in changes]
    return changes


def test_changes_move_back_past_deleted_tokens_as_they_did_one_deletion_at_a_time():
    import random

    from tokenization.abc_bars import _shift_back

    rng = random.Random(0)
    for _ in range(300):
        changes = [(j, n) for n, j in enumerate(sorted(rng.choices(range(40), k=rng.randrange(8))))]
        doomed = sorted(rng.sample(range(40), rng.randrange(1, 6)))
        expected = renumbered_one_by_one(changes, doomed)
        _shift_back(changes, doomed)
        assert changes == expected


def test_many_dropped_ties_keep_parts_tempi_and_meters_on_their_tokens():
    """10,000 ``[P:A]A-B`` took 5 s (each dropped tie renumbered every part before it): the
    changes still land on the notes they were written before."""
    body = "[P:A]A-B [Q:1/4=90]c-z [M:3/4]d-e [CE]-[DF]2 [M:2/4]f-g|" * 50
    tune = parse_abc(f"{HEADER}{body}\n")
    assert [t.kind for t in tune.tokens].count("tie") == 0
    assert [tune.tokens[i].pitch for i, _ in tune.part_changes] == [69] * 50
    assert [tune.tokens[i].kind for i, _ in tune.tempo_changes] == ["note"] * 50
    assert [tune.tokens[i].pitch for i, _ in tune.tempo_changes] == [73] * 50
    assert [tune.tokens[i].pitch for i, _ in tune.meter_changes] == [74, 78] * 50
