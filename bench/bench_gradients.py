"""Benchmark of input gradients (`input_gradient_norm`) against the plain trace; prints figures.

    python bench/bench_gradients.py              # the budget case, other archs, autograd loop for scale
    python bench/bench_gradients.py --quick      # the budget case only
    python bench/bench_gradients.py --repeats 7  # steadier on a busy machine

Budget case: a 2-layer nn.LSTM, input 256, H=256, T=200. Every figure is a ratio of medians taken in
the same run against the plain trace (`seqviz.trace(module, x)`, timed both alone and interleaved
with the others; the faster of the two), and the ratio of the best times beside it (steadier when
other processes take a core):
    whole map   `input_gradients(module, x, trace=tr).full()`      budget 0.5 T x the plain trace
    one row     `gradient_rows(module, x, [T-1], trace=tr)`        budget 5 x (the last row: the longest)
    one row, re-traced   `gradient_rows(module, x, [T-1])`          the app's call, which traces again
Also: nn.GRU / nn.RNN (same path), a bidirectional LSTM and a Transformer encoder layer (autograd, one
backward per row), and for scale a loop of T autograd backward passes over the module's own forward.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import seqviz  # noqa: E402
from seqviz.core.gradients import gradient_rows, input_gradients  # noqa: E402

SIZE, STEPS = 256, 200


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Each function once for warm-up, then `repeats` rounds of all of them in turn."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(_timed(fn))
    return times


def autograd_loop(module: nn.Module, x: torch.Tensor) -> None:
    """The map the plain way: T backward passes of ‖h_t‖ through the module's forward, one per row."""
    leaf = x.clone().requires_grad_()
    norms = torch.linalg.vector_norm(module(leaf)[0], dim=-1)
    for t in range(len(x)):
        torch.autograd.grad(norms[t], leaf, retain_graph=True)


def report(label: str, module: nn.Module, x: torch.Tensor, repeats: int, loop: bool) -> None:
    steps = len(x)
    tr = seqviz.trace(module, x)
    fns = {
        "trace": lambda: seqviz.trace(module, x),
        "map": lambda: input_gradients(module, x, trace=tr).full(),
        "row": lambda: gradient_rows(module, x, [steps - 1], trace=tr),
        "row+trace": lambda: gradient_rows(module, x, [steps - 1]),
    }
    if loop:
        fns["loop"] = lambda: autograd_loop(module, x)
    alone = interleaved({"trace": fns["trace"]}, repeats)["trace"]  # without the others' caches and threads
    times = interleaved(fns, repeats)
    times["trace"] = min(times["trace"], alone, key=statistics.median)  # the faster: ratios err high
    med = {name: statistics.median(t) for name, t in times.items()}
    best = {name: min(t) for name, t in times.items()}

    def ratio(name: str, per_step: bool = False) -> str:
        scale = steps if per_step else 1
        unit = " T" if per_step else "x"
        median, fastest = med[name] / med["trace"] / scale, best[name] / best["trace"] / scale
        return f"{median:6.3f}{unit} (best {fastest:.3f})"

    print(f"{label}: plain trace {med['trace'] * 1e3:7.2f} ms")
    print(f"  whole map    {med['map'] * 1e3:8.1f} ms = {ratio('map', True)} x the trace")
    print(f"  one row      {med['row'] * 1e3:8.2f} ms = {ratio('row')}")
    print(f"  row+retrace  {med['row+trace'] * 1e3:8.2f} ms = {ratio('row+trace')}")
    if loop:
        print(f"  autograd loop of T backward passes {med['loop'] * 1e3:8.1f} ms = {ratio('loop', True)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the budget case only")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {load:.1f}")
    torch.manual_seed(0)
    x = torch.randn(STEPS, SIZE)
    cases = {"LSTM 2 layers": nn.LSTM(SIZE, SIZE, 2)}
    if not args.quick:
        cases |= {
            "GRU 2 layers": nn.GRU(SIZE, SIZE, 2),
            "RNN 2 layers": nn.RNN(SIZE, SIZE, 2),
            "bidirectional LSTM 2 layers (autograd)": nn.LSTM(SIZE, SIZE, 2, bidirectional=True),
            "Transformer encoder layer (autograd)": nn.TransformerEncoderLayer(SIZE, 4, 4 * SIZE),
        }
    budget = "budgets: whole map <= 0.5 T, one row <= 5x"
    print(f"input {SIZE}, H={SIZE}, T={STEPS}; {budget}")
    for label, module in cases.items():
        report(label, module.eval(), x, args.repeats, loop=not args.quick and "autograd" not in label)


if __name__ == "__main__":
    main()
