"""Benchmark: tracing a GPT-2-small-shaped Hugging Face model against transformers' own forward.

Goals (issue 11 §4), on a random GPT-2 configuration of GPT-2 small's shape (12 layers x 12 heads,
d_model 768, vocabulary 50,257) and about 1,000 tokens:
  1. trace time (load excluded) <= 1.2x transformers' own forward with output_attentions=True (eager
     attention, the same ids);
  2. resident memory added by the trace <= the size of its float32 attention (L x h x T x T x 4 bytes).

Memory is the process's resident set (/proc/self/status VmRSS), sampled every 2 ms while a call runs:
"held" is what stays while the trace (and its key/value cache, kept for Generate) is alive, "peak" the
most the call added on the way. Times alternate forward and trace, and report medians of the wall clock
and of the process's CPU time (on a shared machine the wall clock also counts other programs' turns).

Run:  .venv/bin/python bench/hf_trace.py [--tokens 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import statistics
import threading
import time
from collections.abc import Callable

import numpy as np
import torch

MiB = 2**20


def rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def settle() -> int:
    """RSS after giving freed memory back to the system."""
    gc.collect()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss()


def measured(fn: Callable[[], object]) -> tuple[object, tuple[float, float], int, int]:
    """(result, (wall seconds, CPU seconds of the process), peak RSS added during the call, RSS added
    and held after it)."""
    before = settle()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    seconds = (time.perf_counter() - t0, time.process_time() - c0)
    done.set()
    sampler.join()
    peak[0] = max(peak[0], rss())
    return result, seconds, peak[0] - before, settle() - before


def gpt2_small_shaped(tokens: int):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from seqviz.core.adapters import open_model

    torch.manual_seed(0)
    config = GPT2Config(n_layer=12, n_head=12, n_embd=768, vocab_size=50257, n_positions=max(1024, tokens))
    module = GPT2LMHeadModel(config).eval()
    module.set_attn_implementation("eager")
    backend = Tokenizer(models.BPE())  # the trace runs ids: any tokenizer that fits the embedding
    backend.pre_tokenizer = pre_tokenizers.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend)
    return module, open_model((module, tokenizer), label="GPT-2-small-shaped (random)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    T = args.tokens
    module, model = gpt2_small_shaped(T)
    ids = np.random.default_rng(0).integers(0, 50257, T).tolist()
    model.trace(ids[:8])  # one-time work outside the timing: the vocabulary's labels (50,257)

    def forward() -> object:
        with torch.no_grad():
            return module(torch.tensor([ids]), output_attentions=True)

    forwards, traces, held, peaks, forward_peaks = [], [], [], [], []
    for _ in range(args.repeats):
        out, seconds, peak, _ = measured(forward)
        forwards.append(seconds)
        forward_peaks.append(peak)
        del out
        tr, seconds, peak, kept = measured(lambda: model.trace(ids))
        traces.append(seconds)
        peaks.append(peak)
        held.append(kept)
        attention_bytes = 4 * int(np.prod(tr["attention"].shape))
        array_bytes, cache_bytes = tr.nbytes, cache_size(model, tr)
        del tr
    fwd, trc = (statistics.median(s[0] for s in forwards), statistics.median(s[0] for s in traces))
    fwd_cpu, trc_cpu = (statistics.median(s[1] for s in forwards), statistics.median(s[1] for s in traces))
    rows = [
        ("transformers forward, output_attentions=True", f"{fwd * 1e3:8.0f} ms", f"CPU {fwd_cpu:.2f}s"),
        ("seqviz trace (hidden, attention, top-k, targets)", f"{trc * 1e3:8.0f} ms", f"CPU {trc_cpu:.2f}s"),
        ("ratio trace / forward, wall clock", f"{trc / fwd:8.2f}", "(goal <= 1.2)"),
        ("ratio trace / forward, CPU time of the process", f"{trc_cpu / fwd_cpu:8.2f}", "(steadier)"),
        ("float32 attention (L x h x T x T)", f"{attention_bytes / MiB:8.0f} MiB", ""),
        ("trace arrays (attention packed, hidden, top-k, ...)", f"{array_bytes / MiB:8.0f} MiB", ""),
        ("key/value cache kept for Generate", f"{cache_bytes / MiB:8.0f} MiB", ""),
        ("RSS held while the trace lives", _mib(statistics.median(held), attention_bytes), "(goal <= 1)"),
        ("RSS peak during the trace", _mib(statistics.median(peaks), attention_bytes), ""),
        ("RSS peak during the forward", _mib(statistics.median(forward_peaks), attention_bytes), ""),
    ]
    print(f"GPT-2-small-shaped (12 x 12, d_model 768, V 50,257), T={T}, {torch.get_num_threads()} threads")
    for label, value, goal in rows:
        print(f"  {label:<54}{value}  {goal}")
    walls = [round(s[0], 2) for s in forwards], [round(s[0], 2) for s in traces]
    print(f"  wall (s): forward {walls[0]}, trace {walls[1]}")


def _mib(value: int, attention_bytes: int) -> str:
    return f"{value / MiB:8.0f} MiB = {value / attention_bytes:.2f} x the attention"


def cache_size(model, trace) -> int:
    """Bytes of the key/value cache the model keeps beside `trace` (for appending to it)."""
    cache = model.cache_of(trace)
    if cache is None:
        return 0
    return sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))


if __name__ == "__main__":
    main()
