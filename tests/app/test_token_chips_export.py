"""Token chips in pictures: drawn at the picture's resolution like the plots, not blown up from the
screen's pixels (a 4K slide showed blocky, soft chip text under crisp plots)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QImage
from traces import lstm_trace, shown

from seqviz.app import MainWindow, export
from seqviz.app.export import pictures
from seqviz.core.trace import Trace

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "by", "the", "river"]


@pytest.fixture
def window(qtbot):
    w = shown(qtbot, MainWindow(), (1600, 900))
    base = lstm_trace(T=len(WORDS))
    w.show_trace(Trace({n: base[n] for n in base.names()}, tokens=WORDS, meta=base.meta))
    w.set_step(5)
    return w


def chip_box(window) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the chips in a picture of the window, in logical pixels."""
    strip = window.tokens.strip
    top = min(part.y() for part in pictures._parts(window))  # a picture starts below the menu bar
    origin = strip.mapTo(window, QPoint(0, 0))
    last = strip.chip_rect(len(WORDS) - 1)
    return (
        origin.x() + strip.left,
        origin.y() - top + last.top(),
        origin.x() + last.right(),
        origin.y() - top + last.bottom(),
    )


def chip_grey(image: QImage, window) -> np.ndarray:
    """(h, w) grey levels of the chip region of a picture of the window."""
    scale = image.width() / window.width()
    left, top, right, bottom = (round(v * scale) for v in chip_box(window))
    return pictures._rgb(image).astype(np.float64).mean(axis=2)[top:bottom, left:right]


def edge_energy(grey: np.ndarray) -> float:
    """Mean squared difference of horizontal neighbours: an upscaled, smoothed edge has less."""
    return float((np.diff(grey, axis=1) ** 2).mean())


def lone_pixel_share(grey: np.ndarray) -> float:
    """Of the pixels at an edge, the share that differs from both horizontal neighbours. A picture
    blown up from bigger pixels repeats each pixel at least twice across, so this share is 0."""
    left, right = grey[:, 1:-1] != grey[:, :-2], grey[:, 1:-1] != grey[:, 2:]
    return float((left & right).sum() / max((left | right).sum(), 1))


def test_chips_in_a_4k_picture_are_drawn_at_4k(window):
    full_hd = export.render_picture(window, QSize(1920, 1080))
    uhd = export.render_picture(window, QSize(3840, 2160))
    chips = chip_grey(uhd, window)
    # not the screen's chip pixels blown up into blocks (before: a share of exactly 0) ...
    assert lone_pixel_share(chips) > 0.2
    # ... nor smoothed: text and borders have edges as sharp as the plots'
    upscaled = full_hd.scaled(3840, 2160, mode=Qt.TransformationMode.SmoothTransformation)
    assert edge_energy(chips) > 1.5 * edge_energy(chip_grey(upscaled, window))
    # and the same chips: the 4K picture shrunk back is the Full HD one, give or take antialiasing
    shrunk = uhd.scaled(1920, 1080, mode=Qt.TransformationMode.SmoothTransformation)
    assert np.abs(chip_grey(shrunk, window) - chip_grey(full_hd, window)).mean() < 4


def test_chips_on_screen_still_come_from_the_cache(window):
    strip = window.tokens.strip
    export.render_picture(window, QSize(3840, 2160))
    strip.chips.cache.clear()
    strip.repaint()
    assert strip.chips.cache  # the screen blits chips drawn once, at its own pixel ratio


def test_chips_in_an_svg_are_text(window, tmp_path):
    path = export.save_picture(window.panels["tokens"], tmp_path / "tokens.svg", QSize(1600, 60))
    root = ET.parse(path).getroot()
    texts = {(el.text or "").strip() for el in root.iter() if el.tag.endswith("text")}
    assert {"quick", "brown", "fox"} <= texts  # selectable, sharp at any zoom in a slide
