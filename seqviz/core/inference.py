"""Running a model without training it: eval mode for the duration, and the one decoding loop.

Every generator in seqviz is the same loop: ask the model for the scores of the next token, pick one, stop
after the end token or at a length limit. The Transformer appending to its cached keys and values
(seqviz.core.generate), greedy translation by the encoder-decoders (seqviz.core.transformer,
seqviz.core.bahdanau) and the demos' writer (seqviz.demos.generation) differ only in how they compute the
scores and how they pick; `decode_tokens` is that loop and `pick_token` the usual way to pick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    import torch.nn as nn

Token = TypeVar("Token")  # an id (int), or a batch of ids (a (B,) or (B, 1) tensor)


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode for the duration (no dropout), then every submodule's own mode back."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def decode_tokens(
    next_scores: Callable[[list[Token]], Any],
    max_new: int,
    pick: Callable[[Any], Token],
    stop: Token | None = None,
) -> list[Token]:
    """The tokens a model adds, one at a time: `pick(next_scores(added))` until `stop` or `max_new` tokens.

    next_scores(added) gets the tokens added so far (read it, do not keep it) and returns the scores of
    the next one. It is called once per added token and never after the last, so a model with room for
    exactly `max_new` more positions is never asked for one more. `stop`, when reached, is the last token.
    """
    added: list[Token] = []
    while len(added) < max_new:
        added.append(pick(next_scores(added)))
        if stop is not None and added[-1] == stop:
            break
    return added


def pick_token(
    logits: Any,
    temperature: float = 0.0,
    rng: np.random.Generator | None = None,
    banned: tuple[int, ...] = (),
) -> int:
    """argmax of logits (V,) when temperature <= 0, else a sample from softmax(logits / temperature).

    Log-probabilities work as logits; so does a CPU tensor. `banned` ids (e.g. padding) are never picked."""
    z = np.asarray(logits, np.float64).copy()
    z[list(banned)] = -np.inf
    if not np.isfinite(z.max()):
        raise ValueError("the model gives no probability to any token it can emit")
    if temperature <= 0:
        return int(np.argmax(z))
    z /= temperature
    p = np.exp(z - z.max())
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.choice(len(p), p=p / p.sum()))
