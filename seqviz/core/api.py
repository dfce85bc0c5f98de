"""`seqviz.trace`: one entry point that dispatches on the kind of model."""

from __future__ import annotations

from typing import Any

from seqviz.core.trace import Trace


def trace(model: Any, inputs: Any, **kw: Any) -> Trace:
    """Run `model` over `inputs` once and return every intermediate array as a Trace.

    - `torch.nn.RNN`, `GRU`, `LSTM`: `inputs` is a float tensor (T, input_size); `initial_state=` as
      torch takes it (h0, or (h0, c0) for LSTM), unbatched: (L*D, H).
    - torch's Transformer encoder/decoder layers and stacks, and the project's Transformers: see
      `seqviz.core.transformer_trace.trace_transformer` (`mask=`, `memory=`).
    - Models with a tokenizer (bundled and saved seqviz models): `inputs` is text or a token list;
      the trace includes the model's outputs (`probs`, ...).
    """
    hook = getattr(model, "__seqviz_trace__", None)
    if hook is not None:
        return hook(inputs, **kw)

    import torch.nn as nn

    if isinstance(model, nn.RNNBase):
        from seqviz.core.recurrent import trace_recurrent

        return trace_recurrent(model, inputs, **kw)

    from seqviz.core.transformer_trace import is_transformer, trace_transformer

    if is_transformer(model):
        return trace_transformer(model, inputs, **kw)
    raise TypeError(
        f"seqviz.trace does not know how to trace a {type(model).__name__}; it takes nn.RNN, nn.GRU, "
        "nn.LSTM, torch's Transformer encoder/decoder modules, and seqviz models"
    )
