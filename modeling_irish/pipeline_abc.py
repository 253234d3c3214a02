"""``pipeline("abc-generation")``: whole tunes from a MeasureNote model, the transformers way.

MeasureNote rows have 20 features and its sampler keeps every bar inside the meter, so the
stock ``"text-generation"`` pipeline (token ids in, token ids out) cannot drive it. This task
wraps `modeling_irish.generation.TuneGenerator` in a `transformers.Pipeline`: the input is an
ABC incipit to continue (or ``None``/``""`` for a new tune), the keyword arguments are those of
`TuneGenerator.generate` (``rhythm``, ``key``, ``num_tunes``, ``seed``, ``temperature``...), but
``seed`` defaults to a draw from torch's global generator (`transformers.set_seed`), and
each input gives a list of ``{"generated_text": abc, "valid": bool, "errors": [...]}``.

``import modeling_irish`` registers the task. A folder that carries the pipeline (a
train.py run, `carry_pipeline`) needs ``trust_remote_code=True`` (transformers' rule). Example::

    >>> from transformers import pipeline
    >>> import modeling_irish
    >>> pipe = pipeline("abc-generation", model="runs/measurenote-small", trust_remote_code=True)
    >>> out = pipe(None, rhythm="jig", key="G", num_tunes=2, seed=0)
    >>> len(out), out[0]["valid"]
    (2, True)
    >>> print(out[0]["generated_text"])
    X:1
    T:Generated jig 1
    R:jig
    M:6/8
    L:1/8
    K:G
    ...
"""

from __future__ import annotations

import difflib
import inspect
import os
from typing import Any

import torch
from transformers import AutoModelForCausalLM, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

from .modeling_measurenote import PACKAGE_INSTALL
from .saved_folders import check_local_pretrained_path, check_saved_model_type

TASK = "abc-generation"

__all__ = [
    "TASK",
    "TRANSFORMERS_ONLY",
    "AbcGenerationPipeline",
    "WrongModelTypeError",
    "carry_pipeline",
    "refuse_unknown_arguments",
    "tune_generator_arguments",
]

_LENGTH = "the length is set in bars (num_bars=16) and rows (max_rows)"
_MIN_LENGTH = "min_bars is the fewest bars before the model may end a tune"
_TEXT = "generated_text is always the whole tune, the incipit's bars included"
_BEAMS = (
    "there is no beam search: it samples one row at a time inside the meter "
    "(temperature=0 picks the likeliest token)"
)
_REPEATS = (
    "there is no repetition penalty: tunes repeat bars and parts by design; "
    "temperature, top_k and top_p shape the sampling"
)
_SPECIAL_IDS = (
    "the tokenizer's <end> and pad tokens are fixed; a tune ends at <end> or is closed "
    "after num_bars bars"
)
_SCORES = (
    "it returns the tunes themselves (GeneratedTune: abc, rows, valid, errors; the pipeline's "
    "return_tunes=True adds them), no scores"
)
# The "text-generation" arguments that mean nothing here, and what to use instead.
TRANSFORMERS_ONLY = {
    "max_new_tokens": _LENGTH,
    "max_length": _LENGTH,
    "min_new_tokens": _MIN_LENGTH,
    "min_length": _MIN_LENGTH,
    "do_sample": "it always samples; temperature=0 picks the likeliest token",
    "num_beams": _BEAMS,
    "num_beam_groups": _BEAMS,
    "repetition_penalty": _REPEATS,
    "no_repeat_ngram_size": _REPEATS,
    "eos_token_id": _SPECIAL_IDS,
    "pad_token_id": _SPECIAL_IDS,
    "output_scores": _SCORES,
    "return_dict_in_generate": _SCORES,
    "streamer": (
        "there is no streaming: each call returns its tunes whole (num_tunes in one batch); "
        "should_stop=<callable> stops the sampling early"
    ),
    "generation_config": "pass the sampling arguments by name",  # `_generation_config_advice`
    "return_full_text": _TEXT,
    "return_text": _TEXT,
    "return_tensors": "return_tunes=True gives each GeneratedTune, its rows included",
}
# A `GenerationConfig`'s fields that are ours under the same name, or another one.
_GENERATION_CONFIG_FIELDS = {
    "temperature": "temperature",
    "top_k": "top_k",
    "top_p": "top_p",
    "num_return_sequences": "num_tunes",
}


def _generation_config_advice(config: Any) -> str:
    """What to pass instead of ``generation_config=config``: the sampling fields it sets, by
    our names (``num_return_sequences`` is ``num_tunes``; ``do_sample=False``, greedy in
    transformers, is ``temperature=0``). It is not read itself: its unset fields mean
    transformers' defaults (greedy, ``top_k=50``) and its other fields (``num_beams``,
    ``repetition_penalty``...) have no counterpart here, so reading only some of them would
    sample neither as transformers would nor as asked; the advice is a call to copy.

    >>> from transformers import GenerationConfig
    >>> _generation_config_advice(GenerationConfig(do_sample=True, temperature=0.7, top_p=0.9))
    'pass the sampling arguments by name: temperature=0.7, top_p=0.9'
    >>> _generation_config_advice(GenerationConfig())
    'pass the sampling arguments by name (temperature=, top_k=, top_p=, num_tunes=)'
    """
    advice = TRANSFORMERS_ONLY["generation_config"]
    fields = {
        ours: getattr(config, theirs)
        for theirs, ours in _GENERATION_CONFIG_FIELDS.items()
        if getattr(config, theirs, None) is not None
    }
    if getattr(config, "do_sample", True) is False:
        fields["temperature"] = 0
    if not fields:
        return f"{advice} ({', '.join(f'{ours}=' for ours in _GENERATION_CONFIG_FIELDS.values())})"
    return f"{advice}: {', '.join(f'{name}={value!r}' for name, value in fields.items())}"


def tune_generator_arguments(kwargs: dict[str, Any], caller: str) -> dict[str, Any]:
    """``kwargs`` of ``caller`` (``model.generate``, the pipeline) given in transformers' names,
    as `TuneGenerator.generate` takes them: ``num_return_sequences`` is ``num_tunes`` (a
    `TypeError` when both are given), and the arguments of `TRANSFORMERS_ONLY` are refused with
    what to use instead (a `TypeError` naming ``caller``), not by Python's "unexpected keyword".

    >>> tune_generator_arguments({"num_return_sequences": 2, "seed": 0}, "model.generate")
    {'seed': 0, 'num_tunes': 2}
    >>> tune_generator_arguments({"do_sample": False}, "model.generate")
    Traceback (most recent call last):
    ...
    TypeError: model.generate takes no do_sample=: it always samples; temperature=0 picks ...
    """
    for name, instead in TRANSFORMERS_ONLY.items():
        if name in kwargs:
            if name == "generation_config":
                instead = _generation_config_advice(kwargs[name])
            raise TypeError(f"{caller} takes no {name}=: {instead}")
    kwargs = dict(kwargs)
    num_return_sequences = kwargs.pop("num_return_sequences", None)
    if num_return_sequences is not None:
        if kwargs.get("num_tunes") is not None:
            raise TypeError("give num_tunes or num_return_sequences (the same), not both")
        kwargs["num_tunes"] = num_return_sequences
    return kwargs


class WrongModelTypeError(Exception):
    """``pipeline("abc-generation", model=...)`` was given a saved model that is no MeasureNote
    model (a tune-title model, say). Not a `ValueError` on purpose: transformers' `load_model`
    catches those and re-raises them inside one error with the traceback of every class it
    tried; this one reaches the caller as it is, in one line.

    >>> from transformers import pipeline
    >>> pipeline("abc-generation", model="runs/tune-title")
    Traceback (most recent call last):
    ...
    modeling_irish.pipeline_abc.WrongModelTypeError: ... 'runs/tune-title' holds a 'tune_title' ...
    """


class _MeasureNoteAutoModel(AutoModelForCausalLM):
    """The model class that ``pipeline("abc-generation")`` loads a model name with:
    `AutoModelForCausalLM` (remote code included) once config.json says ``measurenote``
    (`check_saved_model_type`, the Hub's too). `AutoModelForCausalLM` alone answered a
    tune-title folder with a traceback and hundreds of config class names. It is named
    ``AutoModelForCausalLM`` (below): a saved pipeline records its model class by name and
    reloads it from transformers."""

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Any, *args: Any, **kwargs: Any) -> Any:
        """`AutoModelForCausalLM.from_pretrained`, after the model type check."""
        path = pretrained_model_name_or_path
        try:
            check_local_pretrained_path(path, kwargs.get("subfolder"))
            check_saved_model_type(path, "measurenote", kwargs.get("subfolder"), hub_kwargs=kwargs)
        except ValueError as err:
            raise WrongModelTypeError(
                f"pipeline({TASK!r}) samples tunes from a MeasureNote model: {err}"
            ) from None
        return AutoModelForCausalLM.from_pretrained(path, *args, **kwargs)


_MeasureNoteAutoModel.__name__ = AutoModelForCausalLM.__name__


class AbcGenerationPipeline(Pipeline):
    """Sample tunes from a `MeasureNoteForCausalLM` and its `AbcTokenizer`.

    Call it with an ABC incipit (its key, meter and rhythm condition the tune unless given) or
    ``None`` / ``""``, plus any argument of `TuneGenerator.generate`; a list of incipits gives a
    list of results. ``num_tunes`` tunes come back for each input, as dicts with
    ``generated_text`` (the ABC tune in its real key), ``valid`` and ``errors`` (what
    `validate_tune` found) and, with ``return_tunes=True``, ``tune`` (the `GeneratedTune`).

    Where it follows ``pipeline("text-generation")`` and where it differs:

    - arguments given to ``pipeline(...)`` apply to every call, the call's own on top;
    - ``num_return_sequences`` is ``num_tunes`` (give one of them);
    - without ``seed`` (or with ``None``) each call draws one from torch's global CPU
      generator, so `transformers.set_seed` makes calls reproducible; ``seed=N`` gives the same
      tunes whatever the global seed, as ``TuneGenerator.generate(seed=N)`` does, and on the
      CPU or a GPU alike (the model's device: ``cuda:0`` by default where there is one);
    - ``generated_text`` is always the whole tune (the incipit's bars included), so there is no
      ``return_full_text``/``return_text``/``return_tensors``, nor ``max_new_tokens`` or
      ``do_sample`` (length is ``num_bars``/``max_rows``, ``temperature=0`` is greedy), nor
      beams, ``streamer``, ``generation_config``... (`TRANSFORMERS_ONLY`): each is refused
      with what to use instead, as is an argument `TuneGenerator.generate` lacks;
    - ``batch_size`` changes nothing (see `__call__`), and an error on an input of a list
      names that input (``input 2 of 3: ...``).
    """

    def __call__(
        self, inputs: Any = None, *args: Any, batch_size: int | None = None, **kwargs: Any
    ):
        """Tunes for one incipit (or ``None``), or a list of results for a list of them.

        ``batch_size`` (here or in ``pipeline(...)``) is accepted and changes nothing: each
        incipit has its own key and meter, so it is sampled on its own, its ``num_tunes`` tunes
        as one batch. An empty list gives an empty list. An error on an input of a list names
        it (``input 2 of 3: ...``), its type kept.
        """
        if batch_size is not None and not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        if isinstance(inputs, (list, tuple)) and not inputs:
            return []
        if not isinstance(inputs, list):
            return super().__call__(inputs, *args, batch_size=1, **kwargs)
        results: list = []
        try:  # a generator, so that the results come one by one and a failure has its index
            for result in super().__call__((x for x in inputs), *args, batch_size=1, **kwargs):
                results.append(result)
        except Exception as err:
            _name_input(err, len(results), len(inputs))
            raise
        return results

    # transformers leaves these None (unset) in `Pipeline`, so mypy reads them as typed None
    _load_processor = False  # type: ignore[assignment]
    _load_image_processor = False  # type: ignore[assignment]
    _load_feature_extractor = False  # type: ignore[assignment]
    _load_tokenizer = True  # type: ignore[assignment]
    #: what `PIPELINE_REGISTRY.register_pipeline` sets on the class (`register`)
    _registered_impl: dict[str, dict[str, Any]]

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:
        """`Pipeline.save_pretrained`, with this file written beside the model whatever class
        object this pipeline is: one loaded from a folder's own copy (``pipeline(model=folder,
        trust_remote_code=True)``) is not the registered class, and transformers then saved
        no ``pipeline_abc.py`` while config.json's ``custom_pipelines`` still named it, so that
        the saved folder could not be loaded."""
        super().save_pretrained(save_directory, **kwargs)
        if not os.path.isfile(os.path.join(save_directory, os.path.basename(__file__))):
            from transformers.dynamic_module_utils import custom_object_save

            custom_object_save(type(self), str(save_directory))

    def _sanitize_parameters(
        self,
        return_tunes: bool | None = None,
        num_return_sequences: int | None = None,
        **generate_kwargs: Any,
    ) -> tuple[dict, dict, dict]:
        """``return_tunes`` for `postprocess`, the rest for `TuneGenerator.generate`, whose
        argument names are checked here (at ``pipeline(...)`` too, not at the first call).
        ``num_return_sequences`` is ``num_tunes`` under its transformers name."""
        postprocess = {} if return_tunes is None else {"return_tunes": return_tunes}
        if "prompt" in generate_kwargs:
            raise TypeError("give the incipit as the pipeline's input, not as prompt=")
        generate_kwargs = tune_generator_arguments(
            {**generate_kwargs, "num_return_sequences": num_return_sequences}, TASK
        )
        refuse_unknown_arguments(generate_kwargs, TASK, "return_tunes, num_return_sequences")
        return {}, generate_kwargs, postprocess

    # one incipit and no preprocess parameters (`_sanitize_parameters` gives none)
    def preprocess(self, inputs: str | None) -> dict[str, str | None]:  # type: ignore[override]
        """The incipit as ``{"prompt": ...}``: an empty or blank one is no prompt (``None``), and
        anything but a string or ``None`` is a `TypeError`."""
        if inputs is not None and not isinstance(inputs, str):
            raise TypeError(
                f"abc-generation takes an ABC incipit (str) or None, got {type(inputs).__name__}"
            )
        return {"prompt": inputs if inputs and inputs.strip() else None}

    # tunes, not a `ModelOutput`: transformers hands `postprocess` whatever this returns
    def _forward(self, model_inputs: dict, **generate_kwargs: Any) -> dict[str, list]:  # type: ignore[override]
        """The input's tunes. Without a ``seed`` (or with ``None``) one is drawn from torch's
        global CPU generator, as transformers' pipelines sample: `transformers.set_seed` makes
        the calls reproducible, and each call samples new tunes. The model may be on a GPU
        (``cuda:0`` by default where there is one): the draws are made on the CPU all the same
        (`modeling_irish.generation_sampling`), so a seed gives the same tunes on either."""
        generator = _tune_generator()(self.model, self.tokenizer)
        if generate_kwargs.get("seed") is None:  # not from torch's default device's generator
            generate_kwargs["seed"] = int(torch.randint(2**63 - 1, (), device="cpu"))
        return {"tunes": generator.generate(prompt=model_inputs["prompt"], **generate_kwargs)}

    # `_forward`'s tunes, and the one parameter `_sanitize_parameters` gives
    def postprocess(self, model_outputs: dict, return_tunes: bool = False) -> list[dict]:  # type: ignore[override]
        """One ``{"generated_text", "valid", "errors"}`` dict per tune, with the `GeneratedTune`
        itself under ``"tune"`` when ``return_tunes``."""
        results = []
        for tune in model_outputs["tunes"]:
            result = {"generated_text": tune.abc, "valid": tune.valid, "errors": list(tune.errors)}
            if return_tunes:
                result["tune"] = tune
            results.append(result)
        return results


def _name_input(err: Exception, index: int, count: int) -> None:
    """Put ``input {index + 1} of {count}: `` before the message of ``err`` (raised on that
    input of a list), or add it as a note where the message is not its first argument."""
    where = f"input {index + 1} of {count}"
    message_is_args = type(err).__str__ is BaseException.__str__
    if message_is_args and len(err.args) == 1 and isinstance(err.args[0], str):
        err.args = (f"{where}: {err.args[0]}",)
    else:
        err.add_note(f"(on {where} given to pipeline({TASK!r}))")


def refuse_unknown_arguments(kwargs: dict[str, Any], caller: str, takes: str) -> None:
    """A `TypeError` naming the ``kwargs`` that `TuneGenerator.generate` does not take (beside
    ``prompt``, which ``caller`` handles) and listing those it does, after the names ``caller``
    ``takes`` itself: a misspelt ``tempreature=`` gets one line that says what the call takes
    (and the name it is close to), not Python's "unexpected keyword" from inside the sampler.
    Nothing is checked without the package (the call then says it is needed).

    >>> refuse_unknown_arguments({"top_kk": 5}, "model.generate", "tokenizer, prompt")
    Traceback (most recent call last):
    ...
    TypeError: model.generate got unexpected argument(s) top_kk (did you mean 'top_k'?); ...
    """
    known = _generate_arguments()
    unknown = sorted(set(kwargs).difference(known, {"prompt"})) if known else []
    if unknown:
        named = ", ".join(name + _did_you_mean(name, known) for name in unknown)
        raise TypeError(
            f"{caller} got unexpected argument(s) {named}; it takes {takes} and "
            f"those of TuneGenerator.generate: {', '.join(known)}"
        )


def _did_you_mean(name: str, known: list[str]) -> str:
    """`` (did you mean 'temperature'?)`` for a ``name`` close to one of ``known``, else ""."""
    near = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _generate_arguments() -> list[str]:
    """The keyword arguments of `TuneGenerator.generate` but ``prompt`` (the input), sorted;
    empty without the package (the call then says it is needed)."""
    try:
        generate = _tune_generator().generate
    except ImportError:
        return []
    return sorted(set(inspect.signature(generate).parameters) - {"self", "prompt"})


def _tune_generator() -> Any:
    """`modeling_irish.generation.TuneGenerator`, or one clear line when the package is absent.

    The import is absolute on purpose. A saved pipeline carries this file and what it imports
    relatively; a relative ``from .generation import`` made `save_pretrained` copy the sampler's
    modules too, and they import ``tokenization`` (a sibling package), so the saved pipeline
    loaded without the package and then failed on its first call with ``No module named
    'tokenization'``. As for `MeasureNoteForCausalLM.generate`, sampling needs the package.
    Typed ``Any``: not even under ``TYPE_CHECKING`` may this file import the package, as
    transformers would then require it to load the saved pipeline (`get_imports`).
    """
    try:
        from modeling_irish.generation import TuneGenerator
    except ImportError as err:
        raise ImportError(
            f"pipeline({TASK!r}) needs the modeling-irish package installed (not only the "
            f"remote code saved with the model or pipeline), {PACKAGE_INSTALL}"
        ) from err
    return TuneGenerator


def carry_pipeline(model: Any, folder: str, *, write_code: bool = True) -> None:
    """Have the next ``model.save_pretrained(folder)`` save this task with the model, as
    `Pipeline.save_pretrained` does: its entry in config.json's ``custom_pipelines`` (set on
    ``model.config`` here) and its code (this file, written into ``folder`` unless
    ``write_code`` is false: the processes of a run but the main one).

    ``pipeline(model=folder, trust_remote_code=True)`` then picks ``abc-generation`` from the
    folder itself, a Hub repository's too, where it went by the card's ``pipeline_tag``
    (``text-generation``, a pipeline that fails on a MeasureNote model with an AttributeError);
    without ``trust_remote_code`` transformers refuses in one line that asks for it. That
    transformers rule holds with the package installed too: ``pipeline("abc-generation",
    model=folder)`` needs ``trust_remote_code=True`` for such a folder.
    """
    from transformers.dynamic_module_utils import custom_object_save

    register()
    entry = AbcGenerationPipeline._registered_impl[TASK]
    model.config.custom_pipelines = {
        TASK: {
            "impl": f"{__name__.rsplit('.', 1)[-1]}.{AbcGenerationPipeline.__name__}",
            "pt": [cls.__name__ for cls in entry["pt"]],
            "type": entry["type"],
        }
    }
    if write_code:
        os.makedirs(folder, exist_ok=True)
        custom_object_save(AbcGenerationPipeline, folder)


def register() -> None:
    """Make ``pipeline("abc-generation", model=...)`` available (done on ``import
    modeling_irish``)."""
    if TASK not in PIPELINE_REGISTRY.get_supported_tasks():
        PIPELINE_REGISTRY.register_pipeline(
            TASK,
            pipeline_class=AbcGenerationPipeline,
            pt_model=_MeasureNoteAutoModel,
            type="text",
        )
