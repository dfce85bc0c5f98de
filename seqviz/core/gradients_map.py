"""The input-gradient map of one traced input (docs: seqviz.core.gradients), computed row by row.

`open_input_gradients(model, trace, inputs, options)` picks the computation: unidirectional recurrent
stacks (bare, or inside a seqviz model) take the reverse pass over the trace's gates
(gradients_recurrent.py), every other model one autograd backward pass per row (gradients_autograd.py).
It also defines y_t's cotangent: ∂y_t/∂logits_t for a head, ∂‖h_t‖/∂h_t for a bare module.

The adapters call `with_input_gradients` for `trace(..., gradients=True)`; for bare modules `inputs`
are the vectors the module read (text already turned into them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from seqviz.core.model_interface import SequenceModel
from seqviz.core.trace import Trace

ARRAY = "input_gradient_norm"
LOG_PROB = "log p(prediction)"
TOP_LAYER_NORM = "‖h_t‖ of the top layer"
MODULE_OUTPUT_NORM = "‖h_t‖ of the module's output"


class InputGradients:
    """The gradient map of one traced input, computed row by row on request.

    rows: (T,) output steps; cols: (S,) input positions. `target` says what y_t is; `causal` whether
    entries with s > t are zero by construction.
    """

    def __init__(self, source: Any, num_rows: int, num_cols: int, target: str, causal: bool) -> None:
        self._source = source  # .rows(sorted distinct rows (n,)) -> (n, S)
        self.num_rows, self.num_cols = num_rows, num_cols
        self.target, self.causal = target, causal

    def rows(self, rows: Sequence[int]) -> np.ndarray:
        """(len(rows), S) float32, rows in the order asked (repeats allowed)."""
        wanted = np.asarray(rows, dtype=np.int64).reshape(-1)
        if wanted.size and (wanted.min() < 0 or wanted.max() >= self.num_rows):
            raise IndexError(f"rows must be output steps 0..{self.num_rows - 1}, got {wanted.tolist()}")
        distinct, back = np.unique(wanted, return_inverse=True)
        values = self._source.rows(distinct) if distinct.size else np.zeros((0, self.num_cols), np.float32)
        if self.causal:  # s > t never reaches y_t: zero by definition, whatever the arithmetic gave
            values[np.arange(self.num_cols)[None, :] > distinct[:, None]] = 0.0
        return np.ascontiguousarray(values[back], dtype=np.float32)

    def full(self) -> np.ndarray:
        """The whole map (T, S) float32."""
        return self.rows(range(self.num_rows))


def with_input_gradients(model: SequenceModel, trace: Trace, inputs: Any, options: dict) -> Trace:
    """`trace` plus `input_gradient_norm` and `meta.gradient_target` (the adapters' `gradients=True`)."""
    grads = open_input_gradients(model, trace, inputs, options)
    meta = trace.meta.replace(gradient_target=grads.target)
    return Trace({**trace, ARRAY: grads.full()}, trace.tokens, meta, trace.source_tokens)


# Choosing the computation ------------------------------------------------------------------------
def open_input_gradients(model: SequenceModel, trace: Trace, inputs: Any, options: dict) -> InputGradients:
    """The map of `trace`, which `model` made from `inputs` (a bare module's: the vectors it read) with
    `options` (edits, initial state, masks and memory are used again here)."""
    from seqviz.core.edits import apply_edits, split_edits
    from seqviz.core.seqmodel import TokenModel
    from seqviz.core.transformer_trace import is_transformer

    own = model.gradient_map(trace, options)  # a model that differentiates itself (Hugging Face)
    if own is not None:
        return own
    module = apply_edits(model.module, options.get("edits"))  # the weight-edited copy the trace ran
    # States set while running (ClampGate, ...): autograd through the edited forward, where they are
    # constants; the reverse pass over the trace's gates would differentiate through them.
    values = split_edits(options.get("edits"))[1]
    steps = trace.num_steps
    if isinstance(module, TokenModel):
        source, target = _token_model_source(module, trace, inputs, options, values), LOG_PROB
    elif isinstance(module, torch.nn.RNNBase):
        source, target = _bare_recurrent_source(module, trace, inputs, options, values), TOP_LAYER_NORM
    elif is_transformer(module):
        source, target = _bare_transformer_source(module, inputs, options), MODULE_OUTPUT_NORM
    else:
        raise TypeError(f"seqviz has no input gradients for a {type(module).__name__}")
    seq2seq = trace.meta.kind == "encoder-decoder"
    cols = len(trace.meta.source_ids) if seq2seq else steps
    return InputGradients(source, steps, cols, target, causal=trace.meta.causal and not seq2seq)


def _token_model_source(module: Any, trace: Trace, inputs: Any, options: dict, values: list) -> Any:
    from seqviz.core import gradients_recurrent
    from seqviz.core.gradients_autograd import token_model_run
    from seqviz.core.seqmodel import RecurrentNet
    from seqviz.core.top_outputs import predictions

    predicted = predictions(trace)  # the prediction shown at each step (argmax of probs, or top_ids[:, 0])
    backbone = module.backbone
    if isinstance(backbone, RecurrentNet) and gradients_recurrent.supports(backbone.rnn) and not values:
        top = trace["hidden"][:, -1, 0]  # (T, H): what the head read
        return _ReversePass(backbone.rnn, trace, _HeadSeeds(backbone.head, top, predicted))
    cotangent = lambda z: log_prob_cotangent(z, predicted)  # noqa: E731
    return token_model_run(module, trace, inputs, {**options, "edits": values}, cotangent)


def _bare_recurrent_source(
    module: torch.nn.RNNBase, trace: Trace, inputs: Any, options: dict, values: list
) -> Any:
    from seqviz.core import gradients_recurrent
    from seqviz.core.gradients_autograd import module_run, recurrent_call
    from seqviz.core.recurrent import _check_inputs, _Shape

    if gradients_recurrent.supports(module) and not values:
        top = torch.from_numpy(np.ascontiguousarray(trace["hidden"][:, -1, 0]))  # (T, H)
        return _ReversePass(module, trace, norm_cotangent(top).numpy())
    x = _check_inputs(inputs, _Shape.of(module), module.weight_ih_l0)  # (T, in), as the trace read it
    call = recurrent_call(module, options.get("initial_state"), values)
    return module_run(module, x, call, norm_cotangent)


def _bare_transformer_source(module: Any, inputs: Any, options: dict) -> Any:
    from seqviz.core.gradients_autograd import module_run, transformer_call

    kw = {name: options.get(name) for name in ("mask", "memory", "memory_mask")}
    x, call = transformer_call(module, inputs, **kw)
    return module_run(module, x, call, norm_cotangent)


class _ReversePass:
    """Rows by the recurrent fast path from seeds ∂y_t/∂h_t of the top layer: an array (T, H), or a
    function of the rows asked for (a head's, `_HeadSeeds`)."""

    def __init__(self, module: torch.nn.RNNBase, trace: Trace, seeds: Any) -> None:
        self.module, self.trace, self.seeds = module, trace, seeds

    def rows(self, rows: np.ndarray) -> np.ndarray:
        from seqviz.core.gradients_recurrent import reverse_pass_rows

        seeds = self.seeds(rows) if callable(self.seeds) else self.seeds[rows]
        return reverse_pass_rows(self.module, self.trace, rows, seeds)


class _HeadSeeds:
    """∂y_t/∂h_t (H,) through a linear head for the steps asked for (`head_seeds`): with a large
    vocabulary the (T, V) float64 logits and cotangents (33k words at T = 1,000: 266 MB each) never
    exist, and the map's first row (the step on screen) needs one row of them, not T."""

    def __init__(self, head: torch.nn.Linear, top: np.ndarray, predicted: np.ndarray) -> None:
        self.head, self.top, self.predicted = head, top, np.asarray(predicted)  # top (T, H)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        weight = self.head.weight.detach().double()  # (V, H): float64 while asked, not kept
        bias = self.head.bias.detach().double() if self.head.bias is not None else 0.0

        def logits_of(chosen: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(self.top[chosen]).double() @ weight.T + bias  # (B, V)

        return head_seeds(weight, logits_of, np.asarray(rows), self.predicted).float().numpy()


def head_seeds(
    weight: torch.Tensor, logits_of: Callable[[np.ndarray], torch.Tensor], rows: np.ndarray, predicted: Any
) -> torch.Tensor:
    """(len(rows), H) in weight's dtype: ∂y_t/∂u_t for the input u_t of a linear output head
    (logits_t = W u_t + b, plus any constant), = ∂y_t/∂logits_t · W (V, H), for t in `rows`.
    `logits_of(chosen)` gives those rows' logits (n, V); a block of rows at a time
    (top_outputs.BLOCK_VALUES), so neither the (T, V) cotangents nor a backward pass through a
    (T, V) seed (GPT-2 at T = 1,000: 38 GFLOP a row) are ever needed."""
    from seqviz.core.top_outputs import BLOCK_VALUES

    predicted = np.asarray(predicted)
    out = torch.empty((len(rows), weight.shape[1]), dtype=weight.dtype, device=weight.device)
    block = max(1, BLOCK_VALUES // weight.shape[0])
    for start in range(0, len(rows), block):
        chosen = rows[start : start + block]
        cotangent = log_prob_cotangent(logits_of(chosen), predicted[chosen])  # ∂y_t/∂logits_t
        out[start : start + len(chosen)] = cotangent.to(weight.dtype) @ weight
    return out


# y_t and its cotangent ---------------------------------------------------------------------------
def log_prob_cotangent(logits: torch.Tensor, predicted: np.ndarray) -> torch.Tensor:
    """∂ log softmax(z_t)[k_t] / ∂z_t for logits z (T, K) and predictions k (T,) -> (T, K), in
    logits' dtype.

    Written as -p_j (j ≠ k) and Σ_{j≠k} p_j (j = k), in float64: the textbook onehot(k) - p cancels
    to nothing in float32 once the model is sure (p_k ≈ 1), which trained models often are.
    """
    z = logits.detach().double()
    k = torch.as_tensor(np.asarray(predicted), dtype=torch.long, device=z.device).reshape(-1, 1)
    others = torch.exp(z - z.gather(1, k)).scatter_(1, k, 0.0)  # exp(z_j - z_k), 0 at j = k
    rest = others.sum(dim=1, keepdim=True)  # Σ_{j≠k} p_j / p_k
    grad = (-others / (1 + rest)).scatter_(1, k, rest / (1 + rest))
    return grad.to(logits.dtype)


def norm_cotangent(h: torch.Tensor) -> torch.Tensor:
    """∂‖h_t‖₂/∂h_t for h (T, W), as torch's norm backward has it: h / ‖h‖, and 0 where ‖h‖ = 0.
    The norm in float64, where a tiny h's squares do not underflow."""
    norm = torch.linalg.vector_norm(h, dim=-1, keepdim=True, dtype=torch.float64)
    return (h * (1 / norm).masked_fill(norm == 0, 0.0)).to(h.dtype)
