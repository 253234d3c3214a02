"""What a failed Hub upload says: one line naming the repository, why (offline, no token, the
error's first line) and, after ``save_pretrained(push_to_hub=True)``, that the folder is saved.

The one source of it: the tokenizer's upload (`tokenizer_hub`), the models' upload
(``modeling_irish.measurenote_checks``) and ``train.py --push_to_hub`` (``training.hub``).
Saved beside the tokenizer as remote code, so it imports nothing of the package; it imports
``huggingface_hub`` only when an upload fails (reading tunes needs none of it).

>>> str(HubUploadError("push_to_hub: the upload to me/t failed (...)"))
'push_to_hub: the upload to me/t failed (...)'
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator

__all__ = [
    "DISK_ERRNOS",
    "HubUploadError",
    "hub_client_errors",
    "hub_failure",
    "hub_unusable",
    "local_file_error",
    "upload_errors",
]


class HubUploadError(OSError):
    """An upload to the Hub failed (offline, no token, the Hub unreachable or refusing it); after
    ``save_pretrained(push_to_hub=True)`` the folder is saved. An `OSError`, as the Hub client's
    offline and connection errors are."""


def hub_client_errors() -> tuple[type[BaseException], ...]:
    """What a Hub upload ends in when it fails: the Hub's answers (`HfHubHTTPError`), the
    network's (the base classes of that error, whose HTTP client's connection errors are no
    `OSError`; and `OSError`, offline mode's included), and the client's refusal of a
    repository name (`HFValidationError`)."""
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError

    return (HfHubHTTPError, *HfHubHTTPError.__bases__, OSError, HFValidationError)


#: The errnos of a disk that refuses a write (full, over quota, read-only, a file too large), which
#: a failed ``write`` gives without a file name; ``training.errors`` takes them from here.
DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)


def local_file_error(err: BaseException) -> bool:
    """Whether ``err``, one of `hub_client_errors`, is a local file's failure (a save or a read
    of the folder that is uploaded: the disk full, permission denied, a file gone), not the
    Hub's or the network's: a built-in `OSError` that names a file, is a missing or misplaced
    path's, or has a disk's errno. The Hub client's own (offline mode, a file the Hub lacks, an
    HTTP error) are its subclasses, and a connection's (refused, reset) names no file.

    >>> local_file_error(PermissionError(13, "Permission denied", "m/README.md"))
    True
    >>> local_file_error(OSError(errno.ENOSPC, "No space left on device"))
    True
    >>> local_file_error(ConnectionRefusedError(111, "Connection refused"))
    False
    """
    paths = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)
    if not isinstance(err, OSError) or type(err).__module__.split(".")[0] != "builtins":
        return False
    return isinstance(err, paths) or err.filename is not None or err.errno in DISK_ERRNOS


def hub_unusable(token: bool | str | None, token_hint: str) -> str | None:
    """Why nothing can be uploaded to the Hub whatever the network: offline mode, or no token
    (``token``, else the one ``hf auth login`` saved; ``token_hint`` says how else to give one);
    None when neither."""
    from huggingface_hub import constants
    from huggingface_hub.utils import get_token

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set, so nothing can be uploaded"
    if not (isinstance(token, str) and token) and get_token() is None:
        return f"no Hub token; log in with `hf auth login` or {token_hint}"
    return None


def hub_failure(err: BaseException, token: bool | str | None, token_hint: str) -> str:
    """What made an upload fail with ``err``, in one line: offline mode or no token
    (`hub_unusable`), else the error's type and first line."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    if isinstance(err, OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE is set, so nothing can be uploaded"
    unusable = hub_unusable(token, token_hint)
    lines = str(err).split("\n", 1)  # a line feed only (`modeling_irish.cli.first_line`)
    return unusable or f"{type(err).__name__}: {lines[0] or 'no message'}"


@contextlib.contextmanager
def upload_errors(
    repo_id: str,
    token: bool | str | None,
    what: str,
    saved_in: str | os.PathLike | None = None,
) -> Iterator[None]:
    """Turn the Hub client's error of an upload to ``repo_id`` (`hub_client_errors`) into a
    `HubUploadError` that says why in one line (`hub_failure`, ``token=`` the way to give a
    token). With ``saved_in``, the folder that ``save_pretrained(push_to_hub=True)`` saved the
    ``what`` (``"model"``, ``"tokenizer"``) in, before it uploaded: the message says so, and
    how to upload it later; without, it is ``push_to_hub``'s (whose folder was temporary).
    A local file's error (`local_file_error`: the disk full, permission denied, a file gone)
    goes on as it is, naming its file, never called the Hub's."""
    try:
        yield
    except hub_client_errors() as err:
        if local_file_error(err):  # a file of the save, not the upload: its own message and path
            raise
        why = hub_failure(err, token, "pass token=")
        if saved_in is None:
            raise HubUploadError(f"push_to_hub: the upload to {repo_id} failed ({why})") from err
        raise HubUploadError(
            f"save_pretrained(push_to_hub=True): the upload to {repo_id} failed ({why}); the "
            f"{what} is saved in {saved_in}: upload it later with {what}.push_to_hub or "
            "`hf upload`"
        ) from err
