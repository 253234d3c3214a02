"""Tests of ``pipeline("abc-generation")`` on a tiny random model saved as a folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from helpers import one_torch_thread, save_tiny_measurenote  # noqa: F401
from transformers import pipeline, set_seed

import modeling_irish  # noqa: F401  (registers the task)
from modeling_irish.generation import TuneGenerator
from modeling_irish.pipeline_abc import AbcGenerationPipeline
from tokenization.abc_parser import parse_abc
from tokenization.abc_tune import AbcParseError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAIN = [
    "X:1\nT:a\nR:reel\nM:4/4\nL:1/8\nK:D\n|:FAdA FAdA|B2 (3cBA B4|d3e f2ed|[DA]4 z4:|\n",
    "X:2\nT:b\nR:jig\nM:6/8\nL:1/8\nK:G\nD|:GBd gdB|A3/2B/2c A2D|GBd g2e|1dBA G3:|2dBA G2||\n",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return str(save_tiny_measurenote(tmp_path_factory.mktemp("model"), TRAIN))


def test_the_pipeline_gives_the_tunes_of_the_generator(model_dir):
    """`pipeline("abc-generation")` loads the folder through the Auto classes and samples what
    `TuneGenerator` samples with the same arguments."""
    pipe = pipeline("abc-generation", model=model_dir)
    assert isinstance(pipe, AbcGenerationPipeline)
    out = pipe(None, rhythm="jig", key="G", num_tunes=2, seed=3)
    direct = TuneGenerator(pipe.model, pipe.tokenizer).generate(2, rhythm="jig", key="G", seed=3)
    assert [o["generated_text"] for o in out] == [t.abc for t in direct]
    assert all(o["valid"] and o["errors"] == [] for o in out)
    assert "K:G" in out[0]["generated_text"] and "M:6/8" in out[0]["generated_text"]


def test_an_incipit_is_continued_and_a_list_gives_one_result_each(model_dir):
    pipe = pipeline("abc-generation", model=model_dir)
    incipit = "X:1\nM:6/8\nL:1/8\nK:D\nDFA dAF|"
    out = pipe([incipit, ""], num_tunes=1, seed=1, return_tunes=True)
    assert len(out) == 2 and all(len(o) == 1 for o in out)
    continued = out[0][0]
    assert continued["generated_text"].split("K:D\n", 1)[1].startswith("DFA dAF |")
    assert continued["tune"].meter == "6/8"
    assert parse_abc(continued["generated_text"]).meter == "6/8"


def test_the_pipeline_writes_the_meter_symbol_asked_for(model_dir):
    """``meter="C|"`` was written ``M:2/2``."""
    pipe = pipeline("abc-generation", model=model_dir)
    (out,) = pipe(None, rhythm="reel", meter="C|", num_tunes=1, seed=0)
    assert "\nM:C|\n" in out["generated_text"]


def test_batch_size_is_accepted_and_changes_nothing(model_dir):
    """transformers' ``batch_size`` handed the sampler a list of incipits (a TypeError)."""
    pipe = pipeline("abc-generation", model=model_dir)
    alone = pipe([None, "X:1\nM:6/8\nL:1/8\nK:D\nDFA dAF|"], num_tunes=2, seed=0)
    assert (
        pipe([None, "X:1\nM:6/8\nL:1/8\nK:D\nDFA dAF|"], num_tunes=2, seed=0, batch_size=2) == alone
    )
    batched = pipeline("abc-generation", model=model_dir, batch_size=2)
    assert batched([None, "X:1\nM:6/8\nL:1/8\nK:D\nDFA dAF|"], num_tunes=2, seed=0) == alone
    assert pipe([], num_tunes=1) == []  # was an IndexError inside transformers
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1, got 0"):
        pipe(None, batch_size=0)


def test_wrong_inputs_are_named(model_dir):
    pipe = pipeline("abc-generation", model=model_dir)
    with pytest.raises(TypeError, match="ABC incipit"):
        pipe(42)
    with pytest.raises(TypeError, match="not as prompt="):
        pipe(None, prompt="X:1\nK:D\nDFA|")


INCIPIT = "X:1\nM:6/8\nL:1/8\nK:D\nDFA dAF|"


def test_without_a_seed_the_calls_follow_set_seed(model_dir):
    """The seed defaulted to 0: every call without one gave the same tunes, whatever
    `set_seed` said. Now, as with transformers' pipelines, the global seed decides."""
    pipe = pipeline("abc-generation", model=model_dir)
    set_seed(1)
    first, second = pipe(None), pipe([INCIPIT])
    set_seed(1)
    assert pipe(None) == first and pipe([INCIPIT]) == second
    assert pipe(None) != first  # the next call samples other tunes
    assert pipe(None, seed=5) == pipe(None, seed=5)
    assert pipe(None, seed=None)[0]["valid"]


def test_num_return_sequences_and_the_text_generation_names(model_dir):
    """``num_return_sequences`` (what text-generation calls it) failed inside the sampler with
    ``TuneGenerator.generate() got an unexpected keyword argument``, as did a misspelt
    argument given to ``pipeline(...)``, at the first call only."""
    pipe = pipeline("abc-generation", model=model_dir)
    three = pipe(None, num_tunes=3, seed=0)
    assert pipe(None, num_return_sequences=3, seed=0) == three
    at_init = pipeline("abc-generation", model=model_dir, num_return_sequences=3, seed=0)
    assert at_init(None) == three and len(at_init(None, num_tunes=1)) == 1
    with pytest.raises(TypeError, match="num_tunes or num_return_sequences .the same., not both"):
        pipe(None, num_tunes=2, num_return_sequences=2)
    with pytest.raises(TypeError, match="takes no return_full_text=: generated_text is always"):
        pipe(INCIPIT, return_full_text=False)
    with pytest.raises(TypeError, match="takes no max_new_tokens=: .* bars .num_bars=16."):
        pipe(None, max_new_tokens=50)
    with pytest.raises(
        TypeError, match=r"unexpected argument\(s\) tempreature \(did you mean 'temperature'\?\); "
    ):
        pipeline("abc-generation", model=model_dir, tempreature=0.5)


def test_transformers_generation_arguments_say_what_to_use_instead(model_dir):
    """``num_beams``, ``streamer``, ``generation_config``... fell through to the generic
    "unexpected argument(s)" list, at the call and at ``pipeline(...)``; each now says what
    this pipeline does instead."""
    from transformers import GenerationConfig

    pipe = pipeline("abc-generation", model=model_dir)
    with pytest.raises(TypeError, match="^abc-generation takes no num_beams=: there is no beam"):
        pipe(None, num_beams=4)
    with pytest.raises(TypeError, match="takes no streamer=: there is no streaming"):
        pipe(None, streamer=object())
    with pytest.raises(TypeError, match="takes no generation_config=: .* by name: top_p=0.9$"):
        pipe(None, generation_config=GenerationConfig(top_p=0.9))
    with pytest.raises(TypeError, match="takes no repetition_penalty=: there is no repetition"):
        pipeline("abc-generation", model=model_dir, repetition_penalty=1.2)


def test_an_error_on_an_input_of_a_list_names_the_input(model_dir):
    """One bad incipit in a list failed with the message of a single one: which was it?"""
    pipe = pipeline("abc-generation", model=model_dir)
    with pytest.raises(TypeError, match=r"^input 2 of 2: abc-generation takes an ABC incipit"):
        pipe([INCIPIT, 42])
    short_bar = "X:1\nM:6/8\nL:1/8\nK:D\nDFA dAF|DFA dA|DFA dAF|"
    with pytest.raises(ValueError, match=r"^input 2 of 3: the prompt does not scan in 6/8"):
        pipe([None, short_bar, None], seed=0)
    with pytest.raises(ValueError, match=r"^the prompt does not scan in 6/8"):
        pipe(short_bar, seed=0)
    with pytest.raises(AbcParseError, match=r"^input 1 of 1: tune: line 1, column 1") as parse:
        pipe(["hello"])
    assert parse.value.line == 1  # the reader's error, its fields kept


def test_a_model_whose_config_says_return_dict_false_still_generates_and_scores(
    model_dir, tmp_path
):
    """``return_dict=False`` (kept in config.json) makes the model's own forward return tuples;
    the sampler, the pipeline and the scorer read fields, so they ask for the dataclass."""
    from modeling_irish.lm_evaluation import evaluate_lm_on_texts
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
    from tokenization.tokenization_abc import AbcTokenizer

    model = MeasureNoteForCausalLM.from_pretrained(model_dir, return_dict=False).eval()
    tokenizer = AbcTokenizer.from_pretrained(model_dir)
    assert isinstance(model(**tokenizer(TRAIN[0])), tuple)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    pipe = pipeline("abc-generation", model=str(tmp_path))
    assert pipe.model.config.return_dict is False
    out = pipe("X:1\nM:6/8\nL:1/8\nK:D\nDFA dAF|", num_tunes=2, seed=1)
    assert len(out) == 2 and all(o["valid"] for o in out)
    assert TuneGenerator(model, tokenizer).generate(1, rhythm="reel", seed=0)[0].valid
    assert evaluate_lm_on_texts(model, tokenizer, TRAIN)["tunes"] == 2


def test_a_folder_of_another_model_type_is_refused_in_one_line(model_dir, tmp_path):
    """A tune-title folder failed inside `AutoModelForCausalLM` with a 24-line error: a
    traceback and the hundreds of config classes it takes."""
    from test_modeling_tune_title import TuneTitleModelTester

    from modeling_irish import pipeline_abc
    from modeling_irish.modeling_tune_title import TuneTitleModel

    TuneTitleModel(TuneTitleModelTester().get_config()).save_pretrained(tmp_path / "tt")
    with pytest.raises(Exception) as refused:  # noqa: PT011 (the type is checked below)
        pipeline("abc-generation", model=str(tmp_path / "tt"))
    message = str(refused.value)
    assert "\n" not in message and "tt' holds a 'tune_title' model, not a 'measurenote'" in message
    assert isinstance(refused.value, pipeline_abc.WrongModelTypeError)
    # a saved pipeline names its model class, which transformers must have to reload it
    pipeline("abc-generation", model=model_dir).save_pretrained(tmp_path / "pipe")
    reloaded = pipeline(model=str(tmp_path / "pipe"), trust_remote_code=True)
    assert type(reloaded).__name__ == "AbcGenerationPipeline"
    assert type(reloaded.model).__name__ == "MeasureNoteForCausalLM"


def test_a_saved_pipeline_carries_no_sampler_and_names_the_missing_package(
    model_dir, tmp_path, monkeypatch
):
    """The saved pipeline carried the sampler's modules (``generation.py``...), whose absolute
    ``tokenization`` imports failed on the first call without the package, in a traceback
    ending in ``No module named 'tokenization'``; the call now says what is missing."""
    pipe = pipeline("abc-generation", model=model_dir)
    pipe.save_pretrained(tmp_path / "pipe")
    saved = {path.name for path in (tmp_path / "pipe").glob("*.py")}
    assert {"pipeline_abc.py", "modeling_measurenote.py", "tokenization_abc.py"} <= saved
    assert not saved & {"generation.py", "generation_sampling.py", "constraints.py"}
    monkeypatch.setitem(sys.modules, "modeling_irish.generation", None)  # as if not installed
    with pytest.raises(ImportError) as missing:
        pipe(None, seed=0)
    message = str(missing.value)
    assert message.startswith("pipeline('abc-generation') needs the modeling-irish package")
    assert "\n" not in message and "not on PyPI" in message


# Runs in a fresh, isolated interpreter (-I) where the package cannot be imported.
WITHOUT_PACKAGE = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class Hide(importlib.abc.MetaPathFinder):  # an editable install would expose the package
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("modeling_irish", "tokenization", "training"):
                raise ImportError(name + " is hidden in this test")

    sys.meta_path.insert(0, Hide())
    from transformers import pipeline

    pipe = pipeline(model=sys.argv[1], trust_remote_code=True)
    try:
        pipe(None, seed=0)
        error = None
    except Exception as err:
        error = [type(err).__name__, str(err)]
    print(json.dumps({"pipeline": type(pipe).__name__, "error": error}))
    """
)


@pytest.mark.slow  # a fresh interpreter that imports torch and transformers
def test_a_saved_pipeline_without_the_package_says_it_needs_the_package(model_dir, tmp_path):
    """End to end, where only the saved folder's code can be imported: the pipeline loads, and
    its call names the missing package instead of ``No module named 'tokenization'``."""
    folder = tmp_path / "pipe"
    pipeline("abc-generation", model=model_dir).save_pretrained(folder)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    result = subprocess.run(
        [sys.executable, "-I", "-c", WITHOUT_PACKAGE, str(folder)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, encoding="utf-8",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["pipeline"] == "AbcGenerationPipeline"
    kind, message = report["error"]
    assert kind == "ImportError" and "\n" not in message
    assert message.startswith("pipeline('abc-generation') needs the modeling-irish package")


def test_the_model_class_takes_the_folder_by_transformers_keyword(tmp_path):
    """``from_pretrained(pretrained_model_name_or_path=...)``, transformers' name for the
    folder, is checked as a positional folder is: it was a TypeError (the name was ``path``)."""
    from test_modeling_tune_title import TuneTitleModelTester

    from modeling_irish import pipeline_abc
    from modeling_irish.modeling_tune_title import TuneTitleModel

    TuneTitleModel(TuneTitleModelTester().get_config()).save_pretrained(tmp_path / "tt")
    with pytest.raises(pipeline_abc.WrongModelTypeError, match="holds a 'tune_title' model"):
        pipeline_abc._MeasureNoteAutoModel.from_pretrained(
            pretrained_model_name_or_path=str(tmp_path / "tt")
        )


def test_a_pipeline_loaded_from_a_saved_folder_saves_its_code_again(model_dir, tmp_path):
    """A pipeline loaded with ``pipeline(model=folder, trust_remote_code=True)`` is the
    folder's copy of the class, not the registered one: its `save_pretrained` wrote no
    ``pipeline_abc.py`` while config.json named it, and the folder then failed to load."""
    pipeline("abc-generation", model=model_dir).save_pretrained(tmp_path / "one")
    reloaded = pipeline(model=str(tmp_path / "one"), trust_remote_code=True)
    reloaded.save_pretrained(tmp_path / "two")
    assert (tmp_path / "two" / "pipeline_abc.py").is_file()
    again = pipeline(model=str(tmp_path / "two"), trust_remote_code=True)
    assert type(again).__name__ == "AbcGenerationPipeline"
