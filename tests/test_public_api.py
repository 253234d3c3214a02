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

A module's underscored names are its own: no module of the packages or the benchmarks imports one
from another module of the packages (``from tokenization.abc_lexer import _length``), nor reads
one off a module it imported (``abc_lexer._length``). A helper that other modules need is public
in its home module, in its `__all__`, documented and typed, so a refactor sees who uses it. The
tests may reach into internals; `PRIVATE_IMPORTS` names the few exceptions, each with its reason.

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

PACKAGES = ("irish_tune", "modeling_irish", "tokenization", "training")
# Underscored names a file may still take from another module, ``(file, "module.name")``: why.
PRIVATE_IMPORTS = {
    ("benchmarks/bench_name_that_tune.py", f"modeling_irish.semiglobal.{name}"): (
        "it times the edit-distance kernels of other commits, where they have these names"
    )
    for name in ("_pattern_table", "_myers_scan_table", "_myers_scan")
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


def module_of(path: Path, node: ast.ImportFrom, root: Path) -> str:
    """The module a ``from ... import`` of the file `path` (under `root`) reads, its relative
    form (``from .abc_lexer import``, ``from . import``) made absolute."""
    if not node.level:
        return node.module or ""
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = parts[:-1][: len(parts) - node.level]  # a package's __init__ is in the package
    return ".".join(package + ([node.module] if node.module else []))


def is_project_module(name: str) -> bool:
    """Whether `name` is a module of the project (a class's private attributes are its own)."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def private_imports(files: Iterable[Path], root: Path) -> list[str]:
    """``file:line: module.name`` for each underscored name (a dunder aside) that `files` take
    from a module of the packages: by ``from module import _name``, or as ``alias._name`` of a
    module imported by ``import module as alias`` or ``from package import module`` (a class's
    private attributes, ``Tune._name``, are its own business)."""
    found = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(root).as_posix()
        modules: dict[str, str] = {}  # a name bound to a module of the packages: the module
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in PACKAGES:
                        modules[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom):
                module = module_of(path, node, root)
                if module.split(".")[0] not in PACKAGES:
                    continue
                for alias in node.names:
                    name = f"{module}.{alias.name}"
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{where}:{node.lineno}: {name}")
                    elif is_project_module(name):  # ``from tokenization import abc_lexer``
                        modules[alias.asname or alias.name] = name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and (dotted := ast.unparse(node.value)) in modules
            ):
                found.append(f"{where}:{node.lineno}: {modules[dotted]}.{node.attr}")
    return found


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


def test_no_module_takes_another_ones_private_names():
    """The packages and the benchmarks use only the public names of one another's modules
    (`PRIVATE_IMPORTS` aside): a helper two modules share is public where it lives."""
    files = [path for folder in PACKAGES for path in (ROOT / folder).rglob("*.py")]
    files += list((ROOT / "benchmarks").glob("*.py"))
    found = {
        line: (line.split(":")[0], line.rsplit(" ", 1)[1]) for line in private_imports(files, ROOT)
    }
    unexpected = [line for line, taken in found.items() if taken not in PRIVATE_IMPORTS]
    assert not unexpected, f"{len(unexpected)} private names taken from another module:\n" + (
        "\n".join(unexpected)
    )
    assert set(PRIVATE_IMPORTS) <= set(found.values())  # no stale exception


def test_the_private_import_walk_finds_each_form(tmp_path):
    """`private_imports`: absolute and relative ``from`` imports, a module's attribute, and
    nothing for a dunder, another package, or a private name of the file's own."""
    package = tmp_path / "tokenization"
    package.mkdir()
    source = package / "user.py"
    source.write_text(
        "from __future__ import annotations\n"
        "from tokenization.abc_lexer import _length, canonical_bar\n"
        "from .keys import _octave_option as octave\n"
        "from . import abc_layout\n"
        "from tokenization.keys import Key\n"
        "import modeling_irish.semiglobal as sg\n"
        "from numpy import _private\n"
        "from training import __version__\n"
        "def _own():\n"
        "    return abc_layout._Lines, sg._myers_scan, _own, abc_layout.__name__, Key._x\n",
        encoding="utf-8",
    )
    assert private_imports([source], tmp_path) == [
        "tokenization/user.py:2: tokenization.abc_lexer._length",
        "tokenization/user.py:3: tokenization.keys._octave_option",
        "tokenization/user.py:10: tokenization.abc_layout._Lines",
        "tokenization/user.py:10: modeling_irish.semiglobal._myers_scan",
    ]
