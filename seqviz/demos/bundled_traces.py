"""How the app opens a bundled model and traces a text with it, and the traces shipped beside them.

`open_bundled` and `trace_text` are what the app runs (seqviz.app.viewer.runs calls them), so a trace
written here is the trace the window would compute. `write_shipped` stores the default demo's trace
of its first example in resources/models/traces (seqviz.core.trace_cache): the window shows it while
torch loads. The retrain command (`python -m seqviz.demos.train`) calls it; so can a person:

    python -m seqviz.demos.bundled_traces          # rewrite the shipped traces
"""

from __future__ import annotations

import sys
from pathlib import Path

from seqviz.core import trace_cache
from seqviz.core.model_interface import SequenceModel
from seqviz.core.trace import Trace
from seqviz.demos import catalogue

SHIPPED_IDS = (catalogue.DEFAULT_ID,)  # the model the app opens first: the one whose start-up counts


def open_bundled(model_id: str) -> SequenceModel:
    """The catalogue model `model_id` as the app opens it (imports torch). ModelFileError if unknown."""
    from seqviz.core.adapters import open_model

    entry = catalogue.find(model_id)
    label = (entry.card.get("title") if entry else "") or model_id
    model = open_model(catalogue.load(model_id), source=model_id, label=label)
    if entry is not None and entry.examples:  # the card's and those its task added since (a long one)
        model.examples = entry.examples
    return model


def trace_text(model: SequenceModel, text: str, edits: tuple = (), masks: tuple = ()) -> Trace:
    """`model`'s trace of `text` (with `edits`, seqviz.edits, and a masked LM's mask on the 0-based
    positions `masks`); a lecture task's model also gets the true answers its rules give the text."""
    from seqviz.demos.answers import known_answers

    options: dict = {"edits": list(edits)} if edits else {}
    if masks:
        options["mask_positions"] = list(masks)
    lecture_task = getattr(getattr(model.module, "card", None), "task", "")
    if lecture_task and "targets" in model.trace_options:  # the tasks know the answers of their texts
        answers = known_answers(lecture_task, model.tokens(text))
        if answers is not None:
            options["targets"] = answers
    return model.trace(text, **options)


def model_file(model_id: str) -> Path | None:
    """The file of a bundled model (None for an untrained one, built in code)."""
    entry = catalogue.find(model_id)
    return entry.path if entry is not None else None


def write_shipped(model_ids: tuple[str, ...] = SHIPPED_IDS) -> list[Path]:
    """Replace the shipped traces by the traces of each model's first example; returns the files."""
    folder = trace_cache.shipped_dir()
    for old in folder.glob("*.npz"):  # traces of older model files are never found again
        old.unlink()
    written = []
    for model_id in model_ids:
        model, path = open_bundled(model_id), model_file(model_id)
        text = model.examples[0]
        stored = trace_cache.store(path, text, trace_text(model, text), folder)
        if stored is None:
            raise OSError(f"could not write the trace of {model_id} in {folder}")
        written.append(stored)
    return written


def main() -> int:
    for path in write_shipped():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
