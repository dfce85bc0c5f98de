"""Hostile and broken input files, one class each (issue 15, "No input that breaks it"): every one is
refused with one line naming the file and why, before it can take memory, block or mislead.

Model files: tiny files that declare gigabytes, special files and odd paths, non-dense and non-float
tensors, messages that lead somewhere, bundled ids against files of the same name, metadata of the
wrong types. Traces are in test_hostile_traces.py.
"""

from __future__ import annotations

import io
import json
import os
import random
import zipfile
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from safetensors.torch import save_file

import seqviz
from seqviz.core import file_limits, modelfile
from seqviz.core.adapters import open_model
from seqviz.core.modelfile import ModelFileError, load_model, save_model
from seqviz.core.seqmodel import fresh_model
from seqviz.core.word_lm_vocab import read_vocabulary


def refused(path: Path | str, *fragments: str) -> str:
    """load_model(path) raises one line that names the file and holds every fragment."""
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    assert Path(path).name[:30] in message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.fixture
def small_bound(monkeypatch):
    """The allocation bound's floor at 1 MB, so that a few MB of declared data show the rule at work."""
    monkeypatch.setattr(file_limits, "SMALL_ALLOCATION", 2**20)


# Tiny files that take gigabytes ---------------------------------------------------------------------


def test_a_tiny_file_of_stride_0_tensors_declaring_gigabytes_is_refused_before_anything_is_built(tmp_path):
    """2.5 KB declaring an LSTM of hidden size 16,384 (8.5 GB as floats): refused from its reading."""
    hidden = 16_384
    state = {
        "weight_ih_l0": torch.zeros(1).expand(4 * hidden, 8),
        "weight_hh_l0": torch.zeros(1).expand(4 * hidden, hidden),
    }
    path = tmp_path / "stride0.pt"
    torch.save(state, path)
    assert path.stat().st_size < 4096
    refused(path, "its tensors would take 4.0 GB from", "stride 0")


def test_tensors_sharing_one_storage_count_once_per_name(tmp_path, small_bound):
    storage = torch.randn(4 * 64, 64)
    state = {f"weight_hh_l{i}": storage for i in range(40)}  # 40 names, one 64 KB storage
    path = tmp_path / "shared.pt"
    torch.save(state, path)
    refused(path, "its tensors would take", "more than 8 times what it holds")


def _deflated(path: Path, data: bytes) -> Path:
    """Rewrite the zip at `path` with every member deflated (torch.save stores them uncompressed)."""
    members = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return path


def test_a_compressed_checkpoint_that_would_inflate_beyond_the_bound_is_refused_unread(tmp_path, small_bound):
    buffer = io.BytesIO()
    torch.save({k: torch.zeros_like(v) for k, v in nn.LSTM(8, 512).state_dict().items()}, buffer)
    path = _deflated(tmp_path / "zipped.pt", buffer.getvalue())  # 4 MB of zeros, deflated to a few KB
    assert path.stat().st_size < 20_000
    refused(path, "its compressed contents would inflate to", "more than 8 times what it holds")


def test_a_compressed_checkpoint_within_the_bound_loads(tmp_path):
    module = nn.GRU(3, 5)
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    loaded = load_model(_deflated(tmp_path / "small_zip.pt", buffer.getvalue()))
    assert torch.equal(loaded.weight_hh_l0, module.weight_hh_l0)


def test_a_file_declaring_more_than_the_machine_has_is_refused(tmp_path, monkeypatch):
    path = save_model(nn.LSTM(16, 64), tmp_path / "m.safetensors")
    monkeypatch.setattr(file_limits, "memory_available", lambda: 10_000)
    refused(path, "more than this machine has available")


# Special files and odd paths --------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    refused(fifo, "named pipe (FIFO)", "regular files only")  # a read would wait for a writer forever


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="a device file")
def test_a_device_is_refused_unread():
    refused("/dev/zero", "it is a device")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_or_a_long_name_as_a_vocabulary_is_a_message(tmp_path):
    os.mkfifo(tmp_path / "vocab.txt")
    with pytest.raises(ModelFileError, match="vocab.txt: it is a named pipe"):
        read_vocabulary(tmp_path / "vocab.txt")
    with pytest.raises(ModelFileError, match="name is too long"):
        read_vocabulary(tmp_path / ("v" * 300))


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("x" * 300 + ".pt", "name is too long"), ("a\0b.pt", "NUL byte")],
)
def test_a_name_no_file_system_takes_is_a_message(name, fragment):
    with pytest.raises(ModelFileError, match=fragment) as err:
        load_model(name)
    assert len(str(err.value)) < 300 and "\n" not in str(err.value)


def test_a_path_through_a_file_says_so(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFileError, match="a part of the path is a file"):
        load_model(tmp_path / "file" / "model.pt")


# Bundled ids and paths --------------------------------------------------------------------------------


def test_a_bundled_id_is_the_bundled_model_even_beside_a_file_of_that_name(tmp_path, monkeypatch):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    monkeypatch.setattr(modelfile, "bundled_models_dir", lambda: bundled)
    save_model(fresh_model("lstm"), bundled / "tiny-lstm.safetensors")
    work = tmp_path / "work"
    work.mkdir()
    save_model(fresh_model("gru"), work / "tiny-lstm")  # a stranger's file under the id's name
    monkeypatch.chdir(work)
    assert modelfile.resolve_model_path("tiny-lstm") == bundled / "tiny-lstm.safetensors"
    assert load_model("tiny-lstm").arch == "lstm"
    assert load_model("./tiny-lstm").arch == "gru"  # a path: it has a folder
    assert load_model(Path("tiny-lstm")).arch == "gru"  # a Path object is a path


# Tensors seqviz would misread ---------------------------------------------------------------------------


def _state_as(convert) -> dict[str, torch.Tensor]:
    return {k: convert(v) for k, v in nn.LSTM(3, 4).state_dict().items()}


@pytest.mark.parametrize(
    ("convert", "fragment"),
    [
        (lambda v: v.to(torch.int8), "int8 (integer)"),
        (lambda v: v.bool(), "bool (boolean)"),
        (lambda v: v.to(torch.complex64), "complex64 (complex)"),
    ],
)
@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_integer_bool_and_complex_weights_are_refused_not_cast(tmp_path, convert, fragment, suffix):
    path = tmp_path / f"weights{suffix}"
    state = _state_as(convert)
    if suffix == ".pt":
        torch.save(state, path)
    elif fragment.startswith("complex"):
        pytest.skip("safetensors stores no complex tensors")
    else:
        save_file(state, path)
    refused(path, fragment, "floating-point weights")


@pytest.mark.parametrize("malformed", [False, True])
def test_sparse_tensors_are_refused_before_anything_touches_them(tmp_path, malformed):
    state = nn.RNN(2, 3).state_dict()
    if malformed:  # an index far outside its shape: densifying it would crash torch
        values = torch.sparse_coo_tensor(
            torch.tensor([[0, 10**8]]), torch.ones(2), (3,), check_invariants=False
        )
    else:
        values = state["bias_hh_l0"].to_sparse()
    state["bias_hh_l0"] = values
    path = tmp_path / "sparse.pt"
    torch.save(state, path)
    refused(path, "bias_hh_l0 is a sparse_coo tensor", "dense tensors only")


def test_a_pickled_module_with_a_sparse_parameter_is_refused(tmp_path):
    module = nn.GRU(2, 3)
    module.bias_hh_l0 = nn.Parameter(module.bias_hh_l0.detach().to_sparse())
    path = tmp_path / "module.pt"
    torch.save(module, path)
    refused(path, "bias_hh_l0 is a sparse_coo tensor")


# Messages that lead somewhere ----------------------------------------------------------------------------


def test_random_bytes_never_give_a_python_error_name(tmp_path):
    path = tmp_path / "noise.pt"
    for seed in range(40):
        path.write_bytes(b"\x80" + random.Random(seed).randbytes(500))
        message = refused(path)
        assert "IndexError" not in message and "pop from empty list" not in message


def test_a_key_that_is_not_text_is_named_as_such(tmp_path):
    path = tmp_path / "int_key.pt"
    torch.save({1: torch.zeros(2)}, path)
    message = refused(path, "its key 1 is not text")
    assert "Tensor, not a tensor" not in message


def test_a_library_message_keeps_the_lines_after_its_heading():
    text = "Error(s) in loading state_dict for LSTM:\n\tsize mismatch for weight_hh_l0: copying ..."
    assert modelfile.first_sentence(text).startswith(
        "Error(s) in loading state_dict for LSTM: size mismatch for weight_hh_l0"
    )


def _token_model_file(path: Path, **changes) -> Path:
    model = fresh_model("gru")
    header = {**model.metadata(), "format_version": 1}
    for dotted, value in changes.items():
        owner, _, key = dotted.rpartition("__")
        (header[owner] if owner else header)[key] = value
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, path, metadata={"seqviz": json.dumps(header)})
    return path


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"card__examples": 5}, "card that gives examples = 5, which is not a list of text"),
        ({"card__title": ["a"]}, "gives title = ['a'], which is not text"),
        ({"card__accuracy": "high"}, "accuracy = 'high'"),
        ({"card__colour": "red"}, "unknown fields colour"),
        ({"tokenizer__vocab": "abc"}, "tokenizer whose vocab is not a non-empty list of text"),
        ({"tokenizer__vocab": [1, 2]}, "vocab is not a non-empty list of text"),
        ({"tokenizer__level": "bytes"}, "level is 'bytes'"),
        ({"tokenizer__lowercase": "yes"}, "lowercase is not true or false"),
        ({"output_labels": [1, 2]}, "output_labels that are not a list of text"),
        ({"output_labels": ["a", "b"]}, "2 output labels for a model with 31 outputs"),
        ({"config__hidden_size": "32"}, "config that gives hidden_size = '32'"),
        ({"config__bidirectional": "no"}, "bidirectional = 'no', which is not true or false"),
        ({"task": "poetry"}, "unknown task 'poetry'"),
    ],
)
def test_a_model_card_or_tokenizer_of_the_wrong_types_is_a_model_file_error(tmp_path, changes, fragment):
    refused(_token_model_file(tmp_path / "typed.safetensors", **changes), "TokenModel metadata", fragment)


def test_a_tokenizer_larger_than_the_embedding_is_refused(tmp_path):
    vocab = fresh_model("gru").tokenizer.vocab + ["extra"]
    path = _token_model_file(tmp_path / "vocab.safetensors", tokenizer__vocab=vocab)
    refused(path, "a tokenizer of 32 tokens for an embedding of 31 rows")


# Modules seqviz would trace wrongly ---------------------------------------------------------------------


class _ShiftedLSTM(nn.LSTM):
    def forward(self, x, hx=None):
        out, state = super().forward(x, hx)
        return out + 0.2, state


class _RenamedLSTM(nn.LSTM):
    """A subclass without its own forward computes what nn.LSTM computes: traced as one."""


def test_a_recurrent_subclass_with_its_own_forward_is_refused():
    with pytest.raises(TypeError, match=r"_ShiftedLSTM: it is an nn\.LSTM with its own forward\(\)"):
        seqviz.trace(_ShiftedLSTM(3, 4), torch.randn(5, 3))
    assert seqviz.trace(_RenamedLSTM(3, 4), torch.randn(5, 3))["hidden"].shape == (5, 1, 1, 4)


def test_a_transformer_stack_of_layers_with_their_own_forward_is_refused():
    class Layer(nn.TransformerEncoderLayer):
        def forward(self, src, *args, **kwargs):
            return super().forward(src, *args, **kwargs) * 2

    stack = nn.TransformerEncoder(Layer(8, 2, 16), 2, enable_nested_tensor=False)
    with pytest.raises(TypeError, match="Layer: it is an nn.TransformerEncoderLayer with its own forward"):
        open_model(stack)


@pytest.mark.parametrize("inputs", [torch.randn(5, 3), "hello"])
def test_a_module_on_the_meta_device_says_it_has_no_values(inputs):
    with torch.device("meta"):
        module = nn.GRU(3, 4)
    with pytest.raises(ValueError, match="weights on the 'meta' device.*load its weights first"):
        seqviz.trace(module, inputs)


def test_metadata_nested_deeper_than_the_parser_goes_is_damaged_metadata(tmp_path):
    path = tmp_path / "deep.safetensors"
    save_file(nn.GRU(2, 3).state_dict(), path, metadata={"seqviz": "[" * 100_000 + "]" * 100_000})
    message = refused(path, "its seqviz metadata is damaged")
    assert "RecursionError" not in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_model_folder_holding_a_fifo_is_refused_before_transformers_reads_it(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    os.mkfifo(folder / "tokenizer_config.json")  # transformers would wait on it forever
    refused(folder, "tokenizer_config.json: it is a named pipe (FIFO)")
