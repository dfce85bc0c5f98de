"""seqviz.core.top_outputs: the one place that keeps a large head's top-k, the true token's probability
and rank and the last step's distribution, block by block; the word language models and the Hugging
Face traces both go through it (a second implementation would not)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import word_lm_example as ex
from hf_folders import folder

import seqviz
from seqviz.core import hf, top_outputs
from seqviz.core.modelfile import load_model


def reference(logits: torch.Tensor, targets: list[int], k: int) -> dict[str, np.ndarray]:
    """The same arrays from the whole (T, V) softmax at once, in float64."""
    probs = torch.softmax(logits.double(), dim=-1)
    values, ids = probs.topk(k, dim=-1)
    known = [(t, w) for t, w in enumerate(targets) if 0 <= w < logits.shape[1]]
    prob = np.full(len(targets), np.nan)
    rank = np.full(len(targets), -1)
    for t, w in known:
        prob[t] = probs[t, w].item()
        rank[t] = 1 + int((probs[t] > probs[t, w]).sum())
    return {"top_ids": ids.numpy(), "top_probs": values.numpy(), "target_prob": prob, "target_rank": rank}


def test_block_by_block_equals_the_whole_softmax_and_never_asks_for_every_row(monkeypatch):
    monkeypatch.setattr(top_outputs, "BLOCK_VALUES", 3 * 50)  # 3 rows of 50 outputs per block
    torch.manual_seed(0)
    logits = torch.randn(8, 50) * 3
    logits[2, 7] = logits[2, 9] = 40.0  # a tie for the first place
    targets = [9, 3, 9, -1, 49, 50, 0, -1]  # -1 and 50 (outside the vocabulary): not known
    asked: list[int] = []

    def logits_of(start: int, stop: int) -> torch.Tensor:
        asked.append(stop - start)
        return logits[start:stop]

    got = top_outputs.top_outputs(logits_of, 8, 50, targets, k=4)
    want = reference(logits, targets, 4)
    assert max(asked) == 3 and sum(asked) == 8  # each row once, a block at a time
    np.testing.assert_allclose(got["top_probs"], want["top_probs"], rtol=1e-6)
    np.testing.assert_array_equal(got["top_ids"][:, 1:][[0, 1, 3]], want["top_ids"][:, 1:][[0, 1, 3]])
    assert sorted(got["top_ids"][2, :2]) == [7, 9]  # tied outputs: both, in either order
    np.testing.assert_allclose(got["target_prob"], want["target_prob"], rtol=1e-5)
    np.testing.assert_array_equal(got["target_rank"], want["target_rank"])
    assert got["target_rank"][2] == 1  # tied with the first place: rank 1, as the panel reads it
    assert got["target_rank"].dtype == np.int32 and got["top_ids"].dtype == np.int32
    np.testing.assert_allclose(got["next_probs"], torch.softmax(logits[-1], -1).numpy(), rtol=1e-6)
    assert top_outputs.rank_of(got["next_probs"], int(got["top_ids"][-1, 1])) == 2


def test_without_targets_there_are_no_target_arrays_and_k_is_at_most_the_vocabulary():
    got = top_outputs.logits_outputs(torch.randn(3, 5), None, k=top_outputs.TOP_K)
    assert set(got) == {"top_ids", "top_probs", "next_probs"} and got["top_ids"].shape == (3, 5)


@pytest.fixture
def calls(monkeypatch):
    """How many times each caller reached top_outputs.top_outputs."""
    seen: list[int] = []
    original = top_outputs.top_outputs

    def counted(*args, **kwargs):
        seen.append(args[1])  # steps
        return original(*args, **kwargs)

    monkeypatch.setattr(top_outputs, "top_outputs", counted)
    return seen


@pytest.mark.parametrize("model_type", ["gpt2", "bert", "t5"])
def test_hugging_face_heads_go_through_the_shared_module_with_its_default_k(model_type, calls):
    model = hf.load_folder(folder(model_type))
    text = "the quick brown fox" if model_type != "bert" else "the quick [MASK] fox"
    tr = model.trace(text)
    assert calls and tr["top_ids"].shape[1] == top_outputs.TOP_K == tr.meta.extra["top_k"]
    if model_type == "gpt2":  # an appended token's row too
        before = len(calls)
        longer = model.append(tr, text, int(tr["top_ids"][-1, 0]))
        assert len(calls) == before + 1 and longer["target_rank"][-2] == 1  # its own first choice


def test_a_word_model_goes_through_the_shared_module_with_its_default_k(calls, tmp_path):
    words = [f"w{i}" for i in range(top_outputs.LARGE_VOCABULARY + 10)]
    model = ex.build("LSTM", len(words), seed=1, ninp=8, nhid=8)
    loaded = load_model(ex.save_whole(model, tmp_path / "big.pt"), vocab=words)
    tr = seqviz.trace(loaded, "w1 w2 w3")
    assert calls == [3] and tr["top_ids"].shape == (3, top_outputs.TOP_K)


@pytest.mark.parametrize("model_type", ["gpt2", "bert"])
def test_the_nan_of_an_unknown_true_token_is_no_divergence(model_type):
    """target_prob is NaN where the true token is not known (the last step; an unmasked token): a
    window must not say the model diverged. A NaN where it is known still counts."""
    from seqviz.core.trace_check import nonfinite_arrays

    model = hf.load_folder(folder(model_type))
    tr = model.trace("the quick brown fox", **({"mask_positions": [2]} if model_type == "bert" else {}))
    assert np.isnan(tr["target_prob"]).any() and nonfinite_arrays(tr) == []
    known = int(np.flatnonzero(tr["target_rank"] >= 0)[0])
    tr["target_prob"][known] = np.nan
    assert nonfinite_arrays(tr) == ["target_prob"]
