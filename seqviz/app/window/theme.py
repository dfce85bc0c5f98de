"""Themes: every colour, font size and stroke width the panels use comes from here.

`current_theme()` is read by the panels when they build their plots; `set_theme(name)` switches it and
emits `theme_notifier.themeChanged`, which every panel connects to its `apply_theme()` so a switch
restyles open panels in place (no data re-upload). Colour maps are named here and turned into
lookup tables by `seqviz.app.panels.plotting`.

Stroke widths are in device pixels (pyqtgraph's pens are cosmetic): a picture painted at a device pixel
ratio s (seqviz.app.export.pictures) would have lines 1/s as thick relative to the picture as on screen.
`set_stroke_scale(s)` makes `current_theme()` return the theme with every stroke width times s and
emits `theme_notifier.strokesChanged`, which panels connect to `apply_strokes()` (pens only: fonts,
layout and data stay as they are). `set_text_scale(s)` (the window's height) makes a theme's text
smaller in a small window, never below the light theme's; it restyles like a theme switch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Signal


@dataclass(frozen=True)
class Theme:
    name: str
    background: str  # plot background
    foreground: str  # axes, text
    font_size: int  # points, axis labels and panel text
    line_width: float  # curves and cursors, pixels
    diverging_cmap: str  # values centred at 0 (hidden states, candidates, cell)
    sequential_cmap: str  # values in [0, 1] (gates, attention, probabilities)
    cursor: str  # the step cursor on every time axis
    mask: str  # covers the not-yet-read future (drawn semi-opaque)
    mask_alpha: int  # 0..255
    masked_cell: str  # attention entries that are masked out (never a colour-map colour)
    accent: str  # highlights: the current query row, the selected thumbnail, the true token
    bar: str  # ordinary bars
    palette: tuple[str, ...]  # categorical colours for line plots (units, classes): never the cursor's
    outline_width: float = 1.0  # axes, frames, borders, the faintest attention line, pixels
    highlight_width: float = 3.0  # the selected thumbnail's border, pixels
    link_width: float = 8.0  # the attention line of weight 1, pixels

    def with_text_scale(self, factor: float) -> Theme:
        """This theme with its text `factor` times as large, but never smaller than MIN_FONT_SIZE."""
        size = max(MIN_FONT_SIZE, min(self.font_size, round(self.font_size * factor)))
        return self if size == self.font_size else replace(self, font_size=size)

    def with_stroke_scale(self, factor: float) -> Theme:
        """This theme with every stroke width times `factor` (colours and font sizes unchanged)."""
        return replace(self, **{name: getattr(self, name) * factor for name in STROKE_FIELDS})


#: text is never smaller than this (the light theme's size), whatever the window's size
MIN_FONT_SIZE = 10
#: the Theme fields that are stroke widths in pixels
STROKE_FIELDS = ("line_width", "outline_width", "highlight_width", "link_width")


# Line colours stay far from the step cursor's (CIE76 distance >= 40; tests/app/test_theme_colours.py):
# the presentation theme's first unit was drawn in the cursor's own vermilion, and the light and dark
# themes had an orange next to their orange cursor. Presentation: Okabe-Ito (distinguishable with the
# common colour-vision deficiencies) without vermilion and orange, then purple and grey.
_OKABE_ITO_LINES = ("#0072B2", "#009E73", "#CC79A7", "#000000", "#56B4E9", "#6a3d9a", "#7f7f7f", "#F0E442")

THEMES: dict[str, Theme] = {
    "light": Theme(
        name="light",
        background="#ffffff",
        foreground="#222222",
        font_size=10,
        line_width=1.5,
        diverging_cmap="CET-D1A",
        sequential_cmap="viridis",
        cursor="#e8590c",
        mask="#ffffff",
        mask_alpha=200,
        masked_cell="#c8c8c8",
        accent="#e8590c",
        bar="#4c72b0",
        palette=("#1f77b4", "#2ca02c", "#9467bd", "#e377c2", "#17becf", "#8c564b", "#bcbd22", "#7f7f7f"),
    ),
    "dark": Theme(
        name="dark",
        background="#1e1e1e",
        foreground="#dddddd",
        font_size=10,
        line_width=1.5,
        diverging_cmap="CET-D1A",
        sequential_cmap="viridis",
        cursor="#ffa94d",
        mask="#1e1e1e",
        mask_alpha=200,
        masked_cell="#4a4a4a",
        accent="#ffa94d",
        bar="#74a9cf",
        palette=("#56B4E9", "#009E73", "#CC79A7", "#F0E442", "#ffffff", "#9467bd", "#b2df8a", "#e7298a"),
    ),
    "presentation": Theme(
        name="presentation",
        background="#ffffff",
        foreground="#000000",
        font_size=16,
        line_width=3.0,
        # CET-CBD1 (blue-grey-yellow) washed out on a projector: half the range was 35 units of CIE
        # colour away from zero against 73 for CET-D1A, its ends a pale L = 60 against 20
        diverging_cmap="CET-D1A",
        sequential_cmap="cividis",
        cursor="#D55E00",
        mask="#ffffff",
        mask_alpha=215,
        masked_cell="#bdbdbd",
        accent="#D55E00",
        bar="#0072B2",
        palette=_OKABE_ITO_LINES,
    ),
}


class _ThemeNotifier(QObject):
    themeChanged = Signal(object)  # the new Theme
    strokesChanged = Signal(object)  # the current Theme with its strokes scaled; only pens change


theme_notifier = _ThemeNotifier()
_current: Theme = THEMES["light"]
_stroke_scale = 1.0
_text_scale = 1.0
_scaled_text: tuple = (None, None, None)  # (theme, text scale, the theme with its text scaled)


def current_theme() -> Theme:
    """The theme panels should draw with now: its text smaller in a small window (`set_text_scale`),
    its strokes scaled while a picture is painted (`set_stroke_scale`)."""
    global _scaled_text
    if _scaled_text[:2] != (_current, _text_scale):  # one object per theme and scale: `is` holds
        _scaled_text = (_current, _text_scale, _current.with_text_scale(_text_scale))
    theme = _scaled_text[2]
    return theme if _stroke_scale == 1.0 else theme.with_stroke_scale(_stroke_scale)


def text_scale() -> float:
    return _text_scale


def set_text_scale(factor: float) -> float:
    """Draw text `factor` (<= 1) times the theme's size, never below MIN_FONT_SIZE: the presentation
    theme's 16 points are for a window about 860 pixels tall, and at 1024x640 (a common projector)
    its panels had no room left for their plots; text as tall relative to the window reads as well on
    the projected picture. Returns the previous factor; open panels restyle when the text changes."""
    global _text_scale
    if not 0 < factor <= 1:
        raise ValueError(f"text scale must be in (0, 1], not {factor}")
    previous, before = _text_scale, current_theme()
    _text_scale = float(factor)
    if current_theme() != before:
        theme_notifier.themeChanged.emit(current_theme())
    return previous


def stroke_scale() -> float:
    return _stroke_scale


def set_stroke_scale(factor: float) -> float:
    """Draw every stroke `factor` times as wide (1.0: as the theme says); returns the previous
    factor, for putting it back. Open panels re-pen themselves."""
    global _stroke_scale
    if not factor > 0:
        raise ValueError(f"stroke scale must be positive, not {factor}")
    previous = _stroke_scale
    if factor != previous:
        _stroke_scale = float(factor)
        theme_notifier.strokesChanged.emit(current_theme())
    return previous


def set_theme(name: str) -> Theme:
    """Switch the theme ("light", "dark", "presentation"); open panels restyle themselves."""
    global _current
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
    theme = THEMES[name]
    import pyqtgraph as pg  # here, so the theme names are known before pyqtgraph is imported

    # pyqtgraph reads these when a plot widget is created; existing ones are restyled by apply_theme.
    pg.setConfigOptions(background=theme.background, foreground=theme.foreground)
    if theme != _current:
        _current = theme
        theme_notifier.themeChanged.emit(current_theme())
    return theme


def theme_names() -> list[str]:
    return list(THEMES)
