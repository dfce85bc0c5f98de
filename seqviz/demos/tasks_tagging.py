"""Task (c), tagging (many-to-many, equal length): the part of speech of every word of a tiny grammar.

    we  watch the  play .        el   canta .      el  perro vino .
    PRON VERB DET  NOUN PUNCT    PRON VERB PUNCT   DET NOUN  VERB PUNCT

The grammar (tasks_grammar) has words with two or three tags ("watch", "play", "vino", "bajo", "el"), so a
tagger must read the context; for Spanish "el" only the next word tells DET from PRON, which a
bidirectional model sees and a left-to-right one does not. The card reports the accuracy on those
ambiguous words besides the accuracy over all words.
"""

from __future__ import annotations

import random
from dataclasses import replace

from seqviz.demos import tasks_grammar as grammar
from seqviz.demos.tasks_base import Example, Task


class PosTask(Task):
    name = "pos"
    kind = "tag"
    title = "Part-of-speech tagging"
    description = (
        "many-to-many (equal length): a part-of-speech tag per word of a tiny English/Spanish grammar "
        "with ambiguous words (watch, play, vino, bajo, el)"
    )
    examples = (
        "we watch the play . the cook found a book .",
        "el canta . el perro vino con mi amiga .",
        "they cook the old apple .",
        "yo bajo . mi amigo bajo vio una llama .",
    )

    def vocabulary(self) -> list[str]:
        return sorted(grammar.vocabulary())

    def output_labels(self) -> list[str]:
        return list(grammar.TAGS)

    def sample(self, rng: random.Random, n: int) -> list[Example]:
        out = []
        for _ in range(n):
            lang = rng.choice(grammar.LANGUAGES)
            tagged = [pair for _ in range(rng.choice((1, 2, 3))) for pair in grammar.sentence(rng, lang)]
            words, tags = zip(*tagged, strict=True)
            out.append(Example(words, tags, tuple(range(len(words))), lang))
        return out


def ambiguous_only(examples: list[Example]) -> list[Example]:
    """The same examples, scored only on words that have more than one tag in the grammar."""
    ambiguous = grammar.ambiguous_words()
    out = []
    for ex in examples:
        scored = tuple(i for i, w in enumerate(ex.tokens) if w in ambiguous)
        if scored:
            out.append(replace(ex, scored=scored))
    return out
