"""The attention panel's layers x heads thumbnails: every head's matrix small, a click selects one.

Labels read "head 1" and "layer 1" when the grid is wide enough, else "H1" and "L1": presentation
fonts made the long labels wider than a narrow dock, and the last column was cut off.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsPathItem

from seqviz.app import plotting
from seqviz.app.panels.attention_views import causal_mask_path
from seqviz.app.plotting import STEP_OFFSET
from seqviz.app.theme import Theme, current_theme

LABEL_FORMS = {False: ("head {}", "layer {}"), True: ("H{}", "L{}")}  # short? -> (head, layer)


class ThumbnailGrid(pg.GraphicsLayoutWidget):
    """All layers x heads as small matrices; a click selects one (`thumbnailClicked(layer, head)`)."""

    thumbnailClicked = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.boxes: dict[tuple[int, int], pg.ViewBox] = {}
        self.labels: list[pg.LabelItem] = []
        self._label_kinds: list[tuple[int, int]] = []  # per label: (0 head / 1 layer, number)
        self.images: dict[tuple[int, int], pg.ImageItem] = {}
        self.selected = (0, 0)
        self.short_labels = False
        self._long_width = 0  # the grid's minimum width with long labels (pixels)
        self.scene().sigMouseClicked.connect(self._on_click)
        plotting.style_canvas(self)

    def set_data(self, attention: np.ndarray, causal: bool) -> None:
        """Build one thumbnail per (layer, head) of `attention` (L, heads, T, S)."""
        self.clear()
        self.boxes.clear()
        self.images.clear()
        self.labels, self._label_kinds = [], []
        layers, heads, steps, keys = attention.shape
        for h in range(heads):
            self._add_label(0, h + 1, row=0, col=h + 1)
        for layer in range(layers):
            # upright: a rotated label is as tall as its text and pushed short docks off the bottom
            self._add_label(1, layer + 1, row=layer + 1, col=0)
            for h in range(heads):
                self._add_thumbnail(attention[layer, h], causal, layer, h)
        self.set_selected(*self.selected)
        self._style_labels(current_theme())

    def _add_label(self, kind: int, number: int, row: int, col: int) -> None:
        self.labels.append(
            self.addLabel(LABEL_FORMS[self.short_labels][kind].format(number), row=row, col=col)
        )
        self._label_kinds.append((kind, number))

    def _add_thumbnail(self, weights: np.ndarray, causal: bool, layer: int, head: int) -> None:
        """One head's (T, S) weights in a square-celled box."""
        theme = current_theme()
        steps, keys = weights.shape
        vb = self.addViewBox(
            row=layer + 1, col=head + 1, lockAspect=True, enableMouse=False, enableMenu=False
        )
        vb.invertY(True)
        image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        image.setImage(
            plotting.image_data(weights),
            levels=(0.0, 1.0),
            lut=plotting.lut(theme.sequential_cmap),
            autoLevels=False,
        )
        image.setRect(QRectF(STEP_OFFSET, STEP_OFFSET, keys, steps))
        vb.addItem(image)
        if causal:
            masked = QGraphicsPathItem(causal_mask_path(steps, keys))
            masked.setBrush(plotting.color(theme.masked_cell))
            masked.setPen(pg.mkPen(None))
            vb.addItem(masked)
        vb.setRange(
            xRange=(STEP_OFFSET, keys + STEP_OFFSET), yRange=(STEP_OFFSET, steps + STEP_OFFSET), padding=0
        )
        self.boxes[layer, head], self.images[layer, head] = vb, image

    # labels and size -------------------------------------------------------------------------------
    def _write_labels(self, short: bool, theme: Theme) -> None:
        self.short_labels = short
        for label, (kind, number) in zip(self.labels, self._label_kinds, strict=True):
            text = LABEL_FORMS[short][kind].format(number)
            label.setText(text, color=theme.foreground, size=f"{theme.font_size - 1}pt")

    def _minimum_layout_size(self):
        layout = self.ci.layout
        layout.invalidate()
        return layout.effectiveSizeHint(Qt.SizeHint.MinimumSize)

    def _style_labels(self, theme: Theme) -> None:
        """Measure the grid with long and short labels; the minimum size is the short one's, so the
        thumbnails shrink to fit and nothing is cut off; long labels are shown when they fit."""
        frame = 2 * self.frameWidth()
        if not self.labels:
            self.setMinimumSize(0, 0)
            return
        self._write_labels(False, theme)
        self._long_width = int(np.ceil(self._minimum_layout_size().width())) + frame
        self._write_labels(True, theme)
        short = self._minimum_layout_size()
        self.setMinimumSize(int(np.ceil(short.width())) + frame, int(np.ceil(short.height())) + frame)
        self._choose_labels()

    def _choose_labels(self) -> None:
        if not getattr(self, "labels", None):  # a resize during construction
            return
        short = self.width() < self._long_width
        if short != self.short_labels:
            self._write_labels(short, current_theme())

    def resizeEvent(self, event) -> None:  # noqa: N802
        self._choose_labels()
        super().resizeEvent(event)

    def preferred_height(self, width: int) -> int:
        """Height that shows square thumbnails (at most 90 px) across `width`, labels included."""
        layers, heads = max((k[0] + 1, k[1] + 1) for k in self.boxes) if self.boxes else (0, 0)
        if not heads:
            return 0
        label_height = self.fontMetrics().height() + 12
        cell = min(90, (width - 3 * label_height) / heads)
        return int(label_height + layers * (cell + 6) + 12)

    # selection --------------------------------------------------------------------------------------
    def set_selected(self, layer: int, head: int) -> None:
        """Draw a thick accent border around the selected thumbnail."""
        self.selected = (layer, head)
        theme = current_theme()
        for key, vb in self.boxes.items():
            chosen = key == self.selected
            width = theme.highlight_width if chosen else theme.outline_width
            vb.setBorder(pg.mkPen(theme.accent if chosen else theme.masked_cell, width=width))

    def thumbnail_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        return next(
            (key for key, vb in self.boxes.items() if vb.sceneBoundingRect().contains(scene_pos)), None
        )

    def _on_click(self, event) -> None:
        key = self.thumbnail_at(event.scenePos())
        if key is not None and event.button() == Qt.MouseButton.LeftButton:
            self.thumbnailClicked.emit(*key)

    def apply_strokes(self, theme: Theme) -> None:
        """The borders in the theme's stroke widths (`set_selected` reads the current theme)."""
        self.set_selected(*self.selected)

    def apply_theme(self, theme: Theme) -> None:
        plotting.style_canvas(self, theme)
        for image in self.images.values():
            image.setLookupTable(plotting.lut(theme.sequential_cmap))
        self.set_selected(*self.selected)
        self._style_labels(theme)
