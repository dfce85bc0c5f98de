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


def kernel_weights(w: Weights, mode: str, run: Sequence[RunEdit]) -> Weights:
    """Copies of one direction's weights under which the kernel computes the run's set values, given
    the extra input columns `kernel_columns` makes (see the module's docstring). They depend on which
    edits the run has and their one-per-unit values, not on values per step: runs of the same edits
    can share them."""
    gates = GATE_ROWS.get(mode, ("hidden",))
    run = _last_hidden_wins(run)
    builder = _Builder(w, _columns(mode, run), gates, w["weight_hh"].shape[0] // len(gates))
    made_by_n = [_made_by_n(mode, e) for e in run]
    for e, by_n in zip(run, made_by_n, strict=True):  # in order: a later edit of a unit wins
        if e.target == "hidden" and not by_n:
            builder.move_hidden(e)
        elif e.target not in ("hidden", "cell"):
            builder.set_gate(e.target, e)
    for e in run:  # a set cell after the gates: the model sets c after computing them
        if e.target == "cell":
            builder.set_rows("input_gate", e.units, _SATURATED)  # i = 1
            builder.set_rows("forget_gate", e.units, -_SATURATED)  # f = 0
            builder.set_gate("candidate", e)
    for e in (e for e, by_n in zip(run, made_by_n, strict=True) if by_n):  # last: h_u = n_u, always
        builder.set_rows("update_gate", e.units, -_SATURATED)  # z = 0
        builder.set_gate("candidate", e)
    return builder.w


def kernel_columns(mode: str, run: Sequence[RunEdit]) -> torch.Tensor | None:
    """The extra input columns (n, k) for `kernel_weights` of the run (None: it needs none): for each
    edit whose values differ by step, the activation's inverse at them, or a set h's previous values."""
    blocks = [
        e.previous if gate == "previous" else _inverse(gate, e.values).to(e.values.dtype)
        for e, gate in _columns(mode, _last_hidden_wins(run))
    ]
    return torch.cat(blocks, dim=1) if blocks else None


def _made_by_n(mode: str, e: RunEdit) -> bool:
    """A GRU's set h that differs by step: made by z = 0 and n (the module's docstring)."""
    return mode == "GRU" and e.target == "hidden" and e.per_step


def _columns(mode: str, run: Sequence[RunEdit]) -> list[tuple[RunEdit, str]]:
    """The edits that need extra input columns, in column order, each with what its columns carry:
    the inverse of the gate's activation it sets (a gate's, or a set cell's or GRU h's candidate), or
    "previous" (a set h of an LSTM or RNN: the value set at the previous step)."""
    out = []
    for e in run:
        if e.per_step:
            gate = e.target if e.target not in ("hidden", "cell") else "candidate"
            out.append((e, "previous" if e.target == "hidden" and mode != "GRU" else gate))
    return out


class _Builder:
    """The weights being made: copies, W_ih widened by the extra columns (one block per edit)."""

    def __init__(self, w: Weights, columns: list, gates: tuple[str, ...], size: int) -> None:
        self.gates, self.size = gates, size
        self.w = dict(w)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            value = w[name]
            self.w[name] = (
                w["weight_hh"].new_zeros(len(gates) * size) if value is None else value.detach().clone()
            )
        start, self.blocks = w["weight_ih"].shape[1], []
        for e, _ in columns:
            self.blocks.append((e, torch.arange(start, start + len(e.units))))
            start += len(e.units)
        if columns:
            wide = self.w["weight_ih"].new_zeros(len(gates) * size, start - w["weight_ih"].shape[1])
            self.w["weight_ih"] = torch.cat([self.w["weight_ih"], wide], dim=1)

    def columns_of(self, e: RunEdit) -> torch.Tensor:
        """The indices (k,) in the widened W_ih of the columns that carry `e`'s values."""
        return next(columns for edit, columns in self.blocks if edit is e)

    def set_gate(self, gate: str, e: RunEdit) -> None:
        """Rows of `gate` for e's units compute e's values: by b_ih, or by a column per unit."""
        if not e.per_step:
            self.set_rows(gate, e.units, _inverse(gate, e.values[0]))
            return
        rows = self.set_rows(gate, e.units, 0.0)
        self.w["weight_ih"][rows, self.columns_of(e)] = 1.0

    def set_rows(self, gate: str, units: torch.Tensor, pre: torch.Tensor | float) -> torch.Tensor:
        """Rows of `gate` for `units` of the pre-activation become the constant `pre` (the extra
        columns included): b_ih, the rest 0. -> the rows."""
        rows = self.gates.index(gate) * self.size + units
        for name in ("weight_ih", "weight_hh", "bias_hh"):
            self.w[name][rows] = 0.0
        bias = self.w["bias_ih"]
        bias[rows] = pre.to(bias.dtype) if isinstance(pre, torch.Tensor) else pre
        return rows

    def move_hidden(self, e: RunEdit) -> None:
        """A set h_u: what W_hh[:, u] reads at each step goes to b_hh (one value) or a column."""
        if e.per_step:
            self.w["weight_ih"][:, self.columns_of(e)] = self.w["weight_hh"][:, e.units]
        else:
            self.w["bias_hh"] += self.w["weight_hh"][:, e.units] @ e.values[0]
        self.w["weight_hh"][:, e.units] = 0.0


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
                e = _restricted(e, torch.tensor(keep))
        kept.append(e)
    return kept[::-1]


def _restricted(e: RunEdit, keep: torch.Tensor) -> RunEdit:
    """`e` for the units at `keep` (indices into e.units) only."""
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
