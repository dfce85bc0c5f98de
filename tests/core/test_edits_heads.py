"""AblateHead: one attention head's output zeroed before the output projection, against a reference that
computes attention explicitly (q, k, v per head, softmax, weighted values) and zeroes that head there.

The reference reuses each layer's norms, feed-forward and projection weights, but none of its attention
code: torch's Transformer layers (trace path), the project's Transformers (bundled, through TokenModel).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

import seqviz
from seqviz.core.gradients import gradient_rows
from seqviz.edits import AblateHead, SetHidden

TOL = {"rtol": 1e-5, "atol": 1e-5}


def explicit_attention(q, k, v, out_w, out_b, heads, mask=None, ablated=()):
    """q (T, d), k, v (S, d) already projected -> (T, d): softmax(q k^T / sqrt(dh) + mask) v per head,
    the heads in `ablated` zeroed, then the output projection."""
    dh = q.shape[1] // heads
    outputs = []
    for h in range(heads):
        cols = slice(h * dh, (h + 1) * dh)
        scores = q[:, cols] @ k[:, cols].T / math.sqrt(dh)
        if mask is not None:
            scores = scores + mask
        head = torch.softmax(scores, dim=-1) @ v[:, cols]  # (T, dh)
        outputs.append(torch.zeros_like(head) if h in ablated else head)
    return torch.cat(outputs, dim=1) @ out_w.T + (0 if out_b is None else out_b)


# torch's modules ---------------------------------------------------------------------------------
def torch_mha(mha: nn.MultiheadAttention, query, kv, mask, ablated):
    d = mha.embed_dim
    w, b = mha.in_proj_weight, mha.in_proj_bias
    q, k, v = (x @ w[i * d : (i + 1) * d].T + b[i * d : (i + 1) * d] for i, x in enumerate((query, kv, kv)))
    return explicit_attention(q, k, v, mha.out_proj.weight, mha.out_proj.bias, mha.num_heads, mask, ablated)


def torch_layer(layer, x, mask, memory, ablated_self, ablated_cross):
    """One TransformerEncoderLayer / DecoderLayer, post- or pre-norm, as its docs define it."""
    ff = lambda h: layer.linear2(layer.activation(layer.linear1(h)))  # noqa: E731
    sa = lambda h: torch_mha(layer.self_attn, h, h, mask, ablated_self)  # noqa: E731
    ca = lambda h: torch_mha(layer.multihead_attn, h, memory, None, ablated_cross)  # noqa: E731
    last = layer.norm3 if memory is not None else layer.norm2
    if layer.norm_first:
        x = x + sa(layer.norm1(x))
        if memory is not None:
            x = x + ca(layer.norm2(x))
        return x + ff(last(x))
    x = layer.norm1(x + sa(x))
    if memory is not None:
        x = layer.norm2(x + ca(x))
    return last(x + ff(x))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("decoder", [False, True])
def test_torch_stacks_equal_the_explicit_reference(norm_first, decoder):
    torch.manual_seed(3)
    kw = {"dim_feedforward": 32, "dropout": 0.0, "norm_first": norm_first}
    cls, stack_cls = (
        (nn.TransformerDecoderLayer, nn.TransformerDecoder)
        if decoder
        else (nn.TransformerEncoderLayer, nn.TransformerEncoder)
    )
    stack_kw = {} if decoder else {"enable_nested_tensor": False}  # (unbatched: nothing to nest)
    module = stack_cls(cls(16, 4, **kw), num_layers=2, **stack_kw).eval()
    x, memory = torch.randn(7, 16), (torch.randn(5, 16) if decoder else None)
    edits = [AblateHead(1, 2), AblateHead(0, 0)] + ([AblateHead(1, 3, "cross")] if decoder else [])
    options = {"memory": memory, "mask": "causal"} if decoder else {"mask": "causal"}
    before = copy.deepcopy(module.state_dict())
    tr = seqviz.trace(module, x, edits=edits, **options)
    mask = torch.zeros(7, 7).masked_fill_(torch.ones(7, 7, dtype=torch.bool).triu(1), float("-inf"))
    with torch.no_grad():
        h = x
        for i, layer in enumerate(module.layers):
            self_heads = {e.head for e in edits if e.layer == i and e.attention == "self"}
            cross_heads = {e.head for e in edits if e.layer == i and e.attention == "cross"}
            h = torch_layer(layer, h, mask, memory, self_heads, cross_heads)
            np.testing.assert_allclose(tr["hidden"][:, i, 0], h.numpy(), **TOL)
    plain = seqviz.trace(module, x, **options)
    np.testing.assert_allclose(tr["attention"][0], plain["attention"][0], atol=1e-6)  # it still attends
    assert tr.meta.edits == tuple(e.describe() for e in edits)
    assert all(torch.equal(module.state_dict()[k], v) for k, v in before.items())


# The project's Transformers -----------------------------------------------------------------------
def project_block(block, x, mask, memory, ablated_self, ablated_cross):
    """A seqviz Block (pre- or post-norm) with explicit attention."""

    def attend(mha, h, context, m, ablated):
        q, k, v = mha.query(h), mha.key(context), mha.value(context)
        return explicit_attention(q, k, v, mha.out.weight, mha.out.bias, mha.num_heads, m, ablated)

    parts = [(block.ln1, lambda h: attend(block.attn, h, h, mask, ablated_self))]
    if block.cross_attn is not None:
        parts.append((block.ln_cross, lambda h: attend(block.cross_attn, h, memory, None, ablated_cross)))
    parts.append((block.ln2, block.mlp))
    for norm, fn in parts:
        x = x + fn(norm(x)) if block.norm_first else norm(x + fn(x))
    return x


def project_stack(stack, tokens_x, causal, memory=None, ablated=None):
    """stack from token embeddings (T, d) -> hidden per block [(T, d)], output after the final norm."""
    T = tokens_x.shape[0]
    mask = torch.zeros(T, T).masked_fill_(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    x, hidden = tokens_x + stack.embed.position[:T], []
    for i, block in enumerate(stack.blocks):
        heads = {
            kind: {e.head for e in ablated if e.layer == i and e.attention == kind} for kind in ATTENTIONS
        }
        x = project_block(block, x, mask if causal else None, memory, heads["self"], heads["cross"])
        hidden.append(x)
    return hidden, stack.ln_f(x)


ATTENTIONS = ("self", "cross", "encoder")


@pytest.mark.parametrize("model_id", ["longrange-transformer", "pos-transformer", "sentiment-transformer"])
def test_bundled_transformers_equal_the_explicit_reference(model_id):
    model = seqviz.load_model(model_id)
    net, text = model.backbone, model.card.examples[0]
    edits = [AblateHead(0, 1), AblateHead(1, 3)]
    tr = seqviz.trace(model, text, edits=edits)
    ids = torch.as_tensor(model.tokenizer.encode(text))
    with torch.no_grad():
        hidden, out = project_stack(net.stack, net.stack.embed.token(ids), net.causal, ablated=edits)
        probs = torch.softmax(net.head(out), dim=-1)
    for i, h in enumerate(hidden):
        np.testing.assert_allclose(tr["hidden"][:, i, 0], h.numpy(), **TOL)
    np.testing.assert_allclose(tr["probs"], probs.numpy(), **TOL)
    assert not np.allclose(tr["probs"], seqviz.trace(model, text)["probs"], atol=1e-4)


def test_an_encoder_decoder_ablates_self_cross_and_encoder_heads():
    model = seqviz.load_model("dates-transformer")
    net, text = model.backbone, model.card.examples[0]
    edits = [AblateHead(0, 1, "cross"), AblateHead(0, 2), AblateHead(1, 0, "encoder")]
    tr = seqviz.trace(model, text, edits=edits)
    src, tgt = torch.as_tensor(tr.meta.source_ids), torch.as_tensor(tr.meta.decoder_input_ids)
    encoder_edits = [AblateHead(e.layer, e.head) for e in edits if e.attention == "encoder"]
    with torch.no_grad():
        enc_hidden, memory = project_stack(
            net.encoder, net.encoder.embed.token(src), False, ablated=encoder_edits
        )
        self_cross = [e for e in edits if e.attention != "encoder"]
        hidden, out = project_stack(net.decoder, net.decoder.embed.token(tgt), True, memory, self_cross)
        probs = torch.softmax(net.head(out), dim=-1)
    np.testing.assert_allclose(tr["encoder_hidden"][:, 1, 0], enc_hidden[1].numpy(), **TOL)
    np.testing.assert_allclose(tr["hidden"][:, 0, 0], hidden[0].numpy(), **TOL)
    np.testing.assert_allclose(tr["probs"], probs.numpy(), **TOL)
    assert list(tr.meta.output_ids) == probs.argmax(dim=-1).tolist()  # greedy decoding ran edited too


def test_gradients_with_an_ablated_head_are_of_the_edited_model():
    model = seqviz.load_model("sentiment-transformer")
    net, text = model.backbone, model.card.examples[0]
    edits = [AblateHead(1, 2)]
    ids = torch.as_tensor(model.tokenizer.encode(text))
    predicted = torch.as_tensor(seqviz.trace(model, text, edits=edits)["probs"].argmax(axis=1))
    double = copy.deepcopy(net).double()

    def log_probs(x: torch.Tensor) -> torch.Tensor:
        _, out = project_stack(double.stack, x, True, ablated=edits)
        return torch.log_softmax(double.head(out), dim=-1).gather(1, predicted[:, None])[:, 0]

    with torch.no_grad():
        x = double.stack.embed.token(ids)
    jac = torch.autograd.functional.jacobian(log_probs, x)  # (T, T, d)
    expected = torch.linalg.vector_norm(jac, dim=-1).numpy()
    rows = gradient_rows(model, text, range(len(ids)), edits=edits)
    np.testing.assert_allclose(rows, expected, rtol=1e-4, atol=1e-30)


# Validation -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "model, edit, message",
    [
        ("longrange-transformer", AblateHead(2, 0), "layer 2 is out of range; the model has layers 0\u20131"),
        ("longrange-transformer", AblateHead(0, 4), "head 4 is out of range; layer 0 has heads 0\u20133"),
        ("pos-transformer", AblateHead(0, 0, "cross"), "no 'cross' attention; it has 'self'"),
        ("longrange-lstm", AblateHead(0, 0), "a recurrent LSTM"),
        ("dates-gru-attention", AblateHead(0, 0), "GRU-attention model"),
        (
            "longrange-transformer",
            SetHidden(0, [0], [0], 0.0),
            "AblateHead\\(layer, head\\) edits its attention",
        ),
    ],
)
def test_wrong_edits_say_what_is_valid(model, edit, message):
    loaded = seqviz.load_model(model)
    with pytest.raises(ValueError, match=message):
        seqviz.trace(loaded, loaded.card.examples[0], edits=[edit])


def test_ablate_head_checks_its_fields_and_describes_itself():
    with pytest.raises(ValueError, match="attention is one of self, cross, encoder"):
        AblateHead(0, 0, "keys")
    with pytest.raises(ValueError, match="0-based"):
        AblateHead(-1, 0)
    assert AblateHead(1, 2).describe() == "head 2 of layer 1 ablated"
    assert AblateHead(0, 3, "cross").describe() == "cross-attention head 3 of layer 0 ablated"
