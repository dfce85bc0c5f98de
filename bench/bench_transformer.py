"""Benchmark: Transformer traces against the modules' own forward, and the cost of appending a token.

Goals (issue 3):
  1. trace time <= 2x the module's own (fused) forward: nn.TransformerEncoder, 4 layers, d_model=256,
     8 heads, T=512, causal mask, eval;
  2. appending one token at T=1000 costs <= 10% of a full trace (DecoderOnlyTransformer of similar size).

Run:  .venv/bin/python bench/bench_transformer.py [--repeats N]
Prints medians; the machine is shared, so run it twice if a figure looks off.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn as nn

from seqviz.core.generate import DecoderState, start
from seqviz.core.transformer import DecoderOnlyTransformer, TransformerConfig
from seqviz.core.transformer_trace import trace_transformer


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


@torch.no_grad()
def bench_encoder_trace(repeats: int) -> None:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(256, 8, batch_first=True)  # d_ff 2048 (torch's default)
    model = nn.TransformerEncoder(layer, 4, enable_nested_tensor=False).eval()
    T = 512
    x = torch.randn(T, 256)
    mask = nn.Transformer.generate_square_subsequent_mask(T)
    fused = median_ms(lambda: model(x[None], mask=mask), repeats)  # batched, eval, no grad: fused kernel
    unbatched = median_ms(lambda: model(x, mask=mask), repeats)
    traced = median_ms(lambda: trace_transformer(model, x, mask=mask), repeats)
    print("1. nn.TransformerEncoder, 4 layers, d_model=256, 8 heads, d_ff=2048, T=512, causal mask, eval")
    print(f"   module forward, fused path (1, T, d)  {fused:8.1f} ms")
    print(f"   module forward, unbatched (T, d)      {unbatched:8.1f} ms")
    print(f"   seqviz trace (hidden + attention)      {traced:8.1f} ms")
    print(f"   ratio trace / fused forward            {traced / fused:8.2f}   (goal <= 2)")
    print(f"   ratio trace / unbatched forward        {traced / unbatched:8.2f}")


@torch.no_grad()
def bench_append(repeats: int) -> None:
    torch.manual_seed(0)
    cfg = TransformerConfig(
        vocab_size=64, num_outputs=64, d_model=256, num_heads=8, num_layers=4, max_len=1100, d_ff=1024
    )
    model = DecoderOnlyTransformer(cfg).eval()
    T = 1000
    ids = torch.randint(0, 64, (T + 1,)).tolist()
    full = median_ms(lambda: model.trace_ids(ids[: T + 1]), repeats)
    state = start(model, ids[:T])
    appends = []
    for i in range(max(20, repeats)):  # T = 1000 .. 1019, within the state's buffers
        t0 = time.perf_counter()
        state.append(ids[i % len(ids)])
        appends.append(time.perf_counter() - t0)
    append = 1e3 * statistics.median(appends)
    base = model.trace_ids(ids[:T])
    rebuild = median_ms(lambda: DecoderState.from_trace(model, base).append(ids[T]), max(3, repeats // 2))
    print("2. DecoderOnlyTransformer, 4 layers, d_model=256, 8 heads, d_ff=1024, T=1000")
    print(f"   full trace of T+1 tokens               {full:8.1f} ms")
    print(f"   append one token (cached keys/values)  {append:8.2f} ms   (median of {len(appends)})")
    print(f"   ratio append / full trace              {append / full:8.3f}   (goal <= 0.10)")
    print(f"   first append to a foreign trace        {rebuild:8.1f} ms   (rebuilds the caches once)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1: stable on a shared machine)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bench_encoder_trace(args.repeats)
    bench_append(args.repeats)


if __name__ == "__main__":
    main()
