"""What a person reads before and around the plots: the chooser, the panels while a model loads, the notice
bar after an empty input, the Examples menu, plural words, array names and attention titles."""

from __future__ import annotations

import pytest
from traces import open_panel, shown

from seqviz.app import MainWindow
from seqviz.app.panels.attention import AttentionPanel
from seqviz.app.panels.output_ranking import header_text
from seqviz.app.window.toolbar import SOURCE_ROLE, TRACE_ROLE
from seqviz.demos import bundled_traces

LOAD_MS = 60_000


@pytest.fixture
def lazy_window(qtbot, dialog_log):
    """A window as launched: its panels built, no trace yet."""
    window = shown(qtbot, MainWindow(lazy_panels=True), (1200, 700))
    window.load_panels()
    qtbot.waitUntil(lambda: window.dock_area.panels["hidden"].isVisible())
    return window


def chosen_row_is_a_model_or_a_trace(window) -> bool:
    combo = window.toolbar.model_combo
    index = combo.currentIndex()
    if index < 0:
        return True  # nothing chosen: the placeholder text
    return bool(combo.itemData(index, SOURCE_ROLE) or combo.itemData(index, TRACE_ROLE))


def test_before_the_first_trace_panels_show_one_line_not_empty_axes(lazy_window):
    shown_panels = [p for p in lazy_window.dock_area.panels.values() if p.isVisible()]
    assert shown_panels
    for panel in shown_panels:  # no "unit (x0.001)" axes, no empty legend
        assert panel.message == "Loading model..." and not panel.body.isVisible(), panel.name
    lazy_window.open_model("sentiment-gru")
    assert lazy_window.panels["hidden"].message is None and lazy_window.panels["hidden"].body.isVisible()


def test_the_chooser_never_shows_a_group_header_as_the_model(lazy_window, dialog_log, qtbot):
    combo = lazy_window.toolbar.model_combo
    assert chosen_row_is_a_model_or_a_trace(lazy_window)
    assert combo.currentText() == "" and combo.placeholderText() == "Loading model..."  # while loading
    lazy_window.open_model("no-such-model.pt")  # the first model fails: nothing is open
    assert dialog_log and combo.currentIndex() == -1 and combo.placeholderText() == "No model loaded"
    trace = bundled_traces.trace_text(bundled_traces.open_bundled("pos-gru"), "el canta .")
    lazy_window.show_trace(trace, "trace: saved.npz")
    assert combo.currentText() == "trace: saved.npz" and chosen_row_is_a_model_or_a_trace(lazy_window)
    lazy_window.toolbar.add_group("CACHE", [("gpt2", "gpt2", "")])  # a group renewed meanwhile
    assert combo.currentText() == "trace: saved.npz"
    lazy_window.open_model("sentiment-gru")
    assert combo.currentText().startswith("sentiment-gru")
    lazy_window.toolbar.add_group("CACHE", [("gpt2", "gpt2", "")])
    assert combo.currentText().startswith("sentiment-gru")


def test_an_empty_input_leaves_no_line_about_the_text_before(lazy_window):
    lazy_window.open_model("pos-gru", "el canta xyzzy .")
    assert any("xyzzy" in note for note in lazy_window.notices.notes)
    lazy_window.set_text("")
    assert lazy_window.notices.notes[0] == "The input is empty: type some text to run the model."
    assert not any("xyzzy" in note for note in lazy_window.notices.notes)
    lazy_window.set_text("el perro canta .")
    assert not any("empty" in note or "xyzzy" in note for note in lazy_window.notices.notes)
    assert lazy_window.notices.notes  # the bidirectional model's note is back, about this text


def test_examples_in_the_menu_keep_their_last_word(lazy_window):
    lazy_window.open_model("longrange-lstm")
    actions = lazy_window.toolbar.examples_button.menu().actions()
    examples = lazy_window.model.examples
    assert [a.toolTip() for a in actions] == list(examples)
    for action, example in zip(actions, examples, strict=True):
        assert len(action.text()) <= 72
        assert action.text().split()[-1] == example.split()[-1]  # "french", "italiano", ...
        assert action.text().split()[0] == example.split()[0]
    actions[0].trigger()
    assert lazy_window.run.text == examples[0]


def test_class_probabilities_after_one_token_say_token():
    trace = bundled_traces.trace_text(bundled_traces.open_bundled("sentiment-gru"), "the food was bad")
    assert "after 1 token:" in header_text(trace, "classify", 1, "the", "negative")
    assert "after 2 tokens:" in header_text(trace, "classify", 2, "food", "negative")


def test_the_gru_attention_models_one_cross_attention_is_not_layer_1_head_1(qtbot):
    model = bundled_traces.open_bundled("dates-gru-attention")
    trace = bundled_traces.trace_text(model, model.examples[0])
    viewer, panel = open_panel(qtbot, AttentionPanel, trace)
    title = panel.matrix.plot.titleLabel.text
    assert title == "cross-attention (additive)"
    model = bundled_traces.open_bundled("dates-transformer")
    viewer, panel = open_panel(qtbot, AttentionPanel, bundled_traces.trace_text(model, model.examples[0]))
    assert panel.matrix.plot.titleLabel.text == "cross-attention, head 1"  # its one decoder layer, 4 heads
