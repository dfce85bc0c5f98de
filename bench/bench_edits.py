"""Benchmark of re-tracing with value edits against a plain trace; prints figures.

    python bench/bench_edits.py                 # 2-layer LSTM H=512 T=1024, the cases below
    python bench/bench_edits.py --repeats 9     # steadier on a busy machine
    python bench/bench_edits.py --threads 1     # one thread: the CPU-time ratio is steadiest

Each case re-traces the same module and input with edits (seqviz.trace(module, x, edits=[...]));
the plain trace is timed interleaved with it in the same process, and the figures are the medians
and the ratio of medians, plus the ratios of the best wall-clock and CPU times (steadier when others
share the CPU).
The budget (issue 13, section 5): an edit at a late step range re-traces in at most 1.5x a plain trace.
Runs of steps with the same edits run in the fused kernel (with edited weights) however long they are;
single edited steps run one at a time and split the kernel's run (the "single steps" case), and so do
values the kernel cannot make (a cell set outside [-1, 1]). The "B's values" cases are one edit whose
value is an array, one value per step and unit, copied from a trace of another input (Find units' "Set
to B's values from here on", `copy_values`): the kernel reads values that differ by step from extra
input columns.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import seqviz  # noqa: E402
from seqviz.edits import AblateHead, ClampGate, SetCell, SetHidden  # noqa: E402
from seqviz.unit_search import copy_values  # noqa: E402

HIDDEN, STEPS = 512, 1024
UNITS = list(range(0, 512, 8))  # 64 units
CASES = {  # name -> edits; the first is the budgeted one
    "forget gate = 1, layer 0, steps 900-999": [ClampGate("forget_gate", 0, UNITS, range(900, 1000), 1.0)],
    "hidden = 0, layer 1, steps 1000-1023": [SetHidden(1, UNITS, range(1000, 1024), 0.0)],
    "forget gate = 1, layer 0, steps 10-1023": [ClampGate("forget_gate", 0, UNITS, range(10, 1024), 1.0)],
    "hidden = 0, layer 0, steps 10-1023": [SetHidden(0, UNITS, range(10, 1024), 0.0)],
    "3 single steps in both layers": [
        SetHidden(layer, UNITS, [t], 0.0) for layer in (0, 1) for t in (100, 500, 900)
    ],
    "cell = 0, layer 0, steps 10-1023": [SetCell(0, UNITS, range(10, 1024), 0.0)],
    "cell = 2, layer 0, steps 900-999": [SetCell(0, UNITS, range(900, 1000), 2.0)],
}


def array_cases(module: nn.Module, other: torch.Tensor) -> dict[str, list]:
    """name -> one edit setting UNITS of layer 0 to the values a trace of `other` (B) has there."""
    b = seqviz.trace(module, other)
    cases = {}
    for array, steps in (
        ("cell", range(900, 1000)),
        ("cell", range(10, STEPS)),
        ("hidden", range(10, STEPS)),
    ):
        name = f"{array} = B's values, layer 0, steps {steps.start}-{steps.stop - 1}"
        cases[name] = copy_values(b, UNITS, steps, array=array, layer=0)
    cases[f"forget gate = B's values, layer 0, steps 10-{STEPS - 1}"] = copy_values(
        b, UNITS, range(10, STEPS), array="forget_gate", layer=0
    )
    # A trained LSTM's cells often pass ±1 (the long-range LSTM's: 62% of them), where the kernel's
    # f·c + i·g cannot make them (0·c + 1·g is at most 1): B's cells × 4 run step by step.
    (copied,) = copy_values(b, UNITS, range(10, STEPS), array="cell", layer=0)
    large = SetCell(0, copied.units, copied.steps, 4 * copied.value_array())
    cases[f"cell = 4 x B's values, layer 0, steps 10-{STEPS - 1}"] = [large]
    return cases


def _timed(fn) -> tuple[float, float]:
    """(wall clock s, CPU time of the process s) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_case(module: nn.Module, x: torch.Tensor, edits: list, repeats: int) -> tuple[float, ...]:
    """(median plain s, median edited s, best-of ratio, best-of ratio of CPU time)."""
    seqviz.trace(module, x, edits=edits)  # warm-up
    plain, edited = [], []
    for _ in range(repeats):
        plain.append(_timed(lambda: seqviz.trace(module, x)))
        edited.append(_timed(lambda: seqviz.trace(module, x, edits=edits)))  # noqa: B023
    walls, cpus = (min(t[i] for t in edited) / min(t[i] for t in plain) for i in (0, 1))
    median = statistics.median
    return median(t[0] for t in plain), median(t[0] for t in edited), walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch's threads (default: its own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    module = nn.LSTM(HIDDEN, HIDDEN, 2).eval()
    x = torch.randn(STEPS, HIDDEN)
    seqviz.trace(module, x)  # the kernels' first call sets them up
    print(f"2-layer LSTM H={HIDDEN} T={STEPS}, {len(UNITS)} units edited, {args.repeats} repeats", flush=True)
    for name, edits in (CASES | array_cases(module, torch.randn(STEPS, HIDDEN))).items():
        plain, edited, best, cpu = bench_case(module, x, edits, args.repeats)
        print(
            f"  {name:46s} plain {plain * 1e3:7.1f} ms   edited {edited * 1e3:7.1f} ms   "
            f"ratio {edited / plain:5.2f}   (best of {args.repeats}: {best:5.2f}; CPU time {cpu:5.2f})",
            flush=True,
        )
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(256, 8, 1024), 2, enable_nested_tensor=False)
    y = torch.randn(STEPS, 256)
    plain, edited, best, cpu = bench_case(encoder.eval(), y, [AblateHead(1, 3)], args.repeats)
    print(
        f"2-layer TransformerEncoder d=256 T={STEPS}, AblateHead(1, 3): plain {plain * 1e3:.1f} ms, "
        f"edited {edited * 1e3:.1f} ms, ratio {edited / plain:.2f} (best {best:.2f}; CPU time {cpu:.2f})"
    )


if __name__ == "__main__":
    main()
