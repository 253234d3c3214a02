"""`irish-tune index | identify | evaluate-retrieval`: the runners (their arguments are in
`irish_tune.retrieval_cli_args`, read before this module is imported); `evaluate-retrieval`'s
is in `retrieval_evaluation_cli`, re-exported here."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Any

from irish_tune.json_output import print_json, shown_figure
from irish_tune.retrieval_cli_args import (  # noqa: F401 - re-exported beside their runners
    add_evaluate_retrieval_args,
    add_identify_args,
    add_index_args,
    evaluate_retrieval_usage_problem,
    identify_usage_problem,
    index_usage_problem,
)
from tokenization.capped_warnings import WARNINGS_SHOWN, CappedWarnings, counted, masked
from tokenization.file_bytes import NOT_TEXT, dump_text_reason

from .cli import (
    BinaryInputError,
    load_saved,
    read_dump,
    read_input,
    refuse_usage_problem,
    require_folder,
    require_model_type,
)
from .retrieval_evaluation_cli import run_evaluate_retrieval
from .tune_names import snippet_error, tune_names

if TYPE_CHECKING:  # annotations only: the parser is imported when a command runs
    from tokenization.abc_tune import AbcParseError

__all__ = [
    "add_evaluate_retrieval_args",
    "add_identify_args",
    "add_index_args",
    "run_evaluate_retrieval",
    "run_identify",
    "run_index",
    "load_model_and_tokenizer",
    "load_abc_tokenizer",
]

logger = logging.getLogger(__name__)


def load_model_and_tokenizer(model_dir: str) -> tuple[Any, Any]:
    """The `TuneTitleModel` saved in ``model_dir`` (in eval mode) and its `AbcTokenizer`; an
    error naming the folder when it holds no tune_title model (`require_model_type`)."""
    from .modeling_tune_title import TuneTitleModel

    hint = " (a MeasureNote folder serves as --tokenizer for the edit distance alone)"
    require_model_type(model_dir, "tune_title", hint)
    model = load_saved(
        lambda: TuneTitleModel.from_pretrained(model_dir, local_files_only=True), model_dir
    )
    return model.eval(), load_abc_tokenizer(model_dir)


def load_abc_tokenizer(folder: str) -> Any:
    """The `AbcTokenizer` saved in ``folder`` (a model's or a tokenizer's), from disk only."""
    from tokenization.tokenization_abc import AbcTokenizer

    return AbcTokenizer.from_pretrained(require_folder(folder, "tokenizer"), local_files_only=True)


def _check_out(out: str) -> None:
    """Fail at once when the index folder ``out`` cannot be written (a symbolic link that
    leads nowhere among them: `file_utils.link_problem`)."""
    import os

    from .file_utils import link_problem

    problem = link_problem(out)
    if problem:
        raise NotADirectoryError(f"--out {out}: {problem}")
    if os.path.isfile(out):
        raise FileExistsError(f"--out {out!r} is a file; the index is a folder")
    if os.path.isdir(out):  # its files are written into it: the parent does not matter
        if not os.access(out, os.W_OK | os.X_OK):
            raise PermissionError(f"--out {out}: the folder is not writable")
        return
    parent = os.path.dirname(os.path.abspath(out))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as err:
        raise OSError(f"--out {out}: cannot create {parent} ({err.strerror or err})") from err
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"--out {out}: {parent} is not writable")


def run_index(args: argparse.Namespace) -> int:
    """Build and save the index; prints its size and the tunes left out: untitled, and those
    that could not be read (a dump row that gives no tune among them, named by its row)."""
    import os

    from .name_that_tune import INDEX_FILE, TuneIndex

    refuse_usage_problem(index_usage_problem(args))  # parse_args refused it already
    _check_out(args.out or os.path.join(args.model, "index"))  # before the minutes of work
    if args.model is not None:
        model, tokenizer = load_model_and_tokenizer(args.model)
    else:
        model, tokenizer = None, load_abc_tokenizer(args.tokenizer)
    index = TuneIndex.build(
        model,
        tokenizer,
        args.corpus,
        unfold_repeats=args.unfold_repeats,
        num_threads=getattr(args, "threads", 1),
    )
    if args.model is not None:
        index.meta["model"] = os.path.abspath(args.model)
    if args.tokenizer is not None:
        index.meta["tokenizer"] = os.path.abspath(args.tokenizer)
    out = args.out or os.path.join(args.model, "index")
    report = index.meta["report"]  # dump rows that give no tune among the unreadable
    if os.path.isfile(out):
        raise FileExistsError(f"--out {out!r} is a file; the index is a folder")
    index.save(out)
    titles, settings = counted(len(index), "title"), counted(len(index.setting_title), "setting")
    print(f"indexed {titles}, {settings} -> {out}")
    unreadable = report["unreadable"]
    print(
        f"read {counted(report['read'], 'tune')}; left out {report['untitled']} without a title "
        f"and {len(unreadable)} that could not be read"
    )
    for line in unreadable[:WARNINGS_SHOWN]:  # all of them in the index's meta
        print(f"  {line}")
    if len(unreadable) > WARNINGS_SHOWN:
        more = len(unreadable) - WARNINGS_SHOWN
        print(f"  ... and {more} more (the index's meta: {out}/{INDEX_FILE})")
    return 0


#: Fewer notes than this in a snippet match many tunes exactly: `identify` says so.
FEW_NOTES = 8

#: The kinds of `identify`'s warnings about the tunes of its input (`CappedWarnings`): the first
#: few of each are named, then one line counts them all by reason.
_NOT_NAMED = "tunes that could not be named"
_FEW_NOTES = "tunes with too few notes"
_NOT_AS_WRITTEN = "tunes not read exactly as written"
_UNKNOWN_NOTES = "tunes with notes the tokenizer does not know"
#: Why `identify` lists a title's score as n/a: -inf, the best over none of its settings (a
#: title indexed without settings, under the edit distance or the setting cosine).
_NO_SETTING = "no setting of this title to compare"


def run_identify(args: argparse.Namespace) -> int:
    """Print the top-k titles with their scores, one per line; for a file of several tunes,
    each tune's list under its ``X:`` and ``T:`` lines. Returns 0 when every tune is named, 1
    when some of several (or, with ``--json``, the one tune) could not be; one tune that cannot
    be named without ``--json`` raises its error (exit status 2, as usage errors), and so does an
    input with no tune at all (empty, blank, a dump without rows), which ``--json`` answers with
    its one object and a failure that names the input (1). What the reader leaves out of or
    changes in a tune it names is said on stderr, at the lines of the input (`_NOT_AS_WRITTEN`),
    and so are its notes that the tokenizer lacks (`Identified.unknown_notes`), under where the
    tune is in the input (a bare snippet's line, not the ``X:`` added to it)."""
    from tokenization.abc_parser import AbcParseError, parse_abc

    from .name_that_tune import HYBRID_WEIGHT, identify, scored_read_warnings

    refuse_usage_problem(identify_usage_problem(args))  # parse_args refused it already
    model, tokenizer, index, scoring = _identify_setup(args)
    weight = HYBRID_WEIGHT if args.hybrid_weight is None else args.hybrid_weight
    where = "stdin" if args.file == "-" else args.file
    try:
        found, bare = _identify_tunes(args.file, where)
    except _NoTuneToName as err:
        if not args.json:
            raise  # its message is the answer: exit status 2, as a usage error
        return _answer_no_tune(scoring, where, err)
    names = tune_names(found, bare)
    if not args.transpose:
        _warn_transpose_ignored(found, names)
    named: list[dict[str, Any]] = []  # a tune named: its name, place, top titles and label
    failures: list[dict[str, Any]] = []
    with CappedWarnings(logger) as said:  # many snippets: the first few of each kind named
        for (start, tune, raw), (name, label) in zip(found, names):
            try:
                if raw is not None and raw.unreadable:  # a dump row that gives no tune to name
                    raise _RowWithoutTune(raw.unreadable)
                top = identify(
                    model, index, tune, args.k, tokenizer, scoring, weight, args.transpose
                )
            except ValueError as err:
                if not isinstance(err, (AbcParseError, _RowWithoutTune)):
                    raise ValueError(f"{where}: {err}") from None
                row = raw.place if raw is not None and raw.row else ""  # a dump row: "t.json row 3"
                error = _identify_error(err, start, raw, bare)
                # one tune: its error is the answer (exit 2), but --json promises one JSON object
                if len(found) == 1 and not args.json:
                    raise ValueError(f"{row or where}: {error}") from None
                failures.append({"tune": name, **_place(start, raw), "error": error})
                at = row or f"line {start} of {where}"
                said.warn(
                    _NOT_NAMED, masked(error), "irish-tune identify: the tune at %s: %s", at, error
                )
                continue
            # at the lines the user typed: a bare snippet's block starts at line `start` (those
            # of `top.read_warnings` count the X: line added above it)
            read = parse_abc(tune, line_offset=start - 2 if bare else 0)
            changed = read.warnings if raw is None else raw.read_warnings()
            changed = scored_read_warnings(changed, tune, scoring)  # as `identify` keeps them
            if bare:
                changed = _keyless_at(changed, start)
            if changed:  # what of the query is not compared: said, not dropped silently
                at = _tune_at(start, raw, where)
                said.warn(
                    _NOT_AS_WRITTEN,
                    masked(changed[0]),
                    "irish-tune identify: the tune at %s was not read exactly as written, and is "
                    "compared as read: %s",
                    at, "; ".join(changed),
                )  # fmt: skip
            for sentence in top.unknown_notes:  # `identify` returns them, for us to place
                said.warn(
                    _UNKNOWN_NOTES,
                    masked(sentence),
                    "irish-tune identify: the tune at %s: %s",
                    _tune_at(start, raw, where), sentence,
                )  # fmt: skip
            notes = sum(token.kind == "note" for token in read.tokens)
            if notes < FEW_NOTES:
                said.warn(
                    _FEW_NOTES,
                    f"fewer than {FEW_NOTES} notes",
                    "irish-tune identify: %s has %s, too few to tell tunes apart (many match it "
                    "exactly); %d or more name a tune better",
                    label, counted(notes, "note"), FEW_NOTES,
                )  # fmt: skip
            named.append({"tune": name, "place": _place(start, raw), "top": top, "label": label})
    if args.json:
        tunes = [
            {
                "tune": t["tune"],
                **t["place"],
                "top": [{"title": title, "score": score} for title, score in t["top"]],
            }
            for t in named
        ]
        _print_json(scoring, tunes, failures)
    else:
        for n, entry in enumerate(named):
            if len(found) > 1:  # several tunes: name each, under its X: and T: lines
                print(("\n" if n else "") + entry["label"])
            for rank, (title, score) in enumerate(entry["top"], 1):
                print(f"{rank:3d}  {_shown_score(score)}  {title}")
    failed = len(failures)
    if failed:  # as `check`: 1 when some tunes could not be named, 2 for usage errors
        print(
            f"irish-tune identify: {failed} of {len(found)} tunes could not be named",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _warn_transpose_ignored(
    found: list[tuple[int, str, Any]], names: list[tuple[str, str]]
) -> None:
    """Say once, on stderr, that ``--no-transpose`` does nothing to the tunes of the input
    without a key (no ``K:``, or ``K:none``): with no key to move them onto the index's white
    keys, they are compared in all 12 transpositions whatever the option (it was ignored
    without a word)."""
    from .name_that_tune import names_a_key

    keyless = [label for (_, tune, _), (_, label) in zip(found, names) if not names_a_key(tune)]
    if keyless:
        which = keyless[0] if len(keyless) == 1 else f"{len(keyless)} tunes, {keyless[0]} first"
        print(
            f"irish-tune identify: --no-transpose has no effect on {which}: without a key (no "
            "K:, or K:none) a tune is compared in all 12 transpositions",
            file=sys.stderr,
        )


def _print_json(scoring: str, tunes: list[dict[str, Any]], failures: list[dict[str, Any]]) -> None:
    """Print `identify --json`'s one object: ``{"scoring", "tunes", "failures"}``."""
    print_json({"scoring": scoring, "tunes": tunes, "failures": failures}, "identify")


class _NoTuneToName(ValueError):
    """An input of `identify` that holds no tune at all (an empty or blank text, a dump without
    rows): the message names the input, and is said alike on stderr and in ``--json``."""


def _answer_no_tune(scoring: str, where: str, err: _NoTuneToName) -> int:
    """``--json``'s answer to an input that holds no tune: the message on stderr, and the one
    JSON object all the same, no tune named and one failure that names the input (``"tune"``:
    the file, or ``stdin``; ``"line"``: null, no tune starts anywhere; ``"error"``: the message
    on stderr, word for word), exit status 1, as ``evaluate-lm --json`` answers an input with
    no tune to score."""
    print(f"irish-tune identify: {err}", file=sys.stderr)
    _print_json(scoring, [], [{"tune": where, "line": None, "error": str(err)}])
    return 1


class _RowWithoutTune(ValueError):
    """A thesession.org dump row that gives no tune (no ABC text, not an object): its reason."""


def _place(start: int, raw: Any) -> dict[str, int]:
    """Where a tune of `identify`'s input is, as ``--json`` gives it: ``{"row": N}`` for a
    dump row (its lines count in the text built from the row, so its line says nothing),
    else ``{"line": N}``, the line of the file where the tune starts."""
    return {"row": raw.row} if raw is not None and raw.row else {"line": start}


def _tune_at(start: int, raw: Any, where: str) -> str:
    """Where a tune of `identify`'s input is, for its warnings: a dump row (``t.json row 3``,
    whose lines count in the tune text built from it), else ``line N of FILE`` (or stdin)."""
    if raw is not None and raw.row:
        return f"{raw.place} (lines of its tune text)"
    return f"line {start} of {where}"


def _identify_error(err: AbcParseError | _RowWithoutTune, start: int, raw: Any, bare: bool) -> str:
    """The error of a tune that cannot be named, with where it fails in the input: the line
    the user typed for a bare snippet, the file's line for a tunebook's tune, the line of its
    tune text for a dump row (whose row the caller names), or why a dump row gives no tune."""
    if isinstance(err, _RowWithoutTune):
        return str(err)
    if bare and err.line is not None:
        # the line the user typed, without the X: line added above; an error at that line
        # (such as "has no notes") is the whole snippet's, named from its first line
        return snippet_error(err, start)
    if raw is not None:
        return raw.locate(err).removeprefix(f"{raw.file_name}: ")
    return str(err)


def _keyless_at(warnings: list[str], start: int) -> list[str]:
    """``warnings`` of a bare snippet whose first line is ``start``, the reader's "no K:" one
    placed there: the reader puts it at the tune's ``X:`` line, which for a bare snippet is
    the one `_identify_tunes` added above it (``line 0`` for the first snippet of a file).

    >>> _keyless_at(["no K: field: read as C major (line 4)", "overlay"], 5)
    ['no K: field: read as C major (line 5)', 'overlay']
    """
    from tokenization.abc_header import NO_KEY

    keyless = f"{NO_KEY} (line "
    return [f"{keyless}{start})" if w.startswith(keyless) else w for w in warnings]


def _identify_tunes(path: str, where: str) -> tuple[list[tuple[int, str, Any]], bool]:
    """``(first line, text, RawTune or None)`` of each tune `identify` names in ``path``, and
    whether they are bare snippets. A thesession.org dump is read as `check`, `render` and
    `index` read it (a tune a row); a text without ``X:`` lines is snippets, one a block
    between blank lines; any other text is read once (its warnings said once), its tunes
    knowing their lines in the file, for errors that name them."""
    from tokenization.abc_tunebook import abc_lines

    from .abc_sources import no_tune_reason, text_tunes

    dump = read_dump(path, unreadable=True)  # a row that gives no tune fails as a tune
    if dump is not None:
        if not dump:
            raise _NoTuneToName(f"{where}: no tune to name ({no_tune_reason(path)})")
        return [(raw.line, raw.text, raw) for raw in dump], False
    text = _read_text(path, where)
    if not any(line.startswith("X:") for line in abc_lines(text)):
        blocks = enumerate(_blocks(text), 1)
        return [(line, f"X:{n}\n{block}", None) for n, (line, block) in blocks], True
    return [(raw.line, raw.text, raw) for raw in text_tunes(text, where)], False


def _read_text(path: str, where: str) -> str:
    """`read_input` of `identify`'s input, where a text of no tune is a `_NoTuneToName`: an
    empty or blank one, a thesession.org dump not named as one (on stdin), and a binary file
    (as `evaluate-lm` counts it; binary stdin is refused
    as a usage error, as there)."""
    try:
        text = read_input(path)
    except BinaryInputError:
        if path == "-":
            raise
        raise _NoTuneToName(f"{where} is {NOT_TEXT}") from None
    if not text.strip():
        raise _NoTuneToName(f"{where} is empty: give an ABC tune or snippet")
    dump = dump_text_reason(text)  # its rows are no snippets: a dump is read by its suffix
    if dump is not None:
        raise _NoTuneToName(f"{where}: no tune to name ({dump})")
    return text


def _identify_setup(args: argparse.Namespace) -> tuple[Any, Any, Any, str]:
    """``(model, tokenizer, index, scoring)`` of `identify`'s options, once for every tune of
    the input: what the index cannot serve (a model's scorer on an index built without one, a
    tokenizer folder that is gone) is refused here, before the input is read."""
    import os

    from .name_that_tune import TuneIndex, index_tokenizer

    model, tokenizer = (
        load_model_and_tokenizer(args.model) if args.model is not None else (None, None)
    )
    if args.tokenizer is not None:
        tokenizer = load_abc_tokenizer(args.tokenizer)
    index_dir = require_folder(args.index or os.path.join(args.model, "index"), "index")
    index = TuneIndex.load(index_dir)
    scoring = args.scoring or ("hybrid" if model is not None else "edit-distance")
    if scoring != "edit-distance" and index.title_embeds.shape[1] == 0:
        raise ValueError(
            f"--scoring {scoring} needs an index built with a tune-title model; {index_dir!r} "
            "was built without one, for the edit distance alone: rebuild it with irish-tune "
            "index --model, or use --scoring edit-distance"
        )
    if model is not None:
        index.check_model(model, f"index {index_dir!r}")
    return model, tokenizer or index_tokenizer(index), index, scoring


def _blocks(text: str) -> list[tuple[int, str]]:
    """``(first line, text)`` of each block of lines between blank lines (``"A|\\n\\nB|"``:
    ``[(1, "A|"), (3, "B|")]``), the lines numbered as the reader numbers them (`abc_lines`: a
    form feed or U+2028 is no line break, as it is to `str.splitlines`)."""
    from tokenization.abc_tunebook import abc_lines

    blocks, start, lines = [], 0, []
    for number, line in enumerate(abc_lines(text), 1):
        if line.strip():
            start = start or number
            lines.append(line)
        elif lines:
            blocks.append((start, "\n".join(lines)))
            start, lines = 0, []
    if lines:
        blocks.append((start, "\n".join(lines)))
    return blocks


def _shown_score(score: float) -> str:
    """A score of `identify`'s text listing: 7 wide to 4 decimals, or ``n/a`` with why, as
    `shown_figure` shows a figure that is not finite (-inf: `_NO_SETTING`), never a bare
    ``-inf`` (``  3  n/a (no setting of this title to compare)  Lost Reel``)."""
    return shown_figure(score, "7.4f", _NO_SETTING if score == float("-inf") else "")
