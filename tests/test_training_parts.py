"""The parts of `training/` one at a time: the learning-rate schedule, the length-grouped
sampler, the NLL metrics, key augmentation, the Hub upload, the progress bar, saving a model,
gradient accumulation and the validation loss."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import TINY_MODEL_OVERRIDES, one_torch_thread  # noqa: F401
from helpers import training_argv as _argv

from training import common, data, hub, run_folder, run_resume
from training.train import main, parse_args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----- schedule, batching, metrics ---------------------------------------------------------------
def test_learning_rate_halves_every_step_size_updates():
    lr = [common.learning_rate_at(s, base_lr=3e-4) for s in (0, 9_999, 10_000, 20_000, 99_999)]
    assert lr == pytest.approx([3e-4, 3e-4, 1.5e-4, 7.5e-5, 3e-4 / 2**9])
    warm = [common.learning_rate_at(s, base_lr=1.0, warmup_steps=4) for s in range(5)]
    assert warm == [0.25, 0.5, 0.75, 1.0, 1.0]
    cos = [common.learning_rate_at(s, base_lr=1.0, scheduler_type="cosine", total_steps=10)
           for s in (0, 5, 10)]  # fmt: skip
    assert cos == pytest.approx([1.0, 0.5, 0.0])


def test_length_grouped_sampler_is_a_seeded_permutation():
    lengths = np.random.default_rng(0).integers(5, 500, size=103)
    sampler = data.LengthGroupedBatchSampler(lengths, 4, seed=3, mega_batch_mult=5)
    epoch0 = list(sampler)
    assert sorted(i for b in epoch0 for i in b) == list(range(103))
    assert [len(b) for b in epoch0] == [4] * 25 + [3] and len(sampler) == 26
    assert list(sampler) == epoch0  # same (seed, epoch), same order
    sampler.set_epoch(1)
    assert list(sampler) != epoch0
    # Inside a batch lengths come from one sorted mega-batch: far less spread than random batches.
    spread = np.mean([np.ptp(lengths[b]) for b in epoch0[:-1]])
    assert spread < 0.5 * np.mean([np.ptp(lengths[i : i + 4]) for i in range(0, 100, 4)])


@pytest.mark.parametrize(("tunes", "processes"), [(103, 2), (130, 2), (101, 3), (9, 2)])
def test_length_grouped_sampler_gives_each_process_whole_rounds_without_repeats(tunes, processes):
    """Sharded as accelerate shards it (batch i to process i % n): every tune once in an
    epoch, and every process as many batches. A short last round used to be filled by
    accelerate with batches from the start of the epoch, trained on twice."""
    from accelerate.data_loader import BatchSamplerShard

    lengths = np.random.default_rng(tunes).integers(5, 500, size=tunes)

    def shards(sampler):
        return [list(BatchSamplerShard(sampler, processes, rank)) for rank in range(processes)]

    sampler = data.LengthGroupedBatchSampler(lengths, 8, seed=1, num_processes=processes)
    per_rank = shards(sampler)
    assert len({len(batches) for batches in per_rank}) == 1
    assert len(per_rank[0]) == len(BatchSamplerShard(sampler, processes, 0))
    assert sorted(i for batches in per_rank for b in batches for i in b) == list(range(tunes))
    plain = shards(data.LengthGroupedBatchSampler(lengths, 8, seed=1))  # what it did before
    seen = sum(len(b) for batches in plain for b in batches)
    assert seen > tunes or -(-tunes // 8) % processes == 0


def test_nll_metrics_of_uniform_scores_are_log_vocab_sizes():
    # 2 tunes, 4 rows: targets are the labels of rows 1..3; dur only where it is not a special.
    labels = torch.tensor([
        [[-100, -100], [7, 5], [8, 0], [2, 0]],  # main: 3 targets; dur: 1 (0 is <pad>)
        [[-100, -100], [9, 6], [-100, -100], [-100, -100]],  # padded after row 1: 1 and 1
    ])  # fmt: skip
    sums = common.per_tune_nll(torch.zeros(2, 4, 10), torch.zeros(2, 4, 8), labels)
    assert sums[:, 1].tolist() == [3, 1] and sums[:, 3].tolist() == [1, 1]
    metrics = common.summarise_nll(sums)
    assert metrics["nll_main"] == pytest.approx(math.log(10))
    assert metrics["nll_dur"] == pytest.approx(math.log(8))
    assert metrics["nll"] == pytest.approx((4 * math.log(10) + 2 * math.log(8)) / 4)
    assert metrics["perplexity"] == pytest.approx(10 * 8**0.5)


# ----- key augmentation --------------------------------------------------------------------------
def test_key_augmentation_moves_notes_and_key_together(tunebook):
    from tokenization.tokenization_abc import AbcTokenizer
    from tokenization.vocabulary import AbcVocab

    text = Path(tunebook).read_text(encoding="utf-8").split("\n\n")[0]  # X:1, K:G
    tokenizer = AbcTokenizer.train([text])
    vocab: AbcVocab = tokenizer.abc_vocab
    ids = tokenizer.encode_tune(text).input_ids
    aug = data.KeyAugmenter(vocab, shifts=(-3, 2, 60))
    up = aug.transpose(ids, 2)
    col = {name: i for i, name in enumerate(vocab.values)}

    def column(a, name):
        return [vocab.token(name, int(i)) for i in a[:, col[name]]]

    notes = [v.startswith("pitch") for v in column(ids, "main")]
    before = [int(v[5:]) for v, n in zip(column(ids, "main"), notes) if n]
    after = [int(v[5:]) for v, n in zip(column(up, "main"), notes) if n]
    assert after == [p + 2 for p in before]
    assert [int(v) for v, n in zip(column(up, "pitch_class"), notes) if n] == [
        p % 12 for p in after
    ]
    assert [int(v) for v, n in zip(column(up, "octave"), notes) if n] == [p // 12 for p in after]
    # The tune is normalised to C major; +2 is D major (2 sharps), -3 is A major (3 sharps).
    assert set(column(up, "key")) == {"D major"} and set(column(up, "root")) == {"D"}
    assert set(column(up, "key_sig")) == {"2"}
    down = aug.transpose(ids, -3)
    assert set(column(down, "key")) == {"A major"} and set(column(down, "key_sig")) == {"3"}
    unchanged = [i for i, name in enumerate(vocab.values) if name not in
                 ("main", "pitch_class", "octave", "key", "root", "key_sig")]  # fmt: skip
    assert np.array_equal(up[:, unchanged], ids[:, unchanged])
    assert aug.transpose(ids, 60) is None  # leaves the pitch vocabulary
    # a tune whose lowest note is a C (octave 5 starts there) can still go down: the octave
    # vocabulary covers the pitches kept for augmentation below the training ones
    low = "X:1\nT:Low\nM:4/4\nL:1/8\nK:C\nCDEF GABc|cBAG FEDC|]\n"
    low_tok = AbcTokenizer.train([low])
    low_ids = low_tok.encode_tune(low).input_ids
    low_aug = data.KeyAugmenter(low_tok.abc_vocab)
    assert all(low_aug.transpose(low_ids, shift) is not None for shift in range(-5, 7))
    only_bad = data.KeyAugmenter(vocab, shifts=(60,))
    assert np.array_equal(only_bad(ids, np.random.default_rng(0)), ids)


def test_push_to_hub_fails_fast_offline(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        hub.push_to_hub(str(tmp_path), "someone/model")


@pytest.fixture
def fake_hub(monkeypatch) -> list[dict]:
    """The Hub replaced by a stand-in that records each `upload_folder` call's arguments."""
    import huggingface_hub

    uploads: list[dict] = []

    class FakeApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, exist_ok=False):
            pass

        def upload_folder(self, **kwargs):
            uploads.append(kwargs)
            return "https://hub/commit"

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: None)
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    return uploads


def test_push_to_hub_leaves_the_retrieval_evaluation_tunes_out(fake_hub, tmp_path):
    uploads = fake_hub
    assert hub.push_to_hub(str(tmp_path), "someone/model") == "https://hub/commit"
    assert {"retrieval_eval/*", "step_*"} <= set(uploads[0]["ignore_patterns"])


def test_the_hub_token_reaches_no_file_of_the_run_nor_the_upload(
    tunebook, cache_dir, tmp_path, fake_hub
):
    """The trackers were given every scalar flag, the token included (TensorBoard wrote it to
    hparams.yml and its event file), and the upload left their folder in."""
    from huggingface_hub.utils import filter_repo_objects

    out = tmp_path / "run"
    secret = "hf_NotARealSecret123"
    main(_argv(tunebook, cache_dir, out, "--max_train_steps", "1", "--checkpointing_steps", "1",
               "--with_tracking", "--hub_token", secret))  # fmt: skip
    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    assert any("tfevents" in name for name in files)
    assert not [name for name in files if secret.encode() in (out / name).read_bytes()]

    uploads = fake_hub
    hub.push_to_hub(str(out), "someone/model", token=secret)
    sent = list(filter_repo_objects(files, ignore_patterns=uploads[0]["ignore_patterns"]))
    assert "model.safetensors" in sent
    assert not [name for name in sent if name.startswith(("measurenote/", "step_"))], sent


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_a_failed_upload_at_the_end_says_where_the_model_is_in_one_line(
    tunebook, cache_dir, tmp_path, monkeypatch, capsys, task
):
    """An HTTP error of the Hub at the final upload ended the run in the Hub client's traceback."""
    from types import SimpleNamespace

    import huggingface_hub
    from huggingface_hub.errors import HfHubHTTPError

    from training import train

    class RefusingApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, exist_ok=False):
            pass

        def upload_folder(self, **kwargs):
            response = SimpleNamespace(headers={}, request=None, status_code=403)
            raise HfHubHTTPError("403 Forbidden: no write access\nRequest ID: x", response=response)

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: None)
    monkeypatch.setattr(huggingface_hub, "HfApi", RefusingApi)
    out = tmp_path / "run"
    argv = _argv(tunebook, cache_dir, out, "--task", task, "--max_train_steps", "1",
                 "--push_to_hub", "--hub_model_id", "someone/model")  # fmt: skip
    if task == "tune_title":
        argv += ["--title_encoder", "char_gru", "--projection_dim", "16", "--crop_notes", "8"]
    capsys.readouterr()
    assert train.cli(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and (out / "model.safetensors").is_file()
    line = next(line for line in err.splitlines() if "upload" in line)
    assert line.startswith("train.py: error: --push_to_hub: the upload to someone/model failed")
    assert "403 Forbidden: no write access)" in line and f"the model is saved in {out}" in line
    assert f"`hf upload someone/model {out} --exclude 'step_*'" in line


def test_a_hub_model_id_refused_at_the_upload_says_so_in_one_line(monkeypatch, tmp_path):
    """A name the Hub client refuses (`HFValidationError`) that reaches `push_run` (`parse_args`
    refuses it up front; a caller may build its arguments without it) ended the run in the
    client's traceback."""
    from types import SimpleNamespace

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: None)
    args = SimpleNamespace(push_to_hub=True, hub_model_id="my model/irish tunes",
                           hub_token=None, output_dir=str(tmp_path))  # fmt: skip
    accelerator = SimpleNamespace(is_main_process=True)
    with pytest.raises(common.UploadError) as refused:  # create_repo checks the name, offline
        hub.push_run(args, accelerator)
    message = str(refused.value)
    assert "\n" not in message and "HFValidationError: Repo id must use alphanumeric" in message
    assert message.startswith("--push_to_hub: the upload to my model/irish tunes failed")


def test_push_to_hub_checks_the_token_before_anything_is_trained(monkeypatch, tmp_path):
    # a stand-in Hub on this machine that refuses every token, as the real one refuses a bad one
    import http.server
    import threading

    from huggingface_hub import constants

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server hook)
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": "Invalid credentials in Authorization header"}')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(RuntimeError, match="refused the token"):
            hub.check_hub_reachable("hf_not_a_real_token")
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
        monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))
        with pytest.raises(RuntimeError, match="no Hub token"):
            hub.check_hub_reachable(None)
    finally:
        server.shutdown()


def test_the_hub_check_goes_through_the_proxy_the_hub_client_uses(monkeypatch):
    """The check opened a raw TCP connection to the endpoint, which ignores HTTP(S)_PROXY: on a
    network that reaches the Hub only through a proxy it refused a run the upload would take.
    Here the endpoint's name does not resolve and a stand-in proxy on this machine answers."""
    import http.server
    import threading

    from huggingface_hub import constants
    from huggingface_hub.utils import _http

    asked = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server hook)
            asked.append(self.path)  # a proxy is sent the absolute URL
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"name": "someone", "type": "user"}')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name in ("http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setattr(_http, "_GLOBAL_CLIENT", None)  # a client that reads the proxy setting
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://hub.invalid")
    try:
        hub.check_hub_reachable("hf_token")
        # the Hub client may also fetch its own registries once a day (agent-harnesses): what
        # matters is that the check's request, like every request, went through the proxy
        assert "http://hub.invalid/api/whoami-v2" in asked
        assert all(path.startswith("http://hub.invalid/") for path in asked)
    finally:
        server.shutdown()
        _http.close_session()


def test_an_unreachable_hub_is_refused_in_one_line(monkeypatch):
    import socket

    from huggingface_hub import constants
    from huggingface_hub.utils import _http

    with socket.socket() as s:  # a port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(_http, "_GLOBAL_CLIENT", None)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(RuntimeError, match="cannot reach http://127.0.0.1") as refused:
            hub.check_hub_reachable("hf_token")
    finally:
        _http.close_session()
    assert "\n" not in str(refused.value) and "drop --push_to_hub" in str(refused.value)


@pytest.mark.parametrize("task", ["measurenote", "tune_title"])
def test_either_task_refuses_to_push_offline_before_training(monkeypatch, tmp_path, task):
    from huggingface_hub import constants

    from training import train

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    read = []
    monkeypatch.setattr(train, "run_measurenote", lambda *a: read.append("trained"))
    monkeypatch.setattr(train, "run_tune_title", lambda *a: read.append("trained"))
    argv = ["--task", task, "--push_to_hub", "--hub_model_id", "someone/model"]
    with pytest.raises(train.UsageError, match="HF_HUB_OFFLINE"):  # one line, exit status 2
        train.main([*argv, "--output_dir", str(tmp_path / "out")])
    assert read == []


def test_every_process_refuses_to_push_offline_with_the_main_process_answer(monkeypatch):
    """Only the main process asked the Hub and raised: the others went on into their first
    barrier and died there with a gloo traceback. Here the second of two processes, which gets
    the main process's answer (`broadcast_object_list`) and does not ask the Hub itself."""
    from types import SimpleNamespace

    import accelerate.utils

    def main_process_answer(objects, from_process=0):
        objects[0] = "--push_to_hub: HF_HUB_OFFLINE is set, so nothing can be uploaded"

    def ask_hub(token):
        raise AssertionError("a process other than the main one asked the Hub")

    monkeypatch.setattr(accelerate.utils, "broadcast_object_list", main_process_answer)
    monkeypatch.setattr(hub, "check_hub_reachable", ask_hub)
    args = SimpleNamespace(push_to_hub=True, hub_token=None)
    with pytest.raises(common.UsageError, match="HF_HUB_OFFLINE is set"):
        hub.check_hub_before_training(args, SimpleNamespace(is_main_process=False))


def test_a_run_pushed_to_the_hub_resumes_offline_and_pushes_only_when_asked_again(
    monkeypatch, tmp_path, tunebook
):
    """--push_to_hub was recorded in checkpoints and taken on resuming, so a run started with it
    could not be resumed offline ("--push_to_hub: HF_HUB_OFFLINE is set"), nor without
    uploading: the flag could not be turned off."""
    from huggingface_hub import constants

    from training import train

    out = tmp_path / "run"
    args = parse_args(["--corpus", tunebook, "--output_dir", str(out), "--push_to_hub",
                       "--hub_model_id", "someone/model"])  # fmt: skip
    assert "push_to_hub" not in run_folder.recorded_flags(args)
    (out / "step_2").mkdir(parents=True)
    state = {"completed_steps": 2, "run": run_folder.run_flags(args)}
    state["args"] = {**run_folder.recorded_flags(args), "push_to_hub": True}  # as recorded before
    common.write_json(str(out / "step_2" / run_folder.TRAINING_STATE_FILE), state)

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(train, "run_measurenote", lambda args, accelerator: {"pushed": args})
    resume = ["--output_dir", str(out), "--resume_from_checkpoint"]
    resumed = train.main(resume)["pushed"]
    assert not resumed.push_to_hub and resumed.hub_model_id == "someone/model"
    with pytest.raises(train.UsageError, match="HF_HUB_OFFLINE"):  # asked again: still refused
        train.main([*resume, "--push_to_hub"])


def test_progress_bar_shows_the_minutes_left_of_a_time_budget():
    from training.common import TrainingProgress

    timed = TrainingProgress(total=10**9, initial=5, max_minutes=30, enabled=True)
    now = [timed.start + 600.0]  # ten minutes in
    timed._clock = lambda: now[0]
    timed.update(loss=2.5)
    assert timed.bar.n == 6 and "loss=2.500" in timed.bar.postfix
    assert "min_left=20.0" in timed.bar.postfix
    assert timed.bar.total == 8  # 1 update in 10 min, 20 min left: 2 more, not 10**9
    now[0] += 600.0  # ten more minutes, of which six evaluating: they do not count
    timed.update(paused_seconds=360.0)
    assert "min_left=16.0" in timed.bar.postfix and "loss" not in timed.bar.postfix
    assert timed.bar.total == 9  # 7 + 16 min x 2 updates / 14 min
    now[0] += 3600.0
    timed.update()
    assert "min_left=0.0" in timed.bar.postfix and timed.bar.total == timed.bar.n == 8
    timed.close()
    capped = TrainingProgress(total=7, initial=0, max_minutes=30, enabled=True)
    capped._clock = lambda: capped.start + 60.0
    capped.update()
    assert capped.bar.total == 7  # the step cap comes first
    capped.close()
    plain = TrainingProgress(total=10, initial=0, max_minutes=None, enabled=True)
    plain.update()
    assert plain.bar.n == 1 and not plain.bar.postfix and plain.bar.total == 10
    plain.close()


def test_steps_and_epochs_budget_whichever_comes_first():
    from types import SimpleNamespace

    loader = list(range(10))  # 10 batches an epoch
    for steps, epochs, expected in ((0, 2, (20, 2)), (300, 2, (20, 2)), (15, 5, (15, 2))):
        args = SimpleNamespace(
            max_train_steps=steps, num_train_epochs=epochs, gradient_accumulation_steps=1,
            with_tracking=False,
        )  # fmt: skip
        common.recompute_steps_and_start_tracking(args, None, loader, "x")
        assert (args.max_train_steps, args.num_train_epochs) == expected


def test_resume_drops_log_records_after_the_checkpoint(tmp_path):
    from training.run_log import _trim_log

    log = tmp_path / "train_log.jsonl"
    log.write_text("".join(json.dumps({"step": n, "train_loss": 1.0}) + "\n" for n in range(1, 8)))
    _trim_log(str(log), 4)
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4]


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
        Path(folder, "title_tokenizer", "vocab.txt").write_text(f"save {len(saved)}")
        saved.append(folder)

    saved = []
    model = SimpleNamespace(save_pretrained=save_pretrained)
    accelerator = SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None,
                                  save=torch.save)  # fmt: skip
    for _ in range(2):
        run_folder.save_model(model, str(tmp_path), accelerator)
    assert (tmp_path / "title_tokenizer" / "vocab.txt").read_text() == "save 1"


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
        "random_states_0.pkl", "random_states_1.pkl", "training_state.json"
    ]  # fmt: skip
    assert not (tmp_path / ".tmp-step_5").exists()


def test_save_model_leaves_no_staging_folder_of_a_late_process(tmp_path):
    from types import SimpleNamespace

    accelerator = _SlowSecondProcess()

    def save_pretrained(folder, **kwargs):
        os.makedirs(folder, exist_ok=True)
        Path(folder, "config.json").write_text("{}")
        accelerator.late.append(lambda: os.makedirs(folder, exist_ok=True))  # the second's

    run_folder.save_model(SimpleNamespace(save_pretrained=save_pretrained), str(tmp_path),
                          accelerator)  # fmt: skip
    assert (tmp_path / "config.json").is_file() and not (tmp_path / ".tmp-model").exists()


def _checkpoint(folder: Path, steps: int, processes: tuple[int, ...]) -> Path:
    """A ``step_N`` of a two-process run holding the random states of ``processes`` only."""
    folder.mkdir(parents=True)
    state = {"completed_steps": steps, "num_processes": 2}
    (folder / run_folder.TRAINING_STATE_FILE).write_text(json.dumps(state))
    for i in processes:
        (folder / f"random_states_{i}.pkl").write_bytes(b"")
    return folder


def test_a_checkpoint_without_a_process_random_state_is_refused_by_name(tmp_path):
    """It resumed with a fresh random state in that process (accelerate's "Could not load
    random states", an info line of the main process only) and ended with other weights."""
    from types import SimpleNamespace

    _checkpoint(tmp_path / "step_5", 5, (0, 1))
    _checkpoint(tmp_path / "step_10", 10, (0,))
    args = SimpleNamespace(resume_from_checkpoint="latest", output_dir=str(tmp_path))

    def load_state(path):
        raise AssertionError(f"{path} was loaded")

    accelerator = SimpleNamespace(num_processes=2, print=print, load_state=load_state)
    with pytest.raises(common.UsageError) as refused:
        run_folder.resume_state(args, accelerator)
    message = str(refused.value)
    assert f"{tmp_path / 'step_10'} lacks random_states_1.pkl" in message
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


def test_a_cached_tokenizer_folder_without_its_vocabulary_is_built_again(tmp_path):
    from datasets import Dataset

    from training.data import load_or_train_tokenizer

    split = Dataset.from_dict({"abc": ["X:1\nT:a\nM:2/4\nL:1/8\nK:G\nGA Bd|ef ge|\n"]})
    first = load_or_train_tokenizer(split, str(tmp_path))
    (folder,) = tmp_path.glob("abc-tokenizer-*")
    (folder / "abc_vocab.json").unlink()  # a run killed while writing it
    again = load_or_train_tokenizer(split, str(tmp_path))
    assert again == first and (folder / "abc_vocab.json").is_file()


def test_the_data_fingerprint_hashes_the_rows_of_a_selected_split_in_their_order():
    """`data_fingerprint` reads whole columns from the Arrow table (for speed): it must hash
    the rows a `select`/`shuffle` keeps, in that order, not those of the table beneath."""
    import hashlib

    from datasets import Dataset

    from tokenization.tokenization_abc import AbcTokenizer

    texts = [f"X:{i}\nT:t{i}\nM:2/4\nL:1/8\nK:G\nGA B{'cd'[i % 2]}|\n" for i in range(4)]
    tunes = Dataset.from_dict({"tune_id": [f"s:{i}" for i in range(4)], "abc": texts})
    tokenizer = AbcTokenizer.train(texts)
    picked = tunes.select([3, 1])
    digest = hashlib.sha256(b"".join(f"s:{i}\x00{texts[i]}\x00".encode() for i in (3, 1)))
    got = data.data_fingerprint({"train": picked, "whole": tunes}, tokenizer)["splits"]
    assert got["train"] == {"tunes": 2, "sha256": digest.hexdigest()[:16]}
    shuffled = data.data_fingerprint({"train": tunes.shuffle(seed=0)}, tokenizer)["splits"]
    assert shuffled["train"]["sha256"] != got["whole"]["sha256"]  # the order is hashed


def test_an_accumulated_update_is_that_of_one_batch_of_all_its_tunes():
    # the gradient of two accumulated batches of two tunes each equals the gradient of one batch
    # of the four, although their lengths differ a lot (each batch's mean would weigh a short
    # tune's targets several times a long one's)
    from accelerate import Accelerator
    from helpers import tiny_measurenote_config

    from modeling_irish import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer
    from training.train import _accumulate

    body = "DFAd fdAF|GBdg fdAF|"
    tunes = [f"X:{n}\nT:t{n}\nM:4/4\nL:1/8\nK:D\n{body * reps}]\n" for n, reps in
             enumerate((1, 12, 2, 9))]  # fmt: skip
    tok = AbcTokenizer.train(tunes)
    torch.manual_seed(0)
    model = MeasureNoteForCausalLM(tiny_measurenote_config(vocab_sizes=tok.abc_vocab.sizes))
    model.eval()  # no dropout: the same forward both ways
    rows = [{k: v[0] for k, v in tok(t).items() if k in ("input_ids", "measure_numbers")}
            for t in tunes]  # fmt: skip
    collate = AbcDataCollator()

    def grads():
        out = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        return out

    one = model(**collate(rows))
    one.loss.backward()
    whole = grads()
    accelerator = Accelerator(gradient_accumulation_steps=2, cpu=True)
    parts = list(_accumulate(accelerator, model, [collate(rows[:2]), collate(rows[2:])]))
    for a, b in zip(grads(), whole):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)
    # and the losses it logs are that batch's too (each batch's own mean was logged, averaged)
    logged = sum(part for part, _ in parts).tolist()
    assert logged == pytest.approx([one.loss.item(), one.loss_main.item(), one.loss_dur.item()])
    # a short last group (one batch where two make an update) is that batch's own update
    model(**collate(rows[:2])).loss.backward()
    alone = grads()
    list(_accumulate(accelerator, model, [collate(rows[:2])]))
    for a, b in zip(grads(), alone):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)


def test_the_training_step_and_validation_read_a_model_configured_to_return_tuples(tunebook):
    """A model whose config says `return_dict=False` (as a folder saved that way loads) made the
    validation and the training step read attributes of a tuple."""
    from accelerate import Accelerator
    from helpers import tiny_measurenote_config

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer
    from training.train import _accumulate

    texts = Path(tunebook).read_text(encoding="utf-8").split("\n\n")[:4]
    tok = AbcTokenizer.train(texts)
    config = tiny_measurenote_config(vocab_sizes=tok.abc_vocab.sizes, return_dict=False)
    model = MeasureNoteForCausalLM(config)
    batch = AbcDataCollator()([tok(t) for t in texts])
    accelerator = Accelerator(cpu=True)
    metrics = common.evaluate_lm(model, [batch], accelerator, [0, 1, 2])
    assert math.isfinite(metrics["nll"]) and metrics["nll"] > 0
    ((part, _),) = list(_accumulate(accelerator, model, [batch]))
    assert all(math.isfinite(value) for value in part.tolist())
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_the_validation_loss_weighs_durations_as_the_training_loss_does(tunebook):
    # eval_loss was nll_main + nll_dur whatever dur_loss_weight, so with a weight of 0.5 it was
    # on another scale than train_loss
    from accelerate import Accelerator
    from helpers import tiny_measurenote_config

    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer

    texts = Path(tunebook).read_text(encoding="utf-8").split("\n\n")[:4]
    tok = AbcTokenizer.train(texts)
    torch.manual_seed(0)
    config = tiny_measurenote_config(vocab_sizes=tok.abc_vocab.sizes, dur_loss_weight=0.5)
    model = MeasureNoteForCausalLM(config).eval()
    batch = AbcDataCollator()([tok(t) for t in texts])
    metrics = common.evaluate_lm(model, [batch], Accelerator(cpu=True), [0, 1, 2])
    with torch.no_grad():
        out = model(**batch)
    assert metrics["loss"] == pytest.approx(out.loss.item(), rel=1e-5)
    assert metrics["loss"] == pytest.approx(metrics["nll_main"] + 0.5 * metrics["nll_dur"])


def test_a_changed_default_corpus_is_named_as_the_default_books_not_none():
    """The backbone-split warning and resume refusals show what the user gave: no --corpus is
    the default books, not Python's None."""
    import argparse

    from training.run_folder import run_flag_changes

    now = argparse.Namespace(task="tune_title", corpus=["/data/thesession-c.abc"])
    (change,) = run_flag_changes({"corpus": None}, now)
    assert change == (
        "--corpus the default (music21's oneills1850, ryansMammoth) "
        "(now ['/data/thesession-c.abc'])"
    )
