"""Opening Hugging Face models: a local model folder (a snapshot of the local Hugging Face cache is one;
seqviz.core.hf_cache finds them by name).

Nothing is ever downloaded (HF_HUB_OFFLINE, `local_files_only=True`) and nothing from a model runs
(`trust_remote_code=False`; `.bin` checkpoints are read only with `torch.load(weights_only=True)`).
The folder is checked before transformers sees it, so that a missing file, an architecture seqviz does
not trace, a damaged safetensors file, a pickle that would run code, weights that are not the model's
or a tokenizer that does not fit them is one `ModelFileError` naming the file and what to do.

    is_model_folder(path)        a folder with a config.json
    check_folder(path)           the checks that need no transformers: config, files, family, head
    (seqviz.core.hf.pretrained.load_folder: the HFModel; transformers is imported there, on first use)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqviz.core.file_limits import FileLimitError, regular_file
from seqviz.core.hf.families import ENCODER_DECODER, Family, family_of, supported_message
from seqviz.core.statedict import ModelFileError, first_sentence, read_tensors

INSTALL_HINT = 'install the Hugging Face extra: pip install "seqviz[hf]"'
SAFETENSORS, BIN = "model.safetensors", "pytorch_model.bin"
TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "tokenizer.model",
    "sentencepiece.bpe.model",
    "source.spm",
)
_GENERIC_NAMES = {"model", "models", "checkpoint", "final", "hf", "huggingface"}
_MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit


def transformers_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("transformers") is not None


def is_transformers_model(obj: object) -> bool:
    """A transformers PreTrainedModel (checked by its classes, without importing transformers)."""
    return any(
        c.__name__ == "PreTrainedModel" and c.__module__.startswith("transformers.")
        for c in type(obj).__mro__
    )


def is_model_folder(path: str | os.PathLike[str]) -> bool:
    """A folder holding a config.json: what `save_pretrained` writes (and a Hub snapshot is)."""
    try:
        return Path(path).is_dir() and (Path(path) / "config.json").is_file()
    except (OSError, ValueError):
        return False


def _read_config(path: Path) -> Any:
    try:
        return json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def cache_hint(name: str) -> str:
    """How to get a Hub model onto this machine (seqviz itself never downloads)."""
    return f"to use the Hugging Face model {name!r}, download it once (hf download {name}) or open its folder"


# Checking a folder --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FolderCheck:
    """A model folder that passed the checks that need no transformers."""

    path: Path
    config: dict[str, Any]
    family: Family
    head: str  # "mlm", "lm", "seq2seq" or "" (no head)
    weights: tuple[Path, ...]  # the weight files (shards included)
    tokenizer_file: Path  # the tokenizer's main file (named in messages)


def check_folder(path: str | os.PathLike[str]) -> FolderCheck:
    """Check a model folder's config, weight and tokenizer files. ModelFileError naming the file."""
    folder = Path(path)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ModelFileError.at(
            folder,
            "a directory without config.json, so not a Hugging Face model folder (one holds config.json, "
            "the weights model.safetensors and the tokenizer files, as save_pretrained writes them)",
        )
    _refuse_special_files(folder)
    config = _read_config(folder)
    if not isinstance(config, dict):
        raise ModelFileError.at(config_file, "not a JSON object: the file is damaged; copy it again")
    model_type = config.get("model_type")
    family = family_of(model_type) if isinstance(model_type, str) else None
    if family is None:
        what = f"model_type {model_type!r}" if model_type else "no model_type"
        raise ModelFileError.at(
            config_file, f"{what} is not a model seqviz traces; it traces {supported_message()}"
        )
    weights = _weight_files(folder)
    tokenizer_file = next((folder / n for n in TOKENIZER_FILES if (folder / n).is_file()), None)
    if tokenizer_file is None:
        raise ModelFileError.at(
            folder,
            f"no tokenizer files ({', '.join(TOKENIZER_FILES[:3])}, ...): save the model's tokenizer into "
            "the folder too (tokenizer.save_pretrained(folder))",
        )
    return FolderCheck(folder, config, family, _head(config, family), weights, tokenizer_file)


def _refuse_special_files(folder: Path) -> None:
    """transformers opens the folder's files by name: a FIFO among them would block it forever, a
    device never end its read. Only regular files (and links to them, as in the Hub cache) are read."""
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            continue
        try:
            regular_file(entry)
        except FileLimitError as exc:
            raise ModelFileError.at(entry, str(exc)) from None


def _head(config: dict[str, Any], family: Family) -> str:
    """The output head the folder's weights are for, from config.json's `architectures`."""
    if family.kind == ENCODER_DECODER:
        return "seq2seq"
    names = config.get("architectures") or []
    name = str(names[0]) if names else ""
    if name.endswith("ForMaskedLM"):
        return "mlm"
    if name.endswith(("LMHeadModel", "ForCausalLM")) or (not name and family.kind == "decoder"):
        return "lm"
    return ""


def _weight_files(folder: Path) -> tuple[Path, ...]:
    for single, index in ((SAFETENSORS, f"{SAFETENSORS}.index.json"), (BIN, f"{BIN}.index.json")):
        if (folder / single).is_file():
            return (folder / single,)
        if (folder / index).is_file():
            return _shards(folder / index)
    raise ModelFileError.at(
        folder, f"no weights ({SAFETENSORS} or {BIN}): copy the model's weight files into the folder"
    )


def _shards(index: Path) -> tuple[Path, ...]:
    try:
        names = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise ModelFileError.at(index, "the weight index is damaged (no weight_map); copy it again") from None
    for name in names:
        if Path(name).name != name:  # an index must not point outside the folder
            raise ModelFileError.at(index, f"it lists {name!r}, which is not a file in this folder")
        if not (index.parent / name).is_file():
            raise ModelFileError.at(
                index.parent / name, f"missing ({index.name} lists it): copy it into the folder"
            )
    return tuple(index.parent / name for name in names)


def check_weight_files(files: tuple[Path, ...]) -> None:
    """Safetensors headers and lengths (cheap); `.bin` files through torch's weights-only reader, which
    refuses a pickle that would run code (read_tensors says which object it wanted)."""
    for path in files:
        if path.suffix == ".safetensors":
            _check_safetensors(path)
        else:
            read_tensors(path)


def _check_safetensors(path: Path) -> None:
    size = path.stat().st_size
    damaged = "the safetensors file is damaged"
    with open(path, "rb") as fh:
        head = fh.read(8)
        header_len = int.from_bytes(head, "little") if len(head) == 8 else -1
        if header_len <= 0 or header_len > min(_MAX_HEADER_BYTES, size - 8):
            raise ModelFileError.at(path, f"{damaged} or truncated ({size} bytes): download or copy it again")
        try:
            header = json.loads(fh.read(header_len))
            end = max(
                (int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0
            )
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ModelFileError.at(
                path, f"{damaged} (its header is not valid): download or copy it again"
            ) from None
    if 8 + header_len + end > size:
        raise ModelFileError.at(
            path,
            f"the file is truncated (its tensors end at byte {8 + header_len + end}, the file has {size})",
        )


def model_name(folder: Path) -> str:
    """A person's name for a model folder: the Hub name of a cache snapshot, else the folder's name
    (with its parent when the name alone says nothing, e.g. '.../minilm/model')."""
    parts = folder.resolve().parts
    if len(parts) >= 4 and parts[-2] == "snapshots" and parts[-3].startswith("models--"):
        return parts[-3].removeprefix("models--").replace("--", "/")
    if folder.name.lower() in _GENERIC_NAMES and folder.parent.name:
        return f"{folder.parent.name}/{folder.name}"
    return folder.name


def load_error(path: Path, exc: BaseException) -> ModelFileError:
    """Anything transformers raised while reading `path`, as one line."""
    text = first_sentence(str(exc)) or type(exc).__name__
    if "trust_remote_code" in str(exc):
        text = "it needs code from the model folder to run, and seqviz never runs code from a model"
    return ModelFileError.at(path, text)
