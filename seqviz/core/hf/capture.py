"""Hooks on a transformers model while one forward pass runs: record each block's output and each
attention's weights as they are made, and cut ablated heads out before their output projection.

Recording from the modules themselves (instead of `output_attentions=True`) keeps one layer's weights
alive at a time: they are copied where the trace keeps them (packed, for a causal stack) and dropped,
so a trace never holds transformers' full (L, h, T, T) float32 tuple as well as its own copy.

Hooks act only in the thread that installed them, so a trace, a generation or a gradient running at
the same time in another thread (the app's workers) sees the model unchanged; they are removed on exit.

Stacks are named "encoder" and "decoder"; an encoder-only or decoder-only model has one stack,
"decoder" (its `Family.stack`). Attention kinds: "self" and "cross".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol

import torch

from seqviz.core.hf.families import Family, Stack, blocks, final_norm, find, head_count

ENCODER, DECODER = "encoder", "decoder"


class Recorder(Protocol):
    """Where recorded tensors go (batch of one; rows are the positions the pass computed)."""

    def block(self, stack: str, layer: int, output: torch.Tensor) -> None: ...  # (1, n, d)

    def attention(self, stack: str, kind: str, layer: int, weights: torch.Tensor) -> None: ...  # (1, h, n, m)

    def norm(self, stack: str, output: torch.Tensor) -> None: ...  # (1, n, d)


def stacks(family: Family) -> list[tuple[str, Stack]]:
    """(name, Stack) of every stack, the encoder first."""
    if family.encoder is None:
        return [(DECODER, family.stack)]
    return [(ENCODER, family.encoder), (DECODER, family.stack)]


@contextmanager
def hooked(
    model: Any, family: Family, recorder: Recorder | None, ablations: Sequence[tuple[str, str, int, int]] = ()
) -> Iterator[None]:
    """While open, forward passes in this thread report to `recorder` and run with the heads in
    `ablations` ((stack, kind, layer, head) each) zeroed before their output projection."""
    base = model.base_model
    thread = threading.get_ident()
    with ExitStack() as handles:

        def add(handle: Any) -> None:
            handles.callback(handle.remove)

        if recorder is not None:
            for name, stack in stacks(family):
                _record_stack(base, name, stack, recorder, thread, add)
        for name, kind, layer, head in ablations:
            stack = dict(stacks(family))[name]
            block = blocks(base, stack)[layer]
            projection = find(block, stack.self_out if kind == "self" else stack.cross_out)
            heads = head_count(model.config, family, name)
            add(projection.register_forward_pre_hook(_zero_head(head, heads, thread)))
        yield


def _record_stack(base: Any, name: str, stack: Stack, recorder: Recorder, thread: int, add: Any) -> None:
    for layer, block in enumerate(blocks(base, stack)):
        add(block.register_forward_hook(_on_block(recorder, name, layer, thread)))
        add(
            find(block, stack.self_attn).register_forward_hook(
                _on_attention(recorder, name, "self", layer, thread)
            )
        )
        if stack.cross_attn:
            cross = find(block, stack.cross_attn)
            add(cross.register_forward_hook(_on_attention(recorder, name, "cross", layer, thread)))
    norm = final_norm(base, stack)
    if norm is not None:
        add(norm.register_forward_hook(_on_norm(recorder, name, thread)))


def _on_block(recorder: Recorder, stack: str, layer: int, thread: int) -> Any:
    def hook(_module: Any, _args: Any, output: Any) -> None:
        if threading.get_ident() == thread:
            recorder.block(stack, layer, output[0] if isinstance(output, tuple) else output)

    return hook


def _on_attention(recorder: Recorder, stack: str, kind: str, layer: int, thread: int) -> Any:
    def hook(_module: Any, _args: Any, output: Any) -> None:
        if threading.get_ident() != thread:
            return
        weights = output[-1] if isinstance(output, tuple) else None
        if not isinstance(weights, torch.Tensor) or weights.dim() != 4:  # (1, h, n, m)
            raise RuntimeError(
                "the model's attention returned no weights: seqviz needs transformers >= 5 and eager "
                "attention (attn_implementation='eager')"
            )
        recorder.attention(stack, kind, layer, weights)

    return hook


def _on_norm(recorder: Recorder, stack: str, thread: int) -> Any:
    def hook(_module: Any, _args: Any, output: Any) -> None:
        if threading.get_ident() == thread:
            recorder.norm(stack, output)

    return hook


def _zero_head(head: int, heads: int, thread: int) -> Any:
    """A pre-hook on an output projection: its input is the heads' outputs side by side (..., h*d_head);
    zeroing head `head`'s slice is the projection's sum without that head."""

    def hook(_module: Any, args: tuple) -> tuple | None:
        if threading.get_ident() != thread:
            return None
        x = args[0]
        width = x.shape[-1] // heads
        x = x.clone()
        x[..., head * width : (head + 1) * width] = 0.0
        return (x, *args[1:])

    return hook
