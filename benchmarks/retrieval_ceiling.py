"""How far a known-tunes query is from the training settings of its own tune, in edits.

For each query of the *known* protocol (an N-note excerpt of a held-out setting whose title is
in training), the semi-global edit distance (pitch class per note, the first part of the
baseline) to the nearest training setting of the SAME title and to the nearest setting of any
OTHER title. A scorer that only compares notes cannot name a tune whose own settings are further
from the excerpt than another tune's, so this bounds what note matching can reach. With
``--rotations`` the distances are on diatonic letters, each the best of the 7 rotations (what
``EditDistanceRanker(transpose=True)`` compares): settings whose tonic sits on another white key
count as near. Training tunes that are a query's setting (`setting_key`: the same thesession
setting id, else the same title and body) are left out, whatever their ``X:``, as
`evaluate_retrieval` leaves them out, so ``--train`` may hold the queries. Run::

    python benchmarks/retrieval_ceiling.py --train train.abc --queries known_queries.abc \\
        --tokenizer runs/fixed-budget-small [--rotations]
"""

from __future__ import annotations

import argparse

import _paths  # noqa: F401  (the repository on sys.path)
import numpy as np

from irish_tune.json_output import json_dumps
from modeling_irish.abc_corpus import title_key
from modeling_irish.cli import abc_source, existing_folder, positive_int
from modeling_irish.edit_distance import letter_sequence, pitch_sequence
from modeling_irish.retrieval_evaluation import excerpt_query_rows, protocol_queries
from modeling_irish.semiglobal import (
    MAX_WORD_QUERY,
    PaddedGallery,
    rotation_distances,
    semiglobal_distances,
)
from modeling_irish.tune_embedding import encoded_records, read_tunes
from modeling_irish.tune_title_data import NoteCropper, setting_key
from tokenization.tokenization_abc import AbcTokenizer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", required=True, type=abc_source, help="Training corpus (ABC file).")
    p.add_argument(
        "--queries",
        required=True,
        type=abc_source,
        help="Held-out settings of training tunes (ABC).",
    )
    p.add_argument("--tokenizer", required=True, type=existing_folder, help="Tokenizer folder.")
    p.add_argument("--excerpt-notes", type=positive_int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rotations", action="store_true", help="Letters, best of 7 rotations.")
    return p.parse_args(argv)


def training_settings(train: list[dict], queries: list[dict]) -> list[dict]:
    """The training tunes that are no query's setting (`setting_key`: the same thesession
    setting id, else the same title and body), whatever their ``X:`` or spacing: the rule
    `evaluate_retrieval` leaves queries out of training by. A query written to its own file
    (renumbered ``X:1``, ``X:2``...) is no longer the same text as its training copy, and a
    setting id can be filed under several entries; either left in training would be the
    query's own tune at distance 0."""
    held = {setting_key(q["title"], q["abc"]) for q in queries}
    return [r for r in train if setting_key(r["title"], r["abc"]) not in held]


def nearest_distances(
    train, key_index, rows, tokenizer, rotations: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Per query: edits per query note to the nearest setting of its own title / of another
    (`rotations`: on diatonic letters, the best of the 7 rotations)."""
    cropper = NoteCropper(tokenizer)
    titled = [r for r in train if title_key(r["title"]) in key_index]
    symbols = letter_sequence if rotations else pitch_sequence
    sequences, owners = [], []  # each setting's symbols as it is encoded: no ids held
    for i, x, _ in encoded_records(tokenizer, titled):
        sequences.append(symbols(cropper.pitches(x)))
        owners.append(key_index[title_key(titled[i]["title"])])
    owner = np.array(owners)
    gallery = PaddedGallery(sequences, 256, 128)
    everything = np.ones(len(sequences), dtype=bool)
    own, other = [], []
    for query_rows, target in rows:
        sym = np.asarray(symbols(cropper.pitches(query_rows[0]))[:MAX_WORD_QUERY])
        if rotations:
            d = rotation_distances([sym], [gallery], everything)[0].min(axis=1) / len(sym)
        else:
            d = semiglobal_distances(sym, gallery) / len(sym)
        own.append(d[owner == target].min())
        other.append(d[owner != target].min())
    return np.array(own), np.array(other)


def main(argv: list[str] | None = None) -> dict:
    """Print (and return) the distances of the queries to their own tune and to the others."""
    args = parse_args(argv)
    tokenizer = AbcTokenizer.from_pretrained(args.tokenizer)
    queries = read_tunes(args.queries)
    train = training_settings(read_tunes(args.train), queries)
    _, key_index, kept, _ = protocol_queries(train, queries, "known")
    rows, readable = excerpt_query_rows(tokenizer, kept, args.excerpt_notes, args.seed)
    if not rows:
        raise SystemExit(
            f"retrieval_ceiling.py: no query of {args.queries} is a readable setting of a title "
            f"in {args.train} (give held-out settings of training tunes)"
        )
    targets = [key_index[title_key(kept[i]["title"])] for i in readable]
    own, other = nearest_distances(
        train, key_index, list(zip(rows, targets)), tokenizer, args.rotations
    )
    out = {
        "symbols": "letters, best of 7 rotations" if args.rotations else "pitch classes",
        "queries": len(own),
        "own_within": {f"{t:.1f}": float((own <= t + 1e-9).mean()) for t in (0.1, 0.2, 0.3, 0.4)},
        "own_strictly_nearest": float((own < other).mean()),
        "own_tied_nearest": float((own == other).mean()),
        "median_edits_per_note": {"own": float(np.median(own)), "other": float(np.median(other))},
    }
    print(json_dumps(out, "retrieval_ceiling.py", indent=1))
    return out


if __name__ == "__main__":
    main()
