"""Configuration of the MeasureNote model (note GRU, measure attention pooling, final GRU)."""

# first: on transformers 4 this raises one clear line before the imports below fail
from .transformers_version import REQUIRED_TRANSFORMERS  # noqa: F401

# isort: split
import copy
import math
import numbers
from typing import Any, Optional, Self

from transformers import PretrainedConfig
from transformers.utils import logging

from .saved_folders import check_local_pretrained_path, check_saved_model_type

logger = logging.get_logger(__name__)

# The 20 row features, in the column order of `input_ids` (docs/DESIGN.md section 4).
MEASURENOTE_FEATURE_NAMES = (
    "main",
    "dur",
    "pitch_class",
    "octave",
    "m_idx",
    "m_idx_mod4",
    "m_offset",
    "is_onbeat",
    "is_middle_beat",
    "key",
    "meter",
    "unit_length",
    "rhythm",
    "root",
    "mode",
    "key_sig",
    "numer",
    "denom",
    "is_compound",
    "is_triple",
)

# Embedding width of each feature as a fraction of `embedding_size` (the reference's ratios; at
# `embedding_size=512` the concatenated embedding is 2,624 wide).
MEASURENOTE_EMBEDDING_RATIOS = {
    "main": 0.75,
    "dur": 0.75,
    "pitch_class": 0.125,
    "octave": 0.125,
    "m_idx": 0.5,
    "m_idx_mod4": 0.25,
    "m_offset": 0.5,
    "is_onbeat": 0.125,
    "is_middle_beat": 0.125,
    "key": 0.25,
    "meter": 0.25,
    "unit_length": 0.25,
    "rhythm": 0.25,
    "root": 0.125,
    "mode": 0.125,
    "key_sig": 0.125,
    "numer": 0.125,
    "denom": 0.125,
    "is_compound": 0.125,
    "is_triple": 0.125,
}

# Vocabulary sizes of the reference's shipped `vocab.json`. Used only when no `vocab_sizes` are
# given (shape checks, parameter counts); real models take the sizes from the tokenizer.
REFERENCE_VOCAB_SIZES = {
    "main": 95,
    "dur": 18,
    "pitch_class": 15,
    "octave": 15,
    "m_idx": 181,
    "m_idx_mod4": 7,
    "m_offset": 44,
    "is_onbeat": 5,
    "is_middle_beat": 5,
    "key": 48,
    "meter": 7,
    "unit_length": 1,
    "rhythm": 13,
    "root": 12,
    "mode": 4,
    "key_sig": 17,
    "numer": 6,
    "denom": 3,
    "is_compound": 2,
    "is_triple": 2,
}

# Named sizes for `MeasureNoteConfig.from_preset`. "base" is the reference model (~18.7 M
# parameters); "small" (~1.8 M) trains at several thousand rows per second on two CPU cores.
MEASURENOTE_PRESETS = {
    "base": {
        "embedding_size": 512,
        "note_hidden_size": 512,
        "note_num_layers": 3,
        "note_dropout": 0.2,
        "measure_hidden_size": 512,
        "measure_num_layers": 3,
        "measure_num_heads": 8,
        "measure_dropout": 0.2,
        "final_hidden_size": 512,
        "final_num_layers": 3,
        "final_dropout": 0.2,
    },
    "small": {
        "embedding_size": 128,
        "note_hidden_size": 192,
        "note_num_layers": 2,
        "note_dropout": 0.1,
        "measure_hidden_size": 192,
        "measure_num_layers": 2,
        "measure_num_heads": 4,
        "measure_dropout": 0.1,
        "final_hidden_size": 192,
        "final_num_layers": 2,
        "final_dropout": 0.1,
    },
}


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


#: What a value of each kind must be (the test, and how a refusal says it).
_KINDS = {
    "int": (_is_int, "a whole number"),
    "real": (_is_real, "a real number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "dict": (lambda v: isinstance(v, dict), "a dict"),
    "list": (lambda v: isinstance(v, (list, tuple)), "a list"),
}


def check_value_types(owner: str, values: dict[str, Any], kinds: dict[str, str]) -> None:
    """Raise `TypeError` naming the first of ``values`` that is not of its kind in ``kinds``
    (``"int"``: a whole number, not a bool; ``"real"``; ``"bool"``; ``"str"``; ``"dict"``;
    ``"list"``; ``"list[str]"``, ``"dict[int]"``, ``"dict[real]"``: of items of that kind),
    before torch or a comparison fails on it with a message that names nothing. Names missing
    from ``values`` are not checked.

    >>> check_value_types("MyConfig", {"heads": 4, "dropout": 0.1}, {"heads": "int"})
    >>> check_value_types("MyConfig", {"heads": 4.0}, {"heads": "int"})
    Traceback (most recent call last):
    ...
    TypeError: MyConfig: heads must be a whole number, got 4.0 (float)
    >>> check_value_types("MyConfig", {"sizes": {"main": "88"}}, {"sizes": "dict[int]"})
    Traceback (most recent call last):
    ...
    TypeError: MyConfig: sizes['main'] must be a whole number, got '88' (str)
    """
    for name, kind in kinds.items():
        if name not in values:
            continue
        outer, _, inner = kind.partition("[")
        items = [(name, values[name], outer)]
        if inner and _KINDS[outer][0](values[name]):
            value = values[name]
            pairs = value.items() if outer == "dict" else enumerate(value)
            items = [(f"{name}[{key!r}]", item, inner.rstrip("]")) for key, item in pairs]
        for label, value, item_kind in items:
            test, what = _KINDS[item_kind]
            if not test(value):
                raise TypeError(
                    f"{owner}: {label} must be {what}, got {value!r} ({type(value).__name__})"
                )


class TypeCheckedConfig(PretrainedConfig):
    """A `PretrainedConfig` whose `from_pretrained` refuses a folder or Hub repository of another
    model type by name (`check_saved_model_type`) instead of reading it into default sizes, as
    transformers does after a warning; a sub-config (one with a `base_config_key`) reads its
    part of a composite model's folder. `from_dict` (so `from_pretrained` and `AutoConfig`)
    checks the overrides it sets, with the subclass's `check_values`."""

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Any, *args: Any, **kwargs: Any) -> Self:
        subfolder = kwargs.get("subfolder")
        check_local_pretrained_path(pretrained_model_name_or_path, subfolder, weights=False)
        check_saved_model_type(
            pretrained_model_name_or_path,
            cls.model_type,
            kwargs.get("subfolder"),
            cls.base_config_key,
            hub_kwargs=kwargs,
        )
        return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> Any:
        """`PretrainedConfig.from_dict`, then `check_values`: transformers sets the ``kwargs``
        (those of ``from_pretrained(path, measure_num_heads=5)``) as attributes after `__init__`
        checked the saved values, so a bad override was taken, saved, and refused only on the next
        load.
        Returns the config, or ``(config, unused_kwargs)`` with ``return_unused_kwargs=True``."""
        loaded = super().from_dict(config_dict, **kwargs)
        config = loaded[0] if isinstance(loaded, tuple) else loaded
        config.check_values()
        return loaded

    def check_values(self) -> None:
        """Raise a `ValueError` (a `TypeError` for a wrong type) when a value has the wrong type
        or range; each config checks its own. Public: `from_dict` and the models run it again
        for attributes set after the config was made (``config.dropout = 2.0``)."""


class MeasureNoteConfig(TypeCheckedConfig):
    r"""
    Configuration of [`MeasureNoteModel`] and [`MeasureNoteForCausalLM`].

    The model embeds the 20 features of every row and concatenates them, runs a note-level GRU,
    pools the note states of each measure group with multi-head context attention, runs a GRU
    over the measure vectors, gives every row the summary of the *previous* measures, and runs a
    final GRU over `[note state, measure context]`.

    Args:
        feature_names (`list[str]`, *optional*):
            Names of the `input_ids` columns, in order. Defaults to the 20 features of
            `docs/DESIGN.md` section 4. Must contain `"main"` and `"dur"` (the two predicted ones).
        vocab_sizes (`dict[str, int]`, *optional*):
            Vocabulary size of every feature (take it from the tokenizer). Defaults to the sizes of
            the reference's shipped vocabulary, which is only useful for shape checks.
        embedding_sizes (`dict[str, int]`, *optional*):
            Explicit embedding width of every feature. When given, `embedding_size` and
            `embedding_ratios` are ignored, also when set later. Sizes that are the ones
            `embedding_size` and `embedding_ratios` give (those of a config made without explicit
            sizes, saved or not) follow either when it is set later, e.g.
            `from_pretrained(path, embedding_size=64)` or `embedding_ratios={...}`.
        embedding_size (`int`, *optional*, defaults to 512):
            Base width; feature `f` gets `int(embedding_size * embedding_ratios[f])` dimensions.
        embedding_ratios (`dict[str, float]`, *optional*):
            Width ratio per feature. Defaults to the reference's ratios (2,624 wide at 512).
        note_hidden_size (`int`, *optional*, defaults to 512):
            Hidden size of the note GRU; also the size of a pooled measure vector.
        note_num_layers (`int`, *optional*, defaults to 3):
            Number of layers of the note GRU.
        note_dropout (`float`, *optional*, defaults to 0.2):
            Dropout between the layers of the note GRU.
        measure_hidden_size (`int`, *optional*, defaults to 512):
            Hidden size of the GRU that runs over measure vectors.
        measure_num_layers (`int`, *optional*, defaults to 3):
            Number of layers of the measure GRU.
        measure_num_heads (`int`, *optional*, defaults to 8):
            Heads of the context-attention pooling; must divide `note_hidden_size`.
        measure_dropout (`float`, *optional*, defaults to 0.2):
            Dropout between the layers of the measure GRU.
        final_hidden_size (`int`, *optional*, defaults to 512):
            Hidden size of the final GRU (the input of the output heads).
        final_num_layers (`int`, *optional*, defaults to 3):
            Number of layers of the final GRU.
        final_dropout (`float`, *optional*, defaults to 0.2):
            Dropout between the layers of the final GRU.
        dur_loss_weight (`float`, *optional*, defaults to 1.0):
            Weight of the duration cross-entropy in the total loss.
        initializer_range (`float`, *optional*, defaults to 0.02):
            Standard deviation of the normal initialiser of linear layers.
        use_cache (`bool`, *optional*, defaults to `True`):
            Whether the model returns its recurrent `state` (outside training).
        pad_token_id (`int`, *optional*, defaults to 0):
            Id of `<pad>` in every feature vocabulary. The three special ids are the tokenizer's
            and the loss leaves out `dur` targets equal to them, so each must be one id within
            the main and dur vocabularies (None or a list is refused).
        bos_token_id (`int`, *optional*, defaults to 1):
            Id of `<start>`.
        eos_token_id (`int`, *optional*, defaults to 2):
            Id of `<end>`.

    Example:

    ```python
    >>> from modeling_irish.configuration_measurenote import MeasureNoteConfig
    >>> config = MeasureNoteConfig.from_preset("base")
    >>> config.total_embedding_size
    2624
    >>> MeasureNoteConfig(note_hidden_size=30, measure_num_heads=8)
    Traceback (most recent call last):
    ...
    ValueError: note_hidden_size (30) must be divisible by measure_num_heads (8)

    ```"""

    model_type = "measurenote"
    # transformers' standard name (read by pipelines, PEFT, accelerate, user scripts), set and
    # read as the final GRU's size; `vocab_size` and `num_hidden_layers` are read-only below.
    attribute_map = {"hidden_size": "final_hidden_size"}
    # What `transformers.Trainer` leaves out of predictions: `EvalPrediction.predictions` is then
    # (logits, dur_logits), not the per-batch losses and every hidden state of the eval set.
    keys_to_ignore_at_inference = ["loss_main", "loss_dur", "state", "hidden_states"]
    #: The type of every value `check_values` checks (`check_value_types`).
    value_kinds = {
        "feature_names": "list[str]",
        "vocab_sizes": "dict[int]",
        "embedding_sizes": "dict[int]",
        "embedding_size": "int",
        "embedding_ratios": "dict[real]",
        **{f"{part}_hidden_size": "int" for part in ("note", "measure", "final")},
        **{f"{part}_num_layers": "int" for part in ("note", "measure", "final")},
        **{f"{part}_dropout": "real" for part in ("note", "measure", "final")},
        "measure_num_heads": "int",
        "dur_loss_weight": "real",
        "initializer_range": "real",
        "use_cache": "bool",
    }

    def __init__(
        self,
        feature_names: Optional[list[str]] = None,
        vocab_sizes: Optional[dict[str, int]] = None,
        embedding_sizes: Optional[dict[str, int]] = None,
        embedding_size: int = 512,
        embedding_ratios: Optional[dict[str, float]] = None,
        note_hidden_size: int = 512,
        note_num_layers: int = 3,
        note_dropout: float = 0.2,
        measure_hidden_size: int = 512,
        measure_num_layers: int = 3,
        measure_num_heads: int = 8,
        measure_dropout: float = 0.2,
        final_hidden_size: int = 512,
        final_num_layers: int = 3,
        final_dropout: float = 0.2,
        dur_loss_weight: float = 1.0,
        initializer_range: float = 0.02,
        use_cache: bool = True,
        pad_token_id: int = 0,
        bos_token_id: int = 1,
        eos_token_id: int = 2,
        **kwargs: Any,
    ) -> None:
        given = dict(
            feature_names=feature_names,
            vocab_sizes=vocab_sizes,
            embedding_sizes=embedding_sizes,
            embedding_size=embedding_size,
            embedding_ratios=embedding_ratios,
        )  # read before `check_values`: their types are checked first
        given = {name: value for name, value in given.items() if value is not None}
        check_value_types(type(self).__name__, given, self.value_kinds)
        self.feature_names = list(feature_names or MEASURENOTE_FEATURE_NAMES)
        self.vocab_sizes = dict(vocab_sizes or REFERENCE_VOCAB_SIZES)
        self.embedding_size = embedding_size
        self.embedding_ratios = dict(embedding_ratios or MEASURENOTE_EMBEDDING_RATIOS)
        if embedding_sizes is None:
            embedding_sizes = _sizes_from_ratios(
                self.feature_names, embedding_size, self.embedding_ratios
            )
        self.embedding_sizes = {name: int(size) for name, size in embedding_sizes.items()}
        self.note_hidden_size = note_hidden_size
        self.note_num_layers = note_num_layers
        self.note_dropout = note_dropout
        self.measure_hidden_size = measure_hidden_size
        self.measure_num_layers = measure_num_layers
        self.measure_num_heads = measure_num_heads
        self.measure_dropout = measure_dropout
        self.final_hidden_size = final_hidden_size
        self.final_num_layers = final_num_layers
        self.final_dropout = final_dropout
        self.dur_loss_weight = dur_loss_weight
        self.initializer_range = initializer_range
        self.use_cache = use_cache
        for name in _READ_ONLY_NAMES & kwargs.keys():  # their setters say what to set instead
            setattr(self, name, kwargs[name])  # (transformers logged the whole config first)
        # transformers' config is a dataclass without these fields (mypy reads its fields as
        # the parameters), but its __init__ takes any keyword and sets it
        super().__init__(  # type: ignore[call-arg]
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            **kwargs,
        )
        self.check_values()  # after super().__init__, which sets the special ids

    def __setattr__(self, name: str, value: Any) -> None:
        # a new base width or ratios (`from_pretrained(path, embedding_ratios={...})`) resize every
        # feature when the sizes are the ones the old values gave; explicit sizes are kept
        follows = name in _SIZE_SOURCES and self._sizes_follow_ratios()
        super().__setattr__(name, value)
        if follows:
            check_value_types(type(self).__name__, {name: value}, self.value_kinds)
            sizes = _sizes_from_ratios(
                self.feature_names, self.embedding_size, self.embedding_ratios
            )
            super().__setattr__("embedding_sizes", sizes)

    def _sizes_follow_ratios(self) -> bool:
        """Whether `embedding_sizes` are what `embedding_size` and `embedding_ratios` give (as
        in every config made without explicit sizes, and in its saved copy), not explicit ones."""
        if "embedding_sizes" not in self.__dict__:  # still in __init__
            return False
        try:
            derived = _sizes_from_ratios(
                self.feature_names, self.embedding_size, self.embedding_ratios
            )
        except (TypeError, ValueError):  # explicit sizes beside unusable ratios
            return False
        return self.embedding_sizes == derived

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> "MeasureNoteConfig":
        """`PretrainedConfig.from_dict`, which sets the ``kwargs`` of ``from_pretrained`` in their
        order: explicit `embedding_sizes` go last, so that they win over a new `embedding_size`
        or `embedding_ratios` given before them too."""
        if "embedding_sizes" in kwargs:
            kwargs["embedding_sizes"] = kwargs.pop("embedding_sizes")
        return super().from_dict(config_dict, **kwargs)

    @classmethod
    def from_preset(
        cls, name: str, vocab_sizes: Optional[dict[str, int]] = None, **kwargs: Any
    ) -> "MeasureNoteConfig":
        """Build a config from a named size (`"base"` or `"small"`); `kwargs` override it.

        >>> MeasureNoteConfig.from_preset("small").note_hidden_size
        192
        """
        if name not in MEASURENOTE_PRESETS:
            raise ValueError(
                f"unknown preset {name!r}; choose one of {sorted(MEASURENOTE_PRESETS)}"
            )
        values: dict[str, Any] = copy.deepcopy(MEASURENOTE_PRESETS[name])
        values.update(kwargs)
        return cls(vocab_sizes=vocab_sizes, **values)

    @property
    def total_embedding_size(self) -> int:
        """Width of the concatenated feature embeddings (the note GRU's input size)."""
        return sum(self.embedding_sizes[name] for name in self.feature_names)

    @property
    def main_vocab_size(self) -> int:
        """Number of classes of the `main` head."""
        return self.vocab_sizes["main"]

    @property
    def dur_vocab_size(self) -> int:
        """Number of classes of the `dur` head."""
        return self.vocab_sizes["dur"]

    @property
    def vocab_size(self) -> int:
        """transformers' name: the `main` vocabulary (the `logits` head's classes).

        >>> MeasureNoteConfig.from_preset("small").vocab_size
        95
        """
        return self.main_vocab_size

    @vocab_size.setter
    def vocab_size(self, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__}.vocab_size is vocab_sizes['main'] (one vocabulary per "
            f"feature): set vocab_sizes, from the tokenizer's vocabulary, not vocab_size={value!r}"
        )

    @property
    def num_hidden_layers(self) -> int:
        """transformers' name: the three stages after the embeddings (note GRU, measure module,
        final GRU), so that ``len(out.hidden_states) == num_hidden_layers + 1`` as in
        transformers; each stage's GRU depth is `note/measure/final_num_layers`.

        >>> MeasureNoteConfig.from_preset("small").num_hidden_layers
        3
        """
        return len(_STAGES)

    @num_hidden_layers.setter
    def num_hidden_layers(self, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__}.num_hidden_layers is the 3 stages (note GRU, measure module, "
            f"final GRU): set note_num_layers, measure_num_layers or final_num_layers, not "
            f"num_hidden_layers={value!r}"
        )

    def check_values(self) -> None:
        """Types and ranges of the values (run by `__init__`, by `from_dict` after the overrides
        of `from_pretrained`, and by the model for attributes set by hand)."""
        values = {name: getattr(self, name, None) for name in self.value_kinds}
        check_value_types(type(self).__name__, values, self.value_kinds)
        names = self.feature_names
        if len(set(names)) != len(names):
            raise ValueError(f"feature_names has duplicates: {names}")
        for needed in ("main", "dur"):
            if needed not in names:
                raise ValueError(f"feature_names must contain {needed!r}")
        for what, table in (
            ("vocab_sizes", self.vocab_sizes),
            ("embedding_sizes", self.embedding_sizes),
        ):
            missing = [name for name in names if name not in table]
            if missing:
                raise ValueError(f"{what} has no entry for {missing}")
            bad = {name: table[name] for name in names if int(table[name]) < 1}
            if bad:
                raise ValueError(f"{what} must be >= 1, got {bad}")
        for name in _STAGES:
            for field in (f"{name}_hidden_size", f"{name}_num_layers"):
                if getattr(self, field) < 1:  # the field and its value, not the pair
                    raise ValueError(f"{field} must be >= 1, got {getattr(self, field)}")
            dropout = getattr(self, f"{name}_dropout")
            if not 0.0 <= dropout < 1.0:
                raise ValueError(f"{name}_dropout must be in [0, 1), got {dropout}")
        if self.measure_num_heads < 1:
            raise ValueError(f"measure_num_heads must be >= 1, got {self.measure_num_heads}")
        if self.note_hidden_size % self.measure_num_heads:
            raise ValueError(
                f"note_hidden_size ({self.note_hidden_size}) must be divisible by "
                f"measure_num_heads ({self.measure_num_heads})"
            )
        if not 0 <= self.dur_loss_weight < math.inf:  # `not` also refuses nan
            raise ValueError(f"dur_loss_weight must be >= 0 and finite, got {self.dur_loss_weight}")
        if not 0 < self.initializer_range < math.inf:  # the std of a normal: post_init fails
            raise ValueError(
                f"initializer_range must be > 0 and finite, got {self.initializer_range}"
            )
        self._check_special_ids()

    def _check_special_ids(self) -> None:
        """Each of pad/bos/eos is one id of both predicted vocabularies. They are not free: they
        are the tokenizer's fixed ``<pad>``/``<start>``/``<end>`` (0, 1, 2 in every feature),
        and the loss leaves out `dur` targets equal to them (not durations). None (or a list,
        as transformers allows for generation) would silently count those rows as durations,
        or fail inside the loss: refused here, where it is set."""
        size = min(self.main_vocab_size, self.dur_vocab_size)
        for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
            value: Any = getattr(self, name, None)  # anything a user set: checked here
            if not _is_int(value):
                raise TypeError(
                    f"{type(self).__name__}: {name} must be one whole number (the tokenizer's "
                    f"fixed id: pad 0, bos 1, eos 2), got {value!r} ({type(value).__name__})"
                )
            if not 0 <= value < size:
                raise ValueError(
                    f"{name} must be an id of the main and dur vocabularies, in [0, {size}), "
                    f"got {value}"
                )


#: The stages of the model after the embeddings, each a GRU of its own size and depth.
_STAGES = ("note", "measure", "final")

#: transformers' names that are properties of the sizes, refused when given (`__init__`).
_READ_ONLY_NAMES = {"vocab_size", "num_hidden_layers"}

#: The attributes `embedding_sizes` follow unless they were given explicitly.
_SIZE_SOURCES = ("embedding_size", "embedding_ratios")


def _sizes_from_ratios(
    names: list[str], embedding_size: int, ratios: dict[str, float]
) -> dict[str, int]:
    missing = [name for name in names if name not in ratios]
    if missing:
        raise ValueError(f"embedding_ratios has no entry for {missing}")
    sizes = {name: int(embedding_size * ratios[name]) for name in names}
    too_small = [name for name, size in sizes.items() if size < 1]
    if too_small:
        raise ValueError(f"embedding_size {embedding_size} gives width 0 for {too_small}")
    return sizes


__all__ = [
    "MEASURENOTE_FEATURE_NAMES",
    "MEASURENOTE_PRESETS",
    "REFERENCE_VOCAB_SIZES",
    "MeasureNoteConfig",
    "check_value_types",
]
