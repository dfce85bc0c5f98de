"""The window's side of themes: View > Theme, the remembered choice, and what the plots don't draw.

`seqviz.app.window.theme` styles the plots. Here the rest of the window follows: the dark theme gets a dark
Qt palette (toolbar, controls, token strip), the presentation theme larger text in the panels and the
token strip, and every theme its accent on the current token. The choice is remembered in the
settings and applied before the panels are built at the next launch.
"""

from __future__ import annotations

from PySide6.QtGui import QActionGroup, QColor, QPalette
from PySide6.QtWidgets import QApplication, QMenu

from seqviz.app.window.theme import THEMES, Theme, theme_names

DEFAULT_THEME = "light"
_base_font_size: float | None = None  # the application's point size before any theme scaled it


def remembered_theme(window) -> str:
    name = window.settings.theme
    return name if name in THEMES else DEFAULT_THEME


def add_theme_menu(window, view_menu: QMenu) -> QMenu:
    """View > Theme: one checkable entry per theme."""
    menu = view_menu.addMenu("Theme")
    group = QActionGroup(menu)
    window.theme_actions = {}
    for name in theme_names():
        action = menu.addAction(name.capitalize())
        action.setCheckable(True)
        action.setStatusTip(_THEME_TIPS.get(name, ""))
        action.setData(name)
        group.addAction(action)
        action.triggered.connect(lambda _=False, n=name: apply_theme(window, n))
        window.theme_actions[name] = action
    window.theme_actions[remembered_theme(window)].setChecked(True)
    style_window(window, THEMES[remembered_theme(window)])
    return menu


_THEME_TIPS = {
    "light": "White background, the usual sizes",
    "dark": "Dark background for a dim room",
    "presentation": "White background, large text, thick lines, colour maps for projectors and "
    "colour-blind viewers",
}


def apply_theme(window, name: str) -> Theme:
    """Switch every panel and the window to theme `name` and remember it."""
    from seqviz.app.window.theme import set_theme

    theme = set_theme(name)
    window.settings.theme = name
    action = getattr(window, "theme_actions", {}).get(name)
    if action is not None:
        action.setChecked(True)
    style_window(window, theme)
    return theme


def style_window(window, theme: Theme) -> None:
    """Palette, panel text size and token accent of `theme` (the plots restyle themselves)."""
    app = QApplication.instance()
    app.setPalette(_dark_palette() if theme.name == "dark" else app.style().standardPalette())
    global _base_font_size
    if _base_font_size is None:
        _base_font_size = app.font().pointSizeF()
    scale = theme.font_size / THEMES[DEFAULT_THEME].font_size
    font = app.font()
    font.setPointSizeF(_base_font_size * scale)
    window.dock_area.setFont(font)
    # The token strip sizes its chips from the theme itself (TokenStrip.apply_theme): setting its font
    # here too made its size depend on which of the two ran last.
    strip = window.tokens.strip
    strip.accent = QColor(theme.accent)
    strip.update()


def _dark_palette() -> QPalette:
    roles = QPalette.ColorRole
    colours = {
        roles.Window: "#2b2b2b",
        roles.WindowText: "#dddddd",
        roles.Base: "#1e1e1e",
        roles.AlternateBase: "#2b2b2b",
        roles.ToolTipBase: "#3a3a3a",
        roles.ToolTipText: "#eeeeee",
        roles.Text: "#dddddd",
        roles.Button: "#353535",
        roles.ButtonText: "#dddddd",
        roles.BrightText: "#ff6b6b",
        roles.Highlight: "#ffa94d",
        roles.HighlightedText: "#1e1e1e",
        roles.Link: "#74a9cf",
        roles.PlaceholderText: "#8a8a8a",
        roles.Mid: "#4a4a4a",
        roles.Light: "#505050",
        roles.Dark: "#1a1a1a",
    }
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, QColor("#777777"))
    return palette


def use_remembered_theme(window) -> None:
    """Before the panels are built: plots are created in the remembered theme."""
    from seqviz.app.window.theme import set_theme

    set_theme(remembered_theme(window))
