"""The numbers of a GRU's or LSTM's cell equation at one step, read from a trace (no Qt).

The gates panel shows, for one unit at one step, every number of

    LSTM  c_t = f*c_prev + i*g,   h_t = o*tanh(c_t)
    GRU   h_t = (1 - z)*n + z*h_prev,   n = tanh(W_in x_t + b_in + r*(W_hn h_prev + b_hn))

so a student can redo the arithmetic. "prev" is the state before step t in reading order: step t-1
forwards, step t+1 for the backward direction (its row t has read tokens t..T). Every value is the
trace's own number; nothing here recomputes the model.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from seqviz.app.panels.traceinfo import GRU_GATES, LSTM_GATES, default_unit
from seqviz.core.trace import Trace

#: array name -> (heatmap title, symbol in the equations, centred at 0?)
GATE_INFO = {
    "input_gate": ("input gate i", "i", False),
    "forget_gate": ("forget gate f", "f", False),
    "output_gate": ("output gate o", "o", False),
    "candidate": ("candidate g", "g", True),  # GRU: "candidate n", symbol n (see gate_info)
    "cell": ("cell state c", "c", True),
    "update_gate": ("update gate z", "z", False),
    "reset_gate": ("reset gate r", "r", False),
}


def gate_info(name: str, kind: str) -> tuple[str, str, bool]:
    """(title, symbol, centred) of a gate array for an "lstm" or "gru" cell."""
    if name == "candidate" and kind == "gru":
        return ("candidate n", "n", True)
    return GATE_INFO[name]


def gate_names(kind: str) -> tuple[str, ...]:
    """The gate arrays the panel shows for an "lstm" or "gru" cell, in display order."""
    return LSTM_GATES if kind == "lstm" else GRU_GATES


@dataclass(frozen=True)
class GateEquation:
    """One unit's equation at one step.

    `values` maps each symbol ("i", "f", "o", "g", "c", "h" for an LSTM; "z", "r", "n", "h" for a GRU)
    to its value at `step`; "h" is absent for a projected LSTM, whose h_t has other units than its gates.
    `previous` is c_prev (LSTM) or h_prev (GRU), None when the trace does not record it (an
    encoder-decoder's decoder starts from the encoder's summary); `previous_sub` is its subscript.
    """

    kind: str  # "lstm" or "gru"
    step: int  # 1-based
    unit: int
    values: dict[str, float]
    previous: float | None
    previous_sub: str  # "t−1", or "t+1" for the backward direction

    @property
    def previous_key(self) -> str:
        return "c_prev" if self.kind == "lstm" else "h_prev"

    def as_dict(self) -> dict[str, float | None]:
        """Symbol -> value, with the previous state under "c_prev" or "h_prev"."""
        return {**self.values, self.previous_key: self.previous}


def previous_subscript(direction: int) -> str:
    """The subscript of the state before step t: the backward direction came from step t+1."""
    return "t+1" if direction == 1 else "t\u22121"


def previous_state(trace: Trace, name: str, layer: int, direction: int, unit: int, step: int) -> float | None:
    """State `name` ("cell" or "hidden") of (layer, direction, unit) before 1-based `step` in reading
    order; at the start, the trace's `initial_<name>` (L, D, H), else zeros — or None for an
    encoder-decoder, whose start is not recorded."""
    values = trace[name]  # (T, L, D, H)
    index = step if direction == 1 else step - 2  # 0-based row of the previous state
    if 0 <= index < values.shape[0]:
        return float(values[index, layer, direction, unit])
    initial = trace.get(f"initial_{name}")
    if initial is not None:
        return float(initial[layer, direction, unit])
    if trace.meta.kind == "encoder-decoder":
        return None  # the decoder starts from the encoder's summary, not zeros
    return 0.0


def gate_equation(trace: Trace, kind: str, layer: int, direction: int, unit: int, step: int) -> GateEquation:
    """The equation of `unit` of (layer, direction) at 1-based `step` (1..T) of an "lstm"/"gru" trace."""
    names = gate_names(kind)
    symbols = {n: gate_info(n, kind)[1] for n in names}
    if trace["hidden"].shape[3] == trace[names[0]].shape[3]:
        symbols["hidden"] = "h"  # a projected LSTM's h has other units than its gates
    values = {s: float(trace[n][step - 1, layer, direction, unit]) for n, s in symbols.items()}
    state = "cell" if kind == "lstm" else "hidden"
    previous = previous_state(trace, state, layer, direction, unit, step)
    return GateEquation(kind, step, unit, values, previous, previous_subscript(direction))


def equation_unit(trace: Trace, layer: int, direction: int, picked: tuple[int, ...], units: int) -> int:
    """The unit whose equation is shown: the last of `picked` below `units`, else the hidden unit that
    varies most (the one the units panel shows before anything is picked)."""
    valid = [u for u in picked if 0 <= u < units]
    return valid[-1] if valid else default_unit(trace, layer, direction)


# Text ---------------------------------------------------------------------------------------------
def _num(value: float) -> str:
    """A number as shown in the equations: 4 decimals, negatives in brackets when multiplied."""
    return f"{value:.4f}" if value >= 0 else f"({value:.4f})"


def equation_text(equation: GateEquation, token: str) -> str:
    """The equation as rich text: a header (unit, step, `token` as displayed), then its lines."""
    shown = html.escape(token)  # rich text: "<unk>" must show, not vanish as a tag
    head = f"<b>unit {equation.unit}</b> \u00b7 step {equation.step} '{shown}'"
    lines = lstm_lines(equation) if equation.kind == "lstm" else gru_lines(equation)
    return "<br>".join([head, *lines])


def lstm_lines(equation: GateEquation) -> list[str]:
    """c_t and h_t with their numbers (a projected LSTM: o*tanh(c_t), which W_hr then mixes)."""
    v, sub = equation.values, equation.previous_sub
    c_prev = "?" if equation.previous is None else _num(equation.previous)
    cell = (
        f"c<sub>t</sub> = f\u00b7c<sub>{sub}</sub> + i\u00b7g = {_num(v['f'])} \u00d7 {c_prev} + "
        f"{_num(v['i'])} \u00d7 {_num(v['g'])} = <b>{v['c']:.4f}</b>"
    )
    gated = f"{_num(v['o'])} \u00d7 tanh({v['c']:.4f})"
    if "h" in v:
        out = f"h<sub>t</sub> = o\u00b7tanh(c<sub>t</sub>) = {gated} = <b>{v['h']:.4f}</b>"
    else:  # a projected LSTM: h_t = W_hr (o * tanh(c_t)) mixes the units
        value = v["o"] * float(np.tanh(v["c"]))
        out = (
            f"o\u00b7tanh(c<sub>t</sub>) = {gated} = <b>{value:.4f}</b>; h<sub>t</sub> = "
            "W<sub>hr</sub>(o\u00b7tanh(c<sub>t</sub>)) mixes the units (projected LSTM)"
        )
    return [cell, out]


def gru_lines(equation: GateEquation) -> list[str]:
    """h_t with its numbers, and n with the reset gate that shaped it."""
    v, sub = equation.values, equation.previous_sub
    h_prev = "? (the encoder's summary)" if equation.previous is None else _num(equation.previous)
    return [
        f"h<sub>t</sub> = (1 \u2212 z)\u00b7n + z\u00b7h<sub>{sub}</sub> = "
        f"(1 \u2212 {v['z']:.4f}) \u00d7 "
        f"{_num(v['n'])} + {_num(v['z'])} \u00d7 {h_prev} = <b>{v['h']:.4f}</b>",
        f"n = tanh(W<sub>in</sub>x<sub>t</sub> + b<sub>in</sub> + r\u00b7(W<sub>hn</sub>h<sub>{sub}</sub>"
        f" + b<sub>hn</sub>)) = {v['n']:.4f}, with reset gate r = {v['r']:.4f}",
    ]
