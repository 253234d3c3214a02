"""The sha256 of a checkpoint's weights, recorded at save time in its ``weights_sha256.json``
and checked before a resume loads it: a ``model.safetensors`` damaged inside (its header
whole) opens without an error, and no CRC of it is kept, so the run would train on from
garbage. Also the byte progress bar of the long reads of such checks (the digest, the CRC read
of a torch ``.bin``: `training.checkpoints.state_file_problem`).

It imports nothing heavy at its top, as `training.checkpoints` (which reads it) does not."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import IO, Any

#: The checkpoint's record of its weights files' sha256 (``{file name: hex digest}``), written
#: by `training.run_folder.save_checkpoint` into its temporary folder, so that it is in place
#: when the folder is renamed to ``step_N`` (the checkpoint appears whole or not at all).
WEIGHTS_DIGESTS_FILE = "weights_sha256.json"

#: The files `accelerator.save_state` keeps the weights in (``pytorch_model.bin`` with
#: ``safe_serialization=False``), whose sha256 a checkpoint records.
WEIGHTS_FILES = ("model.safetensors", "pytorch_model.bin")

#: The size from which a read of a checkpoint's file (its digest, its CRCs) shows a progress
#: bar: below it the read takes under a second or so.
PROGRESS_BYTES = 64 * 2**20

_CHUNK = 2**20


def byte_progress(total: int, label: str) -> Any:
    """A tqdm bar over ``total`` bytes labelled ``label`` (a file's name), shown from
    `PROGRESS_BYTES` on and by the first process of a launch only; use it as a context manager
    (closed however the read ends)."""
    from tqdm.auto import tqdm

    from training.arguments import first_process  # arguments imports checkpoints, which this

    shown = total >= PROGRESS_BYTES and first_process()
    return tqdm(total=total, desc=label, unit="B", unit_scale=True, leave=False, disable=not shown)


def read_chunks(handle: IO[bytes], bar: Any) -> Iterator[bytes]:
    """The bytes of ``handle`` to its end, in chunks, each counted on ``bar``."""
    while chunk := handle.read(_CHUNK):
        bar.update(len(chunk))
        yield chunk


def file_sha256(file: str) -> str:
    """The hex sha256 of ``file``, read in chunks (a progress bar from `PROGRESS_BYTES` on).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as handle:
    ...     _ = handle.write(b"abc")
    >>> file_sha256(handle.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.remove(handle.name)
    """
    import hashlib

    digest = hashlib.sha256()
    with open(file, "rb") as handle, byte_progress(os.path.getsize(file), f"sha256 {file}") as bar:
        for chunk in read_chunks(handle, bar):
            digest.update(chunk)
    return digest.hexdigest()


def write_weights_digests(folder: str) -> None:
    """Record in ``folder``'s `WEIGHTS_DIGESTS_FILE` the sha256 of each of its `WEIGHTS_FILES`."""
    from training.common import write_json

    digests = {
        name: file_sha256(os.path.join(folder, name))
        for name in WEIGHTS_FILES
        if os.path.isfile(os.path.join(folder, name))
    }
    write_json(os.path.join(folder, WEIGHTS_DIGESTS_FILE), digests)


def has_weights_digests(folder: str) -> bool:
    """Whether checkpoint ``folder`` records its weights' sha256 (one saved before they were
    recorded does not)."""
    return os.path.isfile(os.path.join(folder, WEIGHTS_DIGESTS_FILE))


def weights_digest_problem(folder: str, name: str) -> str | None:
    """Why weights file ``name`` of checkpoint ``folder`` is not the one saved there (its
    sha256 is not the recorded one, or the record is unreadable), or None: it is, or
    ``folder`` records no sha256 of it (`has_weights_digests`: an older checkpoint)."""
    if not has_weights_digests(folder):
        return None
    record = os.path.join(folder, WEIGHTS_DIGESTS_FILE)
    try:
        with open(record, encoding="utf-8") as handle:
            digests = json.load(handle)
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
        return f"{WEIGHTS_DIGESTS_FILE}, its sha256 record, is unreadable: {err}"
    if not isinstance(digests, dict):
        return f"{WEIGHTS_DIGESTS_FILE}, its sha256 record, is not a record of file names"
    saved = digests.get(name)
    if saved is None:
        return None
    if file_sha256(os.path.join(folder, name)) != saved:
        return f"its sha256 is not the one {WEIGHTS_DIGESTS_FILE} recorded when it was saved"
    return None


__all__ = [
    "PROGRESS_BYTES",
    "WEIGHTS_DIGESTS_FILE",
    "WEIGHTS_FILES",
    "byte_progress",
    "file_sha256",
    "has_weights_digests",
    "read_chunks",
    "weights_digest_problem",
    "write_weights_digests",
]
