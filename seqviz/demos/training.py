"""Training and evaluation of the demo models: encode examples, fit with Adam, measure accuracy.

`AdamStep` is the one optimiser step every training loop of seqviz takes (see its docstring).

Batches hold sequences of one length (see `tasks.batches`), so no padding is ever needed.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
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


Schedule = Callable[[float, int, int], float]  # (base lr, 0-based step, steps) -> the step's lr


class AdamStep:
    """The one optimiser step of every training loop in seqviz: the bundled demos' `fit`, the code LSTM
    (charlm_train), the task (d) models (seq2seq_train) and the app's and `python -m seqviz.train`'s
    `TrainingRun` (seqviz.demos.training_run). The loops differ only in where their batches come from.

    `step(loss, i)` at 0-based step `i` of `steps`: the learning rate from `schedule(lr, i, steps)`,
    zero_grad, backward, the total gradient norm BEFORE clipping (so an exploding gradient shows), the
    clip to `clip` (None: no clipping), Adam's update. A non-finite norm updates nothing: the caller
    decides what to do (TrainingRun stops), and the weights are not spoiled by NaN.
    """

    def __init__(
        self, params, lr: float, steps: int, clip: float | None, schedule: Schedule | None = None
    ) -> None:
        self.params = list(params)
        self.lr, self.steps, self.clip = lr, steps, clip
        self.schedule = schedule or cosine_lr
        self.optimizer = torch.optim.Adam(self.params, lr=lr)

    def step(self, loss: torch.Tensor, step: int) -> float:
        """Update the weights from `loss` (a scalar with a graph); returns the pre-clip gradient norm."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.schedule(self.lr, step, self.steps)
        self.optimizer.zero_grad()
        loss.backward()
        if self.clip is None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in self.params if p.grad is not None])
        else:
            norm = torch.nn.utils.clip_grad_norm_(self.params, self.clip)  # returns the norm before
        norm_value = float(norm)
        if math.isfinite(norm_value):
            self.optimizer.step()
        return norm_value


@dataclass(frozen=True)
class FitConfig:
    steps: int = 1000
    batch_size: int = 64
    pool_size: int = 2048  # fresh examples drawn for each pass
    lr: float = 3e-3
    scored_weight: float = 0.0
    clip: float | None = 1.0  # None: no clipping
    seed: int = 0


def task_batches(task: Task, rng: random.Random, pool_size: int, batch_size: int) -> Iterator[list[Example]]:
    """Endless equal-length batches of fresh examples: a pool of `pool_size` is drawn from `rng` when
    the last one is used up (lazily, so the random stream is the same whatever the number of steps)."""
    while True:
        yield from batches(task.sample(rng, pool_size), batch_size, rng)


def task_loss(model: TokenModel, chunk: Sequence[Example], scored_weight: float) -> torch.Tensor:
    """The training loss of one equal-length batch of task examples (see `loss_fn`)."""
    batch = encode(model, chunk)
    return loss_fn(model(batch.ids), batch, scored_weight)


def fit(model: TokenModel, task: Task, cfg: FitConfig, bar: ProgressBar | None = None) -> float:
    """Train `model` on fresh seeded examples of `task` for `cfg.steps` Adam steps; returns the last loss.

    The learning rate follows `cosine_lr`, which settles the final accuracy. TrainingRun
    (seqviz.demos.training_run) takes the same steps on the same batches for the same settings.
    """
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    adam = AdamStep(model.parameters(), cfg.lr, cfg.steps, cfg.clip)
    stream = task_batches(task, rng, cfg.pool_size, cfg.batch_size)
    model.train()
    smooth = float("nan")
    for step in range(cfg.steps):
        loss = task_loss(model, next(stream), cfg.scored_weight)
        adam.step(loss, step)
        smooth = loss.item() if math.isnan(smooth) else 0.95 * smooth + 0.05 * loss.item()
        if bar is not None:
            bar.update(step + 1, f"loss {smooth:.3f}")
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
