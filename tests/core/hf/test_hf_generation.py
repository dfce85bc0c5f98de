"""Causal language models: a trace of a prefix is the prefix of the trace; appending a token from the
key/value cache gives the full trace of the longer input; Generate picks what transformers' own greedy
generate picks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hf_folders import folder

from seqviz.core import hf

TEXT = "i was born in france, so i speak"
ARRAYS = ("hidden", "final_norm", "top_ids", "top_probs")

_MODELS: dict[str, object] = {}


def opened(model_type: str):
    if model_type not in _MODELS:
        _MODELS[model_type] = hf.load_folder(folder(model_type))
    return _MODELS[model_type]


def assert_same_trace(a, b):
    assert a.meta.token_ids == b.meta.token_ids and a.tokens == b.tokens
    for name in ARRAYS:
        np.testing.assert_allclose(a[name], b[name], atol=1e-5, err_msg=name)
    np.testing.assert_allclose(np.asarray(a["attention"]), np.asarray(b["attention"]), atol=1e-6)
    np.testing.assert_allclose(a["target_prob"], b["target_prob"], atol=1e-6)
    np.testing.assert_array_equal(a["target_rank"], b["target_rank"])
    np.testing.assert_allclose(a["next_probs"], b["next_probs"], atol=1e-6)
    assert a.meta.targets == b.meta.targets


@pytest.mark.parametrize("model_type", ["gpt2", "llama"])
def test_a_prefix_traces_as_the_prefix(model_type):
    model = opened(model_type)
    ids = model.encode(TEXT)
    whole, prefix = model.trace(ids), model.trace(ids[:7])
    np.testing.assert_allclose(prefix["hidden"], whole["hidden"][:7], atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(prefix["attention"]), np.asarray(whole["attention"])[:, :, :7, :7], atol=1e-6
    )
    np.testing.assert_array_equal(prefix["top_ids"], whole["top_ids"][:7])
    np.testing.assert_allclose(prefix["target_prob"][:6], whole["target_prob"][:6], atol=1e-6)


@pytest.mark.parametrize("model_type", ["gpt2", "llama", "qwen2", "mistral"])
def test_append_from_the_cache_is_the_full_trace(model_type):
    model = opened(model_type)
    tr = model.trace(TEXT)
    first = tr
    text = TEXT
    for token in (5, 17, 3):
        tr, text = model.append(tr, text, token), model.extend_text(text, token)
    full = model.trace([*first.meta.token_ids, 5, 17, 3])
    assert_same_trace(tr, full)
    assert first.num_steps == len(model.encode(TEXT))  # the older trace is unchanged
    assert np.isnan(first["target_prob"][-1]) and first.meta.targets[-1] == -1


def test_appending_grows_past_the_first_buffers():
    """Appends beyond the room first allocated reallocate; older traces keep their numbers."""
    model = opened("gpt2")
    tr = model.trace("hi")
    older = [tr]
    for i in range(40):
        tr = model.append(tr, "", 10 + i)
        older.append(tr)
    full = model.trace(list(tr.meta.token_ids))
    assert_same_trace(tr, full)
    assert_same_trace(older[20], model.trace(list(older[20].meta.token_ids)))


def test_appending_to_an_older_trace_starts_a_branch():
    model = opened("gpt2")
    base = model.trace(TEXT)
    newer = model.append(base, TEXT, 7)
    branch = model.append(base, TEXT, 9)
    assert branch.meta.token_ids[-1] == 9 and newer.meta.token_ids[-1] == 7
    assert_same_trace(branch, model.trace([*base.meta.token_ids, 9]))


@pytest.mark.parametrize("model_type", ["gpt2", "llama"])
def test_greedy_generate_is_what_transformers_generates(model_type):
    model = opened(model_type)
    tr = model.generate(TEXT, 8)
    ids = model.encode(TEXT)
    expected = model.module.generate(
        torch.tensor([ids]), do_sample=False, num_beams=1, max_new_tokens=8, pad_token_id=0
    )[0].tolist()
    assert list(tr.meta.token_ids) == expected
    assert tr.meta.prompt_length == len(ids)
    assert_same_trace(tr, model.trace(expected))


def test_sampled_generate_is_seeded():
    model = opened("gpt2")
    a, b = model.generate(TEXT, 6, temperature=1.0, seed=3), model.generate(TEXT, 6, temperature=1.0, seed=3)
    assert a.meta.token_ids == b.meta.token_ids


def test_extend_text_reads_back_as_one_more_piece():
    model = opened("gpt2")
    token = model.encode(" fluent")[0]
    text = model.extend_text(TEXT, token)
    assert text.startswith(TEXT) and model.encode(text) == [*model.encode(TEXT), token]
    assert model.can_generate and model.next_token_probs(model.trace(TEXT)).shape == (
        len(model.output_labels),
    )


def test_the_length_limit_is_kept():
    model = opened("gpt2")
    limit = model.max_length
    assert limit == 64
    tr = model.trace(list(range(limit)))
    with pytest.raises(ValueError, match="at most 64"):
        model.append(tr, "", 1)
    with pytest.raises(ValueError, match="65 tokens; .* at most 64"):
        model.trace(list(range(limit + 1)))
