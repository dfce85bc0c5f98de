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

The three models and their trace helpers are here; the configuration, embedding, attention, the key/value
cache, blocks and stacks are in seqviz.core.transformer_blocks (TransformerConfig is importable from here).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn

from seqviz.core.inference import decode_tokens, eval_mode, pick_token
from seqviz.core.trace import Trace
from seqviz.core.transformer_blocks import (
    KVCache,
    Stack,
    StackRun,
    TransformerConfig,
    causal_mask,
    init_weights,
)

__all__ = [
    "BACKBONES",
    "DecoderOnlyTransformer",
    "EncoderDecoderTransformer",
    "EncoderTransformer",
    "TransformerConfig",
    "attention_array",
    "check_ids",
    "hidden_array",
    "model_meta",
]


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
        init_weights(self)

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
        """hidden (T, L, 1, d), attention (L, h, T, T), probs (T, num_outputs); meta.token_ids = ids."""
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
        init_weights(self)

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
        bos = self.cfg.bos_id if bos_id is None else bos_id
        eos = self.cfg.eos_id if eos_id is None else eos_id
        limit = min(max_len or self.cfg.max_len, self.cfg.max_len)
        src = check_ids(src_ids, self.cfg.vocab_size, self.cfg.max_len, "src_ids")
        with eval_mode(self):
            memory = self.encode(src).output  # (1, S, d)
            caches = [KVCache() for _ in range(self.num_decoder_layers)]

            def next_logits(out: list[int]) -> torch.Tensor:
                token = out[-1] if out else bos  # only the newest token: the caches hold the others
                logits, _ = self.decode(torch.tensor([[token]]), memory, caches, start=len(out))
                return logits[0, -1]  # (V,)

            return decode_tokens(next_logits, limit, pick_token, stop=eos)

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
        tr.meta = tr.meta.replace(output_ids=out)
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


BACKBONES: dict[str, type[nn.Module]] = {
    "DecoderOnlyTransformer": DecoderOnlyTransformer,
    "EncoderTransformer": EncoderTransformer,
    "EncoderDecoderTransformer": EncoderDecoderTransformer,
}
