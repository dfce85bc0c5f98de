"""Benchmark comparing runs: one step with two runs side by side against one step with one run.
Prints figures; asserts nothing (goal: a step with two runs <= 1.5x a step with one).

    python bench/bench_compare.py

A step is measured as bench/bench_app.py measures it: set the step, process events (the plots repaint
what changed), repaint the window; the median over many steps, at 1600x900 offscreen. For scale, a
full repaint (every visible plot viewport drawn again, which grows with the number of plots) is printed
too. Pairs: two word models on one text (aligned by position) and a word model beside
a character model (aligned by characters).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["SEQVIZ_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="seqviz-bench-settings-")

FILLER = " . the dog slept . we like the old book"
TEXT = "i was born in france" + FILLER * 6 + " . i speak fluent french"
PAIRS = (("longrange-lstm", "longrange-rnn"), ("longrange-lstm", "untrained-lstm"))


def step_ms(window, app, steps: int) -> tuple[float, float]:
    """Median ms of a step (set_step + processEvents + window.repaint) and of a full repaint."""
    import pyqtgraph as pg

    T = window.num_steps
    for t in range(1, min(T, 20)):  # warm-up: caches, first uploads
        window.set_step(t)
        app.processEvents()
        window.repaint()
    viewports = [v.viewport() for v in window.findChildren(pg.GraphicsView) if v.isVisible()]
    step, full = [], []
    for i in range(steps):
        t0 = time.perf_counter()
        window.set_step(1 + i % T)
        app.processEvents()
        window.repaint()
        t1 = time.perf_counter()
        for viewport in viewports:
            viewport.repaint()
        full.append((time.perf_counter() - t1) * 1e3)
        step.append((t1 - t0) * 1e3)
    return statistics.median(step), statistics.median(full)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="steps timed per case")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from seqviz.app import MainWindow
    from seqviz.app.window.launch import quiet_qt_messages

    quiet_qt_messages()
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1600, 900)
    window.show()
    for first, second in PAIRS:
        window.stop_comparing()
        window.open_model(first, TEXT)
        app.processEvents()
        one, one_full = step_ms(window, app, args.steps)
        window.compare(second)
        app.processEvents()
        two, two_full = step_ms(window, app, args.steps)
        how = (
            "characters"
            if window.comparison.compared[0].column.run_viewer.cursor.step_map is not None
            else "position"
        )
        print(
            f"{first} + {second} (T={window.num_steps}, aligned by {how}): one run {one:6.2f} ms, "
            f"two runs {two:6.2f} ms per step: {two / one:.2f}x (goal <= 1.5x); "
            f"full repaint {one_full:.1f} / {two_full:.1f} ms"
        )
    window.stop_background_work()
    window.close()


if __name__ == "__main__":
    main()
