"""Aligning the steps of compared runs, without Qt: which step of run B the shared cursor shows.

The shared cursor counts the steps of the first run (the reference). A compared run whose model splits
the text the same way is aligned by position: step t in both (clamped to its length). A run whose
tokenizer differs (a character model against a word model) is aligned by the characters of the text:
the reference's step t shows the run's step whose token covers the last character of the reference's
token t — the state after reading as far into the text as the reference has read.

Token positions come from the model interface alone (`count_tokens` of prefixes of the text), so any
tokenizer that reads a prefix as a prefix of its tokens (characters, words) is aligned exactly. A model
whose counts do not add up (it adds markup tokens, or splits a prefix differently) is aligned by position.

Step maps are int arrays: `step_map[t - 1]` is the run's step (1-based) for the reference's step t;
None means by position. A run aligned by position may be longer than the reference: the shared cursor
then counts its steps too (the reference's panels stay at their last step).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import numpy as np

CountTokens = Callable[[str], int]


def token_starts(text: str, count_tokens: CountTokens, num_steps: int) -> np.ndarray | None:
    """(T,) character offset where each token of `text` starts, or None when the model's counts of
    prefixes do not describe its T tokens (then characters cannot align it).

    Token i starts at the first character whose prefix (up to and including it) counts i + 1 tokens:
    a prefix ending inside a word already counts that word. Bisection: O(T log len(text)) counts."""
    if num_steps <= 0 or count_tokens("") != 0 or count_tokens(text) != num_steps:
        return None
    starts = np.zeros(num_steps, np.int64)
    low = 1
    for i in range(num_steps):
        lo, hi = low, len(text)
        while lo < hi:  # the shortest prefix that counts i + 1 tokens
            mid = (lo + hi) // 2
            if count_tokens(text[:mid]) >= i + 1:
                hi = mid
            else:
                lo = mid + 1
        starts[i] = lo - 1
        low = lo
    if np.any(np.diff(starts) <= 0):  # two tokens starting at one character: not a prefix tokenizer
        return None
    return starts


def token_ends(text: str, starts: np.ndarray) -> np.ndarray:
    """(T,) offset of each token's last character: the last non-space character before the next token
    starts (trailing spaces are not part of a word), or the token's first character if all are spaces."""
    bounds = [*starts[1:].tolist(), len(text)]
    ends = np.empty(len(starts), np.int64)
    for i, (start, stop) in enumerate(zip(starts.tolist(), bounds, strict=True)):
        piece = text[start:stop]
        ends[i] = start + max(len(piece.rstrip()) - 1, 0)
    return ends


def steps_by_characters(shared_ends: np.ndarray, run_starts: np.ndarray) -> np.ndarray:
    """Step t of the reference shows the run's token that covers the reference token's last character
    (the last run token starting at or before it; the first when none does)."""
    run_starts = run_starts.tolist()
    steps = [max(bisect.bisect_right(run_starts, int(end)), 1) for end in shared_ends]
    return np.asarray(steps, np.int64)


def run_step(step_map: np.ndarray | None, step: int, num_run: int) -> int:
    """The run's step (1..num_run) that the reference's `step` shows; by position when `step_map` is
    None (step t in both, the run's last step once it has no more)."""
    if step <= 0 or num_run <= 0:
        return 0
    if step_map is None or len(step_map) == 0:
        return min(step, num_run)
    return min(int(step_map[min(step, len(step_map)) - 1]), num_run)


def shared_step_for(step_map: np.ndarray | None, run_step: int) -> int:
    """The reference's step that shows `run_step` of the run: the first that reaches it (a click on a
    compared run's panel moves the shared cursor there)."""
    if step_map is None:
        return run_step
    if len(step_map) == 0:
        return 0
    index = int(np.searchsorted(step_map, run_step, side="left"))
    return min(index, len(step_map) - 1) + 1


def align(
    shared_text: str,
    count_shared: CountTokens,
    num_shared: int,
    run_text: str,
    count_run: CountTokens,
    num_run: int,
    same_tokens: bool,
) -> np.ndarray | None:
    """The step map of a compared run: None when it is aligned by position (same tokens, or counts that
    cannot place tokens in the text), else the map by characters."""
    if same_tokens:
        return None
    shared_starts = token_starts(shared_text, count_shared, num_shared)
    run_starts = token_starts(run_text, count_run, num_run)
    if shared_starts is None or run_starts is None:
        return None
    return steps_by_characters(token_ends(shared_text, shared_starts), run_starts)
