"""Output panel: top-k bars sorted, labels, the true answer marked, per task."""

import numpy as np
import pytest
from traces import (
    CLASS_LABELS,
    TAG_LABELS,
    VOCAB,
    encoder_decoder_trace,
    gru_trace,
    lstm_trace,
    open_panel,
)

from seqviz.app.panels.output import TOP_K, OutputPanel
from seqviz.core.trace import Trace


def expected_top(row: np.ndarray, labels: list[str], k: int) -> list[str]:
    return [labels[i] for i in np.argsort(-row, kind="stable")[:k]]


def test_language_model_shows_sorted_next_token_probabilities_and_the_true_token(qtbot):
    trace = lstm_trace(T=12, task="lm")
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(4)
    row = trace["probs"][3]
    k = min(TOP_K, len(VOCAB))
    assert panel.shown_labels == expected_top(row, VOCAB, k)
    np.testing.assert_array_equal(panel.shown_probs, np.sort(row)[::-1][:k])
    assert np.all(np.diff(panel.shown_probs) <= 0)
    np.testing.assert_allclose(panel.bars.opts["width"], panel.shown_probs)
    ticks = [label for _, label in panel.plot.getAxis("left")._tickLevels[0]]
    assert len(ticks) == k
    true = trace.tokens[4]
    assert panel.true_label == true
    assert panel.shown_labels[panel.true_row] == true
    assert panel.true_bar.opts["width"][panel.true_row] == pytest.approx(row[VOCAB.index(true)])
    rank = int((row > row[VOCAB.index(true)]).sum()) + 1
    assert f"rank {rank}" in panel.footer.text()
    assert "true" in panel.values.entries[panel.true_row][2]


def test_last_step_has_no_known_next_token(qtbot):
    trace = lstm_trace(T=6, task="lm")
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(6)
    assert panel.true_label is None and panel.true_row is None
    assert "beyond the input" in panel.footer.text()
    assert not np.any(panel.true_bar.opts["width"])


def test_top_k_keeps_the_k_largest_of_a_big_vocabulary(qtbot):
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(500), size=5).astype(np.float32)
    trace = Trace({"probs": probs}, tokens=list("abcde"), meta={"task": "lm"})
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(2)
    assert panel.shown_labels == [str(i) for i in np.argsort(-probs[1])[:TOP_K]]


def test_classifier_shows_class_probabilities_and_the_target(qtbot):
    trace = gru_trace(T=7, task="classify")
    trace.meta = trace.meta.replace(targets=[CLASS_LABELS.index("positive")])
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(7)
    assert sorted(panel.shown_labels) == sorted(CLASS_LABELS)
    assert "class probabilities after 7 tokens" in panel.header.text()
    assert "final prediction" in panel.header.text()
    assert panel.true_label == "positive" and panel.shown_labels[panel.true_row] == "positive"


def test_tagger_shows_the_predicted_tag_and_the_gold_tag(qtbot):
    trace = gru_trace(T=5, task="tag")
    trace.meta = trace.meta.replace(
        targets=[TAG_LABELS.index(t) for t in ["DET", "NOUN", "VERB", "DET", "NOUN"]]
    )
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(3)
    predicted = TAG_LABELS[int(np.argmax(trace["probs"][2]))]
    assert f"predicted <b>{predicted}</b>" in panel.header.text()
    assert panel.true_label == "VERB"
    assert "VERB" in panel.footer.text()


def test_seq2seq_shows_the_output_token(qtbot):
    trace = encoder_decoder_trace(T=5, S=6)
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(2)
    best = VOCAB[int(np.argmax(trace["probs"][1]))]
    assert "output token 2" in panel.header.text() and best in panel.header.text()


def test_no_probs_says_so(qtbot):
    trace = Trace({"hidden": np.zeros((3, 1, 1, 2), np.float32)}, meta={"arch": "lstm"})
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    assert "no output head" in panel.message


def test_class_names_are_shown_whole_and_as_written(qtbot):
    """Class names are not character tokens: no visible-space marks, no cut after a dozen characters,
    and the label axis is wide enough for the longest."""
    labels = ["very positive", "somewhat negative overall", "neutral"]
    probs = np.array([[0.5, 0.3, 0.2], [0.2, 0.7, 0.1]], np.float32)
    meta = {"task": "classify", "output_labels": labels}
    trace = Trace({"probs": probs}, tokens=["good", "bad"], meta=meta)
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(2)
    axis = panel.plot.getAxis("left")
    shown = [label for _, label in axis._tickLevels[0]]
    assert shown == labels  # the model's order: a class keeps its row at every step
    from PySide6.QtGui import QFontMetrics

    needed = QFontMetrics(axis.style["tickFont"]).horizontalAdvance("somewhat negative overall")
    assert axis.width() >= needed


def test_character_tokens_still_show_their_spaces(qtbot):
    trace = lstm_trace(T=12, task="lm")
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    assert panel.label_texts[VOCAB.index(" ")] == "\u2423"


def test_probability_axis_ends_at_one(qtbot):
    probs = np.array([[0.97, 0.02, 0.01]], np.float32)
    trace = Trace({"probs": probs}, tokens=["x"], meta={"task": "classify", "output_labels": ["a", "b", "c"]})
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    (x0, x1), _ = panel.plot.getViewBox().viewRange()
    assert -0.02 <= x0 <= 0 and 1.0 <= x1 <= 1.05
    ticks = [v for level in panel.plot.getAxis("bottom")._tickLevels for v, _ in level]
    assert max(ticks) == pytest.approx(1.0)
    assert panel.values.entries[0][2].startswith("0.970")  # drawn inside the long bar: it fits
