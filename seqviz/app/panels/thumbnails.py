"""The attention panel's layers x heads thumbnails: every head's matrix small, a click selects one.

The whole grid is drawn in ONE ViewBox, made once and never destroyed: a ViewBox per thumbnail,
rebuilt on every new trace, sometimes crashed inside pyqtgraph's ViewBox.itemChange (pyqtgraph
issue #3357 with PySide6 >= 6.9.2). Thumbnails, labels, outlines and masks are plain items in that
view; a new array of the same (layers, heads) only swaps the images.

View coordinates: a thumbnail's longer side is 1 unit, its shorter one keeps the matrix's aspect,
GAP units lie between thumbnails. Labels are drawn at a fixed pixel size, so the view's range is
set from its pixel size: room for the label column and row, the grid as large as fits.

Labels read "head 1" and "layer 1" when they fit, else "H1" and "L1": presentation fonts made the
long labels wider than a narrow dock, and the last column was cut off.

Long inputs: a thumbnail is a few dozen pixels, so each matrix is reduced once per array to at most
THUMBNAIL_CELLS x THUMBNAIL_CELLS blocks (`block_max`), and the images never hold the full (T, S)
weights: 144 heads at T = 1,000 are 576 MB that pyqtgraph would otherwise downsample again at every
resize or theme change. A block shows its largest weight, so a thin pattern (a diagonal, a
previous-token head) stays visible at a tenth of its size instead of averaging away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QPainterPath, QTransform
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem

from seqviz.app.panels import plotting
from seqviz.app.panels.attention_views import causal_mask_path
from seqviz.app.panels.plotting import STEP_OFFSET
from seqviz.app.window.theme import Theme, current_theme

LABEL_FORMS = {False: ("head {}", "layer {}"), True: ("H{}", "L{}")}  # short? -> (head, layer)
GAP = 0.16  # view units between thumbnails (a thumbnail's longer side is 1)
FRAME = 0.05  # outlines sit this far outside a thumbnail, so a thick highlight hides no cell
LABEL_MARGIN_PX = 2  # around a label's text (TextItem's default of 4 wasted room in small docks)
EDGE_PX = 2  # kept free at the view's edges, so no label touches them
MIN_CELL_PX = 12  # a thumbnail's shorter side at the grid's minimum size
MAX_PREFERRED_PX = 90  # a thumbnail's longer side at the preferred height
THUMBNAIL_CELLS = 128  # the most rows / columns a thumbnail image keeps (longer matrices are reduced)


def block_max(weights: np.ndarray, cells: int = THUMBNAIL_CELLS) -> np.ndarray:
    """(T, S) -> (ceil(T / b), ceil(S / c)) with b = ceil(T / cells), c = ceil(S / cells): the largest
    entry of each b x c block (the last blocks may be smaller). Matrices within `cells` are returned
    as they are. One matrix at a time (cache-sized: ~3x faster than a whole (L, heads, T, S) stack),
    rows first (whole contiguous rows), then the columns of the much smaller result."""
    steps, keys = weights.shape
    if steps <= cells and keys <= cells:
        return weights
    size = -(-steps // cells)
    whole = steps // size
    rows = np.empty((-(-steps // size), keys), weights.dtype)  # (T', S)
    rows[:whole] = weights[: whole * size].reshape(whole, size, keys).max(axis=1)
    if whole < rows.shape[0]:
        rows[whole] = weights[whole * size :].max(axis=0)
    size = -(-keys // cells)
    out = rows[:, ::size].copy()  # (T', S'): column j * size of each block, then the others
    for offset in range(1, size):
        part = rows[:, offset::size]  # the last block may lack this column
        np.maximum(out[:, : part.shape[1]], part, out=out[:, : part.shape[1]])
    return out


@dataclass(frozen=True)
class GridShape:
    """Where each of `layers` x `heads` thumbnails of (steps, keys) matrices lies, in view units."""

    layers: int
    heads: int
    steps: int
    keys: int

    @property
    def cell(self) -> tuple[float, float]:
        """(width, height) of one thumbnail: the matrix's aspect, longer side 1."""
        longest = max(self.steps, self.keys, 1)
        return self.keys / longest, self.steps / longest

    @property
    def pitch(self) -> tuple[float, float]:
        width, height = self.cell
        return width + GAP, height + GAP

    @property
    def size(self) -> tuple[float, float]:
        """The grid's (width, height), half a gap around the outer thumbnails included."""
        return self.heads * self.pitch[0], self.layers * self.pitch[1]

    def rect(self, layer: int, head: int) -> QRectF:
        width, height = self.cell
        return QRectF(head * self.pitch[0], layer * self.pitch[1], width, height)

    def cell_at(self, point: QPointF) -> tuple[int, int] | None:
        """(layer, head) whose thumbnail or surrounding gap holds `point`, if any."""
        head = int(np.floor((point.x() + GAP / 2) / self.pitch[0]))
        layer = int(np.floor((point.y() + GAP / 2) / self.pitch[1]))
        return (layer, head) if 0 <= layer < self.layers and 0 <= head < self.heads else None


@dataclass(frozen=True)
class LabelSizes:
    """Pixel sizes of one label form: the layer column's width, the head row's height, and the
    widest head / tallest layer label (they must fit their column / row)."""

    column: float
    header: float
    head_width: float
    layer_height: float


def grid_scale(shape: GridShape, labels: LabelSizes, width: float, height: float) -> float:
    """Pixels per view unit that fit the grid and its labels into `width` x `height` pixels."""
    grid_w, grid_h = shape.size
    room_w = width - labels.column - 2 * EDGE_PX
    room_h = height - labels.header - 2 * EDGE_PX
    return max(min(room_w / grid_w, room_h / grid_h), 1e-6)


def labels_fit(shape: GridShape, labels: LabelSizes, scale: float) -> bool:
    """Whether each head label fits its column and each layer label its row at `scale`."""
    pitch_w, pitch_h = shape.pitch
    return labels.head_width <= scale * pitch_w and labels.layer_height <= scale * pitch_h


class ThumbnailGrid(pg.GraphicsLayoutWidget):
    """All layers x heads as small matrices; a click selects one (`thumbnailClicked(layer, head)`)."""

    thumbnailClicked = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.ci.setContentsMargins(0, 0, 0, 0)
        self.view = self.addViewBox(row=0, col=0, lockAspect=True, enableMouse=False, enableMenu=False)
        self.view.invertY(True)
        self.view.disableAutoRange()
        self.shape = GridShape(0, 0, 1, 1)
        self.images: dict[tuple[int, int], pg.ImageItem] = {}
        self.head_labels: list[pg.TextItem] = []
        self.layer_labels: list[pg.TextItem] = []
        self.masks = QGraphicsPathItem()  # the causal staircases of all thumbnails, one path
        self.future = QGraphicsPathItem()  # with the future hidden: the rows after the step, one path
        self.outlines = QGraphicsPathItem()  # a thin frame around every thumbnail
        self.highlight = QGraphicsRectItem()  # the thick frame around the selected one
        for z, item in enumerate((self.masks, self.future, self.outlines, self.highlight), start=1):
            item.setZValue(z)
            self.view.addItem(item)
        for cover in (self.masks, self.future):
            cover.setPen(pg.mkPen(None))
        self.masks.setBrush(plotting.color(current_theme().masked_cell))
        self.future.setBrush(plotting.color(current_theme().background))
        self.future.setVisible(False)
        self.future_hidden = False
        self.step = 1
        self.selected = (0, 0)
        self.short_labels = False
        self._sizes = {False: LabelSizes(0, 0, 0, 0), True: LabelSizes(0, 0, 0, 0)}
        self.view.sigResized.connect(self._arrange)
        self.scene().sigMouseClicked.connect(self._on_click)
        plotting.style_canvas(self)

    @property
    def labels(self) -> list[pg.TextItem]:
        return self.head_labels + self.layer_labels

    # data -------------------------------------------------------------------------------------------
    def set_data(self, attention: np.ndarray, causal: bool) -> None:
        """Show one thumbnail per (layer, head) of `attention` (L, heads, T, S), long ones reduced
        (`block_max`); items are made anew only when (L, heads) changes, otherwise the images are
        swapped."""
        layers, heads, steps, keys = attention.shape
        if (layers, heads) != (self.shape.layers, self.shape.heads):
            self._make_items(layers, heads)
        self.shape = GridShape(layers, heads, steps, keys)
        table = plotting.lut(current_theme().sequential_cmap)
        for (layer, head), image in self.images.items():
            weights = plotting.image_data(block_max(attention[layer, head]))  # (<= 128, <= 128)
            image.setImage(weights, levels=(0.0, 1.0), lut=table, autoLevels=False)
            image.setRect(self.shape.rect(layer, head))
        self.masks.setPath(self._mask_path() if causal else QPainterPath())
        self.outlines.setPath(self._outline_path())
        self.set_step(self.step)
        self.set_selected(*self.selected)
        self._style_labels(current_theme())

    def _make_items(self, layers: int, heads: int) -> None:
        for item in [*self.images.values(), *self.labels]:
            self.view.removeItem(item)
        self.images = {}
        for layer in range(layers):
            for head in range(heads):
                image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
                self.view.addItem(image)
                self.images[layer, head] = image
        self.head_labels = [self._new_label((0.5, 1.0)) for _ in range(heads)]
        # upright: a rotated label is as tall as its text and pushed short docks off the bottom
        self.layer_labels = [self._new_label((1.0, 0.5)) for _ in range(layers)]

    def _new_label(self, anchor: tuple[float, float]) -> pg.TextItem:
        label = pg.TextItem(anchor=anchor)
        label.textItem.document().setDocumentMargin(LABEL_MARGIN_PX)
        self.view.addItem(label)
        return label

    def _mask_path(self) -> QPainterPath:
        """Every thumbnail's masked cells (key > query), in view units."""
        shape = self.shape
        single = causal_mask_path(shape.steps, shape.keys)  # in step units, from STEP_OFFSET
        path = QPainterPath()
        for layer, head in self.images:
            rect = shape.rect(layer, head)
            to_cell = QTransform.fromTranslate(-STEP_OFFSET, -STEP_OFFSET) * QTransform.fromScale(
                rect.width() / shape.keys, rect.height() / shape.steps
            )
            path.addPath((to_cell * QTransform.fromTranslate(rect.x(), rect.y())).map(single))
        return path

    def set_step(self, step: int) -> None:
        """The query row `step`: with the future hidden, every thumbnail's rows after it are covered
        in the background colour, as the selected head's matrix is (a thumbnail gave away what the
        later queries attend to). A reduced thumbnail (`block_max`) is covered from the step's place
        in it, so a block straddling the step may still show a later row's largest weight."""
        self.step = step
        if not self.future_hidden:
            return  # faded futures are the matrix's: the thumbnails show every row
        shape, path = self.shape, QPainterPath()
        shown = min(max(step, 0), shape.steps) / max(shape.steps, 1)  # the revealed fraction
        for layer, head in self.images:
            rect = shape.rect(layer, head)
            path.addRect(rect.adjusted(0, rect.height() * shown, 0, 0))
        self.future.setPath(path)

    def set_future_hidden(self, hidden: bool) -> None:
        """View › Hide the future: cover the rows after the step (True) or show them (False)."""
        self.future_hidden = hidden
        self.future.setVisible(hidden)
        self.set_step(self.step)

    def _outline_path(self) -> QPainterPath:
        path = QPainterPath()
        for layer, head in self.images:
            path.addRect(self.shape.rect(layer, head).adjusted(-FRAME, -FRAME, FRAME, FRAME))
        return path

    # labels and size --------------------------------------------------------------------------------
    def _write_labels(self, short: bool) -> None:
        self.short_labels = short
        head_form, layer_form = LABEL_FORMS[short]
        for number, label in enumerate(self.head_labels, start=1):
            label.setText(head_form.format(number))
        for number, label in enumerate(self.layer_labels, start=1):
            label.setText(layer_form.format(number))

    def _measure_labels(self) -> LabelSizes:
        heads = [label.textItem.boundingRect() for label in self.head_labels]
        layers = [label.textItem.boundingRect() for label in self.layer_labels]
        return LabelSizes(
            column=max((r.width() for r in layers), default=0),
            header=max((r.height() for r in heads), default=0),
            head_width=max((r.width() for r in heads), default=0),
            layer_height=max((r.height() for r in layers), default=0),
        )

    def _style_labels(self, theme: Theme) -> None:
        """Fonts and colours; measure both label forms; the minimum size is the short form's with
        small thumbnails, so the grid shrinks to fit and nothing is cut off."""
        font = QFont(self.font())
        font.setPointSizeF(theme.font_size - 1)
        for label in self.labels:
            label.setFont(font)
            label.setColor(theme.foreground)
        for short in (False, True):
            self._write_labels(short)
            self._sizes[short] = self._measure_labels()
        self._update_minimum_size()
        self._arrange()

    def _update_minimum_size(self) -> None:
        if not self.images:
            self.setMinimumSize(0, 0)
            return
        shape, short = self.shape, self._sizes[True]
        cell_w, cell_h = shape.cell
        pitch_w, pitch_h = shape.pitch
        scale = max(
            MIN_CELL_PX / min(cell_w, cell_h), short.head_width / pitch_w, short.layer_height / pitch_h
        )
        grid_w, grid_h = shape.size
        frame = 2 * self.frameWidth()
        width = short.column + scale * grid_w + 2 * EDGE_PX + frame
        height = short.header + scale * grid_h + 2 * EDGE_PX + frame
        self.setMinimumSize(int(np.ceil(width)), int(np.ceil(height)))

    def _choose_labels(self, width: float, height: float) -> bool:
        """Short labels? Long ones when they fit the thumbnails they label."""
        long = self._sizes[False]
        return not labels_fit(self.shape, long, grid_scale(self.shape, long, width, height))

    def _arrange(self, *_args) -> None:
        """Place the labels and set the view's range for its current pixel size."""
        width, height = self.view.width(), self.view.height()
        if not self.images or width <= 0 or height <= 0:
            return
        short = self._choose_labels(width, height)
        if short != self.short_labels:
            self._write_labels(short)
        sizes = self._sizes[short]
        scale = grid_scale(self.shape, sizes, width, height)
        pitch_w, pitch_h = self.shape.pitch
        cell_w, cell_h = self.shape.cell
        for head, label in enumerate(self.head_labels):
            label.setPos(head * pitch_w + cell_w / 2, -GAP / 2)
        for layer, label in enumerate(self.layer_labels):
            label.setPos(-GAP / 2, layer * pitch_h + cell_h / 2)
        grid_w, grid_h = self.shape.size
        edge = EDGE_PX / scale
        left, top = -GAP / 2 - sizes.column / scale - edge, -GAP / 2 - sizes.header / scale - edge
        right, bottom = grid_w - GAP / 2 + edge, grid_h - GAP / 2 + edge
        # the aspect lock widens the shorter side evenly, which centres the grid
        self.view.setRange(QRectF(left, top, right - left, bottom - top), padding=0)

    def preferred_height(self, width: int) -> int:
        """Height that shows the thumbnails (longer side at most 90 px) across `width`, labels
        included."""
        if not self.images:
            return 0
        tall = 10 * width  # height without limit: the width (or 90 px) decides the thumbnails' size
        sizes = self._sizes[self._choose_labels(width, tall)]
        scale = min(MAX_PREFERRED_PX, grid_scale(self.shape, sizes, width, tall))
        grid_h = self.shape.size[1]
        return int(np.ceil(sizes.header + scale * grid_h + 2 * EDGE_PX + 2 * self.frameWidth()))

    # selection --------------------------------------------------------------------------------------
    def set_selected(self, layer: int, head: int | None) -> None:
        """Draw a thick accent frame around the selected thumbnail (head None: the layer's row, whose
        heads' mean is shown)."""
        self.selected = (layer, head)
        theme = current_theme()
        self.outlines.setPen(pg.mkPen(theme.masked_cell, width=theme.outline_width))
        self.highlight.setPen(pg.mkPen(theme.accent, width=theme.highlight_width))
        first, last = (0, self.shape.heads - 1) if head is None else (head, head)
        self.highlight.setVisible((layer, first) in self.images)
        rect = self.shape.rect(layer, first).united(self.shape.rect(layer, last))
        self.highlight.setRect(rect.adjusted(-FRAME, -FRAME, FRAME, FRAME))

    def cell_rect(self, layer: int, head: int) -> QRectF:
        """The thumbnail of (layer, head) in view coordinates."""
        return self.shape.rect(layer, head)

    def thumbnail_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if not self.images or not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        return self.shape.cell_at(self.view.mapSceneToView(scene_pos))

    def _on_click(self, event) -> None:
        key = self.thumbnail_at(event.scenePos())
        if key is not None and event.button() == Qt.MouseButton.LeftButton:
            self.thumbnailClicked.emit(*key)

    # theme ------------------------------------------------------------------------------------------
    def apply_strokes(self, theme: Theme) -> None:
        """The frames in the theme's stroke widths (`set_selected` reads the current theme)."""
        self.set_selected(*self.selected)

    def apply_theme(self, theme: Theme) -> None:
        plotting.style_canvas(self, theme)
        for image in self.images.values():
            image.setLookupTable(plotting.lut(theme.sequential_cmap))
        self.masks.setBrush(plotting.color(theme.masked_cell))
        self.future.setBrush(plotting.color(theme.background))
        self.set_selected(*self.selected)
        self._style_labels(theme)
