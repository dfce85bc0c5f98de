"""The recurrent cell equations one step at a time, with value edits applied where each value is
computed; and weights under which torch's fused kernel computes clamped gates and set hidden states
itself.

Equations (torch's docs), one layer and direction at step t; x_t its input, h, c the previous state:
    RNN   h_t = act(W_ih x_t + b_ih + W_hh h + b_hh)
    GRU   r, z = σ(W_i· x_t + b_i· + W_h· h + b_h·), n = tanh(W_in x_t + b_in + r * (W_hn h + b_hn)),
          h_t = (1 - z) * n + z * h
    LSTM  i, f, o = σ(...), g = tanh(...), c_t = f * c + i * g, h_t = o * tanh(c_t)  (W_hr h_t if projected)
Gate rows in the weights: GRU (r, z, n), LSTM (i, f, g, o). The step functions are plain torch
operations, out of place, so the same code serves the trace (no autograd) and gradients=True (autograd,
the edited values constants).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from seqviz.core.recurrent import _input_product

GATE_ROWS = {  # the gates' blocks of rows in torch's weights
    "LSTM": ("input_gate", "forget_gate", "candidate", "output_gate"),
    "GRU": ("reset_gate", "update_gate", "candidate"),
}
# σ(±200) and tanh(±200) round to exactly 1 / 0 and ±1 in float32, and to within 1e-86 in float64.
_SATURATED = 200.0

Weights = dict[str, "torch.Tensor | None"]


@dataclass(frozen=True)
class Override:
    """One edit at one step: `target` (a gate, "hidden" or "cell") of `units` (n,) := `values` (n,)."""

    target: str
    units: torch.Tensor
    values: torch.Tensor
    value: float


StepEdits = dict[int, list[Override]]  # time step -> its overrides, in the order the edits were given


def plan_edits(edits: Sequence[Any], dtype: torch.dtype) -> dict[tuple[int, int], StepEdits]:
    """(layer, direction) -> step -> overrides. A later edit of the same value wins (applied after)."""
    plan: dict[tuple[int, int], StepEdits] = {}
    for edit in edits:
        units = torch.tensor(edit.units, dtype=torch.long)
        values = torch.full((len(units),), edit.value, dtype=dtype)
        override = Override(edit.target, units, values, edit.value)
        at = plan.setdefault((edit.layer, edit.direction), {})
        for t in edit.steps:
            at.setdefault(t, []).append(override)
    return plan


def fixer(overrides: list[Override] | None) -> Callable[[str, torch.Tensor], torch.Tensor]:
    """fix(target, computed (..., H)) -> the value the model carries on with: the overrides of that
    target written into the last dimension, out of place (autograd-safe; the set entries constants)."""
    if not overrides:
        return lambda target, value: value

    def fix(target: str, value: torch.Tensor) -> torch.Tensor:
        for o in overrides:
            if o.target == target:
                values = o.values.to(value.dtype).expand(*value.shape[:-1], len(o.units))
                value = value.index_copy(-1, o.units, values)
        return value

    return fix


def _recurrent_product(w: Weights, h: torch.Tensor) -> torch.Tensor:
    """W_hh h + b_hh (G*H,)."""
    return (
        torch.mv(w["weight_hh"], h) if w["bias_hh"] is None else torch.addmv(w["bias_hh"], w["weight_hh"], h)
    )


def cell_step(mode: str, xp: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w: Weights, fix) -> tuple:
    """xp = W_ih x_t + b_ih (G*H,), h (H_out,), c (H,) -> h_t, c_t, {array name: value (H,)}."""
    hp = _recurrent_product(w, h)  # (G*H,)
    if mode == "LSTM":
        i, f, g, o = (xp + hp).chunk(4)
        i, f = fix("input_gate", i.sigmoid()), fix("forget_gate", f.sigmoid())
        g, o = fix("candidate", g.tanh()), fix("output_gate", o.sigmoid())
        c = fix("cell", f * c + i * g)
        h = o * c.tanh()
        if w.get("weight_hr") is not None:
            h = torch.mv(w["weight_hr"], h)
        values = {"input_gate": i, "forget_gate": f, "candidate": g, "output_gate": o, "cell": c}
        return fix("hidden", h), c, values
    if mode == "GRU":
        size = h.shape[0]
        r = fix("reset_gate", (xp[:size] + hp[:size]).sigmoid())
        z = fix("update_gate", (xp[size : 2 * size] + hp[size : 2 * size]).sigmoid())
        n = fix("candidate", (xp[2 * size :] + r * hp[2 * size :]).tanh())
        values = {"reset_gate": r, "update_gate": z, "candidate": n}
        return fix("hidden", (1 - z) * n + z * h), c, values
    act = torch.relu if mode == "RNN_RELU" else torch.tanh
    return fix("hidden", act(xp + hp)), c, {}


def step_span(mode: str, x: torch.Tensor, w: Weights, h, c, reverse: bool, at: StepEdits, start: int):
    """Steps start .. start+n-1 of x (n, in), one at a time in reading order.

    -> hidden (n, H_out), {array name: (n, H)} in time order, and the state after the last step read.
    """
    xp = _input_product(x, w["weight_ih"], w["bias_ih"])  # (n, G*H), one product for the span
    hs, values = [], {}
    order = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for k in order:
        h, c, step_values = cell_step(mode, xp[k], h, c, w, fixer(at.get(start + k)))
        hs.append(h)
        for name, value in step_values.items():
            values.setdefault(name, []).append(value)
    ordered = (lambda rows: torch.stack(rows[::-1])) if reverse else torch.stack
    return ordered(hs), {name: ordered(rows) for name, rows in values.items()}, h, c


# Edits the fused kernel can compute itself -----------------------------------------------------------
def kernel_can_apply(mode: str, overrides: Sequence[Override]) -> bool:
    """Can the fused kernel, with `kernel_weights`, run steps that all have these overrides: hidden
    states, gate clamps to a value the activation takes (σ: [0, 1], tanh: [-1, 1]) and LSTM cells
    in [-1, 1] (made by the gates as 0 * c + 1 * v)?"""
    gates = GATE_ROWS.get(mode, ())
    low = {name: 0.0 for name in gates} | {"candidate": -1.0, "cell": -1.0}
    if mode == "LSTM":
        gates += ("cell",)
    return all(
        o.target == "hidden" or (o.target in gates and low[o.target] <= o.value <= 1.0) for o in overrides
    )


def kernel_weights(w: Weights, mode: str, overrides: Sequence[Override]) -> Weights:
    """Copies of one direction's weights for a run of steps that all have these overrides.

    A clamped gate unit: its rows of W_ih, W_hh and b_hh zero, its b_ih the activation's inverse at
    the value, so the kernel computes the value itself (GRU n: r * (W_hn h + b_hn) is then 0 too).
    A set hidden unit u = v: the previous step's h_u is v throughout the run (except at its first step,
    which the caller runs apart), so W_hh[:, u] v moves into b_hh and W_hh[:, u] becomes 0 (the
    kernel's own h_u is then read by nothing but itself; the caller overwrites it with v).
    A set LSTM cell u = v: f_u = 0, i_u = 1, g_u = v, so c_u = v whatever came before; applied after
    the gates (the model sets c after computing them). The caller then shows the gates the model
    computes, not these. Biases are made if the module has none."""
    gates = GATE_ROWS.get(mode, ("hidden",))
    size = w["weight_hh"].shape[0] // len(gates)
    new = dict(w)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        value = w[name]
        new[name] = w["weight_hh"].new_zeros(len(gates) * size) if value is None else value.detach().clone()
    cells = [o for o in overrides if o.target == "cell"]
    for o in [o for o in overrides if o.target != "cell"]:  # in order: a later edit of a unit wins
        if o.target == "hidden":
            new["bias_hh"] += new["weight_hh"][:, o.units] @ o.values
            new["weight_hh"][:, o.units] = 0.0
        else:
            _constant_rows(new, gates.index(o.target) * size + o.units, _inverse(o.target, o.value))
    for o in cells:
        for gate, value in (("input_gate", 1.0), ("forget_gate", 0.0), ("candidate", o.value)):
            _constant_rows(new, gates.index(gate) * size + o.units, _inverse(gate, value))
    return new


def _constant_rows(w: Weights, rows: torch.Tensor, bias: float) -> None:
    """Rows `rows` of the pre-activation become the constant `bias`."""
    for name in ("weight_ih", "weight_hh", "bias_hh"):
        w[name][rows] = 0.0
    w["bias_ih"][rows] = bias


def _inverse(gate: str, value: float) -> float:
    """x with activation(x) = value: atanh for the candidate (tanh), logit for the σ gates."""
    if gate == "candidate":
        return math.copysign(_SATURATED, value) if abs(value) >= 1.0 else math.atanh(value)
    if value <= 0.0 or value >= 1.0:
        return _SATURATED if value >= 1.0 else -_SATURATED
    return math.log(value / (1.0 - value))
