"""Query time of the edit-distance scorer of "name that tune" against a whole corpus.

Every readable tune of the corpus is a gallery setting (pitch classes per note and per eighth
note, with its meter and mode, as `TuneIndex` holds them); each query is a 30-note excerpt of a
random corpus tune with its header, scored against the whole gallery and reduced to the best
score per title, as `identify` does. One thread. Run::

    python benchmarks/bench_name_that_tune.py --tokenizer runs/fixed-budget-small
    python benchmarks/bench_name_that_tune.py --tokenizer DIR --corpus small.abc --queries 20
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository, if not installed

from modeling_irish.abc_corpus import title_key  # noqa: E402
from modeling_irish.name_that_tune import (  # noqa: E402
    _best_per_title,
    _encode_all,
    _meter_mode,
    read_tunes,
    settings_ranker,
)
from modeling_irish.threads import torch_threads  # noqa: E402
from modeling_irish.tune_title_data import NoteCropper  # noqa: E402
from tokenization.tokenization_abc import AbcTokenizer  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus",
        default=os.environ.get("MODELING_IRISH_CORPUS", "../shared/data/thesession-c.abc"),
    )
    p.add_argument("--tokenizer", required=True, help="Tokenizer folder (e.g. a model folder).")
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--excerpt-notes", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def main() -> None:
    args = parse_args()
    tokenizer = AbcTokenizer.from_pretrained(args.tokenizer)
    cropper = NoteCropper(tokenizer)
    records = read_tunes(args.corpus)
    ids, kept = _encode_all(tokenizer, records)
    keys = [title_key(records[i]["title"]) or f"#{i}" for i in kept]
    index = {k: n for n, k in enumerate(dict.fromkeys(keys))}
    owner = np.array([index[k] for k in keys])
    build = time.perf_counter()
    ranker = settings_ranker(cropper, ids, owner.tolist())
    build = time.perf_counter() - build
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(ids), size=min(args.queries, len(ids)), replace=False)
    queries = [cropper.crop(ids[i], args.excerpt_notes, rng) for i in picks]
    times = []
    with torch_threads(1):
        for rows, _ in queries:
            header = cropper.header(rows)
            begin = time.perf_counter()
            scores = ranker.scores(*cropper.notes(rows), *_meter_mode(header.meter, header.mode))
            _best_per_title(scores, owner, len(index))
            times.append(1000 * (time.perf_counter() - begin))
    times = np.array(times)
    print(
        json.dumps(
            {
                "gallery_settings": len(ids),
                "gallery_titles": len(index),
                "queries": len(times),
                "ms_per_query_mean": round(float(times.mean()), 2),
                "ms_per_query_median": round(float(np.median(times)), 2),
                "ms_per_query_p90": round(float(np.percentile(times, 90)), 2),
                "build_s": round(build, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
