"""Training in steps (issue 14): one architecture's run, and a session of one to four run side by side.

The app's Training dock and `python -m seqviz.train` both drive this module, and its optimiser step is
the bundled demos' (training.AdamStep): one training loop, not a second copy. A `TrainingRun` takes ONE
optimiser step per `step()` call, so the caller decides when to pause, resume or stop; a
`TrainingSession` steps its runs round-robin. Nothing here is thread-safe: one thread drives a session.

    settings = TrainSettings("sentiment", steps=600)
    session = TrainingSession(settings, [ArchSettings("gru"), ArchSettings("lstm")])
    while not session.finished:
        for record in session.step_all(): ...        # StepRecord: step, seconds, loss, grad_norm, accuracy
    session.runs[0].model_at(100)                    # the weights of step 100, for tracing

Each run keeps its curves (loss and gradient norm per step; held-out accuracy every `eval_every` steps)
and snapshots of its weights (step 0, every `snapshot_every` steps, the last; CPU copies). A loss or
gradient norm that is not finite stops the run cleanly: the weights whose loss was last finite are put
back, `problem` says so. The same settings give bit-identical weights whatever else runs: each run keeps
its own torch random-number state. seqviz.demos.trained_file saves a run; docs/training.md has it all.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from seqviz.core.file_limits import MEMORY_SHARE, format_bytes, memory_available
from seqviz.core.seqmodel import ModelCard, TokenModel
from seqviz.demos.specs import ARCH_NAMES
from seqviz.demos.training import AdamStep
from seqviz.demos.training_curves import Curves
from seqviz.demos.training_data import TrainingData, build_model, make_feed, task_choices
from seqviz.demos.training_memory import MemoryEstimate, Shape, check_fits, estimate, parameter_count
from seqviz.demos.training_settings import (
    ARCHS,
    ArchSettings,
    TrainingInputError,
    TrainSettings,
    check_arch,
)

__all__ = [
    "ARCHS",
    "ArchSettings",
    "Curves",
    "StepRecord",
    "TrainSettings",
    "TrainingData",
    "TrainingInputError",
    "TrainingRun",
    "TrainingSession",
    "headless_steps_per_second",
    "memory_estimate",
    "task_choices",
]
MAX_ARCHS = 4


@dataclass(frozen=True)
class StepRecord:
    """What one optimiser step reports."""

    step: int  # 1-based number of steps done
    seconds: float  # this run's own cumulative training time (its steps only, not evaluation)
    loss: float  # this step's loss (nats); nan when the run stopped at this step (see `problem`)
    grad_norm: float  # total gradient norm BEFORE clipping (so exploding gradients show)
    accuracy: float | None  # held-out accuracy if evaluated at this step, else None


def memory_estimate(data: TrainingData, arch: ArchSettings, settings: TrainSettings) -> MemoryEstimate:
    """What training `arch` on `data` would hold in memory (seqviz.demos.training_memory)."""
    return estimate(_count_parameters(data, arch, settings)(arch.hidden), _shape(data, arch, settings))


def _shape(data: TrainingData, arch: ArchSettings, settings: TrainSettings) -> Shape:
    snapshots = settings.steps // settings.snapshot_every + 2  # step 0, every snapshot_every, the last
    bidirectional = data.task is not None and data.task.kind == "tag" and arch.arch != "transformer"
    return Shape(
        arch.arch,
        arch.hidden,
        arch.layers,
        arch.heads,
        2 if bidirectional else 1,
        data.outputs(),
        settings.batch_size,
        data.longest(arch.arch),
        snapshots,
    )


def _count_parameters(data: TrainingData, arch: ArchSettings, settings: TrainSettings):
    """hidden -> the parameters of `arch`'s model at that width (built on the meta device)."""

    def count(hidden: int) -> int:
        sized = ArchSettings(arch.arch, hidden, arch.layers, arch.embed, arch.heads)
        return parameter_count(lambda: build_model(data, sized, settings))

    return count


class TrainingRun:
    """One architecture's training; not thread-safe: one thread drives it (see the module's docstring)."""

    def __init__(
        self, data: TrainingData, arch: ArchSettings, settings: TrainSettings, label: str | None = None
    ) -> None:
        """Build the seeded untrained model; TrainingInputError for sizes no model has, a text too short
        for the batch, or a model that would not fit in memory (the message gives the estimate)."""
        check_arch(arch)
        self.data, self.arch, self.settings = data, arch, settings
        self.label = label or ARCH_NAMES[arch.arch]
        slug = "-".join("".join(c if c.isalnum() else " " for c in self.label.lower()).split())
        self.name = f"{data.name}-{slug}"  # for files and ids: "sentiment-lstm", "notes-lstm-128"
        if data.corpus is not None:
            data.corpus.check_streams(settings.batch_size, data.window(arch.arch), self.label)
        self.memory = check_fits(
            self.label, _shape(data, arch, settings), _count_parameters(data, arch, settings)
        )
        with torch.random.fork_rng(devices=[]):  # the caller's random numbers stay where they were
            self.model: TokenModel = build_model(data, arch, settings)
            torch.manual_seed(settings.seed)  # as the demos' fit does before its first step
            self._rng_state = torch.get_rng_state()
        self.model.card = self._card()
        self._feed = make_feed(data, arch, settings)
        self._adam = AdamStep(self.model.parameters(), settings.lr, settings.steps, settings.clip)
        # the weights whose loss was last finite, copied into at every step (no allocation)
        self._good = [p.detach().clone() for p in self._adam.params]
        self._good_step = 0
        self.curves = Curves()
        self.snapshots: dict[int, dict[str, torch.Tensor]] = {}
        self.steps_done = 0
        self.finished = False
        self.problem: str | None = None
        self._seconds = 0.0
        self._snapshot()
        self._evaluate()

    def _card(self) -> ModelCard:
        # the texts a model reads: the task's (as its bundled models), or this file's (the app keeps the text
        # between models of one domain; seqviz.core.adapters.text_domain)
        task = self.data.task.name if self.data.task is not None else f"text:{self.data.name}"
        return ModelCard(
            id=f"{self.name}-trained",  # never a bundled model's id
            title=f"{self.data.title} - {self.label} (training in seqviz)",
            task=task,
            description=f"{self.label} being trained in seqviz on {self.data.title}",
            examples=list(self.data.examples),
        )

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self._adam.params)

    @contextlib.contextmanager
    def _own_random_numbers(self) -> Iterator[None]:
        """Swap in this run's torch random-number state, so runs stepped in turn do not draw from one
        stream (a run's weights then do not depend on the others)."""
        outer = torch.get_rng_state()
        torch.set_rng_state(self._rng_state)
        try:
            yield
        finally:
            self._rng_state = torch.get_rng_state()
            torch.set_rng_state(outer)

    def step(self) -> StepRecord:
        """ONE optimiser step (+ evaluation / snapshot when due). A non-finite loss or gradient norm
        restores the last good weights, sets `problem` and `finished`, raises nothing (the record's loss
        is nan)."""
        if self.finished:
            raise RuntimeError(f"the {self.label} run is finished; start a new one to train more")
        index = self.steps_done  # 0-based: the schedule's step
        start = time.perf_counter()
        with self._own_random_numbers():
            self.model.train()
            loss = self._feed.loss(self.model)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                return self._diverge(index + 1, "loss", loss_value, start)
            with torch.no_grad():
                for good, param in zip(self._good, self._adam.params, strict=True):
                    good.copy_(param)
            self._good_step = index
            norm = self._adam.step(loss, index)
        if not math.isfinite(norm):  # nothing was updated: the weights are the good ones
            return self._diverge(index + 1, "gradient norm", norm, start)
        self._seconds += time.perf_counter() - start
        self.steps_done = index + 1
        self.curves.add_step(self.steps_done, self._seconds, loss_value, norm)
        last = self.steps_done == self.settings.steps
        accuracy = None
        if last or self.steps_done % self.settings.eval_every == 0:
            accuracy = self._evaluate()
        if last or self.steps_done % self.settings.snapshot_every == 0:
            self._snapshot()
        self.finished = last
        return StepRecord(self.steps_done, self._seconds, loss_value, norm, accuracy)

    def _diverge(self, step: int, what: str, value: float, start: float) -> StepRecord:
        """Stop at `step` whose `what` is `value` (not finite): the last good weights back, a problem."""
        with torch.no_grad():
            for good, param in zip(self._good, self._adam.params, strict=True):
                param.copy_(good)
        self._adam.optimizer.zero_grad()
        self._seconds += time.perf_counter() - start
        self.steps_done = self._good_step
        self.finished = True
        self.problem = (
            f"the {what} became {'NaN' if math.isnan(value) else 'infinite'} at step {step} "
            f"(learning rate {self.settings.lr:g} too high?): "
            f"training stopped and kept the weights of step {self._good_step}, the last whose loss was finite"
        )
        self._snapshot()
        return StepRecord(step, self._seconds, math.nan, value if what != "loss" else math.nan, None)

    def stop(self) -> None:
        """finished = True; a final snapshot (and evaluation) of what was trained so far."""
        if self.finished:
            return
        self.finished = True
        self._snapshot()
        if not self.curves.eval_step or self.curves.eval_step[-1] != self.steps_done:
            self._evaluate()

    def _snapshot(self) -> None:
        self.snapshots[self.steps_done] = {
            k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
        }

    def _evaluate(self) -> float:
        accuracy = self.held_out_accuracy()
        self.curves.add_evaluation(self.steps_done, self._seconds, accuracy)
        return accuracy

    def held_out_accuracy(self) -> float:
        """Accuracy of the live model on the held-out data (a task's scored steps; a text's next token)."""
        with self._own_random_numbers():
            return self._feed.accuracy(self.model)

    def model_at(self, step: int) -> TokenModel:
        """A new TokenModel (eval mode) with the weights of the snapshot at `step` (for tracing)."""
        if step not in self.snapshots:
            raise KeyError(f"no snapshot at step {step}; the snapshots are at {sorted(self.snapshots)}")
        return self._copy_with(self.snapshots[step])

    def current_model(self) -> TokenModel:
        """A copy of the live model (eval mode; safe to trace in another thread while this one trains)."""
        return self._copy_with(self.model.state_dict())

    def _copy_with(self, state: dict[str, torch.Tensor]) -> TokenModel:
        with torch.random.fork_rng(devices=[]):  # building initialises weights: not from our numbers
            copy = TokenModel.from_metadata(self.model.metadata())
        copy.load_state_dict(state)
        return copy.eval()


class TrainingSession:
    """One to four runs driven round-robin, one optimiser step each in turn, on data prepared once."""

    def __init__(self, settings: TrainSettings, archs: Sequence[ArchSettings]) -> None:
        """TrainingInputError for bad settings or data, or models that together would not fit in memory."""
        if not 1 <= len(archs) <= MAX_ARCHS:
            raise TrainingInputError(f"choose one to {MAX_ARCHS} architectures to train, not {len(archs)}")
        for arch in archs:
            check_arch(arch)
        self.settings = settings
        self.data = TrainingData.prepare(settings)
        labels = unique_labels(archs)
        self._check_memory(archs, labels)
        self.runs = [
            TrainingRun(self.data, a, settings, label) for a, label in zip(archs, labels, strict=True)
        ]

    def _check_memory(self, archs: Sequence[ArchSettings], labels: list[str]) -> None:
        """Each run checks itself; here what they need together."""
        if len(archs) < 2:
            return
        total = 0
        for arch, label in zip(archs, labels, strict=True):
            if self.data.corpus is not None:
                self.data.corpus.check_streams(self.settings.batch_size, self.data.window(arch.arch), label)
            total += memory_estimate(self.data, arch, self.settings).total
        available = memory_available()
        if available is not None and total > MEMORY_SHARE * available:
            raise TrainingInputError(
                f"the {len(archs)} models together would need about {format_bytes(total)} to train, more "
                f"than this machine has available ({format_bytes(available)}); train fewer architectures "
                "at once, or smaller ones"
            )

    def step_all(self) -> list[StepRecord]:
        """One step of every unfinished run, in order (their records, in the same order)."""
        return [run.step() for run in self.runs if not run.finished]

    @property
    def finished(self) -> bool:
        return all(run.finished for run in self.runs)


def unique_labels(archs: Sequence[ArchSettings]) -> list[str]:
    """ "LSTM", "GRU", ...; "LSTM 128" and "LSTM 256" for two LSTMs; "LSTM 128 x2" for two layers."""
    names = [ARCH_NAMES[a.arch] for a in archs]
    labels = [f"{n} {a.hidden}" if names.count(n) > 1 else n for n, a in zip(names, archs, strict=True)]
    labels = [
        f"{lab} x{a.layers}" if labels.count(lab) > 1 else lab for lab, a in zip(labels, archs, strict=True)
    ]
    return [f"{lab} #{i + 1}" if labels.count(lab) > 1 else lab for i, lab in enumerate(labels)]


def headless_steps_per_second(settings: TrainSettings, archs: Sequence[ArchSettings]) -> dict[str, float]:
    """Train a session to the end here, in this thread; each run's steps per second of its own training
    time (StepRecord.seconds: its steps only, not evaluation). bench/bench_training.py prints it; the
    app's bench compares the Training dock's throughput with it."""
    session = TrainingSession(settings, archs)
    while not session.finished:
        session.step_all()
    return {run.label: run.steps_done / max(run.curves.seconds[-1], 1e-9) for run in session.runs}
