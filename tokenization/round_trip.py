"""The round trip of `irish-tune check`: a read tune written back as ABC (`write_abc`) in its
original key and read again, and what it changed (its rows, or a header field, change, part or
section title it lost), in the words check's report gives."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from .abc_parser import AbcTune, Token
from .abc_tempo import explicit_tempo, quarters_a_minute
from .abc_writer import OWN_FIELDS, write_abc
from .features import FEATURE_NAMES, HeaderInfo, TuneRows, tune_to_rows
from .keys import Key, moved_key, normalise_tune, output_shift, standard_key, transpose_tokens

__all__ = [
    "parse_abc_strict",
    "round_trip_rows",
    "write_tune",
    "written_key_changes",
    "written_tempo_changes",
    "first_difference",
]


def _rows(tune: AbcTune) -> TuneRows:
    return tune_to_rows(tune.tokens, HeaderInfo.from_tune(tune))


#: The header fields `round_trip_rows` writes back as fields of the writer's (all but those it
#: writes from its own arguments, `OWN_FIELDS`, and ``V:``: the tokens are one voice's, at the
#: pitches they sound, and a voice declaration written again, ``V:1 octave=-1``, would move them)
_NOT_FIELDS = OWN_FIELDS | {"V"}
#: The unit note length `write_tune` writes the notes' lengths in (``L:1/8``)
_WRITTEN_UNIT = Fraction(1, 8)
#: What `_header_changed` calls a header field besides its letter
_FIELD_MEANINGS = {
    "X": "the tune's number",
    "T": "the titles",
    "R": "the rhythms",
    "M": "the meter",
    "K": "the key",
    "P": "the order of the parts",
}


def round_trip_rows(tune: AbcTune) -> tuple[TuneRows, TuneRows, str]:
    """Rows of a tune, and the rows of its ABC re-written in its *original* key and read again:
    the key of its ``K:``, or for a tune of the shared corpus (a white-key placeholder ``K:``)
    the key its ``Z:`` names, at the pitches the tune was read at.

    Returns ``(rows, rows_again, written_abc)``; they are equal when the round trip holds. The
    header is written back whole (`write_abc`: its number, every title and rhythm, meter,
    key, and every other field, the tempo ``Q:`` and the order of the parts ``P:AABB`` among
    them, but ``L:``, the writer's own, and ``V:``), and so are the mid-tune meter, key and
    tempo changes (`AbcTune.meter_changes`, `AbcTune.key_changes`, `AbcTune.tempo_changes`),
    the parts the body marks
    (`AbcTune.part_changes`, ``P:B``) and its section titles (`AbcTune.section_titles`,
    ``T:Part B`` after ``K:``, not header titles), and read back: the rows carry none of them
    but the meter, rhythm and mode, so a `ValueError` names the header field the text read back
    lost or changed (`_header_changed`), or where it lost or moved a change, part or section
    title (`irish-tune check` reports it as the tune's failure).
    """
    normal = normalise_tune(tune)
    original = normal.original_key
    assert original is not None  # normalise_tune always sets it
    shift = output_shift(normal.key, original)  # the inverse of the normalisation
    text = write_tune(tune, transpose_tokens(normal.tokens, shift), original, tune.fields)
    read = parse_abc_strict(text)
    lost = _header_changed(tune, read, standard_key(original))
    lost = lost or _changes_lost(tune, read, written_key_changes(tune, original))
    if lost is not None:
        raise ValueError(lost)
    rows, normal_again = _rows(normal), normalise_tune(read)
    return rows, _rows_again(normal, normal_again, rows), text


def _rows_again(normal: AbcTune, again: AbcTune, rows: TuneRows) -> TuneRows:
    """The rows of the tune read back, normalised (``again``), where ``rows`` are those of
    ``normal``: a copy of ``rows`` when the two have the same tokens and header (the rows are
    made of nothing else, `tune_to_rows`), which a round trip that holds gives and spares the
    work of a third of `round_trip_rows`; else made anew.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = normalise_tune(parse_abc("X:1\\nM:2/4\\nK:G\\nGA Bc|"))
    >>> rows = _rows(tune)
    >>> again = _rows_again(tune, tune, rows)
    >>> again == rows, again.token_rows is rows.token_rows
    (True, False)
    """
    if again.tokens != normal.tokens or HeaderInfo.from_tune(again) != HeaderInfo.from_tune(normal):
        return _rows(again)
    return TuneRows(
        list(rows.token_rows), list(rows.position_rows), rows.header, list(rows.measure_numbers)
    )


def _titles(tune: AbcTune) -> list[str]:
    """Every title of a tune's header, in order (its name, then its alternative names), or one
    empty title when it has none: the writer writes a ``T:`` line (ABC 2.1 wants one) unless a
    section title opens the body (`write_abc`).

    >>> from tokenization.abc_parser import parse_abc
    >>> _titles(parse_abc("X:1\\nT:The Silver Spear\\nT:An Sleá Airgid\\nK:D\\nA|"))
    ['The Silver Spear', 'An Sleá Airgid']
    >>> _titles(parse_abc("X:1\\nK:D\\nA|"))
    ['']
    """
    return tune.fields.get("T") or [""]


def _header_changed(tune: AbcTune, again: AbcTune, key: Key) -> str | None:
    """How the header of the tune read back (``again``) differs from ``tune``'s in what the
    writer keeps of it, or None when it does not: the number (not that of an ``X:`` that is not
    one, which is written ``X:1``), every title and rhythm, the meter, the key (``key``,
    the original key as written: one of more than 7 sharps or flats in its usual spelling), and
    every field but ``L:`` and ``V:`` (`_NOT_FIELDS`), all their values, in order (the tempo
    ``Q:`` as read, `_header_tempos`); and the tune's title (a header without ``T:`` takes a
    section title's, `AbcTune.title`).

    >>> from tokenization.abc_parser import parse_abc
    >>> tempo = parse_abc("X:1\\nQ:1/4=120\\nK:C\\nCDEF|")
    >>> _header_changed(tempo, parse_abc("X:1\\nK:C\\nCDEF|"), Key("C", "major"))
    "the header Q: '1/4=120' became missing after the round trip"
    """
    compared: list[tuple[str, object, object]] = [
        ("X", tune.x, again.x),
        ("T", _titles(tune), _titles(again)),
        ("R", tune.fields.get("R"), again.fields.get("R")),
        ("M", tune.written_meter, again.written_meter),
        ("K", key.name, again.key.name),
    ]
    if tune.x is None:
        del compared[0]
    letters = dict.fromkeys([*tune.fields, *again.fields])
    compared += [
        (letter, *_header_tempos(tune, again))
        if letter == "Q"
        else (letter, tune.fields.get(letter), again.fields.get(letter))
        for letter in letters
        if letter not in _NOT_FIELDS
    ]
    for letter, before, after in compared:
        if before != after:
            meaning = f" ({_FIELD_MEANINGS[letter]})" if letter in _FIELD_MEANINGS else ""
            listed = any(isinstance(v, list) and len(v) > 1 for v in (before, after))
            shown = f"{_shown(before, listed)} became {_shown(after, listed)}"
            return f"the header {letter}:{meaning} {shown} after the round trip"
    if tune.title != again.title:  # the header's first T:, else a section title's (`parse_abc`)
        return f"the title {tune.title!r} became {again.title!r} after the round trip"
    return None


def _header_tempos(tune: AbcTune, again: AbcTune) -> tuple[object, object]:
    """The header ``Q:`` values of ``tune`` and of ``again`` as `_header_changed` compares and
    names them: equal where they read the same, quarter notes a minute under each tune's unit
    (`quarters_a_minute`; the text of one with no tempo to read), so that ``Q:C=120`` under
    ``L:1/16`` and the ``Q:1/16=120`` it is written back as are the same; else as written, or
    as read where their text is the same (``C=120`` read under another unit).

    >>> from tokenization.abc_parser import parse_abc
    >>> slow, fast = (parse_abc(f"L:{unit}\\nQ:C=120\\nK:G\\nc4|") for unit in ("1/16", "1/8"))
    >>> _header_tempos(slow, fast), _header_tempos(slow, parse_abc("Q:1/16=120\\nK:G\\nc4|"))
    (([30.0], [60.0]), ([30.0], [30.0]))
    """
    written = tune.fields.get("Q"), again.fields.get("Q")
    first, second = (
        None if values is None else [_tempo_read(value, t.unit) for value in values]
        for values, t in zip(written, (tune, again))
    )
    return (first, second) if first == second or written[0] == written[1] else written


def _tempo_read(field: str, unit: Fraction) -> float | str:
    """A ``Q:`` field as check's round trip compares it: its quarter notes a minute read under
    ``unit`` (`quarters_a_minute`), else (``"Slower"``) its text."""
    bpm = quarters_a_minute(field, unit)
    return field if bpm is None else bpm


def _shown(value: object, listed: bool) -> str:
    """A header value in a failure's reason: ``missing`` for none, one value as itself but where
    the other side of the change is ``listed`` (it has several values).

    >>> _shown(None, False), _shown(["1/4=120"], False), _shown(["a"], True), _shown(980, False)
    ('missing', "'1/4=120'", "['a']", '980')
    """
    if value is None or value == []:
        return "missing"
    if isinstance(value, list) and len(value) == 1 and not listed:
        return repr(value[0])
    return repr(value)


def _changes_lost(
    tune: AbcTune, again: AbcTune, key_changes: list[tuple[int, Key]] | None = None
) -> str | None:
    """How the tune read back (``again``) differs from ``tune`` in its mid-tune meter, key or
    tempo changes, its parts, its section titles or its program changes among the notes
    (`AbcTune.program_changes`), ``(token index, value)`` each, or None when
    it does not (the header's order of the parts, ``P:AABB``, is `_header_changed`'s). The key
    changes are compared with ``key_changes``, those written (`written_key_changes`), else
    with ``tune``'s.

    >>> from tokenization.abc_parser import parse_abc
    >>> changed = parse_abc("X:1\\nM:4/4\\nK:C\\nABcd|[M:3/4]ABc|")
    >>> _changes_lost(changed, parse_abc("X:1\\nM:4/4\\nK:C\\nABcd|ABc|"))
    "the meter changes [(5, '3/4')] became [] after the round trip"
    """
    for what, before, after in (
        ("meter changes", tune.written_meter_changes(), again.written_meter_changes()),
        (
            "key changes",
            _named(tune.key_changes if key_changes is None else key_changes),
            _named(again.key_changes),
        ),
        ("tempo changes", *_tempos_compared(tune, again)),
        ("parts", tune.part_changes, again.part_changes),
        ("parts after a tempo change", tune.parts_after_tempo, again.parts_after_tempo),
        ("section titles", tune.section_titles, again.section_titles),
        ("program changes", tune.program_changes, again.program_changes),
    ):
        if before != after:
            return f"the {what} {before} became {after} after the round trip"
    return None


def _tempos_read(tune: AbcTune) -> list[tuple[int, float | str]]:
    """The body's tempo changes of ``tune`` as the reader reads them, for `_changes_lost`:
    quarter notes a minute in the unit each is written in (`AbcTune.tempo_unit`), so that
    ``C=120`` after an ``[L:1/16]`` and the ``1/16=120`` it is written back as are the same;
    the text of one with no tempo to read (``"Slower"``).

    >>> from tokenization.abc_parser import parse_abc
    >>> _tempos_read(parse_abc('L:1/8\\nK:G\\nc2|[L:1/16][Q:C=120]c4|[Q:"Slower"]c4|'))
    [(2, 30.0), (4, '"Slower"')]
    """
    return [
        (at, _tempo_read(text, tune.tempo_unit(n)))
        for n, (at, text) in enumerate(tune.tempo_changes)
    ]


def _tempos_compared(tune: AbcTune, again: AbcTune) -> tuple[list[object], list[object]]:
    """The body's tempo changes of ``tune`` and of ``again`` as `_changes_lost` compares and
    names them: equal where they read the same (`_tempos_read`); else as written, or as read
    where their text is the same (``C=120`` read under another unit).

    >>> from tokenization.abc_parser import parse_abc
    >>> slow, fast = (parse_abc(f"L:{unit}\\nK:G\\n[Q:C=120]c4|") for unit in ("1/16", "1/8"))
    >>> _tempos_compared(slow, fast)
    ([(0, 30.0)], [(0, 60.0)])
    """
    read: tuple[list[object], list[object]] = (list(_tempos_read(tune)), list(_tempos_read(again)))
    if read[0] == read[1] or tune.tempo_changes == again.tempo_changes:
        return read
    return list(tune.tempo_changes), list(again.tempo_changes)


def written_tempo_changes(tune: AbcTune, unit: Fraction) -> list[tuple[int, str]]:
    """The body's tempo changes of ``tune`` as `write_tune` writes them, the notes' lengths in
    ``unit``: one whose beat is in unit notes (``C=120``) written where another unit was in
    force (after an ``[L:1/16]``, `AbcTune.tempo_unit`; the writer writes no ``L:`` in the
    body) with its beat spelled out (``1/16=120``, `explicit_tempo`), so that it reads back at
    the same tempo; the others as written.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("L:1/8\\nK:G\\n[Q:C=60]c2|[L:1/16][Q:C=120]c4|")
    >>> written_tempo_changes(tune, Fraction(1, 8))
    [(0, 'C=60'), (2, '1/16=120')]
    """
    written = []
    for n, (at, text) in enumerate(tune.tempo_changes):
        read_in = tune.tempo_unit(n)
        written.append((at, text if read_in == unit else explicit_tempo(text, read_in)))
    return written


def _written_fields(
    fields: Mapping[str, list[str]], unit: Fraction, written: Fraction
) -> dict[str, list[str]]:
    """The header ``fields`` of a tune read with ``unit`` as `write_tune` writes them, the
    notes' lengths in ``written``: but the writer's own and ``V:`` (`_NOT_FIELDS`), a tempo
    ``Q:`` whose beat is in unit notes (``C=120``) with it spelled out where the units differ
    (``1/16=120``, `explicit_tempo`), so that it reads back at the same tempo; the others as
    they are.

    >>> header = {"L": ["1/16"], "Q": ["C=120"], "C": ["Trad."]}
    >>> _written_fields(header, Fraction(1, 16), _WRITTEN_UNIT)
    {'Q': ['1/16=120'], 'C': ['Trad.']}
    """
    kept = {letter: list(v) for letter, v in fields.items() if letter not in _NOT_FIELDS}
    if unit != written and "Q" in kept:
        kept["Q"] = [explicit_tempo(value, unit) for value in kept["Q"]]
    return kept


def _named(changes: list[tuple[int, Key]]) -> list[tuple[int, str]]:
    """Key changes as a failure's reason shows them: ``[(14, 'D major')]``."""
    return [(at, key.name) for at, key in changes]


def written_key_changes(tune: AbcTune, key: Key) -> list[tuple[int, Key]]:
    """The mid-tune key changes of ``tune`` as `write_tune` writes them with the tune in
    ``key``: each moved as the tune moves from its own key (`moved_key`), in its standard
    spelling (`standard_key`), where the reader reads them back.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("X:1\\nK:G\\nGABc|\\nK:D\\nd^cBA|")
    >>> _named(written_key_changes(tune, Key("A", "major")))
    [(5, 'E major')]
    """
    return [(at, standard_key(moved_key(k, tune.key, key))) for at, k in tune.key_changes]


def parse_abc_strict(text: str) -> AbcTune:
    """Parse text we wrote ourselves (corpus-format detection off)."""
    from .abc_parser import parse_abc

    return parse_abc(text, corpus_format="standard")


def first_difference(a: TuneRows, b: TuneRows) -> str:
    """Where the rows of a tune and of its round trip first differ, naming the features.

    >>> from dataclasses import replace
    >>> header = HeaderInfo("D major", "D", "major", 2, "4/4", rhythm="reel")
    >>> rows = tune_to_rows([], header)
    >>> first_difference(rows, tune_to_rows([], replace(header, rhythm="reel x")))
    "row 0 differs after the round trip: rhythm 'reel' became 'reel x'"
    """
    rows_a, rows_b = a.rows(), b.rows()
    for i, (ra, rb) in enumerate(zip(rows_a, rows_b)):
        if ra != rb:
            changes = [
                f"{n} {x!r} became {y!r}" for n, x, y in zip(FEATURE_NAMES, ra, rb) if x != y
            ]
            return f"row {i} differs after the round trip: {', '.join(changes)}"
    if len(rows_a) != len(rows_b):
        return f"{len(rows_a)} rows became {len(rows_b)} after the round trip"
    for i, (ma, mb) in enumerate(zip(a.measure_numbers, b.measure_numbers)):
        if ma != mb:
            return f"row {i}: measure number {ma} became {mb} after the round trip"
    return "the rows differ after the round trip"


def write_tune(
    tune: AbcTune, tokens: list[Token], key: Key, fields: Mapping[str, list[str]]
) -> str:
    """`write_abc` of ``tokens`` (``tune``'s, moved) in ``key``, with ``tune``'s header and what
    its body marks besides notes: its number (``X:1`` for none), every title and rhythm, meter,
    ``fields`` (but the writer's own and ``V:``; the tempo ``Q:``'s beat in unit notes spelled
    out, `_written_fields`), mid-tune meter and tempo changes (a beat in unit notes spelled out,
    `written_tempo_changes`: the lengths are written in ``L:1/8``), its key changes moved into
    ``key`` (`written_key_changes`: the notes after each are spelled in it), parts, section
    titles and program changes among the notes; a tune without ``T:`` gets one empty ``T:``,
    unless a section title titles it (`write_abc`).
    `round_trip_rows` and ``irish-tune transpose`` (`tokenization.transposition`) write tunes
    with it."""
    return write_abc(
        tokens,
        key=key,
        meter=tune.written_meter,
        x=1 if tune.x is None else tune.x,
        title=tune.fields.get("T") or ([] if tune.title else [""]),
        rhythm=tune.fields.get("R", []),
        meter_changes=tune.written_meter_changes(),
        key_changes=written_key_changes(tune, key),
        tempo_changes=written_tempo_changes(tune, _WRITTEN_UNIT),
        unit=_WRITTEN_UNIT,
        fields=_written_fields(fields, tune.unit, _WRITTEN_UNIT),
        part_changes=tune.part_changes,
        inline_parts=tune.inline_parts,
        parts_after_tempo=tune.parts_after_tempo,
        section_titles=tune.section_titles,
        program_changes=tune.program_changes,
    )
