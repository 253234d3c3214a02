"""The keys that match tunes across a corpus: `title_key` (a title normalised) and `body_key` (a
tune's text after ``K:``).

They live apart from `modeling_irish.abc_corpus` (which re-exports them) because that module
imports `datasets` (a second), and ``irish-tune identify``, ``index`` and the retrieval code need
only these two functions of it.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["body_key", "title_key"]

# Normalised titles that mean "no title": they never link two tunes.
_UNTITLED = frozenset({"", "x", "gan ainm", "untitled", "no title", "no name"})

#: Signs that, alone, stand for a missing title ("?", "-", "..."), not for a name.
_PLACEHOLDER = re.compile(r"[\s?.\-_*\u2026\u2013\u2014]*")

#: Apostrophes, dropped from a title: ASCII, the typographic closing and opening ones (thesession
#: writes both: "‘Ma' McNulty's Favourite"), the modifier letter and the backtick.
_APOSTROPHES = re.compile("['\u2019\u2018\u02bc`]")

#: A trailing part that numbers or labels a title rather than names a tune: ``(copy 2)``, ``(2)``,
#: ``#3``, ``4``. An untitled placeholder with one (``x (copy 1)``, ``Gan Ainm 2``) is untitled
#: still: as a title it would link thousands of unrelated untitled tunes into one group.
_LABEL_SUFFIX = re.compile(r"\s*(\([^()]*\)|#?\d+)$")


def title_key(title: str) -> str:
    """Normalise a title for matching: "" for untitled tunes (``x``, ``Gan Ainm``, empty, or
    only placeholder signs: ``?``, ``-``, ``...``), also when a number or a bracketed label
    follows the placeholder (``x (copy 1)``, ``Gan Ainm (2)``, ``Untitled #3``).

    Accents are dropped, case folded, a trailing ", The" / ", A" / ", An" moved to the front,
    apostrophes (``'``, ``’``, ``‘``) removed and every other run of punctuation or spaces made
    one space. A title of other signs alone (thesession's tune 5399 is named ``#``) is its own
    key, its spaces made one: it names a tune, which an empty key would leave untitled.

    >>> title_key("Mason's Apron, The"), title_key("The Masons  Apron"), title_key("Gan Ainm")
    ('the masons apron', 'the masons apron', '')
    >>> title_key("Seán Ó Duibhir a' Ghleanna")
    'sean o duibhir a ghleanna'
    >>> title_key("#"), title_key("?"), title_key("O‘Neill's") == title_key("O'Neill's")
    ('#', '', True)
    >>> title_key("x (copy 1)"), title_key("Gan Ainm 2"), title_key("1999"), title_key("Reel (2)")
    ('', '', '1999', 'reel 2')
    """
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().strip()
    article = re.match(r"^(.*?),\s*(the|an|a)$", text)
    if article:
        text = f"{article.group(2)} {article.group(1)}"
    text = _APOSTROPHES.sub("", text)
    words = re.sub(r"[\W_]+", " ", text).strip()
    if not words and not _PLACEHOLDER.fullmatch(text):  # signs alone name it: "#"
        return " ".join(text.split())
    if words in _UNTITLED:
        return ""
    base = re.sub(r"[\W_]+", " ", _LABEL_SUFFIX.sub("", text)).strip()
    return "" if base and base in _UNTITLED else words


def body_key(text: str) -> str:
    """The text after the first ``K:`` line, whitespace-normalised: what the loader dedupes on,
    and what makes a tune the same tune whatever its header says (``X:``, spacing, title).

    >>> body_key("X:1\\nT:A\\nK:G\\nGAB  c|\\n") == body_key("X: 7\\nK:G\\nGAB c|")
    True
    """
    found = re.search(r"^K:.*$", text, flags=re.MULTILINE)
    body = text[found.end() :] if found else text
    return " ".join(body.split())
