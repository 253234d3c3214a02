"""What the demo's pages say (a part of demo_app.py): a refusal in the page's terms
(`page_terms`, `no_room_message`), shown as an error message as written (`user_error`),
and the notes under a tab's result as Markdown (`notes_markdown`).
"""

from __future__ import annotations

import html
import re
from types import ModuleType
from typing import Any

__all__ = ["no_room_message", "notes_markdown", "page_terms", "user_error"]


def no_room_message(err: Any) -> str:
    """A `TooLittleRoom` refusal in the page's terms: the prompt too long (how long, and the
    most the demo takes in its meter), or, with room for no prompt at all, its meter's bars
    too long; the page has no ``max_rows`` to raise.

    >>> from modeling_irish.generation_args import TooLittleRoom
    >>> said = no_room_message(TooLittleRoom("max_rows=600 ...", 600, 700, 652, "4/4"))
    >>> print(said.replace(", at", ",\\nat"))
    the prompt is too long for the demo: 652 tokens (notes, rests, bar lines),
    at most 552 in 4/4; paste a shorter incipit, its first few bars
    """
    if err.most_prompt < 1:
        return (
            f"bars of {err.meter} are too long for the demo to finish a tune within its "
            f"{err.max_rows} tokens (notes, rests, bar lines); give the prompt a shorter M:"
        )
    return (
        f"the prompt is too long for the demo: {err.prompt_rows} tokens (notes, rests, bar "
        f"lines), at most {err.most_prompt} in {err.meter}; paste a shorter incipit, its first "
        "few bars"
    )


#: The generation API's words for what to give (`modeling_irish.generation_request`: the
#: argument and its command-line flag), each with the page's: it has no meter or mode control,
#: and a prompt's meter is its ``M:`` line. The one place that rewords them (`page_terms`).
_PAGE_TERMS = (
    (
        r"give meter= \(--meter on the command line\), e\.g\. '6/8', or an M: line",
        "give the prompt an M: line, e.g. M:6/8",
    ),
    (
        r"give meter= \(--meter on the command line\), e\.g\. '6/8', or a rhythm whose meter is "
        r"known \((.*)\)$",
        r"pick a rhythm whose meter is known (\1), or paste a prompt with an M: line, e.g. M:6/8",
    ),
    (
        r"give key=('[^']*') \(--key on the command line\), or leave key and mode out",
        r"type \1 in the Key box, or leave the Key box blank",
    ),
)


def page_terms(message: str) -> str:
    """A generation refusal (`TuneGenerator.generate`'s `ValueError`) in the Generate tab's
    terms: what it asks to give as an argument and a flag (``meter=``, ``--key``) named as the
    page gives it (`_PAGE_TERMS`); the rest of the message as it was.

    >>> print(page_terms("the prompt has no meter: give meter= (--meter on the command line), "
    ...     "e.g. '6/8', or an M: line"))
    the prompt has no meter: give the prompt an M: line, e.g. M:6/8
    """
    for api, page in _PAGE_TERMS:
        message = re.sub(api, page, message)
    return message


def user_error(gr: ModuleType, err: ValueError) -> Exception:
    """The `gradio.Error` that shows a refused request on the page: its text as written (the
    page renders it as HTML, where ``<start>`` or ``<unk>`` would vanish), and no traceback in
    the server's log, since the request, not the server, is at fault."""
    return gr.Error(html.escape(str(err), quote=False), print_exception=False)


#: What `_markdown_text` escapes: Markdown's emphasis, code, links, headings, tables, HTML.
_MARKDOWN_SPECIAL = frozenset("\\`*_[]()#|~!")


def _markdown_text(text: str) -> str:
    """``text`` to show as written in Markdown: ABC's ``_`` (a flat), ``|`` and ``*`` not read
    as emphasis or tables, ``<unk>`` not read as an HTML tag.

    >>> print(_markdown_text("conditioned on <unk>: _B2 |*"))
    conditioned on &lt;unk&gt;: \\_B2 \\|\\*
    """
    escaped = html.escape(text, quote=False)
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIAL else char for char in escaped)


def notes_markdown(notes: list[str]) -> str:
    """What a tab says under its result: a "Notes" list, each note as written
    (`_markdown_text`), or nothing when there is none.

    >>> print(notes_markdown(["a reel is usually in 4/4", "tokens <unk>"]))
    **Notes**
    - a reel is usually in 4/4
    - tokens &lt;unk&gt;
    >>> notes_markdown([])
    ''
    """
    lines = (f"- {_markdown_text(note)}" for note in notes)
    return "\n".join(["**Notes**", *lines]) if notes else ""
