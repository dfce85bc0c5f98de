"""AblateHead on Hugging Face models (the head's output zeroed before the output projection), against a
copy whose projection ignores the head; input gradients against torch.autograd on the model's own
forward from its input embeddings."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hf_folders import folder

import seqviz
from seqviz.core import hf
from seqviz.core.gradients import gradient_rows
from seqviz.core.gradients_map import LOG_PROB
from seqviz.edits import AblateHead, ClampGate, ScaleRecurrent

TEXT = "hello world, the quick brown fox"
_MODELS: dict[str, object] = {}


def opened(model_type: str):
    if model_type not in _MODELS:
        _MODELS[model_type] = hf.load_folder(folder(model_type))
    return _MODELS[model_type]


def without_head(module, projection: str, head: int, heads: int):
    """A copy of the model whose projection at `projection` reads nothing from `head`."""
    edited = copy.deepcopy(module)
    proj = edited.get_submodule(projection)
    width = (proj.weight.shape[0] if type(proj).__name__ == "Conv1D" else proj.weight.shape[1]) // heads
    cols = slice(head * width, (head + 1) * width)
    with torch.no_grad():
        if type(proj).__name__ == "Conv1D":  # GPT-2's Conv1D: weight (in, out)
            proj.weight[cols, :] = 0.0
        else:
            proj.weight[:, cols] = 0.0
    return edited


@pytest.mark.parametrize(
    ("model_type", "projection"),
    [
        ("gpt2", "transformer.h.1.attn.c_proj"),
        ("llama", "model.layers.1.self_attn.o_proj"),
        ("bert", "bert.encoder.layer.1.attention.output.dense"),
    ],
)
def test_ablate_head_is_the_model_without_that_head(model_type, projection):
    model = opened(model_type)
    tr = model.trace(TEXT, edits=[AblateHead(1, 2)])
    reference = without_head(model.module, projection, 2, 4)
    ids = torch.tensor([list(tr.meta.token_ids)])
    with torch.no_grad():
        out = reference(ids, output_attentions=True, output_hidden_states=True)
    np.testing.assert_allclose(np.asarray(tr["attention"]), torch.cat(out.attentions).numpy(), atol=1e-5)
    np.testing.assert_allclose(tr["hidden"][:, 0, 0], out.hidden_states[1][0].numpy(), atol=1e-4)
    top = torch.topk(out.logits[0], tr["top_ids"].shape[1]).indices.numpy()
    np.testing.assert_array_equal(tr["top_ids"], top)
    assert tr.meta.edits == ("head 2 of layer 1 ablated",)
    assert not np.allclose(tr["hidden"][:, 1], model.trace(TEXT)["hidden"][:, 1], atol=1e-4)  # it changed


@pytest.mark.parametrize(
    ("attention", "projection"),
    [
        ("cross", "model.decoder.layers.0.encoder_attn.out_proj"),
        ("encoder", "model.encoder.layers.1.self_attn.out_proj"),
    ],
)
def test_ablate_head_of_an_encoder_decoder(attention, projection):
    model = opened("bart")
    layer = 0 if attention == "cross" else 1
    tr = model.trace(TEXT, edits=[AblateHead(layer, 1, attention=attention)], max_new_tokens=5)
    reference = without_head(model.module, projection, 1, 4)
    src, dec = torch.tensor([list(tr.meta.source_ids)]), torch.tensor([list(tr.meta.decoder_input_ids)])
    generated = reference.generate(src, do_sample=False, num_beams=1, max_new_tokens=5)[0].tolist()
    assert list(tr.meta.output_ids) == generated[1:]  # greedy decoding ran the edited model too
    with torch.no_grad():
        out = reference(input_ids=src, decoder_input_ids=dec, output_hidden_states=True)
    decoder, encoder = out.decoder_hidden_states[-1][0], out.encoder_hidden_states[-1][0]
    np.testing.assert_allclose(tr["hidden"][:, -1, 0], decoder.numpy(), atol=1e-4)
    np.testing.assert_allclose(tr["encoder_hidden"][:, -1, 0], encoder.numpy(), atol=1e-4)


def test_an_edited_trace_appends_from_its_cache_with_the_edit():
    model = opened("gpt2")
    edits = [AblateHead(0, 1)]
    tr = model.append(model.trace(TEXT, edits=edits), TEXT, 11)
    full = model.trace([*model.encode(TEXT), 11], edits=edits)
    np.testing.assert_allclose(tr["hidden"], full["hidden"], atol=1e-5)
    np.testing.assert_allclose(tr["top_probs"], full["top_probs"], atol=1e-6)
    assert tr.meta.edits == full.meta.edits


def test_edits_that_do_not_fit_say_what_would():
    gpt2, bart = opened("gpt2"), opened("bart")
    with pytest.raises(ValueError, match="layer 5 is out of range; the model has layers 0–1"):
        gpt2.trace(TEXT, edits=[AblateHead(5, 0)])
    with pytest.raises(ValueError, match="head 4 is out of range; layer 0 has heads 0–3"):
        gpt2.trace(TEXT, edits=[AblateHead(0, 4)])
    with pytest.raises(ValueError, match="no 'cross' attention; it has 'self'"):
        gpt2.trace(TEXT, edits=[AblateHead(0, 0, attention="cross")])
    with pytest.raises(ValueError, match="ClampGate sets the states of recurrent models.*AblateHead"):
        gpt2.trace(TEXT, edits=[ClampGate("forget_gate", 0, [1], [0], 1.0)])
    with pytest.raises(ValueError, match="ScaleRecurrent is for recurrent models"):
        bart.trace(TEXT, edits=[ScaleRecurrent(2.0)])


def embedding_gradients(module, embedding, outputs_of, predicted) -> np.ndarray:
    """‖∂y_t/∂x_s‖ by autograd: x = embedding's output (a leaf), y_t = log p(predicted[t]) (or ‖h_t‖
    when predicted is None)."""
    rows = []
    x = embedding.detach().clone().requires_grad_()
    outputs = outputs_of(x)
    for t in range(outputs.shape[0]):
        y = torch.log_softmax(outputs[t], -1)[predicted[t]] if predicted is not None else outputs[t].norm()
        (grad,) = torch.autograd.grad(y, x, retain_graph=True)
        rows.append(grad[0].norm(dim=-1).numpy())
    return np.array(rows)


def test_gradients_of_a_causal_language_model():
    model = opened("gpt2")
    tr = seqviz.trace(model, TEXT, gradients=True)
    ids = torch.tensor([list(tr.meta.token_ids)])
    wte = model.module.get_input_embeddings()(ids)
    expected = embedding_gradients(
        model.module, wte, lambda x: model.module(inputs_embeds=x).logits[0], tr["top_ids"][:, 0]
    )
    np.testing.assert_allclose(tr["input_gradient_norm"], expected, rtol=1e-4, atol=1e-7)
    assert np.all(np.triu(tr["input_gradient_norm"], k=1) == 0.0) and tr.meta.gradient_target == LOG_PROB
    rows = gradient_rows(model, TEXT, [4, 1], trace=tr)  # what the app's gradient filler asks for
    np.testing.assert_allclose(rows, tr["input_gradient_norm"][[4, 1]], rtol=1e-6)


def test_gradients_of_an_encoder_decoder_are_over_the_source():
    model = opened("bart")
    tr = model.trace(TEXT, gradients=True, max_new_tokens=4)
    src, dec = torch.tensor([list(tr.meta.source_ids)]), torch.tensor([list(tr.meta.decoder_input_ids)])
    embedded = model.module.get_encoder().get_input_embeddings()(src)
    expected = embedding_gradients(
        model.module,
        embedded,
        lambda x: model.module(inputs_embeds=x, decoder_input_ids=dec).logits[0],
        tr["top_ids"][:, 0],
    )
    assert tr["input_gradient_norm"].shape == (tr.num_steps, len(tr.source_tokens))
    np.testing.assert_allclose(tr["input_gradient_norm"], expected, rtol=1e-4, atol=1e-7)


def test_gradients_run_the_edited_model():
    model = opened("gpt2")
    plain = model.trace(TEXT, gradients=True)["input_gradient_norm"]
    edited = model.trace(TEXT, gradients=True, edits=[AblateHead(0, 0)])["input_gradient_norm"]
    assert not np.allclose(plain, edited)


@pytest.mark.parametrize("model_type", ["bert", "t5", "llama"])
def test_gradients_start_from_the_head_s_input_not_the_vocabulary(model_type, monkeypatch):
    """A masked LM's head transform, T5's scaled tied head, Llama's: the map equals autograd through
    the logits, while the rows are differentiated from the output projection's input (T, d) with
    seeds ∂y_t/∂logits_t · W, made block by block: no (T, V) cotangent or seed is kept."""
    from seqviz.core.hf import gradients

    runs = []
    made = gradients.DifferentiableRun
    monkeypatch.setattr(gradients, "DifferentiableRun", lambda *args: runs.append(made(*args)) or runs[-1])
    model = opened(model_type)
    options = {"mask_positions": [3]} if model_type == "bert" else {}
    tr = model.trace(TEXT, gradients=True, **options)
    module = model.module
    seq2seq = model_type == "t5"
    ids = torch.tensor([list(tr.meta.source_ids if seq2seq else tr.meta.token_ids)])
    embedded = (module.get_encoder() if seq2seq else module).get_input_embeddings()(ids)
    extra = {"decoder_input_ids": torch.tensor([list(tr.meta.decoder_input_ids)])} if seq2seq else {}
    expected = embedding_gradients(
        module, embedded, lambda x: module(inputs_embeds=x, **extra).logits[0], tr["top_ids"][:, 0]
    )
    np.testing.assert_allclose(tr["input_gradient_norm"], expected, rtol=1e-4, atol=1e-7)
    width = module.get_output_embeddings().weight.shape[1]
    assert [(run.outputs.shape[-1], run.cotangents.shape[-1]) for run in runs] == [(width, width)]  # d, not V
