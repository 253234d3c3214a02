"""Edges of `validate_tune` (a tie to a rest, no meter, no tokens) and the errors of the
tune-title configs, with the messages they give."""

from __future__ import annotations

from fractions import Fraction

import pytest

from modeling_irish.configuration_tune_title import (
    TuneTitleConfig,
    TuneTitleTextConfig,
    TuneTitleTuneConfig,
)
from modeling_irish.tune_validation import TuneValidity, validate_tune
from tokenization.abc_parser import Token, parse_abc


def tokens(body: str, meter: str = "4/4") -> list:
    return parse_abc(f"X:1\nM:{meter}\nL:1/8\nK:C\n{body}").tokens


# ----- validate_tune -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, token",
    [
        ("CDEF G4|z8|]", 7),  # across the bar line: tokens 0-4 notes, 5 tie, 6 bar, 7 the rest
        ("CDEF G3z|c8|]", 6),  # inside the bar
    ],
)
def test_a_tie_to_a_rest_is_an_error(body, token):
    # a model may sample a tie before a rest; the reader drops such ties, so one is put in here
    generated = tokens(body)
    generated.insert(5, Token("tie", "-", None, None))
    result = validate_tune(generated, "4/4")
    assert not result.ok
    assert result.errors[0] == f"token {token}: tie to a rest"
    assert result.bars == 2  # the bars are still counted


def test_a_tie_to_the_same_note_across_a_bar_scans():
    # the control of the test above: the same tie ending on a note
    assert validate_tune(tokens("CDEF G4-|G8|]"), "4/4") == TuneValidity(True, [], 2, Fraction(0))


@pytest.mark.parametrize("meter", [None, "", "none", "free"])
def test_a_tune_without_a_meter_cannot_be_checked(meter):
    result = validate_tune(tokens("CDEF GABc|]"), meter)
    assert result == TuneValidity(False, ["no meter"], 0, Fraction(0))


@pytest.mark.parametrize(
    "body, errors",
    [
        ("F2D DFD DFD DFD|Bcd edc [1 d2B A2G:|[2 d2z d2z||", []),  # O'Neill's 980
        ("|:F2D DFD DFD DFD|Bcd edc [1 d2B A2G|ABc dBA d2B A2G:|[2 d2z d2z|ABc dBA d2B A2G||", []),
        # the bar is measured across `[1` (O'Neill's 995 leaves out a bar line), and the second
        # ending completes the bar the first one opened in
        (
            "F2D DFD DFD DFD|AFA [1 Bcd edc d2B A2G:|[2 d2z d2z d2z||",
            ["token 26: bar 2 lasts 15, not 12"],
        ),
        ("F2D DFD DFD DFD|Bcd edc [1 d2B A2G:|[2 d2z d2||", ["token 27: bar 3 lasts 11, not 12"]),
        ("F2D DFD DFD DFD|Bcd edc d2B [2 A2G||", ["token 20: unbalanced '[2'"]),  # no first one
    ],
)
def test_an_ending_opened_mid_bar_is_measured_across_as_one_bar(body, errors):
    """`[1` was an "unsupported bar", so constrained generation refused a prompt holding one."""
    assert validate_tune(tokens(body, "12/8"), "12/8").errors == errors


def test_an_empty_tune_is_not_valid():
    assert validate_tune([], "6/8") == TuneValidity(False, ["empty tune"], 0, Fraction(0))
    # the meter is checked first
    assert validate_tune([], None).errors == ["no meter"]


# ----- tune-title config errors ------------------------------------------------------------------
# each refusal names the field that is wrong and its value, not a list of fields to check
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"summary_hidden_size": 0},
            "summary_hidden_size must be >= 1, got {'summary_hidden_size': 0}",
        ),
        (
            {"summary_num_layers": 0},
            "summary_num_layers must be >= 1, got {'summary_num_layers': 0}",
        ),
        ({"cnn_channels": -1}, "cnn_channels must be >= 1, got {'cnn_channels': -1}"),
        ({"cnn_kernel_size": 4}, "cnn_kernel_size must be odd, got 4"),
        ({"cnn_num_blocks": -1}, "cnn_num_blocks must be >= 0, got -1"),
        ({"dropout": 1.0}, "dropout must be in [0, 1), got 1.0"),
        ({"dropout": -0.1}, "dropout must be in [0, 1), got -0.1"),
    ],
)
def test_tune_tower_config_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        TuneTitleTuneConfig(backbone_config={}, **kwargs)
    assert str(info.value) == message
    # the same value reached through the dual encoder's config (and so its config.json)
    with pytest.raises(ValueError) as info:
        TuneTitleConfig(tune_config={"backbone_config": {}, **kwargs})
    assert str(info.value) == message


def test_tune_tower_config_bounds_that_are_allowed():
    config = TuneTitleTuneConfig(
        backbone_config={}, dropout=0.0, cnn_kernel_size=1, cnn_num_blocks=0, cnn_channels=1
    )
    assert (config.dropout, config.cnn_kernel_size, config.cnn_num_blocks) == (0.0, 1, 0)
    assert TuneTitleTuneConfig(backbone_config={}, dropout=0.99).dropout == 0.99


@pytest.mark.parametrize("dropout", [1.0, 1.5, -0.5])
def test_title_tower_config_refuses_a_dropout_outside_0_1(dropout):
    with pytest.raises(ValueError) as info:
        TuneTitleTextConfig(encoder_type="char_gru", dropout=dropout)
    assert str(info.value) == f"dropout must be in [0, 1), got {dropout}"
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        TuneTitleConfig(
            tune_config={"backbone_config": {}},
            title_config={"encoder_type": "char_gru", "dropout": dropout},
        )
    assert TuneTitleTextConfig(encoder_type="char_gru", dropout=0.5).dropout == 0.5


@pytest.mark.parametrize("projection_dim", [0, -3])
def test_dual_encoder_config_refuses_an_empty_projection(projection_dim):
    with pytest.raises(ValueError) as info:
        TuneTitleConfig(tune_config={"backbone_config": {}}, projection_dim=projection_dim)
    assert str(info.value) == f"projection_dim must be >= 1, got {projection_dim}"
    # a saved config.json with the bad value is refused on loading too
    with pytest.raises(ValueError, match="projection_dim must be >= 1"):
        TuneTitleConfig.from_dict({"projection_dim": projection_dim})


def test_dual_encoder_config_of_one_dimension_is_allowed():
    config = TuneTitleConfig(tune_config={"backbone_config": {}}, projection_dim=1)
    assert config.projection_dim == 1
