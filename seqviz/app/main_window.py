"""MainWindow: the controller. It loads a model, traces the input, and hands the Trace to the panels.

Everything the panels show is selected through one ViewState (`window.state`); the toolbar, the
token strip, the keys and playback all move its step. Model work runs in a worker thread for the
toolbar and synchronously for the scripting API (`open_model`, `set_text`, `generate` wait by default).

Scripting:
    from seqviz.app import MainWindow
    w = MainWindow(); w.show(); w.open_model("untrained-lstm"); w.set_text("hello"); w.set_step(3)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from seqviz.app import controller, dialogs
from seqviz.app.controller import InputProblem, LoadedModel, Run
from seqviz.app.docks import DockArea, panel_classes
from seqviz.app.jobs import JobRunner
from seqviz.app.notices import NoticeBar
from seqviz.app.panels.base import Panel
from seqviz.app.panels.tokens import TokensPanel
from seqviz.app.settings import AppSettings
from seqviz.app.state import ViewState
from seqviz.app.toolbar import Actions, MainToolBar
from seqviz.app.transport import DEFAULT_SPEED, Playback
from seqviz.core.trace import Trace
from seqviz.demos import catalogue

log = logging.getLogger("seqviz")


@dataclass
class _Outcome:
    """What a model job produced: a Run to show, or the problem with the input."""

    loaded: LoadedModel
    text: str
    run: Run | None = None
    problem: InputProblem | None = None


class MainWindow(QMainWindow):
    ready = Signal()  # the first model request has finished (a trace is shown, or it failed)
    traceShown = Signal(object)  # the Trace now on screen

    def __init__(self, settings: AppSettings | None = None, *, lazy_panels: bool = False) -> None:
        super().__init__()
        self.setWindowTitle("seqviz")
        self.state = ViewState(self)
        self.settings = settings or AppSettings()
        self.playback = Playback(self.state, self)
        self.jobs = JobRunner(self)
        self.loaded: LoadedModel | None = None
        self.run: Run | None = None  # the run on screen; None for a trace opened from a file
        self.trace: Trace | None = None
        self._generate_left = 0
        self._rng = np.random.default_rng()
        self._is_ready = False
        self._load_note: str | None = None  # says why a fallback model was loaded; shown with its trace
        self.commands = Actions(self)
        self.toolbar = MainToolBar(self.commands, self)
        self.addToolBar(self.toolbar)
        self.tokens = TokensPanel(self.state)
        self.notices = NoticeBar()
        self.dock_area = DockArea(self.state)
        self._build_central()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self.toolbar.set_entries(catalogue.entries())
        self.playback.set_speed(self.settings.speed or DEFAULT_SPEED)
        self.toolbar.set_speed(self.playback.speed)
        self._update_generate_action()
        if self.settings.geometry is None or not self.restoreGeometry(self.settings.geometry):
            self.resize(1400, 860)
        if not lazy_panels:
            self.load_panels()

    # construction ---------------------------------------------------------------------------------
    def _build_central(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 2, 4, 0)
        layout.setSpacing(2)
        layout.addWidget(self.tokens)
        layout.addWidget(self.notices)
        layout.addWidget(self.dock_area, 1)
        self.setCentralWidget(central)
        self.tokens.strip.setFocus()

    def _build_menus(self) -> None:
        a = self.commands
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([a.open_model, a.open_trace])
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        self.view_menu = self.menuBar().addMenu("&View")
        self.view_menu.addAction(a.reset_layout)
        self.view_menu.addSeparator()
        play_menu = self.menuBar().addMenu("&Playback")
        play_menu.addActions([a.first, a.back, a.play, a.forward, a.last])
        play_menu.addSeparator()
        play_menu.addAction(a.generate)

    def _build_status_bar(self) -> None:
        self.status_model = QLabel("Loading model...")
        self.status_steps = QLabel("T = 0")
        self.status_notes = QLabel()
        self.status_notes.setMaximumWidth(700)
        bar = self.statusBar()
        bar.addWidget(self.status_model)
        bar.addWidget(self.status_steps)
        bar.addWidget(self.status_notes, 1)

    def _connect(self) -> None:
        a, tb, st = self.commands, self.toolbar, self.state
        a.quit.triggered.connect(self.close)
        a.open_model.triggered.connect(self._on_open_model_file)
        a.open_trace.triggered.connect(self._on_open_trace_file)
        a.first.triggered.connect(lambda: self._step_to(1))
        a.back.triggered.connect(lambda: self._step_to(st.step - 1))
        a.forward.triggered.connect(lambda: self._step_to(st.step + 1))
        a.last.triggered.connect(lambda: self._step_to(st.num_steps))
        a.play.triggered.connect(self.playback.toggle)
        a.generate.triggered.connect(self._on_generate_triggered)
        a.reset_layout.triggered.connect(self.dock_area.default_layout)
        self.playback.playingChanged.connect(self._on_playing_changed)
        tb.modelChosen.connect(lambda source: self.open_model(source, wait=False))
        tb.textSubmitted.connect(self._on_text_submitted)
        tb.speedChosen.connect(self.playback.set_speed)
        tb.slider.valueChanged.connect(st.set_step)
        tb.text_edit.textEdited.connect(self._stop_generating)
        tb.text_edit.installEventFilter(self)
        st.stepChanged.connect(self._on_step_changed)
        st.numStepsChanged.connect(self._on_step_changed)
        self.jobs.busyChanged.connect(self._on_busy_changed)

    def load_panels(self) -> None:
        """Create the dock panels (imports pyqtgraph) and restore the saved layout."""
        if self.dock_area.panels:
            return
        self.dock_area.add_panels(panel_classes(), self.view_menu)
        self.dock_area.restore_layout(self.settings.dock_state)
        if self.trace is not None:
            self._report_panel_failures(self.dock_area.set_trace(self.trace))

    @property
    def panels(self) -> dict[str, Panel]:
        """Every panel by name, the token strip included."""
        return {"tokens": self.tokens, **self.dock_area.panels}

    # scripting API --------------------------------------------------------------------------------
    @property
    def step(self) -> int:
        """The current step, 1..T (step t shows the state after token t); 0 when nothing is shown."""
        return self.state.step

    @property
    def num_steps(self) -> int:
        return self.state.num_steps

    @property
    def text(self) -> str:
        return self.toolbar.text_edit.text()

    def set_step(self, step: int) -> None:
        self.state.set_step(step)

    def show_trace(self, trace: Trace, label: str | None = None) -> None:
        """Show a trace directly (no model needed); the loaded model stays for new text."""
        self.jobs.cancel()
        self._stop_generating()
        self.run = None
        self._show(trace, 1, notes=controller.trace_notes(trace), label=label or "trace")
        self.notices.set_request_note(None)
        self._mark_ready()

    def open_model(
        self, source: str, text: str | None = None, *, wait: bool = True, fallback: str | None = None
    ) -> bool:
        """Load a catalogue model (id) or a model file (path), then run `text` (default: keep the typed
        text, or the model's example). On failure an error box says why and the previous model stays
        (or, given `fallback`, that model is loaded instead with a note). Returns False if it failed
        (only meaningful with wait=True)."""
        previous_examples = self.loaded.examples if self.loaded else ()
        current = self.text
        field = current

        def job() -> _Outcome:
            loaded = controller.load(source)
            keep = current and current not in previous_examples
            chosen = text if text is not None else current if keep else (loaded.examples or (current,))[0]
            return self._trace_job(loaded, chosen)

        self.status_model.setText(f"Loading {Path(source).name}...")

        def failed(exc: BaseException) -> bool:
            return self._on_load_failed(source, exc, text, wait, fallback)

        return self._submit(job, field, wait, step=1, failed=failed)

    def set_text(self, text: str, *, wait: bool = True, truncate: bool = False) -> bool:
        """Put `text` in the input field and run the model on it. False if it could not run."""
        self.toolbar.text_edit.setText(text)
        return self._request_text(text, wait=wait, truncate=truncate)

    def generate(
        self, count: int | None = None, temperature: float | None = None, *, wait: bool = True
    ) -> bool:
        """Extend the text by `count` sampled tokens (greedy if temperature is 0); panels follow."""
        if self.loaded is None or not self.loaded.can_generate or self.run is None:
            self.notices.set_request_note("Generate needs a decoder-only language model and its text.")
            return False
        self._generate_left = count if count is not None else self.toolbar.generate_count
        temp = self.toolbar.temperature if temperature is None else temperature
        self._update_generate_action()
        ok = True
        while ok and self._generate_left > 0:
            ok = self._generate_next(temp, wait)
            if not wait:
                break
        return ok

    def start(
        self,
        model: str | None = None,
        text: str | None = None,
        trace: Trace | None = None,
        trace_label: str | None = None,
        *,
        wait: bool = False,
    ) -> None:
        """What a launch does once the window is up: panels, then a trace or the (remembered) model."""
        self.load_panels()
        if trace is not None:
            self.show_trace(trace, trace_label)
            return
        remembered = self.settings.model if model is None else None
        source = model or remembered or catalogue.default_id()
        text = text if text is not None else self.settings.text
        fallback = catalogue.default_id() if remembered else None
        self.open_model(source, text or None, wait=wait, fallback=fallback)

    # requests -------------------------------------------------------------------------------------
    def _trace_job(self, loaded: LoadedModel, text: str, truncate: bool = False) -> _Outcome:
        try:
            return _Outcome(loaded, text, run=controller.run(loaded, text, truncate))
        except InputProblem as problem:
            return _Outcome(loaded, text, problem=problem)

    def _request_text(self, text: str, *, wait: bool, truncate: bool = False) -> bool:
        self._stop_generating()
        if self.loaded is None:
            self.notices.set_request_note("No model is loaded: choose one to run this text.")
            return False
        return self._submit(lambda: self._trace_job(self.loaded, text, truncate), self.text, wait, step=1)

    def _generate_next(self, temperature: float, wait: bool) -> bool:
        def job() -> _Outcome:
            try:
                run = controller.generate_one(self.loaded, self.run, temperature, self._rng)
                return _Outcome(self.loaded, run.text, run=run)
            except InputProblem as problem:
                return _Outcome(self.loaded, self.run.text, problem=problem)

        def done(outcome: _Outcome) -> None:
            self._generate_left = 0 if outcome.problem else self._generate_left - 1
            self._apply_outcome(outcome, field, step=-1)
            self._update_generate_action()
            if self._generate_left > 0 and not wait:
                QTimer.singleShot(0, lambda: self._generate_next(temperature, False))

        field = self.text
        return self._submit(job, field, wait, step=-1, done=done)

    def _submit(self, job, field: str, wait: bool, step: int, done=None, failed=None) -> bool:
        """Run a model job; `field` is the text field at submission (kept if edited meanwhile)."""
        result = {"ok": False}

        def on_done(outcome: _Outcome) -> None:
            (done or (lambda o: self._apply_outcome(o, field, step)))(outcome)
            result["ok"] = outcome.run is not None

        def on_failed(exc: BaseException) -> None:
            self._stop_generating()
            if not (failed or self._on_job_failed)(exc):  # True: it retried, so not ready yet
                self._mark_ready()

        if wait:
            self.jobs.run_now(job, on_done, on_failed)
        else:
            self.jobs.submit(job, on_done, on_failed)
        return result["ok"]

    def _apply_outcome(self, outcome: _Outcome, field: str, step: int) -> None:
        if outcome.loaded is not self.loaded:
            self._set_model(outcome.loaded)
        if self.text == field:  # never overwrite what the person typed meanwhile
            self.toolbar.text_edit.setText(outcome.text)
        problem = outcome.problem
        if problem is not None:
            fix = None
            if problem.kind == "too_long" and problem.max_len and self._generate_left == 0:
                text = outcome.text
                fix = (f"Truncate to {problem.max_len} tokens", lambda: self.set_text(text, truncate=True))
            self.notices.set_request_note(str(problem), *(fix or (None, None)))
        else:
            self.notices.set_request_note(self._load_note)
            self._load_note = None
            self.run = outcome.run
            self.settings.text = outcome.text
            self._show(outcome.run.trace, step, outcome.run.notes, outcome.loaded.label)
        self._mark_ready()

    def _set_model(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.settings.model = loaded.source
        self.toolbar.select_source(loaded.source, loaded.label)
        self.toolbar.set_examples(loaded.examples)
        self.setWindowTitle(f"seqviz \u2014 {loaded.label}")
        self._update_generate_action()

    def _on_load_failed(self, source: str, exc: BaseException, text, wait: bool, fallback) -> bool:
        """Report a model that would not load; True if the fallback model is being loaded instead."""
        message = str(exc) if _is_model_file_error(exc) else f"{type(exc).__name__}: {exc}"
        if not _is_model_file_error(exc):
            log.error("loading %s failed", source, exc_info=(type(exc), exc, exc.__traceback__))
        if fallback and fallback != source:
            self._load_note = f"Could not reopen the last model ({message}); loaded {fallback} instead."
            self.open_model(fallback, text, wait=wait)
            return True
        if self.loaded is not None:
            self.toolbar.select_source(self.loaded.source, self.loaded.label)
        self.status_model.setText(self.loaded.label if self.loaded else "No model loaded")
        dialogs.show_error(self, "Cannot open model", message)
        return False

    def _on_job_failed(self, exc: BaseException) -> bool:
        log.error("model job failed", exc_info=(type(exc), exc, exc.__traceback__))
        dialogs.show_error(self, "Cannot run the model", f"{type(exc).__name__}: {exc}")
        return False

    def _mark_ready(self) -> None:
        if not self._is_ready:
            self._is_ready = True
            self.ready.emit()

    # showing a trace ------------------------------------------------------------------------------
    def _show(self, trace: Trace, step: int, notes: tuple[str, ...], label: str) -> None:
        """Hand `trace` to every panel, then go to `step` (-1: the last)."""
        self.trace = trace
        self.state.set_num_steps(trace.num_steps)  # clamps the step, valid for old and new trace
        self._clamp_selection(trace)
        self.tokens.set_trace(trace)
        self._report_panel_failures(self.dock_area.set_trace(trace))
        self.state.set_step(trace.num_steps if step < 0 else step)
        self.notices.set_trace_notes(notes)
        self.status_model.setText(label)
        self.status_steps.setText(f"T = {trace.num_steps}")
        self.status_notes.setText("  \u00b7  ".join(notes))
        self.status_notes.setToolTip("\n".join(notes))
        self.traceShown.emit(trace)

    def _clamp_selection(self, trace: Trace) -> None:
        """Keep layer, direction, head and units inside the new trace's shapes."""
        meta, st = trace.meta, self.state
        st.set_layer(min(st.layer, max(0, int(meta.get("num_layers", 1)) - 1)))
        st.set_direction(min(st.direction, max(0, int(meta.get("num_directions", 1)) - 1)))
        heads = trace["attention"].shape[1] if "attention" in trace else 1
        st.set_head(min(st.head, heads - 1))
        size = int(meta.get("hidden_size", 0)) or (trace["hidden"].shape[-1] if "hidden" in trace else 0)
        st.set_units(u for u in st.units if u < size)

    def _report_panel_failures(self, failures: list[str]) -> None:
        if failures:
            dialogs.show_error(self, "A panel could not show this trace", "\n".join(failures))

    # slots ----------------------------------------------------------------------------------------
    def _step_to(self, step: int) -> None:
        self.playback.pause()
        self.state.set_step(step)

    def _on_step_changed(self, _value: int = 0) -> None:
        self.toolbar.show_step(self.state.step, self.state.num_steps)

    def _on_playing_changed(self, playing: bool) -> None:
        self.commands.play.setIcon(self.commands.play_icons[int(playing)])
        self.commands.play.setText("Pause" if playing else "Play")

    def _on_busy_changed(self, busy: bool) -> None:
        self.status_model.setText("Working..." if busy else self.loaded.label if self.loaded else "")

    def _on_text_submitted(self, text: str) -> None:
        self._request_text(text, wait=False)
        self.tokens.strip.setFocus()  # back to stepping: arrows move the step again

    def _on_generate_triggered(self) -> None:
        if self._generate_left > 0:
            self._stop_generating()
        else:
            self.generate(wait=False)

    def _stop_generating(self, *_args) -> None:
        if self._generate_left:
            self._generate_left = 0
            self._update_generate_action()

    def _update_generate_action(self) -> None:
        action, busy = self.commands.generate, self._generate_left > 0
        action.setEnabled(self.loaded is not None and self.loaded.can_generate)
        action.setText("Stop" if busy else "Generate")

    def _on_open_model_file(self) -> None:
        path = dialogs.choose_file(self, "Open model file", dialogs.MODEL_FILE_FILTER)
        if path:
            self.open_model(path, wait=False)

    def _on_open_trace_file(self) -> None:
        path = dialogs.choose_file(self, "Open trace", dialogs.TRACE_FILE_FILTER)
        if path:
            self.open_trace(path)

    def open_trace(self, path: str) -> bool:
        """Show a saved Trace file; an unreadable file gives an error box."""
        try:
            trace = Trace.load(path)
        except Exception as exc:  # TraceFileError, or anything a damaged file provokes
            dialogs.show_error(self, "Cannot open trace", str(exc))
            return False
        self.show_trace(trace, f"trace: {Path(path).name}")
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.toolbar.text_edit
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Escape
        ):
            self.tokens.strip.setFocus()
            return True
        return super().eventFilter(watched, event)

    def closeEvent(self, event) -> None:
        self.playback.pause()
        self._stop_generating()
        self.jobs.cancel()
        s = self.settings
        s.geometry, s.dock_state, s.text, s.speed = (
            self.saveGeometry(),
            self.dock_area.save_layout(),
            self.text,
            self.playback.speed,
        )
        s.sync()
        super().closeEvent(event)


def _is_model_file_error(exc: BaseException) -> bool:
    return type(exc).__name__ == "ModelFileError" or isinstance(exc, (OSError, ValueError))
