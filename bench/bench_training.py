"""Benchmark of headless training (issue 14): optimiser steps per second of each architecture.

    python bench/bench_training.py                       # sentiment, default sizes, 200 steps, 1 thread
    python bench/bench_training.py --task pos --steps 300
    python bench/bench_training.py --task notes.txt --level word

Each architecture is trained alone (a session of one run, as `python -m seqviz.train` would with one
--arch), with the TrainSettings / ArchSettings defaults (hidden 64, 1 layer, batch 32), and reported in
steps per second of its own training time (evaluation left out). `headless_steps_per_second` is the
figure the app's bench (the Training dock in a worker thread) compares with: issue 14 asks the app for
at least 0.8x of it. For the bundled tasks the demos' own `fit` runs the same steps too: the
TrainingRun's bookkeeping (its own random numbers, the last good weights, the curves) against the bare
loop.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from seqviz.demos import specs  # noqa: E402
from seqviz.demos.tasks import all_tasks, get_task  # noqa: E402
from seqviz.demos.training import fit  # noqa: E402
from seqviz.demos.training_data import TrainingData, fit_config, model_spec  # noqa: E402
from seqviz.demos.training_run import ARCHS, ArchSettings, TrainSettings, headless_steps_per_second  # noqa: E402


def bare_fit_steps_per_second(settings: TrainSettings, arch: ArchSettings) -> float:
    """The demos' fit on the same model, data and steps (bundled tasks only)."""
    data = TrainingData.prepare(settings)
    model = specs.build_model(model_spec(data, arch, settings))
    start = time.perf_counter()
    fit(model, get_task(settings.task), fit_config(data, settings))
    return settings.steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sentiment")
    parser.add_argument("--level", default="char", choices=("char", "word"))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = TrainSettings(args.task, level=args.level, steps=args.steps, eval_every=50, snapshot_every=100)
    print(f"task {args.task}, {args.steps} steps, batch {settings.batch_size}, {args.threads} thread(s)")
    print(f"{'arch':12s} {'TrainingRun steps/s':>20s} {'bare fit steps/s':>17s}")
    for arch in ARCHS:
        chosen = ArchSettings(arch)
        ((label, rate),) = headless_steps_per_second(settings, [chosen]).items()
        bare = bare_fit_steps_per_second(settings, chosen) if args.task in all_tasks() else float("nan")
        print(f"{label:12s} {rate:20.1f} {bare:17.1f}")


if __name__ == "__main__":
    main()
