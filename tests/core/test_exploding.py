"""The exploding-gradient what-if on a real RNN: scaling W_hh turns a vanishing influence into one
that grows with distance (the lesson the W_hh control shows)."""

from __future__ import annotations

import numpy as np

import seqviz
from seqviz.edits import ScaleRecurrent

TEXT = "the quick brown fox jumps over the lazy dog and runs"


def influence_by_distance(factor: float) -> np.ndarray:
    """Mean ‖∂y_t/∂x_{t-k}‖ for k = 0, 5, 10, 15 on the untrained character RNN."""
    g = seqviz.trace(
        seqviz.load_model("untrained-rnn"), TEXT, edits=[ScaleRecurrent(factor)], gradients=True
    )["input_gradient_norm"]
    return np.array([np.mean([g[t, t - k] for t in range(k, len(g))]) for k in (0, 5, 10, 15)])


def test_scaling_w_hh_turns_vanishing_into_exploding():
    plain, exploding = influence_by_distance(1.0), influence_by_distance(3.0)
    assert plain[3] < plain[0] / 1000  # vanishes: 15 steps back is a thousandth of the step itself
    assert exploding[3] > exploding[0]  # grows with distance
