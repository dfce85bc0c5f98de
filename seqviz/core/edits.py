"""Edits: change what a model computes, then trace it — `seqviz.trace(model, inputs, edits=[...])`.

Today: `ScaleRecurrent(factor, layer=None)` multiplies the recurrent weight matrices W_hh by `factor`
(the exploding/vanishing-gradient lesson: a factor above 1 makes a plain RNN's gradients grow with
distance). Weight edits are applied to a copy of the model, so the model itself never changes and the
trace is exactly what the edited model computes. The trace records its edits (`trace.meta.edits`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_HH = re.compile(r"weight_hh(?:_l(\d+))?(?:_reverse)?$")  # nn.RNN/GRU/LSTM and their cells


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


Edit = ScaleRecurrent


def apply_edits(module: Any, edits: Sequence[Edit] | None) -> Any:
    """`module` with `edits` applied (a copy when there are any; `module` itself when there are none)."""
    for edit in edits or ():
        if not isinstance(edit, ScaleRecurrent):
            raise TypeError(f"unknown edit {edit!r}; seqviz.edits has ScaleRecurrent")
        module = edit.apply_to_copy(module)
    return module


def describe(edits: Sequence[Edit] | None) -> tuple[str, ...]:
    return tuple(edit.describe() for edit in edits or ())
