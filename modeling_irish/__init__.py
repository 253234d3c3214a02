"""modeling-irish: Hugging Face-style models, tokenizer and loader for Irish traditional music.

Importing the package registers the models and the tokenizer with the transformers Auto classes
(and the ``pipeline("abc-generation")`` task, `modeling_irish.pipeline_abc`):

>>> import modeling_irish
>>> from transformers import AutoConfig
>>> AutoConfig.for_model("measurenote").model_type
'measurenote'

Registering imports torch and transformers (seconds). The ``irish-tune`` commands that need no
model (`irish_tune.MODEL_FREE_COMMANDS`: ``check``, ``render``) import the package without it;
the names below then load on first use, and register the Auto classes as the import does.
"""

import sys
from typing import TYPE_CHECKING, Any

# first: a user's own tokenization.py in the working folder would otherwise fail the import
# of `register_auto_classes` with "'tokenization' is not a package"; this names the file instead
from . import package_layout  # noqa: F401

if TYPE_CHECKING:  # imported by `register_auto_classes`, at import or on first use
    from tokenization.tokenization_abc import AbcTokenizer

    from .configuration_measurenote import MeasureNoteConfig
    from .configuration_tune_title import TuneTitleConfig
    from .modeling_measurenote import MeasureNoteForCausalLM, MeasureNoteModel
    from .modeling_tune_title import TuneTitleModel

__version__ = "0.1.0"

_registered = False  # by `register_auto_classes`

# The names that `register_auto_classes` imports (torch and transformers with them).
_MODEL_NAMES = frozenset(
    {
        "AbcTokenizer",
        "MeasureNoteConfig",
        "MeasureNoteForCausalLM",
        "MeasureNoteModel",
        "TuneTitleConfig",
        "TuneTitleModel",
    }
)


def register_auto_classes() -> None:
    """Import the models, configs and tokenizer into this module and register them with the
    transformers Auto classes, for remote code and for ``pipeline("abc-generation")``. Once."""
    global AbcTokenizer, MeasureNoteConfig, MeasureNoteForCausalLM, MeasureNoteModel
    global TuneTitleConfig, TuneTitleModel, _registered
    if _registered:
        return
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    from tokenization.tokenization_abc import AbcTokenizer

    from .configuration_measurenote import MeasureNoteConfig
    from .configuration_tune_title import (
        TuneTitleConfig,
        TuneTitleTextConfig,
        TuneTitleTuneConfig,
    )
    from .modeling_measurenote import MeasureNoteForCausalLM, MeasureNoteModel
    from .modeling_tune_title import TuneTitleModel
    from .pipeline_abc import register as register_pipeline

    AutoConfig.register("measurenote", MeasureNoteConfig, exist_ok=True)
    AutoModel.register(MeasureNoteConfig, MeasureNoteModel, exist_ok=True)
    AutoModelForCausalLM.register(MeasureNoteConfig, MeasureNoteForCausalLM, exist_ok=True)
    AutoTokenizer.register(MeasureNoteConfig, slow_tokenizer_class=AbcTokenizer, exist_ok=True)
    AutoConfig.register("tune_title", TuneTitleConfig, exist_ok=True)
    # the towers' configs, which save and load on their own too (as CLIP's text and vision)
    AutoConfig.register("tune_title_tune", TuneTitleTuneConfig, exist_ok=True)
    AutoConfig.register("tune_title_text", TuneTitleTextConfig, exist_ok=True)
    AutoModel.register(TuneTitleConfig, TuneTitleModel, exist_ok=True)
    AutoTokenizer.register(TuneTitleConfig, slow_tokenizer_class=AbcTokenizer, exist_ok=True)

    # Saved folders carry the code (auto_map) so that `trust_remote_code=True` loads them anywhere.
    MeasureNoteConfig.register_for_auto_class()
    MeasureNoteModel.register_for_auto_class("AutoModel")
    MeasureNoteForCausalLM.register_for_auto_class("AutoModelForCausalLM")
    TuneTitleConfig.register_for_auto_class()
    TuneTitleModel.register_for_auto_class("AutoModel")

    register_pipeline()  # pipeline("abc-generation", model=folder)
    _registered = True


def _model_free_import() -> bool:
    """True while ``irish-tune`` imports this package to run a command that needs no model
    (`irish_tune.main` says so; a user's ``import modeling_irish`` never is)."""
    cli = sys.modules.get("irish_tune")
    return bool(getattr(cli, "importing_model_free", False))


def __getattr__(name: str) -> Any:
    """The models, configs and tokenizer when the import skipped them (`_model_free_import`):
    imported and registered on first use. ``modeling_irish.load_abc_corpus`` is
    `modeling_irish.abc_corpus.load_abc_corpus` itself (its signature and example show in
    ``help()``), imported on first use: `datasets` takes a second to import, and ``import
    modeling_irish`` does not need it."""
    if name in _MODEL_NAMES:
        register_auto_classes()
        return globals()[name]
    if name == "load_abc_corpus":
        from .abc_corpus import load_abc_corpus

        return load_abc_corpus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if not _model_free_import():
    register_auto_classes()

__all__ = [
    "AbcTokenizer",
    "MeasureNoteConfig",
    "MeasureNoteForCausalLM",
    "MeasureNoteModel",
    "TuneTitleConfig",
    "TuneTitleModel",
    "__version__",
    "load_abc_corpus",
    "register_auto_classes",
]
