"""The linear recurrence v[t] = f[t] * v[t-1] + v[t] along time, in place, in numpy.

An LSTM's cell state is this scan (c_t = f_t * c_{t-1} + i_t * g_t, the i*g term written first).
numpy has no scan of its own and a Python loop over T costs two numpy calls per step, so short rows
are grouped into blocks of about sqrt(T) steps, scanned side by side, then joined.
"""

from __future__ import annotations

import math

import numpy as np

# Rows smaller than this go block-wise (fewer, larger numpy calls); larger rows already amortise the
# per-call cost, and their block-wise passes would cost more memory traffic than they save.
_BLOCKWISE_BELOW = 512


def linear_scan(values: np.ndarray, factors: np.ndarray, initial: np.ndarray) -> None:
    """In place along axis 0: values[t] = factors[t] * values[t-1] + values[t], values[-1] = initial.

    values, factors: (T, ...) views of the same shape (any strides); initial: (...).
    """
    values[0] += factors[0] * initial
    if values[0].size >= _BLOCKWISE_BELOW:
        _sequential_scan(values, factors, 1)
    else:
        _blockwise_scan(values, factors)


def _sequential_scan(values: np.ndarray, factors: np.ndarray, start: int) -> None:
    scratch = np.empty_like(values[0])
    for t in range(start, values.shape[0]):
        np.multiply(factors[t], values[t - 1], out=scratch)
        np.add(values[t], scratch, out=values[t])


def _blockwise_scan(values: np.ndarray, factors: np.ndarray) -> None:
    """The scan in about 8*sqrt(T) numpy calls instead of 2*T (same sums, grouped by blocks of steps).

    Each block is first scanned from a zero state (all blocks side by side), then the state entering
    each block is carried from block to block, then added to every step of its block, decayed by the
    product of the factors so far. values[0] already includes the initial state.
    """
    block = max(1, math.isqrt(values.shape[0]))
    blocks = values.shape[0] // block
    grid = (blocks, block, *values.shape[1:])
    v, f = values[: blocks * block].reshape(grid), factors[: blocks * block].reshape(grid)  # views
    scratch = np.empty_like(v[:, 0])  # (blocks, ...)
    decay = f[:, 0].copy()  # product of each block's factors so far
    for k in range(1, block):
        np.multiply(f[:, k], v[:, k - 1], out=scratch)
        v[:, k] += scratch
        decay *= f[:, k]
    for b in range(1, blocks):  # block b's last step gets the state that entered it, now final
        v[b, -1] += decay[b] * v[b - 1, -1]
    entering, decay = v[:-1, -1], f[1:, 0].copy()
    for k in range(block - 1):
        np.multiply(decay, entering, out=scratch[1:])
        v[1:, k] += scratch[1:]
        decay *= f[1:, k + 1]
    _sequential_scan(values, factors, blocks * block)
