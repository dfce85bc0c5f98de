"""Selected units panel: the picked units' values over time, for one array, layer and direction, or for
several arrays of the same units together (an LSTM's f, i and o: units_logic)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsItem, QPushButton, QVBoxLayout, QWidget

from seqviz.app.panels import plotting
from seqviz.app.panels.base import Panel
from seqviz.app.panels.controls import (
    DIRECTION_LABELS,
    ControlRow,
    ElidedLabel,
    OptionCombo,
    SelectionCombo,
)
from seqviz.app.panels.edit_choices import unit_choices
from seqviz.app.panels.heatmap import FutureMask, PlotCanvas
from seqviz.app.panels.plotting import STEP_OFFSET, TokenAxis
from seqviz.app.panels.traceinfo import default_unit, is_causal, selection_label
from seqviz.app.panels.units_logic import (
    array_groups,
    array_label,
    arrays_of,
    curve_name,
    group_label,
    group_value,
    unit_arrays,
)
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.core.trace import Trace

HINT = "Click a cell in a heatmap to follow that unit over time (Ctrl+click adds more units)."
LEGEND_MARGIN = 12  # pixels: the legend's offset from the plot's top right corner, and a little air

__all__ = ["UnitsPanel", "unit_arrays"]


class UnitsPanel(Panel):
    name = "units"
    title = "Selected units"

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.series = np.zeros((1, 1), np.float32)  # (T, H) of the (first) shown array/layer/direction
        self.series_of: dict[str, np.ndarray] = {}  # every shown array's (T, H)
        self.curves: list[pg.PlotDataItem] = []
        self.curve_names: list[str] = []  # the legend's names of `curves`
        self.shown_units: tuple[int, ...] = ()
        self.showing_default = False  # True: no unit picked, the liveliest one is shown
        self._causal = True
        self.controls = ControlRow()
        self.array_box = self.controls.add("Array", OptionCombo(self.selection, self.name, "array"))
        self.layer_box = self.controls.add("Layer", SelectionCombo(self.selection, "layer"))
        self.direction_box = self.controls.add("Direction", SelectionCombo(self.selection, "direction"))
        self.clear_button = QPushButton("Clear")
        self.controls.add("", self.clear_button)
        self.controls.finish()
        # one line, ended with "…" (the whole text as tooltip) where it does not fit: wrapped to two
        # or three lines it left a short panel's plot no room (Help › Keys and mouse has it too)
        self.hint = ElidedLabel(HINT)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas = PlotCanvas()
        self.axis = TokenAxis("bottom")
        axes = {"bottom": self.axis, "left": plotting.ReadableAxis("left")}
        self.plot = self.canvas.addPlot(0, 0, axisItems=axes, enableMenu=False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.plot.getViewBox().sigResized.connect(self._fit_legend)
        self.mask = FutureMask()
        self.step_line = pg.InfiniteLine(angle=90, movable=False)
        self.step_line.setZValue(10)
        self.plot.addItem(self.mask)
        self.plot.addItem(self.step_line, ignoreBounds=True)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self.hint)
        layout.addWidget(self.canvas, 1)
        self.array_box.valueChanged.connect(self._on_array_changed)
        self.clear_button.clicked.connect(lambda: self.selection.set_units(()))
        self.canvas.scene().sigMouseClicked.connect(self._on_click)
        self.canvas.add_hover_source(self._text_at)
        self.cursor.stepChanged.connect(self._on_step_changed)
        self.selection.layerChanged.connect(self._on_selection_changed)
        self.selection.directionChanged.connect(self._on_selection_changed)
        self.selection.unitsChanged.connect(self._on_selection_changed)
        theme_notifier.themeChanged.connect(self.apply_theme)
        theme_notifier.strokesChanged.connect(self.apply_strokes)
        self.apply_theme(current_theme())

    # Trace -------------------------------------------------------------------------------------
    def applies_to(self, trace: Trace) -> str | None:
        return None if unit_arrays(trace) else "This trace has no per-unit arrays to follow."

    def set_future_hidden(self, hidden: bool) -> None:
        self.mask.set_future_hidden(hidden)
        self._on_step_changed(self.cursor.step)

    def show_trace(self, trace: Trace) -> None:
        names = unit_arrays(trace)
        groups = array_groups(trace)
        values = names + [group_value(g) for g in groups]
        labels = [array_label(n, trace) for n in names] + [group_label(g, trace) for g in groups]
        self.array_box.set_choices(values, labels, default=names[0])
        layers, directions = trace["hidden"].shape[1:3]
        self.layer_box.set_choices([str(i + 1) for i in range(layers)])
        self.direction_box.set_choices(DIRECTION_LABELS[:directions])
        self.controls.set_shown(self.direction_box, directions > 1)
        self.axis.set_tokens(trace.tokens)
        self._causal = is_causal(trace)
        self._ready = True
        self._rebuild()

    @property
    def array_name(self) -> str:
        """The option's value: one array's name, or several joined by commas."""
        return self.array_box.value

    @property
    def arrays(self) -> tuple[str, ...]:
        """The arrays whose curves are shown (several: the same units of each)."""
        return arrays_of(self.array_name)

    def _rebuild(self) -> None:
        """New curves for the selected units (a selection change, never a step)."""
        layer, direction = self.selection.layer, self.selection.direction  # clamped by the viewer
        self.series_of = {a: self.trace[a][:, layer, direction, :] for a in self.arrays}  # (T, H) each
        self.series = self.series_of[self.arrays[0]]
        steps, units = self.series.shape
        picked = tuple(u for u in self.selection.units if 0 <= u < units)
        # nothing picked: show the liveliest unit, so the panel is never an empty plot on a slide
        self.showing_default = not picked
        self.shown_units = picked or (default_unit(self.trace, layer, direction),)
        where = selection_label(self.trace, layer, direction)
        self._add_curves(steps)
        plotting.set_title(self.plot, f"{self.array_box.currentText()}, {where}")
        self.hint.setText(self._hint_text(where))
        self.hint.setVisible(self.showing_default)
        self._set_ranges(steps)
        self._on_step_changed(self.cursor.step)

    def _hint_text(self, where: str) -> str:
        if not self.showing_default:
            return HINT
        unit = self.shown_units[0]
        return f"Showing unit {unit}, the hidden unit of {where} that varies most. {HINT}"

    @property
    def shown_curves(self) -> list[tuple[str, int]]:
        """(array, unit) of each curve, in drawing order: every shown unit of each shown array."""
        return [(array, unit) for array in self.arrays for unit in self.shown_units]

    def _add_curves(self, steps: int) -> None:
        """One curve per shown unit of each shown array, replacing the previous ones. The same
        curves of a new version of the trace (training's weights) only take its values: rebuilt,
        the curves and the legend took ~6 ms of the panels' ~26 ms at 1600x900."""
        several = len(self.arrays) > 1
        names = [curve_name(array, unit, self.trace, several) for array, unit in self.shown_curves]
        x = np.arange(1, steps + 1, dtype=np.float32)
        if self.curves and names == self.curve_names:
            for curve, (array, unit) in zip(self.curves, self.shown_curves, strict=True):
                curve.setData(x, self.series_of[array][:, unit])
            return
        for curve in self.curves:
            self.plot.removeItem(curve)
        self.legend.clear()
        theme = current_theme()
        self.curves, self.curve_names = [], names
        for i, ((array, unit), name) in enumerate(zip(self.shown_curves, names, strict=True)):
            curve = self.plot.plot(
                x, self.series_of[array][:, unit], pen=self._curve_pen(theme, i), name=name
            )
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            # a step repaints a thin strip over the curves: blit it from a cached picture of the curve
            curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.curves.append(curve)
        self._fit_legend()

    def _fit_legend(self, *_args) -> None:
        """Show the legend only inside the plot: a short panel (1024x640) drew it over the step axis,
        cut off, and over every curve it has room for (the hint above names the units anyway)."""
        room = self.plot.getViewBox().boundingRect()
        size = self.legend.boundingRect()
        fits = size.height() + LEGEND_MARGIN <= room.height() and size.width() + LEGEND_MARGIN <= room.width()
        self.legend.setVisible(bool(self.curves) and fits)

    @staticmethod
    def _curve_pen(theme: Theme, i: int) -> QPen:
        """The pen of the i-th shown unit's curve."""
        return pg.mkPen(theme.palette[i % len(theme.palette)], width=theme.line_width)

    def _set_ranges(self, steps: int) -> None:
        if self.shown_units:
            chosen = np.stack([self.series_of[a][:, u] for a, u in self.shown_curves])  # (curves, T)
            lo, hi = plotting.finite_span(chosen)
        else:
            lo, hi = -1.0, 1.0
        if any(a.endswith("_gate") for a in self.arrays):
            lo, hi = min(lo, 0.0), max(hi, 1.0)
        pad = 0.05 * max(hi - lo, 1e-6)
        lo, hi = lo - pad, hi + pad
        # new numbers on the value axis: measure them afresh
        plotting.forget_tick_text(self.plot, (self.axis.tokens, steps), sides=("bottom",))
        plotting.forget_tick_text(self.plot, (lo, hi), sides=("left", "right", "top"))
        # limits first: the previous trace's limits would clamp the new range
        self.plot.getViewBox().setLimits(xMin=STEP_OFFSET, xMax=steps + STEP_OFFSET, yMin=lo, yMax=hi)
        self.plot.setRange(xRange=(STEP_OFFSET, steps + STEP_OFFSET), yRange=(lo, hi), padding=0)
        self.mask.set_area(QRectF(STEP_OFFSET, lo, steps, hi - lo))

    # State -> view ------------------------------------------------------------------------------
    def _on_step_changed(self, step: int) -> None:
        if not self._ready:
            return
        steps = self.series.shape[0]
        step = min(max(step, 1), steps)
        self.step_line.setValue(step)
        # from the step itself: a curve's segment to the next step is the future (from the cell's
        # edge, as a heatmap's cover starts, the line ran half a step past the cursor)
        self.mask.set_start(step if self._causal else steps + STEP_OFFSET)
        self.axis.set_shown_until(step if self._causal and self.mask.hidden else None)

    def _on_selection_changed(self, _value) -> None:
        if self._ready:
            self._rebuild()

    def _on_array_changed(self, _value: str) -> None:
        if self._ready:
            self._rebuild()

    # View -> state ------------------------------------------------------------------------------
    def _step_at(self, scene_pos: QPointF) -> int | None:
        vb = self.plot.getViewBox()
        if not self._ready or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        step = int(round(vb.mapSceneToView(scene_pos).x()))
        return step if 1 <= step <= self.series.shape[0] else None

    def _on_click(self, event) -> None:
        step = self._step_at(event.scenePos())
        if event.button() == Qt.MouseButton.LeftButton and step is not None:
            self.cursor.set_step(step)
        elif event.button() == Qt.MouseButton.RightButton and step is not None:
            sel = self.selection
            choices = [
                choice
                for array, unit in self.shown_curves
                for choice in unit_choices(self.trace, array, sel.layer, sel.direction, unit, step)
            ]
            self.offer_edits(choices, event.screenPos())

    def _text_at(self, scene_pos: QPointF) -> str | None:
        step = self._step_at(scene_pos)
        if step is None or not self.shown_units:
            return None
        token = plotting.display_token(self.trace.tokens[step - 1])
        lines = [f"step {step} '{token}'"]
        several = len(self.arrays) > 1
        lines += [
            f"{curve_name(a, u, self.trace, several)}: {float(self.series_of[a][step - 1, u]):.5f}"
            for a, u in self.shown_curves
        ]
        return "\n".join(lines)

    # Theme ----------------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        self.canvas.apply_theme(theme)
        plotting.style_plot(self.plot, theme)
        self.mask.apply_theme(theme)
        self.legend.setLabelTextColor(theme.foreground)
        self.legend.setLabelTextSize(f"{theme.font_size * 0.9:g}pt")
        # the legend sits over the curves: a backing in the plot's colour keeps its text readable
        self.legend.setBrush(plotting.color(theme.background, 210))
        self._fit_legend()  # its text's new size
        self.apply_strokes(theme)
        if self._ready:
            self.curve_names = []  # the legend's entries made anew in the theme's font
            self._rebuild()

    def apply_strokes(self, theme: Theme) -> None:
        """Pens only: while a picture is painted at a larger scale, and back."""
        self.canvas.apply_strokes(theme)
        plotting.style_strokes(self.plot, theme)
        self.step_line.setPen(plotting.cursor_pen(theme))
        self.legend.setPen(plotting.outline_pen(theme.masked_cell, theme))
        for i, curve in enumerate(self.curves):
            curve.setPen(self._curve_pen(theme, i))
