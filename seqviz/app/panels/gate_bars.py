"""One gate's vector at the current word as bars, one per unit, beside the gate's heatmap (like h_t's).

Rows line up with the heatmap's units (the plots share the unit axis). A gate in [0, 1] is drawn from 0
in one colour; the candidate and the cell, centred at 0, in the diverging map's two ends. A step only
changes the bars' widths. RangeTicks numbers a narrow bar plot's value axis for its width (the
hidden state's h_t bars too).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

from seqviz.app.panels import plotting
from seqviz.app.window.theme import Theme, current_theme

LABEL_GAP_PX = 8  # between two numbers of a value axis


def value_ticks(lo: float, hi: float, mid: float | None = None) -> list[list[tuple[float, str]]]:
    """Tick sets for a value axis over [lo, hi], the most telling first: lo, `mid` (default: the
    middle) and hi; lo and hi; then lo and hi rounded towards 0 to 2, then 1 significant digits
    (13.1 -> 13 -> 10: the ticks move with their numbers, which stay exact)."""

    def inward(value: float, digits: int) -> float:
        if value == 0 or not np.isfinite(value):
            return 0.0
        step = 10.0 ** (np.floor(np.log10(abs(value))) - digits + 1)
        return float(np.trunc(value / step) * step)

    mid = (lo + hi) / 2 if mid is None else mid
    ends = [(lo, f"{lo:.3g}"), (hi, f"{hi:.3g}")]
    sets = [[ends[0], (mid, f"{mid:.3g}"), ends[1]], ends]
    for digits in (2, 1):
        a, b = inward(lo, digits), inward(hi, digits)
        sets.append([(a, f"{a:g}"), (b, f"{b:g}")])  # rounded already: "10", not "1e+01"
    return sets


class RangeTicks:
    """A narrow bar plot's value axis (an EndsInsideAxis) numbered for its width, again at each
    resize: both ends and the middle, else both ends, else both ends rounded towards 0. With three
    fixed numbers a narrow plot (the cell state c, h_t at 1024x640) kept only "13.1" of
    "-13.1 0 13.1": the axis drops labels that run into each other."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.levels, self.mid = (0.0, 1.0), None
        plot.vb.sigResized.connect(self.fit)

    def set_range(self, lo: float, hi: float, mid: float | None = None) -> None:
        self.levels, self.mid = (lo, hi), mid
        self.fit()

    def fit(self, *_args) -> None:
        """The most telling tick set whose numbers fit the axis's width (after a resize or a theme)."""
        axis = self.plot.getAxis("bottom")
        metrics = QFontMetricsF(axis.style.get("tickFont") or axis.font())
        for ticks in value_ticks(*self.levels, self.mid):
            texts = [text for _, text in ticks]
            if sum(map(metrics.horizontalAdvance, texts)) + LABEL_GAP_PX * (len(texts) - 1) <= axis.width():
                break
        plotting.set_ticks(axis, [ticks])


class GateBars:
    """Bars of one (H,) vector over the units of a heatmap's rows."""

    def __init__(self) -> None:
        axes = {"bottom": plotting.EndsInsideAxis("bottom")}  # 0 and 1 at its ends stay drawn
        self.plot = pg.PlotItem(axisItems=axes, enableMenu=False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=True)
        self.plot.enableAutoRange(False)
        self.plot.invertY(True)  # unit 0 at the top, like the heatmap
        self.plot.hideAxis("left")  # the heatmap beside it numbers the units
        zeros = np.zeros(1)
        self.pos_bars = pg.BarGraphItem(x0=0, y=zeros, height=0.8, width=zeros, pen=None)
        self.neg_bars = pg.BarGraphItem(x0=0, y=zeros, height=0.8, width=zeros, pen=None)
        self.plot.addItem(self.pos_bars)
        self.plot.addItem(self.neg_bars)
        self.centred = False
        self.levels = (0.0, 1.0)
        self.cmap_name = current_theme().sequential_cmap
        self.ticks = RangeTicks(self.plot)  # numbers for its width
        self.apply_theme(current_theme())

    @property
    def values(self) -> np.ndarray:
        """The values the bars show now, (H,)."""
        return self.pos_bars.opts["width"] + self.neg_bars.opts["width"]

    def set_scale(self, units: int, levels: tuple[float, float], centred: bool, cmap_name: str) -> None:
        """`units` rows of bars on a value axis over `levels` (a new trace or layer, not a step)."""
        self.centred, self.levels, self.cmap_name = centred, levels, cmap_name
        rows = np.arange(units) + 0.5
        zeros = np.zeros(units)  # y and widths change size together (a new model may be wider)
        self.pos_bars.setOpts(y=rows, width=zeros)
        self.neg_bars.setOpts(y=rows, width=zeros)
        plotting.forget_tick_text(self.plot, (units, tuple(levels)))
        self.plot.setXRange(*levels, padding=0.02)
        self.ticks.set_range(*levels)
        self._colour(current_theme())

    def set_values(self, values: np.ndarray) -> None:
        """The bars of (H,) `values`: a step."""
        self.pos_bars.setOpts(width=np.maximum(values, 0))
        self.neg_bars.setOpts(width=np.minimum(values, 0))

    def _colour(self, theme: Theme) -> None:
        if self.centred:
            table = plotting.lut(theme.diverging_cmap)
            positive, negative = table[230], table[25]
        else:  # a gate's values are >= 0: one colour, from the map's strong end
            positive = negative = plotting.lut(self.cmap_name)[200]
        self.pos_bars.setOpts(brush=pg.mkBrush(*positive))
        self.neg_bars.setOpts(brush=pg.mkBrush(*negative))

    def apply_strokes(self, theme: Theme) -> None:
        plotting.style_strokes(self.plot, theme)

    def apply_theme(self, theme: Theme, cmap_name: str | None = None) -> None:
        self.cmap_name = cmap_name or self.cmap_name
        plotting.style_plot(self.plot, theme)
        self.ticks.fit()  # the theme's numbers may be larger
        self._colour(theme)
