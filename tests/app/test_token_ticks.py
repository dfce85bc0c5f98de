"""Token axes on long inputs: thinned to fit, the first and the last token always drawn, inside the axis."""

from __future__ import annotations

import math

import pytest
from traces import drawn_ticks, lstm_trace, open_panel, transformer_trace

from seqviz.app.panels.attention import AttentionPanel
from seqviz.app.panels.gates import GatesPanel
from seqviz.app.panels.token_ticks import label_extent, label_steps
from seqviz.core.trace import Trace


def with_tokens(trace: Trace, tokens: list[str]) -> Trace:
    return Trace(dict(trace.items()), tokens=tokens, meta=trace.meta, source_tokens=trace.source_tokens)


# Qt-free -------------------------------------------------------------------------------------------
def test_every_step_is_labelled_when_the_labels_fit():
    assert label_steps(1, 6, [20.0] * 6, room=40, lo=0.5, hi=6.5, gap=6) == [1, 2, 3, 4, 5, 6]


def test_a_long_axis_keeps_both_ends_and_labels_between_never_overlap():
    widths = [30.0] * 300
    steps = label_steps(1, 300, widths, room=2.0, lo=0.5, hi=300.5, gap=6)
    assert steps[0] == 1 and steps[-1] == 300
    inner = steps[1:-1]
    stride = math.gcd(*inner)
    assert stride > 1 and inner == list(range(inner[0], inner[-1] + 1, stride))  # every k-th step
    extents = [label_extent(s, 30.0, 2.0, 0.5, 600.0) for s in steps]
    assert all(a[1] + 6 <= b[0] for a, b in zip(extents, extents[1:], strict=False))
    assert extents[0][0] >= 0 and extents[-1][1] <= 600.0  # the end labels lie inside the axis


def test_a_zoomed_axis_labels_the_first_and_last_steps_in_view():
    steps = label_steps(40, 80, [30.0] * 300, room=10.0, lo=39.5, hi=80.5, gap=6)
    assert steps[0] == 40 and steps[-1] == 80


# In the panels ---------------------------------------------------------------------------------------
def test_attention_axes_of_a_300_token_input_show_its_first_and_last_tokens(qtbot):
    """`<s>` and `</s>` used to vanish: pyqtgraph drops a label that sticks out of its axis."""
    tokens = ["<s>", *(f"word{i}" for i in range(298)), "</s>"]
    trace = with_tokens(transformer_trace(T=300, num_layers=1, num_heads=2), tokens)
    viewer, panel = open_panel(qtbot, AttentionPanel, trace, size=(1000, 700))
    for axis in (panel.matrix.x_axis, panel.matrix.y_axis):
        labels = drawn_ticks(axis)
        texts = [text for text, _rect in labels]
        assert texts[0] == "<s>" and texts[-1] == "</s>"
        assert 5 <= len(texts) < 300 and all(t.startswith("word") for t in texts[1:-1])
        bounds = axis.mapRectFromParent(axis.geometry())
        assert all(bounds.contains(rect) for _text, rect in labels)


def test_gate_heatmaps_label_their_time_axis_with_tokens_however_long(qtbot):
    tokens = [f"w{i}" for i in range(120)]
    trace = with_tokens(lstm_trace(T=120, num_layers=1, hidden_size=6), tokens)
    viewer, panel = open_panel(qtbot, GatesPanel, trace, size=(900, 700))
    bottom_row = [h for h in panel.heatmaps if h.bottom_axis.style["showValues"]]
    assert bottom_row
    for heatmap in bottom_row:
        texts = [text for text, _rect in drawn_ticks(heatmap.bottom_axis)]
        assert texts[0] == "w0" and texts[-1] == "w119" and len(texts) > 2
        assert not any(t.isdigit() for t in texts)


@pytest.mark.parametrize("steps", [3, 40])
def test_hover_and_labels_agree_on_the_step(qtbot, steps):
    tokens = [f"t{i}" for i in range(steps)]
    trace = with_tokens(lstm_trace(T=steps, num_layers=1, hidden_size=4), tokens)
    viewer, panel = open_panel(qtbot, GatesPanel, trace, size=(1200, 800))
    axis = panel.heatmaps[0].bottom_axis
    drawn_ticks(axis)
    assert all(label == tokens[step - 1] for step, label in axis.labels.items())
