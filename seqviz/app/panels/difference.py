"""Difference panel: B − A of one array of two compared runs, as a heatmap with the step cursor.

It shows a compared run (B, its own RunViewer: its step and selection) against the first run (A, the
`reference`). Only arrays of equal shapes are offered (seqviz.app.panels.difference_logic); otherwise
the panel says why. The colour scale is centred on zero: red where B is larger, blue where it is
smaller. Not a dock panel: the comparison view builds one per compared run.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QVBoxLayout, QWidget

from seqviz.app.panels import plotting
from seqviz.app.panels.base import Panel
from seqviz.app.panels.controls import ControlRow, OptionCombo, SelectionCombo
from seqviz.app.panels.difference_logic import (
    comparable_arrays,
    difference,
    difference_image,
    difference_scale,
    why_not_comparable,
)
from seqviz.app.panels.heatmap import Heatmap, PlotCanvas, colorbar, update_colorbar
from seqviz.app.panels.traceinfo import reads_whole_input
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.core.trace import Trace

LABELS = {
    "hidden": "hidden h",
    "cell": "cell c",
    "attention": "attention",
    "cross_attention": "cross-attention",
}


class DifferencePanel(Panel):
    name = "difference"
    title = "Difference B \u2212 A"

    def __init__(self, viewer, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.reference: Trace | None = None  # run A
        self.diff = np.zeros((1, 1, 1, 1), np.float32)  # B − A of the chosen array, its own shape
        self.image = np.zeros((1, 1), np.float32)  # (rows, T) shown
        self.controls = ControlRow()
        self.array_box = self.controls.add("Array", OptionCombo(self.selection, self.name, "array"))
        self.layer_box = self.controls.add("Layer", SelectionCombo(self.selection, "layer"))
        self.head_box = self.controls.add("Head", SelectionCombo(self.selection, "head"))
        self.controls.finish()
        self.canvas = PlotCanvas()
        self.heatmap = self.canvas.add_heatmap(Heatmap(row_name="unit"), 0, 0)
        self.colorbar = colorbar(current_theme().diverging_cmap, (-1.0, 1.0))
        self.canvas.addItem(self.colorbar, 0, 1)
        self.canvas.add_hover_source(self.colorbar.text_at)  # what a clipped range leaves out
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self.canvas, 1)
        self.array_box.valueChanged.connect(self._on_selection_changed)
        self.canvas.cellClicked.connect(lambda _row, step, _toggle: self.cursor.set_step(step))
        self.cursor.stepChanged.connect(self._on_step_changed)
        sel = self.selection
        for signal in (sel.layerChanged, sel.directionChanged, sel.headChanged):
            signal.connect(self._on_selection_changed)
        theme_notifier.themeChanged.connect(self.apply_theme)
        theme_notifier.strokesChanged.connect(self.canvas.apply_strokes)

    def set_traces(self, reference: Trace | None, trace: Trace | None) -> None:
        """Show `trace` (B) against `reference` (A)."""
        self.reference = reference
        self.set_trace(trace)

    def applies_to(self, trace: Trace) -> str | None:
        if self.reference is None:
            return "No first run to subtract."
        return None if comparable_arrays(self.reference, trace) else why_not_comparable(self.reference, trace)

    def future_views(self) -> list:
        return [self.heatmap]

    def show_trace(self, trace: Trace) -> None:
        names = comparable_arrays(self.reference, trace)
        self.array_box.set_choices(names, [LABELS.get(n, n.replace("_", " ")) for n in names], names[0])
        limits = self.selection.limits
        self.layer_box.set_choices([str(i) for i in range(limits.layers)])
        self.head_box.set_choices([str(i) for i in range(limits.heads)])
        self._ready = True
        self._load()

    def _load(self) -> None:
        """Subtract the chosen array and upload its image (on a new trace or selection, never a step)."""
        name, sel = self.array_box.value, self.selection
        self.diff = difference(self.reference, self.trace, name)
        self.image = difference_image(self.diff, name, sel.layer, sel.direction, sel.head)
        scale = difference_scale(self.image)
        levels = scale.levels
        attention = name.endswith("attention")
        self.controls.set_shown(self.layer_box, self.selection.limits.layers > 1)
        self.controls.set_shown(self.head_box, attention and self.selection.limits.heads > 1)
        self.heatmap.row_name = "key" if attention else "unit"
        cmap = current_theme().diverging_cmap
        title = f"B \u2212 A: {LABELS.get(name, name.replace('_', ' '))}, layer {sel.layer}"
        self.heatmap.set_data(self.image, levels, cmap, self.trace.tokens, "B \u2212 A")
        self.heatmap.set_reveal(not reads_whole_input(self.trace))
        plotting.set_title(self.heatmap.plot, title + (f", head {sel.head}" if attention else ""))
        self.heatmap.plot.setLabel("left", self.heatmap.row_name)
        update_colorbar(self.colorbar, cmap, levels, scale)
        largest = float(np.nanmax(np.abs(self.image))) if self.image.size else 0.0
        note = f"largest |B \u2212 A| {largest:.3g}"
        if scale.clipped:  # the colour bar's hover text says more
            note += f" \u00b7 colour range \u00b1{levels[1]:.3g}, {100 * scale.beyond:.2g}% of values beyond"
        self.controls.note.setText(note)
        self._on_step_changed(self.cursor.step)

    def _on_selection_changed(self, *_args) -> None:
        if self._ready:
            self._load()

    def _on_step_changed(self, step: int) -> None:
        if self._ready:
            self.heatmap.set_step(min(max(step, 1), self.image.shape[1]))

    def apply_theme(self, theme: Theme) -> None:
        self.canvas.apply_theme(theme)
        self.heatmap.set_cmap(theme.diverging_cmap)
        if self._ready:
            update_colorbar(self.colorbar, theme.diverging_cmap, self.heatmap.levels)
