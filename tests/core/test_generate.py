"""Stepping and generation: appending a token gives the same numbers as tracing the longer sequence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqviz.core.api import trace
from seqviz.core.generate import append_token, generate, start
from seqviz.core.inference import pick_token
from seqviz.core.seqmodel import fresh_model
from seqviz.core.transformer import DecoderOnlyTransformer, EncoderTransformer, TransformerConfig
from seqviz.core.transformer_blocks import KVCache

TOL = 1e-5


def small_model(seed=0, **kw) -> DecoderOnlyTransformer:
    torch.manual_seed(seed)
    base = {"vocab_size": 13, "num_outputs": 13, "d_model": 16, "num_heads": 4, "num_layers": 3}
    base["max_len"] = 200
    return DecoderOnlyTransformer(TransformerConfig(**{**base, **kw})).eval()


def assert_same_trace(a, b) -> None:
    assert a.names() == b.names()
    for name in a.names():
        np.testing.assert_allclose(a[name], b[name], atol=TOL, err_msg=name)
    assert a.tokens == b.tokens


@pytest.mark.parametrize("variant", [{}, {"positions": "sinusoidal"}, {"norm_first": False}])
def test_append_equals_full_trace(variant):
    model = small_model(1, **variant)
    ids = torch.randint(0, 13, (90,), generator=torch.Generator().manual_seed(0)).tolist()
    state = start(model, ids[:3])
    for t in range(3, 90):  # past the first buffer capacity (3 + 64), so the buffers grow too
        tr = state.append(ids[t])
        if t in (3, 40, 89):
            assert_same_trace(tr, model.trace_ids(ids[: t + 1]))
    assert list(tr.meta.token_ids) == ids and tr["attention"].shape == (3, 4, 90, 90)


def test_older_traces_do_not_change_when_the_state_grows():
    model = small_model(2)
    state = start(model, [1, 2, 3])
    before = state.trace
    copies = {name: before[name].copy() for name in before}
    after = state.append(4)
    for name, arr in copies.items():
        np.testing.assert_array_equal(before[name], arr)
    assert before.num_steps == 3 and after.num_steps == 4
    assert np.all(after["attention"][:, :, :3, 3] == 0)  # old rows did not see the new token


def test_greedy_generation_is_deterministic_and_picks_the_argmax():
    model = small_model(3)
    tr = generate(model, [1, 2], n=12)
    ids = list(tr.meta.token_ids)
    assert len(ids) == 14 and tr.meta.prompt_length == 2
    assert list(generate(model, [1, 2], n=12).meta.token_ids) == ids
    full = model.trace_ids(ids)
    assert ids[2:] == full["probs"][1:-1].argmax(-1).tolist()  # each token is the previous row's argmax
    assert_same_trace(tr, full)


def test_sampling_is_seeded():
    model = small_model(4)
    a = list(generate(model, [5], n=30, temperature=2.0, seed=7).meta.token_ids)
    assert a == list(generate(model, [5], n=30, temperature=2.0, seed=7).meta.token_ids)
    assert a != generate(model, [5], n=30, temperature=2.0, seed=8).meta.token_ids
    logits = np.array([0.0, 10.0, 0.0])
    assert pick_token(logits) == 1
    draws = [pick_token(logits, 100.0, np.random.default_rng(s)) for s in range(30)]
    assert len(set(draws)) == 3  # a high temperature flattens the distribution


def test_generation_stops_at_the_models_positions():
    model = small_model(5, max_len=10)
    assert len(list(generate(model, [1, 2, 3], n=50).meta.token_ids)) == 10
    state = start(model, list(range(10)))
    with pytest.raises(ValueError, match="only 10 positions"):
        state.append(1)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        start(model, [1]).append(99)


def test_append_token_on_a_token_model_trace_adds_labels_and_matches_a_full_trace():
    model = fresh_model("transformer")
    tr = trace(model, "the quick")  # a trace that did not come from a DecoderState
    first = append_token(model, tr, model.tokenizer.encode("b")[0])
    grown = append_token(model, first, model.tokenizer.encode("r")[0])
    assert_same_trace(grown, trace(model, "the quickbr"))
    assert grown.meta.task == "lm" and list(grown.meta.output_labels) == model.output_labels
    # a branch from the older trace: the newer one must stay as it was
    saved = grown["attention"].copy()
    other = append_token(model, tr, model.tokenizer.encode("x")[0])
    assert_same_trace(other, trace(model, "the quickx"))
    branch = append_token(model, first, model.tokenizer.encode("u")[0])  # first's state is already ahead
    assert_same_trace(branch, trace(model, "the quickbu"))
    np.testing.assert_array_equal(grown["attention"], saved)


def test_generate_with_a_token_model_and_text():
    model = fresh_model("transformer")
    tr = generate(model, "ab", n=5)
    assert tr.tokens[:2] == ["a", "b"] and len(tr.tokens) == 7
    assert tr.tokens == model.tokenizer.decode(list(tr.meta.token_ids))


def test_only_decoder_only_models_step():
    torch.manual_seed(0)
    enc = EncoderTransformer(TransformerConfig(vocab_size=5, num_outputs=5, d_model=8, num_heads=2))
    with pytest.raises(TypeError, match="DecoderOnlyTransformer"):
        start(enc, [1, 2])


def test_kv_cache_grows_and_keeps_what_it_holds():
    cache = KVCache()
    parts = [torch.randn(1, 2, n, 3) for n in (5, 1, 20, 1)]
    for part in parts:
        k, v = cache.extend(part, -part)
    expected = torch.cat(parts, dim=2)
    assert torch.equal(k, expected) and torch.equal(v, -expected) and cache.length == 27


def test_a_state_trace_is_extended_in_place_not_rebuilt():
    model = small_model(6)
    state = start(model, [1, 2, 3])
    grown = append_token(model, state.trace, 4)
    assert np.shares_memory(grown["hidden"], state.trace["hidden"]) and state.length == 4
    with pytest.raises(ValueError, match="not of this model"):
        append_token(small_model(6, num_layers=1), grown, 5)


def test_pick_token_never_picks_a_banned_token_and_says_when_nothing_is_left():
    logits = np.log(np.array([0.7, 0.2, 0.1]))
    assert pick_token(logits, banned=(0,)) == 1
    draws = {pick_token(logits, 5.0, np.random.default_rng(s), banned=(0,)) for s in range(40)}
    assert draws == {1, 2}
    with pytest.raises(ValueError, match="no probability"):
        pick_token(logits, banned=(0, 1, 2))
