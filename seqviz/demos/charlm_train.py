"""Train the code LSTM: a character-level language model of Python, on the standard library's source.

    python -m seqviz.demos.train --only code-lstm      # the retrain command (also part of training all)
    python -m seqviz.demos.charlm_train [out_dir]      # this model alone

Truncated backpropagation through time over one long text (the corpus of seqviz.demos.charlm_corpus):
the text is cut into `batch_size` parallel streams, read in windows of `bptt` characters, and the LSTM's
state is carried from one window to the next (detached), so it learns to use context from before the
window: a string opened, a block entered. Seeded, Adam with the demos' cosine schedule, one thread.

After training, seqviz.demos.charlm_cells finds the cells that track quotes and indentation in traces of
held-out code, and the card names them, with bits per character and next-character accuracy on held-out
modules and a few texts the model writes.
"""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from seqviz.core.seqmodel import ModelCard, RecurrentConfig, RecurrentNet, TokenModel
from seqviz.demos import charlm_cells
from seqviz.demos import charlm_corpus as corpus
from seqviz.demos.tbptt import parallel_streams, recurrent_window_loss, windows
from seqviz.demos.training import AdamStep, ProgressBar


@dataclass(frozen=True)
class CharLMConfig:
    id: str = "code-lstm"
    embed: int = 32
    hidden: int = 176  # 2 layers of 176: ~417k parameters, a 1.7 MB float32 file (the budget is 2 MB)
    layers: int = 2
    batch_size: int = 64
    bptt: int = 128  # characters per window: a few lines of code
    steps: int = 3500  # ~6.6 passes over the 4.3 M characters: ~10 minutes on a quiet core
    lr: float = 3e-3
    clip: float = 1.0
    dropout: float = 0.1  # on the top layer's output, in training only: held-out code is other modules
    seed: int = 4


CONFIG = CharLMConfig()
MODELS = (CONFIG.id,)  # the ids this module trains (seqviz.demos.train lists them)
SAMPLE_PROMPTS = ("def ", "class ", "    if ")  # the card's generated texts start from these
SAMPLE_CHARS, SAMPLE_TEMPERATURE, SAMPLE_SEED = 240, 0.7, 7


def build_model(cfg: CharLMConfig = CONFIG) -> TokenModel:
    """An untrained character LSTM over the corpus vocabulary, initialised from `cfg.seed`."""
    tokenizer = corpus.code_tokenizer()
    vocab = len(tokenizer.vocab)
    torch.manual_seed(cfg.seed)
    net = RecurrentNet(RecurrentConfig("lstm", vocab, vocab, cfg.embed, cfg.hidden, cfg.layers))
    return TokenModel(net, tokenizer, "lm", card=ModelCard(id=cfg.id))


def fit(model: TokenModel, ids: torch.Tensor, cfg: CharLMConfig, bar: ProgressBar | None = None) -> float:
    """Truncated BPTT over `ids` (N,) for `cfg.steps` Adam steps; returns the smoothed last loss (nats).

    The windows and their loss are seqviz.demos.tbptt's, the step training.AdamStep (one loop for all)."""
    torch.manual_seed(cfg.seed)
    adam = AdamStep(model.parameters(), cfg.lr, cfg.steps, cfg.clip)
    stream = windows(parallel_streams(ids, cfg.batch_size), cfg.bptt, random.Random(cfg.seed))
    model.train()
    state, smooth = None, float("nan")
    for step in range(cfg.steps):
        loss, state = recurrent_window_loss(model.backbone, next(stream), state, cfg.dropout)
        adam.step(loss, step)
        smooth = loss.item() if math.isnan(smooth) else 0.98 * smooth + 0.02 * loss.item()
        if bar is not None:
            bar.update(step + 1, f"{smooth / math.log(2):.3f} bits/char")
    model.eval()
    return smooth


@torch.no_grad()
def held_out_scores(model: TokenModel, ids: torch.Tensor, chunk: int = 4096) -> dict:
    """Bits per character and next-character accuracy of reading `ids` (N,) in one go, state carried."""
    net = model.backbone
    model.eval()
    state, nats, right = None, 0.0, 0
    for at in range(0, ids.numel() - 1, chunk):
        x = ids[at : at + chunk + 1]
        out, state = net.rnn(net.embedding(x[:-1])[None], state)  # (1, n, H)
        logits = net.head(out[0])  # (n, V)
        nats += float(F.cross_entropy(logits, x[1:], reduction="sum"))
        right += int((logits.argmax(-1) == x[1:]).sum())
    scored = ids.numel() - 1
    return {
        "bits_per_char": round(nats / scored / math.log(2), 4),
        "next_char_accuracy": round(right / scored, 4),
        "scored_characters": scored,
    }


def samples(model: TokenModel) -> list[str]:
    """Texts the model writes from SAMPLE_PROMPTS (seeded sampling), as the app's Generate would."""
    from seqviz.demos.generation import generate

    return [
        prompt + "".join(generate(model, prompt, SAMPLE_CHARS, SAMPLE_TEMPERATURE, SAMPLE_SEED))
        for prompt in SAMPLE_PROMPTS
    ]


def make_card(
    model: TokenModel,
    cfg: CharLMConfig,
    train_text: corpus.Corpus,
    held_out: corpus.Corpus,
    scores: dict,
    seconds: float,
    cells: dict,
) -> ModelCard:
    """What the model is, what it read (Python version, files), how well it predicts held-out code, and
    which cells do what (`cells` from charlm_cells.find_cells)."""
    params = sum(p.numel() for p in model.parameters())
    layers = f"{cfg.layers} layer{'s' * (cfg.layers > 1)}"
    description = (
        f"LSTM ({layers}, hidden {cfg.hidden}): a character-level language model of Python code, trained "
        f"on the standard library of Python {train_text.python}. {params:,} parameters; "
        f"{len(train_text.text):,} characters from {len(train_text.files)} modules (the first "
        f"{corpus.MAX_FILE_CHARS:,} of each); on {len(held_out.files)} other modules, "
        f"{scores['bits_per_char']:.2f} bits per character and the next character right "
        f"{scores['next_char_accuracy']:.1%} of the time. {charlm_cells.describe(cells)}"
    )
    metrics = {
        "arch": "lstm",
        "arch_label": "LSTM",
        "bidirectional": False,
        "hidden_size": cfg.hidden,
        "num_layers": cfg.layers,
        "embedding_size": cfg.embed,
        "parameters": params,
        "vocabulary_size": len(model.tokenizer.vocab),
        **scores,
        "train_steps": cfg.steps,
        "train_seed": cfg.seed,
        "batch_size": cfg.batch_size,
        "bptt": cfg.bptt,
        "learning_rate": cfg.lr,
        "dropout": cfg.dropout,
        "train_seconds": round(seconds, 1),
        "train_corpus": train_text.record(),
        "held_out_corpus": held_out.record(),
        "generation": {"temperature": SAMPLE_TEMPERATURE, "seed": SAMPLE_SEED, "samples": samples(model)},
        "cells": cells,
    }
    return ModelCard(
        id=cfg.id,
        title="Python code, character by character - LSTM",
        task="code",
        description=description,
        examples=list(charlm_cells.EXAMPLES),
        accuracy=scores["next_char_accuracy"],
        metrics=metrics,
    )


def train_one(out_dir: Path, cfg: CharLMConfig = CONFIG) -> TokenModel:
    """Build the corpus, train, find the cells, write the card and save `<out_dir>/<id>.safetensors`."""
    from seqviz.core.modelfile import save_model

    train_text = corpus.build_corpus(corpus.TRAIN_MODULES)
    held_out = corpus.build_corpus(corpus.HELD_OUT_MODULES)
    model = build_model(cfg)
    encode = model.tokenizer.encode
    bar = ProgressBar(cfg.steps, cfg.id)
    start = time.monotonic()
    fit(model, torch.tensor(encode(train_text.text)), cfg, bar)
    seconds = time.monotonic() - start
    scores = held_out_scores(model, torch.tensor(encode(held_out.text)))
    bar.close(f"held-out {scores['bits_per_char']:.3f} bits/char")
    cells = charlm_cells.find_cells(model)
    model.card = make_card(model, cfg, train_text, held_out, scores, seconds, cells)
    save_model(model, Path(out_dir) / f"{cfg.id}.safetensors")
    return model


def main(argv: list[str] | None = None) -> int:
    out = Path(argv[0]) if argv else None
    if out is None:
        from seqviz.core.resources import models_dir

        out = models_dir()
    torch.set_num_threads(1)
    model = train_one(out)
    print(f"{model.card.id}: {model.card.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
