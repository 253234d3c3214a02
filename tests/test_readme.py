"""The user docs' Python examples run as a reader would paste them, one after the other.

The user docs are README.md and its guides under docs/ (`helpers.user_doc_pages`, in reading
order); the examples of each page run after those of the pages before it, in one namespace.

A folder stands in for the reader's: `runs/measurenote-small` holds a tiny untrained model with
its tokenizer (what the README's first command leaves, only smaller), a small tunebook stands in
for the shared corpus, and the Hub repository id names that local folder (no network). Where an
example line ends in a comment that is a Python literal (`tune.meter  # '6/8'`), the line's
value must equal it. Every flag the user docs name belongs to the command they name it with
(`irish-tune CMD --flag`, `train.py --flag`), or at least to some command, and every flag is
named somewhere in them. The opening commands are the README's own.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest
import torch
from helpers import tiny_measurenote_config, user_doc_pages, user_docs_text

README = Path(__file__).resolve().parents[1] / "README.md"
#: Each Python example of the user docs, in reading order, with the name of its page.
BLOCKS = [
    (page.name, block)
    for page in user_doc_pages()
    for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
]
CORPUS_PATH = "../shared/data/thesession-c.abc"
HUB_ID = "user/measurenote-small"
MODEL_DIR = "runs/measurenote-small"
# `expression  # literal`: a line whose comment states its value.
CLAIM = re.compile(r"^(?P<expr>[^#=]+?)\s+#\s+(?P<value>.+)$")


@pytest.fixture(scope="module")
def reader_folder(tmp_path_factory):
    """A working folder as after the README's first command, with example tunes."""
    import modeling_irish  # noqa: F401  (registers the Auto classes)
    from modeling_irish.abc_corpus import load_abc_corpus
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from modeling_irish.pipeline_abc import carry_pipeline
    from tokenization.tokenization_abc import AbcTokenizer

    root = tmp_path_factory.mktemp("reader") / "work"
    tunes = list(load_abc_corpus()["train"]["abc"][:200])  # the embedded default corpus
    book = root / "tunes.abc"
    book.parent.mkdir(parents=True)
    book.write_text("\n\n".join(t.strip() for t in tunes) + "\n", encoding="utf-8")
    tokenizer = AbcTokenizer.train(tunes)
    torch.manual_seed(0)
    model = MeasureNoteForCausalLM(tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes))
    carry_pipeline(model, str(root / MODEL_DIR))  # as train.py saves a MeasureNote run
    model.save_pretrained(root / MODEL_DIR)
    tokenizer.save_pretrained(root / MODEL_DIR)
    return root, tunes, book


def _adapted(block: str, book: Path) -> str:
    return block.replace(CORPUS_PATH, str(book)).replace(HUB_ID, MODEL_DIR)


def _check_claims(block: str, namespace: dict) -> int:
    """Evaluate every `expression  # literal` line again and compare; returns how many."""
    checked = 0
    for line in block.splitlines():
        match = CLAIM.match(line.strip())
        if not match:
            continue
        try:
            expected = ast.literal_eval(match["value"])
        except (ValueError, SyntaxError):
            continue  # an explanatory comment, not a value
        actual = eval(match["expr"], namespace)  # noqa: S307 (the README's own expression)
        assert actual == expected, f"the docs say {line.strip()!r}, but it is {actual!r}"
        checked += 1
    return checked


def test_the_user_docs_have_the_examples_this_test_expects():
    text = "".join(block for _, block in BLOCKS)
    assert len(BLOCKS) >= 5
    assert CORPUS_PATH in text and HUB_ID in text and MODEL_DIR in text
    assert "list_of_abc_strings" in text


def test_readme_python_examples_run(reader_folder, monkeypatch, capsys):
    root, tunes, book = reader_folder
    monkeypatch.chdir(root)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    threads = torch.get_num_threads()
    namespace: dict = {"list_of_abc_strings": tunes[:64]}
    claims = 0
    try:
        for number, (page, block) in enumerate(BLOCKS):
            code = _adapted(block, book)
            where = f"{page} python block {number}"
            try:
                exec(compile(code, where, "exec"), namespace)  # noqa: S102
            except Exception as err:  # name the block: the traceback alone shows only a line
                pytest.fail(f"{where} failed: {err!r}\n{block}")
            claims += _check_claims(code, namespace)
    finally:
        torch.set_num_threads(threads)
    assert claims >= 2  # the reading example states what it prints
    out = capsys.readouterr().out
    assert "K:A" in out  # the first example writes the tune in A
    assert namespace["tunes"] and all(t.abc.startswith("X:") for t in namespace["tunes"])


def _loads_local_folder_through_auto_classes(tree: ast.AST) -> bool:
    """Whether code calls `Auto*.from_pretrained(...)` without `trust_remote_code`."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "from_pretrained"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id.startswith("Auto")
            and not any(k.arg == "trust_remote_code" for k in node.keywords)
        ):
            return True
    return False


def test_each_readme_python_block_runs_in_a_fresh_interpreter():
    """The quick tour's blocks are pasted one at a time: each defines what it uses (bar the
    reader's `list_of_abc_strings`), and one that loads a folder through the Auto classes without
    `trust_remote_code` imports `modeling_irish`, which registers them (else transformers asks
    to run the folder's code and, on a pasted block, stops)."""
    import builtins

    problems = []
    for number, (page, block) in enumerate(BLOCKS):
        if page != README.name:
            continue  # a guide's blocks go on from the ones above them
        tree = ast.parse(block)
        defined = set(dir(builtins)) | {"list_of_abc_strings"}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if used - defined:
            problems.append(f"block {number} uses {sorted(used - defined)} without defining them")
        if _loads_local_folder_through_auto_classes(tree) and "modeling_irish" not in defined:
            problems.append(
                f"block {number} loads through the Auto classes without importing modeling_irish"
            )
    assert not problems, f"README.md python blocks that fail on their own: {problems}"


def _opening_commands() -> list[str]:
    """The commands of the README's first code block, which comes right after its title."""
    text = README.read_text(encoding="utf-8")
    match = re.match(r"# [^\n]+\n+```bash\n(.*?)```", text, re.S)
    assert match, "README.md does not open with a bash block under its title"
    return [line for line in match[1].splitlines() if line.strip()]


def test_the_readme_opens_with_two_commands_for_a_fresh_machine():
    setup, tests = _opening_commands()  # exactly two: set up + train, set up + test
    install = 'python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e ".['
    assert setup.startswith(install) and setup.endswith("accelerate launch training/train.py")
    assert tests.startswith(install) and tests.endswith(".venv/bin/python -m pytest")


def test_ci_runs_the_readmes_test_command():
    """`.ci/run` runs the README's second command as written (pip made quiet, `-q`, at most)."""
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = _opening_commands()[1]
    commands = [line.replace("pip install -q ", "pip install ") for line in ci.splitlines()]
    assert command in commands, f".ci/run does not run the README's test command {command!r}"


# Flags of other programs the README names: pip's, ruff's, the launchers' (accelerate, torchrun)
# and the Hub client's (`hf upload --delete`).
OTHER_PROGRAMS_FLAGS = {
    "--delete",
    "--extra-index-url",
    "--no-deps",
    "--check",
    "--cpu",
    "--multi_gpu",
    "--num_processes",
    "--nproc_per_node",
    "--quiet",  # accelerate launch -q
}
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
# `irish-tune COMMAND ...` up to the end of its line, an inline code span's end or a comment.
COMMAND_USE = re.compile(r"(?<!<!-- )irish-tune ([a-z][\w-]*)([^`\n#]*)")
# `train.py ...` / `training.train ...` up to the end of the command.
TRAIN_USE = re.compile(r"(?:train\.py|training\.train)\b([^`\n#]*)")


def _docs_joined() -> str:
    """The user docs with each `\\`-continued command line joined to the next."""
    return re.sub(r"\\\n\s*", " ", user_docs_text())


def _command_options() -> dict[str, set[str]]:
    """Each `irish-tune` sub-command's option strings."""
    from irish_tune.parser import _command_parser, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: set(_command_parser(parser, name)._option_string_actions) for name in sub.choices}


def _train_options() -> set[str]:
    from training.arguments import build_parser

    return set(build_parser()._option_string_actions)


def test_every_irish_tune_command_and_flag_the_docs_name_exists():
    """`irish-tune CMD ... --flag` (a command line or an inline mention) names a flag of CMD."""
    options = _command_options()
    text = _docs_joined()
    uses = [(m[1], m[2]) for m in COMMAND_USE.finditer(text)]
    inline = re.compile(rf"`({'|'.join(map(re.escape, options))}) (--[^`]*)`")
    uses += [(m[1], m[2]) for m in inline.finditer(text)]  # `check --jobs N`
    assert len(uses) >= 20
    wrong = [f"irish-tune {cmd}: no such command" for cmd, _ in uses if cmd not in options]
    wrong += [
        f"irish-tune {cmd} {flag}"
        for cmd, rest in uses
        if cmd in options
        for flag in FLAG.findall(rest)
        if flag not in options[cmd]
    ]
    assert not wrong, f"the user docs name flags their commands do not have: {wrong}"


def _unnamed(options: set[str], text: str) -> list[str]:
    """The long flags of ``options`` (``--help`` aside) that ``text`` does not name; a
    ``--flag/--no-flag`` pair is named by either form."""
    named = set(FLAG.findall(text))
    flags = sorted(f for f in options if f.startswith("--") and f != "--help")
    return [f for f in flags if not {f, f.replace("--no-", "--", 1), "--no-" + f[2:]} & named]


def test_the_user_docs_name_every_flag_of_every_command():
    """The README left out flags that only ``--help`` told of (`identify -k` and
    `--hybrid-weight`, `evaluate-retrieval --eighths-weight`, `train.py --split_seed`, ...): the
    user docs (README.md and its guides) name every long flag of every `irish-tune` command and
    of `train.py`, and `identify -k`."""
    text = _docs_joined()
    missing = [f"irish-tune {cmd} {flag}" for cmd, options in _command_options().items()
               for flag in _unnamed(options, text)]  # fmt: skip
    missing += [f"train.py {flag}" for flag in _unnamed(_train_options(), text)]
    if "irish-tune identify -k" not in text:
        missing.append("irish-tune identify -k")
    assert not missing, f"the user docs do not name these flags: {missing}"


def test_every_train_flag_the_docs_name_exists():
    """Flags after `train.py`, and every `--snake_case` flag, are `train.py`'s (or a launcher's)."""
    train = _train_options()
    text = _docs_joined()
    after_script = [f for m in TRAIN_USE.finditer(text) for f in FLAG.findall(m[1])]
    snake = re.findall(r"(?<![\w-])(--[a-z]+_[\w]+)", text)
    assert len(after_script) >= 10 and len(snake) >= 30
    wrong = sorted({f for f in after_script + snake if f not in train})
    wrong = [f for f in wrong if f not in OTHER_PROGRAMS_FLAGS]
    assert not wrong, f"the user docs name flags that train.py does not have: {wrong}"


def test_every_flag_the_docs_name_belongs_to_some_program():
    """A `--flag` in the prose (`--no-transpose` (of identify ...)) still exists somewhere."""
    known = set().union(*_command_options().values(), _train_options(), OTHER_PROGRAMS_FLAGS)
    flags = set(re.findall(r"(?<![\w-])(--[A-Za-z][\w-]*)", user_docs_text()))
    assert not sorted(flags - known), f"the user docs name unknown flags: {sorted(flags - known)}"


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _headings(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return [h.replace("`", "") for h in re.findall(r"^#+ (.+)$", text, re.M)]


def test_the_readme_and_docs_links_and_section_names_resolve():
    """Each relative link's file and `#anchor` exist; a `BENCHMARKS.md, "Section"` is a heading."""
    pages = [README, *sorted((README.parent / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and anchor not in {_slug(h) for h in _headings(linked)}:
                broken.append(f"{page.name}: {target} (no such heading)")
        for name, section in re.findall(r"((?:BENCHMARKS|DESIGN)\.md)\)?,\s+\"([^\"]+)\"", text):
            if not any(section in h for h in _headings(README.parent / "docs" / name)):
                broken.append(f'{page.name}: {name}, "{section}" (no such heading)')
    assert not broken, f"dead links or section names: {broken}"


def test_the_readme_links_every_guide():
    """A guide under docs/ is reached from the front page: README.md links each one."""
    readme = README.read_text(encoding="utf-8")
    unlinked = [p.name for p in user_doc_pages()[1:] if f"](docs/{p.name}" not in readme]
    assert not unlinked, f"README.md links no guide {unlinked}"


def _table_first_cells(page: str, heading: str) -> set[str]:
    """The code spans in the first column of the table under ``heading`` of ``docs/page``, up to
    the next heading (`` `--top-k`, `--top-p` `` gives both)."""
    text = (README.parent / "docs" / page).read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| *([^|]+)\|", section, re.M)
    return {name.split()[0] for row in rows for name in re.findall(r"`([^`]+)`", row)}


def test_the_sampling_flags_table_names_every_sampling_flag():
    """docs/generation.md's table of the flags `generate` and `evaluate-generation` share lacked
    `--seed` and `--max-rows`, which only `--help` described."""
    options = _command_options()
    shared = options["generate"] & options["evaluate-generation"]
    sampling = {f for f in shared if f.startswith("--")} - {"--help", "--model"}
    listed = _table_first_cells("generation.md", "### Sampling flags")
    assert {"--seed", "--max-rows", "--rhythm"} <= sampling
    assert not sorted(sampling - listed), f"the table lacks {sorted(sampling - listed)}"


def test_the_pipeline_table_names_every_refused_argument():
    """docs/generation.md's table of the pipeline's refused transformers arguments lacked
    `max_length` and `min_new_tokens`, which `TRANSFORMERS_ONLY` refuses."""
    from modeling_irish.pipeline_abc import TRANSFORMERS_ONLY

    listed = _table_first_cells("generation.md", "#### Pipeline arguments")
    assert "return_tensors" in listed
    assert not sorted(set(TRANSFORMERS_ONLY) - listed), sorted(set(TRANSFORMERS_ONLY) - listed)


def test_the_retrieval_eval_table_places_each_file_where_the_run_writes_it():
    """docs/retrieval.md listed `known_queries.abc` among the files of `retrieval_eval/` (kept out
    of an upload), though `train.py` writes it beside the model, where the upload takes it."""
    from training.hub import UPLOAD_IGNORE_PATTERNS
    from training.train_tune_title import KNOWN_QUERIES_FILE
    from training.tune_title_retrieval import RETRIEVAL_EVAL_DIR

    listed = _table_first_cells("retrieval.md", "### The evaluation at the end of a training run")
    in_folder = {f"{RETRIEVAL_EVAL_DIR}/{name}.abc" for name in ("train", "known", "unseen")}
    assert listed == in_folder | {KNOWN_QUERIES_FILE}
    assert f"{RETRIEVAL_EVAL_DIR}/*" in UPLOAD_IGNORE_PATTERNS
