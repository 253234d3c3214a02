"""Render ABC tunes to SVG (verovio), MIDI (music21) and WAV (fluidsynth + a GM soundfont)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import warnings
from collections.abc import Sequence

__all__ = [
    "RenderError",
    "find_soundfont",
    "render_abc",
    "to_midi",
    "to_svg",
    "to_wav",
    "tune_label",
    "unavailable_formats",
]

logger = logging.getLogger(__name__)

#: Where Debian/Ubuntu packages put General MIDI soundfonts (fluid-soundfont-gm and others).
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
)
FORMATS = ("svg", "midi", "wav")


class RenderError(RuntimeError):
    """A rendering could not be made (missing tool, or the tool failed)."""


def to_svg(abc: str, path: str) -> list[str]:
    """Engrave with verovio (it reads ABC itself); one SVG per page, ``path``, ``path-2``...

    Every page is engraved before the first is written: a failure leaves no file behind.

    >>> to_svg("X:1\\nM:2/4\\nL:1/8\\nK:D\\nDFAd|]", "/tmp/tune.svg")  # doctest: +SKIP
    ['/tmp/tune.svg']
    """
    try:
        import verovio
    except ImportError as err:
        raise RenderError("SVG needs verovio: pip install verovio") from err
    verovio.enableLog(verovio.LOG_ERROR)  # not "Information field R is ignored" on every tune
    toolkit = verovio.toolkit()
    toolkit.setOptions({"adjustPageHeight": True, "breaks": "auto", "scale": 50})
    if not toolkit.loadData(abc):
        raise RenderError("verovio could not read the ABC")
    pages = [toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1)]
    paths = []
    stem, ext = os.path.splitext(path)
    for page, svg in enumerate(pages, 1):
        out = path if page == 1 else f"{stem}-{page}{ext}"
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(svg)
        paths.append(out)
    return paths


def to_midi(abc: str, path: str, tempo: int = 200) -> str:
    """Write a MIDI file with music21 (repeats expanded), ``tempo`` quarter notes a minute.

    Repeats music21 cannot expand (a ``|:`` never closed, endings out of order) are played once,
    with a warning. Raises `RenderError` when music21 cannot read the tune or write the file.
    """
    import music21

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            score = music21.converter.parse(abc, format="abc")
        except Exception as err:  # noqa: BLE001 (music21 raises many kinds on bad ABC)
            raise RenderError(f"music21 could not read the tune: {_first_line(err)}") from err
        try:  # per part: Score.expandRepeats refuses the metadata-only streams of an ABC score
            parts = [p.expandRepeats() if p[music21.stream.Measure] else p for p in score.parts]
            score = music21.stream.Score(parts)
        except Exception:  # noqa: BLE001 (music21 refuses some repeat layouts: keep them as read)
            logger.warning(
                "music21 could not expand the repeats of %s; writing them once", tune_label(abc)
            )
            _drop_repeats(score)
        score.insert(0, music21.tempo.MetronomeMark(number=tempo))
        try:
            score.write("midi", fp=path)
        except Exception as err:  # noqa: BLE001 (the writer fails on some scores it was given)
            if os.path.exists(path):
                os.remove(path)
            raise RenderError(f"music21 could not write MIDI: {_first_line(err)}") from err
    return path


def _drop_repeats(score) -> None:
    """Make the repeat barlines of a music21 score plain and remove its ending brackets, in
    place: the MIDI writer expands repeats again and would fail where `expandRepeats` did."""
    import music21

    for measure in score.recurse().getElementsByClass(music21.stream.Measure):
        if isinstance(measure.leftBarline, music21.bar.Repeat):
            measure.leftBarline = None
        if isinstance(measure.rightBarline, music21.bar.Repeat):
            measure.rightBarline = music21.bar.Barline("regular")
    for part in score.parts:
        for bracket in list(part[music21.spanner.RepeatBracket]):
            part.remove(bracket, recurse=True)


def tune_label(abc: str) -> str:
    """``X:2 T:Title`` of a tune's text (its first ``X:`` and ``T:`` lines), to name it.

    >>> tune_label("X:2\\nT:The Butterfly\\nT:An Féileacán\\nK:Em\\nB2E|")
    'X:2 T:The Butterfly'
    """
    lines = abc.splitlines()
    x = next((line.strip() for line in lines if line.startswith("X:")), "X:?")
    t = next((line.strip() for line in lines if line.startswith("T:")), None)
    return f"{x} {t}" if t else x


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def is_soundfont(path: str) -> bool:
    """Whether ``path`` starts as a SoundFont 2 file does: a RIFF chunk of form ``sfbk``."""
    with open(path, "rb") as handle:
        head = handle.read(12)
    return head[:4] == b"RIFF" and head[8:12] == b"sfbk"


def find_soundfont(explicit: str | None = None) -> str | None:
    """A General MIDI soundfont: ``explicit``, ``$SOUNDFONT``, or a Debian package's file.
    An ``explicit`` file that does not exist is an error, not a reason to use another."""
    if explicit and not os.path.isfile(explicit):
        raise FileNotFoundError(f"--soundfont {explicit}: no such file")
    if explicit and not is_soundfont(explicit):
        # fluidsynth warns, then renders with its own font and exits 0
        raise ValueError(f"--soundfont {explicit}: not a SoundFont (.sf2) file")
    for candidate in (explicit, os.environ.get("SOUNDFONT"), *SOUNDFONT_PATHS):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def _wav_tools(soundfont: str | None) -> tuple[str | None, str | None, str | None]:
    """``(fluidsynth program, soundfont, None)``, or what is missing as the third item."""
    program = shutil.which("fluidsynth")
    font = find_soundfont(soundfont)
    if program is None or font is None:
        missing = "the fluidsynth program" if program is None else "a General MIDI soundfont"
        return (
            program,
            font,
            f"WAV needs {missing} (apt-get install fluidsynth fluid-soundfont-gm, or set "
            "$SOUNDFONT to a .sf2 file)",
        )
    return program, font, None


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


def to_wav(midi_path: str, path: str, soundfont: str | None = None, rate: int = 44100) -> str:
    """Synthesise a MIDI file to WAV with the ``fluidsynth`` program.

    Raises `RenderError` with what to install when fluidsynth or a soundfont is missing
    (Debian/Ubuntu: ``apt-get install fluidsynth fluid-soundfont-gm``).
    """
    program, font, problem = _wav_tools(soundfont)
    if problem:
        raise RenderError(problem)
    command = [program, "-ni", "-g", "0.8", "-r", str(rate), "-F", path, font, midi_path]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        _remove(path)
        raise RenderError(f"fluidsynth took more than 300 s on {midi_path}") from None
    except BaseException:  # interrupted: no half-written WAV is left
        _remove(path)
        raise
    if result.returncode != 0 or not os.path.isfile(path):
        _remove(path)
        raise RenderError(f"fluidsynth failed: {result.stderr.strip()[-500:]}")
    return path


def _remove(path: str) -> None:
    if os.path.exists(path):
        os.remove(path)


def _check_readable(abc: str, line_offset: int = 0) -> None:
    from tokenization.abc_parser import AbcParseError, parse_abc

    try:
        tune = parse_abc(abc, line_offset=line_offset)
    except AbcParseError as err:
        raise RenderError(f"not readable ABC, nothing rendered: {err}") from None
    if not any(token.kind == "note" for token in tune.tokens):
        raise RenderError("the tune has no notes, nothing rendered")


def render_abc(
    abc: str,
    stem: str,
    formats: Sequence[str] = FORMATS,
    soundfont: str | None = None,
    tempo: int = 200,
    line_offset: int = 0,
) -> dict[str, list[str] | str]:
    """Render one tune to ``stem.svg``, ``stem.mid`` and ``stem.wav`` (those asked for).

    Returns ``{format: path(s)}``. A WAV that cannot be made (no fluidsynth, or it failed) is
    reported under ``"skipped"`` (``{"skipped": ["wav: WAV needs ..."]}``) instead of raising,
    and not logged: the caller says it once. Any other failure raises `RenderError` and removes
    the files this call wrote, so that no partial rendering of the tune is left. A tune that our
    reader refuses (`irish-tune check` names why) is refused before any engraver sees it:
    verovio aborts the whole process on some malformed ABC (unbalanced chords) instead of
    raising. ``line_offset`` is added to the line of such an error (the tune's place in its
    file, `RawTune.line_offset`).
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}; choose from {FORMATS}")
    _check_readable(abc, line_offset)
    out: dict = {"skipped": []}
    written: list[str] = []
    try:
        if "svg" in formats:
            out["svg"] = to_svg(abc, stem + ".svg")
            written += out["svg"]
        if "midi" in formats or "wav" in formats:
            written.append(stem + ".mid")
            midi_path = to_midi(abc, stem + ".mid", tempo=tempo)
            if "midi" in formats:
                out["midi"] = midi_path
        if "wav" in formats:
            try:
                written.append(stem + ".wav")
                out["wav"] = to_wav(midi_path, stem + ".wav", soundfont)
            except RenderError as err:
                out["skipped"].append(f"wav: {err}")
            if "midi" not in formats:
                os.remove(midi_path)
    except BaseException:
        for path in written:
            _remove(path)
        raise
    return out
