"""Safe model files: load and save models without ever running code from a file.

seqviz's own format is ONE `.safetensors` file: the weights as tensors, and in the safetensors header
metadata, under the key "seqviz", a flat JSON object (seqviz.demos.catalogue reads it without torch):
    TokenModel.metadata() + {"format_version": 1, "writer": "seqviz 0.1.0"}      ("kind": "TokenModel")
    {"kind": "recurrent", "class": "LSTM", "kwargs": {...}, "format_version": 1, "writer": ...}
Only classes on a fixed list are ever constructed from a file (nn.RNN/GRU/LSTM and the backbones named by
`seqmodel.backbone_classes()`).

`load_model` also takes model ids: the bundled models (files in `seqviz.core.resources.models_dir()`)
and `untrained-<arch>`, a seeded untrained model built in code (`seqmodel.fresh_model`). An id always
means that model: a file of the same name in the working folder is opened as a path (`./longrange-lstm`),
so what is loaded is never a stranger's file under a bundled model's name.

It also reads raw state dicts of a single nn.RNN / nn.GRU / nn.LSTM, saved as `.safetensors`
(without seqviz metadata) or with `torch.save` (read with `torch.load(weights_only=True)` only, which
refuses pickled code). The architecture is inferred from the keys and shapes; reading files and that
inference live in seqviz.core.statedict, building and checking the model here.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqviz.core import resources, word_lm
from seqviz.core.atomic import atomic_path
from seqviz.core.file_limits import path_problem
from seqviz.core.module_pickle import SAVE_INSTEAD, read_pickled_module, state_dict_of
from seqviz.core.statedict import (
    ModelFileError,
    PickledObjectsError,
    check_float_weights,
    few_keys,
    first_sentence,
    infer_recurrent,
    read_tensors,
    strip_common_prefix,
)

if TYPE_CHECKING:
    import torch
    import torch.nn as nn

__all__ = [  # ModelFileError is defined in statedict (its readers raise it); its public home is here
    "ModelFileError",
    "load_model",
    "save_model",
    "resolve_model_path",
    "bundled_model_ids",
    "bundled_models_dir",
    "model_ids",
    "untrained_model_ids",
    "UNTRAINED_ARCHS",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "KINDS",
    "EXTRA_TENSOR_PREFIX",
    "RECURRENT_KWARGS",
]

FORMAT_VERSION = 1
METADATA_KEY = "seqviz"
KINDS = ("TokenModel", "recurrent")
_COMMON_KWARGS = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional")
RECURRENT_KWARGS = {  # what a file may pass to each constructor (plus "dropout")
    "RNN": (*_COMMON_KWARGS, "nonlinearity"),
    "GRU": _COMMON_KWARGS,
    "LSTM": (*_COMMON_KWARGS, "proj_size"),
}
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
UNTRAINED_ARCHS = ("rnn", "gru", "lstm", "transformer")  # `untrained-<arch>`: seqmodel.fresh_model(arch)
_UNTRAINED_PREFIX = "untrained-"
#: tensors of a seqviz file that are not the model's, named "<prefix><anything>" (the weights of earlier
#: training steps, seqviz.demos.trained_file): load_model reads them within the file's bounds and leaves
#: them out of the model, which still loads strictly
EXTRA_TENSOR_PREFIX = "snapshot."
PICKLED_RECURRENT = tuple(f"torch.nn.modules.rnn.{name}" for name in ("RNN", "GRU", "LSTM"))


# Finding the file ---------------------------------------------------------------------------------


def bundled_models_dir() -> Path:
    """The folder of bundled model files (`<repo>/resources/models` in a checkout; see core.resources)."""
    return resources.models_dir()


def bundled_model_ids() -> list[str]:
    """Ids of the bundled models: the names of the `.safetensors` files in `bundled_models_dir()`."""
    folder = bundled_models_dir()
    return sorted(p.stem for p in folder.glob("*.safetensors")) if folder.is_dir() else []


def untrained_model_ids() -> list[str]:
    """Ids of the seeded untrained models built in code: `untrained-rnn`, ... (no file behind them)."""
    return [_UNTRAINED_PREFIX + arch for arch in UNTRAINED_ARCHS]


def model_ids() -> list[str]:
    """Every id `load_model` takes: the bundled models, then the untrained ones."""
    return bundled_model_ids() + untrained_model_ids()


def _untrained_arch(path_or_id: str | os.PathLike[str]) -> str | None:
    """The arch of an `untrained-<arch>` id (an id, never a file of that name: see resolve_model_path)."""
    if not isinstance(path_or_id, str) or path_or_id not in untrained_model_ids():
        return None
    return path_or_id.removeprefix(_UNTRAINED_PREFIX)


def resolve_model_path(path_or_id: str | os.PathLike[str]) -> Path:
    """A bundled model id -> its file; an existing path as is; a model name of the local Hugging Face
    cache -> its snapshot folder; else ModelFileError.

    Ids and paths never collide: an id (a str of letters, digits, '-' and '_', without a folder or a
    suffix) that names a bundled model is that model, even when a file of that name lies in the working
    folder; that file opens as a path with a folder, `./longrange-lstm`."""
    if isinstance(path_or_id, str) and _ID_RE.match(path_or_id):
        bundled = bundled_models_dir() / f"{path_or_id}.safetensors"
        if bundled.is_file():
            return bundled
    problem = path_problem(path_or_id)
    if problem is not None:  # a name too long for the file system, a file used as a folder
        raise ModelFileError(f"cannot open {_short(str(path_or_id))!r}: {problem}")
    path = Path(path_or_id)
    if path.exists():
        return path
    cached = _cached_hub_model(path_or_id)  # a Hugging Face name ("gpt2", "org/name") on this machine
    if cached is not None:
        return cached
    if isinstance(path_or_id, str) and _ID_RE.match(path_or_id):
        ids = bundled_model_ids()
        known = f"bundled models: {', '.join(ids)}" if ids else "no models are bundled"
        known += f"; untrained: {', '.join(untrained_model_ids())}"
        raise ModelFileError(
            f"no such file or bundled model: {path_or_id!r} is not a file here, nor a bundled model "
            f"({known}), nor in the local Hugging Face cache ({_hub_hint(path_or_id)})"
        )
    hub_name = _HUB_NAME_RE.match(str(path_or_id)) and Path(path_or_id).suffix not in _FILE_SUFFIXES
    hint = f"; {_hub_hint(path_or_id)}" if hub_name else ""
    raise ModelFileError(f"no such file or bundled model: {path_or_id} does not exist{hint}")


def _short(name: str, limit: int = 80) -> str:
    """A name for a message: long ones cut in the middle."""
    return name if len(name) <= limit else f"{name[: limit // 2]}...{name[-limit // 2 :]}"


_HUB_NAME_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")  # "org/name", as the Hugging Face Hub names
_FILE_SUFFIXES = {".safetensors", ".pt", ".pth", ".bin", ".ckpt", ".pkl", ".npz", ".seqviz"}  # not Hub names


def _cached_hub_model(name: str | os.PathLike[str]) -> Path | None:
    """The snapshot folder of a Hub model in the local Hugging Face cache (file system only: seqviz
    never downloads)."""
    from seqviz.core.hf_cache import find_cached

    found = find_cached(name) if isinstance(name, str) else None
    return found.folder if found is not None else None


def _hub_hint(name: str | os.PathLike[str]) -> str:
    from seqviz.core.hf.loading import cache_hint

    return cache_hint(str(name))


# Loading ------------------------------------------------------------------------------------------


def load_model(
    path_or_id: str | os.PathLike[str],
    *,
    nonlinearity: str | None = None,
    vocab: word_lm.VocabArg = None,
    heads: int | None = None,
) -> nn.Module:
    """Load a model file, or a model by id (`model_ids()`); returns a TokenModel or nn.RNN/GRU/LSTM in
    eval mode. An id is always that model; a file of the same name opens as `./NAME` (resolve_model_path).
    A Hugging Face model folder, or the name of a model in the local Hugging Face cache ("gpt2"), gives
    a seqviz.core.hf HFModel (a SequenceModel; nothing is downloaded: a name not on this machine is a
    ModelFileError saying how).

    Tensors stay in float64 if the file stores float64, else the model is float32 (half-precision
    weights are widened: torch's CPU recurrent kernels want float32).
    A raw nn.RNN state dict does not record its nonlinearity: it is loaded as tanh (torch's default)
    unless `nonlinearity="relu"` is given. Files that record it (and GRU/LSTM files) ignore the argument.
    Files of PyTorch's word_language_model example (`torch.save(model)` or its state dict; see
    seqviz.core.word_lm) need `vocab=` (a file of one word per line, the data folder, or the words),
    and their state dicts `heads=` (Transformer) or `nonlinearity=` (nn.RNN); the message says so.
    Raises ModelFileError, naming the file, for anything that is not a loadable model.
    """
    if nonlinearity not in (None, "tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}")
    if heads is not None and (isinstance(heads, bool) or not isinstance(heads, int) or heads < 1):
        raise ValueError(f"heads must be a positive number of attention heads, not {heads!r}")
    arch = _untrained_arch(path_or_id)
    if arch is not None:
        from seqviz.core.seqmodel import fresh_model

        _no_example_options(path_or_id, vocab, heads, "a seqviz model with its own vocabulary")
        return fresh_model(arch)
    path = resolve_model_path(path_or_id)
    if path.is_dir():  # a Hugging Face model folder, or a snapshot of the local cache (seqviz.core.hf)
        _no_example_options(path, vocab, heads, "a Hugging Face model folder")
        from seqviz.core.hf.pretrained import load_folder

        return load_folder(path)
    try:
        return _load_file(path, nonlinearity, vocab, heads)
    except ModelFileError:
        raise
    except Exception as exc:  # the boundary: a damaged file can make any library raise anything
        raise ModelFileError.at(path, f"{type(exc).__name__}: {first_sentence(str(exc))}") from exc


def _load_file(path: Path, nonlinearity: str | None, vocab: word_lm.VocabArg, heads: int | None) -> nn.Module:
    try:
        tensors, metadata = read_tensors(path)
    except PickledObjectsError:  # torch.save(model): read as data, never run (core.module_pickle)
        return _load_pickled_module(path, nonlinearity, vocab, heads)
    check_float_weights(path, tensors)
    if METADATA_KEY in metadata:
        _no_example_options(path, vocab, heads, "a seqviz model file with its own vocabulary")
        weights = {k: v for k, v in tensors.items() if not k.startswith(EXTRA_TENSOR_PREFIX)}
        return _build_seqviz_model(path, metadata[METADATA_KEY], weights)
    example = word_lm.recognise_state_dict(tensors)
    if example is not None:
        return word_lm.build(path, example, vocab, heads, nonlinearity)
    _no_example_options(path, vocab, heads, "the state dict of a recurrent layer")
    return _build_raw_recurrent(path, tensors, nonlinearity or "tanh")


def _load_pickled_module(
    path: Path, nonlinearity: str | None, vocab: word_lm.VocabArg, heads: int | None
) -> nn.Module:
    """A whole pickled nn.RNN/GRU/LSTM, or a model of the word_language_model example."""
    obj = read_pickled_module(path)
    if obj.pickled_class in PICKLED_RECURRENT:
        _no_example_options(path, vocab, heads, f"a pickled nn.{obj.class_name}")
        relu = obj.get("mode") == "RNN_RELU"  # the pickle records it
        return _build_raw_recurrent(path, state_dict_of(path, obj), "relu" if relu else "tanh")
    if obj.class_name in ("RNNModel", "TransformerModel"):
        return word_lm.build(path, word_lm.recognise_pickle(path, obj), vocab, heads, nonlinearity)
    problem = f"it holds a pickled {obj.class_name}, not a sequence model; {SAVE_INSTEAD}"
    raise ModelFileError.at(path, problem)


def _no_example_options(where: Any, vocab: Any, heads: int | None, what: str) -> None:
    """vocab= and heads= are for the word_language_model example's files; elsewhere they are a mistake."""
    given = [name for name, value in (("vocab", vocab), ("heads", heads)) if value is not None]
    if given:
        raise ModelFileError(
            f"cannot load {where}: {' and '.join(given)} given, but it is {what}; "
            f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} for files of PyTorch's "
            "word_language_model example"
        )


# Rebuilding models --------------------------------------------------------------------------------


def _build_seqviz_model(path: Path, text: str, tensors: dict[str, torch.Tensor]) -> nn.Module:
    try:
        header = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
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
        from seqviz.core.model_metadata import metadata_problem
        from seqviz.core.seqmodel import TokenModel

        problem = metadata_problem(header)  # types and sizes, before it is built and used
        if problem:
            raise ModelFileError.at(path, f"its TokenModel metadata {problem}")

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
        with torch.device("meta"), _skipping_init():
            skeleton = build()
        _check_tensors_fit(path, skeleton.state_dict(), tensors, described_by)
        with torch.random.fork_rng(devices=[]), torch.device("cpu"):
            model = build()
    except ModelFileError:
        raise
    except Exception as exc:
        problem = f"{type(exc).__name__}: {first_sentence(str(exc))}"
        raise ModelFileError.at(path, f"{described_by} does not describe a valid model ({problem})") from exc
    if _float_dtype(tensors) == torch.float64:
        model = model.double()
    model.load_state_dict(tensors, strict=True)
    return model.eval()


def _skipping_init():
    """A torch function mode in which `torch.nn.init` functions leave their tensor as it is.

    Why: the skeleton needs shapes only, and initialising a meta tensor (an embedding's normal_) goes
    through `torch._refs`, whose first use imports `torch._dynamo`: ~0.9 s on top of torch's own import
    before a model file's first load. Modes are per thread, so a model built meanwhile elsewhere (the
    training thread) is initialised as usual.
    """
    from torch.overrides import TorchFunctionMode

    class SkipInit(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if getattr(func, "__module__", "") == "torch.nn.init":
                return args[0] if args else kwargs["tensor"]
            return func(*args, **kwargs)

    return SkipInit()


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
        *([f"missing {few_keys(missing)}"] if missing else []),
        *([f"unexpected {few_keys(unexpected)}"] if unexpected else []),
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
    params = strip_common_prefix(path, tensors)
    cls_name, kwargs = infer_recurrent(path, params)
    if cls_name == "RNN":
        kwargs["nonlinearity"] = nonlinearity
    module = f"nn.{cls_name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    described_by = f"{module}, inferred from layer 0 (inconsistent layers?)"
    return _instantiate(path, _recurrent_factory(cls_name, kwargs), params, described_by)


# Saving -------------------------------------------------------------------------------------------


def save_model(
    model: nn.Module, path: str | os.PathLike[str], extra_tensors: Mapping[str, torch.Tensor] | None = None
) -> Path:
    """Save a TokenModel or a plain nn.RNN/GRU/LSTM as one `.safetensors` file with seqviz metadata.

    `extra_tensors` are stored beside the weights under names that start with EXTRA_TENSOR_PREFIX
    (load_model leaves them out of the model). The write is atomic: a temporary file in the same folder,
    then os.replace; on failure no partial file is left and an existing file at `path` is untouched.
    Returns the path.
    """
    from safetensors.torch import save

    import seqviz

    header = {**_describe(model), "format_version": FORMAT_VERSION, "writer": f"seqviz {seqviz.__version__}"}
    # Fresh contiguous copies: safetensors refuses views and tensors that share memory (tied weights).
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    for name, tensor in (extra_tensors or {}).items():
        if not name.startswith(EXTRA_TENSOR_PREFIX) or name in tensors:
            raise ValueError(f"an extra tensor's name must start with {EXTRA_TENSOR_PREFIX!r}, not {name!r}")
        tensors[name] = tensor.detach().cpu().contiguous().clone()
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
        "for other modules save module.state_dict() (torch.save or safetensors): load_model reads those "
        "of nn.RNN/GRU/LSTM and of PyTorch's word_language_model example (with vocab=)"
    )


def _write_atomically(path: Path, data: bytes) -> None:
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save {path}: the folder {path.parent} does not exist")
    with atomic_path(path) as temp:
        temp.write_bytes(data)
