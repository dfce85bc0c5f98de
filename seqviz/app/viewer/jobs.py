"""JobRunner: run model work (loading, tracing) off the GUI thread, one job at a time.

The window submits a function; it runs in a QThread and its result (or exception) comes back to the
GUI thread through a queued signal. While a job runs, a newer submission replaces any waiting one (only
the latest input matters); it starts after the running job's result has been applied, so a job should
read the window's current model when it runs, not when it is submitted. `run_now` runs a job
synchronously for the scripting API after discarding whatever was in flight, so an old result can never
overwrite a newer one.

Quitting does not wait for a running job with the window on screen: `abandon_all()` lets every running
job run out on its own, its result dropped, and the process waits for them (`wait_for_abandoned()`)
only after the window has gone (a model import cannot be interrupted; waiting for it in the window's
close event kept the window on screen for seconds).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]

_runners: weakref.WeakSet[JobRunner] = weakref.WeakSet()  # every runner alive, for abandon_all
# Running threads no runner waits for any more. Kept here, unparented, until they end: a QThread
# destroyed while it runs (with its runner's parent window) aborts the process.
_abandoned: list[QThread] = []


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
        _runners.add(self)

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

    def abandon(self) -> None:
        """Forget the waiting job and let the running one run out without waiting for it, its result
        dropped (for a process about to exit: see `abandon_all`)."""
        self._pending = None
        thread = self._thread
        if thread is None:
            return
        thread.finished.disconnect(self._on_thread_finished)
        thread.setParent(None)  # deleting this runner (and its window) must not destroy it
        _abandoned.append(thread)
        self._thread = self._callbacks = None
        self.busyChanged.emit(False)

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


def abandon_all() -> None:
    """Every runner lets its running job run out on its own and forgets the waiting one: the window
    can close at once when the process is about to exit."""
    for runner in list(_runners):
        runner.abandon()


def wait_for_abandoned() -> None:
    """Wait until every abandoned job has ended (before the process exits: a job may be writing a
    file, e.g. the trace kept for the next start)."""
    while _abandoned:
        _abandoned.pop().wait()
