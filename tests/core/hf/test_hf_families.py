"""Every family's trace is what transformers computes: attention as it returns it with
output_attentions=True under eager attention (1e-5), hidden states as output_hidden_states gives them
(1e-4), and the top-k of the model's own logits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hf_folders import FAMILIES, folder

from seqviz.core import hf

TEXT = "hello world, the quick brown fox jumps."
DECODERS = ("gpt2", "llama", "mistral", "qwen2", "qwen3")
ENCODERS = ("bert", "distilbert", "roberta", "xlm-roberta")
SEQ2SEQ = ("bart", "t5", "marian")

_MODELS: dict[str, object] = {}


def opened(model_type: str):
    if model_type not in _MODELS:
        _MODELS[model_type] = hf.load_folder(folder(model_type))
    return _MODELS[model_type]


def reference(model, **inputs):
    """transformers' own forward, eager attention, every intermediate returned."""
    tensors = {k: torch.tensor([v]) for k, v in inputs.items()}
    with torch.no_grad():
        return model.module(**tensors, output_attentions=True, output_hidden_states=True, return_dict=True)


def stacked(attentions) -> np.ndarray:
    return torch.cat(attentions).numpy()  # (L, h, T, S)


def hidden_of(states) -> np.ndarray:
    """transformers' hidden states (embeddings first) as seqviz's (T, L, 1, d), embeddings dropped."""
    return torch.stack(states[1:], dim=2)[0].unsqueeze(2).numpy()


def check_stack(tr, out_hidden, out_attentions, prefix=""):
    """The trace's hidden and attention of one stack against transformers' tuples. transformers' last
    hidden state is after the stack's final norm: the trace keeps the block's output in `hidden` and
    the normed one in `final_norm`."""
    expected = hidden_of(out_hidden)
    hidden = tr[f"{prefix}hidden"]
    if f"{prefix}final_norm" in tr:
        np.testing.assert_allclose(tr[f"{prefix}final_norm"], expected[:, -1, 0], atol=1e-4)
        np.testing.assert_allclose(hidden[:, :-1], expected[:, :-1], atol=1e-4)
    else:
        np.testing.assert_allclose(hidden, expected, atol=1e-4)
    np.testing.assert_allclose(np.asarray(tr[f"{prefix}attention"]), stacked(out_attentions), atol=1e-5)


def check_top_k(tr, logits: torch.Tensor):
    probs = torch.softmax(logits, dim=-1)
    values, ids = torch.topk(probs, tr["top_ids"].shape[1], dim=-1)
    np.testing.assert_array_equal(tr["top_ids"], ids.numpy())
    np.testing.assert_allclose(tr["top_probs"], values.numpy(), atol=1e-6)
    assert tr["top_ids"].dtype == np.int32 and tr["top_probs"].dtype == np.float32


@pytest.mark.parametrize("model_type", DECODERS)
def test_decoder_trace_is_what_transformers_computes(model_type):
    model = opened(model_type)
    tr = model.trace(TEXT)
    ids = list(tr.meta.token_ids)
    assert ids == model.tokenizer(TEXT)["input_ids"]
    out = reference(model, input_ids=ids)
    check_stack(tr, out.hidden_states, out.attentions)
    check_top_k(tr, out.logits[0])
    probs = torch.softmax(out.logits[0], dim=-1).numpy()
    T = len(ids)
    for t in range(T - 1):  # the true next token's probability and rank (1 = first choice)
        assert tr["target_prob"][t] == pytest.approx(probs[t, ids[t + 1]], abs=1e-6)
        assert tr["target_rank"][t] == int((probs[t] > probs[t, ids[t + 1]]).sum()) + 1
    assert np.isnan(tr["target_prob"][-1]) and tr["target_rank"][-1] == -1
    np.testing.assert_allclose(tr["next_probs"], probs[-1], atol=1e-6)
    assert tr.meta.targets == (*ids[1:], -1)
    assert np.all(np.triu(np.asarray(tr["attention"]), k=1) == 0.0)  # the future: exactly 0
    assert tr["attention"].nbytes < np.asarray(tr["attention"]).nbytes * 0.6  # kept packed
    assert tr.meta.kind == "decoder" and tr.meta.task == "lm" and tr.meta.causal


def test_grouped_query_attention_has_every_query_head():
    """Llama-style models share key/value heads (2 here) between query heads (4): each query head
    still has its own weights."""
    model = opened("llama")
    assert model.module.config.num_key_value_heads < model.module.config.num_attention_heads
    tr = model.trace(TEXT)
    assert tr["attention"].shape[1] == model.module.config.num_attention_heads == tr.meta.num_heads
    weights = np.asarray(tr["attention"])
    assert not np.allclose(weights[0, 0], weights[0, 1])


def test_sliding_window_is_masked_too():
    """Mistral's sliding window (5 here): a query never sees keys 5 or more steps back."""
    tr = opened("mistral").trace(TEXT)
    weights = np.asarray(tr["attention"])
    T = tr.num_steps
    far = np.tril(np.ones((T, T), bool), k=-5)
    assert np.all(weights[:, :, far] == 0.0)


@pytest.mark.parametrize("model_type", ENCODERS)
def test_encoder_trace_is_what_transformers_computes(model_type):
    model = opened(model_type)
    tr = model.trace(TEXT)
    ids = list(tr.meta.token_ids)
    out = reference(model, input_ids=ids)
    check_stack(tr, out.hidden_states, out.attentions)
    check_top_k(tr, out.logits[0])
    assert tr.meta.kind == "encoder" and tr.meta.task == "mlm" and not tr.meta.causal
    assert tr.tokens[0] == model.tokenizer.convert_ids_to_tokens(ids[0])  # special tokens as they are


@pytest.mark.parametrize("model_type", SEQ2SEQ)
def test_seq2seq_trace_is_what_transformers_computes(model_type):
    model = opened(model_type)
    tr = model.trace(TEXT, max_new_tokens=6)
    meta = tr.meta
    src, dec = list(meta.source_ids), list(meta.decoder_input_ids)
    assert src == model.tokenizer(TEXT)["input_ids"]
    generated = model.module.generate(torch.tensor([src]), do_sample=False, num_beams=1, max_new_tokens=6)[
        0
    ].tolist()
    assert [*dec, meta.output_ids[-1]] == generated and list(meta.output_ids) == generated[1:]
    out = reference(model, input_ids=src, decoder_input_ids=dec)
    check_stack(tr, out.decoder_hidden_states, out.decoder_attentions)
    check_stack(tr, out.encoder_hidden_states, out.encoder_attentions, prefix="encoder_")
    np.testing.assert_allclose(tr["cross_attention"], stacked(out.cross_attentions), atol=1e-5)
    check_top_k(tr, out.logits[0])
    assert tr["cross_attention"].shape == (2, 4, len(dec), len(src))
    assert tr.num_steps == len(dec) and len(tr.source_tokens) == len(src)
    assert meta.kind == "encoder-decoder" and meta.task == "seq2seq" and meta.decoder_start


def test_every_family_is_covered():
    assert set(DECODERS + ENCODERS + SEQ2SEQ) == set(FAMILIES) == set(hf.families.FAMILIES)


def test_seq2seq_output_stops_at_the_decoder_positions():
    model = opened("bart")  # 64 positions
    tr = model.trace("hi", max_new_tokens=500)
    assert tr.num_steps <= model.max_length - 1
    assert tr.meta.output_text == model.tokenizer.decode(
        [i for i in tr.meta.output_ids if i != model.tokenizer.eos_token_id], skip_special_tokens=True
    )
