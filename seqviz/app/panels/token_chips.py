"""The token strip's chips (seqviz.app.panels.tokens): what a chip says, where each chip of a row lies,
and how one is drawn.

    ChipRow          one row of tokens laid out as chips: widths, positions, scrolling, hit-testing
    source_weights   how strongly a sequence-to-sequence trace's source chips are tinted at each step
    ChipPainter      draws chips in the strip's font, palette and accent: blitted from a cache of pixmaps
                     on screen (a rounded, antialiased chip costs far more than a blit), as vectors into a
                     picture (an export or SVG, at the picture's own resolution)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPaintEngine, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from seqviz.core.token_display import display_token, shorten
from seqviz.core.trace import Trace

MAX_LABEL = 14  # characters; longer tokens are elided
PAD_X, GAP, MARGIN = 6, 3, 4  # pixels: text to chip edge, between chips, around a row
MAX_CACHED = 4096  # chips kept drawn (word vocabularies: the cache stays bounded)
UNKNOWN_COLOUR = QColor(214, 39, 40)  # a word the model does not know: its chip's dashed outline

#: a chip's look, or None when it is not drawn: (fill, text colour, mark: "unknown", "generated" or "")
ChipStyle = tuple[QColor, QColor, str] | None


def display_label(token: str) -> str:
    """What a chip shows: the token as every panel shows it (seqviz.core.token_display), long ones elided."""
    return shorten(display_token(token), MAX_LABEL)


def source_weights(trace: Trace) -> np.ndarray | None:
    """(T, S) how strongly each source chip is tinted at each step: the last layer's cross-attention
    averaged over heads, the largest of a step 1. None: no source row, or no cross-attention over it."""
    cross = trace.get("cross_attention") if trace.source_tokens else None
    if cross is None or cross.shape[-1] != len(trace.source_tokens):
        return None
    w = cross[-1].mean(axis=0)  # (T, S): heads averaged, last layer
    w = np.where(np.isfinite(w), w, 0.0)  # a diverged model's NaN and inf tint no chip
    return w / np.maximum(w.max(axis=1, keepdims=True), 1e-12)


class ChipRow:
    """Chip positions of one row of tokens, in content coordinates (before scrolling). `shown`: what each
    chip says when it is not the token itself (an unknown word as typed)."""

    def __init__(self, tokens: list[str], metrics: QFontMetrics, shown: dict[int, str] | None = None) -> None:
        self.tokens = tokens
        self.labels = [display_label(t) for t in tokens]
        for i, text in (shown or {}).items():
            self.labels[i] = display_label(text)
        advance: dict[str, int] = {}
        for label in set(self.labels):
            advance[label] = metrics.horizontalAdvance(label) + 2 * PAD_X
        self.widths = np.fromiter((advance[label] for label in self.labels), np.int64, len(tokens))
        ends = np.cumsum(self.widths + GAP)
        self.starts = ends - self.widths - GAP  # (n,)
        self.ends = self.starts + self.widths  # (n,)
        self.total = int(ends[-1]) if len(tokens) else 0
        self.offset = 0  # pixels scrolled

    def visible(self, width: int) -> range:
        first = int(np.searchsorted(self.ends, self.offset, side="right"))
        last = int(np.searchsorted(self.starts, self.offset + width, side="left"))
        return range(first, min(last, len(self.tokens)))

    def index_at(self, x: int) -> int | None:
        x += self.offset
        i = int(np.searchsorted(self.ends, x, side="right"))
        return i if i < len(self.tokens) and self.starts[i] <= x else None

    def keep_visible(self, i: int, width: int) -> bool:
        """Scroll so chip i is well inside the view (centred when it left it). True if it scrolled."""
        margin = min(width // 8, 80)
        if self.starts[i] >= self.offset + margin and self.ends[i] <= self.offset + width - margin:
            return False
        centre = int(self.starts[i] + self.widths[i] // 2 - width // 2)
        new = max(0, min(centre, self.total - width))
        changed, self.offset = new != self.offset, new
        return changed


class ChipPainter:
    """Draws the chips of `widget` (the strip) in its font and palette, outlines in `accent`. The widget
    clears `cache` when its font or palette changes."""

    def __init__(self, widget: QWidget) -> None:
        self.widget = widget
        self.accent = QColor("#e8590c")
        self.cache: dict[tuple, QPixmap] = {}

    @property
    def height(self) -> int:
        return self.widget.fontMetrics().height() + 10

    def paint_row(
        self, painter: QPainter, row: ChipRow, x0: int, y: int, width: int, style: Callable[[int], ChipStyle]
    ) -> None:
        """The chips of `row` within `width` pixels of view, the row's content starting at `x0` and the
        chips' tops at `y`; `style(i)` gives chip i's look, or None: not drawn."""
        shown = row.visible(width)
        xs = (row.starts[shown.start : shown.stop] + (x0 - row.offset)).tolist()
        widths = row.widths[shown.start : shown.stop].tolist()
        if not self.paints_on_screen(painter):
            # a picture (export, SVG): chips drawn as vectors at the picture's resolution; a chip
            # cached at the screen's ratio would be blown up into blurred blocks
            for i, x, w in zip(shown, xs, widths, strict=True):
                if (chip := style(i)) is not None:
                    painter.save()
                    painter.translate(x, y)
                    self.draw(painter, row.labels[i], w, *chip)
                    painter.restore()
            return
        for i, x, w in zip(shown, xs, widths, strict=True):
            if (chip := style(i)) is not None:
                painter.drawPixmap(x, y, self.pixmap(row.labels[i], w, *chip))

    def paints_on_screen(self, painter: QPainter) -> bool:
        """True if `painter` draws pixels at the screen's ratio, where cached chips are exact.

        `QWidget.render` into a picture hands the paint event a painter whose device transform holds
        the picture's scale (or an SVG engine); the widget's own ratio is still the screen's."""
        if painter.paintEngine().type() != QPaintEngine.Type.Raster:
            return False
        m, ratio = painter.deviceTransform(), self.widget.devicePixelRatioF()
        exact = abs(m.m11() - ratio) < 1e-3 and abs(m.m22() - ratio) < 1e-3
        return exact and m.m12() == 0 and m.m21() == 0  # no rotation or shear

    def pixmap(self, label: str, width: int, fill: QColor, text: QColor, mark: str = "") -> QPixmap:
        """One chip, drawn once and reused: a blit costs far less than an antialiased rounded rect."""
        key = (label, width, fill.rgba(), text.rgba(), mark)
        pixmap = self.cache.get(key)
        if pixmap is not None:
            return pixmap
        if len(self.cache) > MAX_CACHED:
            self.cache.clear()
        dpr = self.widget.devicePixelRatioF()
        pixmap = QPixmap(round(width * dpr), round(self.height * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self.draw(painter, label, width, fill, text, mark)
        painter.end()
        self.cache[key] = pixmap
        return pixmap

    def draw(
        self, painter: QPainter, label: str, width: int, fill: QColor, text: QColor, mark: str = ""
    ) -> None:
        """One chip with its top-left corner at the painter's origin; `mark` outlines an unknown word
        dashed in red and a generated token in the accent colour."""
        height = self.height
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.widget.palette().color(QPalette.ColorRole.Mid), 1)
        if mark == "unknown":
            pen = QPen(UNKNOWN_COLOUR, 1.5, Qt.PenStyle.DashLine)
        elif mark == "generated":
            pen = QPen(self.accent, 1.5)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(0.5, 0.5, width - 1, height - 1), 5, 5)
        painter.setPen(text)
        # the font the chip was measured with (ChipRow): a painter on a pixmap starts with the
        # application's font, which drew presentation chips' text at the ordinary size
        painter.setFont(self.widget.font())
        painter.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, label)
