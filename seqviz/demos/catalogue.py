"""The catalogue of models the app offers: bundled trained models plus seeded untrained ones.

Listing reads only the JSON header of each bundled `.safetensors` file, so it needs no torch and is fast.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
MODELS_DIR = RESOURCES / "models"
UNTRAINED_ARCHS = ("rnn", "gru", "lstm", "transformer")
DEFAULT_ID = "untrained-lstm"  # replaced by the task (a) LSTM once the bundled models exist


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    arch: str
    task: str
    description: str
    examples: tuple[str, ...] = ()
    path: Path | None = None  # None: built in code (untrained)
    card: dict = field(default_factory=dict, compare=False, hash=False)


def read_metadata(path: Path) -> dict:
    """The seqviz JSON metadata of a .safetensors file, read from its header only."""
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
    return json.loads(header.get("__metadata__", {}).get("seqviz", "{}"))


def bundled_entries() -> list[CatalogueEntry]:
    entries = []
    for path in sorted(MODELS_DIR.glob("*.safetensors")):
        try:
            meta = read_metadata(path)
        except (OSError, ValueError, struct.error):
            continue
        card = meta.get("card", {})
        arch = card.get("arch") or meta.get("config", {}).get("arch", "transformer")
        entries.append(
            CatalogueEntry(
                path.stem,
                arch,
                card.get("task", ""),
                card.get("description", ""),
                tuple(card.get("examples", ())),
                path,
                card,
            )
        )
    return entries


def untrained_entries() -> list[CatalogueEntry]:
    return [
        CatalogueEntry(
            f"untrained-{a}",
            a,
            "untrained",
            f"freshly initialised {a.upper()} (seeded random weights)",
            ("the quick brown fox jumps over the lazy dog",),
        )
        for a in UNTRAINED_ARCHS
    ]


def entries() -> list[CatalogueEntry]:
    """Every model the app offers, bundled ones first."""
    return bundled_entries() + untrained_entries()


def find(model_id: str) -> CatalogueEntry | None:
    return next((e for e in entries() if e.id == model_id), None)


def default_id() -> str:
    return DEFAULT_ID


def load(model_id: str):
    """Load a catalogue model by id (imports torch). Raises seqviz.ModelFileError if unknown."""
    if model_id.startswith("untrained-") and model_id.removeprefix("untrained-") in UNTRAINED_ARCHS:
        from seqviz.core.seqmodel import fresh_model

        return fresh_model(model_id.removeprefix("untrained-"))
    from seqviz.core.modelfile import load_model

    return load_model(model_id)
