"""GradientFlow: the window's side of the gradient lesson.

- Every run shown gets its gradient map filled in the background (GradientFiller), rows handed to the
  Gradient flow panel as they arrive, with progress. While the panel is a tab behind another in a
  window on screen, nothing is computed until it is shown (a Hugging Face model's row is a backward
  pass through the whole model: a long text's map is minutes of both cores), or until `finish()`.
- The panel's "W_hh ×" option (`selection.option("gradients", "recurrent_scale")`) is the
  `ScaleRecurrent(factor)` entry of the window's edits (seqviz.edits; the other edits stay): setting
  it re-traces the text and keeps the step, the exploding-gradient what-if. Removing that entry from
  the edits puts the option back to 1; a new model starts unscaled.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from seqviz.app.viewer import what_if
from seqviz.app.viewer.gradient_filler import GradientFiller

PANEL, SCALE = "gradients", "recurrent_scale"


class GradientFlow(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.filler = GradientFiller(self)
        self.filler.rowsReady.connect(self._on_rows_ready)
        self.filler.progress.connect(self._on_progress)
        self.filler.failed.connect(self._on_failed)
        self._held_back: tuple | None = None  # the filler's start, until the panel is shown
        window.session.outcome.connect(self._on_outcome)
        window.session.modelChanged.connect(self._on_model_changed)
        window.session.editsChanged.connect(self._on_edits_changed)
        window.viewer.selection.optionChanged.connect(self._on_option_changed)

    @property
    def panel(self):
        return self.window.panels.get(PANEL)

    def finish(self) -> None:
        """Complete the map of the run on screen now (before a picture)."""
        self._start_held_back()
        self.filler.finish()

    def stop(self) -> None:
        self._held_back = None
        self.filler.stop()

    # slots ------------------------------------------------------------------------------------------
    def _on_outcome(self, outcome) -> None:
        run = outcome.run
        if run is None or self.window.trace is not run.trace:
            return
        self.stop()
        self._held_back = (outcome.model, run.trace, run.model_text, run.gradient_options)
        panel = self.panel
        if panel is not None and panel.draw_pending:  # behind another tab: when it comes forward
            panel.drawn.connect(self._start_held_back, Qt.ConnectionType.UniqueConnection)
        else:
            self._start_held_back()

    def _start_held_back(self) -> None:
        held, self._held_back = self._held_back, None
        if held is None or self.window.trace is not held[1]:
            return
        cursor = self.window.viewer.cursor
        self.filler.start(*held, lambda: cursor.step - 1)

    def _on_model_changed(self, _model) -> None:
        self.window.viewer.selection.set_option(PANEL, SCALE, "1")  # a what-if belongs to one model

    def _on_option_changed(self, panel: str, key: str, value: str) -> None:
        if (panel, key) != (PANEL, SCALE):
            return
        session, trace = self.window.session, self.window.trace
        recurrent = trace is not None and trace.is_recurrent
        edits = what_if.with_scale(session.wanted_edits, float(value) if recurrent else 1.0)
        if edits != session.wanted_edits and session.run is not None:
            self.window.set_edits(edits, wait=False)

    def _on_edits_changed(self, edits: tuple) -> None:
        """The option shows the scale of the edits on screen (removing the entry resets it to 1)."""
        if self.window.session.wanted_edits == edits:  # not while a newer list is being traced
            self.window.viewer.selection.set_option(PANEL, SCALE, f"{what_if.scale_of(edits):g}")

    def _on_rows_ready(self, trace, rows, values) -> None:
        if self.panel is not None and trace is self.window.trace:
            self.panel.set_rows(rows, values)

    def _on_progress(self, trace, done: int, total: int) -> None:
        if self.panel is not None and trace is self.window.trace:
            self.panel.set_progress(done, total)

    def _on_failed(self, trace, message: str) -> None:
        if self.panel is not None and trace is self.window.trace:
            self.panel.set_progress(0, 0, message)
