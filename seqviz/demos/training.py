"""Training and evaluation of the demo models: encode examples, fit with Adam, measure accuracy.

Batches hold sequences of one length (see `tasks.batches`), so no padding is ever needed.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from seqviz.core.seqmodel import TokenModel
from seqviz.demos.tasks_base import Example, Task, batches

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    ids: torch.Tensor  # (B, T) token ids
    targets: torch.Tensor  # (B, T) output indices, IGNORE where a step has no target
    scored: torch.Tensor  # (B, T) bool: the steps that count for accuracy


def encode(model: TokenModel, examples: Sequence[Example]) -> Encoded:
    """Equal-length examples -> tensors (B, T)."""
    tok = model.tokenizer
    index = {label: i for i, label in enumerate(model.output_labels)}
    ids = torch.tensor([tok.encode(list(ex.tokens)) for ex in examples], dtype=torch.long)
    targets = torch.tensor(
        [[IGNORE if t is None else index[t] for t in ex.targets] for ex in examples], dtype=torch.long
    )
    scored = torch.zeros(ids.shape, dtype=torch.bool)
    for row, ex in enumerate(examples):
        scored[row, list(ex.scored)] = True
    return Encoded(ids, targets, scored)


def loss_fn(logits: torch.Tensor, batch: Encoded, scored_weight: float) -> torch.Tensor:
    """Cross-entropy over every step with a target, plus `scored_weight` x that of the scored steps.

    logits (B, T, K). For a language model the scored step (the long-range answer) is one step among
    many unpredictable filler words; weighting it tells the optimiser what the lesson is about.
    """
    k = logits.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, k), batch.targets.reshape(-1), ignore_index=IGNORE)
    if scored_weight:
        loss = loss + scored_weight * F.cross_entropy(logits[batch.scored], batch.targets[batch.scored])
    return loss


class ProgressBar:
    """A one-line text progress bar on stderr (no dependency): `update(done, note)`."""

    def __init__(self, total: int, label: str = "", width: int = 30, stream=None) -> None:
        self.total, self.label, self.width = max(total, 1), label, width
        self.stream = stream or sys.stderr
        self.start = self._last = time.monotonic()

    def update(self, done: int, note: str = "") -> None:
        now = time.monotonic()
        if now - self._last < 0.5 and done < self.total:  # a few redraws a second are enough
            return
        self._last = now
        frac = min(done / self.total, 1.0)
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = now - self.start
        line = f"\r[{bar}] {frac:4.0%} {self.label} {elapsed:5.0f}s {note}"
        self.stream.write(line[:120].ljust(120))
        self.stream.flush()

    def close(self, note: str = "") -> None:
        self._last = 0.0
        self.update(self.total, note)
        self.stream.write("\n")
        self.stream.flush()


def cosine_lr(lr: float, step: int, steps: int) -> float:
    """The learning rate at `step` of `steps`: a cosine from `lr` down to lr/20, which settles training."""
    return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))


@dataclass(frozen=True)
class FitConfig:
    steps: int = 1000
    batch_size: int = 64
    pool_size: int = 2048  # fresh examples drawn for each pass
    lr: float = 3e-3
    scored_weight: float = 0.0
    clip: float = 1.0
    seed: int = 0


def fit(model: TokenModel, task: Task, cfg: FitConfig, bar: ProgressBar | None = None) -> float:
    """Train `model` on fresh seeded examples of `task` for `cfg.steps` Adam steps; returns the last loss.

    The learning rate follows `cosine_lr`, which settles the final accuracy.
    """
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    model.train()
    step, smooth = 0, float("nan")
    while step < cfg.steps:
        for chunk in batches(task.sample(rng, cfg.pool_size), cfg.batch_size, rng):
            if step >= cfg.steps:
                break
            for group in opt.param_groups:
                group["lr"] = cosine_lr(cfg.lr, step, cfg.steps)
            batch = encode(model, chunk)
            loss = loss_fn(model(batch.ids), batch, cfg.scored_weight)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            smooth = loss.item() if math.isnan(smooth) else 0.95 * smooth + 0.05 * loss.item()
            step += 1
            if bar is not None:
                bar.update(step, f"loss {smooth:.3f}")
    model.eval()
    return smooth


@torch.no_grad()
def evaluate(model: TokenModel, examples: Sequence[Example], batch_size: int = 256) -> dict:
    """Accuracy over the scored steps: {"accuracy": a, "n": scored steps, "groups": {group: accuracy}}."""
    model.eval()
    right: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for chunk in batches(examples, batch_size):
        batch = encode(model, chunk)
        hits = (model(batch.ids).argmax(-1) == batch.targets) & batch.scored  # (B, T)
        for row, ex in enumerate(chunk):
            right[ex.group] += int(hits[row].sum())
            count[ex.group] += int(batch.scored[row].sum())
    total = sum(count.values())
    return {
        "accuracy": sum(right.values()) / max(total, 1),
        "n": total,
        "groups": {g: right[g] / count[g] for g in sorted(count) if g},
    }
