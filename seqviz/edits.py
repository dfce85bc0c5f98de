"""Edits for `seqviz.trace(model, inputs, edits=[...])`: see seqviz.core.edits."""

from seqviz.core.edits import ScaleRecurrent

__all__ = ["ScaleRecurrent"]
