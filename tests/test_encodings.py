"""Every text file the project opens names its encoding, and every subprocess read as text is
decoded as UTF-8: a tune title with a fada reads the same whatever the locale (``LANG=C`` on a
cluster node, cp1252 on Windows). Ruff's ``PLW1514`` is preview-only, so this test is the guard:
it walks the project's own ``.py`` files with `ast` and names each call that leaves the encoding
to the locale, as ``file:line``."""

from __future__ import annotations

import ast
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
