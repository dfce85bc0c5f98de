"""What the attention panel shows, without Qt: the matrix of one head or the mean of a layer's heads, and
the lines view's labels (positions, tokens, weights) and what it leaves out on a long input.

The lines view has room for a few dozen tokens a side: a window of queries around the current one, and
the keys with the largest weights (in text order). When keys are left out, it says how many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqviz.core.token_display import display_token, shorten

MEAN_HEADS = "mean"  # the panel option ("attention", "heads"): "one" head, or the mean of the layer's


def shown_weights(array, layer: int, head: int, heads_option: str | None) -> np.ndarray:
    """(T, S) weights the matrix shows: head `head` of `layer`, or the mean over the layer's heads when
    the option is MEAN_HEADS (`array` (L, heads, T, S), or a CausalAttention, read one head at a time)."""
    if heads_option != MEAN_HEADS:
        return np.asarray(array[layer, head])
    heads = array.shape[1]
    total = np.zeros(array.shape[2:], np.float64)
    for h in range(heads):  # one (T, S) at a time: a causal stack is stored packed
        total += np.asarray(array[layer, h], np.float64)
    return (total / heads).astype(np.float32)


def matrix_title(kind: str, arch: str, layer: int, head: int, shape: tuple[int, ...], mean: bool) -> str:
    """The matrix's title: "self-attention, layer 2, head 3" for `kind` "attention" (or
    "cross_attention") of an `array` shaped `shape` (L, heads, T, S). A lone layer or head is not
    numbered: the GRU-attention model's one additive attention is "cross-attention (additive)"."""
    layers, heads = shape[:2]
    parts = [kind.replace("_", "-") + (" (additive)" if arch == "gru-attention" else "")]
    if layers > 1:
        parts.append(f"layer {layer + 1}")
    if mean:
        parts.append(f"mean of {heads} heads")
    elif heads > 1:
        parts.append(f"head {head + 1}")
    return ", ".join(parts)


def short_matrix_title(kind: str, layer: int, head: int, shape: tuple[int, ...], mean: bool) -> str:
    """The title of `matrix_title` for a plot too narrow for it, numbered as the thumbnails are:
    "L2 H3", "cross L2 H3", "L2 mean"."""
    layers, heads = shape[:2]
    parts = ["cross"] if kind == "cross_attention" else []
    if layers > 1:
        parts.append(f"L{layer + 1}")
    if mean:
        parts.append("mean")
    elif heads > 1:
        parts.append(f"H{head + 1}")
    return " ".join(parts) or kind.replace("_", "-")


def query_window(query: int, steps: int, limit: int) -> range:
    """0-based queries shown: all of them, or `limit` around `query` (0-based)."""
    if steps <= limit:
        return range(steps)
    start = min(max(query - limit // 2, 0), steps - limit)
    return range(start, start + limit)


def key_choice(row: np.ndarray, limit: int) -> list[int]:
    """0-based keys shown, in text order: all of them, or the `limit` with the largest weights."""
    if row.size <= limit:
        return list(range(row.size))
    return sorted(np.argpartition(-row, limit - 1)[:limit].tolist())


def query_label(position: int, token: str, chars: int | None = None) -> str:
    """ "12: france": the 1-based position and the token as displayed (shortened to `chars`); the colon
    keeps them apart when the tokens are digits ("5: 0")."""
    shown = display_token(token)
    return f"{position}: {shorten(shown, chars) if chars else shown}"


def key_label(position: int, token: str, weight: float, chars: int | None = None) -> str:
    """ "5: born  0.43": position, token and the weight it gets."""
    return f"{query_label(position, token, chars)}  {weight:.2f}"


@dataclass(frozen=True)
class LinesContent:
    """The lines view at one query: 0-based `queries` (left) and `keys` (right) with the row's weights
    of the keys, and a note when keys the query sees are left out."""

    queries: range
    keys: list[int]
    weights: list[float]
    note: str


def lines_content(row: np.ndarray, query: int, steps: int, limit: int, masked: bool) -> LinesContent:
    """What the lines view shows for 0-based `query` (row (S,) of weights; `masked`: causal
    self-attention, whose keys after the query are masked: not keys it attends to)."""
    queries = query_window(query, steps, limit)
    seen = row[: query + 1] if masked else row
    keys = key_choice(seen, limit)
    left_out = seen.size - len(keys)
    note = ""
    if left_out:
        note = f"the {len(keys)} largest of {seen.size} keys"
    return LinesContent(queries, keys, [float(row[k]) for k in keys], note)
