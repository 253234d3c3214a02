"""The cleanup of a failed write, which names what it leaves behind in a warning rather than
hide the error that failed it (`discard_file`, `discard_folder`). The standard library alone: the
tokenized cache (`tokenization.dataset`) uses it without importing `modeling_irish` (torch and
the models), and `modeling_irish.file_utils` re-exports it beside the writers that use it."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil

__all__ = ["discard_file", "discard_folder", "remove_if_there"]

logger = logging.getLogger(__name__)


def discard_file(path: str | os.PathLike) -> None:
    """Remove the file ``path`` that a failed write leaves, if it is there (the writer may have
    failed before creating it). One that cannot be removed (its folder made read-only) is named
    in a warning and left, not raised: the cleanup of a failure must not hide the error that
    failed it (``No space left on device``) behind its own.

    >>> discard_file("no/such/file.tmp")  # nothing there: nothing said
    """
    try:
        remove_if_there(path)
    except OSError as err:
        _warn_left_behind(path, err)


def discard_folder(path: str | os.PathLike) -> None:
    """Delete the folder ``path`` that a failed or finished write leaves (a writer's folder), if
    it is there. What cannot be deleted is named in a warning and left, as with `discard_file`.

    >>> discard_folder("no/such/folder")  # nothing there: nothing said
    """
    shutil.rmtree(path, ignore_errors=True)  # all it can, past a file that will not go
    if not os.path.lexists(path):
        return
    try:
        shutil.rmtree(path)  # again, for the cause to name
    except FileNotFoundError:
        return
    except OSError as err:
        _warn_left_behind(path, err)


def remove_if_there(path: str | os.PathLike) -> None:
    """Remove the file ``path``; one not there is no error, any other failure is raised.

    >>> remove_if_there("no/such/file.tmp")
    """
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _warn_left_behind(path: str | os.PathLike, err: OSError) -> None:
    """Say that ``path`` could not be removed (``err``) and is left behind."""
    where = err.filename if err.filename not in (None, os.fspath(path)) else None
    cause = f"{where}: {err.strerror}" if where and err.strerror else (err.strerror or str(err))
    logger.warning("cannot remove %s (%s); it is left behind", os.fspath(path), cause)
