"""Small plotting helpers shared by the panels: colour maps, levels, pens, axes, token labels.

Everything that picks a colour goes through the current `Theme` (seqviz.app.window.theme), so exports and
theme switches only have to swap what is returned here.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QLinearGradient, QTextCursor
from PySide6.QtWidgets import QGraphicsItem

from seqviz.app.panels import text_elision, token_ticks
from seqviz.app.panels.colour_scale import ColourScale, diverging_scale
from seqviz.app.window.theme import Theme, current_theme
from seqviz.core import token_display

# x coordinates of every time axis: column i (0-based) spans [i + 0.5, i + 1.5], so step t sits at x = t.
STEP_OFFSET = 0.5
MIN_TITLE_SCALE = 0.7  # a plot title wider than its plot is drawn down to this fraction of its size


@lru_cache(maxsize=32)
def colormap(name: str) -> pg.ColorMap:
    """A pyqtgraph colour map by name ("viridis", "cividis", "CET-D1A", "CET-CBD1", ...)."""
    cmap = pg.colormap.get(name)
    if cmap is None:
        raise ValueError(f"unknown colour map {name!r}")
    return cmap


@lru_cache(maxsize=32)
def lut(name: str) -> np.ndarray:
    """The 256-entry uint8 lookup table (256, 3) of a colour map; ImageItem's fast path."""
    table = colormap(name).getLookupTable(0.0, 1.0, nPts=256, alpha=False, mode="byte")
    return np.ascontiguousarray(table, dtype=np.uint8)


def diverging_levels(values: np.ndarray) -> tuple[float, float]:
    """Symmetric levels around 0 (`diverging_scale`): (-1, 1) for values inside [-1, 1] (tanh), else
    up to the 99th percentile of |values|. The wider range matters for ReLU RNNs, LSTM cells and
    Transformer hidden states, whose values are unbounded."""
    return diverging_scale(values).levels


def finite_span(values: np.ndarray, fallback: tuple[float, float] = (-1.0, 1.0)) -> tuple[float, float]:
    """(min, max) of the finite values, or `fallback` when there are none: a diverged model's NaN
    and inf are drawn as such (empty cells, clipped bars), and never reach an axis range, which
    pyqtgraph refuses ("Cannot set range [nan, nan]")."""
    finite = values[np.isfinite(values)] if values.size else values
    return (float(finite.min()), float(finite.max())) if finite.size else fallback


def image_data(array: np.ndarray) -> np.ndarray:
    """A C-contiguous float32 copy-if-needed of `array` (what ImageItem draws fastest)."""
    return np.ascontiguousarray(array, dtype=np.float32)


@lru_cache(maxsize=1 << 16)  # a trace's axes ask for the same tokens again (7 axes x T at T = 1,000)
def display_token(token: str, max_chars: int = 12) -> str:
    """An input/output token as a label: the core's one display rule (seqviz.core.token_display), then
    shortened to `max_chars`. Plain text: rich-text callers `html.escape` it."""
    return token_display.shorten(token_display.display_token(token), max_chars)


def color(name: str, alpha: int | None = None) -> QColor:
    c = QColor(name)
    if alpha is not None:
        c.setAlpha(alpha)
    return c


def cursor_pen(theme: Theme | None = None) -> pg.QtGui.QPen:
    theme = theme or current_theme()
    return pg.mkPen(theme.cursor, width=theme.line_width)


def accent_pen(theme: Theme | None = None, width_scale: float = 1.0) -> pg.QtGui.QPen:
    theme = theme or current_theme()
    return pg.mkPen(theme.accent, width=theme.line_width * width_scale)


def row_marker_pen(theme: Theme | None = None) -> pg.QtGui.QPen:
    """The outline of a matrix's current row (attention's query, the gradient map's step): cosmetic, so
    it keeps its width however far the matrix is zoomed."""
    pen = accent_pen(theme, 1.5)
    pen.setCosmetic(True)
    return pen


def outline_pen(colour: str, theme: Theme | None = None, width_scale: float = 1.0) -> pg.QtGui.QPen:
    """A thin line in `colour`: axes, frames, borders (the theme's outline width times `width_scale`)."""
    theme = theme or current_theme()
    return pg.mkPen(colour, width=theme.outline_width * width_scale)


def font(theme: Theme | None = None, scale: float = 1.0, bold: bool = False) -> QFont:
    theme = theme or current_theme()
    f = QFont()
    f.setPointSizeF(theme.font_size * scale)
    f.setBold(bold)
    return f


def style_plot(plot: pg.PlotItem, theme: Theme | None = None) -> None:
    """Apply the theme's foreground, font and title colour to a plot's axes."""
    theme = theme or current_theme()
    style_strokes(plot, theme)
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setTextPen(theme.foreground)
        axis.setTickFont(font(theme, 0.9))
        axis.label.setFont(font(theme))
        # ticks outside: an axis whose ticks reach into the plot repaints whenever the cursor moves
        axis.setStyle(tickLength=5)
        # a step's cursor still touches the step axis (antialiasing margins): blit it from a pixmap
        # instead of replaying its drawing; the cache is redrawn only when the axis changes
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    forget_tick_text(plot)
    # one fixed height for every step axis, so plots side by side keep their rows aligned
    plot.getAxis("bottom").setHeight(
        int(theme.font_size * 2.6) + (theme.font_size * 2 if plot.getAxis("bottom").label.isVisible() else 0)
    )
    relax_title(plot)
    plot.titleLabel.setAttr("color", theme.foreground)
    plot.titleLabel.setAttr("size", f"{theme.font_size + 1}pt")
    if plot.titleLabel.text:
        plot.titleLabel.setText(plot.titleLabel.text)  # re-render with the new colour


def style_strokes(plot: pg.PlotItem, theme: Theme | None = None) -> None:
    """The theme's axis line width (and colour); nothing else of the plot changes."""
    theme = theme or current_theme()
    for name in ("left", "bottom", "right", "top"):
        plot.getAxis(name).setPen(outline_pen(theme.foreground, theme))


def forget_tick_text(
    plot: pg.PlotItem, labels_from: object = None, sides: tuple[str, ...] = ("left", "bottom", "right", "top")
) -> None:
    """Forget the tick text size the axes measured (an axis grows to its widest tick text and shrinks
    only by more than 10 px): after new data or a new font the next paint measures it again, so
    the plot looks as if it had been built now, whatever it showed before.

    `labels_from`: what the tick labels are made from (tokens, ranges, ticks; hashable). The same as
    at the last call, nothing is forgotten: the labels are those measured already. A new version of
    the same trace (training's weights) then leaves the axes alone: forgotten, every axis went back
    to pyqtgraph's initial size and then to its own, two layouts and three redrawn axes per plot
    (~60 ms of a 1600x900 window). None always forgets (a theme's new fonts). `sides`: the axes
    whose labels come from `labels_from` (a value axis's range changes with new weights, a step
    axis's tokens do not)."""
    for name in sides:
        axis = plot.getAxis(name)
        if labels_from is not None and getattr(axis, "seqviz_labels_from", None) == labels_from:
            continue
        axis.seqviz_labels_from = labels_from
        axis.textWidth, axis.textHeight = 30, 18  # pyqtgraph's initial values
        axis._adjustSize()


def set_title(plot: pg.PlotItem, title: str, short: str = "") -> None:
    """`plot.setTitle(title)` unless it shows that title: pyqtgraph renders the text again and
    lays the canvas out again on every call, the same title too. `short`: shown instead where the
    title does not fit (fit_label_text)."""
    plot.titleLabel.seqviz_short = short
    if not (plot.titleLabel.isVisible() and plot.titleLabel.text == title):
        plot.setTitle(title)


def set_ticks(axis: pg.AxisItem, ticks: list) -> None:
    """`axis.setTicks(ticks)` unless they are the ticks set last: pyqtgraph redraws the axis on every
    call, the same ticks too."""
    if getattr(axis, "seqviz_ticks", None) != ticks:
        axis.seqviz_ticks = ticks
        axis.setTicks(ticks)


def relax_title(plot: pg.PlotItem) -> None:
    """Let a plot be narrower than its title: a title wider than the plot is drawn smaller (down to
    MIN_TITLE_SCALE of its size), and ended after a whole word with "…" if even that does not fit
    (the whole in its tooltip: fit_label_text), instead of pushing the plot (and its neighbours)
    out of a narrow dock. The title's row keeps the height of the whole-size text, so plots side by
    side stay aligned. pyqtgraph resets a label's minimum size to its text on every change, so the
    reset is wrapped once per label."""
    relax_label(plot.titleLabel)


def relax_label(label: pg.LabelItem) -> None:
    """A LabelItem narrower than its text draws it smaller, then clipped (see relax_title)."""
    if getattr(label, "_seqviz_relaxed", False):
        return
    measure = label.updateMin

    def update_min() -> None:
        measure()
        natural = label.item.boundingRect()  # the unscaled text: the hint must not follow the scale
        label.setMinimumWidth(0)
        label.setMinimumHeight(natural.height())
        label._sizeHint[Qt.SizeHint.MinimumSize] = (0, natural.height())
        label._sizeHint[Qt.SizeHint.PreferredSize] = (natural.width(), natural.height())

    place = label.resizeEvent

    def place_text(event) -> None:
        label.item.setScale(fit_label_text(label, label.rect().width()))
        place(event)
        if label.itemRect().width() > label.rect().width():  # clipped: keep the start readable
            label.item.setPos(label.item.pos().x() - label.itemRect().left(), label.item.pos().y())

    label.updateMin = update_min
    label.resizeEvent = place_text
    label._seqviz_relaxed = True
    label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
    update_min()


def fit_label_text(label: pg.LabelItem, room: float) -> float:
    """Show `label`'s text in `room` px: whole at the largest scale down to MIN_TITLE_SCALE, else its
    short title (set_title) so, else ended after a whole word with "…" (clipped mid-word, "attention,
    layer 1, head :" read as another title); the whole text in the tooltip. Returns the scale."""
    document = label.item.document()
    if getattr(label, "seqviz_text", None) != label.text:  # set anew: the document holds it whole
        label.seqviz_text, label.seqviz_plain = label.text, document.toPlainText()
    whole = label.seqviz_plain
    if whole != label.text:  # rich text ("h<sub>t</sub>"): scaled, and clipped if it must be
        return 1.0 if room <= 0 else min(1.0, max(MIN_TITLE_SCALE, room / label.item.boundingRect().width()))
    cursor = QTextCursor(document)
    cursor.movePosition(QTextCursor.MoveOperation.NextCharacter, QTextCursor.MoveMode.KeepAnchor)
    style = cursor.charFormat()  # the label's span: its font and colour
    metrics, margins = QFontMetricsF(style.font()), 2 * document.documentMargin()
    shown, scale = whole, 1.0
    for text in (whole, getattr(label, "seqviz_short", "") or whole):
        natural = metrics.horizontalAdvance(text) + margins
        shown, scale = text, 1.0 if natural <= room or room <= 0 else max(MIN_TITLE_SCALE, room / natural)
        if natural * scale <= room + 0.5 or room <= 0:
            break
    else:  # not even the short one fits: its words that do
        shown = text_elision.elide_words(shown, metrics, room / scale - margins)
    if document.toPlainText() != shown:
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(shown, style)
    label.item.setToolTip("" if shown == whole else whole)
    return scale


def style_canvas(widget: pg.GraphicsView, theme: Theme | None = None) -> None:
    """The theme's background; then, once every plot has its new fonts, fit the layout to the view."""
    theme = theme or current_theme()
    widget.setBackground(theme.background)
    QTimer.singleShot(0, widget, lambda: _fit_to_view(widget))


def _fit_to_view(widget: pg.GraphicsView) -> None:
    """Lay the canvas's plots out in the view again, as a resize would.

    A layout that outgrew the view (large presentation fonts) keeps its size when the fonts shrink
    again until the view is resized; a live theme switch must give the picture a fresh start gives.
    """
    if not getattr(widget, "closed", False) and widget.centralWidget is not None:
        widget.setRange(widget.range, padding=0, disableAutoPixel=False)


def nice_spacing(at_least: float) -> float:
    """The smallest of 1, 2, 5 x 10^n that is at least `at_least` (> 0)."""
    base = 10.0 ** np.floor(np.log10(at_least))
    return next(m * base for m in (1.0, 2.0, 5.0, 10.0) if m * base >= at_least * (1 - 1e-9))


class MeasuredAxis(pg.AxisItem):
    """An axis whose room for tick labels is what its labels need now, whatever it measured before.

    pyqtgraph keeps the largest label size it measured and gives room back only when the labels get
    10 px smaller (against jitter while panning, which these plots never do), so an axis's width hung
    on its history: after a live theme switch a plot that had passed through another size during the
    layout (an 11 px high distance plot, one short label) kept 26 px for its labels where a fresh start
    kept pyqtgraph's initial 30, and the picture differed from a fresh start's."""

    def _updateMaxTextSize(self, x) -> None:  # noqa: N802 (pyqtgraph's name)
        x = self._text_space(float(x))
        vertical = self.orientation in ("left", "right")
        if x == (self.textWidth if vertical else self.textHeight):
            return
        if vertical:
            self.textWidth = x
        else:
            self.textHeight = x
        if self.style["autoExpandTextSpace"]:
            self._updateWidth() if vertical else self._updateHeight()

    def _text_space(self, measured: float) -> float:
        """The room the labels get across the axis, given the largest drawn label's size."""
        return measured


class ReadableAxis(MeasuredAxis):
    """A numeric axis whose tick labels never overlap.

    pyqtgraph picks tick spacing from the axis length alone and always labels the major ticks, so
    a short axis in a large font ("0 20 40 60" on a 40 px gate heatmap) drew its numbers over each
    other. Tick levels closer than a label's size are dropped here; if none is left, one wider
    spacing is chosen."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if span <= 0 or size <= 0 or not levels:
            return levels
        smallest = self._label_room(minVal, maxVal) * span / size  # data units one label needs
        kept = [level for level in levels if level[0] >= smallest]
        return kept or [(nice_spacing(smallest), 0)]

    def _label_room(self, lo: float, hi: float) -> float:
        """Pixels from one tick label to the next that keep them apart."""
        metrics = QFontMetricsF(self.style.get("tickFont") or self.font())
        if self.orientation in ("left", "right"):
            return metrics.height() * 1.2
        digits = len(str(int(max(abs(lo), abs(hi))))) + 1  # a sign or a decimal point
        return metrics.horizontalAdvance("8" * digits) + 2 * metrics.averageCharWidth()


class EndsInsideAxis(MeasuredAxis):
    """An axis that draws a tick label sticking out of one of its ends inside the axis: pyqtgraph drops
    such a label, so a value axis lost the numbers at its ends and a step axis its first and last
    tokens ("<s>", "</s>"). Labels that would then overlap are dropped, the ends' last (a narrow bar
    plot's "-13.1" and "13.1" ran into each other)."""

    GAP = 3  # pixels between two labels

    END_ROOM = 160  # pixels a label may stick out of the axis before it is moved inside (see below)

    def generateDrawSpecs(self, p):  # noqa: N802 (pyqtgraph's name)
        # pyqtgraph drops a label that leaves the axis's bounds (its boundingRect, grown by an int
        # hideOverlappingLabels): room for it while the labels are placed, then they are moved
        # inside. Only then: a bounding rect grown for good left a cached axis a layout behind after
        # a theme switch (ticks drawn for the axis's previous length).
        before, self.style["hideOverlappingLabels"] = self.style["hideOverlappingLabels"], self.END_ROOM
        try:
            specs = super().generateDrawSpecs(p)
        finally:
            self.style["hideOverlappingLabels"] = before
        if specs is None:
            return None
        axis_spec, tick_specs, text_specs = specs
        bounds = self.mapRectFromParent(self.geometry())
        texts = [(_inside(rect, bounds), flags, text) for rect, flags, text in text_specs]
        order = [len(texts) - 1, 0, *range(1, len(texts) - 1)] if len(texts) > 1 else list(range(len(texts)))
        kept: list[int] = []
        for i in order:  # the last and first labels (the range's ends) before those between
            grown = texts[i][0].adjusted(-self.GAP, -self.GAP, self.GAP, self.GAP)
            if not any(grown.intersects(texts[j][0]) for j in kept):
                kept.append(i)
        return axis_spec, tick_specs, [texts[i] for i in sorted(kept)]


def _inside(rect: QRectF, bounds: QRectF) -> QRectF:
    """`rect` moved (not shrunk) to lie within `bounds` where it fits."""
    dx = max(bounds.left() - rect.left(), 0.0) + min(bounds.right() - rect.right(), 0.0)
    dy = max(bounds.top() - rect.top(), 0.0) + min(bounds.bottom() - rect.bottom(), 0.0)
    return rect.translated(dx, dy)


class TokenAxis(EndsInsideAxis, ReadableAxis):
    """A step axis (x = 1..T) that labels steps with their tokens, whatever the length.

    Labels are measured with the tick font. When whole tokens fit at every step they are all shown;
    else shortened ones (down to 4 characters); else every k-th step's token, the first and the last
    always among them (token_ticks.label_steps): a long input keeps words on its axis, and its "<s>"
    and "</s>" are drawn inside the axis's ends instead of being dropped for sticking out.
    """

    LABEL_GAP = 6  # pixels between neighbouring labels
    SHORTENED = (8, 6, 4)  # characters tried, longest first, when whole tokens do not fit
    THINNED = 8  # characters of the labels of a thinned axis (every k-th step)

    def __init__(self, orientation: str = "bottom", **kw) -> None:
        super().__init__(orientation, **kw)
        self._tokens: list[str] = []
        self._labels: dict[int, str] = {}  # step -> its label, for the steps drawn
        self._widths: dict[tuple, list[float]] = {}  # (font, limit) -> label widths by step
        self.shown_until: int | None = None  # steps after it keep their tick, not their token

    def set_tokens(self, tokens: list[str]) -> None:
        shown = [display_token(t) for t in tokens]
        if shown == self._tokens:  # a new version of the same trace: the axis stays as drawn
            return
        self._tokens = shown
        self._widths.clear()
        self.picture = None
        self.update()

    def set_shown_until(self, step: int | None) -> None:
        """Draw no token after `step` (None: every token): the future, hidden (View › Hide the future).
        The ticks stay where they are, so only the labels' text changes on a step."""
        if step != self.shown_until:
            self.shown_until = step
            self.picture = None
            self.update()

    def _text_space(self, measured: float) -> float:
        # a token axis beside a plot keeps room for the future's labels it hides: stepping with
        # View › Hide the future on never moves the plot (nor lays the window out again)
        if self.orientation in ("left", "right") and self.shown_until is not None and self._labels:
            metrics = self._metrics()
            return max(measured, *(metrics.horizontalAdvance(text) for text in self._labels.values()))
        return measured

    def _metrics(self) -> QFontMetricsF:
        return QFontMetricsF(self.style.get("tickFont") or self.font())

    def _label_widths(self, limit: int | None) -> list[float]:
        """The width of each step's label shortened to `limit` characters (None: whole), per font."""
        metrics = self._metrics()
        key = (metrics.height(), metrics.averageCharWidth(), limit)
        if key not in self._widths:
            texts = self._tokens if limit is None else [token_display.shorten(t, limit) for t in self._tokens]
            measured = {t: metrics.horizontalAdvance(t) for t in set(texts)}
            self._widths[key] = [measured[t] for t in texts]
        return self._widths[key]

    def _choose_labels(self, first: int, last: int, room: float, lo: float, hi: float) -> dict[int, str]:
        """Step -> label for the steps first..last in view (`room` pixels per step)."""
        if self.orientation in ("left", "right"):
            heights = [self._metrics().height()] * len(self._tokens)
            steps = token_ticks.label_steps(first, last, heights, room, lo, hi, self.LABEL_GAP / 3)
            return {s: self._tokens[s - 1] for s in steps}
        for limit in (None, *self.SHORTENED):
            widths = self._label_widths(limit)
            if token_ticks.every_step_fits(widths[first - 1 : last], room, self.LABEL_GAP):
                break
        else:
            limit, widths = self.THINNED, self._label_widths(self.THINNED)
        steps = token_ticks.label_steps(first, last, widths, room, lo, hi, self.LABEL_GAP)
        texts = self._tokens if limit is None else [token_display.shorten(t, limit) for t in self._tokens]
        return {s: texts[s - 1] for s in steps}

    @property
    def tokens(self) -> tuple[str, ...]:
        """The tokens as labelled (display_token), step 1 first."""
        return tuple(self._tokens)

    @property
    def labels(self) -> dict[int, str]:
        """Step -> label of the steps labelled when the axis was last laid out."""
        return dict(self._labels)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        lo, hi = sorted((minVal, maxVal))  # an inverted view gives them reversed
        first = max(1, int(np.ceil(lo)))
        last = min(len(self._tokens), int(np.floor(hi)))
        room = size / max(hi - lo, 1e-9)
        self._labels = self._choose_labels(first, last, room, lo, hi) if last >= first and size > 0 else {}
        return [(1.0, sorted(self._labels))]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        until = len(self._tokens) if self.shown_until is None else self.shown_until
        return [self._labels.get(int(round(v)), "") if round(v) <= until else "" for v in values]


class ColorBar(pg.GraphicsWidget):
    """A vertical colour scale labelled with its low, middle and high values.

    Much cheaper to build than pg.ColorBarItem (a full PlotItem); the levels are fixed by the data. A
    clipped range (`set_clipping`: a ColourScale with values beyond it) labels its ends "≥ 13.2" and
    "≤ −13.2", and its hover text (`text_at`) says how many values lie beyond and how far.
    """

    def __init__(self, cmap_name: str, levels: tuple[float, float], width: int = 56) -> None:
        super().__init__()
        self.setFixedWidth(width)
        self.cmap_name = cmap_name
        self.levels = (float(levels[0]), float(levels[1]))
        self.clipping = ColourScale(self.levels)

    def set_scale(self, cmap_name: str, levels: tuple[float, float]) -> None:
        self.cmap_name = cmap_name
        self.levels = (float(levels[0]), float(levels[1]))
        self.update()

    def set_clipping(self, scale: ColourScale) -> None:
        """What lies beyond the levels (kept across theme changes, which only call `set_scale`)."""
        self.clipping = scale
        self.update()

    @property
    def clipped(self) -> bool:
        return self.clipping.clipped and self.clipping.levels == self.levels

    def text_at(self, scene_pos: QPointF) -> str | None:
        """The hover text over the bar: what the clipped range leaves out (None when nothing is)."""
        if not self.clipped or not self.sceneBoundingRect().contains(scene_pos):
            return None
        return self.clipping.describe()

    def labels(self) -> list[tuple[float, str]]:
        """(value, text) of the top, bottom and middle labels (the middle drawn only where it fits)."""
        lo, hi = self.levels
        clipped = self.clipped
        return [
            (hi, ("\u2265" if clipped else "") + f"{hi:.3g}"),
            (lo, ("\u2264" if clipped else "") + f"{lo:.3g}"),
            ((lo + hi) / 2, f"{(lo + hi) / 2:.3g}"),
        ]

    def paint(self, painter, *args) -> None:
        theme = current_theme()
        box = self.boundingRect()
        bar = QRectF(box.left() + 2, box.top() + 10, 12, max(box.height() - 30, 10))
        gradient = QLinearGradient(bar.bottomLeft(), bar.topLeft())
        table = lut(self.cmap_name)
        for i in range(0, 256, 15):
            gradient.setColorAt(i / 255, QColor(*table[i]))
        gradient.setColorAt(1.0, QColor(*table[255]))
        painter.fillRect(bar, QBrush(gradient))
        painter.setPen(outline_pen(theme.foreground, theme))
        painter.drawRect(bar)
        painter.setFont(font(theme, 0.85))
        text_height = painter.fontMetrics().height()
        (top, top_text), (bottom, bottom_text), middle = self.labels()
        marks = [(top_text, bar.top()), (bottom_text, bar.bottom())] if bar.height() > 2 * text_height else []
        if bar.height() > 5 * text_height:
            marks.append((middle[1], bar.center().y()))
        for text, y in marks:
            painter.drawText(QPointF(bar.right() + 4, y + text_height * 0.3), text)


def token_matrix_plot(left: str, bottom: str) -> tuple[pg.PlotItem, TokenAxis, TokenAxis]:
    """A plot for a rows x columns matrix over tokens (attention, the gradient map): token axes on both
    sides, row 0 at the top, no context menu or buttons. Returns (plot, x_axis, y_axis)."""
    x_axis, y_axis = TokenAxis("bottom"), TokenAxis("left")
    plot = pg.PlotItem(axisItems={"bottom": x_axis, "left": y_axis}, enableMenu=False)
    plot.invertY(True)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)  # before the theme sizes the axis for a label
    return plot, x_axis, y_axis
