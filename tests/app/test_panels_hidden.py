"""Hidden state panel: heatmap of the chosen layer/direction, cursor, reveal, bars, clicks and hover."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from traces import click, hover, lstm_trace, open_panel, rnn_trace, transformer_trace

from seqviz.app.panels.hidden import HiddenPanel


@pytest.fixture
def lstm():
    return lstm_trace(T=12, num_layers=2, hidden_size=8, bidirectional=True)


def test_heatmap_shows_the_selected_layer_and_direction(qtbot, lstm):
    viewer, panel = open_panel(qtbot, HiddenPanel, lstm)
    viewer.selection.set_layer(1)
    viewer.selection.set_direction(1)
    np.testing.assert_array_equal(panel.heatmap.image.image, lstm["hidden"][:, 1, 1, :].T)
    assert panel.heatmap.image.image.flags.c_contiguous
    assert panel.heatmap.image.image.dtype == np.float32
    assert panel.heatmap.image.getLevels() == pytest.approx((-1.0, 1.0))
    assert "layer 2, backward" in panel.heatmap.plot.titleLabel.text
    assert panel.layer_box.currentIndex() == 1 and panel.direction_box.currentIndex() == 1


def test_step_moves_cursor_covers_future_and_sets_bars(qtbot):
    trace = lstm_trace(T=12, num_layers=2, hidden_size=8)
    viewer, panel = open_panel(qtbot, HiddenPanel, trace)
    viewer.selection.set_layer(1)
    viewer.cursor.set_step(5)
    assert panel.heatmap.cursor.value() == 5
    mask = panel.heatmap.mask
    assert mask.isVisible()
    assert (mask.rect().left(), mask.rect().width(), mask.rect().height()) == (5.5, 7, 8)
    np.testing.assert_allclose(panel.bar_values, trace["hidden"][4, 1, 0], atol=1e-7)
    viewer.cursor.set_step(12)
    assert not mask.isVisible()
    np.testing.assert_allclose(panel.bar_values, trace["hidden"][11, 1, 0], atol=1e-7)


def test_bidirectional_model_shows_everything_and_says_so(qtbot, lstm):
    viewer, panel = open_panel(qtbot, HiddenPanel, lstm)
    viewer.cursor.set_step(3)
    assert not panel.heatmap.mask.isVisible()
    assert "reads the whole input at once" in panel.controls.note.text()
    assert not panel.direction_box.isHidden()


def test_unbounded_values_get_symmetric_levels_and_a_note(qtbot):
    trace = rnn_trace(T=10, relu=True)
    viewer, panel = open_panel(qtbot, HiddenPanel, trace)
    m = float(np.abs(trace["hidden"][:, 0, 0]).max())
    assert m > 1
    assert panel.heatmap.image.getLevels() == pytest.approx((-m, m))
    assert "exceed" in panel.controls.note.text()
    assert panel.direction_box.isHidden()


def test_transformer_hidden_is_each_layers_output(qtbot):
    trace = transformer_trace(T=8)
    viewer, panel = open_panel(qtbot, HiddenPanel, trace)
    np.testing.assert_array_equal(panel.heatmap.image.image, trace["hidden"][:, 0, 0, :].T)
    assert "each layer's output" in panel.controls.note.text()


def test_layer_box_writes_the_state_and_the_state_moves_the_box(qtbot, lstm):
    viewer, panel = open_panel(qtbot, HiddenPanel, lstm)
    with qtbot.waitSignal(viewer.selection.layerChanged) as blocker:
        panel.layer_box.setCurrentIndex(1)
    assert blocker.args == [1]
    np.testing.assert_array_equal(panel.heatmap.image.image, lstm["hidden"][:, 1, 0, :].T)
    emitted = []
    viewer.selection.layerChanged.connect(emitted.append)
    viewer.selection.set_layer(0)
    assert panel.layer_box.currentIndex() == 0
    assert emitted == [0]  # no echo from the box


def test_click_sets_step_and_selects_unit_ctrl_click_adds(qtbot, lstm):
    viewer, panel = open_panel(qtbot, HiddenPanel, lstm)
    with qtbot.waitSignal(viewer.cursor.stepChanged):
        click(qtbot, panel.canvas, panel.heatmap.plot, 3, 2.5)
    assert viewer.cursor.step == 3 and viewer.selection.units == (2,)
    click(qtbot, panel.canvas, panel.heatmap.plot, 7, 4.5, Qt.KeyboardModifier.ControlModifier)
    assert viewer.cursor.step == 7 and viewer.selection.units == (2, 4)
    outline = panel.heatmap.row_outline.path()  # the selected units' rows are outlined
    assert outline.contains(QPointF(6, 2.5)) and outline.contains(QPointF(6, 4.5))
    assert not outline.contains(QPointF(6, 3.5))


def test_hover_tooltip_gives_unit_step_token_and_value(qtbot, lstm):
    viewer, panel = open_panel(qtbot, HiddenPanel, lstm)
    text = hover(qtbot, panel.canvas, panel.heatmap.plot, 4, 6.5)
    value = lstm["hidden"][3, 0, 0, 6]
    assert "unit 6" in text and "step 4" in text and lstm.tokens[3] in text.replace("\u2423", " ")
    assert f"{value:.5f}" in text


def test_not_applicable_and_no_model_messages(qtbot):
    viewer, panel = open_panel(qtbot, HiddenPanel, None)
    assert panel.message == "No model loaded."
    panel.set_trace(lstm_trace(T=4))
    assert panel.message is None


def test_the_step_cursor_is_set_off_from_the_cells_by_the_background_colour(qtbot, theme):
    """The orange cursor was lost on the diverging map's red cells (the dark theme's most of all): a
    band of the background colour either side of it, moved and hidden with it."""
    from traces import view_pos

    from seqviz.app.window.theme import current_theme

    theme("dark")
    viewer, panel = open_panel(qtbot, HiddenPanel, lstm_trace(T=10, hidden_size=16), size=(900, 600))
    viewer.cursor.set_step(4)
    heatmap = panel.heatmap
    assert heatmap.cursor_halo.value() == heatmap.cursor.value() == 4
    qtbot.wait(50)  # laid out at its size
    image = panel.canvas.grab().toImage()
    centre = view_pos(panel.canvas, heatmap.plot, 4, 8)
    row = [image.pixelColor(centre.x() + dx, centre.y()).name() for dx in range(-6, 7)]
    cursor, background = current_theme().cursor, current_theme().background
    first = row.index(cursor)
    last = len(row) - 1 - row[::-1].index(cursor)
    assert row[first - 1] == background and row[last + 1] == background, row
    assert row[0] != background and row[-1] != background, row  # the cells beside it still show
    heatmap.cursor.setVisible(False)
    assert not heatmap.cursor_halo.isVisible()
