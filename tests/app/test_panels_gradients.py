"""Gradient flow panel: what it draws equals input_gradient_norm — bars = the step's row, the map's
colours = log10 of the array, the distance curve = the average — and zeros, NaN, inf, partial maps,
models that read both ways and source columns are drawn and labelled as such."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from traces import (
    click,
    encoder_decoder_trace,
    hover,
    lstm_trace,
    open_panel,
    rnn_trace,
    shown,
    transformer_trace,
)

from seqviz.app import MainWindow, export
from seqviz.app.export import pictures
from seqviz.app.panels import gradient_logic as logic
from seqviz.app.panels import plotting
from seqviz.app.panels.gradient_logic import INF, NAN, PENDING, ZERO
from seqviz.app.panels.gradients import GradientPanel, special_colours
from seqviz.app.window.theme import THEMES, current_theme
from seqviz.core.trace import Trace


def causal_map(T: int, seed: int = 0, cols: int | None = None) -> np.ndarray:
    """(T, S) norms over eight decades, exact zeros above the diagonal (when S = T)."""
    rng = np.random.default_rng(seed)
    values = 10.0 ** rng.uniform(-7, 1, (T, cols or T))
    if cols is None:
        values = np.where(np.triu(np.ones((T, T), bool), k=1), 0.0, values)
    return values.astype(np.float32)


def with_gradients(trace: Trace, values: np.ndarray) -> Trace:
    arrays = dict(trace)
    arrays["input_gradient_norm"] = values
    return Trace(arrays, tokens=trace.tokens, meta=trace.meta, source_tokens=trace.source_tokens)


def bar_tops(panel: GradientPanel) -> np.ndarray:
    """The top of every ordinary bar, in plot coordinates (log10 on the log scale)."""
    opts = panel.step_bars.bars.opts
    return opts["y0"] + opts["height"]


@pytest.fixture
def causal():
    return with_gradients(rnn_trace(T=12), causal_map(12))


def test_bars_are_the_current_row_on_a_log_scale(qtbot, causal):
    viewer, panel = open_panel(qtbot, GradientPanel, causal)
    values = causal["input_gradient_norm"]
    for step in (12, 5, 1):
        viewer.cursor.set_step(step)
        row = values[step - 1]
        seen = row > 0
        np.testing.assert_allclose(bar_tops(panel)[seen], np.log10(row[seen]), rtol=1e-6, atol=1e-6)
        assert (panel.step_bars.bars.opts["height"][~seen] == 0).all()  # the causal future: no bar at all
        assert panel.step_bars.step_line.value() == step
    assert panel.step_bars.left.log_labels and panel.scale == "log"
    lo, hi = panel.step_bars.plot.getViewBox().viewRange()[1]
    assert lo <= np.log10(values[values > 0].min()) and hi >= np.log10(values.max())


def test_map_colours_are_log10_of_the_array(qtbot, causal):
    viewer, panel = open_panel(qtbot, GradientPanel, causal)
    values = causal["input_gradient_norm"]
    logs = np.log10(values[values > 0])
    assert panel.levels == (np.floor(logs.min()), np.ceil(logs.max()))
    table = plotting.lut(current_theme().sequential_cmap)
    image = panel.map.image.image
    assert image.shape == (12, 12, 4)
    lo, hi = panel.levels
    for t, s in [(11, 0), (6, 3), (3, 3), (0, 0)]:
        index = round((np.log10(values[t, s]) - lo) / (hi - lo) * 255)
        assert tuple(image[t, s, :3]) == tuple(table[index])
    zero = plotting.color(current_theme().masked_cell).getRgb()
    assert tuple(image[0, 5]) == zero and tuple(image[3, 11]) == zero  # causal zeros: grey, not a colour
    swatches = [label for _colour, label in panel.legend.swatches]
    assert swatches == ["0 (cannot see)"]


def test_distance_curve_is_the_average_over_the_text(qtbot, causal):
    viewer, panel = open_panel(qtbot, GradientPanel, causal)
    values = causal["input_gradient_norm"].astype(np.float64)
    x, y = panel.distance.curve.getData()
    assert x.tolist() == list(range(12))  # causal: distances 0..T-1 only
    expected = [np.mean(np.diagonal(values, offset=-d)) for d in range(12)]
    np.testing.assert_allclose(10.0**y, expected, rtol=1e-5)
    viewer.cursor.set_step(7)
    d, v = panel.distance.row.getData()
    assert d.tolist() == list(range(6, -1, -1))  # the step's own row, by distance
    np.testing.assert_allclose(10.0**v, values[6, :7], rtol=1e-5)


def test_a_step_moves_the_row_and_swaps_data_never_rebuilds(qtbot, causal):
    viewer, panel = open_panel(qtbot, GradientPanel, causal)
    image = panel.map.image.image
    items = [len(p.items) for p in (panel.map.plot, panel.step_bars.plot, panel.distance.plot)]
    curve = panel.distance.curve.getData()[1].copy()
    viewer.cursor.set_step(4)
    assert panel.map.image.image is image  # the map was not uploaded again
    assert panel.map.row_marker.rect().center().y() == 4
    assert [len(p.items) for p in (panel.map.plot, panel.step_bars.plot, panel.distance.plot)] == items
    np.testing.assert_array_equal(panel.distance.curve.getData()[1], curve)
    assert panel.tokens.current == 3 and panel.tokens.fills[5] == plotting.color(current_theme().masked_cell)


def test_click_on_the_map_goes_to_that_step(qtbot, causal):
    viewer, panel = open_panel(qtbot, GradientPanel, causal)
    qtbot.wait(20)  # the axes fit their tick labels on the first paint
    with qtbot.waitSignal(viewer.cursor.stepChanged):
        click(qtbot, panel.map_canvas, panel.map.plot, 2, 6)
    assert viewer.cursor.step == 6


def test_hover_gives_exact_values_and_explains_zeros(qtbot, causal):
    viewer, panel = open_panel(qtbot, GradientPanel, causal)
    qtbot.wait(20)  # the axes fit their tick labels on the first paint
    value = causal["input_gradient_norm"][8, 2]
    text = hover(qtbot, panel.map_canvas, panel.map.plot, 3, 9)
    assert "step 9" in text and "input 3" in text and logic.format_value(value) in text
    zero = panel.describe(3, 7)
    assert "= 0 (causal" in zero and "e-" not in zero  # no floor value for an exact zero
    viewer.cursor.set_step(9)
    assert logic.format_value(value) in hover(qtbot, panel.step_bars.canvas, panel.step_bars.plot, 3, -3)
    assert logic.format_value(value) in panel.tokens.describe(3)


def test_log_linear_option_round_trips_through_the_selection(qtbot, causal):
    viewer, panel = open_panel(qtbot, GradientPanel, causal)
    assert viewer.selection.option("gradients", "scale") == "log"
    viewer.selection.set_option("gradients", "scale", "linear")
    assert panel.scale_box.currentData() == "linear" and not panel.step_bars.left.log_labels
    row = causal["input_gradient_norm"][-1]
    np.testing.assert_allclose(panel.step_bars.bars.opts["height"], row, rtol=1e-6)
    assert panel.step_bars.bars.opts["y0"] == 0.0
    panel.scale_box.setCurrentIndex(panel.scale_box.findData("log"))
    assert viewer.selection.option("gradients", "scale") == "log" and panel.step_bars.left.log_labels
    viewer.selection.set_option("gradients", "scale", "linear")  # a scene opened on another model
    _, fresh = open_panel(qtbot, GradientPanel, causal, viewer=viewer)
    assert fresh.scale == "linear"


def test_zeros_nan_and_inf_are_drawn_and_labelled_without_crashing(qtbot):
    values = causal_map(10)
    values[9, 0], values[9, 4], values[5, 1] = np.inf, np.nan, np.nan
    trace = with_gradients(rnn_trace(T=10), values)
    viewer, panel = open_panel(qtbot, GradientPanel, trace)
    assert [text for _x, _y, text, _c in panel.step_bars.marks.entries] == ["inf", "NaN"]
    assert [x for x, _y, _t, _c in panel.step_bars.marks.entries] == [1, 5]
    assert panel.step_bars.inf_bars.opts["height"][0] > 0 and panel.step_bars.bars.opts["height"][
        [0, 4]
    ].tolist() == [0, 0]
    image = panel.map.image.image
    assert tuple(image[9, 0]) != tuple(image[9, 4])  # inf and NaN in their own colours
    assert [label for _c, label in panel.legend.swatches] == ["0 (cannot see)", "NaN", "inf"]
    assert "= inf" in panel.describe(10, 1) and "= NaN" in panel.describe(10, 5)
    for plot in (panel.step_bars.plot, panel.distance.plot):
        assert np.isfinite(plot.getViewBox().viewRange()).all()
    assert panel.average.left_out == 3
    panel.grab()  # paints every plot
    viewer.selection.set_option("gradients", "scale", "linear")
    assert np.isfinite(panel.step_bars.plot.getViewBox().viewRange()).all()
    assert [text for _x, _y, text, _c in panel.step_bars.marks.entries] == ["inf", "NaN"]
    panel.grab()


@pytest.mark.parametrize("fill", [np.nan, np.inf, 0.0])
def test_a_map_without_one_finite_value_still_draws(qtbot, fill):
    trace = with_gradients(lstm_trace(T=6), np.full((6, 6), fill, np.float32))
    viewer, panel = open_panel(qtbot, GradientPanel, trace)
    for step in range(1, 7):
        viewer.cursor.set_step(step)
    panel.grab()
    assert np.isfinite(panel.step_bars.plot.getViewBox().viewRange()).all()
    assert (
        panel.distance.curve.getData()[0] is None or not np.isfinite(panel.distance.curve.getData()[1]).any()
    )


def test_rows_arrive_from_a_background_job(qtbot):
    trace = lstm_trace(T=8)
    viewer, panel = open_panel(qtbot, GradientPanel, trace)
    assert panel.message is None and panel.pending.all()
    assert "not computed yet" in panel.describe(8, 2) and panel.step_bars.pending_text.isVisible()
    background = QColor(*special_colours(current_theme())[PENDING])
    assert panel.tokens.fills == [background] * 8  # no colour-map colour for a row not computed
    assert "not computed" in [label for _c, label in panel.legend.swatches]
    values = causal_map(8)
    panel.set_progress(2, 8)
    assert panel.progress.text() == "computing gradients: 2 / 8 rows" and not panel.progress.isHidden()
    size = panel.progress.size()
    panel.set_progress(3, 8)  # progress repaints the label: no layout of the window
    assert panel.progress.size() == size and panel.progress.minimumSize() == panel.progress.maximumSize()
    panel.set_rows([7, 2], values[[7, 2]])
    assert panel.pending.tolist() == [True, True, False, True, True, True, True, False]
    np.testing.assert_allclose(bar_tops(panel)[values[7] > 0], np.log10(values[7][values[7] > 0]), rtol=1e-6)
    assert not panel.step_bars.pending_text.isVisible()
    image = panel.map.image.image
    pending_colour = special_colours(current_theme())[PENDING]
    assert tuple(image[0, 0]) == pending_colour and tuple(image[2, 0]) != pending_colour
    assert "not computed yet" in panel.describe(1, 1) and logic.format_value(values[2, 1]) in panel.describe(
        3, 2
    )
    expected = [np.mean([values[r, r - d] for r in (2, 7) if r - d >= 0]) for d in range(8)]
    x, y = panel.distance.curve.getData()
    np.testing.assert_allclose(10.0 ** y[:3], expected[:3], rtol=1e-5)
    nan_row = np.full((1, 8), np.nan, np.float32)
    panel.set_rows([0], nan_row)  # NaN is drawn as NaN, not as "not computed yet"
    assert tuple(panel.map.image.image[0, 0]) == special_colours(current_theme())[NAN]
    assert "= NaN" in panel.describe(1, 1)
    panel.set_rows(list(range(8)), values)
    panel.set_progress(8, 8)
    assert panel.progress.isHidden() and not panel.pending.any()
    panel.set_progress(0, 0, "gradients failed: out of memory")  # the job's failure, said in place
    assert panel.progress.text() == "gradients failed: out of memory" and not panel.progress.isHidden()
    np.testing.assert_array_equal(panel.map.image.image[..., 3], 255)
    assert "not computed" not in [label for _c, label in panel.legend.swatches]
    with pytest.raises(ValueError, match="shape"):
        panel.set_rows([1], values[:2])


def test_a_trace_with_the_array_is_shown_whole(qtbot, causal):
    viewer, panel = open_panel(qtbot, GradientPanel, causal)
    assert not panel.pending.any() and panel.progress.isHidden()
    assert "rows appear" not in panel.controls.note.text()


def test_a_trace_without_gradients_or_hidden_states_says_so(qtbot):
    trace = Trace({"probs": np.full((3, 2), 0.5, np.float32)}, tokens=list("abc"), meta={"task": "lm"})
    _, panel = open_panel(qtbot, GradientPanel, trace)
    assert "gradients=True" in panel.message


def test_models_that_read_both_ways_show_both_sides(qtbot):
    values = (10.0 ** np.random.default_rng(1).uniform(-5, 0, (9, 9))).astype(np.float32)
    trace = with_gradients(lstm_trace(T=9, bidirectional=True), values)
    viewer, panel = open_panel(qtbot, GradientPanel, trace)
    assert "reads both ways" in panel.controls.note.text()
    x, y = panel.distance.curve.getData()
    assert x.tolist() == list(range(-8, 9)) and panel.distance.zero_line.isVisible()
    later = [np.mean(np.diagonal(values, offset=2))]  # d = -2: the token two steps later
    np.testing.assert_allclose(10.0 ** y[x.tolist().index(-2)], later, rtol=1e-5)
    assert "t \u2212 s (negative: later tokens)" in panel.distance.plot.getAxis("bottom").labelText
    encoder = with_gradients(transformer_trace(T=9, causal=False), values)
    _, panel = open_panel(qtbot, GradientPanel, encoder)
    assert "reads both ways" in panel.controls.note.text() and panel.scale_spin.isHidden()


def test_seq2seq_columns_are_the_source_words(qtbot):
    base = encoder_decoder_trace(T=5, S=7)
    trace = with_gradients(base, causal_map(5, cols=7))
    viewer, panel = open_panel(qtbot, GradientPanel, trace)
    shown = [plotting.display_token(t) for t in base.source_tokens]
    assert panel.col_tokens == base.source_tokens and panel.map.x_axis._tokens == shown
    assert panel.step_bars.axis._tokens == shown and panel.tokens.labels == [t[:8] for t in shown]
    assert "source 3" in panel.describe(2, 3) and "source" in panel.controls.note.text()
    assert panel.distance.curve.getData()[0].tolist() == list(range(-6, 5))
    assert not panel.step_bars.step_line.isVisible()  # the step is an output position, not a source one
    without = encoder_decoder_trace(T=5, S=7)  # the window computes its rows: S source columns
    _, waiting = open_panel(qtbot, GradientPanel, without)
    assert waiting.values.shape == (5, 7) and waiting.pending.all()


def test_gradient_target_note(qtbot):
    base = lstm_trace(T=5)
    trace = Trace(
        {**base, "input_gradient_norm": causal_map(5)},
        tokens=base.tokens,
        meta=base.meta.replace(gradient_target="log p(next token)"),
    )
    _, panel = open_panel(qtbot, GradientPanel, trace)
    assert panel.controls.note.text().startswith("y_t = log p(next token)")


def test_recurrent_scale_control(qtbot):
    viewer, panel = open_panel(qtbot, GradientPanel, lstm_trace(T=5))
    spin = panel.scale_spin
    assert not spin.isHidden() and spin.value() == 1.0
    assert (spin.minimum(), spin.maximum(), spin.singleStep()) == (
        0.5,
        3.0,
        pytest.approx(0.1),
    )  # 3: a tanh RNN explodes from ~2.5
    assert "W_hh" in spin.toolTip() and viewer.selection.option("gradients", "recurrent_scale") is None
    changes = []
    viewer.selection.optionChanged.connect(lambda *args: changes.append(args))
    spin.setValue(1.5)
    assert viewer.selection.option("gradients", "recurrent_scale") == "1.5"
    viewer.selection.set_option("gradients", "recurrent_scale", "0.7")  # a scene
    assert spin.value() == pytest.approx(0.7)
    assert changes == [("gradients", "recurrent_scale", "1.5"), ("gradients", "recurrent_scale", "0.7")]
    _, fresh = open_panel(qtbot, GradientPanel, lstm_trace(T=5), viewer=viewer)
    assert fresh.scale_spin.value() == pytest.approx(0.7)
    _, transformer = open_panel(qtbot, GradientPanel, transformer_trace(T=5))
    assert transformer.scale_spin.isHidden()


def test_theme_switch_recolours_the_map(qtbot, theme, causal):
    viewer, panel = open_panel(qtbot, GradientPanel, causal)
    theme("dark")
    QApplication.processEvents()
    dark_zero = plotting.color(THEMES["dark"].masked_cell).getRgb()
    assert tuple(panel.map.image.image[0, 5]) == dark_zero
    assert panel.map_canvas.backgroundBrush().color().name() == THEMES["dark"].background
    assert panel.tokens.background.name() == THEMES["dark"].background
    theme("light")
    assert tuple(panel.map.image.image[0, 5]) == plotting.color(THEMES["light"].masked_cell).getRgb()


def test_special_colours_differ_from_each_other_in_every_theme():
    for theme in THEMES.values():
        colours = special_colours(theme)
        assert len({colours[k] for k in (ZERO, NAN, INF, PENDING)}) == 4


def test_a_picture_of_the_panel_from_the_window(qtbot, dialog_log, causal):
    window = shown(qtbot, MainWindow(), (1400, 860))
    window.show_trace(causal)
    window.set_step(6)
    panel = pictures.picture_target(window, "gradients")
    assert panel is window.panels["gradients"] and panel.message is None
    image = pictures._rgb(export.render_picture(panel, QSize(900, 600)))
    assert image.shape == (600, 900, 3)
    colours = {tuple(c) for c in image.reshape(-1, 3)[::7].tolist()}
    assert plotting.color(current_theme().masked_cell).getRgb()[:3] in colours  # the causal zeros
    assert panel.map.row_marker.rect().center().y() == 6
