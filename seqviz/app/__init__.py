"""The Qt desktop app. `from seqviz.app import MainWindow` (imported lazily: `seqviz.app.viewer.state` and the
panels can be imported without building the window module)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seqviz.app.window.main_window import MainWindow

__all__ = ["MainWindow"]


def __getattr__(name: str):
    if name == "MainWindow":
        from seqviz.app.window.main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'seqviz.app' has no attribute {name!r}")
