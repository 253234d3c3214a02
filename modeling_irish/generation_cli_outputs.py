"""The output side of `irish-tune generate` and `render` (`generation_cli`, which imports
these helpers by name): the ``--out`` folder made and checked before any work, the formats this
machine can make, one tune rendered and its files named, the output names of `render`'s tunes,
and the files of an earlier `generate` or `render` run that this one left."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from tokenization.capped_warnings import CappedWarnings, masked, skip_reason

from .cli import first_line
from .file_utils import link_problem
from .render_svg import page_of, rendered_pages

if TYPE_CHECKING:
    from .abc_sources import RawTune

# its helpers are generation_cli's, imported there by name
__all__: list[str] = [
    "NOT_RENDERED",
    "check_writable",
    "generated_files",
    "out_folder",
    "place_in",
    "render_base",
    "render_one",
    "render_stems",
    "rendered_names",
    "say_invalid",
    "usable_formats",
    "warn_stale",
]

#: The kinds of the warnings of `generate` and `render` about their tunes (`CappedWarnings`): a
#: book of many tunes names the first few of each, then one line counts them all by reason.
NOT_RENDERED = "tunes not rendered"
_SKIPPED = "formats skipped"
_INVALID = "invalid tunes"


def out_folder(path: str) -> str:
    """Create the ``--out`` folder (before any work), or say clearly why it cannot be (a
    symbolic link that leads nowhere among them: `file_utils.link_problem`)."""
    problem = link_problem(path)
    if problem:
        raise NotADirectoryError(f"--out {path}: {problem}")
    if os.path.exists(path) and not os.path.isdir(path):
        raise FileExistsError(f"--out {path} is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise OSError(f"--out {path}: cannot create the folder ({err.strerror or err})") from err
    check_writable(path)
    return path


def check_writable(path: str) -> None:
    """Refuse an ``--out`` folder whose files cannot be written, before any work: the
    sampling or rendering was done first, and then lost to ``Permission denied``."""
    if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(f"--out {path}: the folder is not writable")


def usable_formats(
    formats: list[str], soundfont: str | None, command: str, require: bool = False
) -> list[str]:
    """``formats`` less those this machine cannot make, each named once on stderr (not once
    per tune); with ``require``, a `ValueError` when none is left."""
    from .render import unavailable_formats

    missing = unavailable_formats(formats, soundfont)
    usable = [f for f in formats if f not in missing]
    if require and formats and not usable:
        raise ValueError("; ".join(missing.values()))
    for fmt, why in missing.items():
        print(f"irish-tune {command}: skipping {fmt}: {why}", file=sys.stderr)
    return usable


def say_invalid(said: CappedWarnings, name: str, errors: list[str]) -> None:
    """Say on stderr, in ``said``, why a tune of `irish-tune generate` is invalid (its first
    three problems; counted by the first)."""
    reason = masked(errors[0]) if errors else "invalid"
    said.warn(_INVALID, reason, "irish-tune generate: %s INVALID: %s", name, "; ".join(errors[:3]))


def _output_names(stem: str, formats: str) -> re.Pattern[str]:
    """The names of a command's output files: ``stem`` (a pattern with groups ``base`` and
    ``n``), an SVG page number and a moved-aside number (``page``, ``moved``), and an extension
    of ``formats`` (``ext``)."""
    return re.compile(
        rf"(?P<stem>{stem})(?:-(?P<page>[0-9]+))?(?:-(?P<moved>[0-9]+))?\.(?P<ext>{formats})"
    )


#: Names of the files `irish-tune generate` writes: tune_N.abc, .mid, .wav, .musicxml, .svg,
#: and an SVG's further pages, tune_N-2.svg, or tune_N-2-2.svg... moved aside (`to_svg`); an SVG
#: page is the run's by its marker, and a page number counts only on an SVG (`_is_generated`).
_GENERATED_NAME = _output_names(r"(?P<base>tune)_(?P<n>[0-9]+)", "abc|svg|mid|wav|musicxml")


def rendered_names(bases: Collection[str]) -> re.Pattern[str]:
    """Names of the files `irish-tune render` writes of books named ``bases`` (`render_base`):
    ``base`` or ``base_N`` with .mid, .wav, .musicxml or .svg (and an SVG's further pages, as
    `_GENERATED_NAME`); never .abc, which it reads (``render out/tune_1.abc --out out``)."""
    names = "|".join(re.escape(base) for base in sorted(bases))
    return _output_names(rf"(?P<base>{names})(?:_(?P<n>[0-9]+))?", "svg|mid|wav|musicxml")


def generated_files(folder: str, pattern: re.Pattern[str] = _GENERATED_NAME) -> set[str]:
    """The names in ``folder`` of the files a command writes (`_is_generated`): by default
    `irish-tune generate`'s, else those ``pattern`` (`rendered_names`) names."""
    return {name for name in os.listdir(folder) if _is_generated(folder, name, pattern)}


def _is_generated(folder: str, name: str, pattern: re.Pattern[str] = _GENERATED_NAME) -> bool:
    """Whether ``name`` in ``folder`` is a file `irish-tune generate` writes (`_GENERATED_NAME`,
    or `render`'s, ``pattern``):
    of SVG, a page marked as a ``tune_N``'s (`page_of`: ``tune_N-2.svg``, and one moved aside,
    ``tune_N-2-2.svg`` or ``tune_N-1-2.svg``), or one without a marker of a name an older
    version wrote (``tune_N.svg``, ``tune_N-2.svg``); not another stem's page (``tune_1-2.svg``
    of a tune ``tune_1-2``), nor an ABC, MIDI, WAV or MusicXML file with a page number
    (``tune_1-2.mid``: generate writes only ``tune_N.abc``, ``.mid``, ``.wav``, ``.musicxml``)."""
    m = pattern.fullmatch(name)
    if m is None or m["ext"] != "svg":
        return m is not None and not m["page"]
    page = page_of(os.path.join(folder, name))
    if page is None:  # an older version's page (or not one of ours): by its name alone
        return not m["moved"]
    return os.path.basename(page[1]) == f"{m['stem']}.svg"


def warn_stale(
    folder: str,
    names: set[str],
    command: str = "generate",
    pattern: re.Pattern[str] = _GENERATED_NAME,
    why: str = "they are not this run's tunes",
) -> None:
    """Name on stderr, as `irish-tune COMMAND`, the files of an earlier run that this one left
    in ``folder`` (a run with fewer tunes, or other renderings; ``names``, those ``pattern``
    takes): they look like this run's but are not, and are never deleted (they may be
    someone's). ``why`` says what they are, before what to do: ``generate``'s default, as a
    new run generates new tunes under the same names; ``render``'s earlier files may be of the
    same tunes (another ``--formats``), so that it says only that this run did not write
    them."""
    if not names:
        return

    def order(name: str) -> tuple[str, int, int, int, str]:
        m = pattern.fullmatch(name)
        assert m is not None  # `names` are those `_is_generated` took
        return m["base"], int(m["n"] or 0), int(m["page"] or 1), int(m["moved"] or 1), name

    shown = sorted(names, key=order)
    more = f" and {len(shown) - 10} more" if len(shown) > 10 else ""
    print(
        f"irish-tune {command}: warning: {folder} still holds {len(shown)} file(s) of an earlier "
        f"run that this one did not replace: {', '.join(shown[:10])}{more} ({why}; remove them "
        "or use another --out)",
        file=sys.stderr,
    )


def render_one(
    abc: str,
    stem: str,
    formats: list[str],
    soundfont: str | None,
    name: str,
    line_offset: int = 0,
    taken: Collection[str] = (),
    locate: Callable[[Exception], str] | None = None,
    *,
    said: CappedWarnings,
    kept: set[str] | None = None,
) -> tuple[list[str], bool]:
    """Render one tune and print the paths; return ``(paths written, whether every format was
    made)`` (``([], True)`` without ``formats``), or on failure warn ``irish-tune NAME: reason``
    in ``said`` (stderr: the first few, then a count by reason) and return ``([], False)``
    (`render_abc` writes no file of a tune it fails on: the reason ends naming the files of
    ``stem`` an earlier run left, which are not this tune's, `_earlier_outputs`). A MusicXML
    file that cannot be made fails the tune the same way (``failed musicxml: ...``, its earlier
    file named), but its other formats are written and returned. A format skipped (its tool
    gone since the command checked) is said there too, and so is an SVG file of its page names
    without a page marker,
    kept (its path added to ``kept`` when given). The SVG pages an earlier rendering of ``stem``
    left that this one did not write (beyond its last page, or moved aside) are removed with it,
    and named on stdout (`render_abc`). ``taken``: paths an SVG page must not take. A soundfont
    fluidsynth cannot load is no failure of the tune: its `SoundFontError` (a `ValueError`,
    exit status 2) stops the command, and so does an `OSError` (a full disk, an output folder
    gone: no later tune would fare better). Any other error of this tune (a fault of this
    package or of music21 on a tune it cannot handle) fails this tune alone, named with the
    error's type, so that one tune never costs the rest of a book. ``locate`` places a reading
    error of the tune's text in its file (`RawTune.locate`, its ``file: `` prefix dropped:
    ``name`` says where the tune is)."""
    if not formats:
        return [], True
    from .render import RenderError, SoundFontError, render_abc

    try:
        out = render_abc(
            abc,
            stem,
            formats,
            soundfont=soundfont,
            line_offset=line_offset,
            taken=taken,
            said=said,
        )
    except (SoundFontError, OSError):
        raise
    except RenderError as err:
        parse_error = getattr(err, "parse_error", None)
        reason = skip_reason(parse_error or err)  # the parse error's message, without the tune
        shown = str(err)
        if locate is not None and parse_error is not None:
            shown = f"not readable ABC, nothing rendered: {locate(parse_error)}"
        earlier = _earlier_outputs(stem, formats)
        said.warn(NOT_RENDERED, reason, "irish-tune %s: %s%s", name, shown, earlier)
        return [], False
    except Exception as err:  # noqa: BLE001 (a fault on one tune: the others are still rendered)
        fault = type(err).__name__
        said.warn(
            NOT_RENDERED,
            f"internal error {fault}",
            "irish-tune %s: nothing rendered, internal error %s: %s (please report this tune)%s",
            name, fault, first_line(err, "no message"), _earlier_outputs(stem, formats),
        )  # fmt: skip
        return [], False
    written: list[str] = []
    for fmt in formats:
        if fmt in out:
            made = out[fmt]
            paths = made if isinstance(made, list) else [made]  # svg: one a page
            print(f"  {fmt}: {' '.join(paths)}")
            written += paths
    if out.get("removed"):  # an earlier rendering's further pages: this one has fewer
        print(f"  removed earlier svg pages: {' '.join(out['removed'])}")
    for skipped in out["skipped"]:
        said.warn(_SKIPPED, skipped, "irish-tune %s: skipped %s", name, skipped)
    failures = out.get("failed", [])
    for failed in failures:  # "musicxml: why": the tune failed a format asked for
        fmt = failed.split(":", 1)[0]
        earlier = _earlier_outputs(stem, [fmt])
        said.warn(NOT_RENDERED, masked(failed), "irish-tune %s: failed %s%s", name, failed, earlier)
    if kept is not None:
        kept.update(out.get("kept", ()))
    return written, not failures


def _earlier_outputs(stem: str, formats: list[str]) -> str:
    """``; earlier files left as they were: out/t.mid, out/t.wav``: the files of ``formats``
    that ``stem`` names that a run before left, for the line that says its tune failed
    (`render_abc` replaces none of them then); of SVG, the pages marked as ``stem``'s
    (`rendered_pages`: ``stem.svg``, ``stem-2.svg``, a displaced ``stem-2-2.svg``..., never
    another tune's ``stem-2.svg``); ``""`` when there are none.

    >>> _earlier_outputs("no/such/tune", ["svg", "midi", "wav"])
    ''
    """
    found = []
    for fmt in formats:
        path = f"{stem}.{'mid' if fmt == 'midi' else fmt}"
        if fmt == "svg":
            found += rendered_pages(path)
        elif os.path.isfile(path):
            found.append(path)
    return f"; earlier files left as they were: {', '.join(found)}" if found else ""


def place_in(raw: Any) -> Callable[[Exception], str]:
    """`RawTune.locate` of ``raw`` without the ``file: `` it starts with.

    >>> from tokenization.abc_parser import AbcParseError
    >>> from modeling_irish.abc_sources import RawTune
    >>> err = AbcParseError("bar line inside a chord", tune="Kesh", line=8, column=17)
    >>> place_in(RawTune("t.json", "t", "X:2\\nT:Kesh\\nK:G\\nG[A|", 1, row=2))(err)
    'X:2 Kesh: line 8 of its tune text, column 17: bar line inside a chord'
    """
    return lambda err: raw.locate(err).removeprefix(f"{raw.file_name}: ")


def render_base(path: str, taken: list[str]) -> str:
    """The output name of a file's tunes: its name without extension, nor a compression
    suffix before it (``tunes`` of ``tunes.abc.gz``; ``stdin`` for ``-``), made visible and
    short enough (`_visible_bounded`: ``t`` of ``.t.abc``), with ``-2``, ``-3``... when an
    earlier file of the command has the same name.

    >>> render_base("b/t.abc", ["t"]), render_base("b/tunes.csv.xz", []), render_base(".t.abc", [])
    ('t-2', 'tunes', 't')
    """
    from tokenization.file_bytes import uncompressed_name

    name = os.path.basename(uncompressed_name(path))
    base = "stdin" if path == "-" else _visible_bounded(os.path.splitext(name)[0])
    return _unique_name(base, taken)


#: The most bytes a file's output base name (`render_base`) takes: a file name may have 255
#: (Linux, macOS, Windows), and a tune's adds up to about 40 (``_12`` in a book, an SVG page
#: moved aside ``-3-2``, ``-2`` made unique, ``.musicxml``), well within the 55 left.
BASE_NAME_BYTES = 200

#: The characters of an input file's name that its output names do not keep: C0 and C1
#: controls (line breaks, tabs, escapes), DEL, and those Windows refuses in a file name
#: (``\\ : * ? " < > |``), so that a folder rendered here can be copied there.
_NOT_IN_NAMES = re.compile('[\x00-\x1f\x7f-\x9f\\\\:*?"<>|]')


def _visible_bounded(name: str) -> str:
    """``name`` without leading dots (a hidden input's outputs are visible: ``.t`` gives ``t``;
    ``tune`` when nothing is left), a control character or line break as ``_`` (a terminal or
    a shell loop would show or split the name otherwise), and so a character Windows refuses
    in a name (``:`` of ``Róisín: Dubh``; letters beyond ASCII are kept), without trailing
    dots or spaces (Windows drops them, so two names would be one), and at most
    `BASE_NAME_BYTES` bytes:
    a longer one is cut (whole characters) and ends ``~`` and 8 hex digits of its whole name,
    so that two long names alike at the start stay apart, the same in every run.

    >>> _visible_bounded(".#t"), _visible_bounded("..."), len(_visible_bounded("a" * 300))
    ('#t', 'tune', 200)
    >>> _visible_bounded("a\\nb\\x1b[31m")
    'a_b_[31m'
    >>> _visible_bounded('Róisín: Dubh?'), _visible_bounded('a<b>|"c*. ')
    ('Róisín_ Dubh_', 'a_b___c_')

    """
    name = _NOT_IN_NAMES.sub("_", name).lstrip(".").rstrip(". ") or "tune"
    if len(os.fsencode(name)) <= BASE_NAME_BYTES:
        return name
    digest = hashlib.sha1(os.fsencode(name)).hexdigest()[:8]
    cut = name
    while len(os.fsencode(cut)) > BASE_NAME_BYTES - len(digest) - 1:
        cut = cut[:-1]
    return f"{cut}~{digest}"


def _unique_name(name: str, taken: Collection[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... the first not in ``taken``."""
    base, n = name, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def render_stems(books: list[tuple[str, str, list[RawTune]]]) -> list[str]:
    """The output name of every tune of ``books`` (``(where, base, tunes)``): ``base`` for a
    file's only tune, ``base_<n>`` for its n-th, each made unique in the run with ``-2``,
    ``-3``... (a file ``two_1.abc`` beside the first tune of ``two.abc``)."""
    stems: list[str] = []
    for _, base, found in books:
        for i in range(1, len(found) + 1):
            stems.append(_unique_name(base if len(found) == 1 else f"{base}_{i}", set(stems)))
    return stems
