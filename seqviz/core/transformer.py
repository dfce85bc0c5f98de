"""The project's own small Transformers, written to be read (in the style of minGPT).

Three models share one block:
    DecoderOnlyTransformer     causal language model; can generate (seqviz.core.generate)
    EncoderTransformer         bidirectional; a head on every step (tagging; classify from the last row)
    EncoderDecoderTransformer  sequence to sequence with cross-attention; source and target lengths differ

Choices (documented because the pictures depend on them):
- Pre-norm blocks by default (`norm_first=True`, as GPT-2): x = x + attn(ln1(x)); x = x + mlp(ln2(x)),
  and one final LayerNorm before the head; pre-norm is the easier one to train (no learning-rate warm-up).
  `hidden` records each block's output, i.e. the residual stream *before* the final norm.
  Post-norm (`norm_first=False`, the 2017 paper) is available; it has no final norm.
- Learned positions by default (`positions="learned"`), or fixed sinusoidal ones (`"sinusoidal"`). Either
  way the model has `max_len` positions and refuses longer inputs.
- Attention is computed explicitly, softmax(q k^T / sqrt(d_head) + mask) v, so its probabilities are the
  ones the model used; dropout (if any) acts on the attention output, never on the recorded probabilities.
- The trace runs the same code as `forward`, so trace and forward cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn as nn

from seqviz.core.trace import Trace


@dataclass
class TransformerConfig:
    vocab_size: int  # input vocabulary (the source vocabulary for encoder-decoder)
    num_outputs: int  # head size: vocabulary (LM), classes or tags; encoder-decoder: the target vocabulary
    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 2  # encoder-decoder: encoder layers
    max_len: int = 256  # positions; longer inputs are refused
    d_ff: int | None = None  # feed-forward width; None means 4 * d_model
    dropout: float = 0.0
    positions: str = "learned"  # "learned" or "sinusoidal"
    norm_first: bool = True  # pre-norm (with a final norm) or post-norm
    activation: str = "gelu"  # "gelu" or "relu"
    num_decoder_layers: int | None = None  # encoder-decoder: decoder layers; None means num_layers
    bos_id: int = 1  # encoder-decoder: target id that starts decoding (<s>)
    eos_id: int = 2  # encoder-decoder: target id that ends it (</s>)
    arch: str = "transformer"

    def __post_init__(self) -> None:
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by num_heads ({self.num_heads})")
        if self.positions not in ("learned", "sinusoidal"):
            raise ValueError(f"positions must be 'learned' or 'sinusoidal', not {self.positions!r}")
        if self.activation not in ("gelu", "relu"):
            raise ValueError(f"activation must be 'gelu' or 'relu', not {self.activation!r}")

    @property
    def feed_forward_size(self) -> int:
        return self.d_ff or 4 * self.d_model

    @property
    def tgt_vocab_size(self) -> int:
        """Encoder-decoder: the decoder embeds and predicts the same target tokens."""
        return self.num_outputs


class KeyValueCache(Protocol):
    """Where a block keeps its keys and values between calls (see seqviz.core.generate.KVCache)."""

    def extend(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """(max_len, d_model): sin on even features, cos on odd ones, wavelengths 2pi .. 10000 * 2pi."""
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]  # (P, 1)
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)[:, : d_model // 2]
    return table


def causal_mask(num_queries: int, num_keys: int) -> torch.Tensor:
    """(Tq, Tk) bool, True = blocked; the queries are the last Tq of the Tk positions."""
    offset = num_keys - num_queries
    return torch.ones(num_queries, num_keys, dtype=torch.bool).triu(offset + 1)


class Embedding(nn.Module):
    """Token embedding plus position embedding."""

    def __init__(self, vocab_size: int, cfg: TransformerConfig) -> None:
        super().__init__()
        self.token = nn.Embedding(vocab_size, cfg.d_model)
        if cfg.positions == "learned":
            self.position = nn.Parameter(torch.zeros(cfg.max_len, cfg.d_model))
        else:
            self.register_buffer("position", sinusoidal_positions(cfg.max_len, cfg.d_model), persistent=False)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, ids: torch.Tensor, start: int = 0) -> torch.Tensor:
        """ids (B, T) at positions start..start+T-1 -> (B, T, d)."""
        pos = self.position[start : start + ids.shape[1]]  # (T, d)
        return self.dropout(self.token(ids) + pos)


class MultiHeadAttention(nn.Module):
    """Explicit scaled dot-product attention that returns its probabilities."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.num_heads, self.d_head = cfg.num_heads, cfg.d_model // cfg.num_heads
        self.query = nn.Linear(cfg.d_model, cfg.d_model)
        self.key = nn.Linear(cfg.d_model, cfg.d_model)
        self.value = nn.Linear(cfg.d_model, cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = nn.Dropout(cfg.dropout)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.d_head).transpose(1, 2)  # (B, h, T, dh)

    def keys_values(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """context (B, S, d) -> keys, values (B, h, S, dh)."""
        return self._heads(self.key(context)), self._heads(self.value(context))

    def attend(self, x, k, v, mask: torch.Tensor | None, probs_out: torch.Tensor | None = None):
        """x (B, T, d) queries over k, v (B, h, S, dh); mask (T, S) bool, True = blocked.

        Returns the output (B, T, d) and the probabilities (B, h, T, S). A trace passes `probs_out`
        (B, h, T, S), its own array, so the probabilities are written once, not copied (no autograd then).
        """
        q = self._heads(self.query(x)) / math.sqrt(self.d_head)  # (B, h, T, dh)
        scores = q @ k.transpose(-2, -1)  # (B, h, T, S)
        if mask is not None:
            scores.masked_fill_(mask, float("-inf"))
        probs = torch.softmax(scores, dim=-1, out=probs_out) if probs_out is not None else scores.softmax(-1)
        y = (probs @ v).transpose(1, 2).reshape(x.shape)  # (B, T, d)
        return self.dropout(self.out(y)), probs


class Block(nn.Module):
    """Self-attention, optional cross-attention over a memory, and a feed-forward network."""

    def __init__(self, cfg: TransformerConfig, cross: bool = False) -> None:
        super().__init__()
        self.norm_first = cfg.norm_first
        self.ln1, self.attn = nn.LayerNorm(cfg.d_model), MultiHeadAttention(cfg)
        self.ln_cross = nn.LayerNorm(cfg.d_model) if cross else None
        self.cross_attn = MultiHeadAttention(cfg) if cross else None
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.feed_forward_size),
            nn.GELU() if cfg.activation == "gelu" else nn.ReLU(),
            nn.Linear(cfg.feed_forward_size, cfg.d_model),
            nn.Dropout(cfg.dropout),
        )

    def self_keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The keys and values (B, h, T, dh) this block's self-attention makes from its input x (B, T, d)."""
        return self.attn.keys_values(self.ln1(x) if self.norm_first else x)

    def _sublayer(self, x: torch.Tensor, norm: nn.LayerNorm, fn) -> tuple[torch.Tensor, Any]:
        """Residual around fn, with the norm before (pre-norm) or after (post-norm)."""
        if self.norm_first:
            out, extra = fn(norm(x))
            return x + out, extra
        out, extra = fn(x)
        return norm(x + out), extra

    def forward(self, x, mask=None, memory=None, cache: KeyValueCache | None = None, outs=(None, None)):
        """x (B, T, d); mask (T, T+cached) bool; memory (B, S, d) for cross-attention.

        With a cache, the keys/values of x are appended to it and x attends to all of them.
        Returns x (B, T, d), self-attention (B, h, T, T+cached), cross-attention (B, h, T, S) or None;
        `outs` may hold tensors of those shapes to write the probabilities into.
        """

        def self_attention(h):
            k, v = self.attn.keys_values(h)  # (B, h, T, dh)
            if cache is not None:
                k, v = cache.extend(k, v)  # (B, h, cached+T, dh)
            return self.attn.attend(h, k, v, mask, outs[0])

        def cross_attention(h):
            return self.cross_attn.attend(h, *self.cross_attn.keys_values(memory), None, outs[1])

        x, probs = self._sublayer(x, self.ln1, self_attention)
        cross_probs = None
        if self.cross_attn is not None:
            x, cross_probs = self._sublayer(x, self.ln_cross, cross_attention)
        x, _ = self._sublayer(x, self.ln2, lambda h: (self.mlp(h), None))
        return x, probs, cross_probs


@dataclass
class StackRun:
    """One pass of a stack: the output after the final norm and every block's record."""

    output: torch.Tensor  # (B, T, d)
    hidden: list[torch.Tensor]  # per block (B, T, d), before the final norm
    attention: list[torch.Tensor]  # per block (B, h, T, S_self)
    cross_attention: list[torch.Tensor]  # per block (B, h, T, S), decoders only


class Stack(nn.Module):
    """Embedding, blocks and the final norm (pre-norm only)."""

    def __init__(self, vocab_size: int, num_layers: int, cfg: TransformerConfig, cross: bool = False) -> None:
        super().__init__()
        self.embed = Embedding(vocab_size, cfg)
        self.blocks = nn.ModuleList(Block(cfg, cross) for _ in range(num_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model) if cfg.norm_first else nn.Identity()

    def forward(self, ids, mask=None, memory=None, caches=None, start: int = 0, outs=None) -> StackRun:
        """ids (B, T) at positions start..; caches: one per block or None.

        outs: None or (attention (L, B, h, T, S), cross-attention (L, B, h, T, S) or None) to write into.
        """
        x = self.embed(ids, start)  # (B, T, d)
        run = StackRun(x, [], [], [])
        for i, block in enumerate(self.blocks):
            block_outs = [None if out is None else out[i] for out in outs] if outs else (None, None)
            x, probs, cross = block(x, mask, memory, caches[i] if caches else None, block_outs)
            run.hidden.append(x)
            run.attention.append(probs)
            if cross is not None:
                run.cross_attention.append(cross)
        run.output = self.ln_f(x)
        return run


def _init_weights(model: nn.Module) -> None:
    """GPT-2 style: weights and positions normal(0, 0.02), biases zero; LayerNorms keep (1, 0)."""
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, Embedding) and isinstance(module.position, nn.Parameter):
            nn.init.normal_(module.position, std=0.02)


def hidden_array(run: StackRun) -> np.ndarray:
    """A batch-of-one run -> hidden (T, L, 1, d): every block's output."""
    return torch.stack([h[0] for h in run.hidden], dim=1)[:, :, None].numpy()


def attention_array(num_layers: int, num_heads: int, T: int, S: int) -> tuple[np.ndarray, torch.Tensor]:
    """A trace's (L, h, T, S) float32 array and its (L, 1, h, T, S) view for a stack to write into."""
    array = np.empty((num_layers, num_heads, T, S), np.float32)
    return array, torch.from_numpy(array)[:, None]


class _SingleStack(nn.Module):
    """Shared by the decoder-only and the encoder model: one stack and a head on every step."""

    config_class = TransformerConfig
    causal = True
    kind = "decoder"

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stack = Stack(cfg.vocab_size, cfg.num_layers, cfg)
        self.head = nn.Linear(cfg.d_model, cfg.num_outputs)
        _init_weights(self)

    def run(self, ids: torch.Tensor, caches=None, start: int = 0, attention_out=None):
        """ids (B, T) at positions start.. -> logits (B, T, num_outputs) and the stack's record (StackRun).

        attention_out: optional (L, B, h, T, start+T) tensor the attention probabilities are written into.
        """
        total = start + ids.shape[1]
        mask = causal_mask(ids.shape[1], total) if self.causal else None
        outs = (attention_out, None) if attention_out is not None else None
        run = self.stack(ids, mask, caches=caches, start=start, outs=outs)
        return self.head(run.output), run

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, T) -> logits (B, T, num_outputs)."""
        check_ids(ids, self.cfg.vocab_size, self.cfg.max_len, "ids")
        return self.run(ids)[0]

    def meta(self) -> dict[str, Any]:
        return model_meta(self.cfg, self.kind, self.causal, self.cfg.num_layers)

    @torch.no_grad()
    def trace_ids(self, ids: list[int]) -> Trace:
        """hidden (T, L, 1, d), attention (L, h, T, T), probs (T, num_outputs); meta["token_ids"] = ids."""
        batch = check_ids(ids, self.cfg.vocab_size, self.cfg.max_len, "ids")
        T = len(ids)
        attention, attention_out = attention_array(self.cfg.num_layers, self.cfg.num_heads, T, T)
        with eval_mode(self):
            logits, run = self.run(batch, attention_out=attention_out)
        probs = torch.softmax(logits[0], dim=-1).numpy()  # (T, num_outputs)
        arrays = {"hidden": hidden_array(run), "attention": attention, "probs": probs}
        return Trace(arrays, tokens=[str(i) for i in ids], meta={**self.meta(), "token_ids": list(ids)})

    def __seqviz_trace__(self, inputs: Any, **kw: Any) -> Trace:
        if kw:
            raise TypeError(f"unexpected arguments for a {type(self).__name__} trace: {', '.join(kw)}")
        return self.trace_ids([int(i) for i in torch.as_tensor(inputs).flatten()])


class DecoderOnlyTransformer(_SingleStack):
    """Causal language model: row t of the logits predicts token t+1 from tokens <= t."""

    causal = True
    kind = "decoder"


class EncoderTransformer(_SingleStack):
    """Bidirectional encoder: every step sees the whole input; a head on every step."""

    causal = False
    kind = "encoder"


class EncoderDecoderTransformer(nn.Module):
    """Sequence to sequence: an encoder over the source, a causal decoder with cross-attention over it.

    Target ids (decoder inputs and outputs) come from a vocabulary of `num_outputs`; decoding starts with
    `cfg.bos_id` and stops after `cfg.eos_id`.
    """

    config_class = TransformerConfig
    causal = True  # the decoder's step t sees outputs < t only (and the whole source), as in bahdanau.py

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Stack(cfg.vocab_size, cfg.num_layers, cfg)
        self.decoder = Stack(cfg.num_outputs, self.num_decoder_layers, cfg, cross=True)
        self.head = nn.Linear(cfg.d_model, cfg.num_outputs)
        _init_weights(self)

    @property
    def num_decoder_layers(self) -> int:
        return self.cfg.num_decoder_layers or self.cfg.num_layers

    def encode(self, src: torch.Tensor, outs=None) -> StackRun:
        """src (B, S) -> the encoder's run; `.output` (B, S, d) is the memory."""
        return self.encoder(src, outs=outs)

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, caches=None, start: int = 0, outs=None):
        """tgt (B, T) decoder inputs at positions start.., memory (B, S, d) -> logits (B, T, V), run."""
        mask = causal_mask(tgt.shape[1], start + tgt.shape[1])
        run = self.decoder(tgt, mask, memory, caches, start, outs)
        return self.head(run.output), run

    def forward(self, src_ids: torch.Tensor, tgt_ids: torch.Tensor) -> torch.Tensor:
        """src_ids (B, S), tgt_ids (B, T) decoder inputs -> logits (B, T, num_outputs)."""
        check_ids(src_ids, self.cfg.vocab_size, self.cfg.max_len, "src_ids")
        check_ids(tgt_ids, self.cfg.num_outputs, self.cfg.max_len, "tgt_ids")
        return self.decode(tgt_ids, self.encode(src_ids).output)[0]

    @torch.no_grad()
    def translate(
        self, src_ids: list[int], max_len: int | None = None, bos_id=None, eos_id=None
    ) -> list[int]:
        """Greedy decoding: the output ids (without bos; ending with eos unless max_len stopped it)."""
        from seqviz.core.generate import KVCache

        bos = self.cfg.bos_id if bos_id is None else bos_id
        eos = self.cfg.eos_id if eos_id is None else eos_id
        limit = min(max_len or self.cfg.max_len, self.cfg.max_len)
        src = check_ids(src_ids, self.cfg.vocab_size, self.cfg.max_len, "src_ids")
        with eval_mode(self):
            memory = self.encode(src).output  # (1, S, d)
            caches = [KVCache() for _ in range(self.num_decoder_layers)]
            out, token = [], bos
            while len(out) < limit:
                logits, _ = self.decode(torch.tensor([[token]]), memory, caches, start=len(out))
                token = int(logits[0, -1].argmax())
                out.append(token)
                if token == eos:
                    break
        return out

    @torch.no_grad()
    def trace_pair(self, src_ids: list[int], tgt_ids: list[int]) -> Trace:
        """Teacher-forced trace: tgt_ids are the decoder inputs (normally bos then the target).

        Arrays: hidden (T, L, 1, d) decoder layers, attention (L, h, T, T) decoder self-attention,
        cross_attention (L, h, T, S), encoder_hidden (S, L_enc, 1, d), encoder_attention (L_enc, h, S, S),
        probs (T, num_outputs). meta: source_ids, decoder_input_ids, output_ids (argmax of each row).
        """
        src = check_ids(src_ids, self.cfg.vocab_size, self.cfg.max_len, "src_ids")
        tgt = check_ids(tgt_ids, self.cfg.num_outputs, self.cfg.max_len, "tgt_ids")
        S, T, h, L = len(src_ids), len(tgt_ids), self.cfg.num_heads, self.num_decoder_layers
        encoder_attention, encoder_out = attention_array(self.cfg.num_layers, h, S, S)
        attention, attention_out = attention_array(L, h, T, T)
        cross_attention, cross_out = attention_array(L, h, T, S)
        with eval_mode(self):
            enc = self.encode(src, outs=(encoder_out, None))
            logits, dec = self.decode(tgt, enc.output, outs=(attention_out, cross_out))
        probs = torch.softmax(logits[0], dim=-1)  # (T, V)
        arrays = {
            "hidden": hidden_array(dec),
            "attention": attention,
            "cross_attention": cross_attention,
            "encoder_hidden": hidden_array(enc),
            "encoder_attention": encoder_attention,
            "probs": probs.numpy(),
        }
        meta = {
            **model_meta(self.cfg, "encoder-decoder", True, self.num_decoder_layers),
            "encoder_layers": self.cfg.num_layers,
            "source_ids": list(src_ids),
            "decoder_input_ids": list(tgt_ids),
            "output_ids": probs.argmax(dim=-1).tolist(),
        }
        output_labels = [str(i) for i in meta["output_ids"]]
        return Trace(arrays, tokens=output_labels, meta=meta, source_tokens=[str(i) for i in src_ids])

    def trace_ids(self, ids: list[int], max_len: int | None = None) -> Trace:
        """Translate the source greedily, then trace the pair: step t is output token t (meta output_ids,
        eos included); its decoder input is bos or output t-1 (meta decoder_input_ids)."""
        out = self.translate(ids, max_len)
        tr = self.trace_pair(ids, [self.cfg.bos_id, *out[:-1]])
        tr.meta["output_ids"] = out
        return tr

    def __seqviz_trace__(self, inputs: Any, target: Any = None, **kw: Any) -> Trace:
        if kw:
            raise TypeError(f"unexpected arguments for an EncoderDecoderTransformer trace: {', '.join(kw)}")
        src = [int(i) for i in torch.as_tensor(inputs).flatten()]
        if target is None:
            return self.trace_ids(src)
        return self.trace_pair(src, [int(i) for i in torch.as_tensor(target).flatten()])


# Shared helpers -----------------------------------------------------------------------------------
def model_meta(cfg: TransformerConfig, kind: str, causal: bool, num_layers: int) -> dict[str, Any]:
    return {
        "arch": "transformer",
        "kind": kind,
        "num_layers": num_layers,
        "num_heads": cfg.num_heads,
        "d_model": cfg.d_model,
        "causal": causal,
        "num_directions": 1,
        "hidden_size": cfg.d_model,
        "norm_first": cfg.norm_first,
        "positions": cfg.positions,
        "max_len": cfg.max_len,
    }


def check_ids(ids: Any, vocab_size: int, max_len: int, name: str) -> torch.Tensor:
    """Token ids as a (B, T) long tensor (a flat list becomes a batch of one), or a ValueError."""
    batch = torch.as_tensor(ids, dtype=torch.long)
    if batch.dim() == 1:
        batch = batch[None]
    if batch.dim() != 2:
        raise ValueError(
            f"{name} must be a list of token ids or a (B, T) tensor, got shape {tuple(batch.shape)}"
        )
    if batch.shape[1] == 0:
        raise ValueError(f"{name} is empty: type at least one token")
    if batch.shape[1] > max_len:
        raise ValueError(
            f"{name} has {batch.shape[1]} tokens; the model has only {max_len} positions (max_len)"
        )
    if batch.min() < 0 or batch.max() >= vocab_size:
        bad = batch[(batch < 0) | (batch >= vocab_size)][0].item()
        raise ValueError(f"{name} contains token id {bad}, outside the vocabulary of {vocab_size}")
    return batch


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode for the duration (no dropout), then the module's own mode back."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


BACKBONES: dict[str, type[nn.Module]] = {
    "DecoderOnlyTransformer": DecoderOnlyTransformer,
    "EncoderTransformer": EncoderTransformer,
    "EncoderDecoderTransformer": EncoderDecoderTransformer,
}
