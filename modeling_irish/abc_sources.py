"""Reading ABC sources into raw tune texts: tunebook files, folders, thesession.org dumps (their
rows read by `modeling_irish.session_dump`) and music21's bundled books (O'Neill's 1850, Ryan's
Mammoth). Used by `modeling_irish.abc_corpus`."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, Union

from irish_tune.arg_types import blank_source, book_names, no_such_source
from tokenization.abc_header import (
    file_header_fields,
    file_header_transposes,
    split_tunebook,
    split_tunebook_noted,
    x_number,
)
from tokenization.abc_tunebook import (
    file_header_lines,
    file_header_tempo_forms,
    written_header_places,
)
from tokenization.capped_warnings import CappedWarnings, counted, masked
from tokenization.file_bytes import (
    NOT_TEXT,
    FolderFiles,
    abc_files,
    dump_text_reason,
    passed_over_count,
    uncompressed_name,
    warn_passed_over,
)
from tokenization.raw_tune import RawTune  # re-exported too: its home until it moved
from tokenization.reader_warnings import shown_kind, warn_tune

from .session_dump import (  # session_tune_text: re-exported, the reader's public API
    NotADumpError,
    dump_field,
    dump_format,
    dump_header,
    escaped_line_breaks,
    session_meter,
    session_rows,
    session_tune_text,
    unreadable_row,
)

logger = logging.getLogger(__name__)

__all__ = [
    "MUSIC21_COLLECTIONS",
    "RawTune",
    "ShownAs",
    "SourceLike",
    "iter_abc_tunes",
    "iter_raw_tunes",
    "music21_collection_files",
    "no_tune_reason",
    "session_tune_text",
    "shown_source",
    "source_files",
    "source_warnings",
    "distinct_sources",
    "text_tunes",
    "text_without_tunes",
    "warn_no_tunes",
    "source_list",
]

SourceLike = Union[str, os.PathLike, None]
#: How messages spell sources: a source as read (``str`` of it) -> as the user typed it
#: (`iter_raw_tunes`'s ``shown``); a source not in it is named as read.
ShownAs = Mapping[str, str]
_Source = TypeVar("_Source", bound=SourceLike)

#: music21's bundled Irish collections: name -> folder under ``music21.common.getCorpusFilePath()``.
MUSIC21_COLLECTIONS = {"oneills1850": "oneills1850", "ryansMammoth": "ryansMammoth"}
#: Collections numbered through the whole book (``X:`` is the tune number in the printed book), so
#: two transcriptions of one number in different files are settings of one tune.
_BOOK_NUMBERED = {"oneills1850"}


def _read_text(path: Path, said: CappedWarnings | None = None) -> str:
    """The text of one file: UTF-8, else Windows-1252 line by line (old tunebooks), a warning
    about a file that mixes the two in ``said`` when given (`read_abc_file`)."""
    from tokenization.check import read_abc_file

    return read_abc_file(path, said)


#: The kinds of the warnings of reading sources (`source_warnings`): the first few of each kind
#: are shown, then one line counts them all by reason.
_NO_TUNES = "files without tunes"
_NOT_READ = "tunes with text not read"
_SHARED_X = "files whose tunes share X: numbers"
_TEMPO_FORM = "file headers with a Q: beat not ABC 2.1"
_TWICE = "sources given twice"


def source_warnings() -> CappedWarnings:
    """The warnings of reading sources, capped (a folder of 2,000 files, many of them empty or
    messy, would flood the terminal): files (or sources) that hold no tune, with why; text of a
    tune not read; files whose tunes share ``X:`` numbers."""
    return CappedWarnings(logger)


def warn_no_tunes(said: CappedWarnings, source: Any, why: str) -> None:
    """Name ``source``, which holds no tune, and ``why`` (`no_tune_reason`) in ``said``."""
    said.warn(_NO_TUNES, why, "no ABC tunes found in %s (%s)", source, why)


def _tunebook_tunes(
    path: Path, source: str, prefix: str, said: CappedWarnings, file: str = ""
) -> Iterator[RawTune]:
    """The tunes of one file (`text_tunes`; ``file``: `RawTune.file`, of a collection's)."""
    yield from text_tunes(_read_text(path, said), source, prefix, said, file)


def text_tunes(
    text: str,
    source: str,
    prefix: str | None = None,
    said: CappedWarnings | None = None,
    file: str = "",
) -> Iterator[RawTune]:
    """The tunes of a tunebook's text (a file's, or stdin's), each with its line in the text so
    that errors name it. ``X:`` numbers name tunes only when the text keeps them unique; many
    hand-made tunebooks number every tune ``X:1``, and those tunes are told apart by line (else
    they would all be one tune, in one split). ``prefix`` (of ids): ``source`` by default.
    ``file``: the file of a collection's tune, or a file as the user typed it (`RawTune.file`),
    named in messages (the warnings here too) where ``source`` is not.
    Lines of music after the blank line that ends a tune (in the free text before the next) are
    not read, and a warning names them, as `parse_abc` warns; another names a ``%%begintext``
    block without ``%%endtext``, ended at the next ``X:`` line (`split_tunebook_noted`): each
    names its tune by file, ``X:`` and title, as `irish-tune check` does (`warn_tune`); and
    another a ``%%MIDI transpose`` or ``%%transpose`` directive in the file header, not read,
    once for the file (`file_header_transposes`; an ``I:`` one, written into every tune,
    `with_file_header`, too: `RawTune.own_warnings` leaves out each tune's own), and so a
    ``Q:`` there whose beat is not ABC 2.1 (`file_header_tempo_forms`). The
    warnings go to ``said`` (`source_warnings`, which the caller closes), else to this text's.

    >>> [(raw.line, raw.text.splitlines()[0]) for raw in text_tunes("%\\nX:1\\nK:G\\nG|", "s")]
    [(2, 'X:1')]
    """
    prefix = source if prefix is None else prefix
    where = file or source  # as messages name the file (`RawTune.file_name`)
    own = said is None
    said = source_warnings() if said is None else said
    found = []
    for line, tune, notes in split_tunebook_noted(text, standalone=True):
        if notes:  # named only then: naming every tune of a large book took seconds
            name = RawTune(source, prefix, tune, line + 1, file=file).name  # as check names it
            for note in notes:
                warn_tune(said, name, shown_kind(note) or _NOT_READ, note)
        found.append((line + 1, tune))
    for note in file_header_transposes(text):  # once for the file, not in each tune
        said.warn(_NOT_READ, masked(note), "%s: %s", where, note)
    unix = text.replace("\r\n", "\n").replace("\r", "\n")  # as split_tunebook reads it
    for note in file_header_tempo_forms(unix):  # so too a Q: beat not ABC 2.1
        said.warn(_TEMPO_FORM, masked(note), "%s: %s", where, note)
    header = file_header_fields(unix)
    if header:  # lines of each tune as written, without the file header
        written = [tune.count("\n") for _, tune in split_tunebook(text)]
    else:  # (most books: no file header, nothing written in)
        written = [tune.count("\n") for _, tune in found]
    places = file_header_lines(unix) if header else []
    # counted as the ids read them (`X: 1` is `X:1`); a tune without a number is named by line
    numbers = Counter(x_number(tune) for _, tune in found)
    repeated = sum(n for number, n in numbers.items() if n > 1 and number)
    if repeated:
        said.warn(
            _SHARED_X,
            "ids from line numbers",
            "%s: %d tunes share their X: number with another tune of the file; their ids come "
            "from their line numbers",
            where,
            repeated,
        )
    if own:
        said.close()
    for (line, tune), lines_written in zip(found, written):
        unique = numbers[x_number(tune)] == 1
        extra = tune.count("\n") - lines_written  # the file header's lines written in
        # where those are in the file, for an error of one (`RawTune.locate`)
        at = written_header_places(tune.split("\n")[1 : 1 + extra], header, places)
        yield RawTune(source, prefix, tune, line, unique, extra, file=file, header_at=at)


def _stem(path: Path) -> str:
    """A file's name without its suffix, nor a compression suffix before that (``book`` of
    ``book.abc.gz``): its tunes' id prefix."""
    return Path(uncompressed_name(path.name)).stem


def _abc_files(folder: Path, recursive: bool = True) -> list[Path]:
    """The ``*.abc`` files a folder is read as (`abc_files`: hidden ones passed over)."""
    return abc_files(folder, recursive).files


def _folder_tunes(
    folder: Path, said: CappedWarnings, typed: str = "", listed: FolderFiles | None = None
) -> Iterator[RawTune]:
    """The tunes of every ``*.abc`` file of a folder; a file that holds none is named in a
    warning, with why (the other files' tunes would hide it), as ``said`` caps them, and so
    are hidden files passed over (`abc_files`: ``.ipynb_checkpoints/``, ``.#tune.abc``) and
    the entries not read (a link to nothing, a pipe, a link to a folder: `unread_reason`). Ids
    start with the folder's own name however its path is written (``.``, ``sub/..``,
    absolute): ``Path(".").name`` is "" and ``Path("sub/..").name`` is "..", which would give
    one folder other ids, hence other ``"hash"`` splits, from another working folder.
    ``typed``: the folder as the user typed it, when read by another spelling (absolute): its
    files are named in messages as ``typed`` joined with their path in the folder
    (`RawTune.file`), the way they were given; ``source`` stays the path read. ``listed``: the
    folder's `abc_files`, when the caller walked it already (not walked again)."""
    name = Path(os.path.abspath(folder)).name  # lexically: a symlinked folder keeps its name
    walked = abc_files(folder) if listed is None else listed
    # Jupyter's checkpoints, an editor's backups (copies, not more tunes); links to nothing...
    warn_passed_over(said, folder, walked, typed)
    for path in walked.files:
        inside = path.relative_to(folder)
        rel = inside.with_name(_stem(path)).as_posix()
        file = os.path.join(typed, inside) if typed else ""
        found = False
        for raw in _tunebook_tunes(path, str(path), f"{name}/{rel}", said, file):
            found = True
            yield raw
        if not found:
            warn_no_tunes(said, file or path, no_tune_reason(path))


def text_without_tunes(text: str, empty: str = "empty file") -> str:
    """Why a text in which `text_tunes` finds no tune holds none: ``empty`` when it is blank.

    A compressed file was decompressed already, and an archive refused (`read_file_bytes`).

    A thesession.org dump given without its file name (on stdin) is said to be one
    (`dump_text_reason`): one is read from its file, by its suffix.

    >>> text_without_tunes("MThd\\x00\\x00"), text_without_tunes("Some words.")
    ('not a text file (NUL bytes)', 'a tune starts with an X: line')
    >>> text_without_tunes("tune_id,name,abc\\n")
    'a thesession.org CSV dump, which is read from a file named .csv, .json, .jsonl'
    """
    if not text.strip():
        return empty
    if "\x00" in text:
        return NOT_TEXT
    return dump_text_reason(text) or "a tune starts with an X: line"


def no_tune_reasons(sources: Sequence[SourceLike]) -> str:
    """`no_tune_reason` of each source, as the commands list them: ``"a.abc: empty file;
    b.abc: no such file or folder"``.

    >>> no_tune_reasons([Path("no such folder")])
    'no such folder: no such file or folder'
    """
    return "; ".join(f"{source}: {no_tune_reason(source)}" for source in sources)


def no_tune_reason(source: SourceLike) -> str:
    """Why a file, folder or dump that `iter_raw_tunes` finds no tune in holds none, as
    ``irish-tune check`` says it: ``"empty file"``, ``"not a text file (NUL bytes)"``, ...

    >>> no_tune_reason(Path(__file__).parent / "no such folder")
    'no such file or folder'
    """
    if source is None:  # music21's books: never without tunes, unless music21 lost them
        return "music21's corpus holds no tune"
    path = Path(_check_source(source))
    if path.is_dir():
        found = abc_files(path)
        if found.files:
            return f"none of its {len(found.files)} *.abc files holds a tune"
        passed = passed_over_count(found)
        return f"no *.abc files but {passed}" if passed else "no *.abc files"
    if not path.exists():
        return "no such file or folder"
    if not path.is_file():  # a pipe, read already: it cannot be read again to say why
        return "nothing it gave holds a tune"
    if dump_format(path):
        return "no dump row gives a tune"
    return text_without_tunes(_read_text(path))


def _music21_folder(name: str) -> Path:
    try:
        from music21 import common
    except ImportError as err:  # pragma: no cover - music21 is a dependency
        raise ImportError(
            "the embedded default corpus needs music21 (pip install music21)"
        ) from err
    return Path(common.getCorpusFilePath()) / MUSIC21_COLLECTIONS[name]


def music21_collection_files(name: str) -> list[Path]:
    """The ``*.abc`` files of one of music21's bundled collections, or of both for
    ``"music21"``.

    >>> len(music21_collection_files("oneills1850")) > 10
    True
    """
    if name == "music21":
        return [p for one in MUSIC21_COLLECTIONS for p in music21_collection_files(one)]
    if name not in MUSIC21_COLLECTIONS:
        raise ValueError(f"{name!r} is not one of {book_names()}")
    return _abc_files(_music21_folder(name), recursive=False)


def _music21_tunes(name: str, said: CappedWarnings) -> Iterator[RawTune]:
    """The tunes of one of music21's books: ``source`` the book's name (ids and the corpus's
    ``source`` column are the book's), ``file`` its file, for messages that name the line."""
    for path in music21_collection_files(name):
        prefix = name if name in _BOOK_NUMBERED else f"{name}/{_stem(path)}"
        file = f"{name}/{path.name}"
        yield from _tunebook_tunes(path, name, prefix, said, file)


def _session_tunes(path: Path, typed: str = "") -> Iterator[RawTune]:
    """A dump's rows as tunes (X: is the row number). Their text is built from the row, so
    error lines count in that text (line 1 is its X:), as `irish-tune check` gives them. A row
    that gives no tune is a `RawTune` with its ``unreadable`` reason, and named in a warning;
    rows without a meter are counted in another (`session_meter`), and so are those whose ABC
    has its line breaks escaped as ``\\n``, read as line breaks (`escaped_line_breaks`).
    ``typed``: the dump as the user typed it, named in messages (`RawTune.file`)."""
    named = typed or path
    unreadable: list[str] = []
    no_meter: Counter[str] = Counter()
    escaped: list[int] = []
    try:
        dump = session_rows(path)
    except NotADumpError as err:
        if not typed:
            raise
        raise err.named(typed) from None  # named as the user typed it
    for x, row in enumerate(dump, start=1):
        reason = unreadable_row(row)
        if reason:
            unreadable.append(f"row {x}: {reason}")
        else:
            if not dump_header(row, "meter"):
                no_meter[session_meter(row) or "free"] += 1
            if escaped_line_breaks(dump_field(row, "abc")):
                escaped.append(x)
        text = "" if reason else session_tune_text(row, x)
        yield RawTune(str(path), _stem(path), text, 1, unreadable=reason, row=x, file=typed)
    if unreadable:
        shown = "; ".join(unreadable[:5]) + ("; ..." if len(unreadable) > 5 else "")
        logger.warning("%s: %s no tune (%s)", named, _rows(len(unreadable), "gives", "give"), shown)
    if no_meter:
        logger.warning(
            "%s: %s no meter; M: from their type, or none (free meter): %s",
            named, _rows(no_meter.total(), "has", "have"), dict(no_meter.most_common()),
        )  # fmt: skip
    if escaped:
        rows = ", ".join(map(str, escaped[:5])) + (", ..." if len(escaped) > 5 else "")
        rows = ("row " if len(escaped) == 1 else "rows ") + rows
        logger.warning(
            "%s: %s their ABC on one line with its line breaks written \\n (an export "
            "that escaped them); read as line breaks: %s",
            named, _rows(len(escaped), "holds", "hold"), rows,
        )  # fmt: skip


def _rows(n: int, verb: str, verb_plural: str) -> str:
    """``n`` rows and the verb agreeing with it.

    >>> _rows(1, "gives", "give"), _rows(2, "has", "have")
    ('1 row gives', '2 rows have')
    """
    return f"{counted(n, 'row')} {verb if n == 1 else verb_plural}"


def _one_source(
    source: str | os.PathLike | None,
    said: CappedWarnings,
    shown: ShownAs | None = None,
    walked: Mapping[str, FolderFiles] | None = None,
) -> Iterator[RawTune]:
    """The tunes of one source; its files named in messages as ``shown`` spells it; a folder's
    files as ``walked`` (by the source as given) lists them, when it does."""
    typed = _typed(source, shown)
    if source is None or source == "music21":
        for name in MUSIC21_COLLECTIONS:
            yield from _music21_tunes(name, said)
        return
    path = Path(source)
    if path.is_dir():
        yield from _folder_tunes(path, said, typed, (walked or {}).get(str(source)))
    elif path.exists():  # a file, or a pipe (``<(cat a.abc)``, /dev/stdin): read once
        if dump_format(path):
            yield from _session_tunes(path, typed)
        else:
            yield from _tunebook_tunes(path, str(path), _stem(path), said, typed)
    elif str(source) in MUSIC21_COLLECTIONS:
        yield from _music21_tunes(str(source), said)
    else:
        raise _missing(source)


def _typed(source: SourceLike, shown: ShownAs | None) -> str:
    """``source`` as ``shown`` spells it, when that is another spelling; else "" (messages name
    ``source`` itself).

    >>> _typed("/w/a.abc", {"/w/a.abc": "a.abc"}), _typed("/w/b.abc", {"/w/a.abc": "a.abc"})
    ('a.abc', '')
    """
    typed = (shown or {}).get(str(source), "") if source is not None else ""
    return typed if typed != str(source) else ""


def shown_source(source: SourceLike, shown: ShownAs | None) -> str:
    """How messages name ``source``: as ``shown`` spells it, else as given.

    >>> shown_source("/w/a.abc", {"/w/a.abc": "a.abc"}), shown_source(None, None)
    ('a.abc', 'None')
    """
    return _typed(source, shown) or str(source)


def _missing(source: Any) -> FileNotFoundError:
    """The error for a source that is no file, folder nor music21 book: it says first that the
    file does not exist, in the words of ``check`` and of the commands' argument checks
    (`irish_tune.arg_types.abc_source`), then the names it could also have been. One written as
    a glob pattern (``tunes/*.abc``, as `datasets.load_dataset` takes them) is told how to give it.

    >>> str(_missing("nosuch.abc"))
    "no such file or folder: nosuch.abc (nor 'music21', 'oneills1850' or 'ryansMammoth')"
    >>> str(_missing("tunes/*.abc")).split("; ")[1]
    'a glob pattern is not expanded: give its folder, or its files as a list'
    """
    said = no_such_source(str(source))
    if any(sign in str(source) for sign in "*?["):
        said += "; a glob pattern is not expanded: give its folder, or its files as a list"
    return FileNotFoundError(said)


def source_files(source: SourceLike) -> list[Path]:
    """The files one source reads, resolved as `iter_abc_tunes` resolves it (for cache keys).

    >>> [p.name for p in source_files("oneills1850")][:1]
    ['0001-0050.abc']
    """
    if source is None or str(_check_source(source)) == "music21":
        return music21_collection_files("music21")
    path = Path(source)
    if path.is_dir():
        return _abc_files(path)
    if path.is_file():
        return [path]
    if path.exists():  # a pipe: read once, by the loader, so no file to fingerprint
        return []
    if str(source) in MUSIC21_COLLECTIONS:
        return music21_collection_files(str(source))
    raise _missing(source)


def _check_source(source: _Source) -> _Source:
    """``source``, unless it is the empty string (``Path("")`` is the current folder, and every
    ``*.abc`` file under it would be read) or only whitespace (an unset shell variable in
    quotes: it was told as a missing file with an invisible name)."""
    blank = blank_source(source) if isinstance(source, str) else None
    if blank:
        raise ValueError(blank)
    return source


def source_list(source: SourceLike | Sequence[SourceLike]) -> list[SourceLike]:
    """The sources as a list (``source`` is one, or a list or tuple of them), none empty.

    >>> source_list("oneills1850"), source_list(("a.abc", None))
    (['oneills1850'], ['a.abc', None])
    """
    sources: list[SourceLike]
    if isinstance(source, (list, tuple)):
        sources = list(source)
    elif source is None or isinstance(source, (str, os.PathLike)):
        sources = [source]
    else:  # a set of paths, say: read as one path, it failed later without naming the source
        raise TypeError(
            f"an ABC source is a path, 'music21', a music21 collection or None, or a list or "
            f"tuple of them; got a {type(source).__name__}"
        )
    return [_check_source(one) for one in sources]


class _Prefixes:
    """Id prefixes kept apart across the sources of one read. A prefix that another file gave
    first (``book`` of ``a/book.abc`` and of ``b/book.abc``; ``tunes`` of ``tunes.json`` and of
    ``tunes.csv``) is lengthened by more of its file's path (``b/book``), else numbered
    (``book~2``): otherwise unrelated tunes would share ids and be forced into one split. The
    first file keeps its prefix, so a source added after the others changes none of their ids.

    >>> prefixes = _Prefixes()
    >>> [prefixes.claim(RawTune(s, "book", "", 1)).prefix for s in ("a/book.abc", "b/book.abc")]
    ['book', 'b/book']
    """

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}  # prefix -> the file (or collection) that has it
        self._given: dict[tuple[str, str], str] = {}  # (file, prefix asked) -> prefix given
        self._files: dict[str, str] = {}  # raw.source -> the file it names, resolved

    def _file(self, source: str) -> str:
        if source not in self._files:
            real = os.path.realpath(source) if os.path.isfile(source) else source
            self._files[source] = real
        return self._files[source]

    def claim(self, raw: RawTune) -> RawTune:
        """``raw``, with a prefix that no other file has."""
        owner = self._file(raw.source)
        key = (owner, raw.prefix)
        if key not in self._given:
            free = next(p for p in _longer_prefixes(raw) if self._owner.get(p, owner) == owner)
            self._owner[free] = owner
            self._given[key] = free
        prefix = self._given[key]
        return raw if prefix == raw.prefix else dataclasses.replace(raw, prefix=prefix)


def _longer_prefixes(raw: RawTune) -> Iterator[str]:
    """``raw.prefix``, then (when it is the end of its file's path, suffix dropped) that path
    with one more folder each time, then the prefix numbered ``~2``, ``~3``...

    >>> list(itertools.islice(_longer_prefixes(RawTune("/m/a/book.abc", "book", "", 1)), 4))
    ['book', 'a/book', 'm/a/book', 'book~2']
    """
    yield raw.prefix
    names = Path(os.path.abspath(uncompressed_name(raw.source))).with_suffix("").parts[1:]
    kept = raw.prefix.count("/") + 1
    if "/".join(names[-kept:]) == raw.prefix:
        for more in range(kept + 1, len(names) + 1):
            yield "/".join(names[-more:])
    yield from (f"{raw.prefix}~{n}" for n in itertools.count(2))


def _resolved(source: SourceLike) -> str | None:
    """What ``source`` reads, for telling a source given twice: a file's or folder's resolved
    path, a music21 book's name; None for a pipe (``<(cat a.abc)``, read once, never the same)."""
    if source is None or str(source) == "music21":
        return "music21"
    path = Path(source)
    if path.is_dir() or path.is_file():
        return os.path.realpath(path)
    return None if path.exists() else str(source)


def _collections(source: SourceLike) -> frozenset[str]:
    """The music21 collections ``source`` names, as `_one_source` reads it: both for ``None``
    and ``"music21"``, one for ``"oneills1850"`` or ``"ryansMammoth"`` (unless a file or folder
    has that name: it is read instead), none for any other source.

    >>> sorted(_collections(None)), sorted(_collections("oneills1850")), _collections("a.abc")
    (['oneills1850', 'ryansMammoth'], ['oneills1850'], frozenset())
    """
    if source is None or str(source) == "music21":
        return frozenset(MUSIC21_COLLECTIONS)
    if str(source) in MUSIC21_COLLECTIONS and not os.path.exists(source):
        return frozenset({str(source)})
    return frozenset()


@dataclasses.dataclass
class _Given:
    """The sources among which one is told as given twice: the folders, with their files
    resolved, and the music21 collections each source names (`_collections`), both by the
    source as messages name it (`shown_source`), and the sources kept so far."""

    folders: dict[str, set[str]]
    collections: dict[str, frozenset[str]]
    shown: ShownAs | None
    kept: list[SourceLike] = dataclasses.field(default_factory=list)


def _given_twice(source: SourceLike, given: _Given) -> tuple[str, str]:
    """How ``source`` repeats a source kept before it, a folder among the sources, or a music21
    collection among them that includes it: ``(reason, with whom)``, or ``("", "")`` when it
    does not. The other source is named as messages name it (`shown_source`): as typed."""
    real = _resolved(source)
    if real is None:
        return "", ""
    for other in given.kept:
        if str(other) == str(source):
            return "the same source", ""
        if _resolved(other) == real:
            how = "the same collection" if _collections(source) else "the same resolved path"
            return how, f" as {shown_source(other, given.shown)}"
    for folder, files in given.folders.items():
        if real in files:
            return "inside a folder also given", f" {folder}"
    return _inside_collection(_collections(source), given.collections)


def _inside_collection(
    names: frozenset[str], collections: dict[str, frozenset[str]]
) -> tuple[str, str]:
    """How music21 collections ``names`` repeat a source among ``collections`` that names them
    and more (``music21`` includes ``oneills1850``): ``(reason, with whom)``, else ``("", "")``.

    >>> _inside_collection(frozenset({"oneills1850"}), {"music21": _collections("music21")})
    ('inside a collection also given', ' music21')
    """
    for name, more in collections.items():
        if names and names < more:
            return "inside a collection also given", f" {name}"
    return "", ""


def distinct_sources(
    sources: Sequence[SourceLike], said: CappedWarnings, shown: ShownAs | None = None
) -> list[SourceLike]:
    """``sources`` with each one read once: a source given again (the same name, another
    spelling of its path, a symlink to it, ``"music21"`` beside ``None``), a file inside a
    folder also given, or one of music21's collections beside ``"music21"`` (which reads both)
    is dropped and named in a warning in ``said`` with how it repeats (read twice, its tunes
    were all counted as duplicates, and the count of real duplicate tunes was lost). A pipe is
    kept. Sources are named as ``shown`` spells them, the one dropped and the one it repeats.

    >>> said = source_warnings()
    >>> distinct_sources(["oneills1850", "oneills1850"], said)
    ['oneills1850']
    >>> distinct_sources(["oneills1850", "music21"], said)
    ['music21']
    """
    if len(sources) < 2:  # nothing to repeat: a lone folder is not walked for it
        return list(sources)
    folders = {
        shown_source(one, shown): {os.path.realpath(f) for f in _abc_files(Path(one))}
        for one in sources
        if one is not None and Path(one).is_dir()
    }
    collections = {shown_source(one, shown): _collections(one) for one in sources}
    given = _Given(folders, {name: c for name, c in collections.items() if c}, shown)
    for one in sources:
        how, whom = _given_twice(one, given)
        if how:
            name = shown_source(one, shown)
            said.warn(_TWICE, how, "%s given twice (%s%s): read once", name, how, whom)
        else:
            given.kept.append(one)
    return given.kept


def iter_raw_tunes(
    source: SourceLike | Sequence[SourceLike],
    unreadable: bool = False,
    said: CappedWarnings | None = None,
    shown: ShownAs | None = None,
    walked: Mapping[str, FolderFiles] | None = None,
) -> Iterator[RawTune]:
    """Every tune of the sources (as `iter_abc_tunes` takes them) with where it came from: its
    text, file, line and id prefix (`RawTune`), so that errors can name the file line. One of
    several sources that holds no tune is logged as a warning (the others' tunes would hide it;
    a single empty source yields nothing, and the callers say so in their error). Dump rows
    that give no tune (named in a warning) are yielded, with their ``unreadable`` reason, only
    with ``unreadable``: the loader counts them as skipped. Id prefixes are unique across the
    sources (`_Prefixes`): the tunes of two files named alike do not share ids.

    The warnings of reading are capped (`source_warnings`: of each kind, the first few, then
    one line that counts them all by reason, once all are read); a caller that reads several
    times passes its own ``said``, and closes it when done.

    ``shown`` names sources in messages as the user typed them, where the caller reads them by
    another spelling (`training.data.prepare_corpus` reads absolute paths, its cache key): a
    folder's files as the typed folder joined with their path in it (`RawTune.file`).

    ``walked``: the `abc_files` of folders among the sources (by the source as given), that
    the caller walked already (`modeling_irish.cli.tune_texts`, to refuse one without
    ``*.abc`` files): their files are read from it, the folder not walked again.

    >>> next(iter_raw_tunes("oneills1850")).prefix
    'oneills1850'
    """
    capped = source_warnings() if said is None else said
    sources, prefixes = distinct_sources(source_list(source), capped, shown), _Prefixes()
    for one in sources:
        found = False
        for raw in _one_source(one, capped, shown, walked):
            found = True
            if unreadable or not raw.unreadable:
                yield prefixes.claim(raw)
        if not found and len(sources) > 1:
            warn_no_tunes(capped, shown_source(one, shown), no_tune_reason(one))
    if said is None:
        capped.close()


def iter_abc_tunes(source: SourceLike | Sequence[SourceLike] = None) -> Iterator[tuple[str, str]]:
    """Yield ``(source_name, abc_text)`` for every tune of one or several sources, unparsed.

    ``source`` is a tunebook file, a folder (``*.abc`` found recursively), a thesession.org dump
    (``tunes.json`` / ``tunes.jsonl`` / ``tunes.csv``, turned into full tunes with
    X/T/S/R/M/L/K headers), ``"oneills1850"``, ``"ryansMammoth"``, ``"music21"`` or ``None``
    (both music21 books), or a list of these. A file may be gzip, bzip2 or xz compressed
    (``tunes.csv.gz``, ``book.abc.xz``): it is decompressed as it is read.

    >>> name, text = next(iter_abc_tunes("oneills1850"))
    >>> name, text.splitlines()[0]
    ('oneills1850', 'X: 1')
    """
    for raw in iter_raw_tunes(source):
        yield raw.source, raw.text
