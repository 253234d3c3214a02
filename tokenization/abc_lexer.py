"""Body lexer tables of the ABC reader: the token regex, note names, lengths, bar-line texts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction

from .keys import LETTER_PC

__all__ = [
    "DECORATIONS",
    "LETTER_DECORATIONS",
    "MAX_LENGTH_DENOMINATOR",
    "MAX_NUMBER",
    "colon_ending",
    "decoration_ends_at",
    "lone_bangs",
    "read_number",
    "repeat_dots_inside",
    "repeat_start_dropped",
    "unknown_decoration",
    "user_symbol",
    "ACC",
    "BODY_BANG_BREAK_RE",
    "BODY_RE",
    "IGNORED",
    "MUSIC_GROUPS",
    "NOTE_BASE",
    "NOTE_PARTS",
    "QP_EQUALS_RE",
    "QP_TAIL_RE",
    "XBAR_AFTER_RE",
    "ZBAR_AFTER_RE",
    "canonical_bar",
    "length_multiplier",
    "merge_bar_texts",
    "note_base",
    "note_parts",
    "stray_bar_bracket",
    "surplus_bar_marks",
]

#: the largest denominator of a written note length (``A/1024``, ``A//////////``): far beyond
#: any real one (thesession's shortest is ``/8``); the writer cannot write ``A`` with thousands
#: of slashes back (`int` refuses over 4,300 digits) and music21 overflows on a thousand
MAX_LENGTH_DENOMINATOR = 1024
#: the largest number the reader takes from digits (int64's, as the corpus's ``x`` column):
#: `int` itself refuses more than 4,300 digits, with an error that names no place
MAX_NUMBER = 2**63 - 1

# a bar line's text may hold the invisible bar `[|]` after its first line (`|[|]|`), so that
# `canonical_bar` reads it whole (`_visible_bar`: `||`, as abc2midi reads one bar line there),
# not as `|` then `[|]|`, two bar lines merged into a plain `|`
BODY_RE = re.compile(
    r"""
 (?P<note>(?P<acc>\^\^|\^|__|_|=)?(?P<nk>[A-Ga-g][',]*)(?P<nl>\d*(?:/+\d*)?))
|(?P<bar>(?P<bt>:*\[\|[\]|:]*|:*\|(?:\[\|\]|[\]|:])*|:+\]?)(?P<be>\d+(?:[,-]\d+)*)?)
|(?P<ws>(?:[\s`y$]|\\(?=\s*$))+(?:(?<=y)\d+)?)
|(?P<stray>\*+|\#+|;+|\?+|@+|\\)
|(?P<brk>>{1,3}|<{1,3})
|(?P<tup>\((?P<tp>\d+)(?::(?P<tq>\d*)(?::(?P<tr>\d*))?)?)
|(?P<tie>\.?-)
|(?P<oldchord>\+(?!f+\+)(?P<oc>(?:(?:\^\^|\^|__|_|=)?[A-Ga-g][',]*\d*(?:/+\d*)?){2,})\+)
|(?P<bare>(?<![^\s|:\]])(?P<bk>[HIKLMNOPQRSTUVWmrsw]):(?P<bv>(?<=K:)[A-G][\#b]?
    (?:[ \t]*(?i:maj(?:or)?|min(?:or)?|mix(?:olydian)?|dor(?:ian)?|phr(?:ygian)?|lyd(?:ian)?
    |loc(?:rian)?|aeo(?:lian)?|ion(?:ian)?|m))?(?![^\s|\]])
  |(?<=M:)C\|(?=\s|$)|(?<=[IKNQRUVWmrsw]:)[^\s|\[\]:]*|[^\s|\[\]:]+|(?=\s|$)))
|(?P<deco>[~.h-wH-W]|![^!\s|]*!|\+[^+\s|]*\+)
|(?P<rest>[zx](?P<rl>\d*(?:/+\d*)?))
|(?P<cs>\[(?![A-Za-z]:|\d|\|))
|(?P<ce>\](?P<cl>\d*(?:/+\d*)?))
|(?P<end>\[?(?P<en>\d+(?:[,-]\d+)*))
|(?P<field>\[(?P<fk>[A-Za-z]):(?P<fv>[^\]]*)\])
|(?P<slur>[()])
|(?P<grace>\{[^}]*\})
|(?P<text>"[^"]*")
|(?P<unquote>")
|(?P<mrest>[ZX](?P<mn>\d*))
|(?P<lone>!)
|(?P<ovl>&)
|(?P<bad>.)
""",
    re.X,
)

#: the decoration letters ABC 2.1 assigns (§4.14): the others of H-W and h-w are the user's to
#: define with ``U:`` (`user_symbol`); one not defined is dropped with a warning (abcm2ps:
#: "unknown decoration"), as an unknown ``!..!`` is
LETTER_DECORATIONS = frozenset("~.HLMOPSTuv")
#: a ``U:`` field's value (ABC 2.1 §4.16): a symbol it may define, ``~``, H-W or h-w, ``=`` and
#: the ``!..!`` (or ``+..+``) decoration or the quoted annotation (``"^text"``) it stands for
_USER_SYMBOL_RE = re.compile(r'\s*([~H-Wh-w])\s*=\s*(![^!\s|]*!|\+[^+\s|]*\+|"[^"]*")\s*')
#: `BODY_RE` for a tune that declares ``I:linebreak !``: a ``!`` is a line break, never the
#: bracket of a decoration, so ``!f2g2!`` is two notes between two line breaks (ABC 2.1 §6.1.1)
BODY_BANG_BREAK_RE = re.compile(BODY_RE.pattern.replace(r"|![^!\s|]*!", "", 1), re.X)
#: the names of the ``!..!`` (and ``+..+``) decorations the reader knows, in lower case: ABC 2.1
#: §4.14 and 2.2 (``!nil!`` and ``!none!``: no decoration, ``U: T = !nil!`` undefines a
#: letter, §4.16), abcm2ps's own (``!dot!``, ``!gmark!``, ``!trem1!``...) and common dynamics
#: (``!sf!``); any other is said to be dropped (abc2midi: "instruction !x! ignored")
_DECORATION_NAMES = """
    trill trill( trill) lowermordent uppermordent mordent pralltriller roll turn turnx
    invertedturn invertedturnx arpeggio > accent emphasis fermata invertedfermata tenuto
    0 1 2 3 4 5 + plus snap slide wedge upbow downbow open thumb breath
    pppp ppp pp p mp mf f ff fff ffff sfz sf sfp fp fz rfz sffz
    crescendo( <( crescendo) <) diminuendo( >( diminuendo) >) segno coda d.s. d.c. dacoda
    dacapo fine d.c.alcoda d.c.alfine d.s.alcoda d.s.alfine shortphrase mediumphrase
    longphrase ped ped-up editorial courtesy nil none
    dot gmark marcato ^ -( -) ~( ~) 8va( 8va) 8vb( 8vb) 15ma( 15ma) 15mb( 15mb) invisible
    beamon trem1 trem2 trem3 trem4 xstem beambr1 beambr2 rbstop / // /// beam-accel beam-rall
    stemless rbend
"""
DECORATIONS = frozenset(_DECORATION_NAMES.split())
#: `BODY_RE` groups of music that an unknown ``!..!`` may hold (``!GABc!``: notes between `!`
#: line breaks)
MUSIC_GROUPS = frozenset(("note", "rest", "brk", "tie", "tup", "slur"))
QP_TAIL_RE = re.compile(r"(?:=20|(?<![=^_])=)\s*$")
QP_EQUALS_RE = re.compile(r"=3D(?=[A-Ga-g])")
ZBAR_AFTER_RE = re.compile(r"[\s\\]*(?:$|\[?\||:)")
#: a decoration just before an invisible rest, and what may follow one that stands for a bar line
_DECO_BEFORE_RE = re.compile(r"(?:[~.h-wH-W]|![^!\s|]*!|\+[^+\s|]*\+)$")
XBAR_AFTER_RE = re.compile(r'(?:[ \t]|"[^"]*")*(?:\[?\||:)')
ACC = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
#: `BODY_RE` groups that make no token
IGNORED = frozenset(("ws", "deco", "slur", "grace", "text", "lone"))
NOTE_BASE: dict[str, tuple[int, str]] = {}
#: `note_parts` by a note's whole text (``^c'3/2``)
NOTE_PARTS: dict[str, tuple[int | None, int, str, str]] = {}
_BAR_CACHE: dict[tuple[str, str | None], str] = {}
#: a ``]`` a bar line may hold (`stray_bar_bracket`): the thick line of ``|]``, ``:|]``,
#: ``|:]``, ``:]`` or ``::]``, last but for repeat dots (``|]:``) or before a thick-thin ``[|``
_BAR_BRACKET_RE = re.compile(r"(?<=[|:])\](?=:*$|\[)")
_STRAY_BAR_CACHE: dict[str, bool] = {}
#: three thin lines or three dots in a row, more than any bar line of ABC 2.1 spells
_SURPLUS_BAR_RE = re.compile(r"\|\|\||:::")


def unknown_decoration(text: str, symbols: Mapping[str, str] | None = None) -> bool:
    """Whether the decoration ``text`` (`BODY_RE`'s ``deco``) is one the reader does not know:
    a letter ABC 2.1 leaves to ``U:`` (`LETTER_DECORATIONS`) that the tune's ``U:`` fields,
    ``symbols`` (`user_symbol`), do not define, or a ``!..!`` or ``+..+`` name outside
    `DECORATIONS` (an empty ``!!`` or ``++`` aside). A letter ``symbols`` defines (``T`` or
    ``~`` redefined too) is known when the decoration it stands for is, or when it stands for
    an annotation (``U: W = "^text"``).

    >>> [unknown_decoration(text) for text in ("T", "K", "~", "!trill!", "!x!", "++", "!nil!")]
    [False, True, False, False, True, False, False]
    >>> symbols = {"K": "!trill!", "T": "!x!", "j": '"^V"'}
    >>> [unknown_decoration(text, symbols) for text in ("K", "T", "W", "j")]
    [False, True, True, False]
    """
    if len(text) == 1:
        if symbols and text in symbols:
            return unknown_decoration(symbols[text])
        return text not in LETTER_DECORATIONS
    return len(text) > 2 and text[0] != '"' and text[1:-1].lower() not in DECORATIONS


def user_symbol(value: str) -> tuple[str, str]:
    """The symbol and the decoration the ``U:`` field value ``value`` defines (ABC 2.1 §4.16:
    ``U: W = !trill!``, ``U: ~ = !roll!``, or an annotation, quotes kept: ``U: W = "^text"``); a
    `ValueError` for one that defines no symbol ABC 2.1 lets ``U:`` define (``~``, H-W, h-w) as
    a ``!..!`` or ``+..+`` decoration or a quoted annotation.

    >>> user_symbol(" W = !trill!"), user_symbol("~=+roll+"), user_symbol('v = "^V"')
    (('W', '!trill!'), ('~', '+roll+'), ('v', '"^V"'))
    """
    m = _USER_SYMBOL_RE.fullmatch(value)
    if m is None:
        raise ValueError(
            f"cannot read user-defined symbol {shown(value.strip())}: U: defines ~, H-W or h-w "
            'as a !..! decoration or a "^text" annotation (U: W = !trill!)'
        )
    return m[1], m[2]


def lone_bangs(music: str, bang_breaks: bool = False) -> list[int]:
    """The indices in the line of music ``music`` of each ``!`` the reader passes over as no
    decoration: one without its closing ``!`` on the line (``d!edB|``, ``CD!trill EF``), and,
    in a tune where ``!`` is a line break (``bang_breaks``: `bang_is_line_break`), every ``!``
    outside quoted text and inline fields. The lexer's own reading, for whoever gives the
    line to another program (`render` gives verovio the line without them, or broken there).

    >>> lone_bangs("CD!trill EF|"), lone_bangs("d2e2!f2g2!|"), lone_bangs("d2e2!f2g2!|", True)
    ([2], [], [4, 9])
    """
    body_re = BODY_BANG_BREAK_RE if bang_breaks else BODY_RE
    return [m.start() for m in body_re.finditer(music) if m.lastgroup == "lone"]


def decoration_ends_at(line: str, end: int) -> bool:
    """Whether a decoration (``~``, ``H``, ``!fermata!``, ``+trill+``: `_DECO_BEFORE_RE`) ends
    just before ``line[end]``. It is matched from the one place it can start: the character
    before ``end``, or for ``!..!`` and ``+..+`` the nearest ``!`` or ``+`` before the closing
    one (neither holds its own bracket), never searched for over the whole line before ``end``,
    which made a line of ``x8|`` quadratic (`_decorates_bar` asks at every ``x`` before a bar).

    >>> [decoration_ends_at(line, line.index("x")) for line in ("G2 Hx||", "!fermata!x|", "z|x|")]
    [True, True, False]
    >>> decoration_ends_at("A! b!x|", 5)  # a `!..!` holds no space: no decoration
    False
    """
    if end <= 0:
        return False
    close = line[end - 1]
    start = line.rfind(close, 0, end - 1) if close in "!+" else end - 1
    return start >= 0 and _DECO_BEFORE_RE.match(line, start, end) is not None


def note_base(nk: str) -> tuple[int, str]:
    """Natural MIDI pitch and upper-case letter of a note name with octave marks (`c'` -> 84)."""
    base = NOTE_BASE.get(nk)
    if base is None:
        letter = nk[0].upper()
        nat = 60 + LETTER_PC[letter] + (12 if nk[0].islower() else 0)
        nat += 12 * nk.count("'") - 12 * nk.count(",")
        base = (nat, letter)
        if len(NOTE_BASE) < 4096:
            NOTE_BASE[nk] = base
    return base


def note_parts(m: re.Match) -> tuple[int | None, int, str, str]:
    """The parts of the `BODY_RE` ``note`` match ``m``: its accidental's alteration (None when
    it has none), its natural MIDI pitch (octave marks counted, no ``K:octave=``), its
    upper-case letter and its length text; cached by the note's text, as the same few hundred
    notes make most of a corpus (the reader's hot loop reads one dict entry for them).

    >>> note_parts(BODY_RE.match("^c'3/2"))
    (1, 84, 'C', '3/2')
    """
    parts = NOTE_PARTS.get(m[0])
    if parts is None:
        acc, nk, nl = m.group(2, 3, 4)
        nat, letter = note_base(nk)
        parts = (ACC[acc] if acc else None, nat, letter, nl)
        if len(NOTE_PARTS) < 4096:
            NOTE_PARTS[m[0]] = parts
    return parts


def read_number(digits: str, limit: int = MAX_NUMBER) -> int | None:
    """The whole number written ``digits`` (decimal digits, leading zeros allowed), or None when
    it is above ``limit``: the count of digits is checked before `int` reads them, which refuses
    more than 4,300 (a `ValueError` naming no place).

    >>> read_number("0064", 64), read_number("65", 64), read_number("9" * 5000), read_number("")
    (64, None, None, 0)
    """
    digits = digits.lstrip("0")
    if len(digits) > len(str(limit)):
        return None
    value = int(digits or "0")
    return value if value <= limit else None


def shown(text: str, size: int = 24) -> str:
    """``text`` quoted for an error message, cut after ``size`` characters with its length said
    (a fuzzed length of 15,000 slashes is not written out whole).

    >>> shown("A//"), shown("/" * 30, 4)
    ("'A//'", "'////...' (30 characters)")
    """
    return repr(text) if len(text) <= size else f"{text[:size] + '...'!r} ({len(text)} characters)"


def clipped(text: str, size: int = 40) -> str:
    """``text`` as it is for an error message, or its first ``size`` characters, ``...`` and
    its length (a fuzzed ``P:`` value of thousands of parts is not written out whole).

    >>> clipped("AABB"), clipped("AB" * 30, 6)
    ('AABB', 'ABABAB... (60 characters)')
    """
    return text if len(text) <= size else f"{text[:size]}... ({len(text)} characters)"


def length_multiplier(text: str) -> Fraction:
    """Multiplier of a written ABC length: `2`, `/2`, `/`, `//`, `3/2`; a `ValueError` for a
    zero, a denominator above `MAX_LENGTH_DENOMINATOR`, a numerator above `MAX_NUMBER` or a
    text not of digits and slashes.

    >>> length_multiplier("3/2"), length_multiplier("//////////")
    (Fraction(3, 2), Fraction(1, 1024))
    """
    written = re.fullmatch(r"(\d*)(/*)(\d*)", text)
    if written is None:
        raise ValueError(f"cannot read note length {shown(text)}: digits and slashes expected")
    num, slashes, den = written.groups()
    n = read_number(num) if num else 1
    if n is None:
        raise ValueError(f"note length {shown(text)} too long: its numerator is above {MAX_NUMBER}")
    d = 1
    if slashes:
        # each slash after the first halves the length again: counted before the power is taken
        halvings = len(slashes) - 1
        read = read_number(den, MAX_LENGTH_DENOMINATOR) if den else 2
        if read is None or halvings >= MAX_LENGTH_DENOMINATOR.bit_length():
            d = MAX_LENGTH_DENOMINATOR + 1
        else:
            d = read << halvings
    if n == 0 or d == 0:
        raise ValueError(f"zero note length {text!r}")
    if d > MAX_LENGTH_DENOMINATOR:
        raise ValueError(
            f"note length {shown(text)} too short: its denominator is above "
            f"{MAX_LENGTH_DENOMINATOR}"
        )
    return Fraction(n, d)


def _visible_bar(raw: str) -> str:
    """The bar line ``raw`` without `[|]`, an invisible bar line (ABC 2.1): a plain bar, or
    nothing beside another one (`[|]:|` ends a repeat, `[|]|]` ends the tune)."""
    return raw.replace("[|]", "") or "|"


def _starts_repeat(core: str) -> bool:
    """Whether the bar line ``core`` (`_visible_bar`, the thick lines' `[` taken out) starts
    a repeat: dots at its right end (`|:`, `[|:`, `|]:`), a `::` at its start (`::`, `::]`:
    the end and the start of two repeats), or dots inside it (`|:|`, `|:]`: read left to
    right, a thin line and dots are `|:`, as abc2midi and music21 read them)."""
    body = core.strip(":")
    return core.endswith(":") or core.startswith("::") or ":" in body


def repeat_dots_inside(raw: str) -> bool:
    """Whether the bar line ``raw`` starts a repeat whose dots are not at its right end
    (`_starts_repeat`): `|:|` and `|:]` (O'Neill's books end tunes with `|:|`), `::]`. ABC
    2.1 puts a start repeat's dots last; the reader keeps the start (`canonical_bar`) and
    warns, with the line and column, that the spelling is read so.

    >>> [repeat_dots_inside(raw) for raw in ("|:]", "::]", "|:|", "[|:", "|]:", ":|]", "::")]
    [True, True, True, False, False, False, False]
    """
    core = _visible_bar(raw).replace("[", "")
    return not core.endswith(":") and _starts_repeat(core)


def repeat_start_dropped(raw: str, ending: str | None) -> bool:
    """Whether the bar line ``raw`` with the ending number ``ending`` both starts a repeat and
    opens an ending (``|:2``, ``::2``, ``:|:2``), which no canonical bar holds: `canonical_bar`
    keeps the ending, which says on which pass its notes are played (``|2``, ``:|2``), and drops
    the start, which the reader says with the line and column (the start was lost unsaid). A
    ``:|`` after ``::2`` still goes back to it, to the last ``:|`` passed (`played_order`).

    >>> [repeat_start_dropped(raw, "2") for raw in ("|:", "::", ":|:", ":|", "|", ":")]
    [True, True, True, False, False, False]
    >>> repeat_start_dropped("|:", None)
    False
    """
    if not ending:
        return False
    core = _visible_bar(raw).replace("[", "")
    return core not in (":", ":]") and _starts_repeat(core)


def colon_ending(raw: str, ending: str | None) -> bool:
    """Whether the bar line ``raw`` is a lone colon (``:``, ``:]``) with the ending number
    ``ending`` (``:2``, a shorthand for ``:|2`` in the wild, which ABC 2.1 does not define):
    `canonical_bar` reads it as the end repeat the reader reads a lone ``:`` as, then the ending
    (``:|2``), and the reader says so with the line and column. It was ``:|``, the ending lost
    unsaid; abc2midi (4.84) drops the digit as an unrecognised character, music21 drops it too.

    >>> [colon_ending(raw, "2") for raw in (":", ":]", "[|]:", ":|", "::", "|:")]
    [True, True, True, False, False, False]
    >>> colon_ending(":", None)
    False
    """
    return bool(ending) and _visible_bar(raw).replace("[", "") in (":", ":]")


def stray_bar_bracket(raw: str) -> bool:
    """Whether the bar line ``raw`` holds a ``]`` that no bar line of ABC 2.1 spells, which
    `canonical_bar` drops: a second one (``|]]``), or one a line follows (``||]|``,
    ``:||]]|[|``). The thick line of ``|]``, ``:|]``, ``|:]``, ``::]``, ``:]``, ``|]:`` and
    ``|][|`` is no stray, nor the ``]`` of the invisible bar ``[|]`` (`_visible_bar`).

    >>> [stray_bar_bracket(raw) for raw in ("|]]", "||]|", ":||]]|[|", "[|]]")]
    [True, True, True, True]
    >>> [stray_bar_bracket(raw) for raw in ("|]", ":|]", "|:]", ":]", "[|]|]", ":[|]|]", "|][|")]
    [False, False, False, False, False, False, False]
    """
    stray = _STRAY_BAR_CACHE.get(raw)
    if stray is None:
        visible = _visible_bar(raw)
        stray = visible.count("]") > len(_BAR_BRACKET_RE.findall(visible))
        _STRAY_BAR_CACHE[raw] = stray
    return stray


def surplus_bar_marks(raw: str) -> bool:
    """Whether the bar line ``raw`` holds three thin lines or three dots in a row (``|||``,
    ``::::``), which no bar line of ABC 2.1 spells: `canonical_bar` reads them as two (``||``,
    ``:|:``), as abc2midi (4.84) plays them, and the reader says so with the line and column
    (they were read so unsaid). The invisible bar ``[|]`` is no line (`_visible_bar`).

    >>> [surplus_bar_marks(raw) for raw in ("|||", "::::", ":::", "|||:", "||", "::", ":||:")]
    [True, True, True, True, False, False, False]
    >>> surplus_bar_marks("|[|]|")
    False
    """
    return _SURPLUS_BAR_RE.search(_visible_bar(raw)) is not None


def canonical_bar(raw: str, ending: str | None) -> str:
    """Map any ABC bar line (and ending number) onto DESIGN.md's canonical bar texts. Leading
    dots end a repeat; a start is kept wherever its dots stand (`_starts_repeat`: `|:]` is
    `|:`, `::]` is `:|:`), never dropped. A lone colon is an end repeat (`:|`; ``""`` for a
    bare `:`, whose side `_merged_bar` decides), with its ending kept (`colon_ending`: `:2`).

    >>> [canonical_bar(raw, None) for raw in ("|:]", "::]", "|:|", "[|:", ":|]", "[|]|]")]
    ['|:', ':|:', '|:', '|:', ':|', '|]']
    >>> [canonical_bar(raw, "2") for raw in (":", ":]", ":|")]
    [':|2', ':|2', ':|2']
    """
    key = (raw, ending)
    text = _BAR_CACHE.get(key)
    if text is None:
        raw = _visible_bar(raw)
        core = raw.replace("[", "")
        if core in (":", ":]"):
            if ending:
                text = ":|" + ending
            else:
                text = "" if core == ":" else ":|"
            _BAR_CACHE[key] = text
            return text
        end_rep, start_rep = core.startswith(":"), _starts_repeat(core)
        if ending:
            text = (":|" if end_rep else "|") + ending
        elif (end_rep and start_rep) or set(core) == {":"}:
            text = ":|:"
        elif start_rep:
            text = "|:"
        elif end_rep:
            text = ":|"
        elif "]" in core:
            text = "|]"
        elif core.count("|") > 1 or raw.startswith("[|"):  # `[|` is the thick-thin double bar
            text = "||"
        else:
            text = "|"
        _BAR_CACHE[key] = text
    return text


def merge_bar_texts(prev: str, new: str) -> str:
    """One canonical bar for two adjacent ones: `|`+`|:` -> `|:`, `:|`+`|:` -> `:|:`..."""
    if new == "|":
        return prev
    if prev == "|":
        return new
    end_rep = prev.startswith(":") or new.startswith(":")
    start_rep = prev.endswith(":") or new.endswith(":")
    ending = new.lstrip(":|") or prev.lstrip(":|")
    if ending and ending[0].isdigit():
        return (":|" if end_rep else "|") + ending
    if end_rep and start_rep:
        return ":|:"
    if start_rep or end_rep:
        return "|:" if start_rep else ":|"
    return "|]" if "|]" in (prev, new) else "||"
