"""Getting widgets ready to be pictured: what a picture shows must depend only on what is shown.

Each helper undoes one way the screen leaks into a picture: the step laid out for the screen's size
(handed again), item caches at the screen's pixel ratio (switched off), the widget under the pointer
(drawn plain), and axes still as wide as for what they showed before (settled). The ones that change
state return what is needed to put it back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsItem, QLabel, QWidget


def show_step_again(target: QWidget) -> None:
    """Hand the current step to the panels again, now that they have the picture's size: some choose
    what to show from their size when the step changes (e.g. how many attention lines fit)."""
    cursor = getattr(getattr(target, "viewer", None), "cursor", None) or getattr(target, "cursor", None)
    if cursor is not None and cursor.step > 0:  # a window (its viewer) or a single panel (its cursor)
        cursor.stepChanged.emit(cursor.step)
        QApplication.sendPostedEvents(None, 0)


def graphics_views(target: QWidget) -> list:
    """The pyqtgraph views in `target` (none if pyqtgraph was never imported)."""
    pg = sys.modules.get("pyqtgraph")  # no plots were ever built without it
    if pg is None:
        return []
    views = target.findChildren(pg.GraphicsView)
    return [*views, target] if isinstance(target, pg.GraphicsView) else views


def stop_caching(target: QWidget) -> list[tuple[QGraphicsItem, QGraphicsItem.CacheMode]]:
    """Switch off the item caches in `target`'s plots; returns (item, mode) to put them back.

    A cache (axes, unit curves) holds the item's pixels at the screen's pixel ratio: painted into a
    picture at another ratio it was scaled as an image, blurred, and its cosmetic lines grew with it,
    on top of the scaled stroke widths."""
    no_cache = QGraphicsItem.CacheMode.NoCache
    cached = [
        (item, item.cacheMode())
        for view in graphics_views(target)
        for item in view.items()
        if item.cacheMode() != no_cache
    ]
    for item, _mode in cached:
        item.setCacheMode(no_cache)
    return cached


AXIS_TEXT_SPACE = (30, 18)  # pyqtgraph's starting tick-label width (vertical axes) and height


def forget_hover(target: QWidget) -> list[QWidget]:
    """Draw no widget as hovered (a lighter button or combo box); -> the widgets that were.

    Where the mouse happens to rest is no part of a picture: with it, a scene reopened under the
    pointer gave a picture that differed from the one saved.
    """
    hovered = [w for w in (target, *target.findChildren(QWidget)) if w.underMouse()]
    for widget in hovered:
        widget.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, False)
    return hovered


def show_picture_marks(target: QWidget) -> list[QWidget]:
    """Show the lines only a picture of a panel alone carries; -> the widgets shown (to hide again).

    A panel showing an edited model has a line saying so (Panel.edit_mark, "editMark"); in the window
    the notice bar says it once for every panel, so the line is shown only when the panel is pictured
    without the window around it."""
    if target.window() is target:  # the whole window: its notice bar says it
        return []
    marks = [w for w in target.findChildren(QLabel, "editMark") if w.text() and w.isHidden()]
    for mark in marks:
        mark.show()
    return marks


def settle_axes(target: QWidget) -> None:
    """Give every plot axis in `target` the tick-label space its ticks need now.

    pyqtgraph widens an axis for longer tick labels at once but narrows it only when they are 10 px
    shorter, so the same plot could come out a few pixels different depending on what it showed
    before (another model, theme or selection). Starting every axis from pyqtgraph's initial space
    and letting the layouts settle makes a picture depend only on what is shown. Axes that already
    fit their labels end where they were."""
    pg = sys.modules.get("pyqtgraph")  # no plots were ever built without it
    if pg is None:
        return
    views = [v for v in graphics_views(target) if v.isVisible() or v is target]
    axes = [item for view in views for item in view.items() if isinstance(item, pg.AxisItem)]
    for axis in axes:
        axis.textWidth, axis.textHeight = AXIS_TEXT_SPACE
    scratch = QImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied)
    for _ in range(4):  # a narrower axis gives the plot room, which may change its ticks
        before = [(axis.textWidth, axis.textHeight, axis.size()) for axis in axes]
        painter = QPainter(scratch)
        for axis in axes:
            axis.generateDrawSpecs(painter)  # measures the labels and resizes the axis
        painter.end()
        QApplication.sendPostedEvents(None, 0)  # the plots' layouts follow
        if before == [(axis.textWidth, axis.textHeight, axis.size()) for axis in axes]:
            break
    for axis in axes:
        axis.picture = None  # drawn anew at its settled size
        axis.update()
