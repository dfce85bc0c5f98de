"""The arrays a Hugging Face trace fills while the model runs, and what its output head keeps.

`StackArrays` holds one stack's arrays and is written by the capture hooks, a layer at a time:
hidden (T, L, 1, d), self-attention (L, h, T, T) — packed as a CausalAttention for a causal stack —,
cross-attention (L, h, T, S) and the final norm (T, d). A causal stack has room to grow, so that
appending a token writes one more row and never copies the past (older traces keep views of it).

What the output head keeps (top-k, the true token's probability and rank) is seqviz.core.top_outputs'.
"""

from __future__ import annotations

import numpy as np
import torch

from seqviz.core.causal_attention import CausalAttention, packed_length

_MIN_GROWTH = 64  # rows added at least when a causal stack grows


def as_numpy(tensor: torch.Tensor) -> np.ndarray:
    """float32 on the CPU (arrays come back from whatever device the model runs on)."""
    return tensor.detach().to("cpu", torch.float32).numpy()


class StackArrays:
    """One stack's arrays (layers L, heads h, width d), filled row by row from `start`."""

    def __init__(
        self,
        layers: int,
        heads: int,
        width: int,
        steps: int,
        *,
        causal: bool,
        keys: int = 0,
        norm: bool = False,
    ) -> None:
        self.layers, self.heads, self.width, self.causal = layers, heads, width, causal
        self.keys, self.has_norm = keys, norm  # keys: S source positions of a cross-attention
        self.start = 0  # the row the next pass writes first
        self.length = 0  # rows written
        # exactly the rows of the first pass: with transparent huge pages, room left unused inside an
        # allocation is resident memory all the same; appends grow the buffers
        self._allocate(steps)

    @staticmethod
    def capacity_for(steps: int) -> int:
        """Room to grow to: 1/8 more (a copy of everything every ~T/8 appends: O(T) per append)."""
        return max(steps + _MIN_GROWTH, steps * 9 // 8)

    def _allocate(self, capacity: int) -> None:
        """(Re)allocate with room for `capacity` rows, keeping what is written. Uninitialised: every
        row is written before a view shows it."""
        L, h, d, T = self.layers, self.heads, self.width, self.length
        hidden = np.empty((capacity, L, 1, d), np.float32)
        if self.causal:
            attention = np.empty((L, h, packed_length(capacity)), np.float32)
        else:
            attention = np.empty((L, h, capacity, capacity), np.float32)
        cross = np.empty((L, h, capacity, self.keys), np.float32) if self.keys else None
        norm = np.empty((capacity, d), np.float32) if self.has_norm else None
        if T:  # only a causal stack grows
            hidden[:T] = self.hidden[:T]
            attention[..., : packed_length(T)] = self.attention[..., : packed_length(T)]
            if cross is not None:
                cross[:, :, :T] = self.cross[:, :, :T]
            if norm is not None:
                norm[:T] = self.norm_out[:T]
        self.hidden, self.attention, self.cross, self.norm_out = hidden, attention, cross, norm
        self.capacity = capacity

    def begin(self, rows: int) -> None:
        """The next pass computes `rows` more positions (after those written)."""
        self.start = self.length
        if self.start + rows > self.capacity:
            self._allocate(self.capacity_for(self.start + rows))
        self.length = self.start + rows

    # Written by the hooks (batch of one) -----------------------------------------------------------
    def write_block(self, layer: int, output: torch.Tensor) -> None:
        self.hidden[self.start : self.length, layer, 0] = as_numpy(output[0])

    def write_attention(self, kind: str, layer: int, weights: torch.Tensor) -> None:
        w = as_numpy(weights[0])  # (h, n, m)
        if kind == "cross":
            self.cross[layer, :, self.start : self.length] = w
        elif not self.causal:
            self.attention[layer] = w
        else:  # row t keeps its t+1 weights; the rest are masked (exactly 0)
            packed = self.attention[layer]
            # a sliding-window cache (Mistral) holds only the last m keys: key 0 is position `first`,
            # and the weights on earlier positions are exactly 0, as in a full pass
            first = self.length - w.shape[2]
            for i, t in enumerate(range(self.start, self.length)):
                offset = packed_length(t)
                packed[:, offset : offset + first] = 0.0
                packed[:, offset + first : offset + t + 1] = w[:, i, : t + 1 - first]

    def write_norm(self, output: torch.Tensor) -> None:
        self.norm_out[self.start : self.length] = as_numpy(output[0])

    # Read by the trace ------------------------------------------------------------------------------
    def views(self, prefix: str = "") -> dict[str, np.ndarray | CausalAttention]:
        """The arrays of the rows written, as views (names prefixed, e.g. "encoder_")."""
        T = self.length
        arrays: dict[str, np.ndarray | CausalAttention] = {f"{prefix}hidden": self.hidden[:T]}
        if self.causal:
            arrays[f"{prefix}attention"] = CausalAttention(self.attention, T)
        else:
            arrays[f"{prefix}attention"] = self.attention[:, :, :T, :T]
        if self.cross is not None:
            arrays["cross_attention"] = self.cross[:, :, :T]
        if self.norm_out is not None:
            arrays[f"{prefix}final_norm"] = self.norm_out[:T]
        return arrays


class Recording:
    """The capture hooks' Recorder: each stack's tensors to its StackArrays."""

    def __init__(self, arrays: dict[str, StackArrays]) -> None:
        self.arrays = arrays

    def block(self, stack: str, layer: int, output: torch.Tensor) -> None:
        self.arrays[stack].write_block(layer, output)

    def attention(self, stack: str, kind: str, layer: int, weights: torch.Tensor) -> None:
        self.arrays[stack].write_attention(kind, layer, weights)

    def norm(self, stack: str, output: torch.Tensor) -> None:
        self.arrays[stack].write_norm(output)
