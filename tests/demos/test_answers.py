"""The true answers for typed text (seqviz.demos.answers) agree with the tasks' own generators."""

from __future__ import annotations

import pytest

from seqviz.demos.answers import known_answers
from seqviz.demos.tasks import get_task
from seqviz.demos.tasks_grammar import ambiguous_words


@pytest.mark.parametrize("seed", [11, 12])
def test_every_held_out_review_gets_its_own_label(seed: int) -> None:
    for ex in get_task("sentiment").held_out(seed, 1500):
        assert known_answers("sentiment", list(ex.tokens)) == list(ex.targets), ex.text


@pytest.mark.parametrize("seed", [11, 12])
def test_held_out_tags_are_right_wherever_given_and_given_almost_everywhere(seed: int) -> None:
    words = answered = ambiguous = ambiguous_answered = 0
    two_tags = ambiguous_words()
    for ex in get_task("pos").held_out(seed, 1500):
        answers = known_answers("pos", list(ex.tokens))
        assert len(answers) == len(ex.tokens)
        for word, answer, target in zip(ex.tokens, answers, ex.targets, strict=True):
            assert answer in (None, target), (ex.text, word, answer, target)
            words, answered = words + 1, answered + (answer is not None)
            if word in two_tags:
                ambiguous, ambiguous_answered = ambiguous + 1, ambiguous_answered + (answer is not None)
    coverage, ambiguous_coverage = answered / words, ambiguous_answered / ambiguous
    print(f"pos: {coverage:.4f} of {words} words answered, {ambiguous_coverage:.4f} of ambiguous ones")
    # measured: every word of a whole grammar sentence is fixed by its reading (1.0 and 1.0)
    assert coverage >= 0.99 and ambiguous_coverage >= 0.98


def test_card_examples_get_answers() -> None:
    for text in get_task("sentiment").examples:
        assert known_answers("sentiment", text.split())[-1] in get_task("sentiment").output_labels(), text
    for text in get_task("pos").examples:
        assert None not in known_answers("pos", text.split()), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the movie was not very good", "negative"),
        ("the service was not bad", "positive"),
        ("el hotel fue excelente pero la comida fue muy mala", "very negative"),
        ("La película fue muy buena", "very positive"),  # typed with a capital and an accent
        ("i did not enjoy the book", "negative"),
        ("overall the game is so fun", "very positive"),
    ],
)
def test_sentiment_reads_the_task_rules(text: str, expected: str) -> None:
    answers = known_answers("sentiment", text.split())
    assert answers[:-1] == [None] * (len(answers) - 1) and answers[-1] == expected


@pytest.mark.parametrize(
    "text",
    [
        "the pizza was good",  # a word the task does not know
        "the food was not very bad",  # the task says this has no agreed meaning
        "la comida fue bueno",  # the adjective does not agree
        "the food was good pero la comida fue mala",  # two languages
        "the food was",  # unfinished
    ],
)
def test_sentiment_gives_no_label_to_text_it_cannot_read(text: str) -> None:
    assert known_answers("sentiment", text.split()) == [None] * len(text.split())


def test_pos_resolves_ambiguous_words_only_when_the_grammar_does() -> None:
    assert known_answers("pos", ["el", "canta", "."]) == ["PRON", "VERB", "PUNCT"]
    assert known_answers("pos", ["el", "perro", "vino", "."]) == ["DET", "NOUN", "VERB", "PUNCT"]
    assert known_answers("pos", ["el"]) == [None]  # still being typed: only the next word tells
    assert known_answers("pos", ["el", "perro"]) == ["DET", "NOUN"]
    # an unknown word spoils the reading; words with one tag in the grammar still have it
    assert known_answers("pos", ["the", "pizza", "slept", "."]) == ["DET", None, "VERB", "PUNCT"]
    assert known_answers("pos", ["we", "watch", "xyz", "."])[1] is None


@pytest.mark.parametrize("task", ["long-range", "untrained", "no-such-task"])
def test_tasks_without_rules_have_no_answers(task: str) -> None:
    assert known_answers(task, ["i", "speak", "fluent"]) is None
