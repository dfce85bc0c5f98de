"""Attention for a lesson: the mean over a layer's heads, and a lines view that gives positions and
weights and says when it leaves keys out."""

from __future__ import annotations

import numpy as np
from traces import open_panel, transformer_trace

from seqviz.app.panels.attention import AttentionPanel
from seqviz.app.panels.attention_logic import MEAN_HEADS, lines_content, shown_weights
from seqviz.core.causal_attention import CausalAttention
from seqviz.core.token_display import display_token


def test_the_mean_over_heads_is_the_mean_of_the_layers_heads():
    trace = transformer_trace(T=7, num_layers=2, num_heads=3)
    attention = trace["attention"]
    np.testing.assert_allclose(
        shown_weights(attention, 1, 0, MEAN_HEADS), attention[1].mean(axis=0), atol=1e-7
    )
    np.testing.assert_array_equal(shown_weights(attention, 1, 2, "one"), attention[1, 2])
    packed = CausalAttention.from_dense(attention)  # a Hugging Face decoder's packed triangles
    np.testing.assert_allclose(shown_weights(packed, 0, 0, MEAN_HEADS), attention[0].mean(axis=0), atol=1e-7)


def test_lines_content_leaves_keys_out_only_on_long_rows_and_says_so():
    row = np.linspace(0.0, 1.0, 50, dtype=np.float32)
    content = lines_content(row, 49, 50, 10, masked=False)
    assert content.keys == list(range(40, 50)) and content.queries == range(40, 50)
    assert content.note == "the 10 largest of 50 keys"
    causal = lines_content(row[:8], 3, 8, 10, masked=True)  # keys after the query are masked, not left out
    assert causal.note == "" and causal.keys == [0, 1, 2, 3]
    assert causal.weights == [float(w) for w in row[:4]]
    long_causal = lines_content(row, 30, 50, 10, masked=True)
    assert long_causal.keys == list(range(21, 31)) and long_causal.note == "the 10 largest of 31 keys"


def test_the_panel_shows_the_mean_of_the_heads_and_says_so(qtbot):
    trace = transformer_trace(T=9, num_layers=2, num_heads=4)
    viewer, panel = open_panel(qtbot, AttentionPanel, trace, size=(1100, 700))
    viewer.selection.set_layer(1)
    viewer.selection.set_option("attention", "heads", MEAN_HEADS)
    mean = trace["attention"][1].mean(axis=0)
    np.testing.assert_allclose(panel.matrix.image.image, mean, atol=1e-6)
    np.testing.assert_allclose(panel.lines.weights, mean, atol=1e-6)
    assert "mean of 4 heads" in panel.matrix.plot.titleLabel.text
    assert not panel.head_box.isEnabled()
    highlight = panel.thumbnails.highlight.rect()  # the whole layer's row of thumbnails
    assert highlight.contains(panel.thumbnails.cell_rect(1, 0)) and highlight.contains(
        panel.thumbnails.cell_rect(1, 3)
    )
    panel.thumbnails.thumbnailClicked.emit(0, 2)  # a head picked: that head again
    assert viewer.selection.option("attention", "heads") == "one"
    np.testing.assert_array_equal(panel.matrix.image.image, trace["attention"][0, 2])


def test_lines_give_positions_and_weights_and_say_when_keys_are_left_out(qtbot):
    trace = transformer_trace(T=80, num_layers=1, num_heads=1, causal=False)
    viewer, panel = open_panel(qtbot, AttentionPanel, trace, size=(1100, 500))
    viewer.cursor.set_step(40)
    lines = panel.lines
    row = trace["attention"][0, 0, 39]
    right = [t.toPlainText() for t in lines.right_texts if t.isVisible()]
    assert len(right) == len(lines.shown_keys) < 80
    for key, label in zip(lines.shown_keys, right, strict=True):
        assert label == f"{key + 1}: {display_token(trace.tokens[key])}  {row[key]:.2f}"
    assert sorted(lines.shown_keys) == sorted(np.argsort(-row)[: len(right)].tolist())
    left = [t.toPlainText() for t in lines.left_texts if t.isVisible()]
    assert left[lines.shown_queries.index(39)] == f"40: {display_token(trace.tokens[39])}"
    assert lines.note_text == f"the {len(right)} largest of 80 keys"
    viewer.set_trace(transformer_trace(T=6, num_layers=1, num_heads=1))
    panel.set_trace(viewer.trace)
    assert lines.note_text == ""  # every key is shown
