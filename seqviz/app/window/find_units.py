"""FindUnitsTool: the window's side of the Find units panel (seqviz.app.panels.find_units).

The panel ranks the trace on screen by itself; what needs the model it asks for, and this answers:
- Differ: trace B's text with the session's model, in a worker thread (its own JobRunner, so it never
  replaces a text the person submitted), and hand the trace to the panel;
- Match: find where the units switch on in the model's examples (seqviz.core.unit_search.match_texts);
- Compare with B: `window.compare(window.model, text=B)`, the compared run following the same units;
- Set to B's values: the run on screen is traced again with the edits added to the session's.

`attach(window, panel)` makes one, for a window that has a session (DockArea.add_panels calls it).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject

from seqviz.app.panels import find_units_logic as logic
from seqviz.app.panels.find_units import MATCH_FRACTION, FindUnitsPanel
from seqviz.app.viewer import runs
from seqviz.app.viewer.jobs import JobRunner
from seqviz.app.viewer.runs import InputProblem
from seqviz.core.unit_search import match_texts

log = logging.getLogger("seqviz")


def attach(window, panel: FindUnitsPanel | None) -> FindUnitsTool | None:
    """Connect `panel` to `window`'s model (None when the window has no session: a bare dock area)."""
    if panel is None or getattr(window, "session", None) is None:
        return None
    return FindUnitsTool(window, panel)


class FindUnitsTool(QObject):
    def __init__(self, window, panel: FindUnitsPanel) -> None:
        super().__init__(window)
        self.window, self.panel = window, panel
        self.jobs = JobRunner(self)
        panel.differRequested.connect(self.trace_other)
        panel.examplesMatchRequested.connect(self.match_examples)
        panel.compareRequested.connect(self.compare)
        panel.editsRequested.connect(self.add_edits)
        window.session.modelChanged.connect(self._on_model_changed)
        window.installEventFilter(self)  # a worker still running when the window closes aborts Python
        self._on_model_changed(window.session.model)

    # requests ---------------------------------------------------------------------------------------
    def trace_other(self, text: str, wait: bool = False) -> None:
        """Trace B with the session's model; the panel gets the trace, or the problem in one line."""
        model = self.window.model
        if model is None:
            self.panel.set_status("No model is loaded: open one to trace a second text.")
            return
        submit = self.jobs.run_now if wait else self.jobs.submit
        submit(lambda: runs.run(model, text).trace, self._on_other_traced, self._on_failed)

    def match_examples(self, ranking: logic.Ranking, wait: bool = False) -> None:
        """Where the ranking's units switch on in each of the model's examples."""
        model = self.window.model
        if model is None or not model.examples:
            return
        units = logic.reference_units(ranking)
        where = {"array": ranking.array, "layer": ranking.layer, "direction": ranking.direction}

        def job():
            return match_texts(model, model.examples, units, min_fraction=MATCH_FRACTION, **where)

        (self.jobs.run_now if wait else self.jobs.submit)(
            job, self.panel.show_example_matches, self._on_failed
        )

    def compare(self, text: str) -> bool:
        """A comparison with B: the session's model on `text`, beside this run, the same units followed."""
        window = self.window
        if window.model is None or not window.compare(window.model, text=text):
            return False
        first = window.viewer.selection
        compared = window.viewer.selections[-1]
        compared.set_layer(first.layer)
        compared.set_direction(first.direction)
        compared.set_option("units", "array", first.option("units", "array", "hidden"))
        compared.set_units(first.units)
        return True

    def add_edits(self, edits: list, *, wait: bool = False) -> bool:
        """Trace the run on screen again with `edits` after the window's own (later edits win)."""
        window = self.window
        if not edits:
            return False
        return bool(window.set_edits((*window.edits, *edits), wait=wait))

    def finish(self) -> None:
        """Deliver what is in flight (before a picture, or in a test)."""
        self.jobs.drain()

    # slots ------------------------------------------------------------------------------------------
    def _on_other_traced(self, trace) -> None:
        self.panel.set_other(trace)
        self.panel.set_status("")

    def _on_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, (InputProblem, ValueError)):
            log.error("find units job failed", exc_info=(type(exc), exc, exc.__traceback__))
        self.panel.set_status(f"B: {exc}")

    def _on_model_changed(self, model) -> None:
        self.jobs.cancel()
        self.panel.special_tokens = tuple(model.special_tokens) if model is not None else ()
        self.panel.decode = model.decode if model is not None else None
        self.panel.set_other(None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.jobs.cancel()
        return False
