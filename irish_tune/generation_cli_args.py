"""The arguments of `irish-tune generate`, `render` and `evaluate-generation`: the builders of
their parsers (`add_<command>_args`) and the types that check each flag's value as the arguments
are read (the commands themselves are in `modeling_irish.generation_cli`, imported only when one
runs)."""

from __future__ import annotations

import argparse

from .arg_types import abc_source, non_negative_float, non_negative_int, number, positive_int

__all__ = [
    "DEFAULT_MAX_ROWS",
    "DEFAULT_MIN_BARS",
    "DEFAULT_FORMATS",
    "FORMATS",
    "add_evaluate_generation_args",
    "add_generate_args",
    "add_render_args",
    "evaluate_generation_usage_problem",
    "formats_arg",
    "generate_usage_problem",
    "meter_arg",
    "min_bars_problem",
    "empty_out_problem",
    "render_usage_problem",
    "seed_arg",
    "soundfont_problem",
]

#: = `modeling_irish.render.FORMATS`, `DEFAULT_FORMATS` and
#: `modeling_irish.generation_args.DEFAULT_MAX_ROWS`, `DEFAULT_MIN_BARS` (not imported: the
#: command line starts light; a test checks that they agree).
FORMATS = ("svg", "midi", "wav", "musicxml")
DEFAULT_FORMATS = ("svg", "midi", "wav")
DEFAULT_MAX_ROWS = 600
DEFAULT_MIN_BARS = 4


def meter_arg(text: str) -> str:
    """``--meter``: ``N/D`` with positive whole numbers, ``D`` a power of two up to 64 (the
    check `TuneGenerator.generate` makes too, `check_meter`), an additive ``2+3/8`` or
    ``(2+3+2)/8``, or ``C`` / ``C|``, kept as given: the tune's ``M:`` writes the spelling asked
    for, read as 5/8, 7/8, 4/4, 2/2 (`meter_as_asked`). Spaces are dropped as the reader drops
    them in ``M:``: ``C |`` is written ``C|``, ``6 / 8`` is ``6/8``. Whether the model's
    tokenizer can fill such a bar is checked when sampling starts; whether it has seen the meter
    too (a warning names what it never saw).

    >>> meter_arg("6/8"), meter_arg(" 3/2 "), meter_arg("C|"), meter_arg("C |"), meter_arg("6 / 8")
    ('6/8', '3/2', 'C|', 'C|', '6/8')
    >>> meter_arg("2+3/8"), meter_arg("(2 + 3 + 2)/8")
    ('2+3/8', '(2+3+2)/8')
    >>> meter_arg("0/8")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: '0/8' is not a meter (no beats): ...
    """
    from .value_checks import check_meter, meter_as_asked  # light, but it reads ABC

    try:
        meter = check_meter(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return meter_as_asked(text, meter) or meter


def seed_arg(text: str) -> int:
    """``--seed``: a whole number from 0 to 2**64 - 1 (`check_seed`, as the API checks it).

    >>> seed_arg("18446744073709551615")
    18446744073709551615
    >>> seed_arg("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: seed must be a whole number from 0 to 2**64 - 1 ..., got -1
    """
    from .value_checks import check_seed  # imported with check_meter's module: only when given

    try:
        return check_seed(int(text))
    except ValueError as err:
        reason = str(err) if "seed" in str(err) else f"seed must be a whole number, got {text!r}"
        raise argparse.ArgumentTypeError(reason) from None


def formats_arg(text: str) -> list[str]:
    """``--render`` / ``--formats``: a comma list of ``svg``, ``midi``, ``wav``, ``musicxml``
    (checked when the arguments are read, before anything is sampled or written). An empty
    list or entry (``--render ""``, ``midi,,svg``: rendered nothing, or skipped, without a
    word) and a format given twice are refused, as ``--config`` refuses a key given twice.

    >>> formats_arg("svg, MIDI")
    ['svg', 'midi']
    >>> formats_arg("midi,,svg")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: empty format in 'midi,,svg' (two commas, or one at an end); ...
    >>> formats_arg("midi,svg,midi")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: format 'midi' is given twice
    """
    choose = f"choose from {', '.join(FORMATS)} (comma-separated)"
    if not text.strip():
        raise argparse.ArgumentTypeError(f"no format given; {choose}")
    formats = [f.strip().lower() for f in text.split(",")]
    if "" in formats:
        raise argparse.ArgumentTypeError(
            f"empty format in {text!r} (two commas, or one at an end); {choose}"
        )
    from .value_checks import check_formats  # (as `render_abc` checks them)

    try:
        return check_formats(formats, FORMATS, hint=" (comma-separated)")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _top_p(text: str) -> float:
    """``--top-p``: a number in (0, 1]."""
    value = number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def _sampling_args(parser: argparse.ArgumentParser, command: str) -> None:
    """The sampling arguments of ``command`` (``generate`` or ``evaluate-generation``); the
    help speaks of the prompt only where there is a ``--prompt`` (generate)."""
    prompted = command == "generate"
    parser.add_argument("--model", required=True, help="folder of a trained MeasureNote model")
    parser.add_argument(
        "--rhythm",
        default=None,
        help="tune type: reel, jig, slip jig... (any case, with - or spaces: slip-jig is read "
        "as the model's tokenizer spells it, e.g. 'slip jig'; default: "
        + (
            "the prompt's R:, 'unspecified' for a prompt without one, as the model was trained "
            "on tunes without R:; for a new tune, "
            if prompted
            else ""
        )
        + "that of --meter, else reel)",
    )
    parser.add_argument(
        "--meter",
        type=meter_arg,
        default=None,
        help="meter N/D, D a power of two, e.g. 6/8, additive 2+3/8 (written so, sampled as 5/8), "
        "or C / C| (default: "
        + ("the prompt's, else " if prompted else "")
        + "the rhythm's usual one; a rhythm of no usual meter, e.g. air, needs it)",
    )
    parser.add_argument(
        "--key",
        default=None,
        help="key to write in: a tonic and an optional mode, e.g. D, Bb ('B flat') or 'E dorian' "
        "(no explicit accidentals, exp, clef or none; default: "
        + ("the prompt's, else " if prompted else "")
        + "D major)",
    )
    parser.add_argument(
        "--mode", default=None, help="mode, e.g. dorian (overrides the mode of --key)"
    )
    parser.add_argument(
        "--num-tunes", type=positive_int, default=4, help="tunes to sample (default: 4)"
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=64,
        help="tunes sampled at once (memory grows with it; default: 64); more tunes come in "
        "further batches",
    )
    parser.add_argument(
        "--num-bars",
        type=positive_int,
        default=16,
        help="written bars after which the tune is steered to close: a repeated section's "
        "bars counted once, both endings' bars counted, a pickup not"
        + (
            ", the prompt's included (a longer prompt is closed after its last bar)"
            if prompted
            else ""
        )
        + "; closing may add a bar or two (the end of a repeat, a second ending), and the "
        "repeats played out make more bars; the model may end a tune sooner, from its "
        f"{DEFAULT_MIN_BARS}th bar (or its --num-bars-th, if fewer): --min-bars moves that",
    )
    parser.add_argument(
        "--min-bars",
        type=non_negative_int,
        default=None,
        help="fewest written bars before the model may end a tune by itself, counted as "
        f"--num-bars counts them, at most --num-bars (default: {DEFAULT_MIN_BARS}, or "
        "--num-bars if fewer; 0: no minimum, a tune ends after its first bar at the soonest); "
        "--min-bars equal to --num-bars gives that many bars, or a bar "
        "or two more where closing needs them (the end of a repeat, a second ending); a "
        "--max-rows too small for them still closes a tune sooner",
    )
    parser.add_argument(
        "--max-rows",
        type=positive_int,
        default=DEFAULT_MAX_ROWS,
        help="rows before which the tune is steered to close ("
        + ("the prompt's, " if prompted else "")
        + "<start> and <end> included; only closing bars wider than the tune's widest so far "
        "pass it; at least room for five bars of eighth notes"
        + (" after the prompt" if prompted else "")
        + ", so that a tune gets four); one still open at twice that is cut and reported as "
        "truncated (invalid)",
    )
    parser.add_argument(
        "--temperature",
        type=non_negative_float,
        default=1.0,
        help="softmax temperature (0: greedy)",
    )
    parser.add_argument(
        "--top-k", type=non_negative_int, default=0, help="keep the k best tokens (0: all)"
    )
    parser.add_argument(
        "--top-p", type=_top_p, default=1.0, help="nucleus sampling mass, in (0, 1]"
    )
    parser.add_argument(
        "--seed",
        type=seed_arg,
        default=0,
        help="seed, 0 to 2**64 - 1 (default: 0): the same seed, --num-tunes and --batch-size "
        "give the same tunes (a batch's tunes are drawn together), so two runs without --seed "
        "print the same ones",
    )
    parser.add_argument(
        "--unconstrained", action="store_true", help="sample without the bar/repeat masks"
    )


def add_generate_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune generate``."""
    _sampling_args(parser, "generate")
    parser.add_argument(
        "--prompt",
        default=None,
        help="ABC file ('-': stdin) of one tune whose incipit is continued (text before its "
        "X: line is passed over, as irish-tune check reads a file), or a thesession.org dump "
        "(tunes.json / tunes.csv) of that one tune",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="folder for tune_N.abc and renderings (default: print the ABC); files of an "
        "earlier run that this one does not replace (tune_N.abc, .mid, .wav, .musicxml, and SVG "
        "pages marked as tune_N's) are named in a warning, never deleted "
        "(but an earlier rendering's further SVG pages, tune_N-3.svg, of a tune it renders as SVG "
        "again with fewer pages, marked as its pages: those are removed and named)",
    )
    parser.add_argument(
        "--render",
        type=formats_arg,
        default=[],
        help="comma list of svg,midi,wav,musicxml, each once (needs --out); musicxml: the tune "
        "as written "
        "(repeats, endings) for MuseScore, Sibelius, Finale",
    )
    parser.add_argument("--soundfont", default=None, help="GM .sf2 for WAV rendering")


def add_render_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune render``."""
    parser.add_argument(
        "files",
        nargs="+",
        help="ABC files (one or several tunes each), folders of .abc files, thesession.org "
        "dumps, - for stdin, or the books bundled with music21 (as check reads them)",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output folder; a tune is written whole or not at all: one that fails writes no "
        "file and leaves those an earlier run wrote under its names as they were (named on "
        "stderr), and one rendered replaces them, removing the SVG pages an earlier rendering "
        "had beyond its last (t-3.svg of three pages, now two) or moved aside (t-2-2.svg; "
        "named on stdout); only files marked as that tune's pages are written over or "
        "removed, and its own t.svg (one without a marker: an older version's rendering); "
        "another unmarked one is kept and named",
    )
    parser.add_argument(
        "--formats",
        type=formats_arg,
        default=list(DEFAULT_FORMATS),
        help="comma list of svg,midi,wav,musicxml, each once (default: svg,midi,wav); musicxml "
        "(t.musicxml) "
        "is the tune as written, repeats and endings kept, for MuseScore, Sibelius or Finale, "
        "and a tune music21 cannot export is named on stderr, its other formats still written, "
        "and counted as a tune not rendered (exit status 1); "
        "a format this machine cannot make (wav without fluidsynth or a soundfont, svg without "
        "verovio) is skipped with one note, and when none of those asked can be made the "
        "command stops with the note, exit status 2",
    )
    parser.add_argument("--soundfont", default=None, help="GM .sf2 for WAV rendering")


def generate_usage_problem(args: argparse.Namespace) -> str | None:
    """Why the arguments of ``generate`` can never work together, or None: ``--render``
    without ``--out`` (the renderings need a folder), or a ``--soundfont`` that nothing would
    use (`soundfont_problem`). Refused by `irish_tune.parser.parse_args` with the command's
    usage, as argparse's own errors, and again by `modeling_irish.generation_cli.run_generate`,
    for arguments built in Python. An empty ``--out`` (``--out ""``) is refused too
    (`empty_out_problem`), not taken as no ``--out``, and a ``--min-bars`` above ``--num-bars``
    (`min_bars_problem`)."""
    problem = empty_out_problem(args.out, "the .abc files and renderings")
    problem = problem or min_bars_problem(args.min_bars, args.num_bars)
    if problem is None and args.render and not args.out:
        return "--render needs --out, the folder the .abc files and renderings go to"
    return problem or soundfont_problem(args.soundfont, args.render, "--render")


def min_bars_problem(min_bars: int | None, num_bars: int | None) -> str | None:
    """Why a ``--min-bars`` above ``--num-bars`` is refused, or None: the tune is steered to
    close after ``--num-bars`` bars, so it could not hold the fewest asked for (the API refuses
    ``min_bars`` so, `modeling_irish.generation_args.check_lengths`, naming its arguments).

    >>> min_bars_problem(40, 32)[:41]
    '--min-bars 40 is more than --num-bars 32:'
    >>> min_bars_problem(32, 32) is None and min_bars_problem(None, 2) is None
    True
    """
    if min_bars is None or num_bars is None or min_bars <= num_bars:
        return None
    return (
        f"--min-bars {min_bars} is more than --num-bars {num_bars}: the tune is steered to "
        f"close after --num-bars bars; give a --min-bars of at most {num_bars}, or raise "
        "--num-bars"
    )


def empty_out_problem(out: str | None, what: str) -> str | None:
    """Why an ``--out`` given empty (``--out ""``, an unset shell variable) is refused, or None:
    it names no folder, and could only be said not to exist (or, in ``generate``, be taken as
    no ``--out`` at all); ``what`` is what goes to the folder.

    >>> empty_out_problem("", "the renderings")
    '--out is empty; give the folder the renderings go to'
    >>> empty_out_problem(None, "the renderings") is None
    True
    """
    if out is not None and not out:
        return f"--out is empty; give the folder {what} go to"
    return None


def soundfont_problem(soundfont: str | None, formats: list[str], flag: str) -> str | None:
    """Why a ``--soundfont`` that nothing would use (no WAV asked for in ``flag``) is refused
    rather than ignored without a word, or None.

    >>> soundfont_problem("gm.sf2", ["svg"], "--render")
    '--soundfont is used only for WAV files: add wav to --render (e.g. --render wav)'
    >>> soundfont_problem("gm.sf2", ["wav"], "--render") is None
    True
    """
    if soundfont is not None and "wav" not in formats:
        return f"--soundfont is used only for WAV files: add wav to {flag} (e.g. {flag} wav)"
    return None


def render_usage_problem(args: argparse.Namespace) -> str | None:
    """Why the arguments of ``render`` can render nothing whatever its files, or None: an empty
    ``--formats`` or ``--out`` (``--out ""``, an unset shell variable: the folder could only be
    said not to exist), a ``--soundfont`` without wav among them (`soundfont_problem`), or ``-``
    (stdin) given twice. Refused by `irish_tune.parser.parse_args` with the command's usage, and
    again by `modeling_irish.generation_cli.run_render`, for arguments built in Python."""
    if not args.formats:
        return f"--formats is empty; choose from {', '.join(FORMATS)}"
    problem = empty_out_problem(args.out or "", "the renderings")
    if problem is not None:
        return problem
    problem = soundfont_problem(args.soundfont, args.formats, "--formats")
    if problem is None and args.files.count("-") > 1:
        return "'-' (stdin) can be given once"
    return problem


def _train_source(text: str) -> str:
    """``--train``: ``-`` (stdin) or a source that exists (`abc_source`), checked when the
    arguments are read, before the model is loaded and the tunes sampled."""
    return text if text == "-" else abc_source(text)


def add_evaluate_generation_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irish-tune evaluate-generation``."""
    _sampling_args(parser, "evaluate-generation")
    parser.add_argument(
        "--train",
        type=_train_source,
        default=None,
        help="training corpus (ABC) for copy/histograms: a file, folder, thesession dump, "
        "music21 book or - (stdin)",
    )
    parser.add_argument(
        "--max-train-tunes", type=positive_int, default=None, help="read at most N tunes"
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="folder of the cache of --train's tunes read, one file per source and "
        "--max-train-tunes (default: train.py's, runs/.cache; irish-tune prune-cache clears it)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="read --train again, and cache nothing"
    )
    parser.add_argument(
        "--no-readers",
        action="store_true",
        help="skip the re-reading checks (our reader, music21, abc2midi)",
    )
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")


def evaluate_generation_usage_problem(args: argparse.Namespace) -> str | None:
    """Why the arguments of ``evaluate-generation`` are refused whatever its model, or None:
    ``--max-train-tunes`` without the ``--train`` it limits. Refused by
    `irish_tune.parser.parse_args` with the command's usage, and again by
    `modeling_irish.generation_cli.run_evaluate_generation`, for arguments built in Python;
    and a ``--min-bars`` above ``--num-bars`` (`min_bars_problem`)."""
    if args.max_train_tunes is not None and not args.train:
        return "--max-train-tunes limits --train, which is not given"
    return min_bars_problem(args.min_bars, args.num_bars)
