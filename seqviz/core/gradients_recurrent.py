"""Rows of the input-gradient map of a unidirectional torch recurrent stack by one reverse pass.

Why: the whole (T, T) map by autograd is T backward passes, about 1.2 T forwards. Here the cotangents
of every requested output step t travel backward through time together: at step s the batch holds one
row per output step t >= s (a row joins when the pass reaches its step, so its entries for s > t are
never written: exact zeros). Each step of a layer is a few elementwise products with factors
precomputed from the gates the trace already holds, and one batched product with W_hh.

The pass runs layer by layer, top-down, as a fused backward does: a layer's cotangents at every step
are known once the layer above has run, so the products with W_ih (to the layer below; the bottom
layer's give the gradients w.r.t. x_s, needed only for their norms) are gathered over steps and done
as a few large matrix products, and the step loop touches one weight matrix, W_hh, which stays in
cache. Step by step over the whole stack, a single row ran at ~5x a plain trace, mostly waiting for
weights from memory.

Conventions (torch's, as seqviz.core.recurrent traces them), one layer at step s, h', c' the previous
step's state (the initial state at s = 0):
    RNN   h = act(W_ih x + b_ih + W_hh h' + b_hh), act = tanh or relu
    GRU   r, z = σ(...), n = tanh(W_in x + b_in + r * (W_hn h' + b_hn)), h = (1 - z) * n + z * h'
    LSTM  i, f, o = σ(...), g = tanh(...), c = f * c' + i * g, h = o * tanh(c)
Gate rows in the weights: RNN one block, GRU (r, z, n), LSTM (i, f, g, o).

Everything is float32, as the module and its trace are (norms summed in float64): the values are as
close to a float64 autograd as float32 autograd's (~1e-6 relative at T = 200), and overflow (inf,
NaN) where autograd's float32 pass does. The elementwise work is numpy (a call costs about half of
torch's, and a single row's pass is mostly calls on small arrays); matrix products are torch's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from seqviz.core.trace import Trace

_MODES = ("RNN_TANH", "RNN_RELU", "GRU", "LSTM")
# Rows are done in groups whose gathered cotangents (one row per active output step and step, per
# layer) fit in about this many floats; a (T, T) map of a long text would otherwise need O(T^2 H).
_GATHER_FLOATS = 1 << 24


def supports(module: object) -> bool:
    """Whether `module` (a bare torch recurrent stack) has this fast path: unidirectional, no LSTM
    projection, float32 weights on the CPU (the trace's float32 gates are then the module's own)."""
    if not isinstance(module, nn.RNNBase) or module.mode not in _MODES or module.bidirectional:
        return False
    weight = module.weight_ih_l0
    return (
        not getattr(module, "proj_size", 0) and weight.dtype == torch.float32 and weight.device.type == "cpu"
    )


def reverse_pass_rows(module: nn.RNNBase, trace: Trace, rows: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The gradient-norm rows of output steps `rows` (n,), sorted ascending and distinct.

    seeds (n, H) float32: ∂y_t/∂h_t of the top layer for each row t. -> (n, T) float32: [k, s] =
    ‖∂y_t/∂x_s‖₂ for t = rows[k] and s <= t, exactly 0 for s > t (step s never reaches y_t).
    """
    out = np.zeros((len(rows), trace.num_steps), np.float32)
    # row t adds t + 1 gathered rows; two layers' worth (H floats each) are held at a time
    limit = max(_GATHER_FLOATS // (2 * module.hidden_size), 1)
    start = 0
    while start < len(rows):
        stop = start + max(int(np.searchsorted(np.cumsum(rows[start:] + 1), limit, side="right")), 1)
        _reverse_pass(module, trace, _Schedule.of(rows[start:stop]), seeds[start:stop], out[start:stop])
        start = stop
    return out


@dataclass(frozen=True)
class _Schedule:
    """The steps of one pass, last first, and the rows active at each: rows [first:] at step s.

    Gathered arrays hold, for each step in this order, one row per active output step: the i-th step's
    are rows start[i] .. start[i + 1] of them (`total` in all). Lists, not arrays: the step loop
    reads them one number at a time.
    """

    n: int
    steps: list[int]  # (m,) s = rows[-1] .. 0
    first: list[int]  # (m,)
    start: list[int]  # (m + 1,)
    joins: list[bool]  # (m,) whether rows[first] == s: its seed enters here

    @classmethod
    def of(cls, rows: np.ndarray) -> _Schedule:
        steps = np.arange(rows[-1], -1, -1)
        first = np.searchsorted(rows, steps, side="left")
        start = np.concatenate([[0], np.cumsum(len(rows) - first)])
        joins = rows[np.minimum(first, len(rows) - 1)] == steps
        return cls(len(rows), steps.tolist(), first.tolist(), start.tolist(), joins.tolist())

    @property
    def total(self) -> int:
        return self.start[-1]

    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """(row index k, step s) of every gathered row, (total,) each."""
        counts = np.diff(self.start)
        offset = np.arange(self.total) - np.repeat(self.start[:-1], counts)
        return np.repeat(self.first, counts) + offset, np.repeat(self.steps, counts)


def _reverse_pass(
    module: nn.RNNBase, trace: Trace, schedule: _Schedule, seeds: np.ndarray, out: np.ndarray
) -> None:
    """Fill out (n, T) for the schedule's rows: every layer over every step, top layer first."""
    kind = {"LSTM": _LSTMLayer, "GRU": _GRULayer}.get(module.mode, _RNNLayer)
    incoming = None  # the layer above's cotangent of this layer's h: (total, H), gathered order
    for index in range(module.num_layers - 1, -1, -1):
        layer = kind(module, trace, index, schedule.n)
        products = _Products(layer, schedule, out if index == 0 else None)
        _run_layer(layer, schedule, seeds if incoming is None else None, incoming, products)
        incoming = products.result


def _run_layer(
    layer: _Layer,
    schedule: _Schedule,
    seeds: np.ndarray | None,
    incoming: np.ndarray | None,
    products: _Products,
) -> None:
    """One layer backward through every step of the schedule: seeds (top layer) or `incoming` enter
    the cotangent of h at each step; the pre-activation cotangents go to `products`."""
    active = -1
    start = schedule.start
    for i, s in enumerate(schedule.steps):
        first = schedule.first[i]
        if first != active:
            layer.activate(first)
            active = first
        if seeds is not None and schedule.joins[i]:
            layer.dh[first] += seeds[first]
        if incoming is not None:
            layer.dh_active += incoming[start[i] : start[i + 1]]
        work = products.next_block(schedule.n - first)
        layer.backward(s, work)
        if s:
            layer.carry(s, work)
    products.flush()


class _Products:
    """The pre-activation cotangents of every step, times W_ih, in large matrix products.

    `next_block(B)` is where a step writes its (B, G*H) cotangents; when the buffer is full its rows are
    multiplied by W_ih at once: into `result` (total, in) for the layer below, or, for the bottom
    layer, straight to their norms in `out`.
    """

    def __init__(self, layer: _Layer, schedule: _Schedule, out: np.ndarray | None) -> None:
        self.layer, self.out = layer, out
        width = layer.gates * layer.size
        self.buffer = np.empty((max(schedule.n, _GATHER_FLOATS // 8 // width), width), np.float32)
        self.used = self.done = 0
        self.result = None
        if out is None:
            self.result = np.empty((schedule.total, layer.w_ih.shape[1]), np.float32)
        self.cells = schedule.cells() if out is not None else None

    def next_block(self, count: int) -> np.ndarray:
        if self.used + count > self.buffer.shape[0]:
            self.flush()
        self.used += count
        return self.buffer[self.used - count : self.used]

    def flush(self) -> None:
        gathered = self.layer.input_part(self.buffer[: self.used])
        span = slice(self.done, self.done + self.used)
        if self.result is not None:
            _matmul(gathered, self.layer.w_ih, out=self.result[span])
        else:
            grads = _matmul(gathered, self.layer.w_ih)  # (used, in): ∂y_t/∂x_s, one row per (t, s)
            rows, steps = (index[span] for index in self.cells)
            # squares summed in float64: in float32 they underflow for gradients below ~1e-19
            self.out[rows, steps] = np.sqrt(np.einsum("ij,ij->i", grads, grads, dtype=np.float64))
        self.done += self.used
        self.used = 0


class _Layer:
    """One layer's share of the reverse pass: its weights, per-step factors from the trace (T, ..., H),
    and the cotangent of its h for every row (n, H); `dh_active` is rows [first:], the active ones."""

    gates = 1  # G: work rows are (G*H,) pre-activation cotangents

    def __init__(self, module: nn.RNNBase, trace: Trace, layer: int, n: int) -> None:
        self.w_ih = _weight(module, "weight_ih", layer)  # (G*H, in)
        self.w_hh = _weight(module, "weight_hh", layer)  # (G*H, H)
        self.bias_hh = _weight(module, "bias_hh", layer)  # (G*H,) or None
        self.size = self.w_hh.shape[1]
        self.dh = np.zeros((n, self.size), np.float32)
        self.hidden = _array(trace, "hidden", layer)  # (T, H)
        self.previous = _previous(self.hidden, trace, "initial_hidden", layer)  # h' (T, H)

    def activate(self, first: int) -> None:
        """Rows [first:] are active from now on (views made when a row joins, not at every step)."""
        self.dh_active = self.dh[first:]

    def backward(self, s: int, work: np.ndarray) -> None:
        """work (B, G*H) = the active rows' cotangents of the pre-activations at step s."""
        raise NotImplementedError

    def carry(self, s: int, work: np.ndarray) -> None:
        """dh of the active rows becomes the cotangent of h' (step s - 1)."""
        _matmul(work, self.w_hh, out=self.dh_active)

    def input_part(self, work: np.ndarray) -> np.ndarray:
        """The columns of work rows that meet W_ih (all but GRU's W_hn h' part)."""
        return work


class _RNNLayer(_Layer):
    def __init__(self, module: nn.RNNBase, trace: Trace, layer: int, n: int) -> None:
        super().__init__(module, trace, layer, n)
        # autograd's rules: tanh' = 1 - h*h; relu passes the cotangent unless h <= 0 (NaN passes)
        self.relu = module.mode == "RNN_RELU"
        self.factor = self.hidden <= 0 if self.relu else 1 - self.hidden * self.hidden

    def backward(self, s: int, work: np.ndarray) -> None:
        if self.relu:
            np.copyto(work, self.dh_active)
            np.copyto(work, 0.0, where=self.factor[s])
        else:
            np.multiply(self.dh_active, self.factor[s], out=work)


class _GRULayer(_Layer):
    gates = 4  # work rows are (n, r, z, hn): W_ih meets the first 3H (its rows reordered so), W_hh the last

    def __init__(self, module: nn.RNNBase, trace: Trace, layer: int, n: int) -> None:
        super().__init__(module, trace, layer, n)
        size = self.size
        r, z, n_ = (_array(trace, name, layer) for name in ("reset_gate", "update_gate", "candidate"))
        hn = _matmul(self.previous, self.w_hh[2 * size :].T)  # W_hn h' + b_hn (T, H): not in the trace
        if self.bias_hh is not None:
            hn += self.bias_hh[2 * size :]
        dn = (1 - z) * (1 - n_ * n_)  # ∂h/∂(pre-activation of n)
        dr = dn * hn * r * (1 - r)
        dz = (self.previous - n_) * z * (1 - z)
        self.factors = np.stack([dn, dr, dz, dn * r], axis=1)  # (T, 4, H) in the work rows' order
        self.update = z
        self.w_ih = np.concatenate([self.w_ih[2 * size :], self.w_ih[: 2 * size]])  # rows (n, r, z)
        self.scratch = np.empty_like(self.dh)

    def backward(self, s: int, work: np.ndarray) -> None:
        np.multiply(self.dh_active[:, None], self.factors[s], out=work.reshape(-1, 4, self.size))

    def carry(self, s: int, work: np.ndarray) -> None:
        # h' reaches h directly through z * h' as well as through the gates
        scratch = self.scratch[: work.shape[0]]
        _matmul(work[:, self.size :], self.w_hh, out=scratch)
        self.dh_active *= self.update[s]
        self.dh_active += scratch

    def input_part(self, work: np.ndarray) -> np.ndarray:
        return work[:, : 3 * self.size]


class _LSTMLayer(_Layer):
    gates = 4

    def __init__(self, module: nn.RNNBase, trace: Trace, layer: int, n: int) -> None:
        super().__init__(module, trace, layer, n)
        names = ("input_gate", "forget_gate", "candidate", "output_gate", "cell")
        i, f, g, o, c = (_array(trace, name, layer) for name in names)
        previous_cell = _previous(c, trace, "initial_cell", layer)
        tanh_c = np.tanh(c)
        self.to_cell = o * (1 - tanh_c * tanh_c)  # ∂h/∂c
        # ∂c/∂(pre-activations of i, f, g), and ∂h/∂(pre-activation of o)
        self.from_cell = np.stack([g * i * (1 - i), previous_cell * f * (1 - f), i * (1 - g * g)], axis=1)
        self.from_hidden = tanh_c * o * (1 - o)
        self.forget = f
        self.dc = np.zeros_like(self.dh)  # the cotangent of c, carried like dh's
        self.scratch = np.empty_like(self.dh)

    def activate(self, first: int) -> None:
        super().activate(first)
        self.dc_active, self.scratch_active = self.dc[first:], self.scratch[first:]

    def backward(self, s: int, work: np.ndarray) -> None:
        dh, dc, size = self.dh_active, self.dc_active, self.size
        dc += np.multiply(dh, self.to_cell[s], out=self.scratch_active)  # carried from s + 1, and via h
        np.multiply(dc[:, None], self.from_cell[s], out=work.reshape(-1, 4, size)[:, :3])
        np.multiply(dh, self.from_hidden[s], out=work[:, 3 * size :])
        dc *= self.forget[s]  # now the cotangent of c'


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a @ b (into `out`) by torch, on torch's threads: numpy's OpenBLAS keeps a second pool of threads,
    and waking it (after a pause, or while torch's spin after a trace) made a single row ~5x slower."""
    result = torch.mm(
        torch.from_numpy(a), torch.from_numpy(b), out=None if out is None else torch.from_numpy(out)
    )
    return result.numpy()


def _weight(module: nn.RNNBase, name: str, layer: int) -> np.ndarray | None:
    param = getattr(module, f"{name}_l{layer}", None)
    return None if param is None else param.detach().numpy()


def _array(trace: Trace, name: str, layer: int) -> np.ndarray:
    """trace[name][:, layer, 0] (T, H) as a contiguous float32 array."""
    return np.ascontiguousarray(trace[name][:, layer, 0], dtype=np.float32)


def _previous(values: np.ndarray, trace: Trace, initial: str, layer: int) -> np.ndarray:
    """values (T, H) shifted one step later: row s is step s - 1's, row 0 the initial state (zeros when
    the trace has none)."""
    start = np.zeros_like(values[:1])
    if initial in trace:
        start = np.asarray(trace[initial][layer, 0], dtype=np.float32)[None]
    return np.concatenate([start, values[:-1]])
