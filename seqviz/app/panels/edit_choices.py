"""Which what-if edits a right-click offers, without Qt: a unit at a step, or an attention head.

A panel asks for the choices at what was clicked and shows them as a menu; picking one adds its edit
(seqviz.edits) to the window's list. "From here" is the clicked step to the end of the text, in the
direction's own time: for the backward direction of a bidirectional model, from the clicked step back
to step 1 (the steps it reads after this one). Steps in labels count from 1, as the panels show them;
units from 0, as the heatmaps number them; layers and heads from 1, as the panels' choosers do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqviz.app.panels.traceinfo import is_transformer
from seqviz.core.edits import AblateHead
from seqviz.core.edits_values import ClampGate, SetCell, SetHidden
from seqviz.core.trace import Trace

SIGMOID_GATES = ("forget_gate", "input_gate", "output_gate", "update_gate", "reset_gate")
HEAD_ATTENTIONS = {"attention": "self", "cross_attention": "cross", "encoder_attention": "encoder"}


@dataclass(frozen=True)
class EditChoice:
    """One menu entry: its text and the edit it adds."""

    label: str
    edit: object


def from_here(step: int, num_steps: int, direction: int = 0) -> range:
    """0-based steps from the clicked step (1-based) on, in the direction's time."""
    return range(step - 1, num_steps) if direction == 0 else range(0, step)


def _when(step: int, num_steps: int, direction: int) -> str:
    if direction == 0:
        return f"at step {step}" if step == num_steps else f"from step {step} on"
    return "at step 1" if step == 1 else f"from step {step} back to step 1"


def _where(trace: Trace, layer: int, direction: int) -> str:
    """ " (layer 2, backward)": only what the trace has more than one of."""
    _t, layers, directions, _h = trace["hidden"].shape
    parts = ([f"layer {layer + 1}"] if layers > 1 else []) + (["backward"] if direction else [])
    return f" ({', '.join(parts)})" if parts else ""


def can_set_states(trace: Trace) -> bool:
    """Value edits (gates, h, c) are for recurrent models; Transformers refuse them."""
    return "hidden" in trace and not is_transformer(trace)


def unit_choices(
    trace: Trace, array: str, layer: int, direction: int, unit: int, step: int
) -> list[EditChoice]:
    """The edits a right-click on `unit` of `array` ("hidden", "cell" or a gate) at `step` (1-based)
    offers, for `layer` and `direction` (0-based, as the panel shows them). Empty when none apply."""
    if not can_set_states(trace) or array not in trace or trace[array].ndim != 4:
        return []
    num_steps, _layers, _directions, width = trace[array].shape
    if not (0 <= unit < width and 1 <= step <= num_steps):
        return []
    when, where = _when(step, num_steps, direction), _where(trace, layer, direction)
    at = (layer, [unit], from_here(step, num_steps, direction))
    here = float(trace[array][step - 1, layer, direction, unit])
    cell = lambda v: SetCell(*at, v, direction)  # noqa: E731 (one line each, read as a table)
    if array == "hidden":
        return _set_or_hold(f"unit {unit} of h{where}", lambda v: SetHidden(*at, v, direction), here, when)
    if array == "cell":
        return _set_or_hold(f"the cell of unit {unit}{where}", cell, here, when)
    if array in SIGMOID_GATES:
        gate = array.replace("_", " ")
        return [
            EditChoice(
                f"Clamp the {gate} of unit {unit}{where} to {v:g} {when}", ClampGate(array, *at, v, direction)
            )
            for v in (1.0, 0.0)
        ]
    if array == "candidate":
        candidate = ClampGate(array, *at, 0.0, direction)
        choices = [EditChoice(f"Set the candidate of unit {unit}{where} to 0 {when}", candidate)]
        if "cell" in trace:  # an LSTM: the cell the candidate writes to
            choices.append(EditChoice(f"Set the cell of unit {unit}{where} to 0 {when}", cell(0.0)))
        return choices
    return []


def _set_or_hold(name: str, make, here: float, when: str) -> list[EditChoice]:
    """Set to 0, and hold at the value it has at the clicked step (when that is not 0)."""
    choices = [EditChoice(f"Set {name} to 0 {when}", make(0.0))]
    if here != 0.0 and np.isfinite(here):
        choices.append(EditChoice(f"Hold {name} at {here:.3g} (its value here) {when}", make(here)))
    return choices


def head_choices(trace: Trace, kind: str, layer: int, head: int) -> list[EditChoice]:
    """ "Ablate head h of layer l" for a Transformer's attention array `kind` ("attention",
    "cross_attention" or "encoder_attention"), layer and head 0-based. Empty when it does not apply
    (recurrent attention models have no heads to ablate)."""
    if not is_transformer(trace) or kind not in HEAD_ATTENTIONS or kind not in trace:
        return []
    layers, heads = trace[kind].shape[:2]
    if not (0 <= layer < layers and 0 <= head < heads):
        return []
    which = {
        "attention": "",
        "cross_attention": " of the cross-attention",
        "encoder_attention": " of the encoder",
    }
    label = f"Ablate head {head + 1} of layer {layer + 1}{which[kind]} (its output zeroed)"
    return [EditChoice(label, AblateHead(layer, head, HEAD_ATTENTIONS[kind]))]
