"""Rows of the input-gradient map by torch.autograd, for every model the recurrent fast path does not
take: bidirectional stacks, torch's Transformer modules, the project's Transformers and seq2seq models.

Each model kind gives a `DifferentiableRun`: the input vectors x (a leaf tensor), the outputs y_t is
read from, and the cotangents ∂y_t/∂outputs_t. The forward is the module's own (its `forward`, or
for token models the module's own `forward` with the embedding's output swapped for a leaf tensor of
the same values), so the gradients are of exactly the maths the module runs. Row t is then one
backward pass, with cotangent ∂y_t/∂outputs_t on row t only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from seqviz.core.inference import eval_mode
from seqviz.core.trace import Trace


@dataclass
class DifferentiableRun:
    """One forward pass with autograd on, from the input vectors."""

    x: torch.Tensor  # (..., S, E) leaf: the input vector of each of the S positions
    outputs: torch.Tensor  # (T, W): what y_t is read from (logits, or the top layer's h)
    cotangents: torch.Tensor  # (T, W): ∂y_t/∂outputs_t, in the outputs' dtype

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), S) float32: ‖∂y_t/∂x_s‖₂ for t in rows, one backward pass each."""
        out = np.empty((len(rows), self.x.shape[-2]), np.float32)
        for k, t in enumerate(rows.tolist()):
            seed = torch.zeros_like(self.outputs)
            seed[t] = self.cotangents[t]
            (grad,) = torch.autograd.grad(self.outputs, self.x, seed, retain_graph=True)
            # squares summed in float64: in float32 they underflow for gradients below ~1e-19
            norms = torch.linalg.vector_norm(grad, dim=-1, dtype=torch.float64)
            out[k] = norms.reshape(-1).float().numpy()
        return out


def module_run(module: nn.Module, x: torch.Tensor, call: Any, cotangent: Any) -> DifferentiableRun:
    """Run `call(leaf)` (the module's forward on x (S, E) as a leaf) in eval mode with autograd on;
    `cotangent(outputs)` gives ∂y_t/∂outputs_t."""
    leaf = x.detach().clone().requires_grad_()
    with torch.enable_grad(), eval_mode(module):
        outputs = call(leaf)
    return DifferentiableRun(leaf, outputs, cotangent(outputs.detach()))


def recurrent_call(module: nn.RNNBase, initial_state: Any, edits: Any = ()) -> Any:
    """x (T, in) -> the stack's output (T, D*H_out): every direction of the top layer, concatenated.
    With value edits (ClampGate, ...), the edited computation (seqviz.core.recurrent_edits)."""
    from seqviz.core.recurrent import _check_initial_state, _Shape

    if edits:
        from seqviz.core.recurrent_edits import edited_stack_output

        return lambda x: edited_stack_output(module, x, initial_state, edits)
    weight = module.weight_ih_l0
    h0, c0 = _check_initial_state(initial_state, _Shape.of(module), weight)  # the trace's own checks
    state = (h0, c0) if module.mode == "LSTM" else h0
    return lambda x: module(x, state)[0]


def transformer_call(module: nn.Module, inputs: Any, mask: Any, memory: Any, memory_mask: Any) -> tuple:
    """(x (T, d), call): the module's forward on x, with the masks and memory (held fixed) as the trace
    read them; the output is what the module returns (T, d), after a stack's final norm."""
    from seqviz.core.transformer_trace import _checked_inputs, _layers_and_norm

    layers, _ = _layers_and_norm(module)
    x, self_mask, mem, cross_mask = _checked_inputs(module, layers[0], inputs, mask, memory, memory_mask)
    if isinstance(module, nn.TransformerEncoderLayer):
        return x, lambda leaf: module(leaf, src_mask=self_mask)
    if isinstance(module, nn.TransformerEncoder):
        return x, lambda leaf: module(leaf, mask=self_mask)
    return x, lambda leaf: module(leaf, mem, tgt_mask=self_mask, memory_mask=cross_mask)


def token_model_run(
    model: Any, trace: Trace, inputs: Any, options: dict, cotangent: Any
) -> DifferentiableRun:
    """A seqviz TokenModel from its (source) token embeddings: logits (T, K) as its head gives them.

    Recurrent backbones run embedding -> stack -> head as their trace does (with `initial_state`);
    the others run their own forward with the embedding's output replaced by a leaf tensor.
    """
    from seqviz.core.bahdanau import BahdanauSeq2Seq
    from seqviz.core.seqmodel import RecurrentNet
    from seqviz.core.transformer import EncoderDecoderTransformer, _SingleStack
    from seqviz.core.word_lm_transformer import ExampleTransformer

    backbone = model.backbone
    if isinstance(backbone, RecurrentNet):
        ids = torch.as_tensor(model.tokenizer.encode(inputs), dtype=torch.long)
        stack = recurrent_call(backbone.rnn, options.get("initial_state"), options.get("edits"))
        with torch.no_grad():
            x = backbone.embedding(ids)  # (T, E)
        return module_run(backbone, x, lambda leaf: backbone.head(stack(leaf)), cotangent)
    meta = trace.meta
    if isinstance(backbone, _SingleStack):
        ids = torch.as_tensor([meta.token_ids], dtype=torch.long)
        return _embedded_run(backbone, backbone.stack.embed.token, ids, lambda: backbone(ids), cotangent)
    if isinstance(backbone, ExampleTransformer):  # PyTorch's word_language_model example
        ids = torch.as_tensor([meta.token_ids], dtype=torch.long)
        return _embedded_run(backbone, backbone.embedding, ids, lambda: backbone(ids), cotangent)
    if isinstance(backbone, EncoderDecoderTransformer | BahdanauSeq2Seq):
        src = torch.as_tensor([meta.source_ids], dtype=torch.long)
        tgt = torch.as_tensor([meta.decoder_input_ids], dtype=torch.long)
        if isinstance(backbone, BahdanauSeq2Seq):  # its decoder's value edits, as the trace ran them
            forward = lambda: backbone(src, tgt, options.get("edits") or ())  # noqa: E731
            return _embedded_run(backbone, backbone.src_embed, src, forward, cotangent)
        embedding = backbone.encoder.embed.token
        return _embedded_run(backbone, embedding, src, lambda: backbone(src, tgt), cotangent)
    raise TypeError(f"seqviz has no input gradients for a {type(backbone).__name__} backbone")


def _embedded_run(
    backbone: nn.Module, embedding: nn.Module, ids: torch.Tensor, forward: Any, cotangent: Any
) -> DifferentiableRun:
    """forward() -> logits (1, T, K), run with `embedding(ids)` as the leaf x (1, S, E)."""
    with _leaf_output(embedding, ids) as leaves, torch.enable_grad(), eval_mode(backbone):
        logits = forward()[0]  # (T, K)
    if len(leaves) != 1:
        raise RuntimeError(f"the model embedded its input {len(leaves)} times; expected once")
    return DifferentiableRun(leaves[0], logits, cotangent(logits.detach()))


@contextmanager
def _leaf_output(embedding: nn.Module, ids: torch.Tensor) -> Iterator[list[torch.Tensor]]:
    """`leaf_outputs` of `embedding(ids)` for this very `ids` tensor only, so a trace of the same
    model running in another thread is untouched."""
    with leaf_outputs(embedding, lambda args, _leaves: bool(args) and args[0] is ids) as leaves:
        yield leaves


@contextmanager
def leaf_outputs(embedding: nn.Module, wanted: Callable[[tuple, list], bool]) -> Iterator[list[torch.Tensor]]:
    """While open, a call of `embedding` that `wanted(args, leaves made so far)` accepts returns a leaf
    tensor that requires grad (the x of the map, collected in the yielded list) with its output's
    values instead of its output; everything after it is the module's own computation."""
    leaves: list[torch.Tensor] = []

    def swap(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor | None:
        if not wanted(args, leaves):
            return None
        leaves.append(output.detach().requires_grad_())
        return leaves[-1]

    handle = embedding.register_forward_hook(swap)
    try:
        yield leaves
    finally:
        handle.remove()
