"""The gradient flow panel's pieces: the (T, S) map, its colour legend, marks for inf/NaN bars, a value
axis labelled in powers of ten, and the row of input tokens tinted by their influence.

Map coordinates follow the step axes: row t (1-based step) is y in [t - 0.5, t + 0.5], column s is x
in [s - 0.5, s + 0.5]. Colours are computed without Qt (gradient_logic.rgba_cells); these only draw.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QLinearGradient, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGraphicsRectItem,
    QLabel,
    QSizePolicy,
    QToolTip,
    QWidget,
)

from seqviz.app.panels import plotting, token_matrix
from seqviz.app.panels.gradient_logic import decade_label
from seqviz.app.panels.heatmap import FutureMask
from seqviz.app.panels.plotting import STEP_OFFSET, display_token
from seqviz.app.window.theme import Theme, current_theme

CHIP_CHARS = 8  # a tinted token shows at most this many characters
SCALE_TIP = (
    "Scale the recurrent weight matrices W_hh by this factor and trace again: below 1 a plain RNN's "
    "gradients vanish faster; above 1 they stop vanishing and, from about 2.5 for a tanh RNN (whose "
    "saturation bounds them), grow with distance (explode)."
)


def value_plot(bottom: pg.AxisItem, title: str) -> tuple[pg.PlotItem, LogAxis]:
    """A plot of values against positions, its value axis a LogAxis; ranges are set by the caller
    (from the whole map: never from inf or NaN), never by autoscaling."""
    left = LogAxis("left")
    plot = pg.PlotItem(axisItems={"bottom": bottom, "left": left}, title=title, enableMenu=False)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.enableAutoRange(False)
    return plot, left


def recurrent_scale_box() -> QDoubleSpinBox:
    """The W_hh factor, 0.5 to 3.0 in steps of 0.1 (1: the model as trained). Measured on the untrained
    RNN: at 2.0 its influence is flat over 15 steps instead of falling 10,000-fold; growth with distance
    (4.9e-2 -> 3.4e-1 over 15 steps) needs about 3.0, because tanh saturates. Hence the range beyond 2."""
    box = QDoubleSpinBox()
    box.setRange(0.5, 3.0)
    box.setSingleStep(0.1)
    box.setDecimals(2)
    box.setValue(1.0)
    box.setKeyboardTracking(False)  # one re-trace per value, not per keystroke
    box.setToolTip(SCALE_TIP)
    return box


class ProgressLabel(QLabel):
    """A one-line text of a fixed size (that of the widest progress text in its font): new progress
    repaints it without laying the window out again (Qt skips the layout of a fixed-size widget)."""

    WIDEST = "computing gradients: 00000 / 00000 rows"

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("panelNote")
        self._fit()

    def _fit(self) -> None:
        metrics = QFontMetrics(self.font())
        self.setFixedSize(metrics.horizontalAdvance(self.WIDEST) + 8, metrics.height() + 2)

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name)
        super().setText(text)
        self.setToolTip(text)  # a long message is cut off at the label's width

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # a theme switch: a layout then is fine
            self._fit()


class LogAxis(plotting.ReadableAxis):
    """A value axis for log10 coordinates: ticks on whole decades labelled 10⁻⁵ ... (`log_labels`), or
    a plain numeric axis when the plot shows linear values."""

    log_labels = True

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        levels = super().tickValues(minVal, maxVal, size)
        if not self.log_labels:
            return levels
        whole = [(sp, [v for v in vals if float(v).is_integer()]) for sp, vals in levels if sp >= 1]
        whole = [(sp, vals) for sp, vals in whole if vals]
        if whole:
            return whole[:1]
        return [(1.0, list(range(int(np.ceil(minVal)), int(np.floor(maxVal)) + 1)))]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        if not self.log_labels:
            return super().tickStrings(values, scale, spacing)
        return [decade_label(v) for v in values]

    def _label_room(self, lo: float, hi: float) -> float:
        if self.log_labels and self.orientation in ("top", "bottom"):
            metrics = plotting.QFontMetricsF(self.style.get("tickFont") or self.font())
            return metrics.horizontalAdvance("10\u207b\u00b2\u2070") + 2 * metrics.averageCharWidth()
        return super()._label_room(lo, hi)


class GradientMap:
    """The (T, S) map as an RGBA image, the current step's row outlined; with the future hidden, the rows
    after a step covered (`hide_after`)."""

    def __init__(self) -> None:
        self.plot, self.x_axis, self.y_axis = plotting.token_matrix_plot("step t (output)", "input s")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.row_marker = QGraphicsRectItem()
        self.row_marker.setZValue(10)
        self.future = FutureMask(vertical=True)  # opaque: only ever shown to hide the future
        self.future.set_future_hidden(True)
        self.plot.addItem(self.image)
        self.plot.addItem(self.future)
        self.plot.addItem(self.row_marker)
        self.shape = (1, 1)
        self.step = 1

    def set_data(self, rgba: np.ndarray, row_tokens: list[str], col_tokens: list[str], x_label: str) -> None:
        """Upload the colours (T, S, 4) and the axes' tokens (a new trace, not a step)."""
        self.shape = rgba.shape[:2]
        rows, cols = self.shape
        self.image.setImage(rgba, autoLevels=False, levels=None)
        self.image.setRect(token_matrix.cells_rect(rows, cols))
        self.future.set_area(token_matrix.cells_rect(rows, cols))
        self.x_axis.set_tokens(col_tokens)
        self.y_axis.set_tokens(row_tokens)
        self.plot.setLabel("bottom", x_label)
        token_matrix.fit_view(self.plot, rows, cols)
        self.set_step(self.step)

    def update_colours(self, rgba: np.ndarray) -> None:
        """New colours of the same shape (rows arrived, a new theme)."""
        self.image.updateImage(rgba)

    def set_step(self, step: int) -> None:
        self.step = step
        self.row_marker.setRect(QRectF(STEP_OFFSET, step - 0.5, self.shape[1], 1))

    def hide_after(self, step: int | None, columns_too: bool) -> None:
        """Cover the rows after `step` and their tokens (None: show every row), and the columns'
        tokens after it when `columns_too` (the columns are the same steps)."""
        self.future.set_start((step if step is not None else self.shape[0]) + STEP_OFFSET)
        self.y_axis.set_shown_until(step)
        self.x_axis.set_shown_until(step if columns_too else None)

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(step t, column s), both 1-based, under a scene position."""
        return token_matrix.cell_at(self.plot, scene_pos, *self.shape)

    def apply_theme(self, theme: Theme) -> None:
        plotting.style_plot(self.plot, theme)
        self.apply_strokes(theme)

    def apply_strokes(self, theme: Theme) -> None:
        plotting.style_strokes(self.plot, theme)
        self.row_marker.setPen(plotting.row_marker_pen(theme))


class MapLegend(pg.GraphicsWidget):
    """The map's log colour scale labelled in powers of ten, and a swatch for each kind of special cell
    the map holds (zero, NaN, inf, not computed yet)."""

    def __init__(self) -> None:
        super().__init__()
        self.cmap_name = current_theme().sequential_cmap
        self.levels = (-1.0, 0.0)
        self.swatches: list[tuple[QColor, str]] = []
        self.apply_theme(current_theme())

    LONGEST = ("0 (cannot see)", "not computed", "10\u207b\u00b2\u2070")  # the widest texts it shows

    def apply_theme(self, theme: Theme) -> None:
        """Wide enough for its texts in the theme's font (a fixed width cut them off in large fonts)."""
        metrics = QFontMetrics(plotting.font(theme, 0.85))
        self.setFixedWidth(max(metrics.horizontalAdvance(t) for t in self.LONGEST) + 24)
        self.update()

    def set_scale(
        self, cmap_name: str, levels: tuple[float, float], swatches: list[tuple[QColor, str]]
    ) -> None:
        self.cmap_name, self.levels, self.swatches = cmap_name, levels, swatches
        self.update()

    def paint(self, painter, *args) -> None:
        theme = current_theme()
        painter.setFont(plotting.font(theme, 0.85))
        metrics = painter.fontMetrics()
        line = metrics.height()
        box = self.boundingRect()
        bar_height = max(box.height() - 24 - line * 1.3 * len(self.swatches), 2 * line)
        bar = QRectF(box.left() + 2, box.top() + 10, 12, bar_height)
        gradient = QLinearGradient(bar.bottomLeft(), bar.topLeft())
        table = plotting.lut(self.cmap_name)
        for i in range(0, 256, 15):
            gradient.setColorAt(i / 255, QColor(*table[i]))
        gradient.setColorAt(1.0, QColor(*table[255]))
        painter.fillRect(bar, QBrush(gradient))
        painter.setPen(plotting.outline_pen(theme.foreground, theme))
        painter.drawRect(bar)
        lo, hi = self.levels
        step = int(plotting.nice_spacing(max(1.0, (hi - lo) * line * 1.2 / max(bar.height(), 1))))
        for power in range(int(np.ceil(lo / step)) * step, int(hi) + 1, step):
            y = bar.bottom() - (power - lo) / max(hi - lo, 1e-9) * bar.height()
            painter.drawText(QPointF(bar.right() + 4, y + line * 0.3), decade_label(power))
        y = bar.bottom() + line * 0.6
        for colour, label in self.swatches:
            swatch = QRectF(bar.left(), y, 12, line * 0.9)
            painter.fillRect(swatch, colour)
            painter.drawRect(swatch)
            painter.drawText(QPointF(swatch.right() + 4, swatch.bottom() - line * 0.15), label)
            y += line * 1.3


class SpecialMarks(pg.GraphicsObject):
    """Marks over the bars that have no ordinary height: a diamond and 'inf' / 'NaN' above bar s.

    One item paints them all (entries (x, y, text, colour) in plot coordinates), so a step costs one
    `update()`. Its bounding rect is the plot's range (`set_area`) and never changes on a step."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[float, float, str, QColor]] = []
        self.font = plotting.font()
        self._area = QRectF(0, 0, 1, 1)

    def set_area(self, area: QRectF) -> None:
        self.prepareGeometryChange()
        self._area = QRectF(area)

    def set_entries(self, entries: list[tuple[float, float, str, QColor]]) -> None:
        if entries or self.entries:
            self.entries = entries
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt)
        return self._area

    def paint(self, painter, *args) -> None:
        if not self.entries:
            return
        to_device = painter.transform()
        painter.resetTransform()
        painter.setFont(self.font)
        metrics = painter.fontMetrics()
        r = 5.0
        points = [to_device.map(QPointF(x, y)) for x, y, _text, _colour in self.entries]
        for at, (_x, _y, _text, colour) in zip(points, self.entries, strict=True):
            diamond = QPolygonF(
                [at + QPointF(0, -r), at + QPointF(r, 0), at + QPointF(0, r), at + QPointF(-r, 0)]
            )
            painter.setPen(QPen(colour.darker(140), 1))
            painter.setBrush(colour)
            painter.drawPolygon(diamond)
        # a text that would run into the next mark is left to the tooltips
        ends = [p.x() - r - 2 for p in points[1:]] + [np.inf]
        for at, end, (_x, _y, text, colour) in zip(points, ends, self.entries, strict=True):
            if at.x() + r + 2 + metrics.horizontalAdvance(text) <= end:
                painter.setPen(colour)
                painter.drawText(QPointF(at.x() + r + 2, at.y() + metrics.ascent() / 2 - 1), text)


class TokenTints(QWidget):
    """The input tokens as one row of chips, each filled with its influence's colour at the current step.

    A fixed-height widget that paints itself: a new step only repaints (no layout). When the chips do
    not fit, a window of them around `focus` is shown. Hovering a chip shows `describe(s)` (1-based)."""

    PAD_X, GAP, MARGIN = 4, 2, 3

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.fills: list[QColor] = []
        self.texts: list[QColor] = []
        self.current: int | None = None  # 0-based chip outlined (the step's own token)
        self.shown_until: int | None = None  # chips after it are not drawn (the future, hidden)
        self.focus = 0
        self.anchor = 0.5  # where the focus chip sits in a window that does not show every chip
        self.describe: Callable[[int], str] = lambda s: ""
        self.outline = QColor("#e8590c")
        self._starts = np.zeros(0)
        self._widths = np.zeros(0)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.apply_theme(current_theme())

    def apply_theme(self, theme: Theme) -> None:
        self.setFont(plotting.font(theme, 0.9))
        self.outline = QColor(theme.accent)
        self.background = QColor(theme.background)
        self.setFixedHeight(QFontMetrics(self.font()).height() + 4 + 2 * self.MARGIN)
        self.set_tokens(self.labels, shortened=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, self.height())

    def set_tokens(self, tokens: list[str], shortened: bool = False) -> None:
        self.labels = tokens if shortened else [display_token(t, CHIP_CHARS) for t in tokens]
        metrics = QFontMetrics(self.font())
        widths = {label: metrics.horizontalAdvance(label) + 2 * self.PAD_X for label in set(self.labels)}
        self._widths = np.array([max(widths[label], 10) for label in self.labels], np.float64)
        self._starts = np.cumsum(self._widths + self.GAP) - self._widths - self.GAP
        self.update()

    def set_colours(
        self, fills: list[QColor], texts: list[QColor], current: int | None, focus: int, shown_until=None
    ) -> None:
        """Chip colours at a step; `shown_until`: draw no chip after it (the future, hidden)."""
        self.fills, self.texts, self.current, self.focus = fills, texts, current, focus
        self.shown_until = shown_until
        self.update()

    def offset(self) -> float:
        """Pixels scrolled: 0 when every chip fits, else the focus chip at `anchor` of the width."""
        if not self.labels:
            return 0.0
        total = self._starts[-1] + self._widths[-1]
        room = self.width() - 2 * self.MARGIN
        if total <= room:
            return 0.0
        focus = min(max(self.focus, 0), len(self.labels) - 1)
        wanted = self._starts[focus] + self._widths[focus] / 2 - room * self.anchor
        return float(min(max(wanted, 0.0), total - room))

    def chip_rect(self, i: int) -> QRect:
        x = self.MARGIN + self._starts[i] - self.offset()
        return QRect(int(x), self.MARGIN, int(self._widths[i]), self.height() - 2 * self.MARGIN)

    def chip_at(self, x: int) -> int | None:
        content = x - self.MARGIN + self.offset()
        i = int(np.searchsorted(self._starts + self._widths, content, side="right"))
        return i if i < len(self.labels) and self._starts[i] <= content else None

    def paintEvent(self, event) -> None:  # noqa: N802
        with QPainter(self) as painter:  # ended even if drawing fails: an active one crashes Qt later
            painter.fillRect(self.rect(), self.background)
            if not self.labels or len(self.fills) != len(self.labels):
                return
            offset = self.offset()
            first = int(np.searchsorted(self._starts + self._widths, offset, side="right"))
            last = len(self.labels) if self.shown_until is None else min(self.shown_until, len(self.labels))
            for i in range(first, last):
                rect = self.chip_rect(i)
                if rect.left() > self.width():
                    break
                painter.fillRect(rect, self.fills[i])
                if i == self.current:
                    painter.setPen(QPen(self.outline, 2))
                    painter.drawRect(rect.adjusted(1, 1, -1, -1))
                painter.setPen(self.texts[i])
                painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), self.labels[i])

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            i = self.chip_at(event.pos().x())
            if i is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.describe(i + 1), self)
            return True
        return super().event(event)
