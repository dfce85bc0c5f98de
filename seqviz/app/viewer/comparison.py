"""A compared run as its panels see it, without widgets: its own step under the shared cursor.

Panels read `viewer.cursor` and `viewer.selections[run]`. A compared run's panels get a `RunViewer`
instead: the same ViewerModel's Selection for that run, and a `RunCursor` that follows the shared
Cursor through the run's step map (seqviz.app.viewer.alignment) — step t of the first run, or the step
of a character model that has read as far into the text. A click in a compared run's panel sets its
RunCursor, which moves the shared cursor to the matching step, so every run follows.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject

from seqviz.app.viewer import alignment
from seqviz.app.viewer.model import Cursor, FirstRun, Selection, ViewerModel
from seqviz.core.trace import Trace


class RunCursor(Cursor):
    """The step of one compared run (1..its T), moved only through the shared Cursor."""

    def __init__(self, shared: Cursor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shared = shared
        self.step_map: np.ndarray | None = None  # None: by position
        shared.stepChanged.connect(self._follow)
        shared.numStepsChanged.connect(self._follow)

    def set_alignment(self, num_steps: int, step_map: np.ndarray | None) -> None:
        """The run's length and how the shared steps map to its steps; then follow the shared step."""
        self.step_map = step_map
        super().set_num_steps(num_steps)
        self._follow()

    def set_step(self, step: int) -> None:
        """A panel of this run asks for `step`: the shared cursor goes where this run shows it."""
        if self.shared.num_steps:
            self.shared.set_step(alignment.shared_step_for(self.step_map, int(step)))

    def set_num_steps(self, n: int) -> None:
        super().set_num_steps(n)
        self._follow()

    def _follow(self, *_args) -> None:
        step = alignment.run_step(self.step_map, self.shared.step, self.num_steps)
        Cursor.set_step(self, step)  # clamped and emitted only on a change, as the shared cursor does


class RunViewer(FirstRun, QObject):
    """What a compared run's panels read: its RunCursor, and its Selection and trace as run 0 of this
    view (the ViewerModel's for that run)."""

    def __init__(self, viewer: ViewerModel, run: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.cursor = RunCursor(viewer.cursor, self)
        self.selections: list[Selection] = [viewer.selections[run]]
        self.traces: list[Trace | None] = [None]

    @property
    def run(self) -> int:
        """This run's index in the viewer now (the runs after a removed one move down)."""
        return self.viewer.selections.index(self.selection)

    @property
    def futureHiddenChanged(self):  # noqa: N802 (the ViewerModel's signal, which panels connect to)
        """View › Hide the future is the first run's option, for every run."""
        return self.viewer.futureHiddenChanged

    @property
    def future_hidden(self) -> bool:
        return self.viewer.future_hidden

    def set_trace(self, trace: Trace | None, step_map: np.ndarray | None) -> None:
        """Show `trace` as this run: the viewer's set_trace (the selection clamped to it; its steps
        counted unless `step_map` aligns it to the first run by characters), then this run's cursor
        follows the shared one through `step_map` (None: by position)."""
        self.viewer.set_trace(trace, self.run, counts_steps=step_map is None)
        self.traces[0] = trace
        self.cursor.set_alignment(trace.num_steps if trace is not None else 0, step_map)
