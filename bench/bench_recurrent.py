"""Benchmark of seqviz's recurrent trace against the module's own forward; prints figures.

    python bench/bench_recurrent.py            # speed table, then peak memory (fresh subprocesses)
    python bench/bench_recurrent.py --quick    # speed at the small size only
    python bench/bench_recurrent.py --threads 1 --repeats 5   # steadier on a busy machine

Speed: 2-layer nn.RNN / nn.GRU / nn.LSTM, input_size = hidden_size, at (H=512, T=1024) and
(H=1024, T=4096): the median of a few repeats of the module's forward and of the trace, interleaved
in the same process; also the ratio of the best times, steadier when others share the CPU (torch's
kernels slow down by large factors when another process takes one of their cores).
Memory: a 2-layer LSTM, H=1024, T=10,000 in a fresh subprocess; the peak RSS after the trace
minus the baseline (torch imported, module and input built) over the trace's bytes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from seqviz.core import onednn_lstm  # noqa: E402
from seqviz.core.recurrent import trace_recurrent  # noqa: E402

ARCHS = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
SIZES = ((512, 1024), (1024, 4096))
MEMORY_SIZE = (1024, 10_000)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_speed(hidden: int, steps: int, repeats: int) -> None:
    for name, cls in ARCHS.items():
        torch.manual_seed(0)
        module = cls(hidden, hidden, 2).eval()
        x = torch.randn(steps, hidden)
        with torch.no_grad():
            module(x)  # warm-up: the kernels' first call sets them up
            trace_recurrent(module, x)
            forward, traced = [], []
            for _ in range(repeats):
                forward.append(_timed(lambda: module(x)))  # noqa: B023
                traced.append(_timed(lambda: trace_recurrent(module, x)))  # noqa: B023
        f, t = statistics.median(forward), statistics.median(traced)
        print(
            f"{name:5s} H={hidden:5d} T={steps:6d}   forward {f * 1e3:8.1f} ms   trace {t * 1e3:8.1f} ms   "
            f"ratio {t / f:5.2f}   (best of {repeats}: {min(traced) / min(forward):5.2f})",
            flush=True,
        )


def lstm_gates_from_kernel() -> bool:
    """Does this torch's oneDNN kernel hand over its LSTM gates (else they are computed: slower)?"""
    module, x = nn.LSTM(8, 16), torch.randn(5, 8)
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    weights = {name: getattr(module, name + "_l0") for name in names}
    dest = {name: torch.empty(5, 16) for name in onednn_lstm.GATE_ROWS}
    zeros = torch.zeros(1, 16)
    with torch.no_grad():
        return onednn_lstm.trace_lstm_layer(x, [weights], zeros, zeros, [dest]) is not None


def _peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def memory_child(what: str) -> None:
    """Run in a fresh process: print baseline, peak and the trace's bytes."""
    hidden, steps = MEMORY_SIZE
    torch.manual_seed(0)
    module = nn.LSTM(hidden, hidden, 2).eval()
    x = torch.randn(steps, hidden)
    baseline = _peak_rss_bytes()
    with torch.no_grad():
        if what == "trace":
            nbytes = trace_recurrent(module, x).nbytes
        else:
            out, _ = module(x)
            nbytes = out.numel() * out.element_size()
    print(baseline, _peak_rss_bytes(), nbytes)


def bench_memory() -> None:
    hidden, steps = MEMORY_SIZE
    figures = {}
    for what in ("forward", "trace"):
        result = subprocess.run(
            [sys.executable, __file__, "--memory-child", what], capture_output=True, text=True, check=True
        )
        figures[what] = [int(v) for v in result.stdout.split()]
    mib = 2**20
    base, peak, nbytes = figures["trace"]
    f_base, f_peak, _ = figures["forward"]
    print(f"LSTM  H={hidden:5d} T={steps:6d} 2 layers, fresh process:")
    print(f"  module forward alone: peak - baseline {(f_peak - f_base) / mib:8.1f} MiB")
    print(f"  trace: baseline {base / mib:.1f} MiB, peak {peak / mib:.1f} MiB, arrays {nbytes / mib:.1f} MiB")
    print(f"  (peak - baseline) / arrays_bytes = {(peak - base) / nbytes:.2f}   (budget 2.00)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="speed at the small size only, no memory")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--memory-child", choices=("trace", "forward"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}"
    )
    source = "read from torch's oneDNN kernel" if lstm_gates_from_kernel() else "computed (2 products/layer)"
    print(f"LSTM gates: {source}")
    for hidden, steps in SIZES[:1] if args.quick else SIZES:
        bench_speed(hidden, steps, args.repeats)
    if not args.quick:
        bench_memory()


if __name__ == "__main__":
    main()
