"""Traces of torch's recurrent modules with value edits (ClampGate, SetHidden, SetCell; edits_values.py).

How: a layer without edits of its own is traced as trace_recurrent traces it (the fused kernel; a
layer above an edited one simply reads the edited input). In an edited layer each direction runs in
segments, in the order it reads the text: the edited steps one at a time with the cell equations
below, each edit applied where the model computes that value; the unedited steps before, between and
after them through the fused kernel, started from the state the previous segment left. So the cost
grows with the number of edited steps, not with T.

Equations (torch's docs), one layer and direction at step t; x_t its input, h, c the previous state:
    RNN   h_t = act(W_ih x_t + b_ih + W_hh h + b_hh)
    GRU   r, z = σ(W_i· x_t + b_i· + W_h· h + b_h·), n = tanh(W_in x_t + b_in + r * (W_hn h + b_hn)),
          h_t = (1 - z) * n + z * h
    LSTM  i, f, o = σ(...), g = tanh(...), c_t = f * c + i * g, h_t = o * tanh(c_t)  (W_hr h_t if projected)
An edited value replaces the computed one right there, so c_t, h_t, the next step and the next layer
all read it. `edited_stack_output` is the same computation with autograd (gradients=True): there the
edited values are constants, so nothing flows back through them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from seqviz.core import onednn_lstm
from seqviz.core.edits_values import check_value_edits, is_value_edit
from seqviz.core.recurrent import (
    _FUSED_FORWARD,
    TraceRun,
    _check_initial_state,
    _gru_gates,
    _input_product,
    _layer_weights,
    _lstm_gates,
    _quiet_projection_warning,
    _run_cell_recurrence,
    _Shape,
    _trace_layer,
    start_run,
    trace_recurrent,
)
from seqviz.core.scan import linear_scan
from seqviz.core.trace import Trace

# Unedited gaps shorter than this between edited steps run step by step too: a kernel call has a
# fixed cost of about a few steps.
_MIN_FUSED = 4

Weights = dict[str, "torch.Tensor | None"]


@dataclass(frozen=True)
class _Override:
    """One edit at one step: `target` (a gate, "hidden" or "cell") of `units` (n,) := `values` (n,)."""

    target: str
    units: torch.Tensor
    values: torch.Tensor


StepEdits = dict[int, list[_Override]]  # time step -> its overrides, in the order the edits were given


def _plan(edits: Sequence[Any], dtype: torch.dtype) -> dict[tuple[int, int], StepEdits]:
    """(layer, direction) -> step -> overrides. A later edit of the same value wins (applied after)."""
    plan: dict[tuple[int, int], StepEdits] = {}
    for edit in edits:
        units = torch.tensor(edit.units, dtype=torch.long)
        override = _Override(edit.target, units, torch.full((len(units),), edit.value, dtype=dtype))
        at = plan.setdefault((edit.layer, edit.direction), {})
        for t in edit.steps:
            at.setdefault(t, []).append(override)
    return plan


def _checked(edits: Sequence[Any], shape: _Shape, steps: int) -> None:
    for edit in edits:
        if not is_value_edit(edit):
            raise TypeError(
                f"{edit!r} is not a value edit; weight edits go through seqviz.trace(..., edits=)"
            )
    sizes = {"num_layers": shape.num_layers, "num_directions": shape.num_directions, "steps": steps}
    check_value_edits(
        edits, shape.arch, {**sizes, "hidden_size": shape.hidden_size, "out_size": shape.out_size}
    )


# One step of the cell equations, edits applied ---------------------------------------------------
def _fixer(overrides: list[_Override] | None) -> Callable[[str, torch.Tensor], torch.Tensor]:
    """fix(target, computed) -> the value the model carries on with (out of place: autograd-safe)."""
    if not overrides:
        return lambda target, value: value

    def fix(target: str, value: torch.Tensor) -> torch.Tensor:
        for o in overrides:
            if o.target == target:
                value = value.index_put((o.units,), o.values)
        return value

    return fix


def _recurrent_product(w: Weights, h: torch.Tensor) -> torch.Tensor:
    """W_hh h + b_hh (G*H,)."""
    return (
        torch.mv(w["weight_hh"], h) if w["bias_hh"] is None else torch.addmv(w["bias_hh"], w["weight_hh"], h)
    )


def _cell_step(mode: str, xp: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w: Weights, fix) -> tuple:
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


def _step_span(mode: str, x: torch.Tensor, w: Weights, h, c, reverse: bool, at: StepEdits, start: int):
    """Steps start .. start+n-1 of x (n, in), one at a time in reading order.

    -> hidden (n, H_out), {array name: (n, H)} in time order, and the state after the last step read.
    """
    xp = _input_product(x, w["weight_ih"], w["bias_ih"])  # (n, G*H), one product for the span
    hs, values = [], {}
    order = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for k in order:
        h, c, step_values = _cell_step(mode, xp[k], h, c, w, _fixer(at.get(start + k)))
        hs.append(h)
        for name, value in step_values.items():
            values.setdefault(name, []).append(value)
    ordered = (lambda rows: torch.stack(rows[::-1])) if reverse else torch.stack
    return ordered(hs), {name: ordered(rows) for name, rows in values.items()}, h, c


def _fused_direction(shape: _Shape, x: torch.Tensor, w: Weights, h, c, reverse: bool) -> tuple:
    """One direction through torch's fused kernel from state (h, c): x (n, in) -> hidden (n, H_out) in
    time order, last h, last c. The backward direction is the kernel run forward on the reversed span."""
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if shape.bias else [])
    names += ["weight_hr"] if shape.proj_size else []
    seq = (x.flip(0) if reverse else x).unsqueeze(1)  # (n, 1, in): the kernels want a batch dimension
    hx: Any = h.view(1, 1, -1)
    if shape.mode == "LSTM":
        hx = (hx, c.view(1, 1, -1))
    with _quiet_projection_warning():
        result = _FUSED_FORWARD[shape.mode](
            seq, hx, [w[n] for n in names], shape.bias, 1, 0.0, False, False, False
        )
    out = result[0].squeeze(1)
    c_last = result[2].view(-1) if shape.mode == "LSTM" else c
    return (out.flip(0) if reverse else out), result[1].view(-1), c_last


# The edited trace ---------------------------------------------------------------------------------
@dataclass
class _Direction:
    """One direction of an edited layer: its input, weights and where its values go."""

    shape: _Shape
    x: torch.Tensor  # (T, in) the layer's input, module dtype
    w: Weights
    reverse: bool
    out: torch.Tensor  # (T, H_out) this direction's columns of the layer output, module dtype
    arrays: dict[str, np.ndarray]  # array name -> (T, H) float32 view (hidden excluded)

    def store(self, span: slice, values: dict[str, torch.Tensor]) -> None:
        for name, value in values.items():
            torch.from_numpy(self.arrays[name])[span].copy_(value)


def _segments(times: Sequence[int], steps: int, reverse: bool) -> list[tuple[bool, slice]]:
    """[(step by step?, span of times)] covering all steps in reading order (edited steps step by step)."""
    positions = sorted(steps - 1 - t if reverse else t for t in times)  # in reading order
    groups: list[list[int]] = []
    for p in positions:
        if groups and p - groups[-1][1] < _MIN_FUSED:
            groups[-1][1] = p + 1
        else:
            groups.append([p, p + 1])
    segments, p = [], 0
    for start, stop in groups:
        segments += [(False, p, start)] if start > p else []
        segments.append((True, start, stop))
        p = stop
    segments += [(False, p, steps)] if p < steps else []
    return [(by_step, slice(steps - b, steps - a) if reverse else slice(a, b)) for by_step, a, b in segments]


def _run_direction(d: _Direction, h: torch.Tensor, c: torch.Tensor, at: StepEdits) -> None:
    """Fill the direction's output and arrays from the initial state (h, c), segment by segment."""
    for by_step, span in _segments(list(at), d.x.shape[0], d.reverse):
        if by_step:
            out, values, h, c = _step_span(d.shape.mode, d.x[span], d.w, h, c, d.reverse, at, span.start)
            d.store(span, values)
            d.out[span] = out
        else:
            h, c = _fused_segment(d, span, h, c)


def _fused_segment(d: _Direction, span: slice, h: torch.Tensor, c: torch.Tensor) -> tuple:
    """Unedited steps `span` through the fused kernel; their gates (and cells) into the arrays.
    -> the state after the last step read."""
    x, last = d.x[span], (span.start if d.reverse else span.stop - 1) - span.start
    if d.shape.mode == "LSTM":
        out, c = _fused_lstm_segment(d, span, x, h, c, last)
    else:
        out, _, c = _fused_direction(d.shape, x, d.w, h, c, d.reverse)
        if d.shape.mode == "GRU":
            views = {
                n: torch.from_numpy(d.arrays[n])[span] for n in ("reset_gate", "update_gate", "candidate")
            }
            _gru_gates(x, out, h, d.w, d.reverse, views)
    d.out[span] = out
    return out[last], c


def _fused_lstm_segment(d: _Direction, span: slice, x: torch.Tensor, h, c, last: int) -> tuple:
    """An LSTM segment: the kernel's own gates where oneDNN gives them (as trace_recurrent), else the
    fused forward and the gates from its states; cells by the scan. -> hidden (n, H_out), last c."""
    views = {name: torch.from_numpy(d.arrays[name])[span] for name in onednn_lstm.GATE_ROWS}
    out, c_last = None, None
    if onednn_lstm.kernel_available(x, [d.w]):
        out = onednn_lstm._trace_direction(x, d.w, h, c, d.reverse, views)
    if out is None:
        out, _, c_last = _fused_direction(d.shape, x, d.w, h, c, d.reverse)  # c in the module's dtype
        _lstm_gates(x, out, h, d.w, d.reverse, views)
    cell = d.arrays["cell"][span]  # (n, H) float32 view
    np.multiply(d.arrays["input_gate"][span], d.arrays["candidate"][span], out=cell)
    order = slice(None, None, -1) if d.reverse else slice(None)
    linear_scan(cell[order], d.arrays["forget_gate"][span][order], c.to(torch.float32).numpy())
    if c_last is None:  # oneDNN runs float32 only: the scanned cell is the state to go on from
        c_last = torch.from_numpy(cell[last].copy())
    return out, c_last


def _edited_layer(
    module: nn.RNNBase, run: TraceRun, layer: int, layer_in: torch.Tensor, at_layer
) -> torch.Tensor:
    """Layer `layer` with its edits: layer_in (T, in) -> its output (T, D*H_out), module dtype."""
    shape, steps = run.shape, layer_in.shape[0]
    out = layer_in.new_empty(steps, shape.num_directions * shape.out_size)
    for direction in range(shape.num_directions):
        arrays = {n: a[:, layer, direction] for n, a in run.arrays.items() if n != "hidden"}
        columns = out[:, direction * shape.out_size : (direction + 1) * shape.out_size]
        d = _Direction(
            shape, layer_in, _layer_weights(module, layer, direction), direction == 1, columns, arrays
        )
        row = layer * shape.num_directions + direction
        _run_direction(d, run.h0[row], run.c0[row], at_layer.get(direction, {}))
    run.arrays["hidden"][:, layer] = out.view(steps, shape.num_directions, -1).to(torch.float32).numpy()
    return out


def trace_edited(
    module: nn.RNNBase, inputs: Any, initial_state: Any = None, tokens: Sequence[str] | None = None, edits=()
) -> Trace:
    """`trace_recurrent(module, inputs, initial_state, tokens)` with value edits applied (the same
    arrays, showing the edited values; `meta.edits` describes them). ValueError for an edit that does
    not fit the model or the input, naming what does."""
    if not edits:
        return trace_recurrent(module, inputs, initial_state, tokens)
    with torch.no_grad():
        run = start_run(module, inputs, initial_state, tokens)
        _checked(edits, run.shape, run.x.shape[0])
        plan = _plan(edits, run.x.dtype)
        layer_in, initial = run.x, run.initial
        for layer in range(run.shape.num_layers):
            at_layer = {d: at for (l, d), at in plan.items() if l == layer}
            if at_layer:
                layer_in = _edited_layer(module, run, layer, layer_in, at_layer)
                continue
            layer_in = _trace_layer(module, run.shape, layer, layer_in, run.h0, run.c0, run.arrays)
            if run.shape.arch == "lstm":  # this layer's cells: the recurrence over its own gates
                views = {n: a[:, layer : layer + 1] for n, a in run.arrays.items()}
                _run_cell_recurrence(views, initial["cell"][layer : layer + 1])
    tr = run.finish()
    tr.meta = tr.meta.replace(edits=tuple(edit.describe() for edit in edits))
    return tr


def edited_stack_output(module: nn.RNNBase, x: torch.Tensor, initial_state: Any, edits: Sequence[Any]):
    """The stack's output (T, D*H_out) of its top layer for input x (T, in) with the edits, by
    operations autograd follows (edited values are constants): what `gradients=True` differentiates."""
    shape = _Shape.of(module)
    h0, c0 = _check_initial_state(initial_state, shape, module.weight_ih_l0)
    _checked(edits, shape, x.shape[0])
    plan, layer_in = _plan(edits, x.dtype), x
    for layer in range(shape.num_layers):
        outs = []
        for direction in range(shape.num_directions):
            w, row = _layer_weights(module, layer, direction), layer * shape.num_directions + direction
            at, reverse = plan.get((layer, direction)), direction == 1
            if at:
                outs.append(_step_span(shape.mode, layer_in, w, h0[row], c0[row], reverse, at, 0)[0])
            else:
                outs.append(_fused_direction(shape, layer_in, w, h0[row], c0[row], reverse)[0])
        layer_in = torch.cat(outs, dim=1)
    return layer_in
