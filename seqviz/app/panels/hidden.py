"""Hidden state panel: the units x steps heatmap of one layer/direction and the current vector as bars.

An encoder-decoder's panel shows either side (option "side", hidden_logic): the decoder's states over
the output steps, or the encoder's over the source (its own layer and direction: options
"encoder_layer", "encoder_direction"), pointing at the source position the current output attends to.
The title and the note say which side is shown.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from seqviz.app.panels import hidden_logic, plotting
from seqviz.app.panels.base import Panel
from seqviz.app.panels.colour_scale import diverging_scale
from seqviz.app.panels.controls import DIRECTION_LABELS, ControlRow, OptionCombo, SelectionCombo
from seqviz.app.panels.edit_choices import unit_choices
from seqviz.app.panels.gate_bars import RangeTicks
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
        self.side_box = self.controls.add("Side", OptionCombo(self.selection, self.name, "side"))
        self.layer_box = self.controls.add("Layer", SelectionCombo(self.selection, "layer"))
        self.direction_box = self.controls.add("Direction", SelectionCombo(self.selection, "direction"))
        # the encoder's stack may differ from the decoder's: its own layer and direction
        self.encoder_layer_box = self.controls.add(
            "Layer", OptionCombo(self.selection, self.name, "encoder_layer")
        )
        self.encoder_direction_box = self.controls.add(
            "Direction", OptionCombo(self.selection, self.name, "encoder_direction")
        )
        self.controls.finish()
        self.canvas = PlotCanvas()
        self.heatmap = self.canvas.add_heatmap(Heatmap(row_name="unit"), 0, 0)
        self.heatmap.plot.setLabel("left", "unit")
        self.colorbar = colorbar(current_theme().diverging_cmap, self.levels)
        self.canvas.addItem(self.colorbar, 0, 1)
        self.canvas.add_hover_source(self.colorbar.text_at)  # what a clipped range leaves out
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
        for box in (self.side_box, self.encoder_layer_box, self.encoder_direction_box):
            box.valueChanged.connect(self._on_selection_changed)
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
        self.bar_ticks = RangeTicks(self.bars_plot)
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
        sides = hidden_logic.sides(trace)
        labels = [hidden_logic.side_label(side, trace) for side in sides]
        self.side_box.set_choices(sides, labels, default=hidden_logic.DECODER)
        if hidden_logic.ENCODER in sides:
            encoder_layers, encoder_directions = trace["encoder_hidden"].shape[1:3]
            numbers = [str(i) for i in range(max(encoder_layers, encoder_directions))]
            self.encoder_layer_box.set_choices(numbers[:encoder_layers], numbers[:encoder_layers], "0")
            directions_shown = DIRECTION_LABELS[:encoder_directions]
            self.encoder_direction_box.set_choices(numbers[:encoder_directions], directions_shown, "0")
        self._show_controls()
        self._load_selection()
        self._ready = True
        self._on_units_changed(self.selection.units)
        self._on_step_changed(self.cursor.step)

    @property
    def side(self) -> str:
        """ "decoder" (the steps' states, every model) or "encoder" (an encoder-decoder's source)."""
        return self.side_box.value or hidden_logic.DECODER

    def _show_controls(self) -> None:
        """The side's own layer and direction boxes; the side box only when there are two sides."""
        encoder = self.side == hidden_logic.ENCODER
        self.controls.set_shown(self.side_box, self.side_box.count() > 1)
        self.controls.set_shown(self.layer_box, not encoder)
        self.controls.set_shown(self.direction_box, not encoder and self.direction_box.count() > 1)
        self.controls.set_shown(self.encoder_layer_box, encoder and self.encoder_layer_box.count() > 1)
        self.controls.set_shown(
            self.encoder_direction_box, encoder and self.encoder_direction_box.count() > 1
        )

    def _side_states(self) -> tuple[np.ndarray, list[str], str]:
        """(T or S, H) states of the shown side, their tokens, and where they are from ("layer 1")."""
        if self.side == hidden_logic.ENCODER:
            layer, direction = int(self.encoder_layer_box.value), int(self.encoder_direction_box.value)
            states = hidden_logic.encoder_states(self.trace, layer, direction)
            where = f"layer {layer + 1}"
            if self.trace["encoder_hidden"].shape[2] > 1:
                where += ", " + ("forward" if direction == 0 else "backward")
            return states, self.trace.source_tokens, where
        layer, direction = self.selection.layer, self.selection.direction  # clamped by the viewer
        states = self.trace["hidden"][:, layer, direction, :]  # (T, H) view; rows are steps
        return states, self.trace.tokens, selection_label(self.trace, layer, direction)

    def _load_selection(self) -> None:
        """Upload the heatmap of the selected side, layer and direction (not a step: a new image is
        fine here)."""
        self._show_controls()
        encoder = self.side == hidden_logic.ENCODER
        self.values, tokens, where = self._side_states()
        side = hidden_logic.side_label(self.side, self.trace)
        where = f"{side}, {where}" if side else where
        self.scale = diverging_scale(self.values)
        self.levels = self.scale.levels
        cmap = current_theme().diverging_cmap
        self.heatmap.column_name = "position" if encoder else "step"
        self.heatmap.set_reveal(not encoder and not reads_whole_input(self.trace))
        self.heatmap.set_data(self.values.T, self.levels, cmap, tokens, f"h ({where})")
        plotting.set_title(self.heatmap.plot, f"hidden state h, {where}")
        update_colorbar(self.colorbar, cmap, self.levels, self.scale)
        units = np.arange(self.values.shape[1]) + 0.5
        zeros = np.zeros(units.size)  # y and widths change size together (a new model may be wider)
        self.pos_bars.setOpts(y=units, width=zeros)
        self.neg_bars.setOpts(y=units, width=zeros)
        lo, hi = self.scale.bar_range  # every value's bar whole, beyond a clipped colour range too
        plotting.forget_tick_text(self.bars_plot, (units.size, lo, hi))
        self.bars_plot.setXRange(lo, hi, padding=0.02)
        self.bar_ticks.set_range(lo, hi, 0.0)  # both ends at least, whatever the plot's width
        self.controls.note.setText(self._note(where))

    def _note(self, where: str) -> str:
        parts = [f"{self.values.shape[1]} units of {where}"]
        if self.side == hidden_logic.ENCODER:
            parts.append("read before the first output; the line: the word this output attends to most")
        if is_transformer(self.trace):
            parts.append("each layer's output")
        if reads_whole_input(self.trace):
            parts.append("reads the whole input at once")
        if self.scale.clipped:
            parts.append(self.scale.summary())
        elif self.levels[1] > 1.0:
            parts.append(f"colour range \u00b1{self.levels[1]:.3g}: values exceed [-1, 1]")
        return " \u00b7 ".join(parts)

    # State -> view ------------------------------------------------------------------------------
    @property
    def shown_column(self) -> int | None:
        """The 1-based column the cursor and the bars show at the current step: the step, or on the
        encoder's side the source position the current output attends to most (None: unknown)."""
        step = min(max(self.cursor.step, 1), self.trace.num_steps)
        if self.side == hidden_logic.ENCODER:
            return hidden_logic.attended_source(self.trace, step)
        return min(step, self.values.shape[0])

    def _on_step_changed(self, _step: int) -> None:
        if not self._ready:
            return
        column = self.shown_column
        self.heatmap.cursor.setVisible(column is not None)
        self.heatmap.set_step(column or 1)
        current = self.values[column - 1] if column else np.zeros(self.values.shape[1])  # (H,)
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
        if self._ready:  # the picked units are the decoder's
            self.heatmap.set_marked_rows(units if self.side == hidden_logic.DECODER else ())

    # View -> state -------------------------------------------------------------------------------
    def _on_cell_clicked(self, unit: int, step: int, toggle: bool) -> None:
        if self.side == hidden_logic.ENCODER:  # a source position is no step; its units no decoder's
            return
        self.cursor.set_step(step)
        if toggle:
            self.selection.toggle_unit(unit)
        else:
            self.selection.set_units((unit,))

    def _on_cell_menu_requested(self, _heatmap, unit: int, step: int, screen_pos) -> None:
        if self.side == hidden_logic.ENCODER:
            return
        sel = self.selection
        self.offer_edits(unit_choices(self.trace, "hidden", sel.layer, sel.direction, unit, step), screen_pos)

    def _bar_text_at(self, scene_pos: QPointF) -> str | None:
        vb = self.bars_plot.getViewBox()
        if not self._ready or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        unit = int(np.floor(vb.mapSceneToView(scene_pos).y()))
        if not 0 <= unit < self.values.shape[1]:
            return None
        column, value = self.heatmap.step, float(self.values[self.heatmap.step - 1, unit])
        return f"unit {unit}, {self.heatmap.column_name} {column}\nh = {value:.5f}"

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
        self.bar_ticks.fit()  # the theme's numbers may be larger
        self._color_bars(theme)
        self.heatmap.set_cmap(theme.diverging_cmap)
        update_colorbar(self.colorbar, theme.diverging_cmap, self.levels)
