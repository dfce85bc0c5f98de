"""GradientFiller: compute a run's gradient map (`input_gradient_norm`) row by row, off the GUI thread.

The forward trace is on screen at once; its gradients cost more (one row ~ a few forward passes), so
they arrive in chunks: the current step's row first, then the rows from the current step on, each
chunk sized to take about CHUNK_SECONDS, so the window stays responsive and the panel shows progress.
`finish()` computes whatever is left synchronously, for pictures and scripts that need the whole map.
Rows are exactly `seqviz.core.gradients.gradient_rows` — the same numbers `seqviz.trace(...,
gradients=True)` gives.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from seqviz.app.viewer.jobs import JobRunner
from seqviz.core.trace import Trace

CHUNK_SECONDS = 0.15
MAX_STEPS = 2048  # a (T, T) float32 map of 2048 steps is 16 MB; longer texts are not filled


class GradientFiller(QObject):
    rowsReady = Signal(object, object, object)  # trace, rows (list[int]), values (len(rows), S)
    progress = Signal(object, int, int)  # trace, rows done, rows in all
    failed = Signal(object, str)  # trace, one line saying why

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = JobRunner(self)
        self._work: _Work | None = None

    @property
    def trace(self) -> Trace | None:
        return self._work.trace if self._work else None

    def start(self, model: Any, trace: Trace, inputs: Any, options: dict, current: Callable[[], int]) -> None:
        """Fill `trace`'s map (model and inputs as traced); `current()` is the 0-based row to do next."""
        self.stop()
        if "input_gradient_norm" in trace or "gradients" not in model.trace_options:
            return
        if trace.num_steps > MAX_STEPS:
            self.failed.emit(trace, f"gradients are computed for texts of up to {MAX_STEPS} tokens")
            return
        self._work = _Work(model, trace, inputs, options, current)
        self._next()

    def stop(self) -> None:
        self._work = None
        self.jobs.cancel()

    def finish(self) -> None:
        """Compute every row still missing now (blocking), e.g. before a picture is taken."""
        work = self._work
        self.jobs.cancel()
        if work is None or not work.missing:
            return
        rows = sorted(work.missing)
        self._apply(work, rows, work.compute(rows))

    # chunks -----------------------------------------------------------------------------------------
    def _next(self) -> None:
        work = self._work
        if work is None or not work.missing:
            return
        rows = work.next_rows()
        started = time.perf_counter()

        def done(values: np.ndarray) -> None:
            if self._work is not work:
                return  # a newer run replaced this one
            work.learn_speed(len(rows), time.perf_counter() - started)
            self._apply(work, rows, values)
            self._next()

        def failed(exc: BaseException) -> None:
            if self._work is work:
                self._work = None
                self.failed.emit(work.trace, f"gradients could not be computed: {type(exc).__name__}: {exc}")

        self.jobs.submit(lambda: work.compute(rows), done, failed)

    def _apply(self, work: _Work, rows: list[int], values: np.ndarray) -> None:
        work.missing.difference_update(rows)
        self.rowsReady.emit(work.trace, rows, values)
        self.progress.emit(work.trace, work.total - len(work.missing), work.total)


class _Work:
    """One trace's rows still to compute and how many fit in a chunk."""

    def __init__(self, model: Any, trace: Trace, inputs: Any, options: dict, current: Callable[[], int]):
        self.model, self.trace, self.inputs, self.options = model, trace, inputs, options
        self.current = current
        self.total = trace.num_steps
        self.missing = set(range(self.total))
        self.chunk = 1  # the first chunk is the current step alone: it shows at once

    def compute(self, rows: Sequence[int]) -> np.ndarray:
        from seqviz.core.gradients import gradient_rows

        # the trace on screen is the plain trace these rows differentiate: not traced again per chunk
        return gradient_rows(self.model, self.inputs, list(rows), trace=self.trace, **self.options)

    def next_rows(self) -> list[int]:
        """The current step's row if missing, then the missing rows after it, wrapping around."""
        start = min(max(self.current(), 0), self.total - 1)
        order = [*range(start, self.total), *range(start)]
        return [r for r in order if r in self.missing][: self.chunk]

    def learn_speed(self, rows: int, seconds: float) -> None:
        per_row = seconds / max(rows, 1)
        self.chunk = max(1, min(self.total, int(CHUNK_SECONDS / max(per_row, 1e-6))))
