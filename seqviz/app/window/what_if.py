"""WhatIf: the window's side of model edits (seqviz.edits) — the edit API, the Edits list, the marks.

- `MainWindow.edits / add_edit / remove_edit / set_edits` land here: each traces the run's text again
  with the new list through the Session and keeps the step. An edit that does not fit the model is an
  error box ("Cannot apply the edit") and the edits and the run stay as they were.
- The dock panels' right-click menus (seqviz.app.panels.edit_choices) add the edit picked.
- The Edits dock (View › Edits; it opens by itself at the first edit in a wide window) lists the
  active edits, each with a remove button, with "Clear all" (also Edit › Clear edits,
  Ctrl+Shift+E) and "Compare with the unedited model" (the same model beside, no edits).
- An edited run is marked: the notice bar and the status bar say so (runs.trace_notes; in a
  comparison, each run's label names its edits), and a picture of one panel alone has a line at its
  top saying so (Panel.set_edit_mark, shown by export.prep): every picture says the model was edited.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from seqviz.app.viewer import what_if
from seqviz.app.viewer.runs import InputProblem
from seqviz.app.window import dialogs

CLEAR_KEYS = "Ctrl+Shift+E"
# The panels are laid out to fit a 1280 px window (the presentation theme at 1280x720): the Edits dock
# opens by itself only beside that much room (View › Edits opens it anywhere).
PANELS_WIDTH = 1280
EMPTY_TEXT = (
    "No edits: the model as trained. Right-click a unit in the Hidden state, Gates or Selected units "
    "panel, or a head in the Attention panel, to change what the model computes."
)


class EditsList(QWidget):
    """The active edits, one row each with a remove button; Clear all; Compare with the unedited model."""

    removeClicked = Signal(int)  # the row's index
    clearClicked = Signal()
    compareClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[QWidget] = []
        self.empty = QLabel(EMPTY_TEXT, wordWrap=True)
        self.empty.setObjectName("editsEmpty")
        self.list_layout = QVBoxLayout()
        self.list_layout.setSpacing(2)
        self.clear_button = QPushButton("Clear all")
        self.clear_button.setToolTip(f"Remove every edit ({CLEAR_KEYS})")
        self.clear_button.clicked.connect(self.clearClicked)
        self.compare_button = QPushButton("Compare with the unedited model")
        self.compare_button.setToolTip("Run the same model without edits beside this one")
        self.compare_button.clicked.connect(self.compareClicked)
        buttons = QVBoxLayout()  # one above the other: the dock stays narrow
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.compare_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.empty)
        layout.addLayout(self.list_layout)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.set_edits(())

    @property
    def texts(self) -> list[str]:
        """The descriptions listed, in order."""
        return [row.findChild(QLabel).text() for row in self.rows]

    def set_edits(self, descriptions: tuple[str, ...]) -> None:
        for row in self.rows:
            self.list_layout.removeWidget(row)
            row.deleteLater()
        self.rows = [self._row(i, text) for i, text in enumerate(descriptions)]
        for row in self.rows:
            self.list_layout.addWidget(row)
        self.empty.setVisible(not descriptions)
        self.clear_button.setEnabled(bool(descriptions))
        self.compare_button.setEnabled(bool(descriptions))

    def _row(self, index: int, text: str) -> QWidget:
        row = QWidget()
        label = QLabel(text, wordWrap=True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        remove = QToolButton(text="\u2715", autoRaise=True)
        remove.setObjectName("removeEdit")
        remove.setToolTip("Remove this edit")
        remove.clicked.connect(lambda: self.removeClicked.emit(index))
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label, 1)
        layout.addWidget(remove, 0, Qt.AlignmentFlag.AlignTop)
        return row

    def remove_button(self, index: int) -> QToolButton:
        return self.rows[index].findChild(QToolButton, "removeEdit")


class WhatIf(QObject):
    """The edits of a MainWindow's run: API, panel menus, the Edits dock and the marks."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.list = EditsList()
        self.dock = QDockWidget("Edits", window)
        self.dock.setObjectName("dock_edits")
        self.dock.setWidget(self.list)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()  # shown when the first edit is made, if there is room
        self._offered = False  # the dock opens by itself once; then it stays as the person leaves it
        window.view_menu.addAction(self.dock.toggleViewAction())
        self._build_actions()
        self.list.removeClicked.connect(lambda index: self.remove(index, wait=False))
        self.list.clearClicked.connect(lambda: self.set((), wait=False))
        self.list.compareClicked.connect(self.compare_unedited)
        self.session.editsChanged.connect(self._on_edits_changed)
        window.traceShown.connect(self._on_trace_shown)

    def _build_actions(self) -> None:
        self.clear_action = QAction("Clear edits", self.window)
        self.clear_action.setShortcut(QKeySequence(CLEAR_KEYS))
        self.clear_action.setStatusTip("Remove every edit of the model: back to the model as trained")
        self.clear_action.triggered.connect(lambda: self.set((), wait=False))
        self.compare_action = QAction("Compare with the unedited model", self.window)
        self.compare_action.triggered.connect(self.compare_unedited)
        self.window.addAction(self.clear_action)  # the key works wherever the focus is
        menu = getattr(self.window, "edit_menu", None)
        if menu is not None:
            menu.addSeparator()
            menu.addActions([self.clear_action, self.compare_action])
        self._update_actions(())

    def connect_panels(self, panels: dict) -> None:
        """Let the dock panels' right-click menus add edits (once per panel)."""
        for panel in panels.values():
            if not panel.offers_edits:
                panel.offers_edits = True
                panel.editChosen.connect(lambda edit: self.add(edit, wait=False))
        if self.window.trace is not None:
            self._on_trace_shown(self.window.trace)

    # the API ----------------------------------------------------------------------------------------
    @property
    def edits(self) -> tuple:
        return self.session.edits

    def add(self, edit, *, wait: bool = True) -> bool:
        return self._request(lambda: what_if.added(self.session.wanted_edits, edit), wait)

    def remove(self, index: int, *, wait: bool = True) -> bool:
        return self._request(lambda: what_if.removed(self.session.wanted_edits, index), wait)

    def set(self, edits, *, wait: bool = True) -> bool:
        return self._request(lambda: tuple(edits), wait)

    def _request(self, new_edits, wait: bool) -> bool:
        """Trace again with the list `new_edits()` makes; False (with an error box) if it cannot."""
        window = self.window
        try:
            edits = new_edits()
            if edits == self.session.wanted_edits:
                return True
            return self.session.set_edits(edits, window.text, wait=wait, step=max(1, window.step))
        except (what_if.EditProblem, InputProblem) as problem:
            dialogs.show_error(window, "Cannot apply the edit", str(problem))
            return False

    def compare_unedited(self) -> bool:
        """The same model without edits beside the edited run (View › Stop comparing ends it)."""
        window = self.window
        if window.model is None or not self.edits:
            return False
        return window.compare(window.model)

    # marks ------------------------------------------------------------------------------------------
    def _on_edits_changed(self, edits: tuple) -> None:
        self.list.set_edits(what_if.describe_all(edits))
        self._update_actions(edits)
        room = self.window.width() - self.dock.sizeHint().width() >= PANELS_WIDTH
        if edits and not self._offered and room:
            self._offered = True
            self.dock.show()

    def _update_actions(self, edits: tuple) -> None:
        self.clear_action.setEnabled(bool(edits))
        self.compare_action.setEnabled(bool(edits))

    def _on_trace_shown(self, trace) -> None:
        """Every dock panel knows whether it shows an edited run (a trace file: its own edits)."""
        run = self.window.run
        described = what_if.describe_all(run.edits) if run is not None else tuple(trace.meta.edits)
        mark = "\u270e edited: " + "; ".join(described) if described else ""
        for panel in self.window.dock_area.panels.values():
            panel.set_edit_mark(mark)


def install(window) -> WhatIf:
    """The window's what-if edits (after its menus, session and dock area exist)."""
    return WhatIf(window)
