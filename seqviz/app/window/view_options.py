"""View › Hide the future: the steps after the cursor hidden entirely instead of faded.

A faded future still gives away what comes next (the words of the token strip, the tokens on the
axes, the shape of the states): a lecturer who asks "what will the model predict?" hides it. The
option is the viewer's (`ViewerModel.future_hidden`, the first run's panel option ("view", "future")),
so scenes keep it and a script sets it with `window.viewer.set_future_hidden(True)`. The person's own
choice in the menu is remembered for the next launch (settings); a scene's or a script's is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker
from PySide6.QtGui import QAction

if TYPE_CHECKING:
    from seqviz.app.window.main_window import MainWindow


def install(window: MainWindow) -> QAction:
    """Add the checkable View › Hide the future, bound both ways to the viewer; returns it."""
    action = QAction("Hide the future", window, checkable=True)
    action.setStatusTip("Hide what comes after the step (tokens, states, predictions) instead of fading it")
    if window.settings.future_hidden:
        window.viewer.set_future_hidden(True)
    action.setChecked(window.viewer.future_hidden)
    action.toggled.connect(window.viewer.set_future_hidden)
    action.toggled.connect(lambda hidden: setattr(window.settings, "future_hidden", hidden))

    def follow(hidden: bool) -> None:  # a scene or a script set it
        with QSignalBlocker(action):
            action.setChecked(hidden)

    window.viewer.futureHiddenChanged.connect(follow)
    menu = window.view_menu
    separators = [a for a in menu.actions() if a.isSeparator()]
    menu.insertAction(separators[0] if separators else None, action)  # before the panels' list
    return action
