"""The checks of a saved model folder (or Hub repository) that ``from_pretrained`` is given:
that it is there, holds a config.json and weights, and is of the model type asked for.

Saved beside the weights as remote code with ``configuration_measurenote.py``, which imports
it: it imports only its siblings.
"""

import json
import os
from typing import Any, Optional

from .hub_repo_ids import check_repo_id


def read_saved_config(config_path: str) -> dict[str, Any]:
    """The values of the saved config file ``config_path``; `OSError` naming the file when it is
    not a JSON object (cut short, emptied, another file's bytes), as transformers says it, not
    the `json` or `AttributeError` traceback that names no file.

    >>> read_saved_config("no/such/config.json")
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] No such file or directory: 'no/such/config.json'
    """
    try:
        with open(config_path, encoding="utf-8") as handle:
            saved = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise OSError(
            f"the config file {config_path!r} is not a valid JSON file ({error}): save the "
            f"model again, or restore the file"
        ) from error
    if not isinstance(saved, dict):
        raise OSError(
            f"the config file {config_path!r} holds a JSON {type(saved).__name__}, not an "
            f"object of config values: save the model again, or restore the file"
        )
    return saved


#: The keyword arguments of ``from_pretrained`` that say where and how to fetch a Hub file.
HUB_DOWNLOAD_ARGUMENTS = (
    "cache_dir",
    "force_download",
    "proxies",
    "token",
    "revision",
    "local_files_only",
)


def saved_config_file(
    path: Any, subfolder: Optional[str] = "", hub_kwargs: Optional[dict[str, Any]] = None
) -> Optional[str]:
    """The config.json that ``from_pretrained(path, subfolder=..., **hub_kwargs)`` reads: the
    file ``path``, ``path/subfolder/config.json`` of a local folder, or a Hub repository's
    (from the cache, or downloaded as `transformers.utils.cached_file` does). None where there
    is none to read, and where the Hub cannot be reached or refuses the name: then
    `from_pretrained` goes on and fails with its own error, as it did without this look-up.

    >>> saved_config_file("no/such/folder", "sub", {"local_files_only": True}) is None
    True
    """
    where = os.path.join(str(path), subfolder) if subfolder else str(path)
    if os.path.isfile(where):
        return where
    if os.path.isdir(str(path)):
        config_path = os.path.join(where, "config.json")
        return config_path if os.path.isfile(config_path) else None
    from transformers.utils import cached_file

    download = {k: v for k, v in (hub_kwargs or {}).items() if k in HUB_DOWNLOAD_ARGUMENTS}
    try:
        return cached_file(
            str(path),
            "config.json",
            subfolder=subfolder or "",
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_gated_repo=False,
            _raise_exceptions_for_connection_errors=False,
            **download,
        )
    except (OSError, ValueError):  # no network, no such repository, not a repository name
        return None


#: How a saved model's weights file ends (`save_pretrained`'s names, sharded or with a variant).
WEIGHTS_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")


def check_local_pretrained_path(
    path: Any, subfolder: Optional[str] = "", weights: bool = True
) -> None:
    """Raise `OSError` naming ``path`` (its ``subfolder``) and what it lacks, where
    `from_pretrained` would blame something else: a name that is no folder here and cannot be
    a Hub repository id (transformers: "Repo id must be in the form ..."), a folder without
    config.json ("Should have a `model_type` key", or a missing weights file), and, where
    ``weights``, a folder with a config.json but no weights file. A name that is not a local
    path and has the form ``owner/name`` passes, unless its owner part is a folder here
    (`hub_repo_ids.check_repo_id`): it goes to the Hub loader, with its own errors.

    >>> check_local_pretrained_path("no/such/folder")
    Traceback (most recent call last):
    ...
    OSError: 'no/such/folder': no such folder here, and not a Hub repository id: 'no/such/...
    """
    name = os.path.expanduser(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else None
    if name is None or os.path.isfile(name):
        return  # a config file (a config's from_pretrained reads one), or not a path at all
    where = os.path.join(name, subfolder) if subfolder else name
    if not os.path.isdir(name):
        check_repo_id(name, "the folder save_pretrained wrote")
        return
    if not os.path.isdir(where):
        raise OSError(f"{name!r} has no subfolder {subfolder!r}")
    if not os.path.isfile(os.path.join(where, "config.json")):
        raise OSError(
            f"{where!r} holds no config.json: not a saved model folder (save_pretrained writes "
            f"config.json beside the weights)"
        )
    if weights and not any(entry.endswith(WEIGHTS_SUFFIXES) for entry in os.listdir(where)):
        raise OSError(
            f"{where!r} holds a config.json but no weights (model.safetensors or "
            f"pytorch_model.bin): the save was cut short, or only the config was saved"
        )


def check_saved_model_type(
    path: Any,
    model_type: str,
    subfolder: Optional[str] = "",
    base_config_key: str = "",
    hub_kwargs: Optional[dict[str, Any]] = None,
) -> None:
    """Raise `ValueError` when the local folder or Hub repository ``path`` (its ``subfolder``,
    as ``from_pretrained(path, subfolder=..., **hub_kwargs)`` reads it), or the config file
    ``path``, holds a saved model of another type than ``model_type`` (its config.json says):
    transformers only warns, then builds the model or config from the wrong values, with
    default sizes, random weights or an unrelated error. A saved config that holds
    ``base_config_key`` (a composite config, which a sub-config's `from_pretrained` reads its
    part of) passes, and so does a path whose config.json cannot be read (`saved_config_file`).
    A config.json that is not a JSON object raises `OSError` (`read_saved_config`).

    >>> check_saved_model_type("no/such/folder", "measurenote", subfolder="sub")
    """
    config_path = saved_config_file(path, subfolder, hub_kwargs)
    if config_path is None:
        return
    saved = read_saved_config(config_path)
    found = saved.get("model_type")
    if base_config_key and base_config_key in saved:
        return
    if found is not None and found != model_type:
        where = os.path.join(str(path), subfolder) if subfolder else str(path)
        raise ValueError(
            f"{os.path.normpath(where)!r} holds a {found!r} model, not a {model_type!r} one: "
            f"load it with its own class (AutoConfig and AutoModel pick it from config.json)"
        )


__all__ = [
    "HUB_DOWNLOAD_ARGUMENTS",
    "WEIGHTS_SUFFIXES",
    "check_local_pretrained_path",
    "check_saved_model_type",
    "read_saved_config",
    "saved_config_file",
]
