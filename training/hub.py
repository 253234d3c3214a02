"""Uploading a run to the Hugging Face Hub (``--push_to_hub``): a reachability check before
training, the upload of the saved output folder, and a one-line error with the command that
uploads it later when the upload fails."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from modeling_irish.cli import first_line
from modeling_irish.measurenote_checks import stale_file_deletions
from tokenization.hub_errors import hub_client_errors, hub_unusable, local_file_error
from training.common import (
    TRACKER_PROJECTS,
    UploadError,
    UsageError,
    save_bars_on_terminal_only,
)
from training.run_record import forget_removed_files, removed_run_files

if TYPE_CHECKING:
    from accelerate import Accelerator
    from huggingface_hub import CommitOperationAdd


def check_hub_reachable(token: str | None = None, timeout: float = 10.0) -> str | None:
    """Raise `RuntimeError` at once when the Hub cannot be used: offline mode, no token, no
    answer to ``whoami`` within ``timeout`` seconds, or a token the Hub refuses, instead of
    failing at upload time, after the training. ``whoami`` is asked through the Hub client's
    own HTTP session (the one the upload uses, so through HTTP(S)_PROXY where it is set), not
    a raw connection to the endpoint, which a proxy-only network refuses. Returns the token's
    user name (``whoami``'s ``name``; None when the answer has none)."""
    from huggingface_hub import constants
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.utils import build_hf_headers, get_session, get_token, hf_raise_for_status

    # the HTTP client's network errors, whichever client the Hub library uses
    network_errors: tuple[type[BaseException], ...] = (*HfHubHTTPError.__bases__, OSError)
    unusable = hub_unusable(token, "give --hub_token")  # as save_pretrained(push_to_hub=True)
    if unusable is not None:
        raise RuntimeError(f"--push_to_hub: {unusable}")
    token = token or get_token()
    try:  # HfApi.whoami's request, with a timeout (the session has none)
        response = get_session().get(
            f"{constants.ENDPOINT}/api/whoami-v2",
            headers=build_hf_headers(token=token),
            timeout=timeout,
        )
        hf_raise_for_status(response)
        name = response.json().get("name")
    except HfHubHTTPError as err:
        status = getattr(err.response, "status_code", None)
        reason = "refused the token" if status in (401, 403) else f"answered {status}"
        raise RuntimeError(
            f"--push_to_hub: {constants.ENDPOINT} {reason} (whoami); log in again with `hf auth "
            "login` or give a valid --hub_token"
        ) from err
    except network_errors as err:
        raise RuntimeError(
            f"--push_to_hub: cannot reach {constants.ENDPOINT} "
            f"({first_line(err, 'no message')}); check the network or drop --push_to_hub and "
            "upload the output folder later"
        ) from err
    return name if isinstance(name, str) and name else None


def check_hub_before_training(args: argparse.Namespace, accelerator: Accelerator) -> None:
    """With ``--push_to_hub``, `check_hub_reachable` before training (either task), not after:
    asked by the main process (one ``whoami``) and its answer shared with every process, so
    that each ends with the same one-line `UsageError`. Asked by the main process alone, the
    others went on to their first barrier and died there with a gloo traceback once the main
    process had exited. A bare ``--hub_model_id name`` becomes ``user/name`` with the token's
    user name, the repository the upload makes (`push_to_hub`), so that the model card and the
    run's messages name it; the checkpoints record ``user/name`` too, so that a resumed run
    uploads there (and its card names it) whichever token resumes it."""
    from accelerate.utils import broadcast_object_list

    if not args.push_to_hub:
        return
    answer: list[str | None] = [None, None]  # the failure, the token's user name
    if accelerator.is_main_process:
        try:
            answer[1] = check_hub_reachable(args.hub_token)
        except RuntimeError as err:
            answer[0] = str(err)
    broadcast_object_list(answer, from_process=0)  # every process: the main one's answer
    if answer[0] is not None:
        raise UsageError(answer[0])
    if answer[1] and "/" not in args.hub_model_id:
        args.hub_model_id = f"{answer[1]}/{args.hub_model_id}"
        if isinstance(getattr(args, "recorded_flags", None), dict):  # see `recorded_flags`
            args.recorded_flags["hub_model_id"] = args.hub_model_id


def push_to_hub(
    output_dir: str, repo_id: str, token: str | None = None, commit_message: str = "Upload model"
) -> str:
    """Create ``repo_id`` if needed and upload ``output_dir`` (checkpoints, trackers' logs and the
    tunes of the tune-title retrieval evaluation, ``retrieval_eval/``, excluded:
    `folder_additions`) in one commit; returns the commit URL. Fails fast with `RuntimeError`
    when offline (`check_hub_reachable`). A ``repo_id`` without a user or organisation (a
    bare ``name``) is created, and committed to, in the token's own namespace (``user/name``,
    the id ``create_repo`` answers), as transformers' ``hub_model_id`` is.

    The same commit deletes from the repository, by name, where it holds them, the files that
    the folder's runs deleted as an earlier run's outputs since it was last uploaded
    (`removed_run_files`: a MiniLM run's ``LICENSE``, ``NOTICE`` and ``title_tokenizer/`` under
    a char-GRU run; `stale_file_deletions`), and none of its other files: the upload and the
    deletions succeed or fail together, so the repository never holds the new model beside
    the earlier run's files. The folder's record of them is emptied once the commit is made;
    after a failed commit it keeps them, so that the next upload deletes them.

    The Hub client's upload bars are drawn only where stderr is a terminal
    (`save_bars_on_terminal_only`), as the saves' are.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.utils import filter_repo_objects

    check_hub_reachable(token)
    api = HfApi(token=token)
    # a bare name: create_repo makes user/name; the commit goes there, not to the bare name
    repo_id = api.create_repo(repo_id, exist_ok=True).repo_id
    additions = folder_additions(output_dir)
    # only what an upload of the folder sends: a checkpoint in the repository is the user's
    removed = filter_repo_objects(
        removed_run_files(output_dir), ignore_patterns=list(UPLOAD_IGNORE_PATTERNS)
    )
    uploaded = [op.path_in_repo for op in additions]
    deletions = stale_file_deletions(api, repo_id, list(removed), uploaded, token=token)
    with save_bars_on_terminal_only():  # the upload's bars redrew into ``2>train.log``
        info = api.create_commit(
            repo_id=repo_id, operations=[*deletions, *additions], commit_message=commit_message
        )
    forget_removed_files(output_dir)
    return str(info)


def folder_additions(output_dir: str) -> list[CommitOperationAdd]:
    """A `CommitOperationAdd` for each file of ``output_dir`` that an upload sends: those
    ``HfApi.upload_folder`` would, with `UPLOAD_IGNORE_PATTERNS` (and the Hub client's own,
    ``.git/`` and its cache) left out; sorted paths. `NotADirectoryError` for no folder."""
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects

    folder = Path(output_dir).expanduser().resolve()
    if not folder.is_dir():
        raise NotADirectoryError(f"{output_dir} is not a folder: nothing to upload")
    files = {
        p.relative_to(folder).as_posix(): p for p in sorted(folder.glob("**/*")) if p.is_file()
    }
    ignored = [*UPLOAD_IGNORE_PATTERNS, *DEFAULT_IGNORE_PATTERNS]
    return [
        CommitOperationAdd(path_or_fileobj=str(files[path]), path_in_repo=path)
        for path in filter_repo_objects(files, ignore_patterns=ignored)
    ]


#: What an upload of an output folder leaves out: checkpoints, half-written files, trackers'
#: logs, the tunes the retrieval evaluation scored (data, not the model; known_queries.abc
#: stays: it names the holdout), and the run's record of the files it wrote (run_files.json).
UPLOAD_IGNORE_PATTERNS = (
    "step_*",
    "epoch_*",
    ".tmp-*",
    ".old-*",
    "runs/*",
    *(f"{project}/*" for project in TRACKER_PROJECTS),  # they record every flag
    "*.pkl",
    "retrieval_eval/*",
    "run_files.json",
    # a temporary file of a writer killed mid-write (`replacing_file`: ``.stem.<pid>.<start>@<host>
    # .tmp.ext``), at the top or in a subfolder: one of another machine stays for 24 hours
    ".*@*.tmp*",
    "*/.*@*.tmp*",
)


def push_run(args: argparse.Namespace, accelerator: Accelerator) -> None:
    """With ``--push_to_hub``, upload the saved output folder (`push_to_hub`, main process
    only) and print where. A failure, once the run is over and saved, is an `UploadError` that
    says so in one line, with the command that uploads the folder later (and deletes there the
    earlier run's files that the failed commit was to delete), instead of the Hub client's
    traceback: the upload is one commit, so a failed one left the repository as it was. A
    local file's error (`local_file_error`: the output folder's, read for the upload or its
    record written after it) goes on as it is, naming the file: no Hub failure."""
    if not (args.push_to_hub and accelerator.is_main_process):
        return
    try:
        url = push_to_hub(args.output_dir, args.hub_model_id, args.hub_token)
    except _upload_errors() as err:
        if local_file_error(err):  # the folder's (a file gone, its record refused): no Hub's
            raise
        command = upload_command(args.hub_model_id, args.output_dir, _unpushed(args.output_dir))
        raise UploadError(
            f"--push_to_hub: the upload to {args.hub_model_id} failed "
            f"({type(err).__name__}: {first_line(err, 'no message')}); nothing of the run is "
            f"on the Hub and the model is saved in {args.output_dir}: upload it later with "
            f"`{command}`"
        ) from err
    accelerator.print(f"Pushed to {url}")


def _unpushed(output_dir: str) -> list[str]:
    """The earlier run's files that `push_to_hub` deletes from the repository with the upload
    (`removed_run_files`, those an upload sends only)."""
    from huggingface_hub.utils import filter_repo_objects

    removed = removed_run_files(output_dir)
    return list(filter_repo_objects(removed, ignore_patterns=list(UPLOAD_IGNORE_PATTERNS)))


def upload_command(repo_id: str, output_dir: str, removed: Sequence[str] = ()) -> str:
    """The ``hf upload`` command that uploads ``output_dir`` as `push_to_hub` does, deleting
    there in the same commit the files ``removed`` (each ``--delete`` pattern matches its name
    only, `exact_pattern`).

    >>> upload_command("user/m", "runs/m").split(" --exclude ")[:3]
    ['hf upload user/m runs/m', "'step_*'", "'epoch_*'"]
    >>> upload_command("user/m", "runs/m", ["LICENSE", "a*[1].txt"]).split(" --delete ")[1:]
    ['LICENSE', "'a[*][[]1].txt'"]
    """
    excludes = "".join(f" --exclude {shlex.quote(p)}" for p in UPLOAD_IGNORE_PATTERNS)
    deletes = "".join(f" --delete {shlex.quote(exact_pattern(p))}" for p in removed)
    return f"hf upload {shlex.quote(repo_id)} {shlex.quote(output_dir)}{excludes}{deletes}"


def exact_pattern(path: str) -> str:
    """The glob pattern (the Hub client's ``fnmatchcase``) that matches ``path`` alone: each
    ``*``, ``?`` and ``[`` in it made a one-character class, so no name widens it.

    >>> exact_pattern("notes[1]*.md")
    'notes[[]1][*].md'
    """
    return re.sub(r"([*?\[])", r"[\1]", path)


def _upload_errors() -> tuple[type[BaseException], ...]:
    """What an upload ends in when it fails: the Hub's answers (`HfHubHTTPError`), the
    network's (the base class of that error's HTTP client, whose connection errors are no
    `OSError`; and `OSError`), `check_hub_reachable`'s `RuntimeError`, and the client's refusal
    of a repository name (`HFValidationError`; `parse_args` checks --hub_model_id up front)."""
    return (*hub_client_errors(), RuntimeError)


__all__ = [
    "UPLOAD_IGNORE_PATTERNS",
    "check_hub_before_training",
    "check_hub_reachable",
    "exact_pattern",
    "folder_additions",
    "push_run",
    "push_to_hub",
    "upload_command",
]
