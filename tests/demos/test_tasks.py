"""The lecture tasks' generators: seeded, well-formed, and saying what the lesson says."""

from __future__ import annotations

import io
import random

import pytest

from seqviz.demos import tasks_grammar as grammar
from seqviz.demos.tasks import all_tasks, get_task
from seqviz.demos.tasks_base import EOS, batches
from seqviz.demos.tasks_longrange import COUNTRIES, LongRangeTask
from seqviz.demos.tasks_sentiment import label
from seqviz.demos.tasks_tagging import ambiguous_only
from seqviz.demos.training import ProgressBar


@pytest.mark.parametrize("name", ["long-range", "sentiment", "pos"])
def test_same_seed_same_examples_other_seed_other_examples(name: str) -> None:
    task = get_task(name)
    assert task.held_out(5, 50) == task.held_out(5, 50)
    assert task.held_out(5, 50) != task.held_out(6, 50)


@pytest.mark.parametrize("name", ["long-range", "sentiment", "pos"])
def test_every_token_and_target_is_in_the_vocabulary_or_labels(name: str) -> None:
    task = get_task(name)
    vocab = set(task.vocabulary())
    outputs = set(task.output_labels() or vocab)
    for ex in task.held_out(1, 500):
        assert set(ex.tokens) <= vocab, set(ex.tokens) - vocab
        assert {t for t in ex.targets if t is not None} <= outputs
        assert len(ex.targets) == len(ex.tokens)
        assert ex.scored and all(ex.targets[i] is not None for i in ex.scored)


def test_long_range_answer_is_the_language_of_the_country_at_the_start() -> None:
    task = LongRangeTask()
    for lang in ("en", "es"):
        for filler in (0, 3, 17, 40):
            ex = task.example(random.Random(filler), filler, lang)
            words = list(ex.tokens)  # the whole sentence; the targets are the words shifted by one
            assert ex.targets[-1] == EOS and ex.scored == (len(words) - 2,)
            answer = ex.targets[ex.scored[0]]
            assert answer == words[-1]
            country = dict((lang_name, c) for c, lang_name in COUNTRIES[lang])[answer]
            assert country in words[:5]
            # the filler names no country and no language: only memory carries the answer
            opening = 6 if lang == "en" else 4
            closing = 3 if lang == "en" else 1
            between = words[opening : len(words) - 1 - closing]
            assert len(between) == filler
            assert not set(between) & {w for pair in COUNTRIES[lang] for w in pair}


def test_long_range_sentences_read_as_in_the_lesson() -> None:
    task = LongRangeTask()
    en = task.example(random.Random(0), 0, "en")
    es = task.example(random.Random(0), 0, "es")
    assert en.text.startswith("i was born in ") and ". i speak fluent " in en.text
    assert es.text.startswith("naci en ") and ". hablo " in es.text
    assert en.tokens[en.scored[0]] == "fluent" and es.tokens[es.scored[0]] == "hablo"


def test_fillers_have_the_exact_length_and_end_sentences() -> None:
    rng = random.Random(3)
    for n in (0, 3, 4, 9, 23, 60):
        words = grammar.filler(rng, "es", n)
        assert len(words) == n
        assert not words or words[-1] == (".", "PUNCT")
    with pytest.raises(ValueError):
        grammar.filler(rng, "en", 2)


@pytest.mark.parametrize(
    ("polarity", "strong", "negated", "expected"),
    [
        (1, False, False, "positive"),  # good
        (1, True, False, "very positive"),  # very good / great
        (1, False, True, "negative"),  # not good
        (1, True, True, "negative"),  # not very good / not great
        (-1, False, True, "positive"),  # not bad
        (-1, True, False, "very negative"),  # terrible / very bad
    ],
)
def test_sentiment_label_rules(polarity: int, strong: bool, negated: bool, expected: str) -> None:
    assert label(polarity, strong, negated) == expected


def test_sentiment_covers_both_languages_every_class_and_the_phenomena() -> None:
    examples = get_task("sentiment").held_out(2, 2000)
    assert {ex.targets[-1] for ex in examples} == {"very negative", "negative", "positive", "very positive"}
    assert {ex.group for ex in examples} == {"plain", "negation", "intensifier", "contrast"}
    assert {ex.info["lang"] for ex in examples} == {"en", "es"}
    negated_es = [ex for ex in examples if ex.info["lang"] == "es" and ex.group == "negation"]
    assert any("no" in ex.tokens for ex in negated_es)
    for ex in examples:
        assert all(t is None for t in ex.targets[:-1]), "many-to-one: only the last step has a target"


def test_tagging_has_ambiguous_words_with_both_tags() -> None:
    examples = get_task("pos").held_out(4, 3000)
    seen: dict[str, set[str]] = {}
    for ex in examples:
        for word, tag in zip(ex.tokens, ex.targets, strict=True):
            seen.setdefault(word, set()).add(tag)
    assert seen["el"] == {"DET", "PRON"}
    assert seen["watch"] == {"NOUN", "VERB"}
    assert {"ADJ", "ADP", "VERB"} <= seen["bajo"]
    only = ambiguous_only(examples[:50])
    assert only and all(ex.tokens[i] in grammar.ambiguous_words() for ex in only for i in ex.scored)


def test_batches_hold_one_length_and_every_example_once() -> None:
    examples = get_task("sentiment").held_out(0, 300)
    chunks = list(batches(examples, 16, random.Random(0)))
    assert all(len({len(ex.tokens) for ex in c}) == 1 and len(c) <= 16 for c in chunks)
    assert sorted(id(ex) for c in chunks for ex in c) == sorted(id(ex) for ex in examples)


def test_task_registry() -> None:
    assert set(all_tasks()) == {"long-range", "sentiment", "pos"}
    with pytest.raises(KeyError, match="unknown task"):
        get_task("nope")


def test_progress_bar_draws_on_one_line() -> None:
    out = io.StringIO()
    bar = ProgressBar(10, "demo", stream=out)
    bar.update(5, "loss 1.0")
    bar.close("done")
    text = out.getvalue()
    assert text.endswith("\n") and "100%" in text and "demo" in text and "done" in text


def test_figure_draws_every_curve_and_the_table_marks_untrained_lengths() -> None:
    from seqviz.demos.figure import COLOURS, draw, markdown_table

    fillers = (0, 20, 40)
    curves = {"rnn": [1.0, 0.8, 0.5], "lstm": [1.0, 1.0, 1.0]}
    img = draw(curves, fillers, size=(800, 500))
    assert img.size == (800, 500)
    colours = {c for _, c in img.getcolors(maxcolors=1 << 16)}
    assert COLOURS["rnn"] in colours and COLOURS["lstm"] in colours
    table = markdown_table(curves, fillers).splitlines()
    assert table[0] == "| filler words | RNN | LSTM |"
    assert table[3] == "| 20 | 0.80 | 1.00 |"
    assert table[4] == "| 40 (longer than in training) | 0.50 | 1.00 |"
