"""The output of every step at once, without Qt: a tagger's tag under each token, a classifier's class
probabilities over the steps.

Many-to-many (`tag`): row t of `probs` is the tag of token t; `meta.targets` holds the true tags where
the task knows them (-1 elsewhere). Many-to-one (`classify`): row t is the opinion after t + 1 tokens and
the model's output is the last row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqviz.app.panels.traceinfo import output_labels
from seqviz.core.token_display import display_token
from seqviz.core.trace import Trace


@dataclass(frozen=True)
class TagColumn:
    """One token of a tagger's input: what the model tags it and, where known, the true tag."""

    token: str  # as displayed
    predicted: str
    probability: float
    true: str | None

    @property
    def wrong(self) -> bool:
        return self.true is not None and self.true != self.predicted


def tag_columns(trace: Trace) -> list[TagColumn]:
    """Every token with its predicted tag (the most probable of its row) and its true tag."""
    probs = trace["probs"]  # (T, K)
    labels = output_labels(trace, probs.shape[1])
    best = probs.argmax(axis=1)
    targets = trace.meta.targets
    columns = []
    for t, token in enumerate(trace.tokens):
        index = targets[t] if t < len(targets) else -1
        true = labels[index] if 0 <= index < len(labels) else None
        columns.append(TagColumn(display_token(token), labels[best[t]], float(probs[t, best[t]]), true))
    return columns


@dataclass(frozen=True)
class ClassSeries:
    """A classifier's class probabilities over the steps: `probs` (T, K) with `labels` (K,); the model's
    output is `output` (its class index) at the last step; `target` the true class, if known."""

    probs: np.ndarray
    labels: list[str]
    output: int
    target: int | None

    @property
    def output_label(self) -> str:
        return self.labels[self.output]

    @property
    def output_prob(self) -> float:
        return float(self.probs[-1, self.output])


def class_series(trace: Trace) -> ClassSeries:
    probs = trace["probs"]  # (T, K)
    labels = output_labels(trace, probs.shape[1])
    target = trace.meta.target
    known = target if target is not None and 0 <= target < len(labels) else None
    return ClassSeries(probs, labels, int(np.argmax(probs[-1])), known)
