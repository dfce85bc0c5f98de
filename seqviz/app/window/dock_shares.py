"""DockShares: the docks keep their shares of the dock area as the window changes size, and a reopened
dock never squeezes the others into a sliver.

Qt keeps a dock area's separators where they were in pixels and gives a bigger window's extra room to
the bottom docks (Output and Selected units grew at 1920x1080 while the gates stayed a thin strip), and
a dock reopened in a smaller window took back its old size. Here the area's layout is kept as
fractions: those a layout preset asks for (`apply`), then those the person makes by dragging a
separator or a dock, opening or closing a dock (recorded once the layout has settled; the signals a
dock sends when it moves come from layouts being laid out as well, so mouse releases are watched).
When the area changes size, the fractions are laid out again at the new size. When a dock is
reopened, it gets at least its fair share and every dock on screen at least MIN_SHARE of the area in
both directions.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

MIN_SHARE = 0.22  # of the area's width and height: less is a sliver nobody can read
Fractions = dict[str, tuple[float, float]]  # dock name -> (share of the width, share of the height)


class DockShares(QObject):
    def __init__(self, area: QMainWindow, docks: dict[str, QDockWidget]) -> None:
        super().__init__(area)
        self.area, self.docks = area, docks
        self.fractions: Fractions = {}
        self._size = QSize()  # the area's size when the fractions were last laid out or recorded
        self._record = False  # the person changed the layout: record it once it has settled
        self._reopened: set[str] = set()
        self._tries = 0  # settle passes waiting for a reopened dock to be placed
        self._settling = False  # a deferred pass is queued
        self.changed_by_person = False  # since the last `apply`: the layout is no preset's any more
        area.installEventFilter(self)

    def watch(self, dock: QDockWidget) -> None:
        """Follow what the person does to `dock` (DockArea calls it for each dock it makes)."""
        dock.installEventFilter(self)
        # bound methods: the connections go with this object (a renewed area makes its own)
        dock.toggleViewAction().triggered.connect(self._on_toggled)

    # what is on screen -------------------------------------------------------------------------------
    def front_docks(self) -> dict[str, QDockWidget]:
        """The docks on screen in the area: not closed, not floating, not a tab behind another (Qt
        moves those out of the area's rectangle)."""
        inside = self.area.rect()
        return {
            name: dock
            for name, dock in self.docks.items()
            if dock.isVisible() and not dock.isFloating() and inside.intersects(dock.geometry())
        }

    def measured(self) -> Fractions:
        """The shares the docks on screen have now."""
        width, height = max(self.area.width(), 1), max(self.area.height(), 1)
        return {n: (d.width() / width, d.height() / height) for n, d in self.front_docks().items()}

    # laying out --------------------------------------------------------------------------------------
    def apply(self, fractions: Fractions) -> None:
        """Lay the docks out at these shares now and whenever the area changes size (until the
        person changes them)."""
        self.fractions = dict(fractions)
        self._record, self._reopened, self.changed_by_person = False, set(), False
        self._lay_out()
        self._size = QSize()  # laid out again once the area has its size and the docks their places
        self._settle_later()

    def record_now(self) -> None:
        """Keep the shares of a layout just restored (not the person's doing), measured now if the
        area is laid out on screen: a resize before a later measure would be Qt's distribution."""
        layout = self.area.layout()
        if not self.area.isVisible() or layout is None:
            self.record_later(by_person=False)
            return
        layout.activate()  # the restored state's geometry, now
        self.fractions = self.measured() or self.fractions
        self._size = self.area.size()

    def record_later(self, *_args, by_person: bool = True) -> None:
        """Keep the shares on screen once the layout has settled (a dock moved, a restored layout)."""
        self._record = True
        self.changed_by_person = self.changed_by_person or by_person
        self._settle_later()

    def _lay_out(self) -> None:
        """Resize the docks on screen to `fractions` of the area's current size."""
        shown = self.front_docks()
        known = [(self.docks[n], f) for n, f in self.fractions.items() if n in shown]
        if not known or self.area.width() <= 0:
            return
        for axis, orientation, length in (
            (0, Qt.Orientation.Horizontal, self.area.width()),
            (1, Qt.Orientation.Vertical, self.area.height()),
        ):
            sizes = [max(1, round(f[axis] * length)) for _, f in known]
            self.area.resizeDocks([dock for dock, _ in known], sizes, orientation)

    def _settle_later(self) -> None:
        if not self._settling:
            self._settling = True
            QTimer.singleShot(0, self._settle)

    def _settle(self) -> None:
        """After Qt's layout: make room for a reopened dock and record what the person made, or lay
        the shares out again at the area's new size."""
        self._settling = False
        if not self.area.isVisible() or self.area.width() <= 0:
            return
        if self._reopened:
            shown = self.front_docks()
            if not self._reopened <= set(shown) and self._tries < 5:  # Qt has not placed it yet
                self._tries += 1
                self._settle_later()
                return
            if self._make_room(self._reopened & set(shown)) and self._tries < 5:
                self._tries += 1  # Qt lays a resized dock out later: look again once it has
                self._settle_later()
                return
            self._tries = 0
            self._reopened.clear()
        if self._record:
            self._record = False
            self.fractions = self.measured() or self.fractions
        elif self.area.size() != self._size:
            self._lay_out()
        self._size = self.area.size()

    def _laid_out_at_once(self) -> bool:
        """The area has a new size and nothing the person did waits to be recorded: the shares are
        laid out now, not after the event loop's next round, so a picture laid out at another size
        (seqviz.app.export.pictures resizes the area and paints at once) has the same layout every
        time, and the window has it again afterwards."""
        busy = self._record or self._reopened or self._size.isEmpty()
        if busy or not self.fractions or not self.area.isVisible():
            return False
        self._lay_out()
        self._size = self.area.size()
        return True

    def _make_room(self, reopened: set[str]) -> bool:
        """Every dock on screen gets at least MIN_SHARE of the area in both directions, a reopened one
        at least its fair share (one over the docks sharing that direction with it). True if a dock
        had to be resized."""
        shown, resized = self.front_docks(), False
        for axis, orientation in ((0, Qt.Orientation.Horizontal), (1, Qt.Orientation.Vertical)):
            length = (self.area.width(), self.area.height())[axis]
            for name, dock in shown.items():
                beside = [d for d in shown.values() if _beside(d, dock, axis)]
                wanted = max(MIN_SHARE, 1.0 / (len(beside) + 1)) if name in reopened else MIN_SHARE
                if (dock.width(), dock.height())[axis] < wanted * length - 1:
                    self.area.resizeDocks([dock], [round(wanted * length)], orientation)
                    resized = True
        return resized

    # events ------------------------------------------------------------------------------------------
    def _on_toggled(self, shown: bool) -> None:
        """View › a panel's entry: reopened (shown) or closed."""
        action = self.sender()
        name = next((n for n, d in self.docks.items() if d.toggleViewAction() is action), None)
        if shown and name is not None:
            self._reopened.add(name)
        self.record_later()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        kind = event.type()
        if watched is self.area and kind == QEvent.Type.Resize:
            if self._laid_out_at_once():
                return False
            self._settle_later()
        elif kind == QEvent.Type.MouseButtonRelease and _on_frame(watched, event):
            self.record_later()  # the end of a drag: a separator (the area's), a dock's title bar
        elif kind == QEvent.Type.Close:
            self.record_later()  # a dock's close button
        return False


def _beside(a: QDockWidget, b: QDockWidget, axis: int) -> bool:
    """True when `a` and `b` share a row (axis 0: side by side) or a column (axis 1: one above the
    other), so they split that direction between them."""
    if a is b:
        return False
    ga, gb = a.geometry(), b.geometry()
    if axis == 0:
        return ga.top() < gb.bottom() and gb.top() < ga.bottom()
    return ga.left() < gb.right() and gb.left() < ga.right()


def _on_frame(watched: QObject, event) -> bool:
    """True for a mouse event on the area itself (its separators) or a dock's title bar, not on a
    panel (a click a panel leaves unhandled reaches its dock too)."""
    content = watched.widget() if isinstance(watched, QDockWidget) else None
    return content is None or event.position().y() < content.y()
