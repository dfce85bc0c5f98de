"""Hover tooltips on heatmaps and plots: they stay while the pointer rests, follow it to another cell,
come back after a click, and go when it leaves the plots.

Qt sends a ToolTip event once the pointer has rested (about 0.7 s); a tooltip hidden then fades out
over 0.3 s. `rest` waits for that event and past the fade."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtWidgets import QToolTip
from traces import lstm_trace, open_panel, transformer_trace, view_pos

from seqviz.app.panels.attention import AttentionPanel
from seqviz.app.panels.hidden import HiddenPanel
from seqviz.app.panels.units import UnitsPanel

FADE_MS = 500  # more than Qt's 300 ms fade-out of a hidden tooltip


class ToolTipEvents(QObject):
    """Counts the ToolTip events Qt sends to a widget (the pointer has rested on it)."""

    def __init__(self, widget) -> None:
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ToolTip:
            self.count += 1
        return False


def hidden_panel(qtbot):
    _viewer, panel = open_panel(qtbot, HiddenPanel, lstm_trace(T=12, hidden_size=8))
    return panel, panel.heatmap.plot, [(4, 6.5), (9, 2.5)]


def attention_panel(qtbot):
    _viewer, panel = open_panel(qtbot, AttentionPanel, transformer_trace(T=10))
    return panel, panel.matrix.plot, [(2, 7), (5, 8)]


def units_panel(qtbot):
    viewer, panel = open_panel(qtbot, UnitsPanel, lstm_trace(T=10, hidden_size=4))
    viewer.selection.set_units((0, 3))
    return panel, panel.plot, [(3, 0.0), (8, 0.0)]


@pytest.fixture(params=[hidden_panel, attention_panel, units_panel], ids=["hidden", "attention", "units"])
def shown_panel(request, qtbot):
    panel, plot, cells = request.param(qtbot)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)  # Qt shows tooltips in the active window only
    return panel, plot, cells


def move(qtbot, panel, plot, x: float, y: float) -> str:
    """Move the pointer from where it is to another cell, at data point (x, y); returns the tooltip
    shown there."""
    canvas, before = panel.canvas, panel.canvas.hover_text
    qtbot.mouseMove(canvas.viewport(), view_pos(canvas, plot, x, y))
    qtbot.waitUntil(lambda: canvas.hover_text not in ("", before))  # hover is rate limited
    qtbot.waitUntil(lambda: QToolTip.isVisible() and QToolTip.text() == canvas.hover_text)
    return canvas.hover_text


def rest(qtbot, panel) -> None:
    """Keep the pointer still until Qt has asked for a tooltip, and past a fade-out."""
    events = ToolTipEvents(panel.canvas.viewport())
    qtbot.waitUntil(lambda: events.count > 0, timeout=3000)
    qtbot.wait(FADE_MS)


def test_a_tooltip_stays_while_the_pointer_rests_on_a_cell(qtbot, shown_panel):
    panel, plot, cells = shown_panel
    text = move(qtbot, panel, plot, *cells[0])
    rest(qtbot, panel)
    assert QToolTip.isVisible() and QToolTip.text() == text


def test_the_tooltip_follows_the_pointer_to_another_cell_and_stays(qtbot, shown_panel):
    panel, plot, cells = shown_panel
    first = move(qtbot, panel, plot, *cells[0])
    rest(qtbot, panel)
    second = move(qtbot, panel, plot, *cells[1])
    assert second != first
    rest(qtbot, panel)
    assert QToolTip.isVisible() and QToolTip.text() == second


def test_the_tooltip_comes_back_after_a_click_on_the_same_cell(qtbot, shown_panel):
    panel, plot, cells = shown_panel
    canvas = panel.canvas
    move(qtbot, panel, plot, *cells[0])
    pos = view_pos(canvas, plot, *cells[0])
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)  # a press hides tooltips
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    qtbot.mouseMove(canvas.viewport(), pos + QPoint(1, 0))  # still on the same cell
    qtbot.waitUntil(lambda: QToolTip.isVisible() and QToolTip.text() == canvas.hover_text != "")


def test_the_tooltip_goes_when_the_pointer_leaves_the_plots(qtbot):
    panel, plot, cells = hidden_panel(qtbot)
    move(qtbot, panel, plot, *cells[0])
    canvas = panel.canvas
    qtbot.mouseMove(canvas.viewport(), QPoint(2, 2))  # the canvas's margin, no cell there
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    assert canvas.hover_text == ""
