"""NoticeBar: a band under the token strip for what the person must know right now.

Notes come in two kinds: about the trace on screen (bidirectional reading, unknown characters,
truncation) and about the last request (empty input, input too long: with a button that offers the
fix). It hides itself when there is nothing to say.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class NoticeBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.setStyleSheet(
            "#noticeBar { background: #fff4d6; border: 1px solid #e0c36a; border-radius: 4px; }"
            "#noticeBar QLabel { color: #3d3000; }"
        )
        self.label = QLabel(wordWrap=True)
        self.action_button = QPushButton()
        self.action_button.hide()
        self.action_button.clicked.connect(self._run_action)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        self._trace_notes: tuple[str, ...] = ()
        self._request_note: str | None = None
        self._action: Callable[[], None] | None = None
        self.hide()

    @property
    def notes(self) -> list[str]:
        """Every note shown, the request note first, each once (a request can end in a trace's note)."""
        notes = ([self._request_note] if self._request_note else []) + list(self._trace_notes)
        return list(dict.fromkeys(notes))

    def set_trace_notes(self, notes: tuple[str, ...] | list[str]) -> None:
        self._trace_notes = tuple(notes)
        self._refresh()

    def set_request_note(
        self, note: str | None, action_text: str | None = None, action: Callable[[], None] | None = None
    ) -> None:
        """A note about the last request, optionally with a button that runs `action`."""
        self._request_note = note
        self._action = action
        self.action_button.setVisible(action is not None)
        if action is not None:
            self.action_button.setText(action_text or "Fix")
            self.action_button.setToolTip(action_text or "")
        self._refresh()

    def _refresh(self) -> None:
        self.label.setText("\n".join(self.notes))
        self.label.setToolTip("\n".join(self.notes))  # the whole, should a short window cut the band
        self.setVisible(bool(self.notes))

    def _run_action(self) -> None:
        action = self._action
        if action is not None:
            action()
