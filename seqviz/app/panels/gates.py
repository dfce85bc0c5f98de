"""Gates panel: one heatmap per gate of a GRU or LSTM layer, and the cell's equation with live numbers.

Gates in [0, 1] use the sequential colour map; the candidate and the LSTM cell, centred at 0, the
diverging one. Beside each heatmap, the gate's vector at the current word as bars (option "bars",
like h_t's). The equation shows the selected unit (the last one picked, else the most varying one)
at the current step with every number, so a student can redo the arithmetic. Clicking a cell picks
the unit and makes the Selected units panel follow that gate's array.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QVBoxLayout, QWidget

from seqviz.app.panels import plotting
from seqviz.app.panels.base import Panel
from seqviz.app.panels.colour_scale import ColourScale, diverging_scale
from seqviz.app.panels.controls import (
    DIRECTION_LABELS,
    ControlRow,
    OptionCombo,
    SelectionCombo,
    StepLabel,
)
from seqviz.app.panels.edit_choices import unit_choices
from seqviz.app.panels.gate_bars import GateBars
from seqviz.app.panels.gate_equations import (
    equation_text,
    equation_unit,
    gate_equation,
    gate_info,
    gate_names,
)
from seqviz.app.panels.heatmap import Heatmap, PlotCanvas, colorbar, update_colorbar
from seqviz.app.panels.traceinfo import gate_kind, is_transformer, reads_whole_input, selection_label
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.core.trace import Trace

TITLE_ROW = 30  # pixels: pyqtgraph's fixed height of a plot's title row


class GatesPanel(Panel):
    name = "gates"
    title = "Gates"

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.kind = ""  # "lstm" or "gru"
        self.gate_names: tuple[str, ...] = ()
        self._arrangement: tuple[int, tuple[str, ...]] = (0, ())
        self._label_forms: tuple = ()  # (above, level, names) the gates' labels were last given
        self.values: dict[str, np.ndarray] = {}  # name -> (T, H) of the shown layer/direction
        self.equation_values: dict[str, float | None] = {}
        self.controls = ControlRow()
        self.layer_box = self.controls.add("Layer", SelectionCombo(self.selection, "layer"))
        self.direction_box = self.controls.add("Direction", SelectionCombo(self.selection, "direction"))
        self.bars_box = self.controls.add("Bars", OptionCombo(self.selection, self.name, "bars"))
        self.controls.finish()
        self.canvas = PlotCanvas()
        self.heatmaps: list[Heatmap] = []  # made on first need: a Transformer session never pays for them
        self.colorbars: list[plotting.ColorBar] = []
        self.bars: list[GateBars] = []  # each gate's vector at the current word, beside its heatmap
        self.equation = StepLabel(lines=3)  # changes every step: must not relayout the window
        self.equation.setObjectName("gateEquation")
        self.equation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.equation)
        self.canvas.heatmapClicked.connect(self._on_cell_clicked)
        self.canvas.cellMenuRequested.connect(self._on_cell_menu_requested)
        self.bars_box.valueChanged.connect(lambda _value: self._ready and self._arrange())
        self.canvas.installEventFilter(self)
        self.cursor.stepChanged.connect(self._on_step_changed)
        self.selection.layerChanged.connect(self._on_selection_changed)
        self.selection.directionChanged.connect(self._on_selection_changed)
        self.selection.unitsChanged.connect(self._on_units_changed)
        theme_notifier.themeChanged.connect(self.apply_theme)
        theme_notifier.strokesChanged.connect(self.apply_strokes)
        self.apply_theme(current_theme())

    def _ensure_heatmaps(self, count: int) -> None:
        """Grow the set of heatmaps (shared time and unit axes) to `count`; `_arrange` places them."""
        for _ in range(len(self.heatmaps), count):
            heatmap = self.canvas.add_heatmap(Heatmap(row_name="unit"))
            if self.heatmaps:
                heatmap.plot.setXLink(self.heatmaps[0].plot)
                heatmap.plot.setYLink(self.heatmaps[0].plot)
            heatmap.set_future_hidden(self.viewer.future_hidden)
            self.heatmaps.append(heatmap)
            self.colorbars.append(colorbar(current_theme().sequential_cmap, (0.0, 1.0)))
            self.canvas.add_hover_source(self.colorbars[-1].text_at)  # what a clipped range leaves out
            self.bars.append(GateBars())
            self.bars[-1].plot.setYLink(heatmap.plot)

    def _grid_columns(self) -> int:
        """How many heatmaps side by side: the count whose heatmaps come closest to 2.5:1 (time is
        long), among grids whose last row is nearly full (5 gates as 4 + 1 look ragged; 3 + 2 do not).
        A heatmap is its grid cell less what sits beside it (its axis, colour bar and bars) and under
        it (the step axis): counting whole cells, three columns left a small dock's heatmaps a few
        pixels wide, and three rows left a short one's none high."""
        n, theme = len(self.gate_names), current_theme()
        width, height = max(self.canvas.width(), 1), max(self.canvas.height(), 1)
        beside = theme.font_size * 4 + 56 + (theme.font_size * 6 if self.shows_bars else 0)
        under = theme.font_size * 2.6 + 4
        balanced = [c for c in range(1, n + 1) if n - c * (math.ceil(n / c) - 1) >= c - 1]

        def shape(c: int) -> float:
            heatmap_w = max(width / c - beside, 1.0)
            heatmap_h = max(height / math.ceil(n / c) - under, 1.0)
            return abs(math.log(heatmap_w / heatmap_h / 2.5))

        return min(balanced, key=shape)

    @property
    def shows_bars(self) -> bool:
        """Whether each gate's vector at the current word is drawn as bars beside its heatmap."""
        return self.bars_box.value != "off"

    def _arrange(self) -> None:
        """Lay the shown gates out in a grid that suits the panel's shape (only when that changes)."""
        columns = self._grid_columns()
        self._fit_labels(columns)
        if (columns, self.gate_names, self.shows_bars) == self._arrangement:
            return
        self._arrangement = (columns, self.gate_names, self.shows_bars)
        layout = self.canvas.ci
        for item in (*(h.plot for h in self.heatmaps), *self.colorbars, *(b.plot for b in self.bars)):
            if item in layout.items:
                layout.removeItem(item)
        n, width = len(self.gate_names), 3 if self.shows_bars else 2  # grid cells per gate
        for i in range(n):
            row, col = divmod(i, columns)
            layout.addItem(self.heatmaps[i].plot, row, width * col)
            layout.addItem(self.colorbars[i], row, width * col + 1)
            if self.shows_bars:
                layout.addItem(self.bars[i].plot, row, width * col + 2)
            # every plot keeps the axis's height (rows stay aligned); numbers only under each column
            self.heatmaps[i].plot.showAxis("bottom", True)
            self.heatmaps[i].bottom_axis.setStyle(showValues=i + columns >= n)
        for col in range(columns * width):  # a heatmap's time axis is long: most of the width
            stretch = {0: 5, 1: 0, 2: 1}[col % width]
            layout.layout.setColumnStretchFactor(col, stretch)

    def _fit_labels(self, columns: int) -> None:
        """The gates' names, in `columns` columns of heatmaps: beside each heatmap, rotated, if they
        fit its height; else above it if they fit its width (a student learns what f and i stand
        for: the presentation theme's names had shrunk to letters at 1920x1080); else shorter
        beside it ("input i", then "i"). The same form for all: a rotated label longer than its plot
        runs into the next row."""
        theme = current_theme()
        metrics = QFontMetrics(plotting.font(theme))
        rows = math.ceil(len(self.gate_names) / max(columns, 1))
        room = self.canvas.height() / max(rows, 1) - theme.font_size * 2.6
        # what sits beside a heatmap, as _grid_columns counts it: its axis, colour bar and bars
        beside = theme.font_size * 4 + 56 + (theme.font_size * 6 if self.shows_bars else 0)
        wide = self.canvas.width() / max(columns, 1) - beside
        forms = []
        for name in self.gate_names:
            title, symbol, _ = gate_info(name, self.kind)
            forms.append((title, f"{title.split()[0]} {symbol}", symbol))

        def fit(level: int, length: float) -> bool:
            return all(metrics.horizontalAdvance(f[level]) <= length for f in forms)

        # a title takes a row of its own, TITLE_ROW pixels: only where the heatmap keeps a fair height
        above = not fit(0, room) and fit(0, wide) and room - TITLE_ROW >= 2 * TITLE_ROW
        level = 0 if above else next((k for k in range(2) if fit(k, room)), 2)
        if (above, level, forms) == self._label_forms:
            return  # pyqtgraph keeps a hidden title's text: compare with what was asked, not with it
        self._label_forms = (above, level, forms)
        for heatmap, form in zip(self.heatmaps, forms, strict=False):
            side, top = ("", form[0]) if above else (form[level], "")
            heatmap.plot.setLabel("left", side)
            heatmap.plot.getAxis("left").showLabel(bool(side))
            if not top:  # a hidden title's text still sized the plot: as a plot that never had one
                heatmap.plot.titleLabel.setText("")
            heatmap.plot.setTitle(top or None)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt)
        # the canvas's own size (the equation's height changes with the theme, not the panel's)
        if watched is self.canvas and event.type() == QEvent.Type.Resize and self._ready:
            self._arrange()
        return False

    # Trace -------------------------------------------------------------------------------------
    def applies_to(self, trace: Trace) -> str | None:
        if gate_kind(trace) is not None:
            return None
        if is_transformer(trace):
            return "Gates belong to recurrent models (GRU, LSTM); a Transformer has none."
        if trace.arch == "rnn" or "hidden" in trace:
            return "A vanilla RNN has no gates: h\u209c = tanh(W x\u209c + U h\u209c\u208b\u2081 + b)."
        return "This trace has no gate arrays."

    def show_trace(self, trace: Trace) -> None:
        self.kind = gate_kind(trace) or ""
        self.gate_names = gate_names(self.kind)
        self._ensure_heatmaps(len(self.gate_names))
        layers, directions = trace["hidden"].shape[1:3]
        self.layer_box.set_choices([str(i + 1) for i in range(layers)])
        self.direction_box.set_choices(DIRECTION_LABELS[:directions])
        self.bars_box.set_choices(["on", "off"], ["at this word", "none"], default="on")
        self.controls.set_shown(self.direction_box, directions > 1)
        for heatmap in self.heatmaps:
            heatmap.set_reveal(not reads_whole_input(trace))
        self._arrange()
        self._load_selection()
        self._ready = True
        self._on_units_changed(self.selection.units)
        self._on_step_changed(self.cursor.step)

    @property
    def shown_heatmaps(self) -> dict[str, Heatmap]:
        """Gate name -> its heatmap, for the gates of the current trace."""
        return dict(zip(self.gate_names, self.heatmaps, strict=False))

    @property
    def shown_bars(self) -> dict[str, GateBars]:
        """Gate name -> its bars at the current word, for the gates of the current trace."""
        return dict(zip(self.gate_names, self.bars, strict=False))

    def future_views(self) -> list:
        return self.heatmaps

    def _load_selection(self) -> None:
        layer, direction = self.selection.layer, self.selection.direction  # clamped by the viewer
        self._layer, self._direction = layer, direction
        where = selection_label(self.trace, layer, direction)
        theme = current_theme()
        names = {*self.gate_names, "hidden"}
        self.values = {n: self.trace[n][:, layer, direction, :] for n in names}  # (T, H) views
        for (name, heatmap), bar in zip(self.shown_heatmaps.items(), self.colorbars, strict=False):
            title, _symbol, centred = gate_info(name, self.kind)
            cmap = theme.diverging_cmap if centred else theme.sequential_cmap
            scale = diverging_scale(self.values[name]) if centred else ColourScale((0.0, 1.0))
            levels = scale.levels
            heatmap.set_data(self.values[name].T, levels, cmap, self.trace.tokens, f"{title} ({where})")
            update_colorbar(bar, cmap, levels, scale)
            bar_range = scale.bar_range if centred else levels  # every bar whole
            self.shown_bars[name].set_scale(self.values[name].shape[1], bar_range, centred, cmap)
        units = self.values[self.gate_names[0]].shape[1]
        whole = " \u00b7 reads the whole input at once" if reads_whole_input(self.trace) else ""
        self.controls.note.setText(f"{where} \u00b7 {units} units{whole} \u00b7 click a cell to pick a unit")

    # State -> view ------------------------------------------------------------------------------
    @property
    def selected_unit(self) -> int:
        """The unit whose equation is shown: the last one picked, else the hidden unit that varies
        most (the one the units panel shows before anything is picked)."""
        units = self.values[self.gate_names[0]].shape[1]
        return equation_unit(self.trace, self._layer, self._direction, self.selection.units, units)

    def _on_step_changed(self, step: int) -> None:
        if not self._ready:
            return
        step = min(max(step, 1), self.values[self.gate_names[0]].shape[0])
        for heatmap in self.shown_heatmaps.values():
            heatmap.set_step(step)
        for name, bars in self.shown_bars.items():
            bars.set_values(self.values[name][step - 1])
        self._show_equation(step)

    def _on_selection_changed(self, _value: int) -> None:
        if self._ready:
            self._load_selection()
            self._on_units_changed(self.selection.units)
            self._on_step_changed(self.cursor.step)

    def _on_units_changed(self, units: tuple) -> None:
        if not self._ready:
            return
        for heatmap in self.shown_heatmaps.values():
            heatmap.set_marked_rows(units)
        self._show_equation(min(max(self.cursor.step, 1), self.values["hidden"].shape[0]))

    def _on_cell_clicked(self, heatmap: Heatmap, unit: int, step: int, toggle: bool) -> None:
        """The unit and step of the cell, and the Selected units panel follows the clicked array (the
        cell state or a gate, not `hidden`), unless it already shows that array among others."""
        gate = next((name for name, shown in self.shown_heatmaps.items() if shown is heatmap), None)
        followed = (self.selection.option("units", "array") or "").split(",")
        if gate is not None and gate not in followed:
            self.selection.set_option("units", "array", gate)
        self.cursor.set_step(step)
        if toggle:
            self.selection.toggle_unit(unit)
        else:
            self.selection.set_units((unit,))

    def _on_cell_menu_requested(self, heatmap, unit: int, step: int, screen_pos) -> None:
        gate = next((name for name, shown in self.shown_heatmaps.items() if shown is heatmap), None)
        if gate is not None:
            choices = unit_choices(self.trace, gate, self._layer, self._direction, unit, step)
            self.offer_edits(choices, screen_pos)

    # Equations ------------------------------------------------------------------------------------
    def _show_equation(self, step: int) -> None:
        unit = self.selected_unit
        equation = gate_equation(self.trace, self.kind, self._layer, self._direction, unit, step)
        self.equation_values = equation.as_dict()
        token = plotting.display_token(self.trace.tokens[step - 1])
        self.equation.setText(equation_text(equation, token))

    # Theme ----------------------------------------------------------------------------------------
    def apply_strokes(self, theme: Theme) -> None:
        """Pens only: while a picture is painted at a larger scale, and back."""
        self.canvas.apply_strokes(theme)
        for bars in self.bars:
            bars.apply_strokes(theme)

    def apply_theme(self, theme: Theme) -> None:
        self.canvas.apply_theme(theme)
        self.equation.setFont(plotting.font(theme, 1.1))
        for bars in self.bars:  # every gate's, not only this model's: a later model shows the others
            bars.apply_theme(theme)
        if not self._ready:
            return
        self._fit_labels(max(self._arrangement[0], 1))
        for (name, heatmap), bar in zip(self.shown_heatmaps.items(), self.colorbars, strict=False):
            cmap = theme.diverging_cmap if gate_info(name, self.kind)[2] else theme.sequential_cmap
            heatmap.set_cmap(cmap)
            update_colorbar(bar, cmap, heatmap.levels)
            self.shown_bars[name].apply_theme(theme, cmap)
