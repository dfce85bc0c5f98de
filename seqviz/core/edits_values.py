"""Value edits: set what a recurrent model computes at chosen steps, and let it carry on from there.

    ClampGate(gate, layer, units, steps, value, direction=0)   a gate (LSTM i, f, o, g; GRU z, r, n)
    SetHidden(layer, units, steps, value, direction=0)         h_t, the layer's output
    SetCell(layer, units, steps, value, direction=0)           c_t, an LSTM's cell state

Indices are 0-based, as in the trace's arrays (T, L, D, H): `layer`, `direction` (1 = backward),
`units` (H) and `steps` (T). The edited value is what the model carries forward, exactly as if it had
computed it: a clamped forget gate changes c_t, hence h_t, hence the next layer's input at that step
and the layer's own recurrence at every later step (for the backward direction, "later" is earlier in
the text). The trace shows the edited values. seqviz.core.recurrent_edits does the computation.

The dataclasses only hold and check their own fields; `check_value_edits` checks them against a model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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
    value: float
    direction: int

    def _normalise(self) -> None:
        set_ = object.__setattr__  # frozen: the constructor's own normalisation
        set_(self, "layer", _index(self.layer, "layer"))
        set_(self, "units", _indices(self.units, "units"))
        set_(self, "steps", _indices(self.steps, "steps"))
        if self.direction not in (0, 1) or isinstance(self.direction, bool):
            raise ValueError(f"direction is 0 (forward) or 1 (backward), not {self.direction!r}")
        value = float(self.value)
        if not math.isfinite(value):
            raise ValueError(f"value must be a finite number, not {self.value!r}")
        set_(self, "value", value)

    def describe(self) -> str:
        """One short line, e.g. "forget gate of layer 1, units 3,5 = 1 at steps 4–9"."""
        what = self.target.replace("_", " ")
        way = " (backward)" if self.direction else ""
        units = f"unit{'s' if len(self.units) > 1 else ''} {spans(self.units)}"
        steps = f"step{'s' if len(self.steps) > 1 else ''} {spans(self.steps)}"
        return f"{what} of layer {self.layer}{way}, {units} = {self.value:g} at {steps}"


@dataclass(frozen=True)
class ClampGate(_ValueEdit):
    """Set `gate` (LSTM: input_gate, forget_gate, output_gate, candidate; GRU: update_gate,
    reset_gate, candidate) of `units` in `layer` to `value` at `steps`."""

    gate: str
    layer: int
    units: Iterable[int]
    steps: Iterable[int]
    value: float
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
class SetHidden(_ValueEdit):
    """Set the hidden state h_t (the layer's output) of `units` in `layer` to `value` at `steps`."""

    layer: int
    units: Iterable[int]
    steps: Iterable[int]
    value: float
    direction: int = 0
    target = "hidden"

    def __post_init__(self) -> None:
        self._normalise()


@dataclass(frozen=True)
class SetCell(_ValueEdit):
    """Set an LSTM's cell state c_t of `units` in `layer` to `value` at `steps` (h_t = o_t tanh(c_t)
    then reads the set value)."""

    layer: int
    units: Iterable[int]
    steps: Iterable[int]
    value: float
    direction: int = 0
    target = "cell"

    def __post_init__(self) -> None:
        self._normalise()


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
