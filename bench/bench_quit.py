"""Benchmark quitting: how long after Ctrl+Q the window is gone and the process has ended. Prints
figures; asserts nothing. Needs Xvfb and xdotool (real key presses to a real window).

    python bench/bench_quit.py              # 3 runs, Ctrl+Q 2 s after the model is ready
    python bench/bench_quit.py --early      # Ctrl+Q while the model still loads (torch importing)

main.py runs with SEQVIZ_REPORT=1, which prints `seqviz-report quit ...` when the event loop has
ended (the window is gone); the process's end is when `wait()` returns. Both are measured from just
before the key press is sent. Before the fix both were 2.5-3 s with the model loaded (the interpreter's
final garbage collections over torch's objects) and up to 4.6 s while a model job still ran (the
window's close event waited for it).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_display() -> tuple[subprocess.Popen, dict]:
    number = next(n for n in range(150, 250) if not Path(f"/tmp/.X{n}-lock").exists())
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1600x900x24", "-nolisten", "tcp"])
    env = {**os.environ, "DISPLAY": f":{number}"}
    for _ in range(100):
        if subprocess.run(["xdotool", "getmouselocation"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    return server, env


def one_quit(env: dict, early: bool) -> tuple[float, float]:
    """(seconds to the quit report, seconds to the process's end) after Ctrl+Q."""
    env = {**env, "QT_QPA_PLATFORM": "xcb", "SEQVIZ_REPORT": "1"}
    env["SEQVIZ_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="seqviz-bench-quit-")
    app = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py")], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in app.stdout], daemon=True).start()
    wanted = "seqviz-report interactive" if early else "seqviz-report model-ready"
    while not lines.get(timeout=120).startswith(wanted):
        pass
    time.sleep(0.3 if early else 2.0)
    found = ["xdotool", "search", "--sync", "--onlyvisible", "--name", "^seqviz"]
    window = subprocess.run(found, env=env, capture_output=True, text=True).stdout.split()[0]
    subprocess.run(["xdotool", "windowfocus", "--sync", window], env=env, check=True)
    sent = time.perf_counter()
    subprocess.run(["xdotool", "key", "ctrl+q"], env=env, check=True)
    while not lines.get(timeout=120).startswith("seqviz-report quit"):
        pass
    gone = time.perf_counter() - sent
    app.wait(timeout=120)
    return gone, time.perf_counter() - sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--early", action="store_true", help="quit while the model still loads")
    args = parser.parse_args()
    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        sys.exit("bench_quit needs Xvfb and xdotool")
    server, env = start_display()
    try:
        times = [one_quit(env, args.early) for _ in range(args.runs)]
    finally:
        server.terminate()
        server.wait()
    when = "while the model loads" if args.early else "with the model loaded"
    for label, values in (("window gone", [t[0] for t in times]), ("process ended", [t[1] for t in times])):
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"Ctrl+Q {when}: {label} after {statistics.median(values):.2f} s (median; runs {shown})")


if __name__ == "__main__":
    main()
