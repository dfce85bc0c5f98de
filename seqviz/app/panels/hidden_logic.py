"""Which hidden states the Hidden panel shows, without Qt: the decoder's (the steps) or, for an
encoder-decoder, the encoder's over the source (`encoder_hidden` (S, L_enc, D_enc, H)).

The encoder read the whole source before the decoder's first step, so its side has no future and no
step of its own; the panel follows the alignment instead: at decoder step t it points at the source
position that output t attends to most (the last layer's cross-attention, heads averaged).
"""

from __future__ import annotations

import numpy as np

from seqviz.core.trace import Trace

DECODER, ENCODER = "decoder", "encoder"  # the panel option ("hidden", "side")


def sides(trace: Trace) -> list[str]:
    """The sides a trace has hidden states for: the decoder's, and the encoder's when it holds them."""
    encoder = trace.get("encoder_hidden")
    return [DECODER, ENCODER] if encoder is not None and encoder.ndim == 4 else [DECODER]


def side_label(side: str, trace: Trace) -> str:
    """ "decoder (output)" / "encoder (source)"; a model with one side has no side to name."""
    if len(sides(trace)) == 1:
        return ""
    return "encoder (source)" if side == ENCODER else "decoder (output)"


def attended_source(trace: Trace, step: int) -> int | None:
    """The 1-based source position decoder step `step` (1-based) attends to most: the last layer's
    cross-attention with its heads averaged; None without cross-attention."""
    cross = trace.get("cross_attention")  # (L, heads, T, S)
    if cross is None or not 1 <= step <= cross.shape[2]:
        return None
    row = np.asarray(cross[-1, :, step - 1, :], np.float64).mean(axis=0)  # (S,)
    return int(np.argmax(row)) + 1


def encoder_states(trace: Trace, layer: int, direction: int) -> np.ndarray:
    """(S, H) encoder states of `layer` and `direction`, clamped to the encoder's shape."""
    states = trace["encoder_hidden"]  # (S, L_enc, D_enc, H)
    layer = min(max(layer, 0), states.shape[1] - 1)
    direction = min(max(direction, 0), states.shape[2] - 1)
    return states[:, layer, direction, :]
