"""How messages name the tunes of a file or a pasted text: by their ``X:`` and ``T:`` lines
(`tune_names`), as ``irish-tune identify`` heads each tune's list and the demo names the tunes
of a paste of several, and where a headerless snippet's error is (`snippet_error`)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenization.abc_tune import AbcParseError

__all__ = ["placed_names", "snippet_error", "tune_names"]


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
    names = [_tune_name(start, tune, raw, bare)[0] for start, tune, raw in found]
    count = Counter(names)
    return [
        (name, f"{name} (line {start})" if count[name] > 1 else name)
        for (start, _, _), name in zip(found, names)
    ]


def placed_names(found: list[tuple[int, str, Any]], bare: bool = False) -> list[str]:
    """The name of each ``(first line, text, raw)`` tune of a pasted text (`tune_names`' name)
    with the line it starts on, said once: ``(line N)`` added to its ``X:`` and ``T:`` lines,
    not to a name that is its place already (``"tune at line N"``, ``"snippet at line N"``).

    >>> placed_names([(1, "K:D\\nd|", None), (4, "X:2\\nT:B\\nK:G\\nG|", None)])
    ['tune at line 1', 'X:2 T:B (line 4)']
    """
    placed = []
    for start, tune, raw in found:
        name, at_its_line = _tune_name(start, tune, raw, bare)
        placed.append(name if at_its_line else f"{name} (line {start})")
    return placed


def _tune_name(start: int, tune: str, raw: Any, bare: bool) -> tuple[str, bool]:
    """`tune_names`' name of one tune, and whether it names the tune's first line already (a
    tune named by no ``X:`` or ``T:`` line is named by its place)."""
    from tokenization.abc_tunebook import abc_lines

    if raw is not None and raw.unreadable:
        return f"row {raw.row}", False
    if bare:
        return f"snippet at line {start}", True
    heading = [line for line in abc_lines(tune) if line.startswith(("X:", "T:"))]
    # a blank name printed an empty heading and gave "tune": "" in --json
    return (" ".join(heading[:2]), False) if heading else (f"tune at line {start}", True)


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
