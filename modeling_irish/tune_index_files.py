"""The saved form of a name-that-tune index (`name_that_tune.TuneIndex`): its file names, its
format version, and readers of its JSON and arrays that name a damaged file rather than fail
with a traceback."""

from __future__ import annotations

import json
import os
from typing import Any, Union

import numpy as np

#: the index's JSON file (titles, meta, settings' headers), beside its arrays
INDEX_FILE = "tune_index.json"
#: Version of the saved index: 2 adds ``format`` itself (1, or no field: earlier indices, read
#: alike; those without ``dur_flat.npy`` or settings' meters score with less information); 3
#: reads G major and A dorian tunes in the corpus's octave (`tokenization.keys.normalise_shift`),
#: where earlier indices hold them an octave higher (a model's embeddings of them differ).
INDEX_FORMAT = 3
#: the arrays of a saved index, each in ``NAME.npy``; the optional ones may be None (absent)
_INDEX_ARRAYS = ("title_embeds", "setting_embeds", "setting_title", "pitch_flat", "pitch_offsets")
_OPTIONAL_INDEX_ARRAYS = ("dur_flat",)


def _read_index_json(path: Union[str, os.PathLike]) -> dict[str, Any]:
    """The fields of the folder's `INDEX_FILE`; a `ValueError` naming the file when it is
    damaged (not JSON, or JSON of another shape: rebuild it) or of a newer format (upgrade)."""
    where = os.path.join(path, INDEX_FILE)
    if not os.path.isfile(where):
        raise FileNotFoundError(f"{os.fspath(path)!r} is not an index folder (no {INDEX_FILE})")
    try:
        with open(where, encoding="utf-8") as handle:
            info = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{where} is damaged ({err}); rebuild the index") from None
    found = info.get("format", 1) if isinstance(info, dict) else None
    if not isinstance(info, dict):
        problem = f"a JSON {type(info).__name__}, not the index's fields"
    elif not _is_int(found) or found < 1:
        problem = f"format {found!r}, not a version number"
    elif found > INDEX_FORMAT:
        raise ValueError(
            f"{where}: index format {found}, this modeling-irish reads up to {INDEX_FORMAT} "
            "(upgrade the package or rebuild the index)"
        )
    else:
        return info
    raise ValueError(f"{where} is damaged ({problem}); rebuild the index")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_index_array(path: Union[str, os.PathLike], name: str) -> np.ndarray:
    """The array of the folder's ``NAME.npy``; a `ValueError` naming the file, saying that it is
    damaged, when it is no NumPy array file (text, a pickle), is cut short or holds Python
    objects (never loaded: pickle runs code)."""
    where = os.path.join(path, f"{name}.npy")
    if not os.path.isfile(where):
        raise FileNotFoundError(f"the index {os.fspath(path)!r} is incomplete: no {name}.npy")
    try:
        with open(where, "rb") as handle:
            if handle.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
                problem = "not a NumPy array file"
            else:
                handle.seek(0)
                return np.load(handle, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        problem = _array_problem(err)
    raise ValueError(f"{where} is damaged ({problem}); rebuild the index")


def _array_problem(err: Exception) -> str:
    """What `np.load` found wrong with an index array file, in the index's terms: not numpy's
    advice to load an object array with ``allow_pickle``, which an index never needs.

    >>> _array_problem(ValueError("Object arrays cannot be loaded when allow_pickle=False"))
    'it holds Python objects, which no index saves'
    >>> _array_problem(EOFError("No data left in file"))
    'No data left in file'
    """
    if "pickle" in str(err):
        return "it holds Python objects, which no index saves"
    return str(err) or type(err).__name__
