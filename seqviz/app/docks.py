"""DockArea: the panels as dock widgets the person can move, close and reopen.

It is a QMainWindow used as a plain widget inside the main window, so the token strip can sit across
the full width above every dock. Panels come from `seqviz.app.panels.PANEL_CLASSES` (importing them
imports pyqtgraph, which is why the window creates them only after it is on screen).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from seqviz.app.panels.base import Panel
from seqviz.app.settings import LAYOUT_VERSION
from seqviz.app.state import ViewState
from seqviz.core.trace import Trace

log = logging.getLogger("seqviz")
Area = Qt.DockWidgetArea
# Where a panel starts; panels not named here go to the right.
DEFAULT_AREAS = {
    "hidden": Area.LeftDockWidgetArea,
    "gates": Area.RightDockWidgetArea,
    "attention": Area.RightDockWidgetArea,
    "output": Area.BottomDockWidgetArea,
    "units": Area.BottomDockWidgetArea,
}


def panel_classes() -> list[type[Panel]]:
    """The panel classes to dock, in their default order (none yet if the panels are not written)."""
    from seqviz.app import panels

    return [cls for cls in getattr(panels, "PANEL_CLASSES", []) if cls.name != "tokens"]


class DockArea(QMainWindow):
    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlags(Qt.WindowType.Widget)
        self.setObjectName("dockArea")
        self.setDockNestingEnabled(True)
        self.setDockOptions(self.dockOptions() | QMainWindow.DockOption.AllowTabbedDocks)
        self.state = state
        self.panels: dict[str, Panel] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.errors: list[str] = []

    def add_panels(self, classes: list[type[Panel]], view_menu: QMenu | None = None) -> None:
        """Create a dock per panel class, in the default layout."""
        for cls in classes:
            if cls.name in self.panels:
                continue
            panel = cls(self.state)
            dock = QDockWidget(panel.title, self)
            dock.setObjectName(f"dock_{panel.name}")
            dock.setWidget(panel)
            self.panels[panel.name] = panel
            self.docks[panel.name] = dock
            if view_menu is not None:
                view_menu.addAction(dock.toggleViewAction())
        self.default_layout()

    def default_layout(self) -> None:
        placed: dict[Qt.DockWidgetArea, QDockWidget] = {}
        for name, dock in self.docks.items():
            area = DEFAULT_AREAS.get(name, Area.RightDockWidgetArea)
            dock.setFloating(False)
            self.addDockWidget(area, dock)
            if area in placed and area == Area.RightDockWidgetArea:
                self.tabifyDockWidget(placed[area], dock)  # gates and attention rarely both apply
            elif area in placed:
                self.splitDockWidget(placed[area], dock, Qt.Orientation.Horizontal)
            placed.setdefault(area, dock)
            dock.show()

    def save_layout(self) -> QByteArray:
        return self.saveState(LAYOUT_VERSION)

    def restore_layout(self, data: QByteArray | None) -> bool:
        return bool(data) and self.restoreState(data, LAYOUT_VERSION)

    def set_trace(self, trace: Trace | None) -> list[str]:
        """Give every panel the trace; a panel that fails is reported, the others still update.

        Returns the failures as "title: message" lines.
        """
        failures = []
        for name, panel in self.panels.items():
            try:
                panel.set_trace(trace)
            except Exception as exc:
                log.exception("panel %s failed to show the trace", name)
                failures.append(f"{panel.title}: {type(exc).__name__}: {exc}")
        self._raise_applicable()
        return failures

    def _raise_applicable(self) -> None:
        """In a tab group, bring forward a panel that shows data rather than a not-applicable line."""
        for name, dock in self.docks.items():
            if self.panels[name].message is None:
                continue
            for other in self.tabifiedDockWidgets(dock):
                other_panel = other.widget()
                if isinstance(other_panel, Panel) and other_panel.message is None and not other.isHidden():
                    other.raise_()
                    break
