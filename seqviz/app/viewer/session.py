"""Session: the opened model (a SequenceModel), the run on screen, and the requests that change them.

Requests (load a model, run a text, generate) become jobs on a JobRunner: in a worker thread for the
toolbar, synchronously for the scripting API (`wait=True`). Results come back as `Outcome`s through
the `outcome` signal, always in the GUI thread; the window only displays them. A job reads the current
model when it starts, so a text submitted while a model loads runs on the new model.

Switching models keeps the text (and the step) when both models read the same texts (`text_domain`:
RNN and LSTM on one sentence); otherwise the new model starts from its own example. A switch whose text
cannot run on the new model (too long) keeps the old model and says so: what is on screen never
disagrees with the chooser.

Edits (seqviz.edits, the what-if of a lesson) belong to the current model: `edits` are those of the
run on screen, and a new model starts with none. `set_edits` traces the text again with a new list;
one that does not fit the model is reported (`failed`) and the edits and run stay as they were. New
text keeps the edits, fitted to its length (seqviz.app.viewer.what_if.fit_to_length).

A new version of the model on screen (the same architecture with other weights: the Training dock's
weights as they train) is shown by `show_version`, traced like an edit's re-trace: the text, step,
edits and selection stay, and `modelChanged` is not emitted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from seqviz.app.viewer import runs, what_if
from seqviz.app.viewer.jobs import JobRunner
from seqviz.app.viewer.runs import InputProblem, Run
from seqviz.core.model_interface import SequenceModel
from seqviz.core.trace import Trace

log = logging.getLogger("seqviz")


@dataclass
class Outcome:
    """What a request produced: a Run to show, or the problem with the input."""

    model: SequenceModel
    text: str
    field: str  # the text field when the request was made (the window keeps later edits)
    step: int  # where to go: a step, or -1 for the last one
    run: Run | None = None
    problem: InputProblem | None = None
    note: str | None = None  # e.g. why a fallback model was loaded
    device: str = ""  # where a loaded model runs, when that is not the device asked for (no such device)
    kept_previous: bool = False  # a model switch whose text could not run: the old model stays
    version_of: SequenceModel | None = None  # show_version: the model on screen it is a new version of


def _is_file_problem(exc: BaseException) -> bool:
    from seqviz.core.statedict import ModelFileError  # loaded already: the job that raised read a file

    return isinstance(exc, (ModelFileError, OSError, ValueError))


class Session(QObject):
    modelChanged = Signal(object)  # SequenceModel
    outcome = Signal(object)  # Outcome
    failed = Signal(str, str)  # dialog title, message
    generatingChanged = Signal(bool)
    editsChanged = Signal(tuple)  # the edits of the run on screen
    deviceChanged = Signal(str)  # the device asked for is not on this machine: models now open here

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = JobRunner(self)
        self.model: SequenceModel | None = None
        self.run: Run | None = None  # the run on screen; None for a trace opened from a file
        self.generate_left = 0
        self.rng = np.random.default_rng()
        self.edits: tuple = ()  # what-if edits of the run on screen (seqviz.edits); a new model has none
        self._requested_edits: tuple | None = None  # a set_edits on its way (later requests build on it)
        self.device = "cpu"  # where models are opened (seqviz.core.devices; the window's settings)
        #: load_model options by source: what a file lacks (--vocab, --heads, --nonlinearity)
        self.load_options: dict[str, dict[str, Any]] = {}
        self._deferred_load = None  # a load(defer=True) not started yet

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
        step: int = 1,
        truncate: bool = False,
        shown: Trace | None = None,
        defer: bool = False,
    ) -> bool:
        """Load `source`, then run `text`. With text None: keep the typed text and `step` when the new
        model reads the same texts as the old one, else run the new model's example from step 1.
        `shown`: a stored trace on screen meanwhile (runs.Preview); an identical fresh trace is replaced
        by it, so the panels stay as they are. `defer`: start on the next turn of the event loop, after
        the window's paint (importing torch in the worker holds the GIL for much of its 2-3 s).
        Returns False if it failed (with wait=True)."""
        previous = self.model

        def job() -> Outcome:
            from seqviz.core.devices import device_or_cpu

            options = self.load_options.get(source, {}) if isinstance(source, str) else {}
            device, device_note = device_or_cpu(self.device)
            model = runs.load(source, device=device, **options)
            same = (
                previous is not None and bool(model.text_domain) and model.text_domain == previous.text_domain
            )
            if text is not None:
                chosen, at = text, 1
            elif same and field:
                chosen, at = field, step
            else:
                chosen, at = (model.examples or (field,))[0], 1
            outcome = self._trace(model, chosen, field, at, truncate)
            if outcome.run is not None:
                outcome.run = runs.keep_shown(outcome.run, shown)
            outcome.note = " ".join(filter(None, (note, device_note))) or None
            outcome.device = device if device_note else ""
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

        if defer:
            self._deferred_load = lambda: self._submit(job, False, on_failed, self._take_device)
            QTimer.singleShot(0, self._start_deferred_load)
            return False
        return self._submit(job, wait, on_failed, self._take_device)

    def _take_device(self, outcome: Outcome) -> None:
        """A model opened on the CPU because the device asked for is not here: later ones too."""
        if outcome.device and outcome.device != self.device:
            self.device = outcome.device
            self.deviceChanged.emit(outcome.device)

    def _start_deferred_load(self) -> None:
        start, self._deferred_load = self._deferred_load, None
        if start is not None:
            start()

    def run_text(self, text: str, field: str, *, wait: bool, truncate: bool = False, step: int = 1) -> bool:
        """Trace `text` with the current model and edits, then show `step` (-1: the last). While the
        first model loads, the text waits for it (with wait=True, here and now)."""
        self.stop_generating()
        if wait and self.model_loading:
            self._start_deferred_load()
            self.jobs.drain()  # the model first: run_now would drop it
        if self.model is None and not self.model_loading:
            raise InputProblem("no_model", "No model is loaded: choose one to run this text.")
        edits, made_for = self.wanted_edits, self.run.trace.num_steps if self.run is not None else None

        def job() -> Outcome:
            if self.model is None:  # the model it waited for could not be loaded (an error box said why)
                raise InputProblem("no_model", "No model is loaded: choose one to run this text.")
            return self._trace(self.model, text, field, step, truncate, edits, made_for)

        return self._submit(job, wait)

    @property
    def model_loading(self) -> bool:
        """True while the first model loads (a text submitted meanwhile runs once it is there)."""
        return self.model is None and (self.jobs.busy or self._deferred_load is not None)

    @property
    def wanted_edits(self) -> tuple:
        """The edits asked for last: those on screen, or a list still being traced."""
        return self.edits if self._requested_edits is None else self._requested_edits

    def set_edits(self, edits: tuple, field: str, *, wait: bool, step: int = 1) -> bool:
        """Trace the run's text again with `edits` and show `step`. An edit that does not fit the model
        is reported through `failed` ("Cannot apply the edit") and nothing changes. Returns False if
        it failed (only with wait=True). InputProblem when there is no run to edit."""
        edits = tuple(edits)
        for edit in edits:
            what_if.check_edit(edit)
        run = self.run
        if self.model is None or run is None:
            raise InputProblem(
                "no_text", "Edits change what a model computes: run a text with a model first."
            )
        self.stop_generating()
        self._requested_edits = edits
        truncate, model = run.truncated_from is not None, self.model

        def job() -> Outcome:
            try:
                return self._trace(model, run.text, field, step, truncate, edits, masks=run.masks)
            except (TypeError, ValueError) as exc:  # the run traced without these edits: they are why
                raise what_if.EditProblem(str(exc)) from None

        def on_failed(exc: BaseException) -> None:
            if self._requested_edits is edits:
                self._requested_edits = None
            if isinstance(exc, what_if.EditProblem):
                self.failed.emit("Cannot apply the edit", str(exc))
            else:
                log.error("tracing with edits failed", exc_info=(type(exc), exc, exc.__traceback__))
                self.failed.emit("Cannot run the model", f"{type(exc).__name__}: {exc}")

        return self._submit(job, wait, on_failed)

    def show_version(self, model: SequenceModel, field: str, *, wait: bool, step: int = 1) -> bool:
        """Trace the run's text (with its edits) with `model`, a new version of the model on screen
        (the same architecture and tokenizer, other weights: training), and show `step`. Like an
        edit's re-trace, not a model switch: modelChanged is not emitted, so the selection (units)
        stays. Dropped if another model is opened before it is traced. False if it failed (wait=True)."""
        run = self.run
        if self.model is None or run is None:
            raise InputProblem("no_text", "A new version of the model needs a text its model has run.")
        edits, truncate = self.wanted_edits, run.truncated_from is not None

        def job() -> Outcome:
            previous = self.model  # read when the job runs: the version shown before it, if any
            outcome = self._trace(model, run.text, field, step, truncate, edits, masks=run.masks)
            outcome.version_of = previous
            return outcome

        return self._submit(job, wait)

    def set_masks(self, masks, field: str, *, wait: bool, step: int = 1) -> bool:
        """Trace the run's text again (with its edits) with a masked language model's mask token on
        the 0-based positions `masks`, then show `step`. False if it failed (only with wait=True)."""
        run, model = self.run, self.model
        if model is None or run is None:
            raise InputProblem("no_text", "Masks go on a text a masked language model has run.")
        self.stop_generating()
        masks, truncate = tuple(sorted(set(masks))), run.truncated_from is not None
        return self._submit(
            lambda: self._trace(model, run.text, field, step, truncate, run.edits, masks=masks), wait
        )

    def generate(self, count: int, temperature: float, field: str, *, wait: bool) -> bool:
        """Extend the text by `count` sampled tokens, one job per token; each outcome goes to the end."""
        if self.model is None or not self.model.can_generate or self.run is None:
            raise InputProblem("no_text", "Generate needs a causal language model and a text it has run.")
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
        self._deferred_load = None
        self.jobs.cancel()
        self.stop_generating()
        self.run = None

    # jobs -----------------------------------------------------------------------------------------
    def _trace(
        self,
        model: SequenceModel,
        text: str,
        field: str,
        step: int,
        truncate: bool = False,
        edits=(),
        made_for: int | None = None,
        masks: tuple[int, ...] = (),
    ) -> Outcome:
        try:
            new = runs.run(model, text, truncate, edits, made_for, masks)
            runs.remember(model, new, self.device)  # the next start shows it while the model loads
            return Outcome(model, text, field, step, run=new)
        except InputProblem as problem:
            return Outcome(model, text, field, step, problem=problem)

    def _generate_next(self, temperature: float, field: str, wait: bool) -> bool:
        def job() -> Outcome:
            model, run = self.model, self.run
            try:
                new = runs.generate_one(model, run, temperature, self.rng)
                return Outcome(model, new.text, field, -1, run=new)
            except InputProblem as problem:
                return Outcome(model, run.text, field, -1, problem=problem)

        def after(outcome: Outcome) -> None:
            self._set_generate_left(0 if outcome.problem else self.generate_left - 1)
            if self.generate_left > 0 and not wait:
                next_field = outcome.text if outcome.run is not None else field
                QTimer.singleShot(0, lambda: self._generate_next(temperature, next_field, False))

        return self._submit(job, wait, after=after)

    def _submit(self, job, wait: bool, on_failed=None, after=None) -> bool:
        result = {"ok": False}

        def done(outcome: Outcome) -> None:
            if outcome.version_of is not None:
                if outcome.version_of is not self.model:
                    return  # another model was opened meanwhile: this version of the old one is stale
                self.model = outcome.model
            elif outcome.model is not self.model:
                # A new model whose text cannot run would leave the old trace under the new name.
                if outcome.run is None and self.model is not None and self.run is not None:
                    outcome.kept_previous = True
                else:
                    self.model, self._requested_edits = outcome.model, None
                    self._show_edits(())
                    self.modelChanged.emit(outcome.model)
            if outcome.run is not None:
                self.run = outcome.run
                if outcome.run.edits == self._requested_edits:
                    self._requested_edits = None
                self._show_edits(outcome.run.edits)
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

        if wait:  # run_now drops the jobs in flight: edits they were tracing were never shown
            self._requested_edits = self._deferred_load = None
        else:  # a deferred load first: what is asked meanwhile runs on the model it brings
            self._start_deferred_load()
        (self.jobs.run_now if wait else self.jobs.submit)(job, done, failed)
        return result["ok"]

    def _show_edits(self, edits: tuple) -> None:
        if edits != self.edits:
            self.edits = edits
            self.editsChanged.emit(edits)

    def _set_generate_left(self, n: int) -> None:
        was = self.generate_left > 0
        self.generate_left = max(0, n)
        if was != (self.generate_left > 0):
            self.generatingChanged.emit(self.generate_left > 0)
