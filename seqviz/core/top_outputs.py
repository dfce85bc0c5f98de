"""A language model head's outputs as a trace holds them: all of them, or the top k of a large vocabulary.

`probs` (T, V) of a word model trained on wikitext-2 (V = 33,278) is 133 MB at T = 1,000, and GPT-2's
(V = 50,257) 201 MB, for bars of which the output panel shows ten. Seqviz models above
`LARGE_VOCABULARY` outputs and every Hugging Face model with a head keep what is shown (docs/trace.md):
    top_ids      (T, k) int32    the k most probable outputs per step, most probable first
    top_probs    (T, k) float32  their probabilities
    target_prob  (T,) float32    the probability of the true token (NaN where it is not known)
    target_rank  (T,) int32      its rank, 1 = the model's first choice (-1 where it is not known)
    next_probs   (V,) float32    the whole distribution of the last step: generation samples from it
`top_outputs` computes them a block of rows at a time, so the (T, V) probabilities never exist (nor,
for a head given as a function, the (T, V) logits). This is the one place that does: the word
language models (`head_outputs`) and the Hugging Face traces (seqviz.core.hf) both call it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

LARGE_VOCABULARY = 5000  # more outputs than this: top-k arrays instead of probs
TOP_K = 10  # outputs kept per step: the output panel's bars (Hugging Face traces take top_k=)
BLOCK_VALUES = 1 << 22  # values per block of rows of a large head (16 MB of float32)

LogitsOf = Callable[[int, int], torch.Tensor]  # (start, stop) -> logits (stop - start, V), any device


def top_outputs(
    logits_of: LogitsOf, steps: int, width: int, targets: Sequence[int] | None, k: int = TOP_K
) -> dict[str, np.ndarray]:
    """The top-k arrays of softmax(logits) over `steps` rows of `width` outputs (V).

    `logits_of(start, stop)` gives the logits of rows start..stop-1; `targets` (T,) the true id per row,
    -1 (or out of range) where it is not known, or None: no target arrays. Ranks count the outputs
    strictly more probable (ties share the better rank)."""
    k = min(k, width)
    top_ids, top_probs = np.empty((steps, k), np.int32), np.empty((steps, k), np.float32)
    target_prob, target_rank = np.full(steps, np.nan, np.float32), np.full(steps, -1, np.int32)
    next_probs = np.empty(width, np.float32)
    block = max(1, BLOCK_VALUES // width)
    for start in range(0, steps, block):
        stop = min(start + block, steps)
        probs = torch.softmax(logits_of(start, stop).float(), dim=-1)  # (n, V)
        values, ids = torch.topk(probs, k, dim=-1)  # sorted, most probable first
        top_ids[start:stop], top_probs[start:stop] = ids.cpu().numpy(), values.cpu().numpy()
        rows = probs.cpu().numpy()
        if stop == steps:
            next_probs[:] = rows[-1]
        if targets is not None:
            _write_targets(rows, targets[start:stop], target_prob[start:stop], target_rank[start:stop])
    arrays = {"top_ids": top_ids, "top_probs": top_probs, "next_probs": next_probs}
    if targets is not None:
        arrays.update(target_prob=target_prob, target_rank=target_rank)
    return arrays


def _write_targets(rows: np.ndarray, wanted: Sequence[int], prob: np.ndarray, rank: np.ndarray) -> None:
    """prob[i], rank[i] of the true id wanted[i] in rows[i] (n, V), where it is known (a view each)."""
    wanted = np.asarray(wanted, np.int64)
    known = (wanted >= 0) & (wanted < rows.shape[1])
    if not known.any():
        return
    p = rows[np.arange(len(rows)), np.where(known, wanted, 0)]  # (n,)
    ranks = (rows > p[:, None]).sum(axis=1) + 1  # numpy: torch's sum over a bool tensor is slower
    prob[known], rank[known] = p[known], ranks[known]


def logits_outputs(logits: torch.Tensor, targets: Sequence[int] | None, k: int = TOP_K) -> dict:
    """`top_outputs` of logits (T, V) a model has already computed (a Hugging Face head's)."""
    steps, width = logits.shape
    return top_outputs(lambda start, stop: logits[start:stop], steps, width, targets, k)


def rank_of(probs: np.ndarray, token: int) -> int:
    """The rank of `token` in one distribution (V,), as `top_outputs` counts it."""
    return int((probs > probs[token]).sum()) + 1


def head_outputs(
    head: Callable[[torch.Tensor], torch.Tensor], features: torch.Tensor, next_ids: Sequence[int] | None
) -> dict[str, np.ndarray]:
    """softmax(head(features)) for features (T, H): {"probs": (T, V)} for small heads, else the top-k
    arrays. `next_ids` (T-1,) are the true next tokens of a language model (row t predicts token t+1);
    None for other heads (no target arrays)."""
    width = getattr(head, "out_features", None) or head(features[:1]).shape[-1]  # V, without every row
    if width <= LARGE_VOCABULARY:
        return {"probs": torch.softmax(head(features), dim=-1).numpy()}
    targets = None if next_ids is None else [*next_ids, -1]  # the last step has no next token
    return top_outputs(lambda start, stop: head(features[start:stop]), len(features), width, targets)


def predictions(arrays) -> np.ndarray:
    """The output shown as the prediction at each step (T,): argmax of `probs`, or `top_ids[:, 0]`."""
    if "probs" in arrays:
        return np.argmax(arrays["probs"], axis=1)
    return np.asarray(arrays["top_ids"])[:, 0].astype(np.int64)
