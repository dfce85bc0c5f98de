"""Panels share the window by importance and keep their shares: readable at 1024x640 (a common
projector), the gates and hidden states taking most of a large screen, a reopened panel squeezing no
other into a sliver, and View › Layout switching to each lesson's panels in one click."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication
from traces import encoder_decoder_trace, gru_trace, lstm_trace, shown, transformer_trace

from seqviz.app import MainWindow
from seqviz.app.window import appearance
from seqviz.app.window.dock_shares import MIN_SHARE
from seqviz.app.window.layouts import LAYOUTS

THEMES = ("light", "dark", "presentation")
READABLE = 40  # pixels of heatmap height: 128 units still read as rows (they were 5 px "flat lines")


def settle(qtbot, rounds: int = 4) -> None:
    for _ in range(rounds):  # layouts, the shares laid out after them, the plots' layouts inside
        qtbot.wait(5)


@pytest.fixture
def window(qtbot, dialog_log, theme):
    """A window on a recurrent trace; the `theme` fixture puts the theme back afterwards."""
    return shown(qtbot, MainWindow(), (1400, 860))


def at_size(qtbot, window: MainWindow, size: tuple[int, int], theme: str, trace) -> MainWindow:
    appearance.apply_theme(window, theme)
    window.resize(*size)
    window.show_trace(trace)
    window.set_step(5)
    settle(qtbot)
    return window


def on_screen(window: MainWindow) -> set[str]:
    QApplication.processEvents()
    panels = window.dock_area.panels.items()
    return {n for n, p in panels if p.isVisible() and not p.visibleRegion().isEmpty()}


def inside(widget, ancestor) -> bool:
    return ancestor.rect().contains(QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size()))


@pytest.mark.parametrize("theme_name", THEMES)
def test_at_1024x640_the_gates_are_readable_and_the_step_counter_is_on_the_toolbar(qtbot, window, theme_name):
    at_size(qtbot, window, (1024, 640), theme_name, lstm_trace(T=20))
    assert window.size().toTuple() == (1024, 640)  # no panel or toolbar made it wider or taller
    counter = window.toolbar.step_label
    assert counter.isVisible() and inside(counter, window.toolbar)  # not in the overflow menu
    assert counter.text() == "step 5 / 20"
    assert counter.width() >= counter.fontMetrics().horizontalAdvance(counter.text())
    gates = window.dock_area.panels["gates"]
    for name, heatmap in gates.shown_heatmaps.items():
        assert heatmap.plot.getViewBox().height() >= READABLE, (theme_name, name)
    assert window.dock_area.panels["hidden"].heatmap.plot.getViewBox().height() >= 3 * READABLE


@pytest.mark.parametrize("theme_name", THEMES)
def test_the_window_fits_1024x640_before_and_after_any_trace(qtbot, window, theme_name):
    """The hidden state's five combo boxes, all visible before a trace hid those that do not apply,
    made the window at least 1241 pixels wide."""
    appearance.apply_theme(window, theme_name)
    fresh = MainWindow()
    qtbot.addWidget(fresh)
    for widget in (window, fresh):
        need = widget.minimumSizeHint()
        assert need.width() <= 1024 and need.height() <= 640, (theme_name, need)
    for trace in (lstm_trace(T=20), gru_trace(T=9), transformer_trace(T=12)):
        at_size(qtbot, window, (1024, 640), theme_name, trace)
        assert window.size().toTuple() == (1024, 640), (theme_name, trace.arch)


def test_at_1920x1080_the_gates_and_hidden_state_take_most_of_the_height(qtbot, window):
    at_size(qtbot, window, (1920, 1080), "light", lstm_trace(T=20))
    area = window.dock_area
    for name in ("hidden", "gates"):
        assert area.docks[name].height() >= 0.6 * area.height(), name
    for name in ("output", "units"):
        assert area.docks[name].height() <= 0.4 * area.height(), name
    gates = window.dock_area.panels["gates"]
    for heatmap in gates.shown_heatmaps.values():
        assert heatmap.plot.getViewBox().height() >= 100


def test_a_bigger_window_keeps_the_shares(qtbot, window):
    """Qt gave a larger window's extra height to the bottom docks: the gates stayed a thin strip."""
    at_size(qtbot, window, (1024, 640), "light", lstm_trace(T=20))
    area = window.dock_area
    small = area.docks["gates"].height() / area.height()
    for size in ((1920, 1080), (1280, 720), (1920, 1080)):
        window.resize(*size)
        settle(qtbot)
        assert abs(area.docks["gates"].height() / area.height() - small) < 0.04, size


def test_reopening_panels_squeezes_no_other_into_a_sliver(qtbot, window, temp_settings_dir):
    """Closed at 1024x640 and reopened after a new start, the output and units came back 136 px
    tall; a panel reopened in a smaller window took back its old size."""
    at_size(qtbot, window, (1024, 640), "light", lstm_trace(T=20))
    for name in ("output", "units"):
        window.dock_area.docks[name].toggleViewAction().trigger()
    settle(qtbot)
    window.close()
    again = shown(qtbot, MainWindow(), (1024, 640))  # the saved layout, at a new start
    at_size(qtbot, again, (1024, 640), "light", lstm_trace(T=20))
    area = again.dock_area
    for name in ("output", "units", "attention"):
        area.docks[name].toggleViewAction().trigger()  # View › Output, ...
        settle(qtbot, 6)
        shown_now = area.shares.front_docks()
        assert name in shown_now
        for other, dock in shown_now.items():
            assert dock.width() >= MIN_SHARE * area.width() - 2, (name, other)
            assert dock.height() >= MIN_SHARE * area.height() - 2, (name, other)


@pytest.mark.parametrize(
    ("layout", "trace", "wanted"),
    [
        ("gates", lstm_trace(T=12), {"hidden", "gates", "output", "units"}),
        ("attention", transformer_trace(T=12), {"hidden", "attention", "output", "units"}),
        ("compare", gru_trace(T=12), {"hidden", "output"}),
        ("gradients", lstm_trace(T=12), {"gradients", "hidden", "output"}),
    ],
)
def test_each_layout_shows_its_lessons_panels_in_one_click(qtbot, window, layout, trace, wanted):
    at_size(qtbot, window, (1400, 860), "light", trace)
    window.layout_actions[layout].trigger()  # View › Layout › ...
    settle(qtbot)
    assert on_screen(window) == wanted
    first = LAYOUTS[layout].top[0][0][0]
    area = window.dock_area
    assert area.docks[first].height() >= 0.55 * area.height()  # the lesson's panel is large
    closed = set(area.docks) - {n for group in LAYOUTS[layout].groups for n in group}
    for name in closed:  # View reopens a closed panel
        assert not area.docks[name].toggleViewAction().isChecked()


def test_layout_keys_and_reset_follow_the_kind_of_model(qtbot, window):
    assert [a.shortcut().toString() for a in window.layout_actions.values()] == [
        "Ctrl+1",
        "Ctrl+2",
        "Ctrl+3",
        "Ctrl+4",
    ]
    at_size(qtbot, window, (1400, 860), "light", transformer_trace(T=10))
    assert "attention" in on_screen(window)  # the default layout follows a Transformer
    at_size(qtbot, window, (1400, 860), "light", lstm_trace(T=10))
    assert "gates" in on_screen(window)
    window.layout_actions["gradients"].trigger()  # the person's choice is kept for a new model
    at_size(qtbot, window, (1400, 860), "light", transformer_trace(T=10))
    assert "gradients" in on_screen(window)
    window.commands.reset_layout.trigger()
    assert "attention" in on_screen(window)


@pytest.mark.parametrize(
    "trace",
    [gru_trace(T=11, bidirectional=True), encoder_decoder_trace(T=11, S=8), transformer_trace(T=12)],
    ids=["bidirectional gru", "encoder-decoder", "transformer"],
)
def test_no_header_text_is_cut_at_the_default_width(qtbot, window, trace):
    """Notes beside a panel's controls ("64 units of layer 1, forward · reads the whole input at
    once") were cut off with an ellipsis at 1400x860: now they take a line of their own."""
    at_size(qtbot, window, (1400, 860), "light", trace)
    rows = [
        (name, panel.controls)
        for name, panel in window.dock_area.panels.items()
        if name in on_screen(window) and getattr(panel, "controls", None) is not None
    ]
    assert rows
    for name, row in rows:
        assert not row.note.is_elided(), (name, row.note.text())
        assert inside(row.note, row)


def test_at_1024x640_the_output_bars_never_overlap(qtbot, window):
    """A tagger's output has its tag row too: its plot is a label or two tall at 1024x640, where three
    bars at least were drawn over each other."""
    at_size(qtbot, window, (1024, 640), "light", gru_trace(T=11, bidirectional=True, task="tag"))
    output = window.dock_area.panels["output"]
    line = output.plot.getAxis("left").style["tickFont"]
    rows = output.plot.getViewBox().height() / QFontMetrics(line).height()
    assert output.k == 1 or output.k <= rows  # one bar (the prediction) at least, never stacked
