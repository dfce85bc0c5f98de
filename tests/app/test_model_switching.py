"""Switching models, texts and trace files as a lecturer does: what is on screen always agrees with the
chooser, the text goes only where it fits, and the true answers of the lecture tasks are marked."""

from __future__ import annotations

import pytest
from traces import lstm_trace, shown

import seqviz
from seqviz.app import MainWindow
from seqviz.core.seqmodel import RecurrentConfig, RecurrentNet, TokenModel
from seqviz.core.tokenize import Tokenizer


@pytest.fixture
def window(qtbot, dialog_log):
    w = shown(qtbot, MainWindow(), (1200, 700))
    w.dialog_log = dialog_log
    return w


def chosen(window) -> str:
    return window.toolbar.model_combo.currentText()


def test_a_model_too_short_for_the_text_keeps_the_old_model_everywhere_and_offers_to_truncate(window, qtbot):
    text = " ".join(["i was born in france and"] * 120)  # 600 words
    assert window.open_model("longrange-lstm", text)
    lstm_trace_shown = window.trace
    assert not window.open_model("longrange-transformer")  # at most 256 tokens
    assert window.model.source == "longrange-lstm" and chosen(window).startswith("longrange-lstm")
    assert window.trace is lstm_trace_shown and window.dock_area.panels["gates"].trace is lstm_trace_shown
    assert (
        "reads at most 256" in window.notices.label.text() and "Still showing" in window.notices.label.text()
    )
    window.notices.action_button.click()  # "Open ... with the first 256 tokens"
    qtbot.waitUntil(lambda: window.model.source == "longrange-transformer" and window.num_steps == 256)
    assert chosen(window).startswith("longrange-transformer") and window.text == text


def test_switching_within_a_task_keeps_text_and_step_and_across_tasks_brings_the_example(window):
    assert window.open_model("sentiment-rnn", "the food was really bad")
    window.set_step(3)
    assert window.open_model("sentiment-lstm")
    assert window.text == "the food was really bad" and window.step == 3  # RNN vs LSTM, same sentence
    assert window.open_model("dates-gru-attention", "the first of may nineteen ninety")
    assert window.open_model("pos-gru")
    assert window.text == window.model.examples[0]  # not the date, which the tagger cannot read
    assert window.trace.meta.unknown == ()


def test_selected_units_do_not_carry_over_to_another_model(window):
    assert window.open_model("longrange-rnn")
    window.viewer.selection.set_units((3, 5))
    assert window.open_model("longrange-gru")
    assert window.viewer.selection.units == ()


def test_model_without_text_starts_from_its_example_not_the_remembered_text(qtbot, dialog_log):
    w = shown(qtbot, MainWindow(), (1000, 600))
    w.settings.model, w.settings.text = "sentiment-lstm", "la comida no es buena"
    w.start(model="pos-gru", wait=True)
    assert w.model.source == "pos-gru" and w.text == w.model.examples[0]


def test_an_opened_trace_file_shows_in_the_chooser_and_generate_is_off(window, tmp_path):
    assert window.open_model("untrained-lstm", "hello")
    assert window.commands.generate.isEnabled()
    path = lstm_trace(T=5).save(tmp_path / "run.npz")
    assert window.open_trace(str(path))
    assert "run.npz" in chosen(window) and "run.npz" in window.windowTitle()
    assert window.text == " ".join(window.trace.tokens) or window.text == "".join(window.trace.tokens)
    assert not window.commands.generate.isEnabled()
    window.set_text("hello again")  # new text runs the model again, and the chooser says so
    assert chosen(window).startswith("untrained-lstm") and window.commands.generate.isEnabled()


def test_an_unknown_word_in_a_vocabulary_without_unknown_token_names_the_word(window, tmp_path):
    tok = Tokenizer.from_dict({"vocab": ["the", "cat", "sat"], "level": "word"})
    model = TokenModel(RecurrentNet(RecurrentConfig("gru", 3, 2, 4, 4)), tok, "tag", ["A", "B"])
    path = seqviz.save_model(model, tmp_path / "tiny.safetensors")
    assert window.open_model(str(path), "the cat sat")
    assert not window.set_text("the dog sat")
    note = window.notices.label.text()
    assert "'dog'" in note and "IndexError" not in note and not window.dialog_log


def test_the_output_panel_marks_the_true_answer_of_a_task_text(window):
    assert window.open_model("sentiment-lstm", "the movie was not very good")
    output = window.dock_area.panels["output"]
    window.set_step(window.num_steps)
    assert output.true_label is not None and output.true_label in output.labels
    assert window.open_model("pos-gru", "they cook the old apple .")
    window.set_step(2)
    assert window.dock_area.panels["output"].true_label == "VERB"
