"""Heatmap and PlotCanvas: the reusable pieces of every rows x steps picture.

A `Heatmap` is one pyqtgraph plot holding an image of shape (rows, T), a step cursor, a semi-opaque
mask over the not-yet-read future and outlines on selected rows. The image is uploaded once per
trace/layer; a step only moves the cursor line and the mask rectangle, so a step costs the same at
T = 10 or T = 10,000.

A `PlotCanvas` hosts heatmaps and other plots and turns mouse input into signals: hover text (rate
limited to 60 Hz) and cell clicks (row, step, toggle).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QToolTip

from seqviz.app.panels import plotting
from seqviz.app.panels.colour_scale import ColourScale
from seqviz.app.panels.plotting import STEP_OFFSET, TokenAxis, display_token
from seqviz.app.window.theme import Theme, current_theme

HoverSource = Callable[[QPointF], "str | None"]

CURSOR_HALO_PX = 2  # the cursor's background-coloured band: this much wider than the cursor


class FutureMask(QGraphicsItem):
    """A semi-opaque cover over the part of `area` after `start` (columns, or rows when `vertical`).

    Its bounding rect is the whole area and never changes, so moving `start` repaints only the strip
    between the old and the new start: a step repaints a column, not the whole future. `hidden`: the
    cover is opaque in the plot's background colour (View › Hide the future), else the theme's fade.
    """

    def __init__(self, vertical: bool = False) -> None:
        super().__init__()
        self.vertical = vertical
        self.hidden = False
        self._area = QRectF()
        self._start = 0.0
        self._brush = QBrush()
        self.setZValue(5)

    def set_area(self, area: QRectF) -> None:
        self.prepareGeometryChange()
        self._area = QRectF(area)
        self.update()

    def set_start(self, start: float) -> None:
        """Cover from `start` (data coordinate) to the end of the area; hidden when nothing is left."""
        old, self._start = self._start, float(start)
        self.setVisible(self._start < (self._area.bottom() if self.vertical else self._area.right()))
        lo, hi = sorted((old, self._start))
        a = self._area
        strip = (
            QRectF(a.left(), lo, a.width(), hi - lo)
            if self.vertical
            else QRectF(lo, a.top(), hi - lo, a.height())
        )
        self.update(strip & a)

    def rect(self) -> QRectF:
        """The covered region (empty when the whole area is revealed)."""
        a = self._area
        if self.vertical:
            return QRectF(a.left(), self._start, a.width(), max(a.bottom() - self._start, 0))
        return QRectF(self._start, a.top(), max(a.right() - self._start, 0), a.height())

    def setBrush(self, brush) -> None:  # noqa: N802 (Qt naming, like QGraphicsRectItem)
        self._brush = QBrush(brush)
        self.update()

    def apply_theme(self, theme: Theme) -> None:
        """The cover's colour: the theme's fade, or the background (opaque) when `hidden`."""
        hidden = plotting.color(theme.background)
        self.setBrush(hidden if self.hidden else plotting.color(theme.mask, theme.mask_alpha))

    def set_future_hidden(self, hidden: bool) -> None:
        self.hidden = hidden
        self.apply_theme(current_theme())

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._area

    def paint(self, painter, option, widget=None) -> None:
        painter.fillRect(self.rect() & self._area, self._brush)


class Heatmap:
    """One plot showing `data` (rows, T): column i is step i + 1, drawn at x in [i + 0.5, i + 1.5]."""

    def __init__(self, title: str = "", row_name: str = "unit") -> None:
        self.row_name = row_name
        self.column_name = "step"  # an encoder's states are over source "position"s
        self.value_name = ""
        self.tokens: list[str] = []
        self.data = np.zeros((1, 1), np.float32)
        self.levels = (0.0, 1.0)
        self.cmap_name = current_theme().sequential_cmap
        self.step = 0
        self.reveal = True
        self.bottom_axis = TokenAxis("bottom")
        axes = {"bottom": self.bottom_axis, "left": plotting.ReadableAxis("left")}
        self.plot = pg.PlotItem(axisItems=axes, title=title or None, enableMenu=False)
        self.plot.invertY(True)  # unit 0 at the top, like a matrix
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.mask = FutureMask()
        self.row_outline = QGraphicsPathItem()
        self.row_outline.setZValue(8)
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        self.cursor.setZValue(10)
        # a band of the background colour either side of the cursor, moved and hidden with it: the
        # orange cursor was lost on the diverging map's red cells (the dark theme's most of all)
        self.cursor_halo = pg.InfiniteLine(angle=90, movable=False)
        self.cursor_halo.setZValue(9)
        self.cursor.visibleChanged.connect(lambda: self.cursor_halo.setVisible(self.cursor.isVisible()))
        for item in (self.image, self.mask, self.row_outline, self.cursor_halo, self.cursor):
            self.plot.addItem(item)
        self.apply_theme(current_theme())

    # Data ------------------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        return int(self.data.shape[0])

    @property
    def num_steps(self) -> int:
        return int(self.data.shape[1])

    def set_data(
        self,
        data: np.ndarray,
        levels: tuple[float, float],
        cmap_name: str,
        tokens: list[str],
        value_name: str = "",
    ) -> None:
        """Upload `data` (rows, T) once; `levels` fixes the colour scale (no autoscaling per step)."""
        self.data = plotting.image_data(data)
        self.levels = (float(levels[0]), float(levels[1]))
        self.cmap_name = cmap_name
        self.tokens = list(tokens)
        self.value_name = value_name
        rows, steps = self.data.shape
        self.image.setImage(self.data, levels=self.levels, lut=plotting.lut(cmap_name), autoLevels=False)
        self.image.setRect(QRectF(STEP_OFFSET, 0, steps, rows))
        self.mask.set_area(QRectF(STEP_OFFSET, 0, steps, rows))
        self.bottom_axis.set_tokens(self.tokens)
        plotting.forget_tick_text(self.plot, (tuple(self.tokens), rows, steps))
        vb = self.plot.getViewBox()
        vb.setLimits(xMin=STEP_OFFSET, xMax=steps + STEP_OFFSET, yMin=0, yMax=rows)
        vb.setRange(xRange=(STEP_OFFSET, steps + STEP_OFFSET), yRange=(0, rows), padding=0)
        self.set_step(self.step)

    def set_cmap(self, cmap_name: str) -> None:
        self.cmap_name = cmap_name
        self.image.setLookupTable(plotting.lut(cmap_name))

    # Per step: cheap ---------------------------------------------------------------------------
    def set_step(self, step: int) -> None:
        """Move the cursor to column `step` (1..T) and cover the columns after it."""
        self.step = step
        self.cursor.setValue(step)
        self.cursor_halo.setValue(step)
        self.mask.set_start(step + STEP_OFFSET if self.reveal else self.num_steps + STEP_OFFSET)
        # a hidden future keeps its tokens too (else the axis gives away what comes next)
        self.bottom_axis.set_shown_until(step if self.reveal and self.mask.hidden else None)

    def set_future_hidden(self, hidden: bool) -> None:
        """Hide the columns after the step, their tokens too (True), or fade them (False)."""
        self.mask.set_future_hidden(hidden)
        self.set_step(self.step)

    def set_reveal(self, reveal: bool) -> None:
        """Causal models reveal columns up to the step; models that read everything at once show all."""
        self.reveal = reveal
        self.set_step(self.step)

    def set_marked_rows(self, rows: tuple[int, ...]) -> None:
        """Outline the selected rows (units) across the whole time axis."""
        path = QPainterPath()
        for r in rows:
            if 0 <= r < self.rows:
                path.addRect(QRectF(STEP_OFFSET, r, self.num_steps, 1))
        self.row_outline.setPath(path)

    # Mouse ------------------------------------------------------------------------------------
    def contains(self, scene_pos: QPointF) -> bool:
        return self.plot.getViewBox().sceneBoundingRect().contains(scene_pos)

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(row, step) under a scene position, or None outside the image."""
        if not self.contains(scene_pos):
            return None
        p = self.plot.getViewBox().mapSceneToView(scene_pos)
        step, row = int(round(p.x())), int(np.floor(p.y()))
        if 1 <= step <= self.num_steps and 0 <= row < self.rows:
            return row, step
        return None

    def describe(self, row: int, step: int) -> str:
        """Hover text: which cell, which token, the exact value."""
        token = display_token(self.tokens[step - 1]) if step - 1 < len(self.tokens) else ""
        value = float(self.data[row, step - 1])
        name = f"{self.value_name} " if self.value_name else ""
        text = f"{self.row_name} {row}, {self.column_name} {step} '{token}'\n{name}= {value:.5f}"
        lo, hi = self.levels
        if lo < 0 < hi and not lo <= value <= hi:  # a robust range's clipped extreme
            text += f"\nbeyond the colour range \u00b1{hi:.3g}: drawn in its end colour"
        return text

    def text_at(self, scene_pos: QPointF) -> str | None:
        cell = self.cell_at(scene_pos)
        return None if cell is None else self.describe(*cell)

    # Theme ------------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        plotting.style_plot(self.plot, theme)
        self.mask.apply_theme(theme)
        self.apply_strokes(theme)

    def apply_strokes(self, theme: Theme) -> None:
        """The theme's stroke widths for the axes, the cursor and the row outline."""
        plotting.style_strokes(self.plot, theme)
        self.cursor.setPen(plotting.cursor_pen(theme))
        self.cursor_halo.setPen(pg.mkPen(theme.background, width=theme.line_width + CURSOR_HALO_PX))
        pen = plotting.accent_pen(theme)
        pen.setCosmetic(True)
        self.row_outline.setPen(pen)


def colorbar(cmap_name: str, levels: tuple[float, float]) -> plotting.ColorBar:
    """A read-only colour bar (the levels are fixed by the data, not dragged by the user)."""
    return plotting.ColorBar(cmap_name, levels)


def update_colorbar(
    bar: plotting.ColorBar, cmap_name: str, levels: tuple[float, float], scale: ColourScale | None = None
) -> None:
    """New colours and levels; `scale` (a new array's) also says what its range clipped."""
    bar.set_scale(cmap_name, levels)
    if scale is not None:
        bar.set_clipping(scale)


class PlotCanvas(pg.GraphicsLayoutWidget):
    """A grid of plots with shared mouse handling.

    `cellClicked(row, step, toggle)` fires for a left click on any registered heatmap; `toggle` is
    True when Ctrl or Shift is held (`heatmapClicked` also says which heatmap).
    `cellMenuRequested(heatmap, row, step, screen_pos)` fires for a right click on one (panels offer
    their what-if edits there). Hover shows a tooltip from the first source with text; the last text
    is kept in `hover_text` (tests read it). The tooltip stays while the pointer rests (Qt's usual
    10 s), follows the pointer to another cell and goes when it leaves the plots.
    """

    cellClicked = Signal(int, int, bool)
    heatmapClicked = Signal(object, int, int, bool)  # the Heatmap clicked, row, step, toggle
    cellMenuRequested = Signal(object, int, int, object)  # Heatmap, row, step, QPointF on the screen

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.heatmaps: list[Heatmap] = []
        self._hover_sources: list[HoverSource] = []
        self.hover_text = ""
        self._hover_proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=60, slot=self._on_hover)
        self.scene().sigMouseClicked.connect(self._on_click)
        plotting.style_canvas(self)

    def add_heatmap(self, heatmap: Heatmap, row: int | None = None, col: int | None = None, **kw) -> Heatmap:
        """Register `heatmap` for hover and clicks, and place it at (row, col) unless both are None."""
        if row is not None or col is not None:
            self.addItem(heatmap.plot, row, col, **kw)
        self.heatmaps.append(heatmap)
        self._hover_sources.append(heatmap.text_at)
        return heatmap

    def add_hover_source(self, source: HoverSource) -> None:
        self._hover_sources.append(source)

    def _on_hover(self, args: tuple) -> None:
        self.show_hover(args[0])

    def show_hover(self, scene_pos: QPointF, global_pos: QPoint | None = None) -> str:
        """Work out and show the tooltip for a scene position; returns its text ('' for none)."""
        text = next((t for t in (src(scene_pos) for src in self._hover_sources) if t), "")
        # also when the same text was hidden meanwhile (a click, the pointer left the window)
        if text and not (QToolTip.isVisible() and QToolTip.text() == text):
            if global_pos is None:
                global_pos = self.viewport().mapToGlobal(self.mapFromScene(scene_pos))
            QToolTip.showText(global_pos, text, self)
        elif not text and self.hover_text:
            QToolTip.hideText()
        self.hover_text = text
        return text

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        # Qt sends a ToolTip event once the pointer has rested (~0.7 s). QGraphicsView passes it to the
        # scene, which finds no item with a tooltip and hides the one shown on hover: the hover text
        # vanished about a second after it appeared. Answer it with the hover text instead.
        if event.type() != QEvent.Type.ToolTip:
            return super().viewportEvent(event)
        shown = self.show_hover(self.mapToScene(event.pos()), event.globalPos())
        return True if shown else super().viewportEvent(event)

    def _on_click(self, event) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            for heatmap in self.heatmaps:
                cell = heatmap.cell_at(event.scenePos())
                if cell is not None:
                    self.cellMenuRequested.emit(heatmap, cell[0], cell[1], event.screenPos())
                    return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        toggle = bool(
            event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        )
        for heatmap in self.heatmaps:
            cell = heatmap.cell_at(event.scenePos())
            if cell is not None:
                self.cellClicked.emit(cell[0], cell[1], toggle)
                self.heatmapClicked.emit(heatmap, cell[0], cell[1], toggle)
                return

    def apply_theme(self, theme: Theme) -> None:
        plotting.style_canvas(self, theme)
        for heatmap in self.heatmaps:
            heatmap.apply_theme(theme)

    def apply_strokes(self, theme: Theme) -> None:
        for heatmap in self.heatmaps:
            heatmap.apply_strokes(theme)
        self.scene().update()  # colour bars read the widths when they paint
