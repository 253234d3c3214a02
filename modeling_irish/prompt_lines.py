"""A prompt without an ``X:`` line, read at its lines as the user gave them, alike for
``irish-tune generate --prompt FILE`` and the demo's Generate tab: taken whole, less the blank
lines before it, which would end it before its bars (`bare_prompt`, `leading_blank_lines`), and
the reader's error of it worded at those lines, without the tune name the reader gives it, one
the user never typed (`prompt_error`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenization.abc_tune import AbcParseError
    from tokenization.raw_tune import RawTune

__all__ = ["bare_prompt", "leading_blank_lines", "prompt_error"]


def bare_prompt(text: str, where: str) -> RawTune:
    """The tune of a prompt ``text`` without an ``X:`` line, from ``where`` (a file, or the
    pasted text): the text after its blank lines (`leading_blank_lines`), at its first line
    there, so that its `RawTune.line_offset`, given to the reader or the generator, makes its
    warnings and errors name the lines as in ``where``.

    >>> raw = bare_prompt("\\n\\nM:6/8\\nGAB|", "p.abc")
    >>> raw.text, raw.line_offset
    ('M:6/8\\nGAB|', 2)
    """
    from tokenization.raw_tune import RawTune

    lead, bars = leading_blank_lines(text)
    return RawTune(where, where, bars, lead + 1)


def leading_blank_lines(text: str) -> tuple[int, str]:
    """How many blank lines open ``text`` (as the parser splits lines: `abc_lines`), and the
    text after them, its first line's indentation kept (the columns as given), without
    trailing whitespace.

    >>> leading_blank_lines("\\n \\r\\n  FAAB AFED|\\n")
    (2, '  FAAB AFED|')
    """
    from tokenization.abc_tunebook import abc_lines

    lines = abc_lines(text)
    lead = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    return lead, "\n".join(lines[lead:]).rstrip()


def prompt_error(err: AbcParseError, where: str = "prompt") -> str:
    """The reader's ``err`` of a prompt read at its lines as given (`bare_prompt`'s
    `RawTune.line_offset`), named by ``where`` (``prompt`` on the demo's page, ``--prompt
    FILE`` on the command line): ``WHERE, line N, column C: ...``. The reader's own words
    name the tune by its title, else ``tune``, a name the user never typed. An error of no
    line is ``WHERE: ...``.

    >>> from tokenization.abc_tune import AbcParseError
    >>> prompt_error(AbcParseError("nested chord", line=3, column=6))
    'prompt, line 3, column 6: nested chord'
    >>> prompt_error(AbcParseError("tune has no notes", line=1, column=1), "--prompt p.abc")
    '--prompt p.abc, line 1, column 1: tune has no notes'
    """
    if err.line is None:
        return f"{where}: {err.message}"
    return f"{where}, line {err.line}, column {err.column}: {err.message}"
