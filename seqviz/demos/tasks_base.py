"""What every lecture task is made of: the `Task` base class, its `Example`s, and equal-length batches.

A task turns a seeded `random.Random` into `Example`s: the tokens a model reads, one target per step
(or None where that step is not trained), and the steps that count for accuracy. The same structure serves
the three shapes of the lecture:

    kind "lm"        one-to-many / language model: the target of step t is token t+1
    kind "classify"  many-to-one: only the last step has a target (a class)
    kind "tag"       many-to-many, equal length: every step has a target (a tag)

The tasks themselves are in tasks_longrange, tasks_sentiment and tasks_tagging; seqviz.demos.tasks names them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from seqviz.core.tokenize import EOS  # ends language-model sentences, so generation knows where to stop


@dataclass(frozen=True)
class Example:
    """One training or test sequence.

    tokens   the T input tokens
    targets  T labels (a token for "lm", a class for "classify", a tag for "tag"); None = not trained
    scored   the steps whose prediction counts for accuracy (the long-range answer, the class, ...)
    group    a label for a breakdown of the accuracy (e.g. "filler=20", "es"); "" for none
    """

    tokens: tuple[str, ...]
    targets: tuple[str | None, ...]
    scored: tuple[int, ...]
    group: str = ""
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def lm_example(sentence: Sequence[str], scored_words: Sequence[int], group: str = "", **info: Any) -> Example:
    """A language-model example from a whole sentence (EOS appended): step t predicts word t+1.

    `scored_words` are indices into `sentence` of the words whose prediction counts; the step that
    predicts word i is i-1.
    """
    words = [*sentence, EOS]
    return Example(tuple(words[:-1]), tuple(words[1:]), tuple(i - 1 for i in scored_words), group, dict(info))


class Task:
    """Base class: a named, seeded generator of examples plus what a model card needs to say."""

    name: str = ""
    kind: str = "lm"  # "lm", "classify" or "tag"
    title: str = ""
    description: str = ""
    examples: tuple[str, ...] = ()  # card examples: text a lecturer can paste into the app
    #: examples the app offers after the card's (catalogue.bundled_entries), written after the bundled
    #: models were trained: not in their cards, so retraining still reproduces the shipped files
    added_examples: tuple[str, ...] = ()

    def vocabulary(self) -> list[str]:
        """Every word the task can produce (the tokenizer's vocabulary, sorted)."""
        raise NotImplementedError

    def output_labels(self) -> list[str] | None:
        """Class or tag names; None for language models (the outputs are the vocabulary)."""
        return None

    def sample(self, rng: random.Random, n: int) -> list[Example]:
        """`n` examples of the training distribution (also the held-out distribution, new seed)."""
        raise NotImplementedError

    def held_out(self, seed: int, n: int) -> list[Example]:
        return self.sample(random.Random(seed), n)


def by_length(examples: Sequence[Example]) -> dict[int, list[Example]]:
    """Group examples by length: a batch of equal lengths needs no padding, which keeps bidirectional
    and encoder models exact (padding would leak into their right-to-left context)."""
    groups: dict[int, list[Example]] = defaultdict(list)
    for ex in examples:
        groups[len(ex.tokens)].append(ex)
    return dict(groups)


def batches(
    examples: Sequence[Example], size: int, rng: random.Random | None = None
) -> Iterator[list[Example]]:
    """Equal-length batches of at most `size` examples, in a seeded random order (or sorted by length)."""
    chunks = []
    for _, group in sorted(by_length(examples).items()):
        chunks += [group[i : i + size] for i in range(0, len(group), size)]
    if rng is not None:
        rng.shuffle(chunks)
    yield from chunks
