"""Input gradients of a recurrent model with a large vocabulary: the head's seeds ∂y_t/∂h_t are made
for the rows asked for, a block at a time (no (T, V) float64 logits), and equal float64 autograd."""

from __future__ import annotations

import copy

import numpy as np
import torch

import seqviz
from seqviz.core import gradients_map, top_outputs
from seqviz.core.gradients import gradient_rows
from seqviz.core.seqmodel import RecurrentConfig, RecurrentNet, TokenModel
from seqviz.core.tokenize import Tokenizer


def large_word_model(words: int = top_outputs.LARGE_VOCABULARY + 37) -> TokenModel:
    torch.manual_seed(4)
    vocab = [f"w{i}" for i in range(words)]
    cfg = RecurrentConfig("lstm", words, words, embed_dim=6, hidden_size=10, num_layers=2)
    net = RecurrentNet(cfg).eval()
    with torch.no_grad():
        net.head.weight.mul_(20)  # a confident head: the cotangent's float64 form matters
    return TokenModel(net, Tokenizer(vocab, level="space"), "lm").eval()


def autograd_map(model: TokenModel, ids: list[int], predicted: np.ndarray) -> np.ndarray:
    """(T, T) ‖∂ log p_t(prediction_t) / ∂x_s‖ in float64, x the embeddings."""
    net = copy.deepcopy(model.backbone).double()
    with torch.no_grad():
        x = net.embedding(torch.as_tensor(ids))

    def log_probs(v: torch.Tensor) -> torch.Tensor:
        logits = net.head(net.rnn(v)[0])
        return torch.log_softmax(logits, -1)[torch.arange(len(ids)), torch.as_tensor(predicted)]

    jac = torch.autograd.functional.jacobian(log_probs, x)  # (T, S, E)
    return torch.linalg.vector_norm(jac, dim=-1).numpy()


def test_large_heads_seed_only_the_rows_asked_for_a_block_at_a_time(monkeypatch):
    model = large_word_model()
    width = model.backbone.head.out_features
    monkeypatch.setattr(top_outputs, "BLOCK_VALUES", 3 * width)  # 3 rows of logits per block
    seen: list[tuple[int, int]] = []
    cotangent = gradients_map.log_prob_cotangent
    monkeypatch.setattr(
        gradients_map, "log_prob_cotangent", lambda z, k: seen.append(tuple(z.shape)) or cotangent(z, k)
    )
    text = "w1 w7 w5000 w3 w3 w12 w5020 w2"
    tr = seqviz.trace(model, text, gradients=True)
    ids = [int(w[1:]) for w in text.split()]
    assert "probs" not in tr and seen and max(rows for rows, _ in seen) <= 3
    expected = autograd_map(model, ids, tr["top_ids"][:, 0])
    np.testing.assert_allclose(tr["input_gradient_norm"], expected, rtol=1e-4, atol=1e-30)
    seen.clear()
    row = gradient_rows(model, text, [5], trace=tr)  # one row: one row of logits
    assert seen == [(1, width)]
    np.testing.assert_allclose(row[0], expected[5], rtol=1e-4, atol=1e-30)
