"""Benchmark: the cost of one step in the real window with every panel docked; prints figures.

    python bench/bench_panels.py                 # 2-layer LSTM, H=512, T=1,000 and T=10,000
    python bench/bench_panels.py --steps 300 --sizes 10000

A step is `viewer.cursor.set_step(t)` followed by the repaint Qt would do (events processed until the window
is painted), measured over consecutive steps (playback) and random jumps, at 1600x900, offscreen.
"CPU" counts this process's CPU time only (stable on a busy machine). "Full grab" re-renders the
whole window from scratch (a worst case: every plot redrawn).
Three units are selected so the units panel draws T-point curves.
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
os.environ.setdefault("SEQVIZ_SETTINGS_DIR", tempfile.mkdtemp(prefix="seqviz-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from seqviz.core.trace import Trace  # noqa: E402


def lstm_trace(steps: int, layers: int = 2, units: int = 512, seed: int = 0) -> Trace:
    """A consistent random LSTM trace (T, L, 1, H) built in float32 without big temporaries."""
    rng = np.random.default_rng(seed)
    shape = (steps, layers, 1, units)
    gates = {n: rng.random(shape, dtype=np.float32) for n in ("input_gate", "forget_gate", "output_gate")}
    candidate = rng.random(shape, dtype=np.float32) * 2 - 1
    cell = np.empty(shape, np.float32)
    c = np.zeros(shape[1:], np.float32)
    for t in range(steps):
        c = gates["forget_gate"][t] * c + gates["input_gate"][t] * candidate[t]
        cell[t] = c
    hidden = gates["output_gate"] * np.tanh(cell)
    labels = list("abcdefghijklmnopqrstuvwxyz ")
    probs = rng.dirichlet(np.ones(len(labels)), size=steps).astype(np.float32)
    meta = {"arch": "lstm", "num_layers": layers, "num_directions": 1, "hidden_size": units, "causal": True}
    meta.update(task="lm", output_labels=labels)
    arrays = {"hidden": hidden, "cell": cell, **gates, "candidate": candidate, "probs": probs}
    tokens = [labels[i] for i in rng.integers(0, len(labels), steps)]
    return Trace(arrays, tokens=tokens, meta=meta)


def time_steps(app, window, steps: list[int], clock=time.perf_counter) -> list[float]:
    """Milliseconds per step: set the step, then let Qt deliver updates and paint."""
    out = []
    for step in steps:
        t0 = clock()
        window.viewer.cursor.set_step(step)
        app.processEvents()  # queued scene updates -> viewport updates
        app.processEvents()  # paint events
        out.append((clock() - t0) * 1000)
    return out


def time_grabs(window, steps: list[int]) -> list[float]:
    out = []
    for step in steps:
        t0 = time.perf_counter()
        window.viewer.cursor.set_step(step)
        window.grab()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return f"{name:<22} median {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms   max {ms[-1]:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000], help="values of T")
    parser.add_argument("--steps", type=int, default=200, help="steps timed per measurement")
    parser.add_argument("--units", type=int, default=512, help="hidden size H")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from seqviz.app.window.main_window import MainWindow

    window = MainWindow()
    window.resize(1600, 900)
    window.show()
    app.processEvents()
    rng = np.random.default_rng(1)
    for steps in args.sizes:
        trace = lstm_trace(steps, units=args.units)
        t0 = time.perf_counter()
        window.show_trace(trace, label="bench")
        window.viewer.selection.set_units((3, 100, 400))
        app.processEvents()
        window.grab()
        load_ms = (time.perf_counter() - t0) * 1000
        start = steps // 3
        time_steps(app, window, list(range(start - 20, start)))  # warm up
        print(f"2-layer LSTM, H={args.units}, T={steps:,}: trace shown in {load_ms:.0f} ms")
        consecutive = list(range(start, start + args.steps))
        print(summary("  consecutive steps", time_steps(app, window, consecutive)))
        # CPU time of this process: what a step costs when the machine is shared with other work
        print(summary("  consecutive, CPU", time_steps(app, window, consecutive, time.process_time)))
        jumps = rng.integers(1, steps + 1, args.steps).tolist()
        print(summary("  random jumps", time_steps(app, window, jumps)))
        print(summary("  full grab per step", time_grabs(window, jumps[: max(20, args.steps // 5)])))
    window.close()


if __name__ == "__main__":
    main()
