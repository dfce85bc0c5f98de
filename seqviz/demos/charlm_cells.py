"""The code LSTM's interpretable cells, found with seqviz's own unit search in traces of held-out code.

Karpathy, Johnson and Fei-Fei (2015, "Visualizing and understanding recurrent networks") found cells
in character LSTMs trained on the Linux kernel's C source that turn on inside quotes, inside comments
or brackets, or that track the indentation or the position in a line. `find_cells(model)` looks for
each of these in the code LSTM's `cell` array, as a person would in the app's Find-units dock:

- a span behaviour (inside a one-line string, a docstring, a comment, brackets): `select_units` on the
  steps inside the span (seqviz.demos.charlm_labels marks them with Python's own tokenizer), at each
  layer; the best |score| (a standardised difference of means) wins;
- a graded one (indentation, position in the line): the unit whose value correlates best with the
  quantity (Pearson's r over every step).

A behaviour is named only if its best unit clears MIN_SCORE or MIN_CORRELATION; the training command
writes the result into the card (`metrics["cells"]`: layer as the array index, from 0) and `describe`
into its description (layers numbered from 1, as the app shows them).
tests/demos/test_code_lstm.py checks on fresh code that the named cells still do what the card says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from seqviz.core.trace import Trace
from seqviz.core.unit_search import select_units
from seqviz.demos import charlm_corpus as corpus
from seqviz.demos.charlm_labels import CodeLabels, code_labels

SEARCH_CHARS = 8_000  # characters of each held-out module traced for the search
ARRAY = "cell"
MIN_SCORE = 1.0  # |standardised difference| a span unit needs to be named
MIN_CORRELATION = 0.5  # |r| a graded unit needs


# The card's examples: short code in which the cells can be seen (a string inside and outside brackets,
# a docstring, a comment, a block indented twice).
EXAMPLES = (
    'def greet(name, times=1):\n    """Say hello."""\n    for i in range(times):\n        if name:\n'
    "            print(\"hello, \" + name)  # say it\n    return 'done'\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n"
    "        self.items.append(item)\n        return len(self.items)\n",
    "config = {'name': \"seqviz\", 'path': '/tmp/models'}\nmessage = \"(not a bracket) # not a comment\"\n",
)
LABEL_FIELDS = ("string", "docstring", "comment", "depth", "indent", "column")
Labels = dict[str, np.ndarray]  # LABEL_FIELDS of a run of characters, (T,) each, and "known" (T,) bool


def _code(labels: Labels) -> np.ndarray:
    """Steps of code proper: not in a comment or a docstring."""
    return ~(labels["comment"] | labels["docstring"])


def _everywhere(labels: Labels) -> list[np.ndarray]:
    return [labels["known"]]


@dataclass(frozen=True)
class Behaviour:
    """What a cell may do, and how it is measured. `contexts(labels)` gives the sets of steps the
    measure is taken within; a unit must show the behaviour in each of them (the weakest counts), so
    a cell on in brackets does not pass for a string cell because strings often sit in brackets."""

    key: str  # the card's name for it: metrics["cells"][key]
    label: str  # the CodeLabels field it is measured against (a span: where the field is > 0)
    kind: str  # "span" (select_units on the steps of the span) or "graded" (correlation)
    phrase: str  # where or with what, for the card: "cell 37 of layer 2 is high <phrase>"
    contexts: Callable[[Labels], list[np.ndarray]] = _everywhere


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "inside_string",
        "string",
        "span",
        "inside one-line strings ('...', \"...\")",
        lambda lab: [_code(lab) & (lab["depth"] > 0), _code(lab) & (lab["depth"] == 0)],
    ),
    Behaviour(
        "inside_docstring",
        "docstring",
        "span",
        "inside triple-quoted strings (docstrings)",
        lambda lab: [~lab["string"] & ~lab["comment"]],
    ),
    Behaviour(
        "inside_comment",
        "comment",
        "span",
        "inside # comments",
        lambda lab: [~lab["string"] & ~lab["docstring"]],
    ),
    Behaviour(
        "inside_brackets",
        "depth",
        "span",
        "inside brackets ( [ {",
        lambda lab: [_code(lab) & ~lab["string"]],
    ),
    Behaviour("indentation", "indent", "graded", "the indentation of the line"),
    Behaviour("line_position", "column", "graded", "the position in the line"),
)


def search_texts() -> list[str]:
    """The held-out modules' first SEARCH_CHARS characters: code the model never trained on."""
    stdlib = corpus.stdlib_dir()
    paths = [corpus.module_source(name, stdlib) for name in corpus.HELD_OUT_MODULES]
    return [corpus.read_head(path, SEARCH_CHARS) for path in paths if path is not None]


def traced(model, texts: Sequence[str]) -> tuple[Trace, dict[str, np.ndarray]]:
    """One trace holding the `hidden` and `cell` arrays of every text, end to end (T = all characters),
    and the texts' labels, concatenated the same way: {field: (T,)}, with "known" (T,) False where
    tokenize could not label a text's end (an unfinished string). Each text starts from a zero state.
    """
    import seqviz

    arrays: dict[str, list[np.ndarray]] = {"hidden": [], "cell": []}
    labels: list[CodeLabels] = []
    for text in texts:
        tr = seqviz.trace(model, text)
        for name, parts in arrays.items():
            parts.append(tr[name])
        labels.append(code_labels(text))
    joined = {name: np.concatenate([getattr(lab, name) for lab in labels]) for name in LABEL_FIELDS}
    joined["known"] = np.concatenate([np.arange(len(lab.column)) < lab.known for lab in labels])
    return Trace({name: np.concatenate(parts) for name, parts in arrays.items()}), joined


def correlations(values: np.ndarray, quantity: np.ndarray) -> np.ndarray:
    """Pearson's r of each unit with `quantity`: values (T, H), quantity (T,) -> (H,); 0 for a constant."""
    v = values.astype(np.float64) - values.mean(axis=0)
    q = quantity.astype(np.float64) - quantity.mean()
    norms = np.sqrt((v**2).sum(axis=0) * (q**2).sum())
    return np.where(norms > 0, (v * q[:, None]).sum(axis=0) / np.where(norms > 0, norms, 1.0), 0.0)


def unit_scores(trace: Trace, labels: Labels, behaviour: Behaviour, layer: int) -> np.ndarray:
    """(H,) signed scores of every unit of `layer` for `behaviour`: select_units' standardised difference
    (span) or Pearson's r (graded) within each context; a unit's score is its weakest, 0 if the
    contexts disagree on its sign."""
    target = labels[behaviour.label] > 0 if behaviour.kind == "span" else labels[behaviour.label]
    per_context = []
    for among in behaviour.contexts(labels):
        among = among & labels["known"]
        values = trace[ARRAY][among]  # (n, L, 1, H): the context's steps only
        if behaviour.kind == "graded":
            per_context.append(correlations(values[:, layer, 0, :], target[among]))
            continue
        sub = Trace({"hidden": trace["hidden"][among], ARRAY: values})
        ranked = select_units(sub, np.flatnonzero(target[among]), array=ARRAY, layer=layer, top=None)
        per_context.append(np.array([u.score for u in sorted(ranked, key=lambda u: u.unit)]))
    scores = np.stack(per_context)  # (contexts, H)
    agree = np.all(np.sign(scores) == np.sign(scores[0]), axis=0)
    return np.where(agree, np.sign(scores[0]) * np.abs(scores).min(axis=0), 0.0)


def best_unit(trace: Trace, labels: Labels, behaviour: Behaviour) -> dict:
    """The unit of any layer that shows `behaviour` best: {layer, unit, array, measure, score, ...}."""
    best = (0.0, 0, 0)
    for layer in range(trace[ARRAY].shape[1]):
        scores = unit_scores(trace, labels, behaviour, layer)
        unit = int(np.argmax(np.abs(scores)))
        best = max(best, (float(scores[unit]), layer, unit), key=lambda b: abs(b[0]))
    score, layer, unit = best
    found = {"layer": layer, "unit": unit, "array": ARRAY, "score": round(score, 3)}
    if behaviour.kind == "graded":
        return {**found, "measure": "correlation"}
    values = trace[ARRAY][:, layer, 0, unit]
    inside = labels[behaviour.label] > 0
    among = np.any(behaviour.contexts(labels), axis=0) & labels["known"]
    means = {"inside": float(values[inside & among].mean()), "outside": float(values[~inside & among].mean())}
    return {**found, "measure": "standardised difference", **{k: round(v, 3) for k, v in means.items()}}


def find_cells(model, texts: Sequence[str] | None = None) -> dict[str, dict]:
    """{behaviour key: {layer, unit, array, measure, score, description, ...}} for the behaviours whose
    best unit clears the bar, searched in `texts` (default: the held-out code)."""
    trace, labels = traced(model, search_texts() if texts is None else texts)
    cells = {}
    for behaviour in BEHAVIOURS:
        found = best_unit(trace, labels, behaviour)
        bar = MIN_SCORE if behaviour.kind == "span" else MIN_CORRELATION
        if abs(found["score"]) >= bar:
            cells[behaviour.key] = {**found, "description": sentence(found, behaviour)}
    return cells


def sentence(found: dict, behaviour: Behaviour) -> str:
    """What one cell does, in words: "cell 37 of layer 2 is low inside # comments (-0.95 against ...)",
    numbered as the app shows it: layers from 1, units from 0 (`found["layer"]` is the array index)."""
    where = f"cell {found['unit']} of layer {found['layer'] + 1}"
    if behaviour.kind == "graded":
        trend = "rises" if found["score"] > 0 else "falls"
        return f"{where} {trend} with {behaviour.phrase} (r = {found['score']:+.2f})"
    level = "high" if found["score"] > 0 else "low"
    means = f"{found['inside']:+.2f} against {found['outside']:+.2f} elsewhere"
    return f"{where} is {level} {behaviour.phrase} ({means})"


def describe(cells: dict[str, dict]) -> str:
    """The cells as one sentence for the card's description."""
    if not cells:
        return "No single cell clearly tracks strings, comments, brackets or indentation."
    found = "; ".join(c["description"] for c in cells.values())
    return f"Cells found with seqviz's unit search (numbered as the app shows them): {found}."
