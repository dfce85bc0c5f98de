"""Reading a whole pickled module (`torch.save(model, f)`) as data, without running any of its code.

A pickled nn.Module names its classes (`model.RNNModel`, `torch.nn.modules.rnn.LSTM`, ...) and stores
each object's attribute dict: `_modules`, `_parameters`, `_buffers` and plain values. Unpickling
normally imports those classes and lets them rebuild themselves, which runs whatever code the file
names. Here the file is read with torch's own restricted unpickler (`torch.load(weights_only=True)`),
and each class it names is mapped to a *data-only stand-in*: a plain class (`PickledObject`) without
`__setstate__`, so the unpickler can do nothing with it but `object.__new__` and fill its `__dict__`
with the stored data. Functions the file names (a Transformer layer's `activation`) become inert,
non-callable markers. Nothing is imported from the file and no method of any class runs.

Why not allow torch's own nn classes instead: their `__setstate__` (RNNBase's re-flattens weights,
Module's sets hooks) would run on data from the file, and a rebuilt Module carries hook dicts that
torch calls later. Stand-ins keep the file pure data; seqviz then builds fresh modules of its own and
copies the tensors in (seqviz.core.modelfile, seqviz.core.word_lm).

Only the classes seqviz can rebuild are mapped (`TORCH_CLASSES`, `EXAMPLE_CLASSES` under any module
name, `FUNCTIONS`); a file that names anything else is refused before it is unpickled, naming it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from seqviz.core.statedict import (
    ModelFileError,
    check_float_weights,
    check_tensors,
    checked_size,
    first_sentence,
    guarded_torch_load,
)

if TYPE_CHECKING:
    import torch

TORCH_CLASSES = tuple(
    f"torch.nn.modules.{name}"
    for name in (
        "rnn.RNN",
        "rnn.GRU",
        "rnn.LSTM",
        "sparse.Embedding",
        "linear.Linear",
        "linear.NonDynamicallyQuantizableLinear",  # MultiheadAttention's out_proj
        "dropout.Dropout",
        "normalization.LayerNorm",
        "container.ModuleList",
        "activation.MultiheadAttention",
        "transformer.TransformerEncoder",
        "transformer.TransformerEncoderLayer",
    )
)
FUNCTIONS = ("torch.nn.functional.relu", "torch.nn.functional.gelu")  # TransformerEncoderLayer.activation
#: PyTorch's word_language_model example (github.com/pytorch/examples): its model.py's classes, pickled
#: as `model.RNNModel` by its main.py, or under another module when copied into a script or notebook.
EXAMPLE_CLASSES = ("RNNModel", "TransformerModel", "PositionalEncoding")
_EXAMPLE_RE = re.compile(rf"^(?:[A-Za-z_]\w*\.)+(?:{'|'.join(EXAMPLE_CLASSES)})$")
PICKLE_CLASS = "pickle.class"  # metadata key: the class of the pickled top-level object


class PickledObject:
    """The data of one pickled object: `pickled_class` names what it was; its attributes are what the
    file stored (for modules: `_modules`, `_parameters`, `_buffers`, ...). Deliberately without
    `__setstate__`: torch's restricted unpickler then only updates `__dict__`."""

    pickled_class: ClassVar[str] = ""

    @property
    def class_name(self) -> str:
        """The class's own name: "LSTM", "RNNModel"."""
        return self.pickled_class.rpartition(".")[2]

    def modules(self) -> dict[str, Any]:
        return _dict_attr(self, "_modules")

    def child(self, name: str) -> PickledObject | None:
        found = self.modules().get(name)
        return found if isinstance(found, PickledObject) else None

    def get(self, name: str, default: Any = None) -> Any:
        return self.__dict__.get(name, default)


class PickledFunction:
    """An inert marker for a function the file names; not callable, so a pickle cannot call it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<pickled function {self.name}>"


def stand_in(name: str) -> type[PickledObject]:
    """A fresh data-only class standing for the class `name` (one per name and load)."""
    return type(name.rpartition(".")[2], (PickledObject,), {"pickled_class": name, "__module__": __name__})


def readable(name: str) -> bool:
    """Whether seqviz maps the global `name` of a pickle to a stand-in."""
    return name in TORCH_CLASSES or name in FUNCTIONS or bool(_EXAMPLE_RE.match(name))


# Reading -------------------------------------------------------------------------------------------


def read_pickled_module(path: Path) -> PickledObject:
    """The top-level object of a `torch.save(module)` file, as stand-ins. ModelFileError names any
    class or function seqviz will not read (nothing has been unpickled then)."""
    import torch

    size = checked_size(path)
    names = _globals_of(path)
    refused = sorted(name for name in names if not readable(name))
    if refused:
        raise ModelFileError.at(path, refusal(refused))
    allowed: list[Any] = [
        (PickledFunction(name), name) if name in FUNCTIONS else (stand_in(name), name) for name in names
    ]
    try:
        with torch.serialization.safe_globals(allowed):
            obj = guarded_torch_load(path, size)
    except ModelFileError:
        raise
    except Exception as exc:  # the restricted unpickler refuses anything else the file tries
        raise ModelFileError.at(
            path, f"the pickled model is damaged or not what it claims ({first_sentence(str(exc))})"
        ) from None
    if not isinstance(obj, PickledObject) or isinstance(obj, type):
        raise ModelFileError.at(path, f"it holds a {type(obj).__name__}, not a pickled model")
    return obj


def _globals_of(path: Path) -> list[str]:
    """Every class and function the pickle names beyond torch's tensors (read statically)."""
    import torch

    try:
        with open(path, "rb") as fh:
            return sorted(torch.serialization.get_unsafe_globals_in_checkpoint(fh))
    except Exception as exc:
        raise ModelFileError.at(
            path,
            f"not a readable PyTorch file ({first_sentence(str(exc))}); files from torch before 1.6: "
            "load and save them again with a current torch",
        ) from None


SAVE_INSTEAD = (
    "seqviz reads torch.save(model) files of nn.RNN/GRU/LSTM and of PyTorch's word_language_model "
    "example; for another model save the state dict of its recurrent layer, e.g. "
    "torch.save(model.rnn.state_dict(), 'rnn.pt')"
)


def refusal(names: list[str]) -> str:
    """Why a pickle naming `names` is not read, and what to save instead."""
    shown = ", ".join(names[:4]) + (f", ... ({len(names)} in all)" if len(names) > 4 else "")
    return (
        f"it is a pickle that names {shown}, which seqviz will not load (it reads data, never code, "
        f"from a file). {SAVE_INSTEAD}"
    )


# The data --------------------------------------------------------------------------------------------


def state_dict_of(path: Path, obj: PickledObject) -> dict[str, torch.Tensor]:
    """What `module.state_dict()` would give: parameters and persistent buffers, by dotted name; each
    a dense float tensor, and all of them within what the file stores (statedict.check_tensors)."""
    tensors = _tensors_of(path, obj, "")
    check_tensors(path, tensors, checked_size(path))
    check_float_weights(path, tensors)
    return tensors


def _tensors_of(path: Path, obj: PickledObject, prefix: str) -> dict[str, torch.Tensor]:
    import torch

    skip = obj.get("_non_persistent_buffers_set") or set()
    tensors: dict[str, torch.Tensor] = {}
    for group in ("_parameters", "_buffers"):
        for name, value in _dict_attr(obj, group).items():
            if value is None or (group == "_buffers" and name in skip):
                continue
            if not isinstance(value, torch.Tensor):
                raise ModelFileError.at(path, f"{prefix}{name} is a {type(value).__name__}, not a tensor")
            tensors[prefix + name] = value.detach()
    for name, child in obj.modules().items():
        if child is None:
            continue
        if not isinstance(child, PickledObject):
            raise ModelFileError.at(path, f"the submodule {prefix}{name} is a {type(child).__name__}")
        tensors.update(_tensors_of(path, child, f"{prefix}{name}."))
    return tensors


def _dict_attr(obj: PickledObject, name: str) -> dict[str, Any]:
    value = obj.__dict__.get(name)
    return dict(value) if isinstance(value, dict) else {}
