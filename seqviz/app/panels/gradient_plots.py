"""The gradient flow panel's two plots beside the map (seqviz.app.panels.gradients), each on a canvas
of its own:

    StepBars       this step's row of the map as bars over the inputs (log or linear), the inf and NaN
                   entries marked above them, the step's own position as a line
    DistancePlot   the mean influence against distance t - s, and this step's row as dots over it

Their value ranges are set from every computed row (`set_range`), never from inf or NaN, and kept
while stepping: a step only swaps the data (`show_row`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFontMetrics

from seqviz.app.panels import gradient_logic as logic
from seqviz.app.panels import plotting
from seqviz.app.panels.gradient_logic import FINITE, INF, NAN
from seqviz.app.panels.gradient_views import SpecialMarks, value_plot
from seqviz.app.panels.heatmap import PlotCanvas
from seqviz.app.panels.plotting import STEP_OFFSET, TokenAxis
from seqviz.app.window.theme import Theme

NAN_COLOUR, INF_COLOUR = "#e600e6", "#e41a1c"  # outside every theme's colour maps
LANE = 0.14  # headroom above the bars (a fraction of their range) where inf/NaN marks sit
SPECIAL_NAMES = {INF: "inf", NAN: "NaN"}


def _column_at(plot: pg.PlotItem, scene_pos: QPointF) -> int | None:
    """The x of a scene position rounded to a whole position, None off the plot."""
    vb = plot.getViewBox()
    if not vb.sceneBoundingRect().contains(scene_pos):
        return None
    return int(round(vb.mapSceneToView(scene_pos).x()))


class StepBars:
    """The current step's influences as bars over the S inputs, its tokens on the axis."""

    def __init__(self) -> None:
        self.canvas = PlotCanvas()
        self.axis = TokenAxis("bottom")
        self.plot, self.left = value_plot(self.axis, "this step: influence on y<sub>t</sub>")
        self.bars = pg.BarGraphItem(x=np.zeros(1), y0=0, height=np.zeros(1), width=0.8, pen=None)
        self.inf_bars = pg.BarGraphItem(x=np.zeros(1), y0=0, height=np.zeros(1), width=0.8, pen=None)
        self.marks = SpecialMarks()
        self.step_line = pg.InfiniteLine(angle=90, movable=False)
        self.pending_text = pg.TextItem("not computed yet", anchor=(0.5, 0.5))
        for item in (self.bars, self.inf_bars, self.marks, self.step_line, self.pending_text):
            self.plot.addItem(item, ignoreBounds=True)
        self.canvas.addItem(self.plot, 0, 0)
        self.span = (0.0, 1.0)  # the value axis's range under the lane of marks
        self.cols = 1

    def set_range(self, done: np.ndarray, cols: int, scale: str) -> None:
        """The value range from the computed rows `done` (n, S) on `scale` (logic.LOG or LINEAR)."""
        self.cols = cols
        lo, hi = logic.value_range(done, scale)
        if scale == logic.LOG:
            lo -= 0.04 * (hi - lo)  # a value of exactly 10^lo still gets a visible bar
        self.span = (lo, hi)
        top = hi + LANE * (hi - lo)
        self.left.log_labels = scale == logic.LOG
        plotting.forget_tick_text(self.plot)
        self.plot.getViewBox().setLimits(xMin=STEP_OFFSET, xMax=cols + STEP_OFFSET, yMin=lo, yMax=top)
        self.plot.setRange(xRange=(STEP_OFFSET, cols + STEP_OFFSET), yRange=(lo, top), padding=0)
        self.bars.setOpts(x=np.arange(1, cols + 1), height=np.zeros(cols), y0=lo)
        self.inf_bars.setOpts(x=np.arange(1, cols + 1), height=np.zeros(cols), y0=lo)
        self.marks.set_area(QRectF(STEP_OFFSET, lo, cols, top - lo))
        self.pending_text.setPos((cols + 1) / 2, (lo + top) / 2)

    def show_row(self, row: np.ndarray | None, step: int, scale: str, shown_until: int | None) -> None:
        """Bars of `row` (S,) (None: not computed yet) at `step`; the axis's tokens after `shown_until`
        hidden (None: all shown)."""
        self.axis.set_shown_until(shown_until)
        layout = logic.bar_layout(row, scale, self.span, self.cols)
        self.bars.setOpts(height=np.where(layout.kinds == FINITE, layout.heights, 0.0))
        self.inf_bars.setOpts(height=np.where(layout.kinds == INF, layout.heights, 0.0))
        lo, hi = self.span
        lane = hi + LANE * (hi - lo) / 2
        colours = {INF: QColor(INF_COLOUR), NAN: QColor(NAN_COLOUR)}
        special = np.flatnonzero((layout.kinds == INF) | (layout.kinds == NAN))
        self.marks.set_entries(
            [(s + 1, lane, SPECIAL_NAMES[layout.kinds[s]], colours[layout.kinds[s]]) for s in special]
        )
        self.pending_text.setVisible(row is None)
        self.step_line.setValue(step)

    def column_at(self, scene_pos: QPointF) -> int | None:
        """The input s (1-based) under a scene position, None off the bars."""
        s = _column_at(self.plot, scene_pos)
        return s if s is not None and 1 <= s <= self.cols else None

    def apply_theme(self, theme: Theme) -> None:
        self.canvas.apply_theme(theme)
        plotting.style_plot(self.plot, theme)
        self.bars.setOpts(brush=pg.mkBrush(theme.bar))
        self.inf_bars.setOpts(brush=pg.mkBrush(INF_COLOUR))
        self.marks.font = plotting.font(theme, 0.9)
        self.pending_text.setColor(theme.foreground)
        self.pending_text.setFont(plotting.font(theme))
        line = QFontMetrics(plotting.font(theme)).height()  # room for a title, ticks and some bars
        self.canvas.setMinimumHeight(4 * line)

    def apply_strokes(self, theme: Theme) -> None:
        plotting.style_strokes(self.plot, theme)
        self.step_line.setPen(plotting.cursor_pen(theme))


class DistancePlot:
    """Mean influence against distance t - s (negative: later tokens, for a model reading both ways)."""

    def __init__(self) -> None:
        self.canvas = PlotCanvas()
        self.plot, self.left = value_plot(plotting.ReadableAxis("bottom"), "mean influence by distance")
        self.plot.setLabel("bottom", "t \u2212 s")  # before the theme sizes the axis for a label
        self.curve = pg.PlotDataItem(connect="finite")  # gaps where no finite entry was averaged
        self.points = pg.ScatterPlotItem(size=5, pen=None)  # finite means only: NaN spots crash Qt
        self.row = pg.ScatterPlotItem(size=5, pen=None)
        self.zero_line = pg.InfiniteLine(angle=90, movable=False)
        for item in (self.zero_line, self.row, self.curve, self.points):
            self.plot.addItem(item, ignoreBounds=True)
        self.canvas.addItem(self.plot, 0, 0)

    def set_sides(self, two_sided: bool) -> None:
        """Label the distances for a causal model (tokens back) or one reading both ways."""
        self.zero_line.setVisible(two_sided)
        side = "t \u2212 s (negative: later tokens)" if two_sided else "t \u2212 s (tokens back)"
        self.plot.setLabel("bottom", side)

    def set_range(self, done: np.ndarray, first: int, rows: int) -> None:
        """Distances `first`..rows - 1, the value range the decades of the computed rows `done`."""
        d_lo, d_hi = logic.decades(logic.log_range(done))
        plotting.forget_tick_text(self.plot)
        self.plot.getViewBox().setLimits(xMin=first - 0.5, xMax=rows - 0.5, yMin=d_lo - 0.1, yMax=d_hi + 0.1)
        self.plot.setRange(xRange=(first - 0.5, rows - 0.5), yRange=(d_lo - 0.1, d_hi + 0.1), padding=0)

    def show_average(self, average: logic.DistanceAverage) -> None:
        """The mean over the computed rows: a curve with gaps, dots on its finite means."""
        d, logs = average.distances, logic.log_values(average.means())
        finite = np.isfinite(logs)
        if finite.any():
            self.curve.setData(d, logs)
        else:
            self.curve.setData([], [])
        self.points.setData(d[finite], logs[finite])

    def show_row(self, row: np.ndarray | None, r: int, two_sided: bool) -> None:
        """Row `r` (0-based) of the map (S,) as dots by distance; None: no dots (not computed yet)."""
        if row is None:
            self.row.setData([], [])
        else:
            d, v = logic.row_by_distance(row, r, two_sided)
            self.row.setData(d, np.log10(v))

    def distance_at(self, scene_pos: QPointF) -> int | None:
        """The distance t - s under a scene position, None off the plot."""
        return _column_at(self.plot, scene_pos)

    def apply_theme(self, theme: Theme) -> None:
        self.canvas.apply_theme(theme)
        plotting.style_plot(self.plot, theme)
        self.points.setBrush(pg.mkBrush(theme.accent))
        self.row.setBrush(pg.mkBrush(plotting.color(theme.bar, 110)))
        line = QFontMetrics(plotting.font(theme)).height()  # room for a title, ticks and some data
        self.canvas.setMinimumHeight(3 * line)

    def apply_strokes(self, theme: Theme) -> None:
        plotting.style_strokes(self.plot, theme)
        self.zero_line.setPen(plotting.outline_pen(theme.foreground, theme, 1.0))
        self.curve.setPen(plotting.accent_pen(theme))
