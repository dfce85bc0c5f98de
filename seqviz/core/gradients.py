"""Input gradients: how strongly each input step moves each output step — `input_gradient_norm`.

`seqviz.trace(model, inputs, gradients=True)` adds `input_gradient_norm` (T, S), float32:

    input_gradient_norm[t, s] = ‖∂y_t / ∂x_s‖₂

- x_s is the input vector at step s: the token's embedding for token models (the embedding layer's
  output, before any positional encoding), the input row for bare modules. S = T, except for
  sequence-to-sequence models, where x is the source (S source positions).
- y_t (`trace.meta.gradient_target`): for models with an output head, the log-probability of the
  prediction shown at step t, log softmax(logits_t)[argmax probs[t]] (next token, class, tag, output
  token); for bare modules, ‖h_t‖₂ of the top layer's output (all directions concatenated; for torch
  Transformer modules, the module's output).
- A causal model's entries with s > t are exactly 0. NaN and inf stay NaN and inf.

`gradient_rows(model, inputs, rows, **options)` gives chosen rows, the same numbers, so the app can
show the current step's row first and fill the map in chunks (`input_gradients` keeps the work between
calls). Unidirectional recurrent stacks take a reverse pass through time over the trace's own gates
(gradients_recurrent.py); every other model one autograd backward pass per row (gradients_autograd.py);
gradients_map.py picks one and defines y_t's cotangent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seqviz.core.gradients_map import (
    ARRAY,
    LOG_PROB,
    MODULE_OUTPUT_NORM,
    TOP_LAYER_NORM,
    InputGradients,
    open_input_gradients,
)
from seqviz.core.model_interface import check_options
from seqviz.core.trace import Trace

__all__ = [
    "ARRAY",
    "LOG_PROB",
    "MODULE_OUTPUT_NORM",
    "TOP_LAYER_NORM",
    "InputGradients",
    "gradient_rows",
    "input_gradients",
]


def input_gradients(model: Any, inputs: Any, *, trace: Trace | None = None, **options: Any) -> InputGradients:
    """The gradient map of `model` over `inputs` (as `seqviz.trace(model, inputs, **options)` runs it),
    ready to compute rows. `trace`: that trace, if already made (else it is traced again)."""
    from seqviz.core.adapters import module_inputs, open_model

    model = open_model(model)
    options.pop("gradients", None)  # asked of a trace that has no map yet: the same thing
    check_options(model, options)
    if trace is None:
        trace = model.trace(inputs, **options)
    return open_input_gradients(model, trace, module_inputs(model, inputs), options)


def gradient_rows(
    model: Any, inputs: Any, rows: Sequence[int], *, trace: Trace | None = None, **options: Any
) -> np.ndarray:
    """(len(rows), S) float32: rows `rows` of `input_gradient_norm` for `seqviz.trace(model, inputs,
    gradients=True, **options)`, the same numbers. `trace`: the plain trace, if already made."""
    return input_gradients(model, inputs, trace=trace, **options).rows(rows)
