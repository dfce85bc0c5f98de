"""Traces of torch's own Transformer modules, with their attention probabilities.

`nn.TransformerEncoderLayer` calls its `self_attn` with `need_weights=False`, and in eval mode its fused
fast path skips forward hooks, so hooks cannot capture attention. Instead each layer is re-run here from
its own submodules, in the module's own order: the layer's `self_attn` (and, for decoders, its
`multihead_attn`) is called with `need_weights=True, average_attn_weights=False` on that layer's actual
input (after `norm1` when `norm_first`), then the residual, norms and feed-forward exactly as
`TransformerEncoderLayer.forward` / `TransformerDecoderLayer.forward` do them. Dropout is skipped (the
module is traced in eval mode); everything else is the module's own code, so custom activations,
`bias=False` and either `batch_first` work unchanged.

Arrays (T steps, S memory positions, L layers, h heads):
    hidden           (T, L, 1, d_model)   each layer's output
    attention        (L, h, T, T)         self-attention probabilities (rows sum to 1, masked entries 0)
    cross_attention  (L, h, T, S)         decoders: attention over `memory`
    final_norm       (T, d_model)         stacks built with `norm=`: the stack's output, norm(hidden[:, -1])

For a stack with a final norm, `hidden[:, -1]` is the last layer's output *before* the norm (what the
layer computed) and `final_norm` is what `module(x)` returns; `meta.extra["final_norm"]` says which applies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn

from seqviz.core.inference import eval_mode
from seqviz.core.trace import Trace

_ENCODERS = (nn.TransformerEncoderLayer, nn.TransformerEncoder)
_DECODERS = (nn.TransformerDecoderLayer, nn.TransformerDecoder)


def is_transformer(model: Any) -> bool:
    """True for torch's Transformer{Encoder,Decoder}Layer and Transformer{Encoder,Decoder} stacks."""
    return isinstance(model, _ENCODERS + _DECODERS)


def trace_transformer(
    model: nn.Module,
    inputs: Any,
    mask: Any = None,
    memory: Any = None,
    tokens: list[str] | None = None,
    *,
    memory_mask: Any = None,
) -> Trace:
    """Trace one sequence through a torch Transformer encoder/decoder layer or stack.

    inputs: (T, d_model) float tensor (or array), one unbatched sequence, whatever the module's batch_first.
    mask: optional self-attention mask (T, T), bool (True = may not attend) or additive float, as torch
        takes it; the string "causal" builds the causal mask.
    memory: decoders only, required: (S, d_model), the encoder output the decoder attends to.
    memory_mask: decoders only, optional (T, S) mask over memory positions.
    tokens: optional T labels for the steps.
    Raises ValueError for an empty input, a wrong feature size, a mask of the wrong shape or one that
    blocks every position of a row.
    """
    if not is_transformer(model):
        raise TypeError(f"trace_transformer takes torch's Transformer encoder/decoder modules, not {model!r}")
    layers, final_norm = _layers_and_norm(model)
    x, self_mask, mem, cross_mask = _checked_inputs(model, layers[0], inputs, mask, memory, memory_mask)
    if tokens is not None and len(tokens) != x.shape[0]:
        raise ValueError(f"tokens has {len(tokens)} labels for {x.shape[0]} steps")

    with torch.no_grad(), eval_mode(model):
        if isinstance(model, _DECODERS):
            arrays = _run_decoder(layers, x, self_mask, mem, cross_mask)
        else:
            arrays = _run_encoder(layers, x, self_mask)
        if final_norm is not None:
            last = torch.from_numpy(arrays["hidden"][:, -1, 0])  # (T, d)
            arrays["final_norm"] = final_norm(last).numpy()
    meta = _trace_meta(model, layers, self_mask, x.shape[0], final_norm is not None)
    return Trace(arrays, tokens=tokens, meta=meta)


def _checked_inputs(model: nn.Module, first: nn.Module, inputs, mask, memory, memory_mask) -> tuple:
    """(x (T, d), self mask (T, T) or None, memory (S, d) or None, memory mask (T, S) or None).

    Tensors in the dtype of the model's first layer, masks additive floats; memory and its mask are None
    for encoders. ValueError for anything that does not fit.
    """
    dtype = first.self_attn.out_proj.weight.dtype
    d_model = first.self_attn.embed_dim
    x = _as_sequence(inputs, d_model, dtype, "inputs")
    num_steps = x.shape[0]
    self_mask = _canonical_mask(mask, num_steps, num_steps, dtype, "mask")
    if isinstance(model, _DECODERS):
        if memory is None:
            raise ValueError(f"{type(model).__name__} needs memory= (S, d_model): the sequence it attends to")
        mem = _as_sequence(memory, d_model, dtype, "memory")
        cross_mask = _canonical_mask(memory_mask, num_steps, mem.shape[0], dtype, "memory_mask")
        return x, self_mask, mem, cross_mask
    if memory is not None or memory_mask is not None:
        raise ValueError(f"memory= is for decoders; {type(model).__name__} is an encoder")
    return x, self_mask, None, None


def _trace_meta(
    model: nn.Module, layers: list[nn.Module], self_mask, num_steps: int, final_norm: bool
) -> dict[str, Any]:
    """The trace's meta: the architecture, read from the first layer, and whether the mask was causal."""
    first = layers[0]
    d_model = first.self_attn.embed_dim
    return {
        "arch": "transformer",
        "kind": "decoder" if isinstance(model, _DECODERS) else "encoder",
        "module": type(model).__name__,
        "num_layers": len(layers),
        "num_heads": first.self_attn.num_heads,
        "d_model": d_model,
        "num_directions": 1,
        "hidden_size": d_model,
        "causal": _is_causal(self_mask, num_steps),
        "norm_first": bool(first.norm_first),
        "batch_first": bool(first.self_attn.batch_first),
        "final_norm": final_norm,
    }


# The layers' own computation, one unbatched sequence at a time ------------------------------------
def _attend(mha: nn.MultiheadAttention, query: torch.Tensor, kv: torch.Tensor, mask: torch.Tensor | None):
    """query (T, d), kv (S, d) -> output (T, d), probabilities (h, T, S), from the module's own MHA."""
    out, probs = mha(query, kv, kv, attn_mask=mask, need_weights=True, average_attn_weights=False)
    return out, probs


def _feed_forward(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return layer.linear2(layer.activation(layer.linear1(x)))  # (T, d)


def _encoder_layer(layer: nn.TransformerEncoderLayer, x: torch.Tensor, mask: torch.Tensor | None):
    """As TransformerEncoderLayer.forward (eval): x (T, d) -> (T, d), self-attention (h, T, T)."""
    if layer.norm_first:
        normed = layer.norm1(x)  # one tensor for q, k and v, so MHA packs the projection as torch does
        attn, probs = _attend(layer.self_attn, normed, normed, mask)
        x = x + attn
        x = x + _feed_forward(layer, layer.norm2(x))
    else:
        attn, probs = _attend(layer.self_attn, x, x, mask)
        x = layer.norm1(x + attn)
        x = layer.norm2(x + _feed_forward(layer, x))
    return x, probs


def _decoder_layer(layer: nn.TransformerDecoderLayer, x, mask, memory, memory_mask):
    """As TransformerDecoderLayer.forward (eval): x (T, d), memory (S, d) -> (T, d), (h, T, T), (h, T, S)."""
    if layer.norm_first:
        normed = layer.norm1(x)
        attn, probs = _attend(layer.self_attn, normed, normed, mask)
        x = x + attn
        cross, cross_probs = _attend(layer.multihead_attn, layer.norm2(x), memory, memory_mask)
        x = x + cross
        x = x + _feed_forward(layer, layer.norm3(x))
    else:
        attn, probs = _attend(layer.self_attn, x, x, mask)
        x = layer.norm1(x + attn)
        cross, cross_probs = _attend(layer.multihead_attn, x, memory, memory_mask)
        x = layer.norm2(x + cross)
        x = layer.norm3(x + _feed_forward(layer, x))
    return x, probs, cross_probs


def _run_encoder(layers, x: torch.Tensor, mask) -> dict[str, np.ndarray]:
    num_steps, d_model = x.shape
    heads = layers[0].self_attn.num_heads
    hidden = np.empty((num_steps, len(layers), 1, d_model), np.float32)
    attention = np.empty((len(layers), heads, num_steps, num_steps), np.float32)
    for i, layer in enumerate(layers):
        x, probs = _encoder_layer(layer, x, mask)
        hidden[:, i, 0] = x.numpy()
        attention[i] = probs.numpy()
    return {"hidden": hidden, "attention": attention}


def _run_decoder(layers, x: torch.Tensor, mask, memory: torch.Tensor, memory_mask) -> dict[str, np.ndarray]:
    num_steps, d_model = x.shape
    heads, num_sources = layers[0].self_attn.num_heads, memory.shape[0]
    hidden = np.empty((num_steps, len(layers), 1, d_model), np.float32)
    attention = np.empty((len(layers), heads, num_steps, num_steps), np.float32)
    cross_attention = np.empty((len(layers), heads, num_steps, num_sources), np.float32)
    for i, layer in enumerate(layers):
        x, probs, cross_probs = _decoder_layer(layer, x, mask, memory, memory_mask)
        hidden[:, i, 0] = x.numpy()
        attention[i] = probs.numpy()
        cross_attention[i] = cross_probs.numpy()
    return {"hidden": hidden, "attention": attention, "cross_attention": cross_attention}


# Inputs, masks and modes ---------------------------------------------------------------------------
def _layers_and_norm(model: nn.Module) -> tuple[list[nn.Module], nn.Module | None]:
    if isinstance(model, nn.TransformerEncoderLayer | nn.TransformerDecoderLayer):
        return [model], None
    return list(model.layers), model.norm


def _as_sequence(value: Any, d_model: int, dtype: torch.dtype, name: str) -> torch.Tensor:
    """One unbatched sequence as a (N, d_model) tensor of the module's dtype, or a ValueError."""
    seq = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
    if not seq.is_floating_point():
        raise ValueError(f"{name} must be a float tensor (N, {d_model}), not {seq.dtype}")
    if seq.dim() != 2:
        raise ValueError(
            f"{name} must be one unbatched sequence (N, {d_model}), got shape {tuple(seq.shape)}; "
            "trace one sequence at a time"
        )
    if seq.shape[0] == 0:
        raise ValueError(f"{name} is empty: it needs at least one step")
    if seq.shape[1] != d_model:
        raise ValueError(f"{name} has {seq.shape[1]} features per step; the model's d_model is {d_model}")
    return seq.detach().to(dtype)


def _canonical_mask(mask: Any, rows: int, cols: int, dtype: torch.dtype, name: str) -> torch.Tensor | None:
    """A (rows, cols) additive float mask (-inf = blocked), as torch's layers canonicalise theirs."""
    if mask is None:
        return None
    if isinstance(mask, str):
        if mask != "causal" or rows != cols:
            raise ValueError(f"{name} may be a tensor or 'causal' (self-attention only), not {mask!r}")
        mask = torch.ones(rows, cols, dtype=torch.bool).triu(1)
    mask = torch.as_tensor(mask)
    if tuple(mask.shape) != (rows, cols):
        raise ValueError(f"{name} must have shape ({rows}, {cols}) for this input, got {tuple(mask.shape)}")
    if mask.dtype == torch.bool:
        mask = torch.zeros(rows, cols, dtype=dtype).masked_fill_(mask, float("-inf"))
    elif mask.is_floating_point():
        mask = mask.to(dtype)
    else:
        raise ValueError(
            f"{name} must be bool (True = blocked) or float (added to the scores), not {mask.dtype}"
        )
    blocked_rows = torch.isneginf(mask).all(dim=1).nonzero().flatten().tolist()
    if blocked_rows:
        raise ValueError(
            f"{name} blocks every position in row(s) {blocked_rows[:5]}; attention there is undefined"
        )
    return mask


def _is_causal(mask: torch.Tensor | None, num_steps: int) -> bool:
    """Whether every step is blocked from all later steps (so step t saw only steps <= t)."""
    if mask is None:
        return num_steps == 1
    future = torch.ones(num_steps, num_steps, dtype=torch.bool).triu(1)
    return bool(torch.isneginf(mask[future]).all())
