"""Benchmark: the app on a GPT-2-small-shaped trace (12 layers x 12 heads, d_model 768, ~1,000 tokens).

    python bench/app_hf_attention.py                  # T=1,000, synthetic trace
    python bench/app_hf_attention.py --steps 1024     # another length
    python bench/app_hf_attention.py --model DIR      # a real Hugging Face model folder (traced first)
    python bench/app_hf_attention.py --random-gpt2    # GPT-2 small's shape, random weights, traced

Goals (issue 11, section 4): first draw <= 0.5 s and a step <= 16 ms with the 144-head grid on screen,
window 1600x900, offscreen.

The synthetic trace has the contract's shapes for a large-vocabulary causal LM: hidden (T, 12, 1, 768),
attention (12, 12, T, T) (causal softmax rows), top_ids / top_probs (T, 10), target_prob / target_rank
(T,). Random values: the app shows them, it does not check them.

Figures:
- first draw: `window.show_trace(trace)` until every panel has painted (events processed, every visible
  plot's viewport repainted), with the attention panel in front; median of a few runs.
- one step: `set_step(t)` + the events and paints Qt runs for it, median over consecutive steps, and
  the same with the layer/head changed every step (a new matrix).
Each is given as wall time and as this process's CPU time: on a shared machine the CPU time is the
steadier figure (other programs' load stretches the wall time, not the CPU time).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SEQVIZ_SETTINGS_DIR", tempfile.mkdtemp(prefix="seqviz-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from seqviz.core.trace import Trace  # noqa: E402

TOP_K = 10


def gpt2_shaped_trace(
    steps: int, layers: int = 12, heads: int = 12, width: int = 768, seed: int = 0
) -> Trace:
    """Random causal attention rows (exact zeros above the diagonal), hidden states and top-k outputs."""
    rng = np.random.default_rng(seed)
    attention = rng.random((layers, heads, steps, steps), dtype=np.float32)  # (L, h, T, T)
    future = np.triu(np.ones((steps, steps), bool), 1)
    for layer in range(layers):  # one layer at a time: no second 576 MB temporary
        block = attention[layer]
        block[:, future] = 0.0
        block **= 8  # peaked rows, as trained heads have
        block /= block.sum(axis=-1, keepdims=True)
    hidden = rng.standard_normal((steps, layers, 1, width), dtype=np.float32)
    top_probs = np.sort(rng.dirichlet(np.ones(50), size=steps)[:, :TOP_K], axis=1)[:, ::-1]
    vocab = [f"\u0120word{i}" for i in range(5000)]
    top_ids = rng.integers(0, len(vocab), (steps, TOP_K)).astype(np.int32)
    target_rank = rng.integers(1, 100, steps).astype(np.int32)
    target_prob = rng.random(steps).astype(np.float32) * 0.1
    target_rank[-1], target_prob[-1] = -1, np.nan
    token_ids = rng.integers(0, len(vocab), steps)
    meta = {
        "arch": "transformer",
        "kind": "decoder",
        "task": "lm",
        "causal": True,
        "num_layers": layers,
        "hidden_size": width,
        "num_heads": heads,
        "token_ids": token_ids.tolist(),
        "top_tokens": {str(i): vocab[i] for i in np.unique(top_ids).tolist()},
    }
    arrays = {
        "hidden": hidden,
        "attention": attention,
        "top_ids": top_ids,
        "top_probs": top_probs.astype(np.float32),
        "target_prob": target_prob,
        "target_rank": target_rank,
    }
    return Trace(arrays, tokens=[vocab[i] for i in token_ids], meta=meta)


def random_gpt2_folder() -> str:
    """A GPT-2-small-shaped model (12 layers, 12 heads, d_model 768, 50,257 outputs, 1,024 positions)
    with random weights and a byte-level tokenizer trained on this project's own docs; built once into
    the temporary folder and reused."""
    folder = Path(tempfile.gettempdir()) / "seqviz-bench-random-gpt2"
    if (folder / "model.safetensors").is_file():
        return str(folder)
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    root = Path(__file__).resolve().parents[1]
    corpus = [
        line
        for doc in ("README.md", "docs/trace.md", "docs/models.md")
        for line in (root / doc).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=4000,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer)
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config()).eval().save_pretrained(folder)  # GPT2Config(): GPT-2 small
    end = "<|endoftext|>"
    PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=end, eos_token=end, unk_token=end
    ).save_pretrained(folder)
    return str(folder)


def traced_model(folder: str, steps: int) -> Trace:
    from seqviz.app.viewer import runs

    model = runs.load(folder)
    words = "the quick brown fox jumps over the lazy dog and keeps running through the quiet town "
    text = words * (steps // 8)
    return runs.run(model, model.truncate(text, steps)).trace


def settle(app, window) -> None:
    """Process events, then paint every visible plot (what the screen would show next)."""
    import pyqtgraph as pg

    app.processEvents()
    for view in window.findChildren(pg.GraphicsView):
        if view.isVisible():
            view.viewport().repaint()
    window.repaint()


def first_draw(app, window, trace: Trace, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (this process) of each first draw."""
    wall, cpu = [], []
    for _ in range(runs):
        window.show_trace(Trace({"hidden": np.zeros((2, 1, 1, 4), np.float32)}), "blank")
        settle(app, window)
        t0, c0 = time.perf_counter(), time.process_time()
        window.show_trace(trace, "bench")
        settle(app, window)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def step_times(app, window, steps: int, change_head: bool) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each step (set_step, and the events and paints Qt runs for it)."""
    selection = window.viewer.selection
    T = window.num_steps
    start = max(1, T // 2 - steps // 2)
    wall, cpu = [], []
    for i, t in enumerate(range(start, start + steps)):
        t0, c0 = time.perf_counter(), time.process_time()
        window.set_step(t)
        if change_head:
            selection.set_head(i % 12)
        app.processEvents()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000, help="T, the input's length")
    parser.add_argument("--steps", type=int, default=120, help="steps timed")
    parser.add_argument("--runs", type=int, default=5, help="first draws timed")
    parser.add_argument("--model", metavar="DIR", help="trace a real model folder instead")
    parser.add_argument("--random-gpt2", action="store_true", help="trace GPT-2 small's shape, random")
    args = parser.parse_args()
    if args.random_gpt2:
        args.model = random_gpt2_folder()

    from PySide6.QtWidgets import QApplication

    from seqviz.app import MainWindow
    from seqviz.app.window.launch import quiet_qt_messages

    quiet_qt_messages()
    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    trace = traced_model(args.model, args.tokens) if args.model else gpt2_shaped_trace(args.tokens)
    made = "traced" if args.model else "made"
    print(f"trace {made} in {time.perf_counter() - t0:.1f} s: {trace!r}"[:200])
    window = MainWindow()
    window.resize(1600, 900)
    window.show()
    window.dock_area.docks["attention"].raise_()  # the attention panel in front of its tab group
    settle(app, window)
    wall, cpu = first_draw(app, window, trace, args.runs)
    grid = window.panels["attention"].thumbnails
    shown = f"{grid.shape.layers}x{grid.shape.heads} heads grid, visible={grid.isVisible()}"
    print(f"window 1600x900 offscreen, T={trace.num_steps}, {shown}")
    print(
        f"first draw: median {_median_ms(wall)} wall, {_median_ms(cpu)} CPU (goal <= 500 ms); "
        f"runs (wall) {_ms(wall)}"
    )
    for change_head, what in ((False, "step"), (True, "step + another head")):
        wall, cpu = step_times(app, window, args.steps, change_head)
        print(
            f"{what}: median {_median_ms(wall, 1)} wall ({np.percentile(wall, 90) * 1e3:.1f} ms at the "
            f"90th percentile), {_median_ms(cpu, 1)} CPU (goal for a step <= 16 ms)"
        )
    window.close()


def _median_ms(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values) * 1e3:.{digits}f} ms"


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1e3:.0f}" for v in values)


if __name__ == "__main__":
    main()
