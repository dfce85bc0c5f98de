"""Value edits (seqviz.edits) check their fields and the model they meet, and say what is valid."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

import seqviz
from seqviz.edits import ClampGate, SetCell, SetHidden


def test_fields_are_normalised_and_described_in_one_line():
    edit = ClampGate("forget_gate", 1, [5, 3], range(4, 10), 1)
    assert (edit.units, edit.steps, edit.value) == ((3, 5), (4, 5, 6, 7, 8, 9), 1.0)
    assert edit.describe() == "forget gate of layer 1, units 3,5 = 1 at steps 4\u20139"
    assert SetHidden(0, np.array([2]), torch.tensor([7]), -0.5, 1).describe() == (
        "hidden of layer 0 (backward), unit 2 = -0.5 at step 7"
    )
    assert SetCell(0, 1, range(0, 40, 2), 0).describe().endswith("steps 0,2,4,6,8,10,\u2026 (20 in all)")
    assert hash(edit) == hash(ClampGate("forget_gate", 1, (3, 5), list(range(4, 10)), 1.0))  # frozen


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ClampGate("forget", 0, [1], [1], 0), "unknown gate 'forget'; LSTM gates: input_gate"),
        (lambda: SetHidden(-1, [1], [1], 0), "layer: indices are 0-based"),
        (lambda: SetHidden(0, [], [1], 0), "units is empty"),
        (lambda: SetHidden(0, [1], [1], float("nan")), "value must be a finite number"),
        (lambda: SetHidden(0, [1], [1], 0, direction=2), "direction is 0 \\(forward\\) or 1 \\(backward\\)"),
    ],
)
def test_bad_fields(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


CASES = [  # (module, edit, message)
    (nn.RNN, ClampGate("forget_gate", 0, [1], [1], 0.0), "a plain RNN has no gates"),
    (nn.GRU, ClampGate("forget_gate", 0, [1], [1], 0.0), "a GRU has no forget_gate; its gates: update_gate"),
    (
        nn.LSTM,
        ClampGate("update_gate", 0, [1], [1], 0.0),
        "an LSTM has no update_gate; its gates: input_gate",
    ),
    (nn.GRU, SetCell(0, [1], [1], 0.0), "SetCell: a GRU has no cell state \\(LSTMs do\\); use SetHidden"),
    (nn.LSTM, SetCell(2, [1], [1], 0.0), "layer 2 is out of range; the model has layers 0\u20131"),
    (nn.LSTM, SetHidden(0, [9], [1], 0.0), "unit 9 is out of range; hidden has units 0\u20134"),
    (nn.LSTM, SetHidden(0, [1], [6], 0.0), "step 6 is out of range; the input has steps 0\u20135"),
    (
        nn.LSTM,
        SetHidden(0, [1], [1], 0.0, 1),
        "direction 1 \\(backward\\) is out of range; this model reads one way",
    ),
]


@pytest.mark.parametrize("cls, edit, message", CASES)
def test_edits_that_do_not_fit_the_model_say_what_does(cls, edit, message):
    with pytest.raises(ValueError, match=message):
        seqviz.trace(cls(3, 5, 2), "abcdef", edits=[edit])


def test_a_transformer_module_refuses_value_edits():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(ValueError, match="is a Transformer: it has no such states; AblateHead"):
        seqviz.trace(layer, "abc", edits=[SetHidden(0, [0], [0], 0.0)])


def test_anything_else_is_not_an_edit():
    with pytest.raises(TypeError, match="unknown edit 'forget'; seqviz.edits has ClampGate"):
        seqviz.trace(nn.GRU(3, 5), "abc", edits=["forget"])
