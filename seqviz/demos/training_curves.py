"""Curves: a training run's loss, gradient norm and held-out accuracy, as parallel lists.

One class for every place that keeps them: TrainingRun appends to it as it trains, the trained file
stores it (by step), and the app's Training dock draws its own copy, appended from the StepRecords the
worker hands over. No torch here: the dock imports it before torch is loaded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Curves:
    """Parallel lists, appended as training goes: per step, and per evaluation. A curve read from a
    file (seqviz.demos.trained_file) has no times: `seconds` and `eval_seconds` are empty there."""

    step: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_seconds: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)

    def add_step(self, step: int, seconds: float, loss: float, grad_norm: float) -> None:
        self.step.append(step)
        self.seconds.append(seconds)
        self.loss.append(loss)
        self.grad_norm.append(grad_norm)

    def add_evaluation(self, step: int, seconds: float, accuracy: float) -> None:
        self.eval_step.append(step)
        self.eval_seconds.append(seconds)
        self.accuracy.append(accuracy)

    def add(self, record: Any) -> None:
        """A StepRecord: its loss and gradient norm, and its held-out accuracy if it was measured."""
        self.add_step(record.step, record.seconds, record.loss, record.grad_norm)
        if record.accuracy is not None:
            self.add_evaluation(record.step, record.seconds, record.accuracy)

    @classmethod
    def copy_of(cls, curves: Any) -> Curves:
        """New lists with the values of `curves` (any object with these fields: a run's, a file's)."""
        return cls(*(list(getattr(curves, f.name)) for f in fields(cls)))

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Curves:
        """The curves of `to_json`; ValueError for anything else (lists of numbers, missing ones empty)."""
        if not isinstance(d, dict):
            raise ValueError("the training curves are not a JSON object")
        out = {}
        for f in fields(cls):
            values = d.get(f.name, [])
            if not isinstance(values, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
            ):
                raise ValueError(f"the training curve {f.name!r} is not a list of numbers")
            out[f.name] = [int(v) for v in values] if f.name.endswith("step") else [float(v) for v in values]
        return cls(**out)
