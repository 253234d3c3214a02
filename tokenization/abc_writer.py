"""ABC writer: parser tokens (sounding MIDI pitches) -> ABC text in any key, key-aware spelling."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

from .abc_parser import Token, default_tuplet_q
from .keys import LETTER_PC, Key, standard_key

__all__ = ["length_text", "tokens_to_body", "write_abc"]

_ACC_TEXT = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}
_LETTERS = "CDEFGAB"
_OWN_HEADERS = set("XTRMLK")


def length_text(dur: Fraction, unit: Fraction) -> str:
    """ABC length suffix of a whole-note duration relative to `unit`.

    >>> [length_text(Fraction(d), Fraction(1, 8)) for d in ("1/8", "1/4", "1/16", "3/16", "3/8")]
    ['', '2', '/2', '3/2', '3']
    """
    ratio = Fraction(dur) / unit
    if ratio <= 0:
        raise ValueError(f"length must be positive, got {dur}")
    if ratio == 1:
        return ""
    if ratio.denominator == 1:
        return str(ratio.numerator)
    if ratio.numerator == 1:
        return f"/{ratio.denominator}"
    return f"{ratio.numerator}/{ratio.denominator}"


class _Speller:
    """Key-aware spelling with bar-scoped accidental state (mirrors the parser's rules)."""

    def __init__(self, key: Key) -> None:
        self.sig = key.accidentals
        self.prefer_flats = key.signature < 0
        self.reset_bar()
        self.carry: dict[int, int] = {}  # natural pitch -> pitch carried by a tie
        self.next_carry: dict[int, int] = {}
        self.group: list[tuple[int, int]] = []  # (natural, pitch) of the last note or chord

    def start_group(self) -> None:
        """A new note or chord begins: ties written before it now apply."""
        self.carry, self.next_carry, self.group = self.next_carry, {}, []

    def tie(self, all_chord: bool) -> None:
        """A tie after the last note (or after the whole last chord)."""
        for nat, pitch in self.group if all_chord else self.group[-1:]:
            self.next_carry[nat] = pitch

    def reset_bar(self) -> None:
        self.state: dict[int, int] = {}  # natural pitch -> alteration in force in this bar
        self.touched: set[str] = set()  # letters that had an accidental in this bar

    def spell(self, pc: int) -> tuple[str, int]:
        """Letter and alteration for a pitch class: in the key if possible, else chromatic."""
        for letter in _LETTERS:
            if (LETTER_PC[letter] + self.sig[letter]) % 12 == pc:
                return letter, self.sig[letter]
        for letter in _LETTERS:  # a natural sign on a letter the key alters
            if LETTER_PC[letter] == pc:
                return letter, 0
        flat = self.prefer_flats or (pc == 10 and not any(self.sig.values()))
        alt = -1 if flat else 1
        letter = next(x for x in _LETTERS if (LETTER_PC[x] + alt) % 12 == pc)
        return letter, alt

    def note(self, pitch: int) -> str:
        """ABC text of a note (without its length); updates the bar state."""
        letter, alt = self.spell(pitch % 12)
        nat = pitch - alt
        carried = self.carry.get(nat)
        if carried is not None:
            bare = carried
        else:
            bare = nat + self.state.get(nat, self.sig[letter])
        explicit = bare != pitch or letter in self.touched
        if carried is not None and alt != self.sig[letter]:
            explicit = True  # readers differ on ties across bars: say it
        acc = ""
        if explicit:
            acc = _ACC_TEXT[alt]
            self.state[nat] = alt
            self.touched.add(letter)
        octave = nat // 12 - 5
        name = letter.lower() + "'" * (octave - 1) if octave >= 1 else letter + "," * -octave
        self.group.append((nat, pitch))
        return acc + name


def tokens_to_body(
    tokens: Iterable[Token],
    *,
    key: Key,
    meter: str | None = None,
    unit: Fraction = Fraction(1, 8),
    bars_per_line: int = 8,
    meter_changes: Sequence[tuple[int, str | None]] = (),
) -> str:
    """ABC body text of parser tokens whose pitches sound in `key`. ``meter_changes``:
    ``(token index, meter)`` of mid-tune meter changes (`AbcTune.meter_changes`), written as
    inline ``[M:...]`` fields before those tokens.

    >>> from tokenization.abc_parser import parse_abc
    >>> toks = parse_abc("K:F\\nL:1/8\\nB=B B2|_E/2z/2 [CE]3-[CE]|").tokens
    >>> tokens_to_body(toks, key=Key("F", "major"))
    'B=B=B2 | _E/2z/2[C_E]3-[C_E] |'
    """
    speller = _Speller(key)
    out: list[str] = []
    bars = 0
    chord: list[tuple[str, Fraction | None]] | None = None
    prev_kind = ""
    changes = dict(meter_changes)
    for index, tok in enumerate(tokens):
        if index in changes:
            meter = changes[index]
            out.append(f"[M:{meter or 'none'}]")
        kind = tok.kind
        if kind == "note":
            if chord is None:
                speller.start_group()
            text = speller.note(tok.pitch)
            if chord is None:
                out.append(text + length_text(tok.dur, unit))
            else:
                chord.append((text, tok.dur))
        elif kind == "tie":
            speller.tie(all_chord=prev_kind == "chord_end")
            if chord is not None:
                chord.append(("-", None))
            else:
                out.append("-")
        elif kind == "rest":
            speller.carry, speller.next_carry = {}, {}
            out.append("z" + length_text(tok.dur, unit))
        elif kind == "bar":
            speller.reset_bar()
            bars += 1
            sep = "\n" if bars_per_line and bars % bars_per_line == 0 else " "
            # `:|:` is written `:||:`: abc2midi misreads a literal `:|:` before an ending, and
            # every reader (ours included) maps both spellings onto the same bar.
            out.append(" " + (":||:" if tok.text == ":|:" else tok.text) + sep)
        elif kind == "tuplet":
            out.append(_tuplet_text(tok, meter))
        elif kind == "chord_start":
            speller.start_group()
            chord = []
        elif kind == "chord_end":
            out.append(_chord_text(chord or [], unit))
            chord = None
        else:
            raise ValueError(f"unknown token kind {kind!r}")
        prev_kind = kind
    return "".join(out).strip()


def _chord_text(notes: list[tuple[str, Fraction | None]], unit: Fraction) -> str:
    durs = {d for _, d in notes if d is not None}
    if len(durs) == 1:
        inner = "".join(text for text, _ in notes)
        return f"[{inner}]{length_text(durs.pop(), unit)}"
    inner = "".join(text + (length_text(d, unit) if d is not None else "") for text, d in notes)
    return f"[{inner}]"


def _tuplet_text(tok: Token, meter: str | None) -> str:
    parts = tok.text[1:].split(":")
    p = int(parts[0])
    q = tok.dur * p
    r = int(parts[2]) if len(parts) == 3 and parts[2] else p
    if q.denominator != 1:
        raise ValueError(f"tuplet {tok} has a non-integer q")
    if q == default_tuplet_q(p, meter) and r == p:
        return f"({p}"
    return f"({p}:{q.numerator}:{r}"


def _field_text(value: str) -> str:
    """A header field's value as ABC text: ``%`` escaped (it starts a comment, ABC 2.1 §2.2.5:
    ``T:100% Reel`` reads as ``100``), line breaks made spaces (a field is one line).

    >>> _field_text("The 100% Reel")
    'The 100\\\\% Reel'
    """
    return " ".join(str(value).splitlines()).replace("%", "\\%")


def write_abc(
    tokens: Iterable[Token],
    *,
    key: Key,
    meter: str | None,
    unit: Fraction = Fraction(1, 8),
    fields: Mapping[str, str | list[str]] | None = None,
    x: int = 1,
    title: str = "",
    rhythm: str | None = None,
    bars_per_line: int = 8,
    meter_changes: Sequence[tuple[int, str | None]] = (),
) -> str:
    """A complete ABC tune: headers X, T, (other fields), R, M, L, K, then the body (with the
    mid-tune ``meter_changes`` of `tokens_to_body`).

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
    lines = [f"X:{x}", f"T:{_field_text(title)}"]
    for letter, values in (fields or {}).items():
        if letter in _OWN_HEADERS:
            continue
        for value in [values] if isinstance(values, str) else values:
            lines.append(f"{letter}:{_field_text(value)}")
    if rhythm:
        lines.append(f"R:{_field_text(rhythm)}")
    lines.append(f"M:{meter or 'none'}")
    lines.append(f"L:{unit.numerator}/{unit.denominator}")
    written = standard_key(key)
    if written != key:
        warnings.warn(
            f"{key.name} needs {abs(key.signature)} {'sharps' if key.signature > 0 else 'flats'}, "
            f"more than an ABC key signature holds: written in {written.name}, the same notes",
            stacklevel=2,
        )
    lines.append(f"K:{written.abc}")
    body = tokens_to_body(
        tokens,
        key=written,
        meter=meter,
        unit=unit,
        bars_per_line=bars_per_line,
        meter_changes=meter_changes,
    )
    return "\n".join(lines) + "\n" + body + "\n"
