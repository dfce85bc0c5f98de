"""Compare: runs side by side under one shared cursor (MainWindow.compare, seqviz.app.window.compare).

Two models on one text share the step and keep their own selections; one model on two texts; a
character model beside a word model is aligned by the characters of the text; the difference view is
B − A; pictures show every run with its label; scenes save comparisons; removing runs restores the
single view. The alignment itself is tested without Qt at the end.
"""

from __future__ import annotations

import numpy as np
import pytest
from traces import shown

from seqviz.app import MainWindow, scenes
from seqviz.app.export.pictures import render_picture
from seqviz.app.viewer import alignment, runs

TEXT = "i was born in france . the dog slept . i speak fluent french"


@pytest.fixture
def window(qtbot):
    window = shown(qtbot, MainWindow(), (1600, 900))
    assert window.open_model("longrange-lstm", TEXT)
    yield window
    window.stop_background_work()


def column(window, index: int = 1):
    return window.comparison.compared[index - 1].column


def test_two_models_on_one_text_share_the_cursor_and_keep_their_own_selections(window):
    assert window.compare("longrange-rnn")
    b = column(window)
    window.set_step(5)
    assert b.run_viewer.cursor.step == 5  # same tokenizer: step t in both
    assert b.panels["hidden"].heatmap.step == 5
    assert window.dock_area.panels["hidden"].heatmap.step == 5
    window.viewer.selections[1].set_units([7])
    window.viewer.selection.set_units([2, 3])
    assert window.viewer.selections[1].units == (7,)
    assert b.panels["hidden"].heatmap.step == 5
    b.panels["hidden"]._on_cell_clicked(7, 9, False)  # a click in B's heatmap moves every run
    assert window.step == 9 and b.run_viewer.cursor.step == 9
    assert window.viewer.selections[1].units == (7,) and window.viewer.selection.units == (2, 3)
    assert "RNN" in b.header.text and b.header.text.startswith("B")
    assert window.comparison.first_header.text.startswith("A") and window.comparison.first_header.isVisible()


def test_adding_a_run_keeps_the_step(window):
    window.set_step(4)
    assert window.compare("longrange-rnn")
    assert window.step == 4 and column(window).run_viewer.cursor.step == 4


def test_same_model_on_two_texts(window):
    other = TEXT.replace("france", "spain").replace("french", "spanish")
    assert window.compare("longrange-lstm", other)
    b = window.comparison.compared[0]
    assert b.run.text == other and window.run.text == TEXT
    window.set_step(window.num_steps)
    a_probs, b_probs = window.trace["probs"][-2], b.run.trace["probs"][-2]  # after "fluent"
    labels = list(window.trace.meta.output_labels)
    assert labels[int(np.argmax(a_probs))] == "french" and labels[int(np.argmax(b_probs))] == "spanish"
    window.set_text("i was born in spain . i speak fluent")  # a run with its own text keeps it
    assert b.run.text == other


def test_compared_run_on_the_first_runs_text_follows_it(window):
    assert window.compare("longrange-gru")
    window.set_text("i was born in spain . i speak fluent")
    assert window.comparison.compared[0].run.text == "i was born in spain . i speak fluent"


def test_character_model_beside_word_model_aligned_by_characters(window):
    assert window.compare("untrained-lstm")  # characters
    b = column(window)
    assert window.num_steps == window.trace.num_steps  # the cursor counts the first run's (word) steps
    window.set_step(5)  # "france": chars 14..19
    assert b.run_viewer.cursor.step == TEXT.index("france") + len("france")
    assert b.tokens.strip.chip_kind(TEXT.index("france") + 5) == "current"  # the 'e' of france
    assert "aligned by characters" in b.header.text
    b.run_viewer.cursor.set_step(TEXT.index("born") + 1)  # a click on the 'b' of "born"
    assert window.step == 3


def test_difference_view_is_b_minus_a(window):
    other = TEXT.replace("france", "spain").replace("french", "spanish")
    assert window.compare("longrange-lstm", other)
    diff_panel = column(window).panels["difference"]
    assert diff_panel.message is None
    a, b = window.trace, window.comparison.compared[0].run.trace
    assert np.array_equal(diff_panel.image, (b["hidden"] - a["hidden"])[:, 0, 0, :].T)
    assert np.all(diff_panel.image[:, :4] == 0)  # the first 4 words are the same text
    window.viewer.selections[1].set_option("difference", "array", "forget_gate")
    assert np.allclose(diff_panel.image, (b["forget_gate"] - a["forget_gate"])[:, 0, 0, :].T)


def test_difference_of_attention_and_shapes_that_differ(qtbot):
    window = shown(qtbot, MainWindow(), (1600, 900))
    try:
        assert window.open_model("longrange-transformer", TEXT)
        assert window.compare("longrange-transformer", TEXT.replace("france", "spain"))
        panel = column(window).panels["difference"]
        window.viewer.selections[1].set_option("difference", "array", "attention")
        window.viewer.selections[1].set_head(1)
        a, b = window.trace["attention"], window.comparison.compared[0].run.trace["attention"]
        assert np.allclose(panel.image, (b - a)[0, 1].T)
        assert window.compare("untrained-lstm")  # other sizes and lengths: the panel says why
        assert "No difference view" in column(window, 2).panels["difference"].message
    finally:
        window.stop_background_work()


def test_pictures_include_every_run_with_labels(window):
    assert window.compare("longrange-rnn")
    picture = render_picture(window)
    assert picture.width() == window.width()
    header = column(window).header
    assert header.isVisible() and header.mapTo(window, header.rect().topLeft()).x() > window.width() // 2
    # the compared column is painted: its region of the picture is not the background
    x = column(window).mapTo(window, column(window).rect().center()).x()
    colours = {picture.pixel(x, y) for y in range(0, picture.height(), 7)}
    assert len(colours) > 3


def test_scene_round_trip(window, qtbot, tmp_path):
    other = TEXT.replace("france", "spain")
    assert window.compare("longrange-gru")
    assert window.compare("longrange-lstm", other)
    window.viewer.selections[2].set_units([4, 9])
    window.set_step(6)
    path = scenes.capture(window).save(tmp_path / "cmp.seqviz")
    loaded = scenes.Scene.load(path)
    assert [(r.model, r.text, r.units) for r in loaded.compare] == [
        ("longrange-gru", None, ()),
        ("longrange-lstm", other, (4, 9)),
    ]
    new = shown(qtbot, MainWindow(), (1200, 800))
    try:
        assert scenes.apply(new, loaded)
        assert [c.model.source for c in new.comparison.compared] == ["longrange-gru", "longrange-lstm"]
        assert new.viewer.selections[2].units == (4, 9) and new.step == 6
        assert column(new, 2).run_viewer.cursor.step == 6
    finally:
        new.stop_background_work()


def test_scene_without_compare_stops_comparing(window, qtbot):
    plain = scenes.capture(window)
    assert window.compare("longrange-gru")
    assert scenes.apply(window, plain)
    assert window.comparison.compared == [] and len(window.viewer.traces) == 1


def test_removing_runs_restores_the_single_view(window):
    assert window.compare("longrange-rnn")
    assert window.compare("untrained-lstm")
    assert window.compare("longrange-gru")
    assert not window.compare("longrange-transformer")  # four runs at most
    assert "At most 4" in window.comparison.problem
    column(window).header.close_button.click()  # B goes; C and D become B and C
    assert [c.model.source for c in window.comparison.compared] == ["untrained-lstm", "longrange-gru"]
    assert column(window).header.text.startswith("B") and len(window.viewer.traces) == 3
    assert window.comparison.stop_action.isEnabled()
    window.comparison.stop_action.trigger()
    assert window.comparison.compared == [] and len(window.viewer.selections) == 1
    assert not window.comparison.first_header.isVisible() and not window.comparison.stop_action.isEnabled()
    assert window.num_steps == window.trace.num_steps
    window.set_step(3)
    assert window.dock_area.panels["hidden"].heatmap.step == 3


def test_narrow_window_puts_runs_in_rows(window, qtbot):
    assert window.compare("longrange-rnn")
    b = column(window)
    window.resize(1000, 800)
    qtbot.waitUntil(lambda: b.y() > window.dock_area.y() + 50)
    window.resize(1600, 900)
    qtbot.waitUntil(lambda: b.x() > window.dock_area.x() + 50)


@pytest.mark.parametrize(
    ("theme_name", "size"), [("light", (1280, 800)), ("presentation", (1280, 800)), ("light", (1024, 640))]
)
def test_a_compared_run_never_grows_the_window(qtbot, theme, theme_name, size):
    """A lecturer's window keeps its size when a run is compared: the compared hidden state, built off
    screen, asked for the room of every combo box it then hid (1280 -> 1426 px wide); rows of two runs
    made a 1024x640 projector's window 764 px tall where columns fitted."""
    from seqviz.app.window import appearance

    window = shown(qtbot, MainWindow(), size)
    appearance.apply_theme(window, theme_name)
    assert window.open_model("longrange-lstm", TEXT)
    qtbot.wait(100)  # the first run on screen, laid out
    try:
        assert window.compare("longrange-transformer")
        qtbot.wait(200)  # the new column's layouts settle
        assert (window.width(), window.height()) == size
        b = column(window)  # its output keeps its share (left a few pixels, it showed one bar of ten)
        assert b.panels["output"].height() >= 0.35 * b.splitter.height()  # its 2 of 5 shares
    finally:
        window.stop_background_work()


# Alignment without Qt -------------------------------------------------------------------------------
def test_alignment_by_characters_without_qt():
    words, chars = runs.load("longrange-lstm"), runs.load("untrained-lstm")
    text = "i was born in france"
    starts = alignment.token_starts(text, words.count_tokens, 5)
    assert starts.tolist() == [0, 2, 6, 11, 14]
    assert alignment.token_ends(text, starts).tolist() == [0, 4, 9, 12, 19]
    step_map = alignment.align(text, words.count_tokens, 5, text, chars.count_tokens, len(text), False)
    assert step_map.tolist() == [1, 5, 10, 13, 20]  # the step after each word's last character
    back = alignment.align(text, chars.count_tokens, len(text), text, words.count_tokens, 5, False)
    assert back[text.index("f")] == 5 and back[text.index(" ")] == 1  # a space: the word before it
    assert alignment.shared_step_for(step_map, 10) == 3 and alignment.shared_step_for(None, 4) == 4
    assert alignment.align(text, words.count_tokens, 5, text, words.count_tokens, 5, True) is None
    assert alignment.run_step(None, 9, 5) == 5 and alignment.run_step(step_map, 4, 20) == 13


def test_alignment_refuses_counts_that_do_not_describe_the_tokens():
    assert alignment.token_starts("ab", lambda s: len(s) + 1, 3) is None  # a model that adds a token
    assert alignment.token_starts("ab cd", lambda s: len(s.split()), 3) is None  # counts disagree with T
