"""The building blocks of seqviz's own Transformers (seqviz.core.transformer): the configuration,
positions, attention, the key/value cache, blocks and stacks.

- Pre-norm or post-norm blocks (`cfg.norm_first`); a stack of pre-norm blocks ends in one final LayerNorm.
- Attention is computed explicitly, softmax(q k^T / sqrt(d_head) + mask) v, so its probabilities are the
  ones the model used; dropout (if any) acts on the attention output, never on the recorded probabilities.
- Every block returns its attention probabilities, or writes them into arrays a trace passes (`outs`).
- A block given a `KVCache` appends its keys and values to it and attends to all of them, so a decoder
  steps one token at a time without recomputing the past (seqviz.core.generate, `translate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn


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


class KVCache:
    """Keys and values (B, h, T, dh) of one self-attention layer, in a buffer that grows by doubling."""

    def __init__(self) -> None:
        self.length = 0
        self._k: torch.Tensor | None = None
        self._v: torch.Tensor | None = None

    def extend(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append k, v (B, h, n, dh); return all keys and values so far (B, h, length, dh)."""
        end = self.length + k.shape[2]
        if self._k is None or end > self._k.shape[2]:
            capacity = max(end, 2 * self.length, 16)
            self._k, self._v = self._regrow(self._k, k, capacity), self._regrow(self._v, v, capacity)
        self._k[:, :, self.length : end] = k
        self._v[:, :, self.length : end] = v
        self.length = end
        return self._k[:, :, :end], self._v[:, :, :end]

    def _regrow(self, old: torch.Tensor | None, like: torch.Tensor, capacity: int) -> torch.Tensor:
        B, h, _, dh = like.shape
        new = like.new_empty(B, h, capacity, dh)
        if old is not None:
            new[:, :, : self.length] = old[:, :, : self.length]
        return new


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

    def forward(self, x, mask=None, memory=None, cache: KVCache | None = None, outs=(None, None)):
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


def init_weights(model: nn.Module) -> None:
    """GPT-2 style: weights and positions normal(0, 0.02), biases zero; LayerNorms keep (1, 0)."""
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, Embedding) and isinstance(module.position, nn.Parameter):
            nn.init.normal_(module.position, std=0.02)
