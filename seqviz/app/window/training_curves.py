"""TrainingCurves: the Training dock's live plots, one curve per architecture.

Three plots one above the other: the loss per step, the held-out accuracy, and the gradient norm on
a log scale (before clipping, so an explosion shows; the clipping threshold a dashed line). The x
axis is the step, or each run's own training time in seconds (`set_x_axis`): the lesson's "which
trains faster" is about time as much as steps. Each architecture keeps its colour from the theme's
line palette (never the step cursor's colour), whatever else is trained beside it.

Curves are built once per training session (`set_runs`); new points only `setData` the curves, at
the dock's pace (about ten times a second), never per step.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from seqviz.app.panels import plotting
from seqviz.app.viewer.training_choices import ARCH_NAMES
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.demos.training_curves import Curves

X_AXES = {"step": "step", "seconds": "training time (s)"}


def arch_colour(arch: str, theme: Theme) -> str:
    """An architecture's line colour: the same in every session, from the theme's palette."""
    index = ARCH_NAMES.index(arch) if arch in ARCH_NAMES else len(ARCH_NAMES)
    return theme.palette[index % len(theme.palette)]


def finite_points(x: list, y: list, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) as arrays without the points pyqtgraph cannot draw: NaN or inf (a diverged step), and
    values <= 0 on a log axis."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(xs) & np.isfinite(ys)
    if positive:
        keep &= ys > 0
    return xs[keep], ys[keep]


class LogValueAxis(plotting.ReadableAxis):
    """A log axis whose labels never overlap: 1, 2 and 5 times each decade where they fit, else every
    decade, or every few decades (pyqtgraph labels 2..9 times each decade whatever the room, and on a
    short plot those numbers ran into each other)."""

    MANTISSAS = ((1, 2, 5), (1, 3), (1,))

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 (pyqtgraph's names)
        if not self.logMode or not maxVal > minVal or size <= 0:
            return super().tickValues(minVal, maxVal, size)
        room = self._label_room(minVal, maxVal) * (maxVal - minVal) / size  # log10 units a label needs
        low, high = math.floor(minVal), math.ceil(maxVal)
        for mantissas in self.MANTISSAS:
            values = [k + math.log10(m) for k in range(low, high + 1) for m in mantissas]
            values = [v for v in values if minVal <= v <= maxVal]
            if len(values) >= 2 and min(np.diff(values)) >= room:
                return [(None, values)]
        every = max(1, math.ceil(room))
        return [(None, [float(k) for k in range(low, high + 1) if k % every == 0 and minVal <= k <= maxVal])]


class TrainingCurves(pg.GraphicsLayoutWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingCurves")
        self.setMinimumHeight(150)
        self.x_axis = "step"
        self.archs: list[str] = []
        self.points: list[Curves] = []
        self.clip: float | None = None
        self.steps = 0  # the step axis's span (0: as far as the curves go)
        # the legend in a row of its own above the plots: inside a short plot it hid the curves
        self.legend = pg.LegendItem(offset=None, verSpacing=-4)
        self.addItem(self.legend, row=0, col=0)
        self.loss_plot = self._add_plot(1, "loss")
        self.accuracy_plot = self._add_plot(2, "held-out accuracy")
        self.grad_plot = self._add_plot(3, "gradient norm (log scale)")
        self.grad_plot.setLogMode(y=True)
        self.accuracy_plot.setYRange(0, 1, padding=0.02)
        self.accuracy_plot.getViewBox().setLimits(yMin=-0.05, yMax=1.05)
        for plot in self.plots:
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMenuEnabled(False)
            plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.accuracy_plot.setXLink(self.loss_plot)
        self.grad_plot.setXLink(self.loss_plot)
        self.clip_line = pg.InfiniteLine(angle=0, movable=False)
        self.clip_line.setToolTip("The clipping threshold: steps above it were scaled down to it")
        self.grad_plot.addItem(self.clip_line)
        self.loss_lines: list[pg.PlotDataItem] = []
        self.accuracy_lines: list[pg.PlotDataItem] = []
        self.grad_lines: list[pg.PlotDataItem] = []
        self.setToolTip(
            "Loss and held-out accuracy of every architecture, and its gradient norm before clipping"
        )
        self.set_x_axis("step")
        self.apply_theme(current_theme())
        theme_notifier.themeChanged.connect(self.apply_theme)

    def _add_plot(self, row: int, title: str) -> pg.PlotItem:
        axes = {
            "left": LogValueAxis("left"),
            "bottom": plotting.ReadableAxis("bottom"),
        }  # numbers never overlap
        plot = self.addPlot(row=row, col=0, title=title, axisItems=axes)
        plot.getAxis("left").setWidth(44)  # the three plots' x axes line up
        return plot

    @property
    def plots(self) -> tuple[pg.PlotItem, ...]:
        return (self.loss_plot, self.accuracy_plot, self.grad_plot)

    # data -----------------------------------------------------------------------------------------------
    def set_runs(self, labels: list[str], archs: list[str], clip: float | None, steps: int = 0) -> None:
        """New curves: one per run (`labels` in the legend, coloured by `archs`), empty so far; the step
        axis spans `steps` from the start (a fixed axis is not laid out again at every redraw)."""
        self.steps = steps
        for plot, lines in zip(self.plots, self._line_lists(), strict=True):
            for line in lines:
                plot.removeItem(line)
            lines.clear()
        self.legend.clear()
        self.legend.setColumnCount(min(2, max(1, len(labels))))  # a narrow dock shows every label
        self.archs = list(archs)
        self.points = [Curves() for _ in labels]
        theme = current_theme()
        for label, arch in zip(labels, archs, strict=True):
            pen = pg.mkPen(arch_colour(arch, theme), width=theme.line_width)
            self.loss_lines.append(self.loss_plot.plot(pen=pen))
            self.legend.addItem(self.loss_lines[-1], label)
            self.accuracy_lines.append(
                self.accuracy_plot.plot(
                    pen=pen, symbol="o", symbolSize=5, symbolPen=None, symbolBrush=pen.color()
                )
            )
            self.grad_lines.append(self.grad_plot.plot(pen=pg.mkPen(pen.color(), width=1)))
        self.set_clip(clip)
        self.set_x_axis(self.x_axis)

    def set_clip(self, clip: float | None) -> None:
        self.clip = clip
        self.clip_line.setVisible(clip is not None and clip > 0)
        if clip is not None and clip > 0:
            self.clip_line.setPos(math.log10(clip))  # a log axis's items are placed in log10 units

    def set_points(self, index: int, points: Curves) -> None:
        """Run `index`'s curves are now `points` (redrawn at once: call at the dock's pace)."""
        self.points[index] = points
        self._draw(index)

    def redraw(self) -> None:
        for index in range(len(self.points)):
            self._draw(index)

    def _draw(self, index: int) -> None:
        p = self.points[index]
        x, eval_x = (p.step, p.eval_step) if self.x_axis == "step" else (p.seconds, p.eval_seconds)
        self.loss_lines[index].setData(*finite_points(x, p.loss))
        self.accuracy_lines[index].setData(*finite_points(eval_x, p.accuracy))
        self.grad_lines[index].setData(*finite_points(x, p.grad_norm, positive=True))

    def set_x_axis(self, name: str) -> None:
        """ "step" or "seconds" (each run's own training time)."""
        self.x_axis = name
        self.grad_plot.setLabel("bottom", X_AXES[name])
        if name == "step" and self.steps > 0:
            self.loss_plot.setXRange(0, self.steps, padding=0.02)  # the others are linked to it
        else:
            self.loss_plot.enableAutoRange(axis="x")
        self.redraw()

    def _line_lists(self) -> tuple[list, list, list]:
        return (self.loss_lines, self.accuracy_lines, self.grad_lines)

    # theme ----------------------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        plotting.style_canvas(self, theme)
        for plot in self.plots:
            plotting.style_plot(plot, theme)
        for plot in (self.loss_plot, self.accuracy_plot):  # x-linked: the numbers only under the last
            plot.getAxis("bottom").setStyle(showValues=False)
            plot.getAxis("bottom").setHeight(4)
        self.ci.layout.setVerticalSpacing(0)
        self.legend.setLabelTextColor(theme.foreground)
        self.legend.setLabelTextSize(f"{theme.font_size}pt")
        self.clip_line.setPen(
            pg.mkPen(theme.foreground, width=theme.outline_width, style=Qt.PenStyle.DashLine)
        )
        for i, arch in enumerate(self.archs):
            colour = arch_colour(arch, theme)
            self.loss_lines[i].setPen(pg.mkPen(colour, width=theme.line_width))
            self.accuracy_lines[i].setPen(pg.mkPen(colour, width=theme.line_width))
            self.accuracy_lines[i].setSymbolBrush(pg.mkBrush(colour))
            self.grad_lines[i].setPen(pg.mkPen(colour, width=max(1.0, theme.line_width / 2)))
        for item in self.legend.items:  # the legend's samples follow the pens; its labels the colour
            item[1].setText(item[1].text, color=theme.foreground, size=f"{theme.font_size}pt")
