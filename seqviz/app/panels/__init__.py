"""The dock panels. `PANEL_CLASSES` lists them in their default order; each has a unique `name`."""

from seqviz.app.panels.attention import AttentionPanel
from seqviz.app.panels.base import Panel
from seqviz.app.panels.gates import GatesPanel
from seqviz.app.panels.hidden import HiddenPanel
from seqviz.app.panels.output import OutputPanel
from seqviz.app.panels.units import UnitsPanel

PANEL_CLASSES: list[type[Panel]] = [HiddenPanel, GatesPanel, AttentionPanel, OutputPanel, UnitsPanel]

__all__ = [
    "PANEL_CLASSES",
    "AttentionPanel",
    "GatesPanel",
    "HiddenPanel",
    "OutputPanel",
    "Panel",
    "UnitsPanel",
]
