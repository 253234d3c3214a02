"""What a command stopped by Ctrl-C prints: its progress bars closed before the one
"interrupted" line, and no summary that reads as if the work were done."""

from __future__ import annotations

import sys

from helpers import synthetic_tune, warnings_of

import irish_tune

TUNES = [synthetic_tune(i, f"Reel {i}", i, i, notes="CDEFGABcde") for i in range(1, 6)]


def _ctrl_c_on_call(monkeypatch, module, name: str, call: int) -> None:
    """``module.name`` raises `KeyboardInterrupt` (as Ctrl-C does) on its ``call``-th call."""
    real, calls = getattr(module, name), []

    def stopped(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, stopped)


def test_index_stopped_by_ctrl_c_closes_its_bar_before_saying_so(tmp_path, monkeypatch, capsys):
    """The "Reading tunes" bar, iterated in a loop, was closed when the stopped loop's frame
    was freed: after "irish-tune index: interrupted", and drawn once more below that line; and
    it counted the tunes only at the loop's end, so that it closed on "0 tunes"."""
    from modeling_irish import tune_embedding
    from tokenization.tokenization_abc import AbcTokenizer

    corpus = tmp_path / "c.abc"
    corpus.write_text("\n".join(TUNES), encoding="utf-8")
    AbcTokenizer.train(TUNES).save_pretrained(tmp_path / "tok")
    _ctrl_c_on_call(monkeypatch, tune_embedding, "_record", 3)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bar shows
    out = tmp_path / "i"
    argv = ["index", "--tokenizer", str(tmp_path / "tok"), str(corpus), "--out", str(out)]
    assert irish_tune.main(argv) == 130
    err = capsys.readouterr().err
    assert "Reading tunes" in err  # the bar was drawn
    # closed where it stopped: the two tunes read, not "0 tunes" (counted at the loop's end)
    assert err.rsplit("\r", 1)[-1].startswith("Reading tunes: 2 tunes ["), err  # its last draw
    assert err.endswith("irish-tune index: interrupted\n"), err
    assert not out.exists()


#: Tunes that transpose and check both fail: more than the warnings shown of one kind.
BROKEN = "".join(f"X:{i}\nT:Broken {i}\nK:G\nG[A|\n\n" for i in range(1, 9))


def test_transpose_stopped_by_ctrl_c_counts_its_failures_so_far(tmp_path, monkeypatch, caplog):
    """The last warning counted the tunes not written "8 in all" before "interrupted", as if
    every tune had been read: it now counts them so far, and nothing is written."""
    from modeling_irish import transpose_cli

    book = tmp_path / "b.abc"
    book.write_text(BROKEN + "X:20\nT:Fine\nK:G\nGAB|\n", encoding="utf-8")
    _ctrl_c_on_call(monkeypatch, transpose_cli, "_transposed", 9)  # the ninth: Fine
    out = tmp_path / "o.abc"
    assert irish_tune.main(["transpose", str(book), "-o", str(out)]) == 130
    said = warnings_of(caplog, "modeling_irish.transpose_cli")
    assert said[-1].startswith("... and 3 more tunes not written (not shown); 8 so far")
    assert "in all" not in said[-1]
    assert not out.exists()


def test_check_stopped_by_ctrl_c_counts_its_warnings_so_far(tmp_path, monkeypatch, caplog):
    """`check` counts the tune warnings it capped as transpose does: so far, when stopped."""
    from tokenization import check

    book = tmp_path / "w.abc"
    book.write_text("".join(f"X:{i}\nT:Tune {i}\nK:G\nGAB|\n\n" for i in range(1, 9)), "utf-8")
    real = check._add_checked

    def warned(report, tune, tune_said, said, progress):  # each tune gives one warning
        if report.tunes == 6:
            raise KeyboardInterrupt
        return real(report, tune, [("text not read", "dropped")], said, progress)

    monkeypatch.setattr(check, "_add_checked", warned)
    assert irish_tune.main(["check", str(book)]) == 130
    said = warnings_of(caplog, "tokenization.check")
    assert (
        said[-1]
        == "... and 3 more tune warnings 'text not read' (not shown); 6 so far (interrupted)"
    )


def test_evaluate_lm_stopped_by_ctrl_c_counts_its_skips_so_far(tmp_path, monkeypatch, caplog):
    """evaluate-lm stopped by Ctrl-C closed its warnings only on a normal end: the tunes it
    skipped past the first few were never counted. They are now, so far, as transpose does."""
    from helpers import save_tiny_measurenote

    from modeling_irish import lm_evaluation

    model = save_tiny_measurenote(tmp_path / "m", TUNES)
    book = tmp_path / "b.abc"
    book.write_text("".join(f"X:{i}\nT:Bad {i}\nK:G\nA]B|\n\n" for i in range(1, 11)), "utf-8")
    _ctrl_c_on_call(monkeypatch, lm_evaluation, "skip_reason", 9)  # 8 skipped, 5 shown
    assert irish_tune.main(["evaluate-lm", "--model", str(model), str(book)]) == 130
    said = warnings_of(caplog, "modeling_irish.lm_evaluation")
    assert said[-1].startswith("... and 3 more skipped tunes (not shown); 8 so far (interrupted)")
