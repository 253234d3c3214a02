"""The folders a run's saves delete (`training.run_folder`: a replaced checkpoint, the staging
folders of the model and the tokenizer): one that will not go is named in a warning
(`tokenization.file_cleanup.discard_folder`), never passed over in silence, and the error of the
save itself, if any, is the one raised."""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import warnings_of

from tokenization import file_cleanup
from training import common, run_folder

_ACCELERATOR = SimpleNamespace(is_main_process=True, num_processes=1, save=None,
                               wait_for_everyone=lambda: None)  # fmt: skip


def _stuck(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """``shutil.rmtree`` cannot delete ``folder`` once it is there (a file in it another user
    owns): with ``ignore_errors`` it leaves it without a word, without it raises the
    ``PermissionError`` of that file. Any other folder is deleted as usual."""
    real = shutil.rmtree

    def rmtree(path, ignore_errors=False, *args, **kwargs):
        if os.fspath(path) == os.fspath(folder) and os.path.exists(path):
            if ignore_errors:
                return
            raise PermissionError(errno.EACCES, "Permission denied", os.path.join(path, "x.bin"))
        return real(path, ignore_errors, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", rmtree)


def _left_behind(caplog: pytest.LogCaptureFixture, folder: Path) -> list[str]:
    """The warnings of `discard_folder` that name ``folder`` as left behind."""
    said = warnings_of(caplog, file_cleanup.__name__)
    return [line for line in said if line.startswith(f"cannot remove {folder} (")]


def _save_state(folder: str) -> None:
    """accelerate's ``save_state``, one file of it."""
    os.makedirs(folder)
    Path(folder, "model.safetensors").write_text("new", encoding="utf-8")


def _checkpoint(folder: Path, text: str) -> None:
    """A checkpoint ``folder`` holding one file reading ``text``."""
    folder.mkdir()
    (folder / "model.safetensors").write_text(text, encoding="utf-8")


def test_a_replaced_checkpoint_that_will_not_go_is_named(tmp_path, monkeypatch, caplog):
    _checkpoint(tmp_path / "step_5", "old")
    _stuck(monkeypatch, tmp_path / ".old-step_5")
    accelerator = SimpleNamespace(**vars(_ACCELERATOR), save_state=_save_state)
    with caplog.at_level(logging.WARNING):
        run_folder.save_checkpoint(accelerator, str(tmp_path), "step_5", {"completed_steps": 5})
    assert (tmp_path / "step_5" / "model.safetensors").read_text(encoding="utf-8") == "new"
    assert (tmp_path / ".old-step_5" / "model.safetensors").read_text(encoding="utf-8") == "old"
    assert len(_left_behind(caplog, tmp_path / ".old-step_5")) == 1
    assert "x.bin: Permission denied" in _left_behind(caplog, tmp_path / ".old-step_5")[0]


def test_an_earlier_runs_replaced_checkpoint_in_the_way_is_named_then_the_rename_fails(
    tmp_path, monkeypatch, caplog
):
    """It was deleted with ``ignore_errors``: the save failed with the rename's "Directory not
    empty" alone, which did not say why ``.old-step_5`` was still there."""
    _checkpoint(tmp_path / "step_5", "kept")
    _checkpoint(tmp_path / ".old-step_5", "a killed run's")
    _stuck(monkeypatch, tmp_path / ".old-step_5")
    accelerator = SimpleNamespace(**vars(_ACCELERATOR), save_state=_save_state)
    with caplog.at_level(logging.WARNING), pytest.raises(OSError) as failed:
        run_folder.save_checkpoint(accelerator, str(tmp_path), "step_5", {"completed_steps": 5})
    assert failed.value.errno in (errno.ENOTEMPTY, errno.EEXIST)  # the rename's own error
    assert failed.value.filename == str(tmp_path / "step_5")
    assert (tmp_path / "step_5" / "model.safetensors").read_text(encoding="utf-8") == "kept"
    assert _left_behind(caplog, tmp_path / ".old-step_5")


def _refused_save(folder: str, **kwargs) -> None:
    """A ``save_pretrained`` into a folder it may not write in, as a leftover staging folder
    that could not be deleted is."""
    raise PermissionError(errno.EACCES, "Permission denied", os.path.join(folder, "config.json"))


def _save_model(folder: Path) -> None:
    run_folder.save_model(SimpleNamespace(save_pretrained=_refused_save), str(folder),
                          _ACCELERATOR)  # fmt: skip


def _save_tokenizer(folder: Path) -> None:
    run_folder.save_tokenizer(SimpleNamespace(save_pretrained=_refused_save), str(folder))


@pytest.mark.parametrize(
    "save, staging", [(_save_model, ".tmp-model"), (_save_tokenizer, ".tmp-tokenizer")]
)
def test_a_killed_saves_staging_folder_that_will_not_go_is_named_before_the_saves_error(
    tmp_path, monkeypatch, caplog, save, staging
):
    (tmp_path / staging).mkdir()
    (tmp_path / staging / "x.bin").write_text("a killed save's", encoding="utf-8")
    _stuck(monkeypatch, tmp_path / staging)
    with caplog.at_level(logging.WARNING), pytest.raises(common.WriteError) as failed:
        save(tmp_path)
    assert str(failed.value) == f"cannot write {tmp_path / staging / 'config.json'}: " + (
        "Permission denied"
    )
    assert _left_behind(caplog, tmp_path / staging)


def test_a_published_staging_folder_that_will_not_go_is_named(tmp_path, monkeypatch, caplog):
    def save_pretrained(folder, **kwargs):
        os.makedirs(folder)
        Path(folder, "config.json").write_text("{}", encoding="utf-8")

    _stuck(monkeypatch, tmp_path / ".tmp-model")
    with caplog.at_level(logging.WARNING):
        run_folder.save_model(SimpleNamespace(save_pretrained=save_pretrained), str(tmp_path),
                              _ACCELERATOR)  # fmt: skip
    assert (tmp_path / "config.json").read_text(
        encoding="utf-8"
    ) == "{}"  # the save itself is whole
    assert os.listdir(tmp_path / ".tmp-model") == []
    assert _left_behind(caplog, tmp_path / ".tmp-model")
