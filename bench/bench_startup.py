"""Benchmark the start-up: from the process start to a window where stepping works. Prints figures.

    python bench/bench_startup.py            # 5 runs of each case
    python bench/bench_startup.py --runs 10

Each run is `main.py --smoke` in a subprocess (offscreen, fresh settings and cache folders), started
through a small driver that hooks the window: when the first trace is on screen it presses Right (the
window's own "Step forward" action), lets the window repaint, and checks that the step moved. Times
are from just before the subprocess starts (Python's own start-up counts):

- window: the first paint of the window (SEQVIZ_REPORT's window-shown);
- interactive: the first trace is on screen and a step has worked (the step's own time is printed too);
- model: the model is loaded and has run the text (typing a new text works from here);
- the CPU time the process used up to interactive (less swayed by a busy machine than the clock);
- steps while the model loads: the driver goes on pressing Right every 100 ms until the model is
  there, and times each (torch's import in the worker shares the GIL with the window).

Python's compiled bytecode is kept between runs in a folder of its own (PYTHONPYCACHEPREFIX, even
when PYTHONDONTWRITEBYTECODE is set, as in some shells): an installed seqviz starts from .pyc files,
while compiling its ~110 modules from source cost ~0.1 s of every start. A first run, not counted,
writes them.

Cases: the default demo (its first example has a trace shipped beside the model: shown before torch
loads) and the same model on another text (nothing stored: the window waits for torch, as every start
did before). The ratio of the two is the figure that survives a busy machine.
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

DRIVER = r"""
import statistics, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
done, later = [], []

def window():
    from seqviz.app.window.main_window import MainWindow
    return next((w for w in app.topLevelWidgets() if isinstance(w, MainWindow)), None)

def timed_step(w):
    (w.commands.forward if w.step < w.num_steps else w.commands.first).trigger()
    t0 = time.perf_counter()
    app.processEvents()
    w.repaint()
    return (time.perf_counter() - t0) * 1000

def step_once(w):
    if done:
        return
    done.append(True)
    before = w.step
    t0 = time.perf_counter()
    w.commands.forward.trigger()
    app.processEvents()
    w.repaint()
    ms = (time.perf_counter() - t0) * 1000
    cpu = time.process_time()
    print(f"bench-step {time.time():.6f} {before} {w.step} {w.num_steps} {ms:.1f} {cpu:.3f}", flush=True)
    QTimer.singleShot(STEP_EVERY_MS, lambda: keep_stepping(w))

def keep_stepping(w):
    if not w.is_ready:  # a person stepping every 100 ms while the model loads
        later.append(timed_step(w))
        QTimer.singleShot(STEP_EVERY_MS, lambda: keep_stepping(w))

def report():
    if later:
        print(f"bench-loading {len(later)} {statistics.median(later):.1f} {max(later):.1f}", flush=True)

def hook():
    w = window()
    if w is None:
        QTimer.singleShot(2, hook)
        return
    w.traceShown.connect(lambda _trace: QTimer.singleShot(0, lambda: step_once(w)))

STEP_EVERY_MS = 100
app.aboutToQuit.connect(report)
QTimer.singleShot(0, hook)
from seqviz.cli import main
sys.exit(main(["--smoke", *sys.argv[1:]]))
"""

CASES = {
    "default demo (stored trace)": [],
    "another text (nothing stored)": ["--model", "longrange-lstm", "--text", "i was born in spain . i speak"],
}


def one_run(args: list[str]) -> dict[str, float] | None:
    """Seconds from the process start to window / interactive / model, and the step's ms; None if
    the run failed or the step did not move."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SEQVIZ_REPORT": "1",
        "SEQVIZ_SETTINGS_DIR": tempfile.mkdtemp(prefix="seqviz-bench-"),
        "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "seqviz-bench-pycache"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.time()
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    times: dict[str, float] = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if parts[:1] == ["seqviz-report"] and parts[1] in ("window-shown", "model-ready"):
            times[parts[1]] = float(parts[2]) - t0
        elif parts[:1] == ["bench-step"]:
            before, after, total = int(parts[2]), int(parts[3]), int(parts[4])
            if after == min(before + 1, total) and total > 0:
                times["interactive"], times["step_ms"] = float(parts[1]) - t0, float(parts[5])
                times["cpu"] = float(parts[6])
        elif parts[:1] == ["bench-loading"]:
            times["loading_steps"], times["loading_median"], times["loading_max"] = map(float, parts[1:4])
    if result.returncode != 0 or len(times) < 5:
        print("  run failed:", result.returncode, (result.stderr or result.stdout)[-400:].strip())
        return None
    return times


FIGURES = (
    ("window-shown", "window"),
    ("interactive", "interactive (a step has worked)"),
    ("model-ready", "model loaded, text run"),
    ("cpu", "CPU time of the process to interactive"),
    ("step_ms", "that first step (ms)"),
    ("loading_steps", "steps taken while the model loads"),
    ("loading_median", "  their median (ms)"),
    ("loading_max", "  the slowest (ms)"),
)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f}  [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CASES}
    one_run(CASES["default demo (stored trace)"])  # writes the bytecode (see above); not counted
    for _ in range(args.runs):  # the cases interleaved: the machine's load drifts between runs
        for name, case_args in CASES.items():
            run = one_run(case_args)
            if run is not None:
                results[name].append(run)
    for name, runs in results.items():
        if not runs:
            continue
        print(f"{name} ({len(runs)} runs; seconds from the process start, median [min-max]):")
        for key, label in FIGURES:
            values = [r[key] for r in runs if key in r]
            if not values:
                continue
            print(f"  {label:36s} {_spread(values)}")
    names = [n for n in CASES if results[n]]
    if len(names) == 2:
        a, b = (statistics.median(r["interactive"] for r in results[n]) for n in names)
        print(f"interactive: {names[0]} / {names[1]} = {a / b:.2f}")


if __name__ == "__main__":
    main()
