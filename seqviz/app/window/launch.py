"""run_app: the desktop app's start-up, ordered so the window is on screen within a second.

1. Qt and the window shell (toolbar, token strip): no pyqtgraph, no torch yet.
2. After the first paint: the dock panels (imports pyqtgraph). A bundled model's stored trace of the
   text (seqviz.core.trace_cache; the default demo ships one) is shown with them and painted at once:
   stepping works while torch loads (MainWindow.start). Only then is the model loaded and traced in a
   worker thread (imports torch) while the status bar says "Loading the model...".
With --smoke (`smoke=True`) it quits once the window is interactive and what it opened (a scene:
its model, text, step, panels and theme) is on screen, and prints one line saying what it shows
(exit status 0) or what failed (status 1).
With SEQVIZ_REPORT=1 it prints `seqviz-report <event> <unix time>` lines for window-shown,
interactive (a trace is on screen: stepping works) and model-ready (the first model request finished),
and `seqviz-report quit step=<t> num_steps=<T>` on exit (benchmarks and tests read them).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from seqviz.app.viewer import jobs
from seqviz.core.trace import Trace

REPORT_ENV = "SEQVIZ_REPORT"
START_FALLBACK_MS = 1000  # start anyway if no paint event arrives (e.g. a minimised window)


_QUIET = ("does not support propagateSizeHints",)  # the offscreen plugin says so for every dock


def _qt_messages(mode, context, message: str) -> None:
    if not any(q in message for q in _QUIET):
        print(message, file=sys.stderr)


def quiet_qt_messages() -> None:
    """Drop Qt's harmless per-dock offscreen warning; every other Qt message still goes to stderr."""
    qInstallMessageHandler(_qt_messages)


def _report(event: str) -> None:
    if os.environ.get(REPORT_ENV) == "1":
        print(f"seqviz-report {event}", flush=True)


def _report_first(signal, event: str) -> None:
    """Report `event` once, after the paint that follows the first emission of `signal`."""
    if os.environ.get(REPORT_ENV) != "1":
        return
    done = []

    def once(*_args) -> None:
        if not done:
            done.append(True)
            QTimer.singleShot(0, lambda: _report(f"{event} {time.time():.6f}"))

    signal.connect(once)


class _AfterFirstPaint(QObject):
    """Runs `then` once, right after the window's first paint."""

    def __init__(self, window, then) -> None:
        super().__init__(window)
        self._then = then
        self._done = False
        window.installEventFilter(self)
        QTimer.singleShot(START_FALLBACK_MS, self._fire)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and not self._done:
            QTimer.singleShot(0, self._fire)
        return False

    def _fire(self) -> None:
        if not self._done:
            self._done = True
            _report(f"window-shown {time.time():.6f}")
            self._then()


class _Smoke(QObject):
    """--smoke: quit once the window is interactive (its first request finished, no job running)
    and, given a scene, the whole scene is shown: model, text, step, panels, theme. `line` then
    says what is shown (exit status 0) or what failed (status 1)."""

    RETRY_MS = 50  # while a model job still runs

    def __init__(self, app: QApplication, window, scene=None) -> None:
        super().__init__(window)
        self.app, self.window, self.scene = app, window, scene
        self.line = "smoke FAILED: the window was closed before it was ready"
        self.finished = False
        self._ready, self._scene_done, self._error = False, scene is None, None
        window.ready.connect(self._on_ready)
        window.session.failed.connect(lambda title, message: self._note_error(f"{title}: {message}"))
        window.session.outcome.connect(self._on_outcome)

    def scene_done(self, error: str | None) -> None:
        """`scenes.apply`'s report: None when the scene is shown, else why it is not."""
        self._scene_done = True
        self._note_error(error)
        self._finish_soon()

    def _on_ready(self) -> None:
        self._ready = True
        self._finish_soon()

    def _on_outcome(self, outcome) -> None:
        if outcome.problem is not None:
            self._note_error(f"the text cannot run: {outcome.problem}")

    def _note_error(self, error: str | None) -> None:
        self._error = self._error or error

    def _finish_soon(self) -> None:
        if self._ready and self._scene_done:
            QTimer.singleShot(0, self._finish)  # after the layouts and paints the scene posted

    def _finish(self) -> None:
        if self._error is None and self.window.session.jobs.busy:
            QTimer.singleShot(self.RETRY_MS, self._finish)
            return
        error = self._error or self._check()
        self.finished = True
        if error is None:
            self.line = f"smoke ok: {shown_summary(self.window)}"
        else:
            self.line = f"smoke FAILED: {' '.join(error.split())}"  # one line, whatever the message
        self.app.exit(0 if error is None else 1)

    def _check(self) -> str | None:
        """Why the window is not showing what it should, or None."""
        window = self.window
        if window.trace is None:
            return "no trace is shown"
        if not window.dock_area.panels:
            return "the panels were not built"
        if self.scene is None:
            return None
        differences = [
            f"{name} is {shown!r}, the scene has {wanted!r}"
            for name, shown, wanted in scene_comparison(window, self.scene)
            if shown != wanted
        ]
        return "the scene is not shown: " + "; ".join(differences) if differences else None


class _CloseWithoutWaiting(QObject):
    """Before the window's close event: running model jobs are left to run out (the process waits for
    them after the window has gone), so closing never waits for a model import or a trace."""

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Close:
            jobs.abandon_all()
        return False


def exit_now(code: int) -> None:
    """End the process with status `code` as Python's own exit would, without its final garbage
    collections: the jobs the window left running finish (one may be writing a file), non-daemon
    threads are joined, atexit functions run (logging's flush among them), the streams are flushed.
    Settings were written when the window closed."""
    jobs.wait_for_abandoned()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # noqa: SLF001 (the functions Py_Finalize would run)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code)


def scene_comparison(window, scene) -> list[tuple[str, object, object]]:
    """(what, as shown, as the scene has it) for the model, text, step and theme. A step beyond the
    trace's end is shown as the last step."""
    from seqviz.app.window.theme import current_theme

    model, run = window.model, window.run
    return [
        ("the model", model.source if model else None, scene.model),
        ("the text", run.text if run else None, scene.text),
        ("the step", window.step, min(scene.step, window.num_steps)),
        ("the theme", current_theme().name, scene.theme),
    ]


def shown_summary(window) -> str:
    """One line: what the window shows, e.g. "model=longrange-lstm, step=3/20, theme=light, ..."."""
    from seqviz.app.window.theme import current_theme

    model, run = window.model, window.run
    parts = [
        f"model={model.source if model else '-'}",
        f"text={run.text!r}" if run else "text=-",
        f"step={window.step}/{window.num_steps}",
        f"theme={current_theme().name}",
        f"panels={','.join(window.panels)}",
    ]
    return ", ".join(parts)


def _then_painted(window, start: Callable[[], object]) -> Callable[[], None]:
    """`start`, then the window laid out and painted before the event loop turns again: what the start
    showed (the panels, the default demo's stored trace) is on screen before the model's load, which
    the start deferred to the next turn of the loop, imports torch in its worker. The import holds the
    GIL for much of its 2-3 s: sharing it had doubled the panels' first paint (measured: the first
    step, which waited for that paint, 190 ms instead of 90)."""

    def run() -> None:
        start()
        QApplication.sendPostedEvents()  # the layouts the new panels asked for
        window.repaint()

    return run


def run_app(
    model: str | None = None,
    text: str | None = None,
    trace: Trace | None = None,
    trace_label: str | None = None,
    smoke: bool = False,
    scene=None,
    compare: tuple[str, ...] = (),
    load_options: dict | None = None,
    exit_process: bool = False,
) -> int:
    """Open the main window and run until it closes; returns the exit status. A `scene`
        (seqviz.app.scenes.Scene) is shown instead of the remembered model; `compare` models run beside
        the first once it is on screen; `load_options` (vocab=, heads=, nonlinearity=) open `model`. With
    `exit_process` the process ends when the window has closed (`exit_now`) instead of returning."""
    quiet_qt_messages()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("seqviz")
    app.setOrganizationName("seqviz")
    from seqviz.app.window.dialogs import install_excepthook
    from seqviz.app.window.main_window import MainWindow

    window = MainWindow(lazy_panels=True)
    if model and load_options:
        window.session.load_options[model] = dict(load_options)
    install_excepthook(window)
    if exit_process:
        closing = _CloseWithoutWaiting(window)
        window.installEventFilter(closing)
    _report_first(window.traceShown, "interactive")  # a trace on screen: stepping works
    _report_first(window.ready, "model-ready")  # the model is loaded (or failed): new text runs
    check = _Smoke(app, window, scene) if smoke else None
    if compare:
        window.ready.connect(lambda: [window.compare(source) for source in compare])
    if scene is not None:
        from seqviz.app import scenes

        done = check.scene_done if check is not None else None
        start = _then_painted(window, lambda: scenes.apply(window, scene, wait=False, done=done))
        _AfterFirstPaint(window, start)
    else:
        _AfterFirstPaint(window, _then_painted(window, lambda: window.start(model, text, trace, trace_label)))
    window.show()
    code = app.exec()
    _report(f"quit step={window.step} num_steps={window.num_steps}")
    if check is not None:
        code = code if check.finished else 1
        print(f"seqviz: {check.line}", file=sys.stdout if code == 0 else sys.stderr, flush=True)
        window.close()  # saves settings, waits for a running job
    # Delete the window while the QApplication still exists, not during interpreter shutdown.
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if exit_process:
        exit_now(code)
    return code
