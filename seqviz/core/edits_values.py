"""Value edits: set what a recurrent model computes at chosen steps, and let it carry on from there.

    ClampGate(gate, layer, units, steps, value, direction=0)   a gate (LSTM i, f, o, g; GRU z, r, n)
    SetHidden(layer, units, steps, value, direction=0)         h_t, the layer's output
    SetCell(layer, units, steps, value, direction=0)           c_t, an LSTM's cell state

Indices are 0-based, as in the trace's arrays (T, L, D, H): `layer`, `direction` (1 = backward),
`units` (H) and `steps` (T). `value` is one number for every unit and step, or an array (numpy, torch,
nested lists): one value per unit (len(units),), the same at every step, or one per step and unit
(len(steps), len(units)) — "B's values from here on" in one edit. The rows and columns follow `steps`
and `units` as given; both are stored sorted (the values reordered with them), and an array refuses
duplicate indices (which of two values would win?). Stored as a float (also for one row of equal
values), or a tuple of rows (one row for per-unit values), so an edit stays hashable and equal edits
compare equal; `value_array()` gives the (len(steps), len(units)) grid.

The edited value is what the model carries forward, exactly as if it had computed it: a clamped forget
gate changes c_t, hence h_t, hence the next layer's input at that step and the layer's own recurrence
at every later step (for the backward direction, "later" is earlier in the text). The trace shows the
edited values. seqviz.core.recurrent_edits does the computation.

The dataclasses only hold and check their own fields; `check_value_edits` checks them against a model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

GATES = {
    "lstm": ("input_gate", "forget_gate", "output_gate", "candidate"),
    "gru": ("update_gate", "reset_gate", "candidate"),
}
_ALL_GATES = ("input_gate", "forget_gate", "output_gate", "update_gate", "reset_gate", "candidate")


def _indices(values: Any, what: str) -> tuple[int, ...]:
    """Any iterable (or one int) of non-negative ints -> sorted distinct tuple; ValueError otherwise."""
    items = values if isinstance(values, Iterable) else [values]  # numpy arrays and tensors included
    try:
        out = sorted({_index(v, what) for v in items})
    except TypeError:
        raise TypeError(f"{what} must be an int or an iterable of ints, not {values!r}") from None
    if not out:
        raise ValueError(f"{what} is empty: give at least one index")
    return tuple(out)


def _index(value: Any, what: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{what} must be ints, got {value!r}")
    index = int(value.__index__())
    if index < 0:
        raise ValueError(f"{what}: indices are 0-based (non-negative), got {index}")
    return index


def spans(indices: Sequence[int], limit: int = 6) -> str:
    """(3, 5) -> "3,5"; (4, 5) -> "4,5"; (4..9) -> "4–9"; long lists end with "…" and a count."""
    runs: list[list[int]] = []  # [first, last] of each run of consecutive indices
    for i in indices:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    parts = [str(a) if a == b else f"{a},{b}" if b == a + 1 else f"{a}\u2013{b}" for a, b in runs]
    text = ",".join(parts[:limit])
    return text if len(parts) <= limit else f"{text},\u2026 ({len(indices)} in all)"


class _ValueEdit:
    """Shared checks and description of the three value edits (frozen dataclasses below)."""

    target: str  # the array the edit writes: a gate name, "hidden" or "cell"
    layer: int
    units: tuple[int, ...]
    steps: tuple[int, ...]
    value: float | tuple[tuple[float, ...], ...]  # a number, or rows of values (see the module)
    direction: int

    def _normalise(self) -> None:
        set_ = object.__setattr__  # frozen: the constructor's own normalisation
        set_(self, "layer", _index(self.layer, "layer"))
        if self.direction not in (0, 1) or isinstance(self.direction, bool):
            raise ValueError(f"direction is 0 (forward) or 1 (backward), not {self.direction!r}")
        grid = _value_grid(self.value)
        if grid is None:  # one number: any indices, duplicates merged
            set_(self, "units", _indices(self.units, "units"))
            set_(self, "steps", _indices(self.steps, "steps"))
            set_(self, "value", _number(self.value))
        else:
            self._normalise_array(grid)

    def _normalise_array(self, grid: np.ndarray) -> None:
        """Sorted units and steps, the values' rows and columns sorted with them; one row stands for
        every step. ValueError for a shape that fits neither (len(units),) nor (len(steps), len(units))."""
        given_units, given_steps = _as_list(self.units), _as_list(self.steps)
        rows = grid.reshape(-1, grid.shape[-1])  # (len(units),) is one row: the same at every step
        units, unit_order = _ordered_indices(given_units, "units")
        if len(rows) == 1:
            steps, step_order = _indices(given_steps, "steps"), np.zeros(1, dtype=np.intp)
        else:
            steps, step_order = _ordered_indices(given_steps, "steps")
        if rows.shape != (len(step_order), len(units)):
            raise ValueError(_shape_message(grid.shape, len(given_steps), len(units)))
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "steps", steps)
        if len(rows) == 1 and (rows == rows[0, 0]).all():  # one number after all: stored as one
            object.__setattr__(self, "value", float(rows[0, 0]))
            return
        object.__setattr__(self, "value", tuple(map(tuple, rows[np.ix_(step_order, unit_order)].tolist())))

    @property
    def per_step(self) -> bool:
        """True when the values differ by step (a (len(steps), len(units)) array of several rows)."""
        return not isinstance(self.value, float) and len(self.value) > 1

    def value_array(self) -> np.ndarray:
        """The set values, (len(steps), len(units)) float64: row i for steps[i], column j for units[j]."""
        shape = (len(self.steps), len(self.units))
        if isinstance(self.value, float):
            return np.full(shape, self.value)
        return np.array(np.broadcast_to(np.array(self.value, dtype=np.float64), shape))

    def describe(self) -> str:
        """One short line, e.g. "forget gate of layer 1, units 3,5 = 1 at steps 4–9"."""
        what = self.target.replace("_", " ")
        way = " (backward)" if self.direction else ""
        units = f"unit{'s' if len(self.units) > 1 else ''} {spans(self.units)}"
        steps = f"step{'s' if len(self.steps) > 1 else ''} {spans(self.steps)}"
        return f"{what} of layer {self.layer}{way}, {units} = {value_text(self)} at {steps}"


def value_text(edit: _ValueEdit) -> str:
    """The value as a description shows it: "0.5" (one number), "10 values" (one per unit, the same
    at every step), "15×10 values" (steps × units)."""
    if isinstance(edit.value, float):
        return f"{edit.value:g}"
    rows, columns = len(edit.value), len(edit.value[0])
    return f"{columns} values" if rows == 1 else f"{rows}\u00d7{columns} values"


def _value_grid(value: Any) -> np.ndarray | None:
    """None for one number; else the values as a float64 array of 1 or 2 dimensions, all finite."""
    if isinstance(value, str | bytes):
        raise TypeError(f"value must be a number or an array of numbers, not {value!r}")
    try:
        grid = np.array(value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"value must be a number or an array of numbers, not {value!r}") from None
    if grid.ndim == 0:
        return None
    if grid.ndim > 2 or grid.size == 0:
        raise ValueError(
            f"value must be a number, one value per unit or a (steps, units) array, not shape {grid.shape}"
        )
    if not np.isfinite(grid).all():
        raise ValueError("value must hold finite numbers only (no nan or inf)")
    return grid


def _number(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"value must be a finite number, not {value!r}")
    return number


def _ordered_indices(values: list, what: str) -> tuple[tuple[int, ...], np.ndarray]:
    """(sorted indices, the order that sorts the given ones) for indices that each carry values:
    ValueError for a repeated index (two values for one unit or step)."""
    given = [_index(v, what) for v in values]
    if not given:
        raise ValueError(f"{what} is empty: give at least one index")
    if len(set(given)) != len(given):
        repeated = next(i for i in given if given.count(i) > 1)
        raise ValueError(f"{what}: {repeated} is given twice; with an array of values give each index once")
    order = np.argsort(given, kind="stable")
    return tuple(given[i] for i in order), order


def _as_list(values: Any) -> list:
    return list(values) if isinstance(values, Iterable) else [values]


def _shape_message(shape: tuple, steps: int, units: int) -> str:
    return (
        f"value has shape {shape}; with {units} unit{'s' * (units != 1)} and "
        f"{steps} step{'s' * (steps != 1)} it is one number, ({units},) (one per unit) "
        f"or ({steps}, {units}) (one per step and unit)"
    )


@dataclass(frozen=True)
class ClampGate(_ValueEdit):
    """Set `gate` (LSTM: input_gate, forget_gate, output_gate, candidate; GRU: update_gate,
    reset_gate, candidate) of `units` in `layer` to `value` at `steps`."""

    gate: str
    layer: int
    units: Iterable[int]
    steps: Iterable[int]
    value: Any  # a number, (len(units),) or (len(steps), len(units)) values
    direction: int = 0

    def __post_init__(self) -> None:
        if self.gate not in _ALL_GATES:
            raise ValueError(
                f"unknown gate {self.gate!r}; LSTM gates: {', '.join(GATES['lstm'])}; "
                f"GRU gates: {', '.join(GATES['gru'])}"
            )
        self._normalise()

    @property
    def target(self) -> str:
        return self.gate


@dataclass(frozen=True)
class _StateEdit(_ValueEdit):
    """The fields of SetHidden and SetCell, the edits of a recurrent layer's state: ClampGate's but `gate`."""

    layer: int
    units: Iterable[int]
    steps: Iterable[int]
    value: Any  # a number, (len(units),) or (len(steps), len(units)) values
    direction: int = 0

    def __post_init__(self) -> None:
        self._normalise()


@dataclass(frozen=True)
class SetHidden(_StateEdit):
    """Set the hidden state h_t (the layer's output) of `units` in `layer` to `value` at `steps`."""

    target = "hidden"


@dataclass(frozen=True)
class SetCell(_StateEdit):
    """Set an LSTM's cell state c_t of `units` in `layer` to `value` at `steps` (h_t = o_t tanh(c_t)
    then reads the set value)."""

    target = "cell"


VALUE_EDITS = (ClampGate, SetHidden, SetCell)


def is_value_edit(edit: Any) -> bool:
    return isinstance(edit, VALUE_EDITS)


def refuse_value_edits(edits: Sequence[Any], what: str, instead: str = "") -> None:
    """ValueError if `edits` has value edits: `what` (e.g. "longrange-transformer, a Transformer")
    cannot take them; `instead` says what can edit it."""
    for edit in edits:
        if is_value_edit(edit):
            raise ValueError(
                f"{type(edit).__name__} sets the states of recurrent models (nn.RNN/GRU/LSTM and seqviz's "
                f"rnn, gru and lstm models); {what} has no such states{'; ' + instead if instead else ''}"
            )


def check_value_edits(
    edits: Sequence[Any], arch: str, shape: dict[str, int], steps_are: str = "the input has steps"
) -> None:
    """ValueError naming what is valid, for any edit that does not fit the model and input.

    arch: "rnn", "gru" or "lstm"; shape: num_layers, num_directions, hidden_size, out_size (h's width:
    proj_size for a projected LSTM), steps (T); steps_are: how the message names the valid steps.
    """
    for edit in edits:
        name = type(edit).__name__
        _check_kind(edit, arch)
        check_range(name, "layer", [edit.layer], shape["num_layers"], "the model has layers")
        if edit.direction >= shape["num_directions"]:
            raise ValueError(f"{name}: direction 1 (backward) is out of range; this model reads one way (0)")
        width = shape["out_size"] if isinstance(edit, SetHidden) else shape["hidden_size"]
        check_range(name, "unit", edit.units, width, f"{edit.target.replace('_', ' ')} has units")
        check_range(name, "step", edit.steps, shape["steps"], steps_are)


def _check_kind(edit: Any, arch: str) -> None:
    """Does the model have the state the edit sets?"""
    if isinstance(edit, ClampGate) and arch not in GATES:
        raise ValueError(
            "ClampGate: a plain RNN has no gates (LSTMs and GRUs do); "
            "SetHidden(layer, units, steps, value) sets an RNN's hidden units"
        )
    if isinstance(edit, ClampGate) and edit.gate not in GATES[arch]:
        raise ValueError(f"ClampGate: {_a(arch)} has no {edit.gate}; its gates: {', '.join(GATES[arch])}")
    if isinstance(edit, SetCell) and arch != "lstm":
        raise ValueError(f"SetCell: {_a(arch)} has no cell state (LSTMs do); use SetHidden")


def _a(arch: str) -> str:
    return {"lstm": "an LSTM", "gru": "a GRU", "rnn": "an RNN"}.get(arch, f"a {arch}")


def check_range(name: str, what: str, values: Sequence[int], size: int, has: str) -> None:
    """ValueError "<name>: <what> 7 is out of range; <has> 0–4" for the first value >= size."""
    bad = [v for v in values if v >= size]
    if bad:
        valid = "0" if size == 1 else f"0\u2013{size - 1}"
        raise ValueError(f"{name}: {what} {bad[0]} is out of range; {has} {valid}")
