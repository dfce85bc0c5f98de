"""The long example of the long-range lesson: about 50 filler words, among each long-range model's
Examples, where the plain RNN visibly fails and the gated RNNs and the Transformer do not."""

from __future__ import annotations

import numpy as np
import pytest

import seqviz
from seqviz.demos import catalogue
from seqviz.demos.tasks_longrange import LongRangeTask

LONG = LongRangeTask.added_examples[0]
MODELS = ("longrange-rnn", "longrange-gru", "longrange-lstm", "longrange-transformer")


def prediction(model_id: str) -> tuple[str, float]:
    """The model's last-word guess after "... i speak fluent", and the probability of the right one."""
    model = seqviz.load_model(model_id)
    words = LONG.split()
    trace = seqviz.trace(model, " ".join(words[:-1]))
    probs, labels = trace["probs"][-1], list(trace.meta.output_labels)
    return labels[int(np.argmax(probs))], float(probs[labels.index(words[-1])])


def test_the_long_example_has_about_50_filler_words():
    words = LONG.split()
    filler = words[words.index(".") + 1 : -4]  # after "i was born in italy .", before "i speak ..."
    assert 45 <= len(filler) <= 55 and words[-1] == "italian"


@pytest.mark.parametrize("model_id", MODELS)
def test_it_is_among_each_long_range_model_s_examples(model_id):
    entry = catalogue.find(model_id)
    assert entry.examples[-1] == LONG and entry.examples[: len(entry.card["examples"])] == tuple(
        entry.card["examples"]
    )
    assert LONG not in entry.card["examples"]  # the shipped file is as training wrote it


def test_the_app_offers_it_with_the_model():
    from seqviz.app.viewer import runs

    assert LONG in runs.load("longrange-rnn").examples


def test_the_plain_rnn_fails_on_it_and_the_long_range_models_do_not():
    guess, p_right = prediction("longrange-rnn")
    assert guess != "italian" and p_right < 0.1
    for model_id in MODELS[1:]:
        guess, p_right = prediction(model_id)
        assert guess == "italian" and p_right > 0.9, model_id
