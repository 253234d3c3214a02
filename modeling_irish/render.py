"""Render ABC tunes to SVG (verovio), MIDI (music21) and WAV (fluidsynth + a GM soundfont)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import warnings
from collections.abc import Sequence

__all__ = ["RenderError", "find_soundfont", "render_abc", "to_midi", "to_svg", "to_wav"]

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
    paths = []
    stem, ext = os.path.splitext(path)
    for page in range(1, toolkit.getPageCount() + 1):
        out = path if page == 1 else f"{stem}-{page}{ext}"
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(toolkit.renderToSVG(page))
        paths.append(out)
    return paths


def to_midi(abc: str, path: str, tempo: int = 200) -> str:
    """Write a MIDI file with music21 (repeats expanded), ``tempo`` quarter notes a minute."""
    import music21

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = music21.converter.parse(abc, format="abc")
        try:  # per part: Score.expandRepeats refuses the metadata-only streams of an ABC score
            score = music21.stream.Score([part.expandRepeats() for part in score.parts])
        except Exception:  # noqa: BLE001 (music21 refuses some repeat layouts: keep them as read)
            logger.warning("music21 could not expand the repeats; writing them once")
        score.insert(0, music21.tempo.MetronomeMark(number=tempo))
        score.write("midi", fp=path)
    return path


def find_soundfont(explicit: str | None = None) -> str | None:
    """A General MIDI soundfont: ``explicit``, ``$SOUNDFONT``, or a Debian package's file."""
    for candidate in (explicit, os.environ.get("SOUNDFONT"), *SOUNDFONT_PATHS):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def to_wav(midi_path: str, path: str, soundfont: str | None = None, rate: int = 44100) -> str:
    """Synthesise a MIDI file to WAV with the ``fluidsynth`` program.

    Raises `RenderError` with what to install when fluidsynth or a soundfont is missing
    (Debian/Ubuntu: ``apt-get install fluidsynth fluid-soundfont-gm``).
    """
    program = shutil.which("fluidsynth")
    font = find_soundfont(soundfont)
    if program is None or font is None:
        missing = "the fluidsynth program" if program is None else "a General MIDI soundfont"
        raise RenderError(
            f"WAV needs {missing} (apt-get install fluidsynth fluid-soundfont-gm, or set "
            "$SOUNDFONT to a .sf2 file)"
        )
    command = [program, "-ni", "-g", "0.8", "-r", str(rate), "-F", path, font, midi_path]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0 or not os.path.isfile(path):
        raise RenderError(f"fluidsynth failed: {result.stderr.strip()[-500:]}")
    return path


def render_abc(
    abc: str,
    stem: str,
    formats: Sequence[str] = FORMATS,
    soundfont: str | None = None,
    tempo: int = 200,
) -> dict[str, list[str] | str]:
    """Render one tune to ``stem.svg``, ``stem.mid`` and ``stem.wav`` (those asked for).

    Returns ``{format: path(s)}``; a format that cannot be made is logged and reported under
    ``"skipped"`` (``{"skipped": ["wav: WAV needs ..."]}``) instead of raising.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}; choose from {FORMATS}")
    out: dict = {"skipped": []}
    if "svg" in formats:
        out["svg"] = to_svg(abc, stem + ".svg")
    midi_path = None
    if "midi" in formats or "wav" in formats:
        midi_path = to_midi(abc, stem + ".mid", tempo=tempo)
        if "midi" in formats:
            out["midi"] = midi_path
    if "wav" in formats:
        try:
            out["wav"] = to_wav(midi_path, stem + ".wav", soundfont)
        except RenderError as err:
            logger.warning("%s", err)
            out["skipped"].append(f"wav: {err}")
        if "midi" not in formats:
            os.remove(midi_path)
    return out
