"""Reading state dicts from files without ever running code, and recognising raw recurrent ones.

`read_tensors` reads a `.safetensors` file (its tensors and header metadata) or a `torch.save` file
(with `torch.load(weights_only=True)` only, which refuses pickled code), checking what it can itself so
that a damaged or unsuitable file gets a message that says what is wrong.

`strip_common_prefix` and `infer_recurrent` turn the raw state dict of a single nn.RNN / nn.GRU /
nn.LSTM (saved without seqviz metadata) into the class and constructor arguments it came from, from its
keys and shapes alone. Building the model is seqviz.core.modelfile's job.
"""

from __future__ import annotations

import json
import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqviz.core.file_limits import FileLimitError, check_allocation, regular_file, zip_inflation

if TYPE_CHECKING:
    import torch

_CLASS_BY_GATES = {1: "RNN", 3: "GRU", 4: "LSTM"}  # rows of weight_hh = gates * hidden_size
_PARAM_RE = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")
_TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".ckpt")
_MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself enforces
_SAVE_HINT = "save the model's state dict instead: torch.save(model.state_dict(), path)"


class ModelFileError(Exception):
    """A model file seqviz cannot load; the message names the file and says what is wrong.

    Public as seqviz.core.modelfile.ModelFileError (and seqviz.ModelFileError); defined here, beside
    the readers that raise most of them, so that this module does not import modelfile.
    """

    @classmethod
    def at(cls, path: Path, problem: str) -> ModelFileError:
        return cls(f"cannot load {path}: {problem}")


class PickledObjectsError(ModelFileError):
    """A torch.save file that pickles objects (a whole module), not only tensors: torch's safe loader
    refuses it; seqviz.core.module_pickle reads the ones seqviz knows as data."""


# Reading a file -----------------------------------------------------------------------------------


def read_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors of a safetensors or PyTorch file and its metadata ({} for PyTorch files).

    Every tensor is dense, on the CPU and of a floating-point type (`check_tensors`), and what they
    take in memory is bounded by what the file stores (seqviz.core.file_limits)."""
    size = checked_size(path)
    with open(path, "rb") as f:
        head = f.read(9)
    if _sniff(head, size, path) == "safetensors":
        return _read_safetensors(path, size)
    return _read_torch_file(path, size), {}


def checked_size(path: Path) -> int:
    """The size of a model file that is a regular, non-empty file; else ModelFileError saying what
    it is (a folder, a FIFO, a device, a name too long)."""
    try:
        size = regular_file(path)
    except FileLimitError as exc:
        raise ModelFileError.at(path, str(exc).replace("not a file", "not a model file")) from None
    if size == 0:
        raise ModelFileError.at(path, "the file is empty (0 bytes)")
    return size


def guarded_torch_load(path: Path, size: int, **options: Any) -> Any:
    """torch.load(weights_only=True) of a file whose zip members were checked not to inflate beyond
    the bound (a torch.save zip stores them uncompressed; a compressed one may declare gigabytes)."""
    import torch

    try:
        zip_inflation(path, size)
    except FileLimitError as exc:
        raise ModelFileError.at(path, str(exc)) from None
    with warnings.catch_warnings():  # torch's notes on pickle protocols mean nothing to our users
        warnings.simplefilter("ignore", UserWarning)
        # A file object, not a name: torch routes "*.safetensors" names elsewhere by themselves.
        with open(path, "rb") as fh:
            return torch.load(fh, map_location="cpu", weights_only=True, **options)  # never runs code


def _sniff(head: bytes, size: int, path: Path) -> str:
    """Which reader, from the first bytes: "torch" (zip or pickle) or "safetensors" (length, then JSON)."""
    # safetensors first: its header length's low byte may be 0x80, the first byte of a pickle.
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return "torch"
    if path.suffix.lower() in _TORCH_SUFFIXES:
        return "torch"  # let torch's safe loader diagnose it
    what = "a safetensors file" if path.suffix.lower() == ".safetensors" else "a safetensors or PyTorch file"
    raise ModelFileError.at(path, f"it is not {what} (unrecognised content, {size} bytes)")


def _read_safetensors(path: Path, size: int) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Checks the header and the data length ourselves (for clear messages), then lets safetensors read."""
    from safetensors.torch import load_file

    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        if header_len > _MAX_HEADER_BYTES:
            raise ModelFileError.at(path, f"not a safetensors file (header length {header_len})")
        if 8 + header_len > size:
            raise ModelFileError.at(
                path, f"the file is truncated (its header needs {8 + header_len} bytes, the file has {size})"
            )
        try:
            header = json.loads(f.read(header_len))
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise ModelFileError.at(path, "the safetensors header is damaged (not JSON)") from None
    data_end = 8 + header_len + _data_length(path, header)
    if data_end > size:
        raise ModelFileError.at(
            path, f"the file is truncated (tensor data ends at byte {data_end}, the file has {size} bytes)"
        )
    tensors = load_file(path, device="cpu")
    check_tensors(path, tensors, size)
    return tensors, dict(header.get("__metadata__") or {})


def _data_length(path: Path, header: Any) -> int:
    """Bytes of tensor data a safetensors header promises."""
    try:
        entries = [v for k, v in header.items() if k != "__metadata__"]
        return max((int(v["data_offsets"][1]) for v in entries), default=0)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        raise ModelFileError.at(path, "the safetensors header is damaged") from None


def _read_torch_file(path: Path, size: int) -> dict[str, torch.Tensor]:
    try:
        obj = guarded_torch_load(path, size)
    except ModelFileError:
        raise
    except pickle.UnpicklingError as exc:
        refused = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if refused:
            raise PickledObjectsError.at(
                path, f"it contains code/objects ({refused.group(1)}), not a plain state dict; {_SAVE_HINT}"
            ) from None
        raise ModelFileError.at(
            path,
            f"not a plain PyTorch state dict (damaged, not a PyTorch file, or a "
            f"pickle that seqviz will not run); {_SAVE_HINT}",
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError) as exc:
        raise ModelFileError.at(
            path, f"the PyTorch file is damaged or truncated ({first_sentence(str(exc))})"
        ) from None
    except Exception:  # random bytes can derail the unpickler anywhere ("pop from empty list")
        raise ModelFileError.at(
            path, f"it is damaged or not a PyTorch file (its pickle cannot be read); {_SAVE_HINT}"
        ) from None
    tensors = _as_state_dict(path, obj)
    check_tensors(path, tensors, size)
    return tensors


def _as_state_dict(path: Path, obj: Any) -> dict[str, torch.Tensor]:
    import torch

    if not isinstance(obj, Mapping):
        raise ModelFileError.at(path, f"it holds a {type(obj).__name__}, not a state dict; {_SAVE_HINT}")
    if not obj:
        raise ModelFileError.at(path, "it holds an empty dict, not a model's weights")
    for key in ("state_dict", "model_state_dict", "model"):
        inner = obj.get(key)
        if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
            raise ModelFileError.at(
                path,
                f"it looks like a training checkpoint; the weights are under "
                f"{key!r}: save checkpoint[{key!r}] on its own",
            )
    for key, value in obj.items():
        if not isinstance(key, str):
            raise ModelFileError.at(
                path,
                f"not a state dict: its key {key!r} is not text (a parameter name such as "
                f"'weight_ih_l0'); {_SAVE_HINT}",
            )
        if not isinstance(value, torch.Tensor):
            raise ModelFileError.at(
                path,
                f"not a state dict: entry {key!r} is a {type(value).__name__}, not a tensor; {_SAVE_HINT}",
            )
    return dict(obj)


def check_tensors(path: Path, tensors: Mapping[str, torch.Tensor], stored: int) -> None:
    """Refuse tensors no reader should touch, or that would take far more memory than the file holds:
    a sparse, quantised or meta tensor (densifying a malformed sparse tensor crashes torch), and
    tensors that declare more bytes than `stored` allows (stride-0 or shared storages;
    seqviz.core.file_limits). Only attributes are read: nothing here touches a tensor's data."""
    import torch

    needed = 0
    for key, t in tensors.items():
        if t.layout != torch.strided:
            layout = str(t.layout).removeprefix("torch.")
            raise ModelFileError.at(
                path, f"{key} is a {layout} tensor; seqviz reads dense tensors only: save tensor.to_dense()"
            )
        if t.is_quantized or t.device.type != "cpu":
            what = "quantised" if t.is_quantized else f"on the {t.device.type} device (no values)"
            raise ModelFileError.at(path, f"{key} is {what}; save the model's float weights themselves")
        needed += t.numel() * max(t.element_size(), 4)  # what the float32 (or float64) model will hold
    try:
        check_allocation(needed, stored, "its tensors would take")
    except FileLimitError as exc:
        raise ModelFileError.at(path, f"{exc} (tensors sharing one storage, or of stride 0?)") from None


def check_float_weights(path: Path, tensors: Mapping[str, torch.Tensor]) -> None:
    """seqviz's own models (its format, raw recurrent state dicts, the word_language_model example)
    hold floating-point weights only: integer, bool or complex ones would be cast to float32 without
    a word, so they are refused by name."""
    import torch

    for key, t in tensors.items():
        if not t.is_floating_point():
            kind = "complex" if t.is_complex() else "boolean" if t.dtype == torch.bool else "integer"
            raise ModelFileError.at(
                path,
                f"{key} is {str(t.dtype).removeprefix('torch.')} ({kind}); seqviz reads floating-point "
                "weights (float16, bfloat16, float32, float64) and would not cast these without a word: "
                "convert them to float first",
            )


# Raw recurrent state dicts ------------------------------------------------------------------------


def strip_common_prefix(path: Path, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A single module's keys, or all keys under ONE common prefix ("rnn.", "module.lstm.").

    A larger model (an embedding and a head beside the recurrent layer, or two recurrent layers) is
    rejected rather than cut: the loaded model would silently not be the saved one.
    """
    if all(_PARAM_RE.match(k) for k in tensors):
        return tensors
    split = [k.rpartition(".") for k in tensors]
    prefixes = {prefix for prefix, _, leaf in split if prefix and _PARAM_RE.match(leaf)}
    if len(prefixes) == 1 and all(p in prefixes and _PARAM_RE.match(leaf) for p, _, leaf in split):
        return {leaf: t for (_, _, leaf), t in zip(split, tensors.values(), strict=True)}
    if prefixes:
        raise ModelFileError.at(
            path,
            f"it holds a larger model ({few_keys(list(tensors))}); seqviz reads the whole state dict "
            "of PyTorch's word_language_model example, and of one nn.RNN/GRU/LSTM: for this model save "
            f"model.{sorted(prefixes)[0]}.state_dict() (seqviz then feeds it one vector per character: "
            "your embedding and output layer are not used)",
        )
    raise ModelFileError.at(path, f"it holds no nn.RNN/GRU/LSTM weights (keys: {few_keys(list(tensors))})")


def infer_recurrent(path: Path, params: Mapping[str, torch.Tensor]) -> tuple[str, dict[str, Any]]:
    """(class name, constructor kwargs) from the keys and shapes of a recurrent state dict.

    weight_hh_l0 is (gates * H, H), or (4H, P) with weight_hr_l0 (P, H) for an LSTM with projections;
    gates: 1 RNN, 3 GRU, 4 LSTM. Layers come from `_l{k}`, directions from `_reverse`, bias from
    bias_ih. The caller checks every key and shape against a module built with these kwargs.
    """
    hh, ih, hr = (params.get(f"{name}_l0") for name in ("weight_hh", "weight_ih", "weight_hr"))
    if hh is None or ih is None or hh.dim() != 2 or ih.dim() != 2:
        raise ModelFileError.at(
            path, "the weights fit no architecture: weight_ih_l0 and weight_hh_l0 (2-d) are needed"
        )
    hidden = int(hr.shape[1]) if hr is not None and hr.dim() == 2 else int(hh.shape[1])
    gates = hh.shape[0] // hidden if hidden and hh.shape[0] % hidden == 0 else 0
    if gates not in _CLASS_BY_GATES or (hr is not None and gates != 4):
        raise ModelFileError.at(
            path,
            f"the shapes fit no architecture: weight_hh_l0 is {tuple(hh.shape)}"
            f"{f' with weight_hr_l0 {tuple(hr.shape)}' if hr is not None else ''}; its rows must be 1 (RNN), "
            f"3 (GRU) or 4 (LSTM) times the hidden size",
        )
    layers = sorted({int(m.group(2)) for m in map(_PARAM_RE.match, params) if m})
    if layers != list(range(len(layers))):
        raise ModelFileError.at(path, f"inconsistent layers: found layers {layers}")
    cls_name = _CLASS_BY_GATES[gates]
    kwargs: dict[str, Any] = {
        "input_size": int(ih.shape[1]),
        "hidden_size": hidden,
        "num_layers": len(layers),
        "bias": "bias_ih_l0" in params,
        "bidirectional": any(k.endswith("_reverse") for k in params),
    }
    if hr is not None:
        kwargs["proj_size"] = int(hr.shape[0])
    return cls_name, kwargs


# Messages -----------------------------------------------------------------------------------------


def few_keys(keys: list[str], n: int = 4) -> str:
    """The first n keys, and how many there are in all if that is more."""
    return ", ".join(keys[:n]) + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of a library's message, on one line. A first line that only announces
    what follows ("Error(s) in loading state_dict for LSTM:") keeps the lines after it."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    first = lines[0].split(". ")[0]
    if first.endswith(":") and len(lines) > 1:
        first = " ".join([first, *lines[1:]])
    return first if len(first) <= limit else first[: limit - 3] + "..."
