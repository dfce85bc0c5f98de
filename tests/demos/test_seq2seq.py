"""Task (d): dates in words -> ISO digits. The data, and the two bundled sequence-to-sequence models."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

import seqviz
from seqviz.demos import seq2seq_tasks as tasks
from seqviz.demos.catalogue import MODELS_DIR, find
from seqviz.demos.seq2seq_train import exact_match

MODEL_IDS = ("dates-gru-attention", "dates-transformer")
FRESH_SEED = 20240917  # neither the training seed nor the seed of the card's held-out set
MONTH_DIGIT = 6  # "YYYY-MM-DD": output 6 is the month's second digit, which only the month word decides


# Data ---------------------------------------------------------------------------------------------------
def test_same_seed_same_pairs_other_seed_other_pairs() -> None:
    assert tasks.make_pairs(200, 7) == tasks.make_pairs(200, 7)
    assert tasks.make_pairs(200, 7) != tasks.make_pairs(200, 8)


def test_pairs_are_valid_dates_in_both_languages_with_known_words() -> None:
    pairs = tasks.make_pairs(2000, 3)
    tok = tasks.source_tokenizer()
    assert {p.language for p in pairs} == {"en", "es"}
    for p in pairs:
        date = dt.date.fromisoformat(p.target)
        assert dt.date(1900, 1, 1) <= date <= dt.date(2099, 12, 31)
        assert tok.unknown(p.source) == [], p.source
        assert tasks.target_tokenizer().unknown(p.target) == []
    assert len({len(tok.split(p.source)) for p in pairs}) > 3, "source lengths should vary"


def test_spelling() -> None:
    rng = random.Random(0)
    march_third = dt.date(2005, 3, 3)
    english = {tasks.spell_date(march_third, "en", rng) for _ in range(20)}
    assert english == {"the third of march two thousand and five", "march the third two thousand and five"}
    assert tasks.english_year(1905, rng) == "nineteen oh five"
    assert tasks.english_year(1984, rng) == "nineteen eighty four"
    assert tasks.english_ordinal(23) == "twenty third" and tasks.english_ordinal(30) == "thirtieth"
    assert tasks.spanish_year(1999) == "mil novecientos noventa y nueve"
    assert tasks.spanish_year(2024) == "dos mil veinticuatro"
    spanish = {tasks.spell_date(dt.date(2005, 3, 1), "es", rng) for _ in range(20)}
    assert spanish == {"el primero de marzo de dos mil cinco"}


# Bundled models -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=MODEL_IDS)
def model(request):
    return seqviz.load_model(request.param)


def test_bundled_files_are_small_and_listed_in_the_catalogue() -> None:
    for model_id in MODEL_IDS:
        path = MODELS_DIR / f"{model_id}.safetensors"
        assert path.stat().st_size <= 2_000_000
        entry = find(model_id)
        assert entry is not None and entry.task == "seq2seq-dates" and entry.examples
    assert find("dates-gru-attention").arch == "gru-attention"
    assert find("dates-transformer").arch == "transformer"


def test_model_reaches_its_card_accuracy_on_fresh_dates(model) -> None:
    card = model.card
    assert card.accuracy is not None and card.accuracy >= 0.95
    assert card.metrics["heldout_size"] >= 1000
    accuracy = exact_match(model, tasks.make_pairs(600, FRESH_SEED))
    assert accuracy >= card.accuracy - 0.02, f"{card.id}: {accuracy:.3f} on fresh data, card {card.accuracy}"


def test_trace_labels_target_outputs_and_source_words(model) -> None:
    tr = seqviz.trace(model, "el tres de marzo de dos mil cinco")
    assert tr.tokens == [*"2005-03-03", "</s>"]
    assert tr.source_tokens == ["el", "tres", "de", "marzo", "de", "dos", "mil", "cinco"]
    assert tr.meta.output_text == "2005-03-03" and tr.meta.kind == "encoder-decoder"
    T, S = len(tr.tokens), len(tr.source_tokens)
    assert tr["cross_attention"].shape[2:] == (T, S)
    assert tr["probs"].shape == (T, len(model.target_tokenizer.vocab))
    np.testing.assert_allclose(tr["cross_attention"].sum(-1), 1.0, atol=1e-5)


def test_every_card_example_translates_correctly(model) -> None:
    want = ["2005-03-03", "2005-03-03", "1976-07-04", "1999-12-24", "2024-02-29"]
    got = [seqviz.trace(model, ex).meta.output_text for ex in model.card.examples]
    assert got == want


def test_cross_attention_aligns_the_month_digit_with_the_month_word(model) -> None:
    """What a lecturer shows: when the model writes the month, it looks at the month word."""
    pairs = tasks.make_pairs(60, FRESH_SEED + 1)
    aligned = 0
    for pair in pairs:
        tr = seqviz.trace(model, pair.source)
        looks = tr["cross_attention"][-1].mean(axis=0)  # last decoder layer, heads averaged: (T, S)
        aligned += int(looks[MONTH_DIGIT].argmax()) == tasks.month_position(tr.source_tokens)
    assert aligned / len(pairs) >= 0.9
