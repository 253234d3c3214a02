"""Every text file the project opens names its encoding, and every subprocess read as text is
decoded as UTF-8: a tune title with a fada reads the same whatever the locale (``LANG=C`` on a
cluster node, cp1252 on Windows). Ruff's ``PLW1514`` is preview-only, so this test is the guard:
it walks the project's own ``.py`` files with `ast`, the code of their docstrings' doctest examples
too, and names each call that leaves the encoding to the locale, as ``file:line``."""

from __future__ import annotations

import ast
import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The folders whose ``.py`` files are the project's: the packages, the scripts, the tests.
FOLDERS = ("irish_tune", "modeling_irish", "tokenization", "training", "benchmarks", "tests")
#: The `subprocess` calls that take ``text=True`` / ``universal_newlines=True``.
SUBPROCESS_CALLS = {"run", "Popen", "check_output", "call", "check_call"}
#: The `tempfile` files that take a ``mode`` first (binary unless told otherwise).
TEMPFILE_CALLS = {"NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile"}
#: A file mode as ``open``/``Path.open`` take it: what a ``.open("w")`` of a path looks like.
_MODE = re.compile(r"[rwax]\+?[bt]?\+?")


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    """The call's named arguments (``**kwargs`` leaves out: see `_unknowable`)."""
    return {word.arg: word.value for word in call.keywords if word.arg is not None}


def _unknowable(call: ast.Call) -> bool:
    """``*args`` or ``**kwargs`` in the call: the encoding may be among them (a wrapper)."""
    starred = any(isinstance(arg, ast.Starred) for arg in call.args)
    return starred or any(word.arg is None for word in call.keywords)


def _argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    """The argument at ``position`` or called ``name``; None where the call leaves it out."""
    if len(call.args) > position:
        return call.args[position]
    return _keywords(call).get(name)


def _is_text_mode(mode: ast.expr | None, default: str) -> bool:
    """Whether ``mode`` (None: the call's ``default``) opens in text mode; a mode only known at
    run time counts as text: the call then names its encoding, which binary modes refuse."""
    if mode is None:
        return "b" not in default
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return "b" not in mode.value
    return True


def _name(func: ast.expr) -> tuple[str | None, str]:
    """``(owner, name)`` of a called ``func``: ``("os", "fdopen")``, ``(None, "open")``;
    owner is None for a bare name and ``"?"`` for an expression (``path.open``)."""
    if isinstance(func, ast.Name):
        return None, func.id
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else "?"
        return owner, func.attr
    return "?", ""


def _leaves_encoding_out(call: ast.Call) -> str | None:
    """What ``call`` opens or decodes by the locale's encoding (``"open() in text mode"``), or
    None where it names one, opens binary, or cannot be told from the source."""
    if "encoding" in _keywords(call) or _unknowable(call):
        return None
    owner, name = _name(call.func)
    if name == "open" and owner in (None, "io", "builtins"):
        if _is_text_mode(_argument(call, 1, "mode"), "r") and len(call.args) < 4:
            return "open() in text mode"
    elif name == "fdopen" and owner == "os":
        if _is_text_mode(_argument(call, 1, "mode"), "r") and len(call.args) < 4:
            return "os.fdopen() in text mode"
    elif name == "open" and owner not in ("os", "tarfile", "wave", "gzip", "zipfile", "mido"):
        mode = _argument(call, 0, "mode")  # Path.open(mode); other .open()s take a path first
        plain = mode is None and not call.args and not call.keywords
        looks_like_mode = isinstance(mode, ast.Constant) and isinstance(mode.value, str)
        if plain or (looks_like_mode and _MODE.fullmatch(mode.value) and "b" not in mode.value):
            return "Path.open() in text mode"
    elif name == "read_text":
        if not call.args:
            return "read_text()"
    elif name == "write_text":
        if len(call.args) < 2:
            return "write_text()"
    elif name in TEMPFILE_CALLS and owner in (None, "tempfile"):
        if _is_text_mode(_argument(call, 0, "mode"), "w+b"):
            return f"tempfile.{name}() in text mode"
    elif name in SUBPROCESS_CALLS:
        words = _keywords(call)
        text = [words.get("text"), words.get("universal_newlines")]
        if any(isinstance(v, ast.Constant) and v.value is True for v in text):
            return f"{name}(..., text=True)"
    return None


def unspecified_encodings(source: str, filename: str) -> list[str]:
    """``"file:line: what"`` for each call in ``source`` that leaves the encoding to the locale."""
    tree = ast.parse(source, filename=filename)
    return [
        f"{filename}:{node.lineno}: {what} without encoding="
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (what := _leaves_encoding_out(node))
    ]


def _docstring_nodes(tree: ast.AST) -> list[ast.Constant]:
    """The docstrings of ``tree``: of the module, and of each class and function in it."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [
        node.body[0].value
        for node in ast.walk(tree)
        if isinstance(node, owners)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
        and isinstance(node.body[0].value.value, str)
    ]


def doctest_encodings(source: str, filename: str) -> list[str]:
    """`unspecified_encodings` of the code in the doctest examples of ``source``'s docstrings,
    each call named at its line in the file (exact for a docstring with no line continuation
    before it). An example's source is the docstring's value, as doctest reads it."""
    found = []
    for node in _docstring_nodes(ast.parse(source, filename=filename)):
        for example in doctest.DocTestParser().get_examples(node.value):
            tree = ast.parse(example.source, filename=filename)  # an example is Python
            found += [
                f"{filename}:{node.lineno + example.lineno + call.lineno - 1}: {what} without "
                "encoding="
                for call in ast.walk(tree)
                if isinstance(call, ast.Call) and (what := _leaves_encoding_out(call))
            ]
    return found


def project_files() -> list[Path]:
    """The project's ``.py`` files, sorted."""
    return sorted(path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py"))


def test_the_walk_reads_the_project():
    names = {path.relative_to(ROOT).as_posix() for path in project_files()}
    assert "modeling_irish/abc_corpus_cache.py" in names and "tests/test_encodings.py" in names
    assert "benchmarks/bench_check.py" in names and "training/train.py" in names


@pytest.mark.parametrize(
    "line",
    [
        "open(path)",
        "open(path, 'w')",
        "open(path, mode='a+')",
        "open(path, mode)",
        "io.open(path, 'rt')",
        "os.fdopen(fd, 'w')",
        "path.open()",
        "path.open('w', newline='')",
        "path.read_text()",
        "path.write_text(text)",
        "tempfile.NamedTemporaryFile('w', suffix='.py')",
        "subprocess.run(cmd, capture_output=True, text=True)",
        "subprocess.check_output(cmd, universal_newlines=True)",
        "subprocess.Popen(cmd, stdout=PIPE, text=True)",
    ],
)
def test_a_call_leaving_the_encoding_to_the_locale_is_named(line):
    [found] = unspecified_encodings(f"x = 1\n{line}\n", "here.py")
    assert found.startswith("here.py:2: ") and found.endswith(" without encoding=")


@pytest.mark.parametrize(
    "line",
    [
        "open(path, 'rb')",
        "open(path, mode='wb')",
        "open(path, encoding='utf-8')",
        "open(path, 'w', -1, 'utf-8')",
        "open(path, *args, **kwargs)",
        "os.open(path, os.O_RDONLY)",
        "os.fdopen(fd, 'wb')",
        "tarfile.open(path, 'w:gz')",
        "wave.open(path, 'wb')",
        "midi.open(tmp, 'wb')",
        "path.open('rb')",
        "path.read_text(encoding='utf-8')",
        "path.read_text('utf-8')",
        "path.write_text(text, encoding='utf-8')",
        "path.read_bytes()",
        "tempfile.TemporaryFile()",
        "tempfile.NamedTemporaryFile('w', encoding='utf-8')",
        "subprocess.run(cmd, capture_output=True)",
        "subprocess.run(cmd, text=True, encoding='utf-8', errors='replace')",
        "subprocess.run(cmd, text=False)",
    ],
)
def test_a_call_that_names_its_encoding_or_reads_bytes_passes(line):
    assert unspecified_encodings(line, "here.py") == []


def test_every_project_file_names_its_encodings():
    found = [
        problem
        for path in project_files()
        for problem in unspecified_encodings(
            path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix()
        )
    ]
    assert not found, f"{len(found)} calls leave the encoding to the locale:\n" + "\n".join(found)


def test_a_doctest_example_leaving_the_encoding_to_the_locale_is_named():
    source = (
        "def f():\n"
        '    """Write.\n\n'
        "    >>> x = 1\n"
        '    >>> with open(path, "w") as handle:\n'
        "    ...     _ = handle.write(text)\n"
        '    >>> open(path, "w", encoding="utf-8").close()\n'
        '    """\n'
    )
    assert doctest_encodings(source, "here.py") == [
        "here.py:5: open() in text mode without encoding="
    ]
    assert unspecified_encodings(source, "here.py") == []  # the code alone: nothing to name


def test_every_project_docstring_example_names_its_encodings():
    """The code check passed over the doctest examples, which a reader copies: `run_log`,
    `file_utils` and `render_svg` opened files to write in the locale's encoding there."""
    found = [
        problem
        for path in project_files()
        for problem in doctest_encodings(
            path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix()
        )
    ]
    assert not found, f"{len(found)} examples leave the encoding to the locale:\n" + "\n".join(
        found
    )
