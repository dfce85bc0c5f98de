"""CausalAttention: a causal model's attention (L, h, T, T), stored as its lower triangles.

Row t of a causal self-attention matrix holds t+1 weights; the T-t-1 after them are masked, exactly 0.
Keeping only the rows' live parts halves the memory of the largest array of a trace (a GPT-2-sized
model at T~1,000: 256 MB instead of 512 MB) and loses nothing: reading it gives the very numbers the
model computed, with exact zeros above the diagonal.

The array reads like a numpy array wherever the app reads one: `shape`, `ndim`, `dtype`, indexing
(`a[layer, head]` is one (T, T) matrix, made on request), and `np.asarray(a)` (the whole dense array,
e.g. for `Trace.save` or a difference of two runs).

Layout of `packed` (L, h, >= T(T+1)/2): for each (layer, head), row 0's weight, then row 1's two, and
so on, row after row. Appending a step appends a row at the end, so the packed array of a longer trace
starts with the packed array of any of its prefixes (generation extends a buffer; older traces keep a
view of its beginning).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


def packed_length(steps: int) -> int:
    """Weights kept for T steps: 1 + 2 + ... + T."""
    return steps * (steps + 1) // 2


@lru_cache(maxsize=4)
def lower_triangle(steps: int) -> np.ndarray:
    """(T, T) bool, True on and below the diagonal, read-only: made once per T, since the app reads
    one matrix per head (144 at a time in the thumbnail grid) and np.tri of T = 1,000 took ~0.2 ms
    of each ~0.5 ms read. Its row-major order is the packed order."""
    rows = np.tri(steps, dtype=bool)
    rows.flags.writeable = False
    return rows


class CausalAttention:
    """(L, h, T, T) float32 causal attention, read-only, from `packed` (L, h, >= T(T+1)/2)."""

    ndim = 4
    dtype = np.dtype(np.float32)

    def __init__(self, packed: np.ndarray, steps: int) -> None:
        if packed.ndim != 3 or packed.shape[2] < packed_length(steps):
            raise ValueError(f"packed attention {packed.shape} holds fewer than {steps} rows")
        self._packed = packed[:, :, : packed_length(steps)]  # a view: appends write beyond it
        self.shape = (packed.shape[0], packed.shape[1], steps, steps)

    @classmethod
    def from_dense(cls, dense: np.ndarray) -> CausalAttention:
        """Pack (L, h, T, T) weights whose upper triangles are zero (what a causal model computes)."""
        layers, heads, steps, _ = dense.shape
        packed = np.empty((layers, heads, packed_length(steps)), np.float32)
        packed[...] = dense[:, :, lower_triangle(steps)]
        return cls(packed, steps)

    @property
    def packed(self) -> np.ndarray:
        """(L, h, T(T+1)/2): the kept weights, row after row (a read-only view)."""
        view = self._packed.view()
        view.flags.writeable = False
        return view

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        """Bytes actually held (half the dense array's, plus a diagonal)."""
        return int(self._packed.nbytes)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"CausalAttention(shape={self.shape}, packed {self.nbytes / 2**20:.1f} MiB)"

    def matrix(self, layer: int, head: int) -> np.ndarray:
        """(T, T) float32: the weights of one layer and head, zeros above the diagonal."""
        steps = self.shape[2]
        out = np.zeros((steps, steps), np.float32)
        out[lower_triangle(steps)] = self._packed[layer, head]
        return out

    def _layers(self, layers: np.ndarray) -> np.ndarray:
        """(len(layers), h, T, T) dense weights of those layers."""
        steps = self.shape[2]
        out = np.zeros((len(layers), self.shape[1], steps, steps), np.float32)
        out[:, :, lower_triangle(steps)] = self._packed[layers]
        return out

    def __getitem__(self, key: Any) -> np.ndarray:
        """numpy indexing; only the layers (and, for one layer and head, the matrix) asked for are made."""
        key = _full_key(key)
        if not key:
            return np.asarray(self)
        layer_key, rest = key[0], key[1:]
        layers = np.arange(self.shape[0])[layer_key]
        if np.ndim(layers) == 0:
            head_key, after = (rest[0], rest[1:]) if rest else (slice(None), ())
            heads = np.arange(self.shape[1])[head_key]
            if np.ndim(heads) == 0:
                return self.matrix(int(layers), int(heads))[after]
            return self._layers(np.asarray([layers]))[0][rest]
        chosen = np.atleast_1d(layers)
        # a fancy layer index stays fancy (numpy broadcasts it with other fancy indices); a slice stays
        # a slice over the layers already chosen
        layer_index = slice(None) if isinstance(layer_key, slice) else np.arange(len(chosen))
        return self._layers(chosen)[(layer_index, *rest)]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        dense = self._layers(np.arange(self.shape[0]))
        return dense if dtype is None else dense.astype(dtype)

    def astype(self, dtype: Any) -> np.ndarray:
        return np.asarray(self).astype(dtype)

    def copy(self) -> CausalAttention:
        return CausalAttention(self._packed.copy(), self.shape[2])


def _full_key(key: Any) -> tuple:
    """`key` as a tuple without Ellipsis (expanded to full slices over 4 dimensions)."""
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = (slice(None),) * (4 - (len(key) - 1) - sum(k is None for k in key))
        key = (*key[:at], *fill, *key[at + 1 :])
    return key
