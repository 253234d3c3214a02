"""SVG engraving of `render`: verovio, in a long-lived process of its own (`_Engraver`), given
each tune as the package's reader reads it (`_engravable`)."""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Collection, Iterator, Sequence
from typing import IO, TYPE_CHECKING, BinaryIO, Optional

from tokenization.capped_warnings import CappedWarnings

from .file_utils import ReplacingFiles, replacing_file, replacing_files

if TYPE_CHECKING:
    from tokenization.abc_tune import AbcParseError, AbcTune

__all__ = [
    "RenderError",
    "Kept",
    "page_of",
    "read_for_render",
    "rendered_pages",
    "stale_pages",
    "to_svg",
    "warn_unmarked",
    "tune_lines",
]

logger = logging.getLogger("modeling_irish.render")  # render_svg is a part of render


class RenderError(RuntimeError):
    """A rendering could not be made (missing tool, or the tool failed)."""

    #: the reader's error, where the ABC could not be read (`read_for_render`)
    parse_error: AbcParseError | None = None


def read_for_render(abc: str) -> AbcTune:
    """The tune of ``abc`` as our reader reads it, for a writer of MIDI or MusicXML: a tune
    that cannot be read is a `RenderError` naming why.

    >>> [token.kind for token in read_for_render("X:1\\nK:D\\nDFA|").tokens]
    ['note', 'note', 'note', 'bar']
    >>> read_for_render("X:1\\nK:D\\nD}FA|")
    Traceback (most recent call last):
    ...
    modeling_irish.render_svg.RenderError: not readable ABC: ...unexpected character '}'
    """
    from tokenization.abc_parser import AbcParseError, parse_abc

    try:
        return parse_abc(abc)
    except AbcParseError as err:
        raise RenderError(f"not readable ABC: {err}") from None


#: The files without a page marker that `to_svg` or `stale_pages` kept, when a caller collects
#: them to say later (`warn_unmarked`): ``(file, reason, instead)``, ``("out/t-2.svg", "not
#: written over", "written over as page 2 of out/t.svg")``.
Kept = list[tuple[str, str, str]]


def to_svg(
    abc: str,
    path: str,
    taken: Collection[str] = (),
    group: Optional[ReplacingFiles] = None,
    kept: Optional[Kept] = None,
) -> list[str]:
    """Engrave with verovio (it reads ABC itself); one SVG per page, ``path``, ``path-2``...
    (a page path in ``taken``, another output of the same run, or a file there that is not
    this page of an earlier rendering of ``path``, becomes ``path-2-2``..., ``path-1-2`` for
    the first: `_page_path`; a file without a marker there is kept, and logged or added to
    ``kept``).
    Each page ends with a comment that says which page of which stem it is
    (``<!-- irish-tune page 2 of stem "tune" -->``, `_with_marker`), so that a later
    rendering replaces or removes only pages of its own stem (`stale_pages`).

    Every page is engraved before the first is written, and each written whole under a
    temporary name, all renamed into place once every page is written (`replacing_files`;
    with the other files of ``group`` when given): a failure leaves no new file behind and the
    earlier pages of ``path`` as they were, and an `OSError` in writing (a full disk) names the
    page's file.
    verovio is given the text as our reader reads it (`_engravable`: an ``X:`` number, a
    ``K:`` line, no stray ``!`` nor stray header text, the ``!`` of ``I:linebreak !`` as line
    breaks), and runs in a process of its own (`_Engraver`): on text it
    cannot read it may abort or crash, which fails this tune with a `RenderError`, not the
    program.

    >>> to_svg("X:1\\nM:2/4\\nL:1/8\\nK:D\\nDFAd|]", "tune.svg")
    ['tune.svg']
    """
    import importlib.util

    if importlib.util.find_spec("verovio") is None:
        raise RenderError("SVG needs verovio: pip install verovio")
    pages = _ENGRAVER.pages(_engravable(abc))
    paths: list[str] = []
    # a full disk on page 3: pages 1 and 2 are not renamed into place either
    with contextlib.nullcontext(group) if group is not None else replacing_files() as files:
        for page, svg in enumerate(pages, 1):
            out = _page_path(path, page, taken, kept)
            with replacing_file(out, files) as tmp, open(tmp, "w", encoding="utf-8") as handle:
                handle.write(_with_marker(svg, path, page))
            paths.append(out)
    return paths


def _page_path(path: str, page: int, taken: Collection[str], kept: Optional[Kept] = None) -> str:
    """The file of page ``page`` of `to_svg`'s ``path``: ``path`` for the first, ``path-N``
    for the N-th, then ``path-N-2``, ``-3``... (``path-1-2`` for the first) while the name is
    in ``taken`` (but ``path`` itself) or names a file that is not page N of an earlier
    rendering of ``path`` (`_is_page`: another tune's page, ``t-2.svg`` of a tune ``t-2`` or
    page 2 of ``t`` for a tune ``t-2``, is never written over; one without a marker is kept
    and named in a warning, or in ``kept``, but ``path`` itself: a re-render writes over the
    tune's own name).

    >>> _page_path("t.svg", 1, ["t.svg"]), _page_path("t.svg", 2, ["t-2.svg"])
    ('t.svg', 't-2-2.svg')
    """
    stem, ext = os.path.splitext(path)
    out, again = path if page == 1 else f"{stem}-{page}{ext}", 1
    while (out in taken and out != path) or (
        os.path.lexists(out) and not _is_page(out, path, page, kept)
    ):
        again += 1
        out = f"{stem}-{page}-{again}{ext}"
    return out


#: The marker that ends each page `to_svg` writes (`_with_marker`): its page number and its
#: stem (`_marker_stem`), read back by `_page_marker`.
_MARKER = re.compile(r'<!-- irish-tune page ([1-9][0-9]*) of stem "([^"]*)" -->\s*\Z')

#: The characters of a stem that its marker writes as ``%XX`` (`_marker_stem`): ``%`` and
#: ``"``, a ``-`` after a ``-`` (no XML comment holds ``--``), and what XML does not allow.
_MARKER_ESCAPED = re.compile(r'[%"\x00-\x1f\x7f\ud800-\udfff]|(?<=-)-')


def _marker_stem(path: str) -> str:
    """The stem of `to_svg`'s ``path`` as its pages' markers write it: the file's name without
    folder and extension, `_MARKER_ESCAPED` written as ``%XX``.

    >>> _marker_stem("out/a--b \\"c\\" 5%.svg")
    'a-%2Db %22c%22 5%25'
    """
    stem = os.path.splitext(os.path.basename(path))[0]

    def escaped(m: re.Match) -> str:
        return "".join(f"%{b:02X}" for b in m[0].encode("utf-8", "surrogateescape"))

    return _MARKER_ESCAPED.sub(escaped, stem)


def _with_marker(svg: str, path: str, page: int) -> str:
    """``svg``, page ``page`` of `to_svg`'s ``path``, ending with the marker that says so: an
    XML comment after the ``<svg>`` element, which XML, browsers and SVG tools pass over.

    >>> _with_marker("<svg/>\\n", "out/t.svg", 2)
    '<svg/>\\n<!-- irish-tune page 2 of stem "t" -->\\n'
    """
    ending = "" if svg.endswith("\n") else "\n"
    return f'{svg}{ending}<!-- irish-tune page {page} of stem "{_marker_stem(path)}" -->\n'


def _page_marker(file: str) -> tuple[int, str] | None:
    """``(page, stem)`` of the marker that ends ``file`` (`_with_marker`), or ``None`` when it
    has none (an SVG of an older version or of someone else; a file that cannot be read)."""
    try:
        with open(file, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4096))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    m = _MARKER.search(tail)
    return (int(m[1]), m[2]) if m else None


def _is_page(file: str, path: str, page: int, kept: Optional[Kept] = None) -> bool:
    """Whether ``file`` is page ``page`` of an earlier rendering of `to_svg`'s ``path``, by its
    marker; one without a marker is not, and is kept (`_unmarked`), but ``path`` itself: the
    tune's own name, an older version's rendering of it."""
    marker = _page_marker(file)
    if marker is None and file == path:
        return True
    if marker is None:
        _unmarked(file, "not written over", f"written over as page {page} of {path}", kept)
    return marker == (page, _marker_stem(path))


def page_of(file: str) -> tuple[int, str] | None:
    """``(page, path)`` when ``file`` is page ``page`` of `to_svg`'s ``path`` (beside it), by
    its marker (`_with_marker`) and a name `_page_path` gives that page: ``path`` or
    ``path-1-2``... for the first, ``path-N`` or ``path-N-2``... for the N-th, wherever it was
    moved; ``None`` for a file without a marker, or whose name is none of its page's.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> for name, page, of in [("t-2-2.svg", 2, "t.svg"), ("t-2.svg", 1, "t-2.svg"),
    ...                        ("t-3.svg", 2, "t.svg")]:
    ...     with open(os.path.join(scratch.name, name), "w", encoding="utf-8") as handle:
    ...         _ = handle.write(_with_marker("<svg/>", of, page))
    >>> def page(name):
    ...     found = page_of(os.path.join(scratch.name, name))
    ...     return found and (found[0], os.path.basename(found[1]))
    >>> page("t-2-2.svg"), page("t-2.svg"), page("t-3.svg")  # t-3.svg: named no page 2
    ((2, 't.svg'), (1, 't-2.svg'), None)
    >>> scratch.cleanup()
    """
    marker = _page_marker(file)
    if marker is None:
        return None
    page, stem = marker
    folder, name = os.path.split(file)
    base, ext = os.path.splitext(name)
    unmoved = re.fullmatch(r"(.+)" if page == 1 else rf"(.+)-{page}", base)
    moved = re.fullmatch(rf"(.+)-{page}-[1-9][0-9]*", base)  # `_page_path`'s free names
    for found in (unmoved, moved):
        if found and _marker_stem(found[1] + ext) == stem:
            return page, os.path.join(folder, found[1] + ext)
    return None


def _unmarked(file: str, reason: str, instead: str, kept: Optional[Kept]) -> None:
    """Say (`warn_unmarked`) that ``file``, without a page marker, is kept, not ``instead``;
    or add it to ``kept``, for the caller to say."""
    if kept is None:
        warn_unmarked(file, reason, instead)
    else:
        kept.append((file, reason, instead))


#: The kind of `warn_unmarked`'s warnings, as a `CappedWarnings` counts them.
UNMARKED = "files without an irish-tune page marker kept"


def warn_unmarked(
    file: str, reason: str, instead: str, said: Optional[CappedWarnings] = None
) -> None:
    """Say that ``file``, which has no page marker, is kept, not ``instead``: in ``said`` when
    given (counted by ``reason``), else on this module's logger."""
    message = (
        "%s has no irish-tune page marker (a page of an older version, or not one of ours): "
        "kept, not %s"
    )
    if said is None:
        logger.warning(message, file, instead)
    else:
        said.warn(UNMARKED, reason, message, file, instead)


def stale_pages(
    path: str, pages: int, keep: Collection[str] = (), kept: Optional[Kept] = None
) -> list[str]:
    """The files beside ``path`` that an earlier engraving of it left and the new one, of
    ``pages`` pages, did not write: every file of a name `_page_path` gives (``path-N``,
    ``path-N-2``...) marked as that page of ``path``'s stem (`_with_marker`), page order, but
    those in ``keep`` (the pages just written, and another output of the same run: a tune
    ``t-3.abc`` beside ``t.abc``). So go the pages beyond the new last one and a page moved
    aside (``t-2-2.svg``, written while ``t-2.svg`` was another's) that now has its own name
    again. A file of such a name marked as another stem's page (``t-2.svg``, page 1 of a tune
    ``t-2``) is no page of ``path``; one named ``path-N`` without a marker, N > ``pages`` (an
    older version's), is kept and named in a warning (or added to ``kept``).

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> path = os.path.join(scratch.name, "t.svg")
    >>> pages = [("t.svg", 1, path), ("t-3.svg", 3, path), ("t-10.svg", 10, path),
    ...          ("t-2.svg", 1, "t-2.svg"), ("t-4-2.svg", 4, path), ("t-03.svg", 3, path),
    ...          ("t-1-2.svg", 1, path)]
    >>> for name, page, of in pages:
    ...     with open(os.path.join(scratch.name, name), "w", encoding="utf-8") as handle:
    ...         _ = handle.write(_with_marker("<svg/>", of, page))
    >>> [os.path.basename(p) for p in stale_pages(path, 1, [path])]
    ['t-1-2.svg', 't-3.svg', 't-4-2.svg', 't-10.svg']
    >>> scratch.cleanup()
    """
    folder, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    page = re.compile(rf"{re.escape(stem)}-([1-9][0-9]*)(-[1-9][0-9]*)?{re.escape(ext)}")
    keep_names = {os.path.normpath(p) for p in keep}
    found, unmarked = [], []
    for entry in os.listdir(folder or "."):
        m = page.fullmatch(entry)
        where = os.path.join(folder, entry)
        if not m or os.path.normpath(where) in keep_names:
            continue
        marker = _page_marker(where)
        if marker == (int(m[1]), _marker_stem(path)):  # this page, written now or not
            found.append((int(m[1]), int(m[2][1:]) if m[2] else 1, where))
        elif marker is None and not m[2] and int(m[1]) > pages:  # an older version's page?
            unmarked.append((int(m[1]), where))  # (one of the new pages' names: `_is_page`)
    for number, where in sorted(unmarked):  # said in page order, not the folder's
        _unmarked(where, "not removed", f"removed as an earlier page {number} of {path}", kept)
    return [where for *_, where in sorted(found)]


def rendered_pages(path: str) -> list[str]:
    """The SVG pages an earlier rendering of `to_svg`'s ``path`` left: ``path`` itself, unless
    it is marked as another stem's page (one without a marker is the tune's own name), then
    the files marked as its further pages (``path-2``, ``path-2-2``...: `stale_pages`), page
    order; another tune's page of such a name (``t-2.svg`` of a tune ``t-2``) is not one.

    >>> rendered_pages("no/such/tune.svg")
    []
    """
    first = os.path.isfile(path) and _page_marker(path) in (None, (1, _marker_stem(path)))
    further = stale_pages(path, 0, kept=[]) if os.path.isdir(os.path.dirname(path) or ".") else []
    return [path] * first + further  # the unmarked ones named like pages: not said here


def _engravable(abc: str) -> str:
    """``abc`` as verovio is given it: the tune our reader reads, without what makes verovio
    (6.4) abort, crash or misread it although the reader accepts it. An ``X:`` line without a
    number, or none at all, becomes ``X:1``; a header without ``K:``, or with an empty one,
    gets ``K:C`` (what the reader assumes); stray text in the header that the reader passes
    over (a bare ``N`` that more fields and ``K:`` follow, `header_span`), where verovio would
    start the music, is left out; a ``!`` that opens no decoration (``d!edB|``, ``CD!trill
    EF``), which the reader passes over, is left out; in a tune that declares ``I:linebreak !``
    (`bang_is_line_break`), where verovio would read ``!f2g2!`` as a decoration and drop its
    notes, a ``!`` is a line break.

    >>> print(_engravable("X:\\nT:t\\nL:1/8\\nCD!trill EF|]"))
    X:1
    T:t
    L:1/8
    K:C
    CDtrill EF|]
    >>> print(_engravable("X:1\\nT:t\\nN\\nM:6/8\\nK:G\\nGBd dBd|]"))
    X:1
    T:t
    M:6/8
    K:G
    GBd dBd|]
    >>> print(_engravable("X:1\\nI:linebreak !\\nK:G\\nd2e2!f2g2!|a8|]"))
    X:1
    I:linebreak !
    K:G
    d2e2
    f2g2
    |a8|]
    """
    from tokenization.abc_tunebook import abc_lines

    lines = abc_lines(abc)
    lines[0] = lines[0].removeprefix("\ufeff")  # as the reader reads it
    out = [] if any(line.startswith("X:") for line in lines) else ["X:1"]
    has_key = False
    walked = list(tune_lines(lines))
    breaks = _bang_breaks(walked)
    for line, code, field, part in walked:
        if part == "stray":  # verovio would start the music there
            continue
        if part == "body" and not has_key:  # the first line of the body
            out.append("K:C")
            has_key = True
        if field is not None and field[1] in "XK":
            has_key = has_key or field[1] == "K"
            if not field[2].strip():  # verovio crashes on an empty X: or K:
                line = f"{field[1]}:{'1' if field[1] == 'X' else 'C'}"
        elif field is None and part == "body" and "!" in code:
            line = _without_lone_bangs(code, breaks) + line[len(code) :]
        out.append(line)
    return "\n".join(out)


def tune_lines(lines: Sequence[str]) -> Iterator[tuple[str, str, re.Match | None, str]]:
    """``(line, its text before any comment, its field match or None, its part)`` of each of a
    tune's ``lines``, the part ``"header"``, ``"stray"`` (text in the header that the reader
    passes over) or ``"body"``, by the reader's own rule (`header_span`, on the lines as the
    reader folds them).

    >>> [part for *_, part in tune_lines(["X:1", "N", "K:G", "V:1", "GAB|"])]
    ['header', 'stray', 'header', 'body', 'body']
    """
    from tokenization.abc_field_lines import (  # the reader's own rules
        field_match,
        header_span,
        strip_comment,
    )
    from tokenization.abc_tunebook import fold_lines, needs_folding

    folded = fold_lines(list(lines)) if needs_folding("\n".join(lines)) else lines
    span = header_span(folded)
    for i, line in enumerate(lines):
        code = strip_comment(line)
        part = "body" if i >= span.end else "stray" if i in span.stray else "header"
        yield line, code, field_match(code), part


def _bang_breaks(walked: Sequence[tuple[str, str, re.Match | None, str]]) -> bool:
    """Whether ``!`` is a line break in the body of a tune, ``walked`` by `tune_lines`, as the
    reader reads it (`bang_is_line_break`): by the ``I:`` fields and ``%%linebreak`` lines of
    its header (a standalone text: its tunebook's file header written in, `with_file_header`),
    in the order of their lines, the last one holding, as the reader keeps them in
    ``fields["I"]`` (`HeaderDirectives._header_directive`): a ``%%linebreak !`` that an
    ``I:linebreak <EOL>`` follows breaks no line (it did here, read after every ``I:``)."""
    from tokenization.abc_field_lines import field_value
    from tokenization.abc_tunebook import bang_is_line_break, directive_fields

    values: list[str] = []
    for line, _, field, part in walked:
        if part != "header":
            continue
        if field is None:  # `%%linebreak !`: the I: field it equals
            values += directive_fields([line])
        elif field[1] == "I":
            values.append(field_value(field[2]))
    return bang_is_line_break(values)


def _without_lone_bangs(music: str, breaks: bool = False) -> str:
    """A line of music without the ``!`` that the reader's lexer reads as no decoration
    (`lone_bangs`); where ``!`` is a line break (``breaks``), broken there instead, into the
    lines that hold something.

    >>> _without_lone_bangs("d2!e2 !f2g2!|"), _without_lone_bangs("d2e2!f2g2!|!", True)
    ('d2e2 !f2g2!|', 'd2e2\\nf2g2\\n|')
    """
    from tokenization.abc_lexer import lone_bangs

    cuts = lone_bangs(music, breaks)
    pieces = [music[start + 1 : stop] for start, stop in zip([-1, *cuts], [*cuts, len(music)])]
    if not breaks:
        return "".join(pieces)
    return "\n".join(piece for piece in pieces if piece.strip())


#: The program of the verovio process (`_Engraver`): it reads a tune a line (a JSON string)
#: and answers each with a line, the JSON list of its SVG pages (``null``: verovio could not
#: read it). Only verovio is imported: the package's own imports take seconds.
_ENGRAVER_PROGRAM = """
import sys
if sys.path and sys.path[0] == "":  # python -c: a json.py in the working folder is not read
    del sys.path[0]
import json, os
answers = os.fdopen(os.dup(1), "w")  # a pipe of its own: what verovio prints goes to the log
os.dup2(2, 1)
import verovio
verovio.enableLog(verovio.LOG_ERROR)  # not "Information field R is ignored" on every tune
for line in sys.stdin:
    toolkit = verovio.toolkit()  # a fresh one a tune: nothing carries over from the last
    toolkit.setOptions({"adjustPageHeight": True, "breaks": "auto", "scale": 50})
    pages = None
    if toolkit.loadData(json.loads(line)):
        pages = [toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1)]
    answers.write(json.dumps(pages) + "\\n")
    answers.flush()
"""


def _signal_name(number: int) -> str:
    """The name of signal ``number`` (``SIGSEGV``), or ``signal 40`` for one Python does not name
    (a real-time signal between SIGRTMIN and SIGRTMAX): `signal.Signals` raised ValueError on it,
    out of the report of how verovio ended.

    >>> _signal_name(int(signal.SIGSEGV)), _signal_name(200)
    ('SIGSEGV', 'signal 200')
    """
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _pipes(process: subprocess.Popen) -> tuple[IO[str], IO[str]]:
    """The input and output pipes of the engraver ``process``, which `_Engraver._start` opens
    both of (a `RuntimeError`, an internal error, where one is missing)."""
    if process.stdin is None or process.stdout is None:
        raise RuntimeError("internal error: the verovio process was started without its pipes")
    return process.stdin, process.stdout


class _Engraver:
    """verovio in a long-lived process of its own, engraving tunes one at a time.

    verovio aborts (``std::out_of_range``) or crashes (SIGSEGV) on some ABC instead of raising;
    in the program's own process that ended the whole run. Here it fails the tune with a
    `RenderError` that says how verovio ended, and the next tune starts a new process. One
    process for all the tunes costs ~0.2 s once, not for each tune."""

    def __init__(self, timeout: float = 300.0) -> None:
        self.timeout = timeout
        self._process: subprocess.Popen | None = None
        self._log: BinaryIO | None = None  # the process's stderr, read back when it dies
        self._lock = threading.Lock()  # one tune in flight at a time

    def pages(self, abc: str) -> list[str]:
        """The SVG pages of ``abc``; a `RenderError` when verovio cannot read it or dies."""

        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                process = self._start()
            stdin, stdout = _pipes(process)
            try:
                stdin.write(json.dumps(abc) + "\n")
                stdin.flush()
                answer = self._answer(process, stdout)
            except BrokenPipeError:  # it died before it read the tune
                answer = None
            except BaseException:  # interrupted mid-tune: its answer would go to the next
                self.close()
                raise
            if answer is None:
                raise RenderError(f"verovio {self._died()}; nothing engraved")
        pages = json.loads(answer)
        if pages is None:
            raise RenderError("verovio could not read the ABC")
        return pages

    def _start(self) -> subprocess.Popen:
        self.close()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (open as long as the process)
        self._process = subprocess.Popen(
            [sys.executable, "-c", _ENGRAVER_PROGRAM],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="ascii",  # json.dumps writes non-ASCII text as \u escapes
        )
        return self._process

    def _answer(self, process: subprocess.Popen, stdout: IO[str]) -> str | None:
        """The answer line, or None when the process ended first (timed out: killed). The
        line is read in a thread waited for up to ``timeout``, not after `select.select`, which
        waits on no pipe on Windows (sockets only)."""
        read: list[str] = []
        reader = threading.Thread(target=lambda: read.append(stdout.readline()))
        reader.daemon = True  # one stuck on a process that will not die does not keep us
        reader.start()
        reader.join(self.timeout)
        if reader.is_alive():
            process.kill()
            process.wait()
            reader.join(5)  # the pipe ends with the process: its readline returns
            raise RenderError(f"verovio took more than {self.timeout:g} s; nothing engraved")
        line = read[0] if read else ""  # nothing: the pipe was closed under it
        return line if line.endswith("\n") else None  # cut short: it died while answering

    def _died(self) -> str:
        """How the process ended (``crashed (SIGSEGV)``, ``aborted (SIGABRT: terminate ...)``),
        with the last line it wrote; it is gone afterwards."""
        process, log = self._process, self._log
        if process is None or log is None:
            raise RuntimeError("internal error: the verovio process ended before it was asked how")
        code = process.wait()
        log.seek(0)
        said = [line.strip() for line in log.read().decode(errors="replace").splitlines()]
        said = [line for line in said if line]
        # "terminate called after throwing an instance of 'std::out_of_range'", not its what()
        said += [line for line in said if line.startswith("terminate called")]
        self.close()
        if code < 0:
            name = _signal_name(-code)
            how = f"aborted ({name}" if name == "SIGABRT" else f"crashed ({name}"
        else:
            how = f"stopped (exit status {code}"
        return how + (f": {said[-1][:200]})" if said else ")")

    def close(self) -> None:
        """End the process (it ends on the end of its input) and forget its log."""
        process, self._process = self._process, None
        if process is not None:
            for pipe in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):  # a broken pipe: it is gone already
                    if pipe is not None:
                        pipe.close()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


_ENGRAVER = _Engraver()
atexit.register(_ENGRAVER.close)
