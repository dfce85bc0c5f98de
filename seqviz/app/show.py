"""`seqviz.show(model_or_trace, text=None)`: the window from a script or a notebook.

    import seqviz
    seqviz.show("gpt2", "The capital of France is")      # a model id, folder or file, run on a text
    seqviz.show(my_lstm)                                 # a torch module or a SequenceModel
    seqviz.show(seqviz.trace(model, "some text"))        # a trace, as it was traced

Blocking or not, decided once per call (`event_loop_running`):
- a plain script: show() runs Qt's event loop until the window is closed, then returns the window;
- IPython or Jupyter after `%gui qt` (IPython's shell reports `active_eventloop == "qt"`), or a call
  made while a Qt event loop is already running (from inside a Qt app): the window opens and show()
  returns it at once; the running loop keeps it alive and responsive.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from PySide6.QtCore import QEvent, QEventLoop, QObject, QThread
from PySide6.QtWidgets import QApplication

from seqviz.core.trace import Trace
from seqviz.core.trace_check import check_trace

_open_windows: set = set()  # windows of non-blocking calls, kept alive until they are closed
_app: QApplication | None = None  # the application show() made, if it made one: held for the process


def _application() -> QApplication:
    """The process's QApplication, made on the first call when the script has none."""
    global _app
    existing = QApplication.instance()
    if existing is not None:
        return existing
    _app = QApplication(sys.argv[:1])
    _app.setApplicationName("seqviz")
    return _app


def event_loop_running() -> bool:
    """Whether something else runs Qt's event loop, so show() must not block: IPython's `%gui qt`
    (its shell's `active_eventloop` starts with "qt"), or a Qt event loop running in this thread."""
    ipython = sys.modules.get("IPython")  # only ever imported by IPython itself: never import it here
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if str(getattr(shell, "active_eventloop", None) or "").startswith("qt"):
        return True
    return QThread.currentThread().loopLevel() > 0


def show(model_or_trace: Any, text: str | None = None):
    """Open the seqviz window on a Trace, a SequenceModel, a torch module seqviz opens, or a model id,
    folder or file (as `--model` takes), running `text` (default: the model's example). Returns the
    MainWindow: after it was closed in a plain script, at once under `%gui qt` or a running Qt loop.

    A model that cannot be opened raises here (seqviz.ModelFileError, TypeError), and so does a trace
    that breaks its contract (seqviz.core.trace_check.TraceContractError, a ValueError), before any
    window opens."""
    if isinstance(model_or_trace, Trace) and text is not None:
        raise ValueError("text= goes with a model; a trace shows the input it was traced on")
    if isinstance(model_or_trace, Trace):
        check_trace(model_or_trace)  # its contract (docs/trace.md), before any window opens
    _application()
    from seqviz.app.window.main_window import MainWindow

    model = None
    if not isinstance(model_or_trace, Trace):
        from seqviz.app.viewer import runs

        source = os.fspath(model_or_trace) if isinstance(model_or_trace, os.PathLike) else model_or_trace
        model = runs.load(source)  # raises for a bad id, file or object, with a message saying why
    window = MainWindow()
    window.show()
    if model is None:
        window.show_trace(model_or_trace, model_or_trace.meta.model_id or "trace")
    else:
        window.open_model(model, text)
    if event_loop_running():
        _keep_until_closed(window)
    else:
        _run_until_closed(window)
    return window


class _OnClose(QObject):
    """Calls `then()` when the watched window is closed."""

    def __init__(self, window, then) -> None:
        super().__init__(window)
        self._then = then
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt)
        if event.type() == QEvent.Type.Close:
            self._then()
        return False


def _run_until_closed(window) -> None:
    """Run Qt's event loop until `window` is closed (other windows of the process do not keep it)."""
    loop = QEventLoop()
    _OnClose(window, loop.quit)
    loop.exec()


def _keep_until_closed(window) -> None:
    _open_windows.add(window)
    _OnClose(window, lambda: _open_windows.discard(window))
