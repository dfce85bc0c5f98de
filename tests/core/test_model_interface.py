"""The one model interface: every model seqviz opens answers the same questions, and trace options reach
every tracer (an unknown option names the ones the model takes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

import seqviz
from seqviz.core.adapters import open_model
from seqviz.core.model_interface import SequenceModel, UnknownOptionError
from seqviz.core.modelfile import load_model, model_ids
from seqviz.core.seqmodel import ModelCard, RecurrentConfig, RecurrentNet, TokenModel
from seqviz.core.tokenize import Tokenizer, UnknownTokenError


@pytest.mark.parametrize("model_id", model_ids())
def test_every_listed_model_answers_the_interface(model_id):
    model = open_model(load_model(model_id), source=model_id)
    assert isinstance(model, SequenceModel) and model.source == model_id and model.label
    text = model.examples[0]
    tr = model.trace(text)
    assert (
        tr.tokens == model.tokens(text)
        and model.count_tokens(text) == tr.num_steps
        or model.head == "seq2seq"
    )
    assert model.special_tokens <= {"<unk>", "<pad>", "<s>", "</s>"}
    assert model.can_generate == (model.head == "lm" and model.causal)
    assert len(model.output_labels) == tr["probs"].shape[1]
    assert all(model.output_labels[i] in model.special_tokens for i in model.generation_banned())


def test_an_unknown_trace_option_names_the_options_the_model_takes():
    with pytest.raises(UnknownOptionError, match="colour.*initial_state, targets"):
        seqviz.trace(load_model("untrained-lstm"), "hello", colour="red")
    with pytest.raises(TypeError, match="mask, memory, memory_mask, tokens"):
        seqviz.trace(nn.TransformerEncoderLayer(8, 2), torch.randn(3, 8), colour="red")


def test_trace_options_reach_the_tracer_of_a_seqviz_model():
    model = load_model("untrained-gru")  # 2 layers, 32 units
    h0 = torch.randn(2, 32)
    tr = seqviz.trace(model, "abc", initial_state=h0)
    np.testing.assert_allclose(tr["initial_hidden"][:, 0], h0.numpy(), rtol=1e-6)
    plain = seqviz.trace(model, "abc")
    assert not np.allclose(tr["hidden"][0], plain["hidden"][0])  # the state really started from h0


def test_targets_become_the_true_answers_in_the_trace():
    model = load_model("sentiment-lstm")
    text = model.card.examples[0]
    label = model.output_labels[2]
    tr = seqviz.trace(model, text, targets=[None] * 5 + [label])
    assert tr.meta.target == 2
    tagger = load_model("pos-gru")
    tags = tagger.output_labels[:3]
    tr = seqviz.trace(tagger, "they cook the", targets=tags)
    assert [tagger.output_labels[i] for i in tr.meta.targets] == tags
    with pytest.raises(ValueError, match="one per step"):
        seqviz.trace(tagger, "they cook the", targets=tags[:2])


def test_a_bare_module_reads_text_as_one_vector_per_character():
    lstm = nn.LSTM(4, 6)
    model = open_model(lstm)
    tr = model.trace("abca")
    assert tr.tokens == list("abca") and tr.meta.input_note
    np.testing.assert_array_equal(tr["hidden"][0], tr["hidden"][0])
    assert model.text_domain == "characters" and model.head == "" and not model.can_generate
    with pytest.raises(TypeError, match="reads vectors"):
        model.encode("abc")


@pytest.mark.parametrize(("level", "text", "expected"), [("char", "ab", "abc"), ("word", "a b", "a b c")])
def test_extend_text_appends_a_token_the_way_the_tokenizer_reads_it_back(level, text, expected):
    tok = Tokenizer(["a", "b", "c"], level)
    backbone = RecurrentNet(RecurrentConfig("gru", len(tok.vocab), len(tok.vocab), 4, 4))
    model = open_model(TokenModel(backbone, tok, "lm", card=ModelCard(id="x", examples=[text])))
    grown = model.extend_text(text, tok.vocab.index("c"))
    assert grown == expected
    assert model.tokens(grown) == [*model.tokens(text), "c"]
    assert model.decode(model.encode(grown)) == grown  # ids and back


def test_a_vocabulary_without_an_unknown_token_names_the_unknown_word():
    tok = Tokenizer.from_dict({"vocab": ["the", "cat"], "level": "word"})
    assert "<unk>" not in tok.vocab  # the model's embedding has exactly these rows
    backbone = RecurrentNet(RecurrentConfig("rnn", 2, 2, 4, 4))
    model = TokenModel(backbone, tok, "tag", output_labels=["A", "B"])
    with pytest.raises(UnknownTokenError, match="'dog'.*no unknown-word token"):
        seqviz.trace(model, "the dog")
    assert seqviz.trace(model, "the cat").num_steps == 2


def test_anything_else_is_refused_with_what_seqviz_opens():
    with pytest.raises(TypeError, match="cannot trace a Linear.*nn.LSTM"):
        open_model(nn.Linear(2, 2))
