"""Hidden state panel: the units x steps heatmap of one layer/direction and the current vector as bars."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from seqviz.app.panels import plotting
from seqviz.app.panels.base import Panel
from seqviz.app.panels.controls import DIRECTION_LABELS, ControlRow, SelectionCombo
from seqviz.app.panels.edit_choices import unit_choices
from seqviz.app.panels.heatmap import Heatmap, PlotCanvas, colorbar, update_colorbar
from seqviz.app.panels.traceinfo import is_transformer, reads_whole_input, selection_label
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.core.trace import Trace


class HiddenPanel(Panel):
    name = "hidden"
    title = "Hidden state"

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.values = np.zeros((1, 1), np.float32)  # (T, H) of the shown layer/direction
        self.levels = (-1.0, 1.0)
        self.controls = ControlRow()
        self.layer_box = self.controls.add("Layer", SelectionCombo(self.selection, "layer"))
        self.direction_box = self.controls.add("Direction", SelectionCombo(self.selection, "direction"))
        self.controls.finish()
        self.canvas = PlotCanvas()
        self.heatmap = self.canvas.add_heatmap(Heatmap(row_name="unit"), 0, 0)
        self.heatmap.plot.setLabel("left", "unit")
        self.colorbar = colorbar(current_theme().diverging_cmap, self.levels)
        self.canvas.addItem(self.colorbar, 0, 1)
        self._build_bars()
        self.canvas.ci.layout.setColumnStretchFactor(0, 5)
        self.canvas.ci.layout.setColumnStretchFactor(2, 1)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self.canvas, 1)
        self.canvas.cellClicked.connect(self._on_cell_clicked)
        self.canvas.cellMenuRequested.connect(self._on_cell_menu_requested)
        self.canvas.add_hover_source(self._bar_text_at)
        self.cursor.stepChanged.connect(self._on_step_changed)
        self.selection.layerChanged.connect(self._on_selection_changed)
        self.selection.directionChanged.connect(self._on_selection_changed)
        self.selection.unitsChanged.connect(self._on_units_changed)
        theme_notifier.themeChanged.connect(self.apply_theme)
        theme_notifier.strokesChanged.connect(self.apply_strokes)

    def _build_bars(self) -> None:
        axes = {"bottom": plotting.EndsInsideAxis("bottom")}  # the range's ends stay drawn
        self.bars_plot = pg.PlotItem(title="h<sub>t</sub>", axisItems=axes, enableMenu=False)
        self.bars_plot.hideButtons()
        self.bars_plot.setMenuEnabled(False)
        self.bars_plot.setMouseEnabled(x=False, y=True)
        self.bars_plot.enableAutoRange(False)
        self.bars_plot.invertY(True)  # rows line up with the heatmap's units
        self.bars_plot.setYLink(self.heatmap.plot)
        self.bars_plot.getAxis("left").setStyle(showValues=False)
        zeros = np.zeros(1)
        self.pos_bars = pg.BarGraphItem(x0=0, y=zeros, height=0.8, width=zeros, pen=None)
        self.neg_bars = pg.BarGraphItem(x0=0, y=zeros, height=0.8, width=zeros, pen=None)
        self.bars_plot.addItem(self.pos_bars)
        self.bars_plot.addItem(self.neg_bars)
        self.canvas.addItem(self.bars_plot, 0, 2)
        plotting.style_plot(self.bars_plot)
        self._color_bars(current_theme())

    # Trace -----------------------------------------------------------------------------------
    def applies_to(self, trace: Trace) -> str | None:
        if "hidden" not in trace:
            return "This trace has no hidden states."
        return None

    def future_views(self) -> list:
        return [self.heatmap]

    def show_trace(self, trace: Trace) -> None:
        layers, directions = trace["hidden"].shape[1:3]
        self.layer_box.set_choices([str(i + 1) for i in range(layers)])
        self.direction_box.set_choices(DIRECTION_LABELS[:directions])
        self.controls.set_shown(self.direction_box, directions > 1)
        self.heatmap.set_reveal(not reads_whole_input(trace))
        self._load_selection()
        self._ready = True
        self._on_units_changed(self.selection.units)
        self._on_step_changed(self.cursor.step)

    def _load_selection(self) -> None:
        """Upload the heatmap of the selected layer/direction (not a step: a new image is fine here)."""
        hidden = self.trace["hidden"]
        layer, direction = self.selection.layer, self.selection.direction  # clamped by the viewer
        self.values = hidden[:, layer, direction, :]  # (T, H) view; rows are steps
        self.levels = plotting.diverging_levels(self.values)
        cmap = current_theme().diverging_cmap
        where = selection_label(self.trace, layer, direction)
        self.heatmap.set_data(self.values.T, self.levels, cmap, self.trace.tokens, f"h ({where})")
        self.heatmap.plot.setTitle(f"hidden state h, {where}")
        update_colorbar(self.colorbar, cmap, self.levels)
        units = np.arange(self.values.shape[1]) + 0.5
        zeros = np.zeros(units.size)  # y and widths change size together (a new model may be wider)
        self.pos_bars.setOpts(y=units, width=zeros)
        self.neg_bars.setOpts(y=units, width=zeros)
        plotting.forget_tick_text(self.bars_plot)
        self.bars_plot.setXRange(*self.levels, padding=0.02)
        lo, hi = self.levels  # three ticks fit the narrow bar plot
        self.bars_plot.getAxis("bottom").setTicks([[(lo, f"{lo:.3g}"), (0.0, "0"), (hi, f"{hi:.3g}")]])
        self.controls.note.setText(self._note(where))

    def _note(self, where: str) -> str:
        parts = [f"{self.values.shape[1]} units of {where}"]
        if is_transformer(self.trace):
            parts.append("each layer's output")
        if reads_whole_input(self.trace):
            parts.append("reads the whole input at once")
        if self.levels[1] > 1.0:
            parts.append(f"colour range \u00b1{self.levels[1]:.3g}: values exceed [-1, 1]")
        return " \u00b7 ".join(parts)

    # State -> view ------------------------------------------------------------------------------
    def _on_step_changed(self, step: int) -> None:
        if not self._ready:
            return
        step = min(max(step, 1), self.values.shape[0])
        self.heatmap.set_step(step)
        current = self.values[step - 1]  # (H,)
        self.pos_bars.setOpts(width=np.maximum(current, 0))
        self.neg_bars.setOpts(width=np.minimum(current, 0))

    @property
    def bar_values(self) -> np.ndarray:
        """The values the bars show now, (H,) (positive and negative bars summed)."""
        return self.pos_bars.opts["width"] + self.neg_bars.opts["width"]

    def _on_selection_changed(self, _value: int) -> None:
        if self._ready:
            self._load_selection()
            self._on_units_changed(self.selection.units)
            self._on_step_changed(self.cursor.step)

    def _on_units_changed(self, units: tuple) -> None:
        if self._ready:
            self.heatmap.set_marked_rows(units)

    # View -> state -------------------------------------------------------------------------------
    def _on_cell_clicked(self, unit: int, step: int, toggle: bool) -> None:
        self.cursor.set_step(step)
        if toggle:
            self.selection.toggle_unit(unit)
        else:
            self.selection.set_units((unit,))

    def _on_cell_menu_requested(self, _heatmap, unit: int, step: int, screen_pos) -> None:
        sel = self.selection
        self.offer_edits(unit_choices(self.trace, "hidden", sel.layer, sel.direction, unit, step), screen_pos)

    def _bar_text_at(self, scene_pos: QPointF) -> str | None:
        vb = self.bars_plot.getViewBox()
        if not self._ready or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        unit = int(np.floor(vb.mapSceneToView(scene_pos).y()))
        if not 0 <= unit < self.values.shape[1]:
            return None
        step = self.heatmap.step
        return f"unit {unit}, step {step}\nh = {float(self.values[step - 1, unit]):.5f}"

    # Theme ----------------------------------------------------------------------------------------
    def _color_bars(self, theme: Theme) -> None:
        table = plotting.lut(theme.diverging_cmap)
        self.pos_bars.setOpts(brush=pg.mkBrush(*table[230]))
        self.neg_bars.setOpts(brush=pg.mkBrush(*table[25]))

    def apply_strokes(self, theme: Theme) -> None:
        """Pens only: while a picture is painted at a larger scale, and back."""
        self.canvas.apply_strokes(theme)
        plotting.style_strokes(self.bars_plot, theme)

    def apply_theme(self, theme: Theme) -> None:
        self.canvas.apply_theme(theme)
        plotting.style_plot(self.bars_plot, theme)
        self._color_bars(theme)
        self.heatmap.set_cmap(theme.diverging_cmap)
        update_colorbar(self.colorbar, theme.diverging_cmap, self.levels)
