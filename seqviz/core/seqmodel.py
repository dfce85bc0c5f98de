"""TokenModel: a sequence model with its tokenizer, task and card — what the app and demos load.

A TokenModel wraps a backbone that maps token ids to per-step outputs:
    RecurrentNet   embedding -> nn.RNN / nn.GRU / nn.LSTM -> linear head   (this file)
    the project's Transformers                                        (seqviz.core.transformer)
Both have `forward(ids (B, T)) -> logits (B, T, K)` and `trace_ids(ids: list[int]) -> Trace` (with
`probs` (T, K)). Tasks: "lm" (K = vocabulary, row t predicts token t+1), "classify" (K = classes, the
prediction is the last row, a causal model's row t is its opinion after t tokens), "tag" (K = tags,
one per token), "seq2seq" (an encoder-decoder: `forward(src (B, S), tgt (B, T)) -> logits (B, T, K)`,
K = the target vocabulary of `target_tokenizer`; see `TokenModel._trace_seq2seq`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn as nn

from seqviz.core.tokenize import EOS, Tokenizer
from seqviz.core.top_outputs import head_outputs
from seqviz.core.trace import Trace
from seqviz.core.trace_meta import TraceMeta

RECURRENT_ARCHS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
TASKS = ("lm", "classify", "tag", "seq2seq")


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

    trace_options = frozenset({"initial_state", "edits"})  # passed on to trace_edited (value edits)

    @torch.no_grad()
    def trace_ids(self, ids: list[int], **options: Any) -> Trace:
        from seqviz.core.recurrent_edits import trace_edited

        x = self.embedding(torch.as_tensor(ids, dtype=torch.long))  # (T, E)
        tr = trace_edited(self.rnn, x, **options)  # trace_recurrent's trace when there are no edits
        top = torch.from_numpy(tr["hidden"][:, -1])  # (T, D, H): the last layer
        # probs (T, K); a language model's large vocabulary as its top outputs (core.top_outputs)
        outputs = head_outputs(self.head, top.reshape(len(ids), -1), ids[1:])
        return Trace({**tr, **outputs}, meta=tr.meta)


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
        target_tokenizer: Tokenizer | None = None,
    ) -> None:
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
        if (task == "seq2seq") != (target_tokenizer is not None):
            raise ValueError("a target_tokenizer is needed for task 'seq2seq', and only for it")
        self.backbone = backbone
        self.tokenizer = tokenizer  # the source tokenizer for seq2seq
        self.target_tokenizer = target_tokenizer
        self.task = task
        default_labels = (target_tokenizer or tokenizer).vocab
        self.output_labels = list(output_labels) if output_labels is not None else list(default_labels)
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

    def forward(self, ids: torch.Tensor, tgt: torch.Tensor | None = None) -> torch.Tensor:
        """ids (B, T) -> logits; seq2seq: source ids (B, S) and decoder inputs tgt (B, T) -> (B, T, K)."""
        return self.backbone(ids) if tgt is None else self.backbone(ids, tgt)

    def __seqviz_trace__(self, inputs: str | list[str], **options: Any) -> Trace:
        """The trace of `inputs` (text or a token list); `options` go to the backbone's tracer (checked
        by `seqviz.trace` against `backbone.trace_options`)."""
        ids = self.tokenizer.encode(inputs)
        if not ids:
            raise ValueError("the input is empty: type at least one token")
        self.eval()
        if self.task == "seq2seq":
            return self._trace_seq2seq(inputs, ids, **options)
        tr = self.backbone.trace_ids(ids, **options)
        meta = self._trace_meta(tr, inputs)
        return Trace(tr, tokens=self.tokenizer.decode(ids), meta=meta, source_tokens=tr.source_tokens)

    def _trace_meta(self, tr: Trace, inputs: str | list[str]) -> TraceMeta:
        """The backbone's meta plus what only the wrapper knows: task, labels, model id, unknown input,
        and the input's pieces as typed when the tokens read otherwise (a word outside the vocabulary
        reads `<unk>`, "nací" reads "naci"): `extra["pieces"]`, a seq2seq source's `"source_pieces"`."""
        pieces = inputs if isinstance(inputs, list) else self.tokenizer.split(inputs)
        typed = {}
        if pieces != self.tokenizer.labels(pieces):
            typed["source_pieces" if self.task == "seq2seq" else "pieces"] = list(pieces)
        return tr.meta.replace(
            task=self.task,
            output_labels=self.output_labels,
            causal=self.causal,
            model_id=self.card.id,
            unknown=self.tokenizer.unknown(inputs),
            **typed,
        )

    def _trace_seq2seq(self, inputs: str | list[str], src_ids: list[int], **options: Any) -> Trace:
        """Translate greedily and trace it: `tokens` are the T output tokens (</s> included),
        `source_tokens` the S source tokens; row t of the decoder arrays belongs to output token t.

        The backbone's `trace_ids(src_ids)` decodes and traces (its config holds the <s> and </s> ids);
        its meta must hold `output_ids`.
        """
        assert self.target_tokenizer is not None
        tr = self.backbone.trace_ids(src_ids, **options)
        output_ids = list(tr.meta.output_ids)
        start = self.target_tokenizer.decode(list(tr.meta.decoder_input_ids[:1]))  # [] or e.g. ["<s>"]
        meta = self._trace_meta(tr, inputs).replace(
            output_text=_output_text(self.target_tokenizer, output_ids), decoder_start="".join(start)
        )
        tokens = self.target_tokenizer.decode(output_ids)
        return Trace(tr, tokens=tokens, meta=meta, source_tokens=self.tokenizer.decode(src_ids))

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
            **({"target_tokenizer": self.target_tokenizer.to_dict()} if self.target_tokenizer else {}),
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
            Tokenizer.from_dict(meta["target_tokenizer"]) if meta.get("target_tokenizer") else None,
        )


RecurrentNet.config_class = RecurrentConfig  # type: ignore[attr-defined]


def _output_text(target_tokenizer: Tokenizer, output_ids: list[int]) -> str:
    """The translation as text: output tokens up to (without) </s>."""
    tokens = target_tokenizer.decode(output_ids)
    return target_tokenizer.join(tokens[: tokens.index(EOS)] if EOS in tokens else tokens)


def backbone_classes() -> dict[str, type[nn.Module]]:
    """Backbones a model file may name; nothing else is ever constructed from a file."""
    from seqviz.core import bahdanau, transformer, word_lm_transformer

    return {
        "RecurrentNet": RecurrentNet,
        **bahdanau.BACKBONES,
        **transformer.BACKBONES,
        **word_lm_transformer.BACKBONES,
    }


def fresh_model(
    arch: str, seed: int = 0, text: str = "the quick brown fox jumps over the lazy dog"
) -> TokenModel:
    """A freshly initialised (untrained, seeded) character language model of `arch`."""
    torch.manual_seed(seed)
    vocab = sorted(set("abcdefghijklmnopqrstuvwxyz .,'"))
    tok = Tokenizer(vocab, "char", lowercase=True)
    card = ModelCard(
        id=f"untrained-{arch}",
        title=f"Untrained {arch.upper() if arch in RECURRENT_ARCHS else arch.capitalize()} (random weights)",
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
