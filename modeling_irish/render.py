"""Render ABC tunes to SVG (verovio, `render_svg`), MIDI (music21, from the package's own
reading of the tune, `render_midi`), WAV (fluidsynth + a GM soundfont) and MusicXML (music21,
the tune as written, `render_musicxml`)."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Sequence

from irish_tune.value_checks import check_formats
from tokenization.capped_warnings import CappedWarnings

from .file_utils import ReplacingFiles, replacing_file, replacing_files
from .render_midi import MIDI_LONGEST_WAIT, to_midi, tune_label
from .render_musicxml import to_musicxml
from .render_playing import PlayedEvent, played_events, played_notes
from .render_svg import Kept, RenderError, stale_pages, to_svg, warn_unmarked

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "MIDI_LONGEST_WAIT",
    "PlayedEvent",
    "RenderError",
    "RenderingStopped",
    "SoundFontError",
    "find_soundfont",
    "played_events",
    "played_notes",
    "render_abc",
    "to_midi",
    "to_musicxml",
    "to_svg",
    "to_wav",
    "tune_label",
    "unavailable_formats",
]

#: Where Debian/Ubuntu packages put General MIDI soundfonts (fluid-soundfont-gm and others).
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
)
FORMATS = ("svg", "midi", "wav", "musicxml")
#: what `render_abc` (and ``irish-tune render``) makes unless told: MusicXML only when asked
DEFAULT_FORMATS = ("svg", "midi", "wav")


class RenderingStopped(Exception):
    """Raised by `render_abc` when its ``should_stop`` says yes before a format: the caller's
    request was cut short (the demo's Stop). No file of the tune is written; an earlier
    rendering of it is left as it was. Not a `RenderError`: the tune did not fail.

    ``before``: the format it stopped before (``"MIDI"``); with ``tune``, the request was cut
    short between tunes, before tune number ``tune`` (``before`` is then ``"tune N"``).

    >>> str(RenderingStopped("out/tune-1", "MIDI"))
    'the rendering of out/tune-1 was stopped, as asked, before its MIDI'
    >>> str(RenderingStopped("out/tune-2", "", tune=2))
    'the rendering was stopped, as asked, before tune 2 (out/tune-2: nothing written)'
    """

    def __init__(self, stem: str, before: str, *, tune: int | None = None) -> None:
        if tune is None:
            message = f"the rendering of {stem} was stopped, as asked, before its {before}"
        else:
            before = f"tune {tune}"
            message = (
                f"the rendering was stopped, as asked, before {before} ({stem}: nothing written)"
            )
        super().__init__(message)
        self.stem, self.before = stem, before


class SoundFontError(RenderError, ValueError):
    """fluidsynth could not load the soundfont: no WAV of any tune can be made with it, so the
    command stops (a `ValueError`, exit status 2), as for a font that is missing or no SoundFont
    (`find_soundfont`)."""


def is_soundfont(path: str) -> bool:
    """Whether ``path`` starts as a SoundFont 2 file does: a RIFF chunk of form ``sfbk``."""
    with open(path, "rb") as handle:
        head = handle.read(12)
    return head[:4] == b"RIFF" and head[8:12] == b"sfbk"


def _is_cut_short(path: str) -> bool:
    """Whether the RIFF chunk of ``path`` says it is longer than the file (a partial copy)."""
    with open(path, "rb") as handle:
        size = int.from_bytes(handle.read(8)[4:8], "little")
    return size + 8 > os.path.getsize(path)


def find_soundfont(explicit: str | None = None) -> str | None:
    """A General MIDI soundfont: ``explicit``, ``$SOUNDFONT``, or a Debian package's file.

    A font asked for, by ``explicit`` or by ``$SOUNDFONT``, that does not exist is a
    `FileNotFoundError`, a folder an `IsADirectoryError`, and one that is not a SoundFont (or is
    cut short) a `ValueError`, all naming where it came from: not a reason to use another
    (fluidsynth only warns about such a font, then renders with its own default and exits 0)."""
    if explicit:
        return _checked_font(explicit, f"--soundfont {explicit}")
    env = os.environ.get("SOUNDFONT")
    if env:
        return _checked_font(env, f"$SOUNDFONT {env}")
    return next((path for path in SOUNDFONT_PATHS if os.path.isfile(path)), None)


def _checked_font(path: str, where: str) -> str:
    """``path``, or the error (naming ``where``) that keeps fluidsynth from falling back."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"{where}: is a folder, not a SoundFont (.sf2) file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{where}: no such file")
    if not is_soundfont(path):
        raise ValueError(f"{where}: not a SoundFont (.sf2) file")
    if _is_cut_short(path):
        raise ValueError(f"{where}: damaged SoundFont (shorter than it says)")
    return path


#: What to install for WAV, by `sys.platform`: ``(program, font, both)`` hints, each worded
#: for that system's package manager (apt-get's names mean nothing on macOS or Windows, where
#: there is no Debian soundfont package and `SOUNDFONT_PATHS` holds nothing).
_WAV_HINTS = {
    "linux": (
        "apt-get install fluidsynth",
        "apt-get install fluid-soundfont-gm, or set $SOUNDFONT to a .sf2 file",
        "apt-get install fluidsynth fluid-soundfont-gm; $SOUNDFONT may name a .sf2 file "
        "instead of the latter",
    ),
    "darwin": (
        "brew install fluid-synth",
        "set $SOUNDFONT to a .sf2 file, such as FluidR3_GM.sf2",
        "brew install fluid-synth, and set $SOUNDFONT to a .sf2 file",
    ),
    "win32": (
        "install FluidSynth and put the folder of fluidsynth.exe on PATH",
        "set the SOUNDFONT environment variable to a .sf2 file",
        "install FluidSynth and put the folder of fluidsynth.exe on PATH, and set the "
        "SOUNDFONT environment variable to a .sf2 file",
    ),
}


def _wav_hints(platform: str) -> tuple[str, str, str]:
    """The `_WAV_HINTS` of ``platform`` (a `sys.platform`): Linux's for any other system.

    >>> _wav_hints("darwin")[0], _wav_hints("freebsd14")[0]
    ('brew install fluid-synth', 'apt-get install fluidsynth')
    """
    return _WAV_HINTS.get(platform, _WAV_HINTS["linux"])


def _wav_tools(soundfont: str | None) -> tuple[str | None, str | None, str | None]:
    """``(fluidsynth program, soundfont, None)``, or what is missing, with how to get it on
    this system (`_wav_hints`), as the third item: the install hint for the program,
    ``$SOUNDFONT`` only when the font is missing."""
    program = shutil.which("fluidsynth")
    font = find_soundfont(soundfont)
    if program is not None and font is not None:
        return program, font, None
    for_program, for_font, for_both = _wav_hints(sys.platform)
    if font is not None:
        problem = f"WAV needs the fluidsynth program ({for_program})"
    elif program is not None:
        problem = f"WAV needs a General MIDI soundfont ({for_font})"
    else:
        problem = f"WAV needs the fluidsynth program and a General MIDI soundfont ({for_both})"
    return program, font, problem


def unavailable_formats(formats: Sequence[str], soundfont: str | None = None) -> dict[str, str]:
    """``{format: why}`` for the ``formats`` this machine cannot make (a tool is missing): a
    command checks once, before its first tune, instead of failing on every tune.

    >>> unavailable_formats(["midi"])
    {}
    """
    import importlib.util

    missing = {}
    if "svg" in formats and importlib.util.find_spec("verovio") is None:
        missing["svg"] = "SVG needs verovio: pip install verovio"
    if "wav" in formats:
        problem = _wav_tools(soundfont)[2]
        if problem:
            missing["wav"] = problem
    return missing


def to_wav(
    midi_path: str,
    path: str,
    soundfont: str | None = None,
    rate: int = 44100,
    group: ReplacingFiles | None = None,
    midi_name: str | None = None,
) -> str:
    """Synthesise a MIDI file to WAV with the ``fluidsynth`` program.

    Raises `RenderError` with what to install when fluidsynth or a soundfont is missing
    (Debian/Ubuntu: ``apt-get install fluidsynth fluid-soundfont-gm``; macOS and Windows:
    `_wav_hints`), or with what fluidsynth said when it fails; `SoundFontError` when it cannot
    load the soundfont. fluidsynth exits 0 whatever goes wrong while it writes: a WAV it says
    it could not write (``Audio file write error``: a full disk) is an `OSError` naming
    ``path``, for the caller to stop, another ``error:`` line of its a `RenderError`, and so
    is a WAV shorter than the music of ``midi_path`` (`_check_length`). The WAV is written
    under a temporary name and renamed when whole (`replacing_file`; with the other files of
    ``group`` when given): a failure leaves none, nor an earlier one cut short. ``midi_name``:
    the name our messages give ``midi_path`` (its final name, while it is written under a
    temporary one).
    """
    shown = midi_name or midi_path
    program, font, problem = _wav_tools(soundfont)
    if problem:
        raise RenderError(problem)
    assert program is not None and font is not None  # _wav_tools gives both, or a problem
    with replacing_file(path, group) as tmp:
        command = [program, "-ni", "-g", "0.8", "-r", str(rate), "-F", tmp, font, midi_path]
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                encoding="utf-8",  # not the locale's, which depends on the system
                errors="replace",  # a file name or message in another encoding is no error
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RenderError(f"fluidsynth took more than 300 s on {shown}") from None
        _check_fluidsynth(result, midi_path, path)
        if not os.path.isfile(tmp):
            said = result.stderr.strip()[-500:] or "exit status 0, no WAV written"
            raise RenderError(f"fluidsynth failed: {said}")
        _check_length(tmp, midi_path, shown)
    return path


#: what fluidsynth says when it cannot write its WAV (libsndfile's message: a full disk is
#: ``System error : No space left on device.``), before it stops and exits 0
_WRITE_ERROR = re.compile(r"Audio file write error: (?:System error : )?(.*?)\.?$", re.M)


def _check_fluidsynth(result: subprocess.CompletedProcess, midi_path: str, path: str) -> None:
    """Raise what fluidsynth's ``result`` says went wrong (it exits 0 on all but its own
    failures): a font it could not load (`SoundFontError`) or a MIDI file it could not read,
    an `OSError` naming ``path`` when it could not write the WAV (the errno its message names,
    else ``EIO``), then its exit status, then any ``fluidsynth: error:`` line (a normal
    rendering prints none; its warnings, ``fluidsynth: warning:``, are harmless)."""
    # it warns about a font it cannot load (or a file that is no font at all), renders with its
    # default font, if any, and exits 0
    failed = re.search(
        r"Failed to load the SoundFont.*|Parameter '(.*)' not a SoundFont or MIDI file.*",
        result.stderr,
    )
    if failed:
        said = f"fluidsynth: {failed[0].strip()}"
        raise RenderError(said) if failed[1] == midi_path else SoundFontError(said)
    cause = _WRITE_ERROR.search(result.stderr)
    if cause:
        codes = {os.strerror(code): code for code in errno.errorcode}
        raise OSError(codes.get(cause[1], errno.EIO), cause[1], path)
    errors = re.findall(r"^fluidsynth: (?:error|panic): .*$", result.stderr, re.M)
    if result.returncode != 0 or errors:
        said = result.stderr.strip() if result.returncode else "; ".join(errors)
        said = said[-500:] or f"exit status {result.returncode}, no message"
        raise RenderError(f"fluidsynth failed: {said}")


def _check_length(wav_path: str, midi_path: str, shown: str) -> None:
    """Raise `RenderError`, naming the MIDI file ``shown``, when the WAV ``wav_path`` holds less
    than the music of ``midi_path`` (fluidsynth plays the MIDI to its end, plus the notes'
    release: a shorter one was cut), or is no WAV file at all (a fluidsynth built without
    libsndfile writes raw samples)."""
    wav = _wav_seconds(wav_path)
    if wav is None:
        raise RenderError(
            "fluidsynth wrote no WAV file (raw samples: is it built with libsndfile?)"
        )
    music = _midi_seconds(midi_path)
    if music is not None and wav + 0.05 < music:  # 0.05 s: fluidsynth renders in blocks
        raise RenderError(
            f"fluidsynth wrote {wav:.1f} s of the {music:.1f} s of {shown}: the WAV is cut short"
        )


def _wav_seconds(path: str) -> float | None:
    """Seconds of sound the WAV file ``path`` holds (the bytes of its ``data`` chunk that are in
    the file, at its ``fmt `` chunk's bytes a second); None when it is no WAV."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        per_second = 0
        while len(chunk := handle.read(8)) == 8:
            kind, length = chunk[:4], int.from_bytes(chunk[4:], "little")
            if kind == b"data":
                return min(length, size - handle.tell()) / per_second if per_second else None
            body = handle.read(length + length % 2)  # chunks are padded to an even length
            if kind == b"fmt ":
                per_second = int.from_bytes(body[8:12], "little")  # the byte rate
    return None


def _midi_seconds(path: str) -> float | None:
    """How long the MIDI file ``path`` plays, in seconds: to the end of its longest track,
    timed by its tempo marks (120 quarter notes a minute before the first, as the standard
    says); None when music21 cannot read it."""
    from music21.midi import DeltaTime, MetaEvents, MidiFile

    midi = MidiFile()
    try:
        midi.open(path)
        try:
            midi.read()
        finally:
            midi.close()
    except Exception:  # noqa: BLE001 (a file fluidsynth played but music21 cannot read)
        return None
    marks, end = [], 0  # marks: (tick, microseconds a quarter note)
    for track in midi.tracks:
        now = 0
        for event in track.events:
            if isinstance(event, DeltaTime):
                now += event.time
            elif event.type == MetaEvents.SET_TEMPO and isinstance(event.data, bytes):
                marks.append((now, int.from_bytes(event.data, "big")))
        end = max(end, now)
    micros, at, per_quarter = 0, 0, 500_000
    for tick, tempo in sorted(marks):
        if tick < end:
            micros += (tick - at) * per_quarter
            at, per_quarter = tick, tempo
    micros += (end - at) * per_quarter
    return micros / 1e6 / midi.ticksPerQuarterNote


def _remove(path: str) -> None:
    if os.path.exists(path):
        os.remove(path)


def _check_readable(abc: str, line_offset: int = 0) -> None:
    """Refuse a tune our reader refuses, before any engraver sees it; the `RenderError` keeps
    the reader's `AbcParseError` as ``parse_error``, for a caller that places it in its file
    (`RawTune.locate`: a dump row's lines count in its tune text)."""
    from tokenization.abc_parser import AbcParseError, parse_abc

    try:
        tune = parse_abc(abc, line_offset=line_offset)
    except AbcParseError as err:
        refusal = RenderError(f"not readable ABC, nothing rendered: {err}")
        refusal.parse_error = err
        raise refusal from None
    if not any(token.kind == "note" for token in tune.tokens):
        raise RenderError("the tune has no notes, nothing rendered")


def render_abc(
    abc: str,
    stem: str,
    formats: Sequence[str] = DEFAULT_FORMATS,
    soundfont: str | None = None,
    tempo: int = 200,
    line_offset: int = 0,
    taken: Collection[str] = (),
    said: CappedWarnings | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, list[str] | str]:
    """Render one tune to ``stem.svg``, ``stem.mid``, ``stem.wav`` and ``stem.musicxml`` (those
    asked for, of `FORMATS`; by default `DEFAULT_FORMATS`; a `ValueError` names one that is
    unknown, empty or given twice, as ``--formats`` does).

    Returns ``{format: path(s)}``. A WAV that this machine cannot make (no fluidsynth, or no
    soundfont) is reported under ``"skipped"`` (``{"skipped": ["wav: WAV needs ..."]}``)
    instead of raising, and not logged: the caller says it once. A MusicXML file that cannot be
    made (music21 cannot export it, an ending of too many passes) is no tool missing but the
    tune failing a format asked for: it is listed under ``"failed"``
    (``["musicxml: music21 could not write MusicXML: ..."]``; a caller counts the tune as not
    rendered) and the tune's other formats are still written. Otherwise the tune is rendered
    whole or not at all: every file is written under a temporary name, and all are renamed into
    place once every format is made (`replacing_files`; the WAV is synthesised from the new MIDI).
    The SVG pages an earlier rendering of ``stem`` left that the new one did not write
    (``stem-3.svg`` of three pages, now two; ``stem-2-2.svg``, a page 2 moved aside, when page
    2 is ``stem-2.svg`` again; `stale_pages`, but for those in ``taken``) are removed then, and
    named under ``"removed"``: the folder never mixes pages of two renderings.
    Only a file marked as that page of ``stem`` is removed or written over (`to_svg` marks each
    page it writes): another tune's page (``t-2.svg`` of a tune ``t-2``, or page 2 of ``t``
    where a tune ``t-2`` would put its first: that goes to ``t-2-1-2.svg``) is never, and a
    file of such a name without a marker (an older version's page) is kept, named in a warning
    (in ``said`` when given: a command's `CappedWarnings`) once the tune is rendered, and listed
    under ``"kept"``; the ``%%MIDI`` directives the MIDI does not play are said in ``said`` too
    (`midi_program`: the first few tunes' of a book, then counted).
    Any other failure, fluidsynth failing on the tune among them, raises `RenderError`, writes
    no file and leaves the files of an earlier rendering of ``stem`` as they were, never a mix
    of new and earlier ones (nor none: they were deleted); a soundfont fluidsynth cannot load is a
    `SoundFontError` (a `ValueError` too: no tune's WAV can be made with it). A tune that our
    reader refuses (`irish-tune check` names why) is refused before any engraver sees it
    (verovio, in a process of its own, crashes on some malformed ABC, unbalanced chords among
    them: that too is a `RenderError`, `to_svg`). ``line_offset`` is added to the line of such
    an error (the tune's place in its file, `RawTune.line_offset`). ``taken``: paths no SVG
    page may take (`to_svg`). ``should_stop``, checked before each format (not during one: a
    running engraver or fluidsynth is left to finish), stops the rendering when it says yes
    (`RenderingStopped`: nothing of the tune written, as on a failure).
    """
    formats = check_formats(formats, FORMATS)  # an unknown, empty or repeated one: refused
    _check_readable(abc, line_offset)
    out: dict = {"skipped": [], "failed": []}
    kept: Kept = []  # unmarked files: said once the tune is rendered, not if it fails
    check = _stop_check(stem, should_stop)
    with replacing_files() as group:  # a failure: no file renamed into place, none removed
        if "svg" in formats:
            check("SVG")
            out["svg"] = to_svg(abc, stem + ".svg", taken, group=group, kept=kept)
            # an earlier rendering's pages beyond the new last one, or moved aside, go with it
            pages = len(out["svg"])
            out["removed"] = stale_pages(stem + ".svg", pages, [*taken, *out["svg"]], kept)
            for page in out["removed"]:
                group.remove_with(page)
        if "midi" in formats:
            check("MIDI")
            out["midi"] = to_midi(abc, stem + ".mid", tempo=tempo, group=group, said=said)
        missing = _wav_tools(soundfont)[2] if "wav" in formats else None
        if missing:
            out["skipped"].append(f"wav: {missing}")
        elif "wav" in formats and "midi" in formats:
            check("WAV")
            midi_path = group.staged(stem + ".mid")  # the new MIDI, not yet in place
            out["wav"] = to_wav(
                midi_path, stem + ".wav", soundfont, group=group, midi_name=stem + ".mid"
            )
        elif "wav" in formats:
            check("WAV")
            out["wav"] = _wav_alone(abc, stem + ".wav", soundfont, tempo, group, said)
        if "musicxml" in formats:
            check("MusicXML")
            try:
                out["musicxml"] = to_musicxml(abc, stem + ".musicxml", group=group)
            except RenderError as err:  # not the tune's other formats' fault: they are kept
                out["failed"].append(f"musicxml: {err}")
    for file, reason, instead in kept:
        warn_unmarked(file, reason, instead, said)
    out["kept"] = [file for file, _, _ in kept]
    return out


def _stop_check(stem: str, should_stop: Callable[[], bool] | None) -> Callable[[str], None]:
    """What `render_abc` calls before each format (its name): raises `RenderingStopped` when
    ``should_stop`` says yes; does nothing without one."""

    def check(before: str) -> None:
        if should_stop is not None and should_stop():
            raise RenderingStopped(stem, before)

    return check


def _wav_alone(
    abc: str,
    path: str,
    soundfont: str | None,
    tempo: int,
    group: ReplacingFiles,
    said: CappedWarnings | None = None,
) -> str:
    """`to_wav` of a tune whose MIDI was not asked for: synthesised from a MIDI file of its own,
    never a ``stem.mid`` already there, removed when the WAV is made or fails."""
    handle, midi_path = tempfile.mkstemp(suffix=".mid")
    os.close(handle)
    try:
        to_midi(abc, midi_path, tempo=tempo, said=said)
        return to_wav(midi_path, path, soundfont, group=group)
    finally:
        _remove(midi_path)
