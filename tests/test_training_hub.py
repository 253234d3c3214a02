"""The Hub upload of `training/`: offline and unreachable Hubs refused before training, the
token kept out of the run and the upload, failed uploads reported in one line."""

from __future__ import annotations

import pytest
from helpers import one_torch_thread  # noqa: F401
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


def test_a_run_pushed_over_an_earlier_one_deletes_its_stale_files_from_the_hub(
    fake_hub, tmp_path, monkeypatch
):
    """upload_folder only adds files: a char-GRU run in a folder that a MiniLM run had pushed
    left that run's LICENSE, NOTICE and title_tokenizer/ on the Hub. Deleted now: only those
    the run removed, not files it wrote again, a checkpoint or the user's own files there."""
    from types import SimpleNamespace

    from accelerate import PartialState
    from helpers import record_hub_commits

    PartialState()  # the run folder's messages go through accelerate's logger
    out = tmp_path / "run"
    (out / "title_tokenizer").mkdir(parents=True)
    earlier = ["LICENSE", "NOTICE", "model.safetensors", "title_tokenizer/vocab.txt"]
    for name in earlier:
        (out / name).write_text("MiniLM run")
    run_folder.record_run_files(str(out), ["LICENSE", "NOTICE", "model.safetensors",
                                           "title_tokenizer"])  # fmt: skip
    args = SimpleNamespace(output_dir=str(out), resume_from_checkpoint=None, task="tune_title",
                           overwrite_output_dir=False, with_tracking=False)  # fmt: skip
    accelerator = SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None)
    run_folder.start_run_folder(args, accelerator)  # the char-GRU run: the earlier one cleared
    run_folder.record_run_files(str(out), ["model.safetensors"])
    (out / "model.safetensors").write_text("char-GRU run")

    held = (*earlier, "title_tokenizer/merges.txt", "user_notes.md", "step_2/model.safetensors")
    commits = record_hub_commits(monkeypatch, held=held)
    hub.push_to_hub(str(out), "someone/model")
    assert fake_hub[0]["folder_path"] == str(out)
    assert [c["deleted"] for c in commits] == [["LICENSE", "NOTICE", "title_tokenizer/vocab.txt"]]
    hub.push_to_hub(str(out), "someone/model")  # deleted once: not asked again
    assert len(commits) == 1


def test_an_upload_whose_stale_files_are_not_deleted_says_it_is_uploaded(
    fake_hub, tmp_path, monkeypatch
):
    """The commit deleting an earlier run's files failed after the upload had succeeded, and
    the run ended with "the upload to someone/model failed" and the command to upload it all
    again, not the files left on the Hub nor how to delete them."""
    from types import SimpleNamespace

    from accelerate import PartialState
    from huggingface_hub.errors import HfHubHTTPError
    from transformers.utils import hub as transformers_hub

    PartialState()  # the run folder's messages go through accelerate's logger
    out = tmp_path / "run"
    out.mkdir()
    for name in ("LICENSE", "NOTICE"):
        (out / name).write_text("MiniLM run")
    run_folder.record_run_files(str(out), ["LICENSE", "NOTICE"])
    args = SimpleNamespace(output_dir=str(out), resume_from_checkpoint=None, task="tune_title",
                           overwrite_output_dir=False, with_tracking=False, push_to_hub=True,
                           hub_model_id="someone/model", hub_token=None)  # fmt: skip
    accelerator = SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None)
    run_folder.start_run_folder(args, accelerator)  # the earlier run's files deleted here

    class RefusingDeletes:
        def list_repo_files(self, repo_id, **kwargs):
            return ["LICENSE", "NOTICE", "config.json"]

        def create_commit(self, **kwargs):
            response = SimpleNamespace(headers={}, request=None, status_code=500)
            raise HfHubHTTPError("500 Server Error\nRequest ID: x", response=response)

    monkeypatch.setattr(transformers_hub, "hf_api", RefusingDeletes)
    with pytest.raises(common.UploadError) as refused:
        hub.push_run(args, accelerator)
    message = str(refused.value)
    assert len(fake_hub) == 1 and "\n" not in message
    assert message.startswith(
        f"--push_to_hub: {out} is uploaded to someone/model (https://hub/commit), but deleting"
    )
    assert "failed (HfHubHTTPError: 500 Server Error)" in message
    assert "someone/model may still hold LICENSE, NOTICE" in message
    assert message.endswith("`hf repos delete-files someone/model LICENSE NOTICE`")
    assert run_folder.removed_run_files(str(out)) == ["LICENSE", "NOTICE"]  # the next upload's


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
