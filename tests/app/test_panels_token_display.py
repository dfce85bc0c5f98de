"""Every panel shows a token the same way: chips, axis ticks, hover text and the gate equation header."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QTextDocument
from traces import lstm_trace, open_panel, shown

from seqviz.app.panels.gates import GatesPanel
from seqviz.app.panels.hidden import HiddenPanel
from seqviz.app.panels.output import OutputPanel
from seqviz.app.panels.tokens import TokensPanel, chip_tooltip
from seqviz.app.viewer.model import ViewerModel
from seqviz.core.token_display import display_token
from seqviz.core.trace import Trace

TOKENS = ["<s>", "new york", "\r", "", "</s>", "<unk>"]
SHOWN = ["<s>", "new york", "\u21e4", "\u2205", "</s>", "<unk>"]


@pytest.fixture
def trace() -> Trace:
    base = lstm_trace(T=len(TOKENS), num_layers=1, hidden_size=4)
    return Trace(dict(base.items()), tokens=TOKENS, meta=base.meta)


def plain(rich_text: str) -> str:
    """What a rich-text label shows, as plain text."""
    doc = QTextDocument()
    doc.setHtml(rich_text)
    return doc.toPlainText()


def axis_labels(axis) -> list[str]:
    """The tick labels a step axis draws for its current range and length (as pyqtgraph asks for them)."""
    lo, hi = axis.range
    length = axis.width() if axis.orientation in ("top", "bottom") else axis.height()
    (_spacing, values), *_ = axis.tickValues(lo, hi, length)
    return axis.tickStrings(values, 1.0, 1.0)


def test_the_display_strings_are_the_core_rule():
    assert [display_token(t) for t in TOKENS] == SHOWN


def test_chips_show_the_display_strings(qtbot, trace):
    viewer = ViewerModel()
    panel = shown(qtbot, TokensPanel(viewer), (900, 80))
    viewer.cursor.set_num_steps(trace.num_steps)
    panel.set_trace(trace)
    assert panel.strip.rows[-1].labels == SHOWN


def test_chip_tooltips_show_special_tokens_and_name_invisible_ones():
    assert plain(chip_tooltip("step 1", "<s>")) == "step 1: '<s>'"  # not a strike-through tag
    assert plain(chip_tooltip("step 3", "\r")) == "step 3: '\\r' (carriage return)"
    assert plain(chip_tooltip("step 4", "")) == "step 4: '' (empty token)"


@pytest.mark.parametrize("panel_cls", [HiddenPanel, GatesPanel])
def test_heatmap_axes_and_hover_text_show_the_display_strings(qtbot, trace, panel_cls):
    viewer, panel = open_panel(qtbot, panel_cls, trace, size=(1200, 900))
    heatmap = panel.heatmap if panel_cls is HiddenPanel else panel.heatmaps[0]
    assert axis_labels(heatmap.bottom_axis) == SHOWN
    for step, label in enumerate(SHOWN, start=1):
        assert f"step {step} '{label}'" in heatmap.describe(0, step)


def test_gate_equation_header_shows_the_display_strings(qtbot, trace):
    viewer, panel = open_panel(qtbot, GatesPanel, trace)
    for step, label in enumerate(SHOWN, start=1):
        viewer.cursor.set_step(step)
        header = plain(panel.equation.text()).splitlines()[0]
        assert header.endswith(f"step {step} '{label}'")  # "<unk>" and "</s>" are not eaten as tags


def test_output_header_shows_the_display_strings(qtbot, trace):
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    for step, label in enumerate(SHOWN[:-1], start=1):  # the last step's next token is beyond the input
        viewer.cursor.set_step(step)
        assert plain(panel.header.text()).startswith(f"after '{label}' (step {step})")
