"""Weights and extra inputs under which torch's fused kernel computes set values itself, over a run of
steps that all have overrides of the same edits (seqviz.core.recurrent_edits runs it).

An edit with one value per unit (a number, or per-unit values) goes into copies of the weights:
- a clamped gate unit: its rows of W_ih, W_hh and b_hh zero, its b_ih the activation's inverse at the
  value, so the kernel computes the value itself (GRU n: r * (W_hn h + b_hn) is then 0 too);
- a set hidden unit u = v: the previous step's h_u is v throughout the run (except at its first step,
  which the caller runs apart), so W_hh[:, u] v moves into b_hh and W_hh[:, u] becomes 0 (the kernel's
  own h_u is then read by nothing but itself; the caller overwrites it with v);
- a set LSTM cell u = v: f_u = 0, i_u = 1, g_u = v, so c_u = v whatever came before; applied after the
  gates (the model sets c after computing them). The caller then shows the gates the model computes.
An edit whose values differ by step reaches the kernel through extra input columns instead (the kernel
adds W_ih x_t every step, and x_t may carry anything): x becomes [x | e] and W_ih [W_ih | E]:
- a clamped gate or a set cell's g: rows constant 0, plus column j (weight 1) carrying the inverse of
  the step's value;
- a set hidden unit of an LSTM or RNN: column j carries the value set at the previous step (read
  first), with E[:, j] = W_hh[:, u] and W_hh[:, u] = 0, the per-step form of the b_hh move;
- a set hidden unit of a GRU: its n sits inside r * (W_hn h + b_hn), where no input reaches, so the
  kernel makes h_u itself: z_u = 0 (constant rows) and n_u = the value (a column), h_u = n_u; W_hh
  keeps column u, the kernel's own h_u being the set value (to rounding; |value| <= 1, tanh's range).
Biases are made if the module has none. Edits apply in order (a later edit of a unit wins); for the
hidden state, the last edit of each unit is the one applied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from seqviz.core.recurrent_cells import GATE_ROWS, Override, StepEdits, Weights

# σ(±200) and tanh(±200) round to exactly 1 / 0 and ±1 in float32, and to within 1e-86 in float64.
_SATURATED = 200.0


def kernel_can_apply(mode: str, overrides: Sequence[Override]) -> bool:
    """Can the fused kernel run a step with these overrides: hidden states, gate clamps to values
    the activation takes (σ: [0, 1], tanh: [-1, 1]), LSTM cells in [-1, 1] (made by the gates as
    0 * c + 1 * v), and a GRU's hidden values that differ by step in [-1, 1] (made by n)?"""
    gates = GATE_ROWS.get(mode, ())
    low = {name: 0.0 for name in gates} | {"candidate": -1.0, "cell": -1.0}
    if mode == "LSTM":
        gates += ("cell",)

    def fits(o: Override) -> bool:
        if o.target == "hidden":  # moved into the weights, or for a GRU per step made by tanh
            return not (mode == "GRU" and o.per_step) or (o.low >= -1.0 and o.high <= 1.0)
        return o.target in gates and low[o.target] <= o.low and o.high <= 1.0

    return all(fits(o) for o in overrides)


@dataclass(frozen=True)
class RunEdit:
    """One edit over a run of n steps: `target` of `units` (k,) := `values` (n, k), in time order;
    `previous` (n, k): for a set hidden state, the values set at each step's previous step in
    reading order (what the step reads as h_t-1); `per_step`: the values differ by step."""

    target: str
    units: torch.Tensor
    values: torch.Tensor
    previous: torch.Tensor | None
    per_step: bool


def run_edits(at: StepEdits, span: slice, reverse: bool) -> list[RunEdit]:
    """The edits of steps `span` (each with overrides of the same edits, in the same order), and for a
    set hidden state the previous step's values (in the run too: the caller ran its first step apart)."""
    times, back = range(span.start, span.stop), 1 if reverse else -1
    edits = []
    for j, first in enumerate(at[span.start]):
        n = len(times)
        if not first.per_step:
            edits.append(RunEdit(first.target, first.units, first.values.expand(n, -1), None, False))
            continue
        values = torch.stack([at[t][j].values for t in times])  # (n, k)
        previous = None
        if first.target == "hidden":
            previous = torch.stack([at[t + back][j].values for t in times])
        edits.append(RunEdit(first.target, first.units, values, previous, True))
    return edits


def kernel_inputs(w: Weights, mode: str, run: Sequence[RunEdit]) -> tuple[Weights, torch.Tensor | None]:
    """(weights, extra input columns (n, k) to append to the run's x, or None) under which the kernel
    computes the run's set values (see the module's docstring)."""
    gates = GATE_ROWS.get(mode, ("hidden",))
    size = w["weight_hh"].shape[0] // len(gates)
    run = _last_hidden_wins(run)
    builder = _Builder(w, sum(len(e.units) for e in run if e.per_step), gates, size)
    made_by_n = [mode == "GRU" and e.target == "hidden" and e.per_step for e in run]
    for e, by_n in zip(run, made_by_n, strict=True):  # in order: a later edit of a unit wins
        if e.target == "hidden" and not by_n:
            builder.move_hidden(e)
        elif e.target not in ("hidden", "cell"):
            builder.set_gate(e.target, e.units, e.values, e.per_step)
    for e in run:  # a set cell after the gates: the model sets c after computing them
        if e.target == "cell":
            ones, zeros = torch.ones_like(e.values[:1]), torch.zeros_like(e.values[:1])
            builder.set_gate("input_gate", e.units, ones, False)
            builder.set_gate("forget_gate", e.units, zeros, False)
            builder.set_gate("candidate", e.units, e.values, e.per_step)
    for e in (e for e, by_n in zip(run, made_by_n, strict=True) if by_n):  # last: h_u = n_u, always
        builder.set_gate("update_gate", e.units, torch.zeros_like(e.values[:1]), False)
        builder.set_gate("candidate", e.units, e.values, True)
    return builder.w, builder.extra()


class _Builder:
    """The weights being made (copies; W_ih widened by the extra columns) and the columns' inputs."""

    def __init__(self, w: Weights, columns: int, gates: tuple[str, ...], size: int) -> None:
        self.gates, self.size, self.inputs = gates, size, []
        self.first_column = w["weight_ih"].shape[1]
        self.w = dict(w)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            value = w[name]
            self.w[name] = (
                w["weight_hh"].new_zeros(len(gates) * size) if value is None else value.detach().clone()
            )
        if columns:
            wide = self.w["weight_ih"].new_zeros(len(gates) * size, columns)
            self.w["weight_ih"] = torch.cat([self.w["weight_ih"], wide], dim=1)

    def take_columns(self, values: torch.Tensor) -> torch.Tensor:
        """Extra columns carrying `values` (n, k) -> their indices (k,) in the widened W_ih."""
        start = self.first_column + sum(block.shape[1] for block in self.inputs)
        self.inputs.append(values)
        return torch.arange(start, start + values.shape[1])

    def extra(self) -> torch.Tensor | None:
        return torch.cat(self.inputs, dim=1) if self.inputs else None

    def set_gate(self, gate: str, units: torch.Tensor, values: torch.Tensor, per_step: bool) -> None:
        """Rows of `gate` for `units` compute `values` (n, k): by b_ih, or by a column per unit."""
        rows = self.gates.index(gate) * self.size + units
        inverse = _inverse(gate, values if per_step else values[:1]).to(self.w["bias_ih"].dtype)
        if not per_step:
            self._constant_rows(rows, inverse[0])
            return
        self._constant_rows(rows, 0.0)
        self.w["weight_ih"][rows, self.take_columns(inverse)] = 1.0

    def move_hidden(self, e: RunEdit) -> None:
        """A set h_u: what W_hh[:, u] reads at each step goes to b_hh (one value) or a column."""
        if e.per_step:
            assert e.previous is not None
            self.w["weight_ih"][:, self.take_columns(e.previous)] = self.w["weight_hh"][:, e.units]
        else:
            self.w["bias_hh"] += self.w["weight_hh"][:, e.units] @ e.values[0]
        self.w["weight_hh"][:, e.units] = 0.0

    def _constant_rows(self, rows: torch.Tensor, bias: torch.Tensor | float) -> None:
        """Rows `rows` of the pre-activation become the constant `bias` (the extra columns included)."""
        for name in ("weight_ih", "weight_hh", "bias_hh"):
            self.w[name][rows] = 0.0
        self.w["bias_ih"][rows] = bias


def _last_hidden_wins(run: Sequence[RunEdit]) -> list[RunEdit]:
    """The run's edits, each set hidden state without the units a later one sets (the model carries
    the last value set; the weights must move only that one)."""
    seen: set[int] = set()
    kept: list[RunEdit] = []
    for e in reversed(run):
        if e.target == "hidden":
            units = e.units.tolist()
            keep = [j for j, u in enumerate(units) if u not in seen]
            seen.update(units)
            if not keep:
                continue
            if len(keep) < len(units):
                e = _columns(e, torch.tensor(keep))
        kept.append(e)
    return kept[::-1]


def _columns(e: RunEdit, keep: torch.Tensor) -> RunEdit:
    previous = None if e.previous is None else e.previous[:, keep]
    return dataclasses.replace(e, units=e.units[keep], values=e.values[:, keep], previous=previous)


def _inverse(gate: str, values: torch.Tensor) -> torch.Tensor:
    """x with activation(x) = value, float64: atanh for the candidate (tanh), logit for the σ gates;
    ±_SATURATED where the activation only reaches the value in the limit."""
    v = values.to(torch.float64)
    saturated = torch.full_like(v, _SATURATED)
    if gate == "candidate":
        return torch.where(v.abs() >= 1.0, saturated.copysign(v), torch.atanh(v))
    inner = torch.log(v / (1.0 - v))
    return torch.where(v >= 1.0, saturated, torch.where(v <= 0.0, -saturated, inner))
