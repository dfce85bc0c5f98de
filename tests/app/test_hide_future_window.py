"""View › Hide the future in the window: a checkable menu action bound both ways to the viewer's option."""

from __future__ import annotations


def test_the_option_is_a_saved_panel_option_and_a_menu_action(qtbot):
    from seqviz.app.window.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    viewer = window.viewer
    action = window.hide_future
    assert not action.isChecked() and action in window.view_menu.actions()
    action.trigger()
    assert viewer.future_hidden and viewer.selection.options()["view"] == {"future": "hide"}
    viewer.selection.set_option("view", "future", "fade")  # a scene, a script
    assert not action.isChecked()
    assert not viewer.future_hidden
