"""The shipped demo models: present, small, listed, and as accurate as their cards say on fresh data.

Never retrains. Every accuracy here is measured on examples from seeds that neither training nor the
card's measurement used.
"""

from __future__ import annotations

import io

import pytest

import seqviz
from seqviz.demos import catalogue
from seqviz.demos.specs import SPECS
from seqviz.demos.tasks import get_task
from seqviz.demos.training import evaluate

TEST_SEED = 31_337
TOLERANCE = 0.04  # the card was measured on 2000 examples, this on 600: allow sampling noise
IDS = [s.id for s in SPECS]


@pytest.fixture(scope="module")
def models() -> dict:
    return {model_id: seqviz.load_model(model_id) for model_id in IDS}


def test_every_spec_has_a_small_bundled_file_listed_in_the_catalogue() -> None:
    for s in SPECS:
        path = catalogue.MODELS_DIR / f"{s.id}.safetensors"
        assert path.is_file(), f"{s.id} is not bundled: python -m seqviz.demos.train --only {s.id}"
        assert path.stat().st_size <= 2 * 1024 * 1024
        entry = catalogue.find(s.id)
        assert entry is not None and entry.arch == s.arch and entry.task == s.task
        assert entry.examples and entry.card["accuracy"] is not None


@pytest.mark.parametrize("model_id", IDS)
def test_model_reaches_its_card_accuracy_on_fresh_data(models: dict, model_id: str) -> None:
    model = models[model_id]
    task = get_task(model.card.task)
    accuracy = evaluate(model, task.held_out(TEST_SEED, 600))["accuracy"]
    assert accuracy >= model.card.accuracy - TOLERANCE, (accuracy, model.card.accuracy)


def test_the_plain_rnn_forgets_the_country_sooner_than_lstm_and_gru(models: dict) -> None:
    """The lesson of the figure, on the shipped models: at long fillers the RNN falls behind."""
    task = get_task("long-range")
    far = task.at_distance(TEST_SEED, 60, 200)
    near = task.at_distance(TEST_SEED, 0, 200)
    acc = {a: evaluate(models[f"longrange-{a}"], far)["accuracy"] for a in ("rnn", "gru", "lstm")}
    assert acc["rnn"] < min(acc["gru"], acc["lstm"]) - 0.15, acc
    assert evaluate(models["longrange-rnn"], near)["accuracy"] > acc["rnn"] + 0.15


def test_card_says_what_the_model_is(models: dict) -> None:
    card = models["longrange-lstm"].card
    assert card.id == "longrange-lstm" and card.task == "long-range"
    assert card.metrics["arch"] == "lstm" and card.metrics["hidden_size"] > 0
    assert card.metrics["vocabulary_size"] == len(models["longrange-lstm"].tokenizer.vocab)
    assert any(e.startswith("naci en") for e in card.examples), "the task is bilingual"


def test_trace_of_the_example_predicts_the_language(models: dict) -> None:
    model = models["longrange-lstm"]
    text = "i was born in france . the dog slept . we like the old book . i speak fluent french"
    assert model.example.endswith("french")
    trace = seqviz.trace(model, text)
    assert trace["probs"].shape == (len(trace.tokens), len(model.tokenizer.vocab))
    fluent = trace.tokens.index("fluent")
    assert model.output_labels[int(trace["probs"][fluent].argmax())] == "french"


def test_classifier_and_tagger_outputs_read_as_labels(models: dict) -> None:
    sentiment = models["sentiment-lstm"]
    trace = seqviz.trace(sentiment, "la comida no es buena")
    assert sentiment.output_labels[int(trace["probs"][-1].argmax())] == "negative"
    tagger = models["pos-gru"]
    trace = seqviz.trace(tagger, "el canta . el perro vino .")
    tags = [tagger.output_labels[i] for i in trace["probs"].argmax(-1)]
    assert tags == ["PRON", "VERB", "PUNCT", "DET", "NOUN", "VERB", "PUNCT"]


def test_language_model_generates_the_right_ending(models: dict) -> None:
    from seqviz.demos.generation import generate

    words = generate(models["longrange-lstm"], "naci en japon . el perro vino .", temperature=0)
    assert words[-2:] == ["hablo", "japones"], words


def test_default_model_and_model_list() -> None:
    assert catalogue.default_id() == "longrange-lstm"
    out = io.StringIO()
    catalogue.print_model_list(out)
    lines = out.getvalue().splitlines()
    row = next(line for line in lines if line.startswith("longrange-lstm "))
    assert row.split()[1:3] == ["lstm", "long-range"]
    assert len(lines) == len(catalogue.entries())
