"""The names `irish-tune render` gives its outputs: visible for a hidden input file, bounded
for a long one (a file name holds 255 bytes), and a thesession.org dump on stdin refused with
why (a dump is read by its file's suffix)."""

from __future__ import annotations

import io
import os

import pytest
from render_helpers import ABC, BOOK, _write


def test_a_hidden_input_files_tunes_are_written_as_visible_files(tmp_path, capsys):
    from modeling_irish.cli import main

    hidden = _write(tmp_path / ".kesh.abc", ABC)
    out = tmp_path / "out"
    assert main(["render", hidden, "--out", str(out), "--formats", "midi"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["kesh.mid"]


def test_a_long_file_names_outputs_fit_a_file_name_and_stay_apart(tmp_path, capsys):
    """Two book files of 250-byte names that differ only at their end: every output (a book's
    ``_1``, ``.musicxml``) fits 255 bytes, and the two books' names differ."""
    from modeling_irish.cli import main

    book = BOOK.replace("[[AF]", "ABA ABd|]")
    first = _write(tmp_path / ("é" * 123 + "a.abc"), book)  # 247 bytes before .abc
    second = _write(tmp_path / ("é" * 123 + "b.abc"), book)
    out = tmp_path / "out"
    argv = ["render", first, second, "--out", str(out), "--formats", "midi,musicxml"]
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 12  # 3 tunes, 2 books, 2 formats
    assert max(len(os.fsencode(name)) for name in names) <= 255
    assert len({name.split("_")[0] for name in names}) == 2  # each book its own base
    again = tmp_path / "again"  # the same names in another run
    assert main([*argv[:3], "--out", str(again), *argv[5:]]) == 0
    assert sorted(p.name for p in again.iterdir()) == names


@pytest.mark.parametrize(
    ("dump", "kind"),
    [
        ('tune_id,name,type,meter,mode,abc\n1,Kesh,jig,6/8,Gmajor,"GAG GAB|"\n', "CSV"),
        ('[{"name": "Kesh", "type": "jig", "mode": "Gmajor", "abc": "GAG GAB|"}]', "JSON"),
    ],
)
def test_a_dump_on_stdin_is_refused_saying_it_is_one(tmp_path, monkeypatch, capsys, dump, kind):
    from modeling_irish.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(dump))
    assert main(["render", "-", "--out", str(tmp_path / "out"), "--formats", "midi"]) == 2
    err = capsys.readouterr().err
    assert f"no tune in stdin: a thesession.org {kind} dump, which is read from a file " in err


def test_a_line_break_in_an_input_name_is_not_in_its_outputs(tmp_path, capsys):
    from modeling_irish.cli import main

    odd = _write(tmp_path / "a\nb\x1b.abc", ABC)
    out = tmp_path / "out"
    assert main(["render", odd, "--out", str(out), "--formats", "midi"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a_b_.mid"]


def test_names_windows_refuses_are_replaced_and_still_kept_apart(tmp_path, capsys):
    """A colon (``Róisín: Dubh``), the other characters Windows refuses in a file name and
    trailing dots or spaces are not in the outputs, so the folder can be copied there; letters
    beyond ASCII are kept, and a name that now matches another's still gets ``-2``."""
    from modeling_irish.cli import main

    colon = _write(tmp_path / "Róisín: Dubh.abc", ABC)
    plain = _write(tmp_path / "Róisín_ Dubh.abc", ABC)
    odd = _write(tmp_path / 'a*b?c"d<e>f|g. .abc', ABC)
    out = tmp_path / "out"
    assert main(["render", colon, plain, odd, "--out", str(out), "--formats", "midi"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["Róisín_ Dubh-2.mid", "Róisín_ Dubh.mid", "a_b_c_d_e_f_g.mid"]
