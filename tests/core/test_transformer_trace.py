"""seqviz.trace on torch's own Transformer modules, checked against the modules themselves."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import torch
import torch.nn as nn

from seqviz.core.api import trace
from seqviz.core.transformer_trace import is_transformer, trace_transformer

TOL = 1e-5
MASKS = ("none", "bool-causal", "float-causal")
BOTH = [False, True]
# batch_first x norm_first x mask x layer/stack x (encoders: activation; decoders: a memory mask or not)
ENCODER_CASES = list(itertools.product(BOTH, BOTH, MASKS, ["layer", "stack"], ["relu", "gelu"]))
DECODER_CASES = list(itertools.product(BOTH, BOTH, MASKS, ["layer", "stack"], BOTH))


def make_mask(kind: str, T: int):
    if kind == "none":
        return None
    if kind == "bool-causal":
        return torch.ones(T, T, dtype=torch.bool).triu(1)
    return nn.Transformer.generate_square_subsequent_mask(T)  # float, -inf above the diagonal


def random_sizes(seed: int) -> dict:
    rnd = random.Random(seed)
    heads = rnd.choice([1, 2, 4])
    return {
        "d": heads * rnd.choice([2, 4, 6]),
        "heads": heads,
        "ff": rnd.choice([8, 16, 32]),
        "layers": rnd.randint(1, 3),
        "T": rnd.randint(1, 9),
        "S": rnd.randint(1, 7),
    }


def build(kind: str, layer_cls, n: dict, batch_first: bool, norm_first: bool, activation="relu", norm=None):
    torch.manual_seed(n["T"] * 7 + n["d"])
    layer = layer_cls(
        n["d"],
        n["heads"],
        n["ff"],
        dropout=0.1,
        activation=activation,
        batch_first=batch_first,
        norm_first=norm_first,
    )
    if kind == "layer":
        return layer.eval(), [layer]
    if layer_cls is nn.TransformerEncoderLayer:
        stack = nn.TransformerEncoder(layer, n["layers"], norm=norm, enable_nested_tensor=False)
    else:
        stack = nn.TransformerDecoder(layer, n["layers"], norm=norm)
    for p in stack.parameters():  # the clones start equal; make every layer different
        nn.init.normal_(p, std=0.3)
    return stack.eval(), list(stack.layers)


def reference_layer_inputs(layers, x, call):
    """Each layer's input and output, computed by torch's own layers one after another."""
    inputs, outputs = [], []
    with torch.no_grad():
        for layer in layers:
            inputs.append(x)
            x = call(layer, x)
            outputs.append(x)
    return inputs, outputs


def attention_reference(mha: nn.MultiheadAttention, layer, x, kv, mask, normed: bool):
    """What nn.MultiheadAttention returns for this layer's actual input (after its norm when norm_first)."""
    with torch.no_grad():
        q = layer(x) if normed else x
        kv = q if kv is None else kv
        return mha(q, kv, kv, attn_mask=mask, need_weights=True, average_attn_weights=False)[1]


def check_probabilities(probs: np.ndarray, mask) -> None:
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=TOL)
    if mask is not None:
        blocked = mask.numpy() if mask.dtype == torch.bool else np.isneginf(mask.numpy())
        assert np.all(probs[..., blocked] == 0.0)


@pytest.mark.parametrize("case", range(len(ENCODER_CASES)))
def test_encoder_trace_equals_module(case):
    batch_first, norm_first, mask_kind, kind, activation = ENCODER_CASES[case]
    n = random_sizes(case)
    model, layers = build(kind, nn.TransformerEncoderLayer, n, batch_first, norm_first, activation)
    x = torch.randn(n["T"], n["d"])
    mask = make_mask(mask_kind, n["T"])
    model.train()  # the trace must still be the eval computation, and leave the mode alone
    tr = trace_transformer(model, x, mask=mask)
    assert model.training and all(m.training for m in model.modules())
    model.eval()

    L = len(layers)
    assert tr["hidden"].shape == (n["T"], L, 1, n["d"])
    assert tr["attention"].shape == (L, n["heads"], n["T"], n["T"])
    with torch.no_grad():
        expected = model(x, mask) if kind == "layer" else model(x, mask=mask)
    np.testing.assert_allclose(tr["hidden"][:, -1, 0], expected.numpy(), atol=TOL)
    inputs, outputs = reference_layer_inputs(layers, x, lambda layer, h: layer(h, src_mask=mask))
    for i, layer in enumerate(layers):
        np.testing.assert_allclose(tr["hidden"][:, i, 0], outputs[i].numpy(), atol=TOL)
        ref = attention_reference(layer.self_attn, layer.norm1, inputs[i], None, mask, norm_first)
        np.testing.assert_allclose(tr["attention"][i], ref.numpy(), atol=TOL)
    check_probabilities(tr["attention"], mask)
    assert tr.meta.causal == (mask is not None or n["T"] == 1)
    assert tr.meta.kind == "encoder" and tr.meta.num_heads == n["heads"]


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_trace_matches_the_fused_fast_path(norm_first):
    """Batched, eval, no grad: torch takes its fused kernel; the trace must agree with it too."""
    n = {"d": 16, "heads": 4, "ff": 32, "layers": 3, "T": 11, "S": 1}
    model, _ = build("stack", nn.TransformerEncoderLayer, n, True, norm_first)
    x, mask = torch.randn(n["T"], n["d"]), make_mask("float-causal", n["T"])
    with torch.no_grad():
        fused = model(x[None], mask=mask)[0]
    np.testing.assert_allclose(trace(model, x, mask=mask)["hidden"][:, -1, 0], fused.numpy(), atol=TOL)


@pytest.mark.parametrize("case", range(len(DECODER_CASES)))
def test_decoder_trace_equals_module(case):
    batch_first, norm_first, mask_kind, kind, with_memory_mask = DECODER_CASES[case]
    n = random_sizes(100 + case)
    model, layers = build(kind, nn.TransformerDecoderLayer, n, batch_first, norm_first, "gelu")
    x, memory = torch.randn(n["T"], n["d"]), torch.randn(n["S"], n["d"])
    mask = make_mask(mask_kind, n["T"])
    memory_mask = None
    if with_memory_mask:
        memory_mask = torch.rand(n["T"], n["S"]) < 0.4
        memory_mask[:, 0] = False  # every row keeps one position
    tr = trace_transformer(model, x, mask=mask, memory=memory, memory_mask=memory_mask)

    L = len(layers)
    assert tr["cross_attention"].shape == (L, n["heads"], n["T"], n["S"])
    with torch.no_grad():
        expected = model(x, memory, tgt_mask=mask, memory_mask=memory_mask)
    np.testing.assert_allclose(tr["hidden"][:, -1, 0], expected.numpy(), atol=TOL)

    def run(layer, h):
        return layer(h, memory, tgt_mask=mask, memory_mask=memory_mask)

    inputs, outputs = reference_layer_inputs(layers, x, run)
    for i, layer in enumerate(layers):
        np.testing.assert_allclose(tr["hidden"][:, i, 0], outputs[i].numpy(), atol=TOL)
        ref = attention_reference(layer.self_attn, layer.norm1, inputs[i], None, mask, norm_first)
        np.testing.assert_allclose(tr["attention"][i], ref.numpy(), atol=TOL)
    check_probabilities(tr["attention"], mask)
    check_probabilities(tr["cross_attention"], memory_mask)


def test_decoder_cross_attention_equals_multihead_attention():
    n = {"d": 12, "heads": 3, "ff": 16, "layers": 2, "T": 5, "S": 8}
    for norm_first in (False, True):
        model, layers = build("stack", nn.TransformerDecoderLayer, n, False, norm_first)
        x, memory, mask = torch.randn(5, 12), torch.randn(8, 12), make_mask("bool-causal", 5)
        tr = trace(model, x, mask=mask, memory=memory)
        h = x
        with torch.no_grad():
            for i, layer in enumerate(layers):
                # the cross-attention query: the state after the self-attention sublayer
                if norm_first:
                    q = h + layer._sa_block(layer.norm1(h), mask, None)
                    q = layer.norm2(q)
                else:
                    q = layer.norm1(h + layer._sa_block(h, mask, None))
                mha = layer.multihead_attn
                ref = mha(q, memory, memory, need_weights=True, average_attn_weights=False)[1]
                np.testing.assert_allclose(tr["cross_attention"][i], ref.numpy(), atol=TOL)
                h = layer(h, memory, tgt_mask=mask)


@pytest.mark.parametrize("layer_cls", [nn.TransformerEncoderLayer, nn.TransformerDecoderLayer])
def test_final_norm_is_returned_separately(layer_cls):
    """With a final norm, hidden is what each layer computed and final_norm is what module(x) returns."""
    n = {"d": 8, "heads": 2, "ff": 16, "layers": 2, "T": 6, "S": 4}
    model, layers = build("stack", layer_cls, n, True, True, norm=nn.LayerNorm(8))
    x, memory = torch.randn(6, 8), torch.randn(4, 8)
    extra = {"memory": memory} if layer_cls is nn.TransformerDecoderLayer else {}
    tr = trace(model, x, mask="causal", **extra)
    with torch.no_grad():
        expected = model(x, *extra.values(), make_mask("bool-causal", 6))
        before_norm = x
        for layer in layers:
            before_norm = layer(before_norm, *extra.values(), make_mask("bool-causal", 6))
    assert tr.meta.extra["final_norm"] is True
    np.testing.assert_allclose(tr["final_norm"], expected.numpy(), atol=TOL)
    np.testing.assert_allclose(tr["hidden"][:, -1, 0], before_norm.numpy(), atol=TOL)


@pytest.mark.parametrize("kind", ["encoder", "decoder"])
def test_causal_trace_of_a_prefix_is_the_prefix_of_the_trace(kind):
    n = {"d": 16, "heads": 4, "ff": 32, "layers": 3, "T": 10, "S": 5}
    layer_cls = nn.TransformerEncoderLayer if kind == "encoder" else nn.TransformerDecoderLayer
    model, _ = build("stack", layer_cls, n, False, False)
    x, memory = torch.randn(10, 16), {"memory": torch.randn(5, 16)} if kind == "decoder" else {}
    full = trace(model, x, mask="causal", **memory)
    for k in (1, 4, 9):
        part = trace(model, x[:k], mask="causal", **memory)
        np.testing.assert_allclose(part["hidden"], full["hidden"][:k], atol=TOL)
        np.testing.assert_allclose(part["attention"], full["attention"][:, :, :k, :k], atol=TOL)
        assert np.all(full["attention"][:, :, :k, k:] == 0)  # a step never sees the future


def test_is_transformer_and_labels():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    assert is_transformer(layer) and not is_transformer(nn.LSTM(3, 4)) and not is_transformer(nn.Linear(2, 2))
    tr = trace(layer, torch.randn(3, 8), tokens=["a", "b", "c"])
    assert tr.tokens == ["a", "b", "c"] and tr.meta.arch == "transformer" and tr.meta.causal is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inputs": torch.zeros(0, 8)}, "empty"),
        ({"inputs": torch.zeros(4, 6)}, "d_model is 8"),
        ({"inputs": torch.zeros(1, 4, 8)}, "one unbatched sequence"),
        ({"inputs": torch.zeros(4, 8, dtype=torch.long)}, "float"),
        ({"mask": torch.zeros(3, 3, dtype=torch.bool)}, r"mask must have shape \(4, 4\)"),
        ({"mask": torch.zeros(4, 4, dtype=torch.int32)}, "bool"),
        ({"mask": torch.ones(4, 4, dtype=torch.bool)}, "blocks every position"),
        ({"mask": "sideways"}, "causal"),
        ({"memory": torch.zeros(3, 8)}, "memory= is for decoders"),
        ({"tokens": ["a"]}, "1 labels for 4 steps"),
    ],
)
def test_bad_input_raises_a_clear_value_error(kwargs, message):
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    args = {"inputs": torch.randn(4, 8), **kwargs}
    with pytest.raises(ValueError, match=message):
        trace_transformer(layer, **args)


def test_decoder_bad_memory():
    layer = nn.TransformerDecoderLayer(8, 2, 16)
    x = torch.randn(4, 8)
    with pytest.raises(ValueError, match="needs memory="):
        trace_transformer(layer, x)
    with pytest.raises(ValueError, match="memory is empty"):
        trace_transformer(layer, x, memory=torch.zeros(0, 8))
    with pytest.raises(ValueError, match=r"memory_mask must have shape \(4, 3\)"):
        trace_transformer(layer, x, memory=torch.randn(3, 8), memory_mask=torch.zeros(4, 4, dtype=torch.bool))


def test_layers_without_bias_and_with_a_custom_activation():
    torch.manual_seed(3)
    layer = nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, activation=torch.tanh, bias=False, layer_norm_eps=1e-3
    )
    stack = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    x, mask = torch.randn(5, 8), make_mask("bool-causal", 5)
    with torch.no_grad():
        expected = stack(x, mask=mask)
    np.testing.assert_allclose(trace(stack, x, mask=mask)["hidden"][:, -1, 0], expected.numpy(), atol=TOL)
