"""``train.py``'s corpus messages name the sources as the user typed them: it reads them by
their absolute path (`training.run_folder.absolute_sources`, its cache key and the spelling a
resumed run reads them by), but a warning, a skipped tune's place or a refusal that named
``/tmp/.../lnk/mixed.abc`` for ``--corpus ../lnk/mixed.abc`` sent the user looking for a path
they never typed (``irish-tune check`` names them as typed)."""

from __future__ import annotations

import contextlib
import os
from argparse import Namespace
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import one_torch_thread  # noqa: F401

from training import common, data

pytestmark = pytest.mark.usefixtures("one_torch_thread")

_TUNE = "X:{x}\nT:{title}\nM:2/4\nL:1/8\nK:{key}\n{notes}\n"


def _book() -> str:
    """Two tunes numbered X:1 (a warning names the file), one whose key cannot be read (a
    skipped tune, whose place the report gives) and two more."""
    tunes = [
        (1, "a", "G", "GA Bc|dB AG|"),
        (1, "b", "G", "Bc de|dB AG|"),
        (2, "c", "G", "GA Bc|dd dB|"),
        (3, "bad", "Q#", "GA Bc|dB AG|"),
        (4, "d", "G", "GA Bc|de dB|"),
    ]
    return "\n".join(
        _TUNE.format(x=x, title=title, key=key, notes=notes) for x, title, key, notes in tunes
    )


@pytest.fixture
def linked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``real/`` (a tunebook, an empty file, a hidden file, a tunebook in ``sub/``, a dump that
    is none), ``lnk`` a link to it, and the working folder ``work/`` beside them."""
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "mixed.abc").write_text(_book(), encoding="utf-8")
    (real / "sub" / "other.abc").write_text(_book(), encoding="utf-8")
    (real / "empty.abc").write_text("", encoding="utf-8")
    (real / ".hidden.abc").write_text("", encoding="utf-8")
    (tmp_path / "t.json").write_text('{"a": 1}', encoding="utf-8")
    (tmp_path / "lnk").symlink_to(real, target_is_directory=True)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path


def _prepare(corpus: list[str], cache_dir: Path, num_proc: int = 0) -> dict:
    """`data.prepare_corpus` of ``--corpus corpus``, as train.py runs it; its report."""
    args = Namespace(
        corpus=corpus, split_ratios=(8, 1, 1), split_seed=0, cache_dir=str(cache_dir),
        num_proc=num_proc, max_length=512, resume_from_checkpoint=None,
    )  # fmt: skip
    accelerator = SimpleNamespace(main_process_first=contextlib.nullcontext)
    return data.prepare_corpus(args, accelerator)[2]


def _assert_named_as(said: str, report: dict, lnk: str) -> None:
    """The warnings (``said``) and the report's skipped places of `linked`'s corpus name its
    files under ``lnk``, the folder as the run typed it."""
    for warning in (
        f"{lnk}/mixed.abc: 2 tunes share their X: number",
        f"{os.path.join(lnk, 'sub', 'other.abc')}: 2 tunes share their X: number",
        f"no ABC tunes found in {lnk}/empty.abc (empty file)",
        f"{lnk}: 1 hidden *.abc file passed over",
    ):
        assert warning in said
    (places,) = report["corpus"]["skipped_at"].values()
    assert places[0] == f"{lnk}/mixed.abc line 22: X:3 bad: line 26, column 3: cannot read key 'Q#'"
    assert places[-1].startswith(os.path.join(lnk, "sub", "other.abc") + " line 22: ")


@pytest.mark.parametrize("num_proc", [0, 2])
def test_warnings_and_skipped_places_name_the_paths_as_typed(linked, caplog, num_proc):
    with caplog.at_level("WARNING"):
        report = _prepare(["../lnk/mixed.abc", "../lnk"], linked / "cache", num_proc)
    assert str(linked) not in caplog.text, caplog.text
    _assert_named_as(caplog.text, report, "../lnk")


@pytest.mark.parametrize(
    "corpus, why",
    [
        (["../lnk/empty.abc"], "no ABC tunes found in ../lnk/empty.abc (empty file)"),
        (["../t.json"], "not a thesession.org dump (no list of tunes)"),
        (
            ["../lnk/empty.abc", "../t.json"],
            "../t.json is not a thesession.org dump (no list of tunes)",
        ),
    ],
)
def test_a_refused_corpus_is_named_as_typed(linked, corpus, why):
    with pytest.raises(common.UsageError) as refused:
        _prepare(corpus, linked / "cache")
    assert str(refused.value) == f"--corpus {' '.join(corpus)}: {why}"


def test_the_cache_is_one_whatever_the_spelling_of_the_corpus(linked, monkeypatch, caplog):
    cache = linked / "cache"
    _prepare(["../lnk/mixed.abc"], cache)
    monkeypatch.chdir(linked)  # the same file, typed from another folder
    with caplog.at_level("WARNING"):
        _prepare(["lnk/mixed.abc"], cache)
    assert len(list(cache.glob("abc_corpus-*"))) == 1
    assert "share their X: number" in caplog.text  # the cache hit says what the load said


@pytest.mark.parametrize("num_proc", [0, 2])
def test_a_cache_hit_names_the_paths_as_this_run_typed_them(linked, monkeypatch, caplog, num_proc):
    # the hit gave the warnings and skipped places of the run that filled the cache, spelled
    # as that run typed them (``../lnk/mixed.abc`` from work/, where this run typed lnk/...)
    cache = linked / "cache"
    _prepare(["../lnk/mixed.abc", "../lnk"], cache, num_proc)
    monkeypatch.chdir(linked)
    caplog.clear()
    with caplog.at_level("WARNING"):
        report = _prepare(["lnk/mixed.abc", "lnk"], cache, num_proc)
    assert len(list(cache.glob("abc_corpus-*"))) == 1  # a hit
    assert "../lnk" not in caplog.text and str(linked) not in caplog.text, caplog.text
    _assert_named_as(caplog.text, report, "lnk")


@pytest.mark.parametrize(
    "corpus, said",
    [
        # read by their absolute paths, the two were one source said under the last spelling
        (["../lnk/mixed.abc", "../lnk/./mixed.abc"], "../lnk/./mixed.abc given twice (the same "),
        # and the link's target was named by its absolute path
        (["../real/mixed.abc", "../lnk/mixed.abc"], "../lnk/mixed.abc given twice (the same "),
    ],
)
def test_a_source_given_twice_is_said_as_typed_both(linked, caplog, corpus, said):
    with caplog.at_level("WARNING"):
        _prepare(corpus, linked / "cache")
    (twice,) = [r.getMessage() for r in caplog.records if "given twice" in r.getMessage()]
    assert twice == f"{said}resolved path as {corpus[0]}): read once"
