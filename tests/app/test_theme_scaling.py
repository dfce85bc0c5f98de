"""The presentation theme scales everything that is text — menus, toolbar, step counter, status bar,
dock titles, axis labels — with the window's height; the dark theme's transport buttons look enabled;
gate plots keep their full names where they fit."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QImage, QPalette
from PySide6.QtWidgets import QApplication
from traces import lstm_trace, shown

from seqviz.app import MainWindow
from seqviz.app.window import appearance
from seqviz.app.window.theme import current_theme


@pytest.fixture
def window(qtbot, dialog_log, theme):
    w = shown(qtbot, MainWindow(), (1920, 1080))
    w.show_trace(lstm_trace(T=20))
    w.set_step(4)
    return w


def settle(qtbot) -> None:
    for _ in range(4):
        qtbot.wait(5)


def text_sizes(window: MainWindow) -> dict[str, float]:
    """Point sizes of the window's texts, each as it is drawn."""
    gates = window.dock_area.panels["gates"]
    return {
        "menu bar": window.menuBar().font().pointSizeF(),
        "menus": window.view_menu.font().pointSizeF(),
        "toolbar": window.toolbar.text_edit.font().pointSizeF(),
        "step counter": window.toolbar.step_label.font().pointSizeF(),
        "status bar": window.status_model.font().pointSizeF(),
        "dock titles": window.dock_area.docks["gates"].font().pointSizeF(),
        "panel controls": gates.layer_box.font().pointSizeF(),
        "axis labels": gates.heatmaps[0].plot.getAxis("bottom").style["tickFont"].pointSizeF(),
    }


def test_the_presentation_theme_scales_every_text_not_only_the_plots(qtbot, window):
    light = text_sizes(window)
    icons = window.toolbar.iconSize().width()
    appearance.apply_theme(window, "presentation")
    settle(qtbot)
    presentation = text_sizes(window)
    for what, size in presentation.items():
        assert size >= 1.4 * light[what], what
    assert window.toolbar.iconSize().width() >= 1.4 * icons
    counter = window.toolbar.step_label  # sized for its font: not cut off
    assert counter.width() >= counter.fontMetrics().horizontalAdvance(counter.text())
    appearance.apply_theme(window, "light")
    settle(qtbot)
    assert text_sizes(window) == light  # and back


def test_text_follows_the_window_height_never_below_the_light_themes(qtbot, window):
    appearance.apply_theme(window, "presentation")
    sizes = {}
    for height in (1080, 720, 640, 1080):
        window.resize(1024 if height == 640 else 1920, height)
        settle(qtbot)
        sizes[height] = current_theme().font_size
    assert sizes[1080] == 16 and sizes[640] == 10 and 10 < sizes[720] < 16
    appearance.apply_theme(window, "light")
    window.resize(1024, 640)
    settle(qtbot)
    assert current_theme().font_size == 10


def _ink(icon: QIcon, mode: QIcon.Mode) -> np.ndarray:
    """The mean colour (0..1) of the icon's opaque pixels."""
    image = icon.pixmap(QSize(24, 24), mode).toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    rgba = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(image.height(), -1, 4)
    opaque = rgba[..., 3] > 200
    return rgba[opaque][:, :3].mean(axis=0) / 255.0


def _luminance(rgb) -> float:
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def _contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@pytest.mark.parametrize("theme_name", ["light", "dark", "presentation"])
def test_transport_buttons_stand_out_from_the_toolbar_and_from_disabled_ones(qtbot, window, theme_name):
    """Qt's dark grey media icons on the dark toolbar looked disabled."""
    appearance.apply_theme(window, theme_name)
    background = QApplication.palette().color(QPalette.ColorRole.Button)
    back = _luminance(np.array([background.redF(), background.greenF(), background.blueF()]))
    commands = window.commands
    for action in (commands.first, commands.back, commands.play, commands.forward, commands.last):
        enabled = _luminance(_ink(action.icon(), QIcon.Mode.Normal))
        disabled = _luminance(_ink(action.icon(), QIcon.Mode.Disabled))
        assert _contrast(enabled, back) >= 4.5, (theme_name, action.text())
        assert _contrast(enabled, back) > 1.5 * _contrast(disabled, back), (theme_name, action.text())
    window.playback.play()  # the pause icon follows the theme as well
    assert _contrast(_luminance(_ink(commands.play.icon(), QIcon.Mode.Normal)), back) >= 4.5
    window.playback.pause()


def _gate_names(window: MainWindow) -> list[str]:
    """Each gate heatmap's name as shown: its rotated side label or its title."""
    names = []
    for heatmap in window.dock_area.panels["gates"].shown_heatmaps.values():
        side = heatmap.plot.getAxis("left")
        title = heatmap.plot.titleLabel
        names.append(side.labelText if side.label.isVisible() else title.text if title.isVisible() else "")
    return names


def test_gate_plots_keep_their_full_names_where_they_fit(qtbot, window):
    full = ["input gate i", "forget gate f", "output gate o", "candidate g", "cell state c"]
    for theme_name in ("light", "presentation"):  # at 1920x1080 both have room for them
        appearance.apply_theme(window, theme_name)
        settle(qtbot)
        assert _gate_names(window) == full, theme_name
    window.resize(1024, 640)  # a small window shortens them, all alike
    settle(qtbot)
    shortened = _gate_names(window)
    assert shortened in (full, ["input i", "forget f", "output o", "candidate g", "cell c"], list("ifogc"))
