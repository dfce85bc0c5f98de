"""Output panel: the model's output distribution at the current step, as a sorted bar chart.

Tasks (`trace.meta.task`): "lm" — next-token probabilities, row t-1 after t tokens, the true next token is
`tokens[t]`; "classify" — class probabilities after t tokens; "tag" — the tag of token t;
"seq2seq" — output token t; "mlm" — what a masked language model puts at position t. Known answers
are marked: the true next token (lm), `meta.targets` (an output index per step, tag/seq2seq; the last
one for classify). Large vocabularies come as the top outputs per step (`top_ids`, `top_probs`, and the
true token's `target_prob` / `target_rank`). What to show is worked out without Qt in `output_ranking`
and `output_topk`; this module draws it. Classes and tags keep their rows while playing (the model's order).
Every step at once (output_views): a classifier's class probabilities as lines over the steps with the
last one marked as the output; a tagger's predicted tag under each token with the true tag.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from seqviz.app.panels import plotting
from seqviz.app.panels.base import Panel
from seqviz.app.panels.controls import StepLabel
from seqviz.app.panels.heatmap import PlotCanvas
from seqviz.app.panels.output_ranking import OutputRanking, StepOutputs, header_text, truth_text
from seqviz.app.panels.output_sequence import class_series, tag_columns
from seqviz.app.panels.output_topk import TopKRanking, has_top_outputs
from seqviz.app.panels.output_views import ClassLines, TagRow
from seqviz.app.panels.traceinfo import is_causal, token_display_of
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.core import token_display
from seqviz.core.trace import Trace

TOP_K = 10  # bars shown when they fit; a short plot shows fewer (at least MIN_ROWS), never overlapping
MIN_ROWS = 1  # the prediction itself: three bars in a plot one label tall were drawn over each other
ROW_SPACING = 1.15  # a bar's row is at least this many label-text lines tall
X_MIN, X_MAX = -0.015, 1.04  # probabilities run 0..1: room for the 0 tick and after 1 for text
INSIDE_FROM = 0.7  # a bar at least this long carries its value inside (the text would not fit after it)
TICKS = [[(x / 5, f"{x / 5:g}") for x in range(6)], [(x / 10, "") for x in range(1, 10, 2)]]


class BarValues(pg.GraphicsObject):
    """The probability after each bar (inside a long bar, in the background colour).

    One item paints every text, so a step costs one `update()`, not ten TextItem rebuilds. Entries are
    (row, probability, text, colour); text is drawn unscaled, 4 px from the bar's end.
    """

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[int, float, str, QColor]] = []
        self.font = QFont()
        self._rows = 1

    def set_entries(self, entries: list[tuple[int, float, str, QColor]], rows: int) -> None:
        if rows != self._rows:
            self.prepareGeometryChange()
            self._rows = rows
        self.entries = entries
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt)
        return QRectF(X_MIN, -0.5, X_MAX - X_MIN, self._rows)  # the whole view: text never leaves it

    def paint(self, painter, *args) -> None:
        to_device = painter.transform()
        painter.resetTransform()
        painter.setFont(self.font)
        metrics = painter.fontMetrics()
        lift = (metrics.ascent() - metrics.descent()) / 2
        for row, p, text, colour in self.entries:
            end = to_device.map(QPointF(p, row))
            inside = p >= INSIDE_FROM
            x = end.x() - metrics.horizontalAdvance(text) - 4 if inside else end.x() + 4
            painter.setPen(colour)
            painter.drawText(QPointF(x, end.y() + lift), text)


class OutputPanel(Panel):
    name = "output"
    title = "Output"

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.task = "lm"
        self.labels: list[str] = []
        self.shown_labels: list[str] = []
        self.shown_probs = np.zeros(0, np.float32)
        self.true_label: str | None = None
        self.true_row: int | None = None  # row of the true answer among the shown bars
        # both change every step: StepLabels repaint without relaying out the window
        self.header, self.footer = StepLabel(), StepLabel()
        self.canvas = PlotCanvas()
        self.plot = self.canvas.addPlot(0, 0, enableMenu=False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.invertY(True)  # most probable on top
        self.plot.showGrid(x=True, alpha=0.25)
        self.plot.setLabel("bottom", "probability")
        self.plot.getAxis("bottom").setTicks(TICKS)  # 0..1 only, however much room the view has
        self.plot.getViewBox().setLimits(xMin=X_MIN, xMax=X_MAX)
        self.bars = pg.BarGraphItem(x0=0, y=np.zeros(1), height=0.7, width=np.zeros(1), pen=None)
        self.true_bar = pg.BarGraphItem(x0=0, y=np.zeros(1), height=0.7, width=np.zeros(1), pen=None)
        self.plot.addItem(self.bars)
        self.plot.addItem(self.true_bar)
        self.values = BarValues()
        self.plot.addItem(self.values, ignoreBounds=True)
        self.class_lines = ClassLines()  # in the canvas under the bars, for classifiers
        self.tag_row = TagRow()  # under the canvas, for taggers
        self.tag_row.hide()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.header)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.tag_row)
        layout.addWidget(self.footer)
        self.tag_row.stepClicked.connect(self.cursor.set_step)
        self.cursor.stepChanged.connect(self._on_step_changed)
        self.plot.getViewBox().sigResized.connect(lambda _vb: self._on_view_resized())
        theme_notifier.themeChanged.connect(self.apply_theme)
        theme_notifier.strokesChanged.connect(self.apply_strokes)
        self.apply_theme(current_theme())

    # Trace -------------------------------------------------------------------------------------
    def applies_to(self, trace: Trace) -> str | None:
        if "probs" in trace or has_top_outputs(trace):
            return None
        if trace.meta.extra.get("head_note"):  # the model's own words (Hugging Face models)
            return str(trace.meta.extra["head_note"])
        if trace.meta.kind == "encoder" and trace.meta.task == "":
            return (
                "This model has no output head (a sentence encoder): it turns text into vectors, so "
                "there are no predictions to show. The other panels show what it computes."
            )
        return "This model has no output head to show (the trace has no \u201cprobs\u201d array)."

    def show_trace(self, trace: Trace) -> None:
        self.top_only = has_top_outputs(trace)
        self.ranking = TopKRanking(trace) if self.top_only else OutputRanking(trace)
        self.probs = self.ranking.probs  # (T, K), or (T, k) of a top-k trace
        self.task = self.ranking.task
        self.labels = [] if self.top_only else self.ranking.labels
        self.label_texts = [] if self.top_only else self.ranking.texts
        self.display = token_display_of(trace)
        self._show_every_step(trace)
        self._set_rows(self._rows_that_fit())
        self._size_label_axis(current_theme())
        self._ready = True
        self._on_step_changed(self.cursor.step)

    def future_views(self) -> list:
        return [self.class_lines, self.tag_row]

    def _show_every_step(self, trace: Trace) -> None:
        """The class lines under the bars (classifiers) and the tag row (taggers), or neither."""
        lines = self.task == "classify" and not self.top_only
        items = self.canvas.ci.items
        if lines and self.class_lines.plot not in items:
            self.canvas.addItem(self.class_lines.plot, 1, 0)
            self.canvas.ci.layout.setRowStretchFactor(0, 1)
            self.canvas.ci.layout.setRowStretchFactor(1, 2)
        elif not lines and self.class_lines.plot in items:
            self.canvas.removeItem(self.class_lines.plot)
        if lines:
            self.class_lines.set_data(class_series(trace), trace.tokens, is_causal(trace))
        tags = self.task == "tag" and not self.top_only
        self.tag_row.setVisible(tags)
        if tags:
            self.tag_row.set_columns(tag_columns(trace), is_causal(trace))

    def _rows_that_fit(self) -> int:
        """How many bars the plot shows: TOP_K, fewer when their labels would overlap (a short dock in
        presentation fonts), never fewer than MIN_ROWS or more than the model has outputs."""
        line = QFontMetrics(plotting.font(current_theme(), 0.9)).height() * ROW_SPACING
        height = self.plot.getViewBox().height()
        fit = int(height // line) if height > 0 else TOP_K
        return min(self.probs.shape[1], TOP_K, max(MIN_ROWS, fit))

    def _set_rows(self, k: int) -> None:
        self.k = k
        rows = np.arange(self.k, dtype=np.float64)
        self.bars.setOpts(y=rows, width=np.zeros(self.k))
        self.true_bar.setOpts(y=rows, width=np.zeros(self.k))
        self.plot.setRange(xRange=(X_MIN, X_MAX), yRange=(-0.5, self.k - 0.5), padding=0)

    def _on_view_resized(self) -> None:
        """A new height may fit more or fewer bars (a resize, not a step: the axes may change)."""
        if self._ready and self._rows_that_fit() != self.k:
            self._set_rows(self._rows_that_fit())
            self._on_step_changed(self.cursor.step)

    # State -> view ------------------------------------------------------------------------------
    def _on_step_changed(self, step: int) -> None:
        if not self._ready:
            return
        step = min(max(step, 1), self.probs.shape[0])
        outputs = self.ranking.at(step, self.k)
        self.shown_probs = outputs.probs
        self.shown_labels = outputs.labels
        self.bars.setOpts(width=self.shown_probs)
        plotting.set_ticks(self.plot.getAxis("left"), [list(enumerate(outputs.texts))])
        self._mark_truth(outputs)
        self._show_values()
        if self.class_lines.plot in self.canvas.ci.items:
            self.class_lines.set_step(step)
        if not self.tag_row.isHidden():  # shown for this trace (the panel itself may be hidden)
            self.tag_row.set_step(step)
        token = token_display.shorten(self.display(self.trace.tokens[step - 1]), 12)
        self.header.setText(header_text(self.trace, self.task, step, token, outputs.best_text))

    def _show_values(self) -> None:
        """Each bar's probability after it, or inside it (in the background colour) when it is long."""
        theme = current_theme()
        colours = {k: QColor(c) for k, c in (("in", theme.background), ("true", theme.accent))}
        colours["out"] = QColor(theme.foreground)
        entries = []
        for i, p in enumerate(self.shown_probs.tolist()):
            is_true = i == self.true_row
            kind = "in" if p >= INSIDE_FROM else "true" if is_true else "out"
            entries.append((i, p, f"{p:.3f}  \u25c0 true" if is_true else f"{p:.3f}", colours[kind]))
        self.values.set_entries(entries, self.k)

    def _size_label_axis(self, theme: Theme) -> None:
        """Fix the label axis to the longest label (once per trace/theme: a step never resizes it)."""
        metrics = QFontMetrics(plotting.font(theme, 0.9))
        texts = self.ranking.all_texts() if self.top_only else self.label_texts
        longest = sorted(texts, key=len)[-200:]  # the widest is among the longest
        width = max((metrics.horizontalAdvance(t) for t in longest), default=10)
        axis = self.plot.getAxis("left")
        if axis.fixedWidth != width + 14:  # the same width set again redraws the axis
            axis.setWidth(width + 14)

    def _mark_truth(self, outputs: StepOutputs) -> None:
        """The true answer's bar in the accent colour, and the footer's account of it."""
        self.true_label, self.true_row = outputs.true_label, outputs.true_row
        widths = np.zeros(self.k)
        if self.true_row is not None:
            widths[self.true_row] = self.shown_probs[self.true_row]
        self.true_bar.setOpts(width=widths)
        steps = self.trace.num_steps
        self.footer.setText(truth_text(self.task, outputs, self.label_texts, steps, self.top_only))

    # Theme ----------------------------------------------------------------------------------------
    def apply_strokes(self, theme: Theme) -> None:
        """Pens only: while a picture is painted at a larger scale, and back."""
        plotting.style_strokes(self.plot, theme)

    def apply_theme(self, theme: Theme) -> None:
        self.canvas.apply_theme(theme)
        plotting.style_plot(self.plot, theme)
        # the label axis changes every step: a pixmap cache would be redrawn each time for nothing
        self.plot.getAxis("left").setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.bars.setOpts(brush=pg.mkBrush(theme.bar))
        self.true_bar.setOpts(brush=pg.mkBrush(theme.accent))
        self.values.font = plotting.font(theme, 0.9)
        self.class_lines.apply_theme(theme)
        self.tag_row.apply_theme(theme)
        for label in (self.header, self.footer):
            label.setFont(plotting.font(theme))
        if self._ready:
            self._size_label_axis(theme)
            self._on_view_resized()  # rows that fit the new font
            self._show_values()
