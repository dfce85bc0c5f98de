"""Masked language models: the mask on any token (or typed), and the model's top predictions there."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hf_folders import folder

from seqviz.core import hf
from seqviz.core.model_interface import UnknownOptionError

TEXT = "the quick brown fox jumps over the lazy dog."
_MODELS: dict[str, object] = {}


def opened(model_type: str):
    if model_type not in _MODELS:
        _MODELS[model_type] = hf.load_folder(folder(model_type))
    return _MODELS[model_type]


def logits_of(model, ids) -> torch.Tensor:
    with torch.no_grad():
        return model.module(input_ids=torch.tensor([ids])).logits[0]


@pytest.mark.parametrize("model_type", ["bert", "roberta", "distilbert"])
def test_a_masked_token_shows_what_the_model_would_put_there(model_type):
    model = opened(model_type)
    original = model.encode(TEXT)
    tr = model.trace(TEXT, mask_positions=[3])
    mask = model.tokenizer.mask_token_id
    ids = [*original[:3], mask, *original[4:]]
    assert list(tr.meta.token_ids) == ids
    mask_token = model.tokenizer.mask_token
    assert tr.tokens[3] == mask_token and tr.meta.extra["pieces"][3] == mask_token
    assert tr.meta.targets == tuple(original[3] if i == 3 else -1 for i in range(len(ids)))
    assert tr.meta.extra["masked"] == [3]
    probs = torch.softmax(logits_of(model, ids), dim=-1)
    values, top = torch.topk(probs[3], tr["top_ids"].shape[1])
    np.testing.assert_array_equal(tr["top_ids"][3], top.numpy())
    np.testing.assert_allclose(tr["top_probs"][3], values.numpy(), atol=1e-6)
    p_true = probs[3, original[3]]
    assert tr["target_prob"][3] == pytest.approx(float(p_true), abs=1e-6)
    assert tr["target_rank"][3] == int((probs[3] > p_true).sum()) + 1
    assert np.isnan(np.delete(tr["target_prob"], 3)).all() and (np.delete(tr["target_rank"], 3) == -1).all()


def test_a_typed_mask_token_is_masked_too():
    model = opened("bert")
    assert "[MASK]" in model.examples[0]
    tr = model.trace("the quick [MASK] fox.")
    at = tr.tokens.index("[MASK]")  # the pieces before it depend on the tokenizer trained for the test
    assert tr.meta.extra["masked"] == [at] and tr.meta.token_ids[at] == model.tokenizer.mask_token_id
    assert tr.meta.targets == (-1,) * tr.num_steps  # typed: the true word is not known
    assert "[MASK]" in model.special_tokens


def test_positions_that_are_not_tokens_are_refused():
    model = opened("bert")
    with pytest.raises(ValueError, match=r"mask_positions: 40 is not a token position 0–\d+"):
        model.trace(TEXT, mask_positions=[40])
    with pytest.raises(UnknownOptionError, match="mask_positions"):
        opened("gpt2").trace(TEXT, mask_positions=[1])


def test_top_k_is_an_option():
    tr = opened("bert").trace(TEXT, top_k=3)
    assert tr["top_ids"].shape == (tr.num_steps, 3) and tr.meta.extra["top_k"] == 3
    with pytest.raises(ValueError, match="top_k must be a positive whole number"):
        opened("bert").trace(TEXT, top_k=0)
