"""View › Hide the future: what comes after the step is hidden (not faded) in every panel that shows
it, tokens included; the Selected units line ends at the step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor
from traces import lstm_trace, open_panel, shown, transformer_trace

from seqviz.app.panels.attention import AttentionPanel
from seqviz.app.panels.gates import GatesPanel
from seqviz.app.panels.hidden import HiddenPanel
from seqviz.app.panels.tokens import TokensPanel
from seqviz.app.panels.units import UnitsPanel
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import current_theme
from seqviz.core.trace import Trace

WORDS = [f"word{i}" for i in range(10)]


def worded(trace: Trace) -> Trace:
    return Trace(dict(trace.items()), tokens=WORDS[: trace.num_steps], meta=trace.meta)


def opaque_background(mask) -> bool:
    brush = mask._brush.color()
    return brush.alpha() == 255 and brush.rgb() == QColor(current_theme().background).rgb()


@pytest.mark.parametrize("panel_cls", [HiddenPanel, GatesPanel])
def test_heatmaps_hide_the_columns_after_the_step_and_their_tokens(qtbot, panel_cls):
    viewer, panel = open_panel(qtbot, panel_cls, worded(lstm_trace(T=10, hidden_size=4)), size=(1200, 800))
    viewer.cursor.set_step(4)
    heatmaps = [panel.heatmap] if panel_cls is HiddenPanel else list(panel.shown_heatmaps.values())
    axis = heatmaps[-1].bottom_axis
    assert not opaque_background(heatmaps[0].mask)  # faded: the values show through
    faded = axis.tickStrings(range(1, 11), 1, 1)  # every token that fits, the future's too
    assert faded[0] == "word0" and faded[-1] == "word9"
    viewer.set_future_hidden(True)
    for heatmap in heatmaps:
        assert opaque_background(heatmap.mask)
        assert (heatmap.mask.rect().left(), heatmap.mask.rect().right()) == (4.5, 10.5)
    assert axis.tickStrings(range(1, 11), 1, 1) == faded[:4] + [""] * 6
    viewer.cursor.set_step(7)
    assert axis.tickStrings(range(1, 11), 1, 1) == faded[:7] + [""] * 3
    viewer.set_future_hidden(False)
    assert not opaque_background(heatmaps[0].mask)
    assert axis.tickStrings(range(1, 11), 1, 1) == faded


def test_a_bidirectional_model_shows_every_position_either_way(qtbot):
    trace = worded(lstm_trace(T=6, hidden_size=4, bidirectional=True))
    viewer, panel = open_panel(qtbot, HiddenPanel, trace)
    viewer.set_future_hidden(True)
    viewer.cursor.set_step(2)
    assert panel.heatmap.mask.rect().width() == 0  # it read the whole input: nothing is "to come"


def test_units_line_ends_at_the_step_and_the_future_is_hidden(qtbot):
    viewer, panel = open_panel(qtbot, UnitsPanel, worded(lstm_trace(T=10, hidden_size=4)))
    viewer.cursor.set_step(5)
    assert panel.mask.rect().left() == 5.0  # not 5.5: the segment towards step 6 is the future
    viewer.set_future_hidden(True)
    assert opaque_background(panel.mask)
    assert panel.axis.tickStrings(range(1, 11), 1, 1) == WORDS[:5] + [""] * 5


def test_attention_hides_later_queries_and_their_tokens(qtbot):
    trace = worded(transformer_trace(T=10, num_layers=1, num_heads=2))
    viewer, panel = open_panel(qtbot, AttentionPanel, trace, size=(1100, 700))
    viewer.cursor.set_step(4)
    left = [t.toPlainText() for t in panel.lines.left_texts if t.isVisible()]
    assert left[5] == "6: word5"  # faded future: still written
    viewer.set_future_hidden(True)
    assert opaque_background(panel.matrix.future)
    left = [t.toPlainText() for t in panel.lines.left_texts if t.isVisible()]
    right = [t.toPlainText() for t in panel.lines.right_texts if t.isVisible()]
    assert left[:4] == ["1: word0", "2: word1", "3: word2", "4: word3"] and left[4:] == [""] * 6
    assert len(right) == 4  # a causal query's keys: the tokens up to it
    assert all(r.startswith(f"{k}: word{k - 1}  0.") for k, r in enumerate(right, start=1))
    assert panel.matrix.y_axis.tickStrings(range(1, 11), 1, 1) == WORDS[:4] + [""] * 6
    assert panel.matrix.x_axis.tickStrings(range(1, 11), 1, 1) == WORDS[:4] + [""] * 6


def test_token_strip_draws_no_future_chip(qtbot):
    viewer = ViewerModel()
    panel = shown(qtbot, TokensPanel(viewer), (900, 80))
    trace = worded(lstm_trace(T=8, hidden_size=4))
    viewer.set_trace(trace)
    panel.set_trace(trace)
    viewer.cursor.set_step(3)
    strip = panel.strip
    background = strip.grab().toImage().pixelColor(strip.chip_rect(6).center())  # a faded chip
    viewer.set_future_hidden(True)
    assert [strip.is_drawn(i) for i in range(8)] == [True] * 3 + [False] * 5
    image = strip.grab().toImage()
    for i in range(3, 8):
        rect = strip.chip_rect(i)
        colours = {image.pixelColor(x, rect.center().y()).rgb() for x in range(rect.left(), rect.right())}
        assert len(colours) == 1, f"chip {i + 1} is drawn"  # nothing there: one colour across
    assert image.pixelColor(strip.chip_rect(6).center()) != background


def test_the_gradient_map_hides_later_rows_and_their_tokens(qtbot):
    from seqviz.app.panels.gradients import GradientPanel

    base = worded(lstm_trace(T=10, hidden_size=4))
    values = np.tril(np.full((10, 10), 0.5, np.float32))  # a causal map: exact zeros above the diagonal
    trace = Trace({**dict(base.items()), "input_gradient_norm": values}, tokens=base.tokens, meta=base.meta)
    viewer, panel = open_panel(qtbot, GradientPanel, trace, size=(1200, 700))
    viewer.cursor.set_step(4)
    assert panel.map.future.rect().height() == 0  # shown whole until the future is hidden
    viewer.set_future_hidden(True)
    assert opaque_background(panel.map.future)
    assert (panel.map.future.rect().top(), panel.map.future.rect().bottom()) == (4.5, 10.5)
    for axis in (panel.map.y_axis, panel.map.x_axis, panel.step_bars.axis):
        assert axis.shown_until == 4 and axis.tickStrings([3, 5], 1, 1)[1] == ""
    assert panel.tokens.shown_until == 4
    viewer.set_future_hidden(False)
    assert panel.map.future.rect().height() == 0 and panel.map.y_axis.shown_until is None


def test_stepping_with_the_future_hidden_never_moves_the_attention_matrix(qtbot):
    """The query axis keeps room for the hidden tokens' labels: the matrix stays where it is while the
    lecturer steps back and forth (it had widened at each longer token revealed, then shrunk back)."""
    base = transformer_trace(T=10, num_layers=1, num_heads=2)
    words = ["a", "b", "c", "a_much_longer", "d", "e", "f", "g", "h", "i"]
    viewer, panel = open_panel(qtbot, AttentionPanel, Trace(dict(base.items()), tokens=words, meta=base.meta))
    viewer.set_future_hidden(True)
    axis = panel.matrix.y_axis
    widths = set()
    for step in (10, 1, 2, 3, 4, 5, 3, 1):
        viewer.cursor.set_step(step)
        qtbot.wait(20)  # paints measure the labels, layouts follow
        widths.add(round(axis.geometry().width(), 1))
    assert len(widths) == 1, widths
    viewer.set_future_hidden(False)
    qtbot.wait(20)
    assert round(axis.geometry().width(), 1) in widths  # the room all the labels take when shown


def test_attention_thumbnails_hide_the_later_queries_too(qtbot):
    """Every head's thumbnail covers the rows after the step in the background colour (they had shown
    every later query's weights beside the hidden matrix)."""
    from PySide6.QtCore import QRectF

    trace = worded(transformer_trace(T=10, num_layers=2, num_heads=2, causal=False))
    viewer, panel = open_panel(qtbot, AttentionPanel, trace, size=(1100, 700))
    grid = panel.thumbnails
    viewer.cursor.set_step(4)
    background = QColor(current_theme().background).rgb()

    def rows_in_background(layer: int, head: int) -> tuple[bool, bool]:
        """(the rows up to the step, the rows after it) drawn all in the background colour?"""
        image = grid.grab().toImage()
        cell = grid.cell_rect(layer, head)
        result = []
        for top, bottom in ((0.05, 0.35), (0.45, 0.95)):  # rows 1-3 and rows 5-10, inside the cells
            rect = QRectF(cell.left(), cell.top() + top * cell.height(), cell.width(), 0)
            rect.setBottom(cell.top() + bottom * cell.height())
            area = grid.mapFromScene(grid.view.mapViewToScene(rect).boundingRect()).boundingRect()
            colours = {
                image.pixelColor(x, y).rgb()
                for x in range(area.left() + 2, area.right() - 1, 2)
                for y in range(area.top() + 1, area.bottom(), 2)
            }
            result.append(colours == {background})
        return tuple(result)

    assert all(rows_in_background(layer, head) == (False, False) for layer in range(2) for head in range(2))
    viewer.set_future_hidden(True)
    assert all(rows_in_background(layer, head) == (False, True) for layer in range(2) for head in range(2))
    viewer.cursor.set_step(10)
    assert rows_in_background(1, 1) == (False, False)
    viewer.set_future_hidden(False)
    viewer.cursor.set_step(4)
    assert rows_in_background(0, 1) == (False, False)
