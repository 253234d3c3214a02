"""Keys (tonic + mode), ABC `K:` parsing, transposition and white-key normalisation."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .abc_parser import AbcTune, Token

__all__ = [
    "PLAYING_CENTRE",
    "output_shift",
    "mode_name",
    "MODES",
    "Key",
    "KeySpec",
    "check_key",
    "clef_octave",
    "moved_key",
    "normalise_shift",
    "first_out_of_midi",
    "normalise_tune",
    "parse_key",
    "parse_key_field",
    "standard_key",
    "transpose_option",
    "transpose_shift",
    "transpose_tokens",
    "octave_option",
]

#: Modes in canonical spelling, with their offset on the circle of fifths relative to major.
MODES: dict[str, int] = {
    "major": 0,
    "minor": -3,
    "dorian": -2,
    "mixolydian": -1,
    "phrygian": -4,
    "lydian": 1,
    "locrian": -5,
}
_WHITE_TONIC = {
    "major": "C",
    "minor": "A",
    "dorian": "D",
    "mixolydian": "G",
    "phrygian": "E",
    "lydian": "F",
    "locrian": "B",
}
_ABC_SUFFIX = {
    "major": "",
    "minor": "m",
    "dorian": "dor",
    "mixolydian": "mix",
    "phrygian": "phr",
    "lydian": "lyd",
    "locrian": "loc",
}
# ABC 2.1: only the first three letters of a mode name count, case-insensitively.
_MODE_PREFIX = {
    "": "major",
    "maj": "major",
    "ion": "major",
    "m": "minor",
    "min": "minor",
    "aeo": "minor",
    "dor": "dorian",
    "mix": "mixolydian",
    "phr": "phrygian",
    "lyd": "lydian",
    "loc": "locrian",
}
LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_LETTER_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}
_SHARP_ORDER = "FCGDAEB"
_ACC_VALUE = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}

_KEY_RE = re.compile(r"(?P<tonic>[A-Ga-g])(?P<acc>[#b]?)\s*(?P<mode>[A-Za-z]*)")
_EXTRA_RE = re.compile(r"(\^\^|\^|__|_|=)([A-Ga-g])")
#: what an error about a key written as ABC does not spell it (a German name) says of ABC's keys
_KEY_HINT = "(ABC keys are A-G with # or b, as Eb or F#)"


@dataclass(frozen=True)
class Key:
    """A key: tonic spelled like `C`, `F#`, `Bb`, and one of the seven modes.

    >>> k = Key("E", "dorian")
    >>> k.name, k.abc, k.signature, k.white_tonic
    ('E dorian', 'Edor', 2, 'D')
    """

    tonic: str
    mode: str

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}")
        if not re.fullmatch(r"[A-G][#b]?", self.tonic):
            raise ValueError(f"bad tonic {self.tonic!r}")

    @property
    def tonic_pc(self) -> int:
        """Pitch class of the tonic (C = 0)."""
        return (LETTER_PC[self.tonic[0]] + _tonic_alter(self.tonic)) % 12

    @property
    def signature(self) -> int:
        """Number of sharps (> 0) or flats (< 0) of the key signature."""
        return _LETTER_FIFTHS[self.tonic[0]] + 7 * _tonic_alter(self.tonic) + MODES[self.mode]

    @property
    def accidentals(self) -> dict[str, int]:
        """Alteration of every letter (`C`..`B`) under the key signature: `{"F": 1, ...}`."""
        sig = self.signature
        alter = dict.fromkeys("CDEFGAB", 0)
        order = _SHARP_ORDER if sig > 0 else _SHARP_ORDER[::-1]
        step = 1 if sig > 0 else -1
        for i in range(abs(sig)):
            alter[order[i % 7]] += step
        return alter

    @property
    def white_tonic(self) -> str:
        """Tonic of this mode on the white keys: major C, minor A, dorian D, mixolydian G..."""
        return _WHITE_TONIC[self.mode]

    @property
    def white(self) -> Key:
        """The same mode on the white keys (empty key signature)."""
        return Key(self.white_tonic, self.mode)

    @property
    def name(self) -> str:
        """Readable name, e.g. `"D dorian"`."""
        return f"{self.tonic} {self.mode}"

    @property
    def abc(self) -> str:
        """ABC `K:` value, e.g. `"Ddor"`, `"Am"`, `"G"`."""
        return self.tonic + _ABC_SUFFIX[self.mode]


@dataclass(frozen=True)
class KeySpec:
    """A parsed `K:` field: the key, the letter alterations to apply, and any warnings."""

    key: Key
    accidentals: dict[str, int]
    warnings: tuple[str, ...] = ()
    #: False when the field names no key, only clef options (``K:bass``, ``[K:clef=bass]``):
    #: a mid-tune one keeps the key in force (``key`` is then C major, the header default)
    has_tonic: bool = True
    #: ``octave=N``: the notes that follow sound N octaves from where they are written
    #: (ABC 2.1 §4.6); None when the field does not say
    octave: int | None = None


def _tonic_alter(tonic: str) -> int:
    return {"#": 1, "b": -1}.get(tonic[1:], 0)


def mode_name(word: str) -> str:
    """The mode a word names, as ABC reads it (case-free, 3 letters enough; ``m`` is minor).

    >>> mode_name("Aeolian"), mode_name("ion"), mode_name("Mix")
    ('minor', 'major', 'mixolydian')
    """
    low = word.lower()
    if word == "M":  # `K:EM` is read as minor by abc2midi as well; keep the ABC rule (case-free)
        low = "m"
    if low in _MODE_PREFIX:
        return _MODE_PREFIX[low]
    prefix = low[:3]
    if len(low) >= 3 and prefix in _MODE_PREFIX:
        return _MODE_PREFIX[prefix]
    raise ValueError(f"unknown mode {_quote(word)}")


#: clef names in a `K:` value without ``clef=`` (ABC 2.1 §4.6: a name, an optional staff line,
#: an optional octave ``+8`` / ``-8``, or abcm2ps's ``treble8``), at the start or after a blank
#: (`none` only after one), and octave marks on their own after a blank (``-8va``, ``+8``)
_CLEF_RE = re.compile(
    r"(?:^|(?<=\s))(?:(?:treble|bass|alto|tenor|baritone|perc|(?<=\s)none)[1-5]?"
    r"(?:[+-]?8(?:va|vb)?)?|(?<=\s)[+-]8(?:va|vb)?)(?=\s|$)"
)


def parse_key_field(text: str) -> KeySpec:
    """Parse a whole `K:` value, with extra accidentals (`K:D ^g`, `K:D exp ^f`) and clefs.

    `none`, `HP` and `Hp` give sensible defaults and a warning; a German key name (``K:Es``,
    ``K:H``) is a `ValueError` that says how ABC spells keys.

    >>> spec = parse_key_field("Dmix =c")
    >>> spec.key.name, spec.accidentals["F"], spec.accidentals["C"]
    ('D mixolydian', 1, 0)
    """
    value = text.split("%", 1)[0].strip()
    octave = octave_option(value, text)
    value = re.sub(r"\b(clef|middle|transpose|octave|stafflines)\s*=\s*\S+", "", value).strip()
    value = _CLEF_RE.sub("", value).strip()
    if not value or value.lower() == "none":
        key = Key("C", "major")
        warn = () if not value else ("K:none read as C major",)
        return KeySpec(key, key.accidentals, warn, has_tonic=bool(value), octave=octave)
    if value in ("HP", "Hp"):
        key = Key("A", "mixolydian")
        return KeySpec(key, key.accidentals, (f"K:{value} read as A mixolydian",), octave=octave)
    if re.match(r"(?i)exp\b", value):  # `K:exp _b _e`: the accidentals alone, no tonic
        spec = parse_key_field("C " + value)
        warnings = (*spec.warnings, "K:exp with no tonic: C")
        return KeySpec(spec.key, spec.accidentals, warnings, octave=octave)
    m = _KEY_RE.match(value)
    if m is None:  # `K:H`, German for B, as `K:Es` (`_mode_of_key`) is for E flat: the hint too
        hint = f" {_KEY_HINT}" if value[:1] in ("H", "h") else ""
        raise ValueError(f"cannot read key {_quote(text)}{hint}")
    tonic = m["tonic"].upper() + m["acc"]
    mode, end = m["mode"], m.end()
    if mode.lower() == "exp":  # `K:D exp ^f`: no mode word, explicit accidentals follow
        mode, end = "", m.start("mode")
    key = Key(tonic, _mode_of_key(m, mode))
    rest = value[end:].strip()
    explicit = rest.lower().startswith("exp")
    if explicit:
        rest = rest[3:]
    extras = _EXTRA_RE.findall(rest)
    if _EXTRA_RE.sub("", rest).strip():
        raise ValueError(f"cannot read key {_quote(text)}")
    alter = dict.fromkeys("CDEFGAB", 0) if explicit else key.accidentals
    for acc, letter in extras:
        alter[letter.upper()] = _ACC_VALUE[acc]
    return KeySpec(key, alter, octave=octave)


def _mode_of_key(m: re.Match, mode: str) -> str:
    """The mode the word ``mode`` of a key ``m`` (`_KEY_RE`) names (`mode_name`). Letters
    written onto the tonic that make no mode are no mode but a key ABC does not spell, as
    written: ``K:Es`` and ``K:Fis`` (German names, Essen's) are E flat and F sharp to a German,
    and abc2midi and abcm2ps refuse them too; a mode after a space stays an unknown mode. An
    ``n`` written onto the tonic (O'Neill's ``K:Bn``, X:745) is no natural sign in ABC, nor a
    mode: refused, saying so, not guessed (abc2midi plays it as B major, "Unknown mode 'n'",
    five sharps on a tune in D or B minor).

    >>> _mode_of_key(_KEY_RE.match("Es"), "s")
    Traceback (most recent call last):
    ...
    ValueError: unknown key 'Es' (ABC keys are A-G with # or b, as Eb or F#)
    >>> _mode_of_key(_KEY_RE.match("Bn"), "n")
    Traceback (most recent call last):
    ...
    ValueError: unknown key 'Bn': no natural sign in an ABC key (K:B), nor is 'n' a mode (m, dor...)
    """
    try:
        return mode_name(mode)
    except ValueError:
        if not mode or m.start("mode") != m.end("acc"):
            raise
    if mode.lower() in ("n", "nat", "natural"):
        raise ValueError(
            f"unknown key {_quote(m[0])}: no natural sign in an ABC key (K:{m['tonic'].upper()}), "
            f"nor is {_quote(mode)} a mode (m, dor...)"
        )
    raise ValueError(f"unknown key {_quote(m[0])} {_KEY_HINT}")


def _quote(text: str, size: int = 40) -> str:
    """``text`` quoted for an error message, cut after ``size`` characters (`shown`): a fuzzed
    key line of thousands of characters is not written out whole.

    >>> _quote("D octave=" + "9" * 50, 12)
    "'D octave=999...' (59 characters)"
    """
    from .abc_lexer import shown  # the lexer reads keys: imported when an error is said

    return shown(text, size)


def _clipped(word: str) -> str:
    """``word``, cut after 12 characters (`clipped`) for an error message."""
    from .abc_lexer import clipped  # the lexer reads keys: imported when an error is said

    return clipped(word, 12)


def octave_option(value: str, text: str, field: str = "key") -> int | None:
    """The ``octave=N`` of a `K:` value (or, ``field="voice"``, a `V:` value), or None."""
    m = re.search(r"\boctave\s*=\s*(\S+)", value)
    if m is None:
        return None
    if not re.fullmatch(r"[+-]?\d", m[1]):
        raise ValueError(
            f"cannot read octave={_clipped(m[1])} in {field} {_quote(text)} (a whole number, -9..9)"
        )
    return int(m[1])


def transpose_option(value: str, field: str = "key") -> int | None:
    """The ``transpose=N`` of a `K:` value (or, ``field="voice"``, a `V:` value): the semitones
    its notes sound from where they are written when played (ABC 2.1 section 4.6: playback
    only, a score shows them as written; `parse_key_field` and the tokens leave it out). None
    without one; a `ValueError` that names it when N is not a whole number.

    >>> transpose_option("D transpose=-2"), transpose_option("1 clef=bass", field="voice")
    (-2, None)
    """
    m = re.search(r"\btranspose\s*=\s*(\S+)", value.split("%", 1)[0])
    if m is None:
        return None
    if not re.fullmatch(r"[+-]?\d{1,3}", m[1]):
        raise ValueError(
            f"cannot read transpose={_clipped(m[1])} in {field} {_quote(value.strip())} (a "
            "whole number of "
            "semitones)"
        )
    return int(m[1])


#: the octave mark of a clef (``treble-8``, ``bass+8``, ``treble-8va``): its sign
_CLEF_OCTAVE_RE = re.compile(r"[a-z][1-5]?([+-])8(?:va|vb)?$")


def clef_octave(value: str, field: str = "key") -> int | None:
    """The octaves the clef that a `K:` value (or, ``field="voice"``, a `V:` value, after its
    voice id) names plays its notes from where they are written: -1 for ``treble-8``,
    ``clef=bass-8``, ``alto-8va``, 1 for ``treble+8``, 0 for a clef without one (``bass``,
    ``treble8``); None when it names no clef. ABC 2.1 section 4.6: "+8 | -8 - draws '8' above
    or below the staff. The player will transpose the notes one octave higher or lower", as
    abc2midi plays them: the score, and the tokens, keep the written pitches
    (`parse_key_field` leaves the clef out). An octave mark with no clef name (``K:D -8``) is
    none, as abc2midi reads it.

    >>> clef_octave("C treble-8"), clef_octave("Am clef=treble+8"), clef_octave("D bass")
    (-1, 1, 0)
    >>> clef_octave("D"), clef_octave("1 name=Tenor clef=treble-8", field="voice")
    (None, -1)
    """
    code = value.split("%", 1)[0]
    if field == "voice":
        code = " ".join(code.split()[1:])
    m = re.search(r"\bclef\s*=\s*(\S+)", code)
    clef = m[1] if m else None
    if clef is None:
        bare = [m[0] for m in _CLEF_RE.finditer(code) if m[0][0] not in "+-"]
        clef = bare[-1] if bare else None
    if clef is None:
        return None
    mark = _CLEF_OCTAVE_RE.search(clef.lower())
    return 0 if mark is None else (1 if mark[1] == "+" else -1)


def parse_key(text: str) -> Key:
    """Read a key from ABC `K:` text or a name such as `"E Dorian"` or `"F# minor"`.

    >>> parse_key("E Dorian"), parse_key("Bm").name, parse_key("Bb").signature
    (Key(tonic='E', mode='dorian'), 'B minor', -2)
    """
    return parse_key_field(text).key


#: A key as `irish-tune generate` and `transpose` take it: a tonic, then a mode word
#: (`mode_name`) or nothing.
_KEY_NAME = re.compile(r"\s*[A-Ga-g][#b]?\s*(?P<mode>[A-Za-z]*)\s*")

#: A tonic's accidental spelled as a musician says it (``B flat``, ``F sharp minor``) or with
#: the music signs (``B♭``, ``F♯``): `check_key` reads it as ABC's ``b`` or ``#``.
_SPELLED_ACCIDENTAL = re.compile(r"^(\s*[A-Ga-g])(?:\s*(flat|sharp)\b|(♭|♯))", re.IGNORECASE)


def _abc_accidental(key: str) -> str:
    """``key`` with a tonic's spelled accidental written as ABC writes it (``"B flat"`` ->
    ``"Bb"``, ``"F♯ minor"`` -> ``"F# minor"``); any other text unchanged.

    >>> _abc_accidental("B flat"), _abc_accidental("f sharp minor"), _abc_accidental("Bb")
    ('Bb', 'f# minor', 'Bb')
    """
    found = _SPELLED_ACCIDENTAL.match(key)
    if found is None:
        return key
    flat = (found[2] or found[3]).lower() in ("flat", "♭")
    return found[1] + ("b" if flat else "#") + key[found.end() :]


def check_key(key: str) -> Key:
    """The `Key` that ``key`` names: a tonic and an optional mode (``"D"``, ``"Bb"``,
    ``"E dorian"``, ``"F#m"``; the accidental also spelled out, ``"B flat"``, ``"F♯ minor"``,
    `_abc_accidental`); a `ValueError` for anything else a ``K:`` field may hold
    (explicit accidentals, ``exp``, a clef, ``none``), which the tune, written with the key's
    own signature, would silently drop.

    >>> check_key("E dorian").name, check_key("Bbm").name, check_key("B flat").name
    ('E dorian', 'Bb minor', 'Bb major')
    >>> check_key("D ^g")
    Traceback (most recent call last):
    ...
    ValueError: key 'D ^g' is not a key name: give a tonic and an optional mode, e.g. 'D', ...
    """
    abc_key = _abc_accidental(key)
    found = _KEY_NAME.fullmatch(abc_key)
    mode = found["mode"] if found else ""
    try:
        known = found is not None and (not mode or mode_name(mode) is not None)
    except ValueError:  # an unknown mode word ("exp", a clef name)
        known = False
    if not known:
        raise ValueError(
            f"key {_quote(key)} is not a key name: give a tonic and an optional mode, e.g. 'D', "
            "'Bb', 'E dorian' or 'F# minor' (no accidentals, exp, clef or none: tunes are "
            "written in the key's own signature)"
        )
    return parse_key(abc_key)


def standard_key(key: Key) -> Key:
    """``key``, or, when its signature needs more than 7 sharps or flats, the key of the same
    sound spelled with at most 7. ABC's key table stops at 7 (``K:Dbm`` would need a double flat
    in its signature, and readers disagree on it: music21 reads its ``B`` as B flat).

    >>> standard_key(Key("Db", "minor")).name, standard_key(Key("G#", "major")).name
    ('C# minor', 'Ab major')
    >>> standard_key(Key("Gb", "major")) == Key("Gb", "major")
    True
    """
    sig = key.signature
    if -7 <= sig <= 7:
        return key
    target = sig - 12 if sig > 7 else sig + 12
    for letter in "CDEFGAB":
        for alter in ("", "#", "b"):
            candidate = Key(letter + alter, key.mode)
            if candidate.signature == target:
                return candidate
    raise AssertionError(f"no key of the same sound as {key.name}")  # every signature has one


#: A tonic's accidental as a `Key` spells it
_ALTER_TEXT = {-1: "b", 0: "", 1: "#"}
_LETTERS = "CDEFGAB"


def moved_key(key: Key, src: Key, dst: Key) -> Key:
    """``key`` (a mid-tune key change of a tune in ``src``) moved as the tune moves into
    ``dst``: by the interval from ``src``'s tonic to ``dst``'s, letters and semitones alike, so
    it stands to the new key as it stood to the old (the dominant stays the dominant), its mode
    kept. A tonic that would need a double sharp or flat takes the spelling of the same pitch
    with the fewest sharps or flats.

    >>> moved_key(Key("D", "major"), Key("G", "major"), Key("C", "major")).name
    'G major'
    >>> moved_key(Key("Bb", "major"), Key("D", "mixolydian"), Key("G", "mixolydian")).name
    'Eb major'
    >>> moved_key(Key("E", "minor"), Key("Bb", "major"), Key("C#", "major")).name  # not F##m
    'G minor'
    """
    letters = _LETTERS.index(dst.tonic[0]) - _LETTERS.index(src.tonic[0])
    letter = _LETTERS[(_LETTERS.index(key.tonic[0]) + letters) % 7]
    pc = (key.tonic_pc + dst.tonic_pc - src.tonic_pc) % 12
    alter = (pc - LETTER_PC[letter] + 6) % 12 - 6
    if abs(alter) <= 1:
        return Key(letter + _ALTER_TEXT[alter], key.mode)
    spellings = [Key(name + text, key.mode) for name in _LETTERS for text in _ALTER_TEXT.values()]
    return min((k for k in spellings if k.tonic_pc == pc), key=lambda k: abs(k.signature))


def transpose_shift(src: Key, dst: Key) -> int:
    """Semitones (in -6..+5, nearest to 0) that move the tonic of `src` onto that of `dst`.

    >>> transpose_shift(Key("E", "dorian"), Key("D", "dorian"))
    -2
    >>> transpose_shift(Key("F#", "minor"), Key("A", "minor"))
    3
    """
    r = (dst.tonic_pc - src.tonic_pc) % 12
    return r - 12 if r >= 6 else r


#: Modes whose tonic a fifth above the white tonic goes down a fifth (G major -> C, -7; A dorian
#: -> D, -7) rather than up a fourth: their shifts lie in -7..+4, the other modes' in -6..+5.
_DOWN_A_FIFTH = frozenset({"major", "dorian"})


def normalise_shift(key: Key) -> int:
    """Semitones that `normalise_tune` moves a tune in ``key``: its tonic onto the white tonic of
    its mode, in the octave the shared corpus uses. That is the nearest shift (-6..+5,
    `transpose_shift`) except in major and dorian, where a tonic a fifth above the white one goes
    down a fifth (-7..+4): the corpus has G major tunes with tonic C4, not C5 (79% of its
    ``Z: G Major`` tunes sit in that octave, and 188 of 195 O'Neill's/Ryan's G-major tunes that
    match a corpus setting are 7 semitones above it), A dorian ones on D4, while D mixolydian
    tunes go up a fourth to G4 (89% of ``Z: D Mixolydian``) and E minor ones to A4.

    >>> [normalise_shift(parse_key(k)) for k in ("G", "Ador", "D", "A", "Dmix", "Em", "F")]
    [-7, -7, -2, 3, 5, 5, -5]
    """
    shift = transpose_shift(key, key.white)
    return shift - 12 if shift == 5 and key.mode in _DOWN_A_FIFTH else shift


#: MIDI pitch around which `output_shift` centres a tune written out in a real key (c, C5).
PLAYING_CENTRE = 72


def output_shift(
    white: Key, target: Key, pitches: list[int] | None = None, centre: int = PLAYING_CENTRE
) -> int:
    """Semitones that move a normalised (white-key) tune into ``target``.

    Without ``pitches`` this is the exact inverse of `normalise_tune`'s shift (`normalise_shift`:
    the tune returns to the pitches it was read at, octave included), so a tune written back and
    read again gives the same rows. With ``pitches`` (the tune's normalised note
    pitches) the octave is chosen instead so that their median lands nearest `PLAYING_CENTRE`,
    the register in which traditional tunes are played and written (a new tune has no original
    octave to return to), or nearest ``centre`` (a continued prompt: where it was typed). A tie
    (a tritone: F to Cb, B to F) goes down, as `transpose_shift` does (-6, never +6) and as
    normalisation sends G major down to C (`normalise_shift`), keeping tunes low in the
    fiddle's range rather than raising them into positions.

    >>> output_shift(Key("C", "major"), Key("G", "major"))
    7
    >>> output_shift(Key("C", "major"), Key("G", "major"), [60, 62, 64, 65, 67, 69, 71, 72])
    7
    >>> output_shift(Key("C", "major"), Key("F#", "major"), [60], centre=60)  # a tritone: down
    -6
    """
    base = -normalise_shift(target) if white == target.white else -transpose_shift(target, white)
    if not pitches:
        return base
    median = sorted(pitches)[len(pitches) // 2]
    # ties (a tritone away) go to the lower shift, explicitly rather than by the order of the list
    return min((base - 12, base, base + 12), key=lambda s: (abs(median + s - centre), s))


def transpose_tokens(tokens: list[Token], semitones: int) -> list[Token]:
    """Shift every note pitch by `semitones`; other tokens are unchanged.

    >>> from tokenization.abc_parser import Token
    >>> from fractions import Fraction
    >>> transpose_tokens([Token("note", "", 62, Fraction(1, 8))], -2)[0].pitch
    60
    """
    if semitones == 0:
        return list(tokens)
    return [t._replace(pitch=t.pitch + semitones) if t.pitch is not None else t for t in tokens]


def first_out_of_midi(tokens: list[Token]) -> int | None:
    """The index of the first note of ``tokens`` whose pitch is outside MIDI's 0-127, or None:
    a tune moved into a real key (`output_shift`, which picks the octave by the median pitch)
    can take its highest or lowest note out of it, and written as ABC no reader takes it back.

    >>> from tokenization.abc_parser import Token
    >>> first_out_of_midi([Token("note", "", 127, None), Token("note", "", 140, None)])
    1
    """
    bad = (i for i, t in enumerate(tokens) if t.pitch is not None and not 0 <= t.pitch <= 127)
    return next(bad, None)


def normalise_tune(tune: AbcTune) -> AbcTune:
    """Transpose a tune so that its tonic lands on the white-key tonic of its mode, in the
    octave the shared corpus uses (`normalise_shift`: G major tunes go down a fifth to C).

    The original key is kept in `original_key` and written in front of `fields["Z"]`; the
    mid-tune key changes move with the notes (`moved_key`: D major in a G major tune becomes
    G major in C).
    A tune already on the white keys (the shared corpus) keeps its fields; its
    `original_key` is read from `Z:` when that names a key of the same mode.

    >>> from tokenization.abc_parser import parse_abc
    >>> t = normalise_tune(parse_abc("X:1\\nK:Edor\\nE2 ^F"))
    >>> t.key.name, [tok.pitch for tok in t.tokens], t.original_key.name
    ('D dorian', [62, 64], 'E dorian')
    """
    white = tune.key.white
    if tune.key == white:
        original = _key_from_z(tune.fields.get("Z", []), white.mode) or tune.original_key
        return dataclasses.replace(tune, original_key=original or white)
    shift = normalise_shift(tune.key)
    fields = {k: list(v) for k, v in tune.fields.items()}
    fields["Z"] = [tune.key.name] + fields.get("Z", [])
    return dataclasses.replace(
        tune,
        tokens=transpose_tokens(tune.tokens, shift),
        key=white,
        original_key=tune.key,
        fields=fields,
        key_changes=[(at, moved_key(k, tune.key, white)) for at, k in tune.key_changes],
    )


def _key_from_z(values: list[str], mode: str) -> Key | None:
    for value in values:
        try:
            key = parse_key(value)
        except ValueError:
            continue
        if key.mode == mode and re.fullmatch(r"\s*[A-G][#b]?\s+[A-Za-z]+\s*", value):
            return key
    return None
