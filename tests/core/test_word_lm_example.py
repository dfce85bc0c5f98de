"""PyTorch's word_language_model example: its files open with their vocabulary, and seqviz computes what
the example's own forward computes (hidden states, attention, next-word log-probabilities, to 1e-5).

The example's classes are reproduced in word_lm_example.py (written after its published structure);
each model trains a few steps on a tiny corpus, then is saved as the example's main.py saves it
(`torch.save(model, f)`, classes named `model.RNNModel`, ...) and as a state dict.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import word_lm_example as ex

import seqviz
from seqviz.core.modelfile import ModelFileError, load_model, save_model
from seqviz.core.tokenize import UnknownTokenError

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")
KINDS = (*ex.RNN_TYPES, "Transformer", "LegacyTransformer")
TEXT = "the cat sat on the mat . the dog ran away"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = ex.write_corpus(tmp_path_factory.mktemp("wlm") / "data" / "wikitext-2")
    return folder, ex.Corpus(folder)


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """kind -> (the fixture model after a few training steps, its pickle, its state dict file)."""
    folder, data = corpus
    out = tmp_path_factory.mktemp("saved")
    models = {}
    for i, kind in enumerate(KINDS):
        model = ex.build(kind, len(data.idx2word), seed=i, tied=kind == "LSTM")
        ex.train_steps(model, data.train, steps=4)
        models[kind] = (
            model,
            ex.save_whole(model, out / f"{kind}.pt"),
            ex.save_state_dict(model, out / f"{kind}-state.pt"),
        )
    return models


def state_dict_options(kind: str) -> dict:
    """What a state dict of `kind` does not record (a pickle does)."""
    if "Transformer" in kind:
        return {"heads": 2}
    return {"nonlinearity": kind.removeprefix("RNN_").lower()} if kind.startswith("RNN_") else {}


def reference(model, ids: list[int]):
    """The example model's own forward: log-probs (T, V), each layer's output (T, d) (hooks on the
    Transformer's layers; one-layer copies for the recurrent stack), and the Transformer's layer inputs."""
    if isinstance(model, ex.RNNModel):
        log_probs, layers = ex.log_probs(model, ids)
        return log_probs, layers, []
    stack = model.encoder if isinstance(model, ex.TransformerModel) else model.transformer_encoder
    outputs, inputs = [], []
    layers = stack.layers
    hooks = [layer.register_forward_hook(lambda m, a, y: outputs.append(y[:, 0])) for layer in layers]
    hooks += [layer.register_forward_pre_hook(lambda m, a: inputs.append(a[0][:, 0])) for layer in layers]
    try:
        log_probs, _ = ex.log_probs(model, ids)
    finally:
        for hook in hooks:
            hook.remove()
    return log_probs, outputs, inputs


def explicit_attention(layer, x: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d_head) + causal mask) per head (h, T, T), from the layer's own weights."""
    attn = layer.self_attn
    heads, width = attn.num_heads, x.shape[-1] // attn.num_heads
    q, k, _ = (x @ attn.in_proj_weight.T + attn.in_proj_bias).chunk(3, dim=-1)  # (T, d) each
    q, k = (t.reshape(len(x), heads, width).transpose(0, 1) for t in (q, k))  # (h, T, w)
    scores = q @ k.transpose(1, 2) / math.sqrt(width)
    scores = scores.masked_fill(torch.ones(len(x), len(x)).triu(1).bool(), float("-inf"))
    return torch.softmax(scores, dim=-1)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("saved", ["pickle", "state dict"])
def test_the_example_files_trace_as_the_example_computes(trained, corpus, kind, saved):
    model, whole, state = trained[kind]
    folder, data = corpus
    vocab = ex.write_vocab(data, folder.parent / "vocab.txt")
    if saved == "pickle":
        loaded = load_model(whole, vocab=vocab)
    else:
        loaded = load_model(state, vocab=folder, **state_dict_options(kind))
    ids = [data.word2idx[w] for w in TEXT.split()]
    log_probs, layers, inputs = reference(model, ids)
    tr = seqviz.trace(loaded, TEXT)
    assert tr.tokens == TEXT.split()
    np.testing.assert_allclose(np.log(tr["probs"]), log_probs.numpy(), atol=1e-5)
    assert tr["hidden"].shape[1] == len(layers) == 2
    for i, layer_out in enumerate(layers):
        np.testing.assert_allclose(tr["hidden"][:, i, 0], layer_out.numpy(), atol=1e-5)
    if "Transformer" in kind:
        stack = model.encoder if kind == "Transformer" else model.transformer_encoder
        for i, (layer, x) in enumerate(zip(stack.layers, inputs, strict=True)):
            with torch.no_grad():
                expected = explicit_attention(layer, x).numpy()
            np.testing.assert_allclose(tr["attention"][i], expected, atol=1e-5)
        assert tr.meta.num_heads == 2 and tr.meta.causal
    assert tr.meta.task == "lm" and tr.meta.output_labels == tuple(data.idx2word)


def test_lstm_gates_and_cell_are_those_of_its_rnn(trained, corpus):
    model, whole, _ = trained["LSTM"]
    folder, data = corpus
    tr = seqviz.trace(load_model(whole, vocab=folder), TEXT)
    x = model.encoder(torch.as_tensor([data.word2idx[w] for w in TEXT.split()]))  # (T, ninp)
    rnn = model.rnn
    h = c = torch.zeros(rnn.hidden_size)
    with torch.no_grad():
        for t in range(len(x)):  # layer 0, step by step from torch's weight layout (i, f, g, o)
            gates = rnn.weight_ih_l0 @ x[t] + rnn.bias_ih_l0 + rnn.weight_hh_l0 @ h + rnn.bias_hh_l0
            i, f, g, o = gates.chunk(4)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            np.testing.assert_allclose(tr["forget_gate"][t, 0, 0], f.numpy(), atol=1e-5)
            np.testing.assert_allclose(tr["cell"][t, 0, 0], c.numpy(), atol=1e-5)


def test_tied_weights_load_as_one_matrix_in_both_places(trained, corpus):
    model, whole, _ = trained["LSTM"]  # built with tie_weights
    assert model.decoder.weight is model.encoder.weight
    loaded = load_model(whole, vocab=corpus[0])
    assert torch.equal(loaded.backbone.head.weight, loaded.backbone.embedding.weight)


# The vocabulary ----------------------------------------------------------------------------------------


def test_the_data_folder_gives_the_dictionary_data_corpus_builds(corpus, trained):
    folder, data = corpus
    loaded = load_model(trained["GRU"][1], vocab=folder)
    assert loaded.tokenizer.vocab == data.idx2word  # in order of first appearance, '<eos>' per line
    assert loaded.example == "the dog saw the cat on the mat ."  # valid.txt's first sentence


def test_a_vocabulary_list_works_like_its_file(corpus, trained):
    folder, data = corpus
    from_list = load_model(trained["GRU"][1], vocab=list(data.idx2word))
    from_file = load_model(trained["GRU"][1], vocab=ex.write_vocab(data, folder.parent / "v.txt"))
    traces = [seqviz.trace(model, TEXT) for model in (from_list, from_file)]
    np.testing.assert_array_equal(traces[0]["probs"], traces[1]["probs"])


def test_words_outside_the_vocabulary_are_named(corpus, trained):
    folder, data = corpus
    loaded = load_model(trained["LSTM"][1], vocab=folder)  # the corpus has '<unk>': unknown words map to it
    tr = seqviz.trace(loaded, "the zebra sat on the xylophone")
    assert tr.meta.unknown == ("zebra", "xylophone")
    assert tr.tokens == ["the", "<unk>", "sat", "on", "the", "<unk>"]
    words = [w if w != "<unk>" else "<other>" for w in data.idx2word]  # a vocabulary without '<unk>'
    without = load_model(trained["LSTM"][1], vocab=words)
    with pytest.raises(UnknownTokenError, match="Not in this model's vocabulary: 'zebra', 'xylophone'"):
        seqviz.trace(without, "the zebra sat on the xylophone")


def test_words_are_split_on_whitespace_only_as_the_corpus_was(corpus, trained):
    loaded = load_model(trained["GRU"][1], vocab=corpus[0])
    assert loaded.tokenizer.split("ran @-@ away , 3 @.@ 5") == ["ran", "@-@", "away", ",", "3", "@.@", "5"]
    assert seqviz.trace(loaded, "Über 3 @.@ 5 cats").meta.unknown == ()


def test_a_vocabulary_of_another_size_names_both_numbers(corpus, trained, tmp_path):
    words = corpus[1].idx2word
    short = tmp_path / "short.txt"
    short.write_text("\n".join(words[:-3]) + "\n", encoding="utf8")
    with pytest.raises(ModelFileError, match=rf"{len(words) - 3} words \(short.txt\).*{len(words)} rows"):
        load_model(trained["LSTM"][1], vocab=short)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("the\ncat\nthe\n", "'the' is both line 1 and line 3"),
        ("the\n\ncat\n", "line 2 is empty"),
        ("the cat sat\n", "line 1 holds 'the cat sat', more than one word"),
        ("", "no words"),
    ],
)
def test_a_bad_vocabulary_file_says_what_is_wrong(tmp_path, trained, content, problem):
    path = tmp_path / "vocab.txt"
    path.write_text(content, encoding="utf8")
    with pytest.raises(ModelFileError, match=problem):
        load_model(trained["GRU"][1], vocab=path)


def test_a_folder_without_the_corpus_files_names_them(tmp_path, trained):
    (tmp_path / "train.txt").write_text("a b\n", encoding="utf8")
    with pytest.raises(ModelFileError, match="it has no valid.txt, test.txt"):
        load_model(trained["GRU"][1], vocab=tmp_path)


# What a file lacks, and the messages that lead to a route that works -----------------------------------


@pytest.mark.parametrize("kind", ["LSTM", "Transformer"])
def test_without_a_vocabulary_the_message_says_what_to_pass_and_its_one_liner_works(
    trained, corpus, kind, tmp_path
):
    model, whole, _ = trained[kind]
    with pytest.raises(ModelFileError, match=r"pass the data folder.*--vocab data/wikitext-2") as err:
        load_model(whole)
    assert "corpus.dictionary.idx2word" in str(err.value)
    # The one-liner, run by a shell as the message says: in the example's folder, beside its data.py.
    command = str(err.value).rpartition("which this line writes in the example's folder: ")[2]
    folder = tmp_path / "word_language_model"
    ex.write_corpus(folder / "data" / "wikitext-2")
    (folder / "data.py").write_text(ex.DATA_PY, encoding="utf8")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # `python` is ours
    subprocess.run(command, shell=True, cwd=folder, env={**os.environ, "PATH": path}, check=True)
    loaded = load_model(whole, vocab=folder / "vocab.txt")
    assert loaded.tokenizer.vocab == corpus[1].idx2word
    beside = folder / "model.pt"  # where the example's main.py writes it: found without options
    beside.write_bytes(whole.read_bytes())
    assert load_model(beside).tokenizer.vocab == corpus[1].idx2word


def test_a_model_beside_its_data_folder_needs_no_vocabulary(trained, corpus, tmp_path):
    folder = tmp_path / "word_language_model"
    ex.write_corpus(folder / "data" / "wikitext-2")
    ex.write_corpus(folder / "data" / "other").joinpath("test.txt").write_text("more words\n")
    path = folder / "model.pt"
    path.write_bytes(trained["LSTM"][1].read_bytes())
    loaded = load_model(path)  # data/other has another size: only data/wikitext-2 fits
    assert loaded.tokenizer.vocab == corpus[1].idx2word
    assert "the corpus in" in loaded.card.description and "wikitext-2" in loaded.card.description


def test_a_transformer_state_dict_needs_its_heads_and_the_message_says_so(trained, corpus):
    _, _, state = trained["Transformer"]
    with pytest.raises(
        ModelFileError, match=r"does not record its number of attention heads: pass --heads N"
    ):
        load_model(state, vocab=corpus[0])
    with pytest.raises(ModelFileError, match="3 heads do not divide the model width 8"):
        load_model(state, vocab=corpus[0], heads=3)
    assert load_model(state, vocab=corpus[0], heads=2).backbone.cfg.num_heads == 2


def test_a_pickled_transformer_records_its_heads(trained, corpus):
    _, whole, _ = trained["Transformer"]
    assert load_model(whole, vocab=corpus[0]).backbone.cfg.num_heads == 2
    with pytest.raises(ModelFileError, match="heads=4 was given, but the file records 2"):
        load_model(whole, vocab=corpus[0], heads=4)


def test_an_rnn_state_dict_needs_tanh_or_relu_and_a_pickle_records_it(trained, corpus):
    _, whole, state = trained["RNN_RELU"]
    with pytest.raises(ModelFileError, match="does not record RNN_TANH or RNN_RELU: pass --nonlinearity"):
        load_model(state, vocab=corpus[0])
    assert load_model(state, vocab=corpus[0], nonlinearity="relu").backbone.cfg.nonlinearity == "relu"
    assert load_model(whole, vocab=corpus[0]).backbone.cfg.nonlinearity == "relu"


def test_save_model_refuses_the_example_model_and_its_advice_works(trained, corpus, tmp_path):
    from safetensors.torch import save_file

    model = trained["GRU"][0]
    with pytest.raises(TypeError, match=r"save module.state_dict\(\).*word_language_model example"):
        save_model(model, tmp_path / "x.safetensors")
    path = tmp_path / "gru.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    assert load_model(path, vocab=corpus[0]).backbone.cfg.arch == "gru"


def test_vocab_and_heads_are_refused_for_other_files(tmp_path):
    path = save_model(torch.nn.GRU(3, 4), tmp_path / "gru.safetensors")
    with pytest.raises(ModelFileError, match="vocab given, but it is a seqviz model file"):
        load_model(path, vocab=["a"])
    with pytest.raises(ModelFileError, match="heads given, but it is a seqviz model"):
        load_model("untrained-gru", heads=2)


# Saving, gradients, edits --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["GRU", "Transformer"])
def test_an_opened_example_model_saves_as_one_seqviz_file(trained, corpus, kind, tmp_path):
    loaded = load_model(trained[kind][1], vocab=corpus[0])
    again = load_model(save_model(loaded, tmp_path / "wlm.safetensors"))  # no vocab needed any more
    assert again.tokenizer.vocab == loaded.tokenizer.vocab and again.tokenizer.level == "space"
    np.testing.assert_array_equal(seqviz.trace(again, TEXT)["hidden"], seqviz.trace(loaded, TEXT)["hidden"])


@pytest.mark.parametrize("kind", ["LSTM", "Transformer"])
def test_input_gradients_are_those_of_the_example_forward(trained, corpus, kind):
    model, whole, _ = trained[kind]
    loaded = load_model(whole, vocab=corpus[0])
    tr = seqviz.trace(loaded, TEXT, gradients=True)
    ids = torch.as_tensor([corpus[1].word2idx[w] for w in TEXT.split()]).view(-1, 1)  # (T, 1)
    embedding = model.encoder if kind == "LSTM" else model.input_emb
    x = embedding(ids).detach().double().requires_grad_()  # (T, 1, d): the leaf the gradients are of
    model.double().eval()
    try:
        with torch.enable_grad():
            saved = embedding.forward
            embedding.forward = lambda _: x
            if kind == "LSTM":
                log_probs = model(ids, tuple(h.double() for h in model.init_hidden(1)))[0]
            else:
                log_probs = model(ids).view(len(ids), -1)
            embedding.forward = saved
            for t in (2, 7):
                (grad,) = torch.autograd.grad(log_probs[t].max(), x, retain_graph=True)
                norms = grad[:, 0].norm(dim=-1).numpy()
                np.testing.assert_allclose(tr["input_gradient_norm"][t], norms, rtol=1e-4, atol=1e-7)
    finally:
        model.float()
    assert (tr["input_gradient_norm"][2, 3:] == 0).all()  # causal: later words have no influence


def test_ablating_a_head_of_the_example_transformer(trained, corpus):
    from seqviz.edits import AblateHead

    loaded = load_model(trained["Transformer"][1], vocab=corpus[0])
    plain = seqviz.trace(loaded, TEXT)
    edited = seqviz.trace(loaded, TEXT, edits=[AblateHead(1, 0)])
    np.testing.assert_array_equal(edited["hidden"][:, 0], plain["hidden"][:, 0])  # layer 0 untouched
    assert not np.allclose(edited["hidden"][:, 1], plain["hidden"][:, 1])
    assert edited.meta.edits == ("head 0 of layer 1 ablated",)


# A large vocabulary ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["GRU", "Transformer"])
def test_a_large_vocabulary_keeps_the_top_words_and_the_true_next_word(kind, tmp_path):
    from seqviz.core.top_outputs import LARGE_VOCABULARY, TOP_K

    words = [f"w{i}" for i in range(LARGE_VOCABULARY + 1000)]
    model = ex.build(kind, len(words), seed=3, ninp=16, nhid=16)
    loaded = load_model(ex.save_whole(model, tmp_path / "big.pt"), vocab=words)
    text = "w5 w17 w5 w4000 w5999 w17"
    ids = [int(w[1:]) for w in text.split()]
    tr = seqviz.trace(loaded, text, gradients=True)
    log_probs = reference(model, ids)[0].double()  # (T, V)
    assert "probs" not in tr and tr["top_ids"].shape == (len(ids), TOP_K)
    expected_top = log_probs.topk(TOP_K, dim=-1)
    np.testing.assert_array_equal(tr["top_ids"], expected_top.indices.numpy())
    np.testing.assert_allclose(tr["top_probs"], expected_top.values.exp().numpy(), atol=1e-6)
    truth = log_probs[:-1].gather(1, torch.as_tensor(ids[1:])[:, None])[:, 0]  # row t predicts word t+1
    np.testing.assert_allclose(tr["target_prob"][:-1], truth.exp().numpy(), rtol=1e-5)
    # Its rank: 1 + the words more probable; words within float32 rounding of it may go either way.
    above = (1 + (log_probs[:-1] > truth[:, None] + 1e-5).sum(dim=1)).numpy()
    level = (1 + (log_probs[:-1] > truth[:, None] - 1e-5).sum(dim=1)).numpy()
    assert ((above <= tr["target_rank"][:-1]) & (tr["target_rank"][:-1] <= level)).all()
    assert np.isnan(tr["target_prob"][-1]) and tr["target_rank"][-1] == -1  # no next word to check
    np.testing.assert_allclose(tr["next_probs"], log_probs[-1].exp().numpy(), atol=1e-6)  # to generate from
    assert tr["input_gradient_norm"].shape == (len(ids), len(ids))  # of the top word, top_ids[:, 0]
