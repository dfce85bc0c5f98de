"""The difference of two runs (B − A), without Qt: which arrays can be subtracted and what a plot shows.

Two runs are subtracted array by array where both traces hold the array with the same shape: two
models of one architecture and size on one text (RNN weights trained on other tasks), one model on two
texts of equal length ("born in France" / "born in Spain"), or one model with and without an edit.
Per-step arrays `(T, L, D, H)` give a units x steps image of one layer and direction; attention
`(L, heads, T, T)` gives a keys x queries image of one layer and head (column t: what query t's
weights moved to).
"""

from __future__ import annotations

import numpy as np

from seqviz.app.panels.colour_scale import ColourScale, diverging_scale
from seqviz.core.trace import Trace

#: the arrays the difference view offers, in menu order
DIFFERENCE_ARRAYS = (
    "hidden",
    "cell",
    "input_gate",
    "forget_gate",
    "output_gate",
    "update_gate",
    "reset_gate",
    "candidate",
    "attention",
    "cross_attention",
)


def comparable_arrays(a: Trace, b: Trace) -> list[str]:
    """The arrays both traces hold with equal shapes, in menu order."""
    return [n for n in DIFFERENCE_ARRAYS if n in a and n in b and a[n].shape == b[n].shape]


def why_not_comparable(a: Trace, b: Trace) -> str:
    """One line saying why no array can be subtracted (for the panel's message)."""
    if a.num_steps != b.num_steps:
        return (
            f"No difference view: the runs have {a.num_steps} and {b.num_steps} steps "
            "(B \u2212 A needs arrays of the same shape)."
        )
    return "No difference view: the two models' arrays have different shapes (sizes or architectures)."


def difference(a: Trace, b: Trace, name: str) -> np.ndarray:
    """B − A of array `name` (float32, the arrays' shape). Raises ValueError when shapes differ."""
    if name not in a or name not in b or a[name].shape != b[name].shape:
        raise ValueError(f"the runs' {name} arrays cannot be subtracted (missing or of other shapes)")
    return np.subtract(b[name], a[name], dtype=np.float32)


def difference_image(diff: np.ndarray, name: str, layer: int, direction: int, head: int) -> np.ndarray:
    """The (rows, T) image of a difference: units x steps, or keys x queries for attention."""
    if name.endswith("attention"):
        return diff[layer, head].T  # (keys, queries)
    return diff[:, layer, direction, :].T  # (units, steps)


def difference_scale(image: np.ndarray) -> ColourScale:
    """The colour range of a difference: centred on 0, robust as every diverging heatmap's
    (colour_scale.diverging_scale: a few extreme differences are clipped, and said), at least ±1e-6
    (all zeros is grey)."""
    return diverging_scale(image, floor=1e-6)
