"""Safe model files: load and save models without ever running code from a file.

seqviz's own format is ONE `.safetensors` file: the weights as tensors, and in the safetensors header
metadata, under the key "seqviz", a flat JSON object (seqviz.demos.catalogue reads it without torch):
    TokenModel.metadata() + {"format_version": 1, "writer": "seqviz 0.1.0"}      ("kind": "TokenModel")
    {"kind": "recurrent", "class": "LSTM", "kwargs": {...}, "format_version": 1, "writer": ...}
Only classes on a fixed list are ever constructed from a file (nn.RNN/GRU/LSTM and the backbones named by
`seqmodel.backbone_classes()`).

`load_model` also reads raw state dicts of a single nn.RNN / nn.GRU / nn.LSTM, saved as `.safetensors`
(without seqviz metadata) or with `torch.save` (read with `torch.load(weights_only=True)` only, which
refuses pickled code). The architecture is inferred from the keys and shapes; see `_infer_recurrent`.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqviz.core.atomic import atomic_path

if TYPE_CHECKING:
    import torch
    import torch.nn as nn

FORMAT_VERSION = 1
METADATA_KEY = "seqviz"
KINDS = ("TokenModel", "recurrent")
_COMMON_KWARGS = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional")
RECURRENT_KWARGS = {  # what a file may pass to each constructor (plus "dropout")
    "RNN": (*_COMMON_KWARGS, "nonlinearity"),
    "GRU": _COMMON_KWARGS,
    "LSTM": (*_COMMON_KWARGS, "proj_size"),
}
_CLASS_BY_GATES = {1: "RNN", 3: "GRU", 4: "LSTM"}  # rows of weight_hh = gates * hidden_size
_PARAM_RE = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".ckpt")
_MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself enforces
_SAVE_HINT = "save model.state_dict(), or the model with seqviz.save_model"


class ModelFileError(Exception):
    """A model file seqviz cannot load; the message names the file and says what is wrong."""

    @classmethod
    def at(cls, path: Path, problem: str) -> ModelFileError:
        return cls(f"cannot load {path}: {problem}")


# Finding the file ---------------------------------------------------------------------------------


def bundled_models_dir() -> Path:
    """The folder of bundled model files: `<repo>/resources/models`."""
    return Path(__file__).resolve().parents[2] / "resources" / "models"


def bundled_model_ids() -> list[str]:
    """Ids of the bundled models: the names of the `.safetensors` files in `bundled_models_dir()`."""
    folder = bundled_models_dir()
    return sorted(p.stem for p in folder.glob("*.safetensors")) if folder.is_dir() else []


def resolve_model_path(path_or_id: str | os.PathLike[str]) -> Path:
    """An existing path as is; a bundled model id (no folder, no suffix) -> its file; else ModelFileError."""
    try:
        path = Path(path_or_id)
        if path.exists():
            return path
    except (OSError, ValueError) as exc:  # e.g. a NUL byte or a name too long for the file system
        raise ModelFileError(f"no such file or bundled model: {path_or_id!r} ({exc})") from None
    if isinstance(path_or_id, str) and _ID_RE.match(path_or_id):
        bundled = bundled_models_dir() / f"{path_or_id}.safetensors"
        if bundled.is_file():
            return bundled
        ids = bundled_model_ids()
        known = f"bundled models: {', '.join(ids)}" if ids else "no models are bundled"
        raise ModelFileError(
            f"no such file or bundled model: {path_or_id!r} is not a file here, nor a bundled model ({known})"
        )
    raise ModelFileError(f"no such file or bundled model: {path_or_id} does not exist")


# Loading ------------------------------------------------------------------------------------------


def load_model(path_or_id: str | os.PathLike[str], *, nonlinearity: str | None = None) -> nn.Module:
    """Load a model file or a bundled model by id; returns a TokenModel or nn.RNN/GRU/LSTM in eval mode.

    Tensors stay in float64 if the file stores float64, else the model is float32 (half-precision
    weights are widened: torch's CPU recurrent kernels want float32).
    A raw nn.RNN state dict does not record its nonlinearity: it is loaded as tanh (torch's default)
    unless `nonlinearity="relu"` is given. Files that record it (and GRU/LSTM files) ignore the argument.
    Raises ModelFileError, naming the file, for anything that is not a loadable model.
    """
    if nonlinearity not in (None, "tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}")
    path = resolve_model_path(path_or_id)
    try:
        return _load_file(path, nonlinearity or "tanh")
    except ModelFileError:
        raise
    except Exception as exc:  # the boundary: a damaged file can make any library raise anything
        raise ModelFileError.at(path, f"{type(exc).__name__}: {_short(str(exc))}") from exc


def _load_file(path: Path, nonlinearity: str) -> nn.Module:
    if path.is_dir():
        raise ModelFileError.at(path, "it is a directory, not a model file")
    size = path.stat().st_size
    if size == 0:
        raise ModelFileError.at(path, "the file is empty (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(9)
    fmt = _sniff(head, size, path)
    if fmt == "safetensors":
        tensors, metadata = _read_safetensors(path, size)
        if METADATA_KEY in metadata:
            return _build_seqviz_model(path, metadata[METADATA_KEY], tensors)
    else:
        tensors = _read_torch_file(path)
    return _build_raw_recurrent(path, tensors, nonlinearity)


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
        except ValueError:
            raise ModelFileError.at(path, "the safetensors header is damaged (not JSON)") from None
    data_end = 8 + header_len + _data_length(path, header)
    if data_end > size:
        raise ModelFileError.at(
            path, f"the file is truncated (tensor data ends at byte {data_end}, the file has {size} bytes)"
        )
    return load_file(path, device="cpu"), dict(header.get("__metadata__") or {})


def _data_length(path: Path, header: Any) -> int:
    """Bytes of tensor data a safetensors header promises."""
    try:
        entries = [v for k, v in header.items() if k != "__metadata__"]
        return max((int(v["data_offsets"][1]) for v in entries), default=0)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        raise ModelFileError.at(path, "the safetensors header is damaged") from None


def _read_torch_file(path: Path) -> dict[str, torch.Tensor]:
    import torch

    try:
        with warnings.catch_warnings():  # torch's notes on pickle protocols mean nothing to our users
            warnings.simplefilter("ignore", UserWarning)
            # A file object, not a name: torch routes "*.safetensors" names elsewhere by themselves.
            with open(path, "rb") as fh:
                obj = torch.load(fh, map_location="cpu", weights_only=True)  # never runs pickled code
    except pickle.UnpicklingError as exc:
        refused = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if refused:
            raise ModelFileError.at(
                path, f"it contains code/objects ({refused.group(1)}), not a plain state dict; {_SAVE_HINT}"
            ) from None
        raise ModelFileError.at(
            path,
            f"not a plain PyTorch state dict (damaged, not a PyTorch file, or a "
            f"pickle that seqviz will not run); {_SAVE_HINT}",
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError) as exc:
        raise ModelFileError.at(
            path, f"the PyTorch file is damaged or truncated ({_short(str(exc))})"
        ) from None
    return _as_state_dict(path, obj)


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
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise ModelFileError.at(
                path,
                f"not a state dict: entry {key!r} is a {type(value).__name__}, not a tensor; {_SAVE_HINT}",
            )
    return dict(obj)


# Rebuilding models --------------------------------------------------------------------------------


def _build_seqviz_model(path: Path, text: str, tensors: dict[str, torch.Tensor]) -> nn.Module:
    try:
        header = json.loads(text)
    except ValueError:
        raise ModelFileError.at(path, "its seqviz metadata is damaged (not JSON)") from None
    if not isinstance(header, dict):
        raise ModelFileError.at(path, "its seqviz metadata is damaged (not a JSON object)")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError.at(path, f"unknown seqviz format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError.at(
            path,
            f"it was written by a newer seqviz (format version {version}; this "
            f"seqviz reads up to {FORMAT_VERSION}): update seqviz",
        )
    kind = header.get("kind")
    if kind == "TokenModel":
        from seqviz.core.seqmodel import TokenModel

        return _instantiate(
            path, lambda: TokenModel.from_metadata(header), tensors, "its TokenModel metadata"
        )
    if kind == "recurrent":
        cls_name, kwargs = header.get("class"), header.get("kwargs")
        if cls_name not in RECURRENT_KWARGS or not isinstance(kwargs, dict):
            raise ModelFileError.at(path, f"unknown recurrent class {cls_name!r} in its metadata")
        extra = set(kwargs) - set(RECURRENT_KWARGS[cls_name]) - {"dropout"}
        if extra:
            raise ModelFileError.at(path, f"unknown {cls_name} arguments {sorted(extra)} in its metadata")
        return _instantiate(
            path, _recurrent_factory(cls_name, kwargs), tensors, f"its nn.{cls_name} metadata"
        )
    raise ModelFileError.at(path, f"unknown seqviz model kind {kind!r} (this seqviz reads {KINDS})")


def _recurrent_factory(cls_name: str, kwargs: dict[str, Any]) -> Callable[[], nn.Module]:
    import torch.nn as nn

    return functools.partial(getattr(nn, cls_name), **kwargs)


def _instantiate(
    path: Path, build: Callable[[], nn.Module], tensors: dict[str, torch.Tensor], described_by: str
) -> nn.Module:
    """Build the model `described_by` describes, check the tensors fit it, load them; eval mode, CPU.

    The model is first built on the "meta" device (shapes, no memory) and the tensors checked against
    it, so a description of a huge model fails here instead of exhausting memory. Every backbone must
    therefore be constructible under `torch.device("meta")`, as plain nn.Modules are. The real build runs
    under fork_rng: loading a file must not move the caller's random number stream.
    """
    import torch

    try:
        with torch.device("meta"):
            skeleton = build()
        _check_tensors_fit(path, skeleton.state_dict(), tensors, described_by)
        with torch.random.fork_rng(devices=[]), torch.device("cpu"):
            model = build()
    except ModelFileError:
        raise
    except Exception as exc:
        problem = f"{type(exc).__name__}: {_short(str(exc))}"
        raise ModelFileError.at(path, f"{described_by} does not describe a valid model ({problem})") from exc
    if _float_dtype(tensors) == torch.float64:
        model = model.double()
    model.load_state_dict(tensors, strict=True)
    return model.eval()


def _check_tensors_fit(
    path: Path, expected: Mapping[str, torch.Tensor], tensors: Mapping[str, torch.Tensor], described_by: str
) -> None:
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    wrong = [
        f"{k} is {tuple(tensors[k].shape)}, needs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    problems = [
        *([f"missing {_few(missing)}"] if missing else []),
        *([f"unexpected {_few(unexpected)}"] if unexpected else []),
        *wrong[:3],
    ]
    if problems:
        raise ModelFileError.at(path, f"the tensors do not match {described_by}: {'; '.join(problems)}")


def _float_dtype(tensors: Mapping[str, torch.Tensor]) -> torch.dtype:
    """float64 if every floating tensor is float64, else float32."""
    import torch

    floats = {t.dtype for t in tensors.values() if t.is_floating_point()}
    return torch.float64 if floats == {torch.float64} else torch.float32


# Raw recurrent state dicts ------------------------------------------------------------------------


def _build_raw_recurrent(path: Path, tensors: dict[str, torch.Tensor], nonlinearity: str) -> nn.Module:
    params = _strip_common_prefix(path, tensors)
    cls_name, kwargs = _infer_recurrent(path, params)
    if cls_name == "RNN":
        kwargs["nonlinearity"] = nonlinearity
    module = f"nn.{cls_name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    described_by = f"{module}, inferred from layer 0 (inconsistent layers?)"
    return _instantiate(path, _recurrent_factory(cls_name, kwargs), params, described_by)


def _strip_common_prefix(path: Path, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
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
            f"it holds a larger model ({_few(list(tensors))}); seqviz reads the state "
            f"dict of one nn.RNN/GRU/LSTM: save e.g. model.{sorted(prefixes)[0]}.state_dict(), or a whole "
            "seqviz model with seqviz.save_model",
        )
    raise ModelFileError.at(path, f"it holds no nn.RNN/GRU/LSTM weights (keys: {_few(list(tensors))})")


def _infer_recurrent(path: Path, params: Mapping[str, torch.Tensor]) -> tuple[str, dict[str, Any]]:
    """(class name, constructor kwargs) from the keys and shapes of a recurrent state dict.

    weight_hh_l0 is (gates * H, H), or (4H, P) with weight_hr_l0 (P, H) for an LSTM with projections;
    gates: 1 RNN, 3 GRU, 4 LSTM. Layers come from `_l{k}`, directions from `_reverse`, bias from
    bias_ih. Every key and shape is then checked against a module built with these kwargs.
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


# Saving -------------------------------------------------------------------------------------------


def save_model(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Save a TokenModel or a plain nn.RNN/GRU/LSTM as one `.safetensors` file with seqviz metadata.

    The write is atomic: a temporary file in the same folder, then os.replace; on failure no partial
    file is left and an existing file at `path` is untouched. Returns the path.
    """
    from safetensors.torch import save

    import seqviz

    header = {**_describe(model), "format_version": FORMAT_VERSION, "writer": f"seqviz {seqviz.__version__}"}
    # Fresh contiguous copies: safetensors refuses views and tensors that share memory (tied weights).
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    data = save(tensors, metadata={METADATA_KEY: json.dumps(header)})
    path = Path(path)
    _write_atomically(path, data)
    return path


def _describe(model: Any) -> dict[str, Any]:
    import torch.nn as nn

    from seqviz.core.seqmodel import TokenModel

    if isinstance(model, TokenModel):
        return {**model.metadata(), "kind": "TokenModel"}
    cls_name = type(model).__name__
    if type(model) in (nn.RNN, nn.GRU, nn.LSTM):  # exactly: a subclass may compute something else
        kwargs = {name: getattr(model, name) for name in RECURRENT_KWARGS[cls_name]}
        if model.dropout:
            kwargs["dropout"] = model.dropout
        return {"kind": "recurrent", "class": cls_name, "kwargs": kwargs}
    raise TypeError(
        f"save_model saves a seqviz TokenModel or a plain nn.RNN, nn.GRU or nn.LSTM, not a {cls_name}; "
        "for other modules save module.state_dict() with safetensors"
    )


def _write_atomically(path: Path, data: bytes) -> None:
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save {path}: the folder {path.parent} does not exist")
    with atomic_path(path) as temp:
        temp.write_bytes(data)


def _few(keys: list[str], n: int = 4) -> str:
    return ", ".join(keys[:n]) + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


def _short(text: str, limit: int = 200) -> str:
    """The first sentence of a library's message."""
    first = text.strip().splitlines()[0].split(". ")[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."
