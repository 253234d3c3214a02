"""The files beside a saved tune-title model's weights that depend on its title tower: the
LICENSE and NOTICE of MiniLM's Apache-2.0 weights and its title_tokenizer/, never written over
or removed when they are the user's, and removed from the Hub when a save removed them here."""

from __future__ import annotations

from modeling_irish import title_encoders
from modeling_irish.title_encoders import minilm_notice, write_minilm_license_files


def test_a_minilm_save_keeps_the_users_licence_and_notice_and_says_what_the_folder_lacks(
    tmp_path, caplog
):
    """A MiniLM model saved into a folder overwrote the user's own LICENSE and NOTICE with the
    Apache-2.0 terms and our NOTICE: they stay, and a warning says what the folder now lacks."""
    mine, my_notice = "MIT License\n\nCopyright (c) 2026 A Fiddler\n", "My tunebook.\n"
    (tmp_path / "LICENSE").write_text(mine)
    (tmp_path / "NOTICE").write_text(my_notice)
    with caplog.at_level("WARNING"):
        assert write_minilm_license_files(tmp_path) == []
    assert (tmp_path / "LICENSE").read_text() == mine
    assert (tmp_path / "NOTICE").read_text() == my_notice
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
    assert (tmp_path / "NOTICE").read_text() == minilm_notice(license_copied=False)
    # a LICENSE holding the Apache-2.0 terms (a project's, with its copyright line) is kept
    # without a warning: the folder has the terms, and the NOTICE says where
    project = "Copyright 2026 A Fiddler\n\n" + title_encoders.apache_license_text()
    (tmp_path / "LICENSE").write_text(project)
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert write_minilm_license_files(tmp_path) == ["NOTICE"]
    assert (tmp_path / "LICENSE").read_text() == project and "kept" not in caplog.text
    assert (tmp_path / "NOTICE").read_text() == minilm_notice(license_copied=True)
    # the files a MiniLM save wrote are its own: written again
    (tmp_path / "LICENSE").unlink()
    assert write_minilm_license_files(tmp_path) == ["LICENSE", "NOTICE"]
    assert write_minilm_license_files(tmp_path) == ["LICENSE", "NOTICE"]
