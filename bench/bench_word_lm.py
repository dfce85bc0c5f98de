"""Benchmark: models of PyTorch's word_language_model example at wikitext-2's size, opened by seqviz.

The example's defaults (--emsize 200 --nhid 200 --nlayers 2; Transformer --nhead 2) over wikitext-2's
33,278 words, random weights written as the example's state dicts. Prints, for T = 100 and 1,000:
  - the model's own forward (embedding -> stack -> decoder -> log_softmax, as the example runs it),
  - seqviz.trace (every array, and the top-20 next words instead of (T, V) probabilities),
  - the trace's bytes against the (T, V) float32 probabilities it does not hold;
and the time load_model takes (pickle-free state dict, vocabulary from a list).

Run:  .venv/bin/python bench/bench_word_lm.py [--repeats N] [--threads N]
Prints medians; the machine is shared, so run it twice if a figure looks off.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from bench_transformer import median_ms  # bench/ is the script's folder: the same timing as there

import seqviz

VOCAB = 33278  # wikitext-2's dictionary
EMSIZE = NHID = 200
NLAYERS, NHEAD = 2, 2


def lstm_state() -> dict[str, torch.Tensor]:
    """An RNNModel('LSTM', ...) state dict: encoder, rnn, decoder."""
    state = {"encoder.weight": torch.randn(VOCAB, EMSIZE) * 0.1}
    state.update({f"rnn.{k}": v for k, v in nn.LSTM(EMSIZE, NHID, NLAYERS).state_dict().items()})
    state.update({f"decoder.{k}": v for k, v in nn.Linear(NHID, VOCAB).state_dict().items()})
    return state


def transformer_state() -> dict[str, torch.Tensor]:
    """A TransformerModel state dict: input_emb, pos_encoder.pe, encoder (with its final norm), decoder."""
    layer = nn.TransformerEncoderLayer(EMSIZE, NHEAD, NHID)
    stack = nn.TransformerEncoder(layer, NLAYERS, norm=nn.LayerNorm(EMSIZE), enable_nested_tensor=False)
    position = torch.arange(5000.0)[:, None]
    frequency = torch.exp(torch.arange(0, EMSIZE, 2).float() * (-math.log(10000.0) / EMSIZE))
    pe = torch.zeros(5000, EMSIZE)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(position * frequency), torch.cos(position * frequency)
    state = {"input_emb.weight": torch.randn(VOCAB, EMSIZE) * 0.1, "pos_encoder.pe": pe[:, None]}
    state.update({f"encoder.{k}": v for k, v in stack.state_dict().items()})
    state.update({f"decoder.{k}": v for k, v in nn.Linear(EMSIZE, VOCAB).state_dict().items()})
    return state


def own_forward(model) -> Callable[[torch.Tensor], torch.Tensor]:
    """The example's forward on the loaded weights: ids (T,) -> log-probabilities (T, V)."""
    backbone = model.backbone
    if hasattr(backbone, "rnn"):
        return lambda ids: F.log_softmax(backbone.head(backbone.rnn(backbone.embedding(ids))[0]), dim=-1)
    return lambda ids: F.log_softmax(backbone(ids[None])[0], dim=-1)


@torch.no_grad()
def bench(name: str, state: dict, options: dict, repeats: int, folder: Path) -> None:
    path = folder / f"{name}.pt"
    torch.save(state, path)
    words = [f"w{i}" for i in range(VOCAB)]
    load = median_ms(lambda: seqviz.load_model(path, vocab=words, **options), max(3, repeats // 2))
    model = seqviz.load_model(path, vocab=words, **options)
    forward = own_forward(model)
    print(f"{name}: emsize {EMSIZE}, nhid {NHID}, {NLAYERS} layers, {VOCAB} words; load_model {load:.0f} ms")
    for steps in (100, 1000):
        ids = torch.randint(0, VOCAB, (steps,))
        text = " ".join(words[i] for i in ids.tolist())
        own = median_ms(lambda: forward(ids), repeats)  # noqa: B023 (called here, in this iteration)
        traced = median_ms(lambda: seqviz.trace(model, text), repeats)  # noqa: B023
        trace = seqviz.trace(model, text)
        full = steps * VOCAB * 4
        print(
            f"   T={steps:5d}  own forward {own:7.1f} ms   seqviz.trace {traced:7.1f} ms   "
            f"ratio {traced / own:5.2f}   trace {trace.nbytes / 1e6:6.1f} MB "
            f"(probs (T, V) would be {full / 1e6:6.1f} MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        bench("LSTM", lstm_state(), {}, args.repeats, Path(tmp))
        bench("Transformer", transformer_state(), {"heads": NHEAD}, args.repeats, Path(tmp))


if __name__ == "__main__":
    main()
