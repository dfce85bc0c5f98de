"""Find units (seqviz.app.panels.find_units, seqviz.app.window.find_units) in a window on the long-range
LSTM: select a span (boxes or shift-click on the chips), rank, Follow, Match; Differ France against Spain,
compare, and copy Spain's units into the France run, which then predicts Spanish."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtTest import QTest
from traces import shown

from seqviz.app import MainWindow
from seqviz.app.viewer import what_if
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.docks import DockArea, panel_classes
from seqviz.app.window.find_units import FindUnitsTool

FRANCE = "i was born in france . the dog slept . we like the old book . i speak fluent"
SPAIN = FRANCE.replace("france", "spain")
COUNTRY = 5  # the step of "france" (1-based, as the window counts)


@pytest.fixture
def window(qtbot, dialog_log):
    window = shown(qtbot, MainWindow(), (1600, 900))
    assert window.open_model("longrange-lstm", FRANCE)
    window.set_step(COUNTRY)
    dock = window.dock_area.docks["find_units"]
    dock.toggleViewAction().trigger()  # View › Find units: the lessons' layouts start with it closed
    dock.raise_()
    qtbot.wait(10)  # the panel selects the step it was opened on
    yield window
    window.stop_background_work()


def panel_of(window):
    return window.dock_area.panels["find_units"]


def finish(window) -> None:
    """Deliver the Find units jobs and the window's own (re-traces with edits)."""
    window.findChild(FindUnitsTool).finish()
    window.finish_background_work()


def prediction(window) -> str:
    probs = window.trace["probs"][-1]  # after "fluent": the language
    return window.trace.meta.output_labels[int(probs.argmax())]


def test_the_dock_opens_from_the_view_menu_and_ranks_the_current_step(window):
    panel = panel_of(window)
    assert panel.isVisible() and not panel.visibleRegion().isEmpty()
    assert (panel.first_box.value(), panel.last_box.value()) == (COUNTRY, COUNTRY)
    assert panel.table.rowCount() == 10 and panel.ranking.units[0] == int(panel.table.item(0, 0).text())
    assert "step 5 'france'" in panel.heading.text()
    assert window.viewer.selection.option("tokens", "span") == "5-5"  # outlined on the chips


def test_select_a_span_rank_and_follow_the_units_in_the_units_panel(window):
    panel = panel_of(window)
    panel.select_steps(17, 19)  # "i speak fluent"
    assert "steps 17\u201319" in panel.heading.text()
    rows = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    panel.table.selectionModel().select(panel.table.model().index(1, 0), rows)  # whatever keys are held
    panel.follow_button.click()
    assert window.viewer.selection.units == (panel.ranking.units[1],)  # the chosen row only
    panel.table.clearSelection()
    panel.top_box.setValue(4)
    panel.follow_button.click()
    units = window.dock_area.panels["units"]
    assert window.viewer.selection.units == tuple(panel.ranking.units) and len(panel.ranking.units) == 4
    assert units.shown_units == tuple(panel.ranking.units) and units.array_name == "hidden"


def test_shift_click_and_drag_on_the_chips_select_a_span(window, qtbot):
    panel, strip = panel_of(window), window.tokens.strip
    panel.mode_buttons.button(1).click()  # in Differ mode: a span brings Select back
    at = [strip.chip_rect(i).center() for i in (1, 3)]
    QTest.mousePress(strip, Qt.LeftButton, Qt.ShiftModifier, at[0])
    QTest.mouseMove(strip, at[1])
    QTest.mouseRelease(strip, Qt.LeftButton, Qt.ShiftModifier, at[1])
    assert window.viewer.selection.option("tokens", "span") == "2-4"
    assert (panel.first_box.value(), panel.last_box.value()) == (2, 4) and panel.pages.currentIndex() == 0
    assert window.step == COUNTRY  # a span does not move the step
    QTest.mouseClick(strip, Qt.LeftButton, Qt.NoModifier, at[1])
    assert window.step == 4  # a plain click still jumps


def test_match_marks_the_chips_and_lists_the_examples(window):
    panel = panel_of(window)
    panel.top_box.setValue(5)
    panel.match_button.click()
    finish(window)
    marks = window.viewer.selection.option("tokens", "marks").split(",")
    assert str(COUNTRY) in marks  # the selected step itself
    text = panel.matches.toPlainText()
    assert "5 'france'" in text and "example 1:" in text and "'france'" in text.split("example 1:")[1]


def test_differ_france_spain_ranks_units_compare_and_follow(window):
    panel = panel_of(window)
    panel.differ(SPAIN)
    finish(window)
    assert panel.ranking.mode == "differ" and len(panel.ranking.units) == 10
    assert "'france' (A) vs 'spain' (B)" in panel.heading.text()
    assert abs(panel.ranking.rows[0].difference) > 0.5
    assert panel.compare_button.isEnabled() and panel.edit_button.isEnabled()
    panel.follow_button.click()
    panel.compare_button.click()
    assert len(window.viewer.selections) == 2
    assert window.comparison.compared[0].run.text == SPAIN
    assert window.viewer.selections[1].units == window.viewer.selection.units == tuple(panel.ranking.units)


def test_setting_the_cell_units_to_spain_s_at_the_country_makes_the_france_run_predict_spanish(window):
    assert prediction(window) == "french"
    panel = panel_of(window)
    panel.array_box.setCurrentIndex(panel.array_box.findData("cell"))
    panel.differ(SPAIN)
    finish(window)
    assert panel.ranking.array == "cell" and panel.when_box.currentData() == "at"
    panel.edit_button.click()
    finish(window)
    assert prediction(window) == "spanish"
    assert len(window.edits) == 1 and window.step == COUNTRY and window.run.text == FRANCE
    assert len(window.edits[0].units) == 10 and window.edits[0].steps == (COUNTRY - 1,)
    note = f"One edit: 10 cell units set to B's values at step {COUNTRY}"
    assert panel.matches.toPlainText().startswith(note)


def test_hidden_units_need_setting_from_here_on_in_an_lstm(window):
    panel = panel_of(window)
    panel.differ(SPAIN)
    finish(window)
    panel.edit_button.click()  # h at one step: the LSTM recomputes h from its cell, still France's
    finish(window)
    assert prediction(window) == "french" and "An LSTM computes its next h" in panel.matches.toPlainText()
    window.set_edits(())
    panel.when_box.setCurrentIndex(panel.when_box.findData("onward"))
    panel.edit_button.click()
    finish(window)
    assert prediction(window) == "spanish"
    (edit,) = window.edits  # one edit holding B's values of 10 units at every step from here on
    assert len(edit.units) == 10 and edit.steps == tuple(range(COUNTRY - 1, window.num_steps))
    assert edit.value_array().shape == (window.num_steps - COUNTRY + 1, 10)
    rows = f"{window.num_steps - COUNTRY + 1}\u00d710 values at steps {COUNTRY}\u2013{window.num_steps}"
    assert window.what_if.list.texts == [what_if.describe(edit)] and rows in what_if.describe(edit)
    edited = [note for note in window.notices.notes if note.startswith("Edited model")]
    assert edited == [
        f"Edited model ({what_if.describe(edit)}): every number is what the edited model computes."
    ]


def test_a_script_can_wait_for_b_and_the_examples(window):
    panel = panel_of(window)
    panel.differ(SPAIN, COUNTRY, wait=True)
    assert panel.ranking.mode == "differ" and panel.other.tokens[COUNTRY - 1] == "spain"
    panel.match(wait=True)
    assert "example 1:" in panel.matches.toPlainText()  # the France example: like A at "france"


def test_a_second_text_the_model_cannot_read_is_one_line(window):
    panel = panel_of(window)
    panel.differ("   ")
    finish(window)
    assert panel.other is None and panel.matches.toPlainText().startswith("B: The input is empty")
    assert "Type a second text" in panel.heading.text()


def test_a_layout_saved_before_the_dock_existed_tabs_it_with_the_others(qtbot):
    classes = panel_classes()
    old = shown(qtbot, DockArea(ViewerModel()), (1200, 700))
    old.add_panels([cls for cls in classes if cls.name != "find_units"])
    new = shown(qtbot, DockArea(ViewerModel()), (1200, 700))
    new.add_panels(classes, None, old.save_layout())  # restored, then the new dock placed
    qtbot.wait(10)
    dock = new.docks["find_units"]
    assert new.dockWidgetArea(dock) == Qt.RightDockWidgetArea and not dock.isFloating()
    assert new.docks["gates"] in new.tabifiedDockWidgets(dock)


def test_a_transformer_s_units_are_ranked_but_not_set(window):
    panel = panel_of(window)
    panel.differ(SPAIN)
    finish(window)
    assert window.open_model("longrange-transformer", FRANCE)
    assert panel.other is None  # B was the LSTM's: its units mean nothing in another model
    window.set_step(COUNTRY)
    panel.select_steps(COUNTRY, COUNTRY)
    assert panel.ranking.mode == "select" and len(panel.ranking.units) == 10
    panel.differ(SPAIN)
    finish(window)
    assert panel.ranking.mode == "differ" and "'france' (A) vs 'spain' (B)" in panel.heading.text()
    assert panel.compare_button.isEnabled() and not panel.edit_button.isEnabled()
    assert "Transformer" in panel.edit_button.toolTip()
