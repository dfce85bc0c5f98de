"""Models of PyTorch's word_language_model example (github.com/pytorch/examples), as seqviz models.

The example trains `RNNModel` (encoder = nn.Embedding -> rnn = nn.LSTM / nn.GRU / nn.RNN tanh or relu
-> decoder = nn.Linear, log-softmax) or `TransformerModel` (word_lm_transformer.py) on a word corpus,
and its main.py saves `torch.save(model, f)`; students also save `model.state_dict()`. Both load here:
a pickled model is read as data by seqviz.core.module_pickle (never run), a state dict is recognised
by its keys. The vocabulary is not in either file: `vocab=` gives it (seqviz.core.word_lm_vocab).

The result is a TokenModel: a word tokenizer over the vocabulary (words split on whitespace, as the
corpus was), and the example's own weights in RecurrentNet (embedding -> rnn -> head) or in
ExampleTransformer; its probabilities are softmax of the decoder's output, the exponent of the
example's log-softmax. Facts a state dict does not record are options: `heads=` (a Transformer's
number of attention heads) and `nonlinearity=` (an RNN_TANH or RNN_RELU model); a pickle records both.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from seqviz.core.module_pickle import PickledFunction, PickledObject, state_dict_of
from seqviz.core.statedict import ModelFileError, infer_recurrent
from seqviz.core.word_lm_vocab import WRITE_VOCAB, Vocabulary, read_vocabulary, vocabulary_beside

if TYPE_CHECKING:
    import torch

    from seqviz.core.seqmodel import TokenModel

VocabArg = str | os.PathLike[str] | Sequence[str] | None
EXAMPLE = "PyTorch's word_language_model example"
_RNN_PARAM = re.compile(r"^rnn\.(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l\d+(_reverse)?$")
_LAYER_KEY = re.compile(r"^layers\.\d+\.")
RNN_TYPES = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn", "RNN_RELU": "rnn"}  # the example's --model


@dataclass(frozen=True)
class ExampleFile:
    """What a file of the example holds: `kind` "rnn" or "transformer", the tensors under the example's
    names, and the facts a pickle records (None where the file does not say)."""

    kind: str
    tensors: dict[str, torch.Tensor]
    rnn_type: str | None = None  # "LSTM", "GRU", "RNN_TANH", "RNN_RELU"
    num_heads: int | None = None
    norm_first: bool = False
    activation: str = "relu"
    layer_norm_eps: float = 1e-5
    input_scale: float = 0.0  # sqrt(ninp)
    stack: str = (
        "encoder"  # the Transformer's encoder stack: "encoder", or "transformer_encoder" (before 2023)
    )
    embedding: str = "input_emb"  # the Transformer's embedding: "input_emb", or "encoder" (before 2023)


# Recognising the example's files ----------------------------------------------------------------------


def recognise_state_dict(tensors: dict[str, torch.Tensor]) -> ExampleFile | None:
    """The example's RNNModel or TransformerModel state dict (by its keys), else None."""
    keys = set(tensors)
    if not {"decoder.weight", "decoder.bias"} <= keys:
        return None
    rest = keys - {"decoder.weight", "decoder.bias"}
    recurrent = rest - {"encoder.weight"}
    if "encoder.weight" in rest and recurrent and all(_RNN_PARAM.match(k) for k in recurrent):
        return ExampleFile("rnn", tensors)
    for embedding, stack in (("input_emb", "encoder"), ("encoder", "transformer_encoder")):
        inside = {k for k in rest if k.startswith(f"{stack}.layers.")}
        known = {f"{embedding}.weight", "pos_encoder.pe", f"{stack}.norm.weight", f"{stack}.norm.bias"}
        if f"{embedding}.weight" in rest and inside and rest - inside <= known:
            return ExampleFile("transformer", tensors, stack=stack, embedding=embedding)
    return None


def recognise_pickle(path: Path, obj: PickledObject) -> ExampleFile:
    """A pickled RNNModel or TransformerModel: its tensors and what it records. ModelFileError when its
    modules are not the example's (a changed model.py)."""
    found = recognise_state_dict(state_dict_of(path, obj))
    expected = "RNNModel" if obj.class_name == "RNNModel" else "TransformerModel"
    if found is None or (found.kind == "rnn") != (expected == "RNNModel"):
        modules = ", ".join(obj.modules()) or "none"
        raise ModelFileError.at(
            path,
            f"its {obj.class_name} has the modules {modules}, not those of {EXAMPLE}'s {expected} "
            "(an RNNModel has encoder, rnn and decoder), so seqviz cannot know what it computes; "
            "save its recurrent layer's state dict instead: torch.save(model.rnn.state_dict(), 'rnn.pt')",
        )
    if found.kind == "rnn":
        rnn = obj.child("rnn")
        return replace(found, rnn_type=rnn.get("mode") if rnn is not None else None)
    return replace(found, **_transformer_facts(path, obj, found.stack))


def _transformer_facts(path: Path, obj: PickledObject, stack_name: str) -> dict:
    """heads, norm_first, activation and eps of the pickled encoder layers (all alike), the input scale."""
    stack = obj.child(stack_name)
    layers = stack.child("layers") if stack is not None else None
    facts = []
    for layer in layers.modules().values() if layers is not None else ():
        attention, norm = layer.child("self_attn"), layer.child("norm1")
        activation = layer.get("activation")
        facts.append(
            {
                "num_heads": attention.get("num_heads") if attention is not None else None,
                "norm_first": bool(layer.get("norm_first", False)),
                "activation": activation.name.rpartition(".")[2]
                if isinstance(activation, PickledFunction)
                else repr(activation),
                "layer_norm_eps": norm.get("eps", 1e-5) if norm is not None else 1e-5,
            }
        )
    if not facts or any(f != facts[0] for f in facts) or not isinstance(facts[0]["num_heads"], int):
        raise ModelFileError.at(
            path,
            f"its encoder layers are not those of {EXAMPLE}, or differ from each other; trace its "
            "encoder stack in Python instead: seqviz.trace(model.encoder, inputs, mask='causal')",
        )
    ninp = obj.get("ninp")
    scale = math.sqrt(ninp) if isinstance(ninp, int) and ninp > 0 else 0.0
    return {**facts[0], "input_scale": scale}


# Building the seqviz model ----------------------------------------------------------------------------


def build(
    path: Path, found: ExampleFile, vocab: VocabArg, heads: int | None, nonlinearity: str | None
) -> TokenModel:
    """The TokenModel of an example file, given its vocabulary (and what the file lacks)."""
    rows = int(found.tensors[_embedding_key(found)].shape[0])
    vocabulary = read_vocabulary(vocab) if vocab is not None else vocabulary_beside(path, rows)
    if vocabulary is None:
        raise ModelFileError.at(path, need_vocab(found))
    if rows != len(vocabulary.words):
        raise ModelFileError.at(
            path,
            f"the vocabulary has {len(vocabulary.words)} words ({vocabulary.source}) but the model's "
            f"embedding has {rows} rows: give the vocabulary of the corpus it was trained on",
        )
    if found.kind == "rnn":
        backbone = _recurrent_backbone(path, found, nonlinearity)
    else:
        backbone = _transformer_backbone(path, found, heads)
    return _token_model(path, found, backbone, vocabulary)


def need_vocab(found: ExampleFile) -> str:
    """The message for an example file opened without its vocabulary: what to pass, and how to get it."""
    what = "an RNNModel" if found.kind == "rnn" else "a TransformerModel"
    return (
        f"it is {what} of {EXAMPLE}; its vocabulary is not in the file: pass the data folder it was "
        "trained on (--vocab data/wikitext-2, or vocab= in Python), or a file of one word per line in "
        "id order (corpus.dictionary.idx2word; as vocab.txt beside the model it is found without "
        f"options), which this line writes in the example's folder: {WRITE_VOCAB}"
    )


def _embedding_key(found: ExampleFile) -> str:
    return "encoder.weight" if found.kind == "rnn" else f"{found.embedding}.weight"


def _recurrent_backbone(path: Path, found: ExampleFile, nonlinearity: str | None):
    """RecurrentNet: embedding = the example's encoder, rnn = its rnn, head = its decoder."""
    from seqviz.core.seqmodel import RecurrentConfig, RecurrentNet

    t = found.tensors
    params = {k.removeprefix("rnn."): v for k, v in t.items() if k.startswith("rnn.")}
    cls_name, kwargs = infer_recurrent(path, params)
    rnn_type = _rnn_type(path, found.rnn_type, cls_name, nonlinearity)
    vocab_size, embed_dim = t["encoder.weight"].shape
    cfg = RecurrentConfig(
        RNN_TYPES[rnn_type],
        int(vocab_size),
        int(t["decoder.weight"].shape[0]),
        int(embed_dim),
        kwargs["hidden_size"],
        kwargs["num_layers"],
        kwargs["bidirectional"],
        "relu" if rnn_type == "RNN_RELU" else "tanh",
    )
    state = {"embedding.weight": t["encoder.weight"], "head.weight": t["decoder.weight"]}
    state.update({"head.bias": t["decoder.bias"], **{f"rnn.{k}": v for k, v in params.items()}})
    return _loaded(path, RecurrentNet, cfg, state)  # checks every key and shape (bias, projections)


def _rnn_type(path: Path, recorded: str | None, cls_name: str, nonlinearity: str | None) -> str:
    """The example's --model: as the pickle records it, from the weights (LSTM, GRU), or given."""
    rnn_type = recorded or {"LSTM": "LSTM", "GRU": "GRU"}.get(cls_name)
    if rnn_type is None:  # an nn.RNN state dict does not record tanh or relu
        if nonlinearity is None:
            raise ModelFileError.at(
                path,
                f"it is an RNNModel with nn.RNN of {EXAMPLE}, and its state dict does not record RNN_TANH "
                "or RNN_RELU: pass --nonlinearity tanh or relu (nonlinearity= in Python), as it was trained",
            )
        rnn_type = f"RNN_{nonlinearity.upper()}"
    if RNN_TYPES.get(rnn_type) != cls_name.lower():
        raise ModelFileError.at(path, f"its rnn is an nn.{cls_name}, but the file says {rnn_type!r}")
    return rnn_type


def _transformer_backbone(path: Path, found: ExampleFile, heads: int | None):
    """ExampleTransformer: the example's embedding, positions (`pe`), encoder stack and decoder."""
    from seqviz.core.word_lm_transformer import ExampleTransformer, ExampleTransformerConfig, sinusoids

    t, stack = found.tensors, f"{found.stack}."
    inside = {k[len(stack) :]: v for k, v in t.items() if k.startswith(stack)}  # the stack's own keys
    vocab_size, d_model = (int(n) for n in t[f"{found.embedding}.weight"].shape)
    pe = t.get("pos_encoder.pe")
    pe = pe.reshape(pe.shape[0], -1) if pe is not None else sinusoids(5000, d_model)  # (max_len, d)
    feedforward = inside.get("layers.0.linear1.weight")
    if feedforward is None:
        raise ModelFileError.at(path, f"its {stack}layers.0 has no linear1: not {EXAMPLE}'s encoder layer")
    cfg = ExampleTransformerConfig(
        vocab_size,
        d_model,
        _num_heads(path, found, heads, d_model),
        int(feedforward.shape[0]),
        len({k.split(".")[1] for k in inside if _LAYER_KEY.match(k)}),
        int(pe.shape[0]),
        final_norm="norm.weight" in inside,
        norm_first=found.norm_first,
        activation=found.activation,
        layer_norm_eps=float(found.layer_norm_eps),
        input_scale=found.input_scale,
    )
    state = {"embedding.weight": t[f"{found.embedding}.weight"], "pe": pe}
    state.update({f"encoder.{k}": v for k, v in inside.items()})
    state.update({k: v for k, v in t.items() if k.startswith("decoder.")})
    return _loaded(path, ExampleTransformer, cfg, state)


def _num_heads(path: Path, found: ExampleFile, heads: int | None, d_model: int) -> int:
    """Attention heads: as the pickle records them, or `heads=` for a state dict (which lacks them)."""
    if found.num_heads and heads and heads != found.num_heads:
        raise ModelFileError.at(path, f"heads={heads} was given, but the file records {found.num_heads}")
    num_heads = found.num_heads or heads
    if num_heads is None:
        raise ModelFileError.at(
            path,
            f"it is a TransformerModel of {EXAMPLE}, and its state dict does not record its number of "
            "attention heads: pass --heads N (heads= in Python), the --nhead it was trained with "
            "(the example's default is 2)",
        )
    if d_model % num_heads:
        raise ModelFileError.at(
            path, f"{num_heads} heads do not divide the model width {d_model}: check --heads"
        )
    return num_heads


def _loaded(path: Path, cls, cfg, state: dict):
    """cls(cfg) with `state` loaded, after checking every key and shape on a meta-device skeleton."""
    import torch

    try:
        with torch.device("meta"):
            skeleton = cls(cfg)
    except ValueError as exc:
        raise ModelFileError.at(path, f"it does not describe a model of {EXAMPLE} ({exc})") from None
    expected = skeleton.state_dict()
    wrong = [f"missing {k}" for k in expected if k not in state]
    wrong += [f"unexpected {k}" for k in state if k not in expected]
    wrong += [
        f"{k} is {tuple(state[k].shape)}, needs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if wrong:
        raise ModelFileError.at(path, f"its tensors do not fit {EXAMPLE}'s model: {'; '.join(wrong[:4])}")
    with torch.random.fork_rng(devices=[]):  # loading must not move the caller's random stream
        model = cls(cfg)
    if {v.dtype for v in state.values() if v.is_floating_point()} == {torch.float64}:
        model = model.double()  # else float32: load_state_dict widens half-precision weights
    model.load_state_dict(state)
    return model.eval()


def _token_model(path: Path, found: ExampleFile, backbone, vocabulary: Vocabulary) -> TokenModel:
    from seqviz.core.seqmodel import ModelCard, TokenModel
    from seqviz.core.tokenize import Tokenizer

    cfg = backbone.cfg
    if found.kind == "rnn":
        what = f"{cfg.arch.upper()}{' (' + cfg.nonlinearity + ')' if cfg.arch == 'rnn' else ''}"
        sizes = f"{cfg.num_layers} layers of {cfg.hidden_size} units, embedding {cfg.embed_dim}"
    else:
        what = "Transformer"
        sizes = f"{cfg.num_layers} layers, {cfg.num_heads} heads, d_model {cfg.d_model}"
    card = ModelCard(
        id=path.name,
        title=f"word_language_model {what}",
        description=f"{EXAMPLE}: {sizes}, {len(vocabulary.words)} words ({vocabulary.source})",
        examples=[vocabulary.example] if vocabulary.example else [],
    )
    tokenizer = Tokenizer(vocabulary.words, "space", add_unknown=False)
    return TokenModel(backbone, tokenizer, "lm", card=card).eval()
