"""Pictures for slides: in the presentation theme's large fonts nothing is painted outside its panel,
no panel needs more room than its dock, no plot more than its view, and text that does not fit is
shortened or drawn smaller instead of being cut off or drawn over its neighbours."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget
from traces import encoder_decoder_trace, lstm_trace, open_panel, transformer_trace

from seqviz.app import MainWindow
from seqviz.app.panels.controls import ControlRow, StepLabel
from seqviz.app.panels.gates import GatesPanel
from seqviz.app.panels.output import OutputPanel
from seqviz.app.panels.token_chips import PAD_X
from seqviz.app.panels.tokens import TokensPanel
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window import appearance
from seqviz.core.trace import Trace

WORDS = ["the", "international", "conference", "of", "two", "thousand", "and", "seventeen"]


def _with_words(trace: Trace) -> Trace:
    """`trace` with long words as tokens (labels that must be shortened in narrow views)."""
    arrays = {name: trace[name] for name in trace.names()}
    source = [WORDS[i % len(WORDS)] for i in range(len(trace.source_tokens))] or None
    tokens = [WORDS[(i + 1) % len(WORDS)] for i in range(trace.num_steps)]
    return Trace(arrays, tokens=tokens, meta=trace.meta, source_tokens=source)


TRACES = {
    "bidirectional lstm": lambda: lstm_trace(T=11, bidirectional=True),
    "transformer": lambda: _with_words(transformer_trace(T=20, num_layers=2, num_heads=4)),
    "encoder-decoder": lambda: _with_words(encoder_decoder_trace(T=11, S=8)),
}


@pytest.fixture
def presentation(theme):
    return theme("presentation")


def _presentation_window(qtbot, size: tuple[int, int]) -> MainWindow:
    """A window of exactly `size` (as an export lays it out: it cannot grow to fit its panels)."""
    window = MainWindow(lazy_panels=True)
    qtbot.addWidget(window)
    window.setFixedSize(*size)
    window.show()
    qtbot.waitExposed(window)
    appearance.apply_theme(window, "presentation")
    window.load_panels()
    return window


def _within(widget: QWidget, ancestor: QWidget) -> bool:
    return ancestor.rect().contains(QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size()))


def _outside(panel: QWidget) -> list[str]:
    """Visible widgets of `panel` that reach outside it."""
    return [
        f"{type(child).__name__} {QRect(child.mapTo(panel, QPoint(0, 0)), child.size())}"
        for child in panel.findChildren(QWidget)
        if child.isVisible() and not _within(child, panel)
    ]


def _cramped_plots(panel: QWidget) -> list[str]:
    """Plot canvases whose plots need more room than the view has (the rest is cut off)."""
    cramped = []
    for view in panel.findChildren(pg.GraphicsView):
        if not view.isVisible() or view.centralWidget is None:
            continue
        needed = view.centralWidget.layout.effectiveSizeHint(Qt.SizeHint.MinimumSize)
        room = view.viewport().size()
        if needed.width() > room.width() + 1 or needed.height() > room.height() + 1:
            cramped.append(f"{type(view).__name__} needs {needed.toSize()}, has {room}")
        shown = view.mapToScene(view.viewport().rect()).boundingRect().adjusted(-1, -1, 1, 1)
        for item in view.items():
            text = isinstance(item, pg.TextItem) and item.isVisible()
            if text and not shown.contains(item.sceneBoundingRect()):
                cramped.append(f"{type(view).__name__}: text {item.toPlainText()!r} cut off")
    return cramped


@pytest.mark.usefixtures("theme")  # the window switches to presentation; light again afterwards
@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_presentation_panels_fit_their_docks(qtbot, size):
    """The hidden state's note ran over the attention dock's controls, and the attention panel's
    lines and thumbnails were cut off at the window's edge: each panel's minimum width (a long note,
    long thumbnail labels) was wider than its dock."""
    window = _presentation_window(qtbot, size)
    for kind, make in TRACES.items():
        window.show_trace(make())
        window.set_step(5)
        for _ in range(3):  # layouts, then the plots' layouts inside them
            qtbot.wait(10)
        need = window.minimumSizeHint()
        assert need.width() <= size[0] and need.height() <= size[1], f"{kind}: too big for {size}"
        for name, panel in window.dock_area.panels.items():
            if not panel.isVisible() or panel.visibleRegion().isEmpty():
                continue  # closed, or a tab behind another (Qt moves it out of sight)
            where = f"{kind}, {name}"
            assert _within(panel, window), where  # not cut off at the window's edge
            need, room = panel.minimumSizeHint(), panel.size()
            assert need.width() <= room.width() and need.height() <= room.height(), where
            assert _outside(panel) == [], where
            assert _cramped_plots(panel) == [], where


def test_a_long_note_is_elided_with_the_whole_text_as_tooltip(qtbot, presentation):
    row = ControlRow()
    qtbot.addWidget(row)
    row.finish()
    words = (
        "64 units of layer 1 \u00b7 each layer's output \u00b7 colour range \u00b11.11: values exceed [-1, 1]"
    )
    row.note.setText(words)
    row.resize(150, 40)
    row.show()
    qtbot.waitExposed(row)
    assert row.minimumSizeHint().width() <= 150  # the note never widens its panel
    assert row.note.geometry().right() < row.width()
    assert row.note.text() == words
    assert row.note.shown_text().endswith("\u2026") and row.note.toolTip() == words
    row.resize(300, 40)  # under the controls, on two lines, nothing is cut
    QApplication.processEvents()
    assert len(row.note.shown_lines()) == 2 and not row.note.is_elided() and row.note.toolTip() == ""
    row.resize(2000, 40)
    QApplication.processEvents()
    assert row.note.shown_text() == words and row.note.toolTip() == ""


def test_an_equation_wider_than_its_panel_is_drawn_smaller_not_cut_off(qtbot, presentation):
    label = StepLabel(lines=2)
    qtbot.addWidget(label)
    label.resize(400, label.height())
    label.show()
    equation = "h<sub>t</sub> = (1 \u2212 z)\u00b7n + z\u00b7h<sub>t\u22121</sub> = "
    label.setText(equation + "0.1234 \u00d7 " * 6)
    assert label.text_scale() < 1.0
    assert label.label.sizeHint().width() <= label.width() + 2
    label.setText("short")
    assert label.text_scale() == 1.0


def test_the_gates_equation_fits_a_presentation_dock(qtbot, presentation):
    viewer, panel = open_panel(qtbot, GatesPanel, lstm_trace(T=9), size=(600, 420))
    viewer.cursor.set_step(4)
    equation = panel.equation
    assert equation.label.sizeHint().width() <= equation.width() + 2


def test_output_bars_never_overlap_in_a_short_panel(qtbot, presentation):
    trace = lstm_trace(T=6)
    viewer, panel = open_panel(qtbot, OutputPanel, trace, size=(600, 300))
    line = panel.plot.getAxis("left").style["tickFont"]
    from PySide6.QtGui import QFontMetrics

    row_px = panel.plot.getViewBox().height() / panel.k
    assert panel.k < 7 and row_px >= QFontMetrics(line).height()
    panel.resize(600, 700)
    QApplication.processEvents()
    assert panel.k == min(10, panel.probs.shape[1])  # room again: all of the top ten


def _ink_width(pixmap, background: QColor) -> int:
    """Columns of `pixmap` holding text (pixels far from the chip's fill), chip border excluded."""
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(h, -1)[:, : w * 3]
    pixels = rows.reshape(h, w, 3).astype(int)[3:-3, 3:-3]
    fill = np.array([background.red(), background.green(), background.blue()])
    columns = np.nonzero((np.abs(pixels - fill).sum(axis=-1) > 200).any(axis=0))[0]
    return int(columns[-1] - columns[0] + 1) if columns.size else 0


def test_token_chips_are_drawn_in_the_font_they_are_measured_with(qtbot, presentation):
    """Presentation chips were three times wider than their text: measured in the strip's large
    font, drawn in the application's ordinary one."""
    viewer = ViewerModel()
    panel = TokensPanel(viewer)
    qtbot.addWidget(panel)
    panel.resize(900, 120)
    panel.show()
    trace = encoder_decoder_trace(T=6, S=7)
    viewer.cursor.set_num_steps(trace.num_steps)
    panel.set_trace(trace)
    strip = panel.strip
    label = "was"
    width = strip.fontMetrics().horizontalAdvance(label) + 2 * PAD_X
    white, black = QColor("white"), QColor("black")
    ink = _ink_width(strip.chips.pixmap(label, width, white, black), white)
    assert ink >= 0.8 * (width - 2 * PAD_X)
    # the row names of a sequence-to-sequence strip fit in front of the chips
    assert strip.left >= strip.fontMetrics().horizontalAdvance("output")


class _LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt)
        self.count += event.type() == QEvent.Type.LayoutRequest
        return False


def test_shrinking_step_texts_never_lay_the_window_out(qtbot, presentation):
    """Equations drawn smaller per step (each step's numbers have another width) only repaint."""
    trace = lstm_trace(T=12, bidirectional=True)
    viewer = ViewerModel()
    viewer.cursor.set_num_steps(trace.num_steps)
    window = QMainWindow()
    qtbot.addWidget(window)
    panels = [GatesPanel(viewer), OutputPanel(viewer)]
    for panel in panels:
        dock = QDockWidget(panel.title)
        dock.setWidget(panel)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        panel.set_trace(trace)
    window.resize(720, 900)
    window.show()
    qtbot.waitExposed(window)
    viewer.selection.set_units((3,))
    viewer.cursor.set_step(1)
    for _ in range(5):
        qtbot.wait(10)
    assert panels[0].equation.text_scale() < 1.0  # the case under test: a shrunk equation
    counter = _LayoutRequests()
    QApplication.instance().installEventFilter(counter)
    try:
        scales = set()
        for step in range(2, trace.num_steps + 1):
            viewer.cursor.set_step(step)
            QApplication.processEvents()
            scales.add(round(panels[0].equation.text_scale(), 3))
    finally:
        QApplication.instance().removeEventFilter(counter)
    assert counter.count == 0 and len(scales) > 1
