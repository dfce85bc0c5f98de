"""The dock layout: View > Reset layout lays out the lesson of the model on screen (the gates for a
recurrent model, the attention for a Transformer) with that panel on screen; in a tab group, the panel
that applies to the trace is in front."""

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


def on_screen(window: MainWindow) -> set[str]:
    """The panels a person sees: not closed, not a tab behind another."""
    QApplication.processEvents()
    panels = window.dock_area.panels.items()
    return {n for n, p in panels if p.isVisible() and not p.visibleRegion().isEmpty()}


@pytest.mark.parametrize("trace", [lstm_trace(T=8), gru_trace(T=8)], ids=["lstm", "gru"])
def test_reset_layout_keeps_gates_in_front_for_a_recurrent_model(window, trace):
    window.show_trace(trace)
    assert "gates" in on_screen(window)
    window.commands.reset_layout.trigger()
    assert {"hidden", "gates", "output", "units"} <= on_screen(window)
    assert front_tabs(window) == []  # no tab bar takes the gates' room


def test_reset_layout_puts_gates_forward_even_when_attention_was_chosen(window):
    window.show_trace(lstm_trace(T=8))
    window.dock_area.docks["attention"].toggleViewAction().trigger()  # View > Attention
    window.dock_area.docks["attention"].raise_()  # the person looks at it
    assert "attention" in on_screen(window)
    window.commands.reset_layout.trigger()
    assert "gates" in on_screen(window) and "attention" not in on_screen(window)


def test_reset_layout_keeps_attention_in_front_for_a_transformer(window):
    window.show_trace(transformer_trace(T=8))
    window.dock_area.docks["gates"].toggleViewAction().trigger()
    window.dock_area.docks["gates"].raise_()
    window.commands.reset_layout.trigger()
    assert {"hidden", "attention", "output"} <= on_screen(window)
    assert "gates" not in on_screen(window)  # a Transformer has none
