"""Loading a checked model folder with transformers, and wrapping models already loaded.

transformers is imported here, on first use (it takes seconds). The model is loaded in float32 with
eager attention (the attention weights are what transformers returns with `output_attentions=True`),
in eval mode, on the device asked for; loading never downloads (`local_files_only=True`) and never runs
code from the folder (`trust_remote_code=False`).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seqviz.core.hf.adapter import HFModel
from seqviz.core.hf.families import family_of, supported_message
from seqviz.core.hf.loading import (
    INSTALL_HINT,
    FolderCheck,
    check_folder,
    check_weight_files,
    load_error,
    model_name,
    transformers_available,
)
from seqviz.core.statedict import ModelFileError

_IGNORED_MISSING = ("pooler", "position_ids")  # weights a trace never reads, or buffers made on load


def load_folder(path: str | os.PathLike[str], *, device: str = "cpu", name: str = "") -> HFModel:
    """The HFModel of a model folder (or a cache snapshot), on `device`. ModelFileError naming the file
    when the folder is not a model seqviz can open; seqviz.core.devices.DeviceError for a device this
    machine's torch lacks."""
    from seqviz.core.devices import check_device

    check = check_folder(path)
    if not transformers_available():
        raise ModelFileError.at(check.path, f"it is a Hugging Face model: {INSTALL_HINT}")
    device = check_device(device)
    check_weight_files(check.weights)
    with _quiet() as transformers:
        tokenizer = _load_tokenizer(transformers, check)
        model = _load_model(transformers, check)
    _check_tokenizer_fits(check, tokenizer, model)
    model = model.to(device).eval()
    label = name or model_name(check.path)
    return HFModel(model, tokenizer, check.family, check.head, source=name or str(check.path), label=label)


def open_pretrained(model: Any, tokenizer: Any = None, *, source: str = "", label: str = "") -> HFModel:
    """An HFModel around a transformers model already loaded (its tokenizer from its own folder when not
    given). The model must use eager attention (`attn_implementation="eager"`)."""
    config = model.config
    family = family_of(getattr(config, "model_type", ""))
    if family is None:
        raise TypeError(f"seqviz does not trace {type(model).__name__}; it traces {supported_message()}")
    if getattr(config, "_attn_implementation", "eager") != "eager":
        model.set_attn_implementation("eager")  # the attention weights only eager attention returns
    if tokenizer is None:
        tokenizer = _tokenizer_of(model)
    head = _head_of(model, family)
    origin = str(getattr(config, "_name_or_path", ""))  # the folder or Hub name it was loaded from
    name = label or (model_name(Path(origin)) if origin and Path(origin).is_dir() else origin)
    return HFModel(model.eval(), tokenizer, family, head, source=source, label=name or type(model).__name__)


@contextmanager
def _quiet():
    """transformers, without its progress bars and loading notes (seqviz reports problems itself)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers

    transformers.utils.logging.disable_progress_bar()
    level = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        yield transformers
    finally:
        transformers.logging.set_verbosity(level)


def _load_tokenizer(transformers: Any, check: FolderCheck) -> Any:
    try:
        return transformers.AutoTokenizer.from_pretrained(
            check.path, local_files_only=True, trust_remote_code=False
        )
    except Exception as exc:  # the boundary: a damaged tokenizer file can make it raise anything
        raise load_error(check.tokenizer_file, exc) from exc


_AUTO = {
    "mlm": "AutoModelForMaskedLM",
    "lm": "AutoModelForCausalLM",
    "seq2seq": "AutoModelForSeq2SeqLM",
    "": "AutoModel",
}


def _load_model(transformers: Any, check: FolderCheck) -> Any:
    import torch

    auto = getattr(transformers, _AUTO[check.head])
    try:
        with torch.random.fork_rng(
            devices=[]
        ):  # weights a checkpoint lacks are drawn: not from the caller's stream
            model, info = auto.from_pretrained(
                check.path,
                local_files_only=True,
                trust_remote_code=False,
                attn_implementation="eager",
                dtype=torch.float32,
                output_loading_info=True,
            )
    except Exception as exc:
        raise load_error(check.weights[0], exc) from exc
    missing = [k for k in info.get("missing_keys", ()) if not any(n in k for n in _IGNORED_MISSING)]
    mismatched = list(info.get("mismatched_keys", ()))
    if missing or mismatched:
        few = ", ".join(str(k if isinstance(k, str) else k[0]) for k in (missing or mismatched)[:3])
        raise ModelFileError.at(
            check.weights[0],
            f"the weights do not fit config.json ({'missing' if missing else 'wrong shapes'}: {few}): "
            "the weights and the config must come from the same model",
        )
    return model.float()


def _check_tokenizer_fits(check: FolderCheck, tokenizer: Any, model: Any) -> None:
    """Every id the tokenizer can produce must have a row in the model's embedding."""
    rows = model.get_input_embeddings().weight.shape[0]
    largest = max(tokenizer.get_vocab().values(), default=-1)
    if largest >= rows:
        raise ModelFileError.at(
            check.tokenizer_file,
            f"the tokenizer has ids up to {largest}, the model's embedding only {rows} rows: it is another "
            "model's tokenizer; put the model's own tokenizer files in the folder",
        )


def _tokenizer_of(model: Any) -> Any:
    folder = Path(str(getattr(model.config, "_name_or_path", "") or "."))
    if not folder.is_dir():
        raise TypeError("pass the model's tokenizer too: open_model((model, tokenizer))")
    with _quiet() as transformers:
        return transformers.AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )


def _head_of(model: Any, family: Any) -> str:
    name = type(model).__name__
    if family.kind == "encoder-decoder":
        if not hasattr(model, "lm_head"):
            raise TypeError(f"seqviz traces encoder-decoders with their language-model head, not a {name}")
        return "seq2seq"
    if name.endswith("ForMaskedLM"):
        return "mlm"
    if name.endswith(("LMHeadModel", "ForCausalLM")):
        return "lm"
    if name.endswith("Model"):
        return ""
    raise TypeError(f"seqviz traces {family.name} models with a language-model head or none, not a {name}")
