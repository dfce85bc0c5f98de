"""What the hostile-input checks cost (issue 15): checking a trace against its contract, finding NaN
and inf for the window's note, and bounding a model file, against the work they guard.

    python bench/bench_checks.py [--steps 1000] [--layers 4] [--heads 8] [--width 256]

Prints, for a Transformer-shaped trace of that size: Trace.load (the checks included), trace_problem
alone, nonfinite_arrays alone; and for a bundled model: load_model, and read_tensors (which now checks
every tensor's layout and the bytes they declare).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def best_of(fn, repeat: int = 5) -> float:
    """The fastest of `repeat` runs, in seconds (the machine is shared: the minimum is the signal)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def trace_of(steps: int, layers: int, heads: int, width: int):
    from seqviz.core.trace import Trace

    rng = np.random.default_rng(0)
    arrays = {
        "hidden": rng.normal(size=(steps, layers, 1, width)).astype(np.float32),
        "attention": rng.random((layers, heads, steps, steps), dtype=np.float32),
        "probs": rng.random((steps, 100), dtype=np.float32),
    }
    meta = {
        "arch": "transformer",
        "kind": "decoder",
        "task": "lm",
        "output_labels": [str(i) for i in range(100)],
    }
    return Trace(arrays, [f"t{i}" for i in range(steps)], meta)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--width", type=int, default=256)
    args = parser.parse_args()

    from seqviz.core.modelfile import bundled_models_dir, load_model
    from seqviz.core.statedict import read_tensors
    from seqviz.core.trace import Trace
    from seqviz.core.trace_check import nonfinite_arrays, trace_problem

    trace = trace_of(args.steps, args.layers, args.heads, args.width)
    with tempfile.TemporaryDirectory() as folder:
        path = trace.save(Path(folder) / "trace.npz")
        load = best_of(lambda: Trace.load(path), 3)
    check = best_of(lambda: trace_problem(trace))
    nonfinite = best_of(lambda: nonfinite_arrays(trace))
    print(f"trace: T={args.steps}, {trace.nbytes / 2**20:.0f} MB of arrays")
    print(f"  Trace.load (checks included) {load * 1e3:8.1f} ms")
    print(f"  trace_problem                {check * 1e3:8.2f} ms  ({check / load:.1%} of the load)")
    print(f"  nonfinite_arrays             {nonfinite * 1e3:8.1f} ms  ({nonfinite / load:.1%} of the load)")
    model = bundled_models_dir() / "longrange-lstm.safetensors"
    if model.is_file():
        whole = best_of(lambda: load_model(model))
        read = best_of(lambda: read_tensors(model))
        print(f"model {model.name}: load_model {whole * 1e3:.1f} ms, read_tensors {read * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
