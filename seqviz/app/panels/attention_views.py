"""The three views of the attention panel: the query x key matrix, the layers x heads thumbnails and the
BertViz-style lines from the current token to the tokens it attends to.

Coordinates follow the step axes: query q (0-based) is the row y in [q + 0.5, q + 1.5], key k the
column x in [k + 0.5, k + 1.5], so step t sits at t on both axes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFontMetricsF, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsPathItem, QGraphicsRectItem

from seqviz.app.panels import attention_logic, plotting, token_matrix
from seqviz.app.panels.heatmap import FutureMask
from seqviz.app.panels.plotting import STEP_OFFSET, display_token
from seqviz.app.window.theme import Theme, current_theme
from seqviz.core.token_display import shorten

MAX_LINE_ROWS = 32  # the lines view shows at most this many tokens per side
MIN_LINE_PX = 48  # the lines view's labels are shortened to leave the lines at least this wide
#: (characters of a token, with positions and weights?), tried in order until the labels leave room
#: for the lines: numbers go last, when even 4 characters of each token leave none
LINE_LABEL_FORMS = ((None, True), (8, True), (6, True), (4, True), (8, False), (4, False))
LABEL_PAD_PX = 10  # a TextItem's document margins (4 px a side) and a gap to the view's edge


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
        self.plot, self.x_axis, self.y_axis = plotting.token_matrix_plot("query", "key")
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
        self,
        weights: np.ndarray,
        causal: bool,
        query_tokens: list[str],
        key_tokens: list[str],
        name: str | tuple[str, str],
    ) -> None:
        """Upload `weights` (T, S); `causal` masks keys after each query. `name`: the title, or (the
        title, a short one for a narrow plot)."""
        self.weights = plotting.image_data(weights)
        self.causal = causal
        self.query_tokens, self.key_tokens = query_tokens, key_tokens
        steps, keys = self.weights.shape
        table = plotting.lut(current_theme().sequential_cmap)
        self.image.setImage(self.weights, levels=(0.0, 1.0), lut=table, autoLevels=False)
        self.image.setRect(token_matrix.cells_rect(steps, keys))
        self.future.set_area(token_matrix.cells_rect(steps, keys))
        path = causal_mask_path(steps, keys) if causal else QPainterPath()
        self.masked_fill.setPath(path)
        self.masked_hatch.setPath(path)
        self.x_axis.set_tokens(key_tokens)
        self.y_axis.set_tokens(query_tokens)
        plotting.set_title(self.plot, *((name,) if isinstance(name, str) else name))
        token_matrix.fit_view(self.plot, steps, keys)
        self.set_step(self.step)

    def set_step(self, step: int) -> None:
        """Outline query row `step` and cover the rows after it (queries not yet reached)."""
        self.step = step
        steps, keys = self.weights.shape
        self.row_marker.setRect(QRectF(STEP_OFFSET, step - 0.5, keys, 1))
        self.future.set_start(step + STEP_OFFSET)
        # no token of the hidden future: later queries, and the keys a causal row cannot see
        hidden = self.future.hidden
        self.y_axis.set_shown_until(step if hidden else None)
        self.x_axis.set_shown_until(step if hidden and self.causal else None)

    def set_future_hidden(self, hidden: bool) -> None:
        """Hide the rows after the query (and their tokens) instead of fading them."""
        self.future.set_future_hidden(hidden)
        self.set_step(self.step)

    def is_masked(self, query: int, key: int) -> bool:
        """Whether cell (query, key) (1-based) is masked out."""
        return self.causal and key > query

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(query step, key position), both 1-based, under a scene position."""
        return token_matrix.cell_at(self.plot, scene_pos, *self.weights.shape)

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
        self.future.apply_theme(theme)
        self.image.setLookupTable(plotting.lut(theme.sequential_cmap))
        self.apply_strokes(theme)

    def apply_strokes(self, theme: Theme) -> None:
        """The theme's stroke widths for the axes and the current query's row marker."""
        plotting.style_strokes(self.plot, theme)
        self.row_marker.setPen(plotting.row_marker_pen(theme))


class AttentionLines(pg.GraphicsLayoutWidget):
    """Queries on the left, keys on the right, a line from the current query to every key it attends to;
    line width and opacity grow with the weight. Labels give each token's position, and each key's
    weight. Long inputs show a window of queries and the keys with the largest weights (at most
    MAX_LINE_ROWS each), and a note under the lines says how many keys are left out; a causal query's
    masked keys are not among its keys. With the future hidden, later queries have no label."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.vb = self.addViewBox(enableMouse=False, enableMenu=False)
        self.vb.invertY(True)
        self.vb.setRange(xRange=(-1.0, 2.0), yRange=(0.0, 1.0), padding=0.02)
        self.vb.setXRange(-1.0, 2.0, padding=0)
        # "the 12 largest of 300 keys", in a band under the lines (a row of the layout took the lines'
        # room in a short dock); not shown when every key is, or when the view has no room for it
        self.note = pg.TextItem(anchor=(0.5, 1))
        self.note.setFont(plotting.font(current_theme(), 0.85))
        self.note.setVisible(False)
        self.vb.addItem(self.note)
        self._y_range = (0.0, 1.0)
        # pools of items, grown on first need and reused on every step
        self.lines: list[QGraphicsLineItem] = []
        self.left_texts: list[pg.TextItem] = []
        self.right_texts: list[pg.TextItem] = []
        self.weights = np.zeros((1, 1), np.float32)
        self.masked = False  # causal self-attention: keys after the query are not seen
        self.future_hidden = False
        self.query_tokens: list[str] = []
        self.key_tokens: list[str] = []
        self.shown_queries: range = range(0)  # 0-based query positions on the left, top to bottom
        self.shown_keys: list[int] = []  # 0-based key positions on the right, top to bottom
        self.line_weights: dict[int, float] = {}  # key position -> weight of its drawn line
        self._line_strengths: dict[int, tuple[float, float]] = {}  # line -> (weight, row's largest)
        self.step = 0  # 0: nothing drawn yet
        self._x_range = (-1.0, 2.0)
        # how many tokens fit depends on the height: draw again when it changes
        self.vb.sigResized.connect(lambda _vb: self.step and self.set_step(self.step))
        plotting.style_canvas(self)

    def set_data(
        self, weights: np.ndarray, query_tokens: list[str], key_tokens: list[str], masked: bool = False
    ) -> None:
        """`weights` (T, S); nothing is drawn until `set_step`."""
        self.weights, self.masked = weights, masked
        self.query_tokens, self.key_tokens = query_tokens, key_tokens
        self.step = 0
        self._grow(min(max(weights.shape), MAX_LINE_ROWS))

    def set_future_hidden(self, hidden: bool) -> None:
        self.future_hidden = hidden
        if self.step:
            self.set_step(self.step)

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

    def max_rows(self, height: float | None = None) -> int:
        """Tokens per side that fit `height` pixels (the view's) without overlapping (at most
        MAX_LINE_ROWS)."""
        height = self.vb.height() if height is None else height
        line_px = 1.4 * plotting.font(current_theme()).pointSizeF() * self.logicalDpiY() / 72
        return int(min(MAX_LINE_ROWS, max(4, height // max(line_px, 1))))

    @property
    def note_text(self) -> str:
        """The note under the lines ("" when none is shown)."""
        return self.note.toPlainText() if self.note.isVisible() else ""

    def set_step(self, step: int) -> None:
        self.step = step
        theme = current_theme()
        query = step - 1
        row = self.weights[query]  # (S,)
        steps, height = self.weights.shape[0], self.vb.height()
        content = attention_logic.lines_content(row, query, steps, self.max_rows(), self.masked)
        band = QFontMetricsF(plotting.font(theme, 0.85)).height() + LABEL_PAD_PX
        band = band if content.note and height >= 4 * band else 0.0  # room for the note under the lines?
        if band:
            content = attention_logic.lines_content(
                row, query, steps, self.max_rows(height - band), self.masked
            )
        self.shown_queries, self.shown_keys = content.queries, content.keys
        left, right = self._fit_labels(content, query, theme)
        self._place(self.left_texts, left, 0.0, theme, content.queries.index(query))
        self._place(self.right_texts, right, 1.0, theme, None)
        self._show_note(content.note if band else "", band / max(height - band, 1.0), theme)
        y_query = (content.queries.index(query) + 0.5) / len(content.queries)
        top = plotting.finite_span(row, (0.0, 1.0))[1] or 1.0  # NaN weights (a diverged model): no line
        self.line_weights, self._line_strengths = {}, {}
        for i, line in enumerate(self.lines):
            key = self.shown_keys[i] if i < len(self.shown_keys) else None
            weight = float(row[key]) if key is not None else 0.0
            weight = weight if np.isfinite(weight) else 0.0
            line.setVisible(weight > 0)
            if weight <= 0:
                continue
            self.line_weights[key] = weight
            self._line_strengths[i] = (weight, top)
            line.setPen(self._line_pen(theme, weight, top))
            line.setLine(QLineF(0.0, y_query, 1.0, (i + 0.5) / len(self.shown_keys)))

    def _show_note(self, text: str, band: float, theme: Theme) -> None:
        """`text` centred in a band of `band` view units under the rows (y 0..1); none when empty."""
        y_range = (0.0, 1.0 + band)
        if y_range != self._y_range:
            self._y_range = y_range
            self.vb.setYRange(*y_range, padding=0.02)
        metrics = QFontMetricsF(plotting.font(theme, 0.85))
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(self.vb.width() - LABEL_PAD_PX, 0))
        self.note.setVisible(bool(text) and text != "\u2026")
        if self.note.toPlainText() != text:
            self.note.setText(text, theme.foreground)
        self.note.setPos(sum(self._x_range) / 2, 1.0 + band)

    @staticmethod
    def _line_pen(theme: Theme, weight: float, top: float) -> QPen:
        """Wider and more opaque for a larger `weight` (in [0, 1]; `top` the row's largest)."""
        width = theme.outline_width + (theme.link_width - theme.outline_width) * weight
        pen = pg.mkPen(plotting.color(theme.accent, int(40 + 215 * weight / top)), width=width)
        pen.setCosmetic(True)
        return pen

    def apply_strokes(self, theme: Theme) -> None:
        """The shown lines in the theme's stroke widths."""
        for i, (weight, top) in self._line_strengths.items():
            self.lines[i].setPen(self._line_pen(theme, weight, top))

    def _labels(self, content, query: int, chars: int | None, numbers: bool) -> tuple[list[str], list[str]]:
        """The left and right labels, tokens shortened to `chars`, with positions and weights when
        `numbers`; none for the hidden future."""

        def token(t: str) -> str:
            return shorten(display_token(t), chars) if chars else display_token(t)

        left = [
            ""
            if self.future_hidden and q > query
            else attention_logic.query_label(q + 1, self.query_tokens[q], chars)
            if numbers
            else token(self.query_tokens[q])
            for q in content.queries
        ]
        right = [
            attention_logic.key_label(k + 1, self.key_tokens[k], w, chars)
            if numbers
            else token(self.key_tokens[k])
            for k, w in zip(content.keys, content.weights, strict=True)
        ]
        return left, right

    def _fit_labels(self, content, query: int, theme: Theme) -> tuple[list[str], list[str]]:
        """The labels, their tokens shortened as far as needed to leave MIN_LINE_PX for the lines, and
        the x range that puts the lines between x = 0 and 1 with each side's widest label just inside
        the view (a fixed range cut long words off at narrow views and in presentation fonts)."""
        metrics = QFontMetricsF(plotting.font(theme))
        view = max(self.vb.width(), 1.0)

        def widest(labels: list[str]) -> float:
            return max((metrics.horizontalAdvance(t) for t in labels), default=0.0) + LABEL_PAD_PX

        for chars, numbers in LINE_LABEL_FORMS:
            left, right = self._labels(content, query, chars, numbers)
            left_px, right_px = widest(left), widest(right)
            if view - left_px - right_px >= MIN_LINE_PX:
                break
        span = max(view - left_px - right_px, 1.0)  # pixels of the unit interval the lines cross
        x_range = (-left_px / span, 1.0 + right_px / span)
        if x_range != self._x_range:
            self._x_range = x_range
            self.vb.setXRange(*x_range, padding=0)
        return left, right

    @staticmethod
    def _place(
        texts: list[pg.TextItem], labels: list[str], x: float, theme: Theme, current: int | None
    ) -> None:
        for i, text in enumerate(texts):
            text.setVisible(i < len(labels))
            if i >= len(labels):
                continue
            label = labels[i]
            colour = theme.accent if i == current else theme.foreground
            if text.toPlainText() != label or text.color.name() != plotting.color(colour).name():
                text.setText(label, colour)
            text.setPos(x, (i + 0.5) / len(labels))

    def apply_theme(self, theme: Theme) -> None:
        plotting.style_canvas(self, theme)
        for text in (*self.left_texts, *self.right_texts):
            text.setFont(plotting.font(theme))
        self.note.setFont(plotting.font(theme, 0.85))
        self.note.setColor(theme.foreground)
