"""Opening Hugging Face models: folders, names in the local cache, and every bad folder as one line
naming the file and what to do (nothing crashes, nothing from the folder runs, nothing is downloaded)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
import torch
from hf_folders import byte_level_tokenizer, copy_folder, folder

import seqviz
from seqviz.core import hf
from seqviz.core.adapters import open_model
from seqviz.core.devices import DeviceError
from seqviz.core.modelfile import ModelFileError, load_model


def one_line_error(path, *fragments, **options) -> str:
    with pytest.raises(ModelFileError) as err:
        load_model(path, **options)
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_a_folder_opens_as_an_hf_model_named_after_it(tmp_path):
    path = copy_folder("gpt2", tmp_path / "tiny-gpt2")
    model = seqviz.load_model(path)
    assert isinstance(model, hf.HFModel) and model.label == "tiny-gpt2" and model.head == "lm"
    assert open_model(model) is model  # the app's runs.load passes it on as it is
    assert model.trace("hello world").meta.model_id == str(path)


def test_a_name_in_the_local_cache_opens_without_the_network(tmp_path, monkeypatch):
    """huggingface_hub's cache layout: models--org--name/refs/main and snapshots/<commit>/."""
    repo = tmp_path / "hub" / "models--someone--tiny-gpt2"
    shutil.copytree(folder("gpt2"), repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    model = load_model("someone/tiny-gpt2")
    assert model.label == "someone/tiny-gpt2" and model.can_generate
    one_line_error("someone/not-here", "someone/not-here", "hf download someone/not-here")
    one_line_error("gpt2", "'gpt2'", "nor in the local Hugging Face cache", "hf download gpt2")
    assert "hf download" not in one_line_error("models/missing.pt", "does not exist")  # a file, not a name


def test_missing_files(tmp_path):
    path = copy_folder("bert", tmp_path / "m")
    (path / "config.json").unlink()
    one_line_error(path, str(path), "without config.json", "save_pretrained")
    path = copy_folder("bert", tmp_path / "w")
    (path / "model.safetensors").unlink()
    one_line_error(path, str(path), "no weights (model.safetensors")
    path = copy_folder("bert", tmp_path / "t")
    (path / "tokenizer.json").unlink()
    one_line_error(path, str(path), "no tokenizer files", "tokenizer.save_pretrained")


def test_a_missing_shard_is_named(tmp_path):
    path = copy_folder("gpt2", tmp_path / "sharded")
    (path / "model.safetensors").rename(path / "model-00001-of-00002.safetensors")
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
    (path / "model.safetensors.index.json").write_text(json.dumps(index))
    one_line_error(path, "model-00002-of-00002.safetensors", "missing")


def test_an_architecture_seqviz_does_not_trace(tmp_path):
    path = copy_folder("gpt2", tmp_path / "x")
    config = json.loads((path / "config.json").read_text())
    code = {"AutoModel": "modeling_x.XModel"}  # a model that would need code from the folder
    (path / "config.json").write_text(json.dumps({**config, "model_type": "xlnet", "auto_map": code}))
    message = one_line_error(path, "config.json", "'xlnet' is not a model seqviz traces")
    families = ("BERT", "GPT-2", "Llama", "Qwen2", "Mistral", "BART", "T5", "Marian")
    assert all(name in message for name in families)
    (path / "config.json").write_text("{not json")
    one_line_error(path, "config.json", "not a JSON object")


class _CreatesFile:
    """Unpickling this runs open(marker, "w"): the file appears if a loader executes pickled code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_checkpoint_that_would_run_code_is_refused_and_never_run(tmp_path):
    from safetensors.torch import load_file

    path = copy_folder("gpt2", tmp_path / "evil")
    state = load_file(path / "model.safetensors")
    marker = tmp_path / "ran.txt"
    torch.save({**state, "payload": _CreatesFile(marker)}, path / "pytorch_model.bin")  # torch's zip format
    (path / "model.safetensors").unlink()
    one_line_error(path, "pytorch_model.bin", "code/objects (io.open)")
    with open(path / "pytorch_model.bin", "wb") as fh:  # a bare pickle
        pickle.dump({**state, "payload": _CreatesFile(marker)}, fh)
    one_line_error(path, "pytorch_model.bin", "a pickle that seqviz will not run")
    assert not marker.exists()


def test_a_plain_bin_checkpoint_opens(tmp_path):
    from safetensors.torch import load_file

    path = copy_folder("gpt2", tmp_path / "bin")
    torch.save(load_file(path / "model.safetensors"), path / "pytorch_model.bin")
    (path / "model.safetensors").unlink()
    model = load_model(path)
    assert model.trace("hi").num_steps == len(model.encode("hi"))


def test_damaged_safetensors(tmp_path):
    path = copy_folder("gpt2", tmp_path / "cut")
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    one_line_error(path, "model.safetensors", "truncated")
    weights.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage garbage")
    one_line_error(path, "model.safetensors", "damaged")


def test_a_tokenizer_that_does_not_fit_the_weights(tmp_path):
    from transformers import PreTrainedTokenizerFast

    path = copy_folder("gpt2", tmp_path / "other-tokenizer")
    bigger = byte_level_tokenizer(["<|endoftext|>"], size=400)
    PreTrainedTokenizerFast(tokenizer_object=bigger, eos_token="<|endoftext|>").save_pretrained(path)
    one_line_error(path, "tokenizer.json", "another model's tokenizer")


def test_weights_of_another_model(tmp_path):
    path = copy_folder("gpt2", tmp_path / "mixed")
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, "n_embd": 48}))
    one_line_error(path, "model.safetensors")


def test_options_for_other_files_are_refused(tmp_path):
    one_line_error(folder("gpt2"), "vocab given", vocab=["a", "b"])


def test_without_the_extra_it_says_how_to_add_it(monkeypatch):
    from seqviz.core.hf import pretrained

    monkeypatch.setattr(pretrained, "transformers_available", lambda: False)
    one_line_error(folder("gpt2"), 'pip install "seqviz[hf]"')


def test_a_device_this_torch_lacks():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="not available"):
        hf.load_folder(folder("gpt2"), device="cuda")


def test_open_model_takes_a_transformers_model():
    from transformers import AutoModelForMaskedLM, AutoTokenizer, GPT2Config, GPT2ForSequenceClassification

    path = folder("bert")
    module = AutoModelForMaskedLM.from_pretrained(path, attn_implementation="eager")
    tokenizer = AutoTokenizer.from_pretrained(path)
    paired, alone = open_model((module, tokenizer)), open_model(module)
    assert paired.head == alone.head == "mlm" and paired.label == "bert"  # named after its folder
    assert paired.trace("hello world").tokens == alone.trace("hello world").tokens
    classifier = GPT2ForSequenceClassification(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=10))
    with pytest.raises(TypeError, match="language-model head or none"):
        open_model((classifier, tokenizer))


def test_code_in_a_model_folder_never_runs(tmp_path):
    """config.json and tokenizer_config.json may point at Python files in the folder (auto_map); seqviz
    opens such a folder with transformers' own classes (trust_remote_code=False) and runs none of it."""
    path = copy_folder("gpt2", tmp_path / "with-code")
    marker = tmp_path / "ran.txt"
    (path / "custom.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    config = json.loads((path / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "custom.Config", "AutoModelForCausalLM": "custom.Model"}
    (path / "config.json").write_text(json.dumps(config))
    tokenizer_config = json.loads((path / "tokenizer_config.json").read_text())
    code = {"AutoTokenizer": [None, "custom.Tokenizer"]}
    tokenizer_config.update(auto_map=code, tokenizer_class="Tokenizer")
    (path / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    model = load_model(path)
    assert type(model.module).__module__.startswith("transformers.")
    assert model.trace("hi").num_steps == len(model.encode("hi"))
    assert not marker.exists()
