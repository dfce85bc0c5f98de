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


def test_the_persons_choice_is_remembered_at_the_next_launch(qtbot, temp_settings_dir):
    """A lecturer who hides the future finds it hidden when the app opens again (a scene's or a
    script's setting is theirs, not the person's)."""
    from seqviz.app.window.main_window import MainWindow

    first = MainWindow()
    qtbot.addWidget(first)
    first.hide_future.trigger()  # the menu (or its shortcut)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.hide_future.isChecked() and second.viewer.future_hidden
    second.viewer.set_future_hidden(False)  # a scene that fades it
    second.close()
    third = MainWindow()
    qtbot.addWidget(third)
    assert third.viewer.future_hidden
    third.hide_future.trigger()
    third.close()
    fourth = MainWindow()
    qtbot.addWidget(fourth)
    assert not fourth.hide_future.isChecked() and not fourth.viewer.future_hidden
