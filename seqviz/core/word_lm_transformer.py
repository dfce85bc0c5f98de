"""The Transformer of PyTorch's word_language_model example, as a seqviz TokenModel backbone.

The example's `TransformerModel` computes, for token ids (T,):
    x = input_emb(ids) * sqrt(ninp) + pe[:T]                (T, d)   pe: fixed sinusoids (its buffer)
    h = TransformerEncoder(x, causal mask)                  (T, d)   torch's post-norm layers; since
                                                                     2023 with a final LayerNorm
    log_softmax(decoder(h))                                 (T, V)
`ExampleTransformer` holds the same modules (torch's own TransformerEncoder and its layers) and is
traced by seqviz.core.transformer_trace, so its attention is exactly what torch computes. Dropout is
off: seqviz traces in eval mode, as the example evaluates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from seqviz.core.inference import eval_mode
from seqviz.core.top_outputs import head_outputs
from seqviz.core.trace import Trace
from seqviz.core.transformer_trace import trace_transformer

ACTIVATIONS = ("relu", "gelu")


@dataclass
class ExampleTransformerConfig:
    """Sizes and the facts the example's state dict does not record (its defaults here)."""

    vocab_size: int
    d_model: int  # the example's ninp (--emsize)
    num_heads: int  # --nhead
    dim_feedforward: int  # --nhid
    num_layers: int  # --nlayers
    max_len: int = 5000  # rows of the positional encoding
    final_norm: bool = True  # False for the example before August 2023
    norm_first: bool = False
    activation: str = "relu"
    layer_norm_eps: float = 1e-5
    input_scale: float = 0.0  # sqrt(ninp); 0 means sqrt(d_model)


class ExampleTransformer(nn.Module):
    """embedding (V, d), positions pe (max_len, d), torch's encoder stack, decoder (V, d)."""

    config_class = ExampleTransformerConfig
    causal = True
    trace_options = frozenset()

    def __init__(self, cfg: ExampleTransformerConfig) -> None:
        super().__init__()
        if cfg.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, not {cfg.activation!r}")
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.register_buffer("pe", sinusoids(cfg.max_len, cfg.d_model))
        layer = nn.TransformerEncoderLayer(
            cfg.d_model,
            cfg.num_heads,
            cfg.dim_feedforward,
            dropout=0.0,
            activation=cfg.activation,
            layer_norm_eps=cfg.layer_norm_eps,
            norm_first=cfg.norm_first,
        )
        norm = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps) if cfg.final_norm else None
        self.encoder = nn.TransformerEncoder(layer, cfg.num_layers, norm=norm, enable_nested_tensor=False)
        self.decoder = nn.Linear(cfg.d_model, cfg.vocab_size)

    @property
    def input_scale(self) -> float:
        return self.cfg.input_scale or math.sqrt(self.cfg.d_model)

    def encoder_input(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, T) -> the encoder's input (B, T, d): scaled embeddings plus positions."""
        self._check_length(ids.shape[-1])
        return self.embedding(ids) * self.input_scale + self.pe[: ids.shape[-1]]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, T) -> logits (B, T, V), under the causal mask."""
        x = self.encoder_input(ids).transpose(0, 1)  # (T, B, d): the layers are not batch-first
        mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[-1], dtype=x.dtype)
        return self.decoder(self.encoder(x, mask=mask, is_causal=True)).transpose(0, 1)

    @torch.no_grad()
    def trace_ids(self, ids: list[int]) -> Trace:
        """hidden (T, L, 1, d), attention (L, h, T, T), final_norm (T, d) when the stack has one,
        probs (T, V) or, for a large vocabulary, the top outputs (seqviz.core.top_outputs)."""
        with eval_mode(self):
            x = self.encoder_input(torch.as_tensor(ids, dtype=torch.long))  # (T, d)
            tr = trace_transformer(self.encoder, x, mask="causal")
            top = tr["final_norm"] if self.cfg.final_norm else tr["hidden"][:, -1, 0]  # (T, d)
            outputs = head_outputs(self.decoder, torch.from_numpy(top), ids[1:])  # probs, or top-k
        arrays: dict[str, Any] = {**tr, **outputs}
        meta = tr.meta.replace(kind="decoder", token_ids=list(ids), input_scale=self.input_scale)
        return Trace(arrays, tokens=[str(i) for i in ids], meta=meta)

    def _check_length(self, length: int) -> None:
        if length > self.cfg.max_len:
            raise ValueError(
                f"the input has {length} tokens; this model has positions for {self.cfg.max_len}"
            )


def sinusoids(max_len: int, d_model: int) -> torch.Tensor:
    """The example's positional encoding (max_len, d): sin at even, cos at odd features, wavelengths
    from 2*pi to 10000*2*pi (used when a file lacks its `pe` buffer; the buffer wins)."""
    position = torch.arange(max_len, dtype=torch.float).unsqueeze(1)  # (max_len, 1)
    frequency = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(position * frequency)
    pe[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
    return pe


BACKBONES: dict[str, type[nn.Module]] = {"ExampleTransformer": ExampleTransformer}
