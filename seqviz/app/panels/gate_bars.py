"""One gate's vector at the current word as bars, one per unit, beside the gate's heatmap (like h_t's).

Rows line up with the heatmap's units (the plots share the unit axis). A gate in [0, 1] is drawn from 0
in one colour; the candidate and the cell, centred at 0, in the diverging map's two ends. A step only
changes the bars' widths.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from seqviz.app.panels import plotting
from seqviz.app.window.theme import Theme, current_theme


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
        lo, hi = levels  # a narrow plot has room for three numbers
        ticks = [(lo, f"{lo:.3g}"), ((lo + hi) / 2, f"{(lo + hi) / 2:.3g}"), (hi, f"{hi:.3g}")]
        plotting.forget_tick_text(self.plot, (units, tuple(levels), tuple(ticks)))
        self.plot.setXRange(*levels, padding=0.02)
        plotting.set_ticks(self.plot.getAxis("bottom"), [ticks])
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
        self._colour(theme)
