"""The project's three Transformers: traces equal forward, causality, attention as torch computes it."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import asdict

import numpy as np
import pytest
import torch
import torch.nn as nn

from seqviz.core.api import trace
from seqviz.core.seqmodel import TokenModel, backbone_classes, fresh_model
from seqviz.core.tokenize import Tokenizer
from seqviz.core.transformer import (
    BACKBONES,
    DecoderOnlyTransformer,
    EncoderDecoderTransformer,
    EncoderTransformer,
    TransformerConfig,
)

TOL = 1e-5
SINGLE = [DecoderOnlyTransformer, EncoderTransformer]
VARIANTS = list(itertools.product(["learned", "sinusoidal"], [True, False]))  # positions x norm_first


def random_config(seed: int, positions="learned", norm_first=True, **kw) -> TransformerConfig:
    rnd = random.Random(seed)
    heads = rnd.choice([1, 2, 4])
    sizes = {
        "vocab_size": rnd.randint(5, 20),
        "num_outputs": rnd.randint(3, 20),
        "d_model": heads * rnd.choice([2, 4, 8]),
        "num_heads": heads,
        "num_layers": rnd.randint(1, 3),
        "max_len": 24,
        "d_ff": rnd.choice([None, 16]),
        "positions": positions,
        "norm_first": norm_first,
        "activation": rnd.choice(["gelu", "relu"]),
    }
    return TransformerConfig(**{**sizes, **kw})


def model_of(cls, seed: int, **kw):
    torch.manual_seed(seed)
    return cls(random_config(seed, **kw)).eval()


def random_ids(cfg_vocab: int, T: int, seed: int) -> list[int]:
    return torch.randint(0, cfg_vocab, (T,), generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.mark.parametrize(("cls", "variant", "seed"), list(itertools.product(SINGLE, VARIANTS, range(3))))
def test_trace_equals_forward(cls, variant, seed):
    positions, norm_first = variant
    model = model_of(cls, seed, positions=positions, norm_first=norm_first)
    cfg = model.cfg
    ids = random_ids(cfg.vocab_size, 1 + seed * 7, seed)
    tr = model.trace_ids(ids)
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0]
    T = len(ids)
    assert tr["hidden"].shape == (T, cfg.num_layers, 1, cfg.d_model)
    assert tr["attention"].shape == (cfg.num_layers, cfg.num_heads, T, T)
    np.testing.assert_allclose(tr["probs"], torch.softmax(logits, -1).numpy(), atol=TOL)
    top = model.stack.ln_f(torch.from_numpy(tr["hidden"][:, -1, 0]))  # the head reads the last layer
    np.testing.assert_allclose(tr["probs"], torch.softmax(model.head(top), -1).detach().numpy(), atol=TOL)
    np.testing.assert_allclose(tr["attention"].sum(-1), 1.0, atol=TOL)
    meta = tr.meta.to_dict()
    assert (meta["arch"], meta["kind"], meta["causal"]) == ("transformer", cls.kind, cls.causal)
    sizes = (meta["num_layers"], meta["num_heads"], meta["d_model"])
    assert sizes == (cfg.num_layers, cfg.num_heads, cfg.d_model)
    assert meta["num_directions"] == 1 and meta["hidden_size"] == cfg.d_model


def test_batched_forward_equals_one_trace_per_row():
    model = model_of(DecoderOnlyTransformer, 3)
    batch = torch.randint(0, model.cfg.vocab_size, (3, 9))
    with torch.no_grad():
        logits = model(batch)
    for row in range(3):
        probs = model.trace_ids(batch[row].tolist())["probs"]
        np.testing.assert_allclose(probs, torch.softmax(logits[row], -1).numpy(), atol=TOL)


@pytest.mark.parametrize("norm_first", [True, False])
def test_attention_equals_torch_multihead_attention(norm_first):
    """The recorded probabilities are what nn.MultiheadAttention computes with the same weights."""
    model = model_of(DecoderOnlyTransformer, 5, norm_first=norm_first, num_layers=2, num_heads=2, d_model=8)
    ids = random_ids(model.cfg.vocab_size, 7, 1)
    tr = model.trace_ids(ids)
    with torch.no_grad():
        x = model.stack.embed(torch.tensor([ids]))[0]  # (T, d): the first layer's input
        for i, block in enumerate(model.stack.blocks):
            mha = nn.MultiheadAttention(8, 2)
            a = block.attn
            mha.in_proj_weight.copy_(torch.cat([a.query.weight, a.key.weight, a.value.weight]))
            mha.in_proj_bias.copy_(torch.cat([a.query.bias, a.key.bias, a.value.bias]))
            h = block.ln1(x) if norm_first else x
            mask = torch.ones(7, 7, dtype=torch.bool).triu(1)
            ref = mha(h, h, h, attn_mask=mask, need_weights=True, average_attn_weights=False)[1]
            np.testing.assert_allclose(tr["attention"][i], ref.numpy(), atol=TOL)
            x = torch.from_numpy(tr["hidden"][:, i, 0])


@pytest.mark.parametrize("variant", VARIANTS)
def test_decoder_prefix_trace_is_prefix_of_trace(variant):
    model = model_of(DecoderOnlyTransformer, 11, positions=variant[0], norm_first=variant[1])
    ids = random_ids(model.cfg.vocab_size, 15, 2)
    full = model.trace_ids(ids)
    for k in (1, 6, 14):
        part = model.trace_ids(ids[:k])
        for name in ("hidden", "probs"):
            np.testing.assert_allclose(part[name], full[name][:k], atol=TOL)
        np.testing.assert_allclose(part["attention"], full["attention"][:, :, :k, :k], atol=TOL)
    assert np.all(np.triu(full["attention"], 1) == 0)  # a step never sees the future


def test_encoder_is_bidirectional():
    model = model_of(EncoderTransformer, 4)
    ids = random_ids(model.cfg.vocab_size, 8, 3)
    changed = [*ids[:-1], (ids[-1] + 1) % model.cfg.vocab_size]
    a, b = model.trace_ids(ids), model.trace_ids(changed)
    assert not np.allclose(a["hidden"][0], b["hidden"][0], atol=1e-4)  # the first step saw the last token
    future = np.triu(np.ones((8, 8), bool), 1)
    assert np.all(a["attention"][..., future] > 0)


@pytest.mark.parametrize(("variant", "seed"), list(itertools.product(VARIANTS, range(2))))
def test_encoder_decoder_trace_pair_equals_forward(variant, seed):
    torch.manual_seed(seed)
    cfg = random_config(seed, positions=variant[0], norm_first=variant[1], num_decoder_layers=seed + 1)
    model = EncoderDecoderTransformer(cfg).eval()
    src, tgt = random_ids(cfg.vocab_size, 5 + seed, seed), random_ids(cfg.num_outputs, 3 + 4 * seed, seed + 9)
    tr = model.trace_pair(src, tgt)
    with torch.no_grad():
        logits = model(torch.tensor([src]), torch.tensor([tgt]))[0]
    S, T, L, L_enc, h, d = len(src), len(tgt), seed + 1, cfg.num_layers, cfg.num_heads, cfg.d_model
    assert tr["hidden"].shape == (T, L, 1, d) and tr["attention"].shape == (L, h, T, T)
    assert tr["cross_attention"].shape == (L, h, T, S)
    assert tr["encoder_hidden"].shape == (S, L_enc, 1, d)
    assert tr["encoder_attention"].shape == (L_enc, h, S, S)
    np.testing.assert_allclose(tr["probs"], torch.softmax(logits, -1).numpy(), atol=TOL)
    for name in ("attention", "cross_attention", "encoder_attention"):
        np.testing.assert_allclose(tr[name].sum(-1), 1.0, atol=TOL)
    assert np.all(np.triu(tr["attention"], 1) == 0)
    assert list(tr.meta.source_ids) == src and list(tr.meta.decoder_input_ids) == tgt
    assert tr.meta.kind == "encoder-decoder"
    part = model.trace_pair(src, tgt[:2])  # the decoder is causal in its own steps
    np.testing.assert_allclose(part["cross_attention"], tr["cross_attention"][:, :, :2], atol=TOL)


def test_encoder_decoder_translates_and_traces_its_translation():
    torch.manual_seed(0)
    cfg = random_config(1, bos_id=0, eos_id=1, num_outputs=6)
    model = EncoderDecoderTransformer(cfg).eval()
    src = random_ids(cfg.vocab_size, 6, 5)
    out = model.translate(src, max_len=10)
    assert out == model.translate(src, max_len=10) and 1 <= len(out) <= 10
    assert 1 not in out[:-1]  # decoding stops at eos
    tr = model.trace_ids(src, max_len=10)
    assert list(tr.meta.output_ids) == out and tr.num_steps == len(out)
    assert list(tr.meta.decoder_input_ids) == [0, *out[:-1]]
    assert tr["probs"].argmax(-1).tolist() == out  # row t produced output token t
    assert tr["cross_attention"].shape[-1] == len(src)


@pytest.mark.parametrize("cls", [*SINGLE, EncoderDecoderTransformer])
def test_bad_input_raises_a_clear_value_error(cls):
    model = model_of(cls, 2)
    trace_fn = model.trace_ids
    with pytest.raises(ValueError, match="empty"):
        trace_fn([])
    with pytest.raises(ValueError, match="only 24 positions"):
        trace_fn([0] * 25)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        trace_fn([0, model.cfg.vocab_size])


def test_config_roundtrip_and_backbone_registry():
    for name, cls in BACKBONES.items():
        assert backbone_classes()[name] is cls and cls.config_class is TransformerConfig
    cfg = random_config(3, positions="sinusoidal", num_decoder_layers=2)
    again = TransformerConfig(**json.loads(json.dumps(asdict(cfg))))
    assert again == cfg
    for cls in BACKBONES.values():
        a, b = cls(cfg).eval(), cls(again).eval()
        b.load_state_dict(a.state_dict())
        args = [torch.tensor([[1, 2, 3]])] * (2 if cls is EncoderDecoderTransformer else 1)
        with torch.no_grad():
            assert torch.equal(a(*args), b(*args))
    with pytest.raises(ValueError, match="divisible"):
        TransformerConfig(vocab_size=5, num_outputs=5, d_model=10, num_heads=4)


def test_token_model_wraps_transformers():
    model = fresh_model("transformer")
    assert model.arch == "transformer" and model.causal
    tr = trace(model, "hello")
    assert tr.tokens == list("hello") and tr["attention"].shape == (2, 4, 5, 5)
    tok = Tokenizer(list("abc"), "char")
    backbone = EncoderTransformer(random_config(0, vocab_size=4, num_outputs=2))
    enc = TokenModel(backbone, tok, "classify", ["n", "y"])
    assert enc.causal is False and trace(enc, "abca")["probs"].shape == (4, 2)
    rebuilt = TokenModel.from_metadata(json.loads(json.dumps(enc.metadata())))
    rebuilt.load_state_dict(enc.state_dict())
    np.testing.assert_array_equal(trace(rebuilt, "abca")["probs"], trace(enc, "abca")["probs"])


def test_seqviz_trace_takes_a_bare_model_and_ids():
    model = model_of(DecoderOnlyTransformer, 1)
    np.testing.assert_array_equal(trace(model, [1, 2, 3])["probs"], model.trace_ids([1, 2, 3])["probs"])
    s2s = model_of(EncoderDecoderTransformer, 1)
    pair = trace(s2s, torch.tensor([1, 2]), target=[1, 0, 2])
    assert pair["cross_attention"].shape[-2:] == (3, 2)


def test_dropout_does_not_change_the_trace_and_mode_is_restored():
    model = model_of(DecoderOnlyTransformer, 6, dropout=0.5).train()
    ids = [1, 2, 3, 4]
    a, b = model.trace_ids(ids), model.trace_ids(ids)
    np.testing.assert_array_equal(a["probs"], b["probs"])
    assert model.training


def test_token_model_seq2seq_with_the_encoder_decoder():
    src_tok = Tokenizer(list("abc"), "char")
    tgt_tok = Tokenizer(["<pad>", "<s>", "</s>", "x", "y"], "char")  # bos 1, eos 2 (the defaults)
    torch.manual_seed(2)
    cfg = random_config(2, vocab_size=len(src_tok.vocab), num_outputs=len(tgt_tok.vocab), max_len=12)
    model = TokenModel(EncoderDecoderTransformer(cfg), src_tok, "seq2seq", target_tokenizer=tgt_tok).eval()
    tr = trace(model, "abcab")
    out = model.backbone.translate(src_tok.encode("abcab"))
    assert tr.tokens == tgt_tok.decode(out) and tr.source_tokens == list("abcab")
    assert tr["cross_attention"].shape[-2:] == (len(out), 5)
