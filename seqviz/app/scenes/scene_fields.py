"""The fields of a scene's JSON object (seqviz.app.scenes.scene_file), each read and checked: a
missing key, a wrong type or a number out of range is a SceneError that names the field and says what
it must be. Version 1 names of panel options and splitters are read as version 2's here
(`V1_PANEL_OPTIONS`, `V1_SPLITTERS`). The runs' model edits and model options are written here too,
beside their readers.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from seqviz.app.viewer import load_options, what_if
from seqviz.app.viewer.bounds import MAX_LIST, PIXEL_RANGE, QT_INT_MAX, SPEED_RANGE, finite_in, whole_in

# Version 1 files: (panel, combo attribute) -> (option key, {text shown: option value}); texts not listed
# are the value itself (the units panel showed array names).
V1_PANEL_OPTIONS = {
    ("attention", "kind_box"): (
        "show",
        {"self-attention": "attention", "cross-attention (to the source)": "cross_attention"},
    ),
    ("units", "array_box"): ("array", {}),
}
V1_SPLITTERS = {("attention", "splitter"): "main", ("attention", "side"): "side"}


class SceneError(ValueError):
    """A scene file that cannot be read or applied; the message is one line for a person."""


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def get_field(data: dict, key: str, kind: type, default: object = ...) -> object:
    value = data.get(key, default)
    if value is ...:
        raise SceneError(f'the scene has no "{key}"')
    if not isinstance(value, kind):
        raise SceneError(f'"{key}" must be a {kind.__name__}, not {type(value).__name__}')
    return value


def no_constant(name: str) -> float:
    """JSON's NaN and Infinity (Python writes them; the standard has no such numbers): no field of a
    scene takes one, and a NaN speed used to abort the process."""
    raise SceneError(f"the scene holds {name}, which no field of a scene takes")


def get_int(data: dict, key: str, default: int, minimum: int = 0, maximum: int = QT_INT_MAX) -> int:
    value = data.get(key, default)
    if not whole_in(value, (minimum, maximum)):
        raise SceneError(f'"{key}" must be a whole number from {minimum} to {maximum}, not {value!r}')
    return value


def get_int_list(data: dict, key: str, name: str, maximum: int = QT_INT_MAX) -> list[int]:
    values = data.get(key) or []
    if not isinstance(values, list) or len(values) > MAX_LIST:
        raise SceneError(f'"{name}" must be a list of at most {MAX_LIST} whole numbers')
    if not all(whole_in(v, (0, maximum)) for v in values):
        raise SceneError(f'"{name}" must be a list of whole numbers from 0 to {maximum}')
    return values


def get_units(selection: dict) -> list[int]:
    return get_int_list(selection, "units", "units")


def get_speed(data: dict) -> float | None:
    speed = data.get("speed")
    if speed is not None and not finite_in(speed, SPEED_RANGE):
        low, high = SPEED_RANGE
        raise SceneError(f'"speed" must be {low:g} to {high:g} steps per second, not {speed!r}')
    return None if speed is None else float(speed)


def get_splitters(layout: dict, version: int) -> dict[str, dict[str, list[int]]]:
    splitters = get_field(layout, "splitters", dict, {})
    out: dict[str, dict[str, list[int]]] = {}
    for name, sizes in splitters.items():
        if not isinstance(sizes, dict):
            raise SceneError(f'"layout.splitters.{name}" must map splitter names to sizes')
        for key in sizes:
            get_int_list(sizes, key, f"layout.splitters.{name}.{key}", PIXEL_RANGE[1])
            new_key = V1_SPLITTERS.get((name, key)) if version < 2 else key
            if new_key is not None:
                out.setdefault(name, {})[new_key] = sizes[key]
    return out


def get_panels(data: dict, version: int) -> dict[str, dict[str, str]]:
    panels = get_field(data, "panels", dict, {})
    out: dict[str, dict[str, str]] = {}
    for name, choices in panels.items():
        if not isinstance(choices, dict) or not all(isinstance(v, str) for v in choices.values()):
            raise SceneError(f'"panels.{name}" must map option names to their values')
        for key, value in choices.items():
            if version < 2:  # attribute names of combo boxes and the text they showed
                if (name, key) not in V1_PANEL_OPTIONS:
                    continue  # a control that no longer exists: the panel's default
                key, values = V1_PANEL_OPTIONS[name, key]
                value = values.get(value, value)
            out.setdefault(name, {})[key] = value
    return out


def options_dict(options: dict, folder: Path | None) -> dict:
    """The optional "model_options" key (seqviz.app.viewer.load_options): a vocabulary file or folder
    inside the scene's folder is stored relative to it, as the model is."""
    if not options:
        return {}
    kept = load_options.stored(options)
    vocab = kept.get("vocab")
    if isinstance(vocab, str) and folder is not None and Path(vocab).resolve().is_relative_to(folder):
        kept["vocab"] = Path(vocab).resolve().relative_to(folder).as_posix()
    return {"model_options": kept}


def get_model_options(data: dict, folder: Path | None, name: str) -> dict:
    options = data.get("model_options", {})
    problem = load_options.options_problem(options)
    if problem is not None:
        raise SceneError(f'"{name}" {problem}')
    vocab = options.get("vocab")
    if isinstance(vocab, str) and folder is not None and not Path(vocab).is_absolute():
        options = {**options, "vocab": str(folder / vocab)}
    return dict(options)


def edits_dict(edits: tuple) -> dict:
    return {"edits": [what_if.to_dict(edit) for edit in edits]} if edits else {}


def get_edits(data: dict, name: str) -> tuple:
    """The model edits of a run: each checked on its own here, against the model when applied."""
    entries = data.get("edits", [])
    if not isinstance(entries, list):
        raise SceneError(f'"{name}" must be a list of edits')
    try:
        return tuple(what_if.from_dict(entry) for entry in entries)
    except what_if.EditProblem as exc:
        raise SceneError(f'"{name}": {exc}') from None


def get_base64(layout: dict, key: str) -> str:
    value = layout.get(key) or ""
    if not isinstance(value, str):
        raise SceneError(f'"layout.{key}" must be base64 text')
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SceneError(f'"layout.{key}" is not valid base64') from None
    return value
