"""The bundled character-level LSTM of Python code: small, listed, its card true to its data, its named
cells still doing on fresh code what the card says they do, and it writes Python.

Never retrains. The fresh code below was written for this test: it is in neither the training nor the
held-out modules of the standard library.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import seqviz
from seqviz.core.adapters import open_model
from seqviz.demos import catalogue, charlm_cells, charlm_train, train
from seqviz.demos.charlm_labels import code_labels
from seqviz.demos.generation import generate

MODEL_ID = "code-lstm"
FRESH_CODE = (
    '''def load_scores(path, default=0):
    """Read one score per line; blank lines count as the default."""
    scores = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                scores.append(default)  # nothing written here
            elif line.startswith('#'):
                continue
            else:
                scores.append(int(line))
    return scores
''',
    '''class Greeter:
    """Says hello in a few languages."""

    words = {'en': "hello", 'es': 'hola', 'fr': "bonjour"}

    def __init__(self, language='en'):
        if language not in self.words:
            raise ValueError("unknown language: " + language)
        self.language = language

    def greet(self, name):
        # the greeting, then the name
        return self.words[self.language] + ", " + name + '!'
''',
    """def report(rows, width=10):
    title = "Report (draft)"
    print(title)
    for name, value in rows:
        if value > 0:
            label = 'positive'
        else:
            label = 'zero or negative'
        print(name.ljust(width), value, label)
    note = 'no # comment in here'
    return len(rows)
""",
)


@pytest.fixture(scope="module")
def model():
    return seqviz.load_model(MODEL_ID)


def test_the_file_is_small_listed_and_in_the_retrain_command() -> None:
    path = catalogue.MODELS_DIR / f"{MODEL_ID}.safetensors"
    assert path.is_file(), f"not bundled: python -m seqviz.demos.train --only {MODEL_ID}"
    assert path.stat().st_size <= 2 * 1024 * 1024
    entry = catalogue.find(MODEL_ID)
    assert entry is not None and entry.arch == "lstm" and entry.task == "code"
    assert entry.examples == charlm_cells.EXAMPLES
    listing = io.StringIO()
    catalogue.print_model_list(listing)
    assert any(line.split()[:3] == [MODEL_ID, "lstm", "code"] for line in listing.getvalue().splitlines())
    assert MODEL_ID in charlm_train.MODELS
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        train.main(["--list"])  # the retrain command knows it: python -m seqviz.demos.train --only code-lstm
    assert any(line.split()[:2] == [MODEL_ID, "code"] for line in out.getvalue().splitlines())


def test_the_card_records_its_data_and_its_held_out_scores(model) -> None:
    card = model.card
    metrics = card.metrics
    train, held_out = metrics["train_corpus"], metrics["held_out_corpus"]
    assert train["python"].count(".") == 2 and len(train["sha256"]) == 64
    assert len(train["files"]) > 50 and sum(train["files"].values()) <= train["characters"]
    assert held_out["files"] and set(held_out["files"]).isdisjoint(train["files"])
    assert 0.5 < metrics["bits_per_char"] < 2.5 and card.accuracy == metrics["next_char_accuracy"] > 0.5
    assert metrics["parameters"] == sum(p.numel() for p in model.parameters())
    assert f"Python {train['python']}" in card.description


def test_the_named_cells_still_do_what_the_card_says_on_fresh_code(model) -> None:
    cells = model.card.metrics["cells"]
    assert {"inside_string", "indentation"} <= set(cells), "the card names a string and an indentation cell"
    trace, labels = charlm_cells.traced(model, FRESH_CODE)
    behaviours = {b.key: b for b in charlm_cells.BEHAVIOURS}
    for key, cell in cells.items():
        assert cell["description"] in model.card.description
        score = charlm_cells.unit_scores(trace, labels, behaviours[key], cell["layer"])[cell["unit"]]
        bar = charlm_cells.MIN_SCORE if behaviours[key].kind == "span" else charlm_cells.MIN_CORRELATION
        assert np.sign(score) == np.sign(cell["score"]) and abs(score) >= bar, (key, cell, score)


def test_the_string_cell_sits_apart_inside_strings_in_plain_numbers(model) -> None:
    """Without the search's measure: most steps inside strings are past the midpoint between the cell's
    mean inside and outside strings, and most steps of code outside strings are not."""
    cell = model.card.metrics["cells"]["inside_string"]
    inside, outside = [], []
    for text in FRESH_CODE:
        values = seqviz.trace(model, text)["cell"][:, cell["layer"], 0, cell["unit"]]
        lab = code_labels(text)
        code = ~(lab.comment | lab.docstring)
        inside.append(values[lab.string & code])
        outside.append(values[~lab.string & code])
    inside_v, outside_v = np.concatenate(inside), np.concatenate(outside)
    sign = np.sign(cell["score"])
    middle = (inside_v.mean() + outside_v.mean()) / 2
    assert np.mean(sign * inside_v > sign * middle) > 0.85
    assert np.mean(sign * outside_v < sign * middle) > 0.85


def test_it_writes_python(model) -> None:
    written = "".join(generate(model, "    def __init__(self", 60, temperature=0.0))
    assert written.startswith(")") or written.startswith(","), written
    assert "):\n        " in written, "a signature, then an indented body"
    for sample in model.card.metrics["generation"]["samples"]:
        assert sample.count("\n") >= 3 and "<unk>" not in sample
    opened = open_model(model)  # what the app's Generate button asks
    assert opened.can_generate and opened.output_labels[opened.generation_banned()[0]] == "<unk>"
    assert opened.extend_text("x =", opened.output_labels.index(" ")) == "x = "
