"""Diverging heatmaps' colour ranges are robust: a few extreme values (an LSTM's cells drifting to
±70) are clipped at the 99th percentile of |values| instead of washing every other cell out to the
middle colour, and the clipping is said (colour bar ends, its hover text, the cell's hover text)."""

from __future__ import annotations

import numpy as np
import pytest
from traces import lstm_trace, open_panel, rnn_trace

from seqviz.app.panels.colour_scale import diverging_scale
from seqviz.app.panels.gates import GatesPanel
from seqviz.app.panels.hidden import HiddenPanel
from seqviz.core.trace import Trace


# Qt-free -------------------------------------------------------------------------------------------
def test_tanh_values_keep_the_unit_range():
    values = np.tanh(np.random.default_rng(0).normal(0, 2, (50, 16)))
    scale = diverging_scale(values)
    assert scale.levels == (-1.0, 1.0) and not scale.clipped


def test_a_few_extremes_are_clipped_at_the_99th_percentile_and_counted():
    values = np.random.default_rng(1).uniform(-8, 8, (100, 20))  # 2,000 values within ±8
    values[3, :5] = [70, -65, 60, 55, -50]
    scale = diverging_scale(values)
    top = float(np.percentile(np.abs(values), 99))
    assert scale.levels == pytest.approx((-top, top)) and top < 9
    assert scale.clipped and scale.largest == 70
    assert scale.beyond == pytest.approx(np.count_nonzero(np.abs(values) > top) / values.size)
    assert scale.bar_range == (-70, 70)
    assert "99th percentile" in scale.describe() and "\u00b170" in scale.describe()


def test_values_without_outliers_are_held_whole():
    values = np.random.default_rng(2).uniform(-5, 5, (40, 10))  # the largest is near the percentile
    scale = diverging_scale(values)
    largest = float(np.abs(values).max())
    assert scale.levels == pytest.approx((-largest, largest)) and not scale.clipped


def test_nan_inf_and_empty_arrays_never_reach_the_range():
    values = np.array([[np.nan, np.inf, -np.inf, 0.5]], np.float32)
    assert diverging_scale(values).levels == (-1.0, 1.0)
    assert diverging_scale(np.zeros((0, 3), np.float32)).levels == (-1.0, 1.0)
    assert diverging_scale(np.zeros((2, 2)), floor=1e-6).levels == (-1e-6, 1e-6)


# In the panels ------------------------------------------------------------------------------------
def drifting_cells(trace: Trace) -> Trace:
    """`trace` with layer 2's cells as a trained code LSTM's: mostly within ±8, a few near ±70."""
    cell = trace["cell"].copy()
    rng = np.random.default_rng(3)
    cell[:, 0] = rng.uniform(-3, 3, cell[:, 0].shape)  # layer 1's: no extremes
    cell[:, 1] = rng.uniform(-8, 8, cell[:, 1].shape)
    cell[4, 1, 0, :3] = [70.0, -62.0, 55.0]
    return Trace({**dict(trace.items()), "cell": cell}, tokens=trace.tokens, meta=trace.meta)


def test_the_cell_state_heatmap_is_not_washed_out_and_says_what_it_clipped(qtbot, theme):
    trace = drifting_cells(lstm_trace(T=40, hidden_size=16))
    viewer, panel = open_panel(qtbot, GatesPanel, trace, size=(1400, 900))
    viewer.selection.set_layer(1)
    heatmap = panel.shown_heatmaps["cell"]
    top = float(np.percentile(np.abs(trace["cell"][:, 1, 0]), 99))
    assert heatmap.levels == pytest.approx((-top, top))  # not ±70: the ±8 cells get the colours
    bar = panel.colorbars[panel.gate_names.index("cell")]
    assert bar.clipped and bar.labels()[0][1].startswith("\u2265")
    assert "beyond" in bar.text_at(bar.sceneBoundingRect().center())
    assert "beyond the colour range" in heatmap.describe(0, 5)  # the +70 cell (unit 0, step 5)
    assert "beyond" not in heatmap.describe(5, 5)
    assert panel.shown_bars["cell"].plot.viewRange()[0][1] >= 70  # every bar whole
    theme("dark")  # a theme change keeps the clipping said
    assert bar.clipped and bar.labels()[1][1].startswith("\u2264")
    viewer.selection.set_layer(0)  # layer 1's cells: nothing clipped
    assert not bar.clipped and bar.text_at(bar.sceneBoundingRect().center()) is None


def test_the_hidden_panel_notes_a_clipped_range(qtbot):
    trace = rnn_trace(T=60, hidden_size=16, relu=True)
    hidden = trace["hidden"].copy()
    hidden[7, 0, 0, 2] = 500.0
    trace = Trace({**dict(trace.items()), "hidden": hidden}, tokens=trace.tokens, meta=trace.meta)
    viewer, panel = open_panel(qtbot, HiddenPanel, trace)
    assert panel.heatmap.levels[1] < 100
    assert "of values beyond (up to \u00b1500)" in panel.controls.note.text()
    assert panel.colorbar.clipped
