"""The token strip: the input as a row of chips; the current token highlighted, the future dimmed (or
not drawn at all, View › Hide the future: the viewer's `future_hidden`). A word outside the model's
vocabulary shows as typed, with a dashed red outline (the model read its unknown token); tokens the
model generated are written in the accent colour inside an accent outline.

One widget paints every chip itself (QPainter) and only the chips in view, so a 10,000-token input costs
no more per step than a short one. Clicking (or dragging over) a chip moves the shared step there; the
view scrolls to keep the current chip in sight. Sequence-to-sequence traces get two rows: the source
(tinted by the last layer's mean cross-attention at the current step) above the output tokens.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPaintEngine, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QMenu, QScrollBar, QToolTip, QVBoxLayout, QWidget

from seqviz.app.panels import token_marks, token_pieces
from seqviz.app.panels.base import Panel
from seqviz.app.panels.token_pieces import chip_tooltip
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.core.token_display import display_token, shorten
from seqviz.core.trace import Trace

_MAX_LABEL = 14  # characters; longer tokens are elided
PAD_X, GAP, MARGIN = 6, 3, 4
ROW_NAMES = ("source", "output")  # the two rows of a sequence-to-sequence trace, labelled on the left


def display_label(token: str) -> str:
    """What a chip shows: the token as every panel shows it (seqviz.core.token_display), long ones elided."""
    return shorten(display_token(token), _MAX_LABEL)


UNKNOWN_COLOUR = QColor(214, 39, 40)  # a word the model does not know: its chip's dashed outline


class _Row:
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


class TokenStrip(QWidget):
    """Paints the chips. `rows[-1]` is the row the step cursor moves over. Special tokens (the model's
    `special_tokens`, `set_special_tokens`) are drawn as outlines; a masked language model's chip can
    be masked or unmasked (double-click, or its right-click menu): `maskToggled(position)`."""

    scrolled = Signal()
    maskToggled = Signal(int)  # 0-based position of the output row

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.cursor = viewer.cursor
        self.selection = viewer.selection  # its "tokens" options hold a span and marks (token_marks)
        viewer.futureHiddenChanged.connect(lambda _hidden: self.update())
        self._span_anchor: int | None = None  # the step a shift-drag started on
        self.selection.optionChanged.connect(self._on_option_changed)
        self.rows: list[_Row] = []
        self._trace: Trace | None = None
        self.special_tokens: frozenset[str] = frozenset()  # raw pieces (the model's special_tokens)
        self._pieces: list[list[str] | None] = []  # per row: the tokenizer's pieces, if the trace has them
        self.special: frozenset[int] = frozenset()  # positions of the output row that are special
        self.unknown: list[frozenset[int]] = []  # per row: positions of words the model does not know
        self.generated_from: int | None = None  # the first output position the model generated
        self._source_weights: np.ndarray | None = None  # (T, S) mean cross-attention, last layer
        self.accent = QColor("#e8590c")
        self._chip_cache: dict[tuple, QPixmap] = {}
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        theme_notifier.themeChanged.connect(self.apply_theme)
        self.apply_theme(current_theme())
        self.setSizePolicy(self.sizePolicy().horizontalPolicy(), self.sizePolicy().Policy.Fixed)

    def apply_theme(self, theme: Theme) -> None:
        """The theme's accent marks the current token; its font size (plus a little) sizes the chips."""
        self.accent = QColor(theme.accent)
        font = self.font()
        font.setPointSizeF(theme.font_size * 1.15)  # read from the back of a lecture hall
        self.setFont(font)  # clears the chip cache (FontChange)
        self.set_trace(self._trace)  # chip widths follow the font

    # geometry -------------------------------------------------------------------------------------
    @property
    def chip_height(self) -> int:
        return self.fontMetrics().height() + 10

    @property
    def left(self) -> int:
        return self.label_width if len(self.rows) > 1 else MARGIN

    @property
    def label_width(self) -> int:
        """Room for the row names, measured in the strip's font (a fixed width cut them off)."""
        metrics = self.fontMetrics()
        return max(metrics.horizontalAdvance(name) for name in ROW_NAMES) + 2 * PAD_X

    @property
    def view_width(self) -> int:
        return max(1, self.width() - self.left - MARGIN)

    def sizeHint(self) -> QSize:
        return QSize(400, max(1, len(self.rows)) * (self.chip_height + 2 * MARGIN))

    def minimumSizeHint(self) -> QSize:
        return QSize(100, self.sizeHint().height())

    def chip_rect(self, i: int, row: int = -1) -> QRect:
        """Where chip i of `row` is drawn, in widget coordinates."""
        r = self.rows[row]
        y = (row % len(self.rows)) * (self.chip_height + 2 * MARGIN) + MARGIN
        return QRect(self.left + int(r.starts[i]) - r.offset, y, int(r.widths[i]), self.chip_height)

    def chip_kind(self, i: int) -> str:
        """ "current", "past" or "future": how target chip i is drawn at the current step."""
        current = self.cursor.step - 1
        return "current" if i == current else "past" if i < current else "future"

    def chip_mark(self, i: int, row: int = -1) -> str:
        """ "unknown" (a word the model does not know, shown as typed), "generated" (a token the model
        wrote) or "" for chip i of `row`."""
        if self.unknown and i in self.unknown[row]:
            return "unknown"
        generated = self.generated_from
        return (
            "generated"
            if row in (-1, len(self.rows) - 1) and generated is not None and i >= generated
            else ""
        )

    def is_drawn(self, i: int) -> bool:
        """Whether target chip i is drawn: not when it is in the future and the future is hidden (a
        faded word still gives away what comes next)."""
        return not (self.viewer.future_hidden and self.chip_kind(i) == "future")

    def visible_range(self, row: int = -1) -> range:
        return self.rows[row].visible(self.view_width) if self.rows else range(0)

    # content --------------------------------------------------------------------------------------
    def set_trace(self, trace: Trace | None) -> None:
        self._trace = trace
        metrics = self.fontMetrics()
        self.rows = []
        self._source_weights = None
        self._find_pieces()
        if trace is not None:
            rows = [trace.source_tokens, trace.tokens] if trace.source_tokens else [trace.tokens]
            for tokens, pieces, unknown in zip(rows, self._pieces, self.unknown, strict=True):
                self.rows.append(_Row(tokens, metrics, {i: pieces[i] for i in unknown}))
            if trace.source_tokens:
                cross = trace.get("cross_attention")
                if cross is not None and cross.shape[-1] == len(trace.source_tokens):
                    w = cross[-1].mean(axis=0)  # (T, S): heads averaged, last layer
                    w = np.where(np.isfinite(w), w, 0.0)  # a diverged model's NaN and inf tint no chip
                    self._source_weights = w / np.maximum(w.max(axis=1, keepdims=True), 1e-12)
        self.updateGeometry()
        self.follow_step()

    def set_special_tokens(self, tokens: frozenset[str]) -> None:
        """The model's special tokens (raw pieces), drawn as outlines."""
        self.special_tokens = frozenset(tokens)
        self._find_pieces()
        self.update()

    def _find_pieces(self) -> None:
        trace = self._trace
        if trace is None:
            self._pieces, self.special, self.unknown, self.generated_from = [], frozenset(), [], None
            return
        names = ("source", "tokens") if trace.source_tokens else ("tokens",)
        self._pieces = [token_pieces.raw_pieces(trace, name) for name in names]
        rows = [trace.source_tokens, trace.tokens] if trace.source_tokens else [trace.tokens]
        self.unknown = [
            token_pieces.unknown_positions(trace.meta.unknown, tokens, pieces)
            for tokens, pieces in zip(rows, self._pieces, strict=True)
        ]
        self.generated_from = token_pieces.generated_from(trace)
        tokens = trace.tokens
        special = token_pieces.special_positions(tokens, self._pieces[-1], self.special_tokens)
        self.special = special - token_pieces.masked(trace)  # a blank is the demo's point: a chip as any

    def follow_step(self) -> None:
        """Scroll to the current step (and its most-attended source token) and repaint."""
        step = self.cursor.step
        if self.rows and 1 <= step <= len(self.rows[-1].tokens):
            self.rows[-1].keep_visible(step - 1, self.view_width)
            if self._source_weights is not None and step <= len(self._source_weights):
                self.rows[0].keep_visible(int(np.argmax(self._source_weights[step - 1])), self.view_width)
            self.scrolled.emit()
        self.update()

    def set_offset(self, offset: int) -> None:
        if self.rows and offset != self.rows[-1].offset:
            self.rows[-1].offset = offset
            self.update()

    # painting -------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        if not self.rows:
            return
        with QPainter(self) as painter:  # ended even if drawing fails: an active one crashes Qt later
            self._paint_rows(painter)

    def _paint_rows(self, painter: QPainter) -> None:
        """Every row's chips in view (the last row styled past / current / future), and row names."""
        pal = self.palette()
        text, base = pal.color(QPalette.ColorRole.WindowText), pal.color(QPalette.ColorRole.Base)
        dim_text = QColor(text)
        dim_text.setAlpha(90)
        target_styles = {
            "past": (base, text),
            "current": (self.accent, QColor("white")),
            "future": (QColor(base.red(), base.green(), base.blue(), 120), dim_text),
        }
        painter.setClipRect(QRect(self.left, 0, self.view_width, self.height()))
        for r in range(len(self.rows) - 1):
            self._paint_row(
                painter, r, lambda i, r=r: (self._source_fill(i, base), text, self.chip_mark(i, r))
            )
        outline = QColor(0, 0, 0, 0)  # a special token: its outline and dimmed text, no fill

        def target_style(i: int) -> tuple[QColor, QColor, str] | None:
            kind, mark = self.chip_kind(i), self.chip_mark(i)
            if not self.is_drawn(i):
                return None
            if i in self.special and kind != "current":
                return outline, dim_text, mark
            fill, colour = target_styles[kind]
            if mark == "generated" and kind != "current":  # written by the model, not typed
                colour = QColor(self.accent.red(), self.accent.green(), self.accent.blue(), colour.alpha())
            return fill, colour, mark

        self._paint_row(painter, len(self.rows) - 1, target_style)
        span = token_marks.parse_span(self.selection.option(token_marks.PANEL, token_marks.SPAN))
        marks = token_marks.parse_steps(self.selection.option(token_marks.PANEL, token_marks.MARKS))
        token_marks.paint(painter, self.chip_rect, self.visible_range(), span, marks, self.accent)
        if len(self.rows) > 1:
            painter.setClipping(False)
            painter.setPen(dim_text)
            for r, name in enumerate(ROW_NAMES):
                y = r * (self.chip_height + 2 * MARGIN) + MARGIN
                label_rect = QRect(0, y, self.label_width - PAD_X, self.chip_height)
                painter.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, name)

    def _paint_row(self, painter: QPainter, r: int, style) -> None:
        """Chips of row r in view; `style(i)` gives (fill, text colour, mark), or None: not drawn."""
        row, left = self.rows[r], self.left
        y = r * (self.chip_height + 2 * MARGIN) + MARGIN
        shown = row.visible(self.view_width)
        xs = (row.starts[shown.start : shown.stop] + (left - row.offset)).tolist()
        widths = row.widths[shown.start : shown.stop].tolist()
        if not self._paints_on_screen(painter):
            # a picture (export, SVG): chips drawn as vectors at the picture's resolution; a chip
            # cached at the screen's ratio would be blown up into blurred blocks
            for i, x, w in zip(shown, xs, widths, strict=True):
                if (chip := style(i)) is not None:
                    painter.save()
                    painter.translate(x, y)
                    self._draw_chip(painter, row.labels[i], w, *chip)
                    painter.restore()
            return
        for i, x, w in zip(shown, xs, widths, strict=True):
            if (chip := style(i)) is not None:
                painter.drawPixmap(x, y, self._chip_pixmap(row.labels[i], w, *chip))

    def _paints_on_screen(self, painter: QPainter) -> bool:
        """True if `painter` draws pixels at the screen's ratio, where cached chips are exact.

        `QWidget.render` into a picture hands the paint event a painter whose device transform holds
        the picture's scale (or an SVG engine); the widget's own ratio is still the screen's."""
        if painter.paintEngine().type() != QPaintEngine.Type.Raster:
            return False
        m, ratio = painter.deviceTransform(), self.devicePixelRatioF()
        exact = abs(m.m11() - ratio) < 1e-3 and abs(m.m22() - ratio) < 1e-3
        return exact and m.m12() == 0 and m.m21() == 0  # no rotation or shear

    def _chip_pixmap(self, label: str, width: int, fill: QColor, text: QColor, mark: str = "") -> QPixmap:
        """One chip, drawn once and reused: a blit costs far less than an antialiased rounded rect."""
        key = (label, width, fill.rgba(), text.rgba(), mark)
        pixmap = self._chip_cache.get(key)
        if pixmap is not None:
            return pixmap
        if len(self._chip_cache) > 4096:  # word vocabularies: keep the cache bounded
            self._chip_cache.clear()
        dpr = self.devicePixelRatioF()
        pixmap = QPixmap(round(width * dpr), round(self.chip_height * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self._draw_chip(painter, label, width, fill, text, mark)
        painter.end()
        self._chip_cache[key] = pixmap
        return pixmap

    def _draw_chip(
        self, painter: QPainter, label: str, width: int, fill: QColor, text: QColor, mark: str = ""
    ) -> None:
        """One chip with its top-left corner at the painter's origin; `mark` (chip_mark) outlines an
        unknown word dashed in red and a generated token in the accent colour."""
        height = self.chip_height
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.palette().color(QPalette.ColorRole.Mid), 1)
        if mark == "unknown":
            pen = QPen(UNKNOWN_COLOUR, 1.5, Qt.PenStyle.DashLine)
        elif mark == "generated":
            pen = QPen(self.accent, 1.5)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(0.5, 0.5, width - 1, height - 1), 5, 5)
        painter.setPen(text)
        # the font the chip was measured with (_Row): a painter on a pixmap starts with the
        # application's font, which drew presentation chips' text at the ordinary size
        painter.setFont(self.font())
        painter.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, label)

    def _source_fill(self, i: int, base: QColor) -> QColor:
        """A source chip's fill: the accent, as opaque as the cross-attention it gets at this step."""
        weights, step = self._source_weights, self.cursor.step
        if weights is None or not 1 <= step <= len(weights):
            return base
        tint = QColor(self.accent)
        tint.setAlphaF(round(0.6 * float(weights[step - 1, i]) * 16) / 16)  # few levels: cached chips
        return tint if tint.alpha() > 10 else base

    # input ----------------------------------------------------------------------------------------
    def index_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(row, token index) under a widget position, or None."""
        for r in range(len(self.rows)):
            rect = self.chip_rect(0, r)
            if rect.top() <= pos.y() <= rect.bottom() and pos.x() >= self.left:
                i = self.rows[r].index_at(pos.x() - self.left)
                return None if i is None else (r, i)
        return None

    def mousePressEvent(self, event) -> None:
        pos = event.position().toPoint()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:  # a span, e.g. for Find units
            self._span_anchor = self._step_at(pos)
            self._extend_span(pos)
            return
        self._jump_to(pos)

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            if self._span_anchor is not None:
                self._extend_span(pos)
            else:
                self._jump_to(pos)

    def mouseReleaseEvent(self, event) -> None:
        self._span_anchor = None

    def _step_at(self, pos: QPoint) -> int | None:
        hit = self.index_at(pos)
        return hit[1] + 1 if hit is not None and hit[0] == len(self.rows) - 1 else None

    def _extend_span(self, pos: QPoint) -> None:
        step = self._step_at(pos)
        if self._span_anchor is not None and step is not None:
            span = token_marks.span_text(self._span_anchor, step)
            self.selection.set_option(token_marks.PANEL, token_marks.SPAN, span)

    def _on_option_changed(self, panel: str, key: str, _value: str) -> None:
        if panel == token_marks.PANEL and key in (token_marks.SPAN, token_marks.MARKS):
            self.update()

    def _jump_to(self, pos: QPoint) -> None:
        step = self._step_at(pos)
        if step is not None:
            self.cursor.set_step(step)

    def wheelEvent(self, event) -> None:
        if not self.rows:
            return
        delta = event.angleDelta()
        pixels = -(delta.x() or delta.y()) // 2
        hit_row = min(int(event.position().y()) // (self.chip_height + 2 * MARGIN), len(self.rows) - 1)
        row = self.rows[hit_row]
        row.offset = max(0, min(row.offset + pixels, max(0, row.total - self.view_width)))
        self.scrolled.emit()
        self.update()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            hit = self.index_at(event.pos())
            if hit is None:
                QToolTip.hideText()
            else:
                r, i = hit
                QToolTip.showText(event.globalPos(), self.tooltip_at(r, i), self)
            return True
        return super().event(event)

    def tooltip_at(self, r: int, i: int) -> str:
        """The hover text of chip i of row r: the token, its raw piece, special or not, masking."""
        target = r == len(self.rows) - 1
        pieces = self._pieces[r] if r < len(self._pieces) else None
        hint = token_pieces.mask_hint(self._trace, i, self.special) if target else ""
        mark = self.chip_mark(i, r)
        if mark == "unknown":
            hint = token_pieces.UNKNOWN_NOTE.format(display_token(self.rows[r].tokens[i]))
        elif mark == "generated":
            hint = "generated by the model"
        where = "step" if target else "source position"
        piece = pieces[i] if pieces is not None else None
        special = target and i in self.special
        if mark == "unknown":  # the word as typed first; what the model read in the note
            return chip_tooltip(f"{where} {i + 1}", piece, None, False, hint)
        return chip_tooltip(f"{where} {i + 1}", self.rows[r].tokens[i], piece, special, hint)

    # masked language models ---------------------------------------------------------------------
    def can_mask(self, i: int) -> bool:
        """Whether the mask can go on (or come off) output position i: a masked LM's non-special,
        not-typed token."""
        hint = token_pieces.mask_hint(self._trace, i, self.special) if self._trace is not None else ""
        return hint.startswith("double-click")

    def mouseDoubleClickEvent(self, event) -> None:
        step = self._step_at(event.position().toPoint())
        if step is not None and self.can_mask(step - 1):
            self.maskToggled.emit(step - 1)

    def contextMenuEvent(self, event) -> None:
        step = self._step_at(event.pos())
        if step is None or not self.can_mask(step - 1):
            return
        masked = "take the mask off" in token_pieces.mask_hint(self._trace, step - 1, self.special)
        menu = QMenu(self)
        action = menu.addAction("Unmask this token" if masked else "Mask this token")
        action.triggered.connect(lambda: self.maskToggled.emit(step - 1))
        menu.popup(event.globalPos())
        self.mask_menu = menu  # kept: a test (or a person) picks from it after this returns

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self._chip_cache.clear()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.follow_step()


class TokensPanel(Panel):
    """The token strip as a Panel (the window shows it as a fixed strip under the toolbar)."""

    name = "tokens"
    title = "Tokens"

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.strip = TokenStrip(viewer)
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal)
        self.scrollbar.setToolTip("Scroll through the tokens")
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.strip)
        layout.addWidget(self.scrollbar)
        self.strip.scrolled.connect(self._sync_scrollbar)
        self.scrollbar.valueChanged.connect(self.strip.set_offset)
        self.cursor.stepChanged.connect(self._on_step_changed)
        self.setToolTip("Click a token to jump to its step; shift-click or shift-drag to select a span")

    def show_trace(self, trace: Trace) -> None:
        self.strip.set_trace(trace)
        self._sync_scrollbar()

    def set_trace(self, trace: Trace | None) -> None:
        super().set_trace(trace)
        if trace is None:
            self.strip.set_trace(None)

    def show_message(self, text: str) -> None:
        """One line instead of the chips (e.g. "Loading model..." before the first trace)."""
        self._message.setText(text)
        self._stack.setCurrentWidget(self._message)

    def _on_step_changed(self, step: int) -> None:
        if self.trace is not None:
            self.strip.follow_step()

    def _sync_scrollbar(self) -> None:
        rows = self.strip.rows
        total = rows[-1].total if rows else 0
        overflow = max(0, total - self.strip.view_width)
        self.scrollbar.blockSignals(True)
        self.scrollbar.setRange(0, overflow)
        self.scrollbar.setPageStep(self.strip.view_width)
        self.scrollbar.setValue(rows[-1].offset if rows else 0)
        self.scrollbar.blockSignals(False)
        self.scrollbar.setVisible(overflow > 0)
