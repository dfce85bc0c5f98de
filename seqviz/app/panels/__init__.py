"""The dock panels. `PANEL_CLASSES` lists them in their default order; each has a unique `name`.

The panel modules (and with them pyqtgraph, ~0.5 s) are imported on first use of these names, so
`seqviz.app.panels.base` and the token strip import without them and the window is on screen first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seqviz.app.panels.attention import AttentionPanel
    from seqviz.app.panels.base import Panel
    from seqviz.app.panels.gates import GatesPanel
    from seqviz.app.panels.gradients import GradientPanel
    from seqviz.app.panels.hidden import HiddenPanel
    from seqviz.app.panels.output import OutputPanel
    from seqviz.app.panels.units import UnitsPanel

    PANEL_CLASSES: list[type[Panel]]

_MODULES = {
    "HiddenPanel": "hidden",
    "GatesPanel": "gates",
    "AttentionPanel": "attention",
    "OutputPanel": "output",
    "UnitsPanel": "units",
    "GradientPanel": "gradients",
    "Panel": "base",
}
_ORDER = ("HiddenPanel", "GatesPanel", "AttentionPanel", "OutputPanel", "UnitsPanel", "GradientPanel")
#: every panel's `name` (its module's name), the token strip last: what `--panel` and exports accept,
#: known without importing a panel module
PANEL_NAMES = (*(_MODULES[cls] for cls in _ORDER), "tokens")

__all__ = [
    "PANEL_CLASSES",
    "PANEL_NAMES",
    "AttentionPanel",
    "GatesPanel",
    "GradientPanel",
    "HiddenPanel",
    "OutputPanel",
    "Panel",
    "UnitsPanel",
]


def __getattr__(name: str):
    if name == "PANEL_CLASSES":
        return [__getattr__(cls) for cls in _ORDER]
    if name in _MODULES:
        return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
