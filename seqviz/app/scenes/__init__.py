"""Scenes: a saved view of the app (model, text, step, selection, panel options, theme, layout).

`scene_file` is the versioned file format (no Qt); `in_window` captures a window's scene and applies one.
"""

from seqviz.app.scenes.in_window import after_next_outcome, apply, apply_layout, apply_view, capture
from seqviz.app.scenes.scene_file import SCENE_SUFFIX, THEME_NAMES, Scene, SceneError

__all__ = [
    "SCENE_SUFFIX",
    "THEME_NAMES",
    "Scene",
    "SceneError",
    "after_next_outcome",
    "apply",
    "apply_layout",
    "apply_view",
    "capture",
]
