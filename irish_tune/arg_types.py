"""The argument types and the help formatter of the command lines (`irish-tune`,
``training/train.py``, the benchmarks): each type checks one value as the arguments are read and
says what is wrong with it in argparse's one-line error. Nothing heavy is imported here, so that
``--help`` and a mistyped flag are answered at once (torch and transformers take seconds)."""

from __future__ import annotations

import argparse
import os
import sys

__all__ = [
    "MAX_WEIGHT",
    "MUSIC21_BOOKS",
    "DefaultsHelpFormatter",
    "VersionAction",
    "abc_source",
    "blank_source",
    "book_names",
    "existing_file",
    "existing_folder",
    "named_source",
    "no_such_source",
    "non_negative_float",
    "non_negative_int",
    "number",
    "package_version",
    "positive_float",
    "positive_int",
    "score_weight",
    "share",
    "shown_source",
    "whole_number",
]

#: music21's bundled Irish books that a source may name (= the keys of
#: `modeling_irish.abc_sources.MUSIC21_COLLECTIONS`, not imported: the command line starts light).
MUSIC21_BOOKS = ("oneills1850", "ryansMammoth")


def no_such_source(text: str | None = None) -> str:
    """The one wording of a source that is no file, folder nor music21 book, for every command
    (the argument types here, ``training/train.py``'s corpus checks, `load_abc_corpus`): the
    path (when given, `shown_source`) and then the names it could also have been, in words, not
    a Python list.

    >>> no_such_source("tunes.abc")
    "no such file or folder: tunes.abc (nor 'music21', 'oneills1850' or 'ryansMammoth')"
    >>> no_such_source(" ")
    "no such file or folder: ' ' (nor 'music21', 'oneills1850' or 'ryansMammoth')"
    >>> no_such_source()
    "no such file or folder (nor 'music21', 'oneills1850' or 'ryansMammoth')"
    """
    where = "" if text is None else f": {shown_source(text)}"
    return f"no such file or folder{where} (nor {book_names()})"


def blank_source(text: str) -> str | None:
    """Why ``text`` names no source when it is empty or only whitespace (``Path("")`` is the
    current folder, whose every ``*.abc`` file would be read; ``" "``, an unset shell variable
    in quotes, was told as a missing file with an invisible name), else None.

    >>> blank_source(" ").split(";")[0]
    "an ABC source is only whitespace (' ')"
    >>> blank_source("tunes.abc") is None
    True
    """
    if text.strip():
        return None
    what = "the empty string" if text == "" else f"only whitespace ({text!r})"
    return (
        f"an ABC source is {what}; give a file, a folder ('.' for the current one), {book_names()}"
    )


def shown_source(text: str) -> str:
    """A source's name as a message shows it: quoted (``repr``) when it is empty or starts or
    ends with whitespace, which the bare name leaves invisible (``--corpus " "``, an unset
    shell variable), else as written.

    >>> shown_source("tunes.abc"), shown_source(" "), shown_source("")
    ('tunes.abc', "' '", "''")
    """
    return repr(text) if not text or text != text.strip() else text


def book_names() -> str:
    """The names a source may give instead of a path, as the messages list them.

    >>> book_names()
    "'music21', 'oneills1850' or 'ryansMammoth'"
    """
    names = [repr(name) for name in ("music21", *MUSIC21_BOOKS)]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def package_version() -> str:
    """The installed modeling-irish version, for the ``--version`` of `irish-tune` and of
    ``training/train.py`` (read from the package metadata: importing `modeling_irish` for its
    ``__version__`` would load torch)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("modeling-irish")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "(not installed)"


class VersionAction(argparse.Action):
    """``--version``: prints ``PROG VERSION`` (`package_version`) and exits 0, as argparse's
    ``action="version"`` does, but reads the version only when the flag is given: looking it up
    in the installed packages' metadata took a twentieth of a second of every command's start.
    Printed through the parser's ``_print_message``, so a parser that silences it (training's,
    in the other processes of a launch) silences this too."""

    def __init__(
        self,
        option_strings: list[str],
        dest: str = argparse.SUPPRESS,
        default: str = argparse.SUPPRESS,
        help: str = "show program's version number and exit",  # noqa: A002 - argparse's name
    ) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser._print_message(f"{parser.prog} {package_version()}\n", sys.stdout)
        parser.exit()


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that shows each flag's default, unless the help already speaks of it or the default
    is None, False or empty (argparse's `ArgumentDefaultsHelpFormatter` prints those too). In
    a description or epilog, a line that starts with two spaces (an example command) is kept as
    written; the other lines of a paragraph are filled to the terminal's width as argparse does.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = text.split("\n\n")
        return "\n\n".join(
            "\n".join(indent + line for line in paragraph.splitlines())
            if paragraph.startswith("  ") or "\n  " in paragraph
            else super(DefaultsHelpFormatter, self)._fill_text(paragraph, width, indent)
            for paragraph in paragraphs
        )

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default  # `is`: 0 and 0.0 are defaults worth showing, False is not
        quiet = default is None or default is False or default == argparse.SUPPRESS
        quiet = quiet or action.nargs == 0  # a switch (store_true/false): its default says little
        quiet = quiet or (isinstance(default, (list, tuple)) and not default)
        if quiet or "default" in text.lower():
            return text
        return f"{text} (default: %(default)s)"


def whole_number(text: str) -> int:
    """argparse type: an integer (its error names the text)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def number(text: str) -> float:
    """argparse type: a number (its error names the text)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    value = number(text)
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


#: The largest weight a scoring option takes (`score_weight`): far above any useful one (the
#: hybrid's is 8), far below where the float scores it multiplies overflow.
MAX_WEIGHT = 1e6  # = edit_distance.MAX_SCORE_WEIGHT (not imported: the CLI starts light)


def score_weight(text: str) -> float:
    """argparse type: a weight of a score, a finite number from 0 to `MAX_WEIGHT` (a weight
    like 1e308 overflows the scores it multiplies and silently changes the ranking).

    >>> score_weight("8")
    8.0
    """
    value = non_negative_float(text)
    if value > MAX_WEIGHT:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_WEIGHT:.0f} (far larger weights overflow the scores), got {text}"
        )
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = number(text)
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def share(text: str) -> float:
    """argparse type: a share between 0 and 1, both included."""
    value = number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, got {text}")
    return value


def existing_file(text: str) -> str:
    """argparse type: a local file that exists (checked when the arguments are read, before any
    slow work)."""
    if not os.path.isfile(text):
        what = "is a folder, not a file" if os.path.isdir(text) else "no such file"
        raise argparse.ArgumentTypeError(f"{what}: {text}")
    return text


def abc_source(text: str) -> str:
    """argparse type: an ABC source that exists: a file, a folder, ``music21`` or one of its
    bundled books (``oneills1850``, ``ryansMammoth``), as `load_abc_corpus` reads them.

    >>> abc_source("oneills1850")
    'oneills1850'
    """
    blank = blank_source(text)
    if blank:
        raise argparse.ArgumentTypeError(blank)
    if not os.path.exists(text) and text not in (*MUSIC21_BOOKS, "music21"):
        raise argparse.ArgumentTypeError(no_such_source(text))
    return text


def named_source(text: str) -> str:
    """argparse type: an ABC source that exists (`abc_source`: a file, folder, dump or music21
    book), not ``-``: the options that read several sources (``index``'s corpus,
    ``evaluate-retrieval --train``) do not read stdin. Both were found out only once the
    model had loaded (seconds, and the reading's progress bars before the error).

    >>> named_source("oneills1850")
    'oneills1850'
    """
    if text == "-":
        raise argparse.ArgumentTypeError(
            "- (stdin) is not read here: give ABC files, folders or thesession.org dumps"
        )
    return abc_source(text)


def existing_folder(text: str) -> str:
    """argparse type: a local folder that exists (checked when the arguments are read: a
    missing one would otherwise be taken for a Hub repository name, with minutes of retries)."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    return text
