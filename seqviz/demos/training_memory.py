"""Will a model fit in memory for training? An estimate made before anything is allocated.

Training holds, in float32: the weights, their gradients, Adam's two moments and the last good copy
(TrainingRun keeps one to restore after a NaN) — 5 x the parameters; the snapshots (one copy of the
weights each); and the activations of one batch, kept for the backward pass and matched by their
gradients (2 x): per recurrent layer B x T x hidden x (gates + 3), per Transformer layer
B x T x d_model x 16 (queries, keys, values, the feed-forward's 4 d_model, norms) plus the attention
B x heads x T^2 x 3, and the logits B x T x outputs x 3 (logits, log-softmax, their gradient).
It is a rough upper bound, good to a factor of two: enough to refuse a model of gigabytes up front
instead of freezing the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from seqviz.core.file_limits import MEMORY_SHARE, format_bytes, memory_available
from seqviz.demos.training_settings import TrainingInputError

FLOAT = 4  # bytes
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


@dataclass(frozen=True)
class Shape:
    """What the estimate needs to know of one model and its batches."""

    arch: str  # "rnn", "gru", "lstm" or "transformer"
    hidden: int  # hidden size or d_model
    layers: int
    heads: int
    directions: int  # 2 for a bidirectional recurrent model
    outputs: int  # the head's size (vocabulary, classes or tags)
    batch: int
    length: int  # T: the longest sequence of a batch
    snapshots: int  # copies of the weights kept during training


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes training would hold (see the module's docstring)."""

    optimiser: int  # weights, gradients, Adam's moments, the last good copy
    snapshots: int
    activations: int

    @property
    def total(self) -> int:
        return self.optimiser + self.snapshots + self.activations

    def breakdown(self, snapshot_count: int) -> str:
        return (
            f"weights, gradients and Adam's state {format_bytes(self.optimiser)}; {snapshot_count:,} "
            f"snapshots {format_bytes(self.snapshots)}; "
            f"one batch's activations {format_bytes(self.activations)}"
        )


def parameter_count(build: Callable[[], torch.nn.Module]) -> int:
    """The parameters of the model `build` makes, built on the "meta" device (shapes, no memory) and
    without moving the caller's random numbers."""
    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        return sum(p.numel() for p in build().parameters())


def estimate(parameters: int, s: Shape) -> MemoryEstimate:
    """The bytes of training a model of `parameters` parameters on batches of shape `s`."""
    b, t = s.batch, s.length
    if s.arch == "transformer":
        per_layer = b * t * s.hidden * 16 + b * s.heads * t * t * 3
    else:
        per_layer = b * t * s.hidden * s.directions * (GATES[s.arch] + 3)
    activations = 2 * (per_layer * s.layers + b * t * s.outputs * 3)
    return MemoryEstimate(5 * parameters * FLOAT, s.snapshots * parameters * FLOAT, activations * FLOAT)


def check_fits(
    label: str, s: Shape, count_parameters: Callable[[int], int], available: int | None = None
) -> MemoryEstimate:
    """The estimate for `s`, or TrainingInputError when it exceeds MEMORY_SHARE of the memory available
    (`available` bytes; default: what the machine has available now). `count_parameters(hidden)` gives
    the model's parameters at another width, to suggest one that fits."""
    found = estimate(count_parameters(s.hidden), s)
    available = memory_available() if available is None else available
    if available is None or found.total <= MEMORY_SHARE * available:
        return found
    width = "d_model" if s.arch == "transformer" else "hidden"
    hint = _suggestion(s, width, count_parameters, MEMORY_SHARE * available)
    raise TrainingInputError(
        f"the {label} ({width} {s.hidden}, {s.layers} layer{'s' * (s.layers > 1)}) would need about "
        f"{format_bytes(found.total)} to train ({found.breakdown(s.snapshots)}), more than this machine "
        f"has available ({format_bytes(available)}); {hint}"
    )


def _suggestion(s: Shape, width: str, count_parameters: Callable[[int], int], budget: float) -> str:
    """What to do: the widest power of two below `hidden` (times a Transformer's heads) that fits;
    fewer snapshots or a smaller batch when those are a third of it or more."""
    parts = []
    unit = s.heads if s.arch == "transformer" else 1  # a Transformer's width: a multiple of its heads
    widths = [unit * 2**k for k in range(s.hidden.bit_length(), -1, -1) if unit * 2**k < s.hidden]
    fits = [w for w in widths if estimate(count_parameters(w), replace(s, hidden=w)).total <= budget]
    if fits:
        parts.append(f"use {width} {fits[0]} or fewer layers")
    found = estimate(count_parameters(s.hidden), s)
    if found.snapshots > found.total / 3:
        parts.append("keep a snapshot less often")
    if found.activations > found.total / 3:
        parts.append("use a smaller batch")
    return ", or ".join(parts or ["use a smaller model"])
