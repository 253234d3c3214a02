"""Small builders and fixtures shared by several test files: a tiny MeasureNote config, the
synthetic tunes of the training, name-that-tune and generation tests (and their fixtures, which a
test module imports), and the shared corpus for the slow tests."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from modeling_irish.configuration_measurenote import MeasureNoteConfig

#: The shared corpus (../shared beside the repository), or MODELING_IRISH_CORPUS.
CORPUS = Path(
    os.environ.get(
        "MODELING_IRISH_CORPUS",
        Path(__file__).resolve().parents[2] / "shared" / "data" / "thesession-c.abc",
    )
)


#: The repository's root, where README.md lies.
ROOT = Path(__file__).resolve().parents[1]
#: The guides under docs/ that, with README.md, make the user docs, in reading order: each
#: guide's Python examples may build on those of the README and of the guides before it.
USER_GUIDES = ("abc.md", "measurenote.md", "generation.md", "retrieval.md", "hub.md")
#: The team's documents under docs/, which are not user guides.
TEAM_DOCS = ("BENCHMARKS.md", "DESIGN.md")


def user_doc_pages() -> list[Path]:
    """The user docs: README.md, then each guide under docs/ in `USER_GUIDES` order (a page of
    docs/ that is neither a guide nor a team document is refused: add it to `USER_GUIDES`)."""
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md") if p.name not in TEAM_DOCS)
    unknown = [name for name in pages if name not in USER_GUIDES]
    assert not unknown, f"docs/ holds pages that tests/helpers.py's USER_GUIDES lacks: {unknown}"
    guides = [ROOT / "docs" / name for name in USER_GUIDES if name in pages]
    return [ROOT / "README.md", *guides]


def user_docs_text() -> str:
    """The text of every page of the user docs (`user_doc_pages`), one after the other."""
    return "\n\n".join(page.read_text(encoding="utf-8") for page in user_doc_pages())


def warnings_of(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    """The warnings (not the DEBUG lines) that the logger named ``logger`` gave, in order."""
    return [
        r.getMessage() for r in caplog.records if r.name == logger and r.levelno >= logging.WARNING
    ]


def card_model(num_parameters: int = 1234, title_max_length: int = 32) -> SimpleNamespace:
    """What a model card reads of a model, for cards written without one: its parameter count
    and (a tune-title model's) title cut, ``config.title_config.max_length``."""
    title_config = SimpleNamespace(max_length=title_max_length)
    return SimpleNamespace(
        num_parameters=lambda: num_parameters, config=SimpleNamespace(title_config=title_config)
    )


def strict_loads(text: str):
    """``text`` read as JSON as strict parsers (``jq``, JavaScript's ``JSON.parse``) read it: a
    bare ``NaN``, ``Infinity`` or ``-Infinity``, which Python's `json` accepts, is a ValueError."""

    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def write_csv_dump(path: Path, rows: list[dict], encoding: str) -> None:
    """Write ``rows`` as a thesession.org ``tunes.csv`` writes them: a header row, then one
    line per row ended by CRLF, fields quoted where they hold a comma, quote or line break
    (``"utf-8-sig"`` starts the file with a byte-order mark, as Excel saves it)."""
    import csv

    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


#: The logger of `render`'s and `generate`'s warnings about their tunes (capped).
RENDER_LOGGER = "modeling_irish.generation_cli"


def stderr_said(
    capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture, logger: str = RENDER_LOGGER
) -> str:
    """What a command said on stderr since the last read: the lines it printed, then the
    warnings of ``logger`` (under pytest they are captured, not printed), one a line."""
    return capsys.readouterr().err + "\n".join(warnings_of(caplog, logger))


def run_as_console_script(argv: list[str], then: str = "") -> list[str]:
    """Run ``irish-tune ARGV`` as the console script does (`irish_tune.main` reading the command
    line) in a fresh interpreter, then the Python code ``then``; the lines it printed."""
    code = textwrap.dedent(
        """
        import runpy, sys
        sys.argv = ["irish-tune", *sys.argv[1:]]
        try:
            runpy.run_module("irish_tune", run_name="__main__", alter_sys=True)
        except SystemExit as exit:
            print("status", exit.code)
        print("loaded", sorted(m for m in ("torch", "transformers") if m in sys.modules))
        """
    )
    return python_lines(code + textwrap.dedent(then), *argv)


def python_lines(code: str, *argv: str, timeout: float = 300) -> list[str]:
    """The lines that Python code ``code`` prints (with ``argv`` as its command line), run in a
    fresh interpreter from the repository's root; a failure is the test's, with its stderr."""
    result = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        encoding="utf-8",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.splitlines()


def require_corpus() -> Path:
    """The shared corpus: a skip when it is missing from its default place, a failure when
    MODELING_IRISH_CORPUS names a file that is not there (a mistyped path is no skip)."""
    if not CORPUS.is_file():
        if "MODELING_IRISH_CORPUS" in os.environ:
            pytest.fail(
                f"MODELING_IRISH_CORPUS={os.environ['MODELING_IRISH_CORPUS']!r}: no such file"
            )
        pytest.skip(f"shared corpus not found at {CORPUS} (set MODELING_IRISH_CORPUS)")
    return CORPUS


#: `--config_overrides` of the training scripts' tests: widths of 16 and 2 attention heads.
TINY_MODEL_OVERRIDES = (
    "embedding_size=16,note_hidden_size=16,measure_hidden_size=16,final_hidden_size=16,"
    "measure_num_heads=2"
)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on a busy 2-core CI they lose a lot
    (use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")`` and import it)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def record_hub_commits(monkeypatch: pytest.MonkeyPatch, held: tuple[str, ...] = ()) -> list[dict]:
    """Replace the Hub client of transformers' uploads by a stand-in that records each commit
    (``repo_id``, the sorted ``files`` it would upload, those it would delete, ``deleted``, and
    its other arguments) instead of sending it; the repository holds the files ``held`` (what
    ``list_repo_files`` answers), and a commit with ``create_pr`` opens ``refs/pr/1``. The model
    card is made offline from the template."""
    from types import SimpleNamespace

    from huggingface_hub import CommitOperationDelete, ModelCard, ModelCardData
    from transformers.utils import hub

    commits: list[dict] = []

    class FakeApi:
        def create_repo(self, repo_id, **kwargs):
            return SimpleNamespace(repo_id=repo_id)

        def create_branch(self, **kwargs):
            pass

        def list_repo_files(self, repo_id, **kwargs):
            return sorted(held)

        def create_commit(self, repo_id, operations, **kwargs):
            deletes = [op for op in operations if isinstance(op, CommitOperationDelete)]
            files = sorted(op.path_in_repo for op in operations if op not in deletes)
            deleted = sorted(op.path_in_repo for op in deletes)
            commits.append({"repo_id": repo_id, "files": files, "deleted": deleted, **kwargs})
            pr = "refs/pr/1" if kwargs.get("create_pr") else None
            return SimpleNamespace(commit_url="https://hub/commit", pr_revision=pr)

    def card(repo_id, tags=None, token=None):
        return ModelCard.from_template(ModelCardData(library_name="transformers", tags=tags))

    monkeypatch.setattr(hub, "hf_api", FakeApi)
    monkeypatch.setattr(hub, "create_and_tag_model_card", card)
    return commits


def write_checkpoint(folder: Path, state: dict) -> Path:
    """A checkpoint ``folder`` (made if needed) with ``state`` as its training_state.json and
    tiny readable weights, optimizer and random-state files (one for each of its
    ``num_processes``, 1 when it records none), so that "latest" takes it: one without them is
    incomplete, and "latest" passes over it. Nothing in them is loaded; the weights' sha256 is
    recorded (``weights_sha256.json``)."""
    import zipfile

    from safetensors.numpy import save_file

    from training.checkpoint_digests import write_weights_digests

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "training_state.json").write_text(json.dumps(state), encoding="utf-8")
    save_file({"w": np.zeros(3, dtype=np.float32)}, str(folder / "model.safetensors"))
    processes = state.get("num_processes", 1) if isinstance(state, dict) else 1
    names = ["optimizer.bin"] + [f"random_states_{i}.pkl" for i in range(processes)]
    for name in names:
        with zipfile.ZipFile(folder / name, "w") as archive:
            archive.writestr(f"{name.split('.')[0]}/data.pkl", b"state")
    write_weights_digests(str(folder))  # as `save_checkpoint` records them
    return folder


def tiny_measurenote_config(**overrides) -> MeasureNoteConfig:
    """A MeasureNote config with one-layer GRUs of 16 (and 2 attention heads)."""
    values = dict(
        embedding_size=16,
        note_hidden_size=16,
        note_num_layers=1,
        measure_hidden_size=16,
        measure_num_layers=1,
        measure_num_heads=2,
        final_hidden_size=16,
        final_num_layers=1,
    )
    values.update(overrides)
    return MeasureNoteConfig(**values)


def save_tiny_measurenote(folder: Path, tunes: list[str]) -> Path:
    """A random tiny MeasureNote (`tiny_measurenote_config`, seed 0) and the tokenizer trained
    on ``tunes``, saved in ``folder`` as a model folder the command line and Auto classes load."""
    import torch

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcTokenizer

    torch.manual_seed(0)
    tokenizer = AbcTokenizer.train(tunes)
    config = tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes)
    MeasureNoteForCausalLM(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def synthetic_tune(
    x: int, title: str, tune_id: int, seed: int, bars: int = 8, notes: str = "CDEFGABc"
) -> str:
    """A reel of ``bars`` random 8-note bars drawn from ``notes``, with a thesession S: URL."""
    rng = np.random.default_rng(seed)
    body = "|".join("".join(notes[i] for i in rng.integers(0, len(notes), 8)) for _ in range(bars))
    return (
        f"X:{x}\nT:{title}\nS: https://thesession.org/tunes/{tune_id}#setting{x}\n"
        f"R:reel\nM:4/4\nL:1/8\nK:D\n{body}|]\n"
    )


def name_that_tune_reel(x: int, title: str, tune_id: int, seed: int, bars: int = 8) -> str:
    """A `synthetic_tune` on the notes C..e, as the name-that-tune tests draw them."""
    return synthetic_tune(x, title, tune_id, seed, bars, notes="CDEFGABcde")


# The name-that-tune tests' tunes: 8 training tunes (tune ids 1..8), each with a second setting
# that is a copy (the query); 5 unseen tunes (ids 20..24) with titles of their own; one untitled
# tune.
NAME_THAT_TUNE_TRAIN = [name_that_tune_reel(i, f"Reel {i}", i, i) for i in range(1, 9)] + [
    name_that_tune_reel(99, "x", 99, 99)
]
NAME_THAT_TUNE_KNOWN = [name_that_tune_reel(100 + i, f"Reel {i}", i, i) for i in range(1, 9)]
NAME_THAT_TUNE_UNSEEN = [name_that_tune_reel(200 + i, f"New {i}", 20 + i, 50 + i) for i in range(5)]


@pytest.fixture(scope="module", name="tokenizer")
def name_that_tune_tokenizer():
    """The `tokenizer` of the name-that-tune tests: trained on their training and unseen tunes
    (import it into the test module)."""
    from tokenization.tokenization_abc import AbcTokenizer

    return AbcTokenizer.train(NAME_THAT_TUNE_TRAIN + NAME_THAT_TUNE_UNSEEN)


@pytest.fixture(scope="module", name="model")
def name_that_tune_model(tokenizer):
    """The `model` of the name-that-tune tests: a random tune-title model of width 8 to 16 with
    a char-GRU title encoder, seed 0, in eval mode (import it with `name_that_tune_tokenizer`)."""
    import torch

    from modeling_irish.configuration_tune_title import TuneTitleConfig
    from modeling_irish.modeling_tune_title import TuneTitleModel

    torch.manual_seed(0)
    backbone = {
        "vocab_sizes": tokenizer.abc_vocab.sizes,
        "embedding_size": 16,
        "note_hidden_size": 16,
        "note_num_layers": 1,
        "measure_hidden_size": 16,
        "measure_num_layers": 1,
        "measure_num_heads": 2,
        "final_hidden_size": 16,
        "final_num_layers": 1,
    }
    config = TuneTitleConfig(
        tune_config={"backbone_config": backbone, "summary_hidden_size": 8},
        title_config={"encoder_type": "char_gru", "char_embed_dim": 8, "char_hidden_size": 8},
        projection_dim=8,
    )
    return TuneTitleModel(config).eval()


def rotated_tunebook(
    bar_lists: dict[tuple[str, str], list[list[str]]],
    turns: int,
    title: str,
    source: str,
    keys: tuple[str, ...] = ("D",),
) -> str:
    """A tunebook of one tune per rotation of each bar list, numbered from X:1 in order.

    ``bar_lists`` maps (rhythm, meter) to lists of bars; each list gives ``turns`` tunes, the
    k-th starting at its k-th bar, so bodies (which the corpus loader dedupes) are distinct when
    the bars are. ``title`` and ``source`` (the S: field) are formatted with the tune's number
    ``x`` and ``rhythm``; the key of tune x is ``keys[x % len(keys)]``.

    >>> print(rotated_tunebook({("reel", "4/4"): [["AB", "cd"]]}, 1, "T{x}", "s{x}"))
    X:1
    T:T1
    S: s1
    R:reel
    M:4/4
    L:1/8
    K:D
    AB|cd|]
    <BLANKLINE>
    """
    tunes = []
    for (rhythm, meter), lists in bar_lists.items():
        for bars in lists:
            for turn in range(turns):
                x = len(tunes) + 1
                body = "|".join(bars[turn:] + bars[:turn]) + "|]"
                tunes.append(
                    f"X:{x}\nT:{title.format(x=x, rhythm=rhythm)}\n"
                    f"S: {source.format(x=x, rhythm=rhythm)}\nR:{rhythm}\nM:{meter}\nL:1/8\n"
                    f"K:{keys[x % len(keys)]}\n{body}\n"
                )
    return "\n".join(tunes)


#: Bars of the 12 reels `reels_tunebook` rotates (distinct bodies, titles and thesession ids).
REEL_BARS = [
    ["DFAd fdAF", "GBdg fdAF", "A2FA DAFA", "EFGA B2A2"],
    ["d2fd edcB", "A2FA DFAF", "G2BG FGAF", "E2DE F2E2"],
    ["FAAB AFED", "FAAB A2dB", "ABde fded", "BABc d2d2"],
]

#: train.py flags of a tiny, quick tune-title run (char-GRU titles, no final evaluation).
TUNE_TITLE_FLAGS = (
    "--task", "tune_title", "--title_encoder", "char_gru", "--projection_dim", "16",
    "--crop_notes", "8", "--known_queries", "0", "--retrieval_eval_queries", "0",
)  # fmt: skip


def reels_tunebook() -> str:
    """12 reels in D with distinct bodies, titles and thesession ids (rotations of 3 bar lists)."""
    return rotated_tunebook(
        {("reel", "4/4"): REEL_BARS}, 4, "Reel number {x}", "https://thesession.org/tunes/5{x:02d}"
    )


#: Bars of reels and jigs of `training_tunebook`; each synthetic tune is a different rotation of
#: one bar list, so the 12 bodies, titles and thesession ids are all distinct (the corpus loader
#: dedupes bodies).
TRAINING_BARS = {
    ("reel", "4/4"): [["DFAd fdAF", "GBdg fdAF", "A2FA DAFA", "EFGA B2A2"],
                      ["d2fd edcB", "A2FA DFAF", "G2BG FGAF", "E2DE F2E2"]],
    ("jig", "6/8"): [["DFA dAF", "GBd gdB", "AFD DFA", "E3 D3"],
                     ["FGA AFD", "GFE EFG", "dcB AFA", "B3 A3"]],
}  # fmt: skip
TRAINING_KEYS = ("D", "G", "Ador", "Em")


def training_tunebook() -> str:
    """The tunebook of the training script's tests (the `tunebook` fixture of conftest.py): 12
    reels and jigs in four keys, rotations of `TRAINING_BARS`."""
    return rotated_tunebook(
        TRAINING_BARS,
        3,
        "Synthetic {rhythm} number {x}",
        "https://thesession.org/tunes/1{x:03d}#setting2{x:03d}",
        TRAINING_KEYS,
    )


def reels_training_argv(
    reels_abc: str, cache_dir: str, output_dir, *extra: str, model: bool = True
) -> list:
    """train.py's arguments for the `reels_abc` tunebook: 6 training tunes in batches of 2,
    3 updates an epoch (``model=False``: no tiny MeasureNote overrides)."""
    return [
        "--corpus", reels_abc, "--split_ratios", "0.5", "0.25", "0.25",
        "--cache_dir", cache_dir, "--output_dir", str(output_dir),
        *(["--config_overrides", TINY_MODEL_OVERRIDES] if model else []),
        "--per_device_train_batch_size", "2", "--per_device_eval_batch_size", "4",
        "--logging_steps", "1", "--eval_steps", "0", *extra,
    ]  # fmt: skip


def run_results(folder) -> dict:
    """The run folder's all_results.json."""
    return json.loads((folder / "all_results.json").read_text(encoding="utf-8"))


def training_argv(tunebook: str, cache_dir: str, output_dir, *extra: str) -> list[str]:
    """train.py's flags of a tiny run on ``tunebook`` (6 training tunes in batches of 2, logged
    every update, validated every second), then ``extra``."""
    return [
        "--corpus", tunebook, "--split_ratios", "0.5", "0.25", "0.25",
        "--cache_dir", cache_dir, "--output_dir", str(output_dir),
        "--config_overrides", TINY_MODEL_OVERRIDES, "--per_device_train_batch_size", "2",
        "--per_device_eval_batch_size", "4", "--logging_steps", "1", "--eval_steps", "2",
        *extra,
    ]  # fmt: skip


#: Five tiny tunes of five types and meters, the training tunebook of the generation tests
#: (each adds a sixth of its own: `GENERATION_TRAIN` a hornpipe, test_generation_rows.py a slide).
GENERATION_TUNES = [
    "X:1\nT:a\nR:reel\nM:4/4\nL:1/8\nK:D\n|:FAdA FAdA|B2 (3cBA B4|d3e f2ed|[DA]4 z4:|\n",
    "X:2\nT:b\nR:jig\nM:6/8\nL:1/8\nK:G\nD|:GBd gdB|A3/2B/2c A2D|GBd g2e|1dBA G3:|2dBA G2||\n",
    "X:3\nT:c\nR:slip jig\nM:9/8\nL:1/8\nK:Em\nE2B B2A B2c|d2B A2F D3|E2B B2A B2c|d2B A3 E3|]\n",
    "X:4\nT:d\nR:polka\nM:2/4\nL:1/8\nK:A\nAB c/d/e|f2 e2|AB c/d/e-|e2 a2|]\n",
    "X:5\nT:e\nR:waltz\nM:3/4\nL:1/8\nK:F\nF2 A2 c2|f4 e2|d3 c B2|A6|]\n",
]

#: The tunebook of the `generation_generator` fixture: `GENERATION_TUNES` and a hornpipe.
GENERATION_TRAIN = [
    *GENERATION_TUNES,
    "X:6\nT:f\nR:hornpipe\nM:4/4\nL:1/8\nK:Ador\n(3EFG|A2 A>B c2 B>A|G>E D>E G4|]\n",
]


@pytest.fixture(scope="module", name="generator")
def generation_generator(one_torch_thread):
    """The `generator` of the generation tests: a `TuneGenerator` of a random MeasureNote of
    width 16 to 32 (seed 0) and the tokenizer of `GENERATION_TRAIN`; one torch thread, as
    one-row steps only lose by more (import it with `one_torch_thread`)."""
    import torch

    from modeling_irish.generation import TuneGenerator
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcTokenizer

    torch.manual_seed(0)
    tokenizer = AbcTokenizer.train(GENERATION_TRAIN)
    config = MeasureNoteConfig.from_preset(
        "small",
        vocab_sizes=tokenizer.abc_vocab.sizes,
        embedding_size=16,
        note_hidden_size=32,
        note_num_layers=1,
        measure_hidden_size=32,
        measure_num_layers=1,
        measure_num_heads=2,
        final_hidden_size=32,
        final_num_layers=1,
    )
    return TuneGenerator(MeasureNoteForCausalLM(config), tokenizer)


@pytest.fixture(scope="module", name="model_dir")
def generation_model_dir(generator, tmp_path_factory):
    """The tiny model of `generation_generator` saved as a folder, for the command line."""
    path = tmp_path_factory.mktemp("model")
    generator.model.save_pretrained(path)
    generator.tokenizer.save_pretrained(path)
    return str(path)


def training_curve(folder) -> list[tuple[int, float]]:
    """The (step, train_loss) records of a run folder's train_log.jsonl."""
    lines = (folder / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    return [(r["step"], r["train_loss"]) for r in map(json.loads, lines) if "train_loss" in r]


class _FullDisk:
    """A file open for writing on a disk that fills up: half of the first text written reaches
    it, then ``ENOSPC``."""

    def __init__(self, handle) -> None:
        self.handle = handle

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()

    def write(self, text: str) -> int:
        import errno

        self.handle.write(text[: len(text) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


def fill_disk_on(monkeypatch: pytest.MonkeyPatch, module, name_part: str) -> None:
    """The disk fills up while ``module`` writes a file whose name holds ``name_part``: its
    ``open`` (a module global, in front of the builtin) gives such a file that writes half its
    text, then raises ``OSError(ENOSPC)``, as a write on a full tmpfs does."""
    import builtins

    def opened(path, mode="r", *args, **kwargs):
        handle = builtins.open(path, mode, *args, **kwargs)  # noqa: SIM115 (returned open)
        full = "w" in mode and name_part in os.path.basename(path)
        return _FullDisk(handle) if full else handle

    monkeypatch.setattr(module, "open", opened, raising=False)


def project_modules() -> list[str]:
    """Every module of the four packages, the packages themselves included (`walk_packages`
    yields only the submodules), sorted: what the doctest and public-API walks read."""
    import pkgutil

    import irish_tune
    import modeling_irish
    import tokenization
    import training

    packages = (irish_tune, modeling_irish, tokenization, training)
    return sorted(
        [package.__name__ for package in packages]
        + [
            name
            for package in packages
            for _, name, _ in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        ]
    )


def run_program(program: str, *args: str) -> str:
    """What ``program`` (abcm2ps, abc2midi...) prints for ``args``, stdout then stderr; the test
    is skipped where it is not installed."""
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed")
    said = subprocess.run(
        [path, *args], capture_output=True, text=True, check=False, encoding="utf-8"
    )
    return said.stdout + said.stderr


def run_benchmark(
    name: str, *argv: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``benchmarks/<name>`` run in a Python process of its own from ``cwd``, one torch thread,
    the environment updated with ``env``; its output captured as text, never checked."""
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *argv],
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        encoding="utf-8",
    )


def refuse_unlinking(monkeypatch, name: str) -> None:
    """``os.unlink`` of any file called ``name`` fails, as one in a read-only folder would."""
    real = os.unlink

    def unlink(path, *args, **kwargs):
        if os.path.basename(os.fspath(path)) == name:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)


def unreachable_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hub client with no network for uploads (`transformers`' ``hf_api``; nothing reaches
    the network): every ``create_repo`` raises a two-line ConnectionError, and
    ``HF_HUB_OFFLINE`` is off so that the upload gets that far."""
    from huggingface_hub import constants
    from transformers.utils import hub

    class Unreachable:
        def create_repo(self, repo_id, **kwargs):
            raise ConnectionError("[Errno 111] Connection refused\nmore lines")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "hf_api", Unreachable)


def no_hub_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Hub token anywhere the client looks: no ``HF_TOKEN``, no stored token files."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))


def edit_distance_index_cli(tokenizer, tmp_path: Path) -> tuple[Path, str]:
    """NAME_THAT_TUNE_TRAIN as a tunebook and an edit-distance index of it built by `irish-tune
    index` from a tokenizer folder: (the tunebook's path, the index folder)."""
    from modeling_irish.cli import main

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(NAME_THAT_TUNE_TRAIN), encoding="utf-8")
    tokenizer.save_pretrained(tmp_path / "tok")
    (tmp_path / "tok" / "config.json").write_text('{"model_type": "measurenote"}', encoding="utf-8")
    out = str(tmp_path / "idx")
    assert main(["index", "--tokenizer", str(tmp_path / "tok"), str(corpus), "--out", out]) == 0
    return corpus, out


def model_index_cli(model, tokenizer, tmp_path: Path) -> tuple[Path, Path]:
    """A model folder of ``model`` and ``tokenizer`` with an index of NAME_THAT_TUNE_TRAIN built
    in it by `irish-tune index --model`, and a snippet file of NAME_THAT_TUNE_KNOWN[0]: (the
    snippet, the folder)."""
    from modeling_irish.cli import main

    corpus = tmp_path / "corpus.abc"
    corpus.write_text("\n".join(NAME_THAT_TUNE_TRAIN), encoding="utf-8")
    snippet = tmp_path / "snippet.abc"
    snippet.write_text(NAME_THAT_TUNE_KNOWN[0], encoding="utf-8")
    folder = tmp_path / "tt"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    assert main(["index", "--model", str(folder), str(corpus)]) == 0
    return snippet, folder


def app_function(demo, api_name: str):
    """The Python function behind a demo's ``api_name`` button, to call without a server; a
    coroutine function (the Generate tab's, which sees a request cut short) run to its end."""
    import asyncio
    import functools
    import inspect

    (function,) = [fn.fn for fn in demo.fns.values() if fn.api_name == api_name]
    if not inspect.iscoroutinefunction(function):
        return function

    @functools.wraps(function)  # its signature, which gradio reads (`special_args`)
    def run(*values, **named):
        return asyncio.run(function(*values, **named))

    return run
