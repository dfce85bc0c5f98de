"""The token strip: what it highlights, where it scrolls, what a click does, and long inputs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication
from traces import encoder_decoder_trace, lstm_trace, shown

from seqviz.app.panels.token_chips import display_label
from seqviz.app.panels.tokens import TokensPanel
from seqviz.app.viewer.model import ViewerModel
from seqviz.core.trace import Trace


@pytest.fixture
def strip_panel(qtbot):
    viewer = ViewerModel()
    panel = shown(qtbot, TokensPanel(viewer), (800, 80))
    return panel


def show(panel: TokensPanel, trace: Trace) -> None:
    panel.viewer.set_trace(trace)
    panel.set_trace(trace)
    panel.cursor.set_step(1)


def test_current_past_and_future_follow_the_step(strip_panel):
    show(strip_panel, lstm_trace(T=10))
    strip_panel.cursor.set_step(4)
    kinds = [strip_panel.strip.chip_kind(i) for i in range(10)]
    assert kinds == ["past"] * 3 + ["current"] + ["future"] * 6


def test_a_long_input_paints_only_what_is_in_view_and_follows_the_step(strip_panel):
    trace = lstm_trace(T=10_000, num_layers=1, hidden_size=2)
    show(strip_panel, trace)
    strip = strip_panel.strip
    assert len(strip.visible_range()) < 200
    for step in (5_000, 9_999, 10_000, 1, 7_321):
        strip_panel.cursor.set_step(step)
        rect = strip.chip_rect(step - 1)
        assert rect.left() >= strip.left and rect.right() <= strip.width(), step
        assert step - 1 in strip.visible_range()
    assert strip_panel.scrollbar.isVisible()
    assert strip_panel.scrollbar.value() == strip.rows[-1].offset


def test_clicking_and_dragging_move_the_step(strip_panel, qtbot):
    show(strip_panel, lstm_trace(T=30))
    strip = strip_panel.strip
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.chip_rect(6).center())
    assert strip_panel.cursor.step == 7
    qtbot.mousePress(strip, Qt.MouseButton.LeftButton, pos=strip.chip_rect(2).center())
    qtbot.mouseMove(strip, strip.chip_rect(9).center())
    qtbot.mouseRelease(strip, Qt.MouseButton.LeftButton, pos=strip.chip_rect(9).center())
    assert strip_panel.cursor.step == 10


def test_the_scrollbar_and_wheel_scroll_without_moving_the_step(strip_panel):
    show(strip_panel, lstm_trace(T=2_000, num_layers=1, hidden_size=2))
    strip = strip_panel.strip
    strip_panel.scrollbar.setValue(3_000)
    assert strip.rows[-1].offset == 3_000
    first = strip.visible_range().start
    assert first > 0 and strip_panel.cursor.step == 1
    wheel = QWheelEvent(
        QPointF(10, 10),
        QPointF(10, 10),
        QPoint(),
        QPoint(0, -240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(strip, wheel)
    assert strip.visible_range().start > first
    assert strip_panel.scrollbar.value() == strip.rows[-1].offset


def test_whitespace_and_long_tokens_are_labelled_readably():
    assert display_label(" ") == "\u2423"
    assert display_label("\n") == "\u23ce"
    assert display_label("a\tb") == "a\u21e5b"
    long_label = display_label("x" * 40)
    assert len(long_label) <= 14 and long_label.endswith("\u2026")


def test_sequence_to_sequence_has_a_source_row_tinted_by_cross_attention(strip_panel, qtbot):
    trace = encoder_decoder_trace(T=6, S=8)
    show(strip_panel, trace)
    strip = strip_panel.strip
    assert len(strip.rows) == 2
    assert strip.minimumSizeHint().height() > 2 * strip.chip_height
    # The source row is above the output row and clicking it does not move the step.
    assert strip.chip_rect(0, 0).bottom() < strip.chip_rect(0, 1).top()
    strip_panel.cursor.set_step(3)
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.chip_rect(5, 0).center())
    assert strip_panel.cursor.step == 3
    strip.grab()  # paints the tint without error


def test_no_trace_shows_a_message(strip_panel):
    show(strip_panel, lstm_trace(T=5))
    strip_panel.set_trace(None)
    assert strip_panel.message
    assert strip_panel.strip.rows == []


def test_the_theme_sets_the_highlight_colour_and_chip_size(strip_panel, theme):
    show(strip_panel, lstm_trace(T=40))
    strip = strip_panel.strip
    strip_panel.cursor.set_step(30)
    small = strip.chip_rect(29)
    big_theme = theme("presentation")
    assert strip.accent == QColor(big_theme.accent)
    big = strip.chip_rect(29)
    assert big.height() > small.height() and big.width() > small.width()
    assert 29 in strip.visible_range()
    assert strip.minimumSizeHint().height() >= big.height()
