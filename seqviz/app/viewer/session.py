"""Session: the loaded model, the run on screen, and the requests that change them.

Requests (load a model, run a text, generate) become jobs on a JobRunner: in a worker thread for the
toolbar, synchronously for the scripting API (`wait=True`). Results come back as `Outcome`s through
the `outcome` signal, always in the GUI thread; the window only displays them. A job reads the current
model when it starts, so a text submitted while a model loads runs on the new model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from seqviz.app.viewer import runs
from seqviz.app.viewer.jobs import JobRunner
from seqviz.app.viewer.runs import InputProblem, LoadedModel, Run

log = logging.getLogger("seqviz")


@dataclass
class Outcome:
    """What a request produced: a Run to show, or the problem with the input."""

    loaded: LoadedModel
    text: str
    field: str  # the text field when the request was made (the window keeps later edits)
    step: int  # where to go: a step, or -1 for the last one
    run: Run | None = None
    problem: InputProblem | None = None
    note: str | None = None  # e.g. why a fallback model was loaded


def _is_file_problem(exc: BaseException) -> bool:
    return type(exc).__name__ == "ModelFileError" or isinstance(exc, (OSError, ValueError))


class Session(QObject):
    modelChanged = Signal(object)  # LoadedModel
    outcome = Signal(object)  # Outcome
    failed = Signal(str, str)  # dialog title, message
    generatingChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = JobRunner(self)
        self.loaded: LoadedModel | None = None
        self.run: Run | None = None  # the run on screen; None for a trace opened from a file
        self.generate_left = 0
        self.rng = np.random.default_rng()

    # requests -------------------------------------------------------------------------------------
    def load(
        self,
        source: str,
        text: str | None,
        field: str,
        *,
        wait: bool,
        fallback: str | None = None,
        note: str | None = None,
    ) -> bool:
        """Load `source`, then run `text` (None: keep the typed text unless it is the old model's
        example, else the new model's example). Returns False if it failed (with wait=True)."""
        previous_examples = self.loaded.examples if self.loaded else ()

        def job() -> Outcome:
            loaded = runs.load(source)
            keep = field and field not in previous_examples
            chosen = text if text is not None else field if keep else (loaded.examples or (field,))[0]
            outcome = self._trace(loaded, chosen, field, step=1)
            outcome.note = note
            return outcome

        def on_failed(exc: BaseException) -> None:
            message = str(exc) if _is_file_problem(exc) else f"{type(exc).__name__}: {exc}"
            if not _is_file_problem(exc):
                log.error("loading %s failed", source, exc_info=(type(exc), exc, exc.__traceback__))
            if fallback and fallback != source:
                note = f"Could not reopen the last model ({message}); loaded {fallback} instead."
                self.load(fallback, text, field, wait=wait, note=note)
            else:
                self.failed.emit("Cannot open model", message)

        return self._submit(job, wait, on_failed)

    def run_text(self, text: str, field: str, *, wait: bool, truncate: bool = False) -> bool:
        self.stop_generating()
        if self.loaded is None:
            raise InputProblem("no_model", "No model is loaded: choose one to run this text.")
        return self._submit(lambda: self._trace(self.loaded, text, field, 1, truncate), wait)

    def generate(self, count: int, temperature: float, field: str, *, wait: bool) -> bool:
        """Extend the text by `count` sampled tokens, one job per token; each outcome goes to the end."""
        if self.loaded is None or not self.loaded.can_generate or self.run is None:
            raise InputProblem("no_text", "Generate needs a decoder-only language model and its text.")
        self._set_generate_left(count)
        ok = True
        while ok and self.generate_left > 0:
            ok = self._generate_next(temperature, field, wait)
            if not wait:
                break
            field = self.run.text  # what the window put in the field (unless the person edits it)
        return ok

    def stop_generating(self, *_args) -> None:
        self._set_generate_left(0)

    def forget_run(self) -> None:
        """A trace from elsewhere is shown: drop jobs in flight and the run they would extend."""
        self.jobs.cancel()
        self.stop_generating()
        self.run = None

    # jobs -----------------------------------------------------------------------------------------
    def _trace(
        self, loaded: LoadedModel, text: str, field: str, step: int, truncate: bool = False
    ) -> Outcome:
        try:
            return Outcome(loaded, text, field, step, run=runs.run(loaded, text, truncate))
        except InputProblem as problem:
            return Outcome(loaded, text, field, step, problem=problem)

    def _generate_next(self, temperature: float, field: str, wait: bool) -> bool:
        def job() -> Outcome:
            loaded, run = self.loaded, self.run
            try:
                new = runs.generate_one(loaded, run, temperature, self.rng)
                return Outcome(loaded, new.text, field, -1, run=new)
            except InputProblem as problem:
                return Outcome(loaded, run.text, field, -1, problem=problem)

        def after(outcome: Outcome) -> None:
            self._set_generate_left(0 if outcome.problem else self.generate_left - 1)
            if self.generate_left > 0 and not wait:
                next_field = outcome.text if outcome.run is not None else field
                QTimer.singleShot(0, lambda: self._generate_next(temperature, next_field, False))

        return self._submit(job, wait, after=after)

    def _submit(self, job, wait: bool, on_failed=None, after=None) -> bool:
        result = {"ok": False}

        def done(outcome: Outcome) -> None:
            if outcome.loaded is not self.loaded:
                self.loaded = outcome.loaded
                self.modelChanged.emit(outcome.loaded)
            if outcome.run is not None:
                self.run = outcome.run
            result["ok"] = outcome.run is not None
            self.outcome.emit(outcome)
            if after is not None:
                after(outcome)

        def failed(exc: BaseException) -> None:
            self.stop_generating()
            if on_failed is not None:
                on_failed(exc)
                return
            log.error("model job failed", exc_info=(type(exc), exc, exc.__traceback__))
            self.failed.emit("Cannot run the model", f"{type(exc).__name__}: {exc}")

        (self.jobs.run_now if wait else self.jobs.submit)(job, done, failed)
        return result["ok"]

    def _set_generate_left(self, n: int) -> None:
        was = self.generate_left > 0
        self.generate_left = max(0, n)
        if was != (self.generate_left > 0):
            self.generatingChanged.emit(self.generate_left > 0)
