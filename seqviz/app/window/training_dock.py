"""The Training dock (issue 14): train untrained models in front of the class and watch them learn.

- Train › Training (Ctrl+T, also in View) opens the dock; it starts hidden. Train › Start training
  (Ctrl+Shift+T), Pause / Resume (Ctrl+Shift+P... the buttons), Stop.
- Start: a TrainingWorker (seqviz.app.viewer.training_worker) prepares the data and trains one to
  four architectures round-robin in a thread of its own (seqviz.demos.training_run: the one training
  loop of the demos and `python -m seqviz.train`). A timer takes its records about ten times a second:
  the curves, the progress bar and one status line per architecture (its step, loss and held-out
  accuracy, or its problem: a diverged run stops, the others go on).
- The panels follow the architecture chosen in "Panels show" (PanelsFollow): its weights every N
  steps, keeping the text, the step and the selection. While paused and after training the slider
  shows any saved snapshot in the panels.
- Save... writes an architecture's model with its card, tokenizer, curves and snapshots
  (seqviz.demos.trained_file) into a file File > Open model opens; the dialog remembers its folder.
  A trained file opened in the window shows its curves here and its snapshots on the slider.
- Bad input (an empty text file, a model too large for memory) is one sentence in the dock; nothing
  starts and nothing is lost. Closing the window while training stops the worker after its step.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget

from seqviz.app.viewer.training_choices import TrainingChoices
from seqviz.app.viewer.training_worker import TrainingWorker, session_maker
from seqviz.app.window import training_files
from seqviz.app.window.training_entries import TrainingEntries
from seqviz.app.window.training_follow import PanelsFollow
from seqviz.demos.training_curves import Curves

if TYPE_CHECKING:
    from seqviz.app.window.training_view import TrainingView

log = logging.getLogger("seqviz")

DOCK_KEYS, START_KEYS = "Ctrl+T", "Ctrl+Shift+T"
POLL_MS = 100  # the curves redraw at most ten times a second
# Training waits from the moment new weights go to the panels until this long after their trace is
# shown: the GUI thread repaints every panel meanwhile without sharing the GIL with the training
# thread (shared, a 17 ms repaint took 60-150 ms: bench/bench_training_app.py).
SETTLE_MS = 100
CAUGHT_UP_MS = 20  # a settle timer this late found the window still busy with the new trace
SETTLE_AGAIN = 3


class TrainingDock(QObject):
    """The window's side of training. Its widgets are built when the dock is first shown (or training
    starts): the training API imports torch and the curves pyqtgraph, and the window comes up before
    either is loaded."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.api = None  # seqviz.demos.training_run, once the view is built
        self.view: TrainingView | None = None
        self.dock = QDockWidget("Training", window)
        self.dock.setObjectName("dock_training")
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()  # a lecturer opens it
        self.dock.visibilityChanged.connect(lambda visible: visible and self.ensure_view())
        self.worker: TrainingWorker | None = None
        self.session = None  # the last TrainingSession (kept after training: Save, the slider)
        self.trained_file = None  # a trained file opened in the window (read_training), when no session
        self.points: list[Curves] = []
        self.state = "idle"
        self.model_before = ""  # the source of the model on screen before training ("": the default)
        self.follow = PanelsFollow(window)
        self.follow.handing_over = self._hold_training
        self._settling = 0.0  # when a version on screen releases training (time.monotonic())
        window.traceShown.connect(self._on_trace_shown)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self._build_actions()
        window.session.modelChanged.connect(self._on_model_changed)
        window.installEventFilter(self)
        self.entries = TrainingEntries(self)  # the model chooser's "GRU (training)" shows that run again

    def ensure_view(self) -> TrainingView:
        """The dock's widgets (built at the first call)."""
        if self.view is None:
            from seqviz.app.window.training_view import TrainingView
            from seqviz.demos import training_run

            self.api = training_run
            self.view = TrainingView(training_run.task_choices())
            self.view.form.set_choices(TrainingChoices.from_json(self.window.settings.training))
            self.view.form.choose_text_file = lambda: training_files.choose_text_file(self.window)
            self.dock.setWidget(self.view)
            self._connect_view()
        return self.view

    def _build_actions(self) -> None:
        window = self.window
        toggle = self.dock.toggleViewAction()
        toggle.setText("Training")
        toggle.setShortcut(QKeySequence(DOCK_KEYS))
        toggle.setStatusTip("Show the Training dock: train models and watch the panels follow")
        self.start_action = QAction("Start training", window)
        self.start_action.setShortcut(QKeySequence(START_KEYS))
        self.start_action.setStatusTip("Train the architectures chosen in the Training dock")
        self.start_action.triggered.connect(self.start)
        self.pause_action = QAction("Pause training", window)
        self.pause_action.triggered.connect(self.toggle_pause)
        self.stop_action = QAction("Stop training", window)
        self.stop_action.triggered.connect(self.stop)
        for action in (toggle, self.start_action):
            window.addAction(action)  # the key works wherever the focus is
        window.view_menu.addAction(toggle)
        menu = window.menuBar().addMenu("&Train")
        menu.addActions([toggle, self.start_action, self.pause_action, self.stop_action])
        self.menu = menu
        self._update_actions()

    def _connect_view(self) -> None:
        v = self.view
        v.startClicked.connect(self.start)
        v.pauseClicked.connect(self.toggle_pause)
        v.stopClicked.connect(self.stop)
        v.saveClicked.connect(self.save)
        v.followChosen.connect(self._on_follow_chosen)
        v.snapshotChosen.connect(self._on_snapshot_chosen)
        v.form.changed.connect(self._remember_choices)
        v.form.follow_every.valueChanged.connect(self._on_follow_every_changed)

    # commands -------------------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start training with the form's choices; False (the reason in the dock) if it cannot."""
        if self.state in ("starting", "running", "paused"):
            return False
        choices = self.ensure_view().form.choices()
        problem = choices.problem()
        if problem is not None:
            self._say(problem)
            return False
        settings = choices.train_settings(self.api.TrainSettings)
        archs = choices.arch_settings(self.api.ArchSettings)
        self.dock.show()
        self.worker = TrainingWorker(
            session_maker(settings, archs),
            follow=0,  # the panels show the first architecture; "Panels show" picks another
            follow_every=choices.follow_every,
            input_errors=(self.api.TrainingInputError,),
        )
        self.train_settings = settings
        self.session = self.trained_file = None
        model = self.window.model
        if model is not None and not self.follow.owns(model):  # what the next launch reopens
            self.model_before = model.source
        self._set_state("starting")
        self._say("Preparing the data and the models...")
        # The objects alive now are not garbage: a full collection scanning them all (~200 ms with
        # torch and the panels loaded) stalled the window; while training only newer ones are scanned.
        gc.freeze()
        self.worker.start()
        self.timer.start()
        return True

    def toggle_pause(self) -> None:
        if self.worker is None or self.state not in ("running", "paused"):
            return
        if self.state == "running":
            self.worker.pause()
            self._set_state("paused")
            self._offer_snapshots()
        else:
            self.worker.resume()
            self._set_state("running")

    def stop(self) -> None:
        """Stop after the steps in progress; every architecture keeps what it was trained."""
        if self.worker is not None and self.state in ("starting", "running", "paused"):
            self.worker.stop()
            self._say("Stopping after the current step...")

    def finish(self) -> None:
        """Wait for the worker to end and take everything it reported (a test or a script)."""
        if self.worker is not None:
            self.worker.join()
        self.poll()
        self.follow.finish()

    # what the worker reports ----------------------------------------------------------------------------
    def poll(self) -> None:
        """Take the worker's reports: curves, status lines, progress; the panels' next version."""
        self.follow.poll()
        if self.state == "running" and self.follow.shown_step is not None:
            self.view.show_step(self.follow.shown_step)
        if self.worker is None:
            if not self.follow.waiting:
                self.timer.stop()
            return
        progress = self.worker.take()
        if progress.session is not None:
            self._on_session(progress.session, progress.curves)
        if progress.records:
            self._on_records(progress.records)
        if progress.model is not None and self.session is not None:
            index, step, model = progress.model
            self.follow.show(index, step, self.session.runs[index].label, model, throttle=True)
        # a version dropped or refused: no trace to wait for (before the session's report, the
        # worker holds for its untrained weights, which come with it)
        idle = not (self.window.session.jobs.busy or self.follow.waiting or self._settling)
        if self.session is not None and idle:
            self.worker.release()
        if progress.error:
            self._say(progress.error, error=True)
        if progress.ended:
            self._on_ended(error=progress.error)

    def _on_session(self, session, curves: list[Curves]) -> None:
        self.session = session
        labels = [run.label for run in session.runs]
        self.view.set_runs(labels)
        archs, steps = [run.arch.arch for run in session.runs], self.train_settings.steps
        self.view.curves.set_runs(labels, archs, self.train_settings.clip, steps)
        self.view.x_axis.setEnabled(True)
        self.points = curves
        for i, points in enumerate(curves):
            self.view.curves.set_points(i, points)
            self._show_status(i)
        self.view.follow.setCurrentIndex(self.worker.follow)
        self.view.progress.setRange(0, self.train_settings.steps * len(labels))
        self.view.progress.setValue(0)
        self.follow.start(session.data.example_text)
        self.entries.prune()  # the chooser's entries of an earlier session's runs
        self._say(f"Training on {session.data.title}.")
        self._set_state("paused" if self.worker.paused else "running")

    def _on_records(self, records: list) -> None:
        touched = set()
        for index, record in records:
            self.points[index].add(record)
            touched.add(index)
        for index in sorted(touched):
            self.view.curves.set_points(index, self.points[index])
            self._show_status(index)
        self.view.progress.setValue(self._steps_done())

    def _on_ended(self, error: str | None) -> None:
        gc.unfreeze()
        self.worker.restore_threads()
        self.worker = None
        if self.session is None:  # it never started: the reason is in the dock already
            self._set_state("idle")
            return
        self._set_state("ended")
        for index in range(len(self.session.runs)):
            self._show_status(index)
        self.view.progress.setValue(self._steps_done())
        if not error:
            self._say(self._summary())
        self._offer_snapshots()

    def _steps_done(self) -> int:
        steps = self.train_settings.steps
        return sum(steps if run.finished else run.steps_done for run in self.session.runs)

    def _show_status(self, index: int) -> None:
        run, points = self.session.runs[index], self.points[index]
        parts = [f"{run.label}: {run.steps_done}/{self.train_settings.steps} steps"]
        if points.loss and math.isfinite(points.loss[-1]):
            parts.append(f"loss {points.loss[-1]:.3f}")
        if points.accuracy:
            parts.append(f"held-out {points.accuracy[-1]:.0%}")
        text = " \u00b7 ".join(parts)
        problem = run.problem
        self.view.set_run_status(index, f"{run.label}: {problem}" if problem else text)

    def _summary(self) -> str:
        return (
            "Done. "
            + "; ".join(
                f"{run.label} {points.accuracy[-1]:.0%}"
                for run, points in zip(self.session.runs, self.points, strict=True)
                if points.accuracy
            )
            + " held out."
        )

    # snapshots and saving -------------------------------------------------------------------------------
    def _offer_snapshots(self) -> None:
        """The slider over the saved weights of the architecture the panels show."""
        index = self.follow.shown_index if self.follow.shown_index is not None else 0
        if self.session is not None:
            steps = sorted(self.session.runs[index].snapshots)
        elif self.trained_file is not None:
            steps = list(self.trained_file.snapshot_steps)
        else:
            steps = []
        self.view.set_snapshots(steps, self.follow.shown_step)
        self.view.set_state(self.state)

    def _on_snapshot_chosen(self, position: int) -> None:
        steps = self.view.snapshot_steps
        if not 0 <= position < len(steps):
            return
        step = steps[position]
        if self.session is not None and self.state in ("paused", "ended"):
            index = self.follow.shown_index or 0
            run = self.session.runs[index]
            self.follow.show(index, step, run.label, run.model_at(step), force=True)
        elif self.trained_file is not None:
            self.follow.show(0, step, self.trained_file.label, self.trained_file.model_at(step), force=True)
        self.timer.start()

    def save(self, index: int, path: str | None = None) -> Path | None:
        """Save run `index` (paused or after training) as a model file; asks where when `path` is None."""
        if self.session is None or self.state not in ("paused", "ended"):
            return None
        run = self.session.runs[index]
        saved = training_files.save_run(self.window, run, path)
        if saved is not None:
            self._say(
                f"Saved {run.label} ({run.steps_done} steps) to {saved.name}: File > Open model opens it."
            )
        return saved

    def show_run(self, index: int) -> None:
        """The panels show run `index`'s weights, as choosing it in "Panels show" does (a trained file's:
        the snapshot on the slider)."""
        view = self.ensure_view()
        if self.session is None:
            self._on_snapshot_chosen(view.slider.value())
            return
        view.follow.setCurrentIndex(index)
        self._on_follow_chosen(index)

    # slots ----------------------------------------------------------------------------------------------
    def _on_follow_chosen(self, index: int) -> None:
        if self.worker is not None:
            self.worker.follow = index
        if self.session is None:
            return
        run = self.session.runs[index]
        if self.state in ("paused", "ended"):  # the worker hands over nothing now: its latest weights
            step = max(run.snapshots) if run.snapshots else 0
            self.follow.show(index, step, run.label, run.model_at(step), force=True)
            self.follow.shown_index = index
            self._offer_snapshots()
        else:
            self.follow.following = True
        self.timer.start()

    def _hold_training(self) -> None:
        """New weights go to the panels: training waits until they are traced and painted."""
        if self.worker is not None:
            self.worker.hold()

    def _on_trace_shown(self, _trace) -> None:
        # after the repaint and the layout passes the new trace posts; a trace of another model (the
        # one on screen at Start, loaded meanwhile) releases nothing: training waits for its own
        if self.worker is not None and self.follow.owns(self.window.model):
            self._settle()

    def _settle(self, again: int = SETTLE_AGAIN) -> None:
        self._settling = time.monotonic() + SETTLE_MS / 1000
        QTimer.singleShot(SETTLE_MS, self, lambda: self._release_training(again))

    def _release_training(self, again: int = 0) -> None:
        """Release training SETTLE_MS after a trace is shown, unless the window is still catching up
        (this timer came late: a model switch's new panels lay out and repaint over several turns
        of the event loop); then SETTLE_MS more, `again` times at most (a window always late must
        not stop training)."""
        late = time.monotonic() - self._settling > CAUGHT_UP_MS / 1000
        if self.worker is not None and late and again > 0:
            self._settle(again - 1)
            return
        self._settling = 0.0
        if self.worker is not None:
            self.worker.release()

    def _on_follow_every_changed(self, value: int) -> None:
        if self.worker is not None:
            self.worker.follow_every = max(1, value)

    def _on_model_changed(self, model) -> None:
        """A trained file opened in the window: its curves and snapshots here (when not training)."""
        if self.state in ("starting", "running", "paused") or not training_files.trained_in_seqviz(model):
            return
        if training_files.show_trained_file(self, model):
            self._set_state("ended")
            self._offer_snapshots()
            self.view.save_buttons[0].setEnabled(False)  # it is saved already

    def _remember_choices(self) -> None:
        self.window.settings.training = self.view.form.choices().to_json()

    def _set_state(self, state: str) -> None:
        if state != self.state and state in ("starting", "idle"):  # the curves get the form's room
            self.view.show_settings(state == "idle")
        self.state = state
        self.view.set_state(state)
        self._update_actions()

    def _update_actions(self) -> None:
        training = self.state in ("starting", "running", "paused")
        self.start_action.setEnabled(not training)
        self.pause_action.setEnabled(self.state in ("running", "paused"))
        self.pause_action.setText("Resume training" if self.state == "paused" else "Pause training")
        self.stop_action.setEnabled(training)

    def _say(self, text: str, error: bool = False) -> None:
        self.view.status.setText(text)
        self.view.status.setProperty("error", error)
        self.view.status.setStyleSheet("color: #c0392b;" if error else "")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.close()
        return False

    def close(self) -> None:
        """The window closes: the worker stops after its step (the process joins it before exiting).
        Weights being trained are not reopened at the next launch (nothing to open them from): the
        model shown before training is."""
        if self.follow.owns(self.window.model):
            self.window.settings.model = self.model_before
        self.timer.stop()
        self.follow.stop()
        if self.worker is not None:
            self.worker.stop()


def install(window) -> TrainingDock:
    """The window's Training dock and Train menu (after its menus and session exist)."""
    return TrainingDock(window)
