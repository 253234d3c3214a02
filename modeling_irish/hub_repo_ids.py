"""Whether a name given to ``from_pretrained`` can be a Hub repository id, and the one error
that says so when it is neither that nor a path here.

The one source of that check for the models (``modeling_irish.saved_folders``) and the tokenizer
(``tokenization.tokenizer_checks``). Both save their code beside the weights as remote code,
where each can import only its own siblings, so ``modeling_irish/`` and ``tokenization/`` carry
this same file (tests/test_auto_remote_code.py holds them equal). It imports nothing of the
package, and ``huggingface_hub`` only when a name is checked.
"""

from __future__ import annotations

import os

__all__ = ["check_repo_id", "could_be_repo_id", "path_hint"]


def could_be_repo_id(name: str) -> bool:
    """Whether ``name`` has the form of a Hub repository id (``name`` or ``owner/name``, of
    letters, digits, ``-_.``), by `huggingface_hub`'s own rule: no network.

    >>> could_be_repo_id("user/measurenote-small"), could_be_repo_id("runs/a/step_10")
    (True, False)
    >>> could_be_repo_id("./runs/a"), could_be_repo_id("~/runs")
    (False, False)
    """
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if name.startswith(("/", "./", "../", "~")) or os.path.isabs(name):
        return False  # a path, which can only be local
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def path_hint(name: str) -> str:
    """A mistyped local path, said so when its parent folder exists here.

    >>> path_hint("no-such-owner/model")
    ''
    """
    parent = os.path.dirname(os.path.expanduser(name).rstrip("/"))
    if parent and os.path.isdir(parent):
        return f" ({parent}/ is a folder here: a mistyped path?)"
    return ""


def check_repo_id(name: str, wanted: str) -> None:
    """Raise `OSError` unless ``name``, which is no path here, can be a Hub repository id:
    transformers would blame something else ("Repo id must be in the form ...", or a folder
    that does not exist). ``wanted`` ends the message, saying what to give instead.

    >>> check_repo_id("owner/no-such-model", "a saved model folder")
    >>> check_repo_id("no/such/folder", "a saved model folder")
    Traceback (most recent call last):
    ...
    OSError: 'no/such/folder': no such folder here, and not a Hub repository id (owner/name); ...
    """
    if not could_be_repo_id(name):
        raise OSError(
            f"{name!r}: no such folder here, and not a Hub repository id (owner/name)"
            f"{path_hint(name)}; give {wanted}"
        )
