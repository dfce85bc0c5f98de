"""Task (a), long-range memory: the last word is fixed by a word at the very start.

    i was born in spain . <filler sentences> i speak fluent spanish
    naci en francia . <filler sentences> hablo frances

A word-level language model reads the sentence; what counts is its prediction of the final word (the
language), made at the step before it ("fluent" / "hablo"). The filler is `length` tokens of tiny-grammar
sentences in the same language, without countries or languages, so nothing but memory can carry the
answer across it. Guessing gives 1 in 8 (the eight languages of one language).
"""

from __future__ import annotations

import random

from seqviz.demos import tasks_grammar as grammar
from seqviz.demos.tasks_base import EOS, Example, Task, lm_example

COUNTRIES = {
    "en": (
        ("spain", "spanish"),
        ("france", "french"),
        ("germany", "german"),
        ("italy", "italian"),
        ("portugal", "portuguese"),
        ("japan", "japanese"),
        ("china", "chinese"),
        ("england", "english"),
    ),
    "es": (
        ("espana", "espanol"),
        ("francia", "frances"),
        ("alemania", "aleman"),
        ("italia", "italiano"),
        ("portugal", "portugues"),
        ("japon", "japones"),
        ("china", "chino"),
        ("inglaterra", "ingles"),
    ),
}
OPENING = {"en": "i was born in {} .", "es": "naci en {} ."}
CLOSING = {"en": "i speak fluent {}", "es": "hablo {}"}
TRAIN_FILLERS = (0, *range(3, 21))  # filler lengths (tokens) seen in training; longer ones are new
SHORT_FILLER = 10
FIGURE_FILLERS = (0, 5, 10, 15, 20, 30, 40, 50, 60, 80)  # filler lengths of the lesson figure


def long_range_sentence(lang: str, country_index: int, filler_words: list[str]) -> list[str]:
    country, language = COUNTRIES[lang][country_index]
    return [*OPENING[lang].format(country).split(), *filler_words, *CLOSING[lang].format(language).split()]


class LongRangeTask(Task):
    name = "long-range"
    kind = "lm"
    title = "Long-range memory"
    description = (
        "word language model; the last word (a language) depends on the country named at the start, "
        "across 0-20 filler words (English and Spanish)"
    )
    examples = (
        "i was born in france . the dog slept . we like the old book . i speak fluent french",
        "naci en italia . mi amigo canto . el gato vio una carta roja . hablo italiano",
        "i was born in japan . my friend sang in the garden . i speak fluent japanese",
        "naci en alemania . yo nado . hablo aleman",
    )

    # 50 filler words, more than training's 20: the plain RNN answers "spanish" (p("italian") ~ 0.02),
    # the GRU, LSTM and Transformer "italian" (p > 0.99). tests/demos/test_long_example.py checks it.
    added_examples = (
        "i was born in italy . a book wanted your happy friend . your old car liked your drink . "
        "they find a quiet watch . the small cat found the quiet apple . i book your happy play . "
        "the cat laughed . my cook painted my cook . you play this new car . i speak fluent italian",
    )

    def __init__(self, fillers: tuple[int, ...] = TRAIN_FILLERS) -> None:
        self.fillers = fillers

    def vocabulary(self) -> list[str]:
        words = grammar.vocabulary() | {EOS}
        for lang in grammar.LANGUAGES:
            words |= set(OPENING[lang].split()) | set(CLOSING[lang].split())
            words |= {w for pair in COUNTRIES[lang] for w in pair}
        return sorted(words - {"{}"})

    def answers(self, lang: str) -> list[str]:
        return [language for _, language in COUNTRIES[lang]]

    def example(self, rng: random.Random, filler_length: int, lang: str | None = None) -> Example:
        lang = lang or rng.choice(grammar.LANGUAGES)
        index = rng.randrange(len(COUNTRIES[lang]))
        filler = [w for w, _ in grammar.filler(rng, lang, filler_length)]
        words = long_range_sentence(lang, index, filler)
        return lm_example(words, [len(words) - 1], f"filler={filler_length}", lang=lang, filler=filler_length)

    def sample(self, rng: random.Random, n: int) -> list[Example]:
        # Half the examples have a short filler: a model must first find the dependency where the
        # gradient still reaches it, before it can stretch it across longer fillers.
        short = [f for f in self.fillers if f <= SHORT_FILLER]
        return [
            self.example(rng, rng.choice(short if rng.random() < 0.5 else self.fillers)) for _ in range(n)
        ]

    def at_distance(self, seed: int, filler_length: int, n: int) -> list[Example]:
        """`n` fresh examples, all with the same filler length (for the figure)."""
        rng = random.Random(seed * 1000 + filler_length)
        return [self.example(rng, filler_length) for _ in range(n)]
