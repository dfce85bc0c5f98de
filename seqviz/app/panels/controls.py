"""Small Qt controls shared by the panels: combo boxes bound to one ViewState field."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSignalBlocker, QSize, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QWidget

from seqviz.app.state import ViewState

DIRECTION_LABELS = ["forward \u2192", "backward \u2190"]


def clamp_index(value: int, count: int) -> int:
    """`value` clamped into 0..count-1 (a state may still hold the previous model's layer)."""
    return min(max(int(value), 0), max(count - 1, 0))


class StateCombo(QComboBox):
    """A combo box bound to the ViewState field `field` ("layer", "direction", "head").

    Choosing an item writes the state; a state change moves the box with its signals blocked,
    so the two never echo each other.
    """

    def __init__(self, state: ViewState, field: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.field = field
        self._setter = getattr(state, f"set_{field}")
        self.currentIndexChanged.connect(self._on_index_changed)
        getattr(state, f"{field}Changed").connect(self._on_state_changed)

    def set_choices(self, labels: list[str]) -> None:
        with QSignalBlocker(self):
            self.clear()
            self.addItems(labels)
            self.setCurrentIndex(clamp_index(getattr(self.state, self.field), len(labels)))

    def _on_index_changed(self, index: int) -> None:
        if index >= 0:
            self._setter(index)

    def _on_state_changed(self, value: int) -> None:
        if 0 <= value < self.count():
            with QSignalBlocker(self):
                self.setCurrentIndex(value)


class ControlRow(QWidget):
    """A row of labelled controls followed by a note (a short explanatory line)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 2, 4, 2)
        self.note = QLabel()
        self.note.setObjectName("panelNote")
        self._labels: dict[QWidget, QLabel] = {}

    def add(self, text: str, widget: QWidget) -> QWidget:
        label = QLabel(text)
        self._labels[widget] = label
        self._layout.addWidget(label)
        self._layout.addWidget(widget)
        return widget

    def finish(self) -> None:
        """Put the note after the controls (call once, after the last `add`)."""
        self._layout.addWidget(self.note, 1)

    def set_shown(self, widget: QWidget, shown: bool) -> None:
        """Hide a control and its label (e.g. the direction box for a one-directional model)."""
        widget.setVisible(shown)
        self._labels[widget].setVisible(shown)


class StepLabel(QWidget):
    """Rich text that changes on every step without laying the window out again.

    A QLabel in a layout asks for a new layout on every `setText` (its size hint may have changed),
    and the request climbs dock by dock to the main window: a whole-window layout per step. Here the
    QLabel is a free child of this holder, fixed to the holder's size, so a new text only repaints.
    The holder is `lines` rich-text lines tall (in its current font); its width follows the layout
    and text wider than that is clipped.
    """

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

    def setTextInteractionFlags(self, flags) -> None:  # noqa: N802
        self.label.setTextInteractionFlags(flags)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(100, self.height())

    def _fit_height(self) -> None:
        """Height of `lines` lines with sub/superscripts (the tallest the texts get)."""
        doc = QTextDocument()
        doc.setDefaultFont(self.font())
        doc.setDocumentMargin(0)
        doc.setHtml("<br>".join(["X<sub>t</sub><sup>2</sup>"] * self.lines))
        self.setFixedHeight(int(doc.size().height()) + 2)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # a theme switch: a layout then is fine
            self._fit_height()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.label.setFixedSize(self.size())
