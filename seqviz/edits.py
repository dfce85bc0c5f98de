"""Edits for `seqviz.trace(model, inputs, edits=[...])`: see seqviz.core.edits (weights: ScaleRecurrent,
AblateHead) and seqviz.core.edits_values (states: ClampGate, SetHidden, SetCell)."""

from seqviz.core.edits import AblateHead, ScaleRecurrent, apply_edits, describe
from seqviz.core.edits_values import ClampGate, SetCell, SetHidden

__all__ = ["AblateHead", "ClampGate", "ScaleRecurrent", "SetCell", "SetHidden", "apply_edits", "describe"]
