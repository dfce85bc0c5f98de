"""TokenModel: a sequence model with its tokenizer, task and card — what the app and demos load.

A TokenModel wraps a backbone that maps token ids to per-step outputs:
    RecurrentNet   embedding -> nn.RNN / nn.GRU / nn.LSTM -> linear head   (this file)
    the project's Transformers                                        (seqviz.core.transformer)
Both have `forward(ids (B, T)) -> logits (B, T, K)` and `trace_ids(ids: list[int]) -> Trace` (with
`probs` (T, K)). Tasks: "lm" (K = vocabulary, row t predicts token t+1), "classify" (K = classes, the
prediction is the last row, a causal model's row t is its opinion after t tokens), "tag" (K = tags,
one per token).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn as nn

from seqviz.core.tokenize import Tokenizer
from seqviz.core.trace import Trace

RECURRENT_ARCHS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
TASKS = ("lm", "classify", "tag")


@dataclass
class RecurrentConfig:
    arch: str  # "rnn", "gru" or "lstm"
    vocab_size: int
    num_outputs: int
    embed_dim: int = 32
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    nonlinearity: str = "tanh"  # nn.RNN only


class RecurrentNet(nn.Module):
    """Embedding, a torch recurrent stack, and a linear head on every step."""

    def __init__(self, cfg: RecurrentConfig) -> None:
        super().__init__()
        if cfg.arch not in RECURRENT_ARCHS:
            raise ValueError(f"unknown recurrent arch {cfg.arch!r}; expected one of {list(RECURRENT_ARCHS)}")
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.embed_dim)
        kw: dict[str, Any] = {"nonlinearity": cfg.nonlinearity} if cfg.arch == "rnn" else {}
        self.rnn = RECURRENT_ARCHS[cfg.arch](
            cfg.embed_dim,
            cfg.hidden_size,
            cfg.num_layers,
            batch_first=True,
            bidirectional=cfg.bidirectional,
            **kw,
        )
        directions = 2 if cfg.bidirectional else 1
        self.head = nn.Linear(directions * cfg.hidden_size, cfg.num_outputs)

    @property
    def causal(self) -> bool:
        return not self.cfg.bidirectional

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, T) -> logits (B, T, num_outputs)."""
        out, _ = self.rnn(self.embedding(ids))  # (B, T, D*H)
        return self.head(out)

    @torch.no_grad()
    def trace_ids(self, ids: list[int]) -> Trace:
        from seqviz.core.recurrent import trace_recurrent

        x = self.embedding(torch.as_tensor(ids, dtype=torch.long))  # (T, E)
        tr = trace_recurrent(self.rnn, x)
        top = torch.from_numpy(tr["hidden"][:, -1])  # (T, D, H): the last layer
        probs = torch.softmax(self.head(top.reshape(len(ids), -1)), dim=-1)  # (T, K)
        return Trace({**tr, "probs": probs.numpy()}, meta=tr.meta)


@dataclass
class ModelCard:
    """What a person needs to know about a model: what it does and how well."""

    id: str = ""
    title: str = ""
    task: str = ""  # the lecture task, e.g. "long-range", "sentiment"
    description: str = ""
    examples: list[str] = field(default_factory=list)
    accuracy: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


class TokenModel(nn.Module):
    """A backbone plus its tokenizer, output labels and card. `seqviz.trace(model, text)` works on it."""

    def __init__(
        self,
        backbone: nn.Module,
        tokenizer: Tokenizer,
        task: str,
        output_labels: list[str] | None = None,
        card: ModelCard | None = None,
    ) -> None:
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.task = task
        self.output_labels = list(output_labels) if output_labels is not None else list(tokenizer.vocab)
        self.card = card or ModelCard()

    @property
    def arch(self) -> str:
        cfg = self.backbone.cfg
        return getattr(cfg, "arch", "transformer")

    @property
    def example(self) -> str:
        return self.card.examples[0] if self.card.examples else ""

    @property
    def causal(self) -> bool:
        return bool(getattr(self.backbone, "causal", True))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.backbone(ids)

    def __seqviz_trace__(self, inputs: str | list[str], **kw: Any) -> Trace:
        if kw:
            raise TypeError(f"unexpected arguments for a TokenModel trace: {', '.join(kw)}")
        ids = self.tokenizer.encode(inputs)
        if not ids:
            raise ValueError("the input is empty: type at least one token")
        self.eval()
        tr = self.backbone.trace_ids(ids)
        meta = {
            **tr.meta,
            "task": self.task,
            "output_labels": self.output_labels,
            "causal": self.causal,
            "model_id": self.card.id,
            "unknown": self.tokenizer.unknown(inputs),
        }
        return Trace(tr, tokens=self.tokenizer.decode(ids), meta=meta, source_tokens=tr.source_tokens)

    # Serialisation (used by seqviz.core.modelfile) ------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        cfg = self.backbone.cfg
        return {
            "kind": "TokenModel",
            "backbone": type(self.backbone).__name__,
            "config": asdict(cfg),
            "tokenizer": self.tokenizer.to_dict(),
            "task": self.task,
            "output_labels": self.output_labels,
            "card": asdict(self.card),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> TokenModel:
        backbone_cls = backbone_classes()[meta["backbone"]]
        cfg = backbone_cls.config_class(**meta["config"])
        return cls(
            backbone_cls(cfg),
            Tokenizer.from_dict(meta["tokenizer"]),
            meta["task"],
            meta.get("output_labels"),
            ModelCard(**meta.get("card", {})),
        )


RecurrentNet.config_class = RecurrentConfig  # type: ignore[attr-defined]


def backbone_classes() -> dict[str, type[nn.Module]]:
    """Backbones a model file may name; nothing else is ever constructed from a file."""
    classes: dict[str, type[nn.Module]] = {"RecurrentNet": RecurrentNet}
    try:
        from seqviz.core import transformer
    except ImportError:  # pragma: no cover - the Transformer module is optional while it is built
        return classes
    classes.update(getattr(transformer, "BACKBONES", {}))
    return classes


def fresh_model(
    arch: str, seed: int = 0, text: str = "the quick brown fox jumps over the lazy dog"
) -> TokenModel:
    """A freshly initialised (untrained, seeded) character language model of `arch`."""
    torch.manual_seed(seed)
    vocab = sorted(set("abcdefghijklmnopqrstuvwxyz .,'"))
    tok = Tokenizer(vocab, "char", lowercase=True)
    card = ModelCard(
        id=f"untrained-{arch}",
        title=f"Untrained {arch.upper()} (random weights)",
        task="untrained",
        description="freshly initialised, seeded; not trained",
        examples=[text],
    )
    if arch in RECURRENT_ARCHS:
        backbone: nn.Module = RecurrentNet(RecurrentConfig(arch, len(tok.vocab), len(tok.vocab), 16, 32, 2))
    else:
        from seqviz.core.transformer import DecoderOnlyTransformer, TransformerConfig

        backbone = DecoderOnlyTransformer(
            TransformerConfig(
                vocab_size=len(tok.vocab),
                num_outputs=len(tok.vocab),
                d_model=32,
                num_heads=4,
                num_layers=2,
                max_len=512,
            )
        )
    return TokenModel(backbone, tok, "lm", card=card).eval()
