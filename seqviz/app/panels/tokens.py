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

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QMenu, QScrollBar, QToolTip, QVBoxLayout, QWidget

from seqviz.app.panels import token_marks, token_pieces
from seqviz.app.panels.base import Panel
from seqviz.app.panels.token_chips import MARGIN, PAD_X, ChipPainter, ChipRow, ChipStyle, source_weights
from seqviz.app.panels.token_pieces import chip_tooltip
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.core.token_display import display_token
from seqviz.core.trace import Trace

ROW_NAMES = ("source", "output")  # the two rows of a sequence-to-sequence trace, labelled on the left


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
        self.span_drag = token_marks.SpanDrag(self.selection)
        self.selection.optionChanged.connect(self._on_option_changed)
        self.rows: list[ChipRow] = []
        self._trace: Trace | None = None
        self.special_tokens: frozenset[str] = frozenset()  # raw pieces (the model's special_tokens)
        self._pieces: list[list[str] | None] = []  # per row: the tokenizer's pieces, if the trace has them
        self.special: frozenset[int] = frozenset()  # positions of the output row that are special
        self.unknown: list[frozenset[int]] = []  # per row: positions of words the model does not know
        self.generated_from: int | None = None  # the first output position the model generated
        self._source_weights: np.ndarray | None = None  # (T, S) mean cross-attention, last layer
        self.chips = ChipPainter(self)
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
    def accent(self) -> QColor:
        """The theme's accent: the current chip's fill, generated tokens' text, the span's outline."""
        return self.chips.accent

    @accent.setter
    def accent(self, colour: QColor) -> None:
        self.chips.accent = colour

    @property
    def chip_height(self) -> int:
        return self.chips.height

    def row_top(self, row: int) -> int:
        """The y of the top of `row`'s chips (negative: from the last row)."""
        return (row % len(self.rows)) * (self.chip_height + 2 * MARGIN) + MARGIN

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
        return QRect(
            self.left + int(r.starts[i]) - r.offset, self.row_top(row), int(r.widths[i]), self.chip_height
        )

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
                self.rows.append(ChipRow(tokens, metrics, {i: pieces[i] for i in unknown}))
            self._source_weights = source_weights(trace)
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

        def target_style(i: int) -> ChipStyle:
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
        token_marks.paint_options(painter, self.selection, self.chip_rect, self.visible_range(), self.accent)
        if len(self.rows) > 1:
            painter.setClipping(False)
            painter.setPen(dim_text)
            for r, name in enumerate(ROW_NAMES):
                label_rect = QRect(0, self.row_top(r), self.label_width - PAD_X, self.chip_height)
                painter.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, name)

    def _paint_row(self, painter: QPainter, r: int, style: Callable[[int], ChipStyle]) -> None:
        """Chips of row r in view; `style(i)` gives (fill, text colour, mark), or None: not drawn."""
        self.chips.paint_row(painter, self.rows[r], self.left, self.row_top(r), self.view_width, style)

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
            self.span_drag.start(self._step_at(pos))
            return
        self._jump_to(pos)

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            if self.span_drag.active:
                self.span_drag.extend(self._step_at(pos))
            else:
                self._jump_to(pos)

    def mouseReleaseEvent(self, event) -> None:
        self.span_drag.end()

    def _step_at(self, pos: QPoint) -> int | None:
        hit = self.index_at(pos)
        return hit[1] + 1 if hit is not None and hit[0] == len(self.rows) - 1 else None

    def _on_option_changed(self, panel: str, key: str, _value: str) -> None:
        if token_marks.is_marks_option(panel, key):
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
            self.chips.cache.clear()
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
