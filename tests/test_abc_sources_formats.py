"""Corpus files in the shapes they are downloaded or exported in: gzip, bzip2 or xz compressed
(``tunes.csv.gz``, ``book.abc.xz``, in a folder too), thesession dumps as JSON lines
(``tunes.jsonl``), a dump whose ABC has its line breaks escaped as ``\\n``, and archives the
loader does not open (a zip): each read as its plain file, or refused saying what to do."""

from __future__ import annotations

import bz2
import gzip
import json
import logging
import lzma
import tarfile
import zipfile

import pytest
from abc_corpus_helpers import dump_rows, tune, write
from helpers import warnings_of

from modeling_irish.abc_sources import iter_raw_tunes, source_files

COMPRESS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


def _read(path) -> list[tuple[str, str, int]]:
    """(id prefix, text, row) of every tune the loader reads from ``path``."""
    return [(raw.prefix, raw.text, raw.row) for raw in iter_raw_tunes(str(path))]


def _plain_files(folder) -> dict[str, bytes]:
    """A tunebook and the same rows as a ``.json`` and a ``.csv`` dump."""
    book = write(folder / "book.abc", [tune(1, "One"), tune(2, "Two")])
    rows = dump_rows()[:3]
    (folder / "tunes.json").write_text(json.dumps(rows), encoding="utf-8")
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(f'"{row[k]}"' for k in header) for row in rows]
    (folder / "tunes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {name: (folder / name).read_bytes() for name in (book.name, "tunes.json", "tunes.csv")}


@pytest.mark.parametrize("suffix", list(COMPRESS))
def test_a_compressed_file_reads_as_its_plain_file(tmp_path, suffix):
    """``tunes.csv.gz`` was read as ABC ("not a text file (NUL bytes)"), and no tune found."""
    plain = _plain_files(tmp_path / "plain")
    packed = tmp_path / "packed"
    packed.mkdir()
    for name, data in plain.items():
        (packed / f"{name}{suffix}").write_bytes(COMPRESS[suffix](data))
        got = _read(packed / f"{name}{suffix}")
        assert got and got == _read(tmp_path / "plain" / name), name  # ids too: tunes, book


def test_a_folder_reads_its_compressed_abc_files_and_the_cache_key_covers_them(tmp_path):
    write(tmp_path / "f" / "a.abc", [tune(1, "One")])
    (tmp_path / "f" / "b.abc.gz").write_bytes(gzip.compress(tune(1, "Two").encode()))
    (tmp_path / "f" / "notes.txt.gz").write_bytes(gzip.compress(b"X:1\nK:G\nGA|\n"))
    assert [prefix for prefix, _, _ in _read(tmp_path / "f")] == ["f/a", "f/b"]
    # the corpus cache hashes the bytes of the files `source_files` gives
    assert [p.name for p in source_files(str(tmp_path / "f"))] == ["a.abc", "b.abc.gz"]


def test_a_damaged_compressed_file_is_an_error_that_says_so(tmp_path):
    path = tmp_path / "tunes.csv.gz"
    path.write_bytes(gzip.compress(b"tune_id,abc\n1,GABc|\n" * 50)[:-12])  # cut short
    with pytest.raises(ValueError) as err:
        list(iter_raw_tunes(str(path)))
    assert str(err.value).startswith(
        f"{path} is a gzip-compressed file that cannot be decompressed ("
    )
    assert str(err.value).endswith("test it with gunzip -t, or give it decompressed")


@pytest.mark.parametrize("name", ["tunes.jsonl", "tunes.ndjson", "tunes.jsonl.gz"])
def test_a_json_lines_dump_reads_as_the_json_one(tmp_path, name):
    """A ``.jsonl`` dump (one object a line) was read as ABC: "a tune starts with an X: line"."""
    rows = dump_rows()[:3]
    (tmp_path / "tunes.json").write_text(json.dumps(rows), encoding="utf-8")
    lines = ("\n".join(json.dumps(row) for row in rows) + "\n\n").encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(lines) if name.endswith(".gz") else lines)
    got = _read(path)
    assert len(got) == 3 and got == _read(tmp_path / "tunes.json")


def test_a_json_lines_dump_with_a_bad_line_names_it(tmp_path):
    path = tmp_path / "tunes.jsonl"
    path.write_text(json.dumps(dump_rows()[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tunes.jsonl is not a thesession.org dump \(invalid "
                       r"JSON on line 2: Expecting property name"):  # fmt: skip
        list(iter_raw_tunes(str(path)))


def test_json_lines_named_json_say_to_name_it_jsonl(tmp_path):
    path = tmp_path / "tunes.json"
    path.write_text("\n".join(json.dumps(row) for row in dump_rows()[:2]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"Extra data.*; one JSON object a line is read from a "
                       r"\.jsonl file\)$"):  # fmt: skip
        list(iter_raw_tunes(str(path)))


def test_a_dump_body_with_escaped_line_breaks_reads_them_as_line_breaks(tmp_path, caplog):
    """An export that wrote each line break as the two characters ``\\n`` (MySQL, a CSV with an
    escape character) gave a body the parser read without a word, the ``\\n`` passed over."""
    rows = dump_rows()[:3]
    rows[0]["abc"] = r"GABc dedB|dBGB AGEG|\nGABc d2 d2|dBAF D4|"
    rows[1]["abc"] = r"FAA2 FAdA|\r\nFAA2 dfed|"
    rows[2]["abc"] = "GABc|\nd2 \\n d2|"  # a real line break: left as it is
    path = tmp_path / "tunes.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        texts = [text for _, text, _ in _read(path)]
    assert texts[0].endswith("\nGABc dedB|dBGB AGEG|\nGABc d2 d2|dBAF D4|\n")
    assert texts[1].endswith("\nFAA2 FAdA|\nFAA2 dfed|\n")
    assert texts[2].endswith("\nGABc|\nd2 \\n d2|\n")
    assert warnings_of(caplog, "modeling_irish.abc_sources") == [
        f"{path}: 2 rows hold their ABC on one line with its line breaks written \\n (an "
        "export that escaped them); read as line breaks: rows 1, 2"
    ]


def test_an_abc_file_keeps_its_backslash_n(tmp_path):
    """ABC files are read as they are: only a dump's one-line body is taken as escaped."""
    path = write(tmp_path / "book.abc", ["X:1\nT:A\nK:G\nGABc|\\ndBGB|\n"])
    ((_, text, _),) = _read(path)
    assert text.endswith("GABc|\\ndBGB|\n")


@pytest.mark.parametrize("name", ["TheSession-data.zip", "tunes.tar", "tunes.tar.gz"])
def test_an_archive_says_to_extract_it(tmp_path, name):
    """A zip of tunes was "not a text file (NUL bytes)", or, stored uncompressed, read with its
    binary headers as music; it is refused, saying what to do."""
    path = tmp_path / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:  # stored: its tunes' text in the clear
            archive.writestr("tunes.abc", "X:1\nT:A\nK:G\nGABc|\n")
    else:
        (tmp_path / "tunes.abc").write_text("X:1\nT:A\nK:G\nGABc|\n", encoding="utf-8")
        with tarfile.open(path, "w:gz" if name.endswith(".gz") else "w") as archive:
            archive.add(tmp_path / "tunes.abc", "tunes.abc")
    kind = "zip" if name.endswith(".zip") else "tar"
    with pytest.raises(ValueError) as err:
        list(iter_raw_tunes(str(path)))
    assert str(err.value) == (
        f"{path} is a {kind} archive, not ABC nor a dump: extract it and give its files or folder"
    )
