"""Masked language models in the window: the classic BERT demo.

Double-click a token chip (or right-click it: Mask this token) and the text runs again with the
tokenizer's mask token in that position; the step goes there, so the Output panel shows the model's
top predictions for the blank. The same again takes the mask off. Typing the mask token ("[MASK]") in
the text works too: the model reads it as a mask (those cannot be taken off by a click: they are text).
A new text starts without masks; edits keep them.

The strip also learns the model's special tokens here (drawn as outlines), for every run shown.

Scripting: `window.masking.toggle(position)` (0-based), `window.masking.set_masks([2, 5])`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject


class Masking(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        window.tokens.strip.maskToggled.connect(lambda position: self.toggle(position, wait=False))
        window.traceShown.connect(self._on_trace_shown)

    @property
    def masks(self) -> tuple[int, ...]:
        """The positions masked by a click in the run on screen (0-based)."""
        run = self.window.session.run
        return run.masks if run is not None else ()

    def toggle(self, position: int, *, wait: bool = True) -> bool:
        """Put the mask on token `position` (0-based), or take it off; then show that step."""
        masks = set(self.masks) ^ {int(position)}
        return self.set_masks(masks, step=int(position) + 1, wait=wait)

    def set_masks(self, positions, *, step: int | None = None, wait: bool = True) -> bool:
        """Run the text again with the mask on exactly `positions`; False if it could not run."""
        window = self.window
        step = window.step if step is None else step
        return window.session.set_masks(positions, window.text, wait=wait, step=step)

    def _on_trace_shown(self, trace) -> None:
        session = self.window.session
        own = session.model is not None and session.run is not None and session.run.trace is trace
        self.window.tokens.strip.set_special_tokens(session.model.special_tokens if own else frozenset())


def install(window) -> Masking:
    return Masking(window)
