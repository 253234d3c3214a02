"""Whether a name given to ``from_pretrained`` can be a Hub repository id, and the one error
that says so when it is neither that nor a path here.

The one source of that check for the models (``modeling_irish.saved_folders``) and the tokenizer
(``tokenization.tokenizer_checks``). Both save their code beside the weights as remote code,
where each can import only its own siblings, so ``modeling_irish/`` and ``tokenization/`` carry
this same file (tests/test_auto_remote_code.py holds them equal). It imports nothing of the
package, and ``huggingface_hub`` only when a name is checked.
"""

from __future__ import annotations

import difflib
import os
import re

__all__ = [
    "REPO_ID_FORM",
    "check_repo_id",
    "close_folders",
    "could_be_repo_id",
    "local_folder_meant",
    "looks_like_a_path",
    "path_hint",
    "repo_id_problem",
    "upload_repo_id",
]

#: What a Hub repository id looks like, said after each refusal of one.
REPO_ID_FORM = (
    "a Hub id is `name` or `user/name`: letters a-z A-Z, digits, '-', '_' and '.', at most 96 "
    "per part, not starting or ending with '-' or '.', no '--' or '..', no '.git' ending"
)

_ID_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]")


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


def looks_like_a_path(name: str) -> bool:
    r"""Whether ``name`` can only be a local path: absolute, starting with ``./``, ``../`` or
    ``~``, or holding a ``\`` (a Windows path); no Hub repository id looks so.

    >>> looks_like_a_path("./runs/a"), looks_like_a_path("C:\\runs"), looks_like_a_path("runs/a")
    (True, True, False)
    """
    return name.startswith(("./", "../", "~")) or "\\" in name or os.path.isabs(name)


def close_folders(folder: str, name: str, most: int = 3) -> list[str]:
    """Up to ``most`` folders in ``folder`` whose names are close to ``name`` (`difflib`),
    closest first, as ``folder/entry``; none where ``folder`` cannot be listed.

    >>> close_folders("no/such/folder", "step_1")
    []
    """
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    folders = [entry for entry in entries if os.path.isdir(os.path.join(folder, entry))]
    return [f"{folder}/{entry}" for entry in difflib.get_close_matches(name, folders, n=most)]


def local_folder_meant(name: str) -> str | None:
    """Why ``name``, a Hub repository id by its form, is more likely a mistyped local folder:
    its owner part is a folder here (``runs/`` of ``runs/x``) though ``name`` is not, said with
    the folders in it of a close name; None when that owner part is no folder here.

    >>> local_folder_meant("no-such-owner/model") is None
    True
    """
    owner, _, rest = name.partition("/")
    if not rest or not os.path.isdir(owner) or os.path.exists(name):
        return None
    close = close_folders(owner, rest)
    found = "no folder in it with a close name"
    if close:
        found = f"folders in it with a close name: {', '.join(close)}"
    return f"no such folder here, though {owner}/ is one ({found})"


def check_repo_id(name: str, wanted: str) -> None:
    """Raise `OSError` unless ``name``, which is no path here, can be a Hub repository id:
    transformers would blame something else ("Repo id must be in the form ...", or a folder
    that does not exist). The message says what is wrong: a path (`looks_like_a_path`) that is
    not here, what makes the name no Hub id (`repo_id_problem`), or, for a Hub id whose owner
    part is a folder here (``runs/x`` beside a ``runs/`` folder, `local_folder_meant`), that
    the folder was surely meant. That last is refused at once rather than asked of the Hub,
    which (unreachable, and not offline) retried for some 20 s and then blamed the network: to
    load such a Hub repository, call ``from_pretrained`` from a folder that has no folder of
    the owner's name. ``wanted`` ends the message, saying what to give instead.

    >>> check_repo_id("owner/no-such-model", "a saved model folder")
    >>> check_repo_id("no/such/folder", "a saved model folder")
    Traceback (most recent call last):
    ...
    OSError: 'no/such/folder': no such folder here, and not a Hub repository id: 'no/such/...
    """
    if looks_like_a_path(name):
        raise OSError(f"{name!r}: no such folder here{path_hint(name)}; give {wanted}")
    problem = repo_id_problem(name)
    if problem:
        raise OSError(
            f"{name!r}: no such folder here{path_hint(name)}, and not a Hub repository id: "
            f"{problem}; give {wanted}"
        )
    meant = local_folder_meant(name)
    if meant:
        owner = name.partition("/")[0]
        raise OSError(
            f"{name!r}: {meant}; give {wanted}, or, to load the Hub repository {name!r}, call "
            f"from_pretrained from a folder that holds no {owner}/ folder"
        )


def _part_problem(part: str, which: str) -> str | None:
    """What makes ``part``, the ``which`` (``"name"``, ``"user"``) of a repository id, no part
    of one (`REPO_ID_FORM`), or None."""
    if not part:
        return f"its {which} is empty"
    wrong = sorted(set(_ID_CHARACTERS.sub("", part)))
    if wrong:
        return f"its {which} {part!r} holds {', '.join(map(repr, wrong))}"
    if len(part) > 96:
        return f"its {which} is {len(part)} characters long, over 96"
    for edge, char in (("starts", part[0]), ("ends", part[-1])):
        if char in "-.":
            return f"its {which} {part!r} {edge} with {char!r}"
    for twice in ("--", ".."):
        if twice in part:
            return f"its {which} {part!r} holds {twice!r}"
    return None


def repo_id_problem(repo_id: str) -> str | None:
    """What makes ``repo_id`` no Hub repository id, followed by what one looks like
    (`REPO_ID_FORM`), or None when `huggingface_hub` takes it: in this package's words,
    where the Hub client names its own arguments (``Use `repo_type` argument``).

    >>> repo_id_problem("user/measurenote-small") is None
    True
    >>> repo_id_problem("runs/a/step_10").split(";")[0]
    "'runs/a/step_10' has 3 parts separated by '/'"
    >>> repo_id_problem("my tunes").split(";")[0]
    "its name 'my tunes' holds ' '"
    """
    if could_be_repo_id(repo_id):
        return None
    parts = repo_id.split("/")
    if len(parts) > 2:
        why: str | None = f"{repo_id!r} has {len(parts)} parts separated by '/'"
    else:
        named = zip(parts, ("user", "name") if len(parts) == 2 else ("name",))
        why = next(filter(None, (_part_problem(part, which) for part, which in named)), None)
        if why is None and repo_id.endswith(".git"):
            why = "it ends in '.git'"
    return f"{why or 'the Hub client refuses it'}; {REPO_ID_FORM}"


def upload_repo_id(save_directory: str | os.PathLike, repo_id: str | None) -> str:
    """The Hub repository that ``save_pretrained(save_directory, push_to_hub=True)`` uploads
    to: ``repo_id``, else (as in transformers) the folder's own name. Raises `ValueError`,
    before anything is saved, when it is no Hub id (`repo_id_problem`): the upload failed only
    after the save, blamed on something else (offline mode, no token).

    >>> upload_repo_id("runs/tunes/", None)
    'tunes'
    >>> upload_repo_id("runs/my tunes", None)
    Traceback (most recent call last):
    ...
    ValueError: save_pretrained(push_to_hub=True): no repo_id given, and the folder's name ...
    """
    if repo_id:
        problem = repo_id_problem(repo_id)
        if problem:
            raise ValueError(f"save_pretrained(push_to_hub=True): repo_id {repo_id!r}: {problem}")
        return repo_id
    name = os.path.basename(os.path.normpath(os.fspath(save_directory)))
    problem = repo_id_problem(name)
    if problem:
        raise ValueError(
            f"save_pretrained(push_to_hub=True): no repo_id given, and the folder's name "
            f"{name!r} (of {os.fspath(save_directory)!r}) is no Hub repository id: {problem}; "
            "pass repo_id='user/name'"
        )
    return name
