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


def title_key(title: str) -> str:
    """Normalise a title for matching: "" for untitled tunes (``x``, ``Gan Ainm``, empty).

    Accents are dropped, case folded, a trailing ", The" / ", A" / ", An" moved to the front,
    apostrophes removed and every other run of punctuation or spaces made one space.

    >>> title_key("Mason's Apron, The"), title_key("The Masons  Apron"), title_key("Gan Ainm")
    ('the masons apron', 'the masons apron', '')
    >>> title_key("Seán Ó Duibhir a' Ghleanna")
    'sean o duibhir a ghleanna'
    """
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().strip()
    article = re.match(r"^(.*?),\s*(the|an|a)$", text)
    if article:
        text = f"{article.group(2)} {article.group(1)}"
    text = re.sub(r"['\u2019`]", "", text)
    text = re.sub(r"[\W_]+", " ", text).strip()
    return "" if text in _UNTITLED else text


def body_key(text: str) -> str:
    """The text after the first ``K:`` line, whitespace-normalised: what the loader dedupes on,
    and what makes a tune the same tune whatever its header says (``X:``, spacing, title).

    >>> body_key("X:1\\nT:A\\nK:G\\nGAB  c|\\n") == body_key("X: 7\\nK:G\\nGAB c|")
    True
    """
    found = re.search(r"^K:.*$", text, flags=re.MULTILINE)
    body = text[found.end() :] if found else text
    return " ".join(body.split())
