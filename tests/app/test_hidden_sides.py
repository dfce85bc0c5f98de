"""Sequence to sequence: the Hidden panel shows the encoder's states too (the trace holds them) and says
which side it shows."""

from __future__ import annotations

import numpy as np
from traces import encoder_decoder_trace, lstm_trace, open_panel

from seqviz.app.panels.hidden import HiddenPanel
from seqviz.app.panels.hidden_logic import attended_source
from seqviz.core.trace import Trace

SOURCE = ["the", "third", "of", "march", "two", "thousand", "and", "five"]


def seq2seq_trace() -> Trace:
    """A decoder of 1 layer over an encoder of 2 layers x 2 directions (8 source words)."""
    base = encoder_decoder_trace(T=6, S=8, num_layers=1, num_heads=2)
    rng = np.random.default_rng(5)
    arrays = dict(base)
    arrays["encoder_hidden"] = np.tanh(rng.normal(size=(8, 2, 2, 16))).astype(np.float32)
    return Trace(arrays, tokens=base.tokens, meta=base.meta, source_tokens=SOURCE)


def test_the_panel_says_it_shows_the_decoder_and_offers_the_encoder(qtbot):
    trace = seq2seq_trace()
    viewer, panel = open_panel(qtbot, HiddenPanel, trace, size=(1000, 600))
    assert panel.side == "decoder" and not panel.side_box.isHidden()
    assert "decoder (output), layer 1" in panel.heatmap.plot.titleLabel.text
    np.testing.assert_array_equal(panel.heatmap.image.image, trace["hidden"][:, 0, 0, :].T)


def test_the_encoder_side_shows_its_states_over_the_source_and_follows_the_alignment(qtbot):
    trace = seq2seq_trace()
    viewer, panel = open_panel(qtbot, HiddenPanel, trace, size=(1000, 600))
    viewer.selection.set_option("hidden", "side", "encoder")
    viewer.selection.set_option("hidden", "encoder_layer", "1")  # deeper than the decoder's one layer
    viewer.selection.set_option("hidden", "encoder_direction", "1")
    assert "encoder (source), layer 2, backward" in panel.heatmap.plot.titleLabel.text
    assert "encoder (source)" in panel.controls.note.text()
    np.testing.assert_array_equal(panel.heatmap.image.image, trace["encoder_hidden"][:, 1, 1, :].T)
    axis = panel.heatmap.bottom_axis
    (_spacing, steps), *_ = axis.tickValues(*axis.range, axis.width())  # laid out as when drawn
    assert axis.tickStrings(steps, 1, 1) == SOURCE
    assert panel.heatmap.mask.rect().width() == 0  # the whole source was read: no future
    for step in range(1, 7):
        viewer.cursor.set_step(step)
        row = trace["cross_attention"][-1, :, step - 1, :].mean(axis=0)
        position = int(np.argmax(row)) + 1
        assert attended_source(trace, step) == position == panel.shown_column
        assert panel.heatmap.cursor.value() == position
        np.testing.assert_array_equal(panel.bar_values, trace["encoder_hidden"][position - 1, 1, 1, :])
    assert panel.heatmap.describe(0, 4).startswith("unit 0, position 4 'march'")
    assert panel.layer_box.isHidden() and not panel.encoder_layer_box.isHidden()
    viewer.selection.set_option("hidden", "side", "decoder")
    assert "decoder (output)" in panel.heatmap.plot.titleLabel.text
    np.testing.assert_array_equal(panel.heatmap.image.image, trace["hidden"][:, 0, 0, :].T)


def test_a_model_with_one_side_names_none(qtbot):
    viewer, panel = open_panel(qtbot, HiddenPanel, lstm_trace(T=5, hidden_size=4))
    assert panel.side_box.isHidden() and panel.side == "decoder"
    title = panel.heatmap.plot.titleLabel.text
    assert "decoder" not in title and "encoder" not in title
