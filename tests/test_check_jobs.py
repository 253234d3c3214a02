"""`irish-tune check` made faster without changing what it reports: the rows of a tune that
reads back with the same tokens and header are not made twice, and ``--jobs N`` checks the
tunes in N worker processes, reporting them in the order of the input."""

from __future__ import annotations

import json

import pytest

import tokenization.check as check
import tokenization.round_trip as round_trip
from tokenization.abc_parser import parse_abc

GOOD = "X:1\nT:Good\nR:reel\nM:4/4\nL:1/8\nK:D\n|:DFAF GBAG|FAdA BAFA:|\n"


def _counted_rows(monkeypatch) -> list[int]:
    """Count the calls of `tune_to_rows` that the round trip (round_trip.py) makes."""
    calls: list[int] = []
    real = round_trip.tune_to_rows

    def counted(tokens, header):
        calls.append(len(tokens))
        return real(tokens, header)

    monkeypatch.setattr(round_trip, "tune_to_rows", counted)
    return calls


def test_a_round_trip_that_holds_makes_the_rows_once(monkeypatch):
    calls = _counted_rows(monkeypatch)
    rows, again, _ = check.round_trip_rows(parse_abc(GOOD))
    assert len(calls) == 1  # the tune read back has the same tokens and header: rows copied
    assert again == rows and again.token_rows is not rows.token_rows  # a copy, not the same


def test_a_round_trip_that_changes_the_tokens_makes_the_rows_again(monkeypatch):
    calls = _counted_rows(monkeypatch)
    real = round_trip.write_abc
    monkeypatch.setattr(round_trip, "write_abc", lambda *a, **k: real(*a, **k).replace("dA", "dB"))
    rows, again, _ = check.round_trip_rows(parse_abc(GOOD))
    assert len(calls) == 2
    assert [r[0] for r in rows.token_rows] != [r[0] for r in again.token_rows]
    report = check.check_text(GOOD, "good.abc")
    assert report.round_trip_ok == 0
    assert report.failures[0]["error"] == (
        "row 14 differs after the round trip: main 'pitch67' became 'pitch69', "
        "pitch_class '7' became '9'"
    )


# a tunebook with a bar that does not fit, a tune that cannot be read, music not read after a
# blank line (a warning), and a key written in another spelling (a writer's warning)
BOOK = (
    GOOD
    + "\nX:2\nT:Short Bar\nM:2/4\nL:1/8\nK:G\n|:GABc|dBG|GABc|d2B2:|\n"
    + "\nX:3\nT:Broken\nM:4/4\nL:1/8\nK:G\nGA [[B]]c|\n"
    + "\nX:4\nT:Cut Short\nM:3/4\nL:1/8\nK:A\nABc dcB|\n\nabc agf|\n"
    + "\nX:5\nT:Far Key\nM:4/4\nL:1/8\nK:G#\nGABc dcBA|\n"
)


def _report(argv: list[str], capsys) -> tuple[int, str]:
    from modeling_irish.cli import main

    status = main(argv)
    return status, capsys.readouterr().out


def _files(tmp_path) -> list[str]:
    """Three books, one of them empty, and a dump with a row that gives no tune."""
    first, second, empty = tmp_path / "a.abc", tmp_path / "b.abc", tmp_path / "empty.abc"
    first.write_text(BOOK * 3, encoding="utf-8")
    second.write_text(BOOK.replace("T:", "T:Second "), encoding="utf-8")
    empty.write_text("", encoding="utf-8")
    dump = tmp_path / "tunes.json"
    rows = [
        {"name": "One", "type": "reel", "meter": "4/4", "mode": "Gmajor", "abc": "GABc dBAG|]"},
        {"name": "Lost", "type": "reel", "meter": "4/4", "mode": "Gmajor"},
        {"name": "Bad", "type": "reel", "meter": "4/4", "mode": "Gmajor", "abc": "GA ]c|"},
    ]
    dump.write_text(json.dumps(rows), encoding="utf-8")
    return [str(first), str(empty), str(dump), str(second)]


def test_jobs_give_the_report_of_one_process_byte_for_byte(tmp_path, capsys, caplog):
    files = _files(tmp_path)
    outs, logs = {}, {}
    for jobs in ("1", "2"):
        caplog.clear()
        status, outs[jobs] = _report(["check", *files, "--json", "--bars", "--jobs", jobs], capsys)
        assert status == 1
        logs[jobs] = [r.getMessage() for r in caplog.records if r.name == "tokenization.check"]
    assert outs["1"] == outs["2"]
    assert logs["1"] == logs["2"]
    assert any("not read (a blank line ends a tune)" in m for m in logs["2"])
    report = json.loads(outs["2"])
    assert (report["tunes"], report["parsed"], report["round_trip_ok"]) == (23, 17, 17)
    # in the order of the input: the first book's three copies, the empty file, the dump's
    # rows, the second book
    names = [f["tune"] for f in report["failures"]]
    assert names == [
        f"{files[0]}: X:3 Broken",
        f"{files[0]}: X:3 Broken",
        f"{files[0]}: X:3 Broken",
        files[1],
        f"{files[2]} row 2",
        f"{files[2]} row 3: X:3 Bad",
        f"{files[3]}: X:3 Second Broken",
    ]
    assert [p["tune"] for p in report["bars"]["problems"]] == [
        f"{files[0]}: X:2 Short Bar",
        f"{files[0]}: X:2 Short Bar",
        f"{files[0]}: X:2 Short Bar",
        f"{files[3]}: X:2 Second Short Bar",
    ]


def test_jobs_exit_status(tmp_path, capsys):
    good = tmp_path / "good.abc"
    good.write_text("\n".join([GOOD, GOOD.replace("X:1", "X:2")]), encoding="utf-8")
    assert _report(["check", str(good), "--jobs", "2"], capsys)[0] == 0
    book = tmp_path / "book.abc"
    book.write_text(BOOK, encoding="utf-8")
    assert _report(["check", str(book), "--jobs", "2"], capsys)[0] == 1
    assert _report(["check", str(book), "--jobs", "2", "--exit-zero"], capsys)[0] == 0
    from modeling_irish.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(book), "--jobs", "0"])
    assert exit_info.value.code == 2
    assert "argument --jobs: must be at least 1, got 0" in capsys.readouterr().err


def test_an_interrupt_stops_the_workers(tmp_path):
    """Ctrl-C in the main process (here raised by the progress callback) ends the workers, and
    the interrupt reaches the caller, which says so (``irish-tune check: interrupted``)."""
    import multiprocessing

    book = tmp_path / "book.abc"
    book.write_text(BOOK * 20, encoding="utf-8")
    seen = []

    def interrupted():
        seen.append(1)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check.check_files([book], progress=interrupted, jobs=2)
    assert multiprocessing.active_children() == []


def test_the_default_checks_a_small_run_in_this_process():
    from tokenization.worker_pool import AUTO_MIN_ITEMS, WorkerPool

    with WorkerPool() as pool:
        assert list(pool.map(abs, [-1, 2])) == [1, 2]
        assert pool._pool is None
        pool.mapped = AUTO_MIN_ITEMS  # a long run: its next items go to the workers
        assert list(pool.map(abs, [-3, 4, -5])) == [3, 4, 5]
        assert pool._pool is not None
    assert pool._pool is None
    with pytest.raises(ValueError, match="jobs must be 1 or more, got 0"):
        WorkerPool(0)


def test_the_help_says_the_defaults_of_the_pool(capsys):
    from modeling_irish.cli import main
    from tokenization.worker_pool import AUTO_MIN_ITEMS, MAX_DEFAULT_JOBS

    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"once a run reaches {AUTO_MIN_ITEMS} tunes" in text
    assert f"at most {MAX_DEFAULT_JOBS}; 1: none" in text


def test_check_text_refuses_bytes_in_one_line():
    with pytest.raises(TypeError, match="tunebook_chunks reads ABC text, a str; got bytes"):
        check.check_text(b"X:1\nK:G\nGAB|\n")


def _run_script(tmp_path, body: str) -> tuple[str, str]:
    """Run ``body`` as a script of its own (``python script.py``, the project importable), the
    way a user runs one; its stdout and stderr. A pool that starts workers the script cannot
    run under (each would run it again) never returns: the timeout fails the test instead."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "script.py"
    script.write_text(body, encoding="utf-8")
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        encoding="utf-8",
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_an_unguarded_script_is_checked_in_this_process(tmp_path):
    """A script that calls the check API in its top-level code, with no
    ``if __name__ == "__main__":``, gets its report: with ``spawn`` workers each would run the
    script again, and the pool would hang restarting them. One warning names the line."""
    book = tmp_path / "book.abc"
    book.write_text(BOOK, encoding="utf-8")
    out, err = _run_script(
        tmp_path,
        "import sys\n"
        "import irish_tune\n"
        "from tokenization.check import check_files\n"
        "print('the script runs', file=sys.stderr)\n"
        f"report = check_files([{str(book)!r}], bars=True, jobs=2)\n"
        "print(report.tunes, report.parsed, report.round_trip_ok, len(report.failures))\n"
        f"irish_tune.main(['check', {str(book)!r}, '--json', '--jobs', '2', '--exit-zero'])\n",
    )
    lines = out.splitlines()
    assert lines[0] == "5 4 4 1"
    assert json.loads(lines[1])["round_trip_ok"] == 4
    assert err.count("the script runs") == 1  # no worker ran it again
    said = [line for line in err.splitlines() if "worker processes" in line]
    assert [line.split(": ")[0] for line in said] == [
        f"{tmp_path / 'script.py'}:5",
        f"{tmp_path / 'script.py'}:7",
    ]
    assert 'outside `if __name__ == "__main__":`' in said[0]


def test_a_guarded_script_still_uses_the_workers(tmp_path):
    book = tmp_path / "book.abc"
    book.write_text(BOOK * 4, encoding="utf-8")
    out, err = _run_script(
        tmp_path,
        "import multiprocessing\n"
        "from tokenization.check import check_files\n"
        "\n"
        "if __name__ == '__main__':\n"
        "    workers = []\n"
        "    progress = lambda: workers.append(len(multiprocessing.active_children()))\n"
        f"    report = check_files([{str(book)!r}], jobs=2, progress=progress)\n"
        "    print(report.tunes, report.round_trip_ok, max(workers))\n",
    )
    assert out.split() == ["20", "16", "2"]
    assert "worker processes" not in err


@pytest.mark.parametrize(
    ("source", "guarded"),
    [
        ("if __name__ == '__main__':\n    run()\n", True),
        ("if '__main__' == __name__:\n    run()\n", True),
        ("try:\n    if __name__ == '__main__':\n        run()\nfinally:\n    pass\n", True),
        ("if __name__ != '__main__':\n    run()\n", False),
        ("if __name__ == '__main__':\n    pass\nelse:\n    run()\n", False),
        ("def go():\n    run()\n", False),
    ],
)
def test_in_main_guard(source, guarded):
    from tokenization.worker_pool import in_main_guard

    line = next(n for n, text in enumerate(source.splitlines(), 1) if "run()" in text)
    assert in_main_guard(source, line) is guarded
