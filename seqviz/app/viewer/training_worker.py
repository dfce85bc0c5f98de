"""TrainingWorker: drive a TrainingSession (seqviz.demos.training_run) in a thread of its own.

The Training dock never calls the session while the worker runs: the worker thread makes the session
(reading a text file and building the models can take a while), steps it, and puts what happened in
a queue; the dock takes it with `take()` from a timer in the GUI thread, at most ~10 times a second,
so a burst of fast steps is one batch, one redraw. Nothing of Qt crosses threads: a window that
closes while the worker runs cannot leave a signal on its way to a deleted object.

Pause and Stop are flags the thread reads between optimiser steps: a step is never cut in half. So is
`hold()`: the window holds training for the moment it shows new weights in every panel (`release()`,
or HOLD_LIMIT seconds at most). Both threads share one GIL: a training thread running Python made each
of the panels' many Python calls in a repaint wait for it (a 17 ms update took 100 ms and more). Stop
(and an exception in a step) keeps what was trained: every run still going is stopped
(`TrainingRun.stop`, a final snapshot). The thread is an ordinary (non-daemon) Python thread:
a window closed mid-training sets Stop and goes at once; the process joins the thread before it
exits (seqviz.app.window.launch.exit_now), after the step in progress.

While training, torch computes on one thread (`torch.set_num_threads(1)`, set by `start()` in the
caller's thread): the other core stays with the GUI thread, which traces the current weights and
redraws the panels.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from seqviz.demos.training_curves import Curves

log = logging.getLogger("seqviz")

HOLD_LIMIT = 1.0  # seconds a hold lasts at most (a release that never comes never stops training)


@dataclass
class Progress:
    """What the worker did since the last `take()`."""

    session: Any = None  # the TrainingSession, once it is made (its runs' labels, data, settings)
    curves: list[Curves] | None = None  # with the session: each run's curves before its first step
    records: list[tuple[int, Any]] = field(default_factory=list)  # (run index, StepRecord), in order
    model: tuple[int, int, Any] | None = None  # the latest (run index, step, TokenModel copy) to show
    error: str | None = None  # why training could not start, or stopped (a person's sentence)
    ended: bool = False  # the thread has ended: every run is finished


class TrainingWorker:
    """One training session in a thread. `follow` (a run's index) and `follow_every` (steps) say which
    run's weights to hand over for the panels, and how often; both may change while it runs."""

    def __init__(
        self,
        make_session: Callable[[], Any],
        *,
        follow: int = 0,
        follow_every: int = 20,
        input_errors: tuple[type[BaseException], ...] = (ValueError,),
    ) -> None:
        self.make_session = make_session  # e.g. lambda: TrainingSession(settings, archs)
        self.follow, self.follow_every = follow, max(1, int(follow_every))
        self.input_errors = input_errors  # refused input: its message alone, no traceback logged
        self.session: Any = None
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._stop = threading.Event()
        self._free = threading.Event()  # cleared while the window holds training
        self._free.set()
        self._thread: threading.Thread | None = None
        self._last_followed: tuple[int, int] | None = None
        self._torch_threads: int | None = None
        self.training_since: float | None = None  # time.perf_counter() as the first step began

    # control (any thread) -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread; torch computes on one thread of its own until `restore_threads()`."""
        import torch

        # torch's thread count is the process's: set by the thread that owns the session's life
        self._torch_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        self._thread = threading.Thread(target=self._main, name="seqviz-training")
        self._thread.start()

    def restore_threads(self) -> None:
        """torch's number of threads as before `start()` (once the thread has ended)."""
        import torch

        if self._torch_threads is not None:
            torch.set_num_threads(self._torch_threads)
            self._torch_threads = None

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        """Stop after the step in progress; every run keeps what it was trained."""
        self._stop.set()
        self._running.set()

    def hold(self) -> None:
        """Hold training after the step in progress until `release()` (at most HOLD_LIMIT seconds)."""
        self._free.clear()

    def release(self) -> None:
        self._free.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end (a test, or a script); True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    def take(self) -> Progress:
        """Everything the thread reported since the last call (GUI thread)."""
        progress = Progress()
        while True:
            try:
                kind, value = self._queue.get_nowait()
            except queue.Empty:
                return progress
            if kind == "records":
                progress.records.extend(value)
            elif kind == "model":
                progress.model = value  # only the latest is worth tracing
            elif kind == "session":
                progress.session, progress.curves, progress.model = value
            else:
                setattr(progress, kind, value)  # error, ended

    # the thread ---------------------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._train()
        finally:
            self._queue.put(("ended", True))

    def _train(self) -> None:
        try:
            session = self.make_session()
        except self.input_errors as exc:
            self._queue.put(("error", str(exc)))
            return
        except Exception as exc:  # e.g. out of memory while building the models
            log.error("training could not start", exc_info=(type(exc), exc, exc.__traceback__))
            self._queue.put(("error", f"Training could not start: {type(exc).__name__}: {exc}"))
            return
        self.session = session
        curves = [Curves.copy_of(run.curves) for run in session.runs]  # step 0's accuracy
        # The untrained weights come with the session, in one report: the window holds training
        # until they are on screen (a model switch, every panel built anew: its largest update,
        # which then never shares the GIL with a step); a report of the session alone would have
        # looked like a version dropped, and released it.
        self.hold()
        self._queue.put(("session", (session, curves, self._due_model(session, force=True))))
        try:
            self._loop(session)
        except Exception as exc:
            log.error("training failed", exc_info=(type(exc), exc, exc.__traceback__))
            message = f"Training stopped: {type(exc).__name__}: {exc}. What was trained so far is kept."
            self._queue.put(("error", message))
        finally:
            for run in session.runs:
                if not run.finished:
                    run.stop()
            self._hand_over(session, force=True)

    def _loop(self, session) -> None:
        while not session.finished:
            if not self._running.is_set():
                self._hand_over(session, force=True)  # the panels show where it paused
                self._running.wait()
            if self._stop.is_set():
                return
            if not self._free.wait(HOLD_LIMIT):
                self._free.set()  # a release that never came: the hold ends, not just this wait
            if self.training_since is None:
                self.training_since = time.perf_counter()
            going = [i for i, run in enumerate(session.runs) if not run.finished]
            records = session.step_all()  # one record per run still going, in the runs' order
            self._queue.put(("records", list(zip(going, records, strict=True))))
            self._hand_over(session)

    def _hand_over(self, session, force: bool = False) -> None:
        """Put a copy of the followed run's weights in the queue when it is due (every `follow_every`
        of its steps, its last step, or `force`) and not handed over already."""
        model = self._due_model(session, force)
        if model is not None:
            self._queue.put(("model", model))

    def _due_model(self, session, force: bool) -> tuple[int, int, Any] | None:
        """(run index, step, a copy of its weights) of the followed run if due, else None."""
        index = min(max(self.follow, 0), len(session.runs) - 1)
        run = session.runs[index]
        due = run.steps_done % self.follow_every == 0 or run.finished
        if (force or due) and self._last_followed != (index, run.steps_done):
            self._last_followed = (index, run.steps_done)
            return index, run.steps_done, run.current_model()
        return None


def session_maker(settings: Any, archs: Sequence[Any]) -> Callable[[], Any]:
    """The function the worker's thread calls to prepare the data and build the models."""

    def make():
        from seqviz.demos.training_run import TrainingSession

        return TrainingSession(settings, archs)

    return make
