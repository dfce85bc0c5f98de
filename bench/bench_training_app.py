"""Benchmark of training in the app (issue 14 §3): does the window stay responsive, and how fast does
the Training dock train compared with the same loop headless? Prints figures; asserts nothing.

    python bench/bench_training_app.py                    # LSTM + GRU on long-range, 400 steps, N = 20
    python bench/bench_training_app.py --archs lstm --steps 1000 --every 10

The window (offscreen, 1600x900, every panel built) trains with the panels following every N steps.
- The event loop's longest gap: a 5 ms timer records the largest delay between two of its ticks
  beyond its interval (goal: <= 50 ms while training). Printed: the longest from Start on (it
  includes the model switch to the untrained weights, every panel built anew, which the first
  optimiser step waits for), and the longest of the gaps that end once the first step has begun
  (TrainingWorker.training_since): the window while training.
- Throughput: each architecture's optimiser steps per second of its own training time
  (StepRecord.seconds) in the app, against `headless_steps_per_second` of the same settings in this
  process with no window work (goal: >= 0.8x). Wall-clock steps per second (evaluation included)
  are printed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SEQVIZ_SETTINGS_DIR", tempfile.mkdtemp(prefix="seqviz-bench-training-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TICK_MS = 5


class GapMeter:
    """Each delay of a TICK_MS timer beyond its interval, with when it ended (perf_counter seconds)."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[tuple[float, float]] = []  # (end time, ms beyond the interval)
        self.last = 0.0

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now, max(0.0, (now - self.last) * 1000 - TICK_MS)))
        self.last = now

    def longest(self, since: float = 0.0) -> float:
        return max((gap for at, gap in self.gaps if at >= since), default=0.0)


def train_in_app(app, choices, size: tuple[int, int]) -> dict:
    """Train `choices` in a window: steps/s per run label, the gap meter, wall seconds, versions shown
    and when the first was (the model switch to the untrained weights: the panels are built anew)."""
    from seqviz.app import MainWindow

    window = MainWindow()
    window.resize(*size)
    window.show()
    dock = window.training
    dock.ensure_view().form.set_choices(choices)
    shown: list[float] = []
    window.traceShown.connect(lambda trace: shown.append(time.perf_counter()))
    meter = GapMeter()
    started = time.perf_counter()
    dock.start()
    worker = dock.worker
    meter.start()
    # the event loop as the app runs it (waiting for events without the GIL): a loop calling
    # processEvents every millisecond took the GIL from the training thread a thousand times a second
    loop, check = QEventLoop(), QTimer()
    check.timeout.connect(lambda: dock.state in ("starting", "running") or loop.quit())
    check.start(50)
    loop.exec()
    check.stop()
    meter.stop()
    # from the first optimiser step to the end: the window's creation and the model switch at Start
    # are not training (the headless figure likewise leaves out preparing the data)
    wall = time.perf_counter() - (worker.training_since or started)
    dock.finish()
    rates = {run.label: run.steps_done / max(run.curves.seconds[-1], 1e-9) for run in dock.session.runs}
    window.close()
    since = worker.training_since or float("inf")
    return {"rates": rates, "meter": meter, "wall": wall, "shown": shown, "training_since": since}


def headless_rates(settings, archs) -> tuple[dict[str, float], float]:
    """The same session trained here, in this thread: each run's steps/s of its own training time, and
    the wall-clock seconds from the first step to the last (its data prepared before)."""
    from seqviz.demos.training_run import TrainingSession

    session = TrainingSession(settings, archs)
    started = time.perf_counter()
    while not session.finished:
        session.step_all()
    wall = time.perf_counter() - started
    return {run.label: run.steps_done / max(run.curves.seconds[-1], 1e-9) for run in session.runs}, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="long-range")
    parser.add_argument("--archs", nargs="+", default=["lstm", "gru"])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--every", type=int, default=20, help="the panels follow every this many steps")
    parser.add_argument("--size", default="1600x900")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    import torch

    from seqviz.app.viewer.training_choices import ArchChoice, TrainingChoices
    from seqviz.demos.training_run import ArchSettings, TrainSettings

    archs = tuple(ArchChoice(a, enabled=a in args.archs) for a in ("rnn", "gru", "lstm", "transformer"))
    choices = TrainingChoices(task=args.task, steps=args.steps, follow_every=args.every, archs=archs)
    size = tuple(int(v) for v in args.size.split("x"))
    torch.set_num_threads(1)
    print(f"task {args.task}, {args.steps} steps each, batch {choices.batch_size}, panels every {args.every}")
    print(f"window {size[0]}x{size[1]} offscreen; goals: longest gap <= 50 ms, steps/s ratio >= 0.8")
    for _ in range(args.repeat):
        settings, arch_list = choices.train_settings(TrainSettings), choices.arch_settings(ArchSettings)
        headless, headless_wall = headless_rates(settings, arch_list)
        run = train_in_app(app, choices, size)
        meter, shown, wall, since = run["meter"], run["shown"], run["wall"], run["training_since"]
        gaps = [gap for at, gap in meter.gaps if at >= since]
        total = args.steps * len(run["rates"])
        print(
            f"event loop while training: longest gap {meter.longest(since):.0f} ms, "
            f"{sum(g > 50 for g in gaps)} gaps > 50 ms of {len(gaps)} ticks (median "
            f"{statistics.median(gaps or [0]):.1f} ms), {len(shown)} traces shown; from Start, the "
            f"model switch to the untrained weights included: {meter.longest():.0f} ms"
        )
        ratios = "  ".join(
            f"{k} {v:.0f}/{headless[k]:.0f} = {v / headless[k]:.2f}" for k, v in run["rates"].items()
        )
        print(f"steps/s of own training time, in app/headless: {ratios}")
        print(
            f"wall clock from the first step to the last, evaluation included: headless "
            f"{total / headless_wall:.0f} steps/s, in the app {total / wall:.0f} (ratio "
            f"{headless_wall / wall:.2f}: the app also holds training while the panels repaint)"
        )


if __name__ == "__main__":
    main()
