"""Where a Transformer's attention heads meet their output projection (for `AblateHead`).

Every multi-head attention here ends in one linear map over the heads' outputs laid side by side,
y = W_o [head_0; head_1; ...] + b, so the columns h*d_head .. (h+1)*d_head of W_o read head h alone.
`attention_modules(model, attention)` lists, per layer, that projection and the number of heads, for
the project's Transformers (also inside a TokenModel) and torch's Transformer encoder/decoder layers
and stacks (also the one inside the word_language_model example's Transformer); anything else is a
ValueError that says what the model is.
"""

from __future__ import annotations

from typing import Any

import torch.nn as nn


def attention_modules(model: Any, attention: str) -> list[tuple[nn.Linear, int]]:
    """[(output projection (d, h*d_head), heads)] per layer, for attention "self", "cross" or
    "encoder" (the trace's `attention`, `cross_attention`, `encoder_attention`)."""
    from seqviz.core.seqmodel import TokenModel
    from seqviz.core.word_lm_transformer import ExampleTransformer

    backbone = model.backbone if isinstance(model, TokenModel) else model
    if isinstance(backbone, ExampleTransformer):  # the word_language_model example: torch's own stack
        backbone = backbone.encoder
    found = _project_attention(backbone) or _torch_attention(backbone)
    if found is None:
        raise ValueError(f"AblateHead is for Transformers' attention heads; {_what(backbone)} has none")
    if attention not in found:
        has = ", ".join(repr(name) for name in found)
        raise ValueError(f"AblateHead: this model has no {attention!r} attention; it has {has}")
    return found[attention]


def _project_attention(backbone: Any) -> dict[str, list[tuple[nn.Linear, int]]] | None:
    """The project's Transformers: one stack (decoder-only, encoder) or an encoder and a decoder."""
    from seqviz.core.transformer import EncoderDecoderTransformer, _SingleStack

    def heads(blocks: Any, name: str) -> list[tuple[nn.Linear, int]]:
        return [(getattr(b, name).out, getattr(b, name).num_heads) for b in blocks]

    if isinstance(backbone, _SingleStack):
        return {"self": heads(backbone.stack.blocks, "attn")}
    if isinstance(backbone, EncoderDecoderTransformer):
        decoder, encoder = backbone.decoder.blocks, backbone.encoder.blocks
        return {
            "self": heads(decoder, "attn"),
            "cross": heads(decoder, "cross_attn"),
            "encoder": heads(encoder, "attn"),
        }
    return None


def _torch_attention(module: Any) -> dict[str, list[tuple[nn.Linear, int]]] | None:
    """torch's TransformerEncoder/Decoder layers and stacks: self_attn (and multihead_attn)."""
    from seqviz.core.transformer_trace import is_transformer

    if not is_transformer(module):
        return None
    layers = list(module.layers) if hasattr(module, "layers") else [module]
    found = {"self": [(layer.self_attn.out_proj, layer.self_attn.num_heads) for layer in layers]}
    if hasattr(layers[0], "multihead_attn"):
        found["cross"] = [(layer.multihead_attn.out_proj, layer.multihead_attn.num_heads) for layer in layers]
    return found


def _what(backbone: Any) -> str:
    """A reader's name for a model without multi-head attention."""
    from seqviz.core.bahdanau import BahdanauSeq2Seq

    if isinstance(backbone, BahdanauSeq2Seq):
        return "the GRU-attention model (one additive attention, no heads or output projection)"
    arch = getattr(getattr(backbone, "cfg", None), "arch", "") or getattr(backbone, "mode", "")
    if arch or isinstance(backbone, nn.RNNBase):
        name = str(arch).replace("RNN_TANH", "RNN").replace("RNN_RELU", "RNN").upper()
        return f"a recurrent {name} (ClampGate, SetHidden and SetCell edit its states)"
    return f"a {type(backbone).__name__}"
