"""`main.py --list-models`: every bundled model with its size and its held-out score, names as written."""

from __future__ import annotations

import io
import re

from seqviz.demos import catalogue


def listing() -> dict[str, str]:
    out = io.StringIO()
    catalogue.print_model_list(out)
    return {line.split()[0]: line for line in out.getvalue().splitlines()}


def test_every_bundled_model_lists_its_size_and_held_out_score():
    lines = listing()
    for entry in catalogue.bundled_entries():
        line = lines[entry.id]
        assert re.search(r"\b(hidden|d_model) \d+", line), line
        assert re.search(r"held-out [a-z -]*(accuracy|match) \d+\.\d%", line), line


def test_the_dates_models_say_what_they_are_and_how_well_they_do():
    lines = listing()
    assert "GRU encoder-decoder with attention (hidden 64): translates a date" in lines["dates-gru-attention"]
    assert "Transformer encoder-decoder (2+1 layers, d_model 64)" in lines["dates-transformer"]
    assert lines["dates-transformer"].endswith("held-out exact match 100.0%")


def test_no_architecture_is_shouted():
    for line in listing().values():
        assert "TRANSFORMER" not in line, line
    assert "freshly initialised Transformer" in listing()["untrained-transformer"]


def test_the_untrained_transformer_is_titled_as_written():
    assert catalogue.load("untrained-transformer").card.title == "Untrained Transformer (random weights)"
    assert catalogue.load("untrained-lstm").card.title == "Untrained LSTM (random weights)"
