"""Panel: the base of every dock panel.

A panel takes the shared ViewState in its constructor and subscribes to it; it receives the current
Trace through `set_trace` (None when nothing is loaded). It writes user input to the state, never to
another panel. When a trace does not apply (gates for a Transformer), the panel shows one line saying
so instead of empty axes.

What-if edits: a panel whose `offers_edits` is set (the window's dock panels) offers the edits that
apply to what was right-clicked (`offer_edits`, from seqviz.app.panels.edit_choices) and emits
`editChosen(edit)` for the one picked; the window adds it. A panel showing an edited run holds a line
saying so (`set_edit_mark`), shown at its top in a picture of the panel alone (export.prep; in the
window, the notice bar says it once for every panel).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtWidgets import QBoxLayout, QLabel, QMenu, QSizePolicy, QStackedLayout, QWidget

from seqviz.app.panels.controls import ElidedLabel
from seqviz.app.viewer.model import ViewerModel
from seqviz.core.trace import Trace

BEFORE_FIRST_TRACE = "Loading model..."


class Panel(QWidget):
    editChosen = Signal(object)  # an edit (seqviz.edits) picked from the panel's right-click menu

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
        #: the window sets it for the panels whose right-click menus add edits to its run
        self.offers_edits = False
        self.edit_menu: QMenu | None = None  # the last right-click menu of edits
        self.edit_mark = ElidedLabel()  # a long list of edits must not widen the panel
        self.edit_mark.setObjectName("editMark")
        self.edit_mark.setContentsMargins(4, 1, 4, 1)
        self.edit_mark.hide()
        self._stack = QStackedLayout(self)
        self._message = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self._message.setObjectName("panelMessage")
        self.body = QWidget()
        self._stack.addWidget(self.body)
        self._stack.addWidget(self._message)
        self._before_first_trace = True  # showEvent puts up BEFORE_FIRST_TRACE instead of the body
        self.body.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)  # _show_page
        viewer.futureHiddenChanged.connect(self.set_future_hidden)

    # To override -------------------------------------------------------------------------------
    def applies_to(self, trace: Trace) -> str | None:
        """None if this panel can show `trace`, else the one-line reason shown instead."""
        return None

    def show_trace(self, trace: Trace) -> None:
        """Rebuild the panel's content for a new trace (called only when the trace applies)."""

    def splitters(self) -> dict:
        """The panel's splitters by stable name (scenes save their sizes under these names)."""
        return {}

    def future_views(self) -> list:
        """The views that cover the steps after the cursor (a Heatmap, a heatmap.FutureMask, anything
        with `set_future_hidden(hidden)`): View › Hide the future hides what they fade."""
        return []

    def set_future_hidden(self, hidden: bool) -> None:
        """Hide what comes after the step (True) or fade it (the viewer's `future_hidden`)."""
        for view in self.future_views():
            view.set_future_hidden(hidden)

    # Shared ------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        # Until the first trace: one line, not empty plots with meaningless axes ("unit (x0.001)", an
        # empty legend). Only now, once the body's widgets have been shown: widgets never shown count
        # as hidden in size hints, and the docks were laid out for a panel of a label's size.
        if self._before_first_trace:
            self._before_first_trace = False
            self._message.setText(BEFORE_FIRST_TRACE)
            self._show_page(self._message)
        super().showEvent(event)

    def set_trace(self, trace: Trace | None) -> None:
        self._before_first_trace = False
        self._ready = False  # show_trace sets it once its views match the new trace
        self.trace = trace
        reason = "No model loaded." if trace is None else self.applies_to(trace)
        if reason is not None:
            self._message.setText(reason)
            self._show_page(self._message)
            return
        self._stack.setCurrentWidget(self.body)  # room asked for once show_trace hid what does not apply
        self.set_future_hidden(self.viewer.future_hidden)
        self.show_trace(trace)
        self._show_page(self.body)

    def _show_page(self, page: QWidget) -> None:
        """Show the body or the message. Behind the message, the body asks for no room: its controls
        are all visible before a trace hides those that do not apply (the hidden state's five combo
        boxes made the window 1241 pixels wide at least, wider than a 1024x640 projector)."""
        wanted = QSizePolicy.Policy.Ignored if page is not self.body else QSizePolicy.Policy.Preferred
        if self.body.sizePolicy().horizontalPolicy() != wanted:  # a change lays the window out
            self.body.setSizePolicy(wanted, wanted)
        self._stack.setCurrentWidget(page)

    def set_edit_mark(self, text: str) -> None:
        """The line a picture of this panel alone has at its top: it shows an edited model ("": none)."""
        from seqviz.app.window.theme import current_theme

        body = self.body.layout()
        if self.edit_mark.parent() is None and isinstance(body, QBoxLayout):
            # first use: over the panel's controls; hidden, it takes no room (another level of
            # layout around the panel's stack changed the panels' minimum sizes)
            body.insertWidget(0, self.edit_mark)
        self.edit_mark.setText(text)
        # weight and colour only: the size follows the theme's panel font
        self.edit_mark.setStyleSheet(f"color: {current_theme().accent}; font-weight: bold;")

    def offer_edits(self, choices: Sequence, screen_pos: QPointF | QPoint) -> QMenu | None:
        """A menu of `choices` (edit_choices.EditChoice) at `screen_pos`; picking one emits editChosen.
        None (no menu) when the panel offers no edits or nothing applies."""
        if not self.offers_edits or not choices:
            return None
        if self.edit_menu is not None:
            self.edit_menu.deleteLater()
        menu = QMenu(self)
        for choice in choices:
            action = menu.addAction(choice.label)
            action.triggered.connect(lambda _checked=False, edit=choice.edit: self.editChosen.emit(edit))
        self.edit_menu = menu
        menu.popup(QPoint(round(screen_pos.x()), round(screen_pos.y())))
        return menu

    @property
    def message(self) -> str | None:
        """The not-applicable line currently shown, or None when the panel shows data."""
        return self._message.text() if self._stack.currentWidget() is self._message else None
