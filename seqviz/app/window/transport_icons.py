"""The transport buttons' icons (first, back, play, pause, forward, last), drawn in the palette's text
colour so they read as enabled in every theme.

Qt's standard media icons are dark grey pictures: on the dark theme's toolbar they looked disabled.
These are painted shapes in the button text colour of the application's palette, with a dimmed copy
for the disabled state, at the toolbar's icon size (the presentation theme's is larger).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPixmap

# Each shape on a 24 x 24 grid: triangles as (tip x, base x), bars as (left x, right x); y spans 5..19.
_TOP, _BOTTOM = 5.0, 19.0
SHAPES = {
    "first": (("bar", 5.0, 7.5), ("triangle", 8.0, 19.0)),
    "back": (("triangle", 3.0, 12.0), ("triangle", 12.0, 21.0)),
    "play": (("triangle", 19.5, 6.0),),
    "pause": (("bar", 6.0, 10.0), ("bar", 14.0, 18.0)),
    "forward": (("triangle", 21.0, 12.0), ("triangle", 12.0, 3.0)),
    "last": (("triangle", 16.0, 5.0), ("bar", 16.5, 19.0)),
}


def _path(kind: str) -> QPainterPath:
    path = QPainterPath()
    middle = (_TOP + _BOTTOM) / 2
    for shape, a, b in SHAPES[kind]:
        if shape == "bar":
            path.addRect(QRectF(a, _TOP, b - a, _BOTTOM - _TOP))
        else:  # a triangle with its tip at x = a and its base at x = b
            path.moveTo(QPointF(b, _TOP))
            path.lineTo(QPointF(a, middle))
            path.lineTo(QPointF(b, _BOTTOM))
            path.closeSubpath()
    return path


def _pixmap(kind: str, colour: QColor, size: int, ratio: float) -> QPixmap:
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 24.0, size / 24.0)
    painter.fillPath(_path(kind), colour)
    painter.end()
    return pixmap


def icon(kind: str, palette: QPalette, size: int, ratio: float = 1.0) -> QIcon:
    """The `kind` icon ("first", "back", "play", "pause", "forward", "last") in `palette`'s button
    text colour, and dimmed for the disabled state, `size` pixels square."""
    roles, groups = QPalette.ColorRole, QPalette.ColorGroup
    enabled = palette.color(groups.Active, roles.ButtonText)
    disabled = palette.color(groups.Disabled, roles.ButtonText)
    if disabled == enabled:  # a palette without a disabled colour: fade the enabled one
        disabled = QColor(enabled)
        disabled.setAlphaF(0.35)
    result = QIcon()
    for scale in (1, 2):  # the toolbar's size, and twice it for a picture painted at 2x
        result.addPixmap(_pixmap(kind, enabled, size * scale, ratio), QIcon.Mode.Normal)
        result.addPixmap(_pixmap(kind, disabled, size * scale, ratio), QIcon.Mode.Disabled)
    return result


def apply(actions, palette: QPalette, size: int, playing: bool) -> None:
    """Give the window's transport actions (toolbar.Actions) their icons in `palette`'s colours;
    `playing` picks play or pause for the play action."""
    for kind in ("first", "back", "forward", "last"):
        getattr(actions, kind).setIcon(icon(kind, palette, size))
    actions.play_icons = (icon("play", palette, size), icon("pause", palette, size))
    actions.play.setIcon(actions.play_icons[int(playing)])
