"""The catalogue of models the app offers: bundled trained models plus seeded untrained ones.

Listing reads only the JSON header of each bundled `.safetensors` file, so it needs no torch and is fast.
Loading goes through `seqviz.core.modelfile.load_model`, which knows every id listed here, so
`seqviz.load_model(id)` takes the same ids as the app.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from seqviz.core.modelfile import UNTRAINED_ARCHS, untrained_model_ids
from seqviz.core.resources import models_dir

MODELS_DIR = models_dir()  # kept for the scripts and tests that name it; the code below asks models_dir()
# The lesson's order: tasks (a) long-range, (b) sentiment, (c) tagging, then the rest by name; within a
# task the simple recurrence first.
TASK_ORDER = ("long-range", "sentiment", "pos")
ARCH_ORDER = ("rnn", "gru", "lstm")  # then other recurrent archs (e.g. gru-attention), then Transformers
DEFAULT_ID = "longrange-lstm"  # the long-range LSTM: the lesson's first picture
FALLBACK_ID = "untrained-lstm"  # when the bundled file is missing
ARCH_LABELS = {
    "rnn": "RNN",
    "gru": "GRU",
    "lstm": "LSTM",
    "transformer": "Transformer",
    "gru-attention": "GRU encoder-decoder with attention",
}
_GIVES_SIZE = re.compile(r"\b(hidden|d_model) \d+")  # a summary that names the model's size


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    arch: str
    task: str
    description: str
    examples: tuple[str, ...] = ()
    path: Path | None = None  # None: built in code (untrained)
    card: dict = field(default_factory=dict, compare=False, hash=False)
    config: dict = field(default_factory=dict, compare=False, hash=False)  # the model file's sizes

    @property
    def summary(self) -> str:
        """The description's first sentence: what one line in a list or a menu has room for."""
        head, dot, _ = self.description.partition(". ")
        return head + ("." if dot else "")

    @property
    def listing(self) -> str:
        """The summary with the model's size and held-out score, where it does not give them already
        (the lecture models' cards say "LSTM (1 layer, hidden 128): ...; held-out accuracy 100.0%")."""
        text, size, score = self.summary, self.size, self.score
        if size and not _GIVES_SIZE.search(text):
            text = f"{size}: {text[:1].lower()}{text[1:]}"
        if score and "accuracy" not in text:
            text = f"{text.rstrip('.')}; {score}"
        return text

    @property
    def size(self) -> str:
        """The architecture and its sizes, e.g. "LSTM (2 layers, hidden 176)"; "" if unknown."""
        c, label = self.config, self.card.get("metrics", {}).get("arch_label") or ARCH_LABELS.get(self.arch)
        layers = c.get("num_layers")
        if self.arch == "transformer" and "d_model" in c:
            decoder = c.get("num_decoder_layers")
            if decoder:
                return f"Transformer encoder-decoder ({layers}+{decoder} layers, d_model {c['d_model']})"
            return f"{label} ({layers} layer{'s' * (layers != 1)}, d_model {c['d_model']})"
        if "hidden_size" not in c:
            return ""
        if self.arch == "gru-attention":
            return f"{label} (hidden {c['hidden_size']})"
        return f"{label} ({layers} layer{'s' * (layers != 1)}, hidden {c['hidden_size']})"

    @property
    def score(self) -> str:
        """The card's held-out score, saying what was measured; "" if it has none."""
        accuracy, metrics = self.card.get("accuracy"), self.card.get("metrics", {})
        if not isinstance(accuracy, (int, float)):
            return ""
        if "exact_match_heldout" in metrics:
            return f"held-out exact match {accuracy:.1%}"
        if "next_char_accuracy" in metrics:
            return f"held-out next-character accuracy {accuracy:.1%}"
        return f"held-out accuracy {accuracy:.1%}"


def read_metadata(path: Path) -> dict:
    """The seqviz JSON metadata of a .safetensors file, read from its header only."""
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
    return json.loads(header.get("__metadata__", {}).get("seqviz", "{}"))


def bundled_entries() -> list[CatalogueEntry]:
    entries = []
    for path in sorted(models_dir().glob("*.safetensors")):
        try:
            meta = read_metadata(path)
        except (OSError, ValueError, struct.error):
            continue
        card = meta.get("card", {})
        arch = (
            card.get("arch")
            or card.get("metrics", {}).get("arch")
            or meta.get("config", {}).get("arch", "transformer")
        )
        entries.append(
            CatalogueEntry(
                path.stem,
                arch,
                card.get("task", ""),
                card.get("description", ""),
                card_examples(card),
                path,
                card,
                meta.get("config", {}),
            )
        )
    return sorted(entries, key=_lesson_order)


def card_examples(card: dict) -> tuple[str, ...]:
    """A bundled model's examples: its card's, then those its lecture task added after the model was
    trained (Task.added_examples; the file stays as training wrote it)."""
    from seqviz.demos.tasks import all_tasks  # plain Python: the catalogue still needs no torch

    given = tuple(card.get("examples", ()))
    task = all_tasks().get(card.get("task", ""))
    return given + tuple(t for t in (task.added_examples if task else ()) if t not in given)


def _lesson_order(entry: CatalogueEntry) -> tuple:
    task = TASK_ORDER.index(entry.task) if entry.task in TASK_ORDER else len(TASK_ORDER)
    if entry.arch in ARCH_ORDER:
        arch = ARCH_ORDER.index(entry.arch)
    else:
        arch = len(ARCH_ORDER) + ("transformer" in entry.arch)
    return (task, entry.task, arch, entry.id)


def untrained_entries() -> list[CatalogueEntry]:
    return [
        CatalogueEntry(
            model_id,
            a,
            "untrained",
            f"freshly initialised {ARCH_LABELS[a]} (seeded random weights)",
            ("the quick brown fox jumps over the lazy dog",),
        )
        for model_id, a in zip(untrained_model_ids(), UNTRAINED_ARCHS, strict=True)
    ]


def entries() -> list[CatalogueEntry]:
    """Every model the app offers, bundled ones first."""
    return bundled_entries() + untrained_entries()


def find(model_id: str) -> CatalogueEntry | None:
    return next((e for e in entries() if e.id == model_id), None)


def default_id() -> str:
    """The model the app opens first: the long-range LSTM, or an untrained LSTM if it is missing."""
    return DEFAULT_ID if (models_dir() / f"{DEFAULT_ID}.safetensors").is_file() else FALLBACK_ID


def by_task() -> dict[str, list[CatalogueEntry]]:
    """Entries grouped by task, in catalogue order."""
    groups: dict[str, list[CatalogueEntry]] = {}
    for entry in entries():
        groups.setdefault(entry.task or "other", []).append(entry)
    return groups


def print_model_list(file=None) -> None:
    """One model per line, `ID  ARCH  TASK  description` (its size and held-out score included), grouped
    by task (for `main.py --list-models`)."""
    rows = [(e.id, e.arch, e.task, e.listing) for group in by_task().values() for e in group]
    id_width = max(len(r[0]) for r in rows)
    arch_width = max(len(r[1]) for r in rows)
    task_width = max(len(r[2]) for r in rows)
    for model_id, arch, task, description in rows:
        line = f"{model_id:{id_width}s}  {arch:{arch_width}s}  {task:{task_width}s}  {description}"
        print(line.rstrip(), file=file)


def load(model_id: str):
    """Load a catalogue model by id (imports torch). Raises seqviz.ModelFileError if unknown."""
    from seqviz.core.modelfile import load_model

    return load_model(model_id)
