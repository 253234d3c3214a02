"""Every reader of a user's ABC decodes it alike (`tokenization.check.decode_abc`): UTF-8 with or
without a byte-order mark, UTF-16 with one, Windows-1252 (old tunebooks), and CR LF or CR-only
line ends, the title coming out as written whatever the entry point: `check`, `transpose` of a
file and of stdin, `read_input` (identify, evaluate-lm, generate's prompt) and the corpus loader's
`iter_raw_tunes`, dumps included."""

from __future__ import annotations

import codecs
import io
import json

import pytest

from modeling_irish.abc_sources import iter_raw_tunes
from modeling_irish.cli import main, read_input

BODY = "|:DFAd fdAF|GBdg fdAF|DFAd fdAF|GEFD E2D2:|"
TUNE = f"X:1\nT:Seán Ryan's\nR:reel\nM:4/4\nL:1/8\nK:D\n{BODY}\n"
ENCODINGS = {
    "utf-8": TUNE.encode(),
    "utf-8 bom": codecs.BOM_UTF8 + TUNE.encode(),
    "windows-1252": TUNE.encode("cp1252"),
    "utf-16le bom": codecs.BOM_UTF16_LE + TUNE.encode("utf-16-le"),
    "utf-16be bom": codecs.BOM_UTF16_BE + TUNE.encode("utf-16-be"),
    "utf-8 crlf": TUNE.replace("\n", "\r\n").encode(),
    "utf-8 cr": TUNE.replace("\n", "\r").encode(),
    "windows-1252 cr": TUNE.replace("\n", "\r").encode("cp1252"),
    "utf-8 bom crlf": codecs.BOM_UTF8 + TUNE.replace("\n", "\r\n").encode(),
    "utf-16 crlf": TUNE.replace("\n", "\r\n").encode("utf-16"),
}
CASES = pytest.mark.parametrize("data", ENCODINGS.values(), ids=list(ENCODINGS))


@CASES
def test_check_reads_every_encoding(tmp_path, capsys, data):
    path = tmp_path / "tune.abc"
    path.write_bytes(data)
    assert main(["check", "--json", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["round_trip_ok"] == 1 and report["failures"] == []


@CASES
@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_transpose_keeps_the_title_of_every_encoding(tmp_path, monkeypatch, capsys, data, stdin):
    path = tmp_path / "tune.abc"
    path.write_bytes(data)
    if stdin:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["transpose", "-" if stdin else str(path)]) == 0
    out = capsys.readouterr().out
    assert "T:Seán Ryan's\n" in out and "\ufeff" not in out and "\r" not in out


@CASES
def test_read_input_and_the_corpus_reader_agree_on_every_encoding(tmp_path, data):
    path = tmp_path / "tune.abc"
    path.write_bytes(data)
    assert read_input(str(path)).replace("\r\n", "\n").replace("\r", "\n") == TUNE
    (raw,) = iter_raw_tunes(str(path))
    assert raw.text.startswith("X:1\nT:Seán Ryan's\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_a_dump_of_every_encoding_keeps_its_titles(tmp_path, encoding):
    row = {"tune_id": 1, "setting_id": 1, "name": "Seán Ryan's", "type": "reel"}
    row |= {"meter": "4/4", "mode": "Dmajor", "abc": BODY}
    path = tmp_path / "tunes.json"
    path.write_bytes(json.dumps([row], ensure_ascii=False).encode(encoding))
    (raw,) = iter_raw_tunes(str(path))
    assert "T:Seán Ryan's\n" in raw.text
