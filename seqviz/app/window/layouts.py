"""Layouts for each lesson: which panels are on screen, where, and how much room each gets.

A `Layout` is a top row and a bottom row of dock groups. A group is a list of panel names tabbed
together, the first in front; each group has its share of its row's width, and the top row its share
of the height. The panels a layout does not name are closed (View reopens them, across the top). The
shares give the room by importance: in the recurrent lesson the hidden states and the gates take two
thirds of the height.

View › Layout switches to a preset in one click (`install`); View › Reset layout is the preset for the
kind of model on screen (`default_for`). `arrange(area, layout)` lays out any DockArea.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

Area = Qt.DockWidgetArea
Group = tuple[str, ...]  # panel names tabbed together, the first in front


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    tip: str
    top: tuple[tuple[Group, float], ...]  # (group, share of the width) left to right
    bottom: tuple[tuple[Group, float], ...] = ()
    top_height: float = 0.66  # the top row's share of the height (all of it without a bottom row)

    @property
    def groups(self) -> list[Group]:
        return [group for group, _ in (*self.top, *self.bottom)]

    def shares(self) -> dict[str, tuple[float, float]]:
        """Panel name -> (share of the width, share of the height) for the panel in front of each group."""
        heights = (self.top_height, 1.0 - self.top_height) if self.bottom else (1.0, 0.0)
        return {
            group[0]: (width, height)
            for row, height in zip((self.top, self.bottom), heights, strict=True)
            for group, width in row
        }


# A layout shows what its lesson needs and closes the other panels (View reopens them): a tab bar
# takes room, and a tab group is as tall as its tallest panel's minimum (Gradient flow's), so tabs made
# the presentation theme's window taller than a 1024x640 projector.
LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout(
            "gates",
            "Recurrent gates",
            "The hidden state and the gates large; the output and the selected units below",
            top=((("hidden",), 0.4), (("gates",), 0.6)),
            bottom=((("output",), 0.4), (("units",), 0.6)),
            top_height=0.68,
        ),
        Layout(
            "attention",
            "Attention",
            "The attention matrix, its heads and lines large; the hidden state beside it",
            top=((("hidden",), 0.36), (("attention",), 0.64)),
            bottom=((("output",), 0.45), (("units",), 0.55)),
        ),
        Layout(
            "compare",
            "Compare",
            "One column like each compared run's: the hidden state (gates, attention in tabs), the output",
            top=((("hidden", "gates", "attention"), 1.0),),
            bottom=((("output",), 1.0),),
            top_height=0.62,
        ),
        Layout(
            "gradients",
            "Gradient flow",
            "The gradient flow large; the hidden state and the output below",
            top=((("gradients",), 1.0),),
            bottom=((("hidden",), 0.55), (("output",), 0.45)),
            top_height=0.6,
        ),
    )
}
DEFAULT_LAYOUT = "gates"


def default_for(is_transformer: bool) -> Layout:
    """The layout View › Reset layout gives: attention for a Transformer, else the gates."""
    return LAYOUTS["attention" if is_transformer else DEFAULT_LAYOUT]


def arrange(area, layout: Layout) -> None:
    """Place `area`'s docks (a DockArea: `docks` by panel name) as `layout` says, close the others, and
    give them its shares of the room."""
    docks = area.docks
    groups = [[n for n in group if n in docks] for group in layout.groups]
    named = {n for group in groups for n in group}
    for dock in docks.values():
        # out of the layout first: moved one by one, docks stacked up in one area on the way and
        # their minimum heights made the window grow
        area.removeDockWidget(dock)
        dock.setFloating(False)
    rows = [groups[: len(layout.top)], groups[len(layout.top) :]]
    for row_index, row in enumerate(rows):
        previous = None
        for position, group in enumerate(g for g in row if g):
            first = docks[group[0]]
            area.addDockWidget(_place(row_index, position), first)
            if previous is not None and (row_index or position > 1):  # beside the last in its area
                area.splitDockWidget(previous, first, Qt.Orientation.Horizontal)
            for name in group[1:]:
                area.tabifyDockWidget(first, docks[name])
            for name in group:
                docks[name].show()
            previous = first
    for name in (n for n in docks if n not in named):
        # closed, with a place to reopen in: the top area, empty otherwise (a tab of a group would
        # leave that group a tab bar of one tab: Qt 6.11)
        area.addDockWidget(Area.TopDockWidgetArea, docks[name])
        docks[name].hide()
    for group in groups:
        if group:
            docks[group[0]].raise_()  # tabifying brings the last one added forward
    area.shares.apply({n: f for n, f in layout.shares().items() if n in docks})


def _place(row: int, position: int) -> Qt.DockWidgetArea:
    """The dock area of a group: the top row's first on the left, the others on the right; the
    bottom row below both (it spans the width)."""
    if row:
        return Area.BottomDockWidgetArea
    return Area.RightDockWidgetArea if position else Area.LeftDockWidgetArea


def install(window) -> None:
    """View › Layout: one entry per preset (Ctrl+1..4); `window.layout_actions` by layout name."""
    menu = window.view_menu.addMenu("Layout")
    window.layout_actions = {}
    for number, layout in enumerate(LAYOUTS.values(), start=1):
        action = QAction(layout.title, menu)
        action.setStatusTip(layout.tip)
        action.setToolTip(layout.tip)
        action.setShortcut(QKeySequence(f"Ctrl+{number}"))
        menu.addAction(action)
        window.addAction(action)  # the key works wherever the focus is
        action.triggered.connect(lambda _=False, name=layout.name: show_layout(window, name))
        window.layout_actions[layout.name] = action
    window.layout_menu = menu


def show_layout(window, name: str) -> None:
    """Switch the window's panels to layout `name` (a key of LAYOUTS)."""
    window.load_panels()
    window.dock_area.show_layout(LAYOUTS[name])
