"""The demo's Name that tune tab (a part of demo_app.py): `name_tab`, the titles of an index
nearest a pasted snippet by the edit distance (`identify`, as ``irish-tune identify --index``),
as plain data (`NamedView`); `load_index`, the index and the tokenizer to read snippets with;
and the tab's controls, wired to `name_tab`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .demo_inputs import TITLES, checked_number, checked_text, first_of_several, several_note
from .demo_page_text import notes_markdown, user_error
from .prompt_lines import leading_blank_lines

if TYPE_CHECKING:
    from tokenization.tokenization_abc import AbcTokenizer

    from .tune_index import TuneIndex

__all__ = ["EXAMPLE_SNIPPET", "NamedView", "load_index", "name_controls", "name_tab"]

#: The snippet the tab shows as an example: with its key, as a bare snippet's F is read as F
#: natural (C major), which `identify` says in a warning.
EXAMPLE_SNIPPET = "K:D\nFAAB AFED|FAAB d2fe|"

#: The demo's log, as before the tab had its own module.
logger = logging.getLogger("modeling_irish.demo_app")


@dataclass
class NamedView:
    """What the Name that tune tab shows: ``rows`` of ``(rank, title, score)``, best first, and
    ``warnings``, what of the snippet the scores did not use as typed (`Identified.warnings`).

    >>> view = NamedView([(1, "The Kesh", -0.0), (2, "The Kesh Jig", -0.25)])
    >>> [title for _, title, _ in view.rows], view.warnings
    (['The Kesh', 'The Kesh Jig'], [])
    """

    rows: list[tuple[int, str, float]]
    warnings: list[str] = field(default_factory=list)


def name_tab(
    index: TuneIndex, snippet: str, k: int = 10, tokenizer: AbcTokenizer | None = None
) -> NamedView:
    """The ``k`` titles of ``index`` nearest ``snippet`` by the edit distance (`identify`, no
    model), best first. ``snippet``: an ABC tune, or a few bars without headers, as
    ``irish-tune identify`` takes them (an ``X:`` line is added). Of several tunes (a
    tunebook), the first is named, and the first warning says so and names the others (the
    Python reader's "give one tune per string" speaks to callers, not to the page), and what
    of the pasted text is not read is said next (`pasted_tunes`). Blank, or
    without notes to compare, it is a `ValueError` saying what to paste (of a snippet without
    headers: "the snippet from line N", as it is the whole snippet's). ``tokenizer``:
    default the index's. The warnings and a snippet's error name the lines as pasted (not
    counting an ``X:`` added, nor the fields typed before the first ``X:`` that the tune is
    read with, `text_tunes`, nor blank lines before it), as the CLI's do; free text there (a
    tunebook's title) is no tune."""
    from tokenization.abc_parser import parse_abc
    from tokenization.abc_tune import AbcParseError
    from tokenization.abc_tunebook import abc_lines

    from .name_that_tune import identify, scored_read_warnings
    from .tune_names import snippet_error

    text = (snippet or "").strip()
    if not text:
        raise ValueError(
            "paste an ABC tune, or a few bars with their key (K:D, then FAAB AFED|FAAB d2fe|), "
            "to name"
        )
    bare = not any(line.startswith("X:") for line in abc_lines(text))
    raw, several, noted = (None, [], []) if bare else first_of_several(snippet)
    lead, bars = leading_blank_lines(snippet)
    text = f"X:1\n{bars}" if raw is None else raw.text
    try:
        top = identify(None, index, text, int(k), tokenizer, scoring="edit-distance")
    except AbcParseError as err:
        if err.line is None:
            raise
        if raw is not None:  # at the line as pasted, as `irish-tune identify` names a file's
            raise ValueError(raw.locate(err).removeprefix(f"{raw.file_name}: ")) from None
        # at the line as pasted: without the X: line added above (nor its tune name, "X:1"),
        # with the blank lines pasted before the bars; an error at the X: line added is the
        # whole snippet's, named from its first line, as `irish-tune identify` names it
        raise ValueError(snippet_error(err, lead + 1)) from None
    # read again at the lines as pasted: `top.read_warnings` count the X: line added to a bare
    # snippet (and not the blank lines before it), and the file-header fields written into a
    # tune after its X: line
    said = parse_abc(text, line_offset=lead - 1).warnings if raw is None else raw.read_warnings()
    top.read_warnings = scored_read_warnings(said, text, "edit-distance")
    rows = [(rank, title, score) for rank, (title, score) in enumerate(top, 1)]
    return NamedView(rows, several_note(several) + noted + top.warnings)


def load_index(index_dir: str, fallback: AbcTokenizer) -> tuple[TuneIndex, AbcTokenizer]:
    """The index of ``index_dir`` and the tokenizer to read snippets with: the one it was built
    with, else (its folder is gone: an index copied to a Space) ``fallback``, with a warning
    (build the index with ``--tokenizer`` of the demo's model so that they agree)."""
    from .cli import require_folder
    from .name_that_tune import TuneIndex, index_tokenizer

    index = TuneIndex.load(require_folder(index_dir, "index"))
    try:
        return index, index_tokenizer(index)
    except FileNotFoundError as err:
        logger.warning("index %s: %s; reading snippets with the model's tokenizer", index_dir, err)
        return index, fallback


def name_controls(gr: ModuleType, index: TuneIndex | None, tokenizer: Any) -> None:
    """The Name that tune tab's inputs, button and table, wired to `name_tab`; without an index,
    how to start the demo with one."""
    if index is None:
        gr.Markdown(
            "No index: build one with `irish-tune index --tokenizer MODEL tunes.abc --out "
            "INDEX`, then start the demo with `--index INDEX`."
        )
        return
    snippet = gr.Textbox(lines=5, label="ABC tune or a few bars", placeholder=EXAMPLE_SNIPPET)
    k = gr.Slider(*TITLES, value=10, step=1, label="Titles")
    button = gr.Button("Name that tune", variant="primary")
    table = gr.Dataframe(headers=["rank", "title", "score"], label="Titles, best first")
    said = gr.Markdown()

    def run(text: Any, count: Any) -> tuple:
        try:
            text, count = checked_text(text, "Snippet"), checked_number(count, "Titles", TITLES)
            view = name_tab(index, text, count, tokenizer)
        except ValueError as err:
            raise user_error(gr, err) from None
        rows = [[rank, title, f"{score:.3f}"] for rank, title, score in view.rows]
        return rows, notes_markdown(view.warnings)

    # unchecked values, checked in `run` (as the Generate tab's: `_generate_controls`)
    button.click(run, [snippet, k], [table, said], api_name="name", preprocess=False)
