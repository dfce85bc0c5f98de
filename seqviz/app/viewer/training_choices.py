"""TrainingChoices: what the Training dock's form holds, without Qt.

The form's values as one plain dataclass: turned into the training API's settings
(seqviz.demos.training_run: `TrainSettings`, one `ArchSettings` per chosen architecture) and kept
between launches as JSON in the settings file. A remembered value out of its bounds (a file edited
by hand, an older version) is brought back into them, never refused: the dock opens either way.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

ARCH_NAMES = ("rnn", "gru", "lstm", "transformer")  # the order of the form's rows
ARCH_TITLES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM", "transformer": "Transformer"}
TRANSFORMER_HEADS = 4  # d_model must be a multiple of it

# (lowest, highest) of each number the form asks for
BOUNDS: dict[str, tuple[float, float]] = {
    "hidden": (4, 1024),
    "layers": (1, 4),
    "lr": (1e-8, 1e38),  # up to absurd on purpose: Adam's loss becomes NaN only near float32's end
    "steps": (1, 1_000_000),
    "batch_size": (1, 1024),
    "seed": (0, 2**31 - 1),
    "clip": (0.01, 1000.0),
    "follow_every": (1, 100_000),
}


@dataclass(frozen=True)
class ArchChoice:
    """One row of the form: an architecture, on or off, with its sizes."""

    arch: str
    enabled: bool = False
    hidden: int = 64
    layers: int = 1


def _default_archs() -> tuple[ArchChoice, ...]:
    return tuple(ArchChoice(name, enabled=name in ("gru", "lstm")) for name in ARCH_NAMES)


@dataclass(frozen=True)
class TrainingChoices:
    task: str = "long-range"  # a bundled task's name, or "file" for `text_file`
    text_file: str = ""
    level: str = "char"  # a text file's tokens: "char" or "word"
    archs: tuple[ArchChoice, ...] = field(default_factory=_default_archs)
    lr: float = 3e-3
    steps: int = 1000
    batch_size: int = 32
    seed: int = 0
    clip_on: bool = True
    clip: float = 1.0
    follow_every: int = 20  # the panels show the current weights every this many steps

    @property
    def chosen(self) -> list[ArchChoice]:
        return [a for a in self.archs if a.enabled]

    @property
    def task_source(self) -> str:
        """What TrainSettings.task takes: the bundled task's name or the text file's path."""
        return self.text_file if self.task == "file" else self.task

    def problem(self) -> str | None:
        """Why training cannot start with these choices (before any data is read), or None."""
        if not self.chosen:
            return "Choose at least one architecture to train (RNN, GRU, LSTM or Transformer)."
        if self.task == "file" and not self.text_file:
            return "Choose a text file to train a language model on (Task: Text file...)."
        return None

    def train_settings(self, settings_class: type) -> Any:
        """The TrainSettings of these choices (the class is passed: this module imports no torch).
        Held-out accuracy about 20 times per run, and about 20 snapshots for the slider."""
        return settings_class(
            task=self.task_source,
            level=self.level,
            steps=self.steps,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=self.seed,
            clip=self.clip if self.clip_on else None,
            eval_every=max(1, min(50, self.steps // 20)),
            snapshot_every=max(1, round(self.steps / 20)),
        )

    def arch_settings(self, arch_class: type) -> list[Any]:
        """One ArchSettings per chosen architecture, in the form's order."""
        return [
            arch_class(arch=a.arch, hidden=a.hidden, layers=a.layers, heads=TRANSFORMER_HEADS)
            if a.arch == "transformer"
            else arch_class(arch=a.arch, hidden=a.hidden, layers=a.layers)
            for a in self.chosen
        ]

    # remembered between launches ---------------------------------------------------------------------
    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> TrainingChoices:
        """Choices from what the settings file holds: unknown keys ignored, numbers clamped, anything
        unreadable replaced by its default."""
        default = cls()
        if not isinstance(data, dict):
            return default
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data and f.name != "archs":
                values[f.name] = _read(f.name, data[f.name], getattr(default, f.name))
        values["archs"] = _read_archs(data.get("archs"))
        return replace(default, **values)


def _read(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        return value if isinstance(value, bool) else default
    if isinstance(default, (int, float)):
        return clamp(name, value, default)
    if name == "level":
        return value if value in ("char", "word") else default
    return value if isinstance(value, str) else default


def clamp(name: str, value: Any, default: float) -> Any:
    """`value` as a number within BOUNDS[name] (an int where the default is one); `default` if it is
    not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if not math.isfinite(number) or isinstance(value, bool):
        return default
    low, high = BOUNDS[name]
    number = min(max(number, low), high)
    return int(round(number)) if isinstance(default, int) else number


def _read_archs(data: Any) -> tuple[ArchChoice, ...]:
    rows = {a.arch: a for a in _default_archs()}
    if isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and item.get("arch") in rows:
                base = rows[item["arch"]]
                rows[base.arch] = ArchChoice(
                    base.arch,
                    enabled=_read("enabled", item.get("enabled"), base.enabled),
                    hidden=arch_hidden(base.arch, clamp("hidden", item.get("hidden"), base.hidden)),
                    layers=clamp("layers", item.get("layers"), base.layers),
                )
    return tuple(rows[name] for name in ARCH_NAMES)


def arch_hidden(arch: str, hidden: int) -> int:
    """A Transformer's d_model is a multiple of its heads: rounded up to one."""
    if arch != "transformer":
        return hidden
    return max(TRANSFORMER_HEADS, -(-hidden // TRANSFORMER_HEADS) * TRANSFORMER_HEADS)
