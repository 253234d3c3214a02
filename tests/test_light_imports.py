"""Reading, normalising, writing and the vocabulary (encoding rows, decoding them back to ABC)
need none of torch, transformers, datasets or music21: a user who only reads tunes does not wait
seconds for them. Only the tokenizer's own modules, `TOKENIZER_MODULES`, import them (and
`AbcTokenizer` is a transformers tokenizer). Each check runs in a fresh interpreter: this one has
them all loaded."""

from __future__ import annotations

import textwrap
from pathlib import Path

from helpers import python_lines

ROOT = Path(__file__).resolve().parents[1]

#: What the light modules must not import: each takes from a tenth of a second to seconds.
HEAVY = ("torch", "transformers", "datasets", "music21")

#: The modules of `tokenization` that do import them, and why: the transformers tokenizer and its
#: batches (`AbcTokenizer`, `AbcDataCollator`: tensors), and the tokenized Arrow cache (datasets).
TOKENIZER_MODULES = {
    "tokenization.collation": "pads batches into tensors (torch, transformers.BatchEncoding)",
    "tokenization.dataset": "tokenize_dataset, the Arrow cache (datasets)",
    "tokenization.tokenization_abc": "AbcTokenizer, a transformers PreTrainedTokenizer",
    "tokenization.tokenizer_hub": "the tokenizer's upload (transformers)",
    "tokenization.tokenizer_interface": "the slow-tokenizer methods (transformers)",
    "tokenization.transformers_version": "checks the transformers version",
}


KESH = "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|"


def _run(code: str) -> list[str]:
    """The lines that Python code ``code`` prints, run in a fresh interpreter from the root."""
    return python_lines(textwrap.dedent(code), timeout=120)


def test_reading_normalising_writing_and_the_vocabulary_import_nothing_heavy():
    """One tune read, normalised, written in another key, encoded with a vocabulary built from
    it and decoded back to ABC: the same notes all the way, and none of `HEAVY` imported
    (`encoded_tune` imported torch at its top for `as_numpy` alone, and `row_decoding` with it)."""
    lines = _run(
        f"""
        import sys
        import tokenization
        from tokenization.abc_parser import parse_abc
        from tokenization.abc_writer import write_abc
        from tokenization.encoded_tune import encode_tune, read_tune
        from tokenization.features import HeaderInfo, tune_to_rows
        from tokenization.keys import normalise_tune, parse_key, transpose_tokens
        from tokenization.row_decoding import decode_rows
        from tokenization.vocabulary import AbcVocab

        text = {KESH!r}
        tune = parse_abc(text)
        normal = normalise_tune(tune)
        a = parse_key("A")
        written = write_abc(transpose_tokens(normal.tokens, 9), key=a, meter="6/8")
        up_a_tone = [t.pitch + 2 for t in tune.tokens if t.pitch is not None]  # G to A
        read_back = [t.pitch for t in parse_abc(written).tokens if t.pitch is not None]
        print("written", read_back == up_a_tone)
        _, read = read_tune(text)
        vocab = AbcVocab.build([tune_to_rows(read.tokens, HeaderInfo.from_tune(read))])
        encoded = encode_tune(vocab, text)
        decoded = decode_rows(vocab, encoded.input_ids, key="G", title="The Kesh")
        print("decoded", [t.pitch for t in parse_abc(decoded).tokens] == [
            t.pitch for t in tune.tokens
        ])
        print("loaded", sorted(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    assert lines == ["written True", "decoded True", "loaded []"]


def test_only_the_tokenizer_modules_import_anything_heavy():
    """Every other module of `tokenization` imported together (a new one included, found by the
    walk) imports none of `HEAVY`; the tokenizer's do, and `AbcTokenizer` works then."""
    lines = _run(
        f"""
        import importlib, pkgutil, sys
        import tokenization
        found = pkgutil.iter_modules(tokenization.__path__, "tokenization.")
        names = [name for _, name, _ in found]
        light = [name for name in names if name not in {sorted(TOKENIZER_MODULES)!r}]
        for name in light:
            importlib.import_module(name)
        print(len(light), sorted(m for m in {HEAVY!r} if m in sys.modules))
        from tokenization.tokenization_abc import AbcTokenizer
        tok = AbcTokenizer.train([{KESH!r}])
        ids = tok({KESH!r}, return_tensors="pt")["input_ids"][0]
        print(tok.decode(ids, key="G").splitlines()[-1])
        print(sorted(m for m in ("torch", "transformers") if m in sys.modules))
        """
    )
    assert int(lines[0].split()[0]) > 15, lines  # the walk found the modules
    assert lines[0].split(maxsplit=1)[1] == "[]"
    assert lines[1:] == ["|: GAG GAB | ABA ABd | edd gdd | edB dBA :|", "['torch', 'transformers']"]
