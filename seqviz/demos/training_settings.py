"""What a training session is asked to do: the settings of issue 14's training, checked in one place.

`TrainSettings` is shared by every architecture of one session (the task or text file, steps, batch,
learning rate, seed, clipping, how often to evaluate and snapshot); `ArchSettings` is one architecture
and its sizes. `check_settings` and `check_arch` refuse what cannot be trained with a
`TrainingInputError` whose message says what is wrong and what to do. seqviz.demos.training_run
re-exports all of these (its public home).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ARCHS = ("rnn", "gru", "lstm", "transformer")
LEVELS = ("char", "word")
MAX_SIZE = 1_000_000  # hidden, embed, heads, layers: far beyond memory anyway; keeps the arithmetic sane
MAX_STEPS = 100_000_000


class TrainingInputError(ValueError):
    """Bad training input; str(e) is one or two sentences for a person: what is wrong and what to do."""


@dataclass(frozen=True)
class ArchSettings:
    """One architecture to train, with its sizes."""

    arch: str  # one of ARCHS
    hidden: int = 64  # hidden size (recurrent) or d_model (Transformer)
    layers: int = 1
    embed: int = 32  # recurrent only: a Transformer embeds to d_model
    heads: int = 4  # Transformer only


@dataclass(frozen=True)
class TrainSettings:
    """Shared by every architecture of one training session."""

    task: str  # a bundled task name ("long-range", "sentiment", "pos") or the path of a text file
    level: str = "char"  # text files only: "char" or "word"
    steps: int = 1000
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0
    clip: float | None = 1.0  # gradient-norm clipping threshold; None = off
    eval_every: int = 50  # held-out accuracy every this many steps (and at step 0 and at the end)
    snapshot_every: int = 100  # a copy of the weights every this many steps (and at step 0 and the last)


def _positive_int(value: object, name: str, hint: str, limit: int = MAX_SIZE) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TrainingInputError(f"{name} must be a whole number of at least 1, not {value!r}; {hint}")
    if value > limit:
        raise TrainingInputError(f"{name} {value:,} is more than seqviz trains ({limit:,} at most); {hint}")


def check_settings(s: TrainSettings) -> None:
    """TrainingInputError for settings nothing can be trained with (steps < 1, lr <= 0, ...)."""
    _positive_int(s.steps, "the number of steps", "try 1000", MAX_STEPS)
    _positive_int(s.batch_size, "the batch size", "try 32")
    _positive_int(s.eval_every, "'evaluate every'", "try 50 steps", MAX_STEPS)
    _positive_int(s.snapshot_every, "'snapshot every'", "try 100 steps", MAX_STEPS)
    if isinstance(s.seed, bool) or not isinstance(s.seed, int) or s.seed < 0:
        raise TrainingInputError(f"the seed must be a whole number of 0 or more, not {s.seed!r}")
    if not _finite_positive(s.lr):
        raise TrainingInputError(f"the learning rate must be a number above 0, not {s.lr!r}; try 0.003")
    if s.clip is not None and not _finite_positive(s.clip):
        raise TrainingInputError(
            f"the clipping threshold must be a number above 0 (or clipping off), not {s.clip!r}; try 1.0"
        )
    if s.level not in LEVELS:
        raise TrainingInputError(f"the level must be 'char' or 'word', not {s.level!r}")


def check_arch(a: ArchSettings) -> None:
    """TrainingInputError for an unknown architecture or sizes no model has."""
    if a.arch not in ARCHS:
        raise TrainingInputError(f"unknown architecture {a.arch!r}; choose one of {', '.join(ARCHS)}")
    width = "d_model" if a.arch == "transformer" else "the hidden size"
    _positive_int(a.hidden, width, "try 64")
    _positive_int(a.layers, "the number of layers", "try 1 or 2")
    _positive_int(a.embed, "the embedding size", "try 32")
    _positive_int(a.heads, "the number of heads", "try 4")
    if a.arch == "transformer" and a.hidden % a.heads:
        raise TrainingInputError(
            f"a Transformer's d_model ({a.hidden}) must be a multiple of its number of heads ({a.heads}); "
            f"try d_model {a.hidden - a.hidden % a.heads or a.heads} or another number of heads"
        )


def _finite_positive(value: object) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )
