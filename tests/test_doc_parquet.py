"""docs/abc.md's Parquet snippet (publishing the corpus, STYLE.md §15) runs as written, on a
tiny corpus whose validation and test splits are empty, and reads back the corpus's rows."""

from __future__ import annotations

import re
from pathlib import Path

ABC_MD = Path(__file__).resolve().parents[1] / "docs" / "abc.md"

TUNES = "".join(
    f"X:{x}\nT:Tune {x}\nM:4/4\nL:1/8\nK:D\n{body}|\n\n"
    for x, body in enumerate(["ABcd efga", "GABc defg", "FGAB cdef"], start=1)
)


def _parquet_snippet() -> str:
    """The Python block of docs/abc.md that calls ``to_parquet``."""
    blocks = re.findall(r"```python\n(.*?)```", ABC_MD.read_text(encoding="utf-8"), re.S)
    found = [block for block in blocks if "to_parquet" in block]
    assert len(found) == 1, f"docs/abc.md has {len(found)} Python blocks with to_parquet, not 1"
    return found[0]


def test_the_parquet_snippet_of_abc_md_writes_and_reads_back_the_corpus(tmp_path, monkeypatch):
    import datasets

    from modeling_irish.abc_corpus import load_abc_corpus

    (tmp_path / "tunes.abc").write_text(TUNES, encoding="utf-8")
    corpus = load_abc_corpus(str(tmp_path / "tunes.abc"), split_ratios=(1, 0, 0))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")  # not the user's
    namespace = {"corpus": corpus}
    exec(_parquet_snippet(), namespace)
    published = namespace["published"]
    assert list(published) == ["train"]  # the empty splits left out
    assert published["train"].to_list() == corpus["train"].to_list()
    assert sorted(p.name for p in (tmp_path / "corpus-parquet").iterdir()) == ["train.parquet"]
