"""Model edits in the window (seqviz.app.window.what_if): right-click a unit, a gate cell or a head,
pick an edit, and every panel shows what `seqviz.trace(model, text, edits=[...])` computes; the Edits
dock lists the edits and removes them; the W_hh option is one entry of the list; an edited run is
marked on screen and in pictures; scenes keep the edits; an edit that does not fit changes nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel
from traces import shown, view_pos

import seqviz
from seqviz.app import MainWindow, scenes
from seqviz.app.export.pictures import render_picture
from seqviz.edits import AblateHead, ClampGate, ScaleRecurrent, SetCell, SetHidden

TEXT = "i was born in france . the dog slept . i speak fluent french"


@pytest.fixture
def window(qtbot, dialog_log):
    window = shown(qtbot, MainWindow(), (1600, 900))
    yield window
    window.stop_background_work()


def right_click(qtbot, view, plot, x: float, y: float):
    """A right click at data point (x, y); returns the texts of the menu it opened (or None)."""
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.RightButton, pos=view_pos(view, plot, x, y))
    QApplication.processEvents()


def unit_under(view, heatmap, x: float, y: float) -> int:
    """The unit a click at data point (x, y) lands on (a heatmap of 128 units has rows of a pixel)."""
    row, _step = heatmap.cell_at(view.mapToScene(view_pos(view, heatmap.plot, x, y)))
    return row


def menu_of(panel) -> dict:
    """The panel's last right-click menu: {text: action}; closes it."""
    menu = panel.edit_menu
    assert menu is not None, "no menu was opened"
    actions = {action.text(): action for action in menu.actions()}
    menu.close()
    return actions


def pick(window, panel, text: str) -> None:
    """Choose `text` in the panel's menu and wait for the re-trace."""
    menu_of(panel)[text].trigger()
    window.finish_background_work()
    QApplication.processEvents()


def expected(window, edits) -> seqviz.Trace:
    return seqviz.trace(window.model.module, window.run.model_text, edits=list(edits))


def settle(view) -> None:
    """Process events until `view` keeps its size: the first trace's plots lay out in a few passes
    (their axes widen to their tick labels when first painted), and a click's place depends on it."""
    sizes: list = []
    for _ in range(50):
        QApplication.processEvents()
        sizes.append(view.size())
        if len(sizes) >= 4 and len({s.toTuple() for s in sizes[-4:]}) == 1:
            return


def test_the_menus_offer_each_architecture_s_edits(window, qtbot):
    assert window.open_model("longrange-lstm", TEXT)
    gates, hidden = window.panels["gates"], window.panels["hidden"]
    window.dock_area.docks["gates"].raise_()
    settle(gates.canvas)
    forget = gates.shown_heatmaps["forget_gate"]
    right_click(qtbot, gates.canvas, forget.plot, 5, 30.5)
    unit = unit_under(gates.canvas, forget, 5, 30.5)
    assert list(menu_of(gates)) == [
        f"Clamp the forget gate of unit {unit} to 1 from step 5 on",
        f"Clamp the forget gate of unit {unit} to 0 from step 5 on",
    ]
    right_click(qtbot, gates.canvas, gates.shown_heatmaps["candidate"].plot, 2, 0.2)
    assert list(menu_of(gates)) == [
        "Set the candidate of unit 0 to 0 from step 2 on",
        "Set the cell of unit 0 to 0 from step 2 on",
    ]
    assert window.open_model("longrange-gru", TEXT)
    reset = gates.shown_heatmaps["reset_gate"]
    right_click(qtbot, gates.canvas, reset.plot, 4, 70.5)
    unit = unit_under(gates.canvas, reset, 4, 70.5)
    assert f"Clamp the reset gate of unit {unit} to 0 from step 4 on" in menu_of(gates)
    assert window.open_model("longrange-rnn", TEXT)
    right_click(qtbot, hidden.canvas, hidden.heatmap.plot, 14, 10.5)
    unit = unit_under(hidden.canvas, hidden.heatmap, 14, 10.5)
    texts = list(menu_of(hidden))
    assert texts[0] == f"Set unit {unit} of h to 0 at step 14"
    assert texts[1].startswith(f"Hold unit {unit} of h at ")
    assert window.open_model("longrange-transformer", TEXT)
    right_click(qtbot, hidden.canvas, hidden.heatmap.plot, 3, 0.5)
    assert hidden.edit_menu is None or not hidden.edit_menu.isVisible()  # no value edits here
    attention = window.panels["attention"]
    window.dock_area.docks["attention"].raise_()
    window.viewer.selection.set_layer(1)
    window.viewer.selection.set_head(0)
    QApplication.processEvents()
    right_click(qtbot, attention.canvas, attention.matrix.plot, 1, 4)
    assert list(menu_of(attention)) == ["Ablate head 1 of layer 2 (its output zeroed)"]


def test_a_clamp_from_the_menu_shows_what_the_core_computes_and_removing_it_restores_the_plain_run(
    window, qtbot
):
    assert window.open_model("longrange-lstm", TEXT)
    window.set_step(6)
    plain = window.trace
    gates = window.panels["gates"]
    window.dock_area.docks["gates"].raise_()
    QApplication.processEvents()
    forget = gates.shown_heatmaps["forget_gate"]
    right_click(qtbot, gates.canvas, forget.plot, 4, 9.5)
    unit = unit_under(gates.canvas, forget, 4, 9.5)
    pick(window, gates, f"Clamp the forget gate of unit {unit} to 1 from step 4 on")
    clamp = ClampGate("forget_gate", 0, [unit], range(3, window.num_steps), 1.0)
    assert window.edits == (clamp,) and window.step == 6
    reference = expected(window, [clamp])
    for name in ("hidden", "cell", "forget_gate", "probs"):
        np.testing.assert_array_equal(window.trace[name], reference[name])
    np.testing.assert_array_equal(
        gates.shown_heatmaps["forget_gate"].data, reference["forget_gate"][:, 0, 0].T
    )
    np.testing.assert_array_equal(window.panels["hidden"].bar_values, reference["hidden"][5, 0, 0])
    assert not np.array_equal(reference["cell"], plain["cell"])  # the clamp changed what is shown
    edits_list = window.what_if.list
    assert window.what_if.dock.isVisible() and edits_list.texts == [
        f"forget gate of unit {unit}, layer 1 = 1 at steps 4\u201314"
    ]
    edits_list.remove_button(0).click()
    window.finish_background_work()
    assert window.edits == () and edits_list.texts == [] and window.step == 6
    for name in ("hidden", "cell", "forget_gate", "probs"):
        np.testing.assert_array_equal(window.trace[name], plain[name])


def test_the_units_panel_and_the_hidden_panel_add_hidden_edits(window, qtbot):
    assert window.open_model("longrange-gru", TEXT)
    window.viewer.selection.set_units([4])
    units = window.panels["units"]
    QApplication.processEvents()
    right_click(qtbot, units.canvas, units.plot, 7, float(units.series[6, 4]))
    pick(window, units, "Set unit 4 of h to 0 from step 7 on")
    hidden = window.panels["hidden"]
    right_click(qtbot, hidden.canvas, hidden.heatmap.plot, 2, 10.5)
    unit = unit_under(hidden.canvas, hidden.heatmap, 2, 10.5)
    hold = next(text for text in menu_of(hidden) if text.startswith(f"Hold unit {unit}"))
    right_click(qtbot, hidden.canvas, hidden.heatmap.plot, 2, 10.5)
    value = float(window.trace["hidden"][1, 0, 0, unit])  # its value at step 2, edited at 7 on
    pick(window, hidden, hold)
    edits = (
        SetHidden(0, [4], range(6, window.num_steps), 0.0),
        SetHidden(0, [unit], range(1, window.num_steps), value),
    )
    assert window.edits == edits
    np.testing.assert_array_equal(window.trace["hidden"], expected(window, edits)["hidden"])
    assert np.all(window.trace["hidden"][1:, 0, 0, unit] == np.float32(value))  # held from step 2 on


def test_ablating_a_head_of_a_transformer_from_a_thumbnail(window, qtbot):
    assert window.open_model("longrange-transformer", TEXT)
    attention = window.panels["attention"]
    window.dock_area.docks["attention"].raise_()
    QApplication.processEvents()
    grid = attention.thumbnails
    centre = grid.cell_rect(0, 1).center()
    right_click(qtbot, grid, grid.view, centre.x(), centre.y())
    pick(window, attention, "Ablate head 2 of layer 1 (its output zeroed)")
    assert window.edits == (AblateHead(0, 1),)
    reference = expected(window, [AblateHead(0, 1)])
    np.testing.assert_array_equal(window.trace["attention"], reference["attention"])
    np.testing.assert_array_equal(window.trace["probs"], reference["probs"])
    assert "head 2 of layer 1 ablated" in attention.edit_mark.text()


def test_the_w_hh_option_is_one_entry_of_the_list(window):
    assert window.open_model("longrange-rnn", TEXT)
    hold = SetHidden(0, [2], range(3, 6), 0.5)
    assert window.add_edit(hold)
    selection = window.viewer.selection
    selection.set_option("gradients", "recurrent_scale", "2")
    window.finish_background_work()
    assert window.edits == (hold, ScaleRecurrent(2.0))
    assert window.what_if.list.texts[1] == "W_hh \u00d7 2"
    np.testing.assert_array_equal(window.trace["hidden"], expected(window, window.edits)["hidden"])
    window.what_if.list.remove_button(1).click()  # removing the entry puts the option back to 1
    window.finish_background_work()
    assert window.edits == (hold,) and selection.option("gradients", "recurrent_scale") == "1"
    assert window.set_edits([ScaleRecurrent(1.5), hold])  # and an entry set by the API moves the option
    assert selection.option("gradients", "recurrent_scale") == "1.5"
    selection.set_option("gradients", "recurrent_scale", "1")
    window.finish_background_work()
    assert window.edits == (hold,)


def test_an_edit_that_does_not_fit_changes_nothing_and_says_why(window, dialog_log):
    assert window.open_model("longrange-lstm", TEXT)
    clamp = ClampGate("forget_gate", 0, [1], [2], 1.0)
    assert window.add_edit(clamp)
    before, step = window.trace, window.step
    for bad, words in [
        (AblateHead(0, 0), "AblateHead"),
        (SetHidden(0, [500], [0], 0.0), "unit 500 is out of range"),
        (ClampGate("update_gate", 0, [1], [0], 1.0), "no update_gate"),
        ("forget", "is not an edit"),
    ]:
        assert not window.add_edit(bad)
        title, message = dialog_log[-1]
        assert title == "Cannot apply the edit" and words in message and "\n" not in message
        assert window.edits == (clamp,) and window.trace is before and window.step == step
    assert not window.remove_edit(3) and "no edit 3" in dialog_log[-1][1]
    assert window.what_if.list.texts == ["forget gate of unit 1, layer 1 = 1 at step 3"]


def test_new_text_and_generation_keep_edits_that_run_to_the_end(window):
    assert window.open_model("longrange-lstm", "i was born in france . the dog slept")
    clamp = ClampGate("forget_gate", 0, [5], range(2, window.num_steps), 1.0)
    assert window.add_edit(clamp)
    assert window.generate(2, 0.0)
    assert window.edits == (ClampGate("forget_gate", 0, [5], range(2, window.num_steps), 1.0),)
    np.testing.assert_array_equal(window.trace["hidden"], expected(window, window.edits)["hidden"])
    assert window.set_text("i was born")  # shorter: the clamp is cut to the text
    assert window.edits == (ClampGate("forget_gate", 0, [5], [2], 1.0),)
    assert window.set_text("i")
    assert window.edits == () and any("dropped" in note for note in window.notices.notes)
    assert window.add_edit(SetHidden(0, [1], [0], 0.0)) and window.open_model("longrange-gru")
    assert window.edits == () and window.what_if.list.texts == []  # a new model starts unedited


def test_an_edited_run_is_marked_in_the_window_and_its_pictures(window):
    assert window.open_model("longrange-lstm", TEXT)
    hidden = window.panels["hidden"]
    assert not hidden.edit_mark.isVisible() and not window.notices.isVisible()
    plain_panel = render_picture(hidden)
    assert window.add_edit(SetHidden(0, [3], range(2, 9), 0.0))
    description = "h of unit 3, layer 1 = 0 at steps 3\u20139"
    assert any(description in note for note in window.notices.notes) and window.notices.isVisible()
    assert not any(description in w.text() for w in window.statusBar().findChildren(QLabel))  # said once
    for panel in window.dock_area.panels.values():  # the notice bar says it once in the window
        assert panel.edit_mark.text() == f"\u270e edited: {description}" and not panel.edit_mark.isVisible()
    from seqviz.app.export import prep

    # a picture of the window has the notice bar; a picture of one panel has the panel's own line
    bar = window.notices.rect()
    right_end = window.notices.mapTo(window, bar.topRight() + QPoint(-6, bar.height() // 2))
    right_end.setY(right_end.y() - window.toolbar.y())  # a picture starts at the toolbar (no menus)
    assert render_picture(window).pixelColor(right_end) == QColor("#fff4d6")  # the notice bar's own
    assert prep.show_picture_marks(window) == []
    marks = prep.show_picture_marks(hidden)
    assert marks == [hidden.edit_mark] and hidden.edit_mark.isVisible()
    mark = hidden.edit_mark.geometry()
    hidden.edit_mark.hide()
    panel_picture = render_picture(hidden)
    assert not hidden.edit_mark.isVisible()  # back as it was once the picture is taken
    top = {panel_picture.pixel(x, y) for x in range(0, 200) for y in range(mark.height())}
    plain_top = {plain_panel.pixel(x, y) for x in range(0, 200) for y in range(mark.height())}
    assert top != plain_top and len(top) > 2  # the line's text, in the accent colour


def test_compare_with_the_unedited_model(window):
    assert window.open_model("longrange-lstm", TEXT)
    assert window.add_edit(ClampGate("forget_gate", 0, [0, 1, 2], range(0, 14), 0.0))
    window.set_step(4)
    window.what_if.list.compare_button.click()
    assert window.step == 4
    compared = window.comparison.compared
    assert len(compared) == 1 and compared[0].edits == () and compared[0].model is window.model
    np.testing.assert_array_equal(compared[0].run.trace["hidden"], expected(window, [])["hidden"])
    label = window.comparison.first_header.text
    assert (
        label.startswith("A")
        and "edited: forget gate of units 0\u20132, layer 1 = 0 at steps 1\u201314" in label
    )
    assert "edited" not in compared[0].column.header.text


def test_a_scene_keeps_the_edits(window, qtbot, tmp_path, dialog_log):
    assert window.open_model("longrange-lstm", TEXT)
    copied = SetCell(0, [9, 3], range(5, 8), [[0.5, -2.0], [0.25, 1.5], [3.0, -0.5]])  # B's values
    edits = (ClampGate("forget_gate", 0, [7], range(4, 14), 1.0), copied, ScaleRecurrent(1.5))
    assert window.set_edits(edits)
    window.set_step(9)
    path = scenes.capture(window).save(tmp_path / "what-if.seqviz")
    saved = json.loads(path.read_text())
    assert saved["version"] == 2 and [e["kind"] for e in saved["edits"]] == [
        "ClampGate",
        "SetCell",
        "ScaleRecurrent",
    ]
    assert saved["edits"][1]["value"] == [[-2.0, 0.5], [1.5, 0.25], [-0.5, 3.0]]  # rows, units 3 and 9
    other = shown(qtbot, MainWindow(), (1600, 900))
    try:
        assert scenes.apply(other, scenes.Scene.load(path))
        assert other.edits == edits and other.step == 9
        assert other.viewer.selection.option("gradients", "recurrent_scale") == "1.5"
        np.testing.assert_array_equal(other.trace["hidden"], window.trace["hidden"])
        del saved["edits"]  # an older scene: the model as trained
        path.write_text(json.dumps(saved))
        assert scenes.apply(other, scenes.Scene.load(path)) and other.edits == (ScaleRecurrent(1.5),)
        saved["panels"] = {}
        path.write_text(json.dumps(saved))
        assert scenes.apply(other, scenes.Scene.load(path)) and other.edits == ()
        saved["edits"] = [{"kind": "SetHidden", "layer": 0, "units": [1], "steps": [0]}]
        path.write_text(json.dumps(saved))
        with pytest.raises(scenes.SceneError, match=r'what-if.seqviz: "edits": SetHidden: .*value') as bad:
            scenes.Scene.load(path)
        assert "\n" not in str(bad.value)
        saved["edits"] = [{"kind": "SetHidden", "layer": 0, "units": [900], "steps": [0], "value": 0}]
        path.write_text(json.dumps(saved))
        with pytest.raises(scenes.SceneError, match="edits do not fit"):
            scenes.apply(other, scenes.Scene.load(path))
        assert "unit 900 is out of range" in dialog_log[-1][1] and other.edits == ()
    finally:
        other.stop_background_work()


def test_ctrl_shift_e_and_the_edit_menu_clear_the_edits_in_a_narrow_window(window):
    from PySide6.QtTest import QTest

    assert window.open_model("longrange-gru", TEXT)
    window.set_step(3)
    window.resize(1300, 800)  # the panels keep their 1280 px: the Edits dock waits in the View menu
    assert window.add_edit(SetHidden(0, [1], [2, 3], 0.0))
    assert not window.what_if.dock.isVisible() and window.what_if.list.texts
    assert (
        window.what_if.clear_action in window.edit_menu.actions() and window.what_if.clear_action.isEnabled()
    )
    window.activateWindow()
    window.tokens.strip.setFocus()
    QTest.keyClick(
        window.windowHandle(),
        Qt.Key.Key_E,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    window.finish_background_work()
    assert window.edits == () and window.step == 3 and not window.what_if.clear_action.isEnabled()
