"""Checking a seqviz model file's TokenModel metadata before anything is built from it.

The metadata (seqviz.core.modelfile: the JSON under "seqviz" in the safetensors header) describes the
backbone's config, the tokenizers, the task, the output labels and the card. JSON from a file can hold
anything, and a dataclass takes any value: a card whose examples are a number, or a vocabulary that is
one string, used to load and fail later, in the app, without the file's name. `metadata_problem`
checks every field against its type (the dataclasses' own annotations) and the sizes against each
other, so that `load_model` refuses such a file with a ModelFileError naming it.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import cache
from typing import Any

from seqviz.core.tokenize import LEVELS


def metadata_problem(header: dict[str, Any]) -> str | None:
    """What is wrong with a TokenModel header ("its card's examples must be a list of text ..."), or None."""
    from seqviz.core.seqmodel import TASKS, ModelCard, backbone_classes

    backbone = header.get("backbone")
    classes = backbone_classes()
    if backbone not in classes:
        return f"names an unknown backbone {backbone!r} (seqviz builds {', '.join(sorted(classes))})"
    if header.get("task") not in TASKS:
        return f"has an unknown task {header.get('task')!r} (seqviz reads {', '.join(TASKS)})"
    checks = [
        ("config", header.get("config"), classes[backbone].config_class),
        ("card", header.get("card", {}), ModelCard),
    ]
    for name, value, cls in checks:
        problem = dataclass_problem(value, cls)
        if problem:
            return f"has a {name} that {problem}"
    for name in ("tokenizer", "target_tokenizer"):
        if name in header and (header[name] is not None or name == "tokenizer"):
            problem = _tokenizer_problem(header[name])
            if problem:
                return f"has a {name} whose {problem}"
    labels = header.get("output_labels")
    if labels is not None and not _fits(labels, list[str]):
        return "has output_labels that are not a list of text"
    return _size_problem(header)


def _tokenizer_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "description is not an object"
    vocab = data.get("vocab")
    if not _fits(vocab, list[str]) or not vocab:
        return "vocab is not a non-empty list of text"
    if data.get("level", "char") not in LEVELS:
        return f"level is {data.get('level')!r}, not one of {', '.join(LEVELS)}"
    if not isinstance(data.get("lowercase", False), bool):
        return "lowercase is not true or false"
    return None


def _size_problem(header: dict[str, Any]) -> str | None:
    """The tokenizers and labels against the sizes of the model the config builds."""
    cfg = header["config"]
    rows = cfg.get("vocab_size", cfg.get("src_vocab_size"))
    outputs = cfg.get("num_outputs", cfg.get("tgt_vocab_size", rows))
    vocab = header["tokenizer"]["vocab"]
    if isinstance(rows, int) and len(vocab) > rows:
        return f"has a tokenizer of {len(vocab)} tokens for an embedding of {rows} rows"
    target = header.get("target_tokenizer")
    labels = header.get("output_labels")
    if labels is None:
        labels = (target or header["tokenizer"])["vocab"]
    if isinstance(outputs, int) and len(labels) != outputs:
        return f"has {len(labels)} output labels for a model with {outputs} outputs"
    return None


def dataclass_problem(data: Any, cls: type) -> str | None:
    """Why the JSON object `data` cannot fill dataclass `cls` (unknown or missing fields, a value not
    of its field's type), or None."""
    if not isinstance(data, dict):
        return "is not a JSON object"
    hints = _hints(cls)
    unknown = sorted(str(k) for k in data if k not in hints)
    if unknown:
        return f"has unknown fields {', '.join(unknown[:4])}"
    for f in dataclasses.fields(cls):
        if f.name not in data:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if required:
                return f"lacks {f.name}"
            continue
        if not _fits(data[f.name], hints[f.name]):
            return f"gives {f.name} = {_shown(data[f.name])}, which is not {_describe(hints[f.name])}"
    return None


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value is of a dataclass field's type (int, float, bool, str, X | None, list[X],
    dict[...], Any). Numbers are finite and whole numbers not negative."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if hint is float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value) if args else True
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    return True  # a type JSON cannot hold anyway: the constructor decides


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arm) for arm in args)
    if origin in (list, tuple):
        return f"a list of {_describe(args[0]).removeprefix('a ')}" if args else "a list"
    names = {int: "a whole number (0 or more)", float: "a number", bool: "true or false", str: "text"}
    return names.get(hint, "null" if hint is type(None) else "an object")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
