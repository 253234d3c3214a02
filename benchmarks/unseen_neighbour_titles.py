"""Unseen tunes without a trained model: the titles of the nearest training tunes.

The *unseen* protocol's edit-distance baseline (`modeling_irish/neighbour_titles.py`): each
query's 30-note excerpt is compared with every titled training setting by the package's edit
distance (per note + per eighth note, meter and mode penalties); the all-MiniLM-L6-v2 embeddings
of the titles of its `--k` nearest settings are averaged (softmax weights on the edit score,
`--temperature`), the mean title of the query's rhythm is added (`--rhythm-weight`), and the
gallery titles are ranked by `--neighbour-weight` x their cosine to the result + log P(the query's
rhythm, mode and meter | title words) (`modeling_irish/title_prior.py`, logistic regressions
fitted on the training titles; each line also gives the neighbours alone, `*_neighbours_only`).
What it scores comes from tunes that resemble the query (related titles, the same melody filed
under another name) and from words that go with a rhythm, mode or meter ("Polka", "Waltz",
"Slide", "Lament").

Run (a few minutes on one core)::

    python benchmarks/unseen_neighbour_titles.py --tokenizer runs/fixed-budget-small \\
        [--corpus ../shared/data/thesession-c.abc] [--k 5 --temperature 0.02 --rhythm-weight 2]
        [--neighbour-weight 3]
    python benchmarks/unseen_neighbour_titles.py --tokenizer runs/fixed-budget-small --dev 1

Without `--dev` the queries are the validation split's tunes that are unseen in training (the
reported set). `--dev SEED` chooses parameters without touching it: 1/9 of the training split's
tune ids (drawn with SEED) are held out with every tune sharing their titles, their first 900
settings are the queries and the rest of the training split is the training side.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _paths import DEFAULT_CORPUS

from irish_tune.json_output import json_dumps
from modeling_irish.abc_corpus import load_abc_corpus, title_key
from modeling_irish.cli import (
    abc_source,
    existing_folder,
    non_negative_float,
    positive_float,
    positive_int,
)
from modeling_irish.edit_distance import EditDistanceRanker
from modeling_irish.neighbour_titles import NeighbourTitles, minilm_title_embeddings
from modeling_irish.retrieval import random_baseline, rank_of_targets, retrieval_metrics
from modeling_irish.retrieval_evaluation import (
    excerpt_query_rows,
    protocol_queries,
    query_edit_scores,
    titled_settings,
)
from modeling_irish.title_prior import HeaderTitlePrior
from modeling_irish.tune_embedding import encoded_records, header_values, read_tunes
from modeling_irish.tune_title_data import NoteCropper
from tokenization.tokenization_abc import AbcTokenizer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line `argv` (default: ``sys.argv[1:]``), checked."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus",
        type=abc_source,
        default=DEFAULT_CORPUS,
        help="ABC tunebook (default: $MODELING_IRISH_CORPUS or the shared thesession corpus "
        "beside this checkout).",
    )
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None, help="Corpus cache folder.")
    p.add_argument(
        "--tokenizer", required=True, type=existing_folder, help="Tokenizer (any model) folder."
    )
    p.add_argument(
        "--k", type=positive_int, nargs="+", default=[5], help="Nearest settings to use."
    )
    p.add_argument("--temperature", type=positive_float, nargs="+", default=[0.02])
    p.add_argument("--rhythm-weight", type=non_negative_float, nargs="+", default=[2.0])
    p.add_argument(
        "--neighbour-weight",
        type=non_negative_float,
        nargs="+",
        default=[3.0],
        help="Weight of the neighbour-title cosine beside the header prior.",
    )
    p.add_argument("--excerpt-notes", type=positive_int, default=30)
    p.add_argument("--seed", type=int, default=0, help="Seed of the excerpt starts.")
    p.add_argument(
        "--dev", type=positive_int, default=None, help="Development set from the training split."
    )
    p.add_argument(
        "--first",
        type=positive_int,
        default=300,
        help="Size of the first part reported (first_N): the first N of the unseen queries, "
        "counted in their order among the unseen queries (an unreadable one too), not among "
        "the validation (or --dev) tunes. Default: 300.",
    )
    args = p.parse_args(argv)
    return args


def development_split(train: list[dict], seed: int, n_queries: int = 900) -> tuple[list, list]:
    """(training side, queries): 1/9 of the tune ids held out with every tune of their titles."""
    ids = sorted({r["tune_id"] for r in train})
    held = set(np.random.default_rng(seed).choice(ids, size=len(ids) // 9, replace=False))
    keys = {title_key(r["title"]) for r in train if r["tune_id"] in held}
    side = [r for r in train if r["tune_id"] not in held and title_key(r["title"]) not in keys]
    return side, [r for r in train if r["tune_id"] in held][:n_queries]


def setting_scores(tokenizer, train, rows) -> tuple[np.ndarray, list[str], list, list, float]:
    """`(queries, settings)` edit-distance scores, each setting's title and header values, each
    query's header values, and the ms per query of the scan (the package's `titled_settings`)."""
    cropper, ranker, names, headers = titled_settings(tokenizer, train)
    query_headers = [header_values(cropper, r[0]) for r in rows]
    begin = time.perf_counter()
    scores = [
        query_edit_scores(ranker, cropper, r[0], header=h) for r, h in zip(rows, query_headers)
    ]
    ms = 1000 * (time.perf_counter() - begin) / max(len(rows), 1)
    return np.stack(scores), names, headers, query_headers, ms


def nearest_edits_per_note(tokenizer, train, rows) -> np.ndarray:
    """Per query: edits per excerpt note to the nearest titled training setting (pitch class per
    note only, no penalties): near 0 means the same melody is in training under another name."""
    cropper = NoteCropper(tokenizer)
    pitches = [cropper.pitches(x) for _, x, _ in encoded_records(tokenizer, train)]  # no ids held
    ranker = EditDistanceRanker(pitches, list(range(len(pitches))))
    return np.array([-ranker.scores(cropper.pitches(r[0])).max() for r in rows])


def query_parts(readable: list[int], first: int) -> tuple[dict[str, np.ndarray], list[str]]:
    """The parts of the queries a row reports (indices into the readable queries): ``all``,
    ``first_<first>`` (the readable ones among the first ``first`` queries: ``readable`` holds
    their positions) and ``rest``; and a line for each part without a query, left out of the
    rows (its MRR is not defined) and said, not dropped without a word.

    >>> parts, empty = query_parts([0, 2, 5], 3)
    >>> {name: idx.tolist() for name, idx in parts.items()}
    {'all': [0, 1, 2], 'first_3': [0, 1], 'rest': [2]}
    >>> query_parts([0, 2], 300)[1]
    ['part rest left out of the rows: no query past the first 300 (2 readable queries)']
    """
    at = np.array(readable, dtype=int)
    parts = {
        "all": np.arange(len(at)),
        f"first_{first}": np.flatnonzero(at < first),
        "rest": np.flatnonzero(at >= first),
    }
    why = {
        "all": "no readable query",
        f"first_{first}": f"no readable query among the first {first}",
        "rest": f"no query past the first {first}",
    }
    empty = [
        f"part {name} left out of the rows: {why[name]} ({len(at)} readable queries)"
        for name, idx in parts.items()
        if not len(idx)
    ]
    return {name: idx for name, idx in parts.items() if len(idx)}, empty


def main(argv: list[str] | None = None) -> list[dict]:
    """Score the queries for each parameter setting; the rows printed as JSON lines."""
    args = parse_args(argv)
    corpus = load_abc_corpus(args.corpus, seed=args.split_seed, cache_dir=args.cache_dir)
    tokenizer = AbcTokenizer.from_pretrained(args.tokenizer)
    train = [r for r in read_tunes(corpus["train"]) if title_key(r["title"])]
    if args.dev is None:
        queries = read_tunes(corpus["validation"])
    else:
        train, queries = development_split(train, args.dev)
    display, key_index, kept, _ = protocol_queries(train, queries, "unseen")
    rows, readable = excerpt_query_rows(tokenizer, kept, args.excerpt_notes, args.seed)
    targets = np.array([key_index[title_key(kept[i]["title"])] for i in readable])
    scores, names, headers, query_headers, ms = setting_scores(tokenizer, train, rows)
    rhythms = [h["rhythm"] for h in headers]
    query_rhythms = [h["rhythm"] for h in query_headers]
    prior = HeaderTitlePrior(names, headers).log_probs(display, query_headers)
    embeds = minilm_title_embeddings(names + display)
    setting_titles, gallery = embeds[: len(names)], embeds[len(names) :]
    parts, empty = query_parts(readable, args.first)
    where = "validation" if args.dev is None else f"development set {args.dev}"
    print(f"{where}: queries {len(rows)}, gallery {len(display)} titles, {len(names)} settings,")
    print(f"edit-distance scan {ms:.1f} ms/query; random MRR@20 on the whole gallery", end=" ")
    print(f"{random_baseline(len(display), 20)['mrr_at_20']:.4f}")
    for line in empty:
        print(line)
    nearest = nearest_edits_per_note(tokenizer, train, rows)
    shares = {t: round(float((nearest <= t + 1e-9).mean()), 3) for t in (0.0, 0.1, 0.2)}
    print(f"share of excerpts within 0 / 0.1 / 0.2 edits per note of a training setting: {shares}")
    keys = [title_key(n) for n in names]
    results = []
    for k in args.k:
        for temperature in args.temperature:
            for weight in args.rhythm_weight:
                nt = NeighbourTitles(setting_titles, rhythms, keys, k, temperature, weight)
                predicted = np.stack([nt.predict(s, r) for s, r in zip(scores, query_rhythms)])
                cosines = predicted @ gallery.T
                for w in args.neighbour_weight:
                    row = {"k": k, "temperature": temperature, "rhythm_weight": weight}
                    row["neighbour_weight"] = w
                    for suffix, total in (("", w * cosines + prior), ("_neighbours_only", cosines)):
                        ranked = np.asarray(rank_of_targets(total, targets))
                        for name, idx in parts.items():
                            m = retrieval_metrics(ranked[idx], (1, 10), 20)
                            row[f"{name}_mrr_at_20{suffix}"] = round(m["mrr_at_20"], 4)
                            row[f"{name}_queries"] = m["queries"]
                    print(json_dumps(row, "unseen_neighbour_titles.py"))
                    results.append(row)

    return results


if __name__ == "__main__":
    main()
