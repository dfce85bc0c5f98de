"""Scenes: a `.seqviz` file (JSON) that reproduces a picture.

A scene holds the model (a catalogue id, or a model file path, relative to the scene's folder when it
lies there), the input text, the step, the selection (layer, direction, head, units), the theme, the
panel choices that are not in the ViewState (e.g. attention "Show", units "Array") and the layout
(the dock area's saveState and the window's geometry, base64, plus the window size). Reading a scene
needs no Qt (`Scene.load`, for validating a command line before anything heavy is imported);
`capture(window)` and `apply(window, scene)` move scenes in and out of a window.

Example file:
    {"format": "seqviz-scene", "version": 1, "model": "untrained-lstm", "text": "hello",
     "step": 3, "selection": {"layer": 0, "direction": 0, "head": 0, "units": [2]},
     "theme": "presentation", "panels": {"attention": {"kind_box": "self-attention"}},
     "layout": {"window_size": [1400, 860], "dock_state": "...", "geometry": "..."}}
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from seqviz.app.export_files import atomic_path

SCENE_SUFFIX = ".seqviz"
FORMAT = "seqviz-scene"
VERSION = 1
THEME_NAMES = ("light", "dark", "presentation")


class SceneError(ValueError):
    """A scene file that cannot be read or applied; the message is one line for a person."""


@dataclass
class Scene:
    model: str  # catalogue id or model file path
    text: str
    step: int = 1
    layer: int = 0
    direction: int = 0
    head: int = 0
    units: tuple[int, ...] = ()
    theme: str = "light"
    panels: dict[str, dict[str, str]] = field(default_factory=dict)  # panel -> {combo: shown text}
    window_size: tuple[int, int] | None = None  # logical pixels
    dock_state: str = ""  # base64 of DockArea.saveState
    geometry: str = ""  # base64 of QMainWindow.saveGeometry

    # JSON ---------------------------------------------------------------------------------------
    def to_dict(self, folder: Path | None = None) -> dict:
        data = asdict(self)
        return {
            "format": FORMAT,
            "version": VERSION,
            "model": _portable_model(self.model, folder),
            "text": self.text,
            "step": self.step,
            "selection": {k: data[k] for k in ("layer", "direction", "head")} | {"units": list(self.units)},
            "theme": self.theme,
            "panels": self.panels,
            "layout": {
                "window_size": list(self.window_size) if self.window_size else None,
                "dock_state": self.dock_state,
                "geometry": self.geometry,
            },
        }

    @classmethod
    def from_dict(cls, data: object, folder: Path | None = None) -> Scene:
        """Validate and read a scene's JSON object. Raises SceneError saying what is wrong."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SceneError('not a seqviz scene (no "format": "seqviz-scene")')
        version = data.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise SceneError(f"scene version {version!r} is newer than this seqviz reads ({VERSION})")
        selection = _get(data, "selection", dict, {})
        layout = _get(data, "layout", dict, {})
        size = layout.get("window_size")
        if size is not None and not (
            isinstance(size, list) and len(size) == 2 and all(_is_int(v) and v > 0 for v in size)
        ):
            raise SceneError("layout.window_size must be [width, height] in pixels")
        scene = cls(
            model=_resolve_model(_get(data, "model", str), folder),
            text=_get(data, "text", str),
            step=_get_int(data, "step", 1, 1),
            layer=_get_int(selection, "layer", 0),
            direction=_get_int(selection, "direction", 0),
            head=_get_int(selection, "head", 0),
            units=tuple(_get_units(selection)),
            theme=_get(data, "theme", str, "light"),
            panels=_get_panels(data),
            window_size=(int(size[0]), int(size[1])) if size else None,
            dock_state=_get_base64(layout, "dock_state"),
            geometry=_get_base64(layout, "geometry"),
        )
        if not scene.model:
            raise SceneError("the scene names no model")
        if scene.theme not in THEME_NAMES:
            raise SceneError(f"unknown theme {scene.theme!r} (use {', '.join(THEME_NAMES)})")
        return scene

    def save(self, path: str | os.PathLike) -> Path:
        """Write the scene as JSON, atomically."""
        path = Path(path)
        text = json.dumps(self.to_dict(path.resolve().parent), indent=2, ensure_ascii=False)
        with atomic_path(path) as temp:
            temp.write_text(text + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Scene:
        """Read and validate a scene file. Raises SceneError (also for a missing or unreadable file)."""
        path = Path(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SceneError(f"cannot open scene {path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SceneError(f"cannot read scene {path}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SceneError(f"scene {path.name} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
        try:
            return cls.from_dict(data, path.resolve().parent)
        except SceneError as exc:
            raise SceneError(f"scene {path.name}: {exc}") from None


# validation helpers -------------------------------------------------------------------------------
def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _get(data: dict, key: str, kind: type, default: object = ...) -> object:
    value = data.get(key, default)
    if value is ...:
        raise SceneError(f'the scene has no "{key}"')
    if not isinstance(value, kind):
        raise SceneError(f'"{key}" must be a {kind.__name__}, not {type(value).__name__}')
    return value


def _get_int(data: dict, key: str, default: int, minimum: int = 0) -> int:
    value = data.get(key, default)
    if not _is_int(value) or value < minimum:
        raise SceneError(f'"{key}" must be a whole number of at least {minimum}, not {value!r}')
    return value


def _get_units(selection: dict) -> list[int]:
    units = selection.get("units", [])
    if not isinstance(units, list) or not all(_is_int(u) and u >= 0 for u in units):
        raise SceneError('"units" must be a list of unit numbers')
    return units


def _get_panels(data: dict) -> dict[str, dict[str, str]]:
    panels = _get(data, "panels", dict, {})
    for name, choices in panels.items():
        if not isinstance(choices, dict) or not all(isinstance(v, str) for v in choices.values()):
            raise SceneError(f'"panels.{name}" must map control names to the text they show')
    return panels


def _get_base64(layout: dict, key: str) -> str:
    value = layout.get(key) or ""
    if not isinstance(value, str):
        raise SceneError(f'"layout.{key}" must be base64 text')
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SceneError(f'"layout.{key}" is not valid base64') from None
    return value


def _is_catalogue_id(model: str) -> bool:
    from seqviz.demos import catalogue

    return catalogue.find(model) is not None


def _portable_model(model: str, folder: Path | None) -> str:
    """A model file inside the scene's folder is stored relative to it, so the two can move together."""
    if folder is None or _is_catalogue_id(model):
        return model
    path = Path(model).resolve()
    return path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(path)


def _resolve_model(model: str, folder: Path | None) -> str:
    if folder is None or not model or _is_catalogue_id(model) or Path(model).is_absolute():
        return model
    return str(folder / model)


# scenes and windows -------------------------------------------------------------------------------
def _panel_choices(panel) -> dict[str, str]:
    """The panel's own combo boxes (those not bound to the ViewState) and the text each shows."""
    from PySide6.QtWidgets import QComboBox

    from seqviz.app.panels.controls import StateCombo

    return {
        name: value.currentText()
        for name, value in vars(panel).items()
        if isinstance(value, QComboBox) and not isinstance(value, StateCombo) and value.currentText()
    }


def capture(window) -> Scene:
    """The scene a window shows now. Raises SceneError when it shows a trace file (no model run)."""
    from seqviz.app.theme import current_theme

    run, loaded = window.run, window.loaded
    if run is None or loaded is None:
        raise SceneError("scenes hold a model and its input; this window shows a trace file")
    st = window.state
    return Scene(
        model=loaded.source,
        text=run.text,
        step=max(1, st.step),
        layer=st.layer,
        direction=st.direction,
        head=st.head,
        units=tuple(st.units),
        theme=current_theme().name,
        panels={name: c for name, p in window.dock_area.panels.items() if (c := _panel_choices(p))},
        window_size=(window.width(), window.height()),
        dock_state=_b64(window.dock_area.save_layout()),
        geometry=_b64(window.saveGeometry()),
    )


def _b64(data) -> str:
    return bytes(data.toBase64()).decode("ascii")


def _qbytes(text: str):
    from PySide6.QtCore import QByteArray

    return QByteArray.fromBase64(text.encode("ascii"))


def apply(window, scene: Scene, *, wait: bool = True, restore_geometry: bool = True) -> bool:
    """Show `scene` in `window`: theme and layout now, then the model and text, then the step and
    selection once the trace is shown. With wait=False the model runs in the background and the rest
    follows when it is done. Returns False if the model or text failed (only meaningful with wait)."""
    apply_layout(window, scene, restore_geometry=restore_geometry)
    if wait:
        ok = window.open_model(scene.model, scene.text, wait=True)
        if ok and window.trace is not None:
            apply_view(window, scene)
        return ok and window.trace is not None
    after_next_outcome(window, lambda outcome: outcome.run is not None and apply_view(window, scene))
    window.open_model(scene.model, scene.text, wait=False)
    return True


def apply_layout(window, scene: Scene, *, restore_geometry: bool = True) -> None:
    """Theme, panels, window size and dock layout of `scene`."""
    from seqviz.app import appearance

    appearance.apply_theme(window, scene.theme)
    window.load_panels()
    if restore_geometry and scene.geometry:
        window.restoreGeometry(_qbytes(scene.geometry))
    if scene.window_size:
        window.resize(*scene.window_size)


def restore_docks(window, scene: Scene) -> None:
    """The dock layout of `scene`; after the trace is shown, since panels' minimum sizes depend on it."""
    from PySide6.QtWidgets import QApplication

    if not scene.dock_state:
        return
    # dock sizes are restored relative to the dock area's size: let the window reach its size first
    QApplication.processEvents()
    area = window.dock_area
    # Qt keeps a tab group's old tab bar on screen when a state is restored over it: start empty
    for dock in area.docks.values():
        area.removeDockWidget(dock)
    if not area.restore_layout(_qbytes(scene.dock_state)):
        area.default_layout()
    QApplication.processEvents()


def after_next_outcome(window, then) -> None:
    """Call `then(outcome)` once, after the window has shown the next outcome; forget it on failure."""
    session = window.session

    def on_outcome(outcome) -> None:
        disconnect()
        then(outcome)

    def disconnect(*_args) -> None:
        session.outcome.disconnect(on_outcome)
        session.failed.disconnect(disconnect)

    session.outcome.connect(on_outcome)
    session.failed.connect(disconnect)


def apply_view(window, scene: Scene) -> None:
    """The dock layout, step, selection and panel choices of `scene`, on the trace the window shows."""
    restore_docks(window, scene)
    st = window.state
    st.set_layer(scene.layer)
    st.set_direction(scene.direction)
    st.set_head(scene.head)
    window._clamp_selection(window.trace)  # a scene from another model may name layers it lacks
    st.set_units(u for u in scene.units if u < _unit_count(window.trace))
    for name, choices in scene.panels.items():
        panel = window.dock_area.panels.get(name)
        for attr, text in choices.items():
            combo = getattr(panel, attr, None)
            index = combo.findText(text) if hasattr(combo, "findText") else -1
            if index >= 0:
                combo.setCurrentIndex(index)
    window.set_step(scene.step)


def _unit_count(trace) -> int:
    return int(trace["hidden"].shape[-1]) if trace is not None and "hidden" in trace else 0
