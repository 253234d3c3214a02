"""Saving and uploading an `AbcTokenizer`: the package version it records, and the upload of
what `AbcTokenizer.save_pretrained` wrote (``push_to_hub=True``).

Saved beside the tokenizer as remote code (a relative import of `tokenization_abc`), so it
imports nothing of ``modeling_irish``.

>>> "token" in HUB_UPLOAD_ARGUMENTS, "save_directory" in HUB_UPLOAD_ARGUMENTS
(True, False)
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from typing import Any

from transformers import PreTrainedTokenizer

from .hub_errors import upload_errors

__all__ = ["HUB_UPLOAD_ARGUMENTS", "package_version", "upload_saved_folder"]


def upload_saved_folder(
    tokenizer: PreTrainedTokenizer,
    save_directory: str | os.PathLike,
    files_timestamps: dict[str, float],
    repo_id: str,
    commit_message: str | None = None,
    commit_description: str | None = None,
    private: bool | None = None,
    token: bool | str | None = None,
    revision: str | None = None,
    create_pr: bool = False,
    tags: list[str] | str | None = None,
) -> Any:
    """Upload the files that `tokenizer.save_pretrained` just wrote in ``save_directory`` (those
    new or changed since ``files_timestamps``) to the Hub repository ``repo_id``: the files of
    that save (``filename_prefix`` included), not those of a second save with defaults, which
    `push_to_hub` makes in a temporary folder. A folder without a README.md gets the Hub's (or
    a new) model card with ``tags``; one that has one keeps it. The tokenizer's twin of
    ``modeling_irish.measurenote_checks.upload_saved_folder`` (this file uploads without that
    package).

    A failed upload (offline, no token, no network, a refusal of the Hub) is a
    `HubUploadError` that says so in one line, as the models' does, and that the folder is
    saved (`upload_errors`), rather than the Hub client's error."""
    with upload_errors(repo_id, token, "tokenizer", saved_in=save_directory):
        # hub.hf_api (transformers>=5.10.1): the Hub client that transformers' own push_to_hub
        # and _upload_modified_files below use, so one client (and its library tag) uploads
        from transformers.utils import hub

        repo_id = (
            hub.hf_api().create_repo(repo_id, private=private, token=token, exist_ok=True).repo_id
        )
        readme = os.path.join(save_directory, "README.md")
        if not os.path.exists(readme):
            tags = [tags] if isinstance(tags, str) else list(tags or [])
            # transformers hints token as str | None, but only forwards it to hf_hub_download,
            # which takes True too (the saved token, as for create_repo above)
            card = hub.create_and_tag_model_card(repo_id, tags or None, token=token)  # type: ignore[arg-type]
            card.save(readme)
        return tokenizer._upload_modified_files(
            save_directory,
            repo_id,
            files_timestamps,
            commit_message=commit_message,
            commit_description=commit_description,
            token=token,
            create_pr=create_pr,
            revision=revision,
        )


@functools.cache
def package_version() -> str:
    """Version of the installed ``modeling-irish`` that saves a tokenizer (``"unknown"`` where the
    code runs without the package, e.g. as remote code from the Hub)."""
    try:
        return importlib.metadata.version("modeling-irish")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


#: The arguments of `save_pretrained` that are the upload's (`push_to_hub`'s), not the save's
#: (as in ``modeling_irish.measurenote_checks``: this file uploads without that package).
HUB_UPLOAD_ARGUMENTS = (
    "commit_message",
    "commit_description",
    "private",
    "token",
    "revision",
    "create_pr",
    "tags",
)
