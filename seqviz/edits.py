"""Edits for `seqviz.trace(model, inputs, edits=[...])` (docs/models.md, "Edits"):

    ClampGate(gate, layer, units, steps, value, direction=0)   a gate of an LSTM or GRU
    SetHidden(layer, units, steps, value, direction=0)         h_t of a recurrent layer
    SetCell(layer, units, steps, value, direction=0)           c_t of an LSTM layer
    ScaleRecurrent(factor, layer=None)                         W_hh x factor
    AblateHead(layer, head, attention="self")                  a Transformer head's output zeroed

Value edits: seqviz.core.edits_values; weight edits: seqviz.core.edits.
"""

from seqviz.core.edits import AblateHead, ScaleRecurrent
from seqviz.core.edits_values import ClampGate, SetCell, SetHidden

__all__ = ["AblateHead", "ClampGate", "ScaleRecurrent", "SetCell", "SetHidden"]
