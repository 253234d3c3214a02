"""`irish-tune generate`, `render` and `evaluate-generation`: their runners (the builders of
their arguments, and the types that check them, are in `irish_tune.generation_cli_args`, read
before this module is imported; the ``--out`` folder, the rendering of one tune and the names of
the files written, in `generation_cli_outputs`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from irish_tune.generation_cli_args import (  # noqa: F401 - re-exported beside their runners
    add_evaluate_generation_args,
    add_generate_args,
    add_render_args,
    evaluate_generation_usage_problem,
    formats_arg,
    generate_usage_problem,
    meter_arg,
    render_usage_problem,
    seed_arg,
)
from irish_tune.json_output import print_json, shown_figure
from tokenization.capped_warnings import CappedWarnings
from tokenization.reader_warnings import tune_warnings, warn_not_as_written

from .cli import progress_bar_class, read_dump, read_input, refuse_usage_problem, tune_texts
from .file_utils import replacing_file
from .generation_cli_outputs import (  # the --out folder, the renderings and the files' names
    NOT_RENDERED,
    check_writable,
    generated_files,
    out_folder,
    place_in,
    render_base,
    render_one,
    render_stems,
    rendered_names,
    say_invalid,
    usable_formats,
    warn_stale,
)

if TYPE_CHECKING:
    from .abc_sources import RawTune
    from .generation import TuneGenerator
    from .train_tokens_cache import TrainRead

__all__ = [
    "add_evaluate_generation_args",
    "add_generate_args",
    "add_render_args",
    "load_generator",
    "meter_arg",
    "read_train_corpus",
    "run_evaluate_generation",
    "run_generate",
    "run_render",
]

logger = logging.getLogger(__name__)


def load_generator(model_dir: str) -> TuneGenerator:
    """`TuneGenerator` of a saved model folder (model and tokenizer)."""
    from transformers import AutoModelForCausalLM

    import modeling_irish  # noqa: F401 (registers the Auto classes)
    from tokenization.tokenization_abc import AbcTokenizer

    from .cli import load_saved, require_model_type
    from .generation import TuneGenerator

    require_model_type(model_dir, "measurenote")
    model = load_saved(
        lambda: AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True), model_dir
    )
    return TuneGenerator(model, AbcTokenizer.from_pretrained(model_dir, local_files_only=True))


def _batch_seed(seed: int, batch: int) -> int:
    """The seed of batch ``batch``: the run's seed for the first (so a run of at most
    ``--batch-size`` tunes is what one batch was before), then one drawn from (seed, batch)."""
    if batch == 0:
        return seed
    import numpy as np

    return int(np.random.SeedSequence([seed, batch]).generate_state(1)[0])


class _SaidOnce(logging.Filter):
    """Let through each message once: each batch is a `TuneGenerator.generate` call, which
    reads and checks the request again and gave its warnings (the prompt's, an unusual meter's)
    once a batch; they are the same for every batch, and said for the first."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def _sample_all(
    args: argparse.Namespace, generator, prompt: tuple[str, int] | None = None
) -> Iterator:
    """Every tune asked for, in batches of ``--batch-size``: the first batch is sampled before
    this returns, so that a refused request (key, prompt, meter, room...) raises here, before
    anything is written; the others as the iterator returned reaches them. A warning about the
    request is said once, not once a batch (`_SaidOnce`). ``prompt``: `_read_prompt`'s."""

    said, once = logging.getLogger("modeling_irish.generation"), _SaidOnce()

    def batch(index: int, start: int) -> list:
        size = min(args.batch_size, args.num_tunes - start)
        said.addFilter(once)  # only while a batch is sampled: the iterator may be left unread
        try:
            return _sample(args, generator, prompt, size, _batch_seed(args.seed, index), start + 1)
        finally:
            said.removeFilter(once)

    starts = range(0, args.num_tunes, args.batch_size)
    first = batch(0, 0)

    def tunes() -> Iterator:
        yield from first
        for index, start in enumerate(starts[1:], 1):
            yield from batch(index, start)

    return tunes()


def _sample(
    args: argparse.Namespace,
    generator,
    prompt: tuple[str, int] | None,
    num_tunes: int,
    seed: int,
    first_number: int = 1,
) -> list:
    text, line_offset = prompt or (None, 0)
    return generator.generate(
        num_tunes,
        rhythm=args.rhythm,
        meter=args.meter,
        mode=args.mode,
        key=args.key,
        prompt=text,
        prompt_line_offset=line_offset,
        num_bars=args.num_bars,
        max_rows=args.max_rows,
        min_bars=args.min_bars,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=seed,
        constrained=not args.unconstrained,
        first_number=first_number,
    )


def _refuse_abc_text_as_path(path: str) -> None:
    """Refuse, in one line that says what to do, a ``--prompt`` that is no file but ABC text
    (``--prompt "X:1..."``, as ``generate(prompt=...)`` takes it): it failed as ``no such
    file: X:1``, the error's first line naming neither ``--prompt`` nor its remedy."""
    if path == "-" or os.path.exists(path) or not ("\n" in path or "|" in path):
        return
    first = path.strip().splitlines()[0]
    shown = first[:40] + ("..." if first[:40] != path else "")
    raise ValueError(
        f"--prompt takes an ABC file ('-': stdin), not ABC text, and no file is named "
        f"{shown!r}: save the tune as a file, or pipe it to --prompt - "
        "(printf 'X:1\\nM:6/8\\nK:G\\nGAG GAB|' | irish-tune generate --model M --prompt -)"
    )


def _read_prompt(path: str) -> tuple[str, int]:
    """The tune of ``--prompt`` to continue, and what to add to its lines for the file's
    (`RawTune.line_offset`: its warnings name the lines of the file, not those of its text
    with the file header written in; 0 for a dump row, whose text is built from the row; the
    blank lines before a text without an ``X:`` line), found in the file as `irish-tune check`
    and `render` find tunes (`text_tunes`: free text before its ``X:`` line is passed over, file
    header fields are written in); a text without an ``X:`` line is taken whole, less the blank
    lines before it (a bare incipit, read as the demo reads a pasted one: `bare_prompt`), or a
    thesession.org dump (``tunes.json`` / ``tunes.csv``) of one row. Refused, saying so, when
    it is a dump not named as one (on stdin: `dump_text_reason`); refused (`ValueError`
    naming the file) when it is empty, holds several tunes (a dump of several), or holds no
    notes the reader can take (text without a ``K:`` line that reads as prose is an
    `AbcParseError` of the reader, at its line of the file: ``--prompt FILE, line N, column C:
    ...`` for a text without an ``X:`` line, `prompt_error`; a header without notes also says
    to give ``--key`` and ``--meter`` instead: `read_prompt`). A transposing directive of the
    file header (``I:MIDI transpose 2``), not read, is said once for the file, and not written
    into the tune (where the prompt's warnings said it again, at a line the file has not)."""
    from tokenization.abc_parser import AbcParseError
    from tokenization.file_bytes import dump_text_reason

    from .abc_sources import text_tunes
    from .prompt_lines import bare_prompt, prompt_error, read_prompt

    where = "stdin" if path == "-" else path
    _refuse_abc_text_as_path(path)
    dump = read_dump(path)  # a tunes.json / tunes.csv: its rows, as check and render read them
    if dump is not None and len(dump) != 1:
        raise ValueError(
            f"--prompt {where} is a thesession.org dump of {len(dump)} tunes: a prompt is one "
            "tune; save the one to continue as an ABC file (or a dump of that row alone)"
        )
    text = dump[0].text if dump else read_input(path)
    if not text.strip():
        raise ValueError(f"--prompt {where} is empty; give an ABC incipit to continue")
    found = dump or list(text_tunes(text, where))
    if len(found) > 1:  # said for a file (the reader's message speaks to Python callers)
        lines = [raw.line for raw in found]
        shown = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
        raise ValueError(
            f"--prompt {where} holds {len(found)} tunes (X: lines {shown}): a prompt is one "
            "tune; keep only the one to continue"
        )
    dump_reason = None if found else dump_text_reason(text)  # a dump is read by its suffix
    if dump_reason:
        raise ValueError(f"--prompt {where} holds no tune: {dump_reason}")
    if not found:  # taken whole, less the blank lines before it, at its lines of the file
        raw = bare_prompt(text, where)
        try:
            read_prompt(raw.text, raw.line_offset)
        except AbcParseError as err:
            raise ValueError(prompt_error(err, f"--prompt {where}")) from err
        return raw.text, raw.line_offset
    raw = _without_header_transposes(found[0])
    try:
        read_prompt(raw.text)
    except AbcParseError as err:
        raise ValueError(f"--prompt {raw.locate(err)}") from err  # the file's line
    return raw.text, raw.read_offset


def _without_header_transposes(raw: RawTune) -> RawTune:
    """``raw`` without the transposing directives of the file header that `text_tunes` wrote
    into its text (its other fields are kept, and its lines still name the file's): `text_tunes`
    says them once for the file, and the reader does not read them.

    >>> from modeling_irish.abc_sources import RawTune
    >>> text = "X:1\\nI:MIDI transpose 2\\nL:1/16\\nK:G\\nGA|"
    >>> raw = RawTune("b.abc", "b", text, 3, header_lines=2)
    >>> kept = _without_header_transposes(raw)
    >>> kept.text, kept.file_line(4)
    ('X:1\\nL:1/16\\nK:G\\nGA|', 5)
    """
    from dataclasses import replace

    from tokenization.abc_tunebook import transpose_directive_warning

    first, *lines = raw.text.split("\n")
    written, rest = lines[: raw.header_lines], lines[raw.header_lines :]
    keep = [transpose_directive_warning(line, 0) is None for line in written]
    kept = [line for line, ok in zip(written, keep) if ok]
    at = tuple(place for place, ok in zip(raw.header_at, keep) if ok)  # where they are
    text = "\n".join([first, *kept, *rest])
    return replace(raw, text=text, header_lines=len(kept), header_at=at)


def run_generate(args: argparse.Namespace) -> int:
    """``irish-tune generate``: sample tunes, write ``tune_N.abc`` (and renderings): each
    tune's `GeneratedTune.engraved_abc`, lengths no single note shows written as tied notes.

    Returns 1 when a tune is invalid (cut at the hard row limit; with ``--unconstrained``, any
    break of the bar and repeat grammar) or could not be rendered: its text is printed or its
    ``.abc`` written all the same, and stderr says what is wrong with it (with ``--out``,
    stdout lists the files written, each ``valid`` or ``INVALID``). A file is written whole or
    not at all (`replacing_file`): one that cannot be (a full disk) stops the command with an
    `OSError` naming it, and an earlier run's file of that name is left as it was. A
    ``--render`` whose formats all cannot be made here (a tool is missing) is refused before
    sampling, as `run_render` refuses it. A warning about the request (the prompt's) is said
    once, not once a batch (`_sample_all`)."""
    refuse_usage_problem(generate_usage_problem(args))  # parse_args refused it already
    formats = list(args.render)
    prompt = _read_prompt(args.prompt) if args.prompt else None
    made = None
    if args.out:  # a format that cannot be made is said first, and leaves no empty folder
        formats = usable_formats(formats, args.soundfont, "generate", require=True)
        made = None if os.path.isdir(args.out) else out_folder(args.out)
        check_writable(args.out)
    try:
        tunes = _sample_all(args, load_generator(args.model), prompt)
    except BaseException:  # a refused model or request leaves no empty folder behind either
        if made is not None and not os.listdir(made):
            os.rmdir(made)
        raise
    failed = 0
    if not args.out:
        with CappedWarnings(logger) as said:
            for i, tune in enumerate(tunes, 1):
                print(tune.engraved_abc or tune.abc, flush=True)
                if not tune.valid:  # the text is printed all the same: say what is wrong with it
                    say_invalid(said, f"tune {i}", tune.errors)
                    failed += 1
        return 1 if failed else 0
    earlier = generated_files(args.out)
    written: set[str] = set()
    kept: set[str] = set()  # unmarked earlier SVG pages the rendering named: not named again
    with CappedWarnings(logger) as said:
        for i, tune in enumerate(tunes, 1):
            stem = os.path.join(args.out, f"tune_{i}")
            abc = tune.engraved_abc or tune.abc  # for people and engravers: no `c9/4`
            # an earlier run's tune_N.abc is replaced only by a whole one: a full disk leaves it
            with replacing_file(stem + ".abc") as tmp, open(tmp, "w", encoding="utf-8") as file:
                file.write(abc)
            print(f"{stem}.abc  {'valid' if tune.valid else 'INVALID'}")
            if not tune.valid:  # the reason goes to stderr, as without --out
                say_invalid(said, f"tune {i} ({stem}.abc)", tune.errors)
            name = f"generate: {stem}.abc"
            rendered, whole = render_one(
                abc, stem, formats, args.soundfont, name, said=said, kept=kept
            )
            written.update(os.path.basename(p) for p in [stem + ".abc", *rendered])
            failed += not (tune.valid and whole)
    # an earlier rendering's further SVG pages of a tune rendered again went with it
    left = earlier - written - {os.path.basename(p) for p in kept}
    left = {name for name in left if os.path.lexists(os.path.join(args.out, name))}
    warn_stale(args.out, left)
    return 1 if failed else 0


def run_render(args: argparse.Namespace) -> int:
    """``irish-tune render``: SVG, MIDI, WAV and MusicXML (those of ``--formats``) of every tune
    of ABC files, folders, thesession.org dumps, music21's books and ``-`` (stdin), read as
    ``check`` reads them (`_render_books`).

    Each file's tunes are written as ``OUT/<file name>`` (one tune) or ``OUT/<file name>_<n>``,
    the name without leading dots and cut to fit (`render_base`: ``.t.abc`` gives ``t``);
    a file name met twice gets ``-2``, ``-3``..., and so does a tune name already given in the
    run (``two_1.abc`` beside ``two.abc``); an SVG page that would take another output's name
    (``t-2.svg``) gets ``-2``, ``-3``... too: no file is written twice. A tune that cannot be
    rendered is named on stderr (the first few, then one line counts them all by reason) and
    left out: no file of it is written, and the files an earlier run wrote under its names are
    left as they were and named (`render_abc` renames a tune's files into place only once all
    are made; one rendered replaces them, and the SVG pages an earlier rendering had beyond its
    last, or moved aside, are removed, named on stdout); the others are rendered, and the exit
    status is 1. So is a tune whose MusicXML cannot be made (its other formats are written:
    `render_abc`'s ``"failed"``), and a thesession.org dump's row that gives no tune (no ABC
    text): it counts among the dump's tunes, in their names too (``tunes_1`` of two rows).
    The files of an earlier run under the names of this run's books that it did not replace
    (``t_6.mid`` after a book of 8 tunes, now 5) are named in one warning, never deleted
    (`warn_stale`: as files this run did not write, maybe of the same tunes in another
    format). Every file is read before anything is rendered, so a wrong path fails at
    once. A format this machine cannot make is skipped with one note; when none of
    ``--formats`` can be made, the note is a `ValueError` (exit status 2). On a terminal a bar
    on stderr counts the tunes, cleared while each tune's paths are printed on stdout; a last
    line on stderr counts the tunes rendered and their files, or those not rendered."""
    from .render import tune_label

    refuse_usage_problem(render_usage_problem(args))  # parse_args refused it already
    books = _render_books(args.files)
    formats = usable_formats(list(args.formats), args.soundfont, "render", require=True)
    out_folder(args.out)
    stems = render_stems(books)
    taken = {os.path.join(args.out, stem) + ".svg" for stem in stems}  # no SVG page takes one
    names = rendered_names({base for _, base, _ in books})  # an earlier run's: t_6 after t_1..8
    earlier = generated_files(args.out, names)
    written: set[str] = set()
    kept: set[str] = set()  # unmarked earlier SVG pages the rendering named: not named again
    failed = files = 0
    tunes = [raw for _, _, found in books for raw in found]
    tqdm = progress_bar_class()
    with (
        CappedWarnings(logger) as said,  # a book of many broken tunes: the first few named
        tune_warnings(logger) as read_said,
        # on a terminal only (disable=None), on stderr, and cleared at the end; a book on
        # stdout redirected to a log of its files (a tune a second) showed no progress at all
        tqdm(total=len(tunes), desc="Rendering", unit=" tunes", disable=None, leave=False) as bar,
    ):
        for raw, stem in zip(tunes, stems, strict=True):
            bar.update()
            _warn_not_as_written(raw, read_said)
            if raw.unreadable:  # a dump row without ABC text (or not an object), as check fails
                message = "irish-tune render: %s: %s"
                said.warn(NOT_RENDERED, raw.unreadable, message, raw.place, raw.unreadable)
                failed += 1
                continue
            name = f"render: {raw.place} ({tune_label(raw.text)})"  # a dump's tune: its row
            stem_path = os.path.join(args.out, stem)
            # the bar cleared while the tune's paths are printed: not drawn into the lines
            with bar.external_write_mode(file=sys.stdout):
                made, whole = render_one(  # the tune's lines placed in its file, as check does
                    raw.text, stem_path, formats, args.soundfont, name, 0, taken, place_in(raw),
                    said=said, kept=kept,
                )  # fmt: skip
            failed += not whole  # a MusicXML not made too: its other files are written
            files += len(made)
            taken.update(made)
            written.update(os.path.basename(path) for path in [*made, *kept])
    left = {name for name in earlier - written if os.path.lexists(os.path.join(args.out, name))}
    # said once, after every tune; of the same tunes maybe (another --formats): not "other tunes"
    warn_stale(args.out, left, "render", names, "this run did not write them")
    _say_rendered(len(stems), failed, files, args.out)
    return 1 if failed else 0


def _say_rendered(tunes: int, failed: int, files: int, out: str) -> None:
    """The closing line of ``irish-tune render`` on stderr, whether or not every tune was
    rendered (a long run ended without one did not say it was done): how many tunes were not,
    else how many files the tunes were rendered to, and where.

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     _say_rendered(2, 0, 4, "out")
    >>> err.getvalue()
    'irish-tune render: rendered 2 tunes to 4 files in out\\n'
    """
    if failed:
        said = f"{failed} of {tunes} tunes not rendered"
    else:
        said = f"rendered {_count(tunes, 'tune')} to {_count(files, 'file')} in {out}"
    print(f"irish-tune render: {said}", file=sys.stderr)


def _render_books(sources: list[str]) -> list[tuple[str, str, list[RawTune]]]:
    """The tunes of ``sources`` read as ``check`` and ``transpose`` read them (`tune_texts`:
    files, folders, thesession.org dumps, music21's books, ``-``; a source given twice read
    once, with a warning), grouped by the file each comes from, as ``(file, base, tunes)``:
    ``base`` names the file's outputs (`render_base`, unique in the run). A source without a
    tune is a `ValueError` that says why, as each is read before anything is rendered."""
    from itertools import groupby

    without: list[tuple[str, str]] = []
    tunes = list(tune_texts(sources, without))
    if without:  # a dump on stdin among the reasons: read by its file's suffix alone
        raise ValueError("; ".join(f"no tune in {where}: {why}" for where, why in without))
    books: list[tuple[str, str, list[RawTune]]] = []
    # a folder's or a music21 book's files one after another: each file its own outputs
    for (source, file), found in groupby(tunes, key=lambda raw: (raw.source, raw.file)):
        name = file or source  # a music21 book's file as it is named (`oneills1850/0001-0050.abc`)
        books.append((name, render_base(name, [base for _, base, _ in books]), list(found)))
    return books


def _count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless one.

    >>> _count(1, "tune"), _count(3, "file")
    ('1 tune', '3 files')
    """
    return f"{n} {noun}{'s' * (n != 1)}"


def _warn_not_as_written(raw: RawTune, said: CappedWarnings) -> None:
    """Say in ``said`` (`tune_warnings`) what the reader did not read as written of the tune
    ``raw`` (a `RawTune`: a second voice dropped, stray brackets...), as `irish-tune check`
    says it (`warn_not_as_written`): it is rendered as read. A tune that cannot be read says
    nothing here: rendering it fails, named with its reason."""
    from tokenization.abc_parser import AbcParseError

    if raw.unreadable:
        return
    try:
        changed = raw.read_warnings()
    except AbcParseError:
        return
    warn_not_as_written(said, raw.name, changed)


def read_train_corpus(
    path: str, limit: int | None, cache_dir: str | os.PathLike | None = None
) -> tuple[list[list], int]:
    """The normalised tokens of the ``--train`` tunes (any source the other commands read: a
    tunebook, a folder, a thesession dump, a music21 book, ``-``), and how many of its tunes
    (up to the ``limit`` read) could not be read, a note normalising takes out of MIDI's 0-127
    among them (`read_tune`): said in one line on stderr, the first named, all counted by reason
    (`skip_reason`; a dump row's that gives no tune: its own).

    With ``cache_dir``, a file or folder read before (the same bytes, path, ``limit`` and reader
    code) is taken from its cache there (`train_tokens_cache`), its warnings and the stderr line
    said again word for word; a read is cached there for the next run."""
    from tokenization.capped_warnings import by_kind

    from .train_tokens_cache import (
        load_train_read,
        replay_warnings,
        save_train_read,
        train_cache_key,
    )

    key = train_cache_key(path, limit) if cache_dir is not None else None
    read = load_train_read(cache_dir, key) if cache_dir is not None and key else None
    if read is not None:
        replay_warnings(read.warnings)
    else:
        read = _read_train_tunes(path, limit)
        if cache_dir is not None and key and read.tunes:
            save_train_read(cache_dir, key, read)
    if not read.tunes:
        skipped = read.skipped
        reason = f" ({len(skipped)} unreadable; first: {skipped[0]})" if skipped else ""
        reason = reason or "".join(f" ({why})" for _, why in read.without)
        raise ValueError(f"--train {path} has no readable tunes{reason}")
    if read.skipped:
        print(
            f"irish-tune evaluate-generation: {len(read.skipped)} unreadable tunes of {path} left "
            f"out of the training side (first: {read.skipped[0]}), by reason: "
            f"{by_kind(Counter(read.reasons))}",
            file=sys.stderr,
        )
    _say_not_as_written(path, read)
    return read.tunes, len(read.skipped)


def _read_train_tunes(path: str, limit: int | None) -> TrainRead:
    """`read_train_corpus`'s reading of ``path``, up to ``limit`` tunes, without its cache: the
    tunes' tokens, the places and reasons of those it could not read, and the warnings logged."""
    from tokenization.abc_parser import AbcParseError
    from tokenization.capped_warnings import skip_reason
    from tokenization.encoded_tune import read_tune

    from .quality import gc_paused
    from .train_tokens_cache import TrainRead, recorded_warnings

    read = TrainRead()
    # the kept tokens (millions of objects, no cycles) were walked by each full collection:
    # ~12 of 49 s on thesession-c
    with gc_paused(), recorded_warnings() as said:
        for item in tune_texts([path], read.without):
            try:
                normal = read_tune(getattr(item, "text", item))[1]  # no note moved out of 0-127
            except AbcParseError as err:
                read.skipped.append(item.locate(err) if hasattr(item, "locate") else str(err))
                read.reasons.append(getattr(item, "unreadable", "") or skip_reason(err))
                continue
            read.tunes.append(normal.tokens)
            _count_not_as_written(read, item, normal.warnings)
            if limit and len(read.tunes) >= limit:
                break
    read.warnings = said
    return read


def _count_not_as_written(read: TrainRead, item: Any, warnings: list[str]) -> None:
    """Count in ``read.changed`` (tunes a kind) the tune ``item`` (a `RawTune`, or a text) when
    its reader ``warnings`` (less what its file said once, `RawTune.own_warnings`) say that it
    was not read as written, by the kinds `irish-tune check` prints (`not_as_written`)."""
    from tokenization.reader_warnings import not_as_written

    if hasattr(item, "own_warnings"):
        warnings = item.own_warnings(warnings)
    kinds = {kind for kind, _ in not_as_written(warnings)}
    if kinds:
        read.changed_tunes += 1
    for kind in sorted(kinds):
        read.changed[kind] = read.changed.get(kind, 0) + 1


def _say_not_as_written(path: str, read: TrainRead) -> None:
    """One stderr line that counts the ``--train`` tunes the reader did not read as written
    (`_count_not_as_written`), by kind, and names the command that shows each: the figures
    compare with them as read. Nothing when there are none."""
    from tokenization.capped_warnings import by_kind

    if not read.changed_tunes:
        return
    print(
        f"irish-tune evaluate-generation: {read.changed_tunes} of the {len(read.tunes)} "
        f"training tunes of {path} read not as written (compared with as read), by kind: "
        f"{by_kind(Counter(read.changed))}; each is named by: irish-tune check {path}",
        file=sys.stderr,
    )


def _train_cache_dir(args: argparse.Namespace) -> str | None:
    """Where ``--train``'s read is cached: ``--cache-dir``, or train.py's default cache folder;
    None with ``--no-cache`` (and for arguments built in Python without these fields)."""
    from irish_tune.parser import DEFAULT_CACHE_DIR

    if getattr(args, "no_cache", True):
        return None
    return getattr(args, "cache_dir", None) or DEFAULT_CACHE_DIR


def run_evaluate_generation(args: argparse.Namespace) -> int:
    """``irish-tune evaluate-generation``: sample, then report the quality measures."""
    from .quality import ABC2MIDI_MISSING, EMPTY_HISTOGRAM, generation_metrics

    refuse_usage_problem(evaluate_generation_usage_problem(args))  # parse_args refused it
    generator = load_generator(args.model)
    # the first batch is sampled here: a refused model or request (--key, --meter...) is said
    # in a second, before the --train corpus is read (tens of seconds for a large one)
    sampled = _sample_all(args, generator)
    corpus, skipped = (
        read_train_corpus(args.train, args.max_train_tunes, _train_cache_dir(args))
        if args.train
        else (None, 0)
    )
    metrics = generation_metrics(
        list(sampled), corpus=corpus, tokenizer=generator.tokenizer, readers=not args.no_readers
    )
    if corpus is not None:  # how many training tunes the figures compare with, and left out
        metrics.update(train_tunes=len(corpus), train_skipped=skipped)
    skipped = "reread_abc2midi_rate" in metrics and metrics["reread_abc2midi_rate"] is None
    if args.json:
        if skipped:  # null in the JSON; said once here, so it is not read as a missing pass
            print(f"irish-tune evaluate-generation: {ABC2MIDI_MISSING}", file=sys.stderr)
        print_json(metrics, "evaluate-generation")
    else:
        for name, value in metrics.items():  # an undefined one: n/a and why, as the cards say
            why = ABC2MIDI_MISSING if name == "reread_abc2midi_rate" else EMPTY_HISTOGRAM
            print(f"{name:28s} {shown_figure(value, '.4f', why if value is None else '')}")
    return 0
