"""A saved AbcTokenizer loads with trust_remote_code in a process that cannot import the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import modeling_irish  # noqa: F401  (registers the tokenizer for remote code)
from tokenization.tokenization_abc import AbcTokenizer

TUNE = "X:1\nT:Polka\nR:polka\nM:2/4\nL:1/8\nK:G\n|:GA Bd|ef ge|dB AG|A2 A2:|\n"


def test_tokenizer_loads_as_remote_code_without_the_package(tmp_path):
    tokenizer = AbcTokenizer.train([TUNE])
    folder = tmp_path / "tok"
    tokenizer.save_pretrained(folder)
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert "AutoTokenizer" in config.get("auto_map", {})
    # the tokenizer's and the reader's topic modules are copied beside it (relative imports)
    saved = {path.name for path in folder.glob("*.py")}
    assert {
        "tokenization_abc.py",
        "tokenizer_interface.py",
        "tokenizer_hub.py",
        "hub_errors.py",
        "hub_repo_ids.py",  # shared with the models' code (test_auto_remote_code.py)
    } <= saved
    assert {
        "row_decoding.py",
        "abc_parser.py",
        "abc_parser_state.py",
        "abc_body.py",
        "abc_tune.py",
        "abc_bars.py",
        "abc_notes.py",
        "abc_header.py",
        "abc_header_directives.py",
        "abc_titles.py",
        "abc_tunebook.py",
        "abc_field_lines.py",
        "abc_writer.py",  # row_decoding writes rows back as ABC
        "abc_spelling.py",
        "capped_warnings.py",  # __call__ caps its warnings of a batch
    } <= saved
    expected = tokenizer.encode_tune(TUNE).input_ids.tolist()
    script = textwrap.dedent(
        f"""
        import importlib.abc, json, sys

        class Hide(importlib.abc.MetaPathFinder):  # an editable install would expose the package
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("modeling_irish", "tokenization", "training"):
                    raise ImportError(name + " is hidden in this test")

        sys.meta_path.insert(0, Hide())
        try:
            import tokenization
            raise SystemExit("the package is importable")
        except ImportError:
            pass
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained({str(folder)!r}, trust_remote_code=True)
        print(json.dumps(tok.encode_tune({TUNE!r}).input_ids.tolist()))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    # -I: isolated mode, so the working directory is not on sys.path
    result = subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, encoding="utf-8",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected
