"""Edits: change what a model computes, then trace it — `seqviz.trace(model, inputs, edits=[...])`.

Weight edits (here) are applied to a copy of the model, so the model itself never changes and the
trace, its outputs and its gradients are exactly what the edited model computes:
- `ScaleRecurrent(factor, layer=None)` multiplies the recurrent weight matrices W_hh by `factor`
  (the exploding/vanishing-gradient lesson: a factor above 1 makes a plain RNN's gradients grow).
- `AblateHead(layer, head)` zeroes one attention head's output before the output projection: the
  projection's columns that read that head are zeroed, which is the same sum without the head.

Value edits (`ClampGate`, `SetHidden`, `SetCell`: seqviz.core.edits_values) set states while the model
runs; the recurrent tracer applies them (seqviz.core.recurrent_edits). The trace records every edit
(`trace.meta.edits`, `describe`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from seqviz.core.edits_values import ClampGate, SetCell, SetHidden, check_range, is_value_edit

_HH = re.compile(r"weight_hh(?:_l(\d+))?(?:_reverse)?$")  # nn.RNN/GRU/LSTM and their cells
ATTENTIONS = ("self", "cross", "encoder")  # AblateHead's `attention`: which of the trace's arrays


@dataclass(frozen=True)
class ScaleRecurrent:
    """Multiply every recurrent weight matrix W_hh (of `layer` only, if given; 0-based) by `factor`."""

    factor: float
    layer: int | None = None

    def describe(self) -> str:
        where = "" if self.layer is None else f" of layer {self.layer}"
        return f"W_hh{where} \u00d7 {self.factor:g}"

    def apply_to_copy(self, module: Any) -> Any:
        """A copy of `module` with the scaled matrices. Raises ValueError if it has none."""
        import torch

        edited = copy.deepcopy(module)
        found = 0
        with torch.no_grad():
            for name, param in edited.named_parameters():
                match = _HH.search(name)
                if match and (self.layer is None or match.group(1) == str(self.layer)):
                    param.mul_(self.factor)
                    found += 1
        if not found:
            where = "" if self.layer is None else f" in layer {self.layer}"
            raise ValueError(f"this model has no recurrent weight matrices (W_hh){where} to scale")
        return edited


@dataclass(frozen=True)
class AblateHead:
    """Zero head `head` of `layer` (0-based, as in the attention arrays (L, h, T, S)) before the output
    projection. `attention`: "self" (the trace's `attention`), "cross" (`cross_attention`, decoders
    with a memory) or "encoder" (`encoder_attention`, encoder-decoders)."""

    layer: int
    head: int
    attention: str = "self"

    def __post_init__(self) -> None:
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention is one of {', '.join(ATTENTIONS)}, not {self.attention!r}")
        for what in ("layer", "head"):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"AblateHead: {what} is a 0-based index, not {value!r}")

    def describe(self) -> str:
        kind = {"self": "", "cross": "cross-attention ", "encoder": "encoder "}[self.attention]
        return f"{kind}head {self.head} of layer {self.layer} ablated"

    def apply_to_copy(self, module: Any) -> Any:
        """A copy of `module` whose output projection ignores the head. ValueError naming the valid
        layers, heads and attentions, or saying the model has no attention heads."""
        import torch

        from seqviz.core.attention_heads import attention_modules

        edited = copy.deepcopy(module)
        layers = attention_modules(edited, self.attention)
        check_range("AblateHead", "layer", [self.layer], len(layers), "the model has layers")
        out, heads = layers[self.layer]
        check_range("AblateHead", "head", [self.head], heads, f"layer {self.layer} has heads")
        width = out.weight.shape[1] // heads  # the projection reads the heads side by side
        with torch.no_grad():
            out.weight[:, self.head * width : (self.head + 1) * width] = 0.0
        return edited


WEIGHT_EDITS = (ScaleRecurrent, AblateHead)
Edit = ScaleRecurrent | AblateHead | ClampGate | SetHidden | SetCell


def split_edits(edits: Sequence[Any] | None) -> tuple[list[Any], list[Any]]:
    """(weight edits, value edits), each in the given order; TypeError for anything else."""
    weights, values = [], []
    for edit in edits or ():
        if isinstance(edit, WEIGHT_EDITS):
            weights.append(edit)
        elif is_value_edit(edit):
            values.append(edit)
        else:
            raise TypeError(
                f"unknown edit {edit!r}; seqviz.edits has ClampGate, SetHidden, SetCell, ScaleRecurrent "
                "and AblateHead"
            )
    return weights, values


def apply_edits(module: Any, edits: Sequence[Any] | None) -> Any:
    """`module` with the weight edits among `edits` applied (a copy when there are any; `module`
    itself when there are none). Value edits are left to the tracer (`split_edits`)."""
    weights, _ = split_edits(edits)
    for edit in weights:
        module = edit.apply_to_copy(module)
    return module


def describe(edits: Sequence[Any] | None) -> tuple[str, ...]:
    return tuple(edit.describe() for edit in edits or ())
