"""What the Selected units panel can follow, without Qt: one per-unit array, or several arrays of the same
units in one plot (an LSTM's f, i and o of unit 21: which gate opens when).

The panel option ("units", "array") holds one array name ("cell") or several joined by commas
("input_gate,forget_gate,output_gate"); scenes store it as it is.
"""

from __future__ import annotations

from seqviz.app.panels.gate_equations import GATE_INFO, gate_info
from seqviz.app.panels.traceinfo import gate_kind
from seqviz.core.trace import Trace

#: the gates a lecture compares for one unit, by cell
GATE_GROUPS = {
    "lstm": ("forget_gate", "input_gate", "output_gate"),
    "gru": ("update_gate", "reset_gate"),
}
#: the symbol of each array in the cell equations (the GRU's candidate is n: `symbol`)
SYMBOLS = {
    "hidden": "h",
    "cell": "c",
    "input_gate": "i",
    "forget_gate": "f",
    "output_gate": "o",
    "candidate": "g",
    "update_gate": "z",
    "reset_gate": "r",
}


def unit_arrays(trace: Trace) -> list[str]:
    """Names of the per-unit arrays shaped like hidden, (T, L, D, H)."""
    if "hidden" not in trace:
        return []
    shape = trace["hidden"].shape
    return [n for n in trace.names() if trace[n].ndim == 4 and trace[n].shape == shape]


def symbol(name: str, trace: Trace) -> str:
    """ "f" for forget_gate; a GRU's candidate is "n"; other arrays keep their name."""
    if name == "candidate" and gate_kind(trace) == "gru":
        return "n"
    return SYMBOLS.get(name, name)


def array_label(name: str, trace: Trace) -> str:
    """How the Array box and the plot title name one array: "forget gate f", "hidden state h" (a GRU's
    candidate is "candidate n"); an array the panels do not know keeps its name, spaced."""
    if name == "hidden":
        return "hidden state h"
    if name in GATE_INFO:
        return gate_info(name, gate_kind(trace) or "lstm")[0]
    return name.replace("_", " ")


def array_groups(trace: Trace) -> list[tuple[str, ...]]:
    """Groups of arrays offered together: the cell's gates, then the gates with the cell state."""
    names = set(unit_arrays(trace))
    kind = gate_kind(trace)
    gates = GATE_GROUPS.get(kind or "", ())
    if not gates or not set(gates) <= names:
        return []
    groups = [gates]
    if "cell" in names:
        groups.append((*gates, "cell"))
    return groups


def group_value(arrays: tuple[str, ...]) -> str:
    return ",".join(arrays)


def group_label(arrays: tuple[str, ...], trace: Trace) -> str:
    """ "f, i, o together" """
    return ", ".join(symbol(a, trace) for a in arrays) + " together"


def arrays_of(value: str) -> tuple[str, ...]:
    """The array names of an option value ("cell" or "forget_gate,input_gate")."""
    return tuple(name for name in value.split(",") if name)


def curve_name(array: str, unit: int, trace: Trace, several: bool) -> str:
    """A curve's legend: "unit 21", or with several arrays "f · unit 21"."""
    return f"{symbol(array, trace)} \u00b7 unit {unit}" if several else f"unit {unit}"
