"""ABC header and field handling: `M:`/`L:`/`K:`/`V:` values, unit default, tunebook split."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction

from .keys import parse_key_field

__all__ = ["default_unit", "split_tunebook"]

_FIELD_RE = re.compile(r"([A-Za-z+]):(.*)")
_MUSIC_NOT_FIELD_RE = re.compile(r"[A-Ga-g]:[|:]")
_VOICE_RE = re.compile(r"\[V:\s*([^\]\s]*)[^\]]*\]")
_X_RE = re.compile(r"X:")
_CORPUS_KEY_RE = re.compile(r"\s*C\s+(major|minor|dorian|mixolydian)\s*", re.I)


def _parse_meter(value: str) -> str | None:
    """`4/4`, `C` -> `4/4`, `C|` -> `2/2`, `none` -> None, `2+3/8` -> `5/8`."""
    v = value.replace(" ", "")
    if v in ("", "none", "None", "NONE"):
        return None
    if v == "C":
        return "4/4"
    if v == "C|":
        return "2/2"
    m = re.fullmatch(r"\(?(\d+(?:\+\d+)*)\)?/(\d+)", v)
    if m is None:
        raise ValueError(f"cannot read meter {value.strip()!r}")
    num = sum(int(p) for p in m[1].split("+"))
    if num == 0 or int(m[2]) == 0:
        raise ValueError(f"zero meter {value.strip()!r}")
    return f"{num}/{int(m[2])}"


def _parse_unit(value: str) -> Fraction:
    m = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(\d+))?\s*", value)
    if m is None or int(m[1]) == 0 or (m[2] is not None and int(m[2]) == 0):
        raise ValueError(f"cannot read unit length {value.strip()!r}")
    return Fraction(int(m[1]), int(m[2] or 1))


def _strip_comment(line: str) -> str:
    i = line.find("%")
    return line if i < 0 else line[:i]


def default_unit(meter: str | None) -> Fraction:
    """Unit note length when a tune has no `L:` field: 1/16 below 3/4, else 1/8 (ABC 2.1).

    >>> default_unit("2/4"), default_unit("3/4"), default_unit(None)
    (Fraction(1, 16), Fraction(1, 8), Fraction(1, 8))
    """
    short = meter is not None and Fraction(meter) < Fraction(3, 4)
    return Fraction(1, 16) if short else Fraction(1, 8)


class _HeaderFields:
    """Header and field handling of `_TuneParser` (the parser subclasses this).

    The parser supplies the state these methods read and write (`fields`, `key`, `meter`,
    `voices`...), `error` for positioned errors, `_set_unit` and `_lex`.
    """

    def _parse_header(self, lines: list[str]) -> int:
        seen_x = False  # only the first X: gives the tune number
        for i, raw in enumerate(lines):
            self.lineno, self.col = self.line_offset + i + 1, 1
            line = _strip_comment(raw)
            if not line.strip():
                continue
            m = _FIELD_RE.match(line)
            if m is None or _MUSIC_NOT_FIELD_RE.match(line):
                self.warnings.append("no K: field; C major assumed")
                return i
            letter, value = m[1], m[2].strip()
            self.col = m.start(2) + 1 + (len(m[2]) - len(m[2].lstrip()))
            if letter == "X" and not seen_x:
                seen_x, self.x_line = True, self.lineno
                self.x = int(value) if value.isdigit() else None
            if letter == "+" and self.fields:
                last = list(self.fields)[-1]
                self.fields[last][-1] += " " + value
                continue
            self.fields.setdefault(letter, []).append(value)
            self._header_field(letter, value)
            if letter == "K":
                return i + 1
        return len(lines)

    def _header_field(self, letter: str, value: str) -> None:
        try:
            if letter == "M":
                self.meter = _parse_meter(value)
            elif letter == "L":
                self.unit = _parse_unit(value)
            elif letter == "K":
                self.key_text = value
                self._set_key(value, header=True)
            elif letter == "V":
                self._declare_voice(value)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def _set_key(self, value: str, header: bool) -> None:
        spec = parse_key_field(value)
        self.warnings.extend(spec.warnings)
        is_corpus_key = _CORPUS_KEY_RE.fullmatch(value.split("%")[0]) is not None
        if header:
            self.key = spec.key
            if self.corpus_format == "corpus" and is_corpus_key:
                self.key = spec.key.white
                self.keysig = self.key.accidentals
                return
        else:
            self.key_changed = True
            self.warnings.append(f"mid-tune key change to {spec.key.name}")
        self.keysig = spec.accidentals

    def _declare_voice(self, value: str) -> None:
        vid = value.split()[0] if value.split() else ""
        if vid not in self.voices:
            self.voices.append(vid)
        if self.voice is None:
            self.voice = vid

    def _switch_voice(self, value: str) -> None:
        vid = value.split()[0] if value.split() else ""
        if vid not in self.voices:
            self.voices.append(vid)
        if self.voice is None:
            self.voice = vid
        self.skipping = vid != self.voice

    def _voice_segments(self, line: str) -> None:
        pos = 0
        for m in _VOICE_RE.finditer(line):
            if not self.skipping:
                self._lex(line, pos, m.start())
            self.col = m.start() + 1
            self._switch_voice(m[1])
            pos = m.end()
        if not self.skipping:
            self._lex(line, pos, len(line))

    def _body_field(self, letter: str, value: str, column: int) -> None:
        self.col = column
        if letter == "V":
            self._switch_voice(value.strip())
            return
        if self.skipping:
            return
        self._inline_field(letter, value)

    def _inline_field(self, letter: str, value: str) -> None:
        try:
            if letter == "K":
                self._set_key(value, header=False)
            elif letter == "L":
                self._set_unit(_parse_unit(value))
            elif letter == "M":
                meter = _parse_meter(value)
                if meter != self.meter:
                    self.warnings.append(f"mid-tune meter change to {meter} ignored")
                    self._change_meter(meter)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def _change_meter(self, meter: str | None) -> None:
        """Record a meter change (a later change at the same token replaces it)."""
        changes, at = self.meter_changes, len(self.tokens)
        if changes and changes[-1][0] == at:
            changes.pop()
        changes.append((at, meter))
        self.meter = meter

    def _looks_like_corpus(self) -> bool:
        return (
            self.n_bare == 0
            and self.n_notes > 0
            and not self.used_flat
            and not self.key_changed
            and _CORPUS_KEY_RE.fullmatch(self.key_text.split("%")[0]) is not None
        )


def split_tunebook(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line offset, text)`` of each tune of a tunebook (see `parse_tunebook`).

    >>> [start for start, _ in split_tunebook("X:1\\nK:G\\nGAB|\\n\\nX:2\\nK:G\\nG<<A|")]
    [0, 4]
    """
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _X_RE.match(line)]
    if not starts:
        starts = _blocks_with_key(lines)
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        yield start, "\n".join(lines[start:stop])


def _blocks_with_key(lines: list[str]) -> list[int]:
    starts, block_start, has_key = [], None, False
    for i, line in enumerate([*lines, ""]):
        if not line.strip():
            if block_start is not None and has_key:
                starts.append(block_start)
            block_start, has_key = None, False
        else:
            block_start = i if block_start is None else block_start
            has_key = has_key or line.startswith("K:")
    return starts
