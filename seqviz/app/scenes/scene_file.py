"""The scene file: a `.seqviz` JSON file that describes a picture, read and written without Qt.

A scene holds the model (a catalogue id, or a model file path, relative to the scene's folder when it
lies there), the input text, the step, the selection (layer, direction, head, units), the theme, the
playback speed, the panels' options (the Selection's stable keys and values: attention "show", units
"array") and the layout: the window size, the dock area's saveState and the window's geometry
(base64), the sizes of the panels' splitters (by each panel's stable splitter names) and the token
strip's scroll offsets. `Scene.load` validates a file (for a command line, before anything heavy is
imported); `seqviz.app.scenes.in_window` moves scenes in and out of a window. docs/scenes.md describes
the format.

Version 2 (written now):
    {"format": "seqviz-scene", "version": 2, "model": "untrained-lstm", "text": "hello",
     "step": 3, "selection": {"layer": 0, "direction": 0, "head": 0, "units": [2]},
     "theme": "presentation", "speed": 8.0, "panels": {"attention": {"show": "cross_attention"}},
     "layout": {"window_size": [1400, 860], "dock_state": "...", "geometry": "...",
                "splitters": {"attention": {"main": [560, 380]}}, "token_offsets": [0]}}
Optional keys (version 2 still; older files without them open as before): "compare" (runs beside
the first), "edits" (the model edits, each {"kind": "ClampGate", ...its fields}, seqviz.edits) and
"model_options" (what a model file needs to open: {"vocab": ..., "heads": ..., "nonlinearity": ...};
a compared run has its own "edits" and "model_options").
Version 1 stored Python attribute names of combo boxes and splitters and the text a box showed
("kind_box": "self-attention"); scene_fields.V1_PANEL_OPTIONS and V1_SPLITTERS read them as version 2.
Each field is read and checked by seqviz.app.scenes.scene_fields.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from seqviz.app.export.files import atomic_path
from seqviz.app.scenes.scene_fields import (
    SceneError,
    edits_dict,
    get_base64,
    get_edits,
    get_field,
    get_int,
    get_int_list,
    get_model_options,
    get_panels,
    get_speed,
    get_splitters,
    get_units,
    is_int,
    no_constant,
    options_dict,
)
from seqviz.app.viewer.bounds import MAX_FILE_BYTES, WINDOW_SIDE_RANGE, whole_in
from seqviz.core.file_limits import FileLimitError, path_problem, read_text_bounded

SCENE_SUFFIX = ".seqviz"
FORMAT = "seqviz-scene"
VERSION = 2
THEME_NAMES = ("light", "dark", "presentation")


@dataclass
class SceneRun:
    """A compared run (MainWindow.compare): its model, its own text (None: the first run's, followed),
    its selection and panel options."""

    model: str
    text: str | None = None
    layer: int = 0
    direction: int = 0
    head: int = 0
    units: tuple[int, ...] = ()
    panels: dict[str, dict[str, str]] = field(default_factory=dict)
    edits: tuple = ()  # the run's model edits (seqviz.edits)
    model_options: dict = field(default_factory=dict)  # what its model file needs (--vocab, --heads)

    def to_dict(self, folder: Path | None = None) -> dict:
        selection = {"layer": self.layer, "direction": self.direction, "head": self.head}
        return (
            {
                "model": _portable_model(self.model, folder),
                "text": self.text,
                "selection": selection | {"units": list(self.units)},
                "panels": self.panels,
            }
            | edits_dict(self.edits)
            | options_dict(self.model_options, folder)
        )

    @classmethod
    def from_dict(cls, data: object, folder: Path | None, version: int) -> SceneRun:
        if not isinstance(data, dict):
            raise SceneError('each of "compare" must be an object with a "model"')
        text = data.get("text")
        if text is not None and not isinstance(text, str):
            raise SceneError('"compare[].text" must be text or null')
        selection = get_field(data, "selection", dict, {})
        return cls(
            model=_resolve_model(get_field(data, "model", str), folder),
            text=text,
            layer=get_int(selection, "layer", 0),
            direction=get_int(selection, "direction", 0),
            head=get_int(selection, "head", 0),
            units=tuple(get_units(selection)),
            panels=get_panels(data, version),
            edits=get_edits(data, "compare[].edits"),
            model_options=get_model_options(data, folder, "compare[].model_options"),
        )


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
    speed: float | None = None  # playback steps per second (shown in the toolbar)
    panels: dict[str, dict[str, str]] = field(default_factory=dict)  # panel -> {option key: value}
    window_size: tuple[int, int] | None = None  # logical pixels
    dock_state: str = ""  # base64 of DockArea.saveState
    geometry: str = ""  # base64 of QMainWindow.saveGeometry
    splitters: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # panel -> {key: sizes}
    token_offsets: tuple[int, ...] = ()  # the token strip's scroll offset per row, in pixels
    compare: tuple[SceneRun, ...] = ()  # runs beside the first (optional key; none in older files)
    edits: tuple = ()  # the first run's model edits, seqviz.edits (optional key; none in older files)
    model_options: dict = field(default_factory=dict)  # what its model file needs (optional key)

    # JSON ---------------------------------------------------------------------------------------
    def to_dict(self, folder: Path | None = None) -> dict:
        data = asdict(self)
        optional = ({"compare": [run.to_dict(folder) for run in self.compare]} if self.compare else {}) | (
            edits_dict(self.edits) | options_dict(self.model_options, folder)
        )
        return {
            "format": FORMAT,
            "version": VERSION,
            "model": _portable_model(self.model, folder),
            "text": self.text,
            "step": self.step,
            "selection": {k: data[k] for k in ("layer", "direction", "head")} | {"units": list(self.units)},
            "theme": self.theme,
            "speed": self.speed,
            "panels": self.panels,
            "layout": {
                "window_size": list(self.window_size) if self.window_size else None,
                "dock_state": self.dock_state,
                "geometry": self.geometry,
                "splitters": self.splitters,
                "token_offsets": list(self.token_offsets),
            },
        } | optional

    @classmethod
    def from_dict(cls, data: object, folder: Path | None = None) -> Scene:
        """Validate and read a scene's JSON object. Raises SceneError saying what is wrong."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SceneError('not a seqviz scene (no "format": "seqviz-scene")')
        version = data.get("version")
        if not is_int(version) or version < 1:
            raise SceneError(f'"version" must be a whole number (1 to {VERSION}), not {version!r}')
        if version > VERSION:
            raise SceneError(f"scene version {version} is newer than this seqviz reads ({VERSION})")
        selection = get_field(data, "selection", dict, {})
        layout = get_field(data, "layout", dict, {})
        size = layout.get("window_size")
        if size is not None and not (
            isinstance(size, list) and len(size) == 2 and all(whole_in(v, WINDOW_SIDE_RANGE) for v in size)
        ):
            low, high = WINDOW_SIDE_RANGE
            raise SceneError(f"layout.window_size must be [width, height], each {low} to {high} pixels")
        scene = cls(
            model=_resolve_model(get_field(data, "model", str), folder),
            text=get_field(data, "text", str),
            step=get_int(data, "step", 1, 1),
            layer=get_int(selection, "layer", 0),
            direction=get_int(selection, "direction", 0, maximum=1),
            head=get_int(selection, "head", 0),
            units=tuple(get_units(selection)),
            theme=get_field(data, "theme", str, "light"),
            speed=get_speed(data),
            panels=get_panels(data, version),
            window_size=(int(size[0]), int(size[1])) if size else None,
            dock_state=get_base64(layout, "dock_state"),
            geometry=get_base64(layout, "geometry"),
            splitters=get_splitters(layout, version),
            token_offsets=tuple(get_int_list(layout, "token_offsets", "layout.token_offsets")),
            compare=_get_compare(data, folder, version),
            edits=get_edits(data, "edits"),
            model_options=get_model_options(data, folder, "model_options"),
        )
        if not scene.model:
            raise SceneError("the scene names no model")
        if scene.theme not in THEME_NAMES:
            raise SceneError(f"unknown theme {scene.theme!r} (use {', '.join(THEME_NAMES)})")
        return scene

    def save(self, path: str | os.PathLike) -> Path:
        """Write the scene as JSON, atomically. SceneError for NaN or infinite numbers."""
        path = Path(path)
        try:  # JSON has no NaN (and Scene.load refuses it): an edit copied from a diverged run
            text = json.dumps(
                self.to_dict(path.resolve().parent), indent=2, ensure_ascii=False, allow_nan=False
            )
        except ValueError:
            raise SceneError(
                "the scene holds NaN or infinite numbers (an edit of a diverged model?)"
            ) from None
        with atomic_path(path) as temp:
            temp.write_text(text + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Scene:
        """Read and validate a scene file. Raises SceneError (also for a missing or unreadable file)."""
        path = Path(path)
        try:
            raw = read_text_bounded(path, MAX_FILE_BYTES)  # never a FIFO, a device or gigabytes
        except FileLimitError as exc:
            raise SceneError(f"cannot open scene {path}: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SceneError(f"cannot read scene {path}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            data = json.loads(raw, parse_constant=no_constant)
        except json.JSONDecodeError as exc:
            raise SceneError(f"scene {path.name} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
        except RecursionError:
            raise SceneError(f"scene {path.name} is nested too deeply to be a scene") from None
        except SceneError as exc:  # NaN or Infinity
            raise SceneError(f"scene {path.name}: {exc}") from None
        try:
            scene = cls.from_dict(data, path.resolve().parent)
            scene.check_model()
        except SceneError as exc:
            raise SceneError(f"scene {path.name}: {exc}") from None
        return scene

    def check_model(self) -> None:
        """Raise SceneError unless every model (the first run's and the compared ones') is a bundled
        one, an existing file, a model folder (Hugging Face) or a name of the local Hugging Face cache."""
        for model in (self.model, *(run.model for run in self.compare)):
            if _is_catalogue_id(model) or _is_cached_name(model):
                continue
            problem = path_problem(model)
            if problem is not None:
                raise SceneError(f"its model file {model[:80]!r} cannot be opened: {problem}")
            if Path(model).is_file() or Path(model).is_dir():
                continue
            if Path(model).exists():
                raise SceneError(f"its model {model} is not a file")
            raise SceneError(f"its model file {model} does not exist (nor is it a bundled model id)")


def _get_compare(data: dict, folder: Path | None, version: int) -> tuple[SceneRun, ...]:
    runs = get_field(data, "compare", list, [])
    if len(runs) > 3:
        raise SceneError('"compare" holds at most 3 runs (4 runs in all)')
    return tuple(SceneRun.from_dict(run, folder, version) for run in runs)


def _is_catalogue_id(model: str) -> bool:
    from seqviz.demos import catalogue

    return catalogue.find(model) is not None


def _is_cached_name(model: str) -> bool:
    """A model of the local Hugging Face cache named as it was opened ("gpt2"), not a path here."""
    from seqviz.core.hf_cache import find_cached

    if path_problem(model) is not None:  # a name too long for the file system: no name of the cache
        return False
    return not Path(model).exists() and find_cached(model) is not None


def _portable_model(model: str, folder: Path | None) -> str:
    """A model file inside the scene's folder is stored relative to it, so the two can move together."""
    if folder is None or _is_catalogue_id(model) or _is_cached_name(model):
        return model
    path = Path(model).resolve()
    if not path.is_relative_to(folder):
        return str(path)
    relative = path.relative_to(folder).as_posix()
    return f"./{relative}" if _is_catalogue_id(relative) else relative  # a path, never read as the id


def _resolve_model(model: str, folder: Path | None) -> str:
    if folder is None or not model or _is_catalogue_id(model) or Path(model).is_absolute():
        return model
    if not (folder / model).exists() and _is_cached_name(model):
        return model
    return str(folder / model)
