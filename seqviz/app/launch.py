"""run_app: the desktop app's start-up, ordered so the window is on screen within a second.

1. Qt and the window shell (toolbar, token strip): no pyqtgraph, no torch yet.
2. After the first paint: the dock panels (imports pyqtgraph), then the model is loaded and traced in
   a worker thread (imports torch) while the window shows "Loading model...".
With SEQVIZ_REPORT=1 it prints `seqviz-report <event> <unix time>` lines for window-shown and
interactive, and `seqviz-report quit step=<t> num_steps=<T>` on exit (benchmarks and tests read them).
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

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


def run_app(
    model: str | None = None,
    text: str | None = None,
    trace: Trace | None = None,
    trace_label: str | None = None,
    smoke: bool = False,
    scene=None,
) -> int:
    """Open the main window and run until it closes; returns the exit status. A `scene`
    (seqviz.app.scenes.Scene) is shown instead of the remembered model."""
    quiet_qt_messages()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("seqviz")
    app.setOrganizationName("seqviz")
    from seqviz.app.dialogs import install_excepthook
    from seqviz.app.main_window import MainWindow

    window = MainWindow(lazy_panels=True)
    install_excepthook(window)

    def on_ready() -> None:
        QTimer.singleShot(0, lambda: _report(f"interactive {time.time():.6f}"))
        if smoke:
            QTimer.singleShot(0, lambda: app.exit(0 if window.trace is not None else 1))

    window.ready.connect(on_ready)
    if scene is not None:
        from seqviz.app import scenes

        _AfterFirstPaint(window, lambda: scenes.apply(window, scene, wait=False))
    else:
        _AfterFirstPaint(window, lambda: window.start(model, text, trace, trace_label))
    window.show()
    code = app.exec()
    _report(f"quit step={window.step} num_steps={window.num_steps}")
    if smoke:
        print(f"seqviz: smoke {'ok' if code == 0 else 'FAILED'}: step {window.step} / {window.num_steps}")
        window.close()  # saves settings, waits for a running job
    # Delete the window while the QApplication still exists, not during interpreter shutdown.
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return code
