"""Input gradients of a Hugging Face model: `input_gradient_norm[t, s] = ‖∂y_t/∂x_s‖₂`.

x_s is the embedding layer's output for token s (before positions are added); for encoder-decoders,
the source's, with the decoder's inputs held fixed. y_t is the log-probability of the prediction shown
at step t (`top_ids[t, 0]`: next token, masked-LM guess, output token), or for a model without a head
‖h_t‖₂ of its output (`last_hidden_state`). The forward is the model's own, with the trace's ablated
heads; each row is one autograd backward pass (seqviz.core.gradients_autograd.DifferentiableRun).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from seqviz.core.gradients_autograd import DifferentiableRun, leaf_outputs
from seqviz.core.gradients_map import LOG_PROB, MODULE_OUTPUT_NORM, InputGradients, head_seeds, norm_cotangent
from seqviz.core.hf.capture import hooked
from seqviz.core.hf.families import ENCODER_DECODER
from seqviz.core.hf.passes import ids_tensor
from seqviz.core.inference import eval_mode
from seqviz.core.trace import Trace


def gradient_map(model: Any, trace: Trace, ablations: Sequence[tuple[str, str, int, int]]) -> InputGradients:
    """The map of `trace` (a trace of `model`, an HFModel), row by row."""
    module, family, meta = model.module, model.family, trace.meta
    seq2seq = family.kind == ENCODER_DECODER
    if seq2seq:
        embedding = module.get_encoder().get_input_embeddings()
        inputs = {"input_ids": ids_tensor(meta.source_ids, module.device)}
        inputs["decoder_input_ids"] = ids_tensor(meta.decoder_input_ids, module.device)
    else:
        embedding = module.get_input_embeddings()
        inputs = {"input_ids": ids_tensor(meta.token_ids, module.device)}
    head = module.get_output_embeddings() if model.head else None
    with (
        _first_in_this_thread(embedding) as leaves,
        _head_input(head) as head_inputs,
        hooked(module, family, None, ablations),
        torch.enable_grad(),
        eval_mode(module),
    ):
        out = module(**inputs, return_dict=True)
    if len(leaves) != 1:
        raise RuntimeError("the model did not embed its input through its input embedding")
    if head is not None:
        # y_t is differentiated from the head's input u (T, d), seeded with ∂y_t/∂logits_t · W: the
        # (T, V) logits are let go here, and a row's backward pass skips the (V, d) projection
        logits = out.logits[0].detach()  # (T, V), whatever the model adds after the projection
        rows = np.arange(logits.shape[0])
        seeds = head_seeds(
            head.weight.detach(), lambda t: logits[torch.as_tensor(t)], rows, trace["top_ids"][:, 0]
        )
        del out, logits
        run, target = DifferentiableRun(leaves[0], head_inputs[0][0], seeds), LOG_PROB
    else:
        outputs = out.last_hidden_state[0]  # (T, d)
        run, target = (
            DifferentiableRun(leaves[0], outputs, norm_cotangent(outputs.detach())),
            MODULE_OUTPUT_NORM,
        )
    cols = len(meta.source_ids) if seq2seq else trace.num_steps
    return InputGradients(run, trace.num_steps, cols, target, causal=family.kind == "decoder")


@contextmanager
def _head_input(head: torch.nn.Module | None) -> Iterator[list[torch.Tensor]]:
    """While open, the input of each call of the output projection `head` (None: nothing)."""
    inputs: list[torch.Tensor] = []
    if head is None:
        yield inputs
        return
    handle = head.register_forward_pre_hook(lambda _module, args: inputs.append(args[0]))
    try:
        yield inputs
    finally:
        handle.remove()


def _first_in_this_thread(embedding: torch.nn.Module) -> Any:
    """`leaf_outputs` of the first call of `embedding` in this thread (the model embeds its input
    once; a trace of it in another thread is untouched)."""
    thread = threading.get_ident()
    return leaf_outputs(embedding, lambda _args, leaves: threading.get_ident() == thread and not leaves)
