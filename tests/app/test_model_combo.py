"""The model chooser at 1024x640: its entry ends at a whole word with "…" (it was cut mid-word:
"longrange-lstm — LSTI"), the whole entry is in its tooltip, and it is as wide as the chosen id."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFont, QFontMetrics
from traces import shown

from seqviz.app import MainWindow
from seqviz.app.panels.text_elision import elide_words


@pytest.fixture
def window(qtbot, dialog_log):
    window = shown(qtbot, MainWindow(lazy_panels=True), (1024, 640))
    window.load_panels()
    return window


def whole_words_then_ellipsis(shown_text: str, whole: str) -> bool:
    """`shown_text` is the start of `whole` up to a word's end (then "…")."""
    head = shown_text.removesuffix(" \u2026")
    rest = whole[len(head) :]
    return shown_text.endswith(" \u2026") and whole.startswith(head) and not rest[:1].isalnum()


def test_a_long_entry_ends_at_a_whole_word_and_the_tooltip_has_it_all(window):
    assert window.open_model("longrange-lstm")
    combo = window.toolbar.model_combo
    whole = combo.currentText()
    assert whole.startswith("longrange-lstm \u2014 LSTM")
    shown_text = combo.shown_text()
    assert shown_text.startswith("longrange-lstm") and whole_words_then_ellipsis(shown_text, whole)
    assert combo.fontMetrics().horizontalAdvance("longrange-lstm \u2026") <= combo.width()  # the id shows
    assert whole in combo.toolTip() and "Choose a model" in combo.toolTip()
    combo.setToolTip("Choose a model (another hint)")  # what the chooser is for, set by others, stays
    assert whole in combo.toolTip() and "another hint" in combo.toolTip()


@pytest.mark.parametrize("width", [40, 90, 160, 260, 400])
def test_elide_words_never_cuts_a_word_it_can_keep(qtbot, width):
    metrics = QFontMetrics(QFont())
    whole = "pos-transformer \u2014 Transformer encoder (2 layers, d_model 64): many-to-many"
    shown_text = elide_words(whole, metrics, width)
    assert metrics.horizontalAdvance(shown_text) <= width or shown_text == whole
    if metrics.horizontalAdvance("pos-transformer \u2026") <= width:
        assert whole_words_then_ellipsis(shown_text, whole) and "\u2014 \u2026" not in shown_text
    assert elide_words(whole, metrics, 10_000) == whole
