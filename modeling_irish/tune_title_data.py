"""(tune, title) pairs for the dual encoder: note crops re-drawn each epoch, positives, the
collator; the title-group batch sampler: `modeling_irish.tune_title_batches` (re-exported)."""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from tokenization.analysis import played_order
from tokenization.features import FEATURE_NAMES, HeaderInfo, tune_to_rows
from tokenization.measure import tuplet_size
from tokenization.tokenization_abc import AbcDataCollator, AbcTokenizer
from tokenization.vocabulary import UNK_ID

from .corpus_keys import body_key, title_key
from .tune_title_batches import TitleGroupBatchSampler  # re-exported: its home until it moved

__all__ = [
    "NoteCropper",
    "TitleGroupBatchSampler",
    "TuneTitleCollator",
    "TuneTitleDataset",
    "group_ids",
    "known_tune_holdout",
    "setting_key",
    "titled_indices",
    "DUR_COLUMN",
    "MAIN_COLUMN",
]

MAIN_COLUMN = FEATURE_NAMES.index("main")
DUR_COLUMN = FEATURE_NAMES.index("dur")
_HEADER = {
    name: FEATURE_NAMES.index(name)
    for name in ("key", "meter", "rhythm", "root", "mode", "key_sig")
}
_SETTING_URL = re.compile(r"thesession\.org/tunes/\d+#setting(\d+)")


def titled_indices(titles: Sequence[str]) -> list[int]:
    """Indices of tunes with a real title (untitled `x`, `Gan Ainm`, "", and such a placeholder
    numbered, ``x (copy 1)``, are left out: `title_key`).

    >>> titled_indices(["The Kesh", "x", "Gan Ainm", "", "x (copy 1)", "Kesh, The"])
    [0, 5]
    """
    return [i for i, t in enumerate(titles) if title_key(t)]


def group_ids(
    titles: Sequence[str],
    tune_ids: Sequence[str],
    title_inputs: Sequence[Hashable] | None = None,
) -> np.ndarray:
    """One id per tune such that tunes sharing a tune id or a normalised title share the id,
    and, given `title_inputs` (what the title tower reads of each title,
    `tune_title_towers.title_inputs`), tunes whose titles are one input: the tower cuts
    titles to its max_length, and two titles alike up to there get one embedding.

    Such tunes are positives of each other (settings of one tune, the same title spelt two ways),
    never negatives.

    >>> group_ids(["A", "B", "a", "C"], ["1", "2", "3", "2"]).tolist()
    [0, 1, 0, 1]
    >>> group_ids(["A long one", "A long two"], ["1", "2"], ["A long", "A long"]).tolist()
    [0, 0]
    """
    if title_inputs is not None and len(title_inputs) != len(titles):
        raise ValueError(f"group_ids: {len(title_inputs)} title inputs for {len(titles)} titles")
    parent = list(range(len(titles)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    first: dict[tuple[str, Hashable], int] = {}
    for i, (title, tune_id) in enumerate(zip(titles, tune_ids)):
        keys: list[tuple[str, Hashable]] = [("title", title_key(title)), ("id", str(tune_id))]
        if title_inputs is not None:
            keys.append(("input", title_inputs[i]))
        for key in keys:
            if not key[1]:
                continue
            if key in first:
                parent[find(i)] = find(first[key])
            else:
                first[key] = i
    roots = [find(i) for i in range(len(titles))]
    _, ids = np.unique(roots, return_inverse=True)
    # renumber in order of first appearance, so ids are stable and readable
    order: dict[int, int] = {}
    return np.array([order.setdefault(r, len(order)) for r in ids], dtype=np.int64)


def setting_key(title: str, text: str) -> tuple[str, ...]:
    """Which setting a tune is: its thesession setting id when its text gives one (``S:``), else
    its normalised title and body (`body_key`). Texts with one key are one setting, whatever their
    headers: copies of it, and the entries a corpus files under one setting id with other bodies
    (2,434 ids of the shared corpus: near-copies, edits of one setting, and some other settings
    filed under the tune's own id). Taking these as one errs on the safe side: no near-copy of a
    held-out setting stays in training, at the cost of a few real settings. The known-tunes
    holdout and the retrieval evaluation both go by it, so that what one holds out the other
    leaves out of training.

    >>> setting_key("A", "X:1\\nS: https://thesession.org/tunes/5#setting9\\nK:G\\nGAB|")
    ('setting', '9')
    >>> setting_key("The Kesh", "X:1\\nT:The Kesh\\nK:G\\nGAB  c|")
    ('text', 'the kesh', 'GAB c|')
    """
    setting = _SETTING_URL.search(text)
    if setting:
        return ("setting", setting.group(1))
    return ("text", title_key(title), body_key(text))


def known_tune_holdout(
    titles: Sequence[str],
    tune_ids: Sequence[str],
    texts: Sequence[str],
    seed: int = 0,
    max_queries: int | None = None,
) -> tuple[list[int], list[int]]:
    """Split titled training tunes for the *known tunes* protocol: (train indices, query indices).

    One setting is one `setting_key` (the tunes' ABC `texts` give it). A tune id is eligible when
    one of its titled tunes has the same normalised title as a tune of another setting of that
    tune id; one such tune per eligible tune id (chosen by `seed`, at most `max_queries` of them)
    is held out as a query, and every tune of the query's setting leaves training with it (two
    entries of one setting id are one setting). So every query's title keeps a distinct setting
    of its tune in training, and the evaluation, which leaves out the queries' settings the same
    way, drops none as outside the protocol. Untitled tunes are dropped.

    >>> urls = [f"S: thesession.org/tunes/{t}#setting{s}" for t, s in zip("11123", "11234")]
    >>> known_tune_holdout(["A", "A", "A", "B", "x"], ["1", "1", "1", "2", "3"], urls, seed=1)
    ([2, 3], [1])

    (tunes 0 and 1 are one setting: the query 1 takes 0 out of training with it.)
    """
    titled = titled_indices(titles)
    if len(texts) != len(titles):
        raise ValueError(f"known_tune_holdout: {len(texts)} texts for {len(titles)} titles")
    keys = {i: setting_key(titles[i], texts[i]) for i in titled}
    by_id: dict[str, list[int]] = {}
    for i in titled:
        by_id.setdefault(str(tune_ids[i]), []).append(i)
    candidates: dict[str, list[int]] = {}
    for tune_id, members in by_id.items():
        # settings of the tune that carry each title: a query needs one besides its own
        settings: dict[str, set[tuple[str, ...]]] = {}
        for i in members:
            settings.setdefault(title_key(titles[i]), set()).add(keys[i])
        found = [i for i in members if len(settings[title_key(titles[i])]) >= 2]
        if found:
            candidates[tune_id] = found
    eligible = sorted(candidates)
    rng = np.random.default_rng(seed)
    rng.shuffle(eligible)
    if max_queries is not None:
        eligible = eligible[:max_queries]
    queries = sorted(int(candidates[k][rng.integers(len(candidates[k]))]) for k in eligible)
    held = {keys[q] for q in queries}
    return [i for i in titled if keys[i] not in held], queries


def _repeat_or_ending(text: str) -> bool:
    """Whether a canonical bar text marks a repeat or an ending (``|:``, ``:|``, ``:|2``...)."""
    return bool(text) and (text[0] == ":" or text[-1] == ":" or text[-1].isdigit())


def _check_rows(ids: Any) -> None:
    """`ids` must be one tune's rows, `(rows, 20)`: a tokenizer's output is a batch."""
    shape = tuple(np.shape(ids))
    if len(shape) != 2 or shape[1] != len(FEATURE_NAMES):
        hint = " (a batch: give one tune's rows, input_ids[0])" if len(shape) == 3 else ""
        raise ValueError(
            f"ids must be one tune's rows, shape (rows, {len(FEATURE_NAMES)}), got {shape}{hint}"
        )


class NoteCropper:
    """Crops encoded tunes to N notes and re-derives the crop's rows as if it were a whole tune.

    A crop starts at a note (or chord) and holds `n_notes` notes, a chord counting as one, with
    the bar lines, ties, tuplet marks and rests between: a rest is no note, so that an excerpt
    of N notes holds N sounding ones however many rests the tune has. Its tokens are read back
    from the ids and run through `tune_to_rows` again, so positions, bar indices and measure
    numbers (from 0) are those a user's ABC snippet with the same notes would get.

    >>> from tokenization.tokenization_abc import AbcTokenizer
    >>> abc = "X:1\\nM:2/4\\nL:1/8\\nK:D\\nDFAd|f2d2|efge|d4|]"
    >>> tok = AbcTokenizer.train([abc])
    >>> encoded = tok(abc, return_tensors="np")  # a batch of one: (1, rows, 20)
    >>> cropper = NoteCropper(tok)
    >>> ids, measures = cropper.crop(encoded["input_ids"][0], 5, np.random.default_rng(0))
    >>> len(cropper.event_rows(ids)), ids.shape[1], measures.tolist() == sorted(measures)
    (5, 20, True)
    """

    def __init__(self, tokenizer: AbcTokenizer) -> None:
        self.tokenizer = tokenizer
        vocab = tokenizer.abc_vocab
        mains = vocab.values["main"]
        self.kind = np.zeros(len(mains), dtype=np.int8)  # 1 note/rest, 2 chord start, 3 chord end
        for i, value in enumerate(mains):
            if value.startswith("pitch") or value == "z":
                self.kind[i] = 1
            elif value == "[":
                self.kind[i] = 2
            elif value == "]":
                self.kind[i] = 3
        # notes a tuplet mark covers (0 for what is not a tuplet mark)
        self.tuplet_notes = np.array([tuplet_size(v) if v[:1] == "(" else 0 for v in mains])
        # canonical bar text of each main id ("" for what is not a bar line)
        self.bar_text = np.array([v if v[:1] in ("|", ":") else "" for v in mains], dtype=object)
        self.pitch = np.full(len(mains), -1, dtype=np.int64)
        for i, value in enumerate(mains):
            if value.startswith("pitch"):
                self.pitch[i] = int(value[5:])
        # dur id -> length in eighth notes (0 for specials such as <pad>)
        self.eighths = np.array(
            [float(Fraction(v)) if v[:1].isdigit() else 0.0 for v in vocab.values["dur"]]
        )

    def readable(self, ids: np.ndarray) -> bool:
        """Whether every row can be read back for a crop: no note or rest whose length, and no
        token that, the tokenizer's vocabulary reads as `<unk>` (possible when the ids come
        from another vocabulary's corpus, e.g. a MeasureNote backbone trained elsewhere)."""
        ids = np.asarray(ids)
        main, dur = ids[:, MAIN_COLUMN].astype(np.int64), ids[:, DUR_COLUMN].astype(np.int64)
        unknown_length = (self.kind[main] == 1) & (dur == UNK_ID)
        return not (unknown_length.any() or (main == UNK_ID).any())

    def event_rows(self, ids: np.ndarray) -> np.ndarray:
        """Row indices where a note event starts (a note or rest outside a chord, or a chord)."""
        kind = self.kind[np.asarray(ids)[:, MAIN_COLUMN].astype(np.int64)]
        depth = np.cumsum(kind == 2) - np.cumsum(kind == 3)
        inside = (depth > 0) & (kind != 2)
        return np.flatnonzero(((kind == 1) & ~inside) | (kind == 2))

    def note_events(self, ids: np.ndarray) -> np.ndarray:
        """Indices into `event_rows` of the events that sound: notes and chords, not rests.

        >>> from tokenization.tokenization_abc import AbcTokenizer
        >>> abc = "X:1\\nL:1/8\\nK:D\\nz2 D[FA] z|d2|]"
        >>> tok = AbcTokenizer.train([abc])
        >>> NoteCropper(tok).note_events(tok.encode_tune(abc).input_ids).tolist()
        [1, 2, 4]
        """
        ids = np.asarray(ids)
        main = ids[self.event_rows(ids), MAIN_COLUMN].astype(np.int64)
        return np.flatnonzero((self.kind[main] == 2) | (self.pitch[main] >= 0))

    def played(self, ids: np.ndarray) -> np.ndarray:
        """The rows of an encoded tune in the order they are played: repeats and endings
        unfolded (`tokenization.analysis.played_order`), ``<start>`` and ``<end>`` kept first and
        last. A tune without repeats or endings comes back as it is.

        The rows are those of the same notes typed out: every repeat or ending bar line passed
        through (``|:``, ``:|``, ``:|:``, ``|1``, ``:|2``) becomes a plain ``|``, and a ``|`` is
        put where a pass jumps (back to the start of a section, or over an ending) between two
        notes, so that bars are not merged there. Only the token columns are right: `crop_at`
        re-derives the position columns.

        >>> from tokenization.tokenization_abc import AbcTokenizer
        >>> abc = "X:1\\nM:2/4\\nL:1/8\\nK:C\\n|:CD EF:|GA Bc|]"
        >>> tok = AbcTokenizer.train([abc])
        >>> rows = NoteCropper(tok).played(tok.encode_tune(abc).input_ids)[1:-1]
        >>> " ".join(tok.abc_vocab.token("main", int(i)) for i in rows[:, 0]).replace("pitch", "")
        '| 60 62 64 65 | 60 62 64 65 | 67 69 71 72 |]'
        """
        ids = np.asarray(ids)
        bars = self.bar_text[ids[1:-1, MAIN_COLUMN].astype(np.int64)]
        at = np.flatnonzero(bars != "")
        texts = bars[at].tolist()
        if not any(_repeat_or_ending(t) for t in texts):
            return ids
        # One item per bar line and per run of rows between two bar lines.
        spans, items, previous = [], [], 0
        for row, text in zip(at.tolist(), texts):
            if row > previous:
                spans.append((previous, row))
                items.append("")
            spans.append((row, row + 1))
            items.append(text)
            previous = row + 1
        if previous < len(bars):
            spans.append((previous, len(bars)))
            items.append("")
        plain_bar = ids[at[0] + 1].copy()  # a bar row of this tune, as a plain `|` if known
        plain_id = self.tokenizer.abc_vocab.id("main", "|")
        if plain_id != UNK_ID:
            plain_bar[MAIN_COLUMN] = plain_id
        pieces, last = [ids[:1]], None
        for k in played_order(items):
            if last is not None and k != last + 1 and not items[k] and not items[last]:
                pieces.append(plain_bar[None])  # a jump between two runs of notes
            piece = ids[spans[k][0] + 1 : spans[k][1] + 1]
            pieces.append(plain_bar[None] if _repeat_or_ending(items[k]) else piece)
            last = k
        pieces.append(ids[-1:])
        return np.concatenate(pieces)

    def pitches(self, ids: np.ndarray) -> np.ndarray:
        """MIDI pitches of the note rows of `ids` (rests, bars and specials dropped)."""
        p = self.pitch[np.asarray(ids)[:, MAIN_COLUMN].astype(np.int64)]
        return p[p >= 0]

    def notes(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """MIDI pitches and lengths in eighth notes of the note rows of `ids` (as `pitches`)."""
        ids = np.asarray(ids)
        p = self.pitch[ids[:, MAIN_COLUMN].astype(np.int64)]
        keep = p >= 0
        return p[keep], self.eighths[ids[keep, DUR_COLUMN].astype(np.int64)]

    def header(self, ids: np.ndarray) -> HeaderInfo:
        """The `HeaderInfo` encoded in a row's header columns."""
        vocab, row = self.tokenizer.abc_vocab, np.asarray(ids)[0]
        value = {name: vocab.token(name, int(row[col])) for name, col in _HEADER.items()}
        try:
            key_sig = int(value["key_sig"])
        except ValueError:
            key_sig = 0
        meter = None if value["meter"] in ("none", "<unk>") else value["meter"]
        return HeaderInfo(
            value["key"], value["root"], value["mode"], key_sig, meter, value["rhythm"]
        )

    def crop_at(
        self, ids: np.ndarray, start: int, n_notes: int, header: HeaderInfo | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and measure numbers of the `n_notes` notes from note number `start` (notes and
        chords, `note_events`), with the rests between them, but none before the first or
        after the last.

        A crop never starts inside a tuplet (it starts at the tuplet's mark instead, `start`
        moving back to its first note: the notes keep their tuplet lengths) and never ends on a
        tuplet mark without its notes. A tune of at most `n_notes` notes (or any with
        `n_notes` <= 0) is kept whole, its rows re-derived all the same (the rows of `played`
        need it)."""
        _check_rows(ids)
        events, notes = self.event_rows(ids), self.note_events(ids)
        if n_notes <= 0 or len(notes) <= n_notes:
            first, stop = 0, len(ids)  # the whole tune (`ids_to_tokens` skips its frame)
        else:
            event, first = self._tuplet_start(ids, events, int(notes[start]))
            end = min(int(np.searchsorted(notes, event)) + n_notes, len(notes))
            last = int(notes[end - 1])  # the crop's last note: the rests after it stay out
            stop = events[last + 1] if last + 1 < len(events) else len(ids) - 1
            if self.tuplet_notes[int(ids[stop - 1, MAIN_COLUMN])]:
                stop -= 1  # a tuplet mark whose notes are not in the crop
        tokens = self.tokenizer.ids_to_tokens(np.asarray(ids)[first:stop])
        rows = tune_to_rows(tokens, header or self.header(ids))
        return self.tokenizer.abc_vocab.encode(rows), np.asarray(rows.measure_numbers, np.int64)

    def _tuplet_start(self, ids: np.ndarray, events: np.ndarray, start: int) -> tuple[int, int]:
        """``(start event, first row)`` of a crop that starts at event ``start``, moved back to
        the mark of the tuplet that event belongs to (if any)."""
        row = int(events[start])
        marks = np.flatnonzero(
            self.tuplet_notes[np.asarray(ids)[:row, MAIN_COLUMN].astype(np.int64)]
        )
        if not len(marks):
            return start, row
        mark = int(marks[-1])
        covered = int(self.tuplet_notes[int(ids[mark, MAIN_COLUMN])])
        first_member = int(np.searchsorted(events, mark))  # event index of its first note
        if start - first_member >= covered:  # the tuplet ended before this event
            return start, row
        return first_member, mark

    def crop(
        self,
        ids: np.ndarray,
        n_notes: int,
        rng: np.random.Generator,
        header: HeaderInfo | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A crop of `n_notes` notes (`crop_at`) at a uniformly random start note (the whole tune
        if it has no more)."""
        _check_rows(ids)
        n_sounding = len(self.note_events(ids))
        start = int(rng.integers(0, max(n_sounding - n_notes, 0) + 1))
        return self.crop_at(ids, start, n_notes, header)


class TuneTitleDataset(Dataset):
    """(crop, title) items; the crop of item i in epoch e is drawn from seed (seed, e, i).

    Args:
        input_ids: one `(n_rows, 20)` id array per tune (whole encoded tunes).
        titles: one title per tune.
        groups: positive-group id per tune (`group_ids`).
        tokenizer: the `AbcTokenizer` the ids come from.
        crop_notes: notes per crop, rests not counted (0 = whole tunes; `NoteCropper`).
        seed: base seed of the crops.
    """

    def __init__(
        self,
        input_ids: Sequence[np.ndarray],
        titles: Sequence[str],
        groups: Sequence[int],
        tokenizer: AbcTokenizer,
        crop_notes: int = 30,
        seed: int = 0,
    ) -> None:
        if not len(input_ids) == len(titles) == len(groups):
            raise ValueError("input_ids, titles and groups must have the same length")
        self.input_ids = list(input_ids)
        self.titles = list(titles)
        self.groups = np.asarray(groups, dtype=np.int64)
        self.cropper = NoteCropper(tokenizer)
        self.crop_notes = crop_notes
        self.seed = seed
        self.epoch = 0
        self._headers: dict[int, HeaderInfo] = {}

    def set_epoch(self, epoch: int) -> None:
        """Draw the crops of `epoch` from now on (each epoch crops every tune anew)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, index: int) -> dict[str, Any]:
        ids = np.asarray(self.input_ids[index])
        if index not in self._headers:
            self._headers[index] = self.cropper.header(ids)
        rng = np.random.default_rng((self.seed, self.epoch, index))
        rows, measures = self.cropper.crop(ids, self.crop_notes, rng, self._headers[index])
        return {
            "input_ids": rows,
            "measure_numbers": measures,
            "title": self.titles[index],
            "group": int(self.groups[index]),
        }


class TuneTitleCollator:
    """Pads crops (`AbcDataCollator`, labels dropped) and adds `titles`, `group_ids` and the
    `(n, n)` `positives_mask` (True where two items share a group)."""

    def __init__(self) -> None:
        self.rows = AbcDataCollator()

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = dict(self.rows(features))
        batch.pop("labels")
        groups = torch.tensor([f["group"] for f in features], dtype=torch.long)
        batch["titles"] = [f["title"] for f in features]
        batch["group_ids"] = groups
        batch["positives_mask"] = groups[:, None] == groups[None, :]
        return batch
