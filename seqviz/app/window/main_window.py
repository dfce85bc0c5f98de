"""MainWindow: shows the Session's traces. It hands each Trace to the token strip and the dock panels.

Everything the panels show is selected through one ViewerModel (`window.viewer`: a Cursor and a
Selection per run, seqviz.app.viewer.model); the toolbar, the
token strip, the keys and playback all move its step. Model requests go to `window.session`: in a
worker thread from the toolbar, synchronously from the scripting API (`open_model`, `set_text`,
`generate` wait by default).

Scripting:
    from seqviz.app import MainWindow
    w = MainWindow(); w.show(); w.open_model("untrained-lstm"); w.set_text("hello"); w.set_step(3)
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from seqviz.app.export import dialogs as export_dialogs
from seqviz.app.panels.base import Panel
from seqviz.app.panels.tokens import TokensPanel
from seqviz.app.viewer import runs
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.viewer.playback import DEFAULT_SPEED, Playback
from seqviz.app.viewer.runs import InputProblem, Run
from seqviz.app.viewer.session import Outcome, Session
from seqviz.app.window import (
    appearance,
    compare,
    dialogs,
    help_menu,
    layouts,
    masking,
    other_models,
    training_dock,
    view_options,
    what_if,
)
from seqviz.app.window.docks import DockArea, panel_classes
from seqviz.app.window.gradient_flow import GradientFlow
from seqviz.app.window.notices import NoticeBar
from seqviz.app.window.settings import AppSettings
from seqviz.app.window.toolbar import Actions, MainToolBar
from seqviz.core.model_interface import SequenceModel
from seqviz.core.trace import Trace
from seqviz.core.trace_check import check_trace
from seqviz.demos import catalogue

log = logging.getLogger("seqviz")


class MainWindow(QMainWindow):
    ready = Signal()  # the first model request has finished (a trace is shown, or it failed)
    traceShown = Signal(object)  # the Trace now on screen

    def __init__(self, settings: AppSettings | None = None, *, lazy_panels: bool = False) -> None:
        super().__init__()
        self.setWindowTitle("seqviz")
        self.viewer = ViewerModel(self)
        self.settings = settings or AppSettings()
        self.playback = Playback(self.viewer.cursor, self)
        self.session = Session(self)
        self.session.device = self.settings.device  # where models run (--device)
        self.session.deviceChanged.connect(self._on_device_changed)
        self.trace: Trace | None = None
        self._is_ready = False
        self._stored_source: str | None = None  # the model whose stored trace is shown while it loads
        self.commands = Actions(self)
        self.toolbar = MainToolBar(self.commands, self)
        self.addToolBar(self.toolbar)
        self.tokens = TokensPanel(self.viewer)
        self.notices = NoticeBar()
        self.dock_area = DockArea(self.viewer)
        self._build_central()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self.gradient_flow = GradientFlow(self)  # after _connect: it reacts to runs the window shows
        self.comparison = compare.install(self)  # after the menus and the dock area
        self.what_if = what_if.install(self)  # model edits: the API below, panel menus, Edits dock
        self.toolbar.set_entries(catalogue.entries())
        other_models.install(self)  # the Hugging Face cache in the chooser, File > Open model folder
        self.masking = masking.install(self)  # masked LMs: a double-clicked token gets the mask
        self.hide_future = view_options.install(self)  # View › Hide the future
        self.training = training_dock.install(self)  # Train menu, the Training dock (issue 14)
        help_menu.install(self)  # last in the menu bar: keys, panels, the guide, About
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
        self.tokens.show_message("Loading model...")
        self.tokens.strip.setFocus()

    def _build_menus(self) -> None:
        a = self.commands
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([a.open_model, a.open_folder, a.open_trace])
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        self.view_menu = self.menuBar().addMenu("&View")
        self.view_menu.addAction(a.reset_layout)
        layouts.install(self)  # View › Layout: a preset per lesson
        appearance.add_theme_menu(self, self.view_menu)
        self.view_menu.addSeparator()
        play_menu = self.menuBar().addMenu("&Playback")
        play_menu.addActions([a.first, a.back, a.play, a.forward, a.last])
        play_menu.addSeparator()
        play_menu.addAction(a.generate)
        export_dialogs.install(self, file_menu)  # File: scenes and exports; Edit: copy picture

    def _build_status_bar(self) -> None:
        self.status_model = QLabel("Loading model...")
        self.status_steps = QLabel("T = 0")
        bar = self.statusBar()
        bar.addWidget(self.status_model)
        bar.addWidget(self.status_steps)  # the trace's notes are the notice bar's: said once, in full

    def _connect(self) -> None:
        a, tb, st = self.commands, self.toolbar, self.viewer.cursor
        a.quit.triggered.connect(self.close)
        a.open_model.triggered.connect(self._on_open_model_file)
        a.open_trace.triggered.connect(self._on_open_trace_file)
        a.first.triggered.connect(lambda: self._step_to(1))
        a.back.triggered.connect(lambda: self._step_to(st.step - 1))
        a.forward.triggered.connect(lambda: self._step_to(st.step + 1))
        a.last.triggered.connect(lambda: self._step_to(st.num_steps))
        a.play.triggered.connect(self.playback.toggle)
        a.generate.triggered.connect(self._on_generate_triggered)
        a.reset_layout.triggered.connect(lambda: self.dock_area.default_layout())  # a scene renews it
        self.playback.playingChanged.connect(self._on_playing_changed)
        tb.modelChosen.connect(lambda source: self.open_model(source, wait=False))
        tb.textSubmitted.connect(self._on_text_submitted)
        tb.speedChosen.connect(self.playback.set_speed)
        tb.slider.valueChanged.connect(st.set_step)
        tb.text_edit.textEdited.connect(self.session.stop_generating)
        tb.text_edit.installEventFilter(self)
        st.stepChanged.connect(self._on_step_changed)
        st.numStepsChanged.connect(self._on_step_changed)
        self.session.jobs.busyChanged.connect(self._on_busy_changed)
        self.session.modelChanged.connect(self._on_model_changed)
        self.session.outcome.connect(self._on_outcome)
        self.session.failed.connect(self._on_failed)
        self.session.generatingChanged.connect(self._update_generate_action)

    def load_panels(self) -> None:
        """Create the dock panels (imports pyqtgraph) and restore the saved layout."""
        if self.dock_area.panels:
            return
        appearance.use_remembered_theme(self)  # plots are built in the theme they start with
        self.dock_area.add_panels(panel_classes(), self.view_menu, self.settings.dock_state)
        self.what_if.connect_panels(self.dock_area.panels)
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
        return self.viewer.cursor.step

    @property
    def num_steps(self) -> int:
        return self.viewer.cursor.num_steps

    @property
    def text(self) -> str:
        return self.toolbar.text_edit.text()

    @property
    def model(self) -> SequenceModel | None:
        """The opened model (it stays, for new text, while a trace file is shown)."""
        return self.session.model

    @property
    def run(self) -> Run | None:
        """The run on screen; None when the trace came from a file."""
        return self.session.run

    @property
    def is_ready(self) -> bool:
        """True once the first request has finished (`ready` was emitted): a trace is shown, or it failed."""
        return self._is_ready

    def set_step(self, step: int) -> None:
        self.viewer.cursor.set_step(step)

    def finish_background_work(self) -> None:
        """Deliver the model jobs already asked for (e.g. a re-trace with edits), then complete what
        fills in after a run is shown (its gradient map): before a picture, or in a script."""
        self.session.jobs.drain()
        self.gradient_flow.finish()

    def compare(self, model: str | SequenceModel, text: str | None = None, *, edits=()) -> bool:
        """Run `model` (an id, a file or a SequenceModel) beside the one on screen, on `text` (default:
        the same text, followed when it changes), under the shared cursor; 2 to 4 runs in all.
        False (with a note or an error box) if it cannot. See seqviz.app.window.compare."""
        return self.comparison.add(model, text, edits=edits)

    def stop_comparing(self) -> None:
        """Back to the first run alone (View > Stop comparing)."""
        self.comparison.stop()

    @property
    def edits(self) -> tuple:
        """The model edits (seqviz.edits) of the run on screen; a new model starts with none."""
        return self.what_if.edits

    def add_edit(self, edit, *, wait: bool = True) -> bool:
        """Add an edit (e.g. `ClampGate("forget_gate", 0, [3], range(4, 12), 1.0)`) and trace the text
        again, keeping the step. An edit that does not fit the model is an error box and nothing
        changes; False then (only with wait=True). See seqviz.app.window.what_if."""
        return self.what_if.add(edit, wait=wait)

    def remove_edit(self, index: int, *, wait: bool = True) -> bool:
        """Remove edit `index` (0-based, in `edits`) and trace the text again, keeping the step."""
        return self.what_if.remove(index, wait=wait)

    def set_edits(self, edits, *, wait: bool = True) -> bool:
        """Replace the edits (() clears them) and trace the text again, keeping the step."""
        return self.what_if.set(edits, wait=wait)

    def show_trace(self, trace: Trace, label: str | None = None) -> None:
        """Show a trace directly (no model needed); the loaded model stays for new text. A trace that
        breaks its contract (docs/trace.md) is a TraceContractError, before anything changes."""
        check_trace(trace)
        self.session.forget_run()
        self.gradient_flow.stop()
        label = label or "trace"
        self.toolbar.show_trace_file(label)
        self.toolbar.text_edit.setText(_trace_text(trace))
        self.setWindowTitle(f"seqviz \u2014 {label}")
        self._show(trace, 1, notes=runs.trace_notes(trace), label=label)
        self.notices.set_request_note(None)
        self._update_generate_action()
        self._mark_ready()

    def open_model(
        self,
        source: str | SequenceModel,
        text: str | None = None,
        *,
        wait: bool = True,
        fallback: str | None = None,
        truncate: bool = False,
    ) -> bool:
        """Load a catalogue model (id) or a model file (path), or show an opened SequenceModel, then
        run `text` (default: the typed text
        and step if the new model reads the same texts as the current one, else the new model's
        example). On failure an error box says why and the previous model stays (or, given `fallback`,
        that model is loaded instead, with a note); a text too long for the new model keeps the
        previous model and offers to truncate. Returns False if it failed (only with wait=True)."""
        name = source.label if isinstance(source, SequenceModel) else Path(source).name
        self.status_model.setText(f"Loading {name}...")
        step = self.viewer.cursor.step if self.session.run is not None else 1
        return self.session.load(
            source, text, self.text, wait=wait, fallback=fallback, step=step, truncate=truncate
        )

    def set_text(self, text: str, *, wait: bool = True, truncate: bool = False) -> bool:
        """Put `text` in the input field and run the model on it. False if it could not run."""
        self.toolbar.text_edit.setText(text)
        return self._guarded(lambda: self.session.run_text(text, text, wait=wait, truncate=truncate))

    def generate(
        self, count: int | None = None, temperature: float | None = None, *, wait: bool = True
    ) -> bool:
        """Extend the text by `count` sampled tokens (greedy if temperature is 0); panels follow."""
        count = self.toolbar.generate_count if count is None else count
        temperature = self.toolbar.temperature if temperature is None else temperature
        return self._guarded(lambda: self.session.generate(count, temperature, self.text, wait=wait))

    def start(
        self,
        model: str | None = None,
        text: str | None = None,
        trace: Trace | None = None,
        trace_label: str | None = None,
        *,
        wait: bool = False,
    ) -> None:
        """What a launch does once the window is up: a trace, or the (remembered) model, and the panels.

        The model job starts first, so torch loads in the worker while the panels are built here."""
        if trace is not None:
            self.load_panels()
            self.show_trace(trace, trace_label)
            return
        remembered = self.settings.model if model is None else None
        source = model or remembered or catalogue.default_id()
        if text is None and remembered:  # the remembered text belongs to the remembered model only
            text = self.settings.text
        if remembered and self.settings.model_options:  # what its file needs (--vocab, --heads)
            self.session.load_options.setdefault(remembered, self.settings.model_options)
        fallback = catalogue.default_id() if remembered else None
        if remembered and catalogue.find(remembered) is None:
            # A file is remembered again only once it opened (_on_model_changed): one that is refused,
            # or that takes the process down, is not reopened at every start.
            self.settings.model = ""
            self.settings.sync()
        if wait:
            self.load_panels()
        elif self._show_stored(source, text or None, fallback):
            return
        self.open_model(source, text or None, wait=wait, fallback=fallback)
        self.load_panels()

    def _show_stored(self, source: str, text: str | None, fallback: str | None) -> bool:
        """Show the stored trace of `text` by the bundled model `source` at once (no torch needed), then
        load the model in the background; its identical trace replaces nothing. False if none is stored."""
        preview = runs.stored_preview(source, text, self.session.device)
        if preview is None or self.session.load_options.get(source):  # options: the file is read anew
            return False
        self._stored_source = preview.source
        self.load_panels()
        self.toolbar.select_source(preview.source, preview.label)
        self.toolbar.set_examples(preview.examples)
        self.toolbar.text_edit.setText(preview.text)
        self.setWindowTitle(f"seqviz \u2014 {preview.label}")
        self._show(preview.trace, 1, runs.trace_notes(preview.trace), preview.label)
        self.status_model.setText(f"Loading the model... {preview.label}: step through its example meanwhile")
        field, shown = preview.text, preview.trace
        self.session.load(source, field, field, wait=False, fallback=fallback, shown=shown, defer=True)
        return True

    # outcomes -------------------------------------------------------------------------------------
    def _guarded(self, request) -> bool:
        """Run a request; an input problem found before any job (no model, cannot generate) is a note."""
        try:
            return request()
        except InputProblem as problem:
            self.notices.set_request_note(str(problem))
            return False

    def _on_outcome(self, outcome: Outcome) -> None:
        if self.text == outcome.field:  # never overwrite what the person typed meanwhile
            self.toolbar.text_edit.setText(outcome.text)
        problem = outcome.problem
        if outcome.kept_previous:
            self._on_switch_refused(outcome)
        elif problem is not None:
            fix: tuple = (None, None)
            if problem.kind == "too_long" and problem.max_len and not self.session.generate_left:
                text = outcome.text
                fix = (f"Truncate to {problem.max_len} tokens", lambda: self.set_text(text, truncate=True))
            run = self.session.run
            if run is None or run.text != outcome.text:  # the notes are about a text no longer typed
                self.notices.set_trace_notes(())
            self.notices.set_request_note(str(problem), *fix)
        else:
            self.notices.set_request_note(outcome.note)
            self.settings.text = outcome.text
            self.toolbar.select_source(outcome.model.source, outcome.model.label)  # after a trace file
            self._show(outcome.run.trace, outcome.step, outcome.run.notes, outcome.model.label)
            self.setWindowTitle(f"seqviz \u2014 {outcome.model.label}")
        self._update_generate_action()  # a run on screen is what Generate extends
        self._mark_ready()

    def _on_switch_refused(self, outcome: Outcome) -> None:
        """The chosen model cannot run the text: everything keeps showing the current model."""
        new, current = outcome.model, self.session.model
        self.toolbar.select_source(current.source, current.label)
        self.status_model.setText(current.label)
        fix: tuple = (None, None)
        problem = outcome.problem
        if problem.kind == "too_long" and problem.max_len:
            source, text = new.source, outcome.text
            fix = (
                f"Open {new.label} with the first {problem.max_len} tokens",
                lambda: self.open_model(source, text, wait=False, truncate=True),
            )
        self.notices.set_request_note(f"{problem} Still showing {current.label}.", *fix)

    def _on_model_changed(self, model: SequenceModel) -> None:
        self.settings.model = model.source
        self.settings.model_options = self.session.load_options.get(model.source, {})
        self.toolbar.select_source(model.source, model.label)
        self.toolbar.set_examples(model.examples)
        self.setWindowTitle(f"seqviz \u2014 {model.label}")
        if model.source != self._stored_source:  # units picked in its stored trace stay
            self.viewer.selection.set_units(())  # unit numbers mean nothing in another model's weights
        self._stored_source = None
        self._update_generate_action()

    def _on_device_changed(self, device: str) -> None:
        """The remembered device is not on this machine: forgotten (the session says so in a note)."""
        self.settings.device = device

    def _on_failed(self, title: str, message: str) -> None:
        model = self.session.model
        if model is not None:
            self.toolbar.select_source(model.source, model.label)
        else:
            self.toolbar.show_no_model("No model loaded")
        self.status_model.setText(model.label if model else "No model loaded")
        if self.trace is None:
            self.tokens.show_message("No model loaded: choose one in the toolbar, or open a model file.")
        dialogs.show_error(self, title, message)
        self._mark_ready()

    def _mark_ready(self) -> None:
        if not self._is_ready:
            self._is_ready = True
            self.ready.emit()

    # showing a trace ------------------------------------------------------------------------------
    def _show(self, trace: Trace, step: int, notes: tuple[str, ...], label: str) -> None:
        """Hand `trace` to every panel, then go to `step` (-1: the last). The trace already on screen
        (a stored trace the loaded model computed identically) keeps its views and step."""
        if trace is not self.trace:
            self.trace = trace
            self.viewer.set_trace(trace)  # clamps the step and the selection, before any panel draws
            self.tokens.set_trace(trace)
            self._report_panel_failures(self.dock_area.set_trace(trace))
            self.viewer.cursor.set_step(trace.num_steps if step < 0 else step)
        self.notices.set_trace_notes(notes)
        self.status_model.setText(label)
        self.status_steps.setText(f"T = {trace.num_steps}")
        self.traceShown.emit(trace)

    def _report_panel_failures(self, failures: list[str]) -> None:
        if failures:
            dialogs.show_error(self, "A panel could not show this trace", "\n".join(failures))

    # slots ----------------------------------------------------------------------------------------
    def _step_to(self, step: int) -> None:
        self.playback.pause()
        self.viewer.cursor.set_step(step)

    def _on_step_changed(self, _value: int = 0) -> None:
        self.toolbar.show_step(self.viewer.cursor.step, self.viewer.cursor.num_steps)

    def _on_playing_changed(self, playing: bool) -> None:
        self.commands.play.setIcon(self.commands.play_icons[int(playing)])
        self.commands.play.setText("Pause" if playing else "Play")

    def _on_busy_changed(self, busy: bool) -> None:
        model = self.session.model
        if busy and self.status_model.text().startswith("Loading"):
            return  # "Loading <model>..." says more than "Working..."
        self.status_model.setText("Working..." if busy else model.label if model else "")

    def _on_text_submitted(self, text: str) -> None:
        if self.session.model_loading:
            self.status_model.setText("Loading the model... the text runs once it is loaded")
        self._guarded(lambda: self.session.run_text(text, text, wait=False))
        self.tokens.strip.setFocus()  # back to stepping: arrows move the step again

    def _on_generate_triggered(self) -> None:
        if self.session.generate_left > 0:
            self.session.stop_generating()
        else:
            self.generate(wait=False)

    def _update_generate_action(self, *_args) -> None:
        action, model = self.commands.generate, self.session.model
        busy = self.session.generate_left > 0
        # a trace file on screen is not the model's run: Generate would extend something else
        action.setEnabled(model is not None and model.can_generate and self.session.run is not None)
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

    def stop_background_work(self) -> None:
        """Stop playback and wait for worker threads (a thread still running when the process exits
        aborts it: "terminate called without an active exception")."""
        self.playback.pause()
        self.gradient_flow.stop()
        self.session.forget_run()

    def closeEvent(self, event) -> None:
        self.stop_background_work()
        s = self.settings
        s.geometry, s.dock_state, s.text, s.speed = (
            self.saveGeometry(),
            self.dock_area.save_layout(),
            self.text,
            self.playback.speed,
        )
        s.sync()
        super().closeEvent(event)


def _trace_text(trace: Trace) -> str:
    """A trace file's input as text for the text field (its tokens; a space between word tokens)."""
    tokens = trace.tokens
    return "".join(tokens) if all(len(t) <= 1 for t in tokens) else " ".join(tokens)
