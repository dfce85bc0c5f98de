"""Find the units that matter: rank a layer's units by what they do where, then find them elsewhere.

    select_units(trace, steps)              units on within `steps` and off elsewhere (LSTMVis's select)
    match_steps(trace, units)               where else those units are on: the fraction on at each step
    match_texts(model, texts, units)        the same over other texts (a task's examples)
    rank_difference(trace_a, trace_b, step) units whose values differ most between two runs at a step
    copy_values(source, units, steps)       an edit that sets units to `source`'s values (seqviz.edits)

Every function reads one array of the trace contract (docs/trace.md), (T, L, D, H): `hidden`, `cell`,
a gate or `candidate` of a recurrent model, or a Transformer's `hidden` (T, L, 1, d_model), at one
`layer` (negative counts from the top) and `direction`. Units and steps are 0-based. numpy only.

Select's score, for unit u with values x_t over the T steps of the trace:

    score_u = (mean of x_t inside the span - mean outside) / (std of x_t over all T steps)

a standardised difference of means (Cohen's d with the whole run's spread): units of different
scales (tanh hidden states in [-1, 1], unbounded cells, gates in [0, 1]) rank on one scale, and a
unit that swings widely everywhere does not beat one that moves only inside the span. The sign is
kept: a unit strongly negative inside and near its usual value outside is "on" too (its weights
could as well have made it positive), so units rank by |score|, and "on" for a negative unit means
below its midpoint. A unit that never changes scores 0. LSTMVis instead counts steps above a
threshold; a threshold needs choosing per array, the standardised difference does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from seqviz.core.edits_values import GATES, ClampGate, SetCell, SetHidden
from seqviz.core.trace import Trace

__all__ = [
    "TextMatch",
    "UnitDifference",
    "UnitScore",
    "copy_values",
    "match_steps",
    "match_texts",
    "rank_difference",
    "searchable_arrays",
    "select_units",
    "unit_values",
]

_GATE_NAMES = {gate for gates in GATES.values() for gate in gates}


@dataclass(frozen=True)
class UnitScore:
    """One unit of a selection: `score` (signed; see the module's docstring), the unit's mean value
    `inside` the selected steps and `outside` them."""

    unit: int
    score: float
    inside: float
    outside: float

    @property
    def sign(self) -> int:
        """+1 when the unit is on by being high inside the span, -1 by being low."""
        return 1 if self.inside >= self.outside else -1

    @property
    def midpoint(self) -> float:
        """The value halfway between its inside and outside means: "on" is past it, towards inside."""
        return (self.inside + self.outside) / 2


@dataclass(frozen=True)
class UnitDifference:
    """One unit of a comparison: `value_a`, `value_b` at the compared steps, `difference` = b - a."""

    unit: int
    difference: float
    value_a: float
    value_b: float


class TextMatch(NamedTuple):
    """Where the units are on in one text: its `tokens` (T,), the `steps` where at least the asked
    fraction of the units are on, and `fraction` (T,), the share of the units on at each step."""

    text: str
    tokens: list[str]
    steps: list[int]
    fraction: np.ndarray


def unit_values(trace: Trace, array: str = "hidden", layer: int = -1, direction: int = 0) -> np.ndarray:
    """The (T, H) values of `array` at `layer` (negative: from the top) and `direction`; ValueError
    naming what is valid when the trace has no such array, layer or direction."""
    have = searchable_arrays(trace)
    if array in trace and array not in have:
        shape = trace[array].shape
        raise ValueError(
            f"{array!r} has shape {shape}, not (steps, layers, directions, units); try {', '.join(have)}"
        )
    if array not in have:
        raise ValueError(f"this trace has no {array!r} array; units can be searched in: {', '.join(have)}")
    values = trace[array]
    _, layers, directions, _ = values.shape
    if not -layers <= layer < layers:
        raise ValueError(f"layer {layer} is out of range: the model has layers 0..{layers - 1}")
    if not 0 <= direction < directions:
        raise ValueError(f"direction {direction} is out of range: this model reads one way (0)")
    return values[:, layer, direction, :]


def searchable_arrays(trace: Trace) -> list[str]:
    """Names of the trace's arrays of units per step, (T, L, D, H): hidden, cell, gates, candidate."""
    steps = trace.num_steps
    return [
        name
        for name, values in trace.items()
        if values.ndim == 4
        and values.shape[0] == steps
        and "attention" not in name
        and not name.startswith("encoder_")
    ]


def _steps(steps: Iterable[int], num_steps: int) -> np.ndarray:
    """Sorted distinct step indices, checked against 0..num_steps-1."""
    out = np.unique(np.asarray(list(steps), dtype=np.int64))
    if out.size == 0:
        raise ValueError("no steps given: select at least one step")
    if out[0] < 0 or out[-1] >= num_steps:
        raise ValueError(f"steps are 0..{num_steps - 1} for this input; got {out.tolist()}")
    return out


def select_units(
    trace: Trace,
    steps: Iterable[int],
    *,
    array: str = "hidden",
    layer: int = -1,
    direction: int = 0,
    top: int | None = 10,
) -> list[UnitScore]:
    """The `top` units (None: all) most "on" within `steps` and "off" at the other steps of `trace`,
    strongest |score| first. ValueError when the steps cover the whole input (nothing to contrast)."""
    values = unit_values(trace, array, layer, direction).astype(np.float64)  # (T, H)
    inside = np.zeros(len(values), dtype=bool)
    inside[_steps(steps, len(values))] = True
    if inside.all():
        raise ValueError("the selection covers every step: leave some steps outside it to compare with")
    mean_in = values[inside].mean(axis=0)  # (H,)
    mean_out = values[~inside].mean(axis=0)  # (H,)
    spread = values.std(axis=0)  # (H,)
    constant = spread <= 1e-12 * np.maximum(1.0, np.abs(values).max(axis=0))
    score = np.where(constant, 0.0, (mean_in - mean_out) / np.where(constant, 1.0, spread))
    order = np.argsort(-np.abs(score), kind="stable")[:top]
    return [UnitScore(int(u), float(score[u]), float(mean_in[u]), float(mean_out[u])) for u in order]


def match_steps(
    trace: Trace,
    units: Sequence[UnitScore | int],
    *,
    array: str = "hidden",
    layer: int = -1,
    direction: int = 0,
    threshold: float | None = None,
) -> np.ndarray:
    """(T,) float: the fraction of `units` that are on at each step of `trace` (1.0: all of them).

    A `UnitScore` (from select_units, on this or another text) is on past its midpoint towards its
    inside mean (`threshold=None`), or where sign * value >= threshold. A plain unit index needs a
    `threshold`: it is on where its value >= threshold.
    """
    if not units:
        raise ValueError("no units given: select some units first")
    values = unit_values(trace, array, layer, direction)  # (T, H)
    on = np.zeros(len(values), dtype=np.float64)
    for unit in units:
        index, sign, cut = _rule(unit, threshold)
        if not 0 <= index < values.shape[1]:
            raise ValueError(f"unit {index} is out of range: {array} has units 0..{values.shape[1] - 1}")
        on += sign * values[:, index] >= cut
    return (on / len(units)).astype(np.float32)


def _rule(unit: UnitScore | int, threshold: float | None) -> tuple[int, int, float]:
    """(unit index, sign, cut): the unit is on where sign * value >= cut (see match_steps)."""
    if isinstance(unit, UnitScore):
        return unit.unit, unit.sign, unit.sign * unit.midpoint if threshold is None else threshold
    if threshold is None:
        raise ValueError(f"unit {unit} has no reference values: give a threshold, or units from select_units")
    return int(unit), 1, threshold


def match_texts(
    model: Any,
    texts: Iterable[str],
    units: Sequence[UnitScore | int],
    *,
    min_fraction: float = 1.0,
    array: str = "hidden",
    layer: int = -1,
    direction: int = 0,
    threshold: float | None = None,
) -> list[TextMatch]:
    """Trace each text with `model` (anything seqviz.trace takes) and find where `units` are on:
    one TextMatch per text, in order; `steps` where at least `min_fraction` of the units are on."""
    from seqviz.core.adapters import open_model  # imports torch: only when a model runs

    opened = open_model(model)
    matches = []
    for text in texts:
        trace = opened.trace(text)
        fraction = match_steps(
            trace, units, array=array, layer=layer, direction=direction, threshold=threshold
        )
        steps = np.flatnonzero(fraction >= min_fraction - 1e-9).tolist()
        matches.append(TextMatch(text, list(trace.tokens), steps, fraction))
    return matches


def rank_difference(
    trace_a: Trace,
    trace_b: Trace,
    step_a: int,
    step_b: int | None = None,
    *,
    array: str = "hidden",
    layer: int = -1,
    direction: int = 0,
    top: int | None = 10,
) -> list[UnitDifference]:
    """The `top` units (None: all) whose `array` values differ most, |b - a|, between `trace_a` at
    `step_a` and `trace_b` at `step_b` (default: the same step). Raw values, not standardised:
    both runs come from one model, so a difference reads in the array's own units."""
    a = unit_values(trace_a, array, layer, direction)
    b = unit_values(trace_b, array, layer, direction)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the runs have {a.shape[1]} and {b.shape[1]} units: compare runs of one model")
    step_b = step_a if step_b is None else step_b
    for name, step, length in (("step_a", step_a, len(a)), ("step_b", step_b, len(b))):
        if not 0 <= step < length:
            raise ValueError(f"{name} {step} is out of range: that run has steps 0..{length - 1}")
    va, vb = a[step_a].astype(np.float64), b[step_b].astype(np.float64)
    order = np.argsort(-np.abs(vb - va), kind="stable")[:top]
    return [UnitDifference(int(u), float(vb[u] - va[u]), float(va[u]), float(vb[u])) for u in order]


def copy_values(
    source: Trace,
    units: Iterable[int],
    steps: Iterable[int],
    *,
    array: str = "hidden",
    layer: int = -1,
    direction: int = 0,
) -> list[ClampGate | SetHidden | SetCell]:
    """One edit (seqviz.edits) that sets `units` of `array` to `source`'s values at `steps`, its value
    the (len(steps), len(units)) array of them: trace another run of the same model with it to carry
    `source`'s units into it (e.g. the units that differ most at "spain", copied into the run on
    "france"). `array` is `hidden`, `cell` or a gate of a recurrent model. A list, as other edits are
    passed (the edit's steps and units come sorted, duplicates merged)."""
    values = unit_values(source, array, layer, direction)  # (T, H)
    layer = layer % source[array].shape[1]  # edits take a non-negative layer
    chosen = sorted({int(u) for u in units})
    if not chosen:
        raise ValueError("no units given: choose the units to copy")
    bad = [u for u in chosen if not 0 <= u < values.shape[1]]
    if bad:
        raise ValueError(f"unit {bad[0]} is out of range: {array} has units 0..{values.shape[1] - 1}")
    at = _steps(steps, len(values))
    grid = values[np.ix_(at, chosen)]  # (len(steps), len(units)), float32 as traced
    return [_edit(array, layer, chosen, at.tolist(), grid, direction)]


def _edit(array: str, layer: int, units: list[int], steps: list[int], values: np.ndarray, direction: int):
    """The value edit that sets `array` of `units` at `steps` to `values` (len(steps), len(units))."""
    if array == "hidden":
        return SetHidden(layer, units, steps, values, direction)
    if array == "cell":
        return SetCell(layer, units, steps, values, direction)
    if array in _GATE_NAMES:
        return ClampGate(array, layer, units, steps, values, direction)
    raise ValueError(f"{array!r} cannot be set; edits set hidden, cell and the gates")
