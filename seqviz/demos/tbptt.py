"""Truncated backpropagation through time over one long text: the batches of a language model of a text.

The text (token ids) is cut into `batch_size` parallel streams and read in windows of `bptt` tokens; a
recurrent model's state is carried from one window to the next (detached), so it learns to use context
from before the window. Used by the code LSTM (seqviz.demos.charlm_train) and by TrainingRun on a text
file (seqviz.demos.training_run).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import torch
import torch.nn.functional as F

Window = tuple[torch.Tensor, torch.Tensor, bool]  # x (B, bptt), y (B, bptt) one token ahead, fresh


def parallel_streams(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """ids (N,) -> (batch_size, N // batch_size): row b is the b-th contiguous stretch of the text."""
    length = ids.numel() // batch_size
    return ids[: length * batch_size].reshape(batch_size, length)


def windows(streams: torch.Tensor, bptt: int, rng: random.Random) -> Iterator[Window]:
    """Endless (x, y, fresh) windows: x, y (B, bptt), y one token ahead; `fresh` at each pass's start.

    Each pass starts at a random offset below `bptt`, so window edges fall in new places every pass.
    """
    length = streams.shape[1]
    while True:
        start = rng.randrange(bptt)
        for i, at in enumerate(range(start, length - bptt - 1, bptt)):
            yield streams[:, at : at + bptt], streams[:, at + 1 : at + bptt + 1], i == 0


def recurrent_window_loss(
    net: torch.nn.Module, window: Window, state: object, dropout: float = 0.0
) -> tuple[torch.Tensor, object]:
    """The next-token loss (nats) of a RecurrentNet on one window, and the state to carry (detached).

    `state`: what the last window left (None to start afresh; a pass's first window starts afresh,
    since it follows the end of the text). `dropout` acts on the top layer's output (training only).
    """
    x, y, fresh = window
    out, state = net.rnn(net.embedding(x), None if fresh else state)  # (B, bptt, H)
    # truncated: gradients stop at the window's start (an LSTM's state is a tuple (h, c))
    state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
    logits = net.head(F.dropout(out, dropout) if dropout else out)  # (B, bptt, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)), state
