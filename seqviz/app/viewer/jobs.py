"""JobRunner: run model work (loading, tracing) off the GUI thread, one job at a time.

The window submits a function; it runs in a QThread and its result (or exception) comes back to the
GUI thread through a queued signal. While a job runs, a newer submission replaces any waiting one (only
the latest input matters); it starts after the running job's result has been applied, so a job should
read the window's current model when it runs, not when it is submitted. `run_now` runs a job
synchronously for the scripting API after discarding whatever was in flight, so an old result can never
overwrite a newer one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class _JobThread(QThread):
    def __init__(self, fn: Callable[[], Any], parent: QObject) -> None:
        super().__init__(parent)
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the GUI thread, which reports it
            self.error = exc


class JobRunner(QObject):
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: _JobThread | None = None
        self._callbacks: tuple[Done, Failed] | None = None
        self._pending: tuple[Callable[[], Any], Done, Failed] | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def submit(self, fn: Callable[[], Any], done: Done, failed: Failed) -> None:
        """Run `fn` in a worker thread; then `done(result)` or `failed(exc)` in the GUI thread."""
        if self._thread is not None:
            self._pending = (fn, done, failed)
            return
        self._start(fn, done, failed)

    def run_now(self, fn: Callable[[], Any], done: Done, failed: Failed) -> None:
        """Run `fn` here and now, after cancelling queued and running jobs (their results are dropped)."""
        self.cancel()
        try:
            result = fn()
        except Exception as exc:
            failed(exc)
            return
        done(result)

    def drain(self) -> None:
        """Wait for the running job and any waiting one, delivering their results here and now (a
        picture or a script that must see the outcome of what was already asked)."""
        while self._thread is not None:
            self._thread.wait()
            self._deliver()

    def cancel(self) -> None:
        """Forget the waiting job and wait for the running one, dropping its result."""
        self._pending = None
        if self._thread is not None:
            self._thread.wait()
            self._finish_thread()

    def _start(self, fn: Callable[[], Any], done: Done, failed: Failed) -> None:
        thread = _JobThread(fn, self)
        thread.finished.connect(self._on_thread_finished)  # a bound QObject method: queued to our thread
        self._thread, self._callbacks = thread, (done, failed)
        self.busyChanged.emit(True)
        thread.start()

    def _finish_thread(self) -> tuple[_JobThread, tuple[Done, Failed]] | None:
        thread, callbacks = self._thread, self._callbacks
        if thread is None or callbacks is None:
            return None
        thread.finished.disconnect(self._on_thread_finished)
        thread.deleteLater()
        self._thread = self._callbacks = None
        self.busyChanged.emit(False)
        return thread, callbacks

    def _on_thread_finished(self) -> None:
        # A cancelled or drained job's signal can still arrive (queued before it was disconnected);
        # its sender may be gone already (sender() is then None), so check there is a job at all.
        if self._thread is None or self.sender() is not self._thread:
            return
        self._deliver()

    def _deliver(self) -> None:
        thread, (done, failed) = self._finish_thread()
        try:
            if thread.error is not None:
                failed(thread.error)
            else:
                done(thread.result)
        finally:
            pending, self._pending = self._pending, None
            if pending is not None:
                self._start(*pending)
