"""The widgets of a comparison: a label per run, and a column of panels for each compared run.

A `RunHeader` names a run (letter, model, text, edits) — in the window and so in every picture of it —
with a close button for a compared run. A `RunColumn` shows one compared run: its header, its token
strip, and its own panels built on its RunViewer (its step under the shared cursor, its own layer, head
and units): hidden state, gates, attention and the difference B − A in tabs (those that do not apply
to the run are hidden), and its output below.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QTabWidget, QToolButton, QVBoxLayout, QWidget

from seqviz.app.panels.base import Panel
from seqviz.app.panels.controls import ElidedLabel
from seqviz.app.panels.tokens import TokensPanel
from seqviz.app.viewer.comparison import RunViewer
from seqviz.core.trace import Trace

RUN_LETTERS = "ABCD"
SHARES = (3, 2)  # a compared run's panels (tabs) and its output share its column (or row) so
TEXT_CHARS = 60  # a longer text is shown with an ellipsis in a run's label (the tooltip has it all)


def run_label(index: int, model_label: str, text: str, edits: tuple[str, ...] = ()) -> str:
    """One line naming a run: "B · LSTM (long range) · “i was born in spain …” · edited: …"."""
    shown = text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "\u2026"
    parts = [RUN_LETTERS[index], model_label, f"\u201c{shown}\u201d"]
    if edits:
        parts.append("edited: " + ", ".join(edits))
    return "  \u00b7  ".join(parts)


class RunHeader(QWidget):
    """A run's label, with a close button for a compared run."""

    closeClicked = Signal()

    def __init__(self, closable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # ends with "…" where it does not fit (it was cut mid-word); it never widens the column
        self.label = ElidedLabel()
        self.label.setObjectName("runLabel")
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 1, 4, 1)
        layout.addWidget(self.label, 1)
        if closable:
            self.close_button = QToolButton(text="\u2715", autoRaise=True)
            self.close_button.setToolTip("Stop comparing this run")
            self.close_button.clicked.connect(self.closeClicked)
            layout.addWidget(self.close_button)

    def set_text(self, text: str, tooltip: str = "") -> None:
        """The label; its tooltip, when it is cut (ElidedLabel), is `tooltip` (the run's whole text)."""
        self.label.setText(text)
        self.setToolTip(tooltip or text)  # the header's own: shown wherever the label has none

    @property
    def text(self) -> str:
        return self.label.text()


class RunColumn(QWidget):
    """One compared run: header, token strip, panels on its RunViewer."""

    def __init__(self, run_viewer: RunViewer, parent: QWidget | None = None) -> None:
        from seqviz.app import panels
        from seqviz.app.panels.difference import DifferencePanel

        super().__init__(parent)
        self.setObjectName("runColumn")
        self.run_viewer = run_viewer
        self.header = RunHeader(closable=True)
        self.tokens = TokensPanel(run_viewer)
        self.panels: dict[str, Panel] = {
            "hidden": panels.HiddenPanel(run_viewer),
            "gates": panels.GatesPanel(run_viewer),
            "attention": panels.AttentionPanel(run_viewer),
            "difference": DifferencePanel(run_viewer),
            "output": panels.OutputPanel(run_viewer),
        }
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for name in ("hidden", "gates", "attention", "difference"):
            self.tabs.addTab(self.panels[name], self.panels[name].title)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.panels["output"])
        self.splitter.setStretchFactor(0, SHARES[0])
        self.splitter.setStretchFactor(1, SHARES[1])
        # sizes before the first layout are proportions: without them the output got what was left
        # by the panels' size hints (one bar of ten at 1920x1080)
        self.splitter.setSizes([share * 100 for share in SHARES])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.tokens)
        layout.addWidget(self.splitter, 1)

    def set_traces(self, reference: Trace | None, trace: Trace) -> list[str]:
        """Show `trace` (this run) and its difference from `reference` (run A); returns the panels'
        failures as "title: message" lines (the other panels still update)."""
        failures = []
        self.tokens.set_trace(trace)
        for name, panel in self.panels.items():
            try:
                if name == "difference":
                    panel.set_traces(reference, trace)
                else:
                    panel.set_trace(trace)
            except Exception as exc:  # one panel must not keep the others from showing the run
                failures.append(f"{panel.title}: {type(exc).__name__}: {exc}")
        for index in range(self.tabs.count()):  # a tab that does not apply is not offered
            panel = self.tabs.widget(index)
            self.tabs.setTabVisible(index, panel.message is None or panel.name == "difference")
        if not self.tabs.isTabVisible(self.tabs.currentIndex()):
            self.tabs.setCurrentIndex(0)
        return failures

    def set_narrow(self, narrow: bool) -> None:
        """Rows of runs (a narrow window): the panels side by side; columns: stacked."""
        orientation = Qt.Orientation.Horizontal if narrow else Qt.Orientation.Vertical
        if orientation == self.splitter.orientation():
            return
        self.splitter.setOrientation(orientation)
        # the sizes were lengths along the other direction: a column's output got the few pixels its
        # row had given it beside the panels, and drew its bars over its axis
        length = self.width() if narrow else self.height()
        self.splitter.setSizes([length * share // sum(SHARES) for share in SHARES])

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentWidget(self.panels[name])
