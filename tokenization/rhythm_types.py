"""The tune types (``R:``) known by name, their usual meters, and how a spelling of one is
matched: the one normalisation that the tokenizer's header reader (`HeaderInfo.from_tune`) and
``irish-tune generate --rhythm`` (`modeling_irish.generation_request`) share.

>>> rhythm_spelling("Slip-Jig", []), rhythm_spelling("slip jig", ["slipjig"])
('slip jig', 'slipjig')
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "CUT_TIME_TYPES",
    "RHYTHM_METERS",
    "TYPE_METERS",
    "rhythm_key",
    "rhythm_spelling",
    "rhythm_type",
]

#: The usual meter of each tune type of thesession.org (the corpus's usual one). A new tune in
#: one of these meters, asked for without a rhythm, is conditioned on the first type in it.
TYPE_METERS = {
    "reel": "4/4",
    "hornpipe": "4/4",
    "barndance": "4/4",
    "strathspey": "4/4",
    "jig": "6/8",
    "slide": "12/8",
    "slip jig": "9/8",
    "polka": "2/4",
    "march": "2/4",
    "waltz": "3/4",
    "mazurka": "3/4",
    "three-two": "3/2",
}
#: Other spellings and types of the default training corpus, music21's O'Neill's 1850 and
#: Ryan's Mammoth (``R:slipjig``, ``R:double jig``, ``R:clog``, ``R:highland fling``, in the
#: meter its tunes of that type all have, ``C|`` read as 2/2), and of Irish tunebooks.
_OTHER_TYPE_METERS = {
    "slipjig": "9/8",
    "double jig": "6/8",
    "single jig": "6/8",
    "hop jig": "9/8",
    "clog": "2/2",
    "highland fling": "2/2",
}
#: Default meter of each tune type; a type not here (an air: its tunes have many meters) needs
#: the meter given.
RHYTHM_METERS = {**TYPE_METERS, **_OTHER_TYPE_METERS}
#: The tune types of the default training corpus in cut time (``C|``, read as 2/2), none of
#: `TYPE_METERS`'s meter: O'Neill's and Ryan's Mammoth write their reels so (442 of their ``C|``
#: tunes with ``R:``, then 207 hornpipes, 36 clogs, 12 highland flings). A new tune in 2/2
#: asked for without a rhythm is conditioned on the first, and none of them in 2/2 is unusual.
CUT_TIME_TYPES = ("reel", "hornpipe", "clog", "highland fling")


def rhythm_key(rhythm: str) -> str:
    """What two spellings of one tune type share: ``rhythm`` lower-cased, without spaces, ``-``
    and ``_``, so that ``"Slip-Jig"``, ``"slip_jig"`` and ``"slipjig"`` all name the corpus's
    ``slip jig``.

    >>> rhythm_key("Slip-Jig"), rhythm_key(" three two ")
    ('slipjig', 'threetwo')
    """
    return re.sub(r"[\s_-]+", "", rhythm.lower())


def rhythm_spelling(rhythm: str, known: Iterable[str] = ()) -> str:
    """The spelling of ``rhythm`` that the tokenizer's vocabulary has (``known``, its rhythm
    values), else that of `TYPE_METERS` (thesession's), else that of `RHYTHM_METERS`, else
    ``rhythm``: ``rhythm`` itself when it is one, else the first of them of its `rhythm_key`.
    A model is conditioned on the spelling its corpus has (thesession's ``slip jig``, an older
    vocabulary's ``slipjig``), not on ``<unk>``; a new vocabulary has one spelling of a type
    (O'Neill's ``R:slipjig`` is ``slip jig``, as the corpus loader's ``rhythm`` column has it).

    >>> rhythm_spelling("slip-jig", ["jig", "slip jig"]), rhythm_spelling("slip jig", ["slipjig"])
    ('slip jig', 'slipjig')
    >>> rhythm_spelling("Three_Two"), rhythm_spelling("air", ["reel"]), rhythm_spelling("slipjig")
    ('three-two', 'air', 'slip jig')
    """
    key = rhythm_key(rhythm)
    for spellings in (list(known), list(TYPE_METERS), list(RHYTHM_METERS)):
        if rhythm in spellings:
            return rhythm
        same = [spelled for spelled in spellings if rhythm_key(spelled) == key]
        if same:
            return same[0]
    return rhythm


def rhythm_type(written: str) -> str:
    """The tune type of an ``R:`` field as written, one spelling per type: lower-cased, and
    spelled as `rhythm_spelling` spells it without a vocabulary (thesession's ``slip jig`` for
    O'Neill's ``slipjig``, ``three-two`` for ``Three Two``); "" for none. The corpus loader's
    ``rhythm`` column, so that its values are the tokenizer's (`HeaderInfo.from_tune`).

    >>> [rhythm_type(r) for r in ("Slip-Jig", "slipjig", " Double Jig ", "Air", "")]
    ['slip jig', 'slip jig', 'double jig', 'air', '']
    """
    rhythm = written.strip().lower()
    return rhythm_spelling(rhythm) if rhythm else ""
