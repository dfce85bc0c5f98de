"""Attention panel: the head's matrix, masked cells, the query row, thumbnails, lines, cross-attention."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from traces import (
    click,
    drawn_labels,
    encoder_decoder_trace,
    hover,
    lstm_trace,
    open_panel,
    transformer_trace,
)

from seqviz.app.panels.attention import AttentionPanel
from seqviz.core.trace import Trace


@pytest.fixture
def causal():
    return transformer_trace(T=10, num_layers=2, num_heads=3)


def test_matrix_is_the_selected_layer_and_head(qtbot, causal):
    viewer, panel = open_panel(qtbot, AttentionPanel, causal)
    viewer.selection.set_layer(1)
    viewer.selection.set_head(2)
    np.testing.assert_array_equal(panel.matrix.image.image, causal["attention"][1, 2])
    assert panel.matrix.image.getLevels() == pytest.approx((0.0, 1.0))
    assert panel.layer_box.currentText() == "2" and panel.head_box.currentText() == "3"
    assert "layer 2, head 3" in panel.matrix.plot.titleLabel.text


def test_causal_mask_is_drawn_over_future_keys_not_as_zero_colour(qtbot, causal):
    viewer, panel = open_panel(qtbot, AttentionPanel, causal)
    masked = panel.matrix.masked_fill.path()
    assert masked.contains(QPointF(5, 2))  # query 2 cannot see key 5
    assert masked.contains(QPointF(10, 9))
    assert not masked.contains(QPointF(2, 5))  # query 5 sees key 2
    assert not masked.contains(QPointF(4, 4))  # nor the diagonal
    assert panel.matrix.masked_fill.brush().color().name() != "#000000"
    assert "hatched" in panel.controls.note.text()
    assert "masked" in hover(qtbot, panel.canvas, panel.matrix.plot, 6, 3)


def test_encoder_has_no_mask(qtbot):
    viewer, panel = open_panel(qtbot, AttentionPanel, transformer_trace(T=6, causal=False))
    assert panel.matrix.masked_fill.path().isEmpty()


def test_step_marks_the_query_row_and_covers_later_rows(qtbot, causal):
    viewer, panel = open_panel(qtbot, AttentionPanel, causal)
    viewer.cursor.set_step(4)
    row = panel.matrix.row_marker.rect()
    assert row.center().y() == 4 and row.height() == 1
    assert panel.matrix.future.isVisible() and panel.matrix.future.rect().top() == 4.5


def test_hover_gives_query_key_and_weight(qtbot, causal):
    viewer, panel = open_panel(qtbot, AttentionPanel, causal)
    text = hover(qtbot, panel.canvas, panel.matrix.plot, 2, 7)
    assert "query 7" in text and "key 2" in text
    assert f"{causal['attention'][0, 0, 6, 1]:.5f}" in text


def test_click_matrix_row_sets_step(qtbot, causal):
    viewer, panel = open_panel(qtbot, AttentionPanel, causal)
    with qtbot.waitSignal(viewer.cursor.stepChanged):
        click(qtbot, panel.canvas, panel.matrix.plot, 1, 3)
    assert viewer.cursor.step == 3


def test_thumbnail_click_selects_layer_and_head(qtbot, causal):
    viewer, panel = open_panel(qtbot, AttentionPanel, causal, size=(900, 800))
    grid = panel.thumbnails
    assert set(grid.images) == {(layer, h) for layer in range(2) for h in range(3)}
    np.testing.assert_array_equal(grid.images[1, 2].image, causal["attention"][1, 2])
    centre = grid.cell_rect(1, 2).center()
    with qtbot.waitSignal(viewer.selection.headChanged):
        click(qtbot, grid, grid.view, centre.x(), centre.y())
    assert (viewer.selection.layer, viewer.selection.head) == (1, 2)
    assert grid.selected == (1, 2)
    np.testing.assert_array_equal(panel.matrix.image.image, causal["attention"][1, 2])


def test_lines_link_the_current_token_to_what_it_attends_to(qtbot, causal):
    viewer, panel = open_panel(qtbot, AttentionPanel, causal)
    viewer.cursor.set_step(5)
    row = causal["attention"][0, 0, 4]
    assert panel.lines.line_weights == {k: pytest.approx(float(row[k])) for k in range(5)}
    assert sum(line.isVisible() for line in panel.lines.lines) == 5
    widths = {k: panel.lines.lines[k].pen().widthF() for k in range(5)}
    strongest = int(np.argmax(row))
    assert widths[strongest] == max(widths.values())


def test_long_input_lines_show_the_strongest_keys(qtbot):
    trace = transformer_trace(T=80, num_layers=1, num_heads=1)
    viewer, panel = open_panel(qtbot, AttentionPanel, trace)
    viewer.cursor.set_step(70)
    row = trace["attention"][0, 0, 69]
    limit = len(panel.lines.shown_keys)  # as many as fit the view with the note under them, at most 32
    assert 4 <= limit <= panel.lines.max_rows() <= 32 and panel.lines.note_text.startswith(f"the {limit} ")
    assert set(panel.lines.shown_keys) == set(np.argsort(-row)[:limit].tolist())


def test_cross_attention_selector(qtbot):
    trace = encoder_decoder_trace(T=5, S=7)
    viewer, panel = open_panel(qtbot, AttentionPanel, trace)
    assert not panel.kind_box.isHidden()
    panel.kind_box.setCurrentIndex(panel.kind_box.findData("cross_attention"))
    viewer.selection.set_head(1)
    np.testing.assert_array_equal(panel.matrix.image.image, trace["cross_attention"][0, 1])
    assert panel.matrix.masked_fill.path().isEmpty()
    assert panel.matrix.key_tokens == trace.source_tokens
    viewer.cursor.set_step(2)
    row = trace["cross_attention"][0, 1, 1]
    assert panel.lines.line_weights == {k: pytest.approx(float(w)) for k, w in enumerate(row)}


def test_recurrent_attention_model_with_cross_attention_only(qtbot):
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(6), size=4).astype(np.float32).reshape(1, 1, 4, 6)
    hidden = rng.normal(size=(4, 1, 1, 3))
    meta = {"arch": "gru-attention", "causal": True}
    trace = Trace({"hidden": hidden, "cross_attention": weights}, meta=meta)
    viewer, panel = open_panel(qtbot, AttentionPanel, trace)
    assert panel.message is None and panel.kinds == ["cross_attention"]
    assert panel.kind_box.isHidden() and panel.thumbnails.isHidden()
    np.testing.assert_array_equal(panel.matrix.image.image, weights[0, 0])


def test_not_applicable_to_an_lstm(qtbot):
    viewer, panel = open_panel(qtbot, AttentionPanel, lstm_trace(T=4))
    assert "LSTM" in panel.message and "Transformers" in panel.message


DATE_WORDS = ["the", "third", "of", "march", "two", "thousand", "and", "five"]


def dates_trace(num_layers: int = 1, num_heads: int = 4) -> Trace:
    """An encoder-decoder trace shaped like dates-transformer: 8 source words, 11 output characters."""
    base = encoder_decoder_trace(T=11, S=8, num_layers=num_layers, num_heads=num_heads)
    outputs = list("2005-03-03") + ["</s>"]
    meta = base.meta.replace(decoder_start="<s>")
    return Trace(dict(base), tokens=outputs, meta=meta, source_tokens=DATE_WORDS)


def test_encoder_decoder_opens_on_cross_attention_with_the_source_words(qtbot):
    """The lesson of an encoder-decoder is the alignment: output characters (rows) against the
    source words (columns), labelled with the words even when a matrix column is narrower than
    "thousand"."""
    trace = dates_trace()
    viewer, panel = open_panel(qtbot, AttentionPanel, trace, size=(950, 330))
    assert panel.kind == "cross_attention"
    np.testing.assert_array_equal(panel.matrix.image.image, trace["cross_attention"][0, 0])
    keys = drawn_labels(panel.matrix.x_axis)
    assert len(keys) == 8 and keys[0] == "the" and keys[3].startswith("mar")
    assert not any(k.isdigit() for k in keys)
    assert drawn_labels(panel.matrix.y_axis)[:5] == ["2", "0", "0", "5", "-"]


def test_source_words_are_shortened_before_they_become_numbers(qtbot):
    trace = dates_trace()
    viewer, panel = open_panel(qtbot, AttentionPanel, trace, size=(760, 330))
    keys = drawn_labels(panel.matrix.x_axis)
    assert len(keys) == 8 and keys[0] == "the" and keys[5].startswith("tho") and keys[5] != "thousand"


def test_seq2seq_decoder_self_attention_keys_are_the_decoder_inputs(qtbot):
    """Decoder query t (output t) attends to what the decoder was fed: <s>, then outputs 1..t-1."""
    trace = dates_trace()
    viewer, panel = open_panel(qtbot, AttentionPanel, trace, size=(950, 600))
    panel.kind_box.setCurrentIndex(panel.kind_box.findData("attention"))
    expected = ["<s>", *trace.tokens[:-1]]
    assert panel.key_tokens == expected and panel.matrix.key_tokens == expected
    assert panel.matrix.query_tokens == trace.tokens
    assert drawn_labels(panel.matrix.x_axis) == expected
    viewer.cursor.set_step(3)
    assert "key 1 '<s>'" in hover(qtbot, panel.canvas, panel.matrix.plot, 1, 3)
    right = [t.toPlainText() for t in panel.lines.right_texts if t.isVisible()]
    assert right[0].startswith("1: <s> ")  # position, token and weight


def test_thumbnails_fit_a_short_dock(qtbot):
    """dates-transformer at 1600x900: the attention dock is about 330 px tall; every thumbnail must
    be whole inside the grid, however small."""
    viewer, panel = open_panel(qtbot, AttentionPanel, dates_trace(), size=(950, 330))
    qtbot.wait(20)
    grid = panel.thumbnails
    visible = grid.mapToScene(grid.viewport().rect()).boundingRect()
    for image in grid.images.values():
        rect = image.sceneBoundingRect()
        assert rect.height() > 10 and visible.contains(rect)


def test_a_title_too_wide_for_a_narrow_matrix_is_its_short_form_never_cut_mid_word(qtbot):
    """MiniLM at 1024x640: "attention, layer 1, head :" was clipped; the matrix's title is now whole,
    or "L1 H1" as the thumbnails number heads, with the whole title in its tooltip."""
    viewer, panel = open_panel(qtbot, AttentionPanel, transformer_trace(T=12, num_heads=12), (1400, 600))
    label = panel.matrix.plot.titleLabel
    qtbot.waitUntil(lambda: label.item.toPlainText() == "attention, layer 1, head 1")
    assert label.item.toolTip() == ""
    panel.resize(600, 600)  # the matrix gets a plot of ~150 px
    qtbot.waitUntil(lambda: label.item.toPlainText() == "L1 H1")
    assert label.item.toolTip() == "attention, layer 1, head 1"
    assert label.item.mapRectToParent(label.item.boundingRect()).width() <= label.rect().width() + 1
    viewer.selection.set_head(4)
    qtbot.waitUntil(lambda: label.item.toPlainText() == "L1 H5")
    assert label.text == "attention, layer 1, head 5"  # what pictures and tests read stays whole
    panel.resize(1400, 600)
    qtbot.waitUntil(lambda: label.item.toPlainText() == "attention, layer 1, head 5")


def test_a_title_with_no_short_form_ends_after_a_whole_word(qtbot):
    import pyqtgraph as pg

    from seqviz.app.panels import plotting

    plot = pg.PlotItem()
    plotting.relax_title(plot)
    plotting.set_title(plot, "hidden state h, layer 1 of 2")
    plotting.fit_label_text(plot.titleLabel, 60.0)
    shown = plot.titleLabel.item.toPlainText()
    assert shown.endswith(" \u2026") and "hidden state h, layer 1 of 2".startswith(shown[:-2])
    assert plot.titleLabel.item.toolTip() == "hidden state h, layer 1 of 2"
    plotting.fit_label_text(plot.titleLabel, 1000.0)
    assert plot.titleLabel.item.toPlainText() == "hidden state h, layer 1 of 2"
