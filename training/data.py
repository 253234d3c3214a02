"""The data of a training run: corpus, tokenizer and tokenized splits (both tasks), and the
MeasureNote batches (length-grouped sampling, key augmentation)."""

from __future__ import annotations

import argparse
import glob
import os
from collections.abc import Iterator, Sequence
from typing import Any, Union

import numpy as np
from accelerate import Accelerator
from accelerate.logging import get_logger
from torch.utils.data import Dataset

from modeling_irish.batching import whole_rounds, whole_rounds_length
from modeling_irish.session_dump import NotADumpError
from tokenization.features import FEATURE_NAMES
from tokenization.keys import Key
from tokenization.vocabulary import TONICS, AbcVocab
from training.common import UsageError, writing
from training.run_folder import absolute_sources, cache_folder, make_folder
from training.run_resume import check_resume_data

__all__ = [
    "KeyAugmenter",
    "LengthGroupedBatchSampler",
    "TuneRowsDataset",
    "corpus_refusal",
    "data_fingerprint",
    "load_or_train_tokenizer",
    "no_training_tunes",
    "prepare_corpus",
    "split_fingerprint",
]

logger = get_logger(__name__)  # accelerate's: warns once, from the main process

#: Messages of the errors `load_abc_corpus` raises for a bad ``--corpus`` (not for a bug).
_CORPUS_INPUT_ERRORS = (
    "ABC source ",
    "no ABC tunes found",
    "no readable ABC tunes",
    "is not a thesession.org dump",
)


def load_or_train_tokenizer(train_split: Any, cache_dir: str) -> Any:
    """The vocabulary of the training split, cached under a hash of its ABC texts and of the
    tokenization code (a folder without its ``abc_vocab.json``, left by a killed run, is built
    again; so is one whose files cannot be read, a truncated copy, after a warning). It is
    saved into ``<folder>.tmp-<pid>.<start>@<host>`` and renamed into place: that folder is
    deleted when the save fails (a full disk; what of it cannot be is named in a warning), and
    those of writers that died are cleared first. The main process logs which it does (read or
    built, and the folder), and shows a bar over the tunes while it builds (10-15 s on thesession's,
    on a terminal)."""
    import hashlib

    from accelerate import PartialState

    from modeling_irish.file_utils import discard_folder, publish_directory, remove_directory
    from tokenization.dataset import column_values, remove_dead_writers, tokenization_code_hash
    from tokenization.tokenization_abc import AbcTokenizer
    from tokenization.writer_folders import own_writer_name

    main = PartialState().is_main_process  # (made first: accelerate's logger needs it)
    abc = column_values(train_split, "abc")
    texts = "\x00".join(abc) + "\x00" + tokenization_code_hash()
    digest = hashlib.sha1(texts.encode("utf-8")).hexdigest()[:16]
    path = os.path.join(cache_dir, f"abc-tokenizer-{digest}")
    for writer in _tokenizer_writers(cache_dir):  # of every digest: killed runs of other data
        remove_dead_writers(cache_dir, writer)
    if os.path.isfile(os.path.join(path, "abc_vocab.json")):
        logger.info("reading the vocabulary of %d training tunes from the cache %s", len(abc), path)
        try:
            cached = AbcTokenizer.from_pretrained(path)
            _mark_used(os.path.join(path, "abc_vocab.json"))  # for modeling_irish's prune_caches
            return cached
        except (OSError, ValueError) as err:  # a damaged JSON file: "not a vocabulary JSON file"
            logger.warning(
                "the cached vocabulary %s cannot be read (%s); building it again", path, err
            )
            remove_directory(path)
    logger.info("building the vocabulary from %d training tunes (to cache in %s)", len(abc), path)
    tokenizer = AbcTokenizer.train(abc, progress=main)
    tmp = os.path.join(cache_dir, own_writer_name(f"abc-tokenizer-{digest}.tmp-"))
    try:
        tokenizer.save_pretrained(tmp)
        publish_directory(tmp, path, "abc_vocab.json")  # another run may have saved it first
    except BaseException:  # a full disk, Ctrl-C: no half-written folder is left in the cache
        discard_folder(tmp)  # (one that will not go is named in a warning)
        raise
    return tokenizer


def _mark_used(path: str) -> None:
    """Record a hit on the cached vocabulary file ``path`` (its mtime); a read-only cache is
    still read, its use not recorded."""
    try:
        os.utime(path)
    except OSError as err:
        logger.debug("vocabulary cache %s: its use is not recorded (%s)", path, err)


def _tokenizer_writers(cache_dir: str) -> set[str]:
    """The prefixes ``abc-tokenizer-<digest>.tmp-`` of the writers' folders in ``cache_dir``
    (`load_or_train_tokenizer`), for `remove_dead_writers`, which goes by a prefix and must not
    be given ``abc-tokenizer-`` alone: that would take a published ``abc-tokenizer-<digest>``
    of digits only for a writer's folder.

    >>> _tokenizer_writers("no/such/folder")
    set()
    """
    pattern = os.path.join(glob.escape(cache_dir), "abc-tokenizer-*.tmp-*")
    return {os.path.basename(path).split(".tmp-")[0] + ".tmp-" for path in glob.glob(pattern)}


def prepare_corpus(args: argparse.Namespace, accelerator: Accelerator) -> tuple[Any, Any, dict]:
    """Load the corpus, build the tokenizer on its train split (or take the tokenizer of
    ``--measurenote_path``) and tokenize every split; the main process goes first and fills the
    cache, the others read it (a full or read-only cache folder is a `WriteError`). The data's
    `data_fingerprint` is kept as ``args.data_fingerprint`` for the run's checkpoints, and a
    resumed run whose checkpoint trained on other data is refused (`check_resume_data`)."""
    from datasets import DatasetDict

    from modeling_irish.abc_corpus import load_abc_corpus
    from tokenization.dataset import column_array, tokenize_dataset

    cache_dir = cache_folder(args)
    with writing(cache_dir), accelerator.main_process_first():  # a full disk: WriteError
        make_folder(cache_dir, "--cache_dir", default=args.cache_dir is None)
        typed = distinct_corpus(args.corpus)  # a source given twice: said as typed, read once
        sources = absolute_sources(typed)  # the spelling a resumed run reads it by
        try:
            corpus = load_abc_corpus(
                sources,
                split_ratios=args.split_ratios,
                seed=args.split_seed,
                cache_dir=cache_dir,
                link_incipits=getattr(args, "link_incipits", 0),
                require_bars_fit=getattr(args, "require_bars_fit", False),
                split_method=getattr(args, "split_method", "shuffle"),
                shown=typed_sources(typed, sources),  # messages: as the user typed them
            )
        except (FileNotFoundError, ValueError) as err:  # parse_args checked what it cheaply can
            if not any(text in str(err) for text in _CORPUS_INPUT_ERRORS):
                raise
            raise UsageError(corpus_refusal(args.corpus, err)) from err
        backbone = getattr(args, "measurenote_path", None)
        if backbone:  # a pretrained backbone only understands the ids of its own tokenizer
            from tokenization.tokenization_abc import AbcTokenizer

            tokenizer = AbcTokenizer.from_pretrained(backbone)
        else:
            tokenizer = load_or_train_tokenizer(corpus["train"], cache_dir)
        splits = tokenize_dataset(
            corpus,
            tokenizer,
            num_proc=args.num_proc,
            cache_dir=cache_dir,
            max_length=args.max_length,
        )
    report = {"corpus": getattr(corpus, "report", {}), "tokenize": splits.tokenize_report}
    if not len(splits["train"]):  # every tune skipped, dropped or split off: nothing to train on
        counts = report["tokenize"].get("train", {})
        shortest = None
        if counts.get("too_long"):  # the rows of every readable tune (the cache's, untrimmed)
            train = DatasetDict(train=corpus["train"])
            whole = tokenize_dataset(train, tokenizer, cache_dir=cache_dir)
            shortest = min(column_array(whole["train"], "length").tolist(), default=None)
        raise UsageError(no_training_tunes(args, counts, shortest))
    args.data_fingerprint = data_fingerprint(splits, tokenizer)  # each checkpoint records it
    check_resume_data(args, args.data_fingerprint)
    return tokenizer, splits, report


def distinct_corpus(corpus: str | Sequence[str] | None) -> str | list[str] | None:
    """``--corpus`` with each source once, one given twice named in a warning as the user typed
    both (`distinct_sources`). Left to the loader, the sources were told apart by their absolute
    spellings (`absolute_sources`): ``a.abc ./a.abc`` became one path, said as "the same
    source" under the last spelling, and a link was said to repeat ``/tmp/.../book.abc``.

    >>> distinct_corpus("a.abc"), distinct_corpus(None)
    ('a.abc', None)
    """
    if corpus is None or isinstance(corpus, str):  # one source: nothing to repeat
        return corpus
    from modeling_irish.abc_sources import distinct_sources, source_warnings

    with source_warnings() as said:
        return [str(one) for one in distinct_sources(list(corpus), said)]


def typed_sources(
    corpus: str | Sequence[str] | None, sources: Sequence[str] | None
) -> dict[str, str]:
    """``{source as read: as typed}`` of ``--corpus`` and its `absolute_sources`, for
    `load_abc_corpus`'s ``shown``: its messages name ``../x/lnk/a.abc`` as typed, not as
    ``/tmp/x/lnk/a.abc``.

    >>> typed_sources(["b.abc", "oneills1850"], ["/w/b.abc", "oneills1850"])
    {'/w/b.abc': 'b.abc', 'oneills1850': 'oneills1850'}
    >>> typed_sources(None, None)
    {}
    """
    typed = [corpus] if isinstance(corpus, str) else list(corpus or [])
    return dict(zip(sources or [], typed))


def corpus_refusal(corpus: str | Sequence[str] | None, err: Exception) -> str:
    """`load_abc_corpus`'s refusal of ``--corpus`` as ``--corpus PATH: why``, the form of the
    other ``--corpus`` errors: the path it names again is left out (the sources after "no
    readable ABC tunes in", named as typed: `typed_sources`; a lone dump's `NotADumpError`).

    >>> corpus_refusal("b.abc", ValueError("no readable ABC tunes in b.abc: 3 read, 3 skipped"))
    '--corpus b.abc: no readable ABC tunes: 3 read, 3 skipped'
    >>> corpus_refusal("t.json", NotADumpError("/w/t.json", "no list"))
    '--corpus t.json: not a thesession.org dump (no list)'
    """
    shown = corpus if isinstance(corpus, str) else " ".join(corpus or ["music21"])
    why = str(err)
    sources = [corpus] if isinstance(corpus, str) else list(corpus or [])  # named as typed
    unread = f"no readable ABC tunes in {', '.join(sources)}: "
    if sources and why.startswith(unread):
        why = "no readable ABC tunes: " + why.removeprefix(unread)
    elif len(sources) == 1 and isinstance(err, NotADumpError):
        why = f"not a thesession.org dump ({err.why})"
    return f"--corpus {shown}: {why}"


def no_training_tunes(args: argparse.Namespace, counts: dict, shortest: int | None) -> str:
    """Why a run has no training tune left, in one line naming the flag to change: from the
    tokenizer's counts of the training split (`tokenize_dataset`'s report) and the rows of
    its shortest readable tune (``shortest``, when ``--max_length`` dropped any).

    >>> run = argparse.Namespace(corpus="c300.abc", max_length=1)
    >>> counts = {"tunes": 263, "unreadable": 0, "too_long": 263}
    >>> no_training_tunes(run, counts, 152).split(" than ")[1]
    '--max_length 1 rows (the shortest has 152 rows: --max_length 152 keeps it)'
    >>> no_training_tunes(run, {"tunes": 3, "unreadable": 3, "too_long": 0}, None)[:54]
    '--corpus c300.abc: none of its 3 training tunes can be'
    """
    corpus = args.corpus or "music21"
    corpus = corpus if isinstance(corpus, str) else " ".join(corpus)
    tunes, unreadable, too_long = (counts.get(k, 0) for k in ("tunes", "unreadable", "too_long"))
    if not tunes:
        return f"--corpus {corpus}: its training split is empty (no tune to train on)"
    if not too_long:
        first = counts.get("dropped_at", {}).get("unreadable", [""])[0]
        return f"--corpus {corpus}: none of its {tunes} training tunes can be tokenized" + (
            f" (the first: {first})" if first else ""
        )
    hint = f" (the shortest has {shortest} rows: --max_length {shortest} keeps it)"
    hint = hint if shortest else ""
    if not unreadable:
        return (
            f"all {tunes} training tunes are longer than --max_length {args.max_length} rows{hint}"
        )
    return (
        f"no training tune left: of the {tunes} in --corpus {corpus}, {unreadable} cannot be "
        f"tokenized and {too_long} are longer than --max_length {args.max_length} rows{hint}"
    )


def data_fingerprint(splits: Any, tokenizer: Any) -> dict[str, Any]:
    """What a resumed run must read again to go on from a checkpoint (`check_resume_data`):
    per split, its number of tunes and a hash of their ids and ABC texts in order (the resume
    position counts batches of the training split, and validation must not score a tune the
    run trained on); and the vocabulary's size and a hash of its values (the model's shapes,
    and what its ids mean). The corpus loader's own cache key hashes files and code, not this.

    >>> from datasets import Dataset
    >>> from tokenization.tokenization_abc import AbcTokenizer
    >>> tunes = Dataset.from_dict({"tune_id": ["a:1"], "abc": ["X:1\\nK:D\\nDFA|]"]})
    >>> fingerprint = data_fingerprint({"train": tunes}, AbcTokenizer.train(tunes["abc"]))
    >>> fingerprint["splits"]["train"]["tunes"], sorted(fingerprint["vocabulary"])
    (1, ['sha256', 'values'])
    """
    import hashlib
    import json

    fingerprint: dict[str, Any] = {"splits": {}}
    for name, split in splits.items():
        fingerprint["splits"][name] = split_fingerprint(split)
    values = tokenizer.abc_vocab.values
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]
    fingerprint["vocabulary"] = {"values": sum(map(len, values.values())), "sha256": digest}
    return fingerprint


def split_fingerprint(split: Any) -> dict[str, Any]:
    """One split's part of `data_fingerprint`: its number of tunes and a hash of their ids and
    ABC texts, in order.

    >>> from datasets import Dataset
    >>> split_fingerprint(Dataset.from_dict({"tune_id": ["a:1"], "abc": ["X:1\\nK:D\\nDFA|]"]}))
    {'tunes': 1, 'sha256': 'dcb68c6bbc34dac1'}
    """
    import hashlib

    from tokenization.dataset import column_values

    digest = hashlib.sha256()
    for tune_id, abc in zip(column_values(split, "tune_id"), column_values(split, "abc")):
        digest.update(f"{tune_id}\x00{abc}\x00".encode())
    return {"tunes": len(split), "sha256": digest.hexdigest()[:16]}


# ----- batching ----------------------------------------------------------------------------------
class LengthGroupedBatchSampler:
    """Batches of tunes of similar length, in an order that depends only on ``(seed, epoch)``.

    With ``shuffle`` the indices are permuted, cut into mega-batches of ``mega_batch_mult *
    batch_size``, each mega-batch is sorted by length (longest first) and cut into batches, and
    the batch order is permuted again; so padding stays small while every epoch differs. Without
    ``shuffle`` all tunes are sorted by length (evaluation). Like `torch.utils.data.BatchSampler`,
    every batch is full except the last. ``lengths`` holds one length per tune, a list or a
    numpy array (the ``length`` column, `column_array`).

    With ``num_processes`` > 1 (data-parallel training, each process taking every
    ``num_processes``-th batch) the epoch is cut into a whole number of rounds, one batch per
    process, so that accelerate has nothing to pad: it would fill a short last round with
    batches from the start of the epoch, training on those tunes twice. The batches of the last,
    short round are cut again into one per process (or, with fewer tunes than processes, their
    tunes join the batches before them); the sampler then reports ``batch_size`` None, which
    tells accelerate that batches vary in size.

    >>> sampler = LengthGroupedBatchSampler([5, 1, 4, 2, 3], batch_size=2, shuffle=False)
    >>> list(sampler)
    [[0, 2], [4, 3], [1]]
    >>> list(LengthGroupedBatchSampler([5, 1, 4, 2, 3], 2, shuffle=False, num_processes=2))
    [[0, 2], [4, 3, 1]]
    """

    def __init__(
        self,
        lengths: Union[Sequence[int], np.ndarray],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        mega_batch_mult: int = 50,
        num_processes: int = 1,
    ) -> None:
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.size = batch_size
        self.num_processes = num_processes
        # what accelerate's sharding reads: None = batches of any size, nothing to pad
        self.batch_size = batch_size if num_processes == 1 else None
        self.shuffle = shuffle
        self.seed = seed
        self.mega_batch_mult = mega_batch_mult
        self.drop_last = False
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order `__iter__` yields."""
        self.epoch = epoch

    def __len__(self) -> int:
        return whole_rounds_length(len(self.lengths), self.size, self.num_processes)

    def _batches(self) -> list[np.ndarray]:
        return whole_rounds(self._cut(), self.num_processes)

    def _cut(self) -> list[np.ndarray]:
        size = self.size
        if not self.shuffle:
            order = np.argsort(-self.lengths, kind="stable")
            return [order[i : i + size] for i in range(0, len(order), size)]
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.lengths))
        mega = size * self.mega_batch_mult
        order = np.concatenate(
            [
                chunk[np.argsort(-self.lengths[chunk], kind="stable")]
                for chunk in np.split(order, range(mega, len(order), mega))
            ]
        )
        batches = [order[i : i + size] for i in range(0, len(order), size)]
        full = [b for b in batches if len(b) == size]
        last = [b for b in batches if len(b) < size]  # at most one, kept at the end
        return [full[i] for i in rng.permutation(len(full))] + last

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._batches():
            yield batch.tolist()


class TuneRowsDataset(Dataset):
    """Map-style view of a tokenized split: ``{"input_ids": (n, 20), "measure_numbers": (n,)}``.

    With an `augmenter` every tune is transposed by a shift drawn from ``(seed, epoch, index)``,
    so the augmentation of a resumed run equals that of an uninterrupted one.
    """

    def __init__(self, data: Any, augmenter: KeyAugmenter | None = None, seed: int = 0) -> None:
        self.data = data.with_format("numpy", columns=["input_ids", "measure_numbers"])
        self.augmenter = augmenter
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose transpositions `__getitem__` applies."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        item = self.data[int(index)]
        ids = np.asarray(item["input_ids"], dtype=np.int64).reshape(-1, len(FEATURE_NAMES))
        if self.augmenter is not None:
            rng = np.random.default_rng([self.seed, self.epoch, int(index)])
            ids = self.augmenter(ids, rng)
        return {"input_ids": ids, "measure_numbers": np.asarray(item["measure_numbers"])}


# ----- key augmentation --------------------------------------------------------------------------
# One spelling per pitch class, the same as the vocabulary's fixed `root` values.
class KeyAugmenter:
    """Transpose encoded tunes by whole semitones on the id level (reference-measurenote.md 5.4).

    Notes move by the shift (``main``, ``pitch_class`` and ``octave`` columns); the header's
    ``key``, ``root`` and ``key_sig`` are rewritten to the transposed key (same mode;
    ``key_sig`` is the signature of the spelling in ``tokenization.vocabulary.TONICS``, wrapped
    by 12 fifths into -7..7).
    A shift that would leave the pitch, octave or key vocabulary is re-drawn; after
    ``max_draws`` failures the tune is left unchanged.

    Args:
        vocab: the tokenizer's `AbcVocab`.
        shifts: semitone shifts to draw from, uniformly (default -5..+6, twelve keys).
    """

    def __init__(
        self, vocab: AbcVocab, shifts: Sequence[int] = tuple(range(-5, 7)), max_draws: int = 8
    ) -> None:
        names = list(vocab.values)
        self.cols = {name: names.index(name) for name in ("main", "pitch_class", "octave")}
        self.cols.update({name: names.index(name) for name in ("key", "root", "key_sig")})
        self.shifts = np.asarray(shifts, dtype=np.int64)
        self.max_draws = max_draws
        main = vocab.values["main"]
        # midi pitch of every main id (-1: not a note), and main id of every midi pitch (-1: none)
        self.main_pitch = np.array([_pitch_of(v) for v in main], dtype=np.int64)
        self.pitch_main = np.full(256, -1, dtype=np.int64)
        notes = self.main_pitch >= 0
        self.pitch_main[self.main_pitch[notes]] = np.flatnonzero(notes)
        self.pc_id = np.array([vocab.index["pitch_class"].get(str(i), -1) for i in range(12)])
        self.octave_id = np.array([vocab.index["octave"].get(str(i), -1) for i in range(22)])
        self.key_tables = {int(s): self._key_tables(vocab, int(s)) for s in self.shifts}

    @staticmethod
    def _key_tables(vocab: AbcVocab, shift: int) -> np.ndarray:
        """``(3, key_vocab)`` new key, root and key_sig ids per key id (-1: not representable)."""
        keys = vocab.values["key"]
        table = np.full((3, len(keys)), -1, dtype=np.int64)
        for key_id, value in enumerate(keys):
            tonic, _, mode = value.partition(" ")
            try:
                old = Key(tonic, mode)
            except ValueError:  # specials and <unk>: not transposable
                continue
            new = Key(TONICS[(old.tonic_pc + shift) % 12], mode)
            sig = new.signature
            sig = sig - 12 if sig > 7 else sig + 12 if sig < -7 else sig
            table[0, key_id] = vocab.index["key"].get(new.name, -1)
            table[1, key_id] = vocab.index["root"].get(new.tonic, -1)
            table[2, key_id] = vocab.index["key_sig"].get(str(sig), -1)
        return table

    def transpose(self, ids: np.ndarray, shift: int) -> np.ndarray | None:
        """``ids`` ``(n, 20)`` moved by ``shift`` semitones, or None if that leaves the vocab."""
        c = self.cols
        out = ids.copy()
        if shift == 0:
            return out
        pitch = self.main_pitch[ids[:, c["main"]]]
        notes = pitch >= 0
        moved = pitch[notes] + shift
        if moved.size and (moved.min() < 0 or moved.max() >= len(self.pitch_main)):
            return None
        new_main = self.pitch_main[moved]
        new_octave = self.octave_id[np.minimum(moved // 12, len(self.octave_id) - 1)]
        header = self.key_tables[shift][:, ids[:, c["key"]]]  # (3, n)
        if (new_main < 0).any() or (new_octave < 0).any() or (header < 0).any():
            return None
        out[notes, c["main"]] = new_main
        out[notes, c["pitch_class"]] = self.pc_id[moved % 12]
        out[notes, c["octave"]] = new_octave
        out[:, c["key"]], out[:, c["root"]], out[:, c["key_sig"]] = header
        return out

    def __call__(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Transpose by a random shift (re-drawn while it leaves the vocabulary)."""
        for _ in range(self.max_draws):
            out = self.transpose(ids, int(rng.choice(self.shifts)))
            if out is not None:
                return out
        return ids


def _pitch_of(value: str) -> int:
    return int(value[5:]) if value.startswith("pitch") and value[5:].isdigit() else -1
