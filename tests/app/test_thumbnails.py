"""The layers x heads thumbnail grid: one ViewBox for ever, fresh images on every new array, clicks
that land on the thumbnail under the mouse, labels that fit, the selection framed."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from traces import shown

from seqviz.app.panels import plotting
from seqviz.app.panels.thumbnails import ThumbnailGrid, block_max
from seqviz.app.window.theme import current_theme

SHAPES = [(2, 3, 6, 6), (2, 3, 9, 9), (1, 4, 5, 8), (3, 2, 4, 4), (2, 3, 6, 6)]  # (L, heads, T, S)


def attention(shape, seed: int) -> np.ndarray:
    """(L, heads, T, S) rows of softmax-like weights."""
    weights = np.random.default_rng(seed).random(shape, dtype=np.float32)
    return weights / weights.sum(axis=-1, keepdims=True)


@pytest.fixture
def grid(qtbot):
    grid = shown(qtbot, ThumbnailGrid(), (420, 300))
    return grid


def viewboxes(grid: ThumbnailGrid) -> list:
    return [item for item in grid.scene().items() if isinstance(item, pg.ViewBox)]


def pixel_at(grid: ThumbnailGrid, view_point: QPointF) -> tuple[int, int, int]:
    """The colour the grid shows at a point in view coordinates."""
    QApplication.processEvents()
    picture = grid.grab().toImage()
    where = grid.mapFromScene(grid.view.mapViewToScene(view_point))
    colour = picture.pixelColor(where * picture.devicePixelRatio())
    return colour.red(), colour.green(), colour.blue()


def test_many_new_arrays_keep_one_viewbox_and_show_the_new_weights(grid):
    """set_data used to make a ViewBox per thumbnail every time (pyqtgraph crashed building them
    now and then); now one view lives for ever, and every call still shows the new weights."""
    view = grid.view
    previous = None
    for call in range(200):
        shape = SHAPES[call % len(SHAPES)]
        weights = attention(shape, seed=call)
        before = dict(grid.images)
        grid.set_data(weights, causal=call % 2 == 0)
        assert viewboxes(grid) == [view]
        layers, heads = shape[:2]
        assert set(grid.images) == {(layer, h) for layer in range(layers) for h in range(heads)}
        for (layer, head), image in grid.images.items():
            np.testing.assert_array_equal(image.image, weights[layer, head])
        if previous == shape[:2]:  # the same layers x heads: the images are reused, not remade
            assert all(grid.images[key] is before[key] for key in before)
        previous = shape[:2]
        # nothing piles up in the view: images, labels and the four path/rect items
        assert len(view.addedItems) == len(grid.images) + len(grid.labels) + 4


def test_a_new_array_of_the_same_shape_changes_the_colours_shown(grid):
    """A user would notice stale thumbnails: the picture, not only the data, must change."""
    shape = (2, 3, 6, 6)
    table = plotting.lut(current_theme().sequential_cmap)
    grid.set_data(np.ones(shape, np.float32), causal=False)
    centre = grid.cell_rect(1, 2).center()
    assert pixel_at(grid, centre) == tuple(int(v) for v in table[-1])
    grid.set_data(np.zeros(shape, np.float32), causal=False)
    assert pixel_at(grid, centre) == tuple(int(v) for v in table[0])


def test_clicks_select_the_thumbnail_under_the_mouse(qtbot, grid):
    grid.set_data(attention((2, 3, 6, 6), seed=1), causal=True)
    clicked = []
    grid.thumbnailClicked.connect(lambda layer, head: clicked.append((layer, head)))
    for key in grid.images:
        centre = grid.cell_rect(*key).center()
        at = grid.mapFromScene(grid.view.mapViewToScene(centre))
        qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert clicked == list(grid.images)
    label = grid.layer_labels[0].sceneBoundingRect().center()  # a label is not a thumbnail
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=grid.mapFromScene(label))
    assert len(clicked) == len(grid.images)


def label_rects(grid: ThumbnailGrid) -> list:
    QApplication.processEvents()
    return [label.sceneBoundingRect() for label in grid.labels]


def test_labels_are_long_when_they_fit_short_when_not_and_never_overlap(grid):
    grid.set_data(attention((2, 4, 6, 6), seed=2), causal=True)
    grid.resize(600, 300)
    QApplication.processEvents()
    assert [label.toPlainText() for label in grid.head_labels] == [f"head {h}" for h in range(1, 5)]
    assert grid.layer_labels[1].toPlainText() == "layer 2"
    grid.resize(grid.minimumWidth(), grid.minimumHeight())
    QApplication.processEvents()
    assert grid.head_labels[0].toPlainText() == "H1" and grid.layer_labels[0].toPlainText() == "L1"
    shown = grid.mapToScene(grid.viewport().rect()).boundingRect()
    rects = label_rects(grid)
    thumbnails = [image.sceneBoundingRect() for image in grid.images.values()]
    for i, rect in enumerate(rects):
        assert shown.contains(rect), grid.labels[i].toPlainText()
        others = rects[:i] + rects[i + 1 :] + thumbnails
        assert not any(rect.intersects(other) for other in others), grid.labels[i].toPlainText()
    assert min(r.height() for r in thumbnails) >= 10  # small, but still a picture


def test_the_selected_thumbnail_is_framed_and_its_causal_mask_drawn(grid):
    grid.set_data(attention((2, 3, 6, 6), seed=3), causal=True)
    grid.set_selected(1, 2)
    frame = grid.highlight.rect()
    assert grid.highlight.isVisible() and frame.contains(grid.cell_rect(1, 2))
    assert not frame.intersects(grid.cell_rect(0, 2)) and not frame.intersects(grid.cell_rect(1, 1))
    assert grid.highlight.pen().color().name() == QColor(current_theme().accent).name()
    cell = grid.cell_rect(0, 1)
    masked = grid.masks.path()
    assert masked.contains(cell.topLeft() + QPointF(cell.width() * 0.9, cell.height() * 0.1))
    assert not masked.contains(cell.topLeft() + QPointF(cell.width() * 0.1, cell.height() * 0.9))
    grid.set_data(attention((2, 3, 6, 6), seed=4), causal=False)  # an encoder: nothing masked
    assert grid.masks.path().isEmpty()


def test_thumbnails_keep_the_matrix_aspect_with_square_cells(grid):
    grid.set_data(attention((1, 4, 11, 8), seed=5), causal=False)  # cross-attention: T=11, S=8
    QApplication.processEvents()
    rect = grid.images[0, 0].sceneBoundingRect()
    assert rect.height() / rect.width() == pytest.approx(11 / 8, rel=0.02)
    shown = QRect(QPoint(0, 0), grid.viewport().size())
    for image in grid.images.values():
        assert shown.contains(grid.mapFromScene(image.sceneBoundingRect()).boundingRect())


def block_maxima(weights: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The plain loop: the largest weight of every rows x cols block."""
    steps, keys = weights.shape
    return np.array(
        [
            [weights[i : i + rows, j : j + cols].max() for j in range(0, keys, cols)]
            for i in range(0, steps, rows)
        ]
    )


@pytest.mark.parametrize("shape", [(1000, 1000), (129, 7), (7, 300), (257, 1000), (1, 500)])
def test_long_matrices_are_reduced_to_their_block_maxima(shape):
    weights = np.random.default_rng(7).random(shape, dtype=np.float32)
    reduced = block_max(weights, 128)
    rows, cols = -(-shape[0] // 128), -(-shape[1] // 128)
    np.testing.assert_array_equal(reduced, block_maxima(weights, rows, cols))
    assert max(reduced.shape) <= 128
    small = weights[:100, :100]
    assert block_max(small, 128) is small  # short inputs: every cell as it is


def test_a_long_input_shows_a_thin_diagonal_in_its_thumbnail(grid):
    """A previous-token head at T = 600: one weight of 1 per row. Averaged over 5 x 5 blocks it would
    fade to 0.2; the thumbnail keeps it at full colour and holds only the reduced image."""
    steps = 600
    weights = np.zeros((1, 2, steps, steps), np.float32)
    weights[0, :, np.arange(steps), np.arange(steps)] = 1.0
    grid.set_data(weights, causal=True)
    image = grid.images[0, 1].image
    assert image.shape == (120, 120)
    np.testing.assert_array_equal(np.diag(image), 1.0)
    rect = grid.cell_rect(0, 1)
    table = plotting.lut(current_theme().sequential_cmap)
    on_diagonal = rect.topLeft() + QPointF(rect.width() * 0.5, rect.height() * 0.5)
    assert pixel_at(grid, on_diagonal) == tuple(int(v) for v in table[-1])
