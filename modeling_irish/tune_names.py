"""How messages name the tunes of a file or a pasted text: by their ``X:`` and ``T:`` lines
(`tune_names`), as ``irish-tune identify`` heads each tune's list and the demo names the tunes
of a paste of several."""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["tune_names"]


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
