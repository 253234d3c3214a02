"""How messages name the tunes of a file or a pasted text: by their ``X:`` and ``T:`` lines
(`tune_names`), as ``irish-tune identify`` heads each tune's list and the demo names the tunes
of a paste of several, and where a headerless snippet's error is (`snippet_error`)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenization.abc_tune import AbcParseError

__all__ = ["snippet_error", "tune_names"]


def tune_names(found: list[tuple[int, str, Any]], bare: bool = False) -> list[tuple[str, str]]:
    """``(name, label)`` of each ``(first line, text, raw)`` tune of a file: the name is its
    ``X:`` and ``T:`` lines (``"snippet at line N"`` for a bare snippet, ``"row N"`` for a
    dump row that gives no tune, ``"tune at line N"`` for a tune with neither line, such as
    one before a file's first ``X:``), as ``--json`` gives it beside the line; the label, for
    the text output and the warnings, adds the line where another tune of the file has the
    same name (snippets numbered ``X:1`` each, untitled). ``raw``: the tune's `RawTune`, or
    None.

    >>> tune_names([(1, "X:1\\nT:A\\nK:D\\nd|", None), (6, "X:1\\nK:G\\nG|", None)])
    [('X:1 T:A', 'X:1 T:A'), ('X:1', 'X:1')]
    >>> tune_names([(2, "X:1\\nK:D\\nd|", None), (5, "X:1\\nK:G\\nG|", None)])
    [('X:1', 'X:1 (line 2)'), ('X:1', 'X:1 (line 5)')]
    """
    from tokenization.abc_tunebook import abc_lines

    names = []
    for start, tune, raw in found:
        heading = [line for line in abc_lines(tune) if line.startswith(("X:", "T:"))]
        if raw is not None and raw.unreadable:
            names.append(f"row {raw.row}")
        elif bare:
            names.append(f"snippet at line {start}")
        else:  # a blank name printed an empty heading and gave "tune": "" in --json
            names.append(" ".join(heading[:2]) or f"tune at line {start}")
    count = Counter(names)
    return [
        (name, f"{name} (line {start})" if count[name] > 1 else name)
        for (start, _, _), name in zip(found, names)
    ]


def snippet_error(err: AbcParseError, first_line: int) -> str:
    """The `AbcParseError` ``err`` of a headerless snippet read as ``X:1`` over its bars, at the
    lines the user typed, the bars starting at ``first_line``: ``line N, column C: ...`` without
    the ``X:`` line added; an error of the whole snippet, which the reader raises at its first
    line (the ``X:`` added, whose column the user never typed), as ``the snippet from line N``.
    ``irish-tune identify`` and the demo's Name that tune word them alike.

    >>> from tokenization.abc_tune import AbcParseError
    >>> snippet_error(AbcParseError("tune has no notes", line=1, column=1), 4)
    'the snippet from line 4: tune has no notes'
    >>> snippet_error(AbcParseError("']' without a chord", line=3, column=5), 4)
    "line 5, column 5: ']' without a chord"
    """
    if err.line is None or err.line == 1:  # (no line: the reader's error of the whole text)
        return f"the snippet from line {first_line}: {err.message}"
    return f"line {first_line + err.line - 2}, column {err.column}: {err.message}"
