"""A thesession.org dump given on stdin (``irish-tune COMMAND - < tunes.csv``) is said to be one
by every command that reads stdin, in the same words (`dump_text_reason`): a dump is read by its
file's suffix, and its rows are no ABC; "no X: line" misled."""

from __future__ import annotations

import io

import pytest

CSV = 'tune_id,name,type,meter,mode,abc\n1,Kesh,jig,6/8,Gmajor,"GAG GAB|"\n'
JSON = '[{"name": "Kesh", "type": "jig", "mode": "Gmajor", "abc": "GAG GAB|"}]'
SAID = "thesession.org {} dump, which is read from a file named .csv, .json, .jsonl"


@pytest.mark.parametrize(("dump", "kind"), [(CSV, "CSV"), (JSON, "JSON")])
def test_check_says_a_dump_on_stdin_is_one(monkeypatch, capsys, dump, kind):
    from modeling_irish.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(dump))
    assert main(["check", "-"]) == 1
    assert f"FAIL stdin: no tune found (a {SAID.format(kind)})" in capsys.readouterr().out


def test_generate_says_a_dump_prompt_on_stdin_is_one(monkeypatch):
    from modeling_irish.generation_cli import _read_prompt

    monkeypatch.setattr("sys.stdin", io.StringIO(CSV))
    with pytest.raises(ValueError, match=f"--prompt stdin holds no tune: a {SAID.format('CSV')}"):
        _read_prompt("-")


def test_identify_says_a_dump_on_stdin_is_one(monkeypatch):
    from modeling_irish.retrieval_cli import _identify_tunes, _NoTuneToName

    monkeypatch.setattr("sys.stdin", io.StringIO(CSV))
    with pytest.raises(_NoTuneToName, match=f"stdin: no tune to name \\(a {SAID.format('CSV')}"):
        _identify_tunes("-", "stdin")


def test_a_line_of_notes_is_no_dump_header():
    from tokenization.file_bytes import dump_text_format

    assert dump_text_format("abc,d|") is None  # c, an octave down: notes
    assert dump_text_format("name,abc\n") == "CSV"
