"""ModelCombo: the toolbar's model chooser, its entry ended at a whole word where it does not fit.

Qt cuts a combo box's text at its edge, mid-word ("longrange-lstm — LSTI"). This one is as wide as
the chosen model's id (within bounds; the toolbar is crowded at 1024x640), ends the rest with "…" after
the last whole word that fits, and has the whole entry in its tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter, QWidget

from seqviz.app.panels.text_elision import ELLIPSIS, elide_words

ID_SEPARATOR = " \u2014 "  # an entry is "id — description"
MIN_CHARS, MAX_CHARS = 14, 30  # the width it asks for: the chosen id's, within these many characters


class ModelCombo(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hint = ""  # what the chooser is for (setToolTip); the tooltip adds the whole entry
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(MIN_CHARS)  # an id ("longrange-lstm"); the list shows the rest
        self.currentIndexChanged.connect(self._on_current_changed)

    def setToolTip(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._hint = text
        self._on_current_changed()

    def setCurrentIndex(self, index: int) -> None:  # noqa: N802 (Qt's name)
        super().setCurrentIndex(index)
        self._on_current_changed()  # the toolbar sets it with signals blocked

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        """Qt's (MIN_CHARS characters) widened to the chosen model's id, by MAX_CHARS at most."""
        hint, metrics = super().sizeHint(), self.fontMetrics()
        model_id = self.currentText().split(ID_SEPARATOR)[0] if self.currentIndex() >= 0 else ""
        wanted = metrics.horizontalAdvance(f"{model_id} {ELLIPSIS}") - metrics.horizontalAdvance(
            "x" * MIN_CHARS
        )
        most = metrics.horizontalAdvance("x" * (MAX_CHARS - MIN_CHARS))
        return QSize(hint.width() + min(max(wanted, 0), most), hint.height())

    def shown_text(self) -> str:
        """The entry as painted: whole, or ended at a whole word with "…"."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        text = self.currentText() if self.currentIndex() >= 0 else self.placeholderText()
        return elide_words(text, self.fontMetrics(), max(field.width() - 4, 0))

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        option.currentText = self.shown_text()
        with QStylePainter(self) as painter:  # ended even if drawing fails: an active one crashes Qt later
            painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
            painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def _on_current_changed(self, _index: int = -1) -> None:
        whole = self.currentText() if self.currentIndex() >= 0 else ""
        super().setToolTip(f"{whole}\n{self._hint}" if whole else self._hint)
        self.updateGeometry()  # its width follows the chosen id
