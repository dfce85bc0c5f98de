"""Panel: the base of every dock panel.

A panel takes the shared ViewState in its constructor and subscribes to it; it receives the current
Trace through `set_trace` (None when nothing is loaded). It writes user input to the state, never to
another panel. When a trace does not apply (gates for a Transformer), the panel shows one line saying
so instead of empty axes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from seqviz.app.viewer.model import ViewerModel
from seqviz.core.trace import Trace


class Panel(QWidget):
    #: short id used by the View menu, scenes and `--panel` (e.g. "hidden")
    name: str = "panel"
    #: dock title
    title: str = "Panel"

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None, run: int = 0) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.cursor = viewer.cursor  # the step, shared by every run
        self.selection = viewer.selections[run]  # this run's layer, direction, head, units, options
        self.trace: Trace | None = None
        #: True once `show_trace` has built the views for `self.trace`; handlers do nothing before
        self._ready = False
        self._stack = QStackedLayout(self)
        self._message = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self._message.setObjectName("panelMessage")
        self.body = QWidget()
        self._stack.addWidget(self.body)
        self._stack.addWidget(self._message)

    # To override -------------------------------------------------------------------------------
    def applies_to(self, trace: Trace) -> str | None:
        """None if this panel can show `trace`, else the one-line reason shown instead."""
        return None

    def show_trace(self, trace: Trace) -> None:
        """Rebuild the panel's content for a new trace (called only when the trace applies)."""

    def splitters(self) -> dict:
        """The panel's splitters by stable name (scenes save their sizes under these names)."""
        return {}

    # Shared ------------------------------------------------------------------------------------
    def set_trace(self, trace: Trace | None) -> None:
        self._ready = False  # show_trace sets it once its views match the new trace
        self.trace = trace
        reason = "No model loaded." if trace is None else self.applies_to(trace)
        if reason is not None:
            self._message.setText(reason)
            self._stack.setCurrentWidget(self._message)
            return
        self._stack.setCurrentWidget(self.body)
        self.show_trace(trace)

    @property
    def message(self) -> str | None:
        """The not-applicable line currently shown, or None when the panel shows data."""
        return self._message.text() if self._stack.currentWidget() is self._message else None
