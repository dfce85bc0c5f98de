"""Checking a Trace against its contract (docs/trace.md) before a window shows it.

A trace from a file or from a script is data the panels index step by step: an array of the wrong
rank, T = 0, a complex or string array, tokens that do not match the arrays or attention whose T
differs from the hidden states' used to fail at every step, in every panel. `trace_problem` says in
one line what breaks the contract (or None); `Trace.load` refuses such a file with it, and the window
refuses such a trace from a script. `meta_dict_problem` checks a file's metadata before it is typed.

Shapes are checked by named axes: T (the trace's tokens), S (its source tokens, or the first array
with a source axis), L, D, H (the hidden states), heads per attention kind, K (output labels).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from seqviz.core.trace_meta import KINDS, TASKS, TraceMeta

_GATES = ("cell", "input_gate", "forget_gate", "output_gate", "candidate", "update_gate", "reset_gate")
#: the arrays of the contract: the name of each axis (equal names must be equal sizes). Gates and the
#: cell have their own width: an LSTM with projections has hidden states of proj_size.
SHAPES: dict[str, tuple[str, ...]] = {
    "hidden": ("T", "L", "D", "H"),
    **dict.fromkeys(_GATES, ("T", "L", "D", "cell units")),
    "initial_hidden": ("L", "D", "H"),
    "initial_cell": ("L", "D", "cell units"),
    "attention": ("L", "heads", "T", "T"),
    "cross_attention": ("L", "cross heads", "T", "S"),
    "encoder_hidden": ("S", "encoder L", "encoder D", "encoder H"),
    "encoder_attention": ("encoder L", "encoder heads", "S", "S"),
    "final_norm": ("T", "H"),
    "encoder_final_norm": ("S", "encoder H"),
    "probs": ("T", "K"),
    "top_ids": ("T", "k"),
    "top_probs": ("T", "k"),
    "target_prob": ("T",),
    "target_rank": ("T",),
    "next_probs": ("K",),
    "input_gradient_norm": ("T", "inputs"),
}
INTEGER_ARRAYS = ("top_ids", "target_rank")
_TEXT = "text"
_INTS = "a list of whole numbers"
_TEXTS = "a list of text"
#: metadata fields as a file stores them (JSON): what each must be
META_TYPES: dict[str, str] = {
    **dict.fromkeys(("arch", "kind", "task", "model_id", "output_text", "decoder_start"), _TEXT),
    **dict.fromkeys(("input_note", "gradient_target", "input"), _TEXT),
    **dict.fromkeys(("num_layers", "num_directions", "hidden_size", "num_heads", "target"), "a whole number"),
    **dict.fromkeys(("token_ids", "source_ids", "decoder_input_ids", "output_ids", "targets"), _INTS),
    **dict.fromkeys(("output_labels", "unknown", "edits"), _TEXTS),
    "causal": "true or false",
    "decoder_causal": "true or false",
    "prompt_length": "a whole number or null",
    "extra": "an object",
}


def header_problem(header: dict[str, Any]) -> str | None:
    """Why a trace file's JSON header (its tokens and metadata) cannot make a Trace, or None."""
    for name in ("tokens", "source_tokens"):
        tokens = header.get(name)
        if tokens is not None and not (isinstance(tokens, list) and all(isinstance(t, str) for t in tokens)):
            return f"its {name} are not a list of text"
    return meta_dict_problem(header.get("meta"))


def meta_dict_problem(data: Any) -> str | None:
    """Why a trace file's metadata (JSON) cannot be a TraceMeta, or None."""
    if data is None:
        return None
    if not isinstance(data, dict):
        return "its metadata is not a JSON object"
    for key, wanted in META_TYPES.items():
        if key in data and not _json_fits(data[key], wanted):
            return f"its metadata's {key} is {_shown(data[key])}, not {wanted}"
    return None


def _json_fits(value: Any, wanted: str) -> bool:
    whole = isinstance(value, int) and not isinstance(value, bool)
    if wanted == _TEXT:
        return isinstance(value, str)
    if wanted == "a whole number":
        return whole
    if wanted == "a whole number or null":
        return value is None or whole
    if wanted == "true or false":
        return isinstance(value, bool)
    if wanted == _INTS:
        return isinstance(value, list) and all(_json_fits(v, "a whole number") for v in value)
    if wanted == _TEXTS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, dict)


class TraceContractError(ValueError):
    """A trace that breaks the contract of docs/trace.md; the message says how, in one line."""


def check_trace(trace: Any) -> None:
    """Raise TraceContractError unless `trace` keeps the contract (what a window asks of a trace a
    script hands it, before anything is shown)."""
    problem = trace_problem(trace)
    if problem is not None:
        raise TraceContractError(f"cannot show this trace: {problem}")


def trace_problem(trace: Any) -> str | None:
    """What breaks the contract of docs/trace.md in `trace` (one line), or None."""
    if not all(hasattr(trace, name) for name in ("tokens", "source_tokens", "meta", "names")):
        return f"it is a {type(trace).__name__}, not a seqviz Trace"
    return (
        _tokens_problem(trace)
        or _meta_problem(trace.meta)
        or _arrays_problem(trace)
        or _meta_sizes_problem(trace)
    )


def _tokens_problem(trace: Any) -> str | None:
    for name in ("tokens", "source_tokens"):
        tokens = getattr(trace, name)
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            return f"its {name} are not a list of text"
    if not trace.tokens:
        return "it has no steps (T = 0): a trace holds at least one token"
    return None


def _meta_problem(meta: Any) -> str | None:
    """The typed fields of a TraceMeta (a script may build one with anything in it)."""
    if not isinstance(meta, TraceMeta):
        return f"its meta is a {type(meta).__name__}, not a TraceMeta"
    for name, value in (
        ("arch", meta.arch),
        ("model_id", meta.model_id),
        ("output_text", meta.output_text),
        ("decoder_start", meta.decoder_start),
        ("input_note", meta.input_note),
        ("gradient_target", meta.gradient_target),
    ):
        if not isinstance(value, str):
            return f"its meta.{name} is {_shown(value)}, not text"
    if meta.kind not in KINDS:
        return f"its meta.kind is {_shown(meta.kind)}, not one of {', '.join(KINDS)}"
    if meta.task not in TASKS:
        return f"its meta.task is {_shown(meta.task)}, not one of {', '.join(repr(t) for t in TASKS)}"
    for name in ("num_layers", "num_directions", "hidden_size", "num_heads"):
        value = getattr(meta, name)
        if not _whole(value) or value < 0:
            return f"its meta.{name} is {_shown(value)}, not a whole number"
    if not isinstance(meta.causal, bool) or not isinstance(meta.extra, Mapping):
        return "its meta.causal is not true or false, or its meta.extra is not a mapping"
    for name in ("token_ids", "source_ids", "decoder_input_ids", "output_ids", "targets"):
        values = getattr(meta, name)
        if not isinstance(values, tuple) or not all(_whole(v) for v in values):
            return f"its meta.{name} is not a tuple of whole numbers"
    for name in ("output_labels", "unknown", "edits"):
        values = getattr(meta, name)
        if not isinstance(values, tuple) or not all(isinstance(v, str) for v in values):
            return f"its meta.{name} is not a tuple of text"
    if meta.prompt_length is not None and not _whole(meta.prompt_length):
        return f"its meta.prompt_length is {_shown(meta.prompt_length)}, not a whole number"
    return None


def _arrays_problem(trace: Any) -> str | None:
    """Each array's type and rank, and its axes against the tokens and the other arrays."""
    if "hidden" not in trace:
        return f"it has no hidden states (its arrays: {', '.join(trace.names()) or 'none'})"
    sizes: dict[str, int] = {"T": len(trace.tokens)}
    if trace.source_tokens:
        sizes["S"] = len(trace.source_tokens)
    if trace.meta.output_labels:
        sizes["K"] = len(trace.meta.output_labels)
    for name in trace.names():
        problem = _array_problem(name, trace[name], sizes)
        if problem:
            return problem
    gradient = sizes.get("inputs")
    if gradient is not None and gradient not in (sizes["T"], sizes.get("S")):
        return f"input_gradient_norm has {gradient} inputs per step, not T = {sizes['T']} (or S)"
    return _values_problem(trace, sizes)


def _array_problem(name: str, array: Any, sizes: dict[str, int]) -> str | None:
    shape, dtype = tuple(int(n) for n in array.shape), np.dtype(array.dtype)
    allowed = "fiu" if name not in SHAPES else "iu" if name in INTEGER_ARRAYS else "f"
    if dtype.kind not in allowed:
        wanted = "whole numbers" if allowed == "iu" else "real numbers" if allowed == "fiu" else "floats"
        return f"{name} holds {dtype.name} values, not {wanted}"
    if 0 in shape:
        return f"{name} is empty (shape {shape})"
    axes = SHAPES.get(name)
    if axes is None:
        return None  # an array the contract does not name: kept, never shown by a panel
    if len(shape) != len(axes):
        return f"{name} has {len(shape)} axes {shape}, not {len(axes)} ({', '.join(axes)})"
    for axis, size in zip(axes, shape, strict=True):
        expected = sizes.setdefault(axis, size)
        if size != expected:
            return f"{name} has shape {shape}: its {axis} is {size}, where the trace has {axis} = {expected}"
    return None


def _values_problem(trace: Any, sizes: dict[str, int]) -> str | None:
    """Indices the panels look up: top_ids into the output labels, ranks from 1 (or -1)."""
    labels = len(trace.meta.output_labels)
    if "top_ids" in trace and labels:
        ids = np.asarray(trace["top_ids"])
        if ids.min() < 0 or ids.max() >= labels:
            return f"top_ids holds ids outside 0..{labels - 1} (its output labels)"
    if "target_rank" in trace and np.asarray(trace["target_rank"]).min() < -1:
        return "target_rank holds ranks below -1"
    return None


def _meta_sizes_problem(trace: Any) -> str | None:
    """Metadata read per step must be as long as the steps (or empty) and index the outputs."""
    meta, steps = trace.meta, trace.num_steps
    for name in ("token_ids", "decoder_input_ids", "output_ids"):
        if len(getattr(meta, name)) not in (0, steps):
            return f"its meta.{name} has {len(getattr(meta, name))} entries for {steps} steps"
    if len(meta.targets) not in (0, 1, steps) or (len(meta.targets) == 1 < steps and meta.task != "classify"):
        return f"its meta.targets has {len(meta.targets)} entries for {steps} steps"
    labels = len(meta.output_labels)
    if labels and any(not -1 <= t < labels for t in meta.targets):
        return f"its meta.targets holds outputs outside -1..{labels - 1}"
    if meta.prompt_length is not None and not 0 <= meta.prompt_length <= steps:
        return f"its meta.prompt_length is {meta.prompt_length} for {steps} steps"
    return None


def _whole(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def nonfinite_arrays(trace: Any) -> list[str]:
    """The arrays that hold NaN or infinite values (a diverged model): they are kept and shown as
    such, and a window says so. One float64 sum per array (no temporary as large as the array: a
    float32 array's finite values cannot overflow it); packed causal attention is not summed, its
    model's hidden states show a divergence first. `target_prob` is NaN by contract where the true
    token is not known (`target_rank` -1: a causal LM's last step, a masked LM's unmasked tokens):
    only its known entries count."""
    found = []
    for name in trace.names():
        array = trace[name]
        if name == "target_prob" and "target_rank" in trace:
            array = np.asarray(array)[np.asarray(trace["target_rank"]) >= 0]
        floats = isinstance(array, np.ndarray) and array.dtype.kind == "f"
        if floats and not np.isfinite(array.sum(dtype=np.float64)):
            found.append(name)
    return found
