"""modeling-irish: Hugging Face-style models, tokenizer and loader for Irish traditional music.

Importing the package registers the models and the tokenizer with the transformers Auto classes
(and the ``pipeline("abc-generation")`` task, `modeling_irish.pipeline_abc`):

>>> import modeling_irish
>>> from transformers import AutoConfig
>>> AutoConfig.for_model("measurenote").model_type
'measurenote'
"""

from typing import Any

from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

# first: a user's own tokenization.py in the working folder would otherwise fail the import
# below with "'tokenization' is not a package"; this names the file instead
from . import package_layout  # noqa: F401

# isort: split
from tokenization.tokenization_abc import AbcTokenizer

from .configuration_measurenote import MeasureNoteConfig
from .configuration_tune_title import TuneTitleConfig, TuneTitleTextConfig, TuneTitleTuneConfig
from .modeling_measurenote import MeasureNoteForCausalLM, MeasureNoteModel
from .modeling_tune_title import TuneTitleModel
from .pipeline_abc import register as _register_pipeline

__version__ = "0.1.0"

AutoConfig.register("measurenote", MeasureNoteConfig, exist_ok=True)
AutoModel.register(MeasureNoteConfig, MeasureNoteModel, exist_ok=True)
AutoModelForCausalLM.register(MeasureNoteConfig, MeasureNoteForCausalLM, exist_ok=True)
AutoTokenizer.register(MeasureNoteConfig, slow_tokenizer_class=AbcTokenizer, exist_ok=True)
AutoConfig.register("tune_title", TuneTitleConfig, exist_ok=True)
# the towers' configs, which save and load on their own too (as CLIP's text and vision configs)
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

_register_pipeline()  # pipeline("abc-generation", model=folder)


def __getattr__(name: str) -> Any:
    """``modeling_irish.load_abc_corpus`` is `modeling_irish.abc_corpus.load_abc_corpus` itself
    (its signature and example show in ``help()``), imported on first use: `datasets` takes a
    second to import, and ``import modeling_irish`` does not need it."""
    if name == "load_abc_corpus":
        from .abc_corpus import load_abc_corpus

        return load_abc_corpus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AbcTokenizer",
    "MeasureNoteConfig",
    "MeasureNoteForCausalLM",
    "MeasureNoteModel",
    "TuneTitleConfig",
    "TuneTitleModel",
    "__version__",
    "load_abc_corpus",
]
