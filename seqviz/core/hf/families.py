"""Which Hugging Face architectures seqviz traces, and where their layers are.

A family is a set of config `model_type`s built alike: where the blocks of each stack are, which module
of a block is its self-attention (and cross-attention), which linear map reads the heads' outputs side
by side (the output projection that `AblateHead` cuts a head out of), and the norm after the last block.
Paths are dotted attribute paths (list indices as numbers) from the model's base model (`model.base_model`:
BertModel, GPT2Model, BartModel, ...; T5 is its own base) or from a block.

Every attention module listed returns its weights last (transformers' eager attention):
`(output, weights)`, or `(output, position_bias, weights)` for T5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ENCODER, DECODER, ENCODER_DECODER = "encoder", "decoder", "encoder-decoder"


@dataclass(frozen=True)
class Stack:
    """One stack of blocks, found from the base model."""

    blocks: str  # the ModuleList of blocks
    self_attn: str  # in a block: the self-attention module
    self_out: str  # in a block: the self-attention's output projection
    cross_attn: str = ""  # in a block: the cross-attention module (decoders of encoder-decoders)
    cross_out: str = ""
    final_norm: str = ""  # the norm applied after the last block ("" when there is none)


@dataclass(frozen=True)
class Family:
    name: str  # how a person calls it: "BERT", "Llama", ...
    kind: str  # ENCODER, DECODER or ENCODER_DECODER
    stack: Stack  # the only stack, or the decoder of an encoder-decoder
    encoder: Stack | None = None  # encoder-decoders: the encoder


_BERT = Stack("encoder.layer", "attention.self", "attention.output.dense")
_LLAMA = Stack("layers", "self_attn", "self_attn.o_proj", final_norm="norm")
_BART_ENCODER = Stack("encoder.layers", "self_attn", "self_attn.out_proj")
_BART_DECODER = Stack(
    "decoder.layers", "self_attn", "self_attn.out_proj", "encoder_attn", "encoder_attn.out_proj"
)

FAMILIES: dict[str, Family] = {
    "bert": Family("BERT", ENCODER, _BERT),
    "roberta": Family("RoBERTa", ENCODER, _BERT),
    "xlm-roberta": Family("XLM-RoBERTa", ENCODER, _BERT),
    "distilbert": Family("DistilBERT", ENCODER, Stack("transformer.layer", "attention", "attention.out_lin")),
    "gpt2": Family("GPT-2", DECODER, Stack("h", "attn", "attn.c_proj", final_norm="ln_f")),
    "llama": Family("Llama", DECODER, _LLAMA),
    "mistral": Family("Mistral", DECODER, _LLAMA),
    "qwen2": Family("Qwen2", DECODER, _LLAMA),
    "qwen3": Family("Qwen3", DECODER, _LLAMA),
    "bart": Family("BART", ENCODER_DECODER, _BART_DECODER, _BART_ENCODER),
    "marian": Family("Marian", ENCODER_DECODER, _BART_DECODER, _BART_ENCODER),
    "t5": Family(
        "T5",
        ENCODER_DECODER,
        Stack(
            "decoder.block",
            "layer.0.SelfAttention",
            "layer.0.SelfAttention.o",
            "layer.1.EncDecAttention",
            "layer.1.EncDecAttention.o",
            final_norm="decoder.final_layer_norm",
        ),
        Stack(
            "encoder.block",
            "layer.0.SelfAttention",
            "layer.0.SelfAttention.o",
            final_norm="encoder.final_layer_norm",
        ),
    ),
}


def supported_message() -> str:
    """The families that work, for messages: 'encoders (BERT, ...), decoders (...), ...'."""
    groups = []
    for kind, label in ((ENCODER, "encoders"), (DECODER, "decoders"), (ENCODER_DECODER, "encoder-decoders")):
        names = ", ".join(f"{f.name} ({t})" for t, f in FAMILIES.items() if f.kind == kind)
        groups.append(f"{label}: {names}")
    return "; ".join(groups)


def family_of(model_type: str) -> Family | None:
    return FAMILIES.get(str(model_type).replace("_", "-"))


def find(root: Any, path: str) -> Any:
    """The submodule at a dotted path ("layer.0.SelfAttention"); numbers index a ModuleList."""
    module = root
    for part in path.split("."):
        module = module[int(part)] if part.isdigit() else getattr(module, part)
    return module


def blocks(base: Any, stack: Stack) -> list[Any]:
    return list(find(base, stack.blocks))


def final_norm(base: Any, stack: Stack) -> Any | None:
    return find(base, stack.final_norm) if stack.final_norm else None


def head_count(config: Any, family: Family, which: str) -> int:
    """Attention heads per layer of `which` stack ("decoder" is the only stack of encoders/decoders)."""
    names = {
        "encoder": ("encoder_attention_heads", "num_heads", "num_attention_heads", "n_heads"),
        "decoder": ("decoder_attention_heads", "num_heads", "num_attention_heads", "n_head", "n_heads"),
    }[which]
    if family.kind != ENCODER_DECODER:
        names = ("num_attention_heads", "n_head", "n_heads")
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    raise ValueError(f"the config of this {family.name} model does not say how many attention heads it has")
