"""Selected units panel: one curve per picked unit, cursor, array choice, clicks and hover."""

import numpy as np
from traces import click, gru_trace, hover, lstm_trace, open_panel

from seqviz.app.panels.units import UnitsPanel


def curve_data(panel):
    return {c.name(): c.getOriginalDataset()[1] for c in panel.curves}


def test_curves_follow_the_selected_units_layer_and_direction(qtbot):
    trace = lstm_trace(T=15, num_layers=2, hidden_size=6, bidirectional=True)
    viewer, panel = open_panel(qtbot, UnitsPanel, trace)
    assert panel.showing_default and not panel.hint.isHidden()
    viewer.selection.set_units((1, 4))
    assert panel.hint.isHidden()
    data = curve_data(panel)
    np.testing.assert_array_equal(data["unit 1"], trace["hidden"][:, 0, 0, 1])
    np.testing.assert_array_equal(data["unit 4"], trace["hidden"][:, 0, 0, 4])
    viewer.selection.set_layer(1)
    viewer.selection.set_direction(1)
    np.testing.assert_array_equal(curve_data(panel)["unit 4"], trace["hidden"][:, 1, 1, 4])
    assert "layer 2, backward" in panel.plot.titleLabel.text


def test_array_choice_shows_gates_and_cell(qtbot):
    trace = lstm_trace(T=10, hidden_size=4)
    viewer, panel = open_panel(qtbot, UnitsPanel, trace)
    names = [panel.array_box.itemText(i) for i in range(panel.array_box.count())]  # as the box shows them
    assert names[:6] == [
        "hidden state h",
        "cell state c",
        "input gate i",
        "forget gate f",
        "output gate o",
        "candidate g",
    ]
    assert panel.array_box.values[:6] == [
        "hidden",
        "cell",
        "input_gate",
        "forget_gate",
        "output_gate",
        "candidate",
    ]
    viewer.selection.set_units((2,))
    panel.array_box.setCurrentText("forget gate f")
    assert viewer.selection.option("units", "array") == "forget_gate"  # scenes keep the array's name
    np.testing.assert_array_equal(curve_data(panel)["unit 2"], trace["forget_gate"][:, 0, 0, 2])
    assert panel.plot.titleLabel.text.startswith("forget gate f")


def test_a_gru_candidate_is_named_as_in_its_equation(qtbot):
    viewer, panel = open_panel(qtbot, UnitsPanel, gru_trace(T=6, hidden_size=4))
    labels = dict(zip(panel.array_box.values, (panel.array_box.itemText(i) for i in range(6)), strict=False))
    assert labels["candidate"] == "candidate n" and labels["update_gate"] == "update gate z"


def test_cursor_and_future_follow_the_step(qtbot):
    trace = lstm_trace(T=10, hidden_size=4)
    viewer, panel = open_panel(qtbot, UnitsPanel, trace)
    viewer.selection.set_units((0,))
    viewer.cursor.set_step(3)
    assert panel.step_line.value() == 3
    assert panel.mask.isVisible()
    # the line ends at the step: its segment towards step 4 is the future
    assert (panel.mask.rect().left(), panel.mask.rect().right()) == (3.0, 10.5)


def test_click_sets_step_and_hover_gives_values(qtbot):
    trace = lstm_trace(T=10, hidden_size=4)
    viewer, panel = open_panel(qtbot, UnitsPanel, trace)
    viewer.selection.set_units((0, 3))
    with qtbot.waitSignal(viewer.cursor.stepChanged):
        click(qtbot, panel.canvas, panel.plot, 6, 0.0)
    assert viewer.cursor.step == 6
    text = hover(qtbot, panel.canvas, panel.plot, 8, 0.0)
    assert "step 8" in text
    assert f"unit 3: {trace['hidden'][7, 0, 0, 3]:.5f}" in text


def test_units_beyond_the_layer_width_are_ignored_and_clear_empties(qtbot):
    trace = lstm_trace(T=6, hidden_size=4)
    viewer, panel = open_panel(qtbot, UnitsPanel, trace)
    viewer.selection.set_units((2, 40))
    assert panel.shown_units == (2,)
    panel.clear_button.click()
    assert viewer.selection.units == () and panel.showing_default and len(panel.curves) == 1


def most_varying(trace, layer=0, direction=0) -> int:
    return int(np.argmax(trace["hidden"][:, layer, direction, :].var(axis=0)))


def test_before_any_pick_the_most_varying_unit_is_shown(qtbot):
    """A lecture picture never shows an empty plot: with nothing picked, the hidden unit of the layer
    that varies most over time is drawn, and the hint says so and how to pick another."""
    trace = lstm_trace(T=20, num_layers=2, hidden_size=8)
    viewer, panel = open_panel(qtbot, UnitsPanel, trace)
    unit = most_varying(trace)
    assert panel.shown_units == (unit,) and list(curve_data(panel)) == [f"unit {unit}"]
    np.testing.assert_array_equal(curve_data(panel)[f"unit {unit}"], trace["hidden"][:, 0, 0, unit])
    assert f"unit {unit}" in panel.hint.text() and "Click a cell" in panel.hint.text()
    assert not panel.hint.isHidden()
    viewer.selection.set_layer(1)
    assert panel.shown_units == (most_varying(trace, layer=1),)
    viewer.selection.set_units((3,))
    assert panel.shown_units == (3,) and panel.hint.isHidden() and not panel.showing_default


def test_the_legend_shows_only_where_it_fits_inside_the_plot(qtbot):
    """A short panel (the bottom row at 1024x640) drew the legend over the step axis, cut off."""
    viewer, panel = open_panel(qtbot, UnitsPanel, lstm_trace(T=10, hidden_size=8), size=(700, 400))
    viewer.selection.set_units((1, 2, 3))
    assert panel.legend.isVisible()
    panel.resize(700, 170)
    qtbot.waitUntil(lambda: not panel.legend.isVisible())
    room = panel.plot.getViewBox().boundingRect()
    assert room.height() < panel.legend.boundingRect().height() + 12
    panel.resize(700, 400)
    qtbot.waitUntil(lambda: panel.legend.isVisible())
