"""PanelsFollow: the window's panels show the weights being trained.

The first weights of an architecture are a model switch (`window.open_model`): on the text on
screen when it suits the task (the model on screen reads the same texts: a bundled long-range model
before training on long-range), else on the training data's example text. Every later version of the
same architecture's weights (training went on, or the slider picked a snapshot) is traced like an
edit's re-trace (`Session.show_version`): the text, the step, the layer and the followed units stay.

A version is handed to the window's session only when it has no job in flight, so versions never pile
up and never replace a request of the person's (a model chosen in the toolbar meanwhile), and while
training at most every MIN_INTERVAL seconds: every version repaints every panel, and the GUI thread's
work is the training thread's loss (one GIL; on a busy 2-core machine, one core). The latest waits
for the next `poll()`. Once the person opens another model, the panels stop following until an
architecture is chosen again in "Panels show" (`follow(index)`).
"""

from __future__ import annotations

import time
import weakref

from seqviz.app.viewer.runs import InputProblem

SOURCE_PREFIX = "training:"
# Seconds between two versions shown while training (the slider's are at once). Each hand-over holds
# training while the panels repaint (they share the GIL with it); once a second keeps the holds to a few
# per cent of the time and the event loop's gaps under 50 ms (bench/bench_training_app.py: at 0.5 s,
# 31-55 ms and 0.65-0.97x the headless steps/s by the wall clock; at 1 s, 19-47 ms and 0.70-0.94x).
MIN_INTERVAL = 1.0


class PanelsFollow:
    def __init__(self, window) -> None:
        self.window = window
        self.following = False
        self.example_text = ""
        self.shown_index: int | None = None  # the run whose weights are on screen
        self.shown_step: int | None = None
        self._pending: tuple[int, int, str, object] | None = None  # (run index, step, label, TokenModel)
        self._ours: weakref.WeakSet = weakref.WeakSet()  # the SequenceModels made here
        self._throttled = False  # the waiting version is training's: MIN_INTERVAL after the last
        self._last_handed = -float("inf")  # time.monotonic() of the last version handed over
        self.handing_over = lambda: None  # called as a version goes to the session (the dock holds training)
        window.session.modelChanged.connect(self._on_model_changed)

    def start(self, example_text: str) -> None:
        """A new training session: follow its runs' weights from now on."""
        self.example_text = example_text
        self.following, self.shown_index, self.shown_step = True, None, None
        self._ours = weakref.WeakSet()  # an earlier session's weights may be of another task

    def adopt(self, model, index: int, step: int | None) -> None:
        """`model`, on screen already (a trained file), is run `index`'s weights at `step`: its other
        snapshots are versions of it, shown keeping the selection."""
        self._ours = weakref.WeakSet([model])
        self.following, self.shown_index, self.shown_step = False, index, step
        self._pending = None

    def stop(self) -> None:
        self.following = False
        self._pending = None

    def show(
        self, index: int, step: int, label: str, model, *, force: bool = False, throttle: bool = False
    ) -> None:
        """Show run `index`'s weights at `step` (a TokenModel nobody else uses) when the session is
        free (`throttle`: and MIN_INTERVAL after the last); `force` follows again after the person
        opened another model."""
        if force:
            self.following = True
        if self.following:
            self._pending, self._throttled = (index, step, label, model), throttle
            self.poll()

    def owns(self, model) -> bool:
        """`model` is training's weights shown here (not a model the person opened)."""
        return model is not None and model in self._ours and model.source.startswith(SOURCE_PREFIX)

    @property
    def waiting(self) -> bool:
        return self._pending is not None

    def poll(self) -> None:
        """Hand the latest version to the session if it is free (call from a timer)."""
        window = self.window
        if self._pending is None or window.session.jobs.busy or not self.following:
            return
        if self._throttled and time.monotonic() - self._last_handed < MIN_INTERVAL:
            return
        self._last_handed = time.monotonic()
        self.handing_over()
        index, step, label, model = self._pending
        self._pending = None
        from seqviz.core.adapters import open_model

        shown = open_model(model, source=f"{SOURCE_PREFIX}{label}", label=f"{label} (training)")
        self._ours.add(shown)
        same_run = window.model in self._ours and index == self.shown_index
        self.shown_index, self.shown_step = index, step
        if same_run and window.run is not None:
            try:
                window.session.show_version(shown, window.text, wait=False, step=max(1, window.step))
                return
            except InputProblem:  # no run on screen to keep: a switch below
                pass
        text = self._text_for(shown)
        current = window.model
        if text == window.text and current is not None and current.text_domain == shown.text_domain:
            text = None  # the session keeps the text on screen and its step (an explicit text starts at 1)
        window.open_model(shown, text, wait=False)

    def finish(self) -> None:
        """Show the waiting version now and deliver it (a test, a picture, a script)."""
        self.window.session.jobs.drain()
        self._throttled = False
        self.poll()
        self.window.session.jobs.drain()

    def _text_for(self, model) -> str:
        """The text on screen if it suits the new weights' task, else the training data's example."""
        window, current = self.window, self.window.model
        same_task = current is not None and (
            current in self._ours or (bool(model.text_domain) and current.text_domain == model.text_domain)
        )
        return window.text if same_task and window.text else self.example_text

    def _on_model_changed(self, model) -> None:
        if model not in self._ours:  # the person opened another model: leave the panels to it
            self.following = False
            self._pending = None
