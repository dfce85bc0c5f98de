"""A new version of the trace on screen (the same tokens and shapes, other values: training's next
weights, an edit's re-trace) changes what the panels show and nothing else: no plot moves and no axis
whose labels did not change is drawn again. Each redrawn axis also laid its canvas out again: a new
version stalled a 1600x900 window 50-120 ms while training (bench/bench_training_app.py)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication
from traces import lstm_trace, shown

from seqviz.app import MainWindow
from seqviz.app.panels.plotting import TokenAxis
from seqviz.core.trace import Trace


def new_version(trace: Trace) -> Trace:
    """`trace` with other values (gates stay in [0, 1], probabilities sum to 1), the same tokens."""
    arrays = {name: trace[name] * 0.9 for name in trace.names()}
    arrays["probs"] = trace["probs"][:, ::-1].copy()
    return Trace(arrays, tokens=list(trace.tokens), meta=trace.meta)


def settle(qtbot) -> None:
    """Let the window lay out and paint what it was given (several turns of the event loop)."""
    for _ in range(5):
        QApplication.processEvents()
        qtbot.wait(20)


def plots_and_axes(window) -> tuple[dict, dict]:
    """Every painted plot's view box -> its rectangle in the window, every token axis -> its drawing."""
    boxes, drawings = {}, {}
    for view in window.findChildren(pg.GraphicsView):
        if not view.isVisible():
            continue
        for item in view.scene().items():
            if isinstance(item, pg.ViewBox):
                rect = item.sceneBoundingRect()
                boxes[item] = (view.mapTo(window, view.mapFromScene(rect.topLeft())), rect.size())
            elif isinstance(item, TokenAxis) and item.isVisible():
                drawings[item] = item.picture
    return boxes, drawings


def test_a_new_version_of_the_trace_moves_no_plot_and_redraws_no_token_axis(qtbot, dialog_log):
    window = shown(qtbot, MainWindow(), (1600, 900))
    first = lstm_trace(T=14, hidden_size=12)
    window.show_trace(first)
    settle(qtbot)
    boxes, drawings = plots_and_axes(window)
    assert len(drawings) >= 5 and all(picture is not None for picture in drawings.values())

    units = window.panels["units"]
    curves = list(units.curves)

    second = new_version(first)
    window.show_trace(second)
    settle(qtbot)
    hidden = window.panels["hidden"]
    layer = window.viewer.selection.layer
    assert np.allclose(hidden.heatmap.data, second["hidden"][:, layer, 0, :].T)  # the new values
    assert units.curves == curves  # the same curves and legend, with the new values
    for curve, (array, unit) in zip(curves, units.shown_curves, strict=True):
        assert np.allclose(curve.getData()[1], second[array][:, layer, 0, unit])
    boxes_after, drawings_after = plots_and_axes(window)
    assert boxes_after == boxes  # no plot moved or changed size
    redrawn = [axis.orientation for axis, picture in drawings.items() if drawings_after[axis] is not picture]
    assert redrawn == []

    window.show_trace(lstm_trace(T=14, hidden_size=12, seed=1))  # other tokens: the axes label them
    settle(qtbot)
    _, drawings_other = plots_and_axes(window)
    assert all(drawings_other[axis] is not picture for axis, picture in drawings.items())
