"""One tune of a corpus parsed into its row of `modeling_irish.load_abc_corpus` (`parse_raw`),
or the reason it is skipped. The loader maps it over the tunes, in worker processes with
``num_proc``: this module imports the reader only (no torch, transformers or datasets), so a
spawned worker starts in a fraction of a second."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .abc_lexer import read_number
from .capped_warnings import skip_reason
from .raw_tune import RawTune
from .reader_warnings import drops_voices
from .rhythm_types import rhythm_type

__all__ = [
    "BARS_SKIP_REASON",
    "X_MAX",
    "ParseOptions",
    "Parsed",
    "beyond_int64",
    "parse_raw",
    "parse_raw_noting_sound",
    "sound_key",
]

#: The report's skip reason (``skip_reasons``) of the tunes ``require_bars_fit`` leaves out.
BARS_SKIP_REASON = "a full bar does not fit the meter (irish-tune check --bars)"

_SESSION_URL = re.compile(r"thesession\.org/tunes/(\d+)(?:#setting(\d+))?")
_KEY_LIKE = re.compile(r"^[A-G][#b]?\s*[A-Za-z]*$")


@dataclass(frozen=True)
class ParseOptions:
    """What `parse_raw` keeps: at least ``min_notes`` notes; the incipit of ``incipit_notes``
    notes for linking (0: none); with ``bars_fit``, only tunes whose full bars fit the meter.
    ``named_sources``: the sources whose tunes have ids that their file's name does not make
    (music21's collections), marked ``"_named"`` as tunes with a thesession.org ``S:`` are."""

    min_notes: int = 8
    incipit_notes: int = 0
    bars_fit: bool = False
    named_sources: frozenset[str] = frozenset()


# ----------------------------------------------------------------------------- parsing one tune


def _first(fields: dict[str, list[str]], letter: str) -> str:
    values = fields.get(letter) or [""]
    return values[0].strip()


#: The largest ``x`` the int64 column holds; a larger ``X:`` number is read as none (0).
X_MAX = 2**63 - 1


def beyond_int64(digits: str) -> bool:
    """Whether the whole number written ``digits`` is beyond the ``x`` column's int64, checked
    by length first (``int`` of thousands of digits is itself refused: `read_number`).

    >>> beyond_int64("9223372036854775807"), beyond_int64("0099999999999999999999")
    (False, True)
    """
    return read_number(digits, X_MAX) is None


def _reference_number(fields: dict[str, list[str]]) -> int:
    """The ``X:`` number (``x``): 0 when there is none, as for ``X:abc``, or when it is beyond
    int64 (pyarrow crashed on it with an OverflowError naming no tune; the load names those
    tunes in a warning, `_warn_oversized_numbers`)."""
    found = re.match(r"\s*(\d+)", _first(fields, "X"))
    if found is None or beyond_int64(found.group(1)):
        return 0
    return int(found.group(1))


def _original_key(tune: Any) -> str:
    """Key as written; for the corpus's ``K: C <mode>`` placeholder, ``Z:`` (the key before
    transposition) when it names a key of the same mode, else the white-key mode of the parse."""
    original = _first(tune.fields, "Z")
    placeholder = getattr(tune, "corpus_format", None)
    if placeholder is None:  # a parser without the flag: recognise `K: C <mode>` ourselves
        placeholder = re.match(r"^C\s+[A-Za-z]", _first(tune.fields, "K")) is not None
    if placeholder and _KEY_LIKE.match(original):
        from tokenization.keys import parse_key

        try:
            key = parse_key(original)
        except ValueError:
            key = None
        if key is not None and key.mode == tune.key.mode:
            return key.name
    return tune.key.name


def _incipit(tune: Any, notes: int) -> str:
    """Meter and pitch classes of the first `notes` notes, the tune moved onto the white keys of
    its mode (so the same melody in two keys gives the same text); "" for a shorter tune."""
    from tokenization.keys import normalise_tune

    try:
        normal = normalise_tune(tune)
    except ValueError:  # a key the normaliser does not handle: no incipit, not a skipped tune
        return ""
    pitches = [t.pitch for t in normal.tokens if t.kind == "note" and t.pitch is not None][:notes]
    if len(pitches) < notes:
        return ""
    return f"{tune.meter or ''}|" + " ".join(str(p % 12) for p in pitches)


def sound_key(tokens: Sequence[Any]) -> str:
    """A digest of what a tune's body spells as read (its parsed ``tokens``): each token's kind,
    pitch and length. One body text under another key signature (``K:G`` / ``K:F``) or unit
    length (``L:1/8`` / ``L:1/16``) is other music; under another label that changes nothing (a
    corpus placeholder ``K: C <mode>`` over explicit accidentals, ``M:4/4`` / ``M:2/2``) it is
    the same. The loader compares it between tunes whose body text repeats (its dedupe)."""
    spelled = repr([(token.kind, token.pitch, token.dur) for token in tokens])
    return hashlib.sha1(spelled.encode("utf-8")).hexdigest()[:20]


#: `parse_raw`'s answer: the row, or None with the skip reason and the error as located in
#: the file ("" when the reason says all), e.g. ``"X:3 Bad: line 11, column 3: unknown mode 'x'"``.
Parsed = tuple[dict[str, Any] | None, str, str]


def parse_raw(raw: RawTune, options: ParseOptions, sound: bool = False) -> Parsed:
    """Parse one tune into ``(row, "", "")``, or return ``(None, reason, error)``; every tune
    is parsed once. With ``options.incipit_notes``, the row also holds its incipit under
    ``"_incipit"``; with ``sound``, its `sound_key` under ``"_sound"`` (the loader asks for it
    where the tune's body text repeats another's, to dedupe without parsing it again). The
    error names the tune and its line in the file, as ``irish-tune check`` does (a dump row's
    line counts in the tune text built from it)."""
    from tokenization.abc_parser import AbcParseError, parse_abc
    from tokenization.bar_check import bar_report

    if raw.unreadable:  # a dump row that gives no tune: counted, under its reason
        return None, raw.unreadable, ""
    try:
        # lines counted in the text (raw.locate moves them to the file's and names X: and title)
        tune = parse_abc(raw.text)
        n_notes = sum(1 for token in tune.tokens if token.kind == "note")
        key, mode = _original_key(tune), tune.key.mode
        notes = options.incipit_notes
        incipit = _incipit(tune, notes) if notes > 0 else ""
        bars_ok = not options.bars_fit or bar_report(tune).ok
    except (AbcParseError, ValueError) as err:  # AbcParseError is a ValueError (keys, ...)
        return None, skip_reason(err), raw.locate(err).removeprefix(f"{raw.file_name}: ")
    except Exception as err:  # noqa: BLE001 - the contract says none escape; count, do not crash
        return None, f"internal {skip_reason(err)}", f"unexpected {err!r}"
    if n_notes < options.min_notes:
        return None, f"fewer than {options.min_notes} notes", ""
    if not bars_ok:
        return None, BARS_SKIP_REASON, ""
    x = _reference_number(tune.fields)
    url = _SESSION_URL.search(" ".join(tune.fields.get("S", [])))
    if url:
        tune_id, setting_id = url.group(1), url.group(2) or ""
    else:
        number = _first(tune.fields, "X") if raw.x_unique else ""
        tune_id, setting_id = f"{raw.prefix}:{number or f'line{raw.line}'}", ""
    row = {
        "tune_id": tune_id,
        "setting_id": setting_id,
        "title": tune.title,
        # one spelling per tune type (R:slipjig, R:Slip-Jig: slip jig); the abc column keeps R:
        "rhythm": rhythm_type(_first(tune.fields, "R")),
        "meter": tune.meter or "",
        "mode": mode,
        "key": key,
        "abc": raw.text,
        "source": raw.source,
        "x": x,
        "n_notes": n_notes,
    }
    if incipit:
        row["_incipit"] = incipit
    if sound:
        row["_sound"] = sound_key(tune.tokens)
    # read with its first voice only: the loader's report counts such tunes (voices_dropped)
    row["_voices_dropped"] = drops_voices(tune.warnings)
    # an id that the file's name does not make: the "hash" split may be anchored on it
    row["_named"] = bool(url) or raw.source in options.named_sources
    return row, "", ""


def parse_raw_noting_sound(item: tuple[RawTune, bool], options: ParseOptions) -> Parsed:
    """`parse_raw` of a ``(tune, sound)`` pair: the loader maps it over its tunes, each marked
    with whether its row needs its `sound_key` (a function of one item, for `WorkerPool.map`)."""
    raw, sound = item
    return parse_raw(raw, options, sound)
