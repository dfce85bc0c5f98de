"""A language model head's outputs as a trace holds them: all of them, or the top k of a large vocabulary.

`probs` (T, V) of a word model trained on wikitext-2 (V = 33,278) is 133 MB at T = 1,000, for bars of
which the output panel shows ten. Above `LARGE_VOCABULARY` outputs the trace keeps what is shown
(docs/trace.md):
    top_ids      (T, k) int32    the k most probable outputs per step, most probable first
    top_probs    (T, k) float32  their probabilities
    target_prob  (T,) float32    the probability of the true next token (NaN at the last step)
    target_rank  (T,) int32      its rank, 1 = the model's first choice (-1 at the last step)
    next_probs   (V,) float32    the whole distribution of the last step: generation samples from it
The rows are computed a block at a time, so the (T, V) matrix never exists either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

LARGE_VOCABULARY = 5000  # more outputs than this: top-k arrays instead of probs
TOP_K = 20  # outputs kept per step (the panel shows up to 10)
_BLOCK_VALUES = 1 << 22  # probabilities per block of rows (16 MB of float32)


def head_outputs(
    head: Callable[[torch.Tensor], torch.Tensor], features: torch.Tensor, next_ids: Sequence[int] | None
) -> dict[str, np.ndarray]:
    """softmax(head(features)) for features (T, H): {"probs": (T, V)} for small heads, else the top-k
    arrays. `next_ids` (T-1,) are the true next tokens of a language model (row t predicts token t+1);
    None for other heads (no target arrays)."""
    width = getattr(head, "out_features", None) or head(features[:1]).shape[-1]  # V, without every row
    if width <= LARGE_VOCABULARY:
        return {"probs": torch.softmax(head(features), dim=-1).numpy()}
    return _top_outputs(head, features, next_ids, width)


def _top_outputs(head, features: torch.Tensor, next_ids: Sequence[int] | None, width: int) -> dict:
    steps, k = features.shape[0], min(TOP_K, width)
    top_ids = np.empty((steps, k), np.int32)
    top_probs = np.empty((steps, k), np.float32)
    target_prob = np.full(steps, np.nan, np.float32)
    target_rank = np.full(steps, -1, np.int32)
    next_probs = np.empty(width, np.float32)
    targets = torch.as_tensor(list(next_ids or ()), dtype=torch.long)  # (T-1,)
    block = max(1, _BLOCK_VALUES // width)
    for start in range(0, steps, block):
        rows = slice(start, min(start + block, steps))
        probs = torch.softmax(head(features[rows]), dim=-1)  # (B, V)
        values, indices = probs.topk(k, dim=-1)  # sorted, most probable first
        top_ids[rows], top_probs[rows] = indices.numpy(), values.float().numpy()
        next_probs[:] = probs[-1].float().numpy()  # the last block's last row is the last step's
        known = targets[rows.start : rows.stop]  # rows with a next token (not the last step)
        if len(known):
            p = probs[: len(known)].gather(1, known[:, None])  # (n, 1)
            target_prob[rows.start : rows.start + len(known)] = p[:, 0].float().numpy()
            rank = 1 + (probs[: len(known)] > p).sum(dim=1)
            target_rank[rows.start : rows.start + len(known)] = rank.numpy()
    arrays = {"top_ids": top_ids, "top_probs": top_probs, "next_probs": next_probs}
    if next_ids is not None:
        arrays.update(target_prob=target_prob, target_rank=target_rank)
    return arrays


def predictions(arrays) -> np.ndarray:
    """The output shown as the prediction at each step (T,): argmax of `probs`, or `top_ids[:, 0]`."""
    if "probs" in arrays:
        return np.argmax(arrays["probs"], axis=1)
    return np.asarray(arrays["top_ids"])[:, 0].astype(np.int64)
