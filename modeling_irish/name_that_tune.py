"""Name that tune: `identify` names the tune of an ABC snippet against a `TuneIndex`, and
says what it cannot compare (a snippet without notes, notes the tokenizer does not know).

The index itself (built, saved, loaded, checked) lives in `tune_index`; reading, encoding and
embedding a corpus, which the retrieval protocols (`retrieval_evaluation`) share, in
`tune_embedding`; the saved index's files in `tune_index_files`. Their public names are
importable from here as before.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Optional

import numpy as np

from tokenization.abc_header import NO_KEY
from tokenization.abc_parser import AbcParseError, parse_abc
from tokenization.tokenization_abc import AbcTokenizer, EncodedTune

from .edit_distance import check_score_weight
from .identified import Identified, unknown_notes
from .tune_embedding import (
    best_per_title,
    embed_titles,  # noqa: F401 (importable from here, as before)
    embed_tunes,
    header_values,
    read_tunes,  # noqa: F401 (importable from here, as before)
    require_finite,
    single_thread,
)
from .tune_index import (  # the index moved there: its names are importable from here, as before
    REBUILD,
    TuneIndex,
    check_index,  # noqa: F401
    folder_path,  # noqa: F401
    nothing_to_index,  # noqa: F401
    shape_problems,  # noqa: F401
    source_names,  # noqa: F401
)
from .tune_index_files import (
    INDEX_FILE,  # noqa: F401 (importable from here, as before)
    finish_interrupted_saves,  # noqa: F401 (importable from here, as before)
)
from .tune_title_data import NoteCropper

logger = logging.getLogger(__name__)

__all__ = [
    "HYBRID_WEIGHT",
    "INDEX_FILE",
    "Identified",
    "TuneIndex",
    "embed_titles",
    "embed_tunes",
    "header_values",
    "identify",
    "read_tunes",
    "single_thread",
    "index_tokenizer",
    "missing_key_hint",
    "names_a_key",
    "scored_read_warnings",
]

# weight of the edit-distance score beside the title cosine in the "hybrid" scorer, chosen on
# 587 held-out settings of training tunes that are not the reported queries (docs/BENCHMARKS.md)
HYBRID_WEIGHT = 8.0
IDENTIFY_SCORERS = ("hybrid", "title", "setting", "edit-distance")
#: a K: field (header line or inline) and its value
_KEY_FIELD = re.compile(r"^\s*K:([^\n%]*)|\[K:([^\]]*)\]", re.MULTILINE)


def _snippet_edit_scores(
    tokenizer: AbcTokenizer,
    index: TuneIndex,
    ids: np.ndarray,
    abc_snippet: str,
    transpose: bool = True,
) -> np.ndarray:
    """`(n_titles,)` edit-distance score of a snippet's notes against the index's settings.

    The index holds tunes moved onto the white keys of their mode, and a snippet's `K:` moves it
    the same way; `transpose` (the default) then also finds settings whose tonic sits on another
    white key. A snippet without `K:` (notes typed as heard) has no key to move it by, so its
    pitch classes are compared in all 12 transpositions (`TuneIndex.shift_free_scores`: the
    pitch-class intervals, the same in every key, pick 1,000 settings, which are then compared
    in every shift; as many tunes named as by 12 full scans, in a fifth of the time). The
    transposing scorer's letters would also do without a key, but name fewer tunes: letters
    are coarser than pitch classes (300 held-out settings written in random keys without
    `K:`, MRR@20 0.764 against 0.783). Its mode is unknown, so no mode penalty."""
    cropper = NoteCropper(tokenizer)
    # as typed, not unfolded: a snippet with a repeat sign (`A :| B`) still lies, as written,
    # in the played order of its tune's settings, and unfolding it would repeat notes in place
    # of the next part's within the 64 notes compared (held-out settings without `K:`: MRR@20
    # 0.781 as typed against 0.772 unfolded). One typed across first and second endings does
    # not (both endings in a row, which no pass plays): it scores below 0, and unfolding it
    # mends that only for a snippet that starts where the repeat does (its `:|` goes back to
    # the snippet's start, not the part's)
    pitches, durations = cropper.notes(ids)
    h = header_values(cropper, ids)
    if names_a_key(abc_snippet):
        return index.edit_distance_scores(
            pitches, durations, h["meter"], h["mode"], h["rhythm"], transpose
        )
    return index.shift_free_scores(pitches, durations, h["meter"], h["rhythm"])


def names_a_key(abc_snippet: str) -> bool:
    """Whether a snippet gives its key: a ``K:`` field other than ``K:none`` (ABC 2.1's "no
    key signature", notes typed as heard) or an empty one.

    >>> names_a_key("K:G\\nGAG|"), names_a_key("K:none\\n^FGA|"), names_a_key("GAG|")
    (True, False, False)
    """
    for m in _KEY_FIELD.finditer(abc_snippet):
        words = (m[1] if m[1] is not None else m[2]).split()
        if words and words[0].lower() != "none":
            return True
    return False


#: What the reader says of a query with ``K:none`` (notes typed as heard); one without ``K:``
#: draws `NO_KEY`: both compared in every key.
_KEY_NONE_READ = "K:none read as C major"


def scored_read_warnings(warnings: list[str], abc_snippet: str, scoring: str) -> list[str]:
    """The reader's ``warnings`` about a query, less the C major it assumes without ``K:`` (or
    with ``K:none``) where that changes no score: under the edit distance alone, such a query
    is compared in all 12 transpositions and without a mode (`_snippet_edit_scores`), so saying
    it would have the user add a ``K:`` line for nothing. A model's scorers read that key: kept
    for them. Where the C major does change the notes (`missing_key_hint`: no ``K:`` field and
    no sharp or flat, so an F played sharp was read natural, which no transposition mends), the
    warning is kept for every scorer, with the hint.

    >>> scored_read_warnings([f"{NO_KEY} (line 1)", "overlay"], "ABde|", "edit-distance")
    ['overlay']
    >>> scored_read_warnings([_KEY_NONE_READ], "K:none\\n^FGA|", "edit-distance")
    []
    >>> scored_read_warnings([f"{NO_KEY} (line 1)"], "ABde|", "hybrid")
    ['no K: field: read as C major (line 1)']
    >>> scored_read_warnings([f"{NO_KEY} (line 1)"], "FAAB|", "edit-distance")[0][:53]
    'no K: field: read as C major, with no sharps or flats'
    """
    keyless = not names_a_key(abc_snippet)
    kept = []
    for warning in warnings:
        if warning.startswith(NO_KEY):
            hint = missing_key_hint(abc_snippet)
            if hint:  # no line: a bare snippet's is that of the X: line added above it
                kept.append(f"{NO_KEY}, {hint}")
                continue
        key_read = warning.startswith(NO_KEY) or warning == _KEY_NONE_READ
        if not (key_read and keyless and scoring == "edit-distance"):
            kept.append(warning)
    return kept


#: Pitch classes that the common keys of Irish tunes sharpen: F (G, D and A major and their
#: modes: Em, Edor, Ador, Bm, Dmix, Amix), C (D and A major, Bm, Edor, Amix) and G (A major)
_SHARPENED_PITCH_CLASSES = frozenset({5, 0, 7})
#: The pitch classes of C major's notes: a snippet read without ``K:`` holds only these unless
#: its accidentals are written
_WHITE_KEYS = frozenset({0, 2, 4, 5, 7, 9, 11})
_KEY_HINT = (
    "with no sharps or flats: if it is played in another key, add its K: line (K:D, K:G, "
    "K:Ador...) or write its accidentals (^f for F sharp)"
)


def missing_key_hint(abc_snippet: str) -> Optional[str]:
    """What to tell the user of a snippet with no ``K:`` field at all (``K:none`` says the
    accidentals are written out) whose notes the C major it is read in may have changed: it
    writes no sharp or flat, and holds an F, C or G, which the common keys of Irish tunes
    sharpen (a tune in D typed ``FAAB AFED|`` is read with F natural, its intervals are wrong
    in every transposition, and it names other tunes). None otherwise, and for text the reader
    refuses (its error is said elsewhere).

    >>> missing_key_hint("FAAB AFED|")[:26], missing_key_hint("K:D\\nFAAB|")
    ('with no sharps or flats: i', None)
    >>> missing_key_hint("^FAAB AFED|"), missing_key_hint("ABde BAdB|")
    (None, None)
    """
    if _KEY_FIELD.search(abc_snippet):
        return None
    try:
        pitches = {t.pitch % 12 for t in parse_abc(abc_snippet).tokens if t.pitch is not None}
    except AbcParseError:
        return None
    if not pitches <= _WHITE_KEYS or not pitches & _SHARPENED_PITCH_CLASSES:
        return None
    return _KEY_HINT


def index_tokenizer(index: TuneIndex) -> AbcTokenizer:
    """The tokenizer of the folder the index was built from: the tokenizer's own (`build`
    records it when the tokenizer was loaded from a folder), else the model's."""
    folder = index.meta.get("tokenizer") or index.meta.get("model")
    how = "(identify(..., tokenizer=...), irish-tune identify --tokenizer DIR)"
    if not folder:
        raise FileNotFoundError(
            "the index records no tokenizer folder (its tokenizer was not loaded from a local "
            "folder: made in memory, e.g. by AbcTokenizer.train; or the index is older and "
            f"recorded only a model's folder, and its model had none): pass the tokenizer {how}"
        )
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"the tokenizer folder this index was built with ({folder!r}) is gone: pass one "
            f"{how} or rebuild the index"
        )
    return AbcTokenizer.from_pretrained(folder, local_files_only=True)


def identify(
    model: Any,
    index: TuneIndex,
    abc_snippet: str,
    k: int = 10,
    tokenizer: Optional[AbcTokenizer] = None,
    scoring: Optional[str] = None,
    hybrid_weight: float = HYBRID_WEIGHT,
    transpose: bool = True,
) -> Identified:
    """Top-`k` `(title, score)` for an ABC snippet or tune, best first: an `Identified` list,
    whose ``warnings`` say what of the snippet the scores did not use as typed.

    `scoring` defaults to `"hybrid"` with a model and `"edit-distance"` without one.

    `scoring`: `"title"` (cosine with the title embeddings: the dual encoder), `"setting"` (best
    cosine with the indexed settings' tune embeddings), or `"hybrid"` (title cosine +
    `hybrid_weight` x the edit-distance score of the best setting: -distance / query length per
    note plus the same per eighth note, 0 for an exact excerpt of a setting as played, about -2
    for nothing alike, less the meter, mode and tune-type penalties; settings the scorer did not
    compare closely score below all that it did). A snippet is compared as typed: one typed
    across first and second endings (``|1 ... :|2 ...``) holds both endings in a row, which no
    pass plays, so it scores below 0 even when copied from the tune's own text; the pass typed
    alone scores 0. "title" is for titles indexed without settings. `"edit-distance"`
    ranks by the edit-distance score alone and needs no model (`model=None`, an index built
    without one); on held-out settings of indexed tunes it names the tune far better than any
    title cosine we trained (docs/BENCHMARKS.md, issue 5), and the hybrid adds little to it.
    `transpose` (default): the edit distance that also finds settings whose tonic sits on
    another white key (`EditDistanceRanker(transpose=True)`). A snippet without `K:` (or
    with `K:none`) is compared in all 12 transpositions, on the settings its intervals pick
    first (`TuneIndex.shift_free_scores`), whatever `transpose` says. `tokenizer` defaults
    to the one saved in the index's model (or tokenizer) folder.

    What of the snippet is not compared as typed is returned, not logged (a caller that says
    it where the user typed the snippet would repeat it): ``read_warnings`` of the result, what
    the ABC reader left out of or changed in it (a second voice, an overlay: it is compared as
    read), at the snippet's lines (not the C major read without ``K:`` under the edit
    distance alone, which compares such a snippet in every key, unless that C major changed
    its notes: no sharp or flat written, an F, C or G typed: `scored_read_warnings`);
    ``unknown_notes``, its notes whose length or pitch the tokenizer lacks (`unknown_notes`:
    their rhythm, or the notes themselves, are not compared); ``warnings``, both.
    ``irish-tune identify`` logs them at the lines of its input.
    A model whose embedding of the snippet holds a NaN (a diverged run), or an index holding
    one, is a `ValueError` that says so, not a list of NaN scores (`require_finite`;
    `TuneIndex.build` refuses to index such vectors).

    >>> from transformers import AutoModel
    >>> model = AutoModel.from_pretrained("runs/tune-title")
    >>> tokenizer = AbcTokenizer.from_pretrained("runs/tune-title")
    >>> index = TuneIndex.build(model, tokenizer, ["tunes.abc"])
    >>> identify(model, index, "X:1\\nK:D\\nFAA2 BAFA|dfed BddA|", k=3)
    [('The Silver Spear', ...), (..., ...), (..., ...)]
    """
    if scoring is None:
        scoring = "hybrid" if model is not None else "edit-distance"
    if scoring not in IDENTIFY_SCORERS:
        raise ValueError(f"scoring must be one of {IDENTIFY_SCORERS}, got {scoring!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    check_score_weight("hybrid_weight", hybrid_weight)
    if scoring != "edit-distance" and (model is None or index.title_embeds.shape[1] == 0):
        raise ValueError(
            f"scoring {scoring!r} needs a tune-title model and an index built with it; "
            "without one, use scoring='edit-distance' (--scoring edit-distance)"
        )
    if scoring != "edit-distance":
        index.check_model_once(model)
    if tokenizer is None:
        tokenizer = index_tokenizer(index)
    enc = tokenizer.encode_tune(abc_snippet)
    _require_notes(NoteCropper(tokenizer), enc)
    if scoring == "edit-distance":
        scores = _snippet_edit_scores(tokenizer, index, enc.input_ids, abc_snippet, transpose)
    else:
        with single_thread():
            query = embed_tunes(model, [(enc.input_ids, enc.measure_numbers)])
        query = require_finite(query, "the model's embeddings of the snippet")[0]
        if scoring == "setting":
            scores = best_per_title(index.setting_embeds @ query, index.setting_title, len(index))
        else:
            scores = index.title_embeds @ query
        if scoring == "hybrid":
            ed = _snippet_edit_scores(tokenizer, index, enc.input_ids, abc_snippet, transpose)
            scores = scores + hybrid_weight * np.where(np.isfinite(ed), ed, -2.0)
        if np.isnan(scores).any():  # a finite query: the index holds NaN vectors (none is built)
            stored = index.setting_embeds if scoring == "setting" else index.title_embeds
            require_finite(stored, "the index's embeddings", REBUILD)
    top = np.argsort(-scores, kind="stable")[:k]
    return Identified(
        [(index.titles[i], float(scores[i])) for i in top],
        scored_read_warnings(enc.tune.warnings, abc_snippet, scoring),
        unknown_notes(enc, abc_snippet),
    )


def _text_not_notes(markings: dict[str, int]) -> str:
    """What a tune of rests says of its chord symbols and annotations (`AbcTune.markings`'s
    ``"text"``), which the reader keeps no note of: a snippet of chord symbols over ``x``
    rests (``"G"x2 "D"x2|``) is no tune of notes, and the refusal says why.

    >>> _text_not_notes({"text": 2}), _text_not_notes({"deco": 1})
    (' (its 2 chord symbols or annotations are not notes: the reader keeps none)', '')
    """
    count = markings.get("text", 0)
    if not count:
        return ""
    what = "chord symbol or annotation is not a note"
    if count > 1:
        what = "chord symbols or annotations are not notes"
    return f" (its {count} {what}: the reader keeps none)"


def _require_notes(cropper: NoteCropper, enc: EncodedTune) -> None:
    """Raise `AbcParseError` at the snippet's first line when it has no note to compare: rests
    alone (`z8|z8|`) or notes all beyond the pitches the tokenizer knows (bar lines alone are
    refused by the reader already).
    Every scorer would rank such a snippet on nothing (the title cosine of a tune of rests,
    an edit distance over no notes), so it is refused as a tune with no notes is."""
    if len(cropper.notes(enc.input_ids)[0]):
        return
    kinds = [token.kind for token in enc.tune.tokens]
    if "note" in kinds:
        reason = (
            f"its {kinds.count('note')} notes are all outside the pitch range the tokenizer "
            "knows (read as <unk>): nothing to compare"
        )
    else:  # rests only: the reader refuses a body with neither notes nor rests
        reason = f"has no notes, only rests{_text_not_notes(enc.tune.markings)}: nothing to compare"
    tune = enc.tune
    name = tune.title or (f"X:{tune.x}" if tune.x is not None else None)
    raise AbcParseError(reason, tune=name, line=tune.line, column=1)
