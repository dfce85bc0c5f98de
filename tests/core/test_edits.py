"""Edits through trace options: the edited model's trace is exactly what that model computes, the
original model never changes, and the trace says how it was edited."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn as nn

import seqviz
from seqviz.edits import ScaleRecurrent


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
@pytest.mark.parametrize("layer", [None, 1])
def test_scale_recurrent_equals_a_module_with_scaled_weights(cls, layer):
    torch.manual_seed(0)
    module = cls(3, 5, num_layers=2, bidirectional=True)
    x = torch.randn(7, 3)
    before = copy.deepcopy(module.state_dict())
    tr = seqviz.trace(module, x, edits=[ScaleRecurrent(1.7, layer=layer)])
    reference = copy.deepcopy(module)
    with torch.no_grad():
        for name, p in reference.named_parameters():
            if name.startswith("weight_hh") and (layer is None or f"_l{layer}" in name):
                p.mul_(1.7)
    expected = seqviz.trace(reference, x)
    for name in expected.names():
        np.testing.assert_allclose(tr[name], expected[name], rtol=1e-5, atol=1e-6)
    assert all(torch.equal(module.state_dict()[k], v) for k, v in before.items())  # untouched
    assert tr.meta.edits == (ScaleRecurrent(1.7, layer).describe(),)


def test_a_bundled_rnn_scaled_by_one_is_the_plain_trace_and_by_two_differs():
    model = seqviz.load_model("longrange-rnn")
    text = model.card.examples[0]
    plain = seqviz.trace(model, text)
    np.testing.assert_array_equal(
        seqviz.trace(model, text, edits=[ScaleRecurrent(1.0)])["hidden"], plain["hidden"]
    )
    scaled = seqviz.trace(model, text, edits=[ScaleRecurrent(2.0)])
    assert not np.allclose(scaled["hidden"][1:], plain["hidden"][1:]) and scaled.meta.edits == (
        "W_hh \u00d7 2",
    )
    np.testing.assert_array_equal(scaled["hidden"][0], plain["hidden"][0])  # h_0 = 0: step 1 is unchanged


def test_a_model_without_recurrent_weights_says_so():
    with pytest.raises(ValueError, match="no recurrent weight matrices"):
        seqviz.trace(seqviz.load_model("longrange-transformer"), "i was born in", edits=[ScaleRecurrent(2.0)])
