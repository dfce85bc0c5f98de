"""The three views of the attention panel: the query x key matrix, the layers x heads thumbnails and the
BertViz-style lines from the current token to the tokens it attends to.

Coordinates follow the step axes: query q (0-based) is the row y in [q + 0.5, q + 1.5], key k the
column x in [k + 0.5, k + 1.5], so step t sits at t on both axes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QPainterPath, QPolygonF
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsPathItem, QGraphicsRectItem

from seqviz.app import plotting
from seqviz.app.panels.heatmap import FutureMask
from seqviz.app.plotting import STEP_OFFSET, TokenAxis, display_token
from seqviz.app.theme import Theme, current_theme

MAX_LINE_ROWS = 32  # the lines view shows at most this many tokens per side


def causal_mask_path(num_queries: int, num_keys: int) -> QPainterPath:
    """The staircase region of masked cells (key > query) as one polygon, for any size."""
    path = QPainterPath()
    last = min(num_queries, num_keys - 1)  # rows that have at least one masked key
    if last <= 0:
        return path
    points = [QPointF(1 + STEP_OFFSET, STEP_OFFSET), QPointF(num_keys + STEP_OFFSET, STEP_OFFSET)]
    points.append(QPointF(num_keys + STEP_OFFSET, last + STEP_OFFSET))
    for q in range(last - 1, -1, -1):
        points += [QPointF(q + 1.5, q + 1.5), QPointF(q + 1.5, q + 0.5)]
    path.addPolygon(QPolygonF(points))
    path.closeSubpath()
    return path


class AttentionMatrix:
    """One (T, S) attention matrix: weights as colours, masked cells hatched grey, the query row outlined."""

    def __init__(self) -> None:
        self.x_axis, self.y_axis = TokenAxis("bottom"), TokenAxis("left")
        self.plot = pg.PlotItem(axisItems={"bottom": self.x_axis, "left": self.y_axis}, enableMenu=False)
        self.plot.invertY(True)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "query")
        self.plot.setLabel("bottom", "key")
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.masked_fill, self.masked_hatch = QGraphicsPathItem(), QGraphicsPathItem()
        self.future = FutureMask(vertical=True)
        self.row_marker = QGraphicsRectItem()
        for z, item in enumerate(
            (self.image, self.masked_fill, self.masked_hatch, self.future, self.row_marker)
        ):
            item.setZValue(z)
            self.plot.addItem(item)
        self.weights = np.zeros((1, 1), np.float32)
        self.causal = False
        self.query_tokens: list[str] = []
        self.key_tokens: list[str] = []
        self.step = 1
        self.apply_theme(current_theme())

    def set_data(
        self, weights: np.ndarray, causal: bool, query_tokens: list[str], key_tokens: list[str], name: str
    ) -> None:
        """Upload `weights` (T, S); `causal` masks keys after each query."""
        self.weights = plotting.image_data(weights)
        self.causal = causal
        self.query_tokens, self.key_tokens = query_tokens, key_tokens
        steps, keys = self.weights.shape
        table = plotting.lut(current_theme().sequential_cmap)
        self.image.setImage(self.weights, levels=(0.0, 1.0), lut=table, autoLevels=False)
        self.image.setRect(QRectF(STEP_OFFSET, STEP_OFFSET, keys, steps))
        self.future.set_area(QRectF(STEP_OFFSET, STEP_OFFSET, keys, steps))
        path = causal_mask_path(steps, keys) if causal else QPainterPath()
        self.masked_fill.setPath(path)
        self.masked_hatch.setPath(path)
        self.x_axis.set_tokens(key_tokens)
        self.y_axis.set_tokens(query_tokens)
        self.plot.setTitle(name)
        plotting.forget_tick_text(self.plot)
        vb = self.plot.getViewBox()
        vb.setLimits(xMin=STEP_OFFSET, xMax=keys + STEP_OFFSET, yMin=STEP_OFFSET, yMax=steps + STEP_OFFSET)
        vb.setRange(
            xRange=(STEP_OFFSET, keys + STEP_OFFSET), yRange=(STEP_OFFSET, steps + STEP_OFFSET), padding=0
        )
        self.set_step(self.step)

    def set_step(self, step: int) -> None:
        """Outline query row `step` and cover the rows after it (queries not yet reached)."""
        self.step = step
        steps, keys = self.weights.shape
        self.row_marker.setRect(QRectF(STEP_OFFSET, step - 0.5, keys, 1))
        self.future.set_start(step + STEP_OFFSET)

    def is_masked(self, query: int, key: int) -> bool:
        """Whether cell (query, key) (1-based) is masked out."""
        return self.causal and key > query

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(query step, key position), both 1-based, under a scene position."""
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        query, key = int(round(p.y())), int(round(p.x()))
        steps, keys = self.weights.shape
        return (query, key) if 1 <= query <= steps and 1 <= key <= keys else None

    def text_at(self, scene_pos: QPointF) -> str | None:
        cell = self.cell_at(scene_pos)
        if cell is None:
            return None
        query, key = cell
        q_tok, k_tok = display_token(self.query_tokens[query - 1]), display_token(self.key_tokens[key - 1])
        where = f"query {query} '{q_tok}' \u2192 key {key} '{k_tok}'"
        if self.is_masked(query, key):
            return f"{where}\nmasked: a causal model cannot see later tokens"
        return f"{where}\nweight = {float(self.weights[query - 1, key - 1]):.5f}"

    def apply_theme(self, theme: Theme) -> None:
        plotting.style_plot(self.plot, theme)
        self.masked_fill.setBrush(plotting.color(theme.masked_cell))
        self.masked_fill.setPen(pg.mkPen(None))
        hatch = QBrush(plotting.color(theme.foreground, 90), Qt.BrushStyle.BDiagPattern)
        self.masked_hatch.setBrush(hatch)
        self.masked_hatch.setPen(pg.mkPen(None))
        self.future.setBrush(plotting.color(theme.mask, theme.mask_alpha))
        pen = plotting.accent_pen(theme, 1.5)
        pen.setCosmetic(True)
        self.row_marker.setPen(pen)
        self.image.setLookupTable(plotting.lut(theme.sequential_cmap))


class ThumbnailGrid(pg.GraphicsLayoutWidget):
    """All layers x heads as small matrices; a click selects one (`thumbnailClicked(layer, head)`)."""

    thumbnailClicked = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.boxes: dict[tuple[int, int], pg.ViewBox] = {}
        self.labels: list[pg.LabelItem] = []
        self.images: dict[tuple[int, int], pg.ImageItem] = {}
        self.selected = (0, 0)
        self.scene().sigMouseClicked.connect(self._on_click)
        plotting.style_canvas(self)

    def set_data(self, attention: np.ndarray, causal: bool) -> None:
        """Build one thumbnail per (layer, head) of `attention` (L, heads, T, S)."""
        self.clear()
        self.boxes.clear()
        self.images.clear()
        theme = current_theme()
        layers, heads, steps, keys = attention.shape
        mask = causal_mask_path(steps, keys) if causal else None
        self.labels = [self.addLabel(f"head {h + 1}", row=0, col=h + 1) for h in range(heads)]
        box_options = {"lockAspect": True, "enableMouse": False, "enableMenu": False}
        for layer in range(layers):
            # upright: a rotated label is as tall as its text and pushed short docks off the bottom
            self.labels.append(self.addLabel(f"layer {layer + 1}", row=layer + 1, col=0))
            for h in range(heads):
                vb = self.addViewBox(row=layer + 1, col=h + 1, **box_options)
                vb.invertY(True)
                image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
                image.setImage(
                    plotting.image_data(attention[layer, h]),
                    levels=(0.0, 1.0),
                    lut=plotting.lut(theme.sequential_cmap),
                    autoLevels=False,
                )
                image.setRect(QRectF(STEP_OFFSET, STEP_OFFSET, keys, steps))
                vb.addItem(image)
                if mask is not None:
                    masked = QGraphicsPathItem(mask)
                    masked.setBrush(plotting.color(theme.masked_cell))
                    masked.setPen(pg.mkPen(None))
                    vb.addItem(masked)
                vb.setRange(
                    xRange=(STEP_OFFSET, keys + STEP_OFFSET),
                    yRange=(STEP_OFFSET, steps + STEP_OFFSET),
                    padding=0,
                )
                self.boxes[layer, h], self.images[layer, h] = vb, image
        self.set_selected(*self.selected)
        self._style_labels(theme)

    def _style_labels(self, theme: Theme) -> None:
        for label in self.labels:
            label.setText(label.text, color=theme.foreground, size=f"{theme.font_size - 1}pt")
        self._fit_minimum()

    def preferred_height(self, width: int) -> int:
        """Height that shows square thumbnails (at most 90 px) across `width`, labels included."""
        layers, heads = max((k[0] + 1, k[1] + 1) for k in self.boxes) if self.boxes else (0, 0)
        if not heads:
            return 0
        label_height = self.fontMetrics().height() + 12
        cell = min(90, (width - 3 * label_height) / heads)
        return int(label_height + layers * (cell + 6) + 12)

    def _fit_minimum(self) -> None:
        """Never shorter than the labels need: the thumbnails shrink to fit, nothing is cut off."""
        layout = self.ci.layout
        layout.invalidate()
        needed = layout.effectiveSizeHint(Qt.SizeHint.MinimumSize).height() if self.labels else 0
        self.setMinimumHeight(int(np.ceil(needed)) + 2 * self.frameWidth())

    def set_selected(self, layer: int, head: int) -> None:
        """Draw a thick accent border around the selected thumbnail."""
        self.selected = (layer, head)
        theme = current_theme()
        for key, vb in self.boxes.items():
            chosen = key == self.selected
            vb.setBorder(pg.mkPen(theme.accent if chosen else theme.masked_cell, width=3 if chosen else 1))

    def thumbnail_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        return next(
            (key for key, vb in self.boxes.items() if vb.sceneBoundingRect().contains(scene_pos)), None
        )

    def _on_click(self, event) -> None:
        key = self.thumbnail_at(event.scenePos())
        if key is not None and event.button() == Qt.MouseButton.LeftButton:
            self.thumbnailClicked.emit(*key)

    def apply_theme(self, theme: Theme) -> None:
        plotting.style_canvas(self, theme)
        for image in self.images.values():
            image.setLookupTable(plotting.lut(theme.sequential_cmap))
        self.set_selected(*self.selected)
        self._style_labels(theme)


class AttentionLines(pg.GraphicsLayoutWidget):
    """Queries on the left, keys on the right, a line from the current query to every key it attends to;
    line width and opacity grow with the weight. Long inputs show a window of queries and the keys with
    the largest weights (at most MAX_LINE_ROWS each)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.vb = self.addViewBox(enableMouse=False, enableMenu=False)
        self.vb.invertY(True)
        self.vb.setRange(xRange=(-1.0, 2.0), yRange=(0.0, 1.0), padding=0.02)
        # pools of items, grown on first need and reused on every step
        self.lines: list[QGraphicsLineItem] = []
        self.left_texts: list[pg.TextItem] = []
        self.right_texts: list[pg.TextItem] = []
        self.weights = np.zeros((1, 1), np.float32)
        self.query_tokens: list[str] = []
        self.key_tokens: list[str] = []
        self.shown_keys: list[int] = []  # 0-based key positions on the right, top to bottom
        self.line_weights: dict[int, float] = {}  # key position -> weight of its drawn line
        self.step = 0  # 0: nothing drawn yet
        # how many tokens fit depends on the height: draw again when it changes
        self.vb.sigResized.connect(lambda _vb: self.step and self.set_step(self.step))
        plotting.style_canvas(self)

    def set_data(self, weights: np.ndarray, query_tokens: list[str], key_tokens: list[str]) -> None:
        """`weights` (T, S); nothing is drawn until `set_step`."""
        self.weights = weights
        self.query_tokens, self.key_tokens = query_tokens, key_tokens
        self.step = 0
        self._grow(min(max(weights.shape), MAX_LINE_ROWS))

    def _grow(self, count: int) -> None:
        theme = current_theme()
        while len(self.lines) < count:
            line, left, right = (
                QGraphicsLineItem(),
                pg.TextItem(anchor=(1, 0.5)),
                pg.TextItem(anchor=(0, 0.5)),
            )
            for text in (left, right):
                text.setFont(plotting.font(theme))
            for item in (line, left, right):
                item.setVisible(False)
                self.vb.addItem(item)
            self.lines.append(line)
            self.left_texts.append(left)
            self.right_texts.append(right)

    def max_rows(self) -> int:
        """Tokens per side that fit the view's height without overlapping (at most MAX_LINE_ROWS)."""
        line_px = 1.4 * plotting.font(current_theme()).pointSizeF() * self.logicalDpiY() / 72
        return int(min(MAX_LINE_ROWS, max(4, self.vb.height() // max(line_px, 1))))

    def _query_window(self, query: int, limit: int) -> range:
        steps = self.weights.shape[0]
        if steps <= limit:
            return range(steps)
        start = min(max(query - limit // 2, 0), steps - limit)
        return range(start, start + limit)

    @staticmethod
    def _key_choice(row: np.ndarray, limit: int) -> list[int]:
        if row.size <= limit:
            return list(range(row.size))
        return sorted(np.argpartition(-row, limit - 1)[:limit].tolist())

    def set_step(self, step: int) -> None:
        self.step = step
        theme = current_theme()
        query = step - 1
        row = self.weights[query]  # (S,)
        limit = self.max_rows()
        queries = self._query_window(query, limit)
        self.shown_keys = self._key_choice(row, limit)
        self._place(
            self.left_texts, [self.query_tokens[q] for q in queries], -0.04, theme, queries.index(query)
        )
        self._place(self.right_texts, [self.key_tokens[k] for k in self.shown_keys], 1.04, theme, None)
        y_query = (queries.index(query) + 0.5) / len(queries)
        top = float(row.max()) if row.size else 1.0
        self.line_weights = {}
        for i, line in enumerate(self.lines):
            key = self.shown_keys[i] if i < len(self.shown_keys) else None
            weight = float(row[key]) if key is not None else 0.0
            line.setVisible(weight > 0)
            if weight <= 0:
                continue
            self.line_weights[key] = weight
            pen = pg.mkPen(plotting.color(theme.accent, int(40 + 215 * weight / top)), width=1 + 7 * weight)
            pen.setCosmetic(True)
            line.setPen(pen)
            line.setLine(QLineF(0.0, y_query, 1.0, (i + 0.5) / len(self.shown_keys)))

    @staticmethod
    def _place(
        texts: list[pg.TextItem], tokens: list[str], x: float, theme: Theme, current: int | None
    ) -> None:
        for i, text in enumerate(texts):
            text.setVisible(i < len(tokens))
            if i >= len(tokens):
                continue
            label = display_token(tokens[i])
            colour = theme.accent if i == current else theme.foreground
            if text.toPlainText() != label or text.color.name() != plotting.color(colour).name():
                text.setText(label, colour)
            text.setPos(x, (i + 0.5) / len(tokens))

    def apply_theme(self, theme: Theme) -> None:
        plotting.style_canvas(self, theme)
        for text in (*self.left_texts, *self.right_texts):
            text.setFont(plotting.font(theme))
