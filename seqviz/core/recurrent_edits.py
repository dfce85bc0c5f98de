"""Traces of torch's recurrent modules with value edits (ClampGate, SetHidden, SetCell; edits_values.py).

How: a layer without edits of its own is traced as trace_recurrent traces it (the fused kernel; a
layer above an edited one simply reads the edited input). In an edited layer each direction runs in
segments, in the order it reads the text, each started from the state the previous one left:
- steps without edits: the fused kernel;
- runs of steps with overrides of the same edits: the fused kernel too, with weights (and, for values
  that differ by step, extra input columns) under which it computes the set values itself
  (seqviz.core.kernel_edits), the arrays then showing the set values and the gates the model computes;
- every other edited step (short runs, values the kernel cannot make): one at a time with the cell
  equations (recurrent_cells.cell_step), each edit applied where the model computes that value.
An edited value thus replaces the computed one right where it is computed, so c_t, h_t, the next step
and the next layer all read it; and the cost grows with the number of edited steps that run one at a
time, not with T. `edited_stack_output` is the same computation step by step with autograd
(gradients=True): the edited values are constants there, so nothing flows back through them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from seqviz.core import onednn_lstm
from seqviz.core.edits_values import check_value_edits, is_value_edit
from seqviz.core.kernel_edits import RunEdit, kernel_can_apply, kernel_columns, kernel_weights, run_edits
from seqviz.core.recurrent import (
    _FUSED_FORWARD,
    TraceRun,
    _check_initial_state,
    _gru_gates,
    _input_product,
    _layer_weights,
    _lstm_gates,
    _previous_state_product,
    _quiet_projection_warning,
    _run_cell_recurrence,
    _Shape,
    _trace_layer,
    start_run,
    trace_recurrent,
)
from seqviz.core.recurrent_cells import GATE_ROWS, StepEdits, Weights, plan_edits, step_span
from seqviz.core.scan import linear_scan
from seqviz.core.trace import Trace

# Kernel runs shorter than this run step by step instead: a kernel call costs about a few steps.
_MIN_FUSED = 4


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
    w: Weights  # what the kernel runs: the module's own weights, or `kernel_weights` for a run
    reverse: bool
    out: torch.Tensor  # (T, H_out) this direction's columns of the layer output, module dtype
    arrays: dict[str, np.ndarray]  # array name -> (T, H) float32 view (hidden excluded)
    clamps: Sequence[RunEdit] = ()  # what `w` sets, for a kernel run over edited steps
    own_w: Weights | None = None  # the module's own weights when `w` is not
    extra: torch.Tensor | None = None  # (n, k) input columns the run's `w` reads after x's own
    layout_ok: list[bool] = dataclasses.field(default_factory=list)  # oneDNN's gates checked (shared)

    def store(self, span: slice, values: dict[str, torch.Tensor]) -> None:
        for name, value in values.items():
            torch.from_numpy(self.arrays[name])[span].copy_(value)

    def clamped(self, run: Sequence[RunEdit], w: Weights) -> _Direction:
        """This direction for a kernel run of `run`'s edits: `w` (`kernel_weights` of them) and the
        input columns they read."""
        extra = kernel_columns(self.shape.mode, run)
        shape = dataclasses.replace(self.shape, bias=True)
        return dataclasses.replace(self, shape=shape, w=w, clamps=run, own_w=self.w, extra=extra)

    def kernel_x(self, span: slice) -> torch.Tensor:
        """The input the kernel reads over `span` (the run's): x, and the extra columns if any."""
        return self.x[span] if self.extra is None else torch.cat([self.x[span], self.extra], dim=1)

    def gate_inputs(self, span: slice) -> tuple[Weights, torch.Tensor]:
        """(weights, input) from which a GRU's gates are what the model computes: its own weights
        with the gate clamps (n reads a clamped r), none of the kernel's ways of setting h."""
        clamps = [e for e in self.clamps if e.target != "hidden"]
        if self.own_w is None or not clamps:
            return self.own_w or self.w, self.x[span]
        w, extra = kernel_weights(self.own_w, "GRU", clamps), kernel_columns("GRU", clamps)
        return w, self.x[span] if extra is None else torch.cat([self.x[span], extra], dim=1)

    def sets(self, target: str) -> bool:
        return any(e.target == target for e in self.clamps)

    def show(self, span: slice, out: torch.Tensor, targets: tuple[str, ...]) -> None:
        """`out` (n, H_out) and the arrays show the set values of `targets` themselves (the kernel
        computed gates to within rounding, and its own h and c of a set unit are overwritten)."""
        for e in self.clamps:
            if e.target == "hidden" and "hidden" in targets:
                out[:, e.units] = e.values
            elif e.target in targets and e.target != "hidden":
                self.arrays[e.target][span][:, e.units.numpy()] = e.values.numpy()


def _segments(at: StepEdits, steps: int, reverse: bool, mode: str) -> list[tuple[str, slice]]:
    """[(kind, span of times)] covering all steps in reading order; kind "fused" (no edits), "clamped"
    (overrides of the same edits at every step, applied by the kernel) or "steps" (one at a time)."""
    runs: list[list] = []  # [kind, first position, stop position, overrides, the edits they are of]
    for p in range(steps):
        overrides = at.get(steps - 1 - p if reverse else p, [])
        kind = (
            "clamped"
            if overrides and kernel_can_apply(mode, overrides)
            else "steps"
            if overrides
            else "fused"
        )
        key = tuple(o.source for o in overrides)
        if runs and runs[-1][0] == kind and (kind != "clamped" or runs[-1][4] == key):
            runs[-1][2] = p + 1
        else:
            runs.append([kind, p, p + 1, overrides, key])
    merged: list[list] = []
    for kind, a, b, overrides, _ in runs:
        pieces = [(kind, a, b)]
        if kind == "clamped" and any(o.target == "hidden" for o in overrides):  # see kernel_edits
            pieces = [("steps", a, a + 1), ("clamped", a + 1, b)]
        for piece, start, stop in pieces:
            piece = "steps" if stop - start < _MIN_FUSED else piece  # too short for a kernel call
            if merged and piece == "steps" == merged[-1][0]:
                merged[-1][2] = stop
            elif stop > start:
                merged.append([piece, start, stop])
    return [(k, slice(steps - b, steps - a) if reverse else slice(a, b)) for k, a, b in merged]


def _run_direction(d: _Direction, h: torch.Tensor, c: torch.Tensor, at: StepEdits) -> None:
    """Fill the direction's output and arrays from the initial state (h, c), segment by segment."""
    made: dict[tuple[int, ...], Weights] = {}  # kernel weights by the edits they apply: runs share them
    for kind, span in _segments(at, d.x.shape[0], d.reverse, d.shape.mode):
        if kind == "steps":
            out, values, h, c = step_span(d.shape.mode, d.x[span], d.w, h, c, d.reverse, at, span.start)
            d.store(span, values)
            d.out[span] = out
        elif kind == "fused":
            h, c = _fused_segment(d, span, h, c)
        else:
            run, key = run_edits(at, span, d.reverse), tuple(o.source for o in at[span.start])
            if key not in made:
                made[key] = kernel_weights(d.w, d.shape.mode, run)
            h, c = _fused_segment(d.clamped(run, made[key]), span, h, c)


def _fused_segment(d: _Direction, span: slice, h: torch.Tensor, c: torch.Tensor) -> tuple:
    """Steps `span` through the fused kernel (with `d.clamps` applied by its weights); their gates
    (and cells) into the arrays. -> the state after the last step read."""
    last = (span.start if d.reverse else span.stop - 1) - span.start
    if d.shape.mode == "LSTM":
        out, c = _fused_lstm_segment(d, span, h, c, last)
    else:
        out, _, c = _fused_direction(d.shape, d.kernel_x(span), d.w, h, c, d.reverse)
        d.show(span, out, ("hidden",))
        if d.shape.mode == "GRU":  # from the set h: the kernel may have made h_u its own way
            views = {n: torch.from_numpy(d.arrays[n])[span] for n in GATE_ROWS["GRU"]}
            w, x = d.gate_inputs(span)
            _gru_gates(x, out, h, w, d.reverse, views)
            d.show(span, out, GATE_ROWS["GRU"])
    d.out[span] = out
    return out[last], c


def _fused_lstm_segment(d: _Direction, span: slice, h, c, last: int) -> tuple:
    """An LSTM segment: the kernel's own gates where oneDNN gives them (as trace_recurrent) and they
    are the model's, else the gates from the states; cells by the scan. -> hidden (n, H_out), last c."""
    views = {name: torch.from_numpy(d.arrays[name])[span] for name in onednn_lstm.GATE_ROWS}
    out, c_last, x = None, None, d.kernel_x(span)
    if onednn_lstm.kernel_available(x, [d.w]):  # its gates' layout checked once per direction
        out = onednn_lstm._trace_direction(x, d.w, h, c, d.reverse, views, check=not d.layout_ok)
    from_kernel = out is not None
    if from_kernel and not d.layout_ok:
        d.layout_ok.append(True)
    if out is None:
        out, _, c_last = _fused_direction(d.shape, x, d.w, h, c, d.reverse)  # c in the module's dtype
    d.show(span, out, ("hidden",))
    if not from_kernel:  # i, f, g, o read only x and h: the own weights give the model's gates
        _lstm_gates(d.x[span], out, h, d.own_w or d.w, d.reverse, views)
    elif d.sets("cell"):  # the kernel's i, f, g of a set cell's unit are made up to set it
        _set_cells_gates(d, span, out, h, views)
    d.show(span, out, GATE_ROWS["LSTM"])  # before the cells: they are the recurrence over these gates
    cell = d.arrays["cell"][span]  # (n, H) float32 view
    np.multiply(d.arrays["input_gate"][span], d.arrays["candidate"][span], out=cell)
    order = slice(None, None, -1) if d.reverse else slice(None)
    linear_scan(cell[order], d.arrays["forget_gate"][span][order], c.to(torch.float32).numpy())
    d.show(span, out, ("cell",))  # a set cell's unit: each step's own value, not the scan's
    if c_last is None:  # oneDNN runs float32 only: the scanned cell is the state to go on from
        c_last = torch.from_numpy(cell[last].copy())
    return out, c_last


def _set_cells_gates(d: _Direction, span: slice, out: torch.Tensor, h: torch.Tensor, views) -> None:
    """The model's i, f, g of the units whose cells the run sets, from the module's own rows of the
    weights (x and the previous h, as the model reads them) into `views` (name -> (n, H))."""
    units = torch.unique(torch.cat([e.units for e in d.clamps if e.target == "cell"]))  # (k,)
    w = d.own_w or d.w
    size = w["weight_hh"].shape[0] // 4
    rows = torch.cat([k * size + units for k in range(3)])  # i, f, g: onednn_lstm.GATE_ROWS' order
    bias = None if w["bias_ih"] is None else w["bias_ih"][rows] + w["bias_hh"][rows]
    pre = _input_product(d.x[span], w["weight_ih"][rows], bias)  # (n, 3k)
    _previous_state_product(out, h, w["weight_hh"][rows], d.reverse, pre)
    for k, name in enumerate(onednn_lstm.GATE_ROWS[:3]):
        gate = pre[:, k * len(units) : (k + 1) * len(units)]
        views[name][:, units] = (gate.tanh() if name == "candidate" else gate.sigmoid()).to(torch.float32)


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
        plan = plan_edits(edits, run.x.dtype)
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
    plan, layer_in = plan_edits(edits, x.dtype), x
    for layer in range(shape.num_layers):
        outs = []
        for direction in range(shape.num_directions):
            w, row = _layer_weights(module, layer, direction), layer * shape.num_directions + direction
            at, reverse = plan.get((layer, direction)), direction == 1
            if at:
                outs.append(step_span(shape.mode, layer_in, w, h0[row], c0[row], reverse, at, 0)[0])
            else:
                outs.append(_fused_direction(shape, layer_in, w, h0[row], c0[row], reverse)[0])
        layer_in = torch.cat(outs, dim=1)
    return layer_in
