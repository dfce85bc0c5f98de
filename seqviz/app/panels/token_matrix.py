"""A rows x columns matrix over tokens on the step axes (attention's query x key, the gradient map's
step x input): where its cells lie, the view fitted to them, the cell under the pointer.

Row r and column c (1-based) are the cell centred on (c, r): x in [c - 0.5, c + 0.5], y likewise, so
step t sits at t on both axes (plotting.STEP_OFFSET). The plot comes from plotting.token_matrix_plot.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF

from seqviz.app.panels import plotting
from seqviz.app.panels.plotting import STEP_OFFSET


def cells_rect(rows: int, cols: int) -> QRectF:
    """The area the cells cover, in view coordinates (an image's rect, a mask's area)."""
    return QRectF(STEP_OFFSET, STEP_OFFSET, cols, rows)


def fit_view(plot: pg.PlotItem, rows: int, cols: int) -> None:
    """Show exactly the cells, never panned or zoomed past them, with the axes' tick text measured
    afresh (new tokens: the plot looks as if built for them)."""
    tokens = tuple(getattr(plot.getAxis(side), "tokens", None) for side in ("bottom", "left"))
    plotting.forget_tick_text(plot, (rows, cols, tokens))
    vb = plot.getViewBox()
    vb.setLimits(xMin=STEP_OFFSET, xMax=cols + STEP_OFFSET, yMin=STEP_OFFSET, yMax=rows + STEP_OFFSET)
    vb.setRange(xRange=(STEP_OFFSET, cols + STEP_OFFSET), yRange=(STEP_OFFSET, rows + STEP_OFFSET), padding=0)


def cell_at(plot: pg.PlotItem, scene_pos: QPointF, rows: int, cols: int) -> tuple[int, int] | None:
    """(row, column), both 1-based, of the cell under a scene position; None off the cells."""
    vb = plot.getViewBox()
    if not vb.sceneBoundingRect().contains(scene_pos):
        return None
    p = vb.mapSceneToView(scene_pos)
    row, col = int(round(p.y())), int(round(p.x()))
    return (row, col) if 1 <= row <= rows and 1 <= col <= cols else None
