"""One LSTM layer through torch's own oneDNN kernel in training mode, which records every gate as it runs.

Why: torch runs a float32 nn.LSTM on the CPU with oneDNN (`aten::mkldnn_rnn_layer`, one call per layer
and direction). In training mode the kernel keeps what a backward pass would need in a workspace, the
activated gates of every step among it, so one pass yields the hidden states *and* i, f, g, o for about
what the module's own forward costs. Recomputing the gates from the hidden states instead takes two
more matrix products per layer, about 0.55x the forward on its own, which a 1.5x budget cannot hold.

The workspace layout is oneDNN's, not part of torch's API: the gates come first, one row of 4H floats
(i, f, g, o) per step in the order the kernel ran them (backwards for the reverse direction), rows
padded to `_gate_row_stride(4H)` floats. So every layer checks two of its rows against the gates
computed from the weights; when they disagree (another oneDNN version, say), or the kernel is not
there, the functions here return None and the caller computes the gates itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

GATE_ROWS = ("input_gate", "forget_gate", "candidate", "output_gate")  # torch's and oneDNN's order

_LSTM_KIND = 2  # ideep's rnn_kind for an LSTM, as torch passes it
# The workspace holds about 16 floats per unit and step; running long sequences in chunks of this
# many steps (the state carried across) bounds it to ~64 MB at H=1024 instead of growing with T.
_CHUNK_STEPS = 1024
_LAYOUT_TOLERANCE = 1e-3  # a wrong layout is off by ~0.1 or more; rounding differs by ~1e-6

Weights = dict[str, "torch.Tensor | None"]


def kernel_available(x: torch.Tensor, weights: list[Weights]) -> bool:
    """True when torch would run this layer with oneDNN: float32 on the CPU, no projection."""
    return (
        hasattr(torch.ops.aten, "mkldnn_rnn_layer")
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
        and x.dtype == torch.float32
        and x.device.type == "cpu"
        and all(w.get("weight_hr") is None for w in weights)
    )


def trace_lstm_layer(
    x: torch.Tensor,
    weights: list[Weights],
    h0: torch.Tensor,
    c0: torch.Tensor,
    dests: list[dict[str, torch.Tensor]],
) -> torch.Tensor | None:
    """Run one layer, all its directions; write each direction's gates into its `dests` views.

    x: (T, in); weights, dests: one per direction (dests map gate names to (T, H) views);
    h0, c0: (D, H). -> the layer's output (T, D*H), or None if the kernel's gates can't be had.
    """
    if not kernel_available(x, weights):
        return None
    outputs = []
    for direction, (w, dest) in enumerate(zip(weights, dests, strict=True)):
        out = _trace_direction(x, w, h0[direction], c0[direction], direction == 1, dest)
        if out is None:
            return None
        outputs.append(out)
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)


def _chunks(steps: int, reverse: bool) -> Iterator[slice]:
    """Consecutive spans of at most _CHUNK_STEPS steps, in the order the direction runs them."""
    starts = range(0, steps, _CHUNK_STEPS)
    for start in reversed(starts) if reverse else starts:
        yield slice(start, min(start + _CHUNK_STEPS, steps))


def _trace_direction(
    x: torch.Tensor,
    w: Weights,
    h: torch.Tensor,
    c: torch.Tensor,
    reverse: bool,
    dest: dict[str, torch.Tensor],
    check: bool = True,
) -> torch.Tensor | None:
    """(T, H) hidden states of one direction, its gates written into `dest`; None on a layout mismatch
    (checked on the first chunk; `check=False` when a call of the same hidden size has been)."""
    size = w["weight_hh"].shape[1]
    out = torch.empty(x.shape[0], size, dtype=x.dtype)
    params = _kernel_params(w)
    for k, span in enumerate(_chunks(x.shape[0], reverse)):
        h_in = h
        hidden, h, c, gates = _run_kernel(x[span], params, h, c, reverse)
        if gates is None:
            return None
        if k == 0 and check and not _gates_agree(gates, x[span], hidden, h_in, w, reverse):
            return None
        out[span] = hidden
        for row, name in enumerate(GATE_ROWS):
            dest[name][span] = gates[:, row * size : (row + 1) * size]
    return out


def _kernel_params(w: Weights) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, bool]:
    """The kernel's (w_ih, w_hh, b_ih, b_hh, has_bias), made once per direction, not per chunk."""
    w_ih, w_hh = w["weight_ih"].detach(), w["weight_hh"].detach()
    if w["bias_ih"] is None:  # torch passes zeros shaped like the weights (unused); so do we
        return w_ih, w_hh, torch.zeros_like(w_ih), torch.zeros_like(w_hh), False
    return w_ih, w_hh, w["bias_ih"].detach(), w["bias_hh"].detach(), True


def _run_kernel(
    x: torch.Tensor, params: tuple, h: torch.Tensor, c: torch.Tensor, reverse: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """-> hidden (n, H), last h (H,), last c (H,), gates (n, 4H) in time order (a workspace view) or None."""
    *weights, has_bias = params
    size, steps = weights[1].shape[1], x.shape[0]
    try:
        with torch.enable_grad():  # the kernel fills its workspace only when autograd could want it
            hidden, h_last, c_last, workspace = torch.ops.aten.mkldnn_rnn_layer(
                x.unsqueeze(1), *weights, h.view(1, size), c.view(1, size),
                reverse, [], _LSTM_KIND, size, 1, has_bias, False, False, True,
            )  # fmt: skip
    except RuntimeError:
        return torch.empty(0), h, c, None
    stride = _gate_row_stride(4 * size)
    if workspace is None or workspace.numel() < 4 * ((steps - 1) * stride + 4 * size):
        return hidden, h, c, None
    gates = workspace.view(torch.float32).as_strided((steps, 4 * size), (stride, 1))
    return hidden.view(steps, size), h_last.view(size), c_last.view(size), gates.flip(0) if reverse else gates


def _gate_row_stride(width: int) -> int:
    """oneDNN's leading dimension for `width` floats: a multiple of 16, but never of 256 (cache aliasing)."""
    stride = -(-width // 16) * 16
    return stride + 16 if stride % 256 == 0 else stride


def _gates_agree(
    gates: torch.Tensor, x: torch.Tensor, hidden: torch.Tensor, h_in: torch.Tensor, w: Weights, reverse: bool
) -> bool:
    """Do the recorded gates of the span's first and last step equal the gates the weights give?"""
    rows = [0, x.shape[0] - 1]
    previous = torch.stack([_previous_hidden(hidden, h_in, row, reverse) for row in rows])
    pre = x[rows] @ w["weight_ih"].t() + previous @ w["weight_hh"].t()
    if w["bias_ih"] is not None:
        pre += w["bias_ih"] + w["bias_hh"]
    size = pre.shape[1] // 4
    expected = pre.sigmoid()
    expected[:, 2 * size : 3 * size] = pre[:, 2 * size : 3 * size].tanh()  # g; i, f and o are sigmoids
    return bool(torch.allclose(gates[rows], expected, rtol=0.0, atol=_LAYOUT_TOLERANCE))


def _previous_hidden(hidden: torch.Tensor, h_in: torch.Tensor, row: int, reverse: bool) -> torch.Tensor:
    """h_{t-1} as the direction sees it at `row` of the span: its neighbour, or h_in at the span's edge."""
    neighbour = row + 1 if reverse else row - 1
    return hidden[neighbour] if 0 <= neighbour < hidden.shape[0] else h_in
