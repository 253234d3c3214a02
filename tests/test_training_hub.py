"""The Hub upload of `training/`: offline and unreachable Hubs refused before training, the
token kept out of the run and the upload, failed uploads reported in one line."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from helpers import (
    one_torch_thread,  # noqa: F401
    write_checkpoint,
)
from helpers import training_argv as _argv

from training import common, hub, run_folder
from training.train import main, parse_args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_push_to_hub_fails_fast_offline(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        hub.push_to_hub(str(tmp_path), "someone/model")


@pytest.fixture
def fake_hub(monkeypatch) -> SimpleNamespace:
    """The Hub replaced by a stand-in that records each commit: its ``files`` added (sorted), the
    files it ``deleted`` and its other arguments. The repository holds the files of ``held``
    (what ``list_repo_files`` answers); with ``refuse`` set, a commit fails (HTTP 500) and
    changes nothing."""
    import huggingface_hub
    from huggingface_hub import CommitOperationDelete
    from huggingface_hub.errors import HfHubHTTPError

    fake = SimpleNamespace(commits=[], held=[], refuse=False)

    class FakeApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, exist_ok=False):  # a bare name: in the token's namespace
            return SimpleNamespace(repo_id=repo_id if "/" in repo_id else f"someone/{repo_id}")

        def list_repo_files(self, repo_id, **kwargs):
            return sorted(fake.held)

        def create_commit(self, repo_id, operations, **kwargs):
            if fake.refuse:
                response = SimpleNamespace(headers={}, request=None, status_code=500)
                raise HfHubHTTPError("500 Server Error\nRequest ID: x", response=response)
            deletes = [op for op in operations if isinstance(op, CommitOperationDelete)]
            files = sorted(op.path_in_repo for op in operations if op not in deletes)
            deleted = sorted(op.path_in_repo for op in deletes)
            fake.commits.append({"repo_id": repo_id, "files": files, "deleted": deleted, **kwargs})
            fake.held = sorted({*fake.held, *files} - set(deleted))
            return "https://hub/commit"

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: None)
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    return fake


def test_push_to_hub_leaves_the_retrieval_evaluation_tunes_out(fake_hub, tmp_path):
    for name in ("model.safetensors", "retrieval_eval/tunes.abc", "step_2/model.safetensors"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert hub.push_to_hub(str(tmp_path), "someone/model") == "https://hub/commit"
    assert [c["files"] for c in fake_hub.commits] == [["model.safetensors"]]


@pytest.mark.parametrize("terminal", [False, True])
def test_the_upload_bars_are_off_only_off_a_terminal_and_restored_after(
    fake_hub, tmp_path, monkeypatch, terminal
):
    """huggingface_hub's upload bars of --push_to_hub redrew into ``2>train.log``: the saves'
    were terminal-only (`save_bars_on_terminal_only`), the upload was not."""
    from huggingface_hub.utils import are_progress_bars_disabled
    from transformers.utils import logging as hf_logging

    monkeypatch.setattr(common, "_stderr_is_terminal", lambda: terminal)
    before = (hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled())
    if before != (True, False):
        pytest.skip("progress bars turned off in the environment (HF_HUB_DISABLE_PROGRESS_BARS)")
    import huggingface_hub

    inside = []

    class WatchedApi(huggingface_hub.HfApi):  # the fixture's stand-in
        def create_commit(self, repo_id, operations, **kwargs):
            inside.append((hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled()))
            return super().create_commit(repo_id, operations, **kwargs)

    monkeypatch.setattr(huggingface_hub, "HfApi", WatchedApi)
    (tmp_path / "model.safetensors").write_text("x", encoding="utf-8")
    hub.push_to_hub(str(tmp_path), "someone/model")
    assert inside == [before if terminal else (False, True)]
    assert (hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled()) == before
    assert len(fake_hub.commits) == 1


def test_a_bare_hub_model_id_is_pushed_to_the_tokens_namespace(fake_hub, tmp_path):
    """A --hub_model_id without a user (transformers' "simple model id"): create_repo made
    ``someone/model`` but the commit went to the bare ``model``, which fails after the run."""
    (tmp_path / "model.safetensors").write_text("x", encoding="utf-8")
    hub.push_to_hub(str(tmp_path), "model")
    assert [(c["repo_id"], c["files"]) for c in fake_hub.commits] == [
        ("someone/model", ["model.safetensors"])
    ]


def _char_gru_run_over_a_minilm_run(out, push_to_hub: bool = False):
    """``out`` after a MiniLM run (LICENSE, NOTICE, title_tokenizer/vocab.txt and a model) and a
    char-GRU run started over it, which deleted those and wrote its own model; its arguments
    and accelerator (main process) for `push_run`."""
    from accelerate import PartialState

    PartialState()  # the run folder's messages go through accelerate's logger
    (out / "title_tokenizer").mkdir(parents=True)
    for name in ("LICENSE", "NOTICE", "model.safetensors", "title_tokenizer/vocab.txt"):
        (out / name).write_text("MiniLM run", encoding="utf-8")
    run_folder.record_run_files(str(out), ["LICENSE", "NOTICE", "model.safetensors",
                                           "title_tokenizer"])  # fmt: skip
    args = SimpleNamespace(output_dir=str(out), resume_from_checkpoint=None, task="tune_title",
                           overwrite_output_dir=False, with_tracking=False, push_to_hub=push_to_hub,
                           hub_model_id="someone/model", hub_token=None)  # fmt: skip
    accelerator = SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None,
                                  print=lambda *a: None)  # fmt: skip
    run_folder.start_run_folder(args, accelerator)  # the char-GRU run: the earlier one cleared
    run_folder.record_run_files(str(out), ["model.safetensors"])
    (out / "model.safetensors").write_text("char-GRU run", encoding="utf-8")
    return args, accelerator


def test_a_run_pushed_over_an_earlier_one_deletes_its_stale_files_in_the_same_commit(
    fake_hub, tmp_path
):
    """upload_folder only adds files: a char-GRU run in a folder that a MiniLM run had pushed
    left that run's LICENSE, NOTICE and title_tokenizer/ on the Hub, then deleted them in a
    second commit, which could fail after the upload (a new model beside an Apache LICENSE).
    One commit now uploads the run and deletes those the run removed, not files it wrote
    again, a checkpoint or the user's own files there."""
    out = tmp_path / "run"
    _char_gru_run_over_a_minilm_run(out)
    earlier = ["LICENSE", "NOTICE", "model.safetensors", "title_tokenizer/vocab.txt"]
    others = ["title_tokenizer/merges.txt", "user_notes.md", "step_2/model.safetensors"]
    fake_hub.held = [*earlier, *others]
    hub.push_to_hub(str(out), "someone/model")
    assert [(c["files"], c["deleted"]) for c in fake_hub.commits] == [
        (["model.safetensors"], ["LICENSE", "NOTICE", "title_tokenizer/vocab.txt"])
    ]
    assert run_folder.removed_run_files(str(out)) == []  # deleted: not asked again
    hub.push_to_hub(str(out), "someone/model")
    assert len(fake_hub.commits) == 2 and fake_hub.commits[1]["deleted"] == []


def test_a_failed_commit_changes_nothing_and_the_next_upload_deletes_the_stale_files(
    fake_hub, tmp_path
):
    """The upload succeeded and the second commit, deleting an earlier run's files, failed: the
    repository held the new model and the old LICENSE. Now a failed commit changes nothing,
    the error says so with the command that uploads and deletes in one commit, and the
    folder keeps its record of the removed files, so that the next upload deletes them."""
    out = tmp_path / "run"
    args, accelerator = _char_gru_run_over_a_minilm_run(out, push_to_hub=True)
    fake_hub.held = ["LICENSE", "NOTICE", "config.json"]
    fake_hub.refuse = True
    with pytest.raises(common.UploadError) as refused:
        hub.push_run(args, accelerator)
    message = str(refused.value)
    assert "\n" not in message and fake_hub.held == ["LICENSE", "NOTICE", "config.json"]
    assert message.startswith("--push_to_hub: the upload to someone/model failed (HfHubHTTPError")
    assert f"nothing of the run is on the Hub and the model is saved in {out}" in message
    assert message.endswith(" --delete LICENSE --delete NOTICE --delete title_tokenizer/vocab.txt`")
    assert run_folder.removed_run_files(str(out)) == [
        "LICENSE", "NOTICE", "title_tokenizer/vocab.txt"
    ]  # fmt: skip
    fake_hub.refuse = False
    hub.push_run(args, accelerator)  # the next upload: the model in, the stale files out at once
    assert fake_hub.commits[0]["deleted"] == ["LICENSE", "NOTICE"]
    assert fake_hub.held == ["config.json", "model.safetensors"]
    assert run_folder.removed_run_files(str(out)) == []


def test_the_delete_patterns_of_the_upload_command_match_their_names_only():
    """`hf upload --delete` takes glob patterns: a removed file named with ``*`` or ``[`` must not
    delete the repository's other files."""
    from huggingface_hub.utils import filter_repo_objects

    held = ["a*[1].txt", "ab[1].txt", "a1.txt", "a*1.txt", "a?.md", "ab.md", "LICENSE"]
    for name in ("a*[1].txt", "a?.md", "LICENSE"):
        pattern = hub.exact_pattern(name)
        assert list(filter_repo_objects(held, allow_patterns=[pattern])) == [name]


def test_the_hub_token_reaches_no_file_of_the_run_nor_the_upload(
    tunebook, cache_dir, tmp_path, fake_hub
):
    """The trackers were given every scalar flag, the token included (TensorBoard wrote it to
    hparams.yml and its event file), and the upload left their folder in."""
    out = tmp_path / "run"
    secret = "hf_NotARealSecret123"
    main(_argv(tunebook, cache_dir, out, "--max_train_steps", "1", "--checkpointing_steps", "1",
               "--with_tracking", "--hub_token", secret))  # fmt: skip
    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    assert any("tfevents" in name for name in files)
    assert not [name for name in files if secret.encode() in (out / name).read_bytes()]

    hub.push_to_hub(str(out), "someone/model", token=secret)
    sent = fake_hub.commits[0]["files"]
    assert "model.safetensors" in sent and set(sent) <= set(files)
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
            return SimpleNamespace(repo_id=repo_id)

        def create_commit(self, **kwargs):
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


def test_a_local_file_error_after_the_commit_is_no_failed_upload(fake_hub, tmp_path, monkeypatch):
    """The folder's record of removed files, emptied once the commit is made, could not be
    written (permission denied): push_run said the upload failed and "nothing of the run is on
    the Hub", with a command to upload it again, though the commit was made. A local file's
    error is now its own, naming the file."""
    out = tmp_path / "run"
    args, accelerator = _char_gru_run_over_a_minilm_run(out, push_to_hub=True)
    record = str(out / "run_files.json")

    def refused(output_dir):
        raise PermissionError(13, "Permission denied", record)

    monkeypatch.setattr(hub, "forget_removed_files", refused)
    with pytest.raises(PermissionError) as failed:
        hub.push_run(args, accelerator)
    assert not isinstance(failed.value, common.UploadError) and failed.value.filename == record
    assert [c["files"] for c in fake_hub.commits] == [["model.safetensors"]]  # uploaded


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


def test_an_upload_without_network_says_where_the_model_is_in_one_line(monkeypatch, tmp_path):
    """No network at the final upload: the Hub client's connection error (of its HTTP library,
    httpx2 in huggingface_hub 2.x, requests before: no `HfHubHTTPError`, and not always an
    `OSError`) is the one line of a failed upload, naming the repository, the saved folder and
    the command that uploads it later, not the client's traceback."""
    import sys

    import huggingface_hub
    from huggingface_hub.utils import get_session

    http = sys.modules[type(get_session()).__module__.split(".")[0]]  # the client's library

    class Unreachable:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, exist_ok=False):
            raise http.ConnectError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: None)  # reached, then lost
    monkeypatch.setattr(huggingface_hub, "HfApi", Unreachable)
    args = SimpleNamespace(push_to_hub=True, hub_model_id="someone/model",
                           hub_token=None, output_dir=str(tmp_path))  # fmt: skip
    with pytest.raises(common.UploadError) as failed:
        hub.push_run(args, SimpleNamespace(is_main_process=True))
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith("--push_to_hub: the upload to someone/model failed (ConnectError")
    assert f"the model is saved in {tmp_path}" in message
    assert f"`hf upload someone/model {tmp_path} --exclude" in message


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


def test_a_bare_hub_model_id_is_named_with_the_tokens_user_before_training(monkeypatch):
    """A bare --hub_model_id stayed bare in the model card and the run's messages, though the
    upload makes ``user/name``: the whoami answer names the user before anything is trained."""
    from types import SimpleNamespace

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: "someone")
    args = SimpleNamespace(push_to_hub=True, hub_token=None, hub_model_id="model")
    hub.check_hub_before_training(args, SimpleNamespace(is_main_process=True))
    assert args.hub_model_id == "someone/model"
    args.hub_model_id = "org/model"  # a namespaced one stays as it is
    hub.check_hub_before_training(args, SimpleNamespace(is_main_process=True))
    assert args.hub_model_id == "org/model"


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
    write_checkpoint(out / "step_2", state)

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(train, "run_measurenote", lambda args, accelerator: {"pushed": args})
    resume = ["--output_dir", str(out), "--resume_from_checkpoint"]
    resumed = train.main(resume)["pushed"]
    assert not resumed.push_to_hub and resumed.hub_model_id == "someone/model"
    with pytest.raises(train.UsageError, match="HF_HUB_OFFLINE"):  # asked again: still refused
        train.main([*resume, "--push_to_hub"])


def test_an_upload_leaves_out_the_temporary_files_of_killed_writers():
    """A temporary file `replacing_file` writes (``.stem.<pid>.<start>@<host>.tmp.ext``) that a
    killed writer left, at the top or in a subfolder, was uploaded with the model."""
    from huggingface_hub.utils import filter_repo_objects

    from training.hub import UPLOAD_IGNORE_PATTERNS

    names = [
        "model.safetensors",
        ".model.4242.987@node7.tmp.safetensors",
        "title_tokenizer/.vocab.77.12@node7.tmp.txt",
        "title_tokenizer/vocab.txt",
        "notes.tmp.md",
    ]
    kept = list(filter_repo_objects(names, ignore_patterns=list(UPLOAD_IGNORE_PATTERNS)))
    assert kept == ["model.safetensors", "title_tokenizer/vocab.txt", "notes.tmp.md"]


#: The flags after ``--push_to_hub`` of each refusal of docs/hub.md, "Refused before any data is
#: read" (the Hub unreachable, offline or without a token as `test_each_refusal...` sets it).
HUB_REFUSALS = {
    "bad id": (["--hub_model_id", "my model/x", "--hub_token", "hf_token"], "--hub_model_id 'my"),
    "no id": (["--hub_token", "hf_token"], "--push_to_hub needs --hub_model_id"),
    "offline": (["--hub_model_id", "someone/model", "--hub_token", "hf_token"], "HF_HUB_OFFLINE"),
    "no token": (["--hub_model_id", "someone/model"], "no Hub token"),
    "unreachable": (["--hub_model_id", "someone/model", "--hub_token", "hf_token"], "cannot reach"),
}


@pytest.mark.parametrize("refusal", sorted(HUB_REFUSALS))
def test_each_refusal_before_training_is_one_line_with_exit_status_2(
    monkeypatch, tmp_path, capsys, refusal
):
    """docs/hub.md ("Refused before any data is read") gave an exit status to the unreachable Hub
    alone: every refusal it lists is one ``error:`` line, status 2, nothing written."""
    import socket
    import sys

    from huggingface_hub import constants
    from huggingface_hub.utils import _http

    from training import train

    with socket.socket() as s:  # a port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(_http, "_GLOBAL_CLIENT", None)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", refusal == "offline")
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))
    monkeypatch.setattr(train, "run_measurenote", lambda *a: pytest.fail("trained"))
    flags, reason = HUB_REFUSALS[refusal]
    out = tmp_path / "out"
    try:
        with pytest.raises(SystemExit) as stopped:
            sys.exit(train.cli(["--output_dir", str(out), "--push_to_hub", *flags]))
    finally:
        _http.close_session()
    errors = [line for line in capsys.readouterr().err.splitlines() if "error: " in line]
    assert stopped.value.code == 2 and not out.exists()  # argparse's own errors: its usage too
    assert len(errors) == 1 and reason in errors[0], errors


def _first_run_checkpoint(monkeypatch, out, tunebook, *flags: str) -> None:
    """Run `main` with ``flags`` (training replaced, the token's user "someone") and write a
    checkpoint ``out/step_2`` with the flags that run records, as `save_checkpoint` does."""
    from training import train

    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: "someone")
    monkeypatch.setattr(train, "run_measurenote", lambda args, accelerator: {"args": args})
    args = main(["--corpus", tunebook, "--output_dir", str(out), *flags])["args"]
    state = {"completed_steps": 2, "run": run_folder.run_flags(args)}
    write_checkpoint(out / "step_2", {**state, "args": run_folder.recorded_flags(args)})


def test_a_resumed_run_uploads_to_the_repository_its_bare_hub_model_id_was_resolved_to(
    monkeypatch, tmp_path, tunebook
):
    """The checkpoint recorded the bare --hub_model_id as given, not the ``user/name`` it was
    resolved to: a resume uploaded to the resuming token's namespace (another user's token,
    another repository), and one without --push_to_hub named the bare ``name`` in its model
    card, though the run's repository is ``someone/name``."""
    out = tmp_path / "run"
    _first_run_checkpoint(monkeypatch, out, tunebook, "--push_to_hub", "--hub_model_id", "model")
    saved = json.loads((out / "step_2" / "training_state.json").read_text(encoding="utf-8"))
    assert saved["args"]["hub_model_id"] == "someone/model"
    monkeypatch.setattr(hub, "check_hub_reachable", lambda token: "other")  # another token
    resume = ["--output_dir", str(out), "--resume_from_checkpoint"]
    assert main([*resume, "--push_to_hub"])["args"].hub_model_id == "someone/model"
    assert main(resume)["args"].hub_model_id == "someone/model"  # its model card's
    # the command line's flags win over the checkpoint's, and a bare one is resolved again
    given = main([*resume, "--push_to_hub", "--hub_model_id", "renamed"])["args"]
    assert given.hub_model_id == "other/renamed" and given.push_to_hub


def test_a_resume_that_adds_push_to_hub_is_refused_before_training_without_a_token(
    monkeypatch, tmp_path, tunebook
):
    """A run that did not upload, resumed with --push_to_hub, asks the Hub before it trains on,
    as a fresh run does; the --hub_token of a run is recorded nowhere in its checkpoints."""
    from training import train

    out = tmp_path / "run"
    flags = ["--hub_model_id", "model", "--hub_token", "hf_secret"]
    _first_run_checkpoint(monkeypatch, out, tunebook, *flags)
    assert "hf_secret" not in (out / "step_2" / "training_state.json").read_text(encoding="utf-8")

    def no_token(token):
        raise RuntimeError(f"--push_to_hub: no Hub token ({token})")

    monkeypatch.setattr(hub, "check_hub_reachable", no_token)
    monkeypatch.setattr(train, "run_measurenote", lambda *a: pytest.fail("trained"))
    resume = ["--output_dir", str(out), "--resume_from_checkpoint", "--push_to_hub"]
    with pytest.raises(common.UsageError, match=r"no Hub token \(None\)"):  # token not taken
        main(resume)
