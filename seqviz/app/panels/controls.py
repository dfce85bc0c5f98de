"""Small Qt controls shared by the panels: combo boxes bound to a Selection field or panel option."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QTextDocument
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from seqviz.app.viewer.model import Selection

DIRECTION_LABELS = ["forward \u2192", "backward \u2190"]


def clamp_index(value: int, count: int) -> int:
    """`value` clamped into 0..count-1 (a state may still hold the previous model's layer)."""
    return min(max(int(value), 0), max(count - 1, 0))


class SelectionCombo(QComboBox):
    """A combo box bound to the Selection field `field` ("layer", "direction", "head").

    Choosing an item writes the selection; a selection change moves the box with its signals blocked,
    so the two never echo each other.
    """

    def __init__(self, selection: Selection, field: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection = selection
        self.field = field
        self._setter = getattr(selection, f"set_{field}")
        self.currentIndexChanged.connect(self._on_index_changed)
        getattr(selection, f"{field}Changed").connect(self._on_selection_changed)

    def set_choices(self, labels: list[str]) -> None:
        with QSignalBlocker(self):
            self.clear()
            self.addItems(labels)
            self.setCurrentIndex(clamp_index(getattr(self.selection, self.field), len(labels)))

    def _on_index_changed(self, index: int) -> None:
        if index >= 0:
            self._setter(index)

    def _on_selection_changed(self, value: int) -> None:
        if 0 <= value < self.count():
            with QSignalBlocker(self):
                self.setCurrentIndex(value)


class OptionCombo(QComboBox):
    """A combo box bound to a panel option of the Selection (`selection.option(panel, key)`).

    Items carry stable values (the option's value, e.g. an array name) and show labels; scenes store
    the value, never the label or the widget's name. `valueChanged` fires on a change from either side
    (the person, or the selection set by a scene or a script).
    """

    valueChanged = Signal(str)

    def __init__(self, selection: Selection, panel: str, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection, self.panel, self.key = selection, panel, key
        self.currentIndexChanged.connect(self._on_index_changed)
        selection.optionChanged.connect(self._on_option_changed)

    @property
    def value(self) -> str:
        return str(self.currentData() or "")

    @property
    def values(self) -> list[str]:
        return [str(self.itemData(i)) for i in range(self.count())]

    def set_choices(self, values: list[str], labels: list[str], default: str) -> None:
        """Offer `values` (shown as `labels`); keep the selection's value if it is one, else `default`."""
        wanted = self.selection.option(self.panel, self.key)
        chosen = wanted if wanted in values else default
        with QSignalBlocker(self):
            self.clear()
            for value, label in zip(values, labels, strict=True):
                self.addItem(label, value)
            self.setCurrentIndex(values.index(chosen))
        self.selection.set_option(self.panel, self.key, chosen)

    def _on_index_changed(self, index: int) -> None:
        if index >= 0:
            self.selection.set_option(self.panel, self.key, self.value)
            self.valueChanged.emit(self.value)

    def _on_option_changed(self, panel: str, key: str, value: str) -> None:
        if (panel, key) != (self.panel, self.key):
            return
        index = self.findData(value)
        if index < 0 and self.count():  # not offered for this trace: the selection keeps what is shown
            self.selection.set_option(panel, key, self.value)
            return
        if index < 0 or index == self.currentIndex():
            return
        with QSignalBlocker(self):
            self.setCurrentIndex(index)
        self.valueChanged.emit(value)


class ControlRow(QWidget):
    """A row of labelled controls followed by a note (a short explanatory line).

    A note that does not fit beside the controls goes under them, where the whole of it usually fits
    (notes were cut off at the window's default width), on two lines if one is not enough, elided
    only beyond. Notes change with the trace or the selection, never per step.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lines = QVBoxLayout(self)
        lines.setContentsMargins(4, 2, 4, 2)
        lines.setSpacing(1)
        self._layout = QHBoxLayout()
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._below = QHBoxLayout()  # the note's own line, when it does not fit beside the controls
        self._below.setContentsMargins(0, 0, 0, 0)
        lines.addLayout(self._layout)
        lines.addLayout(self._below)
        self.note = ElidedLabel()
        self.note.setObjectName("panelNote")
        self.note.textSet.connect(self._place_note)
        self._labels: dict[QWidget, QLabel] = {}
        self._finished = False

    def add(self, text: str, widget: QWidget) -> QWidget:
        label = QLabel(text)
        self._labels[widget] = label
        self._layout.addWidget(label)
        self._layout.addWidget(widget)
        return widget

    def finish(self) -> None:
        """Put the note after the controls (call once, after the last `add`)."""
        self._layout.addWidget(self.note, 1)
        self._layout.addStretch(0)  # the controls keep their size when the note goes below
        self._finished = True
        self._place_note()

    def set_shown(self, widget: QWidget, shown: bool) -> None:
        """Hide a control and its label (e.g. the direction box for a one-directional model)."""
        widget.setVisible(shown)
        self._labels[widget].setVisible(shown)
        self._place_note()
        # the sizes the layouts keep are renewed only by this while the row was never shown: Qt
        # invalidates the row's own layout, not the nested one holding the controls, nor the row's
        # size in its parent's layout (a compared run's hidden state, built off screen, asked for all
        # five combo boxes' room: 650 px, and widened the window by 76 to 146 px)
        self._layout.invalidate()
        self.updateGeometry()

    @property
    def note_below(self) -> bool:
        """Whether the note is on its own line under the controls."""
        return self._below.indexOf(self.note) >= 0

    def _controls_width(self) -> int:
        """The width the controls of the first line ask for (the note not counted)."""
        items = [self._layout.itemAt(i) for i in range(self._layout.count())]
        shown = [item for item in items if item.widget() not in (None, self.note) and not item.isEmpty()]
        return sum(item.sizeHint().width() for item in shown) + self._layout.spacing() * len(shown)

    def _place_note(self, *_args) -> None:
        if not self._finished or self.width() <= 0:
            return
        margins = self.contentsMargins().left() + self.contentsMargins().right() + 8
        text_width = self.note.fontMetrics().horizontalAdvance(self.note.text())
        below = bool(self.note.text()) and self._controls_width() + text_width + margins > self.width()
        self.note.set_lines(2 if below and text_width + margins > self.width() else 1)  # still long
        if below == self.note_below:
            return
        (self._layout if below else self._below).removeWidget(self.note)
        if below:
            self._below.addWidget(self.note, 1)
        else:
            self._layout.insertWidget(self._layout.count() - 1, self.note, 1)  # before the stretch

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_note()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # a theme's text size
            self._place_note()


class ElidedLabel(QLabel):
    """A one-line plain-text label that never asks for more width than a few characters.

    A QLabel's minimum width is its whole text, so a long note in a control row made the panel wider
    than its dock and was painted over the neighbouring dock. This label takes the width the layout
    gives it and ends the text with "\u2026" when it does not fit; the tooltip then holds the whole
    text. `text()` is always the whole text.
    """

    MIN_CHARS = 4  # a hint of the note stays visible in the narrowest panel
    textSet = Signal(str)  # the whole text, after each setText

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._lines = 1

    def set_lines(self, lines: int) -> None:
        """Wrap the text at spaces onto up to `lines` lines, the last one elided (1: one line)."""
        if lines != self._lines:
            self._lines = lines
            self.updateGeometry()
            self._update_tooltip()
            self.update()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        width = self.fontMetrics().horizontalAdvance("x" * (self.MIN_CHARS - 1) + "\u2026")
        extra = (self._lines - 1) * self.fontMetrics().lineSpacing()
        return QSize(width, super().minimumSizeHint().height() + extra)

    def sizeHint(self) -> QSize:  # noqa: N802
        # no claim beyond the minimum: the controls before it keep their size, and the note takes
        # what is left through its stretch (ControlRow.finish)
        return self.minimumSizeHint()

    def shown_lines(self) -> list[str]:
        """The text as painted, a line each: whole words on every line but the last, which ends with
        "\u2026" when the rest does not fit the label's width."""
        metrics, room = self.fontMetrics(), self.contentsRect().width()
        words, lines = self.text().split(" "), []
        while len(words) > 1 and len(lines) < self._lines - 1:
            line = words.pop(0)
            while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= room:
                line += " " + words.pop(0)
            lines.append(line)
        rest = " ".join(words)
        return [*lines, metrics.elidedText(rest, Qt.TextElideMode.ElideRight, room)] if words else lines

    def shown_text(self) -> str:
        """The text as painted: whole, or elided to the label's width (its lines joined by newlines)."""
        return "\n".join(self.shown_lines())

    def is_elided(self) -> bool:
        return " ".join(self.shown_lines()) != self.text()

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name)
        super().setText(text)
        self._update_tooltip()
        self.textSet.emit(text)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        self.setToolTip(self.text() if self.is_elided() else "")

    def paintEvent(self, event) -> None:  # noqa: N802
        align = self.alignment() | Qt.AlignmentFlag.AlignVCenter
        with QPainter(self) as painter:  # ended even if drawing fails: an active one crashes Qt later
            self.style().drawItemText(
                painter,
                self.contentsRect(),
                int(align),
                self.palette(),
                self.isEnabled(),
                self.shown_text(),
                self.foregroundRole(),
            )


class StepLabel(QWidget):
    """Rich text that changes on every step without laying the window out again.

    A QLabel in a layout asks for a new layout on every `setText` (its size hint may have changed),
    and the request climbs dock by dock to the main window: a whole-window layout per step. Here the
    QLabel is a free child of this holder, fixed to the holder's size, so a new text only repaints.
    The holder is `lines` rich-text lines tall (in its current font); its width follows the layout.
    Text wider than that is drawn smaller, down to MIN_SCALE of the font (an equation cut off at the
    right lost its result in narrow docks and presentation fonts), and clipped beyond.
    """

    MIN_SCALE = 0.6

    def __init__(self, lines: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines = lines
        self.label = QLabel(self, textFormat=Qt.TextFormat.RichText)
        self.label.setContentsMargins(0, 0, 0, 0)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit_height()

    def text(self) -> str:
        return self.label.text()

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name)
        self.label.setText(text)
        self._fit_font()

    def setTextInteractionFlags(self, flags) -> None:  # noqa: N802
        self.label.setTextInteractionFlags(flags)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(100, self.height())

    def text_scale(self) -> float:
        """The drawn text's size relative to the holder's font (1.0: whole size)."""
        return self.label.font().pointSizeF() / self.font().pointSizeF()

    def _fit_height(self) -> None:
        """Height of `lines` lines with sub/superscripts (the tallest the texts get)."""
        doc = QTextDocument()
        doc.setDefaultFont(self.font())
        doc.setDocumentMargin(0)
        doc.setHtml("<br>".join(["X<sub>t</sub><sup>2</sup>"] * self.lines))
        self.setFixedHeight(int(doc.size().height()) + 2)

    def _fit_font(self) -> None:
        """The label's font: the holder's, made smaller when the text is wider than the holder.

        The label has a fixed size, so a new font only repaints it (no layout request)."""
        font = self.font()
        doc = QTextDocument()
        doc.setDefaultFont(font)
        doc.setDocumentMargin(0)
        doc.setHtml(self.label.text())
        needed, room = doc.idealWidth() + 2, self.width()
        if needed > room > 0:  # a smaller font's text is not exactly proportionally narrower
            font.setPointSizeF(font.pointSizeF() * max(self.MIN_SCALE, 0.96 * room / needed))
        if font != self.label.font():
            self.label.setFont(font)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # a theme switch: a layout then is fine
            self._fit_height()
            self._fit_font()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.label.setFixedSize(self.size())
        self._fit_font()
