"""A prompt without an ``X:`` line, read at its lines as the user gave them, alike for
``irish-tune generate --prompt FILE`` and the demo's Generate tab: taken whole, less the blank
lines before it, which would end it before its bars (`bare_prompt`, `leading_blank_lines`), and
the reader's error of it worded at those lines, without the tune name the reader gives it, one
the user never typed (`prompt_error`); a ``--prompt`` of a header alone refused saying how to
set its key and meter without one (`read_prompt`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenization.abc_tune import AbcParseError, AbcTune
    from tokenization.raw_tune import RawTune

__all__ = [
    "bare_prompt",
    "header_only_remedy",
    "leading_blank_lines",
    "prompt_error",
    "read_prompt",
]


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


def read_prompt(text: str, line_offset: int = 0) -> tuple[AbcTune, AbcTune]:
    """`read_tune` of the tune of ``irish-tune generate --prompt``: the reader's
    `AbcParseError`, except that a prompt without notes (`NO_NOTES`: most likely a header
    pasted to set the key and meter) also says what to do instead (`header_only_remedy`), at
    the same line and column. The reader's own words are kept elsewhere (``check``, the API).

    >>> read_prompt("X:1\\nM:6/8\\nK:G\\n")
    Traceback (most recent call last):
    ...
    tokenization.abc_tune.AbcParseError: X:1: line 1, column 1: tune has no notes; a prompt ...
    """
    from tokenization.abc_parser import NO_NOTES
    from tokenization.abc_tune import AbcParseError
    from tokenization.tokenization_abc import read_tune

    try:
        return read_tune(text, line_offset=line_offset)
    except AbcParseError as err:
        if not err.message.startswith(NO_NOTES):
            raise
        message = f"{err.message}; {header_only_remedy(text)}"
        raise AbcParseError(message, tune=err.tune, line=err.line, column=err.column) from None


def header_only_remedy(text: str) -> str:
    """What to do with a ``--prompt`` ``text`` that holds no notes: a prompt is the start of a
    tune to continue, not a way to set the key and meter; those are ``--key`` and ``--meter``,
    given the values of its header's ``K:`` and ``M:`` where they name a key and a meter
    (``...`` where not).

    >>> header_only_remedy("X:1\\nM:6/8\\nK:G\\n").split(": ", 1)[1]
    'to set only the key and meter, give --key G --meter 6/8 without --prompt, or add the ...'
    >>> header_only_remedy("X:1\\nM:none\\nK:A dor\\n").split("give ")[1].split(" without")[0]
    "--key 'A dor' --meter ..."
    """
    key, meter = _header_key_and_meter(text)
    return (
        "a prompt is the start of a tune to continue: to set only the key and meter, give "
        f"--key {_shell_word(key)} --meter {_shell_word(meter)} without --prompt, or add the "
        "first notes of the tune after its K: line"
    )


def _shell_word(value: str | None) -> str:
    """``value`` quoted for a shell, or ``...`` (a value to fill in) when there is none."""
    import shlex

    return "..." if value is None else shlex.quote(value)


def _header_key_and_meter(text: str) -> tuple[str | None, str | None]:
    """The last ``K:`` and ``M:`` values of the header of ``text`` as written, each None when
    absent or when `check_key`/`check_meter` would refuse it (``K:none``, ``M:none``)."""
    from tokenization.abc_field_lines import abc_lines, field_value, header_fields
    from tokenization.keys import check_key

    from .generation_args import check_meter

    values = {m[1]: field_value(m[2]) for m in header_fields(abc_lines(text))[1].values()}
    key, meter = values.get("K"), values.get("M")
    try:
        check_key(key or "")
    except ValueError:
        key = None
    try:
        check_meter(meter or "")
    except ValueError:
        meter = None
    return key, meter
