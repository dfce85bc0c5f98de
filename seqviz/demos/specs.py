"""The bundled demo models: one spec per model (task, architecture, sizes, training), and how to build one.

Ids are `<task>-<arch>`: longrange-rnn, sentiment-gru, pos-lstm, ... Every model of one task shares the
same data, seed and number of steps, so their accuracies compare architectures, not training budgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from seqviz.core.seqmodel import ModelCard, RecurrentConfig, RecurrentNet, TokenModel
from seqviz.core.tokenize import Tokenizer
from seqviz.demos.tasks import get_task
from seqviz.demos.tasks_base import Task
from seqviz.demos.training import FitConfig

HELD_OUT_SEED = 10_007  # the card's accuracy: fresh examples from a seed training never used
HELD_OUT_N = 2000
ARCH_NAMES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM", "transformer": "Transformer"}


@dataclass(frozen=True)
class ModelSpec:
    id: str
    task: str  # a name from seqviz.demos.tasks.all_tasks()
    arch: str  # "rnn", "gru", "lstm" or "transformer"
    hidden: int = 64  # hidden size (recurrent) or d_model (Transformer)
    embed: int = 32  # recurrent only; a Transformer embeds to d_model
    layers: int = 1
    heads: int = 4
    bidirectional: bool = False  # recurrent taggers read both ways; Transformer taggers are encoders
    fit: FitConfig = field(default_factory=FitConfig)

    @property
    def arch_label(self) -> str:
        name = ARCH_NAMES[self.arch]
        if self.arch == "transformer":
            return f"{name} {'encoder' if self.bidirectional else 'decoder'}"
        return f"bidirectional {name}" if self.bidirectional else name


def _family(task: str, prefix: str, recurrent: dict, transformer: dict, **common) -> list[ModelSpec]:
    out = [ModelSpec(f"{prefix}-{a}", task, a, **common, **recurrent) for a in ("rnn", "gru", "lstm")]
    return [*out, ModelSpec(f"{prefix}-transformer", task, "transformer", **common, **transformer)]


# Long-range: the same width (128) for every recurrent model, so the RNN loses for its recurrence,
# not for a smaller memory; trained on fillers of 0-20 words, shown up to 80 in the figure.
_LONG_FIT = FitConfig(steps=3000, batch_size=32, pool_size=2048, lr=2e-3, scored_weight=1.0, seed=1)
_SENTIMENT_FIT = FitConfig(steps=600, batch_size=64, pool_size=4096, lr=3e-3, seed=2)
_POS_FIT = FitConfig(steps=500, batch_size=64, pool_size=4096, lr=3e-3, seed=3)

SPECS: tuple[ModelSpec, ...] = (
    *_family(
        "long-range",
        "longrange",
        {"hidden": 128, "fit": _LONG_FIT},
        {"hidden": 64, "layers": 2, "fit": replace(_LONG_FIT, lr=1e-3, steps=2000)},
    ),
    *_family("sentiment", "sentiment", {"hidden": 64}, {"hidden": 64, "layers": 2}, fit=_SENTIMENT_FIT),
    *_family("pos", "pos", {"hidden": 64}, {"hidden": 64, "layers": 2}, bidirectional=True, fit=_POS_FIT),
)


def spec(model_id: str) -> ModelSpec:
    for s in SPECS:
        if s.id == model_id:
            return s
    raise KeyError(f"no bundled model {model_id!r}; expected one of {[s.id for s in SPECS]}")


def build_model(s: ModelSpec) -> TokenModel:
    """An untrained TokenModel for `s`, initialised from the spec's seed."""
    task = get_task(s.task)
    tokenizer = Tokenizer(task.vocabulary(), "word", lowercase=True)
    labels = task.output_labels()
    outputs = len(labels) if labels is not None else len(tokenizer.vocab)
    torch.manual_seed(s.fit.seed)
    if s.arch == "transformer":
        from seqviz.core.transformer import DecoderOnlyTransformer, EncoderTransformer, TransformerConfig

        cls = EncoderTransformer if s.bidirectional else DecoderOnlyTransformer
        cfg = TransformerConfig(len(tokenizer.vocab), outputs, s.hidden, s.heads, s.layers, max_len=256)
        backbone: torch.nn.Module = cls(cfg)
    else:
        cfg = RecurrentConfig(
            s.arch, len(tokenizer.vocab), outputs, s.embed, s.hidden, s.layers, s.bidirectional
        )
        backbone = RecurrentNet(cfg)
    return TokenModel(backbone, tokenizer, task.kind, labels, ModelCard(id=s.id))


def make_card(s: ModelSpec, task: Task, model: TokenModel, accuracy: float, extra: dict) -> ModelCard:
    """The card: what the model does, its sizes, and the accuracy measured on fresh held-out data."""
    params = sum(p.numel() for p in model.parameters())
    width = "d_model" if s.arch == "transformer" else "hidden"
    sizes = f"{s.layers} layer{'s' if s.layers > 1 else ''}, {width} {s.hidden}"
    metrics = {
        "arch": s.arch,
        "arch_label": s.arch_label,
        "bidirectional": s.bidirectional,
        "hidden_size": s.hidden,
        "num_layers": s.layers,
        "parameters": params,
        "vocabulary_size": len(model.tokenizer.vocab),
        "outputs": len(model.output_labels),
        "train_steps": s.fit.steps,
        "train_seed": s.fit.seed,
        "held_out_seed": HELD_OUT_SEED,
        "held_out_scored_steps": extra.pop("n"),
        **extra,
    }
    return ModelCard(
        id=s.id,
        title=f"{task.title} - {s.arch_label}",
        task=task.name,
        description=f"{s.arch_label} ({sizes}): {task.description}; held-out accuracy {accuracy:.1%}",
        examples=list(task.examples),
        accuracy=round(accuracy, 4),
        metrics=metrics,
    )
