"""DockArea: the panels as dock widgets the person can move, close and reopen.

It is a QMainWindow used as a plain widget inside the main window, so the token strip can sit across
the full width above every dock. Panels come from `seqviz.app.panels.PANEL_CLASSES` (importing them
imports pyqtgraph, which is why the window creates them only after it is on screen).

A layout that must come out exactly as saved (a scene) is restored into a `renewed()` area. The
panels' combo boxes and labels are sized by their content and font alone, never by what they showed
before, so the same view gives the same pixels in any window.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QDockWidget, QLabel, QMainWindow, QMenu, QWidget

from seqviz.app.panels.base import Panel
from seqviz.app.panels.traceinfo import is_transformer
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window import find_units, layouts
from seqviz.app.window.dock_shares import DockShares
from seqviz.app.window.settings import LAYOUT_VERSION
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
    "gradients": Area.RightDockWidgetArea,  # tabbed with gates and attention
    "find_units": Area.RightDockWidgetArea,  # a tool: tabbed behind the others (the first stays in front)
}
COMBO_MIN_CHARS = 6  # a panel's combo box is at least this many characters wide, wider for longer items


def panel_classes() -> list[type[Panel]]:
    """The panel classes to dock, in their default order."""
    from seqviz.app import panels
    from seqviz.app.panels.find_units import FindUnitsPanel

    return [*(cls for cls in panels.PANEL_CLASSES if cls.name != "tokens"), FindUnitsPanel]


class DockArea(QMainWindow):
    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlags(Qt.WindowType.Widget)
        self.setObjectName("dockArea")
        self.setDockNestingEnabled(True)
        self.setDockOptions(self.dockOptions() | QMainWindow.DockOption.AllowTabbedDocks)
        self.viewer = viewer
        self.panels: dict[str, Panel] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.errors: list[str] = []
        self.shares = DockShares(self, self.docks)  # the docks keep their share of the room
        self._shows_transformer = False  # what Reset layout lays out for
        self._preset: str | None = None  # the layout preset on screen, None for a restored one
        self._restore_on_show: QByteArray | None = None  # a saved layout waiting for the area's size
        self._combo_sizes = _ComboSizes(self)

    def add_panels(
        self, classes: list[type[Panel]], view_menu: QMenu | None = None, layout: QByteArray | None = None
    ) -> None:
        """Create a dock per panel class, placed by `layout` (a `save_layout()`) or else by default."""
        for cls in classes:
            if cls.name in self.panels:
                continue
            panel = cls(self.viewer)
            _sizes_follow_content_and_font(panel, self._combo_sizes)
            dock = QDockWidget(panel.title, self)
            dock.setObjectName(f"dock_{panel.name}")
            dock.setWidget(panel)
            self.panels[panel.name] = panel
            self.docks[panel.name] = dock
            self.shares.watch(dock)
            if view_menu is not None:
                view_menu.addAction(dock.toggleViewAction())
        # restored into an empty area: restoring over a layout leaves its tab bars on screen
        if layout and not self.isVisible():
            # restored once the area has its size on screen (showEvent): restored into an area of no
            # size yet (a script's MainWindow()), the docks came out in other proportions than saved
            self.default_layout()  # no tab bars to leave behind
            self._restore_on_show = layout
        elif not self.restore_layout(layout):
            self.default_layout()
        self._place_missing()
        find_units.attach(self.window(), self.panels.get("find_units"))  # it asks the window's model

    def renewed(self) -> DockArea:
        """A new, empty dock area with this one's panels, put in this one's place (which is deleted).

        Qt keeps a tab group's tab bar on screen when a state is restored over a layout that had one
        (Qt 6.11), so a layout that must come out exactly as saved is restored into a renewed area."""
        new = DockArea(self.viewer, self.parentWidget())
        new.setFont(self.font())  # the theme's panel text size
        new.setGeometry(self.geometry())  # a layout is restored relative to the area's size
        for name, dock in self.docks.items():
            self.removeDockWidget(dock)
            dock.setParent(new)
            new.docks[name], new.panels[name] = dock, self.panels[name]
            new.shares.watch(dock)
        new.errors, new._shows_transformer = self.errors, self._shows_transformer
        new._preset = self._preset
        new._combo_sizes.deleteLater()  # the combo boxes keep the filter they have
        new._combo_sizes = self._combo_sizes
        self._combo_sizes.setParent(new)
        holder = self.parentWidget().layout() if self.parentWidget() is not None else None
        if holder is not None:
            holder.replaceWidget(self, new)
        new.setVisible(self.isVisible())
        self.hide()
        self.deleteLater()
        return new

    def default_layout(self) -> None:
        """The layout for the kind of model on screen (View › Reset layout): the gates' lesson, or the
        attention's for a Transformer; in a tab group, one that applies to the trace is in front."""
        self.show_layout(layouts.default_for(self._shows_transformer))

    def show_layout(self, layout: layouts.Layout) -> None:
        """Place the docks as `layout` says (View › Layout), a panel that applies in front."""
        self._restore_on_show = None
        layouts.arrange(self, layout)
        self._preset = layout.name
        # a preset's first panel may not apply (gates for a Transformer): one that does goes forward
        self._raise_applicable()

    def _place_missing(self) -> None:
        """Docks a restored layout does not know (panels added since it was saved) go to their default
        area, tabbed behind the dock there: Qt leaves them unplaced, drawn over the area's corner."""
        for name, dock in self.docks.items():
            if dock.isFloating() or self.dockWidgetArea(dock) != Area.NoDockWidgetArea:
                continue
            area = DEFAULT_AREAS.get(name, Area.RightDockWidgetArea)
            placed = [d for d in self.docks.values() if d is not dock and self.dockWidgetArea(d) == area]
            placed.sort(key=QDockWidget.isHidden)  # beside a dock on screen, if there is one
            self.addDockWidget(area, dock)
            if placed:
                self.tabifyDockWidget(placed[0], dock)  # the tab in front stays in front

    def save_layout(self) -> QByteArray:
        return self._restore_on_show or self.saveState(LAYOUT_VERSION)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().showEvent(event)
        data, self._restore_on_show = self._restore_on_show, None
        if data is not None and self.restore_layout(data):  # the window was laid out before it showed
            self._place_missing()

    def restore_layout(self, data: QByteArray | None) -> bool:
        self._restore_on_show = None
        restored = bool(data) and self.restoreState(data, LAYOUT_VERSION)
        if restored:
            self._preset = None  # a saved layout is kept as it is, whatever the model
            self.shares.record_now()  # its shares, kept as the window changes size
        return restored

    def set_trace(self, trace: Trace | None) -> list[str]:
        """Give every panel the trace; a panel that fails is reported, the others still update.

        Returns the failures as "title: message" lines.
        """
        failures = []
        self._follow_model_kind(trace is not None and is_transformer(trace))
        for name, panel in self.panels.items():
            try:
                panel.set_trace(trace)
            except Exception as exc:
                log.exception("panel %s failed to show the trace", name)
                failures.append(f"{panel.title}: {type(exc).__name__}: {exc}")
        self._raise_applicable()
        return failures

    def _follow_model_kind(self, transformer: bool) -> None:
        """A Transformer after a recurrent model (or back): the default layout of the one is swapped
        for the other's, unless the person has changed the layout since (or it was restored)."""
        before, self._shows_transformer = self._shows_transformer, transformer
        if transformer == before or self.shares.changed_by_person:
            return
        if self._preset == layouts.default_for(before).name:
            self.show_layout(layouts.default_for(transformer))

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


class _ComboSizes(QObject):
    """Event filter: a combo box forgets both cached size hints when its font changes.

    QComboBox resets only its size hint on a font change and keeps the minimum one, so boxes stayed
    presentation-sized after switching to another theme."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FontChange:
            QApplication.sendEvent(watched, QEvent(QEvent.Type.StyleChange))  # resets both hints
        return False


def _sizes_follow_content_and_font(panel: QWidget, combo_filter: _ComboSizes) -> None:
    """Make the size of `panel`'s combo boxes and labels depend on their content and font alone.

    Qt sizes a combo box by the items it had when first shown, and an empty QLabel that never had
    text keeps the size hint of its first font, so a panel's controls came out a few pixels apart
    depending on what it had shown before and which themes it went through (a reopened scene
    differed from the window it was saved from). With AdjustToContents a box's size hint follows its
    items; with a minimum length its minimum size hint follows the font alone."""
    for combo in panel.findChildren(QComboBox):
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.setMinimumContentsLength(COMBO_MIN_CHARS)
        combo.installEventFilter(combo_filter)
    for label in panel.findChildren(QLabel):
        if not label.text():
            label.setText(" ")  # a label that has had text recomputes its size on a font change
            label.setText("")
