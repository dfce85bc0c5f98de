"""What the panels need to know about a trace beyond its arrays (read from its TraceMeta and arrays)."""

from __future__ import annotations

import weakref

import numpy as np

from seqviz.core.token_display import TokenDisplay, display_token
from seqviz.core.trace import Trace

LSTM_GATES = ("input_gate", "forget_gate", "output_gate", "candidate", "cell")
GRU_GATES = ("update_gate", "reset_gate", "candidate")


def is_causal(trace: Trace) -> bool:
    """Whether step t saw only tokens <= t. Encoder-decoders report their decoder's causality."""
    return trace.meta.causal


def reads_whole_input(trace: Trace) -> bool:
    """Bidirectional and encoder models see every token at every step."""
    return not is_causal(trace)


def is_transformer(trace: Trace) -> bool:
    return "attention" in trace or trace.arch == "transformer"


def gate_kind(trace: Trace) -> str | None:
    """ "lstm" or "gru" when the trace has that cell's gate arrays, else None."""
    names = set(trace.names())
    if set(LSTM_GATES) <= names:
        return "lstm"
    if set(GRU_GATES) <= names:
        return "gru"
    return None


def task_of(trace: Trace) -> str:
    """ "lm", "mlm", "classify", "tag" or "seq2seq" (sequence-to-sequence traces: row t is output
    token t)."""
    task = trace.meta.task
    if task == "seq2seq" or trace.meta.kind == "encoder-decoder":
        return "seq2seq"
    return task or "lm"


def token_display_of(trace: Trace) -> TokenDisplay:
    """How this trace's tokens read on screen (seqviz.core.token_display)."""
    return display_token


def masked_positions(trace: Trace) -> frozenset[int]:
    """0-based positions that hold a masked language model's mask token (`meta.extra["masked"]`:
    the masks put on tokens and those typed in the text)."""
    return frozenset(int(p) for p in trace.meta.extra.get("masked", ()))


def selection_label(trace: Trace, layer: int, direction: int) -> str:
    """'layer 2, backward' (the direction only for bidirectional models)."""
    text = f"layer {layer + 1}"
    if "hidden" in trace and trace["hidden"].shape[2] > 1:
        text += ", " + ("forward" if direction == 0 else "backward")
    return text


def output_labels(trace: Trace, count: int) -> list[str]:
    """Labels of the `count` output classes/tokens (meta output_labels, else their indices)."""
    labels = trace.meta.output_labels
    if len(labels) == count:
        return [str(x) for x in labels]
    return [str(i) for i in range(count)]


# id(trace) -> {(layer, direction): unit}; an entry goes with its trace (a Trace is not hashable)
_default_units: dict[int, dict[tuple[int, int], int]] = {}


def default_unit(trace: Trace, layer: int, direction: int) -> int:
    """The unit to show before one is picked: the hidden unit of this layer/direction whose value
    varies most over time (a flat unit makes a dull first picture). Computed once per trace."""
    cache = _default_units.get(id(trace))
    if cache is None:
        cache = _default_units[id(trace)] = {}
        weakref.finalize(trace, _default_units.pop, id(trace), None)
    if (layer, direction) not in cache:
        hidden = trace["hidden"][:, layer, direction, :]  # (T, H)
        variance = np.var(hidden, axis=0, dtype=np.float64) if hidden.size else np.zeros(1)
        variance = np.where(np.isfinite(variance), variance, -1.0)  # (H,)
        cache[layer, direction] = int(np.argmax(variance))
    return cache[layer, direction]
