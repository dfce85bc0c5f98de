"""Traces of torch's recurrent modules (nn.RNN, nn.GRU, nn.LSTM) without a Python loop over cells.

How: the hidden sequence of each layer comes from torch's own fused forward, run one layer at a time
with that layer's weights (the same kernel the module runs, so it equals the module's output). Every
gate at step t depends only on x_t and h_{t-1}, and both are then known for all t, so the gates of a
layer come from one batched matrix product over all steps. A float32 LSTM on the CPU skips those
products: its kernel runs in training mode, which records the gates as it goes (onednn_lstm.py; the
hidden states then differ from the inference-mode output by rounding, ~1e-6). The LSTM cell is
the elementwise recurrence c_t = f_t * c_{t-1} + i_t * g_t, run in numpy for all layers of a direction
at once (scan.py).

Every array is (T, L, D, H): time first, then layer, direction (1 = backward, aligned with time as in
torch's output) and unit. With an LSTM `proj_size` P > 0, `hidden` is (T, L, D, P).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn
from torch import _VF

from seqviz.core import onednn_lstm
from seqviz.core.scan import linear_scan
from seqviz.core.trace import Trace

_LSTM_GATE_ROWS = onednn_lstm.GATE_ROWS  # the LSTM's gate arrays in the order of torch's weight rows

_FUSED_FORWARD = {"LSTM": _VF.lstm, "GRU": _VF.gru, "RNN_TANH": _VF.rnn_tanh, "RNN_RELU": _VF.rnn_relu}


@dataclass(frozen=True)
class _Shape:
    """What the trace needs to know about a recurrent module's configuration."""

    mode: str  # torch's: "LSTM", "GRU", "RNN_TANH", "RNN_RELU"
    num_layers: int
    num_directions: int
    hidden_size: int
    proj_size: int
    input_size: int
    bias: bool

    @classmethod
    def of(cls, module: nn.RNNBase) -> _Shape:
        if module.mode not in _FUSED_FORWARD:
            raise TypeError(f"cannot trace a recurrent module of mode {module.mode!r}")
        return cls(
            mode=module.mode,
            num_layers=module.num_layers,
            num_directions=2 if module.bidirectional else 1,
            hidden_size=module.hidden_size,
            proj_size=getattr(module, "proj_size", 0),
            input_size=module.input_size,
            bias=module.bias,
        )

    @property
    def arch(self) -> str:
        return {"LSTM": "lstm", "GRU": "gru"}.get(self.mode, "rnn")

    @property
    def out_size(self) -> int:
        """Width of h: proj_size for a projected LSTM, else hidden_size."""
        return self.proj_size or self.hidden_size

    @property
    def state_rows(self) -> int:
        return self.num_layers * self.num_directions

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"arch": self.arch}
        if self.arch == "rnn":
            meta["nonlinearity"] = "relu" if self.mode == "RNN_RELU" else "tanh"
        meta.update(
            num_layers=self.num_layers,
            num_directions=self.num_directions,
            hidden_size=self.hidden_size,
            input_size=self.input_size,
            causal=self.num_directions == 1,
            bias=self.bias,
        )
        if self.proj_size:
            meta["proj_size"] = self.proj_size
        return meta


def trace_recurrent(
    module: nn.RNNBase,
    inputs: torch.Tensor | np.ndarray,
    initial_state: Any = None,
    tokens: Sequence[str] | None = None,
) -> Trace:
    """Trace `module` over one sequence.

    inputs: (T, input_size) float tensor or numpy array (one unbatched sequence, whatever batch_first).
    initial_state: as torch takes it unbatched: h0 (L*D, H_out), or (h0, c0) for an LSTM with c0
    (L*D, H); zeros when None.
    Returns a Trace of float32 arrays (T, L, D, H): `hidden` for every arch; LSTM `cell`, `input_gate`,
    `forget_gate`, `output_gate`, `candidate` (g); GRU `update_gate` (z), `reset_gate` (r), `candidate` (n).
    Given an initial state, also `initial_hidden` (L, D, H_out) and, for an LSTM, `initial_cell` (L, D, H).
    Dropout between layers is never applied: the trace is what the module computes in eval mode.
    """
    with torch.no_grad():
        run = start_run(module, inputs, initial_state, tokens)
        layer_in = run.x
        for layer in range(run.shape.num_layers):
            layer_in = _trace_layer(module, run.shape, layer, layer_in, run.h0, run.c0, run.arrays)
        if run.shape.arch == "lstm":
            _run_cell_recurrence(run.arrays, run.initial["cell"])
    return run.finish()


@dataclass
class TraceRun:
    """One trace in the making: the checked inputs and the preallocated arrays the layers fill.

    x: (T, input_size) in the module's dtype; h0 (L*D, H_out), c0 (L*D, H) as torch takes them;
    initial: the same as numpy grids (L, D, H); arrays: every array (T, L, D, H), not yet filled.
    """

    shape: _Shape
    x: torch.Tensor
    h0: torch.Tensor
    c0: torch.Tensor
    arrays: dict[str, np.ndarray]
    tokens: list[str] | None
    given_state: bool

    @property
    def initial(self) -> dict[str, np.ndarray]:
        grid = (self.shape.num_layers, self.shape.num_directions, -1)
        state = {"hidden": self.h0, "cell": self.c0} if self.shape.arch == "lstm" else {"hidden": self.h0}
        return {name: v.to("cpu", torch.float32).numpy().reshape(grid) for name, v in state.items()}

    def finish(self) -> Trace:
        """The Trace of the filled arrays (plus the state before step 1, when one was given)."""
        if self.given_state:  # the gates panel's first equation reads it
            self.arrays.update({f"initial_{name}": value for name, value in self.initial.items()})
        return Trace(self.arrays, tokens=self.tokens, meta=self.shape.meta())


def start_run(module: nn.RNNBase, inputs: Any, initial_state: Any, tokens: Sequence[str] | None) -> TraceRun:
    """Check the inputs and the initial state as `trace_recurrent` takes them; allocate the arrays."""
    shape = _Shape.of(module)
    weight = module.weight_ih_l0
    x = _check_inputs(inputs, shape, weight)
    steps = x.shape[0]
    if tokens is not None and len(tokens) != steps:
        raise ValueError(f"got {len(tokens)} tokens for {steps} steps; give one token per step")
    h0, c0 = _check_initial_state(initial_state, shape, weight)
    labels = None if tokens is None else [str(t) for t in tokens]
    return TraceRun(shape, x, h0, c0, _allocate(shape, steps), labels, initial_state is not None)


# Input checks -----------------------------------------------------------------------------------


def _check_inputs(inputs: Any, shape: _Shape, weight: torch.Tensor) -> torch.Tensor:
    """-> (T, input_size) in the module's dtype and device, or a ValueError a person can act on."""
    x = torch.as_tensor(inputs)
    if not x.is_floating_point():
        raise ValueError(
            f"inputs must be floating point (T, input_size), got {x.dtype}; token ids need an embedding first"
        )
    if x.ndim != 2:
        hint = " (batched input: trace one sequence at a time)" if x.ndim == 3 else ""
        raise ValueError(
            f"inputs must be (T, input_size={shape.input_size}), got shape {tuple(x.shape)}{hint}"
        )
    if x.shape[1] != shape.input_size:
        raise ValueError(
            f"inputs have {x.shape[1]} features per step but the module's input_size is {shape.input_size}"
        )
    if x.shape[0] == 0:
        raise ValueError("inputs are empty (T=0): trace at least one step")
    return x.to(device=weight.device, dtype=weight.dtype).contiguous()


def _check_initial_state(
    state: Any, shape: _Shape, weight: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """-> h0 (L*D, H_out) and c0 (L*D, H) (c0 is zeros and unused except for an LSTM)."""
    rows, kw = shape.state_rows, {"device": weight.device, "dtype": weight.dtype}
    c0 = torch.zeros(rows, shape.hidden_size, **kw)
    if state is None:
        return torch.zeros(rows, shape.out_size, **kw), c0
    if shape.arch == "lstm":
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError("an LSTM's initial_state is a pair (h0, c0)")
        h0 = _state_tensor(state[0], "h0", (rows, shape.out_size), kw)
        return h0, _state_tensor(state[1], "c0", (rows, shape.hidden_size), kw)
    if isinstance(state, (tuple, list)):
        raise ValueError(f"an {shape.arch.upper()}'s initial_state is one tensor h0, not a pair")
    return _state_tensor(state, "h0", (rows, shape.hidden_size), kw), c0


def _state_tensor(value: Any, name: str, expected: tuple[int, int], kw: dict[str, Any]) -> torch.Tensor:
    tensor = torch.as_tensor(value)
    if tuple(tensor.shape) != expected:
        raise ValueError(
            f"initial state {name} must be (num_layers*num_directions, size) = {expected} for one "
            f"unbatched sequence, got {tuple(tensor.shape)}"
        )
    return tensor.to(**kw).contiguous()


# The computation ---------------------------------------------------------------------------------


def _state_grid(shape: _Shape) -> tuple[int, int, int]:
    return (shape.num_layers, shape.num_directions, shape.hidden_size)


def _allocate(shape: _Shape, steps: int) -> dict[str, np.ndarray]:
    """Every array once, preallocated: the layers write straight into them."""
    grid = (steps, *_state_grid(shape))
    arrays = {"hidden": np.empty((steps, shape.num_layers, shape.num_directions, shape.out_size), np.float32)}
    if shape.arch == "lstm":
        names = ("cell", "input_gate", "forget_gate", "output_gate", "candidate")
    elif shape.arch == "gru":
        names = ("update_gate", "reset_gate", "candidate")
    else:
        names = ()
    arrays.update({name: np.empty(grid, np.float32) for name in names})
    return arrays


def _layer_weights(module: nn.RNNBase, layer: int, direction: int) -> dict[str, torch.Tensor | None]:
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
    return {name: getattr(module, name + suffix, None) for name in names}


def _trace_layer(
    module: nn.RNNBase,
    shape: _Shape,
    layer: int,
    layer_in: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor,
    arrays: dict[str, np.ndarray],
) -> torch.Tensor:
    """Fill layer `layer` of every array; layer_in (T, in) -> this layer's output (T, D*H_out)."""
    rows = slice(layer * shape.num_directions, (layer + 1) * shape.num_directions)
    weights = [_layer_weights(module, layer, d) for d in range(shape.num_directions)]
    dests = [
        {name: torch.from_numpy(a)[:, layer, direction] for name, a in arrays.items()}
        for direction in range(shape.num_directions)
    ]
    steps = layer_in.shape[0]
    out = None
    if shape.arch == "lstm":  # the kernel's own gates when it can record them: no products to redo
        out = onednn_lstm.trace_lstm_layer(layer_in, weights, h0[rows], c0[rows], dests)
    if out is None:
        out = _fused_layer_forward(shape, layer_in, weights, h0[rows], c0[rows])
        gates = {"lstm": _lstm_gates, "gru": _gru_gates}.get(shape.arch)  # a plain RNN has none
        for direction, (w, dest) in enumerate(zip(weights, dests, strict=True)):
            h_seq = out[:, direction * shape.out_size : (direction + 1) * shape.out_size]  # (T, H_out)
            if gates is not None:
                gates(layer_in, h_seq, h0[rows][direction], w, direction == 1, dest)
    hidden = torch.from_numpy(arrays["hidden"])[:, layer]  # (T, D, H_out), a view
    hidden.copy_(out.view(steps, shape.num_directions, shape.out_size))
    return out


def _fused_layer_forward(
    shape: _Shape,
    layer_in: torch.Tensor,
    weights: list[dict[str, torch.Tensor | None]],
    h0: torch.Tensor,
    c0: torch.Tensor,
) -> torch.Tensor:
    """One layer through torch's fused kernel: (T, in) -> (T, D*H_out), as the module computes it."""
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if shape.bias else [])
    names += ["weight_hr"] if shape.proj_size else []
    params = [w[name] for w in weights for name in names]
    batch = layer_in.unsqueeze(1)  # (T, 1, in): the kernels want a batch dimension
    hx: Any = h0.unsqueeze(1)  # (D, 1, H_out)
    if shape.mode == "LSTM":
        hx = (hx, c0.unsqueeze(1))
    bidirectional = shape.num_directions == 2
    with _quiet_projection_warning() if shape.proj_size else contextlib.nullcontext():
        result = _FUSED_FORWARD[shape.mode](
            batch, hx, params, shape.bias, 1, 0.0, False, bidirectional, False
        )
    return result[0].squeeze(1)


@contextlib.contextmanager
def _quiet_projection_warning() -> Iterator[None]:
    # torch says so on every projected LSTM forward, the module's own included; nothing to act on.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")
        yield


def _previous_state_product(
    h_seq: torch.Tensor, h0: torch.Tensor, w_hh: torch.Tensor, reverse: bool, into: torch.Tensor
) -> None:
    """into (T, G*H) += h_{t-1} @ w_hh^T for every t, where h_{t-1} of the first step processed is h0.

    h_seq (T, H_out) is the layer's output; the backward direction's previous step is t+1.
    """
    if reverse:
        into[:-1].addmm_(h_seq[1:], w_hh.t())
        into[-1:].addmm_(h0.unsqueeze(0), w_hh.t())
    else:
        into[1:].addmm_(h_seq[:-1], w_hh.t())
        into[:1].addmm_(h0.unsqueeze(0), w_hh.t())


def _input_product(x: torch.Tensor, w_ih: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x (T, in) @ w_ih^T + bias -> (T, G*H), a fresh contiguous buffer."""
    if bias is None:
        return x @ w_ih.t()
    return torch.addmm(bias, x, w_ih.t())


def _store(dest: torch.Tensor, value: torch.Tensor, activation: Any = None) -> None:
    """dest (a strided view of a float32 numpy array) = activation(value), in one pass when possible."""
    if activation is None:
        dest.copy_(value)
    elif dest.device == value.device and dest.dtype == value.dtype:
        activation(value, out=dest)
    else:
        dest.copy_(activation(value))


def _lstm_gates(
    x: torch.Tensor,
    h_seq: torch.Tensor,
    h0: torch.Tensor,
    w: dict[str, torch.Tensor | None],
    reverse: bool,
    dest: dict[str, torch.Tensor],
) -> None:
    """i, f, g, o of one layer and direction over all steps: one product with x, one with h_{t-1}."""
    bias = None if w["bias_ih"] is None else w["bias_ih"] + w["bias_hh"]
    pre = _input_product(x, w["weight_ih"], bias)  # (T, 4H): rows i, f, g, o
    _previous_state_product(h_seq, h0, w["weight_hh"], reverse, pre)
    size = pre.shape[1] // 4
    for k, name in enumerate(_LSTM_GATE_ROWS):
        activation = torch.tanh if name == "candidate" else torch.sigmoid
        _store(dest[name], pre[:, k * size : (k + 1) * size], activation)


def _gru_gates(
    x: torch.Tensor,
    h_seq: torch.Tensor,
    h0: torch.Tensor,
    w: dict[str, torch.Tensor | None],
    reverse: bool,
    dest: dict[str, torch.Tensor],
) -> None:
    """r, z, n of one layer and direction: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""
    from_input = _input_product(x, w["weight_ih"], w["bias_ih"])  # (T, 3H): rows r, z, n
    from_state = (
        torch.zeros_like(from_input) if w["bias_hh"] is None else w["bias_hh"].expand_as(from_input).clone()
    )
    _previous_state_product(h_seq, h0, w["weight_hh"], reverse, from_state)
    size = from_input.shape[1] // 3
    gates = from_input[:, : 2 * size].add_(from_state[:, : 2 * size]).sigmoid_()  # (T, 2H): r, z
    reset = gates[:, :size]
    candidate = from_input[:, 2 * size :].addcmul_(reset, from_state[:, 2 * size :])
    _store(dest["reset_gate"], reset)
    _store(dest["update_gate"], gates[:, size:])
    _store(dest["candidate"], candidate, torch.tanh)


def _run_cell_recurrence(arrays: dict[str, np.ndarray], c0: np.ndarray) -> None:
    """cell[t] = f_t * cell[t-1] + i_t * g_t for all layers and directions; c0 is (L, D, H).

    The backward direction runs from the last step to the first.
    """
    cell, forget = arrays["cell"], arrays["forget_gate"]
    np.multiply(arrays["input_gate"], arrays["candidate"], out=cell)  # the i*g term, in one op
    for direction in range(cell.shape[2]):
        order = slice(None, None, -1) if direction else slice(None)
        linear_scan(cell[order, :, direction], forget[order, :, direction], c0[:, direction])
