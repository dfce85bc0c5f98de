"""The dock layout: View > Reset layout puts the panel that applies to the trace in front of its tab group
(gates for a recurrent model, attention for a Transformer)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QTabBar
from traces import gru_trace, lstm_trace, shown, transformer_trace

from seqviz.app import MainWindow


@pytest.fixture
def window(qtbot, dialog_log):
    return shown(qtbot, MainWindow(), (1200, 700))


def front_tabs(window: MainWindow) -> list[str]:
    """The title of the tab in front, for every tab group on screen."""
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # tab bars of the previous layout
    bars = [bar for bar in window.dock_area.findChildren(QTabBar) if bar.isVisible()]
    return [bar.tabText(bar.currentIndex()) for bar in bars]


@pytest.mark.parametrize("trace", [lstm_trace(T=8), gru_trace(T=8)], ids=["lstm", "gru"])
def test_reset_layout_keeps_gates_in_front_for_a_recurrent_model(window, trace):
    window.show_trace(trace)
    assert front_tabs(window) == ["Gates"]
    window.commands.reset_layout.trigger()
    assert front_tabs(window) == ["Gates"]
    assert not window.dock_area.panels["gates"].visibleRegion().isEmpty()


def test_reset_layout_puts_gates_forward_even_when_attention_was_chosen(window):
    window.show_trace(lstm_trace(T=8))
    window.dock_area.docks["attention"].raise_()  # the person looks at the other tab
    assert front_tabs(window) == ["Attention"]
    window.commands.reset_layout.trigger()
    assert front_tabs(window) == ["Gates"]


def test_reset_layout_keeps_attention_in_front_for_a_transformer(window):
    window.show_trace(transformer_trace(T=8))
    window.dock_area.docks["gates"].raise_()
    window.commands.reset_layout.trigger()
    assert front_tabs(window) == ["Attention"]
    assert not window.dock_area.panels["attention"].visibleRegion().isEmpty()
