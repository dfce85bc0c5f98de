"""Whole pickled modules (`torch.save(model, f)`) are read as data: nothing in the file ever runs.

A hostile pickle (a `__reduce__` that calls os.system, a class of an unknown module) is refused before
anything is unpickled; a pickle that names the example's classes gets data-only stand-ins, so even a
`model` module that is importable here is never imported or called. Plain pickled nn.RNN/GRU/LSTM load.
"""

from __future__ import annotations

import os
import sys
import types

import pytest
import torch
import torch.nn as nn
import word_lm_example as ex

from seqviz.core.modelfile import ModelFileError, load_model
from seqviz.core.module_pickle import PickledObject, read_pickled_module, readable

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")


class _RunsCode:
    """Unpickling this calls os.system (what a hostile file does)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(3, 4)


def test_a_pickle_that_runs_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    torch.save({"weight": torch.zeros(2), "payload": _RunsCode(str(marker))}, path)
    with pytest.raises(ModelFileError, match=r"names posix\.system, which seqviz will not load"):
        load_model(path)
    assert not marker.exists()


def test_a_model_of_an_unknown_class_is_refused_with_what_to_save_instead(tmp_path):
    path = tmp_path / "net.pt"
    torch.save(_Net(), path)
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    message = str(err.value)
    assert "test_module_pickle._Net" in message and "torch.save(model.rnn.state_dict(), 'rnn.pt')" in message
    state = tmp_path / "rnn.pt"  # following the advice works
    torch.save(_Net().rnn.state_dict(), state)
    assert isinstance(load_model(state), nn.GRU)


def test_a_pickled_module_that_is_no_sequence_model_says_what_seqviz_reads(tmp_path):
    path = tmp_path / "linear.pt"
    torch.save(nn.Linear(2, 3), path)
    with pytest.raises(ModelFileError, match=r"holds a pickled Linear, not a sequence model; seqviz reads"):
        load_model(path)


def test_the_example_module_is_never_imported_or_called(tmp_path, monkeypatch):
    """Even with a `model` module on hand whose classes would run code, loading uses stand-ins."""
    data = ex.Corpus(ex.write_corpus(tmp_path / "data"))
    path = ex.save_whole(ex.build("GRU", len(data.idx2word)), tmp_path / "model.pt")
    calls = []
    trap = types.ModuleType("model")
    for name in ("RNNModel", "TransformerModel", "PositionalEncoding"):
        trap.__dict__[name] = type(name, (), {"__setstate__": lambda self, s: calls.append(s)})
    monkeypatch.setitem(sys.modules, "model", trap)
    loaded = load_model(path, vocab=data.idx2word)
    assert calls == []
    assert type(loaded).__name__ == "TokenModel"


def test_a_changed_example_model_is_refused_with_what_to_save_instead(tmp_path):
    class Changed(ex.RNNModel):  # a student's model.py with one more layer
        def __init__(self) -> None:
            super().__init__("GRU", 10, 4, 4, 2)
            self.extra = nn.Linear(4, 4)

    path = tmp_path / "changed.pt"
    with ex.example_module() as module:
        Changed.__module__, Changed.__qualname__ = "model", "RNNModel"
        module.RNNModel = Changed
        torch.save(Changed(), path)
    with pytest.raises(ModelFileError) as err:
        load_model(path, vocab=[f"w{i}" for i in range(10)])
    assert "has the modules drop, encoder, rnn, decoder, extra" in str(err.value)
    assert "torch.save(model.rnn.state_dict(), 'rnn.pt')" in str(err.value)


def test_a_stand_in_cannot_be_called_with_arguments(tmp_path):
    """A pickle that calls the example's class (REDUCE) instead of building it gets nothing."""

    class Caller:
        def __reduce__(self):
            return (ex.RNNModel, ("LSTM", 10, 4, 4, 1))

    path = tmp_path / "call.pt"
    with ex.example_module():
        torch.save(Caller(), path)
    with pytest.raises(ModelFileError, match="damaged or not what it claims"):
        read_pickled_module(path)


@pytest.mark.parametrize(
    "module",
    [nn.LSTM(3, 5, 2), nn.GRU(2, 3, bidirectional=True), nn.RNN(4, 3, nonlinearity="relu")],
    ids=["lstm", "gru", "rnn-relu"],
)
def test_a_pickled_recurrent_module_loads_as_itself(tmp_path, module):
    path = tmp_path / "m.pt"
    torch.save(module.eval(), path)
    loaded = load_model(path)
    assert type(loaded) is type(module) and loaded.mode == module.mode  # RNN_RELU as pickled
    x = torch.randn(6, module.input_size)
    assert torch.equal(loaded(x)[0], module(x)[0])


def test_the_stand_ins_hold_the_pickled_attributes(tmp_path):
    path = tmp_path / "lstm.pt"
    torch.save(nn.LSTM(3, 5, 2, dropout=0.25), path)
    obj = read_pickled_module(path)
    assert isinstance(obj, PickledObject) and obj.pickled_class == "torch.nn.modules.rnn.LSTM"
    assert (obj.get("mode"), obj.get("hidden_size"), obj.get("dropout")) == ("LSTM", 5, 0.25)
    assert not hasattr(obj, "forward")


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("model.RNNModel", True),
        ("__main__.TransformerModel", True),
        ("torch.nn.modules.rnn.LSTM", True),
        ("torch.nn.functional.relu", True),
        ("model.RNNModel.evil", False),
        ("builtins.eval", False),
        ("torch.nn.modules.module.Module", False),
        ("RNNModel", False),
    ],
)
def test_which_names_a_pickle_may_use(name, read):
    assert readable(name) is read
