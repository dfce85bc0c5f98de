"""Colours a projector must keep apart: no line of a run or unit in the step cursor's colour, lines
visible on the background, and a hidden-state colour map whose middle values do not wash out."""

from __future__ import annotations

import numpy as np
import pytest
from traces import lstm_trace, open_panel

from seqviz.app.panels import plotting
from seqviz.app.panels.units import UnitsPanel
from seqviz.app.window.theme import THEMES

DISTINCT = 40.0  # CIE76 distance between two colours told apart at a glance (1 is just noticeable)


def lab(rgb) -> np.ndarray:
    """CIE L*a*b* of sRGB colours in 0..255, shape (..., 3)."""
    rgb = np.asarray(rgb, float) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def hex_rgb(colour: str) -> list[int]:
    colour = colour.lstrip("#")
    return [int(colour[i : i + 2], 16) for i in (0, 2, 4)]


def distance(a, b) -> float:
    return float(np.linalg.norm(lab(a) - lab(b)))


@pytest.mark.parametrize("name", list(THEMES))
def test_no_line_colour_is_near_the_cursor_or_the_background(name):
    theme = THEMES[name]
    for colour in theme.palette:
        assert distance(hex_rgb(colour), hex_rgb(theme.cursor)) >= DISTINCT, (name, colour)
        assert distance(hex_rgb(colour), hex_rgb(theme.background)) >= DISTINCT, (name, colour)


@pytest.mark.parametrize("name", list(THEMES))
def test_the_hidden_state_colour_map_does_not_wash_out(name):
    """Half the range away from zero is a clearly other colour than zero, and the ends are dark: the
    presentation theme's CET-CBD1 was 35 units from its middle at half the range, its ends L = 60."""
    table = plotting.lut(THEMES[name].diverging_cmap)  # (256, 3) from -max to +max
    middle = (table[127].astype(float) + table[128]) / 2
    for half in (64, 191):
        assert distance(table[half], middle) >= 50, (name, half)
    assert lab(table[0])[0] <= 45 and lab(table[-1])[0] <= 45, name


@pytest.mark.parametrize("name", list(THEMES))
def test_selected_units_are_never_drawn_in_the_cursor_colour(qtbot, theme, name):
    theme(name)
    viewer, panel = open_panel(qtbot, UnitsPanel, lstm_trace(T=9))
    viewer.selection.set_units(tuple(range(8)))
    assert len(panel.curves) == 8
    cursor = hex_rgb(THEMES[name].cursor)
    for curve in panel.curves:
        colour = curve.opts["pen"].color()
        assert distance([colour.red(), colour.green(), colour.blue()], cursor) >= DISTINCT, name
