"""ABC writer: parser tokens (sounding MIDI pitches) -> ABC text in any key, key-aware spelling."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import NamedTuple

from .abc_bar_text import BarText, length_text
from .abc_body_fields import (
    SPLIT_AT_PART,
    SPLIT_BEFORE_PART,
    SPLIT_BEFORE_TITLE,
    changes_at,
    field_text,
    flush_written,
    inline_field,
    parts_at,
    parts_before_tempo,
    titles_at,
    write_parts,
    write_parts_and_tempo,
    write_titles,
)
from .abc_header_directives import rescoped
from .abc_layout import (  # noqa: F401 - beat_group, engraved_lengths: public here too
    LineBreaks,
    beat_group,
    engraved_lengths,
    full_bar_length,
    meter_numbers,
    pair_beat,
)
from .abc_parser import Token, default_tuplet_q
from .abc_spelling import ACC_TEXT, Speller
from .abc_tune import AbcTune, in_force_at, part_ending_tempos
from .abc_tunebook import propagate_accidentals
from .kept_warnings import warn
from .keys import Key, standard_key

__all__ = [
    "OWN_FIELDS",
    "ChordProblem",
    "beat_group",
    "chord_problem",
    "engraved_lengths",
    "length_text",
    "pair_beat",
    "tokens_to_body",
    "typed_token",
    "write_abc",
]

#: The header fields `write_abc` writes from its own arguments (``x``, ``title``, ``rhythm``,
#: ``meter``, ``unit``, ``key``); a ``fields`` entry of one of these letters is not written (a
#: tune's alternative titles and further rhythms are ``title`` and ``rhythm`` lists).
OWN_FIELDS = frozenset("XTRMLK")


class ChordProblem(NamedTuple):
    """Why a token sequence's chords cannot be written as ABC that reads back (`chord_problem`):
    ``at``, the token at fault; ``chord``, the ``[`` of the chord open there (None where none
    is); ``what`` is wrong."""

    at: int
    chord: int | None
    what: str

    def text(self, place: Callable[[int], str]) -> str:
        """The problem, its tokens named by ``place`` (``lambda i: f"token {i}"``).

        >>> ChordProblem(5, 2, "bar line '|' inside a chord").text(lambda i: f"token {i}")
        "token 5: bar line '|' inside a chord (the chord opened at token 2)"
        """
        opened = (
            "" if self.chord in (None, self.at) else f" (the chord opened at {place(self.chord)})"
        )
        return f"{place(self.at)}: {self.what}{opened}"


def _inside_chord(tok: Token) -> str:
    """What a token that cannot stand inside a chord is, for `chord_problem`."""
    if tok.kind == "chord_start":
        return "'[' inside a chord (chords do not nest)"
    if tok.kind in ("bar", "tuplet"):
        return f"{'bar line' if tok.kind == 'bar' else 'tuplet'} {tok.text!r} inside a chord"
    return f"{tok.kind} inside a chord"


def chord_problem(tokens: Sequence[Token]) -> ChordProblem | None:
    """The first place where the chords of ``tokens`` cannot be written as ABC that reads back
    the same, or None: a ``]`` that closes no chord, a chord with no note (``[]``, which readers
    refuse), a ``[``, bar line, tuplet or rest inside a chord (written out of it, in front of
    the chord: a chord holds notes and ties only), or a chord never closed (``at`` its ``[``:
    an open ``[`` swallows the rest of the tune into one chord). Parsed tunes have none.

    >>> from tokenization.abc_parser import parse_abc
    >>> chord_problem(parse_abc("K:C\\n[CE]2 [C-E-]2|[CE]4|").tokens) is None
    True
    >>> chord_problem([Token("note", "", 60, Fraction(1, 8)), Token("chord_end", "]", None, None)])
    ChordProblem(at=1, chord=None, what="']' closes no chord")
    """
    opened: int | None = None
    notes = 0
    for i, tok in enumerate(tokens):
        kind = tok.kind
        if opened is None:
            if kind == "chord_start":
                opened, notes = i, 0
            elif kind == "chord_end":
                return ChordProblem(i, None, "']' closes no chord")
        elif kind == "note":
            notes += 1
        elif kind == "chord_end":
            if not notes:
                return ChordProblem(i, opened, "an empty chord: no note between '[' and ']'")
            opened = None
        elif kind != "tie":
            return ChordProblem(i, opened, _inside_chord(tok))
    if opened is not None:
        return ChordProblem(opened, opened, "'[' never closed: the tune ends inside its chord")
    return None


def tokens_to_body(
    tokens: Iterable[Token],
    *,
    key: Key,
    meter: str | None = None,
    unit: Fraction = Fraction(1, 8),
    bars_per_line: int | None = None,
    meter_changes: Sequence[tuple[int, str | None]] = (),
    tempo_changes: Sequence[tuple[int, str]] = (),
    engravable: bool = False,
    part_changes: Sequence[tuple[int, str]] = (),
    inline_parts: Collection[int] = (),
    parts_after_tempo: Collection[int] = (),
    section_titles: Sequence[tuple[int, str]] = (),
    key_changes: Sequence[tuple[int, Key]] = (),
    program_changes: Sequence[tuple[int, str]] = (),
) -> str:
    """ABC body text of parser tokens whose pitches sound in `key`. ``meter_changes``: ``(token
    index, meter)`` of mid-tune meter changes (`AbcTune.meter_changes`), written as inline
    ``[M:...]`` fields before those tokens (one at the number of tokens, after the last token);
    ``tempo_changes``: ``(token index, Q: text)`` of the body's tempo changes
    (`AbcTune.tempo_changes`), written as inline ``[Q:...]`` fields in the same way;
    ``part_changes``: ``(token index, P: text)`` of the parts the body marks
    (`AbcTune.part_changes`), each written before its token as a ``P:`` line, which ends the
    line before it, or as an inline ``[P:...]`` where ``inline_parts`` holds its place in
    ``part_changes`` (`AbcTune.inline_parts`) or it starts inside a bar; one that starts at a
    bar line after notes between the bar line's two halves (``|``, ``P:B``, ``|:``), as the
    reader reads it back (`SPLIT_AT_PART`); ``parts_after_tempo``: which of ``part_changes``
    are written after the tempo change at their token, which ends the part before
    (`AbcTune.parts_after_tempo`, `part_ending_tempos`): that change is written before the
    part, ``:|[Q:1/4=60]``, ``P:B``, ``|:``; ``section_titles``: ``(token index, T: text)`` of the
    section titles (`AbcTune.section_titles`), each written before its token as a ``T:`` line
    (before the parts there), inside a bar too, whose line it breaks (ABC 2.1 has no inline
    ``[T:]``), and one after a ``:|:`` or ``|:`` that ends notes between the bar line's two
    halves, before the part it opens (``:|``, ``T:Part B``, ``|:``: `SPLIT_BEFORE_TITLE`);
    one past the tokens is a `ValueError`; ``key_changes``: ``(token index, key)`` of mid-tune
    key changes (`AbcTune.key_changes`, keys of at most 7 sharps or flats), written as inline
    ``[K:...]`` fields as the meter changes are, the notes after each spelled in its key;
    ``program_changes``: ``(token index, "MIDI program 20")`` of abc2midi's program changes
    among the notes (`AbcTune.program_changes`), written as inline ``[I:MIDI program 20]``
    fields in the same way, after a tempo change there.
    Without them the body has no ``[M:]``, ``[Q:]``, ``[K:]``, ``[I:]``, ``P:`` or ``T:``.
    Bars are written in beat groups (`beat_group`), which only sets
    how sheet music beams them; dotted pairs as broken rhythm, ``G>A``
    (`BarText.dotted_pairs`). Lines end as `LineBreaks` says: after four bars of the meter or a
    section end, or after every ``bars_per_line`` bar lines when it is given (0: one line).
    ``engravable`` writes a length no single note shows (``c9/4``, `engraved_lengths`) as tied
    notes that do (``c2-c/4``), for engravers such as abcm2ps, which refuse it: the tune then
    reads back with more tokens.
    Chords that cannot be written as ABC that reads back (`chord_problem`: an unclosed ``[``, a
    bar line inside a chord...) are a `ValueError` naming the token.

    >>> from tokenization.abc_parser import parse_abc
    >>> toks = parse_abc("K:F\\nL:1/8\\nB=B B2|_E/2z/2 [CE]3-[CE]|").tokens
    >>> tokens_to_body(toks, key=Key("F", "major"))
    'B=B=B2 | _E/2z/2[C_E]3-[C_E] |'
    >>> toks = parse_abc("M:6/8\\nL:1/8\\nK:G\\nD|GAB (3cBA G|G3/2A/2B c9/4z3/4|").tokens
    >>> tokens_to_body(toks, key=Key("G", "major"), meter="6/8")
    'D | GAB (3cBAG | G>AB c9/4z3/4 |'
    >>> tokens_to_body(toks, key=Key("G", "major"), meter="6/8", engravable=True)[-14:]
    'B c2-c/4z3/4 |'
    >>> tune = parse_abc("M:6/8\\nL:1/8\\nK:G\\nP:A\\nGAB cBA:|\\nP:B\\ndBG [P:C]GBd|]")
    >>> tune.part_changes, tune.inline_parts
    ([(0, 'A'), (7, 'B'), (10, 'C')], [2])
    >>> print(tokens_to_body(tune.tokens, key=tune.key, meter="6/8",
    ...                      part_changes=tune.part_changes, inline_parts=tune.inline_parts))
    P:A
    GAB cBA :|
    P:B
    dBG [P:C]GBd |]
    """
    tokens = tokens if isinstance(tokens, Sequence) else list(tokens)
    problem = chord_problem(tokens)
    if problem is not None:
        raise ValueError(f"cannot write the chords as ABC: {problem.text(lambda i: f'token {i}')}")
    speller = Speller(key)
    done: list[str] = []  # the lines written up to the last P: line, and that line
    out: list[str] = []  # the text after it
    bar = BarText(engravable, pickup=True)
    chord: list[tuple[str, Fraction | None]] | None = None
    prev_kind = ""
    changes, keys, programs = dict(meter_changes), dict(key_changes), dict(program_changes)
    ending = part_ending_tempos(tempo_changes, part_changes, parts_after_tempo)
    end_tempos = {at: inline_field("Q", text) for at, text in changes_at(tempo_changes, ending)}
    tempos = dict(changes_at(tempo_changes, ending, keep=False))
    parts = parts_at(part_changes, inline_parts)
    titles = titles_at(section_titles, len(tokens))
    unended = parts_before_tempo(part_changes, parts_after_tempo)
    group, bar_length, beat = beat_group(meter), full_bar_length(meter), pair_beat(meter)
    lines = LineBreaks(bars_per_line, bar_length)
    index = -1
    for index, tok in enumerate(tokens):
        # parts that start at a bar line ending a bar, and a tempo change at it that ends the
        # bar before a part starting after it: written between its two halves, below
        at_bar = tok.kind == "bar" and bool(bar.pieces) and tok.text in SPLIT_AT_PART
        # (not one after a tempo change ending the part before: inline, before the bar line)
        at_bar_parts = (
            parts.pop(index) if at_bar and index in parts and index not in end_tempos else None
        )
        tempo_split = at_bar and index in tempos and (at_bar_parts or index + 1 in parts)
        if index in titles:
            write_titles(titles[index], bar, out, lines)
        if index in parts:
            parts_here = (parts[index], unended.get(index, 0))
            write_parts_and_tempo(*parts_here, end_tempos.get(index), bar, out, done, lines)
        if index in changes:
            meter = changes[index]
            group, bar_length, beat = beat_group(meter), full_bar_length(meter), pair_beat(meter)
            lines.meter(bar_length)
            bar.field(f"[M:{meter or 'none'}]")
        if index in keys:
            speller.change_key(keys[index])
            bar.field(f"[K:{keys[index].abc}]")
        if index in tempos and not tempo_split:
            bar.field(inline_field("Q", tempos[index]))
        if index in programs:
            bar.field(inline_field("I", programs[index]))
        kind = tok.kind
        if kind == "note":
            if chord is None:
                speller.start_group()
                bar.start_event(group)
            text = speller.note(tok.pitch)
            if chord is None:
                bar.add(text, tok.dur, unit)
                bar.advance(tok.dur)
            else:
                chord.append((text, tok.dur))
        elif kind == "tie":
            speller.tie(all_chord=prev_kind == "chord_end")
            if chord is not None:
                chord.append(("-", None))
            else:
                bar.pieces.append("-")
        elif kind == "rest":
            speller.carry, speller.next_carry = {}, {}
            bar.start_event(group)
            bar.add("z", tok.dur, unit)
            bar.advance(tok.dur)
        elif kind == "bar" and tok.text.startswith("["):
            bar.pieces.append(f" {tok.text} ")  # an ending opened mid-bar: the bar goes on
        elif kind == "bar":
            titled = index + 1 in titles and bool(bar.pieces)  # `:|`, `T:Part B`, `|:`
            out.append(bar.text(bar_length, beat, unit, group))
            sep = "\n" if lines.ends_after(tok.text, bar) else " "
            bar = BarText(engravable, pickup=bar.pickup and not bar.count)
            speller.reset_bar()
            parted = index + 1 in parts and not any(inline for _, inline in parts[index + 1])
            parted = parted and tok.text in SPLIT_BEFORE_PART  # (`|`, `P:B`, `|:` moves it)
            split = SPLIT_BEFORE_PART.get(tok.text) if parted else None
            split = SPLIT_BEFORE_TITLE.get(tok.text, split) if titled else split
            tempo = inline_field("Q", tempos[index]) if tempo_split else ""
            if at_bar_parts is not None:  # `|`, `P:B`, `|:`: the part starts at the `|:`
                first, second = SPLIT_AT_PART[tok.text]
                out.append(f" {first}")
                write_parts(at_bar_parts, None, out, done, lines)
                out.append(f"{tempo}{second} ")  # the tempo change in the part
            elif tempo:  # `|`, `Q:`, `P:B`, `|:`: the tempo change ends the part before
                first, second = SPLIT_AT_PART[tok.text]
                out.append(f" {first}{tempo}")
                write_parts(parts.pop(index + 1), None, out, done, lines)
                out.append(f"{second} ")
            elif split is not None:  # `:|`, `T:Part B`, `P:B`, `|:`: the part starts at `|:`
                out.append(f" {split[0]}")
                if titled:
                    write_titles(titles.pop(index + 1), bar, out, lines)
                if parted:
                    parts_here = (parts.pop(index + 1), unended.get(index + 1, 0))
                    write_parts_and_tempo(
                        *parts_here, end_tempos.get(index + 1), bar, out, done, lines
                    )
                out.append(f"{split[1]} ")
            else:
                # `:|:` is written `:||:`: abc2midi misreads a literal `:|:` before an ending,
                # and every reader (ours included) maps both spellings onto the same bar.
                out.append(" " + (":||:" if tok.text == ":|:" else tok.text) + sep)
        elif kind == "tuplet":
            bar.start_event(group)
            bar.pieces.append(_tuplet_text(tok, meter))
            bar.tuplet_left = _tuplet_members(tok)
            ratio = Fraction(tok.dur)
            bar.ratio = (ratio.numerator, ratio.denominator)
        elif kind == "chord_start":
            speller.start_group()
            bar.start_event(group)
            chord = []
        elif kind == "chord_end":
            _add_chord(bar, chord or [], unit)
            chord = None
        else:
            raise ValueError(f"unknown token kind {kind!r}")
        prev_kind = kind
    if index + 1 in titles:  # a section title, part, meter or tempo change after the last token
        write_titles(titles[index + 1], bar, out, lines)
    if index + 1 in parts:
        parts_here = (parts[index + 1], unended.get(index + 1, 0))
        write_parts_and_tempo(*parts_here, end_tempos.get(index + 1), bar, out, done, lines)
    if index + 1 in changes:  # (`|[M:3/4]` at the end)
        bar.field(f"[M:{changes[index + 1] or 'none'}]")
    if index + 1 in keys:
        bar.field(f"[K:{keys[index + 1].abc}]")
    if index + 1 in tempos:
        bar.field(inline_field("Q", tempos[index + 1]))
    if index + 1 in programs:
        bar.field(inline_field("I", programs[index + 1]))
    out.append(bar.text(bar_length, beat, unit, group))
    flush_written(out, done)
    return "\n".join(line for line in done if line)


def typed_token(tune: AbcTune, index: int) -> str:
    """Token ``index`` of ``tune`` alone as ABC, as a message names what the user typed: spelled
    in the key in force there (`AbcTune.key_at`: after a ``[K:D]``, a C sharp is ``c``, not the
    header's ``^c``) and the accidentals written earlier in its bar (`_bar_accidentals`: after
    ``^c``, a C sharp is ``c``, a C natural ``=c``), its length in the unit in force there
    (`AbcTune.unit_at`: after an ``[L:1/16]``, a sixteenth is ``c``, not ``c/2``).

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("L:1/8\\nK:G\\nc2|[K:D]c2|^G G =G|[L:1/16]G4|")
    >>> [typed_token(tune, i) for i in (0, 2, 4, 5, 6, 8)]
    ['c2', 'c2', '^G', 'G', '=G', 'G4']
    """
    tok = tune.tokens[index]
    key = tune.key_at(index)
    text = tokens_to_body([tok], key=key, unit=tune.unit_at(index))
    if tok.kind != "note" or tok.pitch is None:
        return text
    carried = _bar_accidentals(tune, index)
    letter, alt = Speller(key).spell(tok.pitch % 12)
    place = _accidental_place(letter, tok.pitch - alt, _scope_at(tune, index))
    bare = key.accidentals[letter] if place is None else carried.get(place, key.accidentals[letter])
    return ("" if alt == bare else ACC_TEXT[alt]) + text.lstrip("^_=")


def _scope_at(tune: AbcTune, index: int) -> str:
    """How far a bar's accidental reaches at token ``index`` of ``tune`` (``pitch``, the ABC
    2.1 default, ``octave`` or ``not``): the last ``propagate-accidentals`` of the body before
    it (`AbcTune.scope_changes`), else its header's ``I:`` fields' (`propagate_accidentals`)."""
    header = propagate_accidentals(tune.fields.get("I", []))[0]
    return in_force_at(tune.scope_changes, index, header)


def _accidental_place(letter: str, natural: int, scope: str) -> str | int | None:
    """What an accidental on the note ``letter`` (its ``natural`` pitch) carries to in the rest
    of its bar under ``scope``: its letter in every octave, its natural pitch, or nothing."""
    places: dict[str, str | int] = {"pitch": letter, "octave": natural}
    return places.get(scope)


def _bar_accidentals(tune: AbcTune, index: int) -> dict[str | int, int]:
    """The accidentals written before token ``index`` in its bar (since its bar line or the
    key change before it, which ends a bar's accidentals), by `_accidental_place`: a note
    spelled otherwise than the key and the bar so far read it was written with one. A
    ``propagate-accidentals`` change in the bar keeps those before it reaching where they
    reached (`rescoped`), as the reader reads them.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("K:C\\n^c c [I:propagate-accidentals not] c|")
    >>> _bar_accidentals(tune, 1), _bar_accidentals(tune, 2)
    ({'C': 1}, {})
    """
    bar = next((i + 1 for i in range(index - 1, -1, -1) if tune.tokens[i].kind == "bar"), 0)
    start = max([bar] + [at for at, _ in tune.key_changes if at <= index])
    key, scope, carried = tune.key_at(index), _scope_at(tune, start), dict[str | int, int]()
    speller = Speller(key)
    changes = [(at, new) for at, new in tune.scope_changes if start < at <= index]
    for i in range(start, index):
        for at, new in changes:  # in the order the reader applied them
            if at == i:
                carried, scope = rescoped(carried, scope, new), new
        tok = tune.tokens[i]
        if tok.kind != "note" or tok.pitch is None:
            continue
        letter, alt = speller.spell(tok.pitch % 12)
        place = _accidental_place(letter, tok.pitch - alt, scope)
        if place is not None and alt != carried.get(place, key.accidentals[letter]):
            carried[place] = alt
    for at, new in changes:  # those just before token `index`
        if at == index:
            carried, scope = rescoped(carried, scope, new), new
    return carried


def _tuplet_members(tok: Token) -> int:
    """How many notes, rests or chords the tuplet ``(p:q:r`` spans (r, p when not given)."""
    parts = tok.text[1:].split(":")
    return int(parts[2]) if len(parts) == 3 and parts[2] else int(parts[0])


def _add_chord(bar: BarText, notes: list[tuple[str, Fraction | None]], unit: Fraction) -> None:
    """Write a chord of ``(text, length)`` notes (``("-", None)`` for an inner tie) to
    ``bar``: one length after the ``]`` when its notes share it (a chord without inner ties is
    then one event, paired and engraved as a note is), else each note's after it."""
    durs = {d for _, d in notes if d is not None}
    inner = "".join(text for text, _ in notes)
    first = next((d for _, d in notes if d is not None), Fraction(0))
    if len(durs) == 1 and "-" not in inner:
        bar.add(f"[{inner}]", first, unit)
    elif len(durs) == 1:
        bar.pieces.append(f"[{inner}]{length_text(first, unit)}")
    else:
        text = "".join(text + (length_text(d, unit) if d is not None else "") for text, d in notes)
        bar.pieces.append(f"[{text}]")
    bar.advance(first)


def _tuplet_text(tok: Token, meter: str | None) -> str:
    """A tuplet's ABC: ``(p`` where every reader takes its q as the default, else ``(p:q:r``.

    >>> tok = Token("tuplet", "(5", None, Fraction(2, 5))
    >>> _tuplet_text(tok, "4/4"), _tuplet_text(tok, "3/4"), _tuplet_text(tok, "6/8")
    ('(5', '(5:2:5', '(5:2:5')
    """
    parts = tok.text[1:].split(":")
    p = int(parts[0])
    assert tok.dur is not None  # a tuplet's token carries its ratio q/p
    q = tok.dur * p
    r = int(parts[2]) if len(parts) == 3 and parts[2] else p
    if q.denominator != 1:
        raise ValueError(f"tuplet {tok} has a non-integer q")
    if q == default_tuplet_q(p, meter) and r == p and not _abc2midi_q_differs(p, meter):
        return f"({p}"
    return f"({p}:{q.numerator}:{r}"


def _abc2midi_q_differs(p: int, meter: str | None) -> bool:
    """Whether abc2midi (4.84) takes another default q for ``(p`` in ``meter`` than ABC 2.1
    (4.13) does: it counts ``(5``, ``(7`` and ``(9`` in the time of 3 whenever the meter's
    numerator is a multiple of 3, 3/4, 3/8, 3/2 and 3/16 included, where ABC 2.1 (our reader,
    music21) counts them in the time of 2 (compound meters only, 6/8, 9/8...); written
    ``(5:2:5`` there, as `:|:` is written ``:||:``, every reader plays the same length.

    >>> _abc2midi_q_differs(5, "3/4"), _abc2midi_q_differs(5, "6/8"), _abc2midi_q_differs(3, "3/4")
    (True, False, False)
    """
    if p not in (5, 7, 9):
        return False
    numbers = meter_numbers(meter)
    return numbers is not None and numbers[0] == 3


def write_abc(
    tokens: Iterable[Token],
    *,
    key: Key,
    meter: str | None,
    unit: Fraction = Fraction(1, 8),
    fields: Mapping[str, str | list[str]] | None = None,
    x: int = 1,
    title: str | Sequence[str] = "",
    rhythm: str | Sequence[str] | None = None,
    bars_per_line: int | None = None,
    meter_changes: Sequence[tuple[int, str | None]] = (),
    tempo_changes: Sequence[tuple[int, str]] = (),
    engravable: bool = False,
    part_changes: Sequence[tuple[int, str]] = (),
    inline_parts: Collection[int] = (),
    parts_after_tempo: Collection[int] = (),
    section_titles: Sequence[tuple[int, str]] = (),
    key_changes: Sequence[tuple[int, Key]] = (),
    program_changes: Sequence[tuple[int, str]] = (),
) -> str:
    """A complete ABC tune: headers X, T, (other fields), R, M, L, K, then the body (with the
    mid-tune ``meter_changes``, ``key_changes``, ``tempo_changes`` and ``program_changes``, the
    ``part_changes`` (with
    ``inline_parts`` and ``parts_after_tempo``) and the ``section_titles`` of `tokens_to_body`,
    and its layout: four bars
    of the meter a line unless ``bars_per_line`` is given, dotted pairs as ``G>A``, and with
    ``engravable`` tied notes for lengths no single note shows). The header's tempo is a ``Q``
    of ``fields``, and the order its parts are played in (``P:AABB``) a ``P``.

    ``title`` is the tune's title, or a list of its titles, each written as a ``T:`` in order:
    the first is the tune's name, the others its alternative names (``T:The Silver Spear``,
    ``T:An Sleá Airgid``). ``rhythm`` is one ``R:``, none when None or empty, or a list whose
    every value is written, an empty one too (``R:``), as a tune read holds them; an empty
    ``title`` list is written as one empty ``T:`` (ABC 2.1 wants a title after the number), or
    as none where a section title stands before the first note (`_title_before_notes`): the
    reader takes that ``T:`` as the title of a tune whose header has none, as the tune was read
    (abc2midi and music21 take the first ``T:`` after ``K:``).
    ``section_titles`` are written in the body, ``T:Part B`` before the B part, never as header
    titles, which would make them the tune's alternative names.

    >>> from tokenization.abc_parser import Token
    >>> print(write_abc([Token("note", "", 66, Fraction(1, 4))], key=Key("D", "major"),
    ...                 meter="6/8", title="Demo", rhythm="jig"), end="")
    X:1
    T:Demo
    R:jig
    M:6/8
    L:1/8
    K:D
    F2
    """
    tokens = list(tokens)
    titles = [title] if isinstance(title, str) else list(title)
    if not titles and not _title_before_notes(tokens, section_titles):
        titles = [""]
    lines = [f"X:{x}", *(f"T:{field_text(value)}" for value in titles)]
    for letter, values in (fields or {}).items():
        if letter in OWN_FIELDS:
            continue
        for value in [values] if isinstance(values, str) else values:
            lines.append(f"{letter}:{field_text(value)}")
    if isinstance(rhythm, str):
        rhythm = [rhythm] if rhythm else []
    lines += [f"R:{field_text(value)}" for value in rhythm or ()]
    lines.append(f"M:{meter or 'none'}")
    lines.append(f"L:{unit.numerator}/{unit.denominator}")
    written = _written_key(key)
    lines.append(f"K:{written.abc}")
    changed_keys = []
    for at, changed in key_changes:  # (a loop: the warning names write_abc's caller)
        changed_keys.append((at, _written_key(changed)))
    body = tokens_to_body(
        tokens,
        key=written,
        meter=meter,
        unit=unit,
        bars_per_line=bars_per_line,
        meter_changes=meter_changes,
        tempo_changes=tempo_changes,
        engravable=engravable,
        part_changes=part_changes,
        inline_parts=inline_parts,
        parts_after_tempo=parts_after_tempo,
        section_titles=section_titles,
        key_changes=changed_keys,
        program_changes=program_changes,
    )
    return "\n".join(lines) + "\n" + body + "\n"


def _written_key(key: Key) -> Key:
    """``key`` as a ``K:`` writes it: `standard_key`, with a warning when that respells it."""
    written = standard_key(key)
    if written != key:
        warn(  # kept for check's thread (`kept_warnings`), else a Python warning
            f"{key.name} needs {abs(key.signature)} {'sharps' if key.signature > 0 else 'flats'}, "
            f"more than an ABC key signature holds: written in {written.name}, the same notes",
            stacklevel=3,
        )
    return written


def _title_before_notes(tokens: Sequence[Token], section_titles: Sequence[tuple[int, str]]) -> bool:
    """Whether one of the ``section_titles`` stands before the first note of ``tokens`` (bar
    lines and rests before it notwithstanding): the title of a tune whose header has no ``T:``,
    as the reader takes it (`_section_title`). The tokens hold no grace notes, after which the
    reader takes no title: a caller writing such a tune, untitled, gives ``title=[""]``.

    >>> from tokenization.abc_parser import parse_abc
    >>> tune = parse_abc("X:1\\nK:G\\n|: z [T:A] GA|\\n[T:B] Bc|")
    >>> _title_before_notes(tune.tokens, tune.section_titles), tune.section_titles
    (True, [(2, 'A'), (5, 'B')])
    >>> _title_before_notes(tune.tokens, tune.section_titles[1:])
    False
    """
    first = next((n for n, token in enumerate(tokens) if token.kind == "note"), len(tokens))
    return any(at <= first for at, _ in section_titles)
