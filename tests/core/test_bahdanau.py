"""The GRU encoder-decoder with additive attention: its trace is what torch's modules compute."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from seqviz.core.api import trace
from seqviz.core.bahdanau import BahdanauConfig, BahdanauSeq2Seq, gru_cell_gates
from seqviz.core.modelfile import load_model, save_model
from seqviz.core.seqmodel import TokenModel, backbone_classes
from seqviz.core.tokenize import BOS, EOS, PAD, UNK, Tokenizer

SRC_VOCAB = [PAD, "a", "b", "c", "d", "e", UNK]
TGT_VOCAB = [PAD, BOS, EOS, "x", "y", "z", UNK]


def random_model(seed: int = 0, hidden: int = 12, max_len: int = 9) -> BahdanauSeq2Seq:
    torch.manual_seed(seed)
    cfg = BahdanauConfig(len(SRC_VOCAB), len(TGT_VOCAB), embed_dim=5, hidden_size=hidden, attention_size=7)
    cfg.max_len = max_len
    model = BahdanauSeq2Seq(cfg).eval()
    with torch.no_grad():  # larger weights than the default, so gates are far from 0.5 and differ
        for p in model.parameters():
            p.mul_(3.0)
    return model


def reference_steps(model: BahdanauSeq2Seq, src_ids: list[int], output_ids: list[int]):
    """Decoder states from torch's nn.GRUCell (a fresh copy with the same weights), step by step,
    feeding the traced outputs back; also the cell inputs and previous states, for the gate checks."""
    cell = nn.GRUCell(model.cell.input_size, model.cell.hidden_size)
    cell.load_state_dict(model.cell.state_dict())
    with torch.no_grad():
        memory, keys, state = model.encode(torch.tensor([src_ids]))
        inputs, prev_states, states = [], [], []
        for prev in [model.cfg.bos_id, *output_ids[:-1]]:
            context, _ = model.attend(state, memory, keys)
            x = torch.cat([model.tgt_embed(torch.tensor([prev])), context], dim=-1)
            inputs.append(x[0])
            prev_states.append(state[0])
            state = cell(x, state)
            states.append(state[0])
    return torch.stack(inputs), torch.stack(prev_states), torch.stack(states)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_traced_hidden_and_gates_equal_torch_gru_cell(seed: int) -> None:
    model = random_model(seed)
    src = [1, 4, 2, 2, 5, 3]
    tr = model.trace_ids(src)
    x, h_prev, h_torch = reference_steps(model, src, tr.meta.output_ids)
    T, H = h_torch.shape
    np.testing.assert_allclose(tr["hidden"].reshape(T, H), h_torch.numpy(), atol=1e-5)
    np.testing.assert_allclose(tr["initial_hidden"].reshape(H), h_prev[0].numpy(), atol=1e-6)

    # The gates, from torch Linear layers holding the cell's weight blocks (torch orders rows r, z, n).
    def linear(weight: torch.Tensor, bias: torch.Tensor, block: int) -> nn.Linear:
        layer = nn.Linear(weight.shape[1], H)
        layer.weight.data, layer.bias.data = (
            weight[block * H : (block + 1) * H],
            bias[block * H : (block + 1) * H],
        )
        return layer

    cell = model.cell
    with torch.no_grad():
        i_r, i_z, i_n = (linear(cell.weight_ih, cell.bias_ih, k)(x) for k in range(3))
        h_r, h_z, h_n = (linear(cell.weight_hh, cell.bias_hh, k)(h_prev) for k in range(3))
        reset, update = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        candidate = torch.tanh(i_n + reset * h_n)
    for name, want in (("reset_gate", reset), ("update_gate", update), ("candidate", candidate)):
        np.testing.assert_allclose(tr[name].reshape(T, H), want.numpy(), atol=1e-5, err_msg=name)
    # And torch's own new state is exactly the GRU blend of the traced gates.
    z, n = tr["update_gate"].reshape(T, H), tr["candidate"].reshape(T, H)
    np.testing.assert_allclose((1 - z) * n + z * h_prev.numpy(), h_torch.numpy(), atol=1e-5)
    assert float(z.std()) > 0.05, "the gates should vary, or the check above proves little"


def test_gru_cell_gates_matches_torch_on_a_batch() -> None:
    torch.manual_seed(3)
    cell = nn.GRUCell(6, 10)
    x, h = torch.randn(4, 6), torch.randn(4, 10)
    *_, h_new = gru_cell_gates(cell, x, h)
    torch.testing.assert_close(h_new, cell(x, h), atol=1e-6, rtol=1e-5)


def test_trace_shapes_attention_rows_and_meta() -> None:
    model = random_model(0)
    src = [1, 2, 3, 4, 5]
    tr = model.trace_ids(src)
    T, S, H = tr.num_steps, len(src), model.cfg.hidden_size
    for name in ("hidden", "update_gate", "reset_gate", "candidate"):
        assert tr[name].shape == (T, 1, 1, H)
    assert tr["cross_attention"].shape == (1, 1, T, S)
    assert tr["encoder_hidden"].shape == (S, 1, 2, H)
    assert tr["probs"].shape == (T, len(TGT_VOCAB))
    np.testing.assert_allclose(tr["cross_attention"].sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(tr["probs"].sum(-1), 1.0, atol=1e-5)
    meta = tr.meta.to_dict()
    assert (meta["arch"], meta["kind"], meta["causal"]) == ("gru-attention", "encoder-decoder", True)
    assert (meta["num_layers"], meta["num_directions"], meta["hidden_size"]) == (1, 1, H)
    assert meta["source_ids"] == src and len(meta["output_ids"]) == T
    assert meta["decoder_input_ids"] == [model.cfg.bos_id, *meta["output_ids"][:-1]]
    assert trace(model, src)["hidden"].tolist() == tr["hidden"].tolist()


def test_encoder_hidden_is_torch_bidirectional_gru_output() -> None:
    model = random_model(1)
    src = [5, 4, 3, 2, 1, 1]
    tr = model.trace_ids(src)
    with torch.no_grad():
        out, _ = model.encoder(model.src_embed(torch.tensor([src])))  # (1, S, 2H), [forward; backward]
    H = model.cfg.hidden_size
    np.testing.assert_allclose(tr["encoder_hidden"][:, 0, 0], out[0, :, :H].numpy(), atol=1e-6)
    np.testing.assert_allclose(tr["encoder_hidden"][:, 0, 1], out[0, :, H:].numpy(), atol=1e-6)


def test_trace_agrees_with_forward_and_greedy_decoding() -> None:
    model = random_model(2, max_len=12)
    src = [2, 3, 1, 5]
    tr = model.trace_ids(src)
    out = list(tr.meta.output_ids)
    assert out == model.translate(src)
    assert out == model.greedy_decode(torch.tensor([src]), len(out))[0].tolist()
    with torch.no_grad():
        logits = model(torch.tensor([src]), torch.tensor([[model.cfg.bos_id, *out[:-1]]]))  # teacher forcing
    np.testing.assert_allclose(tr["probs"], torch.softmax(logits[0], -1).numpy(), atol=1e-5)


def test_decoding_stops_after_end_token() -> None:
    model = random_model(0)
    with torch.no_grad():  # make </s> win every step
        model.out.bias.zero_()
        model.out.bias[model.cfg.eos_id] = 1e4
    tr = model.trace_ids([1, 2, 3])
    assert list(tr.meta.output_ids) == [model.cfg.eos_id] and tr["hidden"].shape[0] == 1


def seq2seq_token_model(seed: int = 0) -> TokenModel:
    return TokenModel(
        random_model(seed),
        Tokenizer(list(SRC_VOCAB), "word"),
        "seq2seq",
        target_tokenizer=Tokenizer(list(TGT_VOCAB), "char"),
    )


def test_token_model_seq2seq_trace_labels_source_and_target() -> None:
    model = seq2seq_token_model()
    tr = trace(model, "a c e q")
    assert tr.source_tokens == ["a", "c", "e", "<unk>"]
    assert tr.tokens == [TGT_VOCAB[i] for i in list(tr.meta.output_ids)]
    assert list(tr.meta.unknown) == ["q"] and tr.meta.task == "seq2seq"
    assert list(tr.meta.output_labels) == model.target_tokenizer.vocab
    assert tr.meta.output_text == "".join(t for t in tr.tokens if t != EOS)
    assert tr["cross_attention"].shape[-1] == 4


def test_token_model_needs_a_target_tokenizer_for_seq2seq() -> None:
    with pytest.raises(ValueError, match="target_tokenizer"):
        TokenModel(random_model(), Tokenizer(list(SRC_VOCAB), "word"), "seq2seq")


def test_saved_seq2seq_model_loads_and_traces_the_same(tmp_path) -> None:
    assert "BahdanauSeq2Seq" in backbone_classes()
    model = seq2seq_token_model(1)
    path = save_model(model, tmp_path / "m.safetensors")
    loaded = load_model(path)
    assert isinstance(loaded, TokenModel) and loaded.target_tokenizer.vocab == model.target_tokenizer.vocab
    a, b = trace(model, "b d a"), trace(loaded, "b d a")
    assert a.tokens == b.tokens
    for name in a.names():
        np.testing.assert_array_equal(a[name], b[name])
