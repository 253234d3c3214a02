"""A saved MeasureNote folder loads via the Auto classes with trust_remote_code, package absent."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from helpers import tiny_measurenote_config

from modeling_irish.configuration_measurenote import MEASURENOTE_FEATURE_NAMES, MeasureNoteConfig
from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM, MeasureNoteModel

REPO_ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter whose sys.path holds neither the repository nor PYTHONPATH.
LOADER = textwrap.dedent(
    """
    import importlib.abc, importlib.util, json, os, sys
    import torch

    repo, folder, workdir = sys.argv[1:4]
    report = {"repo_on_path": any(os.path.abspath(p or os.getcwd()) == repo for p in sys.path)}
    # An editable install would make the package importable from site-packages: hide it, so
    # that loading below can only use the files copied into the folder.
    report["package_installed"] = importlib.util.find_spec("modeling_irish") is not None

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("modeling_irish", "tokenization"):
                raise ImportError(f"{name} is hidden in this test")
            return None

    sys.meta_path.insert(0, Hide())
    try:
        import modeling_irish  # noqa: F401
        report["package_importable"] = True
    except ImportError:
        report["package_importable"] = False

    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True).eval()
    backbone = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    inputs = torch.load(os.path.join(workdir, "inputs.pt"))
    with torch.no_grad():
        logits = model(**inputs).logits
        hidden = backbone(**inputs).last_hidden_state
    torch.save({"logits": logits, "hidden": hidden}, os.path.join(workdir, "outputs.pt"))
    report.update(
        config_class=type(config).__name__,
        model_class=type(model).__name__,
        model_module=type(model).__module__,
        backbone_class=type(backbone).__name__,
        loaded_modules=sorted(m for m in sys.modules if m.split(".")[0] == "modeling_irish"),
    )
    print(json.dumps(report))
    """
)


def _tiny_config() -> MeasureNoteConfig:
    vocab_sizes = {name: 11 for name in MEASURENOTE_FEATURE_NAMES}
    return tiny_measurenote_config(vocab_sizes=vocab_sizes, measure_hidden_size=8)


def test_trust_remote_code_round_trip(tmp_path):
    MeasureNoteConfig.register_for_auto_class()
    MeasureNoteModel.register_for_auto_class("AutoModel")
    MeasureNoteForCausalLM.register_for_auto_class("AutoModelForCausalLM")
    torch.manual_seed(0)
    model = MeasureNoteForCausalLM(_tiny_config()).eval()
    folder = tmp_path / "saved"
    # save_pretrained records only the saved class in auto_map; the backbone loads from the same
    # weights (base_model_prefix), so list it too.
    model.config.auto_map = {"AutoModel": "modeling_measurenote.MeasureNoteModel"}
    model.save_pretrained(folder)

    saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert saved["auto_map"] == {
        "AutoConfig": "configuration_measurenote.MeasureNoteConfig",
        "AutoModel": "modeling_measurenote.MeasureNoteModel",
        "AutoModelForCausalLM": "modeling_measurenote.MeasureNoteForCausalLM",
    }
    code = (
        "configuration_measurenote.py",
        "modeling_measurenote.py",
        "measurenote_checks.py",
        "measurenote_layers.py",
        "measurenote_losses.py",
        "transformers_version.py",
        "saved_folders.py",
        "hub_repo_ids.py",
    )
    for name in (*code, "model.safetensors"):
        assert (folder / name).is_file(), name

    generator = torch.Generator().manual_seed(1)
    inputs = {
        "input_ids": torch.randint(0, 11, (2, 9, 20), generator=generator),
        "measure_numbers": torch.tensor([[0, 0, 0, 1, 1, 2, 2, 2, 3]] * 2),
    }
    torch.save(inputs, tmp_path / "inputs.pt")
    script = tmp_path / "load.py"
    script.write_text(LOADER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HOME=str(tmp_path / "hf_home"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, str(script), str(REPO_ROOT), str(folder), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        encoding="utf-8",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert not report["repo_on_path"]
    assert not report["package_importable"]
    assert report["loaded_modules"] == []
    assert report["config_class"] == "MeasureNoteConfig"
    assert report["model_class"] == "MeasureNoteForCausalLM"
    assert report["backbone_class"] == "MeasureNoteModel"
    assert report["model_module"].startswith("transformers_modules.")

    outputs = torch.load(tmp_path / "outputs.pt")
    with torch.no_grad():
        expected = model(**inputs, output_hidden_states=True)
    torch.testing.assert_close(outputs["logits"], expected.logits, rtol=0, atol=1e-6)
    torch.testing.assert_close(outputs["hidden"], expected.hidden_states[-1], rtol=0, atol=1e-6)


SAVED_ENTRY_MODULES = (
    "modeling_irish.configuration_measurenote",
    "modeling_irish.configuration_tune_title",
    "modeling_irish.modeling_measurenote",
    "modeling_irish.modeling_tune_title",
    "tokenization.tokenization_abc",
)


@pytest.mark.parametrize("version", ["4.57.6", "5.9.0"])
@pytest.mark.parametrize("name", SAVED_ENTRY_MODULES)
def test_saved_code_refuses_transformers_4_in_one_line(monkeypatch, name, version):
    # On transformers 4.x a saved folder's code used to fail deep inside, with
    # "cannot import name 'initialization' from 'transformers'"; each entry module checks first.
    # sys.modules' entry, not a module-level `import transformers`: importing the library's
    # submodules can replace the lazy top-level module that an early import bound
    # 5.0-5.9 too: they cannot load the tokenizer as remote code (tests/test_dependencies.py)
    monkeypatch.setattr(sys.modules["transformers"], "__version__", version)
    package = name.split(".")[0]
    for module in (name, f"{package}.transformers_version"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    found = re.escape(f"needs transformers>=5.10.1,<6, found transformers {version}")
    with pytest.raises(ImportError, match=found):
        importlib.import_module(name)


def test_both_version_checks_are_the_same_file():
    # modeling_irish/ and tokenization/ both copy transformers_version.py into one saved folder
    model_copy = REPO_ROOT / "modeling_irish" / "transformers_version.py"
    tokenizer_copy = REPO_ROOT / "tokenization" / "transformers_version.py"
    assert model_copy.read_text(encoding="utf-8") == tokenizer_copy.read_text(encoding="utf-8")


def test_both_repo_id_checks_are_the_same_file():
    # the models' and the tokenizer's from_pretrained refuse a name that is neither a folder nor
    # a Hub repository id with one check, which each saves beside its own code
    model_copy = REPO_ROOT / "modeling_irish" / "hub_repo_ids.py"
    tokenizer_copy = REPO_ROOT / "tokenization" / "hub_repo_ids.py"
    assert model_copy.read_text(encoding="utf-8") == tokenizer_copy.read_text(encoding="utf-8")


@pytest.mark.parametrize("loader", ["MeasureNoteForCausalLM", "MeasureNoteConfig", "AbcTokenizer"])
def test_models_and_tokenizer_refuse_a_missing_non_hub_path_in_the_same_words(
    loader, tmp_path, monkeypatch
):
    from tokenization.tokenization_abc import AbcTokenizer

    monkeypatch.chdir(tmp_path)  # no runs/ here: the message holds no mistyped-path hint

    classes = {
        "MeasureNoteForCausalLM": MeasureNoteForCausalLM,
        "MeasureNoteConfig": MeasureNoteConfig,
        "AbcTokenizer": AbcTokenizer,
    }
    same = "'runs/no/such/step_1': no such folder here, and not a Hub repository id: "
    why = "'runs/no/such/step_1' has 4 parts separated by '/'; a Hub id is `name` or `user/name`"
    with pytest.raises(OSError, match=re.escape(same + why) + ".*; give (the folder "
                       "save_pretrained wrote|a saved AbcTokenizer folder)$"):  # fmt: skip
        classes[loader].from_pretrained("runs/no/such/step_1")
    with pytest.raises(OSError, match=r"^'\./runs/a': no such folder here; give [^;]*$"):
        classes[loader].from_pretrained("./runs/a")  # a path: not a word of Hub ids


@pytest.mark.parametrize(
    "loader", ["MeasureNoteForCausalLM", "MeasureNoteConfig", "AbcTokenizer", "TuneTitleModel"]
)
def test_a_hub_id_shaped_path_into_a_folder_here_is_refused_before_the_hub(
    loader, tmp_path, monkeypatch
):
    """``from_pretrained("runs/measurenote-smal")`` beside a ``runs/`` folder went to the Hub:
    unreachable (not offline), 5 retries and ~23 s, then a network error. It is refused at
    once, naming the close folders in ``runs/``; the Hub is never asked (offline here, so a
    fall-through fails with another message)."""
    from huggingface_hub import constants

    from modeling_irish.modeling_tune_title import TuneTitleModel
    from tokenization.tokenization_abc import AbcTokenizer

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.chdir(tmp_path)
    for folder in ("measurenote-small", "measurenote-big", "tunes"):
        (tmp_path / "runs" / folder).mkdir(parents=True)
    classes = {
        "MeasureNoteForCausalLM": MeasureNoteForCausalLM,
        "MeasureNoteConfig": MeasureNoteConfig,
        "AbcTokenizer": AbcTokenizer,
        "TuneTitleModel": TuneTitleModel,
    }
    said = (
        "'runs/measurenote-smal': no such folder here, though runs/ is one (folders in it with "
        "a close name: runs/measurenote-small, runs/measurenote-big); give "
    )
    hub = "to load the Hub repository 'runs/measurenote-smal', call from_pretrained from a folder"
    with pytest.raises(OSError, match=re.escape(said) + ".*" + re.escape(hub)):
        classes[loader].from_pretrained("runs/measurenote-smal", cache_dir=tmp_path / "hub")
    with pytest.raises(
        OSError, match=re.escape("runs/ is one (no folder in it with a close name)")
    ):
        classes[loader].from_pretrained("runs/zzz", cache_dir=tmp_path / "hub")
