"""Synthetic ABC, dump rows and checks shared by the corpus loader's tests (test_abc_corpus*.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modeling_irish.abc_corpus import SPLIT_NAMES, title_key


def _has_parser() -> bool:
    try:
        import tokenization.abc_parser  # noqa: F401
    except ImportError:
        return False
    return True


needs_parser = pytest.mark.skipif(not _has_parser(), reason="tokenization.abc_parser is missing")


# ----------------------------------------------------------------------------- synthetic ABC


def body(i: int, accidentals: str = "") -> str:
    """A 12-note body unique to ``i`` (its base-7 digits spell the first four notes)."""
    digits = [(i // 7**k) % 7 for k in range(4)]
    head = "".join(accidentals + "CDEFGAB"[d] for d in digits)
    tail = "".join(accidentals + n for n in "ABcdefgf")
    return f"|:{head} {tail}:|"


def tune(x: int, title: str, *, sid: tuple[int, int] | None = None, rhythm: str = "reel",
         key: str = "D", notes: str | None = None, extra: str = "") -> str:  # fmt: skip
    lines = [f"X: {x}", f"T: {title}"]
    if sid:
        lines.append(f"S: https://thesession.org/tunes/{sid[0]}#setting{sid[1]}")
        lines.append(f"R: {rhythm}")
    lines += [extra] if extra else []
    lines += ["M: 4/4", "L: 1/8", f"K: {key}", notes if notes is not None else body(x)]
    return "\n".join(lines) + "\n"


def write(path: Path, tunes: list[str], header: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n".join(tunes), encoding="utf-8")
    return path


def rows(dataset) -> list[dict]:
    return [row for name in SPLIT_NAMES for row in dataset[name]]


def split_sets(dataset, column: str, fn=lambda v: v) -> dict[str, set]:
    return {name: {fn(v) for v in dataset[name][column]} - {""} for name in SPLIT_NAMES}


def assert_no_leak(dataset) -> None:
    """No tune id, normalised title or body in two splits."""
    from modeling_irish.abc_corpus import body_key

    for column, fn in (("tune_id", str), ("title", title_key), ("abc", body_key)):
        sets = split_sets(dataset, column, fn)
        for i, a in enumerate(SPLIT_NAMES):
            for b in SPLIT_NAMES[i + 1 :]:
                assert not sets[a] & sets[b], (column, a, b, sorted(sets[a] & sets[b])[:5])


def assert_report_sums(report: dict) -> None:
    assert report["read"] == report["parsed"] + report["skipped"]
    assert report["skipped"] == sum(report["skip_reasons"].values())
    assert report["parsed"] == report["duplicates"] + sum(report["splits"].values())


def dump_rows() -> list[dict[str, str]]:
    def row(tune_id, setting_id, name, kind, meter, mode, abc):
        return {"tune_id": tune_id, "setting_id": setting_id, "name": name, "type": kind,
                "meter": meter, "mode": mode, "abc": abc, "date": "2020-01-01 10:00:00",
                "username": "someone"}  # fmt: skip

    return [
        row(
            "1", "1", "Cooley's", "reel", "4/4", "Edorian", "|:EBBA B2 EB|B2 AB dBAG:|\r\nFDAD ..."
        ),
        row("1", "7", "Cooley's", "reel", "4/4", "Edorian", "|:E2 BE dEBE|E2 BE AFDF:|"),
        row("2", "2", "Kesh, The", "jig", "6/8", "Gmajor", "|:GAG GAB|ABA ABd:|"),
        row("3", "3", "Sí Bheag, Sí Mhór", "waltz", "3/4", "Dmajor", "de|f2 e2 d2|B4 A2|d2 e2 f2|"),
    ]


def leaky_corpus(tmp_path: Path) -> Path:
    """60 tunes built to leak under a naive split: settings of one id under different titles,
    one title under different ids, a title written two ways, "x" and "Gan Ainm" titles that must
    not link anything."""
    tunes = []

    def add(title, sid=None):
        x = len(tunes) + 1
        tunes.append(tune(x, title, sid=sid and (sid, x)))

    for group in range(6):
        a, b = 100 + 2 * group, 101 + 2 * group
        add(f"Chain {group} One", a)
        add(f"Chain {group} Two", a)  # same id as One, other title
        add(f"Chain {group} Two", b)  # same title as Two, other id
        add(f"Reel Chain {group}, The", b)
        add(f"The Reel Chain {group}")  # no id, linked only by the normalised title
    for n in range(12):
        add("x" if n % 2 else "Gan Ainm")
    for n in range(18):
        add(f"Solo {n}", 500 + n)
    return write(tmp_path / "leaky.abc", tunes)


def rows_ids(data) -> list[str]:
    return [tune_id for name in SPLIT_NAMES for tune_id in data[name]["tune_id"]]
