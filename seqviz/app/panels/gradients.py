"""Gradient flow panel: how much each input token influences each step's output, ||dy_t/dx_s||_2.

Reads `input_gradient_norm` (T, S) (row t: output step, column s: input or source position). Shows the
current step's row as bars (log or linear) and as a row of tinted tokens, the whole map on a log colour
scale with the step's row outlined, and the mean influence against distance t - s. A trace without the
array (recurrent or Transformer) gets its rows from a background job through `set_rows` and
`set_progress`; rows not computed yet are drawn as such, distinct from NaN. A step moves the row
outline and swaps the bars' and tokens' data; plots are built once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from seqviz.app.panels import gradient_logic as logic
from seqviz.app.panels import plotting
from seqviz.app.panels.base import Panel
from seqviz.app.panels.controls import ControlRow, OptionCombo
from seqviz.app.panels.gradient_logic import INF, NAN, PENDING, ZERO
from seqviz.app.panels.gradient_plots import INF_COLOUR, NAN_COLOUR, DistancePlot, StepBars
from seqviz.app.panels.gradient_views import (
    GradientMap,
    MapLegend,
    ProgressLabel,
    TokenTints,
    recurrent_scale_box,
)
from seqviz.app.panels.heatmap import PlotCanvas
from seqviz.app.panels.plotting import display_token
from seqviz.app.panels.traceinfo import is_causal
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.core.trace import Trace

ARRAY = "input_gradient_norm"


def special_colours(theme: Theme) -> dict[int, tuple[int, int, int, int]]:
    """RGBA of the cells without a colour-map colour: exact zeros as attention's masked cells, NaN and
    inf in colours no colour map uses, rows not computed yet as the background."""
    colours = {ZERO: theme.masked_cell, NAN: NAN_COLOUR, INF: INF_COLOUR, PENDING: theme.background}
    return {kind: QColor(name).getRgb() for kind, name in colours.items()}


class GradientPanel(Panel):
    name = "gradients"
    title = "Gradient flow"
    drawn = Signal()  # a map held back while the panel was behind another tab is drawn: it is on screen

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.values = np.zeros((1, 1), np.float32)  # (T, S) the map; pending rows hold zeros
        self.pending = np.zeros(1, bool)  # (T,) rows not computed yet
        self.levels = (-1.0, 0.0)  # log10 colour levels of the map
        self.rgba = np.zeros((1, 1, 4), np.uint8)
        self.col_tokens: list[str] = []
        self.source_columns = self.two_sided = False
        self.hidden_after: int | None = None  # the step after which the future is hidden, if it is
        self.average = logic.DistanceAverage(1, 1, False)
        self._kinds_seen: set[int] = set()
        self.draw_pending = False  # a trace taken while the panel was a hidden tab, drawn when shown
        self.controls = ControlRow()
        self.scale_box = self.controls.add("Bars", OptionCombo(self.selection, self.name, "scale"))
        self.scale_spin = self.controls.add("W_hh \u00d7", recurrent_scale_box())
        self.controls.finish()
        self.progress = ProgressLabel()
        self.controls.add("", self.progress)
        self.controls.set_shown(self.progress, False)
        self._build_map()
        self._build_side()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.map_canvas)
        self.splitter.addWidget(self.side)
        self.splitter.setSizes([500, 400])
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self.splitter, 1)
        self.scale_box.valueChanged.connect(self._on_scale_changed)
        self.scale_spin.valueChanged.connect(self._on_recurrent_scale_edited)
        self.selection.optionChanged.connect(self._on_option_changed)
        self.cursor.stepChanged.connect(self._on_step_changed)
        theme_notifier.themeChanged.connect(self.apply_theme)
        theme_notifier.strokesChanged.connect(self.apply_strokes)
        self.apply_theme(current_theme())

    def _build_map(self) -> None:
        self.map_canvas = PlotCanvas()
        self.map = GradientMap()
        self.map.plot.setTitle("influence of input s on y<sub>t</sub>")
        self.map_canvas.addItem(self.map.plot, 0, 0)
        self.legend = MapLegend()
        self.map_canvas.addItem(self.legend, 0, 1)
        self.map_canvas.add_hover_source(self._map_text_at)
        self.map_canvas.scene().sigMouseClicked.connect(self._on_map_clicked)

    def _build_side(self) -> None:
        """The step's bars over its tinted tokens, above the mean influence by distance."""
        self.step_bars, self.distance = StepBars(), DistancePlot()
        self.step_bars.canvas.add_hover_source(self._bar_text_at)
        self.distance.canvas.add_hover_source(self._dist_text_at)
        self.tokens = TokenTints()
        self.tokens.describe = lambda s: self.describe(self.cursor.step, s)
        top = QWidget()
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.step_bars.canvas, 1)
        column.addWidget(self.tokens)
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.addWidget(top)
        self.side.addWidget(self.distance.canvas)
        self.side.setSizes([300, 250])

    # Trace -------------------------------------------------------------------------------------
    def applies_to(self, trace: Trace) -> str | None:
        if ARRAY in trace or "hidden" in trace:  # without the array, the window computes the rows
            return None
        return "This trace has no input gradients (trace it with gradients=True)."

    def show_trace(self, trace: Trace) -> None:
        """Take the trace's map (or room for the rows to come); draw it now, or, in a tab behind
        another of a window on screen, when the panel comes on screen (drawing a T = 1,000 map, its
        colours, chips and ranges took ~100 ms of every new trace that nobody saw)."""
        given = trace.get(ARRAY)
        if given is not None:
            self.values, self.pending = given, np.zeros(given.shape[0], bool)
        else:
            cols = (
                len(trace.source_tokens) if logic.has_source_columns(trace, len(trace.source_tokens)) else 0
            )
            self.values = np.zeros((trace.num_steps, cols or trace.num_steps), np.float32)
            self.pending = np.ones(trace.num_steps, bool)
        self.draw_pending = not self._on_screen()
        if not self.draw_pending:
            self._draw(trace)

    def _on_screen(self) -> bool:
        """False for a tab behind another: Qt moves such a dock out of sight (it stays 'visible', gets
        no show event) and paints it when its tab comes to the front. A window not shown yet (a
        script, a test, a picture being prepared) counts as on screen: its panels draw as before."""
        return not self.window().isVisible() or not self.visibleRegion().isEmpty()

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.draw_pending and self._on_screen():  # brought to the front: draw after this paint
            QTimer.singleShot(0, self._draw_held_back)  # (Qt paints out-of-sight tabs too)

    def _draw_held_back(self) -> None:
        trace = self.trace
        if self.draw_pending and self._on_screen() and trace is not None and self.applies_to(trace) is None:
            self._draw(trace)
            self.drawn.emit()

    def _draw(self, trace: Trace) -> None:
        """Build the views for `trace` from the map taken (`self.values`, rows that came meanwhile)."""
        self.draw_pending = False
        given = trace.get(ARRAY)
        rows, cols = self.values.shape
        self.source_columns = logic.has_source_columns(trace, cols)
        self.two_sided = logic.reads_both_ways(trace, cols)
        tokens = trace.source_tokens if self.source_columns else trace.tokens
        self.col_tokens = tokens if len(tokens) == cols else [str(i + 1) for i in range(cols)]
        self.average = logic.DistanceAverage(rows, cols, self.two_sided)
        done = np.flatnonzero(~self.pending)
        self.average.add_rows(done, self.values[done])
        self._kinds_seen = set(np.unique(logic.cell_kinds(self.values[done])).tolist())
        self.scale_box.set_choices([logic.LOG, logic.LINEAR], ["Log", "Linear"], default=logic.LOG)
        self.controls.set_shown(self.scale_spin, trace.is_recurrent)
        self._read_recurrent_scale()
        self.controls.set_shown(self.progress, False)
        note = logic.note_text(trace, cols)
        self.controls.note.setText(
            note + (" \u00b7 rows appear as they are computed" if given is None else "")
        )
        x_label = "source position s" if self.source_columns else "input s"
        self.map.set_data(self._colours(), trace.tokens, self.col_tokens, x_label)
        self.step_bars.axis.set_tokens(self.col_tokens)
        self.tokens.set_tokens(self.col_tokens)
        self.tokens.anchor = 0.5 if self.two_sided else 0.8  # a causal step's inputs lie before it
        self.step_bars.step_line.setVisible(not self.source_columns)
        self.distance.set_sides(self.two_sided)
        self._ready = True
        self._update_ranges()
        self._update_distance()
        self._on_step_changed(self.cursor.step)

    def set_future_hidden(self, hidden: bool) -> None:
        if self._ready:  # the step's view reads the viewer's option
            self._on_step_changed(self.cursor.step)

    def splitters(self) -> dict:
        return {"main": self.splitter, "side": self.side}  # map | side; bars over distance

    @property
    def scale(self) -> str:
        return self.scale_box.value or logic.LOG

    def _colours(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The map's colours (all rows: new levels; else just `rows`, written into `self.rgba`)."""
        theme = current_theme()
        table, specials = plotting.lut(theme.sequential_cmap), special_colours(theme)
        if rows is None:
            done = self.values[~self.pending]
            self.levels = logic.decades(logic.log_range(done))
            self.rgba = logic.rgba_cells(self.values, self.levels, table, specials, self.pending)
        else:
            self.rgba[rows] = logic.rgba_cells(
                self.values[rows], self.levels, table, specials, self.pending[rows]
            )
        self._update_legend(theme)
        return self.rgba

    def _update_legend(self, theme: Theme) -> None:
        kinds = self._kinds_seen | ({PENDING} if self.pending.any() else set())
        specials = special_colours(theme)
        swatches = [(QColor(*specials[k]), label) for k, label in logic.legend_labels(kinds, self.two_sided)]
        self.legend.set_scale(theme.sequential_cmap, self.levels, swatches)

    def _update_ranges(self) -> None:
        """Value ranges of the bars and the distance plot from the computed rows (fixed while stepping)."""
        rows, cols = self.values.shape
        done = self.values[~self.pending]
        self.step_bars.set_range(done, cols, self.scale)
        self.distance.set_range(done, self.average.first, rows)

    def _update_distance(self) -> None:
        self.distance.show_average(self.average)

    # Rows from a background job ----------------------------------------------------------------
    def set_rows(self, rows: list[int], values: np.ndarray) -> None:
        """Fill map rows `rows` (0-based rows of input_gradient_norm: row r is step r + 1) with `values`
        (len(rows), S), computed by a background job for a trace without the array."""
        if not (self._ready or self.draw_pending):
            return
        rows = np.asarray(rows, np.intp).reshape(-1)
        values = np.asarray(values, np.float32)
        if values.shape != (rows.size, self.values.shape[1]):
            raise ValueError(
                f"expected values of shape {(rows.size, self.values.shape[1])}, got {values.shape}"
            )
        if rows.size and (rows.min() < 0 or rows.max() >= self.values.shape[0]):
            raise IndexError(f"rows must lie in 0..{self.values.shape[0] - 1}")
        if not self.values.flags.writeable:  # the trace's own array: never written to
            self.values = self.values.copy()
        self.values[rows] = values
        self.pending[rows] = False
        if not self._ready:  # kept for the drawing when the panel is shown
            return
        self.average.add_rows(rows, values)
        self._kinds_seen |= set(np.unique(logic.cell_kinds(values)).tolist())
        span = logic.log_range(values)
        if span is not None and (span[0] < self.levels[0] or span[1] > self.levels[1]):
            self.map.update_colours(self._colours())  # the colour scale widens: every row again
        else:
            self.map.update_colours(self._colours(rows))
        self._update_ranges()
        self._update_distance()
        self._on_step_changed(self.cursor.step)

    def set_progress(self, done: int, total: int, message: str | None = None) -> None:
        """'computing gradients: done / total rows' while a background job runs, hidden when done;
        `message` instead (e.g. why the job failed), shown until the next progress or trace."""
        self.progress.setText(message or logic.progress_text(done, total))
        self.controls.set_shown(self.progress, bool(message) or 0 <= done < total)

    # State -> view ------------------------------------------------------------------------------
    def _on_step_changed(self, step: int) -> None:
        if self.draw_pending and self._on_screen():  # e.g. a picture of this panel, just brought forward
            self._draw_held_back()
        if not self._ready:
            return
        step = min(max(step, 1), self.values.shape[0])
        r = step - 1
        self.map.set_step(step)
        # View › Hide the future: a causal model's later steps, their tokens too (the columns' when they
        # are the same steps, not an encoder-decoder's source)
        self.hidden_after = step if self.viewer.future_hidden and is_causal(self.trace) else None
        self.map.hide_after(self.hidden_after, not self.source_columns)
        row = None if self.pending[r] else self.values[r]
        shown_until = None if self.source_columns else self.hidden_after
        self.step_bars.show_row(row, step, self.scale, shown_until)
        self._tint_tokens(row, r)
        self.distance.show_row(row, r, self.two_sided)

    def _tint_tokens(self, row: np.ndarray | None, r: int) -> None:
        theme = current_theme()
        table, specials = plotting.lut(theme.sequential_cmap), special_colours(theme)
        cols = self.values.shape[1]
        pending = np.ones(cols, bool) if row is None else None  # a row not computed: every chip pending
        fills = logic.rgba_cells(
            row if row is not None else np.zeros(cols), self.levels, table, specials, pending
        )
        texts = [QColor(theme.foreground if row is None else logic.text_colour(c)) for c in fills.tolist()]
        current = None if self.source_columns else r
        focus = int(round(r * (cols - 1) / max(self.values.shape[0] - 1, 1))) if self.source_columns else r
        until = None if self.source_columns else self.hidden_after
        self.tokens.set_colours([QColor(*c) for c in fills.tolist()], texts, current, focus, until)

    def _on_scale_changed(self, _value: str) -> None:
        if self._ready:
            self._update_ranges()
            self._on_step_changed(self.cursor.step)

    def _read_recurrent_scale(self) -> None:
        try:
            value = float(self.selection.option(self.name, "recurrent_scale", "1"))
        except ValueError:
            value = 1.0
        with QSignalBlocker(self.scale_spin):
            self.scale_spin.setValue(value)

    def _on_option_changed(self, panel: str, key: str, _value: str) -> None:
        if (panel, key) == (self.name, "recurrent_scale"):
            self._read_recurrent_scale()

    # View -> state ------------------------------------------------------------------------------
    def _on_recurrent_scale_edited(self, value: float) -> None:
        self.selection.set_option(self.name, "recurrent_scale", f"{value:g}")

    def _on_map_clicked(self, event) -> None:
        cell = self.map.cell_at(event.scenePos()) if self._ready else None
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cursor.set_step(cell[0])

    # Hover --------------------------------------------------------------------------------------
    def describe(self, t: int, s: int) -> str:
        """Tooltip of cell (step t, column s), both 1-based: which tokens, the exact value."""
        row_token = display_token(self.trace.tokens[t - 1]) if t - 1 < len(self.trace.tokens) else ""
        kind = "source" if self.source_columns else "input"
        head = f"step {t} '{row_token}' \u2190 {kind} {s} '{display_token(self.col_tokens[s - 1])}'"
        causal_zero = not self.two_sided and s > t
        return f"{head}\n{logic.cell_text(self.values[t - 1, s - 1], self.pending[t - 1], causal_zero)}"

    def _map_text_at(self, scene_pos: QPointF) -> str | None:
        cell = self.map.cell_at(scene_pos) if self._ready else None
        return None if cell is None else self.describe(*cell)

    def _bar_text_at(self, scene_pos: QPointF) -> str | None:
        s = self.step_bars.column_at(scene_pos) if self._ready else None
        return None if s is None else self.describe(self.map.step, s)

    def _dist_text_at(self, scene_pos: QPointF) -> str | None:
        distance = self.distance.distance_at(scene_pos) if self._ready else None
        return None if distance is None else self.average.describe(distance)

    # Theme ----------------------------------------------------------------------------------------
    def apply_strokes(self, theme: Theme) -> None:
        """Pens only: while a picture is painted at a larger scale, and back."""
        self.map.apply_strokes(theme)
        self.step_bars.apply_strokes(theme)
        self.distance.apply_strokes(theme)
        self.map_canvas.scene().update()

    def apply_theme(self, theme: Theme) -> None:
        self.map_canvas.apply_theme(theme)
        self.map.apply_theme(theme)
        self.step_bars.apply_theme(theme)
        self.distance.apply_theme(theme)
        self.tokens.apply_theme(theme)
        self.legend.apply_theme(theme)
        self.apply_strokes(theme)
        if self._ready:
            self.map.update_colours(self._colours())
            self._on_step_changed(self.cursor.step)
