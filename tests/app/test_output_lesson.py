"""Output views for the lessons: bars that keep their order while playing, every predicted tag under its
token with the true one (many-to-many), the class probabilities over the steps with the output marked
(many-to-one)."""

from __future__ import annotations

import numpy as np
import pytest
from traces import CLASS_LABELS, TAG_LABELS, gru_trace, lstm_trace, open_panel

from seqviz.app.panels.output import OutputPanel
from seqviz.app.panels.output_sequence import class_series, tag_columns
from seqviz.core.token_display import display_token


@pytest.mark.parametrize("task", ["classify", "tag"])
def test_class_and_tag_bars_keep_their_order_at_every_step(qtbot, task):
    trace = gru_trace(T=12, task=task, seed=4)
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    labels = CLASS_LABELS if task == "classify" else TAG_LABELS
    seen = set()
    for step in range(1, 13):
        viewer.cursor.set_step(step)
        assert panel.shown_labels == labels  # the model's order, whatever is most probable
        np.testing.assert_array_equal(panel.shown_probs, trace["probs"][step - 1])
        seen.add(int(np.argmax(panel.shown_probs)))
        best = labels[int(np.argmax(trace["probs"][step - 1]))]
        assert f"<b>{best}</b>" in panel.header.text()
    assert len(seen) > 1  # the most probable changed while the order did not


def test_a_language_model_still_ranks_its_next_tokens(qtbot):
    trace = lstm_trace(T=8, task="lm")
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(3)
    assert np.all(np.diff(panel.shown_probs) <= 0)


def tagged():
    """A bidirectional tagger's trace whose true tags are known for 5 of 6 tokens: steps 1, 3 and 5
    tagged right, 2 and 4 wrong."""
    trace = gru_trace(T=6, task="tag", bidirectional=True)
    best = trace["probs"].argmax(axis=1)
    wrong = (best + 1) % len(TAG_LABELS)
    trace.meta = trace.meta.replace(targets=[best[0], wrong[1], best[2], wrong[3], best[4], -1])
    return trace


def test_tag_columns_are_the_predictions_and_the_truth():
    trace = tagged()
    columns = tag_columns(trace)
    predicted = [TAG_LABELS[i] for i in trace["probs"].argmax(axis=1)]
    assert [c.predicted for c in columns] == predicted
    truth = [TAG_LABELS[i] for i in trace.meta.targets[:5]]
    assert [c.true for c in columns] == [*truth, None]
    assert [c.wrong for c in columns] == [False, True, False, True, False, False]
    assert [c.token for c in columns] == [display_token(t) for t in trace.tokens]


def test_the_tag_row_shows_every_predicted_tag_at_once_and_marks_wrong_ones(qtbot):
    trace = tagged()
    viewer, panel = open_panel(qtbot, OutputPanel, trace, size=(900, 500))
    row = panel.tag_row
    assert row.isVisible() and len(row.columns) == 6
    assert all(row.is_drawn(i) for i in range(6))  # a bidirectional tagger: every tag is known at once
    wrong, right = [1, 3], [0, 2, 4]
    assert [c.wrong for c in row.columns] == [False, True, False, True, False, False]
    image = row.grab().toImage()
    x = lambda i: int(row.starts[i] - row.offset + 3)  # noqa: E731 (inside a column's box)
    tint = [image.pixelColor(x(i), 6) for i in range(6)]
    assert all(tint[i].red() > tint[i].green() + 20 for i in wrong)  # a red mark
    assert all(abs(tint[i].red() - tint[i].green()) < 20 for i in right)
    viewer.cursor.set_step(1)
    row.stepClicked.emit(4)
    assert viewer.cursor.step == 4 and row.step == 4


def test_a_causal_tagger_hides_its_later_tags_with_the_future(qtbot):
    trace = gru_trace(T=6, task="tag")
    viewer, panel = open_panel(qtbot, OutputPanel, trace, size=(900, 500))
    viewer.cursor.set_step(2)
    assert all(panel.tag_row.is_drawn(i) for i in range(6))  # faded, not hidden
    viewer.set_future_hidden(True)
    assert [panel.tag_row.is_drawn(i) for i in range(6)] == [True, True, False, False, False, False]


def test_only_a_tagger_has_a_tag_row_and_only_a_classifier_class_lines(qtbot):
    viewer, panel = open_panel(qtbot, OutputPanel, gru_trace(T=5, task="classify"))
    assert panel.tag_row.isHidden() and panel.class_lines.plot in panel.canvas.ci.items
    lm = gru_trace(T=5, task="lm")
    viewer.set_trace(lm)
    panel.set_trace(lm)
    assert panel.tag_row.isHidden() and panel.class_lines.plot not in panel.canvas.ci.items


def test_class_probabilities_over_the_steps_with_the_output_marked(qtbot):
    trace = gru_trace(T=9, task="classify", seed=2)
    trace.meta = trace.meta.replace(targets=[1])
    viewer, panel = open_panel(qtbot, OutputPanel, trace, size=(800, 600))
    lines = panel.class_lines
    for k, curve in enumerate(lines.curves):
        x, y = curve.getData()
        np.testing.assert_array_equal(x, np.arange(1, 10))
        np.testing.assert_array_equal(y, trace["probs"][:, k])
    output = int(np.argmax(trace["probs"][-1]))
    marker = lines.output_marker.getData()
    assert (marker[0][0], marker[1][0]) == (9, pytest.approx(trace["probs"][-1, output]))
    assert lines.output_text.toPlainText() == f"output: {CLASS_LABELS[output]}"
    series = class_series(trace)
    assert (series.output, series.target) == (output, 1)
    viewer.cursor.set_step(4)
    assert lines.cursor.value() == 4 and lines.shown_until == 4.0  # a causal opinion so far
    viewer.set_future_hidden(True)
    assert not lines.output_marker.isVisible()  # the answer is what comes last
    viewer.cursor.set_step(9)
    assert lines.output_marker.isVisible()
