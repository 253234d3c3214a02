"""Strict JSON for what the commands print and the runs write: JSON has no NaN or infinity (a
diverged model's NLL, a loss), and parsers other than Python's (``jq``, JavaScript's
``JSON.parse``) refuse the bare ``NaN`` that `json.dumps` writes by default. `json_dumps` writes
each non-finite float as null instead and has a warning name it (its key, ``runs[0].lr``), so
that nothing is changed in silence. It imports nothing heavy: ``irish-tune check --json`` and
``training/common.py`` use it as well as the commands that load a model. The plain-text
outputs (no ``--json``) print such a figure, or one that is None, as `shown_figure` does:
``n/a`` with the reason, as the model cards write it, never a bare ``nan``.

>>> json_dumps({"nll": 2.5, "runs": [{"lr": float("nan")}]}, "example", warn=print)
example: runs[0].lr not a finite number (NaN or infinite): written as null (JSON has no NaN)
'{"nll": 2.5, "runs": [{"lr": null}]}'
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from typing import Any

__all__ = [
    "NOT_FINITE",
    "SINGLE_QUERY",
    "json_dumps",
    "json_safe",
    "non_finite_message",
    "print_json",
    "shown_figure",
    "strict_json",
]

#: Why `shown_figure` prints a NaN or infinite figure as ``n/a``.
NOT_FINITE = "not a finite number"
#: Why a standard error over the queries is None, shown as ``n/a``: one query has none (the
#: sample standard deviation divides by n - 1). The text reports and the model cards say it.
SINGLE_QUERY = "a single query"


def json_safe(value: Any, found: list[str] | None = None, key: str = "") -> Any:
    """``value`` with every NaN or infinite float, at any depth of dicts and lists, as None;
    the key of each (``runs[0].lr``) is added to ``found``, when given.

    >>> found = []
    >>> json_safe({"a": [float("nan"), 1.5], "b": {"c": float("-inf")}}, found), found
    ({'a': [None, 1.5], 'b': {'c': None}}, ['a[0]', 'b.c'])
    """
    if isinstance(value, float):
        if not math.isfinite(value) and found is not None:
            found.append(key)
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v, found, f"{key}.{k}" if key else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, found, f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def non_finite_message(where: str, keys: list[str]) -> str:
    """The warning that names the figures `json_safe` wrote as null, ``where`` (a file, a
    command) first.

    >>> non_finite_message("all_results.json", ["train_loss", "eval_nll"])[:52]
    'all_results.json: eval_nll, train_loss not a finite '
    """
    named = ", ".join(sorted(keys))
    why = "not a finite number (NaN or infinite): written as null (JSON has no NaN)"
    return f"{where}: {named} {why}"


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def strict_json(data: Any, where: str, warn: Callable[[str], None] | None = None) -> Any:
    """``data`` as `json_safe` makes it; when it held a NaN or infinite float, ``warn`` (default:
    a line on stderr) is given `non_finite_message` naming them, ``where`` first."""
    found: list[str] = []
    safe = json_safe(data, found)
    if found:
        (warn or _to_stderr)(non_finite_message(where, found))
    return safe


def json_dumps(
    data: Any, where: str, warn: Callable[[str], None] | None = None, **options: Any
) -> str:
    """`json.dumps` of ``data`` made strict by `strict_json` (``where`` and ``warn`` as there);
    ``options`` are `json.dumps`'s (``indent``, ``sort_keys``, ``default``...). A NaN that
    ``default`` returns is still refused (``allow_nan=False``: a `ValueError`), not written."""
    return json.dumps(strict_json(data, where, warn), allow_nan=False, **options)


def print_json(data: Any, command: str) -> None:
    """Print ``data`` as the one JSON object of ``irish-tune COMMAND --json`` on stdout, strict:
    a NaN or infinite figure is printed as null and named in a warning on stderr
    (``irish-tune evaluate-lm: nll, perplexity not a finite number ...``)."""
    print(json_dumps(data, f"irish-tune {command}"))


def shown_figure(value: Any, spec: str = ".4f", why: str = "") -> str:
    """A figure as a plain-text output prints it: ``format(value, spec)``, or, for a figure
    that is None or not a finite number (NaN, infinite), ``n/a (why)``: ``why`` (what made it
    undefined, as the command knows it) or, by default, `NOT_FINITE` for a NaN or infinite
    one and no reason for None. An int is printed whole.

    >>> shown_figure(2.5), shown_figure(7), shown_figure(float("nan"))
    ('2.5000', '7', 'n/a (not a finite number)')
    >>> shown_figure(None, why=SINGLE_QUERY), shown_figure(None)
    ('n/a (a single query)', 'n/a')
    """
    if isinstance(value, float) and math.isfinite(value):
        return format(value, spec)
    if value is None or isinstance(value, float):
        why = why or ("" if value is None else NOT_FINITE)
        return f"n/a ({why})" if why else "n/a"
    return str(value)
