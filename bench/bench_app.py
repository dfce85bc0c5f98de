"""Benchmark the desktop app: start-up, one step, and a playback soak. Prints figures; asserts nothing.

    python bench/bench_app.py                 # everything (the soak plays 10,000 steps: a few minutes)
    python bench/bench_app.py --soak-steps 0  # skip the soak

Figures:
- time to first window / to interactive: `main.py --smoke` in a subprocess with SEQVIZ_REPORT=1, which
  prints unix timestamps at the first paint and when the first trace is on screen; measured from just
  before the process is started (so Python's own start-up counts).
- one step at 1600x900 for a 2-layer LSTM, H=512, at T=100 and T=10,000: set_step + processEvents +
  repaint of the whole window, against a bare repaint of the same window with nothing changed;
  medians over many steps. `QWidget.repaint()` on the window does not reach the plots (Qt sends the
  graphics views' viewports no paint event), so the bare repaint is counted twice: "chrome"
  (window.repaint() alone: toolbar, token strip, labels) and "full" (that plus a repaint of every
  visible plot viewport: every pixel of the window drawn again). The ratio is against the full one.
- soak: N steps of real playback (the QTimer path, run flat out) over the T=10,000 trace; RSS growth
  after a warm-up of 1,000 steps.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["SEQVIZ_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="seqviz-bench-settings-")

import numpy as np  # noqa: E402


def startup_times(runs: int) -> None:
    shown, ready = [], []
    for _ in range(runs):
        env = {**os.environ, "SEQVIZ_REPORT": "1", "SEQVIZ_SETTINGS_DIR": tempfile.mkdtemp()}
        t0 = time.time()
        result = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--smoke"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        stamps = {}
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "seqviz-report":
                stamps[parts[1]] = float(parts[2]) - t0
        if result.returncode != 0 or len(stamps) < 2:
            print("start-up run failed:", result.returncode, result.stderr[-500:])
            continue
        shown.append(stamps["window-shown"])
        ready.append(stamps["interactive"])
    if shown:
        print(f"time to first window: median {statistics.median(shown):.2f} s  (runs: {_fmt(shown)})")
        print(f"time to interactive:  median {statistics.median(ready):.2f} s  (runs: {_fmt(ready)})")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def lstm_trace(T: int, layers: int = 2, hidden: int = 512, vocab: int = 31, seed: int = 0):
    """A contract-shaped LSTM trace (T, L, 1, H) of random values: the app shows, it does not check."""
    from seqviz.core.trace import Trace

    rng = np.random.default_rng(seed)
    shape = (T, layers, 1, hidden)
    gates = {n: rng.random(shape, dtype=np.float32) for n in ("input_gate", "forget_gate", "output_gate")}
    arrays = {
        "hidden": np.tanh(rng.standard_normal(shape, dtype=np.float32)),
        "cell": rng.standard_normal(shape, dtype=np.float32),
        **gates,
        "candidate": np.tanh(rng.standard_normal(shape, dtype=np.float32)),
    }
    logits = rng.standard_normal((T, vocab), dtype=np.float32)
    arrays["probs"] = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = list("abcdefghijklmnopqrstuvwxyz .,'") + ["<unk>"]
    meta = {"arch": "lstm", "num_layers": layers, "num_directions": 1, "hidden_size": hidden, "causal": True}
    meta |= {"task": "lm", "output_labels": labels[:vocab]}
    tokens = [labels[i] for i in rng.integers(0, 27, T)]
    return Trace(arrays, tokens=tokens, meta=meta)


def step_times(window, app, trace, steps: int) -> tuple[float, float, float]:
    """Median ms of one step (set_step + processEvents + repaint), of a bare window.repaint() and of a
    full repaint (window.repaint() plus every visible plot viewport)."""
    import pyqtgraph as pg

    window.show_trace(trace)
    app.processEvents()
    T = trace.num_steps
    start = T // 2 - steps // 2
    for t in range(start - 20, start):  # warm-up: caches, first uploads
        window.set_step(t)
        app.processEvents()
        window.repaint()
    viewports = [v.viewport() for v in window.findChildren(pg.GraphicsView) if v.isVisible()]
    step_ms, bare_ms, full_ms = [], [], []
    for t in range(start, start + steps):
        t0 = time.perf_counter()
        window.set_step(t)
        app.processEvents()
        window.repaint()
        t1 = time.perf_counter()
        app.processEvents()
        window.repaint()
        t2 = time.perf_counter()
        app.processEvents()
        window.repaint()
        for viewport in viewports:
            viewport.repaint()
        t3 = time.perf_counter()
        step_ms.append((t1 - t0) * 1e3)
        bare_ms.append((t2 - t1) * 1e3)
        full_ms.append((t3 - t2) * 1e3)
    return statistics.median(step_ms), statistics.median(bare_ms), statistics.median(full_ms)


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak(window, app, trace, total: int, warmup: int = 1_000) -> None:
    """Play `total` steps through the real playback timer, as fast as it runs."""
    window.show_trace(trace)
    playback = window.playback
    playback.set_speed(60)
    playback.set_tick_interval(0)  # flat out: the soak is about leaks and crashes, not pacing
    counted = {"steps": 0}
    window.viewer.cursor.stepChanged.connect(lambda _s: counted.__setitem__("steps", counted["steps"] + 1))
    rss_after_warmup = None
    t0 = time.perf_counter()
    while counted["steps"] < total:
        if not playback.playing:
            playback.play()  # at the end it starts again from step 1
            playback.set_tick_interval(0)
        app.processEvents()
        if rss_after_warmup is None and counted["steps"] >= warmup:
            rss_after_warmup = rss_mb()
    playback.pause()
    elapsed = time.perf_counter() - t0
    end = rss_mb()
    growth = 100 * (end - rss_after_warmup) / rss_after_warmup
    steps = counted["steps"]
    print(f"soak: {steps} steps of playback in {elapsed:.0f} s ({steps / elapsed:.0f} steps/s); ", end="")
    print(f"RSS after {warmup}-step warm-up {rss_after_warmup:.0f} MB, at end {end:.0f} MB: {growth:+.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=150, help="steps timed per length")
    parser.add_argument("--soak-steps", type=int, default=10_000)
    args = parser.parse_args()
    if args.startup_runs:
        startup_times(args.startup_runs)

    from PySide6.QtWidgets import QApplication

    from seqviz.app import MainWindow
    from seqviz.app.window.docks import panel_classes
    from seqviz.app.window.launch import quiet_qt_messages

    quiet_qt_messages()
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1600, 900)
    window.show()
    app.processEvents()
    print(f"panels: {', '.join(cls.name for cls in panel_classes()) or '(none)'}; window 1600x900 offscreen")
    big = lstm_trace(10_000)
    medians = {}
    for T, trace in ((100, lstm_trace(100)), (10_000, big)):
        step, bare, full = step_times(window, app, trace, args.steps)
        medians[T] = step
        print(
            f"step at T={T:>6}: median {step:6.2f} ms; bare repaint: chrome {bare:6.2f} ms, "
            f"full {full:6.2f} ms; step / full {step / full:.2f}x"
        )
    print(f"step at T=10,000 / step at T=100: {medians[10_000] / medians[100]:.2f}x")
    if args.soak_steps:
        soak(window, app, big, args.soak_steps)
    window.close()


if __name__ == "__main__":
    main()
