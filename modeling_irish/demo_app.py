"""`irish-tune demo`: a Gradio app to try a model in a browser, two tabs over the package's own
APIs. **Generate** samples a tune (`TuneGenerator.generate`, as ``irish-tune generate``) and
renders it (`render_abc`: the score as SVG, MIDI, and WAV where fluidsynth and a soundfont are
found); **Name that tune** ranks the titles of an index for an ABC snippet (`identify`, by the
edit distance, as ``irish-tune identify --index``).

`generate_tab` and `name_tab` return plain data (`GeneratedView`, `NamedView`): the app only
lays them out, and tests call them without a server. `build_demo` returns the `gradio.Blocks`
(gradio, an optional dependency, ``pip install "modeling-irish[demo]"``, is imported only
there); `run_demo` serves it on 127.0.0.1 (never a public share link). The same Blocks run as a
Hugging Face Space (docs/generation.md, "Try it in a browser").

Its parts: demo_inputs.py (the values the pages take in, checked), demo_name.py (the Name that
tune tab), demo_page_text.py (what the pages say: refusals in their terms, notes as Markdown)
and demo_stop.py (the requests under way and how the server stops); their public names are
importable from here too.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from tokenization.capped_warnings import WarningRecorder

from .demo_inputs import (
    BARS,
    MIN_BARS,
    SEED,
    TEMPERATURE,
    TUNES,
    distinct_messages,
    generate_values,
    pasted_prompt,
)
from .demo_name import NamedView, load_index, name_controls, name_tab
from .demo_page_text import no_room_message, notes_markdown, page_terms, user_error
from .demo_stop import RequestsUnderWay, close_now, launch_app, stop_line, stop_on_sigterm
from .generation_args import DEFAULT_MIN_BARS
from .prompt_lines import prompt_error
from .render import RenderingStopped

if TYPE_CHECKING:
    from tokenization.tokenization_abc import AbcTokenizer

    from .generation import TuneGenerator

__all__ = [
    "DEFAULT_RHYTHM",
    "KEEP_RENDERINGS",
    "MISSING_GRADIO",
    "GeneratedView",
    "NamedView",
    "RequestsUnderWay",
    "build_demo",
    "generate_tab",
    "generate_views",
    "import_gradio",
    "known_rhythms",
    "load_index",
    "name_tab",
    "prune_renderings",
    "run_demo",
]


#: What `import_gradio` says when gradio cannot be imported.
MISSING_GRADIO = 'the demo needs gradio: pip install "modeling-irish[demo]"'

#: The rhythm choice that leaves the rhythm to `TuneGenerator.generate`: the prompt's ``R:``,
#: else that of the meter (a reel).
DEFAULT_RHYTHM = "(the prompt's, else reel)"

#: The formats the Generate tab renders, those this machine can make (`unavailable_formats`).
_FORMATS = ("svg", "midi", "wav")

#: The Generate tab's rendering folders kept (`prune_renderings`): gradio serves a copy of the
#: WAV and MIDI from its own cache, so only the newest are needed, for the requests under way.
KEEP_RENDERINGS = 16

#: Gradio's ``delete_cache``: every 10 minutes, its copies of the files served older than an
#: hour are deleted (all of them when the server stops), so that they do not pile up.
_DELETE_CACHE = (600, 3600)


@dataclass
class GeneratedView:
    """What the Generate tab shows of one sampled tune.

    Attributes:
        abc: the tune's ABC (`GeneratedTune.engraved_abc`, as ``irish-tune generate`` writes).
        valid: whether the sample is valid; ``errors`` says why not.
        svg: the score, its SVG pages one after the other ("" when not engraved).
        midi: the MIDI file's path (None when not made), wav the WAV's.
        notes: what could not be made and why (a missing tool, a failed rendering).
        warnings: what `TuneGenerator.generate` said about the request (a rhythm in an unusual
            meter, a key or prompt the vocabulary lacks, a prompt not read as written) and what
            `render_abc` said of the tune's rendering, as ``irish-tune generate --render`` says
            them on stderr; logged too.
    """

    abc: str
    valid: bool
    errors: list[str] = field(default_factory=list)
    svg: str = ""
    midi: str | None = None
    wav: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def import_gradio() -> ModuleType:
    """The `gradio` module, with its usage analytics off (the demo sends nothing out), or an
    `ImportError` that says how to install it (`MISSING_GRADIO`)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio
    except ImportError as err:
        raise ImportError(f"{MISSING_GRADIO} ({err})") from None
    return gradio


def known_rhythms(tokenizer: AbcTokenizer) -> list[str]:
    """The rhythms the tokenizer's vocabulary holds (its corpus's ``R:`` values), as
    `TuneGenerator.generate` spells them, but ``unspecified``.

    >>> from tokenization.tokenization_abc import AbcTokenizer
    >>> known_rhythms(AbcTokenizer.train(["X:1\\nR:Jig\\nM:6/8\\nL:1/8\\nK:G\\nGAB cBA|]\\n"]))
    ['jig']
    """
    values = tokenizer.abc_vocab.values["rhythm"]
    return [v for v in values if not v.startswith("<") and v != "unspecified"]


def generate_tab(
    generator: TuneGenerator,
    rhythm: str | None = None,
    key: str | None = None,
    num_bars: int = 16,
    temperature: float = 1.0,
    seed: int = 0,
    prompt: str | None = None,
    out_dir: str | None = None,
    min_bars: int | None = None,
) -> GeneratedView:
    """Sample one tune and render it into a new folder under ``out_dir`` (default: the system's
    temporary folder): `generate_views` of one tune, the same arguments."""
    (view,) = generate_views(
        generator, rhythm, key, num_bars, temperature, seed, prompt, out_dir, min_bars=min_bars
    )
    return view


def generate_views(
    generator: TuneGenerator,
    rhythm: str | None = None,
    key: str | None = None,
    num_bars: int = 16,
    temperature: float = 1.0,
    seed: int = 0,
    prompt: str | None = None,
    out_dir: str | None = None,
    num_tunes: int = 1,
    on_step: Callable[[int, int, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    min_bars: int | None = None,
) -> list[GeneratedView]:
    """Sample ``num_tunes`` tunes in one batch (`TuneGenerator.generate`: ``X:1``, ``X:2``...;
    the same seed and number give the same tunes) and render each into one new folder under
    ``out_dir`` (default: the system's temporary folder), a view of each, in order. ``rhythm``,
    ``key`` and ``prompt`` blank or None (or ``rhythm`` = `DEFAULT_RHYTHM`) are left to
    `TuneGenerator.generate`'s defaults: the prompt's, else a reel in D major. A refused request
    (a key that is no key, a prompt that cannot be read) is its `ValueError`, what it asks to
    give as an argument and a flag (``meter=``, ``--meter``) named as the page gives it
    (`page_terms`), a prompt too long to finish a tune after worded for the page (which has no
    ``max_rows``: `no_room_message`), and so is a prompt of several tunes, named
    (`refuse_several_tunes`); a rendering that cannot be made is a note, the ABC shown all the
    same. The prompt is read as ``irish-tune generate --prompt FILE`` reads a file
    (`pasted_prompt`: free text before its ``X:`` passed over, header fields typed before it
    written in), and its warnings and errors name its lines as pasted, blank lines before it
    counted (an error as ``prompt, line N, column C: ...``, `prompt_error`); what of the pasted
    text is not read is in ``warnings`` too. The warnings the generation logs on
    ``modeling_irish.generation`` (said of the whole request: in every view's ``warnings``) and
    the rendering on ``modeling_irish.render`` (those ``irish-tune generate --render`` says: a
    MIDI or SVG warning naming the tune, in that tune's view) are kept in ``warnings``, for the
    page to show, and still logged. ``on_step(done, total, what)`` is called before each of the
    ``num_tunes + 1`` steps (the sampling, then the rendering of each tune: "rendering tune 2 of
    3"), for the page's progress bar. ``should_stop`` is `TuneGenerator.generate`'s: checked
    at each sampling step, it stops a request cut short (`GenerationStopped`, raised as is);
    checked too before each tune's rendering and each of its formats (`render_abc`'s), it
    stops the rendering there (`RenderingStopped`), the request's folder removed: no file of
    a request cut short is left for the page to serve.
    ``min_bars`` is `TuneGenerator.generate`'s too: the fewest bars before the model may end a
    tune by itself (None: its default, `DEFAULT_MIN_BARS`, or ``num_bars`` if fewer)."""
    from tokenization.abc_tune import AbcParseError

    from .generation_args import TooLittleRoom

    rhythm = None if not rhythm or rhythm == DEFAULT_RHYTHM else rhythm
    raw, noted = pasted_prompt(prompt or "")
    step = on_step or (lambda done, total, what: None)
    count = int(num_tunes)
    step(0, count + 1, f"sampling {count} tune{'s' if count != 1 else ''}")
    with WarningRecorder(logging.getLogger("modeling_irish.generation")) as said:
        try:
            tunes = generator.generate(
                count,
                rhythm=rhythm,
                key=(key or "").strip() or None,
                prompt=raw.text if raw else None,
                prompt_line_offset=raw.line_offset if raw else 0,
                num_bars=int(num_bars),
                min_bars=None if min_bars is None else int(min_bars),
                temperature=float(temperature),
                seed=int(seed),
                should_stop=should_stop,
            )
        except TooLittleRoom as err:  # its max_rows is no control of the page
            raise ValueError(no_room_message(err)) from None
        except AbcParseError as err:  # the prompt's, at its line as pasted
            if err.line is None:
                raise
            raise ValueError(prompt_error(err)) from None
        except ValueError as err:  # a request refused in the API's words: meter=, --key
            raise ValueError(page_terms(str(err))) from None
    warnings = noted + [w for w in distinct_messages(said) if w not in noted]
    # created again if deleted while the demo serves (a user cleaning /tmp), not a request failed
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="tune-", dir=out_dir)  # one a request: `prune_renderings`
    try:
        return _render_views(tunes, warnings, folder, step, should_stop)
    except RenderingStopped:  # cut short: none of its files is shown, so none is kept
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _render_views(
    tunes: list,
    warnings: list[str],
    folder: str,
    step: Callable[[int, int, str], None],
    should_stop: Callable[[], bool] | None,
) -> list[GeneratedView]:
    """`generate_views`' rendering of its sampled ``tunes`` into ``folder``, a view of each;
    ``should_stop`` is checked before each tune and each of its formats (`RenderingStopped`)."""
    views = []
    for number, tune in enumerate(tunes, 1):
        if should_stop is not None and should_stop():
            raise RenderingStopped(os.path.join(folder, f"tune-{number}"), "", tune=number)
        step(number, len(tunes) + 1, f"rendering tune {number} of {len(tunes)}")
        view = GeneratedView(tune.engraved_abc or tune.abc, tune.valid, list(tune.errors))
        view.warnings = list(warnings)
        name = "the tune" if len(tunes) == 1 else f"tune {number}"
        _render_view(view, os.path.join(folder, f"tune-{number}"), name, should_stop)
        views.append(view)
    return views


def _render_view(
    view: GeneratedView, stem: str, name: str, should_stop: Callable[[], bool] | None = None
) -> None:
    """Render ``view``'s ABC to ``stem``'s SVG, MIDI and WAV (those this machine can make) into
    the view, what could not be made in its ``notes`` (``name``, the tune, says which could not
    be rendered) and what the rendering said in its ``warnings``; ``should_stop``: `render_abc`'s
    (`RenderingStopped`, raised as is)."""
    from .render import RenderError, render_abc, unavailable_formats

    missing = unavailable_formats(_FORMATS)
    view.notes += list(missing.values())
    rendering = WarningRecorder(logging.getLogger("modeling_irish.render"))
    try:
        with rendering:
            formats = [f for f in _FORMATS if f not in missing]
            made = render_abc(view.abc, stem, formats, should_stop=should_stop)
    except RenderError as err:
        view.notes.append(f"{name} could not be rendered: {err}")
        return
    finally:  # what the rendering said, said too when it failed after
        view.warnings += [w for w in distinct_messages(rendering.records) if w not in view.warnings]
    view.notes += made.get("skipped", [])
    view.svg = "\n".join(_read_text(page) for page in made.get("svg", []))
    # one path each (`render_abc`'s lists are the SVG pages and the notes)
    view.midi, view.wav = cast(str | None, made.get("midi")), cast(str | None, made.get("wav"))


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def prune_renderings(out_dir: str, keep: int = KEEP_RENDERINGS) -> list[str]:
    """Remove all but the newest ``keep`` rendering folders (``tune-*``, `generate_tab`'s) of
    ``out_dir``, so that a demo serving for days does not fill its disk; returns those
    removed. Other files and folders of ``out_dir`` are left alone."""
    folders = sorted(_rendering_folders(out_dir), reverse=True)
    removed = [path for _, path in folders[keep:]]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)  # one a request still reads is gone by then
    return removed


def _rendering_folders(out_dir: str) -> list[tuple[int, str]]:
    """``(modified ns, path)`` of each rendering folder (``tune-*``) of ``out_dir``: none when
    ``out_dir`` is gone (deleted while the demo serves: a user cleaning /tmp), and a folder
    that went while it was read (another request's pruning) left out, not a request failed."""
    try:
        entries = list(os.scandir(out_dir))
    except FileNotFoundError:  # the next request's rendering creates it again (`generate_views`)
        return []
    folders = []
    for entry in entries:
        try:
            if entry.name.startswith("tune-") and entry.is_dir():
                folders.append((entry.stat().st_mtime_ns, entry.path))
        except FileNotFoundError:  # removed since it was listed: nothing to prune
            continue
    return folders


def _renderings_folder(out_dir: str) -> str:
    """Create the folder ``out_dir`` of `build_demo`'s renderings (its parents too) and return
    it, or say why it cannot be, naming it: the app is refused when it is built, not each
    Generate request with a raw error of `prune_renderings`."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise NotADirectoryError(f"out_dir {out_dir!r} is a file, not a folder")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as err:
        raise OSError(
            f"out_dir {out_dir!r}: cannot create the folder ({err.strerror or err})"
        ) from err
    return out_dir


def build_demo(
    model_dir: str,
    index_dir: str | None = None,
    out_dir: str | None = None,
    under_way: RequestsUnderWay | None = None,
) -> Any:
    """The app (a `gradio.Blocks`, not launched) of the MeasureNote model folder ``model_dir``
    and, for the Name that tune tab, the index folder ``index_dir`` (without one, the tab says
    how to build one). Renderings go to new folders under ``out_dir`` (default: a new
    temporary folder), created with its parents if missing, a file there refused at once; the
    newest `KEEP_RENDERINGS` are kept, and gradio's copies of the files it serves are deleted
    after an hour, and when the server stops. A refused request is an error message on the
    page (the server logs no traceback for it), and so is a value sent to the API outside a
    control's range (`generate_values`, `checked_number`). gradio missing is an `ImportError`
    that says how to install it. ``under_way`` (default: a new one) counts
    the Generate tab's requests under way; a request cut short (the page's Stop, `cut_all`)
    stops its sampling within a step, its rendering before the next tune or format."""
    gr = import_gradio()
    from .generation_cli import load_generator

    generator = load_generator(model_dir)
    index, tokenizer = load_index(index_dir, generator.tokenizer) if index_dir else (None, None)
    if out_dir:
        out_dir = _renderings_folder(out_dir)
    else:
        out_dir = tempfile.mkdtemp(prefix="irish-tune-demo-")
    with gr.Blocks(title="modeling-irish demo", delete_cache=_DELETE_CACHE) as demo:
        name = os.path.basename(os.path.abspath(model_dir))
        gr.Markdown(f"# Irish tunes in ABC\nModel: `{name}`")
        with gr.Tab("Generate"):
            _generate_controls(gr, generator, out_dir, under_way or RequestsUnderWay())
        with gr.Tab("Name that tune"):
            name_controls(gr, index, tokenizer)
    return demo


def _generate_controls(
    gr: ModuleType, generator: TuneGenerator, out_dir: str, under_way: RequestsUnderWay
) -> None:
    """The Generate tab's inputs, button and outputs, wired to `generate_views`: a place for
    each of the most tunes the page samples at once (`TUNES`), those not sampled hidden. Each
    request is counted in ``under_way``, and its sampling or rendering stopped when it is cut
    short."""
    choices = [DEFAULT_RHYTHM, *known_rhythms(generator.tokenizer)]
    with gr.Row():
        rhythm = gr.Dropdown(choices, value=DEFAULT_RHYTHM, label="Rhythm")
        # blank to start: a pasted prompt keeps its own key (a "D" there transposed a G tune
        # and refused one in a mode); blank without a prompt is D major all the same
        hint = "D, E dorian, Bm (blank: the prompt's, else D)"
        key = gr.Textbox(value="", label="Key", placeholder=hint)
        tunes = gr.Slider(*TUNES, value=1, step=1, label="Tunes (sampled at once)")
    with gr.Row():
        bars = gr.Slider(*BARS, value=16, step=1, label="Bars")
        least = gr.Slider(*MIN_BARS, value=DEFAULT_MIN_BARS, step=1, label="Minimum bars")
        temperature = gr.Slider(*TEMPERATURE, value=1.0, step=0.05, label="Temperature (0: greedy)")
        seed = gr.Number(value=0, precision=0, minimum=SEED[0], label="Seed")
    prompt = gr.Textbox(lines=3, label="Prompt: an ABC incipit to continue (optional)")
    button = gr.Button("Generate", variant="primary")
    first = _tune_outputs(gr, "")
    notes = gr.Markdown()
    others = []
    for number in range(2, TUNES[1] + 1):
        with gr.Column(visible=False) as place:
            others.append((place, *_tune_outputs(gr, f"Tune {number}: ")))

    tracker = gr.Progress()  # the default of `run`'s progress: gradio looks for one

    async def run(
        rhythm: Any,
        key: Any,
        bars: Any,
        temperature: Any,
        seed: Any,
        prompt: Any,
        tunes: Any = 1,
        least: Any = None,
        progress: Any = tracker,  # gradio finds it by this default, and gives its own
    ) -> tuple:
        """The page's tunes for its values, made in a worker thread; ``progress`` (gradio's,
        given by the server: a parameter whose default is a `gradio.Progress`) shows the
        sampling, then each tune's rendering. A coroutine, so that a request cut short (the
        page's Stop, the server stopping: its task cancelled) is seen here and its sampling
        told to stop: gradio's own thread for a plain function sampled on to the end."""
        import anyio

        values = (rhythm, key, bars, temperature, seed, prompt, tunes, least)
        flag = under_way.start()
        try:
            # abandon_on_cancel: the cancellation is not held until the thread ends; the thread
            # (a daemon) sees the flag at its next step and ends with `GenerationStopped`, or
            # before its next tune or format with `RenderingStopped`
            made = await anyio.to_thread.run_sync(
                tunes_of, values, progress, flag.is_set, abandon_on_cancel=True
            )
        except asyncio.CancelledError:  # the page's Stop, the server stopping
            under_way.end(flag, cut=True)
            raise
        finally:
            under_way.end(flag)  # done or refused (one cut is over already)
        return made

    def tunes_of(values: tuple, progress: Any, should_stop: Callable[[], bool]) -> tuple:
        """`run`'s work, in its worker thread."""
        try:
            # the values as checked, in place of those sent
            checked = generate_values(values, choices)
            rhythm, key, bars, temperature, seed, prompt, count, least = checked
            views = generate_views(
                generator,
                rhythm,
                key,
                bars,
                temperature,
                seed,
                prompt,
                out_dir=out_dir,
                num_tunes=count,
                on_step=lambda done, total, what: progress((done, total), desc=what),
                should_stop=should_stop,
                min_bars=least,
            )
        except ValueError as err:
            raise user_error(gr, err) from None
        finally:
            prune_renderings(out_dir, KEEP_RENDERINGS)
        shown = [(view.abc, view.svg, view.wav, view.midi) for view in views]
        said = notes_markdown(_page_notes(views))
        rest: list[Any] = []
        for number in range(2, TUNES[1] + 1):  # the places of tunes 2, 3...: shown or emptied
            sampled = number <= len(views)
            rest += [gr.update(visible=sampled), *(shown[number - 1] if sampled else _EMPTY)]
        return (*shown[0], said, *rest)

    inputs = [rhythm, key, bars, temperature, seed, prompt, tunes, least]
    outputs = [*first, notes, *[component for place in others for component in place]]
    # unchecked values (preprocess=False): gradio's own checks of a value the API sent out of a
    # control's range logged a traceback for each; `generate_values` refuses them in words
    button.click(run, inputs, outputs, api_name="generate", preprocess=False)


#: What an unused place of a tune holds: no ABC, score, audio or MIDI.
_EMPTY = ("", "", None, None)


def _tune_outputs(gr: ModuleType, name: str) -> tuple:
    """One tune's place on the Generate tab: its ABC, score, audio and MIDI, the labels led by
    ``name`` ("" for the first tune, "Tune 2: "...)."""
    abc = gr.Textbox(lines=10, label=f"{name}ABC")
    score = gr.HTML(label=f"{name}Score")
    with gr.Row():
        audio = gr.Audio(type="filepath", label=f"{name}Audio (WAV)")
        midi = gr.File(label=f"{name}MIDI")
    return abc, score, audio, midi


def _page_notes(views: list[GeneratedView]) -> list[str]:
    """What the Generate tab says under its tunes, each once: why a tune is invalid (which
    one, of several), then the warnings and notes, in the order of the tunes.

    >>> views = [GeneratedView("X:1", False, ["no end"], notes=["no WAV"]), GeneratedView(
    ...     "X:2", True, notes=["no WAV"])]
    >>> _page_notes(views), _page_notes(views[:1])
    (['tune 1 invalid: no end', 'no WAV'], ['invalid: no end', 'no WAV'])
    """
    said: list[str] = []
    for number, view in enumerate(views, 1):
        name = f"tune {number} " if len(views) > 1 else ""
        said += [f"{name}invalid: {error}" for error in ([] if view.valid else view.errors)]
        said += view.warnings + view.notes
    return list(dict.fromkeys(said))


def run_demo(args: argparse.Namespace) -> int:
    """``irish-tune demo``: serve `build_demo` on 127.0.0.1:``--port`` until Ctrl-C (exit
    status 130, as any command interrupted) or SIGTERM (``kill``: status 0, a stop asked for,
    said on stderr), its renderings removed either way; the requests the stop cut short are
    counted on stderr (`stop_line`). gradio missing, a model or index refused, or a port
    taken is exit status 2, before anything is served."""
    try:
        import_gradio()  # said before the model loads
    except ImportError as err:
        raise ValueError(str(err)) from None
    terminated, under_way, cut = threading.Event(), RequestsUnderWay(), 0
    with tempfile.TemporaryDirectory(prefix="irish-tune-demo-") as out_dir:
        demo = build_demo(args.model, args.index, out_dir, under_way=under_way)
        # before the "serving on" line: a kill right after it (a script, a service manager
        # that waits for it) is a stop asked for, not the default death with renderings left
        previous = stop_on_sigterm(terminated)
        try:
            launch_app(demo, args.port)
            print(f"irish-tune demo: serving on {demo.local_url} (Ctrl-C to stop)", flush=True)
            try:
                while demo.is_running and not terminated.wait(0.5):
                    pass
            finally:
                cut = close_now(demo, under_way)
                if cut and not terminated.is_set():  # Ctrl-C: before its "interrupted" line
                    print(stop_line(None, cut), file=sys.stderr, flush=True)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            # the server is closed (Ctrl-C or not): what is left is the interpreter's exit, whose
            # last garbage collection over torch's, transformers' and gradio's objects took ~2 s
            # of the ~3 s a stop took; none of them needs a finalizer run, so it skips them
            gc.freeze()
    if terminated.is_set():
        print(stop_line("SIGTERM", cut), file=sys.stderr)
    return 0
