"""Model files: round trips, raw state dicts, and every kind of bad or hostile file."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from safetensors.torch import save_file

from seqviz.core import modelfile
from seqviz.core.modelfile import ModelFileError, load_model, save_model
from seqviz.core.seqmodel import RecurrentConfig, RecurrentNet, TokenModel, fresh_model
from seqviz.core.tokenize import Tokenizer

CLASSES = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")  # torch's own note


def random_module(seed: int) -> nn.RNNBase:
    """A seeded nn.RNN / GRU / LSTM (by seed % 3) of random size, depth, directions, bias, projections."""
    rng = random.Random(seed)
    arch = ("rnn", "gru", "lstm")[seed % 3]
    hidden = rng.randint(2, 7)
    kw = {
        "input_size": rng.randint(1, 6),
        "hidden_size": hidden,
        "num_layers": rng.randint(1, 3),
        "bias": rng.random() < 0.7,
        "batch_first": rng.random() < 0.5,
        "bidirectional": rng.random() < 0.5,
    }
    if arch == "rnn":
        kw["nonlinearity"] = rng.choice(["tanh", "relu"])
    if arch == "lstm" and rng.random() < 0.5:
        kw["proj_size"] = rng.randint(1, hidden - 1)
    torch.manual_seed(seed)
    return CLASSES[arch](**kw).eval()


def assert_same_outputs(a: nn.RNNBase, b: nn.RNNBase, steps: int = 6) -> None:
    """Both modules give identical outputs and final states on one unbatched sequence (T, input_size)."""
    x = torch.randn(steps, a.input_size, dtype=a.weight_ih_l0.dtype)
    (out_a, state_a), (out_b, state_b) = a(x), b(x)
    assert torch.equal(out_a, out_b)
    if not isinstance(state_a, tuple):  # LSTM: (h, c); RNN, GRU: h
        state_a, state_b = (state_a,), (state_b,)
    for sa, sb in zip(state_a, state_b, strict=True):
        assert torch.equal(sa, sb)


def write_seqviz_file(path: Path, tensors: dict[str, torch.Tensor], header: dict | str) -> Path:
    text = header if isinstance(header, str) else json.dumps(header)
    save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata={"seqviz": text})
    return path


# Round trips ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_token_model_round_trip_gives_identical_outputs(tmp_path, arch):
    model = fresh_model(arch, seed=3)
    path = save_model(model, tmp_path / f"{arch}.safetensors")
    loaded = load_model(path)
    assert isinstance(loaded, TokenModel) and not loaded.training
    assert loaded.metadata() == model.metadata()
    ids = torch.tensor([model.tokenizer.encode("the lazy dog")])
    assert torch.equal(loaded(ids), model(ids))


def test_token_model_traces_are_identical_after_a_round_trip(tmp_path):
    pytest.importorskip("seqviz.core.recurrent")
    from seqviz.core.api import trace

    model = fresh_model("gru", seed=1)
    loaded = load_model(save_model(model, tmp_path / "gru.safetensors"))
    before, after = trace(model, "hello there"), trace(loaded, "hello there")
    assert before.names() == after.names()
    for name in before.names():
        assert (before[name] == after[name]).all(), name


def test_tied_weights_are_saved_and_give_identical_outputs(tmp_path):
    tok = Tokenizer(list("abcdef"), "char")
    backbone = RecurrentNet(RecurrentConfig("gru", len(tok.vocab), len(tok.vocab), 16, 16))
    backbone.head.weight = backbone.embedding.weight  # (V, 16) both: one tensor under two names
    model = TokenModel(backbone, tok, "lm").eval()
    loaded = load_model(save_model(model, tmp_path / "tied.safetensors"))
    ids = torch.tensor([[0, 1, 2, 3, 4]])
    assert torch.equal(loaded(ids), model(ids))


@pytest.mark.parametrize("seed", range(12))
def test_plain_module_round_trip(tmp_path, seed):
    module = random_module(seed)
    loaded = load_model(save_model(module, tmp_path / "plain.safetensors"))
    assert type(loaded) is type(module) and not loaded.training
    for name in modelfile.RECURRENT_KWARGS[type(module).__name__]:
        assert getattr(loaded, name) == getattr(module, name), name
    assert_same_outputs(module, loaded)


def test_float64_and_non_contiguous_weights_round_trip(tmp_path):
    module = nn.GRU(3, 5, 2, bidirectional=True).double().eval()
    with torch.no_grad():
        module.weight_hh_l0.data = module.weight_hh_l0.data.t().contiguous().t()  # a strided view
    loaded = load_model(save_model(module, tmp_path / "f64.safetensors"))
    assert loaded.weight_ih_l0.dtype == torch.float64
    assert_same_outputs(module, loaded)


def test_loading_does_not_move_the_callers_random_stream(tmp_path):
    path = save_model(fresh_model("lstm"), tmp_path / "m.safetensors")
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    load_model(path)
    assert torch.equal(torch.rand(3), expected)


# Raw state dicts -----------------------------------------------------------------------------------


def save_state_dict(state: dict[str, torch.Tensor], path: Path) -> Path:
    if path.suffix == ".safetensors":
        save_file({k: v.contiguous() for k, v in state.items()}, path)
    else:
        torch.save(state, path)
    return path


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".safetensors"])
@pytest.mark.parametrize("seed", range(9))
def test_raw_state_dict_loads_as_the_same_module(tmp_path, seed, suffix):
    module = random_module(seed)
    path = save_state_dict(module.state_dict(), tmp_path / f"raw{suffix}")
    nonlinearity = getattr(module, "nonlinearity", None)
    loaded = load_model(path, nonlinearity=nonlinearity)
    assert type(loaded) is type(module) and not loaded.training
    for name in ("input_size", "hidden_size", "num_layers", "bias", "bidirectional", "proj_size"):
        assert getattr(loaded, name) == getattr(module, name), name
    assert_same_outputs(module, loaded)


def test_safetensors_file_whose_first_byte_looks_like_a_pickle_loads(tmp_path):
    module = nn.GRU(2, 3).eval()
    path = tmp_path / "gru.weights"  # torch.load would route a ".safetensors" name to safetensors itself
    for pad in range(300):  # the header length's low byte is the file's first byte
        save_file(module.state_dict(), path, metadata={"note": "x" * pad})
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    assert_same_outputs(module, load_model(path))


def test_loaded_raw_state_dict_traces_like_the_original(tmp_path):
    pytest.importorskip("seqviz.core.recurrent")
    from seqviz.core.api import trace

    module = nn.LSTM(3, 5, 2, bidirectional=True).eval()
    loaded = load_model(save_state_dict(module.state_dict(), tmp_path / "lstm.pth"))
    x = torch.randn(7, 3)
    before, after = trace(module, x), trace(loaded, x)
    for name in before.names():
        assert (before[name] == after[name]).all(), name


def test_raw_rnn_state_dict_is_tanh_unless_told(tmp_path):
    path = save_state_dict(nn.RNN(3, 4).state_dict(), tmp_path / "rnn.pt")
    assert load_model(path).nonlinearity == "tanh"
    assert load_model(path, nonlinearity="relu").nonlinearity == "relu"
    with pytest.raises(ValueError, match="sigmoid"):
        load_model(path, nonlinearity="sigmoid")


@pytest.mark.parametrize("prefix", ["rnn.", "module.lstm."])
def test_state_dict_under_one_common_prefix_loads(tmp_path, prefix):
    module = nn.LSTM(3, 6, 2, bidirectional=True).eval()
    state = {prefix + k: v for k, v in module.state_dict().items()}
    assert_same_outputs(module, load_model(save_state_dict(state, tmp_path / "nested.pt")))


def test_larger_model_state_dict_is_rejected_with_advice(tmp_path):
    state = fresh_model("gru").backbone.state_dict()  # embedding.*, rnn.*, head.*
    path = save_state_dict(state, tmp_path / "whole_net.pt")
    with pytest.raises(ModelFileError, match=r"larger model.*model\.rnn\.state_dict\(\)") as err:
        load_model(path)
    assert "whole_net.pt" in str(err.value)


# Bad files -----------------------------------------------------------------------------------------


def _truncated(path: Path, write) -> Path:
    write(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _random_bytes(path: Path) -> Path:
    path.write_bytes(b"\x13" + random.Random(0).randbytes(999))  # not a zip, pickle or safetensors start
    return path


def _directory(folder: Path) -> Path:
    (folder / "folder.safetensors").mkdir()
    return folder / "folder.safetensors"


def _empty(folder: Path) -> Path:
    (folder / "empty.pt").write_bytes(b"")
    return folder / "empty.pt"


def _torch_saved(name: str, make):
    def write(folder: Path) -> Path:
        torch.save(make(), folder / name)
        return folder / name

    return write


def _missing_layer(folder: Path) -> Path:
    state = {k: v for k, v in nn.GRU(2, 3, 3).state_dict().items() if "_l1" not in k}
    return save_state_dict(state, folder / "gap.pt")


def _lstm_state(**changes) -> dict[str, torch.Tensor]:
    state = nn.LSTM(3, 4, 2, bidirectional=True).state_dict()
    for key, value in changes.items():
        if value is None:
            del state[key]
        else:
            state[key] = value
    return state


def _seqviz_lstm(path: Path, **header_changes) -> Path:
    module = nn.LSTM(3, 4)
    header = {"kind": "recurrent", "class": "LSTM", "kwargs": {"input_size": 3, "hidden_size": 4}}
    header.update({"format_version": 1, **header_changes})
    return write_seqviz_file(path, module.state_dict(), header)


def _token_model_with_wrong_tensors(path: Path) -> Path:
    header = {**fresh_model("lstm").metadata(), "format_version": 1}
    return write_seqviz_file(path, fresh_model("gru").state_dict(), header)


def _unknown_backbone(path: Path) -> Path:
    model = fresh_model("gru")
    header = {**model.metadata(), "backbone": "os.system", "format_version": 1}
    return write_seqviz_file(path, model.state_dict(), header)


BAD_FILES = {
    "missing": (lambda p: p / "missing.safetensors", "no such file"),
    "directory": (_directory, "directory"),
    "empty": (_empty, "empty"),
    "truncated safetensors": (
        lambda p: _truncated(p / "cut.safetensors", lambda q: save_model(fresh_model("lstm"), q)),
        "truncated",
    ),
    "truncated pt": (
        lambda p: _truncated(p / "cut.pt", lambda q: torch.save(nn.GRU(3, 4).state_dict(), q)),
        "truncated",
    ),
    "random safetensors": (lambda p: _random_bytes(p / "noise.safetensors"), "not a safetensors file"),
    "random pt": (lambda p: _random_bytes(p / "noise.pt"), "not a plain pytorch state dict"),
    "random bin": (lambda p: _random_bytes(p / "noise.weights"), "not a safetensors or pytorch file"),
    "list": (_torch_saved("list.pt", lambda: [1, 2, 3]), "holds a list"),
    "dict of non-tensors": (_torch_saved("d.pt", lambda: {"a": 1, "b": "x"}), "not a tensor"),
    "whole module of an unknown class": (
        _torch_saved("module.pt", lambda: _MyLSTM(2, 3)),
        "names test_modelfile._mylstm, which seqviz will not load",
    ),
    "checkpoint": (
        _torch_saved("ck.pt", lambda: {"model_state_dict": nn.GRU(2, 3).state_dict(), "epoch": 3}),
        "checkpoint",
    ),
    "no recurrent weights": (
        lambda p: save_state_dict({"weight": torch.zeros(2, 2)}, p / "linear.pt"),
        "no nn.rnn/gru/lstm weights",
    ),
    "shapes fit no architecture": (
        lambda p: save_state_dict(
            {"weight_ih_l0": torch.zeros(10, 3), "weight_hh_l0": torch.zeros(10, 4)}, p / "odd.pt"
        ),
        "fit no architecture",
    ),
    "layer 1 of another size": (
        lambda p: save_state_dict(_lstm_state(weight_hh_l1=torch.zeros(12, 3)), p / "l1.safetensors"),
        "weight_hh_l1 is (12, 3), needs (16, 4)",
    ),
    "a missing layer": (_missing_layer, "inconsistent layers: found layers [0, 2]"),
    "one layer without its backward direction": (
        lambda p: save_state_dict(_lstm_state(weight_ih_l1_reverse=None), p / "half_bi.pt"),
        "missing weight_ih_l1_reverse",
    ),
    "newer format version": (
        lambda p: _seqviz_lstm(p / "v99.safetensors", format_version=99),
        "newer seqviz",
    ),
    "nonsense format version": (lambda p: _seqviz_lstm(p / "vx.safetensors", format_version="x"), "version"),
    "unknown kind": (
        lambda p: _seqviz_lstm(p / "kind.safetensors", kind="Pickle"),
        "unknown seqviz model kind",
    ),
    "unknown class": (
        lambda p: _seqviz_lstm(p / "cls.safetensors", **{"class": "Linear"}),
        "recurrent class",
    ),
    "unknown argument": (
        lambda p: _seqviz_lstm(p / "arg.safetensors", kwargs={"input_size": 3, "hidden_size": 4, "evil": 1}),
        "unknown lstm arguments ['evil']",
    ),
    "metadata JSON damaged": (
        lambda p: write_seqviz_file(p / "json.safetensors", nn.GRU(2, 3).state_dict(), "{not json"),
        "not json",
    ),
    "recurrent metadata asking for 160 GB": (
        lambda p: _seqviz_lstm(p / "huge.safetensors", kwargs={"input_size": 3, "hidden_size": 10**5}),
        "do not match its nn.lstm metadata",
    ),
    "recurrent metadata too large to describe": (
        lambda p: _seqviz_lstm(p / "vast.safetensors", kwargs={"input_size": 3, "hidden_size": 10**9}),
        "does not describe a valid model",
    ),
    "token model metadata not matching": (
        lambda p: _token_model_with_wrong_tensors(p / "mixed.safetensors"),
        "do not match its tokenmodel metadata",
    ),
    "unknown backbone": (
        lambda p: _unknown_backbone(p / "backbone.safetensors"),
        "unknown backbone 'os.system'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_raises_model_file_error_naming_the_file(tmp_path, case):
    make, fragment = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    message = str(err.value)
    assert path.name in message
    assert fragment in message.lower()
    assert "Traceback" not in message and "\n" not in message


class _CreatesFile:
    """Unpickling this runs open(marker, "w"): the file appears if a loader executes pickled code."""

    def __init__(self, marker: Path, how: str) -> None:
        self.marker, self.how = marker, how

    def __reduce__(self):
        if self.how == "system":
            return (os.system, (f"touch '{self.marker}'",))
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize(
    "writer", ["torch.save", "pickle-0", "pickle-2", "pickle-4", "inside-a-state-dict", "named-safetensors"]
)
@pytest.mark.parametrize("how", ["open", "system"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, writer, how):
    marker = tmp_path / "PWNED"
    payload = _CreatesFile(marker, how)
    path = tmp_path / ("evil.safetensors" if writer == "named-safetensors" else "evil.pt")
    if writer == "torch.save":
        torch.save(payload, path)
    elif writer == "inside-a-state-dict":
        torch.save({"weight_ih_l0": torch.zeros(4, 2), "weight_hh_l0": payload}, path)
    else:
        protocol = 2 if writer == "named-safetensors" else int(writer.split("-")[1])
        path.write_bytes(pickle.dumps(payload, protocol=protocol))
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    assert path.name in str(err.value)
    assert not marker.exists()


# Bundled models --------------------------------------------------------------------------------------


def test_bundled_models_dir_is_resources_models_in_the_repo():
    folder = modelfile.bundled_models_dir()
    assert folder.parts[-2:] == ("resources", "models")
    assert (folder.parents[1] / "seqviz" / "__init__.py").is_file()


def test_bundled_id_resolves_to_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile, "bundled_models_dir", lambda: tmp_path)
    model = fresh_model("gru")
    save_model(model, tmp_path / "tiny-gru.safetensors")
    loaded = load_model("tiny-gru")
    assert loaded.metadata() == model.metadata()
    with pytest.raises(
        ModelFileError, match=r"'no-such-model' is not a file here, nor a bundled model.*tiny-gru"
    ):
        load_model("no-such-model")


def test_a_missing_path_is_not_taken_for_an_id(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(str(tmp_path / "gone"))


# Saving ----------------------------------------------------------------------------------------------


class _MyLSTM(nn.LSTM):
    pass


@pytest.mark.parametrize("thing", [nn.Linear(2, 3), _MyLSTM(2, 3), {"weight": torch.zeros(1)}])
def test_saving_anything_else_is_a_type_error(tmp_path, thing):
    with pytest.raises(TypeError, match=type(thing).__name__):
        save_model(thing, tmp_path / "x.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_leaves_the_old_file_and_no_partial_file(tmp_path, monkeypatch):
    path = save_model(nn.GRU(2, 3), tmp_path / "m.safetensors")
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(modelfile.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_model(nn.LSTM(5, 7), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_saved_file_gets_ordinary_permissions(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    saved = save_model(nn.RNN(2, 3), tmp_path / "m.safetensors")
    assert saved.stat().st_mode == plain.stat().st_mode


def test_saving_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_model(nn.RNN(2, 3), tmp_path / "no" / "m.safetensors")


def test_opening_a_model_file_leaves_torch_dynamo_unimported():
    """The shape check builds the model on the meta device without initialising it: initialising a meta
    embedding imports torch._dynamo, almost a second more before the first model is on screen."""
    code = (
        "import sys, seqviz; seqviz.load_model('longrange-transformer'); seqviz.load_model('longrange-lstm');"
        "print('torch._dynamo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
