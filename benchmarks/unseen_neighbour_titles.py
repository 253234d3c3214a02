"""Unseen tunes without a trained model: the titles of the most similar training tunes.

A non-parametric check of the *unseen* protocol (the query is a 30-note excerpt of a validation
tune whose tune id and title are not in training; the gallery is the distinct titles of those
tunes). Each query's excerpt is compared with every titled training setting by the package's
edit distance (per note + per eighth note, meter and mode penalties); the all-MiniLM-L6-v2
embeddings of the `--k` nearest settings' titles are averaged with softmax weights
(`--temperature` on the edit score) and the gallery titles are ranked by cosine to that mean.
Whatever it scores comes from tunes that resemble the query: related titles ("Paddy Fahy's No. 1"
/ "No. 2"), a shared word ("Polka"), or the same melody filed on thesession under another name.

Run (a few minutes on one core)::

    python benchmarks/unseen_neighbour_titles.py --tokenizer runs/fixed-budget-small \\
        [--corpus ../shared/data/thesession-c.abc] [--k 5 --temperature 0.02]

It prints the metrics on all validation tunes, and separately on the first `--first` of them and
on the rest (so that parameters chosen on one part can be reported on the other).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository, if not installed

from modeling_irish.abc_corpus import load_abc_corpus, title_key  # noqa: E402
from modeling_irish.edit_distance import EditDistanceRanker  # noqa: E402
from modeling_irish.name_that_tune import (  # noqa: E402
    _encode_all,
    _protocol_queries,
    _query_rows,
    query_edit_scores,
    read_tunes,
    settings_ranker,
)
from modeling_irish.retrieval import random_baseline, rank_of_targets, retrieval_metrics  # noqa: E402
from modeling_irish.title_encoders import MiniLMTitleEncoder  # noqa: E402
from modeling_irish.tune_title_data import NoteCropper  # noqa: E402
from tokenization.tokenization_abc import AbcTokenizer  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus",
        default=os.environ.get("MODELING_IRISH_CORPUS", "../shared/data/thesession-c.abc"),
    )
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None, help="Corpus cache folder.")
    p.add_argument("--tokenizer", required=True, help="Tokenizer folder (any model folder).")
    p.add_argument("--k", type=int, nargs="+", default=[5], help="Nearest settings to use.")
    p.add_argument("--temperature", type=float, nargs="+", default=[0.02])
    p.add_argument("--excerpt-notes", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--first", type=int, default=300, help="Size of the first part reported.")
    return p.parse_args()


def title_embeddings(titles: list[str], batch: int = 256) -> np.ndarray:
    """Unit-length all-MiniLM-L6-v2 embeddings (mean pooling) of `titles`."""
    encoder = MiniLMTitleEncoder().eval()
    with torch.no_grad():
        out = torch.cat(
            [encoder.encode(titles[i : i + batch]) for i in range(0, len(titles), batch)]
        )
    out = out.float().numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def setting_scores(tokenizer, train, rows) -> tuple[np.ndarray, list[int], float]:
    """`(queries, settings)` edit-distance scores, the record index of each setting, ms/query."""
    cropper = NoteCropper(tokenizer)
    ids, kept = _encode_all(tokenizer, train)
    ranker = settings_ranker(cropper, ids, range(len(ids)))
    begin = time.perf_counter()
    scores = [query_edit_scores(ranker, cropper, r[0]) for r in rows]
    ms = 1000 * (time.perf_counter() - begin) / max(len(rows), 1)
    return np.stack(scores), kept, ms


def nearest_edits_per_note(tokenizer, train, rows) -> np.ndarray:
    """Per query: edits per excerpt note to the nearest titled training setting (pitch class per
    note only, no penalties): near 0 means the same melody is in training under another name."""
    cropper = NoteCropper(tokenizer)
    ids, _ = _encode_all(tokenizer, train)
    ranker = EditDistanceRanker([cropper.pitches(x) for x in ids], list(range(len(ids))))
    return np.array([-ranker.scores(cropper.pitches(r[0])).max() for r in rows])


def neighbour_title_scores(
    scores: np.ndarray, setting_titles: np.ndarray, gallery: np.ndarray, k: int, temperature: float
) -> np.ndarray:
    """`(queries, gallery)` cosine of each gallery title to the softmax-weighted mean embedding
    of the titles of each query's `k` best settings."""
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]  # (queries, k)
    best = np.take_along_axis(scores, top, axis=1)
    weights = np.exp((best - best[:, :1]) / temperature)  # (queries, k), the best weighs 1
    predicted = np.einsum("qk,qkd->qd", weights, setting_titles[top])  # (queries, dim)
    return predicted @ gallery.T


def main() -> None:
    args = parse_args()
    corpus = load_abc_corpus(args.corpus, seed=args.split_seed, cache_dir=args.cache_dir)
    tokenizer = AbcTokenizer.from_pretrained(args.tokenizer)
    train = [r for r in read_tunes(corpus["train"]) if title_key(r["title"])]
    display, key_index, kept, dropped = _protocol_queries(
        train, read_tunes(corpus["validation"]), "unseen"
    )
    rows, readable = _query_rows(tokenizer, kept, args.excerpt_notes, args.seed)
    targets = np.array([key_index[title_key(kept[i]["title"])] for i in readable])
    scores, settings, ms = setting_scores(tokenizer, train, rows)
    names = [train[i]["title"] for i in settings]
    embeds = title_embeddings(names + display)
    setting_titles, gallery = embeds[: len(names)], embeds[len(names) :]
    parts = {
        "all": np.arange(len(rows)),
        f"first_{args.first}": np.flatnonzero(np.array(readable) < args.first),
        "rest": np.flatnonzero(np.array(readable) >= args.first),
    }
    print(f"queries {len(rows)}, gallery {len(display)} titles, {len(settings)} training settings,")
    print(f"edit-distance scan {ms:.1f} ms/query; random MRR@20 on the whole gallery", end=" ")
    print(f"{random_baseline(len(display), 20)['mrr_at_20']:.4f}")
    nearest = nearest_edits_per_note(tokenizer, train, rows)
    shares = {t: round(float((nearest <= t + 1e-9).mean()), 3) for t in (0.0, 0.1, 0.2)}
    print(f"share of excerpts within 0 / 0.1 / 0.2 edits per note of a training setting: {shares}")
    for k in args.k:
        for temperature in args.temperature:
            ranked = rank_of_targets(
                neighbour_title_scores(scores, setting_titles, gallery, k, temperature), targets
            )
            ranked = np.asarray(ranked)
            row = {"k": k, "temperature": temperature}
            for name, idx in parts.items():
                if len(idx):
                    m = retrieval_metrics(ranked[idx], (1, 10), 20)
                    row[f"{name}_mrr_at_20"] = round(m["mrr_at_20"], 4)
                    row[f"{name}_queries"] = m["queries"]
            print(json.dumps(row))


if __name__ == "__main__":
    main()
