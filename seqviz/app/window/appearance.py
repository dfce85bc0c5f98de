"""The window's side of themes: View > Theme, the remembered choice, and what the plots don't draw.

`seqviz.app.window.theme` styles the plots. Here the rest of the application follows: the dark theme gets
a dark Qt palette, and every theme its text size for everything that is text — menus, toolbar, status
bar, step counter, dialogs, the panels' controls (the application's font: the presentation theme's is
1.6 times the light theme's) — with toolbar icons to match, transport icons in the palette's text
colour (Qt's dark grey ones looked disabled on the dark toolbar), and its accent on the current token.
The window's height scales the text of a theme made for larger windows (text_scale_for). The choice
is remembered in the settings and applied before the panels are built at the next launch.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtGui import QActionGroup, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QComboBox, QMenu, QStyle

from seqviz.app.window import theme as themes
from seqviz.app.window import transport_icons
from seqviz.app.window.theme import THEMES, Theme, theme_names

DEFAULT_THEME = "light"
# A theme's text sizes are for a window at least TEXT_FULL_HEIGHT pixels tall; a smaller one draws
# text smaller (theme.set_text_scale), down to the light theme's size at TEXT_SMALL_HEIGHT: the
# presentation theme's 16 points are 12 at 1280x720 and 10 at 1024x640 (a common projector), about as
# tall against the projected picture, with room left for the gates' heatmaps (at 16 points they were
# 8 pixels high). 1600x900, the layout of exports without a window, keeps 16.
TEXT_FULL_HEIGHT, TEXT_SMALL_HEIGHT = 900, 640


def text_scale_for(height: int) -> float:
    """The text scale of a window `height` pixels tall (1.0 from TEXT_FULL_HEIGHT up)."""
    smallest = themes.MIN_FONT_SIZE / max(theme.font_size for theme in THEMES.values())
    room = (height - TEXT_SMALL_HEIGHT) / (TEXT_FULL_HEIGHT - TEXT_SMALL_HEIGHT)
    return smallest + (1.0 - smallest) * min(max(room, 0.0), 1.0)


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
    window.installEventFilter(_TextFollowsHeight(window))
    style_window(window, THEMES[remembered_theme(window)])
    return menu


class _TextFollowsHeight(QObject):
    """The window's height sets the text scale of the themes (`text_scale_for`)."""

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt)
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show) and watched.isVisible():
            before = themes.current_theme()
            themes.set_text_scale(text_scale_for(watched.height()))
            if themes.current_theme() != before:
                style_window(watched, themes.current_theme())
        return False


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


def text_scale(theme: Theme) -> float:
    """How much larger than the light theme's `theme` draws text and icons (presentation: 1.6)."""
    return theme.font_size / THEMES[DEFAULT_THEME].font_size


def style_application(theme: Theme) -> None:
    """The palette and the text size of `theme` for every widget and dialog of the application."""
    app = QApplication.instance()
    if app is None:
        return
    palette = _dark_palette() if theme.name == "dark" else app.style().standardPalette()
    if palette != app.palette():
        app.setPalette(palette)
    global _base_font_size
    if _base_font_size is None:
        _base_font_size = app.font().pointSizeF()
    font = app.font()
    font.setPointSizeF(_base_font_size * text_scale(theme))
    if font != app.font():
        app.setFont(font)


def style_window(window, theme: Theme) -> None:
    """`theme` for the window: palette and text size (`style_application`), toolbar icons, the
    token accent (the plots restyle themselves). Text sizes are the window's (`text_scale_for`)."""
    theme = themes.current_theme() if theme.name == themes.current_theme().name else theme
    style_application(theme)
    app = QApplication.instance()
    window.dock_area.setFont(_dock_font(app.font()))
    base = window.style().pixelMetric(QStyle.PixelMetric.PM_ToolBarIconSize)
    size = round(base * text_scale(theme))
    window.toolbar.setIconSize(QSize(size, size))
    for combo in window.toolbar.findChildren(QComboBox):
        # QComboBox keeps its minimum size hint through a font change: the toolbar then put items
        # into its overflow menu that would fit, or overlapped them
        QApplication.sendEvent(combo, QEvent(QEvent.Type.StyleChange))
    playing = window.playback.playing
    transport_icons.apply(window.commands, app.palette(), size, playing)
    # The token strip sizes its chips from the theme itself (TokenStrip.apply_theme): setting its font
    # here too made its size depend on which of the two ran last.
    strip = window.tokens.strip
    strip.accent = QColor(theme.accent)
    strip.update()


def _dock_font(font: QFont) -> QFont:
    """`font` as the docks' own. A dock draws its title in the application's "QDockWidgetTitle" font
    as it was when the dock was made, unless the dock's font differs from the application's
    (qdockwidget.cpp, paintEvent): the titles stayed small in the presentation theme. The style
    strategy makes it differ without changing how the text looks."""
    font = QFont(font)
    font.setStyleStrategy(QFont.StyleStrategy.PreferQuality)
    return font


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
