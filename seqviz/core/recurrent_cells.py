"""The recurrent cell equations one step at a time, with value edits applied where each value is
computed (the plan of which edit sets what at each step is here too; seqviz.core.kernel_edits makes
torch's fused kernel compute set values itself over runs of steps).

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from seqviz.core.recurrent import _input_product

GATE_ROWS = {  # the gates' blocks of rows in torch's weights
    "LSTM": ("input_gate", "forget_gate", "candidate", "output_gate"),
    "GRU": ("reset_gate", "update_gate", "candidate"),
}

Weights = dict[str, "torch.Tensor | None"]


@dataclass(frozen=True)
class Override:
    """One edit at one step: `target` (a gate, "hidden" or "cell") of `units` (n,) := `values` (n,).

    `source`: the edit's index in the list (steps with overrides of the same edits can run in the
    kernel together); `per_step`: the edit's values differ by step (each step has its own Override;
    an edit of one value per unit shares one across its steps); `low`, `high`: the values' range."""

    target: str
    units: torch.Tensor
    values: torch.Tensor
    source: int
    per_step: bool = False
    low: float = 0.0
    high: float = 0.0


StepEdits = dict[int, list[Override]]  # time step -> its overrides, in the order the edits were given


def plan_edits(edits: Sequence[Any], dtype: torch.dtype) -> dict[tuple[int, int], StepEdits]:
    """(layer, direction) -> step -> overrides. A later edit of the same value wins (applied after)."""
    plan: dict[tuple[int, int], StepEdits] = {}
    for source, edit in enumerate(edits):
        units = torch.tensor(edit.units, dtype=torch.long)
        grid = edit.value_array()  # (len(steps), len(units)) float64
        rows = torch.as_tensor(grid if edit.per_step else grid[:1], dtype=dtype)  # one row: every step
        lows, highs = rows.min(dim=1).values.tolist(), rows.max(dim=1).values.tolist()
        overrides = [
            Override(edit.target, units, row, source, edit.per_step, low, high)
            for row, low, high in zip(rows, lows, highs, strict=True)
        ]
        at = plan.setdefault((edit.layer, edit.direction), {})
        for i, t in enumerate(edit.steps):
            at.setdefault(t, []).append(overrides[i if edit.per_step else 0])
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
