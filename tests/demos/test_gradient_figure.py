"""The gradient figure: what it measures is the core's gradient map, and before training it shows the
lesson (the plain RNN's influence falls off fastest); the picture and table hold every curve."""

from __future__ import annotations

import numpy as np

import seqviz
from seqviz.demos import gradient_figure
from seqviz.demos.tasks_longrange import LongRangeTask


def test_influence_is_the_row_of_the_gradient_map_at_the_answer():
    model = seqviz.load_model("longrange-gru")
    curve, country = gradient_figure.influence(model, n=1)
    ex = LongRangeTask().at_distance(gradient_figure.FIGURE_SEED + 1, gradient_figure.FILLERS[0], 1)[0]
    t = ex.scored[0]
    row = seqviz.trace(model, list(ex.tokens), gradients=True)["input_gradient_norm"][t]
    # distance 1 is averaged over the three filler lengths; the first example's word 1 back is part of it
    assert np.isfinite(curve[1]) and curve[1] > 0 and row[t - 1] > 0
    assert country > 0 and gradient_figure._country_index(list(ex.tokens)) in (2, 4)


def test_before_training_the_rnn_loses_the_past_fastest():
    initial = gradient_figure.models()["before training"]
    left = {
        a: (lambda c: c[20] / c[1])(gradient_figure.influence(initial[a], n=5)[0])
        for a in ("rnn", "gru", "lstm")
    }
    assert left["rnn"] < left["gru"] / 5 and left["rnn"] < left["lstm"] / 5


def test_the_picture_and_table_have_every_panel_and_architecture():
    curve = np.logspace(0, -8, 128)
    results = {
        p: {a: (curve, 1e-3) for a in ("rnn", "gru", "lstm", "transformer")} for p in gradient_figure.PANELS
    }
    table = gradient_figure.markdown_table(results)
    assert table.count("(before training)") == 4 and table.count("(trained)") == 4
    assert "the country word" in table and "20 words back" in table
    image = gradient_figure.draw(results)
    assert image.size == (1400, 620) and len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 10
