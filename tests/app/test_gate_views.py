"""Gates for a lesson: each gate's vector at the current word as bars, and a click on a gate's (or the
cell's) heatmap makes the Selected units panel follow that array."""

from __future__ import annotations

import numpy as np
import pytest
from traces import click, drawn_labels, gru_trace, lstm_trace, open_panel

from seqviz.app.panels.gates import GatesPanel
from seqviz.app.panels.units import UnitsPanel


@pytest.mark.parametrize("make", [lstm_trace, gru_trace])
def test_gate_bars_are_the_gate_vectors_at_the_current_word(qtbot, make):
    trace = make(T=9, num_layers=2, hidden_size=6, bidirectional=True)
    viewer, panel = open_panel(qtbot, GatesPanel, trace, size=(1100, 800))
    viewer.selection.set_layer(1)
    viewer.selection.set_direction(1)
    for step in (1, 4, 9):
        viewer.cursor.set_step(step)
        for name, bars in panel.shown_bars.items():
            np.testing.assert_array_equal(bars.values, trace[name][step - 1, 1, 1, :])
            assert bars.plot in panel.canvas.ci.items  # drawn beside the heatmap


def test_gate_bars_can_be_turned_off_and_the_choice_is_a_saved_option(qtbot):
    viewer, panel = open_panel(qtbot, GatesPanel, lstm_trace(T=6, hidden_size=4), size=(1100, 800))
    viewer.selection.set_option("gates", "bars", "off")
    assert panel.bars_box.value == "off"
    assert not any(bars.plot in panel.canvas.ci.items for bars in panel.bars)
    assert all(h.plot in panel.canvas.ci.items for h in panel.shown_heatmaps.values())
    panel.bars_box.setCurrentIndex(panel.bars_box.findData("on"))
    assert viewer.selection.options()["gates"]["bars"] == "on"
    assert all(bars.plot in panel.canvas.ci.items for bars in panel.shown_bars.values())


def test_the_bars_follow_the_layer_and_a_new_trace(qtbot):
    viewer, panel = open_panel(qtbot, GatesPanel, lstm_trace(T=6, num_layers=2, hidden_size=4))
    viewer.cursor.set_step(3)
    viewer.selection.set_layer(1)
    trace = panel.trace
    np.testing.assert_array_equal(panel.shown_bars["cell"].values, trace["cell"][2, 1, 0, :])
    wider = gru_trace(T=5, num_layers=1, hidden_size=7)  # the layer falls back to 1
    viewer.set_trace(wider)
    panel.set_trace(wider)
    np.testing.assert_array_equal(panel.shown_bars["update_gate"].values, wider["update_gate"][2, 0, 0, :])


@pytest.mark.parametrize("gate", ["cell", "forget_gate"])
def test_clicking_a_cell_or_gate_heatmap_follows_that_array(qtbot, gate):
    trace = lstm_trace(T=8, num_layers=1, hidden_size=5)
    viewer, gates = open_panel(qtbot, GatesPanel, trace, size=(1100, 800))
    _viewer, units = open_panel(qtbot, UnitsPanel, trace, viewer=viewer)
    assert units.array_name == "hidden"
    heatmap = gates.shown_heatmaps[gate]
    click(qtbot, gates.canvas, heatmap.plot, 6, 3.5)
    assert (viewer.cursor.step, viewer.selection.units) == (6, (3,))
    assert viewer.selection.option("units", "array") == gate
    assert units.array_name == gate
    np.testing.assert_array_equal(units.series, trace[gate][:, 0, 0, :])
    assert units.shown_units == (3,)


def test_several_arrays_of_one_unit_in_one_plot(qtbot):
    """f, i and o of unit 3 together: which gate opens when."""
    trace = lstm_trace(T=10, num_layers=2, hidden_size=5)
    viewer, units = open_panel(qtbot, UnitsPanel, trace)
    viewer.selection.set_layer(1)
    viewer.selection.set_units((3,))
    viewer.selection.set_option("units", "array", "forget_gate,input_gate,output_gate")
    assert units.array_box.currentText() == "f, i, o together"
    assert units.shown_curves == [("forget_gate", 3), ("input_gate", 3), ("output_gate", 3)]
    names = [units.legend.items[i][1].text for i in range(len(units.legend.items))]
    assert names == ["f \u00b7 unit 3", "i \u00b7 unit 3", "o \u00b7 unit 3"]
    for curve, (array, unit) in zip(units.curves, units.shown_curves, strict=True):
        np.testing.assert_array_equal(curve.getData()[1], trace[array][:, 1, 0, unit])
    assert units.plot.titleLabel.text.startswith("f, i, o together")
    offered = [units.array_box.itemData(i) for i in range(units.array_box.count())]
    assert "forget_gate,input_gate,output_gate,cell" in offered
    # a click on a gate's heatmap keeps a group that holds that gate
    viewer2, gates = open_panel(qtbot, GatesPanel, trace, size=(1100, 800), viewer=viewer)
    click(qtbot, gates.canvas, gates.shown_heatmaps["input_gate"].plot, 4, 1.5)
    assert viewer.selection.option("units", "array") == "forget_gate,input_gate,output_gate"
    assert units.shown_curves == [("forget_gate", 1), ("input_gate", 1), ("output_gate", 1)]


def test_the_bars_of_gates_one_model_lacks_follow_a_theme_change(qtbot, theme):
    """A GRU shown while the theme changed, then an LSTM: its candidate and cell bars (made for the
    LSTM, idle during the GRU) are in the new theme, as a reopened scene draws them."""
    viewer, panel = open_panel(qtbot, GatesPanel, lstm_trace(T=6, hidden_size=4))
    gru = gru_trace(T=6, hidden_size=4)
    viewer.set_trace(gru)
    panel.set_trace(gru)
    new = theme("presentation")
    lstm = lstm_trace(T=6, hidden_size=4)
    viewer.set_trace(lstm)
    panel.set_trace(lstm)
    for bars in panel.shown_bars.values():
        font = bars.plot.getAxis("bottom").style["tickFont"]
        assert font.pointSizeF() == pytest.approx(new.font_size * 0.9)


@pytest.mark.parametrize("width", [64, 80, 100, 200])
def test_a_narrow_bar_plot_numbers_both_ends_of_its_axis(qtbot, width):
    """The cell state's bars at 1024x640 (~55 px) showed only "13.1" of "-13.1 0 13.1"."""
    import pyqtgraph as pg

    from seqviz.app.panels.gate_bars import GateBars

    canvas = pg.GraphicsLayoutWidget()
    qtbot.addWidget(canvas)
    bars = GateBars()
    canvas.addItem(bars.plot)
    canvas.resize(width, 200)
    canvas.show()
    qtbot.waitExposed(canvas)
    bars.set_scale(6, (-13.1, 13.1), True, "viridis")
    qtbot.waitUntil(lambda: bars.plot.getAxis("bottom").width() > 0)
    labels = drawn_labels(bars.plot.getAxis("bottom"))
    numbers = [float(text.replace("\u2212", "-")) for text in labels]
    assert min(numbers) < 0 < max(numbers), labels  # both ends, whatever the width
    ticks = bars.plot.getAxis("bottom").seqviz_ticks[0]
    assert all(float(text) == pytest.approx(value) for value, text in ticks)  # a number is where it is
    if width >= 200:
        assert labels == ["-13.1", "0", "13.1"]


def test_value_ticks_shorten_towards_zero_keeping_both_ends():
    from seqviz.app.panels.gate_bars import value_ticks

    sets = value_ticks(-13.1, 13.1)
    assert [[t for _, t in s] for s in sets] == [
        ["-13.1", "0", "13.1"],
        ["-13.1", "13.1"],
        ["-13", "13"],
        ["-10", "10"],
    ]
    assert [[t for _, t in s] for s in value_ticks(0.0, 1.0)][-1] == ["0", "1"]
    assert [[t for _, t in s] for s in value_ticks(-8.13, 8.13, 0.0)][0] == ["-8.13", "0", "8.13"]


def test_the_hidden_state_bars_of_a_narrow_panel_number_both_ends(qtbot):
    from seqviz.app.panels.hidden import HiddenPanel

    trace = lstm_trace(T=6, hidden_size=8)
    viewer, panel = open_panel(qtbot, HiddenPanel, trace, size=(330, 300))
    labels = drawn_labels(panel.bars_plot.getAxis("bottom"))
    numbers = [float(text.replace("\u2212", "-")) for text in labels]
    assert min(numbers) < 0 < max(numbers), labels
