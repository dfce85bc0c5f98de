"""Train the task (d) sequence-to-sequence models (dates in words -> ISO digits), seeded and small.

    python -m seqviz.demos.seq2seq_train [out_dir]

`train_all(out_dir, progress)` trains the GRU encoder-decoder with additive attention and the
Transformer encoder-decoder and writes `dates-gru-attention.safetensors` and `dates-transformer.safetensors`
with their cards (accuracy: exact-match on freshly generated held-out dates, another seed).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from seqviz.core.inference import decode_tokens
from seqviz.core.seqmodel import ModelCard, TokenModel
from seqviz.core.tokenize import BOS, EOS, Tokenizer
from seqviz.demos import seq2seq_tasks as tasks
from seqviz.demos.training import AdamStep

TRAIN_SEED, HELDOUT_SEED = 1, 2
HELDOUT_SIZE = 2000
Progress = Callable[[str, int, int], None]  # (label, done, total)


@dataclass
class TrainSettings:
    steps: int
    batch_size: int = 64
    lr: float = 3e-3
    train_pairs: int = 40_000
    seed: int = 0


def text_progress(label: str, done: int, total: int) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = int(width * done / max(total, 1))
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r{label:<24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    sys.stderr.flush()


# Data --------------------------------------------------------------------------------------------------
def encode_pairs(
    pairs: list[tasks.DatePair], src_tok: Tokenizer, tgt_tok: Tokenizer
) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """Pairs -> buckets by source length S: {S: (src (N, S), tgt (N, T+1) = <s> target </s>)}."""
    bos, eos = tgt_tok.encode([BOS])[0], tgt_tok.encode([EOS])[0]
    rows: dict[int, tuple[list, list]] = {}
    for p in pairs:
        src = src_tok.encode(p.source)
        srcs, tgts = rows.setdefault(len(src), ([], []))
        srcs.append(src)
        tgts.append([bos, *tgt_tok.encode(p.target), eos])
    return {s: (torch.tensor(a), torch.tensor(b)) for s, (a, b) in sorted(rows.items())}


def batches(buckets: dict[int, tuple[torch.Tensor, torch.Tensor]], settings: TrainSettings):
    """Endless random batches; a bucket is drawn in proportion to its size, so every pair weighs the same."""
    gen = torch.Generator().manual_seed(settings.seed)
    keys = list(buckets)
    sizes = torch.tensor([len(buckets[k][0]) for k in keys], dtype=torch.float)
    while True:
        src, tgt = buckets[keys[int(torch.multinomial(sizes, 1, generator=gen))]]
        pick = torch.randint(len(src), (settings.batch_size,), generator=gen)
        yield src[pick], tgt[pick]


# Decoding and accuracy ---------------------------------------------------------------------------------
@torch.no_grad()
def greedy_batch(backbone: nn.Module, src: torch.Tensor, steps: int, bos_id: int) -> torch.Tensor:
    """src (B, S) -> greedy output ids (B, steps), for any backbone with forward(src, tgt) -> logits."""
    if hasattr(backbone, "greedy_decode"):
        return backbone.greedy_decode(src, steps)
    bos = torch.full((src.shape[0], 1), bos_id, dtype=torch.long)

    def next_logits(outputs: list[torch.Tensor]) -> torch.Tensor:  # the whole target so far, again
        return backbone(src, torch.cat([bos, *outputs], dim=1))[:, -1]  # (B, V)

    outputs = decode_tokens(next_logits, steps, lambda logits: logits.argmax(-1, keepdim=True))  # (B, 1) each
    return torch.cat([bos, *outputs], dim=1)[:, 1:]


def exact_match(model: TokenModel, pairs: list[tasks.DatePair]) -> float:
    """Fraction of pairs whose greedy translation is exactly the target followed by </s>."""
    model.eval()
    buckets = encode_pairs(pairs, model.tokenizer, model.target_tokenizer)
    bos = model.target_tokenizer.encode([BOS])[0]
    right = 0
    for src, tgt in buckets.values():
        want = tgt[:, 1:]  # target + </s>
        got = greedy_batch(model.backbone, src, want.shape[1], bos)
        right += int((got == want).all(dim=1).sum())
    return right / len(pairs)


# Training ----------------------------------------------------------------------------------------------
def cosine_to_zero(lr: float, step: int, steps: int) -> float:
    """These models' schedule: a cosine from `lr` down to 0 (the demos' `cosine_lr` stops at lr/20)."""
    return lr * (0.5 * (1 + math.cos(math.pi * min(step / steps, 1.0))))


def train(model: TokenModel, settings: TrainSettings, label: str, progress: Progress | None) -> float:
    """Teacher-forced cross-entropy with Adam and a cosine schedule; returns the seconds it took.

    The step is training.AdamStep, the one optimiser step of every loop in seqviz."""
    torch.manual_seed(settings.seed)
    pairs = tasks.make_pairs(settings.train_pairs, TRAIN_SEED)
    stream = batches(encode_pairs(pairs, model.tokenizer, model.target_tokenizer), settings)
    adam = AdamStep(model.parameters(), settings.lr, settings.steps, 1.0, cosine_to_zero)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    for step in range(settings.steps):
        src, tgt = next(stream)
        logits = model.backbone(src, tgt[:, :-1])  # (B, T, V)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1))
        adam.step(loss, step)
        if progress and (step % 20 == 0 or step + 1 == settings.steps):
            progress(f"{label} loss {loss.item():.3f}", step + 1, settings.steps)
    model.eval()
    return time.perf_counter() - start


# The two models ----------------------------------------------------------------------------------------
def gru_attention_model(seed: int = 0) -> TokenModel:
    from seqviz.core.bahdanau import BahdanauConfig, BahdanauSeq2Seq

    torch.manual_seed(seed)
    src_tok, tgt_tok = tasks.source_tokenizer(), tasks.target_tokenizer()
    cfg = BahdanauConfig(
        len(src_tok.vocab),
        len(tgt_tok.vocab),
        embed_dim=32,
        hidden_size=64,
        attention_size=64,
        bos_id=tgt_tok.encode([BOS])[0],
        eos_id=tgt_tok.encode([EOS])[0],
    )
    return TokenModel(BahdanauSeq2Seq(cfg), src_tok, "seq2seq", target_tokenizer=tgt_tok)


def transformer_model(seed: int = 0) -> TokenModel:
    from seqviz.core.transformer import EncoderDecoderTransformer, TransformerConfig

    torch.manual_seed(seed)
    src_tok, tgt_tok = tasks.source_tokenizer(), tasks.target_tokenizer()
    cfg = TransformerConfig(
        vocab_size=len(src_tok.vocab),
        num_outputs=len(tgt_tok.vocab),
        d_model=64,
        num_heads=4,
        num_layers=2,
        num_decoder_layers=1,
        max_len=32,
        bos_id=tgt_tok.encode([BOS])[0],
        eos_id=tgt_tok.encode([EOS])[0],
    )
    return TokenModel(EncoderDecoderTransformer(cfg), src_tok, "seq2seq", target_tokenizer=tgt_tok)


def describe(model: TokenModel, model_id: str, title: str, arch_text: str, accuracy: float, secs: float):
    """Write the model's card: what it does, its sizes and vocabularies, and its held-out accuracy."""
    params = sum(p.numel() for p in model.parameters())
    model.card = ModelCard(
        id=model_id,
        title=title,
        task="seq2seq-dates",
        description=(
            "Translates a date spelled out in English or Spanish words into ISO digits (YYYY-MM-DD), "
            f"years 1900-2099. {arch_text} {params:,} parameters. Source: {len(model.tokenizer.vocab)} "
            "words (lowercase; Spanish with or without accents); target: "
            f"{len(model.target_tokenizer.vocab)} characters (digits, '-', <s>, </s>). The cross-attention "
            "shows which word each digit comes from; the year comes last in the words but first in the "
            f"digits. Exact-match accuracy {accuracy:.1%} on {HELDOUT_SIZE} fresh dates "
            f"(seed {HELDOUT_SEED})."
        ),
        examples=list(tasks.EXAMPLES),
        accuracy=round(accuracy, 4),
        metrics={
            "exact_match_heldout": round(accuracy, 4),
            "heldout_size": HELDOUT_SIZE,
            "heldout_seed": HELDOUT_SEED,
            "train_seed": TRAIN_SEED,
            "parameters": params,
            "train_seconds": round(secs, 1),
        },
    )


MODELS = {
    # id: (build, steps, learning rate, title, architecture sentence for the card)
    "dates-gru-attention": (
        gru_attention_model,
        2000,
        3e-3,
        "Dates in words -> digits: GRU encoder-decoder with additive attention",
        "A bidirectional GRU encoder (64 units each way) and a GRU decoder (64 units) with additive "
        "(Bahdanau) attention over the encoder states, recomputed at every output step.",
    ),
    "dates-transformer": (
        transformer_model,
        2000,
        2e-3,
        "Dates in words -> digits: Transformer encoder-decoder",
        "A Transformer encoder-decoder (d_model 64, 4 heads, 2 encoder layers, 1 decoder layer; pre-norm, "
        "learned positions). One decoder layer makes every digit fetch its word through cross-attention.",
    ),
}


def train_one(model_id: str, out_dir: Path | str, progress: Progress | None = text_progress) -> TokenModel:
    """Train the model `model_id` (a key of MODELS), measure it on held-out dates, save it with its card."""
    from seqviz.core.modelfile import save_model

    build, steps, lr, title, arch_text = MODELS[model_id]
    model = build()
    secs = train(model, TrainSettings(steps=steps, lr=lr), model_id, progress)
    acc = exact_match(model, tasks.make_pairs(HELDOUT_SIZE, HELDOUT_SEED))
    describe(model, model_id, title, arch_text, acc, secs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_model(model, out / f"{model_id}.safetensors")
    return model


def train_all(out_dir: Path | str | None = None, progress: Progress | bool | None = True) -> list[TokenModel]:
    """Train and save both task (d) models into `out_dir` (default resources/models), about 3 minutes.

    `progress`: True for a text bar on stderr, a callable (label, done, total), or None/False for quiet.
    """
    from seqviz.demos.catalogue import MODELS_DIR

    torch.set_num_threads(1)
    report = text_progress if progress is True else (progress or None)
    out = Path(out_dir) if out_dir is not None else MODELS_DIR
    return [train_one(model_id, out, report) for model_id in MODELS]


if __name__ == "__main__":
    for trained in train_all(sys.argv[1] if len(sys.argv) > 1 else None):
        card = trained.card
        print(f"{card.id}: exact match {card.accuracy:.2%}, {card.metrics['train_seconds']} s")
