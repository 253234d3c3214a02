"""The rows the generator feeds its model are the tokenizer's rows of the tune it wrote.

`GeneratedTune.rows` is documented as what ``AbcTokenizer.encode_tune(abc)`` gives back, up to
whole octaves (the written tune is centred on the playing register). The generator builds each
sampled row itself (`generation_sampling.RowBuilder`), so a slip there (a wrong pitch class,
octave or position id) would feed the model features it was never trained on, while a check
that reruns the model over the generator's own rows agrees with itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import (  # noqa: F401 (a fixture)
    GENERATION_TUNES,
    one_torch_thread,
    tiny_measurenote_config,
)

from modeling_irish.generation import TuneGenerator
from modeling_irish.modeling_measurenote import MeasureNoteForCausalLM
from tokenization.features import FEATURE_NAMES, HeaderInfo, tune_to_rows
from tokenization.tokenization_abc import AbcTokenizer

TRAIN = [
    *GENERATION_TUNES,
    "X:6\nT:f\nR:slide\nM:12/8\nL:1/8\nK:D\nA2d d2e f2e d2B|A2F F2A B2A F3|]\n",
]
#: the token columns (main, dur, pitch_class, octave) and the five position columns
TOKEN_AND_POSITION = FEATURE_NAMES[:9]
REQUESTS = [
    ("reel", "D"),
    ("jig", "G"),
    ("slip jig", "E minor"),
    ("polka", "A"),
    ("waltz", "F"),
    ("slide", "D"),
]


@pytest.fixture(scope="module")
def generator(one_torch_thread):  # noqa: F811 (the fixture)
    torch.manual_seed(0)
    tokenizer = AbcTokenizer.train(TRAIN)
    config = tiny_measurenote_config(vocab_sizes=tokenizer.abc_vocab.sizes)
    return TuneGenerator(MeasureNoteForCausalLM(config), tokenizer)


@pytest.fixture(scope="module")
def sampled(generator):
    return {
        (rhythm, key): [
            tune
            for seed in (0, 1)
            for tune in generator.generate(4, rhythm=rhythm, key=key, seed=seed, num_bars=4)
        ]
        for rhythm, key in REQUESTS
    }


def values(generator, name: str, ids: np.ndarray) -> list[str]:
    return [generator.vocab.values[name][i] for i in ids.tolist()]


@pytest.mark.parametrize("rhythm, key", REQUESTS)
def test_sampled_rows_are_the_rows_of_the_sampled_tokens(generator, sampled, rhythm, key):
    # the tokenizer's own rows of the tokens sampled (in the normalised key, as the rows are)
    for tune in sampled[(rhythm, key)]:
        assert tune.valid, tune.errors
        white = tune.key.white
        header = HeaderInfo(white.name, white.tonic, white.mode, 0, tune.meter, tune.rhythm)
        expected = generator.vocab.encode(tune_to_rows(tune.normalised_tokens, header))
        assert tune.rows.shape == expected.shape, tune.abc
        for j, name in enumerate(TOKEN_AND_POSITION):
            got, want = tune.rows[:, j], expected[:, j]
            assert (got == want).all(), (
                name,
                values(generator, name, got),
                values(generator, name, want),
                tune.abc,
            )


@pytest.mark.parametrize("rhythm, key", REQUESTS)
def test_sampled_rows_are_the_encoding_of_the_written_abc(generator, sampled, rhythm, key):
    # `GeneratedTune.rows`: what encode_tune(abc) gives, up to whole octaves
    notes_seen = compared = 0
    for tune in sampled[(rhythm, key)]:
        encoded = generator.tokenizer.encode_tune(tune.abc).input_ids
        rows = tune.rows
        assert rows.shape == encoded.shape, tune.abc
        for j, name in enumerate(TOKEN_AND_POSITION):
            if name in ("main", "octave"):
                continue
            assert (rows[:, j] == encoded[:, j]).all(), (
                name,
                values(generator, name, rows[:, j]),
                values(generator, name, encoded[:, j]),
                tune.abc,
            )
        got_main, want_main = (
            values(generator, "main", rows[:, 0]),
            values(generator, "main", encoded[:, 0]),
        )
        notes = [i for i, v in enumerate(got_main) if v.startswith("pitch")]
        others = [i for i in range(len(got_main)) if i not in notes]
        assert [got_main[i] for i in others] == [want_main[i] for i in others], tune.abc
        assert (rows[others, 3] == encoded[others, 3]).all(), tune.abc
        # one shift of whole octaves for the whole tune, in the main and the octave columns
        # (a random model's notes spread over the tiny vocabulary's whole range: the written
        # register may move some past its ends, which encode to <unk> and are left out)
        known = [i for i in notes if want_main[i].startswith("pitch")]
        shifts = {int(got_main[i][5:]) - int(want_main[i][5:]) for i in known}
        assert len(shifts) == 1, tune.abc
        (shift,) = shifts
        assert shift % 12 == 0, tune.abc
        octaves = values(generator, "octave", rows[known, 3])
        encoded_octaves = values(generator, "octave", encoded[known, 3])
        moved = [int(a) - int(b) for a, b in zip(octaves, encoded_octaves)]
        assert moved == [shift // 12] * len(known), (moved, shift, tune.abc)
        notes_seen += len(notes)
        compared += len(known)
    assert notes_seen >= 40 and compared >= notes_seen / 2


def test_a_sample_moved_out_of_midi_stops_before_that_note():
    """The octave that centres a new tune (`output_shift`) can take its highest note past
    127: written, no reader took the ABC back. Now the ABC stops before it, and says why."""
    from modeling_irish.generation import _writable
    from tokenization.abc_parser import parse_abc
    from tokenization.keys import Key, transpose_tokens

    tokens = transpose_tokens(parse_abc("X:1\nK:C\nCD g''''E|").tokens, 13)  # into C#, up 13
    written, why = _writable(tokens, Key("C#", "major"))
    assert [t.pitch for t in written] == [73, 75]
    assert why == (
        "token 2: pitch 140 in C# major is outside the MIDI range 0-127 (the octave centred "
        "the tune); the ABC stops at token 2"
    )
