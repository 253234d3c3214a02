"""What a command stopped by Ctrl-C prints: its progress bars closed before the one
"interrupted" line, and no summary that reads as if the work were done."""

from __future__ import annotations

from helpers import synthetic_tune

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
    was freed: after "irish-tune index: interrupted", and drawn once more below that line."""
    from modeling_irish import tune_embedding
    from tokenization.tokenization_abc import AbcTokenizer

    corpus = tmp_path / "c.abc"
    corpus.write_text("\n".join(TUNES), encoding="utf-8")
    AbcTokenizer.train(TUNES).save_pretrained(tmp_path / "tok")
    _ctrl_c_on_call(monkeypatch, tune_embedding, "_record", 3)
    out = tmp_path / "i"
    argv = ["index", "--tokenizer", str(tmp_path / "tok"), str(corpus), "--out", str(out)]
    assert irish_tune.main(argv) == 130
    err = capsys.readouterr().err
    assert "Reading tunes" in err  # the bar was drawn (shown off a terminal too)
    assert err.endswith("irish-tune index: interrupted\n"), err
    assert not out.exists()
