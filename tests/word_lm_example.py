"""A stand-in for PyTorch's word_language_model example (github.com/pytorch/examples), for tests.

Written for seqviz after the example's published structure (its model.py, data.py and main.py), so
that the files these classes write are the files a student's run writes:
- `RNNModel(rnn_type, ntoken, ninp, nhid, nlayers, dropout, tie_weights)`: drop -> encoder (nn.Embedding)
  -> rnn (nn.LSTM / nn.GRU / nn.RNN tanh or relu) -> drop -> decoder (nn.Linear) -> log_softmax;
  inputs (T, B) (not batch-first), `forward(input, hidden) -> (log-probs (T*B, ntoken), hidden)`.
- `TransformerModel(ntoken, ninp, nhead, nhid, nlayers, dropout)`: an `nn.Transformer` whose encoder
  alone is used: input_emb * sqrt(ninp) -> pos_encoder (sinusoids in the buffer `pe`, then dropout)
  -> encoder (with the final norm nn.Transformer builds) under a causal mask -> decoder -> log_softmax.
- `LegacyTransformerModel`: the same model as the example wrote it before August 2023 (an nn.Module
  with `encoder` the embedding, `transformer_encoder` without a final norm).
- `Corpus(folder)`: the example's data.Corpus: the dictionary of train.txt, valid.txt and test.txt,
  words split on whitespace, '<eos>' after every line, in order of first appearance.

`save_whole(model, path)` is the example's `torch.save(model, f)`: the pickle names the classes
`model.RNNModel`, ... as the example's `from model import RNNModel` does.
"""

from __future__ import annotations

import math
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

RNN_TYPES = ("LSTM", "GRU", "RNN_TANH", "RNN_RELU")
EXAMPLE_MODULE = "model"  # the module the example's classes live in (its model.py)


class RNNModel(nn.Module):
    """Embedding, a recurrent stack and a linear decoder, with dropout around the stack."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ("LSTM", "GRU"):
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:  # one matrix for the input embedding and the output layer
            if nhid != ninp:
                raise ValueError("tied weights need nhid == ninp")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, input, hidden):
        """input (T, B) ids -> log-probabilities (T*B, ntoken), the final hidden state."""
        emb = self.drop(self.encoder(input))  # (T, B, ninp)
        output, hidden = self.rnn(emb, hidden)  # (T, B, nhid)
        decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)  # (T*B, ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        zeros = weight.new_zeros(self.nlayers, bsz, self.nhid)
        return (zeros, zeros.clone()) if self.rnn_type == "LSTM" else zeros


class PositionalEncoding(nn.Module):
    """Adds sin/cos of the position at geometric frequencies (buffer `pe` (max_len, 1, d)), then dropout."""

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)  # (max_len, 1)
        frequency = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * frequency)
        pe[:, 1::2] = torch.cos(position * frequency)
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))  # (max_len, 1, d)

    def forward(self, x):
        """x (T, B, d) -> (T, B, d)."""
        return self.dropout(x + self.pe[: x.size(0), :])


class TransformerModel(nn.Transformer):
    """The example's Transformer (since 2023): nn.Transformer's encoder stack under a causal mask."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers)
        self.model_type = "Transformer"
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)  # replaces nn.Transformer's decoder stack
        nn.init.uniform_(self.input_emb.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, src, has_mask=True):
        """src (T, B) ids -> log-probabilities (T, B, ntoken)."""
        self.src_mask = torch.log(torch.tril(torch.ones(len(src), len(src)))) if has_mask else None
        x = self.pos_encoder(self.input_emb(src) * math.sqrt(self.ninp))  # (T, B, ninp)
        return F.log_softmax(self.decoder(self.encoder(x, mask=self.src_mask)), dim=-1)


class LegacyTransformerModel(nn.Module):
    """The example's Transformer before August 2023: its own TransformerEncoder, no final norm."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super().__init__()
        self.model_type = "Transformer"
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        layer = nn.TransformerEncoderLayer(ninp, nhead, nhid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, src, has_mask=True):
        """src (T, B) ids -> log-probabilities (T, B, ntoken)."""
        size = len(src)
        mask = torch.zeros(size, size).masked_fill(torch.ones(size, size).triu(1).bool(), float("-inf"))
        self.src_mask = mask if has_mask else None
        x = self.pos_encoder(self.encoder(src) * math.sqrt(self.ninp))
        return F.log_softmax(self.decoder(self.transformer_encoder(x, self.src_mask)), dim=-1)


# The data, as data.Corpus reads it ------------------------------------------------------------------

TINY_TEXT = {
    "train.txt": [
        " = The Cat = ",
        "",
        " the cat sat on the mat . the dog sat on the log . ",
        " a cat saw a dog , and the dog ran @-@ away . ",
        " the mat was red ; the log was <unk> . ",
    ],
    "valid.txt": [" the dog saw the cat on the mat . ", " a red cat ran away . "],
    "test.txt": [" the cat ran to the log . ", " Über 3 @.@ 5 cats sat . "],
}


def write_corpus(folder: Path) -> Path:
    """A tiny corpus in the layout of the example's data/wikitext-2: train.txt, valid.txt, test.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in TINY_TEXT.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf8")
    return folder


class Corpus:
    """data.Corpus: `idx2word` from train, valid and test in order of first appearance; `train` ids."""

    def __init__(self, folder: Path) -> None:
        self.idx2word: list[str] = []
        self.word2idx: dict[str, int] = {}
        self.train = self._ids(Path(folder) / "train.txt")
        self.valid = self._ids(Path(folder) / "valid.txt")
        self.test = self._ids(Path(folder) / "test.txt")

    def _ids(self, path: Path) -> torch.Tensor:
        ids = []
        with open(path, encoding="utf8") as f:
            for line in f:
                for word in line.split() + ["<eos>"]:
                    if word not in self.word2idx:
                        self.word2idx[word] = len(self.idx2word)
                        self.idx2word.append(word)
                    ids.append(self.word2idx[word])
        return torch.tensor(ids, dtype=torch.int64)


#: A data.py in the example's shape (its Dictionary and Corpus), for running the one-liner seqviz suggests.
DATA_PY = """
import os


class Dictionary:
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]


class Corpus:
    def __init__(self, path):
        self.dictionary = Dictionary()
        for name in ("train.txt", "valid.txt", "test.txt"):
            with open(os.path.join(path, name), encoding="utf8") as f:
                for line in f:
                    for word in line.split() + ["<eos>"]:
                        self.dictionary.add_word(word)
"""


def write_vocab(corpus: Corpus, path: Path) -> Path:
    """The vocabulary file seqviz reads: idx2word, one word per line."""
    path.write_text("\n".join(corpus.idx2word) + "\n", encoding="utf8")
    return path


# Building, training and saving -----------------------------------------------------------------------


def build(kind: str, ntoken: int, seed: int = 0, **sizes) -> nn.Module:
    """A fresh model: kind is one of RNN_TYPES, "Transformer" or "LegacyTransformer"."""
    torch.manual_seed(seed)
    ninp, nhid, nlayers = sizes.get("ninp", 8), sizes.get("nhid", 8), sizes.get("nlayers", 2)
    dropout = sizes.get("dropout", 0.2)
    if kind == "Transformer":
        return TransformerModel(ntoken, ninp, sizes.get("nhead", 2), nhid, nlayers, dropout)
    if kind == "LegacyTransformer":
        return LegacyTransformerModel(ntoken, ninp, sizes.get("nhead", 2), nhid, nlayers, dropout)
    return RNNModel(kind, ntoken, ninp, nhid, nlayers, dropout, sizes.get("tied", False))


def train_steps(model: nn.Module, ids: torch.Tensor, steps: int = 5, bptt: int = 6, lr: float = 1.0) -> None:
    """A few steps of the example's training loop: batchify into 2 columns, bptt chunks, NLL loss, SGD."""
    data = ids[: len(ids) // 2 * 2].view(2, -1).t().contiguous()  # (N, 2)
    transformer = not isinstance(model, RNNModel)
    model.train()
    hidden = None if transformer else model.init_hidden(2)
    for step in range(steps):
        i = step * bptt % max(1, len(data) - bptt - 1)
        source, target = data[i : i + bptt], data[i + 1 : i + 1 + bptt].reshape(-1)
        model.zero_grad()
        if transformer:
            output = model(source).view(-1, model.decoder.out_features)
        else:
            hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
            output, hidden = model(source, hidden)
        F.nll_loss(output, target).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-lr)
    model.eval()


@contextmanager
def example_module():
    """While open, the classes live in a module named `model`, as in the example's scripts."""
    module = types.ModuleType(EXAMPLE_MODULE)
    classes = (RNNModel, PositionalEncoding, TransformerModel, LegacyTransformerModel)
    saved = [(cls, cls.__module__, cls.__qualname__) for cls in classes]
    previous = sys.modules.get(EXAMPLE_MODULE)
    for cls in classes:
        name = "TransformerModel" if cls is LegacyTransformerModel else cls.__name__
        cls.__module__, cls.__qualname__ = EXAMPLE_MODULE, name
        if cls is not LegacyTransformerModel:
            setattr(module, name, cls)
    sys.modules[EXAMPLE_MODULE] = module
    try:
        yield module
    finally:
        for cls, owner, qualname in saved:
            cls.__module__, cls.__qualname__ = owner, qualname
        if previous is None:
            sys.modules.pop(EXAMPLE_MODULE, None)
        else:
            sys.modules[EXAMPLE_MODULE] = previous


def save_whole(model: nn.Module, path: Path) -> Path:
    """torch.save(model, f) as the example's main.py writes it (classes named model.RNNModel, ...)."""
    with example_module() as module:
        if isinstance(model, LegacyTransformerModel):
            module.TransformerModel = LegacyTransformerModel  # the old file's class of the same name
        with open(path, "wb") as f:
            torch.save(model, f)
    return path


def save_state_dict(model: nn.Module, path: Path) -> Path:
    torch.save(model.state_dict(), path)
    return path


def log_probs(model: nn.Module, ids: list[int]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The model's own forward on one sequence: log-probabilities (T, ntoken) and, for RNNModel, the
    hidden states of every layer (T, nhid) each (one layer at a time through the module's own rnn)."""
    model.eval()
    src = torch.as_tensor(ids, dtype=torch.long).view(-1, 1)  # (T, 1)
    with torch.no_grad():
        if not isinstance(model, RNNModel):
            return model(src).view(len(ids), -1), []
        out, _ = model(src, model.init_hidden(1))
        return out, layer_outputs(model, src)


def layer_outputs(model: RNNModel, src: torch.Tensor) -> list[torch.Tensor]:
    """Each layer's output (T, nhid), from one-layer copies of the model's rnn with its weights."""
    x = model.encoder(src)  # (T, 1, ninp)
    outputs = []
    rnn = model.rnn
    for layer in range(rnn.num_layers):
        kw = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
        one = type(rnn)(x.shape[-1], rnn.hidden_size, 1, **kw)
        one.load_state_dict(
            {k.replace(f"_l{layer}", "_l0"): v for k, v in rnn.state_dict().items() if f"_l{layer}" in k}
        )
        x, _ = one(x)
        outputs.append(x[:, 0])
    return outputs
