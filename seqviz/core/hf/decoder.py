"""A decoder-only model's trace that grows one token at a time, from transformers' key/value cache.

`DecoderRun(model, family, ids, ...)` runs the ids once (the cache filled on the way) and holds the
arrays in buffers with room to grow; `append(token_id)` runs the one new token against the cache and
writes one more row of every array, so appending never recomputes the prefix. The arrays are exactly
those of a full trace of the longer ids (tested), to float rounding.

Older traces stay valid: their arrays are views of the buffers' beginnings, which appends never
rewrite, and each trace gets its own copy of the small per-step target arrays (the true next token of
the last step becomes known only when a token is appended).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from seqviz.core.hf.arrays import StackArrays
from seqviz.core.hf.capture import DECODER
from seqviz.core.hf.families import Family
from seqviz.core.hf.passes import Ablation, ids_tensor, run_recorded, stack_arrays
from seqviz.core.top_outputs import logits_outputs, rank_of


class DecoderRun:
    """Trace arrays of a decoder-only model over `ids`, ready to be extended by `append`.

    head "lm": also top_ids / top_probs (T, k), target_prob / target_rank (T,) of the true next token
    (NaN / -1 at the last step) and next_probs (V,), the distribution after the last token."""

    def __init__(
        self, model: Any, family: Family, ids: Sequence[int], head: str, k: int, ablations: Sequence[Ablation]
    ) -> None:
        self.model, self.family, self.head, self.k = model, family, head, k
        self.ablations = tuple(ablations)
        self.ids = [int(i) for i in ids]
        self.stack: StackArrays = stack_arrays(model, family, DECODER, len(self.ids), causal=True)
        out = run_recorded(
            model,
            family,
            {DECODER: self.stack},
            self.ablations,
            input_ids=ids_tensor(self.ids, model.device),
            use_cache=head == "lm",
        )
        self.cache = _cache_of(out) if head == "lm" else None
        if head == "lm":
            self._start_head(out.logits[0])

    # The head's arrays ------------------------------------------------------------------------------
    def _start_head(self, logits: torch.Tensor) -> None:
        outputs = logits_outputs(logits, [*self.ids[1:], -1], self.k)
        capacity = self.stack.capacity
        self._top_ids = _grown(outputs["top_ids"], capacity)
        self._top_probs = _grown(outputs["top_probs"], capacity)
        self._target_prob = _grown(outputs["target_prob"], capacity, np.nan)
        self._target_rank = _grown(outputs["target_rank"], capacity, -1)
        self.next_probs = outputs["next_probs"]  # (V,) after the last token

    def _append_head(self, token_id: int, logits: torch.Tensor) -> None:
        """Row T-1's true next token is now known; row T is the new token's prediction."""
        T = len(self.ids)  # already includes the new token
        if self._top_ids.shape[0] < self.stack.capacity:
            capacity = self.stack.capacity
            self._top_ids, self._top_probs = (
                _grown(self._top_ids, capacity),
                _grown(self._top_probs, capacity),
            )
            self._target_prob = _grown(self._target_prob, capacity, np.nan)
            self._target_rank = _grown(self._target_rank, capacity, -1)
        before = self.next_probs  # (V,) of row T-2, which predicted token_id
        self._target_prob[T - 2] = before[token_id]
        self._target_rank[T - 2] = rank_of(before, token_id)
        outputs = logits_outputs(logits, None, self.k)
        self._top_ids[T - 1], self._top_probs[T - 1] = outputs["top_ids"][0], outputs["top_probs"][0]
        self.next_probs = outputs["next_probs"]

    # Public -----------------------------------------------------------------------------------------
    @property
    def length(self) -> int:
        return len(self.ids)

    def arrays(self) -> dict[str, Any]:
        """The trace's arrays: views of the buffers (the target arrays and next_probs copied)."""
        T = self.length
        arrays: dict[str, Any] = self.stack.views()
        if self.head == "lm":
            arrays.update(
                top_ids=self._top_ids[:T],
                top_probs=self._top_probs[:T],
                target_prob=self._target_prob[:T].copy(),
                target_rank=self._target_rank[:T].copy(),
                next_probs=self.next_probs.copy(),
            )
        return arrays

    def append(self, token_id: int) -> None:
        """Extend by one token: one new row per layer from the cached keys and values."""
        if self.cache is None:
            raise ValueError("only a language model's trace can be extended")
        self.stack.begin(1)
        self.ids = [*self.ids, int(token_id)]
        out = run_recorded(
            self.model,
            self.family,
            {DECODER: self.stack},
            self.ablations,
            input_ids=ids_tensor([token_id], self.model.device),
            use_cache=True,
            **{_cache_keyword(self.model): self.cache},
        )
        self.cache = _cache_of(out)
        self._append_head(int(token_id), out.logits[0])


def _grown(values: np.ndarray, rows: int, fill: float = 0) -> np.ndarray:
    """`values` with room for `rows` rows (the new ones `fill`)."""
    out = np.full((rows, *values.shape[1:]), fill, values.dtype)
    out[: values.shape[0]] = values
    return out


def _cache_keyword(model: Any) -> str:
    """transformers 5 renamed `past_key_values` to `cache` (the old name still works, with a warning)."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _cache_of(out: Any) -> Any:
    """The key/value cache a forward returned (`cache` in transformers 5, `past_key_values` before)."""
    cache = out.get("cache")
    return cache if cache is not None else out.get("past_key_values")
