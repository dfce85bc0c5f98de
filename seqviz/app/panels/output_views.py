"""The output panel's views of every step at once: a classifier's class probabilities as lines over the
steps (the last step marked as the model's output), and a tagger's tags under its tokens.

Both are built once per trace; a step moves a cursor (and the tag row's highlight), nothing more.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QWidget

from seqviz.app.panels import plotting
from seqviz.app.panels.heatmap import FutureMask
from seqviz.app.panels.output_sequence import ClassSeries, TagColumn
from seqviz.app.panels.plotting import STEP_OFFSET, TokenAxis
from seqviz.app.window.theme import Theme, current_theme

WRONG = QColor(214, 39, 40)  # a wrong tag's mark: red in every theme
PAD_X, GAP = 6, 4  # pixels inside a tag column, between columns


class ClassLines:
    """One line per class over the steps (row t: the opinion after t tokens), the step's cursor, the
    future faded (a causal model) and a marker on the last step: the model's output."""

    def __init__(self) -> None:
        self.axis = TokenAxis("bottom")
        self.plot = pg.PlotItem(axisItems={"bottom": self.axis}, enableMenu=False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setLabel("left", "p")
        self.legend = self.plot.addLegend(offset=(10, 10))  # top left: the output is marked at the right
        self.curves: list[pg.PlotDataItem] = []
        self.mask = FutureMask()
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        self.cursor.setZValue(10)
        self.output_marker = pg.ScatterPlotItem(size=12, symbol="o")
        self.output_marker.setZValue(11)
        self.output_text = pg.TextItem(anchor=(1, 0.5))
        self.output_text.setZValue(11)  # over the faded future, as its marker
        for item in (self.mask, self.output_marker, self.output_text):
            self.plot.addItem(item, ignoreBounds=True)
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.series: ClassSeries | None = None
        self.causal = True

    def set_data(self, series: ClassSeries, tokens: list[str], causal: bool) -> None:
        """A new trace's lines: `series.probs` (T, K)."""
        self.series, self.causal = series, causal
        steps = series.probs.shape[0]
        for curve in self.curves:
            self.plot.removeItem(curve)
        self.legend.clear()
        x = np.arange(1, steps + 1, dtype=np.float32)
        theme = current_theme()
        self.curves = [
            self.plot.plot(x, series.probs[:, k], pen=self._pen(theme, k), name=label)
            for k, label in enumerate(series.labels)
        ]
        self.axis.set_tokens(tokens)
        plotting.forget_tick_text(self.plot, (tuple(tokens), steps))
        self.plot.getViewBox().setLimits(xMin=STEP_OFFSET, xMax=steps + STEP_OFFSET, yMin=-0.05, yMax=1.08)
        self.plot.setRange(xRange=(STEP_OFFSET, steps + STEP_OFFSET), yRange=(-0.02, 1.05), padding=0)
        self.mask.set_area(QRectF(STEP_OFFSET, -0.05, steps, 1.13))
        self._mark_output(theme)

    @staticmethod
    def _pen(theme: Theme, k: int):
        return pg.mkPen(theme.palette[k % len(theme.palette)], width=theme.line_width)

    def _mark_output(self, theme: Theme) -> None:
        series = self.series
        if series is None:
            return
        steps, colour = series.probs.shape[0], theme.palette[series.output % len(theme.palette)]
        self.output_marker.setData(
            [steps], [series.output_prob], brush=pg.mkBrush(colour), pen=pg.mkPen(theme.foreground)
        )
        self.output_text.setText(f"output: {series.output_label}", color=theme.foreground)
        self.output_text.setFont(plotting.font(theme, 0.9, bold=True))
        self.output_text.setPos(steps - 0.3, series.output_prob)  # left of the marker

    @property
    def shown_until(self) -> float:
        """Where the lines stop being visible (the cover's left edge)."""
        return self.mask.rect().left() if self.mask.rect().width() else float("inf")

    def set_step(self, step: int) -> None:
        steps = self.series.probs.shape[0] if self.series is not None else 1
        self.cursor.setValue(step)
        self.mask.set_start(step if self.causal else steps + STEP_OFFSET)  # a line ends at the step
        hidden = self.causal and self.mask.hidden
        self.axis.set_shown_until(step if hidden else None)
        # the output is what comes last: not given away while the future is hidden
        reached = not hidden or step >= steps
        self.output_marker.setVisible(reached)
        self.output_text.setVisible(reached)

    def set_future_hidden(self, hidden: bool) -> None:
        self.mask.set_future_hidden(hidden)
        self.set_step(int(self.cursor.value()))

    def apply_theme(self, theme: Theme) -> None:
        plotting.style_plot(self.plot, theme)
        self.mask.apply_theme(theme)
        self.cursor.setPen(plotting.cursor_pen(theme))
        self.legend.setLabelTextColor(theme.foreground)
        self.legend.setLabelTextSize(f"{theme.font_size * 0.9:g}pt")
        self.legend.setBrush(plotting.color(theme.background, 210))
        for k, curve in enumerate(self.curves):
            curve.setPen(self._pen(theme, k))
        self._mark_output(theme)


class TagRow(QWidget):
    """Every token with the tag the model gives it under it, and the true tag under that where known;
    a wrong tag is marked. The current step's column is outlined and kept in view; a click on a column
    moves the step there (`stepClicked`). A causal tagger's later columns are faded, or not drawn
    when the future is hidden."""

    stepClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns: list[TagColumn] = []
        self.causal = False
        self.future_hidden = False
        self.step = 0
        self.offset = 0  # pixels scrolled
        self.starts = np.zeros(0, np.int64)
        self.widths = np.zeros(0, np.int64)
        self.accent, self.foreground = QColor("#e8590c"), QColor("black")

    # content --------------------------------------------------------------------------------------
    @property
    def has_truth(self) -> bool:
        return any(c.true is not None for c in self.columns)

    @property
    def lines(self) -> int:
        return 3 if self.has_truth else 2

    def set_columns(self, columns: list[TagColumn], causal: bool) -> None:
        self.columns, self.causal = columns, causal
        self._measure()
        self.updateGeometry()
        self.update()

    def _measure(self) -> None:
        bold, plain = self._fonts()
        strong, metrics = QFontMetrics(bold), QFontMetrics(plain)
        widths = [
            max(
                metrics.horizontalAdvance(c.token),
                strong.horizontalAdvance(self._tag_text(c)),
                metrics.horizontalAdvance(c.true or ""),
            )
            + 2 * PAD_X
            for c in self.columns
        ]
        self.widths = np.asarray(widths, np.int64)
        ends = np.cumsum(self.widths + GAP) if len(widths) else np.zeros(0, np.int64)
        self.starts = ends - self.widths - GAP

    @staticmethod
    def _tag_text(column: TagColumn) -> str:
        return f"\u2717 {column.predicted}" if column.wrong else column.predicted

    def _fonts(self) -> tuple[QFont, QFont]:
        plain = QFont(self.font())
        bold = QFont(plain)
        bold.setBold(True)
        return bold, plain

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, self.lines * (QFontMetrics(self.font()).height() + 2) + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(100, self.sizeHint().height())

    # per step -------------------------------------------------------------------------------------
    def is_drawn(self, i: int) -> bool:
        """Whether column i (0-based) is drawn: not a causal tagger's later column, future hidden."""
        return not (self.causal and self.future_hidden and i + 1 > self.step)

    def set_step(self, step: int) -> None:
        self.step = step
        i = step - 1
        if 0 <= i < len(self.columns):  # keep the current column well inside the view
            width = self.width()
            left, right = int(self.starts[i]), int(self.starts[i] + self.widths[i])
            if left < self.offset + 20 or right > self.offset + width - 20:
                total = int(self.starts[-1] + self.widths[-1])
                self.offset = max(0, min(left + int(self.widths[i]) // 2 - width // 2, total - width))
        self.update()

    def set_future_hidden(self, hidden: bool) -> None:
        self.future_hidden = hidden
        self.update()

    def column_at(self, x: float) -> int | None:
        i = int(np.searchsorted(self.starts + self.widths, x + self.offset, side="right"))
        return i if i < len(self.columns) and self.starts[i] <= x + self.offset else None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        i = self.column_at(event.position().x())
        if i is not None:
            self.stepClicked.emit(i + 1)

    def wheelEvent(self, event) -> None:  # noqa: N802
        if len(self.columns):
            total = int(self.starts[-1] + self.widths[-1])
            delta = event.angleDelta()
            pixels = -(delta.x() or delta.y()) // 2
            self.offset = max(0, min(self.offset + pixels, max(0, total - self.width())))
            self.update()

    # painting -------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        if not self.columns:
            return
        with QPainter(self) as painter:
            self._paint(painter)

    def _paint(self, painter: QPainter) -> None:
        bold, plain = self._fonts()
        line = QFontMetrics(plain).height() + 2
        first = int(np.searchsorted(self.starts + self.widths, self.offset, side="right"))
        last = int(np.searchsorted(self.starts, self.offset + self.width(), side="left"))
        faded = QColor(self.foreground)
        faded.setAlpha(110)
        for i in range(first, min(last, len(self.columns))):
            if not self.is_drawn(i):
                continue
            column = self.columns[i]
            x, width = int(self.starts[i]) - self.offset, int(self.widths[i])
            box = QRectF(x, 2, width, self.lines * line + 4)
            if column.wrong:
                painter.fillRect(box, QColor(WRONG.red(), WRONG.green(), WRONG.blue(), 45))
            if i + 1 == self.step:
                painter.setPen(QPen(self.accent, 2))
                painter.drawRoundedRect(box.adjusted(1, 1, -1, -1), 4, 4)
            later = self.causal and i + 1 > self.step
            colour = faded if later else self.foreground
            texts = [(column.token, plain, colour), (self._tag_text(column), bold, colour)]
            if self.has_truth:
                true = "" if column.true is None else ("\u2713" if not column.wrong else column.true)
                texts.append((true, plain, faded))
            for row, (text, font, pen) in enumerate(texts):
                painter.setFont(font)
                painter.setPen(WRONG if row == 1 and column.wrong else pen)
                rect = QRectF(x, 4 + row * line, width, line)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def apply_theme(self, theme: Theme) -> None:
        self.accent, self.foreground = QColor(theme.accent), QColor(theme.foreground)
        self.setFont(plotting.font(theme))
        self._measure()
        self.updateGeometry()
        self.update()
