"""`seqviz.trace`: one entry point for every model, through the SequenceModel interface."""

from __future__ import annotations

from typing import Any

from seqviz.core.trace import Trace


def trace(model: Any, inputs: Any, **options: Any) -> Trace:
    """Run `model` over `inputs` once and return every intermediate array as a Trace.

    `model` is anything `seqviz.core.adapters.open_model` opens (a SequenceModel, a seqviz model,
    a bare torch module); `options` are checked against the model's `trace_options`, and an unknown
    one is a TypeError that names the options it takes.

    - `torch.nn.RNN`, `GRU`, `LSTM`: `inputs` is a float tensor (T, input_size) or text (one fixed
      random vector per character); `initial_state=` as torch takes it (h0, or (h0, c0) for LSTM),
      unbatched: (L*D, H).
    - torch's Transformer encoder/decoder layers and stacks: `mask=`, `memory=`, `memory_mask=`
      (see `seqviz.core.transformer_trace.trace_transformer`).
    - seqviz models (bundled and saved): `inputs` is text or a token list; the trace includes the
      model's outputs (`probs`, ...); `targets=` the true answers where the caller knows them;
      recurrent ones also take `initial_state=`.
    """
    from seqviz.core.adapters import open_model

    return open_model(model).trace(inputs, **options)
