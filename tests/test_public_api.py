"""The public API keeps the house style (STYLE.md 17-18): every module of the packages users
import from declares `__all__`, and every function and class it names has a docstring and a fully
typed signature, its public methods too. The training package is held to it as well: users run
its scripts and read its code. The packages' modules import one another by name, so each says
what it offers: its `__all__` holds each public name that the packages, the tests and the
benchmarks take with ``from <package>.<module> import``, a name it re-exports too.

The rules, as checked here:

- a docstring of its own on each function and class of an `__all__`, and on each public method
  and property a class defines itself (inherited ones are their base's business); ``__init__`` is
  documented by its class's docstring (the transformers way, ``Args:`` in the class docstring);
- every parameter annotated except ``self``/``cls``, ``*args`` and ``**kwargs`` included (`Any`
  where they pass through to transformers or torch: a name left bare tells the reader nothing),
  and a return annotation on every function and method, ``__init__ -> None`` included.

Whether a user-facing name has an example is `tests/test_doctests.py`'s business (each module's
docstrings hold examples), not checked here name by name.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import project_modules

MODULES = project_modules()
ROOT = Path(__file__).resolve().parents[1]
# Modules that declare no `__all__`, and why: nothing in them is imported by name.
NO_ALL = {
    "irish_tune.__main__": "runs the console script (python -m irish_tune)",
    "modeling_irish.metrics": "holds metric scripts, loaded by path with evaluate.load",
    "modeling_irish.metrics.retrieval_mrr": "a metric script, loaded by path with evaluate.load",
}


def own_docstring(obj: Any) -> str | None:
    """`obj`'s own docstring: not a base class's, nor the one ``@dataclass`` or ``NamedTuple``
    writes from the signature when there is none (``Name(field: type, ...)``)."""
    doc = vars(obj).get("__doc__") if inspect.isclass(obj) else obj.__doc__
    if doc and inspect.isclass(obj) and re.fullmatch(rf"{obj.__name__}\(.*\)", doc, re.S):
        return None
    return doc


def public_methods(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """The methods and properties (as their getter) that `cls` defines itself, ``__init__`` among
    them, but no other underscored name."""
    for name, value in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        elif isinstance(value, property):
            value = value.fget
        if inspect.isfunction(value):
            yield name, value


def unannotated(func: Callable[..., Any]) -> list[str]:
    """The parameters of `func` without an annotation (``return`` for a missing return type)."""
    signature = inspect.signature(func)
    bare = [
        name
        for index, (name, parameter) in enumerate(signature.parameters.items())
        if parameter.annotation is inspect.Parameter.empty
        and not (index == 0 and name in ("self", "cls"))
    ]
    if signature.return_annotation is inspect.Signature.empty:
        bare.append("return")
    return bare


def api_problems(module: Any) -> list[str]:
    """What each function and class of `module.__all__` misses, one line each."""
    problems = []
    for name in getattr(module, "__all__", ()):  # a module without one: the test above
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            members = [(name, obj)]
        elif inspect.isclass(obj):
            members = [(f"{name}.{method}", func) for method, func in public_methods(obj)]
        else:
            continue  # a constant, a type alias, a compiled kernel (documented by its module)
        if not own_docstring(obj):
            problems.append(f"{name}: no docstring")
        for where, func in members:
            if not where.endswith("__init__") and inspect.isclass(obj) and not func.__doc__:
                problems.append(f"{where}: no docstring")
            bare = unannotated(func)
            if bare:
                problems.append(f"{where}: not annotated: {', '.join(bare)}")
    return problems


def names_imported_from(package: str, files: Iterable[Path]) -> dict[str, set[str]]:
    """``{module: names}``: the public names that the ``from <package>.<module> import ...``
    statements of `files` take from each module of `package` (underscored ones left out)."""
    imported: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package + "."):
                names = {alias.name for alias in node.names if not alias.name.startswith("_")}
                imported.setdefault(node.module, set()).update(names)
    return imported


def test_the_walk_finds_the_modules():
    wanted = {
        "irish_tune.parser",
        "modeling_irish.modeling_measurenote",
        "tokenization.abc_lexer",
        "training.train",
    }
    assert wanted <= set(MODULES)
    assert set(NO_ALL) <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_the_module_declares_all(name):
    has_all = hasattr(importlib.import_module(name), "__all__")
    assert has_all != (name in NO_ALL), f"{name}: __all__ {'missing' if not has_all else 'found'}"


@pytest.mark.parametrize("name", sorted(set(MODULES) - set(NO_ALL)))
def test_public_names_are_documented_and_typed(name):
    module = importlib.import_module(name)
    problems = api_problems(module)
    assert not problems, f"{name}: {len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("package", ["irish_tune", "modeling_irish", "tokenization", "training"])
def test_all_holds_what_the_project_imports(package):
    """`__all__` holds what the rest of the project takes from a module of `package`: the names
    the packages, the tests and the benchmarks import from it, one it re-exports too (a private
    helper a test reaches into aside, and a submodule: ``from package.sub import module``)."""
    files = [
        path
        for folder in ("irish_tune", "modeling_irish", "tokenization", "training", "tests")
        for path in (ROOT / folder).rglob("*.py")
    ] + list((ROOT / "benchmarks").glob("*.py"))
    imported = names_imported_from(package, files)
    assert imported  # the walk found the imports
    missing = []
    for module_name, names in sorted(imported.items()):
        module = importlib.import_module(module_name)
        missing += [
            f"{module_name}: {name}"
            for name in sorted(names - set(getattr(module, "__all__", ())))
            if not inspect.ismodule(getattr(module, name, None))
        ]
    assert not missing, f"{len(missing)} imported names not in __all__:\n" + "\n".join(missing)


def test_the_checks_catch_what_they_look_for():
    """The checks themselves: a bare function, a class without docstrings, a generated one."""
    from dataclasses import dataclass

    def bare(x, *args, **kwargs):
        pass

    class Bare:
        def __init__(self, x: int):
            pass

        @property
        def size(self) -> int:
            return 1

    @dataclass
    class Generated:
        x: int

    assert unannotated(bare) == ["x", "args", "kwargs", "return"]
    assert own_docstring(Generated) is None and own_docstring(Bare) is None
    module = type(importlib)("fake")
    module.__all__ = ["bare", "Bare"]
    module.bare, module.Bare = bare, Bare
    assert api_problems(module) == [
        "bare: no docstring",
        "bare: not annotated: x, args, kwargs, return",
        "Bare: no docstring",
        "Bare.__init__: not annotated: return",
        "Bare.size: no docstring",
    ]


def test_the_import_walk_reads_from_imports(tmp_path):
    """`names_imported_from`: the package's submodules only, private names left out."""
    source = tmp_path / "user.py"
    source.write_text(
        "from training.common import writing, _private as p\n"
        "import training.hub\n"
        "from training import run_folder\n"
        "from trainingx.other import thing\n"
        "def f():\n    from training.common import UsageError\n",
        encoding="utf-8",
    )
    assert names_imported_from("training", [source]) == {
        "training.common": {"writing", "UsageError"}
    }
